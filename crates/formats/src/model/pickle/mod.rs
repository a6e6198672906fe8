//! Pickle opcode scanning, without unpickling.
//!
//! Walks the opcode stream of protocols 0–5 the way CPython's unpickler
//! would, tracking the stack and memo as small values in an arena: enough to
//! name what `STACK_GLOBAL` imports (operands can come from the memo), and to
//! follow joblib, whose loader reads raw array bytes from the middle of the
//! stream. Every imported global is judged by [`super::globals`]. Whatever
//! the scanner cannot follow exactly — an unknown opcode, a memo key Python
//! would reject, a limit reached — ends the scan with a reason, which makes
//! the verdict `unknown`, never `safe`.

mod joblib;
pub mod text;
mod values;

use super::globals::{self, Risk};
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use values::{
    arena_mut, instantiate, pop, pop_to_mark, Arena, Entries, Node, Value, MAX_ENTRIES,
    MEMO_ENTRY_BYTES,
};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImportedGlobal {
    pub global: String,
    pub opcode: &'static str,
    pub risk: Risk,
}

/// What one pickle stream imports, and why scanning stopped early if it did.
#[derive(Debug, Clone, Default)]
pub struct PickleScan {
    /// Every global imported, allowlisted or not.
    pub globals: BTreeSet<String>,
    /// The globals that are not on the allowlist, with how they were judged.
    pub flagged: BTreeSet<ImportedGlobal>,
    /// Set when the stream could not be fully scanned.
    pub incomplete: Option<String>,
    /// Bytes consumed, up to and including STOP.
    pub consumed: u64,
    /// Opcodes executed, those of nested joblib pickles included; never more
    /// than [`PickleLimits::max_ops`].
    pub ops: u64,
    /// The scan stopped at one of its [`PickleLimits`], not at something
    /// Python's unpickler would reject too.
    pub limited: bool,
    pub stopped: bool,
    /// The pickled value was the magic number legacy `torch.save` writes first.
    pub legacy_torch_magic: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct PickleLimits {
    pub max_ops: u64,
    pub max_stack: usize,
    pub max_memo: usize,
    /// Longest single string/bytes argument read into memory; longer ones are skipped.
    pub max_string: u64,
    /// Most values (strings, tuples, dicts, objects) tracked for one pickle.
    pub max_values: usize,
    /// Most bytes those values, their items, the memo and the imported names
    /// may hold for one pickle.
    pub max_bytes: usize,
    /// Pickles nested inside joblib object arrays.
    pub max_nesting: u8,
}

impl Default for PickleLimits {
    fn default() -> Self {
        PickleLimits {
            max_ops: 20_000_000,
            max_stack: 100_000,
            max_memo: 1_000_000,
            max_string: 1 << 20,
            max_values: 2_000_000,
            max_bytes: 64 << 20,
            max_nesting: 4,
        }
    }
}

/// Counts what is read, so the caller knows where a pickle ended.
pub(crate) struct Reader<'r> {
    inner: &'r mut dyn Read,
    consumed: u64,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    fn exact(&mut self, buf: &mut [u8]) -> Result<(), String> {
        self.inner
            .read_exact(buf)
            .map_err(|_| "truncated pickle".to_string())?;
        self.consumed = self.consumed.saturating_add(buf.len() as u64);
        Ok(())
    }

    /// An `n`-byte little-endian unsigned integer, `n` at most 8.
    fn uint(&mut self, n: usize) -> Result<u64, String> {
        let mut buf = [0u8; 8];
        let bytes = buf
            .get_mut(..n)
            .ok_or("integer argument wider than 8 bytes")?;
        self.exact(bytes)?;
        Ok(u64::from_le_bytes(buf))
    }

    fn skip(&mut self, len: u64) -> Result<(), String> {
        let skipped = std::io::copy(&mut (&mut self.inner).take(len), &mut std::io::sink())
            .map_err(|e| e.to_string())?;
        self.consumed = self.consumed.saturating_add(skipped);
        if skipped == len {
            Ok(())
        } else {
            Err("truncated pickle".into())
        }
    }

