//! Version evidence for a bare NVIDIA library, strongest first: what each
//! technique says, which claims apply to which family, and when two claims
//! agree. Kept apart from the cataloger so the rules that decide a version
//! read in one place.

use super::*;

pub(super) fn evidence(technique: Technique, source: String, version: Option<String>) -> Evidence {
    Evidence {
        technique,
        confidence: technique.default_confidence(),
        source,
        version,
    }
}

/// Everything the file itself says about its version, strongest first.
pub(super) fn version_evidence(
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
    // `libcudart.so.11.0` is CUDA 11's SONAME, whatever the release: a file named as its
    // SONAME says nothing of the version. Only a longer name (`libcudart.so.12.1.105`) does.
    let soname = elf.and_then(|e| e.soname.as_deref());
    // auditwheel names a bundled copy, and sets its SONAME, after the original file name
    // (`libcudart-c3a75b33.so.12.8.90` from `libcudart.so.12.8.90`): that name is a version.
    let named_as_soname =
        soname.is_some_and(|s| s == file_name(path)) && !matched.renamed_by_auditwheel;
    match &matched.file_version {
        Some(v) if !named_as_soname => out.push(evidence(
            Technique::FileName,
            shown.clone(),
            Some(v.clone()),
        )),
        _ => {}
    }
    if let Some(v) = &matched.path_version {
        out.push(evidence(
            Technique::PathHint,
            shown.clone(),
            Some(v.clone()),
        ));
    }
    if let Some(major) = soname_major(matched, elf) {
        let seen = match soname {
            Some(soname) => format!("SONAME {soname}"),
            None => format!("file name {}", file_name(path)),
        };
        let mut e = evidence(
            Technique::PathHint,
            format!("{seen} of {shown}: ABI major {major}, not a release version"),
            None,
        );
        e.confidence = 0.2;
        out.push(e);
    }
    out
}

/// The SONAME's major (`12` of `libcudart.so.12`): from the SONAME inside the ELF, else
/// from a file name that can only be one (`libcudart.so.12`; `libcupti.so.2025.1.1` is
/// CUPTI's release, its SONAME `libcupti.so.12`).
pub(super) fn soname_major(matched: &LibraryMatch, elf: Option<&ElfFacts>) -> Option<String> {
    if let Some(soname) = elf.and_then(|e| e.soname.as_deref()) {
        let (_, suffix) = soname.split_once(".so.")?;
        let major = suffix.split('.').next()?;
        return (!major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()))
            .then(|| major.to_string());
    }
    match matched.file_version {
        None => matched.soname_major.clone(),
        Some(_) => None,
    }
}

/// Compiler banners appear in many CUDA libraries but only date NVRTC-like
/// libraries; NCCL and TensorRT strings only date their own libraries.
pub(super) fn version_string_applies(family: Family, kind: &str) -> bool {
    match kind {
        "nccl" => family == Family::Nccl,
        "tensorrt-symbol" => family == Family::TensorRt,
        "cuda-compilation-tools" => matches!(family, Family::Nvrtc | Family::NvJitLink),
        _ => false,
    }
}

/// Env variables that declare a CUDA *toolkit* release (`CUDA_VERSION=12.1.1`), which
/// libraries do not share beyond major.minor (the 12.1.1 toolkit ships libcudart 12.1.105).
pub(super) const TOOLKIT_RELEASE_ENV: &[&str] = &["env:CUDA_VERSION"];

/// The value of `name` in an image's `KEY=value` environment (the last setting wins).
pub(super) fn env_value<'a>(env: &'a [String], name: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// The image environment's claim about this family's version (weakest evidence).
pub(super) fn declared_evidence(family: Family, env: &[String]) -> Vec<Evidence> {
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
            let value = env_value(env, name)?;
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
pub(super) fn strongest(evidence: &[Evidence]) -> Option<&Evidence> {
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

pub(super) fn specificity(e: &Evidence) -> usize {
    e.version
        .as_deref()
        .map(|v| v.split('.').count())
        .unwrap_or(0)
}

/// `12.1` of `12.1.105`.
pub(super) fn major_minor(version: &str) -> &str {
    match version.match_indices('.').nth(1) {
        Some((i, _)) => &version[..i],
        None => version,
    }
}

/// Two versions agree when one is a dotted prefix of the other (12.1 and 12.1.105).
pub(super) fn compatible(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    a.iter().zip(&b).all(|(x, y)| x == y)
}
