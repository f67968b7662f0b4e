//! Every malformed payload gets a typed error naming the channel and the JSON path.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::fixture;
use ordersmith_channels::{parse_order, Channel};

/// (channel, fixture, text to replace, replacement, expected code, expected path)
const CASES: &[(Channel, &str, &str, &str, &str, &str)] = &[
    // Missing fields.
    (
        Channel::Shopify,
        "shopify/multi_line_discounted.json",
        "\"currency\": \"USD\",",
        "",
        "CHANNEL_MISSING_FIELD",
        "$.currency",
    ),
    (
        Channel::WooCommerce,
        "woo_commerce/processing_inclusive.json",
        "\"date_created_gmt\": \"2026-11-20T13:30:00\",",
        "",
        "CHANNEL_MISSING_FIELD",
        "$.date_created_gmt",
    ),
    (
        Channel::Trendyol,
        "trendyol/new_names.json",
        "\"lineGrossAmount\": 50,",
        "",
        "CHANNEL_MISSING_FIELD",
        "$.lines[1].lineGrossAmount",
    ),
    (
        Channel::AmazonV0,
        "amazon/v0_us_unshipped.json",
        "\"QuantityOrdered\": 2,",
        "",
        "CHANNEL_MISSING_FIELD",
        "$.payload.OrderItems[0].QuantityOrdered",
    ),
    (
        Channel::Amazon2026,
        "amazon/2026_partially_shipped.json",
        "\"orderItemId\": \"A2\",",
        "",
        "CHANNEL_MISSING_FIELD",
        "$.orderItems[1].orderItemId",
    ),
    (
        Channel::Ebay,
        "ebay/paid_promotion.json",
        "\"orderPaymentStatus\": \"PAID\",",
        "",
        "CHANNEL_MISSING_FIELD",
        "$.orderPaymentStatus",
    ),
    (
        Channel::Hepsiburada,
        "hepsiburada/merged_feeds.json",
        "\"quantity\": 1,",
        "",
        "CHANNEL_MISSING_FIELD",
        "$.items[1].quantity",
    ),
    // Wrong types.
    (
        Channel::Shopify,
        "shopify/multi_line_discounted.json",
        "\"taxes_included\": false",
        "\"taxes_included\": \"no\"",
        "CHANNEL_WRONG_TYPE",
        "$.taxes_included",
    ),
    (
        Channel::WooCommerce,
        "woo_commerce/processing_inclusive.json",
        "\"subtotal\": \"25.00\"",
        "\"subtotal\": [25]",
        "CHANNEL_WRONG_TYPE",
        "$.line_items[0].subtotal",
    ),
    (
        Channel::Trendyol,
        "trendyol/new_names.json",
        "\"lines\": [",
        "\"lines\": {\"x\": [",
        "CHANNEL_MALFORMED_JSON",
        "$",
    ),
    (
        Channel::Ebay,
        "ebay/paid_promotion.json",
        "\"lineItems\": [",
        "\"lineItems\": 7, \"x\": [",
        "CHANNEL_WRONG_TYPE",
        "$.lineItems",
    ),
    // The packages a split package was made from: a list of package ids.
    (
        Channel::Trendyol,
        "trendyol/split_packages.json",
        "\"originPackageIds\": [3330000001]",
        "\"originPackageIds\": 3330000001",
        "CHANNEL_WRONG_TYPE",
        "$.content[1].originPackageIds",
    ),
    (
        Channel::Trendyol,
        "trendyol/split_packages.json",
        "\"originPackageIds\": [3330000001]",
        "\"originPackageIds\": [{\"id\": 3330000001}]",
        "CHANNEL_WRONG_TYPE",
        "$.content[1].originPackageIds[0]",
    ),
    // Negative quantities.
    (
        Channel::Shopify,
        "shopify/multi_line_discounted.json",
        "\"quantity\": 1,",
        "\"quantity\": -1,",
        "CHANNEL_INVALID_QUANTITY",
        "$.line_items[1].quantity",
    ),
    (
        Channel::Trendyol,
        "trendyol/new_names.json",
        "\"quantity\": 2,",
        "\"quantity\": -2,",
        "CHANNEL_INVALID_QUANTITY",
        "$.lines[0].quantity",
    ),
    (
        Channel::Ebay,
        "ebay/paid_promotion.json",
        "\"quantity\": 3,",
        "\"quantity\": -3,",
        "CHANNEL_INVALID_QUANTITY",
        "$.lineItems[0].quantity",
    ),
    (
        Channel::Amazon2026,
        "amazon/2026_partially_shipped.json",
        "\"quantityOrdered\": 2,",
        "\"quantityOrdered\": \"-2\",",
        "CHANNEL_INVALID_QUANTITY",
        "$.orderItems[0].quantityOrdered",
    ),
    // Unknown currency.
    (
        Channel::Shopify,
        "shopify/multi_line_discounted.json",
        "\"currency\": \"USD\"",
        "\"currency\": \"XYZ\"",
        "CHANNEL_UNKNOWN_CURRENCY",
        "$.currency",
    ),
    (
        Channel::Trendyol,
        "trendyol/new_names.json",
        "\"currencyCode\": \"TRY\"",
        "\"currencyCode\": \"TL\"",
        "CHANNEL_UNKNOWN_CURRENCY",
        "$.currencyCode",
    ),
    (
        Channel::Hepsiburada,
        "hepsiburada/merged_feeds.json",
        "\"currency\": \"TRY\", \"amount\": 89.9",
        "\"currency\": \"TRL\", \"amount\": 89.9",
        "CHANNEL_UNKNOWN_CURRENCY",
        "$.items[0].unitPrice.currency",
    ),
    (
        Channel::AmazonV0,
        "amazon/v0_us_unshipped.json",
        "{\"CurrencyCode\": \"USD\", \"Amount\": \"45.65\"}",
        "{\"CurrencyCode\": \"US$\", \"Amount\": \"45.65\"}",
        "CHANNEL_UNKNOWN_CURRENCY",
        "$.payload.OrderTotal.CurrencyCode",
    ),
    // More decimals than the currency has.
    (
        Channel::Shopify,
        "shopify/multi_line_discounted.json",
        "\"price\": \"20.00\"",
        "\"price\": \"20.005\"",
        "CHANNEL_TOO_PRECISE",
        "$.line_items[1].price",
    ),
    (
        Channel::Trendyol,
        "trendyol/new_names.json",
        "\"lineGrossAmount\": 100.0",
        "\"lineGrossAmount\": 100.001",
        "CHANNEL_TOO_PRECISE",
        "$.lines[0].lineGrossAmount",
    ),
    (
        Channel::Ebay,
        "ebay/paid_promotion.json",
        "\"value\": \"30.00\"",
        "\"value\": \"30.0001\"",
        "CHANNEL_TOO_PRECISE",
        "$.lineItems[0].lineItemCost.value",
    ),
    (
        Channel::WooCommerce,
        "woo_commerce/processing_inclusive.json",
        "\"total\": \"43.80\"",
        "\"total\": \"43.801\"",
        "CHANNEL_TOO_PRECISE",
        "$.total",
    ),
    // Amounts that are not numbers, times that are not times.
    (
        Channel::AmazonV0,
        "amazon/v0_us_unshipped.json",
        "\"Amount\": \"39.98\"",
        "\"Amount\": \"39,98\"",
        "CHANNEL_INVALID_AMOUNT",
        "$.payload.OrderItems[0].ItemPrice.Amount",
    ),
    (
        Channel::Shopify,
        "shopify/multi_line_discounted.json",
        "\"created_at\": \"2026-11-20T09:30:00-04:00\"",
        "\"created_at\": \"2026-11-20T09:30:00\"",
        "CHANNEL_INVALID_TIME",
        "$.created_at",
    ),
    (
        Channel::Trendyol,
        "trendyol/new_names.json",
        "\"orderDate\": 1763645400000",
        "\"orderDate\": \"yesterday\"",
        "CHANNEL_INVALID_TIME",
        "$.orderDate",
    ),
    // Negative prices.
    (
        Channel::Shopify,
        "shopify/multi_line_discounted.json",
        "\"price\": \"12.50\"",
        "\"price\": \"-12.50\"",
        "CHANNEL_INVALID_AMOUNT",
        "$.line_items[0].price",
    ),
    (
        Channel::Ebay,
        "ebay/cancelled_refunded.json",
        "\"lineItemCost\": {\"value\": \"9.99\"",
        "\"lineItemCost\": {\"value\": \"-9.99\"",
        "CHANNEL_INVALID_AMOUNT",
        "$.lineItems[0].lineItemCost.value",
    ),
    (
        Channel::Hepsiburada,
        "hepsiburada/merged_feeds.json",
        "\"amount\": 89.9",
        "\"amount\": -89.9",
        "CHANNEL_INVALID_AMOUNT",
        "$.items[0].unitPrice.amount",
    ),
    (
        Channel::Amazon2026,
        "amazon/2026_partially_shipped.json",
        "{\"unitPrice\": {\"amount\": \"20.00\"",
        "{\"unitPrice\": {\"amount\": \"-20.00\"",
        "CHANNEL_INVALID_AMOUNT",
        "$.orderItems[1].product.price.unitPrice.amount",
    ),
    // No lines.
    (
        Channel::Ebay,
        "ebay/cancelled_refunded.json",
        "\"lineItems\": [{",
        "\"lineItems\": [], \"x\": [{",
        "CHANNEL_NO_LINES",
        "$.lineItems",
    ),
];

