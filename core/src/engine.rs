//! The engine: the one facade hosts use. It wires the order aggregate to the ports.
//!
//! Every call validates its input, decides against the latest stored state, and saves
//! the events, the new snapshot, the idempotency record and the outbox records in one
//! atomic [`ChangeSet`]. A call that loses a race (a concurrent save of the same order)
//! reloads and retries up to [`EngineConfig::max_attempts`] times, then returns
//! [`EngineError::Conflict`]. On any error nothing is saved.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ordersmith::engine::{CommandContext, Engine};
//! use ordersmith::ids::{ChannelId, VariantId};
//! use ordersmith::money::{Currency, Money};
//! use ordersmith::order::{HoldReason, NewLine, NewOrder, OrderStatus};
//!
//! let engine = Engine::in_memory();
//! let try_ = Currency::parse("TRY")?;
//! let mut new = NewOrder::new(
//!     ChannelId::parse("trendyol")?,
//!     Utc.with_ymd_and_hms(2026, 11, 20, 10, 30, 0).unwrap(),
//!     try_,
//!     vec![NewLine::new(VariantId::parse("TEA-500G")?, 3, Money::parse("89.90", try_)?)],
//! );
//! new.external_ref = Some("TY-10001".into());
//! let ctx = CommandContext::system();
//! let order = engine.place_order(new.clone(), &ctx)?;
//! // The same channel order delivered twice is one order.
//! assert_eq!(engine.place_order(new, &ctx)?.id, order.id);
//! engine.hold_order(&order.id, HoldReason::AddressCheck, None, &ctx)?;
//! let order = engine.release_hold(&order.id, &ctx)?;
//! let order = engine.confirm_order(&order.id, &ctx)?;
//! let order = engine.mark_paid(&order.id, &ctx)?;
//! assert_eq!(order.status, OrderStatus::Confirmed);
//! assert_eq!(engine.order_history(&order.id)?.len(), 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::ids::{LineId, OrderId};
use crate::money::Money;
use crate::order::{
    decide, place, Actor, CancelReason, HoldReason, LineEdit, LineEditInput, LineQuantity,
    NewOrder, Order, OrderCommand, OrderError, OrderEvent, OrderEventRecord,
};
use crate::ports::memory::{MemoryStore, SequentialIds, SystemClock};
use crate::ports::{
    ChangeSet, Clock, IdGenerator, IdempotencyRecord, OrderChange, OrderQuery, Outbox,
    OutboxRecord, Store, StoreError,
};

/// Longest idempotency key accepted, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// Why an engine call failed. Nothing was saved when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum EngineError {
    /// The order refused the command.
    #[error(transparent)]
    Order(#[from] OrderError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Concurrent saves kept winning the race.
    #[error("gave up after {attempts} attempts: the order kept changing concurrently")]
    Conflict {
        /// Attempts made.
        attempts: u32,
    },
    /// The idempotency key was used before with a different command.
    #[error("idempotency key {key:?} was already used for a different command")]
    IdempotencyMismatch {
        /// The key.
        key: String,
    },
    /// The channel reference was already placed with different content.
    #[error("{channel} order {external_ref} already exists as {order_id} with different content")]
    DuplicateExternalRef {
        /// The channel.
        channel: String,
        /// The channel's reference.
        external_ref: String,
        /// The existing order.
        order_id: OrderId,
    },
    /// An argument of the call itself was invalid.
    #[error("{field} is invalid: {reason}")]
    InvalidInput {
        /// Which argument.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl EngineError {
    /// Every code this enum can return itself (wrapped errors keep their own codes).
    pub const CODES: &'static [&'static str] = &[
        "ENGINE_CONFLICT",
        "ENGINE_IDEMPOTENCY_MISMATCH",
        "ENGINE_DUPLICATE_EXTERNAL_REF",
        "ENGINE_INVALID_INPUT",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Order(e) => e.code(),
            Self::Store(e) => e.code(),
            Self::Conflict { .. } => "ENGINE_CONFLICT",
            Self::IdempotencyMismatch { .. } => "ENGINE_IDEMPOTENCY_MISMATCH",
            Self::DuplicateExternalRef { .. } => "ENGINE_DUPLICATE_EXTERNAL_REF",
            Self::InvalidInput { .. } => "ENGINE_INVALID_INPUT",
        }
    }
}

/// Who is acting and, optionally, the idempotency key of the call.
///
/// A call repeated with the same key and the same command returns the first result and
/// changes nothing; the same key with a different command is
/// [`EngineError::IdempotencyMismatch`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandContext {
    /// Who causes the change (recorded in the audit trail).
    pub actor: Actor,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
}

impl CommandContext {
    /// The system acting, without a key.
    pub fn system() -> Self {
        Self::default()
    }

