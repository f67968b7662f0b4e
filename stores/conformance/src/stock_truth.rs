//! The stock-truth property, on any store: random sequences of order commands *and*
//! raw stock commands, counts, damage, expiry sweeps and payments, checked after every
//! step.
//!
//! After each step:
//! - every order's allocations equal the ledger's live reservations owned by it (both
//!   ways: no allocation without its reservation, no reservation without its order);
//! - a confirmed or processing order holds a reservation for every open unit (a paid,
//!   unshipped, unheld order is never silently unreserved), so shortages always show
//!   as a hold;
//! - no deny variant has more reserved than on hand anywhere, and journal replay
//!   equals the balances;
//! - a ledger rebuilt from the store's stock log equals the live one, and every order
//!   replayed from its stored history equals its snapshot;
//! - raw stock commands on an order's reservation are refused and change nothing.
//!
//! ```ignore
//! proptest! {
//!     #[test]
//!     fn stock_truth(steps in ordersmith_store_conformance::stock_truth::steps(40)) {
//!         ordersmith_store_conformance::stock_truth::run(&make(), &steps);
//!     }
//! }
//! ```

use std::collections::BTreeMap;

use chrono::{Duration, TimeDelta};
use ordersmith::engine::{CommandContext, Engine, EngineConfig, ShortagePolicy};
use ordersmith::fulfilment::{CarrierEvent, Label, ParcelSize, ParcelStatus};
use ordersmith::ids::{ChannelId, CountId, LineId, LocationId, OrderId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{
    CancelReason, FulfilmentCommand, LineQuantity, NewLine, NewOrder, Order, OrderStatus,
};
use ordersmith::stock::{
    rebuild_balances, AdjustmentReason, BundleComponent, Location, LocationKind, ReservationFilter,
    StockCommand, StockLedger, StockPolicy,
};
use proptest::prelude::*;

use crate::{fixtures, StoreUnderTest};

/// Sellable variants: three plain ones and a bundle of `2 × A + 1 × B`.
const SKUS: [&str; 4] = ["A", "B", "C", "BUNDLE"];
/// Plain (stock-holding) variants.
const STOCKED: [&str; 3] = ["A", "B", "C"];
const LOCS: [&str; 2] = ["IST", "ANK"];

/// One random step.
#[derive(Debug, Clone)]
pub enum Step {
    /// Place and confirm an order: (sku index, quantity) lines and an optional
    /// reservation time-to-live in minutes.
    Order(Vec<(usize, u32)>, Option<u32>),
    /// Cancel order k.
    Cancel(usize),
    /// Cancel some units of order k's first line.
    CancelLine(usize, u32),
    /// Ship every open unit of order k.
    Ship(usize),
    /// Pay order k in full.
    Pay(usize),
    /// Release order k's hold.
    ReleaseHold(usize),
    /// Receive units of a stocked variant at a location.
    Receive(usize, usize, u32),
    /// Damage units of a stocked variant at a location.
    Damage(usize, usize, u32),
    /// Count a stocked variant at a location (open, record, close in one batch).
    Count(usize, usize, u32),
    /// Move the clock forward by minutes, then sweep expired reservations.
    AdvanceAndSweep(u32),
    /// Try a raw release of order k's first reservation (must be refused).
    RawRelease(usize),
    /// A warehouse step on order k's first open fulfilment order: 0 pick everything,
    /// 1 pick all but one unit (short), 2 pack what is picked, 3 label and hand over
    /// every packed parcel, 4 move it to the other location, 5 cancel it, 6 and above
    /// pick, pack and ship in one go (6 to 8), or a carrier event for its first parcel
    /// (9 to 13: UPS P, I, O, D, X at a time that may be out of order). The order is
    /// taken modulo the orders placed.
    Warehouse(usize, u8),
    /// A provider payment step on order k: 0 authorise half the balance due, 1 confirm
    /// the last authorisation, 2 capture what is left of it, 3 confirm the pending
    /// capture, 4 refund half of what is refundable, 5 confirm the pending refund,
    /// 6 void the last payment, 7 capture or 8 refund one unit more than possible
    /// (must be refused); 9 and above the whole path in one go, then both refusals.
    Provider(usize, u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (
            prop::collection::vec((0usize..4, 1u32..4), 1..3),
            prop::option::of(prop_oneof![Just(10u32), Just(30u32)]),
        )
            .prop_map(|(lines, ttl)| Step::Order(lines, ttl)),
        1 => (0usize..16).prop_map(Step::Cancel),
        1 => (0usize..16, 1u32..3).prop_map(|(o, q)| Step::CancelLine(o, q)),
        2 => (0usize..16).prop_map(Step::Ship),
        2 => (0usize..16).prop_map(Step::Pay),
        1 => (0usize..16).prop_map(Step::ReleaseHold),
        3 => (0usize..3, 0usize..2, 1u32..8).prop_map(|(v, l, q)| Step::Receive(v, l, q)),
        2 => (0usize..3, 0usize..2, 1u32..4).prop_map(|(v, l, q)| Step::Damage(v, l, q)),
        1 => (0usize..3, 0usize..2, 0u32..5).prop_map(|(v, l, q)| Step::Count(v, l, q)),
        2 => (1u32..25).prop_map(Step::AdvanceAndSweep),
        1 => (0usize..16).prop_map(Step::RawRelease),
        6 => (0usize..16, 0u8..14).prop_map(|(o, a)| Step::Warehouse(o, a)),
        3 => (0usize..16, 0u8..12).prop_map(|(o, a)| Step::Provider(o, a)),
    ]
}

/// Up to `max` random steps.
pub fn steps(max: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 1..max)
}

