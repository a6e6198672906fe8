//! Layer results, cached by diff_id.
//!
//! A layer's analysis depends only on its uncompressed bytes, which its
//! diff_id names, so a rescan of an unchanged image — or of a new image on
//! the same base layers — need not read those layers again. Entries live
//! under `$XDG_CACHE_HOME/gpubom` (else `~/.cache/gpubom`):
//!
//! - **versioned:** the directory is named for the gpubom version and for the
//!   running executable (its size and modification time), so an upgrade, or
//!   any rebuild, never reuses facts an older walk recorded;
//! - **safe against concurrent runs:** an entry is written to a temporary
//!   file and renamed into place, so a reader sees a whole entry or none;
//! - **verified:** each entry ends with the sha256 of what precedes it and
//!   names its diff_id; one that does not check out is ignored and rewritten;
//! - **bounded:** an entry is written as it is serialised, and each fact is
//!   stored once however many hard links share it, so a layer of a thousand
//!   links to one big file costs one copy, not a thousand.
//!
//! What a hit costs: the layer is not read, so its bytes are not hashed
//! again. The digest was checked when the entry was made, and the image's
//! manifest and config, which name the layer, are still checked on every
//! scan; bytes altered in place after that first scan go unnoticed until a
//! scan with `--no-cache`.
//!
//! What a hit trusts: whoever can write the directory. The checksum catches
//! corruption, not forgery (anyone can recompute a sha256), so an entry
//! relabelled with another layer's diff_id would hide that layer's pickle from
//! `check`. So the directory is used only as ssh uses `~/.ssh`: a real
//! directory (not a symlink), owned by the user running gpubom, and writable by
//! no one else, the per-build directory inside it too; otherwise gpubom warns
//! once and scans without it. It creates both with mode 0700. An entry is read
//! only if it is a regular file (opened without following a link or blocking
//! on a FIFO) of at most [`MAX_ENTRY_BYTES`].

use crate::facts::{Fact, FileFact, FileRecord, LayerAnalysis};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bump when what [`LayerAnalysis`] records changes meaning without the
/// executable changing (it always changes with it; see the module docs).
const FORMAT: u32 = 3;

/// Length of the hex sha256 that ends an entry.
const CHECKSUM: usize = 64;

/// The largest entry read or written (256 MiB). An entry holds a line per file of its layer
/// and the facts parsed from a few of them: a layer of half a million files takes about 50 MB.
pub const MAX_ENTRY_BYTES: u64 = 256 << 20;

