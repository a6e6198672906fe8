//! The advisory data and VEX statements a scan's components are matched
//! against: loaded before any byte of the source is read, so bad input fails
//! fast, and applied alike to a fresh scan and to an SBOM read back.

use crate::settings::ScanSettings;
use anyhow::Result;
use gpubom_inventory::Inventory;

/// The advisory data (built in, plus `--advisories`) and the `--vex` statements.
pub struct Advisories {
    database: gpubom_advisory::Database,
    vex: gpubom_advisory::Vex,
}

impl Advisories {
    pub fn load(settings: &ScanSettings) -> Result<Advisories> {
        Ok(Advisories {
            database: gpubom_advisory::Database::load(&settings.advisories)
                .map_err(anyhow::Error::msg)?,
            vex: gpubom_advisory::Vex::load(&settings.vex).map_err(anyhow::Error::msg)?,
        })
    }

    /// Matches `inventory`'s components and says which data it used (and, for
    /// an SBOM read back, which data its scan used). Returns the warnings.
    pub fn apply(&self, inventory: &mut Inventory) -> Vec<String> {
        let warnings = self.database.annotate(inventory, &self.vex);
        let now = self.database.describe();
        inventory.advisory_data = Some(match inventory.advisory_data.take() {
            Some(before) if before != now => format!("{now}; when scanned: {before}"),
            _ => now,
        });
        warnings
    }
}
