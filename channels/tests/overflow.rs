//! Amounts, units and times that are each valid but whose product, sum or difference
//! is beyond what a `Decimal`, a `u32` or a chrono time holds: the payload is refused
//! with a typed error naming where, never a panic; values at the very edge still parse.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::DateTime;
use common::{d, fixture, utc};
use ordersmith_channels::{parse_order, Channel, FundedBy};

/// Half of `Decimal::MAX`, rounded up: twice it is one more than the largest decimal.
const HALF_MAX_UP: &str = "39614081257132168796771975168";
/// 5 × 10^28: two of them are more than the largest decimal (≈ 7.9 × 10^28).
const FIVE_E28: &str = "50000000000000000000000000000";
/// The largest decimal.
const MAX: &str = "79228162514264337593543950335";

/// The code and path of the refusal of `body`.
fn refused(channel: Channel, body: &str) -> (&'static str, String) {
    match parse_order(channel, body.as_bytes()) {
        Ok(o) => panic!("{channel}: parsed, expected a refusal: {:?}", o.lines),
        Err(e) => {
            assert_eq!(e.channel(), channel.as_str());
            (e.code(), e.path().to_string())
        }
    }
}

/// A Shopify order with `lines` and extra top-level members `extra` (each with its
/// leading comma).
fn shopify(lines: &str, extra: &str) -> String {
    format!(
        r#"{{"id": 1, "created_at": "2026-11-20T09:30:00Z", "currency": "USD",
            "financial_status": "paid"{extra}, "line_items": [{lines}]}}"#
    )
}

/// A Trendyol package of order 1 with one line (id 1001, 1 unit at 100 TRY, then
/// `line`'s members, which win over those) and extra package members `extra`.
fn package(id: u32, status: &str, line: &str, extra: &str) -> String {
    format!(
        r#"{{"shipmentPackageId": {id}, "orderNumber": "1", "orderDate": 1763645400000,
            "currencyCode": "TRY", "shipmentPackageStatus": "{status}"{extra},
            "lines": [{{"lineId": 1001, "quantity": 1, "lineGrossAmount": 100{line}}}]}}"#
    )
}

