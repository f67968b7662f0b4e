//! Orders as JSON lines: [`json_lines`] reads them, and its doc holds the rules.

use serde_json::error::Category;

use super::input::OrderInput;

/// Longest line accepted, in bytes (4 MiB): far above an order at every limit of
/// [`super::limits`], small enough that one line cannot take the host's memory.
pub const MAX_JSON_LINE_BYTES: usize = 4 << 20;

/// Why one line of JSON lines is not an order. Every variant names the line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum JsonLineError {
    /// The line is not valid UTF-8.
    #[error("line {line} is not UTF-8 (invalid byte at column {column})")]
    NotUtf8 {
        /// The line.
        line: u64,
        /// 1-based byte column of the first invalid byte.
        column: usize,
    },
    /// The line is longer than [`MAX_JSON_LINE_BYTES`].
    #[error("line {line} is {bytes} bytes long, at most {max} are read")]
    LineTooLong {
        /// The line.
        line: u64,
        /// Its length.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The line is not one JSON value.
    #[error("line {line} is not JSON (column {column}): {reason}")]
    Syntax {
        /// The line.
        line: u64,
        /// 1-based byte column where reading stopped.
        column: usize,
        /// What was expected there.
        reason: String,
    },
    /// The last line has no line end and stops inside its JSON value: the data was
    /// cut off (an interrupted download or write).
    #[error("line {line} stops inside its order at column {column}: the data was cut off")]
    Truncated {
        /// The line.
        line: u64,
        /// 1-based byte column where the data ends.
        column: usize,
    },
    /// The line is JSON but not an order: a field is missing, unknown or of the wrong
    /// type or value.
    #[error("line {line}{}: {reason}", at_path(path))]
    InvalidField {
        /// The line.
        line: u64,
        /// Path of the field in the order (`lines[0].unit_price`); `.` for the order
        /// itself (a missing field, or a line that is not an object).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn at_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        String::new()
    } else {
        format!(", {path}")
    }
}

impl JsonLineError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "ORDER_JSONL_INVALID_ENCODING",
        "ORDER_JSONL_LINE_TOO_LONG",
        "ORDER_JSONL_SYNTAX",
        "ORDER_JSONL_TRUNCATED",
        "ORDER_JSONL_INVALID_FIELD",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotUtf8 { .. } => "ORDER_JSONL_INVALID_ENCODING",
            Self::LineTooLong { .. } => "ORDER_JSONL_LINE_TOO_LONG",
            Self::Syntax { .. } => "ORDER_JSONL_SYNTAX",
            Self::Truncated { .. } => "ORDER_JSONL_TRUNCATED",
            Self::InvalidField { .. } => "ORDER_JSONL_INVALID_FIELD",
        }
    }

    /// The 1-based line the error is about.
    pub fn line(&self) -> u64 {
        match self {
            Self::NotUtf8 { line, .. }
            | Self::LineTooLong { line, .. }
            | Self::Syntax { line, .. }
            | Self::Truncated { line, .. }
            | Self::InvalidField { line, .. } => *line,
        }
    }
}

