//! The parsers never panic: arbitrary JSON, mutated fixtures, fixtures with random
//! leaves replaced, and the committed corpus (tests/fuzz_corpus, plus the fixtures),
//! through every adapter and the webhook verifiers. Failing cases proptest finds are
//! saved under proptest-regressions/ and committed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
#[path = "../../benches/channel_fixtures.rs"]
mod channel_fixtures;
mod common;

use ordersmith::engine::Engine;
use ordersmith_channels::intake::{Intake, IntakeOptions, MemoryIntakeLog};
use ordersmith_channels::mapping::MemoryIdentifierMap;
use ordersmith_channels::webhook::{verify_ebay, verify_shopify, verify_woocommerce, Headers};
use ordersmith_channels::{parse_events, parse_order, Channel, ChannelOrder};
use proptest::prelude::*;
use serde_json::Value;

const FIXTURES: &[(Channel, &str)] = &[
    (Channel::Shopify, "shopify/multi_line_discounted.json"),
    (
        Channel::Shopify,
        "shopify/tax_inclusive_partial_refund.json",
    ),
    (
        Channel::WooCommerce,
        "woo_commerce/processing_inclusive.json",
    ),
    (Channel::Trendyol, "trendyol/split_packages.json"),
    (Channel::Trendyol, "trendyol/old_names.json"),
    (Channel::Hepsiburada, "hepsiburada/merged_feeds.json"),
    (Channel::AmazonV0, "amazon/v0_us_unshipped.json"),
    (Channel::Amazon2026, "amazon/2026_partially_shipped.json"),
    (Channel::Ebay, "ebay/paid_promotion.json"),
];

/// The fixtures above, then the bench's orders in each channel's whole documented
/// shape (nested objects and fields the adapters pass over, mutated too).
fn all_fixtures() -> Vec<(Channel, &'static str)> {
    FIXTURES
        .iter()
        .chain(channel_fixtures::FULL_FIXTURES)
        .copied()
        .collect()
}

/// What every successful parse must satisfy.
fn check(order: &ChannelOrder) {
    assert!(!order.lines.is_empty());
    assert!(!order.external_id.trim().is_empty());
    for l in &order.lines {
        // parse_order refuses what does not fit a decimal: a line it returns has a net.
        assert!(l.net().is_some(), "{l:?}");
        assert!(
            l.unit_price.scale() <= order.currency.minor_units(),
            "{:?}",
            l.unit_price
        );
    }
    assert!(order.computed_total().is_some());
}

fn all_channels(body: &[u8]) {
    for c in Channel::ALL {
        if let Ok(order) = parse_order(c, body) {
            check(&order);
        }
        let _ = parse_events(c, body);
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "-?[0-9]{1,30}(\\.[0-9]{1,30})?"
            .prop_map(|s| serde_json::from_str(&s).unwrap_or(Value::Null)),
        "[ -~]{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("USD"),
            Just("TRY"),
            Just("JPY"),
            Just("2026-11-20T10:00:00Z"),
            Just("Created"),
            Just("PAID")
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    let keys = prop_oneof![
        Just("id"),
        Just("orderNumber"),
        Just("lines"),
        Just("line_items"),
        Just("lineItems"),
        Just("quantity"),
        Just("price"),
        Just("currency"),
        Just("currencyCode"),
        Just("items"),
        Just("OrderItems"),
        Just("orderItems"),
        Just("created_at"),
        Just("orderDate"),
        Just("status"),
        Just("unitPrice"),
        Just("amount"),
        Just("value"),
        Just("pricingSummary"),
        Just("total"),
        Just("content"),
        Just("lineGrossAmount"),
        Just("subtotal"),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..8).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// How many leaves (depth first, as [`replace_leaf`] counts them) `v` has.
fn leaves(v: &Value) -> usize {
    match v {
        Value::Array(items) => items.iter().map(leaves).sum(),
        Value::Object(map) => map.values().map(leaves).sum(),
        _ => 1,
    }
}

/// Replaces the `n`-th leaf (depth first) of `v` with `with`.
fn replace_leaf(v: &mut Value, n: &mut usize, with: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter_mut().any(|i| replace_leaf(i, n, with)),
        Value::Object(map) => map.values_mut().any(|i| replace_leaf(i, n, with)),
        leaf => {
            if *n == 0 {
                *leaf = with.clone();
                true
            } else {
                *n -= 1;
                false
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        all_channels(v.to_string().as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        all_channels(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(which in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
        let fixtures = all_fixtures();
        let (channel, file) = fixtures[which.index(fixtures.len())];
        let mut body = common::fixture(file);
        let i = at.index(body.len());
        if cut { body.truncate(i) } else { body[i] = byte }
        if let Ok(order) = parse_order(channel, &body) {
            check(&order);
        }
    }

    #[test]
    fn fixtures_with_a_leaf_replaced_never_panic(which in any::<prop::sample::Index>(), leaf in any::<prop::sample::Index>(), with in arb_json()) {
        let fixtures = all_fixtures();
        let (channel, file) = fixtures[which.index(fixtures.len())];
        let mut v: Value = serde_json::from_slice(&common::fixture(file)).unwrap();
        // Any leaf of the fixture, small or whole-shape alike.
        let mut n = leaf.index(leaves(&v).max(1));
        replace_leaf(&mut v, &mut n, &with);
        let body = v.to_string();
        if let Ok(order) = parse_order(channel, body.as_bytes()) {
            check(&order);
            // Importing whatever parsed never panics either.
            let engine = Engine::in_memory();
            let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
            let _ = Intake::new(&engine, &map, &log, IntakeOptions { import_test_orders: true, import_marketplace_fulfilled: true }).import(&order);
        }
    }

    #[test]
    fn webhook_verifiers_never_panic(body in prop::collection::vec(any::<u8>(), 0..256), header in "[ -~]{0,120}") {
        for name in ["X-Shopify-Hmac-SHA256", "X-WC-Webhook-Signature", "X-EBAY-SIGNATURE"] {
            let h = Headers::new([(name, header.as_str())]);
            let _ = verify_shopify(&h, &body, &[b"k"]);
            let _ = verify_woocommerce(&h, &body, &[b"k"]);
            let _ = verify_ebay(&h, &body, |_| None);
        }
    }
}

#[test]
fn committed_corpus_never_panics() {
    let dir = format!("{}/tests/fuzz_corpus", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let body = std::fs::read(entry.unwrap().path()).unwrap();
        all_channels(&body);
        n += 1;
    }
    for (_, file) in all_fixtures() {
        all_channels(&common::fixture(file));
        n += 1;
    }
    assert!(n >= 15, "corpus has {n} entries");
}
