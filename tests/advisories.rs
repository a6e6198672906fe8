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
    assert_eq!(
        torch_advisories(&old, &pysec()).as_deref(),
        Some("PYSEC-2022-43015")
    );
    assert_eq!(torch_advisories(&new, &pysec()), None);

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
            && text.contains("8 advisory(ies) loaded; built-in data of 2026-11-25"),
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
    validate_cyclonedx_1_5(&bom);
    let vulnerability = &bom["vulnerabilities"][0];
    assert_eq!(vulnerability["id"], "PYSEC-2022-43015");
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
    assert!(at("\nVulnerable (1)") < at("\nPackages ("), "{table}");
    assert!(
        table.contains("torch 1.12.1  PYSEC-2022-43015 (unrated, fixed in 1.13.1)"),
        "{table}"
    );

    // An OpenVEX statement by alias: kept, with its justification, but no longer counted.
    let vex = dir.path().join("vex.json");
    std::fs::write(
        &vex,
        serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [{
                "vulnerability": {"name": "CVE-2022-45907"},
                "products": [{"@id": "pkg:pypi/torch"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "TorchScript is never used (synthetic statement)"
            }]
        })
        .to_string(),
    )
    .unwrap();
    let bom: serde_json::Value = serde_json::from_slice(&scan(&[
        "-f",
        "cyclonedx-json",
        "--vex",
        vex.to_str().unwrap(),
    ]))
    .unwrap();
    validate_cyclonedx_1_5(&bom);
    let analysis = &bom["vulnerabilities"][0]["analysis"];
    assert_eq!(analysis["state"], "not_affected");
    assert!(analysis["detail"]
        .as_str()
        .unwrap()
        .starts_with("vulnerable_code_not_in_execute_path: TorchScript is never used"));
    let torch = find_component(&bom, "torch").unwrap();
    assert_eq!(property(torch, "gpubom:advisories"), None);
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
    assert!(
        finding_of(&report, "component-known-advisory").is_none(),
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
    assert_eq!(
        ids,
        "GPUBOM-NVIDIA-2024-0132,GPUBOM-NVIDIA-2024-0133,GPUBOM-NVIDIA-2024-0134,\
         GPUBOM-NVIDIA-2024-0135,GPUBOM-NVIDIA-2024-0136,GPUBOM-NVIDIA-2024-0137,\
         GPUBOM-NVIDIA-2025-23359"
    );
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
    // 1.16.2 fixes 0132 and 0133 only; 1.17.4 fixes everything listed.
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
    let fixed = scan("1.17.4-1");
    assert_eq!(
        property(
            find_component(&fixed, "nvidia-container-toolkit").unwrap(),
            "gpubom:advisories"
        ),
        None
    );
}
