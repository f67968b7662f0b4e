//! A refund on an order of millions of units is exact and costs a few allocations,
//! not one money value per unit: each amount's share of the units returned is
//! computed, not built part by part (a line may hold 1,000,000 units and an order 500
//! lines, so one part per unit could ask for tens of gigabytes). A counting global
//! allocator (`stats_alloc`) holds the bound; the only test in this binary, so no
//! other test allocates while it counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::System;

use chrono::{TimeZone, Utc};
use ordersmith::ids::{ChannelId, LineId, OrderId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{
    decide, place, LineQuantity, NewLine, NewOrder, Order, OrderCommand, OrderEvent, ShippingLine,
};
use ordersmith::returns::{refund_for, RefundPolicy};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn a_refund_on_millions_of_units_is_exact_and_allocates_next_to_nothing() {
    let try_ = Currency::parse("TRY").unwrap();
    let mut new = NewOrder::new(
        ChannelId::parse("b2b").unwrap(),
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
        try_,
        vec![
            NewLine::new(
                VariantId::parse("SCREW").unwrap(),
                1_000_000,
                Money::parse("0.10", try_).unwrap(),
            ),
            NewLine::new(
                VariantId::parse("NUT").unwrap(),
                1_000_000,
                Money::parse("0.10", try_).unwrap(),
            ),
        ],
    );
    new.shipping_lines.push(ShippingLine {
        title: "Freight".to_string(),
        price: Money::parse("29.99", try_).unwrap(),
        tax_lines: Vec::new(),
    });
    let OrderEvent::Placed(placed) = place(&new).unwrap() else {
        panic!("placing gives a placed event");
    };
    let mut order = Order::from_placed(OrderId::parse("o-1").unwrap(), &placed);
    let l1 = LineId::parse("L1").unwrap();
    for command in [
        OrderCommand::Confirm,
        OrderCommand::RecordShipment {
            lines: vec![LineQuantity::new(l1.clone(), 3)],
        },
        OrderCommand::RecordDelivery {
            lines: vec![LineQuantity::new(l1.clone(), 3)],
        },
    ] {
        for e in decide(&order, &command).unwrap() {
            order.apply(&e);
        }
    }
    let policy = RefundPolicy {
        refund_shipping: true,
        ..RefundPolicy::default()
    };
    let returning = [LineQuantity::new(l1, 3)];

    let region = Region::new(GLOBAL);
    let refund = refund_for(&order, &returning, &policy).unwrap();
    let used = region.change();

    // Each unit of L1 paid 0.10; 2,999 minor units of shipping over
    // 2,000,000 active units give the first 2,999 units one each, so the first three
    // of L1 carry 0.03.
    let line = &refund.lines[0];
    assert_eq!(line.paid, Money::parse("0.30", try_).unwrap());
    assert_eq!(line.shipping, Money::parse("0.03", try_).unwrap());
    assert_eq!(refund.total, Money::parse("0.33", try_).unwrap());
    assert!(
        used.bytes_allocated < 64 * 1024,
        "a refund on 2,000,000 units allocated {} bytes in {} allocations",
        used.bytes_allocated,
        used.allocations
    );
}
