//! Signatures as `gpubom_signature::check` reads them from an image's attached
//! manifests, before anything is verified. The first byte picks the layer:
//! - 0: a sigstore bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`), the rest of
//!   the input, checked keyless against sigstore's real `trusted_root.json`
//!   (`tests/fixtures/sigstore`) for the signer of the real bundle there;
//! - 1: a cosign simple-signing layer: the rest's first line is the signature
//!   annotation (base64), what follows the payload, checked with the public key below;
//! - 2: a simple-signing layer whose certificate annotation is the rest.
//!
//! Checked: every fact gives its reason, and one that says verified names its key or
//! its signer.
#![no_main]
use gpubom_image::{Attached, AttachedLayer, Discovery};
use gpubom_signature::{Identity, Trust};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// An ECDSA P-256 public key made for this target with OpenSSL 3.0
/// (`openssl ecparam -name prime256v1 -genkey`, then `openssl ec -pubout`); the private
/// key signed the simple-signing seeds in `corpus/sigstore_bundle` and was discarded.
const COSIGN_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvj2pFQ4/4aiUx5VBXzcSq2aG4K4O
i5MDn7IQ0kqr4b8Ma52LaPrCR72Ewq7uJEDvGZZ4EEvLPnkNDdGgoibZiA==
-----END PUBLIC KEY-----
";
const TRUSTED_ROOT: &[u8] = include_bytes!("../../tests/fixtures/sigstore/trusted_root.json");
/// The image the real bundle signs, and the one the simple-signing seeds name.
const DIGESTS: &[&str] = &[
    "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172",
    "sha256:0000000000000000000000000000000000000000000000000000000000000001",
];

fn trust() -> &'static Trust {
    static TRUST: OnceLock<Trust> = OnceLock::new();
    TRUST.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("gpubom-fuzz-sig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("cosign.pub");
        let root = dir.join("trusted_root.json");
        std::fs::write(&key, COSIGN_PUB).unwrap();
        std::fs::write(&root, TRUSTED_ROOT).unwrap();
        let identity = Identity {
            subject: "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0".into(),
            issuer: "https://token.actions.githubusercontent.com".into(),
        };
        let trust = Trust::load(&[key.as_path()], vec![identity], Some(root.as_path())).unwrap();
        let _ = std::fs::remove_dir_all(PathBuf::from(&dir));
        trust
    })
}

fn layer(media_type: &str, annotations: &[(&str, &[u8])], bytes: &[u8]) -> AttachedLayer {
    AttachedLayer {
        media_type: media_type.into(),
        annotations: annotations
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v).into_owned()))
            .collect::<BTreeMap<_, _>>(),
        bytes: bytes.to_vec(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    const SIMPLE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    const SIGNATURE: &str = "dev.cosignproject.cosign/signature";
    let layer = match mode % 3 {
        0 => layer("application/vnd.dev.sigstore.bundle.v0.3+json", &[], rest),
        1 => {
            let (signature, payload) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            layer(SIMPLE, &[(SIGNATURE, signature)], payload)
        }
        _ => layer(
            SIMPLE,
            &[
                (SIGNATURE, b"MEUCIQ=="),
                ("dev.sigstore.cosign/certificate", rest),
            ],
            b"{}",
        ),
    };
    let attached = Attached {
        digest: "sha256:fuzz".into(),
        found_via: Discovery::Referrer,
        artifact_type: None,
        layers: vec![layer],
        problem: None,
    };
    for fact in gpubom_signature::check(&[attached], DIGESTS, trust()) {
        if fact.verified {
            assert!(fact.key.is_some() || fact.identity.is_some(), "{fact:?}");
        }
        assert!(!fact.reason.is_empty());
    }
});
