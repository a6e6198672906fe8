//! Folding layers bottom-up into the filesystem a container would see.
//!
//! A layer's whiteouts (`.wh.NAME`) and opaque markers (`.wh..wh..opq`) hide
//! what *lower* layers provided; then the layer's own entries are laid on top.
//! A fact parsed from a file survives only if that file, in that layer, is
//! still visible at the top. Lower layers' facts stay reachable through
//! [`MergedView::history`], which is how a package gets attributed to the layer
//! that introduced it rather than the layer that last rewrote the database.

use crate::facts::{Fact, FileFact, FileKind, FileRecord, LayerAnalysis};
use std::collections::{BTreeMap, HashMap};

/// Symlink hops allowed while resolving one path (as Linux's MAXSYMLINKS).
const MAX_SYMLINK_HOPS: usize = 40;
/// Linux's PATH_MAX: no path the kernel resolves is longer.
const PATH_MAX: usize = 4096;

/// A fact as seen from the merged filesystem: the path it is visible at (a
/// hard link's own path, not its target's) and the layer that provided it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Visible<'a> {
    pub layer: usize,
    pub path: &'a str,
    pub fact: &'a Fact,
    /// sha256 hex of the file's content, when it was read.
    pub sha256: Option<&'a str>,
}

impl<'a> Visible<'a> {
    fn new(layer: usize, path: &'a str, file_fact: &'a FileFact) -> Self {
        Visible {
            layer,
            path,
            fact: &file_fact.fact,
            sha256: file_fact.sha256.as_deref(),
        }
    }
}

pub(crate) struct MergedView<'a> {
    layers: &'a [LayerAnalysis],
    /// Visible path → (position in `layers`, position in that layer's `files`).
    files: BTreeMap<&'a str, (usize, usize)>,
    /// Path → every fact parsed at that path, bottom layer first.
    facts: HashMap<&'a str, Vec<(usize, &'a FileFact)>>,
    /// Facts still visible at the top, computed once: every resolver asks for them.
    surviving: Vec<Visible<'a>>,
}

impl<'a> MergedView<'a> {
    pub fn build(layers: &'a [LayerAnalysis]) -> Self {
        let mut files: BTreeMap<&'a str, (usize, usize)> = BTreeMap::new();
        for (li, layer) in layers.iter().enumerate() {
            for dir in &layer.opaque_dirs {
                remove_descendants(&mut files, dir);
            }
            for path in &layer.whiteouts {
                files.remove(path.as_str());
                remove_descendants(&mut files, path);
            }
            for (fi, record) in layer.files.iter().enumerate() {
                if record.kind != FileKind::Dir {
                    // A file replacing a directory hides everything below it.
                    remove_descendants(&mut files, &record.path);
                }
                files.insert(record.path.as_str(), (li, fi));
            }
        }
        let mut facts: HashMap<&'a str, Vec<(usize, &'a FileFact)>> = HashMap::new();
        for (li, layer) in layers.iter().enumerate() {
            for fact in &layer.facts {
                facts
                    .entry(fact.path.as_str())
                    .or_default()
                    .push((li, fact));
            }
        }
        let mut view = MergedView {
            layers,
            files,
            facts,
            surviving: Vec::new(),
        };
        view.surviving = view.collect_surviving();
        view
    }

    /// The visible record at `path` and the index of the layer it comes from.
    pub fn get(&self, path: &str) -> Option<(usize, &'a FileRecord)> {
        let &(li, fi) = self.files.get(path)?;
        Some((self.layers[li].index, &self.layers[li].files[fi]))
    }

    pub fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Facts whose file is still visible, in path order. A hard link to a
    /// file from a lower layer carries that file's facts.
    pub fn surviving(&self) -> &[Visible<'a>] {
        &self.surviving
    }

    fn collect_surviving(&self) -> Vec<Visible<'a>> {
        let mut out = Vec::new();
        for (&path, &(li, fi)) in &self.files {
            let own: Vec<_> = self
                .facts
                .get(path)
                .into_iter()
                .flatten()
                .filter(|(fl, _)| *fl == li)
                .collect();
            if !own.is_empty() {
                out.extend(
                    own.into_iter()
                        .map(|&(l, f)| Visible::new(self.layers[l].index, path, f)),
                );
            } else if let FileKind::Hardlink(target) = &self.layers[li].files[fi].kind {
                let below: Vec<_> = self
                    .facts
                    .get(target.as_str())
                    .into_iter()
                    .flatten()
                    .filter(|(fl, _)| *fl <= li)
                    .collect();
                if let Some(&&(top, _)) = below.last() {
                    out.extend(below.iter().filter(|(fl, _)| *fl == top).map(|&&(l, f)| {
                        Visible::new(self.layers[li].index.max(self.layers[l].index), path, f)
                    }));
                }
            }
        }
        out
    }

    /// Surviving facts at exactly `path`.
    pub fn facts_at(&self, path: &str) -> Vec<Visible<'a>> {
        let Some((&key, &(li, _))) = self.files.get_key_value(path) else {
            return Vec::new();
        };
        self.facts
            .get(path)
            .into_iter()
            .flatten()
            .filter(|(fl, _)| *fl == li)
            .map(|&(l, f)| Visible::new(self.layers[l].index, key, f))
            .collect()
    }

    /// Every fact ever parsed at `path`, in every layer (visible or not), bottom first.
    pub fn history(&self, path: &str) -> Vec<Visible<'a>> {
        self.facts
            .get(path)
            .into_iter()
            .flatten()
            .map(|&(l, f)| Visible::new(self.layers[l].index, f.path.as_str(), f))
            .collect()
    }

    /// Resolves symlinks in every component of `path`, staying inside the image:
    /// absolute targets start at the image root and `..` never climbs above it.
    /// `None` on a symlink loop.
    ///
    /// The resolved path is built in place (one string, the length of each
    /// component kept to pop it), so the work grows with the number of
    /// components, not its square; paths and targets longer than the kernel's
    /// `PATH_MAX` could never be resolved by it either, and give `None`.
    pub fn resolve(&self, path: &str) -> Option<String> {
        if path.len() > PATH_MAX {
            return None;
        }
        let mut pending: Vec<&str> = path.split('/').rev().collect();
        let mut current = String::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            match part {
                "" | "." => continue,
                ".." => {
                    ends.pop();
                    current.truncate(ends.last().copied().unwrap_or(0));
                    continue;
                }
                _ => {
                    if !current.is_empty() {
                        current.push('/');
                    }
                    current.push_str(part);
                    ends.push(current.len());
                }
            }
            if current.len() > PATH_MAX {
                return None;
            }
            if let Some((_, record)) = self.get(&current) {
                if let FileKind::Symlink(target) = &record.kind {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS || target.len() > PATH_MAX {
                        return None;
                    }
                    ends.pop();
                    current.truncate(ends.last().copied().unwrap_or(0));
                    if target.starts_with('/') {
                        current.clear();
                        ends.clear();
                    }
                    pending.extend(target.split('/').rev());
                }
            }
        }
        Some(current)
    }
}

fn remove_descendants(files: &mut BTreeMap<&str, (usize, usize)>, dir: &str) {
    if dir.is_empty() {
        files.clear();
        return;
    }
    let prefix = format!("{dir}/");
    let doomed: Vec<&str> = files
        .range(prefix.as_str()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
        .map(|(p, _)| *p)
        .collect();
    for p in doomed {
        files.remove(p);
    }
}
