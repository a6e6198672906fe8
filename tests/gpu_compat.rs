//! Will the image run on the fleet's GPUs? Architectures from real NVIDIA libraries, checked
//! against NVIDIA's own `cuobjdump`, and the two gate rules built on them.

mod common;

use common::*;
use gpubom_testkit::real;

/// NVIDIA's `cuobjdump` on a real CUDA 13 machine (see `tests/fixtures/cuobjdump/README.md`):
/// sha256 prefix → (SASS, PTX), comma-separated as gpubom writes them.
fn cuobjdump_listing() -> std::collections::HashMap<String, (String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cuobjdump/h200-cuda13-2026-11-26.tsv");
    let text = std::fs::read_to_string(path).unwrap();
    let list = |field: &str| {
        if field == "-" {
            String::new()
        } else {
            field.replace(' ', ",")
        }
    };
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[1].to_string(), (list(fields[2]), list(fields[3])))
        })
        .collect()
}

/// Real libraries from PyPI wheels whose bytes are among those `cuobjdump` listed, by sha256
/// prefix. The CUDA 12.1 CUPTI has cubins only outside `.nv_fatbin` (profiler payloads),
/// which `cuobjdump` does not list. That listing was made without `--all-fatbin`, so it
/// leaves out the `__nv_relfatbin` of a file that also has a `.nv_fatbin`: NVSHMEM's host
/// library (PTX only there) is checked in `tests/device_code.rs` against a listing with it.
const TRUTH: &[((&str, &str), &str, &str)] = &[
    (
        ("nvidia-curand", "10.4.0.35"),
        "nvidia/cu13/lib/libcurand.so.10",
        "b53732a66b302b11",
    ),
    (
        ("nvidia-cusparse", "12.6.3.3"),
        "nvidia/cu13/lib/libcusparse.so.12",
        "09339f848f60bb11",
    ),
    (
        ("nvidia-cufft", "12.0.0.61"),
        "nvidia/cu13/lib/libcufft.so.12",
        "0933f68bb7e3bf90",
    ),
    (
        ("nvidia-nccl-cu13", "2.28.9"),
        "nvidia/nccl/lib/libnccl.so.2",
        "1c8618b866734cbd",
    ),
    (
        ("nvidia-cuda-cupti-cu12", "12.1.105"),
        "nvidia/cuda_cupti/lib/libcupti.so.12",
        "",
    ),
];

/// The truth-table libraries, copied bare (no package metadata) into `root/usr/local/lib`.
fn bare_truth_libraries(test: &str, root: &std::path::Path) -> Option<()> {
    let lib = root.join("usr/local/lib");
    std::fs::create_dir_all(&lib).unwrap();
    for ((wheel, version), member, sha256_prefix) in TRUTH {
        let wheel = or_skip(test, real::pypi_wheel(wheel, version))?;
        let members = or_skip(test, wheel_members(&wheel, &[member]))?;
        let (_, bytes) = members
            .into_iter()
            .next()
            .expect("the member is in the wheel");
        assert!(
            sha256_hex(&bytes).starts_with(sha256_prefix),
            "{member} is not the file cuobjdump listed"
        );
        let name = member.rsplit('/').next().unwrap();
        std::fs::write(lib.join(name), bytes).unwrap();
    }
    Some(())
}

#[test]
fn architectures_equal_cuobjdump_on_real_libraries() {
    let test = "architectures_equal_cuobjdump_on_real_libraries";
    let dir = tmp();
    if bare_truth_libraries(test, dir.path()).is_none() {
        return;
    }
    let bom = scan_json(&dir.path().display().to_string());
    let listed = cuobjdump_listing();
    for (_, member, sha256_prefix) in TRUTH {
        let (sass, ptx) = listed.get(*sha256_prefix).cloned().unwrap_or_default(); // CUPTI 12.1: no device code
        let name = member.rsplit('/').next().unwrap();
        let component = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| property(c, "gpubom:nvidia:library") == Some(name))
            .unwrap_or_else(|| panic!("no component for {name}"));
        assert_eq!(
            property(component, "gpubom:nvidia:sm_archs").unwrap_or(""),
            sass,
            "SASS of {name}"
        );
        assert_eq!(
            property(component, "gpubom:nvidia:ptx_archs").unwrap_or(""),
            ptx,
            "PTX of {name}"
        );
    }
}

