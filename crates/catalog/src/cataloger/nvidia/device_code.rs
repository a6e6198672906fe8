//! Device code wherever it is, and the host driver it needs.
//!
//! Most kernels in an ML image are not in NVIDIA's libraries but in framework extension
//! modules (vLLM's `_C.abi3.so`, CuPy's `*.cpython-312-x86_64-linux-gnu.so`, bitsandbytes'
//! `libbitsandbytes_cuda*.so`) and in standalone cubins. So every shared object, cubin and
//! fatbin is parsed whatever its name, and its architectures roll up onto the component that
//! owns the file: the wheel that lists it in `RECORD`, the deb that lists it in its `.list`,
//! else a library component of its own. NVIDIA's own libraries take the same roll-up through
//! the cataloger's family logic; this module holds what both share.
//!
//! The driver a component needs is the highest of what its files and its package say: the
//! CUDA runtime it bundles (the cataloger's runtime components), the runtime its files link
//! (`DT_NEEDED libcudart.so.13`), the CUDA it declares it was built with (`built_with_cuda`),
//! and the PTX ISA its PTX is written in (each ISA major is one CUDA major's). Each is the
//! minor-version-compatibility floor of a CUDA major, and the component records which source
//! set it, naming the file.

use super::{append_list, display_path, Found};
use crate::nvidia::{classify, Family};
use gpubom_formats::elf::ElfFacts;
use gpubom_inventory::version::GenericVersion;
use gpubom_inventory::{gpu, props, Component, ComponentKind, LayerRef, Location};
use std::collections::BTreeMap;

/// Names of files that can carry device code: shared objects whatever their stem (`_C.so`,
/// `cub.cpython-311-x86_64-linux-gnu.so`, `nvshmem_transport_ucx.so.3`), static archives of
/// libraries, and standalone cubins and fatbins.
pub(super) fn is_candidate_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let shared_object = name.ends_with(".so")
        || name.split_once(".so.").is_some_and(|(_, version)| {
            version
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        });
    shared_object
        || (name.starts_with("lib") && name.ends_with(".a"))
        || name.ends_with(".cubin")
        || name.ends_with(".fatbin")
}

/// A file that no NVIDIA family claims but that carries device code or links the CUDA
/// runtime: an extension module, a framework's own library, a cubin.
pub(super) struct ForeignFile {
    pub path: String,
    pub layer: usize,
    pub sha256: String,
    pub elf: ElfFacts,
}

impl ForeignFile {
    /// Whether the file says anything about GPUs: kernels, or a CUDA runtime it needs.
    pub fn is_relevant(elf: &ElfFacts) -> bool {
        elf.has_device_code() || !needed_cuda_runtimes(elf).is_empty()
    }
}

/// Rolls each foreign file onto its owning package, or makes it a component of its own.
pub(super) fn roll_up(files: Vec<ForeignFile>, found: &mut Found) {
    let mut own: BTreeMap<String, Component> = BTreeMap::new();
    for file in files {
        let shown = display_path(&file.path);
        if let Some(owner) = found.owners.get(&file.path) {
            let component = &mut found.components[owner.component];
            add_elf_properties(component, Some(&file.elf), &shown);
            continue;
        }
        if !file.elf.has_device_code() {
            continue;
        }
        let component = own
            .entry(shown.clone())
            .or_insert_with(|| library_of_its_own(&file, &shown));
        add_elf_properties(component, Some(&file.elf), &shown);
    }
    found.components.extend(own.into_values());
}

/// An unowned file with device code: named by its SONAME, else its file name; no version
/// (nothing in the file dates it), identified by its hash.
fn library_of_its_own(file: &ForeignFile, shown: &str) -> Component {
    let file_name = shown.rsplit('/').next().unwrap_or(shown);
    let name = file
        .elf
        .soname
        .clone()
        .unwrap_or_else(|| file_name.to_string());
    Component {
        kind: ComponentKind::NativeLibrary,
        purl: Some(format!("pkg:generic/{}", purl_segment(&name))),
        name,
        layer: Some(LayerRef { index: file.layer }),
        hashes: vec![gpubom_inventory::Hash {
            alg: "SHA-256".to_string(),
            hex: file.sha256.clone(),
        }],
        locations: vec![Location {
            path: shown.to_string(),
            layer: Some(LayerRef { index: file.layer }),
        }],
        ..Default::default()
    }
}

