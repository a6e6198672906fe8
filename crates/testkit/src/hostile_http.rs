//! A synthetic HTTP server on loopback that answers as a test scripts it, and records what
//! it was sent: a hostile registry, or the token service or storage it points clients at.
//!
//! The credential tests need a server that misbehaves on purpose (a registry that asks
//! for basic auth whatever the repository, a realm on another host, a redirect to
//! another host), which a real registry never does; so do the resource tests (a body
//! that never ends, or arrives a byte a second). It speaks just enough HTTP/1.1 for
//! reqwest: one request per connection, answered with `Connection: close`. Each
//! request's method, path and `Authorization` header are kept, so a test can count the
//! requests that carried credentials, and the bytes of body sent are counted, so a test
//! can tell how much of an answer a client read. [`LayoutRegistry`] answers as a
//! registry holding an OCI layout, for tests that script only what differs from one.
//! The server stops when dropped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a connection may wait to be read from or written to, so that the thread of
/// a client that went away ends.
const IDLE: Duration = Duration::from_secs(10);
/// The size of each write of a streamed body.
const WRITE_CHUNK: usize = 64 << 10;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    pub authorization: Option<String>,
}

/// A response body, and how it is sent.
pub enum Body {
    /// Sent at once, its length declared.
    Whole(Vec<u8>),
    /// `pattern` over and over, no length declared, until the client hangs up.
    Endless(Vec<u8>),
    /// `pattern` repeated to `total` bytes, that length declared: a large body that
    /// is never held whole.
    Repeated { pattern: Vec<u8>, total: u64 },
    /// One byte per `every`, its length declared: a server that never stops sending
    /// and never finishes.
    Drip { bytes: Vec<u8>, every: Duration },
}

/// What the server sends back: status, headers, body.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Whole(Vec::new()),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn json(self, body: &serde_json::Value) -> Response {
        self.body(Body::Whole(body.to_string().into_bytes()))
            .header("Content-Type", "application/json")
    }

    pub fn body(mut self, body: Body) -> Response {
        self.body = body;
        self
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A running server; stopped when dropped.
pub struct Server {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    sent: Arc<AtomicU64>,
    stopping: Arc<AtomicBool>,
}

impl Server {
    /// Listens on a free port of 127.0.0.1 and answers every request with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = listener.local_addr().expect("its address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (seen, counted, stop) = (requests.clone(), sent.clone(), stopping.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (seen, counted, handler) = (seen.clone(), counted.clone(), handler.clone());
                std::thread::spawn(move || serve(stream, &seen, &counted, &*handler));
            }
        });
        Server {
            address,
            requests,
            sent,
            stopping,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.address.to_string()
    }

    /// Bytes of response bodies written so far, on every connection: what clients
    /// read, give or take what the kernel buffered for them.
    pub fn body_bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Every request so far, in the order they arrived.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("request log").clone()
    }

    /// How many requests carried an `Authorization` header.
    pub fn authorized(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.authorization.is_some())
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// Reads one request, records it and answers it. A connection that says nothing is
/// dropped.
fn serve(stream: TcpStream, seen: &Mutex<Vec<Request>>, sent: &AtomicU64, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(IDLE));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    let (mut authorization, mut length) = (None, 0usize);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim().to_string();
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value);
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let request = Request {
        method,
        path,
        authorization,
    };
    seen.lock().expect("request log").push(request.clone());
    let response = handler(&request);
    let declared = match &response.body {
        Body::Whole(bytes) | Body::Drip { bytes, .. } => Some(bytes.len() as u64),
        Body::Repeated { total, .. } => Some(*total),
        Body::Endless(_) => None,
    };
    let mut head = format!(
        "HTTP/1.1 {} Synthetic\r\nConnection: close\r\n",
        response.status
    );
    if let Some(length) = declared {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    if stream.write_all(head.as_bytes()).is_ok() {
        let _ = send_body(&mut stream, response.body, sent);
    }
}

