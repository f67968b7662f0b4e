//! Orders and stock through the engine: reservations follow the order, atomically.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineConfig, ShortagePolicy, SourcingConfig};
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::order::{
    CancelReason, HoldReason, LineEdit, NewLine, NewOrder, Order, OrderStatus,
};
use ordersmith::pii::Address;
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::{Outbox, Store};
use ordersmith::stock::{
    rebuild_balances, Location, LocationKind, ReservationState, StockCommand, StockLedger,
    StockPolicy,
};

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn loc(id: &str) -> LocationId {
    LocationId::parse(id).unwrap()
}

/// Two warehouses (IST priority 1, ANK priority 2) and three variants.
fn stocked(t: &TestEngine, ist: u32, ank: u32) {
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
    ];
    for sku in ["SHIRT-M", "MUG"] {
        cmds.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
        for (l, q) in [("IST", ist), ("ANK", ank)] {
            if q > 0 {
                cmds.push(StockCommand::Receive {
                    variant: variant(sku),
                    location: loc(l),
                    quantity: q,
                    reference: Some("PO-1".into()),
                });
            }
        }
    }
    t.engine.stock_batch(cmds).unwrap();
}

fn level(engine: &Engine, sku: &str, l: &str) -> (i64, i64) {
    engine
        .with_stock(|s| {
            let lv = s.level(&variant(sku), &loc(l)).unwrap();
            (lv.on_hand, lv.reserved)
        })
        .unwrap()
}

/// The ledger as JSON (compared as maps, so hash-map order does not matter).
fn ledger_snapshot(engine: &Engine) -> serde_json::Value {
    engine
        .with_stock(|s| serde_json::to_value(s).unwrap())
        .unwrap()
}

fn allocated(order: &Order, line: &str) -> u32 {
    order.line(&line_id(line)).unwrap().fulfilment.allocated
}

#[test]
fn confirm_reserves_cancel_releases_and_shipment_commits() {
    let t = test_engine();
    stocked(&t, 10, 10);
    let order = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    assert_eq!(
        level(&t.engine, "SHIRT-M", "IST"),
        (10, 0),
        "pending orders hold nothing"
    );
    let order = t.engine.confirm_order(&order.id, &ctx()).unwrap();
    assert_eq!(allocated(&order, "L1"), 2);
    assert_eq!(allocated(&order, "L2"), 1);
    assert_eq!(level(&t.engine, "SHIRT-M", "IST"), (10, 2));
    assert_eq!(level(&t.engine, "MUG", "IST"), (10, 1));

    // Cancel one shirt: its reservation shrinks to one unit.
    let order = t
        .engine
        .cancel_lines(&order.id, vec![lq("L1", 1)], CancelReason::Customer, &ctx())
        .unwrap();
    assert_eq!(allocated(&order, "L1"), 1);
    assert_eq!(level(&t.engine, "SHIRT-M", "IST"), (10, 1));

    // Ship the shirt: reserved → sold.
    let order = t
        .engine
        .record_shipment(&order.id, vec![lq("L1", 1)], &ctx())
        .unwrap();
    assert_eq!(allocated(&order, "L1"), 0);
    assert_eq!(level(&t.engine, "SHIRT-M", "IST"), (9, 0));

    // Cancel the mug: its reservation is released.
    let order = t
        .engine
        .cancel_lines(
            &order.id,
            vec![lq("L2", 1)],
            CancelReason::Inventory,
            &ctx(),
        )
        .unwrap();
    assert_eq!(allocated(&order, "L2"), 0);
    assert_eq!(level(&t.engine, "MUG", "IST"), (10, 0));
    let topics: Vec<&str> = t
        .engine
        .order_history(&order.id)
        .unwrap()
        .iter()
        .map(|r| r.event.topic())
        .collect();
    assert!(topics.contains(&"order.allocated"));
    assert!(topics.contains(&"order.allocation_committed"));
    assert!(topics.contains(&"order.deallocated"));
    t.engine
        .with_stock(|s| assert_eq!(rebuild_balances(s.journal()), *s.balances()))
        .unwrap();
}

