//! Each channel's order in the whole shape the channel documents and sends (every field
//! of its order resource: customer, addresses, money sets, per-line product fields...)
//! gives the very canonical order its trimmed twin gives: the fields the adapter does
//! not read are passed over, whatever their shape, and nothing of a real body changes
//! what is imported. The pairs are `benches/channel_fixtures.rs`'s `FULL_FIXTURES` and
//! `FIXTURES`, the bodies the intake benchmark measures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
#[path = "../../benches/channel_fixtures.rs"]
mod channel_fixtures;

use channel_fixtures::{fixture, minified, named, FIXTURES, FULL_FIXTURES};
use ordersmith_channels::{parse_order, Channel, ChannelOrder};

/// The canonical order without the raw payload it keeps (the bytes differ by design).
fn canonical(channel: Channel, body: &[u8]) -> ChannelOrder {
    let order = parse_order(channel, body).unwrap();
    assert_eq!(order.raw.as_ref().map(|r| &r.0[..]), Some(body));
    ChannelOrder { raw: None, ..order }
}

/// The full body parses (as stored, indented, and as sent, minified) to the trimmed
/// body's canonical order.
fn same_order_as_trimmed(channel: Channel) {
    let (_, full_file) = FULL_FIXTURES
        .iter()
        .find(|(c, _)| *c == channel)
        .unwrap_or_else(|| panic!("no full fixture for {channel}"));
    let (_, trimmed_file) = FIXTURES.iter().find(|(c, _)| *c == channel).unwrap();
    let full = fixture(full_file);
    let trimmed = canonical(channel, &fixture(trimmed_file));
    let as_stored = canonical(channel, &full);
    assert_eq!(as_stored, trimmed, "{full_file} against {trimmed_file}");
    let (named_channel, sent) = named(&format!("{channel}:full")).unwrap();
    assert_eq!(named_channel, channel);
    assert!(
        sent.len() < full.len(),
        "{full_file}: the minified body is smaller"
    );
    assert_eq!(canonical(channel, &sent), trimmed);
    // A real body carries more than the adapter reads (how much more is the
    // channel's: Amazon's 2026 shape is lean, Shopify's REST order is not).
    assert!(
        sent.len() > fixture(trimmed_file).len(),
        "{full_file}: {} bytes sent",
        sent.len()
    );
}

#[test]
fn shopify_full_body() {
    same_order_as_trimmed(Channel::Shopify);
}

#[test]
fn woo_commerce_full_body() {
    same_order_as_trimmed(Channel::WooCommerce);
}

#[test]
fn trendyol_full_body() {
    same_order_as_trimmed(Channel::Trendyol);
}

#[test]
fn hepsiburada_full_body() {
    same_order_as_trimmed(Channel::Hepsiburada);
}

#[test]
fn amazon_v0_full_body() {
    same_order_as_trimmed(Channel::AmazonV0);
}

#[test]
fn amazon_2026_full_body() {
    same_order_as_trimmed(Channel::Amazon2026);
}

#[test]
fn ebay_full_body() {
    same_order_as_trimmed(Channel::Ebay);
}

#[test]
fn minified_keeps_strings_and_drops_only_whitespace_between_tokens() {
    let body = b"{ \"a b\" : [ 1 ,\n\t\"x \\\" y\\\\\" , \"\\\\\" ],\r\n \"a b\": null }";
    let out = minified(body);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        "{\"a b\":[1,\"x \\\" y\\\\\",\"\\\\\"],\"a b\":null}"
    );
    // What it keeps is the same JSON.
    let before: serde_json::Value = serde_json::from_slice(body).unwrap();
    let after: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(before, after);
}
