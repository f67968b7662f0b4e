//! The channels crate for Python: parse a channel payload, verify a webhook, import
//! through an engine, plan stock pushes. Glue only: every rule is in
//! `ordersmith-channels`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use ordersmith::errors::OrdersmithError;
use ordersmith::ids::VariantId;
use ordersmith_channels::intake::{self, Intake, IntakeOptions};
use ordersmith_channels::mapping::Listing;
use ordersmith_channels::push::{PushAccount, PushTarget, StockPushPlanner};
use ordersmith_channels::stored::{StoreIdentifierMap, StoreIntakeLog};
use ordersmith_channels::webhook::{self, EbayPublicKey, Headers, Verified};
use ordersmith_channels::{parse_order, Channel};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::args::{names, Flag, RawBytes, Text, TextList, TextMap};
use crate::convert::datetime_arg;
use crate::engine::PyEngine;
use crate::errors::{core_error, invalid_input, panic_error};
use crate::order::PyOrder;

/// Keys of channel output whose string values are decimal amounts.
const DECIMAL_KEYS: &[&str] = &[
    "unit_price",
    "amount",
    "tax_rate",
    "tax_amount",
    "price",
    "refunded_amount",
    "marketplace_funded",
    "total",
    "discount",
    "shipping",
    "tax",
    "channel_amount",
    "computed_amount",
    "difference",
    "total_difference",
];

/// Channel output as Python: amounts as `Decimal`, `*_at` as aware datetimes.
fn out<'py>(py: Python<'py>, key: &str, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::String(s) if DECIMAL_KEYS.contains(&key) => match s.parse::<Decimal>() {
            Ok(d) => d.into_pyobject(py)?.into_any(),
            Err(_) => PyString::new(py, s).into_any(),
        },
        Value::String(s) if key.ends_with("_at") => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&chrono::Utc).into_pyobject(py)?.into_any(),
            Err(_) => PyString::new(py, s).into_any(),
        },
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(out(py, key, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, out(py, k, v)?)?;
            }
            dict.into_any()
        }
        other => crate::convert::json_to_py(py, other)?,
    })
}

fn to_out<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| invalid_input(py, "output", &format!("could not be serialised: {e}")))?;
    out(py, "", &json)
}

/// Runs `work` with the GIL released and panics caught; its error, whatever module it
/// comes from, is raised with its own code.
fn run<T: Send, E: OrdersmithError + Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, E> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(core_error(py, &e)),
        Err(payload) => Err(panic_error(py, payload.as_ref())),
    }
}

fn channel_arg(py: Python<'_>, name: &str) -> PyResult<Channel> {
    Channel::parse(name).ok_or_else(|| {
        let known: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        invalid_input(
            py,
            "channel",
            &format!("expected one of {}", known.join(", ")),
        )
    })
}

/// Parses a claims / returns feed (Trendyol, Hepsiburada, eBay) into channel events.
#[pyfunction]
pub(crate) fn parse_channel_events<'py>(
    py: Python<'py>,
    channel: Text<names::channel>,
    body: RawBytes<names::body>,
) -> PyResult<Bound<'py, PyAny>> {
    let channel = channel_arg(py, channel.as_str())?;
    let events = run(py, || ordersmith_channels::parse_events(channel, &body.0))?;
    to_out(py, &events)
}

/// Parses one channel payload into the canonical channel order (a dict).
#[pyfunction]
pub(crate) fn parse_channel_order<'py>(
    py: Python<'py>,
    channel: Text<names::channel>,
    body: RawBytes<names::body>,
) -> PyResult<Bound<'py, PyAny>> {
    let channel = channel_arg(py, channel.as_str())?;
    let order = run(py, || parse_order(channel, &body.0))?;
    to_out(py, &order)
}

fn verdict(v: Verified) -> &'static str {
    match v {
        Verified::Event => "event",
        Verified::Ping => "ping",
    }
}