#[test]
fn a_shortage_fails_the_confirmation_and_changes_nothing() {
    let t = test_engine();
    stocked(&t, 1, 0);
    let order = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    let before_ledger = ledger_snapshot(&t.engine);
    let before_order = serde_json::to_string(&t.engine.order(&order.id).unwrap()).unwrap();
    let err = t.engine.confirm_order(&order.id, &ctx()).unwrap_err();
    assert_eq!(err.code(), "STOCK_INSUFFICIENT");
    assert!(err.to_string().contains("SHIRT-M"), "{err}");
    assert_eq!(ledger_snapshot(&t.engine), before_ledger);
    assert_eq!(
        serde_json::to_string(&t.engine.order(&order.id).unwrap()).unwrap(),
        before_order
    );
}

#[test]
fn split_sourcing_and_nearest_region() {
    let t = test_engine();
    stocked(&t, 1, 5);
    let engine = t.engine.clone();
    let order = engine.place_order(sample_order("web"), &ctx()).unwrap();
    let order = engine.confirm_order(&order.id, &ctx()).unwrap();
    // Only Ankara has 2 shirts; priority keeps the mug in Istanbul? No: one location
    // with everything (Ankara) wins over splitting.
    let l1 = order.line(&line_id("L1")).unwrap();
    assert_eq!(l1.allocations[0].location, loc("ANK"));

    let near = t.engine.clone().with_config(EngineConfig {
        sourcing: SourcingConfig::NearestRegion,
        ..EngineConfig::default()
    });
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 11),
        try_(),
        vec![NewLine::new(variant("MUG"), 1, money("50"))],
    );
    new.shipping_address = Some(Address {
        region: Some("TR-34".into()),
        country: "TR".into(),
        ..Address::default()
    });
    let o = near.place_order(new, &ctx()).unwrap();
    let o = near.confirm_order(&o.id, &ctx()).unwrap();
    assert_eq!(
        o.line(&line_id("L1")).unwrap().allocations[0].location,
        loc("IST")
    );
}

#[test]
fn hold_on_shortage_then_release_after_a_receipt() {
    let t = test_engine();
    stocked(&t, 1, 0);
    let engine = t.engine.clone().with_config(EngineConfig {
        on_shortage: ShortagePolicy::Hold,
        ..EngineConfig::default()
    });
    let order = engine.place_order(sample_order("web"), &ctx()).unwrap();
    let order = engine.confirm_order(&order.id, &ctx()).unwrap();
    assert_eq!(order.status, OrderStatus::OnHold);
    let hold = order.hold.clone().unwrap();
    assert_eq!(hold.reason, HoldReason::InsufficientStock);
    assert_eq!(hold.previous, OrderStatus::Confirmed);
    assert!(hold.note.unwrap().contains("SHIRT-M"));
    assert_eq!(
        allocated(&order, "L1"),
        1,
        "what exists is held for the order"
    );
    assert_eq!(
        engine.release_hold(&order.id, &ctx()).unwrap_err().code(),
        "STOCK_INSUFFICIENT"
    );
    engine
        .stock(StockCommand::Receive {
            variant: variant("SHIRT-M"),
            location: loc("IST"),
            quantity: 5,
            reference: None,
        })
        .unwrap();
    let order = engine.release_hold(&order.id, &ctx()).unwrap();
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(allocated(&order, "L1"), 2);
}

#[test]
fn backorder_variants_reserve_past_zero_and_untracked_variants_are_not_reserved() {
    let t = test_engine();
    stocked(&t, 0, 0);
    t.engine
        .stock(StockCommand::SetPolicy {
            variant: variant("SHIRT-M"),
            policy: StockPolicy::Backorder { limit: Some(5) },
        })
        .unwrap();
    t.engine
        .stock(StockCommand::SetPolicy {
            variant: variant("MUG"),
            policy: StockPolicy::Backorder { limit: None },
        })
        .unwrap();
    let mut new = sample_order("web");
    new.lines
        .push(NewLine::new(variant("GIFT-CARD"), 1, money("100")));
    let order = t.engine.place_order(new, &ctx()).unwrap();
    let order = t.engine.confirm_order(&order.id, &ctx()).unwrap();
    assert_eq!(allocated(&order, "L1"), 2);
    assert_eq!(allocated(&order, "L3"), 0, "GIFT-CARD is not stock-tracked");
    assert_eq!(level(&t.engine, "SHIRT-M", "IST"), (0, 2));
}

