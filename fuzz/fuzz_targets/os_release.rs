//! os-release files.
#![no_main]
use gpubom_formats::os_release;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = os_release::parse(&String::from_utf8_lossy(data));
});
