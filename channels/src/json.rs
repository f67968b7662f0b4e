//! A small JSON reader that keeps numbers as their text, so an amount such as `89.90`
//! or `0.1` becomes a `Decimal` without ever passing through a float, and ids above
//! 2^53 stay exact.
//!
//! `serde_json` would lose both unless its `arbitrary_precision` feature were on, and
//! that feature is workspace-wide (Cargo unifies features) and changes how the core's
//! untagged readers see numbers. So the adapters read through this tree instead, and
//! every accessor knows the JSON path it stands on, for errors.
//!
//! The tree is flat: one vector of nodes in document order, a container followed by
//! its descendants and knowing where they end, so a document costs one vector of
//! nodes, one of object members and one string for every escaped text together,
//! however many objects it holds. A node's texts are ranges of the input (or of that
//! string), so the vectors borrow nothing: dropping a document hands them back to its
//! thread for the next one, and reading documents one after another allocates nothing
//! for the tree.
//!
//! Limits: nesting at most [`MAX_DEPTH`] levels; a duplicated key keeps its last value
//! (as `serde_json` does), which is what Trendyol's published samples need.
//!
//! ```
//! use ordersmith_channels::json::{At, Json, Value};
//!
//! let doc = Json::parse(br#"{"total": "89.90", "lines": [{"qty": 2}, {"qty": 1}]}"#)?;
//! let root = At::root(&doc, "example");
//! assert_eq!(root.req("total")?.decimal()?.to_string(), "89.90");
//! let lines = root.list("lines")?;
//! assert_eq!(lines.len(), 2);
//! let second = lines.clone().nth(1).ok_or("no second line")?;
//! assert_eq!(second.req("qty")?.quantity()?, 1);
//! assert_eq!(second.req("qty")?.path(), "$.lines[1].qty");
//! assert_eq!(root.get("missing").map(|a| a.value()), None::<Value<'_>>);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use ordersmith::money::Currency;
use rust_decimal::Decimal;

use crate::error::ChannelError;

/// Deepest nesting read; deeper input is refused rather than recursed into.
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON document with numbers kept as text: read it through [`At`].
///
/// Its buffers are handed back to the thread when it is dropped and the next document
/// read on that thread reuses them, so reading documents one after another allocates
/// nothing for the tree once the first has been read (a buffer grown past a large
/// document's size is freed instead of kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json<'s> {
    /// The document's text: numbers and strings without escapes are ranges of it.
    input: &'s str,
    bufs: Buffers,
}

/// The vectors a document is read into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Buffers {
    /// Every value and key in document order; the root is the first.
    nodes: Vec<Node>,
    /// Every object's members, each object's together and in input order: a member
    /// is found without stepping over the values before it.
    members: Vec<Member>,
    /// Scratch while reading: the members of the objects being read, innermost last;
    /// an object's are moved to `members` when it closes.
    keys: Vec<Member>,
    /// The unescaped text of every string and key that had escapes, one after another.
    escaped: String,
}

/// Buffers kept for reuse past this size are freed instead (about 1 MiB of nodes).
const KEEP_NODES: usize = 1 << 16;

thread_local! {
    /// The buffers of the last document dropped on this thread, for the next one.
    static SPARE: std::cell::Cell<Option<Buffers>> = const { std::cell::Cell::new(None) };
}

impl Buffers {
    /// This thread's spare buffers (empty), or new ones.
    fn take() -> Buffers {
        SPARE
            .try_with(|s| s.take())
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Empties the buffers and keeps them for the next document on this thread,
    /// unless one is kept already or they grew large.
    fn give_back(mut self) {
        if self.nodes.capacity() > KEEP_NODES
            || self.members.capacity() > KEEP_NODES
            || self.keys.capacity() > KEEP_NODES
            || self.escaped.capacity() > KEEP_NODES * 16
        {
            return;
        }
        self.nodes.clear();
        self.members.clear();
        self.keys.clear();
        self.escaped.clear();
        // During the thread's teardown there is nowhere to keep them: freed.
        let _ = SPARE.try_with(move |s| {
            let kept = s.take().unwrap_or(self);
            s.set(Some(kept));
        });
    }
}

impl Drop for Json<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.bufs).give_back();
    }
}

/// An object's member as [`Json`] lists it: its key's position (the value follows it)
/// and where the key's text is, so a lookup compares keys without visiting nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Member {
    /// The key's position.
    at: u32,
    /// The key's text: `input[start..end]`, or `escaped[start..end]` when `escaped`.
    start: u32,
    end: u32,
    escaped: bool,
}

/// One value (or an object's key) of a [`Json`] document. Texts are ranges, so the
/// node borrows nothing and the vectors holding nodes can serve the next document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Null,
    Bool(bool),
    /// A number, exactly as written: `input[start..end]`.
    Number {
        start: u32,
        end: u32,
    },
    /// A string or key without escapes: `input[start..end]`.
    Str {
        start: u32,
        end: u32,
    },
    /// A string or key with escapes: its text is `escaped[start..end]`.
    Escaped {
        start: u32,
        end: u32,
    },
    /// An array of `len` items: they and their descendants are the nodes after it, up
    /// to (not including) `end`.
    Array {
        len: u32,
        end: u32,
    },
    /// An object of `len` members, each a key node followed by its value's nodes; the
    /// members end before `end`. Its keys' positions are `members[first..first + len]`.
    Object {
        first: u32,
        len: u32,
        end: u32,
    },
}

