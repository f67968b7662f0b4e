//! Ports: the narrow, synchronous traits through which the core meets the world.
//!
//! - [`Clock`]: the time. The domain never reads the wall clock itself.
//! - [`IdGenerator`]: new order ids and serial numbers (a parcel's SSCC). Outbox records
//!   need none: theirs are made of what they announce (`{order}:{version}`,
//!   `stock:{partition}:{seq}:{k}`, `document:{number}`), unique across processes.
//! - [`Store`]: load and save aggregates with an expected version; a stale version is a
//!   typed conflict; everything in one [`ChangeSet`] is saved atomically or not at all.
//! - [`Outbox`]: effects for the host to perform and acknowledge (send a message, push
//!   stock to a channel), written in the same atomic save as the change that caused them.
//! - Keyed records ([`KeyedRecord`], [`RecordWrite`]): small versioned JSON documents a
//!   capability beside the order keeps in the same store (a channel's identifier map and
//!   intake log), so it survives restarts and is shared by processes on every store.
//!
//! In-memory implementations ship in [`memory`]; they serve tests, demos and hosts that
//! keep state in process, and can be told to fail so error paths are tested.

pub mod dump;
pub mod memory;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, OrderId, VariantId};
use crate::invoice::InvoiceDocument;
use crate::order::{Actor, EventRecordRef, Order, OrderEvent, OrderEventRecord, OrderStatus};
use crate::stock::StockLogEntry;

/// The time, for the engine. Contract: returns UTC; successive calls never go backwards
/// within one clock instance (implementations clamp if the system clock does).
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// New unique ids for orders.
///
/// Contract: never returns the same id twice for the same `kind`, across every engine
/// that shares a store and across restarts (the database stores implement it with
/// blocks of a persistent sequence; [`memory::SequentialIds`] only within one process).
/// Fails only when the source of ids (a database) is unavailable.
pub trait IdGenerator: Send + Sync {
    /// A new id for `kind` (`"order"`), e.g. `"order-000042"`.
    fn next_id(&self, kind: &str) -> Result<String, StoreError>;

    /// [`IdGenerator::next_id`] for a caller that copies the text at once (the engine,
    /// into the id every copy of the order shares): the new id is lent to `take`
    /// instead of returned, so a generator that puts its ids together on the stack
    /// allocates nothing for them. The same contract as `next_id`; the default lends
    /// what `next_id` returns.
    ///
    /// ```
    /// use ordersmith::ports::{memory::SequentialIds, IdGenerator};
    ///
    /// let ids = SequentialIds::new();
    /// let mut seen = String::new();
    /// ids.lend_next_id("order", &mut |id| seen.push_str(id))?;
    /// assert_eq!(seen, "order-000001");
    /// assert_eq!(ids.next_id("order")?, "order-000002");
    /// # Ok::<(), ordersmith::ports::StoreError>(())
    /// ```
    fn lend_next_id(&self, kind: &str, take: &mut dyn FnMut(&str)) -> Result<(), StoreError> {
        take(&self.next_id(kind)?);
        Ok(())
    }
}

/// Ids from blocks of a persistent sequence (hi-lo), for stores that implement
/// [`IdGenerator`]: one round trip reserves a block of ids, handed out in memory. The
/// first block of a kind holds [`IdBlocks::BLOCK`] ids and each next one twice as many,
/// up to [`IdBlocks::MAX_BLOCK`]: a shop placing a few orders reserves few, a bulk import
/// pays one round trip (one sync on a durable store) per thousand ids, not per 64. A
/// restart abandons the rest of its block, so ids may have gaps but never repeat. Ids
/// read `"{kind}-{n:06}"`, like [`memory::SequentialIds`].
///
/// A store that commits in groups can also reserve the next block *ahead*, inside a
/// transaction it commits anyway. Once half of a kind's block is used,
/// [`IdBlocks::wanted`] names the kind with the size of its next block; the store
/// reserves that many in its next commit and hands them over with
/// [`IdBlocks::reserved_ahead`] once the commit is durable (or gives the request up with
/// [`IdBlocks::abandon`]). The block in use then ends by moving to the spare one, with no
/// round trip and no sync of its own on the writer's path; a block that runs out before
/// its spare arrives reserves in place, and the blocks reserved ahead of it grow, up to
/// [`IdBlocks::MAX_AHEAD_BLOCK`], until their spares come in time. A restart abandons
/// the rest of the block in use and the spare; a kind that took fewer than half of its
/// first block's ids asked for nothing ahead. Stores that never ask for
/// [`IdBlocks::wanted`] work as before.
///
/// ```
/// use ordersmith::ports::IdBlocks;
///
/// let ids = IdBlocks::default();
/// let mut next_free = 1_u64; // the store's persistent sequence
/// let mut reserve = |_: &str, size: u64| {
///     let first = next_free;
///     next_free += size;
///     Ok(first)
/// };
/// assert_eq!(ids.next_id("order", &mut reserve).unwrap(), "order-000001");
/// assert!(ids.wanted().is_empty(), "a kind with 63 ids left asks for none ahead");
/// for _ in 0..31 {
///     ids.next_id("order", |_, _| panic!("no round trip inside a block")).unwrap();
/// }
/// // Half of the first block (64 ids) is used: the store reserves the next block in a
/// // commit it makes anyway...
/// for (kind, size) in ids.wanted() {
///     assert_eq!((kind.as_str(), size), ("order", 128));
///     let first = reserve(&kind, size).unwrap();
///     // ...and hands it over once that commit is durable.
///     ids.reserved_ahead(&kind, first, size);
/// }
/// for _ in 0..32 {
///     ids.next_id("order", |_, _| panic!("no round trip inside a block")).unwrap();
/// }
/// // The first block has run out; the spare (128 ids from 65) takes over.
/// let id = ids.next_id("order", |_, _| panic!("the spare block is used")).unwrap();
/// assert_eq!(id, "order-000065");
/// ```
#[derive(Default)]
pub struct IdBlocks {
    current: std::sync::Mutex<std::collections::HashMap<String, KindBlocks>>,
}

/// One kind's blocks in an [`IdBlocks`].
#[derive(Debug, Clone, Copy)]
struct KindBlocks {
    /// The next id to hand out.
    next: u64,
    /// One past the last id of the block in use.
    end: u64,
    /// How many ids the block in use holds.
    len: u64,
    /// The size of the next block reserved.
    size: u64,
    /// A block reserved ahead, durable, not yet in use: (first, end).
    spare: Option<(u64, u64)>,
    /// Where a reservation ahead stands.
    ahead: Ahead,
}

/// Where a kind's reservation ahead stands (see [`IdBlocks::wanted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ahead {
    /// Nothing asked: the kind has a spare block, or has not started one.
    Idle,
    /// A spare block is wanted; no store has taken the request yet.
    Wanted,
    /// A store is reserving the spare block in a commit not yet decided.
    InFlight,
}

impl IdBlocks {
    /// Ids reserved by the first round trip of a kind.
    pub const BLOCK: u64 = 64;
    /// The largest block reserved in one round trip.
    pub const MAX_BLOCK: u64 = 1_024;
    /// The largest block reserved ahead. Blocks reserved ahead grow past
    /// [`IdBlocks::MAX_BLOCK`] only while their spare comes too late (the block in use
    /// ran out while its next block was being reserved): a bulk import, which asks for
    /// the next block when half of one is used and gets it a commit or two later, needs
    /// blocks that outlast a few batches of [`crate::engine::WRITE_BATCH`] orders; a shop
    /// placing orders one by one never needs more than before.
    pub const MAX_AHEAD_BLOCK: u64 = 8_192;

