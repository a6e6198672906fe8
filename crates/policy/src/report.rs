//! Findings for people and machines: text (grouped by severity), JSON,
//! SARIF 2.1.0 (GitHub code scanning) and Markdown (job summaries). Each ends
//! with what was not checked ([`not_checked`]).

mod dockerfile;
mod not_checked;
mod waived;

pub use dockerfile::MAX_DOCKERFILE_BYTES;

use crate::{Finding, Rule, Severity};
use dockerfile::DockerfileIndex;
use gpubom_inventory::text::{for_terminal, markdown};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text { colour: bool },
    Json,
    Sarif,
    Markdown,
}

/// What a report is about, and where SARIF results should point.
pub struct Context<'a> {
    /// The image reference or SBOM path that was checked.
    pub target: &'a str,
    pub rules: &'a BTreeMap<String, Rule>,
    /// `None` reports without failing (`--fail-on none`).
    pub fail_on: Option<Severity>,
    pub tool_version: &'a str,
    /// A Dockerfile (path as it should appear in SARIF, and its text).
    pub dockerfile: Option<(&'a str, &'a str)>,
    /// The facts that could not be established ([`crate::not_checked`]).
    pub not_checked: &'a [gpubom_inventory::NotChecked],
}

pub fn render(findings: &[Finding], format: Format, ctx: &Context) -> String {
    match format {
        Format::Text { colour } => text(findings, ctx, colour),
        Format::Json => json(findings, ctx),
        Format::Sarif => sarif(findings, ctx),
        Format::Markdown => markdown(findings, ctx),
    }
}

