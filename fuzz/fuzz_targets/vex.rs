//! A VEX document as `--vex` reads it (OpenVEX, or CycloneDX with
//! `vulnerabilities[].analysis`), then asked about each statement's own vulnerability
//! and products, which it must find.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gpubom_advisory::fuzzing::vex(data);
});
