//! `Engine`: the core facade for Python. Constructors, order commands, queries and
//! effects live here; stock commands in `stock.rs`, stock reads in `stock_view.rs`.
//!
//! Every method converts its arguments (GIL held), runs the core call with the GIL
//! released ([`detached`]), and converts the result back. No rule is decided here.

use ordersmith::engine::{Engine, EngineConfig, EngineError, ShortagePolicy, SourcingConfig};
use ordersmith::ids::{ChannelId, OrderId};
use ordersmith::order::{Order, OrderInput, OrderStatus};
use std::sync::Arc;

use ordersmith::ports::memory::SystemClock;
use ordersmith::ports::{OrderQuery, StoreError};
use ordersmith_postgres::{PgOptions, PgStore};
use ordersmith_sqlite::{SqliteOptions, SqliteStore, Synchronous};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use serde_json::Value;

use crate::convert::{context, datetime_arg, enum_arg, from_json, id_arg, py_to_json, to_py};
use crate::errors::{detached, shielded, Failure};
use crate::order::{PyImportResult, PyOrder};

/// The engine: orders and stock in, events and effects out. Thread-safe; methods
/// release the GIL while the core works.
#[pyclass(frozen, name = "Engine", module = "ordersmith._native")]
pub(crate) struct PyEngine {
    pub(crate) inner: Engine,
}

/// The core's `EngineConfig` from the keyword arguments every constructor shares.
fn config(
    py: Python<'_>,
    reserve_on_confirm: bool,
    sourcing: &str,
    allow_split: bool,
    on_shortage: &str,
) -> PyResult<EngineConfig> {
    let sourcing: SourcingConfig =
        from_json(serde_json::json!({ "strategy": sourcing }), "sourcing")
            .map_err(|f| f.into_py_err(py))?;
    let on_shortage: ShortagePolicy = enum_arg(py, "on_shortage", on_shortage)?;
    Ok(EngineConfig {
        reserve_on_confirm,
        sourcing,
        allow_split,
        on_shortage,
        ..EngineConfig::default()
    })
}

impl PyEngine {
    /// Wraps a core engine built on any store. The seam for more constructors:
    /// `Engine.open(path)` (SQLite) and `Engine.connect(url)` (PostgreSQL) build their
    /// store's `Engine::new(store, outbox, clock, ids)` and end here, sharing `config`.
    pub(crate) fn wrap(engine: Engine, config: EngineConfig) -> Self {
        PyEngine {
            inner: engine.with_config(config),
        }
    }

    /// Runs one order command and wraps the order it returns.
    pub(crate) fn order_call(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&Engine) -> Result<Order, EngineError> + Send,
    ) -> PyResult<PyOrder> {
        let engine = &self.inner;
        detached(py, || work(engine)).map(PyOrder::new)
    }
}

pub(crate) fn parse_order_id(py: Python<'_>, id: &str) -> PyResult<OrderId> {
    id_arg(py, id, OrderId::parse)
}

#[pymethods]
impl PyEngine {
    /// An engine on an in-memory store (tests, demos, scripts).
    #[staticmethod]
    #[pyo3(signature = (*, reserve_on_confirm=true, sourcing="priority", allow_split=true, on_shortage="fail"))]
    fn in_memory(
        py: Python<'_>,
        reserve_on_confirm: bool,
        sourcing: &str,
        allow_split: bool,
        on_shortage: &str,
    ) -> PyResult<Self> {
        let config = config(py, reserve_on_confirm, sourcing, allow_split, on_shortage)?;
        Ok(Self::wrap(Engine::in_memory(), config))
    }

