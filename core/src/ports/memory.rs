//! In-memory ports: a store and outbox, clocks and id generators.
//!
//! [`MemoryStore`] keeps everything behind one `RwLock`: commits are serialised, reads
//! run in parallel. It gives many threads the same guarantees as a database store
//! (version checks, all-or-nothing commits); `benches/` measures what that costs.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::stock::{FastMap, IdIndex};
use std::ops::Bound;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use chrono::{DateTime, Duration, SubsecRound, Utc};

use super::{
    ChangeSet, Clock, IdGenerator, IdempotencyRecord, KeyedRecord, OrderQuery, Outbox,
    OutboxRecord, OutboxWrite, StockCursor, StockSink, Store, StoreError,
};
use crate::engine::PLACED_EVENT;
use crate::ids::{ChannelId, OrderId};
use crate::invoice::InvoiceDocument;
use crate::order::{Order, OrderEventRecord, OrderStatus};

mod history;
mod time_index;
use crate::stock::chunked::Chunked;
use crate::stock::StockLogEntry;
use history::History;
use time_index::TimeIndex;

/// An idempotency record as the memory store keeps it: the key only as the map's key
/// (not twice), a SHA-256 fingerprint as its 32 bytes (not 71 of text). A record is
/// kept for every keyed command and every channel reference, so for every imported
/// order.
struct KeptRecord {
    fingerprint: KeptFingerprint,
    order_id: OrderId,
    order_version: u64,
}

/// A fingerprint as kept: a placement's (`placed-event`: its order's first event is
/// the fingerprint) as nothing, `sha256:` and 64 lower-case hex digits (what the engine
/// writes for other keyed commands) as the digest's bytes, anything else (a record
/// from before fingerprints were hashed) as its text. Each gives back exactly the text
/// it was made from.
enum KeptFingerprint {
    PlacedEvent,
    Sha256([u8; 32]),
    Text(Box<str>),
}

const SHA256_PREFIX: &str = "sha256:";

impl KeptFingerprint {
    fn new(text: std::borrow::Cow<'static, str>) -> Self {
        if text == PLACED_EVENT {
            return KeptFingerprint::PlacedEvent;
        }
        let mut digest = [0u8; 32];
        match text
            .strip_prefix(SHA256_PREFIX)
            .map(|hex| hex.len() == 64 && base16ct::lower::decode(hex, &mut digest).is_ok())
        {
            Some(true) => KeptFingerprint::Sha256(digest),
            _ => KeptFingerprint::Text(text.into_owned().into_boxed_str()),
        }
    }

    fn text(&self) -> std::borrow::Cow<'static, str> {
        match self {
            KeptFingerprint::PlacedEvent => std::borrow::Cow::Borrowed(PLACED_EVENT),
            KeptFingerprint::Sha256(digest) => {
                let mut hex = [0u8; 64];
                let digits = base16ct::lower::encode_str(digest, &mut hex).unwrap_or_default();
                let mut text = String::with_capacity(SHA256_PREFIX.len() + 64);
                text.push_str(SHA256_PREFIX);
                text.push_str(digits);
                text.into()
            }
            KeptFingerprint::Text(text) => text.to_string().into(),
        }
    }
}

impl KeptRecord {
    fn new(record: IdempotencyRecord) -> (Box<str>, Self) {
        let kept = KeptRecord {
            fingerprint: KeptFingerprint::new(record.fingerprint),
            order_id: record.order_id,
            order_version: record.order_version,
        };
        (record.key.into_boxed_str(), kept)
    }

    fn record(&self, key: &str) -> IdempotencyRecord {
        IdempotencyRecord {
            key: key.to_string(),
            fingerprint: self.fingerprint.text(),
            order_id: self.order_id.clone(),
            order_version: self.order_version,
        }
    }
}

/// An outbox entry as the memory store keeps it: the announcements of consecutive
/// events of one order (a write's, usually) as one entry, and the rarer ready record
/// boxed so it does not widen every entry.
enum Pending {
    Record(Box<OutboxRecord>),
    OrderEvents(Announced),
}

/// The announcements of `count` consecutive events of one order, from version
/// `first`; bit `i` of `acked` is set once version `first + i` is acknowledged. One
/// entry of 40 bytes for a write's events, where an entry per event took 32 bytes each
/// (a channel order's first write announces five to eight; a write of one event pays
/// 8 bytes more).
struct Announced {
    order: OrderId,
    first: u64,
    acked: u32,
    count: u8,
}

/// The most announcements one entry holds (the bits of `acked`).
const RUN: u8 = 32;

impl Announced {
    /// Whether it announces event `version` of `order` (acknowledged or not).
    fn holds(&self, order: &OrderId, version: u64) -> bool {
        self.bit(version).is_some() && self.order == *order
    }

    /// The bit of `version` in `acked`, if it is one of these.
    fn bit(&self, version: u64) -> Option<u32> {
        let i = version.checked_sub(self.first)?;
        (i < u64::from(self.count)).then(|| 1u32 << i)
    }

    /// The versions not acknowledged, in order.
    fn pending(&self) -> impl Iterator<Item = u64> + '_ {
        (0..u64::from(self.count))
            .filter(|i| self.acked & (1u32 << i) == 0)
            .map(|i| self.first + i)
    }

    /// The versions it announces, acknowledged or not.
    fn versions(&self) -> std::ops::Range<u64> {
        self.first..self.first + u64::from(self.count)
    }
}

