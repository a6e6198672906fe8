//! ONNX `ModelProto`, read from protobuf wire format with bounds: header
//! fields, opsets, metadata, and every initializer's external-data
//! location. Tensor payloads are skipped with `Seek`, never read.

use std::io::{Read, Seek, SeekFrom};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnnxFacts {
    pub ir_version: Option<u64>,
    pub producer_name: Option<String>,
    pub producer_version: Option<String>,
    pub domain: Option<String>,
    pub model_version: Option<u64>,
    pub graph_name: Option<String>,
    pub opsets: Vec<(String, u64)>,
    pub metadata_props: Vec<(String, String)>,
    pub node_count: u64,
    pub initializer_count: u64,
    /// Every external-data `location`.
    pub external_data: Vec<String>,
    /// Locations that are absolute or climb with `..`: path traversal.
    pub traversal: Vec<String>,
}

/// Longest string field read into memory; longer ones are skipped.
const MAX_STRING: u64 = 64 << 10;
/// External-data locations kept (a hostile model can list millions).
const MAX_LOCATIONS: usize = 10_000;
const MAX_DEPTH: u32 = 4;

struct Pb<'r, R> {
    r: &'r mut R,
    pos: u64,
}

enum Field {
    Varint(u64),
    /// Length-delimited: the payload starts at the current position.
    Bytes(u64),
    Skip,
}

impl<R: Read + Seek> Pb<'_, R> {
    fn byte(&mut self) -> Result<u8, String> {
        let mut b = [0u8; 1];
        self.r
            .read_exact(&mut b)
            .map_err(|_| "truncated protobuf".to_string())?;
        self.pos += 1;
        Ok(b[0])
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("malformed varint".into())
    }

    fn seek_to(&mut self, pos: u64) -> Result<(), String> {
        self.r
            .seek(SeekFrom::Start(pos))
            .map_err(|e| e.to_string())?;
        self.pos = pos;
        Ok(())
    }

    /// Next (field number, value) before `end`; `None` at `end`.
    fn next(&mut self, end: u64) -> Result<Option<(u64, Field)>, String> {
        if self.pos >= end {
            return Ok(None);
        }
        let key = self.varint()?;
        let (number, wire) = (key >> 3, key & 7);
        if number == 0 {
            return Err("invalid protobuf field number 0".into());
        }
        let field = match wire {
            0 => Field::Varint(self.varint()?),
            1 => {
                self.seek_to(self.pos + 8)?;
                Field::Skip
            }
            5 => {
                self.seek_to(self.pos + 4)?;
                Field::Skip
            }
            2 => {
                let len = self.varint()?;
                if self.pos.checked_add(len).is_none_or(|e| e > end) {
                    return Err("protobuf field runs past its message".into());
                }
                Field::Bytes(len)
            }
            w => return Err(format!("unsupported protobuf wire type {w}")),
        };
        Ok(Some((number, field)))
    }

    fn string(&mut self, len: u64) -> Result<Option<String>, String> {
        if len > MAX_STRING {
            self.seek_to(self.pos + len)?;
            return Ok(None);
        }
        let mut buf = vec![0u8; len as usize];
        self.r
            .read_exact(&mut buf)
            .map_err(|_| "truncated protobuf".to_string())?;
        self.pos += len;
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }

    fn skip(&mut self, len: u64) -> Result<(), String> {
        self.seek_to(self.pos + len)
    }
}

