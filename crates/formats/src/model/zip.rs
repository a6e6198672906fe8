//! A minimal, bounded zip reader: the central directory (zip64 included),
//! and members that are stored or deflated. Zip bombs are stopped by a cap
//! on inflated bytes and on the inflation ratio, not by trusting the sizes
//! the archive claims.

use std::io::{Read, Seek, SeekFrom};

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub method: u16,
    pub compressed: u64,
    pub uncompressed: u64,
    pub local_header: u64,
}

const EOCD: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;

pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
}

/// Lists the members of a zip of `size` bytes, at most `max_members`.
pub fn members<R: Read + Seek>(
    r: &mut R,
    size: u64,
    max_members: u32,
) -> Result<Vec<Member>, String> {
    let tail_len = size.min(65_557);
    let mut tail = vec![0u8; tail_len as usize];
    r.seek(SeekFrom::Start(size - tail_len))
        .map_err(|e| e.to_string())?;
    r.read_exact(&mut tail)
        .map_err(|_| "truncated zip".to_string())?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == Some(EOCD))
        .ok_or("no zip end-of-central-directory record")?;
    let mut count = u64::from(u16_at(&tail, eocd + 10).ok_or("bad EOCD")?);
    let mut cd_size = u64::from(u32_at(&tail, eocd + 12).ok_or("bad EOCD")?);
    let mut cd_offset = u64::from(u32_at(&tail, eocd + 16).ok_or("bad EOCD")?);
    if eocd >= 20 && u32_at(&tail, eocd - 20) == Some(ZIP64_LOCATOR) {
        let at = u64_at(&tail, eocd - 20 + 8).ok_or("bad zip64 locator")?;
        let mut rec = [0u8; 56];
        r.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
        r.read_exact(&mut rec)
            .map_err(|_| "truncated zip64 record".to_string())?;
        if u32_at(&rec, 0) != Some(ZIP64_EOCD) {
            return Err("bad zip64 end-of-central-directory record".into());
        }
        count = u64_at(&rec, 32).ok_or("bad zip64 record")?;
        cd_size = u64_at(&rec, 40).ok_or("bad zip64 record")?;
        cd_offset = u64_at(&rec, 48).ok_or("bad zip64 record")?;
    }
    if count > u64::from(max_members) {
        return Err(format!(
            "zip lists {count} members, more than the {max_members} allowed"
        ));
    }
    if cd_offset.checked_add(cd_size).is_none_or(|end| end > size) || cd_size > 256 << 20 {
        return Err("zip central directory lies outside the file".into());
    }
    let mut cd = vec![0u8; cd_size as usize];
    r.seek(SeekFrom::Start(cd_offset))
        .map_err(|e| e.to_string())?;
    r.read_exact(&mut cd)
        .map_err(|_| "truncated zip central directory".to_string())?;
    let mut out = Vec::new();
    let mut i = 0usize;
    while out.len() < count as usize {
        if u32_at(&cd, i) != Some(CENTRAL) {
            return Err("corrupt zip central directory".into());
        }
        let field = |o: usize| {
            u16_at(&cd, i + o)
                .map(usize::from)
                .ok_or("corrupt zip central directory")
        };
        let (name_len, extra_len, comment_len) = (field(28)?, field(30)?, field(32)?);
        let name = cd
            .get(i + 46..i + 46 + name_len)
            .ok_or("corrupt zip central directory")?;
        let extra = cd
            .get(i + 46 + name_len..i + 46 + name_len + extra_len)
            .ok_or("corrupt zip central directory")?;
        let mut member = Member {
            name: String::from_utf8_lossy(name).into_owned(),
            method: u16_at(&cd, i + 10).ok_or("corrupt zip")?,
            compressed: u64::from(u32_at(&cd, i + 20).ok_or("corrupt zip")?),
            uncompressed: u64::from(u32_at(&cd, i + 24).ok_or("corrupt zip")?),
            local_header: u64::from(u32_at(&cd, i + 42).ok_or("corrupt zip")?),
        };
        apply_zip64_extra(&mut member, extra);
        out.push(member);
        i += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// Sizes and offsets saturated at 0xFFFFFFFF live in the zip64 extra field, in this order.
fn apply_zip64_extra(m: &mut Member, extra: &[u8]) {
    let mut j = 0;
    while j + 4 <= extra.len() {
        let (id, len) = (
            u16_at(extra, j).unwrap_or(0),
            usize::from(u16_at(extra, j + 2).unwrap_or(0)),
        );
        if id == 1 {
            let mut k = j + 4;
            for field in [&mut m.uncompressed, &mut m.compressed, &mut m.local_header] {
                if *field == 0xFFFF_FFFF {
                    if let Some(v) = u64_at(extra, k) {
                        *field = v;
                        k += 8;
                    }
                }
            }
        }
        j += 4 + len;
    }
}

/// Opens a member for reading, inflating if needed, never yielding more than
/// `max_bytes` nor more than `max_ratio` times its compressed size.
pub fn open<'r, R: Read + Seek>(
    r: &'r mut R,
    m: &Member,
    max_bytes: u64,
    max_ratio: u64,
) -> Result<Box<dyn Read + 'r>, String> {
    let mut local = [0u8; 30];
    r.seek(SeekFrom::Start(m.local_header))
        .map_err(|e| e.to_string())?;
    r.read_exact(&mut local)
        .map_err(|_| "truncated zip member".to_string())?;
    if u32_at(&local, 0) != Some(LOCAL) {
        return Err(format!("{}: bad local header", m.name));
    }
    let skip =
        u64::from(u16_at(&local, 26).unwrap_or(0)) + u64::from(u16_at(&local, 28).unwrap_or(0));
    r.seek(SeekFrom::Current(skip as i64))
        .map_err(|e| e.to_string())?;
    let raw = r.take(m.compressed);
    let limit = max_bytes.min(m.compressed.saturating_mul(max_ratio).max(1 << 20));
    match m.method {
        0 => Ok(Box::new(raw.take(limit))),
        8 => Ok(Box::new(flate2::read::DeflateDecoder::new(raw).take(limit))),
        other => Err(format!(
            "{}: unsupported zip compression method {other}",
            m.name
        )),
    }
}
