//! Two-phase reservations: reserve, then commit (sold) or release; the expiry sweep.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{LocationId, OrderId, ReservationId, VariantId};

use super::error::StockError;
use super::held::{Held, HeldBundle, NONE};
use super::journal::RecordKind;
use super::journal::NO_REFERENCE;
use super::ledger::{
    check_quantity, check_text, LocationKey, ReservationKey, StockLedger, VariantKey, NO_SUCH_KEY,
};
use super::limits;
use super::model::{Reservation, ReservationState};
use super::moves::{Events, Quiet};
use super::StockEvent;

/// What `reserve` is asked to hold. Two requests are "the same" when every field is
/// equal; that is what makes a retry safe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveRequest {
    /// The idempotency key.
    pub id: ReservationId,
    /// The variant, or a bundle (then its components are reserved, all or nothing).
    pub variant: VariantId,
    /// The location.
    pub location: LocationId,
    /// Units (bundles, for a bundle).
    pub quantity: u32,
    /// When the hold lapses unless committed; `None` holds until released.
    pub expires_at: Option<DateTime<Utc>>,
    /// The caller's reference, e.g. `"order o-1 line 2"` (shared text: the ledger and
    /// the stock log keep one copy between them).
    pub reference: Option<Arc<str>>,
    /// The order that owns the reservation. The engine sets it for the reservations an
    /// order's confirmation makes; a host reserving stock by hand leaves it `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderId>,
}

impl ReserveRequest {
    /// A request without expiry or reference.
    pub fn new(id: ReservationId, variant: VariantId, location: LocationId, quantity: u32) -> Self {
        ReserveRequest {
            id,
            variant,
            location,
            quantity,
            expires_at: None,
            reference: None,
            order: None,
        }
    }

    /// Owned by an order.
    pub fn for_order(mut self, order: OrderId) -> Self {
        self.order = Some(order);
        self
    }

    /// With an expiry, or none.
    pub fn expiring(mut self, expires_at: Option<DateTime<Utc>>) -> Self {
        self.expires_at = expires_at;
        self
    }

    /// With an expiry.
    pub fn expiring_at(mut self, expires_at: DateTime<Utc>) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// With a reference.
    pub fn with_reference(mut self, reference: impl Into<Arc<str>>) -> Self {
        self.reference = Some(reference.into());
        self
    }
}

/// A [`ReserveRequest`] whose variant and location are given by their keys in one
/// ledger ([`StockLedger::variant_key`], [`StockLedger::location_key`]), for
/// [`StockLedger::reserve_quiet_keyed`]. Two keyed requests are the same retry when
/// every field is equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedReserveRequest {
    /// The idempotency key.
    pub id: ReservationId,
    /// The variant's key (a registered variant, never a bundle).
    pub variant: VariantKey,
    /// The location's key.
    pub location: LocationKey,
    /// Units.
    pub quantity: u32,
    /// When the hold lapses unless committed; `None` holds until released.
    pub expires_at: Option<DateTime<Utc>>,
    /// The caller's reference, e.g. `"order o-1 line 2"` (shared text: the ledger and
    /// the stock log keep one copy between them).
    pub reference: Option<Arc<str>>,
    /// The order that owns the reservation.
    pub order: Option<OrderId>,
}

impl KeyedReserveRequest {
    /// A request without expiry, reference or order.
    pub fn new(id: ReservationId, keys: (VariantKey, LocationKey), quantity: u32) -> Self {
        KeyedReserveRequest {
            id,
            variant: keys.0,
            location: keys.1,
            quantity,
            expires_at: None,
            reference: None,
            order: None,
        }
    }
}

/// A reservation every check has passed, as [`StockLedger::record_reservation`] keeps it.
struct Accepted {
    id: ReservationId,
    /// The id's hash in the reservation index (computed once per call).
    id_hash: u64,
    location: u32,
    quantity: u32,
    expires_at: Option<DateTime<Utc>>,
    reference: Option<Arc<str>>,
    order: Option<OrderId>,
}

/// What an accepted reservation holds stock of.
enum Target {
    /// One variant's slot.
    Variant(usize),
    /// A bundle's components: their slots and units.
    Bundle {
        bundle: HeldBundle,
        parts: Vec<(usize, u32)>,
    },
}

