//! Images built in code.
//!
//! A [`Layer`] is a list of tar entries (files, dirs, links, whiteouts);
//! an [`ImageSpec`] is layers plus configuration. Both serialise to the real
//! formats — OCI layout directory, oci-archive, docker-archive (legacy and
//! blobs forms) — with deterministic bytes (mtime 0, uid/gid 0), so tests
//! exercise the same parsing paths real images do.

use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    None,
    #[default]
    Gzip,
    Zstd,
}

#[derive(Debug, Clone)]
enum Item {
    File {
        path: String,
        bytes: Vec<u8>,
        mode: u32,
    },
    Dir(String),
    Symlink {
        path: String,
        target: String,
    },
    Hardlink {
        path: String,
        target: String,
    },
    Raw(Vec<u8>),
}

impl Item {
    /// The path the entry is written at; `None` for raw bytes.
    fn path(&self) -> Option<&str> {
        match self {
            Item::File { path, .. }
            | Item::Dir(path)
            | Item::Symlink { path, .. }
            | Item::Hardlink { path, .. } => Some(path.trim_end_matches('/')),
            Item::Raw(_) => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Layer {
    items: Vec<Item>,
    created_by: Option<String>,
    compression: Compression,
    repeats_paths: bool,
}

impl Layer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn file(self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.file_mode(path, bytes, 0o644)
    }

    pub fn file_mode(mut self, path: &str, bytes: impl Into<Vec<u8>>, mode: u32) -> Self {
        self.items.push(Item::File {
            path: path.to_string(),
            bytes: bytes.into(),
            mode,
        });
        self
    }

    pub fn dir(mut self, path: &str) -> Self {
        self.items.push(Item::Dir(path.to_string()));
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.items.push(Item::Symlink {
            path: path.to_string(),
            target: target.to_string(),
        });
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.items.push(Item::Hardlink {
            path: path.to_string(),
            target: target.to_string(),
        });
        self
    }

    /// Bytes appended to the tar verbatim, for what the tar crate will not
    /// write: oversized metadata records, a body cut short. Whole 512-byte
    /// blocks keep the entries after it readable.
    pub fn raw(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.items.push(Item::Raw(bytes.into()));
        self
    }

    /// Hides `path` (file or directory) from lower layers: writes `.wh.NAME`.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let marker = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&marker, Vec::new())
    }

    /// Makes `dir` opaque: lower layers' contents of it are hidden.
    pub fn opaque(self, dir: &str) -> Self {
        self.dir(dir)
            .file(&format!("{dir}/.wh..wh..opq"), Vec::new())
    }

    pub fn created_by(mut self, line: &str) -> Self {
        self.created_by = Some(line.to_string());
        self
    }

    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Synthetic: writes a path as often as it was added, in order. Real layers
    /// never repeat a path (podman refuses to load one that does: "duplicates of
    /// file paths not supported"), so by default only the last entry written at a
    /// path is kept, which is what extracting the tar would leave.
    pub fn repeating_paths_synthetic(mut self) -> Self {
        self.repeats_paths = true;
        self
    }

    /// This layer's entries followed by `other`'s.
    pub fn merge(mut self, other: Layer) -> Self {
        self.items.extend(other.items);
        self
    }

    /// The uncompressed tar.
    pub fn tar_bytes(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut last_at: std::collections::HashMap<&str, usize> = Default::default();
        for (at, item) in self.items.iter().enumerate() {
            if let Some(path) = item.path() {
                last_at.insert(path, at);
            }
        }
        for (at, item) in self.items.iter().enumerate() {
            let overwritten = item.path().is_some_and(|path| last_at[path] != at);
            if overwritten && !self.repeats_paths {
                continue;
            }
            let mut header = tar::Header::new_gnu();
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            let result = match item {
                Item::File { path, bytes, mode } => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(*mode);
                    header.set_size(bytes.len() as u64);
                    if path.split('/').any(|p| p == "..") {
                        // The tar crate refuses to write hostile paths; real attackers don't.
                        append_raw_path(&mut builder, &mut header, path, bytes)
                    } else {
                        builder.append_data(&mut header, path, bytes.as_slice())
                    }
                }
                Item::Dir(path) => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    builder.append_data(&mut header, format!("{path}/"), std::io::empty())
                }
                Item::Symlink { path, target } => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_mode(0o777);
                    header.set_size(0);
                    builder.append_link(&mut header, path, target)
                }
                Item::Hardlink { path, target } => {
                    header.set_entry_type(tar::EntryType::Link);
                    header.set_mode(0o644);
                    header.set_size(0);
                    builder.append_link(&mut header, path, target)
                }
                Item::Raw(bytes) => {
                    builder.get_mut().extend_from_slice(bytes);
                    Ok(())
                }
            };
            result.expect("in-memory tar");
        }
        builder.into_inner().expect("in-memory tar")
    }

    fn blob(&self) -> (Vec<u8>, &'static str) {
        let tar = self.tar_bytes();
        match self.compression {
            Compression::None => (tar, "application/vnd.oci.image.layer.v1.tar"),
            Compression::Gzip => {
                let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(&tar).expect("gzip");
                (
                    enc.finish().expect("gzip"),
                    "application/vnd.oci.image.layer.v1.tar+gzip",
                )
            }
            Compression::Zstd => (
                zstd::encode_all(tar.as_slice(), 3).expect("zstd"),
                "application/vnd.oci.image.layer.v1.tar+zstd",
            ),
        }
    }
}

