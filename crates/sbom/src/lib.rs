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

pub use read::{read_cyclonedx, read_cyclonedx_json};

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

/// Inventories built by hand for the writers' unit tests.
#[cfg(test)]
mod synthetic {
    use gpubom_inventory::{Component, ComponentKind, Dependency, DependencyKind, Inventory};

    /// A hand-built graph (synthetic): torch requires a CUDA wheel, links a
    /// library that wheel bundles, and a deb depends on another.
    pub(crate) fn graph() -> Inventory {
        let component = |kind, name: &str| Component {
            kind,
            name: name.into(),
            version: Some("1".into()),
            purl: Some(format!("pkg:generic/{name}@1")),
            ..Default::default()
        };
        let edge = |from, to, kind| Dependency { from, to, kind };
        Inventory {
            components: vec![
                component(ComponentKind::Deb, "libc6"),
                component(ComponentKind::Deb, "zlib1g"),
                component(ComponentKind::Python, "nvidia-cudnn-cu12"),
                component(ComponentKind::Python, "torch"),
                component(ComponentKind::NativeLibrary, "cudnn"),
            ],
            dependencies: vec![
                edge(1, 0, DependencyKind::Depends),
                edge(2, 4, DependencyKind::Bundles),
                edge(3, 2, DependencyKind::Requires),
                edge(3, 4, DependencyKind::Links),
            ],
            scanned_at: Some("2023-11-14T22:13:20Z".into()),
            ..Default::default()
        }
    }
}
