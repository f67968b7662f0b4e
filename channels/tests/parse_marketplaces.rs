//! Trendyol, Hepsiburada, Amazon (both shapes) and eBay fixtures, each with its
//! canonical order written by hand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{d, fixture, utc};
use ordersmith_channels::adapters::trendyol::{aggregate, map_status};
use ordersmith_channels::{
    parse_order, Channel, ChannelOrder, DiscountBasis, FundedBy, Lifecycle, LineDiscount,
    RefundState, TotalMismatch,
};

fn lines_summary(o: &ChannelOrder) -> Vec<(String, u32, String, String, u32)> {
    o.lines
        .iter()
        .map(|l| {
            (
                l.external_line_id.clone(),
                l.quantity,
                l.unit_price.normalize().to_string(),
                l.net().unwrap().normalize().to_string(),
                l.shipped,
            )
        })
        .collect()
}

#[test]
fn trendyol_new_field_names() {
    let o = parse_order(Channel::Trendyol, &fixture("trendyol/new_names.json")).unwrap();
    assert_eq!(o.external_id, "10654411111");
    // orderDate 1763645400000 is 13:30 "UTC" on the wire: Turkish wall-clock time
    // (UTC+3), so the instant is 10:30 UTC.
    assert_eq!(o.placed_at, utc(2025, 11, 20, 10, 30, 0));
    assert_eq!(o.updated_at, Some(utc(2025, 11, 20, 14, 30, 0)));
    assert!(o.taxes_included);
    assert_eq!(
        (o.status.lifecycle.clone(), o.status.paid),
        (Lifecycle::Confirmed, true)
    );
    assert_eq!(
        lines_summary(&o),
        vec![
            ("1001".into(), 2, "100".into(), "185".into(), 0),
            ("1002".into(), 1, "50".into(), "50".into(), 0)
        ]
    );
    let tea = &o.lines[0];
    assert_eq!(tea.ids.barcode.as_deref(), Some("8690000000011"));
    assert_eq!(tea.ids.sku.as_deref(), Some("TEA-500"));
    assert_eq!(tea.ids.variant_id.as_deref(), Some("55501"));
    assert_eq!(tea.tax_rate, Some(d("0.2")));
    assert_eq!(o.reported.total, Some(d("235")));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
}

#[test]
fn trendyol_old_field_names_give_the_same_order() {
    let new = parse_order(Channel::Trendyol, &fixture("trendyol/new_names.json")).unwrap();
    let old = parse_order(Channel::Trendyol, &fixture("trendyol/old_names.json")).unwrap();
    assert_eq!(old.lines, new.lines);
    assert_eq!(old.reported, new.reported);
    // "status" appears twice: the last one counts.
    assert_eq!(old.status.lifecycle, Lifecycle::Confirmed);
    assert!(old.mismatches.is_empty());
    // One `discountDetails[]` entry per unit: both readings agree.
    assert_eq!(new.discount_basis, Some(DiscountBasis::Unambiguous));
    // The old line fields (2 units, discount 10): 10 or 2 × 10; the total (235) says 10.
    assert_eq!(old.discount_basis, Some(DiscountBasis::LineSum));
}

fn discount(label: &str, amount: &str, funded_by: FundedBy) -> LineDiscount {
    LineDiscount {
        label: label.into(),
        amount: d(amount),
        funded_by,
    }
}

#[test]
fn trendyol_discount_details_read_as_line_totals_when_the_totals_say_so() {
    // 3 units at 100, one discountDetails entry {seller 30, TY 15}; the package pays
    // 255 = 300 − 45, so the entry is the line's total (per unit would be 300 − 135).
    let o = parse_order(
        Channel::Trendyol,
        &fixture("trendyol/discount_details_line_sum.json"),
    )
    .unwrap();
    assert_eq!(o.discount_basis, Some(DiscountBasis::LineSum));
    let l = &o.lines[0];
    assert_eq!((l.quantity, l.unit_price), (3, d("100")));
    assert_eq!(
        l.discounts,
        vec![
            discount("seller discount", "30", FundedBy::Seller),
            discount("trendyol discount", "15", FundedBy::Marketplace),
        ]
    );
    assert_eq!(l.net().unwrap(), d("255"));
    assert_eq!(o.marketplace_funded, d("15"));
    assert_eq!(o.computed_total().unwrap(), d("255"));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
}

