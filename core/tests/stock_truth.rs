//! Stock truth: an order's allocations are exactly the ledger's live reservations for
//! it on every path — bundles sharing stock with other lines, reservations that expire,
//! raw stock commands, shortfalls — and retries are safe.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use chrono::{Duration, TimeDelta};
use common::*;
use ordersmith::engine::{
    CommandContext, Engine, EngineConfig, EngineError, ExpiryPolicy, ShortagePolicy,
};
use ordersmith::ids::{ChannelId, LocationId, OrderId, ReservationId};
use ordersmith::order::{
    CancelReason, HoldReason, NewLine, NewOrder, Order, OrderInput, OrderStatus,
};
use ordersmith::ports::Clock;
use ordersmith::stock::{
    AdjustmentReason, BundleComponent, Location, LocationKind, ReservationFilter, ReserveRequest,
    StockCommand, StockError, StockPolicy,
};

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn loc(id: &str) -> LocationId {
    LocationId::parse(id).unwrap()
}

fn engine_with(t: &TestEngine, config: EngineConfig) -> Engine {
    t.engine.clone().with_config(config)
}

/// L1 (priority 1) and L2 (priority 2); A and B tracked (deny);
/// BUNDLE = 2 × A + 1 × B.
fn bundle_shop(engine: &Engine, stock: &[(&str, &str, u32)]) {
    let mut cmds = vec![
        StockCommand::AddLocation {
            location: Location::new(loc("L1"), "Main DC", 1, "TR-34", LocationKind::Warehouse),
        },
        StockCommand::AddLocation {
            location: Location::new(loc("L2"), "Second DC", 2, "TR-06", LocationKind::Warehouse),
        },
    ];
    for sku in ["A", "B"] {
        cmds.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
    }
    cmds.push(StockCommand::DefineBundle {
        bundle: variant("BUNDLE"),
        components: vec![
            BundleComponent {
                variant: variant("A"),
                quantity: 2,
            },
            BundleComponent {
                variant: variant("B"),
                quantity: 1,
            },
        ],
    });
    for (sku, l, q) in stock {
        cmds.push(StockCommand::Receive {
            variant: variant(sku),
            location: loc(l),
            quantity: *q,
            reference: None,
        });
    }
    engine.stock_batch(cmds).unwrap();
}

fn order_of(lines: &[(&str, u32)]) -> NewOrder {
    NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        lines
            .iter()
            .map(|(sku, q)| NewLine::new(variant(sku), *q, money("10")))
            .collect(),
    )
}

fn reserved(engine: &Engine, sku: &str, l: &str) -> i64 {
    engine
        .with_stock(|s| s.balance(&variant(sku), &loc(l)).reserved)
        .unwrap()
}

/// Allocations of an order: reservation → units.
fn allocations(order: &Order) -> BTreeMap<String, u32> {
    order
        .lines
        .iter()
        .flat_map(|l| &l.allocations)
        .map(|a| (a.reservation.to_string(), a.quantity))
        .collect()
}

