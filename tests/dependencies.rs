//! The dependency graph on real metadata: torch 2.1.2's own `METADATA` beside
//! real wheels, real Debian packages and dpkg's real status database, and real
//! NVIDIA libraries whose `DT_NEEDED` names one another. The inventory is read
//! through the pipeline (the SBOM writers carry its edges out).

mod common;

use common::*;
use gpubom_inventory::{props, Component, ComponentKind, DependencyKind, Inventory};
use gpubom_pipeline::{scan_source, ScanSettings, Silent};
use gpubom_policy::Config;
use gpubom_testkit::image::{Compression, ImageSpec, Layer};
use gpubom_testkit::real;
use std::collections::BTreeSet;

/// torch 2.1.2's wheel for CPython 3.11 on x86_64 (PyPI), whose `METADATA` (25,905
/// bytes) PyPI serves at this URL + `.metadata`. Its sha256 is the one the wheel's
/// own `RECORD` lists for `torch-2.1.2.dist-info/METADATA`
/// (`HWwS41sOu9reVqVk0k6rsMSEaDR-Qh6pQ4IMvTof2fM`), read from the wheel on 2026-12-07.
const TORCH_WHEEL: &str = "https://files.pythonhosted.org/packages/da/6a/7fb9d82db4568834ff6d4df2fe3b143de4ed65a3f8f93e7daed703626cb6/torch-2.1.2-cp311-cp311-manylinux1_x86_64.whl";
const TORCH_METADATA_SHA256: &str =
    "1d6c12e35b0ebbdade56a564d24eabb0c48468347e421ea943820cbd3a1fd9f3";

/// Real small wheels torch's requirements can resolve to, and a few with markers of their own.
const JINJA2: (&str, &str) = ("Jinja2", "3.1.2");
const MARKUPSAFE: (&str, &str) = ("MarkupSafe", "2.1.3");
const TYPING_EXTENSIONS: (&str, &str) = ("typing_extensions", "4.9.0");
const CLICK: (&str, &str) = ("click", "8.1.7");
const COLORAMA: (&str, &str) = ("colorama", "0.4.6");
const IMPORTLIB_METADATA: (&str, &str) = ("importlib-metadata", "6.8.0");

fn scan(spec: &ImageSpec, platform: &str) -> Inventory {
    let dir = tmp();
    let path = dir.path().join("oci");
    spec.write_oci_dir(&path);
    let settings = ScanSettings {
        no_cache: true,
        platform: Some(platform.to_string()),
        ..Default::default()
    };
    scan_source(
        &format!("oci-dir:{}", path.display()),
        &settings,
        &Config::default(),
        &Silent,
    )
    .expect("scan")
    .inventory
}

/// A component's name, in PEP 503 spelling for a wheel (`Jinja2` is `jinja2`).
fn name_of(component: &Component) -> String {
    match component.kind {
        ComponentKind::Python => gpubom_formats::python::normalize_name(&component.name),
        _ => component.name.clone(),
    }
}

/// `from → to` of every edge of `kind`, by component name.
fn edges(inventory: &Inventory, kind: DependencyKind) -> BTreeSet<(String, String)> {
    let name = |i: usize| name_of(&inventory.components[i]);
    inventory
        .dependencies
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| (name(d.from), name(d.to)))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn named<'a>(inventory: &'a Inventory, name: &str) -> &'a Component {
    inventory
        .components
        .iter()
        .find(|c| name_of(c) == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

fn unresolved<'a>(inventory: &'a Inventory, name: &str, property: &str) -> Vec<&'a str> {
    named(inventory, name)
        .properties
        .get(property)
        .map(|list| list.split(',').collect())
        .unwrap_or_default()
}

/// An image with torch's real `METADATA` and real wheels installed beside it, or
/// `None` (skipped, with the reason) when they cannot be had.
fn torch_image(test: &str, wheels: &[(&str, &str)]) -> Option<ImageSpec> {
    let metadata = or_skip(
        test,
        real::pypi_wheel_metadata(TORCH_WHEEL, TORCH_METADATA_SHA256),
    )?;
    let mut spec = ImageSpec::new("synthetic/torch-metadata", "1")
        .layer(Layer::new().file(&format!("{SITE}/torch-2.1.2.dist-info/METADATA"), metadata));
    for wheel in wheels {
        let layer = or_skip(test, wheel_layer(SITE, wheel))?;
        spec = spec.layer(layer.compression(Compression::None));
    }
    Some(spec)
}