#[test]
fn trendyol_discount_details_read_per_unit_when_the_totals_say_so() {
    // Line 2101: 3 units at 100, one entry {seller 10 (old name lineItemDiscount), TY 5}
    // per unit → 30 and 15. Line 2102: 2 units at 50, lineSellerDiscount 4 per unit → 8.
    // Package: 300 − 45 + 100 − 8 = 347 (the line-total reading gives 381).
    let o = parse_order(
        Channel::Trendyol,
        &fixture("trendyol/discount_details_per_unit.json"),
    )
    .unwrap();
    assert_eq!(o.discount_basis, Some(DiscountBasis::PerUnit));
    assert_eq!(
        lines_summary(&o),
        vec![
            ("2101".into(), 3, "100".into(), "255".into(), 0),
            ("2102".into(), 2, "50".into(), "92".into(), 0)
        ]
    );
    assert_eq!(
        o.lines[0].discounts,
        vec![
            discount("seller discount", "30", FundedBy::Seller),
            discount("trendyol discount", "15", FundedBy::Marketplace),
        ]
    );
    assert_eq!(
        o.lines[1].discounts,
        vec![discount("seller discount", "8", FundedBy::Seller)]
    );
    assert_eq!(o.marketplace_funded, d("15"));
    assert_eq!(o.computed_total().unwrap(), d("347"));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
}

#[test]
fn trendyol_marketplace_funded_discount_is_told_apart_from_the_sellers() {
    // A B2B (commercial) package: Trendyol pays 12.50 of each of 2 units; the seller
    // gives nothing. The customer pays 175; the seller is still owed 200.
    let o = parse_order(
        Channel::Trendyol,
        &fixture("trendyol/marketplace_funded.json"),
    )
    .unwrap();
    assert_eq!(o.discount_basis, Some(DiscountBasis::Unambiguous));
    assert_eq!(
        o.lines[0].discounts,
        vec![discount("trendyol discount", "25", FundedBy::Marketplace)]
    );
    assert_eq!(o.lines[0].net().unwrap(), d("175"));
    assert_eq!(o.marketplace_funded, d("25"));
    assert_eq!(o.reported.discount, Some(d("25")));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
}

#[test]
fn trendyol_discounts_that_reconcile_under_neither_reading_are_flagged() {
    // 3 units at 100, one entry {seller 10}: 290 or 270, but the package says 260
    // (discount 40). The line-total reading is kept and both figures are reported.
    let o = parse_order(
        Channel::Trendyol,
        &fixture("trendyol/discount_mismatch.json"),
    )
    .unwrap();
    assert_eq!(o.discount_basis, Some(DiscountBasis::Unreconciled));
    assert_eq!(
        o.lines[0].discounts,
        vec![discount("seller discount", "10", FundedBy::Seller)]
    );
    assert_eq!(
        o.mismatches,
        vec![
            TotalMismatch {
                figure: "total".into(),
                channel_amount: d("260"),
                computed_amount: d("290"),
                difference: d("30"),
            },
            TotalMismatch {
                figure: "discount".into(),
                channel_amount: d("40"),
                computed_amount: d("10"),
                difference: d("-30"),
            },
        ]
    );
    // Without any package total the readings cannot be told apart: flagged too.
    let body = String::from_utf8(fixture("trendyol/discount_mismatch.json"))
        .unwrap()
        .replace("\"packageSellerDiscount\": 40.0, \"packageTyDiscount\": 0.0, \"packageTotalPrice\": 260.0,", "");
    let o = parse_order(Channel::Trendyol, body.as_bytes()).unwrap();
    assert_eq!(o.discount_basis, Some(DiscountBasis::Undetermined));
    assert_eq!(o.lines[0].net().unwrap(), d("290"));
    assert!(o.mismatches.is_empty());
}

