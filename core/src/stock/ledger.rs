//! The ledger: set-up, queries, and the movements that need no reservation.

use super::FastMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, CountId, LocationId, OrderId, ReservationId, TransferId, VariantId};

use super::channel::ChannelState;
use super::chunked::Chunked;
use super::count::CycleCount;
use super::error::StockError;
use super::forecast::AlertLevel;
use super::held::{Held, HeldBundle};
use super::journal::{
    Balances, Movement, MovementKind, Record, RecordKind, NO_REFERENCE, RESERVATION_REFERENCE,
};
use super::limits;
use super::model::{
    Balance, BalanceDelta, Location, Reservation, StockLevel, StockPolicy, VariantLevels,
};

/// Per-variant settings (safety stock lives beside the balances, in [`Cell`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(super) struct VariantSettings {
    pub(super) policy: StockPolicy,
    pub(super) low_stock_at: Option<u32>,
    pub(super) alert: AlertLevel,
}

/// One variant's figures at one location: its balance and safety stock together, as
/// the ledger's readers see them (assembled from a [`HotCell`] and a [`ColdCell`]).
/// A default cell is the same as no cell: nothing moved there, no safety stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Cell {
    pub(super) balance: Balance,
    pub(super) safety: u32,
    /// A movement touched this (variant, location): it appears in
    /// [`StockLedger::balances`], like every pair [`super::rebuild_balances`] finds.
    pub(super) moved: bool,
}

/// The part of a cell a reservation reads and writes (32 bytes, two to a cache line):
/// on hand, reserved and incoming (what every policy's check needs), safety stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(super) struct HotCell {
    pub(super) on_hand: i64,
    pub(super) reserved: i64,
    pub(super) incoming: i64,
    pub(super) safety: u32,
    pub(super) moved: bool,
}

/// The part of a cell only quarantine, write-offs and transfers move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(super) struct ColdCell {
    pub(super) quarantined: i64,
    pub(super) in_transit: i64,
}

impl HotCell {
    /// The balance as far as the hot part knows it (no quarantine, nothing in
    /// transit): enough for [`StockPolicy::reservable`] and [`Balance::sellable`].
    pub(super) fn balance(&self) -> Balance {
        Balance {
            on_hand: self.on_hand,
            reserved: self.reserved,
            incoming: self.incoming,
            ..Balance::default()
        }
    }

    fn sellable(&self) -> u64 {
        self.balance().sellable(self.safety)
    }
}

fn join(hot: &HotCell, cold: &ColdCell) -> Cell {
    Cell {
        balance: Balance {
            quarantined: cold.quarantined,
            in_transit: cold.in_transit,
            ..hot.balance()
        },
        safety: hot.safety,
        moved: hot.moved,
    }
}

fn split(cell: &Cell) -> (HotCell, ColdCell) {
    let b = &cell.balance;
    (
        HotCell {
            on_hand: b.on_hand,
            reserved: b.reserved,
            incoming: b.incoming,
            safety: cell.safety,
            moved: cell.moved,
        },
        ColdCell {
            quarantined: b.quarantined,
            in_transit: b.in_transit,
        },
    )
}

/// Locations whose dense index is below this keep their cells inline in the variant's
/// slot (no second lookup, no pointer to follow); the others sit in a sorted side list.
pub(super) const INLINE_CELLS: usize = 4;

/// A registered variant's place in one [`StockLedger`] ([`StockLedger::variant_key`]):
/// its dense index and the ledger's tag. Only the ledger that made it accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VariantKey {
    slot: u32,
    ledger: u64,
}

/// A location's place in one [`StockLedger`] ([`StockLedger::location_key`]): its dense
/// index and the ledger's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocationKey {
    index: u32,
    ledger: u64,
}

/// A reservation's place in one [`StockLedger`] ([`StockLedger::reserve_quiet_keyed`],
/// [`StockLedger::reservation_key`]), for [`StockLedger::commit_quiet_keyed`] and
/// [`StockLedger::release_quiet_keyed`]: its position among every reservation ever
/// made, and the ledger's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReservationKey {
    position: u32,
    ledger: u64,
}

/// A key that passed the ledger's tag check but names nothing: cannot happen (variants,
/// locations and reservations are never removed), answered like a foreign key.
pub(super) const NO_SUCH_KEY: StockError = StockError::InvalidParameter {
    parameter: "key",
    reason: "names nothing in this ledger",
};

/// Which ledger made a key: a number drawn once per ledger value, so a key from
/// another ledger, or from the ledger this one was cloned or deserialised from (whose
/// variants may since have been registered in another order), is refused instead of
/// naming whatever sits at its index here. Never part of a ledger's equality or its
/// serialised form.
#[derive(Debug)]
pub(super) struct LedgerTag(u64);

