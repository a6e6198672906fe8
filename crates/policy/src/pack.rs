//! Loading a rule pack: the default pack embedded in the binary, plus any
//! files or directories given with `--policy`.
//!
//! `PolicySet::from_str` names policies `policy0`, `policy1`…, ignoring
//! `@id`; every policy is therefore re-keyed by its `@id`, which must be
//! unique across all files. Each file is validated against the schema on
//! its own, so an error points at that file's line and column.
//!
//! Whatever could never work is refused here, not found out later: a
//! `permit` (the pack is forbid-only: gpubom permits everything else itself,
//! so a permit can never change a decision), a template, a comparison of an
//! enum attribute with a string (the error lists the values), and a
//! placeholder in `@message` or `@remediation` that the schema does not back.

use crate::bounds::line_col;
use crate::placeholders::{self, Shapes};
use crate::schema::{enums, SCHEMA};
use crate::{Config, Error, Severity};
use cedar_policy::{PolicyId, PolicySet, Schema, ValidationMode, Validator};
use miette::Diagnostic;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The default pack, one rule per file (see policies/README.md).
pub const DEFAULT_PACK: &[(&str, &str)] = &[
    (
        "image-runs-as-root.cedar",
        include_str!("../../../policies/image-runs-as-root.cedar"),
    ),
    (
        "ssh-port-exposed.cedar",
        include_str!("../../../policies/ssh-port-exposed.cedar"),
    ),
    (
        "jupyter-port-exposed.cedar",
        include_str!("../../../policies/jupyter-port-exposed.cedar"),
    ),
    (
        "tensorboard-port-exposed.cedar",
        include_str!("../../../policies/tensorboard-port-exposed.cedar"),
    ),
    (
        "distributed-training-port-exposed.cedar",
        include_str!("../../../policies/distributed-training-port-exposed.cedar"),
    ),
    (
        "port-not-allowed.cedar",
        include_str!("../../../policies/port-not-allowed.cedar"),
    ),
    (
        "image-reference-unpinned.cedar",
        include_str!("../../../policies/image-reference-unpinned.cedar"),
    ),
    (
        "image-signature-untrusted.cedar",
        include_str!("../../../policies/image-signature-untrusted.cedar"),
    ),
    (
        "missing-source-labels.cedar",
        include_str!("../../../policies/missing-source-labels.cedar"),
    ),
    (
        "driver-too-old-for-image.cedar",
        include_str!("../../../policies/driver-too-old-for-image.cedar"),
    ),
    (
        "gpu-architecture-unsupported.cedar",
        include_str!("../../../policies/gpu-architecture-unsupported.cedar"),
    ),
    (
        "tensorrt-denied-version.cedar",
        include_str!("../../../policies/tensorrt-denied-version.cedar"),
    ),
    (
        "engine-built-by-denied-tensorrt.cedar",
        include_str!("../../../policies/engine-built-by-denied-tensorrt.cedar"),
    ),
    (
        "pytorch-weights-only-bypass.cedar",
        include_str!("../../../policies/pytorch-weights-only-bypass.cedar"),
    ),
    (
        "unsafe-pickle.cedar",
        include_str!("../../../policies/unsafe-pickle.cedar"),
    ),
    (
        "model-requires-trusted-code.cedar",
        include_str!("../../../policies/model-requires-trusted-code.cedar"),
    ),
    (
        "model-unverifiable.cedar",
        include_str!("../../../policies/model-unverifiable.cedar"),
    ),
    (
        "onnx-external-data-traversal.cedar",
        include_str!("../../../policies/onnx-external-data-traversal.cedar"),
    ),
    (
        "model-hash-unverified.cedar",
        include_str!("../../../policies/model-hash-unverified.cedar"),
    ),
    (
        "cuda-below-minimum.cedar",
        include_str!("../../../policies/cuda-below-minimum.cedar"),
    ),
    (
        "cuda-version-conflict.cedar",
        include_str!("../../../policies/cuda-version-conflict.cedar"),
    ),
    (
        "component-known-advisory.cedar",
        include_str!("../../../policies/component-known-advisory.cedar"),
    ),
];

/// Allows by default: findings come only from `forbid` rules.
const BASELINE: &str = r#"@id("gpubom-baseline-permit") permit (principal, action, resource);"#;

/// What a finding needs to say about the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub message: String,
    pub remediation: String,
    /// The file it came from (`policies/<name>` for the default pack).
    pub file: String,
    pub line: usize,
    /// Whether it is gpubom's own (the default pack, `waiver-expired`).
    pub builtin: bool,
}