#[test]
fn trendyol_negative_discount_detail_is_refused_with_its_path() {
    let body = String::from_utf8(fixture("trendyol/discount_mismatch.json"))
        .unwrap()
        .replace(
            "\"lineItemSellerDiscount\": 10.0",
            "\"lineItemSellerDiscount\": -10.0",
        );
    let e = parse_order(Channel::Trendyol, body.as_bytes()).unwrap_err();
    assert_eq!(e.code(), "CHANNEL_INVALID_AMOUNT");
    assert!(
        e.to_string()
            .contains("$.lines[0].discountDetails[0].lineItemSellerDiscount"),
        "{e}"
    );
}

#[test]
fn trendyol_split_packages_merge_into_one_order() {
    let o = parse_order(Channel::Trendyol, &fixture("trendyol/split_packages.json")).unwrap();
    // The UnPacked package was replaced by the two made from it.
    assert_eq!(
        lines_summary(&o),
        vec![
            ("1001".into(), 2, "100".into(), "185".into(), 1),
            ("1002".into(), 1, "50".into(), "50".into(), 0)
        ]
    );
    assert_eq!(o.status.lifecycle, Lifecycle::PartiallyShipped);
    assert_eq!(o.updated_at, Some(utc(2025, 11, 21, 14, 30, 0)));
    assert_eq!(o.reported.total, Some(d("235")));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
    assert_eq!(o.marketplace_funded, d("5"));
}

#[test]
fn trendyol_packages_of_different_orders_are_refused() {
    let body = r#"[{"shipmentPackageId": 1, "orderNumber": "A", "orderDate": 0, "status": "Created", "lines": [{"lineId": 1, "quantity": 1, "lineGrossAmount": 1}]},
                   {"shipmentPackageId": 2, "orderNumber": "B", "orderDate": 0, "status": "Created", "lines": [{"lineId": 2, "quantity": 1, "lineGrossAmount": 1}]}]"#;
    let e = parse_order(Channel::Trendyol, body.as_bytes()).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        ("CHANNEL_ORDER_MISMATCH", "$[1].orderNumber")
    );
}

#[test]
fn trendyol_status_table_and_aggregation() {
    assert_eq!(map_status("AT_COLLECTION_POINT"), Lifecycle::Shipped);
    assert_eq!(map_status("UnSupplied"), Lifecycle::Cancelled);
    assert_eq!(map_status("Awaiting"), Lifecycle::Placed);
    assert_eq!(
        map_status("Teleported"),
        Lifecycle::Unknown("Teleported".into())
    );
    assert_eq!(
        aggregate(&[Lifecycle::Delivered, Lifecycle::Cancelled]),
        Lifecycle::Delivered
    );
    assert_eq!(
        aggregate(&[Lifecycle::Cancelled, Lifecycle::Cancelled]),
        Lifecycle::Cancelled
    );
    assert_eq!(
        aggregate(&[Lifecycle::Shipped, Lifecycle::Delivered]),
        Lifecycle::Shipped
    );
    assert_eq!(
        aggregate(&[Lifecycle::Confirmed, Lifecycle::Processing]),
        Lifecycle::Confirmed
    );
}

#[test]
fn trendyol_undelivered_is_shipped_with_an_exception() {
    let body = String::from_utf8(fixture("trendyol/new_names.json"))
        .unwrap()
        .replace("\"Created\"", "\"UnDelivered\"");
    let o = parse_order(Channel::Trendyol, body.as_bytes()).unwrap();
    assert_eq!(o.status.lifecycle, Lifecycle::Shipped);
    assert!(o.status.delivery_exception);
    assert_eq!(o.lines[0].shipped, 2);
}