impl LedgerTag {
    fn fresh() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        LedgerTag(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl Default for LedgerTag {
    fn default() -> Self {
        Self::fresh()
    }
}

impl Clone for LedgerTag {
    /// A copy of a ledger is another ledger: it gets a tag of its own.
    fn clone(&self) -> Self {
        Self::fresh()
    }
}

impl PartialEq for LedgerTag {
    /// Tags say who made a key, not what a ledger holds: two ledgers with the same
    /// contents are equal whatever their tags.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A registered variant: its id, settings, per-location cells and the running sum of
/// their sellable units, kept together so one lookup of the id reaches all of them.
/// Laid out (`repr(C)`, cache-line aligned) so a reservation touches two cache lines:
/// the first holds the id, settings and sum (what every command reads), the next two
/// the hot halves of the four inline cells, two to a line; the cold halves and the
/// side list follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[repr(C, align(64))]
pub(super) struct VariantSlot {
    pub(super) id: VariantId,
    pub(super) settings: VariantSettings,
    /// Sum of every cell's sellable units: what the low-stock check needs after every
    /// movement, without walking the locations. `u128` so the sum is exact; readers
    /// clamp it to `u64` (what a saturating sum gives).
    pub(super) sellable: u128,
    /// Hot halves of the cells of locations `0..INLINE_CELLS`, by location index.
    pub(super) hot: [HotCell; INLINE_CELLS],
    /// Their cold halves.
    pub(super) cold: [ColdCell; INLINE_CELLS],
    /// Cells of the other locations with their location index, sorted by it.
    pub(super) spill: Vec<(u32, HotCell, ColdCell)>,
}

impl VariantSlot {
    fn new(id: VariantId, settings: VariantSettings) -> Self {
        VariantSlot {
            id,
            settings,
            sellable: 0,
            hot: [HotCell::default(); INLINE_CELLS],
            cold: [ColdCell::default(); INLINE_CELLS],
            spill: Vec::new(),
        }
    }

    fn parts(&self, location: u32) -> Option<(&HotCell, &ColdCell)> {
        match usize::try_from(location) {
            Ok(i) if i < INLINE_CELLS => Some((self.hot.get(i)?, self.cold.get(i)?)),
            _ => self
                .spill
                .binary_search_by_key(&location, |(l, _, _)| *l)
                .ok()
                .and_then(|i| self.spill.get(i))
                .map(|(_, h, c)| (h, c)),
        }
    }

    /// The halves of a location's cell, made (empty) when missing.
    fn parts_mut(&mut self, location: u32) -> Option<(&mut HotCell, &mut ColdCell)> {
        match usize::try_from(location) {
            Ok(i) if i < INLINE_CELLS => Some((self.hot.get_mut(i)?, self.cold.get_mut(i)?)),
            _ => {
                let i = match self.spill.binary_search_by_key(&location, |(l, _, _)| *l) {
                    Ok(i) => i,
                    Err(i) => {
                        let empty = (location, HotCell::default(), ColdCell::default());
                        self.spill.insert(i, empty);
                        i
                    }
                };
                self.spill.get_mut(i).map(|(_, h, c)| (h, c))
            }
        }
    }

    /// The cell of a location; `None` (the same as a default cell) when nothing was
    /// ever set there.
    pub(super) fn cell(&self, location: u32) -> Option<Cell> {
        self.parts(location).map(|(h, c)| join(h, c))
    }

    /// The hot half of a location's cell (what a reservation's check reads).
    pub(super) fn hot(&self, location: u32) -> Option<&HotCell> {
        self.parts(location).map(|(h, _)| h)
    }

    /// Every cell a movement touched, with its location index, by location index.
    pub(super) fn moved_cells(&self) -> impl Iterator<Item = (u32, Cell)> + '_ {
        (0u32..)
            .zip(self.hot.iter().zip(self.cold.iter()))
            .chain(self.spill.iter().map(|(l, h, c)| (*l, (h, c))))
            .filter(|(_, (h, _))| h.moved)
            .map(|(l, (h, c))| (l, join(h, c)))
    }

    pub(super) fn balance(&self, location: u32) -> Balance {
        self.cell(location).map(|c| c.balance).unwrap_or_default()
    }

    pub(super) fn safety(&self, location: u32) -> u32 {
        self.hot(location).map_or(0, |c| c.safety)
    }

    /// Sellable units over every location.
    pub(super) fn total_sellable(&self) -> u64 {
        u64::try_from(self.sellable).unwrap_or(u64::MAX)
    }

    /// Changes one cell (its balance, or its safety stock) and keeps the running
    /// sellable sum right.
    pub(super) fn update(&mut self, location: u32, change: impl FnOnce(&mut Cell)) {
        let Some((hot, cold)) = self.parts_mut(location) else {
            return;
        };
        let mut cell = join(hot, cold);
        let before = u128::from(hot.sellable());
        change(&mut cell);
        (*hot, *cold) = split(&cell);
        let after = u128::from(hot.sellable());
        self.sellable = self.sellable.saturating_sub(before).saturating_add(after);
    }

    /// Adds a movement's delta to one cell: the same as [`Balance::add`] on the whole
    /// cell, but the cold half is touched only when the delta moves it.
    pub(super) fn apply(&mut self, location: u32, delta: &BalanceDelta) {
        let Some((hot, cold)) = self.parts_mut(location) else {
            return;
        };
        let before = u128::from(hot.sellable());
        hot.on_hand = hot.on_hand.saturating_add(delta.on_hand);
        hot.reserved = hot.reserved.saturating_add(delta.reserved);
        hot.incoming = hot.incoming.saturating_add(delta.incoming);
        hot.moved = true;
        if delta.quarantined != 0 || delta.in_transit != 0 {
            cold.quarantined = cold.quarantined.saturating_add(delta.quarantined);
            cold.in_transit = cold.in_transit.saturating_add(delta.in_transit);
        }
        let after = u128::from(hot.sellable());
        self.sellable = self.sellable.saturating_sub(before).saturating_add(after);
    }
}

/// A cache of a view derived from the ledger, built on first read and dropped on every
/// write. It never takes part in comparing, cloning or serialising a ledger.
#[derive(Default)]
pub(super) struct ViewCache<T>(OnceLock<T>);

impl<T> ViewCache<T> {
    pub(super) fn get_or_init(&self, build: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(build)
    }

    pub(super) fn clear(&mut self) {
        if self.0.get().is_some() {
            self.0 = OnceLock::new();
        }
    }
}

impl<T> Clone for ViewCache<T> {
    fn clone(&self) -> Self {
        ViewCache(OnceLock::new())
    }
}

impl<T> PartialEq for ViewCache<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for ViewCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ViewCache")
    }
}

