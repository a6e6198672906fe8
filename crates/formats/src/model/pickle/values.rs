//! The values a pickle scan tracks: a small arena of strings, tuples, dicts
//! and objects, referred to by index so that the stack and the memo share
//! one object as Python's do (a dict changed after it was memoised is the
//! same dict when the memo is read back).

/// A stack or memo slot. Containers live in the arena, so a memo entry and
/// the stack share one object, as they do in Python.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Value {
    Mark,
    None,
    Bool(bool),
    Int(i64),
    Node(u32),
    /// Anything whose content the scan does not need.
    Other,
}

#[derive(Debug)]
pub(super) enum Node {
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Entries),
    Global(String),
    /// `cls(*args)` or `callable(*args)`, with what BUILD later set on it.
    Object {
        class: Option<String>,
        args: Value,
        state: Entries,
        /// The last BUILD state that was not a dict (`__setstate__` input, e.g. a dtype's tuple).
        setstate: Value,
    },
}

impl Node {
    /// What the node holds outside itself.
    fn heap_bytes(&self) -> usize {
        let value = std::mem::size_of::<Value>();
        match self {
            Node::Str(s) | Node::Global(s) => s.len(),
            Node::Tuple(items) | Node::List(items) => items.len().saturating_mul(value),
            Node::Dict(entries) => entries.heap_bytes(),
            Node::Object { class, state, .. } => class
                .as_ref()
                .map_or(0, String::len)
                .saturating_add(state.heap_bytes()),
        }
    }
}

/// Key-value pairs in the order they were set; a later pair for the same key
/// wins, as in Python. Past [`MAX_ENTRIES`] nothing more is kept and lookups
/// fail, so a value set late can never be mistaken for an earlier one.
#[derive(Debug, Clone, Default)]
pub(super) struct Entries {
    pub(super) pairs: Vec<(Value, Value)>,
    pub(super) overflowed: bool,
}

impl Entries {
    pub(super) fn heap_bytes(&self) -> usize {
        self.pairs
            .len()
            .saturating_mul(std::mem::size_of::<(Value, Value)>())
    }

    pub(super) fn push(&mut self, key: Value, value: Value) {
        if self.pairs.len() < MAX_ENTRIES {
            self.pairs.push((key, value));
        } else {
            self.overflowed = true;
        }
    }
}

/// Containers keep this many entries; the scan only looks inside small ones.
pub(super) const MAX_ENTRIES: usize = 4096;

/// What one memo entry costs the scan: its key and value in the map, with room to spare.
pub(super) const MEMO_ENTRY_BYTES: usize = 32;

pub(super) struct Arena {
    nodes: Vec<Node>,
    max: usize,
    /// Bytes held for this pickle: nodes, what they contain, memo entries and
    /// imported names. Counting items (not opcodes) is what bounds memory: a
    /// few megabytes of `NONE` opcodes closed into tuples, or a few strings of
    /// a megabyte each, hold far more than the opcodes cost to walk.
    held: usize,
    max_held: usize,
}

impl Arena {
    pub(super) fn new(max_values: usize, max_bytes: usize) -> Self {
        Arena {
            nodes: Vec::new(),
            max: max_values,
            held: 0,
            max_held: max_bytes,
        }
    }

    /// Whether a cap of the arena (values or bytes) is what stopped the scan.
    pub(super) fn is_full(&self) -> bool {
        self.nodes.len() >= self.max || self.held > self.max_held
    }

    /// Counts `bytes` more held for this pickle; past the limit the scan stops.
    pub(super) fn hold(&mut self, bytes: usize) -> Result<(), String> {
        self.held = self.held.saturating_add(bytes);
        if self.held > self.max_held {
            return Err(format!(
                "pickle holds more than {} MiB of values (strings, containers, memo, imported names)",
                self.max_held >> 20
            ));
        }
        Ok(())
    }

    pub(super) fn add(&mut self, node: Node) -> Result<Value, String> {
        if self.nodes.len() >= self.max {
            return Err(format!("pickle builds more than {} values", self.max));
        }
        self.hold(std::mem::size_of::<Node>().saturating_add(node.heap_bytes()))?;
        let index = self.nodes.len();
        self.nodes.push(node);
        Ok(Value::Node(index as u32))
    }

    pub(super) fn get(&self, v: Value) -> Option<&Node> {
        match v {
            Value::Node(i) => self.nodes.get(i as usize),
            _ => None,
        }
    }

    pub(super) fn str(&self, v: Value) -> Option<&str> {
        match self.get(v) {
            Some(Node::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub(super) fn class_of(&self, v: Value) -> Option<&str> {
        match self.get(v) {
            Some(Node::Global(g)) => Some(g),
            _ => None,
        }
    }
}

pub(super) fn arena_mut(arena: &mut Arena, v: Value) -> Option<&mut Node> {
    match v {
        Value::Node(i) => arena.nodes.get_mut(i as usize),
        _ => None,
    }
}

pub(super) fn instantiate(
    arena: &mut Arena,
    callable: Value,
    args: Value,
) -> Result<Value, String> {
    let class = arena.class_of(callable).map(str::to_owned);
    arena.add(Node::Object {
        class,
        args,
        state: Entries::default(),
        setstate: Value::None,
    })
}

pub(super) fn pop(stack: &mut Vec<Value>) -> Result<Value, String> {
    match stack.pop() {
        Some(Value::Mark) | None => Err("pickle pops past its stack".into()),
        Some(v) => Ok(v),
    }
}

pub(super) fn pop_to_mark(stack: &mut Vec<Value>) -> Result<Vec<Value>, String> {
    let mark = stack
        .iter()
        .rposition(|v| *v == Value::Mark)
        .ok_or("pickle has no MARK to pop to")?;
    // Everything above the mark, and the mark itself off the stack.
    let items = stack.drain(mark..).skip(1).collect();
    Ok(items)
}
