//! Payments through a provider: authorise, capture (several), void, refund (several),
//! confirmations idempotent by the provider's reference, amounts checked at every step,
//! the order's payment status derived, and provider calls as outbox effects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::TimeDelta;
use common::*;
use ordersmith::engine::{CommandContext, EngineConfig};
use ordersmith::ids::LocationId;
use ordersmith::order::{Order, OrderEvent, PaymentCommand, PaymentStatus};
use ordersmith::payment::PaymentState;
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn authorise(amount: &str) -> PaymentCommand {
    PaymentCommand::Authorise {
        provider: "iyzico".into(),
        method: Some("card".into()),
        amount: money(amount),
    }
}

fn confirm_auth(r: &str, amount: &str) -> PaymentCommand {
    PaymentCommand::ConfirmAuthorisation {
        payment: "P1".into(),
        provider_ref: r.into(),
        amount: money(amount),
    }
}

fn capture(amount: &str) -> PaymentCommand {
    PaymentCommand::Capture {
        payment: "P1".into(),
        amount: money(amount),
    }
}

fn confirm_capture(r: &str, amount: &str) -> PaymentCommand {
    PaymentCommand::ConfirmCapture {
        payment: "P1".into(),
        provider_ref: r.into(),
        amount: money(amount),
    }
}

