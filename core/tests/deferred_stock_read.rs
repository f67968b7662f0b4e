//! A write reads the store's stock log only if it touches stock: after a read that
//! found nothing new, an engine defers the next write's read until that write first
//! asks for the ledger, and a deferred read that finds news runs the write again from
//! the start, so no write decides on an order read before stock newer than it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineConfig, EngineError};
use ordersmith::ids::OrderId;
use ordersmith::order::{CancelReason, Order, OrderCommand, OrderError, OrderStatus};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::{ChangeSet, StockCursor, StockSink, Store, StoreError};
use ordersmith::stock::{StockCommand, StockLogEntry};

type Hook = Box<dyn FnOnce() + Send>;

/// A memory store that counts reads of its stock log and can run something (another
/// engine's write) just before the next one.
struct WatchedStore {
    inner: Arc<MemoryStore>,
    reads: AtomicU32,
    before_next_read: Mutex<Option<Hook>>,
    /// Whether it loads an order and reads the stock log in one request.
    together: bool,
    /// Those requests.
    loads_with_reads: AtomicU32,
}

impl WatchedStore {
    fn reads(&self) -> u32 {
        self.reads.load(Ordering::SeqCst)
    }
}

impl Store for WatchedStore {
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
        let hook = self.before_next_read.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
        self.inner.stock_log_read(cursor, sink)
    }
    fn loads_order_reading_stock(&self) -> bool {
        self.together
    }
    fn load_order_reading_stock(
        &self,
        id: &OrderId,
        cursor: StockCursor,
        sink: &mut StockSink<'_>,
    ) -> Result<(Option<Order>, u64), StoreError> {
        self.loads_with_reads.fetch_add(1, Ordering::SeqCst);
        let order = self.inner.load_order(id)?;
        Ok((order, self.inner.stock_log_read(cursor, sink)?))
    }
    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.inner.commit(changes)
    }
    forward_store_reads!(inner);
}

fn ctx() -> CommandContext {
    CommandContext::system()
}

/// An engine on `store`, which shares `inner`'s data.
fn engine_on(store: Arc<dyn Store>, inner: &Arc<MemoryStore>) -> Engine {
    Engine::new(
        store,
        inner.clone(),
        Arc::new(FixedClock::new(at(20, 12))),
        Arc::new(SequentialIds::new()),
    )
}

fn watched(inner: &Arc<MemoryStore>) -> Arc<WatchedStore> {
    Arc::new(WatchedStore {
        inner: inner.clone(),
        reads: AtomicU32::new(0),
        before_next_read: Mutex::new(None),
        together: false,
        loads_with_reads: AtomicU32::new(0),
    })
}

fn reserved(engine: &Engine, sku: &str) -> i64 {
    level_at_ist(engine, sku).1
}

