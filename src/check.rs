//! `gpubom check`: scan (or read an SBOM), evaluate the rule pack, report.

use crate::scan::{scan_source, unchecked_signatures_warning, Advisories, ScanFlags};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use gpubom_inventory::Inventory;
use gpubom_policy::report::{self, Format};
use gpubom_policy::{Config, Pack, Severity};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct CheckArgs {
    /// Image, directory or file to scan and check (see `gpubom scan --help`)
    #[arg(required_unless_present = "sbom", conflicts_with = "sbom")]
    pub source: Option<String>,

    /// Check a CycloneDX JSON SBOM instead (gpubom's own, or Syft's / Trivy's), with
    /// --advisories and --vex; what it does not record is reported as not checked, and
    /// flags that only apply to reading an image (--key, --platform, …) are refused
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,

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
    // Every output is known good before the scan: a typo costs nothing.
    let targets = crate::output::targets(&args.outputs, args.format)?;
    let config = load_config(&args.scan)?;
    let pack = Pack::load_for(&args.policies, !args.no_default_policies, &config)?;
    if pack.rules.is_empty() {
        bail!("no rules to check: --no-default-policies was given without any --policy");
    }
    let today = gpubom_inventory::time::today();
    gpubom_policy::waivers::check_against(&config, &pack.rules, &today)?;
    let (inventory, target) = match (&args.source, &args.sbom) {
        (_, Some(sbom)) => (
            read_sbom(sbom, &args.scan, &config)?,
            sbom.display().to_string(),
        ),
        (Some(source), None) => (
            scan_source(source, &args.scan, &config)?.inventory,
            source.clone(),
        ),
        (None, None) => unreachable!("clap requires a source or --sbom"),
    };
    let findings = gpubom_policy::evaluate(&pack, &inventory, &config, &today)?;
    let not_checked = gpubom_policy::not_checked(&inventory, &config);
    crate::console::warnings(
        gpubom_policy::unused_waivers(&findings, &config)
            .into_iter()
            .map(|waiver| {
                format!(
                    "waiver for {} matching {:?} matched nothing; remove it, or fix its match",
                    waiver.rule, waiver.pattern
                )
            }),
        args.scan.quiet,
    );
    let fail_on = match args.fail_on {
        FailOn::None => None,
        FailOn::Low => Some(Severity::Low),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::High => Some(Severity::High),
        FailOn::Critical => Some(Severity::Critical),
    };
    let dockerfile_path = args.dockerfile.clone().or_else(|| {
        Path::new("Dockerfile")
            .is_file()
            .then(|| PathBuf::from("Dockerfile"))
    });
    let dockerfile_text = match &dockerfile_path {
        Some(p) => Some(read_dockerfile(p)?),
        None => None,
    };
    let dockerfile_uri = dockerfile_path.as_ref().map(|p| p.display().to_string());
    let context = report::Context {
        target: &target,
        rules: &pack.rules,
        fail_on,
        tool_version: env!("CARGO_PKG_VERSION"),
        dockerfile: dockerfile_uri.as_deref().zip(dockerfile_text.as_deref()),
        not_checked: &not_checked,
    };
    // Everything is rendered before anything is written: no half set of reports.
    let mut rendered = Vec::new();
    for target in &targets {
        let bytes = match report_format(target) {
            Some(format) => report::render(&findings, format, &context).into_bytes(),
            None => gpubom_sbom::render(
                &inventory,
                gpubom_sbom::Format::CycloneDxJson,
                env!("CARGO_PKG_VERSION"),
            )
            .context("cannot render the SBOM")?,
        };
        rendered.push((target.file.as_deref(), bytes));
    }
    crate::output::write_all(rendered)?;
    Ok(if gpubom_policy::failing(&findings, fail_on) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The Dockerfile, as far as SARIF results can point into it: a longer one (its writer
/// may be the pull request being checked) is not read to its end.
fn read_dockerfile(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| {
            file.take(report::MAX_DOCKERFILE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// An SBOM as the gate sees it: the advisories and VEX statements given now
/// applied, and what it does not record declared not checked. Flags that only
/// change how an image is read are refused: an SBOM is a scan already made.
fn read_sbom(path: &Path, flags: &ScanFlags, config: &Config) -> Result<Inventory> {
    let refused = flags.image_only();
    if !refused.is_empty() {
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
    let advisories = Advisories::load(flags)?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut inventory = gpubom_sbom::read_cyclonedx_json(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut warnings = advisories.apply(&mut inventory);
    warnings.extend(unchecked_signatures_warning(&inventory, config));
    crate::console::warnings(warnings, flags.quiet);
    Ok(inventory)
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

/// `--config FILE`, else `.gpubom.toml` in the current directory, else the
/// defaults; then the `--key` files join the config's signing keys.
pub fn load_config(flags: &ScanFlags) -> Result<Config> {
    let mut config = read_config(flags.config.as_deref())?;
    config
        .signatures
        .keys
        .extend(flags.keys.iter().map(|k| k.display().to_string()));
    if let Some(root) = &flags.trusted_root {
        config.signatures.trusted_root = Some(root.display().to_string());
    }
    config.signatures.check().map_err(anyhow::Error::msg)?;
    Ok(config)
}

/// The configuration at `path`, else `.gpubom.toml` in the current directory,
/// else the defaults. Files it names are made relative to it.
pub fn read_config(path: Option<&Path>) -> Result<Config> {
    let path = match path {
        Some(p) => Some(p.to_path_buf()),
        None if Path::new(".gpubom.toml").is_file() => Some(PathBuf::from(".gpubom.toml")),
        None => None,
    };
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut config =
        Config::parse(&text, &path.display().to_string()).map_err(anyhow::Error::msg)?;
    // Key files are named relative to the config that names them.
    let base = path.parent().unwrap_or(Path::new(""));
    let signatures = &mut config.signatures;
    for file in signatures
        .keys
        .iter_mut()
        .chain(&mut signatures.trusted_root)
    {
        *file = base.join(&*file).display().to_string();
    }
    Ok(config)
}
