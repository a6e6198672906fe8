//! The per-layer pass: one streaming read of a layer's tar.
//!
//! Every entry is offered to the catalogers by path and size first; only the
//! files one of them claims are read, with a size cap, and hashed. The result
//! ([`LayerAnalysis`]) depends only on the layer's bytes, so layers can be
//! analysed in parallel (and, later, cached by diff_id).

use crate::cataloger::{Cataloger, Claim, StreamSink, CATALOGERS};
use crate::facts::{Fact, FileFact, FileKind, FileRecord, LayerAnalysis};
use gpubom_image::{Entry, EntryKind, Layer};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

/// Analyses one layer in a single streaming pass.
pub(crate) fn analyze_layer(
    layer: &Layer,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<LayerAnalysis, gpubom_image::Error> {
    let mut pass = Pass::new(layer.index);
    layer.walk(progress, &mut |entry, reader| pass.visit(entry, reader))?;
    pass.finish().map_err(|e| gpubom_image::Error::Layer {
        layer: layer.index.to_string(),
        why: e.to_string(),
    })
}

/// The state of one layer's pass.
///
/// A tar may hold several entries for one path; extraction leaves the last,
/// so everything about earlier ones is dropped by [`Pass::finish`]. A whiteout
/// in a layer also removes what that layer itself put at the path before it
/// (extraction deletes it), besides hiding lower layers as the merge does.
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
    /// Large files still being hashed and analysed on other threads, oldest first.
    pending: VecDeque<Offloaded>,
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
            pending: VecDeque::new(),
        }
    }

    fn visit(&mut self, entry: &Entry, reader: &mut dyn Read) -> io::Result<()> {
        let kind = match &entry.kind {
            EntryKind::Whiteout { target } => {
                self.forget_facts(target, true)?;
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
        self.forget_facts(&entry.path, kind != FileKind::Dir)?;
        let record = self.out.files.len();
        if let FileKind::Hardlink(target) = &kind {
            self.join_all()?;
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
    /// not pick up what was there, including what is still being analysed.
    fn forget_facts(&mut self, path: &str, with_contents: bool) -> io::Result<()> {
        let below = format!("{path}/");
        let affected = |p: &str| p == path || (with_contents && p.starts_with(&below));
        if self.pending.iter().any(|job| affected(&job.path)) {
            self.join_all()?;
        }
        self.facts_by_path.remove(path);
        if with_contents {
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
        Ok(())
    }

    /// Waits for the oldest offloaded file and records its facts.
    fn join_oldest(&mut self) -> io::Result<()> {
        let Some(job) = self.pending.pop_front() else {
            return Ok(());
        };
        let read = job.reading.map(|reading| {
            reading
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("reading failed")))
        });
        let analysed = job
            .done
            .join()
            .map_err(|_| io::Error::other(format!("analysing {} failed", job.path)))?;
        if let Some(Err(e)) = read {
            return Err(io::Error::new(e.kind(), format!("{}: {e}", job.path)));
        }
        if let Some((sha256, facts)) = analysed {
            self.add_file_facts(&job.path, &sha256, facts, job.record);
        }
        Ok(())
    }

    /// Records what the catalogers parsed out of the file at `path`, hashed `sha256`.
    fn add_file_facts(&mut self, path: &str, sha256: &str, facts: Vec<Fact>, record: usize) {
        for fact in facts {
            let fact = FileFact {
                path: path.to_string(),
                sha256: Some(sha256.to_string()),
                fact: std::sync::Arc::new(fact),
            };
            self.add_fact(fact, record);
        }
    }

    fn join_all(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            self.join_oldest()?;
        }
        Ok(())
    }

    /// Keeps, for each path, only what its last entry in the layer left.
    fn finish(mut self) -> io::Result<LayerAnalysis> {
        self.join_all()?;
        let Pass {
            mut out,
            mut fact_owner,
            skipped_owner,
            whiteout_after,
            ..
        } = self;
        // Offloaded files' facts arrive late: back into entry order, so the analysis (and
        // the cache entry) does not depend on which files other threads took.
        let mut order: Vec<usize> = (0..out.facts.len()).collect();
        order.sort_by_key(|&i| fact_owner[i]);
        if order.windows(2).any(|w| w[0] > w[1]) {
            let mut facts: Vec<Option<FileFact>> = out.facts.drain(..).map(Some).collect();
            out.facts = order
                .iter()
                .map(|&i| facts[i].take().expect("each once"))
                .collect();
            fact_owner = order.iter().map(|&i| fact_owner[i]).collect();
        }
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
            return Ok(out);
        }
        let mut keep = live.iter();
        out.files.retain(|_| *keep.next().unwrap_or(&true));
        let mut owners = fact_owner.iter();
        out.facts
            .retain(|_| owners.next().is_none_or(|&record| live[record]));
        let mut owners = skipped_owner.iter();
        out.skipped
            .retain(|_| owners.next().is_none_or(|&record| live[record]));
        Ok(out)
    }
}

