//! Stock data: locations, policies, balances, reservations.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{LocationId, OrderId, ReservationId, VariantId};

/// What kind of place a location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    /// A warehouse or distribution centre.
    Warehouse,
    /// A retail store that also ships.
    Store,
    /// A supplier that ships on the shop's behalf.
    Dropship,
}

/// A place that holds stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Its id.
    pub id: LocationId,
    /// A name a person recognises ("Istanbul DC").
    pub name: String,
    /// Sourcing preference: lower is preferred.
    pub priority: u32,
    /// Region code such as an ISO 3166-2 subdivision (`"TR-34"`).
    pub region: String,
    /// What kind of place.
    pub kind: LocationKind,
}

impl Location {
    /// A location.
    pub fn new(
        id: LocationId,
        name: impl Into<String>,
        priority: u32,
        region: impl Into<String>,
        kind: LocationKind,
    ) -> Self {
        Location {
            id,
            name: name.into(),
            priority,
            region: region.into(),
            kind,
        }
    }
}

/// What a variant may do when it runs out: a per-variant policy, never an accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockPolicy {
    /// Reserve only what is available (on hand − reserved − safety stock).
    #[default]
    Deny,
    /// Reserve beyond what is available, up to `limit` units below zero per location
    /// (`None`: no limit).
    Backorder {
        /// How far below zero availability may go at one location.
        limit: Option<u32>,
    },
    /// Reserve against expected receipts: available + incoming at the location.
    PreOrder,
}

impl fmt::Display for StockPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StockPolicy::Deny => f.write_str("deny"),
            StockPolicy::Backorder { limit: None } => f.write_str("backorder (no limit)"),
            StockPolicy::Backorder { limit: Some(l) } => write!(f, "backorder (limit {l})"),
            StockPolicy::PreOrder => f.write_str("pre-order"),
        }
    }
}

impl StockPolicy {
    /// Units this policy still lets be reserved, given a balance and safety stock.
    /// `i64::MAX` for an unlimited backorder.
    pub fn reservable(&self, balance: &Balance, safety_stock: u32) -> i64 {
        let available = balance.available(safety_stock);
        match self {
            StockPolicy::Deny => available,
            StockPolicy::Backorder { limit: None } => i64::MAX,
            StockPolicy::Backorder { limit: Some(l) } => available.saturating_add(i64::from(*l)),
            StockPolicy::PreOrder => available.saturating_add(balance.incoming),
        }
    }
}

/// Which quantity of a balance a movement draws on (for [`super::StockError::NotEnough`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Units on the shelf.
    OnHand,
    /// Units on hand that no reservation holds (on hand − reserved).
    Free,
    /// Units in quarantine.
    Quarantined,
    /// Units expected.
    Incoming,
    /// Units sent and not yet received.
    InTransit,
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bucket::OnHand => "on hand",
            Bucket::Free => "unreserved on hand",
            Bucket::Quarantined => "quarantined",
            Bucket::Incoming => "incoming",
            Bucket::InTransit => "in transit",
        })
    }
}

/// The journal-derived quantities of one (variant, location). A projection of the
/// journal: [`super::rebuild_balances`] gives the same numbers from the movements alone.
///
/// Quantities are `i64`: `on_hand` goes below zero only when a backordered reservation
/// is committed before stock arrives; every other field stays at zero or above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balance {
    /// Units physically at the location and sellable once free.
    pub on_hand: i64,
    /// Units held by open reservations.
    pub reserved: i64,
    /// Units expected (purchase orders, pre-order stock).
    pub incoming: i64,
    /// Units in quarantine (returned goods awaiting inspection): never sellable.
    pub quarantined: i64,
    /// Units sent from this location on a transfer and not yet received.
    pub in_transit: i64,
}

impl Balance {
    /// `on_hand − reserved − safety_stock`. Negative when oversold (backorder) or when
    /// safety stock exceeds the free stock; [`Balance::sellable`] clamps it at zero.
    pub fn available(&self, safety_stock: u32) -> i64 {
        self.on_hand
            .saturating_sub(self.reserved)
            .saturating_sub(i64::from(safety_stock))
    }

    /// [`Balance::available`] clamped at zero: what a channel may be told.
    pub fn sellable(&self, safety_stock: u32) -> u64 {
        u64::try_from(self.available(safety_stock)).unwrap_or(0)
    }

    /// Adds a delta.
    pub fn add(&mut self, d: &BalanceDelta) {
        self.on_hand = self.on_hand.saturating_add(d.on_hand);
        self.reserved = self.reserved.saturating_add(d.reserved);
        self.incoming = self.incoming.saturating_add(d.incoming);
        self.quarantined = self.quarantined.saturating_add(d.quarantined);
        self.in_transit = self.in_transit.saturating_add(d.in_transit);
    }
}

/// A change to a [`Balance`], derived from a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BalanceDelta {
    /// Change of on hand.
    pub on_hand: i64,
    /// Change of reserved.
    pub reserved: i64,
    /// Change of incoming.
    pub incoming: i64,
    /// Change of quarantined.
    pub quarantined: i64,
    /// Change of in transit.
    pub in_transit: i64,
}