fn v(s: &str) -> VariantId {
    VariantId::parse(s).unwrap()
}

fn loc(i: usize) -> LocationId {
    LocationId::parse(LOCS[i]).unwrap()
}

fn try_() -> Currency {
    Currency::parse("TRY").unwrap()
}

/// The engine the property runs: shortages hold, unpaid reservations live 15 minutes
/// unless the order says otherwise, stock set up in two locations.
fn engine(
    sut: &StoreUnderTest,
) -> (
    Engine,
    std::sync::Arc<ordersmith::ports::memory::FixedClock>,
) {
    let (engine, clock) = sut.engine();
    let engine = engine.with_config(EngineConfig {
        max_attempts: 1_000,
        on_shortage: ShortagePolicy::Hold,
        reservation_ttl: Some(TimeDelta::minutes(15)),
        notifications: Some(ordersmith::engine::NotificationConfig {
            channels: vec![ordersmith::notify::NotificationChannel::Email],
            ..Default::default()
        }),
        ..EngineConfig::default()
    });
    let mut setup = vec![
        StockCommand::AddLocation {
            location: Location::new(loc(0), "Istanbul", 1, "TR-34", LocationKind::Warehouse),
        },
        StockCommand::AddLocation {
            location: Location::new(loc(1), "Ankara", 2, "TR-06", LocationKind::Store),
        },
    ];
    for sku in STOCKED {
        setup.push(StockCommand::RegisterVariant {
            variant: v(sku),
            policy: StockPolicy::Deny,
        });
    }
    setup.push(StockCommand::DefineBundle {
        bundle: v("BUNDLE"),
        components: vec![
            BundleComponent {
                variant: v("A"),
                quantity: 2,
            },
            BundleComponent {
                variant: v("B"),
                quantity: 1,
            },
        ],
    });
    engine.stock_batch(setup).unwrap();
    (engine, clock)
}

