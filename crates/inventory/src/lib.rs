//! The inventory: what gpubom found in one scanned subject.
//!
//! This crate is the contract between the three stages of gpubom. Catalogers
//! (`gpubom-catalog`) fill an [`Inventory`]; the SBOM writer (`gpubom-sbom`)
//! turns it into CycloneDX and reads CycloneDX back into it; the policy engine
//! evaluates rules over it. It holds plain data only, so none of those stages
//! depends on another's internals (the catalogers know nothing of CycloneDX).
//!
//! Every version claim carries [`Evidence`]: which technique produced it and
//! how confident that technique is, so a guess is always labelled as a guess.
//! Versions are kept as text; [`version`] parses and orders them by their
//! ecosystem's rules (PEP 440, dpkg, dotted numbers).

pub mod file;
pub mod gpu;
pub mod not_checked;
pub mod props;
pub mod purl;
pub mod text;
pub mod time;
pub mod version;

pub use not_checked::{Fact, NotChecked};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most components one inventory may hold (an image scanned, an SBOM read back) unless
/// [`MAX_COMPONENTS_VAR`] allows more. Each costs memory in every stage after the walk, and a
/// 2.6 MB image of 200,000 tiny `dist-info` directories made that gigabytes; the largest real
/// images seen hold a few thousand.
pub const DEFAULT_MAX_COMPONENTS: usize = 100_000;

/// The environment variable that sets another limit than [`DEFAULT_MAX_COMPONENTS`].
pub const MAX_COMPONENTS_VAR: &str = "GPUBOM_MAX_COMPONENTS";

/// What the error says of a subject past `limit` components, after naming the subject.
pub fn past_component_limit(limit: usize) -> String {
    format!(
        "more than {limit} components, the limit for one image; set {MAX_COMPONENTS_VAR} to allow more"
    )
}

/// Everything found in one scanned subject (an image, a directory or a file).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
// Partial documents (policy test fixtures) leave out what they do not need;
// a key that is not a field is an error at every level, so a misspelt fact
// fails the fixture with its name instead of leaving the fact unset.
#[serde(default, deny_unknown_fields)]
pub struct Inventory {
    pub subject: Subject,
    /// Facts from the image configuration; `None` when there is no config to
    /// read: directories and files, and SBOMs that do not record one (Syft's,
    /// Trivy's). `None` means the user, ports and labels are unknown, not empty.
    pub image: Option<ImageFacts>,
    /// The operating system release, from `os-release`.
    pub distro: Option<Distro>,
    /// Layers bottom-up; components refer to them by [`LayerRef::index`].
    pub layers: Vec<LayerInfo>,
    /// Components, sorted by [`Component::sort_key`] for deterministic output.
    pub components: Vec<Component>,
    /// One fact per signature found for the image; `None` means nobody looked
    /// (directories, files, `docker save` archives, SBOMs that do not say), and
    /// `Some(vec![])` means the image was looked at and is unsigned.
    #[serde(default)]
    pub signatures: Option<Vec<SignatureFact>>,
    /// Advisories that cover components of this inventory (from `--advisories`).
    #[serde(default)]
    pub vulnerabilities: Vec<VulnerabilityFact>,
    /// The advisory data matched: `built-in data of 2026-11-26, 120 from --advisories`
    /// (no age: an SBOM must not change with the day).
    pub advisory_data: Option<String>,
    /// Facts the rules need that could not be established, each with why.
    /// Empty is left out, so inventories without any serialise as before.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<NotChecked>,
    /// When the scan ran (RFC 3339, UTC), or the time `SOURCE_DATE_EPOCH` names:
    /// the SBOM's timestamp. An SBOM read back keeps the time it records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<String>,
    /// Who needs whom, each edge read from real metadata; empty is left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
}

