//! `/etc/ld.so.conf` and the files it includes: the directories `ldconfig` puts
//! in the loader's cache, which is where a `DT_NEEDED` library is looked for
//! after the library's own search path and before the system's default directories.
//!
//! Read as glibc's `ldconfig` reads it: `#` starts a comment, `include PATTERN…`
//! names more files (a relative pattern is relative to the including file's
//! directory), `hwcap` lines are obsolete and skipped, and any other line lists
//! directories (several may share a line, separated by blanks, `:` or `,`;
//! the old `DIR=TYPE` form keeps the directory).

/// Entries kept from one file (real ones list a handful).
pub const MAX_ENTRIES: usize = 256;
/// Longest line read; longer lines are skipped.
const MAX_LINE: usize = 4096;
/// Most `*` in an include pattern, so matching stays linear in practice.
const MAX_WILDCARDS: usize = 8;

/// One meaningful line of an `ld.so.conf` file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Entry {
    /// A directory, without its leading `/`.
    Dir(String),
    /// An `include` pattern made absolute against the including file's directory,
    /// without its leading `/`: `etc/ld.so.conf.d/*.conf`.
    Include(String),
}

/// The entries of the file at `path` (image-relative, no leading `/`), in order.
pub fn parse(path: &str, text: &str) -> Vec<Entry> {
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut out = Vec::new();
    for line in text.lines().filter(|l| l.len() <= MAX_LINE) {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        match words.next() {
            None => continue,
            Some("include") => out.extend(words.map(|pattern| {
                Entry::Include(if pattern.starts_with('/') {
                    pattern.trim_start_matches('/').to_string()
                } else if dir.is_empty() {
                    pattern.to_string()
                } else {
                    format!("{dir}/{pattern}")
                })
            })),
            Some("hwcap") => continue,
            Some(_) => out.extend(
                line.split([' ', '\t', ':', ','])
                    .map(|d| d.split('=').next().unwrap_or(d).trim_matches('/'))
                    .filter(|d| !d.is_empty())
                    .map(|d| Entry::Dir(d.to_string())),
            ),
        }
        if out.len() >= MAX_ENTRIES {
            out.truncate(MAX_ENTRIES);
            break;
        }
    }
    out
}

/// Whether `path` matches the glob `pattern` (`*` and `?` within one path
/// component, as `glob(3)` matches an include). A pattern with more than a few
/// `*` matches nothing.
pub fn matches(pattern: &str, path: &str) -> bool {
    if pattern.matches('*').count() > MAX_WILDCARDS {
        return false;
    }
    let pattern_parts: Vec<&str> = pattern.split('/').collect();
    let path_parts: Vec<&str> = path.split('/').collect();
    pattern_parts.len() == path_parts.len()
        && pattern_parts
            .iter()
            .zip(&path_parts)
            .all(|(p, s)| component_matches(p.as_bytes(), s.as_bytes()))
}

/// `*`/`?` matching of one component, by the usual backtrack-to-the-last-star walk.
fn component_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pattern.get(p), text.get(t)) {
            (Some(b'*'), _) => {
                star = Some((p, t));
                p = p.saturating_add(1);
            }
            (Some(&pc), Some(&tc)) if pc == b'?' || pc == tc => {
                p = p.saturating_add(1);
                t = t.saturating_add(1);
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p.saturating_add(1);
                    t = star_t.saturating_add(1);
                    star = Some((star_p, t));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debian 12's `/etc/ld.so.conf` (libc-bin) and `ld.so.conf.d/x86_64-linux-gnu.conf` (libc6).
    #[test]
    fn debian_files() {
        let main = "include /etc/ld.so.conf.d/*.conf\n\n";
        assert_eq!(
            parse("etc/ld.so.conf", main),
            [Entry::Include("etc/ld.so.conf.d/*.conf".into())]
        );
        let multiarch = "# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n";
        assert_eq!(
            parse("etc/ld.so.conf.d/x86_64-linux-gnu.conf", multiarch),
            [
                Entry::Dir("usr/local/lib/x86_64-linux-gnu".into()),
                Entry::Dir("lib/x86_64-linux-gnu".into()),
                Entry::Dir("usr/lib/x86_64-linux-gnu".into()),
            ]
        );
    }

    #[test]
    fn forms_synthetic() {
        let text = "hwcap 0 nosegneg\ninclude a/*.conf /b/c.conf # two\n/x:/y,/z /w=libc6 # ok\n";
        assert_eq!(
            parse("etc/ld.so.conf", text),
            [
                Entry::Include("etc/a/*.conf".into()),
                Entry::Include("b/c.conf".into()),
                Entry::Dir("x".into()),
                Entry::Dir("y".into()),
                Entry::Dir("z".into()),
                Entry::Dir("w".into()),
            ]
        );
        let many = "/d\n".repeat(MAX_ENTRIES * 2);
        assert_eq!(parse("etc/ld.so.conf", &many).len(), MAX_ENTRIES);
    }

    #[test]
    fn globs_synthetic() {
        assert!(matches(
            "etc/ld.so.conf.d/*.conf",
            "etc/ld.so.conf.d/cuda.conf"
        ));
        assert!(matches("etc/ld.so.conf.d/*.conf", "etc/ld.so.conf.d/.conf"));
        assert!(!matches(
            "etc/ld.so.conf.d/*.conf",
            "etc/ld.so.conf.d/cuda.conf.bak"
        ));
        assert!(!matches(
            "etc/ld.so.conf.d/*.conf",
            "etc/ld.so.conf.d/x/y.conf"
        ));
        assert!(matches("etc/a?c", "etc/abc"));
        assert!(matches("etc/*a*b*", "etc/xxaxxbxx"));
        assert!(!matches("etc/*a*b*c", "etc/aaaaaaaaaaaaaaaaaaaaab"));
        let stars = format!("etc/{}", "*".repeat(MAX_WILDCARDS + 1));
        assert!(!matches(&stars, "etc/x"));
    }
}