/// Writes `body` as its kind says, counting the bytes written, until done or the
/// client hangs up.
fn send_body(stream: &mut TcpStream, body: Body, sent: &AtomicU64) -> std::io::Result<()> {
    let mut write = |bytes: &[u8]| -> std::io::Result<()> {
        stream.write_all(bytes)?;
        sent.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        Ok(())
    };
    match body {
        Body::Whole(bytes) => write(&bytes),
        Body::Endless(pattern) => {
            let chunk = repeat_to(&pattern, WRITE_CHUNK as u64);
            loop {
                write(&chunk)?;
            }
        }
        Body::Repeated { pattern, total } => {
            let chunk = repeat_to(&pattern, WRITE_CHUNK as u64);
            let mut left = total;
            while left > 0 {
                let n = left.min(chunk.len() as u64);
                write(&chunk[..n as usize])?;
                left -= n;
            }
            Ok(())
        }
        Body::Drip { bytes, every } => {
            for byte in bytes {
                write(&[byte])?;
                std::thread::sleep(every);
            }
            Ok(())
        }
    }
}

/// `pattern` repeated to at least `len` bytes, whole repetitions, so that a body
/// written chunk by chunk reads as the pattern over and over.
fn repeat_to(pattern: &[u8], len: u64) -> Vec<u8> {
    assert!(!pattern.is_empty(), "an empty pattern repeats to nothing");
    let times = (len as usize).div_ceil(pattern.len());
    pattern.repeat(times)
}

/// Answers as a registry that holds one OCI layout's image under a repository and a
/// tag: `/v2/`, the image's manifest by tag or digest, and every blob of the layout.
/// Referrers are not listed (404, as a registry without the API answers).
pub struct LayoutRegistry {
    repository: String,
    tag: String,
    manifest_digest: String,
    media_type: String,
    blobs: HashMap<String, Vec<u8>>,
}

impl LayoutRegistry {
    /// The layout in `dir` (its `index.json`'s first manifest) as `repository:tag`.
    pub fn new(dir: &Path, repository: &str, tag: &str) -> LayoutRegistry {
        let index: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.join("index.json")).expect("the layout's index.json"),
        )
        .expect("index.json is JSON");
        let top = &index["manifests"][0];
        let mut blobs = HashMap::new();
        for entry in std::fs::read_dir(dir.join("blobs/sha256")).expect("the layout's blobs") {
            let path = entry.expect("a blob").path();
            let hex = path.file_name().unwrap().to_string_lossy().into_owned();
            blobs.insert(
                format!("sha256:{hex}"),
                std::fs::read(&path).expect("a blob"),
            );
        }
        LayoutRegistry {
            repository: repository.to_string(),
            tag: tag.to_string(),
            manifest_digest: top["digest"].as_str().expect("a digest").to_string(),
            media_type: top["mediaType"].as_str().expect("a media type").to_string(),
            blobs,
        }
    }

    /// The digest of the image's manifest.
    pub fn manifest_digest(&self) -> &str {
        &self.manifest_digest
    }

    /// The bytes of blob `digest`, to alter before the registry serves them.
    pub fn blob_mut(&mut self, digest: &str) -> &mut Vec<u8> {
        self.blobs.get_mut(digest).expect("a blob of the layout")
    }

    /// The answer a registry holding the layout gives to `request`.
    pub fn answer(&self, request: &Request) -> Response {
        let not_found = |code: &str| {
            Response::new(404)
                .json(&serde_json::json!({"errors": [{"code": code, "message": "synthetic"}]}))
        };
        if request.path == "/v2/" {
            return Response::new(200).json(&serde_json::json!({}));
        }
        let prefix = format!("/v2/{}/", self.repository);
        let Some(rest) = request.path.strip_prefix(&prefix) else {
            return not_found("NAME_UNKNOWN");
        };
        if let Some(reference) = rest.strip_prefix("manifests/") {
            if reference != self.tag && reference != self.manifest_digest {
                return not_found("MANIFEST_UNKNOWN");
            }
            return Response::new(200)
                .body(Body::Whole(self.blobs[&self.manifest_digest].clone()))
                .header("Content-Type", &self.media_type)
                .header("Docker-Content-Digest", &self.manifest_digest);
        }
        if let Some(digest) = rest.strip_prefix("blobs/") {
            return match self.blobs.get(digest) {
                Some(bytes) => Response::new(200).body(Body::Whole(bytes.clone())),
                None => not_found("BLOB_UNKNOWN"),
            };
        }
        not_found("NOT_FOUND")
    }
}