/// One edge of the dependency graph: component `from` needs component `to`
/// (indices into [`Inventory::components`], fixed once the list is sorted).
///
/// Only a requirement that resolved to a component in the same inventory is an
/// edge; one that did not is recorded on its component as a property instead.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub from: usize,
    pub to: usize,
    pub kind: DependencyKind,
}

/// The metadata an edge was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DependencyKind {
    /// A wheel's `Requires-Dist`, markers and extras evaluated.
    Requires,
    /// A Debian package's `Depends` or `Pre-Depends`.
    Depends,
    /// An ELF `DT_NEEDED` entry resolved through the image's library search path.
    Links,
    /// `to` is a file shipped inside `from` (`gpubom:bundled_by`).
    Bundles,
}

/// How much something matters: a rule's finding, an advisory's rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl std::str::FromStr for Severity {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(()),
        }
    }
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One advisory and the components it covers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct VulnerabilityFact {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    /// `low`, `medium`, `high` or `critical`, as the advisory rates it.
    pub severity: Option<String>,
    /// The advisory's own references (bulletin, fix, report), first the most authoritative.
    pub references: Vec<String>,
    /// Scores as the advisory or the bulletin it cites gives them.
    pub ratings: Vec<Rating>,
    /// When the advisory was published and last modified (OSV `published`, `modified`).
    pub published: Option<String>,
    pub modified: Option<String>,
    /// The components it covers, by position in [`Inventory::components`].
    pub affects: Vec<usize>,
    /// The versions that fix it, lowest first, for the components it covers.
    pub fixed: Vec<String>,
    /// The organisation's VEX statement about it, when it made one.
    pub analysis: Option<VexAnalysis>,
}

/// One score of a vulnerability: a CVSS vector, with the base score and
/// severity where the source states them (never computed here).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Rating {
    /// `CVSS_V2`, `CVSS_V3` or `CVSS_V4` (OSV's severity types).
    pub method: String,
    /// The vector, e.g. `CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H`.
    pub vector: Option<String>,
    /// The base score the source gives, e.g. 9.0.
    pub score: Option<f64>,
    /// `low`, `medium`, `high` or `critical`, as the source gives it.
    pub severity: Option<String>,
    /// Who rated it: a bulletin's URL; `None` when it is the advisory itself.
    pub source: Option<String>,
}

/// A VEX statement: whether a vulnerability affects the product, and why not.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VexAnalysis {
    /// `not_affected`, `fixed`, `affected` or `under_investigation` (OpenVEX's words).
    pub status: String,
    pub justification: Option<String>,
    /// The VEX document it came from.
    pub source: String,
}

/// One signature found for the image, and whether it counted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignatureFact {
    pub source: SignatureSource,
    /// Digest of the manifest that carries the signature.
    pub manifest: String,
    /// True only when a trusted key (or identity) checked the signature and
    /// the signed payload names the scanned digest.
    pub verified: bool,
    /// `sha256:` of the trusted key's DER that verified it.
    pub key: Option<String>,
    /// A keyless signer's certificate identity: `subject (issuer)`.
    pub identity: Option<String>,
    /// Why it counted, or why not.
    pub reason: String,
}

/// How a signature is stored beside the image.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SignatureSource {
    /// cosign's `sha256-<hex>.sig` tag (or the same manifest kept by `cosign save`).
    Tag,
    /// A cosign simple-signing artifact listed as an OCI 1.1 referrer.
    Referrer,
    /// A sigstore bundle (cosign v3's default), listed as a referrer.
    Bundle,
    /// An attestation: a DSSE-signed in-toto statement about the image (cosign's
    /// `.att` tag, or a referrer), as `cosign attest` and `gpubom attest` push it.
    Attestation,
}

