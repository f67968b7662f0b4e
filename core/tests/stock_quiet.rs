//! Events on demand and compact reservations (issue 9): random command sequences run
//! through the eventful calls (`reserve`, `commit`, `release`) on one ledger and the
//! quiet ones (`reserve_quiet`, `commit_quiet`, `release_quiet`) on another must leave
//! the same journal, balances, alert state and reservations; the events the eventful
//! calls return are exactly the movements they appended; and every reservation the
//! ledger shows (an owned view of its compact record) is what a plain model of the
//! `Reservation` struct, updated by the documented rules, says it should be. Locations
//! beyond the four whose cells sit inline in a variant's slot are exercised too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ordersmith::ids::{LocationId, OrderId, ReservationId, VariantId};
use ordersmith::stock::*;
use proptest::prelude::*;

const VARIANTS: [&str; 3] = ["DENY", "BACK", "PRE"];
/// Six locations: indexes 4 and 5 keep their cells outside the slot's inline ones.
const LOCATIONS: [&str; 6] = ["L0", "L1", "L2", "L3", "L4", "L5"];
const BUNDLE: &str = "KIT";

#[derive(Debug, Clone)]
enum Op {
    Receive(usize, usize, u32),
    Reserve {
        id: usize,
        /// 0..3 a variant, 3 the bundle.
        var: usize,
        loc: usize,
        qty: u32,
        ttl_min: Option<i64>,
        reference: bool,
        order: Option<usize>,
    },
    Commit(usize),
    CommitPartial(usize, u32),
    Release(usize),
    ReleasePartial(usize, u32),
    SetExpiry(usize, Option<i64>),
    Damage(usize, usize, u32),
    Advance(i64),
    Expire,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, 0..6usize, 1..12u32).prop_map(|(v, l, q)| Op::Receive(v, l, q)),
        6 => (0..8usize, 0..4usize, 0..6usize, 0..5u32, prop::option::of(1..90i64), any::<bool>(), prop::option::of(0..3usize))
            .prop_map(|(id, var, loc, qty, ttl_min, reference, order)| Op::Reserve { id, var, loc, qty, ttl_min, reference, order }),
        3 => (0..8usize).prop_map(Op::Commit),
        1 => (0..8usize, 0..4u32).prop_map(|(i, q)| Op::CommitPartial(i, q)),
        2 => (0..8usize).prop_map(Op::Release),
        1 => (0..8usize, 0..4u32).prop_map(|(i, q)| Op::ReleasePartial(i, q)),
        1 => (0..8usize, prop::option::of(-10..90i64)).prop_map(|(i, t)| Op::SetExpiry(i, t)),
        1 => (0..3usize, 0..6usize, 1..4u32).prop_map(|(v, l, q)| Op::Damage(v, l, q)),
        1 => (1..60i64).prop_map(Op::Advance),
        1 => Just(Op::Expire),
    ]
}

fn var(i: usize) -> VariantId {
    VariantId::parse(if i < 3 { VARIANTS[i] } else { BUNDLE }).unwrap()
}
fn loc(i: usize) -> LocationId {
    LocationId::parse(LOCATIONS[i]).unwrap()
}
fn res(i: usize) -> ReservationId {
    ReservationId::parse(format!("r{i}")).unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
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
    s.register_variant(var(1), StockPolicy::Backorder { limit: Some(3) })
        .unwrap();
    s.register_variant(var(2), StockPolicy::PreOrder).unwrap();
    for v in 0..3 {
        s.set_low_stock_threshold(&var(v), Some(4)).unwrap();
    }
    // Safety stock at an inline location and at one outside the inline cells.
    s.set_safety_stock(&var(0), &loc(1), 1).unwrap();
    s.set_safety_stock(&var(0), &loc(5), 2).unwrap();
    s.define_bundle(var(3), vec![(var(0), 2), (var(2), 1)])
        .unwrap();
    s
}

fn code<T>(r: &Result<T, StockError>) -> Option<&'static str> {
    r.as_ref().err().map(StockError::code)
}

