//! Which NVIDIA library a file is, from its name and path alone.
//!
//! Called for every shared object in every layer, so it allocates nothing
//! until a name matches. The name gives the family, the SONAME major, and —
//! for apt/runfile installs, which keep full versions — the exact version;
//! a `/cuda-X.Y/` path gives the toolkit version.

/// An NVIDIA library family. [`Family::product`] names the component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    CudaRuntime,
    CudaDriverStub,
    CudaDriver,
    Cublas,
    Cufft,
    Curand,
    Cusparse,
    Cusolver,
    Nvrtc,
    NvJitLink,
    Cupti,
    Nvtx,
    Npp,
    Nvjpeg,
    Cudnn,
    TensorRt,
    Nccl,
    TorchCuda,
    OnnxRuntimeCuda,
}

/// Library stems (the name before `.so`/`.a`) and their family.
const STEMS: &[(&str, Family)] = &[
    ("libcudart", Family::CudaRuntime),
    ("libcuda", Family::CudaDriver),
    ("libcublas", Family::Cublas),
    ("libcublasLt", Family::Cublas),
    ("libcufft", Family::Cufft),
    ("libcufftw", Family::Cufft),
    ("libcurand", Family::Curand),
    ("libcusparse", Family::Cusparse),
    ("libcusolver", Family::Cusolver),
    ("libcusolverMg", Family::Cusolver),
    ("libnvrtc", Family::Nvrtc),
    ("libnvrtc-builtins", Family::Nvrtc),
    ("libnvJitLink", Family::NvJitLink),
    ("libcupti", Family::Cupti),
    ("libnvperf_host", Family::Cupti),
    ("libnvperf_target", Family::Cupti),
    ("libpcsamplingutil", Family::Cupti),
    ("libnvToolsExt", Family::Nvtx),
    ("libnvjpeg", Family::Nvjpeg),
    ("libcudnn", Family::Cudnn),
    ("libnvinfer", Family::TensorRt),
    ("libnvinfer_plugin", Family::TensorRt),
    ("libnvinfer_lean", Family::TensorRt),
    ("libnvinfer_dispatch", Family::TensorRt),
    ("libnvinfer_vc_plugin", Family::TensorRt),
    ("libnvinfer_builder_resource", Family::TensorRt),
    ("libnvonnxparser", Family::TensorRt),
    ("libnvparsers", Family::TensorRt),
    ("libnccl", Family::Nccl),
    ("libtorch_cuda", Family::TorchCuda),
    ("libtorch_cuda_linalg", Family::TorchCuda),
    ("libc10_cuda", Family::TorchCuda),
    ("libonnxruntime_providers_cuda", Family::OnnxRuntimeCuda),
    ("libonnxruntime_providers_tensorrt", Family::OnnxRuntimeCuda),
];

impl Family {
    /// The component name, also the purl name: `pkg:generic/nvidia/<product>@<version>`.
    pub fn product(self) -> &'static str {
        match self {
            Family::CudaRuntime => "cuda-runtime",
            Family::CudaDriverStub => "cuda-driver-stub",
            Family::CudaDriver => "cuda-driver",
            Family::Cublas => "cublas",
            Family::Cufft => "cufft",
            Family::Curand => "curand",
            Family::Cusparse => "cusparse",
            Family::Cusolver => "cusolver",
            Family::Nvrtc => "nvrtc",
            Family::NvJitLink => "nvjitlink",
            Family::Cupti => "cupti",
            Family::Nvtx => "nvtx",
            Family::Npp => "npp",
            Family::Nvjpeg => "nvjpeg",
            Family::Cudnn => "cudnn",
            Family::TensorRt => "tensorrt",
            Family::Nccl => "nccl",
            Family::TorchCuda => "pytorch-cuda",
            Family::OnnxRuntimeCuda => "onnxruntime-cuda",
        }
    }

    /// The NVD CPE product, only where its version scheme matches the
    /// library's: the CUDA runtime and NVRTC carry the toolkit's version
    /// (12.1.105 is toolkit 12.1); cuBLAS and friends have their own numbers.
    pub fn cpe_product(self) -> Option<&'static str> {
        match self {
            Family::CudaRuntime | Family::Nvrtc => Some("cuda_toolkit"),
            Family::TensorRt => Some("tensorrt"),
            _ => None,
        }
    }

    /// Families whose install path (`/usr/local/cuda-12.1/`) dates them.
    fn dated_by_toolkit_path(self) -> bool {
        !matches!(
            self,
            Family::Cudnn
                | Family::TensorRt
                | Family::Nccl
                | Family::TorchCuda
                | Family::OnnxRuntimeCuda
                | Family::CudaDriver
        )
    }
}

/// What a file's name and path say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryMatch {
    pub family: Family,
    /// The stem, e.g. `libcudart`, `libcudnn_ops_infer`.
    pub library: String,
    /// `12` from `libcudart.so.12`.
    pub soname_major: Option<String>,
    /// `12.1.105` from `libcudart.so.12.1.105` (two or more components).
    pub file_version: Option<String>,
    pub is_static: bool,
    pub is_stub: bool,
    /// `12.1` from a `/cuda-12.1/` directory.
    pub path_version: Option<String>,
}

