//! Python distribution METADATA and RECORD files, and each `Requires-Dist` value
//! parsed and judged as the dependency graph judges it.
#![no_main]
use gpubom_formats::python;
use gpubom_formats::requirement::{Environment, Requirement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(dist) = python::parse_metadata(&text) {
        let _ = python::normalize_name(&dist.name);
        for requirement in dist.requires_dist.iter().take(64) {
            if let Ok(requirement) = Requirement::parse(requirement) {
                let _ = requirement.applies(&Environment::default(), Some("x"));
            }
        }
    }
    for line in text.lines().take(64) {
        if let Ok(requirement) = Requirement::parse(line) {
            let _ = requirement.applies(&Environment::default(), None);
        }
    }
    for entry in python::parse_record(&text) {
        let _ = python::record_path_to_image_path(
            "usr/lib/python3/dist-packages/x-1.dist-info",
            &entry.path,
        );
    }
});
