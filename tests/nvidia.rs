//! NVIDIA's native stack, found with and without package metadata, on the
//! real libcudart from the `nvidia-cuda-runtime-cu12` 12.1.105 wheel and other
//! real NVIDIA wheels from PyPI.

mod common;

use common::*;
use gpubom_testkit::elf::synthetic_shared_object;
use gpubom_testkit::image::{Compression, ImageSpec, Layer};
use gpubom_testkit::real;

const CUDART_SHA256_PREFIX: &str = "9335f6a2"; // nvidia-formats.md, checked on real bytes

fn real_cudart(test: &str) -> Option<Vec<u8>> {
    let wheel = or_skip(test, real::pypi_wheel(CUDART.0, CUDART.1))?;
    let files = or_skip(test, real::wheel_files(&wheel))?;
    files
        .into_iter()
        .find(|(p, _)| p.ends_with("lib/libcudart.so.12"))
        .map(|(_, bytes)| bytes)
}

fn nvidia_components(bom: &serde_json::Value) -> Vec<&serde_json::Value> {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| property(c, "gpubom:nvidia:family").is_some())
        .collect()
}

fn occurrences(c: &serde_json::Value) -> Vec<&str> {
    c["evidence"]["occurrences"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["location"].as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn libcudart_installed_three_ways() {
    let test = "libcudart_installed_three_ways";
    let Some(cudart) = real_cudart(test) else {
        return;
    };
    assert!(sha256_hex(&cudart).starts_with(CUDART_SHA256_PREFIX));
    let Some(wheel) = or_skip(test, wheel_layer(SITE, &CUDART)) else {
        return;
    };
    // What NVIDIA's CUDA 12.1.1 images declare: the toolkit release, not libcudart's 12.1.105.
    let spec = ImageSpec::new("synthetic/cuda-three-ways", "1")
        .env("CUDA_VERSION=12.1.1")
        .layer(wheel.created_by("RUN pip install nvidia-cuda-runtime-cu12==12.1.105"))
        .layer(
            Layer::new()
                .file(
                    "usr/local/cuda-12.1/targets/x86_64-linux/lib/libcudart.so.12.1.105",
                    cudart.clone(),
                )
                .symlink(
                    "usr/local/cuda-12.1/targets/x86_64-linux/lib/libcudart.so.12",
                    "libcudart.so.12.1.105",
                )
                .created_by("COPY cuda-12.1 /usr/local/cuda-12.1")
                .compression(Compression::Zstd),
        )
        .layer(
            Layer::new()
                .file("opt/app/vendor/libcudart.so.12", cudart.clone())
                .file("opt/other/libvendored-runtime.so", cudart)
                .created_by("COPY vendor /opt"),
        );
    let dir = tmp();
    let archive = dir.path().join("image.tar");
    spec.write_oci_archive(&archive);
    let bom = scan_json(&archive.display().to_string());
    let nvidia = nvidia_components(&bom);

    // 1. The wheel's own copy belongs to the wheel: one pypi component, no twin.
    let wheel = nvidia
        .iter()
        .find(|c| c["purl"] == "pkg:pypi/nvidia-cuda-runtime-cu12@12.1.105")
        .expect("the wheel carries the NVIDIA facts");
    assert!(occurrences(wheel)
        .iter()
        .any(|p| p.ends_with("nvidia/cuda_runtime/lib/libcudart.so.12")));
    assert_eq!(
        property(wheel, "gpubom:nvidia:family"),
        Some("cuda-runtime")
    );
    assert!(
        wheel["evidence"]["identity"]["methods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["value"]
                .as_str()
                .unwrap_or("")
                .contains("matching sha256")),
        "ownership must be confirmed by the RECORD hash: {wheel:#}"
    );

    // 2 and 3. Bare copies, with and without a versioned file name, and one renamed
    // beyond recognition: all dated exactly by the fingerprint table.
    let bare: Vec<&&serde_json::Value> = nvidia
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .unwrap_or("")
                .starts_with("pkg:generic/nvidia/cuda-runtime@")
        })
        .collect();
    let mut bare_paths: Vec<&str> = bare.iter().flat_map(|c| occurrences(c)).collect();
    bare_paths.sort();
    assert_eq!(
        bare_paths,
        vec![
            "/opt/app/vendor/libcudart.so.12",
            "/opt/other/libvendored-runtime.so",
            "/usr/local/cuda-12.1/targets/x86_64-linux/lib/libcudart.so.12.1.105",
        ]
    );
    for c in &bare {
        assert_eq!(c["version"], "12.1.105", "{c:#}");
        assert_eq!(
            c["cpe"],
            "cpe:2.3:a:nvidia:cuda_toolkit:12.1.105:*:*:*:*:*:*:*"
        );
        assert_eq!(property(c, "gpubom:nvidia:min_driver"), Some("525.60.13"));
        assert_eq!(property(c, "gpubom:version:conflict"), None, "{c:#}");
        let techniques: Vec<&str> = c["evidence"]["identity"]["methods"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["technique"].as_str())
            .collect();
        assert!(techniques.contains(&"hash-comparison"), "{techniques:?}");
    }
    let apt_style = bare
        .iter()
        .find(|c| occurrences(c)[0].starts_with("/usr/local/cuda-12.1"))
        .unwrap();
    assert_eq!(property(apt_style, "gpubom:layer:index"), Some("1"));
    assert_eq!(
        property(apt_style, "gpubom:nvidia:soname"),
        Some("libcudart.so.12")
    );
}

