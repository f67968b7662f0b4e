//! Channel intake throughput: for each channel's fixture payload, serde_json's plain
//! parse into a `Value` (the baseline, same run), the adapter's parse into the canonical
//! `ChannelOrder`, and parse + import through an in-memory engine (each iteration a new
//! external id, so every import places a new order). The fixture's lines are mapped to
//! stocked variants, so an import is the real first delivery: identifiers resolved,
//! placed, paid, confirmed with its reservations, shipped lines recorded. `import` is
//! the import alone, of an order parsed once.
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
use ordersmith::ids::{LocationId, VariantId};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_channels::intake::{Intake, IntakeOptions, MemoryIntakeLog};
use ordersmith_channels::mapping::{Listing, MemoryIdentifierMap};
use ordersmith_channels::{parse_order, Channel};

const FIXTURES: &[(Channel, &str)] = &[
    (Channel::Shopify, "shopify/multi_line_discounted.json"),
    (
        Channel::WooCommerce,
        "woo_commerce/processing_inclusive.json",
    ),
    (Channel::Trendyol, "trendyol/split_packages.json"),
    (Channel::Hepsiburada, "hepsiburada/merged_feeds.json"),
    (Channel::AmazonV0, "amazon/v0_us_unshipped.json"),
    (Channel::Amazon2026, "amazon/2026_partially_shipped.json"),
    (Channel::Ebay, "ebay/paid_promotion.json"),
];

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Maps every line of the fixture to its own variant, stocked with plenty at one
/// warehouse (a billion units, the ledger's largest quantity: no run of the benchmark
/// can exhaust it), so each import confirms and reserves.
fn stock_and_map(engine: &Engine, map: &MemoryIdentifierMap, channel: Channel, body: &[u8]) {
    let order = parse_order(channel, body).unwrap();
    let wh = LocationId::parse("WH").unwrap();
    let mut cmds = vec![StockCommand::AddLocation {
        location: Location::new(wh.clone(), "Warehouse", 1, "TR-34", LocationKind::Warehouse),
    }];
    for (k, line) in order.lines.iter().enumerate() {
        let variant = VariantId::parse(format!("V{k}")).unwrap();
        let listing = Listing {
            sku: line.ids.sku.clone(),
            barcode: line.ids.barcode.clone(),
            variant_id: line.ids.variant_id.clone(),
            ..Listing::default()
        };
        map.set_listing(channel.channel_id(), &variant, listing)
            .unwrap();
        cmds.push(StockCommand::RegisterVariant {
            variant: variant.clone(),
            policy: StockPolicy::Deny,
        });
        cmds.push(StockCommand::Receive {
            variant,
            location: wh.clone(),
            quantity: 1_000_000_000,
            reference: None,
        });
    }
    engine.stock_batch(cmds).unwrap();
}

fn intake(c: &mut Criterion) {
    for (channel, file) in FIXTURES {
        let body = fixture(file);
        let mut group = c.benchmark_group(format!("intake/{channel}"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("serde_json_value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())
        });
        group.bench_function("json_tree", |b| {
            b.iter(|| ordersmith_channels::json::Json::parse(black_box(&body)).unwrap())
        });
        group.bench_function("parse", |b| {
            b.iter(|| parse_order(*channel, black_box(&body)).unwrap())
        });
        let engine = Engine::in_memory();
        let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
        stock_and_map(&engine, &map, *channel, &body);
        let options = IntakeOptions {
            import_test_orders: true,
            import_marketplace_fulfilled: true,
        };
        let counter = AtomicU64::new(0);
        group.bench_function("parse_and_import", |b| {
            b.iter(|| {
                let mut order = parse_order(*channel, black_box(&body)).unwrap();
                order.external_id = format!("B{}", counter.fetch_add(1, Ordering::Relaxed));
                let report = Intake::new(&engine, &map, &log, options.clone())
                    .import(&order)
                    .unwrap();
                debug_assert!(report.unmapped.is_empty() && report.failed.is_empty());
                report
            })
        });
        // The import alone, of an order parsed once (cloned, with a new external id):
        // parse_and_import minus this is the parse inside it.
        let parsed = parse_order(*channel, &body).unwrap();
        group.bench_function("import", |b| {
            b.iter(|| {
                let mut order = parsed.clone();
                order.external_id = format!("P{}", counter.fetch_add(1, Ordering::Relaxed));
                Intake::new(&engine, &map, &log, options.clone())
                    .import(black_box(&order))
                    .unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, intake);
criterion_main!(benches);
