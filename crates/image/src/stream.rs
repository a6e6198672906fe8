//! A `docker save` archive read as it arrives: the Docker Engine API's
//! `GET /images/{name}/get` (dockerd and podman alike), which cannot seek.
//!
//! The file path indexes the archive first and then reads `manifest.json`,
//! the config and each layer by seeking. A stream gives its members once, in
//! the order the engine wrote them, and both engines write the layers first:
//! dockerd tars a directory in lexical order (`blobs/sha256/…`, then
//! `index.json`, `manifest.json`), podman writes `<diff_id>.tar` layers, then
//! the config, then `manifest.json` and `repositories` last. So the order of
//! the layers, and which config they belong to, is only known at the end.
//!
//! Nothing is spooled to disk, and no layer is held. Each member that begins
//! like a layer (a tar header's `ustar` magic, an empty tar's zero block, or a
//! gzip or zstd stream) is handed out by [`ArchiveStream::next_layer`] while it
//! streams, and the caller walks it then; the walk measures its sha256
//! diff_id. Every other member of at most [`MAX_JSON`] bytes (the
//! config, `manifest.json`, the legacy `json` and `VERSION` files) is held in
//! memory, [`MAX_HELD_BYTES`] in all; larger ones are read past. Links are
//! remembered by name (podman's legacy `<id>/layer.tar` links to
//! `../<diff_id>.tar`). At the end, [`ArchiveStream::finish`] reads
//! `manifest.json` and the config from what was held, as the file path does,
//! and puts the layers in the config's order: each layer the manifest names
//! must have arrived, and its measured diff_id must be the config's diff_id at
//! that position, so a layer is checked exactly as the file path checks it,
//! only after its walk rather than during it. A scan of a stream fails on any
//! mismatch, as a scan of the same archive as a file does.
//!
//! The archive is read on a thread of its own, since a tar reader cannot
//! cross threads: a layer's bytes reach the walk through the same bounded
//! channel as a layer's bytes do inside a file scan (`pipe`).

use crate::guard::{self, Guard};
use crate::path::{exact, inside, join, normalize, plain_member, split};
use crate::pipe::{pump, ChunkReader, CHUNKS_AHEAD};
use crate::store::MAX_JSON;
use crate::{
    docker, ensure_platform, oci, platform_of, Error, Image, Layer, LayerBytes, SourceKind,
};
use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};

/// Most bytes of small members (anything that is not a layer) held in memory
/// until the archive ends. A `docker save` archive has a config, a manifest
/// and a few bytes per layer; this is thousands of times that.
pub const MAX_HELD_BYTES: u64 = 64 << 20;

/// How many links a member name is followed through.
const MAX_LINK_HOPS: usize = 8;

/// A docker-archive arriving as a stream. Call [`next_layer`](Self::next_layer)
/// until it gives `None`, walking each layer as it comes, then
/// [`finish`](Self::finish).
pub struct ArchiveStream {
    kind: SourceKind,
    location: String,
    events: Receiver<Event>,
    arrived: Vec<Arrived>,
    held: Option<Held>,
}

/// A layer member that was handed out, and the diff_id its walk measured.
struct Arrived {
    member: String,
    size: u64,
    diff_id: Arc<OnceLock<String>>,
}

/// What the reading thread tells the caller.
enum Event {
    Layer {
        member: String,
        size: u64,
        chunks: Receiver<io::Result<Vec<u8>>>,
    },
    End(Held),
    Failed(Error),
}

/// Everything but the layers, kept until the archive ends.
#[derive(Default)]
struct Held {
    documents: HashMap<String, Vec<u8>>,
    /// Link name → the member it names.
    links: HashMap<String, String>,
    /// Members too large to hold that did not begin like a layer.
    passed_over: HashSet<String>,
}

/// The image a stream held, once it ended: its layers in the config's order
/// (each already walked: walking one again is an error), and which arrival
/// each is, as `order[index]` = position in the sequence
/// [`ArchiveStream::next_layer`] gave.
pub struct Streamed {
    pub image: Image,
    pub order: Vec<usize>,
}

/// Starts reading `body`, a docker-archive, on a thread of its own. `kind`
/// and `location` say where it comes from (`docker`, `app:dev`).
pub fn read_stream(
    body: Box<dyn Read + Send>,
    kind: SourceKind,
    location: &str,
) -> Result<ArchiveStream, Error> {
    let (events, arriving) = sync_channel(0);
    let described = format!("{}:{location}", kind.scheme());
    std::thread::Builder::new()
        .name("gpubom-archive".into())
        .spawn(move || read_members(body, &described, &events))
        .map_err(|e| Error::Usage(format!("cannot start reading {location}: {e}")))?;
    Ok(ArchiveStream {
        kind,
        location: location.to_string(),
        events: arriving,
        arrived: Vec::new(),
        held: None,
    })
}

