//! The stock ledger and sourcing through the public API: each capability and each bad
//! input (which must leave the ledger unchanged).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, TimeZone, Utc};
use ordersmith::ids::{
    ChannelId, CountId, LineId, LocationId, ReservationId, TransferId, VariantId,
};
use ordersmith::money::{Currency, Money};
use ordersmith::sourcing::{plan, SourcingLine, SourcingStrategy};
use ordersmith::stock::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
}
fn v(s: &str) -> VariantId {
    VariantId::parse(s).unwrap()
}
fn l(s: &str) -> LocationId {
    LocationId::parse(s).unwrap()
}
fn r(s: &str) -> ReservationId {
    ReservationId::parse(s).unwrap()
}

/// IST (priority 1, TR-34), ANK (priority 2, TR-06), BER (priority 3, DE-BE); MUG deny,
/// PEN backorder 5, BOOK pre-order. 10 MUG at IST, 4 at ANK.
fn ledger() -> StockLedger {
    let mut s = StockLedger::new();
    s.add_location(Location::new(
        l("IST"),
        "Istanbul DC",
        1,
        "TR-34",
        LocationKind::Warehouse,
    ))
    .unwrap();
    s.add_location(Location::new(
        l("ANK"),
        "Ankara Store",
        2,
        "TR-06",
        LocationKind::Store,
    ))
    .unwrap();
    s.add_location(Location::new(
        l("BER"),
        "Berlin Dropship",
        3,
        "DE-BE",
        LocationKind::Dropship,
    ))
    .unwrap();
    s.register_variant(v("MUG"), StockPolicy::Deny).unwrap();
    s.register_variant(v("PEN"), StockPolicy::Backorder { limit: Some(5) })
        .unwrap();
    s.register_variant(v("BOOK"), StockPolicy::PreOrder)
        .unwrap();
    s.receive(&v("MUG"), &l("IST"), 10, Some("PO-1"), t0())
        .unwrap();
    s.receive(&v("MUG"), &l("ANK"), 4, Some("PO-2"), t0())
        .unwrap();
    s
}

fn req(id: &str, variant: &str, loc: &str, q: u32) -> ReserveRequest {
    ReserveRequest::new(r(id), v(variant), l(loc), q)
}

/// Runs a command that must fail with `code` and checks the ledger did not change.
fn refused<T: std::fmt::Debug>(
    s: &mut StockLedger,
    code: &str,
    f: impl FnOnce(&mut StockLedger) -> Result<T, StockError>,
) {
    let before = serde_json::to_value(&*s).unwrap();
    let clone = s.clone();
    let err = f(s).unwrap_err();
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(*s, clone, "ledger changed on {code}");
    assert_eq!(serde_json::to_value(&*s).unwrap(), before);
}

#[test]
fn balances_per_location_and_across_locations() {
    let mut s = ledger();
    s.set_safety_stock(&v("MUG"), &l("IST"), 2).unwrap();
    let lvl = s.level(&v("MUG"), &l("IST")).unwrap();
    assert_eq!(
        (lvl.on_hand, lvl.reserved, lvl.safety_stock, lvl.available),
        (10, 0, 2, 8)
    );
    let all = s.levels(&v("MUG")).unwrap();
    assert_eq!(all.locations.len(), 3);
    assert_eq!((all.on_hand, all.sellable), (14, 12));
    assert_eq!(s.total_sellable(&v("MUG")), 12);
    // Safety stock beyond free stock: available negative, sellable clamped at zero.
    s.set_safety_stock(&v("MUG"), &l("ANK"), 9).unwrap();
    let lvl = s.level(&v("MUG"), &l("ANK")).unwrap();
    assert_eq!((lvl.available, lvl.sellable()), (-5, 0));
}

#[test]
fn every_movement_kind_moves_the_right_buckets_and_replays() {
    let mut s = ledger();
    let (mug, ist) = (v("MUG"), l("IST"));
    s.expect_incoming(&mug, &ist, 6, Some("PO-3"), t0())
        .unwrap();
    s.receive(&mug, &ist, 4, Some("PO-3"), t0()).unwrap(); // 4 of 6 expected
    assert_eq!(s.balance(&mug, &ist).incoming, 2);
    s.cancel_incoming(&mug, &ist, 2, None, t0()).unwrap();
    s.adjust(&mug, &ist, -1, AdjustmentReason::Damage, None, t0())
        .unwrap();
    s.adjust(&mug, &ist, 2, AdjustmentReason::Found, None, t0())
        .unwrap();
    s.adjust(&mug, &ist, -1, AdjustmentReason::Correction, None, t0())
        .unwrap();
    s.restock_return(&mug, &ist, 1, Some("RMA-1"), t0())
        .unwrap();
    s.quarantine(&mug, &ist, 3, Some("RMA-2"), t0()).unwrap();
    s.release_quarantine(&mug, &ist, 1, None, t0()).unwrap();
    s.write_off(&mug, &ist, 1, WriteOffSource::Quarantine, None, t0())
        .unwrap();
    s.write_off(&mug, &ist, 1, WriteOffSource::OnHand, None, t0())
        .unwrap();
    let b = s.balance(&mug, &ist);
    assert_eq!(b.on_hand, 10 + 4 - 1 + 2 - 1 + 1 + 1 - 1);
    assert_eq!((b.incoming, b.quarantined), (0, 1));
    let seqs: Vec<u64> = s.journal().iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(rebuild_balances(s.journal()), *s.balances());
    assert_eq!(s.journal_since(12).len(), s.journal().len() - 12);
}

