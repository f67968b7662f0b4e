//! The engine: the one facade hosts use. It wires the order aggregate to the ports.
//!
//! Every call validates its input, decides against the latest stored state, and saves
//! the events, the new snapshot, the idempotency record and the outbox records in one
//! atomic [`ChangeSet`]. A call that loses a race (a concurrent save of the same order)
//! reloads and retries up to [`EngineConfig::max_attempts`] times, then returns
//! [`EngineError::Conflict`]. On any error nothing of that call is saved. Bulk calls
//! save one change set per batch instead, each all or nothing: `place_orders` and
//! `execute_many` answer each item (a refused one is its error, the rest are saved),
//! and a dump refused part way may leave the batches read before its bad line saved.
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

mod allocation;
// Moving a shop between stores (export and import of a dump).
mod dump;
// Batched writes: many orders or commands per commit (issue 9).
mod batch;
mod fulfilment;
// Bulk import from JSON lines (issue 9, goal 6).
mod import;
// Invoices and credit notes (issue 11).
mod invoice;
mod kpi;
mod listing;
mod notifications;
mod orders;
mod reconcile;
mod returns;
mod rules;
mod stock;
// The stock log partitioned by variant, catch-up and undo (ADR 0012).
mod stock_log;
mod timeline;

pub use batch::WRITE_BATCH;
pub use fulfilment::PickListLine;
pub use import::{JsonLineResult, JsonLinesImport};
pub use reconcile::ExpirySweep;
pub use returns::{ReturnTimeline, ReturnView, CREDIT_NAMESPACE};
pub use rules::{RuleFacts, RulesConfig, MAX_CHAIN_DEPTH, MAX_WEIGHED_SKUS};
pub use timeline::{DueFulfilment, ParcelTimeline, Timeline, TimelineEvent, TimelineStep};

pub use listing::{check_page_size, OrderIter, OrderPage};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fulfilment::{CarrierStatusTable, ShippingCalendar, ShortPickPolicy, SsccConfig};
use crate::ids::{ChannelId, LineId, OrderId, ReservationId, VariantId};
use crate::notify::NotificationChannel;
use crate::order::{
    decide_into, place_taking, placed_owned, Actor, LineQuantity, NewLine, NewOrder, Order,
    OrderCommand, OrderError, OrderEvent, OrderEventRecord, PlacedOrder,
};
use crate::ports::memory::{MemoryStore, SequentialIds, SystemClock};
use crate::ports::{
    ChangeSet, Clock, CommitTicket, IdGenerator, IdempotencyRecord, NewEvents, OrderChange,
    OrderQuery, Outbox, OutboxRecord, OutboxWrite, StockAppend, Store, StoreError,
};
use crate::sourcing::SourcingError;
use crate::stock::{StockCommand, StockError, StockLedger, StockLogEntry, StockOutcome};

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
    /// The stock ledger refused a command.
    #[error(transparent)]
    Stock(#[from] StockError),
    /// Sourcing refused its input.
    #[error(transparent)]
    Sourcing(#[from] SourcingError),
    /// A refund could not be worked out.
    #[error(transparent)]
    Returns(#[from] crate::returns::ReturnsError),
    /// A document could not be issued or rendered (issue 11).
    #[error(transparent)]
    Invoice(#[from] crate::invoice::InvoiceError),
    /// KPIs could not be computed (see [`crate::kpi::KpiError`]).
    #[error(transparent)]
    Kpi(#[from] crate::kpi::KpiError),
    /// A rule set was refused.
    #[error(transparent)]
    Rules(#[from] crate::rules::RulesError),
    /// A raw stock command named a reservation an order owns (or claimed an order for
    /// a new one). Such reservations change only through their order, so the order's
    /// allocations and the ledger never disagree.
    #[error("reservation {reservation} belongs to order {order_id}: change it through the order (cancel, edit, ship), not the stock API")]
    ReservationOwnedByOrder {
        /// The reservation.
        reservation: ReservationId,
        /// The order that owns it.
        order_id: OrderId,
    },
    /// The host closed this engine (e.g. Python's `Engine.close()`, to release a
    /// database file) and then used it. Core engines never close themselves; the code
    /// lives here so every binding reports it alike.
    #[error("the engine is closed: open a new one")]
    Closed,
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
        "ENGINE_RESERVATION_OWNED_BY_ORDER",
        "ENGINE_CLOSED",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Order(e) => e.code(),
            Self::Store(e) => e.code(),
            Self::Stock(e) => e.code(),
            Self::Sourcing(e) => e.code(),
            Self::Returns(e) => e.code(),
            Self::Invoice(e) => e.code(),
            Self::Kpi(e) => e.code(),
            Self::Rules(e) => e.code(),
            Self::Conflict { .. } => "ENGINE_CONFLICT",
            Self::IdempotencyMismatch { .. } => "ENGINE_IDEMPOTENCY_MISMATCH",
            Self::DuplicateExternalRef { .. } => "ENGINE_DUPLICATE_EXTERNAL_REF",
            Self::InvalidInput { .. } => "ENGINE_INVALID_INPUT",
            Self::ReservationOwnedByOrder { .. } => "ENGINE_RESERVATION_OWNED_BY_ORDER",
            Self::Closed => "ENGINE_CLOSED",
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

/// What to do when an order's lines cannot all be reserved on confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortagePolicy {
    /// Refuse the confirmation with `STOCK_INSUFFICIENT`; nothing changes.
    #[default]
    Fail,
    /// Confirm, reserve what can be reserved, and put the order on hold with reason
    /// `insufficient_stock`; releasing the hold tries again.
    Hold,
}

/// How the engine sources stock for orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum SourcingConfig {
    /// Locations by priority.
    Priority,
    /// As few locations as possible.
    FewestShipments,
    /// The shipping address's region first (falls back to priority without one).
    NearestRegion,
}

/// Engine tuning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Attempts per call when concurrent saves conflict (at least 1).
    pub max_attempts: u32,
    /// Reserve stock for tracked variants when an order is confirmed. Variants the
    /// ledger does not know (never registered) are not stock-tracked and never reserved.
    pub reserve_on_confirm: bool,
    /// How to choose locations.
    pub sourcing: SourcingConfig,
    /// Whether one line may ship from several locations.
    pub allow_split: bool,
    /// What to do when stock is short.
    pub on_shortage: ShortagePolicy,
    /// How long an unpaid order's reservations hold before an expiry sweep
    /// ([`Engine::sweep_expired_reservations`]) releases them; `None` (the default)
    /// holds until the order ships or is cancelled. Shops taking bank transfers or
    /// cash on delivery set it.
    pub reservation_ttl: Option<TimeDelta>,
    /// Per-channel time-to-live, overriding `reservation_ttl` (`None` here: that
    /// channel's reservations never expire). An order's own
    /// `reservation_ttl_minutes` overrides both.
    pub reservation_ttl_by_channel: BTreeMap<ChannelId, Option<TimeDelta>>,
    /// What an expiry sweep does to an order whose reservations lapsed.
    pub on_reservation_expiry: ExpiryPolicy,
    /// Whether paying an order in full stops its reservations' clock (their expiry is
    /// cleared). On by default: a paid order is never unreserved by a timer.
    pub payment_stops_reservation_clock: bool,
    /// What a short pick does with the units the picker could not find.
    pub short_pick: ShortPickPolicy,
    /// How parcels get their GS1 SSCC (extension digit, company prefix, serial range);
    /// `None`: parcels have none. Serials come from the store's id sequence (kind
    /// `"sscc"`), so they never repeat across restarts and processes.
    pub sscc: Option<SsccConfig>,
    /// What carriers' raw status codes mean; ships with UPS and USPS, extend or
    /// override per carrier.
    pub carrier_statuses: CarrierStatusTable,
    /// Customer notifications: which channels, and the links they carry; `None`: no
    /// notification is asked for.
    pub notifications: Option<NotificationConfig>,
    /// The shop's shipping calendar (time zone, cut-off, handling days, closed days):
    /// ship-by deadlines, delivery estimates and local times on timelines.
    pub shipping_calendar: Option<ShippingCalendar>,
    /// Working days in transit (fewest, most) for delivery estimates.
    pub transit_days: (u32, u32),
    /// Automation rules: the live and shadow sets and what they need to know.
    pub rules: RulesConfig,
    /// The shop's return policy (window, non-returnable items, who pays return
    /// shipping, restocking fee, opened goods, exchanges), overridable per variant.
    pub returns: crate::returns::ReturnPolicy,
}

/// Which customer notifications the engine asks the host to send, and the links in
/// them. Every customer-visible stage (received, confirmed, on hold needing action,
/// shipped, out for delivery, delivered, delivery failed, cancelled, refunded) yields
/// one `notification.requested` outbox record per channel the customer can be reached
/// on, once per dedupe key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationConfig {
    /// Channels to use (a customer without an e-mail or phone is skipped on that one).
    #[serde(default)]
    pub channels: Vec<NotificationChannel>,
    /// Tracking link, with `{tracking_number}` and `{carrier}` filled in; without one
    /// the tracking number itself is the link text.
    #[serde(default)]
    pub tracking_url: Option<String>,
    /// Order page link, with `{order_ref}`.
    #[serde(default)]
    pub order_url: Option<String>,
    /// Where a customer acts on a hold (pay, fix the address), with `{order_ref}`;
    /// without one, holds needing action are not notified.
    #[serde(default)]
    pub action_url: Option<String>,
}

/// What an expiry sweep does to an order whose reservations lapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryPolicy {
    /// Put it on hold with reason `reservation_expired`; paying or releasing the hold
    /// re-reserves if stock allows.
    #[default]
    Hold,
    /// Cancel it with reason `reservation_expired` (an order with shipped units is held
    /// instead: it cannot be cancelled as a whole).
    Cancel,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_attempts: 16,
            reserve_on_confirm: true,
            sourcing: SourcingConfig::Priority,
            allow_split: true,
            on_shortage: ShortagePolicy::Fail,
            reservation_ttl: None,
            reservation_ttl_by_channel: BTreeMap::new(),
            on_reservation_expiry: ExpiryPolicy::Hold,
            payment_stops_reservation_clock: true,
            short_pick: ShortPickPolicy::Resource,
            sscc: None,
            carrier_statuses: CarrierStatusTable::shipped(),
            notifications: None,
            shipping_calendar: None,
            transit_days: (1, 3),
            rules: RulesConfig::default(),
            returns: crate::returns::ReturnPolicy::default(),
        }
    }
}

