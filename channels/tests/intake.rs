//! Idempotent intake through the engine: duplicates, status updates through the state
//! machine, stale updates, unmapped SKUs, test orders, refunds, stock reservations, and
//! the stock-out round trip through the ledger.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::Utc;
use common::{d, fixture};
use ordersmith::engine::Engine;
use ordersmith::ids::{ChannelId, LineId, LocationId, VariantId};
use ordersmith::order::{HoldReason, OrderStatus, PaymentStatus};
use ordersmith::stock::{ChannelRule, StockCommand};
use ordersmith_channels::intake::{
    self, ImportOutcome, Intake, IntakeLog, IntakeOptions, LineChange, LineChangeBlocked,
    LineChangeKind, MemoryIntakeLog,
};
use ordersmith_channels::mapping::{Listing, MemoryIdentifierMap};
use ordersmith_channels::push::{PushAccount, PushTarget, StockPushPlanner};
use ordersmith_channels::{parse_order, Channel, DiscountBasis};
use rust_decimal::Decimal;

fn v(s: &str) -> VariantId {
    VariantId::parse(s).unwrap()
}

/// An engine with TEA, CUP and MUG (10 each at WH) and the channels' listings.
fn setup() -> (Engine, MemoryIdentifierMap, MemoryIntakeLog) {
    let engine = common::stocked_engine(
        &["TEA", "CUP", "MUG", "TEE", "PIN"],
        vec![StockCommand::SetChannelRule {
            channel: ChannelId::parse("trendyol").unwrap(),
            rule: ChannelRule {
                share_percent: 50,
                buffer: 1,
                locations: None,
            },
        }],
    );
    let map = MemoryIdentifierMap::new();
    let list =
        |ch: &str, var: &str, sku: Option<&str>, barcode: Option<&str>, vid: Option<&str>| {
            map.set_listing(
                ch,
                &v(var),
                Listing {
                    sku: sku.map(str::to_string),
                    barcode: barcode.map(str::to_string),
                    variant_id: vid.map(str::to_string),
                    ..Listing::default()
                },
            )
            .unwrap();
        };
    list(
        "trendyol",
        "TEA",
        Some("TEA-500"),
        Some("8690000000011"),
        None,
    );
    list("trendyol", "CUP", Some("CUP"), Some("8690000000028"), None);
    list(
        "shopify",
        "MUG",
        Some("MUG-RED"),
        None,
        Some("40000000000000001"),
    );
    list("shopify", "TEE", None, None, Some("40000000000000002"));
    list("shopify", "PIN", Some("PIN"), None, None);
    list("ebay", "MUG", Some("MUG-RED"), None, None);
    list("ebay", "PIN", Some("PIN"), None, None);
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

#[test]
fn the_same_order_twice_is_one_order_and_reserves_like_any_other() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let first = intake
        .import_payload(Channel::Trendyol, &fixture("trendyol/new_names.json"))
        .unwrap();
    assert_eq!(first.outcome, ImportOutcome::Created);
    assert_eq!(first.applied, vec!["place", "mark_paid", "confirm"]);
    assert_eq!(
        first.dedupe_key,
        ("trendyol".to_string(), "10654411111".to_string())
    );
    let order = first.order.clone().unwrap();
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(order.payment_status(), PaymentStatus::Paid);
    assert_eq!(order.totals().unwrap().total.amount(), d("235"));
    assert_eq!(first.total_difference, None);
    assert!(!first.content_changed);
    assert_eq!((reserved(&engine, "TEA"), reserved(&engine, "CUP")), (2, 1));
    let again = intake
        .import_payload(Channel::Trendyol, &fixture("trendyol/new_names.json"))
        .unwrap();
    assert_eq!(again.outcome, ImportOutcome::Unchanged);
    assert_eq!(again.order.unwrap().id, order.id);
    assert_eq!(reserved(&engine, "TEA"), 2);
    // The old field names are the same order.
    let old = intake
        .import_payload(Channel::Trendyol, &fixture("trendyol/old_names.json"))
        .unwrap();
    assert_eq!(old.outcome, ImportOutcome::Unchanged);
    assert_eq!(engine.list_orders(&Default::default()).unwrap().len(), 1);
}

#[test]
fn a_newer_status_updates_in_place_and_an_older_one_is_ignored() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let created = intake
        .import_payload(Channel::Trendyol, &fixture("trendyol/new_names.json"))
        .unwrap();
    let id = created.order.unwrap().id;
    // Split into packages, one shipped.
    let split = intake
        .import_payload(Channel::Trendyol, &fixture("trendyol/split_packages.json"))
        .unwrap();
    assert_eq!(split.outcome, ImportOutcome::Updated);
    assert_eq!(split.applied, vec!["ship L1x1"]);
    assert!(
        split.content_changed,
        "the package feed carries no product names"
    );
    let order = split.order.unwrap();
    assert_eq!(order.id, id);
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.lines[0].fulfilment.shipped, 1);
    assert_eq!(reserved(&engine, "TEA"), 1); // the shipped unit left the reservation
                                             // The Created package delivered late: older than what was applied.
    let stale = intake
        .import_payload(Channel::Trendyol, &fixture("trendyol/new_names.json"))
        .unwrap();
    assert_eq!(stale.outcome, ImportOutcome::Stale);
    assert!(stale.stale_reason.unwrap().contains("older"));
    assert_eq!(engine.order(&id).unwrap().lines[0].fulfilment.shipped, 1);
    assert_eq!(
        engine.order_history(&id).unwrap().len(),
        order.version as usize
    );
}

#[test]
fn without_timestamps_a_status_behind_the_stored_one_is_stale() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let text = String::from_utf8(fixture("ebay/paid_promotion.json"))
        .unwrap()
        .replace("\"lastModifiedDate\": \"2026-11-21T09:00:00.000Z\",", "");
    let created = intake
        .import_payload(Channel::Ebay, text.as_bytes())
        .unwrap();
    assert_eq!(created.outcome, ImportOutcome::Created);
    assert_eq!(
        created.applied,
        vec!["place", "mark_paid", "confirm", "ship L2x1"]
    );
    assert_eq!(created.total_difference, None);
    let behind = text.replace(
        "\"orderPaymentStatus\": \"PAID\"",
        "\"orderPaymentStatus\": \"PENDING\"",
    );
    let stale = intake
        .import_payload(Channel::Ebay, behind.as_bytes())
        .unwrap();
    assert_eq!(stale.outcome, ImportOutcome::Stale);
}

