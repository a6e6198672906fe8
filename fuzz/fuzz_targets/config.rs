//! The `.gpubom.toml` policy configuration, and the waiver globs it holds.
#![no_main]
use gpubom_policy::config::{glob_match, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text, ".gpubom.toml") {
        let _ = config.cuda_min();
        let _ = config.pytorch_min();
        for w in &config.waivers {
            for subject in [w.rule.as_str(), w.reason.as_str(), w.pattern.as_str(), text] {
                let _ = glob_match(&w.pattern, subject);
            }
        }
    }
    // The glob on its own: pattern before the first newline, text after it.
    if let Some((pattern, subject)) = text.split_once('\n') {
        let _ = glob_match(pattern, subject);
    }
});
