//! A CycloneDX SBOM read back as an inventory: as written for `diff`, and as
//! the gate sees it for `check --sbom`, with today's advisories applied.

use crate::advisories::Advisories;
use crate::settings::ScanSettings;
use crate::signatures::unchecked_signatures_warning;
use anyhow::{bail, Context, Result};
use gpubom_catalog::Scan;
use gpubom_inventory::Inventory;
use std::path::Path;

/// The inventory the SBOM at `path` records; errors name the file.
pub fn read_sbom(path: &Path) -> Result<Inventory> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    gpubom_sbom::read_cyclonedx_json(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
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
