//! Blob stores: a layout directory on disk, or an uncompressed tar indexed in
//! place. Archives are never extracted: each member is read by seeking to its
//! offset, so an image of any size costs one pass to index and no disk space.

use crate::digest::Algorithm;
use crate::guard::{self, Guard};
use crate::Error;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Largest JSON document (index, manifest, config) read into memory.
pub(crate) const MAX_JSON: u64 = 16 << 20;

pub(crate) enum Store {
    Dir(PathBuf),
    /// A registry: `index.json` is made up to point at the resolved reference.
    Remote {
        remote: std::sync::Arc<dyn crate::RemoteBlobs>,
        index_json: Vec<u8>,
    },
    Tar {
        path: PathBuf,
        /// Member path (normalised) → (data offset, size).
        members: HashMap<String, (u64, u64)>,
    },
}

/// What one pass over a tar's headers found.
struct Scan {
    members: HashMap<String, (u64, u64)>,
    /// The first member that only an image archive would have.
    image_member: Option<String>,
    /// Why the pass stopped early, if it did.
    failure: Option<String>,
    /// Whether it stopped at the cap on tar metadata, which is no sign of truncation.
    refused: bool,
    /// Whether the end-of-archive marker was there: without it, a tar cut at
    /// a member boundary reads cleanly, only shorter.
    terminated: bool,
    /// The first member named outside the archive, and why it is refused.
    escaping: Option<(String, &'static str)>,
}

impl Scan {
    /// The refusal of a member named outside the archive, if there is one:
    /// `../../blobs/sha256/…` must not be read as if it were `blobs/sha256/…`.
    fn refuse_escaping(&self, path: &Path) -> Result<(), Error> {
        match &self.escaping {
            Some((member, why)) => Err(Error::Invalid {
                what: format!("{}: member {member}", path.display()),
                why: format!("{why}, refused: an image archive names its members inside it"),
            }),
            None => Ok(()),
        }
    }
}

impl Store {
    /// Indexes a tar archive's members. Fails if it is not an uncompressed tar.
    pub fn index_tar(path: &Path) -> Result<Store, Error> {
        let scan = scan_tar(path)?;
        scan.refuse_escaping(path)?;
        let not_an_image = |why: String| Error::NotAnImage {
            path: path.display().to_string(),
            why,
        };
        if let Some(why) = scan.failure {
            return Err(not_an_image(if scan.refused {
                why
            } else if scan.members.is_empty() {
                format!("not a tar archive ({why})")
            } else {
                format!("truncated or corrupt tar archive ({why})")
            }));
        }
        if scan.members.is_empty() {
            return Err(not_an_image("not a tar archive, or an empty one".into()));
        }
        Ok(Store::Tar {
            path: path.to_path_buf(),
            members: scan.members,
        })
    }

