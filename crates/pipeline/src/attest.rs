//! Signed SBOMs: `gpubom attest` (an SBOM in an in-toto statement about the image
//! digest, DSSE-signed with a cosign key, pushed where `cosign verify-attestation`
//! finds it) and `check --attested` (the gate over that SBOM, once the signature
//! and the subject are checked, instead of a new scan).

use crate::advisories::Advisories;
use crate::scan::{open_image, scan_source, Progress};
use crate::settings::ScanSettings;
use crate::signatures::{trust, unchecked_signatures_warning};
use crate::TOOL_VERSION;
use anyhow::{anyhow, bail, Context, Result};
use gpubom_catalog::Scan;
use gpubom_image::SourceKind;
use gpubom_inventory::{Fact, Inventory};
use gpubom_registry::attest::PushedAttestation;
use gpubom_signature::attestation::{CYCLONEDX_PREDICATE, SPDX_PREDICATE};
use std::path::Path;

/// What `gpubom attest` was asked for.
pub struct AttestRequest<'a> {
    /// A registry reference (`registry:` prefix optional).
    pub reference: &'a str,
    /// The cosign private key, and its password (`COSIGN_PASSWORD`).
    pub key: &'a Path,
    pub password: Option<String>,
    /// An SBOM gpubom wrote earlier, attested instead of a new scan.
    pub sbom: Option<&'a Path>,
    pub format: gpubom_sbom::Format,
}

/// An attestation pushed.
pub struct Attested {
    pub pushed: PushedAttestation,
    /// `host/repository`, the statement's subject name.
    pub repository: String,
    pub predicate_type: &'static str,
    /// The id of the key that signed it, as `check --key` reports keys.
    pub key: String,
    /// The scan's warnings (none when an SBOM was given).
    pub warnings: Vec<String>,
}

/// The line `gpubom attest` prints: what was attested, with which key, and where it went.
impl std::fmt::Display for Attested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pushed = &self.pushed;
        let referrer = if pushed.tag_schema {
            "listed under the referrers tag schema: the registry has no referrers API"
        } else {
            "listed by the registry's referrers API"
        };
        write!(
            f,
            "attested {}@{} ({}), signed with key {}: tag {} (manifest {}, {} attestation(s)) and referrer {} ({referrer})",
            self.repository,
            pushed.subject,
            self.predicate_type,
            self.key,
            pushed.att_tag,
            pushed.att_manifest,
            pushed.att_count,
            pushed.referrer,
        )
    }
}

/// The in-toto predicate type an SBOM format is attested as: the URI `cosign attest
/// --type` maps the format's name to.
pub fn predicate_type(format: gpubom_sbom::Format) -> Result<&'static str> {
    match format {
        gpubom_sbom::Format::CycloneDxJson(_) => Ok(CYCLONEDX_PREDICATE),
        gpubom_sbom::Format::SpdxJson => Ok(SPDX_PREDICATE),
        gpubom_sbom::Format::CycloneDxXml(_) | gpubom_sbom::Format::Table => {
            bail!("an attestation's predicate is JSON: attest --format cyclonedx-json")
        }
    }
}

/// Scans the image (or reads `request.sbom`, which must describe it), signs the SBOM's
/// statement with the key and pushes it beside the image.
pub fn attest(
    request: &AttestRequest,
    settings: &ScanSettings,
    progress: &dyn Progress,
) -> Result<Attested> {
    let predicate_type = predicate_type(request.format)?;
    let reference = gpubom_registry::reference::recognise(request.reference).ok_or_else(|| {
        anyhow!(
            "{}: attest pushes beside an image in a registry; give HOST[:PORT]/REPO[:TAG|@sha256:…]",
            request.reference
        )
    })?;
    // The key is opened before the image is read: a wrong password costs no scan.
    let signer = load_signer(request.key, request.password.as_deref())?;
    let config = crate::config::load_config(settings)?;
    let (sbom, digest, warnings) = match request.sbom {
        Some(path) => {
            if predicate_type != CYCLONEDX_PREDICATE {
                bail!("--sbom takes a CycloneDX JSON SBOM made by gpubom; to attest SPDX, leave out --sbom and the image is scanned");
            }
            let (sbom, digest) = sbom_of_this_image(path, reference, settings, &config)?;
            (sbom, digest, Vec::new())
        }
        None => {
            let scan = scan_source(reference, settings, &config, progress)?;
            let digest = scan.inventory.subject.digest.clone().ok_or_else(|| {
                anyhow!("{reference}: the scan found no manifest digest to attest")
            })?;
            let sbom = gpubom_sbom::render(&scan.inventory, request.format, TOOL_VERSION)
                .context("cannot render the SBOM")?;
            (sbom, digest, scan.warnings)
        }
    };
    let parsed = gpubom_registry::reference::parse(reference).map_err(anyhow::Error::msg)?;
    let repository = gpubom_registry::reference::name(&parsed);
    let statement = gpubom_signature::statement(&repository, &digest, predicate_type, &sbom)
        .map_err(|e| anyhow!("cannot write the attestation's statement: {e}"))?;
    let envelope = signer
        .sign_statement(&statement)
        .map_err(anyhow::Error::msg)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let pushed = gpubom_registry::attest::push_attestation(
        &format!("{repository}@{digest}"),
        envelope,
        predicate_type,
        &gpubom_inventory::time::rfc3339_from_epoch(now),
        settings.plain_http,
        &config.registry.credential_hosts,
    )?;
    Ok(Attested {
        pushed,
        repository,
        predicate_type,
        key: signer.key_id().to_string(),
        warnings,
    })
}