pub struct Pack {
    /// Per action id (`ship`, `include`, `include_model`): only the policies
    /// that can apply to it, so a request never evaluates the others.
    pub(crate) sets: BTreeMap<String, PolicySet>,
    pub rules: BTreeMap<String, Rule>,
    pub(crate) schema: Schema,
    /// The organisation's own `Org` attributes the schema declares.
    pub(crate) org_declared: Vec<String>,
}

/// The schema policies are validated against under `config`: the built-in
/// one, with the organisation's own values declared on `Org`.
pub fn schema_text(config: &Config) -> String {
    config.org_values.extend_schema(SCHEMA)
}

impl Pack {
    /// The default pack, plus the policies at `paths` (files, or directories of `*.cedar`).
    pub fn load(paths: &[PathBuf], include_default: bool) -> Result<Pack, Error> {
        Pack::load_for(paths, include_default, &Config::default())
    }

    /// [`Pack::load`] for an organisation: its own values declared on `Org`,
    /// and its `[rules]` (disabled rules, severity overrides) applied.
    pub fn load_for(
        paths: &[PathBuf],
        include_default: bool,
        config: &Config,
    ) -> Result<Pack, Error> {
        let mut sources: Vec<Source> = Vec::new();
        if include_default {
            sources.extend(DEFAULT_PACK.iter().map(|(name, text)| Source {
                file: format!("policies/{name}"),
                text: text.to_string(),
                builtin: true,
            }));
        }
        for path in paths {
            for file in cedar_files(path)? {
                let text = crate::bounds::read(&file)?;
                sources.push(Source {
                    file: file.display().to_string(),
                    text,
                    builtin: false,
                });
            }
        }
        Pack::from_sources_for(&sources, config)
    }

    /// A pack of the organisation's own policy texts, `(file, text)`.
    pub fn from_sources(sources: &[(String, String)]) -> Result<Pack, Error> {
        let sources: Vec<Source> = sources
            .iter()
            .map(|(file, text)| Source {
                file: file.clone(),
                text: text.clone(),
                builtin: false,
            })
            .collect();
        Pack::from_sources_for(&sources, &Config::default())
    }

    fn from_sources_for(sources: &[Source], config: &Config) -> Result<Pack, Error> {
        let schema_text = schema_text(config);
        let schema = Schema::from_cedarschema_str(&schema_text)
            .map_err(|e| Error::Load(format!("the organisation values do not make a schema: {e}")))?
            .0;
        let shapes = Shapes::of(&schema_text).map_err(|e| {
            Error::Load(format!("the organisation values do not make a schema: {e}"))
        })?;
        let enums = enums(&schema_text);
        let validator = Validator::new(schema.clone());
        let mut set = PolicySet::new();
        let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
        let baseline = PolicySet::from_str(BASELINE).expect("baseline parses");
        for p in baseline.policies() {
            set.add(p.new_id(PolicyId::new("gpubom-baseline-permit")))
                .expect("fresh set");
        }
        for Source {
            file,
            text,
            builtin,
        } in sources
        {
            crate::bounds::check(file, text)?;
            let parsed =
                PolicySet::from_str(text).map_err(|e| located(file, text, &e, "syntax error"))?;
            refuse_what_never_decides(file, text, &parsed)?;
            let result = validator.validate(&parsed, ValidationMode::Strict);
            // The validator's order is not the file's: report the earliest
            // error, usually the cause of those after it (a mistyped
            // comparison also loses the `has` guard that follows it).
            if let Some(first) = result.validation_errors().min_by_key(|e| offset(*e)) {
                let mut error = located(file, text, first, "does not match the schema");
                if let (Error::Policy(message), Some(advice)) = (
                    &mut error,
                    advice(&first.to_string(), span(text, first), &enums),
                ) {
                    message.push_str(&advice);
                }
                return Err(error);
            }
            for policy in parsed.policies() {
                let id = policy
                    .annotation("id")
                    .ok_or_else(|| {
                        Error::Load(format!(
                            "{file}: a policy has no @id(\"…\") annotation; every rule needs one"
                        ))
                    })?
                    .to_string();
                let line = text
                    .find(&format!("@id(\"{id}\")"))
                    .map_or(1, |offset| line_col(text, offset).0);
                let at = format!("{file}:{line}");
                if let Some(previous) = rules.get(&id) {
                    return Err(Error::Load(format!(
                        "{at}: @id(\"{id}\") is already used at {}:{}",
                        previous.file, previous.line
                    )));
                }
                let annotation = |key: &str| {
                    policy.annotation(key).map(str::to_owned).ok_or_else(|| {
                        Error::Load(format!("{at}: rule {id} has no @{key}(\"…\") annotation"))
                    })
                };
                let severity_text = annotation("severity")?;
                let severity = Severity::from_str(&severity_text).map_err(|_| {
                    Error::Load(format!(
                        "{at}: rule {id} has @severity(\"{severity_text}\"); use low, medium, high or critical"
                    ))
                })?;
                let message = annotation("message")?;
                let remediation = annotation("remediation")?;
                let resources = resource_types(&policy.action_constraint());
                for (key, value) in [("message", &message), ("remediation", &remediation)] {
                    placeholders::check(value, &resources, &shapes).map_err(|why| {
                        let at = within_rule(file, text, Some(&id), &format!("@{key}("));
                        Error::Policy(format!("{at}: rule {id}: @{key} placeholder {why}"))
                    })?;
                }
                rules.insert(
                    id.clone(),
                    Rule {
                        id: id.clone(),
                        severity,
                        message,
                        remediation,
                        file: file.clone(),
                        line,
                        builtin: *builtin,
                    },
                );
                set.add(policy.new_id(PolicyId::new(&id)))
                    .map_err(|e| Error::Load(format!("{at}: {e}")))?;
            }
        }
        configure(&mut rules, &config.rules)?;
        Ok(Pack {
            sets: partition(&set),
            rules,
            schema,
            org_declared: config.org_values.names().map(str::to_owned).collect(),
        })
    }
}