    /// A newline-terminated argument (protocol 0), without its newline, bounded.
    fn line(&mut self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        loop {
            let b = self.byte()?;
            if b == b'\n' {
                return Ok(out);
            }
            if out.len() >= 64 << 10 {
                return Err("unterminated text argument".into());
            }
            out.push(b);
        }
    }

    /// A length-prefixed argument: kept if short, skipped otherwise.
    fn counted(&mut self, len: u64, limit: u64) -> Result<Option<Vec<u8>>, String> {
        if len > limit {
            self.skip(len)?;
            return Ok(None);
        }
        let mut buf = vec![0u8; len as usize];
        self.exact(&mut buf)?;
        Ok(Some(buf))
    }
}

/// Scans one pickle stream up to its STOP opcode, as joblib's loader reads it
/// when `joblib` is set (raw array bytes follow each `NumpyArrayWrapper`).
pub fn scan(input: &mut dyn Read, limits: &PickleLimits, joblib: bool) -> PickleScan {
    let mut out = PickleScan::default();
    let mut reader = Reader {
        inner: input,
        consumed: 0,
    };
    let mut machine = Machine {
        limits,
        out: &mut out,
        joblib,
        nesting: 0,
    };
    if let Err(why) = machine.run(&mut reader) {
        out.incomplete = Some(why);
    }
    out.consumed = reader.consumed;
    out
}

/// Torch's legacy magic number, 0x1950a86a20f9469cfc6c, as LONG1's little-endian bytes.
const LEGACY_TORCH_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

struct Machine<'a> {
    limits: &'a PickleLimits,
    out: &'a mut PickleScan,
    joblib: bool,
    nesting: u8,
}

