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

/// The same orders as [`FIXTURES`] (same lines, money and statuses) in the whole shape
/// each channel documents and sends: every field of its order resource around the ones
/// the adapter reads (customer, addresses, money sets, client details, per-line product
/// fields...): 2.7 to 11.7 KB as sent, where the trimmed test fixtures are 0.5 to 2 KB.
/// `channels/tests/full_payloads.rs` holds each to the same canonical order as its
/// trimmed twin.
pub const FULL_FIXTURES: &[(Channel, &str)] = &[
    (Channel::Shopify, "shopify/full_multi_line_discounted.json"),
    (
        Channel::WooCommerce,
        "woo_commerce/full_processing_inclusive.json",
    ),
    (Channel::Trendyol, "trendyol/full_split_packages.json"),
    (Channel::Hepsiburada, "hepsiburada/full_merged_feeds.json"),
    (Channel::AmazonV0, "amazon/full_v0_us_unshipped.json"),
    (
        Channel::Amazon2026,
        "amazon/full_2026_partially_shipped.json",
    ),
    (Channel::Ebay, "ebay/full_paid_promotion.json"),
];

/// The fixture a probe or bench names: `shopify` is the trimmed one, `shopify:full` the
/// whole documented shape.
pub fn named(name: &str) -> Option<(Channel, Vec<u8>)> {
    let (channel, full) = match name.strip_suffix(":full") {
        Some(channel) => (channel, true),
        None => (name, false),
    };
    let list = if full { FULL_FIXTURES } else { FIXTURES };
    let (channel, file) = list.iter().find(|(c, _)| c.to_string() == channel)?;
    let body = fixture(file);
    Some((*channel, if full { minified(&body) } else { body }))
}

/// A JSON body without the whitespace between tokens, as channels send their bodies
/// (the fixture files are indented for reading). Strings are kept byte for byte,
/// duplicated keys and member order too.
pub fn minified(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in body {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !b.is_ascii_whitespace() {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}

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
