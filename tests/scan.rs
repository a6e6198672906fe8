//! End-to-end tests of `gpubom scan` on images built in code from real
//! Debian packages and real PyPI wheels.

mod common;

use common::*;
use gpubom_testkit::image::{Compression, ImageSpec, Layer};

// Vendored in tests/fixtures/debs: Debian's mirror drops superseded versions within days.
const BASE_FILES: (&str, &str) = ("base-files", "12.4+deb12u15");
const ZLIB: (&str, &str) = ("zlib1g", "1:1.2.13.dfsg-1");
const BZIP2: (&str, &str) = ("libbz2-1.0", "1.0.8-5+b1");
const EXPAT_OLD: (&str, &str) = ("libexpat1", "2.5.0-1+deb12u2");
const EXPAT_NEW: (&str, &str) = ("libexpat1", "2.5.0-1+deb12u5");
const SIX_OLD: (&str, &str) = ("six", "1.15.0");
const SIX_NEW: (&str, &str) = ("six", "1.16.0");

/// A Debian image in four layers:
/// 0. base-files, zlib1g, libbz2-1.0, libexpat1 (old) — gzip
/// 1. six 1.15.0 and the nvtx wheel — zstd
/// 2. apt: libbz2-1.0 removed (status rewritten, files whited out), libexpat1 upgraded — plain
/// 3. pip: six upgraded to 1.16.0 (old dist-info whited out) — gzip
fn debian_python_image(test: &str) -> Option<ImageSpec> {
    let debs = debs(&[BASE_FILES, ZLIB, BZIP2, EXPAT_OLD, EXPAT_NEW]);
    let [base, zlib, bzip2, expat_old, expat_new] =
        [&debs[0], &debs[1], &debs[2], &debs[3], &debs[4]];
    let six_old = or_skip(test, wheel_layer(SITE, &SIX_OLD))?;
    let six_new = or_skip(test, wheel_layer(SITE, &SIX_NEW))?;
    let nvtx = or_skip(test, wheel_layer(SITE, &NVTX))?;

    let layer0 = dpkg_layer(
        &[base, zlib, bzip2, expat_old],
        &[base, zlib, bzip2, expat_old],
    )
    .created_by("/bin/sh -c #(nop) ADD file:rootfs in /")
    .compression(Compression::Gzip);
    let layer1 = six_old
        .merge(nvtx)
        .created_by("RUN pip install six==1.15.0 nvidia-nvtx-cu12==12.1.105")
        .compression(Compression::Zstd);
    let mut layer2 = dpkg_layer(&[expat_new], &[base, zlib, expat_new])
        .whiteout("var/lib/dpkg/info/libbz2-1.0:amd64.list")
        .created_by("RUN apt-get purge -y libbz2-1.0 && apt-get install -y libexpat1")
        .compression(Compression::None);
    for (path, _) in &bzip2.files {
        layer2 = layer2.whiteout(path.trim_start_matches('/'));
    }
    let layer3 = six_new
        .whiteout(&format!("{SITE}/six-1.15.0.dist-info"))
        .created_by("RUN pip install -U six==1.16.0")
        .compression(Compression::Gzip);

    Some(
        ImageSpec::new("example.com/ml/trainer", "1.0")
            .user("")
            .expose("8888/tcp")
            .expose("22/tcp")
            .env("PATH=/usr/local/bin:/usr/bin")
            .env("CUDA_VERSION=12.1.1")
            .label(
                "org.opencontainers.image.source",
                "https://example.com/trainer",
            )
            .layer(layer0)
            .layer(layer1)
            .layer(layer2)
            .layer(layer3),
    )
}

#[test]
fn every_source_form_yields_the_same_components() {
    let Some(spec) = debian_python_image("every_source_form_yields_the_same_components") else {
        return;
    };
    let dir = tmp();
    let sources = write_all_forms(&spec, dir.path());
    let first = component_set(&scan_json(&sources[0]));
    assert!(first.len() >= 6, "too few components: {first:?}");
    for source in &sources[1..] {
        assert_eq!(
            component_set(&scan_json(source)),
            first,
            "{source} differs from {}",
            sources[0]
        );
    }
}

#[test]
fn removed_packages_are_absent_and_upgrades_show_only_the_new_version() {
    let Some(spec) =
        debian_python_image("removed_packages_are_absent_and_upgrades_show_only_the_new_version")
    else {
        return;
    };
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&format!("oci-dir:{}", oci.display()));

    let debs = names_versions(&bom, "pkg:deb/");
    assert!(
        debs.contains(&format!("base-files@{}", BASE_FILES.1)),
        "{debs:?}"
    );
    assert!(debs.contains(&format!("zlib1g@{}", ZLIB.1)), "{debs:?}");
    assert!(
        !debs.iter().any(|d| d.starts_with("libbz2-1.0@")),
        "purged package reported: {debs:?}"
    );
    assert_eq!(
        debs.iter()
            .filter(|d| d.starts_with("libexpat1@"))
            .collect::<Vec<_>>(),
        vec![&format!("libexpat1@{}", EXPAT_NEW.1)],
        "only the upgraded libexpat1 may be reported"
    );

    let pythons = names_versions(&bom, "pkg:pypi/");
    assert_eq!(
        pythons
            .iter()
            .filter(|p| p.starts_with("six@"))
            .collect::<Vec<_>>(),
        vec!["six@1.16.0"],
        "{pythons:?}"
    );
    assert!(
        pythons.contains(&"nvidia-nvtx-cu12@12.1.105".to_string()),
        "{pythons:?}"
    );
}

