//! A small JSON reader that keeps numbers as their text, so an amount such as `89.90`
//! or `0.1` becomes a `Decimal` without ever passing through a float, and ids above
//! 2^53 stay exact.
//!
//! `serde_json` would lose both unless its `arbitrary_precision` feature were on, and
//! that feature is workspace-wide (Cargo unifies features) and changes how the core's
//! untagged readers see numbers. So the adapters read through this tree instead, and
//! every accessor knows the JSON path it stands on, for errors.
//!
//! Limits: nesting at most [`MAX_DEPTH`] levels; a duplicated key keeps its last value
//! (as `serde_json` does), which is what Trendyol's published samples need.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use ordersmith::money::Currency;
use rust_decimal::Decimal;

use crate::error::ChannelError;

/// Deepest nesting read; deeper input is refused rather than recursed into.
pub const MAX_DEPTH: usize = 64;

/// A JSON value with numbers kept as text; strings and keys borrow from the input
/// unless they contain escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json<'s> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, exactly as written.
    Number(&'s str),
    /// A string.
    String(Cow<'s, str>),
    /// An array.
    Array(Vec<Json<'s>>),
    /// An object, keys in input order (a duplicated key keeps its last value).
    Object(Vec<(Cow<'s, str>, Json<'s>)>),
}

/// Where and why reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl<'s> Json<'s> {
    /// The value written back as compact JSON the way JavaScript's `JSON.stringify`
    /// writes what `JSON.parse` read: no whitespace, keys in input order (a duplicated
    /// key once, with its last value), strings escaping only `"`, `\\` and control
    /// characters. Numbers keep their text as written (JavaScript would rewrite `1.50`
    /// as `1.5`). eBay's official SDKs verify notification signatures over this form.
    pub fn to_compact(&self) -> String {
        let mut out = String::new();
        self.write_compact(&mut out);
        out
    }

    fn write_compact(&self, out: &mut String) {
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
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (k, v) in items.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    v.write_compact(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (k, (key, v)) in members.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    string(key, out);
                    out.push(':');
                    v.write_compact(out);
                }
                out.push('}');
            }
        }
    }

    /// Reads a whole document; trailing non-whitespace is an error.
    pub fn parse(bytes: &'s [u8]) -> Result<Json<'s>, SyntaxError> {
        // Outside strings only ASCII is valid JSON, so checking the whole input once
        // lets every unescaped string borrow from it.
        let text = std::str::from_utf8(bytes).map_err(|e| SyntaxError {
            offset: e.valid_up_to(),
            reason: "invalid UTF-8",
        })?;
        let mut p = Parser {
            b: bytes,
            text,
            i: 0,
            members: Vec::new(),
            items: Vec::new(),
        };
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.i != bytes.len() {
            return Err(p.err("trailing characters after the document"));
        }
        Ok(v)
    }

    /// The member `key` of an object (`None` for other values or a missing key).
    pub fn get(&self, key: &str) -> Option<&Json<'s>> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

struct Parser<'s> {
    b: &'s [u8],
    text: &'s str,
    i: usize,
    // Scratch stacks: an object's members (an array's items) are pushed here while it
    // is read, then split off into a vector of exactly their number (one allocation
    // and one copy per object, instead of a reallocation per doubling). A nested value
    // pushes above its parent's mark and takes its own off before the parent goes on.
    members: Vec<(Cow<'s, str>, Json<'s>)>,
    items: Vec<Json<'s>>,
}

impl<'s> Parser<'s> {
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

    fn literal(&mut self, word: &'static [u8], v: Json<'s>) -> Result<Json<'s>, SyntaxError> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'s>, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json<'s>, SyntaxError> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Object(Vec::new()));
        }
        let mark = self.members.len();
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a key"));
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth + 1)?;
            self.members.push((key, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Object(self.members.split_off(mark)));
                }
                None => return Err(self.err("unexpected end of input")),
                Some(_) => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json<'s>, SyntaxError> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Array(Vec::new()));
        }
        let mark = self.items.len();
        loop {
            self.ws();
            let v = self.value(depth + 1)?;
            self.items.push(v);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(self.items.split_off(mark)));
                }
                None => return Err(self.err("unexpected end of input")),
                Some(_) => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<Json<'s>, SyntaxError> {
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
        Ok(Json::Number(
            self.text.get(start..self.i).unwrap_or_default(),
        ))
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

    fn string(&mut self) -> Result<Cow<'s, str>, SyntaxError> {
        self.i += 1;
        let begin = self.i;
        self.i = plain_run(self.b, self.i);
        if self.peek() == Some(b'"') {
            // No escape: the input itself (valid UTF-8, and '"' is a boundary).
            let s = self.text.get(begin..self.i).unwrap_or_default();
            self.i += 1;
            return Ok(Cow::Borrowed(s));
        }
        self.i = begin;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let start = self.i;
            self.i = plain_run(self.b, self.i);
            out.extend_from_slice(self.b.get(start..self.i).unwrap_or_default());
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return String::from_utf8(out)
                        .map(Cow::Owned)
                        .map_err(|_| SyntaxError {
                            offset: start,
                            reason: "invalid UTF-8 in a string",
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
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                Some(_) => return Err(self.err("control character in a string")),
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
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
/// Descending costs nothing: the path is not kept as the reader goes down (a linked
/// list of steps cost an allocation per member read, a fifth of a parse). An error
/// finds it instead, by looking for this value in its document: every `At` is the root
/// or was reached from it, and no two values of a tree share an address.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    /// The value.
    pub v: &'a Json<'a>,
    root: &'a Json<'a>,
    /// The channel's name, for errors.
    pub channel: &'static str,
}

/// Longest text copied into an error.
const ERR_TEXT: usize = 40;

fn clip(s: &str) -> String {
    s.chars().take(ERR_TEXT).collect()
}

/// The steps from `from` down to `target` (pushed deepest last), when `target` is in
/// `from`'s tree. Depth is bounded by [`MAX_DEPTH`], so the recursion is too.
fn trail_to<'a>(from: &'a Json<'a>, target: &Json<'_>, segs: &mut Vec<Seg<'a>>) -> bool {
    if std::ptr::eq(from.address(), target.address()) {
        return true;
    }
    let down = |seg: Seg<'a>, v: &'a Json<'a>, segs: &mut Vec<Seg<'a>>| {
        segs.push(seg);
        if trail_to(v, target, segs) {
            return true;
        }
        segs.pop();
        false
    };
    match from {
        Json::Array(items) => items
            .iter()
            .enumerate()
            .any(|(i, v)| down(Seg::Index(i), v, segs)),
        Json::Object(members) => members.iter().any(|(k, v)| down(Seg::Key(k), v, segs)),
        _ => false,
    }
}

