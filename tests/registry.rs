//! End-to-end tests of gpubom against a real registry: CNCF distribution (Debian's
//! `docker-registry`) started per test, images pushed by skopeo from layouts built
//! from real Debian packages and a real PyPI wheel, and cosign signatures made by
//! `tests/fixtures/cosign/sign.py`, an implementation of cosign's formats that
//! shares no code with gpubom. See `gpubom_testkit::registry`.

mod common;

use common::*;
use gpubom_testkit::hostile_http::{Body, LayoutRegistry, Response, Server};
use gpubom_testkit::image::{write_multiplatform_oci_dir, Compression, ImageSpec, Layer};
use gpubom_testkit::registry::{self, base64, sha256_digest, sign_py, Registry, MANIFEST_ACCEPT};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const REPO: &str = "gpu/app";
const TAG: &str = "v1";
// Vendored in tests/fixtures/debs.
const BASE_FILES: (&str, &str) = ("base-files", "12.4+deb12u15");
const ZLIB: (&str, &str) = ("zlib1g", "1:1.2.13.dfsg-1");
const SIGNATURE_RULE: &str = "image-signature-untrusted";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// A file in the image's uncompressed layer whose bytes the corruption test changes.
const MARKER_PATH: &str = "opt/synthetic/marker.txt";
const MARKER: &str = "synthetic marker: bytes a test may change in the registry's storage\n";

/// base-files and zlib1g as dpkg installs them (a gzip layer), then NVIDIA's nvtx
/// wheel as pip installs it (an uncompressed layer, which skopeo's
/// --preserve-digests keeps uncompressed).
fn image(test: &str) -> Option<ImageSpec> {
    let debs = debs(&[BASE_FILES, ZLIB]);
    let installed: Vec<&Deb> = debs.iter().collect();
    let nvtx = or_skip(test, wheel_layer(SITE, &NVTX))?;
    Some(
        ImageSpec::new(REPO, TAG)
            .user("1000")
            .layer(dpkg_layer(&installed, &installed).compression(Compression::Gzip))
            .layer(
                nvtx.file(MARKER_PATH, MARKER)
                    .compression(Compression::None),
            ),
    )
}

/// One test's registry, and a scratch directory that is gpubom's HOME,
/// DOCKER_CONFIG's parent and working directory: neither the developer's
/// credentials nor a stray `.gpubom.toml` reach the product.
struct World {
    registry: Registry,
    dir: tempfile::TempDir,
}

impl World {
    fn start(test: &str) -> Option<World> {
        Some(World {
            registry: Registry::start(test)?,
            dir: tmp(),
        })
    }

    fn start_with_auth(test: &str, user: &str, password: &str) -> Option<World> {
        Some(World {
            registry: Registry::start_with_auth(test, user, password)?,
            dir: tmp(),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `HOST:PORT/repo_and_tag`.
    fn reference(&self, repo_and_tag: &str) -> String {
        self.registry.reference(repo_and_tag)
    }

    fn docker_config_dir(&self) -> PathBuf {
        docker_config_dir(self.dir.path())
    }

    fn gpubom(&self) -> Command {
        gpubom_at(self.dir.path())
    }

    fn run(&self, args: &[&str]) -> Output {
        self.gpubom().args(args).output().expect("run gpubom")
    }

    /// Writes `spec` as an OCI layout and pushes it as `repo:tag`; returns the layout
    /// and the manifest digest, which is the layout's (skopeo keeps digests).
    fn push(&self, spec: &ImageSpec, repo_tag: &str) -> (PathBuf, String) {
        let layout = self.path(&format!("layout-{}", repo_tag.replace(['/', ':'], "-")));
        spec.write_oci_dir(&layout);
        self.registry.push_oci_layout(&layout, repo_tag);
        let digest = self.registry.manifest_digest(repo_tag);
        assert_eq!(digest, layout_digest(&layout), "skopeo changed the digest");
        (layout, digest)
    }

    /// `gpubom scan --plain-http SOURCE -f cyclonedx-json --quiet EXTRA…`, asserting success.
    fn scan(&self, source: &str, extra: &[&str]) -> Value {
        let mut args = vec![
            "scan",
            "--plain-http",
            source,
            "-f",
            "cyclonedx-json",
            "--quiet",
        ];
        args.extend(extra);
        let out = self.run(&args);
        assert_exit(&out, 0);
        serde_json::from_slice(&out.stdout).expect("scan output is JSON")
    }

    /// `gpubom scan --plain-http REFERENCE`, asserting it fails to run; the error line.
    fn scan_fails(&self, reference: &str) -> String {
        assert_error_line(&self.run(&["scan", "--plain-http", reference, "-q"]))
    }

    /// `gpubom check --plain-http SOURCE -f json EXTRA…` (SOURCE may be `--sbom FILE`).
    fn check(&self, source: &[&str], extra: &[&str]) -> Checked {
        let mut args = vec!["check", "-f", "json"];
        // An SBOM is read from a file: `check --sbom` refuses registry flags.
        if source.first() != Some(&"--sbom") {
            args.push("--plain-http");
        }
        args.extend(source);
        args.extend(extra);
        let out = self.run(&args);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "check {args:?} wrote no JSON report ({e}); exit {:?}: {}",
                out.status.code(),
                stderr(&out)
            )
        });
        Checked {
            code: out.status.code(),
            findings: report["findings"].as_array().cloned().unwrap_or_default(),
        }
    }

    /// Runs `sign.py sign` (or `bundle`) for `REPO@digest` with `key` and `extra`
    /// arguments; returns the digest of the manifest it pushed.
    fn sign(&self, test: &str, command: &str, key: &Path, digest: &str, extra: &[&str]) -> String {
        let mut args = vec![
            command.to_string(),
            "--key".into(),
            key.display().to_string(),
        ];
        args.extend(self.registry.sign_py_args(REPO, digest));
        args.extend(extra.iter().map(|s| s.to_string()));
        sign_py(test, &args).expect("sign.py was runnable for keygen")
    }

    /// A fresh cosign key pair `NAME.key` / `NAME.pub` in the scratch directory.
    fn keygen(&self, test: &str, name: &str) -> Option<KeyPair> {
        let (private, public) = registry::cosign_keygen(test, &self.path(name))?;
        Some(KeyPair { private, public })
    }
}

struct KeyPair {
    private: PathBuf,
    public: PathBuf,
}

impl KeyPair {
    fn public(&self) -> &str {
        self.public.to_str().expect("UTF-8 temp path")
    }
}

/// What `gpubom check -f json` said.
struct Checked {
    code: Option<i32>,
    findings: Vec<Value>,
}

impl Checked {
    /// The message of the image-signature-untrusted finding, if it fired.
    fn signature_finding(&self) -> Option<String> {
        let mut found = self.findings.iter().filter(|f| f["rule"] == SIGNATURE_RULE);
        let first = found.next()?;
        assert!(
            found.next().is_none(),
            "the rule fired twice: {:?}",
            self.findings
        );
        assert_eq!(first["severity"], "high");
        Some(first["message"].as_str().expect("message").to_string())
    }

