//! CycloneDX JSON in, leniently: gpubom's own SBOMs come back whole, and
//! SBOMs from Syft or Trivy (CycloneDX 1.4–1.6) give the policy engine the
//! facts they have. Read through `serde_json::Value` rather than a typed
//! model so that newer spec versions and unknown fields are not errors.
//!
//! What an SBOM does not say stays unknown: image config facts (user, ports,
//! labels) are read only where gpubom recorded them, marked by
//! [`props::IMAGE_USER`]. A Syft or Trivy SBOM has none, so its inventory has no
//! [`ImageFacts`] and the gate does not judge it as running as root. What the
//! SBOM cannot tell is declared [`NotChecked`], with gpubom's own reasons when
//! it wrote the SBOM, else because this SBOM does not record it.

use gpubom_inventory::past_component_limit;
use gpubom_inventory::{
    props, Component, ComponentKind, Distro, Fact, Hash, ImageFacts, Inventory, LayerInfo,
    LayerRef, Location, NotChecked, SignatureFact, SignatureSource, Subject,
};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::BTreeMap;

/// An SBOM held whole (one to attach, a fuzz input), read as [`read_cyclonedx`] reads one with
/// the default limit on components.
pub fn read_cyclonedx_json(bytes: &[u8]) -> Result<Inventory, String> {
    read_cyclonedx(bytes, gpubom_inventory::DEFAULT_MAX_COMPONENTS)
}

/// The inventory a CycloneDX JSON SBOM records, parsed as it streams from `reader`: each
/// component becomes a [`Component`] as soon as it is parsed and its JSON is dropped, so the
/// memory is the inventory's and one component's (a whole document as a `serde_json::Value`
/// cost about 4 KB per component, and `diff` read two). More than `max_components`
/// components is an error.
pub fn read_cyclonedx(
    reader: impl std::io::Read,
    max_components: usize,
) -> Result<Inventory, String> {
    let past_limit = std::cell::Cell::new(false);
    let mut json = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let doc = DocumentSeed {
        max_components,
        past_limit: &past_limit,
    }
    .deserialize(&mut json)
    .and_then(|doc| json.end().map(|()| doc))
    .map_err(|e| {
        if past_limit.get() {
            format!("the SBOM lists {}", past_component_limit(max_components))
        } else if e.is_io() {
            e.to_string()
        } else {
            format!("not JSON: {e}")
        }
    })?;
    if doc.bom_format != "CycloneDX" {
        return Err("not a CycloneDX SBOM (bomFormat is not \"CycloneDX\")".into());
    }
    let meta = Metadata(properties(&doc.metadata));
    let (subject, names_a_reference) = subject_of(&doc.metadata["component"], &meta);
    let mut inventory = Inventory {
        subject,
        image: image_facts(&meta),
        distro: doc.distro,
        layers: layers(&meta),
        components: doc.components,
        signatures: meta
            .first(props::SIGNATURES_CHECKED)
            .map(|_| signatures(&meta.0)),
        // The components keep their advisory properties, which is what the gate reads.
        vulnerabilities: Vec::new(),
        advisory_data: meta.first(props::ADVISORY_DATA),
        not_checked: not_checked(&meta.0),
        // When the SBOM says it was made; written back unchanged.
        scanned_at: str_of(&doc.metadata["timestamp"]),
        dependencies: Vec::new(),
    };
    declare_unrecorded(&mut inventory);
    if !names_a_reference {
        inventory.declare_not_checked([NotChecked::image(
            Fact::Reference,
            "this SBOM does not say whether it names the image by a registry reference or by a file; check the reference itself (gpubom check REF)",
        )]);
    }
    inventory.normalize();
    Ok(inventory)
}

/// What is kept of the document: the fields read, the components already converted.
#[derive(Default)]
struct Document {
    bom_format: Value,
    metadata: Value,
    distro: Option<Distro>,
    components: Vec<Component>,
}

/// The `visit_*` methods of a visitor for which a scalar (a number, a string, `null`) holds
/// nothing, as the lookups into a `Value` this reader replaced found nothing there.
macro_rules! nothing_from_scalars {
    ($empty:expr) => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($empty)
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($empty)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($empty)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($empty)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($empty)
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($empty)
        }
    };
}

