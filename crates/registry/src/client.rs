//! One repository on one registry, for synchronous callers.
//!
//! The network code is async; gpubom's scan is not. [`Registry`] owns a small tokio
//! runtime and blocks on it for documents, which [`Session`] fetches bounded in size
//! and time, and streams blobs through [`crate::download`] into a bounded channel that a
//! [`ChunkReader`] reads as a blocking [`Read`] (the layer walk is synchronous and runs on
//! rayon's threads): the download runs ahead by at most [`CHUNKS_AHEAD`] chunks, so analysis
//! starts with the first bytes and memory stays bounded whatever the layer's size. Blob digests are verified
//! by the image layer, which hashes every byte it reads, so blobs are not hashed here
//! too (one hash per byte, not two), and a mismatch is reported once, as a mismatch,
//! by the reader that found it.

use crate::deadline::Deadlines;
use crate::http::{Cap, Session, MAX_REFERRERS_BYTES};
use crate::{auth, Error, Options};
use gpubom_image::{Attached, ChunkReader, Discovery, RemoteBlobs, RemoteTop};
use oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE;
use oci_client::Reference;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::future::Future;
use std::io::Read;
use std::sync::Arc;

/// How many chunks (a few tens of KiB each) a download may run ahead of the reader.
const CHUNKS_AHEAD: usize = 64;

/// The media types gpubom asks for when fetching a manifest.
pub(crate) const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

const REFERRERS: Cap = Cap {
    bytes: MAX_REFERRERS_BYTES,
    kind: "a referrers list",
};

/// The artifact type of an attestation referrer: in-toto statements in DSSE envelopes, as
/// cosign's `--registry-referrers-mode oci-1-1` and `gpubom attest` write them.
pub const IN_TOTO_ARTIFACT_TYPE: &str = "application/vnd.in-toto+json";

/// Artifact types whose referrers are signed: sigstore bundles (cosign v3), cosign's
/// simple-signing artifacts and attestations (`--registry-referrers-mode oci-1-1`).
fn is_signed_artifact(artifact_type: &str) -> bool {
    artifact_type.starts_with("application/vnd.dev.sigstore.bundle")
        || artifact_type == "application/vnd.dev.cosign.artifact.sig.v1+json"
        || artifact_type == IN_TOTO_ARTIFACT_TYPE
}

/// An entry of a referrers list.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Referrer {
    pub(crate) digest: String,
    pub(crate) artifact_type: Option<String>,
}

pub struct Registry {
    runtime: tokio::runtime::Runtime,
    session: Arc<Session>,
    reference: Reference,
}

impl Registry {
    /// A client for `reference`'s repository with the user's credentials, which go to
    /// the registry and to the hosts in `options.credential_hosts` only (see
    /// [`crate::scope`]). The scan's deadline (`options.timeout`) starts now.
    pub fn connect(reference: Reference, options: &Options) -> Result<Registry, Error> {
        let deadlines = Deadlines::starting_now(options.timeout);
        let (credentials, origin) =
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
        let session = runtime.block_on(Session::connect(
            &reference,
            options,
            credentials,
            origin,
            deadlines,
        ))?;
        Ok(Registry {
            runtime,
            session: Arc::new(session),
            reference,
        })
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

    /// A manifest by tag or digest, at most `limit` bytes; `None` when the registry
    /// has none.
    pub(crate) fn manifest_at(
        &self,
        reference: &Reference,
        limit: u64,
    ) -> Result<Option<(Vec<u8>, String)>, Error> {
        let what = format!("manifest {}", reference.whole());
        let tag_or_digest = reference.digest().or(reference.tag()).unwrap_or("latest");
        let cap = Cap {
            bytes: limit,
            kind: "a manifest or index",
        };
        let fetched = self.block_on(self.session.document(
            &format!("manifests/{tag_or_digest}"),
            &[],
            &MANIFEST_TYPES.join(", "),
            &what,
            cap,
        ))?;
        let Some((bytes, headers)) = fetched else {
            return Ok(None);
        };
        let declared = headers
            .get("Docker-Content-Digest")
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty());
        let digest = manifest_digest(&bytes, declared, reference.digest())
            .map_err(|why| Error::Protocol { what, why })?;
        Ok(Some((bytes, digest)))
    }

