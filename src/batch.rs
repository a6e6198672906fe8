//! `gpubom scan --from FILE`: where the SBOMs and the summary go, and a line
//! per image as it is done; the scans are `gpubom_pipeline::batch`.

use crate::scan::ScanArgs;
use anyhow::{Context, Result};
use gpubom_pipeline::batch::{closing_lines, read_list, scan_all, summary};
use std::process::ExitCode;

pub fn run(args: &ScanArgs) -> Result<ExitCode> {
    let (out_dir, flags) = (&args.output_dir, &args.flags);
    let sources = read_list(args.from.as_deref().expect("main runs a batch with --from"))?;
    let settings = flags.settings();
    let config = gpubom_pipeline::load_config(&settings)?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let save = |name: &str, bytes: &[u8]| crate::output::write(Some(&out_dir.join(name)), bytes);
    // A progress bar per image would interleave; a line per finished image does not.
    let outcomes = scan_all(&sources, args.jobs, &settings, &config, &save, &|outcome| {
        if flags.quiet() {
            return;
        }
        match &outcome.error {
            None => crate::console::note(&format!("scanned {}", outcome.source)),
            Some(why) => crate::console::note(&format!("could not scan {}: {why}", outcome.source)),
        }
    })?;
    crate::output::write(Some(&out_dir.join("summary.json")), &summary(&outcomes)?)?;
    closing_lines(&outcomes, out_dir)
        .iter()
        .for_each(|line| crate::console::out(line));
    let failed = outcomes.iter().any(|o| o.error.is_some());
    Ok(ExitCode::from(if failed { 2 } else { 0 }))
}
