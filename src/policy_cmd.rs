//! `gpubom policy validate|test|schema`: developing an organisation's own
//! rules; the flags and what is printed, the work in `gpubom_pipeline::policy`.

use anyhow::Result;
use clap::Subcommand;
use gpubom_pipeline::policy;
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
            let config = gpubom_pipeline::read_config(config.as_deref())?;
            let validated = policy::validate(&paths, !no_default_policies, &config)?;
            crate::console::out(&validated.to_string());
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Test {
            fixtures,
            policies,
            no_default_policies,
            config,
        } => {
            let config = gpubom_pipeline::read_config(config.as_deref())?;
            let policies = policy::policies_under_test(&fixtures, policies, !no_default_policies)?;
            crate::console::out(&policy::under_test(&policies, !no_default_policies));
            let report = policy::run_tests(&fixtures, &policies, !no_default_policies, &config)?;
            report
                .lines()
                .iter()
                .for_each(|line| crate::console::out(line));
            Ok(ExitCode::from(u8::from(!report.failed.is_empty())))
        }
        PolicyCommand::Schema { config } => {
            let config = gpubom_pipeline::read_config(config.as_deref())?;
            gpubom_policy::schema_text(&config)
                .lines()
                .for_each(crate::console::out);
            Ok(ExitCode::SUCCESS)
        }
    }
}
