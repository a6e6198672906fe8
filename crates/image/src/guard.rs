//! A cap on the tar metadata records the `tar` crate reads whole into memory.
//!
//! GNU long names and links (`L`, `K`) and PAX headers (`x`) are read in full
//! before the entry they describe, with no limit on their declared size, and
//! the crate offers no hook in between: a layer of a few megabytes of gzip can
//! declare a gigabyte of zeros as a file name. So [`Guard`] sits under the tar
//! reader and follows the same framing over the bytes as they pass (header,
//! extension blocks, body rounded up to 512), and fails the read as soon as a
//! header announces an oversized record, before any of its body is read.
//!
//! The framing mirrors `tar` 0.4's `EntriesFields::next_entry`: a PAX `size`
//! overrides the next real entry's size, and GNU sparse headers may be
//! followed by extension blocks. Where the two could disagree (a corrupt
//! header), the tar reader fails on its own and the guard stops looking.

use std::fmt;
use std::io::{self, Read};

/// Largest GNU long name/link or PAX header accepted.
pub(crate) const MAX_METADATA: u64 = 1 << 20;

const BLOCK: u64 = 512;

/// Why a guarded read failed; carried inside the `io::Error` the tar reader returns.
#[derive(Debug)]
pub(crate) struct TooLarge(String);

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TooLarge {}

impl TooLarge {
    pub(crate) fn new(why: String) -> Self {
        TooLarge(why)
    }
}

/// The limit's message, if `e` is the guard's refusal.
pub(crate) fn refusal(e: &io::Error) -> Option<String> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TooLarge>())
        .map(|t| t.0.clone())
}

enum Next {
    Header,
    /// A GNU sparse extension block; the entry's data follows the last one.
    SparseExtension {
        size: u64,
    },
}

pub(crate) struct Guard<R> {
    inner: R,
    /// Offset of the next byte `inner` yields.
    pos: u64,
    /// Offset of the next header or extension block; bytes before it are body.
    next: u64,
    expect: Next,
    block: [u8; BLOCK as usize],
    filled: usize,
    /// Body of a PAX header being collected, with its declared length.
    pax: Option<(Vec<u8>, u64)>,
    /// A complete PAX header, applying to the next real entry.
    pending_pax: Option<Vec<u8>>,
    /// End of archive reached, or framing lost: pass bytes through unexamined.
    done: bool,
    /// The end-of-archive marker was seen: anything missing after it is no truncation.
    terminated: bool,
    refused: Option<String>,
}

impl<R> Guard<R> {
    pub fn new(inner: R) -> Self {
        Guard {
            inner,
            pos: 0,
            next: 0,
            expect: Next::Header,
            block: [0; BLOCK as usize],
            filled: 0,
            pax: None,
            pending_pax: None,
            done: false,
            terminated: false,
            refused: None,
        }
    }

    /// Whether the stream so far held a tar's end-of-archive marker.
    pub fn terminated(&self) -> bool {
        self.terminated
    }

