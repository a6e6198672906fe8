//! `gpubom attest`: its flags and the lines it prints; the scan, the signature
//! and the push are `gpubom_pipeline::attest`.

use crate::scan::{Bar, SourceFlags};
use anyhow::Result;
use clap::{Args, ValueEnum};
use gpubom_pipeline::attest::{attest, AttestRequest};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct AttestArgs {
    /// The image in its registry: HOST[:PORT]/REPO[:TAG|@sha256:…] (registry: prefix optional)
    pub reference: String,

    /// The cosign private key to sign with (`cosign generate-key-pair`'s cosign.key);
    /// its password is read from COSIGN_PASSWORD, as cosign reads it
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    /// Attest this SBOM (written by `gpubom scan` of the same image digest) instead of
    /// scanning the image again
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,

    /// The SBOM format attested (its in-toto predicate type: https://cyclonedx.org/bom)
    #[arg(short, long, value_enum, default_value = "cyclonedx-json")]
    pub format: AttestFormat,

    #[command(flatten)]
    pub source: SourceFlags,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AttestFormat {
    CyclonedxJson,
    SpdxJson,
}

pub fn run(args: AttestArgs) -> Result<ExitCode> {
    let settings = args.source.settings();
    let request = AttestRequest {
        reference: &args.reference,
        key: &args.key,
        password: std::env::var("COSIGN_PASSWORD").ok(),
        sbom: args.sbom.as_deref(),
        format: match args.format {
            AttestFormat::CyclonedxJson => gpubom_sbom::Format::DEFAULT_SBOM,
            AttestFormat::SpdxJson => gpubom_sbom::Format::SpdxJson,
        },
    };
    let attested = attest(&request, &settings, &Bar::new(args.source.quiet))?;
    crate::console::warnings(&attested.warnings, args.source.quiet);
    crate::console::out(&attested.to_string());
    Ok(ExitCode::SUCCESS)
}
