//! Returns end to end: an order with discounts, several tax rates and shipping goes
//! through partial returns over several RMAs (label, transit, partial receipt,
//! inspection per unit), a refund through the provider, store credit spent on a later
//! order, a rejected out-of-window request overridden by a person and resolved as an
//! exchange; every refund checked to the minor unit, the ledger (restocked,
//! quarantined, written off), payment status, notifications and the timeline. Bad
//! input gets typed errors and changes nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::Duration;
use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineConfig, NotificationConfig};
use ordersmith::ids::{ChannelId, CustomerId, LocationId, OrderId};
use ordersmith::notify::{Locale, NotificationChannel};
use ordersmith::order::{
    Actor, NewLine, NewOrder, Order, PaymentCommand, PaymentStatus, ShippingLine, TaxLine,
};
use ordersmith::pii::{Customer, Redacted};
use ordersmith::returns::{
    ExchangeLine, ExchangeReservation, InspectionOutcome, RefundLeg, Resolution, ResolutionRequest,
    ReturnEvent, ReturnPolicy, ReturnReason, RmaStatus,
};
use ordersmith::stock::{Location, LocationKind, MovementKind, StockCommand, StockPolicy};

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn ist() -> LocationId {
    LocationId::parse("IST").unwrap()
}

fn policy() -> ReturnPolicy {
    let mut p = ReturnPolicy {
        window_days: 30,
        restocking_fee_rate: dec("0.10"),
        ..ReturnPolicy::default()
    };
    p.non_returnable.insert(variant("GIFT-CARD"));
    p
}

fn engine_with(
    policy: ReturnPolicy,
) -> (
    Engine,
    std::sync::Arc<ordersmith::ports::memory::FixedClock>,
) {
    let t = test_engine();
    let engine = t.engine.clone().with_config(EngineConfig {
        notifications: Some(NotificationConfig {
            channels: vec![NotificationChannel::Email],
            ..NotificationConfig::default()
        }),
        returns: policy,
        ..EngineConfig::default()
    });
    let mut setup = vec![StockCommand::AddLocation {
        location: Location::new(ist(), "Istanbul", 1, "TR-34", LocationKind::Warehouse),
    }];
    for sku in ["TEE", "MUG", "BOOK", "BOOK-HC", "GIFT-CARD"] {
        setup.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
        setup.push(StockCommand::Receive {
            variant: variant(sku),
            location: ist(),
            quantity: 10,
            reference: None,
        });
    }
    engine.stock_batch(setup).unwrap();
    (engine, t.clock)
}

fn customer(id: Option<&str>) -> Customer {
    Customer {
        id: id.map(|i| CustomerId::parse(i).unwrap()),
        name: Redacted::new("Ayşe Yılmaz".to_string()),
        email: Some(Redacted::new("ayse@example.com".to_string())),
        phone: None,
        locale: Some("tr-TR".into()),
    }
}

/// Prices include tax (Turkish retail): TEE 3 × 10.00 with a 10.00 discount at 20 %,
/// MUG 2 × 50.00 at 10 %, BOOK 1 × 30.00 at 1 %, GIFT-CARD 1 × 20.00 untaxed,
/// shipping 14.00 at 20 %. Total 30 + 100 + 30 + 20 − 10 + 14 = 184.00.
fn order_of(customer_id: Option<&str>) -> NewOrder {
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        vec![
            NewLine::new(variant("TEE"), 3, money("10.00"))
                .with_tax("KDV", dec("0.20"))
                .with_discount(Some("TEN"), money("10.00")),
            NewLine::new(variant("MUG"), 2, money("50.00")).with_tax("KDV", dec("0.10")),
            NewLine::new(variant("BOOK"), 1, money("30.00")).with_tax("KDV", dec("0.01")),
            NewLine::new(variant("GIFT-CARD"), 1, money("20.00")),
        ],
    );
    new.taxes_included = true;
    new.external_ref = Some("WEB-1001".into());
    new.customer = Some(customer(customer_id));
    new.shipping_lines.push(ShippingLine {
        title: "Kargo".into(),
        price: money("14.00"),
        tax_lines: vec![TaxLine {
            name: "KDV".into(),
            rate: dec("0.20"),
        }],
    });
    new
}

/// Places, confirms, pays through a provider (authorised and captured in full), ships
/// and delivers everything.
fn delivered_paid_order(engine: &Engine, customer_id: Option<&str>) -> Order {
    let o = engine.place_order(order_of(customer_id), &ctx()).unwrap();
    let id = o.id.clone();
    engine.confirm_order(&id, &ctx()).unwrap();
    let total = o.totals().unwrap().total;
    assert_eq!(total, money("184.00"));
    for step in [
        PaymentCommand::Authorise {
            provider: "iyzico".into(),
            method: Some("card".into()),
            amount: total,
        },
        PaymentCommand::ConfirmAuthorisation {
            payment: "P1".into(),
            provider_ref: "auth-1".into(),
            amount: total,
        },
        PaymentCommand::Capture {
            payment: "P1".into(),
            amount: total,
        },
        PaymentCommand::ConfirmCapture {
            payment: "P1".into(),
            provider_ref: "cap-1".into(),
            amount: total,
        },
    ] {
        engine.pay(&id, step, &ctx()).unwrap();
    }
    let all = vec![lq("L1", 3), lq("L2", 2), lq("L3", 1), lq("L4", 1)];
    engine.record_shipment(&id, all.clone(), &ctx()).unwrap();
    let o = engine.record_delivery(&id, all, &ctx()).unwrap();
    assert_eq!(o.payment_status(), PaymentStatus::Paid);
    o
}

fn refunded_total(order: &Order, rma: &str) -> String {
    match &order.rma(rma).unwrap().resolution {
        Some(r) => r.breakdown().total.to_string(),
        None => panic!("{rma} is not resolved"),
    }
}

fn confirm_refunds(engine: &Engine, id: &OrderId, tag: &str) -> Order {
    let o = engine.order(id).unwrap();
    let p = &o.payments[0];
    if p.refund_pending.is_zero() {
        return o;
    }
    engine
        .pay(
            id,
            PaymentCommand::ConfirmRefund {
                payment: "P1".into(),
                provider_ref: format!("ref-{tag}"),
                amount: p.refund_pending,
            },
            &ctx(),
        )
        .unwrap()
}

fn balance(engine: &Engine, sku: &str) -> ordersmith::stock::Balance {
    engine
        .with_stock(|l| l.balance(&variant(sku), &ist()))
        .unwrap()
}

