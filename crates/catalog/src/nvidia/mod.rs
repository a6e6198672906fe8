//! Recognising NVIDIA's native stack without package metadata: library
//! families by name ([`families`]) and content hashes of known releases
//! ([`fingerprints`]). What is inside an ELF is read by `gpubom_formats::elf`.
//!
//! Public for the binary, which loads extra fingerprints, and for the test
//! that every family is one the policy schema knows.

mod families;
mod fingerprints;

pub use families::Family;
pub(crate) use families::{classify, is_nvidia_package, package_family, LibraryMatch};
pub use fingerprints::{Fingerprint, FingerprintTable};

#[cfg(test)]
mod tests {
    use gpubom_inventory::gpu::tables::runtime_driver as min_driver;

    #[test]
    fn driver_floors() {
        assert_eq!(
            min_driver("12.1.105"),
            Some(("525.60.13", Some("530.30.02")))
        );
        assert_eq!(
            min_driver("11.8.89"),
            Some(("450.80.02", Some("520.61.05")))
        );
        assert_eq!(min_driver("9.0"), None);
    }
}