/// Runs `steps` on a fresh engine over `sut`'s store and checks the invariants after
/// every step (see the module docs). Panics with the step on a violation.
pub fn run(sut: &StoreUnderTest, steps: &[Step]) {
    let (engine, clock) = engine(sut);
    let ctx = CommandContext::system();
    let mut orders: Vec<OrderId> = Vec::new();
    let pick = |orders: &[OrderId], k: usize| orders.get(k).cloned();
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Order(lines, ttl) => {
                let mut new = NewOrder::new(
                    ChannelId::parse("web").unwrap(),
                    fixtures::start(),
                    try_(),
                    lines
                        .iter()
                        .map(|(s, q)| {
                            NewLine::new(v(SKUS[*s]), *q, Money::parse("10", try_()).unwrap())
                        })
                        .collect(),
                );
                new.reservation_ttl_minutes = *ttl;
                new.customer = Some(ordersmith::pii::Customer {
                    name: ordersmith::pii::Redacted::new("Ada".to_string()),
                    email: Some(ordersmith::pii::Redacted::new(format!(
                        "ada{i}@example.com"
                    ))),
                    ..ordersmith::pii::Customer::default()
                });
                let o = engine.place_order(new, &ctx).unwrap();
                // With the hold policy a shortage holds; it never fails.
                engine.confirm_order(&o.id, &ctx).unwrap();
                orders.push(o.id);
            }
            Step::Cancel(k) => {
                if let Some(id) = pick(&orders, *k) {
                    let _ = engine.cancel_order(&id, CancelReason::Customer, &ctx);
                }
            }
            Step::CancelLine(k, q) => {
                if let Some(id) = pick(&orders, *k) {
                    let line = LineQuantity::new(LineId::parse("L1").unwrap(), *q);
                    let _ = engine.cancel_lines(&id, vec![line], CancelReason::Inventory, &ctx);
                }
            }
            Step::Ship(k) => {
                if let Some(id) = pick(&orders, *k) {
                    let order = engine.order(&id).unwrap();
                    let open: Vec<_> = order
                        .lines
                        .iter()
                        .filter(|l| l.open_quantity() > 0)
                        .map(|l| LineQuantity::new(l.id.clone(), l.open_quantity()))
                        .collect();
                    if !open.is_empty() {
                        let _ = engine.record_shipment(&id, open, &ctx);
                    }
                }
            }
            Step::Pay(k) => {
                if let Some(id) = pick(&orders, *k) {
                    let _ = engine.mark_paid(&id, &ctx);
                }
            }
            Step::ReleaseHold(k) => {
                if let Some(id) = pick(&orders, *k) {
                    let _ = engine.release_hold(&id, &ctx);
                }
            }
            Step::Receive(s, l, q) => {
                engine
                    .stock(StockCommand::Receive {
                        variant: v(STOCKED[*s]),
                        location: loc(*l),
                        quantity: *q,
                        reference: None,
                    })
                    .unwrap();
            }
            Step::Damage(s, l, q) => {
                let _ = engine.stock(StockCommand::Adjust {
                    variant: v(STOCKED[*s]),
                    location: loc(*l),
                    delta: -i64::from(*q),
                    reason: AdjustmentReason::Damage,
                    reference: None,
                });
            }
            Step::Count(s, l, counted) => {
                let id = CountId::parse(format!("count-{i}")).unwrap();
                engine
                    .stock_batch(vec![
                        StockCommand::OpenCount {
                            id: id.clone(),
                            location: loc(*l),
                            variants: vec![v(STOCKED[*s])],
                        },
                        StockCommand::RecordCount {
                            id: id.clone(),
                            variant: v(STOCKED[*s]),
                            counted: *counted,
                        },
                        StockCommand::CloseCount {
                            id,
                            unit_costs: BTreeMap::new(),
                        },
                    ])
                    .unwrap();
            }
            Step::AdvanceAndSweep(minutes) => {
                clock.advance(Duration::minutes(i64::from(*minutes)));
                engine.sweep_expired_reservations().unwrap();
            }
            Step::Warehouse(k, action) => {
                // Any existing order (modulo), so the flow gets far on short runs.
                if !orders.is_empty() {
                    if let Some(id) = pick(&orders, k % orders.len()) {
                        if *action >= 9 {
                            track(&engine, &id, *action, i);
                        } else if *action >= 6 {
                            // The next step of the happy path: pick, pack, ship.
                            for a in [0, 2, 3] {
                                warehouse(&engine, &id, a);
                            }
                        } else {
                            warehouse(&engine, &id, *action);
                        }
                    }
                }
            }
            Step::Provider(k, action) => {
                if !orders.is_empty() {
                    if let Some(id) = pick(&orders, k % orders.len()) {
                        if *action >= 9 {
                            // The whole path in one go, then the refusals.
                            for a in [0, 1, 2, 3, 4, 5, 7, 8] {
                                provider(&engine, &id, a, i);
                            }
                        } else {
                            provider(&engine, &id, *action, i);
                        }
                    }
                }
            }
            Step::RawRelease(k) => {
                if let Some(id) = pick(&orders, *k) {
                    let order = engine.order(&id).unwrap();
                    if let Some(a) = order.lines.iter().flat_map(|l| &l.allocations).next() {
                        let err = engine
                            .stock(StockCommand::Release {
                                reservation: a.reservation.clone(),
                            })
                            .unwrap_err();
                        assert_eq!(err.code(), "ENGINE_RESERVATION_OWNED_BY_ORDER");
                    }
                }
            }
        }
        check(&engine, sut, &orders, i, step);
    }
}

