//! NVIDIA's compatibility numbers, each row from the NVIDIA document named beside it.
//!
//! Sources (read 2026-11-26):
//! - [RN] CUDA Toolkit Release Notes, "CUDA Toolkit and Corresponding Driver Versions"
//!   (Table 3) and "CTK Version | Driver Range for Minor Version Compatibility",
//!   <https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html> (13.1 and 13.2
//!   editions). The 12.x floor's exact build (525.60.13) is from the CUDA Compatibility
//!   guide, "Forward Compatibility", <https://docs.nvidia.com/deploy/cuda-compatibility/>.
//! - [PTX] PTX ISA, "Release Notes: PTX Release History",
//!   <https://docs.nvidia.com/cuda/parallel-thread-execution/#release-notes-ptx-release-history>,
//!   agreeing with NVIDIA/cuda-python `cuda_bindings/cuda/bindings/utils/_ptx_utils.py`
//!   at 149d45a4151488360c8325338e7ffc1ce3c02e15.
//! - [GPUS] "CUDA GPU Compute Capability", <https://developer.nvidia.com/cuda-gpus>;
//!   V100 from "Legacy CUDA GPU Compute Capability",
//!   <https://developer.nvidia.com/cuda-legacy-gpus>; T4, A100 and A30 from NVIDIA/cutlass
//!   `README.md` at 01dad0225bc2ad8223ae0224102873c3132b9f6d and NVIDIA/bionemo-framework
//!   `docs/docs/main/getting-started/pre-reqs.md` at 4e13ee6dcfb4b8f1b339c56735cc3624073dd0be.
//!
//! - [FC] CUDA Compatibility guide, "Forward Compatibility",
//!   <https://docs.nvidia.com/deploy/cuda-compatibility/forward-compatibility.html>: the
//!   `cuda-compat` package against the installed driver branch ("Branches not listed … are
//!   end of life and are not supported"), on "NVIDIA Data Center GPUs … Jetson boards" only.
//!
//! Not here for want of an NVIDIA document: the A10G (a cloud SKU name; give its compute
//! capability instead), and the exact drivers of CUDA 13.2 updates and later.

use super::GpuArch;

/// `(major, minor)` of a CUDA release or a PTX ISA.
pub type Release = (u32, u32);
pub type PtxIsa = (u16, u16);

/// Minor-version compatibility [RN]: any runtime of a CUDA major runs on this driver or newer.
pub const MINOR_VERSION_FLOOR: &[(u32, &str)] =
    &[(11, "450.80.02"), (12, "525.60.13"), (13, "580")];

/// Minimum Linux x86_64 driver of each CUDA release's GA [RN, Table 3]: the full-feature
/// minimum, and the driver that first knew the release's PTX ISA.
pub const RELEASE_DRIVER: &[(Release, &str)] = &[
    ((11, 0), "450.51.05"),
    ((11, 1), "455.23"),
    ((11, 2), "460.27.03"),
    ((11, 3), "465.19.01"),
    ((11, 4), "470.42.01"),
    ((11, 5), "495.29.05"),
    ((11, 6), "510.39.01"),
    ((11, 7), "515.43.04"),
    ((11, 8), "520.61.05"),
    ((12, 0), "525.60.13"),
    ((12, 1), "530.30.02"),
    ((12, 2), "535.54.03"),
    ((12, 3), "545.23.06"),
    ((12, 4), "550.54.14"),
    ((12, 5), "555.42.02"),
    ((12, 6), "560.28.03"),
    ((12, 8), "570.26"),
    ((12, 9), "575.51.03"),
    ((13, 0), "580.65.06"),
    ((13, 1), "590.44.01"),
    ((13, 2), "595.45.04"),
];

/// PTX ISA version → the CUDA release that introduced it [PTX]. PTX 8.6 came with CUDA
/// 12.7, which has no row in Table 3: its driver is the PTX table's branch, r565.
pub const PTX_ISA_RELEASE: &[(PtxIsa, Release)] = &[
    ((7, 0), (11, 0)),
    ((7, 1), (11, 1)),
    ((7, 2), (11, 2)),
    ((7, 3), (11, 3)),
    ((7, 4), (11, 4)),
    ((7, 5), (11, 5)),
    ((7, 6), (11, 6)),
    ((7, 7), (11, 7)),
    ((7, 8), (11, 8)),
    ((8, 0), (12, 0)),
    ((8, 1), (12, 1)),
    ((8, 2), (12, 2)),
    ((8, 3), (12, 3)),
    ((8, 4), (12, 4)),
    ((8, 5), (12, 5)),
    ((8, 6), (12, 7)),
    ((8, 7), (12, 8)),
    ((8, 8), (12, 9)),
    ((9, 0), (13, 0)),
    ((9, 1), (13, 1)),
    ((9, 2), (13, 2)),
];
const CUDA_12_7_DRIVER_BRANCH: &str = "565";

