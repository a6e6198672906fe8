//! `gpubom policy validate|test|schema`: developing an organisation's own rules.

use anyhow::{bail, Result};
use clap::Subcommand;
use gpubom_policy::test_runner::{self, Policies};
use gpubom_policy::Pack;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Parse and validate policies against the gpubom schema, with the default
    /// pack (no @id may clash with it) and the configuration's waivers
    Validate {
        /// .cedar files or directories [default: none: the default pack and the
        /// configuration alone, e.g. to validate its waivers]
        paths: Vec<PathBuf>,
        /// The organisation's values the policies read as principal.<name>, and
        /// its waivers [default: .gpubom.toml if present]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Validate as `check --no-default-policies` runs: without the built-in rule pack
        #[arg(long)]
        no_default_policies: bool,
    },
    /// Run *.test.json fixtures (an inventory or an SBOM, with the rules expected
    /// to fire and to stay silent) against the policies
    Test {
        /// A fixture file or a directory of them
        fixtures: PathBuf,
        /// Policies under test (repeatable) [default: the *.cedar files beside the
        /// fixtures, or in their parent directory]
        #[arg(long = "policy", value_name = "PATH")]
        policies: Vec<PathBuf>,
        /// Leave out the built-in rule pack
        #[arg(long)]
        no_default_policies: bool,
        /// The configuration of fixtures that bring none of their own
        /// [default: .gpubom.toml if present]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Print the Cedar schema policies are written against
    Schema {
        /// Declare the organisation's own values from this config
        /// [default: .gpubom.toml if present]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub fn run(command: PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Validate {
            paths,
            config,
            no_default_policies,
        } => {
            let config = crate::check::read_config(config.as_deref())?;
            // The pack `check` would load, so an @id clash or a waiver for a
            // rule that is not there fails here, not in CI.
            let pack = Pack::load_for(&paths, !no_default_policies, &config)?;
            if pack.rules.is_empty() {
                bail!(
                    "nothing to validate: --no-default-policies was given without any policy path"
                );
            }
            let today = gpubom_inventory::time::today();
            gpubom_policy::waivers::check_against(&config, &pack.rules, &today)?;
            let own = pack.rules.values().filter(|r| !r.builtin).count();
            crate::console::out(&format!(
                "ok: {own} rule(s) valid against the gpubom schema{}; {} waiver(s) valid",
                if no_default_policies {
                    ""
                } else {
                    ", no @id clashes with the default pack"
                },
                config.waivers.len()
            ));
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Test {
            fixtures,
            policies,
            no_default_policies,
            config,
        } => {
            let config = crate::check::read_config(config.as_deref())?;
            test(&fixtures, policies, no_default_policies, &config)
        }
        PolicyCommand::Schema { config } => {
            let config = crate::check::read_config(config.as_deref())?;
            gpubom_policy::schema_text(&config)
                .lines()
                .for_each(crate::console::out);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn test(
    fixtures: &std::path::Path,
    policies: Vec<PathBuf>,
    no_default: bool,
    config: &gpubom_policy::Config,
) -> Result<ExitCode> {
    let policies = if policies.is_empty() {
        test_runner::policies_beside(fixtures)
    } else {
        policies
    };
    if policies.is_empty() && no_default {
        bail!(
            "no policies to test: none beside {} or in its parent; give them with --policy DIR",
            fixtures.display()
        );
    }
    let under_test: Vec<String> = policies.iter().map(|p| p.display().to_string()).collect();
    crate::console::out(&format!(
        "testing {}{}",
        if no_default { "" } else { "the default pack" },
        match (under_test.is_empty(), no_default) {
            (true, _) => String::new(),
            (false, true) => under_test.join(", "),
            (false, false) => format!(" and {}", under_test.join(", ")),
        }
    ));
    let report = test_runner::run(
        &Policies {
            paths: &policies,
            include_default: !no_default,
            config,
        },
        fixtures,
        &gpubom_inventory::time::today(),
        &|bytes| gpubom_sbom::read_cyclonedx_json(bytes),
    )?;
    for name in &report.passed {
        crate::console::out(&format!("PASS {name}"));
    }
    for (name, why) in &report.failed {
        crate::console::out(&format!("FAIL {name}: {why}"));
    }
    crate::console::out(&format!(
        "{} passed, {} failed",
        report.passed.len(),
        report.failed.len()
    ));
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
