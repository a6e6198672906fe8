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
    Tar {
        path: PathBuf,
        /// Member path (normalised) → (data offset, size).
        members: HashMap<String, (u64, u64)>,
    },
}

impl Store {
    /// Indexes a tar archive's members. Fails if it is not an uncompressed tar.
    pub fn index_tar(path: &Path) -> Result<Store, Error> {
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
        let mut members = HashMap::new();
        let not_tar = |e: std::io::Error| Error::NotAnImage {
            path: path.display().to_string(),
            why: guard::refusal(&e).unwrap_or_else(|| format!("not a tar archive ({e})")),
        };
        for entry in archive.entries().map_err(not_tar)? {
            let entry = entry.map_err(not_tar)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry.path().map_err(not_tar)?;
            if let Some(name) = crate::path::normalize(&name.to_string_lossy()) {
                members.insert(name, (entry.raw_file_position(), entry.size()));
            }
        }
        if members.is_empty() {
            return Err(Error::NotAnImage {
                path: path.display().to_string(),
                why: "not a tar archive, or an empty one".into(),
            });
        }
        Ok(Store::Tar {
            path: path.to_path_buf(),
            members,
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Store::Dir(p) => p.display().to_string(),
            Store::Tar { path, .. } => path.display().to_string(),
        }
    }

    pub fn contains(&self, member: &str) -> bool {
        match self {
            Store::Dir(dir) => dir.join(member).is_file(),
            Store::Tar { members, .. } => members.contains_key(member),
        }
    }

    /// Opens a member for streaming, with its size.
    pub fn open(&self, member: &str) -> Result<(Box<dyn Read + Send>, u64), Error> {
        let missing = || Error::MissingBlob {
            blob: member_to_digest(member),
            source_path: self.describe(),
        };
        match self {
            Store::Dir(dir) => {
                let path = dir.join(member);
                let file = File::open(&path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => missing(),
                    _ => Error::io(&path, e),
                })?;
                let size = file.metadata().map_err(|e| Error::io(&path, e))?.len();
                Ok((Box::new(file), size))
            }
            Store::Tar { path, members } => {
                let &(offset, size) = members.get(member).ok_or_else(missing)?;
                let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| Error::io(path, e))?;
                Ok((Box::new(file.take(size)), size))
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
    let bytes = store.read_json(&member)?;
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
