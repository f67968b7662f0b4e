//! The stock ledger: a variant-level, multi-location ledger.
//!
//! Key: (variant, location). Every change is an append-only [`Movement`] in the journal;
//! balances ([`Balance`]: on hand, reserved, incoming, quarantined, in transit) are a
//! projection of it, and [`rebuild_balances`] of the journal always equals
//! [`StockLedger::balances`]. Available is `on hand − reserved − safety stock`.
//!
//! Reservations are two-phase, like pending transfers in a financial ledger:
//! [`StockLedger::reserve`], then [`StockLedger::commit`] (a `sale`) or
//! [`StockLedger::release`]; each is idempotent by [`ReservationId`](crate::ids::ReservationId). The host calls
//! [`StockLedger::expire`] with its time to release lapsed holds: the core never reads
//! the clock. A variant's [`StockPolicy`] decides how far it may be reserved: deny,
//! backorder (with an optional limit) or pre-order (against incoming). Overselling past
//! the policy is refused with [`StockError::Insufficient`].
//!
//! Every command takes `&mut self`, the command data and `now`, and returns the
//! [`StockEvent`]s it produced, or a typed [`StockError`] having changed nothing. A bulk
//! caller that reads no events calls [`StockLedger::reserve_quiet`],
//! [`StockLedger::commit_quiet`] or [`StockLedger::release_quiet`]: the same checks,
//! journal, balances and alert state, but no event is built. Reservations are kept as
//! compact records; [`StockLedger::reservation`] returns an owned [`Reservation`] view.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ordersmith::ids::{LocationId, ReservationId, VariantId};
//! use ordersmith::stock::{Location, LocationKind, ReserveRequest, StockLedger, StockPolicy};
//!
//! let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
//! let (mug, ist) = (VariantId::parse("MUG")?, LocationId::parse("IST")?);
//! let mut ledger = StockLedger::new();
//! ledger.add_location(Location::new(ist.clone(), "Istanbul DC", 1, "TR-34", LocationKind::Warehouse))?;
//! ledger.register_variant(mug.clone(), StockPolicy::Deny)?;
//! ledger.receive(&mug, &ist, 5, Some("PO-1"), now)?;
//!
//! let r1 = ReservationId::parse("r-1")?;
//! ledger.reserve(ReserveRequest::new(r1.clone(), mug.clone(), ist.clone(), 3), now)?;
//! assert_eq!(ledger.level(&mug, &ist)?.available, 2);
//!
//! // Only 2 are left: the ledger refuses to oversell and changes nothing.
//! let err = ledger
//!     .reserve(ReserveRequest::new(ReservationId::parse("r-2")?, mug.clone(), ist.clone(), 3), now)
//!     .unwrap_err();
//! assert_eq!(err.code(), "STOCK_INSUFFICIENT");
//!
//! ledger.commit(&r1, now)?; // ships: on hand 2, reserved 0
//! assert!(ledger.commit(&r1, now)?.is_empty()); // a retry is a no-op
//! assert_eq!(ledger.level(&mug, &ist)?.on_hand, 2);
//! assert_eq!(ordersmith::stock::rebuild_balances(ledger.journal()), *ledger.balances());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bundle;
mod channel;
pub(crate) mod chunked;
mod command;
mod count;
mod error;
mod forecast;
mod held;
mod journal;
mod ledger;
mod model;
mod moves;
mod reserve;

use serde::{Deserialize, Serialize};

use crate::ids::{LocationId, VariantId};

/// The ledger's hash maps: keyed by ids that come from outside, looked up on every
/// movement. foldhash with a per-map random seed is several times faster than the
/// standard SipHash on short keys and still resists crafted collisions (benches/).
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Distinct keys numbered in order of first use, each with a value, for a write or a
/// plan that touches a few of them (an order's variants): found by a scan while there
/// are at most [`KeyNumbering::SCAN`], through a map built past that, so many keys (a
/// large order, a stock import) stay linear instead of quadratic.
#[derive(Debug, Clone)]
pub(crate) struct KeyNumbering<K, V = ()> {
    entries: Vec<(K, V)>,
    index: FastMap<K, usize>,
}

