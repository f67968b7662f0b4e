//! Properties of automation rules over random shops, rule sets and command sequences:
//! a dry run never changes state, and running rules live then replaying each order's
//! history gives the same order state.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{ChannelId, CustomerId, LocationId};
use ordersmith::order::{CancelReason, HoldReason, NewLine, NewOrder, Order, OrderEvent};
use ordersmith::pii::{Address, Customer, Redacted};
use ordersmith::ports::OrderQuery;
use ordersmith::rules::RuleSet;
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use proptest::prelude::*;

const SKUS: [&str; 3] = ["SOFA-3S", "MUG", "TEA"];
const COUNTRIES: [&str; 3] = ["TR", "NG", "DE"];

/// Rules a random set is drawn from: every action, chains (hold → release → hold),
/// conflicts (two routes, hold and confirm) and guards the state machine refuses.
const POOL: [&str; 10] = [
    r#"{"name": "confirm-small", "trigger": "order_placed", "when": {"field": "total", "op": "<", "value": {"amount": "500", "currency": "TRY"}}, "actions": [{"type": "auto_confirm"}]}"#,
    r#"{"name": "hold-risky", "trigger": "order_placed", "priority": 5, "when": {"field": "country", "op": "==", "value": "NG"}, "actions": [{"type": "hold", "reason": "fraud_review"}, {"type": "require_review", "reason": "risky"}]}"#,
    r#"{"name": "sofas-main", "trigger": "order_placed", "when": {"field": "sku", "op": "==", "value": "SOFA-3S"}, "actions": [{"type": "route_to_location", "location": "ist-main"}, {"type": "tag", "add": ["bulky"]}]}"#,
    r#"{"name": "no-store", "trigger": "order_placed", "when": {"field": "line_count", "op": ">=", "value": 2}, "actions": [{"type": "exclude_location", "location": "ank-store"}]}"#,
    r#"{"name": "release-held", "trigger": "order_held", "when": {"field": "tag", "op": "!=", "value": "keep"}, "actions": [{"type": "release"}]}"#,
    r#"{"name": "rehold", "trigger": "hold_released", "actions": [{"type": "hold", "reason": "other"}, {"type": "tag", "add": ["keep"]}]}"#,
    r#"{"name": "prio-confirmed", "trigger": "order_confirmed", "actions": [{"type": "set_priority", "priority": 3}, {"type": "choose_carrier", "carrier": "ups", "service": "express"}]}"#,
    r#"{"name": "paid-confirm", "trigger": "payment_received", "actions": [{"type": "auto_confirm"}, {"type": "notify", "template": "order_confirmed"}]}"#,
    r#"{"name": "returns", "trigger": "return_requested", "actions": [{"type": "hold", "reason": "other"}, {"type": "tag", "add": ["returned"], "remove": ["bulky"]}]}"#,
    r#"{"name": "stop-first", "trigger": "order_placed", "priority": 9, "when": {"field": "customer_order_count", "op": ">", "value": 0}, "actions": [{"type": "set_priority", "priority": 1}], "stop_processing": true}"#,
];

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn loc(id: &str) -> LocationId {
    LocationId::parse(id).unwrap()
}

fn shop(engine: &Engine) {
    let mut cmds = vec![
        StockCommand::AddLocation {
            location: Location::new(loc("ank-store"), "store", 1, "TR-06", LocationKind::Store),
        },
        StockCommand::AddLocation {
            location: Location::new(loc("ist-main"), "main", 2, "TR-34", LocationKind::Warehouse),
        },
    ];
    for sku in SKUS {
        cmds.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
        for l in ["ank-store", "ist-main"] {
            cmds.push(StockCommand::Receive {
                variant: variant(sku),
                location: loc(l),
                quantity: 6,
                reference: None,
            });
        }
    }
    engine.stock_batch(cmds).unwrap();
}

fn rule_set(engine: &Engine, mask: u16) -> RuleSet {
    let chosen: Vec<&str> = POOL
        .iter()
        .enumerate()
        .filter(|(k, _)| mask & (1 << k) != 0)
        .map(|(_, r)| *r)
        .collect();
    engine
        .load_rules(&format!("{{\"rules\": [{}]}}", chosen.join(",")))
        .unwrap()
}

#[derive(Debug, Clone)]
struct NewO {
    country: usize,
    customer: u8,
    lines: Vec<(usize, u32, u32)>,
}

