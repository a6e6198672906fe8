//! The CycloneDX `vulnerabilities` section: each advisory that covers a
//! component, its rating, where it came from, what fixes it, which components
//! it affects (by bom-ref), and the organisation's VEX analysis when it made one.

use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Uri;
use cyclonedx_bom::models::advisory::{Advisories, Advisory};
use cyclonedx_bom::models::vulnerability::{Vulnerabilities, Vulnerability};
use cyclonedx_bom::models::vulnerability_analysis::{ImpactAnalysisState, VulnerabilityAnalysis};
use cyclonedx_bom::models::vulnerability_rating::{
    Severity, VulnerabilityRating, VulnerabilityRatings,
};
use cyclonedx_bom::models::vulnerability_source::VulnerabilitySource;
use cyclonedx_bom::models::vulnerability_target::{VulnerabilityTarget, VulnerabilityTargets};
use gpubom_inventory::{Inventory, VulnerabilityFact};

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
    v.vulnerability_ratings = fact.severity.as_deref().map(|s| {
        VulnerabilityRatings(vec![VulnerabilityRating {
            vulnerability_source: None,
            score: None,
            severity: Some(Severity::new_unchecked(s)),
            score_method: None,
            vector: None,
            justification: None,
        }])
    });
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

/// The database an advisory id belongs to, by its prefix (OSV's id conventions).
fn database(id: &str) -> &'static str {
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
