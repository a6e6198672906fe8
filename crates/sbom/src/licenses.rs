//! Declared licenses as SPDX license expressions, for both writers.
//!
//! Packages declare licenses in their own dialects: Debian's machine-readable
//! copyright files use DEP-5 short names (`GPL-2+`, `Expat`, `BSD-3-clause`),
//! wheels write SPDX ids or loose names. Compliance tooling matches SPDX
//! expressions (`GPL-2.0-or-later`), so each declared text is mapped when its
//! meaning is certain and kept as written when it is not: a guess here would
//! be a false statement about a licence. The `spdx` crate validates every
//! expression produced and supplies the license list.

/// One declared license text, as the writers put it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Declared {
    /// A valid SPDX license expression.
    Expression(String),
    /// A text no expression is certain for, kept as written.
    Name(String),
}

/// DEP-5 short names that are not SPDX ids, mapped only where DEP-5 itself
/// says what they mean. Source: the Debian copyright format 1.0 (DEP-5),
/// "License short names" table,
/// <https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/#license-short-name>:
/// `Expat` is "The Expat license" (SPDX `MIT`); `Perl` is "Perl license (use
/// 'GPL-1+ or Artistic-1' instead)"; `CC0` is "Creative Commons Zero 1.0 Universal".
const DEP5_NAMES: &[(&str, &str)] = &[
    ("Expat", "MIT"),
    ("Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
    ("CC0", "CC0-1.0"),
    ("Zlib", "Zlib"),
    ("ISC", "ISC"),
    ("W3C", "W3C"),
    ("BSD-2-clause", "BSD-2-Clause"),
    ("BSD-3-clause", "BSD-3-Clause"),
    ("BSD-4-clause", "BSD-4-Clause"),
];

/// DEP-5 families whose short name takes a version and `+` for "or later",
/// and whose SPDX ids spell the versions `-only` / `-or-later` (same source).
const GNU_FAMILIES: &[&str] = &["GPL", "LGPL", "AGPL", "GFDL"];

/// DEP-5 families whose versioned short name is the SPDX id once the version
/// has its minor part (`Apache-2` is `Apache-2.0`; same source).
const VERSIONED_FAMILIES: &[&str] = &["Apache", "Artistic", "MPL", "CC-BY", "CC-BY-SA", "EPL"];

/// How a declared text is written in an SBOM.
pub(crate) fn classify(text: &str) -> Declared {
    let text = text.trim();
    if is_strict_expression(text) {
        return Declared::Expression(text.to_string());
    }
    // A loose name may hold spaces ("apache 2.0"): tried whole, after DEP-5.
    match dep5_expression(text).or_else(|| imprecise(text)) {
        Some(expression) if is_strict_expression(&expression) => Declared::Expression(expression),
        _ => Declared::Name(text.to_string()),
    }
}

/// One expression for every declared text, when each maps (the parts of a
/// package under different licenses together: `AND`); `None` otherwise.
pub(crate) fn combined(texts: &[String]) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for text in texts {
        let Declared::Expression(expression) = classify(text) else {
            return None;
        };
        if !parts.contains(&expression) {
            parts.push(expression);
        }
    }
    match parts.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(
            many.iter()
                .map(|p| {
                    if p.contains(' ') {
                        format!("({p})")
                    } else {
                        p.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
    }
}

/// An expression of current (not deprecated) SPDX ids, as the SPDX spec writes them.
fn is_strict_expression(text: &str) -> bool {
    !text.is_empty() && spdx::Expression::parse(text).is_ok()
}

/// A DEP-5 `License:` value (`GPL-2+ or Artistic`) as an SPDX expression.
/// Mixed `and`/`or` and commas change precedence in DEP-5; such texts are
/// left unmapped rather than read one way.
fn dep5_expression(text: &str) -> Option<String> {
    if text.contains(',') || text.contains('(') {
        return None;
    }
    let mut terms: Vec<Vec<&str>> = vec![Vec::new()];
    let mut operator: Option<&str> = None;
    for word in text.split_whitespace() {
        let op = match word.to_ascii_lowercase().as_str() {
            "or" => "OR",
            "and" => "AND",
            _ => {
                terms.last_mut()?.push(word);
                continue;
            }
        };
        if operator.is_some_and(|seen| seen != op) {
            return None;
        }
        operator = Some(op);
        terms.push(Vec::new());
    }
    let mapped: Vec<String> = terms
        .iter()
        .map(|words| match words.as_slice() {
            [one] => short_name(one),
            // "GPL-2+ with OpenSSL exception" and other prose: no certain id.
            _ => None,
        })
        .collect::<Option<_>>()?;
    let joined = mapped
        .iter()
        .map(|m| {
            if mapped.len() > 1 && m.contains(' ') {
                format!("({m})")
            } else {
                m.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(&format!(" {} ", operator.unwrap_or("AND")));
    Some(joined)
}

/// One short name: an SPDX id, a DEP-5 name, a versioned family, or a loose
/// name the `spdx` crate knows whose stated version is the id's.
fn short_name(name: &str) -> Option<String> {
    if let Some(id) =
        spdx::license_id(name).filter(|id| !id.is_deprecated() && !name.ends_with('+'))
    {
        return Some(id.name.to_string());
    }
    if let Some((_, id)) = DEP5_NAMES
        .iter()
        .find(|(dep5, _)| dep5.eq_ignore_ascii_case(name))
    {
        return Some((*id).to_string());
    }
    let (base, or_later) = match name.strip_suffix('+') {
        Some(base) => (base, true),
        None => (name, false),
    };
    if let Some((family, version)) = base.rsplit_once('-') {
        if version.starts_with(|c: char| c.is_ascii_digit()) {
            let version = if version.contains('.') {
                version.to_string()
            } else {
                format!("{version}.0")
            };
            if let Some(family) = GNU_FAMILIES.iter().find(|f| f.eq_ignore_ascii_case(family)) {
                return spdx::gnu_license_id(&format!("{family}-{version}"), or_later)
                    .map(|id| id.name.to_string());
            }
            if let Some(family) = VERSIONED_FAMILIES
                .iter()
                .find(|f| f.eq_ignore_ascii_case(family))
            {
                let id = spdx::license_id(&format!("{family}-{version}"))
                    .filter(|id| !id.is_deprecated())?;
                return Some(format!("{}{}", id.name, if or_later { "+" } else { "" }));
            }
        }
    }
    imprecise(name)
}

/// The `spdx` crate's loose names ("apache 2.0", "gplv3"), taken only when the
/// name is matched whole and states the version the id has: its table maps
/// "gpl" to GPL-2.0-only and "gnu gpl v2" to GPL-3.0-only, which would be
/// false statements.
fn imprecise(name: &str) -> Option<String> {
    let (id, matched) = spdx::imprecise_license_id(name)?;
    if matched != name.len() {
        return None;
    }
    let numbers = |text: &str| -> Vec<u32> {
        text.split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    let stated = numbers(name);
    let has = numbers(id.name);
    let same_version = if has.is_empty() {
        stated.is_empty()
    } else {
        !stated.is_empty() && has.starts_with(&stated)
    };
    same_version.then(|| id.name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expression(text: &str) -> String {
        match classify(text) {
            Declared::Expression(e) => e,
            Declared::Name(n) => panic!("{n:?} was not mapped"),
        }
    }

    #[test]
    fn debian_short_names_become_spdx_expressions() {
        // Each left side as Debian packages declare it (DEP-5 short names).
        for (dep5, spdx) in [
            ("GPL-2", "GPL-2.0-only"),
            ("GPL-2+", "GPL-2.0-or-later"),
            ("GPL-3+", "GPL-3.0-or-later"),
            ("LGPL-2.1+", "LGPL-2.1-or-later"),
            ("LGPL-2.1", "LGPL-2.1-only"),
            ("Apache-2.0", "Apache-2.0"),
            ("Apache-2", "Apache-2.0"),
            ("BSD-3-clause", "BSD-3-Clause"),
            ("Expat", "MIT"),
            ("Zlib", "Zlib"),
            ("MIT", "MIT"),
            ("GPL-2+ or Artistic-2.0", "GPL-2.0-or-later OR Artistic-2.0"),
            ("Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
            (
                "GPL-2+ or Perl",
                "GPL-2.0-or-later OR (Artistic-1.0-Perl OR GPL-1.0-or-later)",
            ),
            ("MIT AND Apache-2.0", "MIT AND Apache-2.0"),
            ("apache 2.0", "Apache-2.0"),
        ] {
            assert_eq!(expression(dep5), spdx, "{dep5}");
        }
    }

    #[test]
    fn uncertain_texts_are_kept_as_written() {
        for text in [
            "BSD-variant",
            "public-domain",
            "GPL-2+ with OpenSSL exception",
            "GPL-2+ or MIT, and BSD-3-clause",
            "GPL-2+ or MIT and BSD-3-clause",
            // The spdx crate's loose table would say GPL-2.0-only and GPL-3.0-only.
            "gpl",
            "gnu gpl v2",
            "Artistic",
            "",
        ] {
            assert_eq!(classify(text), Declared::Name(text.trim().into()), "{text}");
        }
    }

    #[test]
    fn texts_combine_only_when_each_maps() {
        let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            combined(&texts(&["GPL-2", "Expat", "GPL-2"])).as_deref(),
            Some("GPL-2.0-only AND MIT")
        );
        assert_eq!(
            combined(&texts(&["GPL-2+ or MIT", "Zlib"])).as_deref(),
            Some("(GPL-2.0-or-later OR MIT) AND Zlib")
        );
        assert_eq!(combined(&texts(&["GPL-2", "BSD-variant"])), None);
        assert_eq!(combined(&[]), None);
    }
}
