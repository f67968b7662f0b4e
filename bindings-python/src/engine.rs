//! `Engine`: the core facade for Python. Constructors, order commands, queries and
//! effects live here; stock commands in `stock.rs`, stock reads in `stock_view.rs`.
//!
//! Every method converts its arguments (GIL held), runs the core call with the GIL
//! released ([`detached`]), and converts the result back. No rule is decided here.

use std::collections::BTreeMap;

use ordersmith::engine::{
    Engine, EngineConfig, EngineError, ExpiryPolicy, ShortagePolicy, SourcingConfig,
};
use ordersmith::fulfilment::{ShortPickPolicy, SsccConfig};
use ordersmith::ids::{ChannelId, OrderId};
use ordersmith::order::{Order, OrderCommand, OrderInput};
use std::sync::{Arc, RwLock};

use ordersmith::ports::memory::SystemClock;
use ordersmith::ports::StoreError;
use ordersmith_postgres::{PgOptions, PgStore};
use ordersmith_sqlite::{SqliteOptions, SqliteStore, Synchronous};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyMapping, PyTuple};
use serde_json::Value;

use crate::args::{names, Flag, Int, PathArg, Text};
use crate::convert::{
    context, enum_arg, extract_as, from_json, id_arg, py_to_json, timedelta_arg, to_py,
};
use crate::errors::{detached, invalid_input, shielded, Failure};
use crate::order::{PyImportResult, PyOrder};

/// The engine: orders and stock in, events and effects out. Thread-safe; methods
/// release the GIL while the core works. `close()` (or leaving a `with` block) drops
/// the engine's store, releasing its file or connections; later calls raise
/// `ENGINE_CLOSED`.
#[pyclass(frozen, name = "Engine", module = "ordersmith._native")]
pub(crate) struct PyEngine {
    inner: RwLock<Option<Engine>>,
    config: EngineConfig,
}

/// The engine keyword arguments every constructor shares, as Python passed them.
pub(crate) struct EngineArgs<'a, 'py> {
    reserve_on_confirm: Option<Flag<names::reserve_on_confirm>>,
    sourcing: Option<Text<names::sourcing>>,
    allow_split: Option<Flag<names::allow_split>>,
    on_shortage: Option<Text<names::on_shortage>>,
    ttl: Option<&'a Bound<'py, PyAny>>,
    by_channel: Option<&'a Bound<'py, PyAny>>,
    on_expiry: Option<Text<names::on_reservation_expiry>>,
    payment_stops: Option<Flag<names::payment_stops_reservation_clock>>,
    short_pick: Option<Text<names::short_pick>>,
    sscc: Option<&'a Bound<'py, PyAny>>,
    shipping_calendar: Option<&'a Bound<'py, PyAny>>,
    transit_days: Option<(u32, u32)>,
    notifications: Option<&'a Bound<'py, PyAny>>,
    returns: Option<&'a Bound<'py, PyAny>>,
}

/// `{"extension_digit": 0, "company_prefix": "8691234", "serial_from": 1,
/// "serial_to": 999999}` as the core's SSCC numbering.
fn sscc_config(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<SsccConfig> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fields {
        extension_digit: u8,
        company_prefix: String,
        serial_from: u64,
        serial_to: u64,
    }
    let f: Fields = extract_as(value, "sscc")?;
    SsccConfig::new(
        f.extension_digit,
        &f.company_prefix,
        f.serial_from..=f.serial_to,
    )
    .map_err(|e| crate::errors::core_error(py, &e))
}

/// Longest reservation time-to-live a configuration may set, in days.
const MAX_TTL_DAYS: i64 = 30;