/// Verifies a Shopify or WooCommerce delivery's HMAC against any of `secrets`
/// (current and, during a rotation, previous). Returns `"event"` or `"ping"`.
#[pyfunction]
pub(crate) fn verify_hmac_webhook(
    py: Python<'_>,
    channel: Text<names::channel>,
    headers: TextMap<names::headers>,
    body: RawBytes<names::body>,
    secrets: TextList<names::secrets>,
) -> PyResult<&'static str> {
    let channel = channel_arg(py, channel.as_str())?;
    let headers = Headers::new(headers.0);
    let keys: Vec<&[u8]> = secrets.0.iter().map(|s| s.as_bytes()).collect();
    match channel {
        Channel::Shopify => run(py, || webhook::verify_shopify(&headers, &body.0, &keys)),
        Channel::WooCommerce => run(py, || webhook::verify_woocommerce(&headers, &body.0, &keys)),
        _ => Err(invalid_input(
            py,
            "channel",
            "HMAC webhooks are shopify or woo_commerce",
        )),
    }
    .map(verdict)
}

/// Verifies Basic credentials (Trendyol, Hepsiburada) in constant time.
#[pyfunction]
pub(crate) fn verify_basic_auth(
    py: Python<'_>,
    channel: Text<names::channel>,
    headers: TextMap<names::headers>,
    username: Text<names::username>,
    password: Text<names::password>,
) -> PyResult<&'static str> {
    let channel = channel_arg(py, channel.as_str())?;
    let headers = Headers::new(headers.0);
    run(py, || {
        webhook::verify_basic(
            channel.as_str(),
            &headers,
            username.as_str(),
            password.as_str(),
        )
    })
    .map(verdict)
}

/// Verifies an API-key header (Trendyol's option) in constant time.
#[pyfunction]
pub(crate) fn verify_api_key(
    py: Python<'_>,
    channel: Text<names::channel>,
    headers: TextMap<names::headers>,
    header: Text<names::header>,
    api_key: Text<names::api_key>,
) -> PyResult<&'static str> {
    let channel = channel_arg(py, channel.as_str())?;
    let headers = Headers::new(headers.0);
    // The verifier names the header in its errors, so it must outlive the call.
    let header: &'static str = match header.as_str().to_ascii_lowercase().as_str() {
        "x-api-key" => "x-api-key",
        "authorization" => "Authorization",
        _ => {
            return Err(invalid_input(
                py,
                "header",
                "expected \"x-api-key\" or \"authorization\"",
            ))
        }
    };
    run(py, || {
        webhook::verify_api_key(channel.as_str(), &headers, header, api_key.as_str())
    })
    .map(verdict)
}

/// Verifies an eBay notification; `public_keys` maps key ids to the PEM keys the host
/// fetched (and caches).
#[pyfunction]
pub(crate) fn verify_ebay_webhook(
    py: Python<'_>,
    headers: TextMap<names::headers>,
    body: RawBytes<names::body>,
    public_keys: TextMap<names::public_keys>,
) -> PyResult<&'static str> {
    let headers = Headers::new(headers.0);
    run(py, || {
        let mut keys = Vec::new();
        for (kid, pem) in &public_keys.0 {
            keys.push((kid.clone(), EbayPublicKey::from_pem(pem)?));
        }
        webhook::verify_ebay(&headers, &body.0, |kid| {
            keys.iter()
                .find(|(k, _)| k == kid)
                .map(|(_, key)| key.clone())
        })
    })
    .map(verdict)
}

/// Plans one channel API's stock pushes (see `ChannelIntake.plan_stock_push`).
#[pyclass(frozen, name = "StockPushPlanner", module = "ordersmith._native")]
pub(crate) struct PyStockPushPlanner {
    inner: Mutex<StockPushPlanner>,
}

