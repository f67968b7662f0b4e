//! The engine half of group commit (issue 9 goal 4, ADR 0013): a write's change set is
//! submitted under the engine's writer and saved after the writer is released, so other
//! writes decide meanwhile and a store can save them together with one sync. A change
//! set decided on another that is refused is refused with it, and the engine's ledger
//! goes back to what was saved before anything else is decided.
//!
//! The store here is a gate in front of a memory store: it queues what it is handed and
//! saves (or refuses) the queue only when the test opens it, so every interleaving below
//! is deterministic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineError};
use ordersmith::ids::LocationId;
use ordersmith::order::{CancelReason, NewLine, NewOrder, Order, OrderCommand, OrderStatus};
use ordersmith::ports::memory::{MemoryStore, SequentialIds, SystemClock};
use ordersmith::ports::{ChangeSet, CommitTicket, OrderQuery, Outbox, Store, StoreError};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockLogEntry, StockPolicy};

/// One change set handed to the gate.
struct Queued {
    /// Its place among everything ever submitted (0-based).
    index: usize,
    changes: ChangeSet,
    ticket: CommitTicket,
    after: Option<CommitTicket>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Queued>,
    submitted: usize,
    /// Submissions (by index) to refuse with a conflict when the gate opens.
    refuse: HashSet<usize>,
    /// Submissions (by index) to refuse as unavailable (not retryable).
    fail: HashSet<usize>,
    /// For each submission, the index of the one it was submitted after.
    chained_after: Vec<Option<usize>>,
    tickets: Vec<CommitTicket>,
    /// Threads blocked in `wait` now.
    waiters: usize,
}

/// A store that saves what it is handed only when [`Gate::open`] is called.
#[derive(Default)]
struct Gate {
    inner: MemoryStore,
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Gate {
    /// Waits until `n` change sets were submitted in all; false after 10 s.
    fn submitted(&self, n: usize) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut queue = self.queue.lock().unwrap();
        while queue.submitted < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            queue = self.changed.wait_timeout(queue, left).unwrap().0;
        }
        true
    }

    /// Waits until `n` threads are blocked in `wait`; false after 10 s.
    fn waiters(&self, n: usize) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut queue = self.queue.lock().unwrap();
        while queue.waiters < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            queue = self.changed.wait_timeout(queue, left).unwrap().0;
        }
        true
    }

    /// Saves the queued change sets in order, each on its own; one submitted after a
    /// refused one is refused with it.
    fn open(&self) {
        let mut queue = self.queue.lock().unwrap();
        let waiting = std::mem::take(&mut queue.waiting);
        for q in waiting {
            let predecessor_refused = q
                .after
                .as_ref()
                .is_some_and(|a| a.outcome().is_some_and(|o| o.is_err()));
            let outcome = if predecessor_refused {
                Err(CommitTicket::refused_after_predecessor())
            } else if queue.refuse.contains(&q.index) {
                Err(StoreError::Conflict {
                    aggregate: "injected".into(),
                    expected: 0,
                    actual: 1,
                })
            } else if queue.fail.contains(&q.index) {
                Err(StoreError::Unavailable {
                    reason: "injected".into(),
                })
            } else {
                self.inner.commit(q.changes)
            };
            assert!(q.ticket.decide(outcome));
        }
        self.changed.notify_all();
    }

    /// Opens the gate every few milliseconds until `done` holds.
    fn keep_opening(&self, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "writers did not finish");
            self.open();
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn chained_after(&self, index: usize) -> Option<usize> {
        self.queue.lock().unwrap().chained_after[index]
    }
}

impl Store for Gate {
    fn stock_log_since(&self, after: u64, limit: usize) -> Result<Vec<StockLogEntry>, StoreError> {
        self.inner.stock_log_since(after, limit)
    }
    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let ticket = self.submit(changes, None);
        self.wait(&ticket)
    }
    fn submit(&self, changes: ChangeSet, after: Option<&CommitTicket>) -> CommitTicket {
        let ticket = CommitTicket::pending();
        let mut queue = self.queue.lock().unwrap();
        let index = queue.submitted;
        let chained = after.and_then(|a| queue.tickets.iter().position(|t| t.same(a)));
        queue.chained_after.push(chained);
        queue.tickets.push(ticket.clone());
        queue.submitted += 1;
        queue.waiting.push(Queued {
            index,
            changes,
            ticket: ticket.clone(),
            after: after.cloned(),
        });
        self.changed.notify_all();
        ticket
    }
    fn wait(&self, ticket: &CommitTicket) -> Result<(), StoreError> {
        // Bounded, so a test that fails while a writer waits ends instead of hanging.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut queue = self.queue.lock().unwrap();
        queue.waiters += 1;
        self.changed.notify_all();
        loop {
            if let Some(outcome) = ticket.outcome() {
                queue.waiters -= 1;
                return outcome;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                queue.waiters -= 1;
                return Err(StoreError::Unavailable {
                    reason: "the gate was never opened".into(),
                });
            }
            queue = self.changed.wait_timeout(queue, left).unwrap().0;
        }
    }
    forward_store_reads!(inner);
}

