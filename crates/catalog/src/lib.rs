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
//!    registration order (see [`cataloger`]);
//! 4. [`graph`] draws the dependency edges between those components.
//!
//! The parsers of the bytes themselves (package databases, model files, ELF)
//! live in `gpubom_formats`, with no knowledge of layers, so they are tested
//! and fuzzed alone; the catalogers here decide what to feed them and turn
//! their facts into components.

pub mod cache;
mod cataloger;
mod facts;
mod graph;
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
    /// Told of each layer once it is read, from any thread, in the order they finish.
    pub on_layer: Option<&'a (dyn Fn(&LayerRead) + Sync)>,
    /// The most components the image may have; [`DEFAULT_MAX_COMPONENTS`] when `None`.
    pub max_components: Option<usize>,
}

/// One layer read: what a progress line off a terminal says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRead {
    /// Its position in the image, or in the stream as it arrived.
    pub position: usize,
    /// Its digest shortened, or its name in a stream ([`gpubom_image::Layer::label`]).
    pub label: String,
    /// Stored bytes, when known.
    pub size: Option<u64>,
    pub seconds: f64,
    /// Whether its analysis came from the layer cache, unread.
    pub cached: bool,
}

/// `layer 2 sha256:0123456789ab 4.7 MB 0.9 s`: what a CI log shows per layer.
impl std::fmt::Display for LayerRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "layer {} {}", self.position + 1, self.label)?;
        match self.size {
            Some(size) if size >= 1_000_000_000 => write!(f, " {:.1} GB", size as f64 / 1e9)?,
            Some(size) if size >= 1_000_000 => write!(f, " {:.1} MB", size as f64 / 1e6)?,
            Some(size) => write!(f, " {:.1} kB", size as f64 / 1e3)?,
            None => {}
        }
        let how = if self.cached { " (cached)" } else { "" };
        write!(f, " {:.1} s{how}", self.seconds)
    }
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
/// else from its bytes (and then kept); the caller is told when it is done.
fn analyze(
    layer: &gpubom_image::Layer,
    options: &ScanOptions,
) -> Result<facts::LayerAnalysis, gpubom_image::Error> {
    let started = std::time::Instant::now();
    let no_progress = |_: u64| {};
    let progress: &(dyn Fn(u64) + Sync) = options.progress.unwrap_or(&no_progress);
    let cached = match (options.cache, layer.diff_id.as_deref()) {
        (Some(cache), Some(diff_id)) => cache.get(diff_id, layer.index),
        _ => None,
    };
    let from_cache = cached.is_some();
    let analysis = match cached {
        Some(cached) => {
            progress(layer.size.unwrap_or(0));
            cached
        }
        None => {
            let analysis = walk::analyze_layer(layer, progress)?;
            if let (Some(cache), Some(diff_id)) = (options.cache, layer.diff_id.as_deref()) {
                cache.put(diff_id, &analysis);
            }
            analysis
        }
    };
    if let Some(on_layer) = options.on_layer {
        on_layer(&LayerRead {
            position: layer.index,
            label: layer.label(),
            size: layer.size,
            seconds: started.elapsed().as_secs_f64(),
            cached: from_cache,
        });
    }
    Ok(analysis)
}

/// Catalogs everything in `image`.
pub fn scan(image: &Image, options: &ScanOptions) -> Result<Scan, Error> {
    let analyses = image
        .layers
        .par_iter()
        .map(|layer| analyze(layer, options))
        .collect::<Result<Vec<_>, _>>()?;
    catalog(image, &analyses, options)
}

/// Catalogs a docker-archive as it arrives: each layer is read when it comes
/// (one at a time, as the stream gives them; nothing is looked up in the
/// cache, since a layer's diff_id is known only once it is read), then put in
/// the image's order once the archive ends. Returns the image with the scan.
pub fn scan_stream(
    mut stream: gpubom_image::ArchiveStream,
    platform: Option<&str>,
    options: &ScanOptions,
) -> Result<(Image, Scan), Error> {
    let unread = ScanOptions {
        cache: None,
        ..*options
    };
    let mut arrived = Vec::new();
    while let Some(layer) = stream.next_layer()? {
        arrived.push(analyze(&layer, &unread)?);
    }
    let streamed = stream.finish(platform)?;
    let analyses: Vec<_> = streamed
        .order
        .iter()
        .enumerate()
        .map(|(index, &at)| facts::LayerAnalysis {
            index,
            ..arrived[at].clone()
        })
        .collect();
    let scan = catalog(&streamed.image, &analyses, options)?;
    Ok((streamed.image, scan))
}

/// The merge and the catalogers over the layers' analyses, in image order.
fn catalog(
    image: &Image,
    analyses: &[facts::LayerAnalysis],
    options: &ScanOptions,
) -> Result<Scan, Error> {
    let view = merge::MergedView::build(analyses);
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
    let platform = graph::Platform {
        architecture: image
            .config
            .as_ref()
            .and_then(|c| c.architecture.as_deref()),
        env: context.env,
    };
    let (dependencies, graph_warnings) = graph::build(&view, &mut found, &platform);

    let warnings = analyses
        .iter()
        .flat_map(|a| {
            a.skipped
                .iter()
                .map(move |(path, why)| format!("layer {}: /{path} not read: {why}", a.index))
        })
        .chain(graph_warnings)
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
        // The pipeline stamps the scan's time; the graph is filled after the catalogers.
        scanned_at: None,
        dependencies,
    };
    // Sorts the components, and the edges' indices with them.
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
