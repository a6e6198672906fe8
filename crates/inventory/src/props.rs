//! Names of the `gpubom:` properties that carry facts between stages.
//!
//! Catalogers write them, the SBOM carries them, the policy engine reads them
//! back (also from SBOMs written by an earlier gpubom run). Keeping the names
//! in one place is what stops a rule from silently never firing because a
//! cataloger spelt a property differently.

/// What every gpubom property name starts with: the ones a reader keeps from an SBOM.
pub const NAMESPACE: &str = "gpubom:";

/// NVIDIA family of a component: `cuda-runtime`, `cudnn`, `tensorrt`, `nccl`, `cublas`, …
pub const NVIDIA_FAMILY: &str = "gpubom:nvidia:family";
/// The library file name(s) behind a native component, e.g. `libcudart.so.12`.
pub const NVIDIA_LIBRARY: &str = "gpubom:nvidia:library";
pub const NVIDIA_SONAME: &str = "gpubom:nvidia:soname";
/// The SONAME major(s) of the library, e.g. `11` for `libcudart.so.11.0`: an ABI number,
/// not a release, so it is kept here and never used as the component's version.
pub const NVIDIA_SONAME_MAJOR: &str = "gpubom:nvidia:soname_major";
/// The package (purl) that ships this library inside it, e.g. `pkg:pypi/triton@3.6.0`
/// for the CUPTI triton vendors: the library is its own component, not the package.
pub const BUNDLED_BY: &str = "gpubom:bundled_by";
/// What the component's package metadata requires that nothing in the image provides:
/// `Requires-Dist` names whose marker applies, and dpkg `Depends`/`Pre-Depends`
/// (alternatives as `a|b`). Sorted, comma-separated, at most 64 listed then `+N more`.
pub const UNRESOLVED_REQUIRES: &str = "gpubom:unresolved_requires";
/// `DT_NEEDED` libraries of the component's ELF files found in no directory the
/// loader searches (`libc.so.6` when the image has no C library), listed the same way.
pub const UNRESOLVED_NEEDED: &str = "gpubom:unresolved_needed";
/// Comma-separated GPU architectures the component's fatbins hold SASS for, in
/// compute-capability order, with `cuobjdump`'s suffixes: `sm_75,sm_80,sm_90a,sm_100`.
pub const NVIDIA_SM_ARCHS: &str = "gpubom:nvidia:sm_archs";
/// Comma-separated architectures the component's fatbins hold PTX for: `sm_90,sm_120`.
pub const NVIDIA_PTX_ARCHS: &str = "gpubom:nvidia:ptx_archs";
/// The newest PTX ISA among that PTX, e.g. `9.0`: a driver must know it to JIT-compile it.
pub const NVIDIA_PTX_ISA: &str = "gpubom:nvidia:ptx_isa";
/// The files (image paths) whose device code the architectures above were read from: the
/// libraries and extension modules of the component that carry fatbins or are cubins.
pub const NVIDIA_DEVICE_CODE_FILES: &str = "gpubom:nvidia:device_code_files";
/// Fatbin containers the component's libraries keep outside `.nv_fatbin` (cuFFT loads
/// its kernels from `.ldata` itself): its architectures are then not all listed above,
/// and the gate does not judge them.
pub const NVIDIA_FATBINS_ELSEWHERE: &str = "gpubom:nvidia:fatbins_elsewhere";
/// The host driver branches (`535,570`) on which the image's `cuda-compat` package lets this
/// CUDA runtime run below [`NVIDIA_MIN_DRIVER`], on data center GPUs (forward compatibility).
pub const NVIDIA_FORWARD_COMPAT_BRANCHES: &str = "gpubom:nvidia:forward_compat_branches";
/// Why the component needs [`NVIDIA_MIN_DRIVER`]: `CUDA runtime 13.0` or `PTX ISA 9.0`.
pub const NVIDIA_MIN_DRIVER_REASON: &str = "gpubom:nvidia:min_driver_reason";
/// Fleet GPUs (as configured) for which the component has neither SASS nor usable PTX.
pub const NVIDIA_UNSUPPORTED_GPUS: &str = "gpubom:nvidia:unsupported_gpus";
/// `true` for driver stubs (`stubs/libcuda.so`): the real driver comes from the host.
pub const NVIDIA_STUB: &str = "gpubom:nvidia:stub";
/// Minimum host driver the component needs: the CUDA runtime's minor-version
/// compatibility floor, or the driver that first knew its PTX ISA, whichever is higher.
pub const NVIDIA_MIN_DRIVER: &str = "gpubom:nvidia:min_driver";
/// The Triton server release (`2.52.0`) beside its container release (the version, `24.11`).
pub const NVIDIA_TRITON_SERVER_VERSION: &str = "gpubom:nvidia:triton_server_version";
/// The TensorRT version a bindings wheel expects.
pub const NVIDIA_TENSORRT_EXPECTED: &str = "gpubom:nvidia:tensorrt_expected";

