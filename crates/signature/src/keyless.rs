//! Keyless (Fulcio + Rekor) verification of sigstore bundles, offline.
//!
//! A keyless signature is only as good as the trust root it is checked
//! against, so nothing here reaches the network: the organisation hands over
//! sigstore's `trusted_root.json` (`--trusted-root`), and a signature counts
//! only when all of these hold:
//!
//! - sigstore-rs's bundle verifier passes: the certificate chains to a Fulcio
//!   CA in the root at signing time, its embedded SCT is signed by a CT log in
//!   the root, the DSSE signature is the certificate key's, the in-toto
//!   subject is the scanned digest, the Rekor entry's body matches the
//!   envelope, and the entry was integrated while the certificate was valid;
//! - the certificate names one of the identities (SAN and OIDC issuer) the
//!   organisation trusts;
//! - Rekor's signed entry timestamp — its promise that the entry is in the
//!   log — verifies with a Rekor key from the root. sigstore-rs 0.15 leaves
//!   this step as a TODO, so it is done here.

use base64::Engine;
use serde::Deserialize;
use sigstore::bundle::verify::policy::Identity as IdentityPolicy;
use sigstore::bundle::verify::{blocking::Verifier, ArtifactDigest};
use sigstore::bundle::Bundle;
use sigstore::crypto::{CosignVerificationKey, Signature};
use sigstore::trust::ManualTrustRoot;
use std::collections::BTreeMap;
use std::path::Path;

/// A keyless signer the organisation names: certificate subject and OIDC issuer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub subject: String,
    pub issuer: String,
}