/// `[rules]`: a disabled rule reports nothing; an override changes a severity.
fn configure(
    rules: &mut BTreeMap<String, Rule>,
    wanted: &crate::config::Rules,
) -> Result<(), Error> {
    let unknown = |id: &str, rules: &BTreeMap<String, Rule>| {
        Error::Load(format!(
            "[rules] names {id:?}, which is no rule; the rules are: {}",
            rules.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    };
    for (id, severity) in wanted.severities() {
        match rules.get_mut(id) {
            Some(rule) => rule.severity = severity,
            None => return Err(unknown(id, rules)),
        }
    }
    for id in &wanted.disable {
        if rules.remove(id).is_none() {
            return Err(unknown(id, rules));
        }
    }
    Ok(())
}

/// A policy file, as [`Pack`] reads it.
struct Source {
    /// How errors name it: the path, or `policies/<name>` for the default pack.
    file: String,
    text: String,
    builtin: bool,
}

/// Each action, and the entity type its resource is.
const ACTIONS: &[(&str, &str)] = &[
    ("ship", "Image"),
    ("include", "Component"),
    ("include_model", "Model"),
];

/// The entity types a policy's resource can be, by its action constraint.
fn resource_types(constraint: &cedar_policy::ActionConstraint) -> Vec<&'static str> {
    ACTIONS
        .iter()
        .filter(|(action, _)| applies(constraint, action))
        .map(|(_, resource)| *resource)
        .collect()
}

fn applies(constraint: &cedar_policy::ActionConstraint, action: &str) -> bool {
    match constraint {
        cedar_policy::ActionConstraint::Eq(uid) => uid.id().unescaped() == action,
        cedar_policy::ActionConstraint::In(uids) => {
            uids.iter().any(|u| u.id().unescaped() == action)
        }
        _ => true,
    }
}

/// A `permit` or a template would load and never decide anything: refused,
/// with where it is.
fn refuse_what_never_decides(file: &str, text: &str, parsed: &PolicySet) -> Result<(), Error> {
    if let Some(template) = parsed.templates().next() {
        return Err(Error::Policy(format!(
            "{}: a template (?principal or ?resource slot), which gpubom never links, so it \
             would never decide; write the entity the rule is about as `resource`",
            within_rule(file, text, None, &template.to_string())
        )));
    }
    for policy in parsed.policies() {
        if policy.effect() == cedar_policy::Effect::Permit {
            let id = policy.annotation("id");
            return Err(Error::Policy(format!(
                "{}: permit{} is refused: the pack is forbid-only (gpubom permits \
                 everything no forbid denies, so a permit never changes a decision); \
                 write the rule as `forbid (…) when {{ … }}`, with @id, @severity, @message \
                 and @remediation",
                within_rule(file, text, id, "permit"),
                id.map_or_else(String::new, |id| format!(" {id}")),
            )));
        }
    }
    Ok(())
}

/// `file:line:col` of the first `needle` in the rule with `@id(id)` (in the
/// whole file when it has none, or it cannot be found): Cedar gives no
/// position for a policy's annotations or effect.
fn within_rule(file: &str, text: &str, id: Option<&str>, needle: &str) -> String {
    let start = id
        .and_then(|id| text.find(&format!("@id(\"{id}\")")))
        .unwrap_or(0);
    let offset = text[start..].find(needle).map_or(0, |o| start + o);
    let (line, col) = line_col(text, offset);
    format!("{file}:{line}:{col}")
}

/// More than Cedar says, for the mistakes it cannot explain: an organisation
/// value not declared, an enum compared with a string or misspelt. `snippet`
/// is the policy text the error points at, where the value meant is written.
fn advice(error: &str, snippet: &str, enums: &BTreeMap<String, Vec<String>>) -> Option<String> {
    if error.contains("Gpubom::Org") {
        return Some(
            " (an organisation value is declared in .gpubom.toml: \
             [versions] NAME_min = \"9.0\", or [org] NAME = …)"
                .into(),
        );
    }
    let (name, members) = enums
        .iter()
        .find(|(name, _)| error.contains(&format!("Gpubom::{name}")))?;
    // "Unsafe", "native_library", "cuddn": the member meant, as the schema spells it.
    fn quoted(s: &str) -> impl Iterator<Item = &str> {
        s.split('"').skip(1).step_by(2)
    }
    let meant = quoted(snippet).chain(quoted(error)).find_map(|written| {
        members
            .iter()
            .map(|m| (near(written, m), m))
            .filter(|(distance, _)| *distance <= 2)
            .min()
            .map(|(_, m)| m)
    });
    // Cedar lists the members of a misspelt one itself; a string compared with
    // an enum it does not explain.
    if error.contains("not declared as a valid eid") {
        return meant.map(|m| format!(" (did you mean Gpubom::{name}::\"{m}\"?)"));
    }
    let example = meant
        .or_else(|| {
            members
                .iter()
                .find(|m| !matches!(m.as_str(), "none" | "other"))
        })
        .or(members.first())?;
    Some(format!(
        " (Gpubom::{name} is an enum: compare with Gpubom::{name}::\"{example}\"; its values are: {})",
        members.join(", ")
    ))
}

/// How far apart two names are: edits between them, case and `-`/`_` aside.
fn near(a: &str, b: &str) -> usize {
    let plain = |s: &str| -> Vec<char> {
        s.to_ascii_lowercase()
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect()
    };
    let (a, b) = (plain(a), plain(b));
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The policy text a diagnostic's first label covers.
fn span<'t>(text: &'t str, diagnostic: &dyn Diagnostic) -> &'t str {
    diagnostic
        .labels()
        .and_then(|mut labels| labels.next())
        .and_then(|label| text.get(label.offset()..label.offset() + label.len()))
        .unwrap_or("")
}