impl Machine<'_> {
    fn import(
        &mut self,
        arena: &mut Arena,
        module: &str,
        name: &str,
        opcode: &'static str,
    ) -> Result<(), String> {
        let global = globals::canonical(module, name);
        let risk = globals::judge(module, name);
        if risk != Risk::Allowed {
            let flagged = ImportedGlobal {
                global: global.clone(),
                opcode,
                risk,
            };
            if !self.out.flagged.contains(&flagged) {
                arena.hold(global.len())?;
                self.out.flagged.insert(flagged);
            }
        }
        if !self.out.globals.contains(&global) {
            arena.hold(global.len())?;
            self.out.globals.insert(global);
        }
        Ok(())
    }

    fn run(&mut self, r: &mut Reader) -> Result<(), String> {
        let mut arena = Arena::new(self.limits.max_values, self.limits.max_bytes);
        let result = self.run_in(r, &mut arena);
        if result.is_err() && arena.is_full() {
            self.out.limited = true;
        }
        result
    }

    fn run_in(&mut self, r: &mut Reader, arena: &mut Arena) -> Result<(), String> {
        let limits = *self.limits;
        let mut stack: Vec<Value> = Vec::new();
        let mut memo: HashMap<u64, Value> = HashMap::new();
        let mut first_value = true;
        loop {
            // One budget for the whole stream: nested joblib pickles draw on it too.
            if self.out.ops >= limits.max_ops {
                self.out.limited = true;
                return Err(format!("more than {} pickle opcodes", limits.max_ops));
            }
            self.out.ops = self.out.ops.saturating_add(1);
            if stack.len() > limits.max_stack {
                self.out.limited = true;
                return Err(format!("pickle stack deeper than {}", limits.max_stack));
            }
            let op = r.byte()?;
            match op {
                b'.' => {
                    self.out.stopped = true;
                    return Ok(());
                }
                0x80 => {
                    let protocol = r.byte()?;
                    if protocol > 5 {
                        return Err(format!("unsupported pickle protocol {protocol}"));
                    }
                }
                0x95 => {
                    r.uint(8)?;
                }
                // Protocol-0 numbers and persistent ids: text the scan does not need.
                b'F' | b'L' | b'P' => {
                    r.line()?;
                    stack.push(Value::Other);
                }
                b'I' => {
                    let line = r.line()?;
                    stack.push(match line.as_slice() {
                        b"00" => Value::Bool(false),
                        b"01" => Value::Bool(true),
                        l => text::python_int(l).map_or(Value::Other, Value::Int),
                    });
                }
                b'S' => {
                    let s = text::quoted_string(&r.line()?)?;
                    stack.push(arena.add(Node::Str(s))?);
                }
                b'V' => {
                    let s = text::raw_unicode_escape(&r.line()?)?;
                    stack.push(arena.add(Node::Str(s))?);
                }
                b'c' | b'i' => {
                    let module = text::utf8_line(&r.line()?)?;
                    let name = text::utf8_line(&r.line()?)?;
                    let opcode = if op == b'c' { "GLOBAL" } else { "INST" };
                    self.import(arena, &module, &name, opcode)?;
                    let class = arena.add(Node::Global(globals::canonical(&module, &name)))?;
                    if op == b'i' {
                        let args = pop_to_mark(&mut stack)?;
                        let args = arena.add(Node::Tuple(args))?;
                        stack.push(instantiate(arena, class, args)?);
                    } else {
                        stack.push(class);
                    }
                }
                b'g' | b'h' | b'j' => {
                    let key = match op {
                        b'g' => memo_key(&r.line()?)?,
                        b'h' => r.uint(1)?,
                        _ => r.uint(4)?,
                    };
                    let v = memo
                        .get(&key)
                        .copied()
                        .ok_or_else(|| format!("memo key {key} is read before it is written"))?;
                    stack.push(v);
                }
                b'p' | b'q' | b'r' | 0x94 => {
                    let key = match op {
                        b'p' => memo_key(&r.line()?)?,
                        b'q' => r.uint(1)?,
                        b'r' => r.uint(4)?,
                        _ => memo.len() as u64,
                    };
                    if memo.len() >= limits.max_memo {
                        self.out.limited = true;
                        return Err(format!("pickle memo larger than {}", limits.max_memo));
                    }
                    let top = *stack.last().ok_or("memo write from an empty stack")?;
                    if memo.insert(key, top).is_none() {
                        arena.hold(MEMO_ENTRY_BYTES)?;
                    }
                }
                b'J' => stack.push(Value::Int(r.uint(4)? as u32 as i32 as i64)),
                b'K' => stack.push(Value::Int(r.uint(1)? as i64)),
                b'M' => stack.push(Value::Int(r.uint(2)? as i64)),
                b'G' => {
                    r.uint(8)?;
                    stack.push(Value::Other);
                }
                0x82..=0x84 => {
                    let width = match op {
                        0x82 => 1,
                        0x83 => 2,
                        _ => 4,
                    };
                    let code = r.uint(width)?;
                    return Err(format!(
                        "imports through copyreg extension code {code}, which the scan cannot resolve"
                    ));
                }
                0x8a | 0x8b => {
                    let len = r.uint(if op == 0x8a { 1 } else { 4 })?;
                    let bytes = r.counted(len, limits.max_string)?;
                    if first_value && bytes.as_deref() == Some(&LEGACY_TORCH_MAGIC[..]) {
                        self.out.legacy_torch_magic = true;
                    }
                    stack.push(match bytes {
                        Some(b) if b.len() <= 8 => Value::Int(signed_le(&b)),
                        _ => Value::Other,
                    });
                }
                b'X' | 0x8c | 0x8d => {
                    let len = r.uint(match op {
                        0x8c => 1,
                        0x8d => 8,
                        _ => 4,
                    })?;
                    stack.push(match r.counted(len, limits.max_string)? {
                        Some(b) => {
                            let s = String::from_utf8(b)
                                .map_err(|_| "unicode argument is not UTF-8".to_string())?;
                            arena.add(Node::Str(s))?
                        }
                        None => Value::Other,
                    });
                }
                // Python 2 strings are decoded as text by Python 3's loaders.
                b'T' | b'U' => {
                    let len = r.uint(if op == b'U' { 1 } else { 4 })?;
                    stack.push(match r.counted(len, limits.max_string)? {
                        Some(b) => match String::from_utf8(b) {
                            Ok(s) => arena.add(Node::Str(s))?,
                            Err(_) => Value::Other,
                        },
                        None => Value::Other,
                    });
                }
                b'B' | b'C' | 0x8e | 0x96 => {
                    let len = r.uint(match op {
                        b'C' => 1,
                        b'B' => 4,
                        _ => 8,
                    })?;
                    r.counted(len, 0)?;
                    stack.push(Value::Other);
                }
                0x93 => {
                    let name = stack.pop();
                    let module = stack.pop();
                    let (Some(m), Some(n)) = (
                        module.and_then(|v| arena.str(v)),
                        name.and_then(|v| arena.str(v)),
                    ) else {
                        return Err(
                            "STACK_GLOBAL operands are not strings the scan can name".into()
                        );
                    };
                    let (m, n) = (m.to_string(), n.to_string());
                    self.import(arena, &m, &n, "STACK_GLOBAL")?;
                    stack.push(arena.add(Node::Global(globals::canonical(&m, &n)))?);
                }
                b'(' => stack.push(Value::Mark),
                b'N' => stack.push(Value::None),
                0x88 => stack.push(Value::Bool(true)),
                0x89 => stack.push(Value::Bool(false)),
                b')' => stack.push(arena.add(Node::Tuple(Vec::new()))?),
                b']' => stack.push(arena.add(Node::List(Vec::new()))?),
                b'}' => stack.push(arena.add(Node::Dict(Entries::default()))?),
                0x8f | 0x97 => stack.push(Value::Other),
                b'Q' => {
                    pop(&mut stack)?;
                    stack.push(Value::Other);
                }
                0x98 => {}
                b'0' => {
                    pop(&mut stack)?;
                }
                b'1' => {
                    pop_to_mark(&mut stack)?;
                }
                b'2' => stack.push(*stack.last().ok_or("DUP on an empty stack")?),
                b't' => {
                    let items = pop_to_mark(&mut stack)?;
                    stack.push(arena.add(Node::Tuple(items))?);
                }
                0x85..=0x87 => {
                    let n = match op {
                        0x85 => 1,
                        0x86 => 2,
                        _ => 3,
                    };
                    let Some(first) = stack.len().checked_sub(n) else {
                        return Err("TUPLE on a short stack".into());
                    };
                    let items = stack.split_off(first);
                    stack.push(arena.add(Node::Tuple(items))?);
                }
                b'l' => {
                    let items = pop_to_mark(&mut stack)?;
                    stack.push(arena.add(Node::List(items))?);
                }
                b'd' => {
                    let items = pop_to_mark(&mut stack)?;
                    let mut entries = Entries::default();
                    for pair in items.chunks_exact(2) {
                        if let &[key, value] = pair {
                            entries.push(key, value);
                        }
                    }
                    stack.push(arena.add(Node::Dict(entries))?);
                }
                0x91 => {
                    pop_to_mark(&mut stack)?;
                    stack.push(Value::Other);
                }
                0x90 => {
                    pop_to_mark(&mut stack)?;
                }
                b'a' | b'e' => {
                    let items = if op == b'a' {
                        vec![pop(&mut stack)?]
                    } else {
                        pop_to_mark(&mut stack)?
                    };
                    let target = *stack.last().ok_or("APPEND without a list")?;
                    let kept = match arena.get(target) {
                        Some(Node::List(list)) => {
                            MAX_ENTRIES.saturating_sub(list.len()).min(items.len())
                        }
                        _ => 0,
                    };
                    arena.hold(kept.saturating_mul(std::mem::size_of::<Value>()))?;
                    if let Some(Node::List(list)) = arena_mut(arena, target) {
                        list.extend(items.into_iter().take(kept));
                    }
                }
                b's' | b'u' => {
                    let items = if op == b's' {
                        let v = pop(&mut stack)?;
                        let k = pop(&mut stack)?;
                        vec![k, v]
                    } else {
                        pop_to_mark(&mut stack)?
                    };
                    let target = *stack.last().ok_or("SETITEM without a dict")?;
                    let mut grown = 0;
                    if let Some(Node::Dict(dict)) = arena_mut(arena, target) {
                        let before = dict.heap_bytes();
                        for pair in items.chunks_exact(2) {
                            if let &[key, value] = pair {
                                dict.push(key, value);
                            }
                        }
                        grown = dict.heap_bytes().saturating_sub(before);
                    }
                    arena.hold(grown)?;
                }
                b'R' | 0x81 => {
                    let args = pop(&mut stack)?;
                    let callable = pop(&mut stack)?;
                    stack.push(instantiate(arena, callable, args)?);
                }
                0x92 => {
                    pop(&mut stack)?;
                    let args = pop(&mut stack)?;
                    let class = pop(&mut stack)?;
                    stack.push(instantiate(arena, class, args)?);
                }
                b'o' => {
                    let mut items = pop_to_mark(&mut stack)?;
                    if items.is_empty() {
                        return Err("OBJ without a class".into());
                    }
                    let class = items.remove(0);
                    let args = arena.add(Node::Tuple(items))?;
                    stack.push(instantiate(arena, class, args)?);
                }
                b'b' => {
                    let state = pop(&mut stack)?;
                    let target = *stack.last().ok_or("BUILD without an object")?;
                    self.build(r, arena, &mut stack, target, state)?;
                }
                other => return Err(format!("unknown pickle opcode 0x{other:02x}")),
            }
            // PROTO and FRAME come before the first value.
            first_value &= matches!(op, 0x80 | 0x95);
        }
    }

    /// BUILD sets state on an object; joblib's loader then reads the array that follows.
    fn build(
        &mut self,
        r: &mut Reader,
        arena: &mut Arena,
        stack: &mut [Value],
        target: Value,
        state: Value,
    ) -> Result<(), String> {
        // The default BUILD updates the instance __dict__ with a dict state.
        let update = match arena.get(state) {
            Some(Node::Dict(d)) => Some(d.clone()),
            _ => None,
        };
        let built = state;
        let Some(Node::Object {
            class,
            state,
            setstate,
            ..
        }) = arena_mut(arena, target)
        else {
            return Ok(());
        };
        let Some(update) = update else {
            *setstate = built;
            return Ok(());
        };
        state.overflowed |= update.overflowed;
        let before = state.heap_bytes();
        for (k, v) in update.pairs {
            state.push(k, v);
        }
        let grown = state.heap_bytes().saturating_sub(before);
        let is_wrapper = class.as_deref() == Some("joblib.numpy_pickle.NumpyArrayWrapper");
        arena.hold(grown)?;
        if !(self.joblib && is_wrapper) {
            return Ok(());
        }
        let array = joblib::ArrayLayout::of(arena, target)?;
        if array.has_objects {
            // joblib unpickles object arrays with a fresh pickle.load from the same stream.
            if self.nesting >= self.limits.max_nesting {
                self.out.limited = true;
                return Err("joblib object arrays nested too deep".into());
            }
            let mut inner = Machine {
                limits: self.limits,
                out: &mut *self.out,
                joblib: false,
                nesting: self.nesting.saturating_add(1),
            };
            let mut nested = Reader {
                inner: &mut *r.inner,
                consumed: 0,
            };
            let result = inner.run(&mut nested);
            r.consumed = r.consumed.saturating_add(nested.consumed);
            result?;
            self.out.stopped = false;
        } else {
            if array.aligned {
                let padding = r.byte()?;
                r.skip(u64::from(padding))?;
            }
            r.skip(array.bytes)?;
        }
        if let Some(top) = stack.last_mut() {
            *top = Value::Other;
        }
        Ok(())
    }
}

fn memo_key(line: &[u8]) -> Result<u64, String> {
    match text::python_int(line) {
        Some(k) if k >= 0 => Ok(k as u64),
        _ => Err(format!(
            "memo key {:?} is not one Python accepts",
            String::from_utf8_lossy(line)
        )),
    }
}

/// A little-endian two's-complement integer of at most 8 bytes.
fn signed_le(bytes: &[u8]) -> i64 {
    let Some(&last) = bytes.last() else {
        return 0;
    };
    let fill = if last & 0x80 != 0 { 0xff } else { 0 };
    let mut buf = [fill; 8];
    buf.iter_mut().zip(bytes).for_each(|(b, &byte)| *b = byte);
    i64::from_le_bytes(buf)
}

#[cfg(test)]
mod tests;
