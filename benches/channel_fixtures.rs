//! The channel fixtures the intake benchmark and `channels/examples/intake_probe.rs`
//! import, and the engine setup that makes each import a real first delivery. Included
//! by both with `#[path]` (a bench and an example share no module otherwise).

use ordersmith::engine::Engine;
use ordersmith::ids::{LocationId, VariantId};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_channels::mapping::{Listing, MemoryIdentifierMap};
use ordersmith_channels::{parse_order, Channel};

/// One fixture payload per channel.
pub const FIXTURES: &[(Channel, &str)] = &[
    (Channel::Shopify, "shopify/multi_line_discounted.json"),
    (
        Channel::WooCommerce,
        "woo_commerce/processing_inclusive.json",
    ),
    (Channel::Trendyol, "trendyol/split_packages.json"),
    (Channel::Hepsiburada, "hepsiburada/merged_feeds.json"),
    (Channel::AmazonV0, "amazon/v0_us_unshipped.json"),
    (Channel::Amazon2026, "amazon/2026_partially_shipped.json"),
    (Channel::Ebay, "ebay/paid_promotion.json"),
];

/// The bytes of a fixture under `channels/tests/fixtures`.
pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Maps every line of the fixture to its own variant, stocked with plenty at one
/// warehouse (a billion units, the ledger's largest quantity: no run of the benchmark
/// can exhaust it), so each import confirms and reserves.
pub fn stock_and_map(engine: &Engine, map: &MemoryIdentifierMap, channel: Channel, body: &[u8]) {
    let order = parse_order(channel, body).unwrap();
    let wh = LocationId::parse("WH").unwrap();
    let mut cmds = vec![StockCommand::AddLocation {
        location: Location::new(wh.clone(), "Warehouse", 1, "TR-34", LocationKind::Warehouse),
    }];
    for (k, line) in order.lines.iter().enumerate() {
        let variant = VariantId::parse(format!("V{k}")).unwrap();
        let listing = Listing {
            sku: line.ids.sku.clone(),
            barcode: line.ids.barcode.clone(),
            variant_id: line.ids.variant_id.clone(),
            ..Listing::default()
        };
        map.set_listing(channel.channel_id(), &variant, listing)
            .unwrap();
        cmds.push(StockCommand::RegisterVariant {
            variant: variant.clone(),
            policy: StockPolicy::Deny,
        });
        cmds.push(StockCommand::Receive {
            variant,
            location: wh.clone(),
            quantity: 1_000_000_000,
            reference: None,
        });
    }
    engine.stock_batch(cmds).unwrap();
}
