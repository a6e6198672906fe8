//! The Cedar schema every policy is validated against, and what the code
//! reads out of it: its namespace and the members of its enums.
//!
//! The pack validates policies against it, the entities name its types and
//! pick enum members from it, and the placeholders of a rule's message are
//! checked against its shapes; it sits below all of them.

use std::collections::BTreeMap;

/// The schema every policy is validated against.
pub const SCHEMA: &str = include_str!("../../../schemas/gpubom.cedarschema");

/// The schema's namespace: every entity type is `Gpubom::…`.
pub const NAMESPACE: &str = "Gpubom";

/// The members of every `entity NAME enum [...]` in the schema, by name.
pub(crate) fn enums(schema: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut rest = schema;
    while let Some(start) = rest.find("entity ") {
        rest = &rest[start + "entity ".len()..];
        let Some((name, body)) = rest.split_once(" enum [") else {
            continue;
        };
        if name.contains(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
            continue;
        }
        let members = body[..body.find(']').unwrap_or(0)]
            .split(',')
            .map(|item| item.trim().trim_matches('"').to_string())
            .filter(|item| !item.is_empty())
            .collect();
        out.insert(name.to_string(), members);
    }
    out
}
