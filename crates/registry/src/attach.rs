//! `gpubom attach`: an SBOM stored beside the image it describes.
//!
//! The SBOM is pushed as an OCI 1.1 artifact whose `subject` is the image
//! digest, so compliance can fetch it by digest with the referrers API, as
//! `cosign attach sbom` and `oras attach` leave theirs. Registries without
//! that API (distribution 2.8, for one) get the referrers tag schema instead:
//! an index under the tag `sha256-<hex>` listing the artifact, updated, not
//! replaced, so other referrers stay listed.

use crate::client::retrying;
use crate::{reference, Error, Registry};
use oci_client::manifest::{OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const SBOM_ARTIFACT_TYPE: &str = "application/vnd.cyclonedx+json";
const EMPTY_CONFIG_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_CONFIG: &[u8] = b"{}";

/// Where the SBOM went.
#[derive(Debug)]
pub struct AttachedSbom {
    /// The artifact manifest's digest.
    pub manifest: String,
    /// The image digest it refers to.
    pub subject: String,
    /// True when the registry has no referrers API and the tag schema was written.
    pub tag_schema: bool,
}

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Pushes `sbom` (CycloneDX JSON) as a referrer of the image `reference_text` names; the
/// credentials go to the registry and to `credential_hosts` only.
pub fn attach(
    reference_text: &str,
    sbom: Vec<u8>,
    plain_http: bool,
    credential_hosts: &[String],
) -> Result<AttachedSbom, Error> {
    let parsed = reference::parse(reference_text).map_err(Error::Reference)?;
    let registry = Registry::connect(parsed, plain_http, credential_hosts)?;
    let top = registry.resolve(reference_text)?;
    let repository = registry.at(&top.digest);
    // `resolve` pulled the manifest, which stored the credentials for this registry.
    let client = registry.client();
    let sbom_digest = digest_of(&sbom);
    let sbom_size = sbom.len();
    for (bytes, digest) in [
        (EMPTY_CONFIG.to_vec(), digest_of(EMPTY_CONFIG)),
        (sbom, sbom_digest.clone()),
    ] {
        registry
            .block_on(retrying(|| {
                client.push_blob(&repository, bytes.clone(), &digest)
            }))
            .map_err(|e| registry.classify(e, &format!("pushing blob {digest}")))?;
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_IMAGE_MEDIA_TYPE,
        "artifactType": SBOM_ARTIFACT_TYPE,
        "config": {
            "mediaType": EMPTY_CONFIG_TYPE,
            "digest": digest_of(EMPTY_CONFIG),
            "size": EMPTY_CONFIG.len(),
        },
        "layers": [{
            "mediaType": SBOM_ARTIFACT_TYPE,
            "digest": sbom_digest,
            "size": sbom_size,
        }],
        "subject": {
            "mediaType": top.media_type,
            "digest": top.digest,
            "size": top.size,
        },
    });
    let bytes = serde_json::to_vec(&manifest).expect("JSON values serialise");
    let manifest_digest = digest_of(&bytes);
    push_manifest(&registry, &manifest_digest, &bytes, OCI_IMAGE_MEDIA_TYPE)?;
    let tag_schema = !listed_as_referrer(&registry, &top.digest, &manifest_digest)?;
    if tag_schema {
        add_to_tag_schema(
            &registry,
            &top.digest,
            json!({
                "mediaType": OCI_IMAGE_MEDIA_TYPE,
                "digest": manifest_digest,
                "size": bytes.len(),
                "artifactType": SBOM_ARTIFACT_TYPE,
            }),
        )?;
    }
    Ok(AttachedSbom {
        manifest: manifest_digest,
        subject: top.digest,
        tag_schema,
    })
}

fn push_manifest(
    registry: &Registry,
    at: &str,
    bytes: &[u8],
    media_type: &str,
) -> Result<(), Error> {
    let target = registry.at(at);
    let content_type: http::HeaderValue = media_type
        .parse()
        .map_err(|_| Error::Reference(format!("bad media type {media_type}")))?;
    registry
        .block_on(retrying(|| {
            registry
                .client()
                .push_manifest_raw(&target, bytes.to_vec(), content_type.clone())
        }))
        .map_err(|e| registry.classify(e, &format!("pushing manifest {at}")))?;
    Ok(())
}

/// Whether the registry's referrers API already lists the artifact.
fn listed_as_referrer(registry: &Registry, subject: &str, artifact: &str) -> Result<bool, Error> {
    let subject_reference = registry.at(subject);
    let index = registry
        .block_on(retrying(|| {
            registry
                .client()
                .pull_referrers(&subject_reference, Some(SBOM_ARTIFACT_TYPE))
        }))
        .map_err(|e| registry.classify(e, &format!("referrers of {subject}")))?;
    Ok(index.manifests.iter().any(|m| m.digest == artifact))
}

/// Adds `descriptor` to the index under the tag `sha256-<hex>` of `subject`.
fn add_to_tag_schema(registry: &Registry, subject: &str, descriptor: Value) -> Result<(), Error> {
    let tag = subject.replacen(':', "-", 1);
    let existing = registry.manifest_at(&registry.at(&tag), gpubom_image::MAX_MANIFEST_BYTES)?;
    let mut index = match existing {
        Some((bytes, _)) => {
            serde_json::from_slice::<Value>(&bytes).map_err(|e| Error::Protocol {
                what: format!("referrers index {tag}"),
                why: format!("not JSON: {e}"),
            })?
        }
        None => {
            json!({ "schemaVersion": 2, "mediaType": OCI_IMAGE_INDEX_MEDIA_TYPE, "manifests": [] })
        }
    };
    let manifests = index["manifests"]
        .as_array_mut()
        .ok_or_else(|| Error::Protocol {
            what: format!("referrers index {tag}"),
            why: "it has no manifests list".into(),
        })?;
    manifests.retain(|m| m["digest"] != descriptor["digest"]);
    manifests.push(descriptor);
    let bytes = serde_json::to_vec(&index).expect("JSON values serialise");
    push_manifest(registry, &tag, &bytes, OCI_IMAGE_INDEX_MEDIA_TYPE)
}