const TORCH_WITHOUT_NVIDIA: &[&str] = &["filelock", "fsspec", "networkx", "sympy"];
const TORCH_NVIDIA_NOT_INSTALLED: &[&str] = &[
    "nvidia-cublas-cu12",
    "nvidia-cuda-cupti-cu12",
    "nvidia-cuda-nvrtc-cu12",
    "nvidia-cudnn-cu12",
    "nvidia-cufft-cu12",
    "nvidia-curand-cu12",
    "nvidia-cusolver-cu12",
    "nvidia-cusparse-cu12",
    "nvidia-nccl-cu12",
    "triton",
];

#[test]
fn torch_requires_the_nvidia_wheels_installed_beside_it() {
    let test = "torch_requires_the_nvidia_wheels_installed_beside_it";
    let wheels = [CUDART, NVTX, JINJA2, MARKUPSAFE, TYPING_EXTENSIONS];
    let Some(spec) = torch_image(test, &wheels) else {
        return;
    };
    let inventory = scan(&spec, "linux/amd64");
    assert_eq!(
        edges(&inventory, DependencyKind::Requires),
        pairs(&[
            ("torch", "nvidia-cuda-runtime-cu12"),
            ("torch", "nvidia-nvtx-cu12"),
            ("torch", "jinja2"),
            ("torch", "typing-extensions"),
            ("jinja2", "markupsafe"),
        ])
    );
    // What torch requires on x86_64 Linux and the image lacks; `opt-einsum` is an
    // extra nobody asked for, and jinja2's `Babel` likewise.
    let mut missing: Vec<&str> = TORCH_WITHOUT_NVIDIA
        .iter()
        .chain(TORCH_NVIDIA_NOT_INSTALLED)
        .copied()
        .collect();
    missing.sort();
    assert_eq!(
        unresolved(&inventory, "torch", props::UNRESOLVED_REQUIRES),
        missing
    );
    assert!(unresolved(&inventory, "jinja2", props::UNRESOLVED_REQUIRES).is_empty());
    // libcudart.so.12 needs the C library, which this image does not have.
    assert_eq!(
        unresolved(
            &inventory,
            "nvidia-cuda-runtime-cu12",
            props::UNRESOLVED_NEEDED
        ),
        [
            "ld-linux-x86-64.so.2",
            "libc.so.6",
            "libdl.so.2",
            "libpthread.so.0",
            "librt.so.1"
        ]
    );
}

#[test]
fn on_arm64_torch_does_not_require_the_x86_64_nvidia_wheels() {
    let test = "on_arm64_torch_does_not_require_the_x86_64_nvidia_wheels";
    let Some(spec) = torch_image(test, &[CUDART, NVTX]) else {
        return;
    };
    // The same files, declared as an arm64 image: `platform_machine == "x86_64"` is false.
    let inventory = scan(&spec.platform("linux", "arm64"), "linux/arm64");
    assert!(
        edges(&inventory, DependencyKind::Requires).is_empty(),
        "{:?}",
        inventory.dependencies
    );
    let mut missing = TORCH_WITHOUT_NVIDIA.to_vec();
    missing.extend(["jinja2", "typing-extensions"]);
    missing.sort();
    assert_eq!(
        unresolved(&inventory, "torch", props::UNRESOLVED_REQUIRES),
        missing
    );
}

