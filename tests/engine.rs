//! `docker:` and `podman:` sources against a real engine: podman, with the
//! demo image and a small test image loaded (`podman load`) into a store of
//! the test's own, serving the Docker Engine API on a unix socket in the
//! test's temporary directory. Podman's API is the Docker Engine API, so the
//! same client serves dockerd; `DOCKER_HOST` points `docker:` at podman here.
//!
//! The engine's export must scan to the same components as the OCI layout of
//! the same image, `check` must fail the demo as it fails the archive, and an
//! image that is not there or an engine that does not answer is one error
//! line with exit 2.

mod common;

use common::*;
use gpubom_testkit::podman::Podman;
use std::path::Path;
use std::process::Output;

const DEMO: &str = "example.com/gpubom/demo:1.0";

/// Podman with the demo image loaded from its docker-archive form, and the
/// demo's OCI layout beside it; `None` when podman or a fixture cannot be had.
fn demo_in_podman(test: &str, dir: &Path) -> Option<(Podman, String)> {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-models");
    let spec = or_skip(test, gpubom_testkit::demo::build(models.to_str()))?;
    let podman = Podman::start(test)?;
    // Podman 4 exports no image with zstd layers as a docker-archive ("zstd
    // compression is not supported for docker images"), so the demo goes in
    // the way `docker save` wrote it; the OCI layout keeps its compression.
    let archive = dir.join("demo.docker.tar");
    spec.write_docker_archive(&archive, gpubom_testkit::image::DockerForm::Blobs);
    podman.load(&archive);
    let layout = dir.join("demo-oci");
    spec.write_oci_dir(&layout);
    Some((podman, format!("oci-dir:{}", layout.display())))
}

fn run_against(podman: &Podman, args: &[&str]) -> Output {
    gpubom()
        .args(args)
        .env("DOCKER_HOST", podman.host())
        .env_remove("DOCKER_CONTEXT")
        .output()
        .expect("run gpubom")
}

