//! Synthetic ELF shared objects, for library families whose real binaries
//! cannot be downloaded here (TensorRT's libnvinfer). Minimal but valid:
//! an ELF64 header, a PT_LOAD and a PT_DYNAMIC with DT_SONAME, and the given
//! strings in a read-only blob, exactly where a real library keeps them.

/// A synthetic x86_64 shared object with `soname` and the NUL-terminated `strings`.
pub fn synthetic_shared_object(soname: &str, strings: &[&str]) -> Vec<u8> {
    synthetic_shared_object_padded(soname, strings, 0)
}

/// The same with `padding` zero bytes between the program headers and the dynamic
/// section, as libraries that keep their dynamic section near the end of the file
/// (CUDA 11's `libnvrtc.so.11.2`) are laid out.
pub fn synthetic_shared_object_padded(soname: &str, strings: &[&str], padding: usize) -> Vec<u8> {
    const EHDR: u64 = 64;
    const PHDR: u64 = 56;
    let phoff = EHDR;
    let dyn_off = phoff + 2 * PHDR + padding as u64;
    let dyn_len = 4 * 16;
    let strtab_off = dyn_off + dyn_len;
    let mut strtab = vec![0u8];
    strtab.extend_from_slice(soname.as_bytes());
    strtab.push(0);
    let mut rodata = Vec::new();
    for s in strings {
        rodata.extend_from_slice(s.as_bytes());
        rodata.push(0);
    }
    let total = strtab_off + strtab.len() as u64 + rodata.len() as u64;

    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    out.extend_from_slice(&[0; 8]);
    let u16le = |v: u16| v.to_le_bytes();
    out.extend_from_slice(&u16le(3)); // ET_DYN
    out.extend_from_slice(&u16le(62)); // EM_X86_64
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    out.extend_from_slice(&phoff.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff: no section headers
    out.extend_from_slice(&0u32.to_le_bytes());
    for v in [EHDR as u16, PHDR as u16, 2, 64, 0, 0] {
        out.extend_from_slice(&u16le(v));
    }
    // PT_LOAD of the whole file at vaddr = offset, then PT_DYNAMIC.
    for (p_type, offset, size) in [(1u32, 0u64, total), (2u32, dyn_off, dyn_len)] {
        out.extend_from_slice(&p_type.to_le_bytes());
        out.extend_from_slice(&4u32.to_le_bytes()); // PF_R
        for v in [offset, offset, offset, size, size, 8] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.resize(out.len() + padding, 0);
    // DT_SONAME (offset 1 in strtab), DT_STRTAB, DT_STRSZ, DT_NULL.
    for (tag, val) in [
        (14u64, 1u64),
        (5, strtab_off),
        (10, strtab.len() as u64),
        (0, 0),
    ] {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&val.to_le_bytes());
    }
    out.extend_from_slice(&strtab);
    out.extend_from_slice(&rodata);
    out
}
