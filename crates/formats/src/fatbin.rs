//! NVIDIA fatbin containers, walked as a library streams past.
//!
//! A CUDA library's device code lives in fatbin containers in its `.nv_fatbin` (or, for
//! relocatable objects, `__nv_relfatbin`) section. Each container is a 16-byte header
//! (magic `0xBA55ED50`, version 1, header size 16, payload size) followed by entries, and
//! every entry's own header names its kind (SASS as an ELF cubin, or PTX text), its target
//! architecture, its PTX ISA version and whether its payload is compressed. So the
//! architectures are listed from headers alone: no payload is decompressed or even kept,
//! which matters for `libtorch_cuda.so`, whose fatbin is 300 MB.
//!
//! The walker only needs each entry header's position, which the previous header gives, so
//! it reads a few hundred bytes per entry and skips the rest of the stream. It cannot know
//! which section a container sits in until the section headers at the end of the file are
//! read, so it keeps each container's offset, and [`Containers::within`] later keeps only
//! those inside the fatbin section: CUPTI embeds containers of profiler payloads in
//! `.rodata`, and NVIDIA's `cuobjdump` does not count those as the library's kernels.
//!
//! Layout facts were read from real libraries and checked against `cuobjdump` listings: on a
//! machine with the CUDA 13 toolkit, cuDNN 9.14, NCCL 2.28 and torch 2.11.0+cu130, the sets
//! equal `cuobjdump --list-elf` / `--list-ptx` for all 94 NVIDIA libraries there (the
//! `sm_90`/`sm_90a` pairs of `libtorch_cuda.so` show that entry flag `0x100000` marks an
//! architecture-specific build).

use gpubom_inventory::gpu::{GpuArch, Variant};
use memchr::memmem;
use std::collections::BTreeSet;

/// Magic, version 1 and header size 16, as the first 8 bytes of a container.
const CONTAINER_START: [u8; 8] = [0x50, 0xed, 0x55, 0xba, 0x01, 0x00, 0x10, 0x00];
const CONTAINER_HEADER_LEN: usize = 16;
/// Bytes of one chunk kept to find a container start split across it and the next.
const START_OVERLAP: usize = CONTAINER_START.len() - 1;
/// Entry headers seen in real files are 64 to 112 bytes (the extra bytes hold options).
const ENTRY_HEADER_MIN: usize = 64;
const ENTRY_HEADER_MAX: usize = 1024;
/// Bounds against hostile files: containers and distinct targets remembered per library.
const MAX_CONTAINERS: usize = 1 << 16;
const MAX_TARGETS: usize = 256;

const KIND_PTX: u16 = 1;
const KIND_SASS: u16 = 2;
/// Entry flag of an architecture-specific build (`sm_90a`): confirmed on torch 2.11.0+cu130.
/// Flag `0x200000` (on cuDNN 9.14, cuBLASLt 13.1, NCCL 2.28 and cuSPARSELt 0.8 entries) is
/// not a suffix: NVIDIA's `cuobjdump` names those entries `sm_100`, `sm_120`, so it is ignored.
const FLAG_ARCH_SPECIFIC: u64 = 0x10_0000;
/// Payload compressed (LZ4-style before CUDA 12.8, zstd after); only reported.
const FLAG_COMPRESSED: u64 = 0x2000 | 0x8000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CodeKind {
    /// Machine code (an ELF cubin) for one architecture.
    Sass,
    /// PTX, JIT-compiled by the driver for its own or any later architecture.
    Ptx,
}

/// One kind of device code a library carries: `sm_90a` SASS, or PTX for `sm_121` at ISA 9.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceTarget {
    pub kind: CodeKind,
    pub arch: GpuArch,
    /// `(major, minor)` of the PTX ISA, for PTX entries.
    pub ptx_isa: Option<(u16, u16)>,
    pub compressed: bool,
}

/// A container whose every entry header parsed, and where it starts in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Container {
    offset: u64,
    targets: BTreeSet<DeviceTarget>,
}

/// The containers of one file, before it is known which sections they sit in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Containers {
    found: Vec<Container>,
}

impl Containers {
    /// Targets of the containers that start inside one of `sections` (`[start, end)` file
    /// offsets of `.nv_fatbin` / `__nv_relfatbin`).
    pub fn within(&self, sections: &[(u64, u64)]) -> BTreeSet<DeviceTarget> {
        let sections = Ranges::merged(sections);
        self.found
            .iter()
            .filter(|c| sections.contains(c.offset))
            .flat_map(|c| c.targets.iter().copied())
            .collect()
    }

    /// How many containers start outside every one of `sections`.
    pub fn outside(&self, sections: &[(u64, u64)]) -> usize {
        let sections = Ranges::merged(sections);
        self.found
            .iter()
            .filter(|c| !sections.contains(c.offset))
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }
}

