//! Bad input: one clear error line naming the file or layer, exit code 2,
//! and no partial SBOM left behind.

mod common;

use common::*;
use gpubom_testkit::image::{Compression, ImageSpec, Layer};
use std::path::Path;

fn small_image() -> ImageSpec {
    common::small_image(Compression::Gzip)
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

/// Reads and parses a JSON blob of an OCI layout written by the testkit.
fn json_blob(oci: &Path, digest: &str) -> (std::path::PathBuf, serde_json::Value) {
    let path = oci
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    let value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    (path, value)
}

/// (manifest blob path, config blob path) of the single image in an OCI layout.
fn manifest_and_config(oci: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    let (manifest_path, manifest) =
        json_blob(oci, index["manifests"][0]["digest"].as_str().unwrap());
    let (config_path, _) = json_blob(oci, manifest["config"]["digest"].as_str().unwrap());
    (manifest_path, config_path)
}

/// Rewrites a blob in place, keeping the name that claims the old digest.
fn rewrite_blob(blob: &Path, change: impl FnOnce(Vec<u8>) -> Vec<u8>) {
    let before = std::fs::read(blob).unwrap();
    let after = change(before.clone());
    assert_ne!(before, after, "the test must change the blob");
    std::fs::write(blob, after).unwrap();
}

/// Bytes that still parse cleanly (so only a digest can tell) but differ from the
/// original. Every case must fail with a digest mismatch, not with a parse error.
fn assert_digest_mismatch(oci: &Path, what: &str) {
    let dir = tmp();
    let out_file = dir.path().join("sbom.json");
    let out = run(&[
        "scan",
        &format!("oci-dir:{}", oci.display()),
        "-o",
        out_file.to_str().unwrap(),
        "-q",
    ]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("digest mismatch"), "{what}: {err}");
    assert!(err.contains(what), "error should name the {what}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!out_file.exists(), "a partial SBOM was left behind");
}

#[test]
fn changed_content_byte_in_an_uncompressed_layer_is_a_digest_mismatch_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    let image = ImageSpec::new("synthetic/plain", "1").layer(
        Layer::new()
            .file(
                "app/synthetic_pkg-1.0.dist-info/METADATA",
                "Name: synthetic-pkg\nVersion: 1.0\n",
            )
            .compression(Compression::None),
    );
    image.write_oci_dir(&oci);
    rewrite_blob(&layer_blob(&oci), |mut bytes| {
        let at = bytes
            .windows(7)
            .position(|w| w == b"Version")
            .expect("file content in the plain layer");
        // A content byte, not a header byte: the tar still reads cleanly.
        bytes[at] = b'v';
        bytes
    });
    // Uncompressed, the blob is the tar: its digest is checked first.
    assert_digest_mismatch(&oci, "blob");
}

#[test]
fn recompressed_gzip_layer_is_a_digest_mismatch_synthetic() {
    use std::io::{Read, Write};
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    rewrite_blob(&layer_blob(&oci), |bytes| {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut tar)
            .unwrap();
        // Same uncompressed bytes, so the diff_id still matches; only the blob digest differs.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&tar).unwrap();
        let out = gz.finish().unwrap();
        assert_ne!(out, bytes);
        out
    });
    assert_digest_mismatch(&oci, "blob");
}

#[test]
fn changed_manifest_is_a_digest_mismatch_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    let (manifest, _) = manifest_and_config(&oci);
    // Still valid JSON describing the same image: only its digest can tell.
    rewrite_blob(&manifest, |mut bytes| {
        bytes.push(b'\n');
        bytes
    });
    assert_digest_mismatch(&oci, "manifest");
}

#[test]
fn changed_config_is_a_digest_mismatch_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    let (_, config) = manifest_and_config(&oci);
    rewrite_blob(&config, |bytes| {
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        value["config"]["User"] = serde_json::json!("1001");
        serde_json::to_vec(&value).unwrap()
    });
    assert_digest_mismatch(&oci, "config");
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

