//! The channels crate for Node: parse a channel payload, verify a webhook, import
//! through an engine, plan stock pushes. Glue only: every rule is in
//! `ordersmith-channels`. Imports and push acknowledgements write to the store and
//! return Promises; parsing, verifying and planning are synchronous.

use std::sync::{Arc, Mutex, RwLock};

use napi::bindgen_prelude::{AsyncTask, Buffer, Either};
use napi_derive::napi;
use ordersmith::engine::{Engine, EngineError};
use ordersmith::errors::OrdersmithError;
use ordersmith::ids::VariantId;
use ordersmith_channels::intake::{self, Intake, IntakeOptions};
use ordersmith_channels::mapping::Listing;
use ordersmith_channels::push::{PushAccount, PushTarget, StockPushPlanner};
use ordersmith_channels::stored::{StoreIdentifierMap, StoreIntakeLog};
use ordersmith_channels::webhook::{self, EbayPublicKey, Headers, Verified};
use ordersmith_channels::{parse_order, Channel};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::convert::{from_json, opts, order_json, to_json, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{job, shielded, shielded_json, Failure, Job, Out};

/// A request body: a `Buffer` (as `http` gives it) or a string (UTF-8).
type Body = Either<Buffer, String>;

fn bytes(body: Body) -> Vec<u8> {
    match body {
        Either::A(buffer) => buffer.to_vec(),
        Either::B(text) => text.into_bytes(),
    }
}

fn core<E: OrdersmithError>(e: E) -> Failure {
    Failure::core(&e)
}

fn channel_arg(name: &str) -> Out<Channel> {
    Channel::parse(name).ok_or_else(|| {
        let known: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        Failure::input("channel", format!("expected one of {}", known.join(", ")))
    })
}

fn verdict(v: Verified) -> &'static str {
    match v {
        Verified::Event => "event",
        Verified::Ping => "ping",
    }
}

/// Parses one order payload of `channel` into the canonical channel order.
#[napi(
    ts_args_type = "channel: ChannelName, body: Buffer | string",
    ts_return_type = "ChannelOrder"
)]
pub fn parse_channel_order(channel: String, body: Body) -> napi::Result<String> {
    shielded_json(|| to_json(&parse_order(channel_arg(&channel)?, &bytes(body)).map_err(core)?))
}

/// Parses a claims / returns feed (Trendyol, Hepsiburada, eBay) into channel events.
#[napi(
    ts_args_type = "channel: ChannelName, body: Buffer | string",
    ts_return_type = "Record<string, unknown>[]"
)]
pub fn parse_channel_events(channel: String, body: Body) -> napi::Result<String> {
    shielded_json(|| {
        let events = ordersmith_channels::parse_events(channel_arg(&channel)?, &bytes(body))
            .map_err(core)?;
        to_json(&events)
    })
}

/// Verifies a Shopify or WooCommerce delivery's HMAC against any of `secrets`
/// (current and, during a rotation, previous): `"event"` or `"ping"`, or throws a
/// `WebhookError`.
#[napi(
    ts_args_type = "channel: 'shopify' | 'woo_commerce', headers: Record<string, string | string[] | undefined>, body: Buffer | string, secrets: string[]",
    ts_return_type = "'event' | 'ping'"
)]
pub fn verify_hmac_webhook(
    channel: String,
    headers: JsonArg,
    body: Body,
    secrets: JsonArg,
) -> napi::Result<&'static str> {
    shielded(|| {
        let headers = header_map(headers)?;
        let body = bytes(body);
        let secrets: Vec<String> = from_json(secrets, "secrets")?;
        let keys: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
        match channel_arg(&channel)? {
            Channel::Shopify => webhook::verify_shopify(&headers, &body, &keys).map_err(core),
            Channel::WooCommerce => {
                webhook::verify_woocommerce(&headers, &body, &keys).map_err(core)
            }
            _ => Err(Failure::input(
                "channel",
                "HMAC webhooks are shopify or woo_commerce",
            )),
        }
        .map(verdict)
    })
}

/// Verifies Basic credentials (Trendyol, Hepsiburada) in constant time.
#[napi(
    ts_args_type = "channel: ChannelName, headers: Record<string, string | string[] | undefined>, username: string, password: string",
    ts_return_type = "'event' | 'ping'"
)]
pub fn verify_basic_auth(
    channel: String,
    headers: JsonArg,
    username: String,
    password: String,
) -> napi::Result<&'static str> {
    shielded(|| {
        let channel = channel_arg(&channel)?;
        let headers = header_map(headers)?;
        webhook::verify_basic(channel.as_str(), &headers, &username, &password)
            .map(verdict)
            .map_err(core)
    })
}