fn source_kind(bom: &serde_json::Value) -> &str {
    bom["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "gpubom:source:kind")
        .and_then(|p| p["value"].as_str())
        .unwrap()
}

fn bom_of(out: &Output) -> serde_json::Value {
    assert_exit(out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn docker_source_scans_to_what_the_oci_layout_scans_to() {
    let test = "docker_source_scans_to_what_the_oci_layout_scans_to";
    let dir = tmp();
    let Some((podman, layout)) = demo_in_podman(test, dir.path()) else {
        return;
    };
    let expected = scan_json(&layout);
    let out = run_against(&podman, &["scan", &format!("docker:{DEMO}")]);
    let bom = bom_of(&out);
    assert_eq!(component_set(&bom), component_set(&expected));
    assert!(component_set(&bom).len() > 5, "{bom}");
    assert_eq!(source_kind(&bom), "docker");
    validate_cyclonedx(&bom);

    // Off a terminal, one progress line per layer, each with its digest, size and time.
    let err = stderr(&out);
    let progress: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("gpubom: layer "))
        .collect();
    assert_eq!(progress.len(), 4, "{err}");
    assert!(
        progress
            .iter()
            .all(|l| l.contains(" sha256:") && l.ends_with(" s")),
        "{err}"
    );

    // --platform goes to the engine, and what comes back is checked against it.
    let arm = run_against(
        &podman,
        &[
            "scan",
            &format!("docker:{DEMO}"),
            "--platform",
            "linux/arm64",
        ],
    );
    assert_exit(&arm, 2);
    assert!(
        stderr(&arm).contains("no image for platform linux/arm64"),
        "{}",
        stderr(&arm)
    );

    // By image ID and by digest too, and through CONTAINER_HOST as podman:.
    let id = podman.image_id(DEMO);
    let short = &id[..12];
    let by_id = bom_of(&run_against(&podman, &["scan", &format!("docker:{short}")]));
    assert_eq!(component_set(&by_id), component_set(&expected));
    let digest = podman.image_digest(DEMO);
    let name = DEMO.rsplit_once(':').unwrap().0;
    let by_digest = format!("docker:{name}@{digest}");
    let by_digest = bom_of(&run_against(&podman, &["scan", &by_digest]));
    assert_eq!(component_set(&by_digest), component_set(&expected));
    let out = gpubom()
        .args(["scan", &format!("podman:{DEMO}"), "-q"])
        .env("CONTAINER_HOST", podman.host())
        .output()
        .unwrap();
    assert!(out.stderr.is_empty(), "-q is silent: {}", stderr(&out));
    let by_podman = bom_of(&out);
    assert_eq!(source_kind(&by_podman), "podman");
    assert_eq!(component_set(&by_podman), component_set(&expected));
}

#[test]
fn check_of_the_engines_image_fails_as_the_archive_does() {
    let test = "check_of_the_engines_image_fails_as_the_archive_does";
    let dir = tmp();
    let Some((podman, layout)) = demo_in_podman(test, dir.path()) else {
        return;
    };
    let from_engine = run_against(
        &podman,
        &["check", &format!("docker:{DEMO}"), "-f", "json", "-q"],
    );
    assert_exit(&from_engine, 1);
    let from_layout = run(&["check", &layout, "-f", "json", "-q"]);
    assert_exit(&from_layout, 1);
    let rules = |out: &Output| {
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut rules: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .filter(|rule| !rule.starts_with("image-signature"))
            .collect();
        rules.sort();
        rules
    };
    assert_eq!(rules(&from_engine), rules(&from_layout));
    assert!(rules(&from_engine).contains(&"image-runs-as-root".to_string()));
}

#[test]
fn a_bare_reference_is_read_from_the_engine_that_holds_it() {
    let test = "a_bare_reference_is_read_from_the_engine_that_holds_it";
    let Some(podman) = Podman::start(test) else {
        return;
    };
    let dir = tmp();
    let spec = small_image(gpubom_testkit::image::Compression::Gzip);
    let archive = dir.path().join("small.tar");
    spec.write_docker_archive(&archive, gpubom_testkit::image::DockerForm::Legacy);
    podman.load(&archive);
    // No registry host: looked up in the engine first, where it is.
    let bom = bom_of(&run_against(&podman, &["scan", "synthetic/small:1", "-q"]));
    assert_eq!(source_kind(&bom), "docker");
    assert_eq!(
        names_versions(&bom, "pkg:pypi/"),
        vec!["synthetic-pkg@1.0".to_string()]
    );
}

#[test]
fn a_missing_image_and_a_stopped_engine_are_one_error_line_each() {
    let test = "a_missing_image_and_a_stopped_engine_are_one_error_line_each";
    let Some(mut podman) = Podman::start(test) else {
        return;
    };
    let missing = run_against(&podman, &["scan", "docker:nothing/here:1"]);
    assert_one_error_line(&missing, "docker has no image nothing/here:1");
    assert!(stderr(&missing).contains("build or pull it first"));

    podman.stop();
    let stopped = run_against(&podman, &["check", "docker:nothing/here:1"]);
    assert_one_error_line(&stopped, "docker: no engine answers at unix://");
    let nowhere = gpubom()
        .args(["scan", "podman:app:dev"])
        .env("CONTAINER_HOST", podman.host())
        .output()
        .unwrap();
    assert_one_error_line(&nowhere, "podman: no engine answers");
    assert!(stderr(&nowhere).contains("podman system service"));
}

/// Podman loads every archive testkit writes: real images never repeat a path
/// in a layer, and podman refuses one that does ("duplicates of file paths
/// not supported"), as it refused the demo before its two NVIDIA wheels'
/// shared `nvidia/__init__.py` was written once.
#[test]
fn podman_loads_the_demo_and_the_test_images_in_each_form() {
    let test = "podman_loads_the_demo_and_the_test_images_in_each_form";
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-models");
    let Some(demo) = or_skip(test, gpubom_testkit::demo::build(models.to_str())) else {
        return;
    };
    let Some(podman) = Podman::start(test) else {
        return;
    };
    let dir = tmp();
    let small = small_image(gpubom_testkit::image::Compression::Zstd);
    for (name, spec) in [("demo", &demo), ("small", &small)] {
        let archive = dir.path().join(format!("{name}.oci.tar"));
        spec.write_oci_archive(&archive);
        podman.load(&archive);
        for form in [
            gpubom_testkit::image::DockerForm::Legacy,
            gpubom_testkit::image::DockerForm::Blobs,
        ] {
            let archive = dir.path().join(format!("{name}.{form:?}.tar"));
            spec.write_docker_archive(&archive, form);
            podman.load(&archive);
        }
    }
}

/// scripts/pre-push as git runs it, in `repo`, against `podman` as the engine.
fn pre_push(podman: &Podman, repo: &Path) -> Output {
    use std::io::Write;
    let mut child = std::process::Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pre-push"))
        .args(["origin", "https://example.com/synthetic.git"])
        .current_dir(repo)
        .env("GPUBOM_BIN", env!("CARGO_BIN_EXE_gpubom"))
        .env("DOCKER_HOST", podman.host())
        .env("GPUBOM_NO_CACHE", "1")
        .env_remove("GPUBOM_IMAGE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let refs = format!(
        "refs/heads/main {} refs/heads/main {}\n",
        "1".repeat(40),
        "0".repeat(40)
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(refs.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_pre_push_hook_checks_the_local_images_and_refuses_a_missing_one() {
    let test = "the_pre_push_hook_checks_the_local_images_and_refuses_a_missing_one";
    let dir = tmp();
    let Some((podman, _)) = demo_in_podman(test, dir.path()) else {
        return;
    };
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&repo)
        .status()
        .unwrap();
    assert!(git.success());
    let config = repo.join(".gpubom.toml");

    std::fs::write(&config, format!("[local]\nimages = [\"{DEMO}\"]\n")).unwrap();
    let out = pre_push(&podman, &repo);
    assert_exit(&out, 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("exposes SSH (22)"));
    assert!(stderr(&out).contains("fails the gate"), "{}", stderr(&out));

    // Named but not in the engine: the push is refused, whatever the other images do.
    std::fs::write(
        &config,
        format!("[local]\nimages = [\"{DEMO}\", \"nothing/here:1\"]\n"),
    )
    .unwrap();
    let out = pre_push(&podman, &repo);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("docker has no image nothing/here:1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn docker_push_checked_pushes_only_what_passes() {
    let test = "docker_push_checked_pushes_only_what_passes";
    let dir = tmp();
    let Some((podman, _)) = demo_in_podman(test, dir.path()) else {
        return;
    };
    // The engine's CLI as the script runs it: podman on the test's store, with
    // `push` written to a log instead of sent anywhere.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.path().join("pushed.log");
    let stub = format!(
        "#!/bin/sh\nif [ \"$1\" = push ]; then echo \"$@\" >>'{}'; exit 0; fi\nexec podman {} \"$@\"\n",
        log.display(),
        podman.options().join(" ")
    );
    std::fs::write(bin.join("docker"), stub).unwrap();
    std::process::Command::new("chmod")
        .args(["+x", &bin.join("docker").display().to_string()])
        .status()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let push_checked = |flags: &[&str]| {
        std::process::Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/docker-push-checked"))
            .args(flags)
            .arg(DEMO)
            .env("PATH", &path)
            .env("GPUBOM_BIN", env!("CARGO_BIN_EXE_gpubom"))
            .env("DOCKER_HOST", podman.host())
            .env("GPUBOM_NO_CACHE", "1")
            .output()
            .unwrap()
    };

    let out = push_checked(&["-q"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("fails the gate; not pushed"),
        "{}",
        stderr(&out)
    );
    assert!(!log.exists(), "pushed a failing image");

    let out = push_checked(&["-q", "--fail-on", "none"]);
    assert_exit(&out, 0);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("push {DEMO}\n")
    );
}

/// A certificate authority, a server certificate for 127.0.0.1 and a client certificate,
/// made by the openssl CLI: the files dockerd's `--tlsverify` and its clients use
/// (`ca.pem`, `cert.pem`, `key.pem` in `DOCKER_CERT_PATH`; the server's beside them).
fn engine_certificates(dir: &Path) -> Result<(), String> {
    let openssl = |args: &[&str]| -> Result<(), String> {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot run openssl: {e}"))?;
        match out.status.success() {
            true => Ok(()),
            false => Err(format!("openssl {args:?}: {}", stderr(&out))),
        }
    };
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca = [
        "req",
        "-x509",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "2",
    ];
    openssl(&[&ca[..], &key, &["-subj", "/CN=synthetic engine CA"]].concat())?;
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=client")] {
        let (private, csr) = (format!("{name}-key.pem"), format!("{name}.csr"));
        let request = ["req", "-keyout", &private, "-out", &csr, "-subj", subject];
        openssl(&[&request[..], &key].concat())?;
        let (signed, ext) = (format!("{name}.pem"), format!("{name}.ext"));
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &signed,
        ])?;
    }
    std::fs::rename(dir.join("client.pem"), dir.join("cert.pem")).map_err(|e| e.to_string())?;
    std::fs::rename(dir.join("client-key.pem"), dir.join("key.pem")).map_err(|e| e.to_string())
}

/// socat in front of podman's socket on 127.0.0.1, speaking TLS and asking for a client
/// certificate signed by `certs/ca.pem`, as dockerd with `--tlsverify` does; killed on drop.
struct TlsFront(std::process::Child, u16);

impl TlsFront {
    fn start(podman: &Podman, certs: &Path) -> Result<TlsFront, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let cert = |name: &str| certs.join(name).display().to_string();
        let listen = format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},cafile={},verify=1",
            cert("server.pem"),
            cert("server-key.pem"),
            cert("ca.pem"),
        );
        let connect = format!("UNIX-CONNECT:{}", podman.socket().display());
        let child = std::process::Command::new("socat")
            .args([listen, connect])
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run socat (Debian's socat package): {e}"))?;
        let front = TlsFront(child, port);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline {
                return Err("socat did not listen within 10 s".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(front)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `DOCKER_HOST=tcp://…` with `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`, as a remote
/// dockerd is reached: the engine's certificate is checked against `ca.pem` and gpubom
/// shows its own. The same image comes back as through the socket; a CA that did not
/// sign the engine's certificate is one error line, and no plain-HTTP fallback.
#[test]
fn an_engine_over_tcp_with_tls_is_reached_with_docker_cert_path() {
    let test = "an_engine_over_tcp_with_tls_is_reached_with_docker_cert_path";
    let dir = tmp();
    let Some((podman, layout)) = demo_in_podman(test, dir.path()) else {
        return;
    };
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    let Some(()) = or_skip(test, engine_certificates(&certs)) else {
        return;
    };
    let Some(front) = or_skip(test, TlsFront::start(&podman, &certs)) else {
        return;
    };
    let over_tls = |cert_path: &Path| {
        gpubom()
            .args(["scan", &format!("docker:{DEMO}"), "-q"])
            .env("DOCKER_HOST", format!("tcp://127.0.0.1:{}", front.1))
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", cert_path)
            .env_remove("DOCKER_CONTEXT")
            .output()
            .unwrap()
    };
    let bom = bom_of(&over_tls(&certs));
    assert_eq!(component_set(&bom), component_set(&scan_json(&layout)));
    assert_eq!(source_kind(&bom), "docker");

    // Another CA: the engine's certificate is not trusted, and nothing is read.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    engine_certificates(&other).unwrap();
    assert_one_error_line(&over_tls(&other), "(TLS) (invalid peer certificate");
}
