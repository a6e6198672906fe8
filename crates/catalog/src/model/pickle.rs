//! Pickle opcode scanning, without unpickling.
//!
//! Walks the opcode stream of protocols 0–5, tracking just enough of the
//! stack and memo to name what `STACK_GLOBAL` imports, and judges every
//! imported global against an allowlist of what weights-only checkpoints
//! need. Deny-lists are bypassable (there is always another callable that
//! runs code); an allowlist fails closed.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;

/// Globals a weights-only checkpoint (PyTorch state dicts, NumPy arrays)
/// legitimately imports. Each rebuilds data; none runs caller-chosen code.
const ALLOWED: &[&str] = &[
    // Ordered containers of tensors: the state dict itself.
    "collections.OrderedDict",
    // PyTorch's tensor and parameter rebuilders (what torch.load's weights_only allows).
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._tensor._rebuild_from_type_v2",
    "torch.Size",
    "torch.device",
    "torch.storage.UntypedStorage",
    // NumPy arrays and scalars (module renamed numpy._core in NumPy 2).
    "numpy.core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray._reconstruct",
    "numpy._core.multiarray.scalar",
    "numpy.ndarray",
    "numpy.dtype",
    // Protocol 2 encodes bytes through _codecs.encode(str, 'latin1').
    "_codecs.encode",
    // Plain data types, Python 3 and 2 spellings.
    "builtins.set",
    "builtins.frozenset",
    "builtins.slice",
    "builtins.complex",
    "builtins.bytearray",
    "__builtin__.set",
    "__builtin__.frozenset",
    "__builtin__.slice",
    "__builtin__.complex",
    "__builtin__.bytearray",
    // Instantiates the class it is given, which is itself a checked global.
    "copy_reg._reconstructor",
    "copyreg._reconstructor",
];