/// Verifies an API-key header (`"x-api-key"` or `"authorization"`) in constant time.
#[napi(
    ts_args_type = "channel: ChannelName, headers: Record<string, string | string[] | undefined>, header: 'x-api-key' | 'authorization', apiKey: string",
    ts_return_type = "'event' | 'ping'"
)]
pub fn verify_api_key(
    channel: String,
    headers: JsonArg,
    header: String,
    api_key: String,
) -> napi::Result<&'static str> {
    shielded(|| {
        let channel = channel_arg(&channel)?;
        let headers = header_map(headers)?;
        // The verifier names the header in its errors, so it must outlive the call.
        let header: &'static str = match header.to_ascii_lowercase().as_str() {
            "x-api-key" => "x-api-key",
            "authorization" => "Authorization",
            _ => {
                return Err(Failure::input(
                    "header",
                    "expected \"x-api-key\" or \"authorization\"",
                ))
            }
        };
        webhook::verify_api_key(channel.as_str(), &headers, header, &api_key)
            .map(verdict)
            .map_err(core)
    })
}

/// Verifies an eBay notification; `publicKeys` maps key ids to the PEM keys the host
/// fetched (and caches).
#[napi(
    ts_args_type = "headers: Record<string, string | string[] | undefined>, body: Buffer | string, publicKeys: Record<string, string>",
    ts_return_type = "'event' | 'ping'"
)]
pub fn verify_ebay_webhook(
    headers: JsonArg,
    body: Body,
    public_keys: JsonArg,
) -> napi::Result<&'static str> {
    shielded(|| {
        let headers = header_map(headers)?;
        let pems: BTreeMap<String, String> = from_json(public_keys, "publicKeys")?;
        let mut keys = Vec::new();
        for (kid, pem) in &pems {
            keys.push((kid.clone(), EbayPublicKey::from_pem(pem).map_err(core)?));
        }
        webhook::verify_ebay(&headers, &bytes(body), |kid| {
            keys.iter()
                .find(|(k, _)| k == kid)
                .map(|(_, key)| key.clone())
        })
        .map(verdict)
        .map_err(core)
    })
}

/// Node's `req.headers` (values a string, or a list for repeated headers) as the
/// verifier's headers; `undefined` values are skipped.
fn header_map(value: JsonArg) -> Out<Headers> {
    let map: BTreeMap<String, Value> = from_json(value, "headers")?;
    let mut pairs = Vec::with_capacity(map.len());
    for (name, value) in map {
        match value {
            Value::String(s) => pairs.push((name, s)),
            Value::Array(items) => {
                for item in items {
                    if let Value::String(s) = item {
                        pairs.push((name.clone(), s));
                    }
                }
            }
            Value::Null => {}
            _ => {
                return Err(Failure::input(
                    &format!("headers.{name}"),
                    "expected a string",
                ))
            }
        }
    }
    Ok(Headers::new(pairs))
}

/// Plans one channel API's stock pushes (see `ChannelIntake.planStockPush`).
#[napi(js_name = "StockPushPlanner")]
pub struct JsStockPushPlanner {
    inner: Arc<Mutex<StockPushPlanner>>,
}

/// `{sellerId?, marketplaceId?, locationId?}`: the channel account a push goes to.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AccountOptions {
    seller_id: Option<String>,
    marketplace_id: Option<String>,
    location_id: Option<String>,
}

#[napi]
impl JsStockPushPlanner {
    /// A planner for `target` (`"shopify_inventory"`, `"woo_commerce_batch"`, ...).
    #[napi(
        constructor,
        ts_args_type = "target: PushTargetName, account?: { sellerId?: string; marketplaceId?: string; locationId?: string }"
    )]
    pub fn new(target: String, account: Option<JsonArg>) -> napi::Result<Self> {
        shielded(|| {
            let target = PushTarget::parse(&target).ok_or_else(|| {
                let known: Vec<&str> = PushTarget::ALL.iter().map(|t| t.as_str()).collect();
                Failure::input("target", format!("expected one of {}", known.join(", ")))
            })?;
            let a: AccountOptions = opts(account, "account")?;
            let account = PushAccount {
                seller_id: a.seller_id,
                marketplace_id: a.marketplace_id,
                location_id: a.location_id,
            };
            let planner = StockPushPlanner::new(target, account).map_err(core)?;
            Ok(JsStockPushPlanner {
                inner: Arc::new(Mutex::new(planner)),
            })
        })
    }

    /// The target API.
    #[napi(getter, ts_return_type = "PushTargetName")]
    pub fn target(&self) -> &'static str {
        self.lock().target().as_str()
    }

    /// Ids of requests sent and not yet acknowledged.
    #[napi]
    pub fn in_flight(&self) -> Vec<String> {
        self.lock().in_flight()
    }

    /// The channel answered 429 with a Retry-After: no request goes before `until` (an
    /// ISO time; acknowledge the refused request with all its keys as failed to plan
    /// them again).
    #[napi]
    pub fn throttled(&self, until: String) -> napi::Result<()> {
        shielded(|| {
            let until = iso_time(until, "until")?;
            self.lock().throttled(until);
            Ok(())
        })
    }

    /// When the next request may go, given the time `now` (ISO times).
    #[napi]
    pub fn next_allowed(&self, now: String) -> napi::Result<String> {
        shielded(|| Ok(self.lock().next_allowed(iso_time(now, "now")?).to_rfc3339()))
    }
}