#[test]
fn reserve_commit_release_are_two_phase_and_idempotent() {
    let mut s = ledger();
    let first = s
        .reserve(req("r1", "MUG", "IST", 3).with_reference("o-1/1"), t0())
        .unwrap();
    assert_eq!(s.level(&v("MUG"), &l("IST")).unwrap().reserved, 3);
    // The same reserve again: the first result, nothing changes.
    let before = s.clone();
    let again = s
        .reserve(req("r1", "MUG", "IST", 3).with_reference("o-1/1"), t0())
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(s, before);
    // Same id, other data: a conflict.
    refused(&mut s, "STOCK_RESERVATION_CONFLICT", |s| {
        s.reserve(req("r1", "MUG", "IST", 4), t0())
    });
    s.commit(&r("r1"), t0()).unwrap();
    let b = s.balance(&v("MUG"), &l("IST"));
    assert_eq!((b.on_hand, b.reserved), (7, 0));
    assert!(matches!(
        s.journal().last().unwrap().kind,
        MovementKind::Sale { .. }
    ));
    let before = s.clone();
    assert!(s.commit(&r("r1"), t0()).unwrap().is_empty());
    assert_eq!(s, before);
    refused(&mut s, "STOCK_RESERVATION_COMMITTED", |s| {
        s.release(&r("r1"), t0())
    });

    s.reserve(req("r2", "MUG", "IST", 2), t0()).unwrap();
    s.release(&r("r2"), t0()).unwrap();
    assert_eq!(s.balance(&v("MUG"), &l("IST")).reserved, 0);
    assert!(s.release(&r("r2"), t0()).unwrap().is_empty());
    refused(&mut s, "STOCK_RESERVATION_RELEASED", |s| {
        s.commit(&r("r2"), t0())
    });
    refused(&mut s, "STOCK_UNKNOWN_RESERVATION", |s| {
        s.commit(&r("nope"), t0())
    });
    refused(&mut s, "STOCK_UNKNOWN_RESERVATION", |s| {
        s.release(&r("nope"), t0())
    });
    assert_eq!(
        s.reservation(&r("r2")).unwrap().state,
        ReservationState::Released
    );
}

#[test]
fn partial_commit_keeps_the_rest_reserved() {
    let mut s = ledger();
    s.reserve(req("r1", "MUG", "IST", 5), t0()).unwrap();
    s.commit_partial(&r("r1"), 2, t0()).unwrap();
    let b = s.balance(&v("MUG"), &l("IST"));
    assert_eq!((b.on_hand, b.reserved), (8, 3));
    refused(&mut s, "STOCK_COMMIT_TOO_LARGE", |s| {
        s.commit_partial(&r("r1"), 4, t0())
    });
    refused(&mut s, "STOCK_INVALID_QUANTITY", |s| {
        s.commit_partial(&r("r1"), 0, t0())
    });
    s.release(&r("r1"), t0()).unwrap();
    let b = s.balance(&v("MUG"), &l("IST"));
    assert_eq!((b.on_hand, b.reserved), (8, 0));
}

#[test]
fn partial_release_keeps_the_rest_and_ends_the_reservation_when_empty() {
    let mut s = ledger();
    s.reserve(req("r1", "MUG", "IST", 5), t0()).unwrap();
    s.release_partial(&r("r1"), 2, t0()).unwrap();
    assert_eq!(s.balance(&v("MUG"), &l("IST")).reserved, 3);
    assert_eq!(s.reservation(&r("r1")).unwrap().remaining(), 3);
    refused(&mut s, "STOCK_RELEASE_TOO_LARGE", |s| {
        s.release_partial(&r("r1"), 4, t0())
    });
    refused(&mut s, "STOCK_INVALID_QUANTITY", |s| {
        s.release_partial(&r("r1"), 0, t0())
    });
    s.commit_partial(&r("r1"), 1, t0()).unwrap();
    s.release_partial(&r("r1"), 2, t0()).unwrap();
    let res = s.reservation(&r("r1")).unwrap();
    assert_eq!(
        res.state,
        ReservationState::Committed,
        "one unit sold, the rest released"
    );
    assert_eq!(s.balance(&v("MUG"), &l("IST")).reserved, 0);
    refused(&mut s, "STOCK_RESERVATION_COMMITTED", |s| {
        s.release_partial(&r("r1"), 1, t0())
    });
    s.reserve(req("r2", "MUG", "IST", 2), t0()).unwrap();
    s.release_partial(&r("r2"), 2, t0()).unwrap();
    assert_eq!(
        s.reservation(&r("r2")).unwrap().state,
        ReservationState::Released
    );
    assert_eq!(rebuild_balances(s.journal()), *s.balances());
}