impl SignatureSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureSource::Tag => "tag",
            SignatureSource::Referrer => "referrer",
            SignatureSource::Bundle => "bundle",
            SignatureSource::Attestation => "attestation",
        }
    }

    pub fn parse(text: &str) -> Option<SignatureSource> {
        [
            SignatureSource::Tag,
            SignatureSource::Referrer,
            SignatureSource::Bundle,
            SignatureSource::Attestation,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What was scanned, as the user named it and as the source resolved it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Subject {
    /// The source kind: `oci-dir`, `oci-archive`, `docker-archive`, `registry`, `dir`, `file`.
    pub kind: String,
    /// The location as given on the command line (without a scheme prefix).
    pub location: String,
    /// Repository name, e.g. `nvcr.io/nvidia/pytorch`, when known.
    pub name: Option<String>,
    /// Tag, e.g. `24.01-py3`, when known.
    pub tag: Option<String>,
    /// Manifest digest (`sha256:…`) when the source has one.
    pub digest: Option<String>,
    /// Image config digest (the "image id").
    pub config_digest: Option<String>,
    /// `os/arch[/variant]` of the chosen manifest.
    pub platform: Option<String>,
}

/// Facts from the image configuration that policies care about.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ImageFacts {
    /// `User` as written in the config; empty or absent means the config names
    /// none, so the container runs as root (a known fact, unlike a missing config).
    pub user: Option<String>,
    /// Exposed ports as written, e.g. `8888/tcp`.
    pub exposed_ports: Vec<String>,
    /// Environment, in config order, split at the first `=`.
    pub env: Vec<(String, String)>,
    pub labels: BTreeMap<String, String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub workdir: Option<String>,
    pub created: Option<String>,
    pub architecture: Option<String>,
    pub os: Option<String>,
}

impl ImageFacts {
    /// The value of an environment variable, last definition wins (as in a container).
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The distribution from `os-release`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Distro {
    /// `ID`, e.g. `debian`, `ubuntu`.
    pub id: String,
    /// `VERSION_ID`, e.g. `12`, `22.04`.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    pub codename: Option<String>,
    pub pretty_name: Option<String>,
    /// `ID_LIKE`, split on whitespace.
    pub id_like: Vec<String>,
    /// Where it was read from.
    pub path: String,
    pub layer: Option<LayerRef>,
}

/// One layer of an image.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LayerInfo {
    pub index: usize,
    /// Digest of the uncompressed tar (`rootfs.diff_ids`).
    pub diff_id: Option<String>,
    /// Digest of the blob as stored (compressed), when it differs from the diff_id.
    pub digest: Option<String>,
    pub media_type: Option<String>,
    pub size: Option<u64>,
    /// The history `created_by` line for this layer, when present.
    pub created_by: Option<String>,
}

/// Where a component (or a piece of evidence) came from within the layer stack.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(deny_unknown_fields)]
pub struct LayerRef {
    pub index: usize,
}

/// What kind of thing a component is. Drives purls, CycloneDX types and policy kinds.
#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentKind {
    /// A Debian package from the dpkg database.
    Deb,
    /// A Python distribution (wheel, egg, sdist install).
    Python,
    /// A native library or runtime recognised without a package record.
    NativeLibrary,
    /// A machine-learning model file.
    Model,
    /// A data file that may still run code when loaded (NumPy arrays: object arrays hold pickles).
    Data,
    /// The operating system itself.
    OperatingSystem,
    /// A component read back from a foreign SBOM whose kind is unknown.
    #[default]
    Other,
}

impl ComponentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentKind::Deb => "deb",
            ComponentKind::Python => "python",
            ComponentKind::NativeLibrary => "native-library",
            ComponentKind::Model => "model",
            ComponentKind::Data => "data",
            ComponentKind::OperatingSystem => "operating-system",
            ComponentKind::Other => "other",
        }
    }

    /// Models and data files: both are judged by what loading them would run.
    pub fn is_model_like(self) -> bool {
        matches!(self, ComponentKind::Model | ComponentKind::Data)
    }
}

