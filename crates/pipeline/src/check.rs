//! The gate: a rule pack and a configuration, checked against each other
//! before any image is read, then evaluated over an inventory into findings
//! and reports. Reports are returned as bytes; where they go is the caller's.

use crate::attest::read_attested;
use crate::config::load_config;
use crate::sbom::read_sbom_to_check;
use crate::scan::{scan_source, Progress};
use crate::settings::ScanSettings;
use crate::TOOL_VERSION;
use anyhow::{anyhow, bail, Context, Result};
use gpubom_catalog::Scan;
use gpubom_inventory::file::open_regular;
use gpubom_inventory::{Inventory, NotChecked};
use gpubom_policy::report::{self, Format};
use gpubom_policy::{Config, Finding, Pack, Severity};
use std::path::{Path, PathBuf};

/// The sources `check --local` checks: the images `[local] images` names in
/// the configuration, each from its engine. None named is an error that says
/// how to name them: a check of nothing must not pass for a check.
pub fn local_images(settings: &ScanSettings) -> Result<Vec<String>> {
    let config = load_config(settings)?;
    let sources = config.local.sources();
    if sources.is_empty() {
        let origin = match config.origin.as_str() {
            "" => "no .gpubom.toml here",
            origin => origin,
        };
        bail!(
            "{origin}: no [local] images to check; name the images you build, \
             e.g. [local] images = [\"app:dev\"]"
        );
    }
    Ok(sources)
}

/// The configuration and rule pack a check evaluates, known good: the pack
/// has rules, every waiver names one of them and stays within the limits.
pub struct Gate {
    pub config: Config,
    pub pack: Pack,
    /// The date waivers and findings are judged on, the same for both.
    today: String,
}

impl Gate {
    /// The configuration (see [`load_config`]), the built-in pack unless
    /// `default_policies` is false, and `policies` (`.cedar` files or directories).
    pub fn load(
        settings: &ScanSettings,
        policies: &[PathBuf],
        default_policies: bool,
    ) -> Result<Gate> {
        let config = load_config(settings)?;
        let today = gpubom_inventory::time::today();
        let pack = load_pack(
            policies,
            default_policies,
            &config,
            &today,
            "no rules to check: --no-default-policies was given without any --policy",
        )?;
        Ok(Gate {
            config,
            pack,
            today,
        })
    }

    /// The inventory to check, with its warnings and its name in the reports:
    /// a source scanned, an SBOM read back (see [`read_sbom_to_check`]), or an
    /// attested SBOM once its signature and subject are checked.
    pub fn read(
        &self,
        input: Input,
        settings: &ScanSettings,
        progress: &dyn Progress,
    ) -> Result<(Scan, String)> {
        Ok(match input {
            Input::Source(source) => (
                scan_source(source, settings, &self.config, progress)?,
                source.to_string(),
            ),
            Input::Sbom(path) => (
                read_sbom_to_check(path, settings, &self.config)?,
                path.display().to_string(),
            ),
            Input::Attested(source) => read_attested(source, settings, &self.config)?,
        })
    }

    /// The findings on `inventory`; `target` names it in the reports (an
    /// image reference or an SBOM's path).
    pub fn evaluate(&self, inventory: Inventory, target: String) -> Result<Verdict<'_>> {
        let findings = gpubom_policy::evaluate(&self.pack, &inventory, &self.config, &self.today)?;
        let not_checked = gpubom_policy::not_checked(&inventory, &self.config);
        let warnings = gpubom_policy::unused_waivers(&findings, &self.config)
            .into_iter()
            .map(|waiver| {
                format!(
                    "waiver for {} matching {:?} matched nothing; remove it, or fix its match",
                    waiver.rule, waiver.pattern
                )
            })
            .collect();
        Ok(Verdict {
            gate: self,
            inventory,
            target,
            findings,
            not_checked,
            warnings,
        })
    }
}

/// `policies` and the built-in pack unless left out, with every waiver of
/// `config` checked against it as of `today`. `if_empty` is the error when
/// the pack has no rules.
pub(crate) fn load_pack(
    policies: &[PathBuf],
    default_policies: bool,
    config: &Config,
    today: &str,
    if_empty: &str,
) -> Result<Pack> {
    let pack = Pack::load_for(policies, default_policies, config)?;
    if pack.rules.is_empty() {
        bail!("{if_empty}");
    }
    gpubom_policy::waivers::check_against(config, &pack.rules, today)?;
    Ok(pack)
}

/// What a check reads: an image, directory or file to scan, an SBOM, or the SBOM
/// attested beside an image (see [`read_attested`]).
pub enum Input<'a> {
    Source(&'a str),
    Sbom(&'a Path),
    Attested(&'a str),
}

/// What a check found on one inventory.
pub struct Verdict<'g> {
    gate: &'g Gate,
    /// The inventory checked, the SBOM a `cyclonedx-json` report writes.
    pub inventory: Inventory,
    pub target: String,
    pub findings: Vec<Finding>,
    /// The facts that could not be established, for the reports.
    pub not_checked: Vec<NotChecked>,
    /// Waivers that matched nothing, one line each.
    pub warnings: Vec<String>,
}

/// The Dockerfile SARIF results point at: its path as the report names it, and its text.
pub struct Dockerfile {
    pub uri: String,
    pub text: String,
}

impl Verdict<'_> {
    /// The findings at or above `fail_on` that no waiver covers (the exit code's reason).
    pub fn failing(&self, fail_on: Option<Severity>) -> usize {
        gpubom_policy::failing(&self.findings, fail_on)
    }

    /// The report in `format`, or the SBOM checked when `format` is `None`.
    pub fn render(
        &self,
        format: Option<Format>,
        fail_on: Option<Severity>,
        dockerfile: Option<&Dockerfile>,
    ) -> Result<Vec<u8>> {
        let Some(format) = format else {
            return gpubom_sbom::render(
                &self.inventory,
                gpubom_sbom::Format::DEFAULT_SBOM,
                TOOL_VERSION,
            )
            .context("cannot render the SBOM");
        };
        let context = report::Context {
            target: &self.target,
            rules: &self.gate.pack.rules,
            fail_on,
            tool_version: TOOL_VERSION,
            dockerfile: dockerfile.map(|d| (d.uri.as_str(), d.text.as_str())),
            not_checked: &self.not_checked,
        };
        Ok(report::render(&self.findings, format, &context).into_bytes())
    }
}

/// The Dockerfile at `path`, else `./Dockerfile` if there is one.
pub fn dockerfile(path: Option<PathBuf>) -> Result<Option<Dockerfile>> {
    let path = path.or_else(|| {
        Path::new("Dockerfile")
            .is_file()
            .then(|| PathBuf::from("Dockerfile"))
    });
    let Some(path) = path else {
        return Ok(None);
    };
    Ok(Some(Dockerfile {
        text: read_dockerfile(&path)?,
        uri: path.display().to_string(),
    }))
}

/// The Dockerfile, as far as SARIF results can point into it: a longer one (its writer
/// may be the pull request being checked) is not read to its end.
fn read_dockerfile(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let file = open_regular(path).map_err(|e| anyhow!(e.describe(path, "a Dockerfile", 0)))?;
    file.take(report::MAX_DOCKERFILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