/// Reads a document, skipping every field it does not use without building it.
struct DocumentSeed<'a> {
    max_components: usize,
    past_limit: &'a std::cell::Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = Document;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Document, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = Document;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut doc = Document::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "bomFormat" => doc.bom_format = map.next_value()?,
                "metadata" => doc.metadata = map.next_value()?,
                "components" => {
                    (doc.distro, doc.components) = map.next_value_seed(ComponentsSeed {
                        max_components: self.max_components,
                        past_limit: self.past_limit,
                    })?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(doc)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Document::default())
    }

    nothing_from_scalars!(Document::default());
}

/// The `components` array, each converted as it is parsed: the operating system (the
/// `operating-system` component) and every other component. Anything but an array is no
/// components, as before.
struct ComponentsSeed<'a> {
    max_components: usize,
    past_limit: &'a std::cell::Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for ComponentsSeed<'_> {
    type Value = (Option<Distro>, Vec<Component>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ComponentsSeed<'_> {
    type Value = (Option<Distro>, Vec<Component>);

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of components")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut distro = None;
        let mut components = Vec::new();
        while let Some(c) = seq.next_element::<Value>()? {
            if c["type"] == "operating-system" {
                distro = Some(Distro {
                    id: str_of(&c["name"]).unwrap_or_default(),
                    version_id: str_of(&c["version"]),
                    ..Default::default()
                });
                continue;
            }
            if components.len() >= self.max_components {
                self.past_limit.set(true);
                return Err(serde::de::Error::custom("too many components"));
            }
            components.push(component(&c));
        }
        Ok((distro, components))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok((None, Vec::new()))
    }

    nothing_from_scalars!((None, Vec::new()));
}

/// The SBOM's metadata properties, in the order written.
struct Metadata(Vec<(String, String)>);

impl Metadata {
    /// The first value of `name`.
    fn first(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// Every value of `name` (one property per value).
    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// What was scanned, from the root component and gpubom's metadata; and
/// whether its name is a registry reference.
fn subject_of(root: &Value, meta: &Metadata) -> (Subject, bool) {
    // Another tool's SBOM names the image by whatever it was given, a file as
    // readily as a registry reference; only Trivy says which it read.
    let names_a_reference = meta.first(props::SOURCE_KIND).is_some()
        || properties(root)
            .iter()
            .any(|(k, _)| k == props::TRIVY_REPO_TAG || k == props::TRIVY_REPO_DIGEST);
    let subject = Subject {
        kind: meta
            .first(props::SOURCE_KIND)
            .unwrap_or_else(|| "sbom".into()),
        location: str_of(&root["name"]).unwrap_or_default(),
        name: str_of(&root["name"]).filter(|_| names_a_reference),
        tag: str_of(&root["version"]).filter(|v| !v.starts_with("sha256:")),
        digest: meta
            .first(props::IMAGE_DIGEST)
            .or_else(|| foreign_digest(root)),
        config_digest: meta.first(props::IMAGE_CONFIG_DIGEST),
        platform: meta.first(props::IMAGE_PLATFORM),
    };
    (subject, names_a_reference)
}

/// Syft and Trivy put the digest in the root component's version or purl.
fn foreign_digest(root: &Value) -> Option<String> {
    let version = str_of(&root["version"]).unwrap_or_default();
    let purl = str_of(&root["purl"]).unwrap_or_default();
    if version.starts_with("sha256:") {
        Some(version)
    } else {
        purl.split_once('@')
            .map(|(_, rest)| {
                rest.split('?')
                    .next()
                    .unwrap_or(rest)
                    .replace("%3A", ":")
                    .replace("%3a", ":")
            })
            .filter(|d| d.starts_with("sha256:"))
    }
}

/// The image config facts gpubom recorded, if it recorded any.
fn image_facts(meta: &Metadata) -> Option<ImageFacts> {
    // gpubom writes the user (empty for none) whenever the scan had an image
    // config; without it there are no config facts to read, and an empty user
    // would wrongly read as root.
    let user = meta.first(props::IMAGE_USER);
    let labels: BTreeMap<String, String> = meta
        .0
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.strip_prefix(props::IMAGE_LABEL_PREFIX)?.to_string(),
                v.clone(),
            ))
        })
        .collect();
    user.is_some().then(|| ImageFacts {
        user,
        exposed_ports: meta.all(props::IMAGE_EXPOSED_PORT),
        env: meta
            .all(props::IMAGE_ENV_NAME)
            .into_iter()
            .map(|n| (n, String::new()))
            .collect(),
        labels,
        workdir: meta.first(props::IMAGE_WORKDIR),
        ..Default::default()
    })
}

