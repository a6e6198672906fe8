//! Shared fixtures for the end-to-end tests: images assembled in code from real
//! files (Debian packages vendored in tests/fixtures/debs, wheels from PyPI), and a runner
//! for the `gpubom` binary.

#![allow(dead_code)]

use gpubom_testkit::image::{Compression, ImageSpec, Layer};
use gpubom_testkit::real;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SITE: &str = "usr/local/lib/python3.11/site-packages";

/// Pinned real inputs, chosen small. Versions are the ones Debian 12 and PyPI serve.
pub const NVTX: (&str, &str) = ("nvidia-nvtx-cu12", "12.1.105");
pub const CUDART: (&str, &str) = ("nvidia-cuda-runtime-cu12", "12.1.105");

/// gpubom with its layer cache off: tests alter blobs after building them, and
/// a layer cached by another test must not stand in for the altered bytes.
/// (The cache has tests of its own, which turn it on.)
pub fn gpubom() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gpubom"));
    command.env("GPUBOM_NO_CACHE", "1");
    command
}

/// Where [`gpubom_at`] points DOCKER_CONFIG.
pub fn docker_config_dir(scratch: &Path) -> PathBuf {
    scratch.join("docker")
}

/// `gpubom` run in `scratch`, which is also its HOME and holds its DOCKER_CONFIG,
/// with no credentials in its environment.
pub fn gpubom_at(scratch: &Path) -> Command {
    let mut command = gpubom();
    command
        .current_dir(scratch)
        .env("HOME", scratch)
        .env("DOCKER_CONFIG", docker_config_dir(scratch))
        .env_remove("GPUBOM_REGISTRY_USERNAME")
        .env_remove("GPUBOM_REGISTRY_PASSWORD")
        .env_remove("GPUBOM_REGISTRY_HOST")
        .env_remove("COSIGN_PASSWORD");
    command
}

pub fn run(args: &[&str]) -> Output {
    gpubom().args(args).output().expect("run gpubom")
}

/// gpubom in `dir`: relative paths land there, and no `.gpubom.toml` around
/// the checkout is read.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    gpubom()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run gpubom")
}

/// Validates a SARIF file with Microsoft's SARIF validator (skipped, and
/// counted, when npm cannot fetch it).
pub fn validate_sarif(test: &str, sarif: &Path) {
    let multitool = match real::sarif_multitool() {
        Ok(m) => m,
        Err(why) => {
            real::skip(&format!("{test} (schema part)"), &why);
            return;
        }
    };
    let check = Command::new(multitool)
        .arg("validate")
        .arg(sarif)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(
        !report.contains(": error "),
        "SARIF does not validate:\n{report}"
    );
}

/// An OpenVEX document in `dir` stating `vulnerability` `not_affected` for `product`.
pub fn openvex_not_affected(
    dir: &Path,
    vulnerability: &str,
    product: &str,
    impact: &str,
) -> PathBuf {
    let path = dir.join(format!("vex-{vulnerability}.json"));
    std::fs::write(
        &path,
        serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [{
                "vulnerability": {"name": vulnerability},
                "products": [{"@id": product}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": impact
            }]
        })
        .to_string(),
    )
    .unwrap();
    path
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// gpubom's Markdown as it reads once rendered, for assertions on its text:
/// the backslash before each escaped character dropped. (Whether it renders
/// to nothing but text is tests/report_injection.rs's question.)
pub fn markdown_unescaped(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut chars = markdown.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && next.is_ascii_punctuation() => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// Scans `source` to CycloneDX JSON, asserting success.
pub fn scan_json(source: &str) -> serde_json::Value {
    let out = run(&["scan", source, "--format", "cyclonedx-json", "--quiet"]);
    assert!(
        out.status.success(),
        "scan {source} failed: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("scan output is JSON")
}

/// `(purl or name@version, first occurrence path)` of every component, sorted.
pub fn component_set(bom: &serde_json::Value) -> Vec<(String, String)> {
    let mut set: Vec<(String, String)> = bom["components"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let id = c["purl"].as_str().map(str::to_owned).unwrap_or_else(|| {
                format!(
                    "{}@{}",
                    c["name"].as_str().unwrap_or(""),
                    c["version"].as_str().unwrap_or("")
                )
            });
            let path = c["evidence"]["occurrences"][0]["location"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            (id, path)
        })
        .collect();
    set.sort();
    set
}

/// Components whose purl starts with `prefix`, as `name@version`.
pub fn names_versions(bom: &serde_json::Value, purl_prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = bom["components"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with(purl_prefix))
        })
        .map(|c| {
            format!(
                "{}@{}",
                c["name"].as_str().unwrap_or(""),
                c["version"].as_str().unwrap_or("")
            )
        })
        .collect();
    v.sort();
    v
}