/// One pending item of the outbox: a ready record, or event `version` of `order`
/// (its id is `"<order>:<version>"`).
enum PendingItem<'a> {
    Record(&'a OutboxRecord),
    OrderEvent(&'a OrderId, u64),
}

/// An announced event: its order and version (its id is `"<order>:<version>"`).
type EventKey = (OrderId, u64);

/// The memory store's outbox: entries in commit order, one whose items are all
/// acknowledged left as a gap (`None`) until gaps are half the entries, then squeezed
/// out. An order event's announcement joins the last entry when that entry announces
/// the same order's previous version (a write's events are one entry), else starts one.
/// Announcements are found for their acknowledgement near the head, where an in-order
/// relay acknowledges, or else through [`IdIndex`] (built on first need, an 8-byte
/// entry per announcement), where a `BTreeMap` of entries and a map of (order,
/// version) → position took about 130 bytes per announcement at a million. Positions
/// are indexes into `entries`; squeezing renumbers them and rebuilds the indexes.
#[derive(Default)]
struct OutboxQueue {
    entries: Vec<Option<Pending>>,
    /// Entries before this are all gaps.
    head: usize,
    /// Items (records and announcements) not acknowledged.
    live: usize,
    /// Entries that are not gaps.
    live_entries: usize,
    /// Ready records by id.
    records: FastMap<String, usize>,
    /// Announcements by (order, version); a position whose entry became a gap is not
    /// given back (the index checks the key where it points). Built the first time an
    /// acknowledgement is not found among the first [`AHEAD`] entries from the head,
    /// and kept from then on: a host that acknowledges in order (an outbox relay), and
    /// a store nobody acknowledges from (a bulk import), never pay for it.
    events: Option<IdIndex<EventKey>>,
}

/// Below this many entries, gaps are left alone (squeezing would cost more than it
/// saves); the unit tests squeeze small queues, to go through it often.
const SQUEEZE_FROM: usize = if cfg!(test) { 16 } else { 1024 };

/// How many entries from the head an acknowledgement of an announcement looks at
/// before it builds (or asks) the index; small under test, so both paths run often.
const AHEAD: usize = if cfg!(test) { 4 } else { 64 };

impl OutboxQueue {
    /// Whether `more` entries fit (positions are 32-bit in the index).
    fn has_room(&self, more: usize) -> bool {
        self.entries.len().saturating_add(more) < u32::MAX as usize
    }

    /// Queues a ready record.
    fn push_record(&mut self, record: OutboxRecord) {
        self.live += 1;
        self.push_entry(Pending::Record(Box::new(record)));
    }

    /// Queues the announcement of event `version` of `order`: into the last entry if
    /// that announces the order's previous version and has room, else as a new one.
    fn announce(&mut self, order: OrderId, version: u64) {
        self.live += 1;
        let position = self.entries.len().saturating_sub(1);
        if let Some(Some(Pending::OrderEvents(last))) = self.entries.last_mut() {
            if last.count < RUN
                && last.first.checked_add(u64::from(last.count)) == Some(version)
                && last.order.same(&order)
            {
                last.count += 1;
                if let Some(events) = &mut self.events {
                    // Fits: `has_room` was asked before the commit changed anything.
                    events.insert(
                        &(order, version),
                        u32::try_from(position).unwrap_or(u32::MAX),
                    );
                }
                return;
            }
        }
        self.push_entry(Pending::OrderEvents(Announced {
            order,
            first: version,
            acked: 0,
            count: 1,
        }));
    }

    /// Appends an entry as it is, indexing what it holds.
    fn push_entry(&mut self, pending: Pending) {
        let position = self.entries.len();
        match &pending {
            Pending::Record(record) => {
                self.records.insert(record.id.clone(), position);
            }
            // Fits: `has_room` was asked before the commit changed anything.
            Pending::OrderEvents(announced) => {
                if let Some(events) = &mut self.events {
                    let at = u32::try_from(position).unwrap_or(u32::MAX);
                    for version in announced.versions() {
                        events.insert(&(announced.order.clone(), version), at);
                    }
                }
            }
        }
        self.entries.push(Some(pending));
        self.live_entries += 1;
    }

    /// The items not acknowledged, oldest first.
    fn pending(&self) -> impl Iterator<Item = PendingItem<'_>> {
        self.entries
            .iter()
            .skip(self.head)
            .flatten()
            .flat_map(|entry| {
                let (record, announced) = match entry {
                    Pending::Record(record) => (Some(PendingItem::Record(record)), None),
                    Pending::OrderEvents(announced) => (None, Some(announced)),
                };
                let events = announced.into_iter().flat_map(|a| {
                    a.pending()
                        .map(move |version| PendingItem::OrderEvent(&a.order, version))
                });
                record.into_iter().chain(events)
            })
    }

    /// Acknowledges the record or announcement `id`: whether it was pending.
    fn acknowledge(&mut self, id: &str) -> bool {
        let (position, version) = match self.records.remove(id) {
            Some(position) => (Some(position), None),
            // An order event's announcement: `"<order>:<version>"`.
            None => {
                let Some(key) = id.rsplit_once(':').and_then(|(order, version)| {
                    Some((OrderId::parse(order).ok()?, version.parse::<u64>().ok()?))
                }) else {
                    return false;
                };
                (self.announcement(&key), Some(key.1))
            }
        };
        let Some(slot) = position.and_then(|i| self.entries.get_mut(i)) else {
            return false;
        };
        let emptied = match (slot.as_mut(), version) {
            (Some(Pending::Record(_)), None) => true,
            (Some(Pending::OrderEvents(announced)), Some(version)) => {
                match announced.bit(version) {
                    Some(bit) if announced.acked & bit == 0 => {
                        announced.acked |= bit;
                        announced.acked.count_ones() == u32::from(announced.count)
                    }
                    _ => return false,
                }
            }
            _ => return false,
        };
        self.live -= 1;
        if !emptied {
            return true;
        }
        *slot = None;
        self.live_entries -= 1;
        while self.entries.get(self.head).is_some_and(Option::is_none) {
            self.head += 1;
        }
        if self.entries.len() >= SQUEEZE_FROM && self.live_entries < self.entries.len() / 2 {
            self.squeeze();
        }
        true
    }

    /// The position of the entry announcing `key`: looked for among the first
    /// [`AHEAD`] entries from the head, then through the index (built on first need).
    fn announcement(&mut self, key: &EventKey) -> Option<usize> {
        let (order, version) = (&key.0, key.1);
        let near = self
            .entries
            .iter()
            .enumerate()
            .skip(self.head)
            .take(AHEAD)
            .find(|(_, e)| matches!(e, Some(Pending::OrderEvents(a)) if a.holds(order, version)));
        if let Some((position, _)) = near {
            return Some(position);
        }
        let entries = &self.entries;
        let events = self.events.get_or_insert_with(|| {
            let mut index = IdIndex::default();
            for (position, entry) in entries.iter().enumerate() {
                if let Some(Pending::OrderEvents(announced)) = entry {
                    let at = u32::try_from(position).unwrap_or(u32::MAX);
                    for v in announced.versions() {
                        index.insert(&(announced.order.clone(), v), at);
                    }
                }
            }
            index
        });
        events.position_where(key, |i| {
            matches!(entries.get(i), Some(Some(Pending::OrderEvents(a))) if a.holds(order, version))
        })
    }

    /// Drops the gaps and renumbers what is left (the index, if built, is rebuilt).
    fn squeeze(&mut self) {
        let entries = std::mem::take(&mut self.entries);
        let (indexed, live, live_entries) = (self.events.is_some(), self.live, self.live_entries);
        *self = OutboxQueue::default();
        if indexed {
            self.events = Some(IdIndex::default());
        }
        self.entries.reserve(live_entries);
        for pending in entries.into_iter().flatten() {
            self.push_entry(pending);
        }
        self.live = live;
    }
}

#[derive(Default)]
struct State {
    // foldhash (randomly seeded per map) rather than SipHash: SipHash was a tenth of
    // an in-memory channel import, and the stock ledger already keys its maps this way.
    // Each order's snapshot and events sit behind one box: the table's slots stay 24
    // bytes, so its spare capacity and the copy when it grows cost little, instead of
    // a kilobyte per slot (`Order` is large inline). The events are kept as a
    // `History`: what one write's events share, once.
    orders: FastMap<OrderId, Box<(Order, History)>>,
    /// Orders in listing order (placement time, then id).
    by_time: TimeIndex,
    /// Each customer's orders ([`Order::customer_key`]) by placement time, once a
    /// rule has asked for a count: made by the first question, then kept up by every
    /// commit (a placement's customer never changes), so no write pays for it while
    /// no rule asks.
    by_customer: Option<ByCustomer>,
    /// The orders in each status, and from each channel, in listing order: made by
    /// the first listing that filters on one, then kept up by every commit, so no write
    /// pays for them while no listing asks. Without them such a listing walked every
    /// order placed in its window to find a page of the few in one status.
    by_status: Option<FastMap<OrderStatus, TimeIndex>>,
    by_channel: Option<FastMap<ChannelId, TimeIndex>>,
    /// Idempotency records in the order they were saved (one for every keyed command
    /// and every channel reference, so for every imported order), found by key through
    /// an index of 8-byte entries (32 bits of the key's hash → position, the key checked
    /// in the record). A map of key → record had 72-byte slots: at a million records,
    /// a table of 2²¹ of them (150 bytes per record) where this is ≈ 90.
    idempotency: Vec<(Box<str>, KeptRecord)>,
    idempotency_index: IdIndex<Box<str>>,
    /// In commit order. Order events are held as references into `orders` and written
    /// as JSON only when the host reads them: one copy of each event in memory.
    outbox: OutboxQueue,
    /// Appended to in chunks, so a growing log is never copied to grow.
    stock_log: Chunked<StockLogEntry>,
    /// namespace → key → (version, JSON).
    records: BTreeMap<String, BTreeMap<String, (u64, String)>>,
    /// Invoice series: the last number taken in each.
    series_last: HashMap<String, u64>,
    /// Documents by (series, sequence).
    documents: BTreeMap<(String, u64), InvoiceDocument>,
    /// Document numbers to their (series, sequence).
    document_numbers: HashMap<String, (String, u64)>,
    /// Each order's documents, in the order they were saved.
    order_documents: HashMap<OrderId, Vec<(String, u64)>>,
}

