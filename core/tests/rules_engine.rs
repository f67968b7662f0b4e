//! Rules on the engine: triggers fire, actions go through the normal commands, the
//! order records which rule did what and why, chains are bounded, dry runs change
//! nothing, shadow mode only records, and the shipped rule sets do their jobs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use chrono::{Duration, NaiveTime, TimeZone, Utc};
use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineConfig, NotificationConfig, RulesConfig};
use ordersmith::fulfilment::{CarrierEvent, Label, ParcelSize, ShippingCalendar};
use ordersmith::ids::{ChannelId, CustomerId, LocationId};
use ordersmith::money::{Currency, Money};
use ordersmith::notify::NotificationChannel;
use ordersmith::order::{
    Actor, FulfilmentCommand, HoldReason, NewLine, NewOrder, Order, OrderEvent, OrderStatus,
    PaymentCommand, ShippingLine,
};
use ordersmith::pii::{Address, Customer, Redacted};
use ordersmith::ports::OrderQuery;
use ordersmith::rules::{ConflictKind, Outcome, RuleSet, Trigger};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn loc(id: &str) -> LocationId {
    LocationId::parse(id).unwrap()
}

fn example(file: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../examples/rules/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A store (ank-store, preferred by priority) and the main warehouse (ist-main), with
/// SOFA-3S, MUG, SHIRT-M and TEA in both.
fn shop(engine: &Engine, units: u32) {
    let mut cmds = vec![
        StockCommand::AddLocation {
            location: Location::new(
                loc("ank-store"),
                "Ankara store",
                1,
                "TR-06",
                LocationKind::Store,
            ),
        },
        StockCommand::AddLocation {
            location: Location::new(
                loc("ist-main"),
                "Istanbul main warehouse",
                2,
                "TR-34",
                LocationKind::Warehouse,
            ),
        },
    ];
    for sku in ["SOFA-3S", "MUG", "SHIRT-M", "TEA"] {
        cmds.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
        for l in ["ank-store", "ist-main"] {
            cmds.push(StockCommand::Receive {
                variant: variant(sku),
                location: loc(l),
                quantity: units,
                reference: None,
            });
        }
    }
    engine.stock_batch(cmds).unwrap();
}

/// A customer's order of `mugs` mugs at 100.00, confirmed, paid and shipped whole.
fn paid_and_shipped(engine: &Engine, mugs: u32) -> Order {
    let o = engine
        .place_order(order("TR", "c1", &[("MUG", mugs, "100")], "TRY"), &ctx())
        .unwrap();
    engine.confirm_order(&o.id, &ctx()).unwrap();
    engine.mark_paid(&o.id, &ctx()).unwrap();
    engine
        .record_shipment(
            &o.id,
            ordersmith::engine::lines(&[("L1", mugs)]).unwrap(),
            &ctx(),
        )
        .unwrap()
}

/// An engine with a stocked shop and `rules` live.
fn with_rules(t: &TestEngine, config: EngineConfig, rules: &str) -> Engine {
    let engine = t.engine.clone().with_config(config);
    shop(&engine, 10);
    let set = engine.load_rules(rules).unwrap();
    engine.with_rules(Some(set), None)
}

fn order(country: &str, customer: &str, lines: &[(&str, u32, &str)], currency: &str) -> NewOrder {
    let c = Currency::parse(currency).unwrap();
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        c,
        lines
            .iter()
            .map(|(sku, q, price)| NewLine::new(variant(sku), *q, Money::parse(price, c).unwrap()))
            .collect(),
    );
    new.customer = Some(Customer {
        id: Some(CustomerId::parse(customer).unwrap()),
        name: Redacted::new("Ayşe Yılmaz".into()),
        email: Some(Redacted::new(format!("{customer}@example.com"))),
        phone: None,
        locale: None,
    });
    new.shipping_address = Some(Address {
        country: country.into(),
        ..Address::default()
    });
    new
}

fn rule_events(engine: &Engine, order: &Order) -> Vec<(Actor, OrderEvent)> {
    engine
        .order_history(&order.id)
        .unwrap()
        .into_iter()
        .filter(|r| matches!(r.actor, Actor::Rule(_)))
        .map(|r| (r.actor, r.event))
        .collect()
}

fn applied(engine: &Engine, order: &Order) -> Vec<ordersmith::rules::RuleApplied> {
    engine
        .order_history(&order.id)
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.event {
            OrderEvent::RuleApplied(a) => Some(*a),
            _ => None,
        })
        .collect()
}

/// The store's whole state (orders, histories, idempotency, stock log, outbox).
fn dump(t: &TestEngine) -> Vec<u8> {
    let mut bytes = Vec::new();
    ordersmith::ports::dump::export(t.store.as_ref(), t.store.as_ref(), &mut bytes).unwrap();
    bytes
}

fn replayed(engine: &Engine, order: &Order) -> Order {
    Order::replay(engine.order_history(&order.id).unwrap().iter()).unwrap()
}

