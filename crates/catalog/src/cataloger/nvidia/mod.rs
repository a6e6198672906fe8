//! NVIDIA native libraries, with or without package metadata.
//!
//! Every shared object is hashed as it streams past; the ones whose name
//! places them in an NVIDIA family (and any file whose hash is in the
//! fingerprint table, whatever its name) become components. Version
//! evidence is gathered strongest first — owning package (confirmed by the
//! wheel RECORD hash), fingerprint table, strings inside the ELF, full-version
//! file name, install path, SONAME, declared env — and all of it is kept:
//! the strongest decides the version, and any disagreement is recorded as a
//! property the gate can act on.
//!
//! A SONAME is not a version: `libcudart.so.11.0` names CUDA 11's ABI, so a
//! library dated by nothing else has no version (its SONAME major is kept as a
//! property). Libraries of one product in one directory whose versions agree
//! are one component, at the most precise version, with all their evidence.
//!
//! A library owned by one of NVIDIA's own packages (a dpkg package or a wheel)
//! is not reported again: the package component gains the NVIDIA facts and the
//! library as an occurrence. A library that another project's package bundles
//! (triton's CUPTI) is its own component, naming that package in
//! `gpubom:bundled_by`; the package keeps its identity.

use super::{display_path, Cataloger, Claim, Context, Found, StreamSink};
use crate::facts::{Fact, LibraryFact};
use crate::merge::MergedView;
use crate::nvidia::{classify, is_nvidia_package, package_family, Family, LibraryMatch};
use gpubom_formats::elf::{ElfFacts, ElfScanner};
use gpubom_inventory::{
    gpu, props, Component, ComponentKind, Evidence, Hash, LayerRef, Location, Technique,
};
use std::collections::BTreeMap;

mod device_code;
mod evidence;
mod triton;
use device_code::{add_elf_properties, raise_min_driver, ForeignFile};
use evidence::*;

pub(crate) struct NvidiaCataloger;

/// Files in which frameworks declare the CUDA stack they were built against.
const BUILD_INFO: &[&str] = &[
    "torch/version.py",
    "onnxruntime/capi/build_and_package_info.py",
];

impl Cataloger for NvidiaCataloger {
    fn claim(&self, path: &str, _size: u64) -> Option<Claim> {
        if BUILD_INFO.iter().any(|suffix| path.ends_with(suffix)) {
            return Some(Claim::Whole {
                max_bytes: 64 << 10,
            });
        }
        device_code::is_candidate_name(path).then_some(Claim::Stream)
    }

    fn parse(&self, _path: &str, bytes: &[u8]) -> Vec<Fact> {
        vec![Fact::BuildInfo(parse_build_info(&String::from_utf8_lossy(
            bytes,
        )))]
    }

    fn open_stream(&self, path: &str, _size: u64) -> Option<Box<dyn StreamSink>> {
        // Every candidate is parsed, whatever its name: an extension module's kernels
        // matter as much as cuBLAS's. Version strings date NVIDIA's libraries only.
        let matched = classify(path);
        let scanner = match matched {
            Some(_) => ElfScanner::new(),
            None => ElfScanner::device_code_only(),
        };
        Some(Box::new(LibrarySink { matched, scanner }))
    }