#[test]
fn unmapped_sku_puts_the_order_on_hold_instead_of_failing() {
    let (engine, _, log) = setup();
    let empty = MemoryIdentifierMap::new();
    let intake = Intake::new(&engine, &empty, &log, IntakeOptions::default());
    let r = intake
        .import_payload(Channel::Trendyol, &fixture("trendyol/new_names.json"))
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::Created);
    assert_eq!(r.unmapped, vec!["TEA-500".to_string(), "CUP".to_string()]);
    let order = r.order.unwrap();
    assert_eq!(order.status, OrderStatus::OnHold);
    assert_eq!(order.hold.as_ref().unwrap().reason, HoldReason::UnmappedSku);
    assert_eq!(order.lines[0].variant.as_str(), "UNMAPPED:TEA-500");
    // Paid is recorded; confirming waits for the hold.
    assert_eq!(order.payment_status(), PaymentStatus::Paid);
    assert_eq!(r.applied, vec!["place", "hold:unmapped_sku", "mark_paid"]);
    assert!(r.failed.is_empty());
    // Staff release the hold (after fixing the mapping); the next delivery confirms.
    engine
        .release_hold(&order.id, &ordersmith::engine::CommandContext::system())
        .unwrap();
    let next = intake
        .import_payload(Channel::Trendyol, &fixture("trendyol/new_names.json"))
        .unwrap();
    assert_eq!(next.applied, vec!["confirm"]);
    assert_eq!(next.order.unwrap().status, OrderStatus::Confirmed);
}

#[test]
fn test_orders_are_skipped_unless_asked_for() {
    let (engine, map, log) = setup();
    let body = fixture("shopify/cancelled_test.json");
    let skip = Intake::new(&engine, &map, &log, IntakeOptions::default())
        .import_payload(Channel::Shopify, &body)
        .unwrap();
    assert_eq!(
        (skip.outcome, skip.order.is_none()),
        (ImportOutcome::SkippedTest, true)
    );
    let opts = IntakeOptions {
        import_test_orders: true,
        ..IntakeOptions::default()
    };
    let taken = Intake::new(&engine, &map, &log, opts)
        .import_payload(Channel::Shopify, &body)
        .unwrap();
    let order = taken.order.unwrap();
    assert!(order.tags.contains("test"));
    assert_eq!(order.status, OrderStatus::Cancelled);
}

#[test]
fn marketplace_fulfilled_orders_do_not_touch_the_shops_stock() {
    let (engine, map, log) = setup();
    let body = String::from_utf8(fixture("amazon/v0_us_unshipped.json"))
        .unwrap()
        .replace("\"MFN\"", "\"AFN\"");
    let r = Intake::new(&engine, &map, &log, IntakeOptions::default())
        .import_payload(Channel::AmazonV0, body.as_bytes())
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::SkippedMarketplaceFulfilled);
}

#[test]
fn channel_cancellation_releases_the_reservation() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let body = String::from_utf8(fixture("shopify/multi_line_discounted.json")).unwrap();
    let created = intake
        .import_payload(Channel::Shopify, body.as_bytes())
        .unwrap();
    assert_eq!(
        created.order.as_ref().unwrap().status,
        OrderStatus::Confirmed
    );
    assert_eq!(
        created.total_difference, None,
        "canonical total equals total_price to the cent"
    );
    assert_eq!(reserved(&engine, "MUG"), 2);
    let cancelled = body
        .replace(SHOPIFY_UPDATED, "\"updated_at\": \"2026-11-20T10:00:00-04:00\", \"cancelled_at\": \"2026-11-20T10:00:00-04:00\"")
        .replace("\"financial_status\": \"paid\"", "\"financial_status\": \"refunded\"")
        .replace("\"refunds\": []", r#""refunds": [{"id": 77, "transactions": [{"kind": "refund", "status": "success", "amount": "49.14"}], "refund_line_items": []}]"#);
    let r = intake
        .import_payload(Channel::Shopify, cancelled.as_bytes())
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::Updated);
    assert_eq!(r.applied, vec!["cancel", "refund 49.14"]);
    let order = r.order.unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.payment_status(), PaymentStatus::Refunded);
    assert_eq!(reserved(&engine, "MUG"), 0);
    assert_eq!(r.new_events.len(), 1);
    // Delivered again: the refund event is not reported twice, nothing changes.
    let again = intake
        .import_payload(Channel::Shopify, cancelled.as_bytes())
        .unwrap();
    assert_eq!(
        (again.outcome, again.new_events.len()),
        (ImportOutcome::Unchanged, 0)
    );
}

#[test]
fn a_paid_cancelled_refunded_order_is_recorded_in_that_order() {
    let (engine, map, log) = setup();
    let r = Intake::new(&engine, &map, &log, IntakeOptions::default())
        .import_payload(Channel::Ebay, &fixture("ebay/cancelled_refunded.json"))
        .unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(
        r.applied,
        vec!["place", "mark_paid", "cancel", "refund 9.99"]
    );
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(r.order.unwrap().payment_status(), PaymentStatus::Refunded);
}

#[test]
fn partial_refund_with_cancelled_unit_is_applied_exactly() {
    let (engine, map, log) = setup();
    map.set_listing(
        "shopify",
        &v("CUP"),
        Listing {
            sku: Some("LAMP".into()),
            ..Listing::default()
        },
    )
    .unwrap();
    let r = Intake::new(&engine, &map, &log, IntakeOptions::default())
        .import_payload(
            Channel::Shopify,
            &fixture("shopify/tax_inclusive_partial_refund.json"),
        )
        .unwrap();
    assert_eq!(
        r.applied,
        vec![
            "place",
            "mark_paid",
            "confirm",
            "cancel units L1x1",
            "ship L1x2",
            "refund 24"
        ]
    );
    let order = r.order.unwrap();
    assert_eq!(
        (
            order.lines[0].fulfilment.cancelled,
            order.lines[0].fulfilment.shipped
        ),
        (1, 2)
    );
    assert_eq!(order.amount_refunded.amount(), d("24.00"));
    assert_eq!(reserved(&engine, "CUP"), 0);
}

