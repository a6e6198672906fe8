//! The ONNX protobuf walker, strict and partial.
#![no_main]
use gpubom_formats::model::onnx;
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let size = data.len() as u64;
    let _ = onnx::parse(&mut Cursor::new(data), size);
    let _ = onnx::parse_partial(&mut Cursor::new(data), size);
});