#[test]
fn expiry_sweep_releases_lapsed_reservations_only() {
    let mut s = ledger();
    let soon = t0() + Duration::minutes(15);
    s.reserve(req("r1", "MUG", "IST", 2).expiring_at(soon), t0())
        .unwrap();
    s.reserve(
        req("r2", "MUG", "IST", 3).expiring_at(soon + Duration::hours(1)),
        t0(),
    )
    .unwrap();
    s.reserve(req("r3", "MUG", "IST", 1), t0()).unwrap();
    assert!(s.expire(t0()).is_empty());
    // Past expiry but not swept yet: cannot commit.
    refused(&mut s, "STOCK_RESERVATION_EXPIRED", |s| {
        s.commit(&r("r1"), soon)
    });
    let released = s.expire(soon);
    assert_eq!(released.len(), 1);
    let m = released[0].movement().unwrap();
    assert_eq!(m.quantity, 2);
    assert!(
        matches!(&m.kind, MovementKind::Release { reservation, expired: true } if *reservation == r("r1"))
    );
    assert_eq!(
        s.reservation(&r("r1")).unwrap().state,
        ReservationState::Expired
    );
    assert!(s.expire(soon).is_empty());
    refused(&mut s, "STOCK_RESERVATION_EXPIRED", |s| {
        s.commit(&r("r1"), soon)
    });
    assert!(s.release(&r("r1"), soon).unwrap().is_empty());
    assert_eq!(s.balance(&v("MUG"), &l("IST")).reserved, 4);
    refused(&mut s, "STOCK_INVALID_EXPIRY", |s| {
        s.reserve(req("r4", "MUG", "IST", 1).expiring_at(t0()), t0())
    });
}

#[test]
fn policies_decide_how_far_a_variant_may_be_reserved() {
    let mut s = ledger();
    s.set_safety_stock(&v("MUG"), &l("IST"), 1).unwrap();
    // Deny: 10 on hand − 1 safety = 9.
    refused(&mut s, "STOCK_INSUFFICIENT", |s| {
        s.reserve(req("a", "MUG", "IST", 10), t0())
    });
    let err = s.reserve(req("a", "MUG", "IST", 10), t0()).unwrap_err();
    assert_eq!(
        err,
        StockError::Insufficient {
            variant: v("MUG"),
            location: l("IST"),
            requested: 10,
            available: 9,
            policy: StockPolicy::Deny
        }
    );
    s.reserve(req("a", "MUG", "IST", 9), t0()).unwrap();
    // Backorder with limit 5: nothing on hand, 5 below zero.
    s.reserve(req("b", "PEN", "IST", 5), t0()).unwrap();
    refused(&mut s, "STOCK_INSUFFICIENT", |s| {
        s.reserve(req("c", "PEN", "IST", 1), t0())
    });
    s.commit(&r("b"), t0()).unwrap();
    assert_eq!(s.balance(&v("PEN"), &l("IST")).on_hand, -5);
    // Pre-order: against incoming.
    refused(&mut s, "STOCK_INSUFFICIENT", |s| {
        s.reserve(req("d", "BOOK", "IST", 1), t0())
    });
    s.expect_incoming(&v("BOOK"), &l("IST"), 20, Some("PO-9"), t0())
        .unwrap();
    s.reserve(req("d", "BOOK", "IST", 20), t0()).unwrap();
    refused(&mut s, "STOCK_INSUFFICIENT", |s| {
        s.reserve(req("e", "BOOK", "IST", 1), t0())
    });
    // Unlimited backorder.
    s.set_policy(&v("PEN"), StockPolicy::Backorder { limit: None })
        .unwrap();
    s.reserve(req("f", "PEN", "IST", 1_000), t0()).unwrap();
}