fn load_signer(key: &Path, password: Option<&str>) -> Result<gpubom_signature::Signer> {
    let pem = std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?;
    let Some(password) = password else {
        bail!(
            "{}: set COSIGN_PASSWORD to the key's password (empty for none), as for cosign",
            key.display()
        );
    };
    gpubom_signature::Signer::load(&pem, password.as_bytes(), &key.display().to_string())
        .map_err(anyhow::Error::msg)
}

/// The SBOM at `path` as it is, with the digest it describes, once it is known to be
/// gpubom's and about the image `reference` names now.
fn sbom_of_this_image(
    path: &Path,
    reference: &str,
    settings: &ScanSettings,
    config: &gpubom_policy::Config,
) -> Result<(Vec<u8>, String)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let inventory = gpubom_sbom::read_cyclonedx_json(&bytes).map_err(|e| {
        anyhow!(
            "{}: {e}; attest takes a CycloneDX JSON SBOM",
            path.display()
        )
    })?;
    let digest = sbom_subject(&inventory, path)?;
    let mut settings = settings.clone();
    settings.platform = settings.platform.or(inventory.subject.platform.clone());
    let image = open_image(reference, &settings, &config.registry.credential_hosts)?;
    let image_digest = image.manifest_digest.clone().unwrap_or_default();
    if digest != image_digest {
        bail!(
            "{} describes {digest}, but {reference} is {image_digest} now; scan it again, or attest without --sbom",
            path.display()
        );
    }
    Ok((bytes, digest))
}

/// The manifest digest a gpubom SBOM records; an error for another tool's SBOM (whose
/// recorded digest may be the config's, Syft's image ID) or one of no image.
pub(crate) fn sbom_subject(inventory: &Inventory, path: &Path) -> Result<String> {
    if inventory.subject.kind == "sbom" {
        bail!(
            "{}: not an SBOM gpubom wrote (no gpubom:source:kind in its metadata), so which manifest it describes is unknown",
            path.display()
        );
    }
    inventory.subject.digest.clone().ok_or_else(|| {
        anyhow!(
            "{}: it records no image digest (a {} scan); only an image's SBOM can be attached to it",
            path.display(),
            inventory.subject.kind
        )
    })
}

/// `check --attested`: the SBOM attested beside `source`, as the gate sees it, and the
/// check's target, which names the attestation and the key that signed it. Fails, never
/// falls back to a scan, when no attestation verifies with a trusted key over the image.
pub fn read_attested(
    source: &str,
    settings: &ScanSettings,
    config: &gpubom_policy::Config,
) -> Result<(Scan, String)> {
    let trust = trust(&config.signatures)?;
    if trust.key_count() == 0 {
        bail!(
            "--attested needs the public key the SBOM was attested with: give --key cosign.pub (or [signatures] keys in .gpubom.toml)"
        );
    }
    let advisories = Advisories::load(settings)?;
    let image = open_image(source, settings, &config.registry.credential_hosts)?;
    if !matches!(
        image.kind,
        SourceKind::Registry | SourceKind::OciDir | SourceKind::OciArchive
    ) {
        bail!("--attested reads attestations beside an image in a registry (or in a `cosign save` layout); {source} holds none");
    }
    let attached = image
        .attached()
        .context("cannot read what is attached to the image")?;
    let digests = image.digests();
    let found =
        gpubom_signature::attestation::attested(&attached, &digests, &trust, CYCLONEDX_PREDICATE)
            .map_err(|why| anyhow!("--attested: {why}; nothing was checked"))?;
    let mut inventory = gpubom_sbom::read_cyclonedx_json(&found.predicate)
        .map_err(|e| anyhow!("--attested: the SBOM attested in {}: {e}", found.manifest))?;
    if let Some(described) = &inventory.subject.digest {
        if !digests.contains(&described.as_str()) {
            bail!(
                "--attested: the statement in {} is about this image, but its SBOM describes {described}; nothing was checked",
                found.manifest
            );
        }
    }
    // The signatures as they are now, not as the scan behind the SBOM found them.
    inventory.signatures = Some(gpubom_signature::check(&attached, &digests, &trust));
    inventory
        .not_checked
        .retain(|item| !(item.fact == Fact::Signatures && item.subject.is_none()));
    let mut warnings = advisories.apply(&mut inventory);
    warnings.extend(unchecked_signatures_warning(&inventory, config));
    let target = format!(
        "{source} (the SBOM attested in {}, signed by key {})",
        found.manifest, found.key
    );
    Ok((
        Scan {
            inventory,
            warnings,
        },
        target,
    ))
}
