//! The CycloneDX JSON reader (gpubom's own SBOMs, Syft's and Trivy's).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gpubom_sbom::read_cyclonedx_json(data);
});
