//! Sigstore bundles (`application/vnd.dev.sigstore.bundle.v0.3+json`), the
//! form `cosign sign` writes by default from v3: a DSSE envelope around an
//! in-toto statement whose subject is the image digest and whose predicate
//! type is cosign's signing predicate. Bundles holding other predicates are
//! attestations, not signatures, and are left out.

use crate::{base64_decode, Outcome, Trust};
use serde::Deserialize;
use sigstore::crypto::Signature;

const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    #[serde(default)]
    verification_material: Option<Material>,
    #[serde(default)]
    dsse_envelope: Option<Envelope>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Material {
    #[serde(default)]
    certificate: Option<RawBytes>,
    #[serde(default)]
    x509_certificate_chain: Option<Chain>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct Chain {
    #[serde(default)]
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    #[serde(default)]
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statement {
    #[serde(default)]
    subject: Vec<Subject>,
    #[serde(default)]
    predicate_type: String,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(default)]
    digest: std::collections::BTreeMap<String, String>,
}

/// DSSE's pre-authentication encoding: what the signature is over.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// `None` for a bundle that is not an image signature (an attestation).
pub(crate) fn check<'a>(
    bytes: &[u8],
    digests: &'a [&'a str],
    trust: &Trust,
) -> Option<Outcome<'a>> {
    let failed = |why: String| Outcome {
        signed_by: None,
        names: Err(why),
        digests,
        identity: None,
        keyless: None,
        keys_tried: trust.key_count(),
    };
    let bundle: Bundle = match serde_json::from_slice(bytes) {
        Ok(b) => b,
        Err(e) => return Some(failed(format!("not a sigstore bundle: {e}"))),
    };
    let Some(envelope) = bundle.dsse_envelope else {
        return Some(failed(
            "a sigstore bundle without a DSSE envelope (a blob signature, not an image's)".into(),
        ));
    };
    let Some(payload) = base64_decode(&envelope.payload) else {
        return Some(failed("the DSSE payload is not base64".into()));
    };
    let statement: Statement = match serde_json::from_slice(&payload) {
        Ok(s) => s,
        Err(e) => {
            return Some(failed(format!(
                "the DSSE payload is not an in-toto statement: {e}"
            )))
        }
    };
    if statement.predicate_type != COSIGN_SIGN_PREDICATE {
        return None;
    }
    let message = pae(&envelope.payload_type, &payload);
    let signed_by = trust.key_verifying(|key| {
        envelope.signatures.iter().any(|s| {
            base64_decode(&s.sig)
                .is_some_and(|raw| key.verify_signature(Signature::Raw(&raw), &message).is_ok())
        })
    });
    let material = bundle.verification_material.unwrap_or_default();
    let certificate = material.certificate.or_else(|| {
        material
            .x509_certificate_chain
            .and_then(|c| c.certificates.into_iter().next())
    });
    let identity = certificate
        .and_then(|c| base64_decode(&c.raw_bytes))
        .and_then(|der| crate::trust::certificate_identity(&der));
    let keyless = match (&identity, &trust.root) {
        (Some(_), Some(root)) if signed_by.is_none() => Some(crate::keyless::verify(
            bytes,
            digests,
            root,
            &trust.identities,
        )),
        _ => None,
    };
    let names = statement
        .subject
        .iter()
        .filter_map(|s| s.digest.get("sha256").map(|hex| format!("sha256:{hex}")))
        .collect();
    Some(Outcome {
        signed_by,
        names: Ok(names),
        digests,
        identity,
        keyless,
        keys_tried: trust.key_count(),
    })
}
