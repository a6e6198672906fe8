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
pub mod fleet;
mod message;
pub mod org;
mod pack;
pub mod report;
pub mod test_runner;

pub use config::Config;
pub use entities::{reference, Subject, Version};
pub use gpubom_inventory::Severity;
pub use pack::{schema_text, Pack, Rule, DEFAULT_PACK, SCHEMA};

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityUid, Request, RestrictedExpression,
};
use gpubom_inventory::{Fact, Inventory, NotChecked};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

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
    /// What triggered it: each value the rule's message names (the port, the
    /// missing label, the version and the threshold), by placeholder.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub evidence: std::collections::BTreeMap<String, String>,
    /// The reason of the waiver that suppressed it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<String>,
}

/// The NVIDIA families the schema's `Family` enum lists (besides `none` and `other`).
pub fn families() -> Vec<String> {
    entities::listed_families(SCHEMA)
        .into_iter()
        .filter(|f| f != "none" && f != "other")
        .collect()
}

/// Everything a check of `inventory` under `config` could not establish: what
/// the inventory declares, and what the configuration leaves undecided (no
/// `[fleet]`). Without fleet GPUs no component's architectures are judged, and
/// one line says so for all of them.
pub fn not_checked(inventory: &Inventory, config: &Config) -> Vec<NotChecked> {
    let fleet = config.fleet.not_checked(inventory);
    let no_gpus = fleet.iter().any(|i| i.fact == Fact::GpuArchitectures);
    inventory
        .not_checked
        .iter()
        .filter(|i| !(no_gpus && i.fact == Fact::GpuArchitectures))
        .cloned()
        .chain(fleet)
        .collect()
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
    let built = entities::build(inventory, &config.fleet);
    let mut json: Vec<serde_json::Value> = built.iter().map(|b| b.json.clone()).collect();
    json.push(entities::org(config, &pack.org_declared));
    // Every entity of a type comes from the same builder, so one of each type
    // checked against the schema vouches for the rest; checking all 10,000
    // components of a large image would cost most of the evaluation.
    let mut seen = std::collections::HashSet::new();
    let samples: Vec<serde_json::Value> = json
        .iter()
        .filter(|e| seen.insert(e["uid"]["type"].as_str().unwrap_or_default().to_string()))
        .cloned()
        .collect();
    Entities::from_json_value(serde_json::Value::Array(samples), Some(&pack.schema))
        .map_err(|e| Error::Evaluation(format!("the inventory does not fit the schema: {e}")))?;
    let principal = euid(&entities::uid("Org", "config"))?;
    let org_json = entities::org(config, &pack.org_declared);
    let org = to_entity(&org_json)?;
    let authorizer = Authorizer::new();
    let mut findings = Vec::new();
    for entity in &built {
        // …then each request sees only its resource and the Org: no rule reaches
        // another entity (there is no hierarchy), and Cedar's cost grows with the store.
        let resource_uid = euid(&entity.uid)?;
        let resource = to_entity(&entity.json)?;
        let entities = Entities::from_entities([org.clone(), resource], None)
            .map_err(|e| Error::Evaluation(e.to_string()))?;
        let action = euid(&serde_json::json!({ "type": "Gpubom::Action", "id": entity.action }))?;
        // Entities and actions were checked against the schema above; per request it only costs.
        let request = Request::new(
            principal.clone(),
            action,
            resource_uid,
            Context::empty(),
            None,
        )
        .map_err(|e| Error::Evaluation(e.to_string()))?;
        let policies = pack.sets.get(entity.action).ok_or_else(|| {
            Error::Evaluation(format!("no policy set for action {}", entity.action))
        })?;
        let response = authorizer.is_authorized(&request, policies, &entities);
        if let Some(error) = response.diagnostics().errors().next() {
            return Err(Error::Evaluation(format!(
                "{} for {}",
                error, entity.subject.name
            )));
        }
        if response.decision() == Decision::Deny {
            for id in response.diagnostics().reason() {
                if let Some(rule) = pack.rules.get(&id.to_string()) {
                    let rendered = message::interpolate(
                        &rule.message,
                        &message::Scope {
                            resource: &entity.json["attrs"],
                            principal: &org_json["attrs"],
                        },
                    );
                    findings.push(Finding {
                        rule: rule.id.clone(),
                        severity: rule.severity,
                        message: rendered.text,
                        remediation: rule.remediation.clone(),
                        subject: entity.subject.clone(),
                        evidence: rendered.evidence,
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

/// Builds an entity through Cedar's API: parsing JSON entities costs most of a large check.
fn to_entity(json: &serde_json::Value) -> Result<Entity, Error> {
    let attrs: HashMap<String, RestrictedExpression> = json["attrs"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| Ok((k.clone(), expression(v)?)))
                .collect::<Result<_, Error>>()
        })
        .transpose()?
        .unwrap_or_default();
    Entity::new(euid(&json["uid"])?, attrs, HashSet::new())
        .map_err(|e| Error::Evaluation(e.to_string()))
}

fn expression(v: &serde_json::Value) -> Result<RestrictedExpression, Error> {
    use serde_json::Value;
    Ok(match v {
        Value::String(s) => RestrictedExpression::new_string(s.clone()),
        Value::Number(n) => RestrictedExpression::new_long(n.as_i64().unwrap_or(i64::MAX)),
        Value::Bool(b) => RestrictedExpression::new_bool(*b),
        Value::Array(items) => RestrictedExpression::new_set(
            items
                .iter()
                .map(expression)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        // An entity reference (a `Family` enum member).
        Value::Object(fields) if fields.contains_key("__entity") => {
            RestrictedExpression::new_entity_uid(euid(&fields["__entity"])?)
        }
        Value::Object(fields) => RestrictedExpression::new_record(
            fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), expression(v)?)))
                .collect::<Result<Vec<_>, Error>>()?,
        )
        .map_err(|e| Error::Evaluation(e.to_string()))?,
        Value::Null => return Err(Error::Evaluation("null attribute value".into())),
    })
}

fn euid(json: &serde_json::Value) -> Result<EntityUid, Error> {
    EntityUid::from_json(json.clone()).map_err(|e| Error::Evaluation(e.to_string()))
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
    }
}

/// Marks findings a live waiver covers; an expired waiver becomes a finding of its own.
fn apply_waivers(findings: &mut Vec<Finding>, config: &Config, today: &str) {
    let mut expired = Vec::new();
    for finding in findings.iter_mut() {
        for waiver in config.waivers.iter().filter(|w| w.rule == finding.rule) {
            if !covers(waiver, finding) {
                continue;
            }
            if waiver.expires.as_str() >= today {
                finding.waived = Some(waiver.reason.clone());
            } else if !expired.contains(waiver) {
                expired.push(waiver.clone());
            }
        }
    }
    let rule = waiver_expired_rule();
    for waiver in expired {
        findings.push(Finding {
            rule: rule.id.clone(),
            severity: rule.severity,
            message: format!(
                "the waiver for {} matching {:?} expired on {} ({})",
                waiver.rule, waiver.pattern, waiver.expires, waiver.reason
            ),
            remediation: rule.remediation.clone(),
            subject: Subject {
                kind: "waiver".into(),
                name: waiver.rule.clone(),
                identity: format!("{} {}", waiver.rule, waiver.pattern),
                version: None,
                path: None,
                layer: None,
                layer_created_by: None,
            },
            evidence: [
                ("waiver.match", &waiver.pattern),
                ("waiver.expires", &waiver.expires),
                ("waiver.reason", &waiver.reason),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
            waived: None,
        });
    }
}

/// Whether `waiver` is about `finding`'s subject. An image is matched by its
/// reference with and without the digest, and by its repository, so one
/// waiver means the same for every form the image comes in (an OCI layout
/// knows its digest; a `docker save` archive does not).
fn covers(waiver: &config::Waiver, finding: &Finding) -> bool {
    let subject = &finding.subject;
    let undigested = subject.name.split('@').next();
    [
        Some(subject.name.as_str()),
        undigested,
        Some(subject.identity.as_str()),
        subject.path.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|target| config::glob_match(&waiver.pattern, target))
}

/// Waivers that covered no finding: left over after a fix, or mistyped.
pub fn unused_waivers<'a>(findings: &[Finding], config: &'a Config) -> Vec<&'a config::Waiver> {
    config
        .waivers
        .iter()
        .filter(|w| !findings.iter().any(|f| f.rule == w.rule && covers(w, f)))
        .collect()
}

/// Findings that count against `fail_on`: not waived, at or above it. With
/// no threshold (`--fail-on none`) nothing fails.
pub fn failing(findings: &[Finding], fail_on: Option<Severity>) -> usize {
    let Some(fail_on) = fail_on else {
        return 0;
    };
    findings
        .iter()
        .filter(|f| f.waived.is_none() && f.severity >= fail_on)
        .count()
}
