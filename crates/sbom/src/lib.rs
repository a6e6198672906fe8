//! CycloneDX for gpubom inventories.

use gpubom_inventory::Inventory;

/// Output formats of `gpubom scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CycloneDxJson,
    CycloneDxXml,
    Table,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Message(String),
}

/// Renders an inventory in the given format.
pub fn render(
    _inventory: &Inventory,
    _format: Format,
    _tool_version: &str,
) -> Result<Vec<u8>, Error> {
    todo!()
}
