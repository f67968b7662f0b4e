//! Stock out: from the ledger's per-channel quantities that changed since the last
//! acknowledged push, the requests each channel's stock API takes, as data the host
//! sends, in batches within the channel's limits, each with the time it may go.
//!
//! The cycle: `changed_since_last_push` (core) → [`StockPushPlanner::plan`] → the host
//! sends each [`PushRequest`] at or after its `not_before` → the host reports the
//! channel's answer with [`StockPushPlanner::acknowledge`] (naming the items the
//! channel refused) → what was accepted is marked pushed in the ledger
//! (`StockCommand::MarkPushed`, see [`crate::intake::mark_pushed`]). Refused items stay
//! "changed" and go again in the next plan, alone; items in flight are never planned
//! twice.
//!
//! | target | items per request | rate (bucket, refill) | other |
//! |---|---|---|---|
//! | Shopify `inventorySetQuantities` | 250 | 1000 points, 100 points/s, 10 points a call (standard plan) | needs `inventory_item_id` and a location |
//! | WooCommerce `products/batch` | 100 | none documented: 10, one per 500 ms (host/WAF limits, \[U\]) | variations batch per parent product |
//! | Trendyol price-and-inventory | 1000 | listed as no limit: 10, one per second | an identical body within 15 min is rejected: never sent |
//! | Hepsiburada stock-uploads | 1000 (no official figure: integrations claim 4000, the `@lonca/hepsiburada` SDK caps at about 1000; 1000 holds under both) | 5, one per minute | at most 5 upload jobs in flight (\[U\]) |
//! | eBay bulk_update_price_quantity | 25 | 10, one per second (default tier: Inventory API 2,000,000 calls a day, so the bucket's 86,400 a day is safe) | at most 250 revisions per listing per day |
//! | Amazon listings PATCH | 1 | 5, 5 per second | |
//! | Amazon JSON_LISTINGS_FEED | 25,000 | createFeed: 15, one per 120 s | |

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ordersmith::errors::{ErrorKind, OrdersmithError};
use ordersmith::ids::VariantId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::mapping::{IdentifierMap, MappingError};
use crate::push_body::{build, group_key, item_key, BodyItem};
use crate::rate::TokenBucket;

/// Why planning or acknowledging failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(untagged)]
pub enum PushError {
    /// No request with this id is in flight.
    #[error("no stock push request {request_id} is in flight")]
    UnknownRequest {
        /// The id given.
        request_id: String,
    },
    /// Limits that cannot work (zero items per request).
    #[error("invalid push limits: {reason}")]
    InvalidLimits {
        /// Why.
        reason: &'static str,
    },
    /// The account lacks what the target's requests need.
    #[error("{target} pushes need {field}")]
    MissingAccount {
        /// The target.
        target: &'static str,
        /// What is missing.
        field: &'static str,
    },
    /// The identifier map failed.
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

impl PushError {
    /// Every code this enum returns itself.
    pub const CODES: &'static [&'static str] = &[
        "PUSH_UNKNOWN_REQUEST",
        "PUSH_INVALID_LIMITS",
        "PUSH_MISSING_ACCOUNT",
    ];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownRequest { .. } => "PUSH_UNKNOWN_REQUEST",
            Self::InvalidLimits { .. } => "PUSH_INVALID_LIMITS",
            Self::MissingAccount { .. } => "PUSH_MISSING_ACCOUNT",
            Self::Mapping(e) => e.code(),
        }
    }
}

impl OrdersmithError for PushError {
    fn code(&self) -> &'static str {
        PushError::code(self)
    }
    fn kind(&self) -> ErrorKind {
        crate::error::kind_of(self.code())
    }
}

/// A channel stock API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushTarget {
    /// Shopify GraphQL `inventorySetQuantities`.
    ShopifyInventory,
    /// WooCommerce `products/batch` (and `variations/batch`).
    WooCommerceBatch,
    /// Trendyol `price-and-inventory`.
    TrendyolInventory,
    /// Hepsiburada `stock-uploads`.
    HepsiburadaStockUpload,
    /// Amazon Listings Items `PATCH`, one SKU per request.
    AmazonListingsPatch,
    /// Amazon `JSON_LISTINGS_FEED` document.
    AmazonListingsFeed,
    /// eBay `bulk_update_price_quantity`.
    EbayBulkPriceQuantity,
}

