//! Streaming one layer: decompress (by magic, not media type), walk the tar,
//! and verify both digests — the stored blob's and the uncompressed diff_id —
//! after draining whatever the tar reader left unread. The tar reader runs
//! behind a [`Guard`] so that a hostile layer cannot make it allocate without
//! bound.

use crate::digest::{Algorithm, Hasher};
use crate::guard::{self, Guard};
use crate::path::{exact, join, normalize, split};
use crate::{Entry, EntryKind, Error};
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Hashes (and counts) every byte that passes through, in the algorithm of the
/// digest it will be checked against; bytes nobody will check are not hashed.
struct Hashing<'p, R> {
    inner: R,
    hasher: Option<Hasher>,
    progress: Option<&'p (dyn Fn(u64) + Sync)>,
    /// Bytes read so far, shared with the reader that caps inflation.
    read: Arc<AtomicU64>,
    /// On the decompressed side: the compressed bytes it may grow from.
    inflate_cap: Option<Arc<AtomicU64>>,
}

/// How many times its compressed size a layer may inflate to, past
/// [`DEFAULT_INFLATE_FLOOR`]. Real layers compress 2–10×; a zip-bomb layer that
/// would take minutes to drain is stopped early. `GPUBOM_MAX_INFLATE_RATIO`
/// raises it for an image that really is that compressible.
pub const DEFAULT_MAX_INFLATE_RATIO: u64 = 64;
/// Any layer may inflate to this much, whatever its ratio
/// (`GPUBOM_INFLATE_FLOOR_BYTES` changes it).
pub const DEFAULT_INFLATE_FLOOR: u64 = 1 << 30;

fn limit_from_env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.read.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if let Some(compressed) = &self.inflate_cap {
            let compressed = compressed.load(Ordering::Relaxed);
            let ratio = limit_from_env("GPUBOM_MAX_INFLATE_RATIO", DEFAULT_MAX_INFLATE_RATIO);
            let floor = limit_from_env("GPUBOM_INFLATE_FLOOR_BYTES", DEFAULT_INFLATE_FLOOR);
            if total > floor && total / ratio.max(1) > compressed {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    guard::TooLarge::new(format!(
                        "inflates past {ratio} times its compressed size ({total} bytes from {compressed}); set GPUBOM_MAX_INFLATE_RATIO to allow more"
                    )),
                ));
            }
        }
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        if let Some(progress) = self.progress {
            progress(n as u64);
        }
        Ok(n)
    }
}

impl<R> Hashing<'_, R> {
    /// Hashes in the algorithm of `expected`; in sha256 when nothing is
    /// expected but the digest is to be `measured`; not at all otherwise.
    fn new(inner: R, expected: Option<&str>, measured: bool) -> Result<Self, String> {
        let hasher = match expected {
            Some(digest) => Some(Algorithm::of(digest)?.hasher()),
            None if measured => Some(Algorithm::Sha256.hasher()),
            None => None,
        };
        Ok(Hashing {
            inner,
            hasher,
            progress: None,
            read: Arc::new(AtomicU64::new(0)),
            inflate_cap: None,
        })
    }

    fn digest(self) -> (R, Option<String>) {
        (self.inner, self.hasher.map(Hasher::finish))
    }
}

enum Decoder<R: BufRead> {
    Gzip(Box<flate2::bufread::MultiGzDecoder<R>>),
    Zstd(zstd::stream::read::Decoder<'static, R>),
    Plain(R),
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
            Decoder::Plain(r) => r.read(buf),
        }
    }
}

impl<R: BufRead> Decoder<R> {
    fn into_inner(self) -> R {
        match self {
            Decoder::Gzip(d) => (*d).into_inner(),
            Decoder::Zstd(d) => d.finish(),
            Decoder::Plain(r) => r,
        }
    }

