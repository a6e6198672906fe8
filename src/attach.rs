//! `gpubom attach`: push an SBOM to the registry as a referrer of the image.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct AttachArgs {
    /// The image in its registry: HOST[:PORT]/REPO[:TAG|@sha256:…] (registry: prefix optional)
    pub reference: String,

    /// The CycloneDX JSON SBOM to attach (from `gpubom scan`)
    pub sbom: PathBuf,

    /// Talk to the registry over plain HTTP (never done otherwise; TLS is always verified)
    #[arg(long)]
    pub plain_http: bool,
}

pub fn run(args: AttachArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.sbom)
        .with_context(|| format!("cannot read {}", args.sbom.display()))?;
    // A referrer lives as long as the image; refuse to publish what is not an SBOM.
    if let Err(e) = gpubom_sbom::read_cyclonedx_json(&bytes) {
        bail!(
            "{}: {e}; attach takes a CycloneDX JSON SBOM",
            args.sbom.display()
        );
    }
    let reference =
        gpubom_registry::reference::strip_scheme(&args.reference).unwrap_or(&args.reference);
    // Where the credentials may go besides the registry: `.gpubom.toml` here, if any.
    let config = crate::check::read_config(None)?;
    let attached = gpubom_registry::attach::attach(
        reference,
        bytes,
        args.plain_http,
        &config.registry.credential_hosts,
    )?;
    let how = if attached.tag_schema {
        "listed under the referrers tag schema: the registry has no referrers API"
    } else {
        "listed by the registry's referrers API"
    };
    crate::console::out(&format!(
        "attached {} to {}@{} ({how})",
        attached.manifest,
        reference.split(['@']).next().unwrap_or(reference),
        attached.subject
    ));
    Ok(ExitCode::SUCCESS)
}
