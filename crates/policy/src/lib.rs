//! The gate: Cedar policies evaluated over a gpubom inventory.
//!
//! [`Pack::load`] reads the rule pack (the default pack in `policies/`,
//! embedded, plus the user's files) and validates every file against
//! `schemas/gpubom.cedarschema` before anything runs. [`evaluate`] turns the
//! inventory into entities (an `Org` principal holding the configuration's
//! values, the `Image`, each `Component` and `Model`), asks Cedar one
//! question per entity, and reports each deciding `forbid` as a [`Finding`].
//! Waivers then suppress findings until they expire; an expired waiver is a
//! finding itself. [`report`] renders findings as text, JSON, SARIF or
//! Markdown.

pub mod config;
mod entities;
mod pack;
pub mod report;
pub mod test_runner;

pub use config::Config;
pub use entities::{Subject, Version};
pub use pack::{Pack, Rule, DEFAULT_PACK, SCHEMA};

use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, Request};
use gpubom_inventory::Inventory;
use serde::Serialize;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl FromStr for Severity {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(()),
        }
    }
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A policy that does not parse or does not match the schema (file:line:col).
    #[error("{0}")]
    Policy(String),
    /// A policy file, configuration or fixture that cannot be used.
    #[error("{0}")]
    Load(String),
    /// Cedar could not evaluate a request: no decision can be trusted.
    #[error("cannot evaluate: {0}")]
    Evaluation(String),
}

/// One deciding `forbid`, about one entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub remediation: String,
    pub subject: Subject,
    /// The reason of the waiver that suppressed it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<String>,
}

/// Evaluates `pack` over `inventory`. `today` (`YYYY-MM-DD`) decides which waivers have expired.
pub fn evaluate(
    pack: &Pack,
    inventory: &Inventory,
    config: &Config,
    today: &str,
) -> Result<Vec<Finding>, Error> {
    for waiver in &config.waivers {
        if !pack.rules.contains_key(&waiver.rule) {
            return Err(Error::Load(format!(
                "waiver for unknown rule {:?}; the rules are: {}",
                waiver.rule,
                pack.rules.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let built = entities::build(inventory);
    let mut json: Vec<serde_json::Value> = built.iter().map(|b| b.json.clone()).collect();
    json.push(entities::org(config));
    let entities = Entities::from_json_value(serde_json::Value::Array(json), Some(&pack.schema))
        .map_err(|e| Error::Evaluation(format!("the inventory does not fit the schema: {e}")))?;
    let principal = euid(&entities::uid("Org", "config"))?;
    let authorizer = Authorizer::new();
    let mut findings = Vec::new();
    for entity in &built {
        let action = euid(&serde_json::json!({ "type": "Gpubom::Action", "id": entity.action }))?;
        let request = Request::new(
            principal.clone(),
            action,
            euid(&entity.uid)?,
            Context::empty(),
            Some(&pack.schema),
        )
        .map_err(|e| Error::Evaluation(e.to_string()))?;
        let response = authorizer.is_authorized(&request, &pack.set, &entities);
        if let Some(error) = response.diagnostics().errors().next() {
            return Err(Error::Evaluation(format!(
                "{} for {}",
                error, entity.subject.name
            )));
        }
        if response.decision() == Decision::Deny {
            for id in response.diagnostics().reason() {
                if let Some(rule) = pack.rules.get(&id.to_string()) {
                    findings.push(Finding {
                        rule: rule.id.clone(),
                        severity: rule.severity,
                        message: rule.message.clone(),
                        remediation: rule.remediation.clone(),
                        subject: entity.subject.clone(),
                        waived: None,
                    });
                }
            }
        }
    }
    apply_waivers(&mut findings, config, today);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.subject.name.cmp(&b.subject.name))
            .then_with(|| a.subject.path.cmp(&b.subject.path))
    });
    Ok(findings)
}

fn euid(json: &serde_json::Value) -> Result<EntityUid, Error> {
    EntityUid::from_json(json.clone()).map_err(|e| Error::Evaluation(e.to_string()))
}

/// Marks findings a live waiver covers; an expired waiver becomes a finding of its own.
fn apply_waivers(findings: &mut Vec<Finding>, config: &Config, today: &str) {
    let mut expired = Vec::new();
    for finding in findings.iter_mut() {
        for waiver in config.waivers.iter().filter(|w| w.rule == finding.rule) {
            let target = [
                Some(finding.subject.name.as_str()),
                finding.subject.path.as_deref(),
            ];
            if !target
                .iter()
                .flatten()
                .any(|t| config::glob_match(&waiver.pattern, t))
            {
                continue;
            }
            if waiver.expires.as_str() >= today {
                finding.waived = Some(waiver.reason.clone());
            } else if !expired.contains(waiver) {
                expired.push(waiver.clone());
            }
        }
    }
    for waiver in expired {
        findings.push(Finding {
            rule: "waiver-expired".into(),
            severity: Severity::Medium,
            message: format!(
                "the waiver for {} matching {:?} expired on {} ({})",
                waiver.rule, waiver.pattern, waiver.expires, waiver.reason
            ),
            remediation: "fix what the rule reports, or renew the waiver with a new expiry date"
                .into(),
            subject: Subject {
                kind: "waiver".into(),
                name: waiver.rule.clone(),
                version: None,
                path: None,
                layer: None,
                layer_created_by: None,
            },
            waived: None,
        });
    }
}

/// Findings that count against `fail_on`: not waived, at or above it.
pub fn failing(findings: &[Finding], fail_on: Severity) -> usize {
    findings
        .iter()
        .filter(|f| f.waived.is_none() && f.severity >= fail_on)
        .count()
}