    fn compression(&self) -> &'static str {
        match self {
            Decoder::Gzip(_) => "gzip",
            Decoder::Zstd(_) => "zstd",
            Decoder::Plain(_) => "tar",
        }
    }
}

/// What the walk checks the bytes against, and how to name the layer in errors.
pub(crate) struct Expect<'a> {
    pub label: String,
    pub digest: Option<&'a str>,
    pub diff_id: Option<&'a str>,
    /// Whether to compute the sha256 diff_id when none is expected: a layer
    /// that arrives before the config naming it is checked once the config
    /// comes (see `stream`).
    pub measure_diff_id: bool,
}

/// Walks one layer blob; returns its diff_id when it was computed (expected,
/// or measured).
pub(crate) fn walk_tar(
    blob: Box<dyn Read + Send>,
    expect: &Expect,
    progress: &(dyn Fn(u64) + Sync),
    visit: &mut dyn FnMut(&Entry, &mut dyn Read) -> io::Result<()>,
) -> Result<Option<String>, Error> {
    let layer_err = |why: String| Error::Layer {
        layer: expect.label.clone(),
        why,
    };
    let unverifiable = |name: &str, digest: Option<&str>, why: String| {
        layer_err(format!("{name} {}: {why}", digest.unwrap_or_default()))
    };
    let mut stored = Hashing::new(blob, expect.digest, false)
        .map_err(|why| unverifiable("digest", expect.digest, why))?;
    stored.progress = Some(progress);
    let compressed_read = stored.read.clone();
    let mut buffered = BufReader::with_capacity(256 << 10, stored);
    let magic = buffered
        .fill_buf()
        .map_err(|e| layer_err(format!("cannot read: {e}")))?;
    let decoder = if magic.starts_with(&[0x1f, 0x8b]) {
        Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Decoder::Zstd(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| layer_err(format!("cannot start zstd: {e}")))?,
        )
    } else {
        Decoder::Plain(buffered)
    };
    let compression = decoder.compression();
    let corrupt = |e: io::Error| match guard::refusal(&e) {
        Some(why) => layer_err(why),
        None => layer_err(format!("truncated or corrupt {compression} stream: {e}")),
    };

    let plain = matches!(decoder, Decoder::Plain(_));
    // An uncompressed layer's blob is its tar: when the image names one digest
    // for both (docker save does), hashing the bytes once checks both.
    // So is a streamed one's, whose diff_id is measured in sha256.
    let measured_as_stored = expect.measure_diff_id
        && expect.diff_id.is_none()
        && expect.digest.is_some_and(|d| d.starts_with("sha256:"));
    let same_bytes =
        plain && expect.digest.is_some() && (expect.digest == expect.diff_id || measured_as_stored);
    let measured = expect.measure_diff_id && !same_bytes;
    let mut uncompressed = Hashing::new(decoder, expect.diff_id.filter(|_| !same_bytes), measured)
        .map_err(|why| unverifiable("diff_id", expect.diff_id, why))?;
    if !plain {
        uncompressed.inflate_cap = Some(compressed_read);
    }
    // Reading, hashing and decompressing on one thread; the tar walk and the
    // catalogers on this one. See `pipe`.
    let (sender, piped) = crate::pipe::pipe();
    let (walked, pumped) = std::thread::scope(|scope| {
        let pump = scope.spawn(move || {
            let uncompressed = crate::pipe::pump(uncompressed, sender)?;
            let (decoder, diff_id) = uncompressed.digest();
            // Whatever follows the compressed stream is part of the blob too.
            let mut rest = decoder.into_inner();
            io::copy(&mut rest, &mut io::sink()).ok()?;
            let (_, digest) = rest.into_inner().digest();
            Some((digest, diff_id))
        });
        let walked = walk_entries(Guard::new(piped), &corrupt, visit);
        (
            walked,
            pump.join()
                .expect("the layer's reading side does not panic"),
        )
    });
    walked?;
    let Some((digest, diff_id)) = pumped else {
        return Err(layer_err(format!(
            "truncated or corrupt {compression} stream"
        )));
    };
    let diff_id = if same_bytes { digest.clone() } else { diff_id };
    for (name, expected, actual) in [
        ("blob", expect.digest, &digest),
        ("diff_id", expect.diff_id, &diff_id),
    ] {
        if let (Some(expected), Some(actual)) = (expected, actual) {
            if expected != actual {
                return Err(layer_err(format!(
                    "digest mismatch: the {name} is {actual}, the image says {expected}"
                )));
            }
        }
    }
    Ok(diff_id)
}

