//! A docker-archive read as a stream (a container engine's export) gives what
//! the same archive gives read as a file, in each form the engines write, and
//! fails where the file fails: a layer whose bytes are not the ones the config
//! names, or that the archive does not hold.

use gpubom_image::{open, read_stream, Image, Layer, OpenOptions, SourceKind};
use gpubom_testkit::image::{DockerForm, ImageSpec, Layer as SpecLayer};
use sha2::{Digest, Sha256};
use std::io::Read;

/// Synthetic: three layers, the middle one an empty tar (1024 zero bytes,
/// no tar header to recognise it by), the last replacing a file of the first.
fn spec() -> ImageSpec {
    ImageSpec::new("synthetic/stream", "1")
        .env("A=1")
        .layer(
            SpecLayer::new()
                .file("etc/os-release", "ID=debian\n")
                .file("app/a.txt", "first")
                .created_by("ADD rootfs /"),
        )
        .layer(SpecLayer::new().created_by("RUN true"))
        .layer(
            SpecLayer::new()
                .file("app/a.txt", "second")
                .symlink("app/link", "a.txt")
                .created_by("COPY a.txt /app/"),
        )
}

/// Entries of one layer: path, kind, sha256 of the content.
type Entries = Vec<(String, String, String)>;

fn entries(layer: &Layer) -> Result<Entries, gpubom_image::Error> {
    let mut out = Vec::new();
    layer.walk(&|_| {}, &mut |entry, content| {
        let mut bytes = Vec::new();
        content.read_to_end(&mut bytes)?;
        let hash = hex::encode(Sha256::digest(&bytes));
        out.push((entry.path.clone(), format!("{:?}", entry.kind), hash));
        Ok(())
    })?;
    Ok(out)
}

/// A reader that can only read: what an HTTP body is.
struct Unseekable(std::io::Cursor<Vec<u8>>);

impl Read for Unseekable {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Small reads, as a socket gives them.
        let n = buf.len().min(4096);
        self.0.read(&mut buf[..n])
    }
}

/// The archive's bytes read as a stream: each layer walked as it arrives,
/// then the image and the layers' entries in the image's order.
fn streamed(archive: Vec<u8>) -> Result<(Image, Vec<Entries>), gpubom_image::Error> {
    let body = Box::new(Unseekable(std::io::Cursor::new(archive)));
    let mut stream = read_stream(body, SourceKind::Docker, "synthetic/stream:1")?;
    let mut arrived = Vec::new();
    while let Some(layer) = stream.next_layer()? {
        arrived.push(entries(&layer)?);
    }
    let streamed = stream.finish(None)?;
    let ordered = streamed
        .order
        .iter()
        .map(|&at| arrived[at].clone())
        .collect();
    Ok((streamed.image, ordered))
}

fn from_file(path: &std::path::Path) -> (Image, Vec<Entries>) {
    let image = open(
        &format!("docker-archive:{}", path.display()),
        &OpenOptions::default(),
    )
    .unwrap();
    let layers = image.layers.iter().map(|l| entries(l).unwrap()).collect();
    (image, layers)
}

fn assert_same(streamed: &(Image, Vec<Entries>), file: &(Image, Vec<Entries>)) {
    let ((s, s_layers), (f, f_layers)) = (streamed, file);
    assert_eq!(s_layers, f_layers);
    assert_eq!(s.config, f.config);
    assert_eq!((&s.name, &s.tag), (&f.name, &f.tag));
    assert_eq!(s.config_digest, f.config_digest);
    assert_eq!(s.platform, f.platform);
    let ids = |i: &Image| {
        i.layers
            .iter()
            .map(|l| (l.diff_id.clone(), l.created_by.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(s), ids(f));
    assert_eq!(s.kind, SourceKind::Docker);
}

#[test]
fn both_docker_forms_stream_to_what_the_file_gives() {
    let dir = tempfile::tempdir().unwrap();
    for form in [DockerForm::Legacy, DockerForm::Blobs] {
        let path = dir.path().join(format!("{form:?}.tar"));
        spec().write_docker_archive(&path, form);
        let file = from_file(&path);
        assert_eq!(file.1.len(), 3);
        assert!(file.1[1].is_empty(), "the middle layer is empty");
        let streamed = streamed(std::fs::read(&path).unwrap()).unwrap();
        assert_same(&streamed, &file);
    }
}

/// Members of a tar: (name, link target for a symlink, bytes).
type Member = (String, Option<String>, Vec<u8>);

fn members(archive: &[u8]) -> Vec<Member> {
    let mut out = Vec::new();
    let mut tar = tar::Archive::new(archive);
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            let target = entry.link_name().unwrap().unwrap().display().to_string();
            out.push((name, Some(target), Vec::new()));
        } else if kind.is_file() {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            out.push((name, None, bytes));
        }
    }
    out
}

