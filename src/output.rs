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
///
/// Text before the first `=` is a format unless it holds a `/`: `sarf=x` is a
/// typo and an error, never a file of that name; `./a=b` is the file `a=b`.
pub fn targets<F: ValueEnum + Copy>(values: &[String], format: F) -> Result<Vec<Target<F>>> {
    let mut out: Vec<Target<F>> = values
        .iter()
        .map(|value| target(value, format))
        .collect::<Result<_>>()?;
    if out.is_empty() {
        out.push(Target { format, file: None });
    }
    if out.iter().filter(|t| is_stdout(t.file.as_deref())).count() > 1 {
        bail!("more than one report would go to stdout; give all but one a file (-o FORMAT=FILE)");
    }
    Ok(out)
}

fn target<F: ValueEnum + Copy>(value: &str, default: F) -> Result<Target<F>> {
    let parse = |name: &str| F::from_str(name, true).ok();
    match value.split_once('=') {
        Some((name, _)) if name.contains('/') => Ok(Target {
            format: default,
            file: Some(PathBuf::from(value)),
        }),
        Some((name, file)) => {
            let Some(format) = parse(name) else {
                bail!(
                    "-o {value}: {name:?} is not a format; the formats are {} (a file whose name has '=' is written ./{value})",
                    names::<F>()
                );
            };
            if file.is_empty() {
                bail!(
                    "-o {value}: no file after '='; write -o {name}=FILE, or -o {name} for stdout"
                );
            }
            Ok(Target {
                format,
                file: Some(PathBuf::from(file)),
            })
        }
        None => Ok(match parse(value) {
            Some(format) => Target { format, file: None },
            None => Target {
                format: default,
                file: Some(PathBuf::from(value)),
            },
        }),
    }
}

/// `text, json, sarif`: every format `F` has, as written on the command line.
fn names<F: ValueEnum>() -> String {
    F::value_variants()
        .iter()
        .filter_map(|v| v.to_possible_value())
        .map(|v| v.get_name().to_string())
        .collect::<Vec<_>>()
        .join(", ")
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

/// Writes `bytes` to `path` (see [`gpubom_pipeline::write::write_file`]), or to stdout when
/// `path` is `None` or `-`.
pub fn write(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path.filter(|p| p.as_os_str() != "-") {
        Some(path) => gpubom_pipeline::write::write_file(path, bytes),
        None => write_stdout(bytes),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum ReportFormat {
        Text,
        Sarif,
        Markdown,
    }

    fn parsed(value: &str) -> Result<Target<ReportFormat>> {
        target(value, ReportFormat::Text)
    }

    #[test]
    fn format_equals_file_and_what_is_not() {
        let file = |f: &str| Some(PathBuf::from(f));
        assert_eq!(parsed("sarif=a.sarif").unwrap().file, file("a.sarif"));
        assert!(parsed("sarif=a.sarif").unwrap().format == ReportFormat::Sarif);
        assert!(parsed("markdown").unwrap().file.is_none());
        // A '=' after a '/' is part of a path; a bare name without '=' is a file.
        assert_eq!(parsed("./a=b").unwrap().file, file("./a=b"));
        assert_eq!(parsed("out/x=1.txt").unwrap().file, file("out/x=1.txt"));
        assert_eq!(parsed("report.txt").unwrap().file, file("report.txt"));
        let err = parsed("sarf=a.sarif").err().expect("a typo").to_string();
        assert!(err.contains("\"sarf\" is not a format"), "{err}");
        assert!(parsed("json=").is_err());
    }
}
