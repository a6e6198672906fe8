//! The `registry` fuzz target's way in (`fuzz/fuzz_targets/registry.rs`): what a
//! registry and its token service send — a challenge header, a token answer, a
//! manifest with its `Docker-Content-Digest`, a referrers list, an error answer — handed
//! to the code that reads each, as answers built in memory instead of a network. Not an
//! API: it exists so that the parsers of hostile answers can be fuzzed without a server,
//! and it checks what they promise.

use crate::answer::{classify, read_capped, status_failure};
use crate::auth::Origin;
use crate::client::{manifest_digest, media_type_of, parse_referrers};
use crate::scope::confine;
use crate::token::{parse_challenge, parse_token, Challenge};
use oci_client::secrets::RegistryAuth;
use reqwest::header::{HeaderValue, CONTENT_LENGTH};
use reqwest::Url;
use std::sync::OnceLock;

/// Where the answers pretend to come from, and the one other host credentials may go to.
const REGISTRY: &str = "registry.example";
const ALLOWED_HOST: &str = "auth.example";
/// The limit the manifest is read to: small, so that inputs cross it.
const MANIFEST_LIMIT: u64 = 4096;

/// One of each answer the client reads.
pub struct Answers<'a> {
    /// `WWW-Authenticate` of the registry's `/v2/`.
    pub challenge: &'a [u8],
    /// The token service's body.
    pub token: &'a [u8],
    /// A manifest's body, and its `Docker-Content-Digest`.
    pub manifest: &'a [u8],
    pub declared_digest: &'a [u8],
    pub referrers: &'a [u8],
    /// An answer other than the one asked for.
    pub error_status: u16,
    pub error_body: &'a [u8],
}

/// Reads every answer as the client does; panics where a reader breaks its promise.
pub fn read_answers(answers: &Answers) {
    let header = HeaderValue::from_bytes(answers.challenge).ok();
    let challenge = parse_challenge(header.as_ref());
    credentials_stay_confined(&challenge);

    if let Ok((token, _)) = parse_token(answers.token) {
        assert!(!token.is_empty());
        assert!(HeaderValue::from_str(&format!("Bearer {token}")).is_ok());
    }

    let read = runtime().block_on(read_capped(
        response(200, answers.manifest, true),
        MANIFEST_LIMIT,
    ));
    match read {
        Ok(Some(body)) => {
            assert_eq!(body, answers.manifest);
            let declared = std::str::from_utf8(answers.declared_digest)
                .ok()
                .filter(|d| !d.is_empty());
            if let (Ok(digest), Some(declared)) = (manifest_digest(&body, declared, None), declared)
            {
                assert_eq!(digest, declared);
            }
            let _ = media_type_of(&body);
        }
        Ok(None) => assert!(answers.manifest.len() as u64 > MANIFEST_LIMIT),
        Err(e) => panic!("a body in memory failed to read: {e}"),
    }

    let _ = parse_referrers(answers.referrers, None);
    let _ = parse_referrers(
        answers.referrers,
        Some("application/vnd.dev.sigstore.bundle.v0.3+json"),
    );

    let failure = runtime().block_on(status_failure(
        response(answers.error_status, answers.error_body, false),
        "https://registry.example/v2/r/manifests/latest",
    ));
    let error = classify(
        failure,
        "manifest r:latest",
        REGISTRY,
        false,
        &Origin::Anonymous,
    );
    assert!(!error.to_string().is_empty());
}

/// The environment's credentials go only to the registry itself or, over https, to a
/// realm on the registry's host or an allowed one.
fn credentials_stay_confined(challenge: &Challenge) {
    let registry = Url::parse(&format!("https://{REGISTRY}/")).expect("a URL");
    let credentials = RegistryAuth::Basic("user".into(), "secret".into());
    let (kept, origin) = confine(
        credentials,
        challenge,
        &registry,
        &[ALLOWED_HOST.to_string()],
    );
    let Challenge::Bearer { realm, .. } = challenge else {
        return;
    };
    if origin != Origin::Environment {
        assert!(matches!(kept, RegistryAuth::Anonymous));
        return;
    }
    let realm = Url::parse(realm).expect("credentials went to a realm that is not a URL");
    assert_eq!(realm.scheme(), "https", "credentials sent without TLS");
    assert!(
        matches!(realm.host_str(), Some(REGISTRY | ALLOWED_HOST))
            && realm.port_or_known_default() == Some(443),
        "credentials sent to {realm}"
    );
}

/// An answer with `status` and `body`, with its length declared or not.
fn response(status: u16, body: &[u8], declare_length: bool) -> reqwest::Response {
    let mut answer = ::http::Response::builder().status(
        ::http::StatusCode::from_u16(status).unwrap_or(::http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    if declare_length {
        answer = answer.header(CONTENT_LENGTH, body.len());
    }
    reqwest::Response::from(answer.body(body.to_vec()).expect("a response"))
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the fuzz target does, on stable: realms on the registry, on an allowed host,
    /// over plain HTTP and elsewhere, and a manifest past the limit.
    #[test]
    fn the_fuzz_targets_checks_hold_on_plain_answers_synthetic() {
        let answers = |challenge: &'static [u8], manifest: &'static [u8]| Answers {
            challenge,
            token: br#"{"token":"abc","expires_in":1}"#,
            manifest,
            declared_digest: b"",
            referrers: br#"{"manifests":[{"digest":"sha256:0","artifactType":"x"}]}"#,
            error_status: 404,
            error_body: br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        };
        let manifest = br#"{"schemaVersion":2,"manifests":[]}"#;
        for challenge in [
            &br#"Bearer realm="https://registry.example/token",service="r""#[..],
            br#"Bearer realm="https://auth.example/token""#,
            br#"Bearer realm="http://auth.example/token""#,
            br#"Bearer realm="https://auth.example:8443/token""#,
            br#"Bearer realm="https://elsewhere.example/token""#,
            br#"Basic realm="r""#,
        ] {
            read_answers(&answers(challenge, manifest));
        }
        read_answers(&answers(b"", &[b' '; 5000]));
    }
}
