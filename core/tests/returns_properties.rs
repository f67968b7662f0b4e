//! Refunds add up: however a fully delivered order comes back (in any number of returns,
//! any split), the refunds sum to exactly what it cost — lines after discounts with
//! tax, plus shipping when the policy refunds it — minus the restocking fees, to the
//! minor unit; and no return refunds more than what is left.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use ordersmith::ids::{ChannelId, LineId, OrderId};
use ordersmith::money::{Money, Rounding};
use ordersmith::order::{
    decide, place, LineQuantity, NewLine, NewOrder, Order, OrderCommand, OrderEvent, ShippingLine,
};
use ordersmith::returns::{refund_for, RefundPolicy};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn build(lines: &[(u32, u32, u32, u32)], included: bool, shipping_cents: u32) -> Order {
    let rates = ["0", "0.01", "0.10", "0.20"];
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        lines
            .iter()
            .enumerate()
            .map(|(k, (q, cents, disc_pct, rate))| {
                let unit = Money::from_minor(i64::from(*cents), try_());
                let subtotal = unit.times(u64::from(*q)).unwrap();
                let discount = subtotal
                    .times_rate(Decimal::new(i64::from(*disc_pct), 2), Rounding::TowardZero)
                    .unwrap();
                let mut line = NewLine::new(variant(&format!("SKU-{k}")), *q, unit)
                    .with_tax("KDV", dec(rates[*rate as usize]));
                if !discount.is_zero() {
                    line = line.with_discount(None, discount);
                }
                line
            })
            .collect(),
    );
    new.taxes_included = included;
    if shipping_cents > 0 {
        new.shipping_lines.push(ShippingLine {
            title: "Kargo".into(),
            price: Money::from_minor(i64::from(shipping_cents), try_()),
            tax_lines: vec![],
        });
    }
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn returning_everything_in_any_split_refunds_exactly_the_total_less_fees(
        lines in prop::collection::vec((1u32..6, 1u32..20_000, 0u32..60, 0u32..4), 1..4),
        included in any::<bool>(),
        shipping in 0u32..5_000,
        refund_shipping in any::<bool>(),
        fee_pct in 0u32..30,
        splits in prop::collection::vec(1u32..4, 1..20),
    ) {
        let mut order = build(&lines, included, shipping);
        let policy = RefundPolicy {
            refund_shipping,
            restocking_fee_rate: Decimal::new(i64::from(fee_pct), 2),
        };
        // Everything at once, on a copy.
        let everything: Vec<LineQuantity> = order
            .lines
            .iter()
            .map(|l| LineQuantity::new(l.id.clone(), l.quantity))
            .collect();
        let at_once = refund_for(&order, &everything, &policy).unwrap();
        let totals = order.totals().unwrap();
        let paid_lines = Money::sum(try_(), at_once.lines.iter().map(|l| &l.paid)).unwrap();
        prop_assert_eq!(paid_lines, totals.total.checked_sub(&totals.shipping_total).unwrap());
        let shipped = Money::sum(try_(), at_once.lines.iter().map(|l| &l.shipping)).unwrap();
        let expected_shipping = if refund_shipping { totals.shipping_total } else { Money::zero(try_()) };
        prop_assert_eq!(shipped, expected_shipping);
        // Now in pieces: a few units of one line at a time, recording each return.
        let mut refunded = Money::zero(try_());
        let mut k = 0usize;
        loop {
            let open: Vec<(LineId, u32)> = order
                .lines
                .iter()
                .filter(|l| l.fulfilment.returned < l.fulfilment.delivered)
                .map(|l| (l.id.clone(), l.fulfilment.delivered - l.fulfilment.returned))
                .collect();
            if open.is_empty() {
                break;
            }
            let (line, left) = &open[k % open.len()];
            let q = splits[k % splits.len()].min(*left);
            k += 1;
            let piece = refund_for(&order, &[LineQuantity::new(line.clone(), q)], &policy).unwrap();
            refunded = refunded.checked_add(&piece.total).unwrap();
            prop_assert!(refunded.amount() <= at_once.total.amount());
            for e in decide(&order, &OrderCommand::RecordReturn { lines: vec![LineQuantity::new(line.clone(), q)] }).unwrap() {
                order.apply(&e);
            }
        }
        prop_assert_eq!(refunded, at_once.total);
        // Nothing is left to return.
        let again = refund_for(&order, &[LineQuantity::new(order.lines[0].id.clone(), 1)], &policy).unwrap_err();
        prop_assert_eq!(again.code(), "RETURNS_NOT_RETURNABLE");
    }
}

#[test]
fn three_units_with_a_ten_lira_discount_refund_six_sixty_seven_twice_and_six_sixty_six() {
    let mut order = build(&[(3, 1_000, 0, 0)], false, 0);
    // Replace the line discount by exactly 10.00 on 30.00.
    order.lines.make_mut()[0].discounts = vec![ordersmith::order::Discount {
        code: None,
        amount: money("10"),
    }]
    .into();
    let l1 = order.lines[0].id.clone();
    let mut parts = Vec::new();
    for _ in 0..3 {
        let r = refund_for(
            &order,
            &[LineQuantity::new(l1.clone(), 1)],
            &RefundPolicy::default(),
        )
        .unwrap();
        parts.push(r.total.to_string());
        for e in decide(
            &order,
            &OrderCommand::RecordReturn {
                lines: vec![LineQuantity::new(l1.clone(), 1)],
            },
        )
        .unwrap()
        {
            order.apply(&e);
        }
    }
    assert_eq!(parts, ["6.67 TRY", "6.67 TRY", "6.66 TRY"]);
}

#[test]
fn bad_returns_are_typed_errors() {
    let order = build(&[(2, 1_000, 0, 0)], false, 0);
    let l1 = order.lines[0].id.clone();
    let p = RefundPolicy::default();
    let e = refund_for(&order, &[LineQuantity::new(l1.clone(), 3)], &p).unwrap_err();
    assert_eq!(e.code(), "RETURNS_NOT_RETURNABLE");
    assert!(e.to_string().contains("only 2 delivered"), "{e}");
    let e = refund_for(
        &order,
        &[LineQuantity::new(LineId::parse("L9").unwrap(), 1)],
        &p,
    )
    .unwrap_err();
    assert_eq!(e.code(), "RETURNS_UNKNOWN_LINE");
    let e = refund_for(&order, &[], &p).unwrap_err();
    assert_eq!(e.code(), "RETURNS_INVALID_REQUEST");
    let bad = RefundPolicy {
        refund_shipping: false,
        restocking_fee_rate: dec("1.5"),
    };
    assert_eq!(
        refund_for(&order, &[LineQuantity::new(l1, 1)], &bad)
            .unwrap_err()
            .code(),
        "RETURNS_INVALID_REQUEST"
    );
}
