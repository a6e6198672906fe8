//! `gpubom scan --from FILE`: many images, one SBOM each, and a summary.
//!
//! A fleet inventory is a list of references, and most of its images share
//! base layers: scanning them in one process, a few at a time, shares the
//! layer cache and the registry connections, where one process per image
//! would not. Parallelism is bounded (`--jobs`) because each scan already
//! uses every core for its layers, and each holds its layers' streams.
//!
//! One image that cannot be scanned does not stop the others: its error is
//! in the summary, every other SBOM is written, and the exit code (2) says
//! that not everything was scanned.

use crate::scan::{scan_source, ScanFlags};
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What became of one image of the list.
#[derive(Debug, Serialize)]
struct Outcome {
    source: String,
    /// The SBOM written, relative to the summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    sbom: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The references in `list`: one per line, `#` comments and blank lines skipped.
fn read_list(list: &Path) -> Result<Vec<String>> {
    let text = if list.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read the list from stdin")?
    } else {
        std::fs::read_to_string(list).with_context(|| format!("cannot read {}", list.display()))?
    };
    let sources: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if sources.is_empty() {
        bail!(
            "{}: no images listed (one path or reference per line)",
            list.display()
        );
    }
    Ok(sources)
}

/// A file name for the SBOM of the `index`th image: its position keeps two
/// references that differ only in punctuation apart.
fn sbom_name(index: usize, source: &str) -> String {
    let readable: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let readable = readable.trim_matches('_');
    let readable: String = readable
        .chars()
        .rev()
        .take(100)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{:04}-{readable}.cdx.json", index + 1)
}

pub fn run(list: &Path, out_dir: &Path, jobs: usize, flags: &ScanFlags) -> Result<ExitCode> {
    let sources = read_list(list)?;
    let config = crate::check::load_config(flags)?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    // A progress bar per image would interleave; a line per finished image does not.
    let quiet = ScanFlags {
        quiet: true,
        ..flags.clone()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .context("cannot start the scan threads")?;
    let outcomes: Vec<Outcome> = pool.install(|| {
        sources
            .par_iter()
            .enumerate()
            .map(|(index, source)| {
                let outcome = scan_one(index, source, out_dir, &quiet, &config);
                if !flags.quiet {
                    match &outcome.error {
                        None => crate::console::note(&format!("scanned {source}")),
                        Some(why) => {
                            crate::console::note(&format!("could not scan {source}: {why}"))
                        }
                    }
                }
                outcome
            })
            .collect()
    });
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    let summary = serde_json::json!({
        "images": outcomes.len(),
        "scanned": outcomes.len() - failed,
        "failed": failed,
        "results": outcomes,
    });
    let summary_path = out_dir.join("summary.json");
    crate::output::write(
        Some(&summary_path),
        (serde_json::to_string_pretty(&summary)? + "\n").as_bytes(),
    )?;
    crate::console::out(&format!(
        "{} of {} image(s) scanned; SBOMs and summary.json in {}",
        outcomes.len() - failed,
        outcomes.len(),
        out_dir.display()
    ));
    for outcome in outcomes.iter().filter(|o| o.error.is_some()) {
        crate::console::out(&format!(
            "  failed: {}: {}",
            outcome.source,
            outcome.error.as_deref().unwrap_or_default()
        ));
    }
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn scan_one(
    index: usize,
    source: &str,
    out_dir: &Path,
    flags: &ScanFlags,
    config: &gpubom_policy::Config,
) -> Outcome {
    let name = sbom_name(index, source);
    let written = scan_source(source, flags, config).and_then(|scan| {
        let bytes = gpubom_sbom::render(
            &scan.inventory,
            gpubom_sbom::Format::CycloneDxJson,
            env!("CARGO_PKG_VERSION"),
        )
        .context("cannot render the SBOM")?;
        crate::output::write(Some(&PathBuf::from(out_dir).join(&name)), &bytes)?;
        Ok(scan.inventory.components.len())
    });
    match written {
        Ok(components) => Outcome {
            source: source.to_string(),
            sbom: Some(name),
            components: Some(components),
            error: None,
        },
        Err(e) => Outcome {
            source: source.to_string(),
            sbom: None,
            components: None,
            error: Some(crate::one_line(&e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbom_names_are_readable_and_distinct() {
        assert_eq!(
            sbom_name(0, "ghcr.io/acme/infer:1.0"),
            "0001-ghcr.io_acme_infer_1.0.cdx.json"
        );
        assert_ne!(sbom_name(1, "a/b:c"), sbom_name(2, "a_b:c"));
        assert!(!sbom_name(0, "../../etc/passwd").contains('/'));
    }
}
