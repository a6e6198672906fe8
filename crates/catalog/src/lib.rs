//! What the bytes are.
//!
//! [`scan`] takes an opened [`gpubom_image::Image`] and returns the
//! [`Inventory`] of what is inside it. The work follows ARCHITECTURE.md:
//!
//! 1. each layer is read once, in parallel, by [`walk`]: catalogers claim files
//!    by path and parse only what they claimed; a layer seen before comes from
//!    the [`cache`] instead, by diff_id;
//! 2. [`merge`] folds the layers bottom-up, honouring whiteouts and opaque
//!    directories, so only what a container would see survives;
//! 3. each cataloger resolves the surviving facts into components, in
//!    registration order (see [`cataloger`]).
//!
//! The parsers of the bytes themselves (package databases, model files, ELF)
//! live in `gpubom_formats`, with no knowledge of layers, so they are tested
//! and fuzzed alone; the catalogers here decide what to feed them and turn
//! their facts into components.

pub mod cache;
mod cataloger;
mod facts;
mod merge;
mod not_checked;
pub mod nvidia;
mod walk;

use gpubom_image::Image;
use gpubom_inventory::{ImageFacts, Inventory, LayerInfo, Subject, DEFAULT_MAX_COMPONENTS};
use rayon::prelude::*;

/// Why a scan could not complete. The message names the layer or file, or the limit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Image(#[from] gpubom_image::Error),
    /// More components than [`ScanOptions::max_components`].
    #[error("the image has {}", gpubom_inventory::past_component_limit(*.0))]
    TooManyComponents(usize),
}

/// Options for [`scan`].
#[derive(Default)]
pub struct ScanOptions<'a> {
    /// Receives the number of stored bytes consumed, from any thread, as layers stream.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// NVIDIA fingerprints; the built-in table when `None`.
    pub fingerprints: Option<&'a nvidia::FingerprintTable>,
    /// Expected sha256 of model files, by path or file name (see [`parse_sha256sums`]).
    pub expected_sha256: Option<&'a std::collections::HashMap<String, String>>,
    /// Where layer results are kept by diff_id; `None` reads every layer.
    pub cache: Option<&'a cache::LayerCache>,
    /// The most components the image may have; [`DEFAULT_MAX_COMPONENTS`] when `None`.
    pub max_components: Option<usize>,
}

/// Parses `sha256sum` output (`<hex>  <path>`, `*` marking binary mode) into
/// path → hex. Errors name the line.
pub fn parse_sha256sums(
    text: &str,
    origin: &str,
) -> Result<std::collections::HashMap<String, String>, String> {
    let mut out = std::collections::HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (hex, path) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{origin}:{}: expected `<sha256>  <path>`", n + 1))?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{origin}:{}: {hex:?} is not a sha256 in hex",
                n + 1
            ));
        }
        let path = path
            .trim_start()
            .trim_start_matches('*')
            .trim_start_matches("./");
        out.insert(path.to_string(), hex.to_ascii_lowercase());
    }
    Ok(out)
}

/// The result of a scan: the inventory and what the user should be told about it.
#[derive(Debug)]
pub struct Scan {
    pub inventory: Inventory,
    /// Non-fatal problems (a file too large to read, …), one line each.
    pub warnings: Vec<String>,
}

/// One layer's analysis: from the cache when it holds the layer's diff_id,
/// else from its bytes (and then kept).
fn analyze(
    layer: &gpubom_image::Layer,
    progress: &(dyn Fn(u64) + Sync),
    cache: Option<&cache::LayerCache>,
) -> Result<facts::LayerAnalysis, gpubom_image::Error> {
    let (Some(cache), Some(diff_id)) = (cache, layer.diff_id.as_deref()) else {
        return walk::analyze_layer(layer, progress);
    };
    if let Some(cached) = cache.get(diff_id, layer.index) {
        progress(layer.size.unwrap_or(0));
        return Ok(cached);
    }
    let analysis = walk::analyze_layer(layer, progress)?;
    cache.put(diff_id, &analysis);
    Ok(analysis)
}

/// Catalogs everything in `image`.
pub fn scan(image: &Image, options: &ScanOptions) -> Result<Scan, Error> {
    let no_progress = |_: u64| {};
    let progress: &(dyn Fn(u64) + Sync) = options.progress.unwrap_or(&no_progress);
    let analyses = image
        .layers
        .par_iter()
        .map(|layer| analyze(layer, progress, options.cache))
        .collect::<Result<Vec<_>, _>>()?;

    let view = merge::MergedView::build(&analyses);
    let mut found = cataloger::Found::default();
    let builtin;
    let fingerprints = match options.fingerprints {
        Some(table) => table,
        None => {
            builtin = nvidia::FingerprintTable::builtin();
            &builtin
        }
    };
    let context = cataloger::Context {
        env: image
            .config
            .as_ref()
            .map(|c| c.env.as_slice())
            .unwrap_or_default(),
        fingerprints,
        expected_sha256: options.expected_sha256,
    };
    let max_components = options.max_components.unwrap_or(DEFAULT_MAX_COMPONENTS);
    for cataloger in cataloger::CATALOGERS {
        cataloger.resolve(&view, &context, &mut found);
        // Checked after each cataloger, before the next adds more: every later stage holds
        // each component at least once.
        if found.components.len() > max_components {
            return Err(Error::TooManyComponents(max_components));
        }
    }

    let warnings = analyses
        .iter()
        .flat_map(|a| {
            a.skipped
                .iter()
                .map(move |(path, why)| format!("layer {}: /{path} not read: {why}", a.index))
        })
        .collect();
    let mut inventory = Inventory {
        subject: subject(image),
        image: image.config.as_ref().map(image_facts),
        distro: found.distro,
        layers: layer_infos(image),
        components: found.components,
        signatures: None,
        vulnerabilities: Vec::new(),
        advisory_data: None,
        not_checked: Vec::new(),
        dependencies: Vec::new(),
    };
    inventory.normalize();
    not_checked::declare(image, options.expected_sha256.is_some(), &mut inventory);
    Ok(Scan {
        inventory,
        warnings,
    })
}

fn subject(image: &Image) -> Subject {
    Subject {
        kind: image.kind.scheme().to_string(),
        location: image.location.clone(),
        name: image.name.clone(),
        tag: image.tag.clone(),
        digest: image.manifest_digest.clone(),
        config_digest: image.config_digest.clone(),
        platform: image.platform.clone(),
    }
}

fn image_facts(config: &gpubom_image::ImageConfig) -> ImageFacts {
    ImageFacts {
        user: config.user.clone(),
        exposed_ports: config.exposed_ports.clone(),
        env: config
            .env
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), String::new()),
            })
            .collect(),
        labels: config.labels.clone(),
        entrypoint: config.entrypoint.clone(),
        cmd: config.cmd.clone(),
        workdir: config.workdir.clone(),
        created: config.created.clone(),
        architecture: config.architecture.clone(),
        os: config.os.clone(),
    }
}

fn layer_infos(image: &Image) -> Vec<LayerInfo> {
    image
        .layers
        .iter()
        .map(|l| LayerInfo {
            index: l.index,
            diff_id: l.diff_id.clone(),
            digest: l.digest.clone(),
            media_type: l.media_type.clone(),
            size: l.size,
            created_by: l.created_by.clone(),
        })
        .collect()
}