/// What a value is, borrowed from its document: the view [`At::value`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, exactly as written.
    Number(&'a str),
    /// A string, unescaped.
    String(&'a str),
    /// An array of this many items ([`At::array`] reads them).
    Array(usize),
    /// An object of this many members, duplicates counted ([`At::members`] reads them).
    Object(usize),
}

/// Where and why reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed JSON at byte {offset}: {reason}")]
pub struct SyntaxError {
    /// Byte offset.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl<'s> Json<'s> {
    /// Reads a whole document; trailing non-whitespace is an error.
    pub fn parse(bytes: &'s [u8]) -> Result<Json<'s>, SyntaxError> {
        // Node positions are kept in `u32`s; every node takes at least one byte.
        if u32::try_from(bytes.len()).is_err() {
            return Err(SyntaxError {
                offset: 0,
                reason: "document larger than 4 GiB",
            });
        }
        // Outside strings only ASCII is valid JSON, so checking the whole input once
        // lets every unescaped string borrow from it.
        let text = std::str::from_utf8(bytes).map_err(|e| SyntaxError {
            offset: e.valid_up_to(),
            reason: "invalid UTF-8",
        })?;
        let mut bufs = Buffers::take();
        // About one node per 10 to 13 bytes in the channels' pretty-printed payloads
        // and fewer bytes in compact ones: most documents need no regrowth (and a
        // reused buffer none at all). An object member per 20 to 28 bytes.
        bufs.nodes.reserve(bytes.len() / 8 + 4);
        bufs.members.reserve(bytes.len() / 16 + 4);
        let mut p = Parser {
            b: bytes,
            text,
            i: 0,
            bufs,
        };
        let read = p.document();
        match read {
            Ok(()) => Ok(Json {
                input: text,
                bufs: p.bufs,
            }),
            Err(e) => {
                p.bufs.give_back();
                Err(e)
            }
        }
    }

    /// The value written back as compact JSON the way JavaScript's `JSON.stringify`
    /// writes what `JSON.parse` read: no whitespace, keys in input order (a duplicated
    /// key once, where it first appeared, with its last value), strings escaping only
    /// `"`, `\\` and control characters. Numbers keep their text as written (JavaScript
    /// would rewrite `1.50` as `1.5`). eBay's official SDKs verify notification
    /// signatures over this form.
    pub fn to_compact(&self) -> String {
        let mut out = String::with_capacity(self.bufs.nodes.len() * 8);
        self.write_compact(0, &mut out);
        out
    }

    fn write_compact(&self, i: u32, out: &mut String) {
        fn string(s: &str, out: &mut String) {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        match self.node(i) {
            Node::Null => out.push_str("null"),
            Node::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Node::Number { .. } => out.push_str(self.text(i)),
            Node::Str { .. } | Node::Escaped { .. } => string(self.text(i), out),
            Node::Array { .. } => {
                out.push('[');
                for (k, item) in self.children(i).enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    self.write_compact(item, out);
                }
                out.push(']');
            }
            Node::Object { .. } => {
                // A key written once, at its first place, with its last value.
                let members: Vec<(&str, u32)> = self
                    .members_of(i)
                    .map(|(key, value)| (self.text(key), value))
                    .collect();
                let last: std::collections::HashMap<&str, u32> = members.iter().copied().collect();
                let mut written = std::collections::HashSet::new();
                out.push('{');
                for (key, _) in &members {
                    if !written.insert(*key) {
                        continue;
                    }
                    if written.len() > 1 {
                        out.push(',');
                    }
                    string(key, out);
                    out.push(':');
                    self.write_compact(last.get(key).copied().unwrap_or(u32::MAX), out);
                }
                out.push('}');
            }
        }
    }

    /// Node `i` (`Null` past the end, which no position handed out reaches).
    #[inline]
    fn node(&self, i: u32) -> Node {
        self.bufs
            .nodes
            .get(i as usize)
            .copied()
            .unwrap_or(Node::Null)
    }

    /// The position after node `i` and its descendants.
    #[inline]
    fn end_of(&self, i: u32) -> u32 {
        match self.node(i) {
            Node::Array { end, .. } | Node::Object { end, .. } => end,
            _ => i.saturating_add(1),
        }
    }

    /// The text of string, key or number node `i` (empty for other nodes).
    #[inline]
    fn text(&self, i: u32) -> &str {
        match self.node(i) {
            Node::Str { start, end } | Node::Number { start, end } => self
                .input
                .get(start as usize..end as usize)
                .unwrap_or_default(),
            Node::Escaped { start, end } => self.escaped(start, end),
            _ => "",
        }
    }

    /// `escaped[start..end]`.
    fn escaped(&self, start: u32, end: u32) -> &str {
        self.bufs
            .escaped
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// The text of member `m`'s key.
    #[inline]
    fn key(&self, m: &Member) -> &str {
        if m.escaped {
            self.escaped(m.start, m.end)
        } else {
            self.input
                .get(m.start as usize..m.end as usize)
                .unwrap_or_default()
        }
    }

    /// Array `i`'s items (none for other nodes), read as `channel`.
    fn items(&self, i: u32, channel: &'static str) -> Items<'_> {
        let left = match self.node(i) {
            Node::Array { len, .. } => len,
            _ => 0,
        };
        Items {
            doc: self,
            next: i.saturating_add(1),
            left,
            channel,
        }
    }

    /// The positions of array `i`'s items (none for other nodes).
    fn children(&self, i: u32) -> impl Iterator<Item = u32> + '_ {
        self.items(i, "").map(|item| item.i)
    }

    /// Object `i`'s members, in input order (none for other nodes).
    #[inline]
    fn keys_of(&self, i: u32) -> &[Member] {
        match self.node(i) {
            Node::Object { first, len, .. } => self
                .bufs
                .members
                .get(first as usize..first as usize + len as usize)
                .unwrap_or_default(),
            _ => &[],
        }
    }

    /// The positions of object `i`'s members, each a key and its value (none for other
    /// nodes).
    fn members_of(&self, i: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.keys_of(i)
            .iter()
            .map(|m| (m.at, m.at.saturating_add(1)))
    }
}

/// A position as a node keeps it. Every count and offset of a document is at most its
/// input's length, which was checked to fit a `u32` (unescaping never lengthens text).
fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

struct Parser<'s> {
    b: &'s [u8],
    text: &'s str,
    i: usize,
    bufs: Buffers,
}

impl<'s> Parser<'s> {
    /// Reads the whole input as one value.
    fn document(&mut self) -> Result<(), SyntaxError> {
        self.ws();
        self.value(0)?;
        self.ws();
        if self.i != self.b.len() {
            return Err(self.err("trailing characters after the document"));
        }
        Ok(())
    }

    fn err(&self, reason: &'static str) -> SyntaxError {
        SyntaxError {
            offset: self.i,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &'static [u8], v: Node) -> Result<(), SyntaxError> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            self.bufs.nodes.push(v);
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    /// Reads one value, pushing its nodes.
    fn value(&mut self, depth: usize) -> Result<(), SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => {
                let s = self.string()?;
                self.bufs.nodes.push(s);
                Ok(())
            }
            Some(b't') => self.literal(b"true", Node::Bool(true)),
            Some(b'f') => self.literal(b"false", Node::Bool(false)),
            Some(b'n') => self.literal(b"null", Node::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    /// The position the next node will take. Every node consumed at least one byte of
    /// an input checked to fit a `u32`, so this fits too.
    fn position(&self) -> u32 {
        offset(self.bufs.nodes.len())
    }

    /// Sets the array pushed at `at` once its `len` items are read.
    fn close_array(&mut self, at: u32, len: u32) {
        let end = self.position();
        if let Some(Node::Array { len: l, end: e }) = self.bufs.nodes.get_mut(at as usize) {
            (*l, *e) = (len, end);
        }
    }

    /// Sets the object pushed at `at` once its members are read, their keys' positions
    /// being `keys[mark..]`.
    fn close_object(&mut self, at: u32, mark: usize) {
        let end = self.position();
        let first = offset(self.bufs.members.len());
        let own = self.bufs.keys.get(mark..).unwrap_or_default();
        let len = offset(own.len());
        self.bufs.members.extend_from_slice(own);
        self.bufs.keys.truncate(mark);
        if let Some(Node::Object {
            first: f,
            len: l,
            end: e,
        }) = self.bufs.nodes.get_mut(at as usize)
        {
            (*f, *l, *e) = (first, len, end);
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), SyntaxError> {
        self.i += 1;
        let at = self.position();
        self.bufs.nodes.push(Node::Object {
            first: 0,
            len: 0,
            end: 0,
        });
        let mark = self.bufs.keys.len();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.close_object(at, mark);
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a key"));
            }
            let key = self.string()?;
            let key_at = self.position();
            let (start, end, escaped) = match key {
                Node::Str { start, end } => (start, end, false),
                Node::Escaped { start, end } => (start, end, true),
                _ => (0, 0, false),
            };
            self.bufs.keys.push(Member {
                at: key_at,
                start,
                end,
                escaped,
            });
            self.bufs.nodes.push(key);
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.ws();
            self.value(depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.close_object(at, mark);
                    return Ok(());
                }
                None => return Err(self.err("unexpected end of input")),
                Some(_) => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), SyntaxError> {
        self.i += 1;
        let at = self.position();
        self.bufs.nodes.push(Node::Array { len: 0, end: 0 });
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.close_array(at, 0);
            return Ok(());
        }
        let mut len = 0u32;
        loop {
            self.ws();
            self.value(depth + 1)?;
            len += 1;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.close_array(at, len);
                    return Ok(());
                }
                None => return Err(self.err("unexpected end of input")),
                Some(_) => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while let Some(b'0'..=b'9') = p.peek() {
                p.i += 1;
            }
            p.i - s
        };
        let first = self.peek();
        let n = digits(self);
        if n == 0 {
            return Err(self.err("expected a digit"));
        }
        if first == Some(b'0') && n > 1 {
            return Err(self.err("leading zero in a number"));
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(self.err("expected a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("expected an exponent"));
            }
        }
        // Only ASCII digits, signs, '.' and 'e' were consumed: a char boundary.
        self.bufs.nodes.push(Node::Number {
            start: offset(start),
            end: offset(self.i),
        });
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    /// Reads a string (or key): borrowed from the input when it has no escape, else
    /// unescaped onto the document's `escaped` text.
    fn string(&mut self) -> Result<Node, SyntaxError> {
        self.i += 1;
        let begin = self.i;
        self.i = plain_run(self.b, self.i);
        if self.peek() == Some(b'"') {
            // No escape: a range of the input (valid UTF-8, and '"' is a boundary).
            let node = Node::Str {
                start: offset(begin),
                end: offset(self.i),
            };
            self.i += 1;
            return Ok(node);
        }
        // Unescaping never lengthens text, so positions in `escaped` fit a `u32` as
        // the input's do.
        let start = offset(self.bufs.escaped.len());
        self.i = begin;
        loop {
            let run = self.i;
            self.i = plain_run(self.b, self.i);
            // Runs stop only at ASCII bytes, so they are whole UTF-8 text.
            self.bufs
                .escaped
                .push_str(self.text.get(run..self.i).unwrap_or_default());
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Node::Escaped {
                        start,
                        end: offset(self.bufs.escaped.len()),
                    });
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    let ch = match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code)
                                .ok_or_else(|| self.err("lone surrogate in \\u escape"))?
                        }
                        _ => return Err(self.err("invalid escape")),
                    };
                    self.bufs.escaped.push(ch);
                }
                Some(_) => return Err(self.err("control character in a string")),
            }
        }
    }
}

