//! Test fixtures for gpubom.
//!
//! [`image`] builds container images in code (OCI layout, oci-archive, docker-archive)
//! from layers described in Rust; [`real`] fetches real files (PyPI wheels, Debian
//! packages) into a local cache so tests run on real bytes.

pub mod elf;
pub mod image;
pub mod real;
