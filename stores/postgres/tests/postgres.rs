//! What is particular to PostgreSQL: several stores (processes) on one database,
//! claims by several workers, migrations, and the cross-store dump chain.
//! Needs `--features pg-tests` and ORDERSMITH_PG_URL (scripts/test sets both).
#![cfg(feature = "pg-tests")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::*;
use ordersmith::ports::dump::{export, import};
use ordersmith::ports::memory::MemoryStore;
use ordersmith::ports::{ChangeSet, Outbox, OutboxRecord, OutboxWrite, Store};
use ordersmith_postgres::{OpenError, PgOptions, PgStore, MIGRATIONS};
use ordersmith_sqlite::SqliteStore;
use ordersmith_store_conformance::{fixtures, StoreUnderTest};

fn effects(n: usize) -> Vec<OutboxRecord> {
    (0..n)
        .map(|i| OutboxRecord {
            id: format!("e-{i:05}"),
            topic: "order.test".into(),
            aggregate_id: "o-1".into(),
            aggregate_version: 1,
            created_at: fixtures::start(),
            payload_json: "{}".into(),
        })
        .collect()
}

#[test]
fn two_workers_claiming_at_once_never_get_the_same_record() {
    let (store, _guard) = store_in_new_schema("claim", 4);
    let total = 600;
    for chunk in effects(total).chunks(100) {
        store
            .commit(ChangeSet {
                outbox: chunk.iter().cloned().map(Into::into).collect(),
                ..ChangeSet::default()
            })
            .unwrap();
    }
    let barrier = Arc::new(Barrier::new(2));
    let workers: Vec<_> = ["w1", "w2"]
        .into_iter()
        .map(|worker| {
            let store = store.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_pending(worker, 7, Duration::from_secs(60))
                        .unwrap();
                    if batch.is_empty() {
                        break;
                    }
                    // Oldest first within a claim.
                    assert!(batch.windows(2).all(|w| w[0].id < w[1].id));
                    mine.extend(batch.into_iter().map(|r| r.id));
                }
                mine
            })
        })
        .collect();
    let claimed: Vec<Vec<String>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let (a, b): (HashSet<&String>, HashSet<&String>) =
        (claimed[0].iter().collect(), claimed[1].iter().collect());
    assert_eq!(a.len(), claimed[0].len(), "a worker got a record twice");
    assert!(
        a.is_disjoint(&b),
        "both workers claimed {:?}",
        a.intersection(&b).next()
    );
    assert_eq!(a.len() + b.len(), total, "every record was claimed once");
    assert!(
        !claimed[0].is_empty() && !claimed[1].is_empty(),
        "both workers took part"
    );
    // Leased, not acknowledged: pending (at-least-once) still lists them all.
    assert_eq!(store.pending(usize::MAX).unwrap().len(), total);
    assert!(store
        .claim_pending("w3", 10, Duration::from_secs(60))
        .unwrap()
        .is_empty());
}

#[test]
fn an_expired_lease_is_claimed_again_and_an_acknowledged_record_never() {
    let (store, _guard) = store_in_new_schema("lease", 2);
    store
        .commit(ChangeSet {
            outbox: effects(3).into_iter().map(Into::into).collect(),
            ..ChangeSet::default()
        })
        .unwrap();
    let first = store
        .claim_pending("w1", 2, Duration::from_millis(200))
        .unwrap();
    assert_eq!(
        first.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["e-00000", "e-00001"]
    );
    assert!(store.acknowledge("e-00000").unwrap());
    let second = store
        .claim_pending("w2", 10, Duration::from_secs(60))
        .unwrap();
    assert_eq!(
        second.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["e-00002"]
    );
    std::thread::sleep(Duration::from_millis(400));
    let third = store
        .claim_pending("w2", 10, Duration::from_secs(60))
        .unwrap();
    assert_eq!(
        third.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["e-00001"]
    );
}