/// Id → dense position, for ids that come from outside and are looked up on every
/// command: variants (position in [`StockLedger::slots`]) and reservations (position
/// in [`StockLedger::reservations`]: every id ever used, since ids are idempotency
/// keys). Keyed by 32 bits of the id's hash, so an entry is 8 bytes and growing the
/// table never re-reads the ids (a million of them, each in its own allocation); the
/// id itself is checked where the position points, in the record a command reads
/// anyway. An id whose 32 bits another id already has (a few in a million, with a
/// random seed) goes to `collided`, keyed by the id itself. Derived from the slots or
/// reservations, so it takes no part in comparing or serialising a ledger;
/// deserialising rebuilds it.
#[derive(Debug, Clone)]
pub(crate) struct IdIndex<K> {
    hasher: foldhash::fast::RandomState,
    by_hash: FastMap<u32, u32>,
    collided: FastMap<K, u32>,
}

impl<K> Default for IdIndex<K> {
    fn default() -> Self {
        IdIndex {
            hasher: foldhash::fast::RandomState::default(),
            by_hash: FastMap::default(),
            collided: FastMap::default(),
        }
    }
}

/// Reservation id → position in [`StockLedger::reservations`].
pub(super) type ReservationIndex = IdIndex<ReservationId>;
/// Variant id → position in [`StockLedger::slots`].
pub(super) type VariantIndex = IdIndex<VariantId>;

impl<K: std::hash::Hash + Eq + Clone> IdIndex<K> {
    /// The hash the index keys an id by (an id and what it borrows as hash alike).
    pub(crate) fn hash<Q: std::hash::Hash + ?Sized>(&self, id: &Q) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(id)
    }

    /// The position of `id`; `id_at` gives the id stored at a position. A position is
    /// only given where `id_at` finds `id`, so an index whose entries can be emptied
    /// (the memory store's outbox) needs no check of its own.
    pub(crate) fn position<'a, Q>(
        &self,
        id: &Q,
        id_at: impl Fn(usize) -> Option<&'a K>,
    ) -> Option<usize>
    where
        K: 'a + std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.position_hashed(self.hash(id), id, id_at)
    }

    /// [`IdIndex::position`] with the id's hash already known.
    pub(crate) fn position_hashed<'a, Q>(
        &self,
        hash: u64,
        id: &Q,
        id_at: impl Fn(usize) -> Option<&'a K>,
    ) -> Option<usize>
    where
        K: 'a + std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let first = self.by_hash.get(&short(hash))?;
        let first = usize::try_from(*first).ok()?;
        if id_at(first).is_some_and(|k| k.borrow() == id) {
            return Some(first);
        }
        self.collided
            .get(id)
            .and_then(|&i| usize::try_from(i).ok())
            .filter(|&i| id_at(i).is_some_and(|k| k.borrow() == id))
    }

    /// The position of `id` where what is stored there cannot be borrowed as an id
    /// (an entry that covers several ids): `holds` says whether the entry at a
    /// position holds `id`.
    pub(crate) fn position_where(&self, id: &K, holds: impl Fn(usize) -> bool) -> Option<usize> {
        let first = self.by_hash.get(&short(self.hash(id)))?;
        let first = usize::try_from(*first).ok()?;
        if holds(first) {
            return Some(first);
        }
        self.collided
            .get(id)
            .and_then(|&i| usize::try_from(i).ok())
            .filter(|&i| holds(i))
    }

    /// Records a new id (not already in the index) with its hash at `position`.
    pub(crate) fn insert_hashed(&mut self, hash: u64, id: &K, position: u32) {
        use std::collections::hash_map::Entry;
        match self.by_hash.entry(short(hash)) {
            Entry::Vacant(slot) => {
                slot.insert(position);
            }
            Entry::Occupied(_) => {
                self.collided.insert(id.clone(), position);
            }
        }
    }

    /// Records a new id at `position`.
    pub(crate) fn insert(&mut self, id: &K, position: u32) {
        self.insert_hashed(self.hash(id), id, position);
    }

    /// The index of ids given in position order.
    fn rebuild<'a>(ids: impl ExactSizeIterator<Item = &'a K>) -> Self
    where
        K: 'a,
    {
        let mut index = IdIndex::default();
        index.by_hash.reserve(ids.len());
        for (position, id) in ids.enumerate() {
            index.insert(id, u32::try_from(position).unwrap_or(u32::MAX));
        }
        index
    }
}

/// The 32 bits of an id's hash the index keys it by.
fn short(hash: u64) -> u32 {
    u32::try_from(hash >> 32).unwrap_or(u32::MAX)
}

