//! Makes dictionary 2 of the packed-document codec (`stores/sqlite/dictionaries/v2.zdict`,
//! format 2, migration 11): zstd's trainer over every document the store would pack
//! for a busy day of the conformance fixtures (`fixtures::busy_shop`, 700 orders from
//! four channels through holds, edits, payments, shipments, returns and refunds): the
//! stock log's entries, the outbox's records (those an SQLite store keeps a document
//! for), the orders' event records and their snapshots.
//!
//! Unlike dictionary 1 (raw content: JSON samples), a trained dictionary carries
//! entropy tables, so a frame reuses them instead of building its own for its
//! sequences; at the codec's fast level that was a third of the instructions of
//! packing a change set (benches/README.md). Kept so the dictionary's origin is
//! reproducible; the dictionary itself never changes once released (see
//! `src/codec.rs`: a better one would be dictionary 3).
//!
//! Run: `cargo run --release -p ordersmith-sqlite --example dictionary_v2 [OUT]`
//! (default OUT: print the dictionary's size and checksum only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use ordersmith::engine::Engine;
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::{Outbox, Store};
use ordersmith_store_conformance::fixtures;

/// The dictionary's size. Over a place + confirm's documents, 16 KiB packed 5 % smaller
/// than dictionary 1 (7,319 bytes), 8 KiB 6 % larger and 32 KiB no smaller.
const SIZE: usize = 16 * 1024;

fn main() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(fixtures::start()));
    let engine = Engine::new(
        store.clone(),
        store.clone(),
        clock.clone(),
        Arc::new(SequentialIds::new()),
    );
    fixtures::busy_shop(&engine, &clock, 700);
    let mut samples: Vec<String> = Vec::new();
    for entry in store.stock_log_since(0, usize::MAX).unwrap() {
        samples.push(serde_json::to_string(&entry).unwrap());
    }
    for record in store.pending(usize::MAX).unwrap() {
        // An order event's record is kept as a reference to the event (migration 6).
        if record.aggregate_id == "stock" {
            samples.push(serde_json::to_string(&record).unwrap());
        }
    }
    for id in store.order_ids(None, usize::MAX).unwrap() {
        for event in store.order_events(&id).unwrap() {
            samples.push(serde_json::to_string(&event).unwrap());
        }
        let order = store.load_order(&id).unwrap().unwrap();
        samples.push(serde_json::to_string(&order).unwrap());
    }
    let bytes: usize = samples.iter().map(String::len).sum();
    let dictionary = zstd::dict::from_samples(&samples, SIZE).unwrap();
    let checksum = dictionary.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    println!(
        "{} samples, {bytes} bytes: dictionary of {} bytes, fnv1a64:{checksum:016x}",
        samples.len(),
        dictionary.len()
    );
    if let Some(out) = std::env::args().nth(1) {
        std::fs::write(out, &dictionary).unwrap();
    }
}
