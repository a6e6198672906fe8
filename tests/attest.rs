//! End-to-end tests of signed attestations against a real registry (CNCF distribution,
//! started per test, see `gpubom_testkit::registry`): `gpubom attest` signs with a key
//! the real cosign wrote (`tests/fixtures/cosign/cosign-empty-password.key`, see the
//! README there), and what it pushed is verified by `tests/fixtures/cosign/sign.py
//! verify-attestation`, an implementation of cosign's attestation format in Python
//! `cryptography` that shares no code with gpubom. `check --attested` must refuse
//! another key, a tampered payload and a statement about another image with one
//! error line; `attach` must refuse an SBOM of another image unless `--force`.

mod common;

use common::*;
use gpubom_testkit::image::{Compression, ImageSpec};
use gpubom_testkit::registry::{self, Registry, MANIFEST_ACCEPT};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const REPO: &str = "synthetic/small";
const CYCLONEDX: &str = "https://cyclonedx.org/bom";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cosign");

/// The key `cosign generate-key-pair` wrote with an empty password, and its public half.
fn cosign_key() -> PathBuf {
    Path::new(FIXTURES).join("cosign-empty-password.key")
}

fn cosign_pub() -> PathBuf {
    Path::new(FIXTURES).join("cosign-empty-password.pub")
}

/// A registry, a scratch directory gpubom runs in, and a synthetic image pushed.
struct World {
    registry: Registry,
    dir: tempfile::TempDir,
    digest: String,
}

impl World {
    fn start(test: &str) -> Option<World> {
        let world = World {
            registry: Registry::start(test)?,
            dir: tmp(),
            digest: String::new(),
        };
        let digest = world.push(&small_image(Compression::Gzip), "1");
        Some(World { digest, ..world })
    }