impl StockLedger {
    /// Reserves stock. Checks, in order of precedence:
    ///
    /// 1. a known id with the same request returns the first call's movements (same
    ///    `seq`) and changes nothing ("exists" is success); with a different request it
    ///    is [`StockError::ReservationConflict`];
    /// 2. quantity ([`StockError::InvalidQuantity`]), reference length;
    /// 3. variant or bundle, location, expiry after `now`;
    /// 4. the policy of every variant involved ([`StockError::Insufficient`]).
    pub fn reserve(
        &mut self,
        request: ReserveRequest,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let mut events = Vec::new();
        self.reserve_into(request, now, &mut events)?;
        Ok(events)
    }

    /// [`StockLedger::reserve`] for a caller that does not read the events: the same
    /// checks, journal, balances, alert state and idempotency, but no event is built
    /// (nothing is allocated for them). Read what happened from the journal
    /// ([`StockLedger::journal_since`]) if needed.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use ordersmith::ids::{LocationId, ReservationId, VariantId};
    /// use ordersmith::stock::{Location, LocationKind, ReserveRequest, StockLedger, StockPolicy};
    ///
    /// let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    /// let (mug, ist) = (VariantId::parse("MUG")?, LocationId::parse("IST")?);
    /// let mut ledger = StockLedger::new();
    /// ledger.add_location(Location::new(ist.clone(), "DC", 1, "TR-34", LocationKind::Warehouse))?;
    /// ledger.register_variant(mug.clone(), StockPolicy::Deny)?;
    /// ledger.receive(&mug, &ist, 5, None, now)?;
    /// let r1 = ReservationId::parse("r-1")?;
    /// ledger.reserve_quiet(ReserveRequest::new(r1.clone(), mug.clone(), ist.clone(), 3), now)?;
    /// ledger.commit_quiet(&r1, now)?;
    /// assert_eq!(ledger.level(&mug, &ist)?.on_hand, 2);
    /// assert_eq!(ledger.journal_len(), 3); // receipt, reserve, sale
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_quiet(
        &mut self,
        request: ReserveRequest,
        now: DateTime<Utc>,
    ) -> Result<(), StockError> {
        self.reserve_into(request, now, &mut Quiet)
    }

