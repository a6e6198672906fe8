//! ONNX `ModelProto`, read from protobuf wire format with bounds: header
//! fields, opsets, metadata, and the external-data location of every
//! `TensorProto` an ONNX loader resolves. Tensor payloads are skipped with
//! `Seek`, never read.
//!
//! Tensors are found where onnx's `external_data_helper` and ONNX Runtime
//! look for them, and a little wider: graph initializers and sparse
//! initializers, node attribute tensors (`Constant` values), sparse attribute
//! tensors, the nodes and default attributes of model-local functions, the
//! graphs of training info, and every subgraph held in an attribute (the
//! bodies of `If`, `Loop` and `Scan`), recursively. Subgraphs nested deeper
//! than [`MAX_GRAPH_DEPTH`] are not walked: the facts then say why in
//! [`OnnxFacts::incomplete`].
//!
//! Field numbers are those of onnx 1.23's `onnx.proto`:
//! - `ModelProto`: 1 ir_version, 2 producer_name, 3 producer_version, 4 domain,
//!   5 model_version, 7 graph, 8 opset_import, 14 metadata_props,
//!   20 training_info, 25 functions.
//! - `GraphProto`: 1 node, 2 name, 5 initializer, 15 sparse_initializer.
//! - `NodeProto`: 5 attribute.
//! - `AttributeProto`: 5 t, 6 g, 10 tensors, 11 graphs, 22 sparse_tensor,
//!   23 sparse_tensors.
//! - `SparseTensorProto`: 1 values, 2 indices (both `TensorProto`).
//! - `TensorProto`: 13 external_data (`StringStringEntryProto`: 1 key, 2 value).
//! - `FunctionProto`: 7 node, 11 attribute_proto.
//! - `TrainingInfoProto`: 1 initialization, 2 algorithm (both `GraphProto`).

use std::io::{Read, Seek, SeekFrom};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OnnxFacts {
    pub ir_version: Option<u64>,
    pub producer_name: Option<String>,
    pub producer_version: Option<String>,
    pub domain: Option<String>,
    pub model_version: Option<u64>,
    /// The name of the model's graph (not of its subgraphs).
    pub graph_name: Option<String>,
    pub opsets: Vec<(String, u64)>,
    pub metadata_props: Vec<(String, String)>,
    /// Nodes of the model's graph, not counting those inside subgraphs.
    pub node_count: u64,
    /// Initializers of the model's graph, not counting those inside subgraphs.
    pub initializer_count: u64,
    /// Every external-data `location`, wherever its tensor is (the first
    /// [`MAX_LOCATIONS`]).
    pub external_data: Vec<String>,
    /// Locations that are absolute (POSIX, Windows drive or UNC) or climb
    /// with `..`: path traversal. Every location is checked, also past the
    /// listing cap of `external_data`.
    pub traversal: Vec<String>,
    /// Why not every tensor could be checked; `None` when the walk covered
    /// the whole model.
    pub incomplete: Option<Incomplete>,
}

/// Why a walk did not check every tensor (one byte: the facts travel inside
/// every model fact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Incomplete {
    /// A subgraph nested deeper than [`MAX_GRAPH_DEPTH`] was skipped.
    NestedTooDeep,
    /// An external-data location longer than the string cap was skipped.
    LocationTooLong,
}

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Incomplete::NestedTooDeep => write!(
                f,
                "ONNX subgraphs nested deeper than {MAX_GRAPH_DEPTH} levels were not checked \
                 for external data"
            ),
            Incomplete::LocationTooLong => write!(
                f,
                "an ONNX external-data location longer than {MAX_STRING} bytes was not checked"
            ),
        }
    }
}