#[test]
fn bad_inputs_are_typed_and_change_nothing() {
    let mut s = ledger();
    let (mug, ist) = (v("MUG"), l("IST"));
    refused(&mut s, "STOCK_UNKNOWN_VARIANT", |s| {
        s.receive(&v("NOPE"), &ist, 1, None, t0())
    });
    refused(&mut s, "STOCK_UNKNOWN_LOCATION", |s| {
        s.receive(&mug, &l("NOPE"), 1, None, t0())
    });
    refused(&mut s, "STOCK_INVALID_QUANTITY", |s| {
        s.receive(&mug, &ist, 0, None, t0())
    });
    refused(&mut s, "STOCK_INVALID_QUANTITY", |s| {
        s.receive(&mug, &ist, 2_000_000_000, None, t0())
    });
    refused(&mut s, "STOCK_TOO_MANY", |s| {
        s.receive(&mug, &ist, 1, Some(&"x".repeat(300)), t0())
    });
    refused(&mut s, "STOCK_UNKNOWN_VARIANT", |s| {
        s.reserve(req("x", "NOPE", "IST", 1), t0())
    });
    refused(&mut s, "STOCK_UNKNOWN_LOCATION", |s| {
        s.reserve(req("x", "MUG", "NOPE", 1), t0())
    });
    refused(&mut s, "STOCK_INVALID_QUANTITY", |s| {
        s.reserve(req("x", "MUG", "IST", 0), t0())
    });
    refused(&mut s, "STOCK_INVALID_QUANTITY", |s| {
        s.adjust(&mug, &ist, 0, AdjustmentReason::Correction, None, t0())
    });
    refused(&mut s, "STOCK_ADJUSTMENT_DIRECTION", |s| {
        s.adjust(&mug, &ist, 3, AdjustmentReason::Damage, None, t0())
    });
    refused(&mut s, "STOCK_ADJUSTMENT_DIRECTION", |s| {
        s.adjust(&mug, &ist, -3, AdjustmentReason::Found, None, t0())
    });
    refused(&mut s, "STOCK_NOT_ENOUGH", |s| {
        s.adjust(&mug, &ist, -11, AdjustmentReason::Loss, None, t0())
    });
    refused(&mut s, "STOCK_NOT_ENOUGH", |s| {
        s.release_quarantine(&mug, &ist, 1, None, t0())
    });
    refused(&mut s, "STOCK_NOT_ENOUGH", |s| {
        s.cancel_incoming(&mug, &ist, 1, None, t0())
    });
    refused(&mut s, "STOCK_NOT_ENOUGH", |s| {
        s.write_off(&mug, &ist, 1, WriteOffSource::Quarantine, None, t0())
    });
    // Reserved stock cannot be written off, corrected away or transferred.
    s.reserve(req("r", "MUG", "IST", 8), t0()).unwrap();
    refused(&mut s, "STOCK_NOT_ENOUGH", |s| {
        s.write_off(&mug, &ist, 3, WriteOffSource::OnHand, None, t0())
    });
    refused(&mut s, "STOCK_NOT_ENOUGH", |s| {
        s.adjust(&mug, &ist, -3, AdjustmentReason::Correction, None, t0())
    });
    let tr = TransferId::parse("t-1").unwrap();
    refused(&mut s, "STOCK_NOT_ENOUGH", |s| {
        s.transfer(tr.clone(), &mug, &ist, &l("ANK"), 3, t0())
    });
    refused(&mut s, "STOCK_SAME_LOCATION", |s| {
        s.transfer(tr.clone(), &mug, &ist, &ist, 1, t0())
    });
    refused(&mut s, "STOCK_UNKNOWN_TRANSFER", |s| {
        s.receive_transfer(&tr, t0())
    });
    refused(&mut s, "STOCK_ALREADY_EXISTS", |s| {
        s.register_variant(v("MUG"), StockPolicy::PreOrder)
    });
    refused(&mut s, "STOCK_ALREADY_EXISTS", |s| {
        s.add_location(Location::new(
            l("IST"),
            "Other",
            1,
            "TR-34",
            LocationKind::Store,
        ))
    });
    // The same registration again is fine.
    s.register_variant(v("MUG"), StockPolicy::Deny).unwrap();
}

#[test]
fn damage_below_reservations_reports_a_shortfall() {
    let mut s = ledger();
    s.reserve(req("r", "MUG", "ANK", 4), t0()).unwrap();
    let events = s
        .adjust(
            &v("MUG"),
            &l("ANK"),
            -1,
            AdjustmentReason::Damage,
            None,
            t0(),
        )
        .unwrap();
    assert!(events.iter().any(|e| matches!(
        e,
        StockEvent::Shortfall {
            reserved: 4,
            on_hand: 3,
            ..
        }
    )));
}

#[test]
fn transfers_move_through_in_transit_and_conserve_units() {
    let mut s = ledger();
    let (mug, ist, ank) = (v("MUG"), l("IST"), l("ANK"));
    let tr = TransferId::parse("t-1").unwrap();
    s.transfer(tr.clone(), &mug, &ist, &ank, 3, t0()).unwrap();
    let b = s.balance(&mug, &ist);
    assert_eq!((b.on_hand, b.in_transit), (7, 3));
    assert!(s
        .transfer(tr.clone(), &mug, &ist, &ank, 3, t0())
        .unwrap()
        .is_empty());
    refused(&mut s, "STOCK_TRANSFER_CONFLICT", |s| {
        s.transfer(tr.clone(), &mug, &ist, &ank, 2, t0())
    });
    s.receive_transfer(&tr, t0()).unwrap();
    assert!(s.receive_transfer(&tr, t0()).unwrap().is_empty());
    assert_eq!(s.balance(&mug, &ist).in_transit, 0);
    assert_eq!(s.balance(&mug, &ank).on_hand, 7);
    assert_eq!(s.levels(&mug).unwrap().on_hand, 14);
    assert_eq!(s.transfer_info(&tr).unwrap().state, TransferState::Received);
}

