//! Who signed the image, and what they attested about it.
//!
//! Every manifest attached to the image that carries a signature — cosign's
//! simple-signing layers (the `.sig` tag, referrers, `cosign save` layouts),
//! sigstore bundles (cosign v3's default) and attestations (DSSE envelopes on
//! the `.att` tag or as referrers, see [`attestation`]) — becomes one
//! [`SignatureFact`]. A fact says `verified` only when a trusted key checks
//! the signature with sigstore-rs *and* the signed payload names the scanned
//! digest; anything else keeps the reason it did not count. A keyless
//! signature in a sigstore bundle verifies only against a trust root the
//! organisation gives (`--trusted-root`) and for an identity it names (see
//! [`keyless`]); without them its certificate identity is reported as not
//! verified. `gpubom attest` signs with a cosign key through [`Signer`].

pub mod attestation;
mod bundle;
mod dsse;
pub mod keyless;
mod signing;
mod trust;

pub use dsse::statement;
pub use keyless::Identity;
pub use signing::Signer;
pub use trust::Trust;

use base64::Engine;
use gpubom_image::{Attached, AttachedLayer, Discovery};
use gpubom_inventory::{SignatureFact, SignatureSource};
use sigstore::crypto::Signature;

const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
const BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

/// Checks every signature in `attached` against `trust`. `digests` are the
/// digests a signature may name: the manifest's and, for a multi-platform
/// reference, the index's.
pub fn check(attached: &[Attached], digests: &[&str], trust: &Trust) -> Vec<SignatureFact> {
    let mut out = Vec::new();
    for manifest in attached {
        let found = match &manifest.problem {
            Some(why) => vec![unverified(
                manifest,
                source_of(manifest, None),
                format!("unreadable: {why}"),
            )],
            None => manifest
                .layers
                .iter()
                .filter_map(|layer| check_layer(manifest, layer, digests, trust))
                .collect(),
        };
        out.extend(found);
    }
    out
}

fn source_of(manifest: &Attached, layer: Option<&AttachedLayer>) -> SignatureSource {
    if layer.is_some_and(|l| l.media_type.starts_with(BUNDLE_PREFIX)) {
        return SignatureSource::Bundle;
    }
    match manifest.found_via {
        Discovery::SigTag | Discovery::AttTag | Discovery::Layout => SignatureSource::Tag,
        Discovery::Referrer => SignatureSource::Referrer,
    }
}

fn unverified(manifest: &Attached, source: SignatureSource, reason: String) -> SignatureFact {
    SignatureFact {
        source,
        manifest: manifest.digest.clone(),
        verified: false,
        key: None,
        identity: None,
        reason,
    }
}

fn check_layer(
    manifest: &Attached,
    layer: &AttachedLayer,
    digests: &[&str],
    trust: &Trust,
) -> Option<SignatureFact> {
    if layer.media_type == gpubom_image::DSSE_ENVELOPE {
        return Some(attestation::check_layer(manifest, layer, digests, trust));
    }
    let source = source_of(manifest, Some(layer));
    if layer.media_type.starts_with(BUNDLE_PREFIX) {
        return bundle::check(&layer.bytes, digests, trust)
            .map(|outcome| outcome.into_fact(manifest, source));
    }
    if layer.media_type != SIMPLE_SIGNING {
        return None;
    }
    let Some(signature) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
        return Some(unverified(
            manifest,
            source,
            format!("a simple-signing layer without the {SIGNATURE_ANNOTATION} annotation"),
        ));
    };
    let payload = &layer.bytes;
    let signed = trust.key_verifying(|key| {
        key.verify_signature(Signature::Base64Encoded(signature.as_bytes()), payload)
            .is_ok()
    });
    let named = serde_json::from_slice::<SimpleSigning>(payload)
        .map(|p| p.critical.image.docker_manifest_digest)
        .map_err(|e| format!("the payload is not a cosign simple-signing document: {e}"));
    let certificate = layer
        .annotations
        .get(CERTIFICATE_ANNOTATION)
        .and_then(|pem| trust::certificate_identity(pem.as_bytes()));
    Some(
        Outcome {
            signed_by: signed,
            names: named.map(|d| vec![d]),
            digests,
            identity: certificate,
            keyless: None,
            keys_tried: trust.key_count(),
        }
        .into_fact(manifest, source),
    )
}

