//! The dpkg database: `status` paragraphs, distroless `status.d/*` files,
//! `info/*.list` ownership lists and DEP-5 `copyright` files.

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct DpkgPackage {
    pub name: String,
    pub version: String,
    pub architecture: Option<String>,
    pub source: Option<String>,
    pub source_version: Option<String>,
    pub maintainer: Option<String>,
    /// First line of `Description`.
    pub description: Option<String>,
    pub installed_size_kib: Option<u64>,
    /// `Pre-Depends` then `Depends`: each entry is one requirement, as the names of
    /// its alternatives (`a | b`), without version constraints or `:any`/arch qualifiers.
    pub depends: Vec<Vec<String>>,
    /// Virtual packages this one provides, names only.
    pub provides: Vec<String>,
}

/// Which dpkg database file a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpkgFile<'a> {
    Status,
    StatusD,
    List {
        package: &'a str,
        arch: Option<&'a str>,
    },
}

const DB: &str = "var/lib/dpkg/";

pub fn classify(path: &str) -> Option<DpkgFile<'_>> {
    let rest = path.strip_prefix(DB)?;
    if rest == "status" {
        return Some(DpkgFile::Status);
    }
    if let Some(name) = rest.strip_prefix("status.d/") {
        // Distroless ships `status.d/foo` beside `status.d/foo.md5sums`.
        return (!name.contains('/') && !name.is_empty() && !name.ends_with(".md5sums"))
            .then_some(DpkgFile::StatusD);
    }
    let list = rest.strip_prefix("info/")?.strip_suffix(".list")?;
    if list.contains('/') || list.is_empty() {
        return None;
    }
    Some(match list.split_once(':') {
        Some((package, arch)) => DpkgFile::List {
            package,
            arch: Some(arch),
        },
        None => DpkgFile::List {
            package: list,
            arch: None,
        },
    })
}

/// Installed packages of a status file. A paragraph without `Status` (distroless
/// `status.d`) counts as installed; otherwise its state must be `installed`.
pub fn parse_status(text: &str) -> Vec<DpkgPackage> {
    paragraphs(text)
        .filter_map(|fields| {
            if let Some(status) = field(&fields, "Status") {
                if status.split_whitespace().nth(2) != Some("installed") {
                    return None;
                }
            }
            let name = field(&fields, "Package")?.trim().to_string();
            let version = field(&fields, "Version")?.trim().to_string();
            let (source, source_version) = match field(&fields, "Source") {
                Some(s) => {
                    let s = s.trim();
                    match s.split_once(' ') {
                        Some((src, ver)) => (
                            Some(src.to_string()),
                            Some(
                                ver.trim()
                                    .trim_start_matches('(')
                                    .trim_end_matches(')')
                                    .to_string(),
                            ),
                        ),
                        None => (Some(s.to_string()), None),
                    }
                }
                None => (None, None),
            };
            Some(DpkgPackage {
                name,
                version,
                architecture: field(&fields, "Architecture").map(|s| s.trim().to_string()),
                source,
                source_version,
                maintainer: field(&fields, "Maintainer").map(|s| s.trim().to_string()),
                description: field(&fields, "Description")
                    .and_then(|d| d.lines().next())
                    .map(|s| s.trim().to_string()),
                installed_size_kib: field(&fields, "Installed-Size")
                    .and_then(|s| s.trim().parse().ok()),
                depends: ["Pre-Depends", "Depends"]
                    .into_iter()
                    .flat_map(|key| relations(field(&fields, key)))
                    .collect(),
                provides: relations(field(&fields, "Provides"))
                    .into_iter()
                    .flatten()
                    .collect(),
            })
        })
        .collect()
}

/// Paths a `.list` file says the package owns, without the leading `/`.
///
/// At most [`MAX_LIST_ENTRIES`] paths are kept, and none longer than a path
/// can be, so memory stays proportional to what a real package lists.
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_start_matches('/'))
        .filter(|l| !l.is_empty() && *l != "." && l.len() <= 4096)
        .take(MAX_LIST_ENTRIES)
        .map(str::to_owned)
        .collect()
}

/// More files than any real Debian package installs (the largest list tens of thousands).
pub const MAX_LIST_ENTRIES: usize = 500_000;

