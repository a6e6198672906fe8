"""Cut a real ELF64 library with a `.nv_fatbin` section down to a fuzz seed.

Keeps what the `elf` target's scanner reads, at a few hundred KB at most: the file's
start up to the end of `.dynstr` (ELF header, program headers, dynamic symbols and
strings), the first fatbin containers of `.nv_fatbin` (whole, up to LIMIT bytes),
`.dynamic`, `.shstrtab` and the section header table, each moved to follow the last and
the headers that locate them rewritten (e_shoff, the sections' sh_offset/sh_size,
PT_DYNAMIC's p_offset). Sections not kept get offset and size 0. The bytes themselves are
unchanged. Usage: python3 reduce_elf.py LIBRARY OUT [LIMIT]
"""
import struct
import sys

CONTAINER_MAGIC = 0xBA55ED50


def main(path, out, limit=128 << 10):
    b = open(path, "rb").read()
    assert b[:4] == b"\x7fELF" and b[4] == 2 and b[5] == 1, "an ELF64 little-endian file"
    (phoff, shoff) = struct.unpack_from("<QQ", b, 0x20)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", b, 0x36)
    secs = [list(struct.unpack_from("<IIQQQQ", b, shoff + i * shentsize)) for i in range(shnum)]
    names_at = secs[shstrndx][4]

    def name(sec):
        s = b[names_at + sec[0]:]
        return s[: s.index(0)].decode()

    by_name = {name(s): i for i, s in enumerate(secs)}
    dynstr = secs[by_name[".dynstr"]]
    head = (dynstr[4] + dynstr[5] + 4095) // 4096 * 4096
    fatbin = secs[by_name[".nv_fatbin"]]
    start, end = fatbin[4], fatbin[4] + fatbin[5]
    pos = start
    while pos + 16 <= end:
        magic, _, _, payload = struct.unpack_from("<IHHQ", b, pos)
        assert magic == CONTAINER_MAGIC, "containers follow each other"
        if pos + 16 + payload - start > limit and pos > start:
            break
        pos += 16 + payload
    kept_fatbin = b[start:min(pos, end)]
    assert len(kept_fatbin) <= max(limit, 16), "the first container alone is over the limit"

    new = bytearray(b[:head])
    moved = {}

    def place(index, data):
        while len(new) % 8:
            new.append(0)
        moved[index] = (len(new), len(data))
        new.extend(data)

    place(by_name[".nv_fatbin"], kept_fatbin)
    dynamic = secs[by_name[".dynamic"]]
    place(by_name[".dynamic"], b[dynamic[4]:dynamic[4] + dynamic[5]])
    shstrtab = secs[shstrndx]
    place(shstrndx, b[shstrtab[4]:shstrtab[4] + shstrtab[5]])
    while len(new) % 8:
        new.append(0)
    new_shoff = len(new)
    for i, sec in enumerate(secs):
        raw = bytearray(b[shoff + i * shentsize: shoff + (i + 1) * shentsize])
        if i in moved:
            offset, size = moved[i]
        elif sec[4] + sec[5] <= head or sec[1] == 8:  # within the head, or SHT_NOBITS
            offset, size = sec[4], sec[5]
        else:
            offset, size = 0, 0
        struct.pack_into("<QQ", raw, 0x18, offset, size)
        new.extend(raw)
    struct.pack_into("<Q", new, 0x28, new_shoff)
    dyn_offset, dyn_size = moved[by_name[".dynamic"]]
    for i in range(phnum):
        at = phoff + i * phentsize
        if struct.unpack_from("<I", new, at)[0] == 2:  # PT_DYNAMIC
            struct.pack_into("<QQQQQ", new, at + 8, dyn_offset,
                             *struct.unpack_from("<QQ", new, at + 16), dyn_size, dyn_size)
    open(out, "wb").write(new)
    print(f"{path}: {len(b)} -> {len(new)} bytes, {len(kept_fatbin)} of .nv_fatbin's {fatbin[5]}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
