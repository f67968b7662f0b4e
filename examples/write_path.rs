//! The engine's write path in memory, measured the way issue 9 states its goals:
//! per-order cost of place + confirm (sourcing and reserving stock) and of
//! `place_order` alone, at growing history sizes, with heap allocations per order and
//! the heap the store holds per order afterwards.
//!
//! Two-line orders over 1,000 stocked variants at two locations, built before timing;
//! one engine per size, nothing else alive. Allocations are counted by `stats_alloc`'s
//! global allocator in this example (the library does not know about it), so an
//! allocation regression shows up as a number, not a feeling.
//!
//! Run it with `cargo run --release --example write_path [N ...]` (default
//! 10000 100000 1000000).
//!
//! Beside each engine row, the same orders go through a plain model of the same work
//! in the same run ([`plain::Model`]): no domain rules, only what any in-memory order
//! store does (an id, the order and its lines kept in a hash map by id, its channel
//! reference kept once, each line's units taken from the first of two locations that
//! has them, the reservation kept by an id of its own, one small event per change and
//! an outbox entry naming it). Its row is the floor this machine puts under goal 3
//! (≤ 2 µs a place + confirm, ≥ 1 M placements a second): the engine's share of it is
//! the model's time over the engine's, as goal 2 states the ledger's.

use std::alloc::System;
use std::error::Error;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{NewLine, NewOrder, OrderCommand};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[path = "write_path/plain.rs"]
mod plain;

// Counts allocations and bytes (relaxed atomics around the system allocator).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const VARIANTS: usize = 1_000;

fn variant(i: usize) -> Result<VariantId, Box<dyn Error>> {
    Ok(VariantId::parse(format!("SKU-{:04}", i % VARIANTS))?)
}

fn engine(n: usize) -> Result<Engine, Box<dyn Error>> {
    let engine = Engine::in_memory();
    let mut commands = Vec::new();
    for (code, priority) in [("IST", 1), ("ANK", 2)] {
        commands.push(StockCommand::AddLocation {
            location: Location::new(
                LocationId::parse(code)?,
                code,
                priority,
                "TR-34",
                LocationKind::Warehouse,
            ),
        });
    }
    let per_variant = u32::try_from(n * 4 / VARIANTS + 10)?;
    for i in 0..VARIANTS {
        commands.push(StockCommand::RegisterVariant {
            variant: variant(i)?,
            policy: StockPolicy::Deny,
        });
        for code in ["IST", "ANK"] {
            commands.push(StockCommand::Receive {
                variant: variant(i)?,
                location: LocationId::parse(code)?,
                quantity: per_variant,
                reference: None,
            });
        }
    }
    engine.stock_batch(commands)?;
    Ok(engine)
}

fn orders(n: usize) -> Result<Vec<NewOrder>, Box<dyn Error>> {
    let try_ = Currency::parse("TRY")?;
    let web = ChannelId::parse("web")?;
    let at = Utc
        .with_ymd_and_hms(2026, 11, 20, 9, 30, 0)
        .single()
        .ok_or("bad time")?;
    (0..n)
        .map(|i| {
            let lines = vec![
                NewLine::new(variant(i * 7)?, 2, Money::new("189.90".parse()?, try_)?),
                NewLine::new(variant(i * 13 + 1)?, 1, Money::new("89.90".parse()?, try_)?),
            ];
            let mut new = NewOrder::new(web.clone(), at, try_, lines);
            new.external_ref = Some(format!("W-{i}"));
            Ok(new)
        })
        .collect()
}

struct Run {
    micros: f64,
    allocs: f64,
    live_bytes: f64,
}

/// Which side of a row runs: the engine, or the plain model of its work.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Engine,
    Model,
}

