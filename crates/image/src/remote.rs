//! The seam between the image model and a registry client.
//!
//! A registry is one more blob store: manifests and configs are small
//! documents fetched whole, layers are streams. The registry client (in
//! `gpubom-registry`) implements [`RemoteBlobs`], and
//! [`open_remote`](crate::open_remote) opens the image; everything after that —
//! choosing a platform from an index, verifying every digest, walking layers —
//! is the code every local source already runs, so a pushed image scans to
//! exactly what its OCI layout scans to.

use std::io::Read;

/// Content-addressed documents and blobs held somewhere else.
pub trait RemoteBlobs: Send + Sync {
    /// Where, for messages: `registry.example/team/app`.
    fn describe(&self) -> String;
    /// A manifest or index by digest, whole; at most `limit` bytes. The caller
    /// verifies the digest.
    fn manifest(&self, digest: &str, limit: u64) -> std::io::Result<Vec<u8>>;
    /// A blob's bytes as they arrive, and its size when the remote says. `declared` is the
    /// size its descriptor gives, when known: a remote that sends more is refused as soon as
    /// it does, rather than read until the digest check at the end, which never comes when
    /// the body never ends.
    fn blob(
        &self,
        digest: &str,
        declared: Option<u64>,
    ) -> std::io::Result<(Box<dyn Read + Send>, Option<u64>)>;
    /// Manifests attached to `subject` (signatures, attestations, SBOMs),
    /// however the remote lists them.
    fn attached(&self, subject: &str) -> std::io::Result<Vec<crate::Attached>>;
}

/// The document a reference resolved to, before any platform is chosen.
#[derive(Debug, Clone)]
pub struct RemoteTop {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// `host/repository`.
    pub name: String,
    pub tag: Option<String>,
    /// The reference as the user gave it, for `location`.
    pub reference: String,
}
