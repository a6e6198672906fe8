//! Bad input: one clear error line naming the file or layer, exit code 2,
//! and no partial SBOM left behind.

mod common;

use common::*;
use gpubom_testkit::image::{Compression, ImageSpec, Layer};
use std::path::Path;

fn small_image() -> ImageSpec {
    ImageSpec::new("synthetic/small", "1")
        .layer(
            Layer::new()
                .file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
                .compression(Compression::Gzip),
        )
        .layer(
            Layer::new()
                .file(
                    "app/synthetic_pkg-1.0.dist-info/METADATA",
                    "Name: synthetic-pkg\nVersion: 1.0\n",
                )
                .compression(Compression::Gzip),
        )
}

/// Runs a scan that must fail, with `-o` pointing at a file that must not appear.
fn assert_fails(source: &str, expect_in_message: &[&str]) {
    let dir = tmp();
    let out_file = dir.path().join("sbom.json");
    let out = run(&["scan", source, "-o", out_file.to_str().unwrap(), "-q"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "exit code for {source}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "expected one error line, got: {err}"
    );
    assert!(err.starts_with("gpubom: error: "), "{err}");
    for needle in expect_in_message {
        assert!(
            err.contains(needle),
            "error for {source} should mention {needle:?}: {err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out_file.exists(), "a partial SBOM was left behind");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
}

/// The blob of the last layer in an OCI layout written by the testkit.
fn layer_blob(oci: &Path) -> std::path::PathBuf {
    let read = |p: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let blob = |digest: &str| {
        oci.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let index = read(oci.join("index.json"));
    let manifest = read(blob(index["manifests"][0]["digest"].as_str().unwrap()));
    let layers = manifest["layers"].as_array().unwrap();
    blob(layers.last().unwrap()["digest"].as_str().unwrap())
}

#[test]
fn truncated_gzip_layer_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    let blob = layer_blob(&oci);
    let bytes = std::fs::read(&blob).unwrap();
    std::fs::write(&blob, &bytes[..bytes.len() / 2]).unwrap();
    let digest = blob.file_name().unwrap().to_string_lossy().to_string();
    assert_fails(
        &format!("oci-dir:{}", oci.display()),
        &["layer", &digest[..12]],
    );
}

#[test]
fn flipped_byte_is_a_digest_mismatch_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    let blob = layer_blob(&oci);
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    // The gzip trailer's size field: the stream still inflates, only the digest can tell.
    bytes[last] ^= 0x01;
    std::fs::write(&blob, &bytes).unwrap();
    assert_fails(&format!("oci-dir:{}", oci.display()), &["layer"]);
}

#[test]
fn missing_blob_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    std::fs::remove_file(layer_blob(&oci)).unwrap();
    assert_fails(&format!("oci-dir:{}", oci.display()), &["sha256:"]);
}

#[test]
fn not_an_image() {
    let dir = tmp();
    let tar = dir.path().join("random.tar");
    std::fs::write(&tar, b"this is not a tar archive, nor an image").unwrap();
    assert_fails(&format!("oci-archive:{}", tar.display()), &["random.tar"]);
    assert_fails(
        &format!("docker-archive:{}", tar.display()),
        &["random.tar"],
    );
}

#[test]
fn nonexistent_path() {
    assert_fails("/definitely/not/here.tar", &["/definitely/not/here.tar"]);
}

#[test]
fn unreadable_output_directory() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    let out = run(&[
        "scan",
        &format!("oci-dir:{}", oci.display()),
        "-o",
        "/nonexistent-dir/sbom.json",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent-dir"),
        "{}",
        stderr(&out)
    );
}
