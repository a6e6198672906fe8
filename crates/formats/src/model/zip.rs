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

const CORRUPT: &str = "corrupt zip central directory";

pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// The `N` bytes at `i`, if `b` holds them.
fn bytes_at<const N: usize>(b: &[u8], i: usize) -> Option<[u8; N]> {
    b.get(i..)?.get(..N)?.try_into().ok()
}
fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    bytes_at(b, i).map(u16::from_le_bytes)
}
fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    bytes_at(b, i).map(u32::from_le_bytes)
}
fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    bytes_at(b, i).map(u64::from_le_bytes)
}

/// Lists the members of a zip of `size` bytes, at most `max_members`.
pub fn members<R: Read + Seek>(
    r: &mut R,
    size: u64,
    max_members: u32,
) -> Result<Vec<Member>, String> {
    let tail_len = size.min(65_557);
    let mut tail = vec![0u8; tail_len as usize];
    r.seek(SeekFrom::Start(size.saturating_sub(tail_len)))
        .map_err(|e| e.to_string())?;
    r.read_exact(&mut tail)
        .map_err(|_| "truncated zip".to_string())?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == Some(EOCD))
        .ok_or("no zip end-of-central-directory record")?;
    let (before_eocd, eocd) = tail.split_at(eocd);
    let mut count = u64::from(u16_at(eocd, 10).ok_or("bad EOCD")?);
    let mut cd_size = u64::from(u32_at(eocd, 12).ok_or("bad EOCD")?);
    let mut cd_offset = u64::from(u32_at(eocd, 16).ok_or("bad EOCD")?);
    // A zip64 locator is the 20 bytes right before the EOCD.
    let locator = before_eocd
        .len()
        .checked_sub(20)
        .and_then(|at| before_eocd.get(at..));
    if let Some(locator) = locator.filter(|l| u32_at(l, 0) == Some(ZIP64_LOCATOR)) {
        let at = u64_at(locator, 8).ok_or("bad zip64 locator")?;
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
    // The central directory from the next entry on.
    let mut rest: &[u8] = &cd;
    while out.len() < count as usize {
        if u32_at(rest, 0) != Some(CENTRAL) {
            return Err(CORRUPT.into());
        }
        let field = |o: usize| u16_at(rest, o).map(usize::from).ok_or(CORRUPT);
        let (name_len, extra_len, comment_len) = (field(28)?, field(30)?, field(32)?);
        // A 46-byte fixed part, then the name, the extra field and the comment.
        let (fixed, variable) = rest.split_at_checked(46).ok_or(CORRUPT)?;
        let (name, variable) = variable.split_at_checked(name_len).ok_or(CORRUPT)?;
        let (extra, variable) = variable.split_at_checked(extra_len).ok_or(CORRUPT)?;
        let mut member = Member {
            name: String::from_utf8_lossy(name).into_owned(),
            method: u16_at(fixed, 10).ok_or("corrupt zip")?,
            compressed: u64::from(u32_at(fixed, 20).ok_or("corrupt zip")?),
            uncompressed: u64::from(u32_at(fixed, 24).ok_or("corrupt zip")?),
            local_header: u64::from(u32_at(fixed, 42).ok_or("corrupt zip")?),
        };
        apply_zip64_extra(&mut member, extra);
        out.push(member);
        rest = variable.get(comment_len..).unwrap_or_default();
    }
    Ok(out)
}

/// Sizes and offsets saturated at 0xFFFFFFFF live in the zip64 extra field, in this order.
/// Each block of the extra field is a 2-byte id and a 2-byte length, then its data.
fn apply_zip64_extra(m: &mut Member, extra: &[u8]) {
    let mut rest = extra;
    while let Some((header, data)) = rest.split_at_checked(4) {
        let (id, len) = (
            u16_at(header, 0).unwrap_or(0),
            usize::from(u16_at(header, 2).unwrap_or(0)),
        );
        if id == 1 {
            // Read on past the block's own length, if it says less than it holds.
            let mut values = data
                .chunks_exact(8)
                .filter_map(|v| v.try_into().ok())
                .map(u64::from_le_bytes);
            for field in [&mut m.uncompressed, &mut m.compressed, &mut m.local_header] {
                if *field == 0xFFFF_FFFF {
                    if let Some(v) = values.next() {
                        *field = v;
                    }
                }
            }
        }
        rest = data.get(len..).unwrap_or_default();
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
    // The local header's name and extra field, whose lengths may differ from the central directory's.
    let skip = u64::from(u16_at(&local, 26).unwrap_or(0))
        .saturating_add(u64::from(u16_at(&local, 28).unwrap_or(0)));
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