#[test]
fn bundles_derive_availability_and_reserve_all_or_nothing() {
    let mut s = ledger();
    s.register_variant(v("LID"), StockPolicy::Deny).unwrap();
    s.receive(&v("LID"), &l("IST"), 3, None, t0()).unwrap();
    s.define_bundle(v("MUG-SET"), vec![(v("MUG"), 2), (v("LID"), 1)])
        .unwrap();
    s.define_bundle(v("MUG-SET"), vec![(v("MUG"), 2), (v("LID"), 1)])
        .unwrap();
    assert_eq!(s.bundle_available(&v("MUG-SET"), &l("IST")).unwrap(), 3); // min(10/2, 3/1)
    assert_eq!(s.bundle_available(&v("MUG-SET"), &l("ANK")).unwrap(), 0);
    refused(&mut s, "STOCK_INSUFFICIENT", |s| {
        s.reserve(req("b", "MUG-SET", "IST", 4), t0())
    });
    s.reserve(req("b", "MUG-SET", "IST", 2), t0()).unwrap();
    assert_eq!(s.balance(&v("MUG"), &l("IST")).reserved, 4);
    assert_eq!(s.balance(&v("LID"), &l("IST")).reserved, 2);
    assert_eq!(s.bundle_available(&v("MUG-SET"), &l("IST")).unwrap(), 1);
    s.commit(&r("b"), t0()).unwrap();
    assert_eq!(s.balance(&v("MUG"), &l("IST")).on_hand, 6);
    assert_eq!(s.balance(&v("LID"), &l("IST")).on_hand, 1);
    refused(&mut s, "STOCK_INVALID_BUNDLE", |s| {
        s.define_bundle(v("X"), vec![])
    });
    refused(&mut s, "STOCK_INVALID_BUNDLE", |s| {
        s.define_bundle(v("X"), vec![(v("MUG-SET"), 1)])
    });
    refused(&mut s, "STOCK_INVALID_BUNDLE", |s| {
        s.define_bundle(v("MUG"), vec![(v("LID"), 1)])
    });
    refused(&mut s, "STOCK_UNKNOWN_VARIANT", |s| {
        s.define_bundle(v("X"), vec![(v("NOPE"), 1)])
    });
    refused(&mut s, "STOCK_INVALID_QUANTITY", |s| {
        s.define_bundle(v("X"), vec![(v("MUG"), 0)])
    });
    refused(&mut s, "STOCK_ALREADY_EXISTS", |s| {
        s.define_bundle(v("MUG-SET"), vec![(v("MUG"), 1)])
    });
    refused(&mut s, "STOCK_INVALID_BUNDLE", |s| {
        s.receive(&v("MUG-SET"), &l("IST"), 1, None, t0())
    });
}

