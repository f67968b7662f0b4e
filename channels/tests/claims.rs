//! Channel claims and returns become events, reported once per order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{d, fixture};
use ordersmith::engine::Engine;
use ordersmith_channels::intake::{Intake, IntakeOptions, MemoryIntakeLog};
use ordersmith_channels::mapping::MemoryIdentifierMap;
use ordersmith_channels::{parse_events, Channel, ChannelEvent};

#[test]
fn trendyol_claim_with_its_line_and_status() {
    let events = parse_events(Channel::Trendyol, &fixture("claims/trendyol_claims.json")).unwrap();
    assert_eq!(
        events,
        vec![ChannelEvent {
            kind: "claim".into(),
            order_external_id: Some("10654411111".into()),
            external_id: "8f6a1c2e-0000-4000-8000-0000000000c1".into(),
            status: Some("WaitingInAction".into()),
            amount: None,
            lines: vec![("1001".into(), 1)],
            reason: Some("Damaged product".into()),
            restock: false,
        }]
    );
}

#[test]
fn hepsiburada_and_ebay_returns() {
    let hb = parse_events(
        Channel::Hepsiburada,
        &fixture("claims/hepsiburada_claims.json"),
    )
    .unwrap();
    assert_eq!(
        (hb[0].kind.as_str(), hb[0].external_id.as_str()),
        ("return", "CLM-77")
    );
    assert_eq!(hb[0].amount, Some(d("89.9")));
    assert_eq!(
        hb[0].lines,
        vec![("5f1c2a9e-0000-4000-8000-000000000001".to_string(), 1)]
    );
    let eb = parse_events(Channel::Ebay, &fixture("claims/ebay_returns.json")).unwrap();
    assert_eq!(eb[0].status.as_deref(), Some("RETURN_STARTED"));
    assert_eq!(eb[0].order_external_id.as_deref(), Some("12-12345-12345"));
    assert_eq!(eb[0].reason.as_deref(), Some("NOT_AS_DESCRIBED"));
    // Channels whose refunds live in the order payload have no separate feed.
    assert!(parse_events(Channel::Shopify, b"{}").unwrap().is_empty());
}

#[test]
fn malformed_claims_are_typed_with_their_path() {
    let e = parse_events(Channel::Hepsiburada, br#"{"items": [{"claimNumber": "1", "orderNumber": "2", "quantity": -1, "line": {"lineItemId": "x"}}]}"#).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        ("CHANNEL_INVALID_QUANTITY", "$.items[0].quantity")
    );
    let e = parse_events(Channel::Ebay, br#"{"members": [{"orderId": "1"}]}"#).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        ("CHANNEL_MISSING_FIELD", "$.members[0].returnId")
    );
    assert_eq!(
        parse_events(Channel::Trendyol, b"{\"content\": [")
            .unwrap_err()
            .code(),
        "CHANNEL_MALFORMED_JSON"
    );
}

#[test]
fn events_attach_to_imported_orders_once() {
    let engine = Engine::in_memory();
    let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let claims = fixture("claims/trendyol_claims.json");
    // Before the order is imported: reported, with no order.
    let early = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert_eq!((early[0].order_id.clone(), early[0].new), (None, true));
    let order = imported(&intake, Channel::Trendyol, "trendyol/new_names.json");
    let first = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert_eq!(
        (first[0].order_id.clone(), first[0].new),
        (Some(order.id.clone()), true)
    );
    let again = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(!again[0].new);
    assert_eq!(
        engine.order(&order.id).unwrap().version,
        order.version,
        "the order itself is unchanged"
    );
}

