//! Where the bytes come from.
//!
//! [`open`] turns a source specification (`oci-dir:PATH`, `oci-archive:PATH`,
//! `docker-archive:PATH`, `dir:PATH`, `file:PATH`, or a bare path that is
//! autodetected) into an [`Image`]: the image configuration and the ordered
//! list of [`Layer`]s. Each layer is walked as a stream of [`Entry`]s with a
//! reader over each file's content; nothing is unpacked to disk. Compressed
//! layers (gzip, zstd) are recognised by their magic bytes, and every blob's
//! digest is verified while it streams.
//!
//! This crate knows nothing of catalogers: it reports whiteouts and opaque
//! directories as entry kinds and leaves their meaning to the caller.

use std::collections::BTreeMap;
use std::io::Read;

/// How a source was given or detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    OciDir,
    OciArchive,
    DockerArchive,
    Dir,
    File,
}

impl SourceKind {
    /// The scheme prefix a user writes to force this kind, e.g. `oci-archive`.
    pub fn scheme(self) -> &'static str {
        match self {
            SourceKind::OciDir => "oci-dir",
            SourceKind::OciArchive => "oci-archive",
            SourceKind::DockerArchive => "docker-archive",
            SourceKind::Dir => "dir",
            SourceKind::File => "file",
        }
    }
}

/// Options for [`open`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// `os/arch[/variant]`; defaults to `linux/amd64` for multi-platform indexes.
    pub platform: Option<String>,
}

/// An opened image (or directory, or file) ready to be walked layer by layer.
pub struct Image {
    pub kind: SourceKind,
    /// The path as given, without the scheme prefix.
    pub location: String,
    pub name: Option<String>,
    pub tag: Option<String>,
    pub manifest_digest: Option<String>,
    pub config_digest: Option<String>,
    /// `os/arch[/variant]` of the chosen manifest.
    pub platform: Option<String>,
    /// `None` for directories and single files.
    pub config: Option<ImageConfig>,
    pub layers: Vec<Layer>,
}

/// The parts of the OCI/Docker image configuration gpubom reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageConfig {
    pub user: Option<String>,
    pub exposed_ports: Vec<String>,
    /// `KEY=value` strings as in the config.
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub workdir: Option<String>,
    pub created: Option<String>,
    pub architecture: Option<String>,
    pub os: Option<String>,
    pub variant: Option<String>,
    pub diff_ids: Vec<String>,
    pub history: Vec<History>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub created_by: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

/// One layer: metadata plus the means to stream its entries.
pub struct Layer {
    pub index: usize,
    /// Digest of the blob as stored.
    pub digest: Option<String>,
    /// Digest of the uncompressed tar.
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    /// Size of the blob as stored, for progress.
    pub size: Option<u64>,
    /// The `created_by` line of the history entry that made this layer.
    pub created_by: Option<String>,
    // private: where the bytes are
}

/// One entry of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative, normalised path: no leading `/` or `./`, no `.` or `..` components,
    /// no trailing `/`.
    pub path: String,
    pub kind: EntryKind,
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// Target exactly as stored (may be relative or absolute).
    Symlink {
        target: String,
    },
    /// Target as a normalised path inside the image.
    Hardlink {
        target: String,
    },
    /// A `.wh.NAME` marker: `target` (normalised) is hidden from lower layers.
    Whiteout {
        target: String,
    },
    /// A `.wh..wh..opq` marker: the entry's `path` is the directory made opaque.
    OpaqueDir,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Message(String),
}

/// Opens a source. See the crate documentation for the accepted forms.
pub fn open(_spec: &str, _opts: &OpenOptions) -> Result<Image, Error> {
    todo!()
}

impl Layer {
    /// Streams every entry in order, giving `visit` the entry and a reader over its
    /// content (empty for anything but files). `progress` receives the number of
    /// stored (compressed) bytes consumed since its last call. After the last entry
    /// the rest of the blob is drained and its digests are verified; a mismatch is
    /// an error even though `visit` has already seen the entries.
    pub fn walk(
        &self,
        _progress: &(dyn Fn(u64) + Sync),
        _visit: &mut dyn FnMut(&Entry, &mut dyn Read) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        todo!()
    }
}
