//! A registry that sends a byte a second is timed out by the scan's deadline
//! (`Options::timeout`), whatever the client's read timeout between bytes allows.
//!
//! The binary has no option for a short deadline yet, and the default one is an hour,
//! so these run through the library with a deadline of seconds, against the hostile
//! loopback server of `gpubom-testkit`.

use gpubom_image::RemoteBlobs;
use gpubom_registry::{Options, Registry};
use gpubom_testkit::hostile_http::{Body, LayoutRegistry, Response, Server};
use gpubom_testkit::image::{Compression, ImageSpec, Layer};
use std::io::Read;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(2);
/// Well past [`TIMEOUT`], well short of the client's 60 s between reads.
const ENDS_WITHIN: Duration = Duration::from_secs(20);

fn options() -> Options {
    Options {
        platform: None,
        plain_http: true,
        credential_hosts: Vec::new(),
        timeout: Some(TIMEOUT),
    }
}

fn drip(bytes: &[u8]) -> Body {
    Body::Drip {
        bytes: bytes.to_vec(),
        every: Duration::from_secs(1),
    }
}

#[test]
fn a_manifest_sent_a_byte_a_second_times_out() {
    let server = Server::start(|request| {
        if request.path.contains("/manifests/") {
            Response::new(200)
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .body(drip(&[b' '; 600]))
        } else {
            Response::new(200).json(&serde_json::json!({}))
        }
    });
    let reference = format!("{}/gpu/app:v1", server.host());
    let started = Instant::now();
    let err = match gpubom_registry::open(&reference, &options()) {
        Ok(_) => panic!("a dripping manifest was accepted"),
        Err(e) => e.to_string(),
    };
    assert_timed_out(
        started,
        &err,
        &format!("manifest {reference}"),
        &server.host(),
    );
}

#[test]
fn a_layer_sent_a_byte_a_second_times_out() {
    let dir = tempfile::tempdir().unwrap();
    ImageSpec::new("gpu/app", "v1")
        .layer(
            Layer::new()
                .file("opt/a.txt", "a")
                .compression(Compression::None),
        )
        .write_oci_dir(dir.path());
    let layout = LayoutRegistry::new(dir.path(), "gpu/app", "v1");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(format!(
            "blobs/sha256/{}",
            layout.manifest_digest().trim_start_matches("sha256:")
        )))
        .unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let dripped = layer.clone();
    let server = Server::start(move |request| {
        if request.path.ends_with(&dripped) {
            Response::new(200).body(drip(&[0; 600]))
        } else {
            layout.answer(request)
        }
    });
    let reference =
        gpubom_registry::reference::parse(&format!("{}/gpu/app:v1", server.host())).unwrap();
    let registry = Registry::connect(reference, &options()).unwrap();
    let started = Instant::now();
    let (mut reader, _) = registry.blob(&layer, None).unwrap();
    let err = reader.read_to_end(&mut Vec::new()).unwrap_err().to_string();
    assert_timed_out(started, &err, &format!("blob {layer}"), &server.host());
}

/// The fetch of `what` from `host` ended soon after `started`, with the scan deadline's error.
fn assert_timed_out(started: Instant, err: &str, what: &str, host: &str) {
    assert!(
        started.elapsed() < ENDS_WITHIN,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        err.starts_with(&format!(
            "timed out after 2 s fetching {what} from {host}; raise --timeout"
        )),
        "{err}"
    );
}
