//! A store whose lookups are round trips says so (`Store::defers_key_lookups`): a write
//! that takes an idempotency key (a placement with a channel reference, a keyed command)
//! then does not look the key up first. The commit refuses a taken key and saves
//! nothing; the write is decided again with the lookup, and that counts against no
//! limit, so a repeat gets its first answer and a mismatch its error as before, with
//! `max_attempts = 1` too.
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
use ordersmith::engine::{CommandContext, Engine, EngineConfig, EngineError};
use ordersmith::order::{NewOrder, OrderCommand, OrderStatus};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::{ChangeSet, IdempotencyRecord, OrderQuery, Store, StoreError};
use ordersmith::stock::StockLogEntry;

/// A memory store that counts key lookups, commits and commits refused for a taken
/// key, and defers key lookups when `defers` says so.
struct KeyedStore {
    inner: Arc<MemoryStore>,
    defers: bool,
    lookups: AtomicU32,
    commits: AtomicU32,
    refused: AtomicU32,
}

impl KeyedStore {
    fn counts(&self) -> (u32, u32, u32) {
        (
            self.lookups.load(Ordering::SeqCst),
            self.commits.load(Ordering::SeqCst),
            self.refused.load(Ordering::SeqCst),
        )
    }
}

impl Store for KeyedStore {
    fn stock_log_since(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StockLogEntry>, StoreError> {
        self.inner.stock_log_since(after_seq, limit)
    }
    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        let result = self.inner.commit(changes);
        if matches!(result, Err(StoreError::KeyTaken { .. })) {
            self.refused.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
    fn idempotency_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.idempotency_record(key)
    }
    fn defers_key_lookups(&self) -> bool {
        self.defers
    }
    forward_store_reads_but_keys!(inner);
}

/// An engine on a fresh counting store that gives up after one lost race, with
/// SHIRT-M and MUG stocked at IST (10 each).
fn engine(defers: bool) -> (Engine, Arc<KeyedStore>) {
    let inner = Arc::new(MemoryStore::new());
    let store = Arc::new(KeyedStore {
        inner: inner.clone(),
        defers,
        lookups: AtomicU32::new(0),
        commits: AtomicU32::new(0),
        refused: AtomicU32::new(0),
    });
    let engine = Engine::new(
        store.clone(),
        inner,
        Arc::new(FixedClock::new(at(20, 12))),
        Arc::new(SequentialIds::new()),
    )
    .with_config(EngineConfig {
        max_attempts: 1,
        ..EngineConfig::default()
    });
    stock_at_ist(&engine, 10);
    store.commits.store(0, Ordering::SeqCst);
    (engine, store)
}

fn channel_order(reference: &str) -> NewOrder {
    let mut new = sample_order("web");
    new.external_ref = Some(reference.to_string());
    new
}

fn stored_orders(store: &KeyedStore) -> usize {
    store
        .inner
        .query_orders(&OrderQuery::default())
        .unwrap()
        .len()
}

fn reserved(engine: &Engine, sku: &str) -> i64 {
    level_at_ist(engine, sku).1
}

#[test]
fn a_channel_order_is_placed_without_a_lookup_and_a_repeat_gets_the_order() {
    let (engine, store) = engine(true);
    let ctx = CommandContext::system();
    let first = engine.place_order(channel_order("W-1"), &ctx).unwrap();
    assert_eq!(store.counts(), (0, 1, 0), "one commit, no lookup");
    // The channel delivers it again: the commit refuses the taken key, the write is
    // decided again with the lookup (with one attempt allowed) and gets the order.
    let again = engine.place_order(channel_order("W-1"), &ctx).unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.version, first.version);
    let (lookups, commits, refused) = store.counts();
    assert!(lookups >= 1, "{lookups}");
    assert_eq!((commits, refused), (2, 1));
    assert_eq!(stored_orders(&store), 1);
    // Other content under the same reference: the mismatch, nothing saved.
    let mut other = channel_order("W-1");
    other.lines.truncate(1);
    let err = engine.place_order(other, &ctx).unwrap_err();
    assert!(
        matches!(err, EngineError::DuplicateExternalRef { ref order_id, .. } if order_id == &first.id),
        "{err:?}"
    );
    assert_eq!(stored_orders(&store), 1);
    // A new reference after all that: one commit again, no lookup.
    let before = store.counts();
    engine.place_order(channel_order("W-2"), &ctx).unwrap();
    assert_eq!(store.counts(), (before.0, before.1 + 1, before.2));
}

