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
//! - `{resource.signature.summary|not looked for}`: after `|`, the text shown
//!   when an attribute on the way is absent. The schema marks such attributes
//!   optional (`signature?`, `version?`), and a placeholder that reaches one
//!   must give this fallback: the pack does not load otherwise (see
//!   [`crate::placeholders`], which checks every name against the schema).
//!
//! Each finding gets the values of its own entity, in its message (and
//! remediation) and as evidence (placeholder → value) for the
//! machine-readable reports.

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

/// One `{…}` in a message: a path (`resource.version.mmp`) or the difference
/// of two (`A - B`), and the text to show when a value is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder<'a> {
    /// As written between the braces.
    pub written: &'a str,
    /// One path, or the two sides of a difference, each split at `.`.
    pub paths: Vec<Vec<&'a str>>,
    pub fallback: Option<&'a str>,
}

impl<'a> Placeholder<'a> {
    fn parse(written: &'a str) -> Placeholder<'a> {
        let (expression, fallback) = match written.split_once('|') {
            Some((expression, fallback)) => (expression, Some(fallback.trim())),
            None => (written, None),
        };
        let sides: Vec<&str> = match expression.split_once(" - ") {
            Some((left, right)) => vec![left, right],
            None => vec![expression],
        };
        Placeholder {
            written,
            paths: sides
                .into_iter()
                .map(|side| side.trim().split('.').collect())
                .collect(),
            fallback,
        }
    }

    /// The placeholder without its fallback, as evidence names it.
    fn expression(&self) -> String {
        self.paths
            .iter()
            .map(|path| path.join("."))
            .collect::<Vec<_>>()
            .join(" - ")
    }
}

/// A message as literal text and placeholders, in order.
pub enum Piece<'a> {
    Text(&'a str),
    Placeholder(Placeholder<'a>),
}

/// Splits `message` at its placeholders; an unclosed `{` is text.
pub fn pieces(message: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push(Piece::Text(&rest[..start]));
        out.push(Piece::Placeholder(Placeholder::parse(
            &rest[start + 1..start + end],
        )));
        rest = &rest[start + end + 1..];
    }
    out.push(Piece::Text(rest));
    out
}

/// `message` with every placeholder replaced from `scope`.
pub fn interpolate(message: &str, scope: &Scope) -> Rendered {
    let mut text = String::with_capacity(message.len());
    let mut evidence = BTreeMap::new();
    for piece in pieces(message) {
        let placeholder = match piece {
            Piece::Text(literal) => {
                text.push_str(literal);
                continue;
            }
            Piece::Placeholder(placeholder) => placeholder,
        };
        let shown = match (evaluate(&placeholder, scope), placeholder.fallback) {
            (Some(value), _) => show(&value),
            (None, Some(fallback)) => fallback.to_string(),
            // A pack that loaded has no such placeholder; keep it visible.
            (None, None) => {
                text.push_str(&format!("{{{}}}", placeholder.written));
                continue;
            }
        };
        text.push_str(&shown);
        evidence.insert(placeholder.expression(), shown);
    }
    Rendered { text, evidence }
}

/// The rule's message as a description of the rule, placeholders elided.
pub fn without_placeholders(message: &str) -> String {
    pieces(message)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(literal) => literal,
            Piece::Placeholder(_) => "…",
        })
        .collect()
}

fn evaluate(placeholder: &Placeholder, scope: &Scope) -> Option<Value> {
    match placeholder.paths.as_slice() {
        [path] => lookup(path, scope),
        [left, right] => {
            let (Value::Array(left), Value::Array(right)) =
                (lookup(left, scope)?, lookup(right, scope)?)
            else {
                return None;
            };
            Some(Value::Array(
                left.into_iter().filter(|v| !right.contains(v)).collect(),
            ))
        }
        _ => None,
    }
}

fn lookup(path: &[&str], scope: &Scope) -> Option<Value> {
    let (root, rest) = path.split_first()?;
    let attrs = match *root {
        "resource" => scope.resource,
        "principal" => scope.principal,
        _ => return None,
    };
    if rest.is_empty() {
        return None;
    }
    rest.iter().try_fold(attrs, |v, key| v.get(*key)).cloned()
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
    fn a_fallback_stands_for_what_is_absent() {
        let r = render(
            "{resource.sig.summary|none looked for}; {resource.nope.summary|none looked for}",
        );
        assert_eq!(r.text, "none; none looked for");
        assert_eq!(r.evidence["resource.nope.summary"], "none looked for");
    }

    #[test]
    fn rule_descriptions_elide_placeholders() {
        assert_eq!(
            without_placeholders("exposes {resource.ports - principal.allowed} (not allowed)"),
            "exposes … (not allowed)"
        );
    }
}
