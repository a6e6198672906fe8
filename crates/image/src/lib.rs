//! Where the bytes come from.
//!
//! [`open`] turns a source specification (`oci-dir:PATH`, `oci-archive:PATH`,
//! `docker-archive:PATH`, `dir:PATH`, `file:PATH`, or a bare path that is
//! autodetected) into an [`Image`]: the image configuration and the ordered
//! list of [`Layer`]s. [`read_stream`] reads a docker-archive that cannot be
//! seeked (a container engine's export), handing out its layers as they come. Each layer is walked as a stream of [`Entry`]s with a
//! reader over each file's content; nothing is unpacked to disk. Compressed
//! layers (gzip, zstd) are recognised by their magic bytes, and every blob's
//! digest is verified while it streams.
//!
//! This crate knows nothing of catalogers: it reports whiteouts and opaque
//! directories as entry kinds and leaves their meaning to the caller.

mod attached;
mod descriptor;
mod digest;
mod docker;
mod fs;
mod guard;
mod layer;
mod oci;
mod path;
mod pipe;
pub use path::exact as exact_path;
pub use pipe::ChunkReader;
mod remote;
mod store;
mod stream;
pub use attached::{
    read_attached, Attached, AttachedLayer, Discovery, DSSE_ENVELOPE, MAX_ATTACHED,
    MAX_ATTACHED_LAYERS, MAX_ATTACHED_LAYER_BYTES, MAX_ATTESTATION_LAYER_BYTES, MAX_MANIFEST_BYTES,
};
pub use remote::{RemoteBlobs, RemoteTop};
pub use stream::{read_stream, ArchiveStream, Streamed, MAX_HELD_BYTES};

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::{blob_path, Store};

/// How a source was given or detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    OciDir,
    OciArchive,
    DockerArchive,
    Dir,
    File,
    /// A registry reference; opened by `gpubom-registry` through [`open_remote`].
    Registry,
    /// An image in a container engine, exported by its API (`gpubom-engine`,
    /// through [`read_stream`]).
    Docker,
    Podman,
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
            SourceKind::Registry => "registry",
            SourceKind::Docker => "docker",
            SourceKind::Podman => "podman",
        }
    }
}

/// Options for [`open`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// `os/arch[/variant]`: picked from a multi-platform index (`linux/amd64`
    /// when not given), and checked against a single-platform image.
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
    /// The index the platform's manifest was chosen from, when the reference
    /// named one (a signature may be over either digest).
    pub index_digest: Option<String>,
    pub config_digest: Option<String>,
    /// `os/arch[/variant]` of the chosen manifest.
    pub platform: Option<String>,
    /// `None` for directories and single files.
    pub config: Option<ImageConfig>,
    pub layers: Vec<Layer>,
    /// Where the image's documents are, for finding what is attached to it.
    store: Option<Arc<Store>>,
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
    bytes: LayerBytes,
}

/// Where a layer's bytes are.
enum LayerBytes {
    Blob {
        store: Arc<Store>,
        member: String,
    },
    Dir(PathBuf),
    File(PathBuf),
    /// A member of a streamed archive, readable once; the walk leaves the
    /// diff_id it measured for the stream to check.
    Stream {
        member: String,
        reader: std::sync::Mutex<Option<Box<dyn Read + Send>>>,
        diff_id: Arc<std::sync::OnceLock<String>>,
    },
    /// A streamed layer already walked.
    Streamed,
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
    /// Where a directory source's file lies on disk, so its bytes can be read again on
    /// another thread; `None` inside a layer tar, which is one stream.
    pub on_disk: Option<PathBuf>,
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

/// Why a source could not be opened or read. Every message names the file or layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an image: {why}")]
    NotAnImage { path: String, why: String },
    #[error("{what}: {why}")]
    Invalid { what: String, why: String },
    #[error("blob {blob} is missing from {source_path}")]
    MissingBlob { blob: String, source_path: String },
    #[error("no image for platform {wanted}; the image has: {available} (choose with --platform)")]
    Platform { wanted: String, available: String },
    #[error("layer {layer}: {why}")]
    Layer { layer: String, why: String },
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

const SCHEMES: &[(&str, SourceKind)] = &[
    // skopeo's and Syft's `oci:`: a layout, or (read in `open`) an archive of one.
    ("oci", SourceKind::OciDir),
    ("oci-dir", SourceKind::OciDir),
    ("oci-archive", SourceKind::OciArchive),
    ("docker-archive", SourceKind::DockerArchive),
    ("dir", SourceKind::Dir),
    ("file", SourceKind::File),
];

/// The scheme prefixes of local sources (`oci-archive`, `dir`, …).
pub fn local_schemes() -> impl Iterator<Item = &'static str> {
    SCHEMES.iter().map(|(scheme, _)| *scheme)
}

