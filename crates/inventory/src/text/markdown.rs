//! Text from an image in GitHub-flavoured Markdown: the pull request comment
//! and the job summary, which reviewers trust to say what gpubom found.
//!
//! An image's author chooses every file name, package name, label and pickle
//! global in it. Written into Markdown as they are, a line break ends the
//! findings table and starts a heading that forges the verdict, `<!--` hides
//! the findings after it, `[re-run](https://…)` becomes a link and
//! `@octocat` a mention. So text from an image goes through one of these two
//! functions, which every Markdown report uses:
//!
//! - [`text`] escapes every ASCII punctuation character with a backslash
//!   (CommonMark allows it on all of them, and it renders as the character
//!   alone): no emphasis, link, HTML, entity, heading, list, table cell or
//!   code span can start. Escaping the `.` of `www.` and the `:` of `https://`
//!   also keeps GitHub's autolinker away: it matches those on the source text.
//!   GitHub finds mentions (`@name`, `@org/team`) and issue references
//!   (`#12`) later, in the rendered text, where no escape is left; a value
//!   holding `@` or `#` is shown as a code span, which GitHub does not look in.
//! - [`code`] writes a code span, whose fence is longer than any run of
//!   backticks inside: nothing in it is markup.
//!
//! Both are safe in a table cell and in running text, and neither holds a line
//! break, a control character or a `|` that could end a cell: those are shown
//! as escapes, as [`super::for_terminal`] shows them. Markdown lines that
//! start a block (headings, the report's marker) are only gpubom's own.

use super::{for_terminal, is_unsafe_for_display, visible};

/// Characters GitHub turns into a mention or a reference after rendering.
fn is_reference_trigger(c: char) -> bool {
    matches!(c, '@' | '#')
}

/// `s` as inline Markdown that renders as exactly `s`, its control characters
/// shown as escapes; as a code span when it holds `@` or `#`.
pub fn text(s: &str) -> String {
    if s.contains(is_reference_trigger) {
        return code(s);
    }
    let shown = visible(s, is_unsafe_for_display);
    let mut out = String::with_capacity(shown.len() * 2);
    // Leading and trailing spaces would indent a block or end a line with a
    // hard break: as character references they are only spaces.
    let body = shown.trim_matches(' ');
    let lead = shown.len() - shown.trim_start_matches(' ').len();
    let trail = shown.len() - shown.trim_end_matches(' ').len();
    out.push_str(&"&#32;".repeat(lead));
    for c in body.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    if !body.is_empty() {
        out.push_str(&"&#32;".repeat(trail));
    }
    out
}

/// `s` as a Markdown code span. Its content is shown as on a terminal
/// ([`for_terminal`]), and `|` as `\x7c`: a GFM table splits its cells at a
/// `|` even inside a code span, and the `\|` that prevents it would show as
/// written outside a table. Never put two code spans next to each other.
pub fn code(s: &str) -> String {
    let content = for_terminal(s).replace('|', "\\x7c");
    if content.is_empty() {
        // Two backticks alone are no code span: one space is the shortest.
        return "` `".to_string();
    }
    let longest_run = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // One space inside each fence is dropped when both are there, unless the
    // content is all spaces: padding keeps a backtick or a space at either end
    // of the content its own.
    let all_spaces = content.chars().all(|c| c == ' ');
    let pad = if !all_spaces && (content.starts_with([' ', '`']) || content.ends_with([' ', '`'])) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{content}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_every_markdown_metacharacter_synthetic() {
        assert_eq!(text("plain name 1.0"), "plain name 1\\.0");
        assert_eq!(
            text("<img src=x onerror=alert(1)>"),
            "\\<img src\\=x onerror\\=alert\\(1\\)\\>"
        );
        assert_eq!(text("<!-- a -->"), "\\<\\!\\-\\- a \\-\\-\\>");
        assert_eq!(
            text("[re-run](https://evil.example)"),
            "\\[re\\-run\\]\\(https\\:\\/\\/evil\\.example\\)"
        );
        assert_eq!(
            text("*a* _b_ ~c~ `d` a|b \\"),
            "\\*a\\* \\_b\\_ \\~c\\~ \\`d\\` a\\|b \\\\"
        );
        assert_eq!(text("&amp; $x$ {y}"), "\\&amp\\; \\$x\\$ \\{y\\}");
        assert_eq!(text("www.evil.example"), "www\\.evil\\.example");
    }

    #[test]
    fn text_shows_line_breaks_and_controls_as_escapes_synthetic() {
        // The escape's own backslash is escaped, so it shows as written.
        assert_eq!(text("a.pkl\r\n= PASS"), "a\\.pkl\\\\x0d\\\\x0a\\= PASS");
        assert_eq!(text("bell\x07\u{202e}"), "bell\\\\x07\\\\u\\{202e\\}");
        assert!(!text("a\nb\rc\u{2028}d").contains(['\n', '\r', '\u{2028}']));
        // With a `#` it is a code span, where the escape shows as it is.
        assert_eq!(text("a\r\n### PASS"), "`a\\x0d\\x0a### PASS`");
    }

    #[test]
    fn mentions_and_references_become_code_synthetic() {
        assert_eq!(text("@octocat @acme/security"), "`@octocat @acme/security`");
        assert_eq!(text("fix #12"), "`fix #12`");
        assert_eq!(text("me@evil.example"), "`me@evil.example`");
    }

    #[test]
    fn edge_spaces_cannot_indent_or_break_a_line_synthetic() {
        assert_eq!(
            text("    code?"),
            "&#32;&#32;&#32;&#32;code?".replace('?', "\\?")
        );
        assert_eq!(text("hard  "), "hard&#32;&#32;");
        assert_eq!(text("   "), "&#32;&#32;&#32;");
        assert_eq!(text(""), "");
    }

    #[test]
    fn code_fences_are_longer_than_any_backtick_run_synthetic() {
        assert_eq!(code("posix.system"), "`posix.system`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("a```b``c"), "````a```b``c````");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code(" x "), "`  x  `");
        assert_eq!(code(""), "` `");
        assert_eq!(code("  "), "`  `");
    }

    #[test]
    fn code_holds_no_cell_break_line_break_or_command_synthetic() {
        assert_eq!(code("a|b"), "`a\\x7cb`");
        assert_eq!(code("a\nb"), "`a\\x0ab`");
        assert_eq!(code("x ##[error]y"), "`x ##\\x5berror]y`");
    }
}
