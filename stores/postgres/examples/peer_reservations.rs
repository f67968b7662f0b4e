//! ordersmith's side of the Medusa inventory comparison (benches/peers/medusa_vs_ordersmith.sh):
//! stock reservations per second on PostgreSQL through the engine, each checked against
//! stock and committed (like Medusa's `createReservationItems`).
//!
//! ```bash
//! ORDERSMITH_PG_URL='host=127.0.0.1 port=54533 user=postgres dbname=postgres' \
//!   cargo run --release -p ordersmith-postgres --example peer_reservations -- 300
//! ```
//!
//! Runs three cases in a fresh schema and prints one `RESULT case=... per_s=...` line each:
//! - `sequential`: one caller; each call places a one-line order and confirms it in the
//!   same commit (`place_order_then`), which reserves its unit: one reservation per
//!   call and per commit, over 100 items;
//! - `hot_8_callers`: the same from 8 engines on 8 threads, all on one item (the
//!   engine's version-checked append is the lock);
//! - `sequential_reserve`: one caller, one `Reserve` stock command per call and per
//!   commit (`stock_batch`), over 100 items: the same work as Medusa's `sequential`
//!   (one `createReservationItems` of one item per call), with stock checked, which
//!   Medusa's call does not;
//! - `spread_8_reserve`: 8 engines on 8 threads, one `Reserve` per call, each thread on
//!   its own items (reservations made by hand of different variants: since 2026-12-04
//!   each in its variant's partition, so they no longer wait for each other);
//! - `batch_100`: one caller, 100 `Reserve` stock commands per call in one commit
//!   (`stock_batch`), like `createReservationItems` with an array.
//!
//! `PEER_EXTRA_VARIANTS=N` stocks N more variants first (none by default), as a shop's
//! catalogue would: what a reservation costs should not grow with it.
//! `PEER_CASES=sequential,batch_100` runs only the cases named (all by default): how one
//! case's server work is read alone from `pg_stat_statements`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use ordersmith::engine::{CommandContext, Engine, EngineConfig};
use ordersmith::ids::{ChannelId, LocationId, ReservationId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{NewLine, NewOrder, OrderCommand};
use ordersmith::ports::memory::SystemClock;
use ordersmith::stock::{Location, LocationKind, ReserveRequest, StockCommand, StockPolicy};
use ordersmith_postgres::{PgOptions, PgStore};

fn engine(store: Arc<PgStore>) -> Engine {
    Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock::new()),
        store,
    )
    .with_config(EngineConfig {
        max_attempts: 10_000,
        ..EngineConfig::default()
    })
}

fn item(k: u64) -> VariantId {
    VariantId::parse(format!("ITEM-{k:03}")).unwrap()
}

fn reserve(id: String, k: u64, ist: &LocationId) -> StockCommand {
    StockCommand::Reserve {
        request: ReserveRequest::new(ReservationId::parse(id).unwrap(), item(k), ist.clone(), 1),
    }
}

/// Places a one-line order of item `k` and confirms it in one commit (one reservation).
fn order_and_reserve(engine: &Engine, k: u64) {
    let try_ = Currency::parse("TRY").unwrap();
    let new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap(),
        try_,
        vec![NewLine::new(
            item(k),
            1,
            Money::parse("10.00", try_).unwrap(),
        )],
    );
    let (order, _) = engine
        .place_order_then(new, vec![OrderCommand::Confirm], &CommandContext::system())
        .unwrap();
    assert_eq!(order.lines[0].fulfilment.allocated, 1);
}

