//! Temporary probe: 8 writers, place_order_then(confirm), on SQLite FULL.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
#[path = "../../../benches/stores_common.rs"]
#[allow(dead_code)]
mod common;
use ordersmith::engine::CommandContext;
use ordersmith::order::OrderCommand;
use ordersmith_sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let n: u64 = std::env::args().nth(1).map_or(4000, |a| a.parse().unwrap());
    let writers: u64 = std::env::args().nth(2).map_or(8, |a| a.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("p.db")).unwrap());
    let engine = common::engine(store.clone(), store.clone());
    let new = common::new_order();
    let ctx = CommandContext::system();
    for round in 0..3 {
        let per = n / writers;
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..writers {
                s.spawn(|| {
                    for _ in 0..per {
                        engine
                            .place_order_then(new.clone(), vec![OrderCommand::Confirm], &ctx)
                            .unwrap();
                    }
                });
            }
        });
        let el = start.elapsed();
        println!(
            "round {round}: {:.1} us/order, {:.0}/s",
            el.as_secs_f64() * 1e6 / (per * writers) as f64,
            (per * writers) as f64 / el.as_secs_f64()
        );
    }
}
