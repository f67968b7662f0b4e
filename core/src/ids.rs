//! Identifier newtypes: an order id can never be passed where a variant id is expected.
//!
//! Every id is a non-empty string of at most [`MAX_ID_LEN`] bytes, without control
//! characters, without invisible or direction-changing format characters (a U+202E
//! override can make one SKU display as another), and without leading or trailing
//! whitespace. Interior spaces are allowed: real SKUs have them (`"TEA 500G"`). Ids that come from outside (a
//! channel's order number, a SKU) are validated once, at the edge, by `parse`. Ids are
//! shared, immutable strings (`Arc<str>`): cloning one into a journal entry, an event and
//! an index costs a reference count, not an allocation.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Longest id accepted, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum IdError {
    /// The id was empty (or only whitespace).
    #[error("{kind} must not be empty")]
    Empty {
        /// Which kind of id.
        kind: &'static str,
    },
    /// The id was longer than [`MAX_ID_LEN`] bytes.
    #[error("{kind} is {len} bytes long; at most {max} are allowed")]
    TooLong {
        /// Which kind of id.
        kind: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The id had a control character, an invisible or bidirectional format
    /// character, or surrounding whitespace.
    #[error("{kind} contains {what}")]
    InvalidCharacters {
        /// Which kind of id.
        kind: &'static str,
        /// What was wrong, in words (never the id itself).
        what: &'static str,
    },
}

impl IdError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] =
        &["ID_EMPTY", "ID_TOO_LONG", "ID_INVALID_CHARACTERS"];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty { .. } => "ID_EMPTY",
            Self::TooLong { .. } => "ID_TOO_LONG",
            Self::InvalidCharacters { .. } => "ID_INVALID_CHARACTERS",
        }
    }
}

pub(crate) fn validate_text(kind: &'static str, s: &str, max: usize) -> Result<(), IdError> {
    // Most ids are printable ASCII: one pass over the bytes settles them. Anything else
    // (an error to name, or non-ASCII text to check char by char) takes the full path.
    let b = s.as_bytes();
    if s.len() <= max
        && b.first().is_some_and(|&c| c != b' ')
        && b.last().is_some_and(|&c| c != b' ')
        && printable_ascii(b)
    {
        return Ok(());
    }
    validate_text_by_chars(kind, s, max)
}

/// Whether every byte is printable ASCII (`0x20..0x7f`), read eight at a time
/// ([`AsciiWord`]), the last few padded with blanks. An id of a dozen bytes is two reads
/// instead of a dozen compares.
pub(crate) fn printable_ascii(bytes: &[u8]) -> bool {
    bytes.chunks(8).all(|chunk| {
        let word = AsciiWord::padded(chunk);
        !word.has_below_space() && !word.has_above_tilde()
    })
}

/// Eight bytes read as one word, for tests that settle them at once: a byte below
/// `0x20` shows in `(w - 0x20…20) & !w & 0x80…80`, one above `0x7e` in
/// `((w + 0x01…01) | w) & 0x80…80` (both exact for these bounds: a borrow or carry
/// across bytes starts only at a byte the test already flags).
#[derive(Clone, Copy)]
pub(crate) struct AsciiWord(u64);

impl AsciiWord {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// Eight bytes as they are, or fewer padded with blanks (which pass every test);
    /// of more than eight, the first eight.
    pub(crate) fn padded(bytes: &[u8]) -> Self {
        let word = <[u8; 8]>::try_from(bytes).unwrap_or_else(|_| {
            let mut word = [b' '; 8];
            for (w, b) in word.iter_mut().zip(bytes) {
                *w = *b;
            }
            word
        });
        AsciiWord(u64::from_le_bytes(word))
    }

    /// Whether a byte is below `0x20` (a control, a tab or a line break).
    pub(crate) fn has_below_space(self) -> bool {
        self.0.wrapping_sub(Self::ONES * 0x20) & !self.0 & Self::HIGH != 0
    }

    /// Whether a byte is above `0x7e` (DEL, or a byte of a non-ASCII character).
    pub(crate) fn has_above_tilde(self) -> bool {
        (self.0.wrapping_add(Self::ONES) | self.0) & Self::HIGH != 0
    }
}

