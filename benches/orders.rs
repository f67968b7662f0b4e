//! Criterion benchmarks for the order aggregate and the engine on the in-memory store.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{ChannelId, OrderId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{decide, place, NewLine, NewOrder, Order, OrderCommand, OrderEvent};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::OrderQuery;
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

fn engine() -> Engine {
    let store = Arc::new(MemoryStore::new());
    Engine::new(
        store.clone(),
        store,
        Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        )),
        Arc::new(SequentialIds::new()),
    )
}

fn state_machine(c: &mut Criterion) {
    let OrderEvent::Placed(placed) = place(&new_order()).unwrap() else {
        unreachable!()
    };
    let order = Order::from_placed(OrderId::parse("o-1").unwrap(), &placed);
    let mut g = c.benchmark_group("state_machine");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decide_confirm", |b| {
        b.iter(|| decide(black_box(&order), black_box(&OrderCommand::Confirm)).unwrap())
    });
    g.bench_function("decide_and_apply_confirm", |b| {
        b.iter_batched(
            || order.clone(),
            |mut o| {
                for e in decide(&o, &OrderCommand::Confirm).unwrap() {
                    o.apply(&e);
                }
                o
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("totals_two_lines", |b| {
        b.iter(|| black_box(&order).totals().unwrap())
    });
    g.bench_function("validate_new_order", |b| {
        let new = new_order();
        b.iter(|| place(black_box(&new)).unwrap())
    });
    g.finish();
}

fn engine_calls(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine_in_memory");
    g.throughput(Throughput::Elements(1));
    let ctx = CommandContext::system();
    g.bench_function("place_order", |b| {
        let e = engine();
        let new = new_order();
        b.iter(|| e.place_order(new.clone(), &ctx).unwrap())
    });
    g.bench_function("place_and_confirm", |b| {
        let e = engine();
        let new = new_order();
        b.iter(|| {
            let o = e.place_order(new.clone(), &ctx).unwrap();
            e.confirm_order(&o.id, &ctx).unwrap()
        })
    });
    g.finish();
}

/// A recent page from a long history: 100,000 orders placed a second apart, then the
/// last ten seconds' orders (ten of them) listed. What it measures is finding where
/// the page starts; a listing that walked the history from its start to get there
/// cost its position, not its length.
fn listing(c: &mut Criterion) {
    const HISTORY: i64 = 100_000;
    let mut g = c.benchmark_group("engine_in_memory");
    let e = engine();
    let ctx = CommandContext::system();
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    for i in 0..HISTORY {
        let mut new = new_order();
        new.placed_at = start + chrono::Duration::seconds(i);
        e.place_order(new, &ctx).unwrap();
    }
    let query = OrderQuery {
        placed_from: Some(start + chrono::Duration::seconds(HISTORY - 10)),
        limit: Some(10),
        ..OrderQuery::default()
    };
    assert_eq!(e.list_orders(&query).unwrap().len(), 10);
    g.bench_function("list_last_10_of_100k", |b| {
        b.iter(|| e.list_orders(black_box(&query)).unwrap())
    });
    // The newest 100 orders confirmed, the rest still pending: the first page of 50
    // confirmed orders, as a picking screen asks for it.
    let newest = e
        .list_orders(&OrderQuery {
            placed_from: Some(start + chrono::Duration::seconds(HISTORY - 100)),
            limit: Some(100),
            ..OrderQuery::default()
        })
        .unwrap();
    for order in &newest {
        e.execute(&order.id, OrderCommand::Confirm, &ctx).unwrap();
    }
    let confirmed = OrderQuery {
        status: Some(ordersmith::order::OrderStatus::Confirmed),
        limit: Some(50),
        ..OrderQuery::default()
    };
    assert_eq!(e.list_orders(&confirmed).unwrap().len(), 50);
    g.bench_function("list_50_confirmed_of_100k", |b| {
        b.iter(|| e.list_orders(black_box(&confirmed)).unwrap())
    });
    g.finish();
}

/// Paging through everything by id and by key, as a dump and a KPI book do: 20,000
/// orders (each with a channel reference, so an idempotency record each), read in
/// pages of 200 ids and then 200 records until the end.
fn walking(c: &mut Criterion) {
    const ORDERS: usize = 20_000;
    const PAGE: usize = 200;
    let mut g = c.benchmark_group("engine_in_memory");
    g.sample_size(10);
    let e = engine();
    let ctx = CommandContext::system();
    for i in 0..ORDERS {
        let mut new = new_order();
        new.external_ref = Some(format!("W-{i}"));
        e.place_order(new, &ctx).unwrap();
    }
    let store = e.store();
    g.bench_function("walk_20k_ids_and_keys_by_200", |b| {
        b.iter(|| {
            let (mut ids, mut keys) = (0, 0);
            let mut after = None;
            loop {
                let page = store.order_ids(after.as_ref(), PAGE).unwrap();
                ids += page.len();
                match page.last() {
                    Some(last) if page.len() == PAGE => after = Some(last.clone()),
                    _ => break,
                }
            }
            let mut after: Option<String> = None;
            loop {
                let page = store.idempotency_records(after.as_deref(), PAGE).unwrap();
                keys += page.len();
                match page.last() {
                    Some(last) if page.len() == PAGE => after = Some(last.key.clone()),
                    _ => break,
                }
            }
            assert_eq!((ids, keys), (ORDERS, ORDERS));
        })
    });
    g.finish();
}

criterion_group!(benches, state_machine, engine_calls, listing, walking);
criterion_main!(benches);
