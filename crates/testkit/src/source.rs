//! Checks over gpubom's own source code, for promises a compiler cannot
//! keep: that only the module which escapes image text for the terminal
//! writes to it, in the binary, and that the pipeline library writes nothing.

use std::path::{Path, PathBuf};

/// What prints a line as written: an escape sequence or a `::` workflow
/// command in it would reach the terminal or the CI job log.
pub const PRINTING: [&str; 4] = ["println!", "eprintln!", "print!(", "eprint!("];

/// What writes to the terminal without a macro.
pub const TERMINAL: [&str; 3] = ["dbg!(", "stdout()", "stderr()"];

/// The `.rs` files under `dir` whose text holds any of `needles`.
pub fn files_using(dir: &Path, needles: &[&str]) -> Vec<PathBuf> {
    rust_files(dir)
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            needles.iter().any(|n| text.contains(n))
        })
        .collect()
}

/// Every `.rs` file under `dir`, at any depth.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found
}
