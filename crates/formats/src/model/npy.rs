//! NumPy `.npy` files: the header as numpy's loader reads it, and the pickle
//! that follows it in object arrays.
//!
//! The header is a Python dict literal; `np.load(allow_pickle=True)`
//! unpickles whatever follows it when its dtype holds objects. A scanner that
//! reads the header more loosely or more strictly than numpy can be shown a
//! "plain" array that numpy unpickles, so the literal is parsed exactly, and
//! anything outside it is an error (an `unknown` verdict).

use super::{scan_stream, Limits, ModelReport};
use std::io::{Read, Seek, SeekFrom};

/// Longest `.npy` header accepted.
const MAX_NPY_HEADER: u64 = 1 << 20;
/// Deepest nesting of tuples and lists in a `.npy` header.
const MAX_NPY_NESTING: u32 = 32;

/// What a `.npy` header says, as far as loading it is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NpyHeader {
    /// The dtype holds Python objects anywhere (a structured field, a
    /// subarray): `np.load(allow_pickle=True)` unpickles the data.
    object: bool,
}

/// Parses a `.npy` header (format `version` 1, 2 or 3) as numpy does: a
/// Python dict literal (`ast.literal_eval`) with exactly the keys `descr`,
/// `fortran_order` and `shape`. The literal may use either quote style and
/// any whitespace; its values are strings, ints, booleans, `None`, tuples
/// and lists. Anything outside that (escapes, string prefixes, comments,
/// implicit concatenation, nested dicts) is an error, never a plain array.
fn npy_header(bytes: &[u8], version: u8) -> Result<NpyHeader, String> {
    // numpy decodes versions 1 and 2 as latin-1, version 3 as UTF-8.
    let text: String = if version >= 3 {
        String::from_utf8(bytes.to_vec()).map_err(|_| ".npy header is not UTF-8".to_string())?
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    };
    let bad = |why: String| format!(".npy header is not the dict literal numpy reads: {why}");
    let mut p = PyLiteral {
        s: text.as_bytes(),
        pos: 0,
        // Python 2 wrote longs as `3L`; numpy strips the `L` for versions 1 and 2.
        long_suffix: version <= 2,
    };
    let entries = p.dict().map_err(bad)?;
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    for (key, value) in entries {
        match key.as_str() {
            "descr" => descr = Some(value),
            "fortran_order" => fortran_order = Some(value),
            "shape" => shape = Some(value),
            other => return Err(bad(format!("unexpected key {other:?}"))),
        }
    }
    let (Some(descr), Some(fortran_order), Some(shape)) = (descr, fortran_order, shape) else {
        return Err(bad("missing one of descr, fortran_order, shape".into()));
    };
    if !matches!(fortran_order, Lit::Bool(_)) {
        return Err(bad("fortran_order is not a bool".into()));
    }
    match shape {
        Lit::Tuple(dims) if dims.iter().all(|d| matches!(d, Lit::Int | Lit::Bool(_))) => {}
        _ => return Err(bad("shape is not a tuple of ints".into())),
    }
    Ok(NpyHeader {
        object: descr_has_object(&descr).map_err(bad)?,
    })
}

/// A Python literal from a `.npy` header. Integers are checked, not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lit {
    Str(String),
    Int,
    Bool(bool),
    None,
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
}

/// A dtype string numpy reads as, or as holding, Python objects: `O` in any
/// form (`|O`, `<O`, `O8`, `(2,)O`, `f8,O`), `object`, and `T` (StringDType,
/// whose `hasobject` is set too). Checked against numpy 2.4: every string of
/// up to three printable characters that `np.dtype` reads as holding objects
/// contains one of these, and none of numpy's own non-object type strings does.
fn dtype_str_has_object(s: &str) -> bool {
    s.contains('O') || s.contains('T') || s.contains("object")
}