    /// Pushes `spec` as `REPO:tag`; its manifest digest.
    fn push(&self, spec: &ImageSpec, tag: &str) -> String {
        let layout = self.path(&format!("layout-{tag}"));
        spec.write_oci_dir(&layout);
        self.registry
            .push_oci_layout(&layout, &format!("{REPO}:{tag}"));
        self.registry.manifest_digest(&format!("{REPO}:{tag}"))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn reference(&self, tag: &str) -> String {
        self.registry.reference(&format!("{REPO}:{tag}"))
    }

    fn run(&self, args: &[&str]) -> Output {
        gpubom_at(self.dir.path())
            .env("COSIGN_PASSWORD", "")
            .args(args)
            .output()
            .expect("run gpubom")
    }

    /// `gpubom attest --plain-http REF:tag --key cosign.key`, asserting success.
    fn attest(&self, tag: &str) -> String {
        let key = cosign_key();
        let out = self.run(&[
            "attest",
            "--plain-http",
            &self.reference(tag),
            "--key",
            key.to_str().unwrap(),
            "-q",
        ]);
        assert_exit(&out, 0);
        String::from_utf8(out.stdout).unwrap()
    }

    /// `gpubom check --attested --key PUB -f json REF:tag`.
    fn check_attested(&self, tag: &str, public: &Path) -> Output {
        self.run(&[
            "check",
            "--plain-http",
            "--attested",
            "--key",
            public.to_str().unwrap(),
            "-f",
            "json",
            &self.reference(tag),
        ])
    }

    /// `sign.py verify-attestation` of `digest` with `public`: its summary, or why not.
    fn verify_independently(
        &self,
        test: &str,
        digest: &str,
        public: &Path,
    ) -> Result<Value, String> {
        let mut python = registry::cosign_sign_py(test).expect("cryptography was had for keygen");
        let out = python
            .arg("verify-attestation")
            .args(self.registry.sign_py_args(REPO, digest))
            .args([
                "--pub",
                public.to_str().unwrap(),
                "--predicate-type",
                CYCLONEDX,
            ])
            .output()
            .expect("run python3");
        if out.status.success() {
            Ok(serde_json::from_slice(&out.stdout).expect("a JSON summary"))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn sign_py(&self, test: &str, command: &str, digest: &str) {
        let mut args = vec![command.to_string()];
        args.extend(self.registry.sign_py_args(REPO, digest));
        registry::sign_py(test, &args);
    }

    /// Another key pair, made by `sign.py keygen`; its public half.
    fn other_key(&self, test: &str) -> Option<PathBuf> {
        registry::cosign_keygen(test, &self.path("other")).map(|(_, public)| public)
    }

    fn manifest(&self, reference: &str) -> Value {
        let bytes = self.registry.get_ok(
            &format!("/v2/{REPO}/manifests/{reference}"),
            MANIFEST_ACCEPT,
        );
        serde_json::from_slice(&bytes).expect("a JSON manifest")
    }
}

/// Asserts the run failed with exit 2 and one `gpubom: error:` line; returns the line.
fn error_line(out: &Output) -> String {
    assert_exit(out, 2);
    let text = stderr(out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {text}");
    assert!(lines[0].starts_with("gpubom: error: "), "{text}");
    lines[0].to_string()
}

/// `sha256:` of the DER in a `.pub` PEM: the key id gpubom reports.
fn key_id(public: &Path) -> String {
    let pem = std::fs::read_to_string(public).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    registry::sha256_digest(&registry::base64::decode(&body))
}

#[test]
fn an_attestation_verifies_independently_where_cosign_looks() {
    let test = "an_attestation_verifies_independently_where_cosign_looks";
    let Some(world) = World::start(test) else {
        return;
    };
    let said = world.attest("1");
    let good = key_id(&cosign_pub());
    assert!(said.contains(&good), "attest does not name its key: {said}");

    let summary = world
        .verify_independently(test, &world.digest, &cosign_pub())
        .unwrap_or_else(|why| panic!("the independent verifier refused it: {why}"));
    let places: Vec<&str> = summary
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["where"].as_str().unwrap())
        .collect();
    assert_eq!(places, ["att-tag", "referrer"], "{summary}");
    for found in summary.as_array().unwrap() {
        assert_eq!(found["subject_name"], world.registry.reference(REPO));
        assert_eq!(found["bom_format"], "CycloneDX");
        assert!(found["components"].as_u64().unwrap() > 0, "{summary}");
    }

    let Some(other) = world.other_key(test) else {
        return;
    };
    let refused = world
        .verify_independently(test, &world.digest, &other)
        .expect_err("another key verified the attestation");
    assert!(refused.contains("no signature verifies"), "{refused}");

    // The gate over the attested SBOM, naming the key that signed it.
    let checked = world.check_attested("1", &cosign_pub());
    assert!(
        checked.status.code() == Some(0) || checked.status.code() == Some(1),
        "{}",
        stderr(&checked)
    );
    let report: Value = serde_json::from_slice(&checked.stdout).unwrap();
    let target = report["target"].as_str().unwrap();
    assert!(
        target.contains(&format!("signed by key {good}")),
        "{target}"
    );

    // A second attestation is appended to the .att manifest, as cosign appends.
    world.attest("1");
    let tag = format!("{}.att", world.digest.replace(':', "-"));
    let att = world.manifest(&tag);
    assert_eq!(att["layers"].as_array().unwrap().len(), 2, "{att}");
    for layer in att["layers"].as_array().unwrap() {
        assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
        assert_eq!(layer["annotations"]["predicateType"], CYCLONEDX);
        assert_eq!(
            layer["annotations"]["dev.cosignproject.cosign/signature"],
            ""
        );
    }

    // A scan that trusts the key counts the attestation as a signature over the image.
    let scanned = world.run(&[
        "scan",
        "--plain-http",
        &world.reference("1"),
        "--key",
        cosign_pub().to_str().unwrap(),
        "-q",
    ]);
    assert_exit(&scanned, 0);
    let bom: Value = serde_json::from_slice(&scanned.stdout).unwrap();
    let properties = bom["metadata"]["properties"].as_array().unwrap();
    let sources: Vec<&str> = properties
        .iter()
        .filter(|p| p["name"] == "gpubom:signature:source")
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["attestation"; 4], "two on the tag, two referrers");
    assert!(properties
        .iter()
        .filter(|p| p["name"] == "gpubom:signature:verified")
        .all(|p| p["value"] == "true"));
}

#[test]
fn check_attested_refuses_another_key_a_tampered_payload_and_another_subject() {
    let test = "check_attested_refuses_another_key_a_tampered_payload_and_another_subject";
    let Some(world) = World::start(test) else {
        return;
    };
    let Some(other) = world.other_key(test) else {
        return;
    };

    // Nothing attested yet: an error, not a scan.
    let line = error_line(&world.check_attested("1", &cosign_pub()));
    assert!(
        line.contains("no https://cyclonedx.org/bom attestation"),
        "{line}"
    );

    world.attest("1");
    let line = error_line(&world.check_attested("1", &other));
    assert!(line.contains("none verified"), "{line}");
    assert!(line.contains("signed by another key, or altered"), "{line}");

    // The same statement beside another image: signed, but not about it.
    let second = world.push(&small_image(Compression::None), "2");
    assert_ne!(second, world.digest);
    let att = world.manifest(&format!("{}.att", world.digest.replace(':', "-")));
    world.registry.put_manifest(
        REPO,
        &format!("{}.att", second.replace(':', "-")),
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&att).unwrap(),
    );
    let line = error_line(&world.check_attested("2", &cosign_pub()));
    assert!(
        line.contains(&format!("over {}, not this image", world.digest)),
        "{line}"
    );

    // The SBOM altered after signing: neither verifier accepts it.
    world.sign_py(test, "tamper-attestation", &world.digest);
    let refused = world
        .verify_independently(test, &world.digest, &cosign_pub())
        .expect_err("the tampered attestation verified");
    assert!(refused.contains("no signature verifies"), "{refused}");
    let line = error_line(&world.check_attested("1", &cosign_pub()));
    assert!(line.contains("none verified"), "{line}");
}

#[test]
fn attach_and_attest_refuse_an_sbom_of_another_image_unless_forced() {
    let test = "attach_and_attest_refuse_an_sbom_of_another_image_unless_forced";
    let Some(world) = World::start(test) else {
        return;
    };
    let second = world.push(&small_image(Compression::None), "2");
    let sbom = world.path("first.cdx.json");
    let sbom = sbom.to_str().unwrap();
    assert_exit(
        &world.run(&[
            "scan",
            "--plain-http",
            &world.reference("1"),
            "-q",
            "-o",
            sbom,
        ]),
        0,
    );

    let line = error_line(&world.run(&["attach", "--plain-http", &world.reference("2"), sbom]));
    assert!(
        line.contains(&world.digest) && line.contains(&second),
        "{line}"
    );
    let key = cosign_key();
    let attest_second = |extra: &[&str]| {
        let mut args = vec!["attest", "--plain-http", "--key", key.to_str().unwrap()];
        args.extend(extra);
        world.run(&args)
    };
    let line = error_line(&attest_second(&[&world.reference("2"), "--sbom", sbom]));
    assert!(
        line.contains(&world.digest) && line.contains(&second),
        "{line}"
    );

    let forced = world.run(&[
        "attach",
        "--plain-http",
        "--force",
        &world.reference("2"),
        sbom,
    ]);
    assert_exit(&forced, 0);
    assert!(stderr(&forced).is_empty(), "{}", stderr(&forced));
    // Its own image takes it without --force.
    assert_exit(
        &world.run(&["attach", "--plain-http", &world.reference("1"), sbom]),
        0,
    );

    // Another tool's SBOM does not say which manifest it describes.
    let syft = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/foreign-sboms/demo.syft.cdx.json"
    );
    let line = error_line(&world.run(&["attach", "--plain-http", &world.reference("1"), syft]));
    assert!(line.contains("not an SBOM gpubom wrote"), "{line}");

    // No password: cosign's variable is named, nothing is scanned.
    let out = gpubom_at(world.dir.path())
        .args([
            "attest",
            "--plain-http",
            &world.reference("1"),
            "--key",
            key.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let line = error_line(&out);
    assert!(line.contains("COSIGN_PASSWORD"), "{line}");
}