#[test]
fn declared_env_that_disagrees_is_a_conflict() {
    let test = "declared_env_that_disagrees_is_a_conflict";
    let Some(cudart) = real_cudart(test) else {
        return;
    };
    let spec = ImageSpec::new("synthetic/cuda-conflict", "1")
        .env("CUDA_VERSION=12.4.1")
        .layer(Layer::new().file("usr/lib/x86_64-linux-gnu/libcudart.so.12", cudart));
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());
    let c = nvidia_components(&bom)[0];
    assert_eq!(c["version"], "12.1.105");
    assert_eq!(property(c, "gpubom:version:conflict"), Some("true"));
    assert_eq!(property(c, "gpubom:declared:version"), Some("12.4.1"));
    assert_eq!(
        property(c, "gpubom:declared:source"),
        Some("env:CUDA_VERSION")
    );
}

#[test]
fn apt_installed_library_belongs_to_its_deb_synthetic_record() {
    let test = "apt_installed_library_belongs_to_its_deb_synthetic_record";
    let Some(cudart) = real_cudart(test) else {
        return;
    };
    // NVIDIA's own .debs are not in Debian's archive: the package record is
    // synthetic (named as NVIDIA names it), the library bytes are real.
    let lib = "usr/local/cuda-12.1/targets/x86_64-linux/lib/libcudart.so.12.1.105";
    let status = "Package: cuda-cudart-12-1\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.1.105-1\nDescription: CUDA Runtime native Libraries\n";
    let spec = ImageSpec::new("synthetic/apt-cuda", "1").layer(
        Layer::new()
            .file(lib, cudart)
            .file("var/lib/dpkg/status", status)
            .file(
                "var/lib/dpkg/info/cuda-cudart-12-1.list",
                format!("/{lib}\n"),
            ),
    );
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());
    let nvidia = nvidia_components(&bom);
    assert_eq!(
        nvidia.len(),
        1,
        "one component, not a deb and a twin: {nvidia:#?}"
    );
    assert_eq!(nvidia[0]["name"], "cuda-cudart-12-1");
    assert!(nvidia[0]["purl"].as_str().unwrap().starts_with("pkg:deb/"));
    assert!(occurrences(nvidia[0]).contains(&format!("/{lib}").as_str()));
}

#[test]
fn tensorrt_version_from_symbols_synthetic_elf() {
    let libnvinfer = synthetic_shared_object(
        "libnvinfer.so.10",
        &["tensorrt_version_10_9_0_34", "unrelated text"],
    );
    let spec = ImageSpec::new("synthetic/trt", "1")
        .layer(Layer::new().file("usr/lib/x86_64-linux-gnu/libnvinfer.so.10", libnvinfer))
        .layer(Layer::new().file(
            "usr/local/cuda-12.4/lib64/stubs/libcuda.so",
            synthetic_shared_object("libcuda.so.1", &[]),
        ));
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());
    let trt = find_component(&bom, "tensorrt").expect("tensorrt component");
    assert_eq!(trt["version"], "10.9.0.34");
    assert_eq!(trt["purl"], "pkg:generic/nvidia/tensorrt@10.9.0.34");
    assert_eq!(
        trt["cpe"],
        "cpe:2.3:a:nvidia:tensorrt:10.9.0.34:*:*:*:*:*:*:*"
    );
    assert_eq!(
        property(trt, "gpubom:nvidia:soname"),
        Some("libnvinfer.so.10")
    );
    let stub = find_component(&bom, "cuda-driver-stub").expect("driver stub");
    assert_eq!(property(stub, "gpubom:nvidia:stub"), Some("true"));
    assert_eq!(stub["version"], "12.4");

    let table = run(&["scan", &oci.display().to_string(), "-f", "table", "-q"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("NVIDIA stack (2)"), "{text}");
    assert!(
        text.contains("tensorrt") && text.contains("10.9.0.34") && text.contains("elf"),
        "{text}"
    );
}

