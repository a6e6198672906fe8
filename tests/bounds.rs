//! Bounds outside the parsers, each run under the hostile tests' 500 MB address-space limit
//! (`run_limited_with`): how many components an image may have, what `check` and `diff`
//! hold per component, and files a user names that are FIFOs or devices. All images and
//! SBOMs here are synthetic.

mod common;

use common::*;
use gpubom_testkit::image::{Compression, ImageSpec, Layer};
use std::path::Path;

/// The default limit on components per image (`gpubom_inventory::DEFAULT_MAX_COMPONENTS`).
const MAX_COMPONENTS: usize = 100_000;
/// Minutes a scan of [`MAX_COMPONENTS`] packages may take in a debug build on a loaded machine.
const AT_SCALE_SECONDS: u64 = 1200;

/// An image of `count` tiny Python distributions, each one component: the shape of the
/// component-count bomb (a few MB of compressed tar). Uncompressed, so a debug build
/// spends its time on the components rather than inflating the layer.
fn many_distributions(count: usize) -> ImageSpec {
    let mut layer = Layer::new().compression(Compression::None);
    for i in 0..count {
        layer = layer.file(
            &format!("usr/lib/python3/dist-packages/p{i}-1.0.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: p{i}\nVersion: 1.0\n"),
        );
    }
    ImageSpec::new("synthetic/many", "1").layer(layer)
}

/// `spec` as an OCI layout in `dir`, as a source.
fn layout(spec: &ImageSpec, dir: &Path) -> String {
    let oci = dir.join("oci");
    spec.write_oci_dir(&oci);
    format!("oci-dir:{}", oci.display())
}

/// A gpubom-shaped CycloneDX SBOM of `count` Python packages at `version`, written as it is
/// made so the test holds none of it.
fn sbom_of_many(path: &Path, count: usize, version: &str) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write!(
        out,
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{{"component":{{"type":"container","name":"synthetic/many"}}}},"components":["#
    )
    .unwrap();
    for i in 0..count {
        let purl = format!("pkg:pypi/p{i}@{version}");
        let component = serde_json::json!({
            "type": "library",
            "bom-ref": purl,
            "name": format!("p{i}"),
            "version": version,
            "purl": purl,
            "properties": [
                {"name": "gpubom:kind", "value": "python"},
                {"name": "gpubom:layer:index", "value": "0"},
            ],
            "evidence": {"occurrences": [
                {"location": format!("/usr/lib/python3/dist-packages/p{i}-{version}.dist-info")}
            ]},
        });
        if i > 0 {
            out.write_all(b",").unwrap();
        }
        serde_json::to_writer(&mut out, &component).unwrap();
    }
    out.write_all(b"]}\n").unwrap();
}

/// An image at the limit is checked within the address-space limit (the Cedar entities of
/// every component, built at once and then copied, took 1.9 GB for 100,000); one more
/// component is one error line naming the limit and its override.
#[test]
fn an_image_at_the_component_limit_is_checked_and_one_past_it_refused_synthetic() {
    let dir = tmp();
    let source = layout(&many_distributions(MAX_COMPONENTS), dir.path());
    let out = run_limited_with(
        &["check", &source, "--fail-on", "none", "-q", "-f", "json"],
        &[],
        AT_SCALE_SECONDS,
    );
    assert_exit(&out, 0);

    let past = tmp();
    let source = layout(&many_distributions(1001), past.path());
    let out = run_limited_with(
        &["scan", &source, "-q", "-f", "cyclonedx-json"],
        &[("GPUBOM_MAX_COMPONENTS", "1000")],
        120,
    );
    assert_one_error_line(
        &out,
        "the image has more than 1000 components, the limit for one image; set GPUBOM_MAX_COMPONENTS to allow more",
    );
    let out = run_limited_with(
        &["scan", &source, "-q", "-f", "cyclonedx-json"],
        &[("GPUBOM_MAX_COMPONENTS", "many")],
        120,
    );
    assert_one_error_line(&out, "GPUBOM_MAX_COMPONENTS is \"many\"");
}

/// Two SBOMs at the limit are compared within the address-space limit (each read whole as a
/// `serde_json::Value` took more than 2 GB together); an SBOM past it is one error line.
#[test]
fn sboms_at_the_component_limit_are_compared_and_one_past_it_refused_synthetic() {
    let dir = tmp();
    let old = dir.path().join("old.cdx.json");
    let new = dir.path().join("new.cdx.json");
    sbom_of_many(&old, MAX_COMPONENTS, "1.0");
    sbom_of_many(&new, MAX_COMPONENTS, "1.1");
    let (old, new) = (old.display().to_string(), new.display().to_string());
    // Into a file: the limited run reads stdout only once gpubom has ended.
    let report = dir.path().join("report.txt");
    let out = run_limited_with(
        &["diff", &old, &new, "-o", report.to_str().unwrap()],
        &[],
        AT_SCALE_SECONDS,
    );
    assert_exit(&out, 0);
    let upgraded = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .filter(|l| l.trim_start().starts_with("upgraded "))
        .count();
    assert_eq!(upgraded, MAX_COMPONENTS, "every package upgraded");

    let past = dir.path().join("past.cdx.json");
    sbom_of_many(&past, MAX_COMPONENTS + 1, "1.0");
    let past = past.display().to_string();
    for args in [vec!["check", "--sbom", &past], vec!["diff", &old, &past]] {
        let out = run_limited_with(&args, &[], 300);
        assert_one_error_line(
            &out,
            &format!("{past}: the SBOM lists more than {MAX_COMPONENTS} components, the limit for one image; set GPUBOM_MAX_COMPONENTS to allow more"),
        );
    }
}

