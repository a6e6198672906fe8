//! Publishing an SBOM beside its image (`gpubom attach`): an OCI 1.1
//! referrer of the image's digest, pushed only once the file reads as an SBOM.

use crate::sbom::MAX_SBOM_BYTES;
use crate::settings::max_components;
use anyhow::{anyhow, bail, Result};
use gpubom_inventory::file::read_regular_bytes;
use gpubom_registry::attach::AttachedSbom;
use std::path::Path;

/// An SBOM attached, and the image as the reference named it.
pub struct Attached {
    pub sbom: AttachedSbom,
    /// The reference without its scheme (`registry:`), tag or digest kept.
    pub reference: String,
}

/// Pushes the CycloneDX JSON SBOM at `sbom` as a referrer of `reference`.
pub fn attach_sbom(reference: &str, sbom: &Path, plain_http: bool) -> Result<Attached> {
    let bytes = read_regular_bytes(sbom, MAX_SBOM_BYTES)
        .map_err(|e| anyhow!(e.describe(sbom, "an SBOM", MAX_SBOM_BYTES)))?;
    // A referrer lives as long as the image; refuse to publish what is not an SBOM.
    if let Err(e) = gpubom_sbom::read_cyclonedx(bytes.as_slice(), max_components()?) {
        bail!(
            "{}: {e}; attach takes a CycloneDX JSON SBOM",
            sbom.display()
        );
    }
    let reference = gpubom_registry::reference::strip_scheme(reference).unwrap_or(reference);
    // Where the credentials may go besides the registry: `.gpubom.toml` here, if any.
    let config = crate::config::read_config(None)?;
    let attached = gpubom_registry::attach::attach(
        reference,
        bytes,
        plain_http,
        &config.registry.credential_hosts,
    )?;
    Ok(Attached {
        sbom: attached,
        reference: reference.to_string(),
    })
}
