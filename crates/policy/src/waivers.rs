//! Waivers: findings the organisation accepts for a while, with a reason.
//!
//! A waiver turns a failing gate green, so an auditor must be able to trust
//! each one to mean exactly what it says. Everything that could make it mean
//! more is refused before anything is evaluated: a date that does not exist,
//! a rule that does not exist (or is disabled), an expiry further away than
//! `[waiver_limits] max_days`, a `match` that covers every subject unless the
//! organisation allows wildcards, a malformed `sha256`. A waiver that pins
//! `sha256` covers only a subject with those bytes, so a different file at
//! the waived path is judged again. Waived findings stay in every report,
//! with the waiver's reason and expiry; an expired waiver is itself a finding.
//!
//! A waiver as written, and the checks that need nothing but it, live in the
//! private `waiver` module (the configuration parses them); here are the
//! checks against the pack and the day, and the waiving itself.

use crate::pack::Rule;
pub use crate::waiver::{glob_match, Waived, Waiver, WaiverLimits};
use crate::{Config, Error, Finding, Severity, Subject};
use std::collections::BTreeMap;

/// What needs the rule pack and the day: every waiver names a rule the pack
/// has, and none reaches further than `[waiver_limits] max_days` from `today`.
pub fn check_against(
    config: &Config,
    rules: &BTreeMap<String, Rule>,
    today: &str,
) -> Result<(), Error> {
    for waiver in &config.waivers {
        let name = match config.origin.as_str() {
            "" => waiver.describe(),
            origin => format!("{origin}: {}", waiver.describe()),
        };
        if !rules.contains_key(&waiver.rule) {
            let why = if config.rules.disable.contains(&waiver.rule) {
                "which [rules] disable turns off; remove the waiver".to_string()
            } else {
                format!(
                    "which is no rule; the rules are: {}",
                    rules.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            return Err(Error::Load(format!(
                "{name} waives {:?}, {why}",
                waiver.rule
            )));
        }
        let Some(max_days) = config.waiver_limits.max_days else {
            continue;
        };
        let days = gpubom_inventory::time::days_between(today, &waiver.expires).unwrap_or(0);
        if days > i64::from(max_days) {
            return Err(Error::Load(format!(
                "{name} expires on {}, {days} days from today ({today}); \
                 [waiver_limits] max_days allows {max_days}",
                waiver.expires
            )));
        }
    }
    Ok(())
}

/// The rule behind `waiver-expired` findings: no policy, but reports (SARIF)
/// describe every result's rule.
pub(crate) fn waiver_expired_rule() -> Rule {
    Rule {
        id: "waiver-expired".into(),
        severity: Severity::Medium,
        message: "a waiver in .gpubom.toml has expired".into(),
        remediation: "fix what the rule reports, or renew the waiver with a new expiry date".into(),
        file: ".gpubom.toml".into(),
        line: 1,
        builtin: true,
    }
}

/// Marks findings a live waiver covers; an expired waiver becomes a finding of its own.
pub(crate) fn apply(findings: &mut Vec<Finding>, config: &Config, today: &str) {
    let mut expired = Vec::new();
    for finding in findings.iter_mut() {
        for waiver in config.waivers.iter().filter(|w| w.rule == finding.rule) {
            if !covers(waiver, finding) {
                continue;
            }
            if waiver.expires.as_str() >= today {
                finding.waived = Some(waiver.waived());
            } else if !expired.contains(waiver) {
                expired.push(waiver.clone());
            }
        }
    }
    let rule = waiver_expired_rule();
    for waiver in expired {
        let mut evidence = BTreeMap::from([
            ("waiver.match".to_string(), waiver.pattern.clone()),
            ("waiver.expires".to_string(), waiver.expires.clone()),
            ("waiver.reason".to_string(), waiver.reason.clone()),
        ]);
        if let Some(pin) = &waiver.sha256 {
            evidence.insert("waiver.sha256".into(), pin.clone());
        }
        findings.push(Finding {
            rule: rule.id.clone(),
            severity: rule.severity,
            message: format!(
                "{} expired on {} ({})",
                waiver.describe(),
                waiver.expires,
                waiver.reason
            ),
            remediation: rule.remediation.clone(),
            subject: Subject {
                kind: "waiver".into(),
                name: waiver.rule.clone(),
                identity: format!("{} {}", waiver.rule, waiver.pattern),
                version: None,
                path: None,
                sha256: waiver.sha256.clone(),
                layer: None,
                layer_created_by: None,
            },
            evidence,
            waived: None,
        });
    }
}

/// Whether `waiver` is about `finding`'s subject. An image is matched by its
/// reference with and without the digest, and by its repository, so one
/// waiver means the same for every form the image comes in (an OCI layout
/// knows its digest; a `docker save` archive does not). A pinned waiver also
/// needs the subject's bytes to be the pinned ones.
fn covers(waiver: &Waiver, finding: &Finding) -> bool {
    let subject = &finding.subject;
    if waiver.sha256.is_some() && subject.sha256 != waiver.sha256 {
        return false;
    }
    let undigested = subject.name.split('@').next();
    [
        Some(subject.name.as_str()),
        undigested,
        Some(subject.identity.as_str()),
        subject.path.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|target| glob_match(&waiver.pattern, target))
}

/// Waivers that covered no finding: left over after a fix, or mistyped.
pub fn unused_waivers<'a>(findings: &[Finding], config: &'a Config) -> Vec<&'a Waiver> {
    config
        .waivers
        .iter()
        .filter(|w| !findings.iter().any(|f| f.rule == w.rule && covers(w, f)))
        .collect()
}
