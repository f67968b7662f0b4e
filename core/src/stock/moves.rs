//! Movements that need no reservation: incoming, receipts, adjustments, returns,
//! quarantine, write-offs and transfers. Every balance change goes through `post`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::ids::{LocationId, TransferId, VariantId};

use super::error::StockError;
use super::journal::{
    kind_effects, MovementKind, Record, RecordKind, NO_REFERENCE, RESERVATION_REFERENCE,
};
use super::ledger::{check_quantity, check_text, StockLedger, Transfer, TransferState};
use super::limits;
use super::model::{
    AdjustmentReason, Balance, BalanceDelta, Bucket, Direction, StockPolicy, WriteOffSource,
};
use super::StockEvent;

/// Where a command's events go: into the caller's vector, nowhere ([`Quiet`]), in
/// which case none is built, or all but the movements ([`Unmoved`]), which are then
/// counted and not built. The journal, balances and alert state change the same
/// either way.
pub(crate) trait Events {
    /// Whether events are built at all.
    const WANTED: bool;
    /// Whether movements are built (when events are): a sink that keeps only the
    /// other events has each movement counted in its place instead ([`Self::skip_move`]).
    const MOVES: bool = Self::WANTED;
    /// Takes one event.
    fn push_event(&mut self, event: StockEvent);
    /// A movement was appended and, since `MOVES` is false, not built.
    fn skip_move(&mut self) {}
}

/// A command's events without its movements, each kept with its place among all the
/// events the command raised (movements counted): what the engine's write keeps. It
/// publishes the alerts and shortfalls, numbered by that place, and nothing reads the
/// movements, which the stock log already holds as the commands; building each one
/// (its variant, location and reservation ids, its reference text) only to drop it was
/// about a twentieth of a place + confirm.
#[derive(Debug, Default)]
pub(crate) struct Unmoved {
    /// The events kept, each with its place.
    pub(crate) kept: Vec<(usize, StockEvent)>,
    /// Events raised so far, movements included.
    pub(crate) raised: usize,
}

impl Unmoved {
    /// Takes one event: kept unless it is a movement, counted either way.
    pub(crate) fn take(&mut self, event: StockEvent) {
        if !matches!(event, StockEvent::Moved(_)) {
            self.kept.push((self.raised, event));
        }
        self.raised += 1;
    }

    /// [`Unmoved::take`] of a copy of `event`, made only when it is kept.
    pub(crate) fn take_copy(&mut self, event: &StockEvent) {
        if !matches!(event, StockEvent::Moved(_)) {
            self.kept.push((self.raised, event.clone()));
        }
        self.raised += 1;
    }

    /// Where it stands, to go back to with [`Unmoved::rewind`].
    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.kept.len(), self.raised)
    }

    /// Forgets what was taken since `mark`.
    pub(crate) fn rewind(&mut self, (kept, raised): (usize, usize)) {
        self.kept.truncate(kept);
        self.raised = raised;
    }
}

impl Events for Unmoved {
    const WANTED: bool = true;
    const MOVES: bool = false;
    fn push_event(&mut self, event: StockEvent) {
        self.take(event);
    }
    fn skip_move(&mut self) {
        self.raised += 1;
    }
}

impl Events for Vec<StockEvent> {
    const WANTED: bool = true;
    fn push_event(&mut self, event: StockEvent) {
        self.push(event);
    }
}

/// The events of a caller that does not read them: nothing is built.
pub(super) struct Quiet;

impl Events for Quiet {
    const WANTED: bool = false;
    fn push_event(&mut self, _: StockEvent) {}
}

impl StockLedger {
    /// Common checks of a movement command, in order of precedence: quantity, reference,
    /// variant, location. Returns the variant's slot and the location's index.
    fn check_move(
        &self,
        variant: &VariantId,
        location: &LocationId,
        quantity: u32,
        reference: Option<&str>,
    ) -> Result<(usize, u32), StockError> {
        check_quantity(quantity)?;
        check_text("characters in reference", reference)?;
        let slot = self.slot_checked(variant)?;
        Ok((slot, self.location_checked(location)?))
    }

    /// The balance of a (slot, location index) pair; zero when nothing moved there.
    pub(super) fn balance_at(&self, slot: usize, location: u32) -> Balance {
        self.slots
            .get(slot)
            .map(|s| s.balance(location))
            .unwrap_or_default()
    }

    fn not_enough(
        variant: &VariantId,
        location: &LocationId,
        bucket: Bucket,
        requested: u32,
        present: i64,
    ) -> Result<(), StockError> {
        if i64::from(requested) > present {
            return Err(StockError::NotEnough {
                variant: variant.clone(),
                location: location.clone(),
                bucket,
                requested: u64::from(requested),
                present,
            });
        }
        Ok(())
    }

