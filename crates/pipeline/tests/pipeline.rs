//! The pipeline through its library, without the command line: small images
//! built in code (contents synthetic) are scanned, checked, listed in a
//! batch and diffed, and what comes back is the inventory, the findings and
//! the reports, never lines on a terminal.

use gpubom_inventory::{ComponentKind, Fact, Inventory};
use gpubom_pipeline::batch::{scan_all, summary, Outcome};
use gpubom_pipeline::check::{Gate, Input};
use gpubom_pipeline::diff::compare::Change;
use gpubom_pipeline::diff::{diff_inventories, diff_sboms, DiffSettings};
use gpubom_pipeline::{read_sbom, read_sbom_to_check, scan_source, Progress, ScanSettings, Silent};
use gpubom_policy::report::Format;
use gpubom_policy::{Config, Pack, Severity};
use gpubom_testkit::image::{DockerForm, ImageSpec, Layer};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const SITE: &str = "usr/lib/python3/dist-packages";

/// A Debian image with one Python package at `version`, run as `user`, exposing `ports`.
fn image(version: &str, user: &str, ports: &[&str]) -> ImageSpec {
    let mut spec = ImageSpec::new("synthetic/app", version)
        .user(user)
        .layer(Layer::new().file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"))
        .layer(Layer::new().file(
            &format!("{SITE}/synthetic_pkg-{version}.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: synthetic-pkg\nVersion: {version}\n"),
        ));
    for port in ports {
        spec = spec.expose(port);
    }
    spec
}

/// `spec` written as an OCI layout under `dir`, as a source to scan.
fn oci_source(spec: &ImageSpec, dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    spec.write_oci_dir(&path);
    format!("oci-dir:{}", path.display())
}

/// No layer cache: a test must not write to the user's.
fn settings() -> ScanSettings {
    ScanSettings {
        no_cache: true,
        ..Default::default()
    }
}

fn scan(source: &str) -> Inventory {
    scan_source(source, &settings(), &Config::default(), &Silent)
        .expect("scan")
        .inventory
}

fn python_packages(inventory: &Inventory) -> Vec<String> {
    inventory
        .components
        .iter()
        .filter(|c| c.kind == ComponentKind::Python)
        .map(|c| format!("{}@{}", c.name, c.version.as_deref().unwrap_or("?")))
        .collect()
}

/// Counts what the pipeline reports of its progress.
#[derive(Default)]
struct Counted {
    total: AtomicU64,
    read: AtomicU64,
    finished: AtomicU64,
}

impl Progress for Counted {
    fn start(&self, total: u64) {
        self.total.store(total, Ordering::SeqCst);
    }
    fn advance(&self, bytes: u64) {
        self.read.fetch_add(bytes, Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_source_scans_into_an_inventory_synthetic() {
    let dir = tempfile::tempdir().unwrap();
    let source = oci_source(&image("1.0", "", &["22/tcp"]), dir.path(), "oci");
    let progress = Counted::default();
    let scan = scan_source(&source, &settings(), &Config::default(), &progress).unwrap();
    let inventory = &scan.inventory;

    assert_eq!(python_packages(inventory), ["synthetic-pkg@1.0"]);
    let purl = inventory
        .components
        .iter()
        .find_map(|c| c.purl.as_deref().filter(|p| p.starts_with("pkg:pypi/")));
    assert_eq!(purl, Some("pkg:pypi/synthetic-pkg@1.0"));
    let facts = inventory.image.as_ref().expect("an OCI image has a config");
    assert_eq!(facts.exposed_ports, ["22/tcp"]);
    // An OCI layout can carry signatures: they were looked for (none found).
    assert_eq!(inventory.signatures.as_deref().map(<[_]>::len), Some(0));
    // The advisory data used is recorded whatever matched.
    assert!(inventory.advisory_data.is_some());

    let total = progress.total.load(Ordering::SeqCst);
    assert!(total > 0, "layers have sizes");
    assert_eq!(progress.read.load(Ordering::SeqCst), total);
    assert_eq!(progress.finished.load(Ordering::SeqCst), 1);
}

#[test]
fn a_source_without_signatures_says_why_synthetic() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("saved.tar");
    image("1.0", "", &[]).write_docker_archive(&archive, DockerForm::Legacy);
    let inventory = scan(&format!("docker-archive:{}", archive.display()));
    assert!(inventory.signatures.is_none());
    let item = inventory
        .not_checked
        .iter()
        .find(|i| i.fact == Fact::Signatures && i.subject.is_none())
        .expect("signatures are declared not checked");
    assert!(
        item.reason.contains("docker save drops them"),
        "{}",
        item.reason
    );
}

#[test]
fn a_check_returns_findings_and_reports_synthetic() {
    let dir = tempfile::tempdir().unwrap();
    let source = oci_source(&image("1.0", "", &["22/tcp"]), dir.path(), "oci");
    let settings = ScanSettings {
        config: Some(dir.path().join("none.toml")),
        ..settings()
    };
    // A config named but missing is an error of its own, with the path.
    let err = Gate::load(&settings, &[], true)
        .err()
        .expect("no such config");
    assert!(gpubom_pipeline::one_line(&err).contains("none.toml"));

    std::fs::write(dir.path().join("none.toml"), "").unwrap();
    let gate = Gate::load(&settings, &[], true).unwrap();
    let (scan, target) = gate
        .read(Input::Source(&source), &settings, &Silent)
        .unwrap();
    assert_eq!(target, source);
    let verdict = gate.evaluate(scan.inventory, target).unwrap();
    let rules: Vec<&str> = verdict.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"image-runs-as-root"), "{rules:?}");
    assert!(rules.contains(&"ssh-port-exposed"), "{rules:?}");
    assert!(verdict.failing(Some(Severity::High)) > 0);
    assert_eq!(verdict.failing(None), 0);

    let json = verdict
        .render(Some(Format::Json), Some(Severity::High), None)
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "image-runs-as-root"));
    // No format: the SBOM the check ran on, read back the same.
    let sbom = verdict.render(None, None, None).unwrap();
    let path = dir.path().join("sbom.cdx.json");
    std::fs::write(&path, &sbom).unwrap();
    assert_eq!(
        python_packages(&read_sbom(&path).unwrap()),
        ["synthetic-pkg@1.0"]
    );

    // An SBOM is a scan already made: settings for reading an image are refused.
    let refused = ScanSettings {
        platform: Some("linux/arm64".into()),
        ..settings.clone()
    };
    let err = read_sbom_to_check(&path, &refused, &gate.config).expect_err("refused");
    assert!(
        err.to_string().starts_with(
            "--platform, --no-cache cannot apply to --sbom: --platform (the platform was chosen"
        ),
        "{err}"
    );
}

