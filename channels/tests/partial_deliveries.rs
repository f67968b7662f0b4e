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
use ordersmith_channels::intake::{
    ImportOutcome, Intake, IntakeLog, IntakeOptions, LineChangeBlocked, LineChangeKind,
    MemoryIntakeLog,
};
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

/// Trendyol package `id` of order 10654411111 in `status`, last changed at `modified`
/// (epoch ms), holding `units` of TEA (line 1001, 100 each): one package of line 1001
/// split across packages. `origin` is the package it was split from
/// (`originPackageIds`), when it says.
fn split(id: u32, status: &str, modified: u64, units: u32, origin: Option<u32>) -> String {
    let total = units * 100;
    let origin = origin
        .map(|o| format!(r#", "originPackageIds": [333000000{o}]"#))
        .unwrap_or_default();
    format!(
        r#"{{"shipmentPackageId": 333000000{id}, "orderNumber": "10654411111", "orderDate": 1763645400000,
  "lastModifiedDate": {modified}, "currencyCode": "TRY", "shipmentPackageStatus": "{status}",
  "packageTotalPrice": {total}, "packageSellerDiscount": 0, "packageTyDiscount": 0{origin},
  "lines": [{{"lineId": 1001, "stockCode": "TEA-500", "quantity": {units},
             "lineGrossAmount": 100, "lineSellerDiscount": 0, "lineTyDiscount": 0, "vatRate": 20}}]}}"#
    )
}

fn deliver(intake: &Intake<'_>, body: &str) -> ordersmith_channels::intake::ImportReport {
    let r = intake
        .import_payload(Channel::Trendyol, body.as_bytes())
        .unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    r
}

/// Line 1001 (2 units) is packed in package 1, which is then split (`UnPacked`) into
/// packages 4 and 5 of one unit each. Each package's news arrives on its own: the line
/// is shipped, delivered and returned by the sum over its packages, not by the last
/// package's units alone, and a package delivered twice changes nothing the second
/// time.
#[test]
fn a_trendyol_line_split_across_packages_delivered_one_per_call_counts_every_package() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let created = deliver(&intake, &split(1, "Created", 1_000, 2, None));
    assert_eq!(created.outcome, ImportOutcome::Created);
    assert_eq!(reserved(&engine, "TEA"), 2);
    deliver(&intake, &split(1, "UnPacked", 2_000, 2, None));
    deliver(&intake, &split(4, "Created", 2_000, 1, Some(1)));
    deliver(&intake, &split(5, "Created", 2_000, 1, Some(1)));
    let tea = |r: &ordersmith_channels::intake::ImportReport| {
        line(r.order.as_ref().unwrap(), "1001").clone()
    };

    let r = deliver(&intake, &split(4, "Shipped", 3_000, 1, Some(1)));
    assert_eq!((tea(&r).quantity, tea(&r).fulfilment.shipped), (2, 1));
    let r = deliver(&intake, &split(5, "Shipped", 3_100, 1, Some(1)));
    assert_eq!(tea(&r).fulfilment.shipped, 2, "{:?}", r.applied);
    assert_eq!(tea(&r).open_quantity(), 0);

    deliver(&intake, &split(4, "Delivered", 4_000, 1, Some(1)));
    let r = deliver(&intake, &split(5, "Delivered", 4_100, 1, Some(1)));
    assert_eq!(tea(&r).fulfilment.delivered, 2, "{:?}", r.applied);
    assert_eq!(tea(&r).quantity, 2);

    // The same package again: nothing to do.
    let again = deliver(&intake, &split(5, "Delivered", 4_100, 1, Some(1)));
    assert_eq!(
        again.outcome,
        ImportOutcome::Unchanged,
        "{:?}",
        again.applied
    );
    assert!(again.applied.is_empty() && again.line_changes.is_empty());
    assert_eq!(tea(&again), tea(&r));

    deliver(&intake, &split(5, "Returned", 5_000, 1, Some(1)));
    let r = deliver(&intake, &split(4, "Returned", 5_100, 1, Some(1)));
    assert_eq!(tea(&r).fulfilment.returned, 2, "{:?}", r.applied);
}

