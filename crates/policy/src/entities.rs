//! An inventory as Cedar entities: the `Org` principal (configuration
//! values), one `Image`, and a `Component` or `Model` per component.

use crate::config::Config;
use gpubom_inventory::{props, Component, Inventory};
use serde_json::{json, Value};

/// A version as Cedar sees it: four Longs and an ordering key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Version {
    pub major: i64,
    pub minor: i64,
    pub patch: i64,
    pub build: i64,
}

impl Version {
    /// Parses the leading numbers of a version: `2.6.0+cu124` → 2.6.0.0,
    /// `8.9.2.26` → 8.9.2.26, Debian `1:2.36-9+deb12u4` → 2.36.0.0 (epoch and
    /// revision dropped). `None` when it does not start with a number.
    pub fn parse(text: &str) -> Option<Version> {
        let upstream = text.split_once(':').map(|(_, rest)| rest).unwrap_or(text);
        let upstream = upstream.trim_start_matches(['v', 'V']);
        let mut parts = [0i64; 4];
        let mut count = 0;
        for piece in upstream.split('.') {
            let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() || count == 4 {
                break;
            }
            parts[count] = digits.parse().unwrap_or(i64::MAX);
            count += 1;
            if digits.len() != piece.len() {
                break;
            }
        }
        (count > 0).then(|| Version {
            major: parts[0],
            minor: parts[1],
            patch: parts[2],
            build: parts[3],
        })
    }

    /// One Long that orders versions: each part clamped so it cannot overflow.
    pub fn key(&self) -> i64 {
        self.major.min(9_000_000) * 1_000_000_000
            + self.minor.min(999) * 1_000_000
            + self.patch.min(999) * 1_000
            + self.build.min(999)
    }

    pub fn to_json(self) -> Value {
        json!({
            "major": self.major, "minor": self.minor, "patch": self.patch, "build": self.build,
            "key": self.key(),
            "mmp": format!("{}.{}.{}", self.major, self.minor, self.patch),
        })
    }
}

pub const NAMESPACE: &str = "Gpubom";

pub fn uid(kind: &str, id: &str) -> Value {
    json!({ "type": format!("{NAMESPACE}::{kind}"), "id": id })
}

/// What a finding is about, for reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Subject {
    /// `image`, `component` or `model`.
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
    pub path: Option<String>,
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

pub fn org(config: &Config) -> Value {
    json!({
        "uid": uid("Org", "config"),
        "attrs": {
            "cuda_min": config.cuda_min().to_json(),
            "pytorch_min": config.pytorch_min().to_json(),
            "tensorrt_denied": config.versions.tensorrt_denied,
            "allowed_ports": config.ports.allowed,
            "restrict_ports": !config.ports.allowed.is_empty(),
            "trusted_signers": config.signatures.trusted,
            "required_labels": config.labels.required,
        },
        "parents": [],
    })
}

pub fn build(inventory: &Inventory) -> Vec<Built> {
    let mut out = vec![image(inventory)];
    for (i, c) in inventory.components.iter().enumerate() {
        out.push(if c.kind.is_model_like() {
            model(inventory, i, c)
        } else {
            component(inventory, i, c)
        });
    }
    out
}

