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
//! A library owned by a dpkg package or a wheel is not reported again: the
//! package component gains the NVIDIA facts and the library as an occurrence.

use super::{display_path, Cataloger, Claim, Context, Fact, Found, StreamSink};
use crate::merge::MergedView;
use crate::nvidia::{classify, min_driver, ElfFacts, ElfScanner, Family, LibraryMatch};
use gpubom_inventory::{
    props, Component, ComponentKind, Evidence, Hash, LayerRef, Location, Technique,
};
use std::collections::BTreeMap;

pub(crate) struct NvidiaCataloger;

/// What the layer pass learnt about one shared object.
#[derive(Debug, Clone)]
pub(crate) struct LibraryFact {
    pub matched: Option<LibraryMatch>,
    pub elf: Option<ElfFacts>,
}

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
        is_shared_object_name(path).then_some(Claim::Stream)
    }

    fn parse(&self, _path: &str, bytes: &[u8]) -> Vec<Fact> {
        vec![Fact::BuildInfo(parse_build_info(&String::from_utf8_lossy(
            bytes,
        )))]
    }

    fn open_stream(&self, path: &str, _size: u64) -> Option<Box<dyn StreamSink>> {
        let matched = classify(path);
        // Unrecognised names are only hashed (for the fingerprint table), not parsed.
        let scanner = matched.as_ref().map(|_| ElfScanner::new());
        Some(Box::new(LibrarySink { matched, scanner }))
    }

    fn resolve(&self, view: &MergedView, context: &Context, found: &mut Found) {
        let mut bare: BTreeMap<(String, String, String), Component> = BTreeMap::new();
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
            let Some(matched) = matched else { continue };
            let location = Location {
                path: display_path(file_fact.path),
                layer: Some(LayerRef { index: layer }),
            };
            if let Some(owner) = found.owners.get(file_fact.path).cloned() {
                let confirmed = owner.sha256.as_deref() == Some(sha256);
                let component = &mut found.components[owner.component];
                annotate_owned(component, &matched, lib.elf.as_ref(), location, confirmed);
                continue;
            }
            let mut evidence =
                version_evidence(file_fact.path, &matched, lib.elf.as_ref(), fingerprint);
            evidence.extend(declared_evidence(matched.family, context.env));
            let Some(best) = strongest(&evidence) else {
                continue;
            };
            let version = best.version.clone().unwrap_or_default();
            let key = (
                matched.family.product().to_string(),
                version.clone(),
                parent(file_fact.path).to_string(),
            );
            let component = bare
                .entry(key)
                .or_insert_with(|| new_component(&matched, &version, layer));
            add_library(component, lib.elf.as_ref(), location, sha256, evidence);
        }
        for (_, mut component) in bare {
            finish_bare(&mut component);
            found.components.push(component);
        }
        annotate_frameworks(view, found);
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
                "cuda" | "cuda_version" => "gpubom:nvidia:built_with_cuda",
                "cudnn_version" => "gpubom:nvidia:built_with_cudnn",
                _ => continue,
            };
            component.properties.insert(name.to_string(), value.clone());
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

fn is_shared_object_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("lib") && (name.contains(".so") || name.ends_with(".a"))
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("")
}

struct LibrarySink {
    matched: Option<LibraryMatch>,
    scanner: Option<ElfScanner>,
}

impl StreamSink for LibrarySink {
    fn feed(&mut self, chunk: &[u8]) {
        if let Some(scanner) = &mut self.scanner {
            scanner.feed(chunk);
        }
    }

    fn finish(self: Box<Self>, _sha256: &str) -> Vec<Fact> {
        let elf = self.scanner.and_then(ElfScanner::finish);
        vec![Fact::NativeLibrary(LibraryFact {
            matched: self.matched,
            elf,
        })]
    }
}

fn evidence(technique: Technique, source: String, version: Option<String>) -> Evidence {
    Evidence {
        technique,
        confidence: technique.default_confidence(),
        source,
        version,
    }
}