    /// For a path given without a scheme: the archive if it is an image one,
    /// `None` if it is no image archive at all (so a single file to scan), and
    /// an error if it begins like one but cannot be read as one — a truncated
    /// download must not pass as a file with nothing in it.
    pub fn detect(path: &Path) -> Result<Option<Store>, Error> {
        let Ok(scan) = scan_tar(path) else {
            return Ok(None);
        };
        let is_image = ["manifest.json", "index.json"]
            .iter()
            .any(|m| scan.members.contains_key(*m));
        if is_image || scan.image_member.is_some() {
            scan.refuse_escaping(path)?;
        }
        let why = match (scan.failure, scan.image_member) {
            (None, _) if is_image => {
                return Ok(Some(Store::Tar {
                    path: path.to_path_buf(),
                    members: scan.members,
                }))
            }
            (_, None) => return Ok(None),
            (Some(failure), Some(member)) => format!(
                "it looks like an image archive (it holds {member}) \
                 but is truncated or corrupt ({failure})"
            ),
            (None, Some(member)) if !scan.terminated => format!(
                "it looks like an image archive (it holds {member}) but is truncated: \
                 it stops without the tar end-of-archive marker, before any index.json \
                 or manifest.json"
            ),
            (None, Some(member)) => format!(
                "it looks like an image archive (it holds {member}) \
                 but has no index.json or manifest.json"
            ),
        };
        Err(Error::NotAnImage {
            path: path.display().to_string(),
            why,
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Store::Dir(p) => p.display().to_string(),
            Store::Tar { path, .. } => path.display().to_string(),
            Store::Remote { remote, .. } => remote.describe(),
        }
    }

    pub fn contains(&self, member: &str) -> bool {
        match self {
            // Whatever is there: `open` says why a FIFO or a device is refused.
            Store::Dir(dir) => dir.join(member).symlink_metadata().is_ok(),
            Store::Tar { members, .. } => members.contains_key(member),
            Store::Remote { .. } => member == "index.json" || member.starts_with("blobs/"),
        }
    }

    /// Opens a member for streaming, with its size.
    pub fn open(&self, member: &str) -> Result<(Box<dyn Read + Send>, u64), Error> {
        self.open_declared(member, None)
    }

    /// [`Store::open`] for a blob whose descriptor declares its size: a remote store stops
    /// reading once more than that arrives (see [`crate::RemoteBlobs::blob`]).
    pub fn open_declared(
        &self,
        member: &str,
        declared: Option<u64>,
    ) -> Result<(Box<dyn Read + Send>, u64), Error> {
        let missing = || Error::MissingBlob {
            blob: member_to_digest(member),
            source_path: self.describe(),
        };
        match self {
            Store::Dir(dir) => {
                let path = dir.join(member);
                let (file, size) = open_regular(&path).map_err(|e| match e {
                    Opened::Failed(e) if e.kind() == std::io::ErrorKind::NotFound => missing(),
                    Opened::Failed(e) => Error::io(&path, e),
                    Opened::NotRegular(what) => Error::Invalid {
                        what: format!("{member} in {}", self.describe()),
                        why: format!("{what}, not a regular file"),
                    },
                })?;
                Ok((Box::new(file), size))
            }
            Store::Tar { path, members } => {
                let &(offset, size) = members.get(member).ok_or_else(missing)?;
                let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| Error::io(path, e))?;
                Ok((Box::new(file.take(size)), size))
            }
            Store::Remote { index_json, .. } if member == "index.json" => {
                let bytes = index_json.clone();
                let size = bytes.len() as u64;
                Ok((Box::new(std::io::Cursor::new(bytes)), size))
            }
            Store::Remote { remote, .. } => {
                let digest = member_to_digest(member);
                // The caller says what the blob is (a layer, a config); the
                // registry's message already names the digest.
                let (reader, size) = remote
                    .blob(&digest, declared)
                    .map_err(|e| Error::Usage(e.to_string()))?;
                Ok((reader, size.unwrap_or(0)))
            }
        }
    }