/// Chunk size for streamed files: large enough to keep syscalls and hashing
/// efficient, small enough that memory stays flat.
const CHUNK: usize = 256 << 10;
/// Enough for every sink to decide whether it wants a file (models sniff 4 KiB).
const FIRST_READ: usize = 8 << 10;

/// Files this large are hashed and analysed on another thread while the layer's reader
/// goes on: sha256 and the ELF scans of a 500 MB cuBLAS are the bulk of a scan's CPU, and
/// one layer (or one `dir:`) would otherwise use one core.
const OFFLOAD_MIN: u64 = 4 << 20;
/// Chunks queued for each of an offloaded file's two threads: how far its reader may run ahead
/// (1 MiB).
const QUEUE_CHUNKS: usize = 4;
/// Most files offloaded at once, whatever the core count: each holds up to ~14 MiB (its ELF
/// scanner's 8 MiB prefix and 4 MiB capture, and its queues), and max RSS stays under 150 MB.
const MAX_OFFLOADED: usize = 6;
/// Offloaded files being analysed now, across every layer of every scan in the process.
static OFFLOADED: AtomicUsize = AtomicUsize::new(0);

/// What an offloaded file's analysis gives: `Some((sha256, facts))`, or `None` when every
/// sink declined the file part way.
type Analysis = Option<(String, Vec<Fact>)>;

/// A large file whose analysis runs on threads of its own.
struct Offloaded {
    record: usize,
    path: String,
    /// The thread reading a directory source's file again on its own; `None` when the
    /// layer's reader sent the bytes.
    reading: Option<JoinHandle<io::Result<()>>>,
    done: JoinHandle<Analysis>,
}

/// Takes one of the cores for an offloaded file, if one is free.
fn take_core() -> bool {
    // available_parallelism reads the cgroup's CPU quota each call: once per process is enough.
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let cores = *CORES.get_or_init(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_OFFLOADED))
    });
    OFFLOADED
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |busy| {
            (busy < cores).then_some(busy + 1)
        })
        .is_ok()
}

/// A chunk of an offloaded file, shared by the thread that hashes it and the one that scans it.
type Chunk = std::sync::Arc<Pooled>;

/// A chunk buffer that goes back to its file's pool when both threads are done with it: a
/// fresh 256 KiB buffer per read would spend a fifth of the scan zeroing memory.
struct Pooled {
    bytes: Vec<u8>,
    home: std::sync::mpsc::Sender<Vec<u8>>,
}

impl std::ops::Deref for Pooled {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let _ = self.home.send(std::mem::take(&mut self.bytes));
    }
}

/// Where the reader sends an offloaded file's chunks: to its hashing and its scanning thread.
struct Feeds {
    hash: SyncSender<Chunk>,
    scan: SyncSender<Chunk>,
}

