//! Bounds on a policy file, checked before Cedar sees it.
//!
//! Cedar's parser turns text into a tree by recursion, one call chain per level
//! of nesting, with no limit of its own. A bracket costs the most (every
//! precedence level is passed through again: about 55 KB of stack in a debug
//! build), so a 2 KB file of 1,000 nested parentheses overflowed the main
//! thread's 8 MiB stack and aborted gpubom (exit 134). An `if` nested in
//! another, or a chain of operators (`1 + 1 + …`, `a.b.c…`, each one level
//! deeper than the last), costs less per level but goes as deep in a file of
//! a few hundred KB.
//!
//! So a policy file is refused, with the limit and how far it went, when it is
//! larger than [`MAX_POLICY_FILE_BYTES`], nests brackets and `if`s deeper than
//! [`MAX_POLICY_NESTING`], or has a policy with more than
//! [`MAX_POLICY_OPERATORS`] operators. The scan is lexical (strings and `//`
//! comments skipped) and counts generously: whatever it lets through is well
//! within what the parser can take on the main thread, even in a debug build.

use crate::Error;
use gpubom_inventory::file::{read_regular, FileError};
use std::path::Path;

/// The largest policy file read, in bytes (1 MiB). The default pack's largest
/// file is about 1 KB; an organisation's pack is many files, each a few rules.
pub const MAX_POLICY_FILE_BYTES: u64 = 1 << 20;

/// The most brackets (`(`, `[`, `{`) and `if`s open at once in a policy file.
/// The default pack nests at most 4 deep; a debug build's parser overflows
/// the main thread's 8 MiB stack at about 150 brackets, or 1,500 `if`s.
pub const MAX_POLICY_NESTING: usize = 64;

/// The most operators (`.`, `&&`, `==`, `+`, `in`, `has`, `like`, `is`, …) in
/// one policy. The default pack's rules have at most 18; a chain of about
/// 30,000 overflows a debug build's parser. (A chain that loads but is too
/// deep to evaluate, `a.b.c…` thousands long, is Cedar's own "recursion limit
/// reached" error when checked, which its evaluator guards against.)
pub const MAX_POLICY_OPERATORS: usize = 4096;

/// The text of the policy file at `path`: a regular file (a symlink to one is
/// followed) of at most [`MAX_POLICY_FILE_BYTES`]. A FIFO, a device or a socket
/// is refused without being opened, since reading one may never end.
pub(crate) fn read(path: &Path) -> Result<String, Error> {
    read_regular(path, MAX_POLICY_FILE_BYTES).map_err(|e| match e {
        FileError::TooLarge => too_large(&path.display().to_string()),
        FileError::Unreadable(why) => Error::Load(format!("{}: {why}", path.display())),
    })
}

/// Refuses `text` (the policy file `file`) when it passes a bound, naming the
/// bound, where it was passed and how far the text goes.
pub(crate) fn check(file: &str, text: &str) -> Result<(), Error> {
    if text.len() as u64 > MAX_POLICY_FILE_BYTES {
        return Err(too_large(file));
    }
    let extent = measure(text);
    let at = |offset: usize| {
        let (line, col) = line_col(text, offset);
        format!("{file}:{line}:{col}")
    };
    if let Some((deepest, offset)) = extent.deepest.filter(|(d, _)| *d > MAX_POLICY_NESTING) {
        return Err(Error::Policy(format!(
            "{}: brackets and `if`s nest {deepest} deep; a policy file may nest at most \
             {MAX_POLICY_NESTING} deep",
            at(offset)
        )));
    }
    if let Some((most, offset)) = extent.operators.filter(|(n, _)| *n > MAX_POLICY_OPERATORS) {
        return Err(Error::Policy(format!(
            "{}: a policy with {most} operators; a policy may have at most \
             {MAX_POLICY_OPERATORS}",
            at(offset)
        )));
    }
    Ok(())
}

fn too_large(file: &str) -> Error {
    Error::Load(format!(
        "{file}: more than {MAX_POLICY_FILE_BYTES} bytes; a policy file may be at most \
         {MAX_POLICY_FILE_BYTES} bytes (1 MiB)"
    ))
}

/// How far a policy file goes: its deepest nesting and its policy with the
/// most operators, each with the offset where it first passes its limit (or
/// where it peaks, if it never does).
#[derive(Debug, Default, PartialEq)]
struct Extent {
    deepest: Option<(usize, usize)>,
    operators: Option<(usize, usize)>,
}

/// Raises `record` to `value` if higher, keeping the offset where the limit
/// was first passed.
fn note(record: &mut Option<(usize, usize)>, value: usize, offset: usize, limit: usize) {
    match record {
        Some((most, at)) if value > *most => {
            if *most <= limit {
                *at = offset;
            }
            *most = value;
        }
        Some(_) => {}
        None => *record = Some((value, offset)),
    }
}