    fn lock(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, std::collections::HashMap<String, KindBlocks>>, StoreError>
    {
        self.current.lock().map_err(|_| StoreError::Unavailable {
            reason: "id block lock poisoned by a panicking thread".to_string(),
        })
    }

    /// The next id of `kind`; `reserve(kind, size)` must atomically reserve `size`
    /// fresh numbers in the store and return the first. It is called only when the
    /// block in use has run out and no block reserved ahead is there to take over.
    pub fn next_id(
        &self,
        kind: &str,
        reserve: impl FnOnce(&str, u64) -> Result<u64, StoreError>,
    ) -> Result<String, StoreError> {
        let mut current = self.lock()?;
        let block = current.entry(kind.to_string()).or_insert(KindBlocks {
            next: 0,
            end: 0,
            len: 0,
            size: Self::BLOCK,
            spare: None,
            ahead: Ahead::Idle,
        });
        if block.next >= block.end {
            if let Some((first, end)) = block.spare.take() {
                (block.next, block.end) = (first, end);
            } else {
                let size = block.size.min(Self::MAX_BLOCK);
                let first = reserve(kind, size)?;
                (block.next, block.end) = (first, first.saturating_add(size));
                block.size = if block.ahead == Ahead::InFlight {
                    // The spare is late: the ids go faster than a commit comes round, so
                    // the blocks reserved ahead grow past MAX_BLOCK.
                    (block.size * 2).min(Self::MAX_AHEAD_BLOCK)
                } else {
                    (size * 2).min(Self::MAX_BLOCK).max(block.size)
                };
            }
            block.len = block.end - block.next;
        }
        let n = block.next;
        block.next += 1;
        // Half the block is used: the next one is wanted ahead, so a kind that takes a
        // few ids and stops (a script, a restart) asks for no more than it did before.
        if block.spare.is_none()
            && block.ahead == Ahead::Idle
            && block.end - block.next <= block.len / 2
        {
            block.ahead = Ahead::Wanted;
        }
        Ok(format!("{kind}-{n:06}"))
    }

    /// The kinds that want a block reserved ahead, each with the size to reserve, for a
    /// store to reserve in the next transaction it commits. Each request is handed out
    /// once: it is then in flight until [`IdBlocks::reserved_ahead`] or
    /// [`IdBlocks::abandon`]. Empty (and no allocation) when nothing is wanted.
    pub fn wanted(&self) -> Vec<(String, u64)> {
        let Ok(mut current) = self.lock() else {
            return Vec::new();
        };
        current
            .iter_mut()
            .filter(|(_, block)| block.ahead == Ahead::Wanted)
            .map(|(kind, block)| {
                block.ahead = Ahead::InFlight;
                (kind.clone(), block.size)
            })
            .collect()
    }

    /// Hands over `size` ids of `kind` from `first`, reserved ahead by a commit that is
    /// now durable: the block in use moves to them when it runs out.
    pub fn reserved_ahead(&self, kind: &str, first: u64, size: u64) {
        let Ok(mut current) = self.lock() else {
            return;
        };
        if let Some(block) = current.get_mut(kind) {
            block.spare = Some((first, first.saturating_add(size)));
            block.size = (size * 2).min(Self::MAX_BLOCK).max(block.size);
            block.ahead = Ahead::Idle;
        }
    }

    /// Gives up a reservation ahead of `kind` whose commit was not saved: nothing of it
    /// is used, and the next [`IdBlocks::wanted`] asks for it again.
    pub fn abandon(&self, kind: &str) {
        let Ok(mut current) = self.lock() else {
            return;
        };
        if let Some(block) = current.get_mut(kind) {
            if block.ahead == Ahead::InFlight {
                block.ahead = Ahead::Wanted;
            }
        }
    }
}

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum StoreError {
    /// Someone else saved the aggregate since it was read. Reload and retry.
    #[error("{aggregate} was changed concurrently: expected version {expected}, found {actual}")]
    Conflict {
        /// Which aggregate, e.g. `order o-1`.
        aggregate: String,
        /// The version the save expected.
        expected: u64,
        /// The version in the store.
        actual: u64,
    },
    /// The idempotency key was recorded by a concurrent save. Reload and retry.
    #[error("idempotency key {key:?} was taken concurrently")]
    KeyTaken {
        /// The key.
        key: String,
    },
    /// The store cannot be reached or refused the operation; nothing was saved.
    #[error("store unavailable: {reason}")]
    Unavailable {
        /// Why.
        reason: String,
    },
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {reason}")]
    Corrupt {
        /// Why.
        reason: String,
    },
}

impl StoreError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "STORE_VERSION_CONFLICT",
        "STORE_KEY_TAKEN",
        "STORE_UNAVAILABLE",
        "STORE_CORRUPT",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Conflict { .. } => "STORE_VERSION_CONFLICT",
            Self::KeyTaken { .. } => "STORE_KEY_TAKEN",
            Self::Unavailable { .. } => "STORE_UNAVAILABLE",
            Self::Corrupt { .. } => "STORE_CORRUPT",
        }
    }

    /// True when reloading and retrying may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Conflict { .. } | Self::KeyTaken { .. })
    }
}

/// One order's part of a [`ChangeSet`]: its new events and its state after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    /// The version the caller read; 0 for a new order.
    pub expected_version: u64,
    /// New events, versions `expected_version + 1 ..`.
    pub events: NewEvents,
    /// The order after applying `events` (its `version` is the last event's).
    pub snapshot: Order,
}

impl OrderChange {
    /// Whether the events are the snapshot's order's and follow `expected_version`
    /// (what every store relies on when it numbers their rows).
    pub fn events_follow(&self) -> bool {
        self.events.order_id() == &self.snapshot.id
            && self.events.first_version() == self.expected_version.saturating_add(1)
    }
}

/// How a run of [`NewEvents`] was recorded: what every event one write records shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recording {
    /// When (the write's time).
    pub(crate) recorded_at: DateTime<Utc>,
    /// Who caused the events.
    pub(crate) actor: Actor,
    /// The idempotency key of the command, if any.
    pub(crate) idempotency_key: Option<Box<str>>,
}

impl Recording {
    /// Event `version` of `order_id`, recorded this way, as a store reads it.
    pub(crate) fn view<'a>(
        &'a self,
        order_id: &'a OrderId,
        version: u64,
        event: &'a OrderEvent,
    ) -> EventRecordRef<'a> {
        EventRecordRef {
            order_id,
            version,
            recorded_at: self.recorded_at,
            actor: &self.actor,
            idempotency_key: self.idempotency_key.as_deref(),
            event,
        }
    }

    /// Whether an event recorded at `at`, by `actor`, under `key` belongs to this run.
    fn same(&self, at: DateTime<Utc>, actor: &Actor, key: Option<&str>) -> bool {
        self.recorded_at == at && &self.actor == actor && self.idempotency_key.as_deref() == key
    }
}

/// A run of [`NewEvents`]: its recording, from event `start` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventRun {
    pub(crate) recording: Recording,
    pub(crate) start: u32,
}

/// The new events of one order in a change set, versions `first_version()` on, in
/// order: each run of them that one write recorded under one recording (one time,
/// actor and idempotency key, kept once), and the events themselves side by side. A
/// store reads each as an [`EventRecordRef`] (`for event in &change.events`), whose
/// JSON is the [`OrderEventRecord`]'s; the memory store keeps the events as they come.
/// (Records, one per event, repeated the order, time, actor and key in each, and were
/// copied once more into what the store keeps.)
///
/// ```
/// use chrono::Utc;
/// use ordersmith::ids::OrderId;
/// use ordersmith::order::{Actor, OrderEvent};
/// use ordersmith::ports::NewEvents;
///
/// let order = OrderId::parse("order-000001")?;
/// let mut events = NewEvents::new(order.clone(), 3); // the order is at version 3
/// let now = Utc::now();
/// events.push(now, &Actor::System, None, OrderEvent::Confirmed);
/// events.push(now, &Actor::System, None, OrderEvent::Completed);
/// let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
/// assert_eq!(versions, [4, 5]);
/// assert_eq!(events.get(5).map(|e| e.event), Some(&OrderEvent::Completed));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct NewEvents {
    order_id: OrderId,
    first_version: u64,
    runs: smallvec::SmallVec<[EventRun; 1]>,
    events: Vec<OrderEvent>,
}

impl NewEvents {
    /// No events yet, for `order_id` read at `expected_version` (0: a new order).
    pub fn new(order_id: OrderId, expected_version: u64) -> Self {
        NewEvents {
            order_id,
            first_version: expected_version.saturating_add(1),
            runs: smallvec::SmallVec::new(),
            events: Vec::new(),
        }
    }

    /// `events`, all recorded at `at` by `actor` under `key`, moved in as they are.
    pub fn recorded(
        order_id: OrderId,
        expected_version: u64,
        at: DateTime<Utc>,
        actor: &Actor,
        key: Option<&str>,
        events: Vec<OrderEvent>,
    ) -> Self {
        let mut recorded = NewEvents::new(order_id, expected_version);
        recorded.events = events;
        if !recorded.events.is_empty() {
            recorded.start_run_at(at, actor, key, 0);
        }
        recorded
    }

    /// Room for `more` events.
    pub fn reserve(&mut self, more: usize) {
        self.events.reserve(more);
    }

    /// The events of `records`, which must be of `order_id` and number the versions
    /// after `expected_version` one by one; anything else is [`StoreError::Corrupt`] (a
    /// dump or a fixture that does not hold together).
    pub fn from_records(
        order_id: OrderId,
        expected_version: u64,
        records: impl IntoIterator<Item = OrderEventRecord>,
    ) -> Result<Self, StoreError> {
        let mut events = NewEvents::new(order_id, expected_version);
        for record in records {
            events.push_record(record)?;
        }
        Ok(events)
    }

    /// Appends an event recorded at `at` by `actor` under `key`, continuing the last
    /// run when it was recorded the same way.
    pub fn push(&mut self, at: DateTime<Utc>, actor: &Actor, key: Option<&str>, event: OrderEvent) {
        self.start_run(at, actor, key);
        self.events.push(event);
    }

    /// [`NewEvents::push`] for several events recorded the same way.
    pub fn extend(
        &mut self,
        at: DateTime<Utc>,
        actor: &Actor,
        key: Option<&str>,
        events: impl IntoIterator<Item = OrderEvent>,
    ) {
        let appended: Result<(), std::convert::Infallible> =
            self.record_with(at, actor, key, |all| {
                all.extend(events);
                Ok(())
            });
        let Ok(()) = appended;
    }