impl State {
    /// The idempotency record saved under `key`.
    fn idempotency_at(&self, key: &str) -> Option<&(Box<str>, KeptRecord)> {
        let records = &self.idempotency;
        self.idempotency_index
            .position(key, |i| records.get(i).map(|(k, _)| k))
            .and_then(|i| records.get(i))
    }
}

/// Which of the listing indexes a query walks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listed {
    /// Every order.
    All,
    /// The orders in the query's status.
    Status,
    /// The orders from the query's channel.
    Channel,
}

impl Listed {
    /// The narrowest index for `query`: its status (most listings that filter, filter
    /// on a status, and a status holds a few of the orders), else its channel.
    fn for_query(query: &OrderQuery) -> Self {
        if query.status.is_some() {
            Listed::Status
        } else if query.channel.is_some() {
            Listed::Channel
        } else {
            Listed::All
        }
    }

    /// Whether `state` holds the index this names.
    fn made(self, state: &State) -> bool {
        match self {
            Listed::All => true,
            Listed::Status => state.by_status.is_some(),
            Listed::Channel => state.by_channel.is_some(),
        }
    }

    /// Makes the index this names from every order held.
    fn make(self, state: &mut State) {
        match self {
            Listed::All => {}
            Listed::Status => state.by_status = Some(grouped(state, |o| o.status)),
            Listed::Channel => state.by_channel = Some(grouped(state, |o| o.channel.clone())),
        }
    }
}

/// Every order held, grouped by `key`, each group in listing order (walked in that
/// order, so each entry is appended).
fn grouped<K: Eq + std::hash::Hash>(
    state: &State,
    key: impl Fn(&Order) -> K,
) -> FastMap<K, TimeIndex> {
    let mut groups: FastMap<K, TimeIndex> = FastMap::default();
    for entry in state.by_time.past(|_| false) {
        if let Some(slot) = state.orders.get(&entry.1) {
            groups
                .entry(key(&slot.0))
                .or_default()
                .insert(entry.clone());
        }
    }
    groups
}

/// Each customer's orders (by [`Order::customer_key`]), sorted by placement time.
type ByCustomer = FastMap<String, Vec<(DateTime<Utc>, OrderId)>>;

/// Adds `order` to its customer's orders (none without a customer), in placement
/// order: usually at the end.
fn index_customer(by_customer: &mut ByCustomer, order: &Order) {
    let Some(key) = order.customer_key() else {
        return;
    };
    let orders = by_customer.entry(key).or_default();
    let at = orders.partition_point(|(t, _)| *t <= order.placed_at);
    orders.insert(at, (order.placed_at, order.id.clone()));
}

/// A [`Store`] and [`Outbox`] in process memory.
#[derive(Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    /// The stock log's length, published (after its entries, under the write lock) by
    /// each commit that appends to it: a reader that has applied that much learns
    /// there is nothing new from one load, without the lock and an empty read.
    stock_len: AtomicU64,
    /// Locked after `state` (for reading), never before it.
    pages: Mutex<Pages>,
    fail_commits: AtomicU32,
    fail_reads: AtomicU32,
}

/// Sorted views of what the store keeps unsorted, for the listings that page through
/// everything by id or by key (a dump, a KPI book): made by a walk's first page and
/// used by its next ones, where each page used to sort everything held to return a
/// few hundred (a dump of a million orders sorted a million ids five thousand times).
/// Orders and idempotency records are only ever added, so how many are held says
/// whether a view is current. A page that reaches the end frees its view.
#[derive(Default)]
struct Pages {
    /// Every order id, in order, and how many orders were held when it was made.
    /// Made again when orders were added since: the map does not say which.
    order_ids: Option<(usize, Vec<OrderId>)>,
    /// The idempotency records' positions in key order, and how many records they
    /// cover: the records added since are sorted and merged in.
    keys: Option<(usize, Vec<u32>)>,
}

impl Pages {
    /// Every order id held, in order.
    fn order_ids(&mut self, state: &State) -> &[OrderId] {
        let held = state.orders.len();
        let current = matches!(&self.order_ids, Some((seen, _)) if *seen == held);
        if !current {
            let mut ids: Vec<OrderId> = state.orders.keys().cloned().collect();
            ids.sort_unstable();
            self.order_ids = Some((held, ids));
        }
        self.order_ids.as_ref().map_or(&[], |(_, ids)| ids)
    }

    /// The positions of every idempotency record held, in key order.
    fn keys(&mut self, state: &State) -> &[u32] {
        let records = &state.idempotency;
        let key = |position: &u32| records.get(*position as usize).map(|(k, _)| k);
        let (seen, sorted) = self.keys.take().unwrap_or_default();
        let held = records.len();
        // Positions fit `u32`: the store refuses records beyond.
        let mut added: Vec<u32> = (seen..held)
            .map(|p| u32::try_from(p).unwrap_or(u32::MAX))
            .collect();
        added.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
        let merged = if sorted.is_empty() {
            added
        } else if added.is_empty() {
            sorted
        } else {
            let mut merged = Vec::with_capacity(sorted.len() + added.len());
            let (mut old, mut new) = (sorted.into_iter().peekable(), added.into_iter().peekable());
            while let (Some(a), Some(b)) = (old.peek(), new.peek()) {
                let next = if key(a) <= key(b) {
                    old.next()
                } else {
                    new.next()
                };
                merged.extend(next);
            }
            merged.extend(old);
            merged.extend(new);
            merged
        };
        &self.keys.insert((held, merged)).1
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Unavailable {
        reason: "memory store lock poisoned by a panicking thread".to_string(),
    }
}

fn take_failure(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `n` commits fail with [`StoreError::Unavailable`] and save nothing.
    pub fn fail_next_commits(&self, n: u32) {
        self.fail_commits.store(n, Ordering::SeqCst);
    }

    /// The next `n` reads fail with [`StoreError::Unavailable`].
    pub fn fail_next_reads(&self, n: u32) {
        self.fail_reads.store(n, Ordering::SeqCst);
    }

    /// Number of orders stored.
    pub fn order_count(&self) -> usize {
        self.state.read().map(|s| s.orders.len()).unwrap_or(0)
    }

    fn check_read(&self) -> Result<(), StoreError> {
        if take_failure(&self.fail_reads) {
            return Err(StoreError::Unavailable {
                reason: "injected read failure".to_string(),
            });
        }
        Ok(())
    }
}

impl Store for MemoryStore {
    fn load_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        Ok(state.orders.get(id).map(|slot| slot.0.clone()))
    }

