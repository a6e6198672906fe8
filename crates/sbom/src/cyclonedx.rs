//! Inventory → CycloneDX 1.6 or 1.5, through the `cyclonedx-bom` model.
//!
//! `cyclonedx-bom` 0.8 serialises 1.5 only. Every element gpubom writes means
//! the same in 1.6, which only adds to 1.5, so a 1.6 document is the 1.5
//! serialisation with its version label changed (`specVersion` in JSON, the
//! namespace in XML); the tests validate both against the official schemas.
//!
//! Output is deterministic: components keep the inventory's sorted order,
//! the serial number is derived from the inventory's content, and the
//! timestamp is the scan's (`SOURCE_DATE_EPOCH` when it was set), so two
//! scans of the same image with one `SOURCE_DATE_EPOCH` diff to nothing.

use crate::licenses;
use crate::CycloneDxVersion;
use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Purl as CdxPurl;
use cyclonedx_bom::models::bom::{Bom, UrnUuid};
use cyclonedx_bom::models::component::{
    Classification, Component as CdxComponent, ComponentEvidence, Components, ConfidenceScore, Cpe,
    Identity, IdentityField, Method, Methods, Occurrence, Occurrences,
};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::hash::{Hash as CdxHash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::license::{LicenseChoice, Licenses};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::modelcard::ModelCard;
use cyclonedx_bom::models::organization::OrganizationalEntity;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::{Tool, Tools};
use gpubom_inventory::purl::Purl;
use gpubom_inventory::{props, Component, ComponentKind, Inventory};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::str::FromStr;

/// The JSON document of `version`.
pub(crate) fn json(
    inventory: &Inventory,
    tool_version: &str,
    version: CycloneDxVersion,
) -> Result<Vec<u8>, crate::Error> {
    let mut out = Vec::new();
    to_bom(inventory, tool_version)
        .output_as_json_v1_5(&mut out)
        .map_err(|e| crate::Error::Write(e.to_string()))?;
    relabel(&mut out, version, br#""specVersion": "1.5""#, |v| {
        format!(r#""specVersion": "{v}""#)
    })?;
    out.push(b'\n');
    Ok(out)
}

/// The XML document of `version`, with what XML 1.0 cannot carry escaped.
pub(crate) fn xml(
    inventory: &Inventory,
    tool_version: &str,
    version: CycloneDxVersion,
) -> Result<Vec<u8>, crate::Error> {
    let mut out = Vec::new();
    to_bom(inventory, tool_version)
        .output_as_xml_v1_5(&mut out)
        .map_err(|e| crate::Error::Write(e.to_string()))?;
    relabel(
        &mut out,
        version,
        br#"xmlns="http://cyclonedx.org/schema/bom/1.5""#,
        |v| format!(r#"xmlns="http://cyclonedx.org/schema/bom/{v}""#),
    )?;
    let xml = String::from_utf8(out).map_err(|e| crate::Error::Write(e.to_string()))?;
    Ok(gpubom_inventory::text::for_xml(&xml)
        .into_owned()
        .into_bytes())
}

/// Rewrites the 1.5 label the serialiser wrote as `version`'s. The label is
/// in the document's first line or two, before anything taken from the image,
/// so only that head is searched: text from the image can never be rewritten.
fn relabel(
    out: &mut Vec<u8>,
    version: CycloneDxVersion,
    written: &[u8],
    label: impl Fn(&str) -> String,
) -> Result<(), crate::Error> {
    if version == CycloneDxVersion::V1_5 {
        return Ok(());
    }
    const HEAD: usize = 160;
    let head = &out[..out.len().min(HEAD)];
    let at = head
        .windows(written.len())
        .position(|w| w == written)
        .ok_or_else(|| {
            crate::Error::Write("the CycloneDX serialiser wrote no 1.5 label to relabel".into())
        })?;
    out.splice(at..at + written.len(), label(version.as_str()).into_bytes());
    Ok(())
}

/// Builds the CycloneDX model of an inventory.
fn to_bom(inventory: &Inventory, tool_version: &str) -> Bom {
    let mut seen = HashSet::new();
    let mut components: Vec<CdxComponent> = Vec::with_capacity(inventory.components.len() + 1);
    if let Some(distro) = &inventory.distro {
        let version = distro.version_id.clone().unwrap_or_default();
        let mut os = CdxComponent::new(
            Classification::OperatingSystem,
            &distro.id,
            &version,
            Some(unique(&mut seen, format!("os:{}@{version}", distro.id))),
        );
        os.description = distro.pretty_name.as_deref().map(NormalizedString::new);
        os.evidence = Some(evidence(None, &[], std::slice::from_ref(&distro.path)));
        components.push(os);
    }
    let os_ref = components.first().and_then(|os| os.bom_ref.clone());
    let mut refs = Vec::with_capacity(inventory.components.len());
    for c in &inventory.components {
        let bom_ref = unique(&mut seen, c.bom_ref());
        refs.push(bom_ref.clone());
        components.push(component(inventory, c, bom_ref));
    }
    Bom {
        version: 1,
        serial_number: Some(serial_number(inventory)),
        metadata: Some(metadata(inventory, tool_version)),
        components: Some(Components(components)),
        dependencies: Some(dependencies(inventory, os_ref, &refs)),
        vulnerabilities: crate::vulnerabilities::section(inventory, &refs),
        spec_version: cyclonedx_bom::models::bom::SpecVersion::V1_5,
        ..Bom::default()
    }
}

/// One entry per component, each with what it depends on: the inventory's
/// edges, whatever metadata they were read from (`Requires-Dist`, `Depends`,
/// `DT_NEEDED`, a bundled file). An entry without `dependsOn` is CycloneDX's
/// "depends on nothing known". The subject itself is left out: it contains the
/// components rather than depending on them.
fn dependencies(inventory: &Inventory, os_ref: Option<String>, refs: &[String]) -> Dependencies {
    let mut depends_on: Vec<Vec<String>> = vec![Vec::new(); refs.len()];
    for edge in &inventory.dependencies {
        let (Some(needs), Some(to)) = (depends_on.get_mut(edge.from), refs.get(edge.to)) else {
            continue;
        };
        if !needs.contains(to) {
            needs.push(to.clone());
        }
    }
    Dependencies(
        os_ref
            .into_iter()
            .map(|os| (os, Vec::new()))
            .chain(refs.iter().cloned().zip(depends_on))
            .map(|(dependency_ref, dependencies)| Dependency {
                dependency_ref,
                dependencies,
            })
            .collect(),
    )
}

/// bom-refs must be unique; the same purl can legitimately occur twice (two venvs).
fn unique(seen: &mut HashSet<String>, base: String) -> String {
    let mut candidate = base.clone();
    let mut n = 2;
    while !seen.insert(candidate.clone()) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    candidate
}

fn classification(kind: ComponentKind) -> Classification {
    match kind {
        ComponentKind::Model => Classification::MachineLearningModel,
        ComponentKind::Data => Classification::Data,
        ComponentKind::OperatingSystem => Classification::OperatingSystem,
        _ => Classification::Library,
    }
}

fn component(inventory: &Inventory, c: &Component, bom_ref: String) -> CdxComponent {
    let mut out = CdxComponent::new(
        classification(c.kind),
        &c.name,
        c.version.as_deref().unwrap_or(""),
        Some(bom_ref),
    );
    if c.version.is_none() {
        out.version = None;
    }
    out.purl = c.purl.as_deref().and_then(|p| CdxPurl::from_str(p).ok());
    out.cpe = c.cpes.first().map(|cpe| Cpe::new(cpe));
    out.supplier = c.supplier.as_deref().map(OrganizationalEntity::new);
    out.description = c.description.as_deref().map(NormalizedString::new);
    out.licenses = licenses(&c.licenses);
    if !c.hashes.is_empty() {
        out.hashes = Some(Hashes(
            c.hashes
                .iter()
                .filter(|h| h.alg == "SHA-256")
                .map(|h| CdxHash {
                    alg: HashAlgorithm::SHA_256,
                    content: HashValue(h.hex.clone()),
                })
                .collect(),
        ));
    }
    let mut properties: Vec<Property> = vec![Property::new(props::KIND, c.kind.as_str())];
    if let Some(layer) = c.layer {
        properties.push(Property::new(props::LAYER_INDEX, &layer.index.to_string()));
        if let Some(info) = inventory.layers.iter().find(|l| l.index == layer.index) {
            if let Some(diff_id) = &info.diff_id {
                properties.push(Property::new(props::LAYER_DIFF_ID, diff_id));
            }
            if let Some(created_by) = &info.created_by {
                properties.push(Property::new(props::LAYER_CREATED_BY, created_by));
            }
        }
    }
    for cpe in c.cpes.iter().skip(1) {
        properties.push(Property::new(props::CPE, cpe));
    }
    properties.extend(c.properties.iter().map(|(k, v)| Property::new(k, v)));
    out.properties = Some(Properties(properties));
    let paths: Vec<String> = c.locations.iter().map(|l| l.path.clone()).collect();
    out.evidence = Some(evidence(Some(c), &c.evidence, &paths));
    if c.kind == ComponentKind::Model {
        out.model_card = Some(model_card(c));
    }
    out
}

/// The model card fields gpubom knows: format, framework, producer, and the load verdict.
fn model_card(c: &Component) -> ModelCard {
    let card: Vec<Property> = [
        props::MODEL_FORMAT,
        props::MODEL_FRAMEWORK,
        props::MODEL_PRODUCER,
        props::MODEL_VERDICT,
    ]
    .into_iter()
    .filter_map(|name| c.properties.get(name).map(|v| Property::new(name, v)))
    .collect();
    ModelCard {
        bom_ref: None,
        model_parameters: None,
        quantitative_analysis: None,
        considerations: None,
        properties: Some(Properties(card)),
    }
}

/// One SPDX expression when every declared text maps to one; else each text
/// as the license name it was declared as (CycloneDX allows one expression or
/// a list of licenses, not a mix, and a name is never turned into a guess).
fn licenses(declared: &[String]) -> Option<Licenses> {
    if declared.is_empty() {
        return None;
    }
    Some(Licenses(match licenses::combined(declared) {
        Some(expression) => vec![LicenseChoice::expression(&expression)],
        None => declared.iter().map(|n| LicenseChoice::license(n)).collect(),
    }))
}

fn evidence(
    c: Option<&Component>,
    evidence: &[gpubom_inventory::Evidence],
    paths: &[String],
) -> ComponentEvidence {
    let identity = (!evidence.is_empty()).then(|| Identity {
        field: if c.is_some_and(|c| c.purl.is_some()) {
            IdentityField::Purl
        } else {
            IdentityField::Version
        },
        confidence: evidence
            .iter()
            .map(|e| e.confidence)
            .reduce(f32::max)
            .map(ConfidenceScore::new),
        methods: Some(Methods(
            evidence
                .iter()
                .map(|e| Method {
                    technique: e.technique.cyclonedx().to_string(),
                    confidence: ConfidenceScore::new(e.confidence.clamp(0.0, 1.0)),
                    value: Some(match &e.version {
                        Some(v) => format!("{} => {v}", e.source),
                        None => e.source.clone(),
                    }),
                })
                .collect(),
        )),
        tools: None,
    });
    ComponentEvidence {
        licenses: None,
        copyright: None,
        occurrences: (!paths.is_empty())
            .then(|| Occurrences(paths.iter().map(|p| Occurrence::new(p)).collect())),
        callstack: None,
        identity,
    }
}

fn metadata(inventory: &Inventory, tool_version: &str) -> Metadata {
    let subject = &inventory.subject;
    let name = subject
        .name
        .clone()
        .unwrap_or_else(|| subject.location.clone());
    let version = subject
        .tag
        .clone()
        .or_else(|| subject.digest.clone())
        .unwrap_or_default();
    let is_image = inventory.image.is_some();
    let class = if is_image {
        Classification::Container
    } else {
        Classification::File
    };
    let mut root = CdxComponent::new(class, &name, &version, Some(format!("subject:{name}")));
    if version.is_empty() {
        root.version = None;
    }
    if is_image {
        root.purl = CdxPurl::from_str(&oci_purl(inventory, &name)).ok();
    }
    Metadata {
        timestamp: timestamp(inventory),
        tools: Some(Tools::List(vec![Tool::new(
            "gpubom",
            "gpubom",
            tool_version,
        )])),
        component: Some(root),
        properties: Some(Properties(
            metadata_facts(inventory)
                .iter()
                .map(|(k, v)| Property::new(k, v))
                .collect(),
        )),
        ..Metadata::default()
    }
}

/// `pkg:oci/<name>@<digest>?repository_url=<repo>&tag=<tag>` (purl spec, OCI type).
pub(crate) fn oci_purl(inventory: &Inventory, name: &str) -> String {
    let subject = &inventory.subject;
    let last = name.rsplit('/').next().unwrap_or(name);
    let mut purl = Purl::new("oci", &last.to_ascii_lowercase());
    if let Some(digest) = &subject.digest {
        purl = purl.version(digest);
    }
    if name.contains('/') {
        purl = purl.qualifier("repository_url", name);
    }
    if let Some(tag) = &subject.tag {
        purl = purl.qualifier("tag", tag);
    }
    if let Some(arch) = inventory
        .image
        .as_ref()
        .and_then(|i| i.architecture.as_deref())
    {
        purl = purl.qualifier("arch", arch);
    }
    purl.to_string()
}

/// The subject's facts as `gpubom:` properties, in the order written (the
/// reader regroups signatures and not-checked items by that order).
pub(crate) fn metadata_facts(inventory: &Inventory) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |k: &str, v: &str| out.push((k.to_string(), v.to_string()));
    push(props::SOURCE_KIND, &inventory.subject.kind);
    if let Some(p) = &inventory.subject.platform {
        push(props::IMAGE_PLATFORM, p);
    }
    if let Some(d) = &inventory.subject.config_digest {
        push(props::IMAGE_CONFIG_DIGEST, d);
    }
    if let Some(d) = &inventory.subject.digest {
        push(props::IMAGE_DIGEST, d);
    }
    if let Some(distro) = &inventory.distro {
        push(props::DISTRO_ID, &distro.id);
        if let Some(v) = &distro.version_id {
            push(props::DISTRO_VERSION_ID, v);
        }
    }
    if let Some(image) = &inventory.image {
        push(props::IMAGE_USER, image.user.as_deref().unwrap_or(""));
        for port in &image.exposed_ports {
            push(props::IMAGE_EXPOSED_PORT, port);
        }
        // Names only: values are often secrets and never belong in an SBOM.
        for (name, _) in &image.env {
            push(props::IMAGE_ENV_NAME, name);
        }
        for (k, v) in &image.labels {
            push(&format!("{}{k}", props::IMAGE_LABEL_PREFIX), v);
        }
        if !image.entrypoint.is_empty() {
            push(props::IMAGE_ENTRYPOINT, &json_array(&image.entrypoint));
        }
        if !image.cmd.is_empty() {
            push(props::IMAGE_CMD, &json_array(&image.cmd));
        }
        if let Some(w) = &image.workdir {
            push(props::IMAGE_WORKDIR, w);
        }
    }
    for layer in &inventory.layers {
        if let Some(diff_id) = &layer.diff_id {
            push(
                &format!("{}{}:diff_id", props::LAYER_PREFIX, layer.index),
                diff_id,
            );
        }
        if let Some(created_by) = &layer.created_by {
            push(
                &format!("{}{}:created_by", props::LAYER_PREFIX, layer.index),
                created_by,
            );
        }
    }
    if let Some(data) = &inventory.advisory_data {
        push(props::ADVISORY_DATA, data);
    }
    if let Some(signatures) = &inventory.signatures {
        push(props::SIGNATURES_CHECKED, "true");
        for s in signatures {
            push(props::SIGNATURE_SOURCE, s.source.as_str());
            push(props::SIGNATURE_MANIFEST, &s.manifest);
            push(
                props::SIGNATURE_VERIFIED,
                if s.verified { "true" } else { "false" },
            );
            let signer = s.key.as_deref().or(s.identity.as_deref()).unwrap_or("");
            push(props::SIGNATURE_KEY, signer);
            push(props::SIGNATURE_REASON, &s.reason);
        }
    }
    for item in &inventory.not_checked {
        push(props::NOT_CHECKED_FACT, item.fact.as_str());
        push(
            props::NOT_CHECKED_SUBJECT,
            item.subject.as_deref().unwrap_or(""),
        );
        push(props::NOT_CHECKED_REASON, &item.reason);
    }
    out
}

fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

fn serial_number(inventory: &Inventory) -> UrnUuid {
    UrnUuid(format!("urn:uuid:{}", serial_uuid(inventory)))
}

/// A name-based (v5-style) UUID of the inventory's content, the scan's time included.
pub(crate) fn serial_uuid(inventory: &Inventory) -> String {
    let canonical = serde_json::to_vec(inventory).unwrap_or_default();
    let mut b: [u8; 16] = Sha256::digest(&canonical)[..16]
        .try_into()
        .expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// When the scan ran (or `SOURCE_DATE_EPOCH`'s time); never the image's creation.
fn timestamp(inventory: &Inventory) -> Option<cyclonedx_bom::external_models::date_time::DateTime> {
    inventory.scanned_at.clone()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_component_is_listed_with_what_it_depends_on_synthetic() {
        let inventory = crate::synthetic::graph();
        let bom: serde_json::Value =
            serde_json::from_slice(&json(&inventory, "0.0.0", CycloneDxVersion::V1_6).unwrap())
                .unwrap();
        assert_eq!(
            bom["dependencies"],
            serde_json::json!([
                { "ref": "pkg:generic/libc6@1" },
                { "ref": "pkg:generic/zlib1g@1", "dependsOn": ["pkg:generic/libc6@1"] },
                { "ref": "pkg:generic/nvidia-cudnn-cu12@1", "dependsOn": ["pkg:generic/cudnn@1"] },
                {
                    "ref": "pkg:generic/torch@1",
                    "dependsOn": ["pkg:generic/nvidia-cudnn-cu12@1", "pkg:generic/cudnn@1"]
                },
                { "ref": "pkg:generic/cudnn@1" },
            ])
        );
        assert_eq!(bom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    }

    #[test]
    fn only_the_head_is_relabelled_synthetic() {
        let mut inventory = crate::synthetic::graph();
        // Text from the image that looks like the label stays as it is.
        inventory.components[0].description = Some(r#""specVersion": "1.5""#.into());
        let v16 = json(&inventory, "0.0.0", CycloneDxVersion::V1_6).unwrap();
        let text = String::from_utf8(v16).unwrap();
        assert!(text.contains(r#""specVersion": "1.6""#));
        assert!(text.contains(r#"\"specVersion\": \"1.5\""#), "{text}");
        let xml = xml(&inventory, "0.0.0", CycloneDxVersion::V1_6).unwrap();
        let xml = String::from_utf8(xml).unwrap();
        assert_eq!(
            xml.matches("http://cyclonedx.org/schema/bom/1.6").count(),
            1
        );
    }

    #[test]
    fn serial_numbers_are_uuids() {
        let s = serial_number(&Inventory::default()).0;
        assert_eq!(s.len(), "urn:uuid:".len() + 36);
        assert_eq!(&s["urn:uuid:".len() + 14..][..1], "5");
    }
}