#[test]
fn import_reports_where_canonical_and_payload_totals_differ() {
    let (engine, map, log) = setup();
    map.set_listing(
        "shopify",
        &v("TEA"),
        Listing {
            sku: Some("IPOD2008GREEN".into()),
            ..Listing::default()
        },
    )
    .unwrap();
    let r = Intake::new(&engine, &map, &log, IntakeOptions::default())
        .import_payload(Channel::Shopify, &fixture("shopify/legacy_order_tax.json"))
        .unwrap();
    assert_eq!(r.total_difference, Some(d("-2.00")));
    assert_eq!(r.mismatches.len(), 2);
    // Paid as it was placed: the difference read from its payment is the one its
    // totals give.
    let order = r.order.unwrap();
    assert!(
        r.applied.iter().any(|s| s == "mark_paid"),
        "{:?}",
        r.applied
    );
    let parsed = parse_order(Channel::Shopify, &fixture("shopify/legacy_order_tax.json")).unwrap();
    assert_eq!(
        Some(order.totals().unwrap().total.amount() - parsed.reported.total.unwrap()),
        r.total_difference
    );
    assert_eq!(order.amount_paid, order.totals().unwrap().total);
}

#[test]
fn stock_out_round_trip_marks_only_what_was_accepted() {
    let (engine, map, log) = setup();
    Intake::new(&engine, &map, &log, IntakeOptions::default())
        .import_payload(Channel::Trendyol, &fixture("trendyol/new_names.json"))
        .unwrap();
    let changed = intake::changed_since_last_push(&engine, "trendyol").unwrap();
    // 50 % share, buffer 1: TEA (10 − 2 reserved) → 3, CUP (10 − 1) → 3, the rest 4.
    assert_eq!(changed.get(&v("TEA")), Some(&3));
    assert_eq!(changed.get(&v("CUP")), Some(&3));
    assert_eq!(changed.get(&v("MUG")), Some(&4));
    let account = PushAccount {
        seller_id: Some("123".into()),
        ..PushAccount::default()
    };
    let mut planner = StockPushPlanner::new(PushTarget::TrendyolInventory, account).unwrap();
    let plan = planner.plan(&changed, &map, Utc::now()).unwrap();
    assert_eq!(plan.requests.len(), 1);
    assert_eq!(plan.unlisted.len(), 3); // MUG, TEE, PIN are not on Trendyol
    let ack = planner
        .acknowledge(&plan.requests[0].id, &["8690000000028".into()])
        .unwrap();
    intake::mark_pushed(&engine, "trendyol", &ack).unwrap();
    let after = intake::changed_since_last_push(&engine, "trendyol").unwrap();
    assert!(!after.contains_key(&v("TEA")));
    assert_eq!(
        after.get(&v("CUP")),
        Some(&3),
        "the refused item is still to push"
    );
}

#[test]
fn the_parsed_order_keeps_its_raw_payload() {
    let body = fixture("ebay/paid_promotion.json");
    let o = parse_order(Channel::Ebay, &body).unwrap();
    assert_eq!(o.raw.unwrap().0.as_ref(), body.as_slice());
}

#[test]
fn every_consistent_fixture_imports_with_core_totals_equal_to_the_payload() {
    // The core computes tax from rates (given, or derived from the channel's amounts);
    // its total must still equal the payload's to the minor unit.
    for (channel, file) in [
        (Channel::Shopify, "shopify/multi_line_discounted.json"),
        (
            Channel::Shopify,
            "shopify/tax_inclusive_partial_refund.json",
        ),
        (Channel::Shopify, "shopify/multi_currency_refund.json"),
        (
            Channel::WooCommerce,
            "woo_commerce/processing_inclusive.json",
        ),
        (Channel::Trendyol, "trendyol/new_names.json"),
        (Channel::Trendyol, "trendyol/split_packages.json"),
        (Channel::AmazonV0, "amazon/v0_us_unshipped.json"),
        (Channel::Amazon2026, "amazon/2026_partially_shipped.json"),
        (Channel::Ebay, "ebay/paid_promotion.json"),
    ] {
        let (engine, map, log) = setup();
        let parsed = parse_order(channel, &fixture(file)).unwrap();
        assert!(parsed.mismatches.is_empty(), "{file}");
        let report = Intake::new(&engine, &map, &log, IntakeOptions::default())
            .import(&parsed)
            .unwrap();
        let order = report.order.unwrap();
        let totals = order.totals().unwrap();
        if order.lines.iter().all(|l| l.fulfilment.cancelled == 0) {
            assert_eq!(Some(totals.total.amount()), parsed.reported.total, "{file}");
            assert_eq!(report.total_difference, None, "{file}");
        }
        if let Some(tax) = parsed
            .reported_line_tax()
            .filter(|_| !parsed.taxes_included)
        {
            assert_eq!(
                totals.tax_total.amount(),
                tax,
                "{file}: core tax from rates"
            );
        }
    }
}

#[test]
fn an_unknown_status_imports_and_changes_nothing_else() {
    let (engine, map, log) = setup();
    let body = String::from_utf8(fixture("ebay/paid_promotion.json"))
        .unwrap()
        .replace("\"PAID\"", "\"PAYMENT_TELEPORTED\"");
    let r = Intake::new(&engine, &map, &log, IntakeOptions::default())
        .import_payload(Channel::Ebay, body.as_bytes())
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::Created);
    assert_eq!(r.applied, vec!["place"]);
    // The line the channel says shipped cannot ship from `pending`: reported, not forced.
    let failed: Vec<(&str, &str)> = r
        .failed
        .iter()
        .map(|f| (f.step.as_str(), f.code.as_str()))
        .collect();
    assert_eq!(failed, vec![("ship L2x1", "ORDER_INVALID_TRANSITION")]);
    assert_eq!(r.order.unwrap().status, OrderStatus::Pending);
}