#[test]
fn fraud_review_holds_a_first_big_order_to_a_risky_country_and_says_why() {
    let t = test_engine();
    let engine = with_rules(&t, EngineConfig::default(), &example("fraud_review.json"));
    let risky = engine
        .place_order(order("NG", "c1", &[("SOFA-3S", 1, "6000")], "TRY"), &ctx())
        .unwrap();
    assert_eq!(risky.status, OrderStatus::OnHold);
    assert_eq!(risky.hold.as_ref().unwrap().reason, HoldReason::FraudReview);
    assert!(risky.tags.contains("fraud-review"));
    assert_eq!(
        risky.automation.review.as_deref(),
        Some("first order over the threshold to a high-risk country")
    );
    let fired = applied(&engine, &risky);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].rule, "fraud-review-first-big-risky-order");
    assert_eq!(fired[0].trigger, Trigger::OrderPlaced);
    assert_eq!(
        fired[0].because,
        "customer_order_count (0) == 0 and country (NG) in [NG, IR, VE, KP] and (total (6000.00 TRY) > 5000.00 TRY or total (6000.00 TRY) > 150.00 EUR)"
    );
    assert!(fired[0]
        .actions
        .iter()
        .all(|a| a.outcome == Outcome::Applied));
    // The hold and the tag are recorded as the rule's doing; the history replays.
    let by_rule = rule_events(&engine, &risky);
    let actor = Actor::Rule("fraud-review-first-big-risky-order".into());
    assert!(by_rule.iter().all(|(a, _)| a == &actor));
    let topics: Vec<&str> = by_rule.iter().map(|(_, e)| e.topic()).collect();
    assert_eq!(topics, ["rule.applied", "order.held", "order.tagged"]);
    assert_eq!(replayed(&engine, &risky), engine.order(&risky.id).unwrap());

    // The same customer's second order, a domestic one, and a small one are left alone.
    let second = engine
        .place_order(order("NG", "c1", &[("SOFA-3S", 1, "7000")], "TRY"), &ctx())
        .unwrap();
    let domestic = engine
        .place_order(order("TR", "c2", &[("SOFA-3S", 1, "6000")], "TRY"), &ctx())
        .unwrap();
    let small = engine
        .place_order(order("NG", "c3", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    for o in [&second, &domestic, &small] {
        assert_eq!(o.status, OrderStatus::Pending, "{}", o.id);
        assert!(applied(&engine, o).is_empty());
    }
    // A euro order is compared with the euro threshold, never converted.
    let euro = engine
        .place_order(order("IR", "c4", &[("MUG", 1, "200")], "EUR"), &ctx())
        .unwrap();
    assert_eq!(euro.status, OrderStatus::OnHold);
}

#[test]
fn bulky_orders_reserve_at_the_main_warehouse_and_nowhere_else() {
    let t = test_engine();
    let config = EngineConfig {
        rules: RulesConfig {
            weights_grams: BTreeMap::from([
                ("SOFA-3S".to_string(), 45_000),
                ("MUG".to_string(), 400),
                ("SHIRT-M".to_string(), 250),
                ("TEA".to_string(), 10_000),
            ]),
            ..RulesConfig::default()
        },
        ..EngineConfig::default()
    };
    let engine = with_rules(&t, config, &example("bulky_to_main_warehouse.json"));
    // Sofa: by SKU. Tea × 3: 30 kg, by weight. Mug: neither, the store is preferred.
    let sofa = engine
        .place_order(
            order(
                "TR",
                "c1",
                &[("SOFA-3S", 1, "20000"), ("MUG", 1, "100")],
                "TRY",
            ),
            &ctx(),
        )
        .unwrap();
    let tea = engine
        .place_order(order("TR", "c2", &[("TEA", 3, "100")], "TRY"), &ctx())
        .unwrap();
    let mug = engine
        .place_order(order("TR", "c3", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    assert!(sofa.tags.contains("bulky") && tea.tags.contains("bulky"));
    assert!(!mug.tags.contains("bulky"));
    let plan = engine.sourcing_plan(&sofa.id).unwrap().unwrap();
    assert!(
        plan.explanation
            .iter()
            .any(|e| e == "a rule routes line(s) L1, L2 to location ist-main"),
        "{:?}",
        plan.explanation
    );
    for (o, expected) in [(&sofa, "ist-main"), (&tea, "ist-main"), (&mug, "ank-store")] {
        let confirmed = engine.confirm_order(&o.id, &ctx()).unwrap();
        for line in &confirmed.lines {
            assert_eq!(line.allocations.len(), 1);
            assert_eq!(line.allocations[0].location, loc(expected), "{}", o.id);
        }
        assert_eq!(replayed(&engine, &confirmed), confirmed);
    }
    // Routed stock runs out: the line is short there, never silently sourced from the
    // store (the default shortage policy refuses the confirmation; nothing changes).
    let big = engine
        .place_order(
            order("TR", "c4", &[("SOFA-3S", 10, "20000")], "TRY"),
            &ctx(),
        )
        .unwrap();
    let err = engine.confirm_order(&big.id, &ctx()).unwrap_err();
    assert_eq!(err.code(), "STOCK_INSUFFICIENT");
    assert_eq!(engine.order(&big.id).unwrap().status, OrderStatus::Pending);
}

// A variant sold ahead of stock (backorder policy) reserves what no location holds at
// the location its route allows, not at the first location by priority: a routed sofa
// backordered at the store would be promised from a place that never ships sofas.
#[test]
fn a_routed_line_reserves_ahead_of_stock_only_where_its_route_allows() {
    let t = test_engine();
    let config = EngineConfig {
        rules: RulesConfig {
            weights_grams: BTreeMap::from([("SOFA-3S".to_string(), 45_000)]),
            ..RulesConfig::default()
        },
        ..EngineConfig::default()
    };
    let engine = with_rules(&t, config, &example("bulky_to_main_warehouse.json"));
    engine
        .stock(StockCommand::SetPolicy {
            variant: variant("SOFA-3S"),
            policy: StockPolicy::Backorder { limit: None },
        })
        .unwrap();
    // 12 sofas for 10 at each location: the main warehouse's 10 and 2 ahead of stock,
    // all at the main warehouse; the store's sofas are not touched.
    let big = engine
        .place_order(
            order("TR", "c4", &[("SOFA-3S", 12, "20000")], "TRY"),
            &ctx(),
        )
        .unwrap();
    let confirmed = engine.confirm_order(&big.id, &ctx()).unwrap();
    let at: Vec<(String, u32)> = confirmed.lines[0]
        .allocations
        .iter()
        .map(|a| (a.location.to_string(), a.quantity))
        .collect();
    assert!(at.iter().all(|(l, _)| l == "ist-main"), "{at:?}");
    assert_eq!(at.iter().map(|(_, q)| q).sum::<u32>(), 12);
    let reserved = |l: &str| {
        engine
            .with_stock(|s| s.balance(&variant("SOFA-3S"), &loc(l)).reserved)
            .unwrap()
    };
    assert_eq!((reserved("ist-main"), reserved("ank-store")), (12, 0));
    assert_eq!(replayed(&engine, &confirmed), confirmed);
}

#[test]
fn express_for_orders_that_would_miss_their_promise() {
    let t = test_engine();
    let calendar = ShippingCalendar::new(
        chrono_tz::Europe::Istanbul,
        NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
        1,
    )
    .unwrap();
    let config = EngineConfig {
        shipping_calendar: Some(calendar),
        rules: RulesConfig {
            carrier_services: [("ups".to_string(), "express".to_string())].into(),
            ..RulesConfig::default()
        },
        ..EngineConfig::default()
    };
    let engine = with_rules(&t, config, &example("express_for_promise.json"));
    // Placed Friday 13:00 Istanbul: ship by Saturday 14:00 Istanbul (11:00 UTC).
    let o = engine
        .place_order(order("TR", "c1", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    let o = engine.confirm_order(&o.id, &ctx()).unwrap();
    assert!(
        o.automation.carrier.is_none(),
        "confirmed at 14:00 Istanbul, before 15:00"
    );
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap());
    assert!(engine
        .run_ship_by_risk_rules(Duration::hours(2))
        .unwrap()
        .is_empty());
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 0).unwrap());
    assert_eq!(
        engine.run_ship_by_risk_rules(Duration::hours(2)).unwrap(),
        vec![o.id.clone()]
    );
    let o = engine.order(&o.id).unwrap();
    let carrier = o.automation.carrier.clone().unwrap();
    assert_eq!(
        (carrier.carrier.as_str(), carrier.service.as_str()),
        ("ups", "express")
    );
    assert_eq!(o.automation.priority, Some(100));
    assert!(o.tags.contains("expedited"));
    // Once per order: the sweep again fires nothing.
    assert!(engine
        .run_ship_by_risk_rules(Duration::hours(2))
        .unwrap()
        .is_empty());
    assert_eq!(replayed(&engine, &o), o);

    // A next-day order confirmed after the cut-off gets express at once.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 23, 13, 30, 0).unwrap()); // 16:30 Istanbul
    let mut late = order("TR", "c2", &[("MUG", 1, "100")], "TRY");
    late.shipping_lines.push(ShippingLine {
        title: "Next day".into(),
        price: money("30"),
        tax_lines: vec![],
    });
    let late = engine.place_order(late, &ctx()).unwrap();
    let late = engine.confirm_order(&late.id, &ctx()).unwrap();
    assert_eq!(late.automation.priority, Some(50));
    assert_eq!(
        applied(&engine, &late)[0].because,
        "shipping_service (Next day) == Next day and local_time (16:30) between [15:00, 23:59)"
    );
}

#[test]
fn auto_confirm_reserves_through_the_ledger_or_is_refused_and_recorded() {
    let t = test_engine();
    let rules = r#"{"rules": [{"name": "confirm-small", "trigger": "order_placed",
        "when": {"field": "line_count", "op": "<=", "value": 2},
        "actions": [{"type": "auto_confirm"}, {"type": "set_priority", "priority": 5}]}]}"#;
    let engine = with_rules(&t, EngineConfig::default(), rules);
    let o = engine
        .place_order(order("TR", "c1", &[("MUG", 3, "100")], "TRY"), &ctx())
        .unwrap();
    assert_eq!(o.status, OrderStatus::Confirmed);
    assert_eq!(o.lines[0].fulfilment.allocated, 3);
    let reserved = engine
        .with_stock(|s| {
            s.level(&variant("MUG"), &loc("ank-store"))
                .unwrap()
                .reserved
        })
        .unwrap();
    assert_eq!(reserved, 3);
    // More than the shop has: the confirmation is refused by the ledger, the order
    // stays pending, the place itself succeeds, and the refusal is on the record.
    let big = engine
        .place_order(order("TR", "c2", &[("MUG", 50, "100")], "TRY"), &ctx())
        .unwrap();
    assert_eq!(big.status, OrderStatus::Pending);
    let fired = applied(&engine, &big);
    match &fired[0].actions[0].outcome {
        Outcome::Refused { code, .. } => assert_eq!(code, "STOCK_INSUFFICIENT"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fired[0].actions[1].outcome, Outcome::Applied);
    assert_eq!(big.automation.priority, Some(5));
    assert_eq!(replayed(&engine, &big), big);
}

