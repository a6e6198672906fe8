//! `gpubom advisories list`: what advisory data a scan would match, and from where.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AdvisoriesCommand {
    /// List the built-in advisories and those from --advisories, with the packages they name
    List {
        /// More OSV .json files or directories of them (repeatable)
        #[arg(long = "advisories", value_name = "PATH")]
        advisories: Vec<PathBuf>,
    },
}

pub fn run(command: AdvisoriesCommand) -> Result<ExitCode> {
    match command {
        AdvisoriesCommand::List { advisories } => {
            let database =
                gpubom_advisory::Database::load(&advisories).map_err(anyhow::Error::msg)?;
            let listing = database.list();
            for advisory in &listing {
                let aliases = if advisory.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", advisory.aliases.join(", "))
                };
                crate::console::out(&format!(
                    "{}{aliases}: {} [{}]",
                    advisory.id,
                    advisory.packages.join(", "),
                    advisory.source.display()
                ));
            }
            crate::console::out(&format!(
                "{} advisory(ies) loaded; built-in data of {}",
                listing.len(),
                gpubom_advisory::DATA_VERSION
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}
