//! The pickle opcode scanner, with joblib's raw-array reading on.
#![no_main]
use gpubom_formats::model::pickle::{scan, PickleLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = PickleLimits::default();
    let result = scan(&mut &data[..], &limits, true);
    // What was consumed came from the input.
    assert!(result.consumed <= data.len() as u64);
    let _ = scan(&mut &data[..], &limits, false);
});