    /// What the registry lists as referring to `subject` (of `artifact_type`, when
    /// given): through the referrers API, or where a registry has none, the referrers
    /// tag schema's index.
    pub(crate) fn referrers(
        &self,
        subject: &str,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Referrer>, Error> {
        let what = format!("referrers of {subject}");
        let query: Vec<(&str, &str)> = artifact_type
            .map(|kind| ("artifactType", kind))
            .into_iter()
            .collect();
        let listed = self.block_on(self.session.document(
            &format!("referrers/{subject}"),
            &query,
            OCI_IMAGE_INDEX_MEDIA_TYPE,
            &what,
            REFERRERS,
        ))?;
        let bytes = match listed {
            Some((bytes, _)) => bytes,
            None => {
                let tag = subject.replacen(':', "-", 1);
                match self.manifest_at(&self.at(&tag), MAX_REFERRERS_BYTES)? {
                    Some((bytes, _)) => bytes,
                    None => return Ok(Vec::new()),
                }
            }
        };
        parse_referrers(&bytes, artifact_type).map_err(|why| Error::Protocol { what, why })
    }

    /// A whole small blob, checked against its digest.
    fn small_blob(&self, digest: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let (mut reader, _) = self.open_blob(digest, None)?;
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

    /// Starts a blob download; the bytes arrive through the returned reader. A blob the
    /// registry says is longer than its descriptor `declared` is refused before it is read.
    fn open_blob(
        &self,
        digest: &str,
        declared: Option<u64>,
    ) -> Result<(Box<dyn Read + Send>, Option<u64>), Error> {
        let (response, _) = self
            .block_on(self.session.blob(digest, 0))
            .map_err(|e| self.session.classify(e, &format!("blob {digest}")))?;
        let size = response.content_length();
        if let (Some(size), Some(declared)) = (size, declared) {
            if size > declared {
                return Err(Error::Protocol {
                    what: format!("blob {digest}"),
                    why: crate::download::longer_than_declared(declared),
                });
            }
        }
        let (chunks, mut received) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
        self.runtime.spawn(crate::download::deliver(
            self.session.clone(),
            digest.to_string(),
            declared,
            response,
            chunks,
        ));
        let reader = ChunkReader::new(move || received.blocking_recv());
        Ok((Box::new(reader), size))
    }

    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub(crate) fn session(&self) -> &Session {
        &self.session
    }
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

    fn blob(
        &self,
        digest: &str,
        declared: Option<u64>,
    ) -> std::io::Result<(Box<dyn Read + Send>, Option<u64>)> {
        self.open_blob(digest, declared)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    fn attached(&self, subject: &str) -> std::io::Result<Vec<Attached>> {
        let to_io = |e: Error| std::io::Error::other(e.to_string());
        let mut found: Vec<(String, Vec<u8>, Discovery)> = Vec::new();
        for (suffix, via) in [("sig", Discovery::SigTag), ("att", Discovery::AttTag)] {
            let tag = format!("{}.{suffix}", subject.replacen(':', "-", 1));
            if let Some((bytes, digest)) = self
                .manifest_at(&self.at(&tag), gpubom_image::MAX_MANIFEST_BYTES)
                .map_err(to_io)?
            {
                found.push((digest, bytes, via));
            }
        }
        let referrers = self.referrers(subject, None).map_err(to_io)?;
        for entry in referrers.iter().take(gpubom_image::MAX_ATTACHED) {
            let kind = entry.artifact_type.as_deref().unwrap_or_default();
            if !is_signed_artifact(kind) {
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

/// The entries of a referrers list (an OCI index), of `artifact_type` when given.
pub(crate) fn parse_referrers(
    bytes: &[u8],
    artifact_type: Option<&str>,
) -> Result<Vec<Referrer>, String> {
    #[derive(serde::Deserialize)]
    struct Listing {
        manifests: Vec<Referrer>,
    }
    let listing: Listing =
        serde_json::from_slice(bytes).map_err(|e| format!("not an index of referrers: {e}"))?;
    Ok(listing
        .manifests
        .into_iter()
        .filter(|r| artifact_type.is_none() || r.artifact_type.as_deref() == artifact_type)
        .collect())
}

/// A manifest's digest as `oci-client` settled it: the body must match the digest it
/// was asked by and the one the registry declares (`Docker-Content-Digest`, the one
/// kept when both are there); with neither, the body's sha256.
pub(crate) fn manifest_digest(
    body: &[u8],
    declared: Option<&str>,
    asked: Option<&str>,
) -> Result<String, String> {
    for expected in [asked, declared].into_iter().flatten() {
        let (algorithm, _) = expected
            .split_once(':')
            .ok_or_else(|| format!("{expected:?} is not a digest: it names no algorithm"))?;
        let actual = match algorithm {
            "sha256" => hex::encode(Sha256::digest(body)),
            "sha384" => hex::encode(Sha384::digest(body)),
            "sha512" => hex::encode(Sha512::digest(body)),
            other => return Err(format!("unsupported digest algorithm {other:?}")),
        };
        let actual = format!("{algorithm}:{actual}");
        if actual != expected {
            return Err(format!(
                "digest mismatch: expected {expected}, the registry sent {actual}"
            ));
        }
    }
    Ok(match declared.or(asked) {
        Some(digest) => digest.to_string(),
        None => format!("sha256:{}", hex::encode(Sha256::digest(body))),
    })
}

/// The media type a manifest declares, or the one its shape implies.
pub(crate) fn media_type_of(bytes: &[u8]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_must_match_the_digest_asked_and_the_one_declared() {
        let body = b"{}";
        let right = format!("sha256:{}", hex::encode(Sha256::digest(body)));
        let wrong = format!("sha256:{}", "0".repeat(64));
        assert_eq!(manifest_digest(body, None, None).unwrap(), right);
        assert_eq!(manifest_digest(body, Some(&right), None).unwrap(), right);
        assert_eq!(manifest_digest(body, None, Some(&right)).unwrap(), right);
        let sha512 = format!("sha512:{}", hex::encode(Sha512::digest(body)));
        // The registry's own digest is the one kept.
        assert_eq!(
            manifest_digest(body, Some(&sha512), Some(&right)).unwrap(),
            sha512
        );
        let why = manifest_digest(body, Some(&wrong), None).unwrap_err();
        assert!(
            why.contains("digest mismatch") && why.contains(&wrong) && why.contains(&right),
            "{why}"
        );
        assert!(manifest_digest(body, None, Some(&wrong)).is_err());
        assert!(manifest_digest(body, Some("md5:00"), None).is_err());
    }
}
