//! Stock-update batches at each channel's limits, the rate planner, the Trendyol
//! identical-body window, per-item retries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use chrono::TimeDelta;
use common::utc;
use ordersmith::ids::VariantId;
use ordersmith_channels::mapping::{Listing, MemoryIdentifierMap};
use ordersmith_channels::push::{PushAccount, PushTarget, StockPushPlanner};

fn account() -> PushAccount {
    PushAccount {
        seller_id: Some("123456".into()),
        marketplace_id: Some("ATVPDKIKX0DER".into()),
        location_id: Some("9001".into()),
    }
}

/// `n` variants listed on the target's channel, all changed to quantity 7.
fn listed(target: PushTarget, n: usize) -> (MemoryIdentifierMap, BTreeMap<VariantId, u64>) {
    let map = MemoryIdentifierMap::new();
    let mut changed = BTreeMap::new();
    for i in 0..n {
        let v = VariantId::parse(format!("V{i:05}")).unwrap();
        let listing = Listing {
            sku: Some(format!("SKU-{i}")),
            barcode: Some(format!("869{i:010}")),
            variant_id: Some(format!("{}", 1000 + i)),
            // WooCommerce: all variations of one parent product (one batch endpoint).
            inventory_item_id: Some(if target == PushTarget::WooCommerceBatch {
                "5000".to_string()
            } else {
                format!("{}", 5000 + i)
            }),
            ..Listing::default()
        };
        map.set_listing(target.channel(), &v, listing).unwrap();
        changed.insert(v, 7);
    }
    (map, changed)
}

#[test]
fn batches_split_exactly_at_each_limit() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    for (target, limit) in [
        (PushTarget::ShopifyInventory, 250),
        (PushTarget::WooCommerceBatch, 100),
        (PushTarget::TrendyolInventory, 1000),
        (PushTarget::HepsiburadaStockUpload, 1000),
        (PushTarget::AmazonListingsPatch, 1),
        (PushTarget::EbayBulkPriceQuantity, 25),
    ] {
        assert_eq!(target.limits().max_items_per_request, limit);
        for n in [limit, limit + 1] {
            let (map, changed) = listed(target, n);
            let mut planner = StockPushPlanner::new(target, account()).unwrap();
            let plan = planner.plan(&changed, &map, now).unwrap();
            let sizes: Vec<usize> = plan.requests.iter().map(|r| r.items.len()).collect();
            let want = if n == limit {
                vec![limit]
            } else if limit == 1 {
                vec![1; n]
            } else {
                vec![limit, 1]
            };
            assert_eq!(sizes, want, "{target:?} with {n} items");
            assert!(plan.unlisted.is_empty() && plan.deferred.is_empty());
        }
    }
}

#[test]
fn amazon_feed_limit_is_25000_messages() {
    let (map, changed) = listed(PushTarget::AmazonListingsFeed, 25_001);
    let mut planner = StockPushPlanner::new(PushTarget::AmazonListingsFeed, account()).unwrap();
    let plan = planner
        .plan(&changed, &map, utc(2026, 11, 20, 10, 0, 0))
        .unwrap();
    let sizes: Vec<usize> = plan.requests.iter().map(|r| r.items.len()).collect();
    assert_eq!(sizes, vec![25_000, 1]);
    assert_eq!(plan.requests[0].body["header"]["version"], "2.0");
    assert_eq!(
        plan.requests[0].body["messages"][0]["operationType"],
        "PATCH"
    );
}

