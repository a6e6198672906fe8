//! Many images, one SBOM each, and a summary (`gpubom scan --from FILE`).
//!
//! A fleet inventory is a list of references, and most of its images share
//! base layers: scanning them in one process, a few at a time, shares the
//! layer cache and the registry connections, where one process per image
//! would not. Parallelism is bounded (`--jobs`) because each scan already
//! uses every core for its layers, and each holds its layers' streams.
//!
//! One image that cannot be scanned does not stop the others: its error is
//! in its outcome and the summary, and every other SBOM is saved (`gpubom`
//! then exits 2: not everything was scanned).

use crate::scan::{scan_source, Silent};
use crate::settings::ScanSettings;
use crate::{one_line, TOOL_VERSION};
use anyhow::{anyhow, bail, Context, Result};
use gpubom_inventory::file::{read_regular, MAX_LIST_BYTES};
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

/// What became of one image of the list.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub source: String,
    /// The SBOM written, relative to the summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbom: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The references in `list`: one per line, `#` comments and blank lines skipped.
pub fn read_list(list: &Path) -> Result<Vec<String>> {
    let text = if list.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read the list from stdin")?
    } else {
        read_regular(list, MAX_LIST_BYTES)
            .map_err(|e| anyhow!(e.describe(list, "a list of images", MAX_LIST_BYTES)))?
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

/// Where a batch scan puts each SBOM: `save(name, bytes)` writes the file
/// `name` beside the summary. Called from the scan threads, as each image is done.
pub type Save<'a> = &'a (dyn Fn(&str, &[u8]) -> Result<()> + Sync);

/// Scans `sources`, `jobs` at a time, saving each SBOM as its scan ends and
/// telling `on_done` (from the scan threads, in the order they finish). One
/// image that fails does not stop the others; its error is in its outcome.
/// The outcomes are in the order of `sources`. No progress is shown and the
/// scans' warnings are dropped: several at once would interleave.
pub fn scan_all(
    sources: &[String],
    jobs: usize,
    settings: &ScanSettings,
    config: &gpubom_policy::Config,
    save: Save,
    on_done: &(dyn Fn(&Outcome) + Sync),
) -> Result<Vec<Outcome>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .context("cannot start the scan threads")?;
    Ok(pool.install(|| {
        sources
            .par_iter()
            .enumerate()
            .map(|(index, source)| {
                let outcome = scan_one(index, source, settings, config, save);
                on_done(&outcome);
                outcome
            })
            .collect()
    }))
}

/// `summary.json`: how many images were scanned and what became of each.
/// What a batch prints once it is done: how many images were scanned and where the SBOMs
/// are, then each failure with its reason.
pub fn closing_lines(outcomes: &[Outcome], out_dir: &std::path::Path) -> Vec<String> {
    let failed: Vec<_> = outcomes.iter().filter(|o| o.error.is_some()).collect();
    let scanned = format!(
        "{} of {} image(s) scanned; SBOMs and summary.json in {}",
        outcomes.len() - failed.len(),
        outcomes.len(),
        out_dir.display()
    );
    let failures = failed.iter().map(|outcome| {
        let why = outcome.error.as_deref().unwrap_or_default();
        format!("  failed: {}: {why}", outcome.source)
    });
    std::iter::once(scanned).chain(failures).collect()
}

pub fn summary(outcomes: &[Outcome]) -> Result<Vec<u8>> {
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    let summary = serde_json::json!({
        "images": outcomes.len(),
        "scanned": outcomes.len() - failed,
        "failed": failed,
        "results": outcomes,
    });
    Ok((serde_json::to_string_pretty(&summary)? + "\n").into_bytes())
}

fn scan_one(
    index: usize,
    source: &str,
    settings: &ScanSettings,
    config: &gpubom_policy::Config,
    save: Save,
) -> Outcome {
    let name = sbom_name(index, source);
    let written = scan_source(source, settings, config, &Silent).and_then(|scan| {
        let bytes = gpubom_sbom::render(
            &scan.inventory,
            gpubom_sbom::Format::DEFAULT_SBOM,
            TOOL_VERSION,
        )
        .context("cannot render the SBOM")?;
        save(&name, &bytes)?;
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
            error: Some(one_line(&e)),
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
