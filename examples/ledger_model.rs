//! The stock ledger beside a plain model of the same work, in one run (issue: "the
//! ledger ≥ 50 % of the plain model").
//!
//! Workload: 100,000 variants × 4 locations, 1,000,000 reserve + commit pairs; each
//! reservation is committed 1,024 reservations after it was made; quantities 1–3,
//! uniform (a fixed xorshift sequence); a fresh ledger; ids built before timing.
//!
//! The model is what the work costs with no domain rules at all: a hash map of
//! balances, a hash map of open reservations, and a 40-byte journal record appended
//! per movement. The ledger does the same work with its rules: policies, safety stock,
//! idempotent ids, expiry index, journal with references, alerts. It runs three times,
//! on a fresh ledger each time: through `reserve_quiet` + `commit_quiet` (the caller
//! reads no events, so none is built: the figure the goal is about), through
//! `reserve_quiet_keyed` + `commit_quiet` (variants and locations looked up once, before
//! timing, as the ids are built and as the model is handed integer keys), then through
//! `reserve` + `commit`, whose returned events the loop drops.
//!
//! Run it with `cargo run --release --example ledger_model [PAIRS [VARIANTS]]`.
//!
//! A counting global allocator (`stats_alloc`) reports the heap allocations each side
//! makes per pair, so allocation churn on the ledger's write path shows up as a number
//! (a guard in `core/tests/stock_allocations.rs` fails when it grows). The timed loops
//! are functions of their own (`run_model`, `run_ledger`, `run_ledger_keyed`,
//! `run_ledger_events`) so a
//! profiler can isolate them:
//! `valgrind --tool=callgrind --toggle-collect='*run_ledger*' target/release/examples/ledger_model 200000`.

// Indexes come from the plan, taken modulo the sizes they index.
#![allow(clippy::indexing_slicing)]

use std::alloc::System;
use std::collections::HashMap;
use std::error::Error;
use std::hint::black_box;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use ordersmith::ids::{LocationId, ReservationId, VariantId};
use ordersmith::stock::{
    Location, LocationKey, LocationKind, ReserveRequest, StockLedger, StockPolicy, VariantKey,
};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Variants in the workload (a second argument changes it, to see what the cache does).
const VARIANTS: usize = 100_000;
const LOCATIONS: usize = 4;
const LAG: usize = 1_024;

/// One planned pair: which variant and location, how many units.
struct Pair {
    variant: usize,
    location: usize,
    quantity: u32,
}

fn plan(pairs: usize, variants: usize) -> Vec<Pair> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..pairs)
        .map(|_| Pair {
            variant: (next() % variants as u64) as usize,
            location: (next() % LOCATIONS as u64) as usize,
            quantity: (next() % 3 + 1) as u32,
        })
        .collect()
}

/// The plain model: balances, open reservations, a journal of fixed records.
#[derive(Default)]
struct Model {
    balances: HashMap<(u32, u32), (i64, i64)>,
    open: HashMap<u64, (u32, u32, u32)>,
    journal: Vec<[u64; 5]>,
}

impl Model {
    fn reserve(&mut self, id: u64, v: u32, l: u32, q: u32) -> bool {
        let b = self.balances.entry((v, l)).or_default();
        if b.0 - b.1 < i64::from(q) {
            return false;
        }
        b.1 += i64::from(q);
        self.open.insert(id, (v, l, q));
        self.journal
            .push([id, u64::from(v), u64::from(l), u64::from(q), 1]);
        true
    }

    fn commit(&mut self, id: u64) {
        if let Some((v, l, q)) = self.open.remove(&id) {
            let b = self.balances.entry((v, l)).or_default();
            b.0 -= i64::from(q);
            b.1 -= i64::from(q);
            self.journal
                .push([id, u64::from(v), u64::from(l), u64::from(q), 2]);
        }
    }
}