#[test]
fn hepsiburada_line_items_merge_across_feeds() {
    let o = parse_order(
        Channel::Hepsiburada,
        &fixture("hepsiburada/merged_feeds.json"),
    )
    .unwrap();
    assert_eq!(o.external_id, "4000000001");
    assert_eq!(
        o.placed_at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
        "2026-11-20T13:30:00.123456700"
    );
    assert_eq!(
        lines_summary(&o),
        vec![
            (
                "5f1c2a9e-0000-4000-8000-000000000001".into(),
                2,
                "89.9".into(),
                "179.8".into(),
                2
            ),
            (
                "5f1c2a9e-0000-4000-8000-000000000002".into(),
                1,
                "50".into(),
                "45".into(),
                0
            ),
        ]
    );
    // The minimal shipped-feed record moved line 1 on without erasing its price or SKU.
    assert_eq!(o.lines[0].ids.sku.as_deref(), Some("TEA-500"));
    assert_eq!(o.lines[0].ids.variant_id.as_deref(), Some("HBV00000TEA01"));
    assert_eq!(o.lines[1].ids.sku.as_deref(), Some("CUP"));
    assert_eq!(o.lines[1].discounts[0].funded_by, FundedBy::Marketplace);
    assert_eq!(o.lines[0].tax_rate, Some(d("0.2")));
    assert_eq!(o.lines[1].tax_rate, Some(d("0.2")));
    assert_eq!(o.status.lifecycle, Lifecycle::PartiallyShipped);
}