impl ArchiveStream {
    fn describe(&self) -> String {
        format!("{}:{}", self.kind.scheme(), self.location)
    }

    /// The next member that begins like a layer, to be walked now (before the
    /// next call: the archive does not move on until it is read); `None` once
    /// the archive has ended.
    pub fn next_layer(&mut self) -> Result<Option<Layer>, Error> {
        if self.held.is_some() {
            return Ok(None);
        }
        let event = self.events.recv().map_err(|_| Error::Invalid {
            what: self.describe(),
            why: "the archive reader stopped without saying why".into(),
        })?;
        match event {
            Event::Layer {
                member,
                size,
                chunks,
            } => {
                let diff_id = Arc::new(OnceLock::new());
                let reader = ChunkReader::new(move || chunks.recv().ok());
                let layer = Layer {
                    index: self.arrived.len(),
                    digest: named_digest(&member),
                    diff_id: None,
                    media_type: None,
                    size: Some(size),
                    created_by: None,
                    bytes: LayerBytes::Stream {
                        member: member.clone(),
                        reader: Mutex::new(Some(Box::new(reader))),
                        diff_id: diff_id.clone(),
                    },
                };
                self.arrived.push(Arrived {
                    member,
                    size,
                    diff_id,
                });
                Ok(Some(layer))
            }
            Event::End(held) => {
                self.held = Some(held);
                Ok(None)
            }
            Event::Failed(e) => Err(e),
        }
    }

    /// The image, once [`next_layer`](Self::next_layer) has given `None` and
    /// every layer it gave was walked: `manifest.json` and the config are read
    /// from the held members, each layer the manifest names is matched to its
    /// arrival, and its measured diff_id checked against the config's.
    /// `platform`, when given, must be the image's.
    pub fn finish(self, platform: Option<&str>) -> Result<Streamed, Error> {
        let describe = self.describe();
        let Some(held) = &self.held else {
            return Err(Error::Usage(format!(
                "{describe}: the archive was finished before it ended"
            )));
        };
        let read_json = |member: &str| match held.documents.get(member) {
            Some(bytes) => Ok(bytes.clone()),
            None => Err(Error::MissingBlob {
                blob: member.to_string(),
                source_path: describe.clone(),
            }),
        };
        let docker = docker::read(&describe, &read_json)?;
        let history = oci::layer_history(&docker.config);
        let diff_ids = &docker.config.diff_ids;
        if diff_ids.len() != docker.layers.len() {
            return Err(Error::Invalid {
                what: format!("config {} in {describe}", docker.config_digest),
                why: format!(
                    "it lists {} diff_ids for the {} layers of manifest.json",
                    diff_ids.len(),
                    docker.layers.len()
                ),
            });
        }
        let mut order = Vec::with_capacity(docker.layers.len());
        let mut layers = Vec::with_capacity(docker.layers.len());
        for (index, ((member, digest), expected)) in docker.layers.iter().zip(diff_ids).enumerate()
        {
            let layer_err = |why: String| Error::Layer {
                layer: format!("{index} ({member})"),
                why,
            };
            let target = resolve(member, &held.links).map_err(layer_err)?;
            let Some(at) = self.arrived.iter().position(|a| a.member == target) else {
                let why =
                    if held.documents.contains_key(&target) || held.passed_over.contains(&target) {
                        "the member is not a tar archive"
                    } else {
                        "the archive does not hold it"
                    };
                return Err(layer_err(why.into()));
            };
            let arrived = &self.arrived[at];
            let Some(measured) = arrived.diff_id.get() else {
                return Err(layer_err("it arrived but was not read".into()));
            };
            if measured != expected {
                return Err(layer_err(format!(
                    "digest mismatch: the diff_id is {measured}, the image says {expected}"
                )));
            }
            order.push(at);
            layers.push(Layer {
                index,
                digest: digest.clone(),
                diff_id: Some(expected.clone()),
                media_type: None,
                size: Some(arrived.size),
                created_by: history.get(index).cloned().flatten(),
                bytes: LayerBytes::Streamed,
            });
        }
        let image = Image {
            kind: self.kind,
            location: self.location.clone(),
            name: docker.name,
            tag: docker.tag,
            manifest_digest: None,
            index_digest: None,
            config_digest: Some(docker.config_digest),
            platform: platform_of(&docker.config),
            config: Some(docker.config),
            layers,
            store: None,
        };
        ensure_platform(&image, platform)?;
        Ok(Streamed { image, order })
    }
}

