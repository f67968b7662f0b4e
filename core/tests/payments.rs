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
use ordersmith::order::{Order, PaymentCommand, PaymentStatus};
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
