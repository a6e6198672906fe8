//! A whole layer through the scanner: the input is the layer blob (tar, or
//! gzip/zstd by magic) of a one-layer OCI layout written to a per-process
//! directory under /dev/shm (gpubom_image opens images by path only). The
//! config and oci-layout are written once; each input rewrites the blob, the
//! manifest and index.json. Then `gpubom_catalog::scan` walks, merges and
//! runs every cataloger, as `gpubom scan` does.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CONFIG: &[u8] = br#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/cuda/bin:/usr/bin","CUDA_VERSION=12.4.1"]},"rootfs":{"type":"layers","diff_ids":[]},"history":[{"created_by":"fuzz"}]}"#;

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

struct Layout {
    root: PathBuf,
    config_digest: String,
}

fn layout() -> &'static Layout {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    LAYOUT.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let root = base.join(format!("gpubom-fuzz-layer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        std::fs::write(
            root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        let config_digest = digest(CONFIG);
        std::fs::write(root.join("blobs/sha256").join(&config_digest), CONFIG).unwrap();
        Layout {
            root,
            config_digest,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let l = layout();
    let blobs = l.root.join("blobs/sha256");
    let layer_digest = digest(data);
    let layer_path = blobs.join(&layer_digest);
    std::fs::write(&layer_path, data).unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:{layer_digest}","size":{}}}]}}"#,
        l.config_digest,
        CONFIG.len(),
        data.len()
    );
    let manifest_digest = digest(manifest.as_bytes());
    let manifest_path = blobs.join(&manifest_digest);
    std::fs::write(&manifest_path, &manifest).unwrap();
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"fuzz:latest"}}}}]}}"#,
        manifest.len()
    );
    std::fs::write(l.root.join("index.json"), index).unwrap();

    let spec = format!("oci-dir:{}", l.root.display());
    let image = gpubom_image::open(&spec, &Default::default()).expect("the layout is valid");
    let _ = gpubom_catalog::scan(&image, &Default::default());

    // Keep the directory from growing with every input.
    let _ = std::fs::remove_file(&layer_path);
    if manifest_path != layer_path {
        let _ = std::fs::remove_file(&manifest_path);
    }
});