#[pymethods]
impl PyStockPushPlanner {
    #[new]
    #[pyo3(signature = (target, *, seller_id=None, marketplace_id=None, location_id=None))]
    fn new(
        py: Python<'_>,
        target: Text<names::target>,
        seller_id: Option<Text<names::seller_id>>,
        marketplace_id: Option<Text<names::marketplace_id>>,
        location_id: Option<Text<names::location_id>>,
    ) -> PyResult<Self> {
        let target = PushTarget::parse(target.as_str()).ok_or_else(|| {
            let known: Vec<&str> = PushTarget::ALL.iter().map(|t| t.as_str()).collect();
            invalid_input(
                py,
                "target",
                &format!("expected one of {}", known.join(", ")),
            )
        })?;
        let account = PushAccount {
            seller_id: seller_id.map(|t| t.0),
            marketplace_id: marketplace_id.map(|t| t.0),
            location_id: location_id.map(|t| t.0),
        };
        let planner = run(py, || StockPushPlanner::new(target, account))?;
        Ok(PyStockPushPlanner {
            inner: Mutex::new(planner),
        })
    }

    /// The target API.
    #[getter]
    fn target(&self) -> &'static str {
        self.lock().target().as_str()
    }

    /// Ids of requests sent and not yet acknowledged.
    fn in_flight(&self) -> Vec<String> {
        self.lock().in_flight()
    }

    /// The channel answered 429 with a Retry-After: no request goes before `until`
    /// (acknowledge the refused request with all its keys as failed to plan them again).
    fn throttled(&self, until: &Bound<'_, PyAny>) -> PyResult<()> {
        let until = datetime_arg(until, "until")?;
        self.lock().throttled(until);
        Ok(())
    }

    /// When the next request may go, given the time now.
    fn next_allowed(&self, now: &Bound<'_, PyAny>) -> PyResult<chrono::DateTime<chrono::Utc>> {
        let now = datetime_arg(now, "now")?;
        Ok(self.lock().next_allowed(now))
    }
}

