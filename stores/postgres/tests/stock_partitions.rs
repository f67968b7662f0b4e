//! The stock log partitioned by variant on PostgreSQL (ADR 0012): appends to different
//! variants do not conflict, stale ones do, readers never miss an entry committed out of
//! id order, and a log written before migration 6 reads back as the same ledger.
//! Needs `--features pg-tests` and ORDERSMITH_PG_URL (scripts/test sets both).
#![cfg(feature = "pg-tests")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::*;
use ordersmith::engine::Engine;
use ordersmith::ids::{LocationId, VariantId};
use ordersmith::ports::memory::{SequentialIds, SystemClock};
use ordersmith::ports::{ChangeSet, StockAppend, StockCursor, StockPlace, Store, StoreError};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockLogEntry, StockPolicy};
use ordersmith_postgres::{PgOptions, PgStore, MIGRATIONS};
use ordersmith_store_conformance::fixtures;

fn v(s: &str) -> VariantId {
    VariantId::parse(s).unwrap()
}

fn ist() -> LocationId {
    LocationId::parse("IST").unwrap()
}

fn entry(seq: u64, command: StockCommand) -> StockLogEntry {
    StockLogEntry {
        seq,
        at: fixtures::start() + Duration::seconds(i64::try_from(seq).unwrap()),
        command,
    }
}

fn receive(variant: &str, quantity: u32) -> StockCommand {
    StockCommand::Receive {
        variant: v(variant),
        location: ist(),
        quantity,
        reference: None,
    }
}

fn setup() -> Vec<StockLogEntry> {
    let mut commands = vec![StockCommand::AddLocation {
        location: Location::new(ist(), "Istanbul DC", 1, "TR-34", LocationKind::Warehouse),
    }];
    for variant in ["A", "B"] {
        commands.push(StockCommand::RegisterVariant {
            variant: v(variant),
            policy: StockPolicy::Deny,
        });
    }
    commands
        .into_iter()
        .zip(1..)
        .map(|(c, seq)| entry(seq, c))
        .collect()
}

fn place(partition: Option<&str>, seq: u64, basis: u64) -> StockPlace {
    StockPlace {
        partition: partition.map(v),
        seq,
        basis,
    }
}

fn append(
    store: &PgStore,
    expected_seq: u64,
    entries: Vec<StockLogEntry>,
    places: Vec<StockPlace>,
) -> Result<(), StoreError> {
    store.commit(ChangeSet {
        stock: Some(StockAppend {
            expected_seq,
            entries,
            places,
        }),
        ..ChangeSet::default()
    })
}

fn engine(store: Arc<PgStore>) -> Engine {
    Engine::new(
        store.clone(),
        store,
        Arc::new(SystemClock::new()),
        Arc::new(SequentialIds::new()),
    )
}

fn on_hand(engine: &Engine, variant: &str) -> i64 {
    engine
        .with_stock(|s| s.balance(&v(variant), &ist()).on_hand)
        .unwrap()
}

#[test]
fn appends_to_different_variants_pass_each_other_and_stale_ones_are_conflicts() {
    let (store, _guard) = store_in_new_schema("parts", 2);
    append(&store, 0, setup(), Vec::new()).unwrap();
    // Two writers that both saw the same 3 entries: A's and B's partitions are
    // independent, so the second passes although the whole log moved under it.
    append(
        &store,
        3,
        vec![entry(4, receive("A", 5))],
        vec![place(Some("A"), 1, 3)],
    )
    .unwrap();
    append(
        &store,
        3,
        vec![entry(4, receive("B", 7))],
        vec![place(Some("B"), 1, 3)],
    )
    .unwrap();
    // The same variant, stale: a conflict naming the variant, and nothing saved.
    let err = append(
        &store,
        3,
        vec![entry(4, receive("A", 9))],
        vec![place(Some("A"), 1, 3)],
    )
    .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            aggregate: "stock of variant A".into(),
            expected: 0,
            actual: 1
        }
    );
    // A global entry must have seen the whole log (5 entries, not 3).
    let err = append(
        &store,
        3,
        vec![entry(4, StockCommand::Expire)],
        vec![place(None, 4, 3)],
    )
    .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            aggregate: "stock log".into(),
            expected: 3,
            actual: 5
        }
    );
    append(
        &store,
        5,
        vec![entry(6, StockCommand::Expire)],
        vec![place(None, 4, 5)],
    )
    .unwrap();
    // A variant entry decided before that global entry is now stale: the global head
    // (3 global entries then, 4 now) names it.
    let err = append(
        &store,
        5,
        vec![entry(6, receive("A", 1))],
        vec![place(Some("A"), 2, 3)],
    )
    .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            aggregate: "stock log (global entries)".into(),
            expected: 3,
            actual: 4
        }
    );
    // Two writers moving A's partition from the same head: the second is stale, and a
    // write of B beside it saves nothing either.
    append(
        &store,
        6,
        vec![entry(7, receive("A", 1))],
        vec![place(Some("A"), 2, 4)],
    )
    .unwrap();
    let err = append(
        &store,
        6,
        vec![entry(7, receive("B", 2)), entry(8, receive("A", 3))],
        vec![place(Some("B"), 2, 4), place(Some("A"), 2, 4)],
    )
    .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            aggregate: "stock of variant A".into(),
            expected: 1,
            actual: 2
        }
    );
    assert_eq!(store.stock_log_since(0, 100).unwrap().len(), 7);
    // A fresh engine reads every partition back.
    let fresh = engine(store.clone());
    assert_eq!((on_hand(&fresh, "A"), on_hand(&fresh, "B")), (6, 7));
    // Two engines writing different variants in turn each see the other's writes.
    let other = engine(store.clone());
    other.stock(receive("B", 1)).unwrap();
    fresh.stock(receive("A", 1)).unwrap();
    assert_eq!((on_hand(&other, "A"), on_hand(&fresh, "B")), (7, 8));
}

