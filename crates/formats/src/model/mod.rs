//! Model files: what format, what produced it, and whether loading it can
//! run code — decided from the bytes with bounds, never by loading them.
//!
//! [`sniff`] recognises a format by content, the way the loaders do (torch
//! checks the first bytes for a zip and otherwise unpickles from offset 0),
//! and falls back on the extension only for binary files. [`analyze`] reads
//! the file through `Read + Seek`: zips keep their directory at the end,
//! ONNX tensors are skipped, not read.
//!
//! The verdict speaks only about code execution on load, in four levels as
//! the established pickle scanners grade: `unsafe` (imports a known
//! code-execution primitive, named), `suspicious` (imports code outside the
//! allowlist — `torch.load(weights_only=True)` would refuse it), `unknown`
//! (could not be read to the end, with the reason) and `safe`. Formats that
//! cannot run code (ONNX, safetensors, TensorRT engines) are safe when
//! well-formed. A file that is both partly unreadable and imports code
//! outside the allowlist is graded by what was seen, with both reasons.

mod archive;
mod formats;
pub mod globals;
mod npy;
pub mod onnx;
pub mod pickle;
pub mod zip;

pub use formats::{engine_header, EngineHeader, TRT_VERSION_CONFIDENCE};
use globals::Risk;
use onnx::OnnxFacts;
use pickle::{ImportedGlobal, PickleLimits};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ModelFormat {
    TensorRtEngine,
    Onnx,
    /// `torch.save` zip checkpoint (`*/data.pkl`).
    PyTorchZip,
    /// `torch.save(..., _use_new_zipfile_serialization=False)`: consecutive pickles, then raw storages.
    PyTorchLegacy,
    /// `torch.jit.save` archive: `code/`, `constants.pkl`, `data.pkl`.
    TorchScript,
    /// `torch.export.save` archive (`.pt2`).
    TorchExport,
    Pickle,
    /// A pickle inside a zlib or gzip stream, as `joblib.dump(..., compress=…)` writes.
    CompressedPickle,
    NumpyNpy,
    NumpyNpz,
    Safetensors,
}

impl ModelFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelFormat::TensorRtEngine => "tensorrt-engine",
            ModelFormat::Onnx => "onnx",
            ModelFormat::PyTorchZip => "pytorch",
            ModelFormat::PyTorchLegacy => "pytorch-legacy",
            ModelFormat::TorchScript => "torchscript",
            ModelFormat::TorchExport => "pytorch-export",
            ModelFormat::Pickle => "pickle",
            ModelFormat::CompressedPickle => "pickle-compressed",
            ModelFormat::NumpyNpy => "numpy",
            ModelFormat::NumpyNpz => "numpy-npz",
            ModelFormat::Safetensors => "safetensors",
        }
    }

    pub fn framework(self) -> &'static str {
        match self {
            ModelFormat::TensorRtEngine => "TensorRT",
            ModelFormat::Onnx => "ONNX",
            ModelFormat::PyTorchZip
            | ModelFormat::PyTorchLegacy
            | ModelFormat::TorchScript
            | ModelFormat::TorchExport => "PyTorch",
            ModelFormat::Pickle | ModelFormat::CompressedPickle => "Python pickle",
            ModelFormat::NumpyNpy | ModelFormat::NumpyNpz => "NumPy",
            ModelFormat::Safetensors => "safetensors",
        }
    }

    /// NumPy arrays are data, not models (CycloneDX `data`).
    pub fn is_data(self) -> bool {
        matches!(self, ModelFormat::NumpyNpy | ModelFormat::NumpyNpz)
    }
}