#[test]
fn the_state_machine_still_guards_rule_actions() {
    let t = test_engine();
    // Returned units of a completed order: holding a completed order is refused.
    let rules = r#"{"rules": [{"name": "returns-need-a-look", "trigger": "return_requested",
        "actions": [{"type": "hold", "reason": "other", "note": "returned"},
                    {"type": "require_review", "reason": "check the returned units"},
                    {"type": "tag", "add": ["returned"]}]}]}"#;
    let engine = with_rules(&t, EngineConfig::default(), rules);
    let o = paid_and_shipped(&engine, 1);
    engine.complete_order(&o.id, &ctx()).unwrap();
    let o = engine
        .record_return(
            &o.id,
            ordersmith::engine::lines(&[("L1", 1)]).unwrap(),
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.status, OrderStatus::Completed);
    let fired = applied(&engine, &o);
    assert_eq!(fired[0].trigger, Trigger::ReturnRequested);
    match &fired[0].actions[0].outcome {
        Outcome::Refused { code, message } => {
            assert_eq!(code, "ORDER_INVALID_TRANSITION");
            assert!(message.contains("completed"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        o.automation.review.as_deref(),
        Some("check the returned units")
    );
    assert!(o.tags.contains("returned"));
}

// A return through the RMA workflow is asked for once: `return_requested` fires at the
// request, not again when the goods arrive (the receipt records the returned units on
// the order, as a return recorded directly does, but asks for nothing new).
#[test]
fn an_rma_fires_return_requested_once_at_its_request() {
    let t = test_engine();
    let rules = r#"{"rules": [{"name": "returns-need-a-look", "trigger": "return_requested",
        "actions": [{"type": "tag", "add": ["returned"]}]}]}"#;
    let engine = with_rules(&t, EngineConfig::default(), rules);
    let o = paid_and_shipped(&engine, 2);
    engine
        .record_delivery(
            &o.id,
            ordersmith::engine::lines(&[("L1", 2)]).unwrap(),
            &ctx(),
        )
        .unwrap();
    let asked = engine
        .request_return(
            &o.id,
            vec![ask("L1", 1, ordersmith::returns::ReturnReason::WrongSize)],
            None,
            vec![],
            &ctx(),
        )
        .unwrap();
    let fired = |o: &Order| {
        applied(&engine, o)
            .iter()
            .filter(|a| a.trigger == Trigger::ReturnRequested)
            .count()
    };
    assert_eq!(fired(&asked), 1, "the request fires the rule");
    assert!(asked.tags.contains("returned"));
    let received = engine
        .receive_return(
            &o.id,
            &last_rma(&asked),
            loc("ist-main"),
            vec![lq("L1", 1)],
            &ctx(),
        )
        .unwrap();
    assert_eq!(received.lines[0].fulfilment.returned, 1);
    assert_eq!(fired(&received), 1, "the receipt asks for nothing new");
    // A return recorded directly (a channel's returned units) is its own request.
    let direct = engine
        .record_return(
            &o.id,
            ordersmith::engine::lines(&[("L1", 1)]).unwrap(),
            &ctx(),
        )
        .unwrap();
    assert_eq!(fired(&direct), 2);
}

