//! `Engine`: the core facade for Node. Constructors (memory, SQLite, PostgreSQL),
//! closing, the outbox and the order reads every capability shares. Order commands are
//! in `orders.rs`, payments in `payment.rs`, returns in `returns.rs`, the warehouse in
//! `fulfilment.rs`, stock in `stock.rs`, listings in `listing.rs`, timelines in
//! `timeline.rs`, channels in `channels.rs`: one file per engine file.
//!
//! Quick reads are synchronous. Store writes and bulk work return a Promise (napi
//! `AsyncTask` on the libuv pool), so the event loop keeps serving while the core works.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::TimeDelta;
use napi::bindgen_prelude::{AsyncTask, Env, Task};
use napi_derive::napi;
use ordersmith::engine::{
    Engine, EngineConfig, EngineError, ExpiryPolicy, ShortagePolicy, SourcingConfig,
};
use ordersmith::fulfilment::{ShortPickPolicy, SsccConfig};
use ordersmith::ids::ChannelId;
use ordersmith::ports::memory::SystemClock;
use ordersmith::ports::StoreError;
use ordersmith::returns::ReturnPolicy;
use ordersmith_postgres::{PgOptions, PgStore};
use ordersmith_sqlite::{SqliteOptions, SqliteStore, Synchronous};
use serde::Deserialize;
use serde_json::Value;

use crate::convert::{
    from_json, oid, opts, order_text, refuse_numbers_for_money, to_json, JsonArg,
};
use crate::errors::{job, job_text, shielded, shielded_json, shielded_text, Failure, Job, Out};

/// The engine: orders and stock in, events and effects out. Build it with
/// `Engine.inMemory()`, `await Engine.open(path)` (SQLite) or `await
/// Engine.connect(url)` (PostgreSQL); `close()` releases the store.
#[napi(js_name = "Engine")]
pub struct JsEngine {
    pub(crate) inner: Arc<RwLock<Option<Arc<Engine>>>>,
}

/// `{extensionDigit, companyPrefix, serialFrom, serialTo}`: GS1 SSCC numbering.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SsccOptions {
    extension_digit: u8,
    company_prefix: String,
    serial_from: u64,
    serial_to: u64,
}

/// The engine settings every constructor takes, as a Node caller spells them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EngineOptions {
    reserve_on_confirm: Option<bool>,
    sourcing: Option<String>,
    allow_split: Option<bool>,
    on_shortage: Option<ShortagePolicy>,
    reservation_ttl_minutes: Option<i64>,
    reservation_ttl_minutes_by_channel: Option<BTreeMap<String, Option<i64>>>,
    on_reservation_expiry: Option<ExpiryPolicy>,
    payment_stops_reservation_clock: Option<bool>,
    short_pick: Option<ShortPickPolicy>,
    sscc: Option<SsccOptions>,
    shipping_calendar: Option<Value>,
    transit_days: Option<(u32, u32)>,
    notifications: Option<Value>,
    returns: Option<Value>,
    // Store options (ignored by the in-memory engine).
    synchronous: Option<String>,
    schema: Option<String>,
    pool_size: Option<usize>,
}

fn minutes(value: i64, field: &str) -> Out<TimeDelta> {
    TimeDelta::try_minutes(value)
        .filter(|d| *d > TimeDelta::zero())
        .ok_or_else(|| Failure::input(field, "expected a positive number of minutes"))
}

impl EngineOptions {
    fn config(&self) -> Out<EngineConfig> {
        let sourcing: SourcingConfig = from_json(
            serde_json::json!({ "strategy": self.sourcing.as_deref().unwrap_or("priority") }),
            "sourcing",
        )?;
        let mut by_channel = BTreeMap::new();
        for (channel, ttl) in self.reservation_ttl_minutes_by_channel.iter().flatten() {
            let id = ChannelId::parse(channel).map_err(|e| Failure::core(&e))?;
            let field = "reservationTtlMinutesByChannel";
            by_channel.insert(id, ttl.map(|m| minutes(m, field)).transpose()?);
        }
        let sscc = match &self.sscc {
            None => None,
            Some(s) => Some(
                SsccConfig::new(
                    s.extension_digit,
                    &s.company_prefix,
                    s.serial_from..=s.serial_to,
                )
                .map_err(|e| Failure::core(&e))?,
            ),
        };
        let defaults = EngineConfig::default();
        let config = EngineConfig {
            reserve_on_confirm: self
                .reserve_on_confirm
                .unwrap_or(defaults.reserve_on_confirm),
            sourcing,
            allow_split: self.allow_split.unwrap_or(defaults.allow_split),
            on_shortage: self.on_shortage.unwrap_or(defaults.on_shortage),
            reservation_ttl: self
                .reservation_ttl_minutes
                .map(|m| minutes(m, "reservationTtlMinutes"))
                .transpose()?,
            reservation_ttl_by_channel: by_channel,
            on_reservation_expiry: self
                .on_reservation_expiry
                .unwrap_or(defaults.on_reservation_expiry),
            payment_stops_reservation_clock: self
                .payment_stops_reservation_clock
                .unwrap_or(defaults.payment_stops_reservation_clock),
            short_pick: self.short_pick.unwrap_or(defaults.short_pick),
            sscc,
            shipping_calendar: self
                .shipping_calendar
                .clone()
                .map(|v| from_json(v, "shippingCalendar"))
                .transpose()?,
            transit_days: self.transit_days.unwrap_or(defaults.transit_days),
            notifications: self
                .notifications
                .clone()
                .map(|v| from_json(v, "notifications"))
                .transpose()?,
            returns: match self.returns.clone() {
                None => defaults.returns.clone(),
                Some(v) => {
                    refuse_numbers_for_money(&v, "returns")?;
                    let policy: ReturnPolicy = from_json(v, "returns")?;
                    policy.validate().map_err(|e| Failure::core(&e))?;
                    policy
                }
            },
            ..defaults
        };
        config.validate().map_err(|e| Failure::core(&e))?;
        Ok(config)
    }
}

