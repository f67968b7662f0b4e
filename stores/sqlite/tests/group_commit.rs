//! Group commit (ADR 0013): change sets submitted while another group syncs are saved
//! together, each all or nothing on its own; an acknowledged write is durable and
//! readable; a refused change set refuses only itself and what was decided after it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use ordersmith::engine::{CommandContext, Engine, EngineConfig};
use ordersmith::ids::{LocationId, OrderId, VariantId};
use ordersmith::order::OrderStatus;
use ordersmith::ports::memory::SystemClock;
use ordersmith::ports::{
    ChangeSet, CommitTicket, IdempotencyRecord, Outbox, StockAppend, Store, StoreError,
};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockLogEntry, StockPolicy};
use ordersmith_sqlite::SqliteStore;
use ordersmith_store_conformance::fixtures;

fn file_store() -> (Arc<SqliteStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("shop.db")).unwrap());
    (store, dir)
}

fn new_order(id: &str) -> ChangeSet {
    ChangeSet {
        orders: vec![fixtures::new_order_change(id, "web", fixtures::start())],
        ..ChangeSet::default()
    }
}

fn receive(seq: u64) -> StockLogEntry {
    StockLogEntry {
        seq,
        at: fixtures::start(),
        command: StockCommand::AddLocation {
            location: Location::new(
                LocationId::parse(format!("L{seq}")).unwrap(),
                "Somewhere",
                1,
                "TR-34",
                LocationKind::Warehouse,
            ),
        },
    }
}

fn stock(expected_seq: u64, entries: Vec<StockLogEntry>) -> ChangeSet {
    ChangeSet {
        stock: Some(StockAppend {
            expected_seq,
            entries,
            places: Vec::new(),
        }),
        ..ChangeSet::default()
    }
}

fn code(outcome: &Result<(), StoreError>) -> &'static str {
    match outcome {
        Ok(()) => "ok",
        Err(e) => e.code(),
    }
}