impl<'s> Json<'s> {
    /// The address of this value, for telling one node of a tree from another.
    fn address(&self) -> *const () {
        (self as *const Self).cast()
    }
}

impl<'a> At<'a> {
    /// The document root.
    pub fn root(v: &'a Json<'a>, channel: &'static str) -> Self {
        At {
            v,
            root: v,
            channel,
        }
    }

    fn child(&self, v: &'a Json<'a>) -> At<'a> {
        At {
            v,
            root: self.root,
            channel: self.channel,
        }
    }

    /// Its JSON path (`$.line_items[0].price`).
    pub fn path(&self) -> String {
        let mut segs = Vec::new();
        trail_to(self.root, self.v, &mut segs);
        let mut out = String::from("$");
        for seg in &segs {
            match seg {
                Seg::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// A path below this one, for errors about a derived figure.
    pub fn sub(&self, key: &str) -> String {
        format!("{}.{key}", self.path())
    }

    /// The member `key`, `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<At<'a>> {
        let Json::Object(members) = self.v else {
            return None;
        };
        match members.iter().rev().find(|(k, _)| k == key) {
            None | Some((_, Json::Null)) => None,
            Some((_, v)) => Some(self.child(v)),
        }
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

    /// The elements of an array.
    pub fn array(&self) -> Result<Vec<At<'a>>, ChannelError> {
        match self.v {
            Json::Array(items) => Ok(items.iter().map(|v| self.child(v)).collect()),
            _ => Err(self.wrong("an array")),
        }
    }

    /// The elements of an optional array member (empty when absent or null).
    pub fn list(&self, key: &str) -> Result<Vec<At<'a>>, ChannelError> {
        match self.get(key) {
            Some(a) => a.array(),
            None => Ok(Vec::new()),
        }
    }

    /// A string.
    pub fn str(&self) -> Result<&'a str, ChannelError> {
        match self.v {
            Json::String(s) => Ok(s),
            _ => Err(self.wrong("a string")),
        }
    }

    /// A boolean.
    pub fn bool(&self) -> Result<bool, ChannelError> {
        match self.v {
            Json::Bool(b) => Ok(*b),
            _ => Err(self.wrong("a boolean")),
        }
    }

    /// An identifier given as a string or an integer (ids above 2^53 stay exact).
    pub fn id_text(&self) -> Result<String, ChannelError> {
        let raw: &str = match self.v {
            Json::String(s) => s,
            Json::Number(n) if n.bytes().all(|b| b.is_ascii_digit() || b == b'-') => n,
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
        Ok(text.to_string())
    }

    /// Optional text (`None` when absent, null or empty), numbers given as text.
    pub fn opt_text(&self, key: &str) -> Result<Option<String>, ChannelError> {
        match self.get(key) {
            None => Ok(None),
            Some(a) => match a.v {
                Json::String(s) if s.trim().is_empty() => Ok(None),
                Json::String(_) | Json::Number(_) => a.id_text().map(Some),
                _ => Err(a.wrong("a string")),
            },
        }
    }

    /// A decimal from a JSON string or number, exactly as written (never via a float).
    pub fn decimal(&self) -> Result<Decimal, ChannelError> {
        let text = match self.v {
            Json::String(s) => s.trim(),
            Json::Number(n) => n,
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
        let text = match self.v {
            Json::String(s) => s.trim(),
            Json::Number(n) => n,
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
        let text = match self.v {
            Json::Number(n) => n,
            Json::String(s) => s.trim(),
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
        self.v.type_name()
    }
}

/// A naive date-time in the shapes channels send: `T` or space, optional fraction of
/// up to 9 digits (Hepsiburada sends 7), or a bare date.
pub fn naive(s: &str) -> Option<NaiveDateTime> {
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t);
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
        assert_eq!(j.get("a"), Some(&Json::Number("0.1")));
        let root = At::root(&j, "test");
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
        assert_eq!(j, Json::String("a\"b\u{e7}\u{1F600}\n".into()));
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

    #[test]
    fn duplicate_keys_keep_the_last() {
        let j = Json::parse(br#"{"status": "Created", "status": "Picking"}"#).unwrap();
        assert_eq!(j.get("status"), Some(&Json::String("Picking".into())));
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
        let second = lines.get(1).unwrap();
        assert_eq!(second.req("q").unwrap().path(), "$.lines[1].q");
        // Equal values elsewhere in the document are other values: the path is this one's.
        assert_eq!(
            lines.get(2).unwrap().req("q").unwrap().path(),
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
}
