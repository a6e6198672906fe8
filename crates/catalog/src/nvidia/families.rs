//! Which NVIDIA library a file is, from its name and path alone.
//!
//! Called for every shared object in every layer, so it allocates nothing
//! until a name matches. The name gives the family, the SONAME major, and —
//! for apt/runfile installs, which keep full versions — the exact version;
//! a `/cuda-X.Y/` path gives the toolkit version.

/// An NVIDIA library family. [`Family::product`] names the component.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
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
    Cufile,
    NvFatbin,
    Nvblas,
    CusparseLt,
    Nvshmem,
    Nvvm,
    PtxCompiler,
    TorchCuda,
    OnnxRuntimeCuda,
    /// JAX's CUDA plugin extensions (`jax_cuda12_plugin/_linalg.so`), named by directory.
    JaxCuda,
}

/// Library stems (the name before `.so`/`.a`) and their family.
const STEMS: &[(&str, Family)] = &[
    ("libcudart", Family::CudaRuntime),
    ("libcudadevrt", Family::CudaRuntime),
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
    // CUDA 13.0's alternative NVRTC build (`libnvrtc.alt.so.13`).
    ("libnvrtc.alt", Family::Nvrtc),
    ("libnvrtc-builtins.alt", Family::Nvrtc),
    ("libnvJitLink", Family::NvJitLink),
    ("libcupti", Family::Cupti),
    ("libnvperf_host", Family::Cupti),
    ("libnvperf_target", Family::Cupti),
    ("libpcsamplingutil", Family::Cupti),
    ("libnvToolsExt", Family::Nvtx),
    // CUDA 13's nvidia-nvtx wheel: NVTX 3 is header-only but for this interop shim.
    ("libnvtx3interop", Family::Nvtx),
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
    ("libcufile", Family::Cufile),
    ("libcufile_rdma", Family::Cufile),
    ("libnvfatbin", Family::NvFatbin),
    ("libnvblas", Family::Nvblas),
    ("libcusparseLt", Family::CusparseLt),
    ("libnvvm", Family::Nvvm),
    ("libnvptxcompiler", Family::PtxCompiler),
    ("libtorch_cuda", Family::TorchCuda),
    ("libtorch_cuda_linalg", Family::TorchCuda),
    ("libc10_cuda", Family::TorchCuda),
    ("libonnxruntime_providers_cuda", Family::OnnxRuntimeCuda),
    ("libonnxruntime_providers_tensorrt", Family::OnnxRuntimeCuda),
];

impl Family {
    /// Every family; the policy schema's `Family` enum must list each product.
    pub const ALL: [Family; 27] = [
        Family::CudaRuntime,
        Family::CudaDriverStub,
        Family::CudaDriver,
        Family::Cublas,
        Family::Cufft,
        Family::Curand,
        Family::Cusparse,
        Family::Cusolver,
        Family::Nvrtc,
        Family::NvJitLink,
        Family::Cupti,
        Family::Nvtx,
        Family::Npp,
        Family::Nvjpeg,
        Family::Cudnn,
        Family::TensorRt,
        Family::Nccl,
        Family::Cufile,
        Family::NvFatbin,
        Family::Nvblas,
        Family::CusparseLt,
        Family::Nvshmem,
        Family::Nvvm,
        Family::PtxCompiler,
        Family::TorchCuda,
        Family::OnnxRuntimeCuda,
        Family::JaxCuda,
    ];

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
            Family::Cufile => "cufile",
            Family::NvFatbin => "nvfatbin",
            Family::Nvblas => "nvblas",
            Family::CusparseLt => "cusparselt",
            Family::Nvshmem => "nvshmem",
            Family::Nvvm => "nvvm",
            Family::PtxCompiler => "nvptxcompiler",
            Family::TorchCuda => "pytorch-cuda",
            Family::OnnxRuntimeCuda => "onnxruntime-cuda",
            Family::JaxCuda => "jax-cuda",
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

