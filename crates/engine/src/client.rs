//! The few Engine API calls gpubom makes, for synchronous callers: `/_ping`,
//! `GET /images/{name}/json` and `GET /images/{name}/get`.
//!
//! Podman serves the Docker Engine API as dockerd does, so one client reads
//! both. Paths carry no API version: each engine then answers in its own
//! newest, and every call used here is older than both engines' oldest
//! supported version. Documents are read chunk by chunk and refused past a
//! cap; the export streams through a bounded channel into a
//! [`gpubom_image::ChunkReader`], so a layer is walked while it arrives and
//! memory stays bounded whatever the image's size.

use crate::endpoint::Endpoint;
use bytes::Bytes;
use gpubom_image::ChunkReader;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

/// How long an engine may take to accept a connection and answer a ping.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// Most bytes of `GET /images/{name}/json` read.
const MAX_INSPECT_BYTES: usize = 16 << 20;
/// Most bytes of an error answer read, for its message.
const MAX_ERROR_BYTES: usize = 64 << 10;
/// How many chunks the export may run ahead of the reader.
const CHUNKS_AHEAD: usize = 64;

/// Why a call gave no answer to use.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Nothing answered: no socket, refused, timed out, not HTTP.
    Unreachable(String),
    /// The engine answered with an error status.
    Refused { status: u16, message: String },
}

/// What `GET /images/{name}/json` says, as far as gpubom uses it.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Inspect {
    pub id: String,
    #[serde(default)]
    pub size: Option<u64>,
}

pub(crate) struct Client {
    runtime: Arc<tokio::runtime::Runtime>,
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub(crate) fn new(endpoint: &Endpoint) -> Result<Client, Failure> {
        let unreachable = |e: &dyn std::fmt::Display| Failure::Unreachable(e.to_string());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gpubom-engine")
            .enable_all()
            .build()
            .map_err(|e| unreachable(&format!("cannot start the network runtime: {e}")))?;
        let builder = reqwest::Client::builder()
            .connect_timeout(ANSWER_WITHIN)
            .no_proxy();
        let (builder, base) = match endpoint {
            Endpoint::Unix(path) => (
                builder.unix_socket(path.as_path()),
                "http://localhost".to_string(),
            ),
            Endpoint::Tcp { address, tls: None } => (builder, format!("http://{address}")),
            Endpoint::Tcp {
                address,
                tls: Some(dir),
            } => (tls(builder, dir)?, format!("https://{address}")),
        };
        let http = builder.build().map_err(|e| unreachable(&e))?;
        Ok(Client {
            runtime: Arc::new(runtime),
            http,
            base,
        })
    }

    /// Whether an engine answers at all, within [`ANSWER_WITHIN`].
    pub(crate) fn ping(&self) -> Result<(), Failure> {
        let request = self
            .http
            .get(format!("{}/_ping", self.base))
            .timeout(ANSWER_WITHIN);
        self.runtime.block_on(async {
            let response = request.send().await.map_err(unreachable)?;
            checked(response).await.map(drop)
        })
    }