    /// Appends `record`, which must be this order's next version.
    pub fn push_record(&mut self, record: OrderEventRecord) -> Result<(), StoreError> {
        let next = self.next_version();
        if record.order_id != self.order_id || record.version != next {
            return Err(StoreError::Corrupt {
                reason: format!(
                    "event {} of order {} where event {next} of order {} was due",
                    record.version, record.order_id, self.order_id
                ),
            });
        }
        let OrderEventRecord {
            recorded_at,
            actor,
            idempotency_key,
            event,
            ..
        } = record;
        self.push(recorded_at, &actor, idempotency_key.as_deref(), event);
        Ok(())
    }

    /// Appends `later`, the same order's events from this one's next version on;
    /// anything else is [`StoreError::Corrupt`] and changes nothing.
    pub fn append(&mut self, later: NewEvents) -> Result<(), StoreError> {
        if later.order_id != self.order_id || later.first_version != self.next_version() {
            return Err(StoreError::Corrupt {
                reason: format!(
                    "events {}.. of order {} cannot follow events up to {} of order {}",
                    later.first_version,
                    later.order_id,
                    self.next_version().saturating_sub(1),
                    self.order_id
                ),
            });
        }
        let NewEvents { runs, events, .. } = later;
        let base = self.events.len();
        self.events.extend(events);
        for run in runs {
            let start = base + run.start as usize;
            let r = run.recording;
            self.start_run_at(r.recorded_at, &r.actor, r.idempotency_key.as_deref(), start);
        }
        Ok(())
    }

    /// Records the event at `index` (0: the first of these) as caused by `actor`,
    /// splitting its run (an automation rule's events carry the rule as their actor).
    /// Nothing happens for an index past the end.
    pub fn set_actor(&mut self, index: usize, actor: Actor) {
        let Some(at) = self.run_of(index) else {
            return;
        };
        let end = self.run_end(at);
        let Some(run) = self.runs.get_mut(at) else {
            return;
        };
        if run.recording.actor == actor {
            return;
        }
        // The run becomes up to three: its events before `index`, `index` with the
        // actor, its events after `index`.
        let kept = run.recording.clone();
        let mut changed = kept.clone();
        changed.actor = actor;
        let mut at = at;
        if (run.start as usize) < index {
            at += 1;
            self.runs.insert(
                at,
                EventRun {
                    recording: changed,
                    start: to_u32(index),
                },
            );
        } else {
            run.recording = changed;
        }
        if index + 1 < end {
            self.runs.insert(
                at + 1,
                EventRun {
                    recording: kept,
                    start: to_u32(index + 1),
                },
            );
        }
    }

    /// The order.
    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }

    /// The first event's version (the order's version before them, plus one).
    pub fn first_version(&self) -> u64 {
        self.first_version
    }

    /// The version the next event would take.
    pub fn next_version(&self) -> u64 {
        self.first_version.saturating_add(self.events.len() as u64)
    }

    /// How many events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The events alone, in order.
    pub fn events(&self) -> &[OrderEvent] {
        &self.events
    }

    /// The event of `version`, as stored, if these hold it.
    pub fn get(&self, version: u64) -> Option<EventRecordRef<'_>> {
        let index = usize::try_from(version.checked_sub(self.first_version)?).ok()?;
        let event = self.events.get(index)?;
        let run = self.runs.get(self.run_of(index)?)?;
        Some(self.view(run, version, event))
    }

    /// Each event as stored, in order.
    pub fn iter(&self) -> NewEventsIter<'_> {
        NewEventsIter {
            events: self,
            index: 0,
            run: 0,
        }
    }

    /// Each event as an owned record.
    pub fn to_records(&self) -> Vec<OrderEventRecord> {
        self.iter().map(|e| e.to_record()).collect()
    }

    /// The runs and the events, for a store that keeps them as they are.
    pub(crate) fn into_parts(self) -> (u64, smallvec::SmallVec<[EventRun; 1]>, Vec<OrderEvent>) {
        (self.first_version, self.runs, self.events)
    }

    fn view<'a>(
        &'a self,
        run: &'a EventRun,
        version: u64,
        event: &'a OrderEvent,
    ) -> EventRecordRef<'a> {
        run.recording.view(&self.order_id, version, event)
    }

    /// The run holding event `index`.
    fn run_of(&self, index: usize) -> Option<usize> {
        if index >= self.events.len() {
            return None;
        }
        self.runs
            .partition_point(|run| run.start as usize <= index)
            .checked_sub(1)
    }

    /// Where run `r`'s events end.
    fn run_end(&self, r: usize) -> usize {
        self.runs
            .get(r + 1)
            .map_or(self.events.len(), |next| next.start as usize)
    }

    /// Appends the events `write` pushes onto these as one run recorded as given (none
    /// when it pushes nothing), so a write's step raises its events where the change
    /// set keeps them. On an error what `write` pushed is taken off again.
    pub(crate) fn record_with<T, E>(
        &mut self,
        at: DateTime<Utc>,
        actor: &Actor,
        key: Option<&str>,
        write: impl FnOnce(&mut Vec<OrderEvent>) -> Result<T, E>,
    ) -> Result<T, E> {
        let start = self.events.len();
        let written = write(&mut self.events);
        if written.is_err() {
            self.events.truncate(start);
        } else if self.events.len() > start {
            self.start_run_at(at, actor, key, start);
        }
        written
    }

    /// Makes sure the last run is recorded as given, for an event about to be pushed.
    fn start_run(&mut self, at: DateTime<Utc>, actor: &Actor, key: Option<&str>) {
        let at_index = self.events.len();
        self.start_run_at(at, actor, key, at_index);
    }

    /// Starts a run at event `start` (the events from it on were just appended), unless
    /// the last run is recorded the same way.
    fn start_run_at(&mut self, at: DateTime<Utc>, actor: &Actor, key: Option<&str>, start: usize) {
        if self
            .runs
            .last()
            .is_some_and(|run| run.recording.same(at, actor, key))
        {
            return;
        }
        self.runs.push(EventRun {
            recording: Recording {
                recorded_at: at,
                actor: actor.clone(),
                idempotency_key: key.map(Box::from),
            },
            start: to_u32(start),
        });
    }
}

/// An event's index in a change set, which a store's `has_room` keeps within 32 bits.
fn to_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl<'a> IntoIterator for &'a NewEvents {
    type Item = EventRecordRef<'a>;
    type IntoIter = NewEventsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Equal when they hold the same events recorded the same way, however the runs were
/// split (an actor set on one event splits its run; the records are what count).
impl PartialEq for NewEvents {
    fn eq(&self, other: &Self) -> bool {
        self.order_id == other.order_id
            && self.first_version == other.first_version
            && self.len() == other.len()
            && self.iter().eq(other.iter())
    }
}

impl Eq for NewEvents {}

/// [`NewEvents::iter`]: each event as an [`EventRecordRef`], in order.
#[derive(Debug, Clone)]
pub struct NewEventsIter<'a> {
    events: &'a NewEvents,
    index: usize,
    run: usize,
}

impl<'a> Iterator for NewEventsIter<'a> {
    type Item = EventRecordRef<'a>;

    fn next(&mut self) -> Option<EventRecordRef<'a>> {
        let all = self.events;
        let event = all.events.get(self.index)?;
        while all
            .runs
            .get(self.run + 1)
            .is_some_and(|next| next.start as usize <= self.index)
        {
            self.run += 1;
        }
        let run = all.runs.get(self.run)?;
        let version = all.first_version.checked_add(self.index as u64)?;
        self.index += 1;
        Some(all.view(run, version, event))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.events.events.len().saturating_sub(self.index);
        (left, Some(left))
    }
}

/// A record of a command that carried an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// The key.
    pub key: String,
    /// The command it was used with, as canonical JSON (or its digest); a different
    /// command with the same key is a conflict. Borrowed when it is a constant (a
    /// placement's, `placed-event`), so saving one allocates nothing.
    pub fingerprint: std::borrow::Cow<'static, str>,
    /// The order the command acted on.
    pub order_id: OrderId,
    /// The order's version right after the command: its first result.
    pub order_version: u64,
}

/// An effect for the host to perform, e.g. tell a channel an order shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// Unique id; acknowledge with it.
    pub id: String,
    /// What kind of effect, e.g. `"order.confirmed"`.
    pub topic: String,
    /// The aggregate it concerns, e.g. an order id.
    pub aggregate_id: String,
    /// The aggregate's version that caused it.
    pub aggregate_version: u64,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// The data, as JSON.
    pub payload_json: String,
}