/// Opens a source. See the crate documentation for the accepted forms.
pub fn open(spec: &str, opts: &OpenOptions) -> Result<Image, Error> {
    let image = open_unchecked(spec, opts)?;
    ensure_platform(&image, opts.platform.as_deref())?;
    Ok(image)
}

fn open_unchecked(spec: &str, opts: &OpenOptions) -> Result<Image, Error> {
    let (forced, location) = match spec.split_once(':') {
        Some((scheme, rest)) if !Path::new(spec).exists() => {
            match SCHEMES.iter().find(|(s, _)| *s == scheme) {
                Some((_, kind)) => (Some(*kind), rest),
                None => {
                    let accepted: Vec<&str> = SCHEMES.iter().map(|(s, _)| *s).collect();
                    return Err(Error::Usage(format!(
                        "{spec}: unknown source scheme {scheme:?}; use one of {}: (or a path)",
                        accepted.join(":, ")
                    )));
                }
            }
        }
        _ => (None, spec),
    };
    let path = Path::new(location);
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if let Some(what) = store::file_type(&meta).filter(|_| !meta.is_dir()) {
        // A FIFO would block the first read, a device such as /dev/zero never ends.
        return Err(Error::Usage(format!(
            "{location}: {what}, neither a regular file nor a directory"
        )));
    }
    let wanted = opts.platform.as_deref();
    let oci_archive = spec.starts_with("oci:") && !meta.is_dir();
    let forced = if oci_archive {
        Some(SourceKind::OciArchive)
    } else {
        forced
    };
    let kind = match forced {
        Some(kind) => kind,
        None if meta.is_dir() => {
            if path.join("index.json").is_file() || path.join("oci-layout").is_file() {
                SourceKind::OciDir
            } else {
                SourceKind::Dir
            }
        }
        None => match Store::detect(path)? {
            Some(store) if store.contains("manifest.json") => {
                return open_docker(Arc::new(store), location)
            }
            Some(store) => {
                return open_oci(Arc::new(store), SourceKind::OciArchive, location, wanted)
            }
            None => SourceKind::File,
        },
    };
    match kind {
        SourceKind::OciDir => open_oci(
            Arc::new(Store::Dir(path.to_path_buf())),
            kind,
            location,
            wanted,
        ),
        SourceKind::OciArchive => {
            open_oci(Arc::new(Store::index_tar(path)?), kind, location, wanted)
        }
        SourceKind::DockerArchive => open_docker(Arc::new(Store::index_tar(path)?), location),
        // Never a scheme here: the caller routes references to their clients.
        SourceKind::Registry | SourceKind::Docker | SourceKind::Podman => {
            Err(Error::Usage(format!(
                "{location}: a {} image cannot be opened as a local path",
                kind.scheme()
            )))
        }
        SourceKind::Dir | SourceKind::File => {
            let is_dir = kind == SourceKind::Dir;
            if is_dir != meta.is_dir() {
                let what = if is_dir { "a directory" } else { "a file" };
                return Err(Error::Usage(format!("{location}: not {what}")));
            }
            let bytes = if is_dir {
                LayerBytes::Dir(path.to_path_buf())
            } else {
                LayerBytes::File(path.to_path_buf())
            };
            Ok(Image {
                kind,
                location: location.to_string(),
                name: None,
                tag: None,
                manifest_digest: None,
                index_digest: None,
                config_digest: None,
                platform: None,
                config: None,
                store: None,
                layers: vec![Layer {
                    index: 0,
                    digest: None,
                    diff_id: None,
                    media_type: None,
                    size: (!is_dir).then_some(meta.len()),
                    created_by: None,
                    bytes,
                }],
            })
        }
    }
}