#[test]
fn components_remember_the_layer_that_introduced_them() {
    let Some(spec) = debian_python_image("components_remember_the_layer_that_introduced_them")
    else {
        return;
    };
    let dir = tmp();
    let archive = dir.path().join("image.tar");
    spec.write_oci_archive(&archive);
    let bom = scan_json(&archive.display().to_string());

    let layer_of = |name: &str| {
        let c = find_component(&bom, name).unwrap_or_else(|| panic!("{name} missing"));
        property(c, "gpubom:layer:index").map(str::to_owned)
    };
    // zlib1g is listed by every status db since layer 0, although layer 2 rewrote the db.
    assert_eq!(layer_of("zlib1g").as_deref(), Some("0"));
    assert_eq!(layer_of("libexpat1").as_deref(), Some("2"));
    assert_eq!(layer_of("nvidia-nvtx-cu12").as_deref(), Some("1"));
    assert_eq!(layer_of("six").as_deref(), Some("3"));
    let six = find_component(&bom, "six").expect("six");
    assert_eq!(
        property(six, "gpubom:layer:created_by"),
        Some("RUN pip install -U six==1.16.0")
    );
}

#[test]
fn distro_purls_and_image_facts_are_reported() {
    let Some(spec) = debian_python_image("distro_purls_and_image_facts_are_reported") else {
        return;
    };
    let dir = tmp();
    let path = dir.path().join("docker.tar");
    spec.write_docker_archive(&path, gpubom_testkit::image::DockerForm::Legacy);
    let bom = scan_json(&format!("docker-archive:{}", path.display()));

    // /etc/os-release is a symlink into /usr/lib in base-files: resolved inside the image.
    let zlib = find_component(&bom, "zlib1g").expect("zlib1g");
    assert_eq!(
        zlib["purl"].as_str(),
        Some("pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib")
    );
    let meta = &bom["metadata"];
    assert_eq!(meta["component"]["name"], "example.com/ml/trainer");
    let props: Vec<(String, String)> = meta["properties"]
        .as_array()
        .expect("metadata properties")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let has = |n: &str, v: &str| props.iter().any(|(pn, pv)| pn == n && pv == v);
    assert!(has("gpubom:image:exposed_port", "8888/tcp"), "{props:?}");
    assert!(has("gpubom:image:exposed_port", "22/tcp"), "{props:?}");
    assert!(has("gpubom:image:env_name", "CUDA_VERSION"), "{props:?}");
    assert!(
        !props
            .iter()
            .any(|(_, v)| v.contains("/usr/local/bin:/usr/bin")),
        "env values must not leak into the SBOM"
    );
    assert!(has(
        "gpubom:image:label:org.opencontainers.image.source",
        "https://example.com/trainer"
    ));
}

#[test]
fn output_is_deterministic_and_schema_valid() {
    let Some(spec) = debian_python_image("output_is_deterministic_and_schema_valid") else {
        return;
    };
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let source = format!("oci-dir:{}", oci.display());
    // The timestamp is the scan's time: one SOURCE_DATE_EPOCH makes two scans one document.
    let scan = |format: &str| {
        gpubom()
            .args(["scan", &source, "-f", format, "-q"])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .unwrap()
    };
    let a = scan("cyclonedx-json");
    let b = scan("cyclonedx-json");
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout, "two scans of the same image differ");

    let bom: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(bom["specVersion"], "1.6");
    validate_cyclonedx(&bom);

    for (format, namespace) in [
        ("cyclonedx-xml", "http://cyclonedx.org/schema/bom/1.6"),
        ("cyclonedx-xml@1.5", "http://cyclonedx.org/schema/bom/1.5"),
    ] {
        let xml = scan(format);
        assert!(xml.status.success(), "{}", stderr(&xml));
        let xml = String::from_utf8(xml.stdout).unwrap();
        assert!(
            xml.contains(&format!("<bom xmlns=\"{namespace}\"")),
            "{format} is not in {namespace}"
        );
        assert!(xml.contains("pkg:pypi/six@1.16.0"));
    }
}

#[test]
fn opaque_directories_hide_lower_layers_synthetic() {
    let dist = |v: &str| format!("Metadata-Version: 2.1\nName: synthetic-pkg\nVersion: {v}\n");
    let venv = "opt/venv/lib/python3.11/site-packages";
    let spec = ImageSpec::new("synthetic/opaque", "1")
        .layer(
            Layer::new()
                .file(
                    &format!("{venv}/synthetic_pkg-1.0.dist-info/METADATA"),
                    dist("1.0"),
                )
                .file(
                    &format!("{venv}/other_pkg-2.0.dist-info/METADATA"),
                    "Name: other-pkg\nVersion: 2.0\n",
                ),
        )
        .layer(Layer::new().opaque(venv).file(
            &format!("{venv}/synthetic_pkg-3.0.dist-info/METADATA"),
            dist("3.0"),
        ));
    let dir = tmp();
    let archive = dir.path().join("opaque.tar");
    spec.write_oci_archive(&archive);
    let bom = scan_json(&archive.display().to_string());
    assert_eq!(names_versions(&bom, "pkg:pypi/"), vec!["synthetic-pkg@3.0"]);
}

#[test]
fn a_plain_directory_is_scanned_as_a_rootfs() {
    let Some(spec) = debian_python_image("a_plain_directory_is_scanned_as_a_rootfs") else {
        return;
    };
    let dir = tmp();
    let rootfs = dir.path().join("rootfs");
    spec.write_rootfs(&rootfs);
    let bom = scan_json(&format!("dir:{}", rootfs.display()));
    let pythons = names_versions(&bom, "pkg:pypi/");
    assert!(pythons.contains(&"six@1.16.0".to_string()), "{pythons:?}");
    assert!(!pythons.contains(&"six@1.15.0".to_string()), "{pythons:?}");
    assert!(names_versions(&bom, "pkg:deb/")
        .iter()
        .any(|d| d.starts_with("zlib1g@")));
}