#[test]
fn docker_archive_paths_outside_the_archive_are_refused_synthetic() {
    use gpubom_testkit::image::{rewrite_archive, DockerForm};
    for (field, path) in [
        ("Layers", "../x/layer.tar"),
        ("Config", "/etc/passwd"),
        ("Layers", "a/../../x"),
    ] {
        let dir = tmp();
        let archive = dir.path().join("docker.tar");
        small_image().write_docker_archive(&archive, DockerForm::Legacy);
        rewrite_archive(&archive, |name, bytes| {
            if name != "manifest.json" {
                return Some(bytes);
            }
            let mut manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            match field {
                "Layers" => manifest[0]["Layers"][1] = path.into(),
                _ => manifest[0]["Config"] = path.into(),
            }
            Some(serde_json::to_vec(&manifest).unwrap())
        });
        let expected = match field {
            "Layers" => format!("Layers[1] refers to {path} outside the archive"),
            _ => format!("Config refers to {path} outside the archive"),
        };
        assert_fails(
            &format!("docker-archive:{}", archive.display()),
            &["manifest.json", &expected],
        );
    }
}

/// Renames the blob behind `digest` to its sha512 name; returns the new digest.
fn rename_to_sha512(oci: &Path, digest: &str, bytes: Vec<u8>) -> String {
    use sha2::{Digest, Sha512};
    let old = oci
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    std::fs::remove_file(old).unwrap();
    let hex = hex::encode(Sha512::digest(&bytes));
    std::fs::create_dir_all(oci.join("blobs/sha512")).unwrap();
    std::fs::write(oci.join("blobs/sha512").join(&hex), bytes).unwrap();
    format!("sha512:{hex}")
}

/// Rewrites an OCI layout of `small_image` so that every digest — layers, their
/// diff_ids, config, manifest — is sha512. Returns the manifest's blob path.
fn sha512_layout(oci: &Path) -> std::path::PathBuf {
    use sha2::{Digest, Sha512};
    use std::io::Read;
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    let (_, mut manifest) = json_blob(oci, index["manifests"][0]["digest"].as_str().unwrap());
    let (_, mut config) = json_blob(oci, manifest["config"]["digest"].as_str().unwrap());
    let mut diff_ids = Vec::new();
    for layer in manifest["layers"].as_array_mut().unwrap() {
        let digest = layer["digest"].as_str().unwrap().to_string();
        let blob = std::fs::read(oci.join("blobs/sha256").join(&digest[7..])).unwrap();
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&blob[..])
            .read_to_end(&mut tar)
            .unwrap();
        diff_ids.push(format!("sha512:{}", hex::encode(Sha512::digest(&tar))));
        layer["digest"] = rename_to_sha512(oci, &digest, blob).into();
    }
    config["rootfs"]["diff_ids"] = diff_ids.into();
    let config_bytes = serde_json::to_vec(&config).unwrap();
    manifest["config"]["size"] = config_bytes.len().into();
    let old = manifest["config"]["digest"].as_str().unwrap().to_string();
    manifest["config"]["digest"] = rename_to_sha512(oci, &old, config_bytes).into();
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    index["manifests"][0]["size"] = manifest_bytes.len().into();
    let old = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let digest = rename_to_sha512(oci, &old, manifest_bytes);
    index["manifests"][0]["digest"] = digest.clone().into();
    std::fs::write(oci.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    oci.join("blobs/sha512").join(&digest[7..])
}

#[test]
fn sha512_digests_are_verified_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    sha512_layout(&oci);
    let bom = scan_json(&format!("oci-dir:{}", oci.display()));
    assert_eq!(names_versions(&bom, "pkg:pypi/"), vec!["synthetic-pkg@1.0"]);
}

#[test]
fn changed_sha512_manifest_is_a_digest_mismatch_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    let manifest = sha512_layout(&oci);
    // One byte, and the manifest still parses: only the digest can tell.
    rewrite_blob(&manifest, |bytes| {
        String::from_utf8(bytes)
            .unwrap()
            .replacen("\"schemaVersion\":2", "\"schemaVersion\":3", 1)
            .into_bytes()
    });
    assert_digest_mismatch(&oci, "manifest");
}

#[test]
fn changed_sha512_layer_is_a_digest_mismatch_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    let manifest = sha512_layout(&oci);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(manifest).unwrap()).unwrap();
    let digest = manifest["layers"][1]["digest"].as_str().unwrap();
    // The gzip header's mtime: the layer still decompresses to the same tar.
    rewrite_blob(&oci.join("blobs/sha512").join(&digest[7..]), |mut bytes| {
        bytes[4] ^= 1;
        bytes
    });
    assert_digest_mismatch(&oci, "blob");
}

