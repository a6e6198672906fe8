//! Device code wherever it is: framework extension modules, auditwheel-bundled NVIDIA
//! libraries, NCCL's relocatable fatbins, CUDA 13 builds without a runtime beside them, and
//! standalone cubins and fatbins. Every expected set is NVIDIA's own `cuobjdump --all-fatbin`
//! on the same bytes (`tests/fixtures/cuobjdump/pypi/`, turned into `pypi.tsv` by
//! `scripts/cuobjdump.py table`); the sha256 of each file is checked first.

mod common;

use common::*;
use gpubom_testkit::real;
use std::collections::BTreeMap;
use std::path::Path;

/// The wheels, by exact version (sizes on PyPI: xformers 3.3 MB, ctboost 5.1 MB,
/// cupy-cuda13x 70 MB, faiss-gpu-cu12 48 MB; the NCCL and NVSHMEM wheels other tests use).
const WHEELS: &[(&str, &str)] = &[
    ("xformers", "0.0.35"),
    ("ctboost", "0.1.62"),
    ("cupy-cuda13x", "14.2.0"),
    ("faiss-gpu-cu12", "1.14.1.post1"),
    ("nvidia-nccl-cu13", "2.28.9"),
    ("nvidia-nvshmem-cu13", "3.4.5"),
];

/// One row of `tests/fixtures/cuobjdump/pypi.tsv`.
struct Listed {
    member: String,
    sha256_16: String,
    sass: String,
    ptx: String,
}

/// `cuobjdump`'s architectures per source (`xformers==0.0.35`, `extracted`), as gpubom
/// writes lists: comma-separated, empty for none.
fn cuobjdump_table() -> BTreeMap<String, Vec<Listed>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cuobjdump/pypi.tsv");
    let list = |field: &str| {
        if field == "-" {
            String::new()
        } else {
            field.replace(' ', ",")
        }
    };
    let mut out: BTreeMap<String, Vec<Listed>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        out.entry(f[0].to_string()).or_default().push(Listed {
            member: f[1].to_string(),
            sha256_16: f[2].to_string(),
            sass: list(f[3]),
            ptx: list(f[4]),
        });
    }
    out
}

