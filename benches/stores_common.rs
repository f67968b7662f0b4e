//! Shared by the store benchmarks: orders per second placed + confirmed (with stock
//! reserved for both lines) through the engine, by one writer and by 8 writer threads.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{NewLine, NewOrder, OrderCommand};
use ordersmith::ports::memory::{FixedClock, SequentialIds};
use ordersmith::ports::{Outbox, Store};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use rust_decimal::Decimal;

pub const WRITERS: u64 = 8;

pub fn new_order() -> NewOrder {
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

/// An engine over the store with both variants stocked at one warehouse, so every
/// confirmation sources and reserves stock (the stock log is written in the same
/// transaction as the order).
pub fn engine(store: Arc<dyn Store>, outbox: Arc<dyn Outbox>) -> Engine {
    let engine = Engine::new(
        store,
        outbox,
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
    engine
}

fn place_and_confirm(engine: &Engine, new: &NewOrder, ctx: &CommandContext) {
    let order = engine.place_order(new.clone(), ctx).unwrap();
    black_box(engine.confirm_order(&order.id, ctx).unwrap());
}

/// Benchmarks one store: `1_writer` and `8_writers`, per order placed and confirmed.
pub fn bench_store(c: &mut Criterion, name: &str, store: Arc<dyn Store>, outbox: Arc<dyn Outbox>) {
    let mut g: BenchmarkGroup<'_, WallTime> = c.benchmark_group(format!("store_{name}"));
    g.throughput(Throughput::Elements(1));
    let engine = engine(store, outbox);
    let new = new_order();
    let ctx = CommandContext::system();
    g.bench_function("place_and_confirm/1_writer", |b| {
        b.iter(|| place_and_confirm(&engine, &new, &ctx))
    });
    // A placement alone: a write that never touches stock, so it never reads the
    // store's stock log once the engine's last read found nothing new.
    g.bench_function("place_order/1_writer", |b| {
        b.iter(|| black_box(engine.place_order(new.clone(), &ctx).unwrap()))
    });
    // A channel's order: keyed by its reference, each one new. A store that defers key
    // lookups (`Store::defers_key_lookups`) commits it without asking for the key first.
    let mut reference = 0_u64;
    g.bench_function("place_channel_order/1_writer", |b| {
        b.iter(|| {
            reference += 1;
            let mut keyed = new.clone();
            keyed.external_ref = Some(format!("bench-{reference}"));
            black_box(engine.place_order(keyed, &ctx).unwrap())
        })
    });
    g.bench_function("place_and_confirm/8_writers", |b| {
        b.iter_custom(|iters| {
            let per_thread = iters.div_ceil(WRITERS);
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..WRITERS {
                    s.spawn(|| {
                        for _ in 0..per_thread {
                            place_and_confirm(&engine, &new, &ctx);
                        }
                    });
                }
            });
            let elapsed = start.elapsed();
            // Report the time per `iters` orders, though a few more may have run.
            let done = u128::from(per_thread * WRITERS).max(1);
            Duration::from_nanos(
                u64::try_from(elapsed.as_nanos() * u128::from(iters) / done).unwrap_or(u64::MAX),
            )
        })
    });
    // Issue 9: the same work as one write per order (place, then confirm: two commits)
    // by 8 threads, but as `place_order_then`: one write (one commit) per order.
    g.bench_function("place_then_confirm/8_writers", |b| {
        b.iter_custom(|iters| {
            let per_thread = iters.div_ceil(WRITERS);
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..WRITERS {
                    s.spawn(|| {
                        for _ in 0..per_thread {
                            black_box(
                                engine
                                    .place_order_then(
                                        new.clone(),
                                        vec![OrderCommand::Confirm],
                                        &ctx,
                                    )
                                    .unwrap(),
                            );
                        }
                    });
                }
            });
            let elapsed = start.elapsed();
            let done = u128::from(per_thread * WRITERS).max(1);
            Duration::from_nanos(
                u64::try_from(elapsed.as_nanos() * u128::from(iters) / done).unwrap_or(u64::MAX),
            )
        })
    });
    g.finish();

    // Issue 9: batches. 1,000 orders placed with `place_orders` (one commit per
    // `WRITE_BATCH` of them), then confirmed with `execute_many` (as many more): per
    // order, as in the rows above.
    let mut g: BenchmarkGroup<'_, WallTime> = c.benchmark_group(format!("store_{name}_batched"));
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("place_orders/1000", |b| {
        b.iter(|| {
            let placed = engine.place_orders(vec![new.clone(); BATCH], &ctx);
            assert!(placed.iter().all(Result::is_ok));
        })
    });
    g.bench_function("place_orders_then_execute_many_confirm/1000", |b| {
        b.iter(|| {
            let placed = engine.place_orders(vec![new.clone(); BATCH], &ctx);
            let confirms = placed
                .into_iter()
                .map(|o| (o.unwrap().id, OrderCommand::Confirm))
                .collect();
            let confirmed = engine.execute_many(confirms, &ctx);
            assert!(confirmed.iter().all(Result::is_ok));
        })
    });
    g.finish();
}

/// Orders per batch in the batched rows.
const BATCH: usize = 1_000;
