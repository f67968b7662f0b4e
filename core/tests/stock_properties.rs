//! Property tests: random interleavings of receipts, reservations, commits, releases,
//! expiries, transfers, adjustments and counts keep the ledger's invariants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use ordersmith::ids::{CountId, LocationId, ReservationId, TransferId, VariantId};
use ordersmith::stock::*;
use proptest::prelude::*;

const VARIANTS: [&str; 3] = ["DENY", "BACK", "PRE"];
const LOCATIONS: [&str; 2] = ["A", "B"];
const BACKORDER_LIMIT: u32 = 3;
const SAFETY: u32 = 1;

#[derive(Debug, Clone)]
enum Op {
    Receive(usize, usize, u32),
    Expect(usize, usize, u32),
    Reserve {
        id: usize,
        var: usize,
        loc: usize,
        qty: u32,
        ttl_min: Option<i64>,
    },
    Commit(usize),
    CommitPartial(usize, u32),
    Release(usize),
    Advance(i64),
    Expire,
    Transfer {
        id: usize,
        var: usize,
        from: usize,
        to: usize,
        qty: u32,
    },
    ReceiveTransfer(usize),
    Adjust(usize, usize, i64, u8),
    Count(usize, usize, u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, 0..2usize, 1..15u32).prop_map(|(v, l, q)| Op::Receive(v, l, q)),
        1 => (0..3usize, 0..2usize, 1..10u32).prop_map(|(v, l, q)| Op::Expect(v, l, q)),
        5 => (0..10usize, 0..3usize, 0..2usize, 0..8u32, prop::option::of(1..120i64))
            .prop_map(|(id, var, loc, qty, ttl_min)| Op::Reserve { id, var, loc, qty, ttl_min }),
        3 => (0..10usize).prop_map(Op::Commit),
        1 => (0..10usize, 0..4u32).prop_map(|(i, q)| Op::CommitPartial(i, q)),
        2 => (0..10usize).prop_map(Op::Release),
        1 => (1..90i64).prop_map(Op::Advance),
        1 => Just(Op::Expire),
        2 => (0..5usize, 0..3usize, 0..2usize, 0..2usize, 0..6u32)
            .prop_map(|(id, var, from, to, qty)| Op::Transfer { id, var, from, to, qty }),
        1 => (0..5usize).prop_map(Op::ReceiveTransfer),
        1 => (0..3usize, 0..2usize, -5..6i64, 0..4u8).prop_map(|(v, l, d, r)| Op::Adjust(v, l, d, r)),
        1 => (0..3usize, 0..2usize, 0..15u32).prop_map(|(v, l, c)| Op::Count(v, l, c)),
    ]
}

fn var(i: usize) -> VariantId {
    VariantId::parse(VARIANTS[i]).unwrap()
}
fn loc(i: usize) -> LocationId {
    LocationId::parse(LOCATIONS[i]).unwrap()
}
fn res(i: usize) -> ReservationId {
    ReservationId::parse(format!("r{i}")).unwrap()
}
fn tr(i: usize) -> TransferId {
    TransferId::parse(format!("t{i}")).unwrap()
}

fn setup() -> StockLedger {
    let mut s = StockLedger::new();
    for (i, name) in LOCATIONS.iter().enumerate() {
        let id = LocationId::parse(*name).unwrap();
        s.add_location(Location::new(
            id,
            *name,
            i as u32,
            "TR-34",
            LocationKind::Warehouse,
        ))
        .unwrap();
    }
    s.register_variant(var(0), StockPolicy::Deny).unwrap();
    s.register_variant(
        var(1),
        StockPolicy::Backorder {
            limit: Some(BACKORDER_LIMIT),
        },
    )
    .unwrap();
    s.register_variant(var(2), StockPolicy::PreOrder).unwrap();
    s.set_safety_stock(&var(0), &loc(0), SAFETY).unwrap();
    s
}

