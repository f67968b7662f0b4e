//! KPI benchmarks over the deterministic history of `kpi_gen.rs`: full recomputation
//! from the fact log, reading every table, and the per-event cost of incremental
//! updates. `ORDERSMITH_KPI_ORDERS` sets the history size (default 1,000,000).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "kpi_gen.rs"]
mod kpi_gen;

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ordersmith::kpi::{Grain, KpiBook, KpiQuery};

fn orders() -> usize {
    std::env::var("ORDERSMITH_KPI_ORDERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn bench(c: &mut Criterion) {
    let n = orders();
    let started = Instant::now();
    let history = kpi_gen::History::generate(n, 42);
    eprintln!("generated {n} orders in {:?}", started.elapsed());
    let tz = chrono_tz::Europe::Istanbul;
    let mut book = KpiBook::new(tz);
    let started = Instant::now();
    history.for_each_fact(|f| book.push(f).unwrap());
    let took = started.elapsed();
    eprintln!(
        "fed {} facts incrementally in {:?}: {:.0} ns per fact",
        book.fact_count(),
        took,
        took.as_nanos() as f64 / book.fact_count() as f64
    );

    let mut g = c.benchmark_group("kpi");
    g.sample_size(10);
    g.bench_function(format!("recompute_{n}_orders"), |b| {
        b.iter(|| {
            book.recompute();
            black_box(book.order_count())
        })
    });
    let month = KpiQuery {
        grain: Grain::Month,
        ..KpiQuery::default()
    };
    g.bench_function(format!("tables_month_{n}_orders"), |b| {
        b.iter(|| black_box(book.tables(&month).unwrap()))
    });
    g.bench_function(format!("summary_day_{n}_orders"), |b| {
        b.iter(|| black_box(book.table("summary", &KpiQuery::default()).unwrap()))
    });
    // Per event: a fresh book fed 20,000 orders' facts, one push at a time.
    let small = kpi_gen::History::generate(20_000, 7);
    let mut facts = 0u64;
    small.for_each_fact(|_| facts += 1);
    g.throughput(Throughput::Elements(facts));
    g.bench_function("push_per_fact_20000_orders", |b| {
        b.iter_batched(
            || KpiBook::new(tz),
            |mut book| {
                small.for_each_fact(|f| book.push(f).unwrap());
                book
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("generate_facts_only_20000_orders", |b| {
        b.iter(|| {
            let mut k = 0u64;
            small.for_each_fact(|f| {
                black_box(&f);
                k += 1
            });
            k
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