    /// [`StockLedger::reserve_quiet`] for a caller that names the variant and location
    /// by their keys ([`StockLedger::variant_key`], [`StockLedger::location_key`]) and
    /// makes many reservations: the same checks, journal, balances, alert state and
    /// idempotency, without hashing the variant's and location's ids and looking them
    /// up on every call (about half of a reservation's time at 100,000 variants, most
    /// of it cache misses), and without the ids themselves in the request (nothing of
    /// theirs to read, share or drop).
    ///
    /// The keys are checked first: a key this ledger did not make (another ledger's,
    /// or one made before this ledger was cloned or deserialised) is
    /// [`StockError::InvalidParameter`] and nothing changes. After that the result is
    /// exactly `reserve_quiet` of the same request with the keys' ids, in the same
    /// order of precedence; a retry of an accepted keyed request with the same id is
    /// answered as a retry, and one that differs (or names the same reservation id as an
    /// unkeyed request with other fields) as [`StockError::ReservationConflict`].
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use ordersmith::ids::{LocationId, ReservationId, VariantId};
    /// use ordersmith::stock::{KeyedReserveRequest, Location, LocationKind, StockLedger, StockPolicy};
    ///
    /// let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    /// let (mug, ist) = (VariantId::parse("MUG")?, LocationId::parse("IST")?);
    /// let mut ledger = StockLedger::new();
    /// ledger.add_location(Location::new(ist.clone(), "DC", 1, "TR-34", LocationKind::Warehouse))?;
    /// ledger.register_variant(mug.clone(), StockPolicy::Deny)?;
    /// ledger.receive(&mug, &ist, 5, None, now)?;
    /// let keys = (ledger.variant_key(&mug).unwrap(), ledger.location_key(&ist).unwrap());
    /// for i in 1..=2 {
    ///     let id = ReservationId::parse(format!("r-{i}"))?;
    ///     ledger.reserve_quiet_keyed(KeyedReserveRequest::new(id, keys, 2), now)?;
    /// }
    /// assert_eq!(ledger.level(&mug, &ist)?.reserved, 4);
    /// let too_many = KeyedReserveRequest::new(ReservationId::parse("r-3")?, keys, 2);
    /// assert!(ledger.reserve_quiet_keyed(too_many, now).is_err()); // 1 left
    ///
    /// // Keys belong to the ledger that made them, not to a copy of it.
    /// let mut copy = ledger.clone();
    /// let again = KeyedReserveRequest::new(ReservationId::parse("r-4")?, keys, 1);
    /// assert_eq!(copy.reserve_quiet_keyed(again, now).unwrap_err().code(), "STOCK_INVALID_PARAMETER");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_quiet_keyed(
        &mut self,
        request: KeyedReserveRequest,
        now: DateTime<Utc>,
    ) -> Result<ReservationKey, StockError> {
        let (slot, location) = self.resolve_keys(request.variant, request.location)?;
        let id_hash = self.reservation_index.hash(&request.id);
        let reservations = &self.reservations;
        let known = self
            .reservation_index
            .position_hashed(id_hash, &request.id, |i| reservations.get(i).map(|r| &r.id));
        if let Some((position, existing)) = known.and_then(|i| Some((i, self.reservations.get(i)?)))
        {
            let same = existing.bundle == NONE
                && existing.slot() == Some(slot)
                && existing.location == location
                && existing.quantity == request.quantity
                && existing.expires_at == request.expires_at
                && self.held_reference(existing) == request.reference.as_deref()
                && self.held_order(existing) == request.order.as_ref();
            return if same {
                Ok(self.key_of_reservation(position))
            } else {
                Err(StockError::ReservationConflict {
                    reservation: request.id,
                })
            };
        }
        check_quantity(request.quantity)?;
        check_text("characters in reference", request.reference.as_deref())?;
        if let Some(expires_at) = request.expires_at {
            if expires_at <= now {
                return Err(StockError::InvalidExpiry { expires_at, now });
            }
        }
        self.check_reservable_at(slot, location, request.quantity)?;
        let accepted = Accepted {
            id: request.id,
            id_hash,
            location,
            quantity: request.quantity,
            expires_at: request.expires_at,
            reference: request.reference,
            order: request.order,
        };
        let position = self.reservations.len();
        self.record_reservation(accepted, Target::Variant(slot), now, &mut Quiet);
        Ok(self.key_of_reservation(position))
    }

    pub(super) fn reserve_into<E: Events>(
        &mut self,
        request: ReserveRequest,
        now: DateTime<Utc>,
        events: &mut E,
    ) -> Result<(), StockError> {
        // The variant's slot is looked up first, though its errors come later: its
        // chain of cache misses (id text, index, slot) then overlaps the reservation
        // index's instead of following it.
        let variant_slot = self.slot_of(&request.variant);
        let id_hash = self.reservation_index.hash(&request.id);
        let reservations = &self.reservations;
        let known = self
            .reservation_index
            .position_hashed(id_hash, &request.id, |i| reservations.get(i).map(|r| &r.id));
        if let Some(existing) = known.and_then(|i| self.reservations.get(i)) {
            if !self.held_matches(&request, existing) {
                return Err(StockError::ReservationConflict {
                    reservation: request.id,
                });
            }
            if E::WANTED {
                let lines = self.held_line_count(existing);
                let start = usize::try_from(existing.first_seq.saturating_sub(1)).unwrap_or(0);
                for i in start..start.saturating_add(lines) {
                    if let Some(m) = self.movement(i) {
                        events.push_event(StockEvent::Moved(m));
                    }
                }
            }
            return Ok(());
        }
        check_quantity(request.quantity)?;
        check_text("characters in reference", request.reference.as_deref())?;
        // A plain variant: its slot. A bundle: the slot and units of each component.
        let (slot, components) = match (variant_slot, self.bundles.get(&request.variant)) {
            (_, Some(bundle)) => (None, bundle.components.clone()),
            (Some(slot), None) => (Some(slot), Vec::new()),
            (None, None) => (Some(self.slot_checked(&request.variant)?), Vec::new()),
        };
        let location = self.location_checked(&request.location)?;
        if let Some(expires_at) = request.expires_at {
            if expires_at <= now {
                return Err(StockError::InvalidExpiry { expires_at, now });
            }
        }
        let mut parts = Vec::with_capacity(components.len());
        match slot {
            Some(slot) => self.check_reservable(
                slot,
                location,
                request.quantity,
                &request.variant,
                &request.location,
            )?,
            None => {
                for (component, per) in &components {
                    let units = units_for(request.quantity, *per)?;
                    let part = self.slot_checked(component)?;
                    self.check_reservable(part, location, units, component, &request.location)?;
                    parts.push((part, units));
                }
            }
        }
        let target = match slot {
            Some(slot) => Target::Variant(slot),
            None => Target::Bundle {
                bundle: HeldBundle {
                    variant: request.variant,
                    components,
                },
                parts,
            },
        };
        let accepted = Accepted {
            id: request.id,
            id_hash,
            location,
            quantity: request.quantity,
            expires_at: request.expires_at,
            reference: request.reference,
            order: request.order,
        };
        self.record_reservation(accepted, target, now, events);
        Ok(())
    }

    /// Records a reservation every check has passed, then posts its movements (which
    /// name it by position). Inlined into each caller: a call passing the accepted
    /// request by value cost the unkeyed path about 70 instructions a reservation.
    #[inline(always)]
    fn record_reservation<E: Events>(
        &mut self,
        accepted: Accepted,
        target: Target,
        now: DateTime<Utc>,
        events: &mut E,
    ) {
        let Accepted {
            id,
            id_hash,
            location,
            quantity,
            expires_at,
            reference,
            order,
        } = accepted;
        let first_seq = u64::try_from(self.journal.len())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let position = u32::try_from(self.reservations.len()).unwrap_or(u32::MAX);
        let has_reference = reference.is_some();
        if let Some(expires_at) = expires_at {
            self.expiry_index.insert((expires_at, id.clone()));
        }
        self.reservation_index.insert_hashed(id_hash, &id, position);
        let reference = match reference {
            Some(text) => {
                self.references.push(text);
                u32::try_from(self.references.len() - 1).unwrap_or(NO_REFERENCE)
            }
            None => NO_REFERENCE,
        };
        let order = match order {
            Some(order) => {
                self.reservation_orders.push(order);
                u32::try_from(self.reservation_orders.len() - 1).unwrap_or(NONE)
            }
            None => NONE,
        };
        let (slot, bundle, parts) = match target {
            Target::Variant(slot) => (u32::try_from(slot).unwrap_or(NONE), NONE, vec![]),
            Target::Bundle { bundle, parts } => {
                self.reservation_bundles.push(bundle);
                let index = u32::try_from(self.reservation_bundles.len() - 1).unwrap_or(NONE);
                (NONE, index, parts)
            }
        };
        self.reservations.push(Held {
            id,
            expires_at,
            first_seq,
            slot,
            location,
            quantity,
            committed: 0,
            released: 0,
            reference,
            order,
            bundle,
            state: ReservationState::Active,
        });
        let kind = RecordKind::Reserve {
            reservation: position,
        };
        if bundle == NONE {
            if let Ok(slot) = usize::try_from(slot) {
                self.post_reserved(now, slot, location, kind, quantity, has_reference, events);
                self.after_change(slot, location, now, events);
            }
        } else {
            for (part, units) in parts {
                self.post_reserved(now, part, location, kind, units, has_reference, events);
                self.after_change(part, location, now, events);
            }
        }
    }

    /// The position of an active reservation, or why it is not active: unknown
    /// ([`StockError::UnknownReservation`]), sold ([`StockError::ReservationCommitted`]),
    /// or released or expired ([`StockError::ReservationReleased`]).
    fn active(&self, id: &ReservationId) -> Result<usize, StockError> {
        let (position, r) = self.known(id)?;
        match r.state {
            ReservationState::Active => Ok(position),
            ReservationState::Committed => Err(StockError::ReservationCommitted {
                reservation: id.clone(),
            }),
            ReservationState::Released | ReservationState::Expired => {
                Err(StockError::ReservationReleased {
                    reservation: id.clone(),
                })
            }
        }
    }

    /// A known reservation and its position, or [`StockError::UnknownReservation`].
    fn known(&self, id: &ReservationId) -> Result<(usize, &Held), StockError> {
        self.reservation_position(id)
            .and_then(|i| Some((i, self.reservations.get(i)?)))
            .ok_or_else(|| StockError::UnknownReservation {
                reservation: id.clone(),
            })
    }

    /// [`Self::check_reservable`] for a keyed request: the ids its error names are the
    /// slot's and the location's own (cloned only for the error).
    fn check_reservable_at(
        &self,
        slot: usize,
        location: u32,
        units: u32,
    ) -> Result<(), StockError> {
        let (Some(s), Some(location_id)) = (self.slots.get(slot), self.location_id(location))
        else {
            return Err(NO_SUCH_KEY);
        };
        self.check_reservable(slot, location, units, &s.id, location_id)
    }

    fn check_reservable(
        &self,
        slot: usize,
        location: u32,
        units: u32,
        variant: &VariantId,
        location_id: &LocationId,
    ) -> Result<(), StockError> {
        let Some(s) = self.slots.get(slot) else {
            return Err(StockError::UnknownVariant {
                variant: variant.clone(),
            });
        };
        // The hot half of the cell holds all a policy reads.
        let cell = s.hot(location).copied().unwrap_or_default();
        let policy = s.settings.policy;
        let reservable = policy.reservable(&cell.balance(), cell.safety);
        if i64::from(units) > reservable {
            return Err(StockError::Insufficient {
                variant: variant.clone(),
                location: location_id.clone(),
                requested: u64::from(units),
                available: reservable,
                policy,
            });
        }
        Ok(())
    }

    /// Posts one movement of `kind` per variant the reservation at `position` holds
    /// (`units` reserved units: times units per bundle for a bundle's components), each
    /// followed by its shortfall and alert checks.
    fn post_for_reservation<E: Events>(
        &mut self,
        position: usize,
        units: u32,
        kind: RecordKind,
        now: DateTime<Utc>,
        events: &mut E,
    ) {
        let Some(h) = self.reservations.get(position) else {
            return;
        };
        let has_reference = h.reference != NO_REFERENCE;
        let location = h.location;
        match h.slot() {
            Some(slot) => {
                self.post_reserved(now, slot, location, kind, units, has_reference, events);
                self.after_change(slot, location, now, events);
            }
            None => {
                for (slot, per) in self.held_lines(h) {
                    let q = units.saturating_mul(per);
                    self.post_reserved(now, slot, location, kind, q, has_reference, events);
                    self.after_change(slot, location, now, events);
                }
            }
        }
    }

    /// Commits everything a reservation still holds: a `sale` movement per variant
    /// (on hand and reserved both fall). Committing a committed reservation is a no-op
    /// (no events). A released one is [`StockError::ReservationReleased`]; one that
    /// expired, or is past its expiry at `now`, is [`StockError::ReservationExpired`].
    pub fn commit(
        &mut self,
        id: &ReservationId,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let mut events = Vec::new();
        self.commit_into(id, now, &mut events)?;
        Ok(events)
    }

    /// [`StockLedger::commit`] for a caller that does not read the events: the same
    /// checks, journal, balances and alert state, but no event is built.
    pub fn commit_quiet(
        &mut self,
        id: &ReservationId,
        now: DateTime<Utc>,
    ) -> Result<(), StockError> {
        self.commit_into(id, now, &mut Quiet)
    }

    /// [`StockLedger::commit_quiet`] of the reservation a key names (the key
    /// [`StockLedger::reserve_quiet_keyed`] returned, or [`StockLedger::reservation_key`]):
    /// the same checks, journal, balances and alert state, without hashing the
    /// reservation's id and probing the index of every id ever made. A key this ledger
    /// did not make is [`StockError::InvalidParameter`]; the other errors name the
    /// reservation's id, as `commit_quiet`'s do.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use ordersmith::ids::{LocationId, ReservationId, VariantId};
    /// use ordersmith::stock::{KeyedReserveRequest, Location, LocationKind, StockLedger, StockPolicy};
    ///
    /// let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    /// let (mug, ist) = (VariantId::parse("MUG")?, LocationId::parse("IST")?);
    /// let mut ledger = StockLedger::new();
    /// ledger.add_location(Location::new(ist.clone(), "DC", 1, "TR-34", LocationKind::Warehouse))?;
    /// ledger.register_variant(mug.clone(), StockPolicy::Deny)?;
    /// ledger.receive(&mug, &ist, 5, None, now)?;
    /// let keys = (ledger.variant_key(&mug).unwrap(), ledger.location_key(&ist).unwrap());
    /// let id = ReservationId::parse("r-1")?;
    /// let held = ledger.reserve_quiet_keyed(KeyedReserveRequest::new(id.clone(), keys, 3), now)?;
    /// ledger.commit_quiet_keyed(held, now)?;
    /// ledger.commit_quiet_keyed(held, now)?; // a retry is a no-op
    /// assert_eq!(ledger.level(&mug, &ist)?.on_hand, 2);
    /// // Released after being sold: refused, naming the reservation.
    /// let err = ledger.release_quiet_keyed(held, now).unwrap_err();
    /// assert_eq!(err.code(), "STOCK_RESERVATION_COMMITTED");
    /// assert_eq!(ledger.reservation_key(&id), Some(held));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn commit_quiet_keyed(
        &mut self,
        key: ReservationKey,
        now: DateTime<Utc>,
    ) -> Result<(), StockError> {
        let position = self.resolve_reservation_key(key)?;
        let r = self.committable_at(position, now)?;
        if r.state == ReservationState::Committed {
            return Ok(());
        }
        let remaining = r.remaining();
        self.commit_units(position, remaining, now, &mut Quiet);
        Ok(())
    }

    /// [`StockLedger::release_quiet`] of the reservation a key names (see
    /// [`StockLedger::commit_quiet_keyed`]).
    pub fn release_quiet_keyed(
        &mut self,
        key: ReservationKey,
        now: DateTime<Utc>,
    ) -> Result<(), StockError> {
        let position = self.resolve_reservation_key(key)?;
        self.release_at(position, now, &mut Quiet)
    }

    pub(super) fn commit_into<E: Events>(
        &mut self,
        id: &ReservationId,
        now: DateTime<Utc>,
        events: &mut E,
    ) -> Result<(), StockError> {
        let (position, r) = self.committable(id, now)?;
        if r.state == ReservationState::Committed {
            return Ok(());
        }
        let remaining = r.remaining();
        self.commit_units(position, remaining, now, events);
        Ok(())
    }

    /// Commits part of a reservation; the rest stays reserved. Asking for more than it
    /// holds is [`StockError::CommitTooLarge`]. Not idempotent by itself: a host that
    /// retries partial commits keys them itself.
    pub fn commit_partial(
        &mut self,
        id: &ReservationId,
        quantity: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let mut events = Vec::new();
        self.commit_partial_into(id, quantity, now, &mut events)?;
        Ok(events)
    }

    /// [`StockLedger::commit_partial`], its events handed to `events`.
    pub(super) fn commit_partial_into<E: Events>(
        &mut self,
        id: &ReservationId,
        quantity: u32,
        now: DateTime<Utc>,
        events: &mut E,
    ) -> Result<(), StockError> {
        let (position, r) = self.committable(id, now)?;
        check_quantity(quantity)?;
        let remaining = r.remaining();
        if quantity > remaining {
            return Err(StockError::CommitTooLarge {
                reservation: id.clone(),
                requested: quantity,
                remaining,
            });
        }
        self.commit_units(position, quantity, now, events);
        Ok(())
    }

    fn committable(
        &self,
        id: &ReservationId,
        now: DateTime<Utc>,
    ) -> Result<(usize, &Held), StockError> {
        let (position, _) = self.known(id)?;
        self.committable_at(position, now).map(|r| (position, r))
    }

    /// The reservation at `position` if it can be committed at `now` (active and not
    /// past its expiry, or already committed), else why not; errors name its own id.
    fn committable_at(&self, position: usize, now: DateTime<Utc>) -> Result<&Held, StockError> {
        // Not `ok_or(NO_SUCH_KEY)`: that builds and drops the error on every call
        // (callgrind showed it on every commit).
        let Some(r) = self.reservations.get(position) else {
            return Err(NO_SUCH_KEY);
        };
        match r.state {
            ReservationState::Active | ReservationState::Committed => {}
            ReservationState::Released => {
                return Err(StockError::ReservationReleased {
                    reservation: r.id.clone(),
                })
            }
            ReservationState::Expired => {
                return Err(StockError::ReservationExpired {
                    reservation: r.id.clone(),
                    expired_at: r.expires_at.unwrap_or(now),
                })
            }
        }
        if r.state == ReservationState::Active {
            if let Some(expires_at) = r.expires_at {
                if expires_at <= now {
                    return Err(StockError::ReservationExpired {
                        reservation: r.id.clone(),
                        expired_at: expires_at,
                    });
                }
            }
        }
        Ok(r)
    }

    /// Posts `sale` movements for `quantity` units of an active reservation (checked).
    fn commit_units<E: Events>(
        &mut self,
        position: usize,
        quantity: u32,
        now: DateTime<Utc>,
        events: &mut E,
    ) {
        let kind = RecordKind::Sale {
            reservation: u32::try_from(position).unwrap_or(u32::MAX),
        };
        self.post_for_reservation(position, quantity, kind, now, events);
        if let Some(r) = self.reservations.get_mut(position) {
            r.committed = r.committed.saturating_add(quantity);
            if r.committed.saturating_add(r.released) >= r.quantity {
                r.state = ReservationState::Committed;
                if let Some(t) = r.expires_at {
                    self.expiry_index.remove(&(t, r.id.clone()));
                }
            }
        }
    }

    /// Releases what a reservation still holds. Releasing a released or expired
    /// reservation is a no-op; a fully committed one is
    /// [`StockError::ReservationCommitted`]. A partly committed one releases the rest.
    pub fn release(
        &mut self,
        id: &ReservationId,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        let mut events = Vec::new();
        self.release_into(id, now, &mut events)?;
        Ok(events)
    }

    /// [`StockLedger::release`] for a caller that does not read the events: the same
    /// checks, journal, balances and alert state, but no event is built.
    pub fn release_quiet(
        &mut self,
        id: &ReservationId,
        now: DateTime<Utc>,
    ) -> Result<(), StockError> {
        self.release_into(id, now, &mut Quiet)
    }

    pub(super) fn release_into<E: Events>(
        &mut self,
        id: &ReservationId,
        now: DateTime<Utc>,
        events: &mut E,
    ) -> Result<(), StockError> {
        let (position, _) = self.known(id)?;
        self.release_at(position, now, events)
    }

    /// [`Self::release_into`] of the reservation at `position`; errors name its own id.
    fn release_at<E: Events>(
        &mut self,
        position: usize,
        now: DateTime<Utc>,
        events: &mut E,
    ) -> Result<(), StockError> {
        // Not `ok_or(NO_SUCH_KEY)`: that builds and drops the error on every call
        // (callgrind showed it on every release).
        let Some(r) = self.reservations.get(position) else {
            return Err(NO_SUCH_KEY);
        };
        match r.state {
            ReservationState::Released | ReservationState::Expired => Ok(()),
            ReservationState::Committed => Err(StockError::ReservationCommitted {
                reservation: r.id.clone(),
            }),
            ReservationState::Active => {
                self.release_rest(position, false, now, events);
                Ok(())
            }
        }
    }

    /// Releases part of what an active reservation holds (a cancelled part of an order
    /// line); the rest stays reserved. Asking for more than it holds is
    /// [`StockError::ReleaseTooLarge`]. Releasing everything that is left ends the
    /// reservation (released, or committed if some of it was sold). Like
    /// [`StockLedger::commit_partial`], not idempotent by itself.
    pub fn release_partial(
        &mut self,
        id: &ReservationId,
        quantity: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<StockEvent>, StockError> {
        check_quantity(quantity)?;
        let position = self.active(id)?;
        let remaining = self.reservations.get(position).map_or(0, Held::remaining);
        if quantity > remaining {
            return Err(StockError::ReleaseTooLarge {
                reservation: id.clone(),
                requested: quantity,
                remaining,
            });
        }
        let mut events = Vec::new();
        let kind = RecordKind::Release {
            reservation: u32::try_from(position).unwrap_or(u32::MAX),
            expired: false,
        };
        self.post_for_reservation(position, quantity, kind, now, &mut events);
        if let Some(r) = self.reservations.get_mut(position) {
            r.released = r.released.saturating_add(quantity);
            if r.committed.saturating_add(r.released) >= r.quantity {
                r.state = if r.committed > 0 {
                    ReservationState::Committed
                } else {
                    ReservationState::Released
                };
                if let Some(t) = r.expires_at {
                    self.expiry_index.remove(&(t, id.clone()));
                }
            }
        }
        Ok(events)
    }

    /// Releases every active reservation whose expiry is at or before `now`, and returns
    /// the movements (kind `release` with `expired: true`). The core never reads the
    /// clock: the host calls this with its time.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Vec<StockEvent> {
        let due: Vec<usize> = self
            .expiry_index
            .iter()
            .take_while(|(t, _)| *t <= now)
            .filter_map(|(_, id)| self.reservation_position(id))
            .collect();
        let mut events = Vec::new();
        for position in due {
            self.release_rest(position, true, now, &mut events);
        }
        events
    }

    fn release_rest<E: Events>(
        &mut self,
        position: usize,
        expired: bool,
        now: DateTime<Utc>,
        events: &mut E,
    ) {
        let Some(r) = self.reservations.get(position) else {
            return;
        };
        let remaining = r.remaining();
        if remaining > 0 {
            let kind = RecordKind::Release {
                reservation: u32::try_from(position).unwrap_or(u32::MAX),
                expired,
            };
            self.post_for_reservation(position, remaining, kind, now, events);
        }
        if let Some(r) = self.reservations.get_mut(position) {
            r.state = if expired {
                ReservationState::Expired
            } else {
                ReservationState::Released
            };
            if let Some(t) = r.expires_at {
                self.expiry_index.remove(&(t, r.id.clone()));
            }
        }
    }
}