/// Longest string field read into memory; longer ones are skipped.
const MAX_STRING: u64 = 64 << 10;
/// External-data locations kept (a hostile model can list millions).
pub const MAX_LOCATIONS: usize = 10_000;
/// Deepest subgraph walked: the model's graph is level 0, the body of an `If`
/// in it level 1, and so on.
pub const MAX_GRAPH_DEPTH: u32 = 64;

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
        self.pos = self.end_of(1);
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
                self.seek_to(self.end_of(8))?;
                Field::Skip
            }
            5 => {
                self.seek_to(self.end_of(4))?;
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
        if self.pos > end {
            return Err("protobuf field runs past its message".into());
        }
        Ok(Some((number, field)))
    }

    /// A string field of `len` bytes; `None` (skipped) when longer than [`MAX_STRING`].
    fn string(&mut self, len: u64) -> Result<Option<String>, String> {
        if len > MAX_STRING {
            self.seek_to(self.end_of(len))?;
            return Ok(None);
        }
        let mut buf = vec![0u8; len as usize];
        self.r
            .read_exact(&mut buf)
            .map_err(|_| "truncated protobuf".to_string())?;
        self.pos = self.end_of(len);
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }

    fn skip(&mut self, len: u64) -> Result<(), String> {
        self.seek_to(self.end_of(len))
    }

    /// The end of a field of `len` bytes starting here. [`Pb::next`] has checked that a
    /// length-delimited field ends inside its message, so this stays within the file.
    fn end_of(&self, len: u64) -> u64 {
        self.pos.saturating_add(len)
    }
}

/// Parses a model of `size` bytes. Fails on anything that is not well-formed,
/// and on a model that could not be walked to the end (see
/// [`OnnxFacts::incomplete`]): the error then says why, and names any path
/// traversal already found. Callers that report incomplete facts themselves
/// use [`parse_partial`].
pub fn parse<R: Read + Seek>(r: &mut R, size: u64) -> Result<OnnxFacts, String> {
    let facts = parse_partial(r, size)?;
    match facts.incomplete {
        None => Ok(facts),
        Some(why) if facts.traversal.is_empty() => Err(why.to_string()),
        Some(why) => Err(format!(
            "{why}; external data already found outside the model's directory: {}",
            facts.traversal.join(",")
        )),
    }
}