impl<K> PartialEq for IdIndex<K> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A bundle (kit): a variant sold as a set of component variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// The bundle's own variant id (it holds no stock of its own).
    pub bundle: VariantId,
    /// Components and units of each per bundle.
    pub components: Vec<(VariantId, u32)>,
}

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    /// Sent, not yet received.
    InTransit,
    /// Received at the destination.
    Received,
}

/// A movement of goods between two locations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Its id.
    pub id: TransferId,
    /// The variant.
    pub variant: VariantId,
    /// Source.
    pub from: LocationId,
    /// Destination.
    pub to: LocationId,
    /// Units.
    pub quantity: u32,
    /// Where it stands.
    pub state: TransferState,
}

/// The stock ledger: locations, variants, balances, the journal, reservations,
/// transfers, counts and channel rules. Pure: every command takes `now` and returns
/// events or a typed [`StockError`], and changes nothing when it returns an error.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "LedgerData")]
pub struct StockLedger {
    pub(super) locations: BTreeMap<LocationId, Location>,
    /// Locations by dense index, in the order they were added; `location_index` maps
    /// an id to its index. Ids are interned on entry so the write path hashes each id
    /// once per call and works on indexes after that.
    pub(super) location_ids: Vec<LocationId>,
    pub(super) location_index: FastMap<LocationId, u32>,
    /// Registered variants: settings, balances and safety stock of each in one slot.
    pub(super) slots: Vec<VariantSlot>,
    #[serde(skip)]
    pub(super) variant_index: VariantIndex,
    pub(super) bundles: FastMap<VariantId, Bundle>,
    /// The journal as compact records; `references` holds their reference texts and
    /// `whole_kinds` the kinds that name counts or transfers.
    pub(super) journal: Chunked<Record>,
    pub(super) references: Chunked<Arc<str>>,
    pub(super) whole_kinds: Chunked<MovementKind>,
    /// Every reservation ever made (ids are idempotency keys), in the order made, as
    /// compact records; `reservation_index` maps an id to its position. Orders and
    /// bundles they name sit in `reservation_orders` and `reservation_bundles`;
    /// `reserved_expiries` keeps the expiry a reservation was made with (its
    /// `reserve` movement's) when `set_expiry` has changed it since.
    pub(super) reservations: Chunked<Held>,
    pub(super) reservation_orders: Chunked<OrderId>,
    pub(super) reservation_bundles: Chunked<HeldBundle>,
    pub(super) reserved_expiries: BTreeMap<u32, Option<DateTime<Utc>>>,
    #[serde(skip)]
    pub(super) reservation_index: ReservationIndex,
    pub(super) expiry_index: BTreeSet<(DateTime<Utc>, ReservationId)>,
    pub(super) transfers: FastMap<TransferId, Transfer>,
    pub(super) counts: FastMap<CountId, CycleCount>,
    pub(super) channels: BTreeMap<ChannelId, ChannelState>,
    /// [`StockLedger::balances`] as a map, built when read.
    #[serde(skip)]
    pub(super) balances_view: ViewCache<Balances>,
    /// Which keys are this ledger's ([`VariantKey`], [`LocationKey`]).
    #[serde(skip)]
    pub(super) tag: LedgerTag,
}

/// A serialised ledger: every field but the derived ones, which deserialising rebuilds.
#[derive(Deserialize)]
struct LedgerData {
    locations: BTreeMap<LocationId, Location>,
    location_ids: Vec<LocationId>,
    location_index: FastMap<LocationId, u32>,
    slots: Vec<VariantSlot>,
    bundles: FastMap<VariantId, Bundle>,
    journal: Vec<Record>,
    references: Vec<Arc<str>>,
    whole_kinds: Vec<MovementKind>,
    reservations: Vec<Held>,
    reservation_orders: Vec<OrderId>,
    reservation_bundles: Vec<HeldBundle>,
    reserved_expiries: BTreeMap<u32, Option<DateTime<Utc>>>,
    expiry_index: BTreeSet<(DateTime<Utc>, ReservationId)>,
    transfers: FastMap<TransferId, Transfer>,
    counts: FastMap<CountId, CycleCount>,
    channels: BTreeMap<ChannelId, ChannelState>,
}

impl From<LedgerData> for StockLedger {
    fn from(d: LedgerData) -> Self {
        StockLedger {
            reservation_index: ReservationIndex::rebuild(d.reservations.iter().map(|r| &r.id)),
            variant_index: VariantIndex::rebuild(d.slots.iter().map(|s| &s.id)),
            locations: d.locations,
            location_ids: d.location_ids,
            location_index: d.location_index,
            slots: d.slots,
            bundles: d.bundles,
            journal: d.journal.into(),
            references: d.references.into(),
            whole_kinds: d.whole_kinds.into(),
            reservations: d.reservations.into(),
            reservation_orders: d.reservation_orders.into(),
            reservation_bundles: d.reservation_bundles.into(),
            reserved_expiries: d.reserved_expiries,
            expiry_index: d.expiry_index,
            transfers: d.transfers,
            counts: d.counts,
            channels: d.channels,
            balances_view: ViewCache::default(),
            tag: LedgerTag::default(),
        }
    }
}

pub(super) fn check_quantity(quantity: u32) -> Result<(), StockError> {
    if quantity == 0 || quantity > limits::MAX_QUANTITY {
        return Err(StockError::InvalidQuantity {
            quantity: i64::from(quantity),
            max: limits::MAX_QUANTITY,
        });
    }
    Ok(())
}