fn reference(inventory: &Inventory) -> String {
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

fn image(inventory: &Inventory) -> Built {
    let facts = inventory.image.clone().unwrap_or_default();
    let user = facts.user.clone().unwrap_or_default();
    // Without a config (a directory or file) there is no user to judge.
    let runs_as_root = inventory.image.is_some() && is_root(&user);
    let ports: Vec<i64> = facts
        .exposed_ports
        .iter()
        .filter_map(|p| p.split('/').next()?.parse().ok())
        .collect();
    let mut attrs = json!({
        "reference": reference(inventory),
        "name": inventory.subject.name.clone().unwrap_or_default(),
        "tag": inventory.subject.tag.clone().unwrap_or_default(),
        "digest": inventory.subject.digest.clone().unwrap_or_default(),
        "has_digest": inventory.subject.digest.is_some(),
        "user": user,
        "runs_as_root": runs_as_root,
        "exposed_ports": ports,
        "exposed_port_specs": facts.exposed_ports,
        "env_names": facts.env.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        "label_keys": facts.labels.keys().cloned().collect::<Vec<_>>(),
        "labels": facts.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
    });
    if let Some(sig) = &inventory.signature {
        attrs["signature"] =
            json!({ "signed": sig.signed, "signer": sig.signer, "trusted": sig.trusted });
    }
    let id = uid("Image", "image");
    Built {
        json: json!({ "uid": id, "attrs": attrs, "parents": [] }),
        uid: id,
        action: "ship",
        subject: Subject {
            kind: "image".into(),
            name: reference(inventory),
            version: None,
            path: None,
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
        version: c.version.clone(),
        path: c.locations.first().map(|l| l.path.clone()),
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

fn layer_long(c: &Component) -> i64 {
    c.layer.map(|l| l.index as i64).unwrap_or(-1)
}

fn component(inventory: &Inventory, index: usize, c: &Component) -> Built {
    let version = c.version.as_deref().and_then(Version::parse);
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
    let advisories: Vec<String> = prop("gpubom:advisories")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let id = uid("Component", &index.to_string());
    Built {
        json: json!({
            "uid": id,
            "attrs": {
                "name": c.name,
                "version": version.unwrap_or_default().to_json(),
                "version_string": c.version.clone().unwrap_or_default(),
                "has_version": version.is_some(),
                "kind": c.kind.as_str(),
                "family": prop(props::NVIDIA_FAMILY),
                "purl": c.purl.clone().unwrap_or_default(),
                "path": c.locations.first().map(|l| l.path.clone()).unwrap_or_default(),
                "layer": layer_long(c),
                "confidence": confidence,
                "version_conflict": prop(props::VERSION_CONFLICT) == "true",
                "declared_version": prop(props::DECLARED_VERSION),
                "has_advisories": !advisories.is_empty(),
                "advisories": advisories,
            },
            "parents": [],
        }),
        uid: id,
        action: "include",
        subject: subject(inventory, "component", c),
    }
}

fn model(inventory: &Inventory, index: usize, c: &Component) -> Built {
    let prop = |k: &str| c.properties.get(k).cloned().unwrap_or_default();
    let list = |k: &str| -> Vec<String> {
        prop(k)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let builder = prop(props::MODEL_TRT_VERSION);
    let builder_version = Version::parse(&builder);
    let hash_verified = c
        .properties
        .get(props::MODEL_HASH_VERIFIED)
        .cloned()
        .unwrap_or_else(|| "unknown".into());
    let id = uid("Model", &index.to_string());
    Built {
        json: json!({
            "uid": id,
            "attrs": {
                "name": c.name,
                "format": prop(props::MODEL_FORMAT),
                "verdict": prop(props::MODEL_VERDICT),
                "globals": list(props::MODEL_GLOBALS),
                "unsafe_globals": list(props::MODEL_UNSAFE_GLOBALS),
                "builder_version": builder_version.unwrap_or_default().to_json(),
                "builder_version_string": builder,
                "has_builder_version": builder_version.is_some(),
                "hash_verified": hash_verified,
                "external_data_traversal": prop(props::MODEL_EXTERNAL_DATA_TRAVERSAL) == "true",
                "path": c.locations.first().map(|l| l.path.clone()).unwrap_or_default(),
                "layer": layer_long(c),
            },
            "parents": [],
        }),
        uid: id,
        action: "include_model",
        subject: subject(inventory, "model", c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(
            v("2.6.0+cu124"),
            Version {
                major: 2,
                minor: 6,
                patch: 0,
                build: 0
            }
        );
        assert_eq!(
            v("8.9.2.26"),
            Version {
                major: 8,
                minor: 9,
                patch: 2,
                build: 26
            }
        );
        assert_eq!(
            v("1:2.36-9+deb12u4"),
            Version {
                major: 2,
                minor: 36,
                patch: 0,
                build: 0
            }
        );
        assert_eq!(v("12.1.105").key(), 12_001_105_000);
        assert!(v("2.5.1").key() < v("2.6.0").key());
        assert!(v("10.16.1").key() > v("10.9.0").key());
        assert_eq!(Version::parse("abc"), None);
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