/// The index of the first byte at or after `from` that ends a run of plain string
/// text: a quote, a backslash or a control byte (`b.len()` when there is none).
///
/// Eight bytes at a time: for a word `x`, `(x - 0x01…) & !x & 0x80…` has the high bit of
/// each zero byte set, exactly for the lowest one (a borrow only runs upwards, so bytes
/// above a hit may be flagged falsely, never bytes below it). Quotes and backslashes
/// become zero bytes by XOR; bytes below 0x20 are caught by subtracting 0x20 instead.
/// So the lowest flagged byte is the first stop, found with a handful of operations
/// per eight bytes instead of three compares per byte.
fn plain_run(b: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTE: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASH: u64 = u64::from_ne_bytes([b'\\'; 8]);
    const SPACE: u64 = u64::from_ne_bytes([0x20; 8]);
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let zero = |y: u64| y.wrapping_sub(ONES) & !y & HIGH;
        let stops = zero(x ^ QUOTE) | zero(x ^ BACKSLASH) | (x.wrapping_sub(SPACE) & !x & HIGH);
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// A value being read, with its document and channel, so every error names both.
///
/// Descending costs nothing: an `At` is its document and a position in it, and the
/// path is not kept as the reader goes down (a linked list of steps cost an allocation
/// per member read, a fifth of a parse). An error finds it instead, by walking from
/// the root to the position: every container knows where its descendants end.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    doc: &'a Json<'a>,
    /// The value's position in `doc`.
    i: u32,
    /// The channel's name, for errors.
    pub channel: &'static str,
}

/// The items of an array (or the one value a reader treats as a list of one), read
/// in order: [`At::array`], [`At::list`], [`Items::one`]. Copying it is free; nothing
/// is collected.
#[derive(Debug, Clone, Copy)]
pub struct Items<'a> {
    doc: &'a Json<'a>,
    next: u32,
    left: u32,
    channel: &'static str,
}

impl<'a> Items<'a> {
    /// `at` alone, as a list of one: for payloads that hold either one record or an
    /// array of them.
    pub fn one(at: At<'a>) -> Self {
        Items {
            doc: at.doc,
            next: at.i,
            left: 1,
            channel: at.channel,
        }
    }

    /// The first item, if any.
    pub fn first(&self) -> Option<At<'a>> {
        let mut copy = *self;
        copy.next()
    }

    /// Whether there are no (more) items.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }
}

/// Reading `&items` reads a copy: the list can be read again afterwards.
impl<'a> IntoIterator for &Items<'a> {
    type Item = At<'a>;
    type IntoIter = Items<'a>;

