//! Recognising NVIDIA's native stack without package metadata: library
//! families by name ([`families`]), facts inside the ELF ([`elf`]), and
//! content hashes of known releases ([`fingerprints`]).

pub mod elf;
pub mod families;
pub mod fingerprints;

pub use elf::{ElfFacts, ElfScanner, VersionString};
pub use families::{classify, is_nvidia_package, package_family, Family, LibraryMatch};
pub use fingerprints::{Fingerprint, FingerprintTable};

/// Minimum host driver for a CUDA version, from NVIDIA's CUDA release notes
/// (minor-version compatibility: 11.x ≥ 450.80.02, 12.x ≥ 525.60.13, 13.x ≥ 580),
/// and the full-feature minimum where the notes give one.
pub fn min_driver(cuda_version: &str) -> Option<(&'static str, Option<&'static str>)> {
    let mut parts = cuda_version.split('.');
    let major = parts.next()?;
    let minor = parts.next().unwrap_or("");
    let floor = match major {
        "11" => "450.80.02",
        "12" => "525.60.13",
        "13" => "580",
        _ => return None,
    };
    let full = match (major, minor) {
        ("12", "1") => Some("530.30.02"),
        ("12", "4") => Some("550.54.14"),
        ("12", "8") => Some("570.26"),
        ("13", "0") => Some("580.65.06"),
        _ => None,
    };
    Some((floor, full))
}

#[cfg(test)]
mod tests {
    #[test]
    fn driver_floors() {
        assert_eq!(
            super::min_driver("12.1.105"),
            Some(("525.60.13", Some("530.30.02")))
        );
        assert_eq!(super::min_driver("11.8.89"), Some(("450.80.02", None)));
        assert_eq!(super::min_driver("9.0"), None);
    }
}
