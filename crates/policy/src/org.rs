//! The organisation's own values: anything a policy should compare against
//! without a number written into the policy.
//!
//! `.gpubom.toml` may name more version floors than the built-in ones
//! (`[versions] cudnn_min = "9.0"`) and values of its own (`[org] team =
//! "ml-infra"`). Each becomes an attribute of the `Org` principal, and is
//! declared in the schema the policies are validated against, so
//! `principal.cudnn_min.key` type-checks and a misspelt
//! `principal.cudnn_mni` is an error, never a rule that silently never fires.

use crate::version::Version;
use gpubom_inventory::version::Ecosystem;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Attributes every `Org` has (see the schema); the organisation's own may not reuse them.
const BUILT_IN: &[&str] = &[
    "cuda_min",
    "pytorch_min",
    "tensorrt_denied",
    "allowed_port_specs",
    "restrict_ports",
    "require_signature",
    "signatures_required",
    "required_labels",
    "fleet_driver",
    "fleet_driver_string",
    "fleet_forward_compat",
    "fleet_gpus",
];

/// One value a policy reads as `principal.<name>`, typed for Cedar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgValue {
    /// A version floor or ceiling, as a Version record.
    Version(Version),
    Text(String),
    Number(i64),
    Flag(bool),
    Texts(Vec<String>),
    Numbers(Vec<i64>),
}

impl OrgValue {
    fn cedar_type(&self) -> &'static str {
        match self {
            OrgValue::Version(_) => "Version",
            OrgValue::Text(_) => "String",
            OrgValue::Number(_) => "Long",
            OrgValue::Flag(_) => "Bool",
            OrgValue::Texts(_) => "Set<String>",
            OrgValue::Numbers(_) => "Set<Long>",
        }
    }

    fn to_json(&self) -> Value {
        match self {
            OrgValue::Version(v) => v.to_json(),
            OrgValue::Text(s) => json!(s),
            OrgValue::Number(n) => json!(n),
            OrgValue::Flag(b) => json!(b),
            OrgValue::Texts(items) => json!(items),
            OrgValue::Numbers(items) => json!(items),
        }
    }

    /// An `[org]` value: a string, integer, boolean, or a list of strings or of integers.
    fn from_toml(value: &toml::Value) -> Result<OrgValue, String> {
        use toml::Value as T;
        Ok(match value {
            T::String(s) => OrgValue::Text(s.clone()),
            T::Integer(n) => OrgValue::Number(*n),
            T::Boolean(b) => OrgValue::Flag(*b),
            T::Array(items) if items.iter().all(T::is_str) => OrgValue::Texts(
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect(),
            ),
            T::Array(items) if items.iter().all(T::is_integer) => {
                OrgValue::Numbers(items.iter().filter_map(T::as_integer).collect())
            }
            _ => {
                return Err(
                    "must be a string, an integer, true/false, or a list of strings or of integers"
                        .into(),
                )
            }
        })
    }
}

/// The organisation's own values, by attribute name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgValues(BTreeMap<String, OrgValue>);

impl OrgValues {
    /// Reads `[versions]` floors beyond the built-in ones and the `[org]` table.
    pub fn read(
        versions: &BTreeMap<String, String>,
        org: &BTreeMap<String, toml::Value>,
    ) -> Result<OrgValues, String> {
        let mut out = BTreeMap::new();
        for (name, text) in versions {
            check_name(name, "[versions]")?;
            if !(name.ends_with("_min") || name.ends_with("_max")) {
                return Err(format!(
                    "[versions] {name}: version keys end in _min or _max \
                     (e.g. cudnn_min = \"9.0\"); put other values in [org]"
                ));
            }
            let version = Version::parse(Ecosystem::Generic, text)
                .ok_or_else(|| format!("[versions] {name} = {text:?} is not a version"))?;
            out.insert(name.clone(), OrgValue::Version(version));
        }
        for (name, value) in org {
            check_name(name, "[org]")?;
            if out.contains_key(name) {
                return Err(format!("[org] {name} is already set in [versions]"));
            }
            let value = OrgValue::from_toml(value).map_err(|why| format!("[org] {name} {why}"))?;
            out.insert(name.clone(), value);
        }
        Ok(OrgValues(out))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The values as `Org` attributes, for those `declared` in the pack's schema.
    pub(crate) fn attributes<'a>(
        &'a self,
        declared: &'a [String],
    ) -> impl Iterator<Item = (&'a str, Value)> + 'a {
        self.0
            .iter()
            .filter(move |(name, _)| declared.contains(name))
            .map(|(name, value)| (name.as_str(), value.to_json()))
    }

    /// The schema with these values declared on `Org`.
    pub(crate) fn extend_schema(&self, schema: &str) -> String {
        const ORG: &str = "entity Org = {\n";
        let declarations: String = self
            .0
            .iter()
            .map(|(name, value)| format!("    {name}: {},\n", value.cedar_type()))
            .collect();
        schema.replacen(ORG, &format!("{ORG}{declarations}"), 1)
    }
}

fn check_name(name: &str, table: &str) -> Result<(), String> {
    let identifier = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !identifier {
        return Err(format!(
            "{table} {name:?}: names are lower_snake_case, as policies write principal.<name>"
        ));
    }
    if BUILT_IN.contains(&name) {
        return Err(format!(
            "{table} {name}: every Org already has {name}; choose another name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(versions: &[(&str, &str)], org: &str) -> Result<OrgValues, String> {
        let versions = versions
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OrgValues::read(&versions, &toml::from_str(org).unwrap())
    }

    #[test]
    fn values_are_typed_for_the_schema() {
        let values = read(
            &[("cudnn_min", "9.0")],
            "team = \"ml\"\nmax_layers = 40\nstrict = true\nregions = [\"eu\"]\nports = [1, 2]\n",
        )
        .unwrap();
        let schema = values.extend_schema("entity Org = {\n    cuda_min: Version,\n};");
        for line in [
            "cudnn_min: Version,",
            "team: String,",
            "max_layers: Long,",
            "strict: Bool,",
            "regions: Set<String>,",
            "ports: Set<Long>,",
        ] {
            assert!(schema.contains(line), "{line} in {schema}");
        }
        let declared = vec!["cudnn_min".to_string()];
        let attrs: Vec<(&str, Value)> = values.attributes(&declared).collect();
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].1["major"], 9);
    }

    #[test]
    fn bad_names_and_values_are_errors() {
        assert!(read(&[("cudnn", "9.0")], "").unwrap_err().contains("_min"));
        assert!(read(&[("cudnn_min", "nine")], "")
            .unwrap_err()
            .contains("not a version"));
        assert!(read(&[], "cuda_min = \"1\"")
            .unwrap_err()
            .contains("already has"));
        assert!(read(&[], "Team = \"x\"")
            .unwrap_err()
            .contains("lower_snake_case"));
        assert!(read(&[], "mixed = [1, \"a\"]")
            .unwrap_err()
            .contains("list of strings"));
    }
}