#[test]
fn an_entry_committed_out_of_id_order_is_read_after_it_commits() {
    let (store, guard) = store_in_new_schema("order", 2);
    append(&store, 0, setup(), Vec::new()).unwrap();
    let read = |cursor: StockCursor| {
        let mut got = Vec::new();
        let watermark = store
            .stock_log_read(cursor, &mut |e, p| {
                got.push((e, p.unwrap()));
                Ok(())
            })
            .unwrap();
        (got, watermark)
    };
    let (first, watermark) = read(StockCursor::default());
    assert_eq!(first.len(), 3);
    // Another process takes an id for B's entry first and commits it last.
    let mut slow = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let mut tx = slow.transaction().unwrap();
    tx.batch_execute(&format!("SET LOCAL search_path TO \"{}\"", guard.schema))
        .unwrap();
    tx.query_one(
        "SELECT pseq FROM stock_heads WHERE partition = '' FOR SHARE",
        &[],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO stock_heads (partition, pseq) VALUES ('B', 1)",
        &[],
    )
    .unwrap();
    let doc = serde_json::to_string(&entry(4, receive("B", 7))).unwrap();
    tx.execute(
        "INSERT INTO stock_entries (partition, pseq, basis, entry) VALUES ('B', 1, 3, $1)",
        &[&doc],
    )
    .unwrap();
    append(
        &store,
        3,
        vec![entry(4, receive("A", 5))],
        vec![place(Some("A"), 1, 3)],
    )
    .unwrap();
    let cursor = StockCursor {
        applied: 3,
        watermark,
    };
    let (second, watermark) = read(cursor);
    let partitions = |got: &[(StockLogEntry, StockPlace)]| -> Vec<Option<VariantId>> {
        got.iter().map(|(_, p)| p.partition.clone()).collect()
    };
    // A is there, B not yet (entries seen before may come again: other transactions on
    // the server hold the watermark back).
    assert!(partitions(&second).contains(&Some(v("A"))));
    assert!(!partitions(&second).contains(&Some(v("B"))));
    tx.commit().unwrap();
    // The read after B's commit, from the watermark the last read returned, has it
    // (possibly with A again: the reader skips what it applied).
    let (third, _) = read(StockCursor {
        applied: 4,
        watermark,
    });
    assert!(partitions(&third).contains(&Some(v("B"))), "B was missed");
    let fresh = engine(store.clone());
    assert_eq!((on_hand(&fresh, "A"), on_hand(&fresh, "B")), (5, 7));
}

#[test]
fn a_log_written_before_partitions_migrates_into_the_same_ledger() {
    let schema = unique_schema("legacy");
    let guard = SchemaGuard {
        schema: schema.clone(),
    };
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\";
             CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY,
                 name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());"
        ))
        .unwrap();
    for m in MIGRATIONS.iter().filter(|m| m.version <= 5) {
        client.batch_execute(m.sql).unwrap();
        client
            .execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&m.version, &m.name],
            )
            .unwrap();
    }
    let mut log = setup();
    log.push(entry(4, receive("A", 5)));
    log.push(entry(5, receive("B", 7)));
    for e in &log {
        client
            .execute(
                "INSERT INTO stock_log (seq, entry) VALUES ($1, $2)",
                &[
                    &i64::try_from(e.seq).unwrap(),
                    &serde_json::to_string(e).unwrap(),
                ],
            )
            .unwrap();
    }
    client
        .execute("UPDATE stock_head SET seq = 5 WHERE id = 1", &[])
        .unwrap();
    let store = Arc::new(
        PgStore::connect(
            &url(),
            PgOptions {
                schema: Some(schema),
                pool_size: 2,
                ..PgOptions::default()
            },
        )
        .unwrap(),
    );
    let serde = |l: &[StockLogEntry]| serde_json::to_string(l).unwrap();
    assert_eq!(serde(&store.stock_log_since(0, 100).unwrap()), serde(&log));
    let engine = engine(store.clone());
    assert_eq!((on_hand(&engine, "A"), on_hand(&engine, "B")), (5, 7));
    // It writes on: a variant entry after the five global ones.
    engine.stock(receive("A", 1)).unwrap();
    assert_eq!(on_hand(&engine, "A"), 6);
    drop(guard);
}
