//! A stage boundary inside one layer's stream: one thread reads, hashes and
//! decompresses; the caller's thread walks the tar and analyses the files.
//!
//! Layers already run in parallel, but an image of one big layer (or a
//! `dir:`-like single blob) would otherwise use one core for both halves.
//! Chunks cross a bounded channel, so memory stays at [`CHUNKS_AHEAD`] ×
//! [`CHUNK`] per layer whatever its size, and an error on the reading side
//! reaches the reader as the same `io::Error` (the zip-bomb guard looks
//! inside it).
//!
//! The reading end, [`ChunkReader`], takes its chunks from whatever channel
//! the other side feeds: `gpubom-registry` reads a download arriving on an
//! async channel with it, as the walk reads this pipe.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, SyncSender};

/// Bytes per chunk.
pub(crate) const CHUNK: usize = 256 << 10;
/// How many chunks the reading side may run ahead.
pub(crate) const CHUNKS_AHEAD: usize = 8;

/// A blocking [`Read`] over chunks that arrive from another thread: `next`
/// waits for the next chunk, and gives `None` once the sending side is gone
/// (end of stream). An error in the stream reaches the reader as it was sent.
pub struct ChunkReader<Chunk, Next> {
    next: Next,
    current: Chunk,
    at: usize,
}

impl<Chunk, Next> ChunkReader<Chunk, Next>
where
    Chunk: AsRef<[u8]> + Default,
    Next: FnMut() -> Option<io::Result<Chunk>>,
{
    pub fn new(next: Next) -> Self {
        ChunkReader {
            next,
            current: Chunk::default(),
            at: 0,
        }
    }
}

/// A connected pair: [`pump`] into the sender; the reader reads what it
/// sends, then end of stream.
pub(crate) fn pipe() -> (SyncSender<io::Result<Vec<u8>>>, impl Read) {
    let (sender, chunks) = sync_channel(CHUNKS_AHEAD);
    (sender, ChunkReader::new(move || chunks.recv().ok()))
}

/// Reads `source` to its end into `sender`. Returns `source` when all of it
/// was sent, `None` when it failed (the error went to the reader) or the
/// reader hung up (it stopped on an error of its own).
pub(crate) fn pump<R: Read>(mut source: R, sender: SyncSender<io::Result<Vec<u8>>>) -> Option<R> {
    loop {
        let mut chunk = vec![0; CHUNK];
        match source.read(&mut chunk) {
            Ok(0) => return Some(source),
            Ok(n) => {
                chunk.truncate(n);
                sender.send(Ok(chunk)).ok()?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = sender.send(Err(e));
                return None;
            }
        }
    }
}

impl<Chunk, Next> Read for ChunkReader<Chunk, Next>
where
    Chunk: AsRef<[u8]>,
    Next: FnMut() -> Option<io::Result<Chunk>>,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.as_ref().len() {
            match (self.next)() {
                Some(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let rest = &self.current.as_ref()[self.at..];
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_errors_cross_in_order() {
        let data: Vec<u8> = (0..CHUNK * 3 + 17).map(|i| i as u8).collect();
        let (sender, mut reader) = pipe();
        let back = std::thread::scope(|scope| {
            let pumped = scope.spawn(|| pump(&data[..], sender).is_some());
            let mut back = Vec::new();
            reader.read_to_end(&mut back).unwrap();
            assert!(pumped.join().unwrap());
            back
        });
        assert_eq!(back, data);

        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::InvalidData, "bad block"))
            }
        }
        let (sender, mut reader) = pipe();
        std::thread::scope(|scope| {
            scope.spawn(|| assert!(pump(Failing, sender).is_none()));
            let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
            assert_eq!(err.to_string(), "bad block");
        });
    }

    #[test]
    fn a_reader_that_stops_stops_the_pump() {
        let data = vec![0u8; CHUNK * (CHUNKS_AHEAD + 4)];
        let (sender, reader) = pipe();
        std::thread::scope(|scope| {
            let pumped = scope.spawn(|| pump(&data[..], sender).is_some());
            drop(reader);
            assert!(!pumped.join().unwrap());
        });
    }
}
