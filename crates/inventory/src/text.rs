//! Names from scanned images, made safe to show.
//!
//! File names, labels and package fields come from the image's author, who
//! may put terminal escape sequences or bidirectional overrides in them to
//! rewrite what a reviewer sees, workflow commands for the CI runner that
//! reads gpubom's output as its job log, Markdown that forges a verdict in a
//! pull request comment, or bytes that XML cannot carry at all. The SBOM's
//! JSON keeps them exactly (JSON escapes them); every other output goes
//! through one function per medium: [`for_terminal`] for every line printed
//! (a terminal and a job log are the same stream), [`markdown`] for the
//! reports people read on GitHub, [`for_xml`] for the XML SBOM.

pub mod markdown;

use std::borrow::Cow;

/// Characters that change how a terminal or editor shows the text around
/// them, or that show nothing at all.
fn is_unsafe_for_display(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // bidirectional marks, embeddings, overrides and isolates
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            // zero-width characters, which hide where one word ends
            | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
            // line and paragraph separators, line breaks to some viewers
            | '\u{2028}' | '\u{2029}'
        )
}

/// `c` as a visible escape: `\x1b`, `\u{202e}`.
fn escaped(c: char) -> String {
    if (c as u32) < 0x100 {
        format!("\\x{:02x}", c as u32)
    } else {
        format!("\\u{{{:x}}}", c as u32)
    }
}

/// `s` with the characters `unsafe_char` picks written as visible escapes.
fn visible(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if unsafe_char(c) {
                    escaped(c)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// One line of text for a terminal or a CI job log: control characters
/// (newlines included), bidirectional overrides and zero-width characters
/// shown as escapes, and nothing the runner would take for a workflow command
/// (see [`defuse_workflow_commands`]). Apply it to each whole line that holds
/// text from an image, after any padding and before any colour of gpubom's own:
/// a line start is only known there. Applying it twice changes nothing.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    match visible(s, is_unsafe_for_display) {
        Cow::Borrowed(s) => defuse_workflow_commands(s),
        Cow::Owned(s) => Cow::Owned(defuse_workflow_commands(&s).into_owned()),
    }
}

/// A line of a GitHub Actions job log that the runner cannot take for a
/// workflow command. The runner (actions/runner, `ActionCommand.TryParseV2`
/// and `TryParse`) reads each line, split at CR and LF, as a command when,
/// after leading white space is trimmed, it starts with `::`, or when it
/// holds `##[` anywhere (the older form). Such a `:` or `[` is written as a
/// visible escape (`\x3a`, `\x5b`); nothing else needs to change, so the rest
/// of the line reads as it is. `line` must hold no line break of its own.
fn defuse_workflow_commands(line: &str) -> Cow<'_, str> {
    let indent = line.len() - line.trim_start().len();
    let command_start = line[indent..].starts_with("::");
    let old_form = line.contains("##[");
    if !command_start && !old_form {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    out.push_str(&line[..indent]);
    let mut hashes = 0;
    for (i, c) in line[indent..].char_indices() {
        match c {
            ':' if i == 0 && command_start => out.push_str(&escaped(c)),
            '[' if hashes >= 2 => out.push_str(&escaped(c)),
            _ => out.push(c),
        }
        hashes = if c == '#' { hashes + 1 } else { 0 };
    }
    Cow::Owned(out)
}

/// Characters XML 1.0 cannot carry, even as character references.
fn is_invalid_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// A whole XML document with the characters XML cannot carry written as
/// visible escapes (they never occur in markup, only in text from the image).
pub fn for_xml(s: &str) -> Cow<'_, str> {
    visible(s, is_invalid_in_xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_synthetic() {
        assert_eq!(for_terminal("plain.pt"), "plain.pt");
        assert_eq!(for_terminal("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(for_terminal("evil\u{202e}tp.pkl"), "evil\\u{202e}tp.pkl");
        assert_eq!(for_terminal("two\nlines"), "two\\x0alines");
        assert_eq!(for_terminal("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(for_xml("<a>x\x01y\ty</a>"), "<a>x\\x01y\ty</a>");
    }

    #[test]
    fn no_line_can_start_a_workflow_command_synthetic() {
        // Escaped at a line start, after white space the runner trims.
        assert_eq!(for_terminal("::error::pwned"), "\\x3a:error::pwned");
        assert_eq!(
            for_terminal(" \u{a0}::stop-commands::t"),
            " \u{a0}\\x3a:stop-commands::t"
        );
        // A line break inside is escaped, so what follows it starts no line.
        assert_eq!(
            for_terminal("x.pkl\n::notice::hi"),
            "x.pkl\\x0a::notice::hi"
        );
        assert_eq!(for_terminal("a\r::add-mask::b"), "a\\x0d::add-mask::b");
        // The older form is read anywhere in a line, however many '#' lead it.
        assert_eq!(for_terminal("x ##[error]y"), "x ##\\x5berror]y");
        assert_eq!(for_terminal("###[warning]"), "###\\x5bwarning]");
        // Text that starts no command is left as it is.
        for plain in ["a::b", "x: ::y", "#[a] ## [b]", "# [c]"] {
            assert_eq!(for_terminal(plain), plain);
        }
    }

    #[test]
    fn escaping_twice_changes_nothing_synthetic() {
        for s in ["::a::b", "\n::a", "##[x]", "a\x1b##[", "  ::\u{202e}"] {
            let once = for_terminal(s).into_owned();
            assert_eq!(for_terminal(&once), once, "{s:?}");
        }
    }
}