/// The orders in `data`, one per non-blank line, each with its 1-based line number.
/// Lazy: each line is read when the iterator reaches it, so a caller can place orders
/// in batches without holding them all.
///
/// Orders as JSON lines: one [`OrderInput`] object per line, the format of a
/// marketplace export or a migration dump, read straight from bytes.
///
/// The rules, the same for every binding:
///
/// - Lines end with `\n`; a `\r` before it is dropped (CRLF files are accepted). The last
///   line may lack its `\n`. A UTF-8 byte-order mark at the very start is skipped.
/// - Blank lines (nothing, or only spaces, tabs and `\r`) are skipped; they still count
///   for line numbers.
/// - Line numbers are 1-based, as an editor shows them.
/// - Each other line is one order, read on its own: a bad line yields a
///   [`JsonLineError`] naming its line (and, for a bad field, the field's path, such
///   as `lines[0].unit_price`), and never stops the lines after it.
/// - A line that is not UTF-8 is refused as `ORDER_JSONL_INVALID_ENCODING`; a line longer than
///   [`MAX_JSON_LINE_BYTES`] as `ORDER_JSONL_LINE_TOO_LONG`; text that is not one JSON
///   value as `ORDER_JSONL_SYNTAX`; a last line without its `\n` that stops inside its
///   value (a cut-off file) as `ORDER_JSONL_TRUNCATED`; and JSON that is not an order
///   (a missing, unknown or mistyped field) as `ORDER_JSONL_INVALID_FIELD`.
///
/// Lines are parsed straight into [`OrderInput`] with no JSON tree in between; only a
/// refused line is read a second time, to find the path of its bad field. Error messages
/// never quote the line's values (personal data stays out of logs, see [`crate::pii`]).
///
/// ```
/// use ordersmith::order::json_lines;
///
/// let data = b"{\"channel\": \"web\", \"placed_at\": \"2026-11-20T09:30:00Z\", \"currency\": \"TRY\",\
///     \"lines\": [{\"variant\": \"MUG\", \"quantity\": 2, \"unit_price\": \"189.90\"}]}\r\n\
///     \r\n\
///     {\"channel\": \"web\", \"currency\": \"TRY\"}\n";
/// let read: Vec<_> = json_lines(data).collect();
/// assert_eq!(read.len(), 2);
/// assert_eq!(read[0].0, 1);
/// assert!(read[0].1.is_ok());
/// let (line, err) = (read[1].0, read[1].1.as_ref().unwrap_err());
/// assert_eq!(line, 3);
/// assert_eq!(err.code(), "ORDER_JSONL_INVALID_FIELD");
/// assert_eq!(err.to_string(), "line 3: missing field `placed_at`");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn json_lines(data: &[u8]) -> JsonLines<'_> {
    JsonLines {
        rest: data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data),
        line: 0,
    }
}

/// The iterator of [`json_lines`]: `(line, order or error)` for every non-blank line.
#[derive(Debug, Clone)]
pub struct JsonLines<'a> {
    rest: &'a [u8],
    line: u64,
}

impl Iterator for JsonLines<'_> {
    type Item = (u64, Result<OrderInput, JsonLineError>);

    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            self.line += 1;
            let (raw, terminated) = match self.rest.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    let (raw, rest) = self.rest.split_at(end);
                    self.rest = rest.get(1..).unwrap_or_default();
                    (raw, true)
                }
                None => (std::mem::take(&mut self.rest), false),
            };
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
                continue;
            }
            return Some((self.line, parse_line(raw, self.line, terminated)));
        }
        None
    }
}

/// One line (without its line end) read as an order.
fn parse_line(raw: &[u8], line: u64, terminated: bool) -> Result<OrderInput, JsonLineError> {
    if raw.len() > MAX_JSON_LINE_BYTES {
        return Err(JsonLineError::LineTooLong {
            line,
            bytes: raw.len(),
            max: MAX_JSON_LINE_BYTES,
        });
    }
    let text = std::str::from_utf8(raw).map_err(|e| JsonLineError::NotUtf8 {
        line,
        column: e.valid_up_to() + 1,
    })?;
    // The fast path: no path tracking (it costs an allocation per key read).
    serde_json::from_str::<OrderInput>(text).map_err(|e| refused(text, &e, line, terminated))
}

/// The error for a line serde_json refused: its category decides the code; a data
/// error is read again with path tracking to name the field.
fn refused(text: &str, e: &serde_json::Error, line: u64, terminated: bool) -> JsonLineError {
    match e.classify() {
        Category::Eof if !terminated => JsonLineError::Truncated {
            line,
            column: e.column(),
        },
        Category::Eof => JsonLineError::Syntax {
            line,
            column: e.column(),
            reason: "the line ends inside its JSON value (each order must be one JSON object on one line)".into(),
        },
        Category::Syntax | Category::Io => JsonLineError::Syntax {
            line,
            column: e.column(),
            reason: message(e),
        },
        Category::Data => {
            let reader = &mut serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, OrderInput>(reader) {
                Err(tracked) => {
                    let path = tracked.path().to_string();
                    // serde quotes a value of the wrong type; a whole line may be a
                    // customer's record, so the order itself is described instead.
                    let reason = if path == "." && tracked.inner().to_string().starts_with("invalid type") {
                        NOT_AN_OBJECT.to_string()
                    } else {
                        message(tracked.inner())
                    };
                    JsonLineError::InvalidField { line, path, reason }
                }
                // Not expected (the same input, the same type), but never a panic.
                Ok(_) => JsonLineError::InvalidField {
                    line,
                    path: ".".into(),
                    reason: message(e),
                },
            }
        }
    }
}