/// The `Reservation` a plain model expects, keyed by id.
type Expected = BTreeMap<usize, Reservation>;

fn settle(r: &mut Reservation) {
    if r.committed + r.released >= r.quantity {
        r.state = if r.committed > 0 {
            ReservationState::Committed
        } else {
            ReservationState::Released
        };
    }
}

/// Runs one op on both ledgers, checks they agree, and updates the expected
/// reservations when the op succeeded.
fn step(
    loud: &mut StockLedger,
    quiet: &mut StockLedger,
    expected: &mut Expected,
    now: &mut DateTime<Utc>,
    op: &Op,
) -> Result<(), TestCaseError> {
    let before = loud.journal_len();
    let (events, quiet_code): (Result<Vec<StockEvent>, StockError>, Option<&'static str>) = match op
    {
        Op::Receive(v, l, q) => {
            let a = loud.receive(&var(*v), &loc(*l), *q, None, *now);
            let b = quiet.receive(&var(*v), &loc(*l), *q, None, *now);
            (a, code(&b))
        }
        Op::Damage(v, l, q) => {
            let d = -i64::from(*q);
            let a = loud.adjust(&var(*v), &loc(*l), d, AdjustmentReason::Damage, None, *now);
            let b = quiet.adjust(&var(*v), &loc(*l), d, AdjustmentReason::Damage, None, *now);
            (a, code(&b))
        }
        Op::Reserve {
            id,
            var: v,
            loc: l,
            qty,
            ttl_min,
            reference,
            order,
        } => {
            let mut request = ReserveRequest::new(res(*id), var(*v), loc(*l), *qty)
                .expiring(ttl_min.map(|m| *now + Duration::minutes(m)));
            if *reference {
                request = request.with_reference(format!("order line {id}"));
            }
            if let Some(o) = order {
                request = request.for_order(OrderId::parse(format!("o-{o}")).unwrap());
            }
            let first_seq = before as u64 + 1;
            let known = expected.contains_key(id);
            let a = loud.reserve(request.clone(), *now);
            let b = quiet.reserve_quiet(request.clone(), *now);
            if a.is_ok() && !known {
                let components = if *v == 3 {
                    vec![(var(0), 2), (var(2), 1)]
                } else {
                    Vec::new()
                };
                expected.insert(
                    *id,
                    Reservation {
                        id: request.id,
                        variant: request.variant,
                        location: request.location,
                        quantity: request.quantity,
                        committed: 0,
                        released: 0,
                        expires_at: request.expires_at,
                        reference: request.reference.as_deref().map(str::to_string),
                        order: request.order,
                        state: ReservationState::Active,
                        components,
                        first_seq,
                    },
                );
            }
            (a, code(&b))
        }
        Op::Commit(i) => {
            let a = loud.commit(&res(*i), *now);
            let b = quiet.commit_quiet(&res(*i), *now);
            if a.is_ok() {
                let r = expected.get_mut(i).unwrap();
                if r.state == ReservationState::Active {
                    r.committed += r.remaining();
                    r.state = ReservationState::Committed;
                }
            }
            (a, code(&b))
        }
        Op::CommitPartial(i, q) => {
            let a = loud.commit_partial(&res(*i), *q, *now);
            let b = quiet.commit_partial(&res(*i), *q, *now);
            if a.is_ok() {
                let r = expected.get_mut(i).unwrap();
                r.committed += q;
                settle(r);
            }
            (a, code(&b))
        }
        Op::Release(i) => {
            let a = loud.release(&res(*i), *now);
            let b = quiet.release_quiet(&res(*i), *now);
            if a.is_ok() {
                let r = expected.get_mut(i).unwrap();
                if r.state == ReservationState::Active {
                    r.state = ReservationState::Released;
                }
            }
            (a, code(&b))
        }
        Op::ReleasePartial(i, q) => {
            let a = loud.release_partial(&res(*i), *q, *now);
            let b = quiet.release_partial(&res(*i), *q, *now);
            if a.is_ok() {
                let r = expected.get_mut(i).unwrap();
                r.released += q;
                settle(r);
            }
            (a, code(&b))
        }
        Op::SetExpiry(i, t) => {
            let at = t.map(|m| *now + Duration::minutes(m));
            let a = loud.set_expiry(&res(*i), at, *now).map(|()| Vec::new());
            let b = quiet.set_expiry(&res(*i), at, *now);
            if a.is_ok() {
                expected.get_mut(i).unwrap().expires_at = at;
            }
            (a, code(&b))
        }
        Op::Advance(m) => {
            *now += Duration::minutes(*m);
            (Ok(Vec::new()), None)
        }
        Op::Expire => {
            let a = loud.expire(*now);
            let b = quiet.expire(*now);
            prop_assert_eq!(a.len(), b.len());
            for r in expected.values_mut() {
                if r.state == ReservationState::Active && r.expires_at.is_some_and(|t| t <= *now) {
                    r.state = ReservationState::Expired;
                }
            }
            (Ok(a), None)
        }
    };
    // Both paths accept or refuse alike.
    prop_assert_eq!(code(&events), quiet_code, "{:?}", op);
    // The events an eventful call returns carry exactly the movements it appended
    // (a retried reserve answers with the first call's, appending none).
    if let Ok(events) = &events {
        let moved: Vec<&Movement> = events.iter().filter_map(StockEvent::movement).collect();
        let appended = loud.journal_since(before as u64);
        if appended.is_empty() {
            if let Op::Reserve { id, .. } = op {
                let first = expected[id].first_seq as usize;
                let lines = expected[id].components.len().max(1);
                let journal = loud.journal();
                prop_assert_eq!(
                    moved,
                    journal[first - 1..first - 1 + lines]
                        .iter()
                        .collect::<Vec<_>>()
                );
            } else {
                prop_assert!(moved.is_empty(), "{:?}", op);
            }
        } else {
            prop_assert_eq!(moved, appended.iter().collect::<Vec<_>>());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn quiet_calls_leave_the_same_ledger_and_views_match_the_reservation_model(
        ops in prop::collection::vec(op(), 1..80)
    ) {
        let mut loud = setup();
        let mut quiet = setup();
        let mut expected = Expected::new();
        let mut now = t0();
        for op in &ops {
            step(&mut loud, &mut quiet, &mut expected, &mut now, op)?;
        }
        // The same ledger, field by field (journal records, cells, alert state,
        // reservations and their side tables).
        prop_assert_eq!(&loud, &quiet);
        prop_assert_eq!(loud.journal(), quiet.journal());
        prop_assert_eq!(loud.balances(), quiet.balances());
        prop_assert_eq!(&rebuild_balances(quiet.journal()), quiet.balances());
        // Every reservation view is what the model of the struct says.
        for (i, want) in &expected {
            let got = quiet.reservation(&res(*i));
            prop_assert_eq!(got.as_ref(), Some(want));
            let got = loud.reservation(&res(*i));
            prop_assert_eq!(got.as_ref(), Some(want));
        }
        for i in 0..8 {
            if !expected.contains_key(&i) {
                prop_assert!(quiet.reservation(&res(i)).is_none());
            }
        }
        // Live reservations and due expiries list the active views.
        let live = quiet.live_reservations(&ReservationFilter::default());
        let want: Vec<&Reservation> = expected
            .values()
            .filter(|r| r.state == ReservationState::Active)
            .collect();
        let mut want_sorted = want.clone();
        want_sorted.sort_by(|a, b| a.id.cmp(&b.id));
        prop_assert_eq!(live.iter().collect::<Vec<_>>(), want_sorted.clone());
        // Filters read the compact records; the model applies them to the struct.
        let filters = [
            ReservationFilter { variant: Some(var(0)), ..ReservationFilter::default() },
            ReservationFilter { location: Some(loc(4)), ..ReservationFilter::default() },
            ReservationFilter {
                order: Some(OrderId::parse("o-1").unwrap()),
                variant: Some(var(2)),
                ..ReservationFilter::default()
            },
            ReservationFilter {
                expiring_before: Some(now + Duration::minutes(30)),
                ..ReservationFilter::default()
            },
        ];
        for filter in &filters {
            let got = quiet.live_reservations(filter);
            let want: Vec<&Reservation> = want_sorted
                .iter()
                .copied()
                .filter(|r| {
                    filter.variant.as_ref().is_none_or(|v| {
                        r.variant == *v || r.components.iter().any(|(c, _)| c == v)
                    }) && filter.location.as_ref().is_none_or(|l| r.location == *l)
                        && filter.order.as_ref().is_none_or(|o| r.order.as_ref() == Some(o))
                        && filter
                            .expiring_before
                            .is_none_or(|t| r.expires_at.is_some_and(|e| e <= t))
                })
                .collect();
            prop_assert_eq!(got.iter().collect::<Vec<_>>(), want, "{:?}", filter);
        }
        for r in quiet.due_expiries(now + Duration::days(1)) {
            prop_assert_eq!(Some(&r), expected.values().find(|e| e.id == r.id));
        }
        // A JSON round trip keeps the compact records and rebuilds the indexes.
        let json = serde_json::to_string(&quiet).unwrap();
        let back: StockLedger = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &quiet);
        for i in expected.keys() {
            prop_assert_eq!(back.reservation(&res(*i)), quiet.reservation(&res(*i)));
        }
        for v in 0..3 {
            for l in 0..LOCATIONS.len() {
                prop_assert_eq!(back.level(&var(v), &loc(l)).unwrap(), quiet.level(&var(v), &loc(l)).unwrap());
            }
        }
    }
}

#[test]
fn a_retried_quiet_reserve_is_a_no_op_and_a_changed_one_a_conflict() {
    let mut s = setup();
    s.receive(&var(0), &loc(4), 10, None, t0()).unwrap();
    let request = ReserveRequest::new(res(1), var(0), loc(4), 3).with_reference("o-1 line 1");
    s.reserve_quiet(request.clone(), t0()).unwrap();
    let len = s.journal_len();
    s.reserve_quiet(request.clone(), t0()).unwrap();
    assert_eq!(s.journal_len(), len);
    // The eventful retry answers with the first call's movement.
    let again = s.reserve(request.clone(), t0()).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].movement().unwrap().seq, len as u64);
    assert_eq!(
        again[0].movement().unwrap().reference.as_deref(),
        Some("o-1 line 1")
    );
    let other = ReserveRequest::new(res(1), var(0), loc(4), 4);
    assert_eq!(
        s.reserve_quiet(other, t0()).unwrap_err().code(),
        "STOCK_RESERVATION_CONFLICT"
    );
    // Location 4's cell is outside the inline ones: 10 on hand, 3 reserved, 7 available.
    assert_eq!(s.level(&var(0), &loc(4)).unwrap().available, 7);
    s.commit_quiet(&res(1), t0()).unwrap();
    s.commit_quiet(&res(1), t0()).unwrap(); // a retry is a no-op
    assert_eq!(s.level(&var(0), &loc(4)).unwrap().on_hand, 7);
    assert_eq!(
        s.release_quiet(&res(1), t0()).unwrap_err().code(),
        "STOCK_RESERVATION_COMMITTED"
    );
    let r = s.reservation(&res(1)).unwrap();
    assert_eq!(r.state, ReservationState::Committed);
    assert_eq!(r.committed, 3);
    assert_eq!(r.reference.as_deref(), Some("o-1 line 1"));
}