#[test]
fn a_repeated_channel_order_with_a_confirmation_reserves_its_stock_once() {
    let (engine, store) = engine(true);
    let ctx = CommandContext::system();
    let (first, _) = engine
        .place_order_then(channel_order("W-7"), vec![OrderCommand::Confirm], &ctx)
        .unwrap();
    assert_eq!(first.status, OrderStatus::Confirmed);
    assert_eq!(
        (reserved(&engine, "SHIRT-M"), reserved(&engine, "MUG")),
        (2, 1)
    );
    let (again, _) = engine
        .place_order_then(channel_order("W-7"), vec![OrderCommand::Confirm], &ctx)
        .unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.status, OrderStatus::Confirmed);
    // The refused attempt reserved in the ledger and was undone.
    assert_eq!(
        (reserved(&engine, "SHIRT-M"), reserved(&engine, "MUG")),
        (2, 1)
    );
    assert_eq!(store.counts().2, 1);
    assert_eq!(stored_orders(&store), 1);
    // A fresh engine on the same data agrees.
    let fresh = Engine::new(
        store.clone(),
        store.inner.clone(),
        Arc::new(FixedClock::new(at(20, 12))),
        Arc::new(SequentialIds::new()),
    );
    assert_eq!(
        (reserved(&fresh, "SHIRT-M"), reserved(&fresh, "MUG")),
        (2, 1)
    );
}

#[test]
fn a_keyed_command_repeated_gets_its_first_answer() {
    let (engine, store) = engine(true);
    let placed = engine
        .place_order(sample_order("web"), &CommandContext::system())
        .unwrap();
    let keyed = CommandContext::system().with_idempotency_key("note-1");
    let note = || OrderCommand::AddNote {
        note: "gift wrap".to_string(),
    };
    let before = store.counts();
    let first = engine.execute(&placed.id, note(), &keyed).unwrap();
    assert_eq!(store.counts(), (before.0, before.1 + 1, 0), "no lookup");
    let again = engine.execute(&placed.id, note(), &keyed).unwrap();
    assert_eq!(again.version, first.version);
    assert_eq!(again.notes, first.notes);
    assert_eq!(store.counts().2, 1);
    let err = engine
        .execute(
            &placed.id,
            OrderCommand::AddNote {
                note: "something else".to_string(),
            },
            &keyed,
        )
        .unwrap_err();
    assert!(
        matches!(err, EngineError::IdempotencyMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(engine.order(&placed.id).unwrap().version, first.version);
}

#[test]
fn a_store_that_does_not_defer_is_asked_first_and_never_refuses() {
    let (engine, store) = engine(false);
    let ctx = CommandContext::system();
    let first = engine.place_order(channel_order("W-1"), &ctx).unwrap();
    assert_eq!(store.counts(), (1, 1, 0));
    let again = engine.place_order(channel_order("W-1"), &ctx).unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(
        store.counts(),
        (2, 1, 0),
        "the repeat is answered without a commit"
    );
}

#[test]
fn a_keyed_confirmation_retried_gets_its_first_answer_though_deciding_it_again_fails() {
    let (engine, store) = engine(true);
    let placed = engine
        .place_order(sample_order("web"), &CommandContext::system())
        .unwrap();
    let keyed = CommandContext::system().with_idempotency_key("confirm-1");
    let first = engine.confirm_order(&placed.id, &keyed).unwrap();
    assert_eq!(first.status, OrderStatus::Confirmed);
    // Decided again, a confirmation of a confirmed order is refused; the retry of the
    // keyed call is answered from its record instead, with one attempt allowed.
    let again = engine.confirm_order(&placed.id, &keyed).unwrap();
    assert_eq!((again.status, again.version), (first.status, first.version));
    assert_eq!(store.counts().2, 0, "refused before any commit");
    assert_eq!(
        (reserved(&engine, "SHIRT-M"), reserved(&engine, "MUG")),
        (2, 1)
    );
    // Without a key the same call is refused as before.
    let err = engine
        .confirm_order(&placed.id, &CommandContext::system())
        .unwrap_err();
    assert_eq!(err.code(), "ORDER_INVALID_TRANSITION", "{err}");
}