/// A version declared in metadata (env, version files) that differs from the observed one.
pub const DECLARED_VERSION: &str = "gpubom:declared:version";
/// Where the declared version came from, e.g. `env:CUDA_VERSION`.
pub const DECLARED_SOURCE: &str = "gpubom:declared:source";
/// `true` when version evidence disagrees (the gate can act on it).
pub const VERSION_CONFLICT: &str = "gpubom:version:conflict";
/// Comma-separated advisory ids a component carries (fed by advisory data).
pub const ADVISORIES: &str = "gpubom:advisories";
/// What advisory data a scan matched against, and how old the built-in part is (SBOM metadata).
pub const ADVISORY_DATA: &str = "gpubom:advisories:data";
/// The highest severity among them: `low`, `medium`, `high` or `critical`.
pub const ADVISORY_SEVERITY: &str = "gpubom:advisories:severity";
/// Highest confidence among the component's evidence, `0.0`–`1.0`.
pub const CONFIDENCE: &str = "gpubom:evidence:confidence";

/// Model format: `tensorrt-engine`, `onnx`, `pytorch`, `pickle`, `numpy`, `safetensors`, …
pub const MODEL_FORMAT: &str = "gpubom:model:format";
/// Whether loading the file can run code, one of four values:
/// `safe` (only allowlisted imports), `suspicious` (imports code outside the
/// allowlist but no known code-execution primitive: `torch.load(weights_only=True)`
/// would refuse it), `unsafe` (imports a known code-execution primitive) and
/// `unknown` (the file could not be fully parsed).
pub const MODEL_VERDICT: &str = "gpubom:model:verdict";
pub const MODEL_VERDICT_REASON: &str = "gpubom:model:verdict_reason";
/// The framework a model file's format belongs to: `PyTorch`, `ONNX`, `TensorRT`, `NumPy`, …
pub const MODEL_FRAMEWORK: &str = "gpubom:model:framework";
/// What produced a model file, with its version, as the file records it: `pytorch 2.5.1`.
pub const MODEL_PRODUCER: &str = "gpubom:model:producer";
/// Comma-separated globals a pickle imports.
pub const MODEL_GLOBALS: &str = "gpubom:model:globals";
/// Comma-separated globals outside the allowlist, each `module.name` (opcode).
pub const MODEL_UNSAFE_GLOBALS: &str = "gpubom:model:unsafe_globals";
/// TensorRT version that built an engine.
pub const MODEL_TRT_VERSION: &str = "gpubom:model:trt_version";
/// `true` when an ONNX external-data location is absolute or climbs with `..`.
pub const MODEL_EXTERNAL_DATA_TRAVERSAL: &str = "gpubom:model:onnx:external_data_traversal";
/// `true`/`false` when `--expect-sha256` named the file; absent when nothing was expected.
pub const MODEL_HASH_VERIFIED: &str = "gpubom:model:hash_verified";
/// Globals outside the allowlist that are not known code-execution primitives
/// (a `suspicious` verdict), described as `module.name (OPCODE in member)`, comma-separated.
pub const MODEL_UNTRUSTED_GLOBALS: &str = "gpubom:model:untrusted_globals";
/// `name@version` of the installed package that owns a reported model file.
pub const MODEL_OWNER: &str = "gpubom:model:owner";
/// On a package: how many model or array files it owns (its own content, not the image's models).
pub const PACKAGE_MODEL_FILES: &str = "gpubom:package:model_files";
/// On a package: how many of those are `suspicious` or `unknown` (listed on their own only when `unsafe`).
pub const PACKAGE_MODEL_FILES_NEEDING_TRUST: &str = "gpubom:package:model_files_needing_trust";