/// A FIFO where an advisory, a VEX document, a policy test fixture, the SBOM a fixture names,
/// an SBOM, a list of sums, fingerprints or images, or a Dockerfile is expected blocked `open`
/// for good; `/dev/zero` never ended. Each is refused before it is opened: one error line,
/// exit 2, no hang.
#[test]
fn files_a_user_names_that_are_fifos_or_devices_are_refused_synthetic() {
    let dir = tmp();
    let image = layout(
        &ImageSpec::new("synthetic/small", "1")
            .layer(Layer::new().file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")),
        dir.path(),
    );
    let advisories = dir.path().join("advisories");
    std::fs::create_dir(&advisories).unwrap();
    mkfifo(&advisories.join("GHSA-fifo.json"));
    let vex = dir.path().join("vex.json");
    mkfifo(&vex);
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir(&fixtures).unwrap();
    mkfifo(&fixtures.join("a.test.json"));
    let sbom_fixtures = dir.path().join("sbom-fixtures");
    std::fs::create_dir(&sbom_fixtures).unwrap();
    std::fs::write(
        sbom_fixtures.join("b.test.json"),
        r#"{"name": "an SBOM that is a FIFO", "sbom": "b.cdx.json", "expect": {"fires": ["image-runs-as-root"]}}"#,
    )
    .unwrap();
    mkfifo(&sbom_fixtures.join("b.cdx.json"));
    let sbom_fifo = dir.path().join("sbom.cdx.json");
    mkfifo(&sbom_fifo);

    let path = |p: &Path| p.display().to_string();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "scan".into(),
                image.clone(),
                "--advisories".into(),
                path(&advisories),
            ],
            format!(
                "cannot read {}: a FIFO, not a regular file",
                path(&advisories.join("GHSA-fifo.json"))
            ),
        ),
        (
            vec![
                "scan".into(),
                image.clone(),
                "--advisories".into(),
                "/dev/zero".into(),
            ],
            "cannot read /dev/zero: a character device, not a regular file".into(),
        ),
        (
            vec!["scan".into(), image.clone(), "--vex".into(), path(&vex)],
            format!("cannot read {}: a FIFO, not a regular file", path(&vex)),
        ),
        (
            vec![
                "scan".into(),
                image.clone(),
                "--vex".into(),
                "/dev/zero".into(),
            ],
            "cannot read /dev/zero: a character device, not a regular file".into(),
        ),
        (
            vec!["policy".into(), "test".into(), path(&fixtures)],
            format!(
                "cannot read {}: a FIFO, not a regular file",
                path(&fixtures.join("a.test.json"))
            ),
        ),
        (
            vec!["policy".into(), "test".into(), path(&sbom_fixtures)],
            format!(
                "cannot read {}: a FIFO, not a regular file",
                path(&sbom_fixtures.join("b.cdx.json"))
            ),
        ),
        (
            vec!["check".into(), "--sbom".into(), path(&sbom_fifo)],
            format!(
                "cannot read {}: a FIFO, not a regular file",
                path(&sbom_fifo)
            ),
        ),
        (
            vec!["diff".into(), "/dev/zero".into(), path(&sbom_fifo)],
            "cannot read /dev/zero: a character device, not a regular file".into(),
        ),
        (
            vec![
                "scan".into(),
                image.clone(),
                "--expect-sha256".into(),
                path(&vex),
            ],
            format!("cannot read {}: a FIFO, not a regular file", path(&vex)),
        ),
        (
            vec![
                "scan".into(),
                image.clone(),
                "--fingerprints".into(),
                path(&vex),
            ],
            format!("cannot read {}: a FIFO, not a regular file", path(&vex)),
        ),
        (
            vec![
                "check".into(),
                image.clone(),
                "--dockerfile".into(),
                path(&vex),
            ],
            format!("cannot read {}: a FIFO, not a regular file", path(&vex)),
        ),
        (
            vec![
                "scan".into(),
                "--from".into(),
                path(&vex),
                "--output-dir".into(),
                path(&dir.path().join("out")),
            ],
            format!("cannot read {}: a FIFO, not a regular file", path(&vex)),
        ),
    ];
    for (args, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run_limited_with(&args, &[], 30);
        assert_one_error_line(&out, &says);
    }
}