/// The core's `EngineConfig` from the keyword arguments every constructor shares.
fn config(py: Python<'_>, args: EngineArgs<'_, '_>) -> PyResult<EngineConfig> {
    let reserve_on_confirm = args.reserve_on_confirm.is_none_or(|v| v.0);
    let allow_split = args.allow_split.is_none_or(|v| v.0);
    let sourcing = args.sourcing.map(|v| v.0);
    let sourcing = sourcing.as_deref().unwrap_or("priority");
    let sourcing: SourcingConfig =
        from_json(serde_json::json!({ "strategy": sourcing }), "sourcing")
            .map_err(|f| f.into_py_err(py))?;
    let on_shortage = args.on_shortage.map(|v| v.0);
    let on_shortage: ShortagePolicy =
        enum_arg(py, "on_shortage", on_shortage.as_deref().unwrap_or("fail"))?;
    let reservation_ttl = args
        .ttl
        .filter(|v| !v.is_none())
        .map(|v| timedelta_arg(v, "reservation_ttl", MAX_TTL_DAYS))
        .transpose()?;
    let mut reservation_ttl_by_channel = BTreeMap::new();
    if let Some(map) = args.by_channel.filter(|v| !v.is_none()) {
        let map = map.cast::<PyMapping>().map_err(|_| {
            invalid_input(
                py,
                "reservation_ttl_by_channel",
                "expected a mapping of channel id to timedelta or None",
            )
        })?;
        for item in map.items()?.iter() {
            let (channel, ttl): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            let channel: String = channel.extract().map_err(|_| {
                invalid_input(
                    py,
                    "reservation_ttl_by_channel",
                    "keys must be channel ids (str)",
                )
            })?;
            let channel = id_arg(py, &channel, ChannelId::parse)?;
            let ttl = if ttl.is_none() {
                None
            } else {
                Some(timedelta_arg(
                    &ttl,
                    "reservation_ttl_by_channel",
                    MAX_TTL_DAYS,
                )?)
            };
            reservation_ttl_by_channel.insert(channel, ttl);
        }
    }
    let short_pick = args.short_pick.map(|v| v.0);
    let short_pick: ShortPickPolicy = enum_arg(
        py,
        "short_pick",
        short_pick.as_deref().unwrap_or("resource"),
    )?;
    let on_expiry = args.on_expiry.map(|v| v.0);
    let on_reservation_expiry: ExpiryPolicy = enum_arg(
        py,
        "on_reservation_expiry",
        on_expiry.as_deref().unwrap_or("hold"),
    )?;
    let config = EngineConfig {
        reserve_on_confirm,
        sourcing,
        allow_split,
        on_shortage,
        reservation_ttl,
        reservation_ttl_by_channel,
        on_reservation_expiry,
        payment_stops_reservation_clock: args.payment_stops.is_none_or(|v| v.0),
        short_pick,
        sscc: args
            .sscc
            .filter(|v| !v.is_none())
            .map(|v| sscc_config(py, v))
            .transpose()?,
        shipping_calendar: args
            .shipping_calendar
            .filter(|v| !v.is_none())
            .map(|v| extract_as(v, "shipping_calendar"))
            .transpose()?,
        transit_days: args.transit_days.unwrap_or((1, 3)),
        notifications: args
            .notifications
            .filter(|v| !v.is_none())
            .map(|v| extract_as(v, "notifications"))
            .transpose()?,
        returns: match args.returns.filter(|v| !v.is_none()) {
            Some(v) => {
                let policy: ordersmith::returns::ReturnPolicy = extract_as(v, "returns")?;
                policy
                    .validate()
                    .map_err(|e| crate::errors::core_error(py, &e))?;
                policy
            }
            None => ordersmith::returns::ReturnPolicy::default(),
        },
        ..EngineConfig::default()
    };
    config
        .validate()
        .map_err(|e| crate::errors::core_error(py, &e))?;
    Ok(config)
}

impl PyEngine {
    /// Wraps a core engine built on any store. The seam for more constructors:
    /// `Engine.open(path)` (SQLite) and `Engine.connect(url)` (PostgreSQL) build their
    /// store's `Engine::new(store, outbox, clock, ids)` and end here, sharing `config`.
    pub(crate) fn wrap(engine: Engine, config: EngineConfig) -> Self {
        let engine = engine.with_config(config);
        PyEngine {
            config: engine.config().clone(),
            inner: RwLock::new(Some(engine)),
        }
    }