/// For each `cuda-compat-X-Y` package [FC]: the host driver branches it runs on.
pub const FORWARD_COMPAT: &[(Release, &[u32])] = &[
    ((13, 4), &[535, 570, 580, 590, 595, 610]),
    ((13, 3), &[535, 570, 580, 590, 595]),
    ((13, 2), &[535, 570, 580, 590]),
    ((13, 1), &[535, 570, 580]),
    ((13, 0), &[535, 570]),
    ((12, 9), &[535, 570]),
    ((12, 8), &[535]),
    ((12, 6), &[535]),
    ((12, 5), &[535]),
    ((12, 4), &[535]),
    ((12, 3), &[535]),
];

/// The driver branches a `cuda-compat` package for `release` supports; empty when unlisted.
pub fn forward_compat_branches(release: Release) -> &'static [u32] {
    FORWARD_COMPAT
        .iter()
        .find(|(r, _)| *r == release)
        .map_or(&[], |(_, branches)| branches)
}

/// GPU names as NVIDIA lists them [GPUS], matched without case, spaces, hyphens or an
/// `NVIDIA`/`GeForce` prefix.
pub const GPUS: &[(&str, GpuArch)] = &[
    ("V100", GpuArch::new(7, 0)),
    ("T4", GpuArch::new(7, 5)),
    ("A100", GpuArch::new(8, 0)),
    ("A30", GpuArch::new(8, 0)),
    ("A10", GpuArch::new(8, 6)),
    ("A40", GpuArch::new(8, 6)),
    ("Jetson Orin", GpuArch::new(8, 7)),
    ("L4", GpuArch::new(8, 9)),
    ("L40", GpuArch::new(8, 9)),
    ("L40S", GpuArch::new(8, 9)),
    ("RTX 4090", GpuArch::new(8, 9)),
    ("H100", GpuArch::new(9, 0)),
    ("H200", GpuArch::new(9, 0)),
    ("GH200", GpuArch::new(9, 0)),
    ("B200", GpuArch::new(10, 0)),
    ("GB200", GpuArch::new(10, 0)),
    ("B300", GpuArch::new(10, 3)),
    ("GB300", GpuArch::new(10, 3)),
    ("Jetson Thor", GpuArch::new(11, 0)),
    ("RTX 5090", GpuArch::new(12, 0)),
    ("RTX PRO 6000 Blackwell", GpuArch::new(12, 0)),
    ("GB10", GpuArch::new(12, 1)),
    ("DGX Spark", GpuArch::new(12, 1)),
];

/// The GPUs of [`GPUS`] that forward compatibility applies to [FC]: NVIDIA's data center
/// GPUs and Jetson boards (GeForce, RTX PRO and DGX Spark are left out).
pub const FORWARD_COMPAT_GPUS: &[&str] = &[
    "V100",
    "T4",
    "A100",
    "A30",
    "A10",
    "A40",
    "Jetson Orin",
    "L4",
    "L40",
    "L40S",
    "H100",
    "H200",
    "GH200",
    "B200",
    "GB200",
    "B300",
    "GB300",
    "Jetson Thor",
];

/// Whether `name` is one of [`FORWARD_COMPAT_GPUS`].
pub fn forward_compat_applies(name: &str) -> bool {
    FORWARD_COMPAT_GPUS
        .iter()
        .any(|g| name_key(g) == name_key(name))
}

fn name_key(s: &str) -> String {
    let folded: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    let folded = folded.strip_prefix("NVIDIA").unwrap_or(&folded).to_string();
    folded
        .strip_prefix("GEFORCE")
        .unwrap_or(&folded)
        .to_string()
}

/// The compute capability of a GPU named as in [`GPUS`].
pub fn gpu_by_name(name: &str) -> Option<GpuArch> {
    let wanted = name_key(name);
    GPUS.iter()
        .find(|(listed, _)| name_key(listed) == wanted)
        .map(|&(_, arch)| arch)
}

