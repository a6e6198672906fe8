//! The gate: Cedar policies evaluated over a gpubom inventory.
//!
//! [`Pack::load`] reads the rule pack (the default pack in `policies/`,
//! embedded, plus the user's files) and validates every file against
//! `schemas/gpubom.cedarschema` before anything runs. [`evaluate`] turns the
//! inventory into entities (an `Org` principal holding the configuration's
//! values, the `Image`, each `Component` and `Model`), asks Cedar one
//! question per entity, and reports each deciding `forbid` as a [`Finding`].
//! [`waivers`] then suppress findings until they expire; an expired waiver is
//! a finding itself. [`report`] renders findings as text, JSON, SARIF or
//! Markdown.

mod bounds;
pub mod config;
mod entities;
pub mod fleet;
mod message;
pub mod org;
mod pack;
mod placeholders;
pub mod report;
mod schema;
pub mod test_runner;
mod version;
mod waiver;
pub mod waivers;

pub use bounds::{MAX_POLICY_FILE_BYTES, MAX_POLICY_NESTING, MAX_POLICY_OPERATORS};
pub use config::Config;
pub use entities::{reference, Subject};
pub use gpubom_inventory::Severity;
pub use pack::{schema_text, Pack, Rule, DEFAULT_PACK};
pub use schema::SCHEMA;
pub use version::Version;
pub(crate) use waivers::waiver_expired_rule;
pub use waivers::{unused_waivers, Waived};

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
    /// The waiver that suppressed it (reason, expiry, match), when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<Waived>,
}

/// The NVIDIA families the schema's `Family` enum lists (besides `none` and `other`).
pub fn families() -> Vec<String> {
    schema::enums(SCHEMA)
        .remove("Family")
        .unwrap_or_default()
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
    waivers::check_against(config, &pack.rules, today)?;
    let principal = euid(&entities::uid("Org", "config"))?;
    let org_json = entities::org(config, &pack.org_declared);
    let org = to_entity(&org_json)?;
    let authorizer = Authorizer::new();
    let mut findings = Vec::new();
    // Every entity of a type comes from the same builder, so the first of each type checked
    // against the schema vouches for the rest; checking all 10,000 components of a large
    // image would cost most of the evaluation.
    let mut types_checked = HashSet::new();
    for entity in entities::build(inventory, &config.fleet) {
        let entity_type = entity.uid["type"].as_str().unwrap_or_default().to_string();
        if types_checked.insert(entity_type) {
            let sample = serde_json::Value::Array(vec![org_json.clone(), entity.json.clone()]);
            Entities::from_json_value(sample, Some(&pack.schema)).map_err(|e| {
                Error::Evaluation(format!("the inventory does not fit the schema: {e}"))
            })?;
        }
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
                    let scope = message::Scope {
                        resource: &entity.json["attrs"],
                        principal: &org_json["attrs"],
                    };
                    let message = message::interpolate(&rule.message, &scope);
                    let remediation = message::interpolate(&rule.remediation, &scope);
                    let mut evidence = message.evidence;
                    evidence.extend(remediation.evidence);
                    findings.push(Finding {
                        rule: rule.id.clone(),
                        severity: rule.severity,
                        message: message.text,
                        remediation: remediation.text,
                        subject: entity.subject.clone(),
                        evidence,
                        waived: None,
                    });
                }
            }
        }
    }
    waivers::apply(&mut findings, config, today);
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