#[test]
fn edits_release_and_re_reserve() {
    let t = test_engine();
    stocked(&t, 10, 0);
    let order = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    t.engine.confirm_order(&order.id, &ctx()).unwrap();
    let order = t
        .engine
        .edit_order(
            &order.id,
            vec![
                LineEdit::SetQuantity {
                    line_id: line_id("L1"),
                    quantity: 5,
                },
                LineEdit::Remove {
                    line_id: line_id("L2"),
                },
            ],
            &ctx(),
        )
        .unwrap();
    assert_eq!(allocated(&order, "L1"), 5);
    assert_eq!(level(&t.engine, "SHIRT-M", "IST"), (10, 5));
    assert_eq!(level(&t.engine, "MUG", "IST"), (10, 0));
    let err = t
        .engine
        .edit_order(
            &order.id,
            vec![LineEdit::SetQuantity {
                line_id: line_id("L1"),
                quantity: 11,
            }],
            &ctx(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "STOCK_INSUFFICIENT");
    assert_eq!(
        level(&t.engine, "SHIRT-M", "IST"),
        (10, 5),
        "a refused edit changes nothing"
    );
    assert_eq!(allocated(&t.engine.order(&order.id).unwrap(), "L1"), 5);
}

#[test]
fn cancelling_a_whole_order_releases_everything() {
    let t = test_engine();
    stocked(&t, 10, 0);
    let order = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    let confirmed = t.engine.confirm_order(&order.id, &ctx()).unwrap();
    let reservation = confirmed.line(&line_id("L1")).unwrap().allocations[0]
        .reservation
        .clone();
    let order = t
        .engine
        .cancel_order(&order.id, CancelReason::Fraud, &ctx())
        .unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(level(&t.engine, "SHIRT-M", "IST"), (10, 0));
    let released = t
        .engine
        .with_stock(|s| s.reservation(&reservation).map(|r| r.state))
        .unwrap();
    assert_eq!(released, Some(ReservationState::Released));
}

#[test]
fn eight_threads_sell_exactly_the_last_hundred_units() {
    let t = test_engine();
    t.engine
        .stock_batch(vec![
            StockCommand::AddLocation {
                location: Location::new(
                    loc("IST"),
                    "Istanbul DC",
                    1,
                    "TR-34",
                    LocationKind::Warehouse,
                ),
            },
            StockCommand::RegisterVariant {
                variant: variant("HOT"),
                policy: StockPolicy::Deny,
            },
            StockCommand::Receive {
                variant: variant("HOT"),
                location: loc("IST"),
                quantity: 100,
                reference: None,
            },
        ])
        .unwrap();
    let sold = AtomicU32::new(0);
    let refused = AtomicU32::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            let engine = t.engine.clone();
            let (sold, refused) = (&sold, &refused);
            s.spawn(move || {
                for _ in 0..30 {
                    let new = NewOrder::new(
                        ChannelId::parse("web").unwrap(),
                        at(20, 12),
                        try_(),
                        vec![NewLine::new(variant("HOT"), 1, money("10"))],
                    );
                    let o = engine.place_order(new, &CommandContext::system()).unwrap();
                    match engine.confirm_order(&o.id, &CommandContext::system()) {
                        Ok(_) => sold.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            assert_eq!(e.code(), "STOCK_INSUFFICIENT");
                            refused.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
            });
        }
    });
    assert_eq!(sold.load(Ordering::SeqCst), 100);
    assert_eq!(refused.load(Ordering::SeqCst), 140);
    assert_eq!(level(&t.engine, "HOT", "IST"), (100, 100));
}