/// A first delivery arrives whole in one write; when a step of it is refused (here the
/// confirmation, short of stock), nothing of that write is kept and the step-by-step
/// import reports exactly which step failed, with the order placed and paid.
#[test]
fn a_refused_step_of_a_first_delivery_is_reported_not_lost() {
    let (engine, map, log) = setup();
    let body = String::from_utf8(fixture("trendyol/new_names.json"))
        .unwrap()
        .replacen("\"quantity\": 2", "\"quantity\": 20", 1);
    let r = Intake::new(&engine, &map, &log, IntakeOptions::default())
        .import_payload(Channel::Trendyol, body.as_bytes())
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::Created);
    assert_eq!(r.applied, vec!["place", "mark_paid"]);
    let failed: Vec<&str> = r.failed.iter().map(|f| f.step.as_str()).collect();
    assert_eq!(failed, vec!["confirm"], "{:?}", r.failed);
    let order = r.order.unwrap();
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.payment_status(), PaymentStatus::Paid);
    assert_eq!((reserved(&engine, "TEA"), reserved(&engine, "CUP")), (0, 0));
    assert_eq!(engine.list_orders(&Default::default()).unwrap().len(), 1);
}

/// A Shopify order (USD, tax-exclusive, no tax) with `lines` as
/// `(line id, sku, quantity, unit price)`, last changed at `updated`
/// (`HH:MM` on 2026-11-20 UTC), with `fulfillment_status`.
fn shopify_edit(lines: &[(u32, &str, u32, &str)], updated: &str, fulfilled: &str) -> Vec<u8> {
    let items: Vec<String> = lines
        .iter()
        .map(|(id, sku, q, price)| {
            format!(
                r#"{{"id": {id}, "sku": "{sku}", "quantity": {q}, "price": "{price}", "discount_allocations": [], "tax_lines": []}}"#
            )
        })
        .collect();
    let total: Decimal = lines
        .iter()
        .map(|(_, _, q, price)| d(price) * Decimal::from(*q))
        .sum();
    format!(
        r##"{{"id": 7100, "name": "#7100", "created_at": "2026-11-20T09:00:00Z", "updated_at": "2026-11-20T{updated}:00Z",
  "currency": "USD", "taxes_included": false, "test": false, "financial_status": "paid",
  "fulfillment_status": {fulfilled}, "total_price": "{total}", "line_items": [{}]}}"##,
        items.join(", ")
    )
    .into_bytes()
}

fn line_of(order: &ordersmith::order::Order, ext: &str) -> ordersmith::order::OrderLine {
    order
        .lines
        .iter()
        .find(|l| l.external_ref.as_deref() == Some(ext))
        .cloned()
        .unwrap()
}

#[test]
fn a_channel_edit_lowering_a_quantity_cancels_the_units_and_releases_them() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let first = intake
        .import_payload(
            Channel::Shopify,
            &shopify_edit(
                &[(1, "MUG-RED", 3, "10.00"), (2, "PIN", 1, "5.00")],
                "09:00",
                "null",
            ),
        )
        .unwrap();
    assert_eq!(first.outcome, ImportOutcome::Created);
    assert_eq!((reserved(&engine, "MUG"), reserved(&engine, "PIN")), (3, 1));
    // The shop lowers MUG from 3 to 1 on Shopify.
    let edited = shopify_edit(
        &[(1, "MUG-RED", 1, "10.00"), (2, "PIN", 1, "5.00")],
        "09:30",
        "null",
    );
    let r = intake.import_payload(Channel::Shopify, &edited).unwrap();
    assert_eq!(r.outcome, ImportOutcome::Updated);
    assert_eq!(r.applied, vec!["cancel units (channel edit) L1x2"]);
    assert_eq!(
        r.line_changes,
        vec![LineChange {
            kind: LineChangeKind::QuantityReduced,
            external_line_id: "1".into(),
            line_id: Some(LineId::parse("L1").unwrap()),
            from: 3,
            to: 1,
            applied: true,
            blocked: None,
        }]
    );
    let order = r.order.unwrap();
    assert_eq!(line_of(&order, "1").active_quantity(), 1);
    assert_eq!(order.totals().unwrap().total.amount(), d("15.00"));
    assert_eq!(reserved(&engine, "MUG"), 1);
    // A third delivery of the same edit changes nothing.
    let again = intake.import_payload(Channel::Shopify, &edited).unwrap();
    assert_eq!(again.outcome, ImportOutcome::Unchanged);
    assert!(again.line_changes.is_empty());
    assert_eq!(reserved(&engine, "MUG"), 1);
    // The pre-edit delivery arriving late is older: ignored, nothing comes back.
    let late = intake
        .import_payload(
            Channel::Shopify,
            &shopify_edit(
                &[(1, "MUG-RED", 3, "10.00"), (2, "PIN", 1, "5.00")],
                "09:00",
                "null",
            ),
        )
        .unwrap();
    assert_eq!(late.outcome, ImportOutcome::Stale);
    assert_eq!(reserved(&engine, "MUG"), 1);
    assert_eq!(line_of(&late.order.unwrap(), "1").active_quantity(), 1);
}

#[test]
fn a_line_removed_on_the_channel_is_cancelled_and_a_line_added_is_added() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_payload(
            Channel::Shopify,
            &shopify_edit(
                &[(1, "MUG-RED", 2, "10.00"), (2, "PIN", 1, "5.00")],
                "09:00",
                "null",
            ),
        )
        .unwrap();
    assert_eq!((reserved(&engine, "PIN"), reserved(&engine, "TEA")), (1, 0));
    // PIN removed, a TEA line added (Shopify listing of TEA is its SKU "TEA").
    map.set_listing(
        "shopify",
        &v("TEA"),
        Listing {
            sku: Some("TEA".into()),
            ..Listing::default()
        },
    )
    .unwrap();
    let edited = shopify_edit(
        &[(1, "MUG-RED", 2, "10.00"), (3, "TEA", 2, "7.50")],
        "09:30",
        "null",
    );
    let r = intake.import_payload(Channel::Shopify, &edited).unwrap();
    assert_eq!(r.outcome, ImportOutcome::Updated);
    assert_eq!(
        r.applied,
        vec!["cancel units (channel edit) L2x1", "edit add 3x2"]
    );
    let kinds: Vec<(LineChangeKind, &str, u32, u32, bool)> = r
        .line_changes
        .iter()
        .map(|c| (c.kind, c.external_line_id.as_str(), c.from, c.to, c.applied))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (LineChangeKind::Removed, "2", 1, 0, true),
            (LineChangeKind::Added, "3", 0, 2, true),
        ]
    );
    assert_eq!(
        r.line_changes[1].line_id,
        Some(LineId::parse("L3").unwrap())
    );
    let order = r.order.unwrap();
    assert_eq!(line_of(&order, "2").active_quantity(), 0);
    assert_eq!(line_of(&order, "3").quantity, 2);
    // 2 × 10 + 2 × 7.50: the removed line no longer counts.
    assert_eq!(order.totals().unwrap().total.amount(), d("35.00"));
    // The removed line's reservation released, the added line reserved.
    assert_eq!((reserved(&engine, "PIN"), reserved(&engine, "TEA")), (0, 2));
    let again = intake.import_payload(Channel::Shopify, &edited).unwrap();
    assert_eq!(again.outcome, ImportOutcome::Unchanged);
    assert!(again.line_changes.is_empty());
    assert_eq!((reserved(&engine, "PIN"), reserved(&engine, "TEA")), (0, 2));
}