    /// The finding's message, asserting the check failed because of it.
    fn fired(&self) -> String {
        let message = self
            .signature_finding()
            .unwrap_or_else(|| panic!("{SIGNATURE_RULE} did not fire: {:?}", self.findings));
        assert_eq!(self.code, Some(1), "a high finding must fail the check");
        message
    }

    /// Asserts the rule stayed silent and nothing else failed the check.
    fn silent(&self) {
        assert_eq!(
            self.signature_finding(),
            None,
            "{SIGNATURE_RULE} fired: {:?}",
            self.findings
        );
        assert_eq!(self.code, Some(0), "findings: {:?}", self.findings);
    }
}

/// The manifest digest of a single-image OCI layout.
fn layout_digest(layout: &Path) -> String {
    let index = read_json(&layout.join("index.json"));
    index["manifests"][0]["digest"]
        .as_str()
        .expect("a manifest digest")
        .to_string()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        .unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn layout_blob(layout: &Path, digest: &str) -> Vec<u8> {
    std::fs::read(
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .expect("layout blob")
}

/// The SBOM's metadata properties, in order.
fn metadata_properties(bom: &Value) -> Vec<(String, String)> {
    bom["metadata"]["properties"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn metadata_property(bom: &Value, name: &str) -> Option<String> {
    metadata_properties(bom)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// One signature as the SBOM records it.
#[derive(Debug, Clone, PartialEq)]
struct Signature {
    source: String,
    manifest: String,
    verified: bool,
    key: String,
    reason: String,
}

/// Names of the five properties of one signature, in the documented order.
const SIGNATURE_PROPERTIES: [&str; 5] = [
    "gpubom:signature:source",
    "gpubom:signature:manifest",
    "gpubom:signature:verified",
    "gpubom:signature:key",
    "gpubom:signature:reason",
];

/// The signatures of an SBOM, asserting `gpubom:signatures:checked` is `true` and
/// that each signature is its five properties in order.
fn signatures(bom: &Value) -> Vec<Signature> {
    let properties = metadata_properties(bom);
    assert_eq!(
        metadata_property(bom, "gpubom:signatures:checked").as_deref(),
        Some("true"),
        "signatures were not looked for: {properties:?}"
    );
    let facts: Vec<&(String, String)> = properties
        .iter()
        .filter(|(n, _)| n.starts_with("gpubom:signature:"))
        .collect();
    assert_eq!(facts.len() % 5, 0, "incomplete signature groups: {facts:?}");
    facts
        .chunks(5)
        .map(|group| {
            let names: Vec<&str> = group.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, SIGNATURE_PROPERTIES, "out of order: {group:?}");
            let verified = &group[2].1;
            assert!(verified == "true" || verified == "false", "{group:?}");
            Signature {
                source: group[0].1.clone(),
                manifest: group[1].1.clone(),
                verified: verified == "true",
                key: group[3].1.clone(),
                reason: group[4].1.clone(),
            }
        })
        .collect()
}

/// The only signature of an SBOM.
fn only_signature(bom: &Value) -> Signature {
    let all = signatures(bom);
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].clone()
}

/// cosign's key id: `sha256:` of the DER inside the `.pub` PEM.
fn key_id(public_key: &Path) -> String {
    let pem = std::fs::read_to_string(public_key).expect("public key");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    sha256_digest(&base64::decode(&body))
}

/// Asserts gpubom failed to run (exit 2) with one error line, and wrote no SBOM; returns the line.
fn assert_error_line(out: &Output) -> String {
    assert_exit(out, 2);
    assert!(
        out.stdout.is_empty(),
        "an SBOM was written: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = stderr(out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {text}");
    assert!(lines[0].starts_with("gpubom: error: "), "{text}");
    lines[0].to_string()
}

#[test]
fn a_pushed_image_scans_to_the_components_of_its_layout() {
    let test = "a_pushed_image_scans_to_the_components_of_its_layout";
    let (Some(world), Some(spec)) = (World::start(test), image(test)) else {
        return;
    };
    let (layout, digest) = world.push(&spec, &format!("{REPO}:{TAG}"));
    let local = world.scan(&format!("oci-dir:{}", layout.display()), &[]);
    let expected = component_set(&local);
    assert!(
        expected
            .iter()
            .any(|(id, _)| id.starts_with("pkg:deb/debian/zlib1g@"))
            && expected
                .iter()
                .any(|(id, _)| id.starts_with("pkg:pypi/nvidia-nvtx-cu12@")),
        "the layout itself scans to too little: {expected:?}"
    );

    let by_tag = world.reference(&format!("{REPO}:{TAG}"));
    let by_digest = world.reference(&format!("{REPO}@{digest}"));
    for (source, tag) in [
        (by_tag.clone(), Some(TAG)),
        (format!("registry:{by_tag}"), Some(TAG)),
        (by_digest, None),
    ] {
        let bom = world.scan(&source, &[]);
        assert_eq!(component_set(&bom), expected, "{source}");
        assert_eq!(
            metadata_property(&bom, "gpubom:image:digest"),
            Some(digest.clone()),
            "{source}"
        );
        assert_eq!(
            metadata_property(&bom, "gpubom:source:kind").as_deref(),
            Some("registry")
        );
        let root = &bom["metadata"]["component"];
        assert_eq!(root["name"], world.reference(REPO), "{source}");
        // The tag when one was given, else the digest.
        assert_eq!(root["version"], tag.unwrap_or(&digest), "{source}");
        let purl = root["purl"].as_str().expect("root purl");
        let repository_url = world
            .reference(REPO)
            .replace(':', "%3A")
            .replace('/', "%2F");
        assert!(
            purl.contains(&format!("repository_url={repository_url}")),
            "{source}: {purl}"
        );
        assert!(
            purl.contains(&digest.replace(':', "%3A")),
            "{source}: {purl}"
        );
        if let Some(tag) = tag {
            assert!(purl.contains(&format!("tag={tag}")), "{source}: {purl}");
        }
    }
}

/// An image for one platform whose only Python package names the platform.
fn platform_image(architecture: &str) -> ImageSpec {
    let name = format!("synthetic-only-on-{architecture}");
    ImageSpec::new(REPO, "multi")
        .platform("linux", architecture)
        .layer(Layer::new().file(
            &format!("{SITE}/{}-1.0.dist-info/METADATA", name.replace('-', "_")),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
        ))
}

#[test]
fn a_multi_platform_image_is_scanned_for_the_platform_asked() {
    let test = "a_multi_platform_image_is_scanned_for_the_platform_asked";
    let Some(world) = World::start(test) else {
        return;
    };
    let layout = world.path("multi");
    write_multiplatform_oci_dir(
        &layout,
        &[&platform_image("amd64"), &platform_image("arm64")],
    );
    world
        .registry
        .push_oci_layout(&layout, &format!("{REPO}:multi"));
    let reference = world.reference(&format!("{REPO}:multi"));

    for (platform, architecture) in [(None, "amd64"), (Some("linux/arm64"), "arm64")] {
        let extra: Vec<&str> = platform
            .into_iter()
            .flat_map(|p| ["--platform", p])
            .collect();
        let bom = world.scan(&reference, &extra);
        assert_eq!(
            names_versions(&bom, "pkg:pypi/"),
            [format!("synthetic-only-on-{architecture}@1.0")],
            "--platform {platform:?}"
        );
        assert_eq!(
            metadata_property(&bom, "gpubom:image:platform"),
            Some(format!("linux/{architecture}"))
        );
    }

    let out = world.run(&[
        "scan",
        "--plain-http",
        &reference,
        "--platform",
        "linux/s390x",
        "-q",
    ]);
    let line = assert_error_line(&out);
    for named in ["linux/s390x", "linux/amd64", "linux/arm64"] {
        assert!(line.contains(named), "{named} not named: {line}");
    }
}

/// A registry with the test image pushed and two key pairs made, `good` to trust
/// and `other` to sign with where trust must fail.
struct Signing {
    world: World,
    digest: String,
    good: KeyPair,
    other: KeyPair,
}

impl Signing {
    fn start(test: &str) -> Option<Signing> {
        let world = World::start(test)?;
        let spec = image(test)?;
        let (_, digest) = world.push(&spec, &format!("{REPO}:{TAG}"));
        let good = world.keygen(test, "good")?;
        let other = world.keygen(test, "other")?;
        Some(Signing {
            world,
            digest,
            good,
            other,
        })
    }

    fn image(&self) -> String {
        self.world.reference(&format!("{REPO}:{TAG}"))
    }

    /// `sign.py sign` with `key` and `extra` arguments; the `.sig` manifest's digest.
    fn sign(&self, test: &str, key: &KeyPair, extra: &[&str]) -> String {
        self.world
            .sign(test, "sign", &key.private, &self.digest, extra)
    }

    /// The SBOM of the image, scanned trusting `good.pub`.
    fn scan_trusting_good(&self) -> Value {
        self.world
            .scan(&self.image(), &["--key", self.good.public()])
    }

    fn check_trusting_good(&self) -> Checked {
        self.world
            .check(&[&self.image()], &["--key", self.good.public()])
    }
}

#[test]
fn a_proper_signature_verifies_and_satisfies_the_gate() {
    let test = "a_proper_signature_verifies_and_satisfies_the_gate";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    let sig = signing.sign(test, &signing.good, &[]);
    let signature = only_signature(&signing.scan_trusting_good());
    assert_eq!(
        signature,
        Signature {
            source: "tag".into(),
            manifest: sig,
            verified: true,
            key: key_id(&signing.good.public),
            reason: signature.reason.clone(),
        }
    );
    assert!(signature.reason.contains("verified"), "{signature:?}");
    signing.check_trusting_good().silent();
}

#[test]
fn a_tampered_payload_does_not_verify_and_the_gate_says_why() {
    let test = "a_tampered_payload_does_not_verify_and_the_gate_says_why";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    let sig = signing.sign(test, &signing.good, &["--tamper"]);
    let signature = only_signature(&signing.scan_trusting_good());
    assert_eq!(
        (signature.source.as_str(), signature.manifest.as_str()),
        ("tag", sig.as_str())
    );
    assert!(!signature.verified, "{signature:?}");
    assert_eq!(signature.key, "", "{signature:?}");
    let message = signing.check_trusting_good().fired();
    assert!(
        message.contains(&sig) && message.contains(&signature.reason),
        "the finding does not say what was found and why: {message}"
    );
}

#[test]
fn a_signature_over_another_digest_does_not_count() {
    let test = "a_signature_over_another_digest_does_not_count";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    let elsewhere = format!("sha256:{}", "e".repeat(64));
    signing.sign(test, &signing.good, &["--sign-digest", &elsewhere]);
    let signature = only_signature(&signing.scan_trusting_good());
    assert!(!signature.verified, "{signature:?}");
    assert!(
        signature.reason.contains(&elsewhere) && signature.reason.contains("not this image"),
        "the reason does not say it is over another digest: {signature:?}"
    );
    let message = signing.check_trusting_good().fired();
    assert!(message.contains(&elsewhere), "{message}");
}

#[test]
fn a_signature_by_an_untrusted_key_does_not_count() {
    let test = "a_signature_by_an_untrusted_key_does_not_count";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    signing.sign(test, &signing.other, &[]);
    let signature = only_signature(&signing.scan_trusting_good());
    assert!(!signature.verified, "{signature:?}");
    assert_eq!(signature.key, "");
    assert!(
        signature.reason.contains("no trusted key verifies it"),
        "{signature:?}"
    );
    signing.check_trusting_good().fired();
    // The same signature counts once its key is trusted.
    let trusting_other = signing
        .world
        .scan(&signing.image(), &["--key", signing.other.public()]);
    assert!(only_signature(&trusting_other).verified);
}

#[test]
fn an_unsigned_image_fails_the_gate_only_when_a_key_is_trusted() {
    let test = "an_unsigned_image_fails_the_gate_only_when_a_key_is_trusted";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    assert_eq!(signatures(&signing.scan_trusting_good()), []);
    assert_eq!(signatures(&signing.world.scan(&signing.image(), &[])), []);
    let message = signing.check_trusting_good().fired();
    assert!(message.contains("no signature found"), "{message}");
    signing.world.check(&[&signing.image()], &[]).silent();
}

#[test]
fn a_sigstore_bundle_referrer_verifies() {
    let test = "a_sigstore_bundle_referrer_verifies";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    let bundle = signing
        .world
        .sign(test, "bundle", &signing.good.private, &signing.digest, &[]);
    let signature = only_signature(&signing.scan_trusting_good());
    assert_eq!(
        signature,
        Signature {
            source: "bundle".into(),
            manifest: bundle,
            verified: true,
            key: key_id(&signing.good.public),
            reason: signature.reason.clone(),
        }
    );
    signing.check_trusting_good().silent();
}

/// A real keyless cosign v3 bundle (kubewarden-controller v1.34.0, signed by its
/// release workflow) and the sigstore trust root, vendored in tests/fixtures/sigstore.
fn sigstore_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sigstore")
        .join(name)
        .display()
        .to_string()
}

const KUBEWARDEN_RELEASE: &str =
    "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
const GITHUB_ACTIONS: &str = "https://token.actions.githubusercontent.com";

#[test]
fn a_keyless_bundle_is_checked_against_the_trusted_root_and_identities() {
    let test = "a_keyless_bundle_is_checked_against_the_trusted_root_and_identities";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    // Attached unchanged to our image: a real signature, but over kubewarden's digest.
    let bundle = sigstore_fixture("kubewarden-controller-v1.34.0.sigstore.json");
    let mut args = vec!["bundle".to_string(), "--from-file".into(), bundle];
    args.extend(signing.world.registry.sign_py_args(REPO, &signing.digest));
    let manifest = sign_py(test, &args).expect("sign.py ran");

    let config = signing.world.path("keyless.toml");
    std::fs::write(
        &config,
        format!(
            "[signatures]\ntrusted_root = \"{}\"\n\
             [[signatures.identities]]\nsubject = \"{KUBEWARDEN_RELEASE}\"\nissuer = \"{GITHUB_ACTIONS}\"\n",
            sigstore_fixture("trusted_root.json")
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    // No trust root: the identity is reported, never as verified.
    let unrooted = only_signature(&signing.world.scan(&signing.image(), &[]));
    assert_eq!(
        (
            unrooted.source.as_str(),
            unrooted.manifest.as_str(),
            unrooted.verified
        ),
        ("bundle", manifest.as_str(), false)
    );
    assert!(unrooted.key.starts_with(KUBEWARDEN_RELEASE), "{unrooted:?}");
    assert!(unrooted.reason.contains("--trusted-root"), "{unrooted:?}");

    // With the root and the identity, sigstore-rs checks it, and the subject is not us.
    let rooted = only_signature(&signing.world.scan(&signing.image(), &["--config", config]));
    assert!(!rooted.verified, "{rooted:?}");
    assert!(rooted.reason.contains("did not verify"), "{rooted:?}");
    let message = signing
        .world
        .check(&[&signing.image()], &["--config", config])
        .fired();
    assert!(message.contains("did not verify"), "{message}");

    // A trust root that is not one is a clear error before anything is pulled.
    let not_a_root = signing.world.path("not-a-root.json");
    std::fs::write(&not_a_root, "{}").unwrap();
    let out = signing.world.run(&[
        "scan",
        "--plain-http",
        &signing.image(),
        "--trusted-root",
        not_a_root.to_str().unwrap(),
    ]);
    let line = assert_error_line(&out);
    assert!(line.contains("trusted_root.json"), "{line}");
}

#[test]
fn keys_named_in_a_config_file_are_trusted_relative_to_it() {
    let test = "keys_named_in_a_config_file_are_trusted_relative_to_it";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    signing.sign(test, &signing.good, &[]);
    let org = signing.world.path("org");
    std::fs::create_dir(&org).unwrap();
    std::fs::copy(&signing.good.public, org.join("cosign.pub")).unwrap();
    let config = org.join(".gpubom.toml");
    std::fs::write(&config, "[signatures]\nkeys = [\"cosign.pub\"]\n").unwrap();
    let config = config.to_str().unwrap();

    let signature = only_signature(&signing.world.scan(&signing.image(), &["--config", config]));
    assert!(signature.verified, "{signature:?}");
    assert_eq!(signature.key, key_id(&signing.good.public));
    signing
        .world
        .check(&[&signing.image()], &["--config", config])
        .silent();

    // The config's key makes a signature required: one by another key fails the gate.
    signing.sign(test, &signing.other, &[]);
    signing
        .world
        .check(&[&signing.image()], &["--config", config])
        .fired();
}

#[test]
fn check_of_a_scanned_sbom_keeps_the_signature_facts_and_finding() {
    let test = "check_of_a_scanned_sbom_keeps_the_signature_facts_and_finding";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    let key = ["--key", signing.good.public()];
    // The same trust from a config: `check --sbom` refuses --key, since an SBOM's
    // signatures were verified when the image was scanned.
    let config = signing.world.path("trust.toml");
    std::fs::write(
        &config,
        format!("[signatures]\nkeys = [{:?}]\n", signing.good.public()),
    )
    .unwrap();
    let trust = ["--config", config.to_str().unwrap()];
    for (name, tamper) in [("verified.cdx.json", false), ("tampered.cdx.json", true)] {
        let extra: &[&str] = if tamper { &["--tamper"] } else { &[] };
        signing.sign(test, &signing.good, extra);
        let sbom = signing.world.path(name);
        let out = signing.world.run(&[
            "scan",
            "--plain-http",
            &signing.image(),
            "--key",
            signing.good.public(),
            "-q",
            "-o",
            sbom.to_str().unwrap(),
        ]);
        assert_exit(&out, 0);
        assert_eq!(only_signature(&read_json(&sbom)).verified, !tamper);

        let from_image = signing.world.check(&[&signing.image()], &key);
        let from_sbom = signing
            .world
            .check(&["--sbom", sbom.to_str().unwrap()], &trust);
        assert_eq!(
            from_sbom.signature_finding(),
            from_image.signature_finding(),
            "{name}"
        );
        assert_eq!(from_sbom.code, from_image.code, "{name}");
        if tamper {
            from_sbom.fired();
        } else {
            from_sbom.silent();
        }
    }
}

/// `{"auths": {HOST: {"auth": base64(user:password)}}}` in the world's DOCKER_CONFIG.
fn write_docker_config(world: &World, user: &str, password: &str) {
    let dir = world.docker_config_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let config = json!({
        "auths": {
            world.registry.host(): {"auth": base64::encode(format!("{user}:{password}").as_bytes())},
        },
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
}

#[test]
fn credentials_from_the_environment_or_a_docker_config_pull() {
    let test = "credentials_from_the_environment_or_a_docker_config_pull";
    let (Some(world), Some(spec)) = (World::start_with_auth(test, "alice", "s3cret"), image(test))
    else {
        return;
    };
    let (layout, digest) = world.push(&spec, &format!("{REPO}:{TAG}"));
    let expected = component_set(&world.scan(&format!("oci-dir:{}", layout.display()), &[]));
    let reference = world.reference(&format!("{REPO}:{TAG}"));
    let scan = |command: &mut Command| {
        let out = command
            .args([
                "scan",
                "--plain-http",
                &reference,
                "-f",
                "cyclonedx-json",
                "-q",
            ])
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let bom: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(component_set(&bom), expected);
        assert_eq!(
            metadata_property(&bom, "gpubom:image:digest"),
            Some(digest.clone())
        );
    };

    let anonymous = world.scan_fails(&reference);
    assert!(anonymous.contains("access denied"), "{anonymous}");

    scan(
        world
            .gpubom()
            .env("GPUBOM_REGISTRY_USERNAME", "alice")
            .env("GPUBOM_REGISTRY_PASSWORD", "s3cret"),
    );
    write_docker_config(&world, "alice", "s3cret");
    scan(&mut world.gpubom());
}

const WRONG_PASSWORD: &str = "not-s3cret-Zq9";

#[test]
fn wrong_credentials_are_exit_2_without_a_partial_sbom() {
    let test = "wrong_credentials_are_exit_2_without_a_partial_sbom";
    let (Some(world), Some(spec)) = (World::start_with_auth(test, "alice", "s3cret"), image(test))
    else {
        return;
    };
    world.push(&spec, &format!("{REPO}:{TAG}"));
    let reference = world.reference(&format!("{REPO}:{TAG}"));
    let sbom = world.path("sbom.cdx.json");
    let args = [
        "scan",
        "--plain-http",
        &reference,
        "-q",
        "-o",
        sbom.to_str().unwrap(),
    ];

    let from_env = world
        .gpubom()
        .env("GPUBOM_REGISTRY_USERNAME", "alice")
        .env("GPUBOM_REGISTRY_PASSWORD", WRONG_PASSWORD)
        .args(args)
        .output()
        .unwrap();
    write_docker_config(&world, "alice", WRONG_PASSWORD);
    let from_config = world.gpubom().args(args).output().unwrap();
    for (out, origin) in [
        (from_env, "GPUBOM_REGISTRY_USERNAME"),
        (from_config, "config.json"),
    ] {
        let line = assert_error_line(&out);
        assert!(
            line.contains("access denied") && line.contains("credentials") && line.contains(origin),
            "{line}"
        );
        assert!(
            !line.contains(WRONG_PASSWORD),
            "the password leaked: {line}"
        );
        assert!(!sbom.exists(), "a partial SBOM was written");
    }
}

#[test]
fn unknown_tags_and_repositories_are_exit_2() {
    let test = "unknown_tags_and_repositories_are_exit_2";
    let (Some(world), Some(spec)) = (World::start(test), image(test)) else {
        return;
    };
    world.push(&spec, &format!("{REPO}:{TAG}"));
    for missing in [format!("{REPO}:v2"), format!("gpu/nothing:{TAG}")] {
        let reference = world.reference(&missing);
        let line = world.scan_fails(&reference);
        assert!(
            line.contains(&reference) && line.contains("not found"),
            "{line}"
        );
        let check = world.run(&["check", "--plain-http", &reference]);
        assert_error_line(&check);
    }
}

#[test]
fn plain_http_is_never_tried_unasked_and_the_error_says_how() {
    let test = "plain_http_is_never_tried_unasked_and_the_error_says_how";
    let Some(world) = World::start(test) else {
        return;
    };
    let reference = world.reference(&format!("{REPO}:{TAG}"));
    // Without --plain-http gpubom speaks TLS to the HTTP-only registry and fails.
    let line = assert_error_line(&world.run(&["scan", &reference, "-q"]));
    assert!(line.contains("--plain-http"), "{line}");
    // With it, a registry that is gone does not get the same advice.
    let gone = "127.0.0.1:1/gpu/app:1";
    let line = world.scan_fails(gone);
    assert!(
        line.contains("cannot reach") && !line.contains("needs --plain-http"),
        "{line}"
    );
}

/// The image's manifest as the layout holds it.
fn layout_manifest(layout: &Path) -> Value {
    serde_json::from_slice(&layout_blob(layout, &layout_digest(layout))).unwrap()
}

#[test]
fn a_layer_altered_in_the_registry_storage_is_exit_2() {
    let test = "a_layer_altered_in_the_registry_storage_is_exit_2";
    let (Some(world), Some(spec)) = (World::start(test), image(test)) else {
        return;
    };
    let (layout, _) = world.push(&spec, &format!("{REPO}:{TAG}"));
    let manifest = layout_manifest(&layout);
    let layer = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["mediaType"] == OCI_LAYER_TAR)
        .expect("an uncompressed layer");
    let digest = layer["digest"].as_str().unwrap();
    // Same length, one file's bytes changed: the tar still reads, only the digest tells.
    let stored = world.registry.blob_file(digest);
    let mut bytes = std::fs::read(&stored).unwrap();
    let at = bytes
        .windows(MARKER.len())
        .position(|w| w == MARKER.as_bytes())
        .expect("the marker in the stored layer");
    bytes[at..at + MARKER.len()].copy_from_slice(MARKER.to_uppercase().as_bytes());
    std::fs::write(&stored, &bytes).unwrap();

    let line = world.scan_fails(&world.reference(&format!("{REPO}:{TAG}")));
    assert!(
        line.contains(digest) && line.contains("digest mismatch"),
        "{line}"
    );
}

/// The image pushed, then its config blob removed from the registry's storage.
fn image_without_its_config(test: &str) -> Option<(World, String)> {
    let (world, spec) = (World::start(test)?, image(test)?);
    let (layout, _) = world.push(&spec, &format!("{REPO}:{TAG}"));
    let config = layout_manifest(&layout)["config"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::remove_file(world.registry.blob_file(&config)).unwrap();
    Some((world, config))
}

#[test]
fn a_manifest_whose_config_blob_is_gone_is_exit_2() {
    let test = "a_manifest_whose_config_blob_is_gone_is_exit_2";
    let Some((world, config)) = image_without_its_config(test) else {
        return;
    };
    let line = world.scan_fails(&world.reference(&format!("{REPO}:{TAG}")));
    assert!(line.contains(&config), "{line}");
}

#[test]

fn a_missing_config_blob_is_called_the_config() {
    let test = "a_missing_config_blob_is_called_the_config";
    let Some((world, config)) = image_without_its_config(test) else {
        return;
    };
    let line = world.scan_fails(&world.reference(&format!("{REPO}:{TAG}")));
    assert!(line.contains(&format!("config {config}")), "{line}");
    assert!(!line.contains(&format!("layer {config}")), "{line}");
}

#[test]

fn a_manifest_that_is_not_an_image_is_exit_2() {
    let test = "a_manifest_that_is_not_an_image_is_exit_2";
    let Some(world) = World::start(test) else {
        return;
    };
    // distribution refuses JSON that is not a manifest at all; these it stores.
    let blob = |media_type: &str, bytes: &[u8]| {
        json!({
            "mediaType": media_type,
            "digest": world.registry.put_blob(REPO, bytes),
            "size": bytes.len(),
        })
    };
    let cases = [
        (
            "valid JSON that is not an image config",
            json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": blob("application/vnd.oci.image.config.v1+json", br#"{"hello":"world"}"#),
                "layers": [],
            }),
        ),
        (
            "an artifact (an SBOM), not an image",
            json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "artifactType": "application/vnd.cyclonedx+json",
                "config": blob("application/vnd.oci.empty.v1+json", b"{}"),
                "layers": [blob("application/vnd.cyclonedx+json", br#"{"bomFormat":"CycloneDX"}"#)],
            }),
        ),
    ];
    for (tag, (what, manifest)) in ["not-a-config", "artifact"].into_iter().zip(cases) {
        let bytes = serde_json::to_vec(&manifest).unwrap();
        world.registry.put_manifest(REPO, tag, OCI_MANIFEST, &bytes);
        let reference = world.reference(&format!("{REPO}:{tag}"));
        let line = world.scan_fails(&reference);
        assert!(line.contains("not an image"), "{what}: {line}");
    }
}

/// `len` bytes of xorshift64 noise: incompressible, and made here, not downloaded.
fn synthetic_random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Bytes process `pid` has written (to sockets too), from `/proc/PID/io`.
fn bytes_written(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|n| n.trim().parse().ok())
}

#[test]
fn a_registry_that_goes_away_mid_pull_is_exit_2() {
    let test = "a_registry_that_goes_away_mid_pull_is_exit_2";
    let Some(world) = World::start(test) else {
        return;
    };
    const SIZE: usize = 50 << 20;
    let spec = ImageSpec::new(REPO, "big").layer(
        Layer::new()
            .file(
                "opt/synthetic/random-50MiB.bin",
                synthetic_random_bytes(SIZE),
            )
            .compression(Compression::None),
    );
    world.push(&spec, &format!("{REPO}:big"));
    let World { registry, dir } = world;
    let reference = registry.reference(&format!("{REPO}:big"));
    let host = registry.host();
    let pid = registry.pid();
    let before = bytes_written(pid);

    let sbom = dir.path().join("sbom.cdx.json");
    let scan = gpubom_at(dir.path())
        .args(["scan", "--plain-http", &reference, "-q", "-o"])
        .arg(&sbom)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gpubom");
    // Stop the registry once it has served a tenth of the layer: mid-pull, however
    // fast this machine is (where /proc cannot tell, after a moment).
    let deadline = Instant::now() + Duration::from_secs(60);
    match before {
        Some(before) => {
            while bytes_written(pid).is_some_and(|n| n < before + SIZE as u64 / 10) {
                assert!(Instant::now() < deadline, "the pull never started");
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        None => std::thread::sleep(Duration::from_millis(300)),
    }
    drop(registry);
    let out = scan.wait_with_output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(0),
        "a scan of a vanished registry succeeded"
    );
    let line = assert_error_line(&out);
    assert!(line.contains(&host), "the registry is not named: {line}");
    assert!(!sbom.exists(), "a partial SBOM was written");
}

fn get_manifest(registry: &Registry, reference: &str, accept: &str) -> (Value, Vec<u8>) {
    let bytes = registry.get_ok(&format!("/v2/{REPO}/manifests/{reference}"), accept);
    (
        serde_json::from_slice(&bytes).expect("a JSON manifest"),
        bytes,
    )
}

fn get_blob(registry: &Registry, digest: &str) -> Vec<u8> {
    let bytes = registry.get_ok(&format!("/v2/{REPO}/blobs/{digest}"), "*/*");
    assert_eq!(sha256_digest(&bytes), digest);
    bytes
}

#[test]
fn an_attached_sbom_is_listed_beside_the_signature_bundle() {
    let test = "an_attached_sbom_is_listed_beside_the_signature_bundle";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    let world = &signing.world;
    let bundle = world.sign(test, "bundle", &signing.good.private, &signing.digest, &[]);
    let sbom = world.path("sbom.cdx.json");
    let sbom_path = sbom.to_str().unwrap();
    assert_exit(
        &world.run(&[
            "scan",
            "--plain-http",
            &signing.image(),
            "-q",
            "-o",
            sbom_path,
        ]),
        0,
    );
    let attached = world.run(&["attach", "--plain-http", &signing.image(), sbom_path]);
    assert_exit(&attached, 0);

    let tag = signing.digest.replace(':', "-");
    let (index, _) = get_manifest(&world.registry, &tag, OCI_INDEX);
    let listed = |artifact_type: &str| -> Vec<String> {
        index["manifests"]
            .as_array()
            .expect("a referrers index")
            .iter()
            .filter(|m| m["artifactType"] == artifact_type)
            .map(|m| m["digest"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        listed("application/vnd.dev.sigstore.bundle.v0.3+json"),
        [bundle.as_str()],
        "the signature is no longer listed: {index}"
    );
    let sboms = listed("application/vnd.cyclonedx+json");
    assert_eq!(sboms.len(), 1, "{index}");
    assert!(
        String::from_utf8_lossy(&attached.stdout).contains(&sboms[0]),
        "attach does not say what it pushed"
    );

    let (manifest, _) = get_manifest(&world.registry, &sboms[0], MANIFEST_ACCEPT);
    assert_eq!(manifest["artifactType"], "application/vnd.cyclonedx+json");
    assert_eq!(manifest["subject"]["digest"], signing.digest.as_str());
    let layer = &manifest["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.cyclonedx+json");
    assert_eq!(
        get_blob(&world.registry, layer["digest"].as_str().unwrap()),
        std::fs::read(&sbom).unwrap(),
        "the stored SBOM differs from the file attached"
    );

    // The SBOM is not taken for a signature; the bundle still verifies.
    let signature = only_signature(&signing.scan_trusting_good());
    assert_eq!(
        (signature.source.as_str(), signature.manifest.as_str()),
        ("bundle", bundle.as_str())
    );
    assert!(signature.verified, "{signature:?}");
}

/// Writes manifest `digest` and every blob it names from the registry into the
/// layout's `blobs/sha256`; returns its `index.json` descriptor, annotated `kind`.
fn save_manifest(registry: &Registry, digest: &str, layout: &Path, kind: &str) -> Value {
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let (manifest, bytes) = get_manifest(registry, digest, OCI_MANIFEST);
    assert_eq!(sha256_digest(&bytes), digest);
    let named = std::iter::once(&manifest["config"]).chain(manifest["layers"].as_array().unwrap());
    for descriptor in named {
        let blob = descriptor["digest"].as_str().unwrap();
        let hex = blob.trim_start_matches("sha256:");
        std::fs::write(blobs.join(hex), get_blob(registry, blob)).unwrap();
    }
    std::fs::write(blobs.join(digest.trim_start_matches("sha256:")), &bytes).unwrap();
    json!({
        "mediaType": OCI_MANIFEST,
        "digest": digest,
        "size": bytes.len(),
        "annotations": {"kind": kind},
    })
}

#[test]
fn a_cosign_save_layout_scans_as_one_image_with_its_signature() {
    let test = "a_cosign_save_layout_scans_as_one_image_with_its_signature";
    let Some(signing) = Signing::start(test) else {
        return;
    };
    let world = &signing.world;
    let sig = signing.sign(test, &signing.good, &[]);
    // What `cosign save` writes: the image and its .sig manifest side by side.
    let saved = world.path("saved");
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            save_manifest(&world.registry, &signing.digest, &saved, "dev.cosignproject.cosign/image"),
            save_manifest(&world.registry, &sig, &saved, "dev.cosignproject.cosign/sigs"),
        ],
    });
    std::fs::write(saved.join("index.json"), index.to_string()).unwrap();
    std::fs::write(
        saved.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();

    let source = format!("oci-dir:{}", saved.display());
    let bom = world.scan(&source, &["--key", signing.good.public()]);
    assert_eq!(
        only_signature(&bom),
        Signature {
            source: "tag".into(),
            manifest: sig,
            verified: true,
            key: key_id(&signing.good.public),
            reason: only_signature(&bom).reason,
        }
    );
    assert_eq!(
        metadata_property(&bom, "gpubom:image:digest"),
        Some(signing.digest.clone())
    );
    assert_eq!(
        component_set(&bom),
        component_set(&world.scan(&signing.image(), &[])),
        "the layout does not scan as the image"
    );
    world
        .check(&[&source], &["--key", signing.good.public()])
        .silent();
}

// ---- the environment's credentials against synthetic, hostile registries ----
//
// Two hosts on loopback: a registry at 127.0.0.1, and a second server named
// `localhost`, which gpubom must treat as another host (it never resolves names to
// compare them). Each server counts the requests that carried `Authorization`.

const SYNTHETIC_USER: &str = "alice";
const SYNTHETIC_PASSWORD: &str = "s3cret-synthetic";

/// `gpubom scan --plain-http REFERENCE` in `scratch` with the environment's credentials
/// and `env` (GPUBOM_REGISTRY_HOST unset unless given).
fn scan_with_credentials(scratch: &Path, reference: &str, env: &[(&str, &str)]) -> Output {
    let mut command = gpubom_at(scratch);
    command
        .env("GPUBOM_REGISTRY_USERNAME", SYNTHETIC_USER)
        .env("GPUBOM_REGISTRY_PASSWORD", SYNTHETIC_PASSWORD);
    for (name, value) in env {
        command.env(name, value);
    }
    command
        .args(["scan", "--plain-http", reference, "-q"])
        .output()
        .expect("run gpubom")
}

/// The `Authorization` header the environment's credentials make.
fn synthetic_basic() -> String {
    let pair = format!("{SYNTHETIC_USER}:{SYNTHETIC_PASSWORD}");
    format!("Basic {}", base64::encode(pair.as_bytes()))
}

fn unauthorized(challenge: &str) -> Response {
    Response::new(401)
        .header("WWW-Authenticate", challenge)
        .json(&json!({"errors": [{"code": "UNAUTHORIZED", "message": "synthetic"}]}))
}

#[test]
fn synthetic_credentials_go_only_to_the_registry_they_are_for() {
    // A registry that asks every client for basic auth, whoever it is.
    let registry = Server::start(|_| unauthorized("Basic realm=\"synthetic\""));
    let port = registry.port();
    let reference = format!("127.0.0.1:{port}/gpu/app:v1");
    let scratch = tmp();
    for other in [
        "registry.example.com".to_string(),
        format!("localhost:{port}"),
        "127.0.0.1".to_string(),
    ] {
        let out = scan_with_credentials(
            scratch.path(),
            &reference,
            &[("GPUBOM_REGISTRY_HOST", &other)],
        );
        let line = assert_error_line(&out);
        assert!(
            !registry.requests().is_empty(),
            "the registry was never asked"
        );
        assert_eq!(registry.authorized(), 0, "{:?}", registry.requests());
        assert!(
            line.contains("access denied") && line.contains(&format!("are for {other}")),
            "{line}"
        );
    }

    // Named, or the reference's own registry when none is named: they go, and only as
    // the basic credentials they are.
    scan_with_credentials(
        scratch.path(),
        &reference,
        &[("GPUBOM_REGISTRY_HOST", &format!("127.0.0.1:{port}"))],
    );
    let named = registry.authorized();
    assert!(named > 0);
    scan_with_credentials(scratch.path(), &reference, &[]);
    assert!(registry.authorized() > named);
    for request in registry.requests() {
        assert!(
            request.authorization.is_none() || request.authorization == Some(synthetic_basic()),
            "{request:?}"
        );
    }
}

#[test]
fn synthetic_credentials_never_reach_a_token_realm_on_another_host() {
    let realm = Server::start(|_| Response::new(200).json(&json!({"token": "synthetic-token"})));
    let realm_host = format!("localhost:{}", realm.port());
    let challenge = format!("Bearer realm=\"http://{realm_host}/token\",service=\"synthetic\"");
    let registry = Server::start(move |_| unauthorized(&challenge));
    let reference = format!("127.0.0.1:{}/gpu/app:v1", registry.port());
    let scratch = tmp();

    let line = assert_error_line(&scan_with_credentials(scratch.path(), &reference, &[]));
    assert!(
        !realm.requests().is_empty(),
        "the token service was never asked"
    );
    assert_eq!(realm.authorized(), 0, "{:?}", realm.requests());
    assert!(
        line.contains(&realm_host) && line.contains("credential_hosts"),
        "{line}"
    );
    assert!(!line.contains(SYNTHETIC_PASSWORD));

    // The organisation vouches for the token service: then, and only then, they go there.
    std::fs::write(
        scratch.path().join(".gpubom.toml"),
        format!("[registry]\ncredential_hosts = [\"{realm_host}\"]\n"),
    )
    .unwrap();
    scan_with_credentials(scratch.path(), &reference, &[]);
    assert!(
        realm
            .requests()
            .iter()
            .any(|r| r.authorization == Some(synthetic_basic())),
        "{:?}",
        realm.requests()
    );
}

#[test]
fn synthetic_credentials_are_not_sent_after_a_redirect_to_another_host() {
    let storage = Server::start(|_| {
        Response::new(404)
            .json(&json!({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "synthetic"}]}))
    });
    let elsewhere = format!("http://localhost:{}", storage.port());
    // Basic auth asked, then, once given, every request sent to the other host.
    let registry = Server::start(move |request| match request.authorization {
        None => unauthorized("Basic realm=\"synthetic\""),
        Some(_) => Response::new(307).header("Location", &format!("{elsewhere}{}", request.path)),
    });
    let reference = format!("127.0.0.1:{}/gpu/app:v1", registry.port());
    let out = scan_with_credentials(tmp().path(), &reference, &[]);
    assert_error_line(&out);
    assert!(registry.authorized() > 0, "{:?}", registry.requests());
    assert!(
        !storage.requests().is_empty(),
        "the redirect was not followed"
    );
    assert_eq!(storage.authorized(), 0, "{:?}", storage.requests());
}

// A hostile registry: each answer crafted to exhaust or stall the client, served by a
// loopback server; gpubom runs under the address-space limit of the hostile tests and
// must end with one error line, soon.

/// Seconds a scan of a hostile registry may take before the test calls it a hang.
const HOSTILE_SECONDS: u64 = 60;
/// Far more than any limit of gpubom's and what the kernel buffers on loopback, far
/// less than the hostile answers: a client that sent or read more read the answer whole.
const READ_AT_MOST: u64 = 32 << 20;

/// `gpubom scan --plain-http REFERENCE` under [`run_limited_with`], with no docker
/// config of the developer's.
fn scan_hostile(reference: &str) -> Output {
    let scratch = tmp();
    let docker_config = scratch.path().to_str().unwrap();
    run_limited_with(
        &["scan", "--plain-http", reference, "-q"],
        &[("DOCKER_CONFIG", docker_config)],
        HOSTILE_SECONDS,
    )
}

/// A registry that answers every manifest request with `body` (after a `/v2/` that
/// asks for nothing).
fn manifest_server(body: impl Fn() -> Body + Send + Sync + 'static) -> Server {
    Server::start(move |request| {
        if request.path.contains("/manifests/") {
            Response::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .body(body())
        } else {
            Response::new(200).json(&json!({}))
        }
    })
}

#[test]
fn synthetic_an_endless_manifest_is_refused_at_its_limit() {
    let server = manifest_server(|| Body::Endless(b"{\"layers\":[".to_vec()));
    let reference = format!("{}/{REPO}:{TAG}", server.host());
    let line = assert_error_line(&scan_hostile(&reference));
    assert!(
        line.contains(&format!("manifest {reference}"))
            && line.contains("is over 4 MiB")
            && line.contains(&server.host()),
        "{line}"
    );
    assert!(server.body_bytes_sent() < READ_AT_MOST);
}

#[test]
fn synthetic_a_100_mb_manifest_is_refused_before_it_is_read() {
    let server = manifest_server(|| Body::Repeated {
        pattern: b"{\"layers\":[".to_vec(),
        total: 100 << 20,
    });
    let reference = format!("{}/{REPO}:{TAG}", server.host());
    let line = assert_error_line(&scan_hostile(&reference));
    assert!(line.contains("is over 4 MiB"), "{line}");
    assert!(
        server.body_bytes_sent() < READ_AT_MOST,
        "{} bytes of the manifest were read",
        server.body_bytes_sent()
    );
}

/// A registry whose challenge sends clients to a token service that answers `token`;
/// the registry refuses every request. (registry, token service)
fn token_servers(token: impl Fn() -> Body + Send + Sync + 'static) -> (Server, Server) {
    let realm = Server::start(move |_| {
        Response::new(200)
            .header("Content-Type", "application/json")
            .body(token())
    });
    let challenge = format!(
        "Bearer realm=\"http://{}/token\",service=\"synthetic\"",
        realm.host()
    );
    let registry = Server::start(move |_| unauthorized(&challenge));
    (registry, realm)
}

#[test]
fn synthetic_an_endless_token_is_refused_at_its_limit() {
    let (registry, realm) = token_servers(|| Body::Endless(b"{\"token\":\"AAAA".to_vec()));
    let line = assert_error_line(&scan_hostile(&format!("{}/{REPO}:{TAG}", registry.host())));
    assert!(
        line.contains(&format!("a token for {}", registry.host()))
            && line.contains(&realm.host())
            && line.contains("is over 64 KiB"),
        "{line}"
    );
    assert!(realm.body_bytes_sent() < READ_AT_MOST);
}

#[test]
fn synthetic_a_50_mb_token_never_becomes_a_header() {
    let mut token = b"{\"token\":\"".to_vec();
    token.resize(50 << 20, b'A');
    token.extend_from_slice(b"\"}");
    let (registry, realm) = token_servers(move || Body::Whole(token.clone()));
    let line = assert_error_line(&scan_hostile(&format!("{}/{REPO}:{TAG}", registry.host())));
    assert!(line.contains("is over 64 KiB"), "{line}");
    let longest = registry
        .requests()
        .iter()
        .filter_map(|r| r.authorization.as_ref().map(String::len))
        .max();
    assert!(
        longest.is_none_or(|n| n < 64 << 10),
        "an Authorization header of {longest:?} bytes"
    );
    assert!(realm.body_bytes_sent() < READ_AT_MOST);
}

/// A small image in an OCI layout: one uncompressed layer holding [`MARKER_PATH`].
fn small_layout(dir: &Path) -> PathBuf {
    let layout = dir.join("oci");
    ImageSpec::new(REPO, TAG)
        .layer(
            Layer::new()
                .file(MARKER_PATH, MARKER)
                .compression(Compression::None),
        )
        .write_oci_dir(&layout);
    layout
}

#[test]
fn synthetic_an_endless_referrers_list_is_refused_at_its_limit() {
    let scratch = tmp();
    let layout = LayoutRegistry::new(&small_layout(scratch.path()), REPO, TAG);
    let server = Server::start(move |request| {
        if request.path.contains("/referrers/") {
            Response::new(200)
                .header("Content-Type", OCI_INDEX)
                .body(Body::Endless(b"{\"manifests\":[".to_vec()))
        } else {
            layout.answer(request)
        }
    });
    let line = assert_error_line(&scan_hostile(&format!("{}/{REPO}:{TAG}", server.host())));
    assert!(
        line.contains("referrers of sha256:")
            && line.contains(&server.host())
            && line.contains("is over 4 MiB"),
        "{line}"
    );
    assert!(server.body_bytes_sent() < READ_AT_MOST);
}

#[test]
fn synthetic_a_layer_that_does_not_match_its_digest_is_a_digest_mismatch() {
    let scratch = tmp();
    let layout_dir = small_layout(scratch.path());
    let mut layout = LayoutRegistry::new(&layout_dir, REPO, TAG);
    let manifest = layout_manifest(&layout_dir);
    let digest = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    // Same length, one file's bytes changed: the tar still reads, only the digest tells.
    let blob = layout.blob_mut(&digest);
    let at = blob
        .windows(MARKER.len())
        .position(|w| w == MARKER.as_bytes())
        .expect("the marker in the layer");
    blob[at..at + MARKER.len()].copy_from_slice(MARKER.to_uppercase().as_bytes());
    let actual = sha256_digest(blob);
    let server = Server::start(move |request| layout.answer(request));

    let line = assert_error_line(&scan_hostile(&format!("{}/{REPO}:{TAG}", server.host())));
    assert!(
        line.contains("digest mismatch") && line.contains(&digest) && line.contains(&actual),
        "{line}"
    );
    assert!(
        !line.contains("connection") && !line.contains("resume"),
        "{line}"
    );
    let fetched = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("/blobs/{digest}")))
        .count();
    assert_eq!(fetched, 1, "a mismatch is no dropped connection to retry");
}