fn new_order(o: &NewO) -> NewOrder {
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        o.lines
            .iter()
            .map(|(sku, q, price)| NewLine::new(variant(SKUS[*sku]), *q, money(&price.to_string())))
            .collect(),
    );
    new.customer = Some(Customer {
        id: Some(CustomerId::parse(format!("c{}", o.customer)).unwrap()),
        name: Redacted::new("x".into()),
        ..Customer::default()
    });
    new.shipping_address = Some(Address {
        country: COUNTRIES[o.country].into(),
        ..Address::default()
    });
    new
}

fn orders() -> impl Strategy<Value = Vec<NewO>> {
    prop::collection::vec(
        (
            0..3usize,
            0..3u8,
            prop::collection::vec(
                (
                    0..3usize,
                    1..4u32,
                    prop::sample::select(vec![50u32, 150, 900]),
                ),
                1..3,
            ),
        )
            .prop_map(|(country, customer, lines)| NewO {
                country,
                customer,
                lines,
            }),
        1..5,
    )
}

fn commands() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((0..5usize, 0..7u8), 0..12)
}

/// Runs a command (errors are part of the game: refused commands change nothing).
fn run(engine: &Engine, order: &Order, kind: u8) {
    let lines = |q| ordersmith::engine::lines(&[("L1", q)]).unwrap();
    let _ = match kind {
        0 => engine.confirm_order(&order.id, &ctx()),
        1 => engine.hold_order(&order.id, HoldReason::CustomerRequest, None, &ctx()),
        2 => engine.release_hold(&order.id, &ctx()),
        3 => engine.mark_paid(&order.id, &ctx()),
        4 => engine.cancel_order(&order.id, CancelReason::Customer, &ctx()),
        5 => engine.record_shipment(&order.id, lines(1), &ctx()),
        _ => engine.record_return(&order.id, lines(1), &ctx()),
    };
}

fn dump(t: &TestEngine) -> Vec<u8> {
    let mut bytes = Vec::new();
    ordersmith::ports::dump::export(t.store.as_ref(), t.store.as_ref(), &mut bytes).unwrap();
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn running_rules_then_replaying_history_gives_the_same_order(
        mask in 0u16..1024,
        news in orders(),
        cmds in commands(),
    ) {
        let t = test_engine();
        let engine = t.engine.clone();
        shop(&engine);
        let set = rule_set(&engine, mask);
        let engine = engine.with_rules(Some(set), None);
        let mut placed = Vec::new();
        for n in &news {
            placed.push(engine.place_order(new_order(n), &ctx()).unwrap());
        }
        for (k, kind) in cmds {
            let o = &placed[k % placed.len()];
            run(&engine, o, kind);
        }
        for o in &placed {
            let history = engine.order_history(&o.id).unwrap();
            let replayed = Order::replay(history.iter()).unwrap();
            prop_assert_eq!(&replayed, &engine.order(&o.id).unwrap());
            // Every rule-caused event is recorded with its rule as the actor, after the
            // `rule.applied` event saying why.
            for r in &history {
                if let OrderEvent::RuleApplied(a) = &r.event {
                    prop_assert_eq!(&r.actor, &ordersmith::order::Actor::Rule(a.rule.as_str().into()));
                }
            }
        }
    }

    #[test]
    fn a_dry_run_never_changes_state(
        mask in 0u16..1024,
        news in orders(),
        cmds in commands(),
    ) {
        let t = test_engine();
        let engine = t.engine.clone();
        shop(&engine);
        let mut placed = Vec::new();
        for n in &news {
            placed.push(engine.place_order(new_order(n), &ctx()).unwrap());
        }
        for (k, kind) in cmds {
            let o = &placed[k % placed.len()];
            run(&engine, o, kind);
        }
        let set = rule_set(&engine, mask);
        let before = dump(&t);
        let orders_before: Vec<Order> = placed.iter().map(|o| engine.order(&o.id).unwrap()).collect();
        let report = engine.dry_run_rules(&set, &OrderQuery::default()).unwrap();
        prop_assert_eq!(dump(&t), before);
        let current: Vec<Order> = placed.iter().map(|o| engine.order(&o.id).unwrap()).collect();
        let snapshot_report = ordersmith::rules::dry_run_orders(
            &set,
            &current,
            ordersmith::rules::Trigger::OrderPlaced,
            &ordersmith::rules::DryRunOptions::default(),
        );
        prop_assert_eq!(&current, &orders_before);
        prop_assert_eq!(report.orders_evaluated, placed.len() as u64);
        prop_assert_eq!(snapshot_report.orders_evaluated, placed.len() as u64);
        let fired: u64 = report.orders.iter().map(|o| o.firings.len() as u64).sum();
        prop_assert_eq!(report.counts.values().sum::<u64>(), fired);
    }
}