/// The value of a component property.
pub fn property<'a>(component: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    component["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
}

pub fn find_component<'a>(bom: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    bom["components"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
}

/// A real Debian package: its control paragraph and files.
pub struct Deb {
    pub name: String,
    pub control: String,
    pub files: Vec<(String, Vec<u8>)>,
    pub symlinks: Vec<(String, String)>,
}

/// Real Debian packages from `tests/fixtures/debs/`. They are in the repository, so a
/// missing one is a broken checkout and fails the test everywhere.
pub fn debs(names: &[(&str, &str)]) -> Vec<Deb> {
    names
        .iter()
        .map(|(name, version)| {
            let contents = real::debian_package(name, version)
                .and_then(|path| real::deb_contents(&path))
                .unwrap_or_else(|why| panic!("vendored Debian package: {why}"));
            Deb {
                name: name.to_string(),
                control: contents.control,
                files: contents.files,
                symlinks: contents.symlinks,
            }
        })
        .collect()
}

/// A dpkg status database listing `debs` as installed.
pub fn status_db(debs: &[&Deb]) -> String {
    debs.iter()
        .map(|d| {
            let control = d.control.trim_end();
            // dpkg writes Status right after Package.
            let (first, rest) = control.split_once('\n').unwrap_or((control, ""));
            format!("{first}\nStatus: install ok installed\n{rest}\n")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A layer that installs `debs` the way dpkg does: files, `.list`, and the given status db.
pub fn dpkg_layer(installed: &[&Deb], all_installed: &[&Deb]) -> Layer {
    let mut layer = Layer::new();
    for deb in installed {
        let list: String = deb.files.iter().map(|(p, _)| format!("{p}\n")).collect();
        layer = layer.file(&format!("var/lib/dpkg/info/{}:amd64.list", deb.name), list);
        for (path, bytes) in &deb.files {
            layer = layer.file(path.trim_start_matches('/'), bytes.clone());
        }
        for (path, target) in &deb.symlinks {
            layer = layer.symlink(path.trim_start_matches('/'), target);
        }
    }
    layer.file("var/lib/dpkg/status", status_db(all_installed))
}

/// A layer that installs a real wheel into `site` the way pip does.
pub fn wheel_layer(site: &str, wheel: &(&str, &str)) -> Result<Layer, String> {
    let path = real::pypi_wheel(wheel.0, wheel.1)?;
    let mut layer = Layer::new();
    for (name, bytes) in real::wheel_files(&path)? {
        layer = layer.file(&format!("{site}/{name}"), bytes);
    }
    Ok(layer)
}

/// Prints the skip reason and returns `None` when a real input cannot be had.
pub fn or_skip<T>(test: &str, r: Result<T, String>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(why) => {
            real::skip(test, &why);
            None
        }
    }
}

/// A small synthetic image: an os-release layer (gzip), then a wheel's
/// METADATA in a layer compressed with `second`.
pub fn small_image(second: Compression) -> ImageSpec {
    ImageSpec::new("synthetic/small", "1")
        .layer(
            Layer::new()
                .file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
                .compression(Compression::Gzip),
        )
        .layer(
            Layer::new()
                .file(
                    "app/synthetic_pkg-1.0.dist-info/METADATA",
                    "Name: synthetic-pkg\nVersion: 1.0\n",
                )
                .compression(second),
        )
}

/// The finding of `rule` in a `check -f json` report, if it fired.
pub fn finding_of<'a>(report: &'a serde_json::Value, rule: &str) -> Option<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .expect("a JSON report has findings")
        .iter()
        .find(|f| f["rule"] == rule)
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn write_all_forms(spec: &ImageSpec, dir: &Path) -> Vec<String> {
    let oci = dir.join("oci");
    spec.write_oci_dir(&oci);
    let archive = dir.join("oci.tar");
    spec.write_oci_archive(&archive);
    let legacy = dir.join("docker-legacy.tar");
    spec.write_docker_archive(&legacy, gpubom_testkit::image::DockerForm::Legacy);
    let blobs = dir.join("docker-blobs.tar");
    spec.write_docker_archive(&blobs, gpubom_testkit::image::DockerForm::Blobs);
    vec![
        format!("oci-dir:{}", oci.display()),
        format!("oci-archive:{}", archive.display()),
        format!("docker-archive:{}", legacy.display()),
        format!("docker-archive:{}", blobs.display()),
        // Autodetection must reach the same answers.
        oci.display().to_string(),
        archive.display().to_string(),
        legacy.display().to_string(),
    ]
}

pub fn compressed(layer: Layer, c: Compression) -> Layer {
    layer.compression(c)
}

pub fn path_buf(s: &str) -> PathBuf {
    PathBuf::from(s)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Asserts the exit code, showing both streams when it differs.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// Validates against the official CycloneDX JSON schema (1.5 or 1.6, as the
/// document's `specVersion` says) shipped in `schemas/`.
pub fn validate_cyclonedx(bom: &serde_json::Value) {
    let schemas = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let load = |name: &str| -> serde_json::Value {
        let bytes = std::fs::read(schemas.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::from_slice(&bytes).unwrap()
    };
    let schema = match bom["specVersion"].as_str() {
        Some("1.5") => "bom-1.5.SNAPSHOT.schema.json",
        Some("1.6") => "bom-1.6.schema.json",
        other => panic!("specVersion {other:?} is neither 1.5 nor 1.6"),
    };
    // 1.5 names its references *.SNAPSHOT.*, 1.6 does not; the files are the same bytes.
    let mut options = jsonschema::options();
    for (name, file) in [
        ("spdx", "spdx.SNAPSHOT.schema.json"),
        ("jsf-0.82", "jsf-0.82.SNAPSHOT.schema.json"),
    ] {
        for uri in [
            format!("http://cyclonedx.org/schema/{name}.SNAPSHOT.schema.json"),
            format!("http://cyclonedx.org/schema/{name}.schema.json"),
        ] {
            options = options.with_resource(
                uri,
                jsonschema::Resource::from_contents(load(file)).unwrap(),
            );
        }
    }
    let validator = options.build(&load(schema)).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(bom)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SBOM does not validate against {schema}:\n{}",
        errors.join("\n")
    );
}

/// Validates an XML SBOM against the official CycloneDX XSD of its namespace
/// (1.5 or 1.6) with xmllint (Debian's libxml2-utils; skipped, or failed under
/// CI, where it is missing), offline: `schemas/xmlcatalog.xml` maps the SPDX
/// XSD's URL to the file beside it.
pub fn validate_cyclonedx_xml(test: &str, xml: &Path) {
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let text = std::fs::read_to_string(xml).expect("the XML SBOM");
    let xsd = if text.contains("xmlns=\"http://cyclonedx.org/schema/bom/1.6\"") {
        "bom-1.6.xsd"
    } else {
        "bom-1.5.SNAPSHOT.xsd"
    };
    match Command::new("xmllint")
        .env("XML_CATALOG_FILES", schemas.join("xmlcatalog.xml"))
        .args(["--noout", "--nonet", "--schema"])
        .arg(schemas.join(xsd))
        .arg(xml)
        .output()
    {
        Ok(check) => assert!(
            check.status.success(),
            "XML is not well-formed or does not validate against {xsd}: {}",
            String::from_utf8_lossy(&check.stderr)
        ),
        Err(e) => real::skip(
            test,
            &format!("xmllint: {e} (apt-get install libxml2-utils)"),
        ),
    }
}

/// Validates an SPDX document with the SPDX project's own validator
/// (`pyspdxtools -i`, from spdx-tools, hash-pinned in `.ci/spdx-requirements.txt`);
/// skipped, or failed under CI, where it cannot be installed.
pub fn validate_spdx(test: &str, document: &Path) {
    let mut validator = match real::spdx_validator() {
        Ok(cmd) => cmd,
        Err(why) => return real::skip(test, &why),
    };
    let check = validator
        .arg("-i")
        .arg(document)
        .output()
        .expect("python3 runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        check.status.success() && !said.contains("issues") && !said.contains("invalid"),
        "pyspdxtools does not accept the SPDX document: {said}"
    );
}

/// Runs a Python fixture writer with `packages` installed, into a fresh
/// directory; `None`, with the reason reported as a skip, if it cannot run.
/// `configure` adds the script and its arguments; the directory is its last argument.
pub fn python_fixtures(
    test: &str,
    packages: &[&str],
    configure: impl FnOnce(&mut Command),
) -> Option<tempfile::TempDir> {
    let holder = tmp();
    let mut python = match real::python_with(packages) {
        Ok(cmd) => cmd,
        Err(why) => {
            real::skip(test, &why);
            return None;
        }
    };
    configure(&mut python);
    match python.arg(holder.path()).output() {
        Ok(o) if o.status.success() => Some(holder),
        Ok(o) => {
            real::skip(
                test,
                &format!(
                    "fixture script failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                ),
            );
            None
        }
        Err(e) => {
            real::skip(test, &format!("cannot run python3: {e}"));
            None
        }
    }
}

/// First occurrence path of every component that `keep` accepts, in SBOM order.
pub fn locations_where(
    bom: &serde_json::Value,
    keep: impl Fn(&serde_json::Value) -> bool,
) -> Vec<String> {
    bom["components"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|c| keep(c))
        .map(|c| {
            c["evidence"]["occurrences"][0]["location"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

/// The members of a wheel whose path starts or ends with one of `wanted`, read by
/// Python's zipfile: inflating a 190 MB wheel whole in a debug build would dominate the test.
pub fn wheel_members(wheel: &Path, wanted: &[&str]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let dir = tmp();
    let script = "import sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        for n in z.namelist():\n    \
            if not n.endswith('/') and any(n.startswith(w) or n.endswith(w) for w in sys.argv[3:]):\n        \
                z.extract(n, sys.argv[2])\n        \
                print(n)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(wheel)
        .arg(dir.path())
        .args(wanted)
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            wheel.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|name| {
            std::fs::read(dir.path().join(name))
                .map(|bytes| (name.to_string(), bytes))
                .map_err(|e| format!("{name}: {e}"))
        })
        .collect()
}

/// Runs gpubom under a 500 MB address-space limit (RLIMIT_AS, via the shell's
/// ulimit) and a wall-clock limit, so a regression fails instead of exhausting CI.
pub fn run_limited_with(args: &[&str], env: &[(&str, &str)], seconds: u64) -> std::process::Output {
    // The layer cache stays on (in a scratch directory): writing an entry for a
    // hostile layer must fit the same limits as reading it.
    let cache = tmp();
    let mut child = std::process::Command::new("bash")
        .env("XDG_CACHE_HOME", cache.path())
        .env_remove("GPUBOM_NO_CACHE")
        .envs(env.iter().copied())
        .arg("-c")
        .arg("ulimit -v 512000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_gpubom"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run gpubom under limits");
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed().as_secs() > seconds {
            let _ = child.kill();
            panic!("gpubom {args:?} ran past {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Exit 2 with exactly one `gpubom: error:` line on stderr, saying `says`.
pub fn assert_one_error_line(out: &std::process::Output, says: &str) {
    assert_exit(out, 2);
    let err = stderr(out);
    assert!(
        err.starts_with("gpubom: error: ") && err.contains(says),
        "wanted {says:?}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Makes a FIFO at `path` with the system's `mkfifo`.
pub fn mkfifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(made.success());
}
