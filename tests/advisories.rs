//! `--advisories`: OSV records matched against an image by identity and
//! ecosystem order, feeding the SBOM and the `component-known-advisory` rule.
//! The advisory is a real PyPA record; the image's torch metadata is synthetic.

mod common;

use common::*;
use gpubom_testkit::image::{ImageSpec, Layer};
use std::path::{Path, PathBuf};

fn pysec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories/PYSEC-2022-43015.json")
}

/// An OCI layout holding torch `version` as pip installs its metadata.
fn torch_image(dir: &Path, version: &str) -> String {
    let spec = ImageSpec::new("example.com/synthetic/torch", version).layer(Layer::new().file(
        &format!("{SITE}/torch-{version}.dist-info/METADATA"),
        format!("Metadata-Version: 2.1\nName: torch\nVersion: {version}\n"),
    ));
    let oci = dir.join(version);
    spec.write_oci_dir(&oci);
    format!("oci-dir:{}", oci.display())
}

/// `spec` written as an OCI layout at `at`, scanned with the built-in advisories only.
fn scan_layout(spec: &ImageSpec, at: &Path) -> serde_json::Value {
    spec.write_oci_dir(at);
    let source = format!("oci-dir:{}", at.display());
    let out = run(&["scan", &source, "-f", "cyclonedx-json", "-q"]);
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn torch_advisories(source: &str, advisories: &Path) -> Option<String> {
    let out = run(&[
        "scan",
        source,
        "--advisories",
        advisories.to_str().unwrap(),
        "-f",
        "cyclonedx-json",
        "-q",
    ]);
    assert_exit(&out, 0);
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let torch = find_component(&bom, "torch").expect("torch is found");
    property(torch, "gpubom:advisories").map(str::to_owned)
}

#[test]
fn a_real_pypa_record_matches_by_pep440_order() {
    let dir = tmp();
    // Fixed in 1.13.1: 1.12.1 is affected, 2.1.2 is not.
    let old = torch_image(dir.path(), "1.12.1");
    let new = torch_image(dir.path(), "2.1.2");
    let on_old = torch_advisories(&old, &pysec()).unwrap_or_default();
    assert!(
        on_old.split(',').any(|id| id == "PYSEC-2022-43015"),
        "{on_old}"
    );
    let on_new = torch_advisories(&new, &pysec()).unwrap_or_default();
    assert!(!on_new.contains("PYSEC-2022-43015"), "{on_new}");

    // The gate's rule fires on it, naming the advisory.
    let out = run(&[
        "check",
        &old,
        "--advisories",
        pysec().to_str().unwrap(),
        "-f",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding =
        finding_of(&report, "component-known-advisory").unwrap_or_else(|| panic!("{report}"));
    assert!(finding["message"]
        .as_str()
        .unwrap()
        .contains("PYSEC-2022-43015"));

    // `advisories list` says what is loaded and from where.
    let out = run(&[
        "advisories",
        "list",
        "--advisories",
        pysec().to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PYSEC-2022-43015 (CVE-2022-45907): pkg:pypi/torch")
            && text.contains("GPUBOM-NVIDIA-2024-0132 (CVE-2024-0132)")
            && text.contains("36 advisory(ies) loaded; built-in data of 2026-11-26")
            // The user's copy replaces the built-in record of the same id.
            && !text.contains("built-in:advisories/pytorch/PYSEC-2022-43015.json"),
        "{text}"
    );
}

#[test]
fn an_advisory_file_with_a_bad_range_is_exit_2_synthetic() {
    let dir = tmp();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"id":"SYNTHETIC-BAD","affected":[{"package":{"ecosystem":"PyPI","name":"torch"},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"two point six"}]}]}]}"#,
    )
    .unwrap();
    let source = torch_image(dir.path(), "2.1.2");
    let out = run(&["scan", &source, "--advisories", bad.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.json") && err.contains("SYNTHETIC-BAD") && err.contains("two point six"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn the_sbom_lists_the_vulnerability_and_vex_suppresses_it() {
    let dir = tmp();
    let source = torch_image(dir.path(), "1.12.1");
    let advisories = pysec();
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            &source,
            "--advisories",
            advisories.to_str().unwrap(),
            "-q",
        ];
        args.extend(extra);
        let out = run(&args);
        assert_exit(&out, 0);
        out.stdout
    };
    let bom: serde_json::Value = serde_json::from_slice(&scan(&["-f", "cyclonedx-json"])).unwrap();
    validate_cyclonedx(&bom);
    let pysec_2022 = |bom: &serde_json::Value| -> serde_json::Value {
        bom["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == "PYSEC-2022-43015")
            .cloned()
            .unwrap_or_else(|| panic!("{bom}"))
    };
    let vulnerability = &pysec_2022(&bom);
    assert_eq!(vulnerability["source"]["name"], "PyPA Advisory Database");
    assert_eq!(vulnerability["recommendation"], "upgrade torch to 1.13.1");
    let torch = find_component(&bom, "torch").unwrap();
    assert_eq!(vulnerability["affects"][0]["ref"], torch["bom-ref"]);

    // The table puts vulnerable components first.
    let table = String::from_utf8(scan(&["-f", "table"])).unwrap();
    let at = |section: &str| {
        table
            .find(section)
            .unwrap_or_else(|| panic!("{section}: {table}"))
    };
    assert!(at("\nVulnerable (") < at("\nPackages ("), "{table}");
    assert!(
        table.contains("PYSEC-2022-43015 (unrated, fixed in 1.13.1)"),
        "{table}"
    );

    // An OpenVEX statement by alias: kept, with its justification, but no longer counted.
    let vex = openvex_not_affected(
        dir.path(),
        "CVE-2022-45907",
        "pkg:pypi/torch",
        "TorchScript is never used (synthetic statement)",
    );
    let bom: serde_json::Value = serde_json::from_slice(&scan(&[
        "-f",
        "cyclonedx-json",
        "--vex",
        vex.to_str().unwrap(),
    ]))
    .unwrap();
    validate_cyclonedx(&bom);
    let analysis = &pysec_2022(&bom)["analysis"];
    assert_eq!(analysis["state"], "not_affected");
    assert!(analysis["detail"]
        .as_str()
        .unwrap()
        .starts_with("vulnerable_code_not_in_execute_path: TorchScript is never used"));
    let torch = find_component(&bom, "torch").unwrap();
    let still = property(torch, "gpubom:advisories").unwrap_or_default();
    assert!(!still.contains("PYSEC-2022-43015"), "{still}");
    let out = run(&[
        "check",
        &source,
        "--advisories",
        advisories.to_str().unwrap(),
        "--vex",
        vex.to_str().unwrap(),
        "-f",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = finding_of(&report, "component-known-advisory").map(|f| f["message"].to_string());
    assert!(
        !finding.unwrap_or_default().contains("PYSEC-2022-43015"),
        "{report}"
    );
}

/// An image whose dpkg database says `package` `version` is installed (the
/// package's files are left out: the advisory is about the installed version).
fn dpkg_image(dir: &Path, package: &str, version: &str) -> String {
    let status = format!(
        "Package: {package}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n\n"
    );
    let spec = ImageSpec::new("example.com/synthetic/gpu-host-tools", "1").layer(
        Layer::new()
            .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
            .file("var/lib/dpkg/status", status),
    );
    let oci = dir.join(format!("{package}-{version}"));
    spec.write_oci_dir(&oci);
    format!("oci-dir:{}", oci.display())
}

#[test]
fn the_built_in_nvidia_bulletins_cover_the_container_toolkit_deb_synthetic() {
    let dir = tmp();
    let scan = |version: &str| -> serde_json::Value {
        let source = dpkg_image(dir.path(), "nvidia-container-toolkit", version);
        let out = run(&["scan", &source, "-f", "cyclonedx-json", "-q"]);
        assert_exit(&out, 0);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let vulnerable = scan("1.16.1-1");
    let toolkit = find_component(&vulnerable, "nvidia-container-toolkit").unwrap();
    let ids = property(toolkit, "gpubom:advisories").unwrap_or_default();
    assert_eq!(ids, TOOLKIT_1_16_1_ADVISORIES.join(","));
    let cve = vulnerable["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "GPUBOM-NVIDIA-2024-0132")
        .unwrap();
    assert_eq!(
        cve["advisories"][0]["url"],
        "https://nvidia.custhelp.com/app/answers/detail/a_id/5582"
    );
    assert_eq!(
        cve["recommendation"],
        "upgrade nvidia-container-toolkit to 1.16.2"
    );
    // 1.16.2 fixes 0132 and 0133 only; 1.19.1 fixes everything listed.
    let partly = scan("1.16.2-1");
    let ids = property(
        find_component(&partly, "nvidia-container-toolkit").unwrap(),
        "gpubom:advisories",
    )
    .unwrap_or_default()
    .to_string();
    assert!(
        !ids.contains("2024-0132") && ids.contains("2024-0134"),
        "{ids}"
    );
    let fixed = scan("1.19.1-1");
    assert_eq!(
        property(
            find_component(&fixed, "nvidia-container-toolkit").unwrap(),
            "gpubom:advisories"
        ),
        None
    );
}

/// Every built-in Container Toolkit record covers 1.16.1 (NVIDIA bulletins 5582 to 5850).
const TOOLKIT_1_16_1_ADVISORIES: &[&str] = &[
    "GPUBOM-NVIDIA-2024-0132",
    "GPUBOM-NVIDIA-2024-0133",
    "GPUBOM-NVIDIA-2024-0134",
    "GPUBOM-NVIDIA-2024-0135",
    "GPUBOM-NVIDIA-2024-0136",
    "GPUBOM-NVIDIA-2024-0137",
    "GPUBOM-NVIDIA-2025-23266",
    "GPUBOM-NVIDIA-2025-23267",
    "GPUBOM-NVIDIA-2025-23359",
    "GPUBOM-NVIDIA-2026-24260",
];

/// The issue's image: torch 2.1.2 from pip, nvidia-container-toolkit 1.16.1 from dpkg, and a
/// bare TensorRT 10.3 library (synthetic ELF: the real libnvinfer is not on any registry
/// reachable here) with the version symbol TensorRT compiles in. Built-in data only, offline.
#[test]
fn an_image_of_torch_toolkit_and_bare_tensorrt_lists_exactly_the_expected_advisories_synthetic() {
    let status = "Package: nvidia-container-toolkit\nStatus: install ok installed\n\
                  Architecture: amd64\nVersion: 1.16.1-1\n\n";
    let spec = ImageSpec::new("example.com/synthetic/trt-serving", "1")
        .layer(
            Layer::new()
                .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
                .file("var/lib/dpkg/status", status),
        )
        .layer(Layer::new().file(
            &format!("{SITE}/torch-2.1.2.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: torch\nVersion: 2.1.2\n",
        ))
        .layer(Layer::new().file(
            "usr/lib/x86_64-linux-gnu/libnvinfer.so.10.3.0",
            gpubom_testkit::elf::synthetic_shared_object(
                "libnvinfer.so.10",
                &["tensorrt_version_10_3_0_26"],
            ),
        ));
    let dir = tmp();
    let bom = scan_layout(&spec, &dir.path().join("oci"));
    validate_cyclonedx(&bom);
    let ids_of = |name: &str| -> Vec<String> {
        let c = find_component(&bom, name).unwrap_or_else(|| panic!("no {name}"));
        property(c, "gpubom:advisories")
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect()
    };
    // CVE-2025-32434 (fixed 2.6.0) and the three fixed in 2.2.0; not CVE-2022-45907 (1.13.1).
    assert_eq!(
        ids_of("torch"),
        [
            "GHSA-5pcm-hx3q-hm94",
            "GHSA-pg7h-5qx3-wjr3",
            "PYSEC-2024-250",
            "PYSEC-2025-41"
        ]
    );
    assert_eq!(
        ids_of("nvidia-container-toolkit"),
        TOOLKIT_1_16_1_ADVISORIES
    );
    // Bulletin 5836 (before 10.16.1) and bulletin 5855 (through 10.16.1).
    assert_eq!(
        ids_of("tensorrt"),
        [
            "GPUBOM-NVIDIA-2026-24188",
            "GPUBOM-NVIDIA-2026-24227",
            "GPUBOM-NVIDIA-2026-24238",
            "GPUBOM-NVIDIA-2026-24268",
            "GPUBOM-NVIDIA-2026-24272"
        ]
    );
    let vulnerabilities = bom["vulnerabilities"].as_array().unwrap();
    assert_eq!(
        vulnerabilities.len(),
        4 + TOOLKIT_1_16_1_ADVISORIES.len() + 5
    );
    for v in vulnerabilities {
        assert!(!v["advisories"].as_array().unwrap().is_empty(), "{v}");
        assert!(v["affects"].as_array().is_some_and(|a| a.len() == 1), "{v}");
    }
    let torch_rce = vulnerabilities
        .iter()
        .find(|v| v["id"] == "PYSEC-2025-41")
        .unwrap();
    assert_eq!(torch_rce["recommendation"], "upgrade torch to 2.6.0");
    assert_eq!(torch_rce["ratings"][0]["severity"], "critical");
}

/// NVIDIA's Triton images declare their container release (Triton's `build.py` sets
/// `NVIDIA_TRITON_SERVER_VERSION`), which is how NVIDIA's bulletins version Triton.
#[test]
fn a_triton_image_is_matched_by_its_container_release_synthetic_env() {
    let dir = tmp();
    let scan = |release: &str| -> Option<String> {
        let spec = ImageSpec::new("example.com/synthetic/tritonserver", release)
            .env(&format!("NVIDIA_TRITON_SERVER_VERSION={release}"))
            .env("TRITON_SERVER_VERSION=2.59.0")
            .layer(Layer::new().file("opt/tritonserver/README", "synthetic"));
        let bom = scan_layout(&spec, &dir.path().join(release));
        let triton = find_component(&bom, "triton-server").expect("triton-server");
        assert_eq!(
            triton["purl"],
            format!("pkg:generic/nvidia/triton-server@{release}")
        );
        property(triton, "gpubom:advisories").map(str::to_owned)
    };
    assert_eq!(
        scan("25.06").as_deref(),
        Some(
            "GPUBOM-NVIDIA-2025-23310,GPUBOM-NVIDIA-2025-23311,GPUBOM-NVIDIA-2025-23316,\
             GPUBOM-NVIDIA-2025-23317,GPUBOM-NVIDIA-2026-24207,GPUBOM-NVIDIA-2026-47627"
        )
    );
    // 25.07 fixes three of them; 26.06 all.
    assert_eq!(
        scan("25.07").as_deref(),
        Some("GPUBOM-NVIDIA-2025-23316,GPUBOM-NVIDIA-2026-24207,GPUBOM-NVIDIA-2026-47627")
    );
    assert_eq!(scan("26.06"), None);
}

/// A range whose versions no one order covers (PEP 440 mixed with others) is
/// refused, naming the file and the advisory, where sorting it once panicked.
#[test]
fn an_advisory_range_mixing_version_orders_is_exit_2_not_a_panic_synthetic() {
    let dir = tmp();
    let mixed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/advisories/hostile/mixed-orders.json");
    let source = torch_image(dir.path(), "2.1.2");
    let out = run(&["check", &source, "--advisories", mixed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("gpubom: error: ")
            && err.contains("mixed-orders.json")
            && err.contains("SYNTHETIC-MIXED")
            && err.contains("cannot be ordered"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