/// The layers' `diff_id` and `created_by`, from `gpubom:layer:<index>:<field>`.
fn layers(meta: &Metadata) -> Vec<LayerInfo> {
    let mut layers: BTreeMap<usize, LayerInfo> = BTreeMap::new();
    for (k, v) in &meta.0 {
        let Some(rest) = k.strip_prefix(props::LAYER_PREFIX) else {
            continue;
        };
        let Some((index, field)) = rest.split_once(':') else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        let layer = layers.entry(index).or_insert_with(|| LayerInfo {
            index,
            ..Default::default()
        });
        match field {
            "diff_id" => layer.diff_id = Some(v.clone()),
            "created_by" => layer.created_by = Some(v.clone()),
            _ => {}
        }
    }
    layers.into_values().collect()
}

/// What the SBOM cannot tell and did not already say: no image config, no
/// signature lookup (any SBOM not written by gpubom, and gpubom's of sources
/// that have neither, written before it said so).
fn declare_unrecorded(inventory: &mut Inventory) {
    let said = |inventory: &Inventory, fact| inventory.not_checked.iter().any(|i| i.fact == fact);
    if inventory.image.is_none() && !said(inventory, Fact::User) {
        inventory.declare_not_checked(NotChecked::image_config(
            "this SBOM records no image config; check the image itself (gpubom check IMAGE)",
        ));
    }
    if inventory.signatures.is_none() && !said(inventory, Fact::Signatures) {
        inventory.declare_not_checked([NotChecked::image(
            Fact::Signatures,
            "this SBOM records no signature lookup; check the pushed reference (gpubom check REF --key cosign.pub)",
        )]);
    }
}

/// Regroups the not-checked properties: each group starts at its fact. A fact
/// this build does not know (a newer gpubom wrote the SBOM) is left out.
fn not_checked(meta_props: &[(String, String)]) -> Vec<NotChecked> {
    let mut groups: Vec<(&str, NotChecked)> = Vec::new();
    for (k, v) in meta_props {
        if k == props::NOT_CHECKED_FACT {
            groups.push((v, NotChecked::image(Fact::User, "")));
            continue;
        }
        let Some((_, item)) = groups.last_mut() else {
            continue;
        };
        match k.as_str() {
            props::NOT_CHECKED_SUBJECT if !v.is_empty() => item.subject = Some(v.clone()),
            props::NOT_CHECKED_REASON => item.reason = v.clone(),
            _ => {}
        }
    }
    groups
        .into_iter()
        .filter_map(|(fact, item)| {
            Some(NotChecked {
                fact: Fact::parse(fact)?,
                ..item
            })
        })
        .collect()
}

/// Regroups the signature properties: each group starts at its source.
fn signatures(meta_props: &[(String, String)]) -> Vec<SignatureFact> {
    let mut out: Vec<SignatureFact> = Vec::new();
    for (k, v) in meta_props {
        if k == props::SIGNATURE_SOURCE {
            out.push(SignatureFact {
                source: SignatureSource::parse(v).unwrap_or(SignatureSource::Tag),
                manifest: String::new(),
                verified: false,
                key: None,
                identity: None,
                reason: String::new(),
            });
            continue;
        }
        let Some(fact) = out.last_mut() else { continue };
        match k.as_str() {
            props::SIGNATURE_MANIFEST => fact.manifest = v.clone(),
            props::SIGNATURE_VERIFIED => fact.verified = v == "true",
            props::SIGNATURE_KEY if v.starts_with("sha256:") => fact.key = Some(v.clone()),
            props::SIGNATURE_KEY if !v.is_empty() => fact.identity = Some(v.clone()),
            props::SIGNATURE_REASON => fact.reason = v.clone(),
            _ => {}
        }
    }
    out
}

fn str_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn properties(v: &Value) -> Vec<(String, String)> {
    v["properties"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| Some((str_of(&p["name"])?, str_of(&p["value"]).unwrap_or_default())))
        .collect()
}

