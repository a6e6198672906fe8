//! Organisation values and waivers, from `.gpubom.toml` — so rules never
//! need editing when a minimum version or an allowed port changes.
//!
//! ```toml
//! [versions]
//! cuda_min = "11.8"
//! pytorch_min = "2.6.0"
//! cudnn_min = "9.0"             # any *_min / *_max: principal.cudnn_min, a Version
//! tensorrt_denied = ["8.4.1", "8.5.0", "8.5.1", "8.5.2", "8.5.3"]
//!
//! [ports]
//! allowed = [8000, 8080]        # empty: any port not denied by a rule
//!
//! [labels]
//! required = ["org.opencontainers.image.source", "org.opencontainers.image.revision"]
//!
//! [signatures]
//! keys = ["cosign.pub"]          # then every image needs a signature one of them verifies
//! required = true               # and one whose signatures cannot be checked fails too
//!
//! [rules]
//! disable = ["missing-source-labels"]           # by @id
//! severity = { "image-reference-unpinned" = "high" }
//!
//! [fleet]                       # the GPUs and the oldest driver images must run on
//! driver = "535.183.01"
//! gpus = ["A100", "H100", "sm_89"]
//!
//! [org]                         # the organisation's own values: principal.team, …
//! team = "ml-infra"
//!
//! [[waivers]]
//! rule = "model-hash-unverified"
//! match = "/models/*.onnx"      # glob on the subject's path or name; "*" for all
//! reason = "pinned upstream by the model registry"
//! expires = "2027-01-31"
//! ```

use crate::entities::Version;
use crate::fleet::Fleet;
use crate::org::OrgValues;
use crate::Severity;
use gpubom_inventory::version::Ecosystem;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub versions: Versions,
    pub ports: Ports,
    pub labels: Labels,
    pub signatures: Signatures,
    pub rules: Rules,
    pub fleet: Fleet,
    /// The organisation's own values, as written; see [`Config::org_values`].
    org: BTreeMap<String, toml::Value>,
    pub waivers: Vec<Waiver>,
    /// `[org]` and the extra `[versions]` floors, typed (filled by [`Config::parse`]).
    #[serde(skip)]
    pub org_values: OrgValues,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Versions {
    pub cuda_min: String,
    pub pytorch_min: String,
    /// `major.minor.patch` versions; a TensorRT 8.5.1.7 matches `8.5.1`.
    pub tensorrt_denied: Vec<String>,
    /// Every other `*_min` / `*_max` (`cudnn_min = "9.0"`), checked by [`OrgValues::read`].
    #[serde(flatten)]
    pub floors: BTreeMap<String, String>,
}

/// Turning default rules off, or changing how much they matter, by `@id`,
/// without copying the pack or waiving everything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    pub disable: Vec<String>,
    /// `@id` → `low`, `medium`, `high` or `critical`.
    severity: BTreeMap<String, String>,
}