    /// Reads a small member (a JSON document) whole, refusing oversized ones.
    pub fn read_json(&self, member: &str) -> Result<Vec<u8>, Error> {
        let (reader, size) = self.open(member)?;
        if size > MAX_JSON {
            return Err(Error::Invalid {
                what: format!("{member} in {}", self.describe()),
                why: format!(
                    "{size} bytes is more than the {MAX_JSON}-byte limit for a JSON document"
                ),
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        reader
            .take(MAX_JSON)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(Path::new(&self.describe()), e))?;
        Ok(bytes)
    }
}

/// Why [`open_regular`] gave no file.
enum Opened {
    Failed(std::io::Error),
    /// What the path is instead (`a FIFO`, `a character device`, …).
    NotRegular(&'static str),
}

/// Opens `path` if it is a regular file, or a symlink to one, with its size.
///
/// A layout may store a blob once and link it (a blob is trusted for its
/// digest, not for where it lies), but a FIFO blocks the open and a device such
/// as `/dev/zero` never ends, so neither is opened. The open file is checked
/// again, in case the path was replaced in between; a FIFO swapped in during
/// that moment still blocks the open, which only whoever can write the layout
/// can do to its own scan.
fn open_regular(path: &Path) -> Result<(File, u64), Opened> {
    let regular = |meta: std::fs::Metadata| match file_type(&meta) {
        None => Ok(meta.len()),
        Some(what) => Err(Opened::NotRegular(what)),
    };
    regular(std::fs::metadata(path).map_err(Opened::Failed)?)?;
    let file = File::open(path).map_err(Opened::Failed)?;
    let size = regular(file.metadata().map_err(Opened::Failed)?)?;
    Ok((file, size))
}

/// What something that is not a regular file is, in words; `None` for a regular file.
pub(crate) fn file_type(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    Some(if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "neither a file nor a directory"
    })
}

/// Reads every header of an uncompressed tar, stopping at the first error.
/// `Err` only when the file cannot be read at all or is compressed.
fn scan_tar(path: &Path) -> Result<Scan, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 4];
    let n = (&file)
        .take(4)
        .read(&mut magic)
        .map_err(|e| Error::io(path, e))?;
    if n >= 2 && magic[..2] == [0x1f, 0x8b] || n == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
        return Err(Error::NotAnImage {
            path: path.display().to_string(),
            why: "the archive is compressed; decompress it first (gunzip / unzstd)".into(),
        });
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut archive = tar::Archive::new(Guard::new(file));
    let mut scan = Scan {
        members: HashMap::new(),
        image_member: None,
        failure: None,
        refused: false,
        terminated: false,
        escaping: None,
    };
    let mut read_headers = || -> std::io::Result<()> {
        // Headers only: the bodies (the layers) are skipped by seeking, not read.
        for entry in archive.entries_with_seek()? {
            let entry = entry?;
            let Some(name) = crate::path::normalize(&entry.path()?.to_string_lossy()) else {
                continue;
            };
            if scan.image_member.is_none() && only_in_images(&name) {
                scan.image_member = Some(name.clone());
            }
            if let Err(why) = crate::path::plain_member(&entry.path_bytes()) {
                // Not indexed, and refused as a whole if the tar proves to be an image.
                scan.escaping.get_or_insert_with(|| {
                    (
                        format!("{:?}", crate::path::exact(&entry.path_bytes())),
                        why,
                    )
                });
                continue;
            }
            if entry.header().entry_type().is_file() {
                scan.members
                    .insert(name, (entry.raw_file_position(), entry.size()));
            }
        }
        Ok(())
    };
    let result = read_headers();
    scan.terminated = archive.into_inner().terminated();
    if let Err(e) = result {
        let refusal = guard::refusal(&e);
        scan.refused = refusal.is_some();
        scan.failure = Some(refusal.unwrap_or_else(|| e.to_string()));
    }
    Ok(scan)
}

/// Members that mark a tar as an OCI layout or a `docker save` archive.
fn only_in_images(name: &str) -> bool {
    let (top, rest) = name.split_once('/').unwrap_or((name, ""));
    let legacy_layer = top.len() == 64
        && top.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && matches!(rest, "layer.tar" | "json" | "VERSION");
    match top {
        "oci-layout" | "index.json" | "manifest.json" | "repositories" => rest.is_empty(),
        "blobs" => true,
        _ => legacy_layer,
    }
}

/// `blobs/sha256/abc…` → `sha256:abc…` (other members unchanged), for messages.
fn member_to_digest(member: &str) -> String {
    match member
        .strip_prefix("blobs/")
        .and_then(|r| r.split_once('/'))
    {
        Some((alg, hex)) => format!("{alg}:{hex}"),
        None => member.to_string(),
    }
}

/// Reads a JSON blob and checks it against the digest that names it.
pub(crate) fn read_verified(store: &Store, digest: &str, what: &str) -> Result<Vec<u8>, Error> {
    let member = blob_path(digest)?;
    let invalid = |why: String| Error::Invalid {
        what: format!("{what} {digest} in {}", store.describe()),
        why,
    };
    let algorithm = Algorithm::of(digest).map_err(invalid)?;
    let bytes = match store {
        // A registry serves manifests from their own endpoint, not as blobs.
        Store::Remote { remote, .. } if matches!(what, "manifest" | "index") => remote
            .manifest(digest, MAX_JSON)
            .map_err(|e| invalid(e.to_string()))?,
        Store::Remote { .. } => store
            .read_json(&member)
            .map_err(|e| invalid(e.to_string()))?,
        _ => store.read_json(&member)?,
    };
    let actual = algorithm.digest(&bytes);
    if actual != digest {
        return Err(invalid(format!("digest mismatch: the blob is {actual}")));
    }
    Ok(bytes)
}

/// `sha256:abc…` → `blobs/sha256/abc…`, refusing anything that is not a plain digest.
pub(crate) fn blob_path(digest: &str) -> Result<String, Error> {
    let (alg, hex) = digest.split_once(':').ok_or_else(|| bad_digest(digest))?;
    let ok = !alg.is_empty()
        && alg.bytes().all(|b| b.is_ascii_alphanumeric())
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(bad_digest(digest));
    }
    Ok(format!("blobs/{alg}/{hex}"))
}

fn bad_digest(digest: &str) -> Error {
    Error::Invalid {
        what: "descriptor".into(),
        why: format!("malformed digest {digest:?}"),
    }
}
