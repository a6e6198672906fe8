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

use crate::fatbin::{CodeKind, Containers, DeviceTarget, FatbinWalker};
use gpubom_inventory::gpu::{self, GpuArch, Variant};

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
/// Most places remembered where a fatbin section's name occurs (see `SectionNames`).
const MAX_NAME_HITS: usize = 1 << 16;
/// Most bytes of a dynamic section read: 4,096 entries of 16 bytes.
const MAX_DYNAMIC_BYTES: u64 = 4096 * 16;
/// Most section headers read (real CUDA libraries have about 30).
const MAX_SECTIONS: u64 = 4096;
/// The size of an ELF64 section header, the larger of the two classes. `e_shentsize` says
/// how large each is, and goblin reads them at their native size whatever it says, so a
/// larger claim (up to 65,535) only inflates what would be captured, never what is read.
const SECTION_HEADER_SIZE: u64 = 64;
/// Sections whose fatbin containers hold the library's own kernels, with the NUL that ends
/// each name in `.shstrtab`: a linked library's `.nv_fatbin`, and the relocatable device
/// code of `__nv_relfatbin` (NCCL 2.28 keeps 127 containers there beside 16 in
/// `.nv_fatbin`). Both are what `cuobjdump --all-fatbin` lists; without `--all-fatbin` it
/// lists `__nv_relfatbin` only when there is no `.nv_fatbin`.
const FATBIN_SECTIONS: &[&[u8]] = &[b".nv_fatbin\0", b"__nv_relfatbin\0"];
/// `e_ident[EI_ABIVERSION]` of cubins written by CUDA 13 (`ELFOSABI_CUDA` v2), whose
/// `e_flags` keep the architecture in bits 8–15; earlier cubins (ABI version 7) keep it in
/// bits 0–7 and mark an architecture-specific build (`sm_90a`) with bit 11. Read from real
/// cubins: xformers 0.0.35 (`sm_75`, `sm_80`, `sm_90a`: 0x4b054b, 0x500550, 0x5a0d5a) and
/// NCCL 2.28.9 (`sm_75` … `sm_120`: 0x6004b04 … 0x6007802), as `cuobjdump` names them.
const CUBIN_ABI_V2: u8 = 8;
const CUBIN_V1_ARCH_SPECIFIC: u32 = 0x800;
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

/// A version string's kind, the bytes that precede it, and how to read it.
type Marker = (&'static str, &'static [u8], Extract);

/// Markers and how to read the version after each.
const MARKERS: &[Marker] = &[
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
    /// Whether the program headers have been read to decide what to keep past the prefix.
    planned: bool,
    /// Past-the-prefix ranges kept as they stream past: the section headers, the segment
    /// holding the dynamic section, and the dynamic string table.
    kept: Vec<Kept>,
    /// The dynamic section's end, until its string table has been located.
    dynamic_pending: Option<u64>,
    carry: Vec<u8>,
    found: BTreeSet<VersionString>,
    /// The version strings looked for, and a finder for each.
    markers: &'static [Marker],
    finders: Vec<memmem::Finder<'static>>,
    /// Where the name of a fatbin section (`.nv_fatbin\0`, `__nv_relfatbin\0`) starts in
    /// the file, wherever that is: see [`SectionNames`].
    section_names: SectionNames,
    fatbin: FatbinWalker,
}

/// A file range kept as it streams past: `bytes` holds `[start, start + bytes.len())`.
#[derive(Debug)]
struct Kept {
    start: u64,
    end: u64,
    bytes: Vec<u8>,
}

impl Kept {
    fn new(start: u64, end: u64) -> Kept {
        Kept {
            start,
            end,
            bytes: Vec::new(),
        }
    }

    /// Appends what `chunk` (at file offset `at`) holds of the range, in order.
    fn take(&mut self, chunk: &[u8], at: u64) {
        let next = self.start.saturating_add(self.bytes.len() as u64);
        let chunk_end = at.saturating_add(chunk.len() as u64);
        if next >= self.end || next < at || next >= chunk_end {
            return;
        }
        let from = next.saturating_sub(at) as usize;
        let to = self.end.min(chunk_end).saturating_sub(at) as usize;
        self.bytes
            .extend_from_slice(chunk.get(from..to).unwrap_or_default());
    }
}

