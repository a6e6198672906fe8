//! OCI image layouts (and the JSON they share with Docker): index → (nested
//! indexes) → manifest → config, choosing one platform; and the signatures
//! `cosign save` keeps beside the image in a layout.

use crate::attached::{read_attached, Attached, Discovery, MAX_ATTACHED};
use crate::descriptor::{is_cosign_entry, parse_json, Descriptor, Index};
use crate::store::{read_verified, Store};
use crate::{Error, History, ImageConfig};
use serde::Deserialize;
use std::collections::BTreeMap;

const MAX_INDEX_DEPTH: usize = 8;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// The manifest chosen for a platform, with the annotations that name it.
pub(crate) struct Chosen {
    pub descriptor: Descriptor,
    /// The top-level index the manifest came from, when `index.json` listed
    /// exactly one index (a registry reference, or a layout of one image).
    pub index_digest: Option<String>,
    pub manifest: Manifest,
    pub name_annotations: BTreeMap<String, String>,
}

fn is_index(media_type: &str) -> bool {
    media_type.ends_with("image.index.v1+json") || media_type.ends_with("manifest.list.v2+json")
}

/// Resolves `index.json` down to one image manifest for `wanted` (`os/arch[/variant]`).
pub(crate) fn choose(store: &Store, wanted: &str) -> Result<Chosen, Error> {
    let index: Index = parse_json(
        &store.read_json("index.json")?,
        &format!("index.json in {}", store.describe()),
    )?;
    let index_digest = match index.manifests.as_slice() {
        [only] if is_index(&only.media_type) => Some(only.digest.clone()),
        _ => None,
    };
    let mut candidates = Vec::new();
    let mut walk = IndexWalk::default();
    collect(
        store,
        index.manifests,
        &BTreeMap::new(),
        0,
        &mut walk,
        &mut candidates,
    )?;
    if candidates.is_empty() {
        return Err(Error::NotAnImage {
            path: store.describe(),
            why: "index.json lists no image manifest".into(),
        });
    }
    let chosen = if candidates.len() == 1 {
        candidates.remove(0)
    } else {
        let position = candidates.iter().position(|(d, _)| {
            d.platform
                .as_ref()
                .is_some_and(|p| platform_matches(&p.to_string(), wanted))
        });
        match position {
            Some(i) => candidates.remove(i),
            None => {
                let mut available: Vec<String> = candidates
                    .iter()
                    .filter_map(|(d, _)| d.platform.as_ref().map(|p| p.to_string()))
                    .collect();
                available.sort();
                available.dedup();
                return Err(Error::Platform {
                    wanted: wanted.to_string(),
                    available: available.join(", "),
                });
            }
        }
    };
    let (descriptor, name_annotations) = chosen;
    let manifest: Manifest = parse_json(
        &read_verified(store, &descriptor.digest, "manifest")?,
        &format!("manifest {}", descriptor.digest),
    )?;
    Ok(Chosen {
        descriptor,
        index_digest,
        manifest,
        name_annotations,
    })
}

/// Most descriptors read across all nested indexes: far more than any real
/// multi-platform image lists, far fewer than a fan-out attack would make us visit.
pub const MAX_INDEX_VISITS: usize = 10_000;

/// What has been walked so far: each nested index is expanded once, and the
/// number of descriptors visited is capped, so a DAG of indexes that list each
/// other many times costs what its distinct nodes cost.
#[derive(Default)]
struct IndexWalk {
    expanded: std::collections::HashSet<String>,
    visits: usize,
}

