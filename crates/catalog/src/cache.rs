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
//! - **verified:** each entry starts with the sha256 of the rest and names
//!   its diff_id; one that does not check out is ignored and rewritten.
//!
//! What a hit costs: the layer is not read, so its bytes are not hashed
//! again. The digest was checked when the entry was made, and the image's
//! manifest and config, which name the layer, are still checked on every
//! scan; bytes altered in place after that first scan go unnoticed until a
//! scan with `--no-cache`.

use crate::walk::LayerAnalysis;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bump when what [`LayerAnalysis`] records changes meaning without the
/// executable changing (it always changes with it; see the module docs).
const FORMAT: u32 = 1;

/// A cache directory for this build of gpubom.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    /// The user's cache (`$XDG_CACHE_HOME/gpubom`, else `~/.cache/gpubom`);
    /// `None` when there is no home to keep one in.
    pub fn user() -> Option<LayerCache> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(LayerCache::at(&base.join("gpubom")))
    }

    /// A cache under `root`, in the directory for this build.
    pub fn at(root: &Path) -> LayerCache {
        LayerCache {
            dir: root.join(format!(
                "layers-v{FORMAT}-{}-{}",
                env!("CARGO_PKG_VERSION"),
                build_stamp()
            )),
        }
    }

    fn entry(&self, diff_id: &str) -> Option<PathBuf> {
        let hex = diff_id.strip_prefix("sha256:")?;
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.dir.join(format!("{hex}.json")))
    }

    /// The cached analysis of the layer `diff_id` names, if a sound one is kept.
    pub(crate) fn get(&self, diff_id: &str, index: usize) -> Option<LayerAnalysis> {
        let bytes = std::fs::read(self.entry(diff_id)?).ok()?;
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let (checksum, body) = (&bytes[..newline], &bytes[newline + 1..]);
        if checksum != hex::encode(Sha256::digest(body)).as_bytes() {
            return None;
        }
        let entry: Entry = serde_json::from_slice(body).ok()?;
        (entry.diff_id == diff_id).then_some(LayerAnalysis {
            index,
            ..entry.analysis
        })
    }

    /// Keeps `analysis` for `diff_id`. A cache that cannot be written is no
    /// reason to fail a scan, so errors are dropped.
    pub(crate) fn put(&self, diff_id: &str, analysis: &LayerAnalysis) {
        let Some(path) = self.entry(diff_id) else {
            return;
        };
        let Ok(body) = serde_json::to_vec(&EntryRef { diff_id, analysis }) else {
            return;
        };
        let _ = std::fs::create_dir_all(&self.dir).and_then(|()| {
            let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
            file.write_all(hex::encode(Sha256::digest(&body)).as_bytes())?;
            file.write_all(b"\n")?;
            file.write_all(&body)?;
            file.persist(&path).map(drop).map_err(|e| e.error)
        });
    }
}

#[derive(serde::Deserialize)]
struct Entry {
    diff_id: String,
    analysis: LayerAnalysis,
}

#[derive(serde::Serialize)]
struct EntryRef<'a> {
    diff_id: &'a str,
    analysis: &'a LayerAnalysis,
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
    use crate::walk::{FileKind, FileRecord};

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
        let cache = LayerCache::at(dir.path());
        assert!(cache.get(DIFF_ID, 0).is_none());
        cache.put(DIFF_ID, &analysis());
        let back = cache.get(DIFF_ID, 7).unwrap();
        assert_eq!(back.index, 7);
        assert_eq!(back.files[0].path, "etc/os-release");
    }

    #[test]
    fn a_corrupt_or_misplaced_entry_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::at(dir.path());
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
    fn only_sha256_diff_ids_name_entries() {
        let cache = LayerCache::at(Path::new("/nonexistent"));
        assert!(cache.entry("sha256:../../etc/passwd").is_none());
        assert!(cache.entry("sha512:00").is_none());
    }
}
