//! How many bytes joblib's loader reads after a `NumpyArrayWrapper`.
//!
//! `joblib.load` does not leave the array to pickle: when BUILD completes a
//! `NumpyArrayWrapper`, it reads the array's raw bytes straight from the
//! file (after an alignment padding byte and the padding it announces), or,
//! for arrays of Python objects, a whole nested pickle. The scan must skip
//! exactly those bytes to find the rest of the stream, so it sizes the array
//! from the wrapper's own state (shape and dtype) the way joblib does, and
//! gives up (an `unknown` verdict) whenever it cannot.

use super::values::{Arena, Entries, Node, Value};

pub(super) struct ArrayLayout {
    /// Raw bytes of the array data.
    pub bytes: u64,
    /// A padding-length byte (and the padding) precedes the data.
    pub aligned: bool,
    /// An object array: a nested pickle follows instead of raw bytes.
    pub has_objects: bool,
}

impl ArrayLayout {
    pub fn of(arena: &Arena, wrapper: Value) -> Result<Self, String> {
        let Some(Node::Object { state, .. }) = arena.get(wrapper) else {
            return Err("joblib array wrapper has no state".into());
        };
        let shape = lookup(arena, state, "shape")?.ok_or("joblib array has no shape")?;
        let dtype = lookup(arena, state, "dtype")?.ok_or("joblib array has no dtype")?;
        let aligned = !matches!(
            lookup(arena, state, "numpy_array_alignment_bytes")?,
            None | Some(Value::None)
        );
        let count = match arena.get(shape) {
            Some(Node::Tuple(dims)) => dims.iter().try_fold(1u64, |n, d| match d {
                Value::Int(d) if *d >= 0 => n.checked_mul(*d as u64),
                _ => None,
            }),
            _ => None,
        }
        .ok_or("joblib array shape is not a tuple of sizes the scan can multiply")?;
        let (itemsize, has_objects) = describe_dtype(arena, dtype, 0)?;
        Ok(ArrayLayout {
            bytes: count
                .checked_mul(itemsize)
                .ok_or("joblib array is larger than any file")?,
            aligned,
            has_objects,
        })
    }
}

/// The last value set for a string key; an error when the entries overflowed.
fn lookup(arena: &Arena, entries: &Entries, key: &str) -> Result<Option<Value>, String> {
    if entries.overflowed {
        return Err("joblib array state has more entries than the scan keeps".into());
    }
    Ok(entries
        .pairs
        .iter()
        .rev()
        .find(|(k, _)| arena.str(*k) == Some(key))
        .map(|(_, v)| *v))
}

/// (itemsize, holds Python objects) of a pickled `numpy.dtype(spec, …)`.
fn describe_dtype(arena: &Arena, dtype: Value, depth: u8) -> Result<(u64, bool), String> {
    if depth > 8 {
        return Err("joblib array dtype nests too deep".into());
    }
    let Some(Node::Object {
        class: Some(class),
        args,
        setstate,
        ..
    }) = arena.get(dtype)
    else {
        return Err("joblib array dtype is not a numpy.dtype the scan can read".into());
    };
    if class != "numpy.dtype" {
        return Err(format!("joblib array dtype is built by {class}"));
    }
    let spec = match arena.get(*args) {
        Some(Node::Tuple(a)) => a.first().and_then(|v| arena.str(*v)),
        _ => None,
    }
    .ok_or("joblib array dtype has no type code")?;
    let spec = spec.trim_start_matches(['<', '>', '=', '|']);
    let (kind, digits) = spec.split_at(spec.len().min(1));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("joblib array dtype {spec:?} is not one the scan can size"))?;
    let itemsize = match kind {
        "b" | "i" | "u" | "f" | "c" | "S" | "a" | "V" | "M" | "m" => n,
        "U" => n.checked_mul(4).ok_or("dtype too large")?,
        "O" => return Ok((n, true)),
        _ => {
            return Err(format!(
                "joblib array dtype {spec:?} is not one the scan can size"
            ))
        }
    };
    // Structured and subarray dtypes: objects may hide in their fields.
    let mut has_objects = false;
    if kind == "V" {
        if let Some(Node::Tuple(state)) = arena.get(*setstate) {
            if let Some(sub) = state.get(2).filter(|v| **v != Value::None) {
                has_objects |= nested_has_objects(arena, *sub, depth)?;
            }
            if let Some(fields) = state.get(4).filter(|v| **v != Value::None) {
                let Some(Node::Dict(fields)) = arena.get(*fields) else {
                    return Err("joblib array dtype fields are not a dict".into());
                };
                if fields.overflowed {
                    return Err("joblib array dtype has too many fields".into());
                }
                for (_, field) in &fields.pairs {
                    has_objects |= nested_has_objects(arena, *field, depth)?;
                }
            }
        }
    }
    Ok((itemsize, has_objects))
}

/// A `(dtype, …)` tuple from a structured dtype's fields or subarray.
fn nested_has_objects(arena: &Arena, tuple: Value, depth: u8) -> Result<bool, String> {
    match arena.get(tuple) {
        Some(Node::Tuple(items)) => match items.first() {
            Some(inner) => Ok(describe_dtype(arena, *inner, depth.saturating_add(1))?.1),
            None => Err("joblib array dtype field is empty".into()),
        },
        _ => Err("joblib array dtype field is not a tuple".into()),
    }
}
