//! The OSV schema (https://ossf.github.io/osv-schema/), read strictly enough
//! that a range gpubom cannot evaluate is an error, not an advisory that
//! silently matches nothing.

use crate::{ecosystem_of_purl, purl_base};
use gpubom_inventory::version::{Ecosystem, Version};
use gpubom_inventory::{Rating, Severity};
use serde::Deserialize;

/// How bad an advisory says it is (GHSA's `database_specific.severity`,
/// where `moderate` is medium).
fn severity(text: &str) -> Option<Severity> {
    match text.to_ascii_lowercase().as_str() {
        "moderate" => Some(Severity::Medium),
        other => other.parse().ok(),
    }
}

/// One advisory, its ranges parsed in the ecosystem of the package they are about.
#[derive(Debug, Clone)]
pub struct Advisory {
    pub id: String,
    pub aliases: Vec<String>,
    pub severity: Option<Severity>,
    /// `summary`, else the first line of `details`.
    pub summary: Option<String>,
    /// Its references' URLs: advisories and reports first, then the rest.
    pub references: Vec<String>,
    /// Its CVSS vectors (OSV `severity`), and the bulletin's rating gpubom's
    /// built-in records carry (`database_specific.rating`, with its source).
    pub ratings: Vec<Rating>,
    /// OSV `published` and `modified`, as written.
    pub published: Option<String>,
    pub modified: Option<String>,
    affected: Vec<Affected>,
}

#[derive(Debug, Clone)]
struct Affected {
    /// The package, as a purl without version.
    identity: String,
    ranges: Vec<Vec<Event>>,
    versions: Vec<Version>,
}

#[derive(Debug, Clone)]
enum Event {
    Introduced(Option<Version>),
    Fixed(Version),
    LastAffected(Version),
}

#[derive(Deserialize)]
struct RawAdvisory {
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    affected: Vec<RawAffected>,
    #[serde(default)]
    database_specific: Option<RawSpecific>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    references: Vec<RawReference>,
    #[serde(default)]
    severity: Vec<RawSeverity>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    modified: Option<String>,
}

/// An OSV `severity` entry: for the CVSS types, `score` is the vector.
#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    url: String,
}