/// Whether `descr`, as numpy's `descr_to_dtype` reads it, holds objects: a
/// string, a `(base, shape)` subarray tuple, or a list of `(name, format)` /
/// `(name, format, shape)` fields whose formats are descrs in turn.
fn descr_has_object(descr: &Lit) -> Result<bool, String> {
    match descr {
        Lit::Str(s) => Ok(dtype_str_has_object(s)),
        Lit::Tuple(parts) if parts.is_empty() => Err("empty descr tuple".into()),
        // (base, shape): both looked at, as a shape that is no shape is no safer.
        Lit::Tuple(parts) => any_has_object(parts),
        Lit::List(fields) => {
            for field in fields {
                let parts = match field {
                    Lit::Tuple(parts) | Lit::List(parts) => parts,
                    // numpy unpacks a 2- or 3-character string as (name, format[, shape]).
                    Lit::Str(s) => {
                        if dtype_str_has_object(s.get(1..).unwrap_or("")) {
                            return Ok(true);
                        }
                        continue;
                    }
                    _ => return Err("a structured dtype field is not a tuple".into()),
                };
                // The name (or a (title, name) pair) is never a dtype.
                let [_name, format_and_shape @ ..] = parts.as_slice() else {
                    return Err("a structured dtype field is not (name, format[, shape])".into());
                };
                if !(1..=2).contains(&format_and_shape.len()) {
                    return Err("a structured dtype field is not (name, format[, shape])".into());
                }
                if any_has_object(format_and_shape)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Lit::Int | Lit::Bool(_) | Lit::None => Ok(false),
    }
}

fn any_has_object(descrs: &[Lit]) -> Result<bool, String> {
    for d in descrs {
        if descr_has_object(d)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A bounded reader of the Python literal subset numpy writes in `.npy` headers.
struct PyLiteral<'a> {
    s: &'a [u8],
    pos: usize,
    long_suffix: bool,
}

impl PyLiteral<'_> {
    /// Steps past one byte (the text is at most [`MAX_NPY_HEADER`] bytes).
    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    /// The text from `start` to the current position.
    fn since(&self, start: usize) -> &[u8] {
        self.s.get(start..self.pos).unwrap_or_default()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') = self.s.get(self.pos) {
            self.bump();
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        match self.peek() {
            Some(b) if b == c => {
                self.bump();
                Ok(())
            }
            Some(b) => Err(format!(
                "expected {:?} at byte {}, found {:?}",
                char::from(c),
                self.pos,
                char::from(b)
            )),
            None => Err(format!("expected {:?}, found the end", char::from(c))),
        }
    }

    /// The whole text: one dict with string keys (the last of a repeated
    /// key wins, as in Python), then only whitespace.
    fn dict(&mut self) -> Result<Vec<(String, Lit)>, String> {
        self.expect(b'{')?;
        let mut entries: Vec<(String, Lit)> = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.bump();
                break;
            }
            let Lit::Str(key) = self.value(1)? else {
                return Err("a dict key is not a string".into());
            };
            self.expect(b':')?;
            let value = self.value(1)?;
            entries.retain(|(k, _)| *k != key);
            entries.push((key, value));
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b'}') => {}
                _ => return Err(format!("expected ',' or '}}' at byte {}", self.pos)),
            }
        }
        if self.peek().is_some() {
            return Err(format!("text after the dict at byte {}", self.pos));
        }
        Ok(entries)
    }

    fn value(&mut self, depth: u32) -> Result<Lit, String> {
        if depth > MAX_NPY_NESTING {
            return Err(format!("nested deeper than {MAX_NPY_NESTING} levels"));
        }
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => self.string(q),
            Some(b'(') => {
                self.bump();
                let (mut items, trailing_comma) = self.items(b')', depth)?;
                // `(x)` is x; `(x,)` and `()` are tuples.
                if items.len() == 1 && !trailing_comma {
                    Ok(items.remove(0))
                } else {
                    Ok(Lit::Tuple(items))
                }
            }
            Some(b'[') => {
                self.bump();
                Ok(Lit::List(self.items(b']', depth)?.0))
            }
            Some(b'-' | b'+' | b'0'..=b'9') => self.int(),
            Some(b'A'..=b'Z' | b'a'..=b'z' | b'_') => {
                let start = self.pos;
                while let Some(b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_') =
                    self.s.get(self.pos)
                {
                    self.bump();
                }
                match self.since(start) {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    b"None" => Ok(Lit::None),
                    other => Err(format!(
                        "unsupported name or string prefix {:?}",
                        String::from_utf8_lossy(other)
                    )),
                }
            }
            Some(b) => Err(format!(
                "unsupported {:?} at byte {}",
                char::from(b),
                self.pos
            )),
            None => Err("the text ends inside the dict".into()),
        }
    }

    /// Comma-separated values up to `close`; whether a comma came last.
    fn items(&mut self, close: u8, depth: u32) -> Result<(Vec<Lit>, bool), String> {
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.peek() == Some(close) {
                self.bump();
                return Ok((items, trailing_comma));
            }
            items.push(self.value(depth.saturating_add(1))?);
            trailing_comma = false;
            match self.peek() {
                Some(b',') => {
                    self.bump();
                    trailing_comma = true;
                }
                Some(b) if b == close => {}
                _ => {
                    return Err(format!(
                        "expected ',' or {:?} at byte {}",
                        char::from(close),
                        self.pos
                    ))
                }
            }
        }
    }

    /// A string in `quote`s with no escapes: a backslash could spell any
    /// character (`'\x4f'` is `'O'`), so it is refused, not guessed at.
    fn string(&mut self, quote: u8) -> Result<Lit, String> {
        self.bump();
        let start = self.pos;
        loop {
            match self.s.get(self.pos) {
                Some(&b) if b == quote => break,
                Some(b'\\') => return Err("a backslash escape in a string".into()),
                Some(b'\n' | b'\r') | None => return Err("an unterminated string".into()),
                Some(_) => self.bump(),
            }
        }
        // Quotes are ASCII, so the slice is whole UTF-8 characters.
        let text = String::from_utf8_lossy(self.since(start)).into_owned();
        self.bump();
        Ok(Lit::Str(text))
    }

    /// A decimal integer with an optional sign (and `L` in versions 1 and 2).
    fn int(&mut self) -> Result<Lit, String> {
        if let Some(b'-' | b'+') = self.s.get(self.pos) {
            self.bump();
        }
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.s.get(self.pos) {
            self.bump();
        }
        if self.pos == start {
            return Err(format!("a sign without digits at byte {start}"));
        }
        if self.long_suffix && self.s.get(self.pos) == Some(&b'L') {
            self.bump();
        }
        Ok(Lit::Int)
    }
}