/// The wheels installed into `root` as pip would, their members checked against the
/// sha256 `cuobjdump` listed.
fn install(root: &Path) -> Result<(), String> {
    let table = cuobjdump_table();
    for (name, version) in WHEELS {
        let wheel = real::pypi_wheel(name, version)?;
        let files: BTreeMap<String, Vec<u8>> = real::wheel_files(&wheel)?.into_iter().collect();
        for listed in &table[&format!("{name}=={version}")] {
            let bytes = files
                .get(&listed.member)
                .expect("listed member in the wheel");
            assert!(
                sha256_hex(bytes).starts_with(&listed.sha256_16),
                "{name} {version}: {} is not the file cuobjdump listed",
                listed.member
            );
        }
        for (member, bytes) in files {
            let path = root.join(SITE).join(member);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
    Ok(())
}

/// Comma-separated architectures, merged and ordered as gpubom writes them.
fn union(lists: &[&str]) -> String {
    let all: Vec<&str> = lists.iter().flat_map(|l| l.split(',')).collect();
    let mut archs: Vec<&str> = all.into_iter().filter(|a| !a.is_empty()).collect();
    archs.sort_by_key(|a| {
        let digits: String = a.chars().filter(char::is_ascii_digit).collect();
        (digits.parse::<u32>().unwrap(), a.to_string())
    });
    archs.dedup();
    archs.join(",")
}

/// The wheels installed in one directory and scanned, once for all the tests of this file
/// (about 330 MB of files): the directory (holding `bom.json`) and the SBOM.
fn scanned(test: &str) -> Option<&'static (tempfile::TempDir, serde_json::Value)> {
    static SCANNED: std::sync::OnceLock<Result<(tempfile::TempDir, serde_json::Value), String>> =
        std::sync::OnceLock::new();
    let scanned = SCANNED.get_or_init(|| {
        let dir = tmp();
        let root = dir.path().join("root");
        install(&root)?;
        let bom = dir.path().join("bom.json");
        let out = run(&[
            "scan",
            root.to_str().unwrap(),
            "-o",
            &format!("cyclonedx-json={}", bom.display()),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let json = serde_json::from_slice(&std::fs::read(&bom).unwrap()).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        Ok((dir, json))
    });
    or_skip(test, scanned.as_ref().map_err(String::clone))
}

fn component<'a>(bom: &'a serde_json::Value, purl: &str) -> &'a serde_json::Value {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purl"].as_str().is_some_and(|p| p.starts_with(purl)))
        .unwrap_or_else(|| panic!("no component {purl}"))
}

#[test]
fn every_file_with_device_code_rolls_up_onto_its_wheel_and_equals_cuobjdump() {
    let test = "every_file_with_device_code_rolls_up_onto_its_wheel_and_equals_cuobjdump";
    let Some((_, bom)) = scanned(test) else {
        return;
    };
    let table = cuobjdump_table();
    for (name, version) in WHEELS {
        let rows = &table[&format!("{name}=={version}")];
        let wheel = component(bom, &format!("pkg:pypi/{name}@{version}"));
        let with_code: Vec<&Listed> = rows
            .iter()
            .filter(|l| !l.sass.is_empty() || !l.ptx.is_empty())
            .collect();
        let sass: Vec<&str> = with_code.iter().map(|l| l.sass.as_str()).collect();
        let ptx: Vec<&str> = with_code.iter().map(|l| l.ptx.as_str()).collect();
        assert_eq!(
            property(wheel, "gpubom:nvidia:sm_archs").unwrap_or(""),
            union(&sass),
            "SASS of {name}"
        );
        assert_eq!(
            property(wheel, "gpubom:nvidia:ptx_archs").unwrap_or(""),
            union(&ptx),
            "PTX of {name}"
        );
        let mut files: Vec<String> = with_code
            .iter()
            .map(|l| format!("/{SITE}/{}", l.member))
            .collect();
        files.sort();
        assert_eq!(
            property(wheel, "gpubom:nvidia:device_code_files").unwrap_or(""),
            files.join(","),
            "files of {name}"
        );
        // Relocatable fatbins are kernels (NCCL keeps 127 of its 143 containers there).
        assert_eq!(
            property(wheel, "gpubom:nvidia:fatbins_elsewhere"),
            None,
            "{name}"
        );
    }
}

#[test]
fn an_auditwheel_renamed_cuda_runtime_is_recognised_and_bundled_by_its_wheel() {
    let test = "an_auditwheel_renamed_cuda_runtime_is_recognised_and_bundled_by_its_wheel";
    let Some((_, bom)) = scanned(test) else {
        return;
    };
    // ctboost 0.1.62 ships `ctboost.libs/libcudart-c3a75b33.so.12.8.90`, SONAME the same.
    let runtime = component(bom, "pkg:generic/nvidia/cuda-runtime@");
    assert_eq!(runtime["version"], "12.8.90");
    assert_eq!(
        property(runtime, "gpubom:bundled_by"),
        Some("pkg:pypi/ctboost@0.1.62")
    );
    assert_eq!(
        property(runtime, "gpubom:nvidia:min_driver"),
        Some("525.60.13")
    );
    let ctboost = component(bom, "pkg:pypi/ctboost@");
    assert_eq!(
        property(ctboost, "gpubom:nvidia:min_driver_reason"),
        Some(
            format!(
                "libcudart-c3a75b33.so.12.8.90 needed by /{SITE}/ctboost/_core.cpython-311-x86_64-linux-gnu.so"
            )
            .as_str()
        )
    );
}

#[test]
fn cuda_13_builds_need_driver_580_whatever_says_so() {
    let test = "cuda_13_builds_need_driver_580_whatever_says_so";
    let Some((_, bom)) = scanned(test) else {
        return;
    };
    // CuPy for CUDA 13 neither bundles nor links a runtime: its PTX ISA 9.2 is CUDA 13's.
    let cupy = component(bom, "pkg:pypi/cupy-cuda13x@");
    assert_eq!(property(cupy, "gpubom:nvidia:min_driver"), Some("580"));
    let reason = property(cupy, "gpubom:nvidia:min_driver_reason").unwrap();
    assert!(
        reason.starts_with("PTX ISA 9.2 in /") && reason.ends_with("written by CUDA 13"),
        "{reason}"
    );
    // xformers links libcudart.so.12: CUDA 12's floor.
    let xformers = component(bom, "pkg:pypi/xformers@");
    assert_eq!(
        property(xformers, "gpubom:nvidia:min_driver_reason"),
        Some(format!("libcudart.so.12 needed by /{SITE}/xformers/_C.so").as_str())
    );
    assert_eq!(
        property(xformers, "gpubom:nvidia:min_driver"),
        Some("525.60.13")
    );
}

/// V100, T4, A100 and H100 on driver 535: the findings are exactly the true ones, from the
/// cuobjdump sets above and NVIDIA's compatibility rules (SASS sm_XY runs on sm_XZ, Z ≥ Y;
/// `a` only on its own architecture; PTX JITs forward on a driver that knows its ISA).
#[test]
fn the_fleet_check_raises_exactly_the_true_findings_naming_files_and_sources() {
    let test = "the_fleet_check_raises_exactly_the_true_findings_naming_files_and_sources";
    let Some((dir, _)) = scanned(test) else {
        return;
    };
    let bom = dir.path().join("bom.json");
    let config = dir.path().join("fleet.toml");
    std::fs::write(
        &config,
        "[fleet]\ndriver = \"535.183.01\"\ngpus = [\"V100\", \"T4\", \"A100\", \"H100\"]\n",
    )
    .unwrap();
    let out = run(&[
        "check",
        "--sbom",
        bom.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "-f",
        "json",
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", stderr(&out)));
    let findings = |rule: &str| -> BTreeMap<String, String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| {
                (
                    f["subject"]["name"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let arch = findings("gpu-architecture-unsupported");
    let names: Vec<&str> = arch.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "cupy-cuda13x",
            "faiss-gpu-cu12",
            "nvidia-nccl-cu13",
            "nvidia-nvshmem-cu13",
            "xformers"
        ],
        "{arch:#?}"
    );
    let no_kernels_for = |name: &str, gpu: &str, file: &str| {
        let message = &arch[name];
        assert!(
            message.contains(&format!("has no kernels for {gpu} in ")) && message.contains(file),
            "{message}"
        );
    };
    // sm_75 and up: nothing runs on Volta.
    no_kernels_for("xformers", "V100 (sm_70)", "/xformers/_C.so");
    no_kernels_for(
        "cupy-cuda13x",
        "V100 (sm_70)",
        "/cupy/cuda/cub.cpython-311-x86_64-linux-gnu.so",
    );
    no_kernels_for(
        "nvidia-nccl-cu13",
        "V100 (sm_70)",
        "/nvidia/nccl/lib/libnccl.so.2",
    );
    no_kernels_for(
        "nvidia-nvshmem-cu13",
        "V100 (sm_70)",
        "/nvidia/nvshmem/lib/libnvshmem_host.so.3",
    );
    // sm_70 and sm_80 SASS, no PTX: nothing runs on Hopper.
    no_kernels_for(
        "faiss-gpu-cu12",
        "H100 (sm_90)",
        "/faiss_gpu_cu12.libs/libfaiss-6b43fd57.so",
    );
    // CUDA 13 builds need driver 580; the CUDA 12 ones (xformers, ctboost, faiss) run on 535.
    let driver = findings("driver-too-old-for-image");
    let names: Vec<&str> = driver.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["cupy-cuda13x", "nvidia-nccl-cu13", "nvidia-nvshmem-cu13"],
        "{driver:#?}"
    );
    for (name, isa, file) in [
        ("cupy-cuda13x", "9.2", "/cupy/"),
        ("nvidia-nccl-cu13", "9.0", "/nvidia/nccl/lib/libnccl.so.2"),
        (
            "nvidia-nvshmem-cu13",
            "9.0",
            "/nvidia/nvshmem/lib/libnvshmem_host.so.3",
        ),
    ] {
        let message = &driver[name];
        assert!(
            message.contains(">= 580 (PTX ISA ")
                && message.contains(&format!("PTX ISA {isa} in /"))
                && message.contains(file),
            "{message}"
        );
    }
}

/// Real cubins and a real fatbin: two cubins `cuobjdump -xelf` extracted (committed), and
/// the `.nv_fatbin` section of xformers 0.0.35's `_C.so`, cut from the fetched wheel.
#[test]
fn standalone_cubins_and_fatbins_are_device_code_too() {
    let test = "standalone_cubins_and_fatbins_are_device_code_too";
    let Some(wheel) = or_skip(test, real::pypi_wheel("xformers", "0.0.35")) else {
        return;
    };
    let Some(members) = or_skip(test, wheel_members(&wheel, &["xformers/_C.so"])) else {
        return;
    };
    let library = &members[0].1;
    // `.nv_fatbin` of that file (readelf -S: offset 0x1c8e20, size 0x7f1c50).
    let fatbin = &library[0x1c8e20..0x1c8e20 + 0x7f1c50];
    let dir = tmp();
    let root = dir.path().join("root/opt/kernels");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("xformers-0.0.35-_C.so.nv_fatbin.fatbin"), fatbin).unwrap();
    let cubins = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cuobjdump/cubins");
    for entry in std::fs::read_dir(&cubins).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), root.join(entry.file_name())).unwrap();
    }
    let bom = scan_json(&dir.path().join("root").display().to_string());
    for listed in &cuobjdump_table()["extracted"] {
        let file = format!("/opt/kernels/{}", listed.member);
        let c = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| property(c, "gpubom:nvidia:device_code_files") == Some(file.as_str()))
            .unwrap_or_else(|| panic!("no component for {file}"));
        assert!(
            c["hashes"][0]["content"]
                .as_str()
                .unwrap()
                .starts_with(&listed.sha256_16),
            "{file} is not the file cuobjdump listed"
        );
        assert_eq!(
            property(c, "gpubom:nvidia:sm_archs").unwrap_or(""),
            listed.sass,
            "{file}"
        );
        assert_eq!(
            property(c, "gpubom:nvidia:ptx_archs").unwrap_or(""),
            listed.ptx,
            "{file}"
        );
    }
}