/// Classifies a path (relative, no leading `/`).
pub fn classify(path: &str) -> Option<LibraryMatch> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if !name.starts_with("lib") {
        return None;
    }
    let (stem, suffix, is_static) = if let Some(i) = name.find(".so") {
        let rest = &name[i + 3..];
        if !(rest.is_empty() || rest.starts_with('.')) {
            return None;
        }
        (&name[..i], rest.trim_start_matches('.'), false)
    } else {
        (name.strip_suffix(".a")?, "", true)
    };
    let base = stem.strip_suffix("_static").unwrap_or(stem);
    let mut family = family_of(base)?;
    let is_stub = path.contains("/stubs/");
    if family == Family::CudaDriver && is_stub {
        family = Family::CudaDriverStub;
    }
    let parts: Vec<&str> = suffix.split('.').filter(|p| !p.is_empty()).collect();
    if !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let path_version = family
        .dated_by_toolkit_path()
        .then(|| toolkit_dir_version(path))
        .flatten();
    Some(LibraryMatch {
        family,
        library: stem.to_string(),
        soname_major: parts.first().map(|p| p.to_string()),
        file_version: (parts.len() >= 2).then(|| parts.join(".")),
        is_static: is_static || stem.ends_with("_static"),
        is_stub,
        path_version,
    })
}

fn family_of(stem: &str) -> Option<Family> {
    if let Some(&(_, family)) = STEMS.iter().find(|(s, _)| *s == stem) {
        return Some(family);
    }
    // cuDNN 8/9 split libraries (libcudnn_ops_infer, libcudnn_engines_precompiled, …)
    // and NPP's per-domain libraries (libnppc, libnppial, …).
    if stem.starts_with("libcudnn_") {
        return Some(Family::Cudnn);
    }
    if stem.starts_with("libnpp") && stem.len() <= 10 {
        return Some(Family::Npp);
    }
    None
}

/// `usr/local/cuda-12.1/targets/…` → `12.1`.
fn toolkit_dir_version(path: &str) -> Option<String> {
    path.split('/').find_map(|segment| {
        let v = segment.strip_prefix("cuda-")?;
        let ok = v.contains('.')
            && v.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| v.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(path: &str) -> Option<Family> {
        classify(path).map(|m| m.family)
    }

    #[test]
    fn apt_and_runfile_layouts() {
        let m =
            classify("usr/local/cuda-12.1/targets/x86_64-linux/lib/libcudart.so.12.1.105").unwrap();
        assert_eq!(m.family, Family::CudaRuntime);
        assert_eq!(m.file_version.as_deref(), Some("12.1.105"));
        assert_eq!(m.soname_major.as_deref(), Some("12"));
        assert_eq!(m.path_version.as_deref(), Some("12.1"));
        let m = classify("usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.2").unwrap();
        assert_eq!(
            (m.family, m.file_version.as_deref()),
            (Family::Cudnn, Some("8.9.2"))
        );
        assert_eq!(m.path_version, None);
        let m = classify("usr/lib/x86_64-linux-gnu/libnvinfer.so.10.0.1").unwrap();
        assert_eq!(
            (m.family, m.file_version.as_deref()),
            (Family::TensorRt, Some("10.0.1"))
        );
    }

    #[test]
    fn stubs_static_wheels_and_frameworks() {
        let stub = classify("usr/local/cuda/lib64/stubs/libcuda.so").unwrap();
        assert_eq!(stub.family, Family::CudaDriverStub);
        assert!(stub.is_stub);
        let st = classify("usr/local/cuda/lib64/libcudart_static.a").unwrap();
        assert!(st.is_static && st.family == Family::CudaRuntime);
        assert_eq!(
            family("x/nvidia/cudnn/lib/libcudnn_ops_infer.so.8"),
            Some(Family::Cudnn)
        );
        assert_eq!(
            family("x/nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9"),
            Some(Family::Cudnn)
        );
        assert_eq!(
            family("x/torch/lib/libtorch_cuda.so"),
            Some(Family::TorchCuda)
        );
        assert_eq!(
            family("x/onnxruntime/capi/libonnxruntime_providers_cuda.so"),
            Some(Family::OnnxRuntimeCuda)
        );
        assert_eq!(family("x/libnppial.so.12"), Some(Family::Npp));
        assert_eq!(family("x/libnccl.so.2.18.3"), Some(Family::Nccl));
        assert_eq!(family("x/libcublasLt.so.12"), Some(Family::Cublas));
    }

    #[test]
    fn unrelated_names() {
        for path in [
            "x/libcudaxyz-unrelated.so",
            "x/libfoo.so",
            "x/cudart.so",
            "x/libcudart.so.12.txt",
            "x/libcudart.sox",
        ] {
            assert_eq!(classify(path), None, "{path}");
        }
    }
}
