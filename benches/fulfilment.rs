//! Criterion benchmarks for the warehouse flow and customer notifications, each beside
//! a baseline measured in the same run:
//!
//! - `flow/place_confirm` (the baseline: what an order costs before fulfilment) and
//!   `flow/place_confirm_pick_pack_label_hand_over` (the whole flow on the in-memory
//!   store, one parcel per order);
//! - `notify/format_baseline` (plain `str::replace` of the same variables into the same
//!   text) and `notify/render_shipped_template` (ordersmith's checked rendering).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::fulfilment::{Label, ParcelSize};
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::notify::{Locale, NotificationChannel, TemplateKey, TemplateSet};
use ordersmith::order::{FulfilmentCommand, LineQuantity, NewLine, NewOrder};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};

const BATCH: usize = 100;

fn engine() -> Engine {
    let store = Arc::new(MemoryStore::new());
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
        location: Location::new(ist.clone(), "Istanbul", 1, "TR-34", LocationKind::Warehouse),
    }];
    for sku in ["SHIRT-M", "MUG"] {
        setup.push(StockCommand::RegisterVariant {
            variant: VariantId::parse(sku).unwrap(),
            policy: StockPolicy::Deny,
        });
        setup.push(StockCommand::Receive {
            variant: VariantId::parse(sku).unwrap(),
            location: ist.clone(),
            quantity: 1_000_000,
            reference: None,
        });
    }
    engine.stock_batch(setup).unwrap();
    engine
}

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
            ),
            NewLine::new(
                VariantId::parse("MUG").unwrap(),
                1,
                Money::parse("89.50", try_).unwrap(),
            ),
        ],
    )
}

fn flow(c: &mut Criterion) {
    let ctx = CommandContext::system();
    let mut g = c.benchmark_group("flow");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("place_confirm", |b| {
        b.iter_batched(
            engine,
            |e| {
                for _ in 0..BATCH {
                    let o = e.place_order(new_order(), &ctx).unwrap();
                    black_box(e.confirm_order(&o.id, &ctx).unwrap());
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("place_confirm_pick_pack_label_hand_over", |b| {
        b.iter_batched(
            engine,
            |e| {
                for _ in 0..BATCH {
                    let o = e.place_order(new_order(), &ctx).unwrap();
                    let o = e.confirm_order(&o.id, &ctx).unwrap();
                    let f = o.fulfilments[0].id.clone();
                    let units = vec![
                        LineQuantity::new("L1".try_into().unwrap(), 2),
                        LineQuantity::new("L2".try_into().unwrap(), 1),
                    ];
                    let parcel = format!("{f}-P1");
                    for step in [
                        FulfilmentCommand::Pick {
                            fulfilment: f.clone(),
                            picked: units.clone(),
                            short: vec![],
                        },
                        FulfilmentCommand::Pack {
                            fulfilment: f.clone(),
                            units,
                            size: ParcelSize {
                                weight_grams: 900,
                                length_mm: 300,
                                width_mm: 200,
                                height_mm: 100,
                            },
                        },
                        FulfilmentCommand::RecordLabel {
                            fulfilment: f.clone(),
                            parcel: parcel.clone(),
                            label: Label {
                                carrier: "ups".into(),
                                service: "standard".into(),
                                tracking_number: "1Z999AA10123456784".into(),
                                label_ref: None,
                            },
                        },
                        FulfilmentCommand::HandOver {
                            fulfilment: f.clone(),
                            parcel,
                        },
                    ] {
                        black_box(e.fulfil(&o.id, step, &ctx).unwrap());
                    }
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn notify(c: &mut Criterion) {
    let templates = TemplateSet::shipped().unwrap();
    let vars: BTreeMap<String, String> = [
        ("order_ref", "TY-88120031"),
        ("customer_name", "Ayşe Yılmaz"),
        ("carrier", "UPS"),
        ("tracking_number", "1Z999AA10123456784"),
        (
            "tracking_url",
            "https://kargo.example/ups/1Z999AA10123456784",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let text = "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz {carrier} ile kargoya verildi. Takip numarası: {tracking_number}.\n\nKargonuzu buradan takip edebilirsiniz: {tracking_url}";
    let mut g = c.benchmark_group("notify");
    g.bench_function("format_baseline", |b| {
        b.iter(|| {
            let mut out = text.to_string();
            for (k, v) in &vars {
                out = out.replace(&format!("{{{k}}}"), v);
            }
            black_box(out)
        })
    });
    g.bench_function("render_shipped_template", |b| {
        b.iter(|| {
            black_box(
                templates
                    .render(
                        TemplateKey::OrderShipped,
                        Locale::Tr,
                        NotificationChannel::Email,
                        &vars,
                    )
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, flow, notify);
criterion_main!(benches);