/// The timed model loop: reserve, and commit the reservation made `LAG` pairs earlier.
#[inline(never)]
fn run_model(model: &mut Model, plan: &[Pair]) {
    let pairs = plan.len();
    for (k, p) in plan.iter().enumerate() {
        model.reserve(k as u64, p.variant as u32, p.location as u32, p.quantity);
        if k >= LAG {
            model.commit((k - LAG) as u64);
        }
    }
    for k in pairs.saturating_sub(LAG)..pairs {
        model.commit(k as u64);
    }
}

/// The timed ledger loop: the same work through `StockLedger::reserve_quiet` and
/// `commit_quiet` (the caller reads no events, so none is built).
#[inline(never)]
fn run_ledger(
    ledger: &mut StockLedger,
    requests: Vec<ReserveRequest>,
    ids: &[ReservationId],
    now: chrono::DateTime<Utc>,
) -> Result<(), Box<dyn Error>> {
    let pairs = ids.len();
    for (k, request) in requests.into_iter().enumerate() {
        ledger.reserve_quiet(request, now)?;
        if k >= LAG {
            ledger.commit_quiet(&ids[k - LAG], now)?;
        }
    }
    for id in &ids[pairs.saturating_sub(LAG)..] {
        ledger.commit_quiet(id, now)?;
    }
    Ok(())
}

/// The same loop through `StockLedger::reserve` and `commit`, which return the events
/// (dropped here): what a caller that reads them pays.
#[inline(never)]
fn run_ledger_keyed(
    ledger: &mut StockLedger,
    requests: Vec<(ReserveRequest, (VariantKey, LocationKey))>,
    ids: &[ReservationId],
    now: chrono::DateTime<Utc>,
) -> Result<(), Box<dyn Error>> {
    let pairs = ids.len();
    for (k, (request, keys)) in requests.into_iter().enumerate() {
        ledger.reserve_quiet_keyed(request, keys, now)?;
        if k >= LAG {
            ledger.commit_quiet(&ids[k - LAG], now)?;
        }
    }
    for id in &ids[pairs.saturating_sub(LAG)..] {
        ledger.commit_quiet(id, now)?;
    }
    Ok(())
}

#[inline(never)]
fn run_ledger_events(
    ledger: &mut StockLedger,
    requests: Vec<ReserveRequest>,
    ids: &[ReservationId],
    now: chrono::DateTime<Utc>,
) -> Result<(), Box<dyn Error>> {
    let pairs = ids.len();
    for (k, request) in requests.into_iter().enumerate() {
        ledger.reserve(request, now)?;
        if k >= LAG {
            ledger.commit(&ids[k - LAG], now)?;
        }
    }
    for id in &ids[pairs.saturating_sub(LAG)..] {
        ledger.commit(id, now)?;
    }
    Ok(())
}

/// Builds a fresh ledger and the requests (untimed), then times one ledger loop:
/// seconds and heap allocations.
/// Which ledger calls a run makes.
#[derive(Clone, Copy)]
enum Mode {
    /// `reserve_quiet` + `commit_quiet`.
    Quiet,
    /// `reserve_quiet_keyed` (keys looked up before timing) + `commit_quiet`.
    Keyed,
    /// `reserve` + `commit`, events returned.
    Events,
}

