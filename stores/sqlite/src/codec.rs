//! Packed documents (migration 6): the JSON documents the store keeps (order snapshots,
//! event records, outbox records, idempotency fingerprints, stock log entries) are
//! saved as zstd frames compressed against a dictionary of typical ordersmith JSON,
//! which takes a 1–2 KB document to a few hundred bytes.
//!
//! A packed value is a BLOB: one format byte (the dictionary: [`FORMAT_V1`] or
//! [`FORMAT_V2`]), the document's length in bytes (4 bytes, little endian), then the
//! zstd frame. A TEXT value is a document written before migration 6, or one small
//! enough to keep as it is, read as it is. A dictionary is part of the file format: it
//! is never changed (tests pin their checksums); a better one gets its own format byte,
//! and every earlier one stays readable.
//!
//! Documents are packed with dictionary 2 since migration 11. Dictionary 1 is raw
//! content (JSON samples), so each frame built its own entropy tables for its
//! sequences, a third of the instructions of packing a change set; dictionary 2 is
//! trained (`examples/dictionary_v2`) and carries tables a frame reuses.

use std::cell::RefCell;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};

use ordersmith::ports::StoreError;

/// Format byte of a document packed with dictionary 1 (migrations 6 to 10).
pub(crate) const FORMAT_V1: u8 = 1;

/// Format byte of a document packed with dictionary 2 (migration 11 on).
pub(crate) const FORMAT_V2: u8 = 2;

/// Dictionary 1: samples of the documents the store keeps, as they are
/// (`examples/dictionary_samples`).
pub(crate) const DICTIONARY_V1: &[u8] = include_bytes!("../dictionaries/v1.json");

/// Dictionary 2: trained by zstd over a busy day's documents, entropy tables included
/// (`examples/dictionary_v2`).
pub(crate) const DICTIONARY_V2: &[u8] = include_bytes!("../dictionaries/v2.zdict");

/// zstd level. A negative level ("fast") stores literals as they are instead of building
/// a Huffman table for every document (a fifth of the store's instructions per order
/// at level 3, on these small documents): measured on the `sqlite_import` bench (callgrind, 5,000
/// orders), level -3 against 3 took the store from 254 k to 188 k instructions per
/// order; the file after 100,000 orders grew from 845 to 919 bytes per order (0.67 to
/// 0.73 of the order's JSON; the goal is at most 1.5). Any level writes frames every
/// version of this codec reads: the level is not part of the format.
const LEVEL: i32 = -3;

/// Largest document accepted when unpacking (a corrupt length must not allocate
/// gigabytes).
const MAX_DOCUMENT: usize = 64 << 20;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    /// One per format, made when a document of that format is first read.
    static DECOMPRESSORS: RefCell<[Option<zstd::bulk::Decompressor<'static>>; 2]> = const { RefCell::new([None, None]) };
}

fn pack_failed(e: std::io::Error) -> StoreError {
    StoreError::Unavailable {
        reason: format!("packing a document: {e}"),
    }
}

/// A compressor for dictionary 2 at [`LEVEL`].
fn compressor() -> Result<zstd::bulk::Compressor<'static>, StoreError> {
    zstd::bulk::Compressor::with_dictionary(LEVEL, DICTIONARY_V2).map_err(pack_failed)
}

/// Where one packed document sits in a [`PackedDocs`] buffer, and how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DocRange {
    start: usize,
    end: usize,
    /// Kept as JSON text (a TEXT value) rather than a zstd frame.
    text: bool,
}

/// Documents packed one after another into one buffer (one allocation for all the
/// documents of a change set), each bound to its statement through [`PackedDocs::get`].
#[derive(Default)]
pub(crate) struct PackedDocs {
    bytes: Vec<u8>,
}

/// One packed document as a statement parameter: a BLOB frame or, for a document kept
/// as it is, TEXT.
pub(crate) enum DocValue<'a> {
    Packed(&'a [u8]),
    Text(&'a str),
}

impl rusqlite::ToSql for DocValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match self {
            DocValue::Packed(bytes) => {
                rusqlite::types::ToSqlOutput::Borrowed(ValueRef::Blob(bytes))
            }
            DocValue::Text(text) => {
                rusqlite::types::ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes()))
            }
        })
    }
}