/// A marketplace claim on a delivered order becomes an RMA in the core's returns
/// workflow: its line mapped, its reason read from the shopper's label, asked once.
#[test]
fn a_claim_on_a_delivered_order_becomes_an_rma_once() {
    use ordersmith::engine::CommandContext;
    use ordersmith::ids::{LocationId, VariantId};
    use ordersmith::order::LineQuantity;
    use ordersmith::returns::{ReturnReason, RmaStatus};
    use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
    use ordersmith_channels::mapping::Listing;
    let engine = Engine::in_memory();
    let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
    let wh = LocationId::parse("WH").unwrap();
    let mut cmds = vec![StockCommand::AddLocation {
        location: Location::new(wh.clone(), "Warehouse", 1, "TR-34", LocationKind::Warehouse),
    }];
    for (sku, barcode) in [("TEA", "8690000000011"), ("CUP", "8690000000028")] {
        let v = VariantId::parse(sku).unwrap();
        cmds.push(StockCommand::RegisterVariant {
            variant: v.clone(),
            policy: StockPolicy::Deny,
        });
        cmds.push(StockCommand::Receive {
            variant: v.clone(),
            location: wh.clone(),
            quantity: 10,
            reference: None,
        });
        let listing = Listing {
            barcode: Some(barcode.into()),
            ..Listing::default()
        };
        map.set_listing("trendyol", &v, listing).unwrap();
    }
    engine.stock_batch(cmds).unwrap();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Trendyol, "trendyol/new_names.json");
    let l1 = order.lines[0].id.clone();
    let ctx = CommandContext::system();
    let units = vec![LineQuantity::new(l1.clone(), 2)];
    engine
        .record_shipment(&order.id, units.clone(), &ctx)
        .unwrap();
    engine.record_delivery(&order.id, units, &ctx).unwrap();
    let claims = fixture("claims/trendyol_claims.json");
    let first = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert_eq!(
        first[0].rma.as_deref(),
        Some("R1"),
        "{:?}",
        first[0].rma_failed
    );
    let after = engine.order(&order.id).unwrap();
    let rma = after.rma("R1").unwrap();
    assert_eq!(rma.status, RmaStatus::Approved);
    assert_eq!(rma.lines[0].line_id, l1);
    assert_eq!(rma.lines[0].quantity, 1);
    assert_eq!(rma.lines[0].reason, ReturnReason::Damaged);
    // Delivered again: reported as seen, no second RMA.
    let again = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(!again[0].new && again[0].rma.is_none());
    assert_eq!(engine.order(&order.id).unwrap().rmas.len(), 1);
}

#[test]
fn channel_reason_labels_map_to_reason_codes() {
    use ordersmith::returns::ReturnReason::*;
    use ordersmith_channels::intake::return_reason;
    for (text, reason) in [
        (Some("Beden uymadı"), WrongSize),
        (Some("WRONG_SIZE"), WrongSize),
        (Some("Damaged product"), Damaged),
        (Some("Ürün hasarlı geldi"), Damaged),
        (Some("DEFECTIVE_ITEM"), Defective),
        (Some("NOT_AS_DESCRIBED"), NotAsDescribed),
        (Some("Ürün açıklamadaki gibi değil"), NotAsDescribed),
        (Some("Vazgeçtim"), ChangedMind),
        (Some("Arrived too late"), LateDelivery),
        (Some("Kargo gecikti"), LateDelivery),
        (Some("something else"), Other),
        (None, Other),
    ] {
        assert_eq!(return_reason(text), reason, "{text:?}");
    }
}

/// An engine with `skus` (10 each at WH), each listed on `channel` by its SKU.
fn stocked(channel: &str, skus: &[(&str, &str)]) -> (Engine, MemoryIdentifierMap) {
    use ordersmith::ids::VariantId;
    use ordersmith_channels::mapping::Listing;
    let variants: Vec<&str> = skus.iter().map(|(variant, _)| *variant).collect();
    let engine = common::stocked_engine(&variants, Vec::new());
    let map = MemoryIdentifierMap::new();
    for (variant, sku) in skus {
        let listing = Listing {
            sku: Some((*sku).into()),
            ..Listing::default()
        };
        map.set_listing(channel, &VariantId::parse(*variant).unwrap(), listing)
            .unwrap();
    }
    (engine, map)
}

/// The order `intake` makes of the fixture at `path`.
fn imported(intake: &Intake<'_>, channel: Channel, path: &str) -> ordersmith::order::Order {
    intake
        .import_payload(channel, &fixture(path))
        .unwrap()
        .order
        .unwrap()
}

/// Ships and delivers `units` of the order's line `ext` (its channel line id).
fn deliver(engine: &Engine, order: &ordersmith::order::Order, ext: &str, units: u32) {
    use ordersmith::engine::CommandContext;
    use ordersmith::order::LineQuantity;
    let line = order
        .lines
        .iter()
        .find(|l| l.external_ref.as_deref() == Some(ext))
        .unwrap();
    let units = vec![LineQuantity::new(line.id.clone(), units)];
    let ctx = CommandContext::system();
    engine
        .record_shipment(&order.id, units.clone(), &ctx)
        .unwrap();
    engine.record_delivery(&order.id, units, &ctx).unwrap();
}

