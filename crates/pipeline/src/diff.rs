//! What a change to an image did, for the pull request that made it
//! (`gpubom diff OLD NEW`).
//!
//! A full SBOM or a full check report of the new image buries the one line a
//! reviewer needs ("upgrades cuDNN 8.9.2 → 9.1.0, adds an unsafe pickle,
//! closes port 8888") among thousands that did not change. This reads two
//! CycloneDX SBOMs (gpubom's, or any other tool's), runs the same rule pack
//! over both, and reports only the difference. It never fails a build:
//! `gpubom check` is the gate; this is the explanation.
//!
//! `compare` holds the rules of what counts as a change, `render` the formats.

pub mod compare;
pub mod render;

use crate::config::read_config;
use crate::sbom::read_sbom;
use anyhow::Result;
use compare::Diff;
use gpubom_inventory::Inventory;
use gpubom_policy::{Config, Finding, Pack};
use render::Side;
use std::path::{Path, PathBuf};

/// The rule pack and configuration the findings of both sides are compared under.
#[derive(Debug, Clone, Default)]
pub struct DiffSettings {
    /// More policies: `.cedar` files or directories.
    pub policies: Vec<PathBuf>,
    /// Leave out the built-in pack; with no `policies` either, findings are not compared.
    pub no_default_policies: bool,
    /// The configuration file; `.gpubom.toml` in the current directory when `None`.
    pub config: Option<PathBuf>,
}

/// Two SBOMs compared, with what the reports call each side.
pub struct Comparison {
    pub diff: Diff,
    pub old: Side,
    pub new: Side,
}

impl Comparison {
    pub fn text(&self) -> String {
        render::text(&self.diff)
    }

    pub fn json(&self) -> String {
        render::json(&self.diff, &self.old, &self.new)
    }

    pub fn markdown(&self) -> String {
        render::markdown(&self.diff, &self.old, &self.new)
    }
}

/// The SBOMs at `old` and `new`, compared.
pub fn diff_sboms(old: &Path, new: &Path, settings: &DiffSettings) -> Result<Comparison> {
    let old_inventory = read_sbom(old)?;
    let new_inventory = read_sbom(new)?;
    let config = read_config(settings.config.as_deref())?;
    let pack = Pack::load_for(&settings.policies, !settings.no_default_policies, &config)?;
    let diff = diff_inventories(
        &old_inventory,
        &new_inventory,
        &pack,
        &config,
        &gpubom_inventory::time::today(),
    )?;
    Ok(Comparison {
        old: side(old, &old_inventory),
        new: side(new, &new_inventory),
        diff,
    })
}

/// `old` and `new` compared: their components, image facts, and the findings
/// of `pack` on each as of `today` (none when the pack has no rules).
pub fn diff_inventories(
    old: &Inventory,
    new: &Inventory,
    pack: &Pack,
    config: &Config,
    today: &str,
) -> Result<Diff> {
    let findings = |inventory: &Inventory| -> Result<Vec<Finding>> {
        // An empty pack is a request to compare components only, not an error as in `check`.
        if pack.rules.is_empty() {
            return Ok(Vec::new());
        }
        Ok(gpubom_policy::evaluate(pack, inventory, config, today)?)
    };
    // Each side again with the image facts only the other recorded: a finding
    // that appears only then is not compared, rather than new or resolved.
    let counterfactual = |side: &Inventory, other: &Inventory| -> Result<Option<Vec<Finding>>> {
        let facts = compare::unrecorded(side, other);
        if facts.is_empty() {
            return Ok(None);
        }
        findings(&compare::with_facts_of(side, other, &facts)).map(Some)
    };
    let (old_findings, new_findings) = (findings(old)?, findings(new)?);
    let old_with_new_facts = counterfactual(old, new)?;
    let new_with_old_facts = counterfactual(new, old)?;
    Ok(compare::diff(
        old,
        new,
        &compare::Findings {
            old: &old_findings,
            new: &new_findings,
            old_with_new_facts: old_with_new_facts.as_deref(),
            new_with_old_facts: new_with_old_facts.as_deref(),
        },
    ))
}

fn side(path: &Path, inventory: &Inventory) -> Side {
    Side {
        sbom: path.display().to_string(),
        subject: gpubom_policy::reference(inventory),
    }
}