    fn order_events(&self, id: &OrderId) -> Result<Vec<OrderEventRecord>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        Ok(state
            .orders
            .get(id)
            .map(|slot| slot.1.records(id))
            .unwrap_or_default())
    }

    fn query_orders(&self, query: &OrderQuery) -> Result<Vec<Order>, StoreError> {
        self.check_read()?;
        let listed = Listed::for_query(query);
        let mut state = self.state.read().map_err(poisoned)?;
        if !listed.made(&state) {
            drop(state);
            {
                let mut writing = self.state.write().map_err(poisoned)?;
                if !listed.made(&writing) {
                    listed.make(&mut writing);
                }
            }
            state = self.state.read().map_err(poisoned)?;
        }
        let empty = TimeIndex::default();
        // The orders the query can match, in listing order: all of them, or the ones in
        // its status or from its channel (an index that lacks the value has none).
        let index = match (listed, query.status, &query.channel) {
            (Listed::Status, Some(status), _) => state
                .by_status
                .as_ref()
                .and_then(|by| by.get(&status))
                .unwrap_or(&empty),
            (Listed::Channel, _, Some(channel)) => state
                .by_channel
                .as_ref()
                .and_then(|by| by.get(channel))
                .unwrap_or(&empty),
            _ => &state.by_time,
        };
        let from = query.placed_from.unwrap_or(DateTime::<Utc>::MIN_UTC);
        // Start at the first order the listing can return: right after the cursor,
        // and not before `placed_from` (the index is ordered exactly as listings are,
        // so walking pages or a recent window costs its own length, not its position).
        let after = query.after.as_ref();
        let iter = index
            .past(|(t, id)| *t < from || after.is_some_and(|c| (*t, id) <= (c.placed_at, &c.id)))
            .take_while(|(t, _)| query.placed_to.is_none_or(|end| *t < end))
            .filter_map(|(_, id)| state.orders.get(id).map(|slot| &slot.0))
            .filter(|o| query.matches(o))
            .skip(query.offset)
            .take(query.effective_limit());
        Ok(iter.cloned().collect())
    }

    fn customer_order_count(
        &self,
        customer_key: &str,
        until: DateTime<Utc>,
        except: &OrderId,
    ) -> Result<u64, StoreError> {
        self.check_read()?;
        let count = |state: &State| {
            let orders = state
                .by_customer
                .as_ref()
                .and_then(|by| by.get(customer_key))
                .map_or(&[][..], Vec::as_slice);
            let placed = orders.partition_point(|(at, _)| *at <= until);
            // `except` is among them if it is stored, placed by then, by this customer.
            let own = state.orders.get(except).is_some_and(|slot| {
                slot.0.placed_at <= until && slot.0.customer_key().as_deref() == Some(customer_key)
            });
            (placed as u64).saturating_sub(u64::from(own))
        };
        {
            let state = self.state.read().map_err(poisoned)?;
            if state.by_customer.is_some() {
                return Ok(count(&state));
            }
        }
        let mut state = self.state.write().map_err(poisoned)?;
        if state.by_customer.is_none() {
            let mut by_customer = FastMap::default();
            for slot in state.orders.values() {
                index_customer(&mut by_customer, &slot.0);
            }
            state.by_customer = Some(by_customer);
        }
        Ok(count(&state))
    }

    fn idempotency_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        Ok(state.idempotency_at(key).map(|(_, kept)| kept.record(key)))
    }

    /// Every write catches its engine up first, and with one engine on the store (the
    /// usual case) there is nothing to catch up on: that is settled from the published
    /// length, a read like any other (it counts for [`MemoryStore::fail_next_reads`]).
    /// A commit in flight meanwhile is either seen whole (its length published) or not
    /// at all, as with the lock.
    fn stock_log_read(
        &self,
        cursor: StockCursor,
        sink: &mut StockSink<'_>,
    ) -> Result<u64, StoreError> {
        if cursor.applied >= self.stock_len.load(Ordering::Acquire) {
            self.check_read()?;
            return Ok(0);
        }
        super::read_stock_log_in_pages(self, cursor, sink)
    }

    fn stock_log_since(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StockLogEntry>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        let start = usize::try_from(after_seq).unwrap_or(usize::MAX);
        Ok(state
            .stock_log
            .iter_from(start)
            .take(limit)
            .cloned()
            .collect())
    }

    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        if take_failure(&self.fail_commits) {
            return Err(StoreError::Unavailable {
                reason: "injected commit failure".to_string(),
            });
        }
        let mut state = self.state.write().map_err(poisoned)?;
        // Check everything first, so a refused commit changes nothing.
        for change in &changes.orders {
            if !change.events_follow() {
                return Err(StoreError::Corrupt {
                    reason: format!(
                        "the events of order {} do not follow its version {}",
                        change.snapshot.id, change.expected_version
                    ),
                });
            }
            let stored = state.orders.get(&change.snapshot.id);
            let actual = stored.map_or(0, |slot| slot.0.version);
            if actual != change.expected_version {
                return Err(StoreError::Conflict {
                    aggregate: format!("order {}", change.snapshot.id),
                    expected: change.expected_version,
                    actual,
                });
            }
            if !stored.is_none_or(|slot| slot.1.has_room(change.events.len())) {
                return Err(StoreError::Unavailable {
                    reason: format!(
                        "the memory store holds 2^32 events of order {}",
                        change.snapshot.id
                    ),
                });
            }
        }
        if let Some(stock) = &changes.stock {
            let actual = state.stock_log.len() as u64;
            if actual != stock.expected_seq {
                return Err(StoreError::Conflict {
                    aggregate: "stock log".to_string(),
                    expected: stock.expected_seq,
                    actual,
                });
            }
        }
        if state
            .idempotency
            .len()
            .saturating_add(changes.idempotency.len())
            > u32::MAX as usize
        {
            return Err(StoreError::Unavailable {
                reason: "the memory store holds 2^32 idempotency records".to_string(),
            });
        }
        if !state.outbox.has_room(changes.outbox.len()) {
            return Err(StoreError::Unavailable {
                reason: "the memory store holds 2^32 outbox entries".to_string(),
            });
        }
        // Keys seen in this change set, for a batch's (one command's few compare
        // pairwise, allocating nothing).
        let mut keys: HashSet<&str, foldhash::fast::RandomState> = HashSet::default();
        let few = changes.idempotency.len() <= 8;
        for (i, record) in changes.idempotency.iter().enumerate() {
            let repeated = if few {
                changes
                    .idempotency
                    .iter()
                    .take(i)
                    .any(|r| r.key == record.key)
            } else {
                !keys.insert(&record.key)
            };
            // Taken before, or twice in this change set (a database's unique key
            // refuses both).
            if repeated || state.idempotency_at(&record.key).is_some() {
                return Err(StoreError::KeyTaken {
                    key: record.key.clone(),
                });
            }
        }
        // Every announcement names an event this change set saves (as database stores
        // check when they write its JSON), so reading the outbox cannot fail later.
        let mut announced = changes.announcements();
        for write in &changes.outbox {
            if let OutboxWrite::OrderEvent { order_id, version } = write {
                announced.event(order_id, *version)?;
            }
        }
        let mut written = BTreeSet::new();
        for w in &changes.records {
            let actual = state
                .records
                .get(&w.namespace)
                .and_then(|m| m.get(&w.key))
                .map_or(0, |(v, _)| *v);
            if actual != w.expected_version || !written.insert((&w.namespace, &w.key)) {
                return Err(StoreError::Conflict {
                    aggregate: w.aggregate(),
                    expected: w.expected_version,
                    actual,
                });
            }
        }
        // Several documents of one series in a change set follow each other.
        let mut series_seen: HashMap<&str, u64> = HashMap::new();
        for append in &changes.documents {
            let doc = &append.document;
            let actual = series_seen
                .get(doc.series.as_str())
                .copied()
                .unwrap_or_else(|| state.series_last.get(&doc.series).copied().unwrap_or(0));
            if actual != append.expected_last || doc.sequence != append.expected_last + 1 {
                return Err(StoreError::Conflict {
                    aggregate: format!("invoice series {}", doc.series),
                    expected: append.expected_last,
                    actual,
                });
            }
            if state.document_numbers.contains_key(&doc.number) {
                return Err(StoreError::Conflict {
                    aggregate: format!("document {}", doc.number),
                    expected: 0,
                    actual: 1,
                });
            }
            series_seen.insert(doc.series.as_str(), doc.sequence);
        }
        for change in changes.orders {
            let id = change.snapshot.id.clone();
            let placed = (change.snapshot.placed_at, id.clone());
            let status = change.snapshot.status;
            if change.expected_version == 0 {
                state.by_time.insert(placed.clone());
                if let Some(by_customer) = state.by_customer.as_mut() {
                    index_customer(by_customer, &change.snapshot);
                }
                if let Some(by_channel) = state.by_channel.as_mut() {
                    by_channel
                        .entry(change.snapshot.channel.clone())
                        .or_default()
                        .insert(placed.clone());
                }
            }
            let was = match state.orders.entry(id) {
                std::collections::hash_map::Entry::Occupied(mut stored) => {
                    let stored = stored.get_mut();
                    let was = stored.0.status;
                    stored.0 = change.snapshot;
                    stored.1.extend(change.events);
                    Some(was)
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let mut history = History::default();
                    history.extend(change.events);
                    slot.insert(Box::new((change.snapshot, history)));
                    None
                }
            };
            if was != Some(status) {
                if let Some(by_status) = state.by_status.as_mut() {
                    if let Some(index) = was.and_then(|was| by_status.get_mut(&was)) {
                        index.remove(&placed);
                    }
                    by_status.entry(status).or_default().insert(placed);
                }
            }
        }
        if let Some(stock) = changes.stock {
            for entry in stock.entries {
                state.stock_log.push(entry);
            }
            self.stock_len
                .store(state.stock_log.len() as u64, Ordering::Release);
        }
        for record in changes.idempotency {
            let (key, kept) = KeptRecord::new(record);
            // Checked above: every position fits.
            let position = u32::try_from(state.idempotency.len()).unwrap_or(u32::MAX);
            state.idempotency_index.insert(&key, position);
            state.idempotency.push((key, kept));
        }
        for w in changes.records {
            let space = state.records.entry(w.namespace.clone()).or_default();
            match w.value_json {
                Some(json) => {
                    space.insert(w.key, (w.expected_version + 1, json));
                }
                None => {
                    space.remove(&w.key);
                    if space.is_empty() {
                        state.records.remove(&w.namespace);
                    }
                }
            }
        }
        for append in changes.documents {
            let doc = append.document;
            let key = (doc.series.clone(), doc.sequence);
            state.series_last.insert(doc.series.clone(), doc.sequence);
            state
                .document_numbers
                .insert(doc.number.clone(), key.clone());
            state
                .order_documents
                .entry(doc.order_id.clone())
                .or_default()
                .push(key.clone());
            state.documents.insert(key, doc);
        }
        for write in changes.outbox {
            match write {
                OutboxWrite::Record(record) => state.outbox.push_record(record),
                OutboxWrite::OrderEvent { order_id, version } => {
                    state.outbox.announce(order_id, version);
                }
            }
        }
        Ok(())
    }

    fn order_ids(&self, after: Option<&OrderId>, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        let mut pages = self.pages.lock().map_err(poisoned)?;
        let ids = pages.order_ids(&state);
        let start = after.map_or(0, |a| ids.partition_point(|id| id <= a));
        let page: Vec<OrderId> = ids
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take(limit)
            .cloned()
            .collect();
        if page.len() < limit {
            pages.order_ids = None;
        }
        Ok(page)
    }

    fn idempotency_records(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IdempotencyRecord>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        let mut pages = self.pages.lock().map_err(poisoned)?;
        let records = &state.idempotency;
        let key = |position: &u32| records.get(*position as usize).map(|(k, _)| &**k);
        let sorted = pages.keys(&state);
        let start = after.map_or(0, |a| sorted.partition_point(|p| key(p) <= Some(a)));
        let page: Vec<IdempotencyRecord> = sorted
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take(limit)
            .filter_map(|p| records.get(*p as usize))
            .map(|(key, kept)| kept.record(key))
            .collect();
        if page.len() < limit {
            pages.keys = None;
        }
        Ok(page)
    }

    fn keyed_record(&self, namespace: &str, key: &str) -> Result<Option<KeyedRecord>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        Ok(state
            .records
            .get(namespace)
            .and_then(|m| m.get(key))
            .map(|(version, json)| KeyedRecord {
                namespace: namespace.to_string(),
                key: key.to_string(),
                version: *version,
                value_json: json.clone(),
            }))
    }

    fn keyed_records(
        &self,
        namespace: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KeyedRecord>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        let Some(space) = state.records.get(namespace) else {
            return Ok(Vec::new());
        };
        let from = match after {
            Some(a) => Bound::Excluded(a.to_string()),
            None => Bound::Unbounded,
        };
        Ok(space
            .range((from, Bound::Unbounded))
            .take(limit)
            .map(|(key, (version, json))| KeyedRecord {
                namespace: namespace.to_string(),
                key: key.clone(),
                version: *version,
                value_json: json.clone(),
            })
            .collect())
    }

    fn record_namespaces(&self) -> Result<Vec<String>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        Ok(state.records.keys().cloned().collect())
    }

    fn document_series_last(&self, series: &str) -> Result<u64, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        Ok(state.series_last.get(series).copied().unwrap_or(0))
    }

    fn load_document(&self, number: &str) -> Result<Option<InvoiceDocument>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        Ok(state
            .document_numbers
            .get(number)
            .and_then(|key| state.documents.get(key))
            .cloned())
    }

    fn order_documents(&self, order: &OrderId) -> Result<Vec<InvoiceDocument>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        let mut docs: Vec<InvoiceDocument> = state
            .order_documents
            .get(order)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| state.documents.get(k).cloned())
                    .collect()
            })
            .unwrap_or_default();
        docs.sort_by_key(|d| (d.issued_at, d.kind, d.sequence));
        Ok(docs)
    }

    fn documents(
        &self,
        after: Option<(&str, u64)>,
        limit: usize,
    ) -> Result<Vec<InvoiceDocument>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        let start = match after {
            Some((series, seq)) => Bound::Excluded((series.to_string(), seq)),
            None => Bound::Unbounded,
        };
        Ok(state
            .documents
            .range((start, Bound::Unbounded))
            .take(limit)
            .map(|(_, d)| d.clone())
            .collect())
    }
}

