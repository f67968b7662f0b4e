//! Keyed records (the port's [`KeyedRecord`] / [`RecordWrite`]) in the `keyed_records`
//! table: version-checked writes inside a commit's transaction, and reads.

use ordersmith::ports::{KeyedRecord, RecordWrite, StoreError};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::{clamp_i64, store_error, to_i64, to_u64};

fn stored_version(tx: &Transaction<'_>, w: &RecordWrite) -> Result<u64, StoreError> {
    let v: Option<i64> = tx
        .prepare_cached("SELECT version FROM keyed_records WHERE namespace = ?1 AND key = ?2")
        .and_then(|mut s| {
            s.query_row(params![w.namespace, w.key], |r| r.get(0))
                .optional()
        })
        .map_err(store_error("reading a record version"))?;
    to_u64("record version", v.unwrap_or(0))
}

/// Applies each write if its record is still at the expected version; a mismatch is a
/// conflict and the caller's transaction is rolled back by dropping it.
pub(crate) fn write_records(
    tx: &Transaction<'_>,
    writes: &[RecordWrite],
) -> Result<(), StoreError> {
    for w in writes {
        let expected = to_i64("expected record version", w.expected_version)?;
        let changed = match (&w.value_json, w.expected_version) {
            (Some(json), 0) => tx
                .prepare_cached(
                    "INSERT INTO keyed_records (namespace, key, version, value_json) \
                     VALUES (?1, ?2, 1, ?3) ON CONFLICT (namespace, key) DO NOTHING",
                )
                .and_then(|mut s| s.execute(params![w.namespace, w.key, json])),
            (Some(json), _) => tx
                .prepare_cached(
                    "UPDATE keyed_records SET version = version + 1, value_json = ?3 \
                     WHERE namespace = ?1 AND key = ?2 AND version = ?4",
                )
                .and_then(|mut s| s.execute(params![w.namespace, w.key, json, expected])),
            (None, _) => tx
                .prepare_cached(
                    "DELETE FROM keyed_records WHERE namespace = ?1 AND key = ?2 AND version = ?3",
                )
                .and_then(|mut s| s.execute(params![w.namespace, w.key, expected])),
        }
        .map_err(store_error("writing a keyed record"))?;
        // Deleting at expected version 0 asks that the record be absent, and changes no
        // row; every other write must change exactly one row.
        let ok = if w.value_json.is_none() && w.expected_version == 0 {
            stored_version(tx, w)? == 0
        } else {
            changed == 1
        };
        if !ok {
            return Err(StoreError::Conflict {
                aggregate: w.aggregate(),
                expected: w.expected_version,
                actual: stored_version(tx, w)?,
            });
        }
    }
    Ok(())
}

fn row(
    namespace: &str,
    key: String,
    version: i64,
    json: String,
) -> Result<KeyedRecord, StoreError> {
    Ok(KeyedRecord {
        namespace: namespace.to_string(),
        key,
        version: to_u64("record version", version)?,
        value_json: json,
    })
}

pub(crate) fn read_record(
    conn: &Connection,
    namespace: &str,
    key: &str,
) -> Result<Option<KeyedRecord>, StoreError> {
    let found: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT version, value_json FROM keyed_records WHERE namespace = ?1 AND key = ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![namespace, key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(store_error("reading a keyed record"))?;
    found
        .map(|(v, json)| row(namespace, key.to_string(), v, json))
        .transpose()
}

pub(crate) fn read_records(
    conn: &Connection,
    namespace: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<KeyedRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT key, version, value_json FROM keyed_records \
             WHERE namespace = ?1 AND (?2 IS NULL OR key > ?2) ORDER BY key LIMIT ?3",
        )
        .map_err(store_error("listing keyed records"))?;
    // `None` rather than "": the empty key is a valid key and must be listed.
    let rows = stmt
        .query_map(params![namespace, after, clamp_i64(limit)], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(store_error("listing keyed records"))?;
    rows.into_iter()
        .map(|(key, v, json)| row(namespace, key, v, json))
        .collect()
}

pub(crate) fn namespaces(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT DISTINCT namespace FROM keyed_records ORDER BY namespace")
        .map_err(store_error("listing record namespaces"))?;
    stmt.query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(store_error("listing record namespaces"))
}