// Descriptive facts the catalogers record: shown in the SBOM, read by no built-in policy.

/// A Debian package's architecture, source package and source version (`Source: x (1.0-1)`).
pub const DEB_ARCHITECTURE: &str = "gpubom:deb:architecture";
pub const DEB_SOURCE: &str = "gpubom:deb:source";
pub const DEB_SOURCE_VERSION: &str = "gpubom:deb:source_version";
/// A Python distribution's `Requires-Python`.
pub const PYTHON_REQUIRES_PYTHON: &str = "gpubom:python:requires_python";
/// The CUDA and cuDNN versions a framework wheel declares it was built with.
pub const NVIDIA_BUILT_WITH_CUDA: &str = "gpubom:nvidia:built_with_cuda";
pub const NVIDIA_BUILT_WITH_CUDNN: &str = "gpubom:nvidia:built_with_cudnn";
/// A model file's size in bytes.
pub const MODEL_SIZE: &str = "gpubom:model:size";
/// The sha256 `--expect-sha256` named for a model file, when the file's differs.
pub const MODEL_EXPECTED_SHA256: &str = "gpubom:model:expected_sha256";
/// An ONNX model's IR version, opsets (`domain:version`, comma-separated), graph name,
/// external data locations (comma-separated) and `metadata_props` (one property per key,
/// after the prefix).
pub const MODEL_ONNX_IR_VERSION: &str = "gpubom:model:onnx:ir_version";
pub const MODEL_ONNX_OPSETS: &str = "gpubom:model:onnx:opsets";
pub const MODEL_ONNX_GRAPH: &str = "gpubom:model:onnx:graph";
pub const MODEL_ONNX_EXTERNAL_DATA: &str = "gpubom:model:onnx:external_data";
pub const MODEL_ONNX_METADATA_PREFIX: &str = "gpubom:model:onnx:metadata:";
/// `ultralytics` for a TensorRT engine behind Ultralytics' JSON header, whose scalar
/// fields follow, one property per key after the prefix.
pub const MODEL_WRAPPER: &str = "gpubom:model:wrapper";
pub const MODEL_ULTRALYTICS_PREFIX: &str = "gpubom:model:ultralytics:";
/// How far to trust [`MODEL_TRT_VERSION`].
pub const MODEL_TRT_VERSION_CONFIDENCE: &str = "gpubom:model:trt_version_confidence";
/// A safetensors file's tensor count, and its dtypes as `dtype:count`, comma-separated.
pub const MODEL_TENSOR_COUNT: &str = "gpubom:model:tensor_count";
pub const MODEL_DTYPES: &str = "gpubom:model:dtypes";
/// `true` when a `.npy` (or an `.npz` member) holds Python objects, so loading it unpickles.
pub const MODEL_NUMPY_OBJECT_ARRAY: &str = "gpubom:model:numpy_object_array";

/// Layer attribution, written by the SBOM writer from [`crate::Component::layer`].
pub const LAYER_INDEX: &str = "gpubom:layer:index";
pub const LAYER_DIFF_ID: &str = "gpubom:layer:diff_id";
pub const LAYER_CREATED_BY: &str = "gpubom:layer:created_by";
/// The component kind as written by gpubom (`deb`, `python`, `native-library`, `model`, …).
pub const KIND: &str = "gpubom:kind";
/// A component's CPEs after the first (CycloneDX has room for one), one property each.
pub const CPE: &str = "gpubom:cpe";

