//! The SBOM documents as compliance programmes read them: CycloneDX 1.6 (the
//! default) and 1.5, JSON and XML, and SPDX 2.3, each validated by the official
//! schemas or the SPDX project's own validator; the timestamp rule; advisories
//! findable by their CVE id with the bulletin's rating; SPDX license
//! expressions; and the NTIA minimum elements over gpubom's SBOM of the demo
//! image (`crates/testkit/src/demo.rs`, real Debian packages and wheels).

mod common;

use common::*;
use gpubom_testkit::image::{ImageSpec, Layer};
use std::path::Path;

/// A reproducible-builds epoch: 2023-11-14T22:13:20Z.
const EPOCH: &str = "1700000000";

/// `gpubom scan SOURCE -q ARGS…` with `SOURCE_DATE_EPOCH` set or not.
fn scan_with(source: &str, epoch: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut command = gpubom();
    command.args(["scan", source, "-q"]).args(args);
    match epoch {
        Some(epoch) => command.env("SOURCE_DATE_EPOCH", epoch),
        None => command.env_remove("SOURCE_DATE_EPOCH"),
    };
    command.output().expect("run gpubom")
}

/// The demo image as a docker archive in `dir`, or `None` (skipped) without its fixtures.
fn demo_image(test: &str, dir: &Path) -> Option<String> {
    let spec = or_skip(test, gpubom_testkit::demo::build(None))?;
    let archive = dir.join("demo.docker.tar");
    spec.write_docker_archive(&archive, gpubom_testkit::image::DockerForm::Blobs);
    Some(format!("docker-archive:{}", archive.display()))
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// An OCI layout holding torch `version` as pip installs its metadata (synthetic METADATA).
fn torch_image(dir: &Path, version: &str) -> String {
    let spec = ImageSpec::new("example.com/synthetic/torch", version).layer(Layer::new().file(
        &format!("{SITE}/torch-{version}.dist-info/METADATA"),
        format!("Metadata-Version: 2.1\nName: torch\nVersion: {version}\n"),
    ));
    let oci = dir.join(format!("torch-{version}"));
    spec.write_oci_dir(&oci);
    format!("oci-dir:{}", oci.display())
}

#[test]
fn every_format_validates_against_its_official_schema() {
    let test = "every_format_validates_against_its_official_schema";
    let dir = tmp();
    let Some(source) = demo_image(test, dir.path()) else {
        return;
    };
    let file = |name: &str| dir.path().join(name);
    let target = |format: &str, name: &str| format!("{format}={}", file(name).display());
    let out = scan_with(
        &source,
        None,
        &[
            "-o",
            &target("cyclonedx-json", "bom.cdx.json"),
            "-o",
            &target("cyclonedx-json@1.5", "bom-1.5.cdx.json"),
            "-o",
            &target("cyclonedx-xml", "bom.cdx.xml"),
            "-o",
            &target("cyclonedx-xml@1.5", "bom-1.5.cdx.xml"),
            "-o",
            &target("spdx-json", "bom.spdx.json"),
        ],
    );
    assert_exit(&out, 0);
    let v16 = read_json(&file("bom.cdx.json"));
    let v15 = read_json(&file("bom-1.5.cdx.json"));
    assert_eq!(v16["specVersion"], "1.6");
    assert_eq!(v15["specVersion"], "1.5");
    validate_cyclonedx(&v16);
    validate_cyclonedx(&v15);
    // The same facts in both versions: only the label differs.
    let mut relabelled = v15.clone();
    relabelled["specVersion"] = "1.6".into();
    assert_eq!(relabelled, v16);
    validate_cyclonedx_xml(test, &file("bom.cdx.xml"));
    validate_cyclonedx_xml(test, &file("bom-1.5.cdx.xml"));
    let xml = std::fs::read_to_string(file("bom.cdx.xml")).unwrap();
    assert!(xml.contains(r#"<bom xmlns="http://cyclonedx.org/schema/bom/1.6""#));
    validate_spdx(test, &file("bom.spdx.json"));
    let spdx = read_json(&file("bom.spdx.json"));
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    // Every component is a package (plus the subject and the OS), the model facts included.
    let components = v16["components"].as_array().unwrap().len();
    assert_eq!(spdx["packages"].as_array().unwrap().len(), components + 1);
}

#[test]
fn one_source_date_epoch_makes_two_scans_byte_identical_dir_included() {
    let dir = tmp();
    let rootfs = dir.path().join("rootfs");
    ImageSpec::new("synthetic/dir", "1")
        .layer(Layer::new().file(
            &format!("{SITE}/six-1.16.0.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n",
        ))
        .write_rootfs(&rootfs);
    let image = torch_image(dir.path(), "2.1.2");
    for source in [format!("dir:{}", rootfs.display()), image] {
        for format in ["cyclonedx-json", "spdx-json", "cyclonedx-xml"] {
            let first = scan_with(&source, Some(EPOCH), &["-f", format]);
            assert_exit(&first, 0);
            std::thread::sleep(std::time::Duration::from_millis(1100));
            let second = scan_with(&source, Some(EPOCH), &["-f", format]);
            assert_eq!(first.stdout, second.stdout, "{source} {format}");
            let text = String::from_utf8(first.stdout).unwrap();
            assert!(text.contains("2023-11-14T22:13:20Z"), "{source} {format}");
        }
    }
}

#[test]
fn without_source_date_epoch_the_timestamp_is_the_scan_s_time() {
    let dir = tmp();
    let source = torch_image(dir.path(), "2.1.2");
    let before = gpubom_inventory::time::now_or_source_date_epoch().unwrap();
    let out = scan_with(&source, None, &["-f", "cyclonedx-json"]);
    let after = gpubom_inventory::time::now_or_source_date_epoch().unwrap();
    assert_exit(&out, 0);
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stamp = bom["metadata"]["timestamp"].as_str().unwrap().to_string();
    // RFC 3339 UTC strings of one shape order as the times they name.
    assert!(
        before <= stamp && stamp <= after,
        "{before} <= {stamp} <= {after}"
    );
    // Not the image's creation time, and not an age that changes daily.
    let data = bom["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "gpubom:advisories:data")
        .unwrap();
    assert_eq!(data["value"], "built-in data of 2026-11-26");

    let bad = scan_with(&source, Some("yesterday"), &["-f", "cyclonedx-json"]);
    assert_exit(&bad, 2);
    let err = stderr(&bad);
    assert!(
        err.starts_with("gpubom: error: SOURCE_DATE_EPOCH=\"yesterday\" is not a number")
            && err.lines().count() == 1,
        "{err}"
    );
}

/// The issue's search: an SBOM of an image with torch 2.1.2 holds CVE-2025-32434,
/// through the real PyPA record PYSEC-2025-41 that gpubom carries built in
/// (advisories/pytorch/PYSEC-2025-41.json, its alias list unchanged).
#[test]
fn torch_2_1_2_is_findable_by_cve_2025_32434_in_both_formats_synthetic() {
    let dir = tmp();
    let source = torch_image(dir.path(), "2.1.2");
    let cdx = dir.path().join("bom.cdx.json");
    let spdx = dir.path().join("bom.spdx.json");
    let out = scan_with(
        &source,
        None,
        &[
            "-o",
            &format!("cyclonedx-json={}", cdx.display()),
            "-o",
            &format!("spdx-json={}", spdx.display()),
        ],
    );
    assert_exit(&out, 0);
    let bom = read_json(&cdx);
    validate_cyclonedx(&bom);
    let vulnerability = bom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["references"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["id"] == "CVE-2025-32434"))
        })
        .unwrap_or_else(|| panic!("no vulnerability is known as CVE-2025-32434: {bom}"));
    assert_eq!(vulnerability["id"], "PYSEC-2025-41");
    // CVE first, with where its record is.
    assert_eq!(
        vulnerability["references"][0],
        serde_json::json!({
            "id": "CVE-2025-32434",
            "source": { "name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2025-32434" }
        })
    );
    // The record's dates, as it gives them.
    let record: serde_json::Value =
        serde_json::from_str(include_str!("../advisories/pytorch/PYSEC-2025-41.json")).unwrap();
    assert_eq!(vulnerability["published"], record["published"]);
    assert_eq!(vulnerability["updated"], record["modified"]);

    validate_spdx("torch_2_1_2_is_findable_by_cve_2025_32434", &spdx);
    let document = read_json(&spdx);
    let torch = document["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "torch")
        .unwrap();
    assert!(
        torch["externalRefs"].as_array().unwrap().iter().any(|r| {
            r["referenceCategory"] == "SECURITY"
                && r["referenceType"] == "advisory"
                && r["referenceLocator"] == "https://nvd.nist.gov/vuln/detail/CVE-2025-32434"
        }),
        "{torch}"
    );
}

/// NVIDIA's bulletin 5582 rates CVE-2024-0132 critical, CVSS v3.1 base score 9.0;
/// the built-in record carries that rating with the bulletin as its source.
#[test]
fn the_container_toolkit_advisory_carries_the_bulletin_s_rating_synthetic() {
    let dir = tmp();
    let status = "Package: nvidia-container-toolkit\nStatus: install ok installed\n\
                  Architecture: amd64\nVersion: 1.16.1-1\n\n";
    let oci = dir.path().join("toolkit");
    ImageSpec::new("example.com/synthetic/gpu-host-tools", "1")
        .layer(
            Layer::new()
                .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
                .file("var/lib/dpkg/status", status),
        )
        .write_oci_dir(&oci);
    let out = scan_with(
        &format!("oci-dir:{}", oci.display()),
        None,
        &["-f", "cyclonedx-json"],
    );
    assert_exit(&out, 0);
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    validate_cyclonedx(&bom);
    let vulnerability = bom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "GPUBOM-NVIDIA-2024-0132")
        .unwrap();
    assert_eq!(
        vulnerability["ratings"],
        serde_json::json!([{
            "source": { "url": "https://nvidia.custhelp.com/app/answers/detail/a_id/5582" },
            "score": 9.0,
            "severity": "critical",
            "method": "CVSSv31",
            "vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H"
        }])
    );
    assert_eq!(vulnerability["references"][0]["id"], "CVE-2024-0132");
    assert_eq!(vulnerability["published"], "2024-09-25T00:00:00Z");
}

/// NTIA's minimum elements ("The Minimum Elements For a Software Bill of
/// Materials", 2021): supplier, component name, version, other unique
/// identifiers, dependency relationships, author of the SBOM data, timestamp.
#[test]
fn the_demo_image_s_sboms_carry_the_ntia_minimum_elements() {
    let test = "the_demo_image_s_sboms_carry_the_ntia_minimum_elements";
    let dir = tmp();
    let Some(source) = demo_image(test, dir.path()) else {
        return;
    };
    let cdx = dir.path().join("bom.cdx.json");
    let spdx = dir.path().join("bom.spdx.json");
    let out = scan_with(
        &source,
        None,
        &[
            "-o",
            &format!("cyclonedx-json={}", cdx.display()),
            "-o",
            &format!("spdx-json={}", spdx.display()),
        ],
    );
    assert_exit(&out, 0);

    // CycloneDX 1.6.
    let bom = read_json(&cdx);
    assert!(bom["metadata"]["timestamp"].is_string(), "timestamp");
    assert_eq!(bom["metadata"]["tools"][0]["name"], "gpubom", "author");
    let components = bom["components"].as_array().unwrap();
    let packages: Vec<&serde_json::Value> = components
        .iter()
        .filter(|c| c["purl"].is_string())
        .collect();
    assert!(packages.len() >= 6, "{}", packages.len());
    for c in &packages {
        let name = &c["name"];
        assert!(c["name"].is_string() && c["version"].is_string(), "{c}");
        // Debian packages name their maintainer, wheels their author.
        if c["purl"].as_str().unwrap().starts_with("pkg:deb/") {
            assert!(c["supplier"]["name"].is_string(), "supplier of {name}");
        }
    }
    let refs: Vec<&str> = components
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<&&str> = refs.iter().collect();
    assert_eq!(unique.len(), refs.len(), "unique identifiers");
    let dependencies = bom["dependencies"].as_array().expect("dependencies");
    // One entry per component (CycloneDX lists each, with or without dependsOn).
    assert_eq!(dependencies.len(), components.len());
    // The dependency graph (Inventory::dependencies, built by the catalogers) fills
    // dependsOn. What to expect in the demo image: nvidia-cuda-runtime-cu12 → the
    // libcudart.so.12 it bundles (gpubom:bundled_by). Its debs' Depends name libc6, which
    // the image does not install, so those are unresolved requirements, not edges.
    let edges: Vec<(&str, &str)> = dependencies
        .iter()
        .flat_map(|d| {
            let from = d["ref"].as_str().unwrap();
            d["dependsOn"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(move |to| (from, to.as_str().unwrap()))
        })
        .collect();

    // SPDX 2.3.
    validate_spdx(test, &spdx);
    let document = read_json(&spdx);
    assert!(document["creationInfo"]["created"].is_string(), "timestamp");
    assert_eq!(
        document["creationInfo"]["creators"][0],
        format!("Tool: gpubom-{}", env!("CARGO_PKG_VERSION")),
        "author"
    );
    let relationships = document["relationships"].as_array().unwrap();
    assert!(relationships
        .iter()
        .any(|r| r["spdxElementId"] == "SPDXRef-DOCUMENT" && r["relationshipType"] == "DESCRIBES"));
    for p in document["packages"].as_array().unwrap() {
        let id = p["SPDXID"].as_str().unwrap();
        assert!(p["name"].is_string(), "{p}");
        if id == "SPDXRef-Subject" {
            continue;
        }
        assert!(
            p["supplier"].is_string() || id == "SPDXRef-OperatingSystem",
            "{p}"
        );
        assert!(
            relationships.iter().any(|r| r["relatedSpdxElement"] == id),
            "{id} is related to nothing"
        );
    }
    // The models-and-NVIDIA facts travel as annotations: the kind of each package at least.
    assert!(document["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["SPDXID"] != "SPDXRef-Subject" && p["SPDXID"] != "SPDXRef-OperatingSystem")
        .all(|p| p["annotations"].as_array().is_some_and(|a| a
            .iter()
            .any(|a| a["comment"].as_str().unwrap().starts_with("gpubom:kind=")))));
    // Last, so that every other element is checked while the graph is not built yet.
    assert!(
        !edges.is_empty(),
        "no dependency relationship in the demo image's SBOM (expected at least \
         nvidia-cuda-runtime-cu12 → its bundled libcudart.so.12)"
    );
}

/// Debian's declared licenses become SPDX expressions: libexpat1's DEP-5 file says
/// `MIT`, zlib1g's `Zlib`, and base-files' free-form file has the GPL's notice
/// ("either version 2 … or (at your option) any later version").
#[test]
fn debian_licenses_are_spdx_expressions() {
    let test = "debian_licenses_are_spdx_expressions";
    let dir = tmp();
    let Some(source) = demo_image(test, dir.path()) else {
        return;
    };
    let cdx = dir.path().join("bom.cdx.json");
    let spdx = dir.path().join("bom.spdx.json");
    let out = scan_with(
        &source,
        None,
        &[
            "-o",
            &format!("cyclonedx-json={}", cdx.display()),
            "-o",
            &format!("spdx-json={}", spdx.display()),
        ],
    );
    assert_exit(&out, 0);
    let bom = read_json(&cdx);
    let document = read_json(&spdx);
    for (package, expression) in [
        ("base-files", "GPL-2.0-or-later"),
        ("libexpat1", "MIT"),
        ("zlib1g", "Zlib"),
    ] {
        let c = find_component(&bom, package).unwrap();
        assert_eq!(
            c["licenses"],
            serde_json::json!([{ "expression": expression }]),
            "{package}"
        );
        let p = document["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == package)
            .unwrap();
        assert_eq!(p["licenseDeclared"], expression, "{package}");
    }
}