/// dtypes and storage classes: `torch.float32`, `torch.FloatStorage`, …
fn allowed(global: &str) -> bool {
    if ALLOWED.contains(&global) {
        return true;
    }
    let Some(name) = global.strip_prefix("torch.") else {
        return false;
    };
    let storage = name.ends_with("Storage") && name.bytes().all(|b| b.is_ascii_alphanumeric());
    let dtype = matches!(
        name,
        "float16"
            | "float32"
            | "float64"
            | "bfloat16"
            | "half"
            | "float"
            | "double"
            | "int8"
            | "int16"
            | "int32"
            | "int64"
            | "uint8"
            | "bool"
            | "complex64"
            | "complex128"
            | "float8_e4m3fn"
            | "float8_e5m2"
    );
    storage || dtype
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImportedGlobal {
    pub global: String,
    pub opcode: &'static str,
}

/// What one pickle stream imports, and why scanning stopped early if it did.
#[derive(Debug, Clone, Default)]
pub struct PickleScan {
    pub globals: BTreeSet<String>,
    pub unsafe_globals: BTreeSet<ImportedGlobal>,
    /// Set when the stream could not be fully scanned.
    pub incomplete: Option<String>,
    /// Bytes consumed, up to and including STOP.
    pub consumed: u64,
    pub stopped: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct PickleLimits {
    pub max_ops: u64,
    pub max_stack: usize,
    pub max_memo: usize,
    /// Longest single string/bytes argument read into memory; longer ones are skipped.
    pub max_string: u64,
}

impl Default for PickleLimits {
    fn default() -> Self {
        PickleLimits {
            max_ops: 20_000_000,
            max_stack: 100_000,
            max_memo: 1_000_000,
            max_string: 1 << 20,
        }
    }
}

#[derive(Debug, Clone)]
enum Value {
    Str(String),
    Mark,
    Other,
}

struct Reader<'r, R: Read> {
    inner: &'r mut R,
    consumed: u64,
}

impl<R: Read> Reader<'_, R> {
    fn byte(&mut self) -> Result<u8, String> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    fn exact(&mut self, buf: &mut [u8]) -> Result<(), String> {
        self.inner
            .read_exact(buf)
            .map_err(|_| "truncated pickle".to_string())?;
        self.consumed += buf.len() as u64;
        Ok(())
    }

    fn uint(&mut self, n: usize) -> Result<u64, String> {
        let mut buf = [0u8; 8];
        self.exact(&mut buf[..n])?;
        Ok(u64::from_le_bytes(buf))
    }

    /// A newline-terminated argument (protocol 0), bounded.
    fn line(&mut self) -> Result<String, String> {
        let mut out = Vec::new();
        loop {
            let b = self.byte()?;
            if b == b'\n' {
                break;
            }
            if out.len() >= 64 << 10 {
                return Err("unterminated text argument".into());
            }
            out.push(b);
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// A length-prefixed argument: kept as text if short, skipped otherwise.
    fn counted(&mut self, len: u64, limit: u64) -> Result<Option<String>, String> {
        if len > limit {
            let skipped = std::io::copy(&mut self.inner.take(len), &mut std::io::sink())
                .map_err(|e| e.to_string())?;
            self.consumed += skipped;
            return if skipped == len {
                Ok(None)
            } else {
                Err("truncated pickle".into())
            };
        }
        let mut buf = vec![0u8; len as usize];
        self.exact(&mut buf)?;
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }
}

/// Scans one pickle stream up to its STOP opcode.
pub fn scan<R: Read>(input: &mut R, limits: &PickleLimits) -> PickleScan {
    let mut out = PickleScan::default();
    let mut reader = Reader {
        inner: input,
        consumed: 0,
    };
    if let Err(why) = run(&mut reader, limits, &mut out) {
        out.incomplete = Some(why);
    }
    out.consumed = reader.consumed;
    out
}

fn run<R: Read>(
    r: &mut Reader<R>,
    limits: &PickleLimits,
    out: &mut PickleScan,
) -> Result<(), String> {
    let mut stack: Vec<Value> = Vec::new();
    let mut memo: HashMap<u64, Value> = HashMap::new();
    let import = |out: &mut PickleScan, global: String, opcode: &'static str| {
        if !allowed(&global) {
            out.unsafe_globals.insert(ImportedGlobal {
                global: global.clone(),
                opcode,
            });
        }
        out.globals.insert(global);
    };
    for _ in 0..limits.max_ops {
        if stack.len() > limits.max_stack {
            return Err(format!("pickle stack deeper than {}", limits.max_stack));
        }
        let op = r.byte()?;
        match op {
            b'.' => {
                out.stopped = true;
                return Ok(());
            }
            // Text-line arguments (protocol 0).
            b'F' | b'I' | b'L' | b'P' => {
                r.line()?;
                stack.push(Value::Other);
            }
            b'S' | b'V' => {
                let text = r.line()?;
                stack.push(Value::Str(
                    text.trim_matches(|c| c == '\'' || c == '"').to_string(),
                ));
            }
            b'c' | b'i' => {
                let module = r.line()?;
                let name = r.line()?;
                if op == b'i' {
                    pop_mark(&mut stack);
                }
                import(
                    out,
                    format!("{module}.{name}"),
                    if op == b'c' { "GLOBAL" } else { "INST" },
                );
                stack.push(Value::Other);
            }
            b'g' => {
                let key = r.line()?.trim().parse::<u64>().unwrap_or(u64::MAX);
                stack.push(memo.get(&key).cloned().unwrap_or(Value::Other));
            }
            b'p' => {
                let key = r.line()?.trim().parse::<u64>().unwrap_or(u64::MAX);
                remember(&mut memo, key, &stack, limits)?;
            }
            // Fixed-size arguments.
            b'J' => push_after(r, 4, &mut stack)?,
            b'K' => push_after(r, 1, &mut stack)?,
            b'M' => push_after(r, 2, &mut stack)?,
            b'G' => push_after(r, 8, &mut stack)?,
            0x82 => ext(r, 1, out)?,
            0x83 => ext(r, 2, out)?,
            0x84 => ext(r, 4, out)?,
            0x80 => {
                r.byte()?;
            }
            0x95 => {
                r.uint(8)?;
            }
            b'h' => {
                let key = r.uint(1)?;
                stack.push(memo.get(&key).cloned().unwrap_or(Value::Other));
            }
            b'j' => {
                let key = r.uint(4)?;
                stack.push(memo.get(&key).cloned().unwrap_or(Value::Other));
            }
            b'q' => {
                let key = r.uint(1)?;
                remember(&mut memo, key, &stack, limits)?;
            }
            b'r' => {
                let key = r.uint(4)?;
                remember(&mut memo, key, &stack, limits)?;
            }
            0x94 => {
                let key = memo.len() as u64;
                remember(&mut memo, key, &stack, limits)?;
            }
            // Length-prefixed strings and bytes.
            b'X' | b'T' | b'B' | 0x8c | 0x8d | b'U' | b'C' | 0x8e | 0x96 | 0x8a | 0x8b => {
                let width = match op {
                    b'U' | b'C' | 0x8c | 0x8a => 1,
                    0x8d | 0x8e | 0x96 => 8,
                    _ => 4,
                };
                let len = r.uint(width)?;
                let text = r.counted(len, limits.max_string)?;
                let is_text = matches!(op, b'X' | b'T' | 0x8c | 0x8d | b'U');
                stack.push(match (is_text, text) {
                    (true, Some(t)) => Value::Str(t),
                    _ => Value::Other,
                });
            }
            0x93 => {
                let name = stack.pop();
                let module = stack.pop();
                match (module, name) {
                    (Some(Value::Str(m)), Some(Value::Str(n))) => {
                        import(out, format!("{m}.{n}"), "STACK_GLOBAL")
                    }
                    // Operands built at load time: exactly how scanners get bypassed.
                    _ => {
                        out.unsafe_globals.insert(ImportedGlobal {
                            global: "<computed>".into(),
                            opcode: "STACK_GLOBAL",
                        });
                    }
                }
                stack.push(Value::Other);
            }
            // Stack shape only.
            b'(' => stack.push(Value::Mark),
            b'N' | 0x88 | 0x89 | b')' | b']' | b'}' | 0x8f | b'Q' | 0x97 => {
                if op == b'Q' {
                    stack.pop();
                }
                stack.push(Value::Other);
            }
            b'0' => {
                stack.pop();
            }
            b'1' => pop_mark(&mut stack),
            b'2' => {
                let top = stack.last().cloned().unwrap_or(Value::Other);
                stack.push(top);
            }
            b't' | b'l' | b'd' | 0x91 | b'o' => {
                pop_mark(&mut stack);
                stack.push(Value::Other);
            }
            b'e' | b'u' | 0x90 => pop_mark(&mut stack),
            b'a' | b'b' => {
                stack.pop();
            }
            b's' => {
                stack.pop();
                stack.pop();
            }
            0x85..=0x87 => {
                for _ in 0..(op - 0x84) {
                    stack.pop();
                }
                stack.push(Value::Other);
            }
            b'R' | 0x81 => {
                stack.pop();
                stack.pop();
                stack.push(Value::Other);
            }
            0x92 => {
                for _ in 0..3 {
                    stack.pop();
                }
                stack.push(Value::Other);
            }
            0x98 => {}
            other => return Err(format!("unknown pickle opcode 0x{other:02x}")),
        }
    }
    Err(format!("more than {} pickle opcodes", limits.max_ops))
}

fn push_after<R: Read>(r: &mut Reader<R>, n: usize, stack: &mut Vec<Value>) -> Result<(), String> {
    r.uint(n)?;
    stack.push(Value::Other);
    Ok(())
}

/// The copyreg extension registry imports by code, which a scanner cannot name.
fn ext<R: Read>(r: &mut Reader<R>, n: usize, out: &mut PickleScan) -> Result<(), String> {
    let code = r.uint(n)?;
    out.unsafe_globals.insert(ImportedGlobal {
        global: format!("<extension {code}>"),
        opcode: "EXT",
    });
    Ok(())
}

fn pop_mark(stack: &mut Vec<Value>) {
    while let Some(v) = stack.pop() {
        if matches!(v, Value::Mark) {
            break;
        }
    }
}

fn remember(
    memo: &mut HashMap<u64, Value>,
    key: u64,
    stack: &[Value],
    limits: &PickleLimits,
) -> Result<(), String> {
    if memo.len() >= limits.max_memo {
        return Err(format!("pickle memo larger than {}", limits.max_memo));
    }
    memo.insert(key, stack.last().cloned().unwrap_or(Value::Other));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_bytes(bytes: &[u8]) -> PickleScan {
        scan(&mut &bytes[..], &PickleLimits::default())
    }

    #[test]
    fn protocol0_global_synthetic() {
        // pickle.dumps(os.system, protocol=0) in CPython 3.11 on Linux.
        let s = scan_bytes(b"cposix\nsystem\np0\n.");
        assert!(s.stopped);
        assert_eq!(
            s.unsafe_globals.iter().next().unwrap().global,
            "posix.system"
        );
    }

    #[test]
    fn stack_global_through_memo_synthetic() {
        // \x80\x04 proto 4; SHORT_BINUNICODE 'subprocess' MEMOIZE; SHORT_BINUNICODE 'Popen' MEMOIZE; STACK_GLOBAL; STOP
        let bytes = b"\x80\x04\x8c\nsubprocess\x94\x8c\x05Popen\x94\x93\x94.";
        let s = scan_bytes(bytes);
        let g = s.unsafe_globals.iter().next().unwrap();
        assert_eq!(
            (g.global.as_str(), g.opcode),
            ("subprocess.Popen", "STACK_GLOBAL")
        );
    }

    #[test]
    fn allowlisted_state_dict_synthetic() {
        let s = scan_bytes(b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.");
        assert!(s.unsafe_globals.is_empty() && s.stopped && s.incomplete.is_none());
        assert!(s.globals.contains("collections.OrderedDict"));
    }

    #[test]
    fn garbage_and_limits_synthetic() {
        assert!(scan_bytes(b"\xff\xfe").incomplete.is_some());
        assert!(scan_bytes(b"\x80\x04\x8c\x05abc").incomplete.is_some());
        let deep = vec![b'('; 200_000];
        assert!(scan_bytes(&deep).incomplete.unwrap().contains("deeper"));
        let limits = PickleLimits {
            max_ops: 10,
            ..Default::default()
        };
        let many = [b'N'; 100];
        assert!(scan(&mut &many[..], &limits)
            .incomplete
            .unwrap()
            .contains("opcodes"));
    }
}