#[test]
fn payment_failed_and_stock_low_trigger_rules() {
    let t = test_engine();
    let rules = r#"{"rules": [
        {"name": "hold-failed-payments", "trigger": "payment_failed",
         "actions": [{"type": "hold", "reason": "payment", "note": "card declined"}]},
        {"name": "restock-alert", "trigger": "stock_low",
         "when": {"field": "sku", "op": "==", "value": "TEA"},
         "actions": [{"type": "tag", "add": ["low-stock"]}]}
    ]}"#;
    let engine = with_rules(&t, EngineConfig::default(), rules);
    engine
        .stock(StockCommand::SetLowStockThreshold {
            variant: variant("TEA"),
            threshold: Some(15),
        })
        .unwrap();
    let o = engine
        .place_order(order("TR", "c1", &[("TEA", 6, "100")], "TRY"), &ctx())
        .unwrap();
    engine
        .pay(
            &o.id,
            PaymentCommand::Authorise {
                provider: "iyzico".into(),
                method: Some("card".into()),
                amount: money("600"),
            },
            &ctx(),
        )
        .unwrap();
    let o = engine
        .pay(
            &o.id,
            PaymentCommand::FailAuthorisation {
                payment: "P1".into(),
                reason: "insufficient funds".into(),
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(o.hold.as_ref().unwrap().reason, HoldReason::Payment);
    // 20 TEA on hand; reserving 6 leaves 14, under the threshold of 15.
    engine.release_hold(&o.id, &ctx()).unwrap();
    let o = engine.confirm_order(&o.id, &ctx()).unwrap();
    assert!(o.tags.contains("low-stock"), "{:?}", o.tags);
    let triggers: Vec<Trigger> = applied(&engine, &o).iter().map(|a| a.trigger).collect();
    assert_eq!(triggers, [Trigger::PaymentFailed, Trigger::StockLow]);
}

#[test]
fn a_parcel_exception_triggers_rules() {
    let t = test_engine();
    let rules = r#"{"rules": [{"name": "watch-exceptions", "trigger": "parcel_exception",
        "actions": [{"type": "require_review", "reason": "carrier exception"},
                    {"type": "set_priority", "priority": 20}]}]}"#;
    let engine = with_rules(&t, EngineConfig::default(), rules);
    let o = engine
        .place_order(order("TR", "c1", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    let o = engine.confirm_order(&o.id, &ctx()).unwrap();
    let fo = o.fulfilments[0].id.clone();
    let units = ordersmith::engine::lines(&[("L1", 1)]).unwrap();
    for step in [
        FulfilmentCommand::Pick {
            fulfilment: fo.clone(),
            picked: units.clone(),
            short: vec![],
        },
        FulfilmentCommand::Pack {
            fulfilment: fo.clone(),
            units,
            size: ParcelSize {
                weight_grams: 500,
                length_mm: 100,
                width_mm: 100,
                height_mm: 100,
            },
        },
    ] {
        engine.fulfil(&o.id, step, &ctx()).unwrap();
    }
    let parcel = format!("{fo}-P1");
    engine
        .fulfil(
            &o.id,
            FulfilmentCommand::RecordLabel {
                fulfilment: fo.clone(),
                parcel: parcel.clone(),
                label: Label {
                    carrier: "ups".into(),
                    service: "standard".into(),
                    tracking_number: "1Z999AA10123456784".into(),
                    label_ref: None,
                },
            },
            &ctx(),
        )
        .unwrap();
    let o = engine
        .record_tracking_event(
            &o.id,
            &fo,
            &parcel,
            CarrierEvent::new(at(21, 9), "X", Some("Ankara")).unwrap(),
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.automation.review.as_deref(), Some("carrier exception"));
    assert_eq!(applied(&engine, &o)[0].trigger, Trigger::ParcelException);
}

#[test]
fn reservation_expiry_triggers_rules_in_the_sweep() {
    let t = test_engine();
    let rules = r#"{"rules": [{"name": "expired-first", "trigger": "reservation_expired",
        "actions": [{"type": "set_priority", "priority": 7}, {"type": "tag", "add": ["expired"]}]}]}"#;
    let config = EngineConfig {
        reservation_ttl: Some(chrono::TimeDelta::hours(1)),
        ..EngineConfig::default()
    };
    let engine = with_rules(&t, config, rules);
    let o = engine
        .place_order(order("TR", "c1", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    engine.confirm_order(&o.id, &ctx()).unwrap();
    t.clock.set(at(20, 14));
    let sweep = engine.sweep_expired_reservations().unwrap();
    assert_eq!(sweep.orders.len(), 1);
    let o = engine.order(&o.id).unwrap();
    assert_eq!(o.automation.priority, Some(7));
    assert!(o.tags.contains("expired"));
    let by_rule = rule_events(&engine, &o);
    assert_eq!(by_rule.len(), 3, "{by_rule:?}");
    assert_eq!(replayed(&engine, &o), o);
}

// Expiry and shortfalls raise the same rules whichever entry point moved the stock:
// `stock(Expire)` / `stock_batch` as the sweep does, and an order a loss left short
// (re-sourced and held for what is not found anywhere) fires `order_held`.
#[test]
fn stock_commands_raise_the_rules_of_the_orders_they_change() {
    let t = test_engine();
    let rules = r#"{"rules": [
        {"name": "expired-first", "trigger": "reservation_expired",
         "actions": [{"type": "tag", "add": ["expired"]}]},
        {"name": "short-held", "trigger": "order_held",
         "actions": [{"type": "tag", "add": ["short"]}]}]}"#;
    let config = EngineConfig {
        reservation_ttl: Some(chrono::TimeDelta::hours(1)),
        ..EngineConfig::default()
    };
    let engine = with_rules(&t, config, rules);
    let o = engine
        .place_order(order("TR", "c1", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    engine.confirm_order(&o.id, &ctx()).unwrap();
    t.clock.set(at(20, 14));
    engine.stock(StockCommand::Expire).unwrap();
    let o = engine.order(&o.id).unwrap();
    assert!(o.tags.contains("expired"), "{:?}", o.tags);
    assert_eq!(replayed(&engine, &o), o);

    // Every TEA at both locations lost while a paid order holds one: held, tagged.
    let paid = engine
        .place_order(order("TR", "c2", &[("TEA", 1, "100")], "TRY"), &ctx())
        .unwrap();
    engine.mark_paid(&paid.id, &ctx()).unwrap();
    engine.confirm_order(&paid.id, &ctx()).unwrap();
    let losses = ["ank-store", "ist-main"]
        .into_iter()
        .map(|l| StockCommand::Adjust {
            variant: variant("TEA"),
            location: loc(l),
            delta: -10,
            reason: ordersmith::stock::AdjustmentReason::Loss,
            reference: None,
        })
        .collect();
    engine.stock_batch(losses).unwrap();
    let held = engine.order(&paid.id).unwrap();
    assert_eq!(held.status, OrderStatus::OnHold);
    assert!(held.tags.contains("short"), "{:?}", held.tags);
    assert_eq!(replayed(&engine, &held), held);
}

#[test]
fn a_loop_of_rules_is_bounded_and_reported() {
    let t = test_engine();
    let rules = r#"{"rules": [
        {"name": "hold-new", "trigger": "order_placed", "actions": [{"type": "hold", "reason": "other"}]},
        {"name": "release-held", "trigger": "order_held", "actions": [{"type": "release"}]},
        {"name": "hold-released", "trigger": "hold_released", "actions": [{"type": "hold", "reason": "other"}]}
    ]}"#;
    let engine = with_rules(&t, EngineConfig::default(), rules);
    let o = engine
        .place_order(order("TR", "c1", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    let history = engine.order_history(&o.id).unwrap();
    let stopped: Vec<&OrderEvent> = history
        .iter()
        .map(|r| &r.event)
        .filter(|e| matches!(e, OrderEvent::RuleChainStopped { .. }))
        .collect();
    assert_eq!(
        stopped,
        [&OrderEvent::RuleChainStopped {
            depth: 8,
            triggers: vec![Trigger::HoldReleased]
        }]
    );
    // Depths 0..7 ran: hold, release, hold, ..., release; the next hold did not.
    let depths: Vec<u32> = applied(&engine, &o).iter().map(|a| a.depth).collect();
    assert_eq!(depths, (0..8).collect::<Vec<_>>());
    assert_eq!(o.status, OrderStatus::Pending);
    assert_eq!(replayed(&engine, &o), engine.order(&o.id).unwrap());
    // A smaller bound stops sooner.
    let config = engine.config().clone();
    let engine = engine.with_config(EngineConfig {
        rules: RulesConfig {
            max_chain_depth: 2,
            ..config.rules.clone()
        },
        ..config
    });
    let o = engine
        .place_order(order("TR", "c2", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    assert_eq!(applied(&engine, &o).len(), 2);
}

#[test]
fn priority_order_and_stop_processing() {
    let t = test_engine();
    let rules = r#"{"rules": [
        {"name": "low", "trigger": "order_placed", "priority": 1, "actions": [{"type": "tag", "add": ["low"]}]},
        {"name": "high", "trigger": "order_placed", "priority": 9,
         "when": {"field": "country", "op": "==", "value": "TR"},
         "actions": [{"type": "tag", "add": ["high"]}], "stop_processing": true},
        {"name": "middle", "trigger": "order_placed", "priority": 5, "actions": [{"type": "tag", "add": ["middle"]}]}
    ]}"#;
    let engine = with_rules(&t, EngineConfig::default(), rules);
    let tr = engine
        .place_order(order("TR", "c1", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    let de = engine
        .place_order(order("DE", "c2", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    let names =
        |o: &Order| -> Vec<String> { applied(&engine, o).into_iter().map(|a| a.rule).collect() };
    assert_eq!(names(&tr), ["high"]);
    assert_eq!(names(&de), ["middle", "low"]);
}

#[test]
fn notify_goes_through_the_notification_model_once_per_rule() {
    let t = test_engine();
    let config = EngineConfig {
        notifications: Some(NotificationConfig {
            channels: vec![NotificationChannel::Email],
            tracking_url: None,
            order_url: None,
            action_url: Some("https://shop.example/o/{order_ref}".into()),
        }),
        ..EngineConfig::default()
    };
    let rules = r#"{"rules": [{"name": "tell-on-hold", "trigger": "order_held",
        "actions": [{"type": "notify", "template": "order_on_hold_action_needed"}]}]}"#;
    let engine = with_rules(&t, config, rules);
    let o = engine
        .place_order(order("TR", "c1", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    engine
        .hold_order(&o.id, HoldReason::Other, None, &ctx())
        .unwrap();
    engine.release_hold(&o.id, &ctx()).unwrap();
    let o = engine
        .hold_order(&o.id, HoldReason::Other, None, &ctx())
        .unwrap();
    let keys: Vec<String> = rule_events(&engine, &o)
        .into_iter()
        .filter_map(|(_, e)| match e {
            OrderEvent::NotificationRequested { notification } => {
                Some(notification.dedupe_key().to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        keys,
        [format!(
            "ntf:{}:order_on_hold_action_needed:parcel=rule-tell-on-hold:email",
            o.id
        )]
    );
    let outcomes: Vec<Outcome> = applied(&engine, &o)
        .into_iter()
        .map(|a| a.actions[0].outcome.clone())
        .collect();
    assert_eq!(outcomes, [Outcome::Applied, Outcome::Unchanged]);
    // It reached the outbox for the host to send.
    let pending = engine.pending_effects(100).unwrap();
    assert!(pending.iter().any(|r| r.topic == "notification.requested"
        && r.payload_json.contains("rule-tell-on-hold")
        && r.payload_json.contains("\"rule\",\"id\":\"tell-on-hold\"")));
}

#[test]
fn dry_run_reports_firings_counts_and_conflicts_and_changes_nothing() {
    let t = test_engine();
    let engine = t.engine.clone();
    shop(&engine, 10);
    let a = engine
        .place_order(order("NG", "c1", &[("SOFA-3S", 1, "9000")], "TRY"), &ctx())
        .unwrap();
    let b = engine
        .place_order(order("TR", "c2", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    engine.confirm_order(&b.id, &ctx()).unwrap();
    let candidate = engine
        .load_rules(
            r#"{"rules": [
            {"name": "sofas-ist", "trigger": "order_placed", "when": {"field": "sku", "op": "==", "value": "SOFA-3S"},
             "actions": [{"type": "route_to_location", "location": "ist-main"}]},
            {"name": "big-ank", "trigger": "order_placed",
             "when": {"field": "total", "op": ">", "value": {"amount": "5000", "currency": "TRY"}},
             "actions": [{"type": "route_to_location", "location": "ank-store"}, {"type": "auto_confirm"}]},
            {"name": "risky-hold", "trigger": "order_placed", "when": {"field": "country", "op": "==", "value": "NG"},
             "actions": [{"type": "hold", "reason": "fraud_review"}]},
            {"name": "never", "trigger": "order_placed", "when": {"field": "tag", "op": "==", "value": "vip"},
             "actions": [{"type": "set_priority", "priority": 1}]},
            {"name": "confirmed-priority", "trigger": "order_confirmed", "actions": [{"type": "set_priority", "priority": 3}]}
        ]}"#,
        )
        .unwrap();
    let before = dump(&t);
    let report = engine
        .dry_run_rules(&candidate, &OrderQuery::default())
        .unwrap();
    assert_eq!(dump(&t), before, "a dry run changes nothing");
    assert_eq!(report.orders_evaluated, 2);
    assert_eq!(
        report.counts,
        BTreeMap::from([
            ("big-ank".to_string(), 1),
            ("confirmed-priority".to_string(), 2),
            ("never".to_string(), 0),
            ("risky-hold".to_string(), 1),
            ("sofas-ist".to_string(), 1),
        ])
    );
    let first = report.orders.iter().find(|o| o.order_id == a.id).unwrap();
    let kinds: Vec<(ConflictKind, [String; 2])> = first
        .conflicts
        .iter()
        .map(|c| (c.kind, c.rules.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                ConflictKind::RoutesDiffer,
                ["sofas-ist".to_string(), "big-ank".to_string()]
            ),
            (
                ConflictKind::HoldAndConfirm,
                ["big-ank".to_string(), "risky-hold".to_string()]
            ),
        ]
    );
    assert_eq!(
        first.conflicts[0].detail,
        "line L1 (SOFA-3S): ist-main vs ank-store"
    );
    // The confirmation raised order_confirmed in the chain; the state machine lets a
    // confirmed order be held, so the hold applies after it.
    let rules: Vec<(&str, u32)> = first
        .firings
        .iter()
        .map(|f| (f.rule.as_str(), f.depth))
        .collect();
    assert_eq!(
        rules,
        [
            ("sofas-ist", 0),
            ("big-ank", 0),
            ("risky-hold", 0),
            ("confirmed-priority", 1)
        ]
    );
    assert_eq!(first.firings[2].actions[0].outcome, Outcome::Applied);
    assert_eq!(
        first.changes,
        [
            "status pending -> on_hold",
            "priority -> 3",
            // Both routes cover every line: the later one replaces the earlier.
            "route all lines -> ank-store"
        ]
    );
    // The second order's own history: placed (nothing fires), then confirmed.
    let second = report.orders.iter().find(|o| o.order_id == b.id).unwrap();
    assert_eq!(second.firings.len(), 1);
    assert_eq!(second.firings[0].trigger, Trigger::OrderConfirmed);
    assert_eq!(report.conflicts, 2);
}

#[test]
fn shadow_mode_records_only_differences_and_reports_them() {
    let t = test_engine();
    let engine = t.engine.clone();
    shop(&engine, 10);
    let live = engine
        .load_rules(
            r#"{"rules": [{"name": "tag-big", "trigger": "order_placed",
            "when": {"field": "total", "op": ">", "value": {"amount": "1000", "currency": "TRY"}},
            "actions": [{"type": "tag", "add": ["big"]}]}]}"#,
        )
        .unwrap();
    let candidate = engine
        .load_rules(
            r#"{"rules": [
            {"name": "tag-big", "trigger": "order_placed",
             "when": {"field": "total", "op": ">", "value": {"amount": "1000", "currency": "TRY"}},
             "actions": [{"type": "tag", "add": ["big"]}]},
            {"name": "hold-huge", "trigger": "order_placed",
             "when": {"field": "total", "op": ">", "value": {"amount": "5000", "currency": "TRY"}},
             "actions": [{"type": "hold", "reason": "fraud_review"}]}]}"#,
        )
        .unwrap();
    let engine = engine.with_rules(Some(live), Some(candidate));
    let small = engine
        .place_order(order("TR", "c1", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    let big = engine
        .place_order(order("TR", "c2", &[("MUG", 1, "2000")], "TRY"), &ctx())
        .unwrap();
    let huge = engine
        .place_order(order("TR", "c3", &[("SOFA-3S", 1, "9000")], "TRY"), &ctx())
        .unwrap();
    // The candidate changed nothing: the huge order is not held.
    assert_eq!(huge.status, OrderStatus::Pending);
    assert!(huge.tags.contains("big") && big.tags.contains("big") && !small.tags.contains("big"));
    let report = engine.shadow_report(&OrderQuery::default()).unwrap();
    assert_eq!(report.orders_compared, 3);
    assert_eq!(report.orders_differing, 1);
    assert_eq!(report.differences.len(), 1);
    assert_eq!(report.differences[0].order_id, huge.id);
    assert_eq!(report.differences[0].trigger, Trigger::OrderPlaced);
    let candidate_rules: Vec<&str> = report.differences[0]
        .candidate
        .iter()
        .map(|p| p.rule.as_str())
        .collect();
    assert_eq!(candidate_rules, ["tag-big", "hold-huge"]);
    assert_eq!(report.per_rule["hold-huge"].candidate_only, 1);
    assert_eq!(report.per_rule.get("tag-big"), None);
    assert_eq!(report.live_firings["tag-big"], 2);
    assert_eq!(replayed(&engine, &huge), engine.order(&huge.id).unwrap());
}

#[test]
fn engine_loading_checks_its_own_locations() {
    let t = test_engine();
    let engine = t.engine.clone();
    shop(&engine, 1);
    let err = engine
        .load_rules(
            r#"{"rules": [{"name": "r", "trigger": "order_placed",
            "actions": [{"type": "exclude_location", "location": "izmir"}]}]}"#,
        )
        .unwrap_err();
    assert_eq!(err.code(), "RULES_INVALID");
    assert!(
        err.to_string()
            .contains("known locations: ank-store, ist-main"),
        "{err}"
    );
    assert_eq!(RuleSet::empty().rules().len(), 0);
}