    fn into_iter(self) -> Items<'a> {
        *self
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = At<'a>;

    fn next(&mut self) -> Option<At<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let i = self.next;
        self.next = self.doc.end_of(i);
        Some(At {
            doc: self.doc,
            i,
            channel: self.channel,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Items<'_> {}

/// Longest text copied into an error.
const ERR_TEXT: usize = 40;

fn clip(s: &str) -> String {
    s.chars().take(ERR_TEXT).collect()
}

impl<'a> At<'a> {
    /// The document root.
    pub fn root(doc: &'a Json<'a>, channel: &'static str) -> Self {
        At { doc, i: 0, channel }
    }

    fn child(&self, i: u32) -> At<'a> {
        At {
            doc: self.doc,
            i,
            channel: self.channel,
        }
    }

    /// What the value is.
    pub fn value(&self) -> Value<'a> {
        let doc: &'a Json<'a> = self.doc;
        match doc.node(self.i) {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Number { .. } => Value::Number(doc.text(self.i)),
            Node::Str { .. } | Node::Escaped { .. } => Value::String(doc.text(self.i)),
            Node::Array { len, .. } => Value::Array(len as usize),
            Node::Object { len, .. } => Value::Object(len as usize),
        }
    }

    /// Its JSON path (`$.line_items[0].price`).
    pub fn path(&self) -> String {
        let mut out = String::from("$");
        let doc = self.doc;
        let mut at = 0u32;
        // Down from the root through the one child whose nodes hold the target.
        while at != self.i {
            let holds = |v: u32| v <= self.i && self.i < doc.end_of(v);
            let step = match doc.node(at) {
                Node::Array { .. } => {
                    doc.children(at)
                        .enumerate()
                        .find(|&(_, v)| holds(v))
                        .map(|(k, v)| {
                            out.push('[');
                            out.push_str(&k.to_string());
                            out.push(']');
                            v
                        })
                }
                Node::Object { .. } => doc.members_of(at).find(|&(_, v)| holds(v)).map(|(k, v)| {
                    out.push('.');
                    out.push_str(doc.text(k));
                    v
                }),
                _ => None,
            };
            // Each step goes down (a child comes after its parent): the walk ends.
            match step {
                Some(v) if v > at => at = v,
                _ => break,
            }
        }
        out
    }

    /// A path below this one, for errors about a derived figure.
    pub fn sub(&self, key: &str) -> String {
        [&self.path(), ".", key].concat()
    }

    /// The member `key`, `None` when absent or null.
    #[inline]
    pub fn get(&self, key: &str) -> Option<At<'a>> {
        let doc = self.doc;
        // The last of duplicated keys wins: looked for from the end.
        let found =
            doc.keys_of(self.i).iter().rev().find(|m| {
                m.end.saturating_sub(m.start) as usize == key.len() && doc.key(m) == key
            })?;
        let value = found.at.saturating_add(1);
        match doc.node(value) {
            Node::Null => None,
            _ => Some(self.child(value)),
        }
    }