#[test]
fn user_fingerprint_tables_are_used_and_checked_synthetic() {
    let lib = synthetic_shared_object("libnccl.so.2", &[]);
    let sha = sha256_hex(&lib);
    let dir = tmp();
    let table = dir.path().join("mine.tsv");
    std::fs::write(
        &table,
        format!("{sha}\tnccl\t2.99.1\tlibnccl.so.2\tsynthetic test entry\n"),
    )
    .unwrap();
    let spec =
        ImageSpec::new("synthetic/fp", "1").layer(Layer::new().file("opt/libnccl.so.2", lib));
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let source = oci.display().to_string();
    let out = run(&[
        "scan",
        &source,
        "--fingerprints",
        table.to_str().unwrap(),
        "-f",
        "cyclonedx-json",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(find_component(&bom, "nccl").unwrap()["version"], "2.99.1");

    std::fs::write(&table, "not\ta\ttable\n").unwrap();
    let out = run(&[
        "scan",
        &source,
        "--fingerprints",
        table.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("mine.tsv:1:"), "{}", stderr(&out));
}

#[test]
fn nvrtc_compiler_banner_matches_its_wheel() {
    let test = "nvrtc_compiler_banner_matches_its_wheel";
    let Some(wheel) = or_skip(test, real::pypi_wheel("nvidia-cuda-nvrtc-cu12", "12.1.105")) else {
        return;
    };
    let Some(files) = or_skip(test, real::wheel_files(&wheel)) else {
        return;
    };
    let (_, nvrtc) = files
        .into_iter()
        .find(|(p, _)| p.ends_with("libnvrtc.so.12"))
        .expect("libnvrtc in wheel");
    // Under an unversioned name, so the file name cannot date it: the banner inside must.
    let spec = ImageSpec::new("synthetic/nvrtc", "1")
        .layer(Layer::new().file("opt/lib/libnvrtc.so.12", nvrtc));
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());
    let c = find_component(&bom, "nvrtc").expect("nvrtc");
    assert_eq!(c["version"], "12.1.105");
    let methods = c["evidence"]["identity"]["methods"].as_array().unwrap();
    assert!(
        methods.iter().any(|m| m["technique"] == "binary-analysis"
            && m["value"]
                .as_str()
                .unwrap()
                .contains("Cuda compilation tools, release 12.1, V12.1.105")),
        "{methods:#?}"
    );
}

#[test]
fn framework_build_facts_and_tensorrt_bindings_synthetic() {
    // torch/version.py in the shape PyTorch generates it (type-annotated assignments).
    let version_py = "from typing import Optional\n__version__ = '2.5.1+cu121'\ndebug = False\ncuda: Optional[str] = '12.1'\nhip: Optional[str] = None\n";
    let torch = format!("{SITE}/torch-2.5.1.dist-info");
    let trt = format!("{SITE}/tensorrt_cu12_bindings-10.0.1.dist-info");
    let spec = ImageSpec::new("synthetic/torch", "1").layer(
        Layer::new()
            .file(
                &format!("{torch}/METADATA"),
                "Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1+cu121\n",
            )
            .file(&format!("{torch}/RECORD"), "torch/version.py,,\n")
            .file(&format!("{SITE}/torch/version.py"), version_py)
            .file(
                &format!("{trt}/METADATA"),
                "Metadata-Version: 2.1\nName: tensorrt_cu12_bindings\nVersion: 10.0.1\n",
            ),
    );
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());
    let torch = find_component(&bom, "torch").expect("torch");
    assert_eq!(
        property(torch, "gpubom:nvidia:built_with_cuda"),
        Some("12.1")
    );
    let bindings = find_component(&bom, "tensorrt_cu12_bindings").expect("bindings");
    assert_eq!(
        property(bindings, "gpubom:nvidia:tensorrt_expected"),
        Some("10.0.1")
    );
}

/// One library of a small real wheel, by file name.
fn wheel_library(test: &str, wheel: (&str, &str), file: &str) -> Option<Vec<u8>> {
    let path = or_skip(test, real::pypi_wheel(wheel.0, wheel.1))?;
    let files = or_skip(test, real::wheel_files(&path))?;
    let found = files
        .into_iter()
        .find(|(p, _)| p.rsplit('/').next() == Some(file))
        .map(|(_, bytes)| bytes);
    assert!(found.is_some(), "{file} is not in {}=={}", wheel.0, wheel.1);
    found
}

fn with_purl<'a>(bom: &'a serde_json::Value, purl_prefix: &str) -> Vec<&'a serde_json::Value> {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["purl"].as_str().unwrap_or("").starts_with(purl_prefix))
        .collect()
}

