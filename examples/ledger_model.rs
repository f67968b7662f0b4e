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
//! `reserve_quiet_keyed` + `commit_quiet_keyed` (variants and locations looked up once,
//! before timing, as the ids are built and as the model is handed integer keys; each
//! commit by the key its reserve returned, as the model commits by an integer id), then
//! through `reserve` + `commit`, whose returned events the loop drops.
//!
//! Run it with `cargo run --release --example ledger_model [PAIRS [VARIANTS [ROUNDS]]]`:
//! each of ROUNDS (3) rounds runs the model and the three ledger loops once, prints
//! their times (wall clock, and on Linux the thread's user and kernel CPU time) and
//! ratios; the last lines give the median round's, by wall clock and by user time.
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
    KeyedReserveRequest, Location, LocationKind, ReservationKey, ReserveRequest, StockLedger,
    StockPolicy,
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

/// The same loop by keys: each request's variant and location by key
/// (`StockLedger::reserve_quiet_keyed`, the keys looked up before timing, as the model is
/// handed integer keys), and each commit by the key its reserve returned
/// (`StockLedger::commit_quiet_keyed`; the model commits by an integer id), kept in a
/// ring of the last `LAG`.
#[inline(never)]
fn run_ledger_keyed(
    ledger: &mut StockLedger,
    requests: Vec<KeyedReserveRequest>,
    now: chrono::DateTime<Utc>,
) -> Result<(), Box<dyn Error>> {
    let pairs = requests.len();
    let mut held: Vec<Option<ReservationKey>> = vec![None; LAG];
    for (k, request) in requests.into_iter().enumerate() {
        let key = ledger.reserve_quiet_keyed(request, now)?;
        if let Some(earlier) = held[k % LAG].replace(key) {
            ledger.commit_quiet_keyed(earlier, now)?;
        }
    }
    for k in pairs.saturating_sub(LAG)..pairs {
        if let Some(key) = held[k % LAG].take() {
            ledger.commit_quiet_keyed(key, now)?;
        }
    }
    Ok(())
}

/// The same loop through `StockLedger::reserve` and `commit`, which return the events
/// (dropped here): what a caller that reads them pays.
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
    /// `reserve_quiet_keyed` (keys looked up before timing) + `commit_quiet_keyed`.
    Keyed,
    /// `reserve` + `commit`, events returned.
    Events,
}

/// A timed loop: wall-clock seconds, and the thread's CPU seconds in user mode and in
/// the kernel (page faults of new memory, mostly) when the platform says (Linux).
#[derive(Clone, Copy, Default)]
struct Timing {
    wall: f64,
    user: Option<f64>,
    kernel: Option<f64>,
    allocations: usize,
}

/// This thread's CPU time so far, user and kernel, from `/proc/thread-self/stat`
/// (fields 14 and 15, in the kernel's fixed 100 ticks a second); `None` elsewhere.
fn cpu_times() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let kernel: f64 = fields.next()?.parse().ok()?;
    Some((user / 100.0, kernel / 100.0))
}

/// Runs `work` and times it.
fn timed<T>(work: impl FnOnce() -> T) -> (T, Timing) {
    let cpu = cpu_times();
    let region = Region::new(GLOBAL);
    let start = Instant::now();
    let out = work();
    let wall = start.elapsed().as_secs_f64();
    let allocations = region.change().allocations;
    let after = cpu_times();
    let (user, kernel) = match (cpu, after) {
        (Some((u0, k0)), Some((u1, k1))) => (Some(u1 - u0), Some(k1 - k0)),
        _ => (None, None),
    };
    let timing = Timing {
        wall,
        user,
        kernel,
        allocations,
    };
    (out, timing)
}

impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} s", self.wall)?;
        if let (Some(user), Some(kernel)) = (self.user, self.kernel) {
            write!(f, " (user {user:.2} s, kernel {kernel:.2} s)")?;
        }
        Ok(())
    }
}