    /// The image `reference` names, `None` when the engine has none.
    pub(crate) fn inspect(&self, reference: &str) -> Result<Option<Inspect>, Failure> {
        let request = self
            .http
            .get(format!("{}/images/{reference}/json", self.base));
        self.runtime.block_on(async {
            let response = request.send().await.map_err(unreachable)?;
            let response = match checked(response).await {
                Err(Failure::Refused { status: 404, .. }) => return Ok(None),
                other => other?,
            };
            let bytes = capped(response, MAX_INSPECT_BYTES).await?;
            serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Failure::Unreachable(format!("the engine's description of the image: {e}"))
            })
        })
    }

    /// `docker save` of `reference` as it arrives. `platform` (`os/arch[/variant]`)
    /// picks from a multi-platform image where the engine can (dockerd with the
    /// containerd image store, API 1.48); others ignore it.
    pub(crate) fn export(
        &self,
        reference: &str,
        platform: Option<&str>,
    ) -> Result<Box<dyn Read + Send>, Failure> {
        let mut url = format!("{}/images/{reference}/get", self.base);
        if let Some(platform) = platform {
            url.push_str("?platform=");
            url.push_str(&query_value(&platform_json(platform)));
        }
        let request = self.http.get(url);
        let response = self.runtime.block_on(async {
            let response = request.send().await.map_err(unreachable)?;
            checked(response).await
        })?;
        let (sender, mut chunks) =
            tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(CHUNKS_AHEAD);
        self.runtime.spawn(async move {
            let mut response = response;
            loop {
                let next = match response.chunk().await {
                    Ok(Some(chunk)) => Ok(chunk),
                    Ok(None) => return,
                    Err(e) => Err(std::io::Error::other(format!(
                        "the engine's export broke off: {e}"
                    ))),
                };
                let failed = next.is_err();
                if sender.send(next).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(Box::new(Body {
            reader: ChunkReader::new(move || chunks.blocking_recv()),
            _runtime: self.runtime.clone(),
        }))
    }
}

/// The export's bytes; holds the runtime that receives them until it is dropped.
struct Body<Next> {
    reader: ChunkReader<Bytes, Next>,
    _runtime: Arc<tokio::runtime::Runtime>,
}

impl<Next: FnMut() -> Option<std::io::Result<Bytes>>> Read for Body<Next> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf)
    }
}

fn unreachable(e: reqwest::Error) -> Failure {
    // reqwest's own message is "error sending request"; the innermost cause
    // says what happened ("No such file or directory", "Connection refused").
    let mut why = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        why = cause.to_string();
        source = cause.source();
    }
    Failure::Unreachable(why)
}

/// The response when its status is a success; else the engine's `message`.
async fn checked(response: reqwest::Response) -> Result<reqwest::Response, Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let bytes = capped(response, MAX_ERROR_BYTES).await.unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).trim().to_string());
    Err(Failure::Refused {
        status: status.as_u16(),
        message,
    })
}

/// The body whole, or the first `limit` bytes of it for an error's message;
/// a document over `limit` is refused.
async fn capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > limit {
            return Err(Failure::Unreachable(format!(
                "the engine's answer is larger than {limit} bytes"
            )));
        }
    }
    Ok(bytes)
}

/// A client for `tcp://` with TLS: the engine's certificate checked against
/// `ca.pem` alone, and `cert.pem` with `key.pem` as the client's when present.
fn tls(
    builder: reqwest::ClientBuilder,
    dir: &std::path::Path,
) -> Result<reqwest::ClientBuilder, Failure> {
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .map_err(|e| Failure::Unreachable(format!("{}: {e}", dir.join(name).display())))
    };
    let bad = |name: &str, e: reqwest::Error| {
        Failure::Unreachable(format!("{}: {e}", dir.join(name).display()))
    };
    let ca = reqwest::Certificate::from_pem(&read("ca.pem")?).map_err(|e| bad("ca.pem", e))?;
    let mut builder = builder.tls_certs_only([ca]);
    if dir.join("cert.pem").is_file() {
        let mut pem = read("cert.pem")?;
        pem.extend(read("key.pem")?);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| bad("cert.pem", e))?;
        builder = builder.identity(identity);
    }
    Ok(builder)
}

/// `linux/arm64/v8` as the JSON the API's `platform` parameter takes.
fn platform_json(platform: &str) -> String {
    let mut parts = platform.splitn(3, '/');
    let mut json = serde_json::json!({
        "os": parts.next().unwrap_or_default(),
        "architecture": parts.next().unwrap_or_default(),
    });
    if let Some(variant) = parts.next() {
        json["variant"] = variant.into();
    }
    json.to_string()
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_goes_as_encoded_json() {
        let json: serde_json::Value =
            serde_json::from_str(&platform_json("linux/arm64/v8")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"})
        );
        assert_eq!(
            query_value(r#"{"os":"a b"}"#),
            "%7B%22os%22%3A%22a%20b%22%7D"
        );
    }
}
