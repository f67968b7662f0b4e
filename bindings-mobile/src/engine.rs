//! The engine object: opening a store, order commands, and draining effects.

use std::sync::Arc;

use std::time::SystemTime;

use ordersmith::engine::{Engine as CoreEngine, EngineError};
use ordersmith::ids::{ChannelId, OrderId};
use ordersmith::order::OrderInput;
use ordersmith::ports::memory::SystemClock;
use ordersmith::ports::{Clock, OrderCursor, OrderQuery, StoreError};
use ordersmith_sqlite::SqliteStore;

use crate::convert::{context, core_time, CallContext};
use crate::errors::OrdersmithError;
use crate::money::ExactDecimal;
use crate::options::{engine_config, EngineOptions};
use crate::order::{CancelReason, HoldReason, NewOrder, Order, OrderStatus};
use crate::ports::{Effect, EffectSink, HostClock, HostTime};

/// Most effects one `drain_effects` call hands to the sink.
const MAX_DRAIN: usize = 1_000;

/// The engine over one SQLite file: orders, stock and fulfilment, offline.
#[derive(uniffi::Object)]
pub struct Engine {
    inner: CoreEngine,
    /// Set when the host supplied its clock: read before every call.
    host_time: Option<Arc<HostTime>>,
}

impl Engine {
    fn build(
        store: SqliteStore,
        clock: Option<Arc<dyn HostClock>>,
        options: Option<EngineOptions>,
    ) -> Result<Self, OrdersmithError> {
        let invoicing = options
            .as_ref()
            .and_then(|o| o.invoicing_json.as_deref())
            .map(crate::invoice::invoice_config)
            .transpose()?;
        let config = engine_config(options)?;
        let store = Arc::new(store);
        let host_time = clock.map(HostTime::new).transpose()?.map(Arc::new);
        let engine_clock: Arc<dyn Clock> = match &host_time {
            Some(t) => t.clone(),
            None => Arc::new(SystemClock::new()),
        };
        let mut inner =
            CoreEngine::new(store.clone(), store.clone(), engine_clock, store).with_config(config);
        if let Some(invoicing) = invoicing {
            inner = inner.with_invoicing(invoicing)?;
        }
        Ok(Engine { inner, host_time })
    }

    /// A new handle on the same store and clock whose core engine is `change`d (rules
    /// made live, say).
    pub(crate) fn with_core(&self, change: impl FnOnce(CoreEngine) -> CoreEngine) -> Engine {
        Engine {
            inner: change(self.inner.clone()),
            host_time: self.host_time.clone(),
        }
    }

    /// [`Engine::with_core`] for a change the core may refuse (invoicing checked, say).
    pub(crate) fn try_with_core(
        &self,
        change: impl FnOnce(CoreEngine) -> Result<CoreEngine, EngineError>,
    ) -> Result<Engine, OrdersmithError> {
        Ok(Engine {
            inner: change(self.inner.clone())?,
            host_time: self.host_time.clone(),
        })
    }

    /// Runs one core call: reads the host clock first (outside any engine lock), then
    /// maps the core's error in the one place errors are mapped.
    pub(crate) fn call<T>(
        &self,
        f: impl FnOnce(&CoreEngine) -> Result<T, EngineError>,
    ) -> Result<T, OrdersmithError> {
        if let Some(t) = &self.host_time {
            t.refresh()?;
        }
        Ok(f(&self.inner)?)
    }

    /// [`Engine::call`] for a dump's export or import, whose errors are the core's
    /// `DumpError`.
    pub(crate) fn dump_call<T>(
        &self,
        f: impl FnOnce(&CoreEngine) -> Result<T, ordersmith::ports::dump::DumpError>,
    ) -> Result<T, OrdersmithError> {
        if let Some(t) = &self.host_time {
            t.refresh()?;
        }
        Ok(f(&self.inner)?)
    }
}

fn opened(e: ordersmith_sqlite::OpenError) -> OrdersmithError {
    EngineError::Store(StoreError::from(e)).into()
}

