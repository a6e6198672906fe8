//! Python distribution metadata: `METADATA`/`PKG-INFO` headers and wheel `RECORD` files.

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PythonDist {
    pub name: String,
    pub version: String,
    pub summary: Option<String>,
    /// `License-Expression`, else a short `License`, else the OSI classifier's name.
    pub license: Option<String>,
    pub author: Option<String>,
    pub home_page: Option<String>,
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordEntry {
    /// As written: relative to the directory holding the `.dist-info` directory.
    pub path: String,
    pub sha256_hex: Option<String>,
    pub size: Option<u64>,
}

/// Which metadata file a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonFile<'a> {
    Metadata {
        dist_dir: &'a str,
    },
    Record {
        dist_dir: &'a str,
    },
    PkgInfo {
        egg_dir: &'a str,
    },
    /// A distutils `foo-1.0.egg-info` that is a file, not a directory.
    EggInfoFile,
}

pub fn classify(path: &str) -> Option<PythonFile<'_>> {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let dir_name = dir.rsplit('/').next().unwrap_or(dir);
    if dir_name.ends_with(".dist-info") {
        return match file {
            "METADATA" => Some(PythonFile::Metadata { dist_dir: dir }),
            "RECORD" => Some(PythonFile::Record { dist_dir: dir }),
            _ => None,
        };
    }
    if dir_name.ends_with(".egg-info") && file == "PKG-INFO" {
        return Some(PythonFile::PkgInfo { egg_dir: dir });
    }
    file.ends_with(".egg-info")
        .then_some(PythonFile::EggInfoFile)
}

/// Parses email-header style metadata; `None` without `Name` and `Version`.
pub fn parse_metadata(text: &str) -> Option<PythonDist> {
    let mut headers: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break; // The body (long description) follows the first blank line.
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim(), v.trim().to_string()));
        }
    }
    let get = |key: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty() && v != "UNKNOWN")
    };
    let all = |key: &str| -> Vec<String> {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let classifier_license = all("Classifier").into_iter().find_map(|c| {
        c.strip_prefix("License :: OSI Approved :: ")
            .map(str::to_owned)
    });
    // A License field holding the whole license text is not a name.
    let short_license = get("License").filter(|l| l.len() <= 80 && !l.contains('\n'));
    Some(PythonDist {
        name: get("Name")?,
        version: get("Version")?,
        summary: get("Summary"),
        license: get("License-Expression")
            .or(short_license)
            .or(classifier_license),
        author: get("Author").or_else(|| get("Author-email")),
        home_page: get("Home-page"),
        requires_dist: all("Requires-Dist"),
        requires_python: get("Requires-Python"),
    })
}

/// Parses a wheel `RECORD` (CSV: path, `sha256=<urlsafe base64>`, size).
///
/// At most [`MAX_RECORD_ENTRIES`] rows are kept, none with a path longer than
/// a path can be, so memory stays proportional to what a real wheel lists.
pub fn parse_record(text: &str) -> Vec<RecordEntry> {
    text.lines()
        .filter(|line| line.len() <= 8192)
        .take(MAX_RECORD_ENTRIES)
        .filter_map(|line| {
            let cols = csv_row(line);
            let path = cols.first()?.clone();
            if path.is_empty() {
                return None;
            }
            let sha256_hex = cols
                .get(1)
                .and_then(|h| h.strip_prefix("sha256="))
                .and_then(urlsafe_b64_to_hex);
            let size = cols.get(2).and_then(|s| s.parse().ok());
            Some(RecordEntry {
                path,
                sha256_hex,
                size,
            })
        })
        .collect()
}

/// More files than any real wheel installs (torch lists about 15,000).
pub const MAX_RECORD_ENTRIES: usize = 200_000;

/// Resolves a RECORD path (relative to the directory holding `dist_dir`, may
/// climb with `..` to reach `bin/`) to an image path; `None` if it would leave the image.
pub fn record_path_to_image_path(dist_dir: &str, record_path: &str) -> Option<String> {
    let base = dist_dir.rsplit_once('/').map(|(b, _)| b).unwrap_or("");
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    if record_path.starts_with('/') {
        parts.clear();
    }
    for part in record_path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// PEP 503 normalisation: lowercase, runs of `-_.` become `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// One CSV row with `"` quoting (paths may contain commas).
fn csv_row(line: &str) -> Vec<String> {
    let mut cols = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cols.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cols.push(String::new()),
            (c, _) => cols.last_mut().unwrap().push(c),
        }
    }
    cols
}

#[expect(
    clippy::arithmetic_side_effects,
    reason = "each sextet is an offset within the range its byte matched, and at most 13 bits \
              are pending at once, so nothing overflows"
)]
fn urlsafe_b64_to_hex(b64: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = Vec::with_capacity(32);
    for c in b64.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    (out.len() == 32).then(|| hex::encode(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_paths() {
        let site = "usr/lib/python3/dist-packages";
        assert_eq!(
            classify(&format!("{site}/six-1.16.0.dist-info/METADATA")),
            Some(PythonFile::Metadata {
                dist_dir: &format!("{site}/six-1.16.0.dist-info")
            })
        );
        assert!(matches!(
            classify("opt/venv/lib/python3.11/site-packages/a-1.dist-info/RECORD"),
            Some(PythonFile::Record { .. })
        ));
        assert!(matches!(
            classify("x/foo.egg-info/PKG-INFO"),
            Some(PythonFile::PkgInfo { .. })
        ));
        assert_eq!(
            classify("x/foo-1.0.egg-info"),
            Some(PythonFile::EggInfoFile)
        );
        assert_eq!(classify("x/a-1.dist-info/WHEEL"), None);
        assert_eq!(classify("x/METADATA"), None);
    }

    #[test]
    fn metadata_synthetic() {
        let text = "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\nRequires-Dist: six\nSummary: a\n  continued\n\nBody: not a header\n";
        let d = parse_metadata(text).unwrap();
        assert_eq!(d.name, "Foo_Bar");
        assert_eq!(d.license.as_deref(), Some("MIT License"));
        assert_eq!(d.summary.as_deref(), Some("a continued"));
        assert_eq!(parse_metadata("Name: x\n"), None);
    }

    #[test]
    fn record_quoting_and_hash_synthetic() {
        // sha256 of the empty string, urlsafe base64 without padding.
        let text = "\"a,b.py\",sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\nfoo.dist-info/RECORD,,\n";
        let r = parse_record(text);
        assert_eq!(r[0].path, "a,b.py");
        assert_eq!(
            r[0].sha256_hex.as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(r[1].sha256_hex, None);
    }

    #[test]
    fn record_paths_stay_inside_the_image_synthetic() {
        let dist = "usr/local/lib/python3.11/site-packages/x-1.dist-info";
        assert_eq!(
            record_path_to_image_path(dist, "../../../bin/x").as_deref(),
            Some("usr/local/bin/x")
        );
        assert_eq!(
            record_path_to_image_path("a/x-1.dist-info", "../../../../etc/passwd"),
            None
        );
    }
}