/// The ledger's live reservations owned by the order: reservation → units held.
fn live(engine: &Engine, id: &OrderId) -> BTreeMap<String, u32> {
    engine
        .reservations(&ReservationFilter {
            order: Some(id.clone()),
            ..ReservationFilter::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| (r.id.to_string(), r.remaining()))
        .collect()
}

fn assert_in_step(engine: &Engine, id: &OrderId) {
    let order = engine.order(id).unwrap();
    assert_eq!(allocations(&order), live(engine, id), "order {id}");
}

fn topics(t: &TestEngine) -> Vec<String> {
    t.engine
        .pending_effects(10_000)
        .unwrap()
        .into_iter()
        .map(|r| r.topic)
        .collect()
}

// 1. Bundles share stock with the other lines of the same order.

#[test]
fn a_bundle_and_a_line_of_its_component_are_planned_against_the_same_stock() {
    for lines in [
        [("BUNDLE", 1), ("A", 2)],
        [("A", 2), ("BUNDLE", 1)], // the other line order
    ] {
        let t = test_engine();
        bundle_shop(&t.engine, &[("A", "L1", 3), ("B", "L1", 5), ("A", "L2", 2)]);
        let o = t.engine.place_order(order_of(&lines), &ctx()).unwrap();
        let plan = t.engine.sourcing_plan(&o.id).unwrap().unwrap();
        assert!(plan.unfilled.is_empty(), "{plan:?}");
        let text = plan.explanation.join(" | ");
        assert!(
            !text.contains("everything in stock"),
            "no location has everything: {text}"
        );
        let o = t.engine.confirm_order(&o.id, &ctx()).unwrap();
        assert_eq!(o.status, OrderStatus::Confirmed);
        // The bundle from L1 (2 A + 1 B), the A line from L2.
        let bundle_line = o
            .lines
            .iter()
            .find(|l| l.variant == variant("BUNDLE"))
            .unwrap();
        let a_line = o.lines.iter().find(|l| l.variant == variant("A")).unwrap();
        assert_eq!(bundle_line.allocations[0].location, loc("L1"));
        assert_eq!(a_line.allocations.len(), 1);
        assert_eq!(a_line.allocations[0].location, loc("L2"));
        // The explanation describes the plan that was reserved.
        assert!(
            text.contains("Line L") && text.contains("from Second DC"),
            "{text}"
        );
        assert_eq!(reserved(&t.engine, "A", "L1"), 2);
        assert_eq!(reserved(&t.engine, "B", "L1"), 1);
        assert_eq!(reserved(&t.engine, "A", "L2"), 2);
        assert_in_step(&t.engine, &o.id);
    }
}

#[test]
fn a_bundle_whose_components_sit_in_two_locations_is_short_and_the_error_names_what_is_short() {
    // A only at L1, B only at L2: a bundle ships from one place, so it cannot be made.
    let t = test_engine();
    bundle_shop(&t.engine, &[("A", "L1", 4), ("B", "L2", 3)]);
    let o = t
        .engine
        .place_order(order_of(&[("BUNDLE", 1)]), &ctx())
        .unwrap();
    let err = t.engine.confirm_order(&o.id, &ctx()).unwrap_err();
    match &err {
        EngineError::Stock(StockError::Insufficient {
            variant: v,
            location,
            requested,
            available,
            ..
        }) => {
            assert_eq!(v, &variant("B"), "{err}");
            assert_eq!(location, &loc("L1"));
            assert_eq!((*requested, *available), (1, 0));
        }
        other => panic!("expected STOCK_INSUFFICIENT, got {other:?}"),
    }
    // Nothing changed.
    assert_eq!(t.engine.order(&o.id).unwrap().status, OrderStatus::Pending);
    assert_eq!(reserved(&t.engine, "A", "L1"), 0);

    // Two bundles with A for one and a half: the component really short is A, 4 needed.
    let t = test_engine();
    bundle_shop(&t.engine, &[("A", "L1", 3), ("B", "L1", 5)]);
    let o = t
        .engine
        .place_order(order_of(&[("BUNDLE", 2)]), &ctx())
        .unwrap();
    let err = t.engine.confirm_order(&o.id, &ctx()).unwrap_err();
    assert_eq!(err.code(), "STOCK_INSUFFICIENT");
    let text = err.to_string();
    assert!(text.contains('A') && text.contains("L1"), "{text}");
    match err {
        EngineError::Stock(StockError::Insufficient {
            requested,
            available,
            ..
        }) => {
            // One bundle (2 A) fits; the second needs 2 more A where 1 is left.
            assert!(requested >= 2 && available < requested as i64);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_sourcing_preview_says_what_confirming_would_really_reserve() {
    let t = test_engine();
    bundle_shop(&t.engine, &[("A", "L1", 1), ("B", "L1", 5)]);
    t.engine
        .stock(StockCommand::SetPolicy {
            variant: variant("B"),
            policy: StockPolicy::Backorder { limit: None },
        })
        .unwrap();
    // B × 7: 5 from stock, 2 ahead of stock on backorder; A × 3: 1 from stock, 2 short.
    let o = t
        .engine
        .place_order(order_of(&[("B", 7), ("A", 3)]), &ctx())
        .unwrap();
    let plan = t.engine.sourcing_plan(&o.id).unwrap().unwrap();
    let text = plan.explanation.join(" | ");
    assert!(
        text.contains(
            "2 units reserved at Main DC ahead of stock, as the backorder (no limit) policy allows"
        ),
        "{text}"
    );
    assert!(text.contains("Confirming would find 2 × A short"), "{text}");
    // And confirming does exactly that: refused for A, naming it.
    let err = t.engine.confirm_order(&o.id, &ctx()).unwrap_err();
    assert!(err.to_string().contains("A"), "{err}");
    // Without the A line, confirming reserves B × 7 at L1 (5 + 2 ahead of stock).
    let o = t.engine.place_order(order_of(&[("B", 7)]), &ctx()).unwrap();
    let o = t.engine.confirm_order(&o.id, &ctx()).unwrap();
    assert_eq!(o.lines[0].fulfilment.allocated, 7);
    assert_eq!(reserved(&t.engine, "B", "L1"), 7);
}

#[test]
fn with_the_hold_policy_a_bundle_shortage_holds_the_order() {
    let t = test_engine();
    let engine = engine_with(
        &t,
        EngineConfig {
            on_shortage: ShortagePolicy::Hold,
            ..EngineConfig::default()
        },
    );
    bundle_shop(&engine, &[("A", "L1", 4), ("B", "L2", 3)]);
    let o = engine
        .place_order(order_of(&[("BUNDLE", 1), ("A", 1)]), &ctx())
        .unwrap();
    let o = engine.confirm_order(&o.id, &ctx()).unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    let hold = o.hold.as_ref().unwrap();
    assert_eq!(hold.reason, HoldReason::InsufficientStock);
    assert!(hold.note.as_ref().unwrap().contains("BUNDLE"), "{hold:?}");
    // The A line was reserved; the bundle was not.
    assert_eq!(reserved(&engine, "A", "L1"), 1);
    assert_in_step(&engine, &o.id);
}

// 2. Reservations for unpaid orders expire.

fn ttl_engine(t: &TestEngine, minutes: i64) -> Engine {
    let engine = engine_with(
        t,
        EngineConfig {
            reservation_ttl: Some(TimeDelta::minutes(minutes)),
            ..EngineConfig::default()
        },
    );
    bundle_shop(&engine, &[("A", "L1", 3), ("B", "L1", 1)]);
    engine
}

#[test]
fn an_expired_reservation_holds_the_order_and_a_late_payment_re_reserves() {
    let t = test_engine();
    let engine = ttl_engine(&t, 15);
    let o = engine.place_order(order_of(&[("A", 2)]), &ctx()).unwrap();
    let confirmed_at = t.clock.now();
    let o = engine.confirm_order(&o.id, &ctx()).unwrap();
    let r = &engine
        .reservations(&ReservationFilter {
            order: Some(o.id.clone()),
            ..ReservationFilter::default()
        })
        .unwrap()[0];
    assert_eq!(r.expires_at, Some(confirmed_at + Duration::minutes(15)));
    // Listed as expiring before +16 min, not before +14.
    let expiring = |mins| {
        engine
            .reservations(&ReservationFilter {
                expiring_before: Some(confirmed_at + Duration::minutes(mins)),
                ..ReservationFilter::default()
            })
            .unwrap()
            .len()
    };
    assert_eq!((expiring(14), expiring(16)), (0, 1));

    // +10: nothing is due yet.
    t.clock.advance(Duration::minutes(10));
    assert!(engine
        .sweep_expired_reservations()
        .unwrap()
        .released
        .is_empty());
    // +20: the sweep releases it and tells the order.
    t.clock.advance(Duration::minutes(10));
    let sweep = engine.sweep_expired_reservations().unwrap();
    assert_eq!(sweep.released.len(), 1);
    assert_eq!(sweep.orders.len(), 1);
    let held = engine.order(&o.id).unwrap();
    assert_eq!(held.status, OrderStatus::OnHold);
    assert_eq!(
        held.hold.as_ref().unwrap().reason,
        HoldReason::ReservationExpired
    );
    assert!(allocations(&held).is_empty());
    assert_eq!(reserved(&engine, "A", "L1"), 0);
    assert_in_step(&engine, &o.id);
    let topics = topics(&t);
    assert!(topics.contains(&"order.allocation_expired".to_string()));
    assert!(topics.contains(&"order.held".to_string()));
    // A second sweep finds nothing.
    assert!(engine
        .sweep_expired_reservations()
        .unwrap()
        .released
        .is_empty());

    // +21: payment arrives; the stock is still there, so it is reserved again (with no
    // clock, the order being paid) and the hold is released.
    t.clock.advance(Duration::minutes(1));
    let paid = engine.mark_paid(&o.id, &ctx()).unwrap();
    assert_eq!(paid.status, OrderStatus::Confirmed);
    assert!(paid.hold.is_none());
    assert_eq!(reserved(&engine, "A", "L1"), 2);
    let again = engine
        .reservations(&ReservationFilter {
            order: Some(o.id.clone()),
            ..ReservationFilter::default()
        })
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].expires_at, None);
    assert_in_step(&engine, &o.id);
    // Ships normally.
    let shipped = engine
        .record_shipment(&o.id, vec![lq("L1", 2)], &ctx())
        .unwrap();
    assert_eq!(shipped.status, OrderStatus::Processing);
}

#[test]
fn a_payment_after_expiry_with_the_stock_gone_leaves_the_order_on_hold_saying_so() {
    let t = test_engine();
    let engine = ttl_engine(&t, 15);
    let slow = engine.place_order(order_of(&[("A", 2)]), &ctx()).unwrap();
    engine.confirm_order(&slow.id, &ctx()).unwrap();
    t.clock.advance(Duration::minutes(20));
    engine.sweep_expired_reservations().unwrap();
    // Someone else buys the stock at +20.5.
    t.clock.advance(Duration::seconds(30));
    let fast = engine.place_order(order_of(&[("A", 3)]), &ctx()).unwrap();
    engine.confirm_order(&fast.id, &ctx()).unwrap();
    engine.mark_paid(&fast.id, &ctx()).unwrap();
    // +21: the slow payment.
    t.clock.advance(Duration::seconds(30));
    let paid = engine.mark_paid(&slow.id, &ctx()).unwrap();
    assert_eq!(paid.status, OrderStatus::OnHold);
    assert_eq!(
        paid.hold.as_ref().unwrap().reason,
        HoldReason::ReservationExpired
    );
    assert_eq!(paid.balance_due().unwrap().amount(), dec("0"));
    let note = paid.notes.last().unwrap();
    assert!(
        note.contains("stock was released") && note.contains("2 × A"),
        "{note}"
    );
    assert!(allocations(&paid).is_empty());
    assert_in_step(&engine, &slow.id);
    assert_in_step(&engine, &fast.id);
    // Releasing the hold while still short is refused and changes nothing.
    let err = engine.release_hold(&slow.id, &ctx()).unwrap_err();
    assert_eq!(err.code(), "STOCK_INSUFFICIENT");
    // Stock arrives: releasing the hold now reserves.
    engine
        .stock(StockCommand::Receive {
            variant: variant("A"),
            location: loc("L2"),
            quantity: 5,
            reference: None,
        })
        .unwrap();
    let released = engine.release_hold(&slow.id, &ctx()).unwrap();
    assert_eq!(released.status, OrderStatus::Confirmed);
    assert_eq!(released.lines[0].fulfilment.allocated, 2);
    assert_in_step(&engine, &slow.id);
}

#[test]
fn payment_stops_the_clock_unless_configured_otherwise() {
    let t = test_engine();
    let engine = ttl_engine(&t, 15);
    let o = engine.place_order(order_of(&[("A", 1)]), &ctx()).unwrap();
    engine.confirm_order(&o.id, &ctx()).unwrap();
    t.clock.advance(Duration::minutes(5));
    engine.mark_paid(&o.id, &ctx()).unwrap();
    t.clock.advance(Duration::minutes(60));
    assert!(engine
        .sweep_expired_reservations()
        .unwrap()
        .released
        .is_empty());
    assert_eq!(engine.order(&o.id).unwrap().status, OrderStatus::Confirmed);
    assert_in_step(&engine, &o.id);

    // With the clock running through payment, a paid order is still never silently
    // unreserved: it goes on hold.
    let t = test_engine();
    let engine = engine_with(
        &t,
        EngineConfig {
            reservation_ttl: Some(TimeDelta::minutes(15)),
            payment_stops_reservation_clock: false,
            ..EngineConfig::default()
        },
    );
    bundle_shop(&engine, &[("A", "L1", 3)]);
    let o = engine.place_order(order_of(&[("A", 1)]), &ctx()).unwrap();
    engine.confirm_order(&o.id, &ctx()).unwrap();
    engine.mark_paid(&o.id, &ctx()).unwrap();
    t.clock.advance(Duration::minutes(16));
    assert_eq!(
        engine.sweep_expired_reservations().unwrap().released.len(),
        1
    );
    let o = engine.order(&o.id).unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(o.hold.unwrap().reason, HoldReason::ReservationExpired);
}

/// `place_order_then` steps the placed order itself (a copy is kept only for a command
/// whose stock side reads the order before it): a payment before the confirmation
/// (nothing reserved, no clock to stop) and one after it (stopping the clock of the
/// reservation just made) end exactly as the same commands run one call each.
#[test]
fn a_placements_follow_ups_stop_the_clock_as_the_same_calls_one_by_one() {
    use ordersmith::order::OrderCommand;
    for then in [
        vec![OrderCommand::MarkPaid, OrderCommand::Confirm],
        vec![OrderCommand::Confirm, OrderCommand::MarkPaid],
        vec![OrderCommand::Confirm],
    ] {
        let expiry = |engine: &Engine, id: &OrderId| {
            engine
                .reservations(&ReservationFilter {
                    order: Some(id.clone()),
                    ..ReservationFilter::default()
                })
                .unwrap()
                .iter()
                .map(|r| r.expires_at)
                .collect::<Vec<_>>()
        };
        let (t1, t2) = (test_engine(), test_engine());
        let (together, apart) = (ttl_engine(&t1, 15), ttl_engine(&t2, 15));
        let (one, created) = together
            .place_order_then(order_of(&[("A", 2)]), then.clone(), &ctx())
            .unwrap();
        assert!(created);
        let mut other = apart.place_order(order_of(&[("A", 2)]), &ctx()).unwrap();
        for command in &then {
            other = apart.execute(&other.id, command.clone(), &ctx()).unwrap();
        }
        assert_eq!(one.status, other.status, "{then:?}");
        assert_eq!(one.lines, other.lines, "{then:?}");
        assert_eq!(one.amount_paid, other.amount_paid, "{then:?}");
        assert_eq!(
            expiry(&together, &one.id),
            expiry(&apart, &other.id),
            "{then:?}"
        );
        // Paid after the confirmation: the clock stopped; otherwise it runs only unpaid.
        let paid = then.contains(&OrderCommand::MarkPaid);
        assert!(
            expiry(&together, &one.id)
                .iter()
                .all(|e| e.is_none() == paid),
            "{then:?}"
        );
        assert_in_step(&together, &one.id);
    }
}

#[test]
fn time_to_live_per_channel_and_per_order_override_the_engine() {
    let t = test_engine();
    let mut by_channel = BTreeMap::new();
    by_channel.insert(
        ChannelId::parse("bank").unwrap(),
        Some(TimeDelta::hours(48)),
    );
    by_channel.insert(ChannelId::parse("card").unwrap(), None);
    let engine = engine_with(
        &t,
        EngineConfig {
            reservation_ttl: Some(TimeDelta::minutes(30)),
            reservation_ttl_by_channel: by_channel,
            ..EngineConfig::default()
        },
    );
    bundle_shop(&engine, &[("A", "L1", 10)]);
    let now = t.clock.now();
    let expiry_of = |channel: &str, ttl: Option<u32>| {
        let mut new = order_of(&[("A", 1)]);
        new.channel = ChannelId::parse(channel).unwrap();
        new.reservation_ttl_minutes = ttl;
        let o = engine.place_order(new, &ctx()).unwrap();
        engine.confirm_order(&o.id, &ctx()).unwrap();
        engine
            .reservations(&ReservationFilter {
                order: Some(o.id),
                ..ReservationFilter::default()
            })
            .unwrap()[0]
            .expires_at
    };
    assert_eq!(expiry_of("web", None), Some(now + Duration::minutes(30)));
    assert_eq!(expiry_of("bank", None), Some(now + Duration::hours(48)));
    assert_eq!(expiry_of("card", None), None);
    assert_eq!(expiry_of("card", Some(5)), Some(now + Duration::minutes(5)));
    assert_eq!(
        expiry_of("bank", Some(90)),
        Some(now + Duration::minutes(90))
    );

    // A TTL of zero or above 30 days is refused at placement, and nothing is stored.
    for bad in [0, 30 * 24 * 60 + 1] {
        let mut new = order_of(&[("A", 1)]);
        new.reservation_ttl_minutes = Some(bad);
        let err = engine.place_order(new, &ctx()).unwrap_err();
        assert_eq!(err.code(), "ORDER_INVALID_RESERVATION_TTL");
        assert!(err.to_string().contains("reservation_ttl_minutes"));
    }
    // The flat input format carries it too.
    let input: OrderInput = serde_json::from_value(serde_json::json!({
        "channel": "web", "placed_at": "2026-11-20T10:00:00Z", "currency": "TRY",
        "reservation_ttl_minutes": 45,
        "lines": [{"variant": "A", "quantity": 1, "unit_price": "10.00"}]
    }))
    .unwrap();
    assert_eq!(
        input.into_new_order().unwrap().reservation_ttl_minutes,
        Some(45)
    );
}

#[test]
fn the_cancel_policy_cancels_an_expired_order() {
    let t = test_engine();
    let engine = engine_with(
        &t,
        EngineConfig {
            reservation_ttl: Some(TimeDelta::minutes(15)),
            on_reservation_expiry: ExpiryPolicy::Cancel,
            ..EngineConfig::default()
        },
    );
    bundle_shop(&engine, &[("A", "L1", 3), ("B", "L1", 3)]);
    let o = engine
        .place_order(order_of(&[("A", 1), ("B", 2)]), &ctx())
        .unwrap();
    engine.confirm_order(&o.id, &ctx()).unwrap();
    t.clock.advance(Duration::minutes(16));
    // The raw `expire` command takes the same path as the sweep.
    engine.stock(StockCommand::Expire).unwrap();
    let o = engine.order(&o.id).unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.cancel_reason, Some(CancelReason::ReservationExpired));
    assert_eq!(reserved(&engine, "A", "L1"), 0);
    assert_eq!(reserved(&engine, "B", "L1"), 0);
    assert_in_step(&engine, &o.id);
}

// 3. Raw stock commands cannot orphan an order.

#[test]
fn raw_commands_on_an_order_reservation_are_refused_naming_the_order() {
    let t = test_engine();
    bundle_shop(&t.engine, &[("A", "L1", 5)]);
    let o = t.engine.place_order(order_of(&[("A", 2)]), &ctx()).unwrap();
    let o = t.engine.confirm_order(&o.id, &ctx()).unwrap();
    let reservation = o.lines[0].allocations[0].reservation.clone();
    let before = t
        .engine
        .with_stock(|s| serde_json::to_value(s).unwrap())
        .unwrap();
    for command in [
        StockCommand::Release {
            reservation: reservation.clone(),
        },
        StockCommand::ReleasePartial {
            reservation: reservation.clone(),
            quantity: 1,
        },
        StockCommand::Commit {
            reservation: reservation.clone(),
        },
        StockCommand::CommitPartial {
            reservation: reservation.clone(),
            quantity: 1,
        },
        StockCommand::SetReservationExpiry {
            reservation: reservation.clone(),
            expires_at: Some(at(30, 12)),
        },
        StockCommand::Reserve {
            request: ReserveRequest::new(
                ReservationId::parse("forged").unwrap(),
                variant("A"),
                loc("L1"),
                1,
            )
            .for_order(o.id.clone()),
        },
    ] {
        let err = t.engine.stock(command.clone()).unwrap_err();
        assert_eq!(
            err.code(),
            "ENGINE_RESERVATION_OWNED_BY_ORDER",
            "{command:?}"
        );
        assert!(err.to_string().contains(o.id.as_str()), "{err}");
        // Refused inside a batch too, and the batch's other commands are not saved.
        let err = t
            .engine
            .stock_batch(vec![
                StockCommand::Receive {
                    variant: variant("A"),
                    location: loc("L1"),
                    quantity: 1,
                    reference: None,
                },
                command,
            ])
            .unwrap_err();
        assert_eq!(err.code(), "ENGINE_RESERVATION_OWNED_BY_ORDER");
    }
    let after = t
        .engine
        .with_stock(|s| serde_json::to_value(s).unwrap())
        .unwrap();
    assert_eq!(before, after, "nothing changed");
    // The order still ships.
    let shipped = t
        .engine
        .record_shipment(&o.id, vec![lq("L1", 2)], &ctx())
        .unwrap();
    assert_eq!(shipped.lines[0].fulfilment.shipped, 2);
    // Reservations made by hand still work through the raw API.
    t.engine
        .stock(StockCommand::Reserve {
            request: ReserveRequest::new(
                ReservationId::parse("by-hand").unwrap(),
                variant("A"),
                loc("L1"),
                1,
            ),
        })
        .unwrap();
    t.engine
        .stock(StockCommand::Release {
            reservation: ReservationId::parse("by-hand").unwrap(),
        })
        .unwrap();
}

// 4. Shortfalls are re-sourced.

#[test]
fn damage_that_leaves_reservations_short_re_sources_the_newest_orders() {
    let t = test_engine();
    bundle_shop(&t.engine, &[("A", "L1", 5), ("A", "L2", 5)]);
    let first = t.engine.place_order(order_of(&[("A", 3)]), &ctx()).unwrap();
    t.engine.confirm_order(&first.id, &ctx()).unwrap();
    let second = t.engine.place_order(order_of(&[("A", 2)]), &ctx()).unwrap();
    t.engine.confirm_order(&second.id, &ctx()).unwrap();
    assert_eq!(reserved(&t.engine, "A", "L1"), 5);
    // Two units at L1 are damaged: 3 on hand, 5 reserved.
    t.engine
        .stock(StockCommand::Adjust {
            variant: variant("A"),
            location: loc("L1"),
            delta: -2,
            reason: AdjustmentReason::Damage,
            reference: None,
        })
        .unwrap();
    // The newest order moved to L2; the first keeps its L1 reservation.
    let first = t.engine.order(&first.id).unwrap();
    let second = t.engine.order(&second.id).unwrap();
    assert_eq!(first.lines[0].allocations[0].location, loc("L1"));
    assert_eq!(second.status, OrderStatus::Confirmed);
    assert_eq!(second.lines[0].fulfilment.allocated, 2);
    assert!(second.lines[0]
        .allocations
        .iter()
        .all(|a| a.location == loc("L2")));
    assert_eq!(reserved(&t.engine, "A", "L1"), 3);
    assert_eq!(reserved(&t.engine, "A", "L2"), 2);
    assert_in_step(&t.engine, &first.id);
    assert_in_step(&t.engine, &second.id);
    let topics = topics(&t);
    assert!(topics.contains(&"stock.shortfall".to_string()));
    assert!(topics.contains(&"order.deallocated".to_string()));
}

#[test]
fn a_shortfall_nothing_can_cover_holds_the_order_for_insufficient_stock() {
    let t = test_engine();
    bundle_shop(&t.engine, &[("A", "L1", 4), ("B", "L1", 2)]);
    let o = t
        .engine
        .place_order(order_of(&[("BUNDLE", 2)]), &ctx())
        .unwrap();
    t.engine.confirm_order(&o.id, &ctx()).unwrap();
    assert_eq!(reserved(&t.engine, "A", "L1"), 4);
    // A cycle count finds only 3 A.
    t.engine
        .stock(StockCommand::Adjust {
            variant: variant("A"),
            location: loc("L1"),
            delta: -1,
            reason: AdjustmentReason::Loss,
            reference: Some("count".into()),
        })
        .unwrap();
    let o = t.engine.order(&o.id).unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(
        o.hold.as_ref().unwrap().reason,
        HoldReason::InsufficientStock
    );
    // One bundle could still be made from 3 A and 2 B: it is held for the order.
    assert_eq!(o.lines[0].fulfilment.allocated, 1);
    assert_in_step(&t.engine, &o.id);
    let b = t
        .engine
        .with_stock(|s| s.balance(&variant("A"), &loc("L1")))
        .unwrap();
    assert!(b.reserved <= b.on_hand, "{b:?}");
}

// 5. Retries are safe everywhere.

#[test]
fn every_order_command_retried_with_its_key_returns_the_first_result() {
    let t = test_engine();
    bundle_shop(&t.engine, &[("A", "L1", 10)]);
    let o = t.engine.place_order(order_of(&[("A", 3)]), &ctx()).unwrap();
    let key = |k: &str| CommandContext::system().with_idempotency_key(k);
    type Call<'a> = Box<dyn Fn(&CommandContext) -> Result<Order, EngineError> + 'a>;
    let e = &t.engine;
    let id = &o.id;
    let calls: Vec<(&str, Call)> = vec![
        ("confirm", Box::new(|c| e.confirm_order(id, c))),
        (
            "pay-half",
            Box::new(|c| e.record_payment_amount(id, dec("10"), c)),
        ),
        ("mark-paid", Box::new(|c| e.mark_paid(id, c))),
        (
            "refund",
            Box::new(|c| e.record_refund_amount(id, dec("5"), c)),
        ),
        (
            "hold",
            Box::new(|c| e.hold_order(id, HoldReason::AddressCheck, None, c)),
        ),
        ("release", Box::new(|c| e.release_hold(id, c))),
        (
            "cancel-one",
            Box::new(|c| e.cancel_lines(id, vec![lq("L1", 1)], CancelReason::Customer, c)),
        ),
        (
            "ship",
            Box::new(|c| e.record_shipment(id, vec![lq("L1", 2)], c)),
        ),
        (
            "deliver",
            Box::new(|c| e.record_delivery(id, vec![lq("L1", 2)], c)),
        ),
        (
            "return",
            Box::new(|c| e.record_return(id, vec![lq("L1", 1)], c)),
        ),
        (
            "tag",
            Box::new(|c| e.tag_order(id, vec!["vip".into()], vec![], c)),
        ),
        (
            "note",
            Box::new(|c| e.add_note(id, "called the customer".into(), c)),
        ),
        ("complete", Box::new(|c| e.complete_order(id, c))),
    ];
    for (name, call) in &calls {
        let first = call(&key(name)).unwrap();
        let again = call(&key(name)).unwrap();
        assert_eq!(first, again, "{name}: a retry returns the first result");
        assert_eq!(
            e.order(id).unwrap().version,
            first.version,
            "{name}: nothing more happened"
        );
    }
    assert_in_step(e, id);

    // Cancel and edit, on a second order.
    let o = e.place_order(order_of(&[("A", 2)]), &ctx()).unwrap();
    let id = &o.id;
    let calls: Vec<(&str, Call)> = vec![
        ("confirm-2", Box::new(|c| e.confirm_order(id, c))),
        (
            "edit-2",
            Box::new(|c| {
                e.edit_order(
                    id,
                    vec![ordersmith::order::LineEdit::SetQuantity {
                        line_id: line_id("L1"),
                        quantity: 3,
                    }],
                    c,
                )
            }),
        ),
        (
            "cancel-2",
            Box::new(|c| e.cancel_order(id, CancelReason::Customer, c)),
        ),
    ];
    for (name, call) in &calls {
        let first = call(&key(name)).unwrap();
        let again = call(&key(name)).unwrap();
        assert_eq!(first, again, "{name}");
    }
    assert_in_step(e, id);
}

#[test]
fn a_channel_order_delivered_again_is_returned_as_it_is_now() {
    let t = test_engine();
    bundle_shop(&t.engine, &[("A", "L1", 10)]);
    let mut new = order_of(&[("A", 1)]);
    new.external_ref = Some("TY-1".into());
    let first = t.engine.place_order(new.clone(), &ctx()).unwrap();
    t.engine.confirm_order(&first.id, &ctx()).unwrap();
    t.engine.mark_paid(&first.id, &ctx()).unwrap();
    let again = t.engine.place_order(new, &ctx()).unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(
        again.status,
        OrderStatus::Confirmed,
        "not the stale pending snapshot"
    );
    assert_eq!(again.balance_due().unwrap().amount(), dec("0"));
}

// 6. Ids and text.

#[test]
fn ids_with_bidi_overrides_or_surrounding_whitespace_are_refused_naming_the_field() {
    for (sku, what) in [
        ("SKU-\u{202E}DER", "invisible or bidirectional"),
        ("SKU\u{200B}", "invisible or bidirectional"),
        (" SKU", "whitespace"),
        ("SKU\n", "whitespace"),
        ("S\u{7}KU", "control character"),
    ] {
        let json = serde_json::json!({
            "channel": "web", "placed_at": "2026-11-20T10:00:00Z", "currency": "TRY",
            "lines": [{"variant": sku, "quantity": 1, "unit_price": "10.00"}]
        });
        let err = serde_json::from_value::<OrderInput>(json)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("variant id") && err.contains(what),
            "{sku:?}: {err}"
        );
    }
    let err = ordersmith::ids::LocationId::parse("L1\u{2067}").unwrap_err();
    assert_eq!(err.code(), "ID_INVALID_CHARACTERS");
    assert!(err.to_string().starts_with("location id "));
}