pub(super) fn npy<R: Read + Seek>(
    r: &mut R,
    limits: &Limits,
    report: &mut ModelReport,
) -> Result<(), String> {
    r.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let mut stream = std::io::BufReader::new(r);
    npy_stream(&mut stream, None, limits, report)
}

/// A `.npy` stream: header, then (for object arrays only) a pickle.
pub(super) fn npy_stream<R: Read>(
    r: &mut R,
    member: Option<&str>,
    limits: &Limits,
    report: &mut ModelReport,
) -> Result<(), String> {
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)
        .map_err(|_| "truncated .npy header".to_string())?;
    if !magic.starts_with(b"\x93NUMPY") {
        return Err("no .npy magic".into());
    }
    let header_len = match magic[6] {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)
                .map_err(|_| "truncated .npy header".to_string())?;
            u64::from(u16::from_le_bytes(b))
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b)
                .map_err(|_| "truncated .npy header".to_string())?;
            u64::from(u32::from_le_bytes(b))
        }
        v => return Err(format!("unknown .npy version {v}")),
    };
    if header_len > MAX_NPY_HEADER {
        return Err(format!(".npy header of {header_len} bytes"));
    }
    let mut header = vec![0u8; header_len as usize];
    r.read_exact(&mut header)
        .map_err(|_| "truncated .npy header".to_string())?;
    let header = npy_header(&header, magic[6])?;
    if header.object {
        report.numpy_object_array = true;
        scan_stream(r, member, limits, report, false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.npy` header dict with `descr` spelled as given.
    fn synthetic_header(descr: &str) -> String {
        format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (2,), }}")
    }

    fn object(header: &str, version: u8) -> Result<bool, String> {
        npy_header(header.as_bytes(), version).map(|h| h.object)
    }

    #[test]
    fn npy_object_descrs_synthetic() {
        let descrs = [
            "'|O'",
            "\"|O\"",
            "'O'",
            "'<O'",
            "'>O'",
            "'=O'",
            "'O8'",
            "'object'",
            "'(2,)O'",
            "'f8,O'",
            "'T'",
            "[('a', '|O')]",
            "[('a', 'O'), ('b', '<f8')]",
            "[(\"a\", \"<f8\"), (\"b\", [(\"c\", \"O\")])]",
            "[(('title', 'a'), '<f8'), ('b', '|O', (2, 3))]",
            "('|O', (2,))",
            "(('|O'))",
            "['aO']",
            "[['a', 'O']]",
        ];
        for descr in descrs {
            assert_eq!(object(&synthetic_header(descr), 1), Ok(true), "{descr}");
        }
        let spaced = [
            "{\"descr\": \"|O\", \"fortran_order\": False, \"shape\": (2,)}",
            "{'descr' : '|O' , 'fortran_order' : False , 'shape' : ( 2 , ) , }",
            "  {\n\t'descr':'|O',\r\n'fortran_order':True,'shape':()}\x0c\n",
            "{'descr':'<f8','fortran_order':False,'shape':(3,),'descr':'|O'}",
        ];
        for header in spaced {
            assert_eq!(object(header, 1), Ok(true), "{header:?}");
        }
        // Python 2 longs in versions 1 and 2.
        let longs = "{'descr': '|O', 'fortran_order': False, 'shape': (3L, 4L), }";
        assert_eq!(object(longs, 2), Ok(true));
        assert!(object(longs, 3).is_err());
    }

    #[test]
    fn npy_plain_descrs_synthetic() {
        let descrs = [
            "'<f8'",
            "'|b1'",
            "'<U10'",
            "'|S5'",
            "'<M8[ns]'",
            "'<c16'",
            "[('Offset', '<f8'), ('TOTAL', '<i4', (2,))]",
            "[(('Object title', 'obj'), '<f8')]",
            "('<f8', (2, 2))",
        ];
        for descr in descrs {
            assert_eq!(object(&synthetic_header(descr), 1), Ok(false), "{descr}");
        }
        let last_wins = "{'descr': '|O', 'fortran_order': False, 'shape': (3,), 'descr': '<f8'}";
        assert_eq!(object(last_wins, 1), Ok(false));
        // Non-ASCII field names: UTF-8 in version 3, latin-1 in version 1.
        let named = synthetic_header("[('\u{e9}', '<f8')]");
        assert_eq!(object(&named, 3), Ok(false));
        let latin1 = b"{'descr': [('\xe9', '<f8')], 'fortran_order': False, 'shape': ()}";
        assert_eq!(npy_header(latin1, 1).map(|h| h.object), Ok(false));
    }

    #[test]
    fn npy_headers_that_are_not_the_literal_are_errors_synthetic() {
        // numpy reads the escape, `u''`, implicit concatenation, triple quotes and the
        // comment as `|O` (object arrays); outside the subset read here they are errors,
        // so the report is unknown, never a plain array. numpy refuses the rest.
        let deep = format!("{}'O'{}", "[".repeat(40), "]".repeat(40));
        let descrs = [
            "'\\x4f'",
            "b'|O'",
            "u'|O'",
            "'|' 'O'",
            "'''|O'''",
            "'|O' # a comment\n",
            "{'a': 'O'}",
            "()",
            "[1]",
            "[('a',)]",
            "[('a', 'O', (1,), 4)]",
            "'|O",
            "object",
            "1.5",
            &deep,
        ];
        for descr in descrs {
            assert!(object(&synthetic_header(descr), 1).is_err(), "{descr}");
        }
        let headers = [
            "",
            "[1]",
            "{'descr': '<f8', 'fortran_order': False}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
            "{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': 2}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': ('2',)}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} x",
            "{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}",
            "{1: '<f8', 'fortran_order': False, 'shape': (2,)}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)",
        ];
        for header in headers {
            assert!(object(header, 1).is_err(), "{header:?}");
        }
        let not_utf8 = b"{'descr': '\xff', 'fortran_order': False, 'shape': ()}";
        assert!(npy_header(not_utf8, 3).is_err());
    }

    /// A whole `.npy` file: magic, version 1, header length, header, payload.
    fn synthetic_npy(header: &str, payload: &[u8]) -> Vec<u8> {
        let mut npy = b"\x93NUMPY\x01\x00".to_vec();
        npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
        npy.extend_from_slice(header.as_bytes());
        npy.extend_from_slice(payload);
        npy
    }

    /// Reads `npy` as [`npy`] does for a standalone file (no verdict grading).
    fn npy_report(npy: &[u8]) -> (Result<(), String>, ModelReport) {
        let mut report = ModelReport::new(super::super::ModelFormat::NumpyNpy);
        let result = super::npy(
            &mut std::io::Cursor::new(npy),
            &Limits::default(),
            &mut report,
        );
        (result, report)
    }

    #[test]
    fn npy_object_variants_are_scanned_as_pickles_synthetic() {
        // Protocol 2: GLOBAL posix.system, then STOP.
        let pickle = b"\x80\x02cposix\nsystem\nq\x00.";
        let spaced = "{'descr' : '|O' , 'fortran_order' : False , 'shape' : (1,) }".to_string();
        let headers = [
            synthetic_header("\"|O\""),
            synthetic_header("'object'"),
            synthetic_header("[('a', '|O')]"),
            synthetic_header("[('a', 'O'), ('b', '<f8')]"),
            spaced,
        ];
        for header in headers {
            let (result, r) = npy_report(&synthetic_npy(&header, pickle));
            assert_eq!(result, Ok(()), "{header}");
            assert!(r.numpy_object_array, "{header}");
            assert!(
                r.globals.iter().any(|g| g == "posix.system"),
                "{header}: {r:?}"
            );
        }

        let (result, plain) = npy_report(&synthetic_npy(&synthetic_header("'<f8'"), &[0; 16]));
        assert_eq!(result, Ok(()));
        assert!(!plain.numpy_object_array);
        assert!(plain.globals.is_empty());

        let (result, _) = npy_report(&synthetic_npy(&synthetic_header("b'|O'"), pickle));
        assert!(result.is_err_and(|why| why.contains(".npy header")));
    }

    #[test]
    fn real_object_array_npy_is_an_object_array() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/real-models/object_array.npy"
        );
        let npy = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let (result, r) = npy_report(&npy);
        assert_eq!(result, Ok(()), "{r:?}");
        assert!(r.numpy_object_array, "{r:?}");
    }
}