/// A cache directory for this build of gpubom.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    /// The user's cache (`$XDG_CACHE_HOME/gpubom`, else `~/.cache/gpubom`);
    /// `Ok(None)` when there is no home to keep one in, `Err` with the warning
    /// to show when the directory is not the user's alone (see the module docs).
    pub fn user() -> Result<Option<LayerCache>, String> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
        match base {
            Some(base) => LayerCache::at(&base.join("gpubom")).map(Some),
            None => Ok(None),
        }
    }

    /// A cache under `root`, in the directory for this build: both created (mode
    /// 0700) if missing, and used only if they are the user's alone. `Err` says
    /// why not, for the warning.
    pub fn at(root: &Path) -> Result<LayerCache, String> {
        let dir = root.join(format!(
            "layers-v{FORMAT}-{}-{}",
            env!("CARGO_PKG_VERSION"),
            build_stamp()
        ));
        for path in [root, dir.as_path()] {
            private_dir(path).map_err(|why| {
                format!(
                    "the layer cache {} is not used: {why}; a cache others can write could hide \
                     what a layer holds (make it yours alone, chmod 700, or scan with --no-cache)",
                    path.display()
                )
            })?;
        }
        Ok(LayerCache { dir })
    }

    fn entry(&self, diff_id: &str) -> Option<PathBuf> {
        let hex = diff_id.strip_prefix("sha256:")?;
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.dir.join(format!("{hex}.json")))
    }

    /// The cached analysis of the layer `diff_id` names, if a sound one is kept.
    pub(crate) fn get(&self, diff_id: &str, index: usize) -> Option<LayerAnalysis> {
        let bytes = read_entry(&self.entry(diff_id)?)?;
        let (body, checksum) = bytes.split_at(bytes.len().checked_sub(CHECKSUM)?);
        let body = body.strip_suffix(b"\n")?;
        if checksum != hex::encode(Sha256::digest(body)).as_bytes() {
            return None;
        }
        let stored: Stored = serde_json::from_slice(body).ok()?;
        if stored.diff_id != diff_id {
            return None;
        }
        let facts: Vec<Arc<Fact>> = stored.facts.into_iter().map(Arc::new).collect();
        let file_facts = stored
            .file_facts
            .into_iter()
            .map(|(path, sha256, fact)| {
                Some(FileFact {
                    path,
                    sha256,
                    fact: facts.get(fact)?.clone(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(LayerAnalysis {
            index,
            files: stored.files,
            whiteouts: stored.whiteouts,
            opaque_dirs: stored.opaque_dirs,
            facts: file_facts,
            skipped: stored.skipped,
        })
    }

    /// Keeps `analysis` for `diff_id`. A cache that cannot be written is no
    /// reason to fail a scan, so errors are dropped.
    pub(crate) fn put(&self, diff_id: &str, analysis: &LayerAnalysis) {
        let Some(path) = self.entry(diff_id) else {
            return;
        };
        // Hard links share their target's fact: one copy each, by position.
        let mut distinct: Vec<&Arc<Fact>> = Vec::new();
        let file_facts: Vec<(&str, Option<&str>, usize)> = analysis
            .facts
            .iter()
            .map(|f| {
                let at = match distinct.iter().rposition(|d| Arc::ptr_eq(d, &f.fact)) {
                    Some(at) => at,
                    None => {
                        distinct.push(&f.fact);
                        distinct.len() - 1
                    }
                };
                (f.path.as_str(), f.sha256.as_deref(), at)
            })
            .collect();
        let stored = StoredRef {
            diff_id,
            files: &analysis.files,
            whiteouts: &analysis.whiteouts,
            opaque_dirs: &analysis.opaque_dirs,
            skipped: &analysis.skipped,
            facts: distinct.iter().map(|f| f.as_ref()).collect(),
            file_facts,
        };
        // The directory was made or checked when the cache was opened. The
        // temporary file is created anew (never through a link) and renamed over
        // the entry, which replaces whatever was there rather than writing into it.
        let _ = (|| -> std::io::Result<()> {
            let file = tempfile::NamedTempFile::new_in(&self.dir)?;
            let mut hashing = HashingWriter {
                inner: std::io::BufWriter::new(file),
                hasher: Sha256::new(),
                left: MAX_ENTRY_BYTES.saturating_sub(CHECKSUM as u64 + 1),
            };
            serde_json::to_writer(&mut hashing, &stored)?;
            let checksum = hex::encode(hashing.hasher.finalize());
            let mut inner = hashing.inner;
            inner.write_all(b"\n")?;
            inner.write_all(checksum.as_bytes())?;
            let file = inner.into_inner().map_err(|e| e.into_error())?;
            file.persist(&path).map(drop).map_err(|e| e.error)
        })();
    }
}

/// Makes `path` a directory of mode 0700 if nothing is there, then checks it is
/// a directory (not a link to one), owned by this user and writable by no one else.
fn private_dir(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let made = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path);
    let meta = std::fs::symlink_metadata(path).map_err(|e| match made {
        Err(made) => made.to_string(),
        Ok(()) => e.to_string(),
    })?;
    if meta.file_type().is_symlink() {
        return Err("it is a symbolic link".into());
    }
    if !meta.is_dir() {
        return Err("it is not a directory".into());
    }
    let me = effective_uid();
    if meta.uid() != me {
        return Err(format!(
            "it belongs to user {}, not to you ({me})",
            meta.uid()
        ));
    }
    match meta.mode() & 0o022 {
        0 => Ok(()),
        0o020 => Err("it is group-writable".into()),
        _ => Err("it is world-writable".into()),
    }
}

/// The user this process acts as, who must own the cache.
fn effective_uid() -> u32 {
    // SAFETY: geteuid takes nothing, cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() }
}

/// An entry's bytes, if it is a regular file of at most [`MAX_ENTRY_BYTES`]. It is
/// opened without following a symbolic link and without blocking on a FIFO, and
/// its type is checked on the opened file, so a link to `/dev/zero` or a FIFO put
/// in its place is a miss, never read.
fn read_entry(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_ENTRY_BYTES.saturating_add(1))
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= MAX_ENTRY_BYTES).then_some(bytes)
}

/// An entry as written: each distinct fact once, and each file's facts by position.
#[derive(serde::Serialize)]
struct StoredRef<'a> {
    diff_id: &'a str,
    files: &'a [FileRecord],
    whiteouts: &'a [String],
    opaque_dirs: &'a [String],
    skipped: &'a [(String, String)],
    facts: Vec<&'a Fact>,
    file_facts: Vec<(&'a str, Option<&'a str>, usize)>,
}