// 7. Reservations can be listed.

#[test]
fn live_reservations_are_listed_by_variant_location_order_and_expiry() {
    let t = test_engine();
    let engine = ttl_engine(&t, 15);
    engine
        .stock(StockCommand::Receive {
            variant: variant("A"),
            location: loc("L2"),
            quantity: 4,
            reference: None,
        })
        .unwrap();
    let one = engine
        .place_order(order_of(&[("BUNDLE", 1)]), &ctx())
        .unwrap();
    engine.confirm_order(&one.id, &ctx()).unwrap();
    let two = engine.place_order(order_of(&[("A", 3)]), &ctx()).unwrap();
    engine.confirm_order(&two.id, &ctx()).unwrap();
    engine
        .stock(StockCommand::Reserve {
            request: ReserveRequest::new(
                ReservationId::parse("manual-1").unwrap(),
                variant("A"),
                loc("L2"),
                1,
            ),
        })
        .unwrap();
    let list = |f: ReservationFilter| -> Vec<String> {
        engine
            .reservations(&f)
            .unwrap()
            .into_iter()
            .map(|r| r.id.to_string())
            .collect()
    };
    let all = list(ReservationFilter::default());
    assert_eq!(all.len(), 3, "{all:?}");
    // A is held directly by order two and manual-1, and through the bundle by one.
    let by_a = list(ReservationFilter {
        variant: Some(variant("A")),
        ..ReservationFilter::default()
    });
    assert_eq!(by_a.len(), 3);
    let by_b = list(ReservationFilter {
        variant: Some(variant("B")),
        ..ReservationFilter::default()
    });
    assert_eq!(by_b.len(), 1);
    let at_l2 = list(ReservationFilter {
        location: Some(loc("L2")),
        ..ReservationFilter::default()
    });
    assert!(at_l2.contains(&"manual-1".to_string()));
    let of_two = engine
        .reservations(&ReservationFilter {
            order: Some(two.id.clone()),
            ..ReservationFilter::default()
        })
        .unwrap();
    assert!(of_two.iter().all(|r| r.order.as_ref() == Some(&two.id)));
    assert_eq!(of_two.iter().map(|r| r.remaining()).sum::<u32>(), 3);
    let now = t.clock.now();
    let soon = list(ReservationFilter {
        expiring_before: Some(now + Duration::minutes(20)),
        ..ReservationFilter::default()
    });
    assert_eq!(soon.len(), 2, "the manual one never expires: {soon:?}");
    // Sorted by id, and the filter refuses unknown fields as JSON.
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert!(serde_json::from_str::<ReservationFilter>(r#"{"sku": "A"}"#).is_err());
}
