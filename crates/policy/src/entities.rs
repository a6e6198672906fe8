//! An inventory as Cedar entities: the `Org` principal (configuration
//! values), one `Image`, and a `Component` or `Model` per component.

use crate::config::Config;
use crate::fleet::{Fleet, FleetCheck};
use crate::schema::{enums, NAMESPACE, SCHEMA};
use crate::version::Version;
use gpubom_inventory::version::Ecosystem;
use gpubom_inventory::{props, Component, Fact, Inventory};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub fn uid(kind: &str, id: &str) -> Value {
    json!({ "type": format!("{NAMESPACE}::{kind}"), "id": id })
}

/// What a finding is about, for reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Subject {
    /// `image`, `component` or `model`.
    pub kind: String,
    pub name: String,
    /// What it is, the same across rebuilds: an image's repository (no tag,
    /// no digest), a component's or model's name. SARIF fingerprints and
    /// waivers use it, so a rebuild does not reopen every alert.
    pub identity: String,
    pub version: Option<String>,
    pub path: Option<String>,
    /// The sha256 of the subject's file (a model's, a library's primary
    /// file), for waivers that pin the bytes they accept.
    pub sha256: Option<String>,
    pub layer: Option<usize>,
    /// The history line of the layer, e.g. `RUN pip install torch==2.5.1`.
    pub layer_created_by: Option<String>,
}

/// One Cedar entity with what a finding about it should say.
pub struct Built {
    /// The Cedar entity JSON.
    pub json: Value,
    pub uid: Value,
    pub action: &'static str,
    pub subject: Subject,
}

/// The `Org` principal: the configuration's values, and those of the
/// organisation's own that the pack's schema declares.
pub fn org(config: &Config, declared: &[String]) -> Value {
    // Checked when the configuration was parsed.
    let allowed_ports = config.ports.allowed_specs().unwrap_or_default();
    let mut org = json!({
        "uid": uid("Org", "config"),
        "attrs": {
            "cuda_min": config.cuda_min().to_json(),
            "pytorch_min": config.pytorch_min().to_json(),
            "tensorrt_denied": config.versions.tensorrt_denied,
            "allowed_port_specs": allowed_ports,
            "restrict_ports": !allowed_ports.is_empty(),
            "require_signature": config.signatures.names_signers(),
            "signatures_required": config.signatures.required,
            "required_labels": config.labels.required,
            "fleet_driver_string": config.fleet.driver.trim(),
            "fleet_forward_compat": config.fleet.forward_compat_applies(),
            "fleet_gpus": config.fleet.gpus().unwrap_or_default().iter().map(|g| g.describe()).collect::<Vec<_>>(),
        },
        "parents": [],
    });
    if let Some(driver) = Version::parse(Ecosystem::Generic, &config.fleet.driver) {
        org["attrs"]["fleet_driver"] = driver.to_json();
    }
    for (name, value) in config.org_values.attributes(declared) {
        org["attrs"][name] = value;
    }
    org
}

/// The image's entity, then each component's, built as they are asked for: an entity costs
/// kilobytes of JSON, so holding one per component of a 100,000-component image took more than
/// a gigabyte.
pub fn build<'a>(inventory: &'a Inventory, fleet: &Fleet) -> impl Iterator<Item = Built> + 'a {
    let fleet = fleet.check();
    let mut not_checked: BTreeMap<Option<String>, BTreeSet<Fact>> = BTreeMap::new();
    for item in &inventory.not_checked {
        not_checked
            .entry(item.subject.clone())
            .or_default()
            .insert(item.fact);
    }
    let facts_of = move |subject: Option<String>| fact_set(not_checked.get(&subject));
    let mut image = image(inventory);
    image.json["attrs"]["not_checked"] = facts_of(None);
    let components = inventory.components.iter().enumerate().map(move |(i, c)| {
        let mut built = if c.kind.is_model_like() {
            model(inventory, i, c)
        } else {
            component(inventory, i, c, &fleet)
        };
        built.json["attrs"]["not_checked"] = facts_of(Some(c.label()));
        built
    });
    std::iter::once(image).chain(components)
}

/// Facts as a set of the schema's `Fact` enum: `Gpubom::Fact::"signatures"`.
fn fact_set(facts: Option<&BTreeSet<Fact>>) -> Value {
    let ids = facts.into_iter().flatten();
    Value::Array(
        ids.map(
            |f| json!({ "__entity": { "type": format!("{NAMESPACE}::Fact"), "id": f.as_str() } }),
        )
        .collect(),
    )
}

