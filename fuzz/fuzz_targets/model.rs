//! Whole-file model analysis: sniff by content and name, then analyze over a
//! seekable reader (zip/npz, npy, safetensors, TensorRT headers, legacy
//! torch, compressed pickles, ONNX), as the model cataloger does.
#![no_main]
use gpubom_formats::model::pickle::PickleLimits;
use gpubom_formats::model::{analyze, sniff, Limits, Verdict, SNIFF_BYTES};
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
    // The default caps scaled down twentyfold, so that work the caps govern
    // stays well inside -timeout=10 under ASan, and a timeout means work no
    // cap governs.
    let d = Limits::default();
    let limits = Limits {
        pickle: PickleLimits {
            max_ops: d.pickle.max_ops / 20,
            ..d.pickle
        },
        max_total_ops: d.max_total_ops / 20,
        max_member_bytes: d.max_member_bytes / 20,
        max_total_bytes: d.max_total_bytes / 20,
        max_nested_bytes: d.max_nested_bytes / 20,
        ..d
    };
    // Content decides first, so most names sniff alike: analyse each outcome once.
    let mut seen = Vec::new();
    for name in NAMES {
        let Some(sniffed) = sniff(name, head, whole) else {
            continue;
        };
        if seen.contains(&sniffed) {
            continue;
        }
        seen.push(sniffed);
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
