//! Attestations beside the image: DSSE envelopes (`application/vnd.dsse.envelope.v1+json`
//! layers, as `cosign attest` and `gpubom attest` push them to the `.att` tag and
//! as referrers), each checked like a signature — a trusted key verifies the
//! envelope's signature over its PAE, and the statement's subject names the
//! scanned digest — and, for `check --attested`, the attested SBOM itself.

use crate::dsse::{self, Envelope, Statement};
use crate::{Outcome, Trust};
use gpubom_image::{Attached, AttachedLayer, DSSE_ENVELOPE};
use gpubom_inventory::{SignatureFact, SignatureSource};
use sigstore::crypto::Signature;

/// The predicate type of a CycloneDX SBOM (in-toto-golang's `PredicateCycloneDX`, which
/// `cosign attest --type cyclonedx` writes).
pub const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";
/// The predicate type of an SPDX document (in-toto-golang's `PredicateSPDX`, which
/// `cosign attest --type spdxjson` writes).
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";

/// One attestation layer, checked.
struct Checked<'a> {
    outcome: Outcome<'a>,
    /// The statement, when the payload is one.
    statement: Option<Statement>,
}

fn check_envelope<'a>(bytes: &[u8], digests: &'a [&'a str], trust: &Trust) -> Checked<'a> {
    let failed = |why: String| Checked {
        outcome: Outcome::unreadable(digests, trust, why),
        statement: None,
    };
    let envelope: Envelope = match serde_json::from_slice(bytes) {
        Ok(e) => e,
        Err(e) => return failed(format!("not a DSSE envelope: {e}")),
    };
    if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
        return failed(format!(
            "the DSSE payload type is {:?}, not {}",
            envelope.payload_type,
            dsse::IN_TOTO_PAYLOAD_TYPE
        ));
    }
    let opened = match dsse::open(&envelope) {
        Ok(o) => o,
        Err(why) => return failed(why),
    };
    let statement: Statement = match serde_json::from_slice(&opened.payload) {
        Ok(s) => s,
        Err(e) => return failed(format!("the DSSE payload is not an in-toto statement: {e}")),
    };
    if ![dsse::STATEMENT_V01, dsse::STATEMENT_V1].contains(&statement.statement_type.as_str()) {
        return failed(format!(
            "the statement's _type is {:?}, not an in-toto statement's",
            statement.statement_type
        ));
    }
    let signed_by = trust.key_verifying(|key| {
        opened.signatures.iter().any(|raw| {
            key.verify_signature(Signature::Raw(raw), &opened.message)
                .is_ok()
        })
    });
    Checked {
        outcome: Outcome {
            signed_by,
            names: Ok(statement.subject_digests()),
            digests,
            identity: None,
            keyless: None,
            keys_tried: trust.key_count(),
        },
        statement: Some(statement),
    }
}

/// The fact one attestation layer makes: verified as a signature is, and named by its
/// predicate type.
pub(crate) fn check_layer(
    manifest: &Attached,
    layer: &AttachedLayer,
    digests: &[&str],
    trust: &Trust,
) -> SignatureFact {
    let checked = check_envelope(&layer.bytes, digests, trust);
    let predicate_type = checked
        .statement
        .as_ref()
        .map(|s| s.predicate_type.clone())
        .or_else(|| layer.annotations.get("predicateType").cloned())
        .unwrap_or_else(|| "unknown predicate".into());
    let mut fact = checked
        .outcome
        .into_fact(manifest, SignatureSource::Attestation);
    fact.reason = format!("{predicate_type} attestation: {}", fact.reason);
    fact
}

/// An attested predicate that verified.
#[derive(Debug)]
pub struct Attested {
    /// Digest of the manifest that carries the attestation.
    pub manifest: String,
    /// The trusted key that signed it (`sha256:` of its DER).
    pub key: String,
    /// The predicate, as JSON.
    pub predicate: Vec<u8>,
}

/// The newest attestation of `predicate_type` in `attached` that a trusted key signed
/// over one of `digests`. `Err` says what was found instead: nothing, or each
/// attestation and why it did not count.
pub fn attested(
    attached: &[Attached],
    digests: &[&str],
    trust: &Trust,
    predicate_type: &str,
) -> Result<Attested, String> {
    let mut refused = Vec::new();
    let mut verified = None;
    for manifest in attached {
        for layer in manifest
            .layers
            .iter()
            .filter(|l| l.media_type == DSSE_ENVELOPE)
        {
            let checked = check_envelope(&layer.bytes, digests, trust);
            let of_type = match &checked.statement {
                Some(s) => s.predicate_type == predicate_type,
                // Altered past reading: whatever it claimed, it is no attestation now.
                None => {
                    layer.annotations.get("predicateType").map(String::as_str)
                        == Some(predicate_type)
                }
            };
            if !of_type {
                continue;
            }
            let fact = check_layer(manifest, layer, digests, trust);
            let predicate = checked.statement.and_then(|s| s.predicate);
            match (fact.verified, fact.key, predicate) {
                (true, Some(key), Some(predicate)) => {
                    verified = Some(Attested {
                        manifest: manifest.digest.clone(),
                        key,
                        predicate: serde_json::to_vec(&predicate).expect("a JSON value serialises"),
                    })
                }
                (true, _, None) => {
                    refused.push(format!("{}: the statement has no predicate", fact.manifest))
                }
                _ => refused.push(format!("{}: {}", fact.manifest, fact.reason)),
            }
        }
    }
    if let Some(found) = verified {
        return Ok(found);
    }
    if refused.is_empty() {
        return Err(format!(
            "no {predicate_type} attestation is attached to {}",
            digests.join(" or ")
        ));
    }
    Err(format!(
        "{} {predicate_type} attestation(s) found, none verified: {}",
        refused.len(),
        refused.join("; ")
    ))
}