/// A layer blob whose body never ends (no length declared), or that declares more bytes
/// than its descriptor: refused as soon as the registry has sent more than the manifest
/// declares (the digest, checked at the end, would have waited for the scan's deadline).
#[test]
fn synthetic_a_layer_longer_than_its_descriptor_is_refused_as_it_arrives() {
    for body in ["endless", "declared too long"] {
        let scratch = tmp();
        let layout_dir = small_layout(scratch.path());
        let layout = LayoutRegistry::new(&layout_dir, REPO, TAG);
        let layer = &layout_manifest(&layout_dir)["layers"][0];
        let digest = layer["digest"].as_str().unwrap().to_string();
        let declared = layer["size"].as_u64().unwrap();
        let blob_path = format!("/blobs/{digest}");
        let server = Server::start(move |request| {
            if !request.path.ends_with(&blob_path) {
                return layout.answer(request);
            }
            // Zeros: a tar's end, after which a reader drains the rest to check the digest.
            Response::new(200).body(match body {
                "endless" => Body::Endless(vec![0; 4096]),
                _ => Body::Repeated {
                    pattern: vec![0; 4096],
                    total: 1 << 40,
                },
            })
        });
        let started = std::time::Instant::now();
        let line = assert_error_line(&scan_hostile(&format!("{}/{REPO}:{TAG}", server.host())));
        assert!(
            line.contains(&format!(
                "blob {digest}: the registry sent more than the {declared} bytes the manifest declares"
            )),
            "{body}: {line}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{body}: {:?}",
            started.elapsed()
        );
        assert!(server.body_bytes_sent() < READ_AT_MOST, "{body}");
    }
}