#[test]
fn markers_and_extras_decide_which_installed_distributions_count() {
    let test = "markers_and_extras_decide_which_installed_distributions_count";
    // click wants colorama only on Windows and importlib-metadata only before 3.8;
    // importlib-metadata wants typing-extensions only before 3.8. All are installed.
    let mut spec = ImageSpec::new("synthetic/markers", "1");
    for wheel in [
        CLICK,
        COLORAMA,
        IMPORTLIB_METADATA,
        TYPING_EXTENSIONS,
        JINJA2,
        MARKUPSAFE,
    ] {
        let Some(layer) = or_skip(test, wheel_layer(SITE, &wheel)) else {
            return;
        };
        spec = spec.layer(layer.compression(Compression::None));
    }
    // Asks jinja2 for its `i18n` extra, which brings in Babel (not installed).
    let asking = "Metadata-Version: 2.1\nName: synthetic-app\nVersion: 1.0\nRequires-Dist: Jinja2[i18n] (>=3)\n";
    spec = spec.layer(Layer::new().file(
        &format!("{SITE}/synthetic_app-1.0.dist-info/METADATA"),
        asking,
    ));
    let inventory = scan(&spec, "linux/amd64");
    assert_eq!(
        edges(&inventory, DependencyKind::Requires),
        pairs(&[("synthetic-app", "jinja2"), ("jinja2", "markupsafe")])
    );
    assert!(unresolved(&inventory, "click", props::UNRESOLVED_REQUIRES).is_empty());
    assert_eq!(
        unresolved(&inventory, "importlib-metadata", props::UNRESOLVED_REQUIRES),
        ["zipp"]
    );
    assert_eq!(
        unresolved(&inventory, "jinja2", props::UNRESOLVED_REQUIRES),
        ["babel"]
    );
}

#[test]
fn dpkg_depends_resolve_to_installed_packages_and_providers() {
    let debs = debs(&[
        ("base-files", "12.4+deb12u15"),
        ("bzip2", "1.0.8-5+b1"),
        ("libbz2-1.0", "1.0.8-5+b1"),
        ("mawk", "1.3.4.20200120-3.1"),
        ("zlib1g", "1:1.2.13.dfsg-1"),
        ("libexpat1", "2.5.0-1+deb12u5"),
    ]);
    let all: Vec<&Deb> = debs.iter().collect();
    let spec = ImageSpec::new("synthetic/debs", "1").layer(dpkg_layer(&all, &all));
    let inventory = scan(&spec, "linux/amd64");
    // base-files Pre-Depends on the virtual `awk`, which mawk provides.
    assert_eq!(
        edges(&inventory, DependencyKind::Depends),
        pairs(&[("base-files", "mawk"), ("bzip2", "libbz2-1.0")])
    );
    for package in ["bzip2", "libbz2-1.0", "mawk", "zlib1g", "libexpat1"] {
        assert_eq!(
            unresolved(&inventory, package, props::UNRESOLVED_REQUIRES),
            ["libc6"],
            "{package}"
        );
    }
    assert!(unresolved(&inventory, "base-files", props::UNRESOLVED_REQUIRES).is_empty());
}

/// dpkg's status database of a real Debian 12 machine (15 packages; see
/// crates/formats/testdata/README.md): Pre-Depends, alternatives, versioned
/// requirements and packages it names but does not hold.
#[test]
fn a_real_status_database_resolves_within_itself() {
    let status = std::fs::read("crates/formats/testdata/dpkg-status.debian-12").expect("testdata");
    let spec = ImageSpec::new("synthetic/status", "1")
        .layer(Layer::new().file("var/lib/dpkg/status", status));
    let inventory = scan(&spec, "linux/amd64");
    assert_eq!(
        edges(&inventory, DependencyKind::Depends),
        pairs(&[
            ("bash", "base-files"),
            ("bash", "libc6"),
            ("coreutils", "libc6"),
            ("dpkg", "libbz2-1.0"),
            ("dpkg", "libc6"),
            ("dpkg", "zlib1g"),
            ("git", "libc6"),
            ("git", "libexpat1"),
            ("git", "zlib1g"),
            ("libbz2-1.0", "libc6"),
            ("libexpat1", "libc6"),
            ("libssl3", "libc6"),
            ("libstdc++6", "gcc-12-base"),
            ("libstdc++6", "libc6"),
            ("perl-base", "dpkg"),
            ("perl-base", "libc6"),
            ("zlib1g", "libc6"),
        ])
    );
    let missing = |name| unresolved(&inventory, name, props::UNRESOLVED_REQUIRES);
    assert_eq!(missing("tzdata"), ["debconf|debconf-2.0"]);
    assert_eq!(
        missing("python3.11"),
        [
            "libpython3.11-stdlib",
            "media-types|mime-support",
            "python3.11-minimal"
        ]
    );
    assert_eq!(missing("base-files"), ["awk"]);
    assert_eq!(missing("libc6"), ["libgcc-s1"]);
    assert_eq!(missing("libstdc++6"), ["libgcc-s1"]);
}

