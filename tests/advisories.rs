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
            && text.contains("1 advisory(ies) loaded"),
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