/// A package made by a split arriving before its origin's `UnPacked` news: the origin,
/// named in `originPackageIds`, no longer counts, so its units are not counted twice.
#[test]
fn a_split_package_arriving_before_its_origin_is_unpacked_does_not_count_the_origin() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    deliver(&intake, &split(1, "Created", 1_000, 2, None));
    let r = deliver(&intake, &split(4, "Picking", 2_000, 1, Some(1)));
    assert!(r.line_changes.is_empty(), "{:?}", r.line_changes);
    let r = deliver(&intake, &split(5, "Shipped", 3_000, 1, Some(1)));
    assert!(r.line_changes.is_empty(), "{:?}", r.line_changes);
    assert_eq!(line(r.order.as_ref().unwrap(), "1001").quantity, 2);
    // The origin's own `UnPacked` news, late: still two units.
    let r = deliver(&intake, &split(1, "UnPacked", 2_000, 2, None));
    assert!(r.line_changes.is_empty(), "{:?}", r.line_changes);
    let tea = line(r.order.as_ref().unwrap(), "1001");
    assert_eq!((tea.quantity, tea.fulfilment.shipped), (2, 1));
    assert_eq!(reserved(&engine, "TEA"), 1);
}

/// One package of a split line cancelled alone cancels its own units only; the other
/// package cancelled later cancels the rest, and then the order.
#[test]
fn one_cancelled_package_of_a_split_trendyol_line_cancels_only_its_units() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let both = format!(
        "[{}, {}]",
        split(4, "Created", 1_000, 1, None),
        split(5, "Created", 1_000, 1, None)
    );
    let created = deliver(&intake, &both);
    assert_eq!(line(created.order.as_ref().unwrap(), "1001").quantity, 2);
    assert_eq!(reserved(&engine, "TEA"), 2);

    let r = deliver(&intake, &split(4, "Cancelled", 2_000, 1, None));
    let order = r.order.unwrap();
    assert_eq!(line(&order, "1001").fulfilment.cancelled, 1);
    assert_eq!(line(&order, "1001").active_quantity(), 1);
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(reserved(&engine, "TEA"), 1);

    let r = deliver(&intake, &split(5, "Cancelled", 3_000, 1, None));
    let order = r.order.unwrap();
    assert_eq!(
        line(&order, "1001").fulfilment.cancelled,
        2,
        "{:?}",
        r.applied
    );
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(reserved(&engine, "TEA"), 0);
}

/// An order first seen through one package of a split line (1 of its 2 units): the
/// other package, arriving later, raises the line to both packages' units through
/// `edit_order` (reserved like the rest), reported as a quantity increase.
#[test]
fn an_order_first_seen_through_one_split_package_grows_when_the_other_arrives() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let created = deliver(&intake, &split(4, "Created", 2_000, 1, Some(1)));
    assert_eq!(line(created.order.as_ref().unwrap(), "1001").quantity, 1);
    assert_eq!(reserved(&engine, "TEA"), 1);

    let r = deliver(&intake, &split(5, "Created", 2_000, 1, Some(1)));
    assert_eq!(r.outcome, ImportOutcome::Updated);
    assert_eq!(r.line_changes.len(), 1, "{:?}", r.line_changes);
    let change = &r.line_changes[0];
    assert_eq!(change.kind, LineChangeKind::QuantityIncreased);
    assert_eq!((change.from, change.to, change.applied), (1, 2, true));
    assert_eq!(line(r.order.as_ref().unwrap(), "1001").quantity, 2);
    assert_eq!(reserved(&engine, "TEA"), 2);

    deliver(&intake, &split(5, "Shipped", 3_000, 1, Some(1)));
    let r = deliver(&intake, &split(4, "Shipped", 3_000, 1, Some(1)));
    let tea = line(r.order.as_ref().unwrap(), "1001");
    assert_eq!((tea.fulfilment.shipped, tea.open_quantity()), (2, 0));
}

/// The same, once the first package has shipped: the engine edits no order being
/// fulfilled, so the raise is reported refused (with its code) and left; nothing else
/// of the delivery is lost.
#[test]
fn a_split_package_arriving_after_the_order_shipped_reports_the_refused_raise() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    deliver(&intake, &split(4, "Shipped", 3_000, 1, Some(1)));
    let r = intake
        .import_payload(
            Channel::Trendyol,
            split(5, "Created", 2_000, 1, Some(1)).as_bytes(),
        )
        .unwrap();
    assert_eq!(r.line_changes.len(), 1, "{:?}", r.line_changes);
    let change = &r.line_changes[0];
    assert_eq!(change.kind, LineChangeKind::QuantityIncreased);
    assert_eq!((change.from, change.to, change.applied), (1, 2, false));
    assert!(
        matches!(change.blocked, Some(LineChangeBlocked::Refused { .. })),
        "{change:?}"
    );
    let tea = line(r.order.as_ref().unwrap(), "1001");
    assert_eq!((tea.quantity, tea.fulfilment.shipped), (1, 1));
}

