//! Where `-o` writes: an unknown `FORMAT=` is an error, never a file of that
//! name; a regular file is replaced atomically; a symlink is written through
//! (the link stays); a FIFO or a device is written in place, never replaced.
//! FIFOs stand in for `/dev/null`: tests may run as root, and a broken
//! build must not be able to replace the real device.

mod common;

use common::*;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

fn source(dir: &Path) -> String {
    let layout = dir.join("layout");
    small_image(gpubom_testkit::image::Compression::Gzip).write_oci_dir(&layout);
    format!("oci-dir:{}", layout.display())
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_unknown_format_is_an_error_listing_the_formats() {
    let dir = tmp();
    let source = source(dir.path());
    for (args, formats) in [
        (
            vec!["scan", &source, "-o", "spdx-tag-value=x.spdx"],
            "cyclonedx-json, cyclonedx-json@1.5, cyclonedx-xml, cyclonedx-xml@1.5, spdx-json, table",
        ),
        (
            vec!["check", &source, "-o", "sarf=x.sarif"],
            "text, json, sarif, markdown, cyclonedx-json",
        ),
    ] {
        let out = run_in(dir.path(), &args);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains("is not a format"), "{err}");
        assert!(err.contains(&format!("the formats are {formats}")), "{err}");
        assert!(err.contains("written ./"), "{err}");
        assert_eq!(names_in(dir.path()), ["layout"], "nothing was written");
    }
    // No file after the '=' is no more a file than no format before it.
    let out = run_in(dir.path(), &["check", &source, "-o", "sarif="]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no file after '='"),
        "{}",
        stderr(&out)
    );
    // A name with '=' is still writable, as a path.
    let out = run_in(
        dir.path(),
        &["scan", &source, "-o", "./spdx-json=x.json", "-q"],
    );
    assert_exit(&out, 0);
    let written = std::fs::read(dir.path().join("spdx-json=x.json")).unwrap();
    let bom: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
}

/// A FIFO at `path` and a reader draining it on a thread of its own.
fn fifo_with_reader(path: &Path) -> std::thread::JoinHandle<Vec<u8>> {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let path = path.to_path_buf();
    std::thread::spawn(move || std::fs::read(path).unwrap())
}

#[test]
fn a_fifo_is_written_in_place_directly_or_through_a_link() {
    let dir = tmp();
    let source = source(dir.path());
    let fifo = dir.path().join("pipe");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    for target in [&fifo, &link] {
        let reader = fifo_with_reader(&fifo);
        let out = run_in(
            dir.path(),
            &[
                "check",
                &source,
                "-o",
                &format!("json={}", target.display()),
            ],
        );
        assert_exit(&out, 1);
        // Still a FIFO, still a link to it: nothing was renamed over either.
        // (Checked before joining: a reader of a replaced FIFO would wait forever.)
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let report: serde_json::Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
        assert_eq!(report["fail_on"], "high");
        std::fs::remove_file(&fifo).unwrap();
    }
}

#[test]
fn a_symlink_is_written_through_and_stays_a_link() {
    let dir = tmp();
    let source = source(dir.path());
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let target = reports.join("sbom.cdx.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("sbom.cdx.json");
    std::os::unix::fs::symlink("reports/sbom.cdx.json", &link).unwrap();
    // Links to links and to files not yet written are followed the same way.
    let chained = dir.path().join("latest.cdx.json");
    std::os::unix::fs::symlink("sbom.cdx.json", &chained).unwrap();
    let dangling = dir.path().join("new.cdx.json");
    std::os::unix::fs::symlink("reports/new.cdx.json", &dangling).unwrap();
    for written in [&chained, &dangling] {
        let out = run_in(
            dir.path(),
            &["scan", &source, "-o", written.to_str().unwrap(), "-q"],
        );
        assert_exit(&out, 0);
    }
    for (link, target) in [(&link, &target), (&dangling, &reports.join("new.cdx.json"))] {
        assert!(std::fs::symlink_metadata(link)
            .unwrap()
            .file_type()
            .is_symlink());
        let bom: serde_json::Value =
            serde_json::from_slice(&std::fs::read(target).unwrap()).unwrap();
        assert_eq!(bom["bomFormat"], "CycloneDX");
    }
    assert!(std::fs::symlink_metadata(&chained)
        .unwrap()
        .file_type()
        .is_symlink());
    // Only the two files and no temporary file were left in the target's directory.
    assert_eq!(names_in(&reports), ["new.cdx.json", "sbom.cdx.json"]);
}
