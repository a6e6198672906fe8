//! Model files inside images and standalone: real pickles written by
//! Python's pickle module, real ONNX files written by the onnx package,
//! synthetic TensorRT engine headers (no real engine can be built here).

mod common;

use common::*;
use gpubom_testkit::image::{ImageSpec, Layer};
use gpubom_testkit::real;
use std::collections::BTreeMap;
use std::path::Path;

/// Runs the fixture script into a fresh directory; `None` (with the reason reported) if it cannot run.
fn fixtures(test: &str) -> Option<tempfile::TempDir> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/make_models.py");
    python_fixtures(test, &["onnx==1.23.2"], |python| {
        python.arg(&script);
    })
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A synthetic TensorRT plan: `ftrt`, then the reported version bytes at 24/25/26.
fn synthetic_engine(major: u8, minor: u8, patch: u8) -> Vec<u8> {
    let mut plan = b"ftrt".to_vec();
    plan.resize(4096, 0);
    plan[24..27].copy_from_slice(&[major, minor, patch]);
    plan
}

fn models(bom: &serde_json::Value) -> BTreeMap<String, &serde_json::Value> {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "machine-learning-model" || c["type"] == "data")
        .map(|c| (c["name"].as_str().unwrap().to_string(), c))
        .collect()
}

#[test]
fn one_unsafe_verdict_among_mixed_models() {
    let test = "one_unsafe_verdict_among_mixed_models";
    let Some(holder) = fixtures(test) else { return };
    let dir = holder.path();
    if !dir.join("tiny_add.onnx").exists() {
        real::skip(test, "onnx fixtures were not written");
        return;
    }
    let spec = ImageSpec::new("synthetic/models", "1")
        .layer(
            Layer::new()
                .file("models/evil.pt", read(dir, "synthetic_torch_like_evil.pt"))
                .file(
                    "models/benign.pt",
                    read(dir, "synthetic_torch_like_benign.pt"),
                )
                .file("models/tiny_add.onnx", read(dir, "tiny_add.onnx"))
                .file("models/detector.engine", synthetic_engine(8, 6, 1))
                .file("models/deleted.pkl", read(dir, "evil_popen_p4.pkl")),
        )
        .layer(Layer::new().whiteout("models/deleted.pkl"));
    let tmp = tmp();
    let archive = tmp.path().join("models.tar");
    spec.write_oci_archive(&archive);
    let bom = scan_json(&archive.display().to_string());
    validate_cyclonedx(&bom);
    let models = models(&bom);
    assert_eq!(
        models.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["benign.pt", "detector.engine", "evil.pt", "tiny_add.onnx"],
        "the whited-out pickle must not be reported"
    );
    let verdicts: Vec<(&str, &str)> = models
        .iter()
        .map(|(n, c)| (n.as_str(), property(c, "gpubom:model:verdict").unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("benign.pt", "safe"),
            ("detector.engine", "safe"),
            ("evil.pt", "unsafe"),
            ("tiny_add.onnx", "safe")
        ]
    );
    let evil = models["evil.pt"];
    assert_eq!(
        property(evil, "gpubom:model:unsafe_globals"),
        Some("posix.system (GLOBAL in archive/data.pkl)")
    );
    assert_eq!(
        property(models["detector.engine"], "gpubom:model:trt_version"),
        Some("8.6.1")
    );
    let onnx = models["tiny_add.onnx"];
    assert_eq!(
        property(onnx, "gpubom:model:onnx:opsets"),
        Some("ai.onnx:17")
    );
    assert_eq!(
        property(onnx, "gpubom:model:producer"),
        Some("gpubom-tests 1.0")
    );
    assert_eq!(
        property(onnx, "gpubom:model:onnx:metadata:license"),
        Some("Apache-2.0")
    );
    assert_eq!(
        property(onnx, "gpubom:model:onnx:external_data_traversal"),
        Some("false")
    );
    assert!(evil["hashes"][0]["content"]
        .as_str()
        .is_some_and(|h| h.len() == 64));
}