#[test]
fn two_inventories_diff_synthetic() {
    let dir = tempfile::tempdir().unwrap();
    let old = scan(&oci_source(
        &image("1.0", "", &["22/tcp"]),
        dir.path(),
        "old",
    ));
    let new = scan(&oci_source(
        &image("2.0", "1000", &["8000/tcp"]),
        dir.path(),
        "new",
    ));
    let config = Config::default();
    let pack = Pack::load_for(&[], true, &config).unwrap();
    let diff = diff_inventories(&old, &new, &pack, &config, "2025-01-01").unwrap();

    let upgraded: Vec<(&str, Option<&str>, Option<&str>)> = diff
        .changes(Change::Upgraded)
        .map(|c| (c.name.as_str(), c.from.as_deref(), c.to.as_deref()))
        .collect();
    assert_eq!(upgraded, [("synthetic-pkg", Some("1.0"), Some("2.0"))]);
    assert_eq!(diff.user, Some((String::new(), "1000".to_string())));
    assert_eq!(diff.ports_opened, ["8000/tcp"]);
    assert_eq!(diff.ports_closed, ["22/tcp"]);
    let resolved: Vec<&str> = diff
        .resolved_findings
        .iter()
        .map(|f| f.rule.as_str())
        .collect();
    assert!(resolved.contains(&"image-runs-as-root"), "{resolved:?}");
    assert!(resolved.contains(&"ssh-port-exposed"), "{resolved:?}");
    assert!(diff.new_findings.is_empty(), "{:?}", diff.new_findings);

    // The same through SBOM files, rendered for a person.
    let write = |inventory: &Inventory, name: &str| -> PathBuf {
        let bytes = gpubom_sbom::render(
            inventory,
            gpubom_sbom::Format::DEFAULT_SBOM,
            gpubom_pipeline::TOOL_VERSION,
        )
        .unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let (old_sbom, new_sbom) = (write(&old, "old.json"), write(&new, "new.json"));
    let settings = DiffSettings {
        config: Some(dir.path().join("empty.toml")),
        ..Default::default()
    };
    std::fs::write(dir.path().join("empty.toml"), "").unwrap();
    let comparison = diff_sboms(&old_sbom, &new_sbom, &settings).unwrap();
    let text = comparison.text();
    let headline = "Changes user root → 1000, opens port 8000/tcp, closes port 22/tcp, \
        upgrades synthetic-pkg 1.0 → 2.0; \
        2 resolved findings (image-runs-as-root, ssh-port-exposed).";
    assert_eq!(text.lines().next(), Some(headline), "{text}");
    let json: serde_json::Value = serde_json::from_str(&comparison.json()).unwrap();
    assert_eq!(json["old"]["sbom"], old_sbom.display().to_string());
    assert_eq!(json["components"]["upgraded"][0]["to"], "2.0");
}

#[test]
fn a_batch_scans_each_source_and_keeps_going_synthetic() {
    let dir = tempfile::tempdir().unwrap();
    let good = oci_source(&image("1.0", "", &[]), dir.path(), "good");
    let bad = format!("oci-dir:{}", dir.path().join("missing").display());
    let sources = vec![good.clone(), bad.clone()];
    let saved: Mutex<Vec<(String, usize)>> = Mutex::default();
    let done: Mutex<Vec<String>> = Mutex::default();
    let outcomes = scan_all(
        &sources,
        2,
        &settings(),
        &Config::default(),
        &|name: &str, bytes: &[u8]| {
            saved.lock().unwrap().push((name.to_string(), bytes.len()));
            Ok(())
        },
        &|outcome: &Outcome| done.lock().unwrap().push(outcome.source.clone()),
    )
    .unwrap();

    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0].source, good);
    assert!(outcomes[0].error.is_none());
    assert_eq!(outcomes[0].components, Some(1), "synthetic-pkg");
    assert!(outcomes[1].error.is_some() && outcomes[1].sbom.is_none());
    let saved = saved.into_inner().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(Some(&saved[0].0), outcomes[0].sbom.as_ref());
    assert!(saved[0].0.starts_with("0001-") && saved[0].1 > 0);
    let mut done = done.into_inner().unwrap();
    done.sort();
    let mut expected = sources.clone();
    expected.sort();
    assert_eq!(done, expected);

    let summary: serde_json::Value = serde_json::from_slice(&summary(&outcomes).unwrap()).unwrap();
    assert_eq!(summary["images"], 2);
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["results"][1]["source"], bad);
}
