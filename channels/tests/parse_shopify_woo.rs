//! Shopify and WooCommerce fixtures, each with its canonical order written by hand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{d, fixture, utc};
use ordersmith_channels::{parse_order, Channel, FundedBy, Lifecycle, RefundState, TotalMismatch};

#[test]
fn shopify_multi_line_discounted_tax_exclusive() {
    let o = parse_order(
        Channel::Shopify,
        &fixture("shopify/multi_line_discounted.json"),
    )
    .unwrap();
    assert_eq!(o.external_id, "5160000000000012345"); // above 2^53, exact
    assert_eq!(o.display_number.as_deref(), Some("#1001"));
    assert_eq!(o.placed_at, utc(2026, 11, 20, 13, 30, 0)); // -04:00 normalised
    assert_eq!(o.updated_at, Some(utc(2026, 11, 20, 13, 31, 0)));
    assert_eq!(o.currency.code(), "USD");
    assert!(!o.taxes_included && !o.test);
    assert_eq!(o.status.lifecycle, Lifecycle::Confirmed);
    assert!(o.status.paid);
    assert_eq!(o.lines.len(), 2);
    let l1 = &o.lines[0];
    assert_eq!(l1.external_line_id, "9007199254740993");
    assert_eq!(l1.ids.sku.as_deref(), Some("MUG-RED"));
    assert_eq!(l1.ids.variant_id.as_deref(), Some("40000000000000001"));
    assert_eq!((l1.quantity, l1.unit_price), (2, d("12.50")));
    assert_eq!(l1.discounts.len(), 1);
    assert_eq!(l1.discounts[0].amount, d("2.50"));
    assert_eq!(
        (l1.tax_rate, l1.tax_amount),
        (Some(d("0.08")), Some(d("1.80")))
    );
    let l2 = &o.lines[1];
    assert_eq!(l2.ids.sku, None); // "" is no SKU
    assert_eq!((l2.unit_price, l2.net().unwrap()), (d("20.00"), d("18.00")));
    assert_eq!(o.shipping.len(), 1);
    assert_eq!(
        (o.shipping[0].price, o.shipping[0].tax_amount),
        (d("5.00"), Some(d("0.40")))
    );
    assert_eq!(o.computed_total().unwrap(), d("49.14"));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
    assert!(o.raw.is_some());
}

#[test]
fn shopify_tax_inclusive_partially_shipped_and_refunded() {
    let o = parse_order(
        Channel::Shopify,
        &fixture("shopify/tax_inclusive_partial_refund.json"),
    )
    .unwrap();
    assert!(o.taxes_included);
    assert_eq!(o.placed_at, utc(2026, 11, 21, 9, 0, 0));
    assert_eq!(o.status.lifecycle, Lifecycle::PartiallyShipped);
    assert_eq!(o.status.refund, RefundState::Partial);
    let l = &o.lines[0];
    assert_eq!(
        (l.quantity, l.unit_price, l.tax_rate),
        (3, d("24.00"), Some(d("0.2")))
    );
    assert_eq!((l.shipped, l.cancelled), (2, 1)); // 3 − 0 fulfillable − 1 cancelled
    assert_eq!(o.refunded_amount, d("24.00"));
    assert_eq!(o.events.len(), 1);
    let ev = &o.events[0];
    assert_eq!(
        (ev.kind.as_str(), ev.external_id.as_str()),
        ("refund", "9001")
    );
    assert_eq!(ev.lines, vec![("11".to_string(), 1)]);
    assert_eq!(ev.amount, Some(d("24.00")));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
}

