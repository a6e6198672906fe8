//! Recognising NVIDIA's native stack without package metadata: library
//! families by name ([`families`]), facts inside the ELF ([`elf`]), and
//! content hashes of known releases ([`fingerprints`]).

pub mod elf;
pub mod families;
pub mod fatbin;
pub mod fingerprints;

pub use elf::{ElfFacts, ElfScanner, VersionString};
pub use families::{classify, is_nvidia_package, package_family, Family, LibraryMatch};
pub use fingerprints::{Fingerprint, FingerprintTable};

/// `(minor-version floor, full-feature minimum)` host driver for a CUDA runtime version.
pub use gpubom_inventory::gpu::tables::runtime_driver as min_driver;

#[cfg(test)]
mod tests {
    #[test]
    fn driver_floors() {
        assert_eq!(
            super::min_driver("12.1.105"),
            Some(("525.60.13", Some("530.30.02")))
        );
        assert_eq!(
            super::min_driver("11.8.89"),
            Some(("450.80.02", Some("520.61.05")))
        );
        assert_eq!(super::min_driver("9.0"), None);
    }
}