/// How a version or identity was established, strongest first.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// A package manager's own record (dpkg status, wheel METADATA).
    PackageRecord,
    /// The file is listed (and, for wheels, hash-confirmed) in a package's file list.
    FileOwnership,
    /// The file's sha256 is in a fingerprint table.
    HashMatch,
    /// Version strings or symbols inside the binary.
    BinaryAnalysis,
    /// A full version in the file name.
    FileName,
    /// SONAME or install path only.
    PathHint,
    /// Declared metadata: image env, version files, labels. May lie.
    Declared,
}

impl Technique {
    /// The CycloneDX 1.5 `evidence.identity.methods[].technique` value.
    pub fn cyclonedx(self) -> &'static str {
        match self {
            Technique::PackageRecord => "manifest-analysis",
            Technique::FileOwnership => "manifest-analysis",
            Technique::HashMatch => "hash-comparison",
            Technique::BinaryAnalysis => "binary-analysis",
            Technique::FileName => "filename",
            Technique::PathHint => "filename",
            Technique::Declared => "other",
        }
    }

    /// Default confidence (0.0–1.0) of a claim made this way.
    pub fn default_confidence(self) -> f32 {
        match self {
            Technique::PackageRecord => 1.0,
            Technique::FileOwnership => 0.95,
            Technique::HashMatch => 1.0,
            Technique::BinaryAnalysis => 0.8,
            Technique::FileName => 0.7,
            Technique::PathHint => 0.4,
            Technique::Declared => 0.3,
        }
    }
}

/// One piece of evidence for a component's identity or version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub technique: Technique,
    pub confidence: f32,
    /// What was looked at: a path, an env var, a table entry.
    pub source: String,
    /// The version this evidence supports, if it supports one.
    pub version: Option<String>,
}

/// A place a component was found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Absolute path inside the subject, e.g. `/usr/lib/x86_64-linux-gnu/libcudart.so.12`.
    pub path: String,
    pub layer: Option<LayerRef>,
}

/// A content hash of a component's file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(deny_unknown_fields)]
pub struct Hash {
    /// `SHA-256`, `SHA-1`, … (CycloneDX algorithm names).
    pub alg: String,
    pub hex: String,
}

/// One software component (package, library or model).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Component {
    pub kind: ComponentKind,
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub cpes: Vec<String>,
    pub supplier: Option<String>,
    pub description: Option<String>,
    /// SPDX expressions or license names as declared.
    pub licenses: Vec<String>,
    pub hashes: Vec<Hash>,
    /// Where it was found; the first one is the primary location.
    pub locations: Vec<Location>,
    /// The layer that introduced it (the lowest layer from which it is continuously present).
    pub layer: Option<LayerRef>,
    pub evidence: Vec<Evidence>,
    /// Extra facts, namespaced `gpubom:…`; sorted map so output is deterministic.
    pub properties: BTreeMap<String, String>,
}

impl Component {
    /// The key components are sorted by: deterministic and stable across sources.
    pub fn sort_key(&self) -> (ComponentKind, &str, &str, &str) {
        (
            self.kind,
            self.name.as_str(),
            self.version.as_deref().unwrap_or(""),
            self.locations
                .first()
                .map(|l| l.path.as_str())
                .unwrap_or(""),
        )
    }

    /// How reports name it when they cannot show it whole: `name at /primary/path`.
    pub fn label(&self) -> String {
        match self.locations.first() {
            Some(location) => format!("{} at {}", self.name, location.path),
            None => self.name.clone(),
        }
    }

    /// A stable identifier used as the CycloneDX `bom-ref`.
    pub fn bom_ref(&self) -> String {
        match &self.purl {
            Some(purl) => match self.locations.first() {
                // The same purl may legitimately occur at several paths (vendored copies).
                Some(loc)
                    if self.kind == ComponentKind::NativeLibrary || self.kind.is_model_like() =>
                {
                    format!("{purl}#{}", loc.path)
                }
                _ => purl.clone(),
            },
            None => format!(
                "{}:{}@{}#{}",
                self.kind.as_str(),
                self.name,
                self.version.as_deref().unwrap_or(""),
                self.locations
                    .first()
                    .map(|l| l.path.as_str())
                    .unwrap_or("")
            ),
        }
    }
}