impl PackedDocs {
    /// `json` packed at the end of the buffer (the format byte, the length and the
    /// frame, written straight into the buffer's storage).
    pub(crate) fn push(&mut self, json: &[u8]) -> Result<DocRange, StoreError> {
        let start = self.bytes.len();
        if json.len() <= KEEP_AS_TEXT && std::str::from_utf8(json).is_ok() {
            self.bytes.extend_from_slice(json);
            return Ok(DocRange {
                start,
                end: self.bytes.len(),
                text: true,
            });
        }
        if let Err(e) = pack_append(json, &mut self.bytes) {
            self.bytes.truncate(start);
            return Err(e);
        }
        Ok(DocRange {
            start,
            end: self.bytes.len(),
            text: false,
        })
    }

    /// `value`'s JSON, packed at the end of the buffer; `scratch` holds the JSON on the
    /// way (reused from one document to the next).
    pub(crate) fn push_value<T: serde::Serialize + ?Sized>(
        &mut self,
        what: &str,
        value: &T,
        scratch: &mut Vec<u8>,
    ) -> Result<DocRange, StoreError> {
        scratch.clear();
        serialise_into(what, value, scratch)?;
        self.push(scratch)
    }

    /// The document at `range`, to bind to a statement.
    pub(crate) fn get(&self, range: DocRange) -> Result<DocValue<'_>, StoreError> {
        let out_of_step = || StoreError::Unavailable {
            reason: "a packed document is missing from its change set (a bug in the SQLite store)"
                .to_string(),
        };
        let bytes = self
            .bytes
            .get(range.start..range.end)
            .ok_or_else(out_of_step)?;
        if range.text {
            std::str::from_utf8(bytes)
                .map(DocValue::Text)
                .map_err(|_| out_of_step())
        } else {
            Ok(DocValue::Packed(bytes))
        }
    }
}

/// Documents of at most this many bytes are stored as JSON text, as documents were
/// before migration 6 (every version since reads both). An idempotency fingerprint (71
/// bytes of hex: nothing for zstd to find) came out of a frame as 85 bytes, and each
/// frame costs tens of thousands of instructions to make whatever the document's size.
/// Larger small documents (outbox records, ~150 bytes) still pack to well under half:
/// measured on `sqlite_import` with 100,000 orders, keeping everything up to 256 bytes
/// as text saved 7 % of the store's time and grew the file by 10 %.
const KEEP_AS_TEXT: usize = 96;

/// `json` packed at the end of `out`: the format byte, the length and the frame,
/// written straight into `out`'s storage, so a buffer reused from one document to the
/// next packs without allocating.
fn pack_append(json: &[u8], out: &mut Vec<u8>) -> Result<(), StoreError> {
    let len = u32::try_from(json.len()).map_err(|_| StoreError::Unavailable {
        reason: format!("a document of {} bytes is too large to store", json.len()),
    })?;
    out.push(FORMAT_V2);
    out.extend_from_slice(&len.to_le_bytes());
    let header = out.len();
    out.reserve(zstd::zstd_safe::compress_bound(json.len()));
    COMPRESSOR.with(|cell| {
        // A compressor in use further up this thread's stack (it cannot be: nothing
        // packs while packing) would get a fresh one rather than a panic.
        let mut fresh = None;
        let mut borrowed = cell.try_borrow_mut().ok();
        let compressor = match borrowed.as_deref_mut() {
            Some(Some(c)) => c,
            Some(slot @ None) => slot.insert(compressor()?),
            None => fresh.insert(compressor()?),
        };
        let mut cursor = std::io::Cursor::new(&mut *out);
        cursor.set_position(header as u64);
        compressor
            .compress_to_buffer(json, &mut cursor)
            .map_err(pack_failed)?;
        Ok(())
    })
}