/// Which live reservations [`StockLedger::live_reservations`] lists: every filter that
/// is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservationFilter {
    /// Holding this variant (directly, or as a bundle's component).
    #[serde(default)]
    pub variant: Option<VariantId>,
    /// At this location.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// Owned by this order.
    #[serde(default)]
    pub order: Option<OrderId>,
    /// Expiring at or before this time (reservations without expiry never match).
    #[serde(default)]
    pub expiring_before: Option<DateTime<Utc>>,
}

impl ReservationFilter {
    /// Whether the held reservation `h` of `ledger` matches, read from its compact
    /// record (no view is built for one that does not).
    fn matches(&self, ledger: &StockLedger, h: &Held) -> bool {
        self.variant.as_ref().is_none_or(|v| {
            ledger.held_variant(h) == Some(v)
                || ledger
                    .held_bundle(h)
                    .is_some_and(|b| b.components.iter().any(|(c, _)| c == v))
        }) && self
            .location
            .as_ref()
            .is_none_or(|l| ledger.location_id(h.location) == Some(l))
            && self
                .order
                .as_ref()
                .is_none_or(|o| ledger.held_order(h) == Some(o))
            && self
                .expiring_before
                .is_none_or(|t| h.expires_at.is_some_and(|e| e <= t))
    }
}

