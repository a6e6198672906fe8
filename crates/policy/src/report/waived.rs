//! The waived findings, in every report.
//!
//! A waiver turns a failing finding into a passing gate, so a report that
//! hides it hides a decision: each format lists what was waived, by which
//! rule, about what, why and until when. Names, paths and reasons reach a
//! terminal or a Markdown page only through the one escaper of each medium.

use super::describe;
use crate::{Finding, Waived};
use gpubom_inventory::text::{for_terminal, markdown};
use serde_json::{json, Value};
use std::fmt::Write;

fn waived(findings: &[Finding]) -> impl Iterator<Item = (&Finding, &Waived)> {
    findings
        .iter()
        .filter_map(|f| f.waived.as_ref().map(|w| (f, w)))
}

/// `WAIVED (n)` and one line per waived finding, after the active ones.
pub(super) fn text(out: &mut String, findings: &[Finding]) {
    let count = waived(findings).count();
    if count == 0 {
        return;
    }
    let _ = writeln!(out, "WAIVED ({count})");
    for (f, w) in waived(findings) {
        let line = format!(
            "  [{}] {}: waived until {}: {} (match {:?}{})",
            f.rule,
            describe(f),
            w.expires,
            w.reason,
            w.pattern,
            pin(w),
        );
        let _ = writeln!(out, "{}", for_terminal(&line));
    }
}

/// A `Waived` section with its own table, after the findings.
pub(super) fn markdown(out: &mut String, findings: &[Finding]) {
    let count = waived(findings).count();
    if count == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "\n**Waived ({count})**\n\n| Rule | Finding | Reason | Expires |\n|---|---|---|---|"
    );
    for (f, w) in waived(findings) {
        let _ = writeln!(
            out,
            "| {} | {}: {} | {} (match {}{}) | {} |",
            markdown::code(&f.rule),
            markdown::text(&f.message),
            markdown::text(&describe(f)),
            markdown::text(&w.reason),
            markdown::code(&w.pattern),
            markdown::text(&pin(w)),
            // A real YYYY-MM-DD: waivers are refused otherwise.
            w.expires
        );
    }
}

/// SARIF's suppression of a waived result, with the waiver's expiry and match.
pub(super) fn sarif_suppression(w: &Waived) -> Value {
    let mut properties = json!({ "expires": w.expires, "match": w.pattern });
    if let Some(pin) = &w.sha256 {
        properties["sha256"] = json!(pin);
    }
    json!([{
        "kind": "external",
        "status": "accepted",
        "justification": w.reason,
        "properties": properties,
    }])
}

fn pin(w: &Waived) -> String {
    w.sha256
        .as_deref()
        .map_or_else(String::new, |hex| format!(", sha256 {hex}"))
}