fn time_ledger(
    plan: &[Pair],
    variant_count: usize,
    now: chrono::DateTime<Utc>,
    mode: Mode,
) -> Result<(f64, usize), Box<dyn Error>> {
    let pairs = plan.len();
    let mut ledger = StockLedger::new();
    let locations: Vec<LocationId> = (0..LOCATIONS)
        .map(|l| LocationId::parse(format!("L{l}")))
        .collect::<Result<_, _>>()?;
    for (i, l) in locations.iter().enumerate() {
        let region = format!("TR-{i:02}");
        let location = Location::new(l.clone(), "DC", i as u32, &region, LocationKind::Warehouse);
        ledger.add_location(location)?;
    }
    let variants: Vec<VariantId> = (0..variant_count)
        .map(|i| VariantId::parse(format!("SKU-{i:06}")))
        .collect::<Result<_, _>>()?;
    for v in &variants {
        ledger.register_variant(v.clone(), StockPolicy::Deny)?;
        for l in &locations {
            ledger.receive(v, l, 1_000_000, None, now)?;
        }
    }
    let ids: Vec<ReservationId> = (0..pairs)
        .map(|k| ReservationId::parse(format!("r{k}")))
        .collect::<Result<_, _>>()?;
    let requests: Vec<ReserveRequest> = plan
        .iter()
        .zip(&ids)
        .map(|(p, id)| {
            ReserveRequest::new(
                id.clone(),
                variants[p.variant].clone(),
                locations[p.location].clone(),
                p.quantity,
            )
        })
        .collect();
    // The keyed run looks every variant and location up once, before timing, as it
    // built the ids (the model is handed integer keys the same way).
    let keyed: Vec<(ReserveRequest, (VariantKey, LocationKey))> = match mode {
        Mode::Keyed => requests
            .iter()
            .map(|r| {
                let variant = ledger.variant_key(&r.variant).ok_or("no variant key")?;
                let location = ledger.location_key(&r.location).ok_or("no location key")?;
                Ok((r.clone(), (variant, location)))
            })
            .collect::<Result<_, Box<dyn Error>>>()?,
        _ => Vec::new(),
    };
    let region = Region::new(GLOBAL);
    let start = Instant::now();
    match mode {
        Mode::Quiet => run_ledger(&mut ledger, requests, &ids, now)?,
        Mode::Keyed => {
            drop(requests);
            run_ledger_keyed(&mut ledger, keyed, &ids, now)?
        }
        Mode::Events => run_ledger_events(&mut ledger, requests, &ids, now)?,
    }
    let ledger_s = start.elapsed().as_secs_f64();
    let ledger_allocs = region.change().allocations;
    black_box(&ledger);
    Ok((ledger_s, ledger_allocs))
}

fn main() -> Result<(), Box<dyn Error>> {
    let pairs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let variant_count: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(VARIANTS);
    let plan = plan(pairs, variant_count);
    let now = Utc
        .with_ymd_and_hms(2026, 11, 20, 9, 0, 0)
        .single()
        .ok_or("time")?;

    // The model.
    let mut model = Model::default();
    for v in 0..variant_count as u32 {
        for l in 0..LOCATIONS as u32 {
            model.balances.insert((v, l), (1_000_000, 0));
        }
    }
    let region = Region::new(GLOBAL);
    let start = Instant::now();
    run_model(&mut model, &plan);
    let model_s = start.elapsed().as_secs_f64();
    let model_allocs = region.change().allocations;
    black_box(&model);

    // The ledger, three times on fresh ledgers: without events (the figure the goal is
    // about), the same with variants and locations given by key, then with events.
    let (ledger_s, ledger_allocs) = time_ledger(&plan, variant_count, now, Mode::Quiet)?;
    let (keyed_s, keyed_allocs) = time_ledger(&plan, variant_count, now, Mode::Keyed)?;
    let (events_s, events_allocs) = time_ledger(&plan, variant_count, now, Mode::Events)?;

    let rate = |s: f64| pairs as f64 / s / 1e6;
    println!(
        "plain model: {:.3} s = {:.2} M pairs/s",
        model_s,
        rate(model_s)
    );
    println!(
        "ledger:      {:.3} s = {:.2} M pairs/s (reserve_quiet + commit_quiet)",
        ledger_s,
        rate(ledger_s)
    );
    println!(
        "ledger:      {:.3} s = {:.2} M pairs/s (reserve_quiet_keyed + commit_quiet)",
        keyed_s,
        rate(keyed_s)
    );
    println!(
        "ledger:      {:.3} s = {:.2} M pairs/s (reserve + commit, events returned)",
        events_s,
        rate(events_s)
    );
    println!(
        "ledger / model: {:.2} (quiet), {:.2} (keyed), {:.2} (with events)",
        model_s / ledger_s,
        model_s / keyed_s,
        model_s / events_s
    );
    let per = |n: usize| n as f64 / pairs as f64;
    println!(
        "allocations per pair: model {:.2}, ledger {:.2} (quiet), {:.2} (keyed), {:.2} (with events)",
        per(model_allocs),
        per(ledger_allocs),
        per(keyed_allocs),
        per(events_allocs)
    );
    Ok(())
}
