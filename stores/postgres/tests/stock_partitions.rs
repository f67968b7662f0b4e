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
use ordersmith::ids::{LocationId, ReservationId, VariantId};
use ordersmith::ports::memory::{SequentialIds, SystemClock};
use ordersmith::ports::{ChangeSet, StockAppend, StockCursor, StockPlace, Store, StoreError};
use ordersmith::stock::{
    Location, LocationKind, ReserveRequest, StockCommand, StockLogEntry, StockPolicy,
};
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

fn reserve_by_hand(id: &str, variant: &str) -> StockCommand {
    StockCommand::Reserve {
        request: ReserveRequest::new(ReservationId::parse(id).unwrap(), v(variant), ist(), 1),
    }
}

/// The partition each saved entry that made a reservation went to, by reservation id.
fn reservation_partitions(schema: &str) -> Vec<(String, String)> {
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    client
        .query(
            &format!(
                "SELECT entry, partition FROM \"{schema}\".stock_entries ORDER BY partition, pseq"
            ),
            &[],
        )
        .unwrap()
        .into_iter()
        .filter_map(|row| {
            let entry: StockLogEntry = serde_json::from_str(row.get::<_, &str>(0)).unwrap();
            match entry.command {
                StockCommand::Reserve { request } => {
                    Some((request.id.as_str().to_string(), row.get::<_, String>(1)))
                }
                _ => None,
            }
        })
        .collect()
}

/// A reservation made by hand lives in its variant's partition (ADR 0012, amended
/// 2026-12-04), and its id in only one: an append of another partition that makes the
/// same id is a conflict and saves nothing, on both commit paths; the same id again in
/// its own partition (a repeat) passes.
#[test]
fn a_hand_made_reservation_id_is_claimed_by_one_partition() {
    for one_call in [true, false] {
        let (store, guard) = store_in_new_schema("claims", 2);
        if !one_call {
            refuse_one_call_commits(&guard.schema);
        }
        append(&store, 0, setup(), Vec::new()).unwrap();
        append(
            &store,
            3,
            vec![entry(4, receive("A", 5)), entry(5, receive("B", 5))],
            vec![place(Some("A"), 1, 3), place(Some("B"), 1, 3)],
        )
        .unwrap();
        append(
            &store,
            5,
            vec![entry(6, reserve_by_hand("cart-1", "A"))],
            vec![place(Some("A"), 2, 3)],
        )
        .unwrap();
        // Decided on the same log by another writer, for B: its partition's head has not
        // moved, but the id is A's.
        let err = append(
            &store,
            5,
            vec![entry(6, reserve_by_hand("cart-1", "B"))],
            vec![place(Some("B"), 2, 3)],
        )
        .unwrap_err();
        assert_eq!(
            err,
            StoreError::Conflict {
                aggregate: "stock reservation cart-1 (made in another variant's partition)".into(),
                expected: 0,
                actual: 0
            },
            "one call: {one_call}"
        );
        assert_eq!(store.stock_log_since(0, 100).unwrap().len(), 6);
        // B's partition did not move: its next entry still takes place 2.
        append(
            &store,
            6,
            vec![entry(7, reserve_by_hand("cart-2", "B"))],
            vec![place(Some("B"), 2, 3)],
        )
        .unwrap();
        // A repeat in A's own partition passes the claim (the ledger decides it).
        append(
            &store,
            7,
            vec![entry(8, reserve_by_hand("cart-1", "A"))],
            vec![place(Some("A"), 3, 3)],
        )
        .unwrap();
        assert_eq!(
            reservation_partitions(&guard.schema),
            [
                ("cart-1".to_string(), "A".to_string()),
                ("cart-1".to_string(), "A".to_string()),
                ("cart-2".to_string(), "B".to_string()),
            ]
        );
        // Engines put hand-made reservations (and their commits and releases) in the
        // variant's partition, and one that decides on a log without a reservation
        // another engine just made catches up and refuses the taken id.
        let first = engine(store.clone());
        let second = engine(store.clone());
        assert_eq!(on_hand(&second, "B"), 5);
        first.stock(reserve_by_hand("hold-1", "A")).unwrap();
        first
            .stock(StockCommand::Commit {
                reservation: ReservationId::parse("hold-1").unwrap(),
            })
            .unwrap();
        let err = second.stock(reserve_by_hand("hold-1", "B")).unwrap_err();
        assert_eq!(err.code(), "STOCK_RESERVATION_CONFLICT", "{err}");
        assert_eq!(on_hand(&second, "A"), 4);
        let partitions: Vec<String> = {
            let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
            client
                .query(
                    &format!(
                        "SELECT partition FROM \"{}\".stock_entries ORDER BY id DESC LIMIT 2",
                        guard.schema
                    ),
                    &[],
                )
                .unwrap()
                .into_iter()
                .map(|r| r.get(0))
                .collect()
        };
        assert_eq!(partitions, ["A", "A"], "one call: {one_call}");
    }
}

