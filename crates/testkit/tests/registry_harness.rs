//! The registry harness against the real tools: images pushed by skopeo keep their
//! digests, `sign.py`'s signatures and bundles verify with openssl (not with the
//! code that made them), basic auth is enforced, and no registry outlives its test.

use gpubom_testkit::image::{Compression, ImageSpec, Layer};
use gpubom_testkit::real;
use gpubom_testkit::registry::{self, header, sha256_digest, sign_py, Registry, MANIFEST_ACCEPT};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const REPO: &str = "gpu/app";

/// An OCI layout with a gzip and an uncompressed layer (skopeo would compress the
/// latter unless told to keep digests); returns it with its manifest digest.
fn write_layout(dir: &Path) -> (PathBuf, String) {
    let layout = dir.join("layout");
    ImageSpec::new("gpu/app", "v1")
        .layer(Layer::new().file("usr/lib/libcudart.so.12", "not really cuda"))
        .layer(
            Layer::new()
                .file("app/model.onnx", "weights")
                .compression(Compression::None),
        )
        .write_oci_dir(&layout);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    (layout, digest)
}

/// A registry with the test image pushed as `gpu/app:v1`: (registry, digest, temp dir).
fn registry_with_image(
    test: &str,
    credentials: Option<(&str, &str)>,
) -> Option<(Registry, String, tempfile::TempDir)> {
    if let Err(e) = Command::new("openssl").arg("version").output() {
        real::skip(test, &format!("cannot run openssl: {e}"));
        return None;
    }
    let registry = match credentials {
        Some((user, password)) => Registry::start_with_auth(test, user, password)?,
        None => Registry::start(test)?,
    };
    let dir = tempfile::tempdir().unwrap();
    let (layout, digest) = write_layout(dir.path());
    registry.push_oci_layout(&layout, &format!("{REPO}:v1"));
    Some((registry, digest, dir))
}

/// A fresh key pair in `dir`: (private key, public key).
fn keygen(test: &str, dir: &Path) -> Option<(String, PathBuf)> {
    let (private, public) = registry::cosign_keygen(test, &dir.join("cosign"))?;
    Some((private.to_str().unwrap().to_string(), public))
}

fn openssl(args: &[&str], stdin: &[u8]) -> (bool, Vec<u8>) {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), out.stdout)
}

fn base64_decode(text: &str) -> Vec<u8> {
    let (ok, bytes) = openssl(&["base64", "-d", "-A"], text.as_bytes());
    assert!(ok, "not base64: {text}");
    bytes
}

/// Whether `openssl dgst -sha256 -verify` accepts the base64 DER `signature` over `data`.
fn openssl_verifies(public_key: &Path, data: &[u8], signature: &str, dir: &Path) -> bool {
    let signature_file = dir.join("signature.der");
    std::fs::write(&signature_file, base64_decode(signature)).unwrap();
    let (ok, _) = openssl(
        &[
            "dgst",
            "-sha256",
            "-verify",
            public_key.to_str().unwrap(),
            "-signature",
            signature_file.to_str().unwrap(),
        ],
        data,
    );
    ok
}

fn get_json(registry: &Registry, path: &str, accept: &str) -> (serde_json::Value, Vec<u8>) {
    let body = registry.get_ok(path, accept);
    (serde_json::from_slice(&body).unwrap(), body)
}

fn get_blob(registry: &Registry, digest: &str) -> Vec<u8> {
    let (status, _, body) = registry.get(&format!("/v2/{REPO}/blobs/{digest}"), "*/*");
    assert_eq!(status, 200, "GET blob {digest}");
    assert_eq!(sha256_digest(&body), digest);
    body
}

