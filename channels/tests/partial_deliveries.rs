//! Channels that deliver an order in parts (a Trendyol shipment package, a Hepsiburada
//! status feed): a part says nothing of the lines it does not carry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::fixture;
use ordersmith::engine::Engine;
use ordersmith::ids::{LocationId, VariantId};
use ordersmith::order::{Order, OrderLine, OrderStatus};
use ordersmith_channels::intake::{ImportOutcome, Intake, IntakeOptions, MemoryIntakeLog};
use ordersmith_channels::mapping::{Listing, MemoryIdentifierMap};
use ordersmith_channels::Channel;

fn v(s: &str) -> VariantId {
    VariantId::parse(s).unwrap()
}

/// An engine with TEA and CUP (10 each at WH), listed on Trendyol and Hepsiburada by
/// SKU (`TEA-500`, `CUP`).
fn setup() -> (Engine, MemoryIdentifierMap, MemoryIntakeLog) {
    let engine = common::stocked_engine(&["TEA", "CUP"], Vec::new());
    let map = MemoryIdentifierMap::new();
    for channel in ["trendyol", "hepsiburada"] {
        for (var, sku) in [("TEA", "TEA-500"), ("CUP", "CUP")] {
            let listing = Listing {
                sku: Some(sku.into()),
                ..Listing::default()
            };
            map.set_listing(channel, &v(var), listing).unwrap();
        }
    }
    (engine, map, MemoryIntakeLog::default())
}

fn reserved(engine: &Engine, sku: &str) -> i64 {
    engine
        .with_stock(|l| {
            l.balance(&v(sku), &LocationId::parse("WH").unwrap())
                .reserved
        })
        .unwrap()
}

fn line<'a>(order: &'a Order, ext: &str) -> &'a OrderLine {
    order
        .lines
        .iter()
        .find(|l| l.external_ref.as_deref() == Some(ext))
        .unwrap()
}

/// Trendyol package `id` of order 10654411111 in `status`, last changed at `modified`
/// (epoch ms), holding one line: TEA (line 1001, 2 × 100) for package 1, CUP (line
/// 1002, 1 × 50) for package 2, CUP again (line 1003, 1 × 50) for package 3.
fn package(id: u32, status: &str, modified: u64) -> String {
    let (line, sku, quantity, price) = match id {
        1 => (1001, "TEA-500", 2, 100),
        2 => (1002, "CUP", 1, 50),
        _ => (1003, "CUP", 1, 50),
    };
    let total = quantity * price;
    format!(
        r#"{{"shipmentPackageId": 333000000{id}, "orderNumber": "10654411111", "orderDate": 1763645400000,
  "lastModifiedDate": {modified}, "currencyCode": "TRY", "shipmentPackageStatus": "{status}",
  "packageTotalPrice": {total}, "packageSellerDiscount": 0, "packageTyDiscount": 0,
  "lines": [{{"lineId": {line}, "stockCode": "{sku}", "quantity": {quantity},
             "lineGrossAmount": {price}, "lineSellerDiscount": 0, "lineTyDiscount": 0, "vatRate": 20}}]}}"#
    )
}

/// One package of a two-package Trendyol order cancelled (`Cancelled` or
/// `UnSupplied`) on its own cancels that package's units only: the other package's
/// line stays live and reserved, the order stays confirmed.
#[test]
fn a_cancelled_trendyol_package_cancels_only_its_own_lines() {
    for status in ["Cancelled", "UnSupplied"] {
        let (engine, map, log) = setup();
        let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
        let both = format!(
            "[{}, {}]",
            package(1, "Created", 1_000),
            package(2, "Created", 1_000)
        );
        let created = intake
            .import_payload(Channel::Trendyol, both.as_bytes())
            .unwrap();
        assert_eq!(created.outcome, ImportOutcome::Created);
        assert_eq!((reserved(&engine, "TEA"), reserved(&engine, "CUP")), (2, 1));

        let r = intake
            .import_payload(Channel::Trendyol, package(2, status, 2_000).as_bytes())
            .unwrap();
        assert!(r.failed.is_empty(), "{status}: {:?}", r.failed);
        let order = r.order.unwrap();
        assert_eq!(order.status, OrderStatus::Confirmed, "{status}");
        assert_eq!(line(&order, "1002").active_quantity(), 0, "{status}");
        assert_eq!(line(&order, "1001").active_quantity(), 2, "{status}");
        assert_eq!(
            (reserved(&engine, "TEA"), reserved(&engine, "CUP")),
            (2, 0),
            "{status}"
        );

        // The other package cancelled too: now every line is, and so is the order.
        let r = intake
            .import_payload(Channel::Trendyol, package(1, status, 3_000).as_bytes())
            .unwrap();
        assert_eq!(r.order.unwrap().status, OrderStatus::Cancelled, "{status}");
        assert_eq!((reserved(&engine, "TEA"), reserved(&engine, "CUP")), (0, 0));
    }
}

/// After one package shipped, another package's cancellation cancels its own units,
/// not every open unit of the order (here a third package's).
#[test]
fn a_cancelled_trendyol_package_after_a_shipment_leaves_the_other_packages_open() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let all = format!(
        "[{}, {}, {}]",
        package(1, "Created", 1_000),
        package(2, "Created", 1_000),
        package(3, "Created", 1_000)
    );
    intake
        .import_payload(Channel::Trendyol, all.as_bytes())
        .unwrap();
    assert_eq!(reserved(&engine, "CUP"), 2);
    let shipped = intake
        .import_payload(Channel::Trendyol, package(1, "Shipped", 2_000).as_bytes())
        .unwrap();
    assert_eq!(shipped.order.unwrap().status, OrderStatus::Processing);
    let r = intake
        .import_payload(Channel::Trendyol, package(2, "Cancelled", 3_000).as_bytes())
        .unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    let order = r.order.unwrap();
    assert_eq!(line(&order, "1002").active_quantity(), 0);
    assert_eq!(line(&order, "1003").open_quantity(), 1, "{:?}", r.applied);
    assert_eq!(line(&order, "1001").fulfilment.shipped, 2);
    assert_eq!(reserved(&engine, "CUP"), 1);
    assert_eq!(order.status, OrderStatus::Processing);
}