    /// Families whose install path (`/usr/local/cuda-12.1/`) dates them: not the
    /// products with their own numbering that merely install there (cuFFT 11.0.2 and
    /// cuRAND 10.3.2 ship in CUDA 12.1, cuFile is 1.x, NVSHMEM 3.x, cuSPARSELt 0.x).
    fn dated_by_toolkit_path(self) -> bool {
        !matches!(
            self,
            Family::Cudnn
                | Family::TensorRt
                | Family::Nccl
                | Family::TorchCuda
                | Family::OnnxRuntimeCuda
                | Family::JaxCuda
                | Family::CudaDriver
                | Family::Cufft
                | Family::Curand
                | Family::Cusolver
                | Family::Nvjpeg
                | Family::Cufile
                | Family::CusparseLt
                | Family::Nvshmem
        )
    }

    /// Libraries a framework builds from its own sources against CUDA (PyTorch's
    /// `libtorch_cuda`): they belong to whichever package ships them.
    pub fn is_framework(self) -> bool {
        matches!(
            self,
            Family::TorchCuda | Family::OnnxRuntimeCuda | Family::JaxCuda
        )
    }
}

/// What a file's name and path say.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// Renamed by auditwheel when a wheel bundled it (`libcudart-c3a75b33.so.12.8.90`): the
    /// name, and the SONAME auditwheel gives it, are the original file name with a hash.
    #[serde(default)]
    pub renamed_by_auditwheel: bool,
}

/// Classifies a path (relative, no leading `/`).
/// Directories of JAX's CUDA builds, whose extension modules carry no `lib` prefix.
const JAX_CUDA_DIRS: &[&str] = &[
    "jax_cuda12_plugin",
    "jax_cuda13_plugin",
    "jax_plugins/xla_cuda12",
    "jax_plugins/xla_cuda13",
    "jaxlib/cuda",
];

/// A JAX CUDA extension module: `…/jax_cuda12_plugin/_linalg.so`.
pub fn is_jax_cuda_extension(path: &str) -> bool {
    path.strip_suffix(".so")
        .and_then(|p| p.rsplit_once('/'))
        .is_some_and(|(dir, _)| JAX_CUDA_DIRS.iter().any(|d| dir.ends_with(d)))
}

pub fn classify(path: &str) -> Option<LibraryMatch> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if is_jax_cuda_extension(path) {
        return Some(LibraryMatch {
            family: Family::JaxCuda,
            library: name.trim_end_matches(".so").to_string(),
            soname_major: None,
            file_version: None,
            is_static: false,
            is_stub: false,
            path_version: None,
            renamed_by_auditwheel: false,
        });
    }
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
    let unhashed = without_auditwheel_hash(stem);
    let base = unhashed.strip_suffix("_static").unwrap_or(unhashed);
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
        library: unhashed.to_string(),
        soname_major: parts.first().map(|p| p.to_string()),
        file_version: (parts.len() >= 2).then(|| parts.join(".")),
        is_static: is_static || stem.ends_with("_static"),
        is_stub,
        path_version,
        renamed_by_auditwheel: unhashed.len() < stem.len(),
    })
}

/// `libcudart-c3a75b33` → `libcudart`: auditwheel renames each library it copies into a
/// wheel's `<package>.libs/` with the first 8 hex digits of the library's sha256.
fn without_auditwheel_hash(stem: &str) -> &str {
    match stem.rsplit_once('-') {
        Some((base, hash))
            if hash.len() == 8
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            base
        }
        _ => stem,
    }
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
    // NVSHMEM's host, device and bootstrap libraries (libnvshmem_host, libnvshmem_device, …).
    if stem.starts_with("libnvshmem") {
        return Some(Family::Nvshmem);
    }
    None
}