#[test]
fn a_quantity_raised_on_the_channel_is_edited_and_reserved() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_payload(
            Channel::Shopify,
            &shopify_edit(&[(1, "MUG-RED", 1, "10.00")], "09:00", "null"),
        )
        .unwrap();
    let r = intake
        .import_payload(
            Channel::Shopify,
            &shopify_edit(&[(1, "MUG-RED", 4, "10.00")], "09:30", "null"),
        )
        .unwrap();
    assert_eq!(r.applied, vec!["edit L1 qty 4"]);
    assert_eq!(
        (r.line_changes[0].kind, r.line_changes[0].applied),
        (LineChangeKind::QuantityIncreased, true)
    );
    assert_eq!(
        r.order.unwrap().totals().unwrap().total.amount(),
        d("40.00")
    );
    assert_eq!(reserved(&engine, "MUG"), 4);
}

#[test]
fn line_edits_the_engine_cannot_express_stay_flagged_with_their_reason() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    // Partly shipped: 1 of 3 MUG shipped, so the order is being fulfilled.
    intake
        .import_payload(
            Channel::Shopify,
            &shopify_edit(
                &[(1, "MUG-RED", 3, "10.00"), (2, "PIN", 1, "5.00")],
                "09:00",
                "null",
            ),
        )
        .unwrap();
    let id = {
        let o = engine.list_orders(&Default::default()).unwrap();
        o[0].id.clone()
    };
    let l1 = LineId::parse("L1").unwrap();
    engine
        .record_shipment(
            &id,
            vec![ordersmith::order::LineQuantity::new(l1, 2)],
            &ordersmith::engine::CommandContext::system(),
        )
        .unwrap();
    // The channel now says: MUG down to 0 (2 already shipped), an unmapped line and a
    // mapped one added.
    let edited = shopify_edit(
        &[
            (1, "MUG-RED", 0, "10.00"),
            (2, "PIN", 1, "5.00"),
            (4, "NOPE", 1, "1.00"),
            (5, "TEE-X", 1, "2.00"),
        ],
        "09:30",
        "\"partial\"",
    );
    map.set_listing(
        "shopify",
        &v("TEE"),
        Listing {
            sku: Some("TEE-X".into()),
            ..Listing::default()
        },
    )
    .unwrap();
    let r = intake.import_payload(Channel::Shopify, &edited).unwrap();
    let flags: Vec<(LineChangeKind, &str, bool, Option<LineChangeBlocked>)> = r
        .line_changes
        .iter()
        .map(|c| {
            (
                c.kind,
                c.external_line_id.as_str(),
                c.applied,
                c.blocked.clone(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        vec![
            (
                LineChangeKind::Removed,
                "1",
                false,
                Some(LineChangeBlocked::UnitsShipped { units: 2 })
            ),
            (
                LineChangeKind::Added,
                "4",
                false,
                Some(LineChangeBlocked::UnmappedSku { id: "NOPE".into() })
            ),
            (
                LineChangeKind::Added,
                "5",
                false,
                Some(LineChangeBlocked::Refused {
                    step: "edit add 5x1".into(),
                    code: "ORDER_INVALID_TRANSITION".into()
                })
            ),
        ]
    );
    // The one open MUG unit was cancelled and released; the shipped two stay.
    let order = r.order.unwrap();
    let mug = line_of(&order, "1");
    assert_eq!((mug.fulfilment.shipped, mug.fulfilment.cancelled), (2, 1));
    assert_eq!(reserved(&engine, "MUG"), 0);
    assert_eq!(reserved(&engine, "TEE"), 0);
    assert_eq!(order.lines.len(), 2);
}

#[test]
fn trendyol_packages_delivered_one_at_a_time_are_not_removals() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_payload(Channel::Trendyol, &fixture("trendyol/new_names.json"))
        .unwrap();
    // One package of the split order (a webhook): 1 of the 2 TEA units, no CUP.
    let one = br#"{"shipmentPackageId": 3330000002, "orderNumber": "10654411111", "orderDate": 1763645400000,
      "lastModifiedDate": 1763735400000, "currencyCode": "TRY", "shipmentPackageStatus": "Shipped",
      "packageTotalPrice": 92.5, "packageSellerDiscount": 5.0, "packageTyDiscount": 2.5,
      "lines": [{"lineId": 1001, "barcode": "8690000000011", "stockCode": "TEA-500", "quantity": 1,
                 "lineGrossAmount": 100.0, "lineSellerDiscount": 5.0, "lineTyDiscount": 2.5, "vatRate": 20}]}"#;
    let r = intake.import_payload(Channel::Trendyol, one).unwrap();
    assert!(r.line_changes.is_empty(), "{:?}", r.line_changes);
    let order = r.order.unwrap();
    assert_eq!(
        order
            .lines
            .iter()
            .map(|l| l.active_quantity())
            .collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!((reserved(&engine, "TEA"), reserved(&engine, "CUP")), (1, 1));
}

#[test]
fn trendyol_per_unit_discounts_import_with_their_basis_and_no_total_difference() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let r = intake
        .import_payload(
            Channel::Trendyol,
            &fixture("trendyol/discount_details_per_unit.json"),
        )
        .unwrap();
    assert_eq!(r.discount_basis, Some(DiscountBasis::PerUnit));
    assert_eq!(r.total_difference, None);
    assert!(r.mismatches.is_empty());
    assert_eq!(r.order.unwrap().totals().unwrap().total.amount(), d("347"));
}