impl EngineConfig {
    /// Checks what the types alone cannot: a transit range whose fewest days exceed its
    /// most would give delivery estimates that end before they begin, and a reservation
    /// time-to-live must be longer than zero and at most
    /// [`crate::order::limits::MAX_RESERVATION_TTL_MINUTES`] (30 days), the limit an
    /// order's own time-to-live has. Bindings call it on the options a host passes, so a
    /// bad option is `ENGINE_INVALID_INPUT` at open rather than a wrong answer later.
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use ordersmith::engine::EngineConfig;
    ///
    /// assert!(EngineConfig::default().validate().is_ok());
    /// let reversed = EngineConfig { transit_days: (5, 2), ..EngineConfig::default() };
    /// assert_eq!(reversed.validate().unwrap_err().code(), "ENGINE_INVALID_INPUT");
    /// let forever = EngineConfig { reservation_ttl: Some(TimeDelta::days(31)), ..EngineConfig::default() };
    /// assert_eq!(forever.validate().unwrap_err().code(), "ENGINE_INVALID_INPUT");
    /// ```
    pub fn validate(&self) -> Result<(), EngineError> {
        let longest =
            TimeDelta::minutes(i64::from(crate::order::limits::MAX_RESERVATION_TTL_MINUTES));
        let mut ttls = self
            .reservation_ttl
            .iter()
            .chain(self.reservation_ttl_by_channel.values().flatten());
        if ttls.any(|ttl| *ttl <= TimeDelta::zero() || *ttl > longest) {
            return Err(EngineError::InvalidInput {
                field: "reservation_ttl",
                reason: "must be longer than zero and at most 30 days",
            });
        }
        let (fewest, most) = self.transit_days;
        if fewest > most {
            return Err(EngineError::InvalidInput {
                field: "transit_days",
                reason: "the fewest transit days exceed the most",
            });
        }
        Ok(())
    }
}

/// The facade: orders and stock in, events and effects out, through the ports.
///
/// Writes go through one writer per engine (a mutex, like a single-threaded state
/// machine): the engine catches its ledger up with the store's stock log, decides,
/// applies, and commits one [`ChangeSet`]. Clones share the writer.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    outbox: Arc<dyn Outbox>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    config: EngineConfig,
    writer: Arc<Mutex<stock_log::StockState>>,
    /// How documents are issued (issue 11); `None` until `with_invoicing`.
    invoicing: Option<Arc<crate::invoice::InvoiceConfig>>,
}

/// The state a write works on: the ledger (caught up when the write first touches it,
/// see [`Tx::ledger`]), the time, and what it has done.
pub(crate) struct Tx<'a> {
    stock: &'a mut stock_log::StockState,
    store: &'a dyn Store,
    read: Read,
    pub(crate) now: DateTime<Utc>,
    /// The engine's id source, for serials assigned inside the write (SSCCs).
    pub(crate) ids: &'a dyn IdGenerator,
    seq_before: u64,
    entries: Vec<StockLogEntry>,
    /// The write's stock events but its movements, each with its place among them all.
    events: crate::stock::Unmoved,
    /// The entries' places, on top of the partition heads the write started from.
    places: stock_log::WritePlaces,
    /// Whether the write looks its idempotency keys up before deciding (else the
    /// commit finds a taken one: [`Store::defers_key_lookups`]).
    look_up_keys: bool,
    /// Whether it took a key it did not look up: if the write then fails, or the
    /// commit finds the key taken, it is decided again with the lookup (a repeat of a
    /// keyed command gets its first answer, which deciding it again may not give).
    skipped_keys: bool,
}

/// Where a write stands with the store's stock log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// The ledger holds everything the write may decide on: read before the write, or
    /// ahead of the store with this engine's writes in flight (group commit).
    Done,
    /// Not read yet: the last read found nothing new, so the write reads only if and
    /// when it first touches the ledger (most order writes never do: a payment, a
    /// note, a placement without a confirmation). A store whose log is a round trip
    /// away saves that round trip for them.
    Deferred,
    /// The deferred read found entries the ledger did not have: what the write did
    /// before it touched the ledger (an order it loaded, say) may be older than the
    /// ledger now is, so the attempt is abandoned and run again on a ledger read first.
    Restart,
    /// Not read yet, and not read for decisions the write's own entries check
    /// ([`Tx::skip_read`], [`Store::checks_stock_at_commit`]): a stock command run
    /// through the write appends to the partition it decided on, so its commit is
    /// refused if that partition moved. Any other look at the ledger reads first, as
    /// from [`Read::Deferred`]. A commit refused as stale, a stock command that fails
    /// or a body that fails runs the write again on a read.
    Unread,
}

/// What [`Tx::ledger`] fails with once a deferred read has found news: the attempt ends
/// and is run again ([`Read::Restart`]), whatever the body makes of this error.
const RESTART: EngineError = EngineError::Conflict { attempts: 0 };

impl Tx<'_> {
    /// The write's ledger, caught up with the store's log. A write whose read was
    /// deferred reads here, the first time it asks; if that read brings anything new,
    /// the attempt restarts ([`Read::Restart`]) so the write never decides on an order
    /// read before stock that is newer than it. Nothing else reaches the ledger inside
    /// a write, so a write that never asks never waits for the read. (A write that
    /// skips its read decides what its entries check on [`Tx::ledger_checked`].)
    pub(crate) fn ledger(&mut self) -> Result<&mut StockLedger, EngineError> {
        match self.read {
            Read::Done => {}
            Read::Deferred | Read::Unread => {
                if self.stock.catch_up(self.store)? {
                    self.read = Read::Restart;
                    return Err(RESTART);
                }
                // Nothing new: the heads the write started from (its `seq_before` and
                // places) are still the log's.
                self.read = Read::Done;
            }
            Read::Restart => return Err(RESTART),
        }
        Ok(&mut self.stock.ledger)
    }

    /// The ledger for a decision the write's own entries check, unread while the write
    /// skips its read ([`Tx::skip_read`]): the stock commands the write runs (each
    /// appends to the partition it decided on: its commit is refused if that partition
    /// moved, and one that fails runs the write again on a read), and a caller that
    /// checks its decision is wholly made of them or else asks [`Tx::ledger`] (a
    /// confirmation whose every line is reserved in full).
    pub(crate) fn ledger_checked(&mut self) -> Result<&mut StockLedger, EngineError> {
        if self.read == Read::Unread {
            return Ok(&mut self.stock.ledger);
        }
        self.ledger()
    }

    /// Whether the write has not read the stock log (its decisions so far are checked
    /// by its entries).
    pub(crate) fn unread(&self) -> bool {
        self.read == Read::Unread
    }

    /// Lets a write skip its read of the stock log: when its read was deferred, the
    /// store lets the commit find stale stock ([`Store::checks_stock_at_commit`]) and
    /// the engine has not skipped too many reads in a row, decisions its own entries
    /// check are made unread ([`Tx::ledger_checked`]) and any other look at the ledger
    /// reads first ([`Tx::ledger`]). The commit refuses the write if any head it
    /// appends to moved since the engine's last read; the write is then run again on a
    /// read, as it is when a stock command or the body fails.
    pub(crate) fn skip_read(&mut self) {
        if self.read == Read::Deferred
            && self.stock.may_skip_read()
            && self.store.checks_stock_at_commit()
        {
            self.read = Read::Unread;
        }
    }

    /// The order `id` for a write that is about to change its stock: loaded together
    /// with the deferred read of the stock log when the store reads both as of one
    /// moment ([`Store::loads_order_reading_stock`]), which saves the read its own
    /// round trip and, as the two agree, needs no restart whatever the read finds;
    /// otherwise loaded alone (the read then comes when the ledger is asked for).
    pub(crate) fn load_order_for_stock(
        &mut self,
        engine: &Engine,
        id: &OrderId,
    ) -> Result<Order, EngineError> {
        if self.read != Read::Deferred
            || !self.entries.is_empty()
            || !self.store.loads_order_reading_stock()
        {
            return engine.load(id);
        }
        let store = self.store;
        let mut loaded = None;
        self.stock.catch_up_with(|cursor, sink| {
            let (order, watermark) = store.load_order_reading_stock(id, cursor, sink)?;
            loaded = Some(order);
            Ok(watermark)
        })?;
        // The write starts from the heads as read (it has logged nothing yet).
        self.seq_before = self.stock.heads.applied;
        self.places = stock_log::WritePlaces::new(&self.stock.heads);
        self.read = Read::Done;
        found(loaded.flatten(), id)
    }

    /// Executes a stock command on the ledger and records it for the log.
    pub(crate) fn stock(&mut self, command: StockCommand) -> Result<StockOutcome, EngineError> {
        let outcome = self.execute_logged(command)?;
        for event in &outcome.events {
            self.events.take_copy(event);
        }
        Ok(outcome)
    }

    /// [`Tx::stock`] for a caller that only needs it done (an order's reservations,
    /// commits and releases): the outcome's events move into the write instead of
    /// being copied for a caller that drops them.
    pub(crate) fn stock_effect(&mut self, command: StockCommand) -> Result<(), EngineError> {
        self.ledger_checked()?;
        let ledger = &mut self.stock.ledger;
        let partition = stock_log::partition_of(ledger, &command);
        if let Err(e) = ledger.execute_into(&command, self.now, &mut self.events) {
            return Err(self.refused_unread(e.into()));
        }
        self.log(command, partition);
        Ok(())
    }

    fn execute_logged(&mut self, command: StockCommand) -> Result<StockOutcome, EngineError> {
        let now = self.now;
        let ledger = self.ledger_checked()?;
        let partition = stock_log::partition_of(ledger, &command);
        let outcome = match ledger.execute(&command, now) {
            Ok(outcome) => outcome,
            Err(e) => return Err(self.refused_unread(e.into())),
        };
        self.log(command, partition);
        Ok(outcome)
    }

    /// A stock command failed: decided unread, the refusal is no answer (the caller
    /// may take it for one, a shortage say), so the attempt ends and the write runs
    /// again on a read ([`Read::Restart`]); else the error as it is.
    fn refused_unread(&mut self, e: EngineError) -> EngineError {
        if self.read != Read::Unread {
            return e;
        }
        self.read = Read::Restart;
        self.stock.read_next();
        RESTART
    }

    /// Records a command the ledger ran for the stock log, in `partition`.
    fn log(&mut self, command: StockCommand, partition: Option<VariantId>) {
        let seq = self.seq_before + self.entries.len() as u64 + 1;
        self.places.assign(&self.stock.heads, partition);
        self.entries.push(StockLogEntry {
            seq,
            at: self.now,
            command,
        });
    }
}