impl Rules {
    /// The severity overrides, parsed (checked by [`Config::parse`]).
    pub fn severities(&self) -> impl Iterator<Item = (&str, Severity)> {
        self.severity
            .iter()
            .filter_map(|(id, s)| Some((id.as_str(), s.parse().ok()?)))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ports {
    pub allowed: Vec<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Labels {
    pub required: Vec<String>,
}

/// Who may sign images. Giving anyone makes a verified signature required
/// wherever signatures can be looked for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Signatures {
    /// cosign public keys (`cosign.pub`), relative to the config file.
    #[serde(alias = "trusted")]
    pub keys: Vec<String>,
    /// Fail closed: an image whose signatures cannot be checked (a
    /// docker-archive, a directory, an SBOM that does not record them) is a
    /// finding too, not a pass.
    pub required: bool,
    /// Keyless signers: certificate subject and OIDC issuer.
    pub identities: Vec<SignerIdentity>,
    /// Sigstore's `trusted_root.json`, relative to the config file: what
    /// keyless signatures are verified against, offline.
    pub trusted_root: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerIdentity {
    pub subject: String,
    pub issuer: String,
}

impl Signatures {
    /// Whether anyone is trusted to sign: then an image must carry a signature that verifies.
    pub fn names_signers(&self) -> bool {
        !self.keys.is_empty() || !self.identities.is_empty()
    }

    /// `required = true` with nobody to verify against can only ever fail:
    /// said once, as an error, rather than on every image.
    pub fn check(&self) -> Result<(), String> {
        if self.required && !self.names_signers() {
            return Err("[signatures] required = true, but no key or identity is trusted: add keys = [\"cosign.pub\"] or [[signatures.identities]], or pass --key".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub rule: String,
    #[serde(rename = "match")]
    pub pattern: String,
    pub reason: String,
    /// `YYYY-MM-DD`; the waiver stops applying after this day.
    pub expires: String,
}

impl Default for Versions {
    fn default() -> Self {
        Versions {
            // CUDA 11.8 is the oldest toolkit current PyTorch and TensorRT releases still build for.
            cuda_min: "11.8".into(),
            // CVE-2025-32434: torch.load's weights_only is bypassable before 2.6.0.
            pytorch_min: "2.6.0".into(),
            // The deny-list example from the TensorRT advisory article this product came from.
            tensorrt_denied: ["8.4.1", "8.5.0", "8.5.1", "8.5.2", "8.5.3"]
                .map(String::from)
                .into(),
            floors: BTreeMap::new(),
        }
    }
}

impl Default for Labels {
    fn default() -> Self {
        Labels {
            required: vec![
                "org.opencontainers.image.source".into(),
                "org.opencontainers.image.revision".into(),
            ],
        }
    }
}

impl Config {
    pub fn parse(text: &str, origin: &str) -> Result<Config, String> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| format!("{origin}: {}", e.to_string().trim_end()))?;
        config.org_values = OrgValues::read(&config.versions.floors, &config.org)
            .map_err(|why| format!("{origin}: {why}"))?;
        for (id, severity) in &config.rules.severity {
            if severity.parse::<Severity>().is_err() {
                return Err(format!(
                    "{origin}: [rules] severity for {id:?} is {severity:?}; write low, medium, high or critical"
                ));
            }
        }
        for (what, ecosystem, v) in [
            ("cuda_min", Ecosystem::Generic, &config.versions.cuda_min),
            ("pytorch_min", Ecosystem::Pypi, &config.versions.pytorch_min),
        ] {
            if Version::parse(ecosystem, v).is_none() {
                return Err(format!(
                    "{origin}: [versions] {what} = {v:?} is not a version"
                ));
            }
        }
        config
            .fleet
            .gpus()
            .map_err(|why| format!("{origin}: {why}"))?;
        config
            .fleet
            .driver()
            .map_err(|why| format!("{origin}: {why}"))?;
        for w in &config.waivers {
            if !is_date(&w.expires) {
                return Err(format!(
                    "{origin}: waiver for {:?} has expires = {:?}; write it as YYYY-MM-DD",
                    w.rule, w.expires
                ));
            }
        }
        Ok(config)
    }

    /// CUDA versions are dotted numbers (generic ordering).
    pub fn cuda_min(&self) -> Version {
        Version::parse(Ecosystem::Generic, &self.versions.cuda_min).unwrap_or_default()
    }

    /// PyTorch versions are PyPI's: PEP 440.
    pub fn pytorch_min(&self) -> Version {
        Version::parse(Ecosystem::Pypi, &self.versions.pytorch_min).unwrap_or_default()
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
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

    #[test]
    fn typos_are_errors() {
        let err = Config::parse("[version]\ncuda_min = \"12.0\"\n", "x.toml").unwrap_err();
        assert!(err.contains("version"), "{err}");
        let err = Config::parse(
            "[[waivers]]\nrule=\"a\"\nmatch=\"*\"\nreason=\"r\"\nexpires=\"soon\"\n",
            "x.toml",
        )
        .unwrap_err();
        assert!(err.contains("YYYY-MM-DD"), "{err}");
    }
}
