//! The ledger's write path allocates a bounded number of times per reservation: a
//! counting global allocator (`stats_alloc`) measures `reserve` + `commit` pairs,
//! `reserve_quiet` + `commit_quiet` pairs and keyed pairs (`reserve_quiet_keyed` +
//! `commit_quiet_keyed`), so allocation churn cannot silently come back (issue 9). The only test in this binary, so no other test allocates while it
//! counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::alloc::System;

use chrono::{TimeZone, Utc};
use ordersmith::ids::{LocationId, ReservationId, VariantId};
use ordersmith::stock::{
    rebuild_balances, KeyedReserveRequest, Location, LocationKind, ReserveRequest, StockLedger,
    StockPolicy,
};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const VARIANTS: usize = 200;
const LOCATIONS: usize = 3;
const PAIRS: usize = 20_000;
const LAG: usize = 64;

/// Which calls a run makes.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Events,
    Quiet,
    Keyed,
}

/// Runs the workload on a fresh ledger and returns heap allocations per pair.
fn allocations_per_pair(mode: Mode) -> f64 {
    let quiet = mode != Mode::Events;
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    let mut ledger = StockLedger::new();
    let locations: Vec<LocationId> = (0..LOCATIONS)
        .map(|i| LocationId::parse(format!("L{i}")).unwrap())
        .collect();
    for (i, l) in locations.iter().enumerate() {
        let location = Location::new(l.clone(), "DC", i as u32, "TR-34", LocationKind::Warehouse);
        ledger.add_location(location).unwrap();
    }
    let variants: Vec<VariantId> = (0..VARIANTS)
        .map(|i| VariantId::parse(format!("SKU-{i}")).unwrap())
        .collect();
    for v in &variants {
        ledger
            .register_variant(v.clone(), StockPolicy::Deny)
            .unwrap();
        ledger.set_low_stock_threshold(v, Some(5)).unwrap();
        for l in &locations {
            ledger.receive(v, l, 1_000_000, None, now).unwrap();
        }
    }
    let ids: Vec<ReservationId> = (0..PAIRS)
        .map(|k| ReservationId::parse(format!("r{k}")).unwrap())
        .collect();
    let requests: Vec<ReserveRequest> = ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let v = variants[(k * 7919) % VARIANTS].clone();
            let l = locations[k % LOCATIONS].clone();
            ReserveRequest::new(id.clone(), v, l, (k % 3) as u32 + 1)
        })
        .collect();
    let mut moved = 0usize;
    // The keyed run's requests and the ring of keys its commits use, built before
    // counting (as the ids are).
    let keyed: Vec<KeyedReserveRequest> = if mode == Mode::Keyed {
        requests
            .iter()
            .map(|r| {
                let keys = (
                    ledger.variant_key(&r.variant).unwrap(),
                    ledger.location_key(&r.location).unwrap(),
                );
                KeyedReserveRequest::new(r.id.clone(), keys, r.quantity)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut held = Vec::with_capacity(PAIRS);

    let region = Region::new(GLOBAL);
    if mode == Mode::Keyed {
        for (k, request) in keyed.into_iter().enumerate() {
            held.push(ledger.reserve_quiet_keyed(request, now).unwrap());
            if k >= LAG {
                ledger.commit_quiet_keyed(held[k - LAG], now).unwrap();
            }
        }
        for key in &held[PAIRS - LAG..] {
            ledger.commit_quiet_keyed(*key, now).unwrap();
        }
    }
    let requests = if mode == Mode::Keyed {
        Vec::new()
    } else {
        requests
    };
    for (k, request) in requests.into_iter().enumerate() {
        if quiet {
            ledger.reserve_quiet(request, now).unwrap();
            if k >= LAG {
                ledger.commit_quiet(&ids[k - LAG], now).unwrap();
            }
        } else {
            let events = ledger.reserve(request, now).unwrap();
            moved += events.len();
            if k >= LAG {
                moved += ledger.commit(&ids[k - LAG], now).unwrap().len();
            }
        }
    }
    for id in &ids[PAIRS - LAG..] {
        if mode == Mode::Keyed {
            break;
        }
        if quiet {
            ledger.commit_quiet(id, now).unwrap();
        } else {
            moved += ledger.commit(id, now).unwrap().len();
        }
    }
    let stats = region.change();

    // The work was done: one movement per reserve and per commit, nothing else.
    if !quiet {
        assert_eq!(moved, 2 * PAIRS);
    }
    assert_eq!(ledger.journal().len(), VARIANTS * LOCATIONS + 2 * PAIRS);
    assert!(ledger
        .journal()
        .iter()
        .rev()
        .take(2 * PAIRS)
        .all(|m| m.reference.is_none()));
    assert_eq!(rebuild_balances(ledger.journal()), *ledger.balances());
    // A retried commit is a no-op.
    assert!(ledger.commit(&ids[0], now).unwrap().is_empty());
    stats.allocations as f64 / PAIRS as f64
}

#[test]
fn reserve_and_commit_allocate_only_the_event_vectors_they_return() {
    // Each eventful call allocates the event vector it returns; the journal, the
    // reservations and their index grow by doubling (a few dozen allocations over the
    // whole run). Before issue 9 a commit also built a throwaway vector of its stock
    // lines: 3.0.
    let per_pair = allocations_per_pair(Mode::Events);
    assert!(
        per_pair <= 2.05,
        "{per_pair:.3} allocations per reserve + commit"
    );
    // A caller that reads no events gets none built: only the growth of the journal,
    // the reservations and their index is left (well under one allocation in a
    // hundred pairs).
    let per_pair = allocations_per_pair(Mode::Quiet);
    assert!(
        per_pair <= 0.01,
        "{per_pair:.3} allocations per reserve_quiet + commit_quiet"
    );
    // Keyed calls neither: the request carries no ids to share or drop.
    let per_pair = allocations_per_pair(Mode::Keyed);
    assert!(
        per_pair <= 0.01,
        "{per_pair:.3} allocations per reserve_quiet_keyed + commit_quiet_keyed"
    );
}
