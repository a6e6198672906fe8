//! `gpubom diff OLD NEW`: what a change to an image did, for the pull request
//! that made it.
//!
//! A full SBOM or a full check report of the new image buries the one line a
//! reviewer needs ("upgrades cuDNN 8.9.2 → 9.1.0, adds an unsafe pickle,
//! closes port 8888") among thousands that did not change. This reads two
//! CycloneDX SBOMs (gpubom's, or any other tool's), runs the same rule pack
//! over both, and reports only the difference. It never fails a build:
//! `gpubom check` is the gate; this is the explanation.
//!
//! `compare` holds the rules of what counts as a change, `render` the formats.

mod compare;
mod render;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use gpubom_inventory::Inventory;
use gpubom_policy::{Finding, Pack};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct DiffArgs {
    /// The SBOM before the change (CycloneDX JSON: gpubom's, Syft's, Trivy's)
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The SBOM after the change
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Report format
    #[arg(short, long, value_enum, default_value = "text")]
    pub format: DiffFormat,

    /// Write the report to FILE instead of stdout (atomically; a symlink is written
    /// through, a device or FIFO in place)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// More policies for the findings comparison: a .cedar file or a directory (repeatable)
    #[arg(long = "policy", value_name = "PATH")]
    pub policies: Vec<PathBuf>,

    /// Leave out the built-in rule pack; with no --policy, findings are not compared
    #[arg(long)]
    pub no_default_policies: bool,

    /// Organisation values and waivers [default: ./.gpubom.toml if present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Markdown,
}

pub fn run(args: DiffArgs) -> Result<ExitCode> {
    let old = read_sbom(&args.old)?;
    let new = read_sbom(&args.new)?;
    let config = crate::check::read_config(args.config.as_deref())?;
    let pack = Pack::load_for(&args.policies, !args.no_default_policies, &config)?;
    let today = gpubom_inventory::time::today();
    let findings = |inventory: &Inventory| -> Result<Vec<Finding>> {
        // An empty pack is a request to compare components only, not an error as in `check`.
        if pack.rules.is_empty() {
            return Ok(Vec::new());
        }
        Ok(gpubom_policy::evaluate(&pack, inventory, &config, &today)?)
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
    let (old_findings, new_findings) = (findings(&old)?, findings(&new)?);
    let old_with_new_facts = counterfactual(&old, &new)?;
    let new_with_old_facts = counterfactual(&new, &old)?;
    let diff = compare::diff(
        &old,
        &new,
        &compare::Findings {
            old: &old_findings,
            new: &new_findings,
            old_with_new_facts: old_with_new_facts.as_deref(),
            new_with_old_facts: new_with_old_facts.as_deref(),
        },
    );
    let (old_side, new_side) = (side(&args.old, &old), side(&args.new, &new));
    let rendered = match args.format {
        DiffFormat::Text => render::text(&diff),
        DiffFormat::Json => render::json(&diff, &old_side, &new_side),
        DiffFormat::Markdown => render::markdown(&diff, &old_side, &new_side),
    };
    crate::output::write(args.output.as_deref(), rendered.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn read_sbom(path: &Path) -> Result<Inventory> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    gpubom_sbom::read_cyclonedx_json(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn side(path: &Path, inventory: &Inventory) -> render::Side {
    render::Side {
        sbom: path.display().to_string(),
        subject: gpubom_policy::reference(inventory),
    }
}
