//! The JSON every OCI document is made of: descriptors (with the platform
//! and annotations they may carry), the index that lists them, and the
//! bounded parse they all go through.
//!
//! The layout walk (`oci`, `docker`) and the reader of attached manifests
//! (`attached`) both read descriptors; they sit here, below both, so neither
//! imports the other. So does what `cosign save` marks on a descriptor.

use crate::Error;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
pub(crate) struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Index {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

pub(crate) fn parse_json<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    what: &str,
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Invalid {
        what: what.to_string(),
        why: format!("not valid JSON of the expected shape: {e}"),
    })
}

/// What `cosign save` marks in `index.json`: `kind` = this for signatures.
pub(crate) const COSIGN_KIND: &str = "kind";
pub(crate) const COSIGN_SIGS: &str = "dev.cosignproject.cosign/sigs";
pub(crate) const COSIGN_ATTS: &str = "dev.cosignproject.cosign/atts";

/// Whether a layout's index entry is cosign's signature or attestation
/// manifest rather than an image to scan.
pub(crate) fn is_cosign_entry(annotations: &BTreeMap<String, String>) -> bool {
    annotations
        .get(COSIGN_KIND)
        .is_some_and(|k| k == COSIGN_SIGS || k == COSIGN_ATTS)
}