/// What the first bytes say a file is; zips are classified once their directory is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Format(ModelFormat),
    /// A zip: a model only if it holds a pickle, a TorchScript/export archive or NumPy arrays.
    Zip,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Verdict {
    Safe,
    Unknown,
    Suspicious,
    Unsafe,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Suspicious => "suspicious",
            Verdict::Unsafe => "unsafe",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Bounds on the work done for one file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub pickle: PickleLimits,
    pub max_zip_members: u32,
    /// Most bytes inflated from one zip member.
    pub max_member_bytes: u64,
    pub max_inflate_ratio: u64,
    /// Most pickles scanned in one file or archive; more makes the verdict unknown.
    pub max_pickles: usize,
    /// Largest archive member examined as a nested archive (held in memory).
    pub max_nested_bytes: u64,
    /// Most pickle opcodes executed for one file, all its pickles, archive
    /// members and nested archives together. Zip members may overlap (every
    /// central-directory entry naming the same deflated bytes), so per-member
    /// caps alone let a few kilobytes cost billions of opcodes.
    pub max_total_ops: u64,
    /// Most bytes read by the scan for one file (pickle streams, skipped array
    /// bytes, nested archives), or the file's own size when that is larger:
    /// reading each byte once is what hashing the file costs anyway.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pickle: PickleLimits::default(),
            max_zip_members: 100_000,
            max_member_bytes: 1 << 30,
            max_inflate_ratio: 1_000,
            max_pickles: 64,
            max_nested_bytes: 64 << 20,
            max_total_ops: 40_000_000,
            max_total_bytes: 1 << 30,
        }
    }
}

/// What is left of one file's work allowance ([`Limits::max_total_ops`],
/// [`Limits::max_total_bytes`]); shared by every scan of that file.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub(crate) struct Budget {
    pub ops: u64,
    pub bytes: u64,
}

impl Budget {
    fn for_file(limits: &Limits, size: u64) -> Self {
        Budget {
            ops: limits.max_total_ops,
            bytes: limits.max_total_bytes.max(size),
        }
    }

    pub fn spent(&self) -> bool {
        self.ops == 0 || self.bytes == 0
    }
}

/// The reason given once a file's budget is spent: never "safe".
pub(crate) fn budget_spent(limits: &Limits) -> String {
    format!(
        "the scan's allowance for one file ({} pickle opcodes, {} bytes or the file's size) is spent; the rest was not examined",
        limits.max_total_ops, limits.max_total_bytes
    )
}

/// A global outside the allowlist, where it was found, and how it was judged.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FlaggedGlobal {
    pub global: String,
    pub opcode: String,
    /// The archive member it was found in, e.g. `archive/data.pkl`.
    pub member: Option<String>,
    pub risk: Risk,
}

impl FlaggedGlobal {
    /// `posix.system (GLOBAL in archive/data.pkl)`.
    pub fn describe(&self) -> String {
        match &self.member {
            Some(m) => format!("{} ({} in {m})", self.global, self.opcode),
            None => format!("{} ({})", self.global, self.opcode),
        }
    }
}

/// The tensors a safetensors header lists: how many, and how many of each dtype.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TensorSummary {
    pub count: usize,
    pub dtypes: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ModelReport {
    pub format: ModelFormat,
    pub verdict: Verdict,
    /// Why the verdict is what it is, when it is not plainly safe.
    pub reasons: Vec<String>,
    /// Why parts of the file could not be examined.
    pub incomplete: Vec<String>,
    pub producer: Option<String>,
    pub producer_version: Option<String>,
    pub globals: Vec<String>,
    pub flagged: Vec<FlaggedGlobal>,
    pub trt_version: Option<String>,
    pub onnx: Option<OnnxFacts>,
    /// The scalar fields (at most 32, each at most 256 bytes) of the JSON header
    /// Ultralytics puts before a TensorRT engine, when the engine has one.
    pub ultralytics: Option<BTreeMap<String, String>>,
    /// What a safetensors header lists.
    pub safetensors: Option<TensorSummary>,
    /// A `.npy` array (or an `.npz` member) holds Python objects: loading it unpickles.
    pub numpy_object_array: bool,
    /// What is left of the work allowed for this file.
    pub(crate) budget: Budget,
}