/// Everything submitted before anyone waits is one group: one transaction in which each
/// change set is checked and saved on its own.
#[test]
fn a_refused_change_set_in_a_group_refuses_only_itself() {
    let (store, _dir) = file_store();
    store.commit(new_order("o-1")).unwrap();
    let stale = ChangeSet {
        // o-1 is at version 1: a change expecting it absent is stale.
        orders: vec![fixtures::new_order_change("o-1", "web", fixtures::start())],
        ..ChangeSet::default()
    };
    let key = |k: &str, order: &str| IdempotencyRecord {
        key: k.to_string(),
        fingerprint: "{}".into(),
        order_id: OrderId::parse(order).unwrap(),
        order_version: 1,
    };
    let tickets = [
        store.submit(new_order("o-2"), None),
        store.submit(stale, None),
        store.submit(
            ChangeSet {
                idempotency: vec![key("k-1", "o-2")],
                ..new_order("o-3")
            },
            None,
        ),
        // The same key again in the same group: taken by the change set before.
        store.submit(
            ChangeSet {
                idempotency: vec![key("k-1", "o-4")],
                ..new_order("o-4")
            },
            None,
        ),
        store.submit(stock(0, vec![receive(1), receive(2)]), None),
        // Stale head: the change set before moved it to 2.
        store.submit(stock(0, vec![receive(1)]), None),
        store.submit(stock(2, vec![receive(3)]), None),
    ];
    let outcomes: Vec<&str> = tickets.iter().map(|t| code(&store.wait(t))).collect();
    assert_eq!(
        outcomes,
        [
            "ok",
            "STORE_VERSION_CONFLICT",
            "ok",
            "STORE_KEY_TAKEN",
            "ok",
            "STORE_VERSION_CONFLICT",
            "ok"
        ]
    );
    let ids: Vec<String> = store
        .order_ids(None, 10)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(ids, ["o-1", "o-2", "o-3"]);
    let seqs: Vec<u64> = store
        .stock_log_since(0, 10)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    // Refused change sets left nothing: no events, no key, no outbox.
    assert!(store
        .order_events(&OrderId::parse("o-4").unwrap())
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .idempotency_record("k-1")
            .unwrap()
            .unwrap()
            .order_id
            .as_str(),
        "o-2"
    );
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

/// A group is first saved without a savepoint per change set; a refusal undoes that
/// try, ids reserved ahead included, and the group is saved again with savepoints. The
/// block of ids reserved ahead is then reserved once, by the second try, and handed
/// over: the next block of ids needs no reservation of its own.
#[test]
fn a_group_saved_again_after_a_refusal_reserves_its_ids_ahead_once() {
    use ordersmith::ports::IdGenerator;
    let (store, dir) = file_store();
    let next_value = || -> i64 {
        let conn = rusqlite::Connection::open(dir.path().join("shop.db")).unwrap();
        conn.query_row(
            "SELECT next_value FROM id_blocks WHERE kind = 'ord'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    // The first block (64 ids, reserved at once); half of it used: the next block
    // (128) is wanted ahead.
    let first = store.next_id("ord").unwrap();
    assert_eq!(first, "ord-000001");
    for _ in 0..31 {
        store.next_id("ord").unwrap();
    }
    assert_eq!(next_value(), 65);
    store.commit(new_order("o-1")).unwrap();
    // Reserved ahead by that commit: 65..193.
    assert_eq!(next_value(), 193);
    for _ in 0..32 {
        store.next_id("ord").unwrap();
    }
    // Ids 1..64 used; the spare (65..193) takes over, half of it used: wanted ahead.
    for _ in 0..64 {
        store.next_id("ord").unwrap();
    }
    assert_eq!(next_value(), 193);
    let tickets = [
        store.submit(new_order("o-2"), None),
        // o-1 exists: refused midway through the first try.
        store.submit(new_order("o-1"), None),
        store.submit(new_order("o-3"), None),
    ];
    let outcomes: Vec<&str> = tickets.iter().map(|t| code(&store.wait(t))).collect();
    assert_eq!(outcomes, ["ok", "STORE_VERSION_CONFLICT", "ok"]);
    // One block of 256 reserved ahead by the second try, none left over by the first.
    assert_eq!(next_value(), 193 + 256);
    // The rest of the spare, then the block reserved ahead, without a reservation.
    let mut last = String::new();
    for _ in 0..(64 + 256) {
        last = store.next_id("ord").unwrap();
    }
    assert_eq!(last, format!("ord-{:06}", 193 + 256 - 1));
    assert_eq!(next_value(), 193 + 256);
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

/// A change set decided on an earlier one's unsaved effects is refused with it, even
/// where its own checks would pass, in the same group or a later one.
#[test]
fn a_change_set_submitted_after_a_refused_one_is_refused_with_it() {
    let (store, _dir) = file_store();
    store.commit(new_order("o-1")).unwrap();
    let refused = store.submit(new_order("o-1"), None);
    let same_group = store.submit(new_order("o-2"), Some(&refused));
    let saved = store.submit(new_order("o-3"), None);
    let after_saved = store.submit(new_order("o-4"), Some(&saved));
    assert_eq!(code(&store.wait(&same_group)), "STORE_VERSION_CONFLICT");
    assert_eq!(code(&store.wait(&refused)), "STORE_VERSION_CONFLICT");
    assert_eq!(code(&store.wait(&after_saved)), "ok");
    let later_group = store.submit(new_order("o-5"), Some(&refused));
    assert_eq!(code(&store.wait(&later_group)), "STORE_VERSION_CONFLICT");
    let ids: BTreeSet<String> = store
        .order_ids(None, 10)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["o-1".into(), "o-3".into(), "o-4".into()])
    );
}

#[test]
fn an_injected_failure_in_a_group_fails_only_its_change_set() {
    let (store, _dir) = file_store();
    let first = store.submit(new_order("o-1"), None);
    let second = store.submit(new_order("o-2"), None);
    store.fail_next_commits(1);
    assert_eq!(code(&store.wait(&first)), "STORE_UNAVAILABLE");
    assert_eq!(code(&store.wait(&second)), "ok");
    assert!(store
        .load_order(&OrderId::parse("o-1").unwrap())
        .unwrap()
        .is_none());
    assert!(store
        .load_order(&OrderId::parse("o-2").unwrap())
        .unwrap()
        .is_some());
    assert_eq!(store.pending(10).unwrap().len(), 0);
}

/// The store hands each change set back with its ticket, saved or refused, for its
/// submitter to free on its own thread; it is the change set that was submitted.
#[test]
fn a_decided_ticket_hands_its_change_set_back() {
    let (store, _dir) = file_store();
    let saved = store.submit(new_order("o-1"), None);
    let refused = store.submit(new_order("o-1"), None);
    assert!(store.wait(&saved).is_ok());
    assert_eq!(code(&store.wait(&refused)), "STORE_VERSION_CONFLICT");
    for ticket in [&saved, &refused] {
        let back = ticket.take_back().unwrap();
        assert_eq!(back.orders.len(), 1);
        assert_eq!(back.orders[0].snapshot.id.as_str(), "o-1");
        assert!(ticket.take_back().is_none());
    }
}

#[test]
fn a_ticket_from_elsewhere_is_an_error_not_a_hang() {
    let (store, _dir) = file_store();
    let foreign = CommitTicket::pending();
    assert_eq!(code(&store.wait(&foreign)), "STORE_UNAVAILABLE");
}

/// 8 threads place and confirm orders (reserving stock) on one engine: every
/// acknowledged order is saved whole, readable after reopening, and the ledger the
/// store replays is what the orders hold: nothing lost, nothing reserved twice.
#[test]
fn concurrent_writers_share_commits_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let threads = 8;
    let per_thread = 25;
    // Fewer mugs than orders: some confirmations are refused, and must change nothing.
    let mugs = 150;
    let acknowledged: Vec<(OrderId, bool)> = {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let engine = stocked_engine(&store, mugs).with_config(EngineConfig {
            max_attempts: 1_000,
            ..EngineConfig::default()
        });
        let ctx = CommandContext::system();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (engine, ctx) = (&engine, &ctx);
                    s.spawn(move || {
                        let mut acked = Vec::new();
                        for i in 0..per_thread {
                            let mut new = fixtures::new_order("web", fixtures::start());
                            new.external_ref = Some(format!("T{t}-{i}"));
                            let order = engine.place_order(new, ctx).unwrap();
                            match engine.confirm_order(&order.id, ctx) {
                                Ok(confirmed) => {
                                    assert_eq!(confirmed.status, OrderStatus::Confirmed);
                                    acked.push((order.id, true));
                                }
                                Err(e) => {
                                    assert_eq!(e.code(), "STOCK_INSUFFICIENT");
                                    acked.push((order.id, false));
                                }
                            }
                        }
                        acked
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        })
    };
    assert_eq!(acknowledged.len(), threads * per_thread);
    let confirmed = acknowledged.iter().filter(|(_, c)| *c).count();
    // fixtures::new_order takes one mug: exactly the stock is sold, never more.
    assert_eq!(confirmed, usize::try_from(mugs).unwrap());

    let store = Arc::new(SqliteStore::open(&path).unwrap());
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
    for (id, was_confirmed) in &acknowledged {
        let order = store.load_order(id).unwrap().unwrap();
        let expected = if *was_confirmed {
            OrderStatus::Confirmed
        } else {
            OrderStatus::Pending
        };
        assert_eq!(order.status, expected, "{id}");
        let events = store.order_events(id).unwrap();
        assert_eq!(ordersmith::order::Order::replay(&events).unwrap(), order);
    }
    let engine = Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock::new()),
        store,
    );
    let ist = LocationId::parse("IST").unwrap();
    let mug = engine
        .with_stock(|l| l.level(&VariantId::parse("MUG").unwrap(), &ist).unwrap())
        .unwrap();
    assert_eq!((mug.reserved, mug.available), (i64::from(mugs), 0));
    let shirt = engine
        .with_stock(|l| {
            l.level(&VariantId::parse("SHIRT-M").unwrap(), &ist)
                .unwrap()
        })
        .unwrap();
    assert_eq!(shirt.reserved, 2 * i64::from(mugs));
}

