//! The escapers every report uses for text from an image: `text::for_terminal`
//! (terminal and job log) and `text::markdown::{text, code}` (GitHub Markdown).
//! Any string in, the output must be inert: no control character, no line the
//! Actions runner reads as a workflow command, and Markdown that a CommonMark
//! parser with GFM tables (pulldown-cmark) reads as text and code alone, showing
//! exactly the input (its control characters as escapes), with nothing GitHub
//! would turn into a mention, an issue link or an autolink.
#![no_main]
use gpubom_inventory::text::{for_terminal, markdown};
use libfuzzer_sys::fuzz_target;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    if input.contains([HIDDEN_COLON, HIDDEN_BRACKET]) {
        return; // `visible_only` borrows these two characters
    }
    let shown = for_terminal(&input);
    check_terminal(&shown);
    assert_eq!(
        for_terminal(&shown),
        shown,
        "escaping twice changes nothing"
    );

    let text = markdown::text(&input);
    check_markdown_source(&text);
    let code_content = {
        let c = shown.replace('|', "\\x7c");
        // An empty code span is written with one space, which it then shows.
        if c.is_empty() {
            " ".to_string()
        } else {
            c
        }
    };
    let expected_text = if input.contains(['@', '#']) {
        code_content.clone()
    } else {
        // What `text` shows is the terminal's escapes without the job-log ones,
        // which its backslash escapes make needless.
        visible_only(&input)
    };
    for (source, expected) in [
        (format!("x {text} y\n"), format!("x {expected_text} y")),
        (format!("{text}\n"), expected_text.clone()),
        (
            format!("| h |\n|---|\n| {text} |\n"),
            format!("h{expected_text}"),
        ),
    ] {
        assert_eq!(
            rendered_text(&source, !input.contains(['@', '#'])),
            expected,
            "{source:?}"
        );
    }
    let code = markdown::code(&input);
    check_markdown_source(&code);
    assert_eq!(
        rendered_text(&format!("x {code} y\n"), false),
        format!("x {code_content} y")
    );
    assert_eq!(
        rendered_text(&format!("| h |\n|---|\n| {code} |\n"), false),
        format!("h{code_content}")
    );
});

const HIDDEN_COLON: char = '\u{e000}';
const HIDDEN_BRACKET: char = '\u{e001}';

/// `s` with only its control, bidirectional and zero-width characters escaped:
/// `for_terminal` without its workflow-command escapes, which touch only a `:`
/// or a `[`, so those are hidden from it behind private-use characters.
fn visible_only(s: &str) -> String {
    let hidden: String = s
        .chars()
        .map(|c| match c {
            ':' => HIDDEN_COLON,
            '[' => HIDDEN_BRACKET,
            other => other,
        })
        .collect();
    for_terminal(&hidden)
        .replace(HIDDEN_COLON, ":")
        .replace(HIDDEN_BRACKET, "[")
}

/// A line for a terminal or a job log: no control character, no command.
fn check_terminal(line: &str) {
    assert!(!line.contains(|c: char| c.is_control()), "{line:?}");
    assert!(!line.trim_start().starts_with("::"), "{line:?}");
    assert!(!line.contains("##["), "{line:?}");
}

/// Markdown from an escaper: one line, and outside a code span every ASCII
/// punctuation character escaped (no raw `<`, no `@`, and no `www.` or `://`
/// for GitHub's autolinker, which reads the source) but in the `&#32;` that
/// stands for a leading or trailing space.
fn check_markdown_source(md: &str) {
    check_terminal(md);
    if md.starts_with('`') {
        return;
    }
    let without_spaces = md.replace("&#32;", "");
    let mut chars = without_spaces.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => assert!(
                chars.next().is_some_and(|e| e.is_ascii_punctuation()),
                "a lone backslash in {md:?}"
            ),
            c => assert!(!c.is_ascii_punctuation(), "unescaped {c:?} in {md:?}"),
        }
    }
}

/// The text a reader sees of `source`, asserting on the way that it parses
/// to paragraphs, tables, text and code only. With `as_text`, the escaped
/// value is text, never a code span, and holds no `@` or `#`, from which
/// GitHub makes mentions and issue links after rendering.
fn rendered_text(source: &str, as_text: bool) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_MATH
        | Options::ENABLE_GFM;
    let mut seen = String::new();
    for event in Parser::new_ext(source, options) {
        match event {
            Event::Text(t) => {
                assert!(!t.contains(['@', '#']) || !as_text, "{t:?} in {source:?}");
                seen.push_str(&t);
            }
            Event::Code(c) => {
                assert!(!as_text, "code in {source:?}");
                seen.push_str(&c);
            }
            Event::Start(
                Tag::Paragraph | Tag::Table(_) | Tag::TableHead | Tag::TableRow | Tag::TableCell,
            )
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Table
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::TableCell,
            ) => {}
            other => panic!("{other:?} in {source:?}"),
        }
    }
    seen
}