    /// `actor` acting, without a key.
    pub fn by(actor: Actor) -> Self {
        CommandContext {
            actor,
            idempotency_key: None,
        }
    }

    /// The same context with an idempotency key.
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// Engine tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Attempts per call when concurrent saves conflict (at least 1).
    pub max_attempts: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { max_attempts: 16 }
    }
}

/// The facade: orders in, events and effects out, through the ports.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    outbox: Arc<dyn Outbox>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    config: EngineConfig,
}

#[derive(Serialize)]
struct Fingerprint<'a> {
    order_id: &'a OrderId,
    command: &'a OrderCommand,
}

impl Engine {
    /// An engine over the given ports.
    pub fn new(
        store: Arc<dyn Store>,
        outbox: Arc<dyn Outbox>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Engine {
            store,
            outbox,
            clock,
            ids,
            config: EngineConfig::default(),
        }
    }

    /// An engine on a fresh [`MemoryStore`], the system clock and sequential ids.
    pub fn in_memory() -> Self {
        let store = Arc::new(MemoryStore::new());
        Engine::new(
            store.clone(),
            store,
            Arc::new(SystemClock::new()),
            Arc::new(SequentialIds::new()),
        )
    }

    /// The same engine with other tuning.
    pub fn with_config(mut self, config: EngineConfig) -> Self {
        self.config = EngineConfig {
            max_attempts: config.max_attempts.max(1),
        };
        self
    }

    /// Places a new order and returns it (status `pending`).
    ///
    /// With an `external_ref`, placing the same (channel, reference) again with the same
    /// content returns the first order; with different content it is
    /// [`EngineError::DuplicateExternalRef`].
    pub fn place_order(&self, new: NewOrder, ctx: &CommandContext) -> Result<Order, EngineError> {
        check_key(ctx)?;
        let placed = place(&new)?;
        let external_key = new
            .external_ref
            .as_ref()
            .map(|r| format!("external:{}:{}", new.channel, r));
        let keys: Vec<&String> = ctx
            .idempotency_key
            .iter()
            .chain(external_key.iter())
            .collect();
        // Only keyed calls need the canonical JSON of their command.
        let fingerprint = if keys.is_empty() {
            String::new()
        } else {
            fingerprint(&new)?
        };
        for _ in 0..self.config.max_attempts {
            for key in &keys {
                if let Some(record) = self.store.idempotency_record(key)? {
                    if record.fingerprint != fingerprint {
                        return Err(match (&external_key, &new.external_ref) {
                            (Some(ext), Some(r)) if ext == *key => {
                                EngineError::DuplicateExternalRef {
                                    channel: new.channel.to_string(),
                                    external_ref: r.clone(),
                                    order_id: record.order_id,
                                }
                            }
                            _ => EngineError::IdempotencyMismatch {
                                key: (*key).clone(),
                            },
                        });
                    }
                    return self.order_at(&record.order_id, record.order_version);
                }
            }
            let order_id = OrderId::parse(self.ids.next_id("order")).map_err(OrderError::from)?;
            let OrderEvent::Placed(data) = &placed else {
                return Err(EngineError::InvalidInput {
                    field: "order",
                    reason: "place did not produce a placed event",
                });
            };
            let snapshot = Order::from_placed(order_id.clone(), data);
            let mut changes = self.changes_for(snapshot.clone(), 0, vec![placed.clone()], ctx)?;
            changes.idempotency = keys
                .iter()
                .map(|k| IdempotencyRecord {
                    key: (*k).clone(),
                    fingerprint: fingerprint.clone(),
                    order_id: order_id.clone(),
                    order_version: snapshot.version,
                })
                .collect();
            match self.store.commit(changes) {
                Ok(()) => return Ok(snapshot),
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Conflict {
            attempts: self.config.max_attempts,
        })
    }

    /// Places many orders in one call (a marketplace export, a migration). Each order is
    /// placed on its own, so one bad order does not stop the rest; results come back in
    /// input order.
    pub fn place_orders(
        &self,
        orders: Vec<NewOrder>,
        ctx: &CommandContext,
    ) -> Vec<Result<Order, EngineError>> {
        orders
            .into_iter()
            .map(|o| self.place_order(o, ctx))
            .collect()
    }

    /// Runs any command on an existing order and returns the order after it.
    pub fn execute(
        &self,
        order_id: &OrderId,
        command: OrderCommand,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        check_key(ctx)?;
        if let OrderCommand::Place { order, .. } = command {
            return self.place_order(*order, ctx);
        }
        let fingerprint = match ctx.idempotency_key {
            Some(_) => fingerprint(&Fingerprint {
                order_id,
                command: &command,
            })?,
            None => String::new(),
        };
        for _ in 0..self.config.max_attempts {
            if let Some(key) = &ctx.idempotency_key {
                if let Some(record) = self.store.idempotency_record(key)? {
                    if record.fingerprint != fingerprint {
                        return Err(EngineError::IdempotencyMismatch { key: key.clone() });
                    }
                    return self.order_at(&record.order_id, record.order_version);
                }
            }
            let order = self.load(order_id)?;
            let events = decide(&order, &command)?;
            let expected = order.version;
            let mut snapshot = order;
            for e in &events {
                snapshot.apply(e);
            }
            let mut changes = if events.is_empty() {
                ChangeSet::default()
            } else {
                self.changes_for(snapshot.clone(), expected, events, ctx)?
            };
            if let Some(key) = &ctx.idempotency_key {
                changes.idempotency.push(IdempotencyRecord {
                    key: key.clone(),
                    fingerprint: fingerprint.clone(),
                    order_id: order_id.clone(),
                    order_version: snapshot.version,
                });
            }
            if changes.is_empty() {
                return Ok(snapshot);
            }
            match self.store.commit(changes) {
                Ok(()) => return Ok(snapshot),
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Conflict {
            attempts: self.config.max_attempts,
        })
    }

    /// Accepts a pending order.
    pub fn confirm_order(&self, id: &OrderId, ctx: &CommandContext) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Confirm, ctx)
    }