fn main() {
    let url = std::env::var("ORDERSMITH_PG_URL").expect("set ORDERSMITH_PG_URL");
    let n: u64 = std::env::args().nth(1).map_or(300, |s| s.parse().unwrap());
    let schema = format!("peer_{}", std::process::id());
    let store = Arc::new(
        PgStore::connect(
            &url,
            PgOptions {
                schema: Some(schema.clone()),
                pool_size: 16,
                ..PgOptions::default()
            },
        )
        .unwrap(),
    );
    let ist = LocationId::parse("IST").unwrap();
    let setup = engine(store.clone());
    let mut commands = vec![StockCommand::AddLocation {
        location: Location::new(
            ist.clone(),
            "Istanbul DC",
            1,
            "TR-34",
            LocationKind::Warehouse,
        ),
    }];
    for k in 0..100 {
        commands.push(StockCommand::RegisterVariant {
            variant: item(k),
            policy: StockPolicy::Deny,
        });
        commands.push(StockCommand::Receive {
            variant: item(k),
            location: ist.clone(),
            quantity: 1_000_000,
            reference: None,
        });
    }
    setup.stock_batch(commands).unwrap();
    let extra: u64 = std::env::var("PEER_EXTRA_VARIANTS").map_or(0, |s| s.parse().unwrap());
    for chunk in 0..extra.div_ceil(1_000) {
        let commands = (chunk * 1_000..((chunk + 1) * 1_000).min(extra))
            .flat_map(|k| {
                let variant = VariantId::parse(format!("EXTRA-{k:06}")).unwrap();
                [
                    StockCommand::RegisterVariant {
                        variant: variant.clone(),
                        policy: StockPolicy::Deny,
                    },
                    StockCommand::Receive {
                        variant,
                        location: ist.clone(),
                        quantity: 10,
                        reference: None,
                    },
                ]
            })
            .collect();
        setup.stock_batch(commands).unwrap();
    }

    let cases = std::env::var("PEER_CASES").ok();
    let wanted = |case: &str| {
        cases
            .as_deref()
            .is_none_or(|list| list.split(',').any(|c| c.trim() == case))
    };

    if wanted("sequential") {
        let start = Instant::now();
        for i in 0..n {
            order_and_reserve(&setup, i % 100);
        }
        let seq = n as f64 / start.elapsed().as_secs_f64();
        println!("RESULT case=sequential reservations={n} per_s={seq:.0}");
    }

    if wanted("hot_8_callers") {
        let next = AtomicU64::new(0);
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..8 {
                let engine = engine(store.clone());
                let next = &next;
                s.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        return;
                    }
                    order_and_reserve(&engine, 0);
                });
            }
        });
        let hot = n as f64 / start.elapsed().as_secs_f64();
        println!("RESULT case=hot_8_callers reservations={n} per_s={hot:.0}");
    }

    if wanted("sequential_reserve") {
        let start = Instant::now();
        for i in 0..n {
            setup
                .stock_batch(vec![reserve(format!("one-{i}"), i % 100, &ist)])
                .unwrap();
        }
        let one = n as f64 / start.elapsed().as_secs_f64();
        println!("RESULT case=sequential_reserve reservations={n} per_s={one:.0}");
    }

    if wanted("spread_8_reserve") {
        let next = AtomicU64::new(0);
        let start = Instant::now();
        std::thread::scope(|s| {
            for t in 0..8 {
                let engine = engine(store.clone());
                let (next, ist) = (&next, &ist);
                s.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        return;
                    }
                    engine
                        .stock_batch(vec![reserve(format!("spread-{i}"), t * 12 + i % 12, ist)])
                        .unwrap();
                });
            }
        });
        let spread = n as f64 / start.elapsed().as_secs_f64();
        println!("RESULT case=spread_8_reserve reservations={n} per_s={spread:.0}");
    }

    if wanted("batch_100") {
        let calls = (n / 100).max(1);
        let start = Instant::now();
        for c in 0..calls {
            let batch = (0..100)
                .map(|j| reserve(format!("batch-{c}-{j}"), j, &ist))
                .collect();
            setup.stock_batch(batch).unwrap();
        }
        let batch = (calls * 100) as f64 / start.elapsed().as_secs_f64();
        println!(
            "RESULT case=batch_100 reservations={} per_s={batch:.0}",
            calls * 100
        );
    }

    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
}