#[test]
fn a_restarted_engine_rebuilds_the_same_ledger_from_the_store() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(at(20, 9)));
    let make = || {
        Engine::new(
            store.clone(),
            store.clone(),
            clock.clone(),
            Arc::new(SequentialIds::new()),
        )
    };
    let first = make();
    let t = TestEngine {
        engine: first.clone(),
        store: store.clone(),
        clock: clock.clone(),
    };
    stocked(&t, 10, 3);
    let o = first.place_order(sample_order("web"), &ctx()).unwrap();
    first.confirm_order(&o.id, &ctx()).unwrap();
    first
        .record_shipment(&o.id, vec![lq("L1", 1)], &ctx())
        .unwrap();
    let second = make();
    assert_eq!(ledger_snapshot(&second), ledger_snapshot(&first));
    // A write through the second engine is seen by the first (it catches up).
    second
        .stock(StockCommand::Receive {
            variant: variant("MUG"),
            location: loc("ANK"),
            quantity: 4,
            reference: None,
        })
        .unwrap();
    assert_eq!(level(&first, "MUG", "ANK"), (7, 0));
    let log = store.stock_log_since(0, usize::MAX).unwrap();
    let (rebuilt, skipped) = StockLedger::from_log(&log);
    assert_eq!(skipped, 0);
    assert_eq!(
        serde_json::to_value(&rebuilt).unwrap(),
        ledger_snapshot(&first)
    );
}

#[test]
fn a_failed_save_leaves_the_ledger_as_the_store_has_it() {
    let t = test_engine();
    stocked(&t, 10, 0);
    let order = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    let before = ledger_snapshot(&t.engine);
    t.store.fail_next_commits(1);
    assert_eq!(
        t.engine
            .confirm_order(&order.id, &ctx())
            .unwrap_err()
            .code(),
        "STORE_UNAVAILABLE"
    );
    assert_eq!(ledger_snapshot(&t.engine), before);
    assert_eq!(level(&t.engine, "SHIRT-M", "IST"), (10, 0));
    let order = t.engine.confirm_order(&order.id, &ctx()).unwrap();
    assert_eq!(allocated(&order, "L1"), 2);
}

#[test]
fn stock_alerts_leave_through_the_outbox() {
    let t = test_engine();
    stocked(&t, 3, 0);
    t.engine
        .stock(StockCommand::SetLowStockThreshold {
            variant: variant("SHIRT-M"),
            threshold: Some(2),
        })
        .unwrap();
    let order = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    t.engine.confirm_order(&order.id, &ctx()).unwrap();
    let topics: Vec<String> = t
        .engine
        .pending_effects(100)
        .unwrap()
        .into_iter()
        .map(|e| e.topic)
        .collect();
    assert!(topics.iter().any(|t| t == "stock.low_stock"), "{topics:?}");
    let _ = VariantId::parse("x");
}