/// Hepsiburada line items of the cancelled feed carry only the cancelled line: the
/// order's other line stays live.
#[test]
fn a_hepsiburada_cancelled_line_cancels_only_that_line() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    // Both lines open (the fixture's in-transit record of TEA left out).
    let open = String::from_utf8(fixture("hepsiburada/merged_feeds.json")).unwrap();
    let open = match open.find(",\n  {\"Id\"") {
        Some(at) => format!("{}]}}", &open[..at]),
        None => panic!("the fixture's in-transit record moved"),
    };
    let created = intake
        .import_payload(Channel::Hepsiburada, open.as_bytes())
        .unwrap();
    assert_eq!(created.outcome, ImportOutcome::Created);
    assert!(created.unmapped.is_empty(), "{:?}", created.unmapped);
    let cancelled = br#"{"items": [
      {"id": "5f1c2a9e-0000-4000-8000-000000000002", "orderNumber": "4000000001", "orderDate": "2026-11-20T13:30:00Z",
       "merchantSKU": "CUP", "sku": "HBV00000CUP01", "quantity": 1,
       "unitPrice": {"currency": "TRY", "amount": 50}, "totalPrice": {"currency": "TRY", "amount": 50},
       "vatRate": 0.2, "status": "CancelledByCustomer"}]}"#;
    let r = intake
        .import_payload(Channel::Hepsiburada, cancelled)
        .unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    let order = r.order.unwrap();
    assert_ne!(order.status, OrderStatus::Cancelled);
    assert_eq!(
        line(&order, "5f1c2a9e-0000-4000-8000-000000000002").active_quantity(),
        0
    );
    let tea = line(&order, "5f1c2a9e-0000-4000-8000-000000000001");
    assert_eq!(tea.open_quantity(), 2);
    assert_eq!((reserved(&engine, "TEA"), reserved(&engine, "CUP")), (2, 0));
}

/// Staleness is per package: package 2 changed at 1000 arriving before package 1
/// changed at 999 does not make package 1 stale: its line is added and reserved. The
/// same package again with an older change is stale.
#[test]
fn a_trendyol_package_arriving_after_a_newer_package_is_applied() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let first = intake
        .import_payload(Channel::Trendyol, package(2, "Created", 1_000).as_bytes())
        .unwrap();
    assert_eq!(first.outcome, ImportOutcome::Created);
    assert_eq!((reserved(&engine, "TEA"), reserved(&engine, "CUP")), (0, 1));
    let r = intake
        .import_payload(Channel::Trendyol, package(1, "Created", 999).as_bytes())
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::Updated, "{:?}", r.stale_reason);
    assert_eq!(line(r.order.as_ref().unwrap(), "1001").active_quantity(), 2);
    assert_eq!((reserved(&engine, "TEA"), reserved(&engine, "CUP")), (2, 1));
    // Package 1 shipped at 1500; its Created state (999) arriving late is stale.
    intake
        .import_payload(Channel::Trendyol, package(1, "Shipped", 1_500).as_bytes())
        .unwrap();
    let late = intake
        .import_payload(Channel::Trendyol, package(1, "Created", 999).as_bytes())
        .unwrap();
    assert_eq!(late.outcome, ImportOutcome::Stale);
    assert!(late.stale_reason.unwrap().contains("3330000001"));
}

/// Hepsiburada has no change time: a line's cancellation (the furthest stage) must
/// not make later feeds of the order's other lines stale.
#[test]
fn a_hepsiburada_feed_after_a_cancelled_line_is_applied() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let record = |id: u8, sku: &str, quantity: u32, price: u32, status: &str| {
        format!(
            r#"{{"id": "5f1c2a9e-0000-4000-8000-00000000000{id}", "orderNumber": "4000000001",
  "orderDate": "2026-11-20T13:30:00Z", "merchantSku": "{sku}", "quantity": {quantity},
  "unitPrice": {{"currency": "TRY", "amount": {price}}}, "vatRate": 20, "status": "{status}"}}"#
        )
    };
    let body = |records: &[String]| format!("{{\"items\": [{}]}}", records.join(","));
    let both = body(&[
        record(1, "TEA-500", 2, 90, "Open"),
        record(2, "CUP", 1, 50, "Open"),
    ]);
    intake
        .import_payload(Channel::Hepsiburada, both.as_bytes())
        .unwrap();
    let cancelled = body(&[record(2, "CUP", 1, 50, "Cancelled")]);
    intake
        .import_payload(Channel::Hepsiburada, cancelled.as_bytes())
        .unwrap();
    let in_transit = body(&[record(1, "TEA-500", 2, 90, "InTransit")]);
    let r = intake
        .import_payload(Channel::Hepsiburada, in_transit.as_bytes())
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::Updated, "{:?}", r.stale_reason);
    let order = r.order.unwrap();
    assert_eq!(
        line(&order, "5f1c2a9e-0000-4000-8000-000000000001")
            .fulfilment
            .shipped,
        2
    );
    // The cancelled line's old `Open` record arriving late is behind: stale.
    let late = body(&[record(2, "CUP", 1, 50, "Open")]);
    let r = intake
        .import_payload(Channel::Hepsiburada, late.as_bytes())
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::Stale);
}
