//! The layer cache, end to end: a rescan reads no layer it has seen, gives
//! the same SBOM, survives a corrupt entry, and `--no-cache` reads every byte.
//! The image's contents are synthetic.

mod common;

use common::*;
use gpubom_testkit::image::{Compression, ImageSpec, Layer};
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
        // One time for every scan, so that two SBOMs of the same image compare equal.
        .env("SOURCE_DATE_EPOCH", "1700000000")
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

/// `os.system` by STACK_GLOBAL, as Python's pickle writes it: `check` fails on it.
const SYSTEM_PICKLE: &[u8] =
    b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94.";

fn pickle_layer() -> Layer {
    Layer::new().file("models/x.pkl", SYSTEM_PICKLE)
}

fn clean_layer() -> Layer {
    Layer::new().file("models/readme.txt", "nothing to see")
}

/// `layer` alone as an OCI layout under `dir`, as a source.
fn one_layer_image(dir: &Path, name: &str, layer: Layer) -> String {
    let oci = dir.join(name);
    ImageSpec::new("synthetic/cache", name)
        .layer(layer)
        .write_oci_dir(&oci);
    format!("oci-dir:{}", oci.display())
}

/// `gpubom check SOURCE` with the cache kept in `cache_home`, a JSON report on stdout.
fn check_cached(cache_home: &Path, source: &str) -> Output {
    gpubom()
        .env_remove("GPUBOM_NO_CACHE")
        .env("XDG_CACHE_HOME", cache_home)
        .args(["check", source, "-f", "json", "--fail-on", "none"])
        .output()
        .expect("run gpubom")
}