/// Flattens nested indexes into image manifests, skipping attestations.
fn collect(
    store: &Store,
    descriptors: Vec<Descriptor>,
    inherited: &BTreeMap<String, String>,
    depth: usize,
    walk: &mut IndexWalk,
    out: &mut Vec<(Descriptor, BTreeMap<String, String>)>,
) -> Result<(), Error> {
    if depth > MAX_INDEX_DEPTH {
        return Err(Error::Invalid {
            what: format!("index in {}", store.describe()),
            why: format!("indexes nested more than {MAX_INDEX_DEPTH} deep"),
        });
    }
    for d in descriptors {
        walk.visits += 1;
        if walk.visits > MAX_INDEX_VISITS {
            return Err(Error::Invalid {
                what: format!("index in {}", store.describe()),
                why: format!("indexes list more than {MAX_INDEX_VISITS} descriptors"),
            });
        }
        let mut names = inherited.clone();
        names.extend(d.annotations.clone());
        if is_index(&d.media_type) {
            if !walk.expanded.insert(d.digest.clone()) {
                continue;
            }
            let bytes = read_verified(store, &d.digest, "index")?;
            let nested: Index = parse_json(&bytes, &format!("index {}", d.digest))?;
            collect(store, nested.manifests, &names, depth + 1, walk, out)?;
        } else {
            let attestation = d.annotations.contains_key("vnd.docker.reference.type")
                || d.platform.as_ref().is_some_and(|p| p.os == "unknown")
                || is_cosign_entry(&d.annotations);
            if !attestation && walk.expanded.insert(d.digest.clone()) {
                out.push((d, names));
            }
        }
    }
    Ok(())
}

/// Refuses a manifest whose config is not an image configuration: an OCI
/// artifact (an SBOM, a signature, a Helm chart) has no filesystem to scan,
/// and scanning it as an empty image would pass every check.
pub(crate) fn expect_image_config(chosen: &Chosen, source: &str) -> Result<(), Error> {
    const IMAGE_CONFIGS: &[&str] = &[
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
    ];
    let media_type = chosen.manifest.config.media_type.as_str();
    if media_type.is_empty() || IMAGE_CONFIGS.contains(&media_type) {
        return Ok(());
    }
    Err(Error::NotAnImage {
        path: format!("{source} ({})", chosen.descriptor.digest),
        why: format!("its config is {media_type}: an artifact, not a container image"),
    })
}

/// Whether a platform (`os/arch[/variant]`) is the one `wanted` names; a
/// `wanted` without a variant accepts any.
pub(crate) fn platform_matches(found: &str, wanted: &str) -> bool {
    let (mut found, mut wanted) = (found.split('/'), wanted.split('/'));
    found.next() == wanted.next()
        && found.next() == wanted.next()
        && wanted
            .next()
            .is_none_or(|variant| found.next() == Some(variant))
}

/// `example.com/x:1.0` → (Some(name), Some(tag)); a bare `1.0` is a tag.
pub(crate) fn split_reference(reference: &str) -> (Option<String>, Option<String>) {
    let (name_part, digest_free) = match reference.split_once('@') {
        Some((n, _)) => (n, n),
        None => (reference, reference),
    };
    let last_slash = digest_free.rfind('/').map(|i| i + 1).unwrap_or(0);
    match digest_free[last_slash..].rfind(':') {
        Some(i) => {
            let split = last_slash + i;
            let name = &name_part[..split];
            let tag = &name_part[split + 1..];
            (
                (!name.is_empty()).then(|| name.to_string()),
                Some(tag.to_string()),
            )
        }
        None if reference.contains('/') => (Some(name_part.to_string()), None),
        None => (None, Some(reference.to_string())),
    }
}

/// Name and tag from the annotations containerd, skopeo and buildah write.
pub(crate) fn name_and_tag(
    annotations: &BTreeMap<String, String>,
) -> (Option<String>, Option<String>) {
    let full = annotations
        .get("io.containerd.image.name")
        .map(|s| split_reference(s));
    let oci = annotations
        .get("org.opencontainers.image.ref.name")
        .map(|s| split_reference(s));
    let name = full
        .as_ref()
        .and_then(|f| f.0.clone())
        .or_else(|| oci.as_ref().and_then(|o| o.0.clone()));
    let tag = full.and_then(|f| f.1).or_else(|| oci.and_then(|o| o.1));
    (name, tag)
}

