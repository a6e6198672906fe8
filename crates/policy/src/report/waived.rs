//! The waived findings, in every report.
//!
//! A waiver turns a failing finding into a passing gate, so a report that
//! hides it hides a decision: each format lists what was waived, by which
//! rule, about what, why and until when. Names, paths and reasons reach a
//! terminal or a Markdown page only through the escaping the caller gives.

use super::describe;
use crate::{Finding, Waived};
use serde_json::{json, Value};
use std::fmt::Write;

fn waived(findings: &[Finding]) -> impl Iterator<Item = (&Finding, &Waived)> {
    findings
        .iter()
        .filter_map(|f| f.waived.as_ref().map(|w| (f, w)))
}

/// `WAIVED (n)` and one line per waived finding, after the active ones.
pub(super) fn text(out: &mut String, findings: &[Finding], escape: &dyn Fn(&str) -> String) {
    let count = waived(findings).count();
    if count == 0 {
        return;
    }
    let _ = writeln!(out, "WAIVED ({count})");
    for (f, w) in waived(findings) {
        let _ = writeln!(
            out,
            "  [{}] {}: waived until {}: {} (match {:?}{})",
            f.rule,
            escape(&describe(f)),
            w.expires,
            escape(&w.reason),
            escape(&w.pattern),
            pin(w),
        );
    }
}

/// A `Waived` section with its own table, after the findings.
pub(super) fn markdown(out: &mut String, findings: &[Finding], cell: &dyn Fn(&str) -> String) {
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
            "| `{}` | {}: {} | {} (match {}{}) | {} |",
            f.rule,
            cell(&f.message),
            cell(&describe(f)),
            cell(&w.reason),
            cell(&w.pattern),
            pin(w),
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
