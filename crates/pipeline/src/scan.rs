//! Source → inventory: open an image (from a registry, a container engine or
//! a path), catalog its layers, check its signatures and match its components
//! against the advisories. What `scan`, `check` and a batch scan share.
//!
//! Which source a spec names: `docker:`/`podman:` the engine's image; a
//! reference (`gpubom_registry::reference::recognise`) with no registry host
//! (`app:dev`) the engine's image when an engine that answers holds it, as
//! Trivy looks, else the registry's; any other reference the registry's;
//! anything else a path. The SBOM's `gpubom:source:kind` says which was read.

use crate::advisories::Advisories;
use crate::settings::{max_components, ScanSettings};
use crate::signatures::{signature_facts, trust, unchecked_signatures_warning, unsigned_source};
use anyhow::{anyhow, bail, Context, Result};
use gpubom_catalog::nvidia::FingerprintTable;
use gpubom_catalog::{LayerRead, Scan};
use gpubom_inventory::file::{read_regular, MAX_LIST_BYTES};
use gpubom_inventory::{Fact, NotChecked};
use std::collections::HashMap;

/// What the caller shows while layers are read (a progress bar, or nothing):
/// the pipeline only counts bytes.
pub trait Progress: Sync {
    /// The source is open; `total` stored bytes of layers are to be read (0: unknown).
    fn start(&self, total: u64);
    /// `bytes` more were read, from any thread.
    fn advance(&self, bytes: u64);
    /// One layer was read, from any thread, in the order they finish.
    fn layer(&self, _read: &LayerRead) {}
    /// Every layer was read.
    fn finish(&self);
}

/// No display: a batch scan, or a test.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Opens and catalogs `source`. The scan's warnings are returned with it, for
/// the caller to show or not.
pub fn scan_source(
    source: &str,
    settings: &ScanSettings,
    config: &gpubom_policy::Config,
    progress: &dyn Progress,
) -> Result<Scan> {
    // Keys and advisories are loaded before any byte is pulled: bad input fails fast.
    let scanned_at =
        gpubom_inventory::time::now_or_source_date_epoch().map_err(anyhow::Error::msg)?;
    let trust = trust(&config.signatures)?;
    let advisories = Advisories::load(settings)?;
    let mut fingerprints = FingerprintTable::builtin();
    if let Some(path) = &settings.fingerprints {
        fingerprints.merge(FingerprintTable::load(path).map_err(anyhow::Error::msg)?);
    }
    let expected = expected_sha256(settings)?;
    let max_components = max_components()?;
    let opened = open_source(source, settings, &config.registry.credential_hosts)?;
    let no_cache =
        settings.no_cache || std::env::var_os("GPUBOM_NO_CACHE").is_some_and(|v| v == "1");
    let (cache, cache_warning) = match (!no_cache).then(gpubom_catalog::cache::LayerCache::user) {
        Some(Ok(cache)) => (cache, None),
        Some(Err(why)) => (None, Some(why)),
        None => (None, None),
    };
    let on_progress = |n: u64| progress.advance(n);
    let on_layer = |read: &LayerRead| progress.layer(read);
    let options = gpubom_catalog::ScanOptions {
        progress: Some(&on_progress),
        fingerprints: Some(&fingerprints),
        expected_sha256: expected.as_ref(),
        cache: cache.as_ref(),
        on_layer: Some(&on_layer),
        max_components: Some(max_components),
    };
    let (image, mut scan) = match opened {
        Opened::Image(image) => {
            progress.start(image.layers.iter().filter_map(|l| l.size).sum());
            let scan = gpubom_catalog::scan(&image, &options)?;
            (*image, scan)
        }
        Opened::Engine(export) => {
            progress.start(export.size.unwrap_or(0));
            let kind = export.engine.source_kind();
            let stream = gpubom_image::read_stream(export.body, kind, &export.reference)?;
            gpubom_catalog::scan_stream(stream, settings.platform.as_deref(), &options)
                .with_context(|| {
                    format!(
                        "{}:{} (engine at {})",
                        kind.scheme(),
                        export.reference,
                        export.endpoint
                    )
                })?
        }
    };
    progress.finish();
    scan.inventory.scanned_at = Some(scanned_at);
    scan.warnings.extend(cache_warning);
    match signature_facts(&image, &trust)? {
        Some(facts) => scan.inventory.signatures = Some(facts),
        None => scan.inventory.declare_not_checked([NotChecked::image(
            Fact::Signatures,
            unsigned_source(image.kind),
        )]),
    }
    scan.warnings.extend(advisories.apply(&mut scan.inventory));
    scan.warnings
        .extend(unchecked_signatures_warning(&scan.inventory, config));
    Ok(scan)
}