/// Everything the file itself says about its version, strongest first.
fn version_evidence(
    path: &str,
    matched: &LibraryMatch,
    elf: Option<&ElfFacts>,
    fingerprint: Option<&crate::nvidia::Fingerprint>,
) -> Vec<Evidence> {
    let shown = display_path(path);
    let mut out = Vec::new();
    if let Some(fp) = fingerprint {
        out.push(evidence(
            Technique::HashMatch,
            format!("sha256 of {shown} in fingerprint table ({})", fp.source),
            Some(fp.version.clone()),
        ));
    }
    for found in elf
        .map(|e| e.version_strings.as_slice())
        .unwrap_or_default()
    {
        if version_string_applies(matched.family, &found.kind) {
            out.push(evidence(
                Technique::BinaryAnalysis,
                format!("{shown}: \"{}\"", found.raw),
                Some(found.version.clone()),
            ));
        }
    }
    if let Some(v) = &matched.file_version {
        out.push(evidence(
            Technique::FileName,
            shown.clone(),
            Some(v.clone()),
        ));
    }
    if let Some(v) = &matched.path_version {
        out.push(evidence(
            Technique::PathHint,
            shown.clone(),
            Some(v.clone()),
        ));
    }
    if let Some(major) = &matched.soname_major {
        let mut e = evidence(
            Technique::PathHint,
            format!("SONAME major of {shown}"),
            Some(major.clone()),
        );
        e.confidence = 0.2;
        out.push(e);
    }
    out
}

/// Compiler banners appear in many CUDA libraries but only date NVRTC-like
/// libraries; NCCL and TensorRT strings only date their own libraries.
fn version_string_applies(family: Family, kind: &str) -> bool {
    match kind {
        "nccl" => family == Family::Nccl,
        "tensorrt-symbol" => family == Family::TensorRt,
        "cuda-compilation-tools" => matches!(family, Family::Nvrtc | Family::NvJitLink),
        _ => false,
    }
}

/// The image environment's claim about this family's version (weakest evidence).
fn declared_evidence(family: Family, env: &[String]) -> Vec<Evidence> {
    let names: &[&str] = match family {
        Family::CudaRuntime => &["CUDA_VERSION"],
        Family::Cudnn => &["NV_CUDNN_VERSION", "CUDNN_VERSION"],
        Family::Nccl => &["NCCL_VERSION", "NV_LIBNCCL_PACKAGE_VERSION"],
        Family::TensorRt => &["TRT_VERSION", "TENSORRT_VERSION"],
        _ => &[],
    };
    names
        .iter()
        .filter_map(|name| {
            let value = env
                .iter()
                .rev()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?;
            let version = value.split(['-', '+']).next().unwrap_or(value).to_string();
            Some(evidence(
                Technique::Declared,
                format!("env:{name}"),
                Some(version),
            ))
        })
        .collect()
}

/// The evidence that decides the version: highest confidence, then most specific.
fn strongest(evidence: &[Evidence]) -> Option<&Evidence> {
    evidence
        .iter()
        .filter(|e| e.version.is_some() && e.technique != Technique::Declared)
        .max_by(|a, b| {
            a.confidence
                .total_cmp(&b.confidence)
                .then_with(|| b.technique.cmp(&a.technique))
                .then_with(|| specificity(a).cmp(&specificity(b)))
        })
}

fn specificity(e: &Evidence) -> usize {
    e.version
        .as_deref()
        .map(|v| v.split('.').count())
        .unwrap_or(0)
}

/// Two versions agree when one is a dotted prefix of the other (12.1 and 12.1.105).
fn compatible(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    a.iter().zip(&b).all(|(x, y)| x == y)
}

fn new_component(matched: &LibraryMatch, version: &str, layer: usize) -> Component {
    let product = matched.family.product();
    let mut properties = BTreeMap::new();
    properties.insert(props::NVIDIA_FAMILY.to_string(), product.to_string());
    if matched.is_stub {
        properties.insert(props::NVIDIA_STUB.to_string(), "true".to_string());
    }
    Component {
        kind: ComponentKind::NativeLibrary,
        name: product.to_string(),
        version: (!version.is_empty()).then(|| version.to_string()),
        purl: Some(format!("pkg:generic/nvidia/{product}@{version}")),
        cpes: matched
            .family
            .cpe_product()
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
    add_elf_properties(component, elf);
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
    let conflicting = component.evidence.iter().any(|e| {
        e.version
            .as_deref()
            .is_some_and(|v| !compatible(v, &version))
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
    if component
        .properties
        .get(props::NVIDIA_FAMILY)
        .map(String::as_str)
        == Some(Family::CudaRuntime.product())
    {
        if let Some((floor, _)) = min_driver(&version) {
            component
                .properties
                .insert(props::NVIDIA_MIN_DRIVER.to_string(), floor.to_string());
        }
    }
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
    add_elf_properties(component, elf);
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

fn add_elf_properties(component: &mut Component, elf: Option<&ElfFacts>) {
    let Some(elf) = elf else { return };
    if let Some(soname) = &elf.soname {
        append_list(component, props::NVIDIA_SONAME, soname);
    }
    for arch in &elf.sm_archs {
        append_list(component, props::NVIDIA_SM_ARCHS, arch);
    }
}

/// Adds `item` to a comma-separated, sorted, duplicate-free property.
fn append_list(component: &mut Component, key: &str, item: &str) {
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
