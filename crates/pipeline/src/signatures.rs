//! The image's signatures: who the configuration trusts, what was found
//! beside the image and checked, and a warning when trust was configured but
//! nothing could be checked (so `image-signature-untrusted` cannot fire).

use anyhow::{Context, Result};
use gpubom_image::{Image, SourceKind};
use gpubom_inventory::{Fact, Inventory, SignatureFact};
use std::path::Path;

/// The keys, identities and trusted root of `[signatures]`, loaded.
pub fn trust(signatures: &gpubom_policy::config::Signatures) -> Result<gpubom_signature::Trust> {
    let keys: Vec<&Path> = signatures.keys.iter().map(Path::new).collect();
    let identities = signatures
        .identities
        .iter()
        .map(|i| gpubom_signature::Identity {
            subject: i.subject.clone(),
            issuer: i.issuer.clone(),
        })
        .collect();
    let root = signatures.trusted_root.as_deref().map(Path::new);
    gpubom_signature::Trust::load(&keys, identities, root).map_err(anyhow::Error::msg)
}

/// Every signature found beside the image, checked; `None` for sources that
/// cannot carry signatures, so the gate does not call them unsigned.
pub fn signature_facts(
    image: &Image,
    trust: &gpubom_signature::Trust,
) -> Result<Option<Vec<SignatureFact>>> {
    if !matches!(
        image.kind,
        SourceKind::Registry | SourceKind::OciDir | SourceKind::OciArchive
    ) {
        return Ok(None);
    }
    let attached = image
        .attached()
        .context("cannot look for the image's signatures")?;
    let digests = image.digests();
    Ok(Some(gpubom_signature::check(&attached, &digests, trust)))
}

/// Why a source kind that carries no signatures has none, and where to look instead.
pub fn unsigned_source(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::DockerArchive => "a docker-archive carries none (docker save drops them); scan the pushed reference, or an OCI layout written by cosign save",
        SourceKind::Docker | SourceKind::Podman => "an engine's export is a docker-archive, which carries none; scan the pushed reference",
        SourceKind::Dir => "a directory carries none; scan the pushed reference",
        SourceKind::File => "a single file carries none; scan the pushed reference",
        _ => "this source carries none; scan the pushed reference",
    }
}

/// A warning when signers are trusted but the image's signatures could not be
/// checked, so `image-signature-untrusted` cannot fire; `None` when they were,
/// or when `[signatures] required = true` makes it a finding anyway.
pub fn unchecked_signatures_warning(
    inventory: &Inventory,
    config: &gpubom_policy::Config,
) -> Option<String> {
    let signatures = &config.signatures;
    if !signatures.names_signers() || signatures.required {
        return None;
    }
    let item = inventory
        .not_checked
        .iter()
        .find(|i| i.fact == Fact::Signatures && i.subject.is_none())?;
    Some(format!(
        "signatures were not checked, although keys or identities are trusted: {}; [signatures] required = true in .gpubom.toml makes this a finding",
        item.reason
    ))
}