    /// The members of an object in input order, each key with its value (a duplicated
    /// key appears each time it was written); none for other values.
    pub fn members(&self) -> impl Iterator<Item = (&'a str, At<'a>)> + 'a {
        let doc: &'a Json<'a> = self.doc;
        let channel = self.channel;
        doc.members_of(self.i)
            .map(move |(k, v)| (doc.text(k), At { doc, i: v, channel }))
    }

    /// The first present member among `keys` (new name first, then old names).
    pub fn first(&self, keys: &[&str]) -> Option<At<'a>> {
        keys.iter().find_map(|k| self.get(k))
    }

    /// The member `key`, required.
    pub fn req(&self, key: &str) -> Result<At<'a>, ChannelError> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    /// The first present member among `keys`, required (the error names the first).
    pub fn req_any(&self, keys: &[&str]) -> Result<At<'a>, ChannelError> {
        self.first(keys)
            .ok_or_else(|| self.missing(keys.first().copied().unwrap_or("?")))
    }

    /// The error for a missing member.
    pub fn missing(&self, key: &str) -> ChannelError {
        ChannelError::MissingField {
            channel: self.channel,
            path: self.sub(key),
        }
    }

    /// The error for a value of the wrong type.
    pub fn wrong(&self, expected: &'static str) -> ChannelError {
        ChannelError::WrongType {
            channel: self.channel,
            path: self.path(),
            expected,
        }
    }

    /// The items of an array.
    pub fn array(&self) -> Result<Items<'a>, ChannelError> {
        match self.value() {
            Value::Array(_) => Ok(self.doc.items(self.i, self.channel)),
            _ => Err(self.wrong("an array")),
        }
    }

    /// The items of an optional array member (none when absent or null).
    pub fn list(&self, key: &str) -> Result<Items<'a>, ChannelError> {
        match self.get(key) {
            Some(a) => a.array(),
            // Absent or null: no items.
            None => Ok(Items {
                left: 0,
                ..Items::one(*self)
            }),
        }
    }

    /// A string.
    pub fn str(&self) -> Result<&'a str, ChannelError> {
        match self.value() {
            Value::String(s) => Ok(s),
            _ => Err(self.wrong("a string")),
        }
    }

    /// A boolean.
    pub fn bool(&self) -> Result<bool, ChannelError> {
        match self.value() {
            Value::Bool(b) => Ok(b),
            _ => Err(self.wrong("a boolean")),
        }
    }

    /// An identifier given as a string or an integer (ids above 2^53 stay exact).
    pub fn id_text(&self) -> Result<String, ChannelError> {
        self.id_str().map(str::to_string)
    }

    /// [`At::id_text`]'s identifier, borrowed from the document: for a reader that only
    /// compares or groups by it (the same checks, no copy).
    pub fn id_str(&self) -> Result<&'a str, ChannelError> {
        let raw: &'a str = match self.value() {
            Value::String(s) => s,
            Value::Number(n) if n.bytes().all(|b| b.is_ascii_digit() || b == b'-') => n,
            _ => return Err(self.wrong("an identifier (string or integer)")),
        };
        let bad = |reason: &str| ChannelError::InvalidId {
            channel: self.channel,
            path: self.path(),
            reason: reason.to_string(),
        };
        let text = raw.trim();
        if text.is_empty() {
            return Err(bad("empty"));
        }
        if raw.len() > 200 {
            return Err(bad("longer than 200 bytes"));
        }
        // Checked before trimming: a line break around an id is a control character.
        let control = if raw.is_ascii() {
            raw.bytes().any(|b| b.is_ascii_control())
        } else {
            raw.chars().any(char::is_control)
        };
        if control {
            return Err(bad("contains a control character"));
        }
        Ok(text)
    }

    /// Optional text (`None` when absent, null or empty), numbers given as text.
    pub fn opt_text(&self, key: &str) -> Result<Option<String>, ChannelError> {
        match self.get(key) {
            None => Ok(None),
            Some(a) => a.text_or_none(),
        }
    }

    /// This value read as [`At::opt_text`] reads a member: a blank string is `None`,
    /// a string or an integer is its text ([`At::id_text`]'s checks), anything else an
    /// error. For a reader that found the member itself (one pass over a record).
    pub fn text_or_none(&self) -> Result<Option<String>, ChannelError> {
        match self.value() {
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(_) | Value::Number(_) => self.id_text().map(Some),
            _ => Err(self.wrong("a string")),
        }
    }

    /// The first of `keys` with text ([`At::opt_text`]'s reading: a newer field name
    /// before an older one), each looked up only if those before it had none: a later
    /// key is not read, so its type is not checked, once an earlier one gave text.
    pub fn opt_text_first(&self, keys: &[&str]) -> Result<Option<String>, ChannelError> {
        for key in keys {
            if let Some(text) = self.opt_text(key)? {
                return Ok(Some(text));
            }
        }
        Ok(None)
    }

    /// A decimal from a JSON string or number, exactly as written (never via a float).
    pub fn decimal(&self) -> Result<Decimal, ChannelError> {
        let text = match self.value() {
            Value::String(s) => s.trim(),
            Value::Number(n) => n,
            _ => return Err(self.wrong("an amount (string or number)")),
        };
        parse_decimal_text(text).ok_or_else(|| ChannelError::InvalidAmount {
            channel: self.channel,
            path: self.path(),
            text: clip(text),
        })
    }

    /// An amount in `currency`: refused if it has more decimals than the currency
    /// (trailing zeros do not count: `"10.500"` is fine for TRY).
    pub fn money(&self, currency: Currency) -> Result<Decimal, ChannelError> {
        let d = self.decimal()?;
        fit(d, currency, self)
    }

    /// A price or line amount in `currency`: like [`At::money`], and never negative.
    pub fn price(&self, currency: Currency) -> Result<Decimal, ChannelError> {
        let d = self.money(currency)?;
        if d.is_sign_negative() && !d.is_zero() {
            return Err(ChannelError::InvalidAmount {
                channel: self.channel,
                path: self.path(),
                text: format!("negative price {d}"),
            });
        }
        Ok(d)
    }

    /// An optional amount member in `currency`.
    pub fn opt_money(
        &self,
        key: &str,
        currency: Currency,
    ) -> Result<Option<Decimal>, ChannelError> {
        self.get(key).map(|a| a.money(currency)).transpose()
    }

    /// A currency code.
    pub fn currency(&self) -> Result<Currency, ChannelError> {
        let code = self.str()?;
        Currency::parse(code.trim()).map_err(|_| ChannelError::UnknownCurrency {
            channel: self.channel,
            path: self.path(),
            code: clip(code),
        })
    }

    /// A count of units: a non-negative integer (string or number) below 2^32.
    pub fn quantity(&self) -> Result<u32, ChannelError> {
        let text = match self.value() {
            Value::String(s) => s.trim(),
            Value::Number(n) => n,
            _ => return Err(self.wrong("a quantity (integer)")),
        };
        let bad = |reason| ChannelError::InvalidQuantity {
            channel: self.channel,
            path: self.path(),
            text: clip(text),
            reason,
        };
        let d = parse_decimal_text(text).ok_or_else(|| bad("not a number"))?;
        if d.is_sign_negative() && !d.is_zero() {
            return Err(bad("negative"));
        }
        if !d.fract().is_zero() {
            return Err(bad("fractional"));
        }
        u32::try_from(d.trunc().mantissa() / 10i128.pow(d.trunc().scale()))
            .map_err(|_| bad("too large"))
    }

    /// An RFC 3339 time with an offset (`Z` or `±hh:mm`), in UTC.
    pub fn time_rfc3339(&self) -> Result<DateTime<Utc>, ChannelError> {
        let s = self.str()?;
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| self.bad_time(s))
    }

    /// A time without a zone that the channel documents as UTC (WooCommerce `*_gmt`);
    /// a time with an offset is accepted too.
    pub fn time_naive_utc(&self) -> Result<DateTime<Utc>, ChannelError> {
        let s = self.str()?.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.with_timezone(&Utc));
        }
        naive(s)
            .map(|n| Utc.from_utc_datetime(&n))
            .ok_or_else(|| self.bad_time(s))
    }

    /// Milliseconds since the Unix epoch (a JSON integer or integer string).
    pub fn time_epoch_ms(&self) -> Result<DateTime<Utc>, ChannelError> {
        let text = match self.value() {
            Value::Number(n) => n,
            Value::String(s) => s.trim(),
            _ => return Err(self.wrong("epoch milliseconds (integer)")),
        };
        text.parse::<i64>()
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_millis)
            .ok_or_else(|| self.bad_time(text))
    }

    /// The error for an unreadable time.
    pub fn bad_time(&self, text: &str) -> ChannelError {
        ChannelError::InvalidTime {
            channel: self.channel,
            path: self.path(),
            text: clip(text),
        }
    }

    /// What this value is, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.value() {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// The date-time shapes [`naive`] reads, in the order it tries them.
const NAIVE_FORMATS: [&str; 3] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
];