impl Outbox for MemoryStore {
    fn pending(&self, limit: usize) -> Result<Vec<OutboxRecord>, StoreError> {
        self.check_read()?;
        let state = self.state.read().map_err(poisoned)?;
        state
            .outbox
            .pending()
            .take(limit)
            .map(|item| match item {
                PendingItem::Record(record) => Ok(OutboxRecord::clone(record)),
                PendingItem::OrderEvent(order_id, version) => {
                    let event = state
                        .orders
                        .get(order_id)
                        .and_then(|slot| slot.1.record(order_id, version))
                        .ok_or_else(|| StoreError::Corrupt {
                            reason: format!(
                                "the outbox names event {version} of order {order_id}, \
                                 which the store does not hold"
                            ),
                        })?;
                    OutboxRecord::for_order_event(&event)
                }
            })
            .collect()
    }

    fn acknowledge(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.state.write().map_err(poisoned)?;
        Ok(state.outbox.acknowledge(id))
    }
}

/// The system clock, clamped so it never goes backwards.
pub struct SystemClock {
    /// The latest time read, in microseconds since the epoch (`i64::MIN` before the
    /// first): one atomic maximum per reading instead of a lock.
    last: AtomicI64,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            last: AtomicI64::new(i64::MIN),
        }
    }
}

impl SystemClock {
    /// A clock reading `Utc::now()` at microsecond precision: the finest PostgreSQL
    /// and Python keep, so a time a host reads back (an expiry, a placed time) compares
    /// equal to the one the engine wrote. Never goes backwards.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // Microseconds since the epoch, read without building a date first (a clock
        // set before 1970 takes the long way, which truncates the same).
        let micros = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_micros()).unwrap_or(i64::MAX),
            Err(_) => Utc::now().trunc_subsecs(6).timestamp_micros(),
        };
        let t = self.last.fetch_max(micros, Ordering::AcqRel).max(micros);
        DateTime::<Utc>::from_timestamp_micros(t).unwrap_or_else(|| Utc::now().trunc_subsecs(6))
    }
}

/// A clock that shows a set time until told otherwise: for tests, demos and replays.
pub struct FixedClock {
    micros: AtomicU64,
}

impl FixedClock {
    /// A clock at `at` (sub-microsecond precision is dropped).
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock {
            micros: AtomicU64::new(u64::try_from(at.timestamp_micros()).unwrap_or(0)),
        }
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        self.micros.store(
            u64::try_from(at.timestamp_micros()).unwrap_or(0),
            Ordering::SeqCst,
        );
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let micros = u64::try_from(by.num_microseconds().unwrap_or(0)).unwrap_or(0);
        self.micros.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        let micros = i64::try_from(self.micros.load(Ordering::SeqCst)).unwrap_or(0);
        DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }
}

