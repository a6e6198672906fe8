//! Findings that say what triggered them.
//!
//! Cedar answers "deny" and names the policy, never the value that decided
//! it, so a rule's `@message` names those values itself, in braces:
//!
//! - `{resource.version_string}`, `{principal.cuda_min.mmp}`: an attribute of
//!   the entity the finding is about, or of the organisation;
//! - `{resource.exposed_ports - principal.allowed_ports}`: the members of one
//!   set missing from another — the port that is not allowed, the label that
//!   is not there — which a rule's `containsAll` tests but cannot name.
//!
//! Each finding gets the values of its own entity, in its message and as
//! evidence (placeholder → value) for the machine-readable reports. A name the
//! entity lacks is left as written, so a typo shows in the output instead of
//! vanishing.

use serde_json::Value;
use std::collections::BTreeMap;

/// A message with its placeholders filled in, and what each one was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// Placeholder (without braces) → the value it stood for.
    pub evidence: BTreeMap<String, String>,
}

/// The attributes a placeholder may read.
pub struct Scope<'a> {
    pub resource: &'a Value,
    pub principal: &'a Value,
}

/// `message` with every placeholder replaced from `scope`.
pub fn interpolate(message: &str, scope: &Scope) -> Rendered {
    let mut text = String::with_capacity(message.len());
    let mut evidence = BTreeMap::new();
    let mut rest = message;
    while let Some(start) = rest.find('{') {
        text.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('}') else {
            text.push_str(after);
            rest = "";
            break;
        };
        let expression = &after[1..end];
        match evaluate(expression, scope) {
            Some(value) => {
                let shown = show(&value);
                text.push_str(&shown);
                evidence.insert(expression.trim().to_string(), shown);
            }
            None => text.push_str(&after[..=end]),
        }
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    Rendered { text, evidence }
}

/// The rule's message as a description of the rule, placeholders elided.
pub fn without_placeholders(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push('…');
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

fn evaluate(expression: &str, scope: &Scope) -> Option<Value> {
    match expression.split_once(" - ") {
        Some((left, right)) => {
            let (Value::Array(left), Value::Array(right)) =
                (lookup(left.trim(), scope)?, lookup(right.trim(), scope)?)
            else {
                return None;
            };
            Some(Value::Array(
                left.into_iter().filter(|v| !right.contains(v)).collect(),
            ))
        }
        None => lookup(expression.trim(), scope),
    }
}

fn lookup(path: &str, scope: &Scope) -> Option<Value> {
    let (root, rest) = path.split_once('.')?;
    let attrs = match root {
        "resource" => scope.resource,
        "principal" => scope.principal,
        _ => return None,
    };
    rest.split('.')
        .try_fold(attrs, |v, key| v.get(key))
        .cloned()
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "(none)".into(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(", "),
        // An entity reference shows as its id: `cudnn`, not its JSON.
        Value::Object(fields) if fields.contains_key("__entity") => show(&fields["__entity"]["id"]),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(message: &str) -> Rendered {
        let resource = json!({
            "user": "root", "ports": [22, 8000, 8888], "labels": ["a"],
            "sig": {"summary": "none"}, "version_string": "11.7.1",
        });
        let principal = json!({
            "allowed": [8000], "required": ["a", "b", "c"],
            "cuda_min": {"mmp": "11.8.0"},
        });
        interpolate(
            message,
            &Scope {
                resource: &resource,
                principal: &principal,
            },
        )
    }

    #[test]
    fn names_are_replaced_and_unknown_ones_kept() {
        let r = render("{resource.user} on {resource.ports}: {resource.sig.summary}");
        assert_eq!(r.text, "root on 22, 8000, 8888: none");
        assert_eq!(r.evidence["resource.ports"], "22, 8000, 8888");
        assert_eq!(
            render("{resource.nope} {x} {other.user}").text,
            "{resource.nope} {x} {other.user}"
        );
        assert_eq!(render("open {resource.user").text, "open {resource.user");
    }

    #[test]
    fn differences_name_what_a_containment_test_found_missing() {
        let r = render("port {resource.ports - principal.allowed} is not allowed");
        assert_eq!(r.text, "port 22, 8888 is not allowed");
        assert_eq!(
            render("missing {principal.required - resource.labels}").text,
            "missing b, c"
        );
        assert_eq!(
            render("{resource.version_string} < {principal.cuda_min.mmp}").evidence,
            BTreeMap::from([
                ("resource.version_string".into(), "11.7.1".into()),
                ("principal.cuda_min.mmp".into(), "11.8.0".into()),
            ])
        );
        // A difference of non-sets is not one: left as written.
        assert_eq!(
            render("{resource.user - principal.allowed}").text,
            "{resource.user - principal.allowed}"
        );
    }

    #[test]
    fn rule_descriptions_elide_placeholders() {
        assert_eq!(
            without_placeholders("exposes {resource.ports - principal.allowed} (not allowed)"),
            "exposes … (not allowed)"
        );
    }
}