/// Parses a model of `size` bytes. Fails on anything that is not well-formed.
pub fn parse<R: Read + Seek>(r: &mut R, size: u64) -> Result<OnnxFacts, String> {
    r.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let mut pb = Pb { r, pos: 0 };
    // The file length bounds every read: a lying length is caught, not followed.
    let end = size;
    let mut f = OnnxFacts::default();
    let mut saw_graph = false;
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (1, Field::Varint(v)) => f.ir_version = Some(v),
            (5, Field::Varint(v)) => f.model_version = Some(v),
            (2, Field::Bytes(n)) => f.producer_name = pb.string(n)?,
            (3, Field::Bytes(n)) => f.producer_version = pb.string(n)?,
            (4, Field::Bytes(n)) => f.domain = pb.string(n)?,
            (7, Field::Bytes(n)) => {
                saw_graph = true;
                let graph_end = pb.pos + n;
                graph(&mut pb, graph_end, &mut f, 0)?;
            }
            (8, Field::Bytes(n)) => {
                let msg_end = pb.pos + n;
                let (mut domain, mut version) = (String::new(), 0);
                while let Some((num, fld)) = pb.next(msg_end)? {
                    match (num, fld) {
                        (1, Field::Bytes(n)) => domain = pb.string(n)?.unwrap_or_default(),
                        (2, Field::Varint(v)) => version = v,
                        (_, Field::Bytes(n)) => pb.skip(n)?,
                        _ => {}
                    }
                }
                f.opsets.push((domain, version));
            }
            (14, Field::Bytes(n)) => {
                let msg_end = pb.pos + n;
                if let Some(kv) = string_pair(&mut pb, msg_end)? {
                    f.metadata_props.push(kv);
                }
            }
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    if f.ir_version.is_none() || !saw_graph {
        return Err("not an ONNX model: no ir_version or graph".into());
    }
    Ok(f)
}

fn graph<R: Read + Seek>(
    pb: &mut Pb<R>,
    end: u64,
    f: &mut OnnxFacts,
    depth: u32,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return pb.seek_to(end);
    }
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (1, Field::Bytes(n)) => {
                f.node_count += 1;
                pb.skip(n)?;
            }
            (2, Field::Bytes(n)) if depth == 0 => f.graph_name = pb.string(n)?,
            (5, Field::Bytes(n)) => {
                f.initializer_count += 1;
                let tensor_end = pb.pos + n;
                tensor(pb, tensor_end, f)?;
            }
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok(())
}

fn tensor<R: Read + Seek>(pb: &mut Pb<R>, end: u64, f: &mut OnnxFacts) -> Result<(), String> {
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (13, Field::Bytes(n)) => {
                let entry_end = pb.pos + n;
                if let Some((key, value)) = string_pair(pb, entry_end)? {
                    if key == "location" && f.external_data.len() < MAX_LOCATIONS {
                        if escapes(&value) {
                            f.traversal.push(value.clone());
                        }
                        f.external_data.push(value);
                    }
                }
            }
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok(())
}

/// A `StringStringEntryProto` (1 key, 2 value).
fn string_pair<R: Read + Seek>(
    pb: &mut Pb<R>,
    end: u64,
) -> Result<Option<(String, String)>, String> {
    let (mut key, mut value) = (None, None);
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (1, Field::Bytes(n)) => key = pb.string(n)?,
            (2, Field::Bytes(n)) => value = pb.string(n)?,
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok(key.zip(value))
}

/// Absolute (POSIX or Windows) or containing a `..` component.
fn escapes(location: &str) -> bool {
    let windows_drive = location.len() > 1 && location.as_bytes()[1] == b':';
    location.starts_with('/')
        || location.starts_with('\\')
        || windows_drive
        || location.split(['/', '\\']).any(|c| c == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal() {
        assert!(escapes("../../etc/passwd"));
        assert!(escapes("/etc/passwd"));
        assert!(escapes("C:\\weights.bin"));
        assert!(!escapes("weights/data.bin"));
        assert!(!escapes("..data"));
    }

    #[test]
    fn truncated_and_garbage_synthetic() {
        let bytes = [0x08u8, 0x07, 0x12, 0x50, b'x'];
        assert!(parse(&mut std::io::Cursor::new(&bytes), bytes.len() as u64).is_err());
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(parse(&mut std::io::Cursor::new(&noise), noise.len() as u64).is_err());
    }
}
