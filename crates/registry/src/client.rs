//! One repository on one registry, through `oci-client`, for synchronous callers.
//!
//! The client is async; gpubom's scan is not. [`Registry`] owns a small tokio
//! runtime and blocks on it for documents, and streams blobs through a
//! bounded channel that a [`ChunkReader`] reads as a blocking [`Read`] (the
//! layer walk is synchronous and runs on rayon's threads): the download runs
//! ahead by at most [`CHUNKS_AHEAD`] chunks, so analysis starts with the first
//! bytes and memory stays bounded whatever the layer's size.
//!
//! Every request goes through [`retrying`]: 429 and 5xx answers and dropped
//! connections are retried with backoff a bounded number of times, and a blob
//! cut off mid-stream resumes from the byte it reached. Digests are verified
//! by the image layer, which hashes every byte it reads, so blobs are fetched
//! without the client's own check (one hash per byte, not two).

use crate::auth::{self, Origin};
use crate::Error;
use futures_util::StreamExt;
use gpubom_image::{Attached, ChunkReader, Discovery, RemoteBlobs, RemoteTop};
use oci_client::client::{BlobResponse, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::io::Read;
use std::time::Duration;

/// Attempts per request, the first included.
const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// How many times one blob download may resume after losing its connection.
const MAX_RESUMES: u32 = 3;
/// How many chunks (a few tens of KiB each) a download may run ahead of the reader.
const CHUNKS_AHEAD: usize = 64;
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for the next bytes of a response.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The media types gpubom asks for when fetching a manifest.
pub(crate) const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Artifact types whose referrers are signatures: sigstore bundles (cosign v3)
/// and cosign's simple-signing artifacts (`--registry-referrers-mode oci-1-1`).
fn is_signature_artifact(artifact_type: &str) -> bool {
    artifact_type.starts_with("application/vnd.dev.sigstore.bundle")
        || artifact_type == "application/vnd.dev.cosign.artifact.sig.v1+json"
}

pub struct Registry {
    runtime: tokio::runtime::Runtime,
    client: Client,
    reference: Reference,
    auth: RegistryAuth,
    origin: Origin,
    plain_http: bool,
}

impl Registry {
    /// A client for `reference`'s repository with the user's credentials, which go to
    /// the registry and to the hosts in `credential_hosts` only (see [`crate::scope`]).
    pub fn connect(
        reference: Reference,
        plain_http: bool,
        credential_hosts: &[String],
    ) -> Result<Registry, Error> {
        let (auth, origin) =
            auth::for_registry(reference.registry()).map_err(Error::Credentials)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gpubom-registry")
            .enable_all()
            .build()
            .map_err(|e| Error::Unreachable {
                registry: reference.registry().to_string(),
                why: format!("cannot start the network runtime: {e}"),
            })?;
        let config = ClientConfig {
            protocol: if plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            user_agent: concat!("gpubom/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let client = Client::try_from(config).map_err(|e| Error::Unreachable {
            registry: reference.registry().to_string(),
            why: e.to_string(),
        })?;
        let mut registry = Registry {
            runtime,
            client,
            reference,
            auth,
            origin,
            plain_http,
        };
        if registry.origin == Origin::Environment {
            let credentials = std::mem::replace(&mut registry.auth, RegistryAuth::Anonymous);
            (registry.auth, registry.origin) =
                crate::scope::confine(&registry, credentials, plain_http, credential_hosts)
                    .map_err(|e| registry.classify(e, "/v2/"))?;
        }
        Ok(registry)
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// This repository at another tag or digest.
    pub(crate) fn at(&self, tag_or_digest: &str) -> Reference {
        let (registry, repository) = (
            self.reference.registry().to_string(),
            self.reference.repository().to_string(),
        );
        if tag_or_digest.contains(':') {
            Reference::with_digest(registry, repository, tag_or_digest.to_string())
        } else {
            Reference::with_tag(registry, repository, tag_or_digest.to_string())
        }
    }

    /// Resolves the reference to its top document (a manifest or an index).
    pub fn resolve(&self, given: &str) -> Result<RemoteTop, Error> {
        let (bytes, digest) = self
            .manifest_at(&self.reference, gpubom_image::MAX_MANIFEST_BYTES)?
            .ok_or_else(|| Error::NotFound {
                reference: self.reference.whole(),
            })?;
        Ok(RemoteTop {
            media_type: media_type_of(&bytes),
            size: bytes.len() as u64,
            digest,
            name: crate::reference::name(&self.reference),
            tag: self.reference.tag().map(str::to_string),
            reference: given.to_string(),
        })
    }

    /// A manifest by tag or digest, bounded; `None` when the registry has none.
    pub(crate) fn manifest_at(
        &self,
        reference: &Reference,
        limit: u64,
    ) -> Result<Option<(Vec<u8>, String)>, Error> {
        let pulled = self.block_on(retrying(|| {
            self.client
                .pull_manifest_raw(reference, &self.auth, MANIFEST_TYPES)
        }));
        match pulled {
            Ok((bytes, digest)) => {
                if bytes.len() as u64 > limit {
                    return Err(Error::Protocol {
                        what: format!("manifest {}", reference.whole()),
                        why: format!(
                            "{} bytes is more than the {limit}-byte limit for a manifest",
                            bytes.len()
                        ),
                    });
                }
                Ok(Some((bytes.to_vec(), digest)))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.classify(e, &reference.whole())),
        }
    }

    /// A whole small blob, checked against its digest.
    fn small_blob(&self, digest: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let (mut reader, _) = self.open_blob(digest)?;
        let mut bytes = Vec::new();
        (&mut reader)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Protocol {
                what: format!("blob {digest}"),
                why: e.to_string(),
            })?;
        if bytes.len() as u64 > limit {
            return Err(Error::Protocol {
                what: format!("blob {digest}"),
                why: format!("more than the {limit}-byte limit"),
            });
        }
        let actual = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if digest.starts_with("sha256:") && actual != digest {
            return Err(Error::Protocol {
                what: format!("blob {digest}"),
                why: format!("digest mismatch: the registry sent {actual}"),
            });
        }
        Ok(bytes)
    }

    /// Starts a blob download; the bytes arrive through the returned reader.
    fn open_blob(&self, digest: &str) -> Result<(Box<dyn Read + Send>, Option<u64>), Error> {
        let reference = self.at(digest);
        let first = self
            .block_on(retrying(|| {
                self.client
                    .pull_blob_stream_partial(&reference, digest, 0, None)
            }))
            .map_err(|e| self.classify(e, &format!("blob {digest}")))?;
        let stream = match first {
            BlobResponse::Full(s) | BlobResponse::Partial(s) => s,
        };
        let size = stream.content_length;
        let (tx, mut rx) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
        let client = self.client.clone();
        let digest = digest.to_string();
        self.runtime.spawn(async move {
            let mut stream = stream.stream;
            let mut offset = 0u64;
            let mut resumes = 0;
            loop {
                match stream.next().await {
                    Some(Ok(chunk)) => {
                        offset += chunk.len() as u64;
                        if tx.send(Ok(chunk)).await.is_err() {
                            return; // the reader gave up
                        }
                    }
                    None => return,
                    Some(Err(e)) if resumes >= MAX_RESUMES => {
                        let why = format!(
                            "blob {digest}: the connection failed after {offset} bytes, \
                             {MAX_RESUMES} resumes tried: {e}"
                        );
                        let _ = tx.send(Err(std::io::Error::other(why))).await;
                        return;
                    }
                    Some(Err(_)) => {
                        resumes += 1;
                        tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(resumes)).await;
                        match resume(&client, &reference, &digest, offset).await {
                            Ok(next) => stream = next,
                            Err(e) => {
                                let why = format!(
                                    "blob {digest}: the connection failed after {offset} bytes \
                                     and could not be resumed: {e}"
                                );
                                let _ = tx.send(Err(std::io::Error::other(why))).await;
                                return;
                            }
                        }
                    }
                }
            }
        });
        let reader = ChunkReader::new(move || rx.blocking_recv());
        Ok((Box::new(reader), size))
    }

    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Turns a client error into one that says what to do.
    pub(crate) fn classify(&self, e: OciDistributionError, what: &str) -> Error {
        let registry = self.reference.registry().to_string();
        if is_denied(&e) {
            return Error::Auth {
                registry,
                origin: self.origin.to_string(),
            };
        }
        if is_not_found(&e) {
            return Error::NotFound {
                reference: what.to_string(),
            };
        }
        match e {
            OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
                // Over TLS, a plain-HTTP registry fails like an unreachable one.
                let hint = if self.plain_http {
                    ""
                } else {
                    " (a registry that serves plain HTTP needs --plain-http)"
                };
                Error::Unreachable {
                    registry,
                    why: format!("{}{hint}", describe_request_error(&e)),
                }
            }
            other => Error::Protocol {
                what: what.to_string(),
                why: other.to_string(),
            },
        }
    }
}

