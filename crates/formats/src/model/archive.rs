//! Zip-based model files: torch.save checkpoints, TorchScript and
//! torch.export archives, and NumPy `.npz`.
//!
//! What kind of archive it is comes from its members, not its name: torch
//! finds `data.pkl` in whatever archive it is handed, and its zip reader
//! (miniz) matches member names without regard to case, so every `.pkl`
//! member is scanned whatever its case. `np.load` treats any member that
//! starts with the NumPy magic as an array, so members are recognised by
//! their first bytes too. A zip with none of these is not a model.

use super::{budget_spent, npy, scan_stream, zip, Budget, Limits, ModelFormat, ModelReport};
use std::io::{Cursor, Read, Seek};

/// Most levels of archives inside archives that are opened.
const MAX_DEPTH: u8 = 2;

/// What an archive's member list says it is.
fn classify(names: &[String]) -> Option<ModelFormat> {
    let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let has = |f: &dyn Fn(&str) -> bool| lower.iter().any(|n| f(n));
    if has(&|n| n.ends_with("/archive_format") || n.ends_with("serialized_exported_program.json")) {
        return Some(ModelFormat::TorchExport);
    }
    if has(&|n| n.contains("/code/")) && has(&|n| n.ends_with("constants.pkl")) {
        return Some(ModelFormat::TorchScript);
    }
    if has(&|n| n.ends_with(".pkl")) {
        return Some(ModelFormat::PyTorchZip);
    }
    None
}

fn is_pickle_member(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".pkl")
}

/// Analyses a zip; `None` when nothing in it is a model.
pub(super) fn analyze<R: Read + Seek>(
    reader: &mut R,
    size: u64,
    limits: &Limits,
    depth: u8,
    budget: Budget,
) -> Option<ModelReport> {
    let members = match zip::members(reader, size, limits.max_zip_members) {
        Ok(m) => m,
        Err(why) => {
            // A file that starts like a zip but cannot be read as one: torch
            // would fail too, but nothing vouches for what it holds.
            let mut report = ModelReport::new(ModelFormat::PyTorchZip);
            report.budget = budget;
            report.unknown(why);
            return Some(report);
        }
    };
    let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    let mut report = ModelReport::new(classify(&names).unwrap_or(ModelFormat::NumpyNpz));
    report.budget = budget;
    let mut scanned = 0;
    let mut arrays: usize = 0;
    for m in &members {
        if m.name.ends_with('/') {
            continue;
        }
        if report.budget.spent() {
            // Members may overlap: one deflated pickle named by every entry.
            report.unknown(budget_spent(limits));
            break;
        }
        let pickle = is_pickle_member(&m.name);
        if pickle && scanned >= limits.max_pickles {
            report.unknown(format!(
                "more than {} pickles in the archive; the rest were not scanned",
                limits.max_pickles
            ));
            break;
        }
        let examined = match examine_member(reader, m, pickle, limits, depth, &mut report) {
            Ok(examined) => examined,
            Err((examined, why)) => {
                let bomb = m.uncompressed > limits.max_member_bytes
                    || m.uncompressed > m.compressed.saturating_mul(limits.max_inflate_ratio);
                report.unknown(if bomb {
                    format!(
                        "{}: inflates beyond the allowed size or ratio (zip bomb?)",
                        m.name
                    )
                } else {
                    why
                });
                // A pickle or array that could not be scanned is still one:
                // the loader runs it up to wherever the scan stopped.
                examined
            }
        };
        match examined {
            Examined::Pickle => scanned = scanned.saturating_add(1),
            Examined::Array => arrays = arrays.saturating_add(1),
            Examined::Nothing => {}
        }
    }
    if scanned == 0 && arrays == 0 && report.format == ModelFormat::NumpyNpz {
        return None;
    }
    Some(report)
}

enum Examined {
    Pickle,
    Array,
    Nothing,
}

