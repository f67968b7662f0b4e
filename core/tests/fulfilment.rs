//! The warehouse flow through the engine: fulfilment orders per location, pick (with
//! short picks), pack, label, hand over, move, hold and cancel — with the ledger, the
//! order and its fulfilment orders checked at every step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineConfig};
use ordersmith::fulfilment::{
    FulfilmentOrderStatus, Label, ParcelSize, ParcelStatus, ShortPickPolicy,
};
use ordersmith::ids::{ChannelId, LocationId, OrderId};
use ordersmith::order::{
    CancelReason, FulfilmentCommand, HoldReason, LineQuantity, NewLine, NewOrder, Order,
    OrderStatus,
};
use ordersmith::stock::{Location, LocationKind, ReservationFilter, StockCommand, StockPolicy};

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn loc(id: &str) -> LocationId {
    LocationId::parse(id).unwrap()
}

/// IST (priority 1) and ANK (priority 2); MUG, TEA and CUP tracked.
fn shop(engine: &Engine, stock: &[(&str, &str, u32)]) {
    let mut cmds = vec![
        StockCommand::AddLocation {
            location: Location::new(
                loc("IST"),
                "Istanbul DC",
                1,
                "TR-34",
                LocationKind::Warehouse,
            ),
        },
        StockCommand::AddLocation {
            location: Location::new(loc("ANK"), "Ankara Store", 2, "TR-06", LocationKind::Store),
        },
        StockCommand::AddLocation {
            location: Location::new(loc("IZM"), "Izmir DC", 3, "TR-35", LocationKind::Warehouse),
        },
    ];
    for sku in ["MUG", "TEA", "CUP"] {
        cmds.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
    }
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
            .map(|(sku, q)| NewLine::new(variant(sku), *q, money("10")).with_title(sku))
            .collect(),
    )
}

fn level(engine: &Engine, sku: &str, l: &str) -> (i64, i64) {
    engine
        .with_stock(|s| {
            let b = s.balance(&variant(sku), &loc(l));
            (b.on_hand, b.reserved)
        })
        .unwrap()
}

fn lines(items: &[(&str, u32)]) -> Vec<LineQuantity> {
    items.iter().map(|(l, q)| lq(l, *q)).collect()
}

fn size() -> ParcelSize {
    ParcelSize {
        weight_grams: 900,
        length_mm: 300,
        width_mm: 200,
        height_mm: 150,
    }
}

/// A label; the carrier follows the number (UPS `1Z...`, else PTT's UPU S10).
fn label(tracking: &str) -> Label {
    Label {
        carrier: if tracking.starts_with("1Z") {
            "ups"
        } else {
            "ptt"
        }
        .into(),
        service: "standard".into(),
        tracking_number: tracking.into(),
        label_ref: Some("labels/1.pdf".into()),
    }
}

