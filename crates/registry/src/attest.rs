//! `gpubom attest`: a signed attestation stored where cosign looks for one.
//!
//! cosign keeps attestations under the tag `sha256-<hex>.att` of the image
//! digest: an OCI image manifest whose layers are DSSE envelopes
//! (`application/vnd.dsse.envelope.v1+json`), each annotated with its
//! `predicateType` and an empty `dev.cosignproject.cosign/signature` (the
//! signature is inside the envelope), and whose config is the image config
//! go-containerregistry writes for those layers (cosign's
//! `pkg/oci/static/signature.go`, `pkg/oci/remote/write.go`). A new
//! attestation is appended to the layers already there, as `cosign attest`
//! does without `--replace`, so other attestations stay. The same envelope is
//! also pushed as an OCI 1.1 referrer of artifact type
//! `application/vnd.in-toto+json`, as `cosign attest
//! --registry-referrers-mode oci-1-1` writes it.

use crate::attach::{digest_of, open_for_push, push_blob, push_manifest, push_referrer, Layer};
use crate::client::IN_TOTO_ARTIFACT_TYPE;
use crate::{Error, Registry};
use gpubom_image::DSSE_ENVELOPE;
use oci_client::manifest::OCI_IMAGE_MEDIA_TYPE;
use serde_json::{json, Value};

const OCI_CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// go-containerregistry's zero time, which its empty image config carries.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Where the attestation went.
#[derive(Debug)]
pub struct PushedAttestation {
    /// The image digest it is about.
    pub subject: String,
    /// The `sha256-<hex>.att` tag and the digest of the manifest now under it.
    pub att_tag: String,
    pub att_manifest: String,
    /// How many attestations the `.att` manifest lists, this one included.
    pub att_count: usize,
    /// The referrer manifest's digest.
    pub referrer: String,
    /// True when the registry has no referrers API and the tag schema was written.
    pub tag_schema: bool,
}

/// Pushes `envelope` (a DSSE envelope of an in-toto statement of `predicate_type`) beside
/// the image `reference_text` names, which should name it by digest. `created` (RFC 3339)
/// dates the referrer, as cosign dates its own.
pub fn push_attestation(
    reference_text: &str,
    envelope: Vec<u8>,
    predicate_type: &str,
    created: &str,
    plain_http: bool,
    credential_hosts: &[String],
) -> Result<PushedAttestation, Error> {
    let (registry, top, client) = open_for_push(reference_text, plain_http, credential_hosts)?;
    let layer = Layer {
        media_type: DSSE_ENVELOPE,
        bytes: envelope,
        annotations: Some(json!({
            SIGNATURE_ANNOTATION: "",
            PREDICATE_TYPE_ANNOTATION: predicate_type,
        })),
    };
    push_blob(&registry, &client, &layer.bytes)?;
    let att_tag = format!("{}.att", top.digest.replacen(':', "-", 1));
    let mut layers = existing_layers(&registry, &att_tag)?;
    let ours = layer.descriptor();
    layers.retain(|d| d["digest"] != ours["digest"]);
    layers.push(ours);
    let config = serde_json::to_vec(&image_config(&layers)).expect("JSON values serialise");
    push_blob(&registry, &client, &config)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_IMAGE_MEDIA_TYPE,
        "config": {
            "mediaType": OCI_CONFIG_TYPE,
            "size": config.len(),
            "digest": digest_of(&config),
        },
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&manifest).expect("JSON values serialise");
    push_manifest(&registry, &client, &att_tag, &bytes, OCI_IMAGE_MEDIA_TYPE)?;
    let referrer = push_referrer(
        &registry,
        &client,
        &top,
        IN_TOTO_ARTIFACT_TYPE,
        &[layer],
        Some(json!({ "org.opencontainers.image.created": created })),
    )?;
    Ok(PushedAttestation {
        subject: top.digest,
        att_tag,
        att_manifest: digest_of(&bytes),
        att_count: layers.len(),
        referrer: referrer.manifest,
        tag_schema: referrer.tag_schema,
    })
}

/// The layer descriptors of the manifest under `tag`, kept as written; none when the
/// tag does not exist yet.
fn existing_layers(registry: &Registry, tag: &str) -> Result<Vec<Value>, Error> {
    let Some((bytes, _)) =
        registry.manifest_at(&registry.at(tag), gpubom_image::MAX_MANIFEST_BYTES)?
    else {
        return Ok(Vec::new());
    };
    let refused = |why: &str| Error::Protocol {
        what: format!("the attestations manifest {tag}"),
        why: format!("{why}; it was left as it is"),
    };
    let manifest: Value =
        serde_json::from_slice(&bytes).map_err(|e| refused(&format!("not JSON: {e}")))?;
    let layers = manifest["layers"]
        .as_array()
        .ok_or_else(|| refused("it has no layers list"))?;
    if layers.iter().any(|l| !l["digest"].is_string()) {
        return Err(refused("a layer has no digest"));
    }
    Ok(layers.clone())
}

/// The config go-containerregistry writes for an empty image with `layers` appended, as
/// cosign's signature and attestation images carry it: uncompressed layers, so each
/// diff_id is the layer's digest.
fn image_config(layers: &[Value]) -> Value {
    json!({
        "architecture": "",
        "created": ZERO_TIME,
        "history": layers.iter().map(|_| json!({ "created": ZERO_TIME })).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| l["digest"].clone()).collect::<Vec<_>>(),
        },
        "config": {},
    })
}