    fn resolve(&self, view: &MergedView, context: &Context, found: &mut Found) {
        name_packages(found);
        let mut libraries = Vec::new();
        let mut foreign = Vec::new();
        for file_fact in view.surviving() {
            let layer = file_fact.layer;
            let Fact::NativeLibrary(lib) = file_fact.fact else {
                continue;
            };
            let sha256 = file_fact.sha256.unwrap_or_default();
            let fingerprint = context.fingerprints.lookup(sha256);
            let matched = lib.matched.clone().or_else(|| {
                fingerprint
                    .and_then(|fp| classify(&format!("{}/{}", parent(file_fact.path), fp.file)))
            });
            let Some(matched) = matched else {
                if let Some(elf) = lib.elf.as_ref().filter(|e| ForeignFile::is_relevant(e)) {
                    foreign.push(ForeignFile {
                        path: file_fact.path.to_string(),
                        layer,
                        sha256: sha256.to_string(),
                        elf: elf.clone(),
                    });
                }
                continue;
            };
            let location = Location {
                path: display_path(file_fact.path),
                layer: Some(LayerRef { index: layer }),
            };
            let mut evidence =
                version_evidence(file_fact.path, &matched, lib.elf.as_ref(), fingerprint);
            let mut bundled_by = None;
            if let Some(owner) = found.owners.get(file_fact.path).cloned() {
                let confirmed = owner.sha256.as_deref() == Some(sha256);
                let component = &mut found.components[owner.component];
                if matched.family.is_framework() || is_nvidia_package(&component.name) {
                    annotate_owned(component, &matched, lib.elf.as_ref(), location, confirmed);
                    continue;
                }
                // Another project's package ships a copy (triton vendors CUPTI): the
                // package stays itself, the library is reported on its own.
                evidence.push(bundled_evidence(component, &location.path, confirmed));
                bundled_by = Some(owner.component);
            } else {
                // The image env declares the system's stack, not a package's private copy.
                evidence.extend(declared_evidence(matched.family, context.env));
            }
            libraries.push(Library {
                version: strongest(&evidence).and_then(|e| e.version.clone()),
                soname_major: soname_major(&matched, lib.elf.as_ref()),
                dir: parent(file_fact.path).to_string(),
                matched,
                elf: lib.elf.clone(),
                sha256: sha256.to_string(),
                location,
                evidence,
                bundled_by,
            });
        }
        for group in one_component_each(libraries) {
            let component = library_component(group, found);
            found.components.push(component);
        }
        device_code::roll_up(foreign, found);
        annotate_frameworks(view, found);
        found
            .components
            .extend(triton::declared_server(context.env));
        let compat = forward_compat_release(&found.components);
        for component in &mut found.components {
            add_driver_requirement(component, compat);
        }
    }
}

/// One NVIDIA shared object outside any NVIDIA package, with everything it says about itself.
struct Library {
    matched: LibraryMatch,
    dir: String,
    /// Decided by this library's own strongest evidence; `None` when only a SONAME speaks.
    version: Option<String>,
    soname_major: Option<String>,
    elf: Option<ElfFacts>,
    sha256: String,
    location: Location,
    evidence: Vec<Evidence>,
    /// The (non-NVIDIA) package that ships this copy, as an index into `Found::components`.
    bundled_by: Option<usize>,
}