/// One warehouse step on the order's first open fulfilment order; refusals (a held
/// order, nothing to pick, a location without stock) are fine, they change nothing.
fn warehouse(engine: &Engine, id: &OrderId, action: u8) {
    let ctx = CommandContext::system();
    let order = engine.order(id).unwrap();
    let Some(fo) = order.fulfilments.iter().find(|f| !f.status.is_closed()) else {
        return;
    };
    let f = fo.id.clone();
    let to_pick: Vec<LineQuantity> = engine
        .pick_list(id, &f)
        .unwrap()
        .into_iter()
        .map(|l| LineQuantity::new(l.line_id, l.quantity))
        .collect();
    let step = match action {
        0 | 1 if to_pick.is_empty() => return,
        0 => FulfilmentCommand::Pick {
            fulfilment: f,
            picked: to_pick,
            short: Vec::new(),
        },
        1 => {
            // The last line: one unit missing, the rest of it picked.
            let mut picked = to_pick;
            let last = picked.pop();
            let short = last
                .as_ref()
                .map(|l| LineQuantity::new(l.line_id.clone(), 1));
            if let Some(l) = last.filter(|l| l.quantity > 1) {
                picked.push(LineQuantity::new(l.line_id, l.quantity - 1));
            }
            FulfilmentCommand::Pick {
                fulfilment: f,
                picked,
                short: short.into_iter().collect(),
            }
        }
        2 => {
            let units: Vec<LineQuantity> = fo
                .picked
                .keys()
                .filter_map(|l| {
                    let q = fo.picked_unpacked(l);
                    (q > 0).then(|| LineQuantity::new(l.clone(), q))
                })
                .collect();
            if units.is_empty() {
                return;
            }
            FulfilmentCommand::Pack {
                fulfilment: f,
                units,
                size: ParcelSize {
                    weight_grams: 500,
                    length_mm: 100,
                    width_mm: 100,
                    height_mm: 100,
                },
            }
        }
        3 => {
            for p in fo
                .parcels
                .iter()
                .filter(|p| p.status != ParcelStatus::HandedOver)
            {
                let label = Label {
                    carrier: "ups".into(),
                    service: "standard".into(),
                    tracking_number: "1Z999AA10123456784".into(),
                    label_ref: None,
                };
                let steps = [
                    FulfilmentCommand::RecordLabel {
                        fulfilment: f.clone(),
                        parcel: p.id.clone(),
                        label,
                    },
                    FulfilmentCommand::HandOver {
                        fulfilment: f.clone(),
                        parcel: p.id.clone(),
                    },
                ];
                for s in steps {
                    let _ = engine.fulfil(id, s, &ctx);
                }
            }
            return;
        }
        4 => {
            let to = if fo.location == loc(0) {
                loc(1)
            } else {
                loc(0)
            };
            FulfilmentCommand::Move { fulfilment: f, to }
        }
        _ => FulfilmentCommand::Cancel {
            fulfilment: f,
            reason: CancelReason::Staff,
        },
    };
    let _ = engine.fulfil(id, step, &ctx);
}

