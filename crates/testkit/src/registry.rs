//! A real OCI registry for tests: CNCF distribution 2.8 (Debian's `docker-registry`)
//! on a free loopback port, with storage in its own temporary directory.
//!
//! Code that pulls images and reads signatures from registries is tested against a
//! real registry, not a mock that agrees with whatever the client expects: images are
//! pushed with `skopeo` from layouts built with [`crate::image::ImageSpec`], cosign
//! signatures and bundles with `tests/fixtures/cosign/sign.py` (an implementation of
//! cosign's documented formats independent of gpubom). A small blocking HTTP client
//! here reads and writes the registry directly, with basic auth when it has any.
//!
//! `docker-registry`, `skopeo` and `htpasswd` come from
//! `apt-get install docker-registry skopeo apache2-utils`; when one is missing the
//! test is skipped through [`real::skip`] (a failure under `CI=true`).
//! The registry process is killed when the [`Registry`] is dropped, also when the
//! test panics.

use crate::real;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What [`Registry::get`] answers: (status, headers as sent, body).
pub type HttpResponse = (u16, Vec<(String, String)>, Vec<u8>);

/// An `Accept` header for every manifest type a registry may hold.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

/// How long a registry may take to answer its first request.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Free ports are found by binding port 0 and letting go; another process may take
/// the port before the registry binds it, so a start is tried this many times.
const PORT_ATTEMPTS: usize = 5;
/// A response header carrying a per-registry token, so readiness is answered by this
/// registry and not by another one that took the port.
const MARKER_HEADER: &str = "X-Gpubom-Testkit-Registry";
const INSTALL_HINT: &str = "apt-get install docker-registry skopeo apache2-utils";

/// A running `docker-registry serve` child, killed on drop.
pub struct Registry {
    child: Child,
    port: u16,
    credentials: Option<(String, String)>,
    /// Holds the config, the log and the storage; removed after the child is gone
    /// (fields drop after [`Drop::drop`] has killed it).
    dir: tempfile::TempDir,
}

impl Registry {
    /// An anonymous registry; `None` (after [`real::skip`]) when `docker-registry` or
    /// `skopeo` is not installed.
    pub fn start(test: &str) -> Option<Registry> {
        Self::start_inner(test, None)
    }

    /// A registry that wants HTTP basic auth as `user`:`password` (a bcrypt
    /// htpasswd file); `None` (after [`real::skip`]) when a tool is missing.
    pub fn start_with_auth(test: &str, user: &str, password: &str) -> Option<Registry> {
        Self::start_inner(test, Some((user, password)))
    }