impl<K, V> Default for KeyNumbering<K, V> {
    fn default() -> Self {
        KeyNumbering {
            entries: Vec::new(),
            index: FastMap::default(),
        }
    }
}

impl<K: Clone + Eq + std::hash::Hash, V> KeyNumbering<K, V> {
    /// Keys looked for by a scan; beyond this many, through the map.
    const SCAN: usize = 16;

    /// The number of `key`, numbered now with the value `first` gives when it is new.
    pub(crate) fn number(&mut self, key: &K, first: impl FnOnce() -> V) -> usize {
        let known = if self.entries.len() <= Self::SCAN {
            self.entries.iter().position(|(k, _)| k == key)
        } else {
            if self.index.is_empty() {
                self.index
                    .extend(self.entries.iter().map(|(k, _)| k.clone()).zip(0..));
            }
            self.index.get(key).copied()
        };
        if let Some(n) = known {
            return n;
        }
        if !self.index.is_empty() {
            self.index.insert(key.clone(), self.entries.len());
        }
        self.entries.push((key.clone(), first()));
        self.entries.len() - 1
    }

    /// The keys with their values, in number order.
    pub(crate) fn entries(&self) -> &[(K, V)] {
        &self.entries
    }

    /// The value of key number `n`.
    pub(crate) fn value_mut(&mut self, n: usize) -> Option<&mut V> {
        self.entries.get_mut(n).map(|(_, v)| v)
    }
}

pub use channel::ChannelRule;
pub use command::{BundleComponent, StockCommand, StockLogEntry, StockOutcome};
pub use count::{CountReport, CountSheet, CountVariance};
pub use error::StockError;
pub use forecast::{AlertKind, Forecast, ReorderParams, StockAlert};
pub use journal::{rebuild_balances, Balances, Movement, MovementKind};
pub(crate) use ledger::IdIndex;
pub use ledger::{
    Bundle, LocationKey, ReservationKey, StockLedger, Transfer, TransferState, VariantKey,
};
pub use model::{
    AdjustmentReason, Balance, BalanceDelta, Bucket, Direction, Location, LocationKind,
    Reservation, ReservationState, StockLevel, StockPolicy, VariantLevels, WriteOffSource,
};
pub(crate) use moves::Unmoved;
pub use reserve::{KeyedReserveRequest, ReservationFilter, ReserveRequest};

/// Limits on stock input: a limit on everything.
pub mod limits {
    /// Units in one movement, reservation or setting.
    pub const MAX_QUANTITY: u32 = 1_000_000_000;
    /// Characters in a reference, location name or region.
    pub const MAX_TEXT: usize = 256;
    /// Locations in one ledger.
    pub const MAX_LOCATIONS: usize = 10_000;
    /// Components of one bundle.
    pub const MAX_BUNDLE_COMPONENTS: usize = 64;
    /// Variants in one cycle count.
    pub const MAX_COUNT_VARIANTS: usize = 100_000;
    /// Days in a forecast window, lead time or review period.
    pub const MAX_WINDOW_DAYS: u32 = 3_650;
}

/// What a stock command produced, for the host to store and act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StockEvent {
    /// A movement was appended to the journal.
    Moved(Movement),
    /// A low-stock or out-of-stock threshold was crossed.
    Alert(StockAlert),
    /// A deny variant's reservations exceed what is on hand at a location, after a
    /// physical loss (damage, loss, count): some reservations cannot ship from here and
    /// need re-sourcing.
    Shortfall {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units reserved.
        reserved: i64,
        /// Units on hand.
        on_hand: i64,
    },
}

impl StockEvent {
    /// A stable topic for outbox records: `stock.moved`, `stock.low_stock`, ...
    pub fn topic(&self) -> &'static str {
        match self {
            StockEvent::Moved(_) => "stock.moved",
            StockEvent::Alert(a) => match a.kind {
                AlertKind::LowStock => "stock.low_stock",
                AlertKind::OutOfStock => "stock.out_of_stock",
            },
            StockEvent::Shortfall { .. } => "stock.shortfall",
        }
    }

    /// The movement, if this event is one.
    pub fn movement(&self) -> Option<&Movement> {
        match self {
            StockEvent::Moved(m) => Some(m),
            _ => None,
        }
    }
}