fn examine_member<R: Read + Seek>(
    reader: &mut R,
    m: &zip::Member,
    pickle: bool,
    limits: &Limits,
    depth: u8,
    report: &mut ModelReport,
) -> Result<Examined, (Examined, String)> {
    let unread = if pickle {
        Examined::Pickle
    } else {
        Examined::Nothing
    };
    // Buffered: the pickle scan reads a byte at a time, and one inflate call
    // per byte made the scan some ten times slower.
    let mut stream = std::io::BufReader::with_capacity(
        64 << 10,
        zip::open(reader, m, limits.max_member_bytes, limits.max_inflate_ratio)
            .map_err(|why| (unread, why))?,
    );
    if pickle {
        scan_stream(&mut stream, Some(&m.name), limits, report, false)
            .map_err(|why| (Examined::Pickle, why))?;
        return Ok(Examined::Pickle);
    }
    let mut head = [0u8; 6];
    let head = super::read_full(&mut stream, &mut head).map_err(|why| (Examined::Nothing, why))?;
    let mut whole = head.chain(stream);
    if head.starts_with(b"\x93NUMPY") {
        // np.load decides by this magic, and unpickles an object array's
        // pickle even when what follows it is broken.
        npy::npy_stream(&mut whole, Some(&m.name), limits, report)
            .map_err(|why| (Examined::Array, why))?;
        return Ok(Examined::Array);
    }
    // torch.export keeps torch.save blobs (zips) inside its archive.
    if zip::is_zip(head) && report.format == ModelFormat::TorchExport {
        return nested_zip(&mut whole, m, limits, depth, report)
            .map_err(|why| (Examined::Nothing, why));
    }
    Ok(Examined::Nothing)
}

fn nested_zip(
    stream: &mut dyn Read,
    m: &zip::Member,
    limits: &Limits,
    depth: u8,
    report: &mut ModelReport,
) -> Result<Examined, String> {
    let inner_depth = depth.saturating_add(1);
    if inner_depth >= MAX_DEPTH || m.uncompressed > limits.max_nested_bytes {
        return Err(format!("{}: nested archive not examined", m.name));
    }
    let cap = limits.max_nested_bytes.min(report.budget.bytes);
    let mut bytes = Vec::new();
    stream
        .take(cap)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", m.name))?;
    let size = bytes.len() as u64;
    // No more than `cap` was read, and `cap` is at most what the budget had left.
    report.budget.bytes = report.budget.bytes.saturating_sub(size);
    if report.budget.bytes == 0 {
        return Err(format!("{}: {}", m.name, budget_spent(limits)));
    }
    let Some(inner) = analyze(
        &mut Cursor::new(bytes),
        size,
        limits,
        inner_depth,
        report.budget,
    ) else {
        return Ok(Examined::Nothing);
    };
    // The inner archive drew on this file's budget, not a fresh one.
    report.budget = inner.budget;
    report.globals.extend(inner.globals);
    for mut g in inner.flagged {
        g.member = Some(match g.member {
            Some(inner_member) => format!("{}!{inner_member}", m.name),
            None => m.name.clone(),
        });
        report.flagged.push(g);
    }
    report.incomplete.extend(
        inner
            .incomplete
            .into_iter()
            .map(|why| format!("{}: {why}", m.name)),
    );
    Ok(Examined::Pickle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_by_members() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            classify(&names(&["m/data.pkl", "m/data/0", "m/version"])),
            Some(ModelFormat::PyTorchZip)
        );
        assert_eq!(
            classify(&names(&["m/DATA.PKL"])),
            Some(ModelFormat::PyTorchZip)
        );
        assert_eq!(
            classify(&names(&[
                "s/data.pkl",
                "s/code/__torch__/m.py",
                "s/constants.pkl"
            ])),
            Some(ModelFormat::TorchScript)
        );
        assert_eq!(
            classify(&names(&["e/archive_format", "e/models/model.json"])),
            Some(ModelFormat::TorchExport)
        );
        assert_eq!(classify(&names(&["a.npy", "b.npy"])), None);
    }
}
