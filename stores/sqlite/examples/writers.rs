//! Orders per second placed and confirmed (stock reserved for both lines) by `W`
//! writer threads on one SQLite file, each order one write (`place_order_then` with
//! `Confirm`: one change set, one commit) and acknowledged only once its commit is
//! durable: issue 9, goal 4's 8 writers, timed by hand on a fresh file, without
//! criterion's warm-up and sampling, so `strace -f -c` and `perf` can watch one run.
//! The engine and the order are the store benchmarks' (`benches/stores_common.rs`).
//!
//! Run: `cargo run --release -p ordersmith-sqlite --example writers -- [WRITERS] [ORDERS_PER_WRITER] [full|normal]`
//! (defaults 8, 6000, full).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../../../benches/stores_common.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use ordersmith::engine::CommandContext;
use ordersmith::order::OrderCommand;
use ordersmith_sqlite::{SqliteOptions, SqliteStore, Synchronous};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let writers: usize = args.first().map_or(8, |a| a.parse().unwrap());
    let per_writer: usize = args.get(1).map_or(6_000, |a| a.parse().unwrap());
    let synchronous = match args.get(2).map(String::as_str) {
        None | Some("full") => Synchronous::Full,
        Some("normal") => Synchronous::Normal,
        Some(other) => panic!("durability is full or normal, not {other}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        synchronous,
        ..SqliteOptions::default()
    };
    let store = Arc::new(SqliteStore::open_with(dir.path().join("shop.db"), options).unwrap());
    let engine = common::engine(store.clone(), store);
    let new = common::new_order();
    let ctx = CommandContext::system();
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..writers {
            s.spawn(|| {
                for _ in 0..per_writer {
                    engine
                        .place_order_then(new.clone(), vec![OrderCommand::Confirm], &ctx)
                        .unwrap();
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let orders = writers * per_writer;
    println!(
        "{writers} writers, {orders} orders placed + confirmed in {:.2} s: {:.0} orders/s, {:.1} µs an order",
        elapsed.as_secs_f64(),
        orders as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / orders as f64
    );
}
