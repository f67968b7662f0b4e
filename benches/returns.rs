//! Criterion benchmarks for refund calculation (returns), beside a baseline: deriving
//! the same order's totals, which does the same per-line money arithmetic once.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use ordersmith::ids::{ChannelId, OrderId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{
    decide, place, LineQuantity, NewLine, NewOrder, Order, OrderCommand, OrderEvent, ShippingLine,
};
use ordersmith::returns::{refund_for, RefundPolicy};
use rust_decimal::Decimal;

/// `lines` lines of `units` units each, at 20 % VAT with a discount, and shipping;
/// shipped and delivered in full.
fn delivered(lines: usize, units: u32) -> Order {
    let try_ = Currency::parse("TRY").unwrap();
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
        try_,
        (0..lines)
            .map(|k| {
                NewLine::new(
                    VariantId::parse(format!("SKU-{k}")).unwrap(),
                    units,
                    Money::parse("199.90", try_).unwrap(),
                )
                .with_tax("KDV", Decimal::new(20, 2))
                .with_discount(None, Money::parse("10.00", try_).unwrap())
            })
            .collect(),
    );
    new.taxes_included = true;
    new.shipping_lines.push(ShippingLine {
        title: "Kargo".into(),
        price: Money::parse("29.90", try_).unwrap(),
        tax_lines: vec![],
    });
    let OrderEvent::Placed(placed) = place(&new).unwrap() else {
        unreachable!()
    };
    let mut order = Order::from_placed(OrderId::parse("o-1").unwrap(), &placed);
    let all: Vec<LineQuantity> = order
        .lines
        .iter()
        .map(|l| LineQuantity::new(l.id.clone(), l.quantity))
        .collect();
    for c in [
        OrderCommand::Confirm,
        OrderCommand::RecordShipment { lines: all.clone() },
        OrderCommand::RecordDelivery { lines: all },
    ] {
        for e in decide(&order, &c).unwrap() {
            order.apply(&e);
        }
    }
    order
}

fn refunds(c: &mut Criterion) {
    let policy = RefundPolicy {
        refund_shipping: true,
        restocking_fee_rate: Decimal::new(10, 2),
    };
    let mut g = c.benchmark_group("returns");
    let small = delivered(3, 3);
    let one: Vec<LineQuantity> = vec![LineQuantity::new(small.lines[1].id.clone(), 1)];
    g.bench_function("refund_one_unit_of_3_lines", |b| {
        b.iter(|| refund_for(black_box(&small), black_box(&one), &policy).unwrap())
    });
    g.bench_function("baseline_totals_3_lines", |b| {
        b.iter(|| black_box(&small).totals().unwrap())
    });
    let big = delivered(50, 10);
    let everything: Vec<LineQuantity> = big
        .lines
        .iter()
        .map(|l| LineQuantity::new(l.id.clone(), l.quantity))
        .collect();
    g.bench_function("refund_everything_of_50_lines_x_10", |b| {
        b.iter(|| refund_for(black_box(&big), black_box(&everything), &policy).unwrap())
    });
    g.bench_function("baseline_totals_50_lines", |b| {
        b.iter(|| black_box(&big).totals().unwrap())
    });
    g.finish();
}

criterion_group!(benches, refunds);
criterion_main!(benches);