/// An ISO-8601 time with an offset, read by the core's rule (a naive time is refused).
fn iso_time(text: String, field: &str) -> Out<chrono::DateTime<chrono::Utc>> {
    #[derive(Deserialize)]
    struct At(
        #[serde(deserialize_with = "ordersmith::order::aware_time")] chrono::DateTime<chrono::Utc>,
    );
    Ok(from_json::<At>(Value::String(text), field)?.0)
}

impl JsStockPushPlanner {
    fn lock(&self) -> std::sync::MutexGuard<'_, StockPushPlanner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Imports channel orders into an engine. The identifier map and the intake log live
/// in the engine's own store, so on SQLite or PostgreSQL they persist and are shared
/// like the orders.
#[napi(js_name = "ChannelIntake")]
pub struct JsChannelIntake {
    engine: Arc<RwLock<Option<Arc<Engine>>>>,
    map: Arc<StoreIdentifierMap>,
    log: Arc<StoreIntakeLog>,
    options: IntakeOptions,
}

/// `{mappingJson?, importTestOrders?, importMarketplaceFulfilled?}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IntakeSettings {
    mapping_json: Option<String>,
    import_test_orders: Option<bool>,
    import_marketplace_fulfilled: Option<bool>,
}

/// A variant's identifiers on a channel.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListingOptions {
    sku: Option<String>,
    barcode: Option<String>,
    variant_id: Option<String>,
    inventory_item_id: Option<String>,
    product_type: Option<String>,
    offer_ids: Option<Vec<String>>,
    fulfilled_by_marketplace: Option<bool>,
}

impl JsChannelIntake {
    fn engine(&self) -> Out<Arc<Engine>> {
        self.engine
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| Failure::from(EngineError::Closed))
    }

    /// Runs an intake call off the event loop.
    fn run(&self, work: impl FnOnce(&Intake<'_>) -> Out<Value> + Send + 'static) -> AsyncTask<Job> {
        let engine = self.engine();
        let (map, log, options) = (self.map.clone(), self.log.clone(), self.options.clone());
        job(move || {
            let engine = engine?;
            let intake = Intake::new(&engine, &*map, &*log, options);
            work(&intake)
        })
    }
}

fn with_order(
    report: &impl serde::Serialize,
    order: Option<&ordersmith::order::Order>,
) -> Out<Value> {
    let mut value = to_json(report)?;
    if let Value::Object(map) = &mut value {
        let order = order.map(order_json).transpose()?.unwrap_or(Value::Null);
        map.insert("order".into(), order);
    }
    Ok(value)
}