impl ModelReport {
    fn new(format: ModelFormat) -> Self {
        ModelReport {
            format,
            verdict: Verdict::Safe,
            reasons: Vec::new(),
            incomplete: Vec::new(),
            producer: None,
            producer_version: None,
            globals: Vec::new(),
            flagged: Vec::new(),
            trt_version: None,
            onnx: None,
            ultralytics: None,
            safetensors: None,
            numpy_object_array: false,
            // `analyze` sets the file's own; this keeps any other report bounded.
            budget: Budget::for_file(&Limits::default(), 0),
        }
    }

    /// A report for a file whose bytes could not be read at all.
    pub fn unreadable(format: ModelFormat, why: String) -> Self {
        let mut report = ModelReport::new(format);
        report.unknown(why);
        finish(&mut report);
        report
    }

    /// Records that part of the file could not be examined.
    fn unknown(&mut self, why: impl Into<String>) {
        self.incomplete.push(why.into());
    }

    /// Globals of the given risk, described.
    pub fn flagged_of(&self, risk: Risk) -> Vec<String> {
        self.flagged
            .iter()
            .filter(|g| g.risk == risk)
            .map(FlaggedGlobal::describe)
            .collect()
    }
}

const MODEL_EXTENSIONS: &[&str] = &[
    "pt",
    "pth",
    "pt2",
    "bin",
    "ckpt",
    "pkl",
    "pickle",
    "joblib",
    "model",
    "npy",
    "npz",
    "onnx",
    "engine",
    "plan",
    "trt",
    "safetensors",
];

/// Whether a path's extension suggests a model.
pub fn has_model_extension(path: &str) -> bool {
    MODEL_EXTENSIONS.contains(&extension(path).as_str())
}