    /// Puts an order on hold with a reason.
    pub fn hold_order(
        &self,
        id: &OrderId,
        reason: HoldReason,
        note: Option<String>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Hold { reason, note }, ctx)
    }

    /// Releases a hold, back to the status before it.
    pub fn release_hold(&self, id: &OrderId, ctx: &CommandContext) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::ReleaseHold, ctx)
    }

    /// Cancels the whole order.
    pub fn cancel_order(
        &self,
        id: &OrderId,
        reason: CancelReason,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Cancel { reason }, ctx)
    }

    /// Cancels some units of some lines.
    pub fn cancel_lines(
        &self,
        id: &OrderId,
        lines: Vec<LineQuantity>,
        reason: CancelReason,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::CancelLines { lines, reason }, ctx)
    }

    /// Edits lines before they ship.
    pub fn edit_order(
        &self,
        id: &OrderId,
        edits: Vec<LineEdit>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::EditLines { edits }, ctx)
    }

    /// Records a payment.
    pub fn record_payment(
        &self,
        id: &OrderId,
        amount: Money,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordPayment { amount }, ctx)
    }

    /// Records payment of the whole balance due.
    pub fn mark_paid(&self, id: &OrderId, ctx: &CommandContext) -> Result<Order, EngineError> {
        let order = self.load(id)?;
        let amount = order.balance_due().map_err(OrderError::from)?;
        self.record_payment(id, amount, ctx)
    }

    /// Records a payment of `amount` in the order's own currency.
    pub fn record_payment_amount(
        &self,
        id: &OrderId,
        amount: Decimal,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let currency = self.load(id)?.currency;
        let amount = Money::new(amount, currency).map_err(OrderError::from)?;
        self.record_payment(id, amount, ctx)
    }

    /// Records a refund of `amount` in the order's own currency.
    pub fn record_refund_amount(
        &self,
        id: &OrderId,
        amount: Decimal,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let currency = self.load(id)?.currency;
        let amount = Money::new(amount, currency).map_err(OrderError::from)?;
        self.record_refund(id, amount, ctx)
    }

    /// Edits lines given in the flat input format (amounts in the order's currency).
    pub fn edit_order_input(
        &self,
        id: &OrderId,
        edits: Vec<LineEditInput>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let currency = self.load(id)?.currency;
        let edits = edits
            .into_iter()
            .map(|e| e.into_edit(currency))
            .collect::<Result<Vec<_>, _>>()?;
        self.edit_order(id, edits, ctx)
    }

    /// Records a refund.
    pub fn record_refund(
        &self,
        id: &OrderId,
        amount: Money,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordRefund { amount }, ctx)
    }

    /// Records shipped units.
    pub fn record_shipment(
        &self,
        id: &OrderId,
        lines: Vec<LineQuantity>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordShipment { lines }, ctx)
    }

    /// Records delivered units.
    pub fn record_delivery(
        &self,
        id: &OrderId,
        lines: Vec<LineQuantity>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordDelivery { lines }, ctx)
    }

    /// Records returned units.
    pub fn record_return(
        &self,
        id: &OrderId,
        lines: Vec<LineQuantity>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordReturn { lines }, ctx)
    }

    /// Closes a fully shipped order.
    pub fn complete_order(&self, id: &OrderId, ctx: &CommandContext) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Complete, ctx)
    }

    /// Adds and removes tags.
    pub fn tag_order(
        &self,
        id: &OrderId,
        add: Vec<String>,
        remove: Vec<String>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Tag { add, remove }, ctx)
    }

    /// Adds a staff note.
    pub fn add_note(
        &self,
        id: &OrderId,
        note: String,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::AddNote { note }, ctx)
    }

    /// The order at its latest version.
    pub fn order(&self, id: &OrderId) -> Result<Order, EngineError> {
        self.load(id)
    }

    /// The order's events, oldest first: its audit trail.
    pub fn order_history(&self, id: &OrderId) -> Result<Vec<OrderEventRecord>, EngineError> {
        let events = self.store.order_events(id)?;
        if events.is_empty() {
            return Err(OrderError::NotFound {
                order_id: id.clone(),
            }
            .into());
        }
        Ok(events)
    }

    /// Orders by status, channel and placed-time range, oldest first.
    pub fn list_orders(&self, query: &OrderQuery) -> Result<Vec<Order>, EngineError> {
        if let (Some(from), Some(to)) = (query.placed_from, query.placed_to) {
            if from > to {
                return Err(EngineError::InvalidInput {
                    field: "query",
                    reason: "placed_from is after placed_to",
                });
            }
        }
        Ok(self.store.query_orders(query)?)
    }

    /// Up to `limit` effects waiting for the host, oldest first.
    pub fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxRecord>, EngineError> {
        Ok(self.outbox.pending(limit)?)
    }

    /// Marks an effect done; `false` if it was not pending.
    pub fn acknowledge_effect(&self, id: &str) -> Result<bool, EngineError> {
        Ok(self.outbox.acknowledge(id)?)
    }

    fn load(&self, id: &OrderId) -> Result<Order, EngineError> {
        self.store.load_order(id)?.ok_or_else(|| {
            EngineError::from(OrderError::NotFound {
                order_id: id.clone(),
            })
        })
    }

    /// The order as it was right after `version`: the first result of a repeated call.
    fn order_at(&self, id: &OrderId, version: u64) -> Result<Order, EngineError> {
        let events = self.store.order_events(id)?;
        let upto = usize::try_from(version)
            .unwrap_or(usize::MAX)
            .min(events.len());
        Order::replay(events.iter().take(upto)).ok_or_else(|| {
            StoreError::Corrupt {
                reason: format!("history of order {id} does not start with placed"),
            }
            .into()
        })
    }

    fn changes_for(
        &self,
        snapshot: Order,
        expected_version: u64,
        events: Vec<OrderEvent>,
        ctx: &CommandContext,
    ) -> Result<ChangeSet, EngineError> {
        let now = self.clock.now();
        let mut records = Vec::with_capacity(events.len());
        let mut outbox = Vec::with_capacity(events.len());
        for (version, event) in (expected_version + 1..).zip(events) {
            let record = OrderEventRecord {
                order_id: snapshot.id.clone(),
                version,
                recorded_at: now,
                actor: ctx.actor.clone(),
                idempotency_key: ctx.idempotency_key.clone(),
                event,
            };
            outbox.push(OutboxRecord {
                id: self.ids.next_id("effect"),
                topic: record.event.topic().to_string(),
                aggregate_id: snapshot.id.to_string(),
                aggregate_version: version,
                created_at: now,
                payload_json: serde_json::to_string(&record).map_err(|_| {
                    EngineError::InvalidInput {
                        field: "event",
                        reason: "could not be serialised",
                    }
                })?,
            });
            records.push(record);
        }
        Ok(ChangeSet {
            orders: vec![OrderChange {
                expected_version,
                events: records,
                snapshot,
            }],
            idempotency: Vec::new(),
            outbox,
        })
    }
}

fn check_key(ctx: &CommandContext) -> Result<(), EngineError> {
    if let Some(key) = &ctx.idempotency_key {
        if key.trim().is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(EngineError::InvalidInput {
                field: "idempotency_key",
                reason: "must be 1 to 200 bytes",
            });
        }
    }
    Ok(())
}

/// Canonical JSON of a command: what an idempotency key is bound to.
fn fingerprint(command: &impl Serialize) -> Result<String, EngineError> {
    serde_json::to_string(command).map_err(|_| EngineError::InvalidInput {
        field: "command",
        reason: "could not be serialised",
    })
}

/// Convenience for building [`LineQuantity`] lists: `lines(&[("L1", 2)])`.
pub fn lines(items: &[(&str, u32)]) -> Result<Vec<LineQuantity>, EngineError> {
    items
        .iter()
        .map(|(id, q)| {
            Ok(LineQuantity::new(
                LineId::parse(*id).map_err(OrderError::from)?,
                *q,
            ))
        })
        .collect()
}