/// Analyses a file on two new threads, one hashing it (from `first` on) and one feeding
/// `sinks` (which have seen `first`), so one large library keeps two cores busy.
fn offload(mut sinks: Vec<Box<dyn StreamSink>>, first: Vec<u8>) -> (Feeds, JoinHandle<Analysis>) {
    let (hash, to_hash) = sync_channel::<Chunk>(QUEUE_CHUNKS);
    let (scan, to_scan) = sync_channel::<Chunk>(QUEUE_CHUNKS);
    let done = std::thread::spawn(move || {
        let hashing = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            hasher.update(&first);
            for chunk in to_hash {
                hasher.update(&chunk[..]);
            }
            hex::encode(hasher.finalize())
        });
        let mut declined = false;
        for chunk in to_scan {
            if !feed_all(&mut sinks, &chunk) {
                // Dropping the receiver tells the reader to stop.
                declined = true;
                break;
            }
        }
        let sha256 = hashing.join();
        OFFLOADED.fetch_sub(1, Ordering::AcqRel);
        let sha256 = sha256.ok().filter(|_| !declined)?;
        let facts = sinks.into_iter().flat_map(|s| s.finish(&sha256)).collect();
        Some((sha256, facts))
    });
    (Feeds { hash, scan }, done)
}

/// Feeds `data` to every sink and drops those that want no more; false when none is left.
fn feed_all(sinks: &mut Vec<Box<dyn StreamSink>>, data: &[u8]) -> bool {
    for sink in sinks.iter_mut() {
        sink.feed(data);
    }
    sinks.retain(|s| s.wants_more());
    !sinks.is_empty()
}