#[test]
fn place_order_then_runs_rules_once_after_its_follow_ups() {
    let t = test_engine();
    let rules = r#"{"rules": [{"name": "confirm-all", "trigger": "order_placed",
        "actions": [{"type": "auto_confirm"}, {"type": "tag", "add": ["auto"]}]}]}"#;
    let engine = with_rules(&t, EngineConfig::default(), rules);
    // A paid, confirmed marketplace order arrives whole: the rule's auto-confirm does not
    // collide with the follow-up confirmation (rules run after it, and are refused by
    // the state machine without failing the import).
    let (o, created) = engine
        .place_order_then(
            order("TR", "c1", &[("MUG", 1, "100")], "TRY"),
            vec![
                ordersmith::order::OrderCommand::MarkPaid,
                ordersmith::order::OrderCommand::Confirm,
            ],
            &ctx(),
        )
        .unwrap();
    assert!(created);
    assert_eq!(o.status, OrderStatus::Confirmed);
    assert!(o.tags.contains("auto"));
    let fired = applied(&engine, &o);
    assert_eq!(fired.len(), 1);
    assert!(matches!(
        &fired[0].actions[0].outcome,
        Outcome::Refused { code, .. } if code == "ORDER_INVALID_TRANSITION"
    ));
    assert_eq!(replayed(&engine, &o), engine.order(&o.id).unwrap());
    assert!(rule_events(&engine, &o)
        .iter()
        .all(|(a, _)| a == &Actor::Rule("confirm-all".into())));
    // A plain placement runs them at once: the rule confirms.
    let plain = engine
        .place_order(order("TR", "c2", &[("MUG", 1, "100")], "TRY"), &ctx())
        .unwrap();
    assert_eq!(plain.status, OrderStatus::Confirmed);
}

