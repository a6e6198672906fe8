//! Inventory → SPDX 2.3 JSON, through `serde-spdx`'s types (generated from
//! the SPDX 2.3 JSON schema).
//!
//! SPDX has no place for gpubom's facts about models and NVIDIA libraries, so
//! they travel as annotations: one per `gpubom:` property, `NAME=VALUE`,
//! annotator gpubom, so nothing the CycloneDX document says is lost (models
//! included, which `syft convert` drops). The graph becomes relationships:
//! the document DESCRIBES the subject, the subject CONTAINS every package,
//! and each edge of the inventory is DEPENDS_ON (requirements, `Depends`,
//! `DT_NEEDED`) or CONTAINS (a file bundled inside a package). Advisories are
//! SECURITY `advisory` references on the packages they affect, one per id
//! (CVE first), with an annotation carrying the ratings.
//!
//! Deterministic like the CycloneDX writer: ids follow the inventory's sorted
//! order, the namespace carries the content-derived serial number, and the
//! creation time is the scan's.

use crate::licenses::{self, Declared};
use crate::vulnerabilities::record_url;
use gpubom_inventory::{
    props, Component, ComponentKind, DependencyKind, Inventory, VulnerabilityFact,
};
use serde_spdx::spdx::v_2_3::{
    Spdx, SpdxCreationInfo, SpdxItemHasExtractedLicensingInfos, SpdxItemPackages,
    SpdxItemPackagesItemAnnotations, SpdxItemPackagesItemChecksums,
    SpdxItemPackagesItemExternalRefs, SpdxItemRelationships,
};
use std::collections::BTreeMap;

const NOASSERTION: &str = "NOASSERTION";
const ROOT: &str = "SPDXRef-Subject";
const OS: &str = "SPDXRef-OperatingSystem";