    /// Appends a movement of the variant in `slot` at the location with index
    /// `location` to the journal (as a compact record), applies it, and hands its event
    /// to `events` (built only when `events` wants it). Every balance change goes
    /// through here or [`StockLedger::post_reserved`]. Callers pass indexes they have
    /// just looked up, and for a reserve, release or sale the position of its
    /// reservation (whose reference `reference` is).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn post<E: Events>(
        &mut self,
        at: DateTime<Utc>,
        slot: usize,
        location: u32,
        kind: MovementKind,
        quantity: u32,
        reference: Option<&str>,
        reservation: Option<u32>,
        events: &mut E,
    ) {
        if self.slots.get(slot).is_none() || self.location_id(location).is_none() {
            return;
        }
        let compact = RecordKind::compact(&kind, reservation);
        let record_reference = match (reference, compact.and_then(|k| k.reservation())) {
            (None, _) => NO_REFERENCE,
            (Some(_), Some(_)) => RESERVATION_REFERENCE,
            (Some(text), None) => {
                self.references.push(Arc::from(text));
                u32::try_from(self.references.len() - 1).unwrap_or(NO_REFERENCE)
            }
        };
        let (here, other) = kind_effects(&kind, quantity);
        let other = other.and_then(|(id, delta)| Some((self.location_of(id)?, delta)));
        let kind = match compact {
            Some(kind) => kind,
            None => {
                self.whole_kinds.push(kind);
                RecordKind::Whole {
                    index: u32::try_from(self.whole_kinds.len() - 1).unwrap_or(u32::MAX),
                }
            }
        };
        self.append(
            slot,
            location,
            at,
            kind,
            quantity,
            record_reference,
            here,
            other,
            events,
        );
    }

    /// [`StockLedger::post`] for a reserve, release or sale of the reservation at the
    /// position `kind` names (already in `reservations`): no [`MovementKind`] and no id
    /// is touched unless `events` wants the event. `has_reference`: the reservation has
    /// a reference, which the movement carries.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn post_reserved<E: Events>(
        &mut self,
        at: DateTime<Utc>,
        slot: usize,
        location: u32,
        kind: RecordKind,
        quantity: u32,
        has_reference: bool,
        events: &mut E,
    ) {
        let Some(here) = kind.reservation_delta(quantity) else {
            return;
        };
        if self.slots.get(slot).is_none() || self.location_id(location).is_none() {
            return;
        }
        let reference = if has_reference {
            RESERVATION_REFERENCE
        } else {
            NO_REFERENCE
        };
        self.append(
            slot, location, at, kind, quantity, reference, here, None, events,
        );
    }

    /// Applies a checked record's effects, appends it, and hands its event to `events`.
    #[allow(clippy::too_many_arguments)]
    fn append<E: Events>(
        &mut self,
        slot: usize,
        location: u32,
        at: DateTime<Utc>,
        kind: RecordKind,
        quantity: u32,
        reference: u32,
        here: BalanceDelta,
        other: Option<(u32, BalanceDelta)>,
        events: &mut E,
    ) {
        let Ok(slot_index) = u32::try_from(slot) else {
            return;
        };
        if let Some(s) = self.slots.get_mut(slot) {
            s.apply(location, &here);
            if let Some((from, delta)) = other {
                s.apply(from, &delta);
            }
        }
        self.balances_view.clear();
        let index = self.journal.len();
        self.journal.push(Record {
            at,
            slot: slot_index,
            location,
            quantity,
            kind,
            reference,
        });
        if E::MOVES {
            if let Some(movement) = self.movement(index) {
                events.push_event(StockEvent::Moved(movement));
            }
        } else if E::WANTED {
            events.skip_move();
        }
    }

    /// Posts one movement after `check`, then emits alerts and shortfalls.
    #[allow(clippy::too_many_arguments)]
    fn simple_move(
        &mut self,
        slot: usize,
        location: u32,
        kind: MovementKind,
        quantity: u32,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<StockEvent> {
        let mut events = Vec::with_capacity(1);
        self.post(
            now,
            slot,
            location,
            kind,
            quantity,
            reference,
            None,
            &mut events,
        );
        self.after_change(slot, location, now, &mut events);
        events
    }

    /// Records that `quantity` units are expected at `location` (a purchase order).
    pub fn expect_incoming(
        &mut self,
        variant: &VariantId,
        location: &LocationId,
        quantity: u32,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let (slot, loc) = self.check_move(variant, location, quantity, reference)?;
        let kind = MovementKind::IncomingExpected;
        Ok(self.simple_move(slot, loc, kind, quantity, reference, now))
    }

    /// Withdraws an expectation. Refused with [`StockError::NotEnough`] beyond what is
    /// incoming.
    pub fn cancel_incoming(
        &mut self,
        variant: &VariantId,
        location: &LocationId,
        quantity: u32,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let (slot, loc) = self.check_move(variant, location, quantity, reference)?;
        let incoming = self.balance_at(slot, loc).incoming;
        Self::not_enough(variant, location, Bucket::Incoming, quantity, incoming)?;
        let kind = MovementKind::IncomingCancelled;
        Ok(self.simple_move(slot, loc, kind, quantity, reference, now))
    }

    /// Receives goods. Up to `quantity` units of what was expected are cleared from
    /// incoming; a receipt larger than expected is accepted in full.
    pub fn receive(
        &mut self,
        variant: &VariantId,
        location: &LocationId,
        quantity: u32,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let (slot, loc) = self.check_move(variant, location, quantity, reference)?;
        let incoming = self.balance_at(slot, loc).incoming.max(0);
        let from_incoming = u32::try_from(incoming.min(i64::from(quantity))).unwrap_or(0);
        let kind = MovementKind::Receipt { from_incoming };
        Ok(self.simple_move(slot, loc, kind, quantity, reference, now))
    }

    /// Adjusts on hand by `delta` for `reason`. Damage and loss only decrease, found
    /// only increases ([`StockError::AdjustmentDirection`]). Damage and loss record a
    /// physical fact and may leave reservations short (a [`StockEvent::Shortfall`]
    /// says so); a correction downwards may only take unreserved stock.
    pub fn adjust(
        &mut self,
        variant: &VariantId,
        location: &LocationId,
        delta: i64,
        reason: AdjustmentReason,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let quantity = u32::try_from(delta.unsigned_abs()).unwrap_or(u32::MAX);
        if delta == 0 || quantity > limits::MAX_QUANTITY {
            return Err(StockError::InvalidQuantity {
                quantity: delta,
                max: limits::MAX_QUANTITY,
            });
        }
        let direction = if delta > 0 {
            Direction::Increase
        } else {
            Direction::Decrease
        };
        let fits = match reason {
            AdjustmentReason::Damage | AdjustmentReason::Loss => direction == Direction::Decrease,
            AdjustmentReason::Found => direction == Direction::Increase,
            AdjustmentReason::Correction => true,
        };
        if !fits {
            return Err(StockError::AdjustmentDirection { reason, delta });
        }
        let (slot, loc) = self.check_move(variant, location, quantity, reference)?;
        if direction == Direction::Decrease {
            let b = self.balance_at(slot, loc);
            match reason {
                AdjustmentReason::Correction => {
                    let free = b.on_hand.saturating_sub(b.reserved);
                    Self::not_enough(variant, location, Bucket::Free, quantity, free)?;
                }
                _ => Self::not_enough(variant, location, Bucket::OnHand, quantity, b.on_hand)?,
            }
        }
        let kind = MovementKind::Adjustment { reason, direction };
        Ok(self.simple_move(slot, loc, kind, quantity, reference, now))
    }

    /// Puts returned goods back on the shelf.
    pub fn restock_return(
        &mut self,
        variant: &VariantId,
        location: &LocationId,
        quantity: u32,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let (slot, loc) = self.check_move(variant, location, quantity, reference)?;
        let kind = MovementKind::ReturnRestock;
        Ok(self.simple_move(slot, loc, kind, quantity, reference, now))
    }

    /// Puts returned goods in quarantine to await inspection (not sellable).
    pub fn quarantine(
        &mut self,
        variant: &VariantId,
        location: &LocationId,
        quantity: u32,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let (slot, loc) = self.check_move(variant, location, quantity, reference)?;
        let kind = MovementKind::Quarantine;
        Ok(self.simple_move(slot, loc, kind, quantity, reference, now))
    }

    /// Releases inspected goods from quarantine to on hand.
    pub fn release_quarantine(
        &mut self,
        variant: &VariantId,
        location: &LocationId,
        quantity: u32,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let (slot, loc) = self.check_move(variant, location, quantity, reference)?;
        let quarantined = self.balance_at(slot, loc).quarantined;
        Self::not_enough(
            variant,
            location,
            Bucket::Quarantined,
            quantity,
            quarantined,
        )?;
        let kind = MovementKind::QuarantineRelease;
        Ok(self.simple_move(slot, loc, kind, quantity, reference, now))
    }

    /// Writes goods off, from quarantine or from unreserved stock on hand.
    pub fn write_off(
        &mut self,
        variant: &VariantId,
        location: &LocationId,
        quantity: u32,
        from: WriteOffSource,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let (slot, loc) = self.check_move(variant, location, quantity, reference)?;
        let b = self.balance_at(slot, loc);
        match from {
            WriteOffSource::Quarantine => Self::not_enough(
                variant,
                location,
                Bucket::Quarantined,
                quantity,
                b.quarantined,
            )?,
            WriteOffSource::OnHand => {
                let free = b.on_hand.saturating_sub(b.reserved);
                Self::not_enough(variant, location, Bucket::Free, quantity, free)?
            }
        }
        let kind = MovementKind::WriteOff { from };
        Ok(self.simple_move(slot, loc, kind, quantity, reference, now))
    }

    /// Sends unreserved units from one location to another: on hand falls at `from` and
    /// in transit rises there until [`StockLedger::receive_transfer`]. Idempotent by id:
    /// the same transfer again returns no events; the same id with other data is
    /// [`StockError::TransferConflict`].
    pub fn transfer(
        &mut self,
        id: TransferId,
        variant: &VariantId,
        from: &LocationId,
        to: &LocationId,
        quantity: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        if let Some(t) = self.transfers.get(&id) {
            if t.variant == *variant && t.from == *from && t.to == *to && t.quantity == quantity {
                return Ok(Vec::new());
            }
            return Err(StockError::TransferConflict { transfer: id });
        }
        let (slot, from_loc) = self.check_move(variant, from, quantity, None)?;
        self.check_location(to)?;
        if from == to {
            return Err(StockError::SameLocation {
                location: from.clone(),
            });
        }
        let b = self.balance_at(slot, from_loc);
        let free = b.on_hand.saturating_sub(b.reserved);
        Self::not_enough(variant, from, Bucket::Free, quantity, free)?;
        let kind = MovementKind::TransferOut {
            transfer: id.clone(),
            to: to.clone(),
        };
        let reference = Some(id.as_str());
        let mut events = Vec::with_capacity(1);
        self.post(
            now,
            slot,
            from_loc,
            kind,
            quantity,
            reference,
            None,
            &mut events,
        );
        self.after_change(slot, from_loc, now, &mut events);
        self.transfers.insert(
            id.clone(),
            Transfer {
                id,
                variant: variant.clone(),
                from: from.clone(),
                to: to.clone(),
                quantity,
                state: TransferState::InTransit,
            },
        );
        Ok(events)
    }

    /// Receives a transfer at its destination. Receiving it twice is a no-op.
    pub fn receive_transfer(
        &mut self,
        id: &TransferId,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let t = self
            .transfers
            .get(id)
            .ok_or_else(|| StockError::UnknownTransfer {
                transfer: id.clone(),
            })?;
        if t.state == TransferState::Received {
            return Ok(Vec::new());
        }
        let (variant, from, to, quantity) =
            (t.variant.clone(), t.from.clone(), t.to.clone(), t.quantity);
        let kind = MovementKind::TransferIn {
            transfer: id.clone(),
            from,
        };
        let mut events = Vec::with_capacity(1);
        if let (Some(slot), Some(to)) = (self.slot_of(&variant), self.location_of(&to)) {
            self.post(
                now,
                slot,
                to,
                kind,
                quantity,
                Some(id.as_str()),
                None,
                &mut events,
            );
            self.after_change(slot, to, now, &mut events);
        }
        if let Some(t) = self.transfers.get_mut(id) {
            t.state = TransferState::Received;
        }
        Ok(events)
    }

    /// After a change at (slot, location): a shortfall event when a deny variant's
    /// reservations exceed on hand, then low/out-of-stock alerts.
    pub(super) fn after_change<E: Events>(
        &mut self,
        slot: usize,
        location: u32,
        now: DateTime<Utc>,
        events: &mut E,
    ) {
        let Some(s) = self.slots.get(slot) else {
            return;
        };
        if E::WANTED && s.settings.policy == StockPolicy::Deny {
            let b = s.balance(location);
            if b.reserved > b.on_hand {
                if let Some(location) = self.location_id(location) {
                    events.push_event(StockEvent::Shortfall {
                        variant: s.id.clone(),
                        location: location.clone(),
                        reserved: b.reserved,
                        on_hand: b.on_hand,
                    });
                }
            }
        }
        // The alert state changes whether or not anyone reads the alert.
        if let Some(alert) = self.check_alert(slot, now) {
            events.push_event(StockEvent::Alert(alert));
        }
    }
}