/// libcudart.so.13 of the real `nvidia-cuda-runtime` 13.0.96 wheel, byte-identical to the
/// truth table's libcudart.so.13.0.96 (no device code).
fn real_cudart_13(test: &str) -> Option<Vec<u8>> {
    let wheel = or_skip(test, real::pypi_wheel("nvidia-cuda-runtime", "13.0.96"))?;
    let members = or_skip(
        test,
        wheel_members(&wheel, &["nvidia/cu13/lib/libcudart.so.13"]),
    )?;
    let (_, bytes) = members.into_iter().next().expect("the wheel has libcudart");
    assert!(sha256_hex(&bytes).starts_with("96c42e418cec1905"));
    Some(bytes)
}

/// `spec` written as an OCI layout in `dir` and scanned; the SBOM's path.
fn scan_to_sbom(
    spec: &gpubom_testkit::image::ImageSpec,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let oci = dir.join("oci");
    spec.write_oci_dir(&oci);
    let bom = dir.join("bom.json");
    let out = run(&[
        "scan",
        &format!("oci-dir:{}", oci.display()),
        "-o",
        &format!("cyclonedx-json={}", bom.display()),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    bom
}

/// `check --sbom bom` with `[fleet]` set to `fleet`.
fn check_with_fleet(
    dir: &std::path::Path,
    bom: &std::path::Path,
    fleet: &str,
    extra: &[&str],
) -> std::process::Output {
    let config = dir.join("fleet.toml");
    std::fs::write(&config, format!("[fleet]\n{fleet}\n")).unwrap();
    let mut args = vec![
        "check",
        "--sbom",
        bom.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    args.extend(extra);
    run(&args)
}

/// `check --sbom` of `bom` under a `[fleet]` config: the findings of the two fleet rules.
fn fleet_findings(
    dir: &std::path::Path,
    bom: &std::path::Path,
    fleet: &str,
) -> (Option<serde_json::Value>, Option<serde_json::Value>) {
    let out = check_with_fleet(dir, bom, fleet, &["-f", "json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", stderr(&out)));
    (
        finding_of(&report, "driver-too-old-for-image").cloned(),
        finding_of(&report, "gpu-architecture-unsupported").cloned(),
    )
}

#[test]
fn the_fleet_rules_fire_and_explain_themselves_on_a_cuda_13_image() {
    let test = "the_fleet_rules_fire_and_explain_themselves_on_a_cuda_13_image";
    let dir = tmp();
    let root = dir.path().join("root");
    if bare_truth_libraries(test, &root).is_none() {
        return;
    }
    // The CUDA 13 runtime, from its real wheel, installed as pip would.
    let Some(cudart) = real_cudart_13(test) else {
        return;
    };
    let lib64 = root.join("usr/local/cuda-13.0/lib64");
    std::fs::create_dir_all(&lib64).unwrap();
    std::fs::write(lib64.join("libcudart.so.13.0.96"), &cudart).unwrap();
    let bom = dir.path().join("bom.json");
    let out = run(&[
        "scan",
        root.to_str().unwrap(),
        "-o",
        &format!("cyclonedx-json={}", bom.display()),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A100s on a CUDA 13 driver: every library has SASS for sm_80, the driver is new enough.
    let (driver, arch) = fleet_findings(
        dir.path(),
        &bom,
        "driver = \"580.95.05\"\ngpus = [\"A100\", \"H100\", \"L4\"]",
    );
    assert!(driver.is_none(), "{driver:?}");
    assert!(arch.is_none(), "{arch:?}");

    // V100s on an R535 driver: CUDA 13 needs driver 580 (minor-version floor), and CUDA 13
    // removed library support for Volta (CUDA 13.0 release notes), so nothing runs on sm_70.
    let (driver, arch) = fleet_findings(
        dir.path(),
        &bom,
        "driver = \"535.183.01\"\ngpus = [\"V100\", \"A100\"]",
    );
    let driver = driver.expect("the CUDA 13 runtime needs a newer driver");
    let message = driver["message"].as_str().unwrap();
    assert!(
        message.contains(">= 580")
            && message.contains("CUDA runtime 13.0")
            && message.contains("535.183.01"),
        "{message}"
    );
    let arch = arch.expect("no CUDA 13 library has sm_70 kernels");
    let message = arch["message"].as_str().unwrap();
    assert!(message.contains("V100 (sm_70)"), "{message}");
    assert!(!message.contains("A100"), "{message}");
    assert!(message.contains("sm_75"), "{message}");

    // PTX for sm_121 (curand) does not rescue a GPU older than it, whatever the driver.
    let (_, arch) = fleet_findings(
        dir.path(),
        &bom,
        "driver = \"595.45.04\"\ngpus = [\"sm_70\"]",
    );
    assert!(arch.is_some());

    // A GPU name gpubom does not know is one clear error, exit 2.
    let out = check_with_fleet(dir.path(), &bom, "gpus = [\"A10G\"]", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("sm_86"), "{}", stderr(&out));
}

/// NVIDIA's forward compatibility: a `cuda-compat-13-0` package in the image lets the CUDA
/// 13.0 runtime run on the R535 and R570 branches, on data center GPUs only (CUDA
/// Compatibility guide). The runtime is the real libcudart 13.0.96; the package is a
/// synthetic dpkg status entry.
#[test]
fn cuda_compat_lets_cuda_13_run_on_r535_data_center_fleets_synthetic_status() {
    let test = "cuda_compat_lets_cuda_13_run_on_r535_data_center_fleets_synthetic_status";
    let Some(cudart) = real_cudart_13(test) else {
        return;
    };
    let status = "Package: cuda-compat-13-0\nStatus: install ok installed\n\
                  Architecture: amd64\nVersion: 580.65.06-1\n\n";
    let spec = gpubom_testkit::image::ImageSpec::new("example.com/synthetic/cuda13-compat", "1")
        .layer(
            gpubom_testkit::image::Layer::new()
                .file("etc/os-release", "ID=ubuntu\nVERSION_ID=\"24.04\"\n")
                .file("var/lib/dpkg/status", status)
                .file(
                    "usr/local/cuda-13.0/lib64/libcudart.so.13.0.96",
                    cudart.clone(),
                ),
        );
    let dir = tmp();
    let bom = scan_to_sbom(&spec, dir.path());
    let driver_finding = |fleet: &str| fleet_findings(dir.path(), &bom, fleet).0;
    assert!(driver_finding("driver = \"535.183.01\"\ngpus = [\"A100\", \"H100\"]").is_none());
    // A GeForce card in the fleet: forward compatibility does not apply to it.
    assert!(driver_finding("driver = \"535.183.01\"\ngpus = [\"A100\", \"RTX 4090\"]").is_some());
    // R550 is not a branch cuda-compat-13-0 supports.
    assert!(driver_finding("driver = \"550.54.14\"\ngpus = [\"A100\"]").is_some());
}

/// A framework build's device code rolls up onto its package: the real JAX CUDA 12 plugin
/// wheel (0.10.2), whose extension modules have no `lib` prefix. The expected sets are read
/// from the fatbin entry headers of the same bytes (no `cuobjdump` listing was recorded).
#[test]
fn the_jax_cuda_plugin_carries_its_extensions_architectures() {
    let test = "the_jax_cuda_plugin_carries_its_extensions_architectures";
    let Some(layer) = or_skip(test, wheel_layer(SITE, &("jax-cuda12-plugin", "0.10.2"))) else {
        return;
    };
    let spec = gpubom_testkit::image::ImageSpec::new("example.com/synthetic/jax", "1").layer(layer);
    let dir = tmp();
    let bom_path = scan_to_sbom(&spec, dir.path());
    let bom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bom_path).unwrap()).unwrap();
    let jax = find_component(&bom, "jax-cuda12-plugin").expect("the plugin wheel");
    assert_eq!(property(jax, "gpubom:nvidia:family"), Some("jax-cuda"));
    assert_eq!(
        property(jax, "gpubom:nvidia:sm_archs"),
        Some("sm_50,sm_60,sm_70,sm_80,sm_90,sm_100,sm_101,sm_120")
    );
    assert_eq!(property(jax, "gpubom:nvidia:ptx_archs"), Some("sm_120"));
    // V100, H100 and L4 all have SASS (sm_70, sm_90, sm_80 on 8.9); a Kepler GPU has none.
    let (_, arch) = fleet_findings(dir.path(), &bom_path, "gpus = [\"V100\", \"H100\", \"L4\"]");
    assert!(arch.is_none(), "{arch:?}");
    let (_, arch) = fleet_findings(dir.path(), &bom_path, "gpus = [\"sm_35\"]");
    let message = arch.expect("no kernels for sm_35")["message"].to_string();
    assert!(message.contains("jax-cuda12-plugin"), "{message}");
}