/// What one signature check found, before it is worded.
pub(crate) struct Outcome<'a> {
    /// The id of the trusted key whose check passed.
    pub signed_by: Option<String>,
    /// The image digests the signed payload names.
    pub names: Result<Vec<String>, String>,
    pub digests: &'a [&'a str],
    /// A keyless signer's identity, from its certificate.
    pub identity: Option<String>,
    /// The keyless check, when there was a trust root to run it against.
    pub keyless: Option<keyless::Verdict>,
    pub keys_tried: usize,
}

impl<'a> Outcome<'a> {
    /// A layer that could not be read as what it claims: nothing signed it, and `why` is the
    /// reason the fact gives.
    pub(crate) fn unreadable(digests: &'a [&'a str], trust: &Trust, why: String) -> Outcome<'a> {
        Outcome {
            signed_by: None,
            names: Err(why),
            digests,
            identity: None,
            keyless: None,
            keys_tried: trust.key_count(),
        }
    }

    fn into_fact(self, manifest: &Attached, source: SignatureSource) -> SignatureFact {
        let over_this = self
            .names
            .as_ref()
            .map(|names| names.iter().any(|n| self.digests.contains(&n.as_str())));
        let (verified, reason) = match (&self.signed_by, over_this, &self.keyless) {
            (_, Err(why), _) => (false, why.clone()),
            (Some(key), Ok(true), _) => (true, format!("verified with trusted key {key}")),
            (Some(key), Ok(false), _) => (
                false,
                format!(
                    "signed with trusted key {key}, but over {}, not this image",
                    self.names.as_ref().map(|n| n.join(", ")).unwrap_or_default()
                ),
            ),
            // sigstore-rs checked the subject digest itself, against ours.
            (None, Ok(_), Some(Ok(how))) => (true, how.clone()),
            (None, Ok(_), Some(Err(why))) => (false, why.clone()),
            (None, Ok(_), None) if self.identity.is_some() => (
                false,
                "keyless signature: the certificate identity is not verified \
                 (give sigstore's trusted_root.json with --trusted-root, and name the signer \
                 in [[signatures.identities]])"
                    .to_string(),
            ),
            (None, Ok(_), None) if self.keys_tried == 0 => (
                false,
                "no trusted key to check it with (give --key, or [signatures] keys in .gpubom.toml)"
                    .to_string(),
            ),
            (None, Ok(_), None) => (
                false,
                format!(
                    "no trusted key verifies it ({} tried): signed by another key, or altered",
                    self.keys_tried
                ),
            ),
        };
        SignatureFact {
            source,
            manifest: manifest.digest.clone(),
            verified,
            key: self.signed_by,
            identity: self.identity,
            reason,
        }
    }
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// cosign's simple-signing payload, as strict as sigstore-rs reads it: `critical` must carry
/// `identity`, `image` and `type`. Only the signed digest is used; the other two are required
/// so a document missing them is not taken for a signature payload.
#[derive(serde::Deserialize)]
struct SimpleSigning {
    critical: SimpleSigningCritical,
}

#[derive(serde::Deserialize)]
struct SimpleSigningCritical {
    image: SimpleSigningImage,
    #[serde(rename = "identity")]
    _identity: SimpleSigningIdentity,
    #[serde(rename = "type")]
    _type_name: String,
}

#[derive(serde::Deserialize)]
struct SimpleSigningImage {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

#[derive(serde::Deserialize)]
struct SimpleSigningIdentity {
    #[serde(rename = "docker-reference")]
    _docker_reference: String,
}