/// `(minor-version floor, full-feature minimum)` for a CUDA runtime version such as
/// `12.4.127`; the second is `None` for a release with no Table 3 row.
pub fn runtime_driver(cuda_version: &str) -> Option<(&'static str, Option<&'static str>)> {
    let mut parts = cuda_version.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten();
    let floor = MINOR_VERSION_FLOOR.iter().find(|(m, _)| *m == major)?.1;
    let full = minor.and_then(|minor| {
        RELEASE_DRIVER
            .iter()
            .find(|(release, _)| *release == (major, minor))
            .map(|(_, driver)| *driver)
    });
    Some((floor, full))
}

/// The CUDA release that introduced a PTX ISA version (`9.0` → 13.0) and the first driver
/// that can JIT-compile it; `None` for an ISA newer than this table.
pub fn ptx_isa_driver(isa: &str) -> Option<(Release, &'static str)> {
    let (major, minor) = isa.split_once('.')?;
    let isa = (major.parse().ok()?, minor.parse().ok()?);
    let release = PTX_ISA_RELEASE.iter().find(|(i, _)| *i == isa)?.1;
    let driver = RELEASE_DRIVER
        .iter()
        .find(|(r, _)| *r == release)
        .map(|(_, d)| *d)
        .unwrap_or(CUDA_12_7_DRIVER_BRANCH);
    Some((release, driver))
}

/// The CUDA major whose toolkit writes a PTX ISA (`9.2` → 13): every PTX ISA major belongs
/// to one CUDA major [PTX], so an ISA newer than [`PTX_ISA_RELEASE`] still names its major.
pub fn ptx_isa_cuda_major(isa: &str) -> Option<u32> {
    let major: u16 = isa
        .split_once('.')
        .map_or(isa, |(major, _)| major)
        .parse()
        .ok()?;
    PTX_ISA_RELEASE
        .iter()
        .find(|((isa_major, _), _)| *isa_major == major)
        .map(|(_, (cuda_major, _))| *cuda_major)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ptx_isa_major_names_one_cuda_major() {
        assert_eq!(ptx_isa_cuda_major("7.8"), Some(11));
        assert_eq!(ptx_isa_cuda_major("8.4"), Some(12));
        assert_eq!(ptx_isa_cuda_major("9.2"), Some(13));
        assert_eq!(ptx_isa_cuda_major("9.7"), Some(13));
        assert_eq!(ptx_isa_cuda_major("6.4"), None);
        for ((isa_major, _), (cuda_major, _)) in PTX_ISA_RELEASE {
            assert_eq!(
                *cuda_major,
                u32::from(*isa_major) + 4,
                "one CUDA major per ISA major"
            );
        }
    }

    #[test]
    fn gpu_names_fold_case_spacing_and_vendor_prefix() {
        assert_eq!(gpu_by_name("A100"), Some(GpuArch::new(8, 0)));
        assert_eq!(gpu_by_name("nvidia h100"), Some(GpuArch::new(9, 0)));
        assert_eq!(gpu_by_name("GeForce RTX 5090"), Some(GpuArch::new(12, 0)));
        assert_eq!(gpu_by_name("l40s"), Some(GpuArch::new(8, 9)));
        assert_eq!(gpu_by_name("A10G"), None);
        assert!(forward_compat_applies("nvidia a100"));
        assert!(!forward_compat_applies("RTX 4090"));
        assert_eq!(forward_compat_branches((13, 0)), [535, 570]);
        assert!(forward_compat_branches((12, 2)).is_empty());
    }

    #[test]
    fn drivers_by_runtime_and_by_ptx_isa() {
        assert_eq!(runtime_driver("13.0.96"), Some(("580", Some("580.65.06"))));
        assert_eq!(
            runtime_driver("12.4.127"),
            Some(("525.60.13", Some("550.54.14")))
        );
        assert_eq!(runtime_driver("12.7"), Some(("525.60.13", None)));
        assert_eq!(runtime_driver("10.2"), None);
        assert_eq!(ptx_isa_driver("9.0"), Some(((13, 0), "580.65.06")));
        assert_eq!(ptx_isa_driver("8.6"), Some(((12, 7), "565")));
        assert_eq!(ptx_isa_driver("9.9"), None);
    }
}
