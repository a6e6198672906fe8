//! Model files: what format, what produced it, and whether loading it can
//! run code — decided from the bytes with bounds, never by loading them.
//!
//! [`sniff`] recognises a format by content first and extension second;
//! [`analyze`] reads the file through `Read + Seek` (zips keep their
//! directory at the end; ONNX tensors are skipped, not read).
//!
//! The verdict speaks only about code execution on load: pickles (PyTorch
//! checkpoints, joblib, NumPy object arrays) are safe only if every global
//! they import is on the allowlist; formats that cannot run code (ONNX,
//! safetensors, TensorRT engines) are safe when well-formed; anything that
//! could not be read to the end is unknown, with the reason.

mod formats;
pub mod onnx;
pub mod pickle;
pub mod zip;

pub use formats::{engine_header, EngineHeader};
use onnx::OnnxFacts;
use pickle::{ImportedGlobal, PickleLimits};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ModelFormat {
    TensorRtEngine,
    Onnx,
    PyTorchZip,
    Pickle,
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
            ModelFormat::Pickle => "pickle",
            ModelFormat::NumpyNpy => "numpy",
            ModelFormat::NumpyNpz => "numpy-npz",
            ModelFormat::Safetensors => "safetensors",
        }
    }

    pub fn framework(self) -> &'static str {
        match self {
            ModelFormat::TensorRtEngine => "TensorRT",
            ModelFormat::Onnx => "ONNX",
            ModelFormat::PyTorchZip => "PyTorch",
            ModelFormat::Pickle => "Python pickle",
            ModelFormat::NumpyNpy | ModelFormat::NumpyNpz => "NumPy",
            ModelFormat::Safetensors => "safetensors",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Safe,
    Unsafe,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
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
    /// Most pickles scanned in one file (legacy torch files hold several, zips one per member).
    pub max_pickles: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pickle: PickleLimits::default(),
            max_zip_members: 100_000,
            max_member_bytes: 1 << 30,
            max_inflate_ratio: 1_000,
            max_pickles: 64,
        }
    }
}

#[derive(Debug, Clone)]
pub struct UnsafeGlobal {
    pub global: String,
    pub opcode: String,
    /// The zip member it was found in, e.g. `archive/data.pkl`.
    pub member: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ModelReport {
    pub format: ModelFormat,
    pub verdict: Verdict,
    /// Why the verdict is unsafe or unknown.
    pub reasons: Vec<String>,
    pub producer: Option<String>,
    pub producer_version: Option<String>,
    pub globals: Vec<String>,
    pub unsafe_globals: Vec<UnsafeGlobal>,
    pub trt_version: Option<String>,
    pub onnx: Option<OnnxFacts>,
    /// Format-specific facts, as `gpubom:model:*` properties.
    pub properties: BTreeMap<String, String>,
}

impl ModelReport {
    fn new(format: ModelFormat) -> Self {
        ModelReport {
            format,
            verdict: Verdict::Safe,
            reasons: Vec::new(),
            producer: None,
            producer_version: None,
            globals: Vec::new(),
            unsafe_globals: Vec::new(),
            trt_version: None,
            onnx: None,
            properties: BTreeMap::new(),
        }
    }

    /// A report for a file whose bytes could not be read at all.
    pub fn unreadable(format: ModelFormat, why: String) -> Self {
        let mut report = ModelReport::new(format);
        report.verdict = Verdict::Unknown;
        report.reasons.push(why);
        report
    }