fn open_oci(
    store: Arc<Store>,
    kind: SourceKind,
    location: &str,
    wanted: Option<&str>,
) -> Result<Image, Error> {
    if !store.contains("index.json") {
        return Err(Error::NotAnImage {
            path: store.describe(),
            why: "no index.json (an OCI layout) here".into(),
        });
    }
    let chosen = oci::choose(&store, wanted.unwrap_or(DEFAULT_PLATFORM))?;
    let config_digest = chosen.manifest.config.digest.clone();
    oci::expect_image_config(&chosen, &store.describe())?;
    let config_bytes = store::read_verified(&store, &config_digest, "config")?;
    let (config, has_rootfs) =
        oci::parse_config(&config_bytes, &format!("config {config_digest}"))?;
    if !has_rootfs {
        return Err(Error::NotAnImage {
            path: format!("{location} ({})", chosen.descriptor.digest),
            why: "its config has no rootfs: an artifact, not a container image".into(),
        });
    }
    let (name, tag) = oci::name_and_tag(&chosen.name_annotations);
    let history = oci::layer_history(&config);
    let layers = chosen
        .manifest
        .layers
        .iter()
        .enumerate()
        .map(|(index, d)| {
            let diff_id = config.diff_ids.get(index).cloned();
            verifiable(index, Some(&d.digest), diff_id.as_deref())?;
            Ok(Layer {
                index,
                digest: Some(d.digest.clone()),
                diff_id,
                media_type: Some(d.media_type.clone()),
                size: d.size,
                created_by: history.get(index).cloned().flatten(),
                bytes: LayerBytes::Blob {
                    store: store.clone(),
                    member: blob_path(&d.digest)?,
                },
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let platform = chosen
        .descriptor
        .platform
        .as_ref()
        .map(|p| p.to_string())
        .or_else(|| platform_of(&config));
    Ok(Image {
        kind,
        location: location.to_string(),
        name,
        tag,
        manifest_digest: Some(chosen.descriptor.digest.clone()),
        index_digest: chosen.index_digest,
        config_digest: Some(config_digest),
        platform,
        config: Some(config),
        layers,
        store: Some(store),
    })
}

/// Opens an image held by `remote`, starting from `top` (a manifest or an index).
pub fn open_remote(
    remote: Arc<dyn RemoteBlobs>,
    top: &RemoteTop,
    platform: Option<&str>,
) -> Result<Image, Error> {
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": top.media_type,
            "digest": top.digest,
            "size": top.size,
        }],
    });
    let store = Store::Remote {
        remote,
        index_json: index.to_string().into_bytes(),
    };
    let mut image = open_oci(
        Arc::new(store),
        SourceKind::Registry,
        &top.reference,
        platform,
    )?;
    ensure_platform(&image, platform)?;
    image.name = Some(top.name.clone());
    image.tag = top.tag.clone();
    Ok(image)
}

