//! How the ledger stores a reservation: a compact record of dense indexes. The public
//! [`Reservation`] is an owned view built from it on request
//! ([`StockLedger::reservation`]), so the write path stores about 80 bytes per
//! reservation instead of a struct of ids, strings and vectors twice that size.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{OrderId, ReservationId, VariantId};

use super::journal::NO_REFERENCE;
use super::ledger::StockLedger;
use super::model::{Reservation, ReservationState};
use super::reserve::ReserveRequest;

/// [`Held::order`] and [`Held::bundle`]: none.
pub(super) const NONE: u32 = u32::MAX;

/// A reservation as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Held {
    /// Its id (the idempotency key).
    pub(super) id: ReservationId,
    /// When it lapses unless committed (changed by `set_expiry`).
    pub(super) expires_at: Option<DateTime<Utc>>,
    /// `seq` of its first movement.
    pub(super) first_seq: u64,
    /// The variant's slot; [`NONE`] for a bundle (see `bundle`).
    pub(super) slot: u32,
    /// The location's dense index.
    pub(super) location: u32,
    pub(super) quantity: u32,
    pub(super) committed: u32,
    pub(super) released: u32,
    /// Index of its reference in the ledger's reference texts, or [`NO_REFERENCE`].
    pub(super) reference: u32,
    /// Index of its order in [`StockLedger::reservation_orders`], or [`NONE`].
    pub(super) order: u32,
    /// Index of its bundle in [`StockLedger::reservation_bundles`], or [`NONE`].
    pub(super) bundle: u32,
    pub(super) state: ReservationState,
}

/// A bundle reservation's bundle id and its components (units per bundle), as they
/// were when it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct HeldBundle {
    pub(super) variant: VariantId,
    pub(super) components: Vec<(VariantId, u32)>,
}

impl Held {
    /// Units still held (see [`Reservation::remaining`]).
    pub(super) fn remaining(&self) -> u32 {
        if self.state == ReservationState::Active {
            self.quantity
                .saturating_sub(self.committed)
                .saturating_sub(self.released)
        } else {
            0
        }
    }

    pub(super) fn slot(&self) -> Option<usize> {
        match self.slot {
            NONE => None,
            s => usize::try_from(s).ok(),
        }
    }
}

fn index(i: u32) -> Option<usize> {
    match i {
        NONE => None,
        i => usize::try_from(i).ok(),
    }
}

impl StockLedger {
    /// The reservation at `position`, as the public view.
    pub(super) fn reservation_view(&self, position: usize) -> Option<Reservation> {
        let h = self.reservations.get(position)?;
        let bundle = self.held_bundle(h);
        let variant = match bundle {
            Some(b) => b.variant.clone(),
            None => self.slots.get(h.slot()?)?.id.clone(),
        };
        Some(Reservation {
            id: h.id.clone(),
            variant,
            location: self.location_id(h.location)?.clone(),
            quantity: h.quantity,
            committed: h.committed,
            released: h.released,
            expires_at: h.expires_at,
            reference: self.held_reference(h).map(str::to_string),
            order: self.held_order(h).cloned(),
            state: h.state,
            components: bundle.map(|b| b.components.clone()).unwrap_or_default(),
            first_seq: h.first_seq,
        })
    }

    pub(super) fn held_bundle(&self, h: &Held) -> Option<&HeldBundle> {
        index(h.bundle).and_then(|i| self.reservation_bundles.get(i))
    }

    pub(super) fn held_reference(&self, h: &Held) -> Option<&str> {
        match h.reference {
            NO_REFERENCE => None,
            i => self.references.get(usize::try_from(i).ok()?).map(|t| &**t),
        }
    }

    pub(super) fn held_order(&self, h: &Held) -> Option<&OrderId> {
        index(h.order).and_then(|i| self.reservation_orders.get(i))
    }

    /// The variant a held reservation names (the bundle's id for a bundle).
    pub(super) fn held_variant(&self, h: &Held) -> Option<&VariantId> {
        match self.held_bundle(h) {
            Some(b) => Some(&b.variant),
            None => self.slots.get(h.slot()?).map(|s| &s.id),
        }
    }

    /// The stock lines a held reservation moves: its variant's slot, or each
    /// component's (looked up by id), with units per reserved unit.
    pub(super) fn held_lines(&self, h: &Held) -> Vec<(usize, u32)> {
        match self.held_bundle(h) {
            Some(b) => b
                .components
                .iter()
                .filter_map(|(v, per)| Some((self.slot_of(v)?, *per)))
                .collect(),
            None => h.slot().map(|s| (s, 1)).into_iter().collect(),
        }
    }

    /// Movements a held reservation's reserve produced.
    pub(super) fn held_line_count(&self, h: &Held) -> usize {
        self.held_bundle(h).map_or(1, |b| b.components.len().max(1))
    }

    /// Whether `request` is the request that made `h` (what makes a retry safe).
    pub(super) fn held_matches(&self, request: &ReserveRequest, h: &Held) -> bool {
        request.quantity == h.quantity
            && request.expires_at == h.expires_at
            && self.held_variant(h) == Some(&request.variant)
            && self.location_id(h.location) == Some(&request.location)
            && request.reference.as_deref() == self.held_reference(h)
            && request.order.as_ref() == self.held_order(h)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_held_reservation_is_half_the_size_of_the_view() {
        let held = std::mem::size_of::<Held>();
        assert!(held <= 80, "{held} bytes");
        assert!(held * 2 <= std::mem::size_of::<Reservation>() + 16);
    }
}