#[test]
fn cycle_count_accounts_for_movements_since_open() {
    let mut s = ledger();
    let (mug, ist) = (v("MUG"), l("IST"));
    s.register_variant(v("LID"), StockPolicy::Deny).unwrap();
    s.receive(&v("LID"), &ist, 5, None, t0()).unwrap();
    let c = CountId::parse("c-1").unwrap();
    let sheet = s
        .open_count(c.clone(), &ist, vec![mug.clone(), v("LID"), v("PEN")], t0())
        .unwrap();
    assert_eq!(sheet.variants.len(), 3);
    assert!(sheet.recorded.is_empty());
    // Between open and counting, 3 mugs are sold: expected becomes 7.
    s.reserve(req("r", "MUG", "IST", 3), t0()).unwrap();
    s.commit(&r("r"), t0()).unwrap();
    s.record_count(&c, &mug, 6).unwrap(); // one missing
    s.record_count(&c, &v("LID"), 5).unwrap();
    // After counting, 2 more arrive: kept, not overwritten by the count.
    s.receive(&mug, &ist, 2, None, t0()).unwrap();
    refused(&mut s, "STOCK_COUNT_VARIANT_NOT_LISTED", |s| {
        s.record_count(&c, &v("BOOK"), 1)
    });
    refused(&mut s, "STOCK_UNKNOWN_COUNT", |s| {
        s.record_count(&CountId::parse("x").unwrap(), &mug, 1)
    });
    let try_ = Currency::parse("TRY").unwrap();
    let costs = HashMap::from([
        (mug.clone(), Money::parse("40", try_).unwrap()),
        (v("LID"), Money::parse("5", try_).unwrap()),
    ]);
    let (report, events) = s.close_count(&c, t0(), Some(&costs)).unwrap();
    let m = &report.variances[1];
    assert_eq!(m.variant, mug);
    assert_eq!(
        (
            m.expected_at_open,
            m.movements_since_open,
            m.expected,
            m.counted,
            m.variance
        ),
        (10, -3, 7, 6, -1)
    );
    assert_eq!(m.value, Some(Money::parse("-40", try_).unwrap()));
    assert_eq!(report.uncounted, vec![v("PEN")]);
    assert_eq!(report.variant_accuracy, Some("0.5".parse().unwrap()));
    assert_eq!(report.unit_accuracy, Some("0.9167".parse().unwrap())); // 1 − 1/12
    assert_eq!(report.net_value, Some(Money::parse("-40", try_).unwrap()));
    assert_eq!(events.iter().filter_map(|e| e.movement()).count(), 1);
    assert_eq!(s.balance(&mug, &ist).on_hand, 8); // 7 − 1 + 2
    refused(&mut s, "STOCK_COUNT_CLOSED", |s| {
        s.close_count(&c, t0(), None)
    });
    refused(&mut s, "STOCK_COUNT_CLOSED", |s| {
        s.record_count(&c, &mug, 1)
    });
    refused(&mut s, "STOCK_COUNT_CONFLICT", |s| {
        s.open_count(c.clone(), &l("ANK"), vec![v("MUG")], t0())
    });
    assert_eq!(rebuild_balances(s.journal()), *s.balances());
}

#[test]
fn forecast_and_alerts_come_from_the_journal() {
    let mut s = ledger();
    let mug = v("MUG");
    s.set_low_stock_threshold(&mug, Some(5)).unwrap();
    // 10 days, 1 mug a day at IST.
    for day in 0..10 {
        let at = t0() + Duration::days(day);
        let id = format!("s{day}");
        s.reserve(req(&id, "MUG", "IST", 1), at).unwrap();
        s.commit(&r(&id), at).unwrap();
    }
    let now = t0() + Duration::days(9);
    assert_eq!(
        s.sales_velocity(&mug, 10, now).unwrap(),
        "1".parse().unwrap()
    );
    let params = ReorderParams {
        window_days: 10,
        lead_time_days: 3,
        review_period_days: 7,
    };
    s.set_safety_stock(&mug, &l("IST"), 0).unwrap();
    let f = s.forecast(&mug, params, now).unwrap();
    assert_eq!(f.sellable, 4); // 0 at IST + 4 at ANK
    assert_eq!(f.days_of_cover, Some("4".parse().unwrap()));
    assert_eq!(f.reorder_point, 3);
    assert_eq!(f.inventory_position, 4);
    assert!(!f.reorder_now);
    assert_eq!(f.suggested_quantity, 6); // 3 + 7 − 4
    refused(&mut s, "STOCK_INVALID_PARAMETER", |s| {
        s.sales_velocity(&mug, 0, now)
    });

    // Alerts: one per crossing.
    let mut fresh = ledger();
    fresh.set_low_stock_threshold(&mug, Some(10)).unwrap();
    let mut seen = Vec::new();
    for i in 0..5 {
        let id = format!("a{i}");
        for e in fresh.reserve(req(&id, "MUG", "IST", 2), t0()).unwrap() {
            if let StockEvent::Alert(a) = e {
                seen.push(a.kind);
            }
        }
    }
    // 14 → 12 → 10 (low) → 8 → 6 → 4: one low-stock alert.
    assert_eq!(seen, vec![AlertKind::LowStock]);
    let ev = fresh.reserve(req("z", "MUG", "ANK", 2), t0()).unwrap();
    let ev2 = fresh.reserve(req("z2", "MUG", "ANK", 2), t0()).unwrap();
    assert!(ev.iter().all(|e| !matches!(e, StockEvent::Alert(_))));
    assert!(ev2.iter().any(|e| matches!(
        e,
        StockEvent::Alert(StockAlert {
            kind: AlertKind::OutOfStock,
            sellable: 0,
            ..
        })
    )));
    // Rising above re-arms: receive, then sell out again, alert again.
    fresh.receive(&mug, &l("IST"), 20, None, t0()).unwrap();
    let mut again = Vec::new();
    for i in 0..10 {
        let id = format!("b{i}");
        for e in fresh.reserve(req(&id, "MUG", "IST", 2), t0()).unwrap() {
            if let StockEvent::Alert(a) = e {
                again.push(a.kind);
            }
        }
    }
    assert_eq!(again, vec![AlertKind::LowStock, AlertKind::OutOfStock]);
}