/// The order a store loaded for `id`, or the refusal a command on an unknown order gets.
fn found(order: Option<Order>, id: &OrderId) -> Result<Order, EngineError> {
    order.ok_or_else(|| {
        EngineError::from(OrderError::NotFound {
            order_id: id.clone(),
        })
    })
}

/// A new order id from the engine's id source, validated as any id and copied once, from
/// the text the source lends ([`IdGenerator::lend_next_id`]), into the id every copy of
/// the order shares.
pub(crate) fn new_order_id(ids: &dyn IdGenerator) -> Result<OrderId, EngineError> {
    let mut id = None;
    ids.lend_next_id("order", &mut |text| id = Some(OrderId::parse_str(text)))?;
    match id {
        Some(parsed) => Ok(parsed.map_err(OrderError::from)?),
        None => Err(EngineError::InvalidInput {
            field: "id generator",
            reason: "lent no id",
        }),
    }
}

/// A turn to write some variants' stock ([`Store::begin_stock_turn`]), ended when
/// dropped, whichever way the write ends.
struct StockTurn<'a> {
    store: &'a dyn Store,
}

impl<'a> StockTurn<'a> {
    fn begin(store: &'a dyn Store, variants: &[VariantId]) -> Result<Self, StoreError> {
        store.begin_stock_turn(variants)?;
        Ok(StockTurn { store })
    }
}

impl Drop for StockTurn<'_> {
    fn drop(&mut self) {
        self.store.end_stock_turn();
    }
}

/// What a write body returns: the changes to save and the value for the caller.
pub(crate) struct Written<T> {
    pub(crate) changes: ChangeSet,
    pub(crate) value: T,
}

/// The stored idempotency records of a batch's keys, read at once
/// ([`Store::idempotency_records_for`]): a key absent here is not stored.
pub(crate) type StoredKeys = crate::stock::FastMap<String, IdempotencyRecord>;

/// What one attempt of a write came to ([`Engine::attempt`]).
pub(crate) enum Attempt<T> {
    /// Saved (or nothing to save): the write's answer.
    Done(T),
    /// Handed to a store that commits groups and not decided yet: the answer holds once
    /// the ticket is decided `Ok`.
    Pending(T, CommitTicket),
    /// Lost a race worth another attempt; the ledger is back at what was saved. Names
    /// the variants whose stock the lost write moved when it lost a stock race (the
    /// retry then waits its turn for them, [`Store::begin_stock_turn`]), else none.
    Retry(Vec<VariantId>),
    /// Stopped because its deferred read of the stock log found news ([`Tx::ledger`]),
    /// or because it decided without a read and then failed or was refused as stale
    /// ([`Tx::skip_read`]): nothing was saved and the ledger is back at what was; run
    /// again, reading first. Not a lost race, so it counts against no limit (the next
    /// attempt reads first and cannot stop so).
    Restart,
    /// Took a key it had not looked up ([`Store::defers_key_lookups`]) and was refused,
    /// at the commit (the key is taken) or as decided (it may repeat a saved call, whose
    /// first answer stands); nothing was saved. Run again looking keys up: counts
    /// against no limit (the next attempt looks up and cannot end so).
    LookUpKeys,
}

/// One command's effect on an order inside a write ([`Engine::step_in`]), besides
/// the order it changed (stepped where it is, not moved through the step) and the
/// events it raised (appended where the write keeps them).
struct Step {
    /// The events rules caused, which start at `first_ruled` among the step's events.
    ruled: Vec<crate::rules::ChainEvent>,
    first_ruled: usize,
    /// Credit notes a refund issued, and their outbox records.
    documents: Vec<crate::ports::DocumentAppend>,
    document_effects: Vec<OutboxWrite>,
}

/// What a placement hands its caller: the order itself ([`Order`]), or only its id
/// ([`OrderId`]) for a bulk import that does not want a copy of every order it saved.
pub(crate) trait Placement: Clone {
    /// The value for a new order, from the snapshot its change set saves.
    fn placed(snapshot: &Order) -> Self;
    /// The value for an order already there under one of the placement's keys: as it is
    /// `now` (a channel reference seen again), or as its first result left it (a
    /// retried idempotency key).
    fn existing(engine: &Engine, record: IdempotencyRecord, now: bool)
        -> Result<Self, EngineError>;
    /// The value from a whole placed order (the one-by-one fallback of a batch).
    fn from_order(order: Order) -> Self;
    /// The order's id.
    fn order_id(&self) -> &OrderId;
}

impl Placement for Order {
    fn placed(snapshot: &Order) -> Self {
        snapshot.clone()
    }
    fn existing(
        engine: &Engine,
        record: IdempotencyRecord,
        now: bool,
    ) -> Result<Self, EngineError> {
        if now {
            engine.load(&record.order_id)
        } else {
            engine.order_at(&record.order_id, record.order_version)
        }
    }
    fn from_order(order: Order) -> Self {
        order
    }
    fn order_id(&self) -> &OrderId {
        &self.id
    }
}

impl Placement for OrderId {
    fn placed(snapshot: &Order) -> Self {
        snapshot.id.clone()
    }
    fn existing(_: &Engine, record: IdempotencyRecord, _: bool) -> Result<Self, EngineError> {
        Ok(record.order_id)
    }
    fn from_order(order: Order) -> Self {
        order.id
    }
    fn order_id(&self) -> &OrderId {
        self
    }
}

/// What a placement hands [`Engine::place_order_then`]: nothing of a new order, whose
/// snapshot it takes from the change set to step it (not a copy of it), or the order
/// already there under one of the placement's keys (see [`Placement::existing`]).
#[derive(Clone)]
enum Fresh {
    New(OrderId),
    Existing(Box<Order>),
}

impl Placement for Fresh {
    fn placed(snapshot: &Order) -> Self {
        Fresh::New(snapshot.id.clone())
    }
    fn existing(
        engine: &Engine,
        record: IdempotencyRecord,
        now: bool,
    ) -> Result<Self, EngineError> {
        <Order as Placement>::existing(engine, record, now).map(|o| Fresh::Existing(Box::new(o)))
    }
    fn from_order(order: Order) -> Self {
        Fresh::Existing(Box::new(order))
    }
    fn order_id(&self) -> &OrderId {
        match self {
            Fresh::New(id) => id,
            Fresh::Existing(order) => &order.id,
        }
    }
}

/// Never returned: a placement's change set always holds the new order.
const NO_SNAPSHOT: EngineError = EngineError::InvalidInput {
    field: "order",
    reason: "the placement saved no snapshot",
};

fn json<T: Serialize>(value: &T) -> Result<String, EngineError> {
    serde_json::to_string(value).map_err(|_| EngineError::InvalidInput {
        field: "event",
        reason: "could not be serialised",
    })
}

/// What a placement needs before the write: its event and keys. Made from the new
/// order, whose customer, addresses and other parts move into the event.
struct PreparedPlace {
    /// The order's `placed` event.
    placed: Arc<PlacedOrder>,
    external_key: Option<String>,
    /// The context's idempotency key, if any: with `external_key`, the placement's
    /// keys ([`PreparedPlace::keys`]).
    idempotency_key: Option<String>,
    /// The order's tags as given, kept only when the event's set does not list them so
    /// (out of order, or repeated): with the event, they give back the new order
    /// exactly, which an idempotency record saved before placements were compared by
    /// their event needs (see [`Engine::same_placement`]).
    tags_as_given: Option<Vec<String>>,
}

