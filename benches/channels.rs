//! Channel intake throughput: for each channel's fixture payload, serde_json's plain
//! parse into a `Value` (the baseline, same run), the adapter's parse into the canonical
//! `ChannelOrder`, and parse + import through an in-memory engine (each iteration a new
//! external id, so every import places a new order). The fixture's lines are mapped to
//! stocked variants, so an import is the real first delivery: identifiers resolved,
//! placed, paid, confirmed with its reservations, shipped lines recorded. `import` is
//! the import alone, of an order parsed once. The `intake_full` groups measure the same
//! orders in the whole shape each channel documents and sends (`FULL_FIXTURES`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ordersmith::engine::Engine;
use ordersmith_channels::intake::{Intake, IntakeOptions, MemoryIntakeLog};
use ordersmith_channels::mapping::MemoryIdentifierMap;
use ordersmith_channels::{parse_order, Channel};

#[path = "channel_fixtures.rs"]
mod channel_fixtures;
use channel_fixtures::{fixture, named, stock_and_map, FIXTURES, FULL_FIXTURES};

fn intake(c: &mut Criterion) {
    for (channel, file) in FIXTURES {
        bench_body(c, "intake", *channel, &fixture(file), true);
    }
    // The same orders in the whole shape each channel sends (4 to 10 KB, as sent:
    // minified): the bodies a host really parses. The parts (`json_tree`, `import`)
    // are the trimmed group's story and are not repeated.
    for (channel, _) in FULL_FIXTURES {
        let (channel, body) = named(&format!("{channel}:full")).unwrap();
        bench_body(c, "intake_full", channel, &body, false);
    }
}

fn bench_body(c: &mut Criterion, prefix: &str, channel: Channel, body: &[u8], parts: bool) {
    let mut group = c.benchmark_group(format!("{prefix}/{channel}"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).unwrap())
    });
    if parts {
        group.bench_function("json_tree", |b| {
            b.iter(|| ordersmith_channels::json::Json::parse(black_box(body)).unwrap())
        });
    }
    group.bench_function("parse", |b| {
        b.iter(|| parse_order(channel, black_box(body)).unwrap())
    });
    let engine = Engine::in_memory();
    let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
    stock_and_map(&engine, &map, channel, body);
    let options = IntakeOptions {
        import_test_orders: true,
        import_marketplace_fulfilled: true,
    };
    let counter = AtomicU64::new(0);
    group.bench_function("parse_and_import", |b| {
        b.iter(|| {
            let mut order = parse_order(channel, black_box(body)).unwrap();
            order.external_id = format!("B{}", counter.fetch_add(1, Ordering::Relaxed));
            let report = Intake::new(&engine, &map, &log, options.clone())
                .import(&order)
                .unwrap();
            debug_assert!(report.unmapped.is_empty() && report.failed.is_empty());
            report
        })
    });
    if parts {
        // The import alone, of an order parsed once (cloned, with a new external id):
        // parse_and_import minus this is the parse inside it.
        let parsed = parse_order(channel, body).unwrap();
        group.bench_function("import", |b| {
            b.iter(|| {
                let mut order = parsed.clone();
                order.external_id = format!("P{}", counter.fetch_add(1, Ordering::Relaxed));
                Intake::new(&engine, &map, &log, options.clone())
                    .import(black_box(&order))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, intake);
criterion_main!(benches);
