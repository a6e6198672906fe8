//! The `manifest.json` of a `docker save` archive, as `gpubom_image::open` reads it. The
//! input replaces `manifest.json` in a real archive written by skopeo
//! (`fuzz/fixtures/skopeo-docker-archive.tar`: a config, a one-file layer, the legacy
//! `<id>/layer.tar` symlink and `repositories`), to which the config and layer are added
//! again as Docker 25+ names them (`blobs/sha256/<hex>`); the archive is written per
//! input to a per-process file under /dev/shm. A member the manifest names outside the
//! archive must be refused (an error naming it), and an image that opens is scanned
//! (`gpubom_catalog::scan`) as `gpubom scan` would.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SKOPEO_ARCHIVE: &[u8] = include_bytes!("../fixtures/skopeo-docker-archive.tar");
const CONFIG_HEX: &str = "a42b4b489478fdaba836310eb7c6c315597f75df54b372d38171b8392203ba03";
const LAYER_HEX: &str = "c7b6d72f342369ccc0e3eac94d04f4730bcd9ea27a8be4216a2eeeee7bffd8b5";

/// The real archive's members but `manifest.json`, then the blobs under their digests.
fn members() -> &'static Vec<(tar::Header, Vec<u8>)> {
    static MEMBERS: OnceLock<Vec<(tar::Header, Vec<u8>)>> = OnceLock::new();
    MEMBERS.get_or_init(|| {
        let mut kept = Vec::new();
        let mut blobs = Vec::new();
        let mut archive = tar::Archive::new(SKOPEO_ARCHIVE);
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            let header = entry.header().clone();
            if name == format!("{CONFIG_HEX}.json") || name == format!("{LAYER_HEX}.tar") {
                let hex = &name[..64];
                let mut blob = header.clone();
                blob.set_path(format!("blobs/sha256/{hex}")).unwrap();
                blob.set_cksum();
                blobs.push((blob, bytes.clone()));
            }
            if name != "manifest.json" {
                kept.push((header, bytes));
            }
        }
        kept.extend(blobs);
        kept
    })
}

fn archive_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        base.join(format!("gpubom-fuzz-docker-{}.tar", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let mut tar = tar::Builder::new(Vec::new());
    for (header, bytes) in members() {
        tar.append(header, bytes.as_slice()).unwrap();
    }
    let mut manifest = tar::Header::new_gnu();
    manifest.set_size(data.len() as u64);
    manifest.set_mode(0o444);
    manifest.set_cksum();
    tar.append_data(&mut manifest, "manifest.json", data)
        .unwrap();
    let path = archive_path();
    std::fs::write(path, tar.into_inner().unwrap()).unwrap();
    let spec = format!("docker-archive:{}", path.display());
    match gpubom_image::open(&spec, &Default::default()) {
        Ok(image) => {
            let _ = gpubom_catalog::scan(&image, &Default::default());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