/// `json` packed into `out`, replacing what it held.
#[cfg(test)]
pub(crate) fn pack_into(json: &[u8], out: &mut Vec<u8>) -> Result<(), StoreError> {
    out.clear();
    pack_append(json, out)
}

/// `json` packed for a BLOB column.
#[cfg(test)]
pub(crate) fn pack(json: &str) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::new();
    pack_into(json.as_bytes(), &mut out)?;
    Ok(out)
}

/// Appends `value`'s JSON to `out`.
pub(crate) fn serialise_into<T: serde::Serialize + ?Sized>(
    what: &str,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *out, value).map_err(|e| StoreError::Unavailable {
        reason: format!("{what} could not be serialised: {e}"),
    })
}

/// The JSON of a packed value.
pub(crate) fn unpack(packed: &[u8]) -> Result<String, String> {
    let (format, rest) = packed.split_first().ok_or("an empty packed document")?;
    let (slot, dictionary) = match *format {
        FORMAT_V1 => (0, DICTIONARY_V1),
        FORMAT_V2 => (1, DICTIONARY_V2),
        _ => {
            return Err(format!(
                "unknown packed document format {format} (written by a newer ordersmith?)"
            ))
        }
    };
    let (len, frame) = rest
        .split_first_chunk::<4>()
        .ok_or("a packed document without its length")?;
    let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|e| e.to_string())?;
    if len > MAX_DOCUMENT {
        return Err(format!("a packed document claims {len} bytes"));
    }
    DECOMPRESSORS.with(|cell| {
        let mut cell = cell.borrow_mut();
        let Some(slot) = cell.get_mut(slot) else {
            return Err(format!("no decompressor for format {format}"));
        };
        let decompressor = match slot {
            Some(d) => d,
            None => slot.insert(
                zstd::bulk::Decompressor::with_dictionary(dictionary).map_err(|e| e.to_string())?,
            ),
        };
        let bytes = decompressor
            .decompress(frame, len)
            .map_err(|e| e.to_string())?;
        if bytes.len() != len {
            return Err(format!(
                "a packed document unpacked to {} bytes, not {len}",
                bytes.len()
            ));
        }
        String::from_utf8(bytes).map_err(|e| e.to_string())
    })
}

/// A document column read back: packed (BLOB) or, from before migration 6, JSON text.
pub(crate) struct Doc(pub(crate) String);

impl FromSql for Doc {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Text(text) => std::str::from_utf8(text)
                .map(|s| Doc(s.to_string()))
                .map_err(|e| FromSqlError::Other(Box::new(e))),
            ValueRef::Blob(packed) => unpack(packed)
                .map(Doc)
                .map_err(|e| FromSqlError::Other(e.into())),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_exactly() {
        for json in [
            "",
            "{}",
            r#"{"id":"order-000001","version":1,"note":"çay ve fincan"}"#,
            &"x".repeat(100_000),
        ] {
            let packed = pack(json).unwrap();
            assert_eq!(packed.first(), Some(&FORMAT_V2));
            assert_eq!(unpack(&packed).unwrap(), json);
        }
    }

