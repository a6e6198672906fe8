//! DSSE envelopes around in-toto statements: the one signed form that cosign's
//! attestations and sigstore bundles share, read for verification and written
//! by `gpubom attest`.
//!
//! The statement is written as `cosign attest --type cyclonedx` writes it
//! (cosign's `pkg/cosign/attestation/attestation.go`, `generateCycloneDXStatement`):
//! `_type` in-toto's Statement v0.1, one subject named by the repository with
//! the image digest's sha256, the predicate type from in-toto-golang's
//! `attestations.go`, and the SBOM as the predicate. Readers accept the v1
//! statement type too, which in-toto's spec asks of them.

use crate::base64_decode;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The envelope's payload type for in-toto statements; cosign refuses any other.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// What cosign writes as `_type` (in-toto-golang's `StatementInTotoV01`).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// The current in-toto statement type, accepted on reading.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";

/// A DSSE envelope as cosign's DSSE library writes it: payload type, payload, then the
/// signatures, each with its (possibly empty) key id.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Envelope {
    pub payload_type: String,
    pub payload: String,
    #[serde(default)]
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: String,
    pub sig: String,
}

/// The parts of an in-toto statement a check reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Statement {
    #[serde(rename = "_type", default)]
    pub statement_type: String,
    #[serde(default)]
    pub subject: Vec<Subject>,
    #[serde(default)]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: Option<serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Subject {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// The subjects' sha256 digests, as `sha256:<hex>`.
    pub fn subject_digests(&self) -> Vec<String> {
        self.subject
            .iter()
            .filter_map(|s| s.digest.get("sha256").map(|hex| format!("sha256:{hex}")))
            .collect()
    }
}

/// DSSE's pre-authentication encoding: what the signature is over.
pub(crate) fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
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

/// An envelope read: its payload decoded, its raw signatures, and the PAE they sign.
pub(crate) struct Opened {
    pub payload: Vec<u8>,
    pub signatures: Vec<Vec<u8>>,
    pub message: Vec<u8>,
}

/// Decodes an envelope's payload and signatures; `Err` says what is wrong with it.
pub(crate) fn open(envelope: &Envelope) -> Result<Opened, String> {
    let payload =
        base64_decode(&envelope.payload).ok_or("the DSSE payload is not base64".to_string())?;
    let signatures = envelope
        .signatures
        .iter()
        .filter_map(|s| base64_decode(&s.sig))
        .collect();
    let message = pae(&envelope.payload_type, &payload);
    Ok(Opened {
        payload,
        signatures,
        message,
    })
}

/// The in-toto statement about `digest` (`sha256:<hex>`) in the repository `name`,
/// with `predicate` (JSON text, kept byte for byte but for surrounding white space) of
/// `predicate_type`. Written by hand so that the predicate is the SBOM as it was
/// written, whatever key order a JSON value would keep.
pub fn statement(
    name: &str,
    digest: &str,
    predicate_type: &str,
    predicate: &[u8],
) -> Result<Vec<u8>, String> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("{digest} is not a sha256 digest"))?;
    serde_json::from_slice::<serde::de::IgnoredAny>(predicate)
        .map_err(|e| format!("the predicate is not JSON: {e}"))?;
    let quoted = |text: &str| serde_json::to_string(text).expect("a string serialises");
    let mut out = format!(
        "{{\"_type\":{},\"subject\":[{{\"name\":{},\"digest\":{{\"sha256\":{}}}}}],\"predicateType\":{},\"predicate\":",
        quoted(STATEMENT_V01),
        quoted(name),
        quoted(hex),
        quoted(predicate_type)
    )
    .into_bytes();
    out.extend_from_slice(predicate.trim_ascii());
    out.push(b'}');
    Ok(out)
}

/// The envelope of `payload` (an in-toto statement) with one signature, `signature`
/// over its PAE, and the signer's key id left empty as cosign leaves it.
pub(crate) fn envelope(payload: &[u8], signature: &[u8]) -> Vec<u8> {
    let engine = base64::engine::general_purpose::STANDARD;
    let envelope = Envelope {
        payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
        payload: engine.encode(payload),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: engine.encode(signature),
        }],
    };
    serde_json::to_vec(&envelope).expect("an envelope serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PAE example of the DSSE specification (protocol.md, "Test vectors").
    #[test]
    fn pae_is_the_specifications() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn a_statement_keeps_its_predicate_byte_for_byte() {
        let predicate = b"{ \"bomFormat\": \"CycloneDX\",\n  \"b\": [1, 2], \"a\": null }\n";
        let written = statement(
            "localhost:5000/gpu/app",
            "sha256:00ff",
            "https://cyclonedx.org/bom",
            predicate,
        )
        .unwrap();
        let text = String::from_utf8(written).unwrap();
        assert_eq!(
            text,
            "{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"subject\":[{\"name\":\
             \"localhost:5000/gpu/app\",\"digest\":{\"sha256\":\"00ff\"}}],\"predicateType\":\
             \"https://cyclonedx.org/bom\",\"predicate\":{ \"bomFormat\": \"CycloneDX\",\n  \
             \"b\": [1, 2], \"a\": null }}"
        );
    }
}
