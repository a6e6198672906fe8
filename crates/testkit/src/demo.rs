//! The demo image the README scans (and `tests/fixtures/foreign-sboms/` were
//! made from): a small Debian + Python + CUDA image assembled from real bytes
//! (Debian packages vendored in tests/fixtures/debs, NVIDIA wheels from PyPI)
//! that runs as root and exposes SSH and Jupyter, so the gate must fail it.
//! Built here rather than in the `gpubom-demo-image` binary so tests can build
//! the very same image.

use crate::image::{Compression, ImageSpec, Layer};
use crate::real;

const SITE: &str = "usr/local/lib/python3.11/site-packages";
const DEBS: &[(&str, &str)] = &[
    ("base-files", "12.4+deb12u15"),
    ("zlib1g", "1:1.2.13.dfsg-1"),
    ("libexpat1", "2.5.0-1+deb12u2"),
    // base-files pre-depends on awk, which mawk provides: the demo SBOM has a dependency edge.
    ("mawk", "1.3.4.20200120-3.1"),
];
const WHEELS: &[(&str, &str)] = &[
    ("nvidia-cuda-runtime-cu12", "12.1.105"),
    ("nvidia-nvtx-cu12", "12.1.105"),
    ("six", "1.16.0"),
];

/// The demo image. `models`, when given, is a directory holding model files
/// written by the real libraries (tests/fixtures/real-models: torch,
/// torch.onnx); three of them are copied into /models, one of them a
/// malicious checkpoint.
pub fn build(models: Option<&str>) -> Result<ImageSpec, String> {
    let mut base = Layer::new();
    let mut status = String::new();
    for (name, version) in DEBS {
        let deb = real::deb_contents(&real::debian_package(name, version)?)?;
        let list: String = deb.files.iter().map(|(p, _)| format!("{p}\n")).collect();
        base = base.file(&format!("var/lib/dpkg/info/{name}:amd64.list"), list);
        for (path, bytes) in deb.files {
            base = base.file(path.trim_start_matches('/'), bytes);
        }
        for (path, target) in deb.symlinks {
            base = base.symlink(path.trim_start_matches('/'), &target);
        }
        let control = deb.control.trim_end();
        let (first, rest) = control.split_once('\n').unwrap_or((control, ""));
        status.push_str(&format!(
            "{first}\nStatus: install ok installed\n{rest}\n\n"
        ));
    }
    base = base.file("var/lib/dpkg/status", status);

    let mut wheels = Layer::new();
    let mut cudart = None;
    for (name, version) in WHEELS {
        for (path, bytes) in real::wheel_files(&real::pypi_wheel(name, version)?)? {
            if path.ends_with("libcudart.so.12") {
                cudart = Some(bytes.clone());
            }
            wheels = wheels.file(&format!("{SITE}/{path}"), bytes);
        }
    }
    let cudart = cudart.ok_or("the cuda-runtime wheel has no libcudart.so.12")?;
    // The same library copied in by hand, with no package metadata: what scanners miss.
    let copied = Layer::new()
        .file("opt/app/lib/libcudart.so.12", cudart)
        .created_by("COPY vendor/libcudart.so.12 /opt/app/lib/");

    let mut model_layer = Layer::new().created_by("COPY models /models");
    if let Some(dir) = models {
        for name in ["malicious_checkpoint.pt", "state_dict.pt", "model.onnx"] {
            let path = std::path::Path::new(dir).join(name);
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            model_layer = model_layer.file(&format!("models/{name}"), bytes);
        }
    }

    Ok(ImageSpec::new("example.com/gpubom/demo", "1.0")
        .expose("8888/tcp")
        .expose("22/tcp")
        .env("PATH=/usr/local/bin:/usr/bin:/bin")
        .env("CUDA_VERSION=12.1.1")
        .label("org.opencontainers.image.title", "gpubom demo")
        .layer(base.created_by("ADD debian-bookworm-rootfs /").compression(Compression::Gzip))
        .layer(
            wheels
                .created_by("RUN pip install nvidia-cuda-runtime-cu12==12.1.105 nvidia-nvtx-cu12==12.1.105 six==1.16.0")
                .compression(Compression::Zstd),
        )
        .layer(copied.compression(Compression::Gzip))
        .layer(model_layer.compression(Compression::Gzip)))
}