/// The image as findings about it name it: `name:tag@digest`, or where it was scanned.
pub fn reference(inventory: &Inventory) -> String {
    let s = &inventory.subject;
    let mut r = s.name.clone().unwrap_or_else(|| s.location.clone());
    if let Some(tag) = &s.tag {
        r = format!("{r}:{tag}");
    }
    if let Some(digest) = &s.digest {
        r = format!("{r}@{digest}");
    }
    r
}

/// The signature record: whether any signature counted, and a summary of
/// what was found for the finding to show.
fn signature_attrs(signatures: &[gpubom_inventory::SignatureFact]) -> Value {
    let signers: Vec<String> = signatures
        .iter()
        .filter(|s| s.verified)
        .filter_map(|s| s.key.clone().or_else(|| s.identity.clone()))
        .collect();
    json!({
        "found": signatures.len() as i64,
        "verified": signatures.iter().any(|s| s.verified),
        "signers": signers,
        "summary": found_signatures(signatures),
    })
}

/// Each signature found and why it counted or not.
fn found_signatures(signatures: &[gpubom_inventory::SignatureFact]) -> String {
    if signatures.is_empty() {
        return "no signature found (no .sig tag, referrer or bundle for this digest)".to_string();
    }
    let each: Vec<String> = signatures
        .iter()
        .map(|s| format!("{} {}: {}", s.source.as_str(), s.manifest, s.reason))
        .collect();
    format!("{} found; {}", signatures.len(), each.join("; "))
}

/// What was found when signatures were looked for, or why they could not be.
fn signature_summary(inventory: &Inventory) -> String {
    if let Some(signatures) = &inventory.signatures {
        return found_signatures(signatures);
    }
    let why = inventory
        .not_checked
        .iter()
        .find(|i| i.fact == Fact::Signatures && i.subject.is_none())
        .map_or("nobody looked for them", |i| i.reason.as_str());
    format!("signatures were not checked: {why}")
}

fn image(inventory: &Inventory) -> Built {
    // The config's facts: `None` for a directory or a file, and for a foreign
    // SBOM that does not record them. Then the user is unknown, not root.
    let has_config = inventory.image.is_some();
    let facts = inventory.image.clone().unwrap_or_default();
    let user = facts.user.clone().unwrap_or_default();
    let runs_as_root = has_config && is_root(&user);
    let ports: Vec<i64> = facts
        .exposed_ports
        .iter()
        .filter_map(|p| p.split('/').next()?.parse().ok())
        .collect();
    // With their protocol, tcp when the config names none; one that is not a
    // port stays as written (lower-cased), so no allowed list covers it.
    let port_specs: Vec<String> = facts
        .exposed_ports
        .iter()
        .map(|p| crate::config::port_spec(p).unwrap_or_else(|| p.to_ascii_lowercase()))
        .collect();
    let mut attrs = json!({
        "reference": reference(inventory),
        "name": inventory.subject.name.clone().unwrap_or_default(),
        "tag": inventory.subject.tag.clone().unwrap_or_default(),
        "digest": inventory.subject.digest.clone().unwrap_or_default(),
        "has_digest": inventory.subject.digest.is_some(),
        "has_reference": inventory.subject.name.is_some(),
        "has_config": has_config,
        "user": user,
        "runs_as_root": runs_as_root,
        "exposed_ports": ports,
        "exposed_port_specs": port_specs,
        "env_names": facts.env.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        "label_keys": facts.labels.keys().cloned().collect::<Vec<_>>(),
        "labels": facts.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
    });
    if let Some(signatures) = &inventory.signatures {
        attrs["signature"] = signature_attrs(signatures);
    }
    attrs["signature_summary"] = json!(signature_summary(inventory));
    let id = uid("Image", "image");
    Built {
        json: json!({ "uid": id, "attrs": attrs, "parents": [] }),
        uid: id,
        action: "ship",
        subject: Subject {
            kind: "image".into(),
            name: reference(inventory),
            identity: inventory
                .subject
                .name
                .clone()
                .unwrap_or_else(|| inventory.subject.location.clone()),
            version: None,
            path: None,
            sha256: None,
            layer: None,
            layer_created_by: None,
        },
    }
}