impl Inventory {
    /// Sorts components (and their locations/evidence) so output is deterministic,
    /// and renumbers the [`dependencies`](Inventory::dependencies) to follow them,
    /// sorted and without duplicates.
    pub fn normalize(&mut self) {
        for c in &mut self.components {
            // The first location is the primary one: keep the catalogers' order.
            let mut seen = std::collections::HashSet::new();
            c.locations.retain(|l| seen.insert(l.clone()));
            c.hashes.sort();
            c.hashes.dedup();
            c.cpes.sort();
            c.cpes.dedup();
        }
        let mut order: Vec<usize> = (0..self.components.len()).collect();
        order.sort_by(|&a, &b| {
            self.components[a]
                .sort_key()
                .cmp(&self.components[b].sort_key())
        });
        let mut position = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            position[old] = new;
        }
        let mut slots: Vec<Option<Component>> = std::mem::take(&mut self.components)
            .into_iter()
            .map(Some)
            .collect();
        self.components = order.iter().filter_map(|&old| slots[old].take()).collect();
        // An edge naming a component that does not exist has nothing to say.
        self.dependencies.retain_mut(|edge| {
            match (position.get(edge.from), position.get(edge.to)) {
                (Some(&from), Some(&to)) => {
                    (edge.from, edge.to) = (from, to);
                    true
                }
                _ => false,
            }
        });
        self.dependencies.sort();
        self.dependencies.dedup();
    }

    /// Records that `items` could not be established; saying one twice (an
    /// SBOM read back, then matched again) records it once. Linear in all the
    /// items: an image may declare one for each of many thousand components.
    pub fn declare_not_checked(&mut self, items: impl IntoIterator<Item = NotChecked>) {
        let mut known: std::collections::HashSet<NotChecked> =
            self.not_checked.iter().cloned().collect();
        for item in items {
            if known.insert(item.clone()) {
                self.not_checked.push(item);
            }
        }
    }

    /// The facts not established about `subject` (a [`Component::label`], or
    /// `None` for the image).
    pub fn facts_not_checked(&self, subject: Option<&str>) -> std::collections::BTreeSet<Fact> {
        self.not_checked
            .iter()
            .filter(|item| item.subject.as_deref() == subject)
            .map(|item| item.fact)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(kind: ComponentKind, name: &str) -> Component {
        Component {
            kind,
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn normalize_carries_the_edges_through_the_sort_synthetic() {
        let mut inventory = Inventory {
            components: vec![
                named(ComponentKind::Python, "torch"),
                named(ComponentKind::Deb, "zlib1g"),
                named(ComponentKind::Python, "nvidia-cudnn-cu12"),
                named(ComponentKind::Deb, "libc6"),
            ],
            dependencies: vec![
                Dependency {
                    from: 0,
                    to: 2,
                    kind: DependencyKind::Requires,
                },
                Dependency {
                    from: 1,
                    to: 3,
                    kind: DependencyKind::Depends,
                },
                Dependency {
                    from: 0,
                    to: 2,
                    kind: DependencyKind::Requires,
                },
                Dependency {
                    from: 0,
                    to: 9,
                    kind: DependencyKind::Links,
                },
            ],
            ..Default::default()
        };
        inventory.normalize();
        let name = |i: usize| inventory.components[i].name.as_str();
        let edges: Vec<(&str, &str)> = inventory
            .dependencies
            .iter()
            .map(|d| (name(d.from), name(d.to)))
            .collect();
        assert_eq!(edges.len(), 2, "{:?}", inventory.dependencies);
        assert!(edges.contains(&("torch", "nvidia-cudnn-cu12")));
        assert!(edges.contains(&("zlib1g", "libc6")));
        assert!(inventory.dependencies.windows(2).all(|w| w[0] < w[1]));
    }
}
