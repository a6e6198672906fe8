//! `os-release` files: shell-style `KEY=value` lines naming the distribution.

/// Where `os-release` lives, relative to the root; the first is often a symlink to the second.
pub const PATHS: &[&str] = &["etc/os-release", "usr/lib/os-release"];

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct OsRelease {
    pub id: String,
    pub version_id: Option<String>,
    pub version_codename: Option<String>,
    pub pretty_name: Option<String>,
    pub id_like: Vec<String>,
    pub name: Option<String>,
}

/// Parses an `os-release` file; `None` when it names no `ID`.
pub fn parse(text: &str) -> Option<OsRelease> {
    let mut os = OsRelease::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(raw.trim());
        let value = (!value.is_empty()).then_some(value);
        match key.trim() {
            "ID" => os.id = value.unwrap_or_default(),
            "VERSION_ID" => os.version_id = value,
            "VERSION_CODENAME" => os.version_codename = value,
            "PRETTY_NAME" => os.pretty_name = value,
            "NAME" => os.name = value,
            "ID_LIKE" => {
                os.id_like = value
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            }
            _ => {}
        }
    }
    (!os.id.is_empty()).then_some(os)
}

/// Removes shell quoting: `'…'` literally, `"…"` with backslash escapes.
fn unquote(raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.to_string();
    }
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_id_like_synthetic() {
        let os = parse(
            "# comment\nID='ubuntu'\nID_LIKE=\"debian  fedora\"\nNAME=\"A \\\"quoted\\\" name\"\n",
        )
        .unwrap();
        assert_eq!(os.id, "ubuntu");
        assert_eq!(os.id_like, vec!["debian", "fedora"]);
        assert_eq!(os.name.as_deref(), Some("A \"quoted\" name"));
    }

    #[test]
    fn no_id_is_none_synthetic() {
        assert_eq!(parse("NAME=x\n\u{0}\u{ff}garbage"), None);
    }

    /// `usr/lib/os-release` as Debian's base-files package ships it (see testdata/README.md).
    #[test]
    fn real_debian_base_files() {
        let os = parse(include_str!("../testdata/os-release.debian-12")).unwrap();
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.version_codename.as_deref(), Some("bookworm"));
        assert!(os.id_like.is_empty());
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }
}
