//! The CycloneDX `vulnerabilities` section: each advisory that covers a
//! component, every other id it is known by (CVE first, so a search for the
//! CVE finds it), its ratings, where it came from, when it was published and
//! updated, what fixes it, which components it affects (by bom-ref), and the
//! organisation's VEX analysis when it made one.

use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Uri;
use cyclonedx_bom::models::advisory::{Advisories, Advisory};
use cyclonedx_bom::models::vulnerability::{Vulnerabilities, Vulnerability};
use cyclonedx_bom::models::vulnerability_analysis::{ImpactAnalysisState, VulnerabilityAnalysis};
use cyclonedx_bom::models::vulnerability_rating::{
    Score, ScoreMethod, Severity, VulnerabilityRating, VulnerabilityRatings,
};
use cyclonedx_bom::models::vulnerability_reference::{
    VulnerabilityReference, VulnerabilityReferences,
};
use cyclonedx_bom::models::vulnerability_source::VulnerabilitySource;
use cyclonedx_bom::models::vulnerability_target::{VulnerabilityTarget, VulnerabilityTargets};
use gpubom_inventory::{Inventory, Rating, VulnerabilityFact};

/// The section, with `refs[i]` the bom-ref of component `i`; `None` when nothing matched.
pub(crate) fn section(inventory: &Inventory, refs: &[String]) -> Option<Vulnerabilities> {
    if inventory.vulnerabilities.is_empty() {
        return None;
    }
    Some(Vulnerabilities(
        inventory
            .vulnerabilities
            .iter()
            .map(|fact| vulnerability(fact, inventory, refs))
            .collect(),
    ))
}

fn vulnerability(
    fact: &VulnerabilityFact,
    inventory: &Inventory,
    refs: &[String],
) -> Vulnerability {
    let mut v = Vulnerability::new(None);
    v.id = Some(NormalizedString::new(&fact.id));
    v.vulnerability_source = Some(VulnerabilitySource {
        name: Some(NormalizedString::new(database(&fact.id))),
        url: fact.references.first().map(|u| Uri::new(u)),
    });
    v.description = fact.summary.clone();
    let aliases = aliases(fact);
    if !aliases.is_empty() {
        v.vulnerability_references = Some(VulnerabilityReferences(
            aliases
                .iter()
                .map(|alias| VulnerabilityReference {
                    id: NormalizedString::new(alias),
                    vulnerability_source: VulnerabilitySource {
                        name: Some(NormalizedString::new(database(alias))),
                        url: record_url(alias).map(|u| Uri::new(&u)),
                    },
                })
                .collect(),
        ));
    }
    let mut ratings: Vec<VulnerabilityRating> = fact.ratings.iter().map(rating).collect();
    // The advisory's own word on severity, where no rating says one: on its one
    // vector (GHSA derives the word from it), else as a rating of its own, first,
    // since the word is the advisory's headline.
    if let Some(severity) = fact
        .severity
        .as_deref()
        .filter(|_| fact.ratings.iter().all(|r| r.severity.is_none()))
    {
        let own: Vec<usize> = (0..fact.ratings.len())
            .filter(|&i| fact.ratings[i].source.is_none())
            .collect();
        match own.as_slice() {
            [one] => ratings[*one].severity = Some(Severity::new_unchecked(severity)),
            _ => ratings.insert(
                0,
                VulnerabilityRating {
                    vulnerability_source: None,
                    score: None,
                    severity: Some(Severity::new_unchecked(severity)),
                    score_method: None,
                    vector: None,
                    justification: None,
                },
            ),
        }
    }
    v.vulnerability_ratings = (!ratings.is_empty()).then_some(VulnerabilityRatings(ratings));
    v.published = fact.published.clone().and_then(|d| d.try_into().ok());
    v.updated = fact.modified.clone().and_then(|d| d.try_into().ok());
    if !fact.references.is_empty() {
        v.advisories = Some(Advisories(
            fact.references
                .iter()
                .map(|url| Advisory {
                    title: None,
                    url: Uri::new(url),
                })
                .collect(),
        ));
    }
    let names: Vec<&str> = fact
        .affects
        .iter()
        .filter_map(|&i| inventory.components.get(i).map(|c| c.name.as_str()))
        .collect();
    if !fact.fixed.is_empty() {
        v.recommendation = Some(format!(
            "upgrade {} to {}",
            dedup(&names).join(", "),
            fact.fixed.join(" or ")
        ));
    }
    v.vulnerability_targets = Some(VulnerabilityTargets(
        fact.affects
            .iter()
            .filter_map(|&i| refs.get(i))
            .map(|r| VulnerabilityTarget {
                bom_ref: r.clone(),
                versions: None,
            })
            .collect(),
    ));
    v.vulnerability_analysis = fact.analysis.as_ref().map(|a| VulnerabilityAnalysis {
        state: Some(match a.status.as_str() {
            "not_affected" => ImpactAnalysisState::NotAffected,
            "fixed" => ImpactAnalysisState::Resolved,
            "affected" => ImpactAnalysisState::Exploitable,
            _ => ImpactAnalysisState::InTriage,
        }),
        justification: None,
        responses: None,
        detail: Some(match &a.justification {
            Some(why) => format!("{why} (VEX: {})", a.source),
            None => format!("VEX: {}", a.source),
        }),
        first_issued: None,
        last_updated: None,
    });
    v
}

