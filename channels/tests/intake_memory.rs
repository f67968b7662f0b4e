//! What a channel import leaves behind in an in-memory engine: a counting global
//! allocator (`stats_alloc`) measures the heap bytes and blocks still held after each
//! channel's fixture is imported 2,000 times (parsed, imported as a first delivery with
//! its lines mapped and stocked, as in `benches/channels.rs`; the parsed order and the
//! report dropped). Everything an import keeps is kept for good (the order, its
//! history, reservations, stock log, intake log), and on a VM every new page it fills
//! is a page fault: benches/README.md's channel section measured that floor with the
//! intake probe's `keep` model (issue 12). The ceilings are the figures measured when
//! this guard was written, with a little room, so growth cannot come back unnoticed.
//! The only test in this binary, so no other test allocates while it counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::alloc::System;

use ordersmith::engine::Engine;
use ordersmith_channels::intake::{Intake, IntakeOptions, MemoryIntakeLog};
use ordersmith_channels::mapping::MemoryIdentifierMap;
use ordersmith_channels::{parse_order, Channel};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[path = "../../benches/channel_fixtures.rs"]
#[allow(dead_code)]
mod channel_fixtures;
use channel_fixtures::{fixture, stock_and_map, FIXTURES};

/// Imports before counting (the engine's first maps and chunks grown), then imports
/// counted.
const WARM: usize = 500;
const COUNTED: usize = 2_000;

/// Bytes and blocks kept per import, at most: the figures measured on 2026-12-03
/// (Shopify 4,099 B in 40.2 blocks, WooCommerce 4,013 / 38.2, Trendyol 4,305 / 29.2,
/// Hepsiburada 4,374 / 28.2, Amazon v0 3,273 / 31.2, Amazon 2026-01-01 4,473 / 35.2,
/// eBay 4,437 / 36.2) with about 3 % of room: one more block kept per import is over.
/// The bytes include the engine's maps growing, spread over the imports that grew
/// them; the sequence is the same every run, so the figures are.
///
/// Trendyol and Hepsiburada were raised when intake began judging their staleness per
/// package / line item (the intake log keeps each part's id and newest change: a
/// missing part is what lets a package that arrives after a newer one be applied):
/// measured 4,421 B in 33.0 blocks and 4,556 B in 31.0 blocks. eBay was raised when
/// the log began keeping each line's listing id (`legacyItemId` → `lineItemId`, what
/// its returns name a line by): measured 4,694 B in 41.0 blocks.
///
/// Trendyol and Hepsiburada were raised again when the log began keeping each part's
/// lines (the units of each line a package carries and their stages, to add up a line
/// split across packages delivered one per call) and whether it is superseded: on the
/// machine measured, Trendyol went from 4,458 B in 33.0 blocks to 4,790 B in 38.0 (its
/// two live packages' line lists and their three line ids; the `UnPacked` one keeps
/// none) and Hepsiburada, whose parts keep no lines, from 4,593 B to 4,769 B in 31.0
/// blocks (each part's record is larger).
fn ceiling(channel: Channel) -> (f64, f64) {
    match channel {
        Channel::Shopify => (4_220.0, 41.4),
        Channel::WooCommerce => (4_130.0, 39.3),
        Channel::Trendyol => (4_930.0, 39.0),
        Channel::Hepsiburada => (4_910.0, 32.0),
        Channel::AmazonV0 => (3_370.0, 32.1),
        Channel::Amazon2026 => (4_600.0, 36.3),
        Channel::Ebay => (4_840.0, 42.3),
    }
}

/// Bytes and blocks held after `COUNTED` imports of `channel`'s fixture, per import.
fn kept_per_import(channel: Channel, body: &[u8]) -> (f64, f64) {
    let engine = Engine::in_memory();
    let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
    stock_and_map(&engine, &map, channel, body);
    let options = IntakeOptions {
        import_test_orders: true,
        import_marketplace_fulfilled: true,
    };
    let intake = Intake::new(&engine, &map, &log, options);
    let import = |i: usize| {
        let mut order = parse_order(channel, body).unwrap();
        order.external_id = format!("M{i}");
        let report = intake.import(&order).unwrap();
        assert!(
            report.unmapped.is_empty() && report.failed.is_empty(),
            "{channel}: an import left work undone: {report:?}"
        );
    };
    for i in 0..WARM {
        import(i);
    }
    let region = Region::new(GLOBAL);
    for i in WARM..WARM + COUNTED {
        import(i);
    }
    let change = region.change();
    let bytes = change.bytes_allocated as f64 - change.bytes_deallocated as f64
        + change.bytes_reallocated as f64;
    let blocks = change.allocations as f64 - change.deallocations as f64;
    (bytes / COUNTED as f64, blocks / COUNTED as f64)
}

#[test]
fn an_import_keeps_a_bounded_heap() {
    let mut over = Vec::new();
    for (channel, file) in FIXTURES {
        let body = fixture(file);
        let (bytes, blocks) = kept_per_import(*channel, &body);
        let (max_bytes, max_blocks) = ceiling(*channel);
        println!("{channel}: {bytes:.0} B in {blocks:.1} blocks kept per import");
        if bytes > max_bytes || blocks > max_blocks {
            over.push(format!(
                "{channel}: {bytes:.0} B in {blocks:.1} blocks (at most {max_bytes:.0} B, \
                 {max_blocks:.1} blocks)"
            ));
        }
    }
    assert!(
        over.is_empty(),
        "imports keep more than they did:\n{}",
        over.join("\n")
    );
}
