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

use crate::pack::Rule;
use crate::{Config, Error, Finding, Severity, Subject};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One `[[waivers]]` entry of `.gpubom.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub rule: String,
    /// A glob (`*` matches any run of characters) on the subject's name,
    /// identity or path.
    #[serde(rename = "match")]
    pub pattern: String,
    pub reason: String,
    /// `YYYY-MM-DD`; the waiver stops applying after this day.
    pub expires: String,
    /// The sha256 (hex) of the file the waiver is for: it then covers only a
    /// subject with those bytes.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// `[waiver_limits]`: what the organisation lets a waiver do. (Not
/// `[waivers]`: in TOML that name is already the array of `[[waivers]]`.)
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WaiverLimits {
    /// The most days from the day of the check to a waiver's `expires`.
    pub max_days: Option<u32>,
    /// Whether a `match` may cover every subject (`*`, `/*`, `**`).
    pub allow_wildcards: bool,
}

/// The waiver a finding was waived by, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waived {
    pub reason: String,
    pub expires: String,
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Waiver {
    /// How errors name it: `the waiver for RULE matching "PATTERN"`.
    fn describe(&self) -> String {
        format!("the waiver for {} matching {:?}", self.rule, self.pattern)
    }

    fn waived(&self) -> Waived {
        Waived {
            reason: self.reason.clone(),
            expires: self.expires.clone(),
            pattern: self.pattern.clone(),
            sha256: self.sha256.clone(),
        }
    }
}

/// What can be checked of the waivers as written, without the rule pack or
/// the date: called when the configuration is parsed. `sha256` is normalised
/// to lower-case hex.
pub(crate) fn check_written(waivers: &mut [Waiver], limits: &WaiverLimits) -> Result<(), String> {
    for waiver in waivers {
        let name = waiver.describe();
        if !gpubom_inventory::time::is_date(&waiver.expires) {
            return Err(format!(
                "{name} has expires = {:?}, which is not a date; write a real day as YYYY-MM-DD",
                waiver.expires
            ));
        }
        if waiver.reason.trim().is_empty() {
            return Err(format!(
                "{name} gives no reason; say why the finding is accepted"
            ));
        }
        if is_wildcard(&waiver.pattern) && !limits.allow_wildcards {
            return Err(format!(
                "{name} covers every subject; name the image, component or path it is for \
                 (or allow it with [waiver_limits] allow_wildcards = true)"
            ));
        }
        if let Some(pin) = &mut waiver.sha256 {
            let written = pin.as_str();
            let hex = written
                .strip_prefix("sha256:")
                .unwrap_or(written)
                .to_ascii_lowercase();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "{name} has sha256 = {pin:?}; write the file's 64 hex digits (sha256sum)"
                ));
            }
            *pin = hex;
        }
    }
    Ok(())
}

/// A `match` that no subject can fail: nothing in it but `*` and `/`.
fn is_wildcard(pattern: &str) -> bool {
    pattern.chars().all(|c| c == '*' || c == '/')
}

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

/// `*` matches any run of characters (including `/`); everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("/models/*.onnx", "/models/a/b.onnx"));
        assert!(!glob_match("/models/*.onnx", "/models/a.pt"));
        assert!(glob_match("torch", "torch"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxcyyb"));
    }

    fn written(waiver: &str, limits: &WaiverLimits) -> Result<Vec<Waiver>, String> {
        #[derive(Deserialize)]
        struct Doc {
            waivers: Vec<Waiver>,
        }
        let mut doc: Doc = toml::from_str(waiver).map_err(|e| e.to_string())?;
        check_written(&mut doc.waivers, limits).map(|()| doc.waivers)
    }

    const BASE: &str = "[[waivers]]\nrule = \"unsafe-pickle\"\nreason = \"vendor model\"\n";

    #[test]
    fn only_real_days_expire() {
        let limits = WaiverLimits::default();
        let at = |date: &str| {
            written(
                &format!("{BASE}match = \"/m/x.pkl\"\nexpires = \"{date}\"\n"),
                &limits,
            )
        };
        assert!(at("2028-02-29").is_ok());
        for bad in ["2027-02-30", "2027-13-01", "soon", "2027-2-01"] {
            let err = at(bad).unwrap_err();
            assert!(
                err.contains("the waiver for unsafe-pickle matching \"/m/x.pkl\"")
                    && err.contains(bad),
                "{err}"
            );
        }
    }

    #[test]
    fn wildcards_need_the_organisation_s_leave() {
        let wild = |pattern: &str, limits: &WaiverLimits| {
            written(
                &format!("{BASE}match = \"{pattern}\"\nexpires = \"2027-01-01\"\n"),
                limits,
            )
        };
        for pattern in ["*", "**", "/*", "*/*", ""] {
            let err = wild(pattern, &WaiverLimits::default()).unwrap_err();
            assert!(err.contains("covers every subject"), "{pattern}: {err}");
            let allowed = WaiverLimits {
                allow_wildcards: true,
                ..Default::default()
            };
            assert!(wild(pattern, &allowed).is_ok(), "{pattern}");
        }
        for narrow in ["/models/*.pkl", "example.com/*", "torch"] {
            assert!(wild(narrow, &WaiverLimits::default()).is_ok(), "{narrow}");
        }
    }

    #[test]
    fn a_pin_is_a_sha256_and_a_reason_is_required() {
        let limits = WaiverLimits::default();
        let pinned = |pin: &str| {
            written(
                &format!(
                    "{BASE}match = \"/m/x.pkl\"\nexpires = \"2027-01-01\"\nsha256 = \"{pin}\"\n"
                ),
                &limits,
            )
        };
        let hex = "AB".repeat(32);
        let ok = pinned(&format!("sha256:{hex}")).unwrap();
        assert_eq!(ok[0].sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert!(pinned("abc").unwrap_err().contains("64 hex digits"));
        let unreasoned = written(
            "[[waivers]]\nrule = \"r\"\nmatch = \"x\"\nreason = \" \"\nexpires = \"2027-01-01\"\n",
            &limits,
        );
        assert!(unreasoned.unwrap_err().contains("no reason"));
    }
}