/// SBOM metadata: the source kind (`oci-dir`, `dir`, …, see [`crate::Subject::kind`]).
pub const SOURCE_KIND: &str = "gpubom:source:kind";
/// Trivy's record, on an SBOM's root component, of the registry reference it
/// read the image by (absent when it read a file), as Trivy 0.59 writes it.
pub const TRIVY_REPO_TAG: &str = "aquasecurity:trivy:RepoTag";
pub const TRIVY_REPO_DIGEST: &str = "aquasecurity:trivy:RepoDigest";
/// SBOM metadata: the distribution's `ID` and `VERSION_ID` from os-release.
pub const DISTRO_ID: &str = "gpubom:distro:id";
pub const DISTRO_VERSION_ID: &str = "gpubom:distro:version_id";
/// SBOM metadata: the manifest digest, config digest and platform of the image.
pub const IMAGE_DIGEST: &str = "gpubom:image:digest";
pub const IMAGE_CONFIG_DIGEST: &str = "gpubom:image:config_digest";
pub const IMAGE_PLATFORM: &str = "gpubom:image:platform";
/// SBOM metadata: the config's `User`, written (empty when the config sets none)
/// whenever the scan had an image config. Its absence means there was no config,
/// or the SBOM was not written by gpubom: the user is then unknown, not root.
pub const IMAGE_USER: &str = "gpubom:image:user";
/// SBOM metadata, one property per value.
pub const IMAGE_EXPOSED_PORT: &str = "gpubom:image:exposed_port";
pub const IMAGE_ENV_NAME: &str = "gpubom:image:env_name";
/// SBOM metadata: `gpubom:image:label:<key>` = value.
pub const IMAGE_LABEL_PREFIX: &str = "gpubom:image:label:";
pub const IMAGE_ENTRYPOINT: &str = "gpubom:image:entrypoint";
pub const IMAGE_CMD: &str = "gpubom:image:cmd";
pub const IMAGE_WORKDIR: &str = "gpubom:image:workdir";
/// SBOM metadata: `gpubom:layer:<index>:diff_id` and `gpubom:layer:<index>:created_by`.
pub const LAYER_PREFIX: &str = "gpubom:layer:";

/// Signature facts, one group per signature in the SBOM's metadata, always in
/// this order and always all five, so a reader can regroup them.
/// `tag`, `referrer`, `bundle` or `attestation` (see `SignatureSource`).
pub const SIGNATURE_SOURCE: &str = "gpubom:signature:source";
/// Digest of the manifest that carries the signature.
pub const SIGNATURE_MANIFEST: &str = "gpubom:signature:manifest";
/// `true` only when a trusted key or identity checked it over the scanned digest.
pub const SIGNATURE_VERIFIED: &str = "gpubom:signature:verified";
/// `sha256:` of the verifying key's DER, or a keyless `subject (issuer)`; empty if neither.
pub const SIGNATURE_KEY: &str = "gpubom:signature:key";
/// Why it counted or not.
pub const SIGNATURE_REASON: &str = "gpubom:signature:reason";
/// `true` when the image was looked at for signatures (then none found means unsigned).
pub const SIGNATURES_CHECKED: &str = "gpubom:signatures:checked";

/// Facts that could not be established ([`crate::NotChecked`]), one group per
/// item in the SBOM's metadata, always in this order and always all three, so
/// a reader can regroup them. The fact: `user`, `signatures`, … ([`crate::Fact`]).
pub const NOT_CHECKED_FACT: &str = "gpubom:not_checked:fact";
/// The component it is about (`name at /path`), empty for the image.
pub const NOT_CHECKED_SUBJECT: &str = "gpubom:not_checked:subject";
/// Why, and what to do about it.
pub const NOT_CHECKED_REASON: &str = "gpubom:not_checked:reason";

