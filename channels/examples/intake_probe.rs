//! Imports one channel's fixture order N times with new external ids (its lines mapped
//! and stocked: placed, paid and confirmed in one write) and prints the time per
//! import: the loop the instruction counts in benches/README.md's channel section come
//! from. The channel is the first argument after N (`shopify` by default).
//!
//! ```text
//! cargo build --release -p ordersmith-channels --example intake_probe
//! target/release/examples/intake_probe 50000
//! valgrind --tool=callgrind --toggle-collect='*import_one*' \
//!     target/release/examples/intake_probe 5000
//! ```

use std::error::Error;
use std::time::Instant;

use ordersmith::engine::Engine;
use ordersmith::ids::{LocationId, VariantId};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_channels::intake::{Intake, IntakeOptions, MemoryIntakeLog};
use ordersmith_channels::mapping::{Listing, MemoryIdentifierMap};
use ordersmith_channels::{parse_order, Channel, ChannelOrder};

/// The fixture each channel's probe imports (the same as `benches/channels.rs`).
fn fixture(name: &str) -> Option<(Channel, &'static str)> {
    Some(match name {
        "shopify" => (Channel::Shopify, "shopify/multi_line_discounted.json"),
        "woo_commerce" => (
            Channel::WooCommerce,
            "woo_commerce/processing_inclusive.json",
        ),
        "trendyol" => (Channel::Trendyol, "trendyol/split_packages.json"),
        "hepsiburada" => (Channel::Hepsiburada, "hepsiburada/merged_feeds.json"),
        "amazon_v0" => (Channel::AmazonV0, "amazon/v0_us_unshipped.json"),
        "amazon_2026" => (Channel::Amazon2026, "amazon/2026_partially_shipped.json"),
        "ebay" => (Channel::Ebay, "ebay/paid_promotion.json"),
        _ => return None,
    })
}

/// Maps every line of `order` to its own variant, stocked with a billion units at one
/// warehouse, so each import confirms and reserves.
fn stock_and_map(
    engine: &Engine,
    map: &MemoryIdentifierMap,
    order: &ChannelOrder,
) -> Result<(), Box<dyn Error>> {
    let wh = LocationId::parse("WH")?;
    let mut commands = vec![StockCommand::AddLocation {
        location: Location::new(wh.clone(), "Warehouse", 1, "TR-34", LocationKind::Warehouse),
    }];
    for (k, line) in order.lines.iter().enumerate() {
        let variant = VariantId::parse(format!("V{k}"))?;
        let listing = Listing {
            sku: line.ids.sku.clone(),
            barcode: line.ids.barcode.clone(),
            variant_id: line.ids.variant_id.clone(),
            ..Listing::default()
        };
        map.set_listing(order.channel.channel_id(), &variant, listing)?;
        commands.push(StockCommand::RegisterVariant {
            variant: variant.clone(),
            policy: StockPolicy::Deny,
        });
        commands.push(StockCommand::Receive {
            variant,
            location: wh.clone(),
            quantity: 1_000_000_000,
            reference: None,
        });
    }
    engine.stock_batch(commands)?;
    Ok(())
}

/// One import, kept out of line so a profiler can count it alone.
#[inline(never)]
fn import_one(intake: &Intake<'_>, order: &ChannelOrder) -> Result<(), Box<dyn Error>> {
    let report = intake.import(order)?;
    if !report.unmapped.is_empty() || !report.failed.is_empty() {
        return Err(format!("an import left work undone: {report:?}").into());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(5_000), |a| a.parse())?;
    let name = args.next().unwrap_or_else(|| "shopify".to_string());
    let (channel, file) = fixture(&name).ok_or(format!("no fixture for {name}"))?;
    let body = std::fs::read(format!(
        "{}/tests/fixtures/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))?;
    let parsed = parse_order(channel, &body)?;
    let engine = Engine::in_memory();
    let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
    stock_and_map(&engine, &map, &parsed)?;
    let options = IntakeOptions {
        import_test_orders: true,
        import_marketplace_fulfilled: true,
    };
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
    Ok(())
}