fn component(c: &Value) -> Component {
    let props = properties(c);
    let purl = str_of(&c["purl"]);
    let kind = props
        .iter()
        .find(|(k, _)| k == props::KIND)
        .and_then(|(_, v)| serde_json::from_value(Value::String(v.clone())).ok())
        .unwrap_or_else(|| match (purl.as_deref(), c["type"].as_str()) {
            (_, Some("machine-learning-model")) => ComponentKind::Model,
            (_, Some("data")) => ComponentKind::Data,
            (Some(p), _) if p.starts_with("pkg:deb/") => ComponentKind::Deb,
            (Some(p), _) if p.starts_with("pkg:pypi/") => ComponentKind::Python,
            (Some(p), _) if p.starts_with("pkg:generic/nvidia/") => ComponentKind::NativeLibrary,
            _ => ComponentKind::Other,
        });
    let layer = props
        .iter()
        .find(|(k, _)| k == props::LAYER_INDEX)
        .and_then(|(_, v)| v.parse().ok())
        .map(|index| LayerRef { index });
    let locations: Vec<Location> = c["evidence"]["occurrences"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|o| str_of(&o["location"]))
        .chain(
            // Syft records paths as syft:location:N:path properties.
            props
                .iter()
                .filter(|(k, _)| k.starts_with("syft:location:") && k.ends_with(":path"))
                .map(|(_, v)| v.clone()),
        )
        .map(|path| Location { path, layer })
        .collect();
    let hashes = c["hashes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|h| {
            Some(Hash {
                alg: str_of(&h["alg"])?,
                hex: str_of(&h["content"])?,
            })
        })
        .collect();
    Component {
        kind,
        name: str_of(&c["name"]).unwrap_or_default(),
        version: str_of(&c["version"]),
        purl,
        cpes: str_of(&c["cpe"]).into_iter().collect(),
        hashes,
        locations,
        layer,
        properties: props
            .into_iter()
            .filter(|(k, _)| {
                k.starts_with(props::NAMESPACE) && !WRITTEN_FROM_FIELDS.contains(&k.as_str())
            })
            .collect(),
        ..Default::default()
    }
}

/// Properties the writer derives from a component's fields (its kind, its layer) and the
/// inventory's layers, which this reader reads back into those: kept as properties too, they
/// were written twice when the inventory was written again (`check --sbom -o cyclonedx-json`),
/// and a map of them cost every component of a large SBOM an allocation.
const WRITTEN_FROM_FIELDS: [&str; 4] = [
    props::KIND,
    props::LAYER_INDEX,
    props::LAYER_DIFF_ID,
    props::LAYER_CREATED_BY,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn trivy_root(properties: serde_json::Value) -> Vec<u8> {
        serde_json::json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "metadata": { "component": {
                "type": "container",
                "name": "ghcr.io/acme/infer:latest",
                "properties": properties,
            } },
            "components": [],
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn gpubom_s_own_1_6_and_1_5_read_back_alike_synthetic() {
        let written = crate::synthetic::graph();
        for version in [crate::CycloneDxVersion::V1_6, crate::CycloneDxVersion::V1_5] {
            let bytes =
                crate::render(&written, crate::Format::CycloneDxJson(version), "0.0.0").unwrap();
            let read = read_cyclonedx_json(&bytes).unwrap();
            assert_eq!(read.scanned_at, written.scanned_at, "{version:?}");
            let names = |i: &Inventory| {
                i.components
                    .iter()
                    .map(|c| (c.name.clone(), c.purl.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(names(&read), names(&written), "{version:?}");
        }
    }

    #[test]
    fn another_tool_s_name_is_a_reference_only_when_it_says_so_synthetic() {
        // Trivy read a file: the name it shows is not a reference to pin.
        let file = read_cyclonedx_json(&trivy_root(serde_json::json!([]))).unwrap();
        assert_eq!(file.subject.name, None);
        assert_eq!(file.subject.location, "ghcr.io/acme/infer:latest");
        assert!(file
            .not_checked
            .iter()
            .any(|i| i.fact == Fact::Reference && i.subject.is_none()));
        // Trivy read a registry: it records the tag it pulled.
        let pulled = read_cyclonedx_json(&trivy_root(serde_json::json!([
            { "name": props::TRIVY_REPO_TAG, "value": "ghcr.io/acme/infer:latest" }
        ])))
        .unwrap();
        assert_eq!(
            pulled.subject.name.as_deref(),
            Some("ghcr.io/acme/infer:latest")
        );
        assert!(!pulled.not_checked.iter().any(|i| i.fact == Fact::Reference));
    }
}
