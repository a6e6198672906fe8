//! `gpubom scan`: source → inventory → SBOM.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use gpubom_catalog::nvidia::FingerprintTable;
use gpubom_inventory::{Fact, Inventory, NotChecked};
use gpubom_sbom::Format;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct ScanArgs {
    /// What to scan: a registry reference (ghcr.io/org/img:tag, registry:HOST/REPO@sha256:…),
    /// an OCI layout dir, oci-archive, docker-archive (`docker save`), a directory (unpacked
    /// rootfs) or a single file. Force the kind with a prefix: registry:, oci-dir:,
    /// oci-archive:, docker-archive:, dir:, file:
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

/// How to scan: shared by `scan` and `check`.
#[derive(Args, Clone)]
pub struct ScanFlags {
    /// Platform to scan, as os/arch[/variant]: picked from a multi-platform image
    /// [default: linux/amd64], and checked against a single-platform one
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,

    /// Extra NVIDIA fingerprints (TSV: sha256, product, version, file, source), added to the built-in table
    #[arg(long, value_name = "FILE")]
    pub fingerprints: Option<PathBuf>,

    /// Expected sha256 of model files, in `sha256sum` format; each model gets hash_verified true/false
    #[arg(long, value_name = "FILE")]
    pub expect_sha256: Option<PathBuf>,

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

    /// A cosign public key to verify the image's signatures with (repeatable);
    /// added to [signatures] keys of the config
    #[arg(long = "key", value_name = "FILE")]
    pub keys: Vec<PathBuf>,

    /// Sigstore's trusted_root.json, to verify keyless signatures offline
    /// against the identities in [[signatures.identities]]; overrides
    /// [signatures] trusted_root of the config
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,

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

impl ScanFlags {
    /// The flags given that change how an image is read, each with why: an SBOM
    /// is a scan already made, so `check --sbom` cannot honour them.
    pub fn image_only(&self) -> Vec<(&'static str, &'static str)> {
        [
            (
                self.platform.is_some(),
                "--platform",
                "the platform was chosen when the SBOM was made",
            ),
            (
                self.fingerprints.is_some(),
                "--fingerprints",
                "NVIDIA libraries are identified when the image is scanned",
            ),
            (
                self.expect_sha256.is_some(),
                "--expect-sha256",
                "model hashes are compared with the files' bytes, which an SBOM does not hold",
            ),
            (
                !self.keys.is_empty(),
                "--key",
                "signatures are verified beside the image, when it is scanned",
            ),
            (
                self.trusted_root.is_some(),
                "--trusted-root",
                "signatures are verified beside the image, when it is scanned",
            ),
            (
                self.plain_http,
                "--plain-http",
                "an SBOM is read from a file, not a registry",
            ),
            (self.no_cache, "--no-cache", "an SBOM has no layers to read"),
        ]
        .into_iter()
        .filter(|(given, _, _)| *given)
        .map(|(_, flag, why)| (flag, why))
        .collect()
    }
}

/// The advisory data (built in, plus `--advisories`) and the `--vex`
/// statements components are matched against, loaded before any byte is read.
pub struct Advisories {
    database: gpubom_advisory::Database,
    vex: gpubom_advisory::Vex,
}

impl Advisories {
    pub fn load(flags: &ScanFlags) -> Result<Advisories> {
        Ok(Advisories {
            database: gpubom_advisory::Database::load(&flags.advisories)
                .map_err(anyhow::Error::msg)?,
            vex: gpubom_advisory::Vex::load(&flags.vex).map_err(anyhow::Error::msg)?,
        })
    }

    /// Matches `inventory`'s components and says which data it used (and, for
    /// an SBOM read back, which data its scan used). Returns the warnings.
    pub fn apply(&self, inventory: &mut Inventory) -> Vec<String> {
        let warnings = self.database.annotate(inventory, &self.vex);
        let now = self.database.describe(&gpubom_inventory::time::today());
        inventory.advisory_data = Some(match inventory.advisory_data.take() {
            Some(before) if before != now => format!("{now}; when scanned: {before}"),
            _ => now,
        });
        warnings
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

#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    CyclonedxJson,
    CyclonedxXml,
    Table,
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    let source = match (&args.source, &args.from) {
        (_, Some(list)) => {
            return crate::batch::run(list, &args.output_dir, args.jobs, &args.flags)
        }
        (Some(source), None) => source,
        (None, None) => unreachable!("clap requires a source or --from"),
    };
    let default = match args.format {
        Some(format) => format,
        None if args.outputs.is_empty() && std::io::stdout().is_terminal() => OutputFormat::Table,
        None => OutputFormat::CyclonedxJson,
    };
    let targets = crate::output::targets(&args.outputs, default)?;
    let config = crate::check::load_config(&args.flags)?;
    let scan = scan_source(source, &args.flags, &config)?;
    let mut rendered = Vec::new();
    for target in &targets {
        let format = match target.format {
            OutputFormat::CyclonedxJson => Format::CycloneDxJson,
            OutputFormat::CyclonedxXml => Format::CycloneDxXml,
            OutputFormat::Table => Format::Table,
        };
        let bytes = gpubom_sbom::render(&scan.inventory, format, env!("CARGO_PKG_VERSION"))
            .context("cannot render the SBOM")?;
        rendered.push((target.file.as_deref(), bytes));
    }
    crate::output::write_all(rendered)?;
    Ok(ExitCode::SUCCESS)
}

/// Opens and catalogs a source, with a progress bar on an interactive stderr.
pub fn scan_source(
    source: &str,
    settings: &ScanFlags,
    config: &gpubom_policy::Config,
) -> Result<gpubom_catalog::Scan> {
    // Keys and advisories are loaded before any byte is pulled: bad input fails fast.
    let trust = trust(&config.signatures)?;
    let advisories = Advisories::load(settings)?;
    let mut fingerprints = FingerprintTable::builtin();
    if let Some(path) = &settings.fingerprints {
        fingerprints.merge(FingerprintTable::load(path).map_err(anyhow::Error::msg)?);
    }
    let expected = match &settings.expect_sha256 {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(
                gpubom_catalog::parse_sha256sums(&text, &path.display().to_string())
                    .map_err(anyhow::Error::msg)?,
            )
        }
        None => None,
    };
    let image = open_source(source, settings, &config.registry.credential_hosts)?;
    let no_cache =
        settings.no_cache || std::env::var_os("GPUBOM_NO_CACHE").is_some_and(|v| v == "1");
    let cache = (!no_cache)
        .then(gpubom_catalog::cache::LayerCache::user)
        .flatten();
    let total: u64 = image.layers.iter().filter_map(|l| l.size).sum();
    let bar = progress_bar(total, settings.quiet);
    let on_progress = |n: u64| bar.inc(n);
    let mut scan = gpubom_catalog::scan(
        &image,
        &gpubom_catalog::ScanOptions {
            progress: Some(&on_progress),
            fingerprints: Some(&fingerprints),
            expected_sha256: expected.as_ref(),
            cache: cache.as_ref(),
        },
    )?;
    bar.finish_and_clear();
    match signature_facts(&image, &trust)? {
        Some(facts) => scan.inventory.signatures = Some(facts),
        None => scan.inventory.declare_not_checked([NotChecked::image(
            Fact::Signatures,
            unsigned_source(image.kind),
        )]),
    }
    scan.warnings.extend(advisories.apply(&mut scan.inventory));
    scan.warnings
        .extend(unchecked_signatures_warning(&scan.inventory, config));
    crate::console::warnings(&scan.warnings, settings.quiet);
    Ok(scan)
}

fn trust(signatures: &gpubom_policy::config::Signatures) -> Result<gpubom_signature::Trust> {
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
fn signature_facts(
    image: &gpubom_image::Image,
    trust: &gpubom_signature::Trust,
) -> Result<Option<Vec<gpubom_inventory::SignatureFact>>> {
    use gpubom_image::SourceKind;
    if !matches!(
        image.kind,
        SourceKind::Registry | SourceKind::OciDir | SourceKind::OciArchive
    ) {
        return Ok(None);
    }
    let attached = image
        .attached()
        .context("cannot look for the image's signatures")?;
    let digests: Vec<&str> = image
        .manifest_digest
        .iter()
        .chain(&image.index_digest)
        .map(String::as_str)
        .collect();
    Ok(Some(gpubom_signature::check(&attached, &digests, trust)))
}

/// Why a source kind that carries no signatures has none, and where to look instead.
fn unsigned_source(kind: gpubom_image::SourceKind) -> &'static str {
    use gpubom_image::SourceKind;
    match kind {
        SourceKind::DockerArchive => "a docker-archive carries none (docker save drops them); scan the pushed reference, or an OCI layout written by cosign save",
        SourceKind::Dir => "a directory carries none; scan the pushed reference",
        SourceKind::File => "a single file carries none; scan the pushed reference",
        _ => "this source carries none; scan the pushed reference",
    }
}

/// A registry reference through the registry client, anything else as a local path.
fn open_source(
    source: &str,
    settings: &ScanFlags,
    credential_hosts: &[String],
) -> Result<gpubom_image::Image> {
    match gpubom_registry::reference::recognise(source) {
        Some(reference) => Ok(gpubom_registry::open(
            reference,
            &gpubom_registry::Options {
                platform: settings.platform.clone(),
                plain_http: settings.plain_http,
                credential_hosts: credential_hosts.to_vec(),
                timeout: None,
            },
        )?),
        None => {
            let options = gpubom_image::OpenOptions {
                platform: settings.platform.clone(),
            };
            Ok(gpubom_image::open(source, &options)?)
        }
    }
}

fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || total == 0 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "scanning {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar
}