fn open_docker(store: Arc<Store>, location: &str) -> Result<Image, Error> {
    let docker = docker::read(&store.describe(), &|member| store.read_json(member))?;
    let history = oci::layer_history(&docker.config);
    let layers = docker
        .layers
        .iter()
        .enumerate()
        .map(|(index, (member, digest))| {
            let diff_id = docker.config.diff_ids.get(index).cloned();
            verifiable(index, digest.as_deref(), diff_id.as_deref())?;
            Ok(Layer {
                index,
                digest: digest.clone(),
                diff_id,
                media_type: None,
                size: match store.as_ref() {
                    Store::Tar { members, .. } => members.get(member).map(|m| m.1),
                    Store::Dir(_) | Store::Remote { .. } => None,
                },
                created_by: history.get(index).cloned().flatten(),
                bytes: LayerBytes::Blob {
                    store: store.clone(),
                    member: member.clone(),
                },
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Image {
        kind: SourceKind::DockerArchive,
        location: location.to_string(),
        name: docker.name,
        tag: docker.tag,
        manifest_digest: None,
        index_digest: None,
        platform: platform_of(&docker.config),
        config_digest: Some(docker.config_digest),
        config: Some(docker.config),
        layers,
        store: None,
    })
}

/// Refuses a layer whose digests cannot be checked, before any layer is read
/// rather than midway through the scan.
fn verifiable(index: usize, digest: Option<&str>, diff_id: Option<&str>) -> Result<(), Error> {
    for (name, digest) in [("digest", digest), ("diff_id", diff_id)] {
        if let Some(digest) = digest {
            digest::Algorithm::of(digest).map_err(|why| Error::Layer {
                layer: index.to_string(),
                why: format!("{name} {digest}: {why}"),
            })?;
        }
    }
    Ok(())
}

/// What a multi-platform index is narrowed to when nobody says.
const DEFAULT_PLATFORM: &str = "linux/amd64";

/// Refuses a single-platform image that is not the platform the user asked
/// for: scanning it anyway would report on binaries that will not run there.
fn ensure_platform(image: &Image, asked: Option<&str>) -> Result<(), Error> {
    let (Some(asked), Some(found)) = (asked, image.platform.as_deref()) else {
        return Ok(());
    };
    if oci::platform_matches(found, asked) {
        Ok(())
    } else {
        Err(Error::Platform {
            wanted: asked.to_string(),
            available: found.to_string(),
        })
    }
}

fn platform_of(config: &ImageConfig) -> Option<String> {
    let os = config.os.as_deref()?;
    let arch = config.architecture.as_deref()?;
    Some(match &config.variant {
        Some(v) => format!("{os}/{arch}/{v}"),
        None => format!("{os}/{arch}"),
    })
}

impl Image {
    /// The digests the image is known by, its manifest's then its index's: what a signature
    /// or an attestation may name as its subject.
    pub fn digests(&self) -> Vec<&str> {
        let own = self.manifest_digest.iter().chain(&self.index_digest);
        own.map(String::as_str).collect()
    }

    /// Manifests attached to this image: the signatures `cosign save` keeps in
    /// a layout, or what a registry lists for the image's digests. Empty for
    /// sources that cannot hold any (directories, files, `docker save`).
    pub fn attached(&self) -> Result<Vec<Attached>, Error> {
        match self.store.as_deref() {
            Some(Store::Remote { remote, .. }) => {
                let mut out = Vec::new();
                for digest in self.manifest_digest.iter().chain(&self.index_digest) {
                    let found = remote.attached(digest).map_err(|e| Error::Invalid {
                        what: format!("attached manifests of {digest} in {}", remote.describe()),
                        why: e.to_string(),
                    })?;
                    out.extend(found);
                }
                Ok(out)
            }
            Some(store) => oci::attached_in_layout(store),
            None => Ok(Vec::new()),
        }
    }
}

impl Layer {
    /// Streams every entry in order, giving `visit` the entry and a reader over its
    /// content (empty for anything but files). `progress` receives the number of
    /// stored (compressed) bytes consumed since its last call. After the last entry
    /// the rest of the blob is drained and its digests are verified; a mismatch is
    /// an error even though `visit` has already seen the entries.
    pub fn walk(
        &self,
        progress: &(dyn Fn(u64) + Sync),
        visit: &mut dyn FnMut(&Entry, &mut dyn Read) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        match &self.bytes {
            LayerBytes::Blob { store, member } => {
                let label = format!(
                    "{} ({})",
                    self.index,
                    self.digest
                        .as_deref()
                        .or(self.diff_id.as_deref())
                        .unwrap_or(member)
                );
                let (reader, _) =
                    store
                        .open_declared(member, self.size)
                        .map_err(|e| Error::Layer {
                            layer: label.clone(),
                            why: e.to_string(),
                        })?;
                let expect = layer::Expect {
                    label,
                    digest: self.digest.as_deref(),
                    diff_id: self.diff_id.as_deref(),
                    measure_diff_id: false,
                };
                layer::walk_tar(reader, &expect, progress, visit).map(drop)
            }
            LayerBytes::Dir(root) => fs::walk_dir(root, progress, visit),
            LayerBytes::File(path) => fs::walk_file(path, progress, visit),
            LayerBytes::Stream {
                member,
                reader,
                diff_id,
            } => {
                let label = format!("{member} of the stream");
                let taken = reader.lock().ok().and_then(|mut slot| slot.take());
                let Some(reader) = taken else {
                    return Err(Error::Layer {
                        layer: label,
                        why: "a streamed layer can be read once only".into(),
                    });
                };
                let expect = layer::Expect {
                    label,
                    digest: self.digest.as_deref(),
                    diff_id: None,
                    measure_diff_id: true,
                };
                if let Some(measured) = layer::walk_tar(reader, &expect, progress, visit)? {
                    let _ = diff_id.set(measured);
                }
                Ok(())
            }
            LayerBytes::Streamed => Err(Error::Layer {
                layer: self.label(),
                why: "a streamed layer was read as it arrived and cannot be read again".into(),
            }),
        }
    }

    /// The layer in a few words, for progress and messages: its digest (or
    /// diff_id) shortened, or its member in a stream, or its position.
    pub fn label(&self) -> String {
        let short = |digest: &str| {
            let (algorithm, hex) = digest.split_once(':').unwrap_or(("", digest));
            let hex: String = hex.chars().take(12).collect();
            format!("{algorithm}:{hex}")
        };
        match (&self.digest, &self.diff_id, &self.bytes) {
            (Some(digest), _, _) | (None, Some(digest), _) => short(digest),
            (
                None,
                None,
                LayerBytes::Stream {
                    member, diff_id, ..
                },
            ) => match diff_id.get() {
                Some(measured) => short(measured),
                None => member.chars().take(24).collect(),
            },
            _ => format!("layer {}", self.index),
        }
    }
}
