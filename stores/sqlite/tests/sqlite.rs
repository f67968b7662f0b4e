//! What is particular to SQLite: migrations, reopening, errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use ordersmith::ports::dump::{export, import};
use ordersmith::ports::memory::MemoryStore;
use ordersmith::ports::{ChangeSet, OutboxWrite, Store};
use ordersmith_sqlite::{OpenError, SqliteStore, MIGRATIONS};
use ordersmith_store_conformance::{fixtures, StoreUnderTest};

#[test]
fn a_new_file_is_migrated_and_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            MIGRATIONS.last().unwrap().version
        );
        store
            .commit(ChangeSet {
                orders: vec![fixtures::new_order_change("o-1", "web", fixtures::start())],
                ..ChangeSet::default()
            })
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.order_ids(None, 10).unwrap().len(), 1);
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 'x')",
            [],
        )
        .unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(
        err,
        OpenError::SchemaTooNew {
            found: 99,
            supported: MIGRATIONS.last().unwrap().version
        }
    );
    assert_eq!(err.code(), "SQLITE_SCHEMA_TOO_NEW");
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(err.code(), "SQLITE_OPEN_FAILED", "{err}");
}

#[test]
fn a_corrupt_document_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let store = SqliteStore::open(&path).unwrap();
    store
        .commit(ChangeSet {
            orders: vec![fixtures::new_order_change("o-1", "web", fixtures::start())],
            ..ChangeSet::default()
        })
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE orders SET snapshot = '{\"id\":' WHERE id = 'o-1'",
        [],
    )
    .unwrap();
    let id = ordersmith::ids::OrderId::parse("o-1").unwrap();
    assert_eq!(store.load_order(&id).unwrap_err().code(), "STORE_CORRUPT");
}

/// An order still as it was placed keeps no snapshot (migration 9): it is read back,
/// alone and in listings, from its placed event, exactly as it was saved; its first
/// update stores the snapshot whole; an order whose snapshot is not what its placed
/// event makes keeps its snapshot; and an empty snapshot without its placed event is
/// reported as corrupt, not misread.
#[test]
fn orders_still_as_placed_are_read_back_from_their_placed_event() {
    use ordersmith::ports::OrderQuery;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let store = SqliteStore::open(&path).unwrap();
    let start = fixtures::start();
    let placed = fixtures::new_order_change("o-1", "web", start);
    let as_placed = placed.snapshot.clone();
    // o-2's snapshot carries a tag its placed event does not: it is not what the event
    // makes, so it must be kept.
    let mut different = fixtures::new_order_change("o-2", "web", start);
    assert!(different
        .snapshot
        .tags
        .insert("kept-by-its-snapshot".to_string()));
    let different_snapshot = different.snapshot.clone();
    let updated = fixtures::new_order_change("o-3", "web", start);
    let update = fixtures::note_change(&updated.snapshot, "gift wrap", start);
    let update_snapshot = update.snapshot.clone();
    store
        .commit(ChangeSet {
            orders: vec![placed, different, updated],
            ..ChangeSet::default()
        })
        .unwrap();
    store
        .commit(ChangeSet {
            orders: vec![update],
            ..ChangeSet::default()
        })
        .unwrap();

    let snapshot_lengths = || -> Vec<(String, i64)> {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare("SELECT id, length(snapshot) FROM orders ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    };
    let lengths = snapshot_lengths();
    assert_eq!(lengths[0], ("o-1".to_string(), 0), "{lengths:?}");
    assert!(lengths[1].1 > 0 && lengths[2].1 > 0, "{lengths:?}");

    let id = |s: &str| ordersmith::ids::OrderId::parse(s).unwrap();
    assert_eq!(store.load_order(&id("o-1")).unwrap().unwrap(), as_placed);
    assert_eq!(
        store.load_order(&id("o-2")).unwrap().unwrap(),
        different_snapshot
    );
    assert_eq!(
        store.load_order(&id("o-3")).unwrap().unwrap(),
        update_snapshot
    );
    assert_eq!(
        store.query_orders(&OrderQuery::default()).unwrap(),
        vec![as_placed.clone(), different_snapshot, update_snapshot]
    );
    // A reopened store (another process) reads it the same way.
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.load_order(&id("o-1")).unwrap().unwrap(), as_placed);

    // The placed event gone: reported, in a listing too, never an order made up.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM order_events WHERE order_id = 'o-1'", [])
        .unwrap();
    drop(conn);
    let err = store.load_order(&id("o-1")).unwrap_err();
    assert_eq!(err.code(), "STORE_CORRUPT", "{err}");
    assert!(err.to_string().contains("o-1"), "{err}");
    let err = store.query_orders(&OrderQuery::default()).unwrap_err();
    assert_eq!(err.code(), "STORE_CORRUPT", "{err}");
}

#[test]
fn two_stores_on_one_file_see_each_other_and_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    let created = fixtures::new_order_change("o-1", "web", fixtures::start());
    let v1 = created.snapshot.clone();
    a.commit(ChangeSet {
        orders: vec![created],
        ..ChangeSet::default()
    })
    .unwrap();
    assert_eq!(b.load_order(&v1.id).unwrap(), Some(v1.clone()));
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
    assert_eq!(err.code(), "STORE_VERSION_CONFLICT");
}

