//! Builds the demo image the README scans: a small Debian + Python + CUDA image
//! assembled from real bytes (Debian packages vendored in tests/fixtures/debs,
//! NVIDIA wheels from PyPI), written as an oci-archive, or with
//! `--docker-archive` as `docker save` (Docker 25+) writes it.
//!
//! Usage: gpubom-demo-image OUT.tar [MODELS_DIR] [--docker-archive]
//!
//! MODELS_DIR, when given, holds model files written by the real libraries
//! (tests/fixtures/real-models: torch, torch.onnx); three of them are copied into
//! /models, one of them a malicious checkpoint.

use gpubom_testkit::demo;
use gpubom_testkit::image::DockerForm;
use std::process::ExitCode;

fn main() -> ExitCode {
    let (flags, paths): (Vec<String>, Vec<String>) =
        std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let docker = match flags.as_slice() {
        [] => false,
        [flag] if flag == "--docker-archive" => true,
        _ => {
            eprintln!("usage: gpubom-demo-image OUT.tar [MODELS_DIR] [--docker-archive]");
            return ExitCode::from(2);
        }
    };
    let Some(out) = paths.first() else {
        eprintln!("usage: gpubom-demo-image OUT.tar [MODELS_DIR] [--docker-archive]");
        return ExitCode::from(2);
    };
    match demo::build(paths.get(1).map(String::as_str)) {
        Ok(spec) => {
            let out = std::path::Path::new(out);
            if let Some(parent) = out.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            if docker {
                spec.write_docker_archive(out, DockerForm::Blobs);
            } else {
                spec.write_oci_archive(out);
            }
            eprintln!("demo image written to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("gpubom-demo-image: cannot fetch the real inputs: {why}");
            ExitCode::from(2)
        }
    }
}