#[test]
fn returns_over_several_rmas_refund_to_the_minor_unit_and_feed_the_ledger() {
    let (engine, clock) = engine_with(policy());
    // The shop invoices: every refund below must issue its credit note.
    let engine = engine
        .with_invoicing(ordersmith::invoice::InvoiceConfig::new(
            ordersmith::invoice::Seller {
                name: "Çay & Kahve Ticaret A.Ş.".into(),
                vat_id: None,
                tax_id: Some("1234567890".into()),
                address_lines: vec!["Bağdat Caddesi 100".into()],
                city: "İstanbul".into(),
                postal_code: "34728".into(),
                country: "TR".into(),
                email: None,
            },
        ))
        .unwrap();
    let o = delivered_paid_order(&engine, Some("cust-1"));
    let id = o.id.clone();
    let invoice = engine.issue_invoice(&id, None, &ctx()).unwrap();
    let tee_before = balance(&engine, "TEE");
    assert_eq!(tee_before.on_hand, 7);

    // R1: one TEE, defective: the shop pays the label, refunds the shipping share, no
    // fee. Label, transit, receipt, inspection, refund through the provider, close.
    let o = engine
        .request_return(
            &id,
            vec![ask("L1", 1, ReturnReason::Defective)],
            Some("the seam came apart".into()),
            vec![],
            &CommandContext::by(Actor::Customer),
        )
        .unwrap();
    let r1 = last_rma(&o);
    assert_eq!(r1, "R1");
    assert_eq!(o.rma(&r1).unwrap().status, RmaStatus::Approved);
    engine
        .request_return_label(&id, &r1, "yurtici-standard".into(), &ctx())
        .unwrap();
    engine
        .record_return_label(&id, &r1, "yurtici".into(), "YK123".into(), &ctx())
        .unwrap();
    // The host confirming the same label twice changes nothing.
    let v = engine.order(&id).unwrap().version;
    let again = engine
        .record_return_label(&id, &r1, "yurtici".into(), "YK123".into(), &ctx())
        .unwrap();
    assert_eq!(again.version, v);
    engine
        .execute_return(
            &id,
            ordersmith::returns::ReturnCommand::MarkInTransit { rma: r1.clone() },
            &ctx(),
        )
        .unwrap();
    engine
        .receive_return(&id, &r1, ist(), vec![lq("L1", 1)], &ctx())
        .unwrap();
    engine
        .inspect_return(
            &id,
            &r1,
            vec![inspected("L1", InspectionOutcome::Resellable, 1)],
            &ctx(),
        )
        .unwrap();
    let value = engine.return_value(&id, &r1).unwrap();
    // 6.67 for the first TEE (paid after its discount share, tax included) + its
    // 14.00 / 7 = 2.00 of shipping.
    assert_eq!(value.lines[0].paid, money("6.67"));
    assert_eq!(value.lines[0].shipping, money("2.00"));
    assert_eq!(value.lines[0].restocking_fee, money("0.00"));
    assert_eq!(value.lines[0].tax, money("1.11"));
    let o = engine
        .resolve_return(&id, &r1, ResolutionRequest::Refund, &ctx())
        .unwrap();
    assert_eq!(refunded_total(&o, &r1), "8.67 TRY");
    match &o.rma(&r1).unwrap().resolution {
        Some(Resolution::Refund { refunds, .. }) => assert_eq!(
            refunds,
            &vec![RefundLeg::Provider {
                payment: "P1".into(),
                amount: money("8.67")
            }]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(o.payments[0].refund_pending, money("8.67"));
    let o = confirm_refunds(&engine, &id, "r1");
    assert_eq!(o.amount_refunded, money("8.67"));
    assert_eq!(o.payment_status(), PaymentStatus::PartiallyRefunded);
    let o = engine.close_return(&id, &r1, &ctx()).unwrap();
    assert_eq!(o.rma(&r1).unwrap().status, RmaStatus::Closed);
    assert_eq!(balance(&engine, "TEE").on_hand, 8, "restocked");

    // R2: the other two TEEs, damaged; they arrive in two parcels; one is kept in
    // quarantine, one written off.
    let o = engine
        .request_return(
            &id,
            vec![ask("L1", 2, ReturnReason::Damaged)],
            None,
            vec![],
            &ctx(),
        )
        .unwrap();
    let r2 = last_rma(&o);
    let o = engine
        .receive_return(&id, &r2, ist(), vec![lq("L1", 1)], &ctx())
        .unwrap();
    assert_eq!(o.rma(&r2).unwrap().status, RmaStatus::PartiallyReceived);
    engine
        .receive_return(&id, &r2, ist(), vec![lq("L1", 1)], &ctx())
        .unwrap();
    let o = engine
        .inspect_return(
            &id,
            &r2,
            vec![
                inspected("L1", InspectionOutcome::Quarantine, 1),
                inspected("L1", InspectionOutcome::WriteOff, 1),
            ],
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.rma(&r2).unwrap().status, RmaStatus::Inspected);
    let o = engine
        .resolve_return(&id, &r2, ResolutionRequest::Refund, &ctx())
        .unwrap();
    // 6.67 + 6.66 + 2 × 2.00 of shipping: the three TEEs refund exactly the 20.00 paid.
    assert_eq!(refunded_total(&o, &r2), "17.33 TRY");
    let paid: Vec<String> = o
        .rmas
        .iter()
        .flat_map(|r| r.resolution.as_ref().unwrap().breakdown().lines.clone())
        .map(|l| l.paid.to_string())
        .collect();
    // R1 took the first unit's share; R2's two units are the second and third.
    assert_eq!(paid, vec!["6.67 TRY", "13.33 TRY"]);
    confirm_refunds(&engine, &id, "r2");
    let tee = balance(&engine, "TEE");
    assert_eq!(tee.on_hand, 8, "damaged units never reach the shelf");
    assert_eq!(tee.quarantined, 1);
    let written_off = engine
        .with_stock(|l| {
            l.journal()
                .iter()
                .filter(|m| {
                    m.variant == variant("TEE") && matches!(m.kind, MovementKind::WriteOff { .. })
                })
                .map(|m| m.quantity)
                .sum::<u32>()
        })
        .unwrap();
    assert_eq!(written_off, 1);
    let restocks = engine
        .with_stock(|l| {
            l.journal()
                .iter()
                .filter(|m| matches!(m.kind, MovementKind::ReturnRestock))
                .count()
        })
        .unwrap();
    assert_eq!(restocks, 1);

    // R3: one MUG, changed mind: the customer pays return shipping, a 10 % restocking
    // fee is kept, no shipping share; settled as store credit.
    let o = engine
        .request_return(
            &id,
            vec![ask("L2", 1, ReturnReason::ChangedMind)],
            None,
            vec![],
            &ctx(),
        )
        .unwrap();
    let r3 = last_rma(&o);
    assert_eq!(
        o.rma(&r3).unwrap().return_shipping,
        ordersmith::returns::ShippingPayer::Customer
    );
    engine
        .receive_return(&id, &r3, ist(), vec![lq("L2", 1)], &ctx())
        .unwrap();
    engine
        .inspect_return(
            &id,
            &r3,
            vec![inspected("L2", InspectionOutcome::Resellable, 1)],
            &ctx(),
        )
        .unwrap();
    let o = engine
        .resolve_return(&id, &r3, ResolutionRequest::StoreCredit, &ctx())
        .unwrap();
    // MUG: 100.00 incl. 10 % → net 90.91, fee 9.09 over two units → 4.55 for the first.
    let b = o
        .rma(&r3)
        .unwrap()
        .resolution
        .as_ref()
        .unwrap()
        .breakdown()
        .clone();
    assert_eq!(b.lines[0].paid, money("50.00"));
    assert_eq!(b.lines[0].restocking_fee, money("4.55"));
    assert_eq!(b.lines[0].shipping, money("0.00"));
    assert_eq!(b.total, money("45.45"));
    let credit = engine
        .store_credit(&CustomerId::parse("cust-1").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(credit.balance, money("45.45"));
    assert_eq!(
        o.amount_refunded,
        money("26.00"),
        "store credit is not a refund"
    );
    assert_eq!(balance(&engine, "MUG").on_hand, 9);

    // R4: the BOOK, 40 days after delivery: rejected by the window; a person overrides;
    // exchanged for the hardcover at 35.00 after inspection (the customer pays 2.50
    // more: the book is worth 30.00 + 2.00 of shipping, not as described).
    clock.advance(Duration::days(40));
    let o = engine
        .request_return(
            &id,
            vec![ask("L3", 1, ReturnReason::NotAsDescribed)],
            Some("wanted the hardcover".into()),
            vec![ExchangeLine {
                variant: variant("BOOK-HC"),
                quantity: 1,
                unit_price: money("34.50"),
                title: Some("Hardcover".into()),
                tax_lines: vec![],
            }],
            &ctx(),
        )
        .unwrap();
    let r4 = last_rma(&o);
    let rma = o.rma(&r4).unwrap();
    assert_eq!(rma.status, RmaStatus::Rejected);
    let failure = rma.policy_failure.as_ref().unwrap();
    assert_eq!(failure.rule, "return_window");
    assert_eq!(
        failure.detail,
        "delivered 40 days ago; the window is 30 days"
    );
    let o = engine
        .override_return(
            &id,
            &r4,
            "loyal customer, goodwill".into(),
            &CommandContext::by(Actor::User("mehmet".into())),
        )
        .unwrap();
    let rma = o.rma(&r4).unwrap();
    assert_eq!(rma.status, RmaStatus::Approved);
    assert_eq!(
        rma.override_reason.as_deref(),
        Some("loyal customer, goodwill")
    );
    assert_eq!(rma.policy_failure.as_ref().unwrap().rule, "return_window");
    assert!(
        rma.replacement_order.is_none(),
        "reserved after inspection by policy"
    );
    engine
        .receive_return(&id, &r4, ist(), vec![lq("L3", 1)], &ctx())
        .unwrap();
    engine
        .inspect_return(
            &id,
            &r4,
            vec![inspected("L3", InspectionOutcome::Resellable, 1)],
            &ctx(),
        )
        .unwrap();
    let o = engine
        .resolve_return(&id, &r4, ResolutionRequest::Exchange, &ctx())
        .unwrap();
    let Some(Resolution::Exchange {
        replacement_order,
        replacement_total,
        applied,
        to_charge,
        refunds,
        breakdown,
    }) = o.rma(&r4).unwrap().resolution.clone()
    else {
        panic!("not an exchange")
    };
    assert_eq!(breakdown.total, money("32.00"));
    assert_eq!(replacement_total, money("34.50"));
    assert_eq!(applied, money("32.00"));
    assert_eq!(to_charge, money("2.50"));
    assert!(refunds.is_empty());
    let replacement = engine.order(&replacement_order).unwrap();
    assert!(replacement.tags.contains("exchange"));
    assert_eq!(replacement.amount_paid, money("32.00"));
    assert_eq!(replacement.balance_due().unwrap(), money("2.50"));
    assert_eq!(replacement.payment_status(), PaymentStatus::PartiallyPaid);
    assert_eq!(
        replacement.lines[0].fulfilment.allocated, 1,
        "the replacement's stock is reserved"
    );
    assert_eq!(balance(&engine, "BOOK-HC").reserved, 1);
    assert_eq!(balance(&engine, "BOOK").on_hand, 10);

    // The GIFT-CARD is not returnable at all (the rule is named, no override yet).
    let o = engine
        .request_return(
            &id,
            vec![ask("L4", 1, ReturnReason::Other)],
            None,
            vec![],
            &ctx(),
        )
        .unwrap();
    let r5 = o.rmas.last().unwrap();
    assert_eq!(r5.status, RmaStatus::Rejected);
    assert_eq!(r5.policy_failure.as_ref().unwrap().rule, "non_returnable");

    // Money: the provider refunded 8.67 + 17.33; 45.45 went to store credit; the rest
    // of the 184.00 stays paid.
    let o = engine.order(&id).unwrap();
    assert_eq!(o.amount_refunded, money("26.00"));
    assert_eq!(o.payments[0].refunded, money("26.00"));
    assert_eq!(o.payment_status(), PaymentStatus::PartiallyRefunded);
    for r in &o.rmas {
        for l in &r.lines {
            assert!(l.restocked + l.quarantined + l.written_off <= l.received);
        }
    }

    // A later order spends the store credit; the account never goes below zero.
    let mut later = order_of(Some("cust-1"));
    later.external_ref = Some("WEB-1002".into());
    let later = engine.place_order(later, &ctx()).unwrap();
    let too_much = engine
        .spend_store_credit(&later.id, money("45.46"), &ctx())
        .unwrap_err();
    assert_eq!(too_much.code(), "RETURNS_CREDIT_INSUFFICIENT");
    assert_eq!(engine.order(&later.id).unwrap().version, later.version);
    let paid = engine
        .spend_store_credit(&later.id, money("45.45"), &ctx())
        .unwrap();
    assert_eq!(paid.amount_paid, money("45.45"));
    assert_eq!(paid.payment_status(), PaymentStatus::PartiallyPaid);
    let credit = engine
        .store_credit(&CustomerId::parse("cust-1").unwrap())
        .unwrap()
        .unwrap();
    assert!(credit.balance.is_zero());
    assert_eq!(credit.entries.len(), 2);
    assert_eq!(
        engine
            .spend_store_credit(&later.id, money("0.01"), &ctx())
            .unwrap_err()
            .code(),
        "RETURNS_CREDIT_INSUFFICIENT"
    );

    // Notifications: each stage of each return once, in Turkish, with dedupe keys.
    let effects = engine.pending_effects(10_000).unwrap();
    let templates: Vec<(String, String)> = effects
        .iter()
        .filter(|e| e.topic == "notification.requested" && e.aggregate_id == id.as_str())
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.payload_json).unwrap();
            let n = &v["event"]["notification"];
            (
                n["key"].as_str().unwrap().to_string(),
                n["dedupe_key"].as_str().unwrap().to_string(),
            )
        })
        .filter(|(k, _)| k.starts_with("return_"))
        .collect();
    let count = |k: &str| templates.iter().filter(|(t, _)| t == k).count();
    assert_eq!(count("return_requested"), 5);
    assert_eq!(count("return_approved"), 4, "R1, R2, R3 and R4's override");
    assert_eq!(count("return_rejected"), 2);
    assert_eq!(count("return_label_ready"), 1);
    assert_eq!(count("return_in_transit"), 1);
    assert_eq!(
        count("return_received"),
        5,
        "one per receipt, partial ones included"
    );
    assert_eq!(count("return_inspected"), 4);
    assert_eq!(count("return_resolved"), 4);
    assert_eq!(count("return_closed"), 1);
    let mut keys: Vec<&String> = templates.iter().map(|(_, k)| k).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), templates.len(), "dedupe keys are unique");
    // The label request is an effect for the host.
    assert_eq!(
        effects
            .iter()
            .filter(|e| e.topic == "return.label_requested")
            .count(),
        1
    );

    // The order's timeline shows each return's stages in Turkish.
    let timeline = engine.timeline(&id, Locale::Tr).unwrap();
    assert_eq!(timeline.returns.len(), 5);
    let first = &timeline.returns[0];
    assert_eq!(first.status, "Kapatıldı");
    assert!(first.steps.iter().all(|s| s.done), "{:?}", first.steps);
    assert_eq!(timeline.returns[4].steps[1].label, "İade reddedildi");

    // Analytics inputs on the events.
    let history = engine.order_history(&id).unwrap();
    let facts: Vec<_> = history
        .iter()
        .filter_map(|r| match &r.event {
            ordersmith::order::OrderEvent::Return(e) => match e.as_ref() {
                ReturnEvent::Requested { facts, .. } => Some(facts.clone()),
                _ => None,
            },
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(facts.len(), 5);
    assert_eq!(facts[3].days_from_delivery, Some(40));
    assert_eq!(facts[3].reason, ReturnReason::NotAsDescribed);
    assert_eq!(facts[3].variant, variant("BOOK"));
    assert_eq!(facts[3].channel.as_str(), "web");
    let outcomes: Vec<String> = history
        .iter()
        .filter_map(|r| match &r.event {
            ordersmith::order::OrderEvent::Return(e) => match e.as_ref() {
                ReturnEvent::Resolved { outcomes, .. } => Some(outcomes[0].outcome.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes,
        vec!["refund", "refund", "store_credit", "exchange"]
    );

    // Every refund paid back above (through the provider or recorded) issued a credit
    // note against the order's invoice in the same commit: numbered 1, 2, 3, ... in
    // their series without a gap. Store credit and the exchange pay no money back, but
    // the goods came back all the same: they credit what they gave in kind (the store
    // credit, the value applied to the replacement), so the notes credit exactly what
    // was refunded and given back in kind.
    let docs = engine.order_documents(&id).unwrap();
    let notes: Vec<_> = docs
        .iter()
        .filter(|d| d.kind == ordersmith::invoice::DocumentKind::CreditNote)
        .collect();
    assert!(!notes.is_empty());
    for (k, note) in notes.iter().enumerate() {
        assert_eq!(note.sequence, k as u64 + 1, "{}", note.number);
        assert_eq!(
            note.corrects.as_ref().map(|c| c.number.as_str()),
            Some(invoice.number.as_str())
        );
    }
    let credited: rust_decimal::Decimal = notes.iter().map(|n| n.totals.grand_total.amount()).sum();
    let order = engine.order(&id).unwrap();
    let in_kind: rust_decimal::Decimal = order
        .rmas
        .iter()
        .filter_map(|r| match &r.resolution {
            Some(Resolution::StoreCredit { amount, .. }) => Some(amount.amount()),
            Some(Resolution::Exchange { applied, .. }) => Some(applied.amount()),
            _ => None,
        })
        .sum();
    assert!(in_kind > rust_decimal::Decimal::ZERO);
    assert_eq!(credited, order.amount_refunded.amount() + in_kind);
}

#[test]
fn returning_everything_in_several_rmas_refunds_exactly_what_was_captured() {
    let mut p = policy();
    p.restocking_fee_rate = dec("0");
    p.non_returnable.clear();
    let (engine, _) = engine_with(p);
    let o = delivered_paid_order(&engine, Some("cust-2"));
    let id = o.id.clone();
    let splits: [&[(&str, u32)]; 3] = [
        &[("L1", 2), ("L3", 1)],
        &[("L2", 1), ("L4", 1)],
        &[("L1", 1), ("L2", 1)],
    ];
    for split in splits {
        let lines = split
            .iter()
            .map(|(l, q)| ask(l, *q, ReturnReason::Defective))
            .collect();
        let o = engine
            .request_return(&id, lines, None, vec![], &ctx())
            .unwrap();
        let r = last_rma(&o);
        let got: Vec<_> = split.iter().map(|(l, q)| lq(l, *q)).collect();
        engine.receive_return(&id, &r, ist(), got, &ctx()).unwrap();
        let units = split
            .iter()
            .map(|(l, q)| inspected(l, InspectionOutcome::Resellable, *q))
            .collect();
        engine.inspect_return(&id, &r, units, &ctx()).unwrap();
        engine
            .resolve_return(&id, &r, ResolutionRequest::Refund, &ctx())
            .unwrap();
        confirm_refunds(&engine, &id, &r);
    }
    let o = engine.order(&id).unwrap();
    assert_eq!(o.amount_refunded, money("184.00"));
    assert_eq!(o.payment_status(), PaymentStatus::Refunded);
    // Nothing is left to return.
    let err = engine
        .request_return(
            &id,
            vec![ask("L1", 1, ReturnReason::Defective)],
            None,
            vec![],
            &ctx(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "RETURNS_NOT_RETURNABLE");
}

#[test]
fn an_advance_exchange_reserves_the_replacement_at_approval_and_refunds_a_cheaper_one() {
    let p = ReturnPolicy {
        exchange_reservation: ExchangeReservation::Advance,
        ..policy()
    };
    let (engine, _) = engine_with(p);
    let o = delivered_paid_order(&engine, Some("cust-3"));
    let id = o.id.clone();
    let o = engine
        .request_return(
            &id,
            vec![ask("L2", 1, ReturnReason::WrongSize)],
            None,
            vec![ExchangeLine {
                variant: variant("TEE"),
                quantity: 1,
                unit_price: money("40.00"),
                title: None,
                tax_lines: vec![],
            }],
            &ctx(),
        )
        .unwrap();
    let r = last_rma(&o);
    let replacement = o.rma(&r).unwrap().replacement_order.clone().unwrap();
    let rep = engine.order(&replacement).unwrap();
    assert_eq!(
        rep.lines[0].fulfilment.allocated, 1,
        "held before the return arrives"
    );
    assert_eq!(
        rep.lines[0].tax_lines[0].rate,
        dec("0.10"),
        "taxes of the returned line"
    );
    engine
        .receive_return(&id, &r, ist(), vec![lq("L2", 1)], &ctx())
        .unwrap();
    engine
        .inspect_return(
            &id,
            &r,
            vec![inspected("L2", InspectionOutcome::Resellable, 1)],
            &ctx(),
        )
        .unwrap();
    let o = engine
        .resolve_return(&id, &r, ResolutionRequest::Exchange, &ctx())
        .unwrap();
    // The MUG is worth 50.00 − 4.55 fee (wrong size: the customer's reason); the
    // replacement costs 40.00, so 5.45 goes back through the provider.
    let Some(Resolution::Exchange {
        applied,
        to_charge,
        refunds,
        ..
    }) = o.rma(&r).unwrap().resolution.clone()
    else {
        panic!()
    };
    assert_eq!(applied, money("40.00"));
    assert!(to_charge.is_zero());
    assert_eq!(
        refunds,
        vec![RefundLeg::Provider {
            payment: "P1".into(),
            amount: money("5.45")
        }]
    );
    let rep = engine.order(&replacement).unwrap();
    assert_eq!(rep.payment_status(), PaymentStatus::Paid);
}

// An advance replacement is reserved before the return arrives; when the exchange
// will not happen (the return rejected, or closed without a resolution) the
// replacement is cancelled and its stock released in the same change, unless it
// already shipped (its price is then still due from the customer).
#[test]
fn an_advance_replacement_is_cancelled_when_its_exchange_will_not_happen() {
    let p = ReturnPolicy {
        exchange_reservation: ExchangeReservation::Advance,
        ..policy()
    };
    let (engine, _) = engine_with(p);
    let tee = || ExchangeLine {
        variant: variant("TEE"),
        quantity: 1,
        unit_price: money("40.00"),
        title: None,
        tax_lines: vec![],
    };
    let o = delivered_paid_order(&engine, Some("cust-4"));
    let id = o.id.clone();
    let tees_free = || balance(&engine, "TEE").on_hand - balance(&engine, "TEE").reserved;
    let free = tees_free();
    let ask_exchange = |line: &str| {
        let o = engine
            .request_return(
                &id,
                vec![ask(line, 1, ReturnReason::WrongSize)],
                None,
                vec![tee()],
                &ctx(),
            )
            .unwrap();
        let r = last_rma(&o);
        let replacement = o.rma(&r).unwrap().replacement_order.clone().unwrap();
        (r, replacement)
    };

    // Rejected before anything came back.
    let (r, replacement) = ask_exchange("L2");
    assert_eq!(tees_free(), free - 1, "held for the replacement");
    engine
        .reject_return(&id, &r, "no longer eligible".into(), &ctx())
        .unwrap();
    let rep = engine.order(&replacement).unwrap();
    assert_eq!(rep.status, ordersmith::order::OrderStatus::Cancelled);
    assert_eq!(tees_free(), free, "released");

    // Closed before anything came back.
    let (r, replacement) = ask_exchange("L2");
    engine.close_return(&id, &r, &ctx()).unwrap();
    assert_eq!(
        engine.order(&replacement).unwrap().status,
        ordersmith::order::OrderStatus::Cancelled
    );
    assert_eq!(tees_free(), free);

    // Shipped ahead, then the return closed: the replacement stays, its price due.
    let (r, replacement) = ask_exchange("L2");
    engine
        .record_shipment(&replacement, vec![lq("L1", 1)], &ctx())
        .unwrap();
    engine.close_return(&id, &r, &ctx()).unwrap();
    let rep = engine.order(&replacement).unwrap();
    assert_ne!(rep.status, ordersmith::order::OrderStatus::Cancelled);
    assert_eq!(rep.balance_due().unwrap(), money("40.00"));
}

#[test]
fn bad_input_gets_typed_errors_and_changes_nothing() {
    let (engine, _) = engine_with(policy());
    let o = delivered_paid_order(&engine, None);
    let id = o.id.clone();
    let version = engine.order(&id).unwrap().version;
    let stock_before = engine.with_stock(|l| l.journal().len()).unwrap();
    let unchanged = |engine: &Engine| {
        assert_eq!(engine.order(&id).unwrap().version, version);
        assert_eq!(
            engine.with_stock(|l| l.journal().len()).unwrap(),
            stock_before
        );
    };
    let code = |r: Result<Order, ordersmith::engine::EngineError>| r.unwrap_err().code();
    // More than delivered.
    assert_eq!(
        code(engine.request_return(
            &id,
            vec![ask("L1", 4, ReturnReason::Defective)],
            None,
            vec![],
            &ctx()
        )),
        "RETURNS_NOT_RETURNABLE"
    );
    // A line that does not exist, zero units, a line twice, no lines.
    assert_eq!(
        code(engine.request_return(
            &id,
            vec![ask("L9", 1, ReturnReason::Defective)],
            None,
            vec![],
            &ctx()
        )),
        "RETURNS_UNKNOWN_LINE"
    );
    assert_eq!(
        code(engine.request_return(
            &id,
            vec![ask("L1", 0, ReturnReason::Defective)],
            None,
            vec![],
            &ctx()
        )),
        "RETURNS_NOT_RETURNABLE"
    );
    assert_eq!(
        code(engine.request_return(
            &id,
            vec![
                ask("L1", 1, ReturnReason::Defective),
                ask("L1", 1, ReturnReason::Other)
            ],
            None,
            vec![],
            &ctx()
        )),
        "RETURNS_INVALID_REQUEST"
    );
    assert_eq!(
        code(engine.request_return(&id, vec![], None, vec![], &ctx())),
        "RETURNS_INVALID_REQUEST"
    );
    assert_eq!(
        code(engine.request_return(
            &id,
            vec![ask("L1", 1, ReturnReason::Other)],
            Some("\u{7}".into()),
            vec![],
            &ctx()
        )),
        "RETURNS_INVALID_TEXT"
    );
    // Steps on an RMA that does not exist.
    assert_eq!(
        code(engine.receive_return(&id, "R7", ist(), vec![lq("L1", 1)], &ctx())),
        "RETURNS_UNKNOWN_RMA"
    );
    unchanged(&engine);

    // A return for a line shipped but not delivered.
    let mut other = order_of(None);
    other.external_ref = Some("WEB-2002".into());
    let other = engine.place_order(other, &ctx()).unwrap();
    engine.confirm_order(&other.id, &ctx()).unwrap();
    let shipped = engine
        .record_shipment(&other.id, vec![lq("L1", 3)], &ctx())
        .unwrap();
    let err = engine
        .request_return(
            &other.id,
            vec![ask("L1", 1, ReturnReason::Damaged)],
            None,
            vec![],
            &ctx(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "RETURNS_NOT_RETURNABLE");
    assert_eq!(engine.order(&other.id).unwrap().version, shipped.version);

    // Receiving, inspecting more than is open; resolving before inspection; store
    // credit without a customer account.
    let o = engine
        .request_return(
            &id,
            vec![ask("L1", 2, ReturnReason::Damaged)],
            None,
            vec![],
            &ctx(),
        )
        .unwrap();
    let r = last_rma(&o);
    let version = o.version;
    assert_eq!(
        code(engine.receive_return(&id, &r, ist(), vec![lq("L1", 3)], &ctx())),
        "RETURNS_QUANTITY_EXCEEDED"
    );
    assert_eq!(
        code(engine.receive_return(&id, &r, ist(), vec![lq("L2", 1)], &ctx())),
        "RETURNS_UNKNOWN_LINE"
    );
    assert_eq!(
        code(engine.inspect_return(
            &id,
            &r,
            vec![inspected("L1", InspectionOutcome::Resellable, 1)],
            &ctx()
        )),
        "RETURNS_INVALID_STATE"
    );
    assert_eq!(engine.order(&id).unwrap().version, version);
    engine
        .receive_return(&id, &r, ist(), vec![lq("L1", 1)], &ctx())
        .unwrap();
    let received = engine.order(&id).unwrap().version;
    assert_eq!(
        code(engine.inspect_return(
            &id,
            &r,
            vec![inspected("L1", InspectionOutcome::Resellable, 2)],
            &ctx()
        )),
        "RETURNS_QUANTITY_EXCEEDED"
    );
    assert_eq!(
        code(engine.resolve_return(&id, &r, ResolutionRequest::Refund, &ctx())),
        "RETURNS_INVALID_STATE"
    );
    assert_eq!(
        code(engine.close_return(&id, &r, &ctx())),
        "RETURNS_INVALID_STATE"
    );
    engine
        .inspect_return(
            &id,
            &r,
            vec![inspected("L1", InspectionOutcome::Resellable, 1)],
            &ctx(),
        )
        .unwrap();
    let inspected_version = engine.order(&id).unwrap().version;
    assert!(inspected_version > received);
    assert_eq!(
        code(engine.resolve_return(&id, &r, ResolutionRequest::StoreCredit, &ctx())),
        "RETURNS_NO_CUSTOMER_ACCOUNT"
    );
    assert_eq!(
        code(engine.resolve_return(&id, &r, ResolutionRequest::Exchange, &ctx())),
        "RETURNS_INVALID_REQUEST"
    );
    assert_eq!(engine.order(&id).unwrap().version, inspected_version);
}

#[test]
fn a_refund_never_exceeds_what_was_paid() {
    let (engine, _) = engine_with(policy());
    // Delivered but never paid.
    let o = engine.place_order(order_of(None), &ctx()).unwrap();
    let id = o.id.clone();
    engine.confirm_order(&id, &ctx()).unwrap();
    engine
        .record_shipment(&id, vec![lq("L1", 3)], &ctx())
        .unwrap();
    engine
        .record_delivery(&id, vec![lq("L1", 3)], &ctx())
        .unwrap();
    let r = returned(&engine, &id, "L1", 1, ReturnReason::Defective);
    let o = engine.order(&id).unwrap();
    let err = engine
        .resolve_return(&id, &r, ResolutionRequest::Refund, &ctx())
        .unwrap_err();
    assert_eq!(err.code(), "RETURNS_REFUND_EXCEEDS_PAID");
    assert_eq!(
        err.to_string(),
        "refund of 8.67 TRY exceeds the 0.00 TRY paid and not refunded"
    );
    assert_eq!(engine.order(&id).unwrap().version, o.version);
    // Nothing to give back: the inspected return is closed, not left open for good.
    let o = engine.close_return(&id, &r, &ctx()).unwrap();
    assert_eq!(o.rma(&r).unwrap().status, RmaStatus::Closed);
    assert!(o.rma(&r).unwrap().resolution.is_none());
}

// A goodwill refund given before the goods came back leaves less to give back than
// the return is worth: its resolution is refused, and the shop closes it (or refunds
// the rest by hand) instead of leaving it inspected for good.
#[test]
fn an_inspected_return_worth_more_than_is_left_to_refund_can_be_closed() {
    let (engine, _) = engine_with(policy());
    let o = delivered_paid_order(&engine, Some("cust-5"));
    let id = o.id.clone();
    engine.record_refund(&id, money("100.00"), &ctx()).unwrap();
    // Everything returnable comes back (the gift card is not).
    let all = vec![
        ask("L1", 3, ReturnReason::ChangedMind),
        ask("L2", 2, ReturnReason::ChangedMind),
        ask("L3", 1, ReturnReason::ChangedMind),
    ];
    let o = engine
        .request_return(&id, all, None, vec![], &ctx())
        .unwrap();
    let r = last_rma(&o);
    let units = [("L1", 3), ("L2", 2), ("L3", 1)];
    engine
        .receive_return(
            &id,
            &r,
            ist(),
            units.iter().map(|(l, q)| lq(l, *q)).collect(),
            &ctx(),
        )
        .unwrap();
    let inspections = units
        .iter()
        .map(|(l, q)| inspected(l, InspectionOutcome::Resellable, *q))
        .collect();
    let o = engine.inspect_return(&id, &r, inspections, &ctx()).unwrap();
    for how in [ResolutionRequest::Refund, ResolutionRequest::StoreCredit] {
        let err = engine.resolve_return(&id, &r, how, &ctx()).unwrap_err();
        assert_eq!(err.code(), "RETURNS_REFUND_EXCEEDS_PAID", "{err}");
    }
    assert_eq!(engine.order(&id).unwrap(), o, "nothing changed");
    let o = engine.close_return(&id, &r, &ctx()).unwrap();
    assert_eq!(o.rma(&r).unwrap().status, RmaStatus::Closed);
    // What is left is still the shop's to give back, by hand.
    let o = engine.record_refund(&id, money("84.00"), &ctx()).unwrap();
    assert_eq!(o.amount_refunded, money("184.00"));
    // A closed return is closed: no resolution afterwards.
    let err = engine
        .resolve_return(&id, &r, ResolutionRequest::Refund, &ctx())
        .unwrap_err();
    assert_eq!(err.code(), "RETURNS_INVALID_STATE", "{err}");
}

#[test]
fn a_retried_return_step_with_its_key_happens_once() {
    let (engine, _) = engine_with(policy());
    let o = delivered_paid_order(&engine, Some("cust-4"));
    let id = o.id.clone();
    let keyed = CommandContext::system().with_idempotency_key("ret-1");
    let first = engine
        .request_return(
            &id,
            vec![ask("L1", 1, ReturnReason::Damaged)],
            None,
            vec![],
            &keyed,
        )
        .unwrap();
    let again = engine
        .request_return(
            &id,
            vec![ask("L1", 1, ReturnReason::Damaged)],
            None,
            vec![],
            &keyed,
        )
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(engine.order(&id).unwrap().rmas.len(), 1);
    let other = engine
        .request_return(
            &id,
            vec![ask("L1", 2, ReturnReason::Damaged)],
            None,
            vec![],
            &keyed,
        )
        .unwrap_err();
    assert_eq!(other.code(), "ENGINE_IDEMPOTENCY_MISMATCH");
}

/// A unit comes back once, whichever return or record claims it: a rejection
/// overridden after another return asked for the same unit is refused, a return
/// recorded outside the returns cannot take a unit an open return awaits, and no
/// receipt counts a unit that is not out with the customer. Each refusal is typed and
/// changes nothing; the returns left open can still finish.
#[test]
fn a_unit_comes_back_once_whichever_return_or_record_claims_it() {
    let (engine, _clock) = engine_with(policy());
    let o = delivered_paid_order(&engine, None);
    let id = o.id.clone();
    let request = |line: &str, quantity: u32| {
        let o = engine
            .request_return(
                &id,
                vec![ask(line, quantity, ReturnReason::ChangedMind)],
                None,
                vec![],
                &ctx(),
            )
            .unwrap();
        last_rma(&o)
    };

    // The book's one unit: R1 rejected by hand, R2 asks for it again and is approved.
    let r1 = request("L3", 1);
    engine
        .reject_return(&id, &r1, "no receipt".into(), &ctx())
        .unwrap();
    let r2 = request("L3", 1);
    assert_eq!(
        engine.order(&id).unwrap().rma(&r2).unwrap().status,
        RmaStatus::Approved
    );
    let before = engine.order(&id).unwrap();
    let err = engine
        .override_return(&id, &r1, "found the receipt".into(), &ctx())
        .unwrap_err();
    assert_eq!(err.code(), "RETURNS_NOT_RETURNABLE", "{err}");
    assert_eq!(engine.order(&id).unwrap(), before, "nothing changed");

    // A mug awaited by R3: only the other mug can be recorded as returned outside it.
    let r3 = request("L2", 1);
    let before = engine.order(&id).unwrap();
    let err = engine
        .record_return(&id, vec![lq("L2", 2)], &ctx())
        .unwrap_err();
    assert_eq!(err.code(), "ORDER_QUANTITY_EXCEEDED", "{err}");
    assert_eq!(engine.order(&id).unwrap(), before, "nothing changed");
    engine
        .record_return(&id, vec![lq("L2", 1)], &ctx())
        .unwrap();
    // R3's mug arrives; then nothing of the line is out, nothing more can come back.
    let o = engine
        .receive_return(&id, &r3, ist(), vec![lq("L2", 1)], &ctx())
        .unwrap();
    let mug = o.line(&line_id("L2")).unwrap();
    assert_eq!((mug.fulfilment.shipped, mug.fulfilment.returned), (2, 2));
    let err = engine
        .record_return(&id, vec![lq("L2", 1)], &ctx())
        .unwrap_err();
    assert_eq!(err.code(), "ORDER_QUANTITY_EXCEEDED", "{err}");

    // R2 still finishes with the book.
    let o = engine
        .receive_return(&id, &r2, ist(), vec![lq("L3", 1)], &ctx())
        .unwrap();
    let book = o.line(&line_id("L3")).unwrap();
    assert_eq!((book.fulfilment.shipped, book.fulfilment.returned), (1, 1));
}

/// Store credit gives back at most what was paid, as a refund does, and what it gave
/// counts: a refund recorded afterwards cannot pay the same value out a second time.
#[test]
fn store_credit_gives_back_only_what_was_paid_and_counts_against_later_refunds() {
    let (engine, _) = engine_with(policy());
    let returned_mug = |id: &OrderId| returned(&engine, id, "L2", 1, ReturnReason::ChangedMind);

    // Delivered, never paid: nothing to credit.
    let mut unpaid = order_of(Some("cust-7"));
    unpaid.external_ref = Some("WEB-2001".into());
    let o = engine.place_order(unpaid, &ctx()).unwrap();
    let id = o.id.clone();
    engine.confirm_order(&id, &ctx()).unwrap();
    engine
        .record_shipment(&id, vec![lq("L2", 2)], &ctx())
        .unwrap();
    engine
        .record_delivery(&id, vec![lq("L2", 2)], &ctx())
        .unwrap();
    let r = returned_mug(&id);
    let before = engine.order(&id).unwrap();
    let err = engine
        .resolve_return(&id, &r, ResolutionRequest::StoreCredit, &ctx())
        .unwrap_err();
    assert_eq!(err.code(), "RETURNS_REFUND_EXCEEDS_PAID", "{err}");
    assert_eq!(engine.order(&id).unwrap(), before, "nothing changed");
    assert!(engine
        .store_credit(&CustomerId::parse("cust-7").unwrap())
        .unwrap()
        .is_none());

    // Paid in full: the mug credited, then the whole total cannot be refunded too.
    let o = delivered_paid_order(&engine, Some("cust-8"));
    let id = o.id.clone();
    let r = returned_mug(&id);
    let o = engine
        .resolve_return(&id, &r, ResolutionRequest::StoreCredit, &ctx())
        .unwrap();
    let credited = o
        .rma(&r)
        .unwrap()
        .resolution
        .as_ref()
        .unwrap()
        .breakdown()
        .total;
    assert!(!credited.is_zero());
    let err = engine
        .record_refund(&id, money("184.00"), &ctx())
        .unwrap_err();
    assert_eq!(err.code(), "ORDER_REFUND_EXCEEDS_PAID", "{err}");
    let rest = money("184.00").checked_sub(&credited).unwrap();
    let o = engine.record_refund(&id, rest, &ctx()).unwrap();
    assert_eq!(o.amount_refunded, rest);
}

// Paying from store credit is a payment like any other: a `payment_received` rule
// confirms the paid order, exactly as it does for `record_payment`.
#[test]
fn store_credit_spent_on_an_order_runs_its_payment_rules() {
    let (engine, _) = engine_with(policy());
    let o = delivered_paid_order(&engine, Some("cust-9"));
    let r = returned(&engine, &o.id, "L2", 1, ReturnReason::ChangedMind);
    engine
        .resolve_return(&o.id, &r, ResolutionRequest::StoreCredit, &ctx())
        .unwrap();
    let rules = engine
        .load_rules(
            r#"{"rules": [{"name": "paid-confirm", "trigger": "payment_received",
                "actions": [{"type": "auto_confirm"}]}]}"#,
        )
        .unwrap();
    let engine = engine.with_rules(Some(rules), None);
    let mut later = order_of(Some("cust-9"));
    later.external_ref = Some("WEB-9001".into());
    let later = engine.place_order(later, &ctx()).unwrap();
    assert_eq!(later.status, ordersmith::order::OrderStatus::Pending);
    let paid = engine
        .spend_store_credit(&later.id, money("10.00"), &ctx())
        .unwrap();
    assert_eq!(
        paid.status,
        ordersmith::order::OrderStatus::Confirmed,
        "the rule confirmed it"
    );
    assert_eq!(paid.amount_paid, money("10.00"));
    let fired = engine
        .order_history(&later.id)
        .unwrap()
        .into_iter()
        .filter(|r| matches!(&r.event, ordersmith::order::OrderEvent::RuleApplied(a) if a.rule == "paid-confirm"))
        .count();
    assert_eq!(fired, 1);
    // The confirmation reserved the order's stock, as a confirmation does.
    assert!(paid.lines.iter().all(|l| !l.allocations.is_empty()));
}

// Store credit that paid an order comes back as credit when the order's goods come
// back, never as money: a customer who was given credit instead of cash cannot turn it
// into cash by buying something and returning it. Credit is given back after provider
// payments and before money recorded outside ordersmith, and the account and the
// order's refundable amount both say so.
#[test]
fn store_credit_that_paid_an_order_comes_back_as_credit() {
    let (engine, _) = engine_with(policy());
    let balance = |engine: &Engine| {
        engine
            .store_credit(&CustomerId::parse("cust-3").unwrap())
            .unwrap()
            .unwrap()
            .balance
    };
    // Credit from an earlier return.
    let first = delivered_paid_order(&engine, Some("cust-3"));
    let r = returned(&engine, &first.id, "L2", 2, ReturnReason::ChangedMind);
    engine
        .resolve_return(&first.id, &r, ResolutionRequest::StoreCredit, &ctx())
        .unwrap();
    let credit = balance(&engine);
    assert!(credit.amount() > dec("20"), "{credit}");

    // A mug of 10.00: 6.00 paid from credit, 4.00 in cash at the till.
    let mug = |reference: &str| {
        let mut new = NewOrder::new(
            ChannelId::parse("web").unwrap(),
            at(20, 10),
            try_(),
            vec![NewLine::new(variant("MUG"), 1, money("10.00"))],
        );
        new.external_ref = Some(reference.into());
        new.customer = Some(customer(Some("cust-3")));
        new
    };
    let deliver = |id: &OrderId| {
        engine
            .record_shipment(id, vec![lq("L1", 1)], &ctx())
            .unwrap();
        engine
            .record_delivery(id, vec![lq("L1", 1)], &ctx())
            .unwrap();
    };
    let o = engine.place_order(mug("WEB-3001"), &ctx()).unwrap();
    engine.confirm_order(&o.id, &ctx()).unwrap();
    engine
        .spend_store_credit(&o.id, money("6.00"), &ctx())
        .unwrap();
    engine.record_payment(&o.id, money("4.00"), &ctx()).unwrap();
    deliver(&o.id);
    let r = returned(&engine, &o.id, "L1", 1, ReturnReason::ChangedMind);
    let resolved = engine
        .resolve_return(&o.id, &r, ResolutionRequest::Refund, &ctx())
        .unwrap();
    // Worth 9.00 (a 10 % restocking fee): 6.00 back as credit, 3.00 as money.
    let Some(Resolution::Refund { refunds, .. }) = &resolved.rma(&r).unwrap().resolution else {
        panic!("a refund");
    };
    assert_eq!(
        refunds,
        &vec![
            RefundLeg::StoreCredit {
                customer: CustomerId::parse("cust-3").unwrap(),
                amount: money("6.00")
            },
            RefundLeg::Recorded {
                amount: money("3.00")
            },
        ]
    );
    assert_eq!(resolved.amount_refunded, money("3.00"));
    assert_eq!(balance(&engine), credit, "the 6.00 spent is back");
    // Nothing more than the 1.00 left can be refunded.
    assert_eq!(
        engine
            .record_refund(&o.id, money("1.01"), &ctx())
            .unwrap_err()
            .code(),
        "ORDER_REFUND_EXCEEDS_PAID"
    );

    // Paid wholly from credit: the whole value goes back as credit, none as money.
    let o = engine.place_order(mug("WEB-3002"), &ctx()).unwrap();
    engine.confirm_order(&o.id, &ctx()).unwrap();
    engine
        .spend_store_credit(&o.id, money("10.00"), &ctx())
        .unwrap();
    deliver(&o.id);
    let r = returned(&engine, &o.id, "L1", 1, ReturnReason::ChangedMind);
    let resolved = engine
        .resolve_return(&o.id, &r, ResolutionRequest::Refund, &ctx())
        .unwrap();
    assert!(resolved.amount_refunded.is_zero(), "no money went out");
    assert_eq!(
        balance(&engine),
        credit.checked_sub(&money("1.00")).unwrap(),
        "9.00 of the 10.00 back (the fee kept)"
    );
}