    #[test]
    fn damaged_documents_are_errors_not_panics() {
        let packed = pack(r#"{"id":"order-000001"}"#).unwrap();
        assert!(unpack(&[]).is_err());
        assert!(unpack(&[9, 0, 0, 0, 0]).is_err());
        assert!(unpack(&packed[..3]).is_err());
        let mut wrong_len = packed.clone();
        wrong_len[1] = wrong_len[1].wrapping_add(1);
        assert!(unpack(&wrong_len).is_err());
        let mut huge = packed.clone();
        huge[4] = 0xff;
        assert!(unpack(&huge).is_err());
    }

    /// One buffer holds a whole change set's documents: each must come out exactly as
    /// packed alone, whatever was packed before it.
    #[test]
    fn documents_packed_into_one_buffer_each_unpack_alone() {
        let long = format!(r#"{{"note":"{}"}}"#, "çay ".repeat(2_000));
        let docs = [
            long.as_str(),
            "{}",
            r#"{"id":"order-000001","version":1}"#,
            "",
            long.as_str(),
            r#"["a"]"#,
        ];
        let mut packed = PackedDocs::default();
        let mut ranges = Vec::new();
        for json in docs {
            ranges.push(packed.push(json.as_bytes()).unwrap());
        }
        let mut scratch = Vec::new();
        let values = [
            serde_json::json!({"id": "order-000002", "lines": [1, 2, 3]}),
            serde_json::json!("x"),
            serde_json::json!({"note": long}),
            serde_json::json!(null),
        ];
        for value in &values {
            ranges.push(packed.push_value("a value", value, &mut scratch).unwrap());
        }
        let expected = docs
            .iter()
            .map(|d| (*d).to_string())
            .chain(values.iter().map(|v| serde_json::to_string(v).unwrap()));
        for (range, json) in ranges.into_iter().zip(expected) {
            match packed.get(range).unwrap() {
                DocValue::Packed(bytes) => {
                    assert!(json.len() > KEEP_AS_TEXT);
                    assert_eq!(unpack(bytes).unwrap(), json);
                    assert_eq!(bytes[..5], pack(&json).unwrap()[..5]);
                }
                DocValue::Text(text) => {
                    assert!(json.len() <= KEEP_AS_TEXT);
                    assert_eq!(text, json);
                }
            }
        }
    }

    proptest::proptest! {
        /// Any text, packed by a buffer that held anything before, unpacks to itself.
        #[test]
        fn reused_buffers_round_trip(before in ".{0,600}", json in ".{0,600}") {
            let mut out = Vec::new();
            pack_into(before.as_bytes(), &mut out).unwrap();
            pack_into(json.as_bytes(), &mut out).unwrap();
            proptest::prop_assert_eq!(unpack(&out).unwrap(), json);
        }
    }

    /// The level is not part of the format: frames written at any level, such as those
    /// of files written at level 3 before, unpack alike; and every format written
    /// before (dictionary 1, migrations 6 to 10) still unpacks.
    #[test]
    fn frames_of_any_level_and_format_unpack() {
        let json =
            r#"{"id":"order-000001","version":1,"lines":[{"sku":"SKU-001-S","quantity":2}]}"#;
        for (format, dictionary) in [(FORMAT_V1, DICTIONARY_V1), (FORMAT_V2, DICTIONARY_V2)] {
            for level in [-7, -3, -1, 1, 3, 9] {
                let frame = zstd::bulk::Compressor::with_dictionary(level, dictionary)
                    .unwrap()
                    .compress(json.as_bytes())
                    .unwrap();
                let mut packed = vec![format];
                packed.extend_from_slice(&u32::try_from(json.len()).unwrap().to_le_bytes());
                packed.extend_from_slice(&frame);
                assert_eq!(
                    unpack(&packed).unwrap(),
                    json,
                    "format {format} level {level}"
                );
            }
        }
    }

    /// A frame is read with the dictionary its format byte names, not another: one
    /// packed with dictionary 2 and labelled 1 does not come out as the document.
    #[test]
    fn the_format_byte_chooses_the_dictionary() {
        let json = r#"{"order_id":"order-000001","version":2,"event":{"type":"confirmed"}}"#;
        let mut packed = pack(json).unwrap();
        assert_eq!(unpack(&packed).unwrap(), json);
        packed[0] = FORMAT_V1;
        assert_ne!(unpack(&packed).ok().as_deref(), Some(json));
    }

    fn fnv1a64(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// A dictionary is part of the file format: changing one would make every
    /// document packed with it unreadable. Add a dictionary 3 instead. The checksums
    /// are the ones migrations 6 and 11 record in `document_formats`.
    #[test]
    fn dictionaries_never_change() {
        assert_eq!(
            (DICTIONARY_V1.len(), fnv1a64(DICTIONARY_V1)),
            (7_319, 0xf9f6_c642_9cc9_302b)
        );
        assert_eq!(
            (DICTIONARY_V2.len(), fnv1a64(DICTIONARY_V2)),
            (16_384, 0xd0bb_d40f_6bd7_7297)
        );
    }
}