/// `""`, `root`, `0`, `0:0`, `root:root` — anything whose user part is root.
fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name.is_empty() || name == "root" || name == "0"
}

fn subject(inventory: &Inventory, kind: &str, c: &Component) -> Subject {
    let layer = c.layer.map(|l| l.index);
    Subject {
        kind: kind.into(),
        name: c.name.clone(),
        identity: c.name.clone(),
        version: c.version.clone(),
        path: c.locations.first().map(|l| l.path.clone()),
        sha256: c
            .hashes
            .iter()
            .find(|h| h.alg == "SHA-256")
            .map(|h| h.hex.to_ascii_lowercase()),
        layer,
        layer_created_by: layer.and_then(|i| {
            inventory
                .layers
                .iter()
                .find(|l| l.index == i)?
                .created_by
                .clone()
        }),
    }
}

/// A member of the schema's enum `name`: `id` when the schema lists it, else
/// `otherwise` (its member for a value it does not know).
fn member(name: &str, id: &str, otherwise: &str) -> Value {
    static ENUMS: std::sync::OnceLock<std::collections::BTreeMap<String, Vec<String>>> =
        std::sync::OnceLock::new();
    let listed = ENUMS
        .get_or_init(|| enums(SCHEMA))
        .get(name)
        .is_some_and(|members| members.iter().any(|m| m == id));
    let id = if listed { id } else { otherwise };
    json!({ "__entity": { "type": format!("{NAMESPACE}::{name}"), "id": id } })
}

/// A property that is absent (or empty) as the enum's `none` member.
fn recorded_member(name: &str, value: &str, otherwise: &str) -> Value {
    member(
        name,
        if value.is_empty() { "none" } else { value },
        otherwise,
    )
}