/// cuSPARSE for CUDA 13 (`libcusparse.so.12`, RUNPATH `$ORIGIN`) needs
/// `libnvJitLink.so.13`, which the nvidia-nvjitlink wheel installs in the same
/// `nvidia/cu13/lib`; its METADATA also requires that wheel.
#[test]
fn cusparse_links_to_the_nvjitlink_wheel_through_its_runpath() {
    let test = "cusparse_links_to_the_nvjitlink_wheel_through_its_runpath";
    // 260 MB of libraries: unpacked by Python's zipfile into a directory and scanned
    // there, since packing them into a layer in a debug build would dominate the test.
    let root = tmp();
    for (wheel, library) in [
        (("nvidia-cusparse", "12.6.3.3"), "libcusparse.so.12"),
        (("nvidia-nvjitlink", "13.0.88"), "libnvJitLink.so.13"),
    ] {
        let wanted = [library, ".dist-info/METADATA", ".dist-info/RECORD"];
        let Some(members) = or_skip(
            test,
            real::pypi_wheel(wheel.0, wheel.1).and_then(|w| wheel_members(&w, &wanted)),
        ) else {
            return;
        };
        for (name, bytes) in members {
            let path = root.path().join(SITE).join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
    let inventory = scan_source(
        &format!("dir:{}", root.path().display()),
        &ScanSettings {
            no_cache: true,
            ..Default::default()
        },
        &Config::default(),
        &Silent,
    )
    .expect("scan")
    .inventory;
    let expected = pairs(&[("nvidia-cusparse", "nvidia-nvjitlink")]);
    assert_eq!(edges(&inventory, DependencyKind::Links), expected);
    assert_eq!(edges(&inventory, DependencyKind::Requires), expected);
    assert!(
        !unresolved(&inventory, "nvidia-cusparse", props::UNRESOLVED_NEEDED)
            .contains(&"libnvJitLink.so.13")
    );
}

/// cuFile's RDMA library needs `libcufile.so.0`. Inside the wheel both files are
/// one component, so that is no edge; copied bare into two directories, the loader
/// finds it through `ld.so.conf.d` or the image's `LD_LIBRARY_PATH`, and the two
/// library components are joined.
#[test]
fn bare_libraries_link_through_ld_so_conf_and_ld_library_path() {
    let test = "bare_libraries_link_through_ld_so_conf_and_ld_library_path";
    let wheel = ("nvidia-cufile", "1.15.1.6");
    let Some(members) = or_skip(
        test,
        real::pypi_wheel(wheel.0, wheel.1)
            .and_then(|w| wheel_members(&w, &["libcufile.so.0", "libcufile_rdma.so.1"])),
    ) else {
        return;
    };
    let bytes = |name: &str| {
        members
            .iter()
            .find(|(path, _)| path.ends_with(name))
            .map(|(_, b)| b.clone())
            .expect("member")
    };
    let (cufile, rdma) = (bytes("libcufile.so.0"), bytes("libcufile_rdma.so.1"));

    // Debian's ld.so.conf (libc-bin) with a conf file naming the directory (synthetic).
    let conf = Layer::new()
        .compression(Compression::None)
        .file("etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n\n")
        .file("etc/ld.so.conf.d/gds.conf", "# synthetic\n/opt/gds/lib\n");

    // Inside the wheel both are the wheel's: found through a conf file naming the
    // wheel's directory (synthetic), but two files of one component make no edge.
    let in_wheel = or_skip(test, wheel_layer(SITE, &wheel))
        .expect("fetched above")
        .compression(Compression::None);
    let wheel_conf = Layer::new()
        .compression(Compression::None)
        .file("etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n\n")
        .file(
            "etc/ld.so.conf.d/cufile.conf",
            format!("# synthetic\n/{SITE}/nvidia/cu13/lib\n"),
        );
    let inventory = scan(
        &ImageSpec::new("synthetic/cufile-wheel", "1")
            .layer(in_wheel)
            .layer(wheel_conf),
        "linux/amd64",
    );
    assert!(
        inventory.dependencies.is_empty(),
        "{:?}",
        inventory.dependencies
    );
    let needed = unresolved(&inventory, "nvidia-cufile", props::UNRESOLVED_NEEDED);
    assert!(needed.contains(&"libibverbs.so.1"), "{needed:?}");
    assert!(!needed.contains(&"libcufile.so.0"), "{needed:?}");

    let through_conf = ImageSpec::new("synthetic/cufile-conf", "1").layer(
        conf.file("opt/gds/lib/libcufile.so.0", cufile.clone())
            .file("usr/local/rdma/lib/libcufile_rdma.so.1", rdma.clone()),
    );
    let through_env = ImageSpec::new("synthetic/cufile-env", "1")
        .env("LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/opt/cufile")
        .layer(
            Layer::new()
                .compression(Compression::None)
                .file("opt/cufile/libcufile.so.0", cufile.clone())
                .file("usr/local/rdma/lib/libcufile_rdma.so.1", rdma.clone()),
        );
    for spec in [through_conf, through_env] {
        let inventory = scan(&spec, "linux/amd64");
        let links: Vec<(&str, &str)> = inventory
            .dependencies
            .iter()
            .map(|d| {
                let path = |i: usize| inventory.components[i].locations[0].path.as_str();
                (path(d.from), path(d.to))
            })
            .collect();
        assert_eq!(links.len(), 1, "{links:?}");
        assert!(links[0].0.ends_with("/libcufile_rdma.so.1"), "{links:?}");
        assert!(links[0].1.ends_with("/libcufile.so.0"), "{links:?}");
        assert_eq!(inventory.dependencies[0].kind, DependencyKind::Links);
    }

    // Nowhere the loader looks: no edge, and the name is listed on the library.
    let lost = ImageSpec::new("synthetic/cufile-lost", "1").layer(
        Layer::new()
            .compression(Compression::None)
            .file("opt/elsewhere/libcufile.so.0", cufile)
            .file("usr/local/rdma/lib/libcufile_rdma.so.1", rdma),
    );
    let inventory = scan(&lost, "linux/amd64");
    assert!(inventory.dependencies.is_empty());
    let rdma = inventory
        .components
        .iter()
        .find(|c| c.locations[0].path.ends_with("libcufile_rdma.so.1"))
        .expect("the rdma library");
    let needed = &rdma.properties[props::UNRESOLVED_NEEDED];
    assert!(needed.split(',').any(|n| n == "libcufile.so.0"), "{needed}");
}

/// triton 3.6.0 vendors CUPTI: the library is a component of its own, named
/// `gpubom:bundled_by` triton, and triton gets a `Bundles` edge to it.
#[test]
fn a_package_bundles_the_nvidia_library_it_vendors() {
    let test = "a_package_bundles_the_nvidia_library_it_vendors";
    let wanted = [
        "triton-3.6.0.dist-info/",
        "/libcupti.so.2025.1.1",
        "/libcupti.so.12",
    ];
    let Some(files) = or_skip(
        test,
        real::pypi_wheel("triton", "3.6.0").and_then(|w| wheel_members(&w, &wanted)),
    ) else {
        return;
    };
    let mut layer = Layer::new().compression(Compression::None);
    for (path, bytes) in files {
        layer = layer.file(&format!("{SITE}/{path}"), bytes);
    }
    let inventory = scan(
        &ImageSpec::new("synthetic/triton", "1").layer(layer),
        "linux/amd64",
    );
    assert_eq!(
        edges(&inventory, DependencyKind::Bundles),
        pairs(&[("triton", "cupti")])
    );
    assert_eq!(
        named(&inventory, "cupti").properties[props::BUNDLED_BY],
        "pkg:pypi/triton@3.6.0"
    );
}