/// The section names are in `.shstrtab`, which the section headers at the end of the file
/// locate; but `.shstrtab` can lie anywhere before them (patchelf and auditwheel move it:
/// 1.05 MiB before the headers in CTranslate2's library), so by the time the headers say
/// where it is, it has streamed past. Rather than keep every byte that might be it, the
/// scanner remembers where the only names it needs occur: a section is a fatbin section
/// when its name's offset in `.shstrtab` is one of these. Bounded: a file holding more
/// than [`MAX_NAME_HITS`] copies of the names loses the later ones, and containers in
/// sections so missed are counted as "elsewhere" (not checked), never as kernels.
#[derive(Debug)]
struct SectionNames {
    finders: Vec<memmem::Finder<'static>>,
    starts: BTreeSet<u64>,
}

impl SectionNames {
    fn new() -> SectionNames {
        SectionNames {
            finders: FATBIN_SECTIONS
                .iter()
                .map(|name| memmem::Finder::new(*name))
                .collect(),
            starts: BTreeSet::new(),
        }
    }

    /// Records the names found in `window`, whose first byte is at file offset `at`.
    fn scan(&mut self, window: &[u8], at: u64) {
        for finder in &self.finders {
            for pos in finder.find_iter(window) {
                if self.starts.len() >= MAX_NAME_HITS {
                    return;
                }
                self.starts.insert(at.saturating_add(pos as u64));
            }
        }
    }
}

impl Default for ElfScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl ElfScanner {
    pub fn new() -> Self {
        Self::with_markers(MARKERS)
    }

    /// A scanner that looks for no version strings: for files no NVIDIA family claims,
    /// whose version strings nothing reads, so three searches of every byte are saved.
    pub fn device_code_only() -> Self {
        Self::with_markers(&[])
    }