fn method_values(c: &serde_json::Value) -> Vec<&str> {
    c["evidence"]["identity"]["methods"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default()
}

/// CUDA 11.7's runtime and NVRTC: real NVIDIA bytes that no fingerprint dates.
const CUDART_11_7: (&str, &str) = ("nvidia-cuda-runtime-cu11", "11.7.99");
const NVRTC_11_7: (&str, &str) = ("nvidia-cuda-nvrtc-cu11", "11.7.99");

#[test]
fn one_product_in_one_directory_is_one_component_synthetic() {
    // A cuDNN 9.14 apt install: libcudnn.so.9.14.0 is dated exactly by its hash
    // (here a user table; in the field, the built-in one), the seven sub-libraries
    // only by their file names. Same product, same directory, agreeing versions.
    let dir = tmp();
    let lib = "usr/lib/x86_64-linux-gnu";
    let dispatcher = synthetic_shared_object("libcudnn.so.9", &["cudnn dispatcher"]);
    let table = dir.path().join("cudnn.tsv");
    std::fs::write(
        &table,
        format!(
            "{}\tcudnn\t9.14.0.64\tlibcudnn.so.9\tsynthetic test entry\n",
            sha256_hex(&dispatcher)
        ),
    )
    .unwrap();
    let mut layer = Layer::new().file(&format!("{lib}/libcudnn.so.9.14.0"), dispatcher);
    let parts = [
        "ops",
        "cnn",
        "adv",
        "graph",
        "heuristic",
        "engines_precompiled",
        "engines_runtime_compiled",
    ];
    for part in parts {
        let soname = format!("libcudnn_{part}.so.9");
        layer = layer.file(
            &format!("{lib}/libcudnn_{part}.so.9.14.0"),
            synthetic_shared_object(&soname, &[part]),
        );
    }
    // A leftover cuDNN 8 library in the same directory disagrees: its own component.
    layer = layer.file(
        &format!("{lib}/libcudnn_ops_infer.so.8.9.7"),
        synthetic_shared_object("libcudnn_ops_infer.so.8", &[]),
    );
    let spec = ImageSpec::new("synthetic/cudnn-apt", "1")
        .layer(layer)
        // Another directory: another component, even at the same version.
        .layer(Layer::new().file(
            "opt/cudnn/lib/libcudnn_ops.so.9.14.0",
            synthetic_shared_object("libcudnn_ops.so.9", &["copy"]),
        ));
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let out = run(&[
        "scan",
        &oci.display().to_string(),
        "--fingerprints",
        table.to_str().unwrap(),
        "-f",
        "cyclonedx-json",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cudnn = with_purl(&bom, "pkg:generic/nvidia/cudnn");
    let mut found: Vec<(String, usize)> = cudnn
        .iter()
        .map(|c| {
            (
                format!(
                    "{} {}",
                    c["version"].as_str().unwrap_or("-"),
                    occurrences(c)[0]
                ),
                occurrences(c).len(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "8.9.7 /usr/lib/x86_64-linux-gnu/libcudnn_ops_infer.so.8.9.7".to_string(),
                1
            ),
            (
                "9.14.0 /opt/cudnn/lib/libcudnn_ops.so.9.14.0".to_string(),
                1
            ),
            (
                "9.14.0.64 /usr/lib/x86_64-linux-gnu/libcudnn.so.9.14.0".to_string(),
                8
            ),
        ],
        "{cudnn:#?}"
    );
    let apt = cudnn.iter().find(|c| c["version"] == "9.14.0.64").unwrap();
    let mut paths = occurrences(apt);
    paths.sort();
    let mut want: Vec<String> = parts
        .iter()
        .map(|p| format!("/{lib}/libcudnn_{p}.so.9.14.0"))
        .collect();
    want.push(format!("/{lib}/libcudnn.so.9.14.0"));
    want.sort();
    assert_eq!(paths, want);
    assert_eq!(apt["purl"], "pkg:generic/nvidia/cudnn@9.14.0.64");
    assert_eq!(property(apt, "gpubom:version:conflict"), None, "{apt:#}");
    let values = method_values(apt);
    assert!(
        values.iter().any(|v| v.contains("fingerprint table"))
            && values
                .iter()
                .any(|v| v.ends_with("libcudnn_engines_precompiled.so.9.14.0 => 9.14.0")),
        "all the evidence is kept: {values:#?}"
    );
    let libraries = property(apt, "gpubom:nvidia:library").unwrap();
    assert_eq!(libraries.split(',').count(), 8, "{libraries}");
}

#[test]
fn a_package_that_bundles_an_nvidia_library_stays_itself() {
    let test = "a_package_that_bundles_an_nvidia_library_stays_itself";
    // triton 3.6.0 vendors CUPTI (three copies under three names, and its sampling
    // utility); the rest of the 190 MB wheel is left out of the image.
    let Some(wheel) = or_skip(test, real::pypi_wheel("triton", "3.6.0")) else {
        return;
    };
    let cupti = "triton/backends/nvidia/lib/cupti";
    let Some(files) = or_skip(
        test,
        wheel_members(
            &wheel,
            &[
                "triton-3.6.0.dist-info/",
                "/libcupti.so.2025.1.1",
                "/libcupti.so.12",
                "/libpcsamplingutil.so",
            ],
        ),
    ) else {
        return;
    };
    assert_eq!(
        files.len(),
        9,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let mut layer = Layer::new().created_by("RUN pip install triton==3.6.0");
    for (path, bytes) in files {
        layer = layer.file(&format!("{SITE}/{path}"), bytes);
    }
    let spec = ImageSpec::new("synthetic/triton", "1").layer(layer);
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());

    let triton = find_component(&bom, "triton").expect("triton");
    assert_eq!(triton["purl"], "pkg:pypi/triton@3.6.0");
    assert_eq!(
        property(triton, "gpubom:nvidia:family"),
        None,
        "triton is not CUPTI: {triton:#}"
    );
    let cuptis = with_purl(&bom, "pkg:generic/nvidia/cupti");
    assert_eq!(cuptis.len(), 1, "{cuptis:#?}");
    let c = cuptis[0];
    // CUPTI's own version, from its file name; its SONAME major is kept apart.
    assert_eq!(c["version"], "2025.1.1", "{c:#}");
    assert_eq!(property(c, "gpubom:nvidia:family"), Some("cupti"));
    assert_eq!(
        property(c, "gpubom:bundled_by"),
        Some("pkg:pypi/triton@3.6.0")
    );
    assert_eq!(property(c, "gpubom:nvidia:soname_major"), Some("12"));
    assert_eq!(property(c, "gpubom:version:conflict"), None, "{c:#}");
    let mut paths = occurrences(c);
    paths.sort();
    assert_eq!(
        paths,
        vec![
            format!("/{SITE}/{cupti}/libcupti.so.12"),
            format!("/{SITE}/{cupti}/libcupti.so.2025.1.1"),
            format!("/{SITE}/{cupti}/libpcsamplingutil.so"),
        ]
    );
    assert!(
        method_values(c)
            .iter()
            .any(|v| v.contains("bundled by triton 3.6.0") && v.contains("matching sha256")),
        "{c:#}"
    );
}

#[test]
fn nvidia_wheels_are_their_product_with_or_without_the_cuda_suffix() {
    let test = "nvidia_wheels_are_their_product_with_or_without_the_cuda_suffix";
    // CUDA 13 wheels drop `-cu12`; nvidia-nvtx installs only NVTX 3's interop shim.
    let wheels = [
        (("nvidia-nvtx", "13.0.85"), "nvtx"),
        (("nvidia-cufile", "1.15.1.6"), "cufile"),
        (("nvidia-nvfatbin", "13.0.85"), "nvfatbin"),
        (("nvidia-cuda-runtime", "13.0.96"), "cuda-runtime"),
    ];
    let mut spec = ImageSpec::new("synthetic/cuda-13-wheels", "1");
    for (wheel, _) in &wheels {
        let Some(layer) = or_skip(test, wheel_layer(SITE, wheel)) else {
            return;
        };
        spec = spec.layer(layer);
    }
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());
    for ((name, version), family) in wheels {
        let c = with_purl(&bom, &format!("pkg:pypi/{name}@{version}"));
        assert_eq!(c.len(), 1, "{name}");
        assert_eq!(
            property(c[0], "gpubom:nvidia:family"),
            Some(family),
            "{:#}",
            c[0]
        );
    }
    // The wheels' libraries belong to the wheels: no bare twins.
    assert_eq!(
        with_purl(&bom, "pkg:generic/nvidia/"),
        Vec::<&serde_json::Value>::new()
    );
}

#[test]
fn cuda_13_runtime_is_dated_by_the_fingerprint_table() {
    let test = "cuda_13_runtime_is_dated_by_the_fingerprint_table";
    let Some(cudart) = wheel_library(test, ("nvidia-cuda-runtime", "13.0.96"), "libcudart.so.13")
    else {
        return;
    };
    let spec = ImageSpec::new("synthetic/cuda-13", "1")
        .layer(Layer::new().file("opt/app/lib/libcudart.so.13", cudart));
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());
    let c = find_component(&bom, "cuda-runtime").expect("cuda-runtime");
    assert_eq!(c["version"], "13.0.96", "{c:#}");
    assert!(
        method_values(c)
            .iter()
            .any(|v| v.contains("pypi:nvidia-cuda-runtime==13.0.96")),
        "{c:#}"
    );
}

#[test]
fn a_soname_is_not_a_version() {
    let test = "a_soname_is_not_a_version";
    let Some(cudart) = wheel_library(test, CUDART_11_7, "libcudart.so.11.0") else {
        return;
    };
    // The same real bytes twice: once under the SONAME alone (CUDA 11's libcudart is
    // `libcudart.so.11.0` from 11.0 to 11.8), once as a runfile install names it.
    let spec = ImageSpec::new("synthetic/soname", "1").layer(
        Layer::new()
            .file("usr/lib/x86_64-linux-gnu/libcudart.so.11.0", cudart.clone())
            .file(
                "usr/local/cuda-11.7/targets/x86_64-linux/lib/libcudart.so.11.7.99",
                cudart,
            ),
    );
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let source = oci.display().to_string();
    let bom = scan_json(&source);
    let runtimes = with_purl(&bom, "pkg:generic/nvidia/cuda-runtime");
    assert_eq!(runtimes.len(), 2, "{runtimes:#?}");
    let bare = runtimes
        .iter()
        .find(|c| occurrences(c)[0] == "/usr/lib/x86_64-linux-gnu/libcudart.so.11.0")
        .unwrap();
    assert_eq!(bare["version"], serde_json::Value::Null, "{bare:#}");
    assert_eq!(bare["purl"], "pkg:generic/nvidia/cuda-runtime");
    assert_eq!(bare["cpe"], serde_json::Value::Null);
    assert_eq!(property(bare, "gpubom:nvidia:soname_major"), Some("11"));
    assert_eq!(property(bare, "gpubom:nvidia:min_driver"), None);
    assert!(
        method_values(bare)
            .iter()
            .any(|v| v.contains("SONAME libcudart.so.11.0") && v.contains("not a release version")),
        "{bare:#}"
    );
    let runfile = runtimes
        .iter()
        .find(|c| occurrences(c)[0].starts_with("/usr/local/cuda-11.7/"))
        .unwrap();
    assert_eq!(runfile["version"], "11.7.99");
    assert_eq!(property(runfile, "gpubom:nvidia:soname_major"), Some("11"));

    // The gate (default cuda_min 11.8) flags the dated copy only.
    let out = run(&["check", &source, "-f", "json", "-q"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let below: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "cuda-below-minimum")
        .filter_map(|f| f["subject"]["path"].as_str())
        .collect();
    assert_eq!(
        below,
        vec!["/usr/local/cuda-11.7/targets/x86_64-linux/lib/libcudart.so.11.7.99"]
    );
}

#[test]
fn nvrtc_copied_out_of_its_wheel_is_one_component_dated_by_its_banner() {
    let test = "nvrtc_copied_out_of_its_wheel_is_one_component_dated_by_its_banner";
    let Some(wheel) = or_skip(test, real::pypi_wheel(NVRTC_11_7.0, NVRTC_11_7.1)) else {
        return;
    };
    let Some(files) = or_skip(test, real::wheel_files(&wheel)) else {
        return;
    };
    // CUDA 11.7's NVRTC is `libnvrtc.so.11.2` (its SONAME since 11.2) beside
    // `libnvrtc-builtins.so.11.7`: neither name is the release, the banner inside is.
    let mut layer = Layer::new();
    for (path, bytes) in files {
        if path.contains("/lib/libnvrtc") {
            let name = path.rsplit('/').next().unwrap();
            layer = layer.file(&format!("opt/app/lib/{name}"), bytes);
        }
    }
    let spec = ImageSpec::new("synthetic/nvrtc-11", "1").layer(layer);
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let bom = scan_json(&oci.display().to_string());
    let nvrtc = with_purl(&bom, "pkg:generic/nvidia/nvrtc");
    assert_eq!(nvrtc.len(), 1, "one product, one directory: {nvrtc:#?}");
    let c = nvrtc[0];
    assert_eq!(c["version"], "11.7.99");
    assert_eq!(property(c, "gpubom:version:conflict"), None, "{c:#}");
    let mut paths = occurrences(c);
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "/opt/app/lib/libnvrtc-builtins.so.11.7",
            "/opt/app/lib/libnvrtc.so.11.2"
        ]
    );
    let methods = c["evidence"]["identity"]["methods"].as_array().unwrap();
    assert!(
        methods.iter().any(|m| m["technique"] == "binary-analysis"
            && m["value"]
                .as_str()
                .unwrap()
                .contains("Cuda compilation tools, release 11.7, V11.7.99")),
        "{methods:#?}"
    );
    // The names are noted as SONAMEs, never taken for versions (11.2 would conflict).
    for m in methods.iter().filter(|m| m["technique"] == "filename") {
        assert!(
            m["value"]
                .as_str()
                .unwrap()
                .contains("not a release version"),
            "{m:#}"
        );
    }
}

#[test]
fn cuda_version_env_is_the_toolkit_release() {
    let test = "cuda_version_env_is_the_toolkit_release";
    let Some(cudart) = real_cudart(test) else {
        return;
    };
    // NVIDIA's CUDA 12.1.1 images set CUDA_VERSION=12.1.1 and ship libcudart 12.1.105.
    let spec = ImageSpec::new("synthetic/cuda-12.1.1", "1")
        .env("CUDA_VERSION=12.1.1")
        .layer(Layer::new().file("usr/lib/x86_64-linux-gnu/libcudart.so.12", cudart));
    let dir = tmp();
    let oci = dir.path().join("oci");
    spec.write_oci_dir(&oci);
    let source = oci.display().to_string();
    let bom = scan_json(&source);
    let c = nvidia_components(&bom)[0];
    assert_eq!(c["version"], "12.1.105");
    assert_eq!(property(c, "gpubom:version:conflict"), None, "{c:#}");
    assert_eq!(property(c, "gpubom:declared:version"), Some("12.1.1"));
    let out = run(&["check", &source, "-f", "json", "-q"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        finding_of(&report, "cuda-version-conflict").is_none(),
        "{report:#}"
    );
}

/// Every family the catalogers can write is one the policy schema's `Family`
/// enum lists; otherwise its components would reach policies as "other".
#[test]
fn every_nvidia_family_is_in_the_policy_schema() {
    let mut products: Vec<String> = gpubom_catalog::nvidia::Family::ALL
        .iter()
        .map(|f| f.product().to_string())
        .collect();
    products.sort();
    let mut listed = gpubom_policy::families();
    listed.sort();
    assert_eq!(products, listed);
}
