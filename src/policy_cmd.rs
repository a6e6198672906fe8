//! `gpubom policy validate|test`: developing an organisation's own rules.

use anyhow::Result;
use clap::Subcommand;
use gpubom_policy::Pack;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Parse and validate policies against the gpubom schema
    Validate {
        /// .cedar files or directories
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run *.test.json fixtures (inventory + expected rules) against the pack
    Test {
        /// A fixture file or a directory of them
        fixtures: PathBuf,
        /// Policies to add to the built-in pack (repeatable)
        #[arg(long = "policy", value_name = "PATH")]
        policies: Vec<PathBuf>,
        /// Leave out the built-in rule pack
        #[arg(long)]
        no_default_policies: bool,
    },
    /// Print the Cedar schema policies are written against
    Schema,
}

pub fn run(command: PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Validate { paths } => {
            let pack = Pack::load(&paths, false)?;
            println!(
                "ok: {} rule(s) valid against the gpubom schema",
                pack.rules.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Test {
            fixtures,
            policies,
            no_default_policies,
        } => {
            let pack = Pack::load(&policies, !no_default_policies)?;
            let report = gpubom_policy::test_runner::run(
                &pack,
                &fixtures,
                &gpubom_inventory::time::today(),
            )?;
            for name in &report.passed {
                println!("PASS {name}");
            }
            for (name, why) in &report.failed {
                println!("FAIL {name}: {why}");
            }
            println!(
                "{} passed, {} failed",
                report.passed.len(),
                report.failed.len()
            );
            Ok(if report.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PolicyCommand::Schema => {
            print!("{}", gpubom_policy::SCHEMA);
            Ok(ExitCode::SUCCESS)
        }
    }
}