impl PushTarget {
    /// Every target.
    pub const ALL: [PushTarget; 7] = [
        PushTarget::ShopifyInventory,
        PushTarget::WooCommerceBatch,
        PushTarget::TrendyolInventory,
        PushTarget::HepsiburadaStockUpload,
        PushTarget::AmazonListingsPatch,
        PushTarget::AmazonListingsFeed,
        PushTarget::EbayBulkPriceQuantity,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PushTarget::ShopifyInventory => "shopify_inventory",
            PushTarget::WooCommerceBatch => "woo_commerce_batch",
            PushTarget::TrendyolInventory => "trendyol_inventory",
            PushTarget::HepsiburadaStockUpload => "hepsiburada_stock_upload",
            PushTarget::AmazonListingsPatch => "amazon_listings_patch",
            PushTarget::AmazonListingsFeed => "amazon_listings_feed",
            PushTarget::EbayBulkPriceQuantity => "ebay_bulk_price_quantity",
        }
    }

    /// The target named `name`.
    pub fn parse(name: &str) -> Option<PushTarget> {
        PushTarget::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The channel id whose quantities and listings it pushes.
    pub fn channel(self) -> &'static str {
        match self {
            PushTarget::ShopifyInventory => "shopify",
            PushTarget::WooCommerceBatch => "woo_commerce",
            PushTarget::TrendyolInventory => "trendyol",
            PushTarget::HepsiburadaStockUpload => "hepsiburada",
            PushTarget::AmazonListingsPatch | PushTarget::AmazonListingsFeed => "amazon",
            PushTarget::EbayBulkPriceQuantity => "ebay",
        }
    }

    /// The documented limits (see the module table).
    pub fn limits(self) -> PushLimits {
        let base = PushLimits {
            max_items_per_request: 1,
            bucket_capacity: 10,
            refill_interval_ms: 1000,
            cost_per_request: 1,
            identical_body_window_ms: None,
            max_in_flight: None,
            max_revisions_per_item_per_day: None,
        };
        match self {
            PushTarget::ShopifyInventory => PushLimits {
                max_items_per_request: 250,
                bucket_capacity: 1000,
                refill_interval_ms: 10,
                cost_per_request: 10,
                ..base
            },
            PushTarget::WooCommerceBatch => PushLimits {
                max_items_per_request: 100,
                refill_interval_ms: 500,
                ..base
            },
            PushTarget::TrendyolInventory => PushLimits {
                max_items_per_request: 1000,
                identical_body_window_ms: Some(15 * 60 * 1000),
                ..base
            },
            PushTarget::HepsiburadaStockUpload => PushLimits {
                max_items_per_request: 1000,
                bucket_capacity: 5,
                refill_interval_ms: 60_000,
                max_in_flight: Some(5),
                ..base
            },
            PushTarget::AmazonListingsPatch => PushLimits {
                bucket_capacity: 5,
                refill_interval_ms: 200,
                ..base
            },
            PushTarget::AmazonListingsFeed => PushLimits {
                max_items_per_request: 25_000,
                bucket_capacity: 15,
                refill_interval_ms: 120_000,
                ..base
            },
            PushTarget::EbayBulkPriceQuantity => PushLimits {
                max_items_per_request: 25,
                max_revisions_per_item_per_day: Some(250),
                ..base
            },
        }
    }
}

/// A target's limits; override fields for plans with higher quotas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushLimits {
    /// Items one request may carry.
    pub max_items_per_request: usize,
    /// Token bucket size.
    pub bucket_capacity: u64,
    /// One token back every this many milliseconds.
    pub refill_interval_ms: u64,
    /// Tokens one request costs.
    pub cost_per_request: u64,
    /// An identical body within this window is rejected by the channel.
    pub identical_body_window_ms: Option<u64>,
    /// Requests that may await acknowledgement at once.
    pub max_in_flight: Option<usize>,
    /// Revisions of one item per UTC day.
    pub max_revisions_per_item_per_day: Option<u32>,
}

/// The seller's identifiers the requests need.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PushAccount {
    /// Trendyol seller id, Hepsiburada merchant id, Amazon seller id.
    pub seller_id: Option<String>,
    /// Amazon marketplace id.
    pub marketplace_id: Option<String>,
    /// Shopify location id.
    pub location_id: Option<String>,
}

/// One item of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushItem {
    /// ordersmith's variant.
    pub variant: VariantId,
    /// The key the channel's per-item results use (barcode, SKU, inventory item id).
    pub external_key: String,
    /// Quantity told.
    pub quantity: u64,
}