impl OutboxRecord {
    /// The record that tells the host about an order event: id `"<order>:<version>"`
    /// (unique without a generator: an order's versions never repeat), the event's
    /// topic, and the whole event record as JSON.
    pub fn for_order_event<'a>(
        record: impl Into<EventRecordRef<'a>>,
    ) -> Result<OutboxRecord, StoreError> {
        let record = record.into();
        Ok(OutboxRecord {
            id: format!("{}:{}", record.order_id, record.version),
            topic: record.event.topic().to_string(),
            aggregate_id: record.order_id.to_string(),
            aggregate_version: record.version,
            created_at: record.recorded_at,
            payload_json: serde_json::to_string(&record).map_err(|e| StoreError::Corrupt {
                reason: format!("an order event could not be written as JSON: {e}"),
            })?,
        })
    }

    /// The record announcing an order event, rebuilt from what a store keeps of it: the
    /// id, topic and order of its row, the event's version, and the event record's JSON
    /// (which holds its time and is its payload). Equal to what
    /// [`OutboxRecord::for_order_event`] made, so a store can save an announcement
    /// without a document of its own. JSON that is not an event record is
    /// [`StoreError::Corrupt`].
    pub fn from_stored_announcement(
        id: String,
        topic: String,
        aggregate_id: String,
        version: u64,
        event_json: String,
    ) -> Result<OutboxRecord, StoreError> {
        /// The one field read; the rest of the record is skipped.
        #[derive(Deserialize)]
        struct RecordedAt {
            recorded_at: DateTime<Utc>,
        }
        let at: RecordedAt =
            serde_json::from_str(&event_json).map_err(|e| StoreError::Corrupt {
                reason: format!("the event record announced by {id:?} is not valid JSON: {e}"),
            })?;
        Ok(OutboxRecord {
            id,
            topic,
            aggregate_id,
            aggregate_version: version,
            created_at: at.recorded_at,
            payload_json: event_json,
        })
    }
}

/// An outbox record as a [`ChangeSet`] carries it.
///
/// Most records announce an order event the same change set saves; those name the
/// event instead of carrying a copy of it as JSON, and the store writes it as
/// [`OutboxRecord::for_order_event`] does — when it commits (a database store) or when
/// the host reads the outbox (the memory store). Each event is then serialised once,
/// not once for its record and again for its announcement, and held once in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxWrite {
    /// A record with its payload ready (stock alerts, documents issued, restores).
    Record(OutboxRecord),
    /// The announcement of the order event saved in this change set for `order_id`
    /// at `version`.
    OrderEvent {
        /// The order the event belongs to.
        order_id: OrderId,
        /// The event's version.
        version: u64,
    },
}

impl From<OutboxRecord> for OutboxWrite {
    fn from(record: OutboxRecord) -> Self {
        OutboxWrite::Record(record)
    }
}

/// New entries for the stock log, appended only if the log is still where the caller saw
/// it.
///
/// Two ways to check "still where the caller saw it" (ADR 0012):
/// - **The whole log** (memory, SQLite, and any append without `places`): the log must
///   hold exactly `expected_seq` entries.
/// - **By partition** (PostgreSQL, when `places` is given): each entry names its
///   [`StockPlace`]; an append of variant entries needs only those variants' partitions
///   (and the global partition) unchanged, so writers of different variants never wait
///   for each other. An append with a global entry needs the whole log unchanged. A
///   reservation made by hand (a `Reserve` without an order in a variant partition)
///   claims its id for that partition; the append is a [`StoreError::Conflict`] when
///   another partition holds the id, so the writer catches up and decides again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockAppend {
    /// The number of entries the caller had applied; the first new entry is
    /// `expected_seq + 1` in the whole log's count.
    pub expected_seq: u64,
    /// The entries, with gapless sequence numbers after `expected_seq`.
    pub entries: Vec<StockLogEntry>,
    /// The place of each entry, one per entry, as the engine assigned them; empty when
    /// the writer did not partition (every entry is then global, in order).
    pub places: Vec<StockPlace>,
}

/// Where a stock log entry stands in a log partitioned by variant (ADR 0012).
///
/// An entry that changes one plain variant's stock (receive, adjust, a reservation of it,
/// an order's or one made by hand, and its commit or release, ...) lives in that
/// variant's partition; anything that may touch more (a location, a bundle, an expiry
/// sweep, a count, a channel) is global. A store that partitions must keep a reservation
/// id made by hand in one partition: the first append that makes it claims it for its
/// partition, and an append of another partition that makes the same id is refused as
/// a conflict (orders' reservation ids are unique by construction). Every reader applies an
/// entry only once everything it depends on is applied, so all readers agree on each
/// variant's history and on every global entry's position, whatever order the store
/// hands entries out in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StockPlace {
    /// The variant, or `None` for a global entry.
    pub partition: Option<crate::ids::VariantId>,
    /// Its number within its partition (global entries count among themselves), from 1,
    /// gapless.
    pub seq: u64,
    /// What it was decided on: for a variant entry, the number of global entries before
    /// it; for a global entry, the number of entries of every partition before it.
    pub basis: u64,
}

/// A reader's position in the stock log, for [`Store::stock_log_read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StockCursor {
    /// Entries the reader has applied (its own included).
    pub applied: u64,
    /// What the store returned from the reader's last read (0 at first).
    pub watermark: u64,
}

/// The receiver of [`Store::stock_log_read`]: each entry, with its place when the store
/// keeps places (`None`: the entry comes in the one log order and is next).
pub type StockSink<'a> =
    dyn FnMut(StockLogEntry, Option<StockPlace>) -> Result<(), StoreError> + 'a;

/// A small versioned JSON document kept beside the orders: what a capability outside
/// the order aggregate needs to remember (a channel's identifier map, its intake log).
///
/// Records live in namespaces (one per capability and purpose, e.g.
/// `channels.listing`); within one, a key names one record. The version starts at 1 when
/// a record is created and grows by one on every write, like an aggregate's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedRecord {
    /// The namespace, e.g. `channels.listing`.
    pub namespace: String,
    /// The key within the namespace.
    pub key: String,
    /// 1 after the first write, then one more per write.
    pub version: u64,
    /// The document, as JSON.
    pub value_json: String,
}

/// A write of one [`KeyedRecord`] inside a [`ChangeSet`], applied only if the record is
/// still at `expected_version` (0: it must not exist); otherwise the whole change set is
/// refused with [`StoreError::Conflict`] and nothing is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordWrite {
    /// The namespace.
    pub namespace: String,
    /// The key.
    pub key: String,
    /// The version the writer read; 0 when it saw no record.
    pub expected_version: u64,
    /// The new document, or `None` to delete the record.
    pub value_json: Option<String>,
}

impl RecordWrite {
    /// The aggregate name a conflict on this write reports.
    pub fn aggregate(&self) -> String {
        format!("record {}/{}", self.namespace, self.key)
    }
}

/// A new invoice or credit note for a [`ChangeSet`], taking the next number of its series.
///
/// The document's `series` and `sequence` name the number; the store saves it only if
/// the series still ends at `expected_last` (and `sequence` is `expected_last + 1`),
/// otherwise the whole commit is a [`StoreError::Conflict`] on `invoice series ...`.
/// Taking the number in the commit that saves the document is what keeps series
/// gapless: a failed commit takes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentAppend {
    /// The last number of the series the caller saw (0 for a new series).
    pub expected_last: u64,
    /// The document.
    pub document: InvoiceDocument,
}

/// Everything one engine call saves, atomically.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeSet {
    /// Orders changed.
    pub orders: Vec<OrderChange>,
    /// Stock commands executed.
    pub stock: Option<StockAppend>,
    /// Idempotency keys used.
    pub idempotency: Vec<IdempotencyRecord>,
    /// Effects to perform.
    pub outbox: Vec<OutboxWrite>,
    /// Keyed records written (created, replaced or deleted).
    pub records: Vec<RecordWrite>,
    /// Invoices and credit notes issued, each taking its series' next number.
    pub documents: Vec<DocumentAppend>,
}

/// [`ChangeSet::announcements`]: finds the events a change set's announcements name,
/// each search starting where the previous one succeeded.
pub struct Announcements<'a> {
    orders: &'a [OrderChange],
    next: usize,
}

impl<'a> Announcements<'a> {
    /// The event saved in the change set for `order_id` at `version`, as
    /// [`ChangeSet::announced_event`] gives it (the same error when there is none).
    pub fn event(
        &mut self,
        order_id: &OrderId,
        version: u64,
    ) -> Result<EventRecordRef<'a>, StoreError> {
        let n = self.orders.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            let Some(change) = self.orders.get(i) else {
                break;
            };
            if &change.snapshot.id != order_id {
                continue;
            }
            // Order ids are unique in a change set: this is the only place to look.
            return match change.events.get(version) {
                Some(event) => {
                    self.next = i;
                    Ok(event)
                }
                None => Err(not_saved(order_id, version)),
            };
        }
        Err(not_saved(order_id, version))
    }
}

/// The error for an announcement of an event the change set does not save.
fn not_saved(order_id: &OrderId, version: u64) -> StoreError {
    StoreError::Corrupt {
        reason: format!(
            "an outbox record names event {version} of order {order_id}, \
             which this change set does not save"
        ),
    }
}

impl ChangeSet {
    /// The outbox records to write, each [`OutboxWrite::OrderEvent`] resolved against
    /// the events of this change set. A reference to an event the change set does not
    /// save is [`StoreError::Corrupt`] (an engine bug), and nothing is written.
    pub fn outbox_records(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut announced = self.announcements();
        self.outbox
            .iter()
            .map(|write| match write {
                OutboxWrite::Record(record) => Ok(record.clone()),
                OutboxWrite::OrderEvent { order_id, version } => {
                    OutboxRecord::for_order_event(announced.event(order_id, *version)?)
                }
            })
            .collect()
    }