/// A naive date-time in the shapes channels send: `T` or space, optional fraction of
/// up to 9 digits (Hepsiburada sends 7), or a bare date.
pub fn naive(s: &str) -> Option<NaiveDateTime> {
    // What `NaiveDateTime::parse_from_str` does for each format, with the formats read
    // into items once instead of on every call (a third of reading a time).
    static SHAPES: std::sync::OnceLock<Vec<Vec<Item<'static>>>> = std::sync::OnceLock::new();
    let shapes = SHAPES.get_or_init(|| {
        NAIVE_FORMATS
            .iter()
            .filter_map(|fmt| StrftimeItems::new(fmt).parse().ok())
            .collect()
    });
    for items in shapes {
        let mut parsed = Parsed::new();
        if chrono::format::parse(&mut parsed, s, items.iter()).is_ok() {
            if let Ok(t) = parsed.to_naive_datetime_with_offset(0) {
                return Some(t);
            }
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// `amount` checked against `currency`'s minor units, with trailing zeros dropped.
pub fn fit(amount: Decimal, currency: Currency, at: &At<'_>) -> Result<Decimal, ChannelError> {
    let n = amount.normalize();
    if n.scale() > currency.minor_units() {
        return Err(ChannelError::TooPrecise {
            channel: at.channel,
            path: at.path(),
            amount: amount.to_string(),
            currency: currency.code().to_string(),
            minor_units: currency.minor_units(),
        });
    }
    Ok(n)
}

/// A decimal from JSON number text or a plain decimal string: digits with an optional
/// sign, fraction and exponent. Never through a float.
pub fn parse_decimal_text(text: &str) -> Option<Decimal> {
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let ok = body.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if !ok {
        return None;
    }
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        text.parse::<Decimal>().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text() {
        let j = Json::parse(br#"{"a": 0.1, "b": 5160000000000012345, "c": -1.5e2}"#).unwrap();
        let root = At::root(&j, "test");
        assert_eq!(root.req("a").unwrap().value(), Value::Number("0.1"));
        assert_eq!(root.req("a").unwrap().decimal().unwrap().to_string(), "0.1");
        assert_eq!(
            root.req("b").unwrap().id_text().unwrap(),
            "5160000000000012345"
        );
        assert_eq!(
            root.req("c").unwrap().decimal().unwrap(),
            Decimal::from(-150)
        );
    }

    #[test]
    fn syntax_errors_say_where() {
        for (bad, offset) in [
            (&b"{\"a\": 1,"[..], 8),
            (b"[1 2]", 3),
            (b"{\"a\" 1}", 5),
            (b"01", 2),
            (b"\"\\ud800\"", 7),
            (b"{} x", 3),
            (b"", 0),
        ] {
            let e = Json::parse(bad).unwrap_err();
            assert_eq!(e.offset, offset, "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(
            Json::parse(deep.as_bytes()).unwrap_err().reason,
            "nesting too deep"
        );
    }

    #[test]
    fn strings_unescape() {
        let j = Json::parse(br#""a\"b\u00e7\ud83d\ude00\n""#).unwrap();
        assert_eq!(
            At::root(&j, "t").value(),
            Value::String("a\"b\u{e7}\u{1F600}\n")
        );
        // Keys unescape too, and an escaped text beside a plain one keeps both apart.
        let j = Json::parse(br#"{"k\u0065y": "v\n", "plain": "w", "a\/b": ["\t", "x"]}"#).unwrap();
        let r = At::root(&j, "t");
        assert_eq!(r.req("key").unwrap().str().unwrap(), "v\n");
        assert_eq!(r.req("plain").unwrap().str().unwrap(), "w");
        let items: Vec<&str> = r.list("a/b").unwrap().map(|a| a.str().unwrap()).collect();
        assert_eq!(items, ["\t", "x"]);
        assert!(Json::parse(b"\"\xff\"").is_err());
        assert!(Json::parse(b"\"a\x01\"").is_err());
    }

    proptest::proptest! {
        // The word-at-a-time scan stops where a byte-at-a-time one would, wherever the
        // stop falls in a word and whatever bytes (UTF-8 or not) come before it.
        #[test]
        fn the_word_scan_stops_where_the_byte_scan_does(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::num::u8::ANY,
                    proptest::sample::select(vec![b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xa2, 0xdc]),
                    proptest::sample::select(vec![b'a', b'z', b' ']),
                ],
                0..40,
            ),
            from in 0usize..12,
        ) {
            let from = from.min(bytes.len());
            let naive = bytes
                .iter()
                .skip(from)
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .map_or(bytes.len(), |k| from + k);
            proptest::prop_assert_eq!(plain_run(&bytes, from), naive);
        }
    }

    /// A JSON value as the tests build it, independent of the reader's flat tree.
    #[derive(Debug, Clone, PartialEq)]
    enum Model {
        Null,
        Bool(bool),
        Num(String),
        Str(String),
        Arr(Vec<Model>),
        Obj(Vec<(String, Model)>),
    }

    fn model() -> impl proptest::strategy::Strategy<Value = Model> {
        use proptest::prelude::*;
        let text = proptest::collection::vec(
            prop_oneof![
                proptest::char::any(),
                proptest::sample::select(vec!['"', '\\', '\n', '\u{1}', '/', 'é', '😀', 'a']),
            ],
            0..6,
        )
        .prop_map(|c| c.into_iter().collect::<String>());
        // Keys from a small set, so objects often repeat one.
        let key = proptest::sample::select(vec!["a", "b", "c\"d", "é"]).prop_map(String::from);
        let leaf = prop_oneof![
            Just(Model::Null),
            proptest::bool::ANY.prop_map(Model::Bool),
            "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?".prop_map(Model::Num),
            text.prop_map(Model::Str),
        ];
        leaf.prop_recursive(4, 40, 5, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Model::Arr),
                proptest::collection::vec((key.clone(), inner), 0..5).prop_map(Model::Obj),
            ]
        })
    }

    /// `s` as a JSON string: escaping only what must be (`all`: every non-ASCII-letter
    /// character as `\uXXXX`, surrogate pairs included, so the reader unescapes).
    fn quote(s: &str, all: bool, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if all && !c.is_ascii_alphanumeric() => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
                c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
    }

    /// The model as JSON text, spaced out or not.
    fn render(m: &Model, spaced: bool, escape_all: bool, out: &mut String) {
        let sp = if spaced { " \n\t" } else { "" };
        match m {
            Model::Null => out.push_str("null"),
            Model::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Model::Num(n) => out.push_str(n),
            Model::Str(s) => quote(s, escape_all, out),
            Model::Arr(items) => {
                out.push('[');
                for (k, v) in items.iter().enumerate() {
                    out.push_str(if k > 0 { "," } else { "" });
                    out.push_str(sp);
                    render(v, spaced, escape_all, out);
                }
                out.push_str(sp);
                out.push(']');
            }
            Model::Obj(members) => {
                out.push('{');
                for (k, (key, v)) in members.iter().enumerate() {
                    out.push_str(if k > 0 { "," } else { "" });
                    out.push_str(sp);
                    quote(key, escape_all, out);
                    out.push_str(sp);
                    out.push(':');
                    out.push_str(sp);
                    render(v, spaced, escape_all, out);
                }
                out.push_str(sp);
                out.push('}');
            }
        }
    }

    /// What JavaScript's `JSON.stringify(JSON.parse(..))` writes for the model: a
    /// repeated key once, at its first place, with its last value.
    fn js_compact(m: &Model, out: &mut String) {
        match m {
            Model::Obj(members) => {
                out.push('{');
                let mut seen: Vec<&str> = Vec::new();
                for (key, _) in members {
                    if seen.contains(&key.as_str()) {
                        continue;
                    }
                    if !seen.is_empty() {
                        out.push(',');
                    }
                    seen.push(key);
                    let last = members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
                    quote(key, false, out);
                    out.push(':');
                    js_compact(last.unwrap_or(&Model::Null), out);
                }
                out.push('}');
            }
            Model::Arr(items) => {
                out.push('[');
                for (k, v) in items.iter().enumerate() {
                    out.push_str(if k > 0 { "," } else { "" });
                    js_compact(v, out);
                }
                out.push(']');
            }
            Model::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\u{8}' => out.push_str("\\b"),
                        '\u{c}' => out.push_str("\\f"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c if u32::from(c) < 0x20 => {
                            out.push_str(&format!("\\u{:04x}", u32::from(c)));
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            other => render(other, false, false, out),
        }
    }

    /// The model read back through `At`, checking every value's path on the way.
    fn read_back(at: At<'_>, path: &str) -> Model {
        assert_eq!(at.path(), path);
        match at.value() {
            Value::Null => Model::Null,
            Value::Bool(b) => Model::Bool(b),
            Value::Number(n) => Model::Num(n.to_string()),
            Value::String(s) => Model::Str(s.to_string()),
            Value::Array(len) => {
                let items = at.array().unwrap();
                assert_eq!(items.len(), len);
                Model::Arr(
                    items
                        .enumerate()
                        .map(|(k, v)| read_back(v, &format!("{path}[{k}]")))
                        .collect(),
                )
            }
            Value::Object(len) => {
                let members: Vec<(String, Model)> = at
                    .members()
                    .map(|(k, v)| (k.to_string(), read_back(v, &format!("{path}.{k}"))))
                    .collect();
                assert_eq!(members.len(), len);
                // `get` finds a repeated key's last value (`None` for null).
                for (key, _) in &members {
                    let last = members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
                    let got = at.get(key).map(|v| read_back(v, &format!("{path}.{key}")));
                    assert_eq!(got.as_ref(), last.filter(|v| **v != Model::Null));
                }
                Model::Obj(members)
            }
        }
    }

    proptest::proptest! {
        // Whatever the nesting, spacing and escapes, the flat tree reads back the
        // document that was written, every value names its own path, a repeated key
        // reads as its last value, and the compact form is JavaScript's.
        #[test]
        fn the_tree_reads_back_what_was_written(
            m in model(),
            spaced in proptest::bool::ANY,
            escape_all in proptest::bool::ANY,
        ) {
            let mut text = String::new();
            render(&m, spaced, escape_all, &mut text);
            let doc = Json::parse(text.as_bytes()).unwrap();
            proptest::prop_assert_eq!(read_back(At::root(&doc, "t"), "$"), m.clone());
            let mut want = String::new();
            js_compact(&m, &mut want);
            proptest::prop_assert_eq!(doc.to_compact(), want);
        }
    }

    #[test]
    fn documents_read_one_after_another_reuse_buffers_and_stay_apart() {
        let spare_nodes = || {
            SPARE.with(|s| {
                let kept = s.take();
                let capacity = kept.as_ref().map(|b| b.nodes.capacity());
                s.set(kept);
                capacity
            })
        };
        let a = Json::parse(br#"{"x": "a\n", "n": 1}"#).unwrap();
        // A second document while the first is alive gets buffers of its own.
        let b = Json::parse(b"[1, 2]").unwrap();
        let (ra, rb) = (At::root(&a, "t"), At::root(&b, "t"));
        assert_eq!(ra.req("x").unwrap().str().unwrap(), "a\n");
        assert_eq!(rb.array().unwrap().len(), 2);
        drop(a);
        // The dropped document's buffers wait for the next one, which reads right.
        assert!(spare_nodes().is_some_and(|c| c > 0));
        let c = Json::parse(br#"{"y": "b\t", "z": [true]}"#).unwrap();
        assert_eq!(spare_nodes(), None);
        let rc = At::root(&c, "t");
        assert_eq!(rc.req("y").unwrap().str().unwrap(), "b\t");
        assert_eq!(rc.get("x").map(|v| v.value()), None);
        assert_eq!(c.to_compact(), r#"{"y":"b\t","z":[true]}"#);
        assert_eq!(
            rb.array().unwrap().nth(1).unwrap().value(),
            Value::Number("2")
        );
        drop((b, c));
        // A refused document hands its buffers back too; the next one is whole.
        assert!(Json::parse(br#"{"k": [1, 2"#).is_err());
        assert!(spare_nodes().is_some());
        let d = Json::parse(br#"{"k": "v"}"#).unwrap();
        assert_eq!(d.to_compact(), r#"{"k":"v"}"#);
        drop(d);
        // A large document's buffers are freed, not kept for the thread.
        let big = format!("[{}0]", "0,".repeat(KEEP_NODES + 10));
        drop(Json::parse(big.as_bytes()).unwrap());
        assert!(spare_nodes().is_none_or(|c| c <= KEEP_NODES));
    }

    proptest::proptest! {
        // A lookup finds the last member whose (unescaped) key is the text asked for,
        // among keys that share a prefix, differ only at their end or only in length,
        // or are written with escapes.
        #[test]
        fn a_lookup_finds_the_last_member_with_the_key(
            picks in proptest::collection::vec(0usize..KEYS.len(), 0..24),
        ) {
            let members: Vec<String> = picks
                .iter()
                .enumerate()
                .map(|(n, &k)| format!("\"{}\": {n}", KEYS[k].0))
                .collect();
            let text = format!("{{{}}}", members.join(", "));
            let j = Json::parse(text.as_bytes()).unwrap();
            let root = At::root(&j, "t");
            for (_, wanted) in KEYS {
                let last = picks.iter().rposition(|&k| KEYS[k].1 == wanted);
                let found = root.get(wanted).map(|a| a.value());
                let expected = last.map(|n| n.to_string());
                proptest::prop_assert_eq!(
                    found,
                    expected.as_deref().map(Value::Number),
                    "key {:?} in {}", wanted, text
                );
            }
        }
    }

    /// Keys as written in JSON, and their text.
    const KEYS: [(&str, &str); 12] = [
        ("", ""),
        ("a", "a"),
        ("a\\u0000", "a\u{0}"),
        ("ab", "ab"),
        ("abcdefgh", "abcdefgh"),
        ("abcdefgX", "abcdefgX"),
        ("abcdefghi", "abcdefghi"),
        ("abcdefghX", "abcdefghX"),
        ("abcdefghij", "abcdefghij"),
        ("key", "key"),
        ("k\\u0065y", "key"),
        ("merchantSKU", "merchantSKU"),
    ];

    #[test]
    fn duplicate_keys_keep_the_last() {
        let j = Json::parse(br#"{"status": "Created", "status": "Picking"}"#).unwrap();
        let status = At::root(&j, "t").req("status").unwrap();
        assert_eq!(status.value(), Value::String("Picking"));
        // Written back the way JavaScript's JSON.stringify(JSON.parse(..)) does: the key
        // once, where it first appeared, with its last value.
        let j = Json::parse(br#"{"a": 1, "b": 2, "a": {"c": [3]}}"#).unwrap();
        assert_eq!(j.to_compact(), r#"{"a":{"c":[3]},"b":2}"#);
    }

    #[test]
    fn an_error_names_the_path_of_the_value_it_is_about() {
        let j = Json::parse(
            br#"{"lines": [{"q": 1}, {"q": 2, "p": {"a": "x", "a": "y"}}, {"q": 2}], "q": 2}"#,
        )
        .unwrap();
        let root = At::root(&j, "t");
        assert_eq!(root.path(), "$");
        let lines = root.list("lines").unwrap();
        assert_eq!(lines.len(), 3);
        let second = lines.clone().nth(1).unwrap();
        assert_eq!(second.req("q").unwrap().path(), "$.lines[1].q");
        // Equal values elsewhere in the document are other values: the path is this one's.
        assert_eq!(
            lines.clone().nth(2).unwrap().req("q").unwrap().path(),
            "$.lines[2].q"
        );
        assert_eq!(root.req("q").unwrap().path(), "$.q");
        // A duplicated key is read (and named) at its last value.
        let a = second.req("p").unwrap().req("a").unwrap();
        assert_eq!(
            (a.str().unwrap(), a.path().as_str()),
            ("y", "$.lines[1].p.a")
        );
        assert!(second.missing("z").to_string().contains("$.lines[1].z"));
    }

    #[test]
    fn quantities_refuse_negative_fractional_and_huge() {
        let j =
            Json::parse(br#"{"a": -1, "b": 1.5, "c": 4294967296, "d": "3", "e": 2.0}"#).unwrap();
        let r = At::root(&j, "t");
        let code = |k: &str| r.req(k).unwrap().quantity();
        assert!(matches!(
            code("a"),
            Err(ChannelError::InvalidQuantity {
                reason: "negative",
                ..
            })
        ));
        assert!(matches!(
            code("b"),
            Err(ChannelError::InvalidQuantity {
                reason: "fractional",
                ..
            })
        ));
        assert!(matches!(
            code("c"),
            Err(ChannelError::InvalidQuantity {
                reason: "too large",
                ..
            })
        ));
        assert_eq!(code("d").unwrap(), 3);
        assert_eq!(code("e").unwrap(), 2);
    }

    #[test]
    fn times_in_every_shape() {
        let j = Json::parse(
            br#"{"a": "2026-11-20T09:30:00-04:00", "b": "2026-11-20T13:30:00", "c": 1763645400000,
                 "d": "2026-11-20T13:30:00.1234567", "e": "yesterday"}"#,
        )
        .unwrap();
        let r = At::root(&j, "t");
        let want = Utc.with_ymd_and_hms(2026, 11, 20, 13, 30, 0).unwrap();
        assert_eq!(r.req("a").unwrap().time_rfc3339().unwrap(), want);
        assert_eq!(r.req("b").unwrap().time_naive_utc().unwrap(), want);
        assert_eq!(
            r.req("c").unwrap().time_epoch_ms().unwrap(),
            Utc.with_ymd_and_hms(2025, 11, 20, 13, 30, 0).unwrap()
        );
        assert!(r.req("d").unwrap().time_naive_utc().is_ok());
        assert_eq!(
            r.req("e").unwrap().time_naive_utc().unwrap_err().code(),
            "CHANNEL_INVALID_TIME"
        );
        assert_eq!(
            r.req("b").unwrap().time_rfc3339().unwrap_err().path(),
            "$.b"
        );
    }

    #[test]
    fn money_refuses_more_decimals_than_the_currency() {
        let j = Json::parse(br#"{"a": "10.500", "b": 10.555, "c": "1,5", "d": 1e400}"#).unwrap();
        let r = At::root(&j, "t");
        let try_ = Currency::parse("TRY").unwrap();
        assert_eq!(r.req("a").unwrap().money(try_).unwrap().to_string(), "10.5");
        let e = r.req("b").unwrap().money(try_).unwrap_err();
        assert_eq!((e.code(), e.path()), ("CHANNEL_TOO_PRECISE", "$.b"));
        assert_eq!(
            r.req("c").unwrap().money(try_).unwrap_err().code(),
            "CHANNEL_INVALID_AMOUNT"
        );
        assert_eq!(
            r.req("d").unwrap().money(try_).unwrap_err().code(),
            "CHANNEL_INVALID_AMOUNT"
        );
    }

    // `naive` reads its formats' items once; it must read every text exactly as chrono's
    // `parse_from_str` with the same formats does, accepted or refused.
    fn naive_as_parse_from_str(s: &str) -> Option<NaiveDateTime> {
        NAIVE_FORMATS
            .iter()
            .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
            .or_else(|| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
    }

    proptest::proptest! {
        #[test]
        fn naive_times_read_as_chrono_reads_them(
            s in "[0-9]{4}-[01][0-9]-[0-3][0-9]([T ][0-2][0-9]:[0-5][0-9](:[0-6][0-9](\\.[0-9]{0,10})?)?)?[Z ]?",
            noise in "\\PC{0,24}",
        ) {
            proptest::prop_assert_eq!(naive(&s), naive_as_parse_from_str(&s));
            proptest::prop_assert_eq!(naive(&noise), naive_as_parse_from_str(&noise));
        }
    }

    #[test]
    fn naive_times_in_every_shape_channels_send() {
        let at = |s: &str| naive(s).map(|t| t.to_string());
        assert_eq!(
            at("2026-03-01T10:15:30.1234567").as_deref(),
            Some("2026-03-01 10:15:30.123456700")
        );
        assert_eq!(
            at("2026-03-01 10:15:30").as_deref(),
            Some("2026-03-01 10:15:30")
        );
        assert_eq!(
            at("2026-03-01T10:15").as_deref(),
            Some("2026-03-01 10:15:00")
        );
        assert_eq!(at("2026-03-01").as_deref(), Some("2026-03-01 00:00:00"));
        assert_eq!(at("2026-02-30T10:15:30"), None);
        assert_eq!(at("yesterday"), None);
    }
}
