//! `gpubom scan`: its flags, the progress bar, and where the SBOM goes; the
//! scan itself is `gpubom_pipeline::scan_source`.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use gpubom_pipeline::{scan_source, Progress, ScanSettings};
use gpubom_sbom::{CycloneDxVersion, Format};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;

#[derive(Args)]
pub struct ScanArgs {
    /// What to scan: an engine's image (docker:app:dev, podman:IMAGE_ID; a bare app:dev is
    /// looked up in a running engine first), a registry reference (ghcr.io/org/img:tag), an OCI
    /// layout dir, oci-archive, docker-archive (`docker save`), a directory (rootfs) or a file.
    /// Force the kind: docker:, podman:, registry:, oci:, oci-dir:, oci-archive:, docker-archive:, dir:, file:
    #[arg(required_unless_present = "from", conflicts_with = "from")]
    pub source: Option<String>,

    /// Scan every image listed in FILE (one path or reference per line; - for stdin),
    /// writing one SBOM each and summary.json to --output-dir
    #[arg(long, value_name = "FILE", conflicts_with_all = ["outputs", "format"])]
    pub from: Option<PathBuf>,

    /// With --from: where the SBOMs and summary.json go
    #[arg(long, value_name = "DIR", default_value = "sboms", requires = "from")]
    pub output_dir: PathBuf,

    /// With --from: how many images are scanned at once (each uses every core for its layers)
    #[arg(long, value_name = "N", default_value_t = 4, requires = "from")]
    pub jobs: usize,

    /// Format on stdout, or of a bare `-o FILE` [default: table on a terminal, cyclonedx-json otherwise]
    #[arg(short, long, value_enum)]
    pub format: Option<OutputFormat>,

    /// Where output goes, repeatable, from one scan: FORMAT=FILE, FORMAT (to stdout) or
    /// FILE (the --format output). An unknown FORMAT= is an error; a file whose name has
    /// '=' is written ./NAME. A file is replaced atomically, a symlink written through,
    /// a device or FIFO (/dev/null) written in place
    #[arg(short, long = "output", value_name = "[FORMAT=]FILE")]
    pub outputs: Vec<String>,

    #[command(flatten)]
    pub flags: ScanFlags,
}

/// How to read an image: shared by `scan`, `check` and `attest`.
#[derive(Args, Clone)]
pub struct SourceFlags {
    /// Platform to scan, as os/arch[/variant]: picked from a multi-platform image
    /// [default: linux/amd64], and checked against a single-platform one
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,

    /// No progress display and no warnings on stderr
    #[arg(short, long)]
    pub quiet: bool,

    /// Read every layer, even those whose results are cached by diff_id in
    /// $XDG_CACHE_HOME/gpubom (also GPUBOM_NO_CACHE=1). A cached layer is not re-hashed
    #[arg(long)]
    pub no_cache: bool,

    /// Talk to the registry over plain HTTP (never done otherwise; TLS is always verified)
    #[arg(long)]
    pub plain_http: bool,

    /// Seconds the scan may spend on registry traffic in all [default: 3600]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,

    /// Organisation values, signing keys and waivers [default: .gpubom.toml if present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// OSV advisories to match components against: a .json file or a directory of them
    /// (repeatable), e.g. the PyPI and Debian OSV exports your organisation mirrors
    #[arg(long = "advisories", value_name = "PATH")]
    pub advisories: Vec<PathBuf>,

    /// VEX statements (OpenVEX, or CycloneDX with vulnerabilities[].analysis): an advisory
    /// stated not_affected or fixed for a component is kept in the SBOM, with the
    /// justification, but does not count (repeatable)
    #[arg(long = "vex", value_name = "FILE")]
    pub vex: Vec<PathBuf>,
}

impl SourceFlags {
    /// Every flag but `--quiet`, which is the binary's: what it shows.
    pub fn settings(&self) -> ScanSettings {
        ScanSettings {
            platform: self.platform.clone(),
            no_cache: self.no_cache,
            plain_http: self.plain_http,
            timeout: self.timeout.map(std::time::Duration::from_secs),
            config: self.config.clone(),
            advisories: self.advisories.clone(),
            vex: self.vex.clone(),
            ..ScanSettings::default()
        }
    }
}

/// How to scan and what to verify: shared by `scan` and `check`.
#[derive(Args, Clone)]
pub struct ScanFlags {
    #[command(flatten)]
    pub source: SourceFlags,