/// A provider payment step; refusals are fine (they change nothing).
fn provider(engine: &Engine, id: &OrderId, action: u8, step: usize) {
    use ordersmith::order::PaymentCommand as P;
    let order = engine.order(id).unwrap();
    let half = |m: Money| {
        let cents = (m.amount() * rust_decimal::Decimal::from(50)).floor()
            / rust_decimal::Decimal::from(100);
        Money::new(cents.round_dp(2), m.currency()).unwrap()
    };
    let last = order.payments.last();
    let reference = format!("ref-{step}");
    let command = match (action, last) {
        (0, _) => {
            let due = order.balance_due().unwrap();
            if due.amount() <= rust_decimal::Decimal::ZERO {
                return;
            }
            P::Authorise {
                provider: "iyzico".into(),
                method: None,
                amount: {
                    let h = half(due);
                    if h.is_zero() {
                        due
                    } else {
                        h
                    }
                },
            }
        }
        (1, Some(p)) => P::ConfirmAuthorisation {
            payment: p.id.clone(),
            provider_ref: reference,
            amount: p.requested,
        },
        (2, Some(p)) => P::Capture {
            payment: p.id.clone(),
            amount: p
                .authorised
                .checked_sub(&p.captured)
                .and_then(|m| m.checked_sub(&p.capture_pending))
                .unwrap(),
        },
        (3, Some(p)) => P::ConfirmCapture {
            payment: p.id.clone(),
            provider_ref: reference,
            amount: p.capture_pending,
        },
        (4, Some(p)) => P::Refund {
            payment: p.id.clone(),
            amount: half(
                p.captured
                    .checked_sub(&p.refunded)
                    .and_then(|m| m.checked_sub(&p.refund_pending))
                    .unwrap(),
            ),
        },
        (5, Some(p)) => P::ConfirmRefund {
            payment: p.id.clone(),
            provider_ref: reference,
            amount: p.refund_pending,
        },
        (6, Some(p)) => P::Void {
            payment: p.id.clone(),
        },
        (7 | 8, Some(p)) => {
            let (limit, pending) = if action == 7 {
                (
                    p.authorised.checked_sub(&p.captured).unwrap(),
                    p.capture_pending,
                )
            } else {
                (
                    p.captured.checked_sub(&p.refunded).unwrap(),
                    p.refund_pending,
                )
            };
            let over = limit
                .checked_sub(&pending)
                .and_then(|m| {
                    m.checked_add(
                        &Money::new(rust_decimal::Decimal::new(1, 2), m.currency()).unwrap(),
                    )
                })
                .unwrap();
            let command = if action == 7 {
                P::Capture {
                    payment: p.id.clone(),
                    amount: over,
                }
            } else {
                P::Refund {
                    payment: p.id.clone(),
                    amount: over,
                }
            };
            let before = engine.order(id).unwrap();
            assert!(
                engine.pay(id, command, &CommandContext::system()).is_err(),
                "over-capture or over-refund refused"
            );
            assert_eq!(engine.order(id).unwrap(), before);
            return;
        }
        _ => return,
    };
    let _ = engine.pay(id, command, &CommandContext::system());
}

/// A carrier event for the order's first labelled parcel.
fn track(engine: &Engine, id: &OrderId, action: u8, step: usize) {
    let order = engine.order(id).unwrap();
    let Some((f, p)) = order
        .fulfilments
        .iter()
        .flat_map(|f| f.parcels.iter().map(move |p| (f, p)))
        .find(|(_, p)| p.label.is_some())
    else {
        return;
    };
    let code = ["P", "I", "O", "D", "X"][usize::from(action - 9) % 5];
    // Times go back and forth: out-of-order events must not move a parcel backwards.
    let minutes = i64::try_from(step % 7).unwrap_or(0) * 30;
    let event =
        CarrierEvent::new(fixtures::start() + Duration::minutes(minutes), code, None).unwrap();
    let before = p.tracking.as_ref().map(|t| t.history().len()).unwrap_or(0);
    let result = engine.record_tracking_event(id, &f.id, &p.id, event, &CommandContext::system());
    if let Ok(after) = result {
        let tracked = after
            .fulfilment(&f.id)
            .and_then(|f| f.parcel(&p.id))
            .unwrap();
        let len = tracked
            .tracking
            .as_ref()
            .map(|t| t.history().len())
            .unwrap_or(0);
        assert!(len >= before, "tracking history never shrinks");
        if let (Some(old), Some(new)) = (
            p.tracking.as_ref().and_then(|t| t.status()),
            tracked.tracking.as_ref().and_then(|t| t.status()),
        ) {
            use ordersmith::fulfilment::TrackingStatus as T;
            let rank = |s: T| s.progress_rank();
            let allowed = new == old
                || new.is_interruption()
                || old.is_interruption()
                || new == T::ReturnedToSender
                || rank(new) >= rank(old);
            assert!(
                allowed,
                "a parcel never moves backwards: {old:?} -> {new:?}"
            );
        }
    }
}

fn allocations(order: &Order) -> BTreeMap<String, u32> {
    order
        .lines
        .iter()
        .flat_map(|l| &l.allocations)
        .map(|a| (a.reservation.to_string(), a.quantity))
        .collect()
}