/// Ids `"{kind}-{n:06}"` with one counter per kind: deterministic, for a single process
/// (tests, demos, the in-memory engine).
#[derive(Default)]
pub struct SequentialIds {
    /// The `order` kind's counter, which every placement asks for: counted without the
    /// lock and the map.
    orders: AtomicU64,
    counters: Mutex<FastMap<String, u64>>,
}

impl SequentialIds {
    /// A generator whose counters start at 1.
    pub fn new() -> Self {
        Self::default()
    }
}

/// `{kind}-{n}` with `n` zero-padded to six digits (`order-000042`), as
/// `format!("{kind}-{n:06}")` writes it, without the formatting machinery (the id
/// generator runs once per placed order), lent to `take` from the stack.
fn numbered_with<R>(kind: &str, n: u64, take: impl FnOnce(&str) -> R) -> R {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n);
    let pad = "000000".get(digits.len()..).unwrap_or_default();
    crate::ids::on_stack(&[kind, "-", pad, digits], take)
}

/// [`numbered_with`] as an owned text.
#[cfg(test)]
fn numbered(kind: &str, n: u64) -> String {
    numbered_with(kind, n, str::to_string)
}

impl SequentialIds {
    /// The next number of `kind`.
    fn next_number(&self, kind: &str) -> u64 {
        if kind == "order" {
            return self.orders.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        }
        // A poisoned lock only means another thread panicked mid-increment; the map
        // itself is intact, so keep counting from it.
        let mut counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The kind's key is allocated once, on its first id, not on every call.
        match counters.get_mut(kind) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                counters.insert(kind.to_string(), 1);
                1
            }
        }
    }
}

impl IdGenerator for SequentialIds {
    fn next_id(&self, kind: &str) -> Result<String, StoreError> {
        Ok(numbered_with(kind, self.next_number(kind), str::to_string))
    }

    fn lend_next_id(&self, kind: &str, take: &mut dyn FnMut(&str)) -> Result<(), StoreError> {
        numbered_with(kind, self.next_number(kind), take);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_are_zero_padded_to_six_digits() {
        for n in [
            0,
            1,
            9,
            10,
            42,
            99_999,
            999_999,
            1_000_000,
            123_456_789,
            u64::MAX,
        ] {
            assert_eq!(numbered("order", n), format!("order-{n:06}"));
        }
        let ids = SequentialIds::default();
        assert_eq!(ids.next_id("order").ok().as_deref(), Some("order-000001"));
        assert_eq!(ids.next_id("order").ok().as_deref(), Some("order-000002"));
        assert_eq!(ids.next_id("rma").ok().as_deref(), Some("rma-000001"));
    }

    #[test]
    fn kept_idempotency_records_give_back_exactly_what_was_saved() {
        let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
        for fingerprint in [
            "placed-event".to_string(), // a placement's: kept as nothing
            digest.clone(),
            digest.to_uppercase(), // not what the engine writes: kept as text
            format!("sha256:{}", "ab".repeat(31)), // too short
            format!("sha256:{}g", "a".repeat(63)), // not hex
            r#"{"command":"confirm"}"#.to_string(), // from before fingerprints were hashed
            String::new(),
        ] {
            let record = IdempotencyRecord {
                key: "ext:web:W-1".to_string(),
                fingerprint: fingerprint.clone().into(),
                order_id: OrderId::parse("o-1").unwrap(),
                order_version: 3,
            };
            let (key, kept) = KeptRecord::new(record.clone());
            assert_eq!(kept.record(&key), record, "{fingerprint}");
        }
        let (_, kept) = KeptRecord::new(IdempotencyRecord {
            key: "k".to_string(),
            fingerprint: digest.into(),
            order_id: OrderId::parse("o-1").unwrap(),
            order_version: 1,
        });
        assert!(matches!(kept.fingerprint, KeptFingerprint::Sha256(_)));
    }

    #[test]
    fn idempotency_records_are_found_by_key_among_many_and_taken_once() {
        let store = MemoryStore::new();
        let record = |i: usize| IdempotencyRecord {
            key: format!("ext:web:W-{i}"),
            fingerprint: format!("sha256:{:064x}", i).into(),
            order_id: OrderId::parse(format!("o-{i}")).unwrap(),
            order_version: 1,
        };
        for batch in 0..20 {
            let records = (batch * 500..(batch + 1) * 500).map(record).collect();
            store
                .commit(ChangeSet {
                    idempotency: records,
                    ..ChangeSet::default()
                })
                .unwrap();
        }
        for i in (0..10_000).step_by(7) {
            assert_eq!(
                store.idempotency_record(&record(i).key),
                Ok(Some(record(i)))
            );
        }
        assert_eq!(store.idempotency_record("ext:web:W-10000"), Ok(None));
        assert_eq!(store.idempotency_record("ext:web:W-1"), Ok(Some(record(1))));
        let listed = store
            .idempotency_records(Some("ext:web:W-9998"), 5)
            .unwrap();
        let keys: Vec<&str> = listed.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["ext:web:W-9999"]);
        // A key taken before, or twice in one change set: refused, nothing saved.
        let many_then_repeat: Vec<IdempotencyRecord> =
            (10_001..10_020).chain([10_005]).map(record).collect();
        for records in [
            vec![record(10_001), record(3)],
            vec![record(10_001), record(10_001)],
            many_then_repeat,
        ] {
            let refused = store.commit(ChangeSet {
                idempotency: records,
                ..ChangeSet::default()
            });
            assert!(
                matches!(refused, Err(StoreError::KeyTaken { .. })),
                "{refused:?}"
            );
            assert_eq!(store.idempotency_record(&record(10_001).key), Ok(None));
        }
    }

    /// What the outbox is to do, as the `BTreeMap` it replaced did it.
    #[derive(Debug, Clone)]
    enum OutboxOp {
        Record(u8),
        Event(u8, u8),
        /// A write's events: `n` consecutive versions of one order from `first`.
        Events(u8, u8, u8),
        AckRecord(u8),
        AckEvent(u8, u8),
        AckMalformed,
    }

    fn outbox_op() -> impl proptest::strategy::Strategy<Value = OutboxOp> {
        use proptest::prelude::*;
        prop_oneof![
            any::<u8>().prop_map(OutboxOp::Record),
            (0..40u8, 0..6u8).prop_map(|(o, v)| OutboxOp::Event(o, v)),
            (0..40u8, 0..6u8, 1..8u8).prop_map(|(o, v, n)| OutboxOp::Events(o, v, n)),
            any::<u8>().prop_map(OutboxOp::AckRecord),
            (0..40u8, 0..6u8).prop_map(|(o, v)| OutboxOp::AckEvent(o, v)),
            Just(OutboxOp::AckMalformed),
        ]
    }

    /// Announces event `v` of order `o-{o}` to the queue and the model, unless it was
    /// announced before (an event is announced once: its version is new for its order).
    fn announce(
        o: u8,
        v: u64,
        queue: &mut OutboxQueue,
        seq: &mut u64,
        model: &mut BTreeMap<u64, String>,
        ids: &mut HashMap<String, u64>,
        announced: &mut std::collections::HashSet<String>,
    ) {
        let id = format!("o-{o}:{v}");
        if !announced.insert(id.clone()) {
            return;
        }
        *seq += 1;
        model.insert(*seq, id.clone());
        ids.insert(id, *seq);
        queue.announce(OrderId::parse(format!("o-{o}")).unwrap(), v);
    }