#[test]
fn channels_get_a_share_and_only_what_moved() {
    let mut s = ledger();
    let (web, tr) = (
        ChannelId::parse("web").unwrap(),
        ChannelId::parse("trendyol").unwrap(),
    );
    s.set_channel_rule(web.clone(), ChannelRule::all()).unwrap();
    s.set_channel_rule(
        tr.clone(),
        ChannelRule {
            share_percent: 50,
            buffer: 2,
            locations: Some(vec![l("IST")]),
        },
    )
    .unwrap();
    assert_eq!(s.channel_quantity(&web, &v("MUG")).unwrap(), 14);
    assert_eq!(s.channel_quantity(&tr, &v("MUG")).unwrap(), 3); // 10 × 50% − 2
    let changed = s.changed_since_last_push(&tr).unwrap();
    assert_eq!(changed.len(), 3); // MUG, PEN, BOOK: everything the first time
    s.mark_pushed(&tr, &changed).unwrap();
    assert!(s.changed_since_last_push(&tr).unwrap().is_empty());
    s.reserve(req("r", "MUG", "IST", 2), t0()).unwrap();
    let changed = s.changed_since_last_push(&tr).unwrap();
    assert_eq!(changed, BTreeMap::from([(v("MUG"), 2)]));
    refused(&mut s, "STOCK_UNKNOWN_CHANNEL", |s| {
        s.channel_quantities(&ChannelId::parse("x").unwrap())
    });
    refused(&mut s, "STOCK_INVALID_CHANNEL_RULE", |s| {
        s.set_channel_rule(
            web.clone(),
            ChannelRule {
                share_percent: 101,
                buffer: 0,
                locations: None,
            },
        )
    });
    refused(&mut s, "STOCK_UNKNOWN_LOCATION", |s| {
        s.set_channel_rule(
            web.clone(),
            ChannelRule {
                share_percent: 10,
                buffer: 0,
                locations: Some(vec![l("NOPE")]),
            },
        )
    });
}

#[test]
fn ledger_round_trips_through_json() {
    let mut s = ledger();
    s.reserve(
        req("r", "MUG", "IST", 2).expiring_at(t0() + Duration::hours(1)),
        t0(),
    )
    .unwrap();
    s.set_safety_stock(&v("MUG"), &l("IST"), 1).unwrap();
    let json = serde_json::to_string(&s).unwrap();
    let back: StockLedger = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
}

#[test]
fn stock_codes_are_registered_and_unique() {
    let all = ordersmith::all_error_codes();
    for code in StockError::CODES
        .iter()
        .chain(ordersmith::sourcing::SourcingError::CODES)
    {
        assert!(all.contains(code), "{code}");
    }
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len());
}

fn sourcing_fixture() -> (Vec<Location>, HashMap<(VariantId, LocationId), u64>) {
    let s = ledger();
    let locations: Vec<Location> = s.locations().cloned().collect();
    let stock = HashMap::from([
        ((v("MUG"), l("IST")), 10),
        ((v("MUG"), l("ANK")), 4),
        ((v("PEN"), l("ANK")), 5),
        ((v("BOOK"), l("BER")), 3),
        ((v("BOOK"), l("ANK")), 1),
    ]);
    (locations, stock)
}

fn line(id: &str, variant: &str, q: u32) -> SourcingLine {
    SourcingLine::new(LineId::parse(id).unwrap(), v(variant), q)
}

#[test]
fn sourcing_prefers_one_location_with_everything() {
    let (locs, stock) = sourcing_fixture();
    let lines = vec![
        line("1", "MUG", 2),
        line("2", "PEN", 1),
        line("3", "BOOK", 1),
    ];
    for strategy in [
        SourcingStrategy::Priority,
        SourcingStrategy::FewestShipments,
    ] {
        let p = plan(&lines, &locs, &stock, &strategy, true).unwrap();
        assert_eq!(p.locations(), vec![&l("ANK")]);
        assert!(p.unfilled.is_empty());
        assert_eq!(
            p.explanation[0],
            "All 3 lines ship from Ankara Store (priority 2), the only location with everything in stock"
        );
    }
}

#[test]
fn sourcing_names_how_many_locations_have_everything() {
    let (locs, stock) = sourcing_fixture();
    // Two mugs: Istanbul (priority 1) and Ankara (priority 2) both have them.
    let p = plan(
        &[line("1", "MUG", 2)],
        &locs,
        &stock,
        &SourcingStrategy::Priority,
        true,
    )
    .unwrap();
    assert_eq!(p.locations(), vec![&l("IST")]);
    assert!(
        p.explanation[0].ends_with("the best-ranked of 2 locations with everything in stock"),
        "{:?}",
        p.explanation
    );
}

