//! An OSV record as `--advisories` reads it (`gpubom_advisory::Advisory::parse`), then
//! asked about every package and version it names, as matching an installed version
//! asks: no panic (a range whose versions no one order covers broke the sort once), and
//! a version the record lists as affected is affected.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gpubom_advisory::fuzzing::osv(data);
});