/// A purl name segment: characters outside the unreserved set percent-encoded.
fn purl_segment(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Adds one file's ELF facts to the component that owns or is the file: SONAME,
/// architectures, fatbins it could not attribute, the file itself when it carries device
/// code, and the driver its CUDA build needs.
pub(super) fn add_elf_properties(component: &mut Component, elf: Option<&ElfFacts>, shown: &str) {
    let Some(elf) = elf else { return };
    if let Some(soname) = &elf.soname {
        append_list(component, props::NVIDIA_SONAME, soname);
    }
    merge_archs(component, props::NVIDIA_SM_ARCHS, &elf.sm_archs);
    merge_archs(component, props::NVIDIA_PTX_ARCHS, &elf.ptx_archs);
    if elf.fatbins_elsewhere > 0 {
        let before: usize = component
            .properties
            .get(props::NVIDIA_FATBINS_ELSEWHERE)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        component.properties.insert(
            props::NVIDIA_FATBINS_ELSEWHERE.to_string(),
            before.saturating_add(elf.fatbins_elsewhere).to_string(),
        );
    }
    if let Some(isa) = &elf.ptx_isa {
        let newer = component
            .properties
            .get(props::NVIDIA_PTX_ISA)
            .and_then(|old| GenericVersion::parse(old))
            .is_none_or(|old| GenericVersion::parse(isa).is_some_and(|new| new > old));
        if newer {
            component
                .properties
                .insert(props::NVIDIA_PTX_ISA.to_string(), isa.clone());
        }
    }
    if elf.has_device_code() {
        append_list(component, props::NVIDIA_DEVICE_CODE_FILES, shown);
    }
    for (soname, major) in needed_cuda_runtimes(elf) {
        raise_min_driver(
            component,
            major,
            format!("{soname} needed by {shown}"),
            Tie::Keep,
        );
    }
    if let Some(isa) = &elf.ptx_isa {
        if let Some(major) = gpu::tables::ptx_isa_cuda_major(isa) {
            raise_min_driver(
                component,
                major,
                format!("PTX ISA {isa} in {shown}, written by CUDA {major}"),
                Tie::Keep,
            );
        }
    }
}

/// The CUDA runtimes a file links, with their major: `libcudart.so.13`, or a copy
/// auditwheel renamed (`libcudart-c3a75b33.so.12.8.90`).
fn needed_cuda_runtimes(elf: &ElfFacts) -> Vec<(&str, u32)> {
    elf.needed
        .iter()
        .filter_map(|needed| {
            let matched = classify(needed)?;
            let major = matched.soname_major?.parse().ok()?;
            (matched.family == Family::CudaRuntime).then_some((needed.as_str(), major))
        })
        .collect()
}

/// Which reason stands when two sources need the same driver.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tie {
    /// The first source found stays (a file's link or PTX).
    Keep,
    /// This source is the stronger statement (a declared build, a bundled runtime).
    Replace,
}

/// Raises the component's needed driver to CUDA `major`'s minor-version floor, naming
/// `reason`, when that is higher than what it needs already.
pub(super) fn raise_min_driver(component: &mut Component, major: u32, reason: String, tie: Tie) {
    let Some((floor, _)) = gpu::tables::runtime_driver(&major.to_string()) else {
        return;
    };
    let (Some(new), current) = (
        GenericVersion::parse(floor),
        component
            .properties
            .get(props::NVIDIA_MIN_DRIVER)
            .and_then(|d| GenericVersion::parse(d)),
    ) else {
        return;
    };
    let higher = match current {
        None => true,
        Some(current) => new > current || (new == current && tie == Tie::Replace),
    };
    if higher {
        component
            .properties
            .insert(props::NVIDIA_MIN_DRIVER.to_string(), floor.to_string());
        component
            .properties
            .insert(props::NVIDIA_MIN_DRIVER_REASON.to_string(), reason);
    }
}

/// Rolls a library's architectures into its component's, in compute-capability order.
fn merge_archs(component: &mut Component, key: &str, archs: &str) {
    if archs.is_empty() {
        return;
    }
    let old = component.properties.get(key).map_or("", String::as_str);
    let merged = gpu::format_list(&gpu::parse_list(&format!("{old},{archs}")));
    component.properties.insert(key.to_string(), merged);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_names() {
        for yes in [
            "x/vllm/_C.abi3.so",
            "x/cupy/cuda/cub.cpython-311-x86_64-linux-gnu.so",
            "x/bitsandbytes/libbitsandbytes_cuda128.so",
            "x/nvidia/nvshmem/lib/nvshmem_transport_ucx.so.3",
            "x/libcudart.so.12.8.90",
            "x/flashinfer/data/cubin/fmha_sm90.cubin",
            "x/kernels.fatbin",
            "usr/lib/libcudart_static.a",
        ] {
            assert!(is_candidate_name(yes), "{yes}");
        }
        for no in [
            "x/notes.so.txt",
            "x/model.safetensors",
            "x/archive.a",
            "x/lib.sox",
            "x/so",
        ] {
            assert!(!is_candidate_name(no), "{no}");
        }
    }

    #[test]
    fn the_highest_floor_wins_and_names_its_source_synthetic() {
        let mut c = Component::default();
        raise_min_driver(
            &mut c,
            12,
            "libcudart.so.12 needed by /a.so".into(),
            Tie::Keep,
        );
        raise_min_driver(&mut c, 13, "PTX ISA 9.0 in /b.so".into(), Tie::Keep);
        raise_min_driver(&mut c, 12, "built with CUDA 12.8".into(), Tie::Replace);
        assert_eq!(c.properties[props::NVIDIA_MIN_DRIVER], "580");
        assert_eq!(
            c.properties[props::NVIDIA_MIN_DRIVER_REASON],
            "PTX ISA 9.0 in /b.so"
        );
        raise_min_driver(&mut c, 13, "built with CUDA 13.0".into(), Tie::Replace);
        assert_eq!(
            c.properties[props::NVIDIA_MIN_DRIVER_REASON],
            "built with CUDA 13.0"
        );
        raise_min_driver(&mut c, 13, "PTX ISA 9.2 in /c.so".into(), Tie::Keep);
        assert_eq!(
            c.properties[props::NVIDIA_MIN_DRIVER_REASON],
            "built with CUDA 13.0"
        );
    }
}