/// A feed of many lines (more than the adapter finds by a scan), each line's priced
/// record first and its shipped-feed record later, in another order: every line once,
/// in the order its id first appears, each with its price and its furthest status;
/// a record of another order is still refused.
#[test]
fn hepsiburada_many_lines_merge_in_first_seen_order() {
    let priced = |k: usize| {
        format!(
            r#"{{"id": "L{k:02}", "orderNumber": "4000000009", "orderDate": "2026-11-20T13:30:00Z",
               "merchantSku": "SKU-{k}", "quantity": 1,
               "unitPrice": {{"currency": "TRY", "amount": {k}}},
               "totalPrice": {{"currency": "TRY", "amount": {k}}}, "status": "Open"}}"#
        )
    };
    let shipped = |k: usize| {
        format!(r#"{{"Id": "L{k:02}", "OrderNumber": "4000000009", "Status": "InTransit"}}"#)
    };
    let count = 40;
    let mut records: Vec<String> = (1..=count).map(priced).collect();
    // Every third line shipped, their records from the last line back.
    records.extend((1..=count).rev().filter(|k| k % 3 == 0).map(shipped));
    let body = format!(r#"{{"items": [{}]}}"#, records.join(","));
    let o = parse_order(Channel::Hepsiburada, body.as_bytes()).unwrap();
    assert_eq!(o.lines.len(), count);
    for (k, line) in (1..=count).zip(&o.lines) {
        assert_eq!(line.external_line_id, format!("L{k:02}"));
        assert_eq!(line.ids.sku, Some(format!("SKU-{k}")));
        assert_eq!(line.unit_price, d(&k.to_string()));
        let want = if k % 3 == 0 { 1 } else { 0 };
        assert_eq!(line.shipped, want, "line {k}");
    }
    assert_eq!(o.status.lifecycle, Lifecycle::PartiallyShipped);

    records.push(shipped(7).replace("4000000009", "4000000010"));
    let body = format!(r#"{{"items": [{}]}}"#, records.join(","));
    let err = parse_order(Channel::Hepsiburada, body.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("4000000010"), "{err}");
}

/// A record's members read as a lookup reads them: the last of a repeated key, `null`
/// as absent, a blank newer name falling back to the older one, an escaped key as its
/// text.
#[test]
fn hepsiburada_reads_repeated_null_blank_and_escaped_members_as_lookups_do() {
    let body = r#"{"items": [{
        "id": "L1", "orderNumber": "4000000011", "orderDate": "2026-11-20T13:30:00Z",
        "merchantSku": "  ", "merchantSKU": "OLD-SKU",
        "hbSku": "HB1", "sku": "HB-OLD",
        "productName": "Tea", "productName": null,
        "quantity": 1, "quantity": 2,
        "unit\u0050rice": {"currency": "TRY", "amount": 10},
        "vatRate": null, "status": "Open", "Status": "Delivered"
    }]}"#;
    let o = parse_order(Channel::Hepsiburada, body.as_bytes()).unwrap();
    let line = &o.lines[0];
    assert_eq!(line.ids.sku.as_deref(), Some("OLD-SKU"));
    assert_eq!(line.ids.variant_id.as_deref(), Some("HB1"));
    assert_eq!(line.title, None);
    assert_eq!(line.quantity, 2);
    assert_eq!(line.unit_price, d("10"));
    assert_eq!(line.tax_rate, None);
    // `status` is read before `Status` when both are there.
    assert_eq!(line.status_raw.as_deref(), Some("Open"));
    // A required member that is null is missing, and named.
    let err = parse_order(
        Channel::Hepsiburada,
        body.replace(r#""quantity": 2"#, r#""quantity": null"#)
            .as_bytes(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("quantity"), "{err}");
}

#[test]
fn hepsiburada_unknown_status_never_fails_the_import() {
    let body = String::from_utf8(fixture("hepsiburada/merged_feeds.json"))
        .unwrap()
        .replace("\"InTransit\"", "\"YeniDurum\"")
        .replace("\"Open\"", "\"YeniDurum\"");
    let o = parse_order(Channel::Hepsiburada, body.as_bytes()).unwrap();
    assert_eq!(o.status.lifecycle, Lifecycle::Unknown("YeniDurum".into()));
    assert!(!o.status.paid);
}

#[test]
fn amazon_v0_item_price_is_a_line_total() {
    let o = parse_order(Channel::AmazonV0, &fixture("amazon/v0_us_unshipped.json")).unwrap();
    assert_eq!(o.external_id, "113-1234567-1234567");
    assert!(!o.taxes_included); // US marketplace
    assert_eq!(
        (o.status.lifecycle.clone(), o.status.paid),
        (Lifecycle::Confirmed, true)
    );
    let l = &o.lines[0];
    assert_eq!(
        (l.quantity, l.unit_price, l.net().unwrap()),
        (2, d("19.99"), d("35.98"))
    );
    assert_eq!(l.tax_amount, Some(d("3.20")));
    assert_eq!(o.shipping[0].price, d("5.99"));
    assert_eq!(o.shipping[0].tax_amount, Some(d("0.48")));
    assert_eq!(o.computed_total().unwrap(), d("45.65"));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
    assert!(!o.fulfilled_by_marketplace);
}

#[test]
fn amazon_v0_without_order_total_takes_the_item_currency() {
    let o = parse_order(Channel::AmazonV0, &fixture("amazon/v0_jp_no_total.json")).unwrap();
    assert_eq!(o.currency.code(), "JPY");
    assert!(o.taxes_included);
    let l = &o.lines[0];
    // 19940 / 3 rounds up to 6647; the 1 yen of rounding is a discount: still 19940.
    assert_eq!(
        (l.unit_price, l.net().unwrap(), l.shipped),
        (d("6647"), d("19940"), 3)
    );
    assert_eq!(o.status.lifecycle, Lifecycle::Shipped);
    assert_eq!(o.reported.total, None);
}

#[test]
fn amazon_v0_jpy_with_decimals_is_too_precise() {
    let body = String::from_utf8(fixture("amazon/v0_jp_no_total.json"))
        .unwrap()
        .replace("\"19940\"", "\"25.99\"");
    let e = parse_order(Channel::AmazonV0, body.as_bytes()).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        ("CHANNEL_TOO_PRECISE", "$.OrderItems[0].ItemPrice.Amount")
    );
}