/// [`validate_text`] without its ASCII shortcut: what the shortcut must agree with.
fn validate_text_by_chars(kind: &'static str, s: &str, max: usize) -> Result<(), IdError> {
    if s.trim().is_empty() {
        return Err(IdError::Empty { kind });
    }
    if s.len() > max {
        return Err(IdError::TooLong {
            kind,
            len: s.len(),
            max,
        });
    }
    if s.trim() != s {
        return Err(IdError::InvalidCharacters {
            kind,
            what: "leading or trailing whitespace",
        });
    }
    if s.chars().any(char::is_control) {
        return Err(IdError::InvalidCharacters {
            kind,
            what: "a control character",
        });
    }
    if s.chars().any(is_invisible_format) {
        return Err(IdError::InvalidCharacters {
            kind,
            what: "an invisible or bidirectional format character (such as U+202E)",
        });
    }
    Ok(())
}

/// Characters that change how text displays without being seen: the Unicode
/// bidirectional controls (embeddings, overrides, isolates and marks), zero-width
/// characters and the byte-order mark. In an identifier they only serve to make two
/// different ids look alike.
pub(crate) fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `f` of `parts` joined, put together in a buffer on the stack when the text fits an
/// id ([`MAX_ID_LEN`] bytes), and in a `String` otherwise (which an id's `f` refuses).
/// The buffer is a text joined of whole `str`s, so nothing reads the joined bytes again
/// to see that they are UTF-8.
pub(crate) fn on_stack<R>(parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
    let mut buf = arrayvec::ArrayString::<MAX_ID_LEN>::new();
    for part in parts {
        if buf.try_push_str(part).is_err() {
            return f(&parts.concat());
        }
    }
    f(&buf)
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Validates and wraps an id.
            pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                validate_text($kind, &s, MAX_ID_LEN)?;
                Ok(Self(Arc::from(s)))
            }

            /// Validates and wraps borrowed text: one allocation, for the id itself.
            #[allow(dead_code)]
            pub(crate) fn parse_str(s: &str) -> Result<Self, IdError> {
                validate_text($kind, s, MAX_ID_LEN)?;
                Ok(Self(Arc::from(s)))
            }

            /// Validates and wraps `parts` joined: the text is put together in a
            /// buffer on the stack, so the id's own allocation is the only one (a
            /// joined `String` first was a second, freed at once).
            #[allow(dead_code)]
            pub(crate) fn joined(parts: &[&str]) -> Result<Self, IdError> {
                on_stack(parts, Self::parse_str)
            }

            /// [`Self::joined`] for parts that keep the whole valid: the first starts
            /// and the last ends with a visible character, and none holds a control
            /// or invisible one (ids' texts, digits, `:` and the like). Only the length
            /// is checked, as the characters were when each part was made; an id the
            /// engine makes of ids it holds (a reservation's) skips reading them again.
            #[allow(dead_code)]
            pub(crate) fn joined_valid(parts: &[&str]) -> Result<Self, IdError> {
                let len = parts.iter().map(|p| p.len()).sum::<usize>();
                if len > MAX_ID_LEN {
                    return Err(IdError::TooLong {
                        kind: $kind,
                        len,
                        max: MAX_ID_LEN,
                    });
                }
                let id = on_stack(parts, |text| Self(Arc::from(text)));
                debug_assert!(validate_text($kind, &id.0, MAX_ID_LEN).is_ok(), "{id:?}");
                Ok(id)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether `other` is the same id: at once when both are clones of one
            /// id (the same shared text, nothing read), else by comparing the texts.
            #[allow(dead_code)]
            pub(crate) fn same(&self, other: &Self) -> bool {
                std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            /// Like [`Self::parse`], from borrowed text: one allocation (the id's own),
            /// where `parse` of a `&str` makes a `String` first.
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse_str(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Written as the plain string, without an intermediate `String`: ids are
        // serialised in every event and outbox record, so this is on the write path.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        // Read from borrowed text where the input allows it (one allocation, the id's
        // own), and from an owned string otherwise; validated exactly as `parse`.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visit;
                impl serde::de::Visitor<'_> for Visit {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("a ", $kind, " (text)"))
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::parse_str(v).map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(Visit)
            }
        }
    };
}

string_id!(
    /// Identifies an order inside ordersmith (assigned by the id generator port).
    OrderId, "order id"
);
string_id!(
    /// Identifies one line of an order.
    LineId, "line id"
);
/// How many of the engine's line ids (`L1` ... `L64`) are made once and shared.
const SHARED_LINE_IDS: u32 = 64;