    fn observe(&mut self, mut data: &[u8]) -> Result<(), String> {
        while !data.is_empty() && !self.done {
            if self.pos < self.next {
                let n = (self.next - self.pos).min(data.len() as u64) as usize;
                if let Some((body, len)) = &mut self.pax {
                    let want = (*len as usize).saturating_sub(body.len()).min(n);
                    body.extend_from_slice(&data[..want]);
                }
                self.pos += n as u64;
                data = &data[n..];
                continue;
            }
            let n = (self.block.len() - self.filled).min(data.len());
            self.block[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.filled += n;
            self.pos += n as u64;
            data = &data[n..];
            if self.filled == self.block.len() {
                self.filled = 0;
                self.next = self.pos;
                match self.expect {
                    Next::Header => self.header()?,
                    Next::SparseExtension { size } => self.sparse_extension(size),
                }
            }
        }
        Ok(())
    }

    /// A full header block has just passed; `self.next` is right after it.
    fn header(&mut self) -> Result<(), String> {
        if let Some((body, _)) = self.pax.take() {
            self.pending_pax = Some(body);
        }
        if self.block.iter().all(|&b| b == 0) {
            self.done = true;
            self.terminated = true;
            return Ok(());
        }
        let header = tar::Header::from_byte_slice(&self.block);
        let valid = header.cksum().is_ok_and(|sum| sum == checksum(&self.block));
        let (true, Ok(mut size)) = (valid, header.entry_size()) else {
            self.done = true;
            return Ok(());
        };
        let kind = header.entry_type();
        let recognized = header.as_gnu().is_some() || header.as_ustar().is_some();
        let what = if kind.is_gnu_longname() {
            Some("GNU long name")
        } else if kind.is_gnu_longlink() {
            Some("GNU long link name")
        } else if kind.is_pax_local_extensions() {
            Some("PAX header")
        } else if kind.is_pax_global_extensions() {
            Some("PAX global header")
        } else {
            None
        };
        if let Some(what) = what {
            if size > MAX_METADATA {
                return Err(format!(
                    "a {what} of {size} bytes exceeds the {} MiB limit",
                    MAX_METADATA >> 20
                ));
            }
        }
        let read_whole = recognized
            && (kind.is_gnu_longname() || kind.is_gnu_longlink() || kind.is_pax_local_extensions());
        if read_whole {
            // The tar reader keeps collecting records until the entry they describe.
            if kind.is_pax_local_extensions() {
                self.pax = Some((Vec::with_capacity(size as usize), size));
            }
        } else if let Some(pax) = self.pending_pax.take() {
            if what.is_none() {
                if let Some(pax_size) = pax_size(&pax) {
                    size = pax_size;
                }
            }
        }
        if !read_whole && kind.is_gnu_sparse() {
            match header.as_gnu() {
                Some(gnu) if gnu.is_extended() => {
                    self.expect = Next::SparseExtension { size };
                    return Ok(());
                }
                Some(_) => {}
                None => {
                    self.done = true;
                    return Ok(());
                }
            }
        }
        self.skip_body(size);
        Ok(())
    }

    fn sparse_extension(&mut self, size: u64) {
        let mut extension = tar::GnuExtSparseHeader::new();
        extension.as_mut_bytes().copy_from_slice(&self.block);
        if !extension.is_extended() {
            self.expect = Next::Header;
            self.skip_body(size);
        }
    }

    fn skip_body(&mut self, size: u64) {
        match size
            .checked_add(BLOCK - 1)
            .and_then(|s| self.next.checked_add(s & !(BLOCK - 1)))
        {
            Some(next) => self.next = next,
            None => self.done = true,
        }
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(why) = &self.refused {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                TooLarge(why.clone()),
            ));
        }
        let n = self.inner.read(buf)?;
        if let Err(why) = self.observe(&buf[..n]) {
            self.refused = Some(why.clone());
            return Err(io::Error::new(io::ErrorKind::InvalidData, TooLarge(why)));
        }
        Ok(n)
    }
}

/// Seeking lets the tar reader skip an entry's body without reading it (an
/// archive's index is built from its headers alone). A skip lands on the next
/// header, where the framing expects one; a seek anywhere else loses the
/// framing, and the guard then passes bytes through, as on corrupt input.
impl<R: Read + io::Seek> io::Seek for Guard<R> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(to)?;
        let within_body =
            self.filled == 0 && self.pax.is_none() && self.pos <= at && at <= self.next;
        if !within_body {
            self.done = true;
        }
        self.pos = at;
        Ok(at)
    }
}

/// The header checksum as the tar reader computes it (checksum field as spaces).
fn checksum(block: &[u8; BLOCK as usize]) -> u32 {
    block[..148]
        .iter()
        .chain(&block[156..])
        .map(|&b| u32::from(b))
        .sum::<u32>()
        + 8 * u32::from(b' ')
}