/// Shopify has no delivered status on the order: the carrier's `shipment_status` on each
/// successful fulfillment is the signal, per line item and quantity.
#[test]
fn shopify_delivery_comes_from_the_fulfillments_shipment_status() {
    let base = String::from_utf8(fixture("shopify/multi_line_discounted.json"))
        .unwrap()
        .replace(
            "\"fulfillment_status\": null",
            "\"fulfillment_status\": \"fulfilled\"",
        )
        .replace("\"fulfillable_quantity\": 2", "\"fulfillable_quantity\": 0")
        .replace("\"fulfillable_quantity\": 1", "\"fulfillable_quantity\": 0");
    let with = |fulfillments: &str| {
        let text = base.replacen(
            "\"id\": 5160000000000012345,",
            &format!("\"id\": 5160000000000012345, \"fulfillments\": [{fulfillments}],"),
            1,
        );
        parse_order(Channel::Shopify, text.as_bytes()).unwrap()
    };
    let mug = r#"{"id": 9007199254740993, "quantity": 2}"#;
    let tee = r#"{"id": 2, "quantity": 1}"#;
    // Both shipped in two parcels, only the mug's delivered so far.
    let o = with(&format!(
        r#"{{"id": 1, "status": "success", "shipment_status": "delivered", "line_items": [{mug}]}},
           {{"id": 2, "status": "success", "shipment_status": "in_transit", "line_items": [{tee}]}}"#
    ));
    assert_eq!(o.status.lifecycle, Lifecycle::Shipped);
    assert_eq!(
        o.lines
            .iter()
            .map(|l| (l.shipped, l.delivered))
            .collect::<Vec<_>>(),
        [(2, 2), (1, 0)]
    );
    // Both delivered (one picked up): the order is delivered.
    let o = with(&format!(
        r#"{{"id": 1, "status": "success", "shipment_status": "delivered", "line_items": [{mug}]}},
           {{"id": 2, "status": "success", "shipment_status": "picked_up", "line_items": [{tee}]}}"#
    ));
    assert_eq!(o.status.lifecycle, Lifecycle::Delivered);
    // A cancelled fulfillment that once said delivered delivers nothing.
    let o = with(&format!(
        r#"{{"id": 1, "status": "cancelled", "shipment_status": "delivered", "line_items": [{mug}, {tee}]}}"#
    ));
    assert_eq!(o.status.lifecycle, Lifecycle::Shipped);
    assert!(o.lines.iter().all(|l| l.delivered == 0));
}

#[test]
fn shopify_cancelled_test_order_is_flagged() {
    let o = parse_order(Channel::Shopify, &fixture("shopify/cancelled_test.json")).unwrap();
    assert!(o.test);
    assert_eq!(o.external_id, "gid://shopify/Order/42");
    assert_eq!(o.status.lifecycle, Lifecycle::Cancelled);
    assert!(!o.status.paid);
}

#[test]
fn shopify_order_level_tax_without_line_tax_is_reported_not_lost() {
    let o = parse_order(Channel::Shopify, &fixture("shopify/legacy_order_tax.json")).unwrap();
    assert_eq!(o.status.lifecycle, Lifecycle::Shipped);
    assert_eq!(o.lines[0].shipped, 1);
    // The payload says tax 2.00 and total 22.00, its lines carry no tax: both figures differ.
    assert_eq!(
        o.mismatches,
        vec![
            TotalMismatch {
                figure: "total".into(),
                channel_amount: d("22.00"),
                computed_amount: d("20.00"),
                difference: d("-2.00")
            },
            TotalMismatch {
                figure: "tax".into(),
                channel_amount: d("2.00"),
                computed_amount: d("0"),
                difference: d("-2.00")
            },
        ]
    );
}

#[test]
fn shopify_status_table_rows_and_unknown() {
    let body = |fin: &str, ful: &str| {
        format!(
            r#"{{"id":1,"created_at":"2026-11-20T10:00:00Z","currency":"USD","financial_status":{fin},"fulfillment_status":{ful},
        "line_items":[{{"id":1,"quantity":1,"price":"1.00"}}]}}"#
        )
    };
    let life = |fin: &str, ful: &str| {
        parse_order(Channel::Shopify, body(fin, ful).as_bytes())
            .unwrap()
            .status
            .lifecycle
    };
    assert_eq!(life("\"pending\"", "null"), Lifecycle::Placed);
    assert_eq!(life("\"authorized\"", "null"), Lifecycle::Confirmed);
    assert_eq!(life("\"paid\"", "\"partial\""), Lifecycle::PartiallyShipped);
    assert_eq!(life("\"paid\"", "\"fulfilled\""), Lifecycle::Shipped);
    assert_eq!(life("\"expired\"", "null"), Lifecycle::Cancelled);
    assert_eq!(
        life("\"paid\"", "\"teleported\""),
        Lifecycle::Unknown("fulfillment_status=teleported".into())
    );
    assert_eq!(
        life("\"bartered\"", "null"),
        Lifecycle::Unknown("financial_status=bartered".into())
    );
}