/// Its aliases, CVE ids first (the id most tools and people search for).
fn aliases(fact: &VulnerabilityFact) -> Vec<&str> {
    let mut out: Vec<&str> = fact
        .aliases
        .iter()
        .map(String::as_str)
        .filter(|a| *a != fact.id)
        .collect();
    out.sort_by_key(|a| (!a.starts_with("CVE-"), *a));
    out.dedup();
    out
}

/// A rating as the advisory or its bulletin gives it: the method the vector
/// names, the vector, and the score and severity where the source states them.
fn rating(r: &Rating) -> VulnerabilityRating {
    let vector = r.vector.as_deref().unwrap_or_default();
    let method = match r.method.as_str() {
        "CVSS_V3" if vector.starts_with("CVSS:3.1/") => "CVSSv31",
        "CVSS_V3" => "CVSSv3",
        "CVSS_V4" => "CVSSv4",
        "CVSS_V2" => "CVSSv2",
        _ => "other",
    };
    VulnerabilityRating {
        vulnerability_source: r.source.as_deref().map(|url| VulnerabilitySource {
            name: None,
            url: Some(Uri::new(url)),
        }),
        score: r.score.map(|s| Score::from(s as f32)),
        severity: r
            .severity
            .as_deref()
            .map(|s| Severity::new_unchecked(s.to_ascii_lowercase())),
        score_method: Some(ScoreMethod::new_unchecked(method)),
        vector: r.vector.as_deref().map(NormalizedString::new),
        justification: None,
    }
}

/// Where a record with this id is published, by the id's prefix; `None` for
/// ids that name no public record (gpubom's own `GPUBOM-` ids).
pub(crate) fn record_url(id: &str) -> Option<String> {
    match id.split('-').next().unwrap_or_default() {
        "CVE" => Some(format!("https://nvd.nist.gov/vuln/detail/{id}")),
        "GHSA" => Some(format!("https://github.com/advisories/{id}")),
        "GPUBOM" => None,
        _ => Some(format!("https://osv.dev/vulnerability/{id}")),
    }
}

/// The database an advisory id belongs to, by its prefix (OSV's id conventions).
pub(crate) fn database(id: &str) -> &'static str {
    match id.split('-').next().unwrap_or_default() {
        "PYSEC" => "PyPA Advisory Database",
        "GPUBOM" => "gpubom built-in advisories (vendor bulletins)",
        "GHSA" => "GitHub Advisory Database",
        "CVE" => "NVD",
        "DSA" | "DLA" | "DEBIAN" => "Debian Security Tracker",
        _ => "OSV",
    }
}

fn dedup<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(n) {
            out.push(n);
        }
    }
    out
}