/// One pass over the text, outside strings and comments.
///
/// An `if` opens a level that lasts to the end of the bracket it is in, or to
/// the next `,` there: its `else` branch takes in everything after it, so each
/// further `if` at that level (`else if …`) is one level deeper.
fn measure(text: &str) -> Extent {
    let bytes = text.as_bytes();
    let mut extent = Extent::default();
    // The `if`s open in each open bracket; the first entry is outside any.
    let mut ifs_per_bracket: Vec<usize> = vec![0];
    let mut depth = 0usize;
    let mut operators = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'(' | b'[' | b'{' => {
                ifs_per_bracket.push(0);
                depth += 1;
                note(&mut extent.deepest, depth, start, MAX_POLICY_NESTING);
            }
            b')' | b']' | b'}' if ifs_per_bracket.len() > 1 => {
                depth -= 1 + ifs_per_bracket.pop().unwrap_or(0);
            }
            b',' => depth -= std::mem::take(ifs_per_bracket.last_mut().expect("never empty")),
            b';' => operators = 0,
            b'.' | b'+' | b'-' | b'*' | b'<' | b'>' | b'=' | b'!' | b'&' | b'|' => {
                while i + 1 < bytes.len() && b".+-*<>=!&|".contains(&bytes[i + 1]) {
                    i += 1;
                }
                operators += 1;
                note(
                    &mut extent.operators,
                    operators,
                    start,
                    MAX_POLICY_OPERATORS,
                );
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while i + 1 < bytes.len()
                    && (bytes[i + 1].is_ascii_alphanumeric() || bytes[i + 1] == b'_')
                {
                    i += 1;
                }
                match &text[start..=i] {
                    "if" => {
                        *ifs_per_bracket.last_mut().expect("never empty") += 1;
                        depth += 1;
                        note(&mut extent.deepest, depth, start, MAX_POLICY_NESTING);
                    }
                    "in" | "has" | "like" | "is" => {
                        operators += 1;
                        note(
                            &mut extent.operators,
                            operators,
                            start,
                            MAX_POLICY_OPERATORS,
                        );
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        i += 1;
    }
    extent
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deepest(text: &str) -> usize {
        measure(text).deepest.map_or(0, |(d, _)| d)
    }

    fn operators(text: &str) -> usize {
        measure(text).operators.map_or(0, |(n, _)| n)
    }

    #[test]
    fn nesting_counts_brackets_and_ifs_outside_strings_and_comments() {
        assert_eq!(deepest("when { ((a)) }"), 3);
        assert_eq!(deepest(r#"when { "((((\"((" } // ((((("#), 1);
        // `else if`: each one inside the last; a `,` or a closing bracket ends them.
        assert_eq!(deepest("{ if a then b else if c then d else e }"), 3);
        assert_eq!(deepest("[if a then b else c, if d then e else f]"), 2);
        assert_eq!(deepest("(if a then b else c) && (if d then e else f)"), 2);
        // Policies one after another do not add up.
        assert_eq!(
            deepest("forbid (p) when { (x) };\nforbid (p) when { (x) };"),
            2
        );
    }

    #[test]
    fn operators_are_counted_per_policy() {
        assert_eq!(operators("resource.a.b == 1 && resource has c"), 5);
        assert_eq!(operators(r#"x like "a.b.c*" || y != -1"#), 4);
        assert_eq!(operators("a.b; c.d; e.f.g"), 2);
        // Identifiers that only begin like a keyword are not operators.
        assert_eq!(operators("inside || island || hash"), 2);
    }

    #[test]
    fn every_default_rule_is_far_within_the_bounds() {
        for (name, text) in crate::DEFAULT_PACK {
            let extent = measure(text);
            let (deepest, operators) = (
                extent.deepest.map_or(0, |d| d.0),
                extent.operators.map_or(0, |o| o.0),
            );
            assert!(
                deepest <= MAX_POLICY_NESTING / 4,
                "{name}: nests {deepest} deep"
            );
            assert!(
                operators <= MAX_POLICY_OPERATORS / 16,
                "{name}: {operators} operators"
            );
            assert!(check(name, text).is_ok());
        }
    }

    #[test]
    fn past_a_bound_is_an_error_naming_the_file_the_limit_and_the_extent() {
        let deep = format!(
            "forbid (principal, action, resource) when {{ {}true{} }};",
            "(".repeat(1000),
            ")".repeat(1000)
        );
        assert_eq!(
            check("deep.cedar", &deep).unwrap_err().to_string(),
            "deep.cedar:1:108: brackets and `if`s nest 1001 deep; a policy file may nest at most 64 deep"
        );
        let long = format!(
            "forbid (principal, action, resource) when {{ 1{} == 1 }};",
            " + 1".repeat(5000)
        );
        assert_eq!(
            check("long.cedar", &long).unwrap_err().to_string(),
            "long.cedar:1:16431: a policy with 5001 operators; a policy may have at most 4096"
        );
        let large = " ".repeat(MAX_POLICY_FILE_BYTES as usize + 1);
        assert!(check("large.cedar", &large)
            .unwrap_err()
            .to_string()
            .starts_with("large.cedar: more than 1048576 bytes"));
    }
}