/// A file store holding order `o-1` (waiting up to two minutes for SQLite's write lock),
/// and another connection that has taken the write lock and keeps it, as another
/// process or a group's fsync would hold it.
fn write_lock_held_elsewhere() -> (Arc<SqliteStore>, rusqlite::Connection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let options = ordersmith_sqlite::SqliteOptions {
        busy_timeout: std::time::Duration::from_secs(120),
        ..ordersmith_sqlite::SqliteOptions::default()
    };
    let store = Arc::new(SqliteStore::open_with(&path, options).unwrap());
    store.commit(new_order("o-1")).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    (store, other, dir)
}

/// Reads of a file go to read connections: they are answered while a write waits for
/// SQLite's write lock (here held by another connection, as another process or a group's
/// fsync would hold it), and they see what was committed, not the waiting write.
#[test]
fn reads_are_answered_while_a_write_waits_for_the_write_lock() {
    let (store, other, _dir) = write_lock_held_elsewhere();
    let id = OrderId::parse("o-1").unwrap();

    // A write of this store now waits for the lock, holding the store's writer.
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || store.commit(new_order("o-2")))
    };
    // Give the writer time to reach the lock (a read before that proves nothing, but
    // cannot fail either: this only makes the test able to catch reads that wait).
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (sent, answered) = std::sync::mpsc::channel();
    let reader = {
        let store = store.clone();
        let id = id.clone();
        std::thread::spawn(move || {
            let answer = (
                store.load_order(&id).map(|o| o.map(|o| o.version)),
                store.order_ids(None, 10).map(|ids| ids.len()),
            );
            let _ = sent.send(answer);
        })
    };
    // Bounded so a store whose reads wait for the write fails instead of hanging.
    let (loaded, listed) = answered
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("a read waited for a write that waits for the write lock");
    assert_eq!(loaded.unwrap(), Some(1));
    assert_eq!(listed.unwrap(), 1, "the waiting write is not visible yet");

    other.execute_batch("ROLLBACK").unwrap();
    writer.join().unwrap().unwrap();
    reader.join().unwrap();
    assert_eq!(store.order_ids(None, 10).unwrap().len(), 2);
}

