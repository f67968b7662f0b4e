//! DESIGN's money invariant, "no refund exceeds what was captured", over random
//! sequences of every way money moves on an order: provider payments (authorise,
//! confirm, capture, refund, their confirmations, void) mixed with payments and refunds
//! recorded outside ordersmith and `mark_paid`. Whatever the sequence, the order never
//! holds more than its total (paid less refunded) and never gives back more than it
//! took in, counting what providers were asked for and have not confirmed yet; and
//! each payment never
//! captures more than it authorised nor refunds more than it captured.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use ordersmith::ids::OrderId;
use ordersmith::money::Money;
use ordersmith::order::{decide, place, Order, OrderCommand, OrderEvent, PaymentCommand};
use proptest::prelude::*;

/// One step of the sequence; amounts in minor units (the sample order totals 306.00).
#[derive(Debug, Clone)]
enum Step {
    Authorise(i64),
    ConfirmAuthorisation(usize, i64),
    Capture(usize, i64),
    ConfirmCapture(usize, i64),
    Refund(usize, i64),
    ConfirmRefund(usize, i64),
    FailCapture(usize),
    FailRefund(usize),
    Void(usize),
    RecordPayment(i64),
    RecordRefund(i64),
    MarkPaid,
}

fn step() -> impl Strategy<Value = Step> {
    let amount = prop_oneof![1i64..40_000, Just(30_600), Just(15_300)];
    let payment = 0usize..3;
    prop_oneof![
        amount.clone().prop_map(Step::Authorise),
        (payment.clone(), amount.clone()).prop_map(|(p, a)| Step::ConfirmAuthorisation(p, a)),
        (payment.clone(), amount.clone()).prop_map(|(p, a)| Step::Capture(p, a)),
        (payment.clone(), amount.clone()).prop_map(|(p, a)| Step::ConfirmCapture(p, a)),
        (payment.clone(), amount.clone()).prop_map(|(p, a)| Step::Refund(p, a)),
        (payment.clone(), amount.clone()).prop_map(|(p, a)| Step::ConfirmRefund(p, a)),
        payment.clone().prop_map(Step::FailCapture),
        payment.clone().prop_map(Step::FailRefund),
        payment.prop_map(Step::Void),
        amount.clone().prop_map(Step::RecordPayment),
        amount.prop_map(Step::RecordRefund),
        Just(Step::MarkPaid),
    ]
}

fn minor(m: i64) -> Money {
    Money::from_minor(m, money("0").currency())
}

fn command(step: &Step, k: usize) -> OrderCommand {
    let id = |p: &usize| format!("P{}", p + 1);
    // Each confirmation carries a reference of its own (a provider's webhook).
    let reference = format!("ref-{k}");
    let pay = |c| OrderCommand::Pay(c);
    match step {
        Step::Authorise(a) => pay(PaymentCommand::Authorise {
            provider: "iyzico".into(),
            method: None,
            amount: minor(*a),
        }),
        Step::ConfirmAuthorisation(p, a) => pay(PaymentCommand::ConfirmAuthorisation {
            payment: id(p),
            provider_ref: reference,
            amount: minor(*a),
        }),
        Step::Capture(p, a) => pay(PaymentCommand::Capture {
            payment: id(p),
            amount: minor(*a),
        }),
        Step::ConfirmCapture(p, a) => pay(PaymentCommand::ConfirmCapture {
            payment: id(p),
            provider_ref: reference,
            amount: minor(*a),
        }),
        Step::Refund(p, a) => pay(PaymentCommand::Refund {
            payment: id(p),
            amount: minor(*a),
        }),
        Step::ConfirmRefund(p, a) => pay(PaymentCommand::ConfirmRefund {
            payment: id(p),
            provider_ref: reference,
            amount: minor(*a),
        }),
        Step::FailCapture(p) => pay(PaymentCommand::FailCapture {
            payment: id(p),
            reason: "declined".into(),
        }),
        Step::FailRefund(p) => pay(PaymentCommand::FailRefund {
            payment: id(p),
            reason: "declined".into(),
        }),
        Step::Void(p) => pay(PaymentCommand::Void { payment: id(p) }),
        Step::RecordPayment(a) => OrderCommand::RecordPayment { amount: minor(*a) },
        Step::RecordRefund(a) => OrderCommand::RecordRefund { amount: minor(*a) },
        Step::MarkPaid => OrderCommand::MarkPaid,
    }
}

