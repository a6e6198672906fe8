//! `gpubom check --sbom`: everything that can apply to an SBOM applies
//! (advisories, VEX, the rule pack), what cannot is refused, and what the SBOM
//! does not record is reported as not checked. The Syft and Trivy SBOMs are
//! real (tests/fixtures/foreign-sboms/README.md says how they were made).

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn foreign(tool: &str) -> String {
    fixture(&format!("foreign-sboms/demo.{tool}.cdx.json"))
        .display()
        .to_string()
}

const NO_CONFIG: &str =
    "this SBOM records no image config; check the image itself (gpubom check IMAGE)";
const NO_SIGNATURES: &str = "this SBOM records no signature lookup; check the pushed reference (gpubom check REF --key cosign.pub)";
// Both name the image by the archive's file name; Trivy would add RepoTag had it read a registry.
const NO_REFERENCE: &str = "this SBOM does not say whether it names the image by a registry reference or by a file; check the reference itself (gpubom check REF)";

#[test]
fn real_syft_and_trivy_sboms_of_a_root_image_with_ssh_and_jupyter_say_what_they_lack() {
    let dir = tmp();
    for tool in ["syft", "trivy"] {
        let sbom = foreign(tool);
        let out = run_in(dir.path(), &["check", "--sbom", &sbom, "-f", "json"]);
        // Their packages pass; what they do not record is not a pass but a "not checked".
        assert_exit(&out, 0);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["findings"], serde_json::json!([]), "{tool}");
        let items: Vec<(&str, &str)> = report["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["fact"].as_str().unwrap(), i["reason"].as_str().unwrap()))
            .collect();
        assert_eq!(
            items,
            [
                ("user", NO_CONFIG),
                ("ports", NO_CONFIG),
                ("labels", NO_CONFIG),
                ("signatures", NO_SIGNATURES),
                ("reference", NO_REFERENCE),
            ],
            "{tool}"
        );
        let out = run_in(dir.path(), &["check", "--sbom", &sbom]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.ends_with(&format!(
                "Not checked (a PASS does not cover these):\n  user, ports, labels: {NO_CONFIG}\n  signatures: {NO_SIGNATURES}\n  reference: {NO_REFERENCE}\n"
            )),
            "{tool}: {text}"
        );
        // Advisories were matched (the built-in data), and the report says against what.
        let sbom_out = dir.path().join(format!("{tool}.gpubom.cdx.json"));
        let out = run_in(
            dir.path(),
            &[
                "check",
                "--sbom",
                &sbom,
                "-o",
                &format!("cyclonedx-json={}", sbom_out.display()),
            ],
        );
        assert_exit(&out, 0);
        let bom: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&sbom_out).unwrap()).unwrap();
        validate_cyclonedx(&bom);
        let data = bom["metadata"]["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "gpubom:advisories:data")
            .unwrap_or_else(|| panic!("{bom:#}"));
        assert!(data["value"]
            .as_str()
            .unwrap()
            .starts_with("built-in data of "));
    }
}

#[test]
fn flags_that_only_apply_to_an_image_are_refused_by_name() {
    let dir = tmp();
    let file = dir.path().join("some.file");
    std::fs::write(&file, "").unwrap();
    let file = file.to_str().unwrap();
    let sbom = foreign("syft");
    for (flag, value) in [
        ("--key", Some(file)),
        ("--expect-sha256", Some(file)),
        ("--trusted-root", Some(file)),
        ("--platform", Some("linux/arm64")),
        ("--fingerprints", Some(file)),
        ("--plain-http", None),
        ("--no-cache", None),
        ("--timeout", Some("30")),
    ] {
        let mut args = vec!["check", "--sbom", &sbom, flag];
        args.extend(value);
        let out = run_in(dir.path(), &args);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!(
                "gpubom: error: {flag} cannot apply to --sbom: {flag} ("
            )),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(out.stdout.is_empty());
    }
    // Several at once are all named.
    let out = run_in(
        dir.path(),
        &[
            "check",
            "--sbom",
            &sbom,
            "--key",
            file,
            "--platform",
            "linux/amd64",
        ],
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).starts_with("gpubom: error: --platform, --key cannot apply to --sbom"),
        "{}",
        stderr(&out)
    );
}

/// A CycloneDX SBOM in the shape Syft writes, with torch 1.12.1 (synthetic content).
fn syft_shaped_torch(dir: &Path) -> String {
    let site = "/usr/local/lib/python3.11/site-packages";
    let doc = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": { "component": { "type": "container", "name": "example.com/synthetic/torch", "version": "sha256:abc" } },
        "components": [{
            "type": "library", "name": "torch", "version": "1.12.1", "purl": "pkg:pypi/torch@1.12.1",
            "properties": [{ "name": "syft:location:0:path", "value": format!("{site}/torch-1.12.1.dist-info/METADATA") }]
        }]
    });
    let path = dir.join("synthetic.syft.cdx.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path.display().to_string()
}

fn advisory_ids(report: &serde_json::Value) -> String {
    finding_of(report, "component-known-advisory")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn advisories_and_vex_apply_to_an_sbom_synthetic() {
    let dir = tmp();
    let sbom = syft_shaped_torch(dir.path());
    let pysec = fixture("advisories/PYSEC-2022-43015.json");
    let check = |extra: &[&str]| -> serde_json::Value {
        let out = run_in(
            dir.path(),
            &[&["check", "--sbom", &sbom, "-f", "json"][..], extra].concat(),
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)))
    };
    let report = check(&["--advisories", pysec.to_str().unwrap()]);
    assert!(
        advisory_ids(&report).contains("PYSEC-2022-43015"),
        "{report:#}"
    );
    // A VEX statement by its CVE alias waives it.
    let vex = openvex_not_affected(
        dir.path(),
        "CVE-2022-45907",
        "pkg:pypi/torch",
        "TorchScript is never used (synthetic statement)",
    );
    let report = check(&[
        "--advisories",
        pysec.to_str().unwrap(),
        "--vex",
        vex.to_str().unwrap(),
    ]);
    assert!(
        !advisory_ids(&report).contains("PYSEC-2022-43015"),
        "{report:#}"
    );

    // gpubom's own SBOM keeps the advisories its scan matched, and a VEX given now waives them.
    let scanned = dir.path().join("scanned.cdx.json");
    let out = run_in(
        dir.path(),
        &[
            "check",
            "--sbom",
            &sbom,
            "--advisories",
            pysec.to_str().unwrap(),
            "-o",
            &format!("cyclonedx-json={}", scanned.display()),
        ],
    );
    assert_exit(&out, 1);
    let scanned = scanned.to_str().unwrap();
    let recorded = |extra: &[&str]| {
        let out = run_in(
            dir.path(),
            &[&["check", "--sbom", scanned, "-f", "json"][..], extra].concat(),
        );
        advisory_ids(&serde_json::from_slice(&out.stdout).unwrap())
    };
    assert!(recorded(&[]).contains("PYSEC-2022-43015"));
    assert!(!recorded(&["--vex", vex.to_str().unwrap()]).contains("PYSEC-2022-43015"));
}