/// A refunded amount the channel reports so far below what is recorded that the
/// difference is beyond a decimal is no refund (it panicked subtracting), and the
/// import goes on.
#[test]
fn a_refunded_amount_too_far_below_the_recorded_one_refunds_nothing() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let body = String::from_utf8(fixture("shopify/multi_line_discounted.json")).unwrap();
    let refund = |at: &str, id: u32, amount: &str| {
        body.replace(SHOPIFY_UPDATED, &format!("\"updated_at\": \"{at}\""))
        .replace(
            "\"refunds\": []",
            &format!(
                r#""refunds": [{{"id": {id}, "transactions": [{{"kind": "refund", "status": "success", "amount": "{amount}"}}], "refund_line_items": []}}]"#
            ),
        )
    };
    intake
        .import_payload(Channel::Shopify, body.as_bytes())
        .unwrap();
    let r = intake
        .import_payload(
            Channel::Shopify,
            refund("2026-11-20T10:00:00-04:00", 77, "10.00").as_bytes(),
        )
        .unwrap();
    assert_eq!(r.applied, vec!["refund 10"]);
    let far = refund(
        "2026-11-20T11:00:00-04:00",
        78,
        "-79228162514264337593543950335",
    );
    let r = intake
        .import_payload(Channel::Shopify, far.as_bytes())
        .unwrap();
    assert!(r.applied.is_empty(), "{:?}", r.applied);
    assert_eq!(r.order.unwrap().amount_refunded.amount(), d("10.00"));
}

/// A payload total whose difference from the order's total is beyond a decimal (though
/// not from the payload's own lines, which parsing checks) is reported as the largest
/// difference, not a panic.
#[test]
fn a_total_difference_beyond_a_decimal_is_reported_as_the_largest() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    // The first line's tax amount left out: the payload's lines add up to 47.34, the
    // order (taxed at the line's 8 % rate) to 49.14.
    let body = String::from_utf8(fixture("shopify/multi_line_discounted.json"))
        .unwrap()
        .replace(
            r#"[{"price": "1.80", "rate": 0.08"#,
            r#"[{"price": "0.00", "rate": 0.08"#,
        )
        .replace(
            r#""total_price": "49.14""#,
            r#""total_price": "-79228162514264337593543950287""#,
        );
    let r = intake
        .import_payload(Channel::Shopify, body.as_bytes())
        .unwrap();
    assert_eq!(
        r.order.unwrap().totals().unwrap().total.amount(),
        d("49.14")
    );
    assert_eq!(r.total_difference, Some(Decimal::MAX));
}

/// The discounted Shopify fixture's `updated_at`, as it is in the file.
const SHOPIFY_UPDATED: &str = "\"updated_at\": \"2026-11-20T09:31:00-04:00\"";

/// The discounted Shopify fixture at 10:00 with one mug refunded with `restock`.
fn mug_refunded_at_ten(body: &str, restock: &str) -> String {
    body.replace(SHOPIFY_UPDATED, "\"updated_at\": \"2026-11-20T10:00:00-04:00\"")
        .replace(
            "\"refunds\": []",
            &format!(
                r#""refunds": [{{"id": 77, "transactions": [], "refund_line_items": [{{"line_item_id": 9007199254740993, "quantity": 1, "restock_type": "{restock}"}}]}}]"#
            ),
        )
}

/// A quantity raised on the channel so far that the order's line would pass `u32::MAX`
/// (units already cancelled on it count) is refused by the engine and reported, where
/// adding it up panicked.
#[test]
fn a_quantity_raised_beyond_a_u32_is_reported_refused() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let body = String::from_utf8(fixture("shopify/multi_line_discounted.json")).unwrap();
    intake
        .import_payload(Channel::Shopify, body.as_bytes())
        .unwrap();
    // One of the two mugs cancelled on the channel.
    let cancelled = mug_refunded_at_ten(&body, "cancel");
    let r = intake
        .import_payload(Channel::Shopify, cancelled.as_bytes())
        .unwrap();
    assert_eq!(r.order.unwrap().lines[0].fulfilment.cancelled, 1);
    // Then 4294967295 mugs, none cancelled: the line would hold 2 + 4294967295 - 1.
    let raised = body
        .replace(
            SHOPIFY_UPDATED,
            "\"updated_at\": \"2026-11-20T11:00:00-04:00\"",
        )
        .replace(
            r#""quantity": 2, "price": "12.50""#,
            r#""quantity": 4294967295, "price": "12.50""#,
        );
    let r = intake
        .import_payload(Channel::Shopify, raised.as_bytes())
        .unwrap();
    let change = r
        .line_changes
        .iter()
        .find(|c| c.kind == LineChangeKind::QuantityIncreased)
        .unwrap();
    assert!(!change.applied);
    assert!(
        matches!(&change.blocked, Some(LineChangeBlocked::Refused { code, .. }) if code == "ORDER_INVALID_QUANTITY"),
        "{:?}",
        change.blocked
    );
    assert_eq!(r.order.unwrap().lines[0].quantity, 2);
}

/// WooCommerce `processing_inclusive` in `status`, last changed at `modified`
/// (`HH:MM` on 2026-11-20 UTC), paid only when `paid`.
fn woo(status: &str, modified: &str, paid: bool) -> Vec<u8> {
    let body = String::from_utf8(fixture("woo_commerce/processing_inclusive.json"))
        .unwrap()
        .replace(
            "\"status\": \"processing\"",
            &format!("\"status\": \"{status}\""),
        )
        .replace(
            "\"date_modified_gmt\": \"2026-11-20T13:35:00\"",
            &format!("\"date_modified_gmt\": \"2026-11-20T{modified}:00\""),
        );
    if paid {
        body.into_bytes()
    } else {
        body.replace(
            "\"date_paid_gmt\": \"2026-11-20T13:31:00\"",
            "\"date_paid_gmt\": null",
        )
        .into_bytes()
    }
}