#[derive(Deserialize)]
struct RawSpecific {
    #[serde(default)]
    severity: Option<String>,
    /// gpubom's built-in records: the rating the cited bulletin gives.
    #[serde(default)]
    rating: Option<RawRating>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRating {
    /// `CVSS_V3`, as OSV's severity types.
    method: String,
    vector: String,
    score: f64,
    severity: String,
    /// The bulletin's URL.
    source: String,
    /// Where in the bulletin the rating was read, and at which commit: required
    /// so that no rating enters the data without its provenance; not output.
    #[serde(rename = "note")]
    _note: String,
}

#[derive(Deserialize)]
struct RawAffected {
    package: RawPackage,
    #[serde(default)]
    ranges: Vec<RawRange>,
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl Advisory {
    pub fn parse(bytes: &[u8]) -> Result<Advisory, String> {
        let raw: RawAdvisory =
            serde_json::from_slice(bytes).map_err(|e| format!("not an OSV advisory: {e}"))?;
        let id = raw.id;
        let mut affected = Vec::new();
        for entry in raw.affected {
            let identity = identity(&entry.package).map_err(|why| format!("{id}: {why}"))?;
            let ecosystem = ecosystem_of_purl(&identity);
            let parse = |text: &str, what: &str| {
                Version::parse(ecosystem, text)
                    .ok_or_else(|| format!("{id}: {what} {text:?} is not a version of {identity}"))
            };
            let mut ranges = Vec::new();
            for range in entry.ranges {
                match range.kind.as_str() {
                    "ECOSYSTEM" | "SEMVER" => {}
                    // Commits cannot be compared with installed versions.
                    "GIT" => continue,
                    other => return Err(format!("{id}: range type {other:?} is not OSV's")),
                }
                let mut events = Vec::new();
                // The first version's text and ecosystem: every other one must be
                // ordered by the same rules, or the sort below has no total order.
                let mut first: Option<(&str, Ecosystem)> = None;
                for event in &range.events {
                    let (kind, value) = event
                        .iter()
                        .next()
                        .ok_or_else(|| format!("{id}: an empty range event"))?;
                    let text = value
                        .as_str()
                        .ok_or_else(|| format!("{id}: range event {kind} is not a string"))?;
                    let event = match kind.as_str() {
                        "introduced" if text == "0" => Event::Introduced(None),
                        "introduced" => Event::Introduced(Some(parse(text, "introduced")?)),
                        "fixed" | "limit" => Event::Fixed(parse(text, kind)?),
                        "last_affected" => Event::LastAffected(parse(text, kind)?),
                        other => return Err(format!("{id}: range event {other:?} is not OSV's")),
                    };
                    if let Some(version) = order_key(&event) {
                        match first {
                            None => first = Some((text, version.ecosystem())),
                            Some((first, ordered_by)) if ordered_by != version.ecosystem() => {
                                return Err(format!(
                                    "{id}: a range of {identity} cannot be ordered: {first:?} is ordered by {}, {text:?} by {}",
                                    order_name(ordered_by),
                                    order_name(version.ecosystem())
                                ));
                            }
                            Some(_) => {}
                        }
                    }
                    events.push(event);
                }
                if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
                    return Err(format!(
                        "{id}: a range of {identity} has no \"introduced\" event"
                    ));
                }
                // Total: every version of the range is of one ecosystem (checked
                // above), and "introduced 0" (`None`) sorts first.
                events.sort_by(|a, b| {
                    order_key(a)
                        .partial_cmp(&order_key(b))
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                ranges.push(events);
            }
            let versions = entry
                .versions
                .iter()
                .filter_map(|v| Version::parse(ecosystem, v))
                .collect();
            affected.push(Affected {
                identity,
                ranges,
                versions,
            });
        }
        let mut references: Vec<&RawReference> = raw
            .references
            .iter()
            .filter(|r| !r.url.is_empty())
            .collect();
        references.sort_by_key(|r| !matches!(r.kind.as_str(), "ADVISORY" | "REPORT" | "WEB"));
        let mut urls: Vec<String> = Vec::new();
        for r in references {
            if !urls.contains(&r.url) {
                urls.push(r.url.clone());
            }
        }
        let summary = raw.summary.filter(|s| !s.trim().is_empty()).or_else(|| {
            raw.details
                .as_deref()
                .and_then(|d| d.lines().next())
                .map(str::to_owned)
        });
        let (stated, rating) = raw
            .database_specific
            .map_or((None, None), |d| (d.severity, d.rating));
        let mut ratings: Vec<Rating> = Vec::new();
        if let Some(r) = &rating {
            ratings.push(Rating {
                method: r.method.clone(),
                vector: Some(r.vector.clone()),
                score: Some(r.score),
                severity: severity(&r.severity).map(|s| s.as_str().to_string()),
                source: Some(r.source.clone()),
            });
        }
        for entry in raw.severity {
            // The bulletin's rating already says this vector, with its score.
            if ratings
                .iter()
                .any(|r| r.vector.as_deref() == Some(&entry.score))
            {
                continue;
            }
            ratings.push(Rating {
                method: entry.kind,
                vector: Some(entry.score),
                ..Rating::default()
            });
        }
        Ok(Advisory {
            id,
            aliases: raw.aliases,
            summary,
            references: urls,
            severity: stated
                .and_then(|s| severity(&s))
                .or_else(|| rating.and_then(|r| severity(&r.severity))),
            ratings,
            published: raw.published,
            modified: raw.modified,
            affected,
        })
    }

    pub(crate) fn packages(&self) -> Vec<String> {
        self.affected.iter().map(|a| a.identity.clone()).collect()
    }

    /// The lowest version above `version` that fixes it for `identity`.
    pub(crate) fn fixed_above(&self, identity: &str, version: &Version) -> Option<Version> {
        self.affected
            .iter()
            .filter(|a| a.identity == identity)
            .flat_map(|a| a.ranges.iter().flatten())
            .filter_map(|e| match e {
                Event::Fixed(v) if v > version => Some(v),
                _ => None,
            })
            // Total: only fixes comparable with `version`, so of its ecosystem, are left.
            .min_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal))
            .cloned()
    }

    /// Every (package, version, listed as affected) the advisory names, in its ranges
    /// and its lists of affected versions.
    pub(crate) fn named_versions(&self) -> Vec<(&str, &Version, bool)> {
        self.affected
            .iter()
            .flat_map(|a| {
                let in_ranges = a.ranges.iter().flatten().filter_map(order_key);
                let ranged = in_ranges.map(|v| (a.identity.as_str(), v, false));
                ranged.chain(a.versions.iter().map(|v| (a.identity.as_str(), v, true)))
            })
            .collect()
    }

