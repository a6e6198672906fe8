//! Layer and source semantics on small images whose contents are labelled
//! synthetic: platform choice in nested indexes, hard and symbolic links,
//! paths that try to leave the image, a path written twice in one layer,
//! CycloneDX XML against the XSD, and a progress line per layer off a terminal.

mod common;

use common::*;
use gpubom_testkit::image::{
    write_multiplatform_oci_dir, Compression, DockerForm, ImageSpec, Layer,
};

fn dist(name: &str, version: &str) -> String {
    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
}

fn platform_image(arch: &str, version: &str) -> ImageSpec {
    ImageSpec::new("synthetic/multi", "1")
        .platform("linux", arch)
        .layer(Layer::new().file(
            &format!("{SITE}/synthetic_pkg-{version}.dist-info/METADATA"),
            dist("synthetic-pkg", version),
        ))
}

#[test]
fn nested_index_picks_the_requested_platform_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("multi");
    let amd64 = platform_image("amd64", "1.0");
    let arm64 = platform_image("arm64", "2.0");
    write_multiplatform_oci_dir(&oci, &[&amd64, &arm64]);
    let source = format!("oci-dir:{}", oci.display());

    let default = scan_json(&source);
    assert_eq!(
        names_versions(&default, "pkg:pypi/"),
        vec!["synthetic-pkg@1.0"]
    );

    let out = run(&[
        "scan",
        &source,
        "--platform",
        "linux/arm64",
        "-f",
        "cyclonedx-json",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let arm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(names_versions(&arm, "pkg:pypi/"), vec!["synthetic-pkg@2.0"]);

    let out = run(&["scan", &source, "--platform", "linux/s390x", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64"),
        "should list platforms: {err}"
    );
}

#[test]
fn a_single_platform_image_of_another_platform_is_refused_synthetic() {
    let dir = tmp();
    let arm64 = platform_image("arm64", "2.0");
    let oci = dir.path().join("arm64");
    arm64.write_oci_dir(&oci);
    let saved = dir.path().join("arm64.tar");
    arm64.write_docker_archive(&saved, DockerForm::Legacy);
    for source in [
        format!("oci-dir:{}", oci.display()),
        format!("docker-archive:{}", saved.display()),
    ] {
        // Asked for nothing, or for what it is: scanned.
        assert!(run(&["scan", &source, "-q"]).status.success());
        let out = run(&["scan", &source, "--platform", "linux/arm64", "-q"]);
        assert!(out.status.success(), "{}", stderr(&out));
        // Asked for another platform: one error line naming what it is.
        let out = run(&["scan", &source, "--platform", "linux/amd64", "-q"]);
        assert_eq!(out.status.code(), Some(2), "{source}");
        let err = stderr(&out);
        assert!(
            err.contains("no image for platform linux/amd64") && err.contains("linux/arm64"),
            "{err}"
        );
    }
}

#[test]
fn links_resolve_inside_the_image_synthetic() {
    let spec = ImageSpec::new("synthetic/links", "1")
        .layer(
            Layer::new()
                .file("usr/lib/os-release", "ID=synthetic\nVERSION_ID=1\n")
                // An absolute symlink is relative to the image root, never the host's.
                .symlink("etc/os-release", "/usr/lib/os-release")
                .file(
                    &format!("{SITE}/real_pkg-1.0.dist-info/METADATA"),
                    dist("real-pkg", "1.0"),
                ),
        )
        .layer(
            Layer::new()
                // A hard link to a file of a lower layer carries that file's content.
                .hardlink(
                    "opt/venv/site-packages/real_pkg-1.0.dist-info/METADATA",
                    &format!("{SITE}/real_pkg-1.0.dist-info/METADATA"),
                )
                .compression(Compression::Zstd),
        );
    let dir = tmp();
    let archive = dir.path().join("links.tar");
    spec.write_oci_archive(&archive);
    let bom = scan_json(&archive.display().to_string());
    let os = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "operating-system")
        .expect("OS component from the symlinked os-release");
    assert_eq!(os["name"], "synthetic");
    let paths: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "real-pkg")
        .filter_map(|c| c["evidence"]["occurrences"][0]["location"].as_str())
        .collect();
    assert_eq!(
        paths,
        vec![
            "/opt/venv/site-packages/real_pkg-1.0.dist-info",
            &format!("/{SITE}/real_pkg-1.0.dist-info"),
        ]
    );
}

#[test]
fn entries_climbing_above_the_root_are_clamped_synthetic() {
    // Extraction clamps `..` at the root, so this file lands at /escape-1.0.dist-info.
    let spec = ImageSpec::new("synthetic/escape", "1").layer(
        Layer::new()
            .file("../../escape-1.0.dist-info/METADATA", dist("escape", "1.0"))
            .file("app/kept-1.0.dist-info/METADATA", dist("kept", "1.0")),
    );
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&format!("oci-dir:{}", oci.display()));
    assert_eq!(
        component_set(&bom),
        vec![
            (
                "pkg:pypi/escape@1.0".to_string(),
                "/escape-1.0.dist-info".to_string()
            ),
            (
                "pkg:pypi/kept@1.0".to_string(),
                "/app/kept-1.0.dist-info".to_string()
            ),
        ]
    );
}