/// NVIDIA's wheels, by normalised name with any `-cuNN` segment removed: CUDA 12
/// publishes `nvidia-cublas-cu12`, CUDA 13 `nvidia-cublas` (but `nvidia-cudnn-cu13`).
const WHEELS: &[(&str, Family)] = &[
    ("nvidia-cuda-runtime", Family::CudaRuntime),
    ("nvidia-cuda-nvrtc", Family::Nvrtc),
    ("nvidia-cublas", Family::Cublas),
    ("nvidia-cufft", Family::Cufft),
    ("nvidia-curand", Family::Curand),
    ("nvidia-cusparse", Family::Cusparse),
    ("nvidia-cusolver", Family::Cusolver),
    ("nvidia-nvjitlink", Family::NvJitLink),
    ("nvidia-cuda-cupti", Family::Cupti),
    ("nvidia-nvtx", Family::Nvtx),
    ("nvidia-npp", Family::Npp),
    ("nvidia-nvjpeg", Family::Nvjpeg),
    ("nvidia-cudnn", Family::Cudnn),
    ("nvidia-nccl", Family::Nccl),
    ("nvidia-cufile", Family::Cufile),
    ("nvidia-nvfatbin", Family::NvFatbin),
    ("nvidia-cusparselt", Family::CusparseLt),
    ("nvidia-nvshmem", Family::Nvshmem),
    ("nvidia-nvvm", Family::Nvvm),
    ("nvidia-nvptxcompiler", Family::PtxCompiler),
    ("tensorrt", Family::TensorRt),
    ("tensorrt-libs", Family::TensorRt),
    ("tensorrt-lean", Family::TensorRt),
    ("tensorrt-lean-libs", Family::TensorRt),
    ("tensorrt-dispatch", Family::TensorRt),
    ("tensorrt-dispatch-libs", Family::TensorRt),
];

/// Debs whose names do not start with the library's own name: NVIDIA's CUDA
/// repository names some `cuda-<component>-12-1`, the driver ships libcuda.
const DEBS: &[(&str, Family)] = &[
    ("cuda-cudart", Family::CudaRuntime),
    ("cuda-nvrtc", Family::Nvrtc),
    ("cuda-cupti", Family::Cupti),
    ("cuda-nvtx", Family::Nvtx),
    ("cuda-nvvm", Family::Nvvm),
    ("cuda-compat", Family::CudaDriver),
    ("cuda-driver-dev", Family::CudaDriverStub),
    ("libnvidia-compute", Family::CudaDriver),
    ("libnvonnxparsers", Family::TensorRt),
    ("libnvparsers", Family::TensorRt),
];

/// The NVIDIA product a package is, from its name alone: NVIDIA's wheels
/// (`nvidia-cublas-cu12`, `nvidia-cublas`, `tensorrt-cu12-libs`), the debs of NVIDIA's
/// CUDA repository (`cuda-cudart-12-1`, `libcublas-12-1`, `libcudnn9-cuda-12`,
/// `libnccl2`, `libnvinfer10`) and Debian's own (`libcudart12`, `libnvtoolsext1`).
pub fn package_family(name: &str) -> Option<Family> {
    let name = name.to_ascii_lowercase().replace(['_', '.'], "-");
    let unsuffixed: Vec<&str> = name.split('-').filter(|part| !is_cuda_tag(part)).collect();
    let unsuffixed = unsuffixed.join("-");
    if let Some(&(_, family)) = WHEELS.iter().find(|(w, _)| *w == unsuffixed) {
        return Some(family);
    }
    // A deb: the library's name (or a known package stem), then a version, a
    // `-dev`/`-12-1` suffix or nothing: `libcudart12`, `libcudnn9-cuda-12`, `libcublas-12-1`.
    let follows = |rest: &str| {
        rest.is_empty() || rest.starts_with('-') || rest.starts_with(|c: char| c.is_ascii_digit())
    };
    let known = DEBS
        .iter()
        .map(|&(stem, family)| (stem.to_string(), family));
    let libraries = STEMS
        .iter()
        .filter(|(_, family)| !family.is_framework())
        .map(|&(stem, family)| (stem.to_ascii_lowercase().replace('_', "-"), family));
    let prefixed = [
        ("libnpp".to_string(), Family::Npp),
        ("libnvshmem".to_string(), Family::Nvshmem),
        ("libcudnn".to_string(), Family::Cudnn),
    ];
    known
        .chain(libraries)
        .chain(prefixed)
        .filter(|(stem, _)| {
            name.strip_prefix(stem.as_str())
                .is_some_and(|rest| follows(rest) || stem == "libnpp")
        })
        .max_by_key(|(stem, _)| stem.len())
        .map(|(_, family)| family)
}