    /// Whether the advisory is known by `name` (its id or an alias).
    pub(crate) fn known_as(&self, name: &str) -> bool {
        self.names().any(|n| n == name)
    }

    /// Its id, then its aliases.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Whether `version` of the package `identity` is affected.
    pub(crate) fn affects(&self, identity: &str, version: &Version) -> bool {
        self.affected
            .iter()
            .filter(|a| a.identity == identity)
            .any(|a| a.versions.contains(version) || a.ranges.iter().any(|r| in_range(r, version)))
    }
}

/// Events in version order ("introduced 0" first), as OSV evaluates them.
fn order_key(event: &Event) -> Option<&Version> {
    match event {
        Event::Introduced(v) => v.as_ref(),
        Event::Fixed(v) | Event::LastAffected(v) => Some(v),
    }
}

/// The rules that order versions of `ecosystem`, as an error message names them.
fn order_name(ecosystem: Ecosystem) -> &'static str {
    match ecosystem {
        Ecosystem::Pypi => "PEP 440",
        Ecosystem::Debian => "dpkg",
        Ecosystem::Generic => "its dotted numbers (it is not PEP 440)",
    }
}

/// OSV's evaluation: walking the events in order, an introduced at or below
/// the version opens the range, a fixed at or below it (or a last_affected
/// below it) closes it.
fn in_range(events: &[Event], version: &Version) -> bool {
    let mut affected = false;
    for event in events {
        match event {
            Event::Introduced(None) => affected = true,
            Event::Introduced(Some(v)) if version >= v => affected = true,
            Event::Fixed(v) if version >= v => affected = false,
            Event::LastAffected(v) if version > v => affected = false,
            _ => {}
        }
    }
    affected
}

/// The purl (without version) of the package an affected entry names.
fn identity(package: &RawPackage) -> Result<String, String> {
    if let Some(purl) = &package.purl {
        return Ok(purl_base(purl));
    }
    let ecosystem = package.ecosystem.split(':').next().unwrap_or_default();
    let name = package.name.trim();
    if name.is_empty() {
        return Err("an affected package has neither a purl nor a name".into());
    }
    match ecosystem {
        "PyPI" => Ok(format!("pkg:pypi/{}", pep503(name))),
        "Debian" => Ok(format!("pkg:deb/debian/{}", name.to_ascii_lowercase())),
        "Ubuntu" => Ok(format!("pkg:deb/ubuntu/{}", name.to_ascii_lowercase())),
        other => Err(format!(
            "package {name:?} of ecosystem {other:?}: name it by purl (e.g. pkg:generic/nvidia/tensorrt)"
        )),
    }
}

