//! Imports one channel's fixture order N times with new external ids (its lines mapped
//! and stocked, as in `benches/channels.rs`: placed, paid and confirmed in one write)
//! and prints the time per import: the loop the instruction counts in
//! benches/README.md's channel section come from. The channel is the argument after N
//! (`shopify` by default; the names are the bench's, e.g. `amazon_v0`, and
//! `shopify:full` names the whole documented shape of the same order). With `parse`
//! after the channel it parses the payload N times instead (`parse_one`), the adapter's
//! half of the bench's `parse_and_import`; with `serde`, serde_json's parse of the same
//! bytes into a `Value` (`serde_one`), the bench's baseline; with `both`, the bench's
//! `parse_and_import` (`parse_and_import_one`): parse, new id, import, drop.
//!
//! `intake_probe N keep BYTES BLOCKS` is the plain model of what an import leaves
//! behind, and nothing else: each of N rounds allocates BLOCKS blocks of BYTES in all,
//! writes every byte and keeps them (an in-memory engine keeps every order it took).
//! Its time is the floor the machine puts under any import that keeps that much: the
//! first touch of each new page is a page fault, which is where much of an import's
//! time goes on a VM (benches/README.md, the channel section's eleventh sitting).
//!
//! ```text
//! cargo build --release -p ordersmith-channels --example intake_probe
//! target/release/examples/intake_probe 50000
//! valgrind --tool=callgrind --toggle-collect='*import_one*' \
//!     target/release/examples/intake_probe 5000
//! valgrind --tool=callgrind --toggle-collect='*parse_one*' \
//!     target/release/examples/intake_probe 5000 shopify parse
//! valgrind --tool=callgrind --toggle-collect='*serde_one*' \
//!     target/release/examples/intake_probe 5000 shopify serde
//! ```
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::error::Error;
use std::time::Instant;

use ordersmith::engine::Engine;
use ordersmith_channels::intake::{Intake, IntakeOptions, MemoryIntakeLog};
use ordersmith_channels::mapping::MemoryIdentifierMap;
use ordersmith_channels::{parse_order, ChannelOrder};

#[path = "../../benches/channel_fixtures.rs"]
mod channel_fixtures;
use channel_fixtures::{named, stock_and_map};

/// One import, kept out of line so a profiler can count it alone.
#[inline(never)]
fn import_one(intake: &Intake<'_>, order: &ChannelOrder) -> Result<(), Box<dyn Error>> {
    let report = intake.import(order)?;
    if !report.unmapped.is_empty() || !report.failed.is_empty() {
        return Err(format!("an import left work undone: {report:?}").into());
    }
    Ok(())
}

/// serde_json's plain parse of the same bytes into a `Value`, dropped as the bench's
/// baseline drops it, kept out of line so its instructions can be counted beside
/// `parse_and_import_one`'s.
#[inline(never)]
fn serde_one(body: &[u8]) -> Result<(), Box<dyn Error>> {
    let value: serde_json::Value = serde_json::from_slice(body)?;
    std::hint::black_box(&value);
    Ok(())
}

/// One parse of the payload, kept out of line for the same reason.
#[inline(never)]
fn parse_one(
    channel: ordersmith_channels::Channel,
    body: &[u8],
) -> Result<ChannelOrder, Box<dyn Error>> {
    Ok(parse_order(channel, body)?)
}

/// The bench's `parse_and_import`: a parse, a new external id, the import, and the
/// parsed order and the report dropped, kept out of line so it can be counted whole.
#[inline(never)]
fn parse_and_import_one(
    intake: &Intake<'_>,
    channel: ordersmith_channels::Channel,
    body: &[u8],
    external_id: String,
) -> Result<(), Box<dyn Error>> {
    let mut order = parse_order(channel, body)?;
    order.external_id = external_id;
    import_one(intake, &order)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(5_000), |a| a.parse())?;
    let name = args.next().unwrap_or_else(|| "shopify".to_string());
    if name == "keep" {
        let bytes: usize = args.next().map_or(Ok(3_800), |a| a.parse())?;
        let blocks: usize = args.next().map_or(Ok(28), |a| a.parse())?;
        let each = bytes / blocks.max(1);
        // Room for every pointer up front: the model keeps the blocks, not a growing
        // list of them (whose copies would be a cost of its own).
        let mut kept: Vec<Vec<u8>> = Vec::with_capacity(n.saturating_mul(blocks));
        let start = Instant::now();
        for i in 0..n {
            for _ in 0..blocks {
                kept.push(vec![i as u8; each]);
            }
        }
        let micros = start.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
        println!("keep: {n} rounds of {bytes} B in {blocks} blocks, {micros:.2} µs a round");
        std::hint::black_box(&kept);
        std::process::exit(0)
    }
    let (channel, body) = named(&name).ok_or(format!("no fixture for {name}"))?;
    let channel = &channel;
    let mode = args.next();
    if mode.as_deref() == Some("serde") {
        let start = Instant::now();
        for _ in 0..n {
            serde_one(std::hint::black_box(&body))?;
        }
        let micros = start.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
        println!("{name}: {n} serde_json parses, {micros:.2} µs a parse");
        return Ok(());
    }
    if mode.as_deref() == Some("parse") {
        let start = Instant::now();
        for _ in 0..n {
            std::hint::black_box(parse_one(*channel, std::hint::black_box(&body))?);
        }
        let micros = start.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
        println!("{name}: {n} parses, {micros:.2} µs a parse");
        return Ok(());
    }
    let parsed = parse_order(*channel, &body)?;
    let engine = Engine::in_memory();
    let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
    stock_and_map(&engine, &map, *channel, &body);
    let options = IntakeOptions {
        import_test_orders: true,
        import_marketplace_fulfilled: true,
    };
    if mode.as_deref() == Some("both") {
        let intake = Intake::new(&engine, &map, &log, options);
        let start = Instant::now();
        for i in 0..n {
            parse_and_import_one(&intake, *channel, &body, format!("B{i}"))?;
        }
        let micros = start.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
        println!("{name}: {n} parses and imports, {micros:.2} µs each");
        std::process::exit(0)
    }
    let orders: Vec<ChannelOrder> = (0..n)
        .map(|i| {
            let mut order = parsed.clone();
            order.external_id = format!("P{i}");
            order
        })
        .collect();
    let intake = Intake::new(&engine, &map, &log, options);
    let start = Instant::now();
    for order in &orders {
        import_one(&intake, order)?;
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
    println!("{name}: {n} imports, {micros:.2} µs an import");
    // Ends here, without freeing the engine and the orders one by one: a profile of
    // the whole process (`perf record`) then shows the imports, not the teardown.
    std::process::exit(0)
}
