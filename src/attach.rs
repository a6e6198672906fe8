//! `gpubom attach`: its flags and the line it prints; the push is
//! `gpubom_pipeline::attach`.

use anyhow::Result;
use clap::Args;
use gpubom_pipeline::attach::attach_sbom;
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

    /// Attach the SBOM even if it is not gpubom's or describes another digest than the image's
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: AttachArgs) -> Result<ExitCode> {
    let attached = attach_sbom(&args.reference, &args.sbom, args.plain_http, args.force)?;
    let how = if attached.sbom.tag_schema {
        "listed under the referrers tag schema: the registry has no referrers API"
    } else {
        "listed by the registry's referrers API"
    };
    let reference = &attached.reference;
    crate::console::out(&format!(
        "attached {} to {}@{} ({how})",
        attached.sbom.manifest,
        reference.split(['@']).next().unwrap_or(reference),
        attached.sbom.subject
    ));
    Ok(ExitCode::SUCCESS)
}