/// `prepare` (a pipelined batch call's deciding thread packing its change set while a
/// group is being committed) does not wait for that group, even one held up by
/// another connection's write lock, and changes no outcome: the change set is saved,
/// or refused, as it would be without it.
#[test]
fn prepare_packs_beside_a_group_held_up_and_changes_no_outcome() {
    let (store, other, _dir) = write_lock_held_elsewhere();
    // A group of this store waits for the lock.
    let leader = {
        let store = store.clone();
        std::thread::spawn(move || store.commit(new_order("o-2")))
    };
    std::thread::sleep(std::time::Duration::from_millis(300));

    let saved = store.submit(new_order("o-3"), None);
    let refused = store.submit(new_order("o-1"), None);
    let (sent, prepared) = std::sync::mpsc::channel();
    let preparer = {
        let store = store.clone();
        let (saved, refused) = (saved.clone(), refused.clone());
        std::thread::spawn(move || {
            store.prepare(&saved);
            store.prepare(&refused);
            store.prepare(&saved); // packed already: nothing to do
            let _ = sent.send(());
        })
    };
    prepared
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("prepare waited for the group being committed");
    assert!(saved.outcome().is_none() && refused.outcome().is_none());

    other.execute_batch("ROLLBACK").unwrap();
    leader.join().unwrap().unwrap();
    preparer.join().unwrap();
    assert_eq!(code(&store.wait(&saved)), "ok");
    assert_eq!(code(&store.wait(&refused)), "STORE_VERSION_CONFLICT");
    let o3 = store
        .load_order(&OrderId::parse("o-3").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(o3, new_order("o-3").orders[0].snapshot);
    assert_eq!(store.order_ids(None, 10).unwrap().len(), 3);
}

/// An engine on `store` with the stock `fixtures::new_order` takes: plenty of shirts,
/// `mugs` mugs.
fn stocked_engine(store: &Arc<SqliteStore>, mugs: u32) -> Engine {
    let engine = Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock::new()),
        store.clone(),
    );
    let ist = LocationId::parse("IST").unwrap();
    let mut setup = vec![StockCommand::AddLocation {
        location: Location::new(
            ist.clone(),
            "Istanbul DC",
            1,
            "TR-34",
            LocationKind::Warehouse,
        ),
    }];
    for (sku, units) in [("SHIRT-M", 1_000_000), ("MUG", mugs)] {
        let variant = VariantId::parse(sku).unwrap();
        setup.push(StockCommand::RegisterVariant {
            variant: variant.clone(),
            policy: StockPolicy::Deny,
        });
        setup.push(StockCommand::Receive {
            variant,
            location: ist.clone(),
            quantity: units,
            reference: None,
        });
    }
    engine.stock_batch(setup).unwrap();
    engine
}