fn write(members: &[Member]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, link, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o444);
        match link {
            Some(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, name, target).unwrap();
            }
            None => {
                header.set_size(bytes.len() as u64);
                builder.append_data(&mut header, name, &bytes[..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

/// Synthetic, in the shape podman's export has (containers/image's
/// docker-archive writer): layers as `<diff_id hex>.tar`, the config as
/// `<hex>.json`, `<id>/layer.tar` links to `../<hex>.tar`. Here the manifest
/// names the links and comes first, and the layers arrive in reverse: the
/// order must come from the manifest and the config, never from arrival.
fn podman_shaped(legacy: &[u8]) -> Vec<u8> {
    let mut layers = Vec::new();
    let mut others = Vec::new();
    for (name, _, bytes) in members(legacy) {
        match name.strip_suffix("/layer.tar").map(str::to_string) {
            Some(id) => {
                layers.push((format!("{id}.tar"), None, bytes));
                others.push((name, Some(format!("../{id}.tar")), Vec::new()));
            }
            None if name == "manifest.json" => others.insert(0, (name, None, bytes)),
            None => others.push((name, None, bytes)),
        }
    }
    layers.reverse();
    let (manifest, rest) = others.split_at(1);
    write(&[manifest, &layers, rest].concat())
}

#[test]
fn podmans_form_with_links_and_the_manifest_first_streams_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.tar");
    spec().write_docker_archive(&path, DockerForm::Legacy);
    let file = from_file(&path);
    let streamed = streamed(podman_shaped(&std::fs::read(&path).unwrap())).unwrap();
    assert_same(&streamed, &file);
}

#[test]
fn a_layer_not_the_configs_or_missing_fails_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.tar");
    spec().write_docker_archive(&path, DockerForm::Legacy);
    let legacy = std::fs::read(&path).unwrap();

    // One byte of a file in the first layer changed: its diff_id is no longer the config's.
    let mut tampered = members(&podman_shaped(&legacy));
    let layer = tampered
        .iter_mut()
        .find(|(name, _, bytes)| name.ends_with(".tar") && bytes.windows(5).any(|w| w == b"first"))
        .expect("the first layer");
    let at = layer.2.windows(5).position(|w| w == b"first").unwrap();
    layer.2[at] = b'F';
    let err = streamed(write(&tampered))
        .err()
        .expect("a mismatch")
        .to_string();
    assert!(
        err.contains("digest mismatch: the diff_id is sha256:"),
        "{err}"
    );

    // A layer the manifest names is not in the archive.
    let mut missing = members(&legacy);
    let gone = missing
        .iter()
        .position(|(name, _, _)| name.ends_with("/layer.tar"))
        .unwrap();
    missing.remove(gone);
    let err = streamed(write(&missing))
        .err()
        .expect("a missing layer")
        .to_string();
    assert!(err.contains("the archive does not hold it"), "{err}");
}

#[test]
fn a_streamed_layer_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blobs.tar");
    spec().write_docker_archive(&path, DockerForm::Blobs);
    let body = Box::new(Unseekable(std::io::Cursor::new(
        std::fs::read(&path).unwrap(),
    )));
    let mut stream = read_stream(body, SourceKind::Podman, "x").unwrap();
    let layer = stream.next_layer().unwrap().expect("a layer");
    entries(&layer).unwrap();
    let again = entries(&layer).unwrap_err().to_string();
    assert!(again.contains("can be read once only"), "{again}");
}