/// A comma-separated property as a Cedar set; empty when absent.
fn list_property(c: &Component, key: &str) -> Vec<String> {
    c.properties
        .get(key)
        .map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The highest severity of the advisories that count: `none` without any,
/// `unrated` when none of them rates one.
fn advisory_severity(advisories: &[String], highest: &str) -> Value {
    if advisories.is_empty() {
        return member("Severity", "none", "none");
    }
    let rated = !matches!(highest, "" | "none" | "unrated");
    member(
        "Severity",
        if rated { highest } else { "unrated" },
        "unrated",
    )
}

fn layer_long(c: &Component) -> i64 {
    c.layer.map(|l| l.index as i64).unwrap_or(-1)
}

fn component(inventory: &Inventory, index: usize, c: &Component, fleet: &FleetCheck) -> Built {
    let version = c
        .version
        .as_deref()
        .and_then(|v| Version::parse(Ecosystem::of(c.kind), v));
    let confidence = c
        .evidence
        .iter()
        .map(|e| e.confidence)
        .fold(None, |acc: Option<f32>, x| {
            Some(acc.map_or(x, |a| a.max(x)))
        })
        .map(|c| (c * 100.0).round() as i64)
        .unwrap_or(100);
    let prop = |k: &str| c.properties.get(k).cloned().unwrap_or_default();
    let list = |k: &str| list_property(c, k);
    let advisories = list(props::ADVISORIES);
    let min_driver = prop(props::NVIDIA_MIN_DRIVER);
    let id = uid("Component", &index.to_string());
    let mut json = json!({
            "uid": id,
            "attrs": {
                "name": c.name,
                "version_string": c.version.clone().unwrap_or_default(),
                "has_version": version.is_some(),
                "kind": member("ComponentKind", c.kind.as_str(), "other"),
                "family": recorded_member("Family", &prop(props::NVIDIA_FAMILY), "other"),
                "purl": c.purl.clone().unwrap_or_default(),
                "path": c.locations.first().map(|l| l.path.clone()).unwrap_or_default(),
                "layer": layer_long(c),
                "confidence": confidence,
                "version_conflict": prop(props::VERSION_CONFLICT) == "true",
                "declared_version": prop(props::DECLARED_VERSION),
                "has_advisories": !advisories.is_empty(),
                "advisory_severity": advisory_severity(&advisories, &prop(props::ADVISORY_SEVERITY)),
                "advisories": advisories,
                "sass_archs": list(props::NVIDIA_SM_ARCHS),
                "ptx_archs": list(props::NVIDIA_PTX_ARCHS),
                "device_code_files": list(props::NVIDIA_DEVICE_CODE_FILES),
                "ptx_isa": prop(props::NVIDIA_PTX_ISA),
                "min_driver_string": min_driver,
                "min_driver_reason": prop(props::NVIDIA_MIN_DRIVER_REASON),
                "unsupported_gpus": fleet.unsupported(c),
                "forward_compat_branches": list(props::NVIDIA_FORWARD_COMPAT_BRANCHES)
                    .iter()
                    .filter_map(|b| b.parse::<i64>().ok())
                    .collect::<Vec<_>>(),
            },
            "parents": [],
    });
    if let Some(v) = Version::parse(Ecosystem::Generic, &min_driver) {
        json["attrs"]["min_driver"] = v.to_json();
    }
    // An unknown version has no record at all: `version` is optional in the
    // schema, so a rule must test `resource has version` before comparing it
    // and cannot fire on a version nobody knows.
    if let Some(v) = version {
        json["attrs"]["version"] = v.to_json();
    }
    Built {
        json,
        uid: id,
        action: "include",
        subject: subject(inventory, "component", c),
    }
}

fn model(inventory: &Inventory, index: usize, c: &Component) -> Built {
    let prop = |k: &str| c.properties.get(k).cloned().unwrap_or_default();
    let list = |k: &str| list_property(c, k);
    let builder = prop(props::MODEL_TRT_VERSION);
    let builder_version = Version::parse(Ecosystem::Generic, &builder);
    let hash_verified = match c
        .properties
        .get(props::MODEL_HASH_VERIFIED)
        .map(String::as_str)
    {
        Some("true") => "verified",
        Some(_) => "unverified",
        None => "no-manifest",
    };
    let id = uid("Model", &index.to_string());
    let mut json = json!({
            "uid": id,
            "attrs": {
                "name": c.name,
                "format": recorded_member("ModelFormat", &prop(props::MODEL_FORMAT), "other"),
                // A verdict this schema does not know is no verdict of safety.
                "verdict": recorded_member("Verdict", &prop(props::MODEL_VERDICT), "unknown"),
                "globals": list(props::MODEL_GLOBALS),
                "unsafe_globals": list(props::MODEL_UNSAFE_GLOBALS),
                "untrusted_globals": list(props::MODEL_UNTRUSTED_GLOBALS),
                "owner": prop(props::MODEL_OWNER),
                "builder_version_string": builder,
                "has_builder_version": builder_version.is_some(),
                "hash_verified": member("HashCheck", hash_verified, "unverified"),
                "external_data_traversal": prop(props::MODEL_EXTERNAL_DATA_TRAVERSAL) == "true",
                "path": c.locations.first().map(|l| l.path.clone()).unwrap_or_default(),
                "layer": layer_long(c),
            },
            "parents": [],
    });
    if let Some(v) = builder_version {
        json["attrs"]["builder_version"] = v.to_json();
    }
    Built {
        json,
        uid: id,
        action: "include_model",
        subject: subject(inventory, "model", c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpubom_inventory::ComponentKind;

    #[test]
    fn an_unknown_version_has_no_record() {
        let inventory = Inventory {
            components: vec![
                Component {
                    kind: ComponentKind::NativeLibrary,
                    name: "cuda-runtime".into(),
                    version: None,
                    ..Default::default()
                },
                Component {
                    kind: ComponentKind::Deb,
                    name: "odd".into(),
                    version: Some("unknown".into()),
                    ..Default::default()
                },
                Component {
                    kind: ComponentKind::Model,
                    name: "m.engine".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let built: Vec<Built> = build(&inventory, &Fleet::default()).collect();
        for b in &built[1..] {
            let attrs = &b.json["attrs"];
            assert!(attrs.get("version").is_none(), "{attrs}");
            assert!(attrs.get("builder_version").is_none(), "{attrs}");
        }
        assert_eq!(built[1].json["attrs"]["has_version"], false);
        assert_eq!(built[2].json["attrs"]["has_version"], false);
        assert_eq!(built[3].json["attrs"]["has_builder_version"], false);
    }

    #[test]
    fn root_users() {
        for u in ["", "root", "0", "0:0", "root:wheel"] {
            assert!(is_root(u), "{u}");
        }
        for u in ["1001", "app", "1001:0"] {
            assert!(!is_root(u), "{u}");
        }
    }
}