/// Outbox records are written in one statement per change set: they keep their order,
/// and a repeated id (stored before, or twice in one change set) refuses the change set,
/// names the id, and leaves nothing of it behind.
#[test]
fn outbox_records_keep_their_order_and_a_repeated_id_refuses_the_change_set() {
    let (store, _guard) = store_in_new_schema("outbox_ids", 2);
    let mut records = effects(5);
    records.reverse();
    store
        .commit(ChangeSet {
            outbox: records.iter().cloned().map(Into::into).collect(),
            ..ChangeSet::default()
        })
        .unwrap();
    let ids = |s: &PgStore| -> Vec<String> {
        s.pending(100).unwrap().into_iter().map(|r| r.id).collect()
    };
    let expected: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids(&store), expected, "oldest first, as given");

    let fresh = OutboxRecord {
        id: "e-fresh".into(),
        ..records[0].clone()
    };
    for (repeated, named) in [
        (vec![fresh.clone(), records[2].clone()], "e-00002"),
        (vec![fresh.clone(), fresh.clone()], "e-fresh"),
    ] {
        let created = fixtures::new_order_change("o-9", "web", fixtures::start());
        let err = store
            .commit(ChangeSet {
                orders: vec![created],
                outbox: repeated.into_iter().map(Into::into).collect(),
                ..ChangeSet::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert!(err.to_string().contains(&format!("{named:?}")), "{err}");
        assert_eq!(ids(&store), expected, "nothing of the refused change set");
        assert!(store
            .load_order(&ordersmith::ids::OrderId::parse("o-9").unwrap())
            .unwrap()
            .is_none());
    }
}

#[test]
fn a_stale_save_from_another_process_is_a_conflict() {
    let (a, guard) = store_in_new_schema("stale", 2);
    let b = reopen(&guard.schema, 2);
    let created = fixtures::new_order_change("o-1", "web", fixtures::start());
    let v1 = created.snapshot.clone();
    a.commit(ChangeSet {
        orders: vec![created],
        ..ChangeSet::default()
    })
    .unwrap();
    b.commit(ChangeSet {
        orders: vec![fixtures::note_change(&v1, "b", fixtures::start())],
        ..ChangeSet::default()
    })
    .unwrap();
    let err = a
        .commit(ChangeSet {
            orders: vec![fixtures::note_change(&v1, "a", fixtures::start())],
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "STORE_VERSION_CONFLICT", "{err}");
    assert_eq!(
        a.load_order(&v1.id).unwrap().unwrap().notes.last().unwrap(),
        "b"
    );
}

#[test]
fn a_change_set_is_one_call_and_a_refused_call_is_committed_statement_by_statement() {
    let (store, guard) = store_in_new_schema("one_call", 2);
    let id = |s: &str| ordersmith::ids::OrderId::parse(s).unwrap();
    let place = |s: &PgStore, order: &str| {
        s.commit(ChangeSet {
            orders: vec![fixtures::new_order_change(order, "web", fixtures::start())],
            outbox: effects(1)
                .into_iter()
                .map(|r| OutboxRecord {
                    id: format!("e-{order}"),
                    ..r
                })
                .map(Into::into)
                .collect(),
            ..ChangeSet::default()
        })
    };
    place(&store, "o-1").unwrap();
    // Ordinary change sets go through `ordersmith_commit`: when it fails for a reason
    // of its own, the commit fails with it and nothing is saved.
    prefix_commit_function(&guard.schema, "RAISE EXCEPTION 'the one call was taken'");
    let err = place(&store, "o-2").unwrap_err();
    assert_eq!(err.code(), "STORE_UNAVAILABLE", "{err}");
    assert!(err.to_string().contains("the one call was taken"), "{err}");
    assert!(store.load_order(&id("o-2")).unwrap().is_none());
    assert_eq!(store.pending(10).unwrap().len(), 1);
    // A refusal (a check failed, nothing written) is followed by the same change set
    // statement by statement: here it is saved, with its outbox record, once.
    let reopened = reopen(&guard.schema, 2);
    prefix_commit_function(
        &guard.schema,
        "RAISE EXCEPTION USING ERRCODE = 'OS409', MESSAGE = 'refused'",
    );
    place(&reopened, "o-2").unwrap();
    assert!(reopened.load_order(&id("o-2")).unwrap().is_some());
    let pending: Vec<String> = reopened
        .pending(10)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(pending, ["e-o-1", "e-o-2"]);
    // And a refusal that stands (the id is taken) is named as the statements name it.
    let err = place(&reopened, "o-1").unwrap_err();
    assert_eq!(err.code(), "STORE_VERSION_CONFLICT", "{err}");
    assert!(err.to_string().contains("o-1"), "{err}");
}

#[test]
fn an_announcement_keeps_no_document_and_reads_back_whole() {
    let (store, guard) = store_in_new_schema("announce", 2);
    // A record written before migration 7: its whole JSON, no event named.
    let legacy = effects(1).remove(0);
    store
        .commit(ChangeSet {
            outbox: vec![legacy.clone().into()],
            ..ChangeSet::default()
        })
        .unwrap();
    let placed = fixtures::new_order_change("o-7", "web", fixtures::start());
    let announced = OutboxRecord::for_order_event(&placed.events.to_records()[0]).unwrap();
    store
        .commit(ChangeSet {
            outbox: vec![OutboxWrite::OrderEvent {
                order_id: placed.snapshot.id.clone(),
                version: 1,
            }],
            orders: vec![placed],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(
        store.pending(10).unwrap(),
        vec![legacy.clone(), announced.clone()]
    );
    assert_eq!(
        store
            .claim_pending("w1", 10, Duration::from_secs(30))
            .unwrap(),
        vec![legacy, announced]
    );
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let rows: Vec<(String, i32, Option<i64>)> = client
        .query(
            &format!(
                "SELECT id, length(record), payload_event FROM \"{}\".outbox ORDER BY seq",
                guard.schema
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows[1], ("o-7:1".to_string(), 0, Some(1)), "{rows:?}");
    assert!(rows[0].1 > 0 && rows[0].2.is_none(), "{rows:?}");
    // An announcement whose event is gone is reported, not misread.
    client
        .batch_execute(&format!(
            "DELETE FROM \"{}\".order_events WHERE order_id = 'o-7'",
            guard.schema
        ))
        .unwrap();
    let err = store.pending(10).unwrap_err();
    assert_eq!(err.code(), "STORE_CORRUPT", "{err}");
    assert!(err.to_string().contains("o-7:1"), "{err}");
}

#[test]
fn a_schema_from_a_newer_version_is_refused() {
    let (_store, guard) = store_in_new_schema("newer", 1);
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO \"{}\".schema_migrations (version, name) VALUES (99, 'future')",
            guard.schema
        ))
        .unwrap();
    let err = PgStore::connect(
        &url(),
        PgOptions {
            schema: Some(guard.schema.clone()),
            ..PgOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        OpenError::SchemaTooNew {
            found: 99,
            supported: MIGRATIONS.last().unwrap().version
        }
    );
}

#[test]
fn bad_names_and_unreachable_servers_are_typed_errors() {
    let err = PgStore::connect(
        &url(),
        PgOptions {
            schema: Some("x; DROP".into()),
            ..PgOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "PG_SCHEMA_NAME_INVALID");
    let err = PgStore::connect(
        "host=127.0.0.1 port=1 user=nobody connect_timeout=2",
        PgOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "PG_CONNECT_FAILED");
    let err = PgStore::connect("this is not = a = conninfo", PgOptions::default()).unwrap_err();
    assert_eq!(err.code(), "PG_CONFIG_INVALID");
}

#[test]
fn a_busy_shop_moves_memory_to_sqlite_to_postgres_to_memory_unchanged() {
    let memory = StoreUnderTest::new(Arc::new(MemoryStore::new()), |s| s.fail_next_commits(1));
    let (engine, clock) = memory.engine();
    fixtures::busy_shop(&engine, &clock, 50);
    let mut from_memory = Vec::new();
    let stats = export(
        memory.store.as_ref(),
        memory.outbox.as_ref(),
        &mut from_memory,
    )
    .unwrap();
    assert_eq!(stats.orders, 50);

    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("shop.db")).unwrap();
    import(&sqlite, &sqlite, from_memory.as_slice()).unwrap();
    let mut from_sqlite = Vec::new();
    export(&sqlite, &sqlite, &mut from_sqlite).unwrap();

    let (pg, _guard) = store_in_new_schema("dump", 2);
    import(pg.as_ref(), pg.as_ref(), from_sqlite.as_slice()).unwrap();
    let mut from_pg = Vec::new();
    export(pg.as_ref(), pg.as_ref(), &mut from_pg).unwrap();

    let back = MemoryStore::new();
    import(&back, &back, from_pg.as_slice()).unwrap();
    let mut from_back = Vec::new();
    export(&back, &back, &mut from_back).unwrap();

    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    assert_eq!(text(&from_sqlite), text(&from_memory));
    assert_eq!(text(&from_pg), text(&from_memory));
    assert_eq!(text(&from_back), text(&from_memory));
}

#[test]
fn order_ids_are_unique_across_stores_sharing_a_schema() {
    use ordersmith::ports::IdGenerator;
    let (a, guard) = store_in_new_schema("ids", 2);
    let b = reopen(&guard.schema, 2);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..150 {
        assert!(seen.insert(a.next_id("order").unwrap()));
        assert!(seen.insert(b.next_id("order").unwrap()));
    }
    assert_eq!(seen.len(), 300);
}

/// A schema written by version 8 (before orders were kept by customer) is migrated with
/// every order's customer key filled in from its snapshot; counts are then right for old
/// and new orders alike, by the one-call commit and the statement-by-statement one.
#[test]
fn orders_written_before_the_customer_index_are_counted_after_the_migration() {
    let schema = unique_schema("v8");
    let guard = SchemaGuard {
        schema: schema.clone(),
    };
    let old = fixtures::new_order_change("o-1", "web", fixtures::start());
    let no_customer = fixtures::new_order_change_for("o-2", fixtures::start(), None);
    {
        let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
        let mut tx = client.transaction().unwrap();
        tx.batch_execute(&format!(
            "CREATE SCHEMA \"{schema}\"; SET LOCAL search_path TO \"{schema}\"; \
             CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, \
             name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        ))
        .unwrap();
        for m in MIGRATIONS.iter().take(8) {
            tx.batch_execute(m.sql).unwrap();
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&m.version, &m.name],
            )
            .unwrap();
        }
        for change in [&old, &no_customer] {
            let snapshot = serde_json::to_string(&change.snapshot).unwrap();
            tx.execute(
                "INSERT INTO orders VALUES ($1, 1, 'pending', 'web', $2, 0, $3)",
                &[
                    &change.snapshot.id.as_str(),
                    &fixtures::start().timestamp(),
                    &snapshot,
                ],
            )
            .unwrap();
        }
        // More than a page of the migration's backfill, placed earlier by the same
        // customer (their snapshots name o-1: the backfill reads only the customer).
        tx.execute(
            "INSERT INTO orders SELECT 'o-0-' || lpad(g::text, 5, '0'), 1, 'pending', 'web', \
             $1, 0, $2 FROM generate_series(1, 2500) AS g",
            &[
                &(fixtures::start().timestamp() - 60),
                &serde_json::to_string(&old.snapshot).unwrap(),
            ],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let store = reopen(&schema, 2);
    let email = "email:ayse@example.com";
    let until = fixtures::start();
    let other = ordersmith::ids::OrderId::parse("o-new").unwrap();
    assert_eq!(
        store.customer_order_count(email, until, &other).unwrap(),
        2_501
    );
    assert_eq!(
        store
            .customer_order_count(email, until, &old.snapshot.id)
            .unwrap(),
        2_500
    );
    store
        .commit(ChangeSet {
            orders: vec![fixtures::new_order_change("o-3", "web", until)],
            ..ChangeSet::default()
        })
        .unwrap();
    refuse_one_call_commits(&schema);
    let statement_by_statement = reopen(&schema, 1);
    statement_by_statement
        .commit(ChangeSet {
            orders: vec![fixtures::new_order_change("o-4", "web", until)],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(
        store.customer_order_count(email, until, &other).unwrap(),
        2_503
    );
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let keys: Vec<Option<String>> = client
        .query(
            &format!("SELECT customer_key FROM \"{schema}\".orders WHERE id NOT LIKE 'o-0-%' ORDER BY id"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let key = Some(email.to_string());
    assert_eq!(keys, [key.clone(), None, key.clone(), key]);
    drop(guard);
}