fn partition(all: &PolicySet) -> BTreeMap<String, PolicySet> {
    ACTIONS
        .iter()
        .map(|(action, _)| {
            let mut set = PolicySet::new();
            for policy in all.policies() {
                if applies(&policy.action_constraint(), action) {
                    set.add(policy.clone())
                        .expect("ids are unique in the full set");
                }
            }
            (action.to_string(), set)
        })
        .collect()
}

fn cedar_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::Load(format!("{}: {e}", path.display())))?;
    if !meta.is_dir() {
        // Read as a policy file, which a FIFO or a device is refused as.
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Error::Load(format!("{}: {e}", path.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Load(format!(
            "{}: no .cedar files here",
            path.display()
        )));
    }
    Ok(files)
}

/// Where in its file a Cedar diagnostic points (0 when it does not say).
fn offset(diagnostic: &dyn Diagnostic) -> usize {
    diagnostic
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|label| label.offset())
        .unwrap_or(0)
}

/// `file:line:col: what: message (hint: …)` from a Cedar diagnostic.
fn located(file: &str, text: &str, diagnostic: &dyn Diagnostic, what: &str) -> Error {
    let (line, col) = line_col(text, offset(diagnostic));
    let mut message = format!("{file}:{line}:{col}: {what}: {diagnostic}");
    if let Some(help) = diagnostic.help() {
        message.push_str(&format!(" (hint: {help})"));
    }
    Error::Policy(message.replace('\n', " "))
}