/// One (variant, location) as a person or a channel sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// The location.
    pub location: LocationId,
    /// Units on hand.
    pub on_hand: i64,
    /// Units reserved.
    pub reserved: i64,
    /// Units held back from sale.
    pub safety_stock: u32,
    /// `on_hand − reserved − safety_stock`, may be negative (see [`Balance::available`]).
    pub available: i64,
    /// Units expected.
    pub incoming: i64,
    /// Units quarantined.
    pub quarantined: i64,
    /// Units sent out on transfers and not yet received.
    pub in_transit: i64,
}

impl StockLevel {
    /// Builds a level from a balance.
    pub fn from_balance(location: LocationId, balance: &Balance, safety_stock: u32) -> Self {
        StockLevel {
            location,
            on_hand: balance.on_hand,
            reserved: balance.reserved,
            safety_stock,
            available: balance.available(safety_stock),
            incoming: balance.incoming,
            quarantined: balance.quarantined,
            in_transit: balance.in_transit,
        }
    }

    /// `available` clamped at zero.
    pub fn sellable(&self) -> u64 {
        u64::try_from(self.available).unwrap_or(0)
    }
}

/// A variant across all locations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantLevels {
    /// The variant.
    pub variant: VariantId,
    /// Its policy.
    pub policy: StockPolicy,
    /// One level per known location, in location id order.
    pub locations: Vec<StockLevel>,
    /// Sum of on hand.
    pub on_hand: i64,
    /// Sum of reserved.
    pub reserved: i64,
    /// Sum of sellable (each location's available clamped at zero, so one oversold
    /// location never hides another's stock).
    pub sellable: u64,
    /// Sum of incoming.
    pub incoming: i64,
    /// Sum of quarantined.
    pub quarantined: i64,
    /// Sum of in transit.
    pub in_transit: i64,
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    /// Holding stock (possibly partly committed).
    Active,
    /// Fully committed: the units were sold.
    Committed,
    /// Released by a caller; any committed part stays sold.
    Released,
    /// Released by the expiry sweep.
    Expired,
}

/// A two-phase hold on stock: reserve, then commit (sold) or release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Its id (the idempotency key).
    pub id: ReservationId,
    /// The variant reserved (a bundle, when `components` is not empty).
    pub variant: VariantId,
    /// The location.
    pub location: LocationId,
    /// Units reserved (bundles when `components` is not empty).
    pub quantity: u32,
    /// Units committed so far.
    pub committed: u32,
    /// Units released early by a partial release (a cancelled part of an order line).
    #[serde(default)]
    pub released: u32,
    /// When the reservation lapses unless committed.
    pub expires_at: Option<DateTime<Utc>>,
    /// The caller's reference, e.g. `"order o-1 line 2"`.
    pub reference: Option<String>,
    /// The order that owns it, when an order's confirmation made it. Such a reservation
    /// changes only through its order (the engine refuses raw commands on it), so an
    /// order's allocations and the ledger never disagree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderId>,
    /// Where it stands.
    pub state: ReservationState,
    /// For a bundle: the components and units per bundle. Empty for a plain variant.
    pub components: Vec<(VariantId, u32)>,
    /// `seq` of the first movement the reservation produced; a retried reserve answers
    /// with the movements from here on.
    pub first_seq: u64,
}

impl Reservation {
    /// Units still held.
    pub fn remaining(&self) -> u32 {
        if self.state == ReservationState::Active {
            self.quantity
                .saturating_sub(self.committed)
                .saturating_sub(self.released)
        } else {
            0
        }
    }

    /// The variants whose stock this reservation holds, with units per reserved unit.
    pub fn stock_lines(&self) -> Vec<(VariantId, u32)> {
        if self.components.is_empty() {
            vec![(self.variant.clone(), 1)]
        } else {
            self.components.clone()
        }
    }
}

/// Why stock was adjusted by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    /// Broken goods (decrease only).
    Damage,
    /// Goods gone missing (decrease only).
    Loss,
    /// Goods found (increase only).
    Found,
    /// A correction of an earlier mistake (either way).
    Correction,
}

impl fmt::Display for AdjustmentReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AdjustmentReason::Damage => "damage",
            AdjustmentReason::Loss => "loss",
            AdjustmentReason::Found => "found",
            AdjustmentReason::Correction => "correction",
        })
    }
}

/// Which way a signed movement went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Stock went up.
    Increase,
    /// Stock went down.
    Decrease,
}

/// Where a write-off takes goods from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOffSource {
    /// From quarantine (inspected and found unsellable).
    Quarantine,
    /// From unreserved stock on hand.
    OnHand,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn available_subtracts_reserved_and_safety_and_sellable_clamps() {
        let b = Balance {
            on_hand: 5,
            reserved: 3,
            ..Balance::default()
        };
        assert_eq!(b.available(1), 1);
        assert_eq!(b.available(4), -2);
        assert_eq!(b.sellable(4), 0);
    }

    #[test]
    fn policies_bound_what_can_be_reserved() {
        let b = Balance {
            on_hand: 2,
            reserved: 1,
            incoming: 10,
            ..Balance::default()
        };
        assert_eq!(StockPolicy::Deny.reservable(&b, 0), 1);
        assert_eq!(
            StockPolicy::Backorder { limit: Some(3) }.reservable(&b, 0),
            4
        );
        assert_eq!(
            StockPolicy::Backorder { limit: None }.reservable(&b, 0),
            i64::MAX
        );
        assert_eq!(StockPolicy::PreOrder.reservable(&b, 0), 11);
        assert_eq!(
            StockPolicy::Backorder { limit: Some(3) }.to_string(),
            "backorder (limit 3)"
        );
    }
}