    proptest::proptest! {
        // Pending entries in order, and which acknowledgements succeed, exactly as an
        // ordered map of entries with an index per kind (what the memory store kept
        // before), across gaps and squeezes (up to 1,500 operations, squeezing from 16 entries under test).
        #[test]
        fn the_outbox_queue_behaves_as_an_ordered_map(
            ops in proptest::collection::vec(outbox_op(), 0..1_500)
        ) {
            let mut queue = OutboxQueue::default();
            let mut model: BTreeMap<u64, String> = BTreeMap::new();
            let mut ids: HashMap<String, u64> = HashMap::new();
            let mut seq = 0u64;
            let mut announced: std::collections::HashSet<String> = Default::default();
            let record = |n: u8| OutboxRecord {
                id: format!("r-{n}"),
                topic: "t".to_string(),
                aggregate_id: "a".to_string(),
                aggregate_version: 1,
                created_at: DateTime::<Utc>::MIN_UTC,
                payload_json: "{}".to_string(),
            };
            for op in ops {
                match op {
                    OutboxOp::Record(n) => {
                        // Record ids are unique among pending records (the engine makes
                        // them from its id generator).
                        if ids.contains_key(&format!("r-{n}")) {
                            continue;
                        }
                        seq += 1;
                        model.insert(seq, format!("r-{n}"));
                        ids.insert(format!("r-{n}"), seq);
                        queue.push_record(record(n));
                    }
                    OutboxOp::Event(o, v) | OutboxOp::Events(o, v, 1) => {
                        announce(o, u64::from(v), &mut queue, &mut seq, &mut model, &mut ids, &mut announced);
                    }
                    OutboxOp::Events(o, first, n) => {
                        for v in u64::from(first)..u64::from(first) + u64::from(n) {
                            announce(o, v, &mut queue, &mut seq, &mut model, &mut ids, &mut announced);
                        }
                    }
                    OutboxOp::AckRecord(n) => {
                        let id = format!("r-{n}");
                        let expected = ids.remove(&id).is_some_and(|s| model.remove(&s).is_some());
                        proptest::prop_assert_eq!(queue.acknowledge(&id), expected);
                    }
                    OutboxOp::AckEvent(o, v) => {
                        let id = format!("o-{o}:{v}");
                        let expected = ids.remove(&id).is_some_and(|s| model.remove(&s).is_some());
                        proptest::prop_assert_eq!(queue.acknowledge(&id), expected);
                    }
                    OutboxOp::AckMalformed => {
                        proptest::prop_assert!(!queue.acknowledge("no colon"));
                        proptest::prop_assert!(!queue.acknowledge("o-1:x"));
                    }
                }
                proptest::prop_assert_eq!(queue.live, model.len());
                proptest::prop_assert_eq!(
                    queue.live_entries,
                    queue.entries.iter().flatten().count()
                );
            }
            let pending: Vec<String> = queue
                .pending()
                .map(|p| match p {
                    PendingItem::Record(r) => r.id.clone(),
                    PendingItem::OrderEvent(o, v) => format!("{o}:{v}"),
                })
                .collect();
            let expected: Vec<String> = model.into_values().collect();
            proptest::prop_assert_eq!(pending, expected);
        }
    }

    #[test]
    fn the_outbox_squeezes_its_gaps_and_still_finds_what_is_left() {
        let mut queue = OutboxQueue::default();
        let key = |i: u64| (OrderId::parse(format!("o-{}", i % 7)).unwrap(), i);
        for i in 0..100 {
            let (o, v) = key(i);
            queue.announce(o, v);
        }
        // Acknowledge 60 of them, out of order: the queue squeezes on the way.
        let acked: Vec<u64> = (0..100).map(|i| (i * 37) % 100).take(60).collect();
        for &i in &acked {
            let (o, v) = key(i);
            assert!(queue.acknowledge(&format!("{o}:{v}")), "{i}");
            assert!(!queue.acknowledge(&format!("{o}:{v}")), "{i} twice");
        }
        assert_eq!(queue.live, 40);
        assert!(queue.entries.len() < 100, "never squeezed");
        let left: Vec<u64> = queue
            .pending()
            .map(|p| match p {
                PendingItem::OrderEvent(_, v) => v,
                PendingItem::Record(_) => u64::MAX,
            })
            .collect();
        let expected: Vec<u64> = (0..100).filter(|i| !acked.contains(i)).collect();
        assert_eq!(left, expected);
        for i in expected {
            let (o, v) = key(i);
            assert!(
                queue.acknowledge(&format!("{o}:{v}")),
                "{i} after squeezing"
            );
        }
        assert_eq!((queue.live, queue.pending().count()), (0, 0));
    }