#[test]
fn amazon_v0_afn_is_marked_fulfilled_by_the_marketplace() {
    let body = String::from_utf8(fixture("amazon/v0_us_unshipped.json"))
        .unwrap()
        .replace("\"MFN\"", "\"AFN\"");
    assert!(
        parse_order(Channel::AmazonV0, body.as_bytes())
            .unwrap()
            .fulfilled_by_marketplace
    );
}

#[test]
fn amazon_2026_items_inline_and_order_level_tip() {
    let o = parse_order(
        Channel::Amazon2026,
        &fixture("amazon/2026_partially_shipped.json"),
    )
    .unwrap();
    assert_eq!(o.external_id, "302-1234567-1234567");
    assert!(o.taxes_included); // Amazon.de
    assert_eq!(o.status.lifecycle, Lifecycle::PartiallyShipped);
    assert_eq!(
        lines_summary(&o),
        vec![
            ("A1".into(), 2, "19.99".into(), "34.98".into(), 1),
            ("A2".into(), 1, "20".into(), "20".into(), 0)
        ]
    );
    assert_eq!(o.lines[0].tax_amount, Some(d("5.58")));
    let shipping: Vec<(String, String)> = o
        .shipping
        .iter()
        .map(|s| (s.title.clone(), s.price.to_string()))
        .collect();
    assert_eq!(
        shipping,
        vec![
            ("Standard".into(), "4.99".into()),
            ("Delivery tip".into(), "2.5".into())
        ]
    );
    assert_eq!(o.computed_total().unwrap(), d("62.47"));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
}

#[test]
fn ebay_line_item_cost_is_a_line_total_and_promotions_are_discounts() {
    let o = parse_order(Channel::Ebay, &fixture("ebay/paid_promotion.json")).unwrap();
    assert_eq!(o.external_id, "12-12345-12345");
    assert_eq!(o.display_number.as_deref(), Some("5501"));
    assert_eq!(o.placed_at, utc(2026, 11, 20, 13, 30, 0));
    assert_eq!(o.status.lifecycle, Lifecycle::PartiallyShipped);
    assert_eq!(
        lines_summary(&o),
        vec![
            ("10000000001".into(), 3, "10".into(), "27".into(), 0),
            ("10000000002".into(), 1, "9.99".into(), "9.99".into(), 1)
        ]
    );
    assert_eq!(o.lines[0].discounts[0].label, "PROMO-10");
    assert_eq!(o.lines[0].tax_rate, Some(d("0.08")));
    assert_eq!(o.computed_total().unwrap(), d("43.95")); // collect-and-remit tax is not in the total
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
}

#[test]
fn ebay_cancelled_and_refunded() {
    let o = parse_order(Channel::Ebay, &fixture("ebay/cancelled_refunded.json")).unwrap();
    assert_eq!(o.status.lifecycle, Lifecycle::Cancelled);
    assert_eq!(o.status.refund, RefundState::Full);
    assert_eq!(o.refunded_amount, d("9.99"));
    assert_eq!(o.lines[0].cancelled, 1);
    assert_eq!(o.events[0].external_id, "R-1");
}

#[test]
fn ebay_amount_in_another_currency_is_refused() {
    let body = String::from_utf8(fixture("ebay/paid_promotion.json"))
        .unwrap()
        .replacen(
            "\"value\": \"9.99\", \"currency\": \"USD\"",
            "\"value\": \"9.99\", \"currency\": \"EUR\"",
            1,
        );
    let e = parse_order(Channel::Ebay, body.as_bytes()).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (
            "CHANNEL_CURRENCY_MISMATCH",
            "$.lineItems[1].lineItemCost.currency"
        )
    );
}