/// Appends an entry whose name is written into the header verbatim.
fn append_raw_path(
    builder: &mut tar::Builder<Vec<u8>>,
    header: &mut tar::Header,
    path: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    let name = &mut header.as_old_mut().name;
    assert!(
        path.len() < name.len(),
        "raw paths must fit the 100-byte name field"
    );
    name.fill(0);
    name[..path.len()].copy_from_slice(path.as_bytes());
    header.set_cksum();
    builder.append(header, bytes)
}

/// The docker-archive flavours `docker save` has produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerForm {
    /// `<id>/layer.tar` and `<id>.json` (Docker before 25).
    Legacy,
    /// `blobs/sha256/<hex>` beside an OCI `index.json` (Docker 25+).
    Blobs,
}

#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub name: String,
    pub tag: String,
    pub os: String,
    pub architecture: String,
    pub user: Option<String>,
    pub exposed_ports: Vec<String>,
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub workdir: Option<String>,
    pub created: Option<String>,
    pub layers: Vec<Layer>,
}

/// One file of a layout: (path inside the layout, bytes).
type LayoutFile = (String, Vec<u8>);

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl ImageSpec {
    pub fn new(name: &str, tag: &str) -> Self {
        ImageSpec {
            name: name.to_string(),
            tag: tag.to_string(),
            os: "linux".into(),
            architecture: "amd64".into(),
            user: None,
            exposed_ports: Vec::new(),
            env: Vec::new(),
            labels: BTreeMap::new(),
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            workdir: None,
            created: Some("2026-01-01T00:00:00Z".into()),
            layers: Vec::new(),
        }
    }

    pub fn layer(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }

    pub fn user(mut self, user: &str) -> Self {
        self.user = Some(user.to_string());
        self
    }

    pub fn expose(mut self, port: &str) -> Self {
        self.exposed_ports.push(port.to_string());
        self
    }

    pub fn env(mut self, kv: &str) -> Self {
        self.env.push(kv.to_string());
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_string(), value.to_string());
        self
    }

    pub fn platform(mut self, os: &str, architecture: &str) -> Self {
        self.os = os.to_string();
        self.architecture = architecture.to_string();
        self
    }

    /// The image config JSON for the given diff_ids.
    fn config_json(&self, diff_ids: &[String]) -> Vec<u8> {
        let ports: serde_json::Map<String, serde_json::Value> = self
            .exposed_ports
            .iter()
            .map(|p| (p.clone(), serde_json::json!({})))
            .collect();
        let history: Vec<serde_json::Value> = self
            .layers
            .iter()
            .map(|l| match &l.created_by {
                Some(c) => {
                    serde_json::json!({ "created": "2026-01-01T00:00:00Z", "created_by": c })
                }
                None => serde_json::json!({ "created": "2026-01-01T00:00:00Z" }),
            })
            .collect();
        let mut runtime = serde_json::json!({
            "Env": self.env,
            "Labels": self.labels,
            "ExposedPorts": ports,
        });
        let extra = [
            ("User", self.user.clone().map(serde_json::Value::from)),
            (
                "WorkingDir",
                self.workdir.clone().map(serde_json::Value::from),
            ),
            (
                "Entrypoint",
                (!self.entrypoint.is_empty()).then(|| self.entrypoint.clone().into()),
            ),
            (
                "Cmd",
                (!self.cmd.is_empty()).then(|| self.cmd.clone().into()),
            ),
        ];
        for (key, value) in extra {
            if let Some(value) = value {
                runtime[key] = value;
            }
        }
        let mut config = serde_json::json!({
            "architecture": self.architecture,
            "os": self.os,
            "config": runtime,
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
            "history": history,
        });
        if let Some(created) = &self.created {
            config["created"] = created.clone().into();
        }
        serde_json::to_vec(&config).expect("json")
    }

    /// Blobs and descriptors of an OCI image: (files, manifest descriptor).
    fn oci_blobs(&self) -> (Vec<LayoutFile>, serde_json::Value) {
        let mut files = Vec::new();
        let mut layer_descriptors = Vec::new();
        let mut diff_ids = Vec::new();
        for layer in &self.layers {
            diff_ids.push(format!("sha256:{}", sha256_hex(&layer.tar_bytes())));
            let (blob, media_type) = layer.blob();
            let hex = sha256_hex(&blob);
            layer_descriptors.push(serde_json::json!({
                "mediaType": media_type, "digest": format!("sha256:{hex}"), "size": blob.len(),
            }));
            files.push((format!("blobs/sha256/{hex}"), blob));
        }
        let config = self.config_json(&diff_ids);
        let config_hex = sha256_hex(&config);
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": format!("sha256:{config_hex}"), "size": config.len(),
            },
            "layers": layer_descriptors,
        }))
        .expect("json");
        let manifest_hex = sha256_hex(&manifest);
        let descriptor = serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_hex}"),
            "size": manifest.len(),
            "platform": { "os": self.os, "architecture": self.architecture },
            "annotations": {
                "io.containerd.image.name": format!("{}:{}", self.name, self.tag),
                "org.opencontainers.image.ref.name": self.tag,
            },
        });
        files.push((format!("blobs/sha256/{config_hex}"), config));
        files.push((format!("blobs/sha256/{manifest_hex}"), manifest));
        (files, descriptor)
    }

    fn oci_layout(&self) -> Vec<LayoutFile> {
        let (mut files, descriptor) = self.oci_blobs();
        files.push(index_files(vec![descriptor]));
        files.push((
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        files
    }

    pub fn write_oci_dir(&self, dir: &Path) {
        write_dir(dir, &self.oci_layout());
    }

    pub fn write_oci_archive(&self, path: &Path) {
        write_tar(path, &self.oci_layout());
    }

    pub fn write_docker_archive(&self, path: &Path, form: DockerForm) {
        let mut files = Vec::new();
        let mut layer_paths = Vec::new();
        let mut diff_ids = Vec::new();
        for layer in &self.layers {
            // docker save writes layers uncompressed.
            let tar = layer.tar_bytes();
            let hex = sha256_hex(&tar);
            diff_ids.push(format!("sha256:{hex}"));
            let member = match form {
                DockerForm::Legacy => format!("{hex}/layer.tar"),
                DockerForm::Blobs => format!("blobs/sha256/{hex}"),
            };
            layer_paths.push(member.clone());
            files.push((member, tar));
        }
        let config = self.config_json(&diff_ids);
        let config_hex = sha256_hex(&config);
        let config_member = match form {
            DockerForm::Legacy => format!("{config_hex}.json"),
            DockerForm::Blobs => format!("blobs/sha256/{config_hex}"),
        };
        files.push((config_member.clone(), config));
        let manifest = serde_json::json!([{
            "Config": config_member,
            "RepoTags": [format!("{}:{}", self.name, self.tag)],
            "Layers": layer_paths,
        }]);
        files.push((
            "manifest.json".into(),
            serde_json::to_vec(&manifest).expect("json"),
        ));
        if form == DockerForm::Blobs {
            // Docker 25+ also writes an OCI index; manifest.json must win.
            files.push((
                "oci-layout".into(),
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ));
            files.push(index_files(Vec::new()));
        }
        write_tar(path, &files);
    }

    /// The merged filesystem a container would see, written under `dir`.
    pub fn write_rootfs(&self, dir: &Path) {
        std::fs::create_dir_all(dir).expect("mkdir");
        for layer in &self.layers {
            for item in &layer.items {
                apply(dir, item);
            }
        }
    }
}

/// A multi-platform OCI layout: `index.json` → image index → one manifest per image.
pub fn write_multiplatform_oci_dir(dir: &Path, images: &[&ImageSpec]) {
    let mut files = Vec::new();
    let mut descriptors = Vec::new();
    for image in images {
        let (blobs, descriptor) = image.oci_blobs();
        files.extend(blobs);
        descriptors.push(descriptor);
    }
    let nested = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": descriptors,
    }))
    .expect("json");
    let nested_hex = sha256_hex(&nested);
    let top = serde_json::json!({
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": format!("sha256:{nested_hex}"),
        "size": nested.len(),
    });
    files.push((format!("blobs/sha256/{nested_hex}"), nested));
    files.push(index_files(vec![top]));
    files.push((
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    ));
    write_dir(dir, &files);
}