/// A WooCommerce payment that failed is retried by the customer on the same order:
/// `failed` leaves the order pending (not cancelled), and the later `processing` marks
/// it paid and confirms it, reserving its stock.
#[test]
fn a_woo_order_whose_payment_failed_is_confirmed_when_the_retry_pays() {
    let (engine, map, log) = setup();
    map.set_listing(
        "woo_commerce",
        &v("TEA"),
        Listing {
            sku: Some("TEA-500".into()),
            ..Listing::default()
        },
    )
    .unwrap();
    map.set_listing(
        "woo_commerce",
        &v("CUP"),
        Listing {
            variant_id: Some("23".into()),
            ..Listing::default()
        },
    )
    .unwrap();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let failed = intake
        .import_payload(Channel::WooCommerce, &woo("failed", "13:35", false))
        .unwrap();
    assert!(failed.failed.is_empty(), "{:?}", failed.failed);
    let order = failed.order.unwrap();
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.payment_status(), PaymentStatus::Unpaid);
    assert_eq!(reserved(&engine, "TEA"), 0);
    let paid = intake
        .import_payload(Channel::WooCommerce, &woo("processing", "13:50", true))
        .unwrap();
    assert_eq!(paid.outcome, ImportOutcome::Updated);
    assert_eq!(paid.applied, vec!["mark_paid", "confirm"]);
    let order = paid.order.unwrap();
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(order.payment_status(), PaymentStatus::Paid);
    assert_eq!((reserved(&engine, "TEA"), reserved(&engine, "CUP")), (3, 1));
}

/// A channel that reports a cancelled order live again: the engine refuses to reopen
/// it, and the import says so instead of reporting nothing changed.
#[test]
fn a_cancelled_order_the_channel_reports_live_again_is_a_reported_refusal() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let cancelled = intake
        .import_payload(Channel::WooCommerce, &woo("cancelled", "13:35", false))
        .unwrap();
    assert_eq!(cancelled.order.unwrap().status, OrderStatus::Cancelled);
    let live = intake
        .import_payload(Channel::WooCommerce, &woo("processing", "13:50", true))
        .unwrap();
    let failed: Vec<(&str, &str)> = live
        .failed
        .iter()
        .map(|f| (f.step.as_str(), f.code.as_str()))
        .collect();
    assert_eq!(failed, vec![("confirm", "ORDER_INVALID_TRANSITION")]);
    assert_eq!(live.order.unwrap().status, OrderStatus::Cancelled);
}

/// A mug refunded on Shopify with `no_restock` before it shipped leaves the order (its
/// fulfillable quantity drops) though the refund names no cancellation: the engine's
/// line has it cancelled, none shipped.
#[test]
fn a_shopify_unit_refunded_without_restock_before_shipping_is_cancelled() {
    let (engine, map, log) = setup();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let body = String::from_utf8(fixture("shopify/multi_line_discounted.json")).unwrap();
    intake
        .import_payload(Channel::Shopify, body.as_bytes())
        .unwrap();
    let refunded = mug_refunded_at_ten(&body, "no_restock")
        .replace("\"fulfillable_quantity\": 2", "\"fulfillable_quantity\": 1")
        .replacen(
            "\"id\": 5160000000000012345,",
            "\"id\": 5160000000000012345, \"fulfillments\": [],",
            1,
        );
    let r = intake
        .import_payload(Channel::Shopify, refunded.as_bytes())
        .unwrap();
    let order = r.order.unwrap();
    assert_eq!(order.lines[0].fulfilment.cancelled, 1);
    assert_eq!(order.lines[0].fulfilment.shipped, 0);
}

/// `setup()` with MUG listed on Amazon as `MUG-RED`.
fn setup_amazon() -> (Engine, MemoryIdentifierMap, MemoryIntakeLog) {
    let (engine, map, log) = setup();
    let listing = Listing {
        sku: Some("MUG-RED".into()),
        ..Listing::default()
    };
    map.set_listing("amazon", &v("MUG"), listing).unwrap();
    (engine, map, log)
}

/// Amazon order 113-1234567-1234567 (the `v0_us_unshipped.json` order) in `status`,
/// last changed at `updated`, as `getOrderItems` returns it before payment is
/// authorised: items without `ItemPrice`, tax, promotion or shipping. With `total`,
/// the order still carries an `OrderTotal`.
fn amazon_unpriced(status: &str, updated: &str, total: bool) -> Vec<u8> {
    let total = if total {
        r#""OrderTotal": {"CurrencyCode": "USD", "Amount": "45.65"},"#
    } else {
        ""
    };
    format!(
        r#"{{"payload": {{
  "AmazonOrderId": "113-1234567-1234567", "PurchaseDate": "2026-11-20T13:30:00Z",
  "LastUpdateDate": "{updated}", "OrderStatus": "{status}", "FulfillmentChannel": "MFN",
  "MarketplaceId": "ATVPDKIKX0DER", {total}
  "OrderItems": [{{"OrderItemId": "68828574383266", "ASIN": "B00EXAMPLE", "SellerSKU": "MUG-RED",
    "Title": "Mug", "QuantityOrdered": 2, "QuantityShipped": 0}}]}}}}"#
    )
    .into_bytes()
}

/// Amazon gives no pricing while an order is `Pending`: such an order is not placed
/// with made-up zero prices. It is placed, at Amazon's prices, by the first delivery
/// that has them (`Unshipped`), and its total is the channel's.
#[test]
fn an_amazon_order_first_seen_pending_is_placed_only_once_priced() {
    for with_total in [true, false] {
        let (engine, map, log) = setup_amazon();
        let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
        let pending = amazon_unpriced("Pending", "2026-11-20T13:31:00Z", with_total);
        for _ in 0..2 {
            let r = intake.import_payload(Channel::AmazonV0, &pending).unwrap();
            assert_eq!(r.outcome, ImportOutcome::Unpriced, "{with_total}");
            assert_eq!(r.unpriced, vec!["68828574383266".to_string()]);
            assert!(r.order.is_none(), "{with_total}: {:?}", r.applied);
            assert!(r.applied.is_empty(), "{:?}", r.applied);
            assert!(r.mismatches.is_empty(), "{:?}", r.mismatches);
            assert_eq!(r.total_difference, None);
            assert!(engine.list_orders(&Default::default()).unwrap().is_empty());
            assert_eq!(reserved(&engine, "MUG"), 0);
            assert!(log.get("amazon", "113-1234567-1234567").unwrap().is_none());
        }
        let priced = intake
            .import_payload(Channel::AmazonV0, &fixture("amazon/v0_us_unshipped.json"))
            .unwrap();
        assert_eq!(priced.outcome, ImportOutcome::Created, "{with_total}");
        assert_eq!(priced.applied, vec!["place", "mark_paid", "confirm"]);
        assert_eq!(priced.total_difference, None);
        let order = priced.order.unwrap();
        assert_eq!(order.lines[0].unit_price.amount(), d("19.99"));
        assert_eq!(order.totals().unwrap().total.amount(), d("45.65"));
        assert_eq!(order.amount_paid.amount(), d("45.65"));
        assert_eq!(reserved(&engine, "MUG"), 2);
        // The pending reading arriving late is older than the priced one: stale.
        let late = intake.import_payload(Channel::AmazonV0, &pending).unwrap();
        assert_eq!(late.outcome, ImportOutcome::Stale);
        assert_eq!(engine.list_orders(&Default::default()).unwrap().len(), 1);
    }
}