/// Groups libraries into components: one product in one directory (shipped by the same
/// package, if any) whose versions agree — one a prefix of the other, 9.14.0 and
/// 9.14.0.64 — is one component at the most precise version. A library with no version
/// joins the group holding the same bytes, else one its SONAME major agrees with.
fn one_component_each(mut libraries: Vec<Library>) -> Vec<Vec<Library>> {
    // Most precise first, so each group's first library carries its version.
    libraries.sort_by(|a, b| {
        let key = |l: &Library| {
            (
                l.matched.family.product(),
                l.dir.clone(),
                l.bundled_by,
                std::cmp::Reverse(l.version.as_deref().map_or(0, |v| v.split('.').count())),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.version.cmp(&b.version))
            .then_with(|| a.location.path.cmp(&b.location.path))
    });
    let mut groups: Vec<Vec<Library>> = Vec::new();
    let mut open = 0; // groups[open..] share the current product, directory and owner
    for library in libraries {
        let same_place = |g: &Vec<Library>| {
            let head = &g[0];
            head.matched.family.product() == library.matched.family.product()
                && head.dir == library.dir
                && head.bundled_by == library.bundled_by
        };
        if groups.last().is_some_and(|g| !same_place(g)) {
            open = groups.len();
        }
        let candidates = &mut groups[open..];
        let head_version = |g: &Vec<Library>| g[0].version.clone();
        let joins = match &library.version {
            Some(v) => candidates
                .iter()
                .position(|g| head_version(g).is_some_and(|h| compatible(v, &h))),
            None => candidates
                .iter()
                .position(|g| g.iter().any(|l| l.sha256 == library.sha256))
                .or_else(|| match &library.soname_major {
                    Some(major) => candidates.iter().position(|g| match head_version(g) {
                        Some(h) => compatible(major, &h),
                        None => g[0].soname_major.as_ref() == Some(major),
                    }),
                    None => (!candidates.is_empty()).then_some(0),
                }),
        };
        match joins {
            Some(i) => candidates[i].push(library),
            None => groups.push(vec![library]),
        }
    }
    groups
}

fn library_component(group: Vec<Library>, found: &Found) -> Component {
    let head = &group[0];
    let version = head.version.clone().unwrap_or_default();
    let layer = head.location.layer.map_or(0, |l| l.index);
    let mut component = new_component(&head.matched, &version, layer);
    if let Some(owner) = head.bundled_by.map(|i| &found.components[i]) {
        component
            .properties
            .insert(props::BUNDLED_BY.to_string(), package_ref(owner));
    }
    for library in group {
        if let Some(major) = &library.soname_major {
            append_list(&mut component, props::NVIDIA_SONAME_MAJOR, major);
        }
        add_library(
            &mut component,
            library.elf.as_ref(),
            library.location,
            &library.sha256,
            library.evidence,
        );
    }
    finish_bare(&mut component);
    component
}

/// NVIDIA's own packages are named for their product: `nvidia-nvtx` is NVTX even when
/// it installs no library gpubom recognises.
fn name_packages(found: &mut Found) {
    for component in &mut found.components {
        if !matches!(component.kind, ComponentKind::Python | ComponentKind::Deb) {
            continue;
        }
        if let Some(family) = package_family(&component.name) {
            component
                .properties
                .entry(props::NVIDIA_FAMILY.to_string())
                .or_insert_with(|| family.product().to_string());
        }
    }
}

/// How a package is named in `gpubom:bundled_by`: its purl, else name@version.
fn package_ref(component: &Component) -> String {
    component.purl.clone().unwrap_or_else(|| {
        format!(
            "{}@{}",
            component.name,
            component.version.as_deref().unwrap_or("")
        )
    })
}

/// The package that ships a bundled library: identity evidence, not version evidence
/// (triton's version says nothing about the CUPTI inside it).
fn bundled_evidence(owner: &Component, path: &str, hash_confirmed: bool) -> Evidence {
    let listed = if hash_confirmed {
        "listed with a matching sha256"
    } else {
        "listed"
    };
    Evidence {
        technique: Technique::FileOwnership,
        confidence: if hash_confirmed {
            1.0
        } else {
            Technique::FileOwnership.default_confidence()
        },
        source: format!(
            "{path}: bundled by {} {} ({listed} in its file list); not that package's own version",
            owner.name,
            owner.version.as_deref().unwrap_or("")
        ),
        version: None,
    }
}

/// `key = 'value'` assignments of a generated Python version file.
fn parse_build_info(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            // `cuda: Optional[str] = '12.1'` carries a type annotation.
            let key = key
                .split(':')
                .next()?
                .trim()
                .trim_start_matches("__")
                .trim_end_matches("__");
            let value = value.trim().trim_matches(|c| c == '\'' || c == '"');
            let simple =
                !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            (simple && !value.is_empty() && value != "None")
                .then(|| (key.to_string(), value.to_string()))
        })
        .take(64)
        .collect()
}