#[test]
fn sourcing_refuses_a_line_named_twice_or_an_impossible_quantity_in_line_order() {
    let (locs, stock) = sourcing_fixture();
    // Few lines are compared pairwise, many go through a set: both report the first
    // problem in line order, whichever kind it is.
    for count in [2, 16, 17, 40] {
        let mut lines: Vec<SourcingLine> = (0..count)
            .map(|i| line(&format!("L{i}"), "MUG", 1))
            .collect();
        let last = count - 1;
        lines[last] = line("L0", "MUG", 1);
        let err = plan(&lines, &locs, &stock, &SourcingStrategy::Priority, true).unwrap_err();
        assert_eq!(err.code(), "SOURCING_DUPLICATE_LINE", "{count}: {err}");
        assert!(err.to_string().contains("L0"), "{err}");
        // A zero quantity on the line before the repeat is reported first.
        lines[last - 1] = line(&format!("L{}", last - 1), "MUG", 0);
        let err = plan(&lines, &locs, &stock, &SourcingStrategy::Priority, true).unwrap_err();
        assert_eq!(err.code(), "SOURCING_INVALID_QUANTITY", "{count}: {err}");
        // Distinct lines plan.
        lines[last] = line(&format!("L{last}"), "MUG", 1);
        lines[last - 1] = line(&format!("L{}", last - 1), "MUG", 1);
        assert!(plan(&lines, &locs, &stock, &SourcingStrategy::Priority, true).is_ok());
    }
}

#[test]
fn sourcing_splits_by_priority_or_fewest_shipments() {
    let (locs, stock) = sourcing_fixture();
    let lines = vec![line("1", "MUG", 12), line("2", "BOOK", 3)];
    let p = plan(&lines, &locs, &stock, &SourcingStrategy::Priority, true).unwrap();
    let got: Vec<(String, String, u32)> = p
        .assignments
        .iter()
        .map(|a| (a.line.to_string(), a.location.to_string(), a.quantity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("1".into(), "IST".into(), 10),
            ("1".into(), "ANK".into(), 2),
            ("2".into(), "BER".into(), 3)
        ]
    );
    assert!(p.explanation.iter().any(|e| {
        e == "Line 1 (12 × MUG): 10 from Istanbul DC (priority 1), 2 from Ankara Store (priority 2)"
    }));
    let p = plan(
        &lines,
        &locs,
        &stock,
        &SourcingStrategy::FewestShipments,
        true,
    )
    .unwrap();
    assert!(p.unfilled.is_empty());
    assert!(p.locations().len() <= 3);
    // No split: one location, the rest unfilled.
    let p = plan(&lines, &locs, &stock, &SourcingStrategy::Priority, false).unwrap();
    assert_eq!(p.locations(), vec![&l("IST")]);
    assert_eq!(p.unfilled.iter().map(|u| u.quantity).sum::<u32>(), 5);
    assert!(p.explanation[0].starts_with("No location has everything and splitting is not allowed"));
}

#[test]
fn sourcing_nearest_region_goes_local_first() {
    let (locs, stock) = sourcing_fixture();
    let lines = vec![line("1", "MUG", 3)];
    let near = SourcingStrategy::NearestRegion {
        customer_region: "TR-06".into(),
    };
    let p = plan(&lines, &locs, &stock, &near, true).unwrap();
    assert_eq!(p.locations(), vec![&l("ANK")]);
    assert!(
        p.explanation[0].contains("Ankara Store (TR-06, same region as the customer, priority 2)"),
        "{:?}",
        p.explanation
    );
    let p = plan(&lines, &locs, &stock, &SourcingStrategy::Priority, true).unwrap();
    assert_eq!(p.locations(), vec![&l("IST")]);
}

#[test]
fn sourcing_refuses_bad_requests_and_reports_unfillable_lines() {
    let (locs, stock) = sourcing_fixture();
    let code = |lines: &[SourcingLine]| {
        plan(lines, &locs, &stock, &SourcingStrategy::Priority, true)
            .unwrap_err()
            .code()
    };
    assert_eq!(code(&[]), "SOURCING_NO_LINES");
    assert_eq!(code(&[line("1", "MUG", 0)]), "SOURCING_INVALID_QUANTITY");
    assert_eq!(
        code(&[line("1", "MUG", 1), line("1", "PEN", 1)]),
        "SOURCING_DUPLICATE_LINE"
    );
    let p = plan(
        &[line("1", "LAMP", 2)],
        &locs,
        &stock,
        &SourcingStrategy::Priority,
        true,
    )
    .unwrap();
    assert_eq!(p.unfilled.len(), 1);
    assert!(p.assignments.is_empty());
    assert!(p
        .explanation
        .iter()
        .any(|e| e.contains("2 units left unfilled")));
    // The ledger itself can serve as the stock source.
    let s = ledger();
    let p = plan(
        &[line("1", "MUG", 11)],
        &locs,
        &s,
        &SourcingStrategy::FewestShipments,
        true,
    )
    .unwrap();
    assert_eq!(p.assignments.len(), 2);
}