#[test]
fn a_reserve_movement_keeps_the_expiry_it_was_made_with_after_set_expiry() {
    let mut s = setup();
    s.receive(&var(0), &loc(0), 10, None, t0()).unwrap();
    let first = t0() + Duration::minutes(30);
    let request = ReserveRequest::new(res(1), var(0), loc(0), 2).expiring_at(first);
    s.reserve_quiet(request, t0()).unwrap();
    let later = t0() + Duration::hours(5);
    s.set_expiry(&res(1), Some(later), t0()).unwrap();
    s.set_expiry(&res(1), None, t0()).unwrap();
    assert_eq!(s.reservation(&res(1)).unwrap().expires_at, None);
    let reserve = s.journal().pop().unwrap();
    assert_eq!(
        reserve.kind,
        MovementKind::Reserve {
            reservation: res(1),
            expires_at: Some(first)
        }
    );
}

/// Keys belong to the ledger value that made them: a clone or a deserialised copy (whose
/// later registrations may differ from the original's) refuses them with a typed error
/// and changes nothing; its own keys work.
#[test]
fn keys_are_refused_by_a_copy_of_the_ledger_that_made_them() {
    let mut s = setup();
    s.receive(&var(0), &loc(1), 10, None, t0()).unwrap();
    let keys = (
        s.variant_key(&var(0)).unwrap(),
        s.location_key(&loc(1)).unwrap(),
    );
    let json = serde_json::to_string(&s).unwrap();
    let copies = [
        s.clone(),
        serde_json::from_str::<StockLedger>(&json).unwrap(),
    ];
    for mut copy in copies {
        assert_eq!(copy, s);
        let request = KeyedReserveRequest::new(res(1), keys, 2);
        let err = copy.reserve_quiet_keyed(request, t0()).unwrap_err();
        assert_eq!(err.code(), "STOCK_INVALID_PARAMETER");
        assert!(err.to_string().contains("variant key"), "{err}");
        assert_eq!(copy, s);
        // Its own keys (the same variant and location) work.
        let own = (
            copy.variant_key(&var(0)).unwrap(),
            copy.location_key(&loc(1)).unwrap(),
        );
        assert_ne!(own.0, keys.0);
        let request = KeyedReserveRequest::new(res(1), own, 2);
        copy.reserve_quiet_keyed(request.clone(), t0()).unwrap();
        copy.reserve_quiet_keyed(request, t0()).unwrap(); // a retry
        assert_eq!(copy.level(&var(0), &loc(1)).unwrap().reserved, 2);
        // The same id with another quantity is a conflict, keyed or not.
        let other = KeyedReserveRequest::new(res(1), own, 3);
        assert_eq!(
            copy.reserve_quiet_keyed(other, t0()).unwrap_err().code(),
            "STOCK_RESERVATION_CONFLICT"
        );
        let unkeyed = ReserveRequest::new(res(1), var(0), loc(1), 2);
        copy.reserve_quiet(unkeyed, t0()).unwrap(); // the same reservation: a retry
                                                    // A location key of another ledger is named as such.
        let mixed = KeyedReserveRequest::new(res(2), (own.0, keys.1), 1);
        let err = copy.reserve_quiet_keyed(mixed, t0()).unwrap_err();
        assert!(err.to_string().contains("location key"), "{err}");
    }
    assert_eq!(s.level(&var(0), &loc(1)).unwrap().reserved, 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn keyed_reservations_leave_the_same_ledger_as_quiet_ones(
        ops in prop::collection::vec((op(), 0..5usize), 1..80)
    ) {
        let mut plain = setup();
        let mut keyed = setup();
        // The same ids registered in reverse order: its keys name other variants here.
        let mut foreign = StockLedger::new();
        for (i, name) in LOCATIONS.iter().enumerate().rev() {
            let location = Location::new(LocationId::parse(*name).unwrap(), *name, i as u32, "TR-06", LocationKind::Store);
            foreign.add_location(location).unwrap();
        }
        for v in (0..3).rev() {
            foreign.register_variant(var(v), StockPolicy::Deny).unwrap();
        }
        let mut now = t0();
        for (op, choice) in &ops {
            let (a, b) = match op {
                Op::Reserve { id, var: v, loc: l, qty, ttl_min, reference, order } => {
                    // What the keys name: the request's variant and location (choices
                    // 0, 1 and 4), another variant (2) or another location (3). Keys
                    // are what a keyed request reserves, so the plain ledger is given
                    // the ids they name. A bundle has no key: both reserve it unkeyed.
                    let (kv, kl) = match choice {
                        _ if *v >= 3 => (*v, *l),
                        2 => ((v + 1) % 3, *l),
                        3 => (*v, (l + 1) % LOCATIONS.len()),
                        _ => (*v, *l),
                    };
                    let expires_at = ttl_min.map(|m| now + Duration::minutes(m));
                    let reference: Option<std::sync::Arc<str>> =
                        reference.then(|| format!("order line {id}").into());
                    let order = order.map(|o| OrderId::parse(format!("o-{o}")).unwrap());
                    let mut request = ReserveRequest::new(res(*id), var(kv), loc(kl), *qty)
                        .expiring(expires_at);
                    request.reference = reference.clone();
                    request.order = order.clone();
                    if kv >= 3 {
                        (plain.reserve_quiet(request.clone(), now), keyed.reserve_quiet(request, now))
                    } else {
                        // Choice 4: keys of another ledger, which holds the same ids
                        // registered in another order; refused, nothing changes.
                        let maker = if *choice == 4 { &foreign } else { &keyed };
                        let keyed_request = KeyedReserveRequest {
                            id: res(*id),
                            variant: maker.variant_key(&var(kv)).unwrap(),
                            location: maker.location_key(&loc(kl)).unwrap(),
                            quantity: *qty,
                            expires_at,
                            reference,
                            order,
                        };
                        let before = keyed.journal_len();
                        let b = keyed.reserve_quiet_keyed(keyed_request, now);
                        if *choice == 4 {
                            prop_assert_eq!(b.map_err(|e| e.code()), Err("STOCK_INVALID_PARAMETER"));
                            prop_assert_eq!(keyed.journal_len(), before);
                            (Ok(()), Ok(()))
                        } else {
                            (plain.reserve_quiet(request, now), b.map(drop))
                        }
                    }
                }
                Op::Receive(v, l, q) => (
                    plain.receive(&var(*v), &loc(*l), *q, None, now).map(drop),
                    keyed.receive(&var(*v), &loc(*l), *q, None, now).map(drop),
                ),
                // Commits and releases of a known reservation go by its key on the keyed
                // ledger; with choice 4, a copy's key is refused first.
                Op::Commit(i) => {
                    let a = plain.commit_quiet(&res(*i), now);
                    let b = match keyed.reservation_key(&res(*i)) {
                        Some(key) => {
                            if *choice == 4 {
                                let copy = keyed.clone().reservation_key(&res(*i)).unwrap();
                                let refused = keyed.commit_quiet_keyed(copy, now);
                                prop_assert_eq!(refused.map_err(|e| e.code()), Err("STOCK_INVALID_PARAMETER"));
                            }
                            keyed.commit_quiet_keyed(key, now)
                        }
                        None => keyed.commit_quiet(&res(*i), now),
                    };
                    (a, b)
                }
                Op::Release(i) => {
                    let a = plain.release_quiet(&res(*i), now);
                    let b = match keyed.reservation_key(&res(*i)) {
                        Some(key) => {
                            if *choice == 4 {
                                let copy = keyed.clone().reservation_key(&res(*i)).unwrap();
                                let refused = keyed.release_quiet_keyed(copy, now);
                                prop_assert_eq!(refused.map_err(|e| e.code()), Err("STOCK_INVALID_PARAMETER"));
                            }
                            keyed.release_quiet_keyed(key, now)
                        }
                        None => keyed.release_quiet(&res(*i), now),
                    };
                    (a, b)
                }
                Op::Advance(m) => {
                    now += Duration::minutes(*m);
                    (Ok(()), Ok(()))
                }
                Op::Expire => {
                    prop_assert_eq!(plain.expire(now).len(), keyed.expire(now).len());
                    (Ok(()), Ok(()))
                }
                _ => (Ok(()), Ok(())),
            };
            prop_assert_eq!(&a, &b, "{:?} with keys {}", op, choice);
        }
        prop_assert_eq!(&plain, &keyed);
        prop_assert_eq!(plain.journal(), keyed.journal());
        prop_assert_eq!(plain.balances(), keyed.balances());
    }
}
