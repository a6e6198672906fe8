//! The per-layer pass: one streaming read of a layer's tar.
//!
//! Every entry is offered to the catalogers by path and size first; only the
//! files one of them claims are read, with a size cap, and hashed. The result
//! ([`LayerAnalysis`]) depends only on the layer's bytes, so layers can be
//! analysed in parallel (and, later, cached by diff_id).

use crate::cataloger::{Cataloger, Claim, Fact, StreamSink, CATALOGERS};
use gpubom_image::{Entry, EntryKind, Layer};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, Read};

/// What kind of filesystem object a path is in one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileKind {
    File,
    Dir,
    Symlink(String),
    Hardlink(String),
    Other,
}

#[derive(Debug, Clone)]
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
    pub fact: Fact,
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
    let mut out = LayerAnalysis {
        index: layer.index,
        ..Default::default()
    };
    // Facts of files claimed in this layer, by path, so that hard links to them
    // (which carry no content of their own in a tar) get the same facts.
    let mut facts_by_path: HashMap<String, Vec<usize>> = HashMap::new();
    layer.walk(progress, &mut |entry, reader| {
        visit(entry, reader, &mut out, &mut facts_by_path)
    })?;
    Ok(out)
}

fn visit(
    entry: &Entry,
    reader: &mut dyn Read,
    out: &mut LayerAnalysis,
    facts_by_path: &mut HashMap<String, Vec<usize>>,
) -> io::Result<()> {
    let kind = match &entry.kind {
        EntryKind::Whiteout { target } => {
            out.whiteouts.push(target.clone());
            return Ok(());
        }
        EntryKind::OpaqueDir => {
            out.opaque_dirs.push(entry.path.clone());
            return Ok(());
        }
        EntryKind::File => FileKind::File,
        EntryKind::Dir => FileKind::Dir,
        EntryKind::Symlink { target } => FileKind::Symlink(target.clone()),
        EntryKind::Hardlink { target } => FileKind::Hardlink(target.clone()),
        EntryKind::Other => FileKind::Other,
    };
    if let FileKind::Hardlink(target) = &kind {
        if let Some(indices) = facts_by_path.get(target).cloned() {
            for i in indices {
                let mut copy = out.facts[i].clone();
                copy.path = entry.path.clone();
                out.facts.push(copy);
            }
        }
    }
    let is_file = kind == FileKind::File;
    out.files.push(FileRecord {
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
    read_claimed(entry, reader, &claims, out, facts_by_path)
}

/// Chunk size for streamed files: large enough to keep syscalls and hashing
/// efficient, small enough that memory stays flat.
const CHUNK: usize = 256 << 10;

/// Reads a claimed file once: hashes it, feeds streaming sinks, and keeps the
/// bytes only when some cataloger asked for the whole file and it fits.
fn read_claimed(
    entry: &Entry,
    reader: &mut dyn Read,
    claims: &[(&'static dyn Cataloger, Claim)],
    out: &mut LayerAnalysis,
    facts_by_path: &mut HashMap<String, Vec<usize>>,
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
            out.skipped.push((
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
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = &chunk[..n];
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
        facts_by_path
            .entry(entry.path.clone())
            .or_default()
            .push(out.facts.len());
        out.facts.push(FileFact {
            path: entry.path.clone(),
            sha256: Some(sha256.clone()),
            fact,
        });
    }
    Ok(())
}
