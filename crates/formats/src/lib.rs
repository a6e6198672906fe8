//! Parsers of untrusted bytes.
//!
//! Everything here reads bytes an image's author chose: package databases,
//! Python metadata and its requirement strings, `ld.so.conf`, `os-release`,
//! model files (pickles, zips, `.npy`, ONNX, safetensors and TensorRT headers)
//! and ELF libraries with their fatbins.
//! Each parser takes `&[u8]` or a `Read` (+ `Seek`) and returns typed facts.
//! None of them opens a path or knows about images, layers, catalogers or
//! SBOMs: the catalogers in `gpubom-catalog` decide what to feed them and
//! what the facts mean.
//!
//! Hostile input is the normal case, so every parser bounds its time and
//! memory, reports what it could not read instead of guessing, and must not
//! panic: indexing and arithmetic are linted so that each unchecked one is a
//! decision, and the crate has no `unsafe`. The fuzz targets in `fuzz/` call
//! these parsers directly.

#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "tests build their inputs by hand, and a panic there is a failing test"
    )
)]

pub mod dpkg;
pub mod elf;
pub mod fatbin;
pub mod ld_so_conf;
pub mod model;
pub mod os_release;
pub mod python;
pub mod requirement;
