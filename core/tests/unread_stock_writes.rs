//! A store whose reads are round trips and whose commits check every head an append
//! moves says so (`Store::checks_stock_at_commit`): a batch of reservations made,
//! committed or released by hand, and a new order placed and confirmed, then skip the
//! stock read when the engine's last read found nothing new, since each reservation
//! appends to the partition it decided on. A commit refused as stale, or a command that
//! fails, is decided again on a read (counted against no limit), and a confirmation
//! whose plan leaves a line untracked or short reads before it plans again, so a stale
//! engine never sells what another sold and never refuses or holds for what another
//! received; the engine reads again at least every `UNREAD_WRITES` (32) such writes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineConfig, EngineError, ShortagePolicy};
use ordersmith::ids::ReservationId;
use ordersmith::order::{NewLine, NewOrder, OrderCommand, OrderStatus};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::{ChangeSet, StockCursor, StockSink, Store, StoreError};
use ordersmith::stock::{ReserveRequest, StockCommand, StockError, StockLogEntry};

/// A memory store that counts reads of its stock log, commits and commits refused as
/// stale, and lets commits check stock when `checks` says so.
struct CheckingStore {
    inner: Arc<MemoryStore>,
    checks: bool,
    reads: AtomicU32,
    commits: AtomicU32,
    stale: AtomicU32,
}

impl CheckingStore {
    fn reads(&self) -> u32 {
        self.reads.load(Ordering::SeqCst)
    }
    fn commits(&self) -> u32 {
        self.commits.load(Ordering::SeqCst)
    }
    fn stale(&self) -> u32 {
        self.stale.load(Ordering::SeqCst)
    }
}

impl Store for CheckingStore {
    fn stock_log_since(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StockLogEntry>, StoreError> {
        self.inner.stock_log_since(after_seq, limit)
    }
    fn stock_log_read(
        &self,
        cursor: StockCursor,
        sink: &mut StockSink<'_>,
    ) -> Result<u64, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.stock_log_read(cursor, sink)
    }
    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        let result = self.inner.commit(changes);
        if matches!(result, Err(StoreError::Conflict { .. })) {
            self.stale.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
    fn checks_stock_at_commit(&self) -> bool {
        self.checks
    }
    forward_store_reads!(inner);
}

fn checking(inner: &Arc<MemoryStore>, checks: bool) -> Arc<CheckingStore> {
    Arc::new(CheckingStore {
        inner: inner.clone(),
        checks,
        reads: AtomicU32::new(0),
        commits: AtomicU32::new(0),
        stale: AtomicU32::new(0),
    })
}

/// One id sequence for every engine of this file: engines sharing a store must not
/// make the same order id.
fn ids() -> Arc<SequentialIds> {
    static IDS: std::sync::OnceLock<Arc<SequentialIds>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| Arc::new(SequentialIds::new())).clone()
}

/// An engine on `store` (sharing `inner`'s data) that gives up after one lost race: a
/// decision made without a read and refused must not count as one.
fn engine_on(store: Arc<CheckingStore>, inner: &Arc<MemoryStore>) -> Engine {
    Engine::new(
        store,
        inner.clone(),
        Arc::new(FixedClock::new(at(20, 12))),
        ids(),
    )
    .with_config(EngineConfig {
        max_attempts: 1,
        ..EngineConfig::default()
    })
}

fn rid(id: &str) -> ReservationId {
    ReservationId::parse(id).unwrap()
}

fn receive(sku: &str, units: u32) -> StockCommand {
    StockCommand::Receive {
        variant: variant(sku),
        location: ist(),
        quantity: units,
        reference: None,
    }
}

fn reserve(id: &str, units: u32) -> StockCommand {
    StockCommand::Reserve {
        request: ReserveRequest::new(rid(id), variant("SHIRT-M"), ist(), units),
    }
}

/// SHIRT-M at IST as `engine` sees it now (read first): (on hand, reserved).
fn shirts(engine: &Engine) -> (i64, i64) {
    level_at_ist(engine, "SHIRT-M")
}

