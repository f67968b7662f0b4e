//! Criterion benchmarks for the stock ledger (reserve, commit, release, balance
//! queries) and for the engine confirming orders with reservations.
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
use ordersmith::ids::{ChannelId, LocationId, ReservationId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{NewLine, NewOrder};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::stock::{
    Location, LocationKind, ReserveRequest, StockCommand, StockLedger, StockPolicy,
};

const VARIANTS: usize = 1_000;

fn ledger() -> (StockLedger, Vec<VariantId>, LocationId) {
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    let ist = LocationId::parse("IST").unwrap();
    let mut l = StockLedger::new();
    l.add_location(Location::new(
        ist.clone(),
        "Istanbul",
        1,
        "TR-34",
        LocationKind::Warehouse,
    ))
    .unwrap();
    let variants: Vec<VariantId> = (0..VARIANTS)
        .map(|i| VariantId::parse(format!("SKU-{i:05}")).unwrap())
        .collect();
    for v in &variants {
        l.register_variant(v.clone(), StockPolicy::Deny).unwrap();
        l.receive(v, &ist, 1_000_000_000, None, now).unwrap();
    }
    (l, variants, ist)
}

/// Reservations per measured batch; each batch starts from a fresh ledger so the
/// journal does not grow without bound across criterion's iterations.
const BATCH: usize = 10_000;

fn ledger_ops(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
    let ids: Vec<ReservationId> = (0..BATCH)
        .map(|i| ReservationId::parse(format!("r{i}")).unwrap())
        .collect();
    let mut g = c.benchmark_group("ledger");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, commit) in [
        ("reserve_then_commit", true),
        ("reserve_then_release", false),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                ledger,
                |(mut l, variants, ist)| {
                    for (n, id) in ids.iter().enumerate() {
                        let v = &variants[n % VARIANTS];
                        l.reserve(
                            ReserveRequest::new(id.clone(), v.clone(), ist.clone(), 1),
                            now,
                        )
                        .unwrap();
                        if commit {
                            l.commit(id, now).unwrap();
                        } else {
                            l.release(id, now).unwrap();
                        }
                    }
                    l
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
    let mut g = c.benchmark_group("ledger");
    g.throughput(Throughput::Elements(1));
    let (l, variants, ist) = ledger();
    let mut n = 0usize;
    g.bench_function("level_query", |b| {
        b.iter(|| {
            n += 1;
            black_box(l.level(&variants[n % VARIANTS], &ist).unwrap())
        })
    });
    g.bench_function("sellable_query", |b| {
        b.iter(|| {
            n += 1;
            black_box(l.sellable(&variants[n % VARIANTS], &ist))
        })
    });
    g.finish();
}

fn engine_confirm(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine_in_memory");
    g.throughput(Throughput::Elements(1));
    let try_ = Currency::parse("TRY").unwrap();
    let ctx = CommandContext::system();
    g.bench_function("place_and_confirm_with_reservation", |b| {
        b.iter_batched(
            || {
                let store = Arc::new(MemoryStore::new());
                let e = Engine::new(
                    store.clone(),
                    store,
                    Arc::new(FixedClock::new(
                        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
                    )),
                    Arc::new(SequentialIds::new()),
                );
                e.stock_batch(vec![
                    StockCommand::AddLocation {
                        location: Location::new(
                            LocationId::parse("IST").unwrap(),
                            "Istanbul",
                            1,
                            "TR-34",
                            LocationKind::Warehouse,
                        ),
                    },
                    StockCommand::RegisterVariant {
                        variant: VariantId::parse("MUG").unwrap(),
                        policy: StockPolicy::Deny,
                    },
                    StockCommand::Receive {
                        variant: VariantId::parse("MUG").unwrap(),
                        location: LocationId::parse("IST").unwrap(),
                        quantity: 1_000_000,
                        reference: None,
                    },
                ])
                .unwrap();
                e
            },
            |e| {
                for _ in 0..100 {
                    let new = NewOrder::new(
                        ChannelId::parse("web").unwrap(),
                        Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
                        try_,
                        vec![NewLine::new(
                            VariantId::parse("MUG").unwrap(),
                            1,
                            Money::parse("10", try_).unwrap(),
                        )],
                    );
                    let o = e.place_order(new, &ctx).unwrap();
                    e.confirm_order(&o.id, &ctx).unwrap();
                }
                e
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, ledger_ops, engine_confirm);
criterion_main!(benches);
