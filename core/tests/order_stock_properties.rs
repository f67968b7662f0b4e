//! Random interleavings of order commands and stock commands through the engine.
//! After every step: no deny variant is oversold, journal replay equals balances, every
//! order's allocations are exactly the ledger's active reservations for it, and a fresh
//! engine rebuilt from the store's log has the same ledger.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;

use common::*;
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{ChannelId, LocationId, OrderId, TransferId};
use ordersmith::order::{CancelReason, NewLine, NewOrder, OrderStatus};
use ordersmith::ports::Store;
use ordersmith::stock::{
    rebuild_balances, Location, LocationKind, ReservationState, StockCommand, StockLedger,
    StockPolicy,
};
use proptest::prelude::*;

const SKUS: [&str; 3] = ["A", "B", "C"];
const LOCS: [&str; 2] = ["IST", "ANK"];

#[derive(Debug, Clone)]
enum Step {
    Order(Vec<(usize, u32)>),
    Cancel(usize),
    CancelLine(usize, u32),
    Ship(usize),
    Receive(usize, usize, u32),
    Transfer(usize, usize, u32),
    ReceiveTransfers,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => prop::collection::vec((0usize..3, 1u32..4), 1..3).prop_map(Step::Order),
        1 => (0usize..20).prop_map(Step::Cancel),
        1 => (0usize..20, 1u32..3).prop_map(|(o, q)| Step::CancelLine(o, q)),
        2 => (0usize..20).prop_map(Step::Ship),
        2 => (0usize..3, 0usize..2, 1u32..6).prop_map(|(v, l, q)| Step::Receive(v, l, q)),
        1 => (0usize..3, 0usize..2, 1u32..4).prop_map(|(v, l, q)| Step::Transfer(v, l, q)),
        1 => Just(Step::ReceiveTransfers),
    ]
}

fn loc(i: usize) -> LocationId {
    LocationId::parse(LOCS[i]).unwrap()
}

fn check(engine: &Engine, store: &dyn Store, orders: &[OrderId]) {
    let ledger_json = engine
        .with_stock(|s| {
            assert_eq!(
                rebuild_balances(s.journal()),
                *s.balances(),
                "replay equals balances"
            );
            for sku in SKUS {
                for (l, name) in LOCS.iter().enumerate() {
                    let b = s.balance(&variant(sku), &loc(l));
                    assert!(b.reserved <= b.on_hand, "{sku}@{name}: {b:?}");
                    assert!(b.on_hand >= 0 && b.reserved >= 0);
                }
            }
            // Every order allocation is an active reservation holding exactly that much.
            let mut held: HashMap<String, u32> = HashMap::new();
            for id in orders {
                let order = engine.order(id).unwrap();
                for line in &order.lines {
                    let sum: u32 = line.allocations.iter().map(|a| a.quantity).sum();
                    assert_eq!(sum, line.fulfilment.allocated);
                    assert!(line.fulfilment.allocated <= line.open_quantity());
                    if order.status == OrderStatus::Cancelled {
                        assert_eq!(line.fulfilment.allocated, 0);
                    }
                    for a in &line.allocations {
                        let r = s.reservation(&a.reservation).expect("reservation exists");
                        assert_eq!(r.state, ReservationState::Active);
                        assert_eq!(r.remaining(), a.quantity);
                        held.insert(a.reservation.to_string(), a.quantity);
                    }
                }
            }
            serde_json::to_value(s).unwrap()
        })
        .unwrap();
    let log = store.stock_log_since(0, usize::MAX).unwrap();
    let (rebuilt, skipped) = StockLedger::from_log(&log);
    assert_eq!(skipped, 0);
    assert_eq!(serde_json::to_value(&rebuilt).unwrap(), ledger_json);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn orders_and_stock_stay_consistent(steps in prop::collection::vec(step(), 1..40)) {
        let t = test_engine();
        let ctx = CommandContext::system();
        let mut setup = vec![
            StockCommand::AddLocation { location: Location::new(loc(0), "Istanbul", 1, "TR-34", LocationKind::Warehouse) },
            StockCommand::AddLocation { location: Location::new(loc(1), "Ankara", 2, "TR-06", LocationKind::Store) },
        ];
        for sku in SKUS {
            setup.push(StockCommand::RegisterVariant { variant: variant(sku), policy: StockPolicy::Deny });
        }
        t.engine.stock_batch(setup).unwrap();
        let mut orders: Vec<OrderId> = Vec::new();
        let mut transfers: Vec<TransferId> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Order(lines) => {
                    let new = NewOrder::new(
                        ChannelId::parse("web").unwrap(),
                        at(20, 10),
                        try_(),
                        lines.iter().map(|(v, q)| NewLine::new(variant(SKUS[*v]), *q, money("10"))).collect(),
                    );
                    let o = t.engine.place_order(new, &ctx).unwrap();
                    match t.engine.confirm_order(&o.id, &ctx) {
                        Ok(_) => {}
                        Err(e) => prop_assert_eq!(e.code(), "STOCK_INSUFFICIENT"),
                    }
                    orders.push(o.id);
                }
                Step::Cancel(k) => {
                    if let Some(id) = orders.get(*k) {
                        let _ = t.engine.cancel_order(id, CancelReason::Customer, &ctx);
                    }
                }
                Step::CancelLine(k, q) => {
                    if let Some(id) = orders.get(*k) {
                        let _ = t.engine.cancel_lines(id, vec![lq("L1", *q)], CancelReason::Inventory, &ctx);
                    }
                }
                Step::Ship(k) => {
                    if let Some(id) = orders.get(*k) {
                        let order = t.engine.order(id).unwrap();
                        let open: Vec<_> = order.lines.iter().filter(|l| l.open_quantity() > 0)
                            .map(|l| lq(l.id.as_str(), l.open_quantity())).collect();
                        let shippable = matches!(order.status, OrderStatus::Confirmed | OrderStatus::Processing);
                        if shippable && !open.is_empty() {
                            let _ = t.engine.record_shipment(id, open, &ctx);
                        }
                    }
                }
                Step::Receive(v, l, q) => {
                    t.engine.stock(StockCommand::Receive { variant: variant(SKUS[*v]), location: loc(*l), quantity: *q, reference: None }).unwrap();
                }
                Step::Transfer(v, l, q) => {
                    let id = TransferId::parse(format!("t{i}")).unwrap();
                    let r = t.engine.stock(StockCommand::Transfer { id: id.clone(), variant: variant(SKUS[*v]), from: loc(*l), to: loc(1 - *l), quantity: *q });
                    if r.is_ok() {
                        transfers.push(id);
                    }
                }
                Step::ReceiveTransfers => {
                    for id in transfers.drain(..) {
                        t.engine.stock(StockCommand::ReceiveTransfer { id }).unwrap();
                    }
                }
            }
            check(&t.engine, t.store.as_ref(), &orders);
        }
    }
}
