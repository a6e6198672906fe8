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
//! The driver a component needs is the highest of what it and its package say: the CUDA
//! runtime it is (the cataloger's runtime components), the CUDA it declares it was built
//! with (`built_with_cuda`), and what its files need, each file the runtime it links
//! (`DT_NEEDED libcudart.so.13`) or the PTX ISA its PTX is written in (each ISA major is one
//! CUDA major's), the lowest of its files (a package may ship one build per CUDA release).
//! Each is the minor-version-compatibility floor of a CUDA major, and the component records
//! which source set it, naming the file.

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
    if let Some((major, reason)) = file_floor(elf, shown) {
        lower_file_floor(component, major, reason);
    }
}

/// The CUDA major a file's build needs, and why: the runtime it links, else the PTX ISA its
/// PTX is written in (each ISA major is one CUDA major's), whichever is higher.
fn file_floor(elf: &ElfFacts, shown: &str) -> Option<(u32, String)> {
    let linked = needed_cuda_runtimes(elf)
        .into_iter()
        .max_by_key(|&(_, major)| major)
        .map(|(soname, major)| (major, format!("{soname} needed by {shown}")));
    let ptx = elf.ptx_isa.as_deref().and_then(|isa| {
        let major = gpu::tables::ptx_isa_cuda_major(isa)?;
        Some((
            major,
            format!("PTX ISA {isa} in {shown}, written by CUDA {major}"),
        ))
    });
    match (linked, ptx) {
        (Some(l), Some(p)) if p.0 > l.0 => Some(p),
        (Some(l), _) => Some(l),
        (None, p) => p,
    }
}

/// Files are rolled up before any declared build or bundled runtime is looked at, so a
/// floor already on the component came from another of its files: the lower stands. A
/// package that ships one build per CUDA release (bitsandbytes' `libbitsandbytes_cuda118.so`
/// to `_cuda132.so`) loads the one the installed runtime fits, so it needs only the lowest.
fn lower_file_floor(component: &mut Component, major: u32, reason: String) {
    let Some((floor, _)) = gpu::tables::runtime_driver(&major.to_string()) else {
        return;
    };
    let current = component
        .properties
        .get(props::NVIDIA_MIN_DRIVER)
        .and_then(|d| GenericVersion::parse(d));
    let lower = match (current, GenericVersion::parse(floor)) {
        (Some(current), Some(new)) => new < current,
        (None, Some(_)) => true,
        (_, None) => false,
    };
    if lower {
        set_min_driver(component, floor, reason);
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

/// Raises the component's needed driver to CUDA `major`'s minor-version floor, naming
/// `reason`, when that is at least what it needs already: a declared build and a bundled
/// runtime are stronger statements than a file's link or PTX, so on a tie they name it.
pub(super) fn raise_min_driver(component: &mut Component, major: u32, reason: String) {
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
        Some(current) => new >= current,
    };
    if higher {
        set_min_driver(component, floor, reason);
    }
}

fn set_min_driver(component: &mut Component, floor: &str, reason: String) {
    component
        .properties
        .insert(props::NVIDIA_MIN_DRIVER.to_string(), floor.to_string());
    component
        .properties
        .insert(props::NVIDIA_MIN_DRIVER_REASON.to_string(), reason);
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
    fn files_need_the_lowest_and_declarations_raise_it_synthetic() {
        let mut c = Component::default();
        // One build per CUDA release (bitsandbytes): the lowest file decides.
        lower_file_floor(&mut c, 13, "libcudart.so.13 needed by /b130.so".into());
        lower_file_floor(&mut c, 12, "libcudart.so.12 needed by /b128.so".into());
        lower_file_floor(&mut c, 13, "PTX ISA 9.2 in /b132.so".into());
        assert_eq!(c.properties[props::NVIDIA_MIN_DRIVER], "525.60.13");
        assert_eq!(
            c.properties[props::NVIDIA_MIN_DRIVER_REASON],
            "libcudart.so.12 needed by /b128.so"
        );
        // A declared CUDA 13 build raises it; an equal bundled runtime names itself.
        raise_min_driver(&mut c, 13, "built with CUDA 13.0".into());
        assert_eq!(c.properties[props::NVIDIA_MIN_DRIVER], "580");
        raise_min_driver(&mut c, 12, "CUDA runtime 12.8".into());
        assert_eq!(
            c.properties[props::NVIDIA_MIN_DRIVER_REASON],
            "built with CUDA 13.0"
        );
        raise_min_driver(&mut c, 13, "CUDA runtime 13.0".into());
        assert_eq!(
            c.properties[props::NVIDIA_MIN_DRIVER_REASON],
            "CUDA runtime 13.0"
        );
    }

    #[test]
    fn a_file_needs_the_higher_of_its_link_and_its_ptx_synthetic() {
        let elf = ElfFacts {
            needed: vec!["libcudart.so.12".into(), "libc.so.6".into()],
            ptx_isa: Some("9.0".into()),
            ..Default::default()
        };
        assert_eq!(
            file_floor(&elf, "/a.so"),
            Some((13, "PTX ISA 9.0 in /a.so, written by CUDA 13".into()))
        );
        let elf = ElfFacts {
            needed: vec!["libcudart-c3a75b33.so.12.8.90".into()],
            ptx_isa: Some("8.7".into()),
            ..Default::default()
        };
        assert_eq!(
            file_floor(&elf, "/a.so"),
            Some((12, "libcudart-c3a75b33.so.12.8.90 needed by /a.so".into()))
        );
        assert_eq!(file_floor(&ElfFacts::default(), "/a.so"), None);
    }
}