    /// Resolves this change set's [`OutboxWrite::OrderEvent`]s one after the other, as
    /// [`ChangeSet::announced_event`] does, in time linear in the change set when they
    /// come in the order of its orders (as the engine writes them): each search starts
    /// at the order the previous one found. Asking for each announcement of a batch of
    /// n orders from the start was n²/2 comparisons of order ids per commit.
    pub fn announcements(&self) -> Announcements<'_> {
        Announcements {
            orders: &self.orders,
            next: 0,
        }
    }

    /// The event an [`OutboxWrite::OrderEvent`] names: saved in this change set for
    /// `order_id` at `version`. Any other reference is [`StoreError::Corrupt`] (an
    /// engine bug), so a store refuses the change set before writing anything.
    pub fn announced_event(
        &self,
        order_id: &OrderId,
        version: u64,
    ) -> Result<EventRecordRef<'_>, StoreError> {
        self.announcements().event(order_id, version)
    }

    /// True when there is nothing to save.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.stock.as_ref().is_none_or(|s| s.entries.is_empty())
            && self.idempotency.is_empty()
            && self.outbox.is_empty()
            && self.records.is_empty()
            && self.documents.is_empty()
    }
}

/// A change set handed to [`Store::submit`]: decided (saved durably, or refused) when
/// [`Store::wait`] returns its outcome.
///
/// Stores that save each change set as it comes (the default) hand back a decided
/// ticket. A store with group commit queues the change set and saves it in one
/// transaction, and one sync, with the others that arrived meanwhile; every waiter
/// learns its own outcome. Clones share the outcome.
#[derive(Debug, Clone)]
pub struct CommitTicket(TicketState);

#[derive(Debug, Clone)]
enum TicketState {
    Done(Result<(), StoreError>),
    Pending(std::sync::Arc<PendingTicket>),
}

/// What the clones of a pending ticket share: the outcome, and the change set a store
/// hands back with it.
#[derive(Debug, Default)]
struct PendingTicket {
    outcome: std::sync::OnceLock<Result<(), StoreError>>,
    given_back: std::sync::Mutex<Option<ChangeSet>>,
}

impl CommitTicket {
    /// A ticket already decided with `outcome`.
    pub fn done(outcome: Result<(), StoreError>) -> Self {
        CommitTicket(TicketState::Done(outcome))
    }

    /// A ticket a store decides later with [`CommitTicket::decide`].
    pub fn pending() -> Self {
        CommitTicket(TicketState::Pending(Default::default()))
    }

    /// The outcome, once decided.
    pub fn outcome(&self) -> Option<Result<(), StoreError>> {
        match &self.0 {
            TicketState::Done(outcome) => Some(outcome.clone()),
            TicketState::Pending(shared) => shared.outcome.get().cloned(),
        }
    }

    /// Records the outcome (for stores); `false` if the ticket was already decided, in
    /// which case the first outcome stands.
    pub fn decide(&self, outcome: Result<(), StoreError>) -> bool {
        match &self.0 {
            TicketState::Done(_) => false,
            TicketState::Pending(shared) => shared.outcome.set(outcome).is_ok(),
        }
    }

    /// For stores that save on another thread than the submitter's (group commit):
    /// hands the change set back with the ticket, before deciding it, so that its
    /// submitter frees it (see [`CommitTicket::take_back`]) or, failing that, the last
    /// clone of the ticket. A change set is many small blocks its submitter allocated,
    /// and glibc's allocator makes a thread that frees another thread's blocks contend
    /// for that thread's arena, block by block, while it allocates the next one. A
    /// ticket made decided ([`CommitTicket::done`]) keeps nothing: the change set is
    /// dropped here.
    pub fn give_back(&self, changes: ChangeSet) {
        if let TicketState::Pending(shared) = &self.0 {
            if let Ok(mut slot) = shared.given_back.lock() {
                *slot = Some(changes);
            }
        }
    }

    /// The change set a store handed back with this ticket, if any, for the caller to
    /// free on its own thread.
    ///
    /// ```
    /// use ordersmith::ports::{ChangeSet, CommitTicket};
    ///
    /// let ticket = CommitTicket::pending();
    /// let seen_by_the_store = ticket.clone();
    /// seen_by_the_store.give_back(ChangeSet::default());
    /// seen_by_the_store.decide(Ok(()));
    /// assert!(ticket.take_back().is_some());
    /// assert!(ticket.take_back().is_none());
    /// ```
    pub fn take_back(&self) -> Option<ChangeSet> {
        match &self.0 {
            TicketState::Done(_) => None,
            TicketState::Pending(shared) => shared.given_back.lock().ok()?.take(),
        }
    }

    /// True when `other` is this ticket or a clone of it.
    pub fn same(&self, other: &CommitTicket) -> bool {
        match (&self.0, &other.0) {
            (TicketState::Pending(a), TicketState::Pending(b)) => std::sync::Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The refusal of a change set submitted after `after` when `after` was refused: it
    /// was decided on a state that was never saved.
    pub fn refused_after_predecessor() -> StoreError {
        StoreError::Conflict {
            aggregate: "an earlier change set of the same writer".to_string(),
            expected: 1,
            actual: 0,
        }
    }
}

/// Filter and page for listing orders.
///
/// Matches come in a total order: by `placed_at`, then id. A page continues after
/// [`OrderQuery::after`], the [`OrderCursor`] of the last order of the previous page, so
/// walking pages visits every match exactly once even while orders are placed (keyset
/// paging; an offset would skip or repeat orders that arrive meanwhile).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrderQuery {
    /// Only orders in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    /// Only orders from this channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelId>,
    /// Placed at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_from: Option<DateTime<Utc>>,
    /// Placed strictly before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_to: Option<DateTime<Utc>>,
    /// Only orders strictly after this position (the previous page's last order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<OrderCursor>,
    /// Skip this many matches (after `after`).
    #[serde(default)]
    pub offset: usize,
    /// At most this many results: [`DEFAULT_PAGE_SIZE`] when `None`. The engine refuses
    /// more than [`MAX_QUERY_LIMIT`]; see [`OrderQuery::effective_limit`] for stores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// Largest page the engine returns; a larger `limit` is an error, never a silent cut.
pub const MAX_QUERY_LIMIT: usize = 10_000;

/// Page size when a query names none.
pub const DEFAULT_PAGE_SIZE: usize = 100;

impl OrderQuery {
    /// How many orders a store returns for this query: `limit` (or
    /// [`DEFAULT_PAGE_SIZE`]), bounded at one more than [`MAX_QUERY_LIMIT`] so the
    /// engine can look one order ahead to tell whether another page follows, and a
    /// store never reads without bound.
    pub fn effective_limit(&self) -> usize {
        self.limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .min(MAX_QUERY_LIMIT + 1)
    }

    /// True when `order` passes the filter and lies after the cursor (ignores offset
    /// and limit).
    pub fn matches(&self, order: &Order) -> bool {
        self.status.is_none_or(|s| order.status == s)
            && self.channel.as_ref().is_none_or(|c| &order.channel == c)
            && self.placed_from.is_none_or(|t| order.placed_at >= t)
            && self.placed_to.is_none_or(|t| order.placed_at < t)
            && self.after.as_ref().is_none_or(|c| c.is_before(order))
    }
}

/// A position in the order of listings (`placed_at`, then id): the last order of a page.
///
/// Hosts pass it around as an opaque [`OrderCursor::token`] string and read it back with
/// [`OrderCursor::parse`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderCursor {
    /// When the order was placed.
    pub placed_at: DateTime<Utc>,
    /// The order.
    pub id: OrderId,
}

impl OrderCursor {
    /// The position of `order`.
    pub fn of(order: &Order) -> Self {
        OrderCursor {
            placed_at: order.placed_at,
            id: order.id.clone(),
        }
    }

    /// True when `order` comes strictly after this position.
    pub fn is_before(&self, order: &Order) -> bool {
        (order.placed_at, &order.id) > (self.placed_at, &self.id)
    }

    /// The cursor as a string for hosts: `"{seconds}.{nanoseconds}.{id}"`.
    pub fn token(&self) -> String {
        format!(
            "{}.{:09}.{}",
            self.placed_at.timestamp(),
            self.placed_at.timestamp_subsec_nanos(),
            self.id
        )
    }