#[napi]
impl JsChannelIntake {
    /// Intake into `engine`; `mappingJson` restores a saved identifier map.
    #[napi(
        constructor,
        ts_args_type = "engine: Engine, options?: { mappingJson?: string; importTestOrders?: boolean; importMarketplaceFulfilled?: boolean }"
    )]
    pub fn new(engine: &JsEngine, options: Option<JsonArg>) -> napi::Result<Self> {
        shielded(|| {
            let s: IntakeSettings = opts(options, "options")?;
            let store = engine.engine()?.store();
            let map = StoreIdentifierMap::new(store.clone());
            if let Some(json) = &s.mapping_json {
                map.load_json(json).map_err(core)?;
            }
            Ok(JsChannelIntake {
                engine: engine.inner.clone(),
                map: Arc::new(map),
                log: Arc::new(StoreIntakeLog::new(store)),
                options: IntakeOptions {
                    import_test_orders: s.import_test_orders.unwrap_or(false),
                    import_marketplace_fulfilled: s.import_marketplace_fulfilled.unwrap_or(false),
                },
            })
        })
    }

    /// Sets a variant's listing on a channel (its SKU, barcode and variant id then
    /// resolve to the variant). `offerIds`: eBay offers whose quantity a push sets too;
    /// `fulfilledByMarketplace`: the marketplace ships it from its own stock (FBA,
    /// Hepsiburada), so pushes leave it alone.
    #[napi(
        ts_args_type = "channel: string, variant: string, listing?: { sku?: string; barcode?: string; variantId?: string; inventoryItemId?: string; productType?: string; offerIds?: string[]; fulfilledByMarketplace?: boolean }"
    )]
    pub fn set_listing(
        &self,
        channel: String,
        variant: String,
        listing: Option<JsonArg>,
    ) -> napi::Result<()> {
        shielded(|| {
            let variant = VariantId::parse(&variant).map_err(core)?;
            let l: ListingOptions = opts(listing, "listing")?;
            let listing = Listing {
                sku: l.sku,
                barcode: l.barcode,
                variant_id: l.variant_id,
                inventory_item_id: l.inventory_item_id,
                product_type: l.product_type,
                offer_ids: l.offer_ids.unwrap_or_default(),
                fulfilled_by_marketplace: l.fulfilled_by_marketplace.unwrap_or(false),
            };
            self.map
                .set_listing(&channel, &variant, listing)
                .map_err(core)
        })
    }

    /// The identifier map as JSON (a backup, or to load into another engine as
    /// `mappingJson`).
    #[napi]
    pub fn mapping_json(&self) -> napi::Result<String> {
        shielded(|| self.map.to_json().map_err(core))
    }

    /// Parses and imports one payload, off the event loop: the report (`outcome`,
    /// `order`, `applied`, `failed`, `unmapped`, `mismatches`, ...). The same channel
    /// order delivered twice is one order.
    #[napi(
        ts_args_type = "channel: ChannelName, body: Buffer | string",
        ts_return_type = "Promise<IntakeReport>"
    )]
    pub fn import_payload(&self, channel: String, body: Body) -> AsyncTask<Job> {
        let body = bytes(body);
        self.run(move |intake| {
            let report = intake
                .import_payload(channel_arg(&channel)?, &body)
                .map_err(core)?;
            with_order(&report, report.order.as_ref())
        })
    }

    /// Reads a claims / returns feed and reports each event with the order it concerns,
    /// once.
    #[napi(
        ts_args_type = "channel: ChannelName, body: Buffer | string",
        ts_return_type = "Promise<Record<string, unknown>[]>"
    )]
    pub fn import_events(&self, channel: String, body: Body) -> AsyncTask<Job> {
        let body = bytes(body);
        self.run(move |intake| {
            to_json(
                &intake
                    .import_events(channel_arg(&channel)?, &body)
                    .map_err(core)?,
            )
        })
    }

    /// Plans the stock pushes of `planner`'s channel at `now` (ISO time): what changed
    /// since the last acknowledged push, in batches within its limits, each with
    /// `not_before`. Marks nothing: acknowledge each request once sent.
    #[napi(
        ts_args_type = "planner: StockPushPlanner, now: string",
        ts_return_type = "StockPushPlan"
    )]
    pub fn plan_stock_push(
        &self,
        planner: &JsStockPushPlanner,
        now: String,
    ) -> napi::Result<String> {
        shielded_json(|| {
            #[derive(Deserialize)]
            struct At(
                #[serde(deserialize_with = "ordersmith::order::aware_time")]
                chrono::DateTime<chrono::Utc>,
            );
            let now = from_json::<At>(Value::String(now), "now")?.0;
            let engine = self.engine()?;
            let mut planner = planner.lock();
            let channel = planner.target().channel();
            let changed = intake::changed_since_last_push(&engine, channel)?;
            to_json(&planner.plan(&changed, &*self.map, now).map_err(core)?)
        })
    }

    /// Settles a sent request, off the event loop: `failedKeys` are the items the
    /// channel refused; the rest is marked pushed in the ledger. Resolves `{pushed,
    /// failed}`.
    #[napi(
        ts_args_type = "planner: StockPushPlanner, requestId: string, failedKeys?: string[]",
        ts_return_type = "Promise<PushAck>"
    )]
    pub fn acknowledge_stock_push(
        &self,
        planner: &JsStockPushPlanner,
        request_id: String,
        failed_keys: Option<JsonArg>,
    ) -> napi::Result<AsyncTask<Job>> {
        shielded(|| {
            let failed: Vec<String> = opts(failed_keys, "failedKeys")?;
            let (channel, ack) = {
                let mut p = planner.lock();
                let ack = p.acknowledge(&request_id, &failed).map_err(core)?;
                (p.target().channel(), ack)
            };
            let engine = self.engine();
            Ok(job(move || {
                intake::mark_pushed(&*engine?, channel, &ack)?;
                to_json(&ack)
            }))
        })
    }
}
