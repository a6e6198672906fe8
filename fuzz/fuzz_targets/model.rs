//! Whole-file model analysis: sniff by content and name, then analyze over a
//! seekable reader (zip/npz, npy, safetensors, TensorRT headers, legacy
//! torch, compressed pickles, ONNX), as the model cataloger does.
#![no_main]
use gpubom_catalog::model::{analyze, sniff, Limits, Verdict, SNIFF_BYTES};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

const NAMES: &[&str] = &[
    "m.pt",
    "m.pkl",
    "m.onnx",
    "m.npy",
    "m.npz",
    "m.engine",
    "m.safetensors",
    "m",
];

fuzz_target!(|data: &[u8]| {
    let head = &data[..data.len().min(SNIFF_BYTES)];
    let whole = head.len() == data.len();
    let limits = Limits::default();
    for name in NAMES {
        let Some(sniffed) = sniff(name, head, whole) else {
            continue;
        };
        let mut reader = Cursor::new(data);
        if let Some(report) = analyze(sniffed, &mut reader, data.len() as u64, &limits) {
            // Nothing left unexamined or flagged may be graded "safe".
            if report.verdict == Verdict::Safe {
                assert!(report.incomplete.is_empty(), "{name}: safe but incomplete");
                assert!(report.flagged.is_empty(), "{name}: safe but flagged");
            }
        }
    }
});
