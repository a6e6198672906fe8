//! A blob arriving over the network, read as a blocking [`Read`].
//!
//! The layer walker is synchronous and runs on rayon's threads; the client is
//! async. A bounded channel joins them: the download runs ahead by at most
//! [`CHUNKS_AHEAD`] chunks, so analysis starts with the first bytes and
//! memory stays bounded whatever the layer's size.

use bytes::Bytes;
use std::io::Read;
use tokio::sync::mpsc::Receiver;

/// How many chunks (a few tens of KiB each) a download may run ahead of the reader.
pub const CHUNKS_AHEAD: usize = 64;

pub struct ChannelReader {
    chunks: Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    pub fn new(chunks: Receiver<std::io::Result<Bytes>>) -> Self {
        ChannelReader {
            chunks,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