fn check(engine: &Engine, sut: &StoreUnderTest, orders: &[OrderId], i: usize, step: &Step) {
    let at = format!("after step {i} ({step:?})");
    let mut owned_total = 0usize;
    for id in orders {
        let order = engine.order(id).unwrap();
        let live: BTreeMap<String, u32> = engine
            .reservations(&ReservationFilter {
                order: Some(id.clone()),
                ..ReservationFilter::default()
            })
            .unwrap()
            .into_iter()
            .map(|r| (r.id.to_string(), r.remaining()))
            .collect();
        owned_total += live.len();
        assert_eq!(allocations(&order), live, "order {id} {at}");
        if matches!(
            order.status,
            OrderStatus::Confirmed | OrderStatus::Processing
        ) {
            for line in &order.lines {
                assert_eq!(
                    line.fulfilment.allocated,
                    line.open_quantity(),
                    "a {} order holds every open unit: {id} line {} {at}",
                    order.status.as_str(),
                    line.id
                );
            }
        }
        if matches!(
            order.status,
            OrderStatus::Cancelled | OrderStatus::Completed
        ) {
            assert!(live.is_empty(), "{id} {at}");
        }
        // One open fulfilment order per location holding stock for the order, none
        // elsewhere; parcels never hold more than was picked, nor shipped more than
        // was packed.
        let mut holding: Vec<&LocationId> = order
            .lines
            .iter()
            .flat_map(|l| &l.allocations)
            .map(|a| &a.location)
            .collect();
        holding.sort();
        holding.dedup();
        let mut open: Vec<&LocationId> = order
            .fulfilments
            .iter()
            .filter(|f| !f.status.is_closed())
            .map(|f| &f.location)
            .collect();
        open.sort();
        assert_eq!(open, holding, "fulfilment orders of {id} {at}");
        for fo in &order.fulfilments {
            for (line, packed) in &fo.packed {
                let picked = fo.picked.get(line).copied().unwrap_or(0);
                let shipped = fo.shipped.get(line).copied().unwrap_or(0);
                assert!(
                    shipped <= *packed && *packed <= picked,
                    "{id} {} {at}",
                    fo.id
                );
            }
        }
        for line in &order.lines {
            assert!(
                line.fulfilment.shipped + line.fulfilment.cancelled <= line.quantity,
                "{id} {at}"
            );
        }
        // Provider payments: never more captured than authorised, never more refunded
        // than captured, and the order's paid amount counts every capture.
        for p in &order.payments {
            assert!(
                p.captured.amount() + p.capture_pending.amount() <= p.authorised.amount()
                    || p.authorised.is_zero() && p.captured.is_zero(),
                "{id} {} {at}",
                p.id
            );
            assert!(
                p.refunded.amount() + p.refund_pending.amount() <= p.captured.amount(),
                "{id} {} {at}",
                p.id
            );
        }
        let captured: rust_decimal::Decimal =
            order.payments.iter().map(|p| p.captured.amount()).sum();
        assert!(captured <= order.amount_paid.amount(), "{id} {at}");
        // The snapshot equals the replay of the stored history.
        let history = sut.store.order_events(id).unwrap();
        let replayed = Order::replay(&history).unwrap();
        assert_eq!(replayed, order, "replay of {id} {at}");
    }
    // Every notification asked for is one outbox record with a dedupe key no other
    // record has.
    let requested: Vec<String> = sut
        .outbox
        .pending(10_000)
        .unwrap()
        .into_iter()
        .filter(|r| r.topic == "notification.requested")
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.payload_json).unwrap();
            v.pointer("/event/notification/dedupe_key")
                .and_then(|k| k.as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    let mut unique = requested.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), requested.len(), "dedupe keys are unique {at}");
    let all_owned = engine
        .reservations(&ReservationFilter::default())
        .unwrap()
        .into_iter()
        .filter(|r| r.order.is_some())
        .count();
    assert_eq!(
        all_owned, owned_total,
        "no reservation without its order {at}"
    );
    let ledger_json = engine
        .with_stock(|s| {
            assert_eq!(rebuild_balances(s.journal()), *s.balances(), "{at}");
            for sku in STOCKED {
                for (l, name) in LOCS.iter().enumerate() {
                    let b = s.balance(&v(sku), &loc(l));
                    assert!(b.reserved <= b.on_hand, "{sku}@{name} {b:?} {at}");
                    assert!(b.reserved >= 0, "{at}");
                }
            }
            serde_json::to_value(s).unwrap()
        })
        .unwrap();
    let log = sut.store.stock_log_since(0, usize::MAX).unwrap();
    let (rebuilt, skipped) = StockLedger::from_log(&log);
    assert_eq!(skipped, 0, "{at}");
    assert_eq!(serde_json::to_value(&rebuilt).unwrap(), ledger_json, "{at}");
}
