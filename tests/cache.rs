//! The layer cache, end to end: a rescan reads no layer it has seen, gives
//! the same SBOM, survives a corrupt entry, and `--no-cache` reads every byte.
//! The image's contents are synthetic.

mod common;

use common::*;
use gpubom_testkit::image::{Compression, ImageSpec};
use std::path::{Path, PathBuf};
use std::process::Output;

/// The second layer is uncompressed, so a test can change its bytes in place.
fn image() -> ImageSpec {
    small_image(Compression::None)
}

/// `gpubom scan SOURCE -f cyclonedx-json -q EXTRA…` with the cache on, kept in `cache_home`.
fn scan_cached(cache_home: &Path, source: &str, extra: &[&str]) -> Output {
    gpubom()
        .env_remove("GPUBOM_NO_CACHE")
        .env("XDG_CACHE_HOME", cache_home)
        .args(["scan", source, "-f", "cyclonedx-json", "-q"])
        .args(extra)
        .output()
        .expect("run gpubom")
}

/// Every cache entry under `cache_home`.
fn entries(cache_home: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for dir in std::fs::read_dir(cache_home.join("gpubom"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
            all.push(entry.path());
        }
    }
    all.sort();
    all
}

/// The uncompressed layer's blob, whose bytes the test changes in place.
fn uncompressed_blob(oci: &Path) -> PathBuf {
    let json = |p: PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let blob = |digest: &str| {
        oci.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let index = json(oci.join("index.json"));
    let manifest = json(blob(index["manifests"][0]["digest"].as_str().unwrap()));
    blob(manifest["layers"][1]["digest"].as_str().unwrap())
}

#[test]
fn a_rescan_reads_no_layer_it_has_seen() {
    let dir = tmp();
    let cache_home = dir.path().join("cache");
    let oci = dir.path().join("oci");
    image().write_oci_dir(&oci);
    let source = format!("oci-dir:{}", oci.display());

    let first = scan_cached(&cache_home, &source, &[]);
    assert_exit(&first, 0);
    assert_eq!(entries(&cache_home).len(), 2, "one entry per layer");
    let second = scan_cached(&cache_home, &source, &[]);
    assert_exit(&second, 0);
    assert_eq!(first.stdout, second.stdout, "the same SBOM, byte for byte");

    // Proof the rescan did not read the layer: change its bytes in place (the
    // documented cost of a hit), and only --no-cache notices.
    let blob = uncompressed_blob(&oci);
    let original = std::fs::read(&blob).unwrap();
    let mut altered = original.clone();
    let at = altered
        .windows(7)
        .position(|w| w == b"Version")
        .expect("the METADATA is in the uncompressed layer");
    altered[at] = b'v';
    std::fs::write(&blob, &altered).unwrap();
    let hit = scan_cached(&cache_home, &source, &[]);
    assert_eq!(hit.stdout, first.stdout, "{}", stderr(&hit));
    let fresh = scan_cached(&cache_home, &source, &["--no-cache"]);
    assert_eq!(
        fresh.status.code(),
        Some(2),
        "--no-cache reads and verifies every byte"
    );
    assert!(stderr(&fresh).contains("digest"), "{}", stderr(&fresh));
    std::fs::write(&blob, &original).unwrap();

    // A corrupt entry is ignored, the layer read again, and the entry rewritten.
    for entry in entries(&cache_home) {
        std::fs::write(&entry, b"not an entry").unwrap();
    }
    let after = scan_cached(&cache_home, &source, &[]);
    assert_eq!(after.stdout, first.stdout, "{}", stderr(&after));
    for entry in entries(&cache_home) {
        assert_ne!(std::fs::read(&entry).unwrap(), b"not an entry");
    }
}

#[test]
fn concurrent_scans_share_one_cache_safely() {
    let dir = tmp();
    let cache_home = dir.path().join("cache");
    let oci = dir.path().join("oci");
    image().write_oci_dir(&oci);
    let source = format!("oci-dir:{}", oci.display());
    let runs: Vec<Output> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| scan_cached(&cache_home, &source, &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in &runs {
        assert_exit(run, 0);
        assert_eq!(run.stdout, runs[0].stdout);
    }
    assert_eq!(entries(&cache_home).len(), 2);
    let again = scan_cached(&cache_home, &source, &[]);
    assert_eq!(again.stdout, runs[0].stdout);
}