impl StockLedger {
    /// Live (active) reservations matching `filter`, ordered by id: what a host shows as
    /// "held for order X until 14:00". Released, expired and fully committed ones are
    /// history (see the journal), not listed.
    pub fn live_reservations(&self, filter: &ReservationFilter) -> Vec<Reservation> {
        let mut found: Vec<Reservation> = (0..self.reservations.len())
            .filter(|&i| {
                self.reservations
                    .get(i)
                    .is_some_and(|h| h.state == ReservationState::Active && filter.matches(self, h))
            })
            .filter_map(|i| self.reservation_view(i))
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found
    }

    /// Active reservations whose expiry is at or before `now`, earliest first: what
    /// [`StockLedger::expire`] would release at `now`.
    pub fn due_expiries(&self, now: DateTime<Utc>) -> Vec<Reservation> {
        self.expiry_index
            .iter()
            .take_while(|(t, _)| *t <= now)
            .filter_map(|(_, id)| self.reservation(id))
            .filter(|r| r.state == ReservationState::Active)
            .collect()
    }

    /// Sets or clears when an active reservation lapses (an order was paid and its
    /// hold no longer runs against a clock, or a host extends a hold). Setting the
    /// expiry it already has is a no-op. An unknown id is
    /// [`StockError::UnknownReservation`]; one that is no longer active is
    /// [`StockError::ReservationReleased`] or [`StockError::ReservationCommitted`]; a
    /// new expiry not after `now` is [`StockError::InvalidExpiry`].
    pub fn set_expiry(
        &mut self,
        id: &ReservationId,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StockError> {
        let position = self.active(id)?;
        let Some(r) = self.reservations.get(position) else {
            return Ok(());
        };
        if r.expires_at == expires_at {
            return Ok(());
        }
        if let Some(t) = expires_at {
            if t <= now {
                return Err(StockError::InvalidExpiry { expires_at: t, now });
            }
        }
        let old = r.expires_at;
        // The `reserve` movement keeps the expiry the reservation was made with.
        if let Ok(p) = u32::try_from(position) {
            self.reserved_expiries.entry(p).or_insert(old);
        }
        if let Some(t) = old {
            self.expiry_index.remove(&(t, id.clone()));
        }
        if let Some(t) = expires_at {
            self.expiry_index.insert((t, id.clone()));
        }
        if let Some(r) = self.reservations.get_mut(position) {
            r.expires_at = expires_at;
        }
        Ok(())
    }
}

/// Units of a component for `bundles` bundles, refused above the quantity limit.
pub(super) fn units_for(bundles: u32, per: u32) -> Result<u32, StockError> {
    match bundles.checked_mul(per) {
        Some(units) if units <= limits::MAX_QUANTITY => Ok(units),
        _ => Err(StockError::InvalidQuantity {
            quantity: i64::from(bundles).saturating_mul(i64::from(per)),
            max: limits::MAX_QUANTITY,
        }),
    }
}