#[test]
fn woo_inclusive_prices_from_totals_never_from_float_price() {
    let o = parse_order(
        Channel::WooCommerce,
        &fixture("woo_commerce/processing_inclusive.json"),
    )
    .unwrap();
    assert_eq!(o.external_id, "727");
    assert_eq!(o.placed_at, utc(2026, 11, 20, 13, 30, 0)); // *_gmt without zone = UTC
    assert!(o.taxes_included);
    assert_eq!(
        (o.status.lifecycle.clone(), o.status.paid),
        (Lifecycle::Confirmed, true)
    );
    assert_eq!(o.lines.len(), 2, "the line listed twice is read once");
    let tea = &o.lines[0];
    assert_eq!((tea.quantity, tea.unit_price), (3, d("10.00"))); // (25.00 + 5.00) / 3, gross
    assert_eq!(tea.discounts[0].amount, d("3.00")); // 30.00 − 27.00
    assert_eq!(tea.tax_amount, Some(d("4.50")));
    assert_eq!(tea.tax_rate, Some(d("0.2"))); // derived: 4.50 / (27.00 − 4.50)
    let cup = &o.lines[1];
    assert_eq!(cup.unit_price, d("12.00")); // not 10.799999999999999
    assert_eq!(cup.ids.variant_id.as_deref(), Some("23"));
    assert_eq!(cup.ids.sku, None);
    assert_eq!(o.shipping[0].price, d("4.80"));
    assert_eq!(o.computed_total().unwrap(), d("43.80"));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
}

#[test]
fn woo_unit_price_rounding_refunds_and_shipping_total_mismatch() {
    let o = parse_order(
        Channel::WooCommerce,
        &fixture("woo_commerce/rounding_refunded.json"),
    )
    .unwrap();
    assert_eq!(o.display_number.as_deref(), Some("WC-728"));
    let l = &o.lines[0];
    assert_eq!(l.unit_price, d("3.34"));
    assert_eq!(l.discounts[0].amount, d("0.02"));
    assert_eq!(l.net().unwrap(), d("10.00"));
    assert_eq!(o.status.lifecycle, Lifecycle::Cancelled);
    assert_eq!(o.status.refund, RefundState::Full);
    assert_eq!(o.refunded_amount, d("10.00"));
    assert_eq!(o.events.len(), 2);
    // shipping_total says 0.00, the shipping lines 2.00: reported, with the total.
    let figures: Vec<(&str, _)> = o
        .mismatches
        .iter()
        .map(|m| (m.figure.as_str(), m.difference))
        .collect();
    assert_eq!(figures, vec![("total", d("2.00")), ("shipping", d("2.00"))]);
}

#[test]
fn woo_ping_is_recognised() {
    assert!(ordersmith_channels::adapters::woo::is_ping(
        b"webhook_id=15"
    ));
    assert!(!ordersmith_channels::adapters::woo::is_ping(b"webhook_id="));
    assert!(!ordersmith_channels::adapters::woo::is_ping(b"{\"id\": 1}"));
}

#[test]
fn woo_fractional_quantity_is_refused_with_its_path() {
    let body = String::from_utf8(fixture("woo_commerce/processing_inclusive.json"))
        .unwrap()
        .replacen("\"quantity\": 3", "\"quantity\": 1.5", 1);
    let e = parse_order(Channel::WooCommerce, body.as_bytes()).unwrap_err();
    assert_eq!(
        (e.code(), e.path(), e.channel()),
        (
            "CHANNEL_INVALID_QUANTITY",
            "$.line_items[0].quantity",
            "woo_commerce"
        )
    );
}