/// Which orders a listing returns; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct OrderFilter {
    /// Only orders in this status.
    #[uniffi(default = None)]
    pub status: Option<OrderStatus>,
    /// Only orders from this sales channel.
    #[uniffi(default = None)]
    pub channel: Option<String>,
    /// Placed at or after this time.
    #[uniffi(default = None)]
    pub placed_from: Option<SystemTime>,
    /// Placed strictly before this time.
    #[uniffi(default = None)]
    pub placed_to: Option<SystemTime>,
}

/// One page of a listing and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderPage {
    /// The orders, oldest first (by placed time, then id).
    pub orders: Vec<Order>,
    /// Pass it as `after` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

#[uniffi::export]
impl Engine {
    /// Opens (or creates) the SQLite database at `path`. With a `clock`, the engine
    /// takes its time from the host; without one, from the system clock.
    #[uniffi::constructor(default(clock = None, options = None))]
    pub fn open(
        path: String,
        clock: Option<Arc<dyn HostClock>>,
        options: Option<EngineOptions>,
    ) -> Result<Arc<Self>, OrdersmithError> {
        let store = SqliteStore::open(&path).map_err(opened)?;
        Ok(Arc::new(Engine::build(store, clock, options)?))
    }

    /// An engine on a private in-memory SQLite database (tests, demos).
    #[uniffi::constructor(default(clock = None, options = None))]
    pub fn in_memory(
        clock: Option<Arc<dyn HostClock>>,
        options: Option<EngineOptions>,
    ) -> Result<Arc<Self>, OrdersmithError> {
        let store = SqliteStore::in_memory().map_err(opened)?;
        Ok(Arc::new(Engine::build(store, clock, options)?))
    }

    /// Places a new order (status pending).
    #[uniffi::method(default(ctx = None))]
    pub fn place_order(
        &self,
        order: NewOrder,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let new = order.try_into()?;
        let ctx = context(ctx)?;
        self.call(|e| e.place_order(new, &ctx))?.try_into()
    }

    /// Places an order given in the documented JSON input format (customer,
    /// addresses, discounts, taxes, shipping lines).
    #[uniffi::method(default(ctx = None))]
    pub fn place_order_json(
        &self,
        json: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let reader = &mut serde_json::Deserializer::from_str(&json);
        let input: OrderInput = serde_path_to_error::deserialize(reader).map_err(|e| {
            let path = match e.path().to_string() {
                p if p == "." || p.is_empty() => "json".to_string(),
                p => p,
            };
            OrdersmithError::invalid_json(path, e.into_inner().to_string())
        })?;
        let new = input.into_new_order()?;
        let ctx = context(ctx)?;
        self.call(|e| e.place_order(new, &ctx))?.try_into()
    }

