//! Builds a large image for benchmarks, shaped like a CUDA + PyTorch image:
//! a dpkg database with many packages, tens of thousands of small files, many
//! Python distributions, large incompressible "libraries" (synthetic bytes)
//! and, when it can be fetched, the real libcudart copied in bare.
//!
//! Usage: gpubom-bench-image OUT.tar SIZE_MB

use gpubom_testkit::image::{Compression, ImageSpec, Layer};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(out), Some(size_mb)) = (
        args.get(1),
        args.get(2).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: gpubom-bench-image OUT.tar SIZE_MB");
        return ExitCode::from(2);
    };
    let mut spec = ImageSpec::new("bench/synthetic-cuda", "1").env("CUDA_VERSION=12.1.1");

    let mut base = Layer::new();
    let mut status = String::new();
    for i in 0..800 {
        status.push_str(&format!(
            "Package: synthetic-pkg-{i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.{i}-1\nMaintainer: Bench <bench@example.com>\nDescription: synthetic package {i}\n\n"
        ));
        let files: String = (0..20)
            .map(|f| format!("/usr/share/synthetic-{i}/file-{f}\n"))
            .collect();
        base = base.file(
            &format!("var/lib/dpkg/info/synthetic-pkg-{i}:amd64.list"),
            files,
        );
        for f in 0..20 {
            base = base.file(
                &format!("usr/share/synthetic-{i}/file-{f}"),
                format!("synthetic content {i} {f}\n"),
            );
        }
    }
    spec = spec.layer(
        base.file("var/lib/dpkg/status", status)
            .compression(Compression::Gzip),
    );

    let site = "usr/local/lib/python3.11/site-packages";
    let mut python = Layer::new();
    for i in 0..400 {
        let dist = format!("{site}/synthetic_dist_{i}-2.{i}.0.dist-info");
        python = python.file(
            &format!("{dist}/METADATA"),
            format!("Metadata-Version: 2.1\nName: synthetic-dist-{i}\nVersion: 2.{i}.0\n"),
        );
        let mut record = String::new();
        for f in 0..25 {
            let path = format!("synthetic_dist_{i}/mod_{f}.py");
            python = python.file(
                &format!("{site}/{path}"),
                format!("# synthetic module {i}.{f}\nVALUE = {f}\n"),
            );
            record.push_str(&format!("{path},,\n"));
        }
        python = python.file(&format!("{dist}/RECORD"), record);
    }
    spec = spec.layer(python.compression(Compression::Gzip));

    // Large shared objects: incompressible bytes, as real GPU libraries nearly are.
    let mut libs = Layer::new();
    let per_lib = 64 << 20;
    let mut state = 0x9e3779b97f4a7c15u64;
    for i in 0..(size_mb << 20).div_ceil(per_lib) {
        let mut bytes = vec![0u8; per_lib];
        for chunk in bytes.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        libs = libs.file(
            &format!("usr/local/lib/synthetic/libsynthetic_{i}.so.1"),
            bytes,
        );
    }
    if let Ok(wheel) = gpubom_testkit::real::pypi_wheel("nvidia-cuda-runtime-cu12", "12.1.105") {
        if let Ok(files) = gpubom_testkit::real::wheel_files(&wheel) {
            for (path, bytes) in files.into_iter().filter(|(p, _)| p.ends_with(".so.12")) {
                libs = libs.file(
                    &format!("opt/vendor/{}", path.rsplit('/').next().unwrap_or(&path)),
                    bytes,
                );
            }
        }
    }
    spec = spec.layer(libs.compression(Compression::Gzip));
    spec.write_oci_archive(std::path::Path::new(out));
    eprintln!("bench image written to {out}");
    ExitCode::SUCCESS
}