#[test]
fn marketplace_funded_discounts_are_marked() {
    let o = parse_order(Channel::Trendyol, &fixture("trendyol/new_names.json")).unwrap();
    let funded: Vec<FundedBy> = o.lines[0].discounts.iter().map(|d| d.funded_by).collect();
    assert_eq!(funded, vec![FundedBy::Seller, FundedBy::Marketplace]);
    assert_eq!(o.marketplace_funded, d("5.0"));
}

/// `body` (the discounted fixture) with one mug refunded with `restock`, parsed.
fn with_mug_refund(body: &str, restock: &str) -> ordersmith_channels::ChannelOrder {
    let text = body.replace(
        "\"refunds\": []",
        &format!(
            r#""refunds": [{{"id": 77, "transactions": [], "refund_line_items": [{{"line_item_id": 9007199254740993, "quantity": 1, "restock_type": "{restock}"}}]}}]"#
        ),
    );
    parse_order(Channel::Shopify, text.as_bytes()).unwrap()
}

/// Shopify refunds an unshipped unit with `no_restock` as readily as with `cancel`: the
/// unit leaves the order (its fulfillable quantity drops) though the refund does not
/// say so. Shipped units come from the successful fulfillments, so such a unit is
/// counted cancelled, not shipped; `no_restock` on a shipped unit returns nothing (the
/// customer keeps it), and `legacy_restock` returns a shipped unit.
#[test]
fn shopify_units_refunded_without_restock_before_shipping_left_the_order() {
    // Three mugs: one shipped, one refunded `no_restock` before shipping, one to ship.
    let base = String::from_utf8(fixture("shopify/multi_line_discounted.json"))
        .unwrap()
        .replace(
            r#""quantity": 2, "price": "12.50",
     "fulfillable_quantity": 2, "fulfillment_status": null"#,
            r#""quantity": 3, "price": "12.50",
     "fulfillable_quantity": 1, "fulfillment_status": "partial""#,
        )
        .replace(
            "\"fulfillment_status\": null,\n  \"total_price\"",
            "\"fulfillment_status\": \"partial\",\n  \"total_price\"",
        )
        .replace(r#""price": "1.80", "rate": 0.08"#, r#""price": "2.80", "rate": 0.08"#)
        .replace(r#""total_price": "49.14""#, r#""total_price": "62.64""#)
        .replacen(
            "\"id\": 5160000000000012345,",
            r#""id": 5160000000000012345, "fulfillments": [
                {"id": 1, "status": "success", "line_items": [{"id": 9007199254740993, "quantity": 1}]},
                {"id": 2, "status": "cancelled", "line_items": [{"id": 9007199254740993, "quantity": 2}]}],"#,
            1,
        );
    let with_refund = |restock: &str| with_mug_refund(&base, restock);
    let o = with_refund("no_restock");
    assert_eq!(o.status.lifecycle, Lifecycle::PartiallyShipped);
    let mug = &o.lines[0];
    assert_eq!(
        (mug.shipped, mug.cancelled, mug.returned),
        (1, 1, 0),
        "one shipped, one left the order, nothing came back"
    );
    // The same with `cancel` (the refund says it): the same counts.
    let o = with_refund("cancel");
    assert_eq!((o.lines[0].shipped, o.lines[0].cancelled), (1, 1));

    // The shipped mug refunded `no_restock` (the customer keeps it): still shipped,
    // nothing back, nothing cancelled; with `legacy_restock` it came back.
    let shipped_refund = base.replace(
        r#""fulfillable_quantity": 1, "fulfillment_status": "partial""#,
        r#""fulfillable_quantity": 2, "fulfillment_status": "partial""#,
    );
    let with_shipped_refund = |restock: &str| with_mug_refund(&shipped_refund, restock);
    let mug = &with_shipped_refund("no_restock").lines[0];
    assert_eq!((mug.shipped, mug.cancelled, mug.returned), (1, 0, 0));
    let o = with_shipped_refund("legacy_restock");
    let mug = &o.lines[0];
    assert_eq!((mug.shipped, mug.cancelled, mug.returned), (1, 0, 1));
    assert!(o.events[0].restock);
    // `legacy_restock` of an unshipped unit (it left the order): cancelled.
    let mug = &with_refund("legacy_restock").lines[0];
    assert_eq!((mug.shipped, mug.cancelled, mug.returned), (1, 1, 0));
}

/// The multi-currency fixture (shop EUR, customer USD), its refund transaction's
/// `amount_set` replaced by `transaction`.
fn multi_currency_with(transaction: &str) -> String {
    let body = String::from_utf8(fixture("shopify/multi_currency_refund.json")).unwrap();
    let start = body.find(r#"{"id": 5001"#).unwrap();
    let end = body[start..].find("}}}]").unwrap() + start + 3;
    format!("{}{transaction}{}", &body[..start], &body[end..])
}

/// Shopify money is read in shop money (`currency`, the plain fields); a refund
/// transaction's `amount` is in the customer's (presentment) currency, so its
/// `amount_set.shop_money` is what the refund is booked at.
#[test]
fn shopify_refunds_are_booked_in_shop_money() {
    let o = parse_order(
        Channel::Shopify,
        &fixture("shopify/multi_currency_refund.json"),
    )
    .unwrap();
    assert_eq!(o.currency.code(), "EUR");
    assert_eq!(o.lines[0].unit_price, d("24.00"));
    assert_eq!(o.refunded_amount, d("24.00"));
    assert_eq!(o.events[0].amount, Some(d("24.00")));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
    // In the shop's currency, or naming none, a plain `amount` is shop money.
    for t in [
        r#"{"id": 5001, "kind": "refund", "status": "success", "amount": "24.00", "currency": "EUR"}"#,
        r#"{"id": 5001, "kind": "refund", "status": "success", "amount": "24.00"}"#,
    ] {
        let o = parse_order(Channel::Shopify, multi_currency_with(t).as_bytes()).unwrap();
        assert_eq!(o.refunded_amount, d("24.00"), "{t}");
    }
}

/// A refund transaction in another currency than the shop's with no shop-money
/// amount cannot be booked: refused, naming the transaction's currency. A shop-money
/// amount in another currency, or without an amount, is refused too.
#[test]
fn shopify_refunds_in_another_currency_without_shop_money_are_refused() {
    let cases = [
        (
            r#"{"id": 5001, "kind": "refund", "status": "success", "amount": "26.40", "currency": "USD"}"#,
            "CHANNEL_CURRENCY_MISMATCH",
            "$.refunds[0].transactions[0].currency",
        ),
        (
            r#"{"id": 5001, "kind": "refund", "status": "success", "amount": "26.40", "currency": "USD",
                "amount_set": {"shop_money": {"amount": "26.40", "currency_code": "USD"}}}"#,
            "CHANNEL_CURRENCY_MISMATCH",
            "$.refunds[0].transactions[0].amount_set.shop_money.currency_code",
        ),
        (
            r#"{"id": 5001, "kind": "refund", "status": "success", "amount": "26.40", "currency": "USD",
                "amount_set": {"presentment_money": {"amount": "26.40", "currency_code": "USD"}}}"#,
            "CHANNEL_MISSING_FIELD",
            "$.refunds[0].transactions[0].amount_set.shop_money",
        ),
        (
            r#"{"id": 5001, "kind": "refund", "status": "success", "amount": "26.40", "currency": "USD",
                "amount_set": {"shop_money": {"currency_code": "EUR"}}}"#,
            "CHANNEL_MISSING_FIELD",
            "$.refunds[0].transactions[0].amount_set.shop_money.amount",
        ),
    ];
    for (t, code, path) in cases {
        let err = parse_order(Channel::Shopify, multi_currency_with(t).as_bytes()).unwrap_err();
        assert_eq!((err.code(), err.path()), (code, path), "{t}");
    }
}