/// Offers every entry of the tar in `reader` to `visit`, then reads the
/// stream to its end: the digests cover what the tar reader leaves unread.
fn walk_entries<R: Read>(
    reader: R,
    corrupt: &dyn Fn(io::Error) -> Error,
    visit: &mut dyn FnMut(&Entry, &mut dyn Read) -> io::Result<()>,
) -> Result<(), Error> {
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let Some(described) = describe(&entry).map_err(corrupt)? else {
            continue;
        };
        visit(&described, &mut entry).map_err(corrupt)?;
    }
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(corrupt)?;
    Ok(())
}

/// Linux's PATH_MAX.
const PATH_MAX: usize = 4096;

/// Most bytes of holes a sparse file may have and still be read: beyond it the
/// file is listed but its content is not examined (real images' sparse files
/// are logs and databases, not models or libraries).
pub const MAX_SPARSE_HOLES: u64 = 1 << 30;

/// Turns a tar header into an [`Entry`]; `None` for entries to ignore
/// (the root itself, PAX/GNU metadata records).
fn describe<R: Read>(entry: &tar::Entry<R>) -> io::Result<Option<Entry>> {
    let header = entry.header();
    let raw = entry.path_bytes();
    // No runtime can create a path longer than PATH_MAX (ENAMETOOLONG), so
    // such an entry is not in the container's filesystem; keeping thousands
    // of them would only cost memory.
    if raw.len() > PATH_MAX {
        return Ok(None);
    }
    let Some(path) = normalize(&exact(&raw)) else {
        return Ok(None);
    };
    let (dir, name) = split(&path);
    let link = || -> io::Result<String> {
        Ok(entry
            .link_name_bytes()
            .map(|l| exact(&l))
            .unwrap_or_default())
    };
    let kind = if name == ".wh..wh..opq" {
        return Ok(Some(Entry {
            path: dir.to_string(),
            kind: EntryKind::OpaqueDir,
            size: 0,
            mode: 0,
            uid: 0,
            gid: 0,
            on_disk: None,
        }));
    } else if let Some(hidden) = name.strip_prefix(".wh.") {
        EntryKind::Whiteout {
            target: join(dir, hidden),
        }
    } else {
        use tar::EntryType as T;
        match header.entry_type() {
            T::Regular | T::Continuous => EntryKind::File,
            // A sparse file reads back its holes as zeros: one declaring a
            // terabyte in a kilobyte of tar would be hashed for hours.
            T::GNUSparse
                if entry.size().saturating_sub(header.entry_size()?) > MAX_SPARSE_HOLES =>
            {
                EntryKind::Other
            }
            T::GNUSparse => EntryKind::File,
            T::Directory => EntryKind::Dir,
            T::Symlink => EntryKind::Symlink { target: link()? },
            T::Link => match normalize(&link()?) {
                Some(target) => EntryKind::Hardlink { target },
                None => return Ok(None),
            },
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => return Ok(None),
            _ => EntryKind::Other,
        }
    };
    Ok(Some(Entry {
        path,
        size: if kind == EntryKind::File {
            entry.size()
        } else {
            0
        },
        kind,
        mode: header.mode().unwrap_or(0),
        uid: header.uid().unwrap_or(0),
        gid: header.gid().unwrap_or(0),
        on_disk: None,
    }))
}
