//! Publishing an SBOM beside its image (`gpubom attach`): an OCI 1.1
//! referrer of the image's digest, pushed only once the file reads as an SBOM.

use anyhow::{bail, Context, Result};
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
    let bytes = std::fs::read(sbom).with_context(|| format!("cannot read {}", sbom.display()))?;
    // A referrer lives as long as the image; refuse to publish what is not an SBOM.
    if let Err(e) = gpubom_sbom::read_cyclonedx_json(&bytes) {
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