/// Two engines on one store; `b`'s next write may skip its read: it has made two
/// reservations, the second after a read that found nothing new.
fn two_engines(units: u32) -> (Engine, Engine, Arc<CheckingStore>) {
    let inner = Arc::new(MemoryStore::new());
    let a = engine_on(checking(&inner, true), &inner);
    stock_at_ist(&a, units);
    let b_store = checking(&inner, true);
    let b = engine_on(b_store.clone(), &inner);
    b.stock(reserve("B-1", 1)).unwrap();
    b.stock(reserve("B-2", 1)).unwrap();
    (a, b, b_store)
}

#[test]
fn reservations_one_after_another_read_the_log_once_every_32() {
    for checks in [true, false] {
        let inner = Arc::new(MemoryStore::new());
        let store = checking(&inner, checks);
        let engine = engine_on(store.clone(), &inner);
        stock_at_ist(&engine, 1_000);
        // The first reservation reads (the stocking was news), the second reads and
        // finds nothing new: from then on the log is quiet.
        engine.stock(reserve("R-0", 1)).unwrap();
        engine.stock(reserve("R-1", 1)).unwrap();
        let (reads, commits) = (store.reads(), store.commits());
        for k in 2..66 {
            engine
                .stock_batch(vec![
                    reserve(&format!("R-{k}"), 1),
                    StockCommand::Release {
                        reservation: rid(&format!("R-{}", k - 1)),
                    },
                ])
                .unwrap();
        }
        let reads = store.reads() - reads;
        // 64 writes: skipping, a read at every 32nd (the 33rd and the 65th write read).
        let expected = if checks { 2 } else { 64 };
        assert_eq!(reads, expected, "reads with checks = {checks}");
        assert_eq!(store.commits() - commits, 64, "one commit a write");
        assert_eq!(store.stale(), 0);
        assert_eq!(shirts(&engine), (1_000, 2), "R-0 and R-65 are held");
    }
}

