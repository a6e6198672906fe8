//! The per-layer pass: one streaming read of a layer's tar.
//!
//! Every entry is offered to the catalogers by path and size first; only the
//! files one of them claims are read, with a size cap, and hashed. The result
//! ([`LayerAnalysis`]) depends only on the layer's bytes, so layers can be
//! analysed in parallel (and, later, cached by diff_id).

use crate::cataloger::{Cataloger, Claim, Fact, StreamSink, CATALOGERS};
use gpubom_image::{Entry, EntryKind, Layer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Read};

/// What kind of filesystem object a path is in one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FileKind {
    File,
    Dir,
    Symlink(String),
    Hardlink(String),
    Other,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FileRecord {
    pub path: String,
    pub kind: FileKind,
}

/// A fact some cataloger parsed out of one file of one layer.
#[derive(Debug, Clone)]
pub(crate) struct FileFact {
    pub path: String,
    /// sha256 of the whole file, hex; present for every claimed regular file.
    pub sha256: Option<String>,
    /// Shared, so the hard links to a file (which carry no content of their own) cost a pointer each.
    pub fact: std::sync::Arc<Fact>,
}

/// Everything one layer contributes, before layers are merged.
#[derive(Debug, Default)]
pub(crate) struct LayerAnalysis {
    pub index: usize,
    pub files: Vec<FileRecord>,
    pub whiteouts: Vec<String>,
    pub opaque_dirs: Vec<String>,
    pub facts: Vec<FileFact>,
    /// Files a cataloger wanted but could not read in full, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// Analyses one layer in a single streaming pass.
pub(crate) fn analyze_layer(
    layer: &Layer,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<LayerAnalysis, gpubom_image::Error> {
    let mut pass = Pass::new(layer.index);
    layer.walk(progress, &mut |entry, reader| pass.visit(entry, reader))?;
    Ok(pass.finish())
}

/// The state of one layer's pass.
///
/// A tar may hold several entries for one path; extraction leaves the last,
/// so everything about earlier ones is dropped by [`Pass::finish`]. A whiteout
/// in a layer also removes what that layer itself put at the path before it
/// (extraction deletes it), besides hiding lower layers as [`crate::merge`] does.
struct Pass {
    out: LayerAnalysis,
    /// Facts now at each claimed path, by position in `out.facts`, so that hard
    /// links (which carry no content of their own in a tar) get the same facts.
    facts_by_path: BTreeMap<String, Vec<usize>>,
    /// The record (position in `out.files`) each fact and each skipped file belongs to.
    fact_owner: Vec<usize>,
    skipped_owner: Vec<usize>,
    /// For each of `out.whiteouts`, how many records preceded it.
    whiteout_after: Vec<usize>,
}

impl Pass {
    fn new(index: usize) -> Self {
        Pass {
            out: LayerAnalysis {
                index,
                ..Default::default()
            },
            facts_by_path: BTreeMap::new(),
            fact_owner: Vec::new(),
            skipped_owner: Vec::new(),
            whiteout_after: Vec::new(),
        }
    }

    fn visit(&mut self, entry: &Entry, reader: &mut dyn Read) -> io::Result<()> {
        let kind = match &entry.kind {
            EntryKind::Whiteout { target } => {
                self.forget_facts(target, true);
                self.out.whiteouts.push(target.clone());
                self.whiteout_after.push(self.out.files.len());
                return Ok(());
            }
            EntryKind::OpaqueDir => {
                // Hides lower layers only: containerd keeps what this layer unpacked.
                self.out.opaque_dirs.push(entry.path.clone());
                return Ok(());
            }
            EntryKind::File => FileKind::File,
            EntryKind::Dir => FileKind::Dir,
            EntryKind::Symlink { target } => FileKind::Symlink(target.clone()),
            EntryKind::Hardlink { target } => FileKind::Hardlink(target.clone()),
            EntryKind::Other => FileKind::Other,
        };
        // Anything but a directory replaces a directory with all it held.
        self.forget_facts(&entry.path, kind != FileKind::Dir);
        let record = self.out.files.len();
        if let FileKind::Hardlink(target) = &kind {
            if let Some(indices) = self.facts_by_path.get(target).cloned() {
                for i in indices {
                    let mut copy = self.out.facts[i].clone();
                    copy.path = entry.path.clone();
                    self.add_fact(copy, record);
                }
            }
        }
        let is_file = kind == FileKind::File;
        self.out.files.push(FileRecord {
            path: entry.path.clone(),
            kind,
        });
        if !is_file {
            return Ok(());
        }
        let claims: Vec<(&'static dyn Cataloger, Claim)> = CATALOGERS
            .iter()
            .filter_map(|c| c.claim(&entry.path, entry.size).map(|claim| (*c, claim)))
            .collect();
        if claims.is_empty() {
            return Ok(());
        }
        read_claimed(entry, reader, &claims, self, record)
    }

    fn add_fact(&mut self, fact: FileFact, record: usize) {
        self.facts_by_path
            .entry(fact.path.clone())
            .or_default()
            .push(self.out.facts.len());
        self.fact_owner.push(record);
        self.out.facts.push(fact);
    }

    /// `path` is being replaced (or removed): hard links made from now on must
    /// not pick up what was there.
    fn forget_facts(&mut self, path: &str, with_contents: bool) {
        self.facts_by_path.remove(path);
        if with_contents {
            let below = format!("{path}/");
            let doomed: Vec<String> = self
                .facts_by_path
                .range(below.clone()..)
                .take_while(|(p, _)| p.starts_with(&below))
                .map(|(p, _)| p.clone())
                .collect();
            for p in doomed {
                self.facts_by_path.remove(&p);
            }
        }
    }

    /// Keeps, for each path, only what its last entry in the layer left.
    fn finish(self) -> LayerAnalysis {
        let Pass {
            mut out,
            fact_owner,
            skipped_owner,
            whiteout_after,
            ..
        } = self;
        let files = &out.files;
        let mut by_path: Vec<usize> = (0..files.len()).collect();
        by_path.sort_unstable_by(|&a, &b| files[a].path.cmp(&files[b].path).then(a.cmp(&b)));
        let mut live = vec![true; files.len()];
        for pair in by_path.windows(2) {
            if files[pair[0]].path == files[pair[1]].path {
                live[pair[0]] = false;
            }
        }
        // Records that extraction deletes: a whiteout removes its target and all
        // below it, anything but a directory removes all below its own path.
        // Each removes only what came before it.
        let whiteouts = out
            .whiteouts
            .iter()
            .zip(whiteout_after)
            .map(|(target, before)| (target.as_str(), true, before));
        let replacements = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind != FileKind::Dir)
            .map(|(i, f)| (f.path.as_str(), false, i));
        for (path, itself, before) in whiteouts.chain(replacements) {
            // What lies below `path/` sorts together, but not right after `path`
            // itself (`path-x` comes between), so the two are looked up apart.
            let below = format!("{path}/");
            let ranges = [(path, false), (below.as_str(), true)];
            for (start, is_prefix) in ranges.into_iter().skip(usize::from(!itself)) {
                let hit = |p: &str| {
                    if is_prefix {
                        p.starts_with(start)
                    } else {
                        p == start
                    }
                };
                let from = by_path.partition_point(|&i| files[i].path.as_str() < start);
                for &i in by_path[from..].iter().take_while(|&&i| hit(&files[i].path)) {
                    if i < before {
                        live[i] = false;
                    }
                }
            }
        }
        if live.iter().all(|&l| l) {
            return out;
        }
        let mut keep = live.iter();
        out.files.retain(|_| *keep.next().unwrap_or(&true));
        let mut owners = fact_owner.iter();
        out.facts
            .retain(|_| owners.next().is_none_or(|&record| live[record]));
        let mut owners = skipped_owner.iter();
        out.skipped
            .retain(|_| owners.next().is_none_or(|&record| live[record]));
        out
    }
}

/// Chunk size for streamed files: large enough to keep syscalls and hashing
/// efficient, small enough that memory stays flat.
const CHUNK: usize = 256 << 10;
/// Enough for every sink to decide whether it wants a file (models sniff 4 KiB).
const FIRST_READ: usize = 8 << 10;

/// Reads a claimed file once: hashes it, feeds streaming sinks, and keeps the
/// bytes only when some cataloger asked for the whole file and it fits.
fn read_claimed(
    entry: &Entry,
    reader: &mut dyn Read,
    claims: &[(&'static dyn Cataloger, Claim)],
    pass: &mut Pass,
    record: usize,
) -> io::Result<()> {
    let max_whole = claims
        .iter()
        .filter_map(|(_, c)| match c {
            Claim::Whole { max_bytes } => Some(*max_bytes),
            Claim::Stream => None,
        })
        .max();
    let keep_whole = match max_whole {
        Some(max) if entry.size > max => {
            pass.skipped_owner.push(record);
            pass.out.skipped.push((
                entry.path.clone(),
                format!("{} bytes, more than the {max}-byte cap", entry.size),
            ));
            false
        }
        Some(_) => true,
        None => false,
    };
    let mut sinks: Vec<Box<dyn StreamSink>> = claims
        .iter()
        .filter(|(_, c)| *c == Claim::Stream)
        .filter_map(|(cataloger, _)| cataloger.open_stream(&entry.path, entry.size))
        .collect();
    if !keep_whole && sinks.is_empty() {
        return Ok(());
    }

    let mut whole = Vec::with_capacity(if keep_whole { entry.size as usize } else { 0 });
    let mut hasher = Sha256::new();
    // Most files are small: a buffer the size of the file, not of the largest chunk.
    let mut chunk = vec![0u8; CHUNK.min(entry.size.max(1) as usize)];
    // The first read is small: most files are offered only to be sniffed, and
    // a sink that declines them spares reading (and hashing) the rest.
    let mut limit = FIRST_READ.min(chunk.len());
    loop {
        let n = match reader.read(&mut chunk[..limit]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = &chunk[..n];
        limit = chunk.len();
        for sink in &mut sinks {
            sink.feed(data);
        }
        sinks.retain(|s| s.wants_more());
        if sinks.is_empty() && !keep_whole {
            return Ok(());
        }
        hasher.update(data);
        if keep_whole {
            whole.extend_from_slice(data);
        }
    }
    let sha256 = hex::encode(hasher.finalize());

    let mut facts: Vec<Fact> = sinks.into_iter().flat_map(|s| s.finish(&sha256)).collect();
    if keep_whole {
        for (cataloger, claim) in claims {
            if matches!(claim, Claim::Whole { .. }) {
                facts.extend(cataloger.parse(&entry.path, &whole));
            }
        }
    }
    for fact in facts {
        let fact = FileFact {
            path: entry.path.clone(),
            sha256: Some(sha256.clone()),
            fact: std::sync::Arc::new(fact),
        };
        pass.add_fact(fact, record);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIST: &str = "app/pkg-1.0.dist-info";

    fn add(pass: &mut Pass, path: &str, kind: EntryKind, bytes: &[u8]) {
        let entry = Entry {
            path: path.to_string(),
            kind,
            size: bytes.len() as u64,
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        pass.visit(&entry, &mut &bytes[..]).unwrap();
    }

    fn metadata(pass: &mut Pass, dir: &str, version: &str) {
        let text = format!("Metadata-Version: 2.1\nName: pkg\nVersion: {version}\n");
        add(
            pass,
            &format!("{dir}/METADATA"),
            EntryKind::File,
            text.as_bytes(),
        );
    }

    /// (path, version) of every Python distribution fact the layer keeps.
    fn dists(out: &LayerAnalysis) -> Vec<(String, String)> {
        out.facts
            .iter()
            .filter_map(|f| match &*f.fact {
                Fact::PythonMetadata(d) => Some((f.path.clone(), d.version.clone())),
                _ => None,
            })
            .collect()
    }

    fn paths(out: &LayerAnalysis) -> Vec<&str> {
        out.files.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn the_last_entry_for_a_path_wins() {
        let mut pass = Pass::new(0);
        metadata(&mut pass, DIST, "1.0");
        metadata(&mut pass, DIST, "2.0");
        let out = pass.finish();
        assert_eq!(
            dists(&out),
            vec![(format!("{DIST}/METADATA"), "2.0".into())]
        );
        assert_eq!(paths(&out), vec![format!("{DIST}/METADATA")]);
    }

    #[test]
    fn a_symlink_replaces_a_file() {
        let mut pass = Pass::new(0);
        metadata(&mut pass, DIST, "1.0");
        let path = format!("{DIST}/METADATA");
        add(
            &mut pass,
            &path,
            EntryKind::Symlink {
                target: "elsewhere".into(),
            },
            b"",
        );
        let out = pass.finish();
        assert!(dists(&out).is_empty());
        assert_eq!(out.files.len(), 1);
        assert_eq!(out.files[0].kind, FileKind::Symlink("elsewhere".into()));
    }

    #[test]
    fn a_whiteout_removes_what_the_same_layer_put_there_before_it() {
        let mut pass = Pass::new(0);
        metadata(&mut pass, DIST, "1.0");
        add(
            &mut pass,
            "app/.wh.pkg-1.0.dist-info",
            EntryKind::Whiteout {
                target: DIST.into(),
            },
            b"",
        );
        // Recreated after the whiteout: this copy stays.
        metadata(&mut pass, "app/pkg-3.0.dist-info", "3.0");
        let out = pass.finish();
        assert_eq!(
            dists(&out),
            vec![("app/pkg-3.0.dist-info/METADATA".into(), "3.0".into())]
        );
        assert_eq!(
            out.whiteouts,
            vec![DIST.to_string()],
            "still hides lower layers"
        );
    }

    #[test]
    fn a_file_replacing_a_directory_removes_its_contents() {
        let mut pass = Pass::new(0);
        add(&mut pass, "app", EntryKind::Dir, b"");
        metadata(&mut pass, DIST, "1.0");
        add(&mut pass, "app", EntryKind::File, b"not a directory");
        add(&mut pass, "app", EntryKind::Dir, b"");
        let out = pass.finish();
        assert!(dists(&out).is_empty());
        assert_eq!(paths(&out), vec!["app"]);
        assert_eq!(out.files[0].kind, FileKind::Dir);
    }

    #[test]
    fn a_directory_entry_again_keeps_its_contents() {
        let mut pass = Pass::new(0);
        add(&mut pass, "app", EntryKind::Dir, b"");
        metadata(&mut pass, DIST, "1.0");
        add(&mut pass, "app", EntryKind::Dir, b"");
        let out = pass.finish();
        assert_eq!(dists(&out).len(), 1);
        assert_eq!(
            paths(&out),
            vec![format!("{DIST}/METADATA").as_str(), "app"]
        );
    }

    #[test]
    fn a_hard_link_keeps_the_content_it_was_made_to() {
        let mut pass = Pass::new(0);
        metadata(&mut pass, DIST, "1.0");
        let link = Entry {
            path: "app/link-1.0.dist-info/METADATA".into(),
            kind: EntryKind::Hardlink {
                target: format!("{DIST}/METADATA"),
            },
            size: 0,
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        pass.visit(&link, &mut io::empty()).unwrap();
        metadata(&mut pass, DIST, "2.0");
        // A second link, made after the replacement, gets the new content only.
        let mut second = link.clone();
        second.path = "app/second-1.0.dist-info/METADATA".into();
        pass.visit(&second, &mut io::empty()).unwrap();
        let mut got = dists(&pass.finish());
        got.sort();
        assert_eq!(
            got,
            vec![
                ("app/link-1.0.dist-info/METADATA".into(), "1.0".into()),
                (format!("{DIST}/METADATA"), "2.0".into()),
                ("app/second-1.0.dist-info/METADATA".into(), "2.0".into()),
            ]
        );
    }
}
