//! Batched writes (issue 9): `place_orders` and `execute_many` save many orders with one
//! commit per batch, and still decide each order on its own, exactly as one call per
//! order would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineError, WRITE_BATCH};
use ordersmith::ids::{LocationId, OrderId};
use ordersmith::order::{HoldReason, NewOrder, Order, OrderCommand, OrderStatus};
use ordersmith::ports::dump::export;
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::{ChangeSet, Store, StoreError};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockLogEntry, StockPolicy};
use proptest::prelude::*;

/// A memory store that counts commits.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    commits: AtomicUsize,
}

impl Store for Counting {
    fn stock_log_since(&self, after: u64, limit: usize) -> Result<Vec<StockLogEntry>, StoreError> {
        self.inner.stock_log_since(after, limit)
    }
    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        self.inner.commit(changes)
    }
    forward_store_reads!(inner);
}

fn counting_engine() -> (Engine, Arc<Counting>) {
    let store = Arc::new(Counting::default());
    let outbox = Arc::new(MemoryStore::new());
    let engine = Engine::new(
        store.clone(),
        outbox,
        Arc::new(FixedClock::new(at(20, 12))),
        Arc::new(SequentialIds::new()),
    );
    (engine, store)
}

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn with_ref(reference: &str) -> NewOrder {
    let mut new = sample_order("web");
    new.external_ref = Some(reference.to_string());
    new
}

/// An order the core refuses (a line of zero units).
fn invalid() -> NewOrder {
    let mut new = sample_order("web");
    new.lines[0].quantity = 0;
    new
}

/// Results reduced to what a caller compares: the order's id and version, or the code.
fn outcome(results: &[Result<Order, EngineError>]) -> Vec<Result<(String, u64), String>> {
    results
        .iter()
        .map(|r| match r {
            Ok(o) => Ok((o.id.to_string(), o.version)),
            Err(e) => Err(e.code().to_string()),
        })
        .collect()
}

#[test]
fn place_orders_saves_each_batch_with_one_commit() {
    let (engine, store) = counting_engine();
    let n = WRITE_BATCH * 2 + 500;
    let orders: Vec<NewOrder> = (0..n).map(|i| with_ref(&format!("W-{i}"))).collect();
    let results = engine.place_orders(orders, &ctx());
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(store.commits.load(Ordering::SeqCst), 3);
    assert_eq!(store.inner.order_count(), n);
    // Every order is whole: its snapshot, its event, its channel reference.
    for (i, placed) in results.iter().enumerate() {
        let placed = placed.as_ref().unwrap();
        assert_eq!(engine.order(&placed.id).unwrap(), *placed);
        assert_eq!(engine.order_history(&placed.id).unwrap().len(), 1);
        let key = format!("external:web:W-{i}");
        assert_eq!(
            store.idempotency_record(&key).unwrap().unwrap().order_id,
            placed.id
        );
    }
}

#[test]
fn a_bad_order_gets_its_error_at_its_index_and_the_rest_are_saved() {
    let (engine, store) = counting_engine();
    let results = engine.place_orders(
        vec![
            with_ref("A"),
            invalid(),
            with_ref("B"),
            invalid(),
            with_ref("C"),
        ],
        &ctx(),
    );
    assert_eq!(
        outcome(&results),
        vec![
            Ok(("order-000001".to_string(), 1)),
            Err("ORDER_INVALID_QUANTITY".to_string()),
            Ok(("order-000002".to_string(), 1)),
            Err("ORDER_INVALID_QUANTITY".to_string()),
            Ok(("order-000003".to_string(), 1)),
        ]
    );
    assert_eq!(store.commits.load(Ordering::SeqCst), 1);
    assert_eq!(store.inner.order_count(), 3);
}

#[test]
fn references_repeated_within_a_batch_behave_as_across_calls() {
    let mut changed = with_ref("R1");
    changed.note = Some("different content".into());
    let batch = vec![with_ref("R1"), with_ref("R1"), changed, with_ref("R2")];

    let (engine, store) = counting_engine();
    let results = engine.place_orders(batch.clone(), &ctx());
    assert_eq!(
        outcome(&results),
        vec![
            Ok(("order-000001".to_string(), 1)),
            Ok(("order-000001".to_string(), 1)),
            Err("ENGINE_DUPLICATE_EXTERNAL_REF".to_string()),
            Ok(("order-000002".to_string(), 1)),
        ]
    );
    match &results[2] {
        Err(EngineError::DuplicateExternalRef { order_id, .. }) => {
            assert_eq!(order_id.as_str(), "order-000001")
        }
        other => panic!("expected a duplicate reference, got {other:?}"),
    }
    assert_eq!(store.inner.order_count(), 2);

    // The same batch again: every order exists, nothing is saved.
    let again = engine.place_orders(batch, &ctx());
    assert_eq!(outcome(&again), outcome(&results));
    assert_eq!(store.commits.load(Ordering::SeqCst), 1);
}