#[test]
fn request_bodies_have_each_channel_shape() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    let body_of = |target: PushTarget| {
        let (map, changed) = listed(target, 1);
        let mut p = StockPushPlanner::new(target, account()).unwrap();
        let r = p.plan(&changed, &map, now).unwrap().requests.remove(0);
        (r.method, r.path, r.body)
    };
    let (_, _, shopify) = body_of(PushTarget::ShopifyInventory);
    let q = &shopify["variables"]["input"]["quantities"][0];
    assert_eq!(q["inventoryItemId"], "gid://shopify/InventoryItem/5000");
    assert_eq!(q["locationId"], "gid://shopify/Location/9001");
    assert_eq!(q["quantity"], 7);
    assert!(q.as_object().unwrap().contains_key("changeFromQuantity"));
    let (_, path, ty) = body_of(PushTarget::TrendyolInventory);
    assert_eq!(
        path,
        "/integration/inventory/sellers/123456/products/price-and-inventory"
    );
    assert_eq!(ty["items"][0]["barcode"], "8690000000000");
    let (_, path, hb) = body_of(PushTarget::HepsiburadaStockUpload);
    assert_eq!(path, "/listings/merchantid/123456/stock-uploads");
    assert_eq!(hb[0]["merchantSku"], "SKU-0");
    assert_eq!(hb[0]["availableStock"], 7);
    let (method, path, az) = body_of(PushTarget::AmazonListingsPatch);
    assert_eq!(
        (method, path.as_str()),
        (
            "PATCH",
            "/listings/2021-08-01/items/123456/SKU-0?marketplaceIds=ATVPDKIKX0DER"
        )
    );
    assert_eq!(az["patches"][0]["value"][0]["quantity"], 7);
    let (_, _, eb) = body_of(PushTarget::EbayBulkPriceQuantity);
    assert_eq!(
        eb["requests"][0]["shipToLocationAvailability"]["quantity"],
        7
    );
    let (_, path, woo) = body_of(PushTarget::WooCommerceBatch);
    // A variation is sent to its parent's batch endpoint.
    assert_eq!(path, "/wp-json/wc/v3/products/5000/variations/batch");
    assert_eq!(woo["update"][0]["stock_quantity"], 7);
}

#[test]
fn rate_planner_spaces_requests_at_each_channel_rate() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    // Amazon PATCH: 5 at once, then one every 200 ms.
    let (map, changed) = listed(PushTarget::AmazonListingsPatch, 7);
    let mut p = StockPushPlanner::new(PushTarget::AmazonListingsPatch, account()).unwrap();
    let times: Vec<_> = p
        .plan(&changed, &map, now)
        .unwrap()
        .requests
        .iter()
        .map(|r| r.not_before)
        .collect();
    assert_eq!(&times[..5], &[now; 5]);
    assert_eq!(times[5], now + TimeDelta::milliseconds(200));
    assert_eq!(times[6], now + TimeDelta::milliseconds(400));
    assert_eq!(p.next_allowed(now), now + TimeDelta::milliseconds(600));
    // Shopify: 1000-point bucket, 10 points a call, 100 points/s back: 100 calls, then one per 100 ms.
    let (map, changed) = listed(PushTarget::ShopifyInventory, 250 * 102);
    let mut p = StockPushPlanner::new(PushTarget::ShopifyInventory, account()).unwrap();
    let plan = p.plan(&changed, &map, now).unwrap();
    assert_eq!(plan.requests.len(), 102);
    assert_eq!(plan.requests[99].not_before, now);
    assert_eq!(
        plan.requests[100].not_before,
        now + TimeDelta::milliseconds(100)
    );
    assert_eq!(
        plan.requests[101].not_before,
        now + TimeDelta::milliseconds(200)
    );
}

#[test]
fn only_failed_items_are_retried_and_in_flight_items_are_not_planned_twice() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    let (map, mut changed) = listed(PushTarget::EbayBulkPriceQuantity, 3);
    let mut p = StockPushPlanner::new(PushTarget::EbayBulkPriceQuantity, account()).unwrap();
    let plan = p.plan(&changed, &map, now).unwrap();
    let id = plan.requests[0].id.clone();
    // Planned again before the answer: nothing new goes, all three are deferred.
    let again = p.plan(&changed, &map, now).unwrap();
    assert!(again.requests.is_empty());
    assert_eq!(again.deferred.len(), 3);
    // eBay's multi-status answer: SKU-1 failed.
    let ack = p.acknowledge(&id, &["SKU-1".to_string()]).unwrap();
    assert_eq!(ack.pushed.len(), 2);
    assert_eq!(ack.failed, vec![VariantId::parse("V00001").unwrap()]);
    assert_eq!(
        p.acknowledge(&id, &[]).unwrap_err().code(),
        "PUSH_UNKNOWN_REQUEST"
    );
    // The ledger marks the two pushed; only the failed one is still changed.
    changed.retain(|v, _| !ack.pushed.contains_key(v));
    let retry = p.plan(&changed, &map, now + TimeDelta::seconds(1)).unwrap();
    assert_eq!(retry.requests.len(), 1);
    assert_eq!(retry.requests[0].items[0].external_key, "SKU-1");
}