    #[test]
    fn the_system_clock_keeps_microseconds_and_never_goes_back() {
        let clock = SystemClock::new();
        let mut last = clock.now();
        assert!((Utc::now() - last).num_seconds().abs() < 5, "{last:?}");
        for _ in 0..1_000 {
            let now = clock.now();
            assert!(now >= last);
            assert_eq!(now.timestamp_subsec_nanos() % 1_000, 0, "{now:?}");
            last = now;
        }
        // Shared by threads: each sees its readings in order, and none sees a time
        // before one read earlier on another thread it waited for.
        let clock = std::sync::Arc::new(SystemClock::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let clock = clock.clone();
                std::thread::spawn(move || {
                    let mut last = clock.now();
                    for _ in 0..2_000 {
                        let now = clock.now();
                        assert!(now >= last);
                        last = now;
                    }
                    last
                })
            })
            .collect();
        let lasts: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let after = clock.now();
        assert!(
            lasts.iter().all(|l| *l <= after),
            "{lasts:?} then {after:?}"
        );
    }

    /// A write's announcements share one entry, up to [`RUN`] of them; acknowledged in
    /// any order, each once, the entry goes when its last one does, and what is left is
    /// still found after squeezing.
    #[test]
    fn a_writes_announcements_share_an_entry() {
        let mut queue = OutboxQueue::default();
        let order = |i: u64| OrderId::parse(format!("o-{i}")).unwrap();
        // 40 orders, each written once with 8 events, and one with 140.
        for i in 0..40 {
            for v in 1..=8 {
                queue.announce(order(i), v);
            }
        }
        for v in 1..=140 {
            queue.announce(order(99), v);
        }
        assert_eq!(queue.entries.len(), 45, "a run of 140 takes five entries");
        assert_eq!(std::mem::size_of::<Option<Pending>>(), 40);
        assert_eq!(queue.live, 40 * 8 + 140);
        // Acknowledged backwards, the last version of each order first.
        for i in (0..40).rev() {
            for v in (1..=8).rev() {
                let id = format!("o-{i}:{v}");
                assert!(queue.acknowledge(&id), "{id}");
                assert!(!queue.acknowledge(&id), "{id} twice");
            }
        }
        assert!(!queue.acknowledge("o-99:141") && !queue.acknowledge("o-99:0"));
        assert_eq!(queue.live, 140);
        assert_eq!(queue.live_entries, 5);
        let left: Vec<u64> = queue
            .pending()
            .map(|p| match p {
                PendingItem::OrderEvent(_, v) => v,
                PendingItem::Record(_) => 0,
            })
            .collect();
        assert_eq!(left, (1..=140).collect::<Vec<u64>>());
        for v in (1..=140).rev() {
            assert!(queue.acknowledge(&format!("o-99:{v}")), "{v}");
        }
        assert_eq!(
            (queue.live, queue.live_entries, queue.pending().count()),
            (0, 0, 0)
        );
    }

    /// A one-line order under `id`, as a new order's change saves it.
    fn placed_change(id: &str) -> crate::ports::OrderChange {
        use crate::ids::{ChannelId, VariantId};
        use crate::money::{Currency, Money};
        use crate::order::{NewLine, NewOrder, OrderEvent};
        use chrono::TimeZone;
        let try_ = Currency::parse("TRY").unwrap();
        let line = NewLine::new(
            VariantId::parse("MUG").unwrap(),
            1,
            Money::parse("10.00", try_).unwrap(),
        );
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
        let new = NewOrder::new(ChannelId::parse("web").unwrap(), at, try_, vec![line]);
        let Ok(OrderEvent::Placed(placed)) = crate::order::place(&new) else {
            unreachable!("a valid order")
        };
        crate::ports::OrderChange {
            expected_version: 0,
            events: crate::ports::NewEvents::new(OrderId::parse(id).unwrap(), 0),
            snapshot: Order::from_placed(OrderId::parse(id).unwrap(), &placed),
        }
    }

    proptest::proptest! {
        /// Walking the orders by id and the idempotency records by key, page by page,
        /// returns what sorting everything held returns for each page, however many
        /// orders and records are added between pages, and after a walk reaches its
        /// end and a new one begins.
        #[test]
        fn pages_by_id_and_by_key_are_the_sorted_pages_whatever_is_added_between(
            steps in proptest::collection::vec((0u16..300, 1usize..6, proptest::bool::ANY), 1..80),
        ) {
            let store = MemoryStore::new();
            let (mut ids, mut keys) = (BTreeSet::new(), BTreeSet::new());
            let (mut id_after, mut key_after): (Option<OrderId>, Option<String>) = (None, None);
            for (n, limit, add) in steps {
                if add {
                    let id = format!("o-{}", n);
                    if ids.insert(id.clone()) {
                        store.commit(ChangeSet { orders: vec![placed_change(&id)], ..ChangeSet::default() }).unwrap();
                    }
                    let key = format!("k-{}", (u32::from(n) * 7) % 300);
                    if keys.insert(key.clone()) {
                        let record = IdempotencyRecord {
                            key,
                            fingerprint: "f".to_string().into(),
                            order_id: OrderId::parse("o-1").unwrap(),
                            order_version: 1,
                        };
                        store.commit(ChangeSet { idempotency: vec![record], ..ChangeSet::default() }).unwrap();
                    }
                    continue;
                }
                let page: Vec<String> = store
                    .order_ids(id_after.as_ref(), limit)
                    .unwrap()
                    .iter()
                    .map(|id| id.to_string())
                    .collect();
                let want: Vec<String> = ids
                    .iter()
                    .filter(|id| id_after.as_ref().is_none_or(|a| id.as_str() > a.as_str()))
                    .take(limit)
                    .cloned()
                    .collect();
                proptest::prop_assert_eq!(&page, &want);
                id_after = match page.last() {
                    Some(last) if page.len() == limit => Some(OrderId::parse(last.as_str()).unwrap()),
                    _ => None,
                };
                let page: Vec<String> = store
                    .idempotency_records(key_after.as_deref(), limit)
                    .unwrap()
                    .into_iter()
                    .map(|r| r.key)
                    .collect();
                let want: Vec<String> = keys
                    .iter()
                    .filter(|k| key_after.as_ref().is_none_or(|a| k.as_str() > a.as_str()))
                    .take(limit)
                    .cloned()
                    .collect();
                proptest::prop_assert_eq!(&page, &want);
                key_after = match page.last() {
                    Some(last) if page.len() == limit => Some(last.clone()),
                    _ => None,
                };
            }
        }
    }

    /// One step of the listing proptest below.
    #[derive(Debug, Clone)]
    enum ListingStep {
        /// Place order `n` on channel `c`, `s` seconds into the day.
        Place(u8, u8, u8),
        /// Move order `n` (if held) to status number `k`.
        Move(u8, u8),
        /// List: a status, a channel, a start second, a page size, and whether to go
        /// on from the previous page's last order.
        List(Option<u8>, Option<u8>, Option<u8>, usize, bool),
    }

    fn listing_step() -> impl proptest::strategy::Strategy<Value = ListingStep> {
        use proptest::prelude::*;
        prop_oneof![
            3 => (0u8..60, 0u8..3, 0u8..20).prop_map(|(n, c, s)| ListingStep::Place(n, c, s)),
            3 => (0u8..60, 0u8..6).prop_map(|(n, k)| ListingStep::Move(n, k)),
            2 => (
                proptest::option::of(0u8..6),
                proptest::option::of(0u8..3),
                proptest::option::of(0u8..20),
                1usize..6,
                proptest::bool::ANY,
            )
                .prop_map(|(k, c, s, limit, on)| ListingStep::List(k, c, s, limit, on)),
        ]
    }

    proptest::proptest! {
        /// A listing filtered by status or channel walks an index of that status or
        /// channel, made by the first such listing and kept up by later commits: every
        /// page is what filtering every order held in listing order gives, whatever
        /// was placed or moved between pages, with any start, size and cursor.
        #[test]
        fn filtered_listings_are_the_filtered_orders_whatever_changes_between(
            steps in proptest::collection::vec(listing_step(), 1..120),
        ) {
            use crate::ids::ChannelId;
            use chrono::TimeZone;
            const STATUSES: [OrderStatus; 6] = OrderStatus::ALL;
            let day = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
            let second = |s: u8| day + Duration::seconds(i64::from(s));
            let channel = |c: u8| ChannelId::parse(format!("ch-{c}")).unwrap();
            let status = |k: u8| STATUSES[usize::from(k) % STATUSES.len()];
            let store = MemoryStore::new();
            let mut held: BTreeMap<String, Order> = BTreeMap::new();
            let mut cursor: Option<crate::ports::OrderCursor> = None;
            for step in steps {
                match step {
                    ListingStep::Place(n, c, s) => {
                        let id = format!("o-{n:02}");
                        if held.contains_key(&id) {
                            continue;
                        }
                        let mut change = placed_change(&id);
                        change.snapshot.channel = channel(c);
                        change.snapshot.placed_at = second(s);
                        held.insert(id, change.snapshot.clone());
                        store.commit(ChangeSet { orders: vec![change], ..ChangeSet::default() }).unwrap();
                    }
                    ListingStep::Move(n, k) => {
                        let Some(order) = held.get_mut(&format!("o-{n:02}")) else {
                            continue;
                        };
                        let expected_version = order.version;
                        order.version += 1;
                        order.status = status(k);
                        let change = crate::ports::OrderChange {
                            expected_version,
                            events: crate::ports::NewEvents::new(order.id.clone(), expected_version),
                            snapshot: order.clone(),
                        };
                        store.commit(ChangeSet { orders: vec![change], ..ChangeSet::default() }).unwrap();
                    }
                    ListingStep::List(k, c, s, limit, on) => {
                        let query = OrderQuery {
                            status: k.map(status),
                            channel: c.map(channel),
                            placed_from: s.map(second),
                            after: if on { cursor.clone() } else { None },
                            limit: Some(limit),
                            ..OrderQuery::default()
                        };
                        let page: Vec<String> = store
                            .query_orders(&query)
                            .unwrap()
                            .iter()
                            .map(|o| o.id.to_string())
                            .collect();
                        let mut all: Vec<&Order> = held.values().collect();
                        all.sort_by(|a, b| (a.placed_at, &a.id).cmp(&(b.placed_at, &b.id)));
                        let want: Vec<String> = all
                            .into_iter()
                            .filter(|o| query.matches(o))
                            .take(limit)
                            .map(|o| o.id.to_string())
                            .collect();
                        proptest::prop_assert_eq!(&page, &want);
                        cursor = page
                            .last()
                            .and_then(|id| held.get(id))
                            .map(crate::ports::OrderCursor::of);
                    }
                }
                // Once made, each index holds exactly the orders of its status or
                // channel (an order that left a status is gone from its index: the
                // listing's own filter would hide it, not free it).
                let state = store.state.read().unwrap();
                if let Some(by_status) = &state.by_status {
                    for k in 0..6u8 {
                        let held_in = held.values().filter(|o| o.status == status(k)).count();
                        let indexed = by_status.get(&status(k)).map_or(0, |i| i.past(|_| false).count());
                        proptest::prop_assert_eq!(indexed, held_in);
                    }
                }
                if let Some(by_channel) = &state.by_channel {
                    for c in 0..3u8 {
                        let held_in = held.values().filter(|o| o.channel == channel(c)).count();
                        let indexed = by_channel.get(&channel(c)).map_or(0, |i| i.past(|_| false).count());
                        proptest::prop_assert_eq!(indexed, held_in);
                    }
                }
            }
        }
    }
}