/// File ranges sorted and merged, so that whether an offset lies in one costs a binary search:
/// a hostile file declares 4,096 sections and 65,536 containers, and testing each container
/// against each section took seconds.
struct Ranges(Vec<(u64, u64)>);

impl Ranges {
    /// `ranges` (`[start, end)`, in any order, overlapping or empty) as disjoint sorted ranges.
    fn merged(ranges: &[(u64, u64)]) -> Ranges {
        let mut sorted: Vec<(u64, u64)> = ranges.iter().copied().filter(|(s, e)| s < e).collect();
        sorted.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(sorted.len());
        for (start, end) in sorted {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Ranges(merged)
    }

    fn contains(&self, offset: u64) -> bool {
        // The first range that ends after `offset` is the only one that can hold it.
        let after = self.0.partition_point(|&(_, end)| end <= offset);
        self.0.get(after).is_some_and(|&(start, _)| start <= offset)
    }
}

#[derive(Debug)]
enum State {
    /// Looking for the next container's first bytes.
    Seeking,
    /// Gathering `want` bytes from file offset `at` (skipping to it first).
    Reading {
        at: u64,
        want: usize,
        buf: Vec<u8>,
        part: Part,
    },
    /// Skipping to a file offset before seeking again.
    SkipTo(u64),
    /// Past the last entry header: the container counts once the file reaches its end.
    Closing(u64),
}

#[derive(Debug, Clone, Copy)]
enum Part {
    ContainerHeader,
    EntryHeader { container_end: u64 },
}

/// Streams a file and records every well-formed fatbin container in it.
#[derive(Debug)]
pub struct FatbinWalker {
    state: State,
    /// Offset of the next byte fed.
    offset: u64,
    /// The last bytes of the previous chunk, so a container start split across chunks is seen.
    tail: Vec<u8>,
    finder: memmem::Finder<'static>,
    current: Option<Container>,
    containers: Containers,
}

impl Default for FatbinWalker {
    fn default() -> Self {
        Self::new()
    }
}

impl FatbinWalker {
    pub fn new() -> Self {
        FatbinWalker {
            state: State::Seeking,
            offset: 0,
            tail: Vec::new(),
            finder: memmem::Finder::new(&CONTAINER_START),
            current: None,
            containers: Containers::default(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let base = self.offset;
        let end = base.saturating_add(chunk.len() as u64);
        let mut pos = base;
        while pos < end {
            pos = match std::mem::replace(&mut self.state, State::Seeking) {
                State::Seeking => self.seek(chunk, base, pos),
                State::SkipTo(at) if at >= end => {
                    self.state = State::SkipTo(at);
                    end
                }
                State::SkipTo(at) => at.max(pos),
                State::Closing(at) if at > end => {
                    self.state = State::Closing(at);
                    end
                }
                State::Closing(at) => {
                    self.containers.found.extend(self.current.take());
                    at.max(pos)
                }
                State::Reading {
                    at,
                    want,
                    mut buf,
                    part,
                } => {
                    let next = at.saturating_add(buf.len() as u64);
                    if next >= end {
                        self.state = State::Reading {
                            at,
                            want,
                            buf,
                            part,
                        };
                        end
                    } else {
                        // What is read resumes in this chunk: base <= next < end.
                        let from = next.saturating_sub(base) as usize;
                        let take = want.saturating_sub(buf.len());
                        let piece = chunk.get(from..).unwrap_or_default();
                        let piece = piece.get(..take).unwrap_or(piece);
                        buf.extend_from_slice(piece);
                        let after = next.saturating_add(piece.len() as u64);
                        if buf.len() == want {
                            self.state = self.header_complete(at, buf, part);
                        } else {
                            self.state = State::Reading {
                                at,
                                want,
                                buf,
                                part,
                            };
                        }
                        after
                    }
                }
            };
        }
        let (_, last) = chunk.split_at(chunk.len().saturating_sub(CONTAINER_START.len()));
        self.tail.extend_from_slice(last);
        let excess = self.tail.len().saturating_sub(START_OVERLAP);
        self.tail.drain(..excess);
        self.offset = end;
    }

    /// Every well-formed container seen; a container cut off by the end of the file is dropped.
    pub fn finish(mut self) -> Containers {
        if let State::Closing(end) = self.state {
            if end <= self.offset {
                self.containers.found.extend(self.current.take());
            }
        }
        self.containers
    }

    /// Finds the next container start at or after `pos`; returns where reading goes on.
    fn seek(&mut self, chunk: &[u8], base: u64, pos: u64) -> u64 {
        // `pos` lies in this chunk: base <= pos < base + chunk.len().
        let from = pos.saturating_sub(base) as usize;
        // A start that began in the previous chunk's tail (only when seeking from the chunk's start).
        if from == 0 && !self.tail.is_empty() {
            let mut joint = self.tail.clone();
            joint.extend_from_slice(chunk.get(..START_OVERLAP).unwrap_or(chunk));
            let hit = self.finder.find(&joint).filter(|&h| h < self.tail.len());
            if let Some(started) = hit.and_then(|h| self.tail.get(h..)) {
                self.state = State::Reading {
                    at: base.saturating_sub(started.len() as u64),
                    want: CONTAINER_HEADER_LEN,
                    buf: started.to_vec(),
                    part: Part::ContainerHeader,
                };
                return base;
            }
        }
        match chunk.get(from..).and_then(|rest| self.finder.find(rest)) {
            Some(hit) => {
                let at = pos.saturating_add(hit as u64);
                self.state = State::Reading {
                    at,
                    want: CONTAINER_HEADER_LEN,
                    buf: Vec::with_capacity(ENTRY_HEADER_MIN),
                    part: Part::ContainerHeader,
                };
                at
            }
            None => base.saturating_add(chunk.len() as u64),
        }
    }

    /// What follows a header whose `want` bytes are all in `buf`.
    fn header_complete(&mut self, at: u64, buf: Vec<u8>, part: Part) -> State {
        match part {
            Part::ContainerHeader => {
                let payload = u64_at(&buf, 8);
                if payload < ENTRY_HEADER_MIN as u64
                    || self.containers.found.len() >= MAX_CONTAINERS
                {
                    return State::SkipTo(at.saturating_add(1));
                }
                let first = at.saturating_add(CONTAINER_HEADER_LEN as u64);
                self.current = Some(Container {
                    offset: at,
                    targets: BTreeSet::new(),
                });
                State::Reading {
                    at: first,
                    want: 16,
                    buf: Vec::with_capacity(ENTRY_HEADER_MIN),
                    part: Part::EntryHeader {
                        container_end: first.saturating_add(payload),
                    },
                }
            }
            Part::EntryHeader { container_end } => {
                let header_len = u32_at(&buf, 4) as usize;
                if !(ENTRY_HEADER_MIN..=ENTRY_HEADER_MAX).contains(&header_len) {
                    return self.abandon(at);
                }
                if buf.len() < header_len {
                    return State::Reading {
                        at,
                        want: header_len,
                        buf,
                        part,
                    };
                }
                let Some(target) = parse_entry(&buf) else {
                    return self.abandon(at);
                };
                let next = at
                    .checked_add(header_len as u64)
                    .and_then(|n| n.checked_add(u64_at(&buf, 8)));
                match next {
                    Some(next) if next <= container_end => {
                        if let Some(current) = self.current.as_mut() {
                            if current.targets.len() < MAX_TARGETS {
                                current.targets.insert(target);
                            }
                        }
                        if next.saturating_add(ENTRY_HEADER_MIN as u64) <= container_end {
                            State::Reading {
                                at: next,
                                want: 16,
                                buf: Vec::with_capacity(ENTRY_HEADER_MIN),
                                part,
                            }
                        } else {
                            // Trailing padding, if any, is not an entry.
                            State::Closing(container_end)
                        }
                    }
                    _ => self.abandon(at),
                }
            }
        }
    }

    /// A malformed entry: the container is not trusted, and seeking resumes after the header.
    fn abandon(&mut self, at: u64) -> State {
        self.current = None;
        State::SkipTo(at.saturating_add(1))
    }
}

/// The target one entry header describes, if its kind is known.
fn parse_entry(header: &[u8]) -> Option<DeviceTarget> {
    let kind = match u16_at(header, 0) {
        KIND_SASS => CodeKind::Sass,
        KIND_PTX => CodeKind::Ptx,
        _ => return None,
    };
    let arch = u32_at(header, 28);
    if !(10..=1000).contains(&arch) {
        return None;
    }
    let flags = u64_at(header, 40);
    let variant = if flags & FLAG_ARCH_SPECIFIC != 0 {
        Variant::ArchSpecific
    } else {
        Variant::Portable
    };
    let ptx_isa = (kind == CodeKind::Ptx).then(|| (u16_at(header, 26), u16_at(header, 24)));
    Some(DeviceTarget {
        kind,
        arch: GpuArch::from_number(arch, variant),
        ptx_isa,
        compressed: flags & FLAG_COMPRESSED != 0,
    })
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(bytes_at(b, at))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes_at(b, at))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes_at(b, at))
}

#[expect(
    clippy::indexing_slicing,
    reason = "headers are parsed only once read whole: a container's and an entry's first \
              16 bytes (fields up to byte 16), then an entry's ENTRY_HEADER_MIN (64) or more \
              (fields up to byte 48)"
)]
fn bytes_at<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    b[at..][..N].try_into().expect("a slice of N bytes")
}

#[cfg(test)]
#[path = "fatbin_tests.rs"]
mod tests;