/// `cu12`, `cu13`: the CUDA major a wheel is built for, not part of the product's name.
fn is_cuda_tag(part: &str) -> bool {
    part.strip_prefix("cu")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a package is one of NVIDIA's own: a named product ([`package_family`]), or
/// one of NVIDIA's wheels and debs by vendor prefix (`nvidia-cuda-nvcc-cu12`,
/// `cuda-toolkit-12-1`, `libnvidia-compute-535`, `tensorrt-cu12-bindings`). Such a
/// package *is* the NVIDIA product it installs; any other package that ships an NVIDIA
/// library (triton vendoring CUPTI) merely bundles it.
pub fn is_nvidia_package(name: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace('_', "-");
    package_family(&lower).is_some()
        || ["nvidia-", "libnvidia-", "cuda-", "tensorrt"]
            .iter()
            .any(|prefix| lower.starts_with(prefix))
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
    fn cuda_13_and_newer_families() {
        assert_eq!(
            family("x/nvidia/cu13/lib/libcufile.so.0"),
            Some(Family::Cufile)
        );
        assert_eq!(
            family("x/nvidia/cu13/lib/libcufile_rdma.so.1"),
            Some(Family::Cufile)
        );
        assert_eq!(
            family("x/nvidia/cu13/lib/libnvfatbin.so.13"),
            Some(Family::NvFatbin)
        );
        assert_eq!(
            family("usr/local/cuda-12.4/lib64/libnvfatbin_static.a"),
            Some(Family::NvFatbin)
        );
        assert_eq!(
            family("x/nvidia/cublas/lib/libnvblas.so.12"),
            Some(Family::Nvblas)
        );
        assert_eq!(
            family("usr/lib/x86_64-linux-gnu/libcusparseLt.so.0.8.1.1"),
            Some(Family::CusparseLt)
        );
        assert_eq!(family("x/libcusparse.so.12"), Some(Family::Cusparse));
        assert_eq!(
            family("x/nvidia/nvshmem/lib/libnvshmem_host.so.3"),
            Some(Family::Nvshmem)
        );
        assert_eq!(
            family("x/nvidia/nvshmem/lib/libnvshmem_device.a"),
            Some(Family::Nvshmem)
        );
        assert_eq!(
            family("usr/local/cuda-12.1/nvvm/lib64/libnvvm.so.4.0.0"),
            Some(Family::Nvvm)
        );
        let ptx = classify("x/nvidia/cu13/lib/libnvptxcompiler_static.a").unwrap();
        assert_eq!(ptx.family, Family::PtxCompiler);
        assert!(ptx.is_static);
        assert_eq!(
            family("x/nvidia/cu13/lib/libnvrtc.alt.so.13"),
            Some(Family::Nvrtc)
        );
        assert_eq!(
            family("x/nvidia/cu13/lib/libnvrtc-builtins.alt.so.13.0"),
            Some(Family::Nvrtc)
        );
        assert_eq!(
            family("x/nvidia/cu13/lib/libcudadevrt.a"),
            Some(Family::CudaRuntime)
        );
        assert_eq!(
            family("x/nvidia/cu13/lib/libnvtx3interop.so.1"),
            Some(Family::Nvtx)
        );
        // cuFile has its own numbering: the toolkit directory does not date it.
        let cufile = classify("usr/local/cuda-12.4/lib64/libcufile.so.0").unwrap();
        assert_eq!(cufile.path_version, None);
    }

    #[test]
    fn package_names() {
        for (name, want) in [
            // CUDA 12 wheels, CUDA 13 wheels (no suffix), and the ones that keep one.
            ("nvidia-cublas-cu12", Some(Family::Cublas)),
            ("nvidia-cublas", Some(Family::Cublas)),
            ("nvidia_nvtx", Some(Family::Nvtx)),
            ("nvidia-nvtx-cu12", Some(Family::Nvtx)),
            ("nvidia-cuda-runtime", Some(Family::CudaRuntime)),
            ("nvidia-cuda-nvrtc", Some(Family::Nvrtc)),
            ("nvidia-cuda-cupti", Some(Family::Cupti)),
            ("nvidia-cudnn-cu13", Some(Family::Cudnn)),
            ("nvidia-nccl-cu13", Some(Family::Nccl)),
            ("nvidia-cufile", Some(Family::Cufile)),
            ("nvidia-cufile-cu12", Some(Family::Cufile)),
            ("nvidia-nvfatbin", Some(Family::NvFatbin)),
            ("nvidia-cusparselt-cu13", Some(Family::CusparseLt)),
            ("nvidia-nvshmem-cu13", Some(Family::Nvshmem)),
            ("nvidia-nvvm", Some(Family::Nvvm)),
            ("nvidia-nvptxcompiler", Some(Family::PtxCompiler)),
            ("tensorrt-cu12-libs", Some(Family::TensorRt)),
            ("tensorrt_cu12_bindings", None),
            ("nvidia-cuda-nvcc-cu12", None),
            // NVIDIA's CUDA repository and Debian.
            ("cuda-cudart-12-1", Some(Family::CudaRuntime)),
            ("cuda-nvtx-12-1", Some(Family::Nvtx)),
            ("libcublas-12-1", Some(Family::Cublas)),
            ("libcudnn9-cuda-12", Some(Family::Cudnn)),
            ("libcudnn8", Some(Family::Cudnn)),
            ("libnccl2", Some(Family::Nccl)),
            ("libnvinfer10", Some(Family::TensorRt)),
            ("libnvinfer-plugin10", Some(Family::TensorRt)),
            ("libnvonnxparsers10", Some(Family::TensorRt)),
            ("libcudart12", Some(Family::CudaRuntime)),
            ("libcublaslt12", Some(Family::Cublas)),
            ("libnvtoolsext1", Some(Family::Nvtx)),
            ("libnppial12", Some(Family::Npp)),
            ("libcusparselt0", Some(Family::CusparseLt)),
            ("libcusparse12", Some(Family::Cusparse)),
            ("libnvshmem3-cuda-12", Some(Family::Nvshmem)),
            // Not NVIDIA products.
            ("triton", None),
            ("torch", None),
            ("libcudaxyz", None),
            ("cupy-cuda12x", None),
            ("six", None),
        ] {
            assert_eq!(package_family(name), want, "{name}");
        }
        assert!(is_nvidia_package("nvidia-cuda-nvcc-cu12"));
        assert!(is_nvidia_package("cuda-toolkit-12-1"));
        assert!(is_nvidia_package("libcudnn9-cuda-12"));
        assert!(!is_nvidia_package("triton"));
        assert!(!is_nvidia_package("torch"));
        assert!(!is_nvidia_package("onnxruntime-gpu"));
    }

    #[test]
    fn auditwheel_renamed_libraries() {
        // ctboost 0.1.62 bundles the CUDA runtime as `ctboost.libs/libcudart-c3a75b33.so.12.8.90`.
        let m = classify("site-packages/ctboost.libs/libcudart-c3a75b33.so.12.8.90").unwrap();
        assert_eq!(m.family, Family::CudaRuntime);
        assert_eq!(m.library, "libcudart");
        assert_eq!(m.file_version.as_deref(), Some("12.8.90"));
        assert!(m.renamed_by_auditwheel);
        assert_eq!(
            family("x/faiss.libs/libcublasLt-0123abcd.so.12"),
            Some(Family::Cublas)
        );
        // Not a hash: too short, or not hex.
        assert_eq!(family("x/libcudart-c3a75b3.so.12"), None);
        assert_eq!(
            family("x/libnvrtc-builtins.so.12"),
            Some(Family::Nvrtc),
            "`builtins` is eight letters, not a hash"
        );
        assert!(!classify("x/libcudart.so.12").unwrap().renamed_by_auditwheel);
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