/// Two engines reserving the same ids by hand at once, one for A and one for B: each
/// id is made exactly once, and both engines (and a fresh reader) agree on which
/// variant holds it. Without the claim both appends would pass, each in its own
/// partition, and readers applying them in different orders would disagree.
#[test]
fn two_engines_racing_for_one_hand_made_id_on_different_variants_make_it_once() {
    let (store, _guard) = store_in_new_schema("claimrace", 4);
    let setup_engine = engine(store.clone());
    setup_engine
        .stock_batch(
            setup()
                .into_iter()
                .map(|e| e.command)
                .chain([receive("A", 100), receive("B", 100)])
                .collect(),
        )
        .unwrap();
    let rounds = 40;
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let racers: Vec<_> = ["A", "B"]
        .into_iter()
        .map(|variant| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                let engine = engine(store);
                let mut made = Vec::new();
                for i in 0..rounds {
                    barrier.wait();
                    match engine.stock(reserve_by_hand(&format!("r-{i}"), variant)) {
                        Ok(_) => made.push(i),
                        Err(e) => assert_eq!(e.code(), "STOCK_RESERVATION_CONFLICT", "{e}"),
                    }
                }
                (engine, made)
            })
        })
        .collect();
    let results: Vec<(Engine, Vec<usize>)> =
        racers.into_iter().map(|r| r.join().unwrap()).collect();
    let (made_a, made_b) = (&results[0].1, &results[1].1);
    assert_eq!(made_a.len() + made_b.len(), rounds, "{made_a:?} {made_b:?}");
    assert!(made_a.iter().all(|i| !made_b.contains(i)));
    let fresh = engine(store.clone());
    for reader in [&results[0].0, &results[1].0, &fresh] {
        let held: Vec<String> = reader
            .with_stock(|s| {
                (0..rounds)
                    .map(|i| {
                        s.reservation(&ReservationId::parse(format!("r-{i}")).unwrap())
                            .map(|r| r.variant.as_str().to_string())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap();
        let expected: Vec<String> = (0..rounds)
            .map(|i| if made_a.contains(&i) { "A" } else { "B" }.to_string())
            .collect();
        assert_eq!(held, expected);
        assert_eq!((on_hand(reader, "A"), on_hand(reader, "B")), (100, 100));
    }
}

/// An order loaded with the stock log in one statement (one snapshot, one round trip):
/// the same order and the same entries as the two read apart, for an order that exists
/// and one that does not, from the log's start and from a cursor at its end.
#[test]
fn an_order_loads_with_the_stock_log_in_one_statement() {
    use ordersmith::engine::CommandContext;
    use ordersmith::ids::OrderId;
    let (store, _guard) = store_in_new_schema("together", 2);
    append(&store, 0, setup(), Vec::new()).unwrap();
    append(
        &store,
        3,
        vec![entry(4, receive("A", 5)), entry(5, receive("B", 6))],
        vec![place(Some("A"), 1, 3), place(Some("B"), 1, 3)],
    )
    .unwrap();
    let placed = engine(store.clone())
        .place_order(
            fixtures::new_order("web", fixtures::start()),
            &CommandContext::system(),
        )
        .unwrap();
    let json = |got: &[(StockLogEntry, Option<StockPlace>)]| serde_json::to_string(got).unwrap();
    let mut apart = Vec::new();
    let watermark = store
        .stock_log_read(StockCursor::default(), &mut |e, p| {
            apart.push((e, p));
            Ok(())
        })
        .unwrap();
    assert_eq!(apart.len(), 5);
    let missing = OrderId::parse("order-999999").unwrap();
    for id in [&placed.id, &missing] {
        let mut together = Vec::new();
        let (order, with) = store
            .load_order_reading_stock(id, StockCursor::default(), &mut |e, p| {
                together.push((e, p));
                Ok(())
            })
            .unwrap();
        assert_eq!(
            serde_json::to_string(&order).unwrap(),
            serde_json::to_string(&store.load_order(id).unwrap()).unwrap()
        );
        assert_eq!(json(&together), json(&apart));
        assert!(with >= watermark);
        // From where that read left the reader, nothing new (an entry seen may come
        // again only while other transactions hold the watermark back).
        let mut again = Vec::new();
        let (order, _) = store
            .load_order_reading_stock(
                id,
                StockCursor {
                    applied: 5,
                    watermark: with,
                },
                &mut |e, p| {
                    again.push((e, p));
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(order.is_some(), id == &placed.id);
        assert!(again
            .iter()
            .all(|(e, _)| apart.iter().any(|(a, _)| a.seq == e.seq)));
    }
}

/// `ordersmith_commit` moves up to eight partition heads one by one and more in one
/// statement (migration 11): on both, an append moves every head it names or, when one
/// is stale, none of them, saves nothing and names the stale one, on both commit paths.
#[test]
fn a_write_moves_all_its_partitions_or_none_of_them() {
    let variants: Vec<String> = (0..12).map(|k| format!("V{k:02}")).collect();
    for one_call in [true, false] {
        let (store, guard) = store_in_new_schema("heads", 2);
        if !one_call {
            refuse_one_call_commits(&guard.schema);
        }
        let mut commands = vec![StockCommand::AddLocation {
            location: Location::new(ist(), "Istanbul DC", 1, "TR-34", LocationKind::Warehouse),
        }];
        commands.extend(variants.iter().map(|k| StockCommand::RegisterVariant {
            variant: v(k),
            policy: StockPolicy::Deny,
        }));
        let setup: Vec<StockLogEntry> = commands
            .into_iter()
            .zip(1..)
            .map(|(c, seq)| entry(seq, c))
            .collect();
        let basis = setup.len() as u64;
        append(&store, 0, setup, Vec::new()).unwrap();
        // Each variant's head as the test expects it, and how many entries are saved.
        let mut heads = vec![0u64; variants.len()];
        let mut saved = basis;
        // Receives one unit of each variant in `which` at the head given for it; on
        // success the test's heads move as the store's should.
        let mut write = |which: &[usize], at: &[u64]| {
            let entries = which
                .iter()
                .zip(saved + 1..)
                .map(|(&k, seq)| entry(seq, receive(&variants[k], 1)))
                .collect::<Vec<_>>();
            let places = which
                .iter()
                .zip(at)
                .map(|(&k, &pseq)| place(Some(&variants[k]), pseq, basis))
                .collect();
            let n = entries.len() as u64;
            let result = append(&store, saved, entries, places);
            if result.is_ok() {
                for (&k, &pseq) in which.iter().zip(at) {
                    heads[k] = pseq;
                }
                saved += n;
            }
            result
        };
        let all: Vec<usize> = (0..variants.len()).collect();
        // Twelve new partitions, then twelve existing ones (one statement), then three
        // (one by one).
        write(&all, &[1; 12]).unwrap();
        write(&all, &[2; 12]).unwrap();
        write(&[0, 1, 2], &[3, 3, 3]).unwrap();
        // Three, the last stale (decided on V02 at 1, which is at 3 now).
        let err = write(&[0, 1, 2], &[4, 4, 2]).unwrap_err();
        assert_eq!(
            err,
            StoreError::Conflict {
                aggregate: "stock of variant V02".into(),
                expected: 1,
                actual: 3
            },
            "one call: {one_call}"
        );
        // Ten, one of them stale: the first nine would have moved.
        let mut at = vec![4, 4, 4, 3, 3, 3, 3, 3, 3, 2];
        let err = write(&all[..10], &at).unwrap_err();
        assert_eq!(
            err,
            StoreError::Conflict {
                aggregate: "stock of variant V09".into(),
                expected: 1,
                actual: 2
            },
            "one call: {one_call}"
        );
        // Nothing of either was saved: the same ten, decided right, pass.
        at[9] = 3;
        write(&all[..10], &at).unwrap();
        assert_eq!(heads[..10], at[..]);
        assert_eq!(
            store.stock_log_since(0, 100).unwrap().len() as u64,
            basis + 12 + 12 + 3 + 10
        );
        let fresh = engine(store.clone());
        let expected: Vec<i64> = (0..variants.len())
            .map(|k| i64::try_from(heads[k]).unwrap())
            .collect();
        let got: Vec<i64> = variants.iter().map(|k| on_hand(&fresh, k)).collect();
        assert_eq!(got, expected, "one call: {one_call}");
    }
}

/// Two engines on `store` with A stocked (10 at IST): one that stocked it, and one with
/// `config` that gives up after one lost race (so a refused commit it made unread must
/// not count as one).
fn other_and_stale(
    store: &Arc<PgStore>,
    config: ordersmith::engine::EngineConfig,
) -> (Engine, Engine) {
    let other = engine(store.clone());
    other
        .stock_batch(
            setup()
                .into_iter()
                .map(|e| e.command)
                .chain([receive("A", 10)])
                .collect(),
        )
        .unwrap();
    let stale = engine(store.clone()).with_config(ordersmith::engine::EngineConfig {
        max_attempts: 1,
        ..config
    });
    (other, stale)
}

/// Reservations made by hand skip the stock read once the engine's last read found
/// nothing new (`Store::checks_stock_at_commit`): the commit checks every decision.
/// An engine that gives up after one lost race, with a stale ledger, never sells what
/// another engine sold, never refuses what another received, and its reservation
/// decided before another engine's global entry (a location added) is decided again:
/// the refused commits count as no lost race.
#[test]
fn reservations_decided_without_a_read_are_checked_by_the_commit() {
    let (store, _guard) = store_in_new_schema("unread", 4);
    let (other, stale) = other_and_stale(&store, ordersmith::engine::EngineConfig::default());
    let reserve = |id: &str, units: u32| StockCommand::Reserve {
        request: ReserveRequest::new(ReservationId::parse(id).unwrap(), v("A"), ist(), units),
    };
    let reserved = |engine: &Engine| {
        engine
            .with_stock(|s| s.balance(&v("A"), &ist()).reserved)
            .unwrap()
    };
    // Two reservations: the second one's read found nothing new.
    stale.stock(reserve("s-1", 1)).unwrap();
    stale.stock(reserve("s-2", 1)).unwrap();

    // Another engine sells seven of the eight left; decided on eight, the stale
    // engine's commit is refused, it reads, and refuses two of the one left.
    other.stock(reserve("o-1", 7)).unwrap();
    let refused = stale.stock(reserve("s-3", 2)).unwrap_err();
    assert_eq!(refused.code(), "STOCK_INSUFFICIENT", "{refused}");
    stale.stock(reserve("s-3", 1)).unwrap();
    assert_eq!((reserved(&other), reserved(&stale)), (10, 10));

    // Sold out as the stale engine last saw it; another engine receives five.
    other.stock(receive("A", 5)).unwrap();
    stale.stock(reserve("s-5", 3)).unwrap();

    // A global entry (a new location) moves the global head the stale engine's next
    // decision is checked against.
    other
        .stock(StockCommand::AddLocation {
            location: Location::new(
                LocationId::parse("ANK").unwrap(),
                "Ankara",
                2,
                "TR-06",
                LocationKind::Warehouse,
            ),
        })
        .unwrap();
    stale.stock(reserve("s-6", 1)).unwrap();
    let fresh = engine(store.clone());
    for reader in [&other, &stale, &fresh] {
        assert_eq!(reserved(reader), 14);
        assert_eq!(on_hand(reader, "A"), 15);
        assert!(reader
            .with_stock(|s| s.location(&LocationId::parse("ANK").unwrap()).is_some())
            .unwrap());
    }
}

/// A new order placed and confirmed in one write skips the read too when its plan is
/// wholly made of reservations: on PostgreSQL, a stale plan is refused at the commit
/// and made again on a read (never overselling, one order saved), and a plan short on
/// a stale ledger is made again on a read before the order is held.
#[test]
fn new_orders_confirmed_without_a_read_are_checked_by_the_commit() {
    use ordersmith::engine::{CommandContext, EngineConfig, ShortagePolicy};
    use ordersmith::ids::ChannelId;
    use ordersmith::money::{Currency, Money};
    use ordersmith::order::{NewLine, NewOrder, OrderCommand, OrderStatus};

    let (store, _guard) = store_in_new_schema("unreadorder", 4);
    let (other, stale) = other_and_stale(
        &store,
        EngineConfig {
            on_shortage: ShortagePolicy::Hold,
            ..Default::default()
        },
    );
    let try_ = Currency::parse("TRY").unwrap();
    let order_of = |units: u32| {
        NewOrder::new(
            ChannelId::parse("web").unwrap(),
            fixtures::start(),
            try_,
            vec![NewLine::new(
                v("A"),
                units,
                Money::new("10".parse().unwrap(), try_).unwrap(),
            )],
        )
    };
    let place_and_confirm = |units: u32| {
        stale
            .place_order_then(
                order_of(units),
                vec![OrderCommand::Confirm],
                &CommandContext::system(),
            )
            .unwrap()
            .0
    };
    let reserved = |engine: &Engine| {
        engine
            .with_stock(|s| s.balance(&v("A"), &ist()).reserved)
            .unwrap()
    };
    // Two orders: the second one's read found nothing new.
    assert_eq!(place_and_confirm(1).status, OrderStatus::Confirmed);
    assert_eq!(place_and_confirm(1).status, OrderStatus::Confirmed);

    // Another engine sells seven of the eight left: the stale plan for two is refused
    // at the commit, and on the read one is reserved and the order held for the other.
    other
        .stock(StockCommand::Reserve {
            request: ReserveRequest::new(ReservationId::parse("o-1").unwrap(), v("A"), ist(), 7),
        })
        .unwrap();
    let held = place_and_confirm(2);
    assert_eq!(held.status, OrderStatus::OnHold);
    assert_eq!(held.lines[0].fulfilment.allocated, 1);
    assert_eq!(reserved(&other), 10);

    // Sold out as the stale engine saw it; another engine receives five: confirmed in
    // full on the read the short plan asked for.
    other.stock(receive("A", 5)).unwrap();
    let confirmed = place_and_confirm(3);
    assert_eq!(confirmed.status, OrderStatus::Confirmed);
    assert_eq!(confirmed.lines[0].fulfilment.allocated, 3);
    let fresh = engine(store.clone());
    for reader in [&other, &stale, &fresh] {
        assert_eq!((reserved(reader), on_hand(reader, "A")), (13, 15));
    }
}