#[test]
fn every_malformed_payload_names_channel_and_path() {
    for (channel, file, from, to, code, path) in CASES {
        let text = String::from_utf8(fixture(file)).unwrap();
        assert!(text.contains(from), "{file}: {from:?} not in the fixture");
        let body = text.replacen(from, to, 1);
        let err = parse_order(*channel, body.as_bytes())
            .expect_err(&format!("{file}: {from:?} → {to:?} was accepted"));
        assert_eq!(
            (err.code(), err.path()),
            (*code, *path),
            "{file}: {from:?} → {to:?}: {err}"
        );
        assert_eq!(err.channel(), channel.as_str());
    }
}

#[test]
fn truncated_json_is_refused_at_every_cut() {
    for (channel, file) in [
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
    ] {
        let body = fixture(file);
        let end = body.iter().rposition(|b| *b == b'}').unwrap();
        for cut in 0..end {
            let err =
                parse_order(channel, &body[..cut]).expect_err("a truncated body was accepted");
            assert_eq!(err.code(), "CHANNEL_MALFORMED_JSON", "{file} cut at {cut}");
        }
    }
}

#[test]
fn samples_that_are_not_json_are_refused_not_guessed() {
    // Published Trendyol samples carry comments and miss commas.
    for bad in [
        &b"{\"orderNumber\": \"1\" // comment\n}"[..],
        b"{\"a\": 1 \"b\": 2}",
        b"\xef\xbb\xbf{}",
        b"{\"a\": NaN}",
    ] {
        let err = parse_order(Channel::Trendyol, bad).unwrap_err();
        assert_eq!(
            (err.code(), err.path(), err.channel()),
            ("CHANNEL_MALFORMED_JSON", "$", "trendyol")
        );
    }
}