fn extension(path: &str) -> String {
    path.rsplit('/')
        .next()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Bytes [`sniff`] wants to see before deciding (fewer when the file is shorter).
pub const SNIFF_BYTES: usize = 4096;

/// Recognises a model by its first bytes (`head`: [`SNIFF_BYTES`], or the whole
/// file if shorter; `whole` says which), then, for binary files only, by extension.
pub fn sniff(path: &str, head: &[u8], whole: bool) -> Option<Sniffed> {
    use ModelFormat as F;
    if head.starts_with(b"ftrt") || formats::ultralytics_plan_offset(head).is_some() {
        return Some(Sniffed::Format(F::TensorRtEngine));
    }
    if head.starts_with(b"\x93NUMPY") {
        return Some(Sniffed::Format(F::NumpyNpy));
    }
    // torch.load, np.load and zipfile all decide "zip" from the first four bytes.
    if zip::is_zip(head) {
        return Some(Sniffed::Zip);
    }
    if looks_like_pickle(head, whole) {
        return Some(Sniffed::Format(F::Pickle));
    }
    if compressed_pickle(head).is_some() {
        return Some(Sniffed::Format(F::CompressedPickle));
    }
    // A header length past the format's limit is still a safetensors file when it is named
    // one: a file it cannot be is reported `unknown` with the reason, not left out.
    if formats::looks_like_safetensors(head)
        || (extension(path) == "safetensors" && head.get(8..10) == Some(&b"{\""[..]))
    {
        return Some(Sniffed::Format(F::Safetensors));
    }
    // ONNX has no magic, but onnx writes ir_version (field 1, a varint) first.
    if extension(path) == "onnx" && head.first() == Some(&0x08) {
        return Some(Sniffed::Format(F::Onnx));
    }
    // A text file is never a model, whatever its name: `*.pth` path files in site-packages.
    if !is_binary(head) {
        return None;
    }
    let by_extension = match extension(path).as_str() {
        "onnx" => F::Onnx,
        "pt" | "pth" | "ckpt" | "pt2" => F::PyTorchZip,
        "npy" => F::NumpyNpy,
        "npz" => F::NumpyNpz,
        "pkl" | "pickle" | "joblib" => F::Pickle,
        "engine" | "plan" | "trt" => F::TensorRtEngine,
        "safetensors" => F::Safetensors,
        _ => return None,
    };
    Some(Sniffed::Format(by_extension))
}

/// Model formats all carry lengths and padding in their first bytes, so a
/// NUL shows up early; text, in any encoding (a Portuguese `tutor.pt` in
/// Latin-1), does not have one.
fn is_binary(head: &[u8]) -> bool {
    head.contains(&0)
}

/// A pickle starts with PROTO 2–5; protocols 0 and 1 have no header, so the
/// head must parse as a pickle stream that imports something or stops.
fn looks_like_pickle(head: &[u8], whole: bool) -> bool {
    if head.first() == Some(&0x80) && head.get(1).is_some_and(|p| (2..=5).contains(p)) {
        return true;
    }
    let starts_like_pickle = matches!(
        head.first(),
        Some(
            b'(' | b'c'
                | b'}'
                | b']'
                | b')'
                | b'N'
                | b'I'
                | b'L'
                | b'S'
                | b'V'
                | b'X'
                | b'K'
                | b'J'
                | b'M'
                | b'U'
                | b'T'
                | b'G'
                | b'F'
        )
    );
    if !starts_like_pickle {
        return false;
    }
    // Text is full of bytes that are protocol-0 opcodes (`.` is STOP), so a
    // header-less pickle that ends within the head must also import something,
    // by names Python could import: a pickle that imports nothing cannot run
    // code, and one whose "module" is a line of prose would fail to load.
    let trial = pickle::scan(&mut &head[..], &PickleLimits::default(), false);
    let ran_out = !whole && trial.incomplete.as_deref() == Some("truncated pickle");
    let imports = (trial.stopped || ran_out) && !trial.globals.is_empty();
    // A head that walks as opcodes to its last byte is a pickle whether or not
    // it has imported yet: data opcodes first and the import past the head
    // still run code. Other files get that far inside one long argument (a
    // text line that starts with `V`, a `T` whose "length" is the next four
    // bytes), so the head must have walked several opcodes, and many if it is
    // text, where whole lines are arguments.
    let enough = if is_binary(head) { 4 } else { 16 };
    let data_first = ran_out && trial.ops >= enough;
    (imports || data_first) && trial.globals.iter().all(|g| is_dotted_identifier(g))
}

/// `os.path.join`: dot-separated Python identifiers (ASCII ones; that is what
/// protocol-0 pickles are written with).
fn is_dotted_identifier(name: &str) -> bool {
    name.split('.').all(|part| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// zlib (joblib's default compressor) or gzip around a pickle.
fn compressed_pickle(head: &[u8]) -> Option<()> {
    let mut inflated = [0u8; 2];
    // A zlib header: deflate (CM 8), and CMF·FLG a multiple of 31.
    let zlib = matches!(head, [cmf, flg, ..]
        if cmf & 0x0f == 8 && u16::from_be_bytes([*cmf, *flg]) % 31 == 0);
    let n = if zlib {
        flate2::read::ZlibDecoder::new(head)
            .read(&mut inflated)
            .ok()?
    } else if head.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(head)
            .read(&mut inflated)
            .ok()?
    } else {
        return None;
    };
    (n == 2 && inflated[0] == 0x80 && (2..=5).contains(&inflated[1])).then_some(())
}

/// Analyses a whole file; `None` when it turns out not to be a model (a zip
/// with no pickle or array in it). Never panics; time and memory are bounded.
pub fn analyze<R: Read + Seek>(
    sniffed: Sniffed,
    reader: &mut R,
    size: u64,
    limits: &Limits,
) -> Option<ModelReport> {
    let budget = Budget::for_file(limits, size);
    let mut report = match sniffed {
        Sniffed::Zip => archive::analyze(reader, size, limits, 0, budget)?,
        Sniffed::Format(format) => {
            let mut report = ModelReport::new(format);
            report.budget = budget;
            if let Err(why) = analyze_format(format, reader, size, limits, &mut report) {
                report.unknown(why);
            }
            report
        }
    };
    finish(&mut report);
    Some(report)
}

fn analyze_format<R: Read + Seek>(
    format: ModelFormat,
    reader: &mut R,
    size: u64,
    limits: &Limits,
    report: &mut ModelReport,
) -> Result<(), String> {
    match format {
        ModelFormat::TensorRtEngine => formats::engine(reader, size, report),
        ModelFormat::Onnx => onnx::parse_partial(reader, size).map(|facts| {
            // Traversal found before the walk stopped still reaches the gate.
            if let Some(why) = facts.incomplete {
                report.unknown(why.to_string());
            }
            report.producer = facts.producer_name.clone();
            report.producer_version = facts.producer_version.clone();
            report.onnx = Some(facts);
        }),
        ModelFormat::PyTorchZip
        | ModelFormat::TorchScript
        | ModelFormat::TorchExport
        | ModelFormat::NumpyNpz => {
            // Named like an archive but not one: say so.
            Err(format!(
                "named as a {} file but is not a zip",
                format.framework()
            ))
        }
        ModelFormat::Pickle | ModelFormat::PyTorchLegacy => {
            reader.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
            let mut stream = std::io::BufReader::new(reader);
            pickle_file(&mut stream, limits, report)
        }
        ModelFormat::CompressedPickle => {
            reader.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
            let mut head = [0u8; 2];
            reader.read_exact(&mut head).map_err(|e| e.to_string())?;
            reader.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
            let buffered = std::io::BufReader::new(reader);
            let cap = limits.max_member_bytes;
            let stream: Box<dyn Read> = if head == [0x1f, 0x8b] {
                Box::new(flate2::bufread::MultiGzDecoder::new(buffered).take(cap))
            } else {
                Box::new(flate2::bufread::ZlibDecoder::new(buffered).take(cap))
            };
            // The scan reads a byte at a time: not one inflate call per byte.
            let mut stream = std::io::BufReader::with_capacity(64 << 10, stream);
            pickle_file(&mut stream, limits, report)
        }
        ModelFormat::NumpyNpy => npy::npy(reader, limits, report),
        ModelFormat::Safetensors => formats::safetensors(reader, size, report),
    }
}

/// A file that starts with a pickle, read the way its loaders read it: the
/// first pickle always runs; legacy torch files are five pickles then raw
/// storage bytes; other files may hold more pickles back to back, all scanned
/// up to [`Limits::max_pickles`].
fn pickle_file(
    stream: &mut dyn Read,
    limits: &Limits,
    report: &mut ModelReport,
) -> Result<(), String> {
    // The magic number, protocol, sys_info, the object and the storage keys.
    const LEGACY_PICKLES: usize = 5;
    let (first, _) = budgeted_scan(stream, limits, report, true);
    record(report, &first, None);
    if let Some(why) = first.incomplete {
        return Err(why);
    }
    if first.legacy_torch_magic {
        report.format = ModelFormat::PyTorchLegacy;
        for _ in 1..LEGACY_PICKLES {
            let (next, _) = budgeted_scan(stream, limits, report, false);
            record(report, &next, None);
            if let Some(why) = next.incomplete {
                return Err(format!("legacy torch file: {why}"));
            }
        }
        return Ok(());
    }
    for _ in 1..limits.max_pickles {
        let (next, spent) = budgeted_scan(stream, limits, report, true);
        record(report, &next, None);
        match next.incomplete {
            None => continue,
            // The end of the file, or bytes after the pickle that are not one:
            // loaders stop at the first STOP, so what follows cannot run.
            // Bytes left unread because a cap or the budget stopped the scan
            // are not that: Python would have gone on reading them.
            Some(_)
                if !spent && !next.limited && (next.consumed == 0 || next.flagged.is_empty()) =>
            {
                return Ok(())
            }
            Some(why) => return Err(why),
        }
    }
    let mut probe = [0u8; 1];
    if stream.read(&mut probe).map_err(|e| e.to_string())? == 0 {
        return Ok(());
    }
    Err(format!(
        "more than {} pickles back to back; the rest were not scanned",
        limits.max_pickles
    ))
}

/// Scans one pickle from `stream` (an archive member or the pickle after a
/// `.npy` header), as `pickle.load` reads it.
fn scan_stream<R: Read>(
    stream: &mut R,
    member: Option<&str>,
    limits: &Limits,
    report: &mut ModelReport,
    _consecutive: bool,
) -> Result<(), String> {
    let (scan, _) = budgeted_scan(stream, limits, report, false);
    record(report, &scan, member);
    match scan.incomplete {
        Some(why) => Err(match member {
            Some(m) => format!("{m}: {why}"),
            None => why,
        }),
        None => Ok(()),
    }
}

/// One pickle scan within what is left of the file's budget, which it then
/// draws down. `true` when the budget ran out before the pickle was scanned
/// to its end (the scan is then incomplete, saying so).
fn budgeted_scan(
    stream: &mut dyn Read,
    limits: &Limits,
    report: &mut ModelReport,
    joblib: bool,
) -> (pickle::PickleScan, bool) {
    let left = report.budget;
    if left.spent() {
        let scan = pickle::PickleScan {
            incomplete: Some(budget_spent(limits)),
            ..Default::default()
        };
        return (scan, true);
    }
    let pickle_limits = PickleLimits {
        max_ops: limits.pickle.max_ops.min(left.ops),
        ..limits.pickle
    };
    let mut bounded = stream.take(left.bytes);
    let mut scan = pickle::scan(&mut bounded, &pickle_limits, joblib);
    let bytes_read = left.bytes.saturating_sub(bounded.limit());
    report.budget.ops = left.ops.saturating_sub(scan.ops);
    report.budget.bytes = left.bytes.saturating_sub(bytes_read);
    let spent = scan.incomplete.is_some() && report.budget.spent();
    if spent {
        scan.incomplete = Some(budget_spent(limits));
    }
    (scan, spent)
}

fn record(report: &mut ModelReport, scan: &pickle::PickleScan, member: Option<&str>) {
    report.globals.extend(scan.globals.iter().cloned());
    for ImportedGlobal {
        global,
        opcode,
        risk,
    } in &scan.flagged
    {
        report.flagged.push(FlaggedGlobal {
            global: global.clone(),
            opcode: opcode.to_string(),
            member: member.map(str::to_owned),
            risk: *risk,
        });
    }
}

/// Reads until `buf` is full or the stream ends; the part of `buf` read.
fn read_full<'b>(r: &mut dyn Read, buf: &'b mut [u8]) -> Result<&'b [u8], String> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => filled = filled.saturating_add(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let buf: &'b [u8] = buf;
    Ok(buf.get(..filled).unwrap_or(buf))
}