    fn start_inner(test: &str, credentials: Option<(&str, &str)>) -> Option<Registry> {
        for tool in ["docker-registry", "skopeo"] {
            if let Err(e) = Command::new(tool).arg("--version").output() {
                real::skip(test, &format!("cannot run {tool}: {e} ({INSTALL_HINT})"));
                return None;
            }
        }
        let htpasswd = match credentials {
            None => None,
            Some((user, password)) => match htpasswd_line(user, password) {
                Ok(line) => Some(line),
                Err(why) => {
                    real::skip(test, &why);
                    return None;
                }
            },
        };
        for attempt in 1..=PORT_ATTEMPTS {
            let mut registry = Registry::spawn(credentials, htpasswd.as_deref());
            match registry.wait_ready() {
                Ok(()) => return Some(registry),
                Err(log) if attempt == PORT_ATTEMPTS => panic!(
                    "docker-registry found its port taken {PORT_ATTEMPTS} times; last log:\n{log}"
                ),
                Err(_) => continue,
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn spawn(credentials: Option<(&str, &str)>, htpasswd: Option<&str>) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("gpubom-registry-")
            .tempdir()
            .expect("registry temp dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("find a free port")
            .port();
        // Paths as JSON strings, which YAML reads as the same strings.
        let quoted = |p: PathBuf| serde_json::to_string(&p).expect("path as JSON");
        let auth = match htpasswd {
            Some(line) => {
                let path = dir.path().join("htpasswd");
                std::fs::write(&path, line).expect("write htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: gpubom-test\n    path: {}\n",
                    quoted(path)
                )
            }
            None => String::new(),
        };
        let config = format!(
            "version: 0.1\n\
             log:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n\
             {auth}\
             http:\n  addr: 127.0.0.1:{port}\n  headers:\n    {MARKER_HEADER}: [{marker}]\n",
            storage = quoted(dir.path().join("storage")),
            marker = marker(dir.path()),
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("registry log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        Registry {
            child,
            port,
            credentials: credentials.map(|(u, p)| (u.to_string(), p.to_string())),
            dir,
        }
    }

    /// Waits for this registry to answer `GET /v2/`; `Err(log)` when it exited because
    /// its port was taken. Panics with the log on any other failure.
    fn wait_ready(&mut self) -> Result<(), String> {
        let want = if self.credentials.is_some() { 401 } else { 200 };
        let marker = marker(self.dir.path());
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll docker-registry") {
                let log = self.log();
                if log.contains("address already in use") {
                    return Err(log);
                }
                panic!("docker-registry exited ({status}) before it answered:\n{log}");
            }
            if let Ok((status, headers, _)) = self.send("GET", "/v2/", &[], &[], None) {
                if status == want && header(&headers, MARKER_HEADER) == Some(marker.as_str()) {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "docker-registry did not answer GET /v2/ with {want} within {READY_TIMEOUT:?}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the registry wrote to its log (errors only).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The registry's storage root (`rootdirectory` of its config), for tests that
    /// damage what it stores.
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The file that holds blob `digest` (`sha256:<hex>`) in [`Registry::storage`].
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The registry process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT/<repo_and_tag>`, e.g. for `reference("gpu/app:v1")`.
    pub fn reference(&self, repo_and_tag: &str) -> String {
        format!("{}/{repo_and_tag}", self.host())
    }

    /// Pushes the image of an OCI layout directory as `repo:tag` with skopeo; a
    /// multi-platform layout is pushed whole (`--all`: without it skopeo pushes only
    /// the host's platform). `--preserve-digests` keeps the manifest byte for byte:
    /// without it skopeo compresses uncompressed layers and the pushed digest
    /// differs from the layout's.
    pub fn push_oci_layout(&self, layout_dir: &Path, repo_tag: &str) {
        let layout = layout_dir.to_str().expect("UTF-8 layout path");
        assert!(
            !layout.contains(':'),
            "skopeo's oci: transport splits at ':'"
        );
        let mut skopeo = Command::new("skopeo");
        // --insecure-policy: the host's /etc/containers/policy.json is not the test's business.
        skopeo.args([
            "--insecure-policy",
            "copy",
            "--quiet",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
        ]);
        if let Some((user, password)) = &self.credentials {
            skopeo.arg(format!("--dest-creds={user}:{password}"));
        }
        let out = skopeo
            .arg(format!("oci:{layout}"))
            .arg(format!("docker://{}", self.reference(repo_tag)))
            .output()
            .expect("run skopeo");
        assert!(
            out.status.success(),
            "skopeo copy to {repo_tag} failed: {}\nregistry log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// The digest of the manifest `repo:tag` (or `repo@digest`) names: the sha256 of the
    /// bytes served, checked against the registry's `Docker-Content-Digest`.
    pub fn manifest_digest(&self, repo_tag: &str) -> String {
        let (repo, reference) = repo_tag
            .split_once('@')
            .or_else(|| repo_tag.rsplit_once(':'))
            .expect("repo:tag or repo@digest");
        let path = format!("/v2/{repo}/manifests/{reference}");
        let (status, headers, body) = self.get(&path, MANIFEST_ACCEPT);
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        let digest = sha256_digest(&body);
        assert_eq!(
            header(&headers, "Docker-Content-Digest"),
            Some(digest.as_str()),
            "the registry's digest for {repo_tag} is not that of the bytes it served"
        );
        digest
    }

    /// `GET path`, asserting 200; the body.
    pub fn get_ok(&self, path: &str, accept: &str) -> Vec<u8> {
        let (status, _, body) = self.get(path, accept);
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        body
    }

    /// `GET path` with this registry's credentials, if it has any.
    pub fn get(&self, path: &str, accept: &str) -> HttpResponse {
        let credentials = self
            .credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()));
        self.get_as(path, accept, credentials)
    }

    /// `GET path` as `credentials` (`None`: anonymously), e.g. to see a refusal.
    pub fn get_as(
        &self,
        path: &str,
        accept: &str,
        credentials: Option<(&str, &str)>,
    ) -> HttpResponse {
        self.send("GET", path, &[("Accept", accept)], &[], credentials)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Pushes a manifest as `repo:reference` (a tag or its digest); returns its digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let path = format!("/v2/{repo}/manifests/{reference}");
        let headers = self.expect(201, "PUT", &path, &[("Content-Type", media_type)], bytes);
        header(&headers, "Docker-Content-Digest")
            .expect("Docker-Content-Digest")
            .to_string()
    }

    /// Uploads a blob to `repo` in one piece (POST, then PUT with the digest); returns
    /// its digest.
    pub fn put_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256_digest(bytes);
        let started = self.expect(202, "POST", &format!("/v2/{repo}/blobs/uploads/"), &[], &[]);
        let location = header(&started, "Location").expect("upload Location");
        let separator = if location.contains('?') { '&' } else { '?' };
        let content_type = [("Content-Type", "application/octet-stream")];
        let finish = format!("{location}{separator}digest={digest}");
        self.expect(201, "PUT", &finish, &content_type, bytes);
        digest
    }

    /// Arguments naming an image pushed here for `sign.py sign` and `sign.py bundle`
    /// (see [`cosign_sign_py`]): `--registry`, `--repo`, `--digest`, and the
    /// credentials when the registry has them.
    pub fn sign_py_args(&self, repo: &str, digest: &str) -> Vec<String> {
        let mut args = vec![
            "--registry".to_string(),
            self.host(),
            "--repo".to_string(),
            repo.to_string(),
            "--digest".to_string(),
            digest.to_string(),
        ];
        if let Some((user, password)) = &self.credentials {
            args.extend([
                "--user".into(),
                user.clone(),
                "--password".into(),
                password.clone(),
            ]);
        }
        args
    }

    /// Sends a request with this registry's credentials; panics unless it answers `want`.
    fn expect(
        &self,
        want: u16,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Vec<(String, String)> {
        let credentials = self
            .credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()));
        let (status, response_headers, response) = self
            .send(method, target, headers, body, credentials)
            .unwrap_or_else(|e| panic!("{method} {target}: {e}"));
        assert_eq!(
            status,
            want,
            "{method} {target}: {}",
            String::from_utf8_lossy(&response)
        );
        response_headers
    }

    /// One HTTP/1.1 exchange on a fresh connection (`Connection: close`). `target` is a
    /// path, or an absolute URL on this registry as `Location` headers give them.
    fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        credentials: Option<(&str, &str)>,
    ) -> std::io::Result<HttpResponse> {
        let host = self.host();
        let path = target
            .strip_prefix(&format!("http://{host}"))
            .unwrap_or(target);
        assert!(path.starts_with('/'), "not a URL on {host}: {target}");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some((user, password)) = credentials {
            let token = base64::encode(format!("{user}:{password}").as_bytes());
            request.push_str(&format!("Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        let mut stream = TcpStream::connect(&host)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(request.as_bytes())?;
        stream.write_all(body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        parse_response(&raw, method == "HEAD")
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `python3 tests/fixtures/cosign/sign.py` with `cryptography` importable; add the
/// subcommand and its arguments. `None` (after [`real::skip`]) when pip cannot
/// install it.
pub fn cosign_sign_py(test: &str) -> Option<Command> {
    match real::python_with(&["cryptography==44.0.0"]) {
        Ok(mut python) => {
            python.arg(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cosign/sign.py"),
            );
            Some(python)
        }
        Err(why) => {
            real::skip(test, &why);
            None
        }
    }
}

/// Runs `sign.py ARGS`; its stdout, trimmed (a manifest digest for `sign` and
/// `bundle`). `None` (skipped) when `cryptography` cannot be had.
pub fn sign_py(test: &str, args: &[String]) -> Option<String> {
    let out = cosign_sign_py(test)?
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "sign.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

/// `sign.py keygen PREFIX`: (`PREFIX.key`, `PREFIX.pub`).
pub fn cosign_keygen(test: &str, prefix: &Path) -> Option<(PathBuf, PathBuf)> {
    sign_py(test, &["keygen".into(), prefix.display().to_string()])?;
    Some((prefix.with_extension("key"), prefix.with_extension("pub")))
}

/// The first value of header `name` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A token unique to one registry: its temporary directory's name.
fn marker(dir: &Path) -> String {
    dir.file_name()
        .expect("temp dir name")
        .to_string_lossy()
        .into_owned()
}

/// The htpasswd line for `user`, bcrypt-hashed by `htpasswd -Bbn`.
fn htpasswd_line(user: &str, password: &str) -> Result<String, String> {
    let out = Command::new("htpasswd")
        .args(["-Bbn", user, password])
        .output()
        .map_err(|e| format!("cannot run htpasswd: {e} ({INSTALL_HINT})"))?;
    if !out.status.success() {
        return Err(format!(
            "htpasswd -Bbn failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("htpasswd output: {e}"))
}

/// Splits a whole HTTP/1.1 response read to the connection's end into status,
/// headers and body (de-chunked; empty for a `HEAD`).
fn parse_response(raw: &[u8], head: bool) -> Result<HttpResponse, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head_text = std::str::from_utf8(&raw[..split]).map_err(|e| e.to_string())?;
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let body = if head {
        Vec::new()
    } else if header(&headers, "Transfer-Encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest)?
    } else if let Some(length) = header(&headers, "Content-Length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        rest.get(..length)
            .ok_or("body shorter than Content-Length")?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, headers, body))
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("unterminated chunk size")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|e| e.to_string())?;
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest
            .get(line_end + 2..line_end + 2 + size)
            .ok_or("chunk shorter than its size")?;
        body.extend_from_slice(chunk);
        rest = rest
            .get(line_end + 2 + size + 2..)
            .ok_or("chunk without CRLF")?;
    }
}

/// Standard base64 with padding: basic-auth headers, docker `auth` entries, PEM bodies.
pub mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for group in bytes.chunks(3) {
            let n = group
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..4 {
                out.push(match i <= group.len() {
                    true => ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char,
                    false => '=',
                });
            }
        }
        out
    }

    /// Panics on a byte outside the alphabet (whitespace and padding are skipped).
    pub fn decode(text: &str) -> Vec<u8> {
        let sextets: Vec<u32> = text
            .bytes()
            .filter(|&b| b != b'=' && !b.is_ascii_whitespace())
            .map(|b| {
                ALPHABET
                    .iter()
                    .position(|&a| a == b)
                    .unwrap_or_else(|| panic!("not base64: {text}")) as u32
            })
            .collect();
        let mut out = Vec::new();
        for group in sextets.chunks(4) {
            let n = group
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, s)| n | (s << (18 - 6 * i)));
            for i in 0..group.len() - 1 {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64::encode(plain.as_bytes()), encoded);
            assert_eq!(base64::decode(encoded), plain.as_bytes());
        }
    }

    #[test]
    fn responses_are_split_by_length_or_chunks() {
        let sized = b"HTTP/1.1 201 Created\r\nDocker-Content-Digest: sha256:ab\r\nContent-Length: 3\r\n\r\nabcjunk";
        let (status, headers, body) = parse_response(sized, false).unwrap();
        assert_eq!(status, 201);
        assert_eq!(header(&headers, "docker-content-digest"), Some("sha256:ab"));
        assert_eq!(body, b"abc");

        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA;x=y\r\n0123456789\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked, false).unwrap().2, b"abc0123456789");

        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n";
        assert_eq!(parse_response(head, true).unwrap().2, b"");
        assert!(parse_response(head, false).is_err());
    }
}