fn referenced_orders(n: usize) -> Vec<ordersmith::order::NewOrder> {
    (0..n)
        .map(|i| {
            let mut new = fixtures::new_order("web", fixtures::start());
            new.external_ref = Some(format!("P-{i}"));
            new
        })
        .collect()
}

/// A batch call of several batches is pipelined on a file (the next batch is decided
/// while the previous one commits), and still behaves as the batches one after the
/// other: every order placed once, results in input order, and the stock goes to the
/// first orders in input order, exactly as far as it reaches.
#[test]
fn pipelined_batches_place_and_confirm_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let n = 2 * ordersmith::engine::WRITE_BATCH + 500;
    let mugs = 1_234;
    let ctx = CommandContext::system();
    let placed: Vec<OrderId> = {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let engine = stocked_engine(&store, mugs);
        let placed: Vec<OrderId> = engine
            .place_orders(referenced_orders(n), &ctx)
            .into_iter()
            .map(|r| r.unwrap().id)
            .collect();
        let commands = placed
            .iter()
            .map(|id| (id.clone(), ordersmith::order::OrderCommand::Confirm))
            .collect();
        let confirmed = engine.execute_many(commands, &ctx);
        assert_eq!(confirmed.len(), n);
        for (i, result) in confirmed.iter().enumerate() {
            if i < usize::try_from(mugs).unwrap() {
                assert_eq!(
                    result.as_ref().unwrap().status,
                    OrderStatus::Confirmed,
                    "{i}"
                );
            } else {
                assert_eq!(
                    result.as_ref().unwrap_err().code(),
                    "STOCK_INSUFFICIENT",
                    "{i}"
                );
            }
        }
        placed
    };
    // Everything acknowledged is on disk, once, in the order the results said.
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
    assert_eq!(placed.iter().collect::<BTreeSet<_>>().len(), n);
    assert_eq!(store.order_ids(None, n + 10).unwrap().len(), n);
    for (i, id) in placed.iter().enumerate() {
        let order = store.load_order(id).unwrap().unwrap();
        assert_eq!(
            order.external_ref.as_deref(),
            Some(format!("P-{i}").as_str())
        );
        let expected = if i < usize::try_from(mugs).unwrap() {
            OrderStatus::Confirmed
        } else {
            OrderStatus::Pending
        };
        assert_eq!(order.status, expected, "{i}");
    }
    let engine = stocked_engine_reopened(&store);
    let ist = LocationId::parse("IST").unwrap();
    let mug = engine
        .with_stock(|l| l.level(&VariantId::parse("MUG").unwrap(), &ist).unwrap())
        .unwrap();
    assert_eq!((mug.reserved, mug.available), (i64::from(mugs), 0));
}

fn stocked_engine_reopened(store: &Arc<SqliteStore>) -> Engine {
    Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock::new()),
        store.clone(),
    )
}