/// Grades the report from what was found, and says why.
fn finish(report: &mut ModelReport) {
    report.globals.sort();
    report.globals.dedup();
    let primitives = report.flagged_of(Risk::Primitive);
    let unlisted = report.flagged_of(Risk::Unlisted);
    let archive_code = report.flagged_of(Risk::ArchiveCode);
    let mut reasons = Vec::new();
    if !primitives.is_empty() {
        reasons.push(format!(
            "imports {}: code-execution primitive(s) that run when the file is loaded",
            primitives.join(", ")
        ));
    }
    if !unlisted.is_empty() {
        reasons.push(format!(
            "imports {} outside the allowlist (not known code-execution primitives); torch.load(weights_only=True) would refuse it, so loading it means trusting that code",
            unlisted.join(", ")
        ));
    }
    if !archive_code.is_empty() {
        reasons.push(format!(
            "TorchScript archive: torch.jit.load runs the code it ships in code/ ({} class(es): {})",
            archive_code.len(),
            archive_code.join(", ")
        ));
    }
    reasons.extend(
        report
            .incomplete
            .iter()
            .map(|why| format!("not fully examined: {why}")),
    );
    reasons.append(&mut report.reasons);
    report.reasons = reasons;
    report.verdict = if !primitives.is_empty() {
        Verdict::Unsafe
    } else if !unlisted.is_empty() || !archive_code.is_empty() {
        Verdict::Suspicious
    } else if !report.incomplete.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Safe
    };
}

#[cfg(test)]
mod tests;