/// Rule facts set after the engine is built (as the bindings set them) reach the
/// rules: a weight-based rule fires on weights given that way, loading checks the
/// currencies and carrier services given, and bad facts are refused with a typed
/// error.
#[test]
fn rule_facts_set_on_a_built_engine_reach_the_rules() {
    use ordersmith::engine::RuleFacts;
    let t = test_engine();
    let engine = t
        .engine
        .clone()
        .with_rule_facts(RuleFacts {
            weights_grams: Some(BTreeMap::from([("TEA".to_string(), 10_000)])),
            currencies: Some([Currency::parse("TRY").unwrap()].into()),
            carrier_services: Some(["yurtici/standard".to_string()].into()),
            max_chain_depth: Some(4),
        })
        .unwrap();
    shop(&engine, 10);
    let set = engine
        .load_rules(&example("bulky_to_main_warehouse.json"))
        .unwrap();
    let engine = engine.with_rules(Some(set), None);
    let tea = engine
        .place_order(order("TR", "c1", &[("TEA", 3, "100")], "TRY"), &ctx())
        .unwrap();
    assert!(
        tea.tags.contains("bulky"),
        "30 kg of tea is bulky by weight"
    );
    let context = engine.rule_context().unwrap();
    assert_eq!(
        context.carrier_services,
        Some([("yurtici".to_string(), "standard".to_string())].into())
    );
    let euro_rule = r#"{"rules": [{"name": "eur", "trigger": "order_placed",
        "when": {"field": "total", "op": ">=", "value": {"amount": "10", "currency": "EUR"}},
        "actions": [{"type": "tag", "add": ["x"]}]}]}"#;
    let err = engine.load_rules(euro_rule).unwrap_err();
    assert_eq!(err.code(), "RULES_INVALID", "{err}");
    assert!(
        err.to_string().contains("the shop's orders are in TRY"),
        "{err}"
    );

    for (facts, field) in [
        (
            RuleFacts {
                weights_grams: Some(BTreeMap::from([(" ".to_string(), 1)])),
                ..RuleFacts::default()
            },
            "weights_grams",
        ),
        (
            RuleFacts {
                carrier_services: Some(["yurtici".to_string()].into()),
                ..RuleFacts::default()
            },
            "carrier_services",
        ),
        (
            RuleFacts {
                max_chain_depth: Some(0),
                ..RuleFacts::default()
            },
            "max_chain_depth",
        ),
    ] {
        let Err(err) = t.engine.clone().with_rule_facts(facts) else {
            panic!("{field}: accepted");
        };
        assert_eq!(err.code(), "ENGINE_INVALID_INPUT");
        assert!(err.to_string().starts_with(field), "{err}");
    }
    let unknown = serde_json::from_str::<RuleFacts>(r#"{"weights": {}}"#);
    assert!(unknown.is_err(), "unknown fields are refused");
}