#[test]
fn bad_stock_commands_are_typed_and_save_nothing() {
    let t = test_engine();
    stocked(&t, 5, 0);
    let before = ledger_snapshot(&t.engine);
    let log_len = t.store.stock_log_since(0, usize::MAX).unwrap().len();
    let bad = [
        (
            StockCommand::Receive {
                variant: variant("NOPE"),
                location: loc("IST"),
                quantity: 1,
                reference: None,
            },
            "STOCK_UNKNOWN_VARIANT",
        ),
        (
            StockCommand::Receive {
                variant: variant("MUG"),
                location: loc("XXX"),
                quantity: 1,
                reference: None,
            },
            "STOCK_UNKNOWN_LOCATION",
        ),
        (
            StockCommand::Receive {
                variant: variant("MUG"),
                location: loc("IST"),
                quantity: 0,
                reference: None,
            },
            "STOCK_INVALID_QUANTITY",
        ),
        (
            StockCommand::Transfer {
                id: ordersmith::ids::TransferId::parse("t1").unwrap(),
                variant: variant("MUG"),
                from: loc("IST"),
                to: loc("IST"),
                quantity: 1,
            },
            "STOCK_SAME_LOCATION",
        ),
        (
            StockCommand::Commit {
                reservation: ordersmith::ids::ReservationId::parse("nope").unwrap(),
            },
            "STOCK_UNKNOWN_RESERVATION",
        ),
    ];
    for (command, code) in bad {
        assert_eq!(t.engine.stock(command).unwrap_err().code(), code);
    }
    // A batch whose last command fails saves none of the earlier ones.
    let err = t
        .engine
        .stock_batch(vec![
            StockCommand::Receive {
                variant: variant("MUG"),
                location: loc("IST"),
                quantity: 3,
                reference: None,
            },
            StockCommand::Receive {
                variant: variant("MUG"),
                location: loc("IST"),
                quantity: 0,
                reference: None,
            },
        ])
        .unwrap_err();
    assert_eq!(err.code(), "STOCK_INVALID_QUANTITY");
    assert_eq!(ledger_snapshot(&t.engine), before);
    assert_eq!(
        t.store.stock_log_since(0, usize::MAX).unwrap().len(),
        log_len
    );
}

#[test]
fn forecasts_are_measured_at_the_engine_clock() {
    use ordersmith::ids::ReservationId;
    use ordersmith::stock::{ReorderParams, ReserveRequest};
    let t = test_engine();
    stocked(&t, 10, 0);
    let r = ReservationId::parse("r-1").unwrap();
    t.engine
        .stock_batch(vec![
            StockCommand::Reserve {
                request: ReserveRequest::new(r.clone(), variant("MUG"), loc("IST"), 3),
            },
            StockCommand::Commit { reservation: r },
        ])
        .unwrap();
    let params = ReorderParams {
        window_days: 30,
        lead_time_days: 7,
        review_period_days: 14,
    };
    let forecast = t.engine.forecast(&variant("MUG"), params).unwrap();
    assert_eq!(forecast.velocity_per_day, dec("0.1"));
    assert_eq!(forecast.sellable, 7);
    assert_eq!(
        t.engine.sales_velocity(&variant("MUG"), 30).unwrap(),
        dec("0.1")
    );
    // The sale is outside a window that ends before it happened.
    t.clock.set(at(19, 12));
    assert_eq!(
        t.engine.sales_velocity(&variant("MUG"), 1).unwrap(),
        dec("0")
    );
    assert_eq!(
        t.engine
            .sales_velocity(&variant("NOPE"), 30)
            .unwrap_err()
            .code(),
        "STOCK_UNKNOWN_VARIANT"
    );
}

#[test]
fn ordering_a_bundle_reserves_its_components() {
    let t = test_engine();
    stocked(&t, 10, 0);
    define_bundle(&t.engine, "GIFT-SET", &[("SHIRT-M", 1), ("MUG", 2)]);
    let available = t
        .engine
        .with_stock(|s| {
            s.bundle_available(&variant("GIFT-SET"), &loc("IST"))
                .unwrap()
        })
        .unwrap();
    assert_eq!(available, 5, "10 mugs make 5 sets");
    let new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        vec![NewLine::new(variant("GIFT-SET"), 3, money("300"))],
    );
    let order = t.engine.place_order(new.clone(), &ctx()).unwrap();
    let order = t.engine.confirm_order(&order.id, &ctx()).unwrap();
    assert_eq!(allocated(&order, "L1"), 3);
    assert_eq!(level(&t.engine, "SHIRT-M", "IST"), (10, 3));
    assert_eq!(level(&t.engine, "MUG", "IST"), (10, 6));
    // Only 2 sets are left: a third order for 3 is refused and changes nothing.
    let other = t.engine.place_order(new, &ctx()).unwrap();
    let err = t.engine.confirm_order(&other.id, &ctx()).unwrap_err();
    assert_eq!(err.code(), "STOCK_INSUFFICIENT");
    assert_eq!(level(&t.engine, "MUG", "IST"), (10, 6));
    let order = t
        .engine
        .record_shipment(&order.id, vec![lq("L1", 3)], &ctx())
        .unwrap();
    assert_eq!(allocated(&order, "L1"), 0);
    assert_eq!(level(&t.engine, "SHIRT-M", "IST"), (7, 0));
    assert_eq!(level(&t.engine, "MUG", "IST"), (4, 0));
}