/// Parses a model of `size` bytes. Fails on anything that is not well-formed;
/// a model that is well-formed but could not be walked to the end gives its
/// facts with [`OnnxFacts::incomplete`] set, which the caller must not treat
/// as fine (report it, e.g. as an unknown verdict, and keep the traversal).
pub fn parse_partial<R: Read + Seek>(r: &mut R, size: u64) -> Result<OnnxFacts, String> {
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
                let graph_end = pb.end_of(n);
                graph(&mut pb, graph_end, &mut f, 0, true)?;
            }
            (8, Field::Bytes(n)) => {
                let msg_end = pb.end_of(n);
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
                let msg_end = pb.end_of(n);
                if let (Some(Some(k)), Some(Some(v))) = string_pair(&mut pb, msg_end)? {
                    f.metadata_props.push((k, v));
                }
            }
            (20, Field::Bytes(n)) => {
                let msg_end = pb.end_of(n);
                training_info(&mut pb, msg_end, &mut f)?;
            }
            (25, Field::Bytes(n)) => {
                let msg_end = pb.end_of(n);
                function(&mut pb, msg_end, &mut f)?;
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

/// A `GraphProto` at nesting level `depth`; `top` for the model's own graph.
fn graph<R: Read + Seek>(
    pb: &mut Pb<R>,
    end: u64,
    f: &mut OnnxFacts,
    depth: u32,
    top: bool,
) -> Result<(), String> {
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (1, Field::Bytes(n)) => {
                if top {
                    f.node_count = f.node_count.saturating_add(1);
                }
                let node_end = pb.end_of(n);
                node(pb, node_end, f, depth)?;
            }
            (2, Field::Bytes(n)) if top => f.graph_name = pb.string(n)?,
            (5, Field::Bytes(n)) => {
                if top {
                    f.initializer_count = f.initializer_count.saturating_add(1);
                }
                let tensor_end = pb.end_of(n);
                tensor(pb, tensor_end, f)?;
            }
            (15, Field::Bytes(n)) => {
                let sparse_end = pb.end_of(n);
                sparse_tensor(pb, sparse_end, f)?;
            }
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok(())
}

/// A `NodeProto` in a graph (or function) at nesting level `depth`.
fn node<R: Read + Seek>(
    pb: &mut Pb<R>,
    end: u64,
    f: &mut OnnxFacts,
    depth: u32,
) -> Result<(), String> {
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (5, Field::Bytes(n)) => {
                let attribute_end = pb.end_of(n);
                attribute(pb, attribute_end, f, depth)?;
            }
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok(())
}

/// An `AttributeProto` of a node at nesting level `depth`: its tensors,
/// sparse tensors and subgraphs (whatever its declared `type`, as a loader
/// that trusted `type` could be lied to).
fn attribute<R: Read + Seek>(
    pb: &mut Pb<R>,
    end: u64,
    f: &mut OnnxFacts,
    depth: u32,
) -> Result<(), String> {
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (5 | 10, Field::Bytes(n)) => {
                let tensor_end = pb.end_of(n);
                tensor(pb, tensor_end, f)?;
            }
            (6 | 11, Field::Bytes(n)) => {
                let graph_end = pb.end_of(n);
                if depth >= MAX_GRAPH_DEPTH {
                    f.incomplete.get_or_insert(Incomplete::NestedTooDeep);
                    pb.seek_to(graph_end)?;
                } else {
                    graph(pb, graph_end, f, depth.saturating_add(1), false)?;
                }
            }
            (22 | 23, Field::Bytes(n)) => {
                let sparse_end = pb.end_of(n);
                sparse_tensor(pb, sparse_end, f)?;
            }
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok(())
}

/// A `SparseTensorProto`: its `values` and `indices` are tensors.
fn sparse_tensor<R: Read + Seek>(
    pb: &mut Pb<R>,
    end: u64,
    f: &mut OnnxFacts,
) -> Result<(), String> {
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (1 | 2, Field::Bytes(n)) => {
                let tensor_end = pb.end_of(n);
                tensor(pb, tensor_end, f)?;
            }
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok(())
}

/// A model-local `FunctionProto`: its nodes and default attributes.
fn function<R: Read + Seek>(pb: &mut Pb<R>, end: u64, f: &mut OnnxFacts) -> Result<(), String> {
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (7, Field::Bytes(n)) => {
                let node_end = pb.end_of(n);
                node(pb, node_end, f, 0)?;
            }
            (11, Field::Bytes(n)) => {
                let attribute_end = pb.end_of(n);
                attribute(pb, attribute_end, f, 0)?;
            }
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok(())
}

/// A `TrainingInfoProto`: its `initialization` and `algorithm` graphs.
fn training_info<R: Read + Seek>(
    pb: &mut Pb<R>,
    end: u64,
    f: &mut OnnxFacts,
) -> Result<(), String> {
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (1 | 2, Field::Bytes(n)) => {
                let graph_end = pb.end_of(n);
                graph(pb, graph_end, f, 0, false)?;
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
                let entry_end = pb.end_of(n);
                match string_pair(pb, entry_end)? {
                    (Some(Some(key)), Some(Some(value))) if key == "location" => location(f, value),
                    (Some(Some(key)), Some(None)) if key == "location" => {
                        f.incomplete.get_or_insert(Incomplete::LocationTooLong);
                    }
                    _ => {}
                }
            }
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok(())
}

/// Records one external-data location; every one is checked for traversal.
fn location(f: &mut OnnxFacts, value: String) {
    let escaping = escapes(&value);
    if escaping && f.traversal.len() < MAX_LOCATIONS {
        f.traversal.push(value.clone());
    }
    if f.external_data.len() < MAX_LOCATIONS {
        f.external_data.push(value);
    }
}

/// A key and a value: each `None` when absent, `Some(None)` when too long to read.
type Entry = (Option<Option<String>>, Option<Option<String>>);

/// A `StringStringEntryProto` (1 key, 2 value). The last occurrence of each
/// wins, as in protobuf.
fn string_pair<R: Read + Seek>(pb: &mut Pb<R>, end: u64) -> Result<Entry, String> {
    let (mut key, mut value) = (None, None);
    while let Some((number, field)) = pb.next(end)? {
        match (number, field) {
            (1, Field::Bytes(n)) => key = Some(pb.string(n)?),
            (2, Field::Bytes(n)) => value = Some(pb.string(n)?),
            (_, Field::Bytes(n)) => pb.skip(n)?,
            _ => {}
        }
    }
    Ok((key, value))
}

/// Absolute (POSIX `/`, Windows `\`, UNC `\\`, drive `C:`) or containing a
/// `..` component, with `/` or `\` as separator. A component of dots and
/// spaces only with at least two dots (`.. `, `...`) counts too: Windows
/// trims trailing dots and spaces from path components.
pub fn escapes(location: &str) -> bool {
    let windows_drive = location.as_bytes().get(1) == Some(&b':');
    location.starts_with('/')
        || location.starts_with('\\')
        || windows_drive
        || location.split(['/', '\\']).any(|c| {
            c.bytes().all(|b| b == b'.' || b == b' ')
                && c.bytes().filter(|&b| b == b'.').count() >= 2
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protobuf wire encoding, for hand-made models.
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes_field(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(number << 3 | 2, &mut out);
        varint(payload.len() as u64, &mut out);
        out.extend_from_slice(payload);
        out
    }

    fn varint_field(number: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(number << 3, &mut out);
        varint(v, &mut out);
        out
    }

    /// A `TensorProto` whose external data is at `location`.
    fn synthetic_tensor(location: &str) -> Vec<u8> {
        let mut entry = bytes_field(1, b"location");
        entry.extend(bytes_field(2, location.as_bytes()));
        let mut t = bytes_field(8, b"w");
        t.extend(bytes_field(13, &entry));
        t.extend(varint_field(14, 1));
        t
    }

    /// A `ModelProto` around `graph`.
    fn synthetic_model(graph: &[u8]) -> Vec<u8> {
        let mut m = varint_field(1, 8);
        m.extend(bytes_field(7, graph));
        m
    }

    /// A graph whose one node has an `If`-style `g` attribute holding `inner`.
    fn synthetic_wrap(inner: &[u8]) -> Vec<u8> {
        let attribute = bytes_field(6, inner);
        let node = bytes_field(5, &attribute);
        bytes_field(1, &node)
    }

    fn facts(model: &[u8]) -> Result<OnnxFacts, String> {
        parse_partial(&mut std::io::Cursor::new(model), model.len() as u64)
    }

    #[test]
    fn traversal() {
        assert!(escapes("../../etc/passwd"));
        assert!(escapes("/etc/passwd"));
        assert!(escapes("C:\\weights.bin"));
        assert!(escapes("c:weights.bin"));
        assert!(escapes("..\\..\\weights.bin"));
        assert!(escapes("weights\\..\\..\\x"));
        assert!(escapes("\\\\server\\share\\w.bin"));
        assert!(escapes("\\weights.bin"));
        assert!(escapes("a/.. /b"));
        assert!(escapes(".../x"));
        assert!(!escapes("weights/data.bin"));
        assert!(!escapes("weights\\data.bin"));
        assert!(!escapes("..data"));
        assert!(!escapes("./weights.bin"));
        assert!(!escapes("weights.bin"));
    }

    #[test]
    fn every_tensor_kind_is_walked_synthetic() {
        // Initializer (5), sparse initializer (15: values 1, indices 2), node attribute
        // tensor (t 5, tensors 10), sparse attribute (22, 23), subgraphs (g 6, graphs 11).
        let sparse = |v: &str, i: &str| {
            let mut s = bytes_field(1, &synthetic_tensor(v));
            s.extend(bytes_field(2, &synthetic_tensor(i)));
            s
        };
        let sub = bytes_field(5, &synthetic_tensor("../in-g"));
        let sub2 = bytes_field(5, &synthetic_tensor("../in-graphs"));
        let mut attribute = bytes_field(5, &synthetic_tensor("../t"));
        attribute.extend(bytes_field(10, &synthetic_tensor("../tensors")));
        attribute.extend(bytes_field(6, &sub));
        attribute.extend(bytes_field(11, &sub2));
        attribute.extend(bytes_field(22, &sparse("../st-v", "ok-st-i")));
        attribute.extend(bytes_field(23, &sparse("ok-sts-v", "../sts-i")));
        let mut graph = bytes_field(1, &bytes_field(5, &attribute));
        graph.extend(bytes_field(5, &synthetic_tensor("../init")));
        graph.extend(bytes_field(15, &sparse("../sparse-v", "/sparse-i")));
        let mut model = synthetic_model(&graph);
        // A model-local function: a node attribute and a default attribute.
        let mut function = bytes_field(
            7,
            &bytes_field(5, &bytes_field(5, &synthetic_tensor("../fn-node"))),
        );
        function.extend(bytes_field(
            11,
            &bytes_field(5, &synthetic_tensor("../fn-default")),
        ));
        model.extend(bytes_field(25, &function));
        // Training info: initialization and algorithm graphs.
        let mut training = bytes_field(1, &bytes_field(5, &synthetic_tensor("../train-init")));
        training.extend(bytes_field(
            2,
            &bytes_field(5, &synthetic_tensor("ok-train-algo")),
        ));
        model.extend(bytes_field(20, &training));
        let f = facts(&model).unwrap();
        assert_eq!(f.incomplete, None);
        assert_eq!(
            f.traversal,
            [
                "../t",
                "../tensors",
                "../in-g",
                "../in-graphs",
                "../st-v",
                "../sts-i",
                "../init",
                "../sparse-v",
                "/sparse-i",
                "../fn-node",
                "../fn-default",
                "../train-init",
            ]
        );
        assert_eq!(f.external_data.len(), f.traversal.len() + 3);
        assert_eq!((f.node_count, f.initializer_count), (1, 1));
    }

    #[test]
    fn nesting_cap_is_incomplete_not_fine_synthetic() {
        // The model's graph is level 0; each wrap adds a level.
        let nested = |levels: u32, location: &str| {
            let mut graph = bytes_field(5, &synthetic_tensor(location));
            for _ in 0..levels {
                graph = synthetic_wrap(&graph);
            }
            synthetic_model(&graph)
        };
        let at_cap = facts(&nested(MAX_GRAPH_DEPTH, "/deep")).unwrap();
        assert_eq!(at_cap.incomplete, None);
        assert_eq!(at_cap.traversal, ["/deep"]);

        let mut graph = bytes_field(5, &synthetic_tensor("/past-cap"));
        for _ in 0..=MAX_GRAPH_DEPTH {
            graph = synthetic_wrap(&graph);
        }
        // A traversal beside the too-deep subgraph is still found.
        graph.extend(bytes_field(5, &synthetic_tensor("../beside")));
        let model = synthetic_model(&graph);
        let past = facts(&model).unwrap();
        assert_eq!(past.incomplete, Some(Incomplete::NestedTooDeep));
        assert_eq!(past.traversal, ["../beside"]);
        let err = parse(&mut std::io::Cursor::new(&model), model.len() as u64).unwrap_err();
        assert!(err.contains("nested deeper than 64"), "{err}");
        assert!(err.contains("../beside"), "{err}");

        let plain = nested(MAX_GRAPH_DEPTH + 1, "weights.bin");
        let err = parse(&mut std::io::Cursor::new(&plain), plain.len() as u64).unwrap_err();
        assert!(err.contains("nested deeper than 64"), "{err}");
    }

    #[test]
    fn traversal_past_the_listing_cap_is_found_synthetic() {
        let mut graph = Vec::new();
        for _ in 0..MAX_LOCATIONS {
            graph.extend(bytes_field(5, &synthetic_tensor("weights.bin")));
        }
        graph.extend(bytes_field(5, &synthetic_tensor("../../etc/passwd")));
        let f = facts(&synthetic_model(&graph)).unwrap();
        assert_eq!(f.external_data.len(), MAX_LOCATIONS);
        assert_eq!(f.traversal, ["../../etc/passwd"]);
    }

    #[test]
    fn unreadably_long_location_is_incomplete_synthetic() {
        let long = format!("{}/../../etc/passwd", "a".repeat(MAX_STRING as usize));
        let model = synthetic_model(&bytes_field(5, &synthetic_tensor(&long)));
        let f = facts(&model).unwrap();
        assert_eq!(f.incomplete, Some(Incomplete::LocationTooLong));
        assert!(parse(&mut std::io::Cursor::new(&model), model.len() as u64).is_err());
    }

    #[test]
    fn truncated_and_garbage_synthetic() {
        let bytes = [0x08u8, 0x07, 0x12, 0x50, b'x'];
        assert!(parse(&mut std::io::Cursor::new(&bytes), bytes.len() as u64).is_err());
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(parse(&mut std::io::Cursor::new(&noise), noise.len() as u64).is_err());
        // A fixed-width field that runs past its sub-message is caught.
        let mut graph = bytes_field(1, &[0x09, 1, 2]);
        graph.extend(varint_field(3, 1));
        assert!(facts(&synthetic_model(&graph)).is_err());
    }
}