fn time_ledger(
    plan: &[Pair],
    variant_count: usize,
    now: chrono::DateTime<Utc>,
    mode: Mode,
) -> Result<Timing, Box<dyn Error>> {
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
    let keyed: Vec<KeyedReserveRequest> = match mode {
        Mode::Keyed => requests
            .iter()
            .map(|r| {
                let variant = ledger.variant_key(&r.variant).ok_or("no variant key")?;
                let location = ledger.location_key(&r.location).ok_or("no location key")?;
                Ok(KeyedReserveRequest::new(
                    r.id.clone(),
                    (variant, location),
                    r.quantity,
                ))
            })
            .collect::<Result<_, Box<dyn Error>>>()?,
        _ => Vec::new(),
    };
    // The keyed run's unkeyed requests are dropped before timing, as the model's inputs
    // are never dropped inside its timing.
    let requests = match mode {
        Mode::Keyed => Vec::new(),
        Mode::Quiet | Mode::Events => requests,
    };
    let (result, timing) = timed(|| match mode {
        Mode::Quiet => run_ledger(&mut ledger, requests, &ids, now),
        Mode::Keyed => run_ledger_keyed(&mut ledger, keyed, now),
        Mode::Events => run_ledger_events(&mut ledger, requests, &ids, now),
    });
    result?;
    black_box(&ledger);
    Ok(timing)
}

/// Times the plain model once on fresh balances.
fn time_model(plan: &[Pair], variant_count: usize) -> Timing {
    let mut model = Model::default();
    for v in 0..variant_count as u32 {
        for l in 0..LOCATIONS as u32 {
            model.balances.insert((v, l), (1_000_000, 0));
        }
    }
    let ((), timing) = timed(|| run_model(&mut model, plan));
    black_box(&model);
    timing
}

/// The middle value (the upper one of an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> Result<(), Box<dyn Error>> {
    let arg = |n: usize, default: usize| {
        std::env::args()
            .nth(n)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (pairs, variant_count, rounds) = (arg(1, 1_000_000), arg(2, VARIANTS), arg(3, 3).max(1));
    let plan = plan(pairs, variant_count);
    let now = Utc
        .with_ymd_and_hms(2026, 11, 20, 9, 0, 0)
        .single()
        .ok_or("time")?;

    // Rounds of: the model, then the ledger three times on fresh ledgers (without
    // events: the figure the goal is about; the same with variants and locations given
    // by key; then with events). Each round's ratios compare runs made within seconds
    // of each other, so a machine whose speed drifts moves both sides of a ratio; the
    // summary is the median round.
    let rate = |t: Timing| pairs as f64 / t.wall / 1e6;
    let mut ratios: [Vec<f64>; 3] = Default::default();
    let mut user_ratios: [Vec<f64>; 3] = Default::default();
    for round in 1..=rounds {
        let model = time_model(&plan, variant_count);
        let quiet = time_ledger(&plan, variant_count, now, Mode::Quiet)?;
        let keyed = time_ledger(&plan, variant_count, now, Mode::Keyed)?;
        let events = time_ledger(&plan, variant_count, now, Mode::Events)?;
        println!("round {round} of {rounds}");
        println!("  plain model: {model} = {:.2} M pairs/s", rate(model));
        println!(
            "  ledger:      {quiet} = {:.2} M pairs/s (reserve_quiet + commit_quiet)",
            rate(quiet)
        );
        println!(
            "  ledger:      {keyed} = {:.2} M pairs/s (reserve_quiet_keyed + commit_quiet_keyed)",
            rate(keyed)
        );
        println!(
            "  ledger:      {events} = {:.2} M pairs/s (reserve + commit, events returned)",
            rate(events)
        );
        let runs = [quiet, keyed, events];
        let round_ratios = runs.map(|t| model.wall / t.wall);
        println!(
            "  ledger / model: {:.2} (quiet), {:.2} (keyed), {:.2} (with events)",
            round_ratios[0], round_ratios[1], round_ratios[2]
        );
        for (all, r) in ratios.iter_mut().zip(round_ratios) {
            all.push(r);
        }
        for (all, t) in user_ratios.iter_mut().zip(runs) {
            if let (Some(m), Some(l)) = (model.user, t.user) {
                all.push(m / l);
            }
        }
        if round == 1 {
            let per = |t: Timing| t.allocations as f64 / pairs as f64;
            println!(
                "  allocations per pair: model {:.2}, ledger {:.2} (quiet), {:.2} (keyed), {:.2} (with events)",
                per(model),
                per(quiet),
                per(keyed),
                per(events)
            );
        }
    }
    let [quiet, keyed, events] = ratios;
    println!(
        "median of {rounds} rounds, ledger / model: {:.2} (quiet), {:.2} (keyed), {:.2} (with events)",
        median(quiet),
        median(keyed),
        median(events)
    );
    if user_ratios.iter().all(|r| r.len() == rounds) {
        let [quiet, keyed, events] = user_ratios;
        println!(
            "median of {rounds} rounds, by user-mode CPU time alone: {:.2} (quiet), {:.2} (keyed), {:.2} (with events)",
            median(quiet),
            median(keyed),
            median(events)
        );
    }
    Ok(())
}
