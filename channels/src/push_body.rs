//! The request each channel's stock API expects, as data (method, path, JSON body).

use serde_json::{json, Value};

use crate::mapping::Listing;
use crate::push::{PushAccount, PushTarget};

/// The most stock Trendyol accepts for one product (its inventory API refuses more).
pub(crate) const TRENDYOL_MAX_STOCK: u64 = 20_000;

/// One item of a request: what the channel calls it and the quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BodyItem<'a> {
    pub listing: &'a Listing,
    pub quantity: u64,
}

/// The key the channel knows an item by (what its per-item results name), or `None`
/// when the listing lacks what the target needs.
pub(crate) fn item_key(target: PushTarget, listing: &Listing) -> Option<String> {
    match target {
        PushTarget::ShopifyInventory => listing.inventory_item_id.clone(),
        PushTarget::WooCommerceBatch => listing.variant_id.clone(),
        PushTarget::TrendyolInventory => listing.barcode.clone(),
        PushTarget::HepsiburadaStockUpload
        | PushTarget::AmazonListingsPatch
        | PushTarget::AmazonListingsFeed
        | PushTarget::EbayBulkPriceQuantity => listing.sku.clone(),
    }
}

/// The group an item must be sent with (WooCommerce variations go to their parent's
/// batch endpoint; Amazon PATCH is one request per SKU).
pub(crate) fn group_key(target: PushTarget, listing: &Listing) -> String {
    match target {
        PushTarget::WooCommerceBatch => listing.inventory_item_id.clone().unwrap_or_default(),
        PushTarget::AmazonListingsPatch => listing.sku.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

fn gid(kind: &str, id: &str) -> String {
    if id.starts_with("gid://") {
        id.to_string()
    } else {
        format!("gid://shopify/{kind}/{id}")
    }
}

fn availability(quantity: u64) -> Value {
    json!([{"op": "replace", "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}])
}

/// (method, path, body) of one request.
pub(crate) fn build(
    target: PushTarget,
    account: &PushAccount,
    request_id: &str,
    group: &str,
    items: &[BodyItem<'_>],
) -> (&'static str, String, Value) {
    let seller = account.seller_id.as_deref().unwrap_or("{sellerId}");
    let key = |i: &BodyItem<'_>| item_key(target, i.listing).unwrap_or_default();
    match target {
        PushTarget::ShopifyInventory => {
            let location = gid(
                "Location",
                account.location_id.as_deref().unwrap_or("{locationId}"),
            );
            let quantities: Vec<Value> = items
                .iter()
                .map(|i| {
                    json!({"inventoryItemId": gid("InventoryItem", &key(i)), "locationId": location,
                                "quantity": i.quantity, "changeFromQuantity": Value::Null})
                })
                .collect();
            let query = "mutation inventorySetQuantities($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { id } userErrors { field message code } } }";
            (
                "POST",
                "/admin/api/2026-01/graphql.json".to_string(),
                json!({"query": query, "variables": {"input": {"name": "available", "reason": "correction",
                    "referenceDocumentUri": format!("ordersmith://stock-push/{request_id}"),
                    "quantities": quantities}}}),
            )
        }
        PushTarget::WooCommerceBatch => {
            let update: Vec<Value> = items
                .iter()
                .map(|i| json!({"id": key(i), "manage_stock": true, "stock_quantity": i.quantity}))
                .collect();
            let path = if group.is_empty() {
                "/wp-json/wc/v3/products/batch".to_string()
            } else {
                format!("/wp-json/wc/v3/products/{group}/variations/batch")
            };
            ("POST", path, json!({"update": update}))
        }
        PushTarget::TrendyolInventory => {
            // Trendyol refuses a stock above its maximum, which would leave the item
            // changed and planned again every cycle: more than it can show is shown
            // as the most it can.
            let list: Vec<Value> = items
                .iter()
                .map(|i| json!({"barcode": key(i), "quantity": i.quantity.min(TRENDYOL_MAX_STOCK)}))
                .collect();
            (
                "POST",
                format!("/integration/inventory/sellers/{seller}/products/price-and-inventory"),
                json!({"items": list}),
            )
        }
        PushTarget::HepsiburadaStockUpload => {
            let list: Vec<Value> = items
                .iter()
                .map(|i| {
                    let mut v = json!({"merchantSku": key(i), "availableStock": i.quantity});
                    if let (Some(hb), Some(obj)) = (&i.listing.variant_id, v.as_object_mut()) {
                        obj.insert("hepsiburadaSku".into(), json!(hb));
                    }
                    v
                })
                .collect();
            (
                "POST",
                format!("/listings/merchantid/{seller}/stock-uploads"),
                Value::Array(list),
            )
        }
        PushTarget::AmazonListingsPatch => {
            let market = account
                .marketplace_id
                .as_deref()
                .unwrap_or("{marketplaceId}");
            let (product_type, quantity) = items
                .first()
                .map(|i| {
                    (
                        i.listing
                            .product_type
                            .clone()
                            .unwrap_or_else(|| "PRODUCT".into()),
                        i.quantity,
                    )
                })
                .unwrap_or_else(|| ("PRODUCT".into(), 0));
            (
                "PATCH",
                format!("/listings/2021-08-01/items/{seller}/{group}?marketplaceIds={market}"),
                json!({"productType": product_type, "patches": availability(quantity)}),
            )
        }
        PushTarget::AmazonListingsFeed => {
            let messages: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(n, i)| json!({"messageId": n + 1, "sku": key(i), "operationType": "PATCH",
                    "productType": i.listing.product_type.clone().unwrap_or_else(|| "PRODUCT".into()),
                    "patches": availability(i.quantity)}))
                .collect();
            (
                "POST",
                "/feeds/2021-06-30/documents".to_string(),
                json!({"header": {"sellerId": seller, "version": "2.0", "issueLocale": "en_US"}, "messages": messages}),
            )
        }
        PushTarget::EbayBulkPriceQuantity => {
            let requests: Vec<Value> = items
                .iter()
                .map(|i| {
                    let mut request = json!({"sku": key(i), "shipToLocationAvailability": {"quantity": i.quantity}});
                    if let (false, Some(obj)) =
                        (i.listing.offer_ids.is_empty(), request.as_object_mut())
                    {
                        let offers: Vec<Value> = i
                            .listing
                            .offer_ids
                            .iter()
                            .map(|id| json!({"offerId": id, "availableQuantity": i.quantity}))
                            .collect();
                        obj.insert("offers".into(), Value::Array(offers));
                    }
                    request
                })
                .collect();
            (
                "POST",
                "/sell/inventory/v1/bulk_update_price_quantity".to_string(),
                json!({"requests": requests}),
            )
        }
    }
}
