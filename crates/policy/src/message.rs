//! Findings that say what triggered them.
//!
//! A rule's `@message` may name attributes of its resource in braces —
//! `{resource.signature.summary}` — and each finding gets the values of the
//! entity it is about. A name the entity lacks is left as written, so a typo
//! shows in the output instead of vanishing.

use serde_json::Value;

/// `message` with every `{resource.PATH}` replaced from `attrs`.
pub fn interpolate(message: &str, attrs: &Value) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find("{resource.") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('}') else {
            out.push_str(after);
            return out;
        };
        let path = &after["{resource.".len()..end];
        match lookup(attrs, path) {
            Some(text) => out.push_str(&text),
            None => out.push_str(&after[..=end]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn lookup(attrs: &Value, path: &str) -> Option<String> {
    let value = path.split('.').try_fold(attrs, |v, key| v.get(key))?;
    Some(match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_replaced_and_unknown_ones_kept() {
        let attrs = json!({"user": "root", "ports": [22, 8888], "sig": {"summary": "none"}});
        assert_eq!(
            interpolate(
                "{resource.user} on {resource.ports}: {resource.sig.summary}",
                &attrs
            ),
            "root on 22, 8888: none"
        );
        assert_eq!(
            interpolate("{resource.nope} {x}", &attrs),
            "{resource.nope} {x}"
        );
        assert_eq!(
            interpolate("open {resource.user", &attrs),
            "open {resource.user"
        );
    }
}