    fn unknown(&mut self, why: impl Into<String>) {
        if self.verdict != Verdict::Unsafe {
            self.verdict = Verdict::Unknown;
        }
        self.reasons.push(why.into());
    }
}

const MODEL_EXTENSIONS: &[&str] = &[
    "pt",
    "pth",
    "bin",
    "ckpt",
    "pkl",
    "pickle",
    "joblib",
    "npy",
    "npz",
    "onnx",
    "engine",
    "plan",
    "trt",
    "safetensors",
];

/// Whether a path's extension suggests a model (used to decide what to read).
pub fn has_model_extension(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| MODEL_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Recognises a model by its first bytes (at least 64, ideally 512), then by extension.
pub fn sniff(path: &str, head: &[u8]) -> Option<ModelFormat> {
    let ext = path
        .rsplit('/')
        .next()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if head.starts_with(b"ftrt") || formats::ultralytics_plan_offset(head).is_some() {
        return Some(ModelFormat::TensorRtEngine);
    }
    if head.starts_with(b"\x93NUMPY") {
        return Some(ModelFormat::NumpyNpy);
    }
    if zip::is_zip(head) {
        return match ext.as_str() {
            "npz" => Some(ModelFormat::NumpyNpz),
            "pt" | "pth" | "bin" | "ckpt" | "tar" => Some(ModelFormat::PyTorchZip),
            // Any other zip counts only if it carries a pickle; decided in `analyze`.
            _ => None,
        };
    }
    // Pickle protocol 2+ starts with PROTO; protocol 0/1 checkpoints start with a GLOBAL or MARK.
    if head.first() == Some(&0x80) && head.get(1).is_some_and(|p| (2..=5).contains(p)) {
        return Some(ModelFormat::Pickle);
    }
    if formats::looks_like_safetensors(head) {
        return Some(ModelFormat::Safetensors);
    }
    match ext.as_str() {
        "onnx" => Some(ModelFormat::Onnx),
        // Named as a model but not shaped like one: analysed, and found unknown.
        "pt" | "pth" | "ckpt" => Some(ModelFormat::PyTorchZip),
        "npy" => Some(ModelFormat::NumpyNpy),
        "npz" => Some(ModelFormat::NumpyNpz),
        "pkl" | "pickle" | "joblib" => Some(ModelFormat::Pickle),
        "engine" | "plan" | "trt" => Some(ModelFormat::TensorRtEngine),
        "safetensors" => Some(ModelFormat::Safetensors),
        _ => None,
    }
}

/// Analyses a whole file. Never panics; time and memory are bounded by `limits`.
pub fn analyze<R: Read + Seek>(
    format: ModelFormat,
    reader: &mut R,
    size: u64,
    limits: &Limits,
) -> ModelReport {
    let mut report = ModelReport::new(format);
    let result = match format {
        ModelFormat::TensorRtEngine => formats::engine(reader, size, &mut report),
        ModelFormat::Onnx => onnx::parse(reader, size).map(|facts| {
            report.producer = facts.producer_name.clone();
            report.producer_version = facts.producer_version.clone();
            report.onnx = Some(facts);
        }),
        ModelFormat::PyTorchZip | ModelFormat::NumpyNpz => {
            zipped_pickles(reader, size, limits, &mut report)
        }
        ModelFormat::Pickle => pickles_from(reader, 0, None, limits, &mut report),
        ModelFormat::NumpyNpy => formats::npy(reader, limits, &mut report),
        ModelFormat::Safetensors => formats::safetensors(reader, size, &mut report),
    };
    if let Err(why) = result {
        report.unknown(why);
    }
    finish(&mut report);
    report
}

/// Scans consecutive pickles from `offset` (legacy torch files hold four in a row).
fn pickles_from<R: Read + Seek>(
    reader: &mut R,
    offset: u64,
    member: Option<&str>,
    limits: &Limits,
    report: &mut ModelReport,
) -> Result<(), String> {
    reader
        .seek(SeekFrom::Start(offset))
        .map_err(|e| e.to_string())?;
    let mut stream = std::io::BufReader::new(reader);
    scan_stream(&mut stream, member, limits, report, true)
}

fn scan_stream<R: Read>(
    stream: &mut R,
    member: Option<&str>,
    limits: &Limits,
    report: &mut ModelReport,
    consecutive: bool,
) -> Result<(), String> {
    for index in 0..limits.max_pickles {
        let scan = pickle::scan(stream, &limits.pickle);
        record(report, &scan, member);
        if let Some(why) = scan.incomplete {
            // Running out of bytes after at least one complete pickle is the normal end.
            if index > 0 && scan.consumed == 0 {
                return Ok(());
            }
            let place = member.map(|m| format!("{m}: ")).unwrap_or_default();
            return Err(format!("{place}{why}"));
        }
        if !consecutive {
            return Ok(());
        }
    }
    Ok(())
}

fn record(report: &mut ModelReport, scan: &pickle::PickleScan, member: Option<&str>) {
    report.globals.extend(scan.globals.iter().cloned());
    for ImportedGlobal { global, opcode } in &scan.unsafe_globals {
        report.unsafe_globals.push(UnsafeGlobal {
            global: global.clone(),
            opcode: opcode.to_string(),
            member: member.map(str::to_owned),
        });
    }
}

/// PyTorch zips and `.npz`: every pickle member (and object arrays in `.npy` members).
fn zipped_pickles<R: Read + Seek>(
    reader: &mut R,
    size: u64,
    limits: &Limits,
    report: &mut ModelReport,
) -> Result<(), String> {
    let members = zip::members(reader, size, limits.max_zip_members)?;
    let mut scanned = 0;
    for m in members
        .iter()
        .filter(|m| m.name.ends_with(".pkl") || m.name.ends_with(".npy"))
    {
        if scanned >= limits.max_pickles {
            report.unknown(format!(
                "more than {} pickles in the archive",
                limits.max_pickles
            ));
            break;
        }
        scanned += 1;
        let mut stream = zip::open(reader, m, limits.max_member_bytes, limits.max_inflate_ratio)?;
        let result = if m.name.ends_with(".npy") {
            formats::npy_stream(&mut stream, Some(&m.name), limits, report)
        } else {
            scan_stream(&mut stream, Some(&m.name), limits, report, false)
        };
        if let Err(why) = result {
            let bomb = m.uncompressed > limits.max_member_bytes
                || m.uncompressed > m.compressed.saturating_mul(limits.max_inflate_ratio);
            let why = if bomb {
                format!(
                    "{}: inflates beyond the allowed size or ratio (zip bomb?)",
                    m.name
                )
            } else {
                why
            };
            report.unknown(why);
        }
    }
    if scanned == 0 && report.format == ModelFormat::PyTorchZip {
        report.unknown("zip holds no pickle (no */data.pkl)");
    }
    Ok(())
}

fn finish(report: &mut ModelReport) {
    report.globals.sort();
    report.globals.dedup();
    if !report.unsafe_globals.is_empty() {
        report.verdict = Verdict::Unsafe;
        let names: Vec<String> = report
            .unsafe_globals
            .iter()
            .map(|g| format!("{} ({})", g.global, g.opcode))
            .collect();
        report.reasons.insert(
            0,
            format!("imports {} outside the allowlist", names.join(", ")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_before_extension() {
        assert_eq!(
            sniff("x/model.bin", b"\x80\x02}q\x00."),
            Some(ModelFormat::Pickle)
        );
        assert_eq!(
            sniff("x/weights.dat", b"ftrt\0\0\0\0"),
            Some(ModelFormat::TensorRtEngine)
        );
        assert_eq!(
            sniff("x/a.npy", b"\x93NUMPY\x01\x00"),
            Some(ModelFormat::NumpyNpy)
        );
        assert_eq!(sniff("x/notes.txt", b"hello"), None);
        assert_eq!(sniff("x/model.onnx", b"\x08\x07"), Some(ModelFormat::Onnx));
    }

    /// A one-member zip whose `archive/data.pkl` is deflated from `inflated` zero bytes.
    fn synthetic_zip_bomb(inflated: usize) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; inflated]).unwrap();
        let data = enc.finish().unwrap();
        let name = b"archive/data.pkl";
        let (csize, usize_) = (data.len() as u32, inflated as u32);
        let mut z = Vec::new();
        z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        z.extend_from_slice(&[20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&csize.to_le_bytes());
        z.extend_from_slice(&usize_.to_le_bytes());
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(name);
        z.extend_from_slice(&data);
        let cd_offset = z.len() as u32;
        z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        z.extend_from_slice(&[20, 0, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&csize.to_le_bytes());
        z.extend_from_slice(&usize_.to_le_bytes());
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&[0; 12]);
        z.extend_from_slice(&0u32.to_le_bytes());
        z.extend_from_slice(name);
        let cd_size = z.len() as u32 - cd_offset;
        z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
        z.extend_from_slice(&cd_size.to_le_bytes());
        z.extend_from_slice(&cd_offset.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z
    }

    #[test]
    fn zip_bomb_is_unknown_synthetic() {
        let bomb = synthetic_zip_bomb(8 << 20);
        let limits = Limits {
            max_member_bytes: 1 << 20,
            max_inflate_ratio: 100,
            ..Limits::default()
        };
        let r = analyze(
            ModelFormat::PyTorchZip,
            &mut std::io::Cursor::new(&bomb),
            bomb.len() as u64,
            &limits,
        );
        assert_eq!(r.verdict, Verdict::Unknown, "{r:?}");
        assert!(
            r.reasons.iter().any(|why| why.contains("zip bomb")),
            "{:?}",
            r.reasons
        );
    }

    #[test]
    fn random_bytes_with_model_extensions_are_unknown_synthetic() {
        let noise: Vec<u8> = (0..8192u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect();
        for name in [
            "m.pt",
            "m.pkl",
            "m.onnx",
            "m.engine",
            "m.safetensors",
            "m.npz",
        ] {
            let format = sniff(name, &noise).unwrap_or(ModelFormat::Pickle);
            let r = analyze(
                format,
                &mut std::io::Cursor::new(&noise),
                noise.len() as u64,
                &Limits::default(),
            );
            assert_ne!(r.verdict, Verdict::Safe, "{name}: {r:?}");
        }
    }
}