// A bundle shipped without a reservation (an engine that reserves only at shipment)
// takes its components at the location that has them, as a reserved bundle does: the
// bundle itself has no stock of its own to judge the location by.
#[test]
fn a_bundle_shipped_unreserved_takes_its_components() {
    let t = test_engine();
    stocked(&t, 10, 0);
    let engine = t.engine.clone().with_config(EngineConfig {
        reserve_on_confirm: false,
        ..EngineConfig::default()
    });
    define_bundle(&engine, "GIFT-SET", &[("SHIRT-M", 1), ("MUG", 2)]);
    let new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        vec![NewLine::new(variant("GIFT-SET"), 2, money("300"))],
    );
    let order = engine.place_order(new.clone(), &ctx()).unwrap();
    let order = engine.confirm_order(&order.id, &ctx()).unwrap();
    assert_eq!(
        allocated(&order, "L1"),
        0,
        "nothing reserved at confirmation"
    );
    let order = engine
        .record_shipment(&order.id, vec![lq("L1", 2)], &ctx())
        .unwrap();
    assert_eq!(order.lines[0].fulfilment.shipped, 2);
    assert_eq!(level(&engine, "SHIRT-M", "IST"), (8, 0));
    assert_eq!(level(&engine, "MUG", "IST"), (6, 0));
    // More sets than the components make: refused, naming what is there.
    let big = NewOrder {
        lines: vec![NewLine::new(variant("GIFT-SET"), 4, money("300"))],
        ..new
    };
    let big = engine.place_order(big, &ctx()).unwrap();
    let big = engine.confirm_order(&big.id, &ctx()).unwrap();
    let err = engine
        .record_shipment(&big.id, vec![lq("L1", 4)], &ctx())
        .unwrap_err();
    assert_eq!(err.code(), "STOCK_INSUFFICIENT", "{err}");
    assert!(err.to_string().contains("only 3 can be reserved"), "{err}");
}

/// Everything the store holds, as text: to prove a refused write saved nothing.
fn dump_of(t: &TestEngine) -> String {
    let mut bytes = Vec::new();
    ordersmith::ports::dump::export(t.store.as_ref(), t.store.as_ref(), &mut bytes).unwrap();
    String::from_utf8(bytes).unwrap()
}