#[test]
fn a_key_in_the_context_binds_the_first_order_of_a_batch() {
    let keyed = ctx().with_idempotency_key("import-7");
    let batch = vec![with_ref("A"), with_ref("B"), with_ref("A")];
    let (engine, _) = counting_engine();
    let results = engine.place_orders(batch.clone(), &keyed);
    let sequential = test_engine();
    let one_by_one = one_call_each(&sequential.engine, batch, &keyed);
    assert_eq!(outcome(&results), outcome(&one_by_one));
    assert_eq!(
        outcome(&results)[1],
        Err("ENGINE_IDEMPOTENCY_MISMATCH".to_string())
    );
}

#[test]
fn a_batch_whose_commit_fails_is_placed_one_order_at_a_time() {
    let t = test_engine();
    t.store.fail_next_commits(1);
    let results = t.engine.place_orders(
        (0..10).map(|i| with_ref(&format!("W-{i}"))).collect(),
        &ctx(),
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(t.store.order_count(), 10);
}

#[test]
fn a_store_that_stays_down_fails_every_order_and_saves_nothing() {
    let t = test_engine();
    t.store.fail_next_commits(1_000);
    let results = t.engine.place_orders(
        (0..5).map(|i| with_ref(&format!("W-{i}"))).collect(),
        &ctx(),
    );
    assert!(results
        .iter()
        .all(|r| r.as_ref().err().map(EngineError::code) == Some("STORE_UNAVAILABLE")));
    assert_eq!(t.store.order_count(), 0);
}

fn stocked(engine: &Engine, mugs: u32) {
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
    for (sku, units) in [("SHIRT-M", 1_000), ("MUG", mugs)] {
        setup.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
        setup.push(StockCommand::Receive {
            variant: variant(sku),
            location: ist.clone(),
            quantity: units,
            reference: None,
        });
    }
    engine.stock_batch(setup).unwrap();
}

#[test]
fn execute_many_runs_each_command_on_its_own_with_one_commit() {
    let (engine, store) = counting_engine();
    let placed: Vec<OrderId> = engine
        .place_orders(
            (0..4).map(|i| with_ref(&format!("W-{i}"))).collect(),
            &ctx(),
        )
        .into_iter()
        .map(|r| r.unwrap().id)
        .collect();
    let before = store.commits.load(Ordering::SeqCst);
    let results = engine.execute_many(
        vec![
            (placed[0].clone(), OrderCommand::Confirm),
            (oid("order-999999"), OrderCommand::Confirm),
            (placed[1].clone(), OrderCommand::Confirm),
            // A later command on an order sees the earlier one of the batch.
            (placed[1].clone(), OrderCommand::Confirm),
            (
                placed[1].clone(),
                OrderCommand::Hold {
                    reason: HoldReason::AddressCheck,
                    note: None,
                },
            ),
            (
                placed[2].clone(),
                OrderCommand::Place {
                    order_id: placed[2].clone(),
                    order: Box::new(with_ref("X")),
                },
            ),
        ],
        &ctx(),
    );
    let codes: Vec<Result<OrderStatus, &str>> = results
        .iter()
        .map(|r| r.as_ref().map(|o| o.status).map_err(EngineError::code))
        .collect();
    assert_eq!(
        codes,
        vec![
            Ok(OrderStatus::Confirmed),
            Err("ORDER_NOT_FOUND"),
            Ok(OrderStatus::Confirmed),
            Err("ORDER_INVALID_TRANSITION"),
            Ok(OrderStatus::OnHold),
            Err("ENGINE_INVALID_INPUT"),
        ]
    );
    assert_eq!(store.commits.load(Ordering::SeqCst), before + 1);
    assert_eq!(
        engine.order(&placed[1]).unwrap().status,
        OrderStatus::OnHold
    );
    assert_eq!(engine.order_history(&placed[1]).unwrap().len(), 3);
    assert_eq!(
        engine.order(&placed[3]).unwrap().status,
        OrderStatus::Pending
    );
}

#[test]
fn execute_many_reserves_stock_and_refuses_a_short_order_alone() {
    // Two mugs: the third confirmation is short and refused, the others reserve.
    let t = test_engine();
    stocked(&t.engine, 2);
    let ids: Vec<OrderId> = t
        .engine
        .place_orders(
            (0..4).map(|i| with_ref(&format!("W-{i}"))).collect(),
            &ctx(),
        )
        .into_iter()
        .map(|r| r.unwrap().id)
        .collect();
    let results = t.engine.execute_many(
        ids.iter()
            .map(|id| (id.clone(), OrderCommand::Confirm))
            .collect(),
        &ctx(),
    );
    let codes: Vec<Result<OrderStatus, &str>> = results
        .iter()
        .map(|r| r.as_ref().map(|o| o.status).map_err(EngineError::code))
        .collect();
    assert_eq!(
        codes,
        vec![
            Ok(OrderStatus::Confirmed),
            Ok(OrderStatus::Confirmed),
            Err("STOCK_INSUFFICIENT"),
            Err("STOCK_INSUFFICIENT"),
        ]
    );
    let ist = LocationId::parse("IST").unwrap();
    let level = |e: &Engine, sku: &str| {
        e.with_stock(|l| l.level(&variant(sku), &ist).unwrap())
            .unwrap()
    };
    let mug = level(&t.engine, "MUG");
    assert_eq!((mug.reserved, mug.available), (2, 0));
    let shirt = level(&t.engine, "SHIRT-M");
    assert_eq!(shirt.reserved, 4);
    // What the engine holds is what the store replays.
    let replayed = Engine::new(
        t.store.clone(),
        t.store.clone(),
        t.clock.clone(),
        Arc::new(SequentialIds::new()),
    );
    assert_eq!(level(&replayed, "SHIRT-M"), shirt);
    assert_eq!(level(&replayed, "MUG"), mug);
}

#[derive(Debug, Clone)]
enum Item {
    Valid {
        reference: Option<u8>,
        variant: bool,
    },
    Invalid,
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (proptest::option::of(0u8..4), any::<bool>())
            .prop_map(|(reference, variant)| Item::Valid { reference, variant }),
        1 => Just(Item::Invalid),
    ]
}

