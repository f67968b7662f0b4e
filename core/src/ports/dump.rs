//! Export a store's complete state as JSON lines, and import it into an empty store.
//!
//! The dump is the portable form of everything the [`Store`] and [`Outbox`] ports hold:
//! every order with its full event history, every idempotency record, the whole stock
//! log (the ledger is its fold) and every pending outbox record. It moves a shop from the in-memory store to SQLite, from SQLite to
//! PostgreSQL, and back, through nothing but the ports, so every store gets it for free.
//!
//! Format, one JSON object per line, each with a `kind`:
//!
//! 1. `{"kind":"header","format":"ordersmith-dump","version":1}`
//! 2. `{"kind":"order","snapshot":{..},"events":[..]}` per order, ordered by id
//! 3. `{"kind":"idempotency","record":{..}}` per key, ordered by key
//! 4. `{"kind":"stock","entry":{..}}` per stock log entry, in sequence
//! 5. `{"kind":"outbox","record":{..}}` per pending record, oldest first
//! 6. `{"kind":"document","document":{..}}` per invoice or credit note, by series then
//!    sequence (import checks each series runs 1, 2, 3, ... without a gap)
//! 7. `{"kind":"record","namespace":..,"key":..,"value_json":..}` per keyed record,
//!    ordered by namespace then key (since version 2; a record's version restarts at 1
//!    on import, as versions only guard concurrent writers)
//! 8. `{"kind":"end","orders":N,"idempotency":N,"stock":N,"outbox":N,"records":N,"documents":N}`,
//!    so a truncated file is refused rather than half imported unnoticed (`documents`
//!    is left out when zero)
//!
//! Import reads version 1 dumps (written before keyed records existed) too.
//!
//! The order of lines is fixed by the store contract (byte order of ids and keys,
//! outbox oldest first), so two stores with the same state give byte-identical dumps.
//!
//! ```
//! use ordersmith::engine::Engine;
//! use ordersmith::ports::dump::{export, import};
//! use ordersmith::ports::memory::MemoryStore;
//!
//! let source = MemoryStore::new();
//! let mut bytes = Vec::new();
//! export(&source, &source, &mut bytes)?;
//! let target = MemoryStore::new();
//! let stats = import(&target, &target, bytes.as_slice())?;
//! assert_eq!(stats.orders, 0);
//! # Ok::<(), ordersmith::ports::dump::DumpError>(())
//! ```

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use super::{
    ChangeSet, DocumentAppend, IdempotencyRecord, NewEvents, OrderChange, Outbox, OutboxRecord,
    OutboxWrite, RecordWrite, StockAppend, Store, StoreError,
};
use crate::invoice::InvoiceDocument;
use crate::order::{Order, OrderEventRecord};
use crate::stock::StockLogEntry;

/// The format name written in the header line.
pub const DUMP_FORMAT: &str = "ordersmith-dump";
/// The format version this code writes; it reads this one and every earlier one.
pub const DUMP_VERSION: u32 = 2;
/// Orders (or records) per store call while exporting and importing.
pub const DUMP_BATCH: usize = 200;

/// Why an export or import failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(untagged)]
pub enum DumpError {
    /// Reading or writing the stream failed.
    #[error("dump stream failed: {reason}")]
    Io {
        /// Why.
        reason: String,
    },
    /// A store call failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A line of the dump is not what the format allows.
    #[error("dump line {line} is malformed: {reason}")]
    Malformed {
        /// 1-based line number (0 when the problem is the end of the stream).
        line: u64,
        /// Why.
        reason: String,
    },
    /// The target store of an import already holds data.
    #[error("the target store is not empty: import only into an empty store")]
    TargetNotEmpty,
}

impl DumpError {
    /// Every code this enum can return itself (wrapped store errors keep their codes).
    pub const CODES: &'static [&'static str] =
        &["DUMP_IO", "DUMP_MALFORMED", "DUMP_TARGET_NOT_EMPTY"];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "DUMP_IO",
            Self::Store(e) => e.code(),
            Self::Malformed { .. } => "DUMP_MALFORMED",
            Self::TargetNotEmpty => "DUMP_TARGET_NOT_EMPTY",
        }
    }
}

