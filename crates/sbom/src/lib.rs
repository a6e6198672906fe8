//! CycloneDX for gpubom inventories, and the table view.
//!
//! [`render`] writes an [`Inventory`] as CycloneDX 1.5 JSON or XML (through
//! the `cyclonedx-bom` crate, with the spec version set explicitly) or as a
//! table for terminals.

mod cyclonedx;
mod read;
mod table;
mod vulnerabilities;

pub use read::{read_cyclonedx, read_cyclonedx_json};

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
    #[error("cannot write CycloneDX: {0}")]
    Write(String),
}

/// Renders an inventory in the given format.
pub fn render(inventory: &Inventory, format: Format, tool_version: &str) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    match format {
        Format::CycloneDxJson => {
            cyclonedx::to_bom(inventory, tool_version)
                .output_as_json_v1_5(&mut out)
                .map_err(|e| Error::Write(e.to_string()))?;
            out.push(b'\n');
        }
        Format::CycloneDxXml => {
            cyclonedx::to_bom(inventory, tool_version)
                .output_as_xml_v1_5(&mut out)
                .map_err(|e| Error::Write(e.to_string()))?;
            let xml = String::from_utf8(out).map_err(|e| Error::Write(e.to_string()))?;
            out = gpubom_inventory::text::for_xml(&xml)
                .into_owned()
                .into_bytes();
        }
        Format::Table => out = table::render(inventory).into_bytes(),
    }
    Ok(out)
}
