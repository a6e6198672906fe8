//! Organisation values and waivers, from `.gpubom.toml` — so rules never
//! need editing when a minimum version or an allowed port changes.
//!
//! ```toml
//! [versions]
//! cuda_min = "11.8"
//! pytorch_min = "2.6.0"
//! cudnn_min = "9.0"             # any *_min / *_max: principal.cudnn_min, a Version
//! tensorrt_denied = ["8.5.1"]  # the organisation's own deny-list; empty by default
//!
//! [ports]
//! allowed = [8000, "8080/tcp", "53/udp"]   # a bare number is tcp; empty: any port not denied by a rule
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
//! [registry]                    # hosts besides the registry's own that may receive
//! credential_hosts = ["auth.example.com"]   # GPUBOM_REGISTRY_USERNAME/PASSWORD
//!
//! [local]                       # what `gpubom check --local` and scripts/pre-push check:
//! images = ["app:dev", "podman:worker:dev"]  # images in the engine (docker: unless podman:)
//!
//! [org]                         # the organisation's own values: principal.team, …
//! team = "ml-infra"
//!
//! [waiver_limits]
//! max_days = 90                 # no waiver expires further than this from the day of the check
//! allow_wildcards = false       # a match that covers every subject ("*") is refused
//!
//! [[waivers]]
//! rule = "model-hash-unverified"
//! match = "/models/*.onnx"      # glob on the subject's path or name
//! reason = "pinned upstream by the model registry"
//! expires = "2027-01-31"
//! sha256 = "…"                  # optional: only the file with these bytes
//! ```

use crate::fleet::Fleet;
use crate::org::OrgValues;
use crate::version::Version;
use crate::Severity;
use gpubom_inventory::version::Ecosystem;
use serde::Deserialize;
use std::collections::BTreeMap;

pub use crate::waiver::{glob_match, Waiver, WaiverLimits};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub versions: Versions,
    pub ports: Ports,
    pub labels: Labels,
    pub signatures: Signatures,
    pub rules: Rules,
    pub fleet: Fleet,
    pub registry: Registry,
    pub local: Local,
    /// The organisation's own values, as written; see [`Config::org_values`].
    org: BTreeMap<String, toml::Value>,
    pub waivers: Vec<Waiver>,
    pub waiver_limits: WaiverLimits,
    /// `[org]` and the extra `[versions]` floors, typed (filled by [`Config::parse`]).
    #[serde(skip)]
    pub org_values: OrgValues,
    /// Where it was read from, for errors found after parsing; empty for the defaults.
    #[serde(skip)]
    pub origin: String,
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
    /// As written: port numbers (tcp) and `"port/protocol"` strings; see [`Ports::allowed_specs`].
    allowed: Vec<PortEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum PortEntry {
    Number(i64),
    Spec(String),
}

impl Ports {
    /// Each allowed port as `"port/protocol"`: a bare number, or a string
    /// without a protocol, is tcp, as an OCI config's `"8000"` is.
    pub fn allowed_specs(&self) -> Result<Vec<String>, String> {
        self.allowed
            .iter()
            .map(|entry| {
                let written = match entry {
                    PortEntry::Number(n) => n.to_string(),
                    PortEntry::Spec(s) => s.clone(),
                };
                port_spec(&written).ok_or_else(|| {
                    format!(
                        "[ports] allowed has {written:?}; write a port (8000, tcp) or \"port/protocol\" (\"53/udp\")"
                    )
                })
            })
            .collect()
    }
}

/// `"8000"`, `"8000/TCP"` → `"8000/tcp"`; `None` for what is not a port
/// (1–65535) with an optional tcp, udp or sctp.
pub fn port_spec(written: &str) -> Option<String> {
    let (number, protocol) = written
        .trim()
        .split_once('/')
        .unwrap_or((written.trim(), "tcp"));
    let number: u16 = number.parse().ok().filter(|n| *n > 0)?;
    let protocol = protocol.to_ascii_lowercase();
    ["tcp", "udp", "sctp"]
        .contains(&protocol.as_str())
        .then(|| format!("{number}/{protocol}"))
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

/// Where the registry credentials of the environment may be sent besides the registry
/// itself: its token service on another host, say (Docker Hub's is `auth.docker.io`).
/// Each is `host` (on the default port) or `host:port`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Registry {
    pub credential_hosts: Vec<String>,
}

impl Registry {
    fn check(&self) -> Result<(), String> {
        let not_a_host = |h: &&String| {
            h.is_empty() || h.contains(['/', '@', '?', '#']) || h.chars().any(char::is_whitespace)
        };
        match self.credential_hosts.iter().find(not_a_host) {
            Some(h) => Err(format!(
                "[registry] credential_hosts has {h:?}; write a host or host:port, without a scheme or path"
            )),
            None => Ok(()),
        }
    }
}

/// The images a developer builds locally and checks before pushing: each a
/// name, ID or digest in the container engine, `podman:` for podman's, else
/// docker's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Local {
    pub images: Vec<String>,
}

