//! A real container engine for tests: podman (Debian's package), serving the
//! Docker Engine API on a unix socket in its own temporary directory.
//!
//! Each [`Podman`] has storage of its own (`--root`, `--runroot`, the `vfs`
//! driver, which needs no overlay mounts, so it runs in a CI container too),
//! so tests neither see nor change the machine's images and may run at once.
//! Images are put in with `podman load` of archives written by
//! [`crate::image::ImageSpec`]; `podman system service` then serves them. The
//! service is killed when the [`Podman`] is dropped, also when the test panics.
//!
//! When `podman` is missing or cannot run here, the test is skipped through
//! [`real::skip`] (a failure under `CI=true`).

use crate::real;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the service may take to answer its first ping.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A podman store with its API service, killed on drop.
pub struct Podman {
    service: Option<Child>,
    /// Storage, the socket and the service's log; removed after the service is gone.
    dir: tempfile::TempDir,
}

impl Podman {
    /// An empty store with its service listening; `None` (after
    /// [`real::skip`]) when podman cannot run here.
    pub fn start(test: &str) -> Option<Podman> {
        if let Err(e) = Command::new("podman").arg("--version").output() {
            real::skip(
                test,
                &format!("cannot run podman: {e} (apt-get install podman)"),
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let mut podman = Podman { service: None, dir };
        if let Err(why) = podman.serve() {
            real::skip(test, &why);
            return None;
        }
        Some(podman)
    }

    /// The options that make `podman` use this store, for a script that runs it.
    pub fn options(&self) -> Vec<String> {
        let root = self.dir.path();
        vec![
            format!("--root={}", root.join("root").display()),
            format!("--runroot={}", root.join("runroot").display()),
            "--storage-driver=vfs".into(),
            "--cgroup-manager=cgroupfs".into(),
            "--events-backend=file".into(),
        ]
    }

    /// `podman` with this store's options.
    pub fn command(&self) -> Command {
        let mut command = Command::new("podman");
        command
            .args(self.options())
            .env("XDG_RUNTIME_DIR", self.dir.path().join("xdg"))
            .stdin(Stdio::null());
        command
    }

    /// The API's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("podman.sock")
    }

    /// `unix:///…/podman.sock`, for `DOCKER_HOST` or `CONTAINER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// `podman load -i archive`; panics with podman's message when it refuses.
    pub fn load(&self, archive: &Path) {
        let out = self
            .command()
            .args(["load", "-q", "-i"])
            .arg(archive)
            .output()
            .expect("podman load");
        assert!(
            out.status.success(),
            "podman load {}: {}",
            archive.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The image ID podman gives `reference`.
    pub fn image_id(&self, reference: &str) -> String {
        self.inspect(reference, "{{.Id}}")
    }

    /// The manifest digest podman keeps for `reference` (`sha256:…`), which names it as
    /// `NAME@DIGEST`.
    pub fn image_digest(&self, reference: &str) -> String {
        self.inspect(reference, "{{.Digest}}")
    }

    fn inspect(&self, reference: &str, format: &str) -> String {
        let out = self
            .command()
            .args(["image", "inspect", "--format", format, reference])
            .output()
            .expect("podman image inspect");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Stops the service: the socket then answers nothing, as a stopped engine's.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.service.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn serve(&mut self) -> Result<(), String> {
        std::fs::create_dir_all(self.dir.path().join("xdg")).expect("mkdir");
        let log = std::fs::File::create(self.dir.path().join("service.log")).expect("log");
        let child = self
            .command()
            .args(["system", "service", "--time=0", &self.host()])
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start podman system service: {e}"))?;
        self.service = Some(child);
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if ping(&self.socket()) {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.service.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(self.dir.path().join("service.log"));
                return Err(format!(
                    "podman system service exited ({status}): {}",
                    log.unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "podman system service did not answer within {READY_TIMEOUT:?}"
        ))
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether the socket answers `GET /_ping` with `OK`.
fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.take(64 << 10).read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 200") && answer.ends_with(b"OK")
}