/// `usr/share/doc/<pkg>/copyright` → `<pkg>`.
pub fn copyright_path_package(path: &str) -> Option<&str> {
    let pkg = path
        .strip_prefix("usr/share/doc/")?
        .strip_suffix("/copyright")?;
    (!pkg.contains('/') && !pkg.is_empty()).then_some(pkg)
}

/// The licenses a copyright file declares, sorted and unique: each DEP-5
/// `License:` field's first line whole (`GPL-2+ or Artistic`: the short name
/// or expression; the lines after it are license text). A free-form file (not
/// DEP-5, such as base-files') declares none that way; there the GNU licenses'
/// own notice from their "How to Apply These Terms" section is recognised
/// (`… either version 2 of the License, or (at your option) any later
/// version`) and named as DEP-5 does (`GPL-2+`).
pub fn licenses_from_copyright(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("License:"))
        .map(|l| l.trim().trim_end_matches(',').trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if out.is_empty() {
        out.extend(gnu_notice(text));
    }
    out.sort();
    out.dedup();
    out
}

/// The GNU notice's license as a DEP-5 short name: `GPL-2+`, `LGPL-2.1+`.
/// Only the "or (at your option) any later version" form is read, whose
/// meaning is fixed; the first notice in the file is the package's own.
fn gnu_notice(text: &str) -> Option<String> {
    let flat = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    let (family, after) = [
        ("gnu lesser general public license", "LGPL"),
        ("gnu library general public license", "LGPL"),
        ("gnu general public license", "GPL"),
    ]
    .iter()
    .filter_map(|(name, family)| {
        let (before, after) = flat.split_once(&format!("under the terms of the {name}"))?;
        Some((before.len(), *family, after))
    })
    .min_by_key(|(at, _, _)| *at)
    .map(|(_, family, after)| (family, after))?;
    let after =
        after.strip_prefix(" as published by the free software foundation; either version ")?;
    let (version, rest) = after.split_once(' ')?;
    let version = version.trim_end_matches(',');
    let well_formed = !version.is_empty()
        && version.split('.').all(|part| {
            !part.is_empty() && part.len() <= 2 && part.bytes().all(|b| b.is_ascii_digit())
        });
    (well_formed && rest.starts_with("of the license, or (at your option) any later version"))
        .then(|| format!("{family}-{version}+"))
}

type Fields<'a> = Vec<(&'a str, String)>;

/// RFC 822-style paragraphs separated by blank lines, with continuation lines.
fn paragraphs(text: &str) -> impl Iterator<Item = Fields<'_>> {
    text.split("\n\n").filter_map(|para| {
        let mut fields: Fields = Vec::new();
        for line in para.lines() {
            if line.starts_with(' ') || line.starts_with('\t') {
                if let Some((_, value)) = fields.last_mut() {
                    value.push('\n');
                    value.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.push((k.trim(), v.trim().to_string()));
            }
        }
        (!fields.is_empty()).then_some(fields)
    })
}

