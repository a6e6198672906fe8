//! NVIDIA's native stack, found with and without package metadata, on the
//! real libcudart from the `nvidia-cuda-runtime-cu12` 12.1.105 wheel.

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
    let spec = ImageSpec::new("synthetic/cuda-three-ways", "1")
        .env("CUDA_VERSION=12.1.105")
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