fn index_files(manifests: Vec<serde_json::Value>) -> LayoutFile {
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    (
        "index.json".into(),
        serde_json::to_vec(&index).expect("json"),
    )
}

fn write_dir(dir: &Path, files: &[LayoutFile]) {
    for (path, bytes) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, bytes).expect("write");
    }
}

/// Writes `files` as a tar the way skopeo writes an oci-archive: every parent directory
/// has an entry of its own before its first file. Syft reads an oci-archive by
/// extracting it and fails ("file does not exist: oci-archive") when `blobs/` and
/// `blobs/sha256/` have no entries.
fn write_tar(path: &Path, files: &[LayoutFile]) {
    let mut builder = tar::Builder::new(Vec::new());
    let mut directories_written = std::collections::BTreeSet::new();
    for (name, bytes) in files {
        let parents = name.match_indices('/').map(|(end, _)| &name[..=end]);
        for directory in parents {
            if directories_written.insert(directory.to_string()) {
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mtime(0);
                header.set_mode(0o755);
                header.set_size(0);
                builder
                    .append_data(&mut header, directory, std::io::empty())
                    .expect("tar");
            }
        }
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_mode(0o644);
        header.set_size(bytes.len() as u64);
        builder
            .append_data(&mut header, name, bytes.as_slice())
            .expect("tar");
    }
    std::fs::write(path, builder.into_inner().expect("tar")).expect("write archive");
}

