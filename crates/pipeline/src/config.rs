//! Finding and reading `.gpubom.toml`: every command reads the same file the
//! same way, and the signing keys given as flags join the ones it names.

use crate::settings::ScanSettings;
use anyhow::Result;
use gpubom_inventory::file::read_regular;
use gpubom_policy::Config;
use std::path::{Path, PathBuf};

/// `settings.config`, else `.gpubom.toml` in the current directory, else the
/// defaults; then the `--key` files join the config's signing keys.
pub fn load_config(settings: &ScanSettings) -> Result<Config> {
    let mut config = read_config(settings.config.as_deref())?;
    config
        .signatures
        .keys
        .extend(settings.keys.iter().map(|k| k.display().to_string()));
    if let Some(root) = &settings.trusted_root {
        config.signatures.trusted_root = Some(root.display().to_string());
    }
    config.signatures.check().map_err(anyhow::Error::msg)?;
    Ok(config)
}

/// The most of a configuration that is read: thousands of waivers fit in a fraction of it.
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// The configuration at `path`, else `.gpubom.toml` in the current directory,
/// else the defaults. Files it names are made relative to it.
pub fn read_config(path: Option<&Path>) -> Result<Config> {
    let path = match path {
        Some(p) => Some(p.to_path_buf()),
        None if Path::new(".gpubom.toml").is_file() => Some(PathBuf::from(".gpubom.toml")),
        None => None,
    };
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = read_regular(&path, MAX_CONFIG_BYTES)
        .map_err(|e| anyhow::anyhow!(e.describe(&path, "a configuration", MAX_CONFIG_BYTES)))?;
    let mut config =
        Config::parse(&text, &path.display().to_string()).map_err(anyhow::Error::msg)?;
    // Key files are named relative to the config that names them.
    let base = path.parent().unwrap_or(Path::new(""));
    let signatures = &mut config.signatures;
    for file in signatures
        .keys
        .iter_mut()
        .chain(&mut signatures.trusted_root)
    {
        *file = base.join(&*file).display().to_string();
    }
    Ok(config)
}