/// The reason for a line that is JSON but not an object.
const NOT_AN_OBJECT: &str = "expected an order: one JSON object per line";

/// serde_json's message without its " at line 1 column N" (the line is ours to name).
fn message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match full.strip_suffix(&position) {
        Some(text) => text.to_string(),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"channel": "web", "placed_at": "2026-11-20T09:30:00Z", "currency": "TRY", "lines": [{"variant": "MUG", "quantity": 2, "unit_price": "189.90"}]}"#;

    fn read(data: &[u8]) -> Vec<(u64, Result<OrderInput, JsonLineError>)> {
        json_lines(data).collect()
    }

    fn err(result: &(u64, Result<OrderInput, JsonLineError>)) -> &JsonLineError {
        match &result.1 {
            Err(e) => e,
            Ok(_) => panic!("line {} was read as an order", result.0),
        }
    }

    #[test]
    fn blank_lines_are_skipped_and_counted() {
        let data = format!("\n  \n{GOOD}\n\t\r\n\n{GOOD}");
        let read = read(data.as_bytes());
        let lines: Vec<u64> = read.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![3, 6]);
        assert!(read.iter().all(|r| r.1.is_ok()));
    }

    #[test]
    fn crlf_and_a_missing_last_newline_are_accepted() {
        let data = format!("{GOOD}\r\n{GOOD}\r\n{GOOD}");
        let read = read(data.as_bytes());
        assert_eq!(read.len(), 3);
        assert!(read.iter().all(|r| r.1.is_ok()));
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        let data = format!("\u{feff}{GOOD}\n");
        let read = read(data.as_bytes());
        assert_eq!(read.len(), 1);
        assert!(read[0].1.is_ok());
    }

    #[test]
    fn empty_input_has_no_orders() {
        assert!(read(b"").is_empty());
        assert!(read(b"\n\r\n  \n").is_empty());
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let mut data = format!("{GOOD}\n").into_bytes();
        data.extend_from_slice(b"{\"channel\": \"w\xffb\"}\n");
        data.extend_from_slice(format!("{GOOD}\n").as_bytes());
        let read = read(&data);
        assert_eq!(read.len(), 3);
        assert_eq!(
            err(&read[1]),
            &JsonLineError::NotUtf8 {
                line: 2,
                column: 15
            }
        );
        assert_eq!(err(&read[1]).code(), "ORDER_JSONL_INVALID_ENCODING");
        assert!(read[0].1.is_ok() && read[2].1.is_ok());
    }

    #[test]
    fn a_cut_off_last_line_is_truncated() {
        let cut = &GOOD[..GOOD.len() / 2];
        let data = format!("{GOOD}\n{cut}");
        let read = read(data.as_bytes());
        assert_eq!(read.len(), 2);
        let e = err(&read[1]);
        assert_eq!(e.code(), "ORDER_JSONL_TRUNCATED");
        assert_eq!(e.line(), 2);
        assert!(read[0].1.is_ok());
    }

    #[test]
    fn a_line_ending_inside_its_value_mid_file_is_a_syntax_error() {
        let cut = &GOOD[..GOOD.len() / 2];
        let data = format!("{cut}\n{GOOD}\n");
        let read = read(data.as_bytes());
        let e = err(&read[0]);
        assert_eq!(e.code(), "ORDER_JSONL_SYNTAX");
        assert!(e.to_string().starts_with("line 1 is not JSON"), "{e}");
        assert!(read[1].1.is_ok());
    }

    #[test]
    fn not_json_is_a_syntax_error_with_its_column() {
        let read = read(b"{\"channel\": web}\n");
        let e = err(&read[0]);
        assert_eq!(e.code(), "ORDER_JSONL_SYNTAX");
        match e {
            JsonLineError::Syntax {
                line,
                column,
                reason,
            } => {
                assert_eq!((*line, *column), (1, 13));
                assert_eq!(reason, "expected value");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn two_orders_on_one_line_are_refused() {
        let data = format!("{GOOD} {GOOD}\n");
        let e = err(&read(data.as_bytes())[0]).clone();
        assert_eq!(e.code(), "ORDER_JSONL_SYNTAX");
        assert!(e.to_string().contains("trailing characters"), "{e}");
    }

    #[test]
    fn a_bad_field_names_its_path() {
        let bad = GOOD.replace(r#""unit_price": "189.90""#, r#""unit_price": 1.5"#);
        let data = format!("{GOOD}\n{bad}\n");
        let read = read(data.as_bytes());
        match err(&read[1]) {
            JsonLineError::InvalidField { line, path, reason } => {
                assert_eq!(*line, 2);
                assert_eq!(path, "lines[0].unit_price");
                assert!(reason.contains("expected a decimal"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err(&read[1]).to_string(),
            "line 2, lines[0].unit_price: expected a decimal as a string such as \"10.50\" or an integer"
        );
    }

    #[test]
    fn an_unknown_field_names_it() {
        let bad = GOOD.replace(r#""channel""#, r#""chanel""#);
        let e = err(&read(bad.as_bytes())[0]).clone();
        assert_eq!(e.code(), "ORDER_JSONL_INVALID_FIELD");
        assert!(e.to_string().contains("unknown field `chanel`"), "{e}");
    }

    #[test]
    fn personal_data_is_not_quoted() {
        let bad = GOOD.replace(
            r#""channel": "web","#,
            r#""channel": "web", "customer": "Ayse <ayse@example.com>","#,
        );
        let e = err(&read(bad.as_bytes())[0]).clone();
        assert_eq!(e.code(), "ORDER_JSONL_INVALID_FIELD");
        assert!(!e.to_string().contains("ayse@"), "{e}");
        assert!(!format!("{e:?}").contains("ayse@"), "{e:?}");
    }

    #[test]
    fn a_line_that_is_not_an_object_is_refused() {
        let read = read(b"[1, 2]\n\"Ayse <ayse@example.com>\"\n");
        assert_eq!(err(&read[0]).code(), "ORDER_JSONL_INVALID_FIELD");
        assert_eq!(
            err(&read[1]).to_string(),
            "line 2: expected an order: one JSON object per line"
        );
        assert_eq!(err(&read[1]).code(), "ORDER_JSONL_INVALID_FIELD");
        assert_eq!(err(&read[1]).line(), 2);
    }

    #[test]
    fn an_overlong_line_is_refused_before_it_is_read() {
        let mut data = vec![b' '; MAX_JSON_LINE_BYTES];
        data.push(b'x');
        data.push(b'\n');
        data.extend_from_slice(GOOD.as_bytes());
        let read = read(&data);
        assert_eq!(
            err(&read[0]),
            &JsonLineError::LineTooLong {
                line: 1,
                bytes: MAX_JSON_LINE_BYTES + 1,
                max: MAX_JSON_LINE_BYTES
            }
        );
        assert!(read[1].1.is_ok());
    }

    #[test]
    fn every_code_is_listed() {
        let errors = [
            JsonLineError::NotUtf8 { line: 1, column: 1 },
            JsonLineError::LineTooLong {
                line: 1,
                bytes: 1,
                max: 1,
            },
            JsonLineError::Syntax {
                line: 1,
                column: 1,
                reason: String::new(),
            },
            JsonLineError::Truncated { line: 1, column: 1 },
            JsonLineError::InvalidField {
                line: 1,
                path: ".".into(),
                reason: String::new(),
            },
        ];
        let codes: Vec<&str> = errors.iter().map(JsonLineError::code).collect();
        assert_eq!(codes, JsonLineError::CODES);
    }
}
