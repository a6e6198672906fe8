//! Source → inventory: open an image (from a registry or a path), catalog
//! its layers, check its signatures and match its components against the
//! advisories. What `scan`, `check` and a batch scan share.

use crate::advisories::Advisories;
use crate::settings::{max_components, ScanSettings};
use crate::signatures::{signature_facts, trust, unchecked_signatures_warning, unsigned_source};
use anyhow::{anyhow, Result};
use gpubom_catalog::nvidia::FingerprintTable;
use gpubom_catalog::Scan;
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
    let trust = trust(&config.signatures)?;
    let advisories = Advisories::load(settings)?;
    let mut fingerprints = FingerprintTable::builtin();
    if let Some(path) = &settings.fingerprints {
        fingerprints.merge(FingerprintTable::load(path).map_err(anyhow::Error::msg)?);
    }
    let expected = expected_sha256(settings)?;
    let max_components = max_components()?;
    let image = open_source(source, settings, &config.registry.credential_hosts)?;
    let no_cache =
        settings.no_cache || std::env::var_os("GPUBOM_NO_CACHE").is_some_and(|v| v == "1");
    let (cache, cache_warning) = match (!no_cache).then(gpubom_catalog::cache::LayerCache::user) {
        Some(Ok(cache)) => (cache, None),
        Some(Err(why)) => (None, Some(why)),
        None => (None, None),
    };
    progress.start(image.layers.iter().filter_map(|l| l.size).sum());
    let on_progress = |n: u64| progress.advance(n);
    let mut scan = gpubom_catalog::scan(
        &image,
        &gpubom_catalog::ScanOptions {
            progress: Some(&on_progress),
            fingerprints: Some(&fingerprints),
            expected_sha256: expected.as_ref(),
            cache: cache.as_ref(),
            max_components: Some(max_components),
        },
    )?;
    progress.finish();
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

/// A registry reference through the registry client, anything else as a local path.
fn open_source(
    source: &str,
    settings: &ScanSettings,
    credential_hosts: &[String],
) -> Result<gpubom_image::Image> {
    match gpubom_registry::reference::recognise(source) {
        Some(reference) => Ok(gpubom_registry::open(
            reference,
            &gpubom_registry::Options {
                platform: settings.platform.clone(),
                plain_http: settings.plain_http,
                credential_hosts: credential_hosts.to_vec(),
                timeout: settings.timeout,
            },
        )?),
        None => {
            let options = gpubom_image::OpenOptions {
                platform: settings.platform.clone(),
            };
            Ok(gpubom_image::open(source, &options)?)
        }
    }
}