    /// Reads a [`OrderCursor::token`]; `None` if it is not one.
    pub fn parse(token: &str) -> Option<Self> {
        let mut parts = token.splitn(3, '.');
        let secs: i64 = parts.next()?.parse().ok()?;
        let nanos_text = parts.next()?;
        if nanos_text.len() != 9 {
            return None;
        }
        let nanos: u32 = nanos_text.parse().ok()?;
        let id = OrderId::parse(parts.next()?).ok()?;
        Some(OrderCursor {
            placed_at: DateTime::from_timestamp(secs, nanos)?,
            id,
        })
    }
}

/// [`Store::stock_log_read`]'s default: [`Store::stock_log_since`] from
/// `cursor.applied` in pages of 10,000, each entry without a place (a store with one
/// gapless, commit-ordered log). A store that overrides the read for a fast path falls
/// back to this.
pub(crate) fn read_stock_log_in_pages<S: Store + ?Sized>(
    store: &S,
    cursor: StockCursor,
    sink: &mut StockSink<'_>,
) -> Result<u64, StoreError> {
    let mut after = cursor.applied;
    loop {
        let batch = store.stock_log_since(after, 10_000)?;
        if batch.is_empty() {
            return Ok(0);
        }
        for entry in batch {
            after = entry.seq;
            sink(entry, None)?;
        }
    }
}

/// Persistence of aggregates.
///
/// Contract:
/// - `load_order` returns `Ok(None)` for an unknown id, never an error.
/// - `commit` saves the whole [`ChangeSet`] or nothing. For each order it first checks
///   that the stored version equals `expected_version` (0 = must not exist) and returns
///   [`StoreError::Conflict`] otherwise; likewise the stock log must still end at
///   [`StockAppend::expected_seq`] (a partitioning store checks the partitions of
///   [`StockAppend::places`] instead; see [`StockAppend`]). An idempotency key that already exists gives
///   [`StoreError::KeyTaken`]. Events and log entries are appended, never rewritten.
///   Each [`RecordWrite`] needs its record at `expected_version` (0 = absent), else
///   [`StoreError::Conflict`] naming [`RecordWrite::aggregate`]; a written record's
///   version becomes `expected_version + 1`, a deleted one is gone (a later create
///   starts at 1 again). Two writes of one record in one change set are refused as a
///   conflict.
/// - `submit` + `wait` is `commit` in two steps (ADR 0012): a store may save the change
///   sets submitted meanwhile in one transaction (one sync), applying them in submission
///   order, each checked and saved or refused on its own exactly as by `commit`; `wait`
///   returns `Ok` only once its change set is saved. A change set submitted `after` a
///   refused one is refused with a [`StoreError::Conflict`]. The defaults commit at once.
/// - Reads see only committed data; a commit is visible to every later read.
/// - `query_orders` returns matches ([`OrderQuery::matches`], so strictly after
///   [`OrderQuery::after`]) ordered by `placed_at`, then id (byte order), skipping
///   `offset` of them and returning at most [`OrderQuery::effective_limit`].
/// - `order_ids` and `idempotency_records` list everything stored in ascending byte
///   order of the id or key (Rust's `str` order, SQL's `COLLATE "C"`), strictly after
///   the cursor, at most `limit`: paging with the last item returned visits each item
///   exactly once. They serve export ([`dump`]) and maintenance, not hot paths.
///   `keyed_records` pages a namespace the same way.
/// - Documents ([`DocumentAppend`]): `commit` checks each series ends at
///   `expected_last` (several appends to one series in a change set follow each other)
///   and that no document number exists yet, else [`StoreError::Conflict`]. Documents are
///   never changed once saved. `document_series_last` is 0 for an unknown series;
///   `load_document` is `Ok(None)` for an unknown number; `order_documents` lists an
///   order's documents by issue time, invoices before credit notes issued at the same
///   time, then by sequence (an unknown order has none); `documents` lists every document by
///   series then sequence, strictly after the `(series, sequence)` cursor, at most `limit`.
pub trait Store: Send + Sync {
    /// The order at its latest version.
    fn load_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError>;
    /// Those of `ids` that are stored, each at its latest version, in any order: an id
    /// not stored is absent. A batch of commands loads its orders at once (one query,
    /// one round trip) instead of one [`Store::load_order`] per command; the default
    /// loads them one by one.
    fn load_orders(&self, ids: &[&OrderId]) -> Result<Vec<Order>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(order) = self.load_order(id)? {
                found.push(order);
            }
        }
        Ok(found)
    }
    /// The order's events in version order (empty for an unknown id).
    fn order_events(&self, id: &OrderId) -> Result<Vec<OrderEventRecord>, StoreError>;
    /// Orders matching the query, ordered by placed time then id.
    fn query_orders(&self, query: &OrderQuery) -> Result<Vec<Order>, StoreError>;
    /// How many stored orders other than `except` count toward the customer under
    /// `customer_key` ([`Order::customer_key`]) and were placed at or before `until`:
    /// what a rule's `customer_order_count` reads on every write it runs for.
    ///
    /// The default walks every order placed until then (correct for any store, and
    /// as slow as the history is long); a store that keeps orders by customer answers
    /// from there.
    fn customer_order_count(
        &self,
        customer_key: &str,
        until: DateTime<Utc>,
        except: &OrderId,
    ) -> Result<u64, StoreError> {
        let mut query = OrderQuery {
            // `placed_to` is exclusive: orders placed in the same instant count too.
            placed_to: Some(until + chrono::Duration::nanoseconds(1)),
            limit: Some(MAX_QUERY_LIMIT),
            ..OrderQuery::default()
        };
        let mut count = 0u64;
        loop {
            let page = self.query_orders(&query)?;
            for order in &page {
                if order.id != *except && order.customer_key().as_deref() == Some(customer_key) {
                    count += 1;
                }
            }
            match page.last() {
                Some(last) if page.len() == MAX_QUERY_LIMIT => {
                    query.after = Some(OrderCursor::of(last));
                }
                _ => return Ok(count),
            }
        }
    }
    /// The record for an idempotency key, if seen.
    fn idempotency_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
    /// The records of those of `keys` that are stored, in any order: a key not stored
    /// is absent. A batch placement asks for every key of its orders at once (one
    /// query, one round trip) instead of one [`Store::idempotency_record`] per order;
    /// the default asks key by key.
    fn idempotency_records_for(&self, keys: &[&str]) -> Result<Vec<IdempotencyRecord>, StoreError> {
        let mut found = Vec::new();
        for key in keys {
            if let Some(record) = self.idempotency_record(key)? {
                found.push(record);
            }
        }
        Ok(found)
    }
    /// Whether a write that takes an idempotency key (a keyed command, a placement with
    /// a channel reference) should skip looking the key up before it is decided, and
    /// let the commit find out: every store refuses a change set whose key is taken
    /// ([`StoreError::KeyTaken`], nothing saved). The engine then decides the write
    /// again with the lookup, as it does when such a write fails as decided (a repeat
    /// of a saved call may be refused where its first answer stands), and counts that
    /// against no limit: the repeat gets its first answer, a mismatch its error. Worth
    /// it where a lookup is a round trip to a server and a new key is the common case;
    /// the default says no.
    fn defers_key_lookups(&self) -> bool {
        false
    }
    /// Whether a write whose every stock decision is checked by the entries it appends
    /// (a batch of reservations made, committed or released by hand; a new order
    /// placed and confirmed with every line reserved in full) may skip reading the
    /// stock log first when the engine's last read found nothing new. Every store
    /// refuses an append made on heads that moved since the writer saw them
    /// ([`StoreError::Conflict`], nothing saved), each entry's partition and the global
    /// log alike, so such a write cannot save a decision made on stale stock: the
    /// engine reads and decides it again, counted against no limit, and a decision that
    /// fails is decided again on a fresh read before it is answered (a refusal is only
    /// given on stock read for it). The engine reads at least every few such writes, so
    /// what a read brings stays small. Worth it where a read is a round trip to a
    /// server; the default says no.
    fn checks_stock_at_commit(&self) -> bool {
        false
    }
    /// Up to `limit` stock log entries after sequence `after_seq`, in order.
    fn stock_log_since(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StockLogEntry>, StoreError>;
    /// Catches a reader up: passes `sink` every stock log entry committed since the
    /// reader's last read at `cursor`, and returns the watermark for its next read.
    ///
    /// Contract: every entry committed before this call and not passed to an earlier
    /// read at a cursor this reader got from the store is passed now; an entry may be
    /// passed again (the reader skips it by its place). Entries without a place come in
    /// the log's one order, starting right after `cursor.applied`. The default reads
    /// [`Store::stock_log_since`] from `cursor.applied` in pages of 10,000 (stores that
    /// keep one gapless, commit-ordered log).
    fn stock_log_read(
        &self,
        cursor: StockCursor,
        sink: &mut StockSink<'_>,
    ) -> Result<u64, StoreError> {
        read_stock_log_in_pages(self, cursor, sink)
    }
    /// Whether [`Store::load_order_reading_stock`] loads the order and reads the stock
    /// log as of one moment, in one request. A write about to change an order's stock
    /// (a confirmation, a cancellation, a shipment) then asks for both at once instead
    /// of loading the order and reading the log apart: one round trip fewer where each
    /// is a round trip to a server. The default says no.
    fn loads_order_reading_stock(&self) -> bool {
        false
    }
    /// [`Store::load_order`] and [`Store::stock_log_read`] at `cursor` together: the
    /// order (or `None`) and the watermark for the reader's next read. A store that
    /// answers yes to [`Store::loads_order_reading_stock`] reads both as of one moment
    /// (the order is never older than the entries passed); the default loads, then
    /// reads.
    fn load_order_reading_stock(
        &self,
        id: &OrderId,
        cursor: StockCursor,
        sink: &mut StockSink<'_>,
    ) -> Result<(Option<Order>, u64), StoreError> {
        let order = self.load_order(id)?;
        Ok((order, self.stock_log_read(cursor, sink)?))
    }
    /// Saves a change set atomically.
    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError>;
    /// Hands a change set to the store to be saved like [`Store::commit`], possibly in
    /// one transaction (one sync) with others submitted meanwhile (group commit);
    /// [`Store::wait`] returns its outcome. Change sets are applied in the order they
    /// were submitted, each all or nothing on its own: a refused one (a stale version)
    /// does not refuse the others. With `after` (an earlier submission of the same
    /// writer, whose unsaved effects this one was decided on), it is refused with a
    /// [`StoreError::Conflict`] when `after` was refused. The default commits at once.
    fn submit(&self, changes: ChangeSet, after: Option<&CommitTicket>) -> CommitTicket {
        if let Some(Err(_)) = after.and_then(CommitTicket::outcome) {
            return CommitTicket::done(Err(CommitTicket::refused_after_predecessor()));
        }
        CommitTicket::done(self.commit(changes))
    }
    /// Whether [`Store::submit`] queues change sets that a thread waiting in
    /// [`Store::wait`] packs and saves (group commit), rather than saving them at once.
    /// A scheduling hint: a batch call on such a store already keeps a second thread
    /// busy with saving, so it starts no thread of its own to prepare orders unless
    /// the machine has a core for each. The default says no, as the default `submit`
    /// commits at once.
    fn commits_in_groups(&self) -> bool {
        false
    }
    /// May do, on the calling thread, the part of saving a submitted change set that
    /// needs no write lock (a store that packs documents packs them), so that the
    /// thread that waits for it in [`Store::wait`] has less left to do. A pipelined batch
    /// call calls it for each batch it submits, once its writer is released and before
    /// it hands the ticket to its waiting thread; a store does the work here only while
    /// its saving side is busy (the SQLite store: while a group is being committed), so
    /// the deciding thread takes work off the saving one only when that one is behind.
    /// Returns without waiting for other commits, and never changes an outcome. The
    /// default does nothing.
    fn prepare(&self, ticket: &CommitTicket) {
        let _ = ticket;
    }
    /// Waits until the calling thread holds the turn to write the stock of `variants`
    /// among every writer sharing the store, in this process or another; the store's
    /// calls from this thread then run in that turn until [`Store::end_stock_turn`].
    ///
    /// The engine asks for a turn after a write lost a race on those variants' stock
    /// (their partitions moved under it, ADR 0012): its retries then queue behind the
    /// other writers of the same variants instead of racing them again, so writers of
    /// one hot variant land one after another instead of losing most of their rounds.
    /// Only a scheduling aid: every write is still checked against the heads it was
    /// decided on, so a store may hand out turns loosely (or, as the default does, not
    /// at all: it returns at once).
    fn begin_stock_turn(&self, variants: &[VariantId]) -> Result<(), StoreError> {
        let _ = variants;
        Ok(())
    }
    /// Ends the calling thread's turn ([`Store::begin_stock_turn`]); nothing when it
    /// holds none. The default does nothing.
    fn end_stock_turn(&self) {}
    /// Blocks until a submitted change set is decided and returns its outcome: `Ok` only
    /// once it is saved as durably as a [`Store::commit`] that returned.
    fn wait(&self, ticket: &CommitTicket) -> Result<(), StoreError> {
        ticket.outcome().unwrap_or_else(|| {
            Err(StoreError::Unavailable {
                reason: "a pending commit was handed to a store that does not queue commits"
                    .to_string(),
            })
        })
    }
    /// Ids of stored orders in ascending byte order, strictly after `after` (from the
    /// first when `None`), at most `limit`.
    fn order_ids(&self, after: Option<&OrderId>, limit: usize) -> Result<Vec<OrderId>, StoreError>;
    /// Idempotency records in ascending byte order of their key, strictly after `after`
    /// (from the first when `None`), at most `limit`.
    fn idempotency_records(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IdempotencyRecord>, StoreError>;
    /// The keyed record `key` of `namespace`, if stored.
    fn keyed_record(&self, namespace: &str, key: &str) -> Result<Option<KeyedRecord>, StoreError>;
    /// Records of `namespace` in ascending byte order of their key, strictly after
    /// `after` (from the first when `None`), at most `limit`.
    fn keyed_records(
        &self,
        namespace: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KeyedRecord>, StoreError>;
    /// The namespaces holding at least one record, in ascending byte order.
    fn record_namespaces(&self) -> Result<Vec<String>, StoreError>;
    /// The last number taken in an invoice series (0 when none was).
    fn document_series_last(&self, series: &str) -> Result<u64, StoreError>;
    /// The invoice or credit note with this number.
    fn load_document(&self, number: &str) -> Result<Option<InvoiceDocument>, StoreError>;
    /// An order's invoices and credit notes by issue time, invoices first, then sequence.
    fn order_documents(&self, order: &OrderId) -> Result<Vec<InvoiceDocument>, StoreError>;
    /// Every document by series then sequence, strictly after `after`, at most `limit`.
    fn documents(
        &self,
        after: Option<(&str, u64)>,
        limit: usize,
    ) -> Result<Vec<InvoiceDocument>, StoreError>;
}

/// The host's side of the outbox.
///
/// Contract: `pending` returns unacknowledged records oldest first and does not remove
/// them (a host that crashes before acknowledging sees them again: at-least-once);
/// `acknowledge` removes one and returns whether it was pending (acknowledging twice is
/// harmless).
pub trait Outbox: Send + Sync {
    /// Up to `limit` unacknowledged records, oldest first.
    fn pending(&self, limit: usize) -> Result<Vec<OutboxRecord>, StoreError>;
    /// Marks a record done.
    fn acknowledge(&self, id: &str) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    mod new_events {
        use super::*;
        use chrono::TimeZone;

        fn actor(k: u8) -> Actor {
            match k % 4 {
                0 => Actor::System,
                1 => Actor::Customer,
                2 => Actor::User("ana".into()),
                _ => Actor::Rule("vip".into()),
            }
        }

        fn event(k: u64) -> OrderEvent {
            if k.is_multiple_of(2) {
                OrderEvent::Confirmed
            } else {
                OrderEvent::NoteAdded {
                    note: format!("note {k}"),
                }
            }
        }

        /// One write: (events, second, actor, key).
        type Write = (usize, u32, u8, Option<u8>);

        fn writes() -> impl Strategy<Value = Vec<Write>> {
            proptest::collection::vec(
                (0usize..4, 0u32..2, 0u8..3, proptest::option::of(0u8..2)),
                0..8,
            )
        }

        /// The writes as `NewEvents` built by `push`/`extend`, and as the records a
        /// change set used to hold, one per event.
        fn build(after: u64, writes: &[Write]) -> (NewEvents, Vec<OrderEventRecord>) {
            let id = OrderId::parse("o-1").unwrap();
            let mut new = NewEvents::new(id.clone(), after);
            let mut records = Vec::new();
            for (i, (n, second, a, key)) in writes.iter().enumerate() {
                let at = Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, *second).unwrap();
                let key = key.map(|k| format!("key-{k}"));
                let events: Vec<OrderEvent> = (0..*n as u64).map(|k| event(k + i as u64)).collect();
                for e in &events {
                    records.push(OrderEventRecord {
                        order_id: id.clone(),
                        version: after + 1 + records.len() as u64,
                        recorded_at: at,
                        actor: actor(*a),
                        idempotency_key: key.as_deref().map(Box::from),
                        event: e.clone(),
                    });
                }
                if i % 2 == 0 {
                    new.extend(at, &actor(*a), key.as_deref(), events);
                } else {
                    for e in events {
                        new.push(at, &actor(*a), key.as_deref(), e);
                    }
                }
            }
            (new, records)
        }

        proptest! {
            /// However the events were recorded, they read back as the records would:
            /// in order, each by its version, each view's JSON the record's own; set
            /// actors, appended writes and records pushed one by one agree too.
            #[test]
            fn events_read_back_as_their_records(
                after in 0u64..5,
                first in writes(),
                later in writes(),
                actors in proptest::collection::vec((0usize..12, 0u8..4), 0..4),
            ) {
                let (mut new, mut records) = build(after, &first);
                for (index, a) in actors {
                    new.set_actor(index, actor(a));
                    if let Some(r) = records.get_mut(index) {
                        r.actor = actor(a);
                    }
                }
                let (more, more_records) = build(new.next_version() - 1, &later);
                new.append(more).unwrap();
                records.extend(more_records);
                prop_assert_eq!(new.len(), records.len());
                prop_assert_eq!(new.to_records(), records.clone());
                for (view, record) in new.iter().zip(&records) {
                    prop_assert_eq!(
                        serde_json::to_string(&view).unwrap(),
                        serde_json::to_string(record).unwrap()
                    );
                    prop_assert_eq!(new.get(record.version), Some(view));
                }
                prop_assert_eq!(new.get(after), None);
                prop_assert_eq!(new.get(new.next_version()), None);
                let again = NewEvents::from_records(
                    OrderId::parse("o-1").unwrap(),
                    after,
                    records.clone(),
                )
                .unwrap();
                prop_assert_eq!(&again, &new);
                prop_assert_eq!(again.to_records(), records);
            }
        }

        // A step writing into the change's events: one run recorded as given for
        // what it pushed, none for nothing, and nothing left of a failed one.
        #[test]
        fn events_written_in_place_are_one_run_and_a_failed_write_leaves_none() {
            let (mut new, mut records) = build(2, &[(2, 0, 0, None)]);
            let at = Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 7).unwrap();
            let before = new.clone();
            let failed: Result<(), &str> = new.record_with(at, &actor(2), Some("k"), |events| {
                events.push(event(1));
                Err("refused")
            });
            assert_eq!(failed, Err("refused"));
            assert_eq!(new, before);
            let nothing: Result<(), ()> = new.record_with(at, &actor(2), None, |_| Ok(()));
            assert_eq!((nothing, &new), (Ok(()), &before));
            let pushed: Result<usize, ()> = new.record_with(at, &actor(2), Some("k"), |events| {
                events.extend([event(1), event(2)]);
                Ok(events.len())
            });
            assert_eq!(pushed, Ok(4));
            for (k, e) in [event(1), event(2)].into_iter().enumerate() {
                records.push(OrderEventRecord {
                    order_id: OrderId::parse("o-1").unwrap(),
                    version: 5 + k as u64,
                    recorded_at: at,
                    actor: actor(2),
                    idempotency_key: Some("k".into()),
                    event: e,
                });
            }
            assert_eq!(new.to_records(), records);
        }

        #[test]
        fn events_that_do_not_follow_are_refused_and_change_nothing() {
            let (mut new, records) = build(2, &[(2, 0, 0, None)]);
            let before = new.clone();
            // A gap, another order, the same versions again.
            let (gap, _) = build(5, &[(1, 0, 0, None)]);
            assert!(matches!(new.append(gap), Err(StoreError::Corrupt { .. })));
            let other = NewEvents::new(OrderId::parse("o-2").unwrap(), 4);
            assert!(matches!(new.append(other), Err(StoreError::Corrupt { .. })));
            let mut again = records[0].clone();
            assert!(matches!(
                new.push_record(again.clone()),
                Err(StoreError::Corrupt { .. })
            ));
            again.version = 5;
            again.order_id = OrderId::parse("o-2").unwrap();
            assert!(new.push_record(again).is_err());
            assert_eq!(new, before);
            assert_eq!(
                NewEvents::from_records(OrderId::parse("o-1").unwrap(), 3, records).map(|_| ()),
                Err(StoreError::Corrupt {
                    reason: "event 3 of order o-1 where event 4 of order o-1 was due".into()
                })
            );
        }
    }

    /// A store's persistent sequence of one kind: reserves ranges and remembers them.
    #[derive(Default)]
    struct Sequence {
        next_free: u64,
        /// Every range reserved: (first, size, ahead).
        reserved: Vec<(u64, u64, bool)>,
    }

    impl Sequence {
        fn reserve(&mut self, size: u64, ahead: bool) -> u64 {
            let first = self.next_free + 1;
            self.next_free += size;
            self.reserved.push((first, size, ahead));
            first
        }
    }

    fn number(id: &str) -> u64 {
        id.rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX)
    }

    /// The number of the next order id, a block reserved in place from `seq` if needed.
    fn next_in_place(ids: &IdBlocks, seq: &mut Sequence) -> u64 {
        let id = ids
            .next_id("order", |_, size| Ok(seq.reserve(size, false)))
            .unwrap();
        number(&id)
    }

    #[test]
    fn without_a_store_asking_ahead_blocks_are_reserved_in_place_as_before() {
        let ids = IdBlocks::default();
        let mut seq = Sequence::default();
        for n in 1..=3_000 {
            assert_eq!(next_in_place(&ids, &mut seq), n);
        }
        let sizes: Vec<u64> = seq.reserved.iter().map(|r| r.1).collect();
        assert_eq!(sizes, [64, 128, 256, 512, 1024, 1024]);
    }

    #[test]
    fn a_kind_that_takes_under_half_a_block_asks_for_nothing_ahead() {
        let ids = IdBlocks::default();
        let mut seq = Sequence::default();
        for _ in 0..31 {
            next_in_place(&ids, &mut seq);
            assert!(ids.wanted().is_empty());
        }
        ids.next_id("order", |_, _| panic!("inside the block"))
            .unwrap();
        assert_eq!(ids.wanted(), [("order".to_string(), 128)]);
        // Handed out once: in flight until reserved or abandoned.
        assert!(ids.wanted().is_empty());
    }

    #[test]
    fn an_abandoned_reservation_is_never_used_and_is_asked_again() {
        let ids = IdBlocks::default();
        let mut seq = Sequence::default();
        for _ in 0..40 {
            next_in_place(&ids, &mut seq);
        }
        assert_eq!(ids.wanted().len(), 1);
        // Its commit failed: nothing was reserved; the next commit is asked again.
        ids.abandon("order");
        ids.abandon("refund"); // an unknown kind is ignored
        assert_eq!(ids.wanted(), [("order".to_string(), 128)]);
        ids.abandon("order");
        ids.abandon("order"); // twice is once
        assert_eq!(ids.wanted(), [("order".to_string(), 128)]);
        ids.abandon("order");
        for _ in 40..64 {
            ids.next_id("order", |_, _| panic!("inside the block"))
                .unwrap();
        }
        assert_eq!(
            next_in_place(&ids, &mut seq),
            65,
            "reserved in place, right after the first block"
        );
    }

    #[test]
    fn late_spares_grow_the_blocks_reserved_ahead_up_to_their_limit() {
        let ids = IdBlocks::default();
        let mut seq = Sequence::default();
        let mut seen = std::collections::HashSet::new();
        // Each request ahead is answered only after the block in use has run out.
        let mut late: Option<u64> = None;
        for _ in 0..200_000 {
            let mut ran_out = false;
            let id = ids
                .next_id("order", |_, size| {
                    ran_out = true;
                    Ok(seq.reserve(size, false))
                })
                .unwrap();
            assert!(seen.insert(number(&id)));
            if ran_out {
                if let Some(size) = late.take() {
                    let first = seq.reserve(size, true);
                    ids.reserved_ahead("order", first, size);
                }
            }
            for (_, size) in ids.wanted() {
                late = Some(size);
            }
        }
        let ahead: Vec<u64> = seq.reserved.iter().filter(|r| r.2).map(|r| r.1).collect();
        let in_place: Vec<u64> = seq.reserved.iter().filter(|r| !r.2).map(|r| r.1).collect();
        assert!(in_place.iter().all(|&s| s <= IdBlocks::MAX_BLOCK));
        assert!(ahead.iter().all(|&s| s <= IdBlocks::MAX_AHEAD_BLOCK));
        assert_eq!(ahead.last(), Some(&IdBlocks::MAX_AHEAD_BLOCK));
    }

    #[test]
    fn spares_in_time_keep_blocks_at_most_max_block() {
        let ids = IdBlocks::default();
        let mut seq = Sequence::default();
        for n in 1..=50_000 {
            assert_eq!(
                next_in_place(&ids, &mut seq),
                n,
                "blocks reserved ahead follow each other"
            );
            for (kind, size) in ids.wanted() {
                let first = seq.reserve(size, true);
                ids.reserved_ahead(&kind, first, size);
            }
        }
        assert_eq!(seq.reserved.iter().filter(|r| !r.2).count(), 1);
        assert!(seq.reserved.iter().all(|r| r.1 <= IdBlocks::MAX_BLOCK));
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// An id from engine 0 or 1 (two processes sharing one sequence).
        Next(usize),
        /// Engine 0 or 1's store takes the wanted requests into its next commit.
        Take(usize),
        /// That commit is durable: the blocks are reserved and handed over.
        Commit(usize),
        /// That commit failed: nothing was reserved.
        Fail(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (0..2_usize).prop_map(Op::Next),
            1 => (0..2_usize).prop_map(Op::Take),
            1 => (0..2_usize).prop_map(Op::Commit),
            1 => (0..2_usize).prop_map(Op::Fail),
        ]
    }

    proptest! {
        /// Whatever the interleaving of ids, requests ahead, commits and failed commits,
        /// across two processes sharing a sequence: no id is handed out twice, and each
        /// lies in a range the sequence reserved.
        #[test]
        fn ids_never_repeat_and_come_from_reserved_ranges(
            ops in prop::collection::vec(op(), 1..600),
        ) {
            let engines = [IdBlocks::default(), IdBlocks::default()];
            let mut seq = Sequence::default();
            let mut taken: [Vec<(String, u64)>; 2] = [Vec::new(), Vec::new()];
            let mut seen = std::collections::HashSet::new();
            for op in ops {
                match op {
                    Op::Next(e) => {
                        let id = engines[e]
                            .next_id("order", |_, size| Ok(seq.reserve(size, false)))
                            .unwrap();
                        let n = number(&id);
                        prop_assert!(seen.insert(n), "{id} handed out twice");
                        prop_assert!(seq
                            .reserved
                            .iter()
                            .any(|&(first, size, _)| (first..first + size).contains(&n)));
                    }
                    Op::Take(e) => taken[e].extend(engines[e].wanted()),
                    Op::Commit(e) => {
                        for (kind, size) in taken[e].drain(..) {
                            let first = seq.reserve(size, true);
                            engines[e].reserved_ahead(&kind, first, size);
                        }
                    }
                    Op::Fail(e) => {
                        for (kind, _) in taken[e].drain(..) {
                            engines[e].abandon(&kind);
                        }
                    }
                }
            }
            for &(_, size, ahead) in &seq.reserved {
                let limit = if ahead { IdBlocks::MAX_AHEAD_BLOCK } else { IdBlocks::MAX_BLOCK };
                prop_assert!(size <= limit);
            }
        }
    }
}
