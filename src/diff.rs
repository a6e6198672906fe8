//! `gpubom diff OLD NEW`: its flags, and where the report goes; the
//! comparison is `gpubom_pipeline::diff`.

use anyhow::Result;
use clap::{Args, ValueEnum};
use gpubom_pipeline::diff::{diff_sboms, DiffSettings};
use std::path::PathBuf;
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
    let settings = DiffSettings {
        policies: args.policies,
        no_default_policies: args.no_default_policies,
        config: args.config,
    };
    let comparison = diff_sboms(&args.old, &args.new, &settings)?;
    let rendered = match args.format {
        DiffFormat::Text => comparison.text(),
        DiffFormat::Json => comparison.json(),
        DiffFormat::Markdown => comparison.markdown(),
    };
    crate::output::write(args.output.as_deref(), rendered.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