#[test]
fn a_busy_shop_moves_memory_to_sqlite_to_memory_unchanged() {
    let memory = StoreUnderTest::new(Arc::new(MemoryStore::new()), |s| s.fail_next_commits(1));
    let (engine, clock) = memory.engine();
    fixtures::busy_shop(&engine, &clock, 50);
    let mut first = Vec::new();
    export(memory.store.as_ref(), memory.outbox.as_ref(), &mut first).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("shop.db")).unwrap();
    import(&sqlite, &sqlite, first.as_slice()).unwrap();
    let mut second = Vec::new();
    export(&sqlite, &sqlite, &mut second).unwrap();
    assert_eq!(
        String::from_utf8(second.clone()).unwrap(),
        String::from_utf8(first.clone()).unwrap()
    );

    let back = MemoryStore::new();
    import(&back, &back, second.as_slice()).unwrap();
    let mut third = Vec::new();
    export(&back, &back, &mut third).unwrap();
    assert_eq!(third, first);
}

#[test]
fn order_ids_never_repeat_across_reopens_and_stores_on_one_file() {
    use ordersmith::ports::IdGenerator;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.db");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..3 {
        let a = SqliteStore::open(&path).unwrap();
        let b = SqliteStore::open(&path).unwrap();
        for _ in 0..100 {
            assert!(seen.insert(a.next_id("order").unwrap()));
            assert!(seen.insert(b.next_id("order").unwrap()));
        }
    }
    assert_eq!(seen.len(), 600);
    assert!(seen.contains("order-000001"));

    // An engine on a reopened store places orders without clashing with earlier ones.
    let place = || {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let engine = ordersmith::engine::Engine::new(
            store.clone(),
            store.clone(),
            Arc::new(ordersmith::ports::memory::SystemClock::new()),
            store,
        );
        engine
            .place_order(
                fixtures::new_order("web", fixtures::start()),
                &ordersmith::engine::CommandContext::system(),
            )
            .unwrap()
            .id
    };
    let first = place();
    let second = place();
    assert_ne!(first, second);
}

/// Once half of a block of order ids is used, the next block is reserved inside the
/// next commit instead of by a commit of its own; a commit that fails gives its block up.
/// Another store on the file (another process) then reserves those numbers, and the
/// first store never hands them out: ids stay unique.
#[test]
fn a_block_of_ids_reserved_in_a_failed_commit_is_never_used() {
    use ordersmith::engine::{CommandContext, Engine};
    use ordersmith::ports::IdGenerator;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.db");
    let a = Arc::new(SqliteStore::open(&path).unwrap());
    let engine = Engine::new(
        a.clone(),
        a.clone(),
        Arc::new(ordersmith::ports::memory::SystemClock::new()),
        a.clone(),
    );
    let ctx = CommandContext::system();
    let place = || engine.place_order(fixtures::new_order("web", fixtures::start()), &ctx);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..31 {
        assert!(seen.insert(place().unwrap().id.to_string()));
    }
    // The 32nd id uses half of the first block (64 ids): the commit placing it is asked
    // to reserve the next block (128 ids, from 65). That commit fails, and its
    // reservation with it.
    a.fail_next_commits(1);
    assert!(place().is_err());
    // Another store on the file reserves what the failed commit had reserved.
    let b = SqliteStore::open(&path).unwrap();
    for _ in 0..200 {
        assert!(seen.insert(b.next_id("order").unwrap()));
    }
    assert!(seen.contains("order-000065"));
    // The first store goes on past its first block without repeating any of them.
    for _ in 0..300 {
        let id = place().unwrap().id.to_string();
        assert!(seen.insert(id.clone()), "{id} handed out twice");
    }
    assert_eq!(a.order_ids(None, 1_000).unwrap().len(), 331);
}

