//! Keyed records (the port's [`KeyedRecord`] / [`RecordWrite`]) in the `keyed_records`
//! table: version-checked writes inside a commit's transaction, and reads. Each write is
//! one conditional statement, so under READ COMMITTED a concurrent writer of the same
//! record makes this one wait and then match nothing: a conflict, never a lost update.

use ordersmith::ports::{KeyedRecord, RecordWrite, StoreError};
use postgres::{Client, Transaction};

use crate::{clamp_i64, store_error, to_i64, to_u64};

fn stored_version(tx: &mut Transaction<'_>, w: &RecordWrite) -> Result<u64, StoreError> {
    let row = tx
        .query_opt(
            "SELECT version FROM keyed_records WHERE namespace = $1 AND key = $2",
            &[&w.namespace, &w.key],
        )
        .map_err(store_error("reading a record version"))?;
    let v: i64 = match row {
        Some(r) => r
            .try_get(0)
            .map_err(store_error("reading a record version"))?,
        None => 0,
    };
    to_u64("record version", v)
}

/// Applies each write if its record is still at the expected version.
pub(crate) fn write_records(
    tx: &mut Transaction<'_>,
    writes: &[RecordWrite],
) -> Result<(), StoreError> {
    for w in writes {
        let expected = to_i64("expected record version", w.expected_version)?;
        let changed = match (&w.value_json, w.expected_version) {
            (Some(json), 0) => tx.execute(
                "INSERT INTO keyed_records (namespace, key, version, value_json) \
                 VALUES ($1, $2, 1, $3) ON CONFLICT (namespace, key) DO NOTHING",
                &[&w.namespace, &w.key, json],
            ),
            (Some(json), _) => tx.execute(
                "UPDATE keyed_records SET version = version + 1, value_json = $3 \
                 WHERE namespace = $1 AND key = $2 AND version = $4",
                &[&w.namespace, &w.key, json, &expected],
            ),
            (None, _) => tx.execute(
                "DELETE FROM keyed_records WHERE namespace = $1 AND key = $2 AND version = $3",
                &[&w.namespace, &w.key, &expected],
            ),
        }
        .map_err(store_error("writing a keyed record"))?;
        // Deleting at expected version 0 asks that the record be absent and changes no
        // row; every other write must change exactly one.
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

fn record(namespace: &str, row: &postgres::Row) -> Result<KeyedRecord, StoreError> {
    let read = store_error("reading a keyed record");
    let version: i64 = row.try_get(1).map_err(&read)?;
    Ok(KeyedRecord {
        namespace: namespace.to_string(),
        key: row.try_get(0).map_err(&read)?,
        version: to_u64("record version", version)?,
        value_json: row.try_get(2).map_err(&read)?,
    })
}

pub(crate) fn read_record(
    client: &mut Client,
    namespace: &str,
    key: &str,
) -> Result<Option<KeyedRecord>, StoreError> {
    let row = client
        .query_opt(
            "SELECT key, version, value_json FROM keyed_records WHERE namespace = $1 AND key = $2",
            &[&namespace, &key],
        )
        .map_err(store_error("reading a keyed record"))?;
    row.map(|r| record(namespace, &r)).transpose()
}

pub(crate) fn read_records(
    client: &mut Client,
    namespace: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<KeyedRecord>, StoreError> {
    // `None` rather than "": the empty key is a valid key and must be listed.
    let rows = client
        .query(
            "SELECT key, version, value_json FROM keyed_records \
             WHERE namespace = $1 AND ($2::TEXT IS NULL OR key > $2) ORDER BY key LIMIT $3",
            &[&namespace, &after, &clamp_i64(limit)],
        )
        .map_err(store_error("listing keyed records"))?;
    rows.iter().map(|r| record(namespace, r)).collect()
}

pub(crate) fn namespaces(client: &mut Client) -> Result<Vec<String>, StoreError> {
    let rows = client
        .query(
            "SELECT DISTINCT namespace FROM keyed_records ORDER BY namespace",
            &[],
        )
        .map_err(store_error("listing record namespaces"))?;
    rows.iter()
        .map(|r| {
            r.try_get(0)
                .map_err(store_error("listing record namespaces"))
        })
        .collect()
}