/// Opens a store off the event loop and resolves with the engine on it.
pub struct OpenTask {
    open: Option<Box<dyn FnOnce() -> Out<Engine> + Send>>,
}

impl Task for OpenTask {
    type Output = Engine;
    type JsValue = JsEngine;

    fn compute(&mut self) -> napi::Result<Engine> {
        match self.open.take() {
            Some(open) => shielded(open),
            None => Err(Failure::input("task", "ran twice").into()),
        }
    }

    fn resolve(&mut self, _env: Env, engine: Engine) -> napi::Result<JsEngine> {
        Ok(JsEngine::wrap(engine))
    }
}

fn store_error(e: impl Into<StoreError>) -> Failure {
    Failure::from(EngineError::Store(e.into()))
}

impl JsEngine {
    fn wrap(engine: Engine) -> Self {
        JsEngine {
            inner: Arc::new(RwLock::new(Some(Arc::new(engine)))),
        }
    }

    /// The engine, or `ENGINE_CLOSED` after `close()`.
    pub(crate) fn engine(&self) -> Out<Arc<Engine>> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| Failure::from(EngineError::Closed))
    }

    /// Runs `work` on the engine off the event loop; resolves with its JSON.
    pub(crate) fn write(
        &self,
        work: impl FnOnce(&Engine) -> Out<Value> + Send + 'static,
    ) -> AsyncTask<Job> {
        let engine = self.engine();
        job(move || work(&*engine?))
    }

    /// [`JsEngine::write`] for work that produces JSON text itself (orders, many orders).
    pub(crate) fn write_text(
        &self,
        work: impl FnOnce(&Engine) -> Out<String> + Send + 'static,
    ) -> AsyncTask<Job> {
        let engine = self.engine();
        job_text(move || work(&*engine?))
    }

    /// [`JsEngine::read`] for work that produces JSON text itself.
    pub(crate) fn read_text(
        &self,
        work: impl FnOnce(&Engine) -> Out<String>,
    ) -> napi::Result<String> {
        shielded_text(|| work(&*self.engine()?))
    }

    /// Replaces the engine with one built from it (sharing its store, outbox and
    /// writer): one that issues invoices, or runs a rule set live. Calls already
    /// running finish on the engine they started with; `ENGINE_CLOSED` after `close()`.
    pub(crate) fn replace(&self, build: impl FnOnce(Engine) -> Out<Engine>) -> Out<()> {
        let mut slot = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let current = slot
            .as_ref()
            .ok_or_else(|| Failure::from(EngineError::Closed))?;
        let next = build((**current).clone())?;
        *slot = Some(Arc::new(next));
        Ok(())
    }

    /// Runs a quick read on the engine, synchronously.
    pub(crate) fn read(&self, work: impl FnOnce(&Engine) -> Out<Value>) -> napi::Result<String> {
        shielded_json(|| work(&*self.engine()?))
    }
}

#[napi]
impl JsEngine {
    /// An engine on an in-memory store (tests, demos, one process that keeps nothing).
    #[napi(factory, ts_args_type = "options?: EngineOptions")]
    pub fn in_memory(options: Option<JsonArg>) -> napi::Result<JsEngine> {
        shielded(|| {
            let options: EngineOptions = opts(options, "options")?;
            Ok(JsEngine::wrap(
                Engine::in_memory().with_config(options.config()?),
            ))
        })
    }