/// Declared build facts of framework wheels (torch's CUDA, onnxruntime's CUDA
/// and cuDNN), and the TensorRT version a bindings wheel expects.
fn annotate_frameworks(view: &MergedView, found: &mut Found) {
    for file_fact in view.surviving() {
        let Fact::BuildInfo(pairs) = file_fact.fact else {
            continue;
        };
        let Some(owner) = found.owners.get(file_fact.path) else {
            continue;
        };
        let component = &mut found.components[owner.component];
        for (key, value) in pairs {
            let name = match key.as_str() {
                "cuda" | "cuda_version" => props::NVIDIA_BUILT_WITH_CUDA,
                "cudnn_version" => props::NVIDIA_BUILT_WITH_CUDNN,
                _ => continue,
            };
            component.properties.insert(name.to_string(), value.clone());
            let cuda_major = value.split('.').next().and_then(|m| m.parse().ok());
            if let (props::NVIDIA_BUILT_WITH_CUDA, Some(major)) = (name, cuda_major) {
                let reason = format!(
                    "built with CUDA {value}, as {} declares",
                    display_path(file_fact.path)
                );
                raise_min_driver(component, major, reason);
            }
        }
    }
    for component in &mut found.components {
        let is_bindings = component.kind == ComponentKind::Python
            && (component.name.starts_with("tensorrt") && component.name.ends_with("bindings"));
        if let (true, Some(version)) = (is_bindings, &component.version) {
            component
                .properties
                .insert(props::NVIDIA_TENSORRT_EXPECTED.to_string(), version.clone());
        }
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("")
}

struct LibrarySink {
    matched: Option<LibraryMatch>,
    scanner: ElfScanner,
}

impl StreamSink for LibrarySink {
    fn feed(&mut self, chunk: &[u8]) {
        self.scanner.feed(chunk);
    }

    fn finish(self: Box<Self>, _sha256: &str) -> Vec<Fact> {
        let elf = self.scanner.finish();
        vec![Fact::NativeLibrary(LibraryFact {
            matched: self.matched,
            elf,
        })]
    }
}

fn new_component(matched: &LibraryMatch, version: &str, layer: usize) -> Component {
    let product = matched.family.product();
    let mut properties = BTreeMap::new();
    properties.insert(props::NVIDIA_FAMILY.to_string(), product.to_string());
    if matched.is_stub {
        properties.insert(props::NVIDIA_STUB.to_string(), "true".to_string());
    }
    let known = !version.is_empty();
    Component {
        kind: ComponentKind::NativeLibrary,
        name: product.to_string(),
        version: known.then(|| version.to_string()),
        purl: Some(if known {
            format!("pkg:generic/nvidia/{product}@{version}")
        } else {
            format!("pkg:generic/nvidia/{product}")
        }),
        // A CPE without a version would match every advisory of the product.
        cpes: matched
            .family
            .cpe_product()
            .filter(|_| known)
            .map(|p| format!("cpe:2.3:a:nvidia:{p}:{version}:*:*:*:*:*:*:*"))
            .into_iter()
            .collect(),
        supplier: Some("NVIDIA Corporation".to_string()),
        layer: Some(LayerRef { index: layer }),
        properties,
        ..Default::default()
    }
}

fn add_library(
    component: &mut Component,
    elf: Option<&ElfFacts>,
    location: Location,
    sha256: &str,
    evidence: Vec<Evidence>,
) {
    append_list(component, props::NVIDIA_LIBRARY, &file_name(&location.path));
    add_elf_properties(component, elf, &location.path);
    if !sha256.is_empty() && component.locations.is_empty() {
        component.hashes.push(Hash {
            alg: "SHA-256".to_string(),
            hex: sha256.to_string(),
        });
    }
    if let Some(LayerRef { index }) = location.layer {
        let earliest = component.layer.map_or(index, |l| l.index.min(index));
        component.layer = Some(LayerRef { index: earliest });
    }
    component.locations.push(location);
    component.evidence.extend(evidence);
}

/// Marks disagreements and derived facts once all of a component's evidence is in.
fn finish_bare(component: &mut Component) {
    let version = component.version.clone().unwrap_or_default();
    let best_confidence = component
        .evidence
        .iter()
        .filter(|e| {
            e.version
                .as_deref()
                .is_some_and(|v| compatible(v, &version))
        })
        .map(|e| e.confidence)
        .fold(0.0f32, f32::max);
    component.properties.insert(
        props::CONFIDENCE.to_string(),
        format!("{best_confidence:.2}"),
    );
    let declared = component
        .evidence
        .iter()
        .find(|e| e.technique == Technique::Declared)
        .cloned();
    let conflicting = !version.is_empty()
        && component.evidence.iter().any(|e| {
            e.version.as_deref().is_some_and(|v| {
                if e.technique == Technique::Declared
                    && TOOLKIT_RELEASE_ENV.contains(&e.source.as_str())
                {
                    !compatible(major_minor(v), major_minor(&version))
                } else {
                    !compatible(v, &version)
                }
            })
        });
    if conflicting {
        component
            .properties
            .insert(props::VERSION_CONFLICT.to_string(), "true".to_string());
    }
    if let Some(declared) = declared {
        if let Some(v) = declared.version {
            component
                .properties
                .insert(props::DECLARED_VERSION.to_string(), v);
        }
        component
            .properties
            .insert(props::DECLARED_SOURCE.to_string(), declared.source);
    }
}

/// The driver a CUDA runtime needs, on its component, bare or packaged: the minor-version
/// compatibility floor of its major, which is what `CUDA driver version is insufficient`
/// checks.
fn add_driver_requirement(component: &mut Component, compat: Option<(u32, u32)>) {
    let is_runtime = component
        .properties
        .get(props::NVIDIA_FAMILY)
        .map(String::as_str)
        == Some(Family::CudaRuntime.product());
    let Some(version) = component.version.clone().filter(|_| is_runtime) else {
        return;
    };
    let release: Vec<&str> = version.split('.').take(2).collect();
    if let Some(major) = release.first().and_then(|m| m.parse().ok()) {
        let reason = format!("CUDA runtime {}", release.join("."));
        raise_min_driver(component, major, reason);
    }
    // A cuda-compat package of the same major, as new as the runtime, lets it run on older
    // driver branches (data center GPUs only: the gate knows the fleet).
    let runtime: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
    if let (Some((major, minor)), [r_major, r_minor, ..]) = (compat, runtime.as_slice()) {
        let branches = gpu::tables::forward_compat_branches((major, minor));
        if major == *r_major && minor >= *r_minor && !branches.is_empty() {
            let list: Vec<String> = branches.iter().map(u32::to_string).collect();
            component.properties.insert(
                props::NVIDIA_FORWARD_COMPAT_BRANCHES.to_string(),
                list.join(","),
            );
        }
    }
}

/// The CUDA release of the image's forward-compatibility package: a `cuda-compat-X-Y` deb, or
/// the driver libraries it installs in `/usr/local/cuda-X.Y/compat/`.
fn forward_compat_release(components: &[Component]) -> Option<(u32, u32)> {
    let parse = |x: &str, y: &str| Some((x.parse().ok()?, y.parse().ok()?));
    components.iter().find_map(|c| {
        if let Some(rest) = c.name.strip_prefix("cuda-compat-") {
            let (x, y) = rest.split_once('-')?;
            return parse(x, y);
        }
        c.locations.iter().find_map(|l| {
            let at = l.path.find("/cuda-")?;
            let (release, tail) = l.path[at + 6..].split_once('/')?;
            let (x, y) = release.split_once('.')?;
            tail.starts_with("compat/").then(|| parse(x, y)).flatten()
        })
    })
}

/// A package-owned library: the package gains the NVIDIA facts, not a twin component.
fn annotate_owned(
    component: &mut Component,
    matched: &LibraryMatch,
    elf: Option<&ElfFacts>,
    location: Location,
    hash_confirmed: bool,
) {
    component
        .properties
        .entry(props::NVIDIA_FAMILY.to_string())
        .or_insert_with(|| matched.family.product().to_string());
    append_list(component, props::NVIDIA_LIBRARY, &file_name(&location.path));
    if let Some(major) = soname_major(matched, elf) {
        append_list(component, props::NVIDIA_SONAME_MAJOR, &major);
    }
    add_elf_properties(component, elf, &location.path);
    let (confidence, how) = if hash_confirmed {
        (1.0, "listed in the package's RECORD with a matching sha256")
    } else {
        (
            Technique::FileOwnership.default_confidence(),
            "listed in the package's file list",
        )
    };
    component.evidence.push(Evidence {
        technique: Technique::FileOwnership,
        confidence,
        source: format!("{}: {how}", location.path),
        version: component.version.clone(),
    });
    if let (Some(cpe_product), Some(version)) = (matched.family.cpe_product(), &component.version) {
        let cpe = format!("cpe:2.3:a:nvidia:{cpe_product}:{version}:*:*:*:*:*:*:*");
        if !component.cpes.contains(&cpe) {
            component.cpes.push(cpe);
        }
    }
    component.locations.push(location);
}

/// Adds `item` to a comma-separated, sorted, duplicate-free property.
pub(super) fn append_list(component: &mut Component, key: &str, item: &str) {
    let entry = component.properties.entry(key.to_string()).or_default();
    let mut items: Vec<&str> = entry.split(',').filter(|s| !s.is_empty()).collect();
    if !items.contains(&item) {
        items.push(item);
    }
    items.sort_unstable();
    *entry = items.join(",");
}

fn file_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

#[cfg(test)]
mod tests;