/// Two Trendyol packages of the same order, as a `getShipmentPackages` page.
fn two_packages(a: &str, b: &str) -> String {
    format!(r#"{{"content": [{a}, {b}]}}"#)
}

#[test]
fn shopify_unit_price_times_quantity_beyond_a_decimal_is_an_invalid_amount() {
    let body = shopify(
        &format!(r#"{{"id": 7, "quantity": 2, "price": "{FIVE_E28}"}}"#),
        "",
    );
    assert_eq!(
        refused(Channel::Shopify, &body),
        ("CHANNEL_INVALID_AMOUNT", "$.line_items[0]".into())
    );
    // One unit fewer of the same price is an order.
    let one = body.replace(r#""quantity": 2"#, r#""quantity": 1"#);
    let o = parse_order(Channel::Shopify, one.as_bytes()).unwrap();
    assert_eq!(o.lines[0].unit_price, d(FIVE_E28));
}

#[test]
fn shopify_line_at_the_largest_decimal_still_parses_exactly() {
    // Twice this unit price is `Decimal::MAX - 1`: it fits, and adds up to the total.
    let unit = "39614081257132168796771975167";
    let body = shopify(
        &format!(r#"{{"id": 7, "quantity": 2, "price": "{unit}"}}"#),
        r#", "total_price": "79228162514264337593543950334""#,
    );
    let o = parse_order(Channel::Shopify, body.as_bytes()).unwrap();
    assert_eq!((o.lines[0].quantity, o.lines[0].unit_price), (2, d(unit)));
    assert_eq!(o.reported.total, Some(d("79228162514264337593543950334")));
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
    // And one more unit of the price that, doubled, is one past the largest is not.
    let over = body.replace(unit, HALF_MAX_UP);
    assert_eq!(refused(Channel::Shopify, &over).0, "CHANNEL_INVALID_AMOUNT");
}

#[test]
fn lines_whose_sum_is_beyond_a_decimal_are_refused_on_the_whole_body() {
    // Each line fits; the order's total does not.
    let line = |id| format!(r#"{{"id": {id}, "quantity": 1, "price": "{FIVE_E28}"}}"#);
    let body = shopify(&format!("{}, {}", line(1), line(2)), "");
    assert_eq!(
        refused(Channel::Shopify, &body),
        ("CHANNEL_INVALID_AMOUNT", "$".into())
    );
    // A reported total so far from the lines that the difference does not fit.
    let body = shopify(&line(1), &format!(r#", "total_price": "-{FIVE_E28}""#));
    assert_eq!(
        refused(Channel::Shopify, &body),
        ("CHANNEL_INVALID_AMOUNT", "$".into())
    );
}

#[test]
fn hepsiburada_unit_price_times_quantity_beyond_a_decimal_is_an_invalid_amount() {
    let body = r#"{"items": [{"id": "L1", "orderNumber": "4000000001", "orderDate": "2026-11-20T13:30:00Z",
        "quantity": 1000000000, "status": "Open",
        "unitPrice": {"currency": "TRY", "amount": 100000000000000000000},
        "totalPrice": {"currency": "TRY", "amount": 1}}]}"#;
    assert_eq!(
        refused(Channel::Hepsiburada, body),
        ("CHANNEL_INVALID_AMOUNT", "$.items[0]".into())
    );
    // Without a total to compare with, the line's net is what overflows.
    let no_total = body.replace(
        r#""totalPrice": {"currency": "TRY", "amount": 1}"#,
        r#""x": 0"#,
    );
    assert_eq!(
        refused(Channel::Hepsiburada, &no_total),
        ("CHANNEL_INVALID_AMOUNT", "$.items[0]".into())
    );
}

#[test]
fn trendyol_line_discounts_adding_up_across_packages_beyond_a_decimal_are_refused() {
    for key in ["lineSellerDiscount", "lineTyDiscount"] {
        let line = format!(r#", "{key}": {FIVE_E28}"#);
        let body = two_packages(
            &package(1, "Created", &line, ""),
            &package(2, "Created", &line, ""),
        );
        assert_eq!(
            refused(Channel::Trendyol, &body),
            ("CHANNEL_INVALID_AMOUNT", "$.content[1].lines[0]".into()),
            "{key}"
        );
    }
}

#[test]
fn trendyol_package_totals_adding_up_beyond_a_decimal_are_refused() {
    for key in ["packageTotalPrice", "totalPrice"] {
        let extra = format!(r#", "{key}": {FIVE_E28}"#);
        let body = two_packages(
            &package(1, "Created", "", &extra),
            &package(2, "Created", "", &extra),
        );
        assert_eq!(
            refused(Channel::Trendyol, &body),
            ("CHANNEL_INVALID_AMOUNT", format!("$.content[1].{key}")),
        );
    }
    // One package whose seller and Trendyol discounts do not add up.
    let extra =
        format!(r#", "packageSellerDiscount": {FIVE_E28}, "packageTyDiscount": {FIVE_E28}"#);
    let body = package(1, "Created", "", &extra);
    assert_eq!(
        refused(Channel::Trendyol, &body),
        ("CHANNEL_INVALID_AMOUNT", "$.packageTyDiscount".into())
    );
}

#[test]
fn trendyol_units_adding_up_across_packages_beyond_a_u32_are_an_invalid_quantity() {
    for status in ["Shipped", "Delivered", "Created", "Cancelled"] {
        let line = r#", "quantity": 4294967295"#;
        let body = two_packages(&package(1, status, line, ""), &package(2, status, line, ""));
        assert_eq!(
            refused(Channel::Trendyol, &body),
            (
                "CHANNEL_INVALID_QUANTITY",
                "$.content[1].lines[0].quantity".into()
            ),
            "{status}"
        );
    }
    // Up to u32::MAX in all, the units add up.
    let body = two_packages(
        &package(1, "Shipped", r#", "quantity": 4294967294"#, ""),
        &package(2, "Shipped", "", ""),
    );
    let o = parse_order(Channel::Trendyol, body.as_bytes()).unwrap();
    assert_eq!(
        (o.lines[0].quantity, o.lines[0].shipped),
        (u32::MAX, u32::MAX)
    );
}

#[test]
fn trendyol_order_date_within_three_hours_of_the_earliest_time_is_an_invalid_time() {
    // A valid epoch for chrono; three hours before it is not.
    let early = -8_334_601_228_800_000_i64;
    assert!(DateTime::from_timestamp_millis(early).is_some());
    let body = package(1, "Created", "", "").replace("1763645400000", &early.to_string());
    assert_eq!(
        refused(Channel::Trendyol, &body),
        ("CHANNEL_INVALID_TIME", "$.orderDate".into())
    );
    // Three hours later, the UTC instant is the earliest chrono holds.
    let later = early + 3 * 60 * 60 * 1000;
    let body = package(1, "Created", "", "").replace("1763645400000", &later.to_string());
    let o = parse_order(Channel::Trendyol, body.as_bytes()).unwrap();
    assert_eq!(Some(o.placed_at), DateTime::from_timestamp_millis(early));
}

#[test]
fn line_totals_whose_rounded_up_units_exceed_a_decimal_are_an_invalid_amount() {
    // The largest total over 2 units rounds up to a unit price that, doubled, does not
    // fit: Amazon `ItemPrice`, eBay `lineItemCost` and WooCommerce `subtotal` alike.
    let amazon = String::from_utf8(fixture("amazon/v0_us_unshipped.json"))
        .unwrap()
        .replace(r#""Amount": "39.98""#, &format!(r#""Amount": "{MAX}""#));
    let ebay = String::from_utf8(fixture("ebay/paid_promotion.json"))
        .unwrap()
        .replace(r#""quantity": 3"#, r#""quantity": 2"#)
        .replace(r#""value": "30.00""#, &format!(r#""value": "{MAX}""#));
    let woo = String::from_utf8(fixture("woo_commerce/processing_inclusive.json"))
        .unwrap()
        .replace(
            r#""prices_include_tax": true"#,
            r#""prices_include_tax": false"#,
        )
        .replace(r#""quantity": 3"#, r#""quantity": 2"#)
        .replace(r#""subtotal": "25.00""#, &format!(r#""subtotal": "{MAX}""#));
    for (channel, body, path) in [
        (Channel::AmazonV0, amazon, "$.payload.OrderItems[0]"),
        (Channel::Ebay, ebay, "$.lineItems[0]"),
        (Channel::WooCommerce, woo, "$.line_items[0]"),
    ] {
        assert_eq!(
            refused(channel, &body),
            ("CHANNEL_INVALID_AMOUNT", path.into()),
            "{channel}"
        );
    }
}

#[test]
fn sums_of_payload_amounts_beyond_a_decimal_are_refused_where_they_overflow() {
    let big = |text: &str, from: &str| text.replace(from, FIVE_E28);
    let shopify_taxes = shopify(
        &format!(
            r#"{{"id": 7, "quantity": 1, "price": "1.00", "tax_lines": [
                {{"price": "{FIVE_E28}", "rate": 0.1}}, {{"price": "{FIVE_E28}", "rate": 0.1}}]}}"#
        ),
        "",
    );
    let shopify_refunds = shopify(
        r#"{"id": 7, "quantity": 1, "price": "1.00"}"#,
        &format!(
            r#", "refunds": [
                {{"id": 1, "transactions": [{{"kind": "refund", "status": "success", "amount": "{FIVE_E28}"}}]}},
                {{"id": 2, "transactions": [{{"kind": "refund", "status": "success", "amount": "{FIVE_E28}"}}]}}]"#
        ),
    );
    let woo_inclusive = big(
        &String::from_utf8(fixture("woo_commerce/processing_inclusive.json")).unwrap(),
        "25.00",
    )
    .replace(
        r#""subtotal_tax": "5.00""#,
        &format!(r#""subtotal_tax": "{FIVE_E28}""#),
    );
    let amazon_shipping = String::from_utf8(fixture("amazon/v0_us_unshipped.json"))
        .unwrap()
        .replace(
            r#""Amount": "5.99""#,
            &format!(r#""Amount": "-{FIVE_E28}""#),
        )
        .replace(
            r#""ShippingDiscount": {"CurrencyCode": "USD", "Amount": "0.00"}"#,
            &format!(r#""ShippingDiscount": {{"CurrencyCode": "USD", "Amount": "{FIVE_E28}"}}"#),
        );
    let ebay_taxes = String::from_utf8(fixture("ebay/paid_promotion.json"))
        .unwrap()
        .replace(
            r#""taxes": [{"amount": {"value": "0.80", "currency": "USD"}}]"#,
            &format!(
                r#""taxes": [{{"amount": {{"value": "{FIVE_E28}", "currency": "USD"}}}}, {{"amount": {{"value": "{FIVE_E28}", "currency": "USD"}}}}]"#
            ),
        );
    let hb_discounts = r#"{"items": [{"id": "L1", "orderNumber": "4000000001", "orderDate": "2026-11-20T13:30:00Z",
        "quantity": 1, "status": "Open", "unitPrice": {"currency": "TRY", "amount": 1},
        "hbDiscount": {"totalPrice": {"currency": "TRY", "amount": 50000000000000000000000000000}}},
      {"id": "L2", "orderNumber": "4000000001", "quantity": 1, "status": "Open", "unitPrice": {"currency": "TRY", "amount": 1},
        "hbDiscount": {"totalPrice": {"currency": "TRY", "amount": 50000000000000000000000000000}}}]}"#;
    for (channel, body, path) in [
        (
            Channel::Shopify,
            shopify_taxes,
            "$.line_items[0].tax_lines[1].price",
        ),
        (Channel::Shopify, shopify_refunds, "$.refunds[1]"),
        (Channel::WooCommerce, woo_inclusive, "$.line_items[0]"),
        (
            Channel::AmazonV0,
            amazon_shipping,
            "$.payload.OrderItems[0]",
        ),
        (Channel::Ebay, ebay_taxes, "$.lineItems[1].taxes[1].amount"),
        (
            Channel::Hepsiburada,
            hb_discounts.to_string(),
            "$.items[1].hbDiscount.totalPrice",
        ),
    ] {
        assert_eq!(
            refused(channel, &body),
            ("CHANNEL_INVALID_AMOUNT", path.into()),
            "{channel}: {path}"
        );
    }
}

/// The fixture of split Trendyol packages reads exactly as it did before the sums were
/// checked: units, fulfilment, discounts and funding merged across packages, totals and
/// the order date moved from Turkish time to UTC.
#[test]
fn a_normal_payload_still_parses_exactly_as_before() {
    let o = parse_order(Channel::Trendyol, &fixture("trendyol/split_packages.json")).unwrap();
    assert_eq!(o.placed_at, utc(2025, 11, 20, 10, 30, 0));
    let lines: Vec<_> = o
        .lines
        .iter()
        .map(|l| {
            (
                l.external_line_id.as_str(),
                l.quantity,
                l.unit_price,
                l.shipped,
                l.discounts
                    .iter()
                    .map(|x| (x.amount, x.funded_by))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (
                "1001",
                2,
                d("100"),
                1,
                vec![(d("10"), FundedBy::Seller), (d("5"), FundedBy::Marketplace)]
            ),
            ("1002", 1, d("50"), 0, vec![]),
        ]
    );
    assert_eq!(o.marketplace_funded, d("5"));
    assert_eq!(
        (o.reported.total, o.reported.discount),
        (Some(d("235")), Some(d("15")))
    );
    assert!(o.mismatches.is_empty(), "{:?}", o.mismatches);
}