/// One `read`, retried when a signal interrupts it; 0 at the end of the file.
fn read_some(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Reads the rest of a file into chunks for its offloaded analysis; stops early when the
/// analysis has stopped listening.
fn send_rest(reader: &mut dyn Read, to: Feeds) -> io::Result<()> {
    let (home, pool) = std::sync::mpsc::channel::<Vec<u8>>();
    loop {
        let mut bytes = pool.try_recv().unwrap_or_default();
        bytes.resize(CHUNK, 0);
        let n = read_some(reader, &mut bytes)?;
        if n == 0 {
            return Ok(());
        }
        bytes.truncate(n);
        let chunk = Chunk::new(Pooled {
            bytes,
            home: home.clone(),
        });
        if to.scan.send(chunk.clone()).is_err() || to.hash.send(chunk).is_err() {
            return Ok(());
        }
    }
}

/// Reads a claimed file once: hashes it, feeds streaming sinks, and keeps the
/// bytes only when some cataloger asked for the whole file and it fits.
fn read_claimed(
    entry: &Entry,
    reader: &mut dyn Read,
    claims: &[(&'static dyn Cataloger, Claim)],
    pass: &mut Pass,
    record: usize,
) -> io::Result<()> {
    let keep_whole = fits_whole(entry, claims, pass, record);
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
    let mut first_read = true;
    loop {
        let n = read_some(reader, &mut chunk[..limit])?;
        if n == 0 {
            break;
        }
        let data = &chunk[..n];
        let first = std::mem::replace(&mut first_read, false);
        limit = chunk.len();
        if !feed_all(&mut sinks, data) && !keep_whole {
            return Ok(());
        }
        if first && !keep_whole && entry.size >= OFFLOAD_MIN && take_core() {
            let job = offload_rest(entry, reader, std::mem::take(&mut sinks), data, record)?;
            pass.pending.push_back(job);
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
    pass.add_file_facts(&entry.path, &sha256, facts, record);
    Ok(())
}

/// Whether the file is to be kept whole for the catalogers that claimed it so:
/// not when it is larger than the largest cap any of them set, which is then
/// recorded as a file not read.
fn fits_whole(
    entry: &Entry,
    claims: &[(&'static dyn Cataloger, Claim)],
    pass: &mut Pass,
    record: usize,
) -> bool {
    let max_whole = claims
        .iter()
        .filter_map(|(_, c)| match c {
            Claim::Whole { max_bytes } => Some(*max_bytes),
            Claim::Stream => None,
        })
        .max();
    match max_whole {
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
    }
}

/// Hands the rest of a large file to threads of its own ([`offload`]); `sinks` have seen
/// its `first` bytes. A directory's file is read again by a thread of its own, so the walk
/// goes on to the next file at once; a tar's bytes come only from the layer's reader.
fn offload_rest(
    entry: &Entry,
    reader: &mut dyn Read,
    sinks: Vec<Box<dyn StreamSink>>,
    first: &[u8],
    record: usize,
) -> io::Result<Offloaded> {
    let (to, done) = offload(sinks, first.to_vec());
    let reading = match &entry.on_disk {
        Some(path) => {
            let (path, from) = (path.clone(), first.len() as u64);
            Some(std::thread::spawn(move || {
                let mut file = std::fs::File::open(&path)?;
                io::Seek::seek(&mut file, io::SeekFrom::Start(from))?;
                send_rest(&mut file, to)
            }))
        }
        None => {
            send_rest(reader, to)?;
            None
        }
    };
    Ok(Offloaded {
        record,
        path: entry.path.clone(),
        reading,
        done,
    })
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
            on_disk: None,
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
        let out = pass.finish().unwrap();
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
        let out = pass.finish().unwrap();
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
        let out = pass.finish().unwrap();
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
        let out = pass.finish().unwrap();
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
        let out = pass.finish().unwrap();
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
            on_disk: None,
        };
        pass.visit(&link, &mut io::empty()).unwrap();
        metadata(&mut pass, DIST, "2.0");
        // A second link, made after the replacement, gets the new content only.
        let mut second = link.clone();
        second.path = "app/second-1.0.dist-info/METADATA".into();
        pass.visit(&second, &mut io::empty()).unwrap();
        let mut got = dists(&pass.finish().unwrap());
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

    /// The NCCL version a library fact carries (from its `NCCL version` string).
    fn nccl_versions(out: &LayerAnalysis) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = out
            .facts
            .iter()
            .filter_map(|f| match &*f.fact {
                Fact::NativeLibrary(lib) => Some((
                    f.path.clone(),
                    lib.elf.as_ref()?.version_strings.first()?.version.clone(),
                )),
                _ => None,
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn large_files_analysed_on_other_threads_keep_links_and_replacements_synthetic() {
        // Big enough to be offloaded; the version string sits at the far end.
        let nccl = |version: &str| {
            gpubom_testkit::elf::synthetic_shared_object_padded(
                "libnccl.so.2",
                &[&format!("NCCL version {version}+cuda12.1")],
                (OFFLOAD_MIN as usize) + (1 << 20),
            )
        };
        let lib = "usr/lib/libnccl.so.2";
        let link = |path: &str| Entry {
            path: path.into(),
            kind: EntryKind::Hardlink { target: lib.into() },
            size: 0,
            mode: 0o644,
            uid: 0,
            gid: 0,
            on_disk: None,
        };
        for _ in 0..3 {
            let mut pass = Pass::new(0);
            add(&mut pass, lib, EntryKind::File, &nccl("2.18.3"));
            pass.visit(&link("opt/a/libnccl.so.2"), &mut io::empty())
                .unwrap();
            add(&mut pass, lib, EntryKind::File, &nccl("2.19.3"));
            pass.visit(&link("opt/b/libnccl.so.2"), &mut io::empty())
                .unwrap();
            add(
                &mut pass,
                "usr/lib/nccl2/libnccl.so.2",
                EntryKind::File,
                &nccl("2.20.5"),
            );
            let out = pass.finish().unwrap();
            assert_eq!(
                nccl_versions(&out),
                vec![
                    ("opt/a/libnccl.so.2".into(), "2.18.3".into()),
                    ("opt/b/libnccl.so.2".into(), "2.19.3".into()),
                    (lib.into(), "2.19.3".into()),
                    ("usr/lib/nccl2/libnccl.so.2".into(), "2.20.5".into()),
                ]
            );
            // Facts come back in entry order, whichever thread analysed them.
            let owners: Vec<&str> = out.facts.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(
                owners,
                [
                    "opt/a/libnccl.so.2",
                    "usr/lib/libnccl.so.2",
                    "opt/b/libnccl.so.2",
                    "usr/lib/nccl2/libnccl.so.2"
                ]
            );
        }
    }
}