/// Units that exist (on hand, in transit, quarantined) change only through movements
/// that bring goods in or take them out; transfers move them without creating any.
fn external_delta(m: &Movement) -> i64 {
    let q = i64::from(m.quantity);
    let signed = |d: &Direction| if *d == Direction::Increase { q } else { -q };
    match &m.kind {
        MovementKind::Receipt { .. } | MovementKind::ReturnRestock | MovementKind::Quarantine => q,
        MovementKind::Sale { .. } | MovementKind::WriteOff { .. } => -q,
        MovementKind::Adjustment { direction, .. } | MovementKind::Count { direction, .. } => {
            signed(direction)
        }
        _ => 0,
    }
}

fn units(s: &StockLedger) -> i64 {
    s.balances()
        .values()
        .flat_map(|m| m.values())
        .map(|b| b.on_hand + b.in_transit + b.quarantined)
        .sum()
}

fn deny_ok(s: &StockLedger, l: usize) -> bool {
    let b = s.balance(&var(0), &loc(l));
    b.reserved <= b.on_hand
}

fn apply(
    s: &mut StockLedger,
    op: &Op,
    now: &mut DateTime<Utc>,
    count_seq: &mut u32,
) -> Result<Vec<StockEvent>, StockError> {
    let t = *now;
    match op {
        Op::Receive(v, l, q) => s.receive(&var(*v), &loc(*l), *q, None, t),
        Op::Expect(v, l, q) => s.expect_incoming(&var(*v), &loc(*l), *q, None, t),
        Op::Reserve {
            id,
            var: v,
            loc: l,
            qty,
            ttl_min,
        } => {
            let mut r = ReserveRequest::new(res(*id), var(*v), loc(*l), *qty);
            if let Some(m) = ttl_min {
                r = r.expiring_at(t + Duration::minutes(*m));
            }
            s.reserve(r, t)
        }
        Op::Commit(i) => s.commit(&res(*i), t),
        Op::CommitPartial(i, q) => s.commit_partial(&res(*i), *q, t),
        Op::Release(i) => s.release(&res(*i), t),
        Op::Advance(m) => {
            *now += Duration::minutes(*m);
            Ok(Vec::new())
        }
        Op::Expire => Ok(s.expire(t)),
        Op::Transfer {
            id,
            var: v,
            from,
            to,
            qty,
        } => s.transfer(tr(*id), &var(*v), &loc(*from), &loc(*to), *qty, t),
        Op::ReceiveTransfer(i) => s.receive_transfer(&tr(*i), t),
        Op::Adjust(v, l, d, r) => {
            let reason = [
                AdjustmentReason::Damage,
                AdjustmentReason::Loss,
                AdjustmentReason::Found,
                AdjustmentReason::Correction,
            ][usize::from(*r)];
            s.adjust(&var(*v), &loc(*l), *d, reason, None, t)
        }
        Op::Count(v, l, counted) => {
            *count_seq += 1;
            let id = CountId::parse(format!("c{count_seq}")).unwrap();
            s.open_count(id.clone(), &loc(*l), vec![var(*v)], t)?;
            s.record_count(&id, &var(*v), *counted)?;
            s.close_count(&id, t, None).map(|(_, events)| events)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ledger_invariants_hold_over_random_interleavings(ops in prop::collection::vec(op(), 1..80)) {
        let mut s = setup();
        let mut now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
        let mut count_seq = 0;
        let mut expected_units = 0i64;
        for op in &ops {
            let before = s.clone();
            let deny_before = [deny_ok(&s, 0), deny_ok(&s, 1)];
            let result = apply(&mut s, op, &mut now, &mut count_seq);
            match &result {
                Err(_) if !matches!(op, Op::Count(..)) => prop_assert_eq!(&s, &before, "{:?} failed but changed the ledger", op),
                Err(_) => {}
                Ok(events) => {
                    expected_units += events.iter().filter_map(|e| e.movement()).map(external_delta).sum::<i64>();
                }
            }

            // Journal replay equals the live balances.
            prop_assert_eq!(&rebuild_balances(s.journal()), s.balances());
            // Transfers and reservations neither create nor destroy units.
            prop_assert_eq!(units(&s), expected_units);

            for l in 0..LOCATIONS.len() {
                for v in 0..VARIANTS.len() {
                    let b = s.balance(&var(v), &loc(l));
                    prop_assert!(b.reserved >= 0 && b.in_transit >= 0 && b.quarantined >= 0 && b.incoming >= 0, "{:?}", b);
                    // reserved is exactly what active reservations still hold
                    let held: i64 = (0..10)
                        .filter_map(|i| s.reservation(&res(i)))
                        .filter(|r| r.variant == var(v) && r.location == loc(l))
                        .map(|r| i64::from(r.remaining()))
                        .sum();
                    prop_assert_eq!(b.reserved, held);
                }
                // Deny: reserved never exceeds on hand, except after a physical loss
                // (damage, loss, a count) which the ledger reports as a shortfall.
                let physical = matches!(op, Op::Count(..) | Op::Adjust(_, _, _, 0 | 1));
                if deny_before[l] && !physical {
                    prop_assert!(deny_ok(&s, l), "deny oversold at {} after {:?}", LOCATIONS[l], op);
                }
                if !deny_ok(&s, l) && physical && result.is_ok() && deny_before[l] {
                    let events = result.as_ref().unwrap();
                    let short = events.iter().any(|e| matches!(e, StockEvent::Shortfall { .. }));
                    prop_assert!(short, "no shortfall reported after {:?}", op);
                }
            }

            if let (Op::Reserve { id, var: v, loc: l, qty, ttl_min }, Ok(events)) = (op, &result) {
                // No oversell past policy for a new reservation.
                let b = s.balance(&var(*v), &loc(*l));
                if before.reservation(&res(*id)).is_none() {
                    let policy = before.policy(&var(*v)).unwrap();
                    let safety = before.safety_stock(&var(*v), &loc(*l));
                    let reservable = policy.reservable(&before.balance(&var(*v), &loc(*l)), safety);
                    prop_assert!(i64::from(*qty) <= reservable, "oversold {:?}", op);
                    if *v == 0 {
                        prop_assert!(b.reserved <= b.on_hand - i64::from(safety));
                    }
                }
                // The same reserve again: the first result, nothing changes.
                let after = s.clone();
                let mut r = ReserveRequest::new(res(*id), var(*v), loc(*l), *qty);
                if let Some(m) = ttl_min { r = r.expiring_at(now + Duration::minutes(*m)); }
                if before.reservation(&res(*id)).is_none() {
                    let again = s.reserve(r, now).unwrap();
                    let moved: Vec<&StockEvent> = events.iter().filter(|e| e.movement().is_some()).collect();
                    prop_assert_eq!(again.iter().collect::<Vec<_>>(), moved);
                    prop_assert_eq!(&s, &after);
                }
            }
            if let (Op::Commit(i) | Op::Release(i), Ok(_)) = (op, &result) {
                let after = s.clone();
                let again = match op { Op::Commit(_) => s.commit(&res(*i), now), _ => s.release(&res(*i), now) };
                prop_assert!(again.unwrap().is_empty());
                prop_assert_eq!(&s, &after);
            }
        }
    }
}

proptest! {
    #[test]
    fn bundle_availability_is_the_minimum_over_components(a in 0..40u32, b in 0..40u32, per_a in 1..5u32, per_b in 1..5u32) {
        let mut s = setup();
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
        if a > 0 { s.receive(&var(1), &loc(1), a, None, now).unwrap(); }
        if b > 0 { s.receive(&var(2), &loc(1), b, None, now).unwrap(); }
        let kit = VariantId::parse("KIT").unwrap();
        s.define_bundle(kit.clone(), vec![(var(1), per_a), (var(2), per_b)]).unwrap();
        let avail = s.bundle_available(&kit, &loc(1)).unwrap();
        prop_assert_eq!(avail, u64::from((a / per_a).min(b / per_b)));
    }
}