impl PyStockPushPlanner {
    fn lock(&self) -> std::sync::MutexGuard<'_, StockPushPlanner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Imports channel orders into an engine. The identifier map and the intake log live
/// in the engine's own store, so on SQLite or PostgreSQL they persist and are shared
/// like the orders.
#[pyclass(frozen, name = "ChannelIntake", module = "ordersmith._native")]
pub(crate) struct PyChannelIntake {
    engine: Py<PyEngine>,
    map: StoreIdentifierMap,
    log: StoreIntakeLog,
    options: IntakeOptions,
}

#[pymethods]
impl PyChannelIntake {
    #[new]
    #[pyo3(
        signature = (engine, *, mapping_json=None, import_test_orders=None, import_marketplace_fulfilled=None),
        text_signature = "(engine, *, mapping_json=None, import_test_orders=False, import_marketplace_fulfilled=False)"
    )]
    fn new(
        py: Python<'_>,
        engine: Py<PyEngine>,
        mapping_json: Option<Text<names::mapping_json>>,
        import_test_orders: Option<Flag<names::import_test_orders>>,
        import_marketplace_fulfilled: Option<Flag<names::import_marketplace_fulfilled>>,
    ) -> PyResult<Self> {
        let store = engine.get().engine(py)?.store();
        let map = StoreIdentifierMap::new(store.clone());
        if let Some(json) = mapping_json {
            run(py, || map.load_json(json.as_str()))?;
        }
        Ok(PyChannelIntake {
            engine,
            map,
            log: StoreIntakeLog::new(store),
            options: IntakeOptions {
                import_test_orders: import_test_orders.is_some_and(|f| f.0),
                import_marketplace_fulfilled: import_marketplace_fulfilled.is_some_and(|f| f.0),
            },
        })
    }

    /// Sets a variant's listing on a channel (its SKU, barcode and variant id then
    /// resolve to the variant). `offer_ids`: eBay offers whose quantity a push sets too;
    /// `fulfilled_by_marketplace`: the marketplace ships it from its own stock (FBA,
    /// Hepsiburada), so pushes leave it alone.
    #[pyo3(
        signature = (channel, variant, *, sku=None, barcode=None, variant_id=None, inventory_item_id=None, product_type=None, offer_ids=None, fulfilled_by_marketplace=None),
        text_signature = "(self, channel, variant, *, sku=None, barcode=None, variant_id=None, inventory_item_id=None, product_type=None, offer_ids=None, fulfilled_by_marketplace=False)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn set_listing(
        &self,
        py: Python<'_>,
        channel: Text<names::channel>,
        variant: Text<names::variant>,
        sku: Option<Text<names::sku>>,
        barcode: Option<Text<names::barcode>>,
        variant_id: Option<Text<names::variant_id>>,
        inventory_item_id: Option<Text<names::inventory_item_id>>,
        product_type: Option<Text<names::product_type>>,
        offer_ids: Option<TextList<names::offer_ids>>,
        fulfilled_by_marketplace: Option<Flag<names::fulfilled_by_marketplace>>,
    ) -> PyResult<()> {
        let variant = VariantId::parse(variant.as_str()).map_err(|e| core_error(py, &e))?;
        let listing = Listing {
            sku: sku.map(|t| t.0),
            barcode: barcode.map(|t| t.0),
            variant_id: variant_id.map(|t| t.0),
            inventory_item_id: inventory_item_id.map(|t| t.0),
            product_type: product_type.map(|t| t.0),
            offer_ids: offer_ids.map(|l| l.0).unwrap_or_default(),
            fulfilled_by_marketplace: fulfilled_by_marketplace.is_some_and(|f| f.0),
        };
        run(py, || {
            self.map.set_listing(channel.as_str(), &variant, listing)
        })
    }

    /// The identifier map as JSON (a backup, or to load into another engine as
    /// `mapping_json`).
    fn mapping_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || self.map.to_json())
    }

    /// Parses and imports one payload; returns the report (`outcome`, `order`,
    /// `applied`, `failed`, `unmapped`, `mismatches`, `new_events`, ...).
    fn import_payload<'py>(
        &self,
        py: Python<'py>,
        channel: Text<names::channel>,
        body: RawBytes<names::body>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let channel = channel_arg(py, channel.as_str())?;
        let engine = self.engine.get().engine(py)?;
        let report = run(py, || {
            Intake::new(&engine, &self.map, &self.log, self.options.clone())
                .import_payload(channel, &body.0)
        })?;
        let dict = to_out(py, &report)?;
        let order = report.order.map(PyOrder::new);
        dict.set_item("order", order)?;
        Ok(dict)
    }

    /// Reads a claims / returns feed and reports each event with the order it concerns
    /// (`order_id`), once (`new`).
    fn import_events<'py>(
        &self,
        py: Python<'py>,
        channel: Text<names::channel>,
        body: RawBytes<names::body>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let channel = channel_arg(py, channel.as_str())?;
        let engine = self.engine.get().engine(py)?;
        let reports = run(py, || {
            Intake::new(&engine, &self.map, &self.log, self.options.clone())
                .import_events(channel, &body.0)
        })?;
        to_out(py, &reports)
    }

    /// Plans the stock pushes of `planner`'s channel: what changed since the last
    /// acknowledged push, in batches within its limits, each with `not_before`.
    fn plan_stock_push<'py>(
        &self,
        py: Python<'py>,
        planner: &PyStockPushPlanner,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let now = datetime_arg(now, "now")?;
        let engine = self.engine.get().engine(py)?;
        let channel = planner.lock().target().channel();
        let changed = run(py, || intake::changed_since_last_push(&engine, channel))?;
        let plan = run(py, || planner.lock().plan(&changed, &self.map, now))?;
        to_out(py, &plan)
    }

    /// Settles a sent request: `failed_keys` are the items the channel refused; the
    /// rest is marked pushed in the ledger. Returns `{"pushed": {...}, "failed": [...]}`.
    #[pyo3(signature = (planner, request_id, failed_keys=None))]
    fn acknowledge_stock_push<'py>(
        &self,
        py: Python<'py>,
        planner: &PyStockPushPlanner,
        request_id: Text<names::request_id>,
        failed_keys: Option<TextList<names::failed_keys>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let failed_keys = failed_keys.unwrap_or_default();
        let engine = self.engine.get().engine(py)?;
        let channel = planner.lock().target().channel();
        let ack = run(py, || {
            planner
                .lock()
                .acknowledge(request_id.as_str(), &failed_keys.0)
        })?;
        run(py, || intake::mark_pushed(&engine, channel, &ack))?;
        to_out(py, &ack)
    }
}
