//! Orders per second placed and confirmed (stock reserved for both lines) by `W`
//! writer threads on one SQLite file, each order one write (`place_order_then` with
//! `Confirm`: one change set, one commit) and acknowledged only once its commit is
//! durable: issue 9, goal 4's 8 writers, timed by hand on a fresh file, without
//! criterion's warm-up and sampling, so `strace -f -c` and `perf` can watch one run.
//!
//! Run: `cargo run --release -p ordersmith-sqlite --example writers -- [WRITERS] [ORDERS_PER_WRITER] [full|normal]`
//! (defaults 8, 6000, full).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{NewLine, NewOrder, OrderCommand};
use ordersmith::ports::memory::{FixedClock, SequentialIds};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_sqlite::{SqliteOptions, SqliteStore, Synchronous};
use rust_decimal::Decimal;

fn new_order() -> NewOrder {
    let try_ = Currency::parse("TRY").unwrap();
    NewOrder::new(
        ChannelId::parse("web").unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
        try_,
        vec![
            NewLine::new(
                VariantId::parse("SHIRT-M").unwrap(),
                2,
                Money::parse("199.90", try_).unwrap(),
            )
            .with_tax("KDV", Decimal::new(20, 2)),
            NewLine::new(
                VariantId::parse("MUG").unwrap(),
                1,
                Money::parse("89.50", try_).unwrap(),
            )
            .with_tax("KDV", Decimal::new(20, 2)),
        ],
    )
}

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
    let engine = Engine::new(
        store.clone(),
        store,
        Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        )),
        Arc::new(SequentialIds::new()),
    );
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
    for sku in ["SHIRT-M", "MUG"] {
        let variant = VariantId::parse(sku).unwrap();
        setup.push(StockCommand::RegisterVariant {
            variant: variant.clone(),
            policy: StockPolicy::Deny,
        });
        setup.push(StockCommand::Receive {
            variant,
            location: ist.clone(),
            quantity: 1_000_000_000,
            reference: None,
        });
    }
    engine.stock_batch(setup).unwrap();
    let new = new_order();
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
