//! The streaming ELF scanner, fed in chunks whose size the first byte picks
//! (so markers and headers split across chunk boundaries are exercised).
#![no_main]
use gpubom_formats::elf::ElfScanner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let chunk = match sel {
        0 => bytes.len().max(1),
        n => n as usize,
    };
    let mut scanner = ElfScanner::new();
    for piece in bytes.chunks(chunk) {
        scanner.feed(piece);
    }
    let _ = scanner.finish();
});
