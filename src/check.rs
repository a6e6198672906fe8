//! `gpubom check`: its flags, and where the reports go; the gate itself is
//! `gpubom_pipeline::check`.

use crate::scan::{Bar, ScanFlags};
use anyhow::Result;
use clap::{Args, ValueEnum};
use gpubom_pipeline::check::{Gate, Input};
use gpubom_policy::report::Format;
use gpubom_policy::Severity;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CheckArgs {
    /// Image, directory or file to scan and check (see `gpubom scan --help`)
    #[arg(required_unless_present_any = ["sbom", "local"], conflicts_with = "sbom")]
    pub source: Option<String>,

    /// Check each image [local] images in .gpubom.toml names, from the engine (docker:
    /// unless it says podman:), reports to stdout; one the engine lacks is an error (exit 2)
    #[arg(long, conflicts_with_all = ["source", "sbom", "outputs"])]
    pub local: bool,

    /// Check a CycloneDX JSON SBOM instead (gpubom's own, or Syft's / Trivy's), with
    /// --advisories and --vex; what it does not record is reported as not checked, and
    /// flags that only apply to reading an image (--key, --platform, …) are refused
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,

    /// Check the SBOM attested beside the image (`gpubom attest`, `cosign attest --type
    /// cyclonedx`) instead of scanning it: its DSSE signature must verify with a --key and
    /// its subject be the image's digest, else exit 2
    #[arg(long, requires = "source", conflicts_with = "sbom")]
    pub attested: bool,

    /// More policies: a .cedar file or a directory of them (repeatable)
    #[arg(long = "policy", value_name = "PATH")]
    pub policies: Vec<PathBuf>,

    /// Leave out the built-in rule pack; use only --policy
    #[arg(long)]
    pub no_default_policies: bool,

    /// Lowest severity that fails the check (exit 1); none reports without failing
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: FailOn,

    /// Format of the report on stdout, or of a bare `-o FILE`
    #[arg(short, long, value_enum, default_value = "text")]
    pub format: ReportFormat,

    /// Where reports go, repeatable, from one evaluation: FORMAT=FILE, FORMAT (to stdout)
    /// or FILE (the --format report). cyclonedx-json is the SBOM. An unknown FORMAT= is an
    /// error; a file whose name has '=' is written ./NAME. A file is replaced atomically, a
    /// symlink written through, a device or FIFO (/dev/null) written in place
    #[arg(short, long = "output", value_name = "[FORMAT=]FILE")]
    pub outputs: Vec<String>,

    /// Dockerfile that SARIF results point at [default: ./Dockerfile if present]
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,

    #[command(flatten)]
    pub scan: ScanFlags,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FailOn {
    None,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Sarif,
    Markdown,
    /// The SBOM the check ran on
    CyclonedxJson,
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let sources = match args.local {
        true => gpubom_pipeline::check::local_images(&args.scan.settings())?,
        false => vec![args.source.clone().unwrap_or_default()],
    };
    let mut worst = 0;
    for source in &sources {
        worst = worst.max(check(&args, source)?);
    }
    Ok(ExitCode::from(worst))
}

/// Checks one source (or the SBOM of --sbom): 1 when it fails the gate.
fn check(args: &CheckArgs, source: &str) -> Result<u8> {
    // Every output is known good before the scan: a typo costs nothing.
    let targets = crate::output::targets(&args.outputs, args.format)?;
    let settings = args.scan.settings();
    let gate = Gate::load(&settings, &args.policies, !args.no_default_policies)?;
    let dockerfile = gpubom_pipeline::check::dockerfile(args.dockerfile.clone())?;
    let quiet = args.scan.quiet();
    let input = match (&args.sbom, args.attested) {
        (Some(sbom), _) => Input::Sbom(sbom),
        (None, true) => Input::Attested(source),
        (None, false) => Input::Source(source),
    };
    let (scan, target) = gate.read(input, &settings, &Bar::new(quiet))?;
    crate::console::warnings(&scan.warnings, quiet);
    let verdict = gate.evaluate(scan.inventory, target)?;
    crate::console::warnings(&verdict.warnings, quiet);
    let fail_on = match args.fail_on {
        FailOn::None => None,
        FailOn::Low => Some(Severity::Low),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::High => Some(Severity::High),
        FailOn::Critical => Some(Severity::Critical),
    };
    // Everything is rendered before anything is written: no half set of reports.
    let mut rendered = Vec::new();
    for target in &targets {
        let bytes = verdict.render(report_format(target), fail_on, dockerfile.as_ref())?;
        rendered.push((target.file.as_deref(), bytes));
    }
    crate::output::write_all(rendered)?;
    Ok(u8::from(verdict.failing(fail_on) > 0))
}

/// The findings report a target asks for; `None` for the SBOM.
fn report_format(target: &crate::output::Target<ReportFormat>) -> Option<Format> {
    Some(match target.format {
        ReportFormat::Text => Format::Text {
            colour: crate::output::to_terminal(target) && std::env::var_os("NO_COLOR").is_none(),
        },
        ReportFormat::Json => Format::Json,
        ReportFormat::Sarif => Format::Sarif,
        ReportFormat::Markdown => Format::Markdown,
        ReportFormat::CyclonedxJson => return None,
    })
}
