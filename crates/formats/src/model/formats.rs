//! The small binary formats: TensorRT engine headers (plain and Ultralytics-
//! wrapped) and safetensors headers.

use super::{ModelReport, TensorSummary};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

/// Longest Ultralytics metadata block accepted.
const MAX_ULTRALYTICS_JSON: u64 = 1 << 20;
/// Longest safetensors header accepted (the format's own limit is 100 MB).
const MAX_SAFETENSORS_HEADER: u64 = 100 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineHeader {
    /// Bytes 24/25/26 read as major.minor.patch: a layout reported for
    /// TensorRT 8–10 plans but not verified on a real engine here
    /// ([`TRT_VERSION_CONFIDENCE`]).
    pub trt_version: Option<String>,
}

/// How far a TensorRT version read from an engine header can be trusted.
pub const TRT_VERSION_CONFIDENCE: &str = "reported header layout, not verified on a real engine";

/// Reads the engine header at the start of `plan`.
pub fn engine_header(plan: &[u8]) -> Result<EngineHeader, String> {
    if !plan.starts_with(b"ftrt") {
        return Err("no TensorRT plan magic (ftrt)".into());
    }
    // The version sits at bytes 24..27 of a 32-byte header.
    let version = plan.get(24..27).filter(|_| plan.len() >= 32);
    let Some(&[major, minor, patch]) = version else {
        return Err(format!(
            "engine is {} bytes, shorter than its header",
            plan.len()
        ));
    };
    let plausible = (5..=20).contains(&major) && minor < 100 && patch < 100;
    Ok(EngineHeader {
        trt_version: plausible.then(|| format!("{major}.{minor}.{patch}")),
    })
}

/// Where the plan starts in an Ultralytics-wrapped engine (`u32 LE length`, JSON, plan).
pub fn ultralytics_plan_offset(head: &[u8]) -> Option<u64> {
    let len = u64::from(u32::from_le_bytes(head.get(..4)?.try_into().ok()?));
    (len > 1 && len <= MAX_ULTRALYTICS_JSON && head.get(4) == Some(&b'{')).then_some(4 + len)
}

pub(super) fn engine<R: Read + Seek>(
    r: &mut R,
    size: u64,
    report: &mut ModelReport,
) -> Result<(), String> {
    let mut head = [0u8; 8];
    let head = read_up_to(r, 0, &mut head)?;
    let mut plan_offset = 0;
    if let Some(offset) = ultralytics_plan_offset(head) {
        // The JSON lies between its 4-byte length and the plan.
        let mut json = vec![0u8; offset.saturating_sub(4) as usize];
        let wanted = json.len();
        if read_up_to(r, 4, &mut json)?.len() < wanted {
            return Err("Ultralytics metadata is truncated".into());
        }
        let meta: serde_json::Value = serde_json::from_slice(&json)
            .map_err(|e| format!("Ultralytics metadata is not JSON: {e}"))?;
        let object = meta
            .as_object()
            .ok_or("Ultralytics metadata is not a JSON object")?;
        let mut fields = BTreeMap::new();
        for (key, value) in object.iter().take(32) {
            let scalar = match value {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            };
            if let Some(v) = scalar.filter(|v| v.len() <= 256) {
                fields.insert(key.clone(), v);
            }
        }
        report.ultralytics = Some(fields);
        report.producer = object
            .get("author")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        report.producer_version = object
            .get("version")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        plan_offset = offset;
    }
    if size.saturating_sub(plan_offset) < 32 {
        return Err(format!(
            "engine is {} bytes, shorter than its header",
            size.saturating_sub(plan_offset)
        ));
    }
    let mut plan = [0u8; 32];
    read_up_to(r, plan_offset, &mut plan)?;
    let header = engine_header(&plan)?;
    match header.trt_version {
        Some(v) => report.trt_version = Some(v),
        None => report
            .reasons
            .push("builder TensorRT version not recognised in the header".into()),
    }
    Ok(())
}

pub(super) fn looks_like_safetensors(head: &[u8]) -> bool {
    let Some(len) = head
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
    else {
        return false;
    };
    // The header is JSON written by serde: an object whose first key is quoted.
    len > 1 && len <= MAX_SAFETENSORS_HEADER && head.get(8..10) == Some(&b"{\""[..])
}

pub(super) fn safetensors<R: Read + Seek>(
    r: &mut R,
    size: u64,
    report: &mut ModelReport,
) -> Result<(), String> {
    let mut len = [0u8; 8];
    if read_up_to(r, 0, &mut len)?.len() < 8 {
        return Err("safetensors file shorter than its header length".into());
    }
    let len = u64::from_le_bytes(len);
    if len > MAX_SAFETENSORS_HEADER || len.saturating_add(8) > size {
        return Err(format!(
            "safetensors header length {len} is impossible for a {size}-byte file"
        ));
    }
    let mut header = vec![0u8; len as usize];
    read_up_to(r, 8, &mut header)?;
    let json: serde_json::Value = serde_json::from_slice(&header)
        .map_err(|e| format!("safetensors header is not JSON: {e}"))?;
    let object = json
        .as_object()
        .ok_or("safetensors header is not a JSON object")?;
    let mut tensors = TensorSummary::default();
    for (name, value) in object {
        if name == "__metadata__" {
            continue;
        }
        tensors.count = tensors.count.saturating_add(1);
        let dtype = value.get("dtype").and_then(|d| d.as_str()).unwrap_or("?");
        let of_dtype = tensors.dtypes.entry(dtype.to_string()).or_default();
        *of_dtype = of_dtype.saturating_add(1);
    }
    report.safetensors = Some(tensors);
    Ok(())
}

/// Reads from `offset` until `buf` is full or the file ends; the part of `buf` read.
fn read_up_to<'b, R: Read + Seek>(
    r: &mut R,
    offset: u64,
    buf: &'b mut [u8],
) -> Result<&'b [u8], String> {
    r.seek(SeekFrom::Start(offset)).map_err(|e| e.to_string())?;
    super::read_full(r, buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic plan header: magic, then version bytes at 24/25/26 as reported.
    fn synthetic_plan(major: u8, minor: u8, patch: u8) -> Vec<u8> {
        let mut plan = b"ftrt".to_vec();
        plan.resize(64, 0);
        plan[24..27].copy_from_slice(&[major, minor, patch]);
        plan
    }

    #[test]
    fn engine_versions_synthetic() {
        assert_eq!(
            engine_header(&synthetic_plan(8, 5, 1))
                .unwrap()
                .trt_version
                .as_deref(),
            Some("8.5.1")
        );
        assert_eq!(
            engine_header(&synthetic_plan(0, 0, 0)).unwrap().trt_version,
            None
        );
        assert!(engine_header(b"ftrt\0\0").unwrap_err().contains("shorter"));
    }
}