/// In VAT-inclusive marketplaces Amazon often sends `ItemTax` as zero: that is "not
/// itemised", not "0 % VAT". In the US a zero is a real zero.
#[test]
fn amazon_zero_item_tax_is_unknown_where_prices_include_vat() {
    let base = String::from_utf8(fixture("amazon/v0_us_unshipped.json"))
        .unwrap()
        .replace(
            "\"ItemTax\": {\"CurrencyCode\": \"USD\", \"Amount\": \"3.20\"}",
            "\"ItemTax\": {\"CurrencyCode\": \"USD\", \"Amount\": \"0.00\"}",
        )
        .replace(
            "\"ShippingTax\": {\"CurrencyCode\": \"USD\", \"Amount\": \"0.48\"}",
            "\"ShippingTax\": {\"CurrencyCode\": \"USD\", \"Amount\": \"0.00\"}",
        );
    let us = parse_order(Channel::AmazonV0, base.as_bytes()).unwrap();
    assert!(!us.taxes_included);
    assert_eq!(us.lines[0].tax_amount, Some(d("0")));
    assert_eq!(us.reported_line_tax(), Some(d("0")));
    let de = base.replace(
        "\"MarketplaceId\": \"ATVPDKIKX0DER\"",
        "\"MarketplaceId\": \"A1PA6795UKMFR9\"",
    );
    let de = parse_order(Channel::AmazonV0, de.as_bytes()).unwrap();
    assert!(de.taxes_included);
    assert_eq!(de.lines[0].tax_amount, None);
    assert_eq!(de.reported_line_tax(), None);
}

/// A Hepsiburada line one feed reports `Undelivered` is a delivery exception until
/// another feed's record of it gets past that: delivered, it is none.
#[test]
fn hepsiburada_undelivered_is_an_exception_until_delivered() {
    let body = String::from_utf8(fixture("hepsiburada/merged_feeds.json")).unwrap();
    let failed = body.replace("\"Status\": \"InTransit\"", "\"Status\": \"Undelivered\"");
    let o = parse_order(Channel::Hepsiburada, failed.as_bytes()).unwrap();
    assert!(o.status.delivery_exception);
    assert_eq!(o.lines[0].shipped, 2);
    // A later feed's record of the same line says delivered.
    let delivered = failed.replace(
        "\"CargoCompany\": \"Aras\"}",
        "\"CargoCompany\": \"Aras\"},\n  {\"Id\": \"5f1c2a9e-0000-4000-8000-000000000001\", \"OrderNumber\": \"4000000001\", \"Status\": \"Delivered\"}",
    );
    let o = parse_order(Channel::Hepsiburada, delivered.as_bytes()).unwrap();
    assert_eq!(o.lines[0].delivered, 2);
    assert!(!o.status.delivery_exception);
}

/// eBay refunds: two of one line without a `refundId` stay two events (keyed by their
/// reference, else their place), and the payment summary's own refunds (a shipping
/// refund, say) count once refunded, never again when a line already lists them.
#[test]
fn ebay_every_refund_counts_once_whether_on_a_line_or_the_order() {
    let line_refunds = r#""refunds": [
        {"amount": {"value": "1.00", "currency": "USD"}},
        {"amount": {"value": "2.00", "currency": "USD"}},
        {"refundReferenceId": "REF-9", "amount": {"value": "0.50", "currency": "USD"}},
        {"refundId": "R-1", "amount": {"value": "3.00", "currency": "USD"}}]}]"#;
    let summary = r#", "paymentSummary": {"refunds": [
        {"refundId": "R-1", "refundStatus": "REFUNDED", "amount": {"value": "3.00", "currency": "USD"}},
        {"refundReferenceId": "REF-9", "refundStatus": "REFUNDED", "amount": {"value": "0.50", "currency": "USD"}},
        {"refundId": "R-SHIP", "refundStatus": "REFUNDED", "amount": {"value": "4.00", "currency": "USD"}},
        {"refundId": "R-WAIT", "refundStatus": "PENDING", "amount": {"value": "5.00", "currency": "USD"}},
        {"refundStatus": "REFUNDED", "amount": {"value": "6.00", "currency": "USD"}}]}}"#;
    let body = String::from_utf8(fixture("ebay/cancelled_refunded.json"))
        .unwrap()
        .replace(
            r#""refunds": [{"refundId": "R-1", "amount": {"value": "9.99", "currency": "USD"}, "refundDate": "2026-11-20T15:00:00.000Z"}]}]"#,
            line_refunds,
        );
    let body = format!("{}{summary}", body.trim_end().trim_end_matches('}'));
    let o = parse_order(Channel::Ebay, body.as_bytes()).unwrap();
    let ids: Vec<(&str, rust_decimal::Decimal)> = o
        .events
        .iter()
        .map(|e| (e.external_id.as_str(), e.amount.unwrap()))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("20000000001:refund:1", d("1.00")),
            ("20000000001:refund:2", d("2.00")),
            ("refund-ref:REF-9", d("0.50")),
            ("R-1", d("3.00")),
            ("R-SHIP", d("4.00")),
        ]
    );
    assert!(o.events[4].lines.is_empty(), "the order's own refund");
    assert_eq!(o.refunded_amount, d("10.50"));
}