fn apply(root: &Path, item: &Item) {
    let remove = |p: &Path| {
        if p.is_dir() && !p.is_symlink() {
            let _ = std::fs::remove_dir_all(p);
        } else {
            let _ = std::fs::remove_file(p);
        }
    };
    match item {
        Item::File { path, bytes, .. } => {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if name == ".wh..wh..opq" {
                let d = root.join(dir);
                for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    remove(&entry.path());
                }
            } else if let Some(hidden) = name.strip_prefix(".wh.") {
                remove(&root.join(dir).join(hidden));
            } else {
                let full = root.join(path);
                std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
                remove(&full);
                std::fs::write(full, bytes).expect("write");
            }
        }
        Item::Dir(path) => std::fs::create_dir_all(root.join(path)).expect("mkdir"),
        Item::Symlink { path, target } => {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            remove(&full);
            std::os::unix::fs::symlink(target, full).expect("symlink");
        }
        Item::Hardlink { path, target } => {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            remove(&full);
            std::fs::hard_link(root.join(target), full).expect("hard link");
        }
        Item::Raw(_) => panic!("raw tar bytes have no root filesystem equivalent"),
    }
}

/// One 512-byte GNU tar header written as given, for records the tar crate
/// will not write itself (a long name or PAX header of any declared size).
pub fn raw_tar_header(type_flag: u8, name: &str, size: u64) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::new(type_flag));
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_size(size);
    let slot = &mut header.as_old_mut().name;
    assert!(name.len() < slot.len(), "raw names must fit the name field");
    slot[..name.len()].copy_from_slice(name.as_bytes());
    header.set_cksum();
    header.as_bytes().to_vec()
}

/// Rewrites an archive written by [`ImageSpec`] member by member: `change`
/// gets each member's name and bytes and returns the new bytes, or `None` to
/// drop the member.
pub fn rewrite_archive(path: &Path, mut change: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
    let bytes = std::fs::read(path).expect("read archive");
    let mut files = Vec::new();
    let mut archive = tar::Archive::new(bytes.as_slice());
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("tar entry");
        let name = entry.path().expect("member name").display().to_string();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).expect("member");
        if let Some(content) = change(&name, content) {
            files.push((name, content));
        }
    }
    write_tar(path, &files);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(layer: &Layer) -> Vec<(String, Vec<u8>)> {
        let tar = layer.tar_bytes();
        let mut archive = tar::Archive::new(tar.as_slice());
        let entries = archive.entries().expect("tar");
        entries
            .map(|entry| {
                let mut entry = entry.expect("entry");
                let path = entry.path().expect("path").display().to_string();
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut bytes).expect("body");
                (path, bytes)
            })
            .collect()
    }

    /// Two wheels both ship `nvidia/__init__.py`: the demo's layer must hold it once.
    #[test]
    fn a_path_added_twice_is_written_once_with_its_last_bytes() {
        let layer = Layer::new()
            .file("site/nvidia/__init__.py", "first")
            .file("site/other.py", "other")
            .file("site/nvidia/__init__.py", "last");
        assert_eq!(
            entries(&layer),
            [
                ("site/other.py".to_string(), b"other".to_vec()),
                ("site/nvidia/__init__.py".to_string(), b"last".to_vec()),
            ]
        );
        let repeated = layer.repeating_paths_synthetic();
        assert_eq!(entries(&repeated).len(), 3);
    }
}