    /// An engine on an SQLite file, created and migrated on open (off the event loop).
    /// `options.synchronous`: `"full"` (default) or `"normal"`.
    #[napi(
        ts_args_type = "path: string, options?: EngineOptions & { synchronous?: 'full' | 'normal' }",
        ts_return_type = "Promise<Engine>"
    )]
    pub fn open(path: String, options: Option<JsonArg>) -> napi::Result<AsyncTask<OpenTask>> {
        shielded(|| {
            let options: EngineOptions = opts(options, "options")?;
            let config = options.config()?;
            let synchronous = match options.synchronous.as_deref() {
                None | Some("full") => Synchronous::Full,
                Some("normal") => Synchronous::Normal,
                Some(_) => {
                    return Err(Failure::input(
                        "synchronous",
                        "expected \"full\" or \"normal\"",
                    ))
                }
            };
            let sqlite = SqliteOptions {
                synchronous,
                ..SqliteOptions::default()
            };
            Ok(AsyncTask::new(OpenTask {
                open: Some(Box::new(move || {
                    let store =
                        Arc::new(SqliteStore::open_with(&path, sqlite).map_err(store_error)?);
                    let engine = Engine::new(
                        store.clone(),
                        store.clone(),
                        Arc::new(SystemClock::new()),
                        store,
                    );
                    Ok(engine.with_config(config))
                })),
            }))
        })
    }

    /// An engine on a PostgreSQL database shared by several processes (off the event
    /// loop). `url` is a libpq connection string (`"host=127.0.0.1 user=shop
    /// dbname=shop"`); `options.schema` and `options.poolSize` (default 4) are optional.
    #[napi(
        ts_args_type = "url: string, options?: EngineOptions & { schema?: string; poolSize?: number }",
        ts_return_type = "Promise<Engine>"
    )]
    pub fn connect(url: String, options: Option<JsonArg>) -> napi::Result<AsyncTask<OpenTask>> {
        shielded(|| {
            let options: EngineOptions = opts(options, "options")?;
            let config = options.config()?;
            let pg = PgOptions {
                schema: options.schema.clone(),
                pool_size: options.pool_size.unwrap_or(4).max(1),
                ..PgOptions::default()
            };
            Ok(AsyncTask::new(OpenTask {
                open: Some(Box::new(move || {
                    let store = Arc::new(PgStore::connect(&url, pg).map_err(store_error)?);
                    let engine = Engine::new(
                        store.clone(),
                        store.clone(),
                        Arc::new(SystemClock::new()),
                        store,
                    );
                    Ok(engine.with_config(config))
                })),
            }))
        })
    }

    /// Releases the store (the SQLite file, the PostgreSQL connections) once running
    /// calls finish. Idempotent; later calls fail with `ENGINE_CLOSED`.
    #[napi]
    pub fn close(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// The order at its latest version.
    #[napi(ts_return_type = "Order")]
    pub fn order(&self, order_id: String) -> napi::Result<String> {
        self.read_text(|e| order_text(&e.order(&oid(&order_id)?)?))
    }

    /// The order's events, oldest first (its audit trail).
    #[napi(ts_return_type = "OrderEventRecord[]")]
    pub fn order_history(&self, order_id: String) -> napi::Result<String> {
        self.read(|e| {
            let records = e.order_history(&oid(&order_id)?)?;
            let mut rows = Vec::with_capacity(records.len());
            for record in &records {
                let mut row = to_json(record)?;
                if let Value::Object(map) = &mut row {
                    map.insert("actor".into(), Value::String(record.actor.to_string()));
                }
                rows.push(row);
            }
            Ok(Value::Array(rows))
        })
    }

    /// Up to `limit` (default 100) effects waiting for the host, oldest first, with
    /// `payload` parsed.
    #[napi(ts_return_type = "Effect[]")]
    pub fn pending_effects(&self, limit: Option<u32>) -> napi::Result<String> {
        self.read(|e| {
            let limit = limit.map_or(ordersmith::ports::DEFAULT_PAGE_SIZE, |l| l as usize);
            let records = e.pending_effects(limit)?;
            let mut rows = Vec::with_capacity(records.len());
            for r in &records {
                let payload: Value = serde_json::from_str(&r.payload_json).unwrap_or(Value::Null);
                rows.push(serde_json::json!({
                    "id": r.id,
                    "topic": r.topic,
                    "aggregate_id": r.aggregate_id,
                    "aggregate_version": r.aggregate_version,
                    "created_at": r.created_at,
                    "payload": payload,
                }));
            }
            Ok(Value::Array(rows))
        })
    }

    /// Marks an effect done; resolves `false` if it was not pending.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn acknowledge_effect(&self, id: String) -> AsyncTask<Job> {
        self.write(move |e| Ok(Value::Bool(e.acknowledge_effect(&id)?)))
    }
}
