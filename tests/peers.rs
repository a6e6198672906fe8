//! The demo image opens in the tools users compare gpubom with.
//!
//! Someone who checks gpubom's findings against Syft's or skopeo's must be able to point
//! those tools at the very archive gpubom scanned. Syft 1.18.1 extracts an oci-archive and
//! fails ("file does not exist: oci-archive") when the archive lacks the `blobs/` and
//! `blobs/sha256/` directory entries that skopeo writes, so the archive is written as
//! skopeo writes it, and this test opens it with both.

mod common;

use common::*;
use gpubom_testkit::real;
use std::path::Path;
use std::process::Command;

fn demo_archive(test: &str, dir: &Path) -> Option<String> {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-models");
    let spec = or_skip(test, gpubom_testkit::demo::build(models.to_str()))?;
    let archive = dir.join("demo-image.tar");
    spec.write_oci_archive(&archive);
    Some(archive.display().to_string())
}

#[test]
fn skopeo_inspects_the_demo_archive() {
    let test = "skopeo_inspects_the_demo_archive";
    let dir = tmp();
    let Some(archive) = demo_archive(test, dir.path()) else {
        return;
    };
    let out = match Command::new("skopeo")
        .args(["inspect", "--raw", &format!("oci-archive:{archive}")])
        .output()
    {
        Ok(out) => out,
        Err(e) => return real::skip(test, &format!("skopeo cannot run: {e}")),
    };
    assert!(out.status.success(), "skopeo: {}", stderr(&out));
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = scan_json(&archive);
    let layers = ours["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"].as_str().unwrap().ends_with(":diff_id"))
        .count();
    assert_eq!(manifest["layers"].as_array().unwrap().len(), layers);
}

#[test]
fn syft_reads_the_demo_archive_and_finds_what_gpubom_finds_in_the_wheels() {
    let test = "syft_reads_the_demo_archive_and_finds_what_gpubom_finds_in_the_wheels";
    let Some(syft) = or_skip(test, real::syft()) else {
        return;
    };
    let dir = tmp();
    let Some(archive) = demo_archive(test, dir.path()) else {
        return;
    };
    let out = Command::new(&syft)
        .args([
            "-q",
            &format!("oci-archive:{archive}"),
            "-o",
            "cyclonedx-json",
        ])
        // Syft asks the network for a newer version of itself; CI has none to give.
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap();
    assert!(out.status.success(), "syft: {}", stderr(&out));
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = scan_json(&archive);
    let wheels = |bom: &serde_json::Value| names_versions(bom, "pkg:pypi/");
    assert!(!wheels(&ours).is_empty());
    assert_eq!(wheels(&theirs), wheels(&ours));
}