/// The SPDX 2.3 JSON document.
pub(crate) fn json(inventory: &Inventory, tool_version: &str) -> Result<Vec<u8>, crate::Error> {
    let created = match &inventory.scanned_at {
        Some(at) => at.clone(),
        // An SBOM read back that records no time: when this document is made.
        None => gpubom_inventory::time::now_or_source_date_epoch().map_err(crate::Error::Spdx)?,
    };
    let annotator = format!("Tool: gpubom-{tool_version}");
    let mut writer = Writer {
        inventory,
        annotator: &annotator,
        created: &created,
        license_refs: BTreeMap::new(),
    };
    let document = writer.document(tool_version);
    let mut out =
        serde_json::to_vec_pretty(&document).map_err(|e| crate::Error::Spdx(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

struct Writer<'a> {
    inventory: &'a Inventory,
    annotator: &'a str,
    created: &'a str,
    /// `LicenseRef-…` id → the declared text it stands for.
    license_refs: BTreeMap<String, String>,
}

impl Writer<'_> {
    fn document(&mut self, tool_version: &str) -> Spdx {
        let inventory = self.inventory;
        let subject = &inventory.subject;
        let name = subject
            .name
            .clone()
            .unwrap_or_else(|| subject.location.clone());
        let ids: Vec<String> = inventory
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| format!("SPDXRef-{}-{}-{i}", c.kind.as_str(), id_text(&c.name)))
            .collect();
        let mut packages = vec![self.root(&name)];
        let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", ROOT)];
        if let Some(distro) = &inventory.distro {
            let mut os = package(OS, &distro.id);
            os.version_info = distro.version_id.clone();
            os.description = distro.pretty_name.clone();
            os.primary_package_purpose = Some("OPERATING-SYSTEM".into());
            os.source_info = Some(format!("read from {}", distro.path));
            packages.push(os);
            relationships.push(relationship(ROOT, "CONTAINS", OS));
        }
        for (i, c) in inventory.components.iter().enumerate() {
            packages.push(self.component(c, &ids[i], i));
            relationships.push(relationship(ROOT, "CONTAINS", &ids[i]));
        }
        let mut edges: Vec<SpdxItemRelationships> = Vec::new();
        for edge in &inventory.dependencies {
            let (Some(from), Some(to)) = (ids.get(edge.from), ids.get(edge.to)) else {
                continue;
            };
            let kind = match edge.kind {
                DependencyKind::Bundles => "CONTAINS",
                DependencyKind::Requires | DependencyKind::Depends | DependencyKind::Links => {
                    "DEPENDS_ON"
                }
            };
            let r = relationship(from, kind, to);
            if !edges.contains(&r) {
                edges.push(r);
            }
        }
        relationships.extend(edges);
        let extracted: Vec<SpdxItemHasExtractedLicensingInfos> = self
            .license_refs
            .iter()
            .map(|(id, text)| SpdxItemHasExtractedLicensingInfos {
                comment: Some(
                    "the license as the package declares it; no SPDX id is certain for it".into(),
                ),
                cross_refs: None,
                extracted_text: text.clone(),
                license_id: id.clone(),
                name: Some(text.clone()),
                see_alsos: None,
            })
            .collect();
        let serial = crate::cyclonedx::serial_uuid(inventory);
        Spdx {
            spdxid: "SPDXRef-DOCUMENT".into(),
            annotations: None,
            comment: inventory
                .advisory_data
                .as_ref()
                .map(|data| format!("advisory data: {data}")),
            creation_info: SpdxCreationInfo {
                comment: None,
                created: self.created.to_string(),
                creators: vec![format!("Tool: gpubom-{tool_version}")],
                license_list_version: Some(license_list_version()),
            },
            data_license: "CC0-1.0".into(),
            document_describes: None,
            document_namespace: format!(
                "https://spdx.org/spdxdocs/gpubom-{}-{serial}",
                id_text(&name)
            ),
            external_document_refs: None,
            files: None,
            has_extracted_licensing_infos: (!extracted.is_empty()).then_some(extracted),
            name,
            packages: Some(packages),
            relationships: Some(relationships),
            revieweds: None,
            snippets: None,
            spdx_version: "SPDX-2.3".into(),
        }
    }

    /// The scanned subject: the container image (by its OCI purl and digest) or the file or directory.
    fn root(&self, name: &str) -> SpdxItemPackages {
        let inventory = self.inventory;
        let subject = &inventory.subject;
        let mut root = package(ROOT, name);
        root.version_info = subject.tag.clone().or_else(|| subject.digest.clone());
        root.primary_package_purpose = Some(
            if inventory.image.is_some() {
                "CONTAINER"
            } else {
                "FILE"
            }
            .into(),
        );
        root.checksums = subject
            .digest
            .as_deref()
            .and_then(|d| d.strip_prefix("sha256:"))
            .map(|hex| vec![sha256(hex)]);
        if inventory.image.is_some() {
            root.external_refs = Some(vec![purl_ref(&crate::cyclonedx::oci_purl(inventory, name))]);
        }
        root.annotations = Some(self.annotations(crate::cyclonedx::metadata_facts(inventory)));
        root
    }

    fn component(&mut self, c: &Component, id: &str, index: usize) -> SpdxItemPackages {
        let mut p = package(id, &c.name);
        p.version_info = c.version.clone();
        p.supplier = Some(match &c.supplier {
            Some(s) => format!("Organization: {}", one_line(s)),
            None => NOASSERTION.into(),
        });
        p.description = c.description.clone();
        p.license_declared = Some(self.license_declared(&c.licenses));
        p.primary_package_purpose = Some(
            match c.kind {
                ComponentKind::Model | ComponentKind::Data => "FILE",
                ComponentKind::OperatingSystem => "OPERATING-SYSTEM",
                _ => "LIBRARY",
            }
            .into(),
        );
        let checksums: Vec<_> = c
            .hashes
            .iter()
            .filter(|h| h.alg == "SHA-256")
            .map(|h| sha256(&h.hex))
            .collect();
        p.checksums = (!checksums.is_empty()).then_some(checksums);
        if !c.locations.is_empty() {
            let paths: Vec<&str> = c.locations.iter().map(|l| l.path.as_str()).collect();
            p.source_info = Some(format!("found at {}", paths.join(", ")));
        }
        let mut refs: Vec<SpdxItemPackagesItemExternalRefs> = Vec::new();
        if let Some(purl) = &c.purl {
            refs.push(purl_ref(purl));
        }
        for cpe in &c.cpes {
            refs.push(external_ref("SECURITY", "cpe23Type", cpe, None));
        }
        let mut facts: Vec<(String, String)> =
            vec![(props::KIND.to_string(), c.kind.as_str().to_string())];
        if let Some(layer) = c.layer {
            facts.push((props::LAYER_INDEX.to_string(), layer.index.to_string()));
        }
        facts.extend(c.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut annotations = self.annotations(facts);
        for fact in self.vulnerabilities_of(index) {
            refs.extend(advisory_refs(fact));
            annotations.push(self.annotation(vulnerability_note(fact)));
        }
        p.external_refs = (!refs.is_empty()).then_some(refs);
        p.annotations = (!annotations.is_empty()).then_some(annotations);
        p
    }

    fn vulnerabilities_of(&self, index: usize) -> impl Iterator<Item = &VulnerabilityFact> {
        self.inventory
            .vulnerabilities
            .iter()
            .filter(move |v| v.affects.contains(&index))
    }

    /// The declared licenses as one expression, each text that maps to none
    /// standing as a `LicenseRef-` whose extracted text is the declaration.
    fn license_declared(&mut self, declared: &[String]) -> String {
        if declared.is_empty() {
            return NOASSERTION.into();
        }
        if let Some(expression) = licenses::combined(declared) {
            return expression;
        }
        let mut parts: Vec<String> = Vec::new();
        for text in declared {
            let part = match licenses::classify(text) {
                Declared::Expression(e) if e.contains(' ') => format!("({e})"),
                Declared::Expression(e) => e,
                Declared::Name(name) => self.license_ref(&name),
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        parts.join(" AND ")
    }

    /// `LicenseRef-<text>`, made an idstring; a text changed to fit gets a
    /// hash of the original so two texts never share one id.
    fn license_ref(&mut self, text: &str) -> String {
        let fitted = id_text(text);
        let id = if fitted == text {
            format!("LicenseRef-{fitted}")
        } else {
            use sha2::Digest;
            let digest = hex::encode(sha2::Sha256::digest(text.as_bytes()));
            format!("LicenseRef-{fitted}-{}", &digest[..8])
        };
        self.license_refs.insert(id.clone(), text.to_string());
        id
    }

    fn annotations(&self, facts: Vec<(String, String)>) -> Vec<SpdxItemPackagesItemAnnotations> {
        facts
            .into_iter()
            .map(|(k, v)| self.annotation(format!("{k}={v}")))
            .collect()
    }

    fn annotation(&self, comment: String) -> SpdxItemPackagesItemAnnotations {
        SpdxItemPackagesItemAnnotations {
            annotation_date: self.created.to_string(),
            annotation_type: "OTHER".into(),
            annotator: self.annotator.to_string(),
            comment,
        }
    }
}

/// A package with only what SPDX requires; gpubom reads installed files, not
/// downloads, and concludes nothing about licenses or copyright.
fn package(id: &str, name: &str) -> SpdxItemPackages {
    SpdxItemPackages {
        spdxid: id.into(),
        annotations: None,
        attribution_texts: None,
        built_date: None,
        checksums: None,
        comment: None,
        copyright_text: Some(NOASSERTION.into()),
        description: None,
        download_location: NOASSERTION.into(),
        external_refs: None,
        files_analyzed: Some(false),
        has_files: None,
        homepage: None,
        license_comments: None,
        license_concluded: Some(NOASSERTION.into()),
        license_declared: Some(NOASSERTION.into()),
        license_info_from_files: None,
        name: name.into(),
        originator: None,
        package_file_name: None,
        package_verification_code: None,
        primary_package_purpose: None,
        release_date: None,
        source_info: None,
        summary: None,
        supplier: None,
        valid_until_date: None,
        version_info: None,
    }
}

fn relationship(from: &str, kind: &str, to: &str) -> SpdxItemRelationships {
    SpdxItemRelationships {
        comment: None,
        related_spdx_element: to.into(),
        relationship_type: kind.into(),
        spdx_element_id: from.into(),
    }
}

fn sha256(hex: &str) -> SpdxItemPackagesItemChecksums {
    SpdxItemPackagesItemChecksums {
        algorithm: "SHA256".into(),
        checksum_value: hex.to_ascii_lowercase(),
    }
}

fn purl_ref(purl: &str) -> SpdxItemPackagesItemExternalRefs {
    external_ref("PACKAGE-MANAGER", "purl", purl, None)
}

fn external_ref(
    category: &str,
    kind: &str,
    locator: &str,
    comment: Option<String>,
) -> SpdxItemPackagesItemExternalRefs {
    SpdxItemPackagesItemExternalRefs {
        comment,
        reference_category: category.into(),
        reference_locator: locator.into(),
        reference_type: kind.into(),
    }
}

/// One SECURITY `advisory` reference per name of the advisory that has a
/// public record (CVE first), else its first reference (a vendor bulletin).
fn advisory_refs(fact: &VulnerabilityFact) -> Vec<SpdxItemPackagesItemExternalRefs> {
    let mut names: Vec<&str> = fact.aliases.iter().map(String::as_str).collect();
    names.push(&fact.id);
    names.sort_by_key(|a| (!a.starts_with("CVE-"), *a));
    names.dedup();
    let mut refs: Vec<SpdxItemPackagesItemExternalRefs> = names
        .iter()
        .filter_map(|name| {
            let url = record_url(name)?;
            Some(external_ref(
                "SECURITY",
                "advisory",
                &url,
                Some(name.to_string()),
            ))
        })
        .collect();
    if refs.is_empty() {
        if let Some(url) = fact.references.first() {
            refs.push(external_ref(
                "SECURITY",
                "advisory",
                url,
                Some(fact.id.clone()),
            ));
        }
    }
    refs
}

/// `gpubom:vulnerability=ID aliases=… severity=… rating=CVSS_V3 9.0 VECTOR (source) published=… modified=…`
fn vulnerability_note(fact: &VulnerabilityFact) -> String {
    let mut note = format!("gpubom:vulnerability={}", fact.id);
    if !fact.aliases.is_empty() {
        note.push_str(&format!(" aliases={}", fact.aliases.join(",")));
    }
    if let Some(severity) = &fact.severity {
        note.push_str(&format!(" severity={severity}"));
    }
    for r in &fact.ratings {
        note.push_str(&format!(" rating={}", r.method));
        if let Some(score) = r.score {
            note.push_str(&format!(" {score:.1}"));
        }
        if let Some(vector) = &r.vector {
            note.push_str(&format!(" {vector}"));
        }
        if let Some(source) = &r.source {
            note.push_str(&format!(" ({source})"));
        }
    }
    for (key, date) in [("published", &fact.published), ("modified", &fact.modified)] {
        if let Some(date) = date {
            note.push_str(&format!(" {key}={date}"));
        }
    }
    if let Some(analysis) = &fact.analysis {
        note.push_str(&format!(" vex={}", analysis.status));
    }
    note
}

/// Text made an SPDX idstring (`[A-Za-z0-9.-]+`): every other byte becomes `-`.
fn id_text(text: &str) -> String {
    let fitted: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if fitted.is_empty() {
        "unnamed".into()
    } else {
        fitted
    }
}

/// SPDX actors are one line; a hostile supplier name must not start another field.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The SPDX license list version the `spdx` crate embeds, as `MAJOR.MINOR`.
fn license_list_version() -> String {
    let version = spdx::license_version();
    let mut parts = version.trim_start_matches('v').split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => version.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::synthetic::graph;

    #[test]
    fn the_graph_becomes_relationships_synthetic() {
        let document: serde_json::Value =
            serde_json::from_slice(&super::json(&graph(), "0.0.0").unwrap()).unwrap();
        let relationships: Vec<(String, String, String)> = document["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap().to_string();
                (
                    text("spdxElementId"),
                    text("relationshipType"),
                    text("relatedSpdxElement"),
                )
            })
            .collect();
        let has = |from: &str, kind: &str, to: &str| {
            relationships.contains(&(from.into(), kind.into(), to.into()))
        };
        assert!(has("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Subject"));
        assert!(has("SPDXRef-Subject", "CONTAINS", "SPDXRef-deb-libc6-0"));
        assert!(has(
            "SPDXRef-deb-zlib1g-1",
            "DEPENDS_ON",
            "SPDXRef-deb-libc6-0"
        ));
        assert!(has(
            "SPDXRef-python-nvidia-cudnn-cu12-2",
            "CONTAINS",
            "SPDXRef-native-library-cudnn-4"
        ));
        assert!(has(
            "SPDXRef-python-torch-3",
            "DEPENDS_ON",
            "SPDXRef-python-nvidia-cudnn-cu12-2"
        ));
        assert!(has(
            "SPDXRef-python-torch-3",
            "DEPENDS_ON",
            "SPDXRef-native-library-cudnn-4"
        ));
        // DESCRIBES, five CONTAINS from the subject, and the four edges.
        assert_eq!(relationships.len(), 1 + 5 + 4);
    }

    #[test]
    fn unmappable_licenses_are_license_refs_with_their_text_synthetic() {
        let mut inventory = graph();
        inventory.components[0].licenses = vec!["GPL-2+".into(), "BSD-variant".into()];
        inventory.components[1].licenses = vec!["Zlib".into()];
        inventory.components[2].licenses = vec!["NVIDIA Proprietary Software".into()];
        let document: serde_json::Value =
            serde_json::from_slice(&super::json(&inventory, "0.0.0").unwrap()).unwrap();
        let declared = |i: usize| document["packages"][i + 1]["licenseDeclared"].clone();
        assert_eq!(declared(0), "GPL-2.0-or-later AND LicenseRef-BSD-variant");
        assert_eq!(declared(1), "Zlib");
        let odd = declared(2);
        let odd = odd.as_str().unwrap();
        assert!(
            odd.starts_with("LicenseRef-NVIDIA-Proprietary-Software-"),
            "{odd}"
        );
        assert_eq!(declared(3), "NOASSERTION");
        let extracted = document["hasExtractedLicensingInfos"].as_array().unwrap();
        assert!(extracted
            .iter()
            .any(|e| e["licenseId"] == odd && e["extractedText"] == "NVIDIA Proprietary Software"));
        assert_eq!(extracted.len(), 2);
    }
}
