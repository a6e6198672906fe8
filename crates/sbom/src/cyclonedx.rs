//! Inventory → CycloneDX 1.5, through the `cyclonedx-bom` model.
//!
//! Output is deterministic: components keep the inventory's sorted order,
//! the serial number is derived from the inventory's content, and the
//! timestamp comes from `SOURCE_DATE_EPOCH` or the image's creation time —
//! never the clock — so two scans of the same image diff to nothing.

use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Purl as CdxPurl;
use cyclonedx_bom::models::bom::{Bom, UrnUuid};
use cyclonedx_bom::models::component::{
    Classification, Component as CdxComponent, ComponentEvidence, Components, ConfidenceScore, Cpe,
    Identity, IdentityField, Method, Methods, Occurrence, Occurrences,
};
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

/// Builds the CycloneDX model of an inventory.
pub fn to_bom(inventory: &Inventory, tool_version: &str) -> Bom {
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
        vulnerabilities: crate::vulnerabilities::section(inventory, &refs),
        spec_version: cyclonedx_bom::models::bom::SpecVersion::V1_5,
        ..Bom::default()
    }
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

fn licenses(names: &[String]) -> Option<Licenses> {
    match names {
        [] => None,
        // CycloneDX 1.5 allows one expression, or a list of named licenses, not a mix.
        [one] if spdx::Expression::parse(one).is_ok() => {
            Some(Licenses(vec![LicenseChoice::expression(one)]))
        }
        many => Some(Licenses(
            many.iter().map(|n| LicenseChoice::license(n)).collect(),
        )),
    }
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
        properties: Some(Properties(metadata_properties(inventory))),
        ..Metadata::default()
    }
}

/// `pkg:oci/<name>@<digest>?repository_url=<repo>&tag=<tag>` (purl spec, OCI type).
fn oci_purl(inventory: &Inventory, name: &str) -> String {
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

fn metadata_properties(inventory: &Inventory) -> Vec<Property> {
    let mut out = Vec::new();
    let mut push = |k: &str, v: &str| out.push(Property::new(k, v));
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

/// A name-based (v5-style) UUID of the inventory's content.
fn serial_number(inventory: &Inventory) -> UrnUuid {
    let canonical = serde_json::to_vec(inventory).unwrap_or_default();
    let mut b: [u8; 16] = Sha256::digest(&canonical)[..16]
        .try_into()
        .expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    UrnUuid(format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

fn timestamp(inventory: &Inventory) -> Option<cyclonedx_bom::external_models::date_time::DateTime> {
    let from_epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(gpubom_inventory::time::rfc3339_from_epoch);
    let text = from_epoch.or_else(|| inventory.image.as_ref().and_then(|i| i.created.clone()))?;
    text.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_are_uuids() {
        let s = serial_number(&Inventory::default()).0;
        assert_eq!(s.len(), "urn:uuid:".len() + 36);
        assert_eq!(&s["urn:uuid:".len() + 14..][..1], "5");
    }
}