#[test]
fn trendyol_never_sends_an_identical_body_within_15_minutes() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    let (map, changed) = listed(PushTarget::TrendyolInventory, 2);
    let mut p = StockPushPlanner::new(PushTarget::TrendyolInventory, account()).unwrap();
    let first = p.plan(&changed, &map, now).unwrap();
    assert_eq!(first.requests[0].not_before, now);
    // The whole request failed (e.g. a 5xx): both items go again, same body.
    p.acknowledge(
        &first.requests[0].id,
        &["8690000000000".into(), "8690000000001".into()],
    )
    .unwrap();
    let again = p.plan(&changed, &map, now + TimeDelta::minutes(1)).unwrap();
    assert_eq!(again.requests[0].body, first.requests[0].body);
    assert_eq!(again.requests[0].not_before, now + TimeDelta::minutes(15));
    // A different body (one item) may go at once.
    p.acknowledge(&again.requests[0].id, &["8690000000001".into()])
        .unwrap();
    let mut one = changed.clone();
    one.retain(|v, _| v.as_str() == "V00001");
    let third = p.plan(&one, &map, now + TimeDelta::minutes(2)).unwrap();
    assert_eq!(third.requests[0].not_before, now + TimeDelta::minutes(2));
}

#[test]
fn hepsiburada_keeps_at_most_five_uploads_in_flight() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    let (map, changed) = listed(PushTarget::HepsiburadaStockUpload, 1000 * 6 + 1);
    let mut p = StockPushPlanner::new(PushTarget::HepsiburadaStockUpload, account()).unwrap();
    let plan = p.plan(&changed, &map, now).unwrap();
    assert_eq!(plan.requests.len(), 5);
    assert_eq!(plan.deferred.len(), 1001);
    assert_eq!(p.in_flight().len(), 5);
}

#[test]
fn ebay_listing_revisions_are_capped_per_day() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    let (map, changed) = listed(PushTarget::EbayBulkPriceQuantity, 1);
    let mut p = StockPushPlanner::new(PushTarget::EbayBulkPriceQuantity, account()).unwrap();
    for _ in 0..250 {
        let plan = p.plan(&changed, &map, now).unwrap();
        let id = plan.requests[0].id.clone();
        p.acknowledge(&id, &[]).unwrap();
    }
    let capped = p.plan(&changed, &map, now).unwrap();
    assert!(capped.requests.is_empty());
    assert_eq!(capped.deferred.len(), 1);
    let next_day = p.plan(&changed, &map, now + TimeDelta::days(1)).unwrap();
    assert_eq!(next_day.requests.len(), 1);
}

#[test]
fn unlisted_variants_and_missing_account_fields_are_reported() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    let map = MemoryIdentifierMap::new();
    let mut changed = BTreeMap::new();
    changed.insert(VariantId::parse("NOPE").unwrap(), 3);
    let mut p = StockPushPlanner::new(PushTarget::TrendyolInventory, account()).unwrap();
    let plan = p.plan(&changed, &map, now).unwrap();
    assert_eq!(plan.unlisted, vec![VariantId::parse("NOPE").unwrap()]);
    assert!(plan.requests.is_empty());
    let err =
        StockPushPlanner::new(PushTarget::ShopifyInventory, PushAccount::default()).unwrap_err();
    assert_eq!(err.code(), "PUSH_MISSING_ACCOUNT");
    let mut limits = PushTarget::EbayBulkPriceQuantity.limits();
    limits.max_items_per_request = 0;
    assert_eq!(
        StockPushPlanner::with_limits(PushTarget::EbayBulkPriceQuantity, account(), limits)
            .unwrap_err()
            .code(),
        "PUSH_INVALID_LIMITS"
    );
}