/// The `size` record of a PAX header, read as the tar reader reads it.
fn pax_size(pax: &[u8]) -> Option<u64> {
    for record in tar::PaxExtensions::new(pax) {
        let record = record.ok()?;
        if record.key() == Ok("size") {
            return record.value().ok()?.parse().ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: tar::EntryType, name: &str, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_path(name).unwrap();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        h
    }

    /// Reads all of `bytes` through the guard in small, uneven reads.
    fn drain(bytes: &[u8]) -> io::Result<Vec<String>> {
        let mut archive = tar::Archive::new(Guard::new(Chunked(bytes)));
        let mut names = Vec::new();
        for entry in archive.entries()? {
            let mut entry = entry?;
            names.push(entry.path()?.display().to_string());
            io::copy(&mut entry, &mut io::sink())?;
        }
        Ok(names)
    }

    struct Chunked<'a>(&'a [u8]);

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(301);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn follows_long_names_pax_sizes_and_bodies() {
        let mut b = tar::Builder::new(Vec::new());
        let long = format!("{}/model.safetensors", "d".repeat(300));
        let mut h = tar::Header::new_gnu();
        h.set_size(1000);
        h.set_mode(0o644);
        b.append_data(&mut h, &long, &[7u8; 1000][..]).unwrap();
        // A PAX size overriding the header's own (as Go writes for files over 8 GiB).
        b.append_pax_extensions([("size", &b"5"[..])]).unwrap();
        let mut h = header(tar::EntryType::Regular, "pax-sized", 0);
        b.append(&h, &b"hello"[..]).unwrap();
        h = header(tar::EntryType::Regular, "after", 3);
        b.append(&h, &b"abc"[..]).unwrap();
        let mut bytes = b.into_inner().unwrap();
        assert_eq!(
            drain(&bytes).unwrap(),
            vec![long, "pax-sized".into(), "after".into()]
        );
        // Still in step after all that: an oversized record where the end-of-archive
        // marker was is caught (a guard that lost the framing would let it through).
        bytes.truncate(bytes.len() - 1024);
        let big = header(tar::EntryType::GNULongLink, "././@LongLink", 1 << 21);
        bytes.extend_from_slice(big.as_bytes());
        let err = drain(&bytes).unwrap_err();
        assert!(refusal(&err)
            .unwrap()
            .starts_with("a GNU long link name of 2097152 bytes"));
    }

    #[test]
    fn refuses_an_oversized_long_name_before_reading_it() {
        let h = header(tar::EntryType::GNULongName, "././@LongLink", 1 << 30);
        // The body is absent: the refusal must come from the header alone.
        let err = drain(h.as_bytes()).unwrap_err();
        assert_eq!(
            refusal(&err).as_deref(),
            Some("a GNU long name of 1073741824 bytes exceeds the 1 MiB limit")
        );
    }

    #[test]
    fn skipping_bodies_by_seeking_keeps_the_framing() {
        let mut bytes = header(tar::EntryType::Regular, "big", 5000)
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(&[1u8; 5120]);
        let pax = header(tar::EntryType::XHeader, "pax", MAX_METADATA + 1);
        bytes.extend_from_slice(pax.as_bytes());
        let mut archive = tar::Archive::new(Guard::new(std::io::Cursor::new(bytes)));
        let err = archive
            .entries_with_seek()
            .unwrap()
            .map(|e| e.map(drop))
            .collect::<io::Result<Vec<_>>>()
            .unwrap_err();
        assert!(
            refusal(&err)
                .unwrap()
                .starts_with("a PAX header of 1048577 bytes"),
            "{err}"
        );
    }

    #[test]
    fn refuses_an_oversized_pax_header_after_ordinary_entries() {
        let mut bytes = header(tar::EntryType::Regular, "ok", 700)
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(&[1u8; 1024]);
        let pax = header(tar::EntryType::XHeader, "pax", MAX_METADATA + 1);
        bytes.extend_from_slice(pax.as_bytes());
        let err = drain(&bytes).unwrap_err();
        assert!(refusal(&err)
            .unwrap()
            .starts_with("a PAX header of 1048577 bytes"));
    }
}
