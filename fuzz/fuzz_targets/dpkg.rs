//! dpkg's status database, `info/*.list` files and copyright files, decoded
//! as the dpkg cataloger decodes them (lossy UTF-8).
#![no_main]
use gpubom_formats::dpkg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = dpkg::parse_status(&text);
    let _ = dpkg::parse_list(&text);
    let _ = dpkg::licenses_from_copyright(&text);
});