fn build(item: &Item) -> NewOrder {
    match item {
        Item::Valid { reference, variant } => {
            let mut new = sample_order("web");
            new.external_ref = reference.map(|r| format!("R-{r}"));
            if *variant {
                new.note = Some("the other content".into());
            }
            new
        }
        Item::Invalid => invalid(),
    }
}

/// The whole store of a test engine, as the dump writes it.
fn dump(t: &TestEngine) -> String {
    let mut out = Vec::new();
    export(t.store.as_ref(), t.store.as_ref(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// `orders` placed with one `place_order` call each, in order.
fn one_call_each(
    engine: &Engine,
    orders: Vec<NewOrder>,
    ctx: &CommandContext,
) -> Vec<Result<Order, EngineError>> {
    orders
        .into_iter()
        .map(|o| engine.place_order(o, ctx))
        .collect()
}

/// The items of a placement of several batches: references repeated within and across
/// batches (some with other content), and refused orders, in a fixed pseudo-random mix.
fn several_batches() -> Vec<NewOrder> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..WRITE_BATCH * 3 + 217)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let roll = state >> 33;
            let item = match roll % 7 {
                0 => Item::Invalid,
                1 | 2 => Item::Valid {
                    reference: None,
                    variant: false,
                },
                _ => Item::Valid {
                    reference: Some(((roll / 7) % 251) as u8),
                    variant: roll.is_multiple_of(5),
                },
            };
            build(&item)
        })
        .collect()
}

/// A placement of several batches (prepared on a second thread where the machine has
/// a core for it) gives each order the result, and leaves the store in the state, that
/// one call per order would.
#[test]
fn several_batches_equal_one_call_per_order() {
    let orders = several_batches();
    let batched = test_engine();
    let sequential = test_engine();
    let a = batched.engine.place_orders(orders.clone(), &ctx());
    let b = one_call_each(&sequential.engine, orders, &ctx());
    assert_eq!(outcome(&a), outcome(&b));
    assert!(a.iter().any(Result::is_err) && a.iter().filter(|r| r.is_ok()).count() > 1_000);
    assert_eq!(dump(&batched), dump(&sequential));
}