    /// Extra NVIDIA fingerprints (TSV: sha256, product, version, file, source), added to the built-in table
    #[arg(long, value_name = "FILE")]
    pub fingerprints: Option<PathBuf>,

    /// Expected sha256 of model files, in `sha256sum` format; each model gets hash_verified true/false
    #[arg(long, value_name = "FILE")]
    pub expect_sha256: Option<PathBuf>,

    /// A cosign public key to verify the image's signatures with (repeatable);
    /// added to [signatures] keys of the config
    #[arg(long = "key", value_name = "FILE")]
    pub keys: Vec<PathBuf>,

    /// Sigstore's trusted_root.json, to verify keyless signatures offline
    /// against the identities in [[signatures.identities]]; overrides
    /// [signatures] trusted_root of the config
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

impl ScanFlags {
    pub fn settings(&self) -> ScanSettings {
        ScanSettings {
            fingerprints: self.fingerprints.clone(),
            expect_sha256: self.expect_sha256.clone(),
            keys: self.keys.clone(),
            trusted_root: self.trusted_root.clone(),
            ..self.source.settings()
        }
    }

    pub fn quiet(&self) -> bool {
        self.source.quiet
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// CycloneDX 1.6 JSON
    CyclonedxJson,
    /// CycloneDX 1.5 JSON, for older consumers
    #[value(name = "cyclonedx-json@1.5")]
    CyclonedxJson15,
    /// CycloneDX 1.6 XML
    CyclonedxXml,
    /// CycloneDX 1.5 XML, for older consumers
    #[value(name = "cyclonedx-xml@1.5")]
    CyclonedxXml15,
    /// SPDX 2.3 JSON
    SpdxJson,
    Table,
}

impl OutputFormat {
    fn sbom_format(self) -> Format {
        match self {
            OutputFormat::CyclonedxJson => Format::CycloneDxJson(CycloneDxVersion::V1_6),
            OutputFormat::CyclonedxJson15 => Format::CycloneDxJson(CycloneDxVersion::V1_5),
            OutputFormat::CyclonedxXml => Format::CycloneDxXml(CycloneDxVersion::V1_6),
            OutputFormat::CyclonedxXml15 => Format::CycloneDxXml(CycloneDxVersion::V1_5),
            OutputFormat::SpdxJson => Format::SpdxJson,
            OutputFormat::Table => Format::Table,
        }
    }
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    let source = (args.source.as_deref()).expect("clap requires a source or --from (a batch)");
    let default = match args.format {
        Some(format) => format,
        None if args.outputs.is_empty() && std::io::stdout().is_terminal() => OutputFormat::Table,
        None => OutputFormat::CyclonedxJson,
    };
    let targets = crate::output::targets(&args.outputs, default)?;
    let settings = args.flags.settings();
    let config = gpubom_pipeline::load_config(&settings)?;
    let scan = scan_source(source, &settings, &config, &Bar::new(args.flags.quiet()))?;
    crate::console::warnings(&scan.warnings, args.flags.quiet());
    let mut rendered = Vec::new();
    for target in &targets {
        let format = target.format.sbom_format();
        let bytes = gpubom_sbom::render(&scan.inventory, format, gpubom_pipeline::TOOL_VERSION)
            .context("cannot render the SBOM")?;
        rendered.push((target.file.as_deref(), bytes));
    }
    crate::output::write_all(rendered)?;
    Ok(ExitCode::SUCCESS)
}

/// A progress bar of the bytes read, on an interactive stderr unless
/// `--quiet`: made once the source is open and its size known. Off a terminal
/// (a CI log), a line per layer read instead, so a long scan is not silent.
pub struct Bar(OnceLock<ProgressBar>, bool);

impl Bar {
    pub fn new(quiet: bool) -> Bar {
        Bar(OnceLock::new(), quiet)
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        let quiet = self.1;
        self.0.get_or_init(|| {
            if quiet || total == 0 || !std::io::stderr().is_terminal() {
                return ProgressBar::hidden();
            }
            let template = "scanning {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})";
            let style = ProgressStyle::with_template(template).expect("static template");
            ProgressBar::new(total).with_style(style.progress_chars("=> "))
        });
    }

    fn advance(&self, bytes: u64) {
        self.0.get().inspect(|bar| bar.inc(bytes));
    }

    fn layer(&self, read: &gpubom_pipeline::LayerRead) {
        if !self.1 && !std::io::stderr().is_terminal() {
            crate::console::note(&read.to_string());
        }
    }

    fn finish(&self) {
        self.0.get().inspect(|bar| bar.finish_and_clear());
    }
}
