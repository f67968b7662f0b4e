//! Packed documents (migration 6): the JSON documents the store keeps (order snapshots,
//! event records, outbox records, idempotency fingerprints, stock log entries) are
//! saved as zstd frames compressed against a dictionary of typical ordersmith JSON,
//! which takes a 1–2 KB document to a few hundred bytes.
//!
//! A packed value is a BLOB: one format byte ([`FORMAT_V1`]: dictionary 1), the
//! document's length in bytes (4 bytes, little endian), then the zstd frame. A TEXT value
//! is a document written before migration 6, read as it is. Dictionary 1 is part of the
//! file format: it is never changed (a test pins its checksum); a better one would be
//! dictionary 2, with its own format byte, and both stay readable.

use std::cell::RefCell;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::ToSql;

use ordersmith::ports::StoreError;

/// Format byte of a document packed with dictionary 1.
pub(crate) const FORMAT_V1: u8 = 1;

/// Dictionary 1: samples of the documents the store keeps (see `dictionaries/README.md`).
pub(crate) const DICTIONARY_V1: &[u8] = include_bytes!("../dictionaries/v1.json");

/// zstd level: 3 is zstd's default; with a dictionary, higher levels gain little on
/// documents this small and cost write time.
const LEVEL: i32 = 3;

/// Largest document accepted when unpacking (a corrupt length must not allocate
/// gigabytes).
const MAX_DOCUMENT: usize = 64 << 20;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// `json` packed for a BLOB column.
pub(crate) fn pack(json: &str) -> Result<Vec<u8>, StoreError> {
    let failed = |e: std::io::Error| StoreError::Unavailable {
        reason: format!("packing a document: {e}"),
    };
    let len = u32::try_from(json.len()).map_err(|_| StoreError::Unavailable {
        reason: format!("a document of {} bytes is too large to store", json.len()),
    })?;
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match cell.as_mut() {
            Some(c) => c,
            None => cell.insert(
                zstd::bulk::Compressor::with_dictionary(LEVEL, DICTIONARY_V1).map_err(failed)?,
            ),
        };
        let frame = compressor.compress(json.as_bytes()).map_err(failed)?;
        let mut out = Vec::with_capacity(frame.len() + 5);
        out.push(FORMAT_V1);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&frame);
        Ok(out)
    })
}

/// The JSON of a packed value.
pub(crate) fn unpack(packed: &[u8]) -> Result<String, String> {
    let (format, rest) = packed.split_first().ok_or("an empty packed document")?;
    if *format != FORMAT_V1 {
        return Err(format!(
            "unknown packed document format {format} (written by a newer ordersmith?)"
        ));
    }
    let (len, frame) = rest
        .split_first_chunk::<4>()
        .ok_or("a packed document without its length")?;
    let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|e| e.to_string())?;
    if len > MAX_DOCUMENT {
        return Err(format!("a packed document claims {len} bytes"));
    }
    DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let decompressor = match cell.as_mut() {
            Some(d) => d,
            None => cell.insert(
                zstd::bulk::Decompressor::with_dictionary(DICTIONARY_V1)
                    .map_err(|e| e.to_string())?,
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

/// A document to write: packed as it is bound.
pub(crate) struct Packed(pub(crate) Vec<u8>);

impl Packed {
    /// `value` as JSON, packed.
    pub(crate) fn of<T: serde::Serialize>(what: &str, value: &T) -> Result<Self, StoreError> {
        let json = serde_json::to_string(value).map_err(|e| StoreError::Unavailable {
            reason: format!("{what} could not be serialised: {e}"),
        })?;
        Ok(Packed(pack(&json)?))
    }

    /// JSON text, packed.
    pub(crate) fn text(json: &str) -> Result<Self, StoreError> {
        Ok(Packed(pack(json)?))
    }
}

impl ToSql for Packed {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(ValueRef::Blob(
            &self.0,
        )))
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
            assert_eq!(packed.first(), Some(&FORMAT_V1));
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

    /// Dictionary 1 is part of the file format: changing it would make every packed
    /// document unreadable. Add a dictionary 2 instead.
    #[test]
    fn dictionary_one_never_changes() {
        let checksum = DICTIONARY_V1
            .iter()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
            });
        assert_eq!(
            (DICTIONARY_V1.len(), checksum),
            (7_319, 0xf9f6_c642_9cc9_302b)
        );
    }
}