#[test]
fn oversized_payload_is_refused_before_reading() {
    let big = vec![b' '; ordersmith_channels::adapters::MAX_PAYLOAD_BYTES + 1];
    assert_eq!(
        parse_order(Channel::Ebay, &big).unwrap_err().code(),
        "CHANNEL_PAYLOAD_TOO_LARGE"
    );
}

/// A body naming more packages it was split from (`originPackageIds`, all packages
/// together) than an order may have packages is refused, like a body of too many
/// packages, before anything of them is kept.
#[test]
fn trendyol_more_origin_packages_than_an_order_may_have_are_refused() {
    let text = String::from_utf8(fixture("trendyol/split_packages.json")).unwrap();
    let many = |n: usize| {
        let ids: Vec<String> = (0..n)
            .map(|i| (4_000_000_000u64 + i as u64).to_string())
            .collect();
        text.replacen(
            "\"originPackageIds\": [3330000001]",
            &format!("\"originPackageIds\": [{}]", ids.join(",")),
            1,
        )
    };
    // Package 3 names one more: 1,000 in all is the most.
    let max = ordersmith_channels::adapters::MAX_LINES;
    assert!(parse_order(Channel::Trendyol, many(max - 1).as_bytes()).is_ok());
    let err = parse_order(Channel::Trendyol, many(max).as_bytes()).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("CHANNEL_TOO_MANY_LINES", "$.content[2].originPackageIds")
    );
}