impl Local {
    /// Each image as a source spec: `docker:NAME` unless written `podman:NAME`.
    pub fn sources(&self) -> Vec<String> {
        self.images
            .iter()
            .map(|image| match image.split_once(':') {
                Some(("docker" | "podman", _)) => image.clone(),
                _ => format!("docker:{image}"),
            })
            .collect()
    }

    fn check(&self) -> Result<(), String> {
        let plain = |b: u8| b.is_ascii_alphanumeric() || b"._-/:@".contains(&b);
        let not_an_image = |i: &&String| {
            let name = i
                .strip_prefix("docker:")
                .or_else(|| i.strip_prefix("podman:"))
                .unwrap_or(i);
            name.is_empty() || !name.bytes().all(plain) || name.contains("://")
        };
        match self.images.iter().find(not_an_image) {
            Some(i) => Err(format!(
                "[local] images has {i:?}; write an image in the engine: NAME[:TAG], \
                 NAME@sha256:DIGEST or an image ID, podman: first for podman's"
            )),
            None => Ok(()),
        }
    }
}

impl Default for Versions {
    fn default() -> Self {
        Versions {
            // CUDA 11.8 is the oldest toolkit current PyTorch and TensorRT releases still build for.
            cuda_min: "11.8".into(),
            // CVE-2025-32434: torch.load's weights_only is bypassable before 2.6.0.
            pytorch_min: "2.6.0".into(),
            // Empty: no NVIDIA bulletin names TensorRT versions to deny wholesale
            // (its advisories are built-in data, judged by component-known-advisory);
            // the list is the organisation's own.
            tensorrt_denied: Vec::new(),
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
        config.origin = origin.to_string();
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
        config
            .ports
            .allowed_specs()
            .map_err(|why| format!("{origin}: {why}"))?;
        crate::waiver::check_written(&mut config.waivers, &config.waiver_limits)
            .map_err(|why| format!("{origin}: {why}"))?;
        config
            .registry
            .check()
            .map_err(|why| format!("{origin}: {why}"))?;
        config
            .local
            .check()
            .map_err(|why| format!("{origin}: {why}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_images_are_engine_images() {
        let ok = Config::parse(
            "[local]\nimages = [\"app:dev\", \"podman:worker@sha256:ab\", \"docker:9f3c\"]\n",
            "x.toml",
        )
        .unwrap();
        assert_eq!(
            ok.local.sources(),
            ["docker:app:dev", "podman:worker@sha256:ab", "docker:9f3c"]
        );
        for bad in [
            "",
            "docker:",
            "build/image.tar ",
            "https://ghcr.io/a/b",
            "a;b",
        ] {
            let text = format!("[local]\nimages = [{bad:?}]\n");
            let err = Config::parse(&text, "x.toml").unwrap_err();
            assert!(err.contains("[local] images has"), "{bad}: {err}");
        }
    }

    #[test]
    fn credential_hosts_are_hosts() {
        let ok = Config::parse(
            "[registry]\ncredential_hosts = [\"auth.example.com\", \"localhost:5001\"]\n",
            "x.toml",
        )
        .unwrap();
        assert_eq!(
            ok.registry.credential_hosts,
            ["auth.example.com", "localhost:5001"]
        );
        for bad in [
            "https://auth.example.com",
            "auth.example.com/token",
            "",
            "a b",
        ] {
            let text = format!("[registry]\ncredential_hosts = [{bad:?}]\n");
            let err = Config::parse(&text, "x.toml").unwrap_err();
            assert!(err.contains("host:port"), "{bad}: {err}");
        }
    }

    #[test]
    fn typos_are_errors() {
        let err = Config::parse("[version]\ncuda_min = \"12.0\"\n", "x.toml").unwrap_err();
        assert!(err.contains("version"), "{err}");
        let err = Config::parse(
            "[[waivers]]\nrule=\"a\"\nmatch=\"x\"\nreason=\"r\"\nexpires=\"2027-02-30\"\n",
            "x.toml",
        )
        .unwrap_err();
        assert!(
            err.starts_with("x.toml: the waiver for a matching \"x\"")
                && err.contains("YYYY-MM-DD"),
            "{err}"
        );
        let err = Config::parse("[waiver_limits]\nmax_day = 30\n", "x.toml").unwrap_err();
        assert!(err.contains("max_day"), "{err}");
    }

    #[test]
    fn ports_are_allowed_with_their_protocol() {
        let specs = |allowed: &str| {
            Config::parse(&format!("[ports]\nallowed = {allowed}\n"), "x.toml")
                .and_then(|c| c.ports.allowed_specs())
        };
        assert_eq!(
            specs("[8000, \"8080\", \"53/UDP\", \"9000/tcp\"]").unwrap(),
            ["8000/tcp", "8080/tcp", "53/udp", "9000/tcp"]
        );
        for bad in ["[0]", "[70000]", "[\"8000/quic\"]", "[\"http\"]", "[-1]"] {
            let err = specs(bad).unwrap_err();
            assert!(err.contains("[ports] allowed"), "{bad}: {err}");
        }
    }
}
