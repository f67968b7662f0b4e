//! The ledger: set-up, queries, and the movements that need no reservation.

use super::FastMap;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, CountId, LocationId, ReservationId, TransferId, VariantId};

use super::channel::ChannelState;
use super::count::CycleCount;
use super::error::StockError;
use super::forecast::AlertLevel;
use super::journal::{Balances, Movement};
use super::limits;
use super::model::{Balance, Location, Reservation, StockLevel, StockPolicy, VariantLevels};

/// Per-variant settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(super) struct VariantSettings {
    pub(super) policy: StockPolicy,
    pub(super) safety_stock: FastMap<LocationId, u32>,
    pub(super) low_stock_at: Option<u32>,
    pub(super) alert: AlertLevel,
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
pub struct StockLedger {
    pub(super) locations: BTreeMap<LocationId, Location>,
    pub(super) variants: FastMap<VariantId, VariantSettings>,
    pub(super) bundles: FastMap<VariantId, Bundle>,
    pub(super) balances: Balances,
    pub(super) journal: Vec<Movement>,
    pub(super) reservations: FastMap<ReservationId, Reservation>,
    pub(super) expiry_index: BTreeSet<(DateTime<Utc>, ReservationId)>,
    pub(super) transfers: FastMap<TransferId, Transfer>,
    pub(super) counts: FastMap<CountId, CycleCount>,
    pub(super) channels: BTreeMap<ChannelId, ChannelState>,
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
    let count = text.map_or(0, |t| t.chars().count());
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
        match self.variants.get(&variant) {
            Some(s) if s.policy == policy => Ok(()),
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
                self.variants.insert(variant, settings);
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
        self.check_location(location)?;
        if units > limits::MAX_QUANTITY {
            return Err(StockError::InvalidQuantity {
                quantity: i64::from(units),
                max: limits::MAX_QUANTITY,
            });
        }
        let settings = self.settings_mut(variant)?;
        if units == 0 {
            settings.safety_stock.remove(location);
        } else {
            settings.safety_stock.insert(location.clone(), units);
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
        self.variants.get(variant).map(|s| s.policy)
    }

    /// Registered variants (not bundles), in no particular order.
    pub fn variants(&self) -> impl Iterator<Item = &VariantId> {
        self.variants.keys()
    }

    /// The journal, oldest first.
    pub fn journal(&self) -> &[Movement] {
        &self.journal
    }

    /// Movements with `seq` greater than `after` (for a host that persists them in
    /// batches).
    pub fn journal_since(&self, after: u64) -> &[Movement] {
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        self.journal.get(start..).unwrap_or(&[])
    }

    /// The live balances (equal to [`super::rebuild_balances`] of the journal).
    pub fn balances(&self) -> &Balances {
        &self.balances
    }

    /// The balance of one (variant, location); zero when nothing moved there.
    pub fn balance(&self, variant: &VariantId, location: &LocationId) -> Balance {
        self.balances
            .get(variant)
            .and_then(|m| m.get(location))
            .copied()
            .unwrap_or_default()
    }

    /// Safety stock of one (variant, location).
    pub fn safety_stock(&self, variant: &VariantId, location: &LocationId) -> u32 {
        self.variants
            .get(variant)
            .and_then(|s| s.safety_stock.get(location))
            .copied()
            .unwrap_or(0)
    }

    /// Sellable units (available clamped at zero) of one (variant, location).
    pub fn sellable(&self, variant: &VariantId, location: &LocationId) -> u64 {
        self.balance(variant, location)
            .sellable(self.safety_stock(variant, location))
    }

    /// The per-location view of a variant.
    pub fn level(
        &self,
        variant: &VariantId,
        location: &LocationId,
    ) -> Result<StockLevel, StockError> {
        self.settings(variant)?;
        self.check_location(location)?;
        let balance = self.balance(variant, location);
        let safety = self.safety_stock(variant, location);
        Ok(StockLevel::from_balance(location.clone(), &balance, safety))
    }

    /// The all-locations view of a variant, one level per known location.
    pub fn levels(&self, variant: &VariantId) -> Result<VariantLevels, StockError> {
        let settings = self.settings(variant)?;
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
            let level = StockLevel::from_balance(
                id.clone(),
                &self.balance(variant, id),
                self.safety_stock(variant, id),
            );
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
        let Some(by_location) = self.balances.get(variant) else {
            return 0;
        };
        by_location
            .iter()
            .map(|(loc, b)| b.sellable(self.safety_stock(variant, loc)))
            .fold(0u64, u64::saturating_add)
    }

    /// A reservation, if the id is known.
    pub fn reservation(&self, id: &ReservationId) -> Option<&Reservation> {
        self.reservations.get(id)
    }

    /// A transfer, if the id is known.
    pub fn transfer_info(&self, id: &TransferId) -> Option<&Transfer> {
        self.transfers.get(id)
    }

    pub(super) fn settings(&self, variant: &VariantId) -> Result<&VariantSettings, StockError> {
        match self.variants.get(variant) {
            Some(s) => Ok(s),
            None if self.bundles.contains_key(variant) => Err(StockError::InvalidBundle {
                bundle: variant.clone(),
                reason: "a bundle holds no stock of its own; move its components",
            }),
            None => Err(StockError::UnknownVariant {
                variant: variant.clone(),
            }),
        }
    }

    fn settings_mut(&mut self, variant: &VariantId) -> Result<&mut VariantSettings, StockError> {
        self.settings(variant)?;
        self.variants
            .get_mut(variant)
            .ok_or_else(|| StockError::UnknownVariant {
                variant: variant.clone(),
            })
    }

    pub(super) fn check_location(&self, location: &LocationId) -> Result<(), StockError> {
        if self.locations.contains_key(location) {
            Ok(())
        } else {
            Err(StockError::UnknownLocation {
                location: location.clone(),
            })
        }
    }
}
