//! gpubom's pipeline: the stages joined into what each command does.
//!
//! The other crates each do one stage (`gpubom-image` opens, `gpubom-catalog`
//! finds what is inside, `gpubom-sbom` writes and reads CycloneDX,
//! `gpubom-policy` evaluates). Joining them (settings, configuration,
//! signatures, advisories, the check, a batch, a diff) is logic of its own,
//! and lives here rather than in the binary so that tests reach it without a
//! command line and the binary is only flags, progress and output.
//!
//! So this crate knows nothing of clap or of terminals, and prints nothing (a
//! test below checks it): settings are plain structs, progress is a
//! [`scan::Progress`] the caller supplies, warnings and reports come back as
//! data for the caller to show or write.

pub mod advisories;
pub mod attach;
pub mod attest;
pub mod batch;
pub mod check;
pub mod config;
pub mod diff;
pub mod policy;
pub mod sbom;
pub mod scan;
pub mod settings;
mod signatures;
pub mod write;

pub use check::Gate;
pub use config::{load_config, read_config};
pub use gpubom_catalog::{LayerRead, Scan};
pub use sbom::{read_sbom, read_sbom_to_check};
pub use scan::{scan_source, Progress, Silent};
pub use settings::ScanSettings;

/// The version SBOMs and reports name as their tool's. Every crate of the
/// workspace shares the binary's version (`version.workspace = true`).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The error and its causes on one line, outermost first, without repeats.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use gpubom_testkit::source::{files_using, PRINTING, TERMINAL};

    /// Nothing here writes to the terminal: a warning or a report goes back
    /// to the binary, whose `console` escapes what an image wrote into it.
    #[test]
    fn nothing_prints() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let offenders = files_using(&src, &[&PRINTING[..], &TERMINAL[..]].concat());
        assert!(offenders.is_empty(), "these print: {offenders:?}");
    }
}