/// An entry as read back: the owned shape of [`StoredRef`].
#[derive(serde::Deserialize)]
struct Stored {
    diff_id: String,
    files: Vec<FileRecord>,
    whiteouts: Vec<String>,
    opaque_dirs: Vec<String>,
    skipped: Vec<(String, String)>,
    facts: Vec<Fact>,
    file_facts: Vec<(String, Option<String>, usize)>,
}

/// Hashes what is written through it, so an entry is checksummed as it streams
/// out, and fails past `left` bytes: an entry [`LayerCache::get`] would not read
/// is not written.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    left: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(std::io::Error::other("past the largest entry"));
        }
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.left -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Names this build: the running executable's size and modification time.
fn build_stamp() -> String {
    let meta = std::env::current_exe().and_then(std::fs::metadata);
    let stamp = match meta {
        Ok(meta) => {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{modified}", meta.len())
        }
        Err(_) => "unknown".into(),
    };
    hex::encode(&Sha256::digest(stamp.as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FileKind, FileRecord};

    const DIFF_ID: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn analysis() -> LayerAnalysis {
        LayerAnalysis {
            index: 3,
            files: vec![FileRecord {
                path: "etc/os-release".into(),
                kind: FileKind::File,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn an_entry_comes_back_with_the_index_of_the_layer_asking() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::at(dir.path()).unwrap();
        assert!(cache.get(DIFF_ID, 0).is_none());
        cache.put(DIFF_ID, &analysis());
        let back = cache.get(DIFF_ID, 7).unwrap();
        assert_eq!(back.index, 7);
        assert_eq!(back.files[0].path, "etc/os-release");
    }

    #[test]
    fn a_corrupt_or_misplaced_entry_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::at(dir.path()).unwrap();
        cache.put(DIFF_ID, &analysis());
        let path = cache.entry(DIFF_ID).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(cache.get(DIFF_ID, 0).is_none(), "a flipped byte");
        std::fs::write(&path, b"garbage").unwrap();
        assert!(cache.get(DIFF_ID, 0).is_none(), "garbage");
        // A sound entry under another layer's name is not that layer's.
        let other = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        cache.put(DIFF_ID, &analysis());
        std::fs::copy(&path, cache.entry(other).unwrap()).unwrap();
        assert!(cache.get(other, 0).is_none());
        // Rewritten, it is sound again.
        cache.put(DIFF_ID, &analysis());
        assert!(cache.get(DIFF_ID, 0).is_some());
    }

    #[test]
    fn hard_links_share_one_stored_fact() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::at(dir.path()).unwrap();
        let shared = Arc::new(Fact::DpkgList(vec!["/synthetic/marker".into()]));
        let mut linked = analysis();
        linked.facts = (0..50)
            .map(|i| FileFact {
                path: format!("var/lib/dpkg/info/p{i}.list"),
                sha256: None,
                fact: shared.clone(),
            })
            .collect();
        cache.put(DIFF_ID, &linked);
        let text = std::fs::read_to_string(cache.entry(DIFF_ID).unwrap()).unwrap();
        assert_eq!(text.matches("/synthetic/marker").count(), 1);
        let back = cache.get(DIFF_ID, 0).unwrap();
        assert_eq!(back.facts.len(), 50);
        assert!(back
            .facts
            .iter()
            .all(|f| Arc::ptr_eq(&f.fact, &back.facts[0].fact)));
        assert_eq!(back.facts[49].path, "var/lib/dpkg/info/p49.list");
    }

    #[test]
    fn only_sha256_diff_ids_name_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::at(dir.path()).unwrap();
        assert!(cache.entry("sha256:../../etc/passwd").is_none());
        assert!(cache.entry("sha512:00").is_none());
    }
}