/// A request for the host to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PushRequest {
    /// Id to acknowledge it with.
    pub id: String,
    /// The API.
    pub target: PushTarget,
    /// HTTP method.
    pub method: &'static str,
    /// Path (and query), relative to the channel's API host.
    pub path: String,
    /// JSON body.
    pub body: serde_json::Value,
    /// The items, in body order.
    pub items: Vec<PushItem>,
    /// Send at or after this time.
    pub not_before: DateTime<Utc>,
}

/// What [`StockPushPlanner::plan`] produced.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PushPlan {
    /// Requests, in sending order.
    pub requests: Vec<PushRequest>,
    /// Variants not listed on the channel (or lacking the key the API needs).
    pub unlisted: Vec<VariantId>,
    /// Variants held back: already in flight, or at their daily revision cap.
    pub deferred: Vec<VariantId>,
    /// Variants whose listing the marketplace fulfils from its own stock
    /// ([`crate::mapping::Listing::fulfilled_by_marketplace`]): never pushed.
    pub marketplace_fulfilled: Vec<VariantId>,
}

/// What an acknowledgement settled.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PushAck {
    /// Accepted: mark these pushed in the ledger.
    pub pushed: BTreeMap<VariantId, u64>,
    /// Refused by the channel: they go again, alone, in the next plan.
    pub failed: Vec<VariantId>,
}

#[derive(Debug, Clone)]
struct InFlight {
    items: Vec<PushItem>,
}

/// Plans one target's pushes; keeps what is in flight, the rate bucket, recent bodies
/// and daily revision counts. One planner per (target, account).
#[derive(Debug, Clone)]
pub struct StockPushPlanner {
    target: PushTarget,
    limits: PushLimits,
    account: PushAccount,
    bucket: TokenBucket,
    next_seq: u64,
    in_flight: BTreeMap<String, InFlight>,
    recent_bodies: Vec<([u8; 32], DateTime<Utc>)>,
    revisions: BTreeMap<VariantId, (NaiveDate, u32)>,
}

impl StockPushPlanner {
    /// A planner with the target's documented limits.
    pub fn new(target: PushTarget, account: PushAccount) -> Result<Self, PushError> {
        Self::with_limits(target, account, target.limits())
    }

    /// A planner with other limits (a higher plan, a stricter host).
    pub fn with_limits(
        target: PushTarget,
        account: PushAccount,
        limits: PushLimits,
    ) -> Result<Self, PushError> {
        if limits.max_items_per_request == 0 {
            return Err(PushError::InvalidLimits {
                reason: "max_items_per_request must be at least 1",
            });
        }
        let needs = match target {
            PushTarget::TrendyolInventory | PushTarget::HepsiburadaStockUpload => {
                account.seller_id.is_none().then_some("seller_id")
            }
            PushTarget::AmazonListingsPatch | PushTarget::AmazonListingsFeed => {
                if account.seller_id.is_none() {
                    Some("seller_id")
                } else {
                    account.marketplace_id.is_none().then_some("marketplace_id")
                }
            }
            PushTarget::ShopifyInventory => account.location_id.is_none().then_some("location_id"),
            _ => None,
        };
        if let Some(field) = needs {
            return Err(PushError::MissingAccount {
                target: target.as_str(),
                field,
            });
        }
        Ok(StockPushPlanner {
            bucket: TokenBucket::new(limits.bucket_capacity, limits.refill_interval_ms),
            target,
            limits,
            account,
            next_seq: 1,
            in_flight: BTreeMap::new(),
            recent_bodies: Vec::new(),
            revisions: BTreeMap::new(),
        })
    }

    /// The target.
    pub fn target(&self) -> PushTarget {
        self.target
    }

    /// The limits in force.
    pub fn limits(&self) -> &PushLimits {
        &self.limits
    }

    /// When the next request may go.
    pub fn next_allowed(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.bucket.next_allowed(now, self.limits.cost_per_request)
    }

    /// The channel answered a request with "too many requests" (HTTP 429) and a
    /// `Retry-After`: no request of this planner goes before `until` (later plans'
    /// `not_before` say so). Acknowledge the refused request with all its keys as
    /// failed, so its items are planned again.
    pub fn throttled(&mut self, until: DateTime<Utc>) {
        self.bucket.pause_until(until, self.limits.cost_per_request);
    }

    /// Ids of requests awaiting acknowledgement.
    pub fn in_flight(&self) -> Vec<String> {
        self.in_flight.keys().cloned().collect()
    }

