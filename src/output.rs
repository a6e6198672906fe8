//! Writing results: where each report goes (`-o FORMAT=FILE`, as Syft's `-o`
//! works), and writing so that a failure never leaves a partial file behind.

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One report to write: a format, and a file (`None`: stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<F> {
    pub format: F,
    pub file: Option<PathBuf>,
}

/// Reads the `-o` values: `FORMAT=FILE`, `FORMAT` (to stdout), or a bare
/// `FILE` for the `--format` report. With no `-o`, the `--format` report goes
/// to stdout. Several reports may go to files, at most one to stdout.
pub fn targets<F: ValueEnum + Copy>(values: &[String], format: F) -> Result<Vec<Target<F>>> {
    let parse = |name: &str| F::from_str(name, true).ok();
    let mut out: Vec<Target<F>> = values
        .iter()
        .map(|value| match value.split_once('=') {
            Some((name, file)) if parse(name).is_some() && !file.is_empty() => Target {
                format: parse(name).expect("checked"),
                file: Some(PathBuf::from(file)),
            },
            _ => match parse(value) {
                Some(format) => Target { format, file: None },
                None => Target {
                    format,
                    file: Some(PathBuf::from(value)),
                },
            },
        })
        .collect();
    if out.is_empty() {
        out.push(Target { format, file: None });
    }
    if out.iter().filter(|t| is_stdout(t.file.as_deref())).count() > 1 {
        bail!("more than one report would go to stdout; give all but one a file (-o FORMAT=FILE)");
    }
    Ok(out)
}

fn is_stdout(file: Option<&Path>) -> bool {
    file.is_none_or(|f| f.as_os_str() == "-")
}

/// Whether `target` is an interactive terminal (for colour and tables).
pub fn to_terminal<F>(target: &Target<F>) -> bool {
    use std::io::IsTerminal;
    is_stdout(target.file.as_deref()) && std::io::stdout().is_terminal()
}

/// Writes reports rendered in full beforehand, so that a failure while
/// rendering one never leaves the others half written.
pub fn write_all(rendered: Vec<(Option<&Path>, Vec<u8>)>) -> Result<()> {
    rendered
        .into_iter()
        .try_for_each(|(file, bytes)| write(file, &bytes))
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory,
/// then rename), or to stdout when `path` is `None` or `-`. The file gets the
/// permissions any new file would under the user's umask.
pub fn write(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        None => write_stdout(bytes),
        Some(p) if p.as_os_str() == "-" => write_stdout(bytes),
        Some(p) => {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let mut builder = tempfile::Builder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                // tempfile's default is 0600; the umask narrows 0666 as for any new file.
                builder.permissions(std::fs::Permissions::from_mode(0o666));
            }
            let mut tmp = builder
                .tempfile_in(dir)
                .with_context(|| format!("cannot write to {}", dir.display()))?;
            tmp.write_all(bytes)
                .with_context(|| format!("cannot write {}", p.display()))?;
            tmp.persist(p)
                .with_context(|| format!("cannot write {}", p.display()))?;
            Ok(())
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        // A closed pipe (`gpubom scan … | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}