#[test]
fn an_engine_that_skipped_its_read_never_sells_what_another_sold() {
    let (a, b, b_store) = two_engines(10);
    // A sells seven of the eight B last saw free.
    a.stock(reserve("A-1", 7)).unwrap();
    let (reads, commits) = (b_store.reads(), b_store.commits());

    // B decides on 8 free, unread: its commit is refused as stale (nothing saved), it
    // reads and decides again: one unit is free, so two are refused. With
    // `max_attempts = 1` the refused commit did not count as a lost race.
    let refused = b.stock(reserve("B-3", 2)).unwrap_err();
    assert!(
        matches!(
            refused,
            EngineError::Stock(StockError::Insufficient {
                available: 1,
                requested: 2,
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(b_store.stale(), 1, "the unread decision reached the commit");
    assert_eq!(b_store.commits() - commits, 1);
    // Its undo replays the log (an engine's first undo has no checkpoint to go back
    // to: it reads the whole log, then keeps one), then the decision reads again.
    assert_eq!(b_store.reads() - reads, 2, "read only after the refusal");
    assert_eq!(shirts(&a), (10, 9));
    assert_eq!(shirts(&b), (10, 9));

    // The last unit is still B's to take, on the read it just made.
    b.stock(reserve("B-3", 1)).unwrap();
    assert_eq!(shirts(&a), (10, 10));
}

#[test]
fn an_engine_that_skipped_its_read_refuses_only_on_a_fresh_read() {
    // Two units, both B's: B's ledger says SHIRT-M is sold out.
    let (a, b, b_store) = two_engines(2);
    a.stock(receive("SHIRT-M", 5)).unwrap();
    let (reads, commits) = (b_store.reads(), b_store.commits());

    // Unread, B would refuse; the refusal is decided again on a read, which has the
    // five A received: the reservation is made, in one commit.
    b.stock(reserve("B-3", 3)).unwrap();
    assert_eq!(b_store.reads() - reads, 1);
    assert_eq!(b_store.commits() - commits, 1);
    assert_eq!(b_store.stale(), 0);
    assert_eq!(shirts(&a), (7, 5));
}

#[test]
fn a_reservation_another_engine_released_is_not_committed_unread() {
    let (a, b, b_store) = two_engines(10);
    a.stock(StockCommand::Release {
        reservation: rid("B-2"),
    })
    .unwrap();
    let commits = b_store.commits();

    // B still holds B-2 in its ledger; committing it unread is refused as stale and
    // decided again on the read, where B-2 is released.
    let refused = b
        .stock(StockCommand::Commit {
            reservation: rid("B-2"),
        })
        .unwrap_err();
    assert!(
        matches!(
            refused,
            EngineError::Stock(StockError::ReservationReleased { .. })
        ),
        "{refused:?}"
    );
    assert_eq!(b_store.stale(), 1);
    assert_eq!(
        b_store.commits() - commits,
        1,
        "nothing saved after the refusal"
    );
    assert_eq!(
        shirts(&a),
        (10, 1),
        "B-1 held, B-2 released, nothing shipped"
    );
}

#[test]
fn a_store_that_does_not_check_at_commit_reads_before_every_reservation() {
    let inner = Arc::new(MemoryStore::new());
    let a = engine_on(checking(&inner, true), &inner);
    stock_at_ist(&a, 10);
    let store = checking(&inner, false);
    let b = engine_on(store.clone(), &inner);
    b.stock(reserve("B-1", 1)).unwrap();
    b.stock(reserve("B-2", 1)).unwrap();
    a.stock(reserve("A-1", 7)).unwrap();
    let reads = store.reads();
    let refused = b.stock(reserve("B-3", 2)).unwrap_err();
    assert!(matches!(
        refused,
        EngineError::Stock(StockError::Insufficient { .. })
    ));
    assert!(store.reads() > reads, "read before deciding");
    assert_eq!(
        store.stale(),
        0,
        "decided on a read, never refused as stale"
    );
}

fn with_shortage(engine: Engine, on_shortage: ShortagePolicy) -> Engine {
    let config = EngineConfig {
        on_shortage,
        ..engine.config().clone()
    };
    engine.with_config(config)
}

/// A one-line order of `units` SHIRT-M, placed and confirmed in one write.
fn shirt_order(units: u32) -> NewOrder {
    NewOrder::new(
        ordersmith::ids::ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        vec![NewLine::new(variant("SHIRT-M"), units, money("100"))],
    )
}

fn place_and_confirm(
    engine: &Engine,
    new: NewOrder,
) -> Result<ordersmith::order::Order, EngineError> {
    engine
        .place_order_then(new, vec![OrderCommand::Confirm], &CommandContext::system())
        .map(|(order, _)| order)
}

#[test]
fn new_orders_confirmed_in_full_read_nothing() {
    let (_a, b, b_store) = two_engines(100);
    let (reads, commits) = (b_store.reads(), b_store.commits());
    for _ in 0..5 {
        let order = place_and_confirm(&b, sample_order("web")).unwrap();
        assert_eq!(order.status, OrderStatus::Confirmed);
    }
    assert_eq!(b_store.reads() - reads, 0, "no read before a checked plan");
    assert_eq!(b_store.commits() - commits, 5);
    assert_eq!(shirts(&b), (100, 2 + 5 * 2));
}

#[test]
fn a_stale_confirmation_is_refused_at_commit_and_planned_again_on_a_read() {
    let (a, b, b_store) = two_engines(10);
    let b = with_shortage(b, ShortagePolicy::Hold);
    a.stock(reserve("A-1", 7)).unwrap();
    let commits = b_store.commits();

    // B plans two of the eight it last saw: its commit is refused as stale; on the read
    // one is left, so the order is confirmed, holds one and waits on hold for the
    // other. One order saved, nothing oversold.
    let order = place_and_confirm(&b, shirt_order(2)).unwrap();
    assert_eq!(order.status, OrderStatus::OnHold);
    assert_eq!(order.lines[0].fulfilment.allocated, 1);
    assert_eq!(b_store.stale(), 1);
    assert_eq!(
        b_store.commits() - commits,
        2,
        "the refused commit, then the saved one"
    );
    assert_eq!(shirts(&a), (10, 10));
}

#[test]
fn a_confirmation_short_on_a_stale_ledger_reads_before_it_holds_or_refuses() {
    // Both units are B's: B's ledger says SHIRT-M is sold out.
    for policy in [ShortagePolicy::Hold, ShortagePolicy::Fail] {
        let (a, b, b_store) = two_engines(2);
        let b = with_shortage(b, policy);
        a.stock(receive("SHIRT-M", 5)).unwrap();
        let (reads, commits) = (b_store.reads(), b_store.commits());

        // Short as B last saw it: the plan is made again on a read, which has the
        // five A received, so the order is confirmed in full, in one commit.
        // (The read finds news, so the write runs again from its start, reading
        // first, as any deferred read that finds news makes it: two reads.)
        let order = place_and_confirm(&b, shirt_order(3)).unwrap();
        assert_eq!(order.status, OrderStatus::Confirmed, "{policy:?}");
        assert_eq!(order.lines[0].fulfilment.allocated, 3);
        assert_eq!(b_store.reads() - reads, 2);
        assert_eq!(b_store.commits() - commits, 1);
        assert_eq!(b_store.stale(), 0);
        assert_eq!(shirts(&a), (7, 5));

        // Truly short: refused (or held) after a read, as before.
        let reads = b_store.reads();
        let short = place_and_confirm(&b, shirt_order(3));
        match policy {
            ShortagePolicy::Fail => assert!(
                matches!(
                    short,
                    Err(EngineError::Stock(StockError::Insufficient { .. }))
                ),
                "{short:?}"
            ),
            ShortagePolicy::Hold => assert_eq!(short.unwrap().status, OrderStatus::OnHold),
        }
        assert!(b_store.reads() > reads);
    }
}

#[test]
fn a_line_the_stale_ledger_does_not_track_is_planned_on_a_read() {
    let (a, b, b_store) = two_engines(10);
    // Another engine starts tracking a new variant and stocks it.
    a.stock_batch(vec![
        StockCommand::RegisterVariant {
            variant: variant("CAP"),
            policy: ordersmith::stock::StockPolicy::Deny,
        },
        receive("CAP", 4),
    ])
    .unwrap();
    let reads = b_store.reads();

    // Untracked as B last saw it, a CAP line would be confirmed unreserved: the plan
    // is made on a read, and the cap is reserved.
    let mut new = shirt_order(1);
    new.lines.push(NewLine::new(variant("CAP"), 1, money("30")));
    let order = place_and_confirm(&b, new).unwrap();
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(order.lines[1].fulfilment.allocated, 1);
    assert_eq!(
        b_store.reads() - reads,
        2,
        "the read, then the write again reading first"
    );
    assert_eq!(b_store.stale(), 0);
    let caps = a
        .with_stock(|s| s.level(&variant("CAP"), &ist()).unwrap().reserved)
        .unwrap();
    assert_eq!(caps, 1);
}

/// One step of two engines sharing a store that lets commits check stock.
#[derive(Debug, Clone)]
enum Step {
    /// Engine `k` reserves `units` of a variant by hand.
    Reserve(usize, usize, u32),
    /// Engine `k` releases the `n`th reservation made by hand so far (if any).
    Release(usize, usize),
    /// Engine `k` receives `units` of a variant.
    Receive(usize, usize, u32),
    /// Engine `k` places and confirms a one-line order of `units` of a variant.
    Order(usize, usize, u32),
}

const SKUS: [&str; 2] = ["SHIRT-M", "MUG"];

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..2, 0usize..2, 1u32..4).prop_map(|(k, v, q)| Step::Reserve(k, v, q)),
        2 => (0usize..2, 0usize..40).prop_map(|(k, n)| Step::Release(k, n)),
        2 => (0usize..2, 0usize..2, 1u32..4).prop_map(|(k, v, q)| Step::Receive(k, v, q)),
        4 => (0usize..2, 0usize..2, 1u32..4).prop_map(|(k, v, q)| Step::Order(k, v, q)),
    ]
}

/// (on hand, reserved) of `sku` at IST as a fresh engine reads the store.
fn level(inner: &Arc<MemoryStore>, sku: &str) -> (i64, i64) {
    level_at_ist(&engine_on(checking(inner, false), inner), sku)
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Two engines that skip their reads whenever they may, in any interleaving: no
    /// variant is ever oversold, a reservation or an order is refused (engine 0) or
    /// held (engine 1) only when the store really lacks the units, and in the end both
    /// engines' ledgers agree with a fresh reader's.
    #[test]
    fn engines_that_skip_reads_never_oversell_nor_refuse_what_is_there(
        steps in prop::collection::vec(step(), 1..40)
    ) {
        let inner = Arc::new(MemoryStore::new());
        let engines = [
            engine_on(checking(&inner, true), &inner),
            with_shortage(engine_on(checking(&inner, true), &inner), ShortagePolicy::Hold),
        ];
        stock_at_ist(&engines[0], 3);
        let mut made: Vec<String> = Vec::new();
        for (n, step) in steps.into_iter().enumerate() {
            match step {
                Step::Reserve(k, v, units) => {
                    let id = format!("H-{n}");
                    let before = level(&inner, SKUS[v]);
                    let command = StockCommand::Reserve {
                        request: ReserveRequest::new(rid(&id), variant(SKUS[v]), ist(), units),
                    };
                    match engines[k].stock(command) {
                        Ok(_) => made.push(id),
                        Err(EngineError::Stock(StockError::Insufficient { .. })) => {
                            prop_assert!(before.0 - before.1 < i64::from(units), "{before:?}");
                        }
                        Err(e) => prop_assert!(false, "reserve: {e:?}"),
                    }
                }
                Step::Release(k, i) => {
                    if let Some(id) = made.get(i) {
                        let released = engines[k].stock(StockCommand::Release { reservation: rid(id) });
                        if let Err(e) = released {
                            // Only one already released may be refused.
                            prop_assert!(
                                matches!(e, EngineError::Stock(StockError::ReservationReleased { .. })),
                                "release: {e:?}"
                            );
                        }
                    }
                }
                Step::Receive(k, v, units) => {
                    engines[k].stock(receive(SKUS[v], units)).unwrap();
                }
                Step::Order(k, v, units) => {
                    let before = level(&inner, SKUS[v]);
                    let free = before.0 - before.1;
                    let new = NewOrder::new(
                        ordersmith::ids::ChannelId::parse("web").unwrap(),
                        at(20, 10),
                        try_(),
                        vec![NewLine::new(variant(SKUS[v]), units, money("10"))],
                    );
                    match place_and_confirm(&engines[k], new) {
                        Ok(order) if order.status == OrderStatus::Confirmed => {
                            prop_assert_eq!(order.lines[0].fulfilment.allocated, units);
                        }
                        Ok(order) => {
                            prop_assert_eq!(order.status, OrderStatus::OnHold);
                            prop_assert!(free < i64::from(units), "held with {free} free");
                            prop_assert_eq!(
                                i64::from(order.lines[0].fulfilment.allocated),
                                free.max(0)
                            );
                        }
                        Err(EngineError::Stock(StockError::Insufficient { .. })) => {
                            prop_assert_eq!(k, 0);
                            prop_assert!(free < i64::from(units), "refused with {free} free");
                        }
                        Err(e) => prop_assert!(false, "order: {e:?}"),
                    }
                }
            }
            // (Read by a fresh engine: the two keep their ledgers as their own writes
            // left them, so each goes stale while the other writes.)
            for sku in SKUS {
                let (on_hand, reserved) = level(&inner, sku);
                prop_assert!(reserved <= on_hand, "{sku} oversold: {reserved} of {on_hand}");
            }
        }
        for sku in SKUS {
            let fresh = level(&inner, sku);
            for engine in &engines {
                prop_assert_eq!(level_at_ist(engine, sku), fresh);
            }
        }
    }
}
