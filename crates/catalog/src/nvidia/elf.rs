//! Facts from inside an ELF library, read as it streams past.
//!
//! Libraries such as cuBLASLt exceed 500 MB, so they are never held whole.
//! The scanner keeps a bounded prefix — where the ELF header, program headers
//! and (in practice) the dynamic section and its string table live — and
//! searches every chunk, with an overlap across chunk boundaries, for the
//! version strings NVIDIA compiles in. Nothing is executed or relocated.

use goblin::container::{Container, Ctx};
use goblin::elf::dynamic::Dynamic;
use goblin::elf::header::{Header, EM_X86_64};
use goblin::elf::program_header::ProgramHeader;
use memchr::memmem;
use std::collections::BTreeSet;

/// Bytes kept for header and dynamic-section parsing.
const PREFIX_CAP: usize = 8 << 20;
/// Longest version text read after a marker; also the chunk overlap.
const TAIL: usize = 160;
/// Distinct version strings kept per library (a hostile file could hold millions).
const MAX_VERSION_STRINGS: usize = 16;
/// `e_machine` of CUDA device code (cubins embedded in `.nv_fatbin`).
const EM_CUDA: u16 = 190;

/// A version string found in a library.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionString {
    /// `cuda-compilation-tools`, `nccl` or `tensorrt-symbol`.
    pub kind: String,
    pub version: String,
    /// The text as found.
    pub raw: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfFacts {
    pub soname: Option<String>,
    pub needed: Vec<String>,
    pub class64: bool,
    pub machine: String,
    pub version_strings: Vec<VersionString>,
    /// `sm_80`, … from uncompressed cubins in the fatbin (best effort: most
    /// CUDA 12 libraries compress their fatbins, and then none are seen).
    pub sm_archs: Vec<String>,
}

type Extract = fn(&[u8]) -> Option<(String, String)>;

/// Markers and how to read the version after each.
const MARKERS: &[(&str, &[u8], Extract)] = &[
    (
        "cuda-compilation-tools",
        b"Cuda compilation tools, release ",
        cuda_tools_version,
    ),
    ("nccl", b"NCCL version ", nccl_version),
    (
        "tensorrt-symbol",
        b"tensorrt_version_",
        tensorrt_symbol_version,
    ),
];

pub struct ElfScanner {
    prefix: Vec<u8>,
    carry: Vec<u8>,
    found: BTreeSet<VersionString>,
    sm: BTreeSet<u32>,
    finders: Vec<memmem::Finder<'static>>,
    cubin: memmem::Finder<'static>,
}

impl Default for ElfScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl ElfScanner {
    pub fn new() -> Self {
        ElfScanner {
            prefix: Vec::new(),
            carry: Vec::new(),
            found: BTreeSet::new(),
            sm: BTreeSet::new(),
            finders: MARKERS
                .iter()
                .map(|(_, m, _)| memmem::Finder::new(*m))
                .collect(),
            cubin: memmem::Finder::new(b"\x7fELF\x02\x01"),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        if self.prefix.len() < PREFIX_CAP {
            let take = chunk.len().min(PREFIX_CAP - self.prefix.len());
            self.prefix.extend_from_slice(&chunk[..take]);
        }
        // Search carry + chunk, so a marker split across chunks is still seen.
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        self.scan(&window, false);
        let keep = window.len().min(TAIL + 64);
        self.carry = window[window.len() - keep..].to_vec();
    }

    /// `None` when the bytes are not an ELF file.
    pub fn finish(mut self) -> Option<ElfFacts> {
        let carry = std::mem::take(&mut self.carry);
        self.scan(&carry, true);
        let header = goblin::elf::Elf::parse_header(&self.prefix).ok()?;
        let mut facts = ElfFacts {
            class64: header.container().ok()? == Container::Big,
            machine: machine_name(header.e_machine),
            version_strings: self.found.into_iter().collect(),
            sm_archs: self.sm.iter().map(|sm| format!("sm_{sm}")).collect(),
            ..Default::default()
        };
        if let Some((soname, needed)) = dynamic_names(&self.prefix, &header) {
            facts.soname = soname;
            facts.needed = needed;
        }
        Some(facts)
    }

    fn scan(&mut self, window: &[u8], at_end: bool) {
        for (i, finder) in self.finders.iter().enumerate() {
            let (kind, marker, extract) = MARKERS[i];
            for pos in finder.find_iter(window) {
                let text_start = pos + marker.len();
                let text_end = window.len().min(text_start + TAIL);
                let text = &window[text_start..text_end];
                // Not terminated inside the window: it will be seen whole in the next one.
                if !at_end && !text.iter().any(|&b| b == 0 || b == b'\n') && text.len() < TAIL {
                    continue;
                }
                if self.found.len() >= MAX_VERSION_STRINGS {
                    return;
                }
                if let Some((version, raw)) = extract(text) {
                    self.found.insert(VersionString {
                        kind: kind.to_string(),
                        version,
                        raw: format!("{}{raw}", String::from_utf8_lossy(marker)),
                    });
                }
            }
        }
        for pos in self.cubin.find_iter(window) {
            let header = &window[pos..window.len().min(pos + 64)];
            if header.len() == 64
                && u16::from_le_bytes([header[18], header[19]]) == EM_CUDA
                && self.sm.len() < 64
            {
                let flags = u32::from_le_bytes([header[48], header[49], header[50], header[51]]);
                let sm = flags & 0xff;
                if (20..=200).contains(&sm) {
                    self.sm.insert(sm);
                }
            }
        }
    }
}

/// The printable run at the start of `text`, up to a NUL or newline.
fn printable(text: &[u8]) -> &str {
    let end = text
        .iter()
        .position(|&b| b == 0 || b == b'\n' || !(0x20..0x7f).contains(&b))
        .unwrap_or(text.len());
    std::str::from_utf8(&text[..end]).unwrap_or("")
}

/// Leading `digits(.digits)*`.
fn dotted(s: &str) -> Option<&str> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let v = s[..end].trim_end_matches('.');
    (v.contains('.') && v.split('.').all(|p| !p.is_empty())).then_some(v)
}