/// Whether the check found the pickle unsafe.
fn found_the_pickle(out: &Output) -> bool {
    assert_exit(out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    finding_of(&report, "unsafe-pickle").is_some()
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Gives `path` to another user, where this test may (it runs as root); `false` otherwise.
fn give_away(path: &Path) -> bool {
    std::os::unix::fs::chown(path, Some(65534), Some(65534)).is_ok()
}

/// The cache's directory for this build, made by a first scan.
fn build_dir(cache_home: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(cache_home.join("gpubom"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// The entry of a clean layer, relabelled with the pickle layer's diff_id and checksummed
/// again (anyone can recompute a sha256), put where the pickle layer's entry goes: the
/// forgery the checksum cannot catch.
fn plant_relabelled_entry(build_dir: &Path, clean: &Layer, pickle: &Layer) {
    let hex_of = |layer: &Layer| sha256_hex(&layer.tar_bytes());
    let clean_entry = std::fs::read(build_dir.join(format!("{}.json", hex_of(clean)))).unwrap();
    let body = &clean_entry[..clean_entry.len() - 65];
    let mut entry: serde_json::Value = serde_json::from_slice(body).unwrap();
    entry["diff_id"] = format!("sha256:{}", hex_of(pickle)).into();
    let mut forged = serde_json::to_vec(&entry).unwrap();
    let checksum = sha256_hex(&forged);
    forged.push(b'\n');
    forged.extend_from_slice(checksum.as_bytes());
    std::fs::write(build_dir.join(format!("{}.json", hex_of(pickle))), forged).unwrap();
}

/// A relabelled entry hides the pickle from a cache the user owns alone (what a hit trusts,
/// as documented); in a directory others can write, or that another user owns, gpubom warns
/// and reads the layer, and the pickle fails the check.
#[test]
fn a_relabelled_entry_is_trusted_only_in_a_directory_that_is_yours_alone_synthetic() {
    let dir = tmp();
    let cache_home = dir.path().join("cache");
    let clean = one_layer_image(dir.path(), "clean", clean_layer());
    let pickled = one_layer_image(dir.path(), "pickled", pickle_layer());
    assert_exit(&scan_cached(&cache_home, &clean, &[]), 0);
    let build = build_dir(&cache_home);
    plant_relabelled_entry(&build, &clean_layer(), &pickle_layer());
    assert!(
        !found_the_pickle(&check_cached(&cache_home, &pickled)),
        "the forged entry is what a hit trusts in your own cache"
    );

    let root = cache_home.join("gpubom");
    let me = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(dir.path()).unwrap());
    let mut cases = vec![("group-writable", 0o770), ("world-writable", 0o777)];
    let owned_by_another = give_away(&root);
    if owned_by_another {
        cases.push(("belongs to user 65534", 0o700));
    } else {
        eprintln!("not root: the case of a directory owned by another user is not run");
    }
    for (says, mode) in cases {
        if says.starts_with("belongs") {
            assert!(give_away(&root));
        } else {
            std::os::unix::fs::chown(&root, Some(me), None).ok();
        }
        set_mode(&root, mode);
        let out = check_cached(&cache_home, &pickled);
        assert!(found_the_pickle(&out), "{says}: {}", stderr(&out));
        let err = stderr(&out);
        let warnings: Vec<&str> = err.lines().filter(|l| l.contains("layer cache")).collect();
        assert_eq!(warnings.len(), 1, "{says}: warned once: {err}");
        assert!(warnings[0].contains(says), "{says}: {err}");
        assert!(warnings[0].contains("--no-cache"), "{err}");
    }
}

/// A cache directory that is a symbolic link is not used, and nothing is written where it points.
#[test]
fn a_symlinked_cache_directory_is_not_used_synthetic() {
    let dir = tmp();
    let cache_home = dir.path().join("cache");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&cache_home).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    set_mode(&elsewhere, 0o700);
    std::os::unix::fs::symlink(&elsewhere, cache_home.join("gpubom")).unwrap();
    let pickled = one_layer_image(dir.path(), "pickled", pickle_layer());
    let out = check_cached(&cache_home, &pickled);
    assert!(found_the_pickle(&out), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not used: it is a symbolic link"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

/// The cache directories gpubom makes are its user's alone.
#[test]
fn the_cache_is_made_private_synthetic() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp();
    let cache_home = dir.path().join("cache");
    let clean = one_layer_image(dir.path(), "clean", clean_layer());
    assert_exit(&scan_cached(&cache_home, &clean, &[]), 0);
    for made in [cache_home.join("gpubom"), build_dir(&cache_home)] {
        let mode = std::fs::metadata(&made).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", made.display());
    }
}

/// An entry replaced by a FIFO (which blocked the open) or a symlink to /dev/zero (which
/// grew without end) is a miss: the rescan reads the layer and gives the same SBOM, under
/// the hostile tests' limits.
#[test]
fn an_entry_that_is_not_a_regular_file_is_a_miss_synthetic() {
    for special in ["FIFO", "symlink to /dev/zero"] {
        let dir = tmp();
        let cache_home = dir.path().join("cache");
        let oci = dir.path().join("oci");
        image().write_oci_dir(&oci);
        let source = format!("oci-dir:{}", oci.display());
        let first = scan_cached(&cache_home, &source, &[]);
        assert_exit(&first, 0);
        for entry in entries(&cache_home) {
            std::fs::remove_file(&entry).unwrap();
            if special == "FIFO" {
                let made = std::process::Command::new("mkfifo")
                    .arg(&entry)
                    .status()
                    .unwrap();
                assert!(made.success());
            } else {
                std::os::unix::fs::symlink("/dev/zero", &entry).unwrap();
            }
        }
        let cache_env = cache_home.to_str().unwrap();
        let again = run_limited_with(
            &["scan", &source, "-f", "cyclonedx-json", "-q"],
            &[
                ("XDG_CACHE_HOME", cache_env),
                ("SOURCE_DATE_EPOCH", "1700000000"),
            ],
            60,
        );
        assert_exit(&again, 0);
        assert_eq!(again.stdout, first.stdout, "{special}");
        // The miss was written again as a regular file, in place of the special one.
        for entry in entries(&cache_home) {
            assert!(
                std::fs::symlink_metadata(&entry).unwrap().is_file(),
                "{special}: {}",
                entry.display()
            );
        }
    }
}
