//! Facts from inside an ELF library, read as it streams past.
//!
//! Libraries such as cuBLASLt exceed 500 MB, so they are never held whole.
//! The scanner keeps a bounded prefix — where the ELF header, program headers
//! and (in practice) the dynamic section and its string table live — and
//! searches every chunk, with an overlap across chunk boundaries, for the
//! version strings NVIDIA compiles in. Nothing is executed or relocated.
//!
//! Some NVIDIA libraries keep their dynamic section at the very end of the file
//! (CUDA 11's `libnvrtc.so.11.2`, 45 MB, has it at 45.6 MB): once the program
//! headers in the prefix say where it is, that segment is captured as it streams past.
//! The section headers, at the end of the file with the section names just before them,
//! are captured the same way: they say which fatbin containers ([`crate::fatbin`]) sit
//! in `.nv_fatbin`, and so are the library's kernels.

use goblin::container::{Container, Ctx};
use goblin::elf::header::{Header, EM_X86_64};
use goblin::elf::program_header::{ProgramHeader, PT_DYNAMIC, PT_LOAD};
use goblin::elf::section_header::SectionHeader;
use memchr::memmem;
use std::collections::BTreeSet;

use crate::fatbin::{CodeKind, FatbinWalker};
use gpubom_inventory::gpu::{self, GpuArch};

/// Bytes kept for header and dynamic-section parsing.
const PREFIX_CAP: usize = 8 << 20;
/// Most bytes captured past the prefix: the segment holding the dynamic section.
const TAIL_CAPTURE_CAP: u64 = 4 << 20;
/// Longest version text read after a marker.
const TAIL: usize = 160;
/// Bytes of one chunk searched again with the next, so a marker and its version text
/// split across chunks are still seen.
const CARRY: usize = TAIL + 64;
/// Distinct version strings kept per library (a hostile file could hold millions).
const MAX_VERSION_STRINGS: usize = 16;
/// Bytes captured before the section headers, where linkers put `.shstrtab`.
const SECTION_NAMES_WINDOW: u64 = 64 << 10;
/// Most section headers read (real CUDA libraries have about 30).
const MAX_SECTIONS: u64 = 4096;
/// The size of an ELF64 section header, the larger of the two classes. `e_shentsize` says
/// how large each is, and goblin reads them at their native size whatever it says, so a
/// larger claim (up to 65,535) only inflates what would be captured, never what is read.
const SECTION_HEADER_SIZE: u64 = 64;
/// Sections whose fatbin containers hold the library's own kernels, in preference order:
/// a linked library's `.nv_fatbin`; only without one, the relocatable device code kept in
/// `__nv_relfatbin` (NVSHMEM's host library has both, and `cuobjdump` lists only the first).
const FATBIN_SECTIONS: &[&str] = &[".nv_fatbin", "__nv_relfatbin"];
/// `e_machine` of CUDA device code (cubins).
const EM_CUDA: u16 = 190;
/// Longest dynamic string kept (a SONAME, a NEEDED name, a search path); real ones are
/// far shorter, and a crafted table could otherwise point every entry at megabytes.
const MAX_DYNAMIC_STRING: usize = 4096;