    /// Plans requests for `changed` (the ledger's "changed since last push" for this
    /// channel), skipping what is in flight. Each request's `not_before` respects the
    /// rate bucket, the in-flight cap (the host sends the rest after acknowledging
    /// earlier ones) and the identical-body window.
    pub fn plan(
        &mut self,
        changed: &BTreeMap<VariantId, u64>,
        map: &dyn IdentifierMap,
        now: DateTime<Utc>,
    ) -> Result<PushPlan, PushError> {
        let mut plan = PushPlan::default();
        let busy: std::collections::BTreeSet<&VariantId> = self
            .in_flight
            .values()
            .flat_map(|f| f.items.iter().map(|i| &i.variant))
            .collect();
        let today = now.date_naive();
        let mut groups: BTreeMap<String, Vec<(PushItem, crate::mapping::Listing)>> =
            BTreeMap::new();
        for (variant, quantity) in changed {
            if busy.contains(variant) {
                plan.deferred.push(variant.clone());
                continue;
            }
            if let (Some(cap), Some((day, n))) = (
                self.limits.max_revisions_per_item_per_day,
                self.revisions.get(variant),
            ) {
                if *day == today && *n >= cap {
                    plan.deferred.push(variant.clone());
                    continue;
                }
            }
            let listing = map.listing(self.target.channel(), variant)?;
            if listing.as_ref().is_some_and(|l| l.fulfilled_by_marketplace) {
                plan.marketplace_fulfilled.push(variant.clone());
                continue;
            }
            let Some((listing, key)) =
                listing.and_then(|l| item_key(self.target, &l).map(|k| (l, k)))
            else {
                plan.unlisted.push(variant.clone());
                continue;
            };
            groups
                .entry(group_key(self.target, &listing))
                .or_default()
                .push((
                    PushItem {
                        variant: variant.clone(),
                        external_key: key,
                        quantity: *quantity,
                    },
                    listing,
                ));
        }
        let window = self
            .limits
            .identical_body_window_ms
            .map(|ms| TimeDelta::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX / 2)));
        if let Some(w) = window {
            self.recent_bodies.retain(|(_, at)| *at + w > now);
        }
        for (group, items) in groups {
            for chunk in items.chunks(self.limits.max_items_per_request) {
                let id = format!("{}-{}", self.target.as_str(), self.next_seq);
                self.next_seq += 1;
                let body_items: Vec<BodyItem<'_>> = chunk
                    .iter()
                    .map(|(i, l)| BodyItem {
                        listing: l,
                        quantity: i.quantity,
                    })
                    .collect();
                let (method, path, body) =
                    build(self.target, &self.account, &id, &group, &body_items);
                let mut not_before = self.bucket.take(now, self.limits.cost_per_request);
                if let Some(w) = window {
                    let digest: [u8; 32] = Sha256::digest(body.to_string().as_bytes()).into();
                    if let Some((_, at)) = self.recent_bodies.iter().find(|(d, _)| *d == digest) {
                        not_before = not_before.max(*at + w);
                    }
                    self.recent_bodies.push((digest, not_before));
                }
                if let Some(cap) = self.limits.max_in_flight {
                    if self.in_flight.len() >= cap {
                        // Over the cap: left for a later plan, after acknowledgements.
                        for (i, _) in chunk {
                            plan.deferred.push(i.variant.clone());
                        }
                        continue;
                    }
                }
                let items: Vec<PushItem> = chunk.iter().map(|(i, _)| i.clone()).collect();
                for i in &items {
                    let entry = self
                        .revisions
                        .entry(i.variant.clone())
                        .or_insert((today, 0));
                    if entry.0 != today {
                        *entry = (today, 0);
                    }
                    entry.1 += 1;
                }
                self.in_flight.insert(
                    id.clone(),
                    InFlight {
                        items: items.clone(),
                    },
                );
                plan.requests.push(PushRequest {
                    id,
                    target: self.target,
                    method,
                    path,
                    body,
                    items,
                    not_before,
                });
            }
        }
        Ok(plan)
    }

    /// Settles a request: `failed_keys` are the external keys the channel refused
    /// (its per-item results); everything else in the request was accepted. A request
    /// that failed as a whole is acknowledged with all its keys.
    pub fn acknowledge(
        &mut self,
        request_id: &str,
        failed_keys: &[String],
    ) -> Result<PushAck, PushError> {
        let flight =
            self.in_flight
                .remove(request_id)
                .ok_or_else(|| PushError::UnknownRequest {
                    request_id: request_id.chars().take(100).collect(),
                })?;
        let mut ack = PushAck::default();
        for item in flight.items {
            if failed_keys.contains(&item.external_key) {
                ack.failed.push(item.variant);
            } else {
                ack.pushed.insert(item.variant, item.quantity);
            }
        }
        Ok(ack)
    }
}
