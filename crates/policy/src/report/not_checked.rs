//! The "Not checked" section every report ends with: the facts the rules
//! needed that could not be established, and why, so that a PASS never
//! stands for "gpubom did not look".
//!
//! Items that share a reason are one line (`user, ports, labels: this SBOM
//! records no image config`), naming a few of the components they are about.
//! Reasons and subjects may come from an SBOM someone else wrote: they are
//! escaped for the terminal and for Markdown like any string from an image.

use gpubom_inventory::not_checked::{by_reason, SameReason};
use gpubom_inventory::text::{for_terminal, markdown};
use gpubom_inventory::NotChecked;
use serde_json::{json, Value};
use std::fmt::Write;

/// How many subjects a line names before it counts the rest.
const NAMED: usize = 3;

/// `user, ports, labels`.
fn facts(group: &SameReason) -> String {
    let names: Vec<&str> = group.facts.iter().map(|f| f.as_str()).collect();
    names.join(", ")
}

/// `5: a at /x, b at /y, c at /z, and 2 more`, or nothing for the image.
fn subjects(group: &SameReason) -> Option<String> {
    let all = &group.subjects;
    let (named, rest) = all.split_at(all.len().min(NAMED));
    let first = named.first()?;
    let mut out = match all.len() {
        1 => first.to_string(),
        n => format!("{n}: {}", named.join(", ")),
    };
    if !rest.is_empty() {
        let _ = write!(out, ", and {} more", rest.len());
    }
    Some(out)
}

/// Grouped by reason, the image's facts first (in `Fact`'s order), then in
/// the order they were declared.
fn groups(items: &[NotChecked]) -> Vec<SameReason<'_>> {
    let mut sorted: Vec<&NotChecked> = items.iter().collect();
    sorted.sort_by_key(|item| item.fact);
    by_reason(sorted)
}

/// `signatures: a docker-archive carries none; …` and the like, one a line.
pub fn text(items: &[NotChecked], colour: bool) -> String {
    if items.is_empty() {
        return String::new();
    }
    let heading = "Not checked (a PASS does not cover these):";
    let mut out = if colour {
        format!("\x1b[1;33m{heading}\x1b[0m\n")
    } else {
        format!("{heading}\n")
    };
    for group in groups(items) {
        let line = match subjects(&group) {
            Some(subjects) => format!("{} ({subjects}): {}", facts(&group), group.reason),
            None => format!("{}: {}", facts(&group), group.reason),
        };
        let _ = writeln!(out, "  {}", for_terminal(&line));
    }
    out
}

/// A **Not checked** list for job summaries and pull-request comments (no
/// heading: the verdict is the report's one heading).
pub fn markdown(items: &[NotChecked]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n**Not checked**: a PASS does not cover these.\n\n");
    for group in groups(items) {
        let _ = write!(out, "- **{}**", markdown::text(&facts(&group)));
        if let Some(subjects) = subjects(&group) {
            let _ = write!(out, " ({})", markdown::text(&subjects));
        }
        let _ = writeln!(out, ": {}", markdown::text(group.reason));
    }
    out
}

/// Every item, for the JSON report: `{ "fact", "subject"?, "reason" }`.
pub fn json(items: &[NotChecked]) -> Value {
    json!(items)
}

/// SARIF tool execution notifications, one per reason, so that code scanning
/// shows what the run did not check beside what it found.
pub fn sarif_notifications(items: &[NotChecked]) -> Vec<Value> {
    groups(items)
        .iter()
        .map(|group| {
            let mut text = format!("not checked: {}", facts(group));
            if let Some(subjects) = subjects(group) {
                let _ = write!(text, " ({subjects})");
            }
            let _ = write!(text, ": {}", group.reason);
            json!({
                "level": "warning",
                "message": { "text": text },
                "descriptor": { "id": "not-checked" },
                "properties": {
                    "facts": group.facts.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
                    "subjects": group.subjects,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpubom_inventory::Fact;

    fn about(fact: Fact, subject: &str, reason: &str) -> NotChecked {
        NotChecked {
            fact,
            subject: Some(subject.into()),
            reason: reason.into(),
        }
    }

    fn items() -> Vec<NotChecked> {
        let mut items: Vec<NotChecked> =
            NotChecked::image_config("this SBOM records no image config").collect();
        items.push(NotChecked::image(
            Fact::Signatures,
            "a docker-archive carries none; scan the pushed reference",
        ));
        for name in ["a", "b", "c", "d", "e"] {
            items.push(about(Fact::Advisories, name, "its version is unknown"));
        }
        items
    }

    #[test]
    fn one_line_per_reason_naming_a_few_subjects() {
        assert_eq!(
            text(&items(), false),
            "Not checked (a PASS does not cover these):\n\
             \x20 user, ports, labels: this SBOM records no image config\n\
             \x20 signatures: a docker-archive carries none; scan the pushed reference\n\
             \x20 advisories (5: a, b, c, and 2 more): its version is unknown\n"
        );
        assert_eq!(text(&[], false), "");
        assert_eq!(markdown(&[]), "");
        assert_eq!(sarif_notifications(&items()).len(), 3);
    }

    #[test]
    fn strings_from_an_sbom_are_escaped() {
        let hostile = [about(
            Fact::Advisories,
            "x\x1b[2J | [link](http://e.example) `y`",
            "<img src=x>\nnext",
        )];
        let line = text(&hostile, false);
        assert!(!line.contains('\x1b') && line.contains("\\x1b"), "{line}");
        let md = markdown(&hostile);
        for raw in ["](", ": <img", "| [", "`y`"] {
            assert!(!md.contains(raw), "{raw} in {md}");
        }
        for escaped in [r"\<img src\=x\>", r"\[link\]\(http\:\/\/e\.example\)"] {
            assert!(md.contains(escaped), "no {escaped} in {md}");
        }
        assert_eq!(
            md.lines().filter(|l| l.starts_with("- ")).count(),
            1,
            "{md}"
        );
    }
}
