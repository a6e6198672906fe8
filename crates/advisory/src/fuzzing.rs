//! The `osv` and `vex` fuzz targets' way in (`fuzz/fuzz_targets/osv.rs`, `vex.rs`): a
//! document parsed as `--advisories` and `--vex` files are, then asked what matching
//! asks of it, with the answers checked against what the document says. Not an API.

use crate::{Advisory, Vex};
use std::path::Path;

/// An OSV record: parsed, then each package it names asked about at each version it
/// names, as matching an installed version asks. A version listed as affected is affected.
pub fn osv(bytes: &[u8]) {
    let Ok(advisory) = Advisory::parse(bytes) else {
        return;
    };
    for (identity, version, listed) in advisory.named_versions() {
        let affected = advisory.affects(identity, version);
        assert!(
            affected || !listed,
            "{version:?} is listed but not affected"
        );
        let _ = advisory.fixed_above(identity, version);
    }
    assert!(advisory.known_as(&advisory.id));
}

/// A VEX document (OpenVEX or CycloneDX): parsed, then asked about each statement's own
/// vulnerability and products, which it must find.
pub fn vex(bytes: &[u8]) {
    let Ok(vex) = Vex::parse(bytes, Path::new("fuzz.vex.json")) else {
        return;
    };
    for (vulnerability, products) in vex.named() {
        for product in products {
            assert!(
                vex.about(&|name| name == vulnerability, product).is_some(),
                "the statement about {vulnerability} for {product} is not found"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    /// What the fuzz targets do, on stable, with a real OSV record and an OpenVEX
    /// statement about two products.
    #[test]
    fn the_fuzz_targets_checks_hold_on_real_documents() {
        super::osv(include_bytes!(
            "../../../tests/fixtures/advisories/PYSEC-2022-43015.json"
        ));
        super::vex(
            br#"{"statements":[{"vulnerability":{"name":"CVE-1"},"status":"fixed",
                "products":[{"@id":"pkg:pypi/a@1"},"pkg:pypi/b"]}]}"#,
        );
    }
}