/// An Amazon v0 item without `ItemPrice` (a `Pending` order: no pricing yet) is
/// unpriced, not free: a placeholder unit price of zero, no tax, no figure compared.
/// Without `OrderTotal` or any priced item the currency is the marketplace's; an
/// unknown marketplace leaves the missing `ItemPrice` the error it always was.
#[test]
fn amazon_v0_items_without_item_price_are_unpriced() {
    let body = |total: &str, marketplace: &str| {
        format!(
            r#"{{"AmazonOrderId": "113-1234567-1234567", "PurchaseDate": "2026-11-20T13:30:00Z",
  "OrderStatus": "Pending", "FulfillmentChannel": "MFN", "MarketplaceId": "{marketplace}" {total},
  "OrderItems": [{{"OrderItemId": "1", "SellerSKU": "MUG-RED", "QuantityOrdered": 2}}]}}"#
        )
    };
    let with_total = body(
        r#", "OrderTotal": {"CurrencyCode": "USD", "Amount": "45.65"}"#,
        "ATVPDKIKX0DER",
    );
    for (text, currency) in [
        (with_total, "USD"),
        (body("", "ATVPDKIKX0DER"), "USD"),
        (body("", "A1VC38T7YXB528"), "JPY"),
        (body("", "A1PA6795UKMFR9"), "EUR"),
    ] {
        let o = parse_order(Channel::AmazonV0, text.as_bytes()).unwrap();
        assert_eq!(o.currency.code(), currency);
        assert_eq!(
            (o.status.lifecycle.clone(), o.status.paid),
            (Lifecycle::Placed, false)
        );
        let l = &o.lines[0];
        assert!(l.unpriced);
        assert_eq!((l.quantity, l.unit_price, l.tax_amount), (2, d("0"), None));
        assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
    }
    // A priced item is not unpriced, even at zero (a free item).
    let priced = parse_order(Channel::AmazonV0, &fixture("amazon/v0_us_unshipped.json")).unwrap();
    assert!(!priced.lines[0].unpriced);
    let free = body("", "ATVPDKIKX0DER").replace(
        r#""QuantityOrdered": 2"#,
        r#""QuantityOrdered": 2, "ItemPrice": {"CurrencyCode": "USD", "Amount": "0.00"}"#,
    );
    let o = parse_order(Channel::AmazonV0, free.as_bytes()).unwrap();
    assert!(!o.lines[0].unpriced);
    // Nothing names a currency: the error is the missing `ItemPrice`, as before.
    let err = parse_order(Channel::AmazonV0, body("", "XX0000000000").as_bytes()).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("CHANNEL_MISSING_FIELD", "$.OrderItems[0].ItemPrice")
    );
    // A malformed price is still refused.
    let bad = body("", "ATVPDKIKX0DER").replace(
        r#""QuantityOrdered": 2"#,
        r#""QuantityOrdered": 2, "ItemPrice": {"CurrencyCode": "USD"}"#,
    );
    let err = parse_order(Channel::AmazonV0, bad.as_bytes()).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("CHANNEL_MISSING_FIELD", "$.OrderItems[0].ItemPrice.Amount")
    );
}
