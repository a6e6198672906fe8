//! Manifests attached to an image: cosign signatures, sigstore bundles,
//! attestations (DSSE envelopes), SBOMs.
//!
//! They are found three ways — cosign's `sha256-<hex>.sig` and `.att` tags,
//! OCI 1.1 referrers, and the manifests `cosign save` keeps beside the image in
//! an OCI layout — but read one way, here, with bounds: an attacker who can
//! push to the repository chooses these bytes, and they are read before
//! anything has been verified.

use crate::descriptor::{parse_json, Descriptor};
use crate::Error;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Most layers read from one attached manifest.
pub const MAX_ATTACHED_LAYERS: usize = 64;
/// Largest attached layer read (a payload, a bundle).
pub const MAX_ATTACHED_LAYER_BYTES: u64 = 1 << 20;
/// Largest attestation layer read: a DSSE envelope carries a whole SBOM, in base64.
pub const MAX_ATTESTATION_LAYER_BYTES: u64 = 32 << 20;
/// The media type of an attestation layer (`cosign attest`, `gpubom attest`): a DSSE
/// envelope around an in-toto statement.
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Most attached manifests read for one image.
pub const MAX_ATTACHED: usize = 64;
/// Largest manifest or index read from a registry (the limit distribution
/// itself enforces on pushes).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// How an attached manifest was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    /// cosign's `sha256-<hex>.sig` tag.
    SigTag,
    /// cosign's `sha256-<hex>.att` tag (attestations).
    AttTag,
    /// The OCI 1.1 referrers API or its tag schema.
    Referrer,
    /// Beside the image in an OCI layout (`cosign save`).
    Layout,
}

/// One attached manifest, with its layers read.
#[derive(Debug, Clone)]
pub struct Attached {
    /// Digest of the attached manifest itself.
    pub digest: String,
    pub found_via: Discovery,
    pub artifact_type: Option<String>,
    pub layers: Vec<AttachedLayer>,
    /// Why the manifest or its layers could not be read; then `layers` is empty.
    /// An unreadable signature is reported as one that did not verify, never
    /// as a scan failure: whoever can push a signature could otherwise stop scans.
    pub problem: Option<String>,
}

impl Attached {
    pub fn unreadable(digest: &str, found_via: Discovery, why: String) -> Attached {
        Attached {
            digest: digest.to_string(),
            found_via,
            artifact_type: None,
            layers: Vec::new(),
            problem: Some(why),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AttachedLayer {
    pub media_type: String,
    pub annotations: BTreeMap<String, String>,
    pub bytes: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactManifest {
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// Reads one blob of an attached manifest: (digest, byte limit) → bytes, digest checked.
pub type FetchBlob<'a> = dyn FnMut(&str, u64) -> Result<Vec<u8>, Error> + 'a;

/// Parses an attached manifest and reads its layers through `fetch`, which
/// must return the blob's bytes (at most the limit it is given) already
/// checked against the digest. Whatever goes wrong is kept in `problem`.
pub fn read_attached(
    digest: &str,
    manifest: &[u8],
    found_via: Discovery,
    fetch: &mut FetchBlob,
) -> Attached {
    parse_attached(digest, manifest, found_via, fetch)
        .unwrap_or_else(|e| Attached::unreadable(digest, found_via, e.to_string()))
}

/// How much of a layer of `media_type` is read: an attestation holds an SBOM.
fn layer_limit(media_type: &str) -> u64 {
    if media_type == DSSE_ENVELOPE {
        MAX_ATTESTATION_LAYER_BYTES
    } else {
        MAX_ATTACHED_LAYER_BYTES
    }
}

fn parse_attached(
    digest: &str,
    manifest: &[u8],
    found_via: Discovery,
    fetch: &mut FetchBlob,
) -> Result<Attached, Error> {
    let parsed: ArtifactManifest = parse_json(manifest, &format!("attached manifest {digest}"))?;
    if parsed.layers.len() > MAX_ATTACHED_LAYERS {
        return Err(Error::Invalid {
            what: format!("attached manifest {digest}"),
            why: format!(
                "{} layers, more than {MAX_ATTACHED_LAYERS}",
                parsed.layers.len()
            ),
        });
    }
    let mut layers = Vec::with_capacity(parsed.layers.len());
    for layer in parsed.layers {
        let limit = layer_limit(&layer.media_type);
        if layer.size.unwrap_or(0) > limit {
            return Err(Error::Invalid {
                what: format!("attached manifest {digest}"),
                why: format!(
                    "layer {} is {} bytes, more than the {limit}-byte limit",
                    layer.digest,
                    layer.size.unwrap_or(0)
                ),
            });
        }
        let bytes = fetch(&layer.digest, limit)?;
        layers.push(AttachedLayer {
            media_type: layer.media_type,
            annotations: layer.annotations,
            bytes,
        });
    }
    let artifact_type = parsed.artifact_type.or_else(|| {
        parsed
            .config
            .map(|c| c.media_type)
            .filter(|m| !m.is_empty())
    });
    Ok(Attached {
        digest: digest.to_string(),
        found_via,
        artifact_type,
        layers,
        problem: None,
    })
}