/// How much a dump held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DumpStats {
    /// Orders, each with its history.
    pub orders: u64,
    /// Idempotency records.
    pub idempotency: u64,
    /// Stock log entries.
    #[serde(default)]
    pub stock: u64,
    /// Pending outbox records.
    pub outbox: u64,
    /// Keyed records.
    #[serde(default)]
    pub records: u64,
    /// Invoices and credit notes.
    #[serde(default)]
    pub documents: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    Header {
        format: String,
        version: u32,
    },
    Order {
        snapshot: Box<Order>,
        events: Vec<OrderEventRecord>,
    },
    Idempotency {
        record: IdempotencyRecord,
    },
    Stock {
        entry: StockLogEntry,
    },
    Outbox {
        record: OutboxRecord,
    },
    Document {
        document: Box<InvoiceDocument>,
    },
    Record {
        namespace: String,
        key: String,
        value_json: String,
    },
    End {
        orders: u64,
        idempotency: u64,
        #[serde(default)]
        stock: u64,
        outbox: u64,
        #[serde(default)]
        records: u64,
        // Absent when zero, so a store without documents dumps exactly as before.
        #[serde(default, skip_serializing_if = "is_zero")]
        documents: u64,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn write_line<W: Write>(out: &mut W, line: &Line) -> Result<(), DumpError> {
    serde_json::to_writer(&mut *out, line).map_err(|e| DumpError::Io {
        reason: e.to_string(),
    })?;
    out.write_all(b"\n").map_err(|e| DumpError::Io {
        reason: e.to_string(),
    })
}

/// Writes the complete state of `store` and `outbox` to `out` as JSON lines.
///
/// Reads page by page ([`DUMP_BATCH`]); for a consistent dump, export a store nobody
/// writes to meanwhile. Fails with [`StoreError::Corrupt`] if a listed order has no
/// snapshot or no history.
pub fn export<W: Write>(
    store: &dyn Store,
    outbox: &dyn Outbox,
    out: &mut W,
) -> Result<DumpStats, DumpError> {
    let mut stats = DumpStats::default();
    write_line(
        out,
        &Line::Header {
            format: DUMP_FORMAT.to_string(),
            version: DUMP_VERSION,
        },
    )?;
    let mut after = None;
    loop {
        let ids = store.order_ids(after.as_ref(), DUMP_BATCH)?;
        for id in &ids {
            let snapshot = store.load_order(id)?.ok_or_else(|| StoreError::Corrupt {
                reason: format!("order {id} is listed but has no snapshot"),
            })?;
            let events = store.order_events(id)?;
            if events.is_empty() {
                return Err(StoreError::Corrupt {
                    reason: format!("order {id} has no history"),
                }
                .into());
            }
            write_line(
                out,
                &Line::Order {
                    snapshot: Box::new(snapshot),
                    events,
                },
            )?;
            stats.orders += 1;
        }
        match ids.last() {
            Some(last) if ids.len() == DUMP_BATCH => after = Some(last.clone()),
            _ => break,
        }
    }
    let mut after: Option<String> = None;
    loop {
        let records = store.idempotency_records(after.as_deref(), DUMP_BATCH)?;
        let full = records.len() == DUMP_BATCH;
        after = records.last().map(|r| r.key.clone());
        for record in records {
            write_line(out, &Line::Idempotency { record })?;
            stats.idempotency += 1;
        }
        if !full {
            break;
        }
    }
    loop {
        let entries = store.stock_log_since(stats.stock, DUMP_BATCH)?;
        let full = entries.len() == DUMP_BATCH;
        for entry in entries {
            write_line(out, &Line::Stock { entry })?;
            stats.stock += 1;
        }
        if !full {
            break;
        }
    }
    for record in outbox.pending(usize::MAX)? {
        write_line(out, &Line::Outbox { record })?;
        stats.outbox += 1;
    }
    let mut after: Option<(String, u64)> = None;
    loop {
        let docs = store.documents(after.as_ref().map(|(s, n)| (s.as_str(), *n)), DUMP_BATCH)?;
        let full = docs.len() == DUMP_BATCH;
        after = docs.last().map(|d| (d.series.clone(), d.sequence));
        for document in docs {
            write_line(
                out,
                &Line::Document {
                    document: Box::new(document),
                },
            )?;
            stats.documents += 1;
        }
        if !full {
            break;
        }
    }
    for namespace in store.record_namespaces()? {
        let mut after: Option<String> = None;
        loop {
            let records = store.keyed_records(&namespace, after.as_deref(), DUMP_BATCH)?;
            let full = records.len() == DUMP_BATCH;
            after = records.last().map(|r| r.key.clone());
            for r in records {
                write_line(
                    out,
                    &Line::Record {
                        namespace: r.namespace,
                        key: r.key,
                        value_json: r.value_json,
                    },
                )?;
                stats.records += 1;
            }
            if !full {
                break;
            }
        }
    }
    write_line(
        out,
        &Line::End {
            orders: stats.orders,
            idempotency: stats.idempotency,
            stock: stats.stock,
            outbox: stats.outbox,
            records: stats.records,
            documents: stats.documents,
        },
    )?;
    out.flush().map_err(|e| DumpError::Io {
        reason: e.to_string(),
    })?;
    Ok(stats)
}

fn check_history(
    line: u64,
    snapshot: &Order,
    events: &[OrderEventRecord],
) -> Result<(), DumpError> {
    let malformed = |reason: String| DumpError::Malformed { line, reason };
    if events.is_empty() {
        return Err(malformed(format!("order {} has no events", snapshot.id)));
    }
    for (expected, event) in (1u64..).zip(events) {
        if event.order_id != snapshot.id || event.version != expected {
            return Err(malformed(format!(
                "order {}: event {} of {} is out of sequence",
                snapshot.id, event.version, event.order_id
            )));
        }
    }
    if events.last().map(|e| e.version) != Some(snapshot.version) {
        return Err(malformed(format!(
            "order {}: snapshot version {} is not its last event's",
            snapshot.id, snapshot.version
        )));
    }
    Ok(())
}

/// Loads a dump written by [`export`] into an empty store.
///
/// Orders are committed in batches of [`DUMP_BATCH`], then idempotency records, then
/// outbox records in their original order. Refuses a non-empty target
/// ([`DumpError::TargetNotEmpty`]), an unknown format or version, a history that is not
/// contiguous from version 1 up to the snapshot's version, and a stream that ends
/// without its `end` line or whose counts disagree ([`DumpError::Malformed`]). A
/// refused dump may leave the batches committed before the bad line: import into a
/// fresh store and discard it on error.
pub fn import<R: BufRead>(
    store: &dyn Store,
    outbox: &dyn Outbox,
    input: R,
) -> Result<DumpStats, DumpError> {
    import_observing(store, outbox, input, &mut |_| {})
}

/// [`import`], showing `observe` each order snapshot once its line is checked (the
/// engine learns the imported ids from them: [`crate::engine::Engine::import_dump`]).
pub(crate) fn import_observing<R: BufRead>(
    store: &dyn Store,
    outbox: &dyn Outbox,
    input: R,
    observe: &mut dyn FnMut(&Order),
) -> Result<DumpStats, DumpError> {
    if !store.order_ids(None, 1)?.is_empty()
        || !store.idempotency_records(None, 1)?.is_empty()
        || !store.stock_log_since(0, 1)?.is_empty()
        || !outbox.pending(1)?.is_empty()
        || !store.record_namespaces()?.is_empty()
        || !store.documents(None, 1)?.is_empty()
    {
        return Err(DumpError::TargetNotEmpty);
    }
    let mut stats = DumpStats::default();
    let mut batch = ChangeSet::default();
    let mut seen_header = false;
    let mut ended = false;
    let mut number = 0u64;
    let mut series_last: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for text in input.lines() {
        number += 1;
        let text = text.map_err(|e| DumpError::Io {
            reason: e.to_string(),
        })?;
        if ended {
            return Err(DumpError::Malformed {
                line: number,
                reason: "data after the end line".to_string(),
            });
        }
        let line: Line = serde_json::from_str(&text).map_err(|e| DumpError::Malformed {
            line: number,
            reason: e.to_string(),
        })?;
        match line {
            Line::Header { format, version } => {
                if seen_header || format != DUMP_FORMAT || !(1..=DUMP_VERSION).contains(&version) {
                    return Err(DumpError::Malformed {
                        line: number,
                        reason: format!(
                            "expected one {DUMP_FORMAT} header of version 1 to {DUMP_VERSION} first, found {format} version {version}"
                        ),
                    });
                }
                seen_header = true;
                continue;
            }
            _ if !seen_header => {
                return Err(DumpError::Malformed {
                    line: number,
                    reason: "the first line must be the header".to_string(),
                })
            }
            Line::Order { snapshot, events } => {
                check_history(number, &snapshot, &events)?;
                observe(&snapshot);
                let events =
                    NewEvents::from_records(snapshot.id.clone(), 0, events).map_err(|e| {
                        DumpError::Malformed {
                            line: number,
                            reason: e.to_string(),
                        }
                    })?;
                batch.orders.push(OrderChange {
                    expected_version: 0,
                    events,
                    snapshot: *snapshot,
                });
                stats.orders += 1;
            }
            Line::Idempotency { record } => {
                batch.idempotency.push(record);
                stats.idempotency += 1;
            }
            Line::Stock { entry } => {
                if entry.seq != stats.stock + 1 {
                    return Err(DumpError::Malformed {
                        line: number,
                        reason: format!(
                            "stock log entry {} follows entry {}",
                            entry.seq, stats.stock
                        ),
                    });
                }
                let expected_seq = stats.stock;
                batch
                    .stock
                    .get_or_insert_with(|| StockAppend {
                        expected_seq,
                        entries: Vec::new(),
                        places: Vec::new(),
                    })
                    .entries
                    .push(entry);
                stats.stock += 1;
            }
            Line::Outbox { record } => {
                batch.outbox.push(OutboxWrite::Record(record));
                stats.outbox += 1;
            }
            Line::Document { document } => {
                let last = series_last.entry(document.series.clone()).or_insert(0);
                if document.sequence != *last + 1 {
                    return Err(DumpError::Malformed {
                        line: number,
                        reason: format!(
                            "document {} is number {} of its series after number {}",
                            document.number, document.sequence, last
                        ),
                    });
                }
                batch.documents.push(DocumentAppend {
                    expected_last: *last,
                    document: *document,
                });
                *last += 1;
                stats.documents += 1;
            }
            Line::Record {
                namespace,
                key,
                value_json,
            } => {
                // A key twice would be refused by the store as a conflict; say where.
                if batch
                    .records
                    .iter()
                    .any(|w| w.namespace == namespace && w.key == key)
                {
                    return Err(DumpError::Malformed {
                        line: number,
                        reason: format!("record {namespace}/{key} appears twice"),
                    });
                }
                batch.records.push(RecordWrite {
                    namespace,
                    key,
                    expected_version: 0,
                    value_json: Some(value_json),
                });
                stats.records += 1;
            }
            Line::End {
                orders,
                idempotency,
                stock,
                outbox,
                records,
                documents,
            } => {
                let expected = DumpStats {
                    orders,
                    idempotency,
                    stock,
                    outbox,
                    records,
                    documents,
                };
                if expected != stats {
                    return Err(DumpError::Malformed {
                        line: number,
                        reason: format!(
                            "the end line counts {expected:?}, the dump held {stats:?}"
                        ),
                    });
                }
                ended = true;
            }
        }
        let size = batch.orders.len()
            + batch.idempotency.len()
            + batch.stock.as_ref().map_or(0, |s| s.entries.len())
            + batch.outbox.len()
            + batch.records.len()
            + batch.documents.len();
        if size >= DUMP_BATCH {
            store.commit(std::mem::take(&mut batch))?;
        }
    }
    if !ended {
        return Err(DumpError::Malformed {
            line: 0,
            reason: "the dump ends without its end line (truncated?)".to_string(),
        });
    }
    if !batch.is_empty() {
        store.commit(batch)?;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::memory::MemoryStore;

    #[test]
    fn an_empty_store_dumps_a_header_and_an_end() {
        let store = MemoryStore::new();
        let mut bytes = Vec::new();
        export(&store, &store, &mut bytes).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "{\"kind\":\"header\",\"format\":\"ordersmith-dump\",\"version\":2}\n\
             {\"kind\":\"end\",\"orders\":0,\"idempotency\":0,\"stock\":0,\"outbox\":0,\"records\":0}\n"
        );
    }

    #[test]
    fn keyed_records_travel_and_version_one_dumps_still_import() {
        let source = MemoryStore::new();
        let write = |key: &str, expected: u64, json: &str| RecordWrite {
            namespace: "channels.listing".into(),
            key: key.into(),
            expected_version: expected,
            value_json: Some(json.into()),
        };
        source
            .commit(ChangeSet {
                records: vec![write("b", 0, "{\"n\":1}"), write("a", 0, "[]")],
                ..ChangeSet::default()
            })
            .unwrap();
        source
            .commit(ChangeSet {
                records: vec![write("b", 1, "{\"n\":2}")],
                ..ChangeSet::default()
            })
            .unwrap();
        let mut bytes = Vec::new();
        let stats = export(&source, &source, &mut bytes).unwrap();
        assert_eq!(stats.records, 2);
        let target = MemoryStore::new();
        assert_eq!(import(&target, &target, bytes.as_slice()).unwrap(), stats);
        let b = target
            .keyed_record("channels.listing", "b")
            .unwrap()
            .unwrap();
        assert_eq!((b.version, b.value_json.as_str()), (1, "{\"n\":2}"));
        // A target holding only records is not empty either.
        assert_eq!(
            import(&target, &target, bytes.as_slice()).unwrap_err(),
            DumpError::TargetNotEmpty
        );
        let v1 = "{\"kind\":\"header\",\"format\":\"ordersmith-dump\",\"version\":1}\n\
                  {\"kind\":\"end\",\"orders\":0,\"idempotency\":0,\"stock\":0,\"outbox\":0}\n";
        let fresh = MemoryStore::new();
        assert_eq!(
            import(&fresh, &fresh, v1.as_bytes()).unwrap(),
            DumpStats::default()
        );
    }

    #[test]
    fn truncated_or_foreign_dumps_are_refused() {
        let store = MemoryStore::new();
        let header = "{\"kind\":\"header\",\"format\":\"ordersmith-dump\",\"version\":1}\n";
        let err = import(&store, &store, header.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "DUMP_MALFORMED");
        let err = import(&store, &store, "{\"kind\":\"end\"}\n".as_bytes()).unwrap_err();
        assert_eq!(err.code(), "DUMP_MALFORMED");
        let other = "{\"kind\":\"header\",\"format\":\"ordersmith-dump\",\"version\":9}\n";
        let err = import(&store, &store, other.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "DUMP_MALFORMED");
        let miscount =
            format!("{header}{{\"kind\":\"end\",\"orders\":1,\"idempotency\":0,\"outbox\":0}}\n");
        let err = import(&store, &store, miscount.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "DUMP_MALFORMED");
    }

    #[test]
    fn a_store_with_data_is_not_an_import_target() {
        let store = MemoryStore::new();
        store
            .commit(ChangeSet {
                idempotency: vec![IdempotencyRecord {
                    key: "k".into(),
                    fingerprint: "f".into(),
                    order_id: crate::ids::OrderId::parse("o-1").unwrap(),
                    order_version: 1,
                }],
                ..ChangeSet::default()
            })
            .unwrap();
        let mut bytes = Vec::new();
        export(&MemoryStore::new(), &MemoryStore::new(), &mut bytes).unwrap();
        assert_eq!(
            import(&store, &store, bytes.as_slice()).unwrap_err(),
            DumpError::TargetNotEmpty
        );
    }
}