/// `12.1, V12.1.105` → `12.1.105`.
fn cuda_tools_version(text: &[u8]) -> Option<(String, String)> {
    let raw = printable(text);
    let v = raw.split_once(", V")?.1;
    Some((dotted(v)?.to_string(), raw.to_string()))
}

/// `2.18.3+cuda12.1` → `2.18.3`.
fn nccl_version(text: &[u8]) -> Option<(String, String)> {
    let raw = printable(text);
    Some((dotted(raw)?.to_string(), raw.to_string()))
}

/// `10_9_0_34` → `10.9.0.34`.
fn tensorrt_symbol_version(text: &[u8]) -> Option<(String, String)> {
    let raw = printable(text);
    let end = raw
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(raw.len());
    let parts: Vec<&str> = raw[..end].split('_').filter(|p| !p.is_empty()).collect();
    (parts.len() >= 3).then(|| (parts.join("."), raw[..end].to_string()))
}

fn machine_name(machine: u16) -> String {
    match machine {
        EM_X86_64 => "x86_64".into(),
        goblin::elf::header::EM_AARCH64 => "aarch64".into(),
        goblin::elf::header::EM_PPC64 => "ppc64".into(),
        EM_CUDA => "cuda".into(),
        other => format!("machine-{other}"),
    }
}

/// SONAME and NEEDED from the dynamic section, if it lies within the prefix.
fn dynamic_names(bytes: &[u8], header: &Header) -> Option<(Option<String>, Vec<String>)> {
    let ctx = Ctx::new(header.container().ok()?, header.endianness().ok()?);
    let phnum = usize::from(header.e_phnum).min(256);
    let phdrs =
        ProgramHeader::parse(bytes, usize::try_from(header.e_phoff).ok()?, phnum, ctx).ok()?;
    let dynamic = Dynamic::parse(bytes, &phdrs, ctx).ok()??;
    let strtab =
        bytes.get(dynamic.info.strtab..dynamic.info.strtab.checked_add(dynamic.info.strsz)?)?;
    let string_at = |offset: u64| -> Option<String> {
        let rest = strtab.get(usize::try_from(offset).ok()?..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    };
    let mut soname = None;
    let mut needed = Vec::new();
    for d in dynamic.dyns.iter().take(4096) {
        match d.d_tag {
            goblin::elf::dynamic::DT_SONAME => soname = string_at(d.d_val),
            goblin::elf::dynamic::DT_NEEDED => needed.extend(string_at(d.d_val)),
            _ => {}
        }
    }
    Some((soname, needed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_text() {
        assert_eq!(
            cuda_tools_version(b"12.1, V12.1.105\0junk")
                .map(|v| v.0)
                .as_deref(),
            Some("12.1.105")
        );
        assert_eq!(
            nccl_version(b"2.18.3+cuda12.1\0").map(|v| v.0).as_deref(),
            Some("2.18.3")
        );
        assert_eq!(
            tensorrt_symbol_version(b"10_9_0_34\0")
                .map(|v| v.0)
                .as_deref(),
            Some("10.9.0.34")
        );
        assert_eq!(tensorrt_symbol_version(b"10\0"), None);
    }

    #[test]
    fn not_elf_and_truncated_synthetic() {
        let mut s = ElfScanner::new();
        s.feed(b"definitely not an ELF file");
        assert_eq!(s.finish(), None);
        let mut s = ElfScanner::new();
        s.feed(b"\x7fELF\x02\x01\x01");
        assert_eq!(s.finish(), None);
    }
}