/// The order and the ledger agree, and every open fulfilment order's units are the
/// order's live allocations at its location.
fn check(engine: &Engine, id: &OrderId) -> Order {
    let order = engine.order(id).unwrap();
    let allocations: BTreeMap<String, u32> = order
        .lines
        .iter()
        .flat_map(|l| &l.allocations)
        .map(|a| (a.reservation.to_string(), a.quantity))
        .collect();
    let live: BTreeMap<String, u32> = engine
        .reservations(&ReservationFilter {
            order: Some(id.clone()),
            ..ReservationFilter::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| (r.id.to_string(), r.remaining()))
        .collect();
    assert_eq!(allocations, live);
    // One open fulfilment order per location holding stock, none elsewhere.
    let mut holding: Vec<LocationId> = order
        .lines
        .iter()
        .flat_map(|l| &l.allocations)
        .map(|a| a.location.clone())
        .collect();
    holding.sort();
    holding.dedup();
    let mut open: Vec<LocationId> = order
        .fulfilments
        .iter()
        .filter(|f| !f.status.is_closed())
        .map(|f| f.location.clone())
        .collect();
    open.sort();
    assert_eq!(open, holding, "{:#?}", order.fulfilments);
    order
}

fn pick(
    engine: &Engine,
    id: &OrderId,
    fo: &str,
    picked: &[(&str, u32)],
    short: &[(&str, u32)],
) -> Order {
    engine
        .fulfil(
            id,
            FulfilmentCommand::Pick {
                fulfilment: fo.into(),
                picked: lines(picked),
                short: lines(short),
            },
            &ctx(),
        )
        .unwrap()
}

fn pack(engine: &Engine, id: &OrderId, fo: &str, units: &[(&str, u32)]) -> Order {
    engine
        .fulfil(
            id,
            FulfilmentCommand::Pack {
                fulfilment: fo.into(),
                units: lines(units),
                size: size(),
            },
            &ctx(),
        )
        .unwrap()
}

fn label_and_hand_over(
    engine: &Engine,
    id: &OrderId,
    fo: &str,
    parcel: &str,
    tracking: &str,
) -> Order {
    engine
        .fulfil(
            id,
            FulfilmentCommand::RequestLabel {
                fulfilment: fo.into(),
                parcel: parcel.into(),
                service: "standard".into(),
            },
            &ctx(),
        )
        .unwrap();
    engine
        .fulfil(
            id,
            FulfilmentCommand::RecordLabel {
                fulfilment: fo.into(),
                parcel: parcel.into(),
                label: label(tracking),
            },
            &ctx(),
        )
        .unwrap();
    engine
        .fulfil(
            id,
            FulfilmentCommand::HandOver {
                fulfilment: fo.into(),
                parcel: parcel.into(),
            },
            &ctx(),
        )
        .unwrap()
}

#[test]
fn a_split_order_ships_from_two_locations_parcel_by_parcel() {
    let t = test_engine();
    shop(
        &t.engine,
        &[("MUG", "IST", 5), ("TEA", "ANK", 5), ("CUP", "IST", 1)],
    );
    let o = t
        .engine
        .place_order(order_of(&[("TEA", 1), ("MUG", 2), ("CUP", 1)]), &ctx())
        .unwrap();
    // Pending orders have no fulfilment orders.
    assert!(o.fulfilments.is_empty());
    let o = t.engine.confirm_order(&o.id, &ctx()).unwrap();
    let o = check(&t.engine, &o.id);
    assert_eq!(o.fulfilments.len(), 2);
    let ist = o
        .fulfilments
        .iter()
        .find(|f| f.location == loc("IST"))
        .unwrap()
        .id
        .clone();
    let ank = o
        .fulfilments
        .iter()
        .find(|f| f.location == loc("ANK"))
        .unwrap()
        .id
        .clone();
    assert!(o
        .fulfilments
        .iter()
        .all(|f| f.status == FulfilmentOrderStatus::Open));

    // The pick list, sorted by SKU for walking.
    let list = t.engine.pick_list(&o.id, &ist).unwrap();
    let skus: Vec<&str> = list.iter().map(|l| l.sku.as_str()).collect();
    assert_eq!(skus, ["CUP", "MUG"]);
    assert_eq!(list[1].quantity, 2);

    // IST: pick everything, two parcels.
    pick(&t.engine, &o.id, &ist, &[("L2", 2), ("L3", 1)], &[]);
    let o = pack(&t.engine, &o.id, &ist, &[("L2", 2)]);
    assert_eq!(
        o.fulfilment(&ist).unwrap().status,
        FulfilmentOrderStatus::InProgress
    );
    assert!(t.engine.pick_list(&o.id, &ist).unwrap().is_empty());
    let o = pack(&t.engine, &o.id, &ist, &[("L3", 1)]);
    let parcels: Vec<String> = o
        .fulfilment(&ist)
        .unwrap()
        .parcels
        .iter()
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(parcels, [format!("{ist}-P1"), format!("{ist}-P2")]);

    // The first parcel leaves: exactly its units are sold in the ledger.
    let o = label_and_hand_over(&t.engine, &o.id, &ist, &parcels[0], "RR123456785TR");
    assert_eq!(level(&t.engine, "MUG", "IST"), (3, 0));
    assert_eq!(level(&t.engine, "CUP", "IST"), (1, 1));
    assert_eq!(o.status, OrderStatus::Processing);
    assert_eq!(o.lines[1].fulfilment.shipped, 2);
    assert_eq!(o.lines[2].fulfilment.shipped, 0);
    let p = o
        .fulfilment(&ist)
        .unwrap()
        .parcel(&parcels[0])
        .unwrap()
        .clone();
    assert_eq!(p.status, ParcelStatus::HandedOver);
    assert_eq!(p.label.unwrap().tracking_number, "RR123456785TR");
    check(&t.engine, &o.id);

    // The second parcel closes the IST fulfilment order as shipped.
    let o = label_and_hand_over(&t.engine, &o.id, &ist, &parcels[1], "RR123456799TR");
    assert_eq!(
        o.fulfilment(&ist).unwrap().status,
        FulfilmentOrderStatus::Shipped
    );
    // ANK ships the tea.
    pick(&t.engine, &o.id, &ank, &[("L1", 1)], &[]);
    pack(&t.engine, &o.id, &ank, &[("L1", 1)]);
    let o = label_and_hand_over(
        &t.engine,
        &o.id,
        &ank,
        &format!("{ank}-P1"),
        "1Z999AA10123456784",
    );
    assert_eq!(
        o.fulfilment(&ank).unwrap().status,
        FulfilmentOrderStatus::Shipped
    );
    assert_eq!(
        o.fulfilment_status(),
        ordersmith::order::FulfilmentStatus::Fulfilled
    );
    assert_eq!(level(&t.engine, "TEA", "ANK"), (4, 0));
    check(&t.engine, &o.id);

    // The label request left as an outbox effect for the host.
    let effects = t.engine.pending_effects(1000).unwrap();
    let requests: Vec<_> = effects
        .iter()
        .filter(|e| e.topic == "fulfilment.label_requested")
        .collect();
    assert_eq!(requests.len(), 3);
    assert!(requests[0]
        .payload_json
        .contains("\"service\":\"standard\""));
    assert!(effects
        .iter()
        .any(|e| e.topic == "fulfilment.parcel_handed_over"));
}

#[test]
fn bad_warehouse_steps_are_refused_and_change_nothing() {
    let t = test_engine();
    shop(&t.engine, &[("MUG", "IST", 5)]);
    let o = t
        .engine
        .place_order(order_of(&[("MUG", 3)]), &ctx())
        .unwrap();
    let o = t.engine.confirm_order(&o.id, &ctx()).unwrap();
    let fo = o.fulfilments[0].id.clone();
    pick(&t.engine, &o.id, &fo, &[("L1", 2)], &[]);
    let before = t.engine.order(&o.id).unwrap();
    let ledger_before = t
        .engine
        .with_stock(|s| serde_json::to_value(s).unwrap())
        .unwrap();
    let try_step = |step: FulfilmentCommand| t.engine.fulfil(&o.id, step, &ctx()).unwrap_err();
    // Packing more than picked.
    let e = try_step(FulfilmentCommand::Pack {
        fulfilment: fo.clone(),
        units: lines(&[("L1", 3)]),
        size: size(),
    });
    assert_eq!(e.code(), "FULFILMENT_PACK_EXCEEDS_PICKED");
    assert!(e.to_string().contains("only 2 picked"), "{e}");
    // Picking more than is left.
    let e = try_step(FulfilmentCommand::Pick {
        fulfilment: fo.clone(),
        picked: lines(&[("L1", 2)]),
        short: vec![],
    });
    assert_eq!(e.code(), "FULFILMENT_PICK_EXCEEDS_ASSIGNED");
    // An unknown parcel, an unknown fulfilment order, an unknown line.
    let e = try_step(FulfilmentCommand::HandOver {
        fulfilment: fo.clone(),
        parcel: "F1-P9".into(),
    });
    assert_eq!(e.code(), "FULFILMENT_UNKNOWN_PARCEL");
    let e = try_step(FulfilmentCommand::Hold {
        fulfilment: "F9".into(),
        reason: "x".into(),
    });
    assert_eq!(e.code(), "FULFILMENT_UNKNOWN");
    let e = try_step(FulfilmentCommand::Pick {
        fulfilment: fo.clone(),
        picked: lines(&[("L7", 1)]),
        short: vec![],
    });
    assert_eq!(e.code(), "ORDER_UNKNOWN_LINE");
    // A parcel with no weight; handing over an unlabelled parcel.
    let e = try_step(FulfilmentCommand::Pack {
        fulfilment: fo.clone(),
        units: lines(&[("L1", 1)]),
        size: ParcelSize::default(),
    });
    assert_eq!(e.code(), "FULFILMENT_INVALID_PARCEL");
    assert_eq!(t.engine.order(&o.id).unwrap(), before);
    let o2 = pack(&t.engine, &o.id, &fo, &[("L1", 2)]);
    let parcel = o2.fulfilments[0].parcels[0].id.clone();
    let e = try_step(FulfilmentCommand::HandOver {
        fulfilment: fo.clone(),
        parcel: parcel.clone(),
    });
    assert_eq!(e.code(), "FULFILMENT_PARCEL_STATE");
    assert!(e.to_string().contains("needs a recorded label"), "{e}");
    // A label with an empty tracking number.
    let e = try_step(FulfilmentCommand::RecordLabel {
        fulfilment: fo.clone(),
        parcel: parcel.clone(),
        label: label(" "),
    });
    assert_eq!(e.code(), "FULFILMENT_INVALID_LABEL");
    // Moving a picked fulfilment order.
    let e = try_step(FulfilmentCommand::Move {
        fulfilment: fo.clone(),
        to: loc("ANK"),
    });
    assert_eq!(e.code(), "FULFILMENT_ALREADY_PICKED");
    // Nothing moved in the ledger.
    let ledger_after = t
        .engine
        .with_stock(|s| serde_json::to_value(s).unwrap())
        .unwrap();
    assert_eq!(ledger_before, ledger_after);
    // A held order runs no warehouse step.
    t.engine
        .hold_order(&o.id, HoldReason::FraudReview, None, &ctx())
        .unwrap();
    let e = try_step(FulfilmentCommand::Hold {
        fulfilment: fo.clone(),
        reason: "x".into(),
    });
    assert_eq!(e.code(), "ORDER_INVALID_TRANSITION");
}

#[test]
fn a_short_pick_is_written_off_and_re_sourced_elsewhere() {
    let t = test_engine();
    shop(&t.engine, &[("MUG", "IST", 3), ("MUG", "ANK", 5)]);
    let o = t
        .engine
        .place_order(order_of(&[("MUG", 3)]), &ctx())
        .unwrap();
    let o = t.engine.confirm_order(&o.id, &ctx()).unwrap();
    let ist = o.fulfilments[0].id.clone();
    // Only one mug on the shelf at IST.
    let o = pick(&t.engine, &o.id, &ist, &[("L1", 1)], &[("L1", 2)]);
    let o = check(&t.engine, &o.id);
    // Two written off at IST; the order holds 1 at IST (picked) and 2 at ANK.
    assert_eq!(level(&t.engine, "MUG", "IST"), (1, 1));
    assert_eq!(level(&t.engine, "MUG", "ANK"), (5, 2));
    assert_eq!(o.status, OrderStatus::Confirmed);
    let fo = o.fulfilment(&ist).unwrap();
    assert_eq!(fo.short_picks.len(), 1);
    assert_eq!(fo.short_picks[0].handled_by, ShortPickPolicy::Resource);
    assert!(o
        .fulfilments
        .iter()
        .any(|f| f.location == loc("ANK") && !f.status.is_closed()));
    let journal_refs: Vec<String> = t
        .engine
        .with_stock(|s| {
            s.journal()
                .iter()
                .filter_map(|m| m.reference.clone())
                .collect()
        })
        .unwrap();
    assert!(journal_refs.iter().any(|r| r.starts_with("short pick")));
}

#[test]
fn short_pick_policies_backorder_and_cancel() {
    for policy in [ShortPickPolicy::Backorder, ShortPickPolicy::CancelLine] {
        let t = test_engine();
        let engine = t.engine.clone().with_config(EngineConfig {
            short_pick: policy,
            ..EngineConfig::default()
        });
        shop(&engine, &[("MUG", "IST", 3), ("MUG", "ANK", 5)]);
        let o = engine.place_order(order_of(&[("MUG", 3)]), &ctx()).unwrap();
        let o = engine.confirm_order(&o.id, &ctx()).unwrap();
        let ist = o.fulfilments[0].id.clone();
        let o = pick(&engine, &o.id, &ist, &[("L1", 1)], &[("L1", 2)]);
        let o = check(&engine, &o.id);
        assert_eq!(level(&engine, "MUG", "IST"), (1, 1));
        assert_eq!(
            level(&engine, "MUG", "ANK"),
            (5, 0),
            "{policy:?}: not re-sourced"
        );
        match policy {
            ShortPickPolicy::Backorder => {
                assert_eq!(o.status, OrderStatus::OnHold);
                assert_eq!(o.hold.unwrap().reason, HoldReason::InsufficientStock);
                assert_eq!(o.lines[0].open_quantity(), 3);
            }
            _ => {
                assert_eq!(o.status, OrderStatus::Confirmed);
                assert_eq!(o.lines[0].fulfilment.cancelled, 2);
                assert_eq!(o.lines[0].open_quantity(), 1);
            }
        }
    }
}

#[test]
fn an_unpicked_fulfilment_order_moves_and_a_picked_one_cancelled_puts_goods_back() {
    let t = test_engine();
    shop(
        &t.engine,
        &[("MUG", "IST", 5), ("MUG", "IZM", 5), ("TEA", "IST", 2)],
    );
    let o = t
        .engine
        .place_order(order_of(&[("MUG", 2), ("TEA", 1)]), &ctx())
        .unwrap();
    let o = t.engine.confirm_order(&o.id, &ctx()).unwrap();
    let f1 = o.fulfilments[0].id.clone();
    // No tea at IZM: the move is refused and nothing changes.
    let e = t
        .engine
        .fulfil(
            &o.id,
            FulfilmentCommand::Move {
                fulfilment: f1.clone(),
                to: loc("IZM"),
            },
            &ctx(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "STOCK_INSUFFICIENT");
    assert_eq!(level(&t.engine, "MUG", "IST"), (5, 2));
    let e = t
        .engine
        .fulfil(
            &o.id,
            FulfilmentCommand::Move {
                fulfilment: f1.clone(),
                to: loc("NOPE"),
            },
            &ctx(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "FULFILMENT_INVALID_MOVE");
    // Receive tea at IZM and move.
    t.engine
        .stock(StockCommand::Receive {
            variant: variant("TEA"),
            location: loc("IZM"),
            quantity: 3,
            reference: None,
        })
        .unwrap();
    let o = t
        .engine
        .fulfil(
            &o.id,
            FulfilmentCommand::Move {
                fulfilment: f1.clone(),
                to: loc("IZM"),
            },
            &ctx(),
        )
        .unwrap();
    let o = check(&t.engine, &o.id);
    let old = o.fulfilment(&f1).unwrap();
    assert_eq!(old.status, FulfilmentOrderStatus::Moved);
    let f2 = old.moved_to.clone().unwrap();
    assert_eq!(o.fulfilment(&f2).unwrap().location, loc("IZM"));
    assert_eq!(level(&t.engine, "MUG", "IST"), (5, 0));
    assert_eq!(level(&t.engine, "MUG", "IZM"), (5, 2));
    assert_eq!(level(&t.engine, "TEA", "IZM"), (3, 1));

    // Hold stops work, release resumes it.
    t.engine
        .fulfil(
            &o.id,
            FulfilmentCommand::Hold {
                fulfilment: f2.clone(),
                reason: "address check".into(),
            },
            &ctx(),
        )
        .unwrap();
    let e = t
        .engine
        .fulfil(
            &o.id,
            FulfilmentCommand::Pick {
                fulfilment: f2.clone(),
                picked: lines(&[("L1", 1)]),
                short: vec![],
            },
            &ctx(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "FULFILMENT_NOT_ACTIVE");
    t.engine
        .fulfil(
            &o.id,
            FulfilmentCommand::Release {
                fulfilment: f2.clone(),
            },
            &ctx(),
        )
        .unwrap();
    // Pick the mugs, then cancel the fulfilment order: the units are cancelled on the
    // order, their reservations released, the picked mugs go back to the shelf.
    pick(&t.engine, &o.id, &f2, &[("L1", 2)], &[]);
    let o = t
        .engine
        .fulfil(
            &o.id,
            FulfilmentCommand::Cancel {
                fulfilment: f2.clone(),
                reason: CancelReason::Staff,
            },
            &ctx(),
        )
        .unwrap();
    let o = check(&t.engine, &o.id);
    assert_eq!(o.status, OrderStatus::Cancelled);
    let fo = o.fulfilment(&f2).unwrap();
    assert_eq!(fo.status, FulfilmentOrderStatus::Cancelled);
    assert_eq!(level(&t.engine, "MUG", "IZM"), (5, 0));
    assert_eq!(level(&t.engine, "TEA", "IZM"), (3, 0));
    let history = t.engine.order_history(&o.id).unwrap();
    let closed = history
        .iter()
        .find_map(|r| match &r.event {
            ordersmith::order::OrderEvent::FulfilmentClosed(c) if c.fulfilment == f2 => {
                Some(c.put_back.clone())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(closed, lines(&[("L1", 2)]));
    // A label for a cancelled fulfilment order is refused.
    let e = t
        .engine
        .fulfil(
            &o.id,
            FulfilmentCommand::RecordLabel {
                fulfilment: f2,
                parcel: "x".into(),
                label: label("RR1"),
            },
            &ctx(),
        )
        .unwrap_err();
    assert!(["FULFILMENT_NOT_ACTIVE", "ORDER_INVALID_TRANSITION"].contains(&e.code()));
}

#[test]
fn cancelling_the_order_after_picking_closes_its_fulfilment_orders_and_puts_goods_back() {
    let t = test_engine();
    shop(&t.engine, &[("MUG", "IST", 5)]);
    let o = t
        .engine
        .place_order(order_of(&[("MUG", 2)]), &ctx())
        .unwrap();
    let o = t.engine.confirm_order(&o.id, &ctx()).unwrap();
    let f1 = o.fulfilments[0].id.clone();
    pick(&t.engine, &o.id, &f1, &[("L1", 2)], &[]);
    let o = t
        .engine
        .cancel_order(&o.id, CancelReason::Customer, &ctx())
        .unwrap();
    let o = check(&t.engine, &o.id);
    assert_eq!(
        o.fulfilment(&f1).unwrap().status,
        FulfilmentOrderStatus::Cancelled
    );
    assert_eq!(level(&t.engine, "MUG", "IST"), (5, 0));
}

#[test]
fn fulfilment_steps_are_idempotent_by_key_and_replay_from_history() {
    let t = test_engine();
    shop(&t.engine, &[("MUG", "IST", 5)]);
    let o = t
        .engine
        .place_order(order_of(&[("MUG", 2)]), &ctx())
        .unwrap();
    let o = t.engine.confirm_order(&o.id, &ctx()).unwrap();
    let f1 = o.fulfilments[0].id.clone();
    let keyed = CommandContext::system().with_idempotency_key("pick-1");
    let step = FulfilmentCommand::Pick {
        fulfilment: f1.clone(),
        picked: lines(&[("L1", 2)]),
        short: vec![],
    };
    let first = t.engine.fulfil(&o.id, step.clone(), &keyed).unwrap();
    let again = t.engine.fulfil(&o.id, step, &keyed).unwrap();
    assert_eq!(first, again);
    let history = t.engine.order_history(&o.id).unwrap();
    assert_eq!(
        Order::replay(&history).unwrap(),
        t.engine.order(&o.id).unwrap()
    );
}

mod tracking_and_customers {
    use super::*;
    use chrono::{Duration, NaiveTime, TimeZone, Utc, Weekday};
    use ordersmith::engine::NotificationConfig;
    use ordersmith::fulfilment::{CarrierEvent, ShippingCalendar, SsccConfig, TrackingStatus};
    use ordersmith::notify::{Locale, NotificationChannel, TemplateSet};
    use ordersmith::pii::{Customer, Redacted};

    fn engine(t: &TestEngine) -> Engine {
        let calendar = ShippingCalendar::new(
            chrono_tz::Europe::Istanbul,
            NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
            1,
        )
        .unwrap()
        .with_non_working_day(Weekday::Sun)
        .unwrap();
        // The host extends the shipped UPS table with a code of its own integration.
        let mut carrier_statuses = ordersmith::fulfilment::CarrierStatusTable::shipped();
        carrier_statuses
            .set(
                &ordersmith::fulfilment::Carrier::Ups,
                "FA",
                TrackingStatus::DeliveryFailed,
            )
            .unwrap();
        let engine = t.engine.clone().with_config(EngineConfig {
            carrier_statuses,
            sscc: Some(SsccConfig::new(0, "8691234", 1..=999_999).unwrap()),
            notifications: Some(NotificationConfig {
                channels: vec![NotificationChannel::Email, NotificationChannel::Sms],
                tracking_url: Some("https://track.example/{carrier}/{tracking_number}".into()),
                order_url: None,
                action_url: Some("https://shop.example/orders/{order_ref}".into()),
            }),
            shipping_calendar: Some(calendar),
            ..EngineConfig::default()
        });
        shop(&engine, &[("MUG", "IST", 5), ("TEA", "ANK", 5)]);
        engine
    }

    fn customer_order(lines: &[(&str, u32)], locale: &str) -> NewOrder {
        let mut new = order_of(lines);
        new.external_ref = Some("TY-1001".into());
        new.customer = Some(Customer {
            id: None,
            name: Redacted::new("Ayşe Yılmaz".to_string()),
            email: Some(Redacted::new("ayse@example.com".to_string())),
            phone: Some(Redacted::new("+90 555 000 0000".to_string())),
            locale: Some(locale.into()),
        });
        new
    }

    fn event(at_min: i64, code: &str) -> CarrierEvent {
        CarrierEvent::new(at(21, 9) + Duration::minutes(at_min), code, Some("Ankara")).unwrap()
    }

    fn notifications(t: &TestEngine) -> Vec<serde_json::Value> {
        t.engine
            .pending_effects(1000)
            .unwrap()
            .into_iter()
            .filter(|e| e.topic == "notification.requested")
            .map(|e| serde_json::from_str::<serde_json::Value>(&e.payload_json).unwrap())
            .collect()
    }

    #[test]
    fn carrier_events_move_parcels_forward_only_and_customers_hear_each_stage_once() {
        let t = test_engine();
        let engine = engine(&t);
        let o = engine
            .place_order(customer_order(&[("MUG", 1), ("TEA", 1)], "tr-TR"), &ctx())
            .unwrap();
        let o = engine.confirm_order(&o.id, &ctx()).unwrap();
        let (ist, ank) = (o.fulfilments[0].id.clone(), o.fulfilments[1].id.clone());
        // Both parcels packed (each gets an SSCC), labelled (UPS and PTT).
        for (fo, line, number) in [
            (&ist, "L1", "1Z999AA10123456784"),
            (&ank, "L2", "RR123456785TR"),
        ] {
            pick(&engine, &o.id, fo, &[(line, 1)], &[]);
            let order = pack(&engine, &o.id, fo, &[(line, 1)]);
            let parcel = order.fulfilment(fo).unwrap().parcels[0].clone();
            let sscc = parcel.sscc.clone().unwrap();
            assert!(sscc.as_str().starts_with("08691234"), "{sscc}");
            assert!(ordersmith::fulfilment::Sscc::parse(sscc.as_str()).is_ok());
            engine
                .fulfil(
                    &o.id,
                    FulfilmentCommand::RecordLabel {
                        fulfilment: fo.clone(),
                        parcel: parcel.id.clone(),
                        label: label(number),
                    },
                    &ctx(),
                )
                .unwrap();
        }
        // A wrong check digit on a UPS number is a typed error.
        let e = engine
            .fulfil(
                &o.id,
                FulfilmentCommand::RecordLabel {
                    fulfilment: ist.clone(),
                    parcel: format!("{ist}-P1"),
                    label: label("1Z999AA10123456785"),
                },
                &ctx(),
            )
            .unwrap_err();
        assert!(
            e.code().starts_with("FULFILMENT_TRACKING_NUMBER"),
            "{}",
            e.code()
        );
        let p_ist = format!("{ist}-P1");
        let p_ank = format!("{ank}-P1");
        // UPS picks up the IST parcel (implied hand-over: the ledger commits).
        let order = engine
            .record_tracking_event(&o.id, &ist, &p_ist, event(0, "P"), &ctx())
            .unwrap();
        assert_eq!(order.lines[0].fulfilment.shipped, 1);
        assert_eq!(level(&engine, "MUG", "IST"), (4, 0));
        // Out of order and repeated events never move it back or duplicate anything.
        let v = engine.order(&o.id).unwrap().version;
        engine
            .record_tracking_event(&o.id, &ist, &p_ist, event(0, "P"), &ctx())
            .unwrap();
        assert_eq!(
            engine.order(&o.id).unwrap().version,
            v,
            "a duplicate changes nothing"
        );
        engine
            .record_tracking_event(&o.id, &ist, &p_ist, event(60, "I"), &ctx())
            .unwrap();
        engine
            .record_tracking_event(&o.id, &ist, &p_ist, event(30, "M"), &ctx())
            .unwrap();
        let tracking = |order: &Order, fo: &str, p: &str| {
            order
                .fulfilment(fo)
                .unwrap()
                .parcel(p)
                .unwrap()
                .tracking
                .clone()
                .unwrap()
        };
        let order = engine.order(&o.id).unwrap();
        assert_eq!(
            tracking(&order, &ist, &p_ist).status(),
            Some(TrackingStatus::InTransit)
        );
        // Out for delivery, a failed attempt, then delivered.
        engine
            .record_tracking_event(&o.id, &ist, &p_ist, event(120, "O"), &ctx())
            .unwrap();
        engine
            .record_tracking_event(&o.id, &ist, &p_ist, event(180, "FA"), &ctx())
            .unwrap();
        let order = engine
            .record_tracking_event(&o.id, &ist, &p_ist, event(1500, "D"), &ctx())
            .unwrap();
        assert_eq!(
            tracking(&order, &ist, &p_ist).status(),
            Some(TrackingStatus::Delivered)
        );
        assert_eq!(order.lines[0].fulfilment.delivered, 1);
        // In transit after delivered is recorded as ignored.
        engine
            .record_tracking_event(&o.id, &ist, &p_ist, event(1600, "I"), &ctx())
            .unwrap();
        let order = engine.order(&o.id).unwrap();
        assert_eq!(
            tracking(&order, &ist, &p_ist).status(),
            Some(TrackingStatus::Delivered)
        );
        assert_eq!(order.lines[0].fulfilment.delivered, 1);
        // The PTT parcel is handed over by hand.
        engine
            .fulfil(
                &o.id,
                FulfilmentCommand::HandOver {
                    fulfilment: ank.clone(),
                    parcel: p_ank.clone(),
                },
                &ctx(),
            )
            .unwrap();
        check(&engine, &o.id);

        // Notifications: each stage once per channel, with unique dedupe keys.
        let sent = notifications(&t);
        let keys: Vec<String> = sent
            .iter()
            .map(|n| {
                n["event"]["notification"]["dedupe_key"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{keys:#?}");
        let stages: Vec<(String, String)> = sent
            .iter()
            .map(|n| {
                let n = &n["event"]["notification"];
                (
                    n["key"].as_str().unwrap().to_string(),
                    n["channel"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        for stage in [
            "order_received",
            "order_confirmed",
            "out_for_delivery",
            "delivered",
        ] {
            for channel in ["email", "sms"] {
                let n = stages
                    .iter()
                    .filter(|(k, c)| k == stage && c == channel)
                    .count();
                assert_eq!(n, 1, "{stage} on {channel}: {stages:?}");
            }
        }
        // One "shipped" per parcel and channel, with the tracking link.
        assert_eq!(
            stages.iter().filter(|(k, _)| k == "order_shipped").count(),
            4
        );
        let shipped = sent
            .iter()
            .find(|n| n["event"]["notification"]["key"] == "order_shipped")
            .unwrap();
        let vars = &shipped["event"]["notification"]["variables"];
        assert_eq!(vars["order_ref"], "TY-1001");
        assert!(vars["tracking_url"]
            .as_str()
            .unwrap()
            .starts_with("https://track.example/"));
        // A delivery attempt failed: notified too.
        assert_eq!(
            stages
                .iter()
                .filter(|(k, _)| k == "delivery_failed")
                .count(),
            2
        );
        // Every requested notification renders with the shipped templates, in Turkish.
        let templates = TemplateSet::shipped().unwrap();
        for n in &sent {
            let notification: ordersmith::notify::Notification =
                serde_json::from_value(n["event"]["notification"].clone()).unwrap();
            assert_eq!(notification.locale(), Locale::Tr);
            let message = notification.render(&templates).unwrap();
            assert!(!message.body.contains('{'), "{}", message.body);
        }

        // "Where is my order", in English and Turkish.
        let en = engine.timeline(&o.id, Locale::En).unwrap();
        assert_eq!(en.order_ref, "TY-1001");
        let done: Vec<&str> = en
            .steps
            .iter()
            .filter(|s| s.done)
            .map(|s| s.stage.as_str())
            .collect();
        assert_eq!(
            done,
            ["received", "confirmed", "shipped", "out_for_delivery"]
        );
        assert_eq!(en.parcels.len(), 2);
        assert_eq!(en.parcels[0].status, "Delivered");
        assert_eq!(en.parcels[1].status, "Shipped");
        assert_eq!(
            en.parcels[0].tracking_url.as_deref(),
            Some("https://track.example/ups/1Z999AA10123456784")
        );
        // Times in Istanbul (UTC+3).
        assert!(
            en.parcels[0]
                .events
                .iter()
                .any(|e| e.at == "2026-11-21 12:00"),
            "{:?}",
            en.parcels[0].events
        );
        assert!(en.ship_by.is_some() && en.delivery_estimate.is_some());
        let tr = engine.timeline(&o.id, Locale::Tr).unwrap();
        assert_eq!(tr.steps[0].label, "Sipariş alındı");
        assert_eq!(tr.parcels[0].status, "Teslim edildi");

        // The second parcel (a carrier without a status table here) is recorded
        // delivered two days later: the order is delivered when its last parcel was,
        // not when its first was (which came before the order went out for delivery).
        t.clock.set(at(23, 7));
        engine
            .record_delivery(&o.id, vec![lq("L2", 1)], &ctx())
            .unwrap();
        let en = engine.timeline(&o.id, Locale::En).unwrap();
        let at = |stage: &str| {
            en.steps
                .iter()
                .find(|s| s.stage == stage)
                .and_then(|s| s.at.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            at("out_for_delivery"),
            "2026-11-21 14:00",
            "the first time out"
        );
        assert_eq!(at("delivered"), "2026-11-23 10:00", "the last parcel");
    }

    #[test]
    fn late_and_at_risk_fulfilment_orders_are_listed() {
        let t = test_engine();
        let engine = engine(&t);
        // Placed Friday 2026-11-20 10:00 UTC (13:00 Istanbul, before the 14:00
        // cut-off): one handling day → ship by Saturday 21st 14:00 Istanbul = 11:00 UTC.
        let o = engine.place_order(order_of(&[("MUG", 1)]), &ctx()).unwrap();
        engine.confirm_order(&o.id, &ctx()).unwrap();
        let ship_by = engine
            .ship_by(&engine.order(&o.id).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            ship_by,
            Utc.with_ymd_and_hms(2026, 11, 21, 11, 0, 0).unwrap()
        );
        t.clock
            .set(Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap());
        assert!(engine
            .fulfilments_due(Duration::hours(2))
            .unwrap()
            .is_empty());
        let due = engine.fulfilments_due(Duration::hours(4)).unwrap();
        assert_eq!(due.len(), 1);
        assert!(!due[0].late);
        t.clock
            .set(Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap());
        let due = engine.fulfilments_due(Duration::hours(1)).unwrap();
        assert!(due[0].late);
    }
}

#[test]
fn customers_who_opted_out_of_a_channel_get_nothing_there() {
    use ordersmith::engine::NotificationConfig;
    use ordersmith::notify::NotificationChannel;
    use ordersmith::pii::{Customer, Redacted};
    let t = test_engine();
    let engine = t.engine.clone().with_config(EngineConfig {
        notifications: Some(NotificationConfig {
            channels: vec![NotificationChannel::Email, NotificationChannel::Sms],
            ..NotificationConfig::default()
        }),
        ..EngineConfig::default()
    });
    shop(&engine, &[("MUG", "IST", 5)]);
    let mut new = order_of(&[("MUG", 1)]);
    new.customer = Some(Customer {
        name: Redacted::new("Ayşe".to_string()),
        email: Some(Redacted::new("ayse@example.com".to_string())),
        phone: Some(Redacted::new("+90 555".to_string())),
        ..Customer::default()
    });
    new.notification_opt_outs = vec![NotificationChannel::Sms];
    let o = engine.place_order(new, &ctx()).unwrap();
    engine.confirm_order(&o.id, &ctx()).unwrap();
    let channels: Vec<String> = engine
        .pending_effects(1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.topic == "notification.requested")
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.payload_json).unwrap();
            v["event"]["notification"]["channel"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(channels, ["email", "email"]);
}

// Units picked or packed in an open fulfilment order are on a trolley or in a parcel:
// an edit or a line cancellation may not take them off the line (the hand-over would
// then find no reservation to commit, and the ledger would never see them leave). They
// leave with the parcel, or go back to the shelf when the fulfilment order is
// cancelled; units not yet picked can still be cancelled or edited away.
#[test]
fn picked_and_packed_units_stay_on_their_line_until_they_leave_or_go_back() {
    use ordersmith::order::LineEdit;
    let t = test_engine();
    let e = &t.engine;
    shop(e, &[("MUG", "IST", 5), ("TEA", "IST", 5)]);
    let o = e
        .place_order(order_of(&[("MUG", 1), ("TEA", 3)]), &ctx())
        .unwrap();
    let o = e.confirm_order(&o.id, &ctx()).unwrap();
    let f1 = o.fulfilments[0].id.clone();
    pick(e, &o.id, &f1, &[("L1", 1), ("L2", 2)], &[]);
    pack(e, &o.id, &f1, &[("L1", 1), ("L2", 2)]);
    let packed = e.order(&o.id).unwrap();

    let refused = [
        e.edit_order(
            &o.id,
            vec![LineEdit::Remove {
                line_id: line_id("L2"),
            }],
            &ctx(),
        ),
        e.edit_order(
            &o.id,
            vec![LineEdit::SetQuantity {
                line_id: line_id("L2"),
                quantity: 1,
            }],
            &ctx(),
        ),
        e.cancel_lines(&o.id, lines(&[("L2", 2)]), CancelReason::Customer, &ctx()),
    ];
    for r in refused {
        let err = r.unwrap_err();
        assert_eq!(err.code(), "ORDER_LINE_IN_FULFILMENT", "{err}");
        assert!(err.to_string().contains(&f1), "{err}");
    }
    assert_eq!(e.order(&o.id).unwrap(), packed, "nothing changed");
    assert_eq!(level(e, "TEA", "IST"), (5, 3));

    // The unpicked third TEA can still go, by a cancellation or an edit down to the
    // two in the parcel.
    let o = e
        .cancel_lines(&o.id, lines(&[("L2", 1)]), CancelReason::Customer, &ctx())
        .unwrap();
    assert_eq!(o.line(&line_id("L2")).unwrap().active_quantity(), 2);
    assert_eq!(level(e, "TEA", "IST"), (5, 2));
    check(e, &o.id);

    // The parcel leaves with both lines: every unit in it comes off the shelf.
    label_and_hand_over(e, &o.id, &f1, "F1-P1", "1Z999AA10123456784");
    let o = check(e, &o.id);
    assert_eq!(o.line(&line_id("L2")).unwrap().fulfilment.shipped, 2);
    assert_eq!(level(e, "MUG", "IST"), (4, 0));
    assert_eq!(level(e, "TEA", "IST"), (3, 0));
}

// Units reserved ahead of stock (a backorder policy) are on the pick list but were
// never on the shelf: a picker reporting them short is handled by the short-pick
// policy, and nothing is written off that the ledger never counted on hand (the
// write-off was refused as a loss larger than on hand, and with it the whole step).
#[test]
fn a_short_pick_of_units_reserved_ahead_of_stock_is_handled_not_refused() {
    let t = test_engine();
    let engine = t.engine.clone().with_config(EngineConfig {
        short_pick: ShortPickPolicy::Backorder,
        ..EngineConfig::default()
    });
    shop(&engine, &[("MUG", "IST", 1)]);
    engine
        .stock(StockCommand::SetPolicy {
            variant: variant("MUG"),
            policy: StockPolicy::Backorder { limit: None },
        })
        .unwrap();
    let o = engine.place_order(order_of(&[("MUG", 3)]), &ctx()).unwrap();
    let o = engine.confirm_order(&o.id, &ctx()).unwrap();
    assert_eq!(level(&engine, "MUG", "IST"), (1, 3), "two reserved ahead");
    let ist = o.fulfilments[0].id.clone();
    // One on the shelf is picked; the two never received are short.
    let o = pick(&engine, &o.id, &ist, &[("L1", 1)], &[("L1", 2)]);
    let o = check(&engine, &o.id);
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(o.hold.unwrap().reason, HoldReason::InsufficientStock);
    assert_eq!(level(&engine, "MUG", "IST"), (1, 1), "nothing written off");
}

// A bundle's units are its components on the shelf: a bundle reported short writes
// off its components' missing units, so the next order is not planned onto them.
#[test]
fn a_short_picked_bundle_writes_off_its_components() {
    let t = test_engine();
    let engine = t.engine.clone().with_config(EngineConfig {
        short_pick: ShortPickPolicy::Backorder,
        ..EngineConfig::default()
    });
    shop(&engine, &[("TEA", "IST", 5), ("CUP", "IST", 10)]);
    define_bundle(&engine, "TEA-SET", &[("TEA", 1), ("CUP", 2)]);
    let o = engine
        .place_order(order_of(&[("TEA-SET", 2)]), &ctx())
        .unwrap();
    let o = engine.confirm_order(&o.id, &ctx()).unwrap();
    assert_eq!(level(&engine, "TEA", "IST"), (5, 2));
    assert_eq!(level(&engine, "CUP", "IST"), (10, 4));
    let ist = o.fulfilments[0].id.clone();
    let o = pick(&engine, &o.id, &ist, &[("L1", 1)], &[("L1", 1)]);
    assert_eq!(o.status, OrderStatus::OnHold);
    // One set's components gone from the shelf; the picked set's still reserved.
    assert_eq!(level(&engine, "TEA", "IST"), (4, 1));
    assert_eq!(level(&engine, "CUP", "IST"), (8, 2));
}

// Moving an unpaid order's fulfilment order to another warehouse keeps its hold's
// deadline: a move is no way to earn a fresh time-to-live.
#[test]
fn a_moved_fulfilment_order_keeps_its_reservation_deadline() {
    let t = test_engine();
    let engine = t.engine.clone().with_config(EngineConfig {
        reservation_ttl: Some(chrono::TimeDelta::hours(1)),
        ..EngineConfig::default()
    });
    shop(&engine, &[("MUG", "IST", 5), ("MUG", "ANK", 5)]);
    let o = engine.place_order(order_of(&[("MUG", 2)]), &ctx()).unwrap();
    let o = engine.confirm_order(&o.id, &ctx()).unwrap();
    let deadline = |engine: &Engine, o: &Order| {
        let id = o.lines[0].allocations[0].reservation.clone();
        engine
            .with_stock(|l| l.reservation(&id).unwrap().expires_at)
            .unwrap()
    };
    let first = deadline(&engine, &o);
    assert_eq!(first, Some(at(20, 13)), "an hour from confirmation");
    t.clock.set(at(20, 12) + chrono::TimeDelta::minutes(45));
    let f1 = o.fulfilments[0].id.clone();
    let o = engine
        .fulfil(
            &o.id,
            FulfilmentCommand::Move {
                fulfilment: f1,
                to: loc("ANK"),
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(o.lines[0].allocations[0].location, loc("ANK"));
    assert_eq!(deadline(&engine, &o), first, "the same deadline, not 13:45");
    // Past it, the sweep lapses the moved hold like any other.
    t.clock.set(at(20, 13) + chrono::TimeDelta::minutes(1));
    let sweep = engine.sweep_expired_reservations().unwrap();
    assert_eq!(sweep.orders.len(), 1);
    assert_eq!(level(&engine, "MUG", "ANK"), (5, 0));
}