#[test]
fn authorise_capture_twice_refund_twice_with_statuses_and_effects() {
    let t = test_engine();
    let e = &t.engine;
    // sample_order totals 327.00 TRY (see common).
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    let total = o.totals().unwrap().total;
    let id = o.id.clone();
    let o = e
        .pay(&id, authorise(&total.amount().to_string()), &ctx())
        .unwrap();
    assert_eq!(o.payments[0].state, PaymentState::Requested);
    assert_eq!(o.payment_status(), PaymentStatus::Unpaid);
    let o = e
        .pay(
            &id,
            confirm_auth("auth-1", &total.amount().to_string()),
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.payment_status(), PaymentStatus::Authorised);
    // The same webhook twice changes nothing.
    let again = e
        .pay(
            &id,
            confirm_auth("auth-1", &total.amount().to_string()),
            &ctx(),
        )
        .unwrap();
    assert_eq!(again.version, o.version);
    // Two partial captures.
    e.pay(&id, capture("100"), &ctx()).unwrap();
    let o = e.pay(&id, confirm_capture("cap-1", "100"), &ctx()).unwrap();
    assert_eq!(o.payments[0].state, PaymentState::PartiallyCaptured);
    assert_eq!(o.payment_status(), PaymentStatus::PartiallyPaid);
    let rest = total.checked_sub(&money("100")).unwrap();
    e.pay(&id, capture(&rest.amount().to_string()), &ctx())
        .unwrap();
    let o = e
        .pay(
            &id,
            confirm_capture("cap-2", &rest.amount().to_string()),
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.payments[0].state, PaymentState::Captured);
    assert_eq!(o.payment_status(), PaymentStatus::Paid);
    assert_eq!(o.amount_paid, total);
    // Capturing more than authorised names the amounts.
    let err = e.pay(&id, capture("0.01"), &ctx()).unwrap_err();
    assert_eq!(err.code(), "PAYMENT_CAPTURE_EXCEEDS_AUTHORISED");
    assert!(
        err.to_string().contains("0.01 TRY") && err.to_string().contains("0.00 TRY"),
        "{err}"
    );
    // Two refunds; never more than captured.
    e.pay(
        &id,
        PaymentCommand::Refund {
            payment: "P1".into(),
            amount: money("27"),
        },
        &ctx(),
    )
    .unwrap();
    let o = e
        .pay(
            &id,
            PaymentCommand::ConfirmRefund {
                payment: "P1".into(),
                provider_ref: "ref-1".into(),
                amount: money("27"),
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.payment_status(), PaymentStatus::PartiallyRefunded);
    let err = e
        .pay(
            &id,
            PaymentCommand::Refund {
                payment: "P1".into(),
                amount: total,
            },
            &ctx(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "PAYMENT_REFUND_EXCEEDS_CAPTURED");
    let left = total.checked_sub(&money("27")).unwrap();
    e.pay(
        &id,
        PaymentCommand::Refund {
            payment: "P1".into(),
            amount: left,
        },
        &ctx(),
    )
    .unwrap();
    let o = e
        .pay(
            &id,
            PaymentCommand::ConfirmRefund {
                payment: "P1".into(),
                provider_ref: "ref-2".into(),
                amount: left,
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.payments[0].state, PaymentState::Refunded);
    assert_eq!(o.payment_status(), PaymentStatus::Refunded);
    // Provider calls left as effects for the host.
    let topics: Vec<String> = e
        .pending_effects(1000)
        .unwrap()
        .into_iter()
        .map(|r| r.topic)
        .collect();
    for t in [
        "payment.authorisation_requested",
        "payment.capture_requested",
        "payment.refund_requested",
    ] {
        assert!(topics.iter().any(|x| x == t), "{t}");
    }
    let history = e.order_history(&id).unwrap();
    assert_eq!(Order::replay(&history).unwrap(), e.order(&id).unwrap());
}

#[test]
fn void_failures_and_bad_steps_are_typed_and_change_nothing() {
    let t = test_engine();
    let e = &t.engine;
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    let id = o.id.clone();
    // More than is due cannot be authorised.
    let err = e.pay(&id, authorise("100000"), &ctx()).unwrap_err();
    assert_eq!(err.code(), "ORDER_OVERPAYMENT");
    e.pay(&id, authorise("50"), &ctx()).unwrap();
    let before = e.order(&id).unwrap();
    for (step, code) in [
        (capture("10"), "PAYMENT_INVALID_STATE"),
        (confirm_auth("a", "60"), "PAYMENT_CONFIRM_EXCEEDS_REQUEST"),
        (
            confirm_capture("c", "10"),
            "PAYMENT_CONFIRM_EXCEEDS_REQUEST",
        ),
        (authorise("-1"), "PAYMENT_INVALID_INPUT"),
        (
            PaymentCommand::Void {
                payment: "P9".into(),
            },
            "PAYMENT_UNKNOWN",
        ),
        (
            PaymentCommand::Authorise {
                provider: " ".into(),
                method: None,
                amount: money("1"),
            },
            "PAYMENT_INVALID_INPUT",
        ),
    ] {
        let err = e.pay(&id, step, &ctx()).unwrap_err();
        assert_eq!(err.code(), code);
    }
    let err = e
        .pay(
            &id,
            PaymentCommand::Capture {
                payment: "P1".into(),
                amount: usd("1"),
            },
            &ctx(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "ORDER_CURRENCY_MISMATCH");
    assert_eq!(e.order(&id).unwrap(), before, "nothing changed");
    // Authorised, then voided: the payment status says so.
    e.pay(&id, confirm_auth("a", "50"), &ctx()).unwrap();
    let o = e
        .pay(
            &id,
            PaymentCommand::Void {
                payment: "P1".into(),
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.payments[0].state, PaymentState::Voided);
    assert_eq!(o.payment_status(), PaymentStatus::Voided);
    let err = e.pay(&id, capture("1"), &ctx()).unwrap_err();
    assert_eq!(err.code(), "PAYMENT_INVALID_STATE");
    // A refused authorisation.
    e.pay(&id, authorise("20"), &ctx()).unwrap();
    let o = e
        .pay(
            &id,
            PaymentCommand::FailAuthorisation {
                payment: "P2".into(),
                reason: "insufficient funds".into(),
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.payments[1].state, PaymentState::Failed);
    assert_eq!(o.payments[1].failure.as_deref(), Some("insufficient funds"));
    // Outside payments still work beside provider payments.
    let o = e.mark_paid(&id, &ctx()).unwrap();
    assert_eq!(o.payment_status(), PaymentStatus::Paid);
}

#[test]
fn a_captured_payment_stops_the_reservation_clock() {
    let t = test_engine();
    let engine = t.engine.clone().with_config(EngineConfig {
        reservation_ttl: Some(TimeDelta::minutes(15)),
        ..EngineConfig::default()
    });
    let ist = LocationId::parse("IST").unwrap();
    let mut setup = vec![StockCommand::AddLocation {
        location: Location::new(ist.clone(), "Istanbul", 1, "TR-34", LocationKind::Warehouse),
    }];
    for sku in ["SHIRT-M", "MUG"] {
        setup.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
        setup.push(StockCommand::Receive {
            variant: variant(sku),
            location: ist.clone(),
            quantity: 5,
            reference: None,
        });
    }
    engine.stock_batch(setup).unwrap();
    let o = engine.place_order(sample_order("web"), &ctx()).unwrap();
    let o = engine.confirm_order(&o.id, &ctx()).unwrap();
    let total = o.totals().unwrap().total.amount().to_string();
    engine.pay(&o.id, authorise(&total), &ctx()).unwrap();
    engine
        .pay(&o.id, confirm_auth("a", &total), &ctx())
        .unwrap();
    engine.pay(&o.id, capture(&total), &ctx()).unwrap();
    engine
        .pay(&o.id, confirm_capture("c", &total), &ctx())
        .unwrap();
    t.clock.advance(chrono::Duration::minutes(30));
    assert!(engine
        .sweep_expired_reservations()
        .unwrap()
        .released
        .is_empty());
}

// A provider may refuse a capture or a refund, or settle less than was asked. What is
// still pending is then released: a refund refused does not keep the money from being
// given back (by the provider again, or recorded outside), a capture refused does not
// keep the order from being paid. The release is an event with its own topic, and a
// step with nothing pending is refused and changes nothing.
#[test]
fn a_refused_capture_or_refund_releases_what_was_pending() {
    let t = test_engine();
    let e = &t.engine;
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    let id = o.id.clone();
    let total = o.totals().unwrap().total;
    let whole = total.amount().to_string();
    e.pay(&id, authorise(&whole), &ctx()).unwrap();
    e.pay(&id, confirm_auth("a", &whole), &ctx()).unwrap();
    let fail_capture = || PaymentCommand::FailCapture {
        payment: "P1".into(),
        reason: "issuer unavailable".into(),
    };
    let fail_refund = || PaymentCommand::FailRefund {
        payment: "P1".into(),
        reason: "card closed".into(),
    };

    // Nothing pending: refused, nothing changes.
    let before = e.order(&id).unwrap();
    for step in [fail_capture(), fail_refund()] {
        let err = e.pay(&id, step, &ctx()).unwrap_err();
        assert_eq!(err.code(), "PAYMENT_INVALID_STATE", "{err}");
    }
    assert_eq!(
        e.pay(
            &id,
            PaymentCommand::FailRefund {
                payment: "P9".into(),
                reason: "x".into()
            },
            &ctx()
        )
        .unwrap_err()
        .code(),
        "PAYMENT_UNKNOWN"
    );
    assert_eq!(e.order(&id).unwrap(), before);

    // A capture refused, then asked again and taken.
    e.pay(&id, capture(&whole), &ctx()).unwrap();
    let o = e.pay(&id, fail_capture(), &ctx()).unwrap();
    assert!(o.payments[0].capture_pending.is_zero());
    assert_eq!(o.payment_status(), PaymentStatus::Authorised);
    e.pay(&id, capture(&whole), &ctx()).unwrap();
    let o = e.pay(&id, confirm_capture("c1", &whole), &ctx()).unwrap();
    assert_eq!(o.payment_status(), PaymentStatus::Paid);

    // A refund of 30 settled for 10 only: the other 20 are released.
    e.pay(
        &id,
        PaymentCommand::Refund {
            payment: "P1".into(),
            amount: money("30"),
        },
        &ctx(),
    )
    .unwrap();
    e.pay(
        &id,
        PaymentCommand::ConfirmRefund {
            payment: "P1".into(),
            provider_ref: "r1".into(),
            amount: money("10"),
        },
        &ctx(),
    )
    .unwrap();
    let stuck = e.order(&id).unwrap();
    assert_eq!(stuck.payments[0].refund_pending, money("20"));
    // While pending, those 20 cannot be given back twice.
    let rest = total.checked_sub(&money("10")).unwrap();
    assert_eq!(
        e.record_refund(&id, rest, &ctx()).unwrap_err().code(),
        "ORDER_REFUND_EXCEEDS_PAID"
    );
    let o = e.pay(&id, fail_refund(), &ctx()).unwrap();
    assert!(o.payments[0].refund_pending.is_zero());
    assert_eq!(o.amount_refunded, money("10"));
    // Now everything not refunded can be given back, here recorded outside.
    let o = e.record_refund(&id, rest, &ctx()).unwrap();
    assert_eq!(o.amount_refunded, total);

    let history = e.order_history(&id).unwrap();
    let released: Vec<(String, String)> = history
        .iter()
        .filter_map(|r| match &r.event {
            OrderEvent::PaymentCaptureFailed(f) | OrderEvent::PaymentRefundFailed(f) => {
                Some((r.event.topic().to_string(), f.amount.amount().to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        released,
        [
            ("payment.capture_failed".to_string(), whole.clone()),
            ("payment.refund_failed".to_string(), "20.00".to_string()),
        ]
    );
    // The events read back as they were written.
    let json = serde_json::to_value(&history[history.len() - 2].event).unwrap();
    assert_eq!(json["type"], "payment_refund_failed");
    assert_eq!(json["reason"], "card closed");
}
