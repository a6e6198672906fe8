//! Sigstore bundles (`application/vnd.dev.sigstore.bundle.v0.3+json`), the
//! form `cosign sign` writes by default from v3: a DSSE envelope around an
//! in-toto statement whose subject is the image digest and whose predicate
//! type is cosign's signing predicate. Bundles holding other predicates are
//! attestations, not signatures, and are left out.

use crate::dsse::{self, Envelope, Statement};
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

/// `None` for a bundle that is not an image signature (an attestation).
pub(crate) fn check<'a>(
    bytes: &[u8],
    digests: &'a [&'a str],
    trust: &Trust,
) -> Option<Outcome<'a>> {
    let failed = |why: String| Outcome::unreadable(digests, trust, why);
    let bundle: Bundle = match serde_json::from_slice(bytes) {
        Ok(b) => b,
        Err(e) => return Some(failed(format!("not a sigstore bundle: {e}"))),
    };
    let Some(envelope) = bundle.dsse_envelope else {
        return Some(failed(
            "a sigstore bundle without a DSSE envelope (a blob signature, not an image's)".into(),
        ));
    };
    let opened = match dsse::open(&envelope) {
        Ok(o) => o,
        Err(why) => return Some(failed(why)),
    };
    let statement: Statement = match serde_json::from_slice(&opened.payload) {
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
    let signed_by = trust.key_verifying(|key| {
        opened.signatures.iter().any(|raw| {
            key.verify_signature(Signature::Raw(raw), &opened.message)
                .is_ok()
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
    let names = statement.subject_digests();
    Some(Outcome {
        signed_by,
        names: Ok(names),
        digests,
        identity,
        keyless,
        keys_tried: trust.key_count(),
    })
}
