//! Channels demo: orders from six sales channels land in one engine (a duplicate
//! delivery is one order, a later status updates it in place), then the stock each
//! channel should be told goes out as request batches within each channel's limits.
//!
//! Run: `cargo run --example channels_demo`

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use ordersmith::engine::Engine;
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::stock::{ChannelRule, Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_channels::intake::{self, ImportReport, Intake, IntakeOptions, MemoryIntakeLog};
use ordersmith_channels::mapping::{Listing, MemoryIdentifierMap};
use ordersmith_channels::push::{PushAccount, PushTarget, StockPushPlanner};
use ordersmith_channels::Channel;

macro_rules! fixture {
    ($path:literal) => {
        include_bytes!(concat!("../channels/tests/fixtures/", $path)).as_slice()
    };
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn setup() -> Res<(Engine, MemoryIdentifierMap)> {
    let engine = Engine::in_memory();
    let wh = LocationId::parse("IST")?;
    let mut cmds = vec![StockCommand::AddLocation {
        location: Location::new(
            wh.clone(),
            "Istanbul DC",
            1,
            "TR-34",
            LocationKind::Warehouse,
        ),
    }];
    for (sku, units) in [
        ("TEA", 40),
        ("CUP", 25),
        ("MUG", 30),
        ("TEE", 12),
        ("PIN", 100),
        ("LAMP", 8),
    ] {
        let variant = VariantId::parse(sku)?;
        cmds.push(StockCommand::RegisterVariant {
            variant: variant.clone(),
            policy: StockPolicy::Deny,
        });
        cmds.push(StockCommand::Receive {
            variant,
            location: wh.clone(),
            quantity: units,
            reference: Some("PO-1".into()),
        });
    }
    // Marketplaces get a share of the stock and a buffer, so one unit is never sold twice.
    for (channel, share_percent, buffer) in [
        ("shopify", 100, 0),
        ("woo_commerce", 100, 0),
        ("trendyol", 50, 2),
        ("hepsiburada", 30, 2),
        ("amazon", 40, 1),
        ("ebay", 20, 1),
    ] {
        cmds.push(StockCommand::SetChannelRule {
            channel: ChannelId::parse(channel)?,
            rule: ChannelRule {
                share_percent,
                buffer,
                locations: None,
            },
        });
    }
    engine.stock_batch(cmds)?;
    let map = MemoryIdentifierMap::new();
    let list = |channel: &str, variant: &str, listing: Listing| -> Res<()> {
        map.set_listing(channel, &VariantId::parse(variant)?, listing)?;
        Ok(())
    };
    let sku = |s: &str| Some(s.to_string());
    list(
        "shopify",
        "MUG",
        Listing {
            sku: sku("MUG-RED"),
            inventory_item_id: sku("43000000001"),
            ..Listing::default()
        },
    )?;
    list(
        "shopify",
        "TEE",
        Listing {
            variant_id: sku("40000000000000002"),
            inventory_item_id: sku("43000000002"),
            ..Listing::default()
        },
    )?;
    list(
        "woo_commerce",
        "TEA",
        Listing {
            sku: sku("TEA-500"),
            variant_id: sku("93"),
            ..Listing::default()
        },
    )?;
    list(
        "woo_commerce",
        "CUP",
        Listing {
            variant_id: sku("23"),
            inventory_item_id: sku("22"),
            ..Listing::default()
        },
    )?;
    list(
        "trendyol",
        "TEA",
        Listing {
            sku: sku("TEA-500"),
            barcode: sku("8690000000011"),
            ..Listing::default()
        },
    )?;
    list(
        "trendyol",
        "CUP",
        Listing {
            sku: sku("CUP"),
            barcode: sku("8690000000028"),
            ..Listing::default()
        },
    )?;
    list(
        "hepsiburada",
        "TEA",
        Listing {
            sku: sku("TEA-500"),
            variant_id: sku("HBV00000TEA01"),
            ..Listing::default()
        },
    )?;
    list(
        "hepsiburada",
        "CUP",
        Listing {
            sku: sku("CUP"),
            variant_id: sku("HBV00000CUP01"),
            ..Listing::default()
        },
    )?;
    list(
        "amazon",
        "LAMP",
        Listing {
            sku: sku("LAMP"),
            product_type: sku("LAMP"),
            ..Listing::default()
        },
    )?;
    list(
        "amazon",
        "TEE",
        Listing {
            sku: sku("SHADE"),
            ..Listing::default()
        },
    )?;
    list(
        "ebay",
        "MUG",
        Listing {
            sku: sku("MUG-RED"),
            ..Listing::default()
        },
    )?;
    list(
        "ebay",
        "PIN",
        Listing {
            sku: sku("PIN"),
            ..Listing::default()
        },
    )?;
    Ok((engine, map))
}

fn show(what: &str, r: &ImportReport) {
    let order = r.order.as_ref();
    println!(
        "  {what:<34} {:<10} {:<22} status={:<10} applied={:?}{}{}",
        format!("{:?}", r.outcome).to_lowercase(),
        order.map(|o| o.id.to_string()).unwrap_or_default(),
        order.map(|o| o.status.as_str()).unwrap_or("-"),
        r.applied,
        if r.mismatches.is_empty() {
            String::new()
        } else {
            format!(" mismatches={}", r.mismatches.len())
        },
        if r.unmapped.is_empty() {
            String::new()
        } else {
            format!(" unmapped={:?}", r.unmapped)
        },
    );
}

fn main() -> Res<()> {
    let (engine, map) = setup()?;
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());

    println!("Orders in:");
    let deliveries: [(&str, Channel, &[u8]); 9] = [
        (
            "shopify #1001",
            Channel::Shopify,
            fixture!("shopify/multi_line_discounted.json"),
        ),
        (
            "woocommerce 727",
            Channel::WooCommerce,
            fixture!("woo_commerce/processing_inclusive.json"),
        ),
        (
            "trendyol 10654411111 (created)",
            Channel::Trendyol,
            fixture!("trendyol/new_names.json"),
        ),
        (
            "trendyol 10654411111 (again)",
            Channel::Trendyol,
            fixture!("trendyol/new_names.json"),
        ),
        (
            "trendyol 10654411111 (split, 1 shipped)",
            Channel::Trendyol,
            fixture!("trendyol/split_packages.json"),
        ),
        (
            "trendyol 10654411111 (late 'Created')",
            Channel::Trendyol,
            fixture!("trendyol/new_names.json"),
        ),
        (
            "hepsiburada 4000000001",
            Channel::Hepsiburada,
            fixture!("hepsiburada/merged_feeds.json"),
        ),
        (
            "amazon 302-1234567-1234567",
            Channel::Amazon2026,
            fixture!("amazon/2026_partially_shipped.json"),
        ),
        (
            "ebay 12-12345-12345",
            Channel::Ebay,
            fixture!("ebay/paid_promotion.json"),
        ),
    ];
    for (what, channel, body) in deliveries {
        let report = intake.import_payload(channel, body)?;
        show(what, &report);
    }
    let orders = engine.list_orders(&Default::default())?;
    println!("{} deliveries, {} orders in the engine.\n", 9, orders.len());

    println!("Stock out (only what changed since the last acknowledged push):");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
        .single()
        .ok_or("bad time")?;
    let account = PushAccount {
        seller_id: Some("123456".into()),
        marketplace_id: Some("A1PA6795UKMFR9".into()),
        location_id: Some("71000000001".into()),
    };
    let mut acknowledged: BTreeMap<&str, usize> = BTreeMap::new();
    for target in [
        PushTarget::ShopifyInventory,
        PushTarget::WooCommerceBatch,
        PushTarget::TrendyolInventory,
        PushTarget::HepsiburadaStockUpload,
        PushTarget::AmazonListingsPatch,
        PushTarget::EbayBulkPriceQuantity,
    ] {
        let mut planner = StockPushPlanner::new(target, account.clone())?;
        let changed = intake::changed_since_last_push(&engine, target.channel())?;
        let plan = planner.plan(&changed, &map, now)?;
        println!(
            "  {} ({} changed, {} not listed there):",
            target.as_str(),
            changed.len(),
            plan.unlisted.len()
        );
        for request in &plan.requests {
            println!(
                "    {} {} {}  at {}",
                request.id,
                request.method,
                request.path,
                request.not_before.format("%H:%M:%S%.3f")
            );
            println!("      {}", request.body);
        }
        // The host sends them; here every item is accepted.
        for request in &plan.requests {
            let ack = planner.acknowledge(&request.id, &[])?;
            intake::mark_pushed(&engine, target.channel(), &ack)?;
            *acknowledged.entry(target.channel()).or_default() += ack.pushed.len();
        }
    }
    let again = intake::changed_since_last_push(&engine, "trendyol")?;
    let left: Vec<&str> = again.keys().map(VariantId::as_str).collect();
    println!("\nAcknowledged items per channel: {acknowledged:?}");
    println!("Still to push to trendyol: {left:?} (not listed there, so never sent)");
    Ok(())
}
