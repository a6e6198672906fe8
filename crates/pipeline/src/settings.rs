//! How to scan, as plain data.
//!
//! The binary fills a [`ScanSettings`] in from its flags, so the pipeline
//! never sees clap and a test can write one by hand. Each field is one flag
//! that `scan` and `check` share; a default is a scan with no flags given.

use anyhow::{bail, Result};
use gpubom_inventory::{DEFAULT_MAX_COMPONENTS, MAX_COMPONENTS_VAR};
use std::path::PathBuf;

/// The most components one image (or SBOM) may have: `GPUBOM_MAX_COMPONENTS` when set, else
/// [`DEFAULT_MAX_COMPONENTS`].
pub fn max_components() -> Result<usize> {
    let Some(value) = std::env::var_os(MAX_COMPONENTS_VAR) else {
        return Ok(DEFAULT_MAX_COMPONENTS);
    };
    match value.to_str().and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(limit) if limit > 0 => Ok(limit),
        _ => bail!(
            "{MAX_COMPONENTS_VAR} is {value:?}; set it to a whole number of components, or unset it for {DEFAULT_MAX_COMPONENTS}"
        ),
    }
}

/// How a source is read, verified and matched against advisories.
#[derive(Debug, Clone, Default)]
pub struct ScanSettings {
    /// `os/arch[/variant]`: picked from a multi-platform image, and checked
    /// against a single-platform one (`--platform`).
    pub platform: Option<String>,
    /// Extra NVIDIA fingerprints (TSV), added to the built-in table (`--fingerprints`).
    pub fingerprints: Option<PathBuf>,
    /// Expected sha256 of model files, in `sha256sum` format (`--expect-sha256`).
    pub expect_sha256: Option<PathBuf>,
    /// Read every layer, even those the layer cache holds (`--no-cache`).
    pub no_cache: bool,
    /// Talk to the registry over plain HTTP (`--plain-http`).
    pub plain_http: bool,
    /// How long the scan may spend on registry traffic in all; the registry
    /// client's default when `None` (`--timeout`).
    pub timeout: Option<std::time::Duration>,
    /// Cosign public keys, added to the config's `[signatures] keys` (`--key`).
    pub keys: Vec<PathBuf>,
    /// Sigstore's trusted_root.json, over the config's (`--trusted-root`).
    pub trusted_root: Option<PathBuf>,
    /// The configuration file; `.gpubom.toml` in the current directory when `None` (`--config`).
    pub config: Option<PathBuf>,
    /// OSV advisory files or directories, besides the built-in data (`--advisories`).
    pub advisories: Vec<PathBuf>,
    /// VEX statements (`--vex`).
    pub vex: Vec<PathBuf>,
}

impl ScanSettings {
    /// The settings given that change how an image is read, each as its flag
    /// and why: an SBOM is a scan already made, so `check --sbom` cannot honour them.
    pub fn image_only(&self) -> Vec<(&'static str, &'static str)> {
        [
            (
                self.platform.is_some(),
                "--platform",
                "the platform was chosen when the SBOM was made",
            ),
            (
                self.fingerprints.is_some(),
                "--fingerprints",
                "NVIDIA libraries are identified when the image is scanned",
            ),
            (
                self.expect_sha256.is_some(),
                "--expect-sha256",
                "model hashes are compared with the files' bytes, which an SBOM does not hold",
            ),
            (
                !self.keys.is_empty(),
                "--key",
                "signatures are verified beside the image, when it is scanned",
            ),
            (
                self.trusted_root.is_some(),
                "--trusted-root",
                "signatures are verified beside the image, when it is scanned",
            ),
            (
                self.plain_http,
                "--plain-http",
                "an SBOM is read from a file, not a registry",
            ),
            (
                self.timeout.is_some(),
                "--timeout",
                "an SBOM is read from a file, not a registry",
            ),
            (self.no_cache, "--no-cache", "an SBOM has no layers to read"),
        ]
        .into_iter()
        .filter(|(given, _, _)| *given)
        .map(|(_, flag, why)| (flag, why))
        .collect()
    }
}