/// A new order's tags as given, when the placed event's sorted set does not list them
/// so (out of order, or repeated); `None` when it does.
fn tags_as_given(tags: &[String]) -> Option<Vec<String>> {
    let listed_so = tags.iter().zip(tags.iter().skip(1)).all(|(a, b)| a < b);
    (!listed_so).then(|| tags.to_vec())
}

impl PreparedPlace {
    /// Prepares the placement of `new`, which it consumes: what the event keeps moves
    /// into it.
    fn new(new: NewOrder, ctx: &CommandContext) -> Result<Self, EngineError> {
        check_key(ctx)?;
        let tags_as_given = tags_as_given(&new.tags);
        Ok(Self::with(placed_owned(new)?, tags_as_given, ctx))
    }

    /// [`PreparedPlace::new`] that moves only what the event keeps whole out of `new`
    /// (its customer, addresses, shipping lines, tags and opt-outs) and leaves the
    /// rest for the caller to free when it suits it (see [`place_taking`]).
    fn taking(new: &mut NewOrder, ctx: &CommandContext) -> Result<Self, EngineError> {
        check_key(ctx)?;
        let tags_as_given = tags_as_given(&new.tags);
        Ok(Self::with(place_taking(new)?, tags_as_given, ctx))
    }

    /// The prepared placement of `placed`: its keys (the context's idempotency key,
    /// and the channel reference's) beside it.
    fn with(
        placed: Arc<PlacedOrder>,
        tags_as_given: Option<Vec<String>>,
        ctx: &CommandContext,
    ) -> Self {
        let external_key = placed
            .external_ref
            .as_ref()
            .map(|r| ["external:", placed.channel.as_str(), ":", r].concat());
        PreparedPlace {
            placed,
            external_key,
            idempotency_key: ctx.idempotency_key.clone(),
            tags_as_given,
        }
    }

    /// The keys the placement is known by: the context's idempotency key, then the
    /// channel reference's (read where they are, not gathered into a list).
    fn keys(&self) -> impl Iterator<Item = &String> {
        self.idempotency_key.iter().chain(self.external_key.iter())
    }

    /// The order's `placed` event (a reference count, not a copy).
    fn event(&self) -> OrderEvent {
        OrderEvent::Placed(self.placed.clone())
    }

    /// The new order this was prepared from, exactly as it was given: what an
    /// idempotency record saved before placements were compared by their event holds a
    /// digest (or the JSON) of.
    fn as_given(&self) -> NewOrder {
        let p = &*self.placed;
        NewOrder {
            channel: p.channel.clone(),
            external_ref: p.external_ref.as_deref().map(String::from),
            placed_at: p.placed_at,
            currency: p.currency,
            taxes_included: p.taxes_included,
            customer: p.customer.as_deref().cloned(),
            shipping_address: p.shipping_address.as_deref().cloned(),
            billing_address: p.billing_address.as_deref().cloned(),
            lines: p
                .lines
                .iter()
                .map(|line| NewLine {
                    variant: line.variant.clone(),
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                    title: line.title.as_deref().map(String::from),
                    external_ref: line.external_ref.as_deref().map(String::from),
                    discounts: line.discounts.to_vec(),
                    tax_lines: line.tax_lines.to_vec(),
                })
                .collect(),
            shipping_lines: p.shipping_lines.to_vec(),
            tags: match &self.tags_as_given {
                Some(tags) => tags.clone(),
                None => p.tags.iter().cloned().collect(),
            },
            note: p.note.as_deref().map(String::from),
            reservation_ttl_minutes: p.reservation_ttl_minutes,
            notification_opt_outs: p.notification_opt_outs.to_vec(),
        }
    }
}