#[test]
fn writes_that_never_touch_stock_do_not_read_the_stock_log() {
    let inner = Arc::new(MemoryStore::new());
    let store = watched(&inner);
    let engine = engine_on(store.clone(), &inner);
    // A fresh engine reads before its first write.
    stock_at_ist(&engine, 10);
    assert_eq!(store.reads(), 1);

    // A placement, a payment, a note and a tag never look at stock: no read.
    let order = engine.place_order(sample_order("web"), &ctx()).unwrap();
    engine
        .execute(&order.id, OrderCommand::MarkPaid, &ctx())
        .unwrap();
    engine
        .execute(
            &order.id,
            OrderCommand::AddNote {
                note: "gift wrap".into(),
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(store.reads(), 1, "stock-free writes read the stock log");

    // A confirmation reserves: it reads once, when it first asks for the ledger.
    let confirmed = engine
        .execute(&order.id, OrderCommand::Confirm, &ctx())
        .unwrap();
    assert_eq!(store.reads(), 2);
    assert_eq!(confirmed.status, OrderStatus::Confirmed);
    assert_eq!(reserved(&engine, "SHIRT-M"), 2);
    assert_eq!(reserved(&engine, "MUG"), 1);
}

#[test]
fn a_deferred_read_sees_another_engines_sales_and_never_oversells() {
    let inner = Arc::new(MemoryStore::new());
    let store = watched(&inner);
    let b = engine_on(store.clone(), &inner);
    let a = engine_on(inner.clone(), &inner);
    stock_at_ist(&a, 3);
    // B reads (finding A's stock), then reads again and finds nothing new: its next
    // write defers its read.
    assert_eq!(reserved(&b, "SHIRT-M"), 0);
    assert_eq!(reserved(&b, "SHIRT-M"), 0);
    let reads = store.reads();
    // A sells the three shirts meanwhile (B's ledger still has them free).
    let mut three = sample_order("web");
    three.lines.truncate(1);
    three.lines[0].quantity = 3;
    a.place_order_then(three, vec![OrderCommand::Confirm], &ctx())
        .unwrap();

    let mut one = sample_order("web");
    one.lines.truncate(1);
    one.lines[0].quantity = 1;
    let refused = b.place_order_then(one, vec![OrderCommand::Confirm], &ctx());
    assert!(
        matches!(refused, Err(EngineError::Stock(_))),
        "B confirmed a shirt A had sold: {refused:?}"
    );
    // The deferred read found A's sale, and the write ran again after a read first.
    assert_eq!(store.reads(), reads + 2);
    assert_eq!(reserved(&b, "SHIRT-M"), 3);
    assert_eq!(reserved(&a, "SHIRT-M"), 3);
}

#[test]
fn a_deferred_read_that_finds_news_runs_the_write_again_on_the_order_as_it_is() {
    let inner = Arc::new(MemoryStore::new());
    let store = watched(&inner);
    // One attempt only: running the write again is not a retry of a lost race, so it
    // is not refused as one.
    let b = engine_on(store.clone(), &inner).with_config(EngineConfig {
        max_attempts: 1,
        ..EngineConfig::default()
    });
    let a = Arc::new(engine_on(inner.clone(), &inner));
    stock_at_ist(&a, 10);
    let (order, _) = a
        .place_order_then(sample_order("web"), vec![OrderCommand::Confirm], &ctx())
        .unwrap();
    // B catches up (O confirmed, its units reserved), then reads again and finds
    // nothing new: its next write defers its read.
    assert_eq!(reserved(&b, "SHIRT-M"), 2);
    assert_eq!(reserved(&b, "SHIRT-M"), 2);
    let reads = store.reads();

    // B cancels O. Between B loading O (confirmed) and B's read of the stock log, A
    // ships O, committing its reservations.
    let (shipper, id) = (a.clone(), order.id.clone());
    *store.before_next_read.lock().unwrap() = Some(Box::new(move || {
        shipper
            .execute(
                &id,
                OrderCommand::RecordShipment {
                    lines: vec![lq("L1", 2), lq("L2", 1)],
                },
                &ctx(),
            )
            .unwrap();
    }));
    let cancelled = b.execute(
        &order.id,
        OrderCommand::Cancel {
            reason: CancelReason::Customer,
        },
        &ctx(),
    );
    // Run again on the order as it now is: a shipped order cannot be cancelled, which
    // is the answer (not a stock error from releasing reservations already committed).
    assert!(
        matches!(
            cancelled,
            Err(EngineError::Order(OrderError::InvalidTransition { .. }))
        ),
        "{cancelled:?}"
    );
    // The deferred read, then the read before the second attempt.
    assert_eq!(store.reads(), reads + 2);
    let now = b.order(&order.id).unwrap();
    assert_ne!(now.status, OrderStatus::Cancelled);
    assert_eq!(now.lines[0].fulfilment.shipped, 2);
    assert_eq!(reserved(&b, "SHIRT-M"), 0);
    assert_eq!(
        b.with_stock(|s| s.level(&variant("SHIRT-M"), &ist()).unwrap().on_hand)
            .unwrap(),
        8
    );
}

#[test]
fn a_store_that_loads_and_reads_at_once_serves_a_stock_command_in_one_request() {
    let inner = Arc::new(MemoryStore::new());
    let store = Arc::new(WatchedStore {
        together: true,
        ..Arc::into_inner(watched(&inner)).unwrap()
    });
    let b = engine_on(store.clone(), &inner);
    let a = engine_on(inner.clone(), &inner);
    stock_at_ist(&a, 10);
    let order = b.place_order(sample_order("web"), &ctx()).unwrap();
    // B reads A's stock, then again and finds nothing new.
    assert_eq!(reserved(&b, "MUG"), 0);
    assert_eq!(reserved(&b, "MUG"), 0);
    let reads = store.reads();
    // Meanwhile A receives more shirts.
    a.stock(StockCommand::Receive {
        variant: variant("SHIRT-M"),
        location: ist(),
        quantity: 5,
        reference: None,
    })
    .unwrap();

    // A payment never looks at stock: the order alone.
    b.execute(&order.id, OrderCommand::MarkPaid, &ctx())
        .unwrap();
    assert_eq!(store.loads_with_reads.load(Ordering::SeqCst), 0);
    // A confirmation moves stock: the order and the log in one request, no read apart,
    // and the ledger it decided on has A's receipt.
    b.execute(&order.id, OrderCommand::Confirm, &ctx()).unwrap();
    assert_eq!(store.loads_with_reads.load(Ordering::SeqCst), 1);
    assert_eq!(store.reads(), reads);
    let on_hand = b
        .with_stock(|s| s.level(&variant("SHIRT-M"), &ist()).unwrap().on_hand)
        .unwrap();
    assert_eq!((on_hand, reserved(&b, "SHIRT-M")), (15, 2));
    // An unknown order is the usual refusal (read with the log, B quiet again).
    assert_eq!(reserved(&b, "MUG"), 1);
    assert_eq!(reserved(&b, "MUG"), 1);
    let missing = b.execute(
        &OrderId::parse("order-999999").unwrap(),
        OrderCommand::Confirm,
        &ctx(),
    );
    assert!(
        matches!(
            missing,
            Err(EngineError::Order(OrderError::NotFound { .. }))
        ),
        "{missing:?}"
    );
    assert_eq!(store.loads_with_reads.load(Ordering::SeqCst), 2);
}