/// Two packages of a line that name no origin (`originPackageIds` absent): while one
/// of them is not shipped, the other may have been made from it (its `UnPacked` news
/// not arrived yet: the case `intake.rs`
/// `trendyol_packages_delivered_one_at_a_time_are_not_removals` has), so the line's
/// units are not raised by their sum; their stages still add up, capped at the line's
/// units. Once both shipped, neither can be the other's origin (Trendyol splits only
/// packages not shipped): the raise is asked for, and refused by an order that has
/// started shipping, which the report says.
#[test]
fn split_packages_naming_no_origin_raise_the_line_only_once_both_shipped() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    deliver(&intake, &split(4, "Created", 2_000, 1, None));
    let r = deliver(&intake, &split(5, "Created", 2_000, 1, None));
    assert!(r.line_changes.is_empty(), "{:?}", r.line_changes);
    assert_eq!(line(r.order.as_ref().unwrap(), "1001").quantity, 1);
    let r = deliver(&intake, &split(5, "Shipped", 3_000, 1, None));
    assert!(r.line_changes.is_empty(), "{:?}", r.line_changes);
    let tea = line(r.order.as_ref().unwrap(), "1001");
    assert_eq!((tea.quantity, tea.fulfilment.shipped), (1, 1));

    let r = intake
        .import_payload(
            Channel::Trendyol,
            split(4, "Shipped", 3_000, 1, None).as_bytes(),
        )
        .unwrap();
    assert_eq!(r.line_changes.len(), 1, "{:?}", r.line_changes);
    let change = &r.line_changes[0];
    assert_eq!((change.from, change.to, change.applied), (1, 2, false));
    assert!(
        matches!(change.blocked, Some(LineChangeBlocked::Refused { .. })),
        "{change:?}"
    );
    let tea = line(r.order.as_ref().unwrap(), "1001");
    assert_eq!((tea.quantity, tea.fulfilment.shipped), (1, 1));
}

/// A delivery of several packages, one of them stale (older than the reading applied):
/// that package counts at the reading applied, not at the stale one.
#[test]
fn a_stale_package_in_a_delivery_counts_at_its_newest_reading() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let both = |a: String, b: String| format!("[{a}, {b}]");
    deliver(
        &intake,
        &both(
            split(4, "Created", 1_000, 1, Some(1)),
            split(5, "Created", 1_000, 1, Some(1)),
        ),
    );
    deliver(&intake, &split(4, "Shipped", 3_000, 1, Some(1)));
    let r = deliver(
        &intake,
        &both(
            split(4, "Created", 1_000, 1, Some(1)),
            split(5, "Shipped", 3_000, 1, Some(1)),
        ),
    );
    let tea = line(r.order.as_ref().unwrap(), "1001");
    assert_eq!(
        (tea.quantity, tea.fulfilment.shipped),
        (2, 2),
        "{:?}",
        r.applied
    );
}

/// A line's units adding up across packages delivered apart beyond a `u32` are refused
/// as an invalid quantity, and nothing changes: not the order, not the log.
#[test]
fn units_adding_up_across_deliveries_beyond_a_u32_are_refused_and_change_nothing() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let created = deliver(&intake, &split(4, "Created", 1_000, 1, Some(1)));
    let before = created.order.unwrap();
    let seen = log.get("trendyol", "10654411111").unwrap();
    let huge = split(5, "Created", 2_000, 1, Some(1))
        .replace(r#""quantity": 1,"#, r#""quantity": 4294967295,"#);
    let err = intake
        .import_payload(Channel::Trendyol, huge.as_bytes())
        .unwrap_err();
    assert_eq!(err.code(), "CHANNEL_INVALID_QUANTITY", "{err}");
    assert_eq!(engine.order(&before.id).unwrap(), before);
    assert_eq!(log.get("trendyol", "10654411111").unwrap(), seen);
    assert_eq!(reserved(&engine, "TEA"), 1);
}