/// An eBay return names the listing (`itemId`, the order line's `legacyItemId`), not
/// the order line (`lineItemId`): it becomes an RMA on the line sold from that listing.
#[test]
fn an_ebay_return_becomes_an_rma_on_the_line_sold_from_its_listing() {
    let (engine, map) = stocked("ebay", &[("MUG", "MUG-RED"), ("PIN", "PIN")]);
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Ebay, "ebay/paid_promotion.json");
    // Line 10000000001 (MUG, listing 110000000001) delivered.
    deliver(&engine, &order, "10000000001", 3);
    let returns = fixture("claims/ebay_returns.json");
    let first = intake.import_events(Channel::Ebay, &returns).unwrap();
    assert_eq!(
        first[0].rma.as_deref(),
        Some("R1"),
        "{:?}",
        first[0].rma_failed
    );
    let after = engine.order(&order.id).unwrap();
    let rma = after.rma("R1").unwrap();
    let mug = after
        .lines
        .iter()
        .find(|l| l.external_ref.as_deref() == Some("10000000001"))
        .unwrap();
    assert_eq!((&rma.lines[0].line_id, rma.lines[0].quantity), (&mug.id, 1));
    assert_eq!(
        rma.lines[0].reason,
        ordersmith::returns::ReturnReason::NotAsDescribed
    );
    let again = intake.import_events(Channel::Ebay, &returns).unwrap();
    assert!(!again[0].new && again[0].rma.is_none() && again[0].rma_failed.is_none());
    assert_eq!(engine.order(&order.id).unwrap().rmas.len(), 1);
}

/// A claim that arrives before the delivery it returns is synced fails, and is asked
/// again on the feed's next delivery once the units are delivered (it was recorded as
/// done and never retried).
#[test]
fn a_claim_before_its_delivery_becomes_an_rma_once_delivered() {
    let (engine, map) = stocked("trendyol", &[("TEA", "TEA-500"), ("CUP", "CUP")]);
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Trendyol, "trendyol/new_names.json");
    let claims = fixture("claims/trendyol_claims.json");
    let early = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(early[0].new && early[0].rma.is_none());
    assert_eq!(
        early[0].rma_failed.as_ref().map(|f| f.code.as_str()),
        Some("RETURNS_NOT_RETURNABLE")
    );
    deliver(&engine, &order, "1001", 2);
    let later = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(!later[0].new, "reported once");
    assert_eq!(
        later[0].rma.as_deref(),
        Some("R1"),
        "{:?}",
        later[0].rma_failed
    );
    let again = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(again[0].rma.is_none() && again[0].rma_failed.is_none());
    assert_eq!(engine.order(&order.id).unwrap().rmas.len(), 1);
}

/// A return naming a listing the order was not sold from is refused for good: typed,
/// reported once, not asked again, and the order is untouched.
#[test]
fn an_ebay_return_of_another_listing_is_refused_for_good() {
    let (engine, map) = stocked("ebay", &[("MUG", "MUG-RED"), ("PIN", "PIN")]);
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Ebay, "ebay/paid_promotion.json");
    deliver(&engine, &order, "10000000001", 3);
    let version = engine.order(&order.id).unwrap().version;
    let returns = String::from_utf8(fixture("claims/ebay_returns.json"))
        .unwrap()
        .replace("110000000001", "119999999999");
    let first = intake
        .import_events(Channel::Ebay, returns.as_bytes())
        .unwrap();
    let failed = first[0].rma_failed.as_ref().unwrap();
    assert_eq!(failed.code, "RETURNS_UNKNOWN_LINE");
    assert!(
        failed.message.contains("119999999999"),
        "{}",
        failed.message
    );
    let again = intake
        .import_events(Channel::Ebay, returns.as_bytes())
        .unwrap();
    assert!(again[0].rma_failed.is_none() && again[0].rma.is_none());
    assert_eq!(engine.order(&order.id).unwrap().version, version);
}
