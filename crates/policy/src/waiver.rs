//! One waiver as `.gpubom.toml` writes it, and what can be checked of it
//! without the rule pack or the day: a date that exists, a reason, a `match`
//! narrower than everything (unless the organisation allows wildcards), a
//! well-formed `sha256`.
//!
//! The configuration holds waivers and checks them as it parses; applying
//! them to findings (in `waivers`) needs the configuration, the pack and the
//! findings. Keeping the written form here lets both use it without either
//! importing the other.

use serde::{Deserialize, Serialize};

/// One `[[waivers]]` entry of `.gpubom.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub rule: String,
    /// A glob (`*` matches any run of characters) on the subject's name,
    /// identity or path.
    #[serde(rename = "match")]
    pub pattern: String,
    pub reason: String,
    /// `YYYY-MM-DD`; the waiver stops applying after this day.
    pub expires: String,
    /// The sha256 (hex) of the file the waiver is for: it then covers only a
    /// subject with those bytes.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// `[waiver_limits]`: what the organisation lets a waiver do. (Not
/// `[waivers]`: in TOML that name is already the array of `[[waivers]]`.)
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WaiverLimits {
    /// The most days from the day of the check to a waiver's `expires`.
    pub max_days: Option<u32>,
    /// Whether a `match` may cover every subject (`*`, `/*`, `**`).
    pub allow_wildcards: bool,
}

/// The waiver a finding was waived by, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waived {
    pub reason: String,
    pub expires: String,
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Waiver {
    /// How errors name it: `the waiver for RULE matching "PATTERN"`.
    pub(crate) fn describe(&self) -> String {
        format!("the waiver for {} matching {:?}", self.rule, self.pattern)
    }

    pub(crate) fn waived(&self) -> Waived {
        Waived {
            reason: self.reason.clone(),
            expires: self.expires.clone(),
            pattern: self.pattern.clone(),
            sha256: self.sha256.clone(),
        }
    }
}

/// What can be checked of the waivers as written, without the rule pack or
/// the date: called when the configuration is parsed. `sha256` is normalised
/// to lower-case hex.
pub(crate) fn check_written(waivers: &mut [Waiver], limits: &WaiverLimits) -> Result<(), String> {
    for waiver in waivers {
        let name = waiver.describe();
        if !gpubom_inventory::time::is_date(&waiver.expires) {
            return Err(format!(
                "{name} has expires = {:?}, which is not a date; write a real day as YYYY-MM-DD",
                waiver.expires
            ));
        }
        if waiver.reason.trim().is_empty() {
            return Err(format!(
                "{name} gives no reason; say why the finding is accepted"
            ));
        }
        if is_wildcard(&waiver.pattern) && !limits.allow_wildcards {
            return Err(format!(
                "{name} covers every subject; name the image, component or path it is for \
                 (or allow it with [waiver_limits] allow_wildcards = true)"
            ));
        }
        if let Some(pin) = &mut waiver.sha256 {
            let written = pin.as_str();
            let hex = written
                .strip_prefix("sha256:")
                .unwrap_or(written)
                .to_ascii_lowercase();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "{name} has sha256 = {pin:?}; write the file's 64 hex digits (sha256sum)"
                ));
            }
            *pin = hex;
        }
    }
    Ok(())
}

/// A `match` that no subject can fail: nothing in it but `*` and `/`.
fn is_wildcard(pattern: &str) -> bool {
    pattern.chars().all(|c| c == '*' || c == '/')
}

/// `*` matches any run of characters (including `/`); everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("/models/*.onnx", "/models/a/b.onnx"));
        assert!(!glob_match("/models/*.onnx", "/models/a.pt"));
        assert!(glob_match("torch", "torch"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxcyyb"));
    }

    fn written(waiver: &str, limits: &WaiverLimits) -> Result<Vec<Waiver>, String> {
        #[derive(Deserialize)]
        struct Doc {
            waivers: Vec<Waiver>,
        }
        let mut doc: Doc = toml::from_str(waiver).map_err(|e| e.to_string())?;
        check_written(&mut doc.waivers, limits).map(|()| doc.waivers)
    }

    const BASE: &str = "[[waivers]]\nrule = \"unsafe-pickle\"\nreason = \"vendor model\"\n";

    #[test]
    fn only_real_days_expire() {
        let limits = WaiverLimits::default();
        let at = |date: &str| {
            written(
                &format!("{BASE}match = \"/m/x.pkl\"\nexpires = \"{date}\"\n"),
                &limits,
            )
        };
        assert!(at("2028-02-29").is_ok());
        for bad in ["2027-02-30", "2027-13-01", "soon", "2027-2-01"] {
            let err = at(bad).unwrap_err();
            assert!(
                err.contains("the waiver for unsafe-pickle matching \"/m/x.pkl\"")
                    && err.contains(bad),
                "{err}"
            );
        }
    }

    #[test]
    fn wildcards_need_the_organisation_s_leave() {
        let wild = |pattern: &str, limits: &WaiverLimits| {
            written(
                &format!("{BASE}match = \"{pattern}\"\nexpires = \"2027-01-01\"\n"),
                limits,
            )
        };
        for pattern in ["*", "**", "/*", "*/*", ""] {
            let err = wild(pattern, &WaiverLimits::default()).unwrap_err();
            assert!(err.contains("covers every subject"), "{pattern}: {err}");
            let allowed = WaiverLimits {
                allow_wildcards: true,
                ..Default::default()
            };
            assert!(wild(pattern, &allowed).is_ok(), "{pattern}");
        }
        for narrow in ["/models/*.pkl", "example.com/*", "torch"] {
            assert!(wild(narrow, &WaiverLimits::default()).is_ok(), "{narrow}");
        }
    }

    #[test]
    fn a_pin_is_a_sha256_and_a_reason_is_required() {
        let limits = WaiverLimits::default();
        let pinned = |pin: &str| {
            written(
                &format!(
                    "{BASE}match = \"/m/x.pkl\"\nexpires = \"2027-01-01\"\nsha256 = \"{pin}\"\n"
                ),
                &limits,
            )
        };
        let hex = "AB".repeat(32);
        let ok = pinned(&format!("sha256:{hex}")).unwrap();
        assert_eq!(ok[0].sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert!(pinned("abc").unwrap_err().contains("64 hex digits"));
        let unreasoned = written(
            "[[waivers]]\nrule = \"r\"\nmatch = \"x\"\nreason = \" \"\nexpires = \"2027-01-01\"\n",
            &limits,
        );
        assert!(unreasoned.unwrap_err().contains("no reason"));
    }
}
