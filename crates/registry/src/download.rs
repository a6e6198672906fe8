//! A blob downloaded while it is read: chunks go to a [`gpubom_image::ChunkReader`]
//! as they arrive.
//!
//! A connection lost mid-blob resumes from the byte it reached, a bounded number of
//! times; a registry that ignores the range sends the whole blob again, and the bytes
//! already delivered are skipped. Every wait for the registry is bounded by the scan's
//! deadline, so a registry that sends a byte now and then cannot hold a scan forever,
//! and by the size the blob's descriptor declares, so one that never stops sending is
//! refused as soon as it has sent more than that (the digest check waits for the end).
//! The bytes are not hashed here: the reader verifies them (see [`crate::client`]).

use crate::answer::FIRST_BACKOFF;
use crate::http::Session;
use bytes::Bytes;
use reqwest::Response;
use std::sync::Arc;
use tokio::sync::mpsc::Sender;

/// How many times one blob download may resume after losing its connection.
const MAX_RESUMES: u32 = 3;

/// Why a blob longer than the `declared` bytes of its descriptor is refused.
pub(crate) fn longer_than_declared(declared: u64) -> String {
    format!("the registry sent more than the {declared} bytes the manifest declares")
}

/// Sends `response`'s body, the answer for blob `digest` of `declared` bytes (when its
/// descriptor says), chunk by chunk to `chunks`, resuming when the connection drops;
/// ends with an error on the channel when it cannot go on, and quietly when the reader
/// has gone.
pub(crate) async fn deliver(
    session: Arc<Session>,
    digest: String,
    declared: Option<u64>,
    mut response: Response,
    chunks: Sender<std::io::Result<Bytes>>,
) {
    let what = format!("blob {digest}");
    let deadline = session.deadlines().for_blob();
    let (mut delivered, mut skip, mut resumes) = (0u64, 0u64, 0u32);
    let why = loop {
        let next = match tokio::time::timeout_at(deadline.at, response.chunk()).await {
            Ok(next) => next,
            Err(_) => break deadline.expired(&what, session.registry()).to_string(),
        };
        match next {
            Ok(Some(mut chunk)) => {
                if skip > 0 {
                    let n = skip.min(chunk.len() as u64);
                    skip -= n;
                    chunk = chunk.split_off(n as usize);
                    if chunk.is_empty() {
                        continue;
                    }
                }
                delivered += chunk.len() as u64;
                if let Some(declared) = declared.filter(|&d| delivered > d) {
                    break format!("{what}: {}", longer_than_declared(declared));
                }
                if chunks.send(Ok(chunk)).await.is_err() {
                    return; // the reader gave up
                }
            }
            Ok(None) => return,
            Err(e) if resumes >= MAX_RESUMES => {
                break format!(
                    "{what}: the connection failed after {delivered} bytes, \
                     {MAX_RESUMES} resumes tried: {e}"
                )
            }
            Err(_) => {
                resumes += 1;
                tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(resumes)).await;
                match session.blob(&digest, delivered).await {
                    Ok((next, from_where_it_stopped)) => {
                        response = next;
                        skip = if from_where_it_stopped { 0 } else { delivered };
                    }
                    Err(e) => {
                        break format!(
                            "{what}: the connection failed after {delivered} bytes \
                             and could not be resumed: {}",
                            session.classify(e, &what)
                        )
                    }
                }
            }
        }
    };
    let _ = chunks.send(Err(std::io::Error::other(why))).await;
}
