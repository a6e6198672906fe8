//! A stage boundary inside one layer's stream: one thread reads, hashes and
//! decompresses; the caller's thread walks the tar and analyses the files.
//!
//! Layers already run in parallel, but an image of one big layer (or a
//! `dir:`-like single blob) would otherwise use one core for both halves.
//! Chunks cross a bounded channel, so memory stays at [`CHUNKS_AHEAD`] ×
//! [`CHUNK`] per layer whatever its size, and an error on the reading side
//! reaches the reader as the same `io::Error` (the zip-bomb guard looks
//! inside it).

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Bytes per chunk.
pub(crate) const CHUNK: usize = 256 << 10;
/// How many chunks the reading side may run ahead.
pub(crate) const CHUNKS_AHEAD: usize = 8;

/// The walking side: reads what [`pump`] sends, then end of stream.
pub(crate) struct PipeReader {
    chunks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

/// A connected pair: [`pump`] into the sender, read from the reader.
pub(crate) fn pipe() -> (SyncSender<io::Result<Vec<u8>>>, PipeReader) {
    let (sender, chunks) = sync_channel(CHUNKS_AHEAD);
    (
        sender,
        PipeReader {
            chunks,
            current: Vec::new(),
            at: 0,
        },
    )
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

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
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