fn ist() -> LocationId {
    LocationId::parse("IST").unwrap()
}

fn engine_on(gate: &Arc<Gate>) -> Engine {
    Engine::new(
        gate.clone(),
        Arc::new(MemoryStore::new()) as Arc<dyn Outbox>,
        Arc::new(SystemClock::new()),
        Arc::new(SequentialIds::new()),
    )
}

/// A gate with IST stocking `units` of each of `skus`, saved.
fn stocked(skus: &[(&str, u32)]) -> (Arc<Gate>, Engine) {
    let gate = Arc::new(Gate::default());
    let engine = engine_on(&gate);
    let mut setup = vec![StockCommand::AddLocation {
        location: Location::new(ist(), "Istanbul", 1, "TR-34", LocationKind::Warehouse),
    }];
    for (sku, units) in skus {
        setup.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
        setup.push(StockCommand::Receive {
            variant: variant(sku),
            location: ist(),
            quantity: *units,
            reference: None,
        });
    }
    std::thread::scope(|s| {
        let done = s.spawn(|| engine.stock_batch(setup).unwrap());
        gate.keep_opening(|| done.is_finished());
    });
    (gate, engine)
}

/// A one-line order of `quantity` × `sku`.
fn order_of(sku: &str, quantity: u32, reference: &str) -> NewOrder {
    let mut new = NewOrder::new(
        ordersmith::ids::ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        vec![NewLine::new(variant(sku), quantity, money("10"))],
    );
    new.external_ref = Some(reference.to_string());
    new
}

fn ctx() -> CommandContext {
    CommandContext::system()
}

/// The ledger as JSON: the engine's copy, to compare with one replayed from the store.
fn ledger(engine: &Engine) -> serde_json::Value {
    engine
        .with_stock(|s| serde_json::to_value(s).unwrap())
        .unwrap()
}

fn on_hand_reserved(engine: &Engine, sku: &str) -> (i64, i64) {
    let b = engine
        .with_stock(|s| s.balance(&variant(sku), &ist()))
        .unwrap();
    (b.on_hand, b.reserved)
}

/// The engine's ledger is the one the store's log replays to, once every writer is done.
fn assert_ledger_is_the_saved_one(gate: &Arc<Gate>, engine: &Engine) {
    let (mine, fresh) = std::thread::scope(|s| {
        let reads = s.spawn(|| (ledger(engine), ledger(&engine_on(gate))));
        gate.keep_opening(|| reads.is_finished());
        reads.join().unwrap()
    });
    assert_eq!(mine, fresh);
}

#[test]
fn the_writer_is_free_while_a_change_set_waits_to_be_saved() {
    let (gate, engine) = stocked(&[("MUG", 10)]);
    let base = gate.queue.lock().unwrap().submitted;
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            engine.place_order_then(order_of("MUG", 2, "A"), vec![OrderCommand::Confirm], &ctx())
        });
        assert!(
            gate.submitted(base + 1),
            "the first write was not submitted"
        );
        // The first write waits for the gate; the second decides and is submitted
        // meanwhile, on the ledger with the first's reservation in it.
        let b = s.spawn(|| {
            engine.place_order_then(order_of("MUG", 3, "B"), vec![OrderCommand::Confirm], &ctx())
        });
        assert!(
            gate.submitted(base + 2),
            "the second write could not be decided while the first waited to be saved"
        );
        assert!(!a.is_finished(), "acknowledged before it was saved");
        // Decided on the first's stock: saved only if the first is.
        assert_eq!(gate.chained_after(base + 1), Some(base));
        gate.keep_opening(|| a.is_finished() && b.is_finished());
        (a.join().unwrap().unwrap().0, b.join().unwrap().unwrap().0)
    });
    assert_eq!(a.status, OrderStatus::Confirmed);
    assert_eq!(b.status, OrderStatus::Confirmed);
    assert_eq!(on_hand_reserved(&engine, "MUG"), (10, 5));
    assert_ledger_is_the_saved_one(&gate, &engine);
}

/// Runs two confirmations concurrently, the first submitted before the second is
/// decided, and opens the gate with `refuse`/`fail` applied to the first submission.
fn race_two(
    gate: &Arc<Gate>,
    engine: &Engine,
    (first, second): (u32, u32),
    refuse_first: bool,
    fail_first: bool,
    tag: &str,
) -> (Result<Order, EngineError>, Result<Order, EngineError>) {
    let placed: Vec<Order> = std::thread::scope(|s| {
        let placing = s.spawn(|| {
            [(first, "1"), (second, "2")]
                .map(|(q, n)| {
                    engine
                        .place_order(order_of("MUG", q, &format!("{tag}-{n}")), &ctx())
                        .unwrap()
                })
                .to_vec()
        });
        gate.keep_opening(|| placing.is_finished());
        placing.join().unwrap()
    });
    let base = {
        let mut queue = gate.queue.lock().unwrap();
        let base = queue.submitted;
        if refuse_first {
            queue.refuse.insert(base);
        }
        if fail_first {
            queue.fail.insert(base);
        }
        base
    };
    std::thread::scope(|s| {
        let a = s.spawn(|| engine.confirm_order(&placed[0].id, &ctx()));
        assert!(gate.submitted(base + 1));
        let b = s.spawn(|| engine.confirm_order(&placed[1].id, &ctx()));
        assert!(gate.submitted(base + 2));
        assert_eq!(gate.chained_after(base + 1), Some(base));
        gate.keep_opening(|| a.is_finished() && b.is_finished());
        (a.join().unwrap(), b.join().unwrap())
    })
}