/// A log record written before parts kept their lines: those parts count for nothing
/// in a line's sums (the line is judged as before) until they are delivered again.
#[test]
fn parts_logged_without_their_lines_count_once_delivered_again() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let both = format!(
        "[{}, {}]",
        split(4, "Created", 1_000, 1, Some(1)),
        split(5, "Created", 1_000, 1, Some(1))
    );
    deliver(&intake, &both);
    deliver(&intake, &split(4, "Shipped", 2_000, 1, Some(1)));
    // As a record from before: no part's lines.
    let mut seen = log.get("trendyol", "10654411111").unwrap().unwrap();
    for part in seen.parts.values_mut() {
        part.lines = None;
    }
    log.put("trendyol", "10654411111", seen).unwrap();

    let r = deliver(&intake, &split(5, "Shipped", 3_000, 1, Some(1)));
    assert_eq!(
        line(r.order.as_ref().unwrap(), "1001").fulfilment.shipped,
        1
    );
    // Package 4 delivered again: its lines are known, and both packages count.
    let r = deliver(&intake, &split(4, "Delivered", 4_000, 1, Some(1)));
    let tea = line(r.order.as_ref().unwrap(), "1001");
    assert_eq!((tea.fulfilment.shipped, tea.fulfilment.delivered), (2, 1));
}

/// `package(id, status, modified)` with `packageHistories` listing `history` (the
/// package's statuses, oldest first).
fn with_history(body: &str, history: &[&str]) -> String {
    let entries: Vec<String> = history
        .iter()
        .enumerate()
        .map(|(k, s)| format!(r#"{{"createdDate": {}, "status": "{s}"}}"#, 1_000 + k))
        .collect();
    body.replacen(
        r#""lines": ["#,
        &format!(
            r#""packageHistories": [{}], "lines": ["#,
            entries.join(", ")
        ),
        1,
    )
}

/// A Trendyol package `Awaiting` (reserved for a payment not taken yet, CHANNELS.md
/// §3) that is then `Cancelled` was never paid: the order is cancelled, not paid,
/// whether or not the cancelled package lists its history.
#[test]
fn a_trendyol_package_cancelled_while_awaiting_payment_is_cancelled_unpaid() {
    for history in [None, Some(&["Awaiting", "Cancelled"][..])] {
        let (engine, map, log) = setup();
        let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
        let awaiting = deliver(&intake, &package(1, "Awaiting", 1_000));
        let order = awaiting.order.unwrap();
        assert_eq!(order.status, OrderStatus::Pending);
        assert!(order.amount_paid.is_zero());
        let cancelled = package(1, "Cancelled", 2_000);
        let cancelled = match history {
            Some(h) => with_history(&cancelled, h),
            None => cancelled,
        };
        let r = deliver(&intake, &cancelled);
        let order = r.order.unwrap();
        assert_eq!(order.status, OrderStatus::Cancelled, "{history:?}");
        assert!(
            !r.applied.iter().any(|s| s == "mark_paid"),
            "{history:?}: {:?}",
            r.applied
        );
        assert!(order.amount_paid.is_zero(), "{history:?}");
        assert_eq!(reserved(&engine, "TEA"), 0);
    }
}

/// A package cancelled after it was `Created` (paid) keeps what it had: the order was
/// paid on `Created` and is cancelled with its payment on record.
#[test]
fn a_trendyol_package_cancelled_after_payment_stays_paid() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let created = deliver(&intake, &package(1, "Created", 1_000));
    assert_eq!(created.applied, vec!["place", "mark_paid", "confirm"]);
    let r = deliver(&intake, &package(1, "Cancelled", 2_000));
    let order = r.order.unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.amount_paid.amount(), common::d("200"));
    assert_eq!(reserved(&engine, "TEA"), 0);
}

/// A Trendyol order first seen already cancelled is paid only when its package history
/// says it got past `Awaiting` (payment taken); with no history, nothing says it was
/// paid and it is recorded cancelled and unpaid.
#[test]
fn a_trendyol_order_first_seen_cancelled_is_paid_only_when_its_history_says_so() {
    let cases: [(&str, Option<&[&str]>, bool); 4] = [
        ("Cancelled", None, false),
        ("Cancelled", Some(&["Awaiting", "Cancelled"]), false),
        ("Cancelled", Some(&["Created", "Cancelled"]), true),
        (
            "UnSupplied",
            Some(&["Awaiting", "Created", "Picking", "UnSupplied"]),
            true,
        ),
    ];
    for (status, history, paid) in cases {
        let (engine, map, log) = setup();
        let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
        let body = package(1, status, 2_000);
        let body = match history {
            Some(h) => with_history(&body, h),
            None => body,
        };
        let parsed = ordersmith_channels::parse_order(Channel::Trendyol, body.as_bytes()).unwrap();
        assert_eq!(parsed.status.paid, paid, "{history:?}");
        let r = deliver(&intake, &body);
        let order = r.order.unwrap();
        assert_eq!(order.status, OrderStatus::Cancelled, "{history:?}");
        assert_eq!(
            r.applied.iter().any(|s| s == "mark_paid"),
            paid,
            "{history:?}: {:?}",
            r.applied
        );
        assert_eq!(!order.amount_paid.is_zero(), paid, "{history:?}");
    }
}

