//! Writes the samples dictionary 1 of the packed-document codec was made from
//! (`stores/sqlite/dictionaries/v1.json`): one of each document the store packs, from
//! one order taken through a typical life on the conformance fixtures. Kept so the
//! dictionary's origin is reproducible; the dictionary itself never changes (see
//! `src/codec.rs`). Run: `cargo run -p ordersmith-sqlite --example dictionary_samples`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use ordersmith::engine::{lines, CommandContext, Engine};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::{Outbox, Store};
use ordersmith_store_conformance::fixtures;

fn main() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(fixtures::start()));
    let engine = Engine::new(
        store.clone(),
        store.clone(),
        clock,
        Arc::new(SequentialIds::new()),
    );
    fixtures::stock_two_warehouses(&engine, 100);
    let ctx = CommandContext::system();
    let mut new = fixtures::new_order("web", fixtures::start());
    new.external_ref = Some("W-100001".into());
    let order = engine.place_order(new, &ctx).unwrap();
    let id = order.id.clone();
    engine.confirm_order(&id, &ctx).unwrap();
    engine.mark_paid(&id, &ctx).unwrap();
    engine
        .record_shipment(&id, lines(&[("L1", 2), ("L2", 1)]).unwrap(), &ctx)
        .unwrap();
    let mut samples: Vec<String> = Vec::new();
    for entry in store
        .stock_log_since(0, 1_000)
        .unwrap()
        .iter()
        .rev()
        .take(3)
    {
        samples.push(serde_json::to_string(entry).unwrap());
    }
    let pending = store.pending(1_000).unwrap();
    let (stock, orders): (Vec<_>, Vec<_>) = pending.iter().partition(|r| r.aggregate_id == "stock");
    for record in stock
        .iter()
        .rev()
        .take(2)
        .chain(orders.iter().rev().take(4))
    {
        samples.push(serde_json::to_string(record).unwrap());
    }
    for record in store.idempotency_records(None, 10).unwrap() {
        samples.push(record.fingerprint.into_owned());
    }
    for event in store.order_events(&id).unwrap().iter().rev() {
        samples.push(serde_json::to_string(event).unwrap());
    }
    let snapshot = store.load_order(&id).unwrap().unwrap();
    samples.push(serde_json::to_string(&snapshot).unwrap());
    // zstd finds matches nearer the end of a raw dictionary cheaper: the most common
    // documents (snapshots, placed events) come last.
    println!("{}", samples.join("\n"));
}