/// Every property a component may carry: what a hand-written inventory (a
/// `policy test` fixture) may set, so a misspelt name is an error instead of
/// a fact that silently stays unset.
pub const COMPONENT: &[&str] = &[
    NVIDIA_FAMILY,
    NVIDIA_LIBRARY,
    NVIDIA_SONAME,
    NVIDIA_SONAME_MAJOR,
    BUNDLED_BY,
    UNRESOLVED_REQUIRES,
    UNRESOLVED_NEEDED,
    NVIDIA_SM_ARCHS,
    NVIDIA_PTX_ARCHS,
    NVIDIA_PTX_ISA,
    NVIDIA_FATBINS_ELSEWHERE,
    NVIDIA_DEVICE_CODE_FILES,
    NVIDIA_FORWARD_COMPAT_BRANCHES,
    NVIDIA_MIN_DRIVER_REASON,
    NVIDIA_UNSUPPORTED_GPUS,
    NVIDIA_STUB,
    NVIDIA_MIN_DRIVER,
    NVIDIA_TRITON_SERVER_VERSION,
    NVIDIA_TENSORRT_EXPECTED,
    DECLARED_VERSION,
    DECLARED_SOURCE,
    VERSION_CONFLICT,
    ADVISORIES,
    ADVISORY_SEVERITY,
    CONFIDENCE,
    MODEL_FORMAT,
    MODEL_VERDICT,
    MODEL_VERDICT_REASON,
    MODEL_FRAMEWORK,
    MODEL_PRODUCER,
    MODEL_GLOBALS,
    MODEL_UNSAFE_GLOBALS,
    MODEL_TRT_VERSION,
    MODEL_EXTERNAL_DATA_TRAVERSAL,
    MODEL_HASH_VERIFIED,
    MODEL_UNTRUSTED_GLOBALS,
    MODEL_OWNER,
    PACKAGE_MODEL_FILES,
    PACKAGE_MODEL_FILES_NEEDING_TRUST,
    DEB_ARCHITECTURE,
    DEB_SOURCE,
    DEB_SOURCE_VERSION,
    PYTHON_REQUIRES_PYTHON,
    NVIDIA_BUILT_WITH_CUDA,
    NVIDIA_BUILT_WITH_CUDNN,
    MODEL_SIZE,
    MODEL_EXPECTED_SHA256,
    MODEL_ONNX_IR_VERSION,
    MODEL_ONNX_OPSETS,
    MODEL_ONNX_GRAPH,
    MODEL_ONNX_EXTERNAL_DATA,
    MODEL_ONNX_METADATA_PREFIX,
    MODEL_WRAPPER,
    MODEL_ULTRALYTICS_PREFIX,
    MODEL_TRT_VERSION_CONFIDENCE,
    MODEL_TENSOR_COUNT,
    MODEL_DTYPES,
    MODEL_NUMPY_OBJECT_ARRAY,
    LAYER_INDEX,
    LAYER_DIFF_ID,
    LAYER_CREATED_BY,
    KIND,
    CPE,
];

#[cfg(test)]
mod tests {
    /// The SBOM's metadata properties: about the image, never on a component.
    const METADATA: &[&str] = &[
        super::ADVISORY_DATA,
        super::SOURCE_KIND,
        super::TRIVY_REPO_TAG,
        super::TRIVY_REPO_DIGEST,
        super::DISTRO_ID,
        super::DISTRO_VERSION_ID,
        super::IMAGE_DIGEST,
        super::IMAGE_CONFIG_DIGEST,
        super::IMAGE_PLATFORM,
        super::IMAGE_USER,
        super::IMAGE_EXPOSED_PORT,
        super::IMAGE_ENV_NAME,
        super::IMAGE_LABEL_PREFIX,
        super::IMAGE_ENTRYPOINT,
        super::IMAGE_CMD,
        super::IMAGE_WORKDIR,
        super::LAYER_PREFIX,
        super::SIGNATURE_SOURCE,
        super::SIGNATURE_MANIFEST,
        super::SIGNATURE_VERIFIED,
        super::SIGNATURE_KEY,
        super::SIGNATURE_REASON,
        super::SIGNATURES_CHECKED,
        super::NOT_CHECKED_FACT,
        super::NOT_CHECKED_SUBJECT,
        super::NOT_CHECKED_REASON,
    ];

    /// A property added above must be listed as a component's or the metadata's,
    /// or fixtures could not set it (or could set a metadata name on a component).
    #[test]
    fn every_property_is_a_component_or_metadata_property() {
        let source = include_str!("props.rs");
        for line in source.lines() {
            let Some(rest) = line.strip_prefix("pub const ") else {
                continue;
            };
            let Some((_, value)) = rest.split_once("= \"") else {
                continue;
            };
            let value = value.trim_end_matches("\";");
            if value == super::NAMESPACE {
                continue; // the prefix of them all, no property itself
            }
            assert!(
                super::COMPONENT.contains(&value) ^ METADATA.contains(&value),
                "{value}: list it in exactly one of props::COMPONENT and the METADATA of this test"
            );
        }
    }
}