fn describe(f: &Finding) -> String {
    let s = &f.subject;
    let mut out = match (&s.version, s.kind.as_str()) {
        (Some(v), _) => format!("{} {v}", s.name),
        (None, _) => s.name.clone(),
    };
    if let Some(path) = &s.path {
        out.push_str(&format!(" at {path}"));
    }
    if let Some(layer) = s.layer {
        out.push_str(&format!(" (layer {layer}"));
        if let Some(by) = &s.layer_created_by {
            out.push_str(&format!(": {}", truncate(by, 80)));
        }
        out.push(')');
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn text(findings: &[Finding], ctx: &Context, colour: bool) -> String {
    let paint = |code: &str, s: &str| {
        if colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let active: Vec<&Finding> = findings.iter().filter(|f| f.waived.is_none()).collect();
    for severity in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let group: Vec<&&Finding> = active.iter().filter(|f| f.severity == severity).collect();
        if group.is_empty() {
            continue;
        }
        let code = match severity {
            Severity::Critical | Severity::High => "1;31",
            Severity::Medium => "1;33",
            Severity::Low => "1;34",
        };
        let _ = writeln!(
            out,
            "{}",
            paint(
                code,
                &format!("{} ({})", severity.as_str().to_uppercase(), group.len())
            )
        );
        for f in group {
            // Messages, names and paths come from the image, rules from the
            // repository: each line is escaped before it reaches a terminal or a job log.
            let finding = format!("  [{}] {}: {}", f.rule, f.message, describe(f));
            let _ = writeln!(out, "{}", for_terminal(&finding));
            let fix = format!("      fix: {}", f.remediation);
            let _ = writeln!(out, "{}", for_terminal(&fix));
        }
    }
    waived::text(&mut out, findings);
    let waived = findings.len() - active.len();
    let failing = crate::failing(findings, ctx.fail_on);
    let verdict = match ctx.fail_on {
        None => paint("1;36", "REPORT ONLY (--fail-on none)"),
        Some(at) if failing > 0 => paint(
            "1;31",
            &format!("FAIL: {failing} finding(s) at or above {}", at.as_str()),
        ),
        Some(at) => paint(
            "1;32",
            &format!("PASS: nothing at or above {}", at.as_str()),
        ),
    };
    let _ = writeln!(
        out,
        "{verdict} — {} finding(s), {waived} waived, {} rule(s) checked on {}",
        active.len(),
        ctx.rules.len(),
        for_terminal(ctx.target)
    );
    out.push_str(&not_checked::text(ctx.not_checked, colour));
    out
}

/// The JSON report: `{ target, fail_on, failing, findings: [Finding…] }` (shape in policies/README.md).
fn json(findings: &[Finding], ctx: &Context) -> String {
    let doc = json!({
        "target": ctx.target,
        "fail_on": threshold(ctx),
        "failing": crate::failing(findings, ctx.fail_on),
        "findings": findings,
        "not_checked": not_checked::json(ctx.not_checked),
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The `--fail-on` threshold as written: a severity, or `none`.
fn threshold(ctx: &Context) -> &'static str {
    ctx.fail_on.map_or("none", Severity::as_str)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` scale (0–10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// The Dockerfile line a finding is best shown against.
fn dockerfile_line(f: &Finding, dockerfile: &DockerfileIndex) -> usize {
    let needle = match f.rule.as_str() {
        r if r.ends_with("-port-exposed") || r == "port-not-allowed" => Some("EXPOSE".to_string()),
        "image-runs-as-root" => Some("USER".to_string()),
        "missing-source-labels" => Some("LABEL".to_string()),
        _ => f.subject.layer_created_by.as_deref().map(|c| {
            let c = c
                .trim_start_matches("/bin/sh -c ")
                .trim_start_matches("#(nop) ")
                .trim();
            c.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
        }),
    };
    needle
        .as_deref()
        .and_then(|n| dockerfile.line_of(n))
        .or_else(|| dockerfile.line_of("FROM"))
        .unwrap_or(1)
}

fn sarif(findings: &[Finding], ctx: &Context) -> String {
    let waiver_rule = crate::waiver_expired_rule();
    let all_rules: Vec<&Rule> = ctx
        .rules
        .values()
        .chain(std::iter::once(&waiver_rule))
        .collect();
    let rules: Vec<serde_json::Value> = all_rules
        .iter()
        .map(|r| {
            let description = crate::message::without_placeholders(&r.message);
            let help = crate::message::without_placeholders(&r.remediation);
            json!({
                "id": r.id,
                "name": pascal_case(&r.id),
                "shortDescription": { "text": description },
                "fullDescription": { "text": description },
                "help": { "text": help, "markdown": format!("**Fix:** {}", markdown::text(&help)) },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": { "security-severity": security_severity(r.severity), "tags": ["security", "gpubom"] },
            })
        })
        .collect();
    let dockerfile = ctx
        .dockerfile
        .map(|(path, text)| (artifact_uri(path), DockerfileIndex::new(text)));
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let (uri, line) = match &dockerfile {
                Some((uri, index)) => (uri.clone(), dockerfile_line(f, index)),
                None => (artifact_uri(ctx.target), 1),
            };
            let logical = json!({
                "name": f.subject.name,
                "fullyQualifiedName": f.subject.path.clone().unwrap_or_else(|| f.subject.name.clone()),
                "kind": f.subject.kind,
            });
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": { "text": format!("{}: {}", f.message, describe(f)) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": uri }, "region": { "startLine": line } },
                    "logicalLocations": [logical],
                }],
                // What the finding is about, never a digest: a rebuild of the
                // same image must not reopen every alert.
                "partialFingerprints": {
                    "gpubom/v2": format!("{}|{}|{}", f.rule, f.subject.identity, f.subject.path.clone().unwrap_or_default()),
                },
            });
            if !f.evidence.is_empty() {
                result["properties"] = json!({ "evidence": f.evidence });
            }
            if let Some(waiver) = &f.waived {
                result["suppressions"] = waived::sarif_suppression(waiver);
            }
            if let Some(i) = all_rules.iter().position(|r| r.id == f.rule) {
                result["ruleIndex"] = json!(i);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "gpubom",
                "version": ctx.tool_version,
                "informationUri": "https://github.com/gpubom/gpubom",
                "rules": rules,
            }},
            "results": results,
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": not_checked::sarif_notifications(ctx.not_checked),
            }],
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// SARIF wants the rule's `name` readable and different from its `id`.
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A relative path stays relative (GitHub resolves it against the repository);
/// an absolute one becomes a `file://` URI.
fn artifact_uri(path: &str) -> String {
    let encoded = path.replace('%', "%25").replace(' ', "%20");
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

fn markdown(findings: &[Finding], ctx: &Context) -> String {
    markdown_findings(findings, ctx) + &not_checked::markdown(ctx.not_checked)
}

fn markdown_findings(findings: &[Finding], ctx: &Context) -> String {
    let failing = crate::failing(findings, ctx.fail_on);
    let mut out = String::new();
    let status = match ctx.fail_on {
        None => "ℹ️ **REPORT ONLY**",
        Some(_) if failing > 0 => "❌ **FAIL**",
        Some(_) => "✅ **PASS**",
    };
    let _ = writeln!(out, "### gpubom check: {status}\n");
    // Only the lines above are block-level Markdown, and only gpubom writes them:
    // everything from the image or the repository goes through `markdown`.
    let _ = writeln!(
        out,
        "{} — {failing} finding(s) at or above **{}**, {} in all.\n",
        markdown::code(ctx.target),
        threshold(ctx),
        findings.len()
    );
    let active: Vec<&Finding> = findings.iter().filter(|f| f.waived.is_none()).collect();
    if !active.is_empty() {
        let _ = writeln!(
            out,
            "| Severity | Rule | Finding | Fix |\n|---|---|---|---|"
        );
    }
    for f in active {
        let _ = writeln!(
            out,
            "| {} | {} | {}: {} | {} |",
            f.severity.as_str(),
            markdown::code(&f.rule),
            markdown::text(&f.message),
            markdown::text(&describe(f)),
            markdown::text(&f.remediation)
        );
    }
    waived::markdown(&mut out, findings);
    out
}