    /// An engine on a SQLite file, created and migrated if needed: the embedded,
    /// persistent default. Order ids come from the file's own sequence.
    #[staticmethod]
    #[pyo3(signature = (path, *, synchronous="full", reserve_on_confirm=true, sourcing="priority", allow_split=true, on_shortage="fail"))]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        path: std::path::PathBuf,
        synchronous: &str,
        reserve_on_confirm: bool,
        sourcing: &str,
        allow_split: bool,
        on_shortage: &str,
    ) -> PyResult<Self> {
        let config = config(py, reserve_on_confirm, sourcing, allow_split, on_shortage)?;
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
    #[pyo3(signature = (url, *, schema=None, pool_size=4, reserve_on_confirm=true, sourcing="priority", allow_split=true, on_shortage="fail"))]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        url: &str,
        schema: Option<String>,
        pool_size: usize,
        reserve_on_confirm: bool,
        sourcing: &str,
        allow_split: bool,
        on_shortage: &str,
    ) -> PyResult<Self> {
        let config = config(py, reserve_on_confirm, sourcing, allow_split, on_shortage)?;
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
        actor: Option<&str>,
        idempotency_key: Option<String>,
    ) -> PyResult<PyOrder> {
        shielded(py, || {
            let ctx = context(py, actor, idempotency_key)?;
            let json = py_to_json(order, "order").map_err(|f| f.into_py_err(py))?;
            let engine = &self.inner;
            detached(py, || -> Result<Order, Failure> {
                let input: OrderInput = from_json(json, "order")?;
                let new = input.into_new_order().map_err(EngineError::from)?;
                Ok(engine.place_order(new, &ctx)?)
            })
            .map(PyOrder::new)
        })
    }

    /// Places many orders in one crossing; the GIL is released while the core works.
    /// One bad order does not stop the rest: it is reported in `errors` at its index.
    #[pyo3(signature = (orders, *, actor=None))]
    fn import_orders(
        &self,
        py: Python<'_>,
        orders: &Bound<'_, PyAny>,
        actor: Option<&str>,
    ) -> PyResult<PyImportResult> {
        shielded(py, || {
            let ctx = context(py, actor, None)?;
            let mut inputs: Vec<Result<Value, Failure>> = Vec::new();
            for (i, item) in orders.try_iter()?.enumerate() {
                inputs.push(py_to_json(&item?, &format!("orders[{i}]")));
            }
            let engine = &self.inner;
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
    fn order(&self, py: Python<'_>, order_id: &str) -> PyResult<PyOrder> {
        let id = parse_order_id(py, order_id)?;
        self.order_call(py, |e| e.order(&id))
    }

    /// The order's events, oldest first (its audit trail), as dicts.
    fn history<'py>(&self, py: Python<'py>, order_id: &str) -> PyResult<Bound<'py, PyList>> {
        let id = parse_order_id(py, order_id)?;
        let engine = &self.inner;
        let records = detached(py, || engine.order_history(&id))?;
        let out = PyList::empty(py);
        for record in &records {
            let row = to_py(py, record)?;
            row.set_item("actor", record.actor.to_string())?;
            out.append(row)?;
        }
        Ok(out)
    }

    /// Orders by status, channel and placed-time range (`placed_to` exclusive), oldest first.
    #[pyo3(signature = (status=None, channel=None, placed_from=None, placed_to=None, offset=0, limit=None))]
    // The parameters are the Python signature's keyword arguments.
    #[allow(clippy::too_many_arguments)]
    fn list_orders<'py>(
        &self,
        py: Python<'py>,
        status: Option<&str>,
        channel: Option<&str>,
        placed_from: Option<&Bound<'_, PyAny>>,
        placed_to: Option<&Bound<'_, PyAny>>,
        offset: usize,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let query = OrderQuery {
            status: status
                .map(|s| enum_arg::<OrderStatus>(py, "status", s))
                .transpose()?,
            channel: channel
                .map(|c| id_arg(py, c, ChannelId::parse))
                .transpose()?,
            placed_from: placed_from
                .map(|t| datetime_arg(t, "placed_from"))
                .transpose()?,
            placed_to: placed_to
                .map(|t| datetime_arg(t, "placed_to"))
                .transpose()?,
            offset,
            limit,
        };
        let engine = &self.inner;
        let orders = detached(py, || engine.list_orders(&query))?;
        PyList::new(py, orders.into_iter().map(PyOrder::new))
    }

    /// Up to `limit` effects waiting for the host, oldest first, with `payload` parsed.
    #[pyo3(signature = (limit=100))]
    fn pending_effects<'py>(&self, py: Python<'py>, limit: usize) -> PyResult<Bound<'py, PyList>> {
        let engine = &self.inner;
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
    fn acknowledge_effect(&self, py: Python<'_>, id: &str) -> PyResult<bool> {
        let engine = &self.inner;
        detached(py, || engine.acknowledge_effect(id))
    }

    /// The sourcing plan confirming would use now, with its explanation; `None` when no
    /// line needs stock. Nothing is reserved.
    fn sourcing_plan<'py>(&self, py: Python<'py>, order_id: &str) -> PyResult<Bound<'py, PyAny>> {
        let id = parse_order_id(py, order_id)?;
        let engine = &self.inner;
        let plan = detached(py, || engine.sourcing_plan(&id))?;
        to_py(py, &plan)
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "Engine(reserve_on_confirm={}, sourcing={:?}, allow_split={}, on_shortage={:?})",
            c.reserve_on_confirm, c.sourcing, c.allow_split, c.on_shortage
        )
    }
}
