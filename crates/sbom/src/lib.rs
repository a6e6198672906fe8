//! The SBOM documents gpubom writes and reads, and the table view.
//!
//! [`render`] writes an [`Inventory`] as CycloneDX 1.6 (the default) or 1.5,
//! JSON or XML, through the `cyclonedx-bom` model; as SPDX 2.3 JSON through
//! `serde-spdx`'s types, generated from the SPDX schema; or as a table for
//! terminals. Every document is a function of the inventory alone: the
//! timestamp is the scan's ([`Inventory::scanned_at`]), never the clock at
//! render time, so two scans with one `SOURCE_DATE_EPOCH` are byte-identical.

mod cyclonedx;
mod licenses;
mod read;
mod spdx;
mod table;
mod vulnerabilities;

pub use read::read_cyclonedx_json;

use gpubom_inventory::Inventory;

/// The CycloneDX specification versions gpubom writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycloneDxVersion {
    /// ECMA-424 1st edition, the current one.
    V1_6,
    /// For consumers that do not read 1.6 yet.
    V1_5,
}

impl CycloneDxVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            CycloneDxVersion::V1_6 => "1.6",
            CycloneDxVersion::V1_5 => "1.5",
        }
    }
}

/// Output formats of `gpubom scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CycloneDxJson(CycloneDxVersion),
    CycloneDxXml(CycloneDxVersion),
    SpdxJson,
    Table,
}

impl Format {
    /// What `gpubom` writes when nobody asks for anything else.
    pub const DEFAULT_SBOM: Format = Format::CycloneDxJson(CycloneDxVersion::V1_6);
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot write CycloneDX: {0}")]
    Write(String),
    #[error("cannot write SPDX: {0}")]
    Spdx(String),
}

/// Renders an inventory in the given format.
pub fn render(inventory: &Inventory, format: Format, tool_version: &str) -> Result<Vec<u8>, Error> {
    Ok(match format {
        Format::CycloneDxJson(version) => cyclonedx::json(inventory, tool_version, version)?,
        Format::CycloneDxXml(version) => cyclonedx::xml(inventory, tool_version, version)?,
        Format::SpdxJson => spdx::json(inventory, tool_version)?,
        Format::Table => table::render(inventory).into_bytes(),
    })
}
