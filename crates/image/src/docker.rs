//! `docker save` archives: `manifest.json` naming a config and layer tars,
//! in the legacy `<id>/layer.tar` form or the newer `blobs/sha256/…` form.

use crate::descriptor::parse_json;
use crate::digest::Algorithm;
use crate::oci::{parse_config, split_reference};
use crate::{Error, ImageConfig};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

pub(crate) struct Docker {
    pub name: Option<String>,
    pub tag: Option<String>,
    pub config: ImageConfig,
    pub config_digest: String,
    /// (member path in the archive, digest of the stored blob when its path names it)
    pub layers: Vec<(String, Option<String>)>,
}

/// Reads the archive's `manifest.json` and the config it names, each through
/// `read_json` (a member of at most `MAX_JSON` bytes); `describe` names the
/// archive in messages. The archive may be a file indexed in place or a stream
/// whose small members were held (`stream`).
pub(crate) fn read(
    describe: &str,
    read_json: &dyn Fn(&str) -> Result<Vec<u8>, Error>,
) -> Result<Docker, Error> {
    let what = format!("manifest.json in {describe}");
    let entries: Vec<Entry> = parse_json(&read_json("manifest.json")?, &what)?;
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotAnImage {
            path: describe.to_string(),
            why: "manifest.json lists no image".into(),
        })?;
    let member = |field: &str, raw: &str| {
        crate::path::inside(raw).map_err(|why| Error::Invalid {
            what: what.clone(),
            why: format!("{field} refers to {raw} {why}"),
        })
    };
    let config_path = member("Config", &entry.config)?;
    let config_bytes = read_json(&config_path)?;
    let config_digest = Algorithm::Sha256.digest(&config_bytes);
    let (config, _) = parse_config(&config_bytes, &format!("config {config_path}"))?;
    let (name, tag) = entry
        .repo_tags
        .and_then(|tags| tags.into_iter().next())
        .map(|t| split_reference(&t))
        .unwrap_or((None, None));
    let layers = entry
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let path = member(&format!("Layers[{i}]"), l)?;
            // Docker 25+ stores layers by digest; older forms name them otherwise.
            let digest = path
                .strip_prefix("blobs/")
                .and_then(|rest| rest.split_once('/'))
                .map(|(alg, hex)| format!("{alg}:{hex}"))
                .filter(|digest| Algorithm::of(digest).is_ok());
            Ok((path, digest))
        })
        .collect::<Result<_, Error>>()?;
    Ok(Docker {
        name,
        tag,
        config,
        config_digest,
        layers,
    })
}