fn confirmed_order() -> Order {
    let OrderEvent::Placed(placed) = place(&sample_order("web")).unwrap() else {
        panic!("placing gives a placed event");
    };
    let mut order = Order::from_placed(OrderId::parse("o-1").unwrap(), &placed);
    for e in decide(&order, &OrderCommand::Confirm).unwrap() {
        order.apply(&e);
    }
    order
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn money_in_never_exceeds_the_total_nor_money_out_what_came_in(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        let mut order = confirmed_order();
        let total = order.totals().unwrap().total.to_minor().unwrap();
        let mut accepted = 0usize;
        for (k, s) in steps.iter().enumerate() {
            let before = order.clone();
            match decide(&order, &command(s, k)) {
                Ok(events) => {
                    accepted += 1;
                    for e in &events {
                        order.apply(e);
                    }
                }
                Err(_) => {
                    prop_assert_eq!(&order, &before, "a refused step changes nothing");
                    continue;
                }
            }
            let paid = order.amount_paid.to_minor().unwrap();
            let refunded = order.amount_refunded.to_minor().unwrap();
            let pending_in: i128 = order.payments.iter().map(|p| p.capture_pending.to_minor().unwrap()).sum();
            let pending_out: i128 = order.payments.iter().map(|p| p.refund_pending.to_minor().unwrap()).sum();
            // Net of what went back: money refunded may be paid again.
            prop_assert!(paid - refunded + pending_in <= total, "holds {paid} - {refunded} + {pending_in} pending of {total} after {s:?}");
            prop_assert!(refunded + pending_out <= paid, "gave back {refunded} + {pending_out} pending of {paid} after {s:?}");
            for p in &order.payments {
                let [authorised, captured, capture_pending, refunded, refund_pending] =
                    [p.authorised, p.captured, p.capture_pending, p.refunded, p.refund_pending]
                        .map(|m| m.to_minor().unwrap());
                prop_assert!(captured + capture_pending <= authorised, "{p:?}");
                prop_assert!(refunded + refund_pending <= captured, "{p:?}");
            }
        }
        // Not a property, a sanity check on the generator: most runs move some money.
        prop_assert!(accepted <= steps.len());
    }
}

/// The audit's two sequences, named: a refund recorded outside the provider and then
/// asked of the provider too (or the other way round) is refused the second time.
#[test]
fn a_refund_is_given_back_once_whichever_path_asks_first() {
    let full = |order: &Order| order.totals().unwrap().total;
    for provider_first in [false, true] {
        let mut order = confirmed_order();
        let total = full(&order);
        let steps = captured_in_full(total);
        for s in steps {
            for e in decide(&order, &OrderCommand::Pay(s)).unwrap() {
                order.apply(&e);
            }
        }
        let provider = OrderCommand::Pay(PaymentCommand::Refund {
            payment: "P1".into(),
            amount: total,
        });
        let recorded = OrderCommand::RecordRefund { amount: total };
        let (first, second) = if provider_first {
            (provider, recorded)
        } else {
            (recorded, provider)
        };
        for e in decide(&order, &first).unwrap() {
            order.apply(&e);
        }
        let err = decide(&order, &second).unwrap_err();
        assert_eq!(err.code(), "ORDER_REFUND_EXCEEDS_PAID", "{err}");
    }
}

/// Two authorisations of the whole order, or one beside a payment marked outside,
/// cannot both be captured: the second capture is an overpayment.
#[test]
fn an_order_is_never_captured_twice_over() {
    let mut order = confirmed_order();
    let total = order.totals().unwrap().total;
    for p in ["P1", "P2"] {
        for s in [
            PaymentCommand::Authorise {
                provider: "iyzico".into(),
                method: None,
                amount: total,
            },
            PaymentCommand::ConfirmAuthorisation {
                payment: p.into(),
                provider_ref: format!("a-{p}"),
                amount: total,
            },
        ] {
            for e in decide(&order, &OrderCommand::Pay(s)).unwrap() {
                order.apply(&e);
            }
        }
    }
    let capture = |p: &str, amount| {
        OrderCommand::Pay(PaymentCommand::Capture {
            payment: p.into(),
            amount,
        })
    };
    for e in decide(&order, &capture("P1", total)).unwrap() {
        order.apply(&e);
    }
    // Asked for and not yet confirmed: already counted.
    let err = decide(&order, &capture("P2", money("1"))).unwrap_err();
    assert_eq!(err.code(), "ORDER_OVERPAYMENT", "{err}");
    let err = decide(&order, &OrderCommand::RecordPayment { amount: money("1") }).unwrap_err();
    assert_eq!(err.code(), "ORDER_OVERPAYMENT", "{err}");
    // A payment marked outside leaves nothing for a capture either.
    let mut marked = confirmed_order();
    for s in [
        PaymentCommand::Authorise {
            provider: "iyzico".into(),
            method: None,
            amount: total,
        },
        PaymentCommand::ConfirmAuthorisation {
            payment: "P1".into(),
            provider_ref: "a".into(),
            amount: total,
        },
    ] {
        for e in decide(&marked, &OrderCommand::Pay(s)).unwrap() {
            marked.apply(&e);
        }
    }
    for e in decide(&marked, &OrderCommand::MarkPaid).unwrap() {
        marked.apply(&e);
    }
    let err = decide(&marked, &capture("P1", money("1"))).unwrap_err();
    assert_eq!(err.code(), "ORDER_OVERPAYMENT", "{err}");
    assert_eq!(marked.amount_paid, total);
}