    fn with_markers(markers: &'static [Marker]) -> Self {
        ElfScanner {
            prefix: Vec::new(),
            offset: 0,
            planned: false,
            kept: Vec::new(),
            dynamic_pending: None,
            carry: Vec::new(),
            found: BTreeSet::new(),
            markers,
            finders: markers
                .iter()
                .map(|(_, m, _)| memmem::Finder::new(*m))
                .collect(),
            section_names: SectionNames::new(),
            fatbin: FatbinWalker::new(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let at = self.offset;
        let room = PREFIX_CAP.saturating_sub(self.prefix.len());
        self.prefix
            .extend_from_slice(chunk.get(..room).unwrap_or(chunk));
        if !self.planned {
            self.plan();
        }
        for kept in &mut self.kept {
            kept.take(chunk, at);
        }
        self.offset = at.saturating_add(chunk.len() as u64);
        if self.dynamic_pending.is_some_and(|end| end <= self.offset) {
            self.dynamic_pending = None;
            self.keep_dynamic_strings(chunk, at);
        }
        self.fatbin.feed(chunk);
        // Search carry + chunk, so a marker split across chunks is still seen.
        let mut window = std::mem::take(&mut self.carry);
        let window_at = at.saturating_sub(window.len() as u64);
        window.extend_from_slice(chunk);
        self.scan(&window, false);
        self.section_names.scan(&window, window_at);
        self.carry = window.split_off(window.len().saturating_sub(CARRY));
    }

    /// `None` when the bytes are neither an ELF file nor a standalone fatbin.
    pub fn finish(mut self) -> Option<ElfFacts> {
        let carry = std::mem::take(&mut self.carry);
        self.scan(&carry, true);
        let containers = self.fatbin.finish();
        let Ok(header) = goblin::elf::Elf::parse_header(&self.prefix) else {
            return standalone_fatbin(&self.prefix, &containers);
        };
        let mut facts = ElfFacts {
            class64: header.container().ok()? == Container::Big,
            machine: machine_name(header.e_machine),
            version_strings: self.found.into_iter().collect(),
            ..Default::default()
        };
        let image = Sparse {
            prefix: &self.prefix,
            kept: &self.kept,
        };
        if let Some(names) = dynamic_names(&image, &header) {
            facts.soname = names.soname;
            facts.needed = names.needed;
            facts.runpath = names.runpath;
            facts.rpath = names.rpath;
        }
        if header.e_machine == EM_CUDA {
            // A cubin is device code for the one architecture its header names.
            if let Some(arch) = cubin_arch(&self.prefix, &header) {
                facts.sm_archs = arch.to_string();
            }
            return Some(facts);
        }
        if !containers.is_empty() {
            let sections =
                fatbin_sections(&image, &header, &self.section_names.starts).unwrap_or_default();
            let attributed = containers.attribute(&sections);
            facts.fatbins_elsewhere = attributed.elsewhere;
            facts.set_device_code(&attributed.targets);
        }
        Some(facts)
    }

    /// Decides, once the program headers are in, what past the prefix to keep.
    fn plan(&mut self) {
        let Ok(header) = goblin::elf::Elf::parse_header(&self.prefix) else {
            let magic = goblin::elf::header::ELFMAG;
            let magic = magic.get(..self.prefix.len()).unwrap_or(magic.as_slice());
            // Too short to tell yet; anything else is not an ELF file.
            self.planned = !(self.prefix.len() < 64 && self.prefix.starts_with(magic));
            return;
        };
        let phdrs = match program_headers(&self.prefix, &header) {
            Some((_, phdrs)) => phdrs,
            None => {
                let phnum = u64::from(header.e_phnum).min(256);
                let table_end = header
                    .e_phoff
                    .saturating_add(u64::from(header.e_phentsize).saturating_mul(phnum));
                if (self.prefix.len() as u64) < table_end.min(PREFIX_CAP as u64) {
                    return;
                }
                Vec::new()
            }
        };
        self.planned = true;
        self.dynamic_pending = phdrs
            .iter()
            .find(|p| p.p_type == PT_DYNAMIC)
            .map(|d| d.p_offset.saturating_add(d.p_filesz.min(MAX_DYNAMIC_BYTES)));
        self.kept = [dynamic_segment(&phdrs), section_table(&header)]
            .into_iter()
            .flatten()
            .filter(|&(_, end)| end > PREFIX_CAP as u64)
            .map(|(start, end)| Kept::new(start, end))
            .collect();
    }

    /// Once the dynamic section has streamed in: keeps its string table too, when that
    /// lies further on (cuDNN 9.5.1 puts it in a segment of its own at the end of the
    /// file). A string table that lay before, beyond the prefix and outside the dynamic
    /// section's segment, has streamed past: the names are then not known.
    fn keep_dynamic_strings(&mut self, chunk: &[u8], at: u64) {
        let image = Sparse {
            prefix: &self.prefix,
            kept: &self.kept,
        };
        let Ok(header) = goblin::elf::Elf::parse_header(&self.prefix) else {
            return;
        };
        let Some((start, len)) = string_table(&image, &header) else {
            return;
        };
        if image.get(start, len).is_some() || start < at {
            return;
        }
        let mut kept = Kept::new(start, start.saturating_add(len));
        kept.take(chunk, at);
        self.kept.push(kept);
    }

    fn scan(&mut self, window: &[u8], at_end: bool) {
        for (finder, &(kind, marker, extract)) in self.finders.iter().zip(self.markers) {
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

/// The parts of a file that were kept: the prefix, and the ranges kept past it.
struct Sparse<'a> {
    prefix: &'a [u8],
    kept: &'a [Kept],
}

impl Sparse<'_> {
    fn get(&self, offset: u64, len: u64) -> Option<&[u8]> {
        let end = offset.checked_add(len)?;
        if end <= self.prefix.len() as u64 {
            return self.prefix.get(offset as usize..end as usize);
        }
        self.kept.iter().find_map(|kept| {
            let from = usize::try_from(offset.checked_sub(kept.start)?).ok()?;
            kept.bytes
                .get(from..from.checked_add(usize::try_from(len).ok()?)?)
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

/// The file range holding the dynamic section, and the string table when it shares its
/// segment.
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

/// The section header table.
fn section_table(header: &Header) -> Option<(u64, u64)> {
    if header.e_shoff == 0 || header.e_shnum == 0 {
        return None;
    }
    let len =
        section_header_size(header).checked_mul(u64::from(header.e_shnum).min(MAX_SECTIONS))?;
    Some((header.e_shoff, header.e_shoff.checked_add(len)?))
}

/// Bytes per section header as the header declares it, never more than a real one takes.
fn section_header_size(header: &Header) -> u64 {
    u64::from(header.e_shentsize).min(SECTION_HEADER_SIZE)
}

/// `e_shstrndx` when the real index is kept in section 0's `sh_link` (files of 65,280
/// sections or more).
const SHN_XINDEX: u16 = 0xffff;

/// File ranges of the sections that hold the library's own fatbins: those whose name, at
/// `.shstrtab`'s offset plus `sh_name`, is one of the fatbin section names found at
/// `name_starts` while the file streamed past.
fn fatbin_sections(
    image: &Sparse,
    header: &Header,
    name_starts: &BTreeSet<u64>,
) -> Option<Vec<(u64, u64)>> {
    let ctx = Ctx::new(header.container().ok()?, header.endianness().ok()?);
    let count = usize::from(header.e_shnum).min(MAX_SECTIONS as usize);
    let table = image.get(
        header.e_shoff,
        section_header_size(header).checked_mul(count as u64)?,
    )?;
    let sections = SectionHeader::parse_from(table, 0, count, ctx).ok()?;
    let names_index = match header.e_shstrndx {
        SHN_XINDEX => usize::try_from(sections.first()?.sh_link).ok()?,
        index => usize::from(index),
    };
    let names_at = sections.get(names_index)?.sh_offset;
    Some(
        sections
            .iter()
            .filter(|s| {
                u64::try_from(s.sh_name)
                    .ok()
                    .and_then(|name| names_at.checked_add(name))
                    .is_some_and(|at| name_starts.contains(&at))
            })
            .map(|s| (s.sh_offset, s.sh_offset.saturating_add(s.sh_size)))
            .collect(),
    )
}

/// The architecture a cubin was built for, from its header's flags.
fn cubin_arch(prefix: &[u8], header: &Header) -> Option<GpuArch> {
    let abi_version = *prefix.get(goblin::elf::header::EI_ABIVERSION)?;
    let flags = header.e_flags;
    let (number, variant) = if abi_version >= CUBIN_ABI_V2 {
        // No CUDA 13 cubin of an architecture-specific build has been seen to read the
        // suffix from: such a cubin is reported without it.
        ((flags >> 8) & 0xff, Variant::Portable)
    } else {
        let variant = if flags & CUBIN_V1_ARCH_SPECIFIC != 0 {
            Variant::ArchSpecific
        } else {
            Variant::Portable
        };
        (flags & 0xff, variant)
    };
    (10..=255)
        .contains(&number)
        .then(|| GpuArch::from_number(number, variant))
}

/// A file that is fatbin containers and nothing else (a standalone `.fatbin`): all of its
/// device code is its own.
fn standalone_fatbin(prefix: &[u8], containers: &Containers) -> Option<ElfFacts> {
    if !prefix.starts_with(&crate::fatbin::CONTAINER_START) || containers.is_empty() {
        return None;
    }
    let mut facts = ElfFacts {
        machine: "cuda-fatbin".to_string(),
        ..Default::default()
    };
    facts.set_device_code(&containers.all_targets());
    Some(facts)
}

impl ElfFacts {
    fn set_device_code(&mut self, targets: &BTreeSet<DeviceTarget>) {
        let of_kind = |kind: CodeKind| -> Vec<GpuArch> {
            let mut archs: Vec<GpuArch> = targets
                .iter()
                .filter(|t| t.kind == kind)
                .map(|t| t.arch)
                .collect();
            archs.sort_unstable();
            archs.dedup();
            archs
        };
        self.sm_archs = gpu::format_list(&of_kind(CodeKind::Sass));
        self.ptx_archs = gpu::format_list(&of_kind(CodeKind::Ptx));
        self.ptx_isa = targets
            .iter()
            .filter_map(|t| t.ptx_isa)
            .max()
            .map(|(major, minor)| format!("{major}.{minor}"));
    }

    /// Whether the file carries device code: kernels gpubom could attribute, or containers
    /// it could not.
    pub fn has_device_code(&self) -> bool {
        !self.sm_archs.is_empty() || !self.ptx_archs.is_empty() || self.fatbins_elsewhere > 0
    }
}

/// `(tag, value)` entries of a dynamic section.
type DynamicEntries = Vec<(u64, u64)>;

/// The program headers and the dynamic section's entries, from the prefix or a kept range.
fn dynamic_entries(
    image: &Sparse,
    header: &Header,
) -> Option<(Vec<ProgramHeader>, DynamicEntries)> {
    let (ctx, phdrs) = program_headers(image.prefix, header)?;
    let dynamic = phdrs.iter().find(|p| p.p_type == PT_DYNAMIC)?;
    let entry = if ctx.container.is_big() { 16 } else { 8 };
    let count = dynamic.p_filesz.min(MAX_DYNAMIC_BYTES).checked_div(entry)?;
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
    Some((phdrs, entries))
}

/// `(file offset, length)` of the dynamic string table: `DT_STRTAB` is an address, mapped
/// to the file through the loadable segment that holds it.
fn string_table(image: &Sparse, header: &Header) -> Option<(u64, u64)> {
    let (phdrs, entries) = dynamic_entries(image, header)?;
    let value = |tag: u64| entries.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
    let strtab_addr = value(goblin::elf::dynamic::DT_STRTAB)?;
    let strsz = value(goblin::elf::dynamic::DT_STRSZ)?.min(TAIL_CAPTURE_CAP);
    let load = phdrs.iter().find(|p| {
        p.p_type == PT_LOAD
            && p.p_vaddr <= strtab_addr
            && strtab_addr < p.p_vaddr.saturating_add(p.p_filesz)
    })?;
    let offset = strtab_addr
        .checked_sub(load.p_vaddr)?
        .checked_add(load.p_offset)?;
    Some((offset, strsz))
}

/// The strings of the dynamic section that name libraries and where to find them.
#[derive(Default)]
struct DynamicNames {
    soname: Option<String>,
    needed: Vec<String>,
    runpath: Option<String>,
    rpath: Option<String>,
}

/// SONAME, NEEDED, RUNPATH and RPATH from the dynamic section, wherever it and its string
/// table were kept.
fn dynamic_names(image: &Sparse, header: &Header) -> Option<DynamicNames> {
    let (_, entries) = dynamic_entries(image, header)?;
    let (offset, len) = string_table(image, header)?;
    let strtab = image.get(offset, len)?;
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

    /// A synthetic ELF64 shared object laid out as patched libraries are: `parts` are
    /// `(file offset, bytes)`, `phdrs` `(p_type, offset, vaddr, size)`, and `sections`
    /// `(name offset in .shstrtab, offset, size)`, the last of them `.shstrtab` itself.
    fn synthetic_elf(
        len: usize,
        parts: &[(usize, Vec<u8>)],
        phdrs: &[(u32, u64, u64, u64)],
        sections: &[(u32, u64, u64)],
        shoff: usize,
    ) -> Vec<u8> {
        let mut out = vec![0u8; len];
        let mut header = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
        header.resize(16, 0);
        header.extend(3u16.to_le_bytes()); // ET_DYN
        header.extend(62u16.to_le_bytes()); // EM_X86_64
        header.extend(1u32.to_le_bytes());
        header.extend(0u64.to_le_bytes());
        header.extend(64u64.to_le_bytes()); // e_phoff
        header.extend((shoff as u64).to_le_bytes());
        header.extend(0u32.to_le_bytes());
        for v in [64u16, 56, phdrs.len() as u16, 64, sections.len() as u16] {
            header.extend(v.to_le_bytes());
        }
        header.extend((sections.len() as u16 - 1).to_le_bytes());
        for &(p_type, offset, vaddr, size) in phdrs {
            header.extend(p_type.to_le_bytes());
            header.extend(4u32.to_le_bytes());
            for v in [offset, vaddr, vaddr, size, size, 8] {
                header.extend(v.to_le_bytes());
            }
        }
        out[..header.len()].copy_from_slice(&header);
        let mut table = Vec::new();
        for &(name, offset, size) in sections {
            table.extend(name.to_le_bytes());
            table.extend(1u32.to_le_bytes());
            for v in [0u64, 0, offset, size, 0, 8, 0] {
                table.extend(v.to_le_bytes());
            }
        }
        out[shoff..shoff + table.len()].copy_from_slice(&table);
        for (at, bytes) in parts {
            out[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        out
    }

    /// One fatbin container with one SASS entry for `arch`.
    fn container(arch: u32) -> Vec<u8> {
        let mut entry = Vec::new();
        entry.extend(2u16.to_le_bytes()); // SASS
        entry.extend(0x0101u16.to_le_bytes());
        entry.extend(64u32.to_le_bytes());
        entry.extend(16u64.to_le_bytes());
        entry.resize(28, 0);
        entry.extend(arch.to_le_bytes());
        entry.resize(64 + 16, 0xAA);
        let mut c = crate::fatbin::CONTAINER_START.to_vec();
        c.extend((entry.len() as u64).to_le_bytes());
        c.extend(entry);
        c
    }

    #[test]
    fn section_names_are_found_wherever_shstrtab_lies_synthetic() {
        // As patchelf leaves CTranslate2's library: `.shstrtab` near the start, the section
        // headers 3 MiB later, past everything a window before them would keep.
        let names = b"\0.shstrtab\0.nv_fatbin\0.rodata\0__nv_relfatbin\0".to_vec();
        let (fatbin, relfatbin, rodata) = (0x10_0000, 0x18_0000, 0x20_0000);
        let shoff = 0x30_0000;
        let file = synthetic_elf(
            shoff + 4 * 64,
            &[
                (0x200, names),
                (fatbin, container(80)),
                (relfatbin, container(90)),
                (rodata, container(35)),
            ],
            &[],
            &[
                (11, fatbin as u64, 0x1000),
                (30, relfatbin as u64, 0x1000),
                (22, rodata as u64, 0x1000),
                (1, 0x200, 48),
            ],
            shoff,
        );
        let facts = scan_in_chunks(&file);
        assert_eq!(facts.sm_archs, "sm_80,sm_90");
        assert_eq!(facts.fatbins_elsewhere, 1, "the .rodata container");
    }

    #[test]
    fn the_dynamic_string_table_is_kept_wherever_it_lies_synthetic() {
        // As in cuDNN 9.5.1: the dynamic section early, its string table in a segment of its
        // own at the end of the file, past the prefix.
        let far = PREFIX_CAP + (1 << 20);
        let strtab_vaddr = 0x4000_0000u64;
        let strings = b"\0libcudnn_ops.so.9\0libcudart.so.12\0".to_vec();
        let mut dynamic = Vec::new();
        for (tag, val) in [
            (14u64, 1u64),
            (1, 19),
            (5, strtab_vaddr),
            (10, strings.len() as u64),
            (0, 0),
        ] {
            dynamic.extend(tag.to_le_bytes());
            dynamic.extend(val.to_le_bytes());
        }
        let file = synthetic_elf(
            far + strings.len() + 64,
            &[(0x1000, dynamic.clone()), (far, strings.clone())],
            &[
                (1, 0, 0, 0x2000),
                (2, 0x1000, 0x1000, dynamic.len() as u64),
                (1, far as u64, strtab_vaddr, strings.len() as u64),
            ],
            &[(0, 0, 0)],
            far + strings.len(),
        );
        let facts = scan_in_chunks(&file);
        assert_eq!(facts.soname.as_deref(), Some("libcudnn_ops.so.9"));
        assert_eq!(facts.needed, ["libcudart.so.12"]);
    }

    #[test]
    fn cubins_are_read_from_their_header_synthetic() {
        // e_flags of real cubins (see CUBIN_ABI_V2): CUDA 12's sm_90a, CUDA 13's sm_100.
        for (abi, flags, arch) in [(7u8, 0x5a0d5au32, "sm_90a"), (8, 0x6006402, "sm_100")] {
            let mut cubin = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0x41, abi];
            cubin.resize(16, 0);
            cubin.extend(2u16.to_le_bytes()); // ET_EXEC
            cubin.extend(EM_CUDA.to_le_bytes());
            cubin.extend(1u32.to_le_bytes());
            cubin.extend([0u8; 24]);
            cubin.extend(flags.to_le_bytes());
            cubin.extend(64u16.to_le_bytes());
            cubin.resize(64, 0);
            let facts = scan_in_chunks(&cubin);
            assert_eq!(
                (facts.machine.as_str(), facts.sm_archs.as_str()),
                ("cuda", arch)
            );
        }
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