#[test]
fn standalone_files_scan_the_same_way() {
    let test = "standalone_files_scan_the_same_way";
    let Some(holder) = fixtures(test) else { return };
    let dir = holder.path();
    let cases = [
        (
            "evil_os_system_p0.pkl",
            "unsafe",
            Some("posix.system (GLOBAL)"),
        ),
        (
            "evil_popen_p4.pkl",
            "unsafe",
            Some("subprocess.Popen (STACK_GLOBAL)"),
        ),
        ("evil_eval_p2.pkl", "unsafe", Some("builtins.eval (GLOBAL)")),
        ("benign_state_dict.pkl", "safe", None),
        ("synthetic_torch_like_benign.pt", "safe", None),
        ("weights.safetensors", "safe", None),
    ];
    for (name, verdict, unsafe_globals) in cases {
        let bom = scan_json(&dir.join(name).display().to_string());
        let models = models(&bom);
        let model = models
            .get(name)
            .unwrap_or_else(|| panic!("{name} not reported: {bom:#}"));
        assert_eq!(
            property(model, "gpubom:model:verdict"),
            Some(verdict),
            "{name}"
        );
        assert_eq!(
            property(model, "gpubom:model:unsafe_globals"),
            unsafe_globals,
            "{name}"
        );
    }
    // The fixture script writes these with numpy and onnx, which python_with installs.
    {
        let bom = scan_json(&dir.join("evil_object_array.npy").display().to_string());
        let m = models(&bom)["evil_object_array.npy"];
        assert_eq!(property(m, "gpubom:model:verdict"), Some("unsafe"));
        assert_eq!(property(m, "gpubom:model:numpy_object_array"), Some("true"));
        assert!(property(m, "gpubom:model:unsafe_globals")
            .unwrap()
            .contains("posix.system"));
        let bom = scan_json(&dir.join("plain_floats.npy").display().to_string());
        assert_eq!(
            property(models(&bom)["plain_floats.npy"], "gpubom:model:verdict"),
            Some("safe")
        );
    }
    {
        let bom = scan_json(&format!(
            "file:{}",
            dir.join("external_traversal.onnx").display()
        ));
        let m = models(&bom)["external_traversal.onnx"];
        assert_eq!(
            property(m, "gpubom:model:onnx:external_data_traversal"),
            Some("true")
        );
        assert_eq!(
            property(m, "gpubom:model:onnx:external_data"),
            Some("../../etc/passwd")
        );
    }
}