/// `place_order_then`: placed, paid and confirmed (with its reservations) in one write
/// and one version check; all or nothing when a follow-up is refused; a re-delivery
/// returns the order without running anything twice.
#[test]
fn place_then_runs_follow_ups_in_one_atomic_write() {
    use ordersmith::order::OrderCommand;
    let t = test_engine();
    stocked(&t, 1, 0);
    let mut new = sample_order("web");
    new.external_ref = Some("W-9".into());
    let then = vec![OrderCommand::MarkPaid, OrderCommand::Confirm];
    // Two shirts wanted, one in stock: the confirmation is refused, nothing is saved
    // (no order, no reservation, no idempotency record, no outbox effect).
    let before = dump_of(&t);
    let err = t
        .engine
        .place_order_then(new.clone(), then.clone(), &ctx())
        .unwrap_err();
    assert!(
        err.code().starts_with("STOCK_") || err.code().starts_with("ENGINE_"),
        "{err:?}"
    );
    assert_eq!(dump_of(&t), before);
    // With stock it goes through whole.
    t.engine
        .stock(StockCommand::Receive {
            variant: variant("SHIRT-M"),
            location: loc("IST"),
            quantity: 1,
            reference: None,
        })
        .unwrap();
    let keyed = CommandContext::system().with_idempotency_key("import-W-9");
    let (order, created) = t
        .engine
        .place_order_then(new.clone(), then.clone(), &keyed)
        .unwrap();
    assert!(created);
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(
        order.amount_paid.amount(),
        order.totals().unwrap().total.amount()
    );
    let history = t.engine.order_history(&order.id).unwrap();
    assert_eq!(history.len() as u64, order.version);
    assert_eq!(Order::replay(&history).unwrap(), order);
    assert_eq!(t.engine.order(&order.id).unwrap(), order);
    let reserved = t
        .engine
        .with_stock(|l| l.balance(&variant("SHIRT-M"), &loc("IST")).reserved)
        .unwrap();
    assert_eq!(reserved, 2);
    // The same key again: the order as the call left it, nothing run twice.
    let (again, created) = t
        .engine
        .place_order_then(new.clone(), then.clone(), &keyed)
        .unwrap();
    assert!(!created);
    assert_eq!(again, order);
    // The same external reference without the key: the order as it is now.
    let (again, created) = t.engine.place_order_then(new, then, &ctx()).unwrap();
    assert!(!created && again.id == order.id);
    assert_eq!(t.engine.list_orders(&Default::default()).unwrap().len(), 1);
    // A placement cannot follow a placement.
    let nested = OrderCommand::Place {
        order_id: oid("o-x"),
        order: Box::new(sample_order("web")),
    };
    assert_eq!(
        t.engine
            .place_order_then(sample_order("web"), vec![nested], &ctx())
            .unwrap_err()
            .code(),
        "ENGINE_INVALID_INPUT"
    );
}

/// A clock that moves a second forward every time it is read.
struct Ticking(AtomicU32);

impl ordersmith::ports::Clock for Ticking {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        at(20, 12) + chrono::Duration::seconds(i64::from(self.0.fetch_add(1, Ordering::SeqCst)))
    }
}

/// One write, one time: a placement and its follow-ups (payment, confirmation, the
/// reservations it makes) are recorded at the same instant, however often the clock
/// would tick meanwhile, and a later write at a later one. The memory store keeps what
/// those events share once and gives back the records exactly.
#[test]
fn the_events_of_one_write_carry_its_time() {
    use ordersmith::order::OrderCommand;
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(Ticking(AtomicU32::new(0))),
        Arc::new(SequentialIds::new()),
    );
    let t = TestEngine {
        engine,
        store,
        clock: Arc::new(FixedClock::new(at(20, 12))),
    };
    stocked(&t, 5, 0);
    let then = vec![OrderCommand::MarkPaid, OrderCommand::Confirm];
    let keyed = CommandContext::system().with_idempotency_key("import-W-10");
    let (order, _) = t
        .engine
        .place_order_then(sample_order("web"), then, &keyed)
        .unwrap();
    let placed = t.engine.order_history(&order.id).unwrap();
    assert!(placed.len() >= 4, "{placed:?}");
    assert!(placed
        .iter()
        .all(|r| r.recorded_at == placed[0].recorded_at));
    let order = t
        .engine
        .execute(
            &order.id,
            OrderCommand::Cancel {
                reason: CancelReason::Customer,
            },
            &ctx(),
        )
        .unwrap();
    let history = t.engine.order_history(&order.id).unwrap();
    assert_eq!(history.len() as u64, order.version);
    assert_eq!(history[..placed.len()], placed[..]);
    let later = &history[placed.len()..];
    assert!(!later.is_empty());
    assert!(later
        .iter()
        .all(|r| r.recorded_at == later[0].recorded_at && r.recorded_at > placed[0].recorded_at));
    assert_eq!(Order::replay(&history).unwrap(), order);
    // What the outbox announces is each record as the history gives it.
    let pending = t.store.pending(1_000).unwrap();
    for record in &history {
        let id = format!("{}:{}", record.order_id, record.version);
        let announced = pending.iter().find(|p| p.id == id).unwrap();
        assert_eq!(
            announced.payload_json,
            serde_json::to_string(record).unwrap()
        );
    }
}
