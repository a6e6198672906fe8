//! Python distribution METADATA and RECORD files.
#![no_main]
use gpubom_formats::python;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(dist) = python::parse_metadata(&text) {
        let _ = python::normalize_name(&dist.name);
    }
    for entry in python::parse_record(&text) {
        let _ = python::record_path_to_image_path(
            "usr/lib/python3/dist-packages/x-1.dist-info",
            &entry.path,
        );
    }
});