#[test]
fn content_not_extension_decides_synthetic() {
    let dir = tmp();
    // A pickle under a neutral name is still a pickle; random bytes named .pt are unknown.
    let disguised = dir.path().join("checkpoint");
    std::fs::write(
        &disguised,
        b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94.",
    )
    .unwrap();
    let bom = scan_json(&disguised.display().to_string());
    assert_eq!(
        property(models(&bom)["checkpoint"], "gpubom:model:verdict"),
        Some("unsafe")
    );

    let noise = dir.path().join("random.pt");
    std::fs::write(
        &noise,
        (0..5000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 9) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let bom = scan_json(&noise.display().to_string());
    let m = models(&bom)["random.pt"];
    assert_eq!(property(m, "gpubom:model:verdict"), Some("unknown"));
    assert!(property(m, "gpubom:model:verdict_reason").is_some());

    let short = dir.path().join("short.engine");
    std::fs::write(&short, b"ftrt\x00\x00").unwrap();
    let bom = scan_json(&short.display().to_string());
    let m = models(&bom)["short.engine"];
    assert_eq!(property(m, "gpubom:model:verdict"), Some("unknown"));
    assert!(property(m, "gpubom:model:verdict_reason")
        .unwrap()
        .contains("shorter than its header"));
}

#[test]
fn expected_hashes_are_checked_synthetic() {
    let dir = tmp();
    let good = synthetic_engine(10, 3, 0);
    let spec = ImageSpec::new("synthetic/pinned", "1").layer(
        Layer::new()
            .file("models/pinned.engine", good.clone())
            .file("models/tampered.engine", synthetic_engine(10, 3, 1))
            .file("models/unlisted.engine", synthetic_engine(10, 3, 2)),
    );
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let manifest = dir.path().join("SHA256SUMS");
    std::fs::write(
        &manifest,
        format!(
            "{}  models/pinned.engine\n{}  ./models/tampered.engine\n",
            sha256_hex(&good),
            sha256_hex(b"what we shipped")
        ),
    )
    .unwrap();
    let out = run(&[
        "scan",
        &oci.display().to_string(),
        "--expect-sha256",
        manifest.to_str().unwrap(),
        "-f",
        "cyclonedx-json",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let models = models(&bom);
    assert_eq!(
        property(models["pinned.engine"], "gpubom:model:hash_verified"),
        Some("true")
    );
    assert_eq!(
        property(models["tampered.engine"], "gpubom:model:hash_verified"),
        Some("false")
    );
    assert_eq!(
        property(models["unlisted.engine"], "gpubom:model:hash_verified"),
        Some("false")
    );

    std::fs::write(&manifest, "nothex  models/pinned.engine\n").unwrap();
    let out = run(&[
        "scan",
        &oci.display().to_string(),
        "--expect-sha256",
        manifest.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SHA256SUMS:1:"), "{}", stderr(&out));
}

fn real_models_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-models")
}

fn verdict(c: &serde_json::Value) -> &str {
    property(c, "gpubom:model:verdict").unwrap_or("")
}

/// Files written by torch 2.11, numpy 2.5 and joblib 1.6 get the verdicts their
/// truth table gives: `dangerous` is `unsafe`; `not-dangerous` is `safe` or
/// `suspicious`; `safe` is `safe`.
#[test]
fn real_model_files_get_their_true_verdicts() {
    assert_eq!(truth_table_verdicts(&real_models_dir()), (8, 8));
}

/// Estimators and arrays written by scikit-learn 1.9, joblib 1.6 and numpy 2.4,
/// plain, zlib- and gzip-compressed, under the names people give them.
#[test]
fn real_sklearn_and_joblib_files_get_their_true_verdicts() {
    assert_eq!(
        truth_table_verdicts(&real_models_dir().join("sklearn")),
        (11, 11)
    );
}

/// (right, total) for the files of a truth table; each wrong verdict fails the test.
fn truth_table_verdicts(dir: &Path) -> (usize, usize) {
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let mut right = 0;
    let mut total = 0;
    for (name, expected) in truth.as_object().unwrap() {
        if name.starts_with('_') {
            continue;
        }
        total += 1;
        let path = dir.join(name);
        assert_eq!(
            sha256_hex(&std::fs::read(&path).unwrap()),
            expected["sha256"].as_str().unwrap(),
            "{name} is not the file the truth table describes"
        );
        let bom = scan_json(&format!("file:{}", path.display()));
        let components = bom["components"].as_array().unwrap();
        assert_eq!(components.len(), 1, "{name}: {components:?}");
        let got = verdict(&components[0]);
        let ok = match expected["expect"].as_str().unwrap() {
            "dangerous" | "unsafe" => got == "unsafe",
            "not-dangerous" => got == "safe" || got == "suspicious",
            "suspicious" => got == "suspicious",
            "safe" => got == "safe",
            other => panic!("unknown expectation {other}"),
        };
        assert!(ok, "{name}: expected {}, got {got}", expected["expect"]);
        right += usize::from(ok);
    }
    (right, total)
}

/// The same real bytes under the names people give them, and no name at all.
#[test]
fn real_checkpoints_are_judged_whatever_their_name() {
    let dir = real_models_dir();
    let evil = std::fs::read(dir.join("malicious_checkpoint.pt")).unwrap();
    let full = std::fs::read(dir.join("full_module.pt")).unwrap();
    let scripted = std::fs::read(dir.join("scripted.pt")).unwrap();
    let legacy = std::fs::read(dir.join("legacy_state_dict.pt")).unwrap();
    let joblib = std::fs::read(dir.join("array.joblib")).unwrap();
    let mut layer = Layer::new();
    for name in [
        "weights.pkl",
        "pytorch_model.bin",
        "checkpoint",
        "model.safetensors",
    ] {
        layer = layer.file(&format!("models/evil/{name}"), evil.clone());
    }
    let layer = layer
        .file("models/full/model.ckpt", full)
        .file("models/ts/model", scripted)
        .file("models/legacy/pytorch_model.bin", legacy)
        .file("models/sk/model.model", joblib);
    let image = ImageSpec::new("synthetic/names", "1").layer(layer);
    let dir = tmp();
    let oci = dir.path().join("oci");
    image.write_oci_dir(&oci);
    let bom = scan_json(&format!("oci-dir:{}", oci.display()));
    let by_path: BTreeMap<String, (&str, &str)> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["evidence"]["occurrences"][0]["location"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                (property(c, "gpubom:model:format").unwrap_or(""), verdict(c)),
            )
        })
        .collect();
    for name in [
        "weights.pkl",
        "pytorch_model.bin",
        "checkpoint",
        "model.safetensors",
    ] {
        assert_eq!(
            by_path.get(&format!("/models/evil/{name}")),
            Some(&("pytorch", "unsafe")),
            "{name}: {by_path:?}"
        );
    }
    assert_eq!(
        by_path.get("/models/full/model.ckpt"),
        Some(&("pytorch", "suspicious"))
    );
    assert_eq!(
        by_path.get("/models/ts/model"),
        Some(&("torchscript", "suspicious"))
    );
    assert_eq!(
        by_path.get("/models/legacy/pytorch_model.bin"),
        Some(&("pytorch-legacy", "safe"))
    );
    assert_eq!(
        by_path.get("/models/sk/model.model"),
        Some(&("pickle", "safe"))
    );
}

/// Model and array files a package ships (its RECORD lists them) are the
/// package's content: counted on it, reported alone only when unsafe.
#[test]
fn package_content_is_not_the_model_inventory() {
    let dir = real_models_dir();
    let onnx = std::fs::read(dir.join("model.onnx")).unwrap();
    let npy = std::fs::read(dir.join("object_array.npy")).unwrap();
    let evil = std::fs::read(dir.join("malicious_checkpoint.pt")).unwrap();
    let files = [
        (
            "synthetic_pkg/backend/test/data/node/test_add/model.onnx",
            onnx.clone(),
        ),
        ("synthetic_pkg/tests/data/objarr.npy", npy),
        ("synthetic_pkg/tests/data/evil.pt", evil),
        // The package's own class in its test pickle: suspicious, counted, not listed.
        (
            "synthetic_pkg/tests/data/estimator.pkl",
            b"\x80\x02csynthetic_pkg.model\nEstimator\nq\x00)\x81q\x01.".to_vec(),
        ),
    ];
    let mut record = String::new();
    let mut layer = Layer::new();
    for (path, bytes) in &files {
        record.push_str(&format!("{path},sha256=-,{}\n", bytes.len()));
        layer = layer.file(&format!("{SITE}/{path}"), bytes.clone());
    }
    layer = layer
        .file(
            &format!("{SITE}/synthetic_pkg-1.0.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: synthetic-pkg\nVersion: 1.0\n",
        )
        .file(
            &format!("{SITE}/synthetic_pkg-1.0.dist-info/RECORD"),
            record,
        )
        .file("models/model.onnx", onnx);
    let image = ImageSpec::new("synthetic/owned", "1").layer(layer);
    let dir = tmp();
    let oci = dir.path().join("oci");
    image.write_oci_dir(&oci);
    let bom = scan_json(&format!("oci-dir:{}", oci.display()));
    validate_cyclonedx(&bom);
    let reported = locations_where(&bom, |c| {
        c["type"] == "machine-learning-model" || c["type"] == "data"
    });
    assert_eq!(
        reported,
        vec![
            format!("/{SITE}/synthetic_pkg/tests/data/evil.pt"),
            "/models/model.onnx".to_string()
        ]
    );
    let evil = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "evil.pt")
        .unwrap();
    assert_eq!(
        property(evil, "gpubom:model:owner"),
        Some("synthetic-pkg@1.0")
    );
    let package = find_component(&bom, "synthetic-pkg").unwrap();
    assert_eq!(property(package, "gpubom:package:model_files"), Some("4"));
    assert_eq!(
        property(package, "gpubom:package:model_files_needing_trust"),
        Some("1")
    );
}

/// NumPy arrays are data, not models.
#[test]
fn numpy_arrays_are_data() {
    let path = real_models_dir().join("object_array.npy");
    let bom = scan_json(&format!("file:{}", path.display()));
    validate_cyclonedx(&bom);
    assert_eq!(bom["components"][0]["type"], "data");
}

/// `gpubom check` on an image of the pickles that were not reported, or were
/// `safe` holding tens of megabytes: a primitive consumed only by `BINPERSID`,
/// header-less pickles importing after 4 KiB of data (named without an
/// extension, so only their content says pickle), and data opcodes alone
/// (deep lists, a memo flood, large tuples; the unit tests add long strings,
/// 73 MB that a debug build takes minutes to pack). Each is a finding, within
/// the hostile tests' 500 MB address space.
#[test]
fn pickles_that_hide_or_flood_are_findings_cpython() {
    let files = [
        ("persid", "synthetic-persid-system-p4.pkl", "unsafe-pickle"),
        ("late-p0", "synthetic-late-import-p0.pkl", "unsafe-pickle"),
        ("late-p1", "synthetic-late-import-p1.pkl", "unsafe-pickle"),
        (
            "deep",
            "synthetic-deep-lists-p4.pkl.gz",
            "model-unverifiable",
        ),
        (
            "memo",
            "synthetic-memo-flood-p4.pkl.gz",
            "model-unverifiable",
        ),
        (
            "tuples",
            "synthetic-none-tuples-p4.pkl.gz",
            "model-unverifiable",
        ),
        (
            "strings",
            "synthetic-long-strings-p4.pkl.gz",
            "model-unverifiable",
        ),
    ];
    let mut layer = Layer::new();
    for (name, fixture, _) in files {
        layer = layer.file(&format!("models/{name}"), real::cpython_pickle(fixture));
    }
    let dir = tmp();
    let oci = dir.path().join("oci");
    ImageSpec::new("synthetic/pickles", "1")
        .layer(layer.compression(gpubom_testkit::image::Compression::Gzip))
        .write_oci_dir(&oci);
    let out = run_limited_with(
        &[
            "check",
            &format!("oci-dir:{}", oci.display()),
            "-f",
            "json",
            "-q",
        ],
        &[],
        300,
    );
    assert_exit(&out, 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (name, fixture, rule) in files {
        let path = format!("/models/{name}");
        let finding = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["subject"]["path"] == path.as_str());
        assert!(finding.is_some(), "{fixture}: no {rule} finding for {path}");
    }
}