fn field<'a>(fields: &'a Fields, key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// A relationship field (`a (>= 1) | b:any, c [amd64]`) as the package names of each
/// comma-separated requirement's alternatives.
fn relations(list: Option<&str>) -> Vec<Vec<String>> {
    list.unwrap_or_default()
        .split(',')
        .map(|requirement| {
            requirement
                .split('|')
                .filter_map(|alternative| alternative.split_whitespace().next())
                // `name(>= 1)` is legal without the space.
                .map(|name| name.split(['(', '[', '<']).next().unwrap_or(name))
                .map(|name| name.split(':').next().unwrap_or(name).to_string())
                .filter(|name| !name.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|alternatives| !alternatives.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_paths() {
        assert_eq!(classify("var/lib/dpkg/status"), Some(DpkgFile::Status));
        assert_eq!(classify("var/lib/dpkg/status-old"), None);
        assert_eq!(
            classify("var/lib/dpkg/status.d/tzdata"),
            Some(DpkgFile::StatusD)
        );
        assert_eq!(classify("var/lib/dpkg/status.d/tzdata.md5sums"), None);
        assert_eq!(
            classify("var/lib/dpkg/info/libc6:amd64.list"),
            Some(DpkgFile::List {
                package: "libc6",
                arch: Some("amd64")
            })
        );
        assert_eq!(
            classify("var/lib/dpkg/info/tzdata.list"),
            Some(DpkgFile::List {
                package: "tzdata",
                arch: None
            })
        );
        assert_eq!(classify("var/lib/dpkg/info/tzdata.md5sums"), None);
    }

    #[test]
    fn status_keeps_only_installed_synthetic() {
        let text = "Package: a\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\nSource: a-src (1.0-0)\nDescription: first line\n more\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n\nPackage: c\nVersion: 3\n";
        let pkgs = parse_status(text);
        assert_eq!(pkgs.len(), 2, "{pkgs:?}");
        assert_eq!(pkgs[0].source.as_deref(), Some("a-src"));
        assert_eq!(pkgs[0].source_version.as_deref(), Some("1.0-0"));
        assert_eq!(pkgs[0].description.as_deref(), Some("first line"));
        assert_eq!(pkgs[1].name, "c");
    }

    #[test]
    fn relation_fields_synthetic() {
        assert_eq!(
            relations(Some(
                "a(>= 1) | b:any, c [amd64], , d:amd64 (<< 2) <!nocheck>|"
            )),
            [vec!["a", "b"], vec!["c"], vec!["d"]]
        );
        assert!(relations(Some(" , | ,")).is_empty());
        assert!(relations(None).is_empty());
    }

    #[test]
    fn garbage_is_empty_synthetic() {
        assert!(parse_status("\u{0}\u{1}:::\n\n\n  \n").is_empty());
        assert!(parse_list("/.\n\n").is_empty());
    }

    #[test]
    fn dep5_licenses() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: Zlib\n\nFiles: debian/*\nLicense: GPL-2+ or Artistic\n";
        assert_eq!(
            licenses_from_copyright(text),
            vec!["GPL-2+ or Artistic", "Zlib"]
        );
    }

    /// base-files' copyright is free-form, not DEP-5: its license is the GPL
    /// notice (the real file, from the vendored .deb; tests/fixtures/debs).
    #[test]
    fn a_free_form_copyright_file_s_gnu_notice() {
        let text = include_str!(
            "../../../tests/fixtures/debs/copyright/base-files_12.4+deb12u15.copyright"
        );
        assert_eq!(licenses_from_copyright(text), vec!["GPL-2+"]);
        let lesser = "under the terms of the GNU Lesser General Public\nLicense as published by \
                      the Free Software Foundation; either\nversion 2.1 of the License, or (at your \
                      option) any later version.";
        assert_eq!(licenses_from_copyright(lesser), vec!["LGPL-2.1+"]);
        // Only the fixed "or later" wording; "version 2 as published" and prose are not read.
        for other in [
            "under the terms of the GNU General Public License version 2 as published by the FSF.",
            "GPL v2",
            "under the terms of the GNU General Public License as published by the Free \
             Software Foundation; either version 2x of the License, or (at your option) any \
             later version.",
        ] {
            assert!(licenses_from_copyright(other).is_empty(), "{other}");
        }
    }

    /// A real status database as dpkg wrote it (see testdata/README.md).
    #[test]
    fn real_status_db() {
        let pkgs = parse_status(include_str!("../testdata/dpkg-status.debian-12"));
        assert_eq!(pkgs.len(), 15);
        let find = |name: &str| pkgs.iter().find(|p| p.name == name).unwrap();
        assert_eq!(find("dpkg").version, "1.21.22");
        assert_eq!(find("git").version, "1:2.39.5-0+deb12u3");
        let bzip2 = find("libbz2-1.0");
        assert_eq!(bzip2.source.as_deref(), Some("bzip2"));
        assert_eq!(bzip2.source_version.as_deref(), Some("1.0.8-5"));
        assert_eq!(find("libc6").source.as_deref(), Some("glibc"));
        assert_eq!(find("libc6").source_version, None);
        assert!(pkgs.iter().all(|p| p.architecture.is_some()));
        // Pre-Depends come first; alternatives stay together; versions are dropped.
        assert_eq!(
            find("bash").depends,
            [["libc6"], ["libtinfo6"], ["base-files"], ["debianutils"]]
        );
        assert_eq!(
            find("python3.11").depends[2],
            ["media-types", "mime-support"]
        );
        assert_eq!(find("tzdata").depends, [["debconf", "debconf-2.0"]]);
        assert_eq!(find("git").provides, ["git-completion", "git-core"]);
        assert_eq!(find("perl-base").provides.len(), 7);
    }
}