    /// Accepts an order and reserves its stock.
    #[uniffi::method(default(ctx = None))]
    pub fn confirm_order(
        &self,
        order_id: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.confirm_order(&id, &ctx))?.try_into()
    }

    /// Records payment of the balance due.
    #[uniffi::method(default(ctx = None))]
    pub fn mark_paid(
        &self,
        order_id: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.mark_paid(&id, &ctx))?.try_into()
    }

    /// Cancels an order and releases its stock.
    #[uniffi::method(default(ctx = None))]
    pub fn cancel_order(
        &self,
        order_id: String,
        reason: CancelReason,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.cancel_order(&id, reason.into(), &ctx))?
            .try_into()
    }

    /// Puts an order on hold (fraud review, address check, ...), with a note.
    #[uniffi::method(default(note = None, ctx = None))]
    pub fn hold_order(
        &self,
        order_id: String,
        reason: HoldReason,
        note: Option<String>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.hold_order(&id, reason.into(), note, &ctx))?
            .try_into()
    }

    /// Releases a hold, back to the status before it.
    #[uniffi::method(default(ctx = None))]
    pub fn release_hold(
        &self,
        order_id: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.release_hold(&id, &ctx))?.try_into()
    }

    /// Records a payment of `amount` in the order's currency.
    #[uniffi::method(default(ctx = None))]
    pub fn record_payment(
        &self,
        order_id: String,
        amount: ExactDecimal,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let amount = amount.parse()?;
        let ctx = context(ctx)?;
        self.call(|e| e.record_payment_amount(&id, amount, &ctx))?
            .try_into()
    }

    /// Records a refund of `amount` in the order's currency (never more than paid).
    #[uniffi::method(default(ctx = None))]
    pub fn record_refund(
        &self,
        order_id: String,
        amount: ExactDecimal,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let amount = amount.parse()?;
        let ctx = context(ctx)?;
        self.call(|e| e.record_refund_amount(&id, amount, &ctx))?
            .try_into()
    }

    /// Closes a fully shipped order.
    #[uniffi::method(default(ctx = None))]
    pub fn complete_order(
        &self,
        order_id: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.complete_order(&id, &ctx))?.try_into()
    }

    /// Adds a staff note.
    #[uniffi::method(default(ctx = None))]
    pub fn add_note(
        &self,
        order_id: String,
        note: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.add_note(&id, note, &ctx))?.try_into()
    }

    /// The order at its latest version.
    pub fn order(&self, order_id: String) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        self.call(|e| e.order(&id))?.try_into()
    }

    /// Up to `limit` orders (1 to 10,000), oldest first, only in `status` when given.
    #[uniffi::method(default(status = None))]
    pub fn list_orders(
        &self,
        limit: u32,
        status: Option<OrderStatus>,
    ) -> Result<Vec<Order>, OrdersmithError> {
        let query = OrderQuery {
            status: status.map(Into::into),
            limit: Some(limit as usize),
            ..OrderQuery::default()
        };
        let page = self.call(|e| e.list_orders_page(&query))?;
        page.orders.into_iter().map(TryInto::try_into).collect()
    }

    /// One page of the orders `filter` selects (all without one), oldest first: `limit`
    /// orders (1 to 10,000) after `after`, a previous page's `next_cursor`. Pages stay
    /// stable while orders are added, so a phone can walk every order of a day.
    #[uniffi::method(default(filter = None, after = None))]
    pub fn list_orders_page(
        &self,
        limit: u32,
        filter: Option<OrderFilter>,
        after: Option<String>,
    ) -> Result<OrderPage, OrdersmithError> {
        let filter = filter.unwrap_or_default();
        let after = after
            .map(|token| {
                OrderCursor::parse(&token).ok_or_else(|| {
                    OrdersmithError::invalid(
                        "after",
                        "expected a next_cursor from list_orders_page",
                    )
                })
            })
            .transpose()?;
        let query = OrderQuery {
            status: filter.status.map(Into::into),
            channel: filter.channel.map(ChannelId::parse).transpose()?,
            placed_from: filter.placed_from.map(core_time).transpose()?,
            placed_to: filter.placed_to.map(core_time).transpose()?,
            after,
            limit: Some(limit as usize),
            ..OrderQuery::default()
        };
        let page = self.call(|e| e.list_orders_page(&query))?;
        Ok(OrderPage {
            orders: page
                .orders
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor.map(|c| c.token()),
        })
    }

    /// Up to `limit` effects waiting for the host (1 to 10,000), oldest first.
    pub fn pending_effects(&self, limit: u32) -> Result<Vec<Effect>, OrdersmithError> {
        let list = self.call(|e| e.pending_effects(limit as usize))?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Marks an effect done; `false` if it was not pending.
    pub fn acknowledge_effect(&self, id: String) -> Result<bool, OrdersmithError> {
        self.call(|e| e.acknowledge_effect(&id))
    }

    /// Hands pending effects to `sink`, oldest first, acknowledging each one it
    /// handled; stops at the first it leaves pending. Returns how many were
    /// acknowledged. The sink is called after the engine call returned, never while
    /// the engine holds a lock, so it may call the engine itself.
    pub fn drain_effects(&self, sink: Arc<dyn EffectSink>) -> Result<u32, OrdersmithError> {
        let pending = self.call(|e| e.pending_effects(MAX_DRAIN))?;
        let mut done = 0u32;
        for record in pending {
            let id = record.id.clone();
            if !sink.deliver(record.into())? {
                break;
            }
            if self.call(|e| e.acknowledge_effect(&id))? {
                done += 1;
            }
        }
        Ok(done)
    }
}
