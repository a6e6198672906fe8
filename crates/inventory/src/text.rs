//! Names from scanned images, made safe to show.
//!
//! File names, labels and package fields come from the image's author, who
//! may put terminal escape sequences or bidirectional overrides in them to
//! rewrite what a reviewer sees, or bytes that XML cannot carry at all. The
//! SBOM's JSON keeps them exactly (JSON escapes them); every human-readable
//! output and the XML go through these functions.

use std::borrow::Cow;

/// Characters that change how a terminal or editor shows the text around them.
fn is_unsafe_for_display(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `c` as a visible escape: `\x1b`, `\u{202e}`.
fn escaped(c: char) -> String {
    if (c as u32) < 0x100 {
        format!("\\x{:02x}", c as u32)
    } else {
        format!("\\u{{{:x}}}", c as u32)
    }
}

/// One line of text for a terminal: control characters (newlines included)
/// and bidirectional overrides shown as escapes.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_for_display) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if is_unsafe_for_display(c) {
                    escaped(c)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Characters XML 1.0 cannot carry, even as character references.
fn is_invalid_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// A whole XML document with the characters XML cannot carry written as
/// visible escapes (they never occur in markup, only in text from the image).
pub fn for_xml(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_invalid_in_xml) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if is_invalid_in_xml(c) {
                    escaped(c)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
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
        assert_eq!(for_xml("<a>x\x01y\ty</a>"), "<a>x\\x01y\ty</a>");
    }
}
