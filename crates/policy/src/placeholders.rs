//! `@message` and `@remediation` placeholders, checked against the schema
//! when the pack loads.
//!
//! Cedar validates a rule's condition but not its annotations, and a
//! placeholder that names nothing prints as written: `{resource.pth}` would
//! reach every report literally. So each placeholder is walked through the
//! schema here, for every entity type the rule can apply to: an unknown
//! attribute is an error that lists the valid names; a path through an
//! optional attribute (`version?`, `signature?`) must say what to show when
//! it is absent (`{resource.signature.summary|not looked for}`); a record is
//! not a value to show (name one of its fields); a difference needs two sets.

use serde_json::Value;

use crate::message::{pieces, Piece, Placeholder};
use crate::schema::NAMESPACE;

/// The attribute types of the schema's entities, as Cedar's JSON schema
/// format writes them (common types resolved by name on the way).
pub(crate) struct Shapes {
    namespace: Value,
}

impl Shapes {
    pub(crate) fn of(schema_text: &str) -> Result<Shapes, String> {
        let (json, _) = cedar_policy::schema_str_to_json_with_resolved_types(schema_text)
            .map_err(|e| e.to_string())?;
        Ok(Shapes {
            namespace: json[NAMESPACE].clone(),
        })
    }

    /// An entity type's shape (a record type).
    fn entity(&self, name: &str) -> Option<&Value> {
        self.namespace["entityTypes"].get(name)?.get("shape")
    }

    /// `ty` with a reference to a common type (`"Gpubom::Version"`) replaced
    /// by its definition.
    fn resolve<'a>(&'a self, ty: &'a Value) -> &'a Value {
        let common = ty["type"]
            .as_str()
            .map(|name| name.trim_start_matches(NAMESPACE))
            .and_then(|name| name.strip_prefix("::"))
            .and_then(|name| self.namespace["commonTypes"].get(name));
        common.map_or(ty, |definition| self.resolve(definition))
    }
}

/// What a placeholder's path ends on.
enum End {
    Set,
    Other,
}

/// Checks every placeholder of an annotation's `text`. `resources` are the
/// entity types the rule's resource can be; `Err` says what is wrong with
/// which placeholder.
pub(crate) fn check(text: &str, resources: &[&str], shapes: &Shapes) -> Result<(), String> {
    for piece in pieces(text) {
        let Piece::Placeholder(placeholder) = piece else {
            continue;
        };
        check_one(&placeholder, resources, shapes)
            .map_err(|why| format!("{{{}}} {why}", placeholder.written))?;
    }
    Ok(())
}

fn check_one(placeholder: &Placeholder, resources: &[&str], shapes: &Shapes) -> Result<(), String> {
    let mut ends = Vec::new();
    for path in &placeholder.paths {
        let entities: &[&str] = match path.first() {
            Some(&"resource") => resources,
            Some(&"principal") => &["Org"],
            _ => {
                return Err(
                    "is not a placeholder: write {resource.NAME} or {principal.NAME} \
                     (`gpubom policy schema` lists the names)"
                        .into(),
                )
            }
        };
        for entity in entities {
            let (end, optional) = walk(entity, &path[1..], shapes)?;
            if let (Some(attribute), None) = (optional, placeholder.fallback) {
                return Err(format!(
                    "reaches {attribute}, which {entity} may not have (optional in the schema): \
                     say what to show then, as {{{}|TEXT}}",
                    placeholder.written
                ));
            }
            ends.push(end);
        }
    }
    if placeholder.paths.len() == 2 && ends.iter().any(|end| !matches!(end, End::Set)) {
        return Err("subtracts what is not a set: both sides of `-` must be sets".into());
    }
    Ok(())
}

/// Follows `path` from `entity`'s attributes: what it ends on, and the first
/// optional attribute on the way.
fn walk(entity: &str, path: &[&str], shapes: &Shapes) -> Result<(End, Option<String>), String> {
    let mut ty = shapes
        .entity(entity)
        .ok_or_else(|| format!("names {entity}, which the schema does not have"))?;
    let mut optional = None;
    let mut here = entity.to_string();
    if path.is_empty() {
        return Err("names no attribute".into());
    }
    for key in path {
        let attributes = match ty["type"].as_str() {
            Some("Record") => &ty["attributes"],
            _ => return Err(format!("reads .{key} of {here}, which has no attributes")),
        };
        let Some(attribute) = attributes.get(*key) else {
            let names: Vec<&str> = attributes
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            return Err(format!(
                "names {key}, which {here} does not have; its attributes are: {}",
                names.join(", ")
            ));
        };
        if attribute["required"] == Value::Bool(false) && optional.is_none() {
            optional = Some(format!("{here}.{key}"));
        }
        here = format!("{here}.{key}");
        ty = shapes.resolve(attribute);
    }
    match ty["type"].as_str() {
        Some("Record") => {
            let fields: Vec<&str> = ty["attributes"]
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            Err(format!(
                "names {here}, a record, which does not print as a value; name one of its fields: {}",
                fields.join(", ")
            ))
        }
        Some("Set") => Ok((End::Set, optional)),
        _ => Ok((End::Other, optional)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(text: &str, resources: &[&str]) -> Result<(), String> {
        let shapes = Shapes::of(crate::schema::SCHEMA).unwrap();
        check(text, resources, &shapes)
    }

    #[test]
    fn names_the_schema_has_pass() {
        for text in [
            "{resource.name} {resource.version_string} {principal.cuda_min.mmp}",
            "{resource.exposed_port_specs - principal.allowed_port_specs}",
            "{resource.version.mmp|unknown} {resource.family} {resource.kind}",
            "no placeholder at all, and an unclosed {brace",
        ] {
            let resources = if text.contains("exposed") {
                &["Image"][..]
            } else {
                &["Component"][..]
            };
            assert_eq!(checked(text, resources), Ok(()), "{text}");
        }
    }

    #[test]
    fn a_misspelt_name_lists_the_valid_ones() {
        let err = checked("port {resource.pth}", &["Model"]).unwrap_err();
        assert!(
            err.starts_with("{resource.pth} names pth, which Model does not have")
                && err.contains("path, "),
            "{err}"
        );
        let err = checked("{principal.cudnn_min.mmp}", &["Component"]).unwrap_err();
        assert!(err.contains("Org does not have"), "{err}");
        let err = checked("{x}", &["Image"]).unwrap_err();
        assert!(err.contains("{resource.NAME}"), "{err}");
    }

    #[test]
    fn optional_attributes_need_a_fallback() {
        let err = checked("{resource.signature.summary}", &["Image"]).unwrap_err();
        assert!(
            err.contains("reaches Image.signature") && err.contains("|TEXT}"),
            "{err}"
        );
        assert!(checked("{resource.signature.summary|none looked for}", &["Image"]).is_ok());
        // A rule that applies to several entity types is checked for each.
        let err = checked("{resource.version_string}", &["Component", "Model"]).unwrap_err();
        assert!(err.contains("Model does not have"), "{err}");
    }

    #[test]
    fn records_and_non_sets_are_refused() {
        let err = checked("{resource.version|?}", &["Component"]).unwrap_err();
        assert!(err.contains("a record") && err.contains("mmp"), "{err}");
        let err = checked("{resource.user - principal.required_labels}", &["Image"]).unwrap_err();
        assert!(err.contains("both sides of `-` must be sets"), "{err}");
    }
}