/// An Amazon order cancelled while still unpriced (payment never authorised) was
/// never placed, and is not placed by its cancellation either: no order, no stock.
#[test]
fn an_amazon_order_cancelled_while_pending_is_never_placed() {
    let (engine, map, log) = setup_amazon();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    for (status, updated) in [
        ("Pending", "2026-11-20T13:31:00Z"),
        ("Canceled", "2026-11-20T15:00:00Z"),
    ] {
        let r = intake
            .import_payload(Channel::AmazonV0, &amazon_unpriced(status, updated, false))
            .unwrap();
        assert_eq!(r.outcome, ImportOutcome::Unpriced, "{status}");
        assert!(r.order.is_none(), "{status}: {:?}", r.applied);
    }
    assert!(engine.list_orders(&Default::default()).unwrap().is_empty());
    assert_eq!(reserved(&engine, "MUG"), 0);
}

/// An Amazon order placed at its prices and then cancelled is cancelled even when the
/// cancelled reading carries no prices: the order keeps the prices it was placed at.
#[test]
fn an_amazon_order_cancelled_after_it_was_priced_is_cancelled_at_its_prices() {
    let (engine, map, log) = setup_amazon();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_payload(Channel::AmazonV0, &fixture("amazon/v0_us_unshipped.json"))
        .unwrap();
    assert_eq!(reserved(&engine, "MUG"), 2);
    let r = intake
        .import_payload(
            Channel::AmazonV0,
            &amazon_unpriced("Canceled", "2026-11-20T15:00:00Z", false),
        )
        .unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(r.outcome, ImportOutcome::Updated);
    let order = r.order.unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.lines[0].unit_price.amount(), d("19.99"));
    assert_eq!(reserved(&engine, "MUG"), 0);
}

/// A line a later delivery adds without a price is not added at a placeholder price:
/// the change is reported blocked, and the order keeps its lines and total.
#[test]
fn an_unpriced_line_added_to_a_placed_amazon_order_is_not_added() {
    let (engine, map, log) = setup_amazon();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let body = String::from_utf8(fixture("amazon/v0_us_unshipped.json")).unwrap();
    intake
        .import_payload(Channel::AmazonV0, body.as_bytes())
        .unwrap();
    let more = body
        .replace("2026-11-20T14:00:00Z", "2026-11-20T15:00:00Z")
        .replace(
            "\n  ]\n}}",
            r#",
    {"OrderItemId": "68828574383267", "SellerSKU": "MUG-RED", "QuantityOrdered": 1}
  ]
}}"#,
        );
    assert_ne!(
        more,
        body.replace("2026-11-20T14:00:00Z", "2026-11-20T15:00:00Z")
    );
    let r = intake
        .import_payload(Channel::AmazonV0, more.as_bytes())
        .unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(
        r.line_changes,
        vec![LineChange {
            kind: LineChangeKind::Added,
            external_line_id: "68828574383267".into(),
            line_id: None,
            from: 0,
            to: 1,
            applied: false,
            blocked: Some(LineChangeBlocked::Unpriced),
        }]
    );
    let order = r.order.unwrap();
    assert_eq!(order.lines.len(), 1);
    assert_eq!(order.totals().unwrap().total.amount(), d("45.65"));
    assert_eq!(reserved(&engine, "MUG"), 2);
}

/// A Shopify refund paid back in the customer's currency is recorded in the shop's:
/// the multi-currency order (shop EUR, customer USD) refunds 24.00 EUR, not the
/// 26.40 its transaction's `amount` says in USD. A re-delivery whose refund is only in
/// USD is refused whole and leaves the order as it was.
#[test]
fn a_shopify_refund_in_the_customers_currency_is_recorded_in_shop_money() {
    let (engine, map, log) = setup();
    map.set_listing(
        "shopify",
        &v("CUP"),
        Listing {
            sku: Some("LAMP".into()),
            ..Listing::default()
        },
    )
    .unwrap();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let r = intake
        .import_payload(
            Channel::Shopify,
            &fixture("shopify/multi_currency_refund.json"),
        )
        .unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert!(
        r.applied.iter().any(|s| s == "refund 24"),
        "{:?}",
        r.applied
    );
    assert_eq!(r.total_difference, None);
    let order = r.order.unwrap();
    assert_eq!(order.currency.code(), "EUR");
    assert_eq!(order.amount_refunded.amount(), d("24.00"));

    // The same order refunded again, this time with no shop-money amount.
    let body = String::from_utf8(fixture("shopify/multi_currency_refund.json")).unwrap();
    let second = r#"{"id": 9003, "created_at": "2026-11-23T09:00:00+01:00", "refund_line_items": [],
     "transactions": [{"id": 5002, "kind": "refund", "status": "success", "amount": "5.50", "currency": "USD"}]}"#;
    let more = body
        .replace("2026-11-22T10:00:00+01:00", "2026-11-23T10:00:00+01:00")
        .replace("\n  ]\n}", &format!(",\n    {second}\n  ]\n}}"));
    assert_ne!(more, body);
    let before = log.get("shopify", "820982911946154509").unwrap();
    let err = intake
        .import_payload(Channel::Shopify, more.as_bytes())
        .unwrap_err();
    assert_eq!(err.code(), "CHANNEL_CURRENCY_MISMATCH", "{err}");
    assert!(
        err.to_string()
            .contains("refunds[1].transactions[0].currency"),
        "{err}"
    );
    assert_eq!(log.get("shopify", "820982911946154509").unwrap(), before);
    let after = engine.order(&order.id).unwrap();
    assert_eq!(after.version, order.version);
    assert_eq!(after.amount_refunded.amount(), d("24.00"));
}
