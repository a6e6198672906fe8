//! Test fixtures for gpubom.
//!
//! [`image`] builds container images in code (OCI layout, oci-archive, docker-archive)
//! from layers described in Rust, [`demo`] the README's demo image; [`real`] fetches
//! real files (PyPI wheels, Debian packages) into a local cache so tests run on real
//! bytes; [`registry`] runs a real OCI registry (CNCF distribution) to push images and
//! cosign signatures to; [`hostile_http`] serves as a test scripts it, for registries
//! that misbehave on purpose; [`podman`] runs a real container engine with its
//! Engine API on a unix socket. [`source`] checks gpubom's own source for what it
//! promised not to do (print outside its console module).

pub mod demo;
pub mod elf;
pub mod hostile_http;
pub mod image;
pub mod podman;
pub mod real;
pub mod registry;
pub mod source;