/// A version string found in a library.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct VersionString {
    /// `cuda-compilation-tools`, `nccl` or `tensorrt-symbol`.
    pub kind: String,
    pub version: String,
    /// The text as found.
    pub raw: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ElfFacts {
    pub soname: Option<String>,
    pub needed: Vec<String>,
    /// `DT_RUNPATH` as written (`$ORIGIN/../lib:/opt/x`): searched for `needed` after
    /// `LD_LIBRARY_PATH`.
    #[serde(default)]
    pub runpath: Option<String>,
    /// `DT_RPATH` as written: searched before `LD_LIBRARY_PATH`, and ignored when a
    /// `DT_RUNPATH` is present.
    #[serde(default)]
    pub rpath: Option<String>,
    pub class64: bool,
    pub machine: String,
    pub version_strings: Vec<VersionString>,
    /// SASS in the library's fatbin, as `cuobjdump --list-elf` names it: `sm_80,sm_90a`.
    pub sm_archs: String,
    /// PTX in the library's fatbin, by the architecture it was written for: `sm_120`.
    #[serde(default)]
    pub ptx_archs: String,
    /// The newest PTX ISA among those entries, `9.0`: the driver must know it to JIT.
    #[serde(default)]
    pub ptx_isa: Option<String>,
    /// Fatbin containers in other sections: cuFFT keeps ~24,000 in `.ldata` and loads them
    /// itself, CUPTI keeps profiler payloads in `.rodata`. `cuobjdump` lists neither, so
    /// the architectures above are then not the whole story.
    #[serde(default)]
    pub fatbins_elsewhere: usize,
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
    /// Bytes fed so far (the file offset of the next chunk).
    offset: u64,
    /// Past-the-prefix ranges to keep, decided once the program headers are in.
    capture: Capture,
    /// `(file offset, bytes)` kept from each range of `capture`.
    captured: Vec<(u64, Vec<u8>)>,
    carry: Vec<u8>,
    found: BTreeSet<VersionString>,
    finders: Vec<memmem::Finder<'static>>,
    fatbin: FatbinWalker,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Capture {
    /// The program headers are not all in yet.
    Undecided,
    /// Nothing past the prefix is needed (or the file is not an ELF we can plan for).
    Nothing,
    /// `[start, end)` file ranges, each at most a few MiB.
    Ranges(Vec<(u64, u64)>),
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
            offset: 0,
            capture: Capture::Undecided,
            captured: Vec::new(),
            carry: Vec::new(),
            found: BTreeSet::new(),
            finders: MARKERS
                .iter()
                .map(|(_, m, _)| memmem::Finder::new(*m))
                .collect(),
            fatbin: FatbinWalker::new(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let room = PREFIX_CAP.saturating_sub(self.prefix.len());
        self.prefix
            .extend_from_slice(chunk.get(..room).unwrap_or(chunk));
        if self.capture == Capture::Undecided {
            self.capture = plan_capture(&self.prefix);
        }
        if let Capture::Ranges(ranges) = &self.capture {
            if self.captured.len() < ranges.len() {
                self.captured = ranges.iter().map(|&(s, _)| (s, Vec::new())).collect();
            }
            let (from, to) = (self.offset, self.offset.saturating_add(chunk.len() as u64));
            for (&(start, end), kept) in ranges.iter().zip(self.captured.iter_mut()) {
                if from < end && to > start {
                    let lo = start.max(from).saturating_sub(from) as usize;
                    let hi = end.min(to).saturating_sub(from) as usize;
                    let Some(bytes) = chunk.get(lo..hi) else {
                        continue;
                    };
                    if kept.1.is_empty() {
                        kept.0 = start.max(from);
                    }
                    kept.1.extend_from_slice(bytes);
                }
            }
        }
        self.fatbin.feed(chunk);
        self.offset = self.offset.saturating_add(chunk.len() as u64);
        // Search carry + chunk, so a marker split across chunks is still seen.
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        self.scan(&window, false);
        self.carry = window.split_off(window.len().saturating_sub(CARRY));
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
            ..Default::default()
        };
        let image = Sparse {
            prefix: &self.prefix,
            captured: &self.captured,
        };
        if let Some(names) = dynamic_names(&image, &header) {
            facts.soname = names.soname;
            facts.needed = names.needed;
            facts.runpath = names.runpath;
            facts.rpath = names.rpath;
        }
        let containers = self.fatbin.finish();
        if !containers.is_empty() {
            let sections = fatbin_sections(&image, &header).unwrap_or_default();
            let targets = containers.within(&sections);
            facts.fatbins_elsewhere = containers.outside(&sections);
            let of_kind = |kind: CodeKind| -> Vec<GpuArch> {
                let mut archs: Vec<GpuArch> = targets
                    .iter()
                    .filter(|t| t.kind == kind)
                    .map(|t| t.arch)
                    .collect();
                archs.dedup();
                archs
            };
            facts.sm_archs = gpu::format_list(&of_kind(CodeKind::Sass));
            facts.ptx_archs = gpu::format_list(&of_kind(CodeKind::Ptx));
            facts.ptx_isa = targets
                .iter()
                .filter_map(|t| t.ptx_isa)
                .max()
                .map(|(major, minor)| format!("{major}.{minor}"));
        }
        Some(facts)
    }

    fn scan(&mut self, window: &[u8], at_end: bool) {
        for (finder, &(kind, marker, extract)) in self.finders.iter().zip(MARKERS) {
            for pos in finder.find_iter(window) {
                // The marker was found whole in the window, so its end is inside it.
                let text_start = pos.saturating_add(marker.len());
                let text_end = window.len().min(text_start.saturating_add(TAIL));
                let Some(text) = window.get(text_start..text_end) else {
                    continue;
                };
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
    }
}

/// The printable run at the start of `text`, up to a NUL or newline.
fn printable(text: &[u8]) -> &str {
    // NUL and newline are outside the printable range too.
    let run = text
        .split(|b| !(0x20..0x7f).contains(b))
        .next()
        .unwrap_or_default();
    std::str::from_utf8(run).unwrap_or("")
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

/// The parts of a file that were kept: the prefix, and the ranges captured past it.
struct Sparse<'a> {
    prefix: &'a [u8],
    captured: &'a [(u64, Vec<u8>)],
}

impl Sparse<'_> {
    fn get(&self, offset: u64, len: u64) -> Option<&[u8]> {
        let end = offset.checked_add(len)?;
        if end <= self.prefix.len() as u64 {
            return self.prefix.get(offset as usize..end as usize);
        }
        self.captured.iter().find_map(|(at, bytes)| {
            let from = usize::try_from(offset.checked_sub(*at)?).ok()?;
            bytes.get(from..from.checked_add(usize::try_from(len).ok()?)?)
        })
    }
}

fn program_headers(prefix: &[u8], header: &Header) -> Option<(Ctx, Vec<ProgramHeader>)> {
    let ctx = Ctx::new(header.container().ok()?, header.endianness().ok()?);
    let phnum = usize::from(header.e_phnum).min(256);
    let table_end = header
        .e_phoff
        .checked_add(u64::from(header.e_phentsize).checked_mul(phnum as u64)?)?;
    if table_end > prefix.len() as u64 {
        return None;
    }
    let phdrs =
        ProgramHeader::parse(prefix, usize::try_from(header.e_phoff).ok()?, phnum, ctx).ok()?;
    Some((ctx, phdrs))
}

/// What to keep past the prefix: the loadable segment holding the dynamic section (where
/// its string table lives too) when the dynamic section lies beyond the prefix, and the
/// section headers with the bytes before them (the section names).
fn plan_capture(prefix: &[u8]) -> Capture {
    let Ok(header) = goblin::elf::Elf::parse_header(prefix) else {
        let magic = goblin::elf::header::ELFMAG;
        let magic = magic.get(..prefix.len()).unwrap_or(magic.as_slice());
        return if prefix.len() < 64 && prefix.starts_with(magic) {
            Capture::Undecided
        } else {
            Capture::Nothing
        };
    };
    let phdrs = match program_headers(prefix, &header) {
        Some((_, phdrs)) => phdrs,
        None => {
            let phnum = u64::from(header.e_phnum).min(256);
            let table_end = header
                .e_phoff
                .saturating_add(u64::from(header.e_phentsize).saturating_mul(phnum));
            if (prefix.len() as u64) < table_end.min(PREFIX_CAP as u64) {
                return Capture::Undecided;
            }
            Vec::new()
        }
    };
    let ranges: Vec<(u64, u64)> = [dynamic_segment(&phdrs), section_table(&header)]
        .into_iter()
        .flatten()
        .filter(|&(_, end)| end > PREFIX_CAP as u64)
        .collect();
    if ranges.is_empty() {
        Capture::Nothing
    } else {
        Capture::Ranges(ranges)
    }
}

/// The file range holding the dynamic section and its string table.
fn dynamic_segment(phdrs: &[ProgramHeader]) -> Option<(u64, u64)> {
    let dynamic = phdrs.iter().find(|p| p.p_type == PT_DYNAMIC)?;
    let dyn_end = dynamic.p_offset.saturating_add(dynamic.p_filesz);
    let segment = phdrs
        .iter()
        .filter(|p| p.p_type == PT_LOAD && p.p_filesz <= TAIL_CAPTURE_CAP)
        .find(|p| {
            p.p_offset <= dynamic.p_offset && dyn_end <= p.p_offset.saturating_add(p.p_filesz)
        });
    Some(match segment {
        Some(load) => (load.p_offset, load.p_offset.saturating_add(load.p_filesz)),
        // No small segment around it: the dynamic section and what follows (the string
        // table, in practice), up to the cap whatever size the header claims for it.
        None => (
            dynamic.p_offset,
            dynamic.p_offset.saturating_add(TAIL_CAPTURE_CAP),
        ),
    })
}

/// The section header table, with the window before it where `.shstrtab` lives.
fn section_table(header: &Header) -> Option<(u64, u64)> {
    if header.e_shoff == 0 || header.e_shnum == 0 {
        return None;
    }
    let len =
        section_header_size(header).checked_mul(u64::from(header.e_shnum).min(MAX_SECTIONS))?;
    Some((
        header.e_shoff.saturating_sub(SECTION_NAMES_WINDOW),
        header.e_shoff.checked_add(len)?,
    ))
}

/// Bytes per section header as the header declares it, never more than a real one takes.
fn section_header_size(header: &Header) -> u64 {
    u64::from(header.e_shentsize).min(SECTION_HEADER_SIZE)
}

/// File ranges of the sections that hold the library's own fatbins.
fn fatbin_sections(image: &Sparse, header: &Header) -> Option<Vec<(u64, u64)>> {
    let ctx = Ctx::new(header.container().ok()?, header.endianness().ok()?);
    let count = usize::from(header.e_shnum).min(MAX_SECTIONS as usize);
    let table = image.get(
        header.e_shoff,
        section_header_size(header).checked_mul(count as u64)?,
    )?;
    let sections = SectionHeader::parse_from(table, 0, count, ctx).ok()?;
    let names = sections.get(usize::from(header.e_shstrndx))?;
    let names = image.get(names.sh_offset, names.sh_size.min(SECTION_NAMES_WINDOW))?;
    let name_of = |at: usize| -> Option<&[u8]> {
        let rest = names.get(at..)?;
        rest.get(..rest.iter().position(|&b| b == 0)?)
    };
    let named = |wanted: &str| -> Vec<(u64, u64)> {
        sections
            .iter()
            .filter(|s| name_of(s.sh_name) == Some(wanted.as_bytes()))
            .map(|s| (s.sh_offset, s.sh_offset.saturating_add(s.sh_size)))
            .collect()
    };
    Some(
        FATBIN_SECTIONS
            .iter()
            .map(|name| named(name))
            .find(|found| !found.is_empty())
            .unwrap_or_default(),
    )
}

/// The strings of the dynamic section that name libraries and where to find them.
#[derive(Default)]
struct DynamicNames {
    soname: Option<String>,
    needed: Vec<String>,
    runpath: Option<String>,
    rpath: Option<String>,
}

/// SONAME, NEEDED, RUNPATH and RPATH from the dynamic section, in the prefix or the
/// captured segment.
fn dynamic_names(image: &Sparse, header: &Header) -> Option<DynamicNames> {
    let (ctx, phdrs) = program_headers(image.prefix, header)?;
    let dynamic = phdrs.iter().find(|p| p.p_type == PT_DYNAMIC)?;
    let entry = if ctx.container.is_big() { 16 } else { 8 };
    let count = dynamic.p_filesz.checked_div(entry)?.min(4096);
    let table = image.get(dynamic.p_offset, count.checked_mul(entry)?)?;
    // A 4- or 8-byte word, zero-extended to 64 bits.
    let word = |bytes: &[u8]| -> u64 {
        let mut raw = [0u8; 8];
        if ctx.le.is_little() {
            raw.iter_mut().zip(bytes).for_each(|(r, b)| *r = *b);
            u64::from_le_bytes(raw)
        } else {
            raw.iter_mut()
                .rev()
                .zip(bytes.iter().rev())
                .for_each(|(r, b)| *r = *b);
            u64::from_be_bytes(raw)
        }
    };
    let half = (entry / 2) as usize;
    let mut entries = Vec::new();
    for e in table.chunks_exact(entry as usize) {
        let Some((tag, val)) = e.split_at_checked(half) else {
            break;
        };
        let (tag, val) = (word(tag), word(val));
        if tag == goblin::elf::dynamic::DT_NULL {
            break;
        }
        entries.push((tag, val));
    }
    let value = |tag: u64| entries.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
    // DT_STRTAB is an address: map it to a file offset through the loadable segments.
    let strtab_addr = value(goblin::elf::dynamic::DT_STRTAB)?;
    let strsz = value(goblin::elf::dynamic::DT_STRSZ)?.min(16 << 20);
    let load = phdrs.iter().find(|p| {
        p.p_type == PT_LOAD
            && p.p_vaddr <= strtab_addr
            && strtab_addr < p.p_vaddr.saturating_add(p.p_filesz)
    })?;
    let strtab_offset = strtab_addr
        .checked_sub(load.p_vaddr)?
        .checked_add(load.p_offset)?;
    let strtab = image.get(strtab_offset, strsz)?;
    let string_at = |offset: u64| -> Option<String> {
        let rest = strtab.get(usize::try_from(offset).ok()?..)?;
        let rest = rest.get(..MAX_DYNAMIC_STRING).unwrap_or(rest);
        let end = rest.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
    };
    let mut names = DynamicNames::default();
    for &(tag, val) in &entries {
        match tag {
            goblin::elf::dynamic::DT_SONAME => names.soname = string_at(val),
            goblin::elf::dynamic::DT_NEEDED => names.needed.extend(string_at(val)),
            goblin::elf::dynamic::DT_RUNPATH => names.runpath = string_at(val),
            goblin::elf::dynamic::DT_RPATH => names.rpath = string_at(val),
            _ => {}
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_segment_claiming_a_terabyte_captures_at_most_the_cap_synthetic() {
        let phdrs = [ProgramHeader {
            p_type: PT_DYNAMIC,
            p_offset: 4096,
            p_filesz: 1 << 40,
            ..ProgramHeader::default()
        }];
        let (start, end) = dynamic_segment(&phdrs).unwrap();
        assert_eq!((start, end), (4096, 4096 + TAIL_CAPTURE_CAP));
        let small = [ProgramHeader {
            p_type: PT_DYNAMIC,
            p_offset: 4096,
            p_filesz: 512,
            ..ProgramHeader::default()
        }];
        assert_eq!(
            dynamic_segment(&small),
            Some((4096, 4096 + TAIL_CAPTURE_CAP))
        );
    }

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

    fn scan_in_chunks(bytes: &[u8]) -> ElfFacts {
        let mut s = ElfScanner::new();
        for chunk in bytes.chunks(256 << 10) {
            s.feed(chunk);
        }
        s.finish().expect("an ELF")
    }

    #[test]
    fn dynamic_section_past_the_prefix_synthetic() {
        // Laid out like CUDA 11's libnvrtc.so.11.2: the dynamic section near the end of the file.
        let far = gpubom_testkit::elf::synthetic_shared_object_padded(
            "libnvrtc.so.11.2",
            &["Cuda compilation tools, release 11.7, V11.7.99"],
            PREFIX_CAP + (1 << 20),
        );
        let facts = scan_in_chunks(&far);
        assert_eq!(facts.soname.as_deref(), Some("libnvrtc.so.11.2"));
        assert_eq!(facts.version_strings.len(), 1);
        let near = gpubom_testkit::elf::synthetic_shared_object("libcudart.so.12", &[]);
        assert_eq!(
            scan_in_chunks(&near).soname.as_deref(),
            Some("libcudart.so.12")
        );
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