/// `blobs/sha256/<hex>` names its blob's digest (Docker 25+); other names
/// (podman's `<hex>.tar`, the legacy `<id>/layer.tar`) promise nothing.
fn named_digest(member: &str) -> Option<String> {
    let (algorithm, hex) = member.strip_prefix("blobs/")?.split_once('/')?;
    let digest = format!("{algorithm}:{hex}");
    crate::digest::Algorithm::of(&digest).ok().map(|_| digest)
}

/// The member `name` is, through at most [`MAX_LINK_HOPS`] links.
fn resolve(name: &str, links: &HashMap<String, String>) -> Result<String, String> {
    let mut name = name.to_string();
    for _ in 0..MAX_LINK_HOPS {
        match links.get(&name) {
            Some(target) => name = target.clone(),
            None => return Ok(name),
        }
    }
    Err(format!(
        "more than {MAX_LINK_HOPS} links lead to it, or they form a circle"
    ))
}

/// Whether a member's first bytes are a layer's: a tar header (`ustar` at
/// offset 257, as every engine writes), the zero block an empty tar begins
/// with, or a compressed stream.
fn begins_like_a_layer(head: &[u8]) -> bool {
    let tar_header = head.get(257..262) == Some(b"ustar");
    let empty_tar = head.len() == 512 && head.iter().all(|b| *b == 0);
    let compressed = head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    tar_header || empty_tar || compressed
}

/// The reading thread: every member of `body` in turn, layers handed to the
/// caller while they stream, the rest held; then the end, or the first error.
/// Returns quietly when the caller has stopped listening.
fn read_members(body: Box<dyn Read + Send>, describe: &str, events: &SyncSender<Event>) {
    let ended = match hand_out(body, describe, events) {
        Ok(Some(held)) => Event::End(held),
        Ok(None) => return,
        Err(e) => Event::Failed(e),
    };
    let _ = events.send(ended);
}

/// `Ok(None)`: the caller stopped reading (it failed on a layer, and says why).
fn hand_out(
    body: Box<dyn Read + Send>,
    describe: &str,
    events: &SyncSender<Event>,
) -> Result<Option<Held>, Error> {
    let corrupt = |e: io::Error| Error::NotAnImage {
        path: describe.to_string(),
        why: guard::refusal(&e)
            .unwrap_or_else(|| format!("truncated or corrupt docker-archive stream ({e})")),
    };
    let mut archive = tar::Archive::new(Guard::new(body));
    let mut held = Held::default();
    let mut held_bytes = 0u64;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let raw = entry.path_bytes().into_owned();
        if let Err(why) = plain_member(&raw) {
            return Err(Error::Invalid {
                what: format!("{describe}: member {:?}", exact(&raw)),
                why: format!("{why}, refused: an image archive names its members inside it"),
            });
        }
        let Some(member) = normalize(&exact(&raw)) else {
            continue;
        };
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|l| exact(&l))
                .unwrap_or_default();
            // A symlink is relative to its directory, a hard link to the archive.
            let (dir, _) = split(&member);
            let relative = if kind.is_symlink() {
                join(dir, &target)
            } else {
                target
            };
            if let Ok(target) = inside(&relative) {
                held.links.insert(member, target);
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let size = entry.size();
        let mut head = Vec::with_capacity(512);
        (&mut entry)
            .take(512)
            .read_to_end(&mut head)
            .map_err(corrupt)?;
        if begins_like_a_layer(&head) {
            let (sender, chunks) = sync_channel(CHUNKS_AHEAD);
            let announced = events.send(Event::Layer {
                member,
                size,
                chunks,
            });
            if announced.is_err() || pump(io::Cursor::new(head).chain(&mut entry), sender).is_none()
            {
                // The walk has the error (a failed read reaches it through the
                // channel), or it stopped on one of its own.
                return Ok(None);
            }
        } else if size <= MAX_JSON {
            held_bytes = held_bytes.saturating_add(size);
            if held_bytes > MAX_HELD_BYTES {
                return Err(Error::NotAnImage {
                    path: describe.to_string(),
                    why: format!(
                        "more than {MAX_HELD_BYTES} bytes of members that are not layers; \
                         a docker-archive has a config and a few small files"
                    ),
                });
            }
            entry.read_to_end(&mut head).map_err(corrupt)?;
            held.documents.insert(member, head);
        } else {
            io::copy(&mut entry, &mut io::sink()).map_err(corrupt)?;
            held.passed_over.insert(member);
        }
    }
    Ok(Some(held))
}