/// A pipelined batch whose commit fails is redone (and the batches submitted after it
/// that were refused with it): the call's results are the ones the one-by-one calls
/// would give, nothing is placed twice, and the stock still goes first come, first
/// served.
#[test]
fn a_failed_commit_in_a_pipelined_call_is_redone_without_duplicates() {
    let (store, _dir) = file_store();
    let n = 3 * ordersmith::engine::WRITE_BATCH + 10;
    let mugs = 1_500;
    let engine = stocked_engine(&store, mugs);
    let ctx = CommandContext::system();
    store.fail_next_commits(1);
    let placed: Vec<OrderId> = engine
        .place_orders(referenced_orders(n), &ctx)
        .into_iter()
        .map(|r| r.unwrap().id)
        .collect();
    assert_eq!(placed.iter().collect::<BTreeSet<_>>().len(), n);
    assert_eq!(store.order_ids(None, n + 10).unwrap().len(), n);
    for (i, id) in placed.iter().enumerate() {
        let order = store.load_order(id).unwrap().unwrap();
        assert_eq!(
            order.external_ref.as_deref(),
            Some(format!("P-{i}").as_str())
        );
    }
    store.fail_next_commits(2);
    let commands = placed
        .iter()
        .map(|id| (id.clone(), ordersmith::order::OrderCommand::Confirm))
        .collect();
    let confirmed = engine.execute_many(commands, &ctx);
    let statuses: Vec<bool> = confirmed.iter().map(Result::is_ok).collect();
    let first = usize::try_from(mugs).unwrap();
    assert!(statuses[..first].iter().all(|ok| *ok));
    assert!(statuses[first..].iter().all(|ok| !ok));
    for (i, id) in placed.iter().enumerate() {
        let order = store.load_order(id).unwrap().unwrap();
        let expected = if i < first {
            OrderStatus::Confirmed
        } else {
            OrderStatus::Pending
        };
        assert_eq!(order.status, expected, "{i}");
    }
    let reopened = stocked_engine_reopened(&store);
    let ist = LocationId::parse("IST").unwrap();
    let mug = reopened
        .with_stock(|l| l.level(&VariantId::parse("MUG").unwrap(), &ist).unwrap())
        .unwrap();
    assert_eq!((mug.reserved, mug.available), (i64::from(mugs), 0));
}

/// Commands of one `execute_many` call on the same order, in different batches of the
/// pipeline, see each other: the later batch is decided only once the earlier one is
/// saved, so a shipment after a confirmation 500 items earlier is recorded (it was
/// refused as a shipment of a pending order, decided on the order as the store still
/// had it), and a tag removed after being added is removed.
#[test]
fn pipelined_commands_on_one_order_see_the_earlier_batches() {
    use ordersmith::order::{LineQuantity, OrderCommand};
    let (store, _dir) = file_store();
    let engine = stocked_engine(&store, 10);
    let ctx = CommandContext::system();
    let batch = ordersmith::engine::WRITE_BATCH;
    let orders: Vec<OrderId> = engine
        .place_orders(referenced_orders(batch + 2), &ctx)
        .into_iter()
        .map(|r| r.unwrap().id)
        .collect();
    let (x, y) = (orders[0].clone(), orders[1].clone());
    let shipped: Vec<LineQuantity> = engine
        .order(&x)
        .unwrap()
        .lines
        .iter()
        .map(|l| LineQuantity::new(l.id.clone(), l.quantity))
        .collect();
    let mut commands = vec![
        (x.clone(), OrderCommand::Confirm),
        (
            y.clone(),
            OrderCommand::Tag {
                add: vec!["vip".into()],
                remove: vec![],
            },
        ),
    ];
    // The rest of the first batch: a note on each of the other orders.
    for other in orders.iter().skip(2).take(batch - commands.len()) {
        commands.push((
            other.clone(),
            OrderCommand::AddNote {
                note: "checked".into(),
            },
        ));
    }
    assert_eq!(commands.len(), batch);
    commands.push((x.clone(), OrderCommand::RecordShipment { lines: shipped }));
    commands.push((
        y.clone(),
        OrderCommand::Tag {
            add: vec![],
            remove: vec!["vip".into()],
        },
    ));
    let results = engine.execute_many(commands, &ctx);
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "{i}: {r:?}");
    }
    let x = store.load_order(&x).unwrap().unwrap();
    assert!(x.lines.iter().all(|l| l.fulfilment.shipped == l.quantity));
    let y = store.load_order(&y).unwrap().unwrap();
    assert!(!y.tags.contains("vip"), "{:?}", y.tags);
}