#[test]
fn unsupported_digest_algorithm_is_refused_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    let (manifest, _) = manifest_and_config(&oci);
    let md5 = "md5:0123456789abcdef0123456789abcdef";
    // The blob is where the digest says, so only the algorithm can be refused.
    std::fs::create_dir_all(oci.join("blobs/md5")).unwrap();
    std::fs::copy(&manifest, oci.join("blobs/md5").join(&md5[4..])).unwrap();
    let index = std::fs::read_to_string(oci.join("index.json")).unwrap();
    let digest = format!("sha256:{}", manifest.file_name().unwrap().to_string_lossy());
    std::fs::write(oci.join("index.json"), index.replace(&digest, md5)).unwrap();
    assert_fails(
        &format!("oci-dir:{}", oci.display()),
        &[md5, "unsupported digest algorithm \"md5\""],
    );

    // A layer named by md5 is refused before any layer is read.
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image().write_oci_dir(&oci);
    let (manifest, _) = manifest_and_config(&oci);
    let text = std::fs::read_to_string(&manifest).unwrap();
    let layer = layer_blob(&oci);
    let layer_digest = format!("sha256:{}", layer.file_name().unwrap().to_string_lossy());
    let text = text.replace(&layer_digest, md5);
    use sha2::Digest;
    let new_hex = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    std::fs::write(oci.join("blobs/sha256").join(&new_hex), &text).unwrap();
    let index = std::fs::read_to_string(oci.join("index.json")).unwrap();
    let old_hex = manifest.file_name().unwrap().to_string_lossy().to_string();
    std::fs::write(oci.join("index.json"), index.replace(&old_hex, &new_hex)).unwrap();
    assert_fails(
        &format!("oci-dir:{}", oci.display()),
        &["layer 1", md5, "unsupported digest algorithm"],
    );
}

#[test]
fn truncated_archive_without_a_scheme_is_an_error_synthetic() {
    use gpubom_testkit::image::DockerForm;
    let dir = tmp();
    for name in ["oci.tar", "docker.tar", "legacy.tar"] {
        let whole = dir.path().join(name);
        match name {
            "oci.tar" => small_image().write_oci_archive(&whole),
            "docker.tar" => small_image().write_docker_archive(&whole, DockerForm::Blobs),
            _ => small_image().write_docker_archive(&whole, DockerForm::Legacy),
        }
        let bytes = std::fs::read(&whole).unwrap();
        let half = dir.path().join(format!("half-{name}"));
        std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
        let half = half.display().to_string();
        assert_fails(&half, &[&half, "truncated"]);
    }

    // Whole, but without the index that would make it an image.
    let archive = dir.path().join("no-index.tar");
    small_image().write_oci_archive(&archive);
    gpubom_testkit::image::rewrite_archive(&archive, |name, bytes| {
        (name != "index.json").then_some(bytes)
    });
    let archive = archive.display().to_string();
    assert_fails(&archive, &[&archive, "no index.json or manifest.json"]);
}

#[test]
fn oversized_tar_metadata_is_refused_synthetic() {
    use gpubom_testkit::image::raw_tar_header;
    const GIB: u64 = 1 << 30;
    for (flag, what) in [(b'L', "GNU long name"), (b'x', "PAX header")] {
        // Declares a gigabyte and holds 64 KiB: the refusal must come from the
        // header, before the tar reader tries to read the record whole.
        let mut raw = raw_tar_header(flag, "././@LongLink", GIB);
        raw.extend_from_slice(&[b'a'; 64 << 10]);
        let image = ImageSpec::new("synthetic/metadata", "1").layer(
            Layer::new()
                .file("app/ok-1.0.dist-info/METADATA", "Name: ok\nVersion: 1.0\n")
                .raw(raw),
        );
        let dir = tmp();
        let oci = dir.path().join("oci");
        image.write_oci_dir(&oci);
        assert_fails(
            &format!("oci-dir:{}", oci.display()),
            &[
                "layer 0",
                &format!("a {what} of {GIB} bytes exceeds the 1 MiB limit"),
            ],
        );
    }

    // The same in the archive that holds the image.
    let dir = tmp();
    let archive = dir.path().join("image.tar");
    small_image().write_oci_archive(&archive);
    let mut bytes = raw_tar_header(b'L', "././@LongLink", GIB);
    bytes.extend(std::fs::read(&archive).unwrap());
    std::fs::write(&archive, bytes).unwrap();
    assert_fails(
        &format!("oci-archive:{}", archive.display()),
        &[
            "image.tar",
            "a GNU long name of 1073741824 bytes exceeds the 1 MiB limit",
        ],
    );
}
