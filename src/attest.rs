//! `gpubom attest`: its flags and the lines it prints; the scan, the signature
//! and the push are `gpubom_pipeline::attest`.

use crate::scan::Bar;
use anyhow::Result;
use clap::{Args, ValueEnum};
use gpubom_pipeline::attest::{attest, AttestRequest};
use gpubom_pipeline::ScanSettings;
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

    /// Platform to scan, as os/arch[/variant], from a multi-platform image
    /// [default: linux/amd64]; the attestation is about that platform's manifest
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,

    /// Talk to the registry over plain HTTP (never done otherwise; TLS is always verified)
    #[arg(long)]
    pub plain_http: bool,

    /// Seconds the scan may spend on registry traffic in all [default: 3600]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,

    /// Organisation values, keys and registry settings [default: .gpubom.toml if present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// OSV advisories to match components against, as for `gpubom scan` (repeatable)
    #[arg(long = "advisories", value_name = "PATH")]
    pub advisories: Vec<PathBuf>,

    /// VEX statements, as for `gpubom scan` (repeatable)
    #[arg(long = "vex", value_name = "FILE")]
    pub vex: Vec<PathBuf>,

    /// Read every layer, even those whose results are cached
    #[arg(long)]
    pub no_cache: bool,

    /// No progress display and no warnings on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AttestFormat {
    CyclonedxJson,
    SpdxJson,
}

pub fn run(args: AttestArgs) -> Result<ExitCode> {
    let settings = ScanSettings {
        platform: args.platform.clone(),
        no_cache: args.no_cache,
        plain_http: args.plain_http,
        timeout: args.timeout.map(std::time::Duration::from_secs),
        config: args.config.clone(),
        advisories: args.advisories.clone(),
        vex: args.vex.clone(),
        ..ScanSettings::default()
    };
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
    let attested = attest(&request, &settings, &Bar::new(args.quiet))?;
    crate::console::warnings(&attested.warnings, args.quiet);
    let pushed = &attested.pushed;
    let referrer = if pushed.tag_schema {
        "listed under the referrers tag schema: the registry has no referrers API"
    } else {
        "listed by the registry's referrers API"
    };
    crate::console::out(&format!(
        "attested {}@{} ({}), signed with key {}: tag {} (manifest {}, {} attestation(s)) and referrer {} ({referrer})",
        attested.repository,
        pushed.subject,
        attested.predicate_type,
        attested.key,
        pushed.att_tag,
        pushed.att_manifest,
        pushed.att_count,
        pushed.referrer,
    ));
    Ok(ExitCode::SUCCESS)
}