/// The `--expect-sha256` file, path → hex; `None` when none was given.
fn expected_sha256(settings: &ScanSettings) -> Result<Option<HashMap<String, String>>> {
    let Some(path) = &settings.expect_sha256 else {
        return Ok(None);
    };
    let text = read_regular(path, MAX_LIST_BYTES)
        .map_err(|e| anyhow!(e.describe(path, "an --expect-sha256 file", MAX_LIST_BYTES)))?;
    gpubom_catalog::parse_sha256sums(&text, &path.display().to_string())
        .map(Some)
        .map_err(anyhow::Error::msg)
}

/// What a spec opened as.
pub(crate) enum Opened {
    Image(Box<gpubom_image::Image>),
    /// An engine's export, read as it arrives.
    Engine(EngineExport),
}

pub(crate) struct EngineExport {
    engine: gpubom_engine::Engine,
    reference: String,
    endpoint: String,
    size: Option<u64>,
    body: Box<dyn std::io::Read + Send>,
}

/// An image as `attach` and `attest` need it, with a manifest digest to compare and to
/// put attestations beside: not an engine's export, which has none.
pub(crate) fn open_image(
    source: &str,
    settings: &ScanSettings,
    credential_hosts: &[String],
) -> Result<gpubom_image::Image> {
    match open_source(source, settings, credential_hosts)? {
        Opened::Image(image) => Ok(*image),
        Opened::Engine(export) => bail!(
            "{}:{} is an image in a local engine, which has no registry digest: push it, then name it by its registry reference",
            export.engine.source_kind().scheme(),
            export.reference
        ),
    }
}

/// An engine's image, a registry reference through the registry client,
/// anything else as a local path (see the module's documentation).
pub(crate) fn open_source(
    source: &str,
    settings: &ScanSettings,
    credential_hosts: &[String],
) -> Result<Opened> {
    let platform = settings.platform.as_deref();
    if let Some((engine, reference)) = gpubom_engine::Engine::of_spec(source) {
        return open_engine(engine, reference, platform);
    }
    match gpubom_registry::reference::recognise(source) {
        Some(reference) => {
            if !gpubom_registry::reference::names_its_registry(source) {
                if let Some(engine) = gpubom_engine::holding(reference) {
                    return open_engine(engine, reference, platform);
                }
            }
            let image = gpubom_registry::open(
                reference,
                &gpubom_registry::Options {
                    platform: settings.platform.clone(),
                    plain_http: settings.plain_http,
                    credential_hosts: credential_hosts.to_vec(),
                    timeout: settings.timeout,
                },
            )?;
            Ok(Opened::Image(Box::new(image)))
        }
        None => {
            let options = gpubom_image::OpenOptions {
                platform: settings.platform.clone(),
            };
            Ok(Opened::Image(Box::new(gpubom_image::open(
                source, &options,
            )?)))
        }
    }
}

fn open_engine(
    engine: gpubom_engine::Engine,
    reference: &str,
    platform: Option<&str>,
) -> Result<Opened> {
    let export = gpubom_engine::export(engine, reference, platform)?;
    Ok(Opened::Engine(EngineExport {
        engine,
        reference: reference.to_string(),
        endpoint: export.endpoint,
        size: export.size,
        body: export.body,
    }))
}