/// The parts of sigstore's `trusted_root.json` that offline verification uses.
pub struct TrustedRoot {
    fulcio_certificates: Vec<Vec<u8>>,
    ct_keys: Vec<Vec<u8>>,
    /// Rekor log id (sha256 of the key's DER) → the key.
    rekor_keys: BTreeMap<Vec<u8>, CosignVerificationKey>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootFile {
    #[serde(default)]
    tlogs: Vec<Log>,
    #[serde(default)]
    ctlogs: Vec<Log>,
    #[serde(default)]
    certificate_authorities: Vec<Authority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Log {
    public_key: RawKey,
    log_id: LogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    #[serde(default)]
    raw_bytes: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Authority {
    cert_chain: CertChain,
}

#[derive(Deserialize)]
struct CertChain {
    certificates: Vec<RawCertificate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCertificate {
    raw_bytes: String,
}

impl TrustedRoot {
    pub fn load(path: &Path) -> Result<TrustedRoot, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the trusted root {}: {e}", path.display()))?;
        TrustedRoot::parse(&bytes).map_err(|why| {
            format!(
                "{}: not a sigstore trusted_root.json ({why}); get it with `cosign trusted-root create` \
                 or from sigstore's TUF repository",
                path.display()
            )
        })
    }

    pub fn parse(bytes: &[u8]) -> Result<TrustedRoot, String> {
        let file: RootFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let decode = |text: &str, what: &str| {
            crate::base64_decode(text).ok_or_else(|| format!("{what} is not base64"))
        };
        let mut fulcio_certificates = Vec::new();
        for authority in &file.certificate_authorities {
            for certificate in &authority.cert_chain.certificates {
                fulcio_certificates.push(decode(&certificate.raw_bytes, "a CA certificate")?);
            }
        }
        if fulcio_certificates.is_empty() {
            return Err("it names no certificate authority".into());
        }
        let mut ct_keys = Vec::new();
        for log in &file.ctlogs {
            if let Some(raw) = &log.public_key.raw_bytes {
                ct_keys.push(decode(raw, "a CT log key")?);
            }
        }
        let mut rekor_keys = BTreeMap::new();
        for log in &file.tlogs {
            let Some(raw) = &log.public_key.raw_bytes else {
                continue;
            };
            let der = decode(raw, "a Rekor key")?;
            // Keys of a kind sigstore-rs cannot use (Rekor v2's Ed25519
            // checkpoints, say) cannot verify anything, so they are left out.
            if let Ok(key) = CosignVerificationKey::try_from_der(&der) {
                rekor_keys.insert(decode(&log.log_id.key_id, "a Rekor log id")?, key);
            }
        }
        Ok(TrustedRoot {
            fulcio_certificates,
            ct_keys,
            rekor_keys,
        })
    }

    fn verifier(&self) -> Result<Verifier, String> {
        let root = ManualTrustRoot {
            fulcio_certs: self
                .fulcio_certificates
                .iter()
                .map(|der| der.as_slice().into())
                .collect(),
            rekor_keys: BTreeMap::new(),
            ctfe_keys: self
                .ct_keys
                .iter()
                .enumerate()
                .map(|(i, der)| (i.to_string(), der.clone()))
                .collect(),
        };
        Verifier::new(Default::default(), root).map_err(|e| format!("the trusted root: {e}"))
    }
}

/// What a keyless check concluded: the identity that verified, or why none did.
pub(crate) type Verdict = Result<String, String>;

/// Checks a sigstore bundle's keyless signature over one of `digests`.
pub(crate) fn verify(
    bundle_json: &[u8],
    digests: &[&str],
    root: &TrustedRoot,
    identities: &[Identity],
) -> Verdict {
    if identities.is_empty() {
        return Err(
            "no keyless identity is trusted (add [[signatures.identities]] \
                    with subject and issuer to .gpubom.toml)"
                .into(),
        );
    }
    let bundle: Bundle = serde_json::from_slice(bundle_json)
        .map_err(|e| format!("not a sigstore bundle sigstore-rs can read: {e}"))?;
    let verifier = root.verifier()?;
    let mut last_failure = String::from("no digest to check it against");
    for digest in digests {
        let Some(artifact) = sha256_artifact(digest) else {
            continue;
        };
        for identity in identities {
            let policy = IdentityPolicy::new(&identity.subject, &identity.issuer);
            match verifier.verify_digest_with(artifact, bundle.clone(), &policy, true) {
                Ok(()) => {
                    let index = signed_entry_timestamp(&bundle, root)?;
                    return Ok(format!(
                        "verified keyless: {} ({}), Rekor entry {index}",
                        identity.subject, identity.issuer
                    ));
                }
                Err(e) => last_failure = e.to_string(),
            }
        }
    }
    Err(format!("keyless signature did not verify: {last_failure}"))
}

fn sha256_artifact(digest: &str) -> Option<ArtifactDigest> {
    let bytes = hex::decode(digest.strip_prefix("sha256:")?).ok()?;
    Some(ArtifactDigest::Sha256(bytes.try_into().ok()?))
}

/// Rekor's signed entry timestamp (the "inclusion promise") over the entry,
/// checked with the trusted root's key for that log. Returns the log index.
fn signed_entry_timestamp(bundle: &Bundle, root: &TrustedRoot) -> Result<i64, String> {
    let entry = bundle
        .verification_material
        .as_ref()
        .and_then(|m| m.tlog_entries.first())
        .ok_or("the bundle has no Rekor entry")?;
    let promise = entry.inclusion_promise.as_ref().ok_or(
        "the Rekor entry carries no signed entry timestamp, and gpubom cannot check \
         a checkpoint-only (Rekor v2) entry offline",
    )?;
    let log_id = entry
        .log_id
        .as_ref()
        .map(|l| l.key_id.clone())
        .unwrap_or_default();
    let key = root
        .rekor_keys
        .get(&log_id)
        .ok_or("the Rekor entry is from a log the trusted root does not name")?;
    let body = base64::engine::general_purpose::STANDARD.encode(&entry.canonicalized_body);
    let signed = serde_json_canonicalizer::to_vec(&serde_json::json!({
        "body": body,
        "integratedTime": entry.integrated_time,
        "logID": hex::encode(&log_id),
        "logIndex": entry.log_index,
    }))
    .map_err(|e| format!("cannot canonicalise the Rekor entry: {e}"))?;
    key.verify_signature(Signature::Raw(&promise.signed_entry_timestamp), &signed)
        .map_err(|_| {
            "Rekor's signed entry timestamp does not verify: the log entry is forged or altered"
        })?;
    Ok(entry.log_index)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real bytes, from sigstore-rs 0.15.0's tests/data (see the fixtures README).
    const BUNDLE: &[u8] = include_bytes!(
        "../../../tests/fixtures/sigstore/kubewarden-controller-v1.34.0.sigstore.json"
    );
    const ROOT: &[u8] = include_bytes!("../../../tests/fixtures/sigstore/trusted_root.json");
    const SIGNED: &str = "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";

    fn release_workflow() -> Identity {
        Identity {
            subject: "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0".into(),
            issuer: "https://token.actions.githubusercontent.com".into(),
        }
    }

    fn root() -> TrustedRoot {
        TrustedRoot::parse(ROOT).unwrap()
    }

    #[test]
    fn a_real_cosign_v3_bundle_verifies_for_its_signer_and_digest() {
        let verdict = verify(BUNDLE, &[SIGNED], &root(), &[release_workflow()]).unwrap();
        assert!(verdict.contains("kubewarden-controller"), "{verdict}");
        assert!(verdict.contains("Rekor entry 1261105807"), "{verdict}");
    }

    #[test]
    fn another_identity_or_issuer_does_not_count() {
        let mut other = release_workflow();
        other.subject = other.subject.replace("v1.34.0", "v1.35.0");
        let why = verify(BUNDLE, &[SIGNED], &root(), &[other]).unwrap_err();
        assert!(why.contains("did not verify"), "{why}");
        let mut issuer = release_workflow();
        issuer.issuer = "https://accounts.google.com".into();
        assert!(verify(BUNDLE, &[SIGNED], &root(), &[issuer]).is_err());
    }

    #[test]
    fn a_signature_over_another_digest_does_not_count() {
        let other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        assert!(verify(BUNDLE, &[other], &root(), &[release_workflow()]).is_err());
    }

    #[test]
    fn a_root_without_that_fulcio_ca_does_not_verify() {
        let mut file: serde_json::Value = serde_json::from_slice(ROOT).unwrap();
        // Keep only the 2021 CA, which did not issue this 2026 certificate.
        file["certificateAuthorities"]
            .as_array_mut()
            .unwrap()
            .truncate(1);
        let narrow = TrustedRoot::parse(&serde_json::to_vec(&file).unwrap()).unwrap();
        assert!(verify(BUNDLE, &[SIGNED], &narrow, &[release_workflow()]).is_err());
    }

    #[test]
    fn a_forged_signed_entry_timestamp_is_caught() {
        let mut bundle: serde_json::Value = serde_json::from_slice(BUNDLE).unwrap();
        let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
        // The bundle verifier does not read the index; only the timestamp
        // binds it, so an altered index must fail here.
        entry["logIndex"] = serde_json::json!("1261105808");
        let why = verify(
            &serde_json::to_vec(&bundle).unwrap(),
            &[SIGNED],
            &root(),
            &[release_workflow()],
        )
        .unwrap_err();
        assert!(why.contains("signed entry timestamp"), "{why}");
    }

    #[test]
    fn no_trusted_identity_means_not_verified() {
        let why = verify(BUNDLE, &[SIGNED], &root(), &[]).unwrap_err();
        assert!(why.contains("[[signatures.identities]]"), "{why}");
    }

    #[test]
    fn a_malformed_root_is_an_error() {
        assert!(TrustedRoot::parse(b"{}").is_err());
        assert!(TrustedRoot::parse(b"not json").is_err());
    }
}