/// Reopens a blob at `offset`. A registry that ignores the range sends the
/// whole blob again; the bytes already delivered are skipped.
async fn resume(
    client: &Client,
    reference: &Reference,
    digest: &str,
    offset: u64,
) -> Result<futures_util::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>, String> {
    let response = retrying(|| client.pull_blob_stream_partial(reference, digest, offset, None))
        .await
        .map_err(|e| e.to_string())?;
    Ok(match response {
        BlobResponse::Partial(s) => s.stream,
        BlobResponse::Full(s) => {
            let mut skip = offset;
            s.stream
                .filter_map(move |chunk| {
                    let out = match chunk {
                        Ok(mut c) if skip > 0 => {
                            let n = skip.min(c.len() as u64) as usize;
                            skip -= n as u64;
                            let rest = c.split_off(n);
                            (!rest.is_empty()).then_some(Ok(rest))
                        }
                        other => Some(other),
                    };
                    std::future::ready(out)
                })
                .boxed()
        }
    })
}

impl RemoteBlobs for Registry {
    fn describe(&self) -> String {
        crate::reference::name(&self.reference)
    }

    fn manifest(&self, digest: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        match self.manifest_at(&self.at(digest), limit) {
            Ok(Some((bytes, _))) => Ok(bytes),
            Ok(None) => Err(std::io::Error::other(format!(
                "manifest {digest} is not in {}",
                self.describe()
            ))),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    }

    fn blob(&self, digest: &str) -> std::io::Result<(Box<dyn Read + Send>, Option<u64>)> {
        self.open_blob(digest)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    fn attached(&self, subject: &str) -> std::io::Result<Vec<Attached>> {
        let to_io = |e: Error| std::io::Error::other(e.to_string());
        let mut found: Vec<(String, Vec<u8>, Discovery)> = Vec::new();
        let sig_tag = format!("{}.sig", subject.replacen(':', "-", 1));
        if let Some((bytes, digest)) = self
            .manifest_at(&self.at(&sig_tag), gpubom_image::MAX_MANIFEST_BYTES)
            .map_err(to_io)?
        {
            found.push((digest, bytes, Discovery::SigTag));
        }
        let subject_reference = self.at(subject);
        let referrers = self
            .block_on(retrying(|| {
                self.client.pull_referrers(&subject_reference, None)
            }))
            .map_err(|e| to_io(self.classify(e, &format!("referrers of {subject}"))))?;
        for entry in referrers.manifests.iter().take(gpubom_image::MAX_ATTACHED) {
            let kind = entry.artifact_type.as_deref().unwrap_or_default();
            if !is_signature_artifact(kind) {
                continue;
            }
            if let Some((bytes, digest)) = self
                .manifest_at(&self.at(&entry.digest), gpubom_image::MAX_MANIFEST_BYTES)
                .map_err(to_io)?
            {
                found.push((digest, bytes, Discovery::Referrer));
            }
        }
        Ok(found
            .into_iter()
            .map(|(digest, bytes, via)| {
                gpubom_image::read_attached(&digest, &bytes, via, &mut |blob, limit| {
                    self.small_blob(blob, limit)
                        .map_err(|e| gpubom_image::Error::Invalid {
                            what: format!("attached layer {blob}"),
                            why: e.to_string(),
                        })
                })
            })
            .collect())
    }
}

/// The media type a manifest declares, or the one its shape implies.
fn media_type_of(bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Head>(bytes) {
        Ok(Head {
            media_type: Some(m),
            ..
        }) => m,
        Ok(Head {
            manifests: Some(_), ..
        }) => "application/vnd.oci.image.index.v1+json".into(),
        _ => "application/vnd.oci.image.manifest.v1+json".into(),
    }
}

/// Runs `attempt` until it succeeds, fails for good, or runs out of tries.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, OciDistributionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, OciDistributionError>>,
{
    let mut delay = FIRST_BACKOFF;
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if tries < MAX_ATTEMPTS && is_transient(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                tries += 1;
            }
            other => return other,
        }
    }
}

fn codes(e: &OciDistributionError) -> Vec<&OciErrorCode> {
    match e {
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().map(|e| &e.code).collect()
        }
        _ => Vec::new(),
    }
}

fn is_transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        OciDistributionError::RequestError(e) => e.is_connect() || e.is_timeout() || e.is_body(),
        OciDistributionError::IoError(_) => true,
        other => codes(other)
            .iter()
            .any(|c| matches!(c, OciErrorCode::Toomanyrequests)),
    }
}

fn is_not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        other => codes(other).iter().any(|c| {
            matches!(
                c,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::NotFound
                    | OciErrorCode::BlobUnknown
            )
        }),
    }
}

fn is_denied(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 401 || *code == 403,
        other => codes(other)
            .iter()
            .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied)),
    }
}

/// reqwest's message plus its causes: "error sending request" alone says nothing.
fn describe_request_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