/// A malformed package history is refused with a typed error and changes nothing.
#[test]
fn a_malformed_trendyol_package_history_is_refused() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    deliver(&intake, &package(1, "Awaiting", 1_000));
    let before = log.get("trendyol", "10654411111").unwrap();
    for bad in [
        r#""packageHistories": {"status": "Created"}, "lines": ["#,
        r#""packageHistories": [{"createdDate": 1}], "lines": ["#,
        r#""packageHistories": [{"status": 7}], "lines": ["#,
    ] {
        let body = package(1, "Cancelled", 2_000).replacen(r#""lines": ["#, bad, 1);
        let err = intake
            .import_payload(Channel::Trendyol, body.as_bytes())
            .unwrap_err();
        assert!(err.code().starts_with("CHANNEL_"), "{bad}: {err}");
        assert!(err.to_string().contains("packageHistories"), "{bad}: {err}");
    }
    assert_eq!(log.get("trendyol", "10654411111").unwrap(), before);
    let order = engine.order(&before.unwrap().order_id).unwrap();
    assert_eq!(order.status, OrderStatus::Pending);
    assert!(order.amount_paid.is_zero());
}

/// One Hepsiburada line item of order 4000000001: TEA (line `…001`, 2 × 90).
fn hb_record(status: &str) -> String {
    format!(
        r#"{{"id": "5f1c2a9e-0000-4000-8000-000000000001", "orderNumber": "4000000001",
  "orderDate": "2026-11-20T13:30:00Z", "merchantSku": "TEA-500", "quantity": 2,
  "unitPrice": {{"currency": "TRY", "amount": 90}}, "vatRate": 20, "status": "{status}"}}"#
    )
}

/// A Hepsiburada line from the payment-awaiting feed that is then cancelled was never
/// paid: the order is cancelled, not paid, whether the cancelled feed's record comes
/// alone or merged with the payment-awaiting one. A line seen paid (`Open`) and then
/// cancelled keeps today's reading: paid.
#[test]
fn a_hepsiburada_line_cancelled_while_awaiting_payment_is_cancelled_unpaid() {
    let body = |records: &[&str]| {
        let records: Vec<String> = records.iter().map(|s| hb_record(s)).collect();
        format!("{{\"items\": [{}]}}", records.join(","))
    };
    for second in [
        body(&["Cancelled"]),
        body(&["PaymentAwaiting", "CancelledByCustomer"]),
    ] {
        let (engine, map, log) = setup();
        let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
        let first = intake
            .import_payload(Channel::Hepsiburada, body(&["PaymentAwaiting"]).as_bytes())
            .unwrap();
        assert_eq!(first.order.unwrap().status, OrderStatus::Pending);
        let r = intake
            .import_payload(Channel::Hepsiburada, second.as_bytes())
            .unwrap();
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        let order = r.order.unwrap();
        assert_eq!(order.status, OrderStatus::Cancelled);
        assert!(
            !r.applied.iter().any(|s| s == "mark_paid"),
            "{:?}",
            r.applied
        );
        assert!(order.amount_paid.is_zero());
    }
    // First seen cancelled: paid only when a record of the line was in a paid feed.
    for (records, paid) in [
        (&["Cancelled"][..], false),
        (&["PaymentAwaiting", "Cancelled"][..], false),
        (&["Open", "Cancelled"][..], true),
    ] {
        let parsed =
            ordersmith_channels::parse_order(Channel::Hepsiburada, body(records).as_bytes())
                .unwrap();
        assert_eq!(
            parsed.status.lifecycle,
            ordersmith_channels::Lifecycle::Cancelled
        );
        assert_eq!(parsed.status.paid, paid, "{records:?}");
    }
    // Paid first, then cancelled: paid, and cancelled.
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_payload(Channel::Hepsiburada, body(&["Open"]).as_bytes())
        .unwrap();
    let r = intake
        .import_payload(Channel::Hepsiburada, body(&["Cancelled"]).as_bytes())
        .unwrap();
    let order = r.order.unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.amount_paid.amount(), common::d("180"));
}