/// Adds a later change of the same write to an earlier one: an order changed twice is
/// one [`OrderChange`] (the first expected version, every event, the last snapshot).
pub(crate) fn merge_changes(into: &mut ChangeSet, later: ChangeSet) -> Result<(), EngineError> {
    for change in later.orders {
        match into
            .orders
            .iter_mut()
            .find(|c| c.snapshot.id == change.snapshot.id)
        {
            Some(existing) => {
                existing.events.append(change.events)?;
                existing.snapshot = change.snapshot;
            }
            None => into.orders.push(change),
        }
    }
    into.idempotency.extend(later.idempotency);
    into.outbox.extend(later.outbox);
    into.records.extend(later.records);
    into.documents.extend(later.documents);
    Ok(())
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
            writer: Arc::new(Mutex::new(stock_log::StockState::default())),
            invoicing: None,
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
            ..config
        };
        self
    }

    /// The engine's tuning.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The store the engine saves to: for capabilities beside the order that keep their
    /// own keyed records in the same place (a channel's identifier map, its intake log),
    /// so they persist wherever the orders do.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Runs `body` as one atomic write: under the writer, on a ledger caught up with
    /// the store's log (before the body, or when the body first asks for it after a
    /// read that found nothing new: see [`Tx::ledger`]), then
    /// commits what it returns together with the stock commands it executed, each with
    /// its place in the variant-partitioned log (ADR 0012). If the body fails or the
    /// commit fails after the ledger changed, the ledger is undone (from the engine's
    /// checkpoint, see `stock_log`) so memory never runs ahead of what was saved. Lost
    /// races are retried after an incremental catch-up.
    ///
    /// The writer is held while the body decides and the change set is submitted, not
    /// while the store saves it (group commit, ADR 0013): other writes of this engine
    /// decide meanwhile, on the ledger with this write's stock commands in it, and are
    /// submitted after it, so a store that commits groups saves them with one sync and
    /// refuses them if this one is refused. The call returns once its own change set is
    /// decided: `Ok` means saved. Stores that commit at once decide during `submit`, and
    /// then everything happens under the writer, as before.
    pub(crate) fn write<T>(
        &self,
        mut body: impl FnMut(&Engine, &mut Tx<'_>) -> Result<Written<T>, EngineError>,
    ) -> Result<T, EngineError> {
        let store = self.store.as_ref();
        let mut guard = self.lock_writer()?;
        // Held from a lost stock race to the end of the write: the retries queue behind
        // other writers of the same variants instead of racing them again.
        let mut turn: Option<StockTurn<'_>> = None;
        // Keys are looked up first unless the store prefers the commit to find a taken
        // one; after it did, every later attempt looks them up.
        let mut look_up_keys = !store.defers_key_lookups();
        let mut attempts = 0;
        while attempts < self.config.max_attempts {
            attempts += 1;
            match self.attempt(&mut guard, &mut body, look_up_keys)? {
                Attempt::Done(value) => return Ok(value),
                Attempt::Restart => attempts -= 1,
                Attempt::LookUpKeys => {
                    look_up_keys = true;
                    attempts -= 1;
                }
                Attempt::Retry(lost_on) => {
                    if turn.is_none() && !lost_on.is_empty() {
                        turn = Some(StockTurn::begin(store, &lost_on)?);
                    }
                }
                Attempt::Pending(value, ticket) => {
                    drop(guard);
                    let outcome = store.wait(&ticket);
                    guard = self.lock_writer()?;
                    if outcome.is_err() {
                        // This change set, or one it was submitted after, was refused:
                        // the ledger goes back to what was saved before the retry.
                        guard.settle(store, true)?;
                    }
                    match outcome {
                        Ok(()) => return Ok(value),
                        Err(StoreError::KeyTaken { .. }) if !look_up_keys => {
                            look_up_keys = true;
                            attempts -= 1;
                        }
                        Err(e) if !e.is_retryable() => return Err(e.into()),
                        Err(_) => {}
                    }
                }
            }
        }
        Err(EngineError::Conflict {
            attempts: self.config.max_attempts,
        })
    }

    /// One attempt of [`Engine::write`], under the writer: decides `body` on the caught-up
    /// ledger and submits its change set. A change set the store decided at once is
    /// settled here ([`Attempt::Done`] or [`Attempt::Retry`]); one it queued is in flight
    /// ([`Attempt::Pending`]): the caller waits for its ticket without the writer, and
    /// undoes with [`StockState::settle`](stock_log::StockState::settle) if it is refused.
    fn attempt<T>(
        &self,
        state: &mut stock_log::StockState,
        body: &mut impl FnMut(&Engine, &mut Tx<'_>) -> Result<Written<T>, EngineError>,
        look_up_keys: bool,
    ) -> Result<Attempt<T>, EngineError> {
        let store = self.store.as_ref();
        state.settle(store, false)?;
        // With writes in flight the ledger is ahead of the store and is not read
        // (ADR 0013); after a read that found nothing new the read waits until the
        // write touches the ledger (`Tx::ledger`); otherwise it is read now.
        let read = if state.in_flight() {
            Read::Done
        } else if state.quiet() {
            Read::Deferred
        } else {
            state.catch_up(store)?;
            Read::Done
        };
        let now = self.clock.now();
        let seq_before = state.heads.applied;
        let places = stock_log::WritePlaces::new(&state.heads);
        let mut tx = Tx {
            stock: &mut *state,
            store,
            read,
            now,
            ids: self.ids.as_ref(),
            seq_before,
            entries: Vec::new(),
            events: crate::stock::Unmoved::default(),
            places,
            look_up_keys,
            skipped_keys: false,
        };
        let result = body(self, &mut tx);
        if tx.read == Read::Restart {
            // The deferred read found news, or a stock command decided unread failed:
            // run it again reading first. A write that skipped its read may have
            // changed the ledger before: undone first.
            if !tx.entries.is_empty() && state.settle(store, true)? {
                state.undo(store)?;
            }
            state.read_next();
            return Ok(Attempt::Restart);
        }
        // Decided without a read: only its commit may answer it (see `Read::Unread`).
        let unread = tx.read == Read::Unread;
        // Where the write's entries start: as the write began, or as a read made with
        // its order left the heads (`Tx::load_order_for_stock`).
        let seq_before = tx.seq_before;
        let skipped_keys = tx.skipped_keys;
        let (entries, stock_events) = (tx.entries, tx.events);
        let stock_log::WritePlaces {
            heads: after,
            places,
        } = tx.places;
        let dirty = !entries.is_empty();
        let written = match result {
            Ok(w) => w,
            Err(e) => {
                // Undone from the checkpoint, which holds only saved writes: the
                // writes in flight are decided first (a refusal among them restores
                // the ledger, this write's changes included).
                if dirty && state.settle(store, true)? {
                    state.undo(store)?;
                }
                // Refused on stock that was not read for it: decided again on a read,
                // the failure is an answer only if it holds there.
                if unread {
                    state.read_next();
                    return Ok(Attempt::Restart);
                }
                // A keyed write refused as decided may be the repeat of one that was
                // saved (a confirmation retried after it went through): the lookup says.
                if skipped_keys {
                    return Ok(Attempt::LookUpKeys);
                }
                return Err(e);
            }
        };
        let mut changes = written.changes;
        // The entries this engine keeps for undoing later writes (only once it keeps
        // a checkpoint).
        let kept = state.kept(&entries);
        if dirty {
            // Unique without a generator across every process sharing the store:
            // the place of the write's first entry is taken once (ADR 0012). Written
            // only for a write with stock events to announce (most have none: a
            // reservation's movements are counted, not kept).
            let first = match places.first() {
                Some(p) if !stock_events.kept.is_empty() => {
                    let partition = p.partition.as_ref().map_or("*", |v| v.as_str());
                    [partition, ":", itoa::Buffer::new().format(p.seq)].concat()
                }
                _ => String::new(),
            };
            for (k, event) in &stock_events.kept {
                changes.outbox.push(OutboxWrite::Record(OutboxRecord {
                    // The write's first place and the event's index among all the
                    // write's stock events, movements counted.
                    id: ["stock:", &first, ":", itoa::Buffer::new().format(*k)].concat(),
                    topic: event.topic().to_string(),
                    aggregate_id: "stock".to_string(),
                    aggregate_version: seq_before + entries.len() as u64,
                    created_at: now,
                    payload_json: json(event)?,
                }));
            }
            changes.stock = Some(StockAppend {
                expected_seq: seq_before,
                entries,
                places,
            });
        }
        if changes.is_empty() {
            // An answer decided on a ledger still ahead of the store is only an
            // answer once what it saw is saved.
            if state.in_flight() && !state.settle(store, true)? {
                return Ok(Attempt::Retry(Vec::new()));
            }
            return Ok(Attempt::Done(written.value));
        }
        let in_flight = state.in_flight();
        let ticket = store.submit(changes, state.tail());
        let mut lost_on = Vec::new();
        let outcome = match ticket.outcome() {
            // Decided in `submit` (a store that commits at once) with nothing in
            // flight: settled here, under the writer, as before group commit.
            Some(outcome) if !in_flight => {
                match &outcome {
                    Ok(()) => state.committed(kept, after),
                    Err(e) if dirty => {
                        if matches!(e, StoreError::Conflict { .. }) {
                            lost_on = after.variants().map(|(v, _)| v.clone()).collect();
                        }
                        state.undo(store)?
                    }
                    Err(_) => {}
                }
                outcome
            }
            decided => {
                if dirty {
                    state.submitted(ticket.clone(), kept, after);
                }
                match decided {
                    Some(outcome) => {
                        state.settle(store, outcome.is_err())?;
                        outcome
                    }
                    None => return Ok(Attempt::Pending(written.value, ticket)),
                }
            }
        };
        match outcome {
            Ok(()) => {
                if unread {
                    state.saved_unread();
                }
                Ok(Attempt::Done(written.value))
            }
            // Decided on heads that had moved since the engine's last read: not a lost
            // race but the price of not reading; run again on a read (the undo above
            // made the next write read first), counted against no limit.
            Err(StoreError::Conflict { .. }) if unread => {
                state.read_next();
                Ok(Attempt::Restart)
            }
            // A key this attempt did not look up was taken: nothing was saved; decided
            // again with the lookup, it is a repeat or a mismatch, not a lost race.
            Err(StoreError::KeyTaken { .. }) if skipped_keys => Ok(Attempt::LookUpKeys),
            Err(e) if !e.is_retryable() => Err(e.into()),
            Err(_) => Ok(Attempt::Retry(lost_on)),
        }
    }

    fn lock_writer(&self) -> Result<std::sync::MutexGuard<'_, stock_log::StockState>, EngineError> {
        Ok(self.writer.lock().map_err(|_| StoreError::Unavailable {
            reason: "engine writer poisoned by a panicking thread".to_string(),
        })?)
    }

    /// Runs `f` on the caught-up ledger, for reads: of saved stock only, so it waits for
    /// this engine's writes in flight to be decided first.
    pub(crate) fn read_stock<T>(
        &self,
        f: impl FnOnce(&StockLedger) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let mut state = self.lock_writer()?;
        state.settle(self.store.as_ref(), true)?;
        state.catch_up(self.store.as_ref())?;
        f(&state.ledger)
    }

    pub(crate) fn load(&self, id: &OrderId) -> Result<Order, EngineError> {
        found(self.store.load_order(id)?, id)
    }

    /// Places a new order and returns it (status `pending`).
    ///
    /// With an `external_ref`, placing the same (channel, reference) again with the same
    /// content returns that order as it is now (it may have been confirmed or shipped
    /// since); with different content it is [`EngineError::DuplicateExternalRef`]. The
    /// same idempotency key again returns the first result. "The same content" is what
    /// the order records of it, its `placed` event: the same lines, prices, taxes,
    /// discounts, addresses, customer, note and tags (in any order), to the nanosecond
    /// of its placing time (ADR 0002).
    pub fn place_order(&self, new: NewOrder, ctx: &CommandContext) -> Result<Order, EngineError> {
        let prepared = PreparedPlace::new(new, ctx)?;
        self.write(|engine, tx| engine.place_in(tx, &prepared, ctx, true, None, 0))
    }

    /// Places a new order and runs `then` on it in the same atomic write: one commit,
    /// one version check, the stock effects of every command in the same change. All or
    /// nothing: if a command is refused (a confirmation short of stock, say), nothing is
    /// saved and the error names that command's problem.
    ///
    /// Returns the order after the last command and `true`; or, when the order already
    /// exists (its external reference or idempotency key was seen with the same
    /// content), that order as it is now and `false`, with `then` not run. This is the
    /// fast path of channel intake: a paid, confirmed marketplace order arrives whole.
    ///
    /// ```
    /// use chrono::Utc;
    /// use ordersmith::engine::{CommandContext, Engine};
    /// use ordersmith::ids::{ChannelId, VariantId};
    /// use ordersmith::money::{Currency, Money};
    /// use ordersmith::order::{NewLine, NewOrder, OrderCommand, OrderStatus};
    ///
    /// let engine = Engine::in_memory();
    /// let try_ = Currency::parse("TRY")?;
    /// let price = Money::new("10.00".parse()?, try_)?;
    /// let line = NewLine::new(VariantId::parse("MUG")?, 1, price);
    /// let mut new = NewOrder::new(ChannelId::parse("web")?, Utc::now(), try_, vec![line]);
    /// new.external_ref = Some("W-1".into());
    /// let ctx = CommandContext::system();
    /// let (order, created) = engine.place_order_then(new.clone(), vec![OrderCommand::MarkPaid], &ctx)?;
    /// assert!(created && order.amount_paid.amount() == price.amount());
    /// assert_eq!(order.status, OrderStatus::Pending);
    /// // Delivered again: the order as it is, nothing run twice.
    /// let (again, created) = engine.place_order_then(new, vec![OrderCommand::MarkPaid], &ctx)?;
    /// assert!(!created && again.version == order.version);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn place_order_then(
        &self,
        new: NewOrder,
        then: Vec<OrderCommand>,
        ctx: &CommandContext,
    ) -> Result<(Order, bool), EngineError> {
        if then.iter().any(|c| matches!(c, OrderCommand::Place { .. })) {
            return Err(EngineError::InvalidInput {
                field: "then",
                reason: "the commands that follow a placement cannot place an order",
            });
        }
        let prepared = PreparedPlace::new(new, ctx)?;
        // The follow-ups carry the caller's actor but no key of their own: the whole
        // write is keyed by the placement's keys.
        let follow = CommandContext {
            actor: ctx.actor.clone(),
            idempotency_key: None,
        };
        self.write(|engine, tx| {
            // A new order's confirmation reserves what it plans: unread, its
            // reservations' commit checks the plan (a plan not wholly made of them
            // reads first, see `allocation`).
            tx.skip_read();
            // Room in the records and announcements for the follow-ups' events (a
            // confirmation's allocations, a payment, a shipment), so recording them
            // does not move the placement's.
            let room = 2 * (then.len() + prepared.placed.lines.len());
            // Rules run once, after the follow-ups (below): a rule's auto-confirm never
            // collides with a follow-up confirmation.
            let placed = engine.place_in::<Fresh>(tx, &prepared, ctx, false, None, room)?;
            if let Fresh::Existing(order) = placed.value {
                return Ok(Written {
                    changes: ChangeSet::default(),
                    value: (*order, false),
                });
            }
            let mut changes = placed.changes;
            // The new order's change (a placement's change set holds that one) is taken
            // out while the follow-ups step its snapshot itself, not a copy of it; each
            // follow-up's events join it, and its snapshot is set once, after the last
            // (a change set per step cost a copy of the order, its vectors and a merge
            // each). Rules run below, so no step runs them.
            let Some(mut change) = changes.orders.pop() else {
                return Err(NO_SNAPSHOT);
            };
            let mut order = change.snapshot;
            // Each follow-up's events join the change as they come, announced before the
            // step's own outbox effects (which come after its events).
            for command in &then {
                // The step's events go straight into the change's (sized for them),
                // as one run recorded by the follow-up's context.
                let (first, had) = (change.events.next_version(), change.events.len());
                let step = change.events.record_with(
                    tx.now,
                    &follow.actor,
                    follow.idempotency_key.as_deref(),
                    |events| engine.step_owned(tx, &mut order, command, events),
                )?;
                let n = change.events.len() - had;
                announce(change.events.order_id(), first, n, &mut changes.outbox);
                changes.documents.extend(step.documents);
                changes.outbox.extend(step.document_effects);
            }
            // The snapshot, once, after the last step; the caller gets the order itself.
            change.snapshot = order.clone();
            changes.orders.push(change);
            // Automation rules (issue 14): the triggers of the placement and its
            // follow-ups, in one go.
            // (Borrowed: the placed event alone is the whole order again; and gathered
            // only when rules are live, as without them there is nothing to run.)
            let before_rules = order.version;
            let ruled = if engine.config.rules.live.is_some() {
                let events: Vec<&OrderEvent> = changes
                    .orders
                    .iter()
                    .filter(|c| c.snapshot.id == order.id)
                    .flat_map(|c| c.events.events())
                    .collect();
                rules::run_for(engine, tx, &mut order, &events, &[])?
            } else {
                Vec::new()
            };
            if !ruled.is_empty() {
                let mut caused: Vec<OrderEvent> = ruled.iter().map(|c| c.event.clone()).collect();
                let notes = notifications::requests(&engine.config, &order, &caused);
                for e in &notes {
                    order.apply(e);
                }
                caused.extend(notes);
                let mut extra =
                    engine.changes_for(tx.now, &order, before_rules, caused, &follow)?;
                rules::attribute(&mut extra, 0, &ruled)?;
                merge_changes(&mut changes, extra)?;
            }
            // A retried call with the same key returns the order as this call left it.
            for record in &mut changes.idempotency {
                record.order_version = order.version;
            }
            Ok(Written {
                changes,
                value: (order, true),
            })
        })
    }

    /// The body of a placement inside a write: the existing order for a key seen with
    /// the same content, or the new order and its change set, whose records and
    /// announcements have `room` for that many events the caller adds after.
    #[allow(clippy::too_many_arguments)]
    fn place_in<R: Placement>(
        &self,
        tx: &mut Tx<'_>,
        prepared: &PreparedPlace,
        ctx: &CommandContext,
        run_rules: bool,
        stored: Option<&StoredKeys>,
        room: usize,
    ) -> Result<Written<R>, EngineError> {
        let PreparedPlace {
            placed: data,
            external_key,
            ..
        } = prepared;
        for key in prepared.keys() {
            let record = match stored {
                Some(stored) => stored.get(key.as_str()).cloned(),
                None if tx.look_up_keys => self.store.idempotency_record(key)?,
                // The commit refuses the key if it is taken (`Attempt::LookUpKeys`).
                None => {
                    tx.skipped_keys = true;
                    None
                }
            };
            if let Some(record) = record {
                if !self.same_placement(&record, prepared)? {
                    return Err(match (external_key, &data.external_ref) {
                        (Some(ext), Some(r)) if ext == key => EngineError::DuplicateExternalRef {
                            channel: data.channel.to_string(),
                            external_ref: r.to_string(),
                            order_id: record.order_id,
                        },
                        _ => EngineError::IdempotencyMismatch { key: key.clone() },
                    });
                }
                // A channel delivering its order again gets the order as it is now,
                // so a re-importer never acts on a stale status; a retried call
                // (idempotency key) gets its first result.
                let now = external_key.as_ref() == Some(key);
                return Ok(Written {
                    changes: ChangeSet::default(),
                    value: R::existing(self, record, now)?,
                });
            }
        }
        let order_id = new_order_id(self.ids.as_ref())?;
        let mut snapshot = Order::from_placed(order_id.clone(), data);
        // Room for the follow-ups' events from the start: the vector is the one the
        // change set and then the memory store keep, so it is not grown on the way.
        let mut events = Vec::with_capacity(1 + room);
        events.push(prepared.event());
        // Automation rules (issue 14): order_placed and what its actions raise.
        let ruled = if run_rules {
            rules::run_for(self, tx, &mut snapshot, &events, &[])?
        } else {
            Vec::new()
        };
        events.extend(ruled.iter().map(|c| c.event.clone()));
        let notes = notifications::requests(&self.config, &snapshot, &events);
        for e in &notes {
            snapshot.apply(e);
        }
        events.extend(notes);
        let version = snapshot.version;
        // The snapshot moves into the change set; the caller's value is made from it
        // there (a copy of the order, or only its id for a bulk import).
        let mut changes = self.changes_for_owned(tx.now, snapshot, 0, events, ctx, room)?;
        rules::attribute(&mut changes, 1, &ruled)?;
        changes.idempotency = prepared
            .keys()
            .map(|k| IdempotencyRecord {
                key: k.clone(),
                fingerprint: std::borrow::Cow::Borrowed(PLACED_EVENT),
                order_id: order_id.clone(),
                order_version: version,
            })
            .collect();
        let value = match changes.orders.first() {
            Some(change) => R::placed(&change.snapshot),
            None => return Err(NO_SNAPSHOT),
        };
        Ok(Written { changes, value })
    }

    /// Places many orders in one call (a marketplace export, a migration). Each order is
    /// decided on its own, so one bad order does not stop the rest; results come back in
    /// input order. The orders that succeed are saved [`WRITE_BATCH`] at a time, each
    /// batch in one atomic commit (one sync on a durable store); keys and channel
    /// references repeated within a batch behave as across calls. On a store that
    /// commits groups (SQLite), the next batch is decided while the previous one is
    /// saved, on a second thread of the call (ADR 0013); batches are still decided in
    /// input order, so the outcome is the one-batch-after-another one.
    pub fn place_orders(
        &self,
        orders: Vec<NewOrder>,
        ctx: &CommandContext,
    ) -> Vec<Result<Order, EngineError>> {
        self.place_orders_batched(orders, ctx)
    }

    /// Runs any command on an existing order and returns the order after it, with the
    /// stock effects the command implies (reserve on confirm, release on cancel and
    /// edit, commit on shipment) saved in the same change.
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
            Some(_) => fingerprint(&KeyedCommand {
                order_id,
                command: &command,
            })?,
            None => String::new(),
        };
        self.write(|engine, tx| {
            engine.execute_in(tx, order_id, &command, ctx, &fingerprint, None, true)
        })
    }

    /// The body of a command inside a write, on `loaded` (an order changed earlier in
    /// the same write) or on the stored order.
    // The write's state, the command and its context, and whether automation rules run
    // (not for `place_order_then`'s follow-ups: it runs them once for the whole write).
    #[allow(clippy::too_many_arguments)]
    fn execute_in(
        &self,
        tx: &mut Tx<'_>,
        order_id: &OrderId,
        command: &OrderCommand,
        ctx: &CommandContext,
        fingerprint: &str,
        loaded: Option<&Order>,
        run_rules: bool,
    ) -> Result<Written<Order>, EngineError> {
        if let Some(key) = &ctx.idempotency_key {
            if !tx.look_up_keys {
                tx.skipped_keys = true;
            } else if let Some(record) = self.store.idempotency_record(key)? {
                let keyed = KeyedCommand { order_id, command };
                if !same_fingerprint(&record.fingerprint, fingerprint, &keyed) {
                    return Err(EngineError::IdempotencyMismatch { key: key.clone() });
                }
                return Ok(Written {
                    changes: ChangeSet::default(),
                    value: self.order_at(&record.order_id, record.order_version)?,
                });
            }
        }
        // An order changed earlier in the write is read where it is: only `after`,
        // which the command changes, is a copy.
        let before: std::borrow::Cow<'_, Order> = match loaded {
            Some(order) => std::borrow::Cow::Borrowed(order),
            // A command that moves the order's stock reads the log with the order.
            None if command.moves_stock() => {
                std::borrow::Cow::Owned(tx.load_order_for_stock(self, order_id)?)
            }
            None => std::borrow::Cow::Owned(self.load(order_id)?),
        };
        let mut after = Order::clone(&before);
        let mut events = Vec::new();
        let Step {
            ruled,
            first_ruled,
            documents,
            document_effects,
        } = self.step_in(tx, &before, &mut after, command, run_rules, &mut events)?;
        let mut changes = if events.is_empty() {
            ChangeSet::default()
        } else {
            self.changes_for(tx.now, &after, before.version, events, ctx)?
        };
        changes.documents = documents;
        changes.outbox.extend(document_effects);
        rules::attribute(&mut changes, first_ruled, &ruled)?;
        if let Some(key) = &ctx.idempotency_key {
            changes.idempotency.push(IdempotencyRecord {
                key: key.clone(),
                fingerprint: fingerprint.to_string().into(),
                order_id: order_id.clone(),
                order_version: after.version,
            });
        }
        Ok(Written {
            changes,
            value: after,
        })
    }

    /// What one command does to an order inside a write: `after` (a copy of `before`)
    /// becomes the order after it, every event it raised (the state machine's, the
    /// stock side's, fulfilment sync, rules when `run_rules`, notifications) is
    /// appended to `events`, and the step holds any credit notes a refund issues. Not
    /// yet a change set: [`Engine::execute_in`] makes one of it, and a placement's
    /// follow-ups append theirs to the placement's.
    fn step_in(
        &self,
        tx: &mut Tx<'_>,
        before: &Order,
        after: &mut Order,
        command: &OrderCommand,
        run_rules: bool,
        events: &mut Vec<OrderEvent>,
    ) -> Result<Step, EngineError> {
        let start = events.len();
        decide_into(before, command, events)?;
        self.step_from(tx, Some(before), after, command, run_rules, events, start)
    }

    /// [`Engine::step_in`] on an order the caller owns and does not need back if the
    /// step fails (a placement's follow-ups): stepped where it is, copied only when the
    /// command's stock side reads the order as it was before
    /// ([`allocation::reads_only_after`]), its events appended to `events` (the
    /// placement's own, which the change set keeps). Rules do not run.
    fn step_owned(
        &self,
        tx: &mut Tx<'_>,
        order: &mut Order,
        command: &OrderCommand,
        events: &mut Vec<OrderEvent>,
    ) -> Result<Step, EngineError> {
        let start = events.len();
        decide_into(order, command, events)?;
        if allocation::reads_only_after(command, order) {
            self.step_from(tx, None, order, command, false, events, start)
        } else {
            let before = order.clone();
            self.step_from(tx, Some(&before), order, command, false, events, start)
        }
    }

    /// The rest of a step once `command` decided the events from `start` in `events`
    /// on `before`: `after` (a copy of `before`, or `before` itself when it is `None`)
    /// takes them and what they cause, which are appended after them.
    #[allow(clippy::too_many_arguments)]
    fn step_from(
        &self,
        tx: &mut Tx<'_>,
        before: Option<&Order>,
        after: &mut Order,
        command: &OrderCommand,
        run_rules: bool,
        events: &mut Vec<OrderEvent>,
        start: usize,
    ) -> Result<Step, EngineError> {
        for e in events.get(start..).unwrap_or_default() {
            after.apply(e);
        }
        let decided = events.len();
        allocation::stock_effects_into(
            &self.config,
            tx,
            before.unwrap_or(after),
            after,
            command,
            events,
        )?;
        for e in events.get(decided..).unwrap_or_default() {
            after.apply(e);
        }
        let synced = events.len();
        fulfilment::sync_fulfilments_into(after, events);
        for e in events.get(synced..).unwrap_or_default() {
            after.apply(e);
        }
        // Automation rules (issue 14): the triggers these events raise.
        let ruled = if run_rules {
            rules::run_for(
                self,
                tx,
                after,
                events.get(start..).unwrap_or_default(),
                &[],
            )?
        } else {
            Vec::new()
        };
        let first_ruled = events.len().saturating_sub(start);
        events.extend(ruled.iter().map(|c| c.event.clone()));
        let notes =
            notifications::requests(&self.config, after, events.get(start..).unwrap_or_default());
        for e in &notes {
            after.apply(e);
        }
        events.extend(notes);
        // Invoicing hook (issue 11): a refund on an invoiced order issues its credit
        // note in this same commit, so the refund and the note are saved together.
        let (documents, document_effects) = invoice::credit_notes_for_refunds(
            self,
            tx.now,
            after,
            events.get(start..).unwrap_or_default(),
        )?;
        Ok(Step {
            ruled,
            first_ruled,
            documents,
            document_effects,
        })
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

    /// Orders by status, channel and placed-time range, oldest first: one page, as
    /// [`Engine::list_orders_page`] (a limit over [`crate::ports::MAX_QUERY_LIMIT`] is
    /// refused, never cut).
    pub fn list_orders(&self, query: &OrderQuery) -> Result<Vec<Order>, EngineError> {
        Ok(self.list_orders_page(query)?.orders)
    }

    /// Up to `limit` effects waiting for the host, oldest first. The outbox is a queue:
    /// acknowledge what you did and ask again. `limit` must be 1 to
    /// [`crate::ports::MAX_QUERY_LIMIT`] (`ENGINE_INVALID_INPUT` otherwise).
    pub fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxRecord>, EngineError> {
        let limit = listing::check_page_size(Some(limit))?;
        Ok(self.outbox.pending(limit)?)
    }

    /// Marks an effect done; `false` if it was not pending.
    pub fn acknowledge_effect(&self, id: &str) -> Result<bool, EngineError> {
        Ok(self.outbox.acknowledge(id)?)
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

    pub(crate) fn changes_for(
        &self,
        now: DateTime<Utc>,
        snapshot: &Order,
        expected_version: u64,
        events: Vec<OrderEvent>,
        ctx: &CommandContext,
    ) -> Result<ChangeSet, EngineError> {
        self.changes_for_owned(now, snapshot.clone(), expected_version, events, ctx, 0)
    }

    /// [`Engine::changes_for`] with the snapshot moved in rather than copied, and
    /// `room` for that many more events in its records and announcements.
    pub(crate) fn changes_for_owned(
        &self,
        now: DateTime<Utc>,
        snapshot: Order,
        expected_version: u64,
        events: Vec<OrderEvent>,
        ctx: &CommandContext,
        room: usize,
    ) -> Result<ChangeSet, EngineError> {
        let mut outbox = Vec::with_capacity(events.len() + room);
        announce(
            &snapshot.id,
            expected_version + 1,
            events.len(),
            &mut outbox,
        );
        // The events move in as they are (their vector is what the memory store keeps).
        let mut recorded = NewEvents::recorded(
            snapshot.id.clone(),
            expected_version,
            now,
            &ctx.actor,
            ctx.idempotency_key.as_deref(),
            events,
        );
        recorded.reserve(room);
        Ok(ChangeSet {
            orders: vec![OrderChange {
                expected_version,
                events: recorded,
                snapshot,
            }],
            stock: None,
            idempotency: Vec::new(),
            outbox,
            records: Vec::new(),
            documents: Vec::new(),
        })
    }
}

/// Announces events `first ..` (`n` of them) of `order_id`, each as itself: the store
/// writes the JSON once.
fn announce(order_id: &OrderId, first: u64, n: usize, outbox: &mut Vec<OutboxWrite>) {
    outbox.reserve(n);
    for version in (first..).take(n) {
        outbox.push(OutboxWrite::OrderEvent {
            order_id: order_id.clone(),
            version,
        });
    }
}

#[derive(Serialize)]
struct KeyedCommand<'a> {
    order_id: &'a OrderId,
    command: &'a OrderCommand,
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
/// The fingerprint an idempotency record keeps of a keyed command: `sha256:` and the
/// hex SHA-256 of the command's canonical JSON. The JSON is streamed into the hash, so
/// a keyed call costs no copy of its command, and the record stays 71 bytes however
/// large the order (it used to be the JSON itself: most of a stored record).
fn fingerprint(command: &impl Serialize) -> Result<String, EngineError> {
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let unserialisable = || EngineError::InvalidInput {
        field: "command",
        reason: "could not be serialised",
    };
    // serde_json writes token by token; buffered, the hash is fed in large pieces.
    let mut buffered = std::io::BufWriter::with_capacity(1024, Hashing(Sha256::new()));
    serde_json::to_writer(&mut buffered, command).map_err(|_| unserialisable())?;
    let hashing = buffered.into_inner().map_err(|_| unserialisable())?;
    let mut out = String::with_capacity(FINGERPRINT_PREFIX.len() + 64);
    out.push_str(FINGERPRINT_PREFIX);
    // The digest's own hex formatting, in one call. Writing to a String cannot fail.
    let _ = write!(out, "{:x}", hashing.0.finalize());
    Ok(out)
}

const FINGERPRINT_PREFIX: &str = "sha256:";

/// Whether a stored fingerprint is the same command as `fresh` (from [`fingerprint`]).
/// Records saved before fingerprints were hashed hold the command's JSON itself; those
/// are compared as JSON, so a retry across the upgrade still returns its first result.
fn same_fingerprint(stored: &str, fresh: &str, command: &impl Serialize) -> bool {
    stored == fresh
        || (!stored.starts_with(FINGERPRINT_PREFIX)
            && serde_json::to_string(command).is_ok_and(|json| json == stored))
}

/// The fingerprint a placement's idempotency records keep (its key or channel
/// reference): the placement is the order's first event, `placed`, which the store
/// keeps anyway, so nothing of the order is hashed or kept twice. A later placement
/// under the same key is the same one when the placed event it makes equals the
/// stored order's first event (see [`Engine::same_placement`]).
pub(crate) const PLACED_EVENT: &str = "placed-event";

impl Engine {
    /// Whether a placement whose key has `record` is the one that saved it: its placed
    /// event (`prepared.placed`) equals the first event of the order the record names.
    /// What the order keeps is what is compared: tags in another order or a price
    /// written with another number of decimals are the same placement, a changed line,
    /// address or note is another. Records saved before placements were compared this
    /// way hold a SHA-256 of the order's JSON (or the JSON itself): those are compared
    /// as they were made, against the new order given back whole from what was
    /// prepared ([`PreparedPlace::as_given`]).
    fn same_placement(
        &self,
        record: &IdempotencyRecord,
        prepared: &PreparedPlace,
    ) -> Result<bool, EngineError> {
        if record.fingerprint != PLACED_EVENT {
            let new = prepared.as_given();
            return Ok(same_fingerprint(
                &record.fingerprint,
                &fingerprint(&new)?,
                &new,
            ));
        }
        let history = self.store.order_events(&record.order_id)?;
        Ok(history.iter().find(|r| r.version == 1).is_some_and(|first| {
            matches!(&first.event, OrderEvent::Placed(stored) if **stored == *prepared.placed)
        }))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{place, HoldReason};

    #[test]
    fn placements_match_their_stored_event_and_the_digests_saved_before() {
        use crate::ids::{ChannelId, VariantId};
        use crate::money::{Currency, Money};
        use crate::order::NewLine;
        let try_ = Currency::parse("TRY").unwrap();
        let price = Money::new("10.00".parse().unwrap(), try_).unwrap();
        let line = NewLine::new(VariantId::parse("MUG").unwrap(), 2, price);
        let mut new = NewOrder::new(
            ChannelId::parse("web").unwrap(),
            chrono::Utc::now(),
            try_,
            vec![line],
        );
        new.external_ref = Some("W-1".into());
        let mut other = new.clone();
        other.note = Some("leave at the door".into());
        let engine = Engine::in_memory();
        let ctx = CommandContext::system();
        let order = engine.place_order(new.clone(), &ctx).unwrap();
        let placed = PreparedPlace::new(new.clone(), &ctx).unwrap();
        let placed_other = PreparedPlace::taking(&mut other.clone(), &ctx).unwrap();
        let record = engine
            .store
            .idempotency_record("external:web:W-1")
            .unwrap()
            .unwrap();
        assert_eq!(record.fingerprint, PLACED_EVENT);
        assert!(engine.same_placement(&record, &placed).unwrap());
        assert!(!engine.same_placement(&record, &placed_other).unwrap());
        // A record saved before placements were compared by their event holds the
        // SHA-256 of the order's JSON (or, older still, the JSON): still the same
        // placement for the same order, another for other content.
        for saved in [
            fingerprint(&new).unwrap(),
            serde_json::to_string(&new).unwrap(),
        ] {
            let legacy = IdempotencyRecord {
                fingerprint: saved.into(),
                ..record.clone()
            };
            assert!(engine.same_placement(&legacy, &placed).unwrap());
            assert!(!engine.same_placement(&legacy, &placed_other).unwrap());
        }
        // A record naming an order without history matches nothing.
        let lost = IdempotencyRecord {
            order_id: OrderId::parse("o-none").unwrap(),
            ..record
        };
        assert!(!engine.same_placement(&lost, &placed).unwrap());
        assert_eq!(order.version, 1);
    }

    /// A placement under a blank or over-long idempotency key is refused before
    /// anything else is looked at, one by one and in a batch, and saves nothing.
    #[test]
    fn a_placement_under_a_malformed_key_is_refused_and_saves_nothing() {
        let new = every_part(0, Vec::new());
        let engine = Engine::in_memory();
        let refused = |e: &EngineError| {
            matches!(
                e,
                EngineError::InvalidInput {
                    field: "idempotency_key",
                    ..
                }
            )
        };
        for key in [String::new(), " ".to_string(), "k".repeat(201)] {
            let ctx = CommandContext {
                idempotency_key: Some(key),
                ..CommandContext::system()
            };
            let one = engine.place_order(new.clone(), &ctx).unwrap_err();
            assert!(refused(&one), "{one:?}");
            let then = engine
                .place_order_then(new.clone(), vec![OrderCommand::Confirm], &ctx)
                .unwrap_err();
            assert!(refused(&then), "{then:?}");
            let batch = engine.place_orders(vec![new.clone(), new.clone()], &ctx);
            assert!(
                batch.iter().all(|r| r.as_ref().is_err_and(refused)),
                "{batch:?}"
            );
        }
        assert!(engine.store.order_ids(None, 10).unwrap().is_empty());
    }

    /// A new order with every optional part set or not, by the bits of `parts`, and
    /// its tags in the order `tags` gives them (repeats and disorder included).
    fn every_part(parts: u32, tags: Vec<String>) -> NewOrder {
        use crate::ids::{ChannelId, VariantId};
        use crate::money::{Currency, Money};
        use crate::order::{Discount, ShippingLine, TaxLine};
        use crate::pii::{Address, Customer, Redacted};
        let on = |bit: u32| parts & (1 << bit) != 0;
        let try_ = Currency::parse("TRY").unwrap();
        let money = |s: &str| Money::new(s.parse().unwrap(), try_).unwrap();
        let mut line = NewLine::new(VariantId::parse("SHIRT-M").unwrap(), 2, money("100.00"));
        if on(0) {
            line.title = Some("Shirt M".into());
        }
        if on(1) {
            line.external_ref = Some("li-77".into());
        }
        if on(2) {
            line.discounts.push(Discount {
                code: on(3).then(|| "WELCOME".into()),
                amount: money("10.00"),
            });
        }
        if on(4) {
            line.tax_lines.push(TaxLine {
                name: "KDV".into(),
                rate: "0.20".parse().unwrap(),
            });
        }
        let second = NewLine::new(VariantId::parse("MUG").unwrap(), 1, money("50.5"));
        let mut new = NewOrder::new(
            ChannelId::parse("web").unwrap(),
            chrono::DateTime::from_timestamp(1_790_000_000, 123_456_789).unwrap(),
            try_,
            vec![line, second],
        );
        new.external_ref = on(5).then(|| "W-9".into());
        new.taxes_included = on(6);
        if on(7) {
            new.customer = Some(Customer {
                name: Redacted::new("Ayşe Yılmaz".to_string()),
                email: on(8).then(|| Redacted::new("ayse@example.com".to_string())),
                ..Customer::default()
            });
        }
        let address = Address {
            name: Redacted::new("Ayşe Yılmaz".to_string()),
            lines: Redacted::new(vec!["Bağdat Cd. 1".to_string(), "D:4".to_string()]),
            city: Redacted::new("İstanbul".to_string()),
            country: "TR".into(),
            ..Address::default()
        };
        new.shipping_address = on(9).then(|| address.clone());
        new.billing_address = on(10).then_some(address);
        if on(11) {
            new.shipping_lines.push(ShippingLine {
                title: "Kargo".into(),
                price: money("15.00"),
                tax_lines: Vec::new(),
            });
        }
        new.tags = tags;
        new.note = on(12).then(|| "leave at the door \"please\" ✓".into());
        new.reservation_ttl_minutes = on(13).then_some(90);
        if on(14) {
            new.notification_opt_outs = vec![NotificationChannel::Sms, NotificationChannel::Email];
        }
        new
    }

    proptest::proptest! {
        // What a placement prepares gives back the new order it consumed, exactly: the
        // same value and so the same digest, whatever parts it has and however its tags
        // are listed. Records saved before placements were compared by their event
        // hold that digest (or that JSON), so a channel re-delivering such an order
        // must still be recognised.
        #[test]
        fn what_a_placement_prepares_gives_back_the_order_it_consumed(
            parts in 0u32..(1 << 15),
            tags in proptest::collection::vec("[abc]{1,2}", 0..5),
        ) {
            let new = every_part(parts, tags);
            // Both ways of preparing: consuming the order, and taking from it.
            let (owned, taken) = (
                PreparedPlace::new(new.clone(), &CommandContext::system()),
                PreparedPlace::taking(&mut new.clone(), &CommandContext::system()),
            );
            let fail = |e: EngineError| proptest::test_runner::TestCaseError::fail(e.to_string());
            let (prepared, taken) = (owned.map_err(fail)?, taken.map_err(fail)?);
            proptest::prop_assert_eq!(&taken.as_given(), &new);
            proptest::prop_assert_eq!(taken.event(), prepared.event());
            let given = prepared.as_given();
            proptest::prop_assert_eq!(&given, &new);
            proptest::prop_assert_eq!(fingerprint(&given).ok(), fingerprint(&new).ok());
            proptest::prop_assert_eq!(serde_json::to_string(&given).ok(), serde_json::to_string(&new).ok());
            // And the event is the one `place` makes without consuming the order.
            proptest::prop_assert_eq!(prepared.event(), place(&new).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?);
        }
    }

    #[test]
    fn fingerprints_are_a_sha256_of_the_canonical_json_and_legacy_json_still_matches() {
        let first = OrderCommand::Hold {
            reason: HoldReason::AddressCheck,
            note: Some("check the address".into()),
        };
        let other = OrderCommand::Hold {
            reason: HoldReason::AddressCheck,
            note: Some("another note".into()),
        };
        let fresh = fingerprint(&first).unwrap();
        assert!(fresh.starts_with("sha256:"));
        assert_eq!(fresh.len(), "sha256:".len() + 64);
        assert!(fresh["sha256:".len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        // Exactly the SHA-256 of the command's JSON, whatever pieces it is hashed in:
        // fingerprints already stored must keep matching.
        let json = serde_json::to_string(&first).unwrap();
        let whole: String = Sha256::digest(json.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(fresh, format!("sha256:{whole}"));
        // Deterministic, and different commands differ.
        assert_eq!(fresh, fingerprint(&first).unwrap());
        assert_ne!(fresh, fingerprint(&other).unwrap());
        assert!(same_fingerprint(&fresh, &fresh, &first));
        assert!(!same_fingerprint(
            &fingerprint(&other).unwrap(),
            &fresh,
            &first
        ));
        // A record saved before fingerprints were hashed holds the command's JSON: the
        // same command still matches it, another does not.
        let legacy = serde_json::to_string(&first).unwrap();
        assert!(same_fingerprint(&legacy, &fresh, &first));
        assert!(!same_fingerprint(
            &legacy,
            &fingerprint(&other).unwrap(),
            &other
        ));
    }
}
