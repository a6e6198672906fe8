//! Recognising NVIDIA's native stack without package metadata: library
//! families by name ([`families`]) and content hashes of known releases
//! ([`fingerprints`]). What is inside an ELF is read by `gpubom_formats::elf`.
//!
//! Public for the binary, which loads extra fingerprints, and for the test
//! that every family is one the policy schema knows.

mod families;
mod fingerprints;

pub use families::Family;
pub(crate) use families::{
    classify, is_jax_cuda_extension, is_nvidia_package, package_family, LibraryMatch,
};
pub use fingerprints::{Fingerprint, FingerprintTable};

/// `(minor-version floor, full-feature minimum)` host driver for a CUDA runtime version.
pub(crate) use gpubom_inventory::gpu::tables::runtime_driver as min_driver;

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
