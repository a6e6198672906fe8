//! Publishing an SBOM beside its image (`gpubom attach`): an OCI 1.1
//! referrer of the image's digest, pushed only once the file reads as an SBOM
//! that gpubom wrote about that image.

use crate::attest::sbom_subject;
use crate::sbom::MAX_SBOM_BYTES;
use crate::scan::open_image;
use crate::settings::{max_components, ScanSettings};
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

/// Pushes the CycloneDX JSON SBOM at `sbom` as a referrer of `reference`. Unless `force`,
/// the SBOM must be gpubom's and describe the image the reference names now (the
/// platform's manifest, for a multi-platform image).
pub fn attach_sbom(
    reference: &str,
    sbom: &Path,
    plain_http: bool,
    force: bool,
) -> Result<Attached> {
    let bytes = read_regular_bytes(sbom, MAX_SBOM_BYTES)
        .map_err(|e| anyhow!(e.describe(sbom, "an SBOM", MAX_SBOM_BYTES)))?;
    // A referrer lives as long as the image; refuse to publish what is not an SBOM.
    let inventory =
        gpubom_sbom::read_cyclonedx(bytes.as_slice(), max_components()?).map_err(|e| {
            anyhow!(
                "{}: {e}; attach takes a CycloneDX JSON SBOM",
                sbom.display()
            )
        })?;
    let reference = gpubom_registry::reference::strip_scheme(reference).unwrap_or(reference);
    // Where the credentials may go besides the registry: `.gpubom.toml` here, if any.
    let config = crate::config::read_config(None)?;
    if !force {
        let described = sbom_subject(&inventory, sbom)
            .map_err(|e| anyhow!("{e}; --force attaches it anyway"))?;
        let settings = ScanSettings {
            platform: inventory.subject.platform.clone(),
            plain_http,
            ..ScanSettings::default()
        };
        let image = open_image(reference, &settings, &config.registry.credential_hosts)?;
        let image_digest = image.manifest_digest.unwrap_or_default();
        if described != image_digest {
            bail!(
                "{} describes {described}, but {reference} is {image_digest}: attach the SBOM of this image \
                 (scan {reference} again), name the image by digest, or --force",
                sbom.display()
            );
        }
    }
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
