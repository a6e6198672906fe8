//! `gpubom attach`: an SBOM stored beside the image it describes.
//!
//! The SBOM is pushed as an OCI 1.1 artifact whose `subject` is the image
//! digest, so compliance can fetch it by digest with the referrers API, as
//! `cosign attach sbom` and `oras attach` leave theirs. Registries without
//! that API (distribution 2.8, for one) get the referrers tag schema instead:
//! an index under the tag `sha256-<hex>` listing the artifact, updated, not
//! replaced, so other referrers stay listed.

use crate::answer::{retrying, Failure};
use crate::deadline::Deadline;
use crate::http::{CONNECT_TIMEOUT, READ_TIMEOUT, USER_AGENT};
use crate::{reference, Error, Options, Registry};
use gpubom_image::RemoteTop;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE};
use oci_client::Client;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::future::Future;

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

pub(crate) fn digest_of(bytes: &[u8]) -> String {
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
    let options = Options {
        platform: None,
        plain_http,
        credential_hosts: credential_hosts.to_vec(),
        timeout: None,
    };
    let registry = Registry::connect(parsed, &options)?;
    let top = registry.resolve(reference_text)?;
    let client = pusher(&registry, plain_http)?;
    let layer = Layer {
        media_type: SBOM_ARTIFACT_TYPE,
        bytes: sbom,
        annotations: None,
    };
    let referrer = push_referrer(&registry, &client, &top, SBOM_ARTIFACT_TYPE, &[layer], None)?;
    Ok(AttachedSbom {
        manifest: referrer.manifest,
        subject: top.digest,
        tag_schema: referrer.tag_schema,
    })
}

/// One layer of an artifact: its bytes, and the annotations its descriptor carries.
pub(crate) struct Layer<'a> {
    pub media_type: &'a str,
    pub bytes: Vec<u8>,
    pub annotations: Option<Value>,
}

impl Layer<'_> {
    pub(crate) fn descriptor(&self) -> Value {
        let mut descriptor = json!({
            "mediaType": self.media_type,
            "digest": digest_of(&self.bytes),
            "size": self.bytes.len(),
        });
        if let Some(annotations) = &self.annotations {
            descriptor["annotations"] = annotations.clone();
        }
        descriptor
    }
}

/// A referrer pushed.
pub(crate) struct Referrer {
    pub manifest: String,
    /// True when the registry has no referrers API and the tag schema was written.
    pub tag_schema: bool,
}

/// One blob pushed, with the whole deadline (an SBOM can be large), not a document's.
pub(crate) fn push_blob(registry: &Registry, client: &Client, bytes: &[u8]) -> Result<(), Error> {
    let digest = digest_of(bytes);
    let repository = registry.at(&digest);
    let deadline = registry.session().deadlines().for_blob();
    pushing(
        registry,
        &format!("pushing blob {digest}"),
        deadline,
        || client.push_blob(&repository, bytes.to_vec(), &digest),
    )?;
    Ok(())
}

/// Pushes `layers` as an OCI 1.1 artifact of `artifact_type` whose subject is `top`, and
/// lists it in the referrers tag schema where the registry has no referrers API.
pub(crate) fn push_referrer(
    registry: &Registry,
    client: &Client,
    top: &RemoteTop,
    artifact_type: &str,
    layers: &[Layer],
    annotations: Option<Value>,
) -> Result<Referrer, Error> {
    push_blob(registry, client, EMPTY_CONFIG)?;
    for layer in layers {
        push_blob(registry, client, &layer.bytes)?;
    }
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_IMAGE_MEDIA_TYPE,
        "artifactType": artifact_type,
        "config": {
            "mediaType": EMPTY_CONFIG_TYPE,
            "digest": digest_of(EMPTY_CONFIG),
            "size": EMPTY_CONFIG.len(),
        },
        "layers": layers.iter().map(Layer::descriptor).collect::<Vec<_>>(),
        "subject": {
            "mediaType": top.media_type,
            "digest": top.digest,
            "size": top.size,
        },
    });
    if let Some(annotations) = annotations {
        manifest["annotations"] = annotations;
    }
    let bytes = serde_json::to_vec(&manifest).expect("JSON values serialise");
    let manifest_digest = digest_of(&bytes);
    push_manifest(
        registry,
        client,
        &manifest_digest,
        &bytes,
        OCI_IMAGE_MEDIA_TYPE,
    )?;
    let tag_schema = !listed_as_referrer(registry, &top.digest, artifact_type, &manifest_digest)?;
    if tag_schema {
        add_to_tag_schema(
            registry,
            client,
            &top.digest,
            json!({
                "mediaType": OCI_IMAGE_MEDIA_TYPE,
                "digest": manifest_digest,
                "size": bytes.len(),
                "artifactType": artifact_type,
            }),
        )?;
    }
    Ok(Referrer {
        manifest: manifest_digest,
        tag_schema,
    })
}

/// `oci-client`, to push with. It is handed the credentials the session settled on (a
/// token granted for pushing, where the registry wants one), so it never reads a token
/// service's answer itself.
pub(crate) fn pusher(registry: &Registry, plain_http: bool) -> Result<Client, Error> {
    let config = ClientConfig {
        protocol: if plain_http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(READ_TIMEOUT),
        user_agent: USER_AGENT,
        ..ClientConfig::default()
    };
    let client = Client::try_from(config).map_err(|e| Error::Unreachable {
        registry: registry.session().registry().to_string(),
        why: e.to_string(),
    })?;
    let credentials = registry.block_on(registry.session().credentials_for_push())?;
    registry.block_on(
        client.store_auth_if_needed(registry.reference().resolve_registry(), &credentials),
    );
    Ok(client)
}

/// One push by `oci-client`, retried, under `deadline`.
fn pushing<T, Fut>(
    registry: &Registry,
    what: &str,
    deadline: Deadline,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, Error>
where
    Fut: Future<Output = Result<T, OciDistributionError>>,
{
    let session = registry.session();
    let pushed = retrying(|| {
        let push = attempt();
        async move { push.await.map_err(Failure::from) }
    });
    registry
        .block_on(deadline.bound(pushed, what, session.registry()))
        .map_err(|e| session.classify(e, what))
}

pub(crate) fn push_manifest(
    registry: &Registry,
    client: &Client,
    at: &str,
    bytes: &[u8],
    media_type: &str,
) -> Result<(), Error> {
    let target = registry.at(at);
    let content_type: http::HeaderValue = media_type
        .parse()
        .map_err(|_| Error::Reference(format!("bad media type {media_type}")))?;
    let deadline = registry.session().deadlines().for_document();
    pushing(
        registry,
        &format!("pushing manifest {at}"),
        deadline,
        || client.push_manifest_raw(&target, bytes.to_vec(), content_type.clone()),
    )?;
    Ok(())
}

/// Whether the registry already lists the artifact as a referrer of `subject`.
fn listed_as_referrer(
    registry: &Registry,
    subject: &str,
    artifact_type: &str,
    artifact: &str,
) -> Result<bool, Error> {
    Ok(registry
        .referrers(subject, Some(artifact_type))?
        .iter()
        .any(|m| m.digest == artifact))
}

/// Adds `descriptor` to the index under the tag `sha256-<hex>` of `subject`.
fn add_to_tag_schema(
    registry: &Registry,
    client: &Client,
    subject: &str,
    descriptor: Value,
) -> Result<(), Error> {
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
    push_manifest(registry, client, &tag, &bytes, OCI_IMAGE_INDEX_MEDIA_TYPE)
}