#[derive(Debug, Deserialize, Default)]
struct RawConfig {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    config: Option<RawRuntime>,
    #[serde(default)]
    rootfs: Option<RawRootfs>,
    #[serde(default)]
    history: Vec<RawHistory>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawRuntime {
    user: Option<String>,
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    env: Option<Vec<String>>,
    labels: Option<BTreeMap<String, String>>,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    working_dir: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct RawRootfs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
struct RawHistory {
    created_by: Option<String>,
    comment: Option<String>,
    #[serde(default)]
    empty_layer: bool,
}

/// The config's facts, and whether it has the `rootfs` every image config
/// carries (even a layerless one) and an artifact's config does not.
pub(crate) fn parse_config(bytes: &[u8], what: &str) -> Result<(ImageConfig, bool), Error> {
    let raw: RawConfig = parse_json(bytes, what)?;
    let has_rootfs = raw.rootfs.is_some();
    let rt = raw.config.unwrap_or_default();
    let config = ImageConfig {
        user: rt.user.filter(|u| !u.is_empty()),
        exposed_ports: rt.exposed_ports.unwrap_or_default().into_keys().collect(),
        env: rt.env.unwrap_or_default(),
        labels: rt.labels.unwrap_or_default(),
        entrypoint: rt.entrypoint.unwrap_or_default(),
        cmd: rt.cmd.unwrap_or_default(),
        workdir: rt.working_dir.filter(|w| !w.is_empty()),
        created: raw.created,
        architecture: raw.architecture,
        os: raw.os,
        variant: raw.variant,
        diff_ids: raw.rootfs.unwrap_or_default().diff_ids,
        history: raw
            .history
            .into_iter()
            .map(|h| History {
                created_by: h.created_by,
                comment: h.comment,
                empty_layer: h.empty_layer,
            })
            .collect(),
    };
    Ok((config, has_rootfs))
}

/// The `created_by` line of the history entry behind each non-empty layer.
pub(crate) fn layer_history(config: &ImageConfig) -> Vec<Option<String>> {
    config
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| h.created_by.clone())
        .collect()
}

/// The signature and attestation manifests `cosign save` wrote into a layout's `index.json`.
pub(crate) fn attached_in_layout(store: &Store) -> Result<Vec<Attached>, Error> {
    if !store.contains("index.json") {
        return Ok(Vec::new());
    }
    let index: Index = parse_json(
        &store.read_json("index.json")?,
        &format!("index.json in {}", store.describe()),
    )?;
    let mut out = Vec::new();
    for entry in index.manifests.into_iter().take(MAX_ATTACHED) {
        if !is_cosign_entry(&entry.annotations) {
            continue;
        }
        let attached = match read_verified(store, &entry.digest, "manifest") {
            Ok(manifest) => read_attached(
                &entry.digest,
                &manifest,
                Discovery::Layout,
                &mut |digest, limit| read_blob_bounded(store, digest, limit),
            ),
            Err(e) => Attached::unreadable(&entry.digest, Discovery::Layout, e.to_string()),
        };
        out.push(attached);
    }
    Ok(out)
}

fn read_blob_bounded(store: &Store, digest: &str, limit: u64) -> Result<Vec<u8>, Error> {
    let bytes = read_verified(store, digest, "attached layer")?;
    if bytes.len() as u64 > limit {
        return Err(Error::Invalid {
            what: format!("attached layer {digest}"),
            why: format!("more than the {limit}-byte limit"),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(
            split_reference("example.com:5000/a/b:1.0"),
            (Some("example.com:5000/a/b".into()), Some("1.0".into()))
        );
        assert_eq!(split_reference("1.0"), (None, Some("1.0".into())));
        assert_eq!(
            split_reference("example.com:5000/a/b"),
            (Some("example.com:5000/a/b".into()), None)
        );
    }
}
