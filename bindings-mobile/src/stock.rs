//! Stock: locations, variants, receipts, balances per location and reservations.

use std::time::SystemTime;

use ordersmith::ids::{LocationId, OrderId, VariantId};
use ordersmith::stock::{self as core, ReservationFilter, StockCommand};

use crate::convert::host_time;
use crate::engine::Engine;
use crate::errors::OrdersmithError;

/// What a location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LocationKind {
    /// A warehouse.
    Warehouse,
    /// A shop that also ships.
    Store,
    /// A supplier shipping for the shop.
    Dropship,
}

impl From<LocationKind> for core::LocationKind {
    fn from(k: LocationKind) -> Self {
        match k {
            LocationKind::Warehouse => Self::Warehouse,
            LocationKind::Store => Self::Store,
            LocationKind::Dropship => Self::Dropship,
        }
    }
}

/// A stock location.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Location {
    /// Id, e.g. `"IST-1"`.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// Lower is tried first when sourcing.
    pub priority: u32,
    /// Region, for nearest-region sourcing.
    pub region: String,
    /// What it is.
    pub kind: LocationKind,
}

/// One variant's stock at one location: its balance.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StockBalance {
    /// The location.
    pub location: String,
    /// Units on the shelf.
    pub on_hand: i64,
    /// Units reserved for orders.
    pub reserved: i64,
    /// Units held back from sale.
    pub safety_stock: u32,
    /// On hand less reserved less safety stock (negative when oversold by policy).
    pub available: i64,
    /// Units expected.
    pub incoming: i64,
    /// Units quarantined.
    pub quarantined: i64,
    /// Units on their way between locations.
    pub in_transit: i64,
}

/// One variant's stock at every location, with totals.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VariantStock {
    /// The variant.
    pub variant: String,
    /// Per location.
    pub locations: Vec<StockBalance>,
    /// Units on hand everywhere.
    pub on_hand: i64,
    /// Units reserved everywhere.
    pub reserved: i64,
    /// Units that can be sold now.
    pub sellable: u64,
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReservationState {
    /// Holding stock.
    Active,
    /// Shipped.
    Committed,
    /// Released.
    Released,
    /// Lapsed.
    Expired,
}

impl From<core::ReservationState> for ReservationState {
    fn from(s: core::ReservationState) -> Self {
        match s {
            core::ReservationState::Active => Self::Active,
            core::ReservationState::Committed => Self::Committed,
            core::ReservationState::Released => Self::Released,
            core::ReservationState::Expired => Self::Expired,
        }
    }
}

/// Stock held for an order line (or a host's own hold).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reservation {
    /// Id.
    pub id: String,
    /// The variant held.
    pub variant: String,
    /// Where.
    pub location: String,
    /// Units reserved at first.
    pub quantity: u32,
    /// Units still held.
    pub remaining: u32,
    /// When it lapses, if it does.
    pub expires_at: Option<SystemTime>,
    /// The order that owns it.
    pub order_id: Option<String>,
    /// Where it stands.
    pub state: ReservationState,
}

impl From<core::Reservation> for Reservation {
    fn from(r: core::Reservation) -> Self {
        Reservation {
            remaining: r.remaining(),
            id: r.id.to_string(),
            variant: r.variant.to_string(),
            location: r.location.to_string(),
            quantity: r.quantity,
            expires_at: r.expires_at.map(host_time),
            order_id: r.order.map(|o| o.to_string()),
            state: r.state.into(),
        }
    }
}

#[uniffi::export]
impl Engine {
    /// Adds a stock location.
    pub fn add_location(&self, location: Location) -> Result<(), OrdersmithError> {
        let location = core::Location::new(
            LocationId::parse(location.id)?,
            location.name,
            location.priority,
            location.region,
            location.kind.into(),
        );
        self.call(|e| e.stock(StockCommand::AddLocation { location }))?;
        Ok(())
    }

    /// Registers a variant whose stock is tracked (never sold below zero).
    pub fn register_variant(&self, variant: String) -> Result<(), OrdersmithError> {
        let variant = VariantId::parse(variant)?;
        let policy = core::StockPolicy::Deny;
        self.call(|e| e.stock(StockCommand::RegisterVariant { variant, policy }))?;
        Ok(())
    }

    /// Receives goods at a location.
    #[uniffi::method(default(reference = None))]
    pub fn receive(
        &self,
        variant: String,
        location: String,
        quantity: u32,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let command = StockCommand::Receive {
            variant: VariantId::parse(variant)?,
            location: LocationId::parse(location)?,
            quantity,
            reference,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// A variant's balances at every location, with totals.
    pub fn stock_levels(&self, variant: String) -> Result<VariantStock, OrdersmithError> {
        let variant = VariantId::parse(variant)?;
        let levels = self.call(|e| e.with_stock(|ledger| ledger.levels(&variant)))??;
        Ok(VariantStock {
            variant: levels.variant.to_string(),
            locations: levels
                .locations
                .into_iter()
                .map(|l| StockBalance {
                    location: l.location.to_string(),
                    on_hand: l.on_hand,
                    reserved: l.reserved,
                    safety_stock: l.safety_stock,
                    available: l.available,
                    incoming: l.incoming,
                    quarantined: l.quarantined,
                    in_transit: l.in_transit,
                })
                .collect(),
            on_hand: levels.on_hand,
            reserved: levels.reserved,
            sellable: levels.sellable,
        })
    }

    /// Live reservations, ordered by id; each given filter must match.
    #[uniffi::method(default(order_id = None, variant = None, location = None))]
    pub fn reservations(
        &self,
        order_id: Option<String>,
        variant: Option<String>,
        location: Option<String>,
    ) -> Result<Vec<Reservation>, OrdersmithError> {
        let filter = ReservationFilter {
            order: order_id.map(OrderId::parse).transpose()?,
            variant: variant.map(VariantId::parse).transpose()?,
            location: location.map(LocationId::parse).transpose()?,
            expiring_before: None,
        };
        let list = self.call(|e| e.reservations(&filter))?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}