#[test]
fn dot_dot_in_entry_names_is_resolved_as_extraction_does_synthetic() {
    let pickle = b"cposix\nsystem\n(S'echo hi'\ntR.".to_vec();
    let spec = ImageSpec::new("synthetic/dotdot", "1").layer(
        Layer::new()
            .file("x/../models/evil.pkl", pickle)
            .file(
                "app/x/../pkg-1.0.dist-info/METADATA",
                dist("synthetic-pkg", "1.0"),
            )
            // A hard link whose target climbs: it is the file at app/pkg-1.0.dist-info.
            .hardlink(
                "opt/link-1.0.dist-info/METADATA",
                "../../app/pkg-1.0.dist-info/METADATA",
            ),
    );
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&format!("oci-dir:{}", oci.display()));
    let at = |location: &str| {
        bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["evidence"]["occurrences"][0]["location"] == location)
            .cloned()
    };
    let evil = at("/models/evil.pkl").expect("the pickle, at the path extraction gives it");
    assert_eq!(property(&evil, "gpubom:model:verdict"), Some("unsafe"));
    let pkg = at("/app/pkg-1.0.dist-info").expect("the package under the cleaned path");
    assert_eq!(pkg["name"], "synthetic-pkg");
    assert!(
        at("/opt/link-1.0.dist-info").is_some(),
        "the hard link's cleaned target: {bom}"
    );
}

#[test]
fn duplicate_entries_in_a_layer_the_last_wins_synthetic() {
    let metadata = "app/pkg-1.0.dist-info/METADATA";
    let spec = ImageSpec::new("synthetic/duplicates", "1")
        .layer(
            Layer::new()
                .file(metadata, dist("pkg", "1.0"))
                .file(metadata, dist("pkg", "2.0"))
                // Whited out by the same layer after it was written: extraction deletes it.
                .file("app/gone-1.0.dist-info/METADATA", dist("gone", "1.0"))
                .whiteout("app/gone-1.0.dist-info")
                .repeating_paths_synthetic(),
        )
        .layer(
            Layer::new()
                // Replaced by a symlink later in the same layer.
                .file("app/other-1.0.dist-info/METADATA", dist("other", "1.0"))
                .symlink("app/other-1.0.dist-info/METADATA", "/dev/null")
                .repeating_paths_synthetic(),
        );
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&format!("oci-dir:{}", oci.display()));
    assert_eq!(names_versions(&bom, "pkg:pypi/"), vec!["pkg@2.0"]);
}

#[test]
fn single_file_source_synthetic() {
    let dir = tmp();
    let file = dir.path().join("synthetic-1.0.egg-info");
    std::fs::write(&file, dist("synthetic", "1.0")).unwrap();
    let bom = scan_json(&format!("file:{}", file.display()));
    assert_eq!(names_versions(&bom, "pkg:pypi/"), vec!["synthetic@1.0"]);
    assert_eq!(bom["metadata"]["component"]["type"], "file");
}

#[test]
fn xml_validates_against_the_cyclonedx_xsd() {
    let spec = ImageSpec::new("synthetic/xml", "1")
        .user("1001")
        .expose("8000/tcp")
        .layer(Layer::new().file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"))
        .layer(Layer::new().file("models/synthetic.engine", {
            let mut plan = b"ftrt".to_vec();
            plan.resize(64, 0);
            plan[24..27].copy_from_slice(&[10, 3, 0]);
            plan
        }))
        .layer(Layer::new().file(
            &format!("{SITE}/synthetic_pkg-1.0.dist-info/METADATA"),
            format!(
                "{}License: MIT\nSummary: a <synthetic> & \"quoted\" package\n",
                dist("synthetic-pkg", "1.0")
            ),
        ));
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let xml = dir.path().join("bom.xml");
    let out = run(&[
        "scan",
        &format!("oci-dir:{}", oci.display()),
        "-f",
        "cyclonedx-xml",
        "-o",
        xml.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    validate_cyclonedx_xml("xml_validates_against_the_cyclonedx_xsd", &xml);
}

#[test]
fn distroless_status_d_synthetic() {
    // Distroless images have no status file: one paragraph per package in status.d/,
    // beside an .md5sums file that is not a package.
    let spec = ImageSpec::new("synthetic/distroless", "1").layer(
        Layer::new()
            .file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
            .file(
                "var/lib/dpkg/status.d/tzdata",
                "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\nMaintainer: synthetic\n",
            )
            .file("var/lib/dpkg/status.d/tzdata.md5sums", "0123  usr/share/zoneinfo/UTC\n")
            .file(
                "var/lib/dpkg/status.d/libssl3",
                "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\n",
            ),
    );
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());
    assert_eq!(
        names_versions(&bom, "pkg:deb/"),
        vec!["libssl3@3.0.11-1~deb12u2", "tzdata@2024a-0+deb12u1"]
    );
    let ssl = find_component(&bom, "libssl3").unwrap();
    assert_eq!(
        ssl["purl"],
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"
    );
}

/// Off a terminal (stderr is a pipe here, as in a CI log), a line per layer
/// read, with its digest, size and time; `-q` silences them.
#[test]
fn a_progress_line_per_layer_off_a_terminal_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    small_image(Compression::Zstd).write_oci_dir(&oci);
    let source = format!("oci-dir:{}", oci.display());
    let out = run(&["scan", &source, "-o", "/dev/null"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    let mut lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("gpubom: layer "))
        .collect();
    lines.sort();
    assert_eq!(lines.len(), 2, "{err}");
    for (n, line) in lines.iter().enumerate() {
        let words: Vec<&str> = line.split(' ').collect();
        // gpubom: layer N sha256:<12 hex> <size> <unit> <seconds> s
        assert_eq!(words[2], (n + 1).to_string(), "{line}");
        assert!(
            words[3].starts_with("sha256:") && words[3].len() == 19,
            "{line}"
        );
        assert!(words[5] == "kB" && words[7] == "s", "{line}");
    }
    let quiet = run(&["scan", &source, "-o", "/dev/null", "-q"]);
    assert_exit(&quiet, 0);
    assert!(quiet.stderr.is_empty(), "{}", stderr(&quiet));
}
