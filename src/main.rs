//! The `gpubom` command line: argument parsing, progress and output only.
//!
//! What each command does is `gpubom-pipeline`, which joins the crates of the
//! stages (image, catalog, sbom, policy, registry, signature, advisory).
//! Exit codes: 0 success, 1 findings (for `check`), 2 could not run;
//! `diff` only informs, so it is 0 whenever it ran.

mod advisories_cmd;
mod attach;
mod attest;
mod batch;
mod check;
mod console;
mod diff;
mod output;
mod policy_cmd;
mod scan;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "gpubom",
    version,
    about = "SBOMs for GPU/ML container images and models: CUDA, cuDNN, TensorRT, NCCL, wheels, debs and model files",
    long_about = None,
    after_help = "Examples:\n  gpubom scan ghcr.io/org/infer:1.0 --key cosign.pub\n  gpubom scan oci-archive:image.tar\n  gpubom scan docker-archive:saved.tar -o sbom.cdx.json\n  gpubom check image.tar --fail-on high --format sarif -o gpubom.sarif\n  gpubom check --sbom sbom.cdx.json --policy ./org-policies\n  gpubom diff old.cdx.json new.cdx.json -f markdown -o diff.md\n  gpubom policy test ./org-policies/tests\n  gpubom attach ghcr.io/org/infer@sha256:… sbom.cdx.json\n  COSIGN_PASSWORD=… gpubom attest ghcr.io/org/infer:1.0 --key cosign.key\n  gpubom check ghcr.io/org/infer:1.0 --attested --key cosign.pub"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inventory an image, directory or file and write a CycloneDX SBOM
    Scan(scan::ScanArgs),
    /// Evaluate the rule pack over an image (or an SBOM); exit 1 on findings at or above --fail-on
    Check(check::CheckArgs),
    /// Compare two SBOMs: components upgraded, added and removed, ports and user, new and resolved findings
    Diff(diff::DiffArgs),
    /// Push an SBOM to the registry as an OCI 1.1 referrer of the image's digest
    Attach(attach::AttachArgs),
    /// Scan an image and push its SBOM as a signed in-toto attestation, where cosign verify-attestation finds it
    Attest(attest::AttestArgs),
    /// Validate and test Cedar policies
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Show the OSV advisory data --advisories would load
    #[command(subcommand)]
    Advisories(advisories_cmd::AdvisoriesCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) if args.from.is_some() => batch::run(&args),
        Command::Scan(args) => scan::run(args),
        Command::Check(args) => check::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Attach(args) => attach::run(args),
        Command::Attest(args) => attest::run(args),
        Command::Policy(command) => policy_cmd::run(command),
        Command::Advisories(command) => advisories_cmd::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // The chain may quote an image (a docker-archive's `Config`) or a registry.
            console::error(&gpubom_pipeline::one_line(&err));
            ExitCode::from(2)
        }
    }
}