#[test]
fn a_refused_change_set_refuses_those_decided_on_it_and_both_retry_on_saved_stock() {
    // 4 mugs, two orders of 2: had the refused reservations stayed in the ledger, the
    // retries would find no stock.
    let (gate, engine) = stocked(&[("MUG", 4)]);
    for round in 0..3 {
        let before = gate.queue.lock().unwrap().submitted;
        let (a, b) = race_two(&gate, &engine, (2, 2), true, false, &format!("r{round}"));
        assert_eq!(a.unwrap().status, OrderStatus::Confirmed, "round {round}");
        assert_eq!(b.unwrap().status, OrderStatus::Confirmed, "round {round}");
        // Both were submitted again after the refusal.
        assert!(gate.queue.lock().unwrap().submitted >= before + 2 + 4);
        assert_eq!(on_hand_reserved(&engine, "MUG"), (4, 4), "round {round}");
        assert_ledger_is_the_saved_one(&gate, &engine);
        // Free the mugs for the next round (the first refusal replays the log once and
        // keeps a checkpoint; later rounds undo from it).
        std::thread::scope(|s| {
            let freeing = s.spawn(|| {
                for order in engine
                    .list_orders(&OrderQuery::default())
                    .unwrap()
                    .into_iter()
                    .filter(|o| o.status == OrderStatus::Confirmed)
                {
                    engine
                        .execute(
                            &order.id,
                            OrderCommand::Cancel {
                                reason: CancelReason::Staff,
                            },
                            &ctx(),
                        )
                        .unwrap();
                }
            });
            gate.keep_opening(|| freeing.is_finished());
        });
        assert_eq!(on_hand_reserved(&engine, "MUG"), (4, 0));
    }
}

#[test]
fn a_write_failing_for_good_leaves_only_the_writes_after_it_to_retry() {
    let (gate, engine) = stocked(&[("MUG", 4)]);
    let (a, b) = race_two(&gate, &engine, (3, 1), false, true, "f");
    assert_eq!(a.unwrap_err().code(), "STORE_UNAVAILABLE");
    assert_eq!(b.unwrap().status, OrderStatus::Confirmed);
    assert_eq!(on_hand_reserved(&engine, "MUG"), (4, 1));
    assert_ledger_is_the_saved_one(&gate, &engine);
}

#[test]
fn a_write_that_fails_while_another_is_in_flight_undoes_only_itself() {
    // The second write reserves, then fails (a second confirmation of the order it
    // just placed): undoing it must keep the first's reservation, in flight when the
    // second decided and saved since.
    let (gate, engine) = stocked(&[("MUG", 10)]);
    for round in 0..2 {
        let placed = std::thread::scope(|s| {
            let placing =
                s.spawn(|| engine.place_order(order_of("MUG", 3, &format!("u{round}-1")), &ctx()));
            gate.keep_opening(|| placing.is_finished());
            placing.join().unwrap().unwrap()
        });
        let base = gate.queue.lock().unwrap().submitted;
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| engine.confirm_order(&placed.id, &ctx()));
            assert!(gate.submitted(base + 1));
            assert!(gate.waiters(1));
            let b = s.spawn(|| {
                engine.place_order_then(
                    order_of("MUG", 2, &format!("u{round}-2")),
                    vec![OrderCommand::Confirm, OrderCommand::Confirm],
                    &ctx(),
                )
            });
            // The second decided, failed, and waits for the first before undoing.
            assert!(
                gate.waiters(2),
                "the failed write did not wait for the one in flight"
            );
            assert_eq!(gate.queue.lock().unwrap().submitted, base + 1);
            gate.keep_opening(|| a.is_finished() && b.is_finished());
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!(a.unwrap().status, OrderStatus::Confirmed, "round {round}");
        assert_eq!(
            b.unwrap_err().code(),
            "ORDER_INVALID_TRANSITION",
            "round {round}"
        );
        assert_eq!(on_hand_reserved(&engine, "MUG"), (10, 3), "round {round}");
        assert_ledger_is_the_saved_one(&gate, &engine);
        std::thread::scope(|s| {
            let freeing = s.spawn(|| {
                engine
                    .execute(
                        &placed.id,
                        OrderCommand::Cancel {
                            reason: CancelReason::Staff,
                        },
                        &ctx(),
                    )
                    .unwrap()
            });
            gate.keep_opening(|| freeing.is_finished());
        });
        assert_eq!(on_hand_reserved(&engine, "MUG"), (10, 0));
    }
}