/// Marketplace-fulfilled listings (Amazon FBA, Hepsiburada `isFulfilledByHB`) are never
/// pushed: their stock is the marketplace's count. eBay offers get their quantity too.
#[test]
fn marketplace_fulfilled_listings_are_not_pushed_and_ebay_offers_get_quantities() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    for target in [
        PushTarget::HepsiburadaStockUpload,
        PushTarget::AmazonListingsFeed,
    ] {
        let (map, changed) = listed(target, 3);
        let fba = VariantId::parse("V00001").unwrap();
        let mut listing =
            ordersmith_channels::mapping::IdentifierMap::listing(&map, target.channel(), &fba)
                .unwrap()
                .unwrap();
        listing.fulfilled_by_marketplace = true;
        map.set_listing(target.channel(), &fba, listing).unwrap();
        let mut p = StockPushPlanner::new(target, account()).unwrap();
        let plan = p.plan(&changed, &map, now).unwrap();
        assert_eq!(plan.marketplace_fulfilled, vec![fba.clone()], "{target:?}");
        let pushed: Vec<_> = plan
            .requests
            .iter()
            .flat_map(|r| r.items.iter().map(|i| i.variant.clone()))
            .collect();
        assert_eq!(pushed.len(), 2, "{target:?}");
        assert!(!pushed.contains(&fba), "{target:?}");
    }
    let (map, changed) = listed(PushTarget::EbayBulkPriceQuantity, 2);
    let v0 = VariantId::parse("V00000").unwrap();
    map.set_listing(
        "ebay",
        &v0,
        Listing {
            sku: Some("SKU-0".into()),
            offer_ids: vec!["OFFER-US".into(), "OFFER-DE".into()],
            ..Listing::default()
        },
    )
    .unwrap();
    let mut p = StockPushPlanner::new(PushTarget::EbayBulkPriceQuantity, account()).unwrap();
    let plan = p.plan(&changed, &map, now).unwrap();
    let body = &plan.requests[0].body;
    assert_eq!(
        body["requests"][0]["offers"],
        serde_json::json!([
            {"offerId": "OFFER-US", "availableQuantity": 7},
            {"offerId": "OFFER-DE", "availableQuantity": 7}
        ])
    );
    assert!(body["requests"][1].get("offers").is_none());
}

/// A 429 with Retry-After: the refused request's items come back in the next plan, not
/// before the time the channel named.
#[test]
fn a_retry_after_from_the_channel_delays_the_next_requests() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    let (map, changed) = listed(PushTarget::ShopifyInventory, 3);
    let mut p = StockPushPlanner::new(PushTarget::ShopifyInventory, account()).unwrap();
    let first = p.plan(&changed, &map, now).unwrap();
    let request = &first.requests[0];
    assert_eq!(request.not_before, now);
    let keys: Vec<String> = request
        .items
        .iter()
        .map(|i| i.external_key.clone())
        .collect();
    let until = now + TimeDelta::seconds(40);
    p.throttled(until);
    let ack = p.acknowledge(&request.id, &keys).unwrap();
    assert_eq!(ack.failed.len(), 3);
    let again = p.plan(&changed, &map, now + TimeDelta::seconds(1)).unwrap();
    assert_eq!(again.requests.len(), 1);
    assert_eq!(again.requests[0].items.len(), 3);
    assert_eq!(again.requests[0].not_before, until);
    assert_eq!(p.next_allowed(now), until + TimeDelta::milliseconds(100));
}

#[test]
fn trendyol_is_sent_at_most_its_20000_maximum_and_other_channels_the_real_quantity() {
    let now = utc(2026, 11, 20, 10, 0, 0);
    for (target, field, want) in [
        (PushTarget::TrendyolInventory, "quantity", 20_000),
        (PushTarget::HepsiburadaStockUpload, "availableStock", 25_000),
    ] {
        let (map, mut changed) = listed(target, 2);
        let mut quantities = changed.values_mut();
        if let (Some(big), Some(small)) = (quantities.next(), quantities.next()) {
            (*big, *small) = (25_000, 19_999);
        }
        let mut p = StockPushPlanner::new(target, account()).unwrap();
        let body = p.plan(&changed, &map, now).unwrap().requests.remove(0).body;
        let items = if target == PushTarget::TrendyolInventory {
            &body["items"]
        } else {
            &body
        };
        assert_eq!(items[0][field], want, "{target:?}");
        assert_eq!(items[1][field], 19_999, "{target:?}");
    }
}
