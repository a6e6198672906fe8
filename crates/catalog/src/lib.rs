//! What the bytes are.

pub mod dpkg;
pub mod os_release;
pub mod python;