    /// The engine (a cheap clone sharing its ports), or `ENGINE_CLOSED`.
    pub(crate) fn engine(&self, py: Python<'_>) -> PyResult<Engine> {
        let guard = self
            .inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard
            .as_ref()
            .cloned()
            .ok_or_else(|| crate::errors::core_error(py, &EngineError::Closed))
    }

    /// Replaces the engine with `engine` (built from this one, sharing its ports): one
    /// that issues invoices, or runs a rule set live; `ENGINE_CLOSED` after `close()`.
    pub(crate) fn replace_engine(&self, py: Python<'_>, engine: Engine) -> PyResult<()> {
        let mut guard = self
            .inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            return Err(crate::errors::core_error(py, &EngineError::Closed));
        }
        *guard = Some(engine);
        Ok(())
    }

    /// Runs one order command and wraps the order it returns.
    pub(crate) fn order_call(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&Engine) -> Result<Order, EngineError> + Send,
    ) -> PyResult<PyOrder> {
        let engine = self.engine(py)?;
        detached(py, || work(&engine)).map(PyOrder::new)
    }
}

pub(crate) fn parse_order_id(py: Python<'_>, id: &str) -> PyResult<OrderId> {
    id_arg(py, id, OrderId::parse)
}

#[pymethods]
impl PyEngine {
    /// An engine on an in-memory store (tests, demos, scripts).
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (*, reserve_on_confirm=None, sourcing=None, allow_split=None, on_shortage=None, reservation_ttl=None, reservation_ttl_by_channel=None, on_reservation_expiry=None, payment_stops_reservation_clock=None, short_pick=None, sscc=None, shipping_calendar=None, transit_days=None, notifications=None, returns=None), text_signature = "(*, reserve_on_confirm=True, sourcing=\"priority\", allow_split=True, on_shortage=\"fail\", reservation_ttl=None, reservation_ttl_by_channel=None, on_reservation_expiry=\"hold\", payment_stops_reservation_clock=True, short_pick=\"resource\", sscc=None, shipping_calendar=None, transit_days=(1, 3), notifications=None, returns=None)")]
    fn in_memory(
        py: Python<'_>,
        reserve_on_confirm: Option<Flag<names::reserve_on_confirm>>,
        sourcing: Option<Text<names::sourcing>>,
        allow_split: Option<Flag<names::allow_split>>,
        on_shortage: Option<Text<names::on_shortage>>,
        reservation_ttl: Option<&Bound<'_, PyAny>>,
        reservation_ttl_by_channel: Option<&Bound<'_, PyAny>>,
        on_reservation_expiry: Option<Text<names::on_reservation_expiry>>,
        payment_stops_reservation_clock: Option<Flag<names::payment_stops_reservation_clock>>,
        short_pick: Option<Text<names::short_pick>>,
        sscc: Option<&Bound<'_, PyAny>>,
        shipping_calendar: Option<&Bound<'_, PyAny>>,
        transit_days: Option<(u32, u32)>,
        notifications: Option<&Bound<'_, PyAny>>,
        returns: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let config = config(
            py,
            EngineArgs {
                reserve_on_confirm,
                sourcing,
                allow_split,
                on_shortage,
                ttl: reservation_ttl,
                by_channel: reservation_ttl_by_channel,
                on_expiry: on_reservation_expiry,
                payment_stops: payment_stops_reservation_clock,
                short_pick,
                sscc,
                shipping_calendar,
                transit_days,
                notifications,
                returns,
            },
        )?;
        Ok(Self::wrap(Engine::in_memory(), config))
    }

    /// An engine on a SQLite file, created and migrated if needed: the embedded,
    /// persistent default. Order ids come from the file's own sequence.
    #[staticmethod]
    #[pyo3(signature = (path, *, synchronous=None, reserve_on_confirm=None, sourcing=None, allow_split=None, on_shortage=None, reservation_ttl=None, reservation_ttl_by_channel=None, on_reservation_expiry=None, payment_stops_reservation_clock=None, short_pick=None, sscc=None, shipping_calendar=None, transit_days=None, notifications=None, returns=None), text_signature = "(path, *, synchronous=\"full\", reserve_on_confirm=True, sourcing=\"priority\", allow_split=True, on_shortage=\"fail\", reservation_ttl=None, reservation_ttl_by_channel=None, on_reservation_expiry=\"hold\", payment_stops_reservation_clock=True, short_pick=\"resource\", sscc=None, shipping_calendar=None, transit_days=(1, 3), notifications=None, returns=None)")]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        path: PathArg<names::path>,
        synchronous: Option<Text<names::synchronous>>,
        reserve_on_confirm: Option<Flag<names::reserve_on_confirm>>,
        sourcing: Option<Text<names::sourcing>>,
        allow_split: Option<Flag<names::allow_split>>,
        on_shortage: Option<Text<names::on_shortage>>,
        reservation_ttl: Option<&Bound<'_, PyAny>>,
        reservation_ttl_by_channel: Option<&Bound<'_, PyAny>>,
        on_reservation_expiry: Option<Text<names::on_reservation_expiry>>,
        payment_stops_reservation_clock: Option<Flag<names::payment_stops_reservation_clock>>,
        short_pick: Option<Text<names::short_pick>>,
        sscc: Option<&Bound<'_, PyAny>>,
        shipping_calendar: Option<&Bound<'_, PyAny>>,
        transit_days: Option<(u32, u32)>,
        notifications: Option<&Bound<'_, PyAny>>,
        returns: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let path = path.0;
        let synchronous = synchronous.map(|v| v.0);
        let synchronous = synchronous.as_deref().unwrap_or("full");
        let config = config(
            py,
            EngineArgs {
                reserve_on_confirm,
                sourcing,
                allow_split,
                on_shortage,
                ttl: reservation_ttl,
                by_channel: reservation_ttl_by_channel,
                on_expiry: on_reservation_expiry,
                payment_stops: payment_stops_reservation_clock,
                short_pick,
                sscc,
                shipping_calendar,
                transit_days,
                notifications,
                returns,
            },
        )?;
        let synchronous = match synchronous {
            "full" => Synchronous::Full,
            "normal" => Synchronous::Normal,
            _ => {
                return Err(crate::errors::invalid_input(
                    py,
                    "synchronous",
                    "expected \"full\" or \"normal\"",
                ))
            }
        };
        let options = SqliteOptions {
            synchronous,
            ..SqliteOptions::default()
        };
        let store = detached(py, || {
            SqliteStore::open_with(&path, options)
                .map_err(|e| EngineError::Store(StoreError::from(e)))
        })?;
        let store = Arc::new(store);
        let engine = Engine::new(
            store.clone(),
            store.clone(),
            Arc::new(SystemClock::new()),
            store,
        );
        Ok(Self::wrap(engine, config))
    }

    /// An engine on a PostgreSQL database shared by several processes (tables are
    /// created in `schema`, or the server's default, on first use). `url` is a libpq
    /// connection string such as `"host=127.0.0.1 user=shop dbname=shop"`.
    #[staticmethod]
    #[pyo3(signature = (url, *, schema=None, pool_size=None, reserve_on_confirm=None, sourcing=None, allow_split=None, on_shortage=None, reservation_ttl=None, reservation_ttl_by_channel=None, on_reservation_expiry=None, payment_stops_reservation_clock=None, short_pick=None, sscc=None, shipping_calendar=None, transit_days=None, notifications=None, returns=None), text_signature = "(url, *, schema=None, pool_size=4, reserve_on_confirm=True, sourcing=\"priority\", allow_split=True, on_shortage=\"fail\", reservation_ttl=None, reservation_ttl_by_channel=None, on_reservation_expiry=\"hold\", payment_stops_reservation_clock=True, short_pick=\"resource\", sscc=None, shipping_calendar=None, transit_days=(1, 3), notifications=None, returns=None)")]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        url: Text<names::url>,
        schema: Option<Text<names::schema>>,
        pool_size: Option<Int<usize, names::pool_size>>,
        reserve_on_confirm: Option<Flag<names::reserve_on_confirm>>,
        sourcing: Option<Text<names::sourcing>>,
        allow_split: Option<Flag<names::allow_split>>,
        on_shortage: Option<Text<names::on_shortage>>,
        reservation_ttl: Option<&Bound<'_, PyAny>>,
        reservation_ttl_by_channel: Option<&Bound<'_, PyAny>>,
        on_reservation_expiry: Option<Text<names::on_reservation_expiry>>,
        payment_stops_reservation_clock: Option<Flag<names::payment_stops_reservation_clock>>,
        short_pick: Option<Text<names::short_pick>>,
        sscc: Option<&Bound<'_, PyAny>>,
        shipping_calendar: Option<&Bound<'_, PyAny>>,
        transit_days: Option<(u32, u32)>,
        notifications: Option<&Bound<'_, PyAny>>,
        returns: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let url = url.as_str();
        let schema = schema.map(|v| v.0);
        let pool_size = pool_size.map_or(4, |v| v.0);
        let config = config(
            py,
            EngineArgs {
                reserve_on_confirm,
                sourcing,
                allow_split,
                on_shortage,
                ttl: reservation_ttl,
                by_channel: reservation_ttl_by_channel,
                on_expiry: on_reservation_expiry,
                payment_stops: payment_stops_reservation_clock,
                short_pick,
                sscc,
                shipping_calendar,
                transit_days,
                notifications,
                returns,
            },
        )?;
        let options = PgOptions {
            schema,
            pool_size: pool_size.max(1),
            ..PgOptions::default()
        };
        let store = detached(py, || {
            PgStore::connect(url, options).map_err(|e| EngineError::Store(StoreError::from(e)))
        })?;
        let store = Arc::new(store);
        let engine = Engine::new(
            store.clone(),
            store.clone(),
            Arc::new(SystemClock::new()),
            store,
        );
        Ok(Self::wrap(engine, config))
    }

    /// Places one order given in the core's flat `OrderInput` shape.
    #[pyo3(signature = (order, *, actor=None, idempotency_key=None))]
    fn place_order(
        &self,
        py: Python<'_>,
        order: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        shielded(py, || {
            let ctx = context(py, actor, idempotency_key)?;
            let json = py_to_json(order, "order").map_err(|f| f.into_py_err(py))?;
            let engine = &self.engine(py)?;
            detached(py, || -> Result<Order, Failure> {
                let input: OrderInput = from_json(json, "order")?;
                let new = input.into_new_order().map_err(EngineError::from)?;
                Ok(engine.place_order(new, &ctx)?)
            })
            .map(PyOrder::new)
        })
    }

    /// Places one order and runs `then` on it in the same atomic write (one commit):
    /// `then` is a sequence of order commands in the core's JSON form
    /// (`{"command": "confirm"}`, `{"command": "mark_paid"}`, ...). Returns the order
    /// and whether it was placed now: the same channel order (or idempotency key) again
    /// returns the stored order with `False` and runs nothing twice. A command that
    /// fails leaves nothing saved, the placement included.
    #[pyo3(signature = (order, then, *, actor=None, idempotency_key=None))]
    fn place_order_then(
        &self,
        py: Python<'_>,
        order: &Bound<'_, PyAny>,
        then: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<(PyOrder, bool)> {
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        shielded(py, || {
            let ctx = context(py, actor, idempotency_key)?;
            let json = py_to_json(order, "order").map_err(|f| f.into_py_err(py))?;
            let then = py_to_json(then, "then").map_err(|f| f.into_py_err(py))?;
            let engine = &self.engine(py)?;
            detached(py, || -> Result<(Order, bool), Failure> {
                let input: OrderInput = from_json(json, "order")?;
                let then: Vec<OrderCommand> = from_json(then, "then")?;
                let new = input.into_new_order().map_err(EngineError::from)?;
                Ok(engine.place_order_then(new, then, &ctx)?)
            })
            .map(|(order, created)| (PyOrder::new(order), created))
        })
    }

    /// Places many orders in one crossing; the GIL is released while the core works.
    /// One bad order does not stop the rest: it is reported in `errors` at its index.
    #[pyo3(signature = (orders, *, actor=None))]
    fn import_orders(
        &self,
        py: Python<'_>,
        orders: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
    ) -> PyResult<PyImportResult> {
        let actor = actor.as_ref().map(Text::as_str);
        shielded(py, || {
            let ctx = context(py, actor, None)?;
            let mut inputs: Vec<Result<Value, Failure>> = Vec::new();
            for (i, item) in orders.try_iter()?.enumerate() {
                inputs.push(py_to_json(&item?, &format!("orders[{i}]")));
            }
            let engine = &self.engine(py)?;
            let results: Vec<Result<Order, Failure>> = detached(py, || {
                let mut slots: Vec<Option<Result<Order, Failure>>> =
                    Vec::with_capacity(inputs.len());
                let mut batch = Vec::with_capacity(inputs.len());
                for (i, input) in inputs.into_iter().enumerate() {
                    let new = input
                        .and_then(|json| from_json::<OrderInput>(json, &format!("orders[{i}]")))
                        .and_then(|o| {
                            o.into_new_order()
                                .map_err(|e| Failure::Core(EngineError::from(e)))
                        });
                    match new {
                        Ok(new) => {
                            batch.push(new);
                            slots.push(None);
                        }
                        Err(f) => slots.push(Some(Err(f))),
                    }
                }
                let mut placed = engine.place_orders(batch, &ctx).into_iter();
                let results = slots
                    .into_iter()
                    .map(|slot| match slot {
                        Some(failed) => failed,
                        None => placed
                            .next()
                            .unwrap_or(Err(EngineError::InvalidInput {
                                field: "orders",
                                reason: "fewer results than orders",
                            }))
                            .map_err(Failure::Core),
                    })
                    .collect();
                Ok::<_, Failure>(results)
            })?;
            let placed = PyList::empty(py);
            let errors = PyList::empty(py);
            for (i, result) in results.into_iter().enumerate() {
                match result {
                    Ok(order) => placed.append(PyOrder::new(order))?,
                    Err(f) => {
                        let err = f.into_py_err(py).into_value(py);
                        errors.append(PyTuple::new(
                            py,
                            [
                                i.into_pyobject(py)?.into_any(),
                                err.into_bound(py).into_any(),
                            ],
                        )?)?
                    }
                }
            }
            Ok(PyImportResult {
                orders: placed.unbind(),
                errors: errors.unbind(),
            })
        })
    }

    /// The order at its latest version.
    fn order(&self, py: Python<'_>, order_id: Text<names::order_id>) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let id = parse_order_id(py, order_id)?;
        self.order_call(py, |e| e.order(&id))
    }

    /// The order's events, oldest first (its audit trail), as dicts.
    fn history<'py>(
        &self,
        py: Python<'py>,
        order_id: Text<names::order_id>,
    ) -> PyResult<Bound<'py, PyList>> {
        let order_id = order_id.as_str();
        let id = parse_order_id(py, order_id)?;
        let engine = &self.engine(py)?;
        let records = detached(py, || engine.order_history(&id))?;
        let out = PyList::empty(py);
        for record in &records {
            let row = to_py(py, record)?;
            row.set_item("actor", record.actor.to_string())?;
            out.append(row)?;
        }
        Ok(out)
    }

    /// Up to `limit` effects waiting for the host, oldest first, with `payload` parsed.
    #[pyo3(signature = (limit=None), text_signature = "($self, limit=100)")]
    fn pending_effects<'py>(
        &self,
        py: Python<'py>,
        limit: Option<Int<usize, names::limit>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let limit = limit.map_or(ordersmith::ports::DEFAULT_PAGE_SIZE, |v| v.0);
        let engine = &self.engine(py)?;
        let records = detached(py, || engine.pending_effects(limit))?;
        let out = PyList::empty(py);
        for record in &records {
            let row = PyDict::new(py);
            row.set_item("id", &record.id)?;
            row.set_item("topic", &record.topic)?;
            row.set_item("aggregate_id", &record.aggregate_id)?;
            row.set_item("aggregate_version", record.aggregate_version)?;
            row.set_item("created_at", record.created_at)?;
            let payload: Value = serde_json::from_str(&record.payload_json).unwrap_or(Value::Null);
            row.set_item("payload", crate::convert::json_to_py(py, &payload)?)?;
            row.set_item("payload_json", &record.payload_json)?;
            out.append(row)?;
        }
        Ok(out)
    }

    /// Marks an effect done; `False` if it was not pending.
    fn acknowledge_effect(&self, py: Python<'_>, id: Text<names::id>) -> PyResult<bool> {
        let id = id.as_str();
        let engine = &self.engine(py)?;
        detached(py, || engine.acknowledge_effect(id))
    }

    /// The sourcing plan confirming would use now, with its explanation; `None` when no
    /// line needs stock. Nothing is reserved.
    fn sourcing_plan<'py>(
        &self,
        py: Python<'py>,
        order_id: Text<names::order_id>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let order_id = order_id.as_str();
        let id = parse_order_id(py, order_id)?;
        let engine = &self.engine(py)?;
        let plan = detached(py, || engine.sourcing_plan(&id))?;
        to_py(py, &plan)
    }

    /// Releases the store (the SQLite file, the PostgreSQL connections) once no
    /// iterator holds it. Idempotent; any later call raises `ENGINE_CLOSED`.
    fn close(&self) {
        let mut guard = self
            .inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.take();
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_none()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (_exc_type=None, _exc=None, _traceback=None))]
    fn __exit__(
        &self,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.close();
        false
    }

    /// The settings as the constructors spell them in Python.
    fn __repr__(&self) -> String {
        let c = &self.config;
        let spelling = |value: serde_json::Value| match value {
            Value::String(s) => s,
            Value::Object(map) => match map.get("strategy") {
                Some(Value::String(s)) => s.clone(),
                _ => "?".to_string(),
            },
            _ => "?".to_string(),
        };
        let py_bool = |b: bool| if b { "True" } else { "False" };
        // Reservation expiry only when it differs from the defaults, as Python spells it.
        let mut expiry = String::new();
        if let Some(ttl) = c.reservation_ttl {
            expiry.push_str(&format!(
                ", reservation_ttl=datetime.timedelta(seconds={})",
                ttl.num_seconds()
            ));
        }
        if !c.reservation_ttl_by_channel.is_empty() {
            let parts: Vec<String> = c
                .reservation_ttl_by_channel
                .iter()
                .map(|(ch, ttl)| match ttl {
                    Some(t) => format!("'{ch}': datetime.timedelta(seconds={})", t.num_seconds()),
                    None => format!("'{ch}': None"),
                })
                .collect();
            expiry.push_str(&format!(
                ", reservation_ttl_by_channel={{{}}}",
                parts.join(", ")
            ));
        }
        if c.on_reservation_expiry != ExpiryPolicy::Hold {
            expiry.push_str(&format!(
                ", on_reservation_expiry='{}'",
                spelling(serde_json::to_value(c.on_reservation_expiry).unwrap_or(Value::Null))
            ));
        }
        if !c.payment_stops_reservation_clock {
            expiry.push_str(", payment_stops_reservation_clock=False");
        }
        if c.short_pick != ShortPickPolicy::Resource {
            expiry.push_str(&format!(
                ", short_pick='{}'",
                spelling(serde_json::to_value(c.short_pick).unwrap_or(Value::Null))
            ));
        }
        format!(
            "Engine(reserve_on_confirm={}, sourcing='{}', allow_split={}, on_shortage='{}'{expiry}{})",
            py_bool(c.reserve_on_confirm),
            spelling(serde_json::to_value(&c.sourcing).unwrap_or(Value::Null)),
            py_bool(c.allow_split),
            spelling(serde_json::to_value(c.on_shortage).unwrap_or(Value::Null)),
            if self.closed() { ", closed=True" } else { "" }
        )
    }
}