fn run(n: usize, confirm: bool, side: Side) -> Result<Run, Box<dyn Error>> {
    if side == Side::Model {
        return run_model(n, confirm);
    }
    let e = engine(n)?;
    // Held heap is counted from before the inputs are built: what the engine keeps of
    // a moved-in order is its own, and what it frees of it must not be subtracted
    // from the store's figure.
    let held = Region::new(GLOBAL);
    let news = orders(n)?;
    let ctx = CommandContext::system();
    let region = Region::new(GLOBAL);
    let start = Instant::now();
    if confirm {
        place_and_confirm(&e, news, &ctx)?;
    } else {
        place_only(&e, news, &ctx)?;
    }
    let took = start.elapsed();
    let stats = region.change();
    let allocs = stats.allocations + stats.reallocations;
    let kept = held.change();
    // `stats_alloc` already adds a reallocation's growth to `bytes_allocated` (and its
    // shrinking to `bytes_deallocated`); `bytes_reallocated` is the same change again.
    let live = kept.bytes_allocated as f64 - kept.bytes_deallocated as f64;
    drop(e);
    Ok(Run {
        micros: took.as_secs_f64() * 1e6 / n as f64,
        allocs: allocs as f64 / n as f64,
        live_bytes: live / n as f64,
    })
}

// The timed loops, each its own function that is never inlined: `valgrind
// --tool=callgrind --toggle-collect='*write_path::place_and_confirm*'` (or
// `place_only`, or the model's `model_place_and_confirm` and `model_place_only`)
// counts exactly the calls under any LTO setting (with whole-program LTO the
// engine's own entry points are inlined into the caller).
#[inline(never)]
fn place_and_confirm(
    e: &Engine,
    news: Vec<NewOrder>,
    ctx: &CommandContext,
) -> Result<(), Box<dyn Error>> {
    for new in news {
        e.place_order_then(new, vec![OrderCommand::Confirm], ctx)?;
    }
    Ok(())
}

#[inline(never)]
fn place_only(e: &Engine, news: Vec<NewOrder>, ctx: &CommandContext) -> Result<(), Box<dyn Error>> {
    for new in news {
        e.place_order(new, ctx)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let sizes: Vec<usize> = {
        let given: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if given.is_empty() {
            vec![10_000, 100_000, 1_000_000]
        } else {
            given
        }
    };
    println!(
        "| orders | call | µs/order | orders/s | allocations/order | store heap/order | share of the model |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &n in &sizes {
        for (confirm, label) in [(false, "place_order"), (true, "place + confirm (reserve)")] {
            // The engine, then the model, in the same minute: the share compares them
            // on the same machine state.
            let engine = run(n, confirm, Side::Engine)?;
            let model = run(n, confirm, Side::Model)?;
            for (r, name, share) in [
                (
                    &engine,
                    label.to_string(),
                    format!("{:.2}", model.micros / engine.micros),
                ),
                (&model, format!("plain model: {label}"), "1".to_string()),
            ] {
                println!(
                    "| {n} | {name} | {:.2} | {:.0} k | {:.1} | {:.0} B | {share} |",
                    r.micros,
                    1e3 / r.micros,
                    r.allocs,
                    r.live_bytes
                );
            }
        }
    }
    Ok(())
}

/// Times the plain model on the same orders, counted the same way as [`run`].
fn run_model(n: usize, confirm: bool) -> Result<Run, Box<dyn Error>> {
    let variants = (0..VARIANTS).map(variant).collect::<Result<Vec<_>, _>>()?;
    let per_variant = i64::try_from(n * 4 / VARIANTS + 10)?;
    let mut model = plain::Model::new(&variants, per_variant);
    let held = Region::new(GLOBAL);
    let news = orders(n)?;
    let region = Region::new(GLOBAL);
    let start = Instant::now();
    if confirm {
        model_place_and_confirm(&mut model, news)?;
    } else {
        model_place_only(&mut model, news)?;
    }
    let took = start.elapsed();
    let stats = region.change();
    let kept = held.change();
    let live = kept.bytes_allocated as f64 - kept.bytes_deallocated as f64;
    drop(model);
    Ok(Run {
        micros: took.as_secs_f64() * 1e6 / n as f64,
        allocs: (stats.allocations + stats.reallocations) as f64 / n as f64,
        live_bytes: live / n as f64,
    })
}

#[inline(never)]
fn model_place_and_confirm(
    model: &mut plain::Model,
    news: Vec<NewOrder>,
) -> Result<(), Box<dyn Error>> {
    for new in news {
        let id = model.place(new)?;
        model.confirm(&id)?;
    }
    Ok(())
}

#[inline(never)]
fn model_place_only(model: &mut plain::Model, news: Vec<NewOrder>) -> Result<(), Box<dyn Error>> {
    for new in news {
        model.place(new)?;
    }
    Ok(())
}
