//! A CycloneDX SBOM read back as an inventory: as written for `diff`, and as
//! the gate sees it for `check --sbom`, with today's advisories applied.

use crate::advisories::Advisories;
use crate::settings::{max_components, ScanSettings};
use crate::signatures::unchecked_signatures_warning;
use anyhow::{anyhow, bail, Result};
use gpubom_catalog::Scan;
use gpubom_inventory::file::{open_regular, Capped};
use gpubom_inventory::Inventory;
use std::path::Path;

/// The largest SBOM read (1 GiB). gpubom writes about 1 KB per component, so an SBOM at the
/// limit on components is about 100 MB; it is read as a stream, never held whole.
pub const MAX_SBOM_BYTES: u64 = 1 << 30;

/// What an SBOM is called where it is too large.
const AN_SBOM: &str = "an SBOM";

/// The inventory the SBOM at `path` records; errors name the file.
pub fn read_sbom(path: &Path) -> Result<Inventory> {
    let file =
        open_regular(path).map_err(|e| anyhow!(e.describe(path, AN_SBOM, MAX_SBOM_BYTES)))?;
    read_sbom_from(file).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// The inventory an SBOM already opened records, read within [`MAX_SBOM_BYTES`] and the
/// limit on components.
pub(crate) fn read_sbom_from(file: std::fs::File) -> Result<Inventory, String> {
    let max_components = max_components().map_err(|e| e.to_string())?;
    gpubom_sbom::read_cyclonedx(Capped::new(file, AN_SBOM, MAX_SBOM_BYTES), max_components)
}

/// An SBOM as the gate sees it: the advisories and VEX statements given now
/// applied, and what it does not record declared not checked. Settings that
/// only change how an image is read are refused: an SBOM is a scan already made.
pub fn read_sbom_to_check(
    path: &Path,
    settings: &ScanSettings,
    config: &gpubom_policy::Config,
) -> Result<Scan> {
    refuse_image_only(settings)?;
    let advisories = Advisories::load(settings)?;
    let mut inventory = read_sbom(path)?;
    let mut warnings = advisories.apply(&mut inventory);
    warnings.extend(unchecked_signatures_warning(&inventory, config));
    Ok(Scan {
        inventory,
        warnings,
    })
}

fn refuse_image_only(settings: &ScanSettings) -> Result<()> {
    let refused = settings.image_only();
    if refused.is_empty() {
        return Ok(());
    }
    let each: Vec<String> = refused
        .iter()
        .map(|(flag, why)| format!("{flag} ({why})"))
        .collect();
    bail!(
        "{} cannot apply to --sbom: {}; check the image itself to use {}",
        refused
            .iter()
            .map(|(f, _)| *f)
            .collect::<Vec<_>>()
            .join(", "),
        each.join("; "),
        if refused.len() == 1 { "it" } else { "them" }
    );
}