/// The `.sig` manifest of `digest`, checked to be `expected`: (payload, payload JSON,
/// base64 signature).
fn cosign_signature(
    registry: &Registry,
    digest: &str,
    expected: &str,
) -> (Vec<u8>, serde_json::Value, String) {
    let tag = format!("{}.sig", digest.replace(':', "-"));
    assert_eq!(registry.manifest_digest(&format!("{REPO}:{tag}")), expected);
    let (manifest, _) = get_json(
        registry,
        &format!("/v2/{REPO}/manifests/{tag}"),
        MANIFEST_ACCEPT,
    );
    let layer = &manifest["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let payload = get_blob(registry, layer["digest"].as_str().unwrap());
    let signature = layer["annotations"]["dev.cosignproject.cosign/signature"]
        .as_str()
        .unwrap()
        .to_string();
    (
        payload.clone(),
        serde_json::from_slice(&payload).unwrap(),
        signature,
    )
}

#[test]
fn a_pushed_layout_keeps_its_manifest_digest() {
    let test = "a_pushed_layout_keeps_its_manifest_digest";
    let Some((registry, digest, dir)) = registry_with_image(test, None) else {
        return;
    };
    assert_eq!(registry.manifest_digest(&format!("{REPO}:v1")), digest);
    assert_eq!(
        registry.manifest_digest(&format!("{REPO}@{digest}")),
        digest
    );
    let layout_manifest = std::fs::read(
        dir.path()
            .join("layout/blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .unwrap();
    let (status, headers, served) =
        registry.get(&format!("/v2/{REPO}/manifests/v1"), MANIFEST_ACCEPT);
    assert_eq!(status, 200);
    assert_eq!(served, layout_manifest, "skopeo rewrote the manifest");
    assert_eq!(
        header(&headers, "Content-Type"),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert_eq!(
        registry.reference("gpu/app:v1"),
        format!("{}/gpu/app:v1", registry.host())
    );
}

#[test]
fn blobs_and_manifests_put_over_http_read_back() {
    let test = "blobs_and_manifests_put_over_http_read_back";
    let Some(registry) = Registry::start(test) else {
        return;
    };
    let config = registry.put_blob("raw/thing", b"{}");
    assert_eq!(
        config,
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [],
    }))
    .unwrap();
    let pushed = registry.put_manifest(
        "raw/thing",
        "t1",
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
    assert_eq!(pushed, sha256_digest(&manifest));
    assert_eq!(registry.manifest_digest("raw/thing:t1"), pushed);
    let (status, _, _) = registry.get("/v2/raw/thing/manifests/missing", MANIFEST_ACCEPT);
    assert_eq!(status, 404);
}

#[test]
fn a_sign_py_signature_verifies_over_the_pushed_payload() {
    let test = "a_sign_py_signature_verifies_over_the_pushed_payload";
    let Some((registry, digest, dir)) = registry_with_image(test, None) else {
        return;
    };
    let Some((key, public_key)) = keygen(test, dir.path()) else {
        return;
    };
    let target = registry.sign_py_args(REPO, &digest);
    let sign = |extra: &[&str]| {
        let mut args = vec!["sign".to_string(), "--key".into(), key.clone()];
        args.extend(target.iter().cloned());
        args.extend(extra.iter().map(|s| s.to_string()));
        sign_py(test, &args).unwrap()
    };

    let (payload, json, signature) = cosign_signature(&registry, &digest, &sign(&[]));
    assert_eq!(
        String::from_utf8(payload.clone()).unwrap(),
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"{}/{REPO}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#,
            registry.host()
        )
    );
    assert_eq!(json["critical"]["image"]["docker-manifest-digest"], digest);
    assert!(openssl_verifies(
        &public_key,
        &payload,
        &signature,
        dir.path()
    ));

    // --tamper: same image named, one byte changed after signing; only the signature tells.
    let (payload, json, signature) = cosign_signature(&registry, &digest, &sign(&["--tamper"]));
    assert_eq!(json["critical"]["image"]["docker-manifest-digest"], digest);
    assert!(!openssl_verifies(
        &public_key,
        &payload,
        &signature,
        dir.path()
    ));

    // --sign-digest: a valid signature, stored under this image's tag, for another image.
    let other = format!("sha256:{}", "0".repeat(64));
    let (payload, json, signature) =
        cosign_signature(&registry, &digest, &sign(&["--sign-digest", &other]));
    assert_eq!(json["critical"]["image"]["docker-manifest-digest"], other);
    assert!(openssl_verifies(
        &public_key,
        &payload,
        &signature,
        dir.path()
    ));
}

#[test]
fn a_sign_py_bundle_is_a_referrer_listed_in_the_tag_schema_index() {
    let test = "a_sign_py_bundle_is_a_referrer_listed_in_the_tag_schema_index";
    let Some((registry, digest, dir)) = registry_with_image(test, None) else {
        return;
    };
    let Some((key, public_key)) = keygen(test, dir.path()) else {
        return;
    };
    let mut args = vec!["bundle".to_string(), "--key".into(), key];
    args.extend(registry.sign_py_args(REPO, &digest));
    let first = sign_py(test, &args).unwrap();
    let second = sign_py(test, &args).unwrap();

    let (index, _) = get_json(
        &registry,
        &format!("/v2/{REPO}/manifests/{}", digest.replace(':', "-")),
        "application/vnd.oci.image.index.v1+json",
    );
    let listed: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [first.as_str(), second.as_str()]);
    assert_eq!(
        index["manifests"][0]["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );

    let (manifest, _) = get_json(
        &registry,
        &format!("/v2/{REPO}/manifests/{first}"),
        MANIFEST_ACCEPT,
    );
    let (_, image_manifest) = get_json(
        &registry,
        &format!("/v2/{REPO}/manifests/{digest}"),
        MANIFEST_ACCEPT,
    );
    assert_eq!(
        manifest["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(
        get_blob(&registry, manifest["config"]["digest"].as_str().unwrap()),
        b"{}"
    );
    assert_eq!(manifest["subject"]["digest"], digest);
    assert_eq!(manifest["subject"]["size"], image_manifest.len());

    let bundle: serde_json::Value = serde_json::from_slice(&get_blob(
        &registry,
        manifest["layers"][0]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let public_der = openssl(
        &[
            "pkey",
            "-pubin",
            "-in",
            public_key.to_str().unwrap(),
            "-outform",
            "DER",
        ],
        b"",
    )
    .1;
    let hint = base64_decode(
        bundle["verificationMaterial"]["publicKey"]["hint"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        format!("sha256:{}", hex::encode(hint)),
        sha256_digest(&public_der)
    );

    let envelope = &bundle["dsseEnvelope"];
    let payload_type = envelope["payloadType"].as_str().unwrap();
    assert_eq!(payload_type, "application/vnd.in-toto+json");
    let statement = base64_decode(envelope["payload"].as_str().unwrap());
    let parsed: serde_json::Value = serde_json::from_slice(&statement).unwrap();
    assert_eq!(
        parsed["subject"][0]["digest"]["sha256"],
        digest.trim_start_matches("sha256:")
    );
    assert_eq!(
        parsed["predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    let mut pae = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        statement.len()
    )
    .into_bytes();
    pae.extend_from_slice(&statement);
    let signature = envelope["signatures"][0]["sig"].as_str().unwrap();
    assert!(openssl_verifies(&public_key, &pae, signature, dir.path()));
    assert!(!openssl_verifies(
        &public_key,
        &statement,
        signature,
        dir.path()
    ));
}

#[test]
fn an_auth_registry_wants_the_password() {
    let test = "an_auth_registry_wants_the_password";
    let Some((registry, digest, dir)) = registry_with_image(test, Some(("alice", "s3cret"))) else {
        return;
    };
    let (status, headers, _) = registry.get_as("/v2/", "*/*", None);
    assert_eq!(status, 401);
    assert_eq!(
        header(&headers, "WWW-Authenticate"),
        Some(r#"Basic realm="gpubom-test""#)
    );
    assert_eq!(
        registry.get_as("/v2/", "*/*", Some(("alice", "wrong"))).0,
        401
    );
    assert_eq!(registry.get("/v2/", "*/*").0, 200);
    let (status, _, _) =
        registry.get_as(&format!("/v2/{REPO}/manifests/v1"), MANIFEST_ACCEPT, None);
    assert_eq!(status, 401);
    // skopeo pushed with the credentials; sign.py signs with them.
    assert_eq!(registry.manifest_digest(&format!("{REPO}:v1")), digest);
    let Some((key, _)) = keygen(test, dir.path()) else {
        return;
    };
    let mut args = vec!["sign".to_string(), "--key".into(), key];
    args.extend(registry.sign_py_args(REPO, &digest));
    let signature = sign_py(test, &args).unwrap();
    let tag = format!("{REPO}:{}.sig", digest.replace(':', "-"));
    assert_eq!(registry.manifest_digest(&tag), signature);
}

fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn no_registry_outlives_its_test() {
    let test = "no_registry_outlives_its_test";
    let Some(registry) = Registry::start(test) else {
        return;
    };
    let pid = registry.pid();
    assert!(alive(pid));
    drop(registry);
    assert!(!alive(pid), "docker-registry {pid} still runs after drop");

    let pid = std::sync::atomic::AtomicU32::new(0);
    let panicked = std::panic::catch_unwind(|| {
        let registry = Registry::start(test).unwrap();
        pid.store(registry.pid(), std::sync::atomic::Ordering::SeqCst);
        panic!("a failing test");
    });
    assert!(panicked.is_err());
    let pid = pid.into_inner();
    assert!(
        !alive(pid),
        "docker-registry {pid} still runs after a panic"
    );
}