/// PEP 503: lowercase, runs of `-_.` become one `-` (as PyPI purls are written).
fn pep503(name: &str) -> String {
    let mut out = String::new();
    for part in name
        .to_ascii_lowercase()
        .split(['-', '_', '.'])
        .filter(|p| !p.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(ecosystem: &str, name: &str, events: &str) -> Result<Advisory, String> {
        Advisory::parse(
            format!(
                r#"{{"id":"SYNTHETIC-1","affected":[{{"package":{{"ecosystem":"{ecosystem}","name":"{name}"}},
                "ranges":[{{"type":"ECOSYSTEM","events":{events}}}]}}],
                "database_specific":{{"severity":"HIGH"}}}}"#
            )
            .as_bytes(),
        )
    }

    fn hits(a: &Advisory, identity: &str, version: &str) -> bool {
        let v = Version::parse(ecosystem_of_purl(identity), version).unwrap();
        a.affects(identity, &v)
    }

    #[test]
    fn pep440_order_with_prereleases_and_local_labels() {
        let a = advisory("PyPI", "Torch", r#"[{"introduced":"0"},{"fixed":"2.6.0"}]"#).unwrap();
        let torch = "pkg:pypi/torch";
        assert!(hits(&a, torch, "2.1.2"));
        assert!(hits(&a, torch, "2.5.1+cu124"));
        assert!(
            hits(&a, torch, "2.6.0rc1"),
            "a pre-release of the fix is not the fix"
        );
        assert!(hits(&a, torch, "2.6.0a0+ecf3bae40a.nv25.01"));
        assert!(!hits(&a, torch, "2.6.0"));
        assert!(!hits(&a, torch, "2.10.0"), "2.10 is after 2.6, not before");
        assert_eq!(a.severity, Some(Severity::High));
    }

    #[test]
    fn dpkg_order_with_revisions_and_cuda_suffixes() {
        let a = advisory(
            "Debian:12",
            "nvidia-container-toolkit",
            r#"[{"introduced":"0"},{"last_affected":"1.16.1"}]"#,
        )
        .unwrap();
        let ctk = "pkg:deb/debian/nvidia-container-toolkit";
        assert!(hits(&a, ctk, "1.16.1"));
        assert!(
            !hits(&a, ctk, "1.16.1-1"),
            "a Debian revision sorts after the upstream version"
        );
        let fixed = advisory(
            "Debian",
            "libcudnn8",
            r#"[{"introduced":"0"},{"fixed":"8.9.3.28-1+cuda12.1"}]"#,
        )
        .unwrap();
        let cudnn = "pkg:deb/debian/libcudnn8";
        assert!(hits(&fixed, cudnn, "8.9.2.26-1+cuda12.1"));
        assert!(!hits(&fixed, cudnn, "8.9.3.28-1+cuda12.1"));
        assert!(
            hits(&fixed, cudnn, "8.9.3.28-1+cuda11.8"),
            "dpkg: cuda11.8 < cuda12.1"
        );
    }

    #[test]
    fn nvidia_four_part_versions_by_purl() {
        let a = Advisory::parse(
            br#"{"id":"SYNTHETIC-2","affected":[{"package":{"purl":"pkg:generic/nvidia/tensorrt"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"10.0"},{"fixed":"10.16.1"}]}]}]}"#,
        )
        .unwrap();
        let trt = "pkg:generic/nvidia/tensorrt";
        assert!(hits(&a, trt, "10.3.0.26"));
        assert!(hits(&a, trt, "10.16.0.72"));
        assert!(!hits(&a, trt, "10.16.1"));
        assert!(!hits(&a, trt, "8.6.1.6"), "before the range opens");
        assert_eq!(
            a.packages(),
            ["pkg:generic/nvidia/tensorrt"],
            "never by bare name"
        );
    }

    #[test]
    fn ranges_that_cannot_be_evaluated_are_errors() {
        let bad_version = advisory(
            "PyPI",
            "torch",
            r#"[{"introduced":"0"},{"fixed":"not a version!"}]"#,
        );
        assert!(bad_version.unwrap_err().contains("\"not a version!\""));
        let no_start = advisory("PyPI", "torch", r#"[{"fixed":"2.6.0"}]"#);
        assert!(no_start.unwrap_err().contains("no \"introduced\""));
        let odd_event = advisory(
            "PyPI",
            "torch",
            r#"[{"introduced":"0"},{"patched":"2.6.0"}]"#,
        );
        assert!(odd_event.unwrap_err().contains("patched"));
        let no_purl = advisory("crates.io", "x", r#"[{"introduced":"0"}]"#);
        assert!(no_purl.unwrap_err().contains("name it by purl"));
    }

    /// PEP 440 and non-PEP 440 versions in one range have no order in common:
    /// sorting them once panicked (exit 101) instead of refusing the record.
    #[test]
    fn a_range_mixing_pep440_and_other_versions_is_an_error_not_a_panic() {
        let bytes = include_bytes!("../../../tests/fixtures/advisories/hostile/mixed-orders.json");
        let error = Advisory::parse(bytes).unwrap_err();
        assert_eq!(
            error,
            "SYNTHETIC-MIXED: a range of pkg:pypi/torch cannot be ordered: \"8.5\" is ordered by \
             PEP 440, \"7.0-SNAPSHOT\" by its dotted numbers (it is not PEP 440)"
        );
        // A range of non-PEP 440 versions alone has one order, as before.
        let generic_only = advisory(
            "PyPI",
            "torch",
            r#"[{"introduced":"1.0-SNAPSHOT"},{"fixed":"2.0-SNAPSHOT"}]"#,
        )
        .unwrap();
        assert!(hits(&generic_only, "pkg:pypi/torch", "1.5-SNAPSHOT"));
    }
}