impl LineId {
    /// `L{number}`, the id the engine gives the `number`th line of an order (equal to
    /// `LineId::parse(format!("L{number}"))`). Every order has an `L1`: the first 64 are
    /// made once and shared (a clone, no allocation), the rest made when asked for.
    ///
    /// ```
    /// use ordersmith::ids::LineId;
    /// assert_eq!(LineId::numbered(2).as_str(), "L2");
    /// ```
    pub fn numbered(number: u32) -> LineId {
        static SHARED: std::sync::OnceLock<Vec<LineId>> = std::sync::OnceLock::new();
        let shared = SHARED.get_or_init(|| {
            (1..=SHARED_LINE_IDS)
                .map(|n| LineId(Arc::from(format!("L{n}"))))
                .collect()
        });
        match number.checked_sub(1).and_then(|i| shared.get(i as usize)) {
            Some(id) => id.clone(),
            None => LineId(Arc::from(format!("L{number}"))),
        }
    }
}

string_id!(
    /// Identifies a sellable variant; by convention its SKU.
    VariantId, "variant id"
);
string_id!(
    /// Identifies a stock location: a warehouse, a store, a supplier's drop-ship.
    LocationId, "location id"
);
string_id!(
    /// Identifies a sales channel: `"web"`, `"shopify"`, `"trendyol-tr"`.
    ChannelId, "channel id"
);
string_id!(
    /// Identifies a customer in the host's own records.
    CustomerId, "customer id"
);
string_id!(
    /// Identifies a stock reservation (idempotency key of reserve, commit and release).
    ReservationId, "reservation id"
);
string_id!(
    /// Identifies a stock transfer between two locations (idempotency key of the transfer).
    TransferId, "transfer id"
);
string_id!(
    /// Identifies a cycle count at one location.
    CountId, "count id"
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    proptest::proptest! {
        // Eight bytes at a time, the same answer as byte by byte, for any bytes (the
        // bounds 0x1f/0x20 and 0x7e/0x7f, high bytes) and any length around a word.
        #[test]
        fn printable_ascii_word_by_word_is_byte_by_byte(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(0x1fu8), proptest::strategy::Just(0x20u8), proptest::strategy::Just(0x7eu8), proptest::strategy::Just(0x7fu8), proptest::strategy::Just(0x80u8),
                    proptest::strategy::Just(0xffu8), proptest::strategy::Just(0u8), 0x20u8..0x7f, proptest::num::u8::ANY,
                ],
                0..40,
            ),
        ) {
            proptest::prop_assert_eq!(
                printable_ascii(&bytes),
                bytes.iter().all(|c| (0x20..0x7f).contains(c))
            );
        }
    }

    proptest::proptest! {
        // The ASCII shortcut accepts exactly what the char-by-char rules accept, and
        // refuses with the same error: printable text, blanks, edges, controls, DEL,
        // invisible formats and lengths around the limit.
        #[test]
        fn the_ascii_shortcut_agrees_with_the_full_rules(
            s in "[ a-zA-Z0-9:\\-\t\n\x7f\u{1}\u{202E}é]{0,24}",
            max in 0usize..10,
        ) {
            proptest::prop_assert_eq!(
                validate_text("id", &s, max),
                validate_text_by_chars("id", &s, max)
            );
        }
    }

    proptest::proptest! {
        // Joining on the stack gives the id (or the error) that parsing the joined
        // text gives: at, under and over the length limit, multi-byte text included.
        #[test]
        fn joined_ids_are_parsed_joined_text(
            parts in proptest::collection::vec("[a-z0-9:é\u{1}\u{200B} ]{0,40}", 0..8),
        ) {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            proptest::prop_assert_eq!(
                ReservationId::joined(&parts),
                ReservationId::parse(parts.concat())
            );
        }
    }

    proptest::proptest! {
        // Valid ids joined with digits and `:` between them need no second reading:
        // the id (or the error) is the one parsing the joined text gives.
        #[test]
        fn joined_valid_ids_are_parsed_joined_text(
            order in "[a-zA-Z0-9é\u{4e2d}][a-zA-Z0-9 :é\u{4e2d}-]{0,70}[a-zA-Z0-9é]",
            line in "[a-zA-Z0-9]{1,70}",
            version in proptest::num::u64::ANY,
            k in proptest::num::usize::ANY,
        ) {
            let (version, k) = (version.to_string(), k.to_string());
            let parts = [order.as_str(), ":", line.as_str(), ":v", version.as_str(), ":", k.as_str()];
            proptest::prop_assert_eq!(
                ReservationId::joined_valid(&parts),
                ReservationId::parse(parts.concat())
            );
        }
    }

    #[test]
    fn ids_joined_at_the_length_limit() {
        let half = "x".repeat(MAX_ID_LEN / 2);
        let full = ReservationId::joined(&[&half, &half]).unwrap();
        assert_eq!(full.as_str().len(), MAX_ID_LEN);
        assert_eq!(
            ReservationId::joined(&[&half, &half, "y"]),
            ReservationId::parse(format!("{half}{half}y"))
        );
        assert!(ReservationId::joined(&[&half, &half, "y"]).is_err());
    }

    #[test]
    fn numbered_line_ids_are_shared_and_read_as_parsed_ones() {
        for n in [1, 2, 63, 64, 65, 1_000, u32::MAX] {
            let id = LineId::numbered(n);
            assert_eq!(id, LineId::parse(format!("L{n}")).unwrap());
            assert_eq!(id.as_str(), format!("L{n}"));
        }
        assert!(Arc::ptr_eq(&LineId::numbered(2).0, &LineId::numbered(2).0));
        assert!(!Arc::ptr_eq(
            &LineId::numbered(65).0,
            &LineId::numbered(65).0
        ));
        assert_eq!(LineId::numbered(0).as_str(), "L0");
    }

    #[test]
    fn borrowed_text_is_checked_like_owned_text() {
        // `TryFrom<&str>` takes the one-allocation path; it must accept and refuse
        // exactly what `parse` does.
        let long = "x".repeat(MAX_ID_LEN + 1);
        for text in [
            "o-17:L3:v12:1004",
            "",
            " padded",
            "a\u{200B}b",
            long.as_str(),
        ] {
            let borrowed = ReservationId::try_from(text);
            let owned = ReservationId::parse(text.to_string());
            assert_eq!(borrowed, owned, "{text:?}");
        }
        assert_eq!(
            ReservationId::try_from("o-17:L3:v12:1004").map(|id| id.as_str().to_string()),
            Ok("o-17:L3:v12:1004".to_string())
        );
    }

    #[test]
    fn ids_validate_at_the_edge() {
        assert!(OrderId::parse("ord-1").is_ok());
        assert_eq!(OrderId::parse("").unwrap_err().code(), "ID_EMPTY");
        assert_eq!(OrderId::parse("  ").unwrap_err().code(), "ID_EMPTY");
        assert_eq!(
            VariantId::parse(" SKU").unwrap_err().code(),
            "ID_INVALID_CHARACTERS"
        );
        assert_eq!(
            VariantId::parse("a\nb").unwrap_err().code(),
            "ID_INVALID_CHARACTERS"
        );
        assert_eq!(
            ChannelId::parse("x".repeat(129)).unwrap_err().code(),
            "ID_TOO_LONG"
        );
        let err = LocationId::parse("").unwrap_err();
        assert_eq!(err.to_string(), "location id must not be empty");
    }

    #[test]
    fn ids_refuse_bidi_overrides_and_invisible_characters() {
        // "SKU-\u{202E}DER" displays as "SKU-RED" reversed: two SKUs that look alike.
        for bad in [
            "SKU-\u{202E}DER",
            "SKU\u{200B}1",
            "\u{FEFF}SKU",
            "SKU\u{2066}1\u{2069}",
            "SKU\u{200F}",
            "SKU\u{061C}",
        ] {
            let err = VariantId::parse(bad).unwrap_err();
            assert_eq!(err.code(), "ID_INVALID_CHARACTERS", "{bad:?}");
            assert_eq!(
                err.to_string(),
                "variant id contains an invisible or bidirectional format character (such as U+202E)"
            );
        }
        assert_eq!(
            VariantId::parse("SKU ").unwrap_err().to_string(),
            "variant id contains leading or trailing whitespace"
        );
        assert_eq!(
            VariantId::parse("a\tb").unwrap_err().to_string(),
            "variant id contains a control character"
        );
        // Interior spaces and non-Latin letters are real SKUs.
        assert!(VariantId::parse("TEA 500G").is_ok());
        assert!(VariantId::parse("ÇAY-ŞEKER-500G").is_ok());
        assert!(VariantId::parse("شاي-500").is_ok());
        // Through serde too: an order input carrying such an id is refused.
        assert!(serde_json::from_str::<VariantId>("\"SKU\\u202eX\"").is_err());
    }

    #[test]
    fn ids_serialise_as_plain_strings() {
        let id = VariantId::parse("TSHIRT-RED-M").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"TSHIRT-RED-M\"");
        assert!(serde_json::from_str::<VariantId>("\"\"").is_err());
    }
}