/// A memory store whose `fail_at`-th commit (counting from 1) fails.
struct FailsOnce {
    inner: MemoryStore,
    commits: AtomicUsize,
    fail_at: usize,
}

impl Store for FailsOnce {
    fn stock_log_since(&self, after: u64, limit: usize) -> Result<Vec<StockLogEntry>, StoreError> {
        self.inner.stock_log_since(after, limit)
    }
    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        if self.commits.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(StoreError::Unavailable {
                reason: "injected".to_string(),
            });
        }
        self.inner.commit(changes)
    }
    forward_store_reads!(inner);
}

/// When the commit of a middle batch fails, that batch is placed one order at a time
/// and the batches after it are still placed: every order gets the result one call per
/// order gives it (ids aside: the failed batch's ids were drawn), and nothing is lost.
#[test]
fn a_middle_batch_whose_commit_fails_is_placed_alone_and_the_rest_follow() {
    let orders = several_batches();
    let store = Arc::new(FailsOnce {
        inner: MemoryStore::new(),
        commits: AtomicUsize::new(0),
        fail_at: 2,
    });
    let engine = Engine::new(
        store.clone(),
        Arc::new(MemoryStore::new()),
        Arc::new(FixedClock::new(at(20, 12))),
        Arc::new(SequentialIds::new()),
    );
    let sequential = test_engine();
    let a = engine.place_orders(orders.clone(), &ctx());
    let b = one_call_each(&sequential.engine, orders.clone(), &ctx());
    let codes = |results: &[Result<Order, EngineError>]| -> Vec<Option<String>> {
        results
            .iter()
            .map(|r| r.as_ref().err().map(|e| e.code().to_string()))
            .collect()
    };
    assert_eq!(codes(&a), codes(&b));
    assert_eq!(store.inner.order_count(), sequential.store.order_count());
    // An order that came back placed is stored as it came back, under its reference.
    for (placed, new) in a.iter().zip(&orders) {
        let Ok(placed) = placed else { continue };
        assert_eq!(engine.order(&placed.id).unwrap(), *placed);
        if let Some(reference) = &new.external_ref {
            let key = format!("external:web:{reference}");
            assert_eq!(
                store
                    .inner
                    .idempotency_record(&key)
                    .unwrap()
                    .unwrap()
                    .order_id,
                placed.id
            );
        }
    }
    assert!(store.commits.load(Ordering::SeqCst) > 4);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `place_orders` gives every order the result, and leaves the store in the state,
    /// that one `place_order` call per order would, in the same order.
    #[test]
    fn batched_placement_equals_one_call_per_order(
        first in proptest::collection::vec(item(), 0..24),
        second in proptest::collection::vec(item(), 0..24),
        keyed in any::<bool>(),
    ) {
        let ctx = if keyed { ctx().with_idempotency_key("k") } else { ctx() };
        let batched = test_engine();
        let sequential = test_engine();
        for items in [&first, &second] {
            let orders: Vec<NewOrder> = items.iter().map(build).collect();
            let a = batched.engine.place_orders(orders.clone(), &ctx);
            let b = one_call_each(&sequential.engine, orders, &ctx);
            prop_assert_eq!(outcome(&a), outcome(&b));
        }
        prop_assert_eq!(dump(&batched), dump(&sequential));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// The same over several batches, which are read and prepared on a second thread
    /// where the machine has a core for it.
    #[test]
    fn placement_over_several_batches_equals_one_call_per_order(
        items in proptest::collection::vec(item(), WRITE_BATCH + 1..WRITE_BATCH * 3),
        keyed in any::<bool>(),
    ) {
        let ctx = if keyed { ctx().with_idempotency_key("k") } else { ctx() };
        let batched = test_engine();
        let sequential = test_engine();
        let orders: Vec<NewOrder> = items.iter().map(build).collect();
        let a = batched.engine.place_orders(orders.clone(), &ctx);
        let b = one_call_each(&sequential.engine, orders, &ctx);
        prop_assert_eq!(outcome(&a), outcome(&b));
        prop_assert_eq!(dump(&batched), dump(&sequential));
    }
}