/// A file written by version 5 (documents as JSON text) is migrated to packed documents
/// without rewriting its rows: old rows read back exactly, new rows are packed, and an
/// older ordersmith would refuse the file (its schema version is now 6).
#[test]
fn documents_written_before_packing_read_back_exactly_after_the_migration() {
    use ordersmith::ports::{IdempotencyRecord, Outbox, OutboxRecord};
    use ordersmith::stock::{Location, LocationKind, StockCommand, StockLogEntry};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.db");
    let change = fixtures::new_order_change("o-1", "web", fixtures::start());
    let event = change.events.to_records().remove(0);
    let outbox = OutboxRecord {
        id: "o-1:1".into(),
        topic: "order.placed".into(),
        aggregate_id: "o-1".into(),
        aggregate_version: 1,
        created_at: fixtures::start(),
        payload_json: serde_json::to_string(&event).unwrap(),
    };
    let key = IdempotencyRecord {
        key: "external:web:W-1".into(),
        fingerprint: serde_json::to_string(&fixtures::new_order("web", fixtures::start()))
            .unwrap()
            .into(),
        order_id: change.snapshot.id.clone(),
        order_version: 1,
    };
    let entry = StockLogEntry {
        seq: 1,
        at: fixtures::start(),
        command: StockCommand::AddLocation {
            location: Location::new(
                ordersmith::ids::LocationId::parse("IST").unwrap(),
                "Istanbul DC",
                1,
                "TR-34",
                LocationKind::Warehouse,
            ),
        },
    };
    {
        // The schema and rows exactly as version 5 wrote them.
        let conn = file_at_version(&path, 5);
        let json = |v: &dyn erased::Json| v.json();
        conn.execute(
            "INSERT INTO orders VALUES ('o-1', 1, 'pending', 'web', ?1, 0, ?2)",
            rusqlite::params![fixtures::start().timestamp(), json(&change.snapshot)],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO order_events VALUES ('o-1', 1, ?1)",
            [json(&event)],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO outbox (id, topic, aggregate_id, record) VALUES ('o-1:1', 'order.placed', 'o-1', ?1)",
            [json(&outbox)],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO idempotency_records VALUES (?1, ?2, 'o-1', 1)",
            [key.key.as_str(), &*key.fingerprint],
        )
        .unwrap();
        conn.execute("INSERT INTO stock_log VALUES (1, ?1)", [json(&entry)])
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        MIGRATIONS.last().unwrap().version
    );
    assert_eq!(
        store.load_order(&change.snapshot.id).unwrap().unwrap(),
        change.snapshot
    );
    assert_eq!(
        store.order_events(&change.snapshot.id).unwrap(),
        vec![event]
    );
    assert_eq!(store.pending(10).unwrap(), vec![outbox.clone()]);
    assert_eq!(store.idempotency_record(&key.key).unwrap().unwrap(), key);
    assert_eq!(store.stock_log_since(0, 10).unwrap(), vec![entry]);

    // Written now: packed, and the outbox record of an order event refers to the event.
    let second = fixtures::new_order_change("o-2", "web", fixtures::start());
    let second_event = second.events.to_records().remove(0);
    let second_outbox = OutboxRecord {
        id: "o-2:1".into(),
        aggregate_id: "o-2".into(),
        payload_json: serde_json::to_string(&second_event).unwrap(),
        ..outbox.clone()
    };
    store
        .commit(ChangeSet {
            orders: vec![second],
            outbox: vec![second_outbox.clone().into()],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(
        store.pending(10).unwrap(),
        vec![outbox.clone(), second_outbox.clone()]
    );
    // An announcement (what the engine writes for every order event) keeps no document
    // (migration 7) and reads back exactly as `for_order_event` makes it.
    let third = fixtures::new_order_change("o-3", "web", fixtures::start());
    let announced = OutboxRecord::for_order_event(&third.events.to_records()[0]).unwrap();
    store
        .commit(ChangeSet {
            outbox: vec![OutboxWrite::OrderEvent {
                order_id: third.snapshot.id.clone(),
                version: 1,
            }],
            orders: vec![third],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(
        store.pending(10).unwrap(),
        vec![outbox, second_outbox, announced]
    );
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let kinds: Vec<(String, String, Option<i64>)> = conn
        .prepare(
            "SELECT typeof(o.snapshot), typeof(e.record), x.payload_event FROM orders o \
             JOIN order_events e ON e.order_id = o.id JOIN outbox x ON x.aggregate_id = o.id \
             ORDER BY o.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        kinds,
        vec![
            ("text".into(), "text".into(), None),
            // Orders still as they were placed keep no snapshot (migration 9).
            ("text".into(), "blob".into(), Some(1)),
            ("text".into(), "blob".into(), Some(1)),
        ]
    );
    let records: Vec<(String, i64)> = conn
        .prepare("SELECT id, length(record) FROM outbox ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records[2], ("o-3:1".to_string(), 0), "{records:?}");
    assert!(records[..2].iter().all(|(_, len)| *len > 0), "{records:?}");
    // An announcement row whose event is gone is reported, not misread.
    conn.execute("DELETE FROM order_events WHERE order_id = 'o-3'", [])
        .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap().pending(10).unwrap_err();
    assert_eq!(err.code(), "STORE_CORRUPT", "{err}");
    assert!(err.to_string().contains("o-3:1"), "{err}");
}

/// JSON of any serialisable value, for writing rows the way version 5 did.
/// A file written by version 9 (before orders were kept by customer) is migrated with
/// every order's customer filled in: from its snapshot, or from its placed event when it
/// keeps none (migration 9); counts are then right for old and new orders alike, and
/// the count reads the index, not the table.
#[test]
fn orders_written_before_the_customer_index_are_counted_after_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v9.db");
    let email = "email:ayse@example.com";
    let with_snapshot = fixtures::new_order_change("o-1", "web", fixtures::start());
    let as_placed = fixtures::new_order_change("o-2", "web", fixtures::start());
    let no_customer = fixtures::new_order_change_for("o-3", fixtures::start(), None);
    {
        let conn = file_at_version(&path, 9);
        let json = |v: &dyn erased::Json| v.json();
        let secs = fixtures::start().timestamp();
        for (change, snapshot) in [
            (&with_snapshot, json(&with_snapshot.snapshot)),
            (&as_placed, String::new()),
            (&no_customer, json(&no_customer.snapshot)),
        ] {
            let id = change.snapshot.id.as_str();
            conn.execute(
                "INSERT INTO orders VALUES (?1, 1, 'pending', 'web', ?2, 0, ?3)",
                rusqlite::params![id, secs, snapshot],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO order_events VALUES (?1, 1, ?2)",
                rusqlite::params![id, json(&change.events.to_records()[0])],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        MIGRATIONS.last().unwrap().version
    );
    let other = ordersmith::ids::OrderId::parse("o-new").unwrap();
    let until = fixtures::start();
    assert_eq!(store.customer_order_count(email, until, &other).unwrap(), 2);
    assert_eq!(
        store
            .customer_order_count(email, until, &with_snapshot.snapshot.id)
            .unwrap(),
        1
    );
    store
        .commit(ChangeSet {
            orders: vec![fixtures::new_order_change("o-4", "web", until)],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(store.customer_order_count(email, until, &other).unwrap(), 3);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let keys: Vec<Option<String>> = conn
        .prepare("SELECT customer_key FROM orders ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = Some(email.to_string());
    assert_eq!(keys, [key.clone(), key.clone(), None, key]);
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM orders WHERE customer_key = ?1 \
             AND (placed_secs < ?2 OR (placed_secs = ?2 AND placed_nanos <= ?3)) AND id <> ?4",
            rusqlite::params![email, 0, 0, "o"],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("orders_by_customer"), "{plan}");
}

/// A file written by version 10 (documents packed with dictionary 1) is migrated to
/// dictionary 2 without rewriting anything: its documents read back with dictionary 1,
/// new ones are packed with dictionary 2, and `document_formats` names both with the
/// checksums of the files in `stores/sqlite/dictionaries`.
#[test]
fn documents_packed_with_dictionary_one_read_back_after_dictionary_two() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v10.db");
    let old = fixtures::new_order_change("o-1", "web", fixtures::start());
    let packed_v1 = |json: &str| {
        let frame =
            zstd::bulk::Compressor::with_dictionary(-3, include_bytes!("../dictionaries/v1.json"))
                .unwrap()
                .compress(json.as_bytes())
                .unwrap();
        let mut packed = vec![1u8];
        packed.extend_from_slice(&u32::try_from(json.len()).unwrap().to_le_bytes());
        packed.extend_from_slice(&frame);
        packed
    };
    {
        let conn = file_at_version(&path, 10);
        let event = serde_json::to_string(&old.events.to_records()[0]).unwrap();
        conn.execute(
            "INSERT INTO orders (id, version, status, channel, placed_secs, placed_nanos, snapshot) \
             VALUES ('o-1', 1, 'pending', 'web', ?1, 0, '')",
            rusqlite::params![fixtures::start().timestamp()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO order_events VALUES ('o-1', 1, ?1)",
            rusqlite::params![packed_v1(&event)],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 11);
    assert_eq!(
        store.load_order(&old.snapshot.id).unwrap(),
        Some(old.snapshot.clone())
    );
    assert_eq!(
        store.order_events(&old.snapshot.id).unwrap(),
        old.events.to_records()
    );
    let new = fixtures::new_order_change("o-2", "web", fixtures::start());
    store
        .commit(ChangeSet {
            orders: vec![new.clone()],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(
        store.load_order(&new.snapshot.id).unwrap(),
        Some(new.snapshot)
    );
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let formats: Vec<(String, i64)> = conn
        .prepare(
            "SELECT order_id, substr(record, 1, 1) = x'02' FROM order_events ORDER BY order_id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(formats, [("o-1".to_string(), 0), ("o-2".to_string(), 1)]);
    let fnv1a64 = |bytes: &[u8]| {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let named: Vec<(i64, String)> = conn
        .prepare("SELECT format, dictionary FROM document_formats ORDER BY format")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        named,
        [
            (
                1,
                format!(
                    "stores/sqlite/dictionaries/v1.json fnv1a64:{:016x}",
                    fnv1a64(include_bytes!("../dictionaries/v1.json"))
                )
            ),
            (
                2,
                format!(
                    "stores/sqlite/dictionaries/v2.zdict fnv1a64:{:016x}",
                    fnv1a64(include_bytes!("../dictionaries/v2.zdict"))
                )
            ),
        ]
    );
}

/// A file at `path` with the schema as the first `version` migrations left it, no rows.
fn file_at_version(path: &std::path::Path, version: usize) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, \
         name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .unwrap();
    for m in MIGRATIONS.iter().take(version) {
        conn.execute_batch(m.sql).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?1, ?2, 'then')",
            rusqlite::params![m.version, m.name],
        )
        .unwrap();
    }
    conn
}

mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

/// An update normally leaves the order's channel and placing time as they were, and the
/// store then rewrites only what changed; a snapshot that does move them (nothing in the
/// engine does, but the port allows it) is saved whole, listed where it now belongs, and
/// a stale version is a conflict either way.
#[test]
fn updates_keep_listings_right_whether_or_not_channel_and_time_move() {
    use ordersmith::ids::ChannelId;
    use ordersmith::ports::{OrderQuery, StoreError};

    let store = SqliteStore::in_memory().unwrap();
    let start = fixtures::start();
    let first = fixtures::new_order_change("o-1", "web", start);
    let order = first.snapshot.clone();
    store
        .commit(ChangeSet {
            orders: vec![first],
            ..ChangeSet::default()
        })
        .unwrap();
    let by_channel = |channel: &str| {
        store
            .query_orders(&OrderQuery {
                channel: Some(ChannelId::parse(channel).unwrap()),
                ..OrderQuery::default()
            })
            .unwrap()
    };
    let placed_from = |from| {
        store
            .query_orders(&OrderQuery {
                placed_from: Some(from),
                ..OrderQuery::default()
            })
            .unwrap()
    };

    // In place: channel and time unchanged.
    let noted = fixtures::note_change(&order, "first", start);
    let order = noted.snapshot.clone();
    store
        .commit(ChangeSet {
            orders: vec![noted],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(store.load_order(&order.id).unwrap().unwrap(), order);
    assert_eq!(by_channel("web"), vec![order.clone()]);

    // Moved: another channel and a later placing time.
    let later = start + chrono::Duration::hours(5);
    let mut moved = fixtures::note_change(&order, "second", start);
    moved.snapshot.channel = ChannelId::parse("market").unwrap();
    moved.snapshot.placed_at = later;
    let order = moved.snapshot.clone();
    store
        .commit(ChangeSet {
            orders: vec![moved],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(store.load_order(&order.id).unwrap().unwrap(), order);
    assert!(by_channel("web").is_empty());
    assert_eq!(by_channel("market"), vec![order.clone()]);
    assert_eq!(placed_from(later), vec![order.clone()]);
    assert!(placed_from(later + chrono::Duration::seconds(1)).is_empty());

    // Stale, with and without moving: a conflict naming the stored version, nothing saved.
    for channel in ["market", "web"] {
        let mut stale = fixtures::note_change(&order, "stale", start);
        stale.expected_version -= 1;
        stale.snapshot.channel = ChannelId::parse(channel).unwrap();
        let refused = store.commit(ChangeSet {
            orders: vec![stale],
            ..ChangeSet::default()
        });
        assert!(
            matches!(refused, Err(StoreError::Conflict { actual, .. }) if actual == order.version),
            "{refused:?}"
        );
        assert_eq!(store.load_order(&order.id).unwrap().unwrap(), order);
    }
}