pub(super) fn check_text(what: &'static str, text: Option<&str>) -> Result<(), StockError> {
    // A text holds at most as many characters as bytes: one within the limit in bytes
    // (a reservation's reference, a location's name) is not counted.
    let count = match text {
        Some(t) if t.len() > limits::MAX_TEXT => t.chars().count(),
        _ => 0,
    };
    if count > limits::MAX_TEXT {
        return Err(StockError::TooMany {
            what,
            count,
            max: limits::MAX_TEXT,
        });
    }
    Ok(())
}

impl StockLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a location. Adding the same location again is a no-op; the same id with
    /// different data is [`StockError::AlreadyExists`].
    pub fn add_location(&mut self, location: Location) -> Result<(), StockError> {
        check_text("characters in location name", Some(&location.name))?;
        check_text("characters in region", Some(&location.region))?;
        match self.locations.get(&location.id) {
            Some(existing) if *existing == location => Ok(()),
            Some(_) => Err(StockError::AlreadyExists {
                what: "location",
                id: location.id.to_string(),
            }),
            None if self.locations.len() >= limits::MAX_LOCATIONS => Err(StockError::TooMany {
                what: "locations",
                count: self.locations.len() + 1,
                max: limits::MAX_LOCATIONS,
            }),
            None => {
                let index = u32::try_from(self.location_ids.len()).unwrap_or(u32::MAX);
                self.location_ids.push(location.id.clone());
                self.location_index.insert(location.id.clone(), index);
                self.locations.insert(location.id.clone(), location);
                Ok(())
            }
        }
    }

    /// Registers a variant with its policy. Registering it again with the same policy is
    /// a no-op; with another policy it is [`StockError::AlreadyExists`] (use
    /// [`StockLedger::set_policy`]). A bundle id cannot be registered.
    pub fn register_variant(
        &mut self,
        variant: VariantId,
        policy: StockPolicy,
    ) -> Result<(), StockError> {
        if self.bundles.contains_key(&variant) {
            return Err(StockError::AlreadyExists {
                what: "bundle",
                id: variant.to_string(),
            });
        }
        match self.slot_of(&variant).and_then(|i| self.slots.get(i)) {
            Some(s) if s.settings.policy == policy => Ok(()),
            Some(_) => Err(StockError::AlreadyExists {
                what: "variant",
                id: variant.to_string(),
            }),
            None => {
                // Nothing is in stock yet: start "out" so the first receipt re-arms the
                // alert instead of a never-stocked variant raising one.
                let settings = VariantSettings {
                    policy,
                    alert: AlertLevel::Out,
                    ..VariantSettings::default()
                };
                let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.variant_index.insert(&variant, index);
                self.slots.push(VariantSlot::new(variant, settings));
                Ok(())
            }
        }
    }

    /// Changes a variant's policy. Existing reservations stay; new ones follow it.
    pub fn set_policy(
        &mut self,
        variant: &VariantId,
        policy: StockPolicy,
    ) -> Result<(), StockError> {
        self.settings_mut(variant)?.policy = policy;
        Ok(())
    }

    /// Sets the units of `variant` held back from sale at `location`.
    pub fn set_safety_stock(
        &mut self,
        variant: &VariantId,
        location: &LocationId,
        units: u32,
    ) -> Result<(), StockError> {
        let loc = self.location_checked(location)?;
        if units > limits::MAX_QUANTITY {
            return Err(StockError::InvalidQuantity {
                quantity: i64::from(units),
                max: limits::MAX_QUANTITY,
            });
        }
        let slot = self.slot_checked(variant)?;
        if let Some(s) = self.slots.get_mut(slot) {
            if units != 0 || s.cell(loc).is_some() {
                s.update(loc, |cell| cell.safety = units);
            }
        }
        Ok(())
    }

    /// The location, if known.
    pub fn location(&self, id: &LocationId) -> Option<&Location> {
        self.locations.get(id)
    }

    /// Every location, in id order.
    pub fn locations(&self) -> impl Iterator<Item = &Location> {
        self.locations.values()
    }

    /// The variant's policy, if registered.
    pub fn policy(&self, variant: &VariantId) -> Option<StockPolicy> {
        self.slot(variant).map(|s| s.settings.policy)
    }

    /// Registered variants (not bundles), in no particular order.
    pub fn variants(&self) -> impl Iterator<Item = &VariantId> {
        self.slots.iter().map(|s| &s.id)
    }

    /// The journal, oldest first. The ledger keeps it as compact records and builds
    /// the movements for the reader; [`StockLedger::journal_since`] builds only the
    /// newest, [`StockLedger::journal_len`] none.
    pub fn journal(&self) -> Vec<Movement> {
        self.journal_since(0)
    }

    /// Movements with `seq` greater than `after` (for a host that persists them in
    /// batches).
    pub fn journal_since(&self, after: u64) -> Vec<Movement> {
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        (start..self.journal.len())
            .filter_map(|i| self.movement(i))
            .collect()
    }

    /// Movements in the journal (the `seq` of the newest).
    pub fn journal_len(&self) -> usize {
        self.journal.len()
    }

    /// The movement at `index` in the journal (`seq` − 1), built from its record.
    pub(super) fn movement(&self, index: usize) -> Option<Movement> {
        let r = self.journal.get(index)?;
        let variant = self.slots.get(usize::try_from(r.slot).ok()?)?.id.clone();
        let location = self.location_id(r.location)?.clone();
        let position = r.kind.reservation();
        let reservation = position
            .and_then(|p| usize::try_from(p).ok())
            .and_then(|p| self.reservations.get(p));
        let reservation_id = || reservation.map(|h| h.id.clone());
        let kind = match r.kind {
            RecordKind::IncomingExpected => MovementKind::IncomingExpected,
            RecordKind::IncomingCancelled => MovementKind::IncomingCancelled,
            RecordKind::Receipt { from_incoming } => MovementKind::Receipt { from_incoming },
            RecordKind::Reserve { .. } => MovementKind::Reserve {
                reservation: reservation_id()?,
                expires_at: match position.and_then(|p| self.reserved_expiries.get(&p)) {
                    Some(original) => *original,
                    None => reservation.and_then(|h| h.expires_at),
                },
            },
            RecordKind::Release { expired, .. } => MovementKind::Release {
                reservation: reservation_id()?,
                expired,
            },
            RecordKind::Sale { .. } => MovementKind::Sale {
                reservation: reservation_id()?,
            },
            RecordKind::Adjustment { reason, direction } => {
                MovementKind::Adjustment { reason, direction }
            }
            RecordKind::ReturnRestock => MovementKind::ReturnRestock,
            RecordKind::Quarantine => MovementKind::Quarantine,
            RecordKind::QuarantineRelease => MovementKind::QuarantineRelease,
            RecordKind::WriteOff { from } => MovementKind::WriteOff { from },
            RecordKind::Whole { index } => {
                self.whole_kinds.get(usize::try_from(index).ok()?)?.clone()
            }
        };
        let reference = match r.reference {
            NO_REFERENCE => None,
            RESERVATION_REFERENCE => reservation
                .and_then(|h| self.held_reference(h))
                .map(str::to_string),
            i => self
                .references
                .get(usize::try_from(i).ok()?)
                .map(|t| t.to_string()),
        };
        Some(Movement {
            seq: u64::try_from(index).ok()?.saturating_add(1),
            at: r.at,
            variant,
            location,
            kind,
            quantity: r.quantity,
            reference,
        })
    }

    /// The live balances (equal to [`super::rebuild_balances`] of the journal): every
    /// (variant, location) a movement touched. Built from the ledger's own per-variant
    /// cells on the first read after a change; prefer [`StockLedger::balance`] for one
    /// pair.
    pub fn balances(&self) -> &Balances {
        self.balances_view.get_or_init(|| {
            let mut all = Balances::default();
            for slot in &self.slots {
                let mut by_location = FastMap::default();
                for (location, cell) in slot.moved_cells() {
                    if let Some(id) = self.location_id(location) {
                        by_location.insert(id.clone(), cell.balance);
                    }
                }
                if !by_location.is_empty() {
                    all.insert(slot.id.clone(), by_location);
                }
            }
            all
        })
    }

    /// The balance of one (variant, location); zero when nothing moved there.
    pub fn balance(&self, variant: &VariantId, location: &LocationId) -> Balance {
        match (self.slot(variant), self.location_of(location)) {
            (Some(slot), Some(loc)) => slot.balance(loc),
            _ => Balance::default(),
        }
    }

    /// Safety stock of one (variant, location).
    pub fn safety_stock(&self, variant: &VariantId, location: &LocationId) -> u32 {
        match (self.slot(variant), self.location_of(location)) {
            (Some(slot), Some(loc)) => slot.safety(loc),
            _ => 0,
        }
    }

    /// Sellable units (available clamped at zero) of one (variant, location).
    pub fn sellable(&self, variant: &VariantId, location: &LocationId) -> u64 {
        match (self.slot(variant), self.location_of(location)) {
            (Some(slot), Some(loc)) => slot.cell(loc).map_or(0, |c| c.balance.sellable(c.safety)),
            _ => 0,
        }
    }

    /// The per-location view of a variant.
    pub fn level(
        &self,
        variant: &VariantId,
        location: &LocationId,
    ) -> Result<StockLevel, StockError> {
        let slot = self.slot_checked(variant)?;
        let loc = self.location_checked(location)?;
        let (balance, safety) = self
            .slots
            .get(slot)
            .map(|s| (s.balance(loc), s.safety(loc)))
            .unwrap_or_default();
        Ok(StockLevel::from_balance(location.clone(), &balance, safety))
    }

    /// The all-locations view of a variant, one level per known location.
    pub fn levels(&self, variant: &VariantId) -> Result<VariantLevels, StockError> {
        let settings = self.settings(variant)?;
        let slot = self.slot(variant);
        let mut view = VariantLevels {
            variant: variant.clone(),
            policy: settings.policy,
            locations: Vec::with_capacity(self.locations.len()),
            on_hand: 0,
            reserved: 0,
            sellable: 0,
            incoming: 0,
            quarantined: 0,
            in_transit: 0,
        };
        for id in self.locations.keys() {
            let cell = self
                .location_of(id)
                .and_then(|loc| slot.and_then(|s| s.cell(loc)))
                .unwrap_or_default();
            let level = StockLevel::from_balance(id.clone(), &cell.balance, cell.safety);
            view.on_hand = view.on_hand.saturating_add(level.on_hand);
            view.reserved = view.reserved.saturating_add(level.reserved);
            view.sellable = view.sellable.saturating_add(level.sellable());
            view.incoming = view.incoming.saturating_add(level.incoming);
            view.quarantined = view.quarantined.saturating_add(level.quarantined);
            view.in_transit = view.in_transit.saturating_add(level.in_transit);
            view.locations.push(level);
        }
        Ok(view)
    }

    /// Sellable units of a variant summed over every location.
    pub fn total_sellable(&self, variant: &VariantId) -> u64 {
        self.slot(variant).map_or(0, VariantSlot::total_sellable)
    }

    /// A reservation, if the id is known: an owned view built from the ledger's
    /// compact record of it.
    pub fn reservation(&self, id: &ReservationId) -> Option<Reservation> {
        self.reservation_position(id)
            .and_then(|i| self.reservation_view(i))
    }

    /// When a known reservation lapses (`None` inside: never), without building its
    /// view: for the engine's question "does this payment stop a clock?".
    pub(crate) fn reservation_expiry(&self, id: &ReservationId) -> Option<Option<DateTime<Utc>>> {
        self.reservation_position(id)
            .and_then(|i| self.reservations.get(i))
            .map(|h| h.expires_at)
    }

    /// The variant a reservation holds, an order's or one made by hand, without building
    /// its view (the engine's question "which stock-log partition does a commit or
    /// release of it belong to?"): `None` for a bundle's with components, or an
    /// unknown id, as [`StockLedger::reservation`] would show it.
    pub(crate) fn plain_reservation_variant(&self, id: &ReservationId) -> Option<&VariantId> {
        let h = self.reservations.get(self.reservation_position(id)?)?;
        match self.held_bundle(h) {
            Some(b) if !b.components.is_empty() => None,
            _ => self.held_variant(h),
        }
    }

    /// A transfer, if the id is known.
    pub fn transfer_info(&self, id: &TransferId) -> Option<&Transfer> {
        self.transfers.get(id)
    }

    /// The key of a registered variant (not a bundle) in this ledger, for
    /// [`StockLedger::reserve_quiet_keyed`]: a caller that sends many reservations for
    /// the same variants looks each up by its id once, here, instead of on every call.
    ///
    /// A key is this ledger's dense index of the variant and the ledger's tag. It never
    /// goes stale in this ledger (variants are never removed); any other ledger,
    /// including a clone of this one, refuses it.
    pub fn variant_key(&self, variant: &VariantId) -> Option<VariantKey> {
        self.slot_of(variant)
            .and_then(|i| u32::try_from(i).ok())
            .map(|slot| VariantKey {
                slot,
                ledger: self.tag.0,
            })
    }

    /// The key of a location in this ledger, for [`StockLedger::reserve_quiet_keyed`].
    pub fn location_key(&self, location: &LocationId) -> Option<LocationKey> {
        self.location_of(location).map(|index| LocationKey {
            index,
            ledger: self.tag.0,
        })
    }

    /// The key of a reservation (any state) in this ledger, for
    /// [`StockLedger::commit_quiet_keyed`] and [`StockLedger::release_quiet_keyed`].
    pub fn reservation_key(&self, id: &ReservationId) -> Option<ReservationKey> {
        self.reservation_position(id)
            .map(|position| self.key_of_reservation(position))
    }

    pub(super) fn key_of_reservation(&self, position: usize) -> ReservationKey {
        ReservationKey {
            position: u32::try_from(position).unwrap_or(u32::MAX),
            ledger: self.tag.0,
        }
    }

    /// The position a reservation key names, or [`StockError::InvalidParameter`] when
    /// this ledger did not make it.
    pub(super) fn resolve_reservation_key(&self, key: ReservationKey) -> Result<usize, StockError> {
        if key.ledger != self.tag.0 {
            return Err(StockError::InvalidParameter {
                parameter: "reservation key",
                reason: "made by another ledger (or before this ledger was copied)",
            });
        }
        match usize::try_from(key.position) {
            Ok(position) if position < self.reservations.len() => Ok(position),
            _ => Err(NO_SUCH_KEY),
        }
    }

    /// The variant's slot and the location's index a pair of keys names, or
    /// [`StockError::InvalidParameter`] when this ledger did not make them.
    pub(super) fn resolve_keys(
        &self,
        variant: VariantKey,
        location: LocationKey,
    ) -> Result<(usize, u32), StockError> {
        let foreign = |parameter| StockError::InvalidParameter {
            parameter,
            reason: "made by another ledger (or before this ledger was copied)",
        };
        if variant.ledger != self.tag.0 {
            return Err(foreign("variant key"));
        }
        if location.ledger != self.tag.0 {
            return Err(foreign("location key"));
        }
        let slot = usize::try_from(variant.slot).map_err(|_| foreign("variant key"))?;
        Ok((slot, location.index))
    }

    pub(super) fn slot_of(&self, variant: &VariantId) -> Option<usize> {
        let slots = &self.slots;
        self.variant_index
            .position(variant, |i| slots.get(i).map(|s| &s.id))
    }

    pub(super) fn slot(&self, variant: &VariantId) -> Option<&VariantSlot> {
        self.slot_of(variant).and_then(|i| self.slots.get(i))
    }

    /// The dense index of a registered variant, or why it has none (unknown, or a
    /// bundle, which holds no stock of its own).
    pub(super) fn slot_checked(&self, variant: &VariantId) -> Result<usize, StockError> {
        match self.slot_of(variant) {
            Some(i) => Ok(i),
            None if self.bundles.contains_key(variant) => Err(StockError::InvalidBundle {
                bundle: variant.clone(),
                reason: "a bundle holds no stock of its own; move its components",
            }),
            None => Err(StockError::UnknownVariant {
                variant: variant.clone(),
            }),
        }
    }

    pub(super) fn settings(&self, variant: &VariantId) -> Result<&VariantSettings, StockError> {
        let slot = self.slot_checked(variant)?;
        self.slots
            .get(slot)
            .map(|s| &s.settings)
            .ok_or_else(|| StockError::UnknownVariant {
                variant: variant.clone(),
            })
    }

    fn settings_mut(&mut self, variant: &VariantId) -> Result<&mut VariantSettings, StockError> {
        let slot = self.slot_checked(variant)?;
        self.slots
            .get_mut(slot)
            .map(|s| &mut s.settings)
            .ok_or_else(|| StockError::UnknownVariant {
                variant: variant.clone(),
            })
    }

    /// The dense index of a known location.
    pub(super) fn location_of(&self, location: &LocationId) -> Option<u32> {
        self.location_index.get(location).copied()
    }

    /// The id of a location index.
    pub(super) fn location_id(&self, location: u32) -> Option<&LocationId> {
        usize::try_from(location)
            .ok()
            .and_then(|i| self.location_ids.get(i))
    }

    pub(super) fn location_checked(&self, location: &LocationId) -> Result<u32, StockError> {
        self.location_of(location)
            .ok_or_else(|| StockError::UnknownLocation {
                location: location.clone(),
            })
    }

    pub(super) fn check_location(&self, location: &LocationId) -> Result<(), StockError> {
        self.location_checked(location).map(|_| ())
    }

    /// Where a reservation sits in `reservations`.
    pub(super) fn reservation_position(&self, id: &ReservationId) -> Option<usize> {
        let reservations = &self.reservations;
        self.reservation_index
            .position(id, |i| reservations.get(i).map(|r| &r.id))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<ReservationId> {
        (0..n)
            .map(|i| ReservationId::parse(format!("r{i}")).unwrap())
            .collect()
    }

    #[test]
    fn ids_whose_short_hashes_collide_are_found_through_the_side_map() {
        let ids = ids(3);
        let mut index = ReservationIndex::default();
        // Force every id onto the same 32 bits: the first takes the hash slot, the
        // others go to `collided`; each is still found, and only where it is.
        let same = 0xABCD_1234_0000_0000;
        for (i, id) in ids.iter().enumerate() {
            index.insert_hashed(same, id, i as u32);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.position_hashed(same, id, |p| ids.get(p)), Some(i));
        }
        let stranger = ReservationId::parse("nobody").unwrap();
        assert_eq!(index.position_hashed(same, &stranger, |p| ids.get(p)), None);
        assert_eq!(index.collided.len(), 2);
    }

    #[test]
    fn an_index_rebuilt_from_ids_finds_each_at_its_position() {
        let ids = ids(1_000);
        let index = ReservationIndex::rebuild(ids.iter());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.position(id, |p| ids.get(p)), Some(i));
        }
        let stranger = ReservationId::parse("r1000").unwrap();
        assert_eq!(index.position(&stranger, |p| ids.get(p)), None);
    }

    #[test]
    fn cells_of_the_first_locations_are_inline_and_the_rest_sorted_aside() {
        let mut slot = VariantSlot::new(VariantId::parse("V").unwrap(), VariantSettings::default());
        let receipt = BalanceDelta {
            on_hand: 5,
            ..BalanceDelta::default()
        };
        for location in [9, 2, 6, 0] {
            slot.apply(location, &receipt);
        }
        slot.update(7, |c| c.safety = 1);
        assert_eq!(
            slot.spill.iter().map(|(l, _, _)| *l).collect::<Vec<_>>(),
            [6, 7, 9]
        );
        let moved: Vec<u32> = slot.moved_cells().map(|(l, _)| l).collect();
        assert_eq!(moved, [0, 2, 6, 9]);
        assert_eq!(slot.balance(2).on_hand, 5);
        assert_eq!(slot.balance(7).on_hand, 0);
        assert_eq!(slot.safety(7), 1);
        assert_eq!(slot.balance(1), Balance::default());
        assert_eq!(slot.total_sellable(), 20);
        // Quarantine and transfers reach the cold half; the sellable sum ignores it.
        let quarantine = BalanceDelta {
            quarantined: 2,
            in_transit: 1,
            ..BalanceDelta::default()
        };
        slot.apply(2, &quarantine);
        slot.apply(9, &quarantine);
        assert_eq!(slot.balance(2).quarantined, 2);
        assert_eq!(slot.balance(9).in_transit, 1);
        assert_eq!(slot.total_sellable(), 20);
    }

    #[test]
    fn a_reservation_touches_two_cache_lines_of_a_slot() {
        use std::mem::{align_of, offset_of, size_of};
        assert_eq!(align_of::<VariantSlot>(), 64);
        assert_eq!(size_of::<HotCell>(), 32);
        // id, settings and the sellable sum in the first line; hot halves from the
        // second, two to a line.
        assert!(offset_of!(VariantSlot, sellable) + size_of::<u128>() <= 64);
        assert_eq!(offset_of!(VariantSlot, hot), 64);
    }
}
