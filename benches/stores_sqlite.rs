//! Orders per second placed + confirmed on the in-memory store and on SQLite (a file in
//! a temp dir, WAL, synchronous FULL and NORMAL), one writer and 8 writer threads.
//! Run: `cargo bench -p ordersmith-sqlite --bench stores_sqlite`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "stores_common.rs"]
mod common;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use ordersmith::ports::memory::MemoryStore;
use ordersmith_sqlite::{SqliteOptions, SqliteStore, Synchronous};

fn stores(c: &mut Criterion) {
    let memory = Arc::new(MemoryStore::new());
    common::bench_store(c, "memory", memory.clone(), memory);
    let dir = tempfile::tempdir().unwrap();
    for (name, synchronous) in [
        ("sqlite_full", Synchronous::Full),
        ("sqlite_normal", Synchronous::Normal),
    ] {
        let options = SqliteOptions {
            synchronous,
            ..SqliteOptions::default()
        };
        let store = Arc::new(
            SqliteStore::open_with(dir.path().join(format!("{name}.db")), options).unwrap(),
        );
        common::bench_store(c, name, store.clone(), store);
    }
}

criterion_group!(benches, stores);
criterion_main!(benches);
