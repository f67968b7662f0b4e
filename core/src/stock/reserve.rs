//! Two-phase reservations: reserve, then commit (sold) or release; the expiry sweep.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{LocationId, OrderId, ReservationId, VariantId};

use super::error::StockError;
use super::held::{Held, HeldBundle, NONE};
use super::journal::RecordKind;
use super::journal::NO_REFERENCE;
use super::ledger::{check_quantity, check_text, LocationKey, StockLedger, VariantKey};
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
    /// The caller's reference, e.g. `"order o-1 line 2"`.
    pub reference: Option<String>,
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
    pub fn with_reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }
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
        self.reserve_into(request, now, &mut events, None)?;
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
        self.reserve_into(request, now, &mut Quiet, None)
    }

    /// [`StockLedger::reserve_quiet`] with the request's variant and location given by
    /// their keys ([`StockLedger::variant_key`], [`StockLedger::location_key`]), for a
    /// caller that makes many reservations: the same checks, journal, balances, alert
    /// state and idempotency, without hashing the variant's id and looking it up on
    /// every call (about half of a reservation's time at 100,000 variants, most of it
    /// cache misses). The keys are checked against the request: keys that do not name
    /// its variant and location are ignored and the ids looked up, so the result is
    /// always exactly `reserve_quiet(request, now)`.
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
    /// let keys = (ledger.variant_key(&mug).unwrap(), ledger.location_key(&ist).unwrap());
    /// for (i, quantity) in [(1, 2), (2, 2)] {
    ///     let id = ReservationId::parse(format!("r-{i}"))?;
    ///     let request = ReserveRequest::new(id, mug.clone(), ist.clone(), quantity);
    ///     ledger.reserve_quiet_keyed(request, keys, now)?;
    /// }
    /// assert_eq!(ledger.level(&mug, &ist)?.reserved, 4);
    /// let too_many = ReserveRequest::new(ReservationId::parse("r-3")?, mug, ist, 2);
    /// assert!(ledger.reserve_quiet_keyed(too_many, keys, now).is_err()); // 1 left
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_quiet_keyed(
        &mut self,
        request: ReserveRequest,
        keys: (VariantKey, LocationKey),
        now: DateTime<Utc>,
    ) -> Result<(), StockError> {
        self.reserve_into(request, now, &mut Quiet, Some(keys))
    }

    fn reserve_into<E: Events>(
        &mut self,
        request: ReserveRequest,
        now: DateTime<Utc>,
        events: &mut E,
        keys: Option<(VariantKey, LocationKey)>,
    ) -> Result<(), StockError> {
        // Keys that name the request's variant and location stand for both lookups (a
        // keyed variant is a registered one, never a bundle).
        let keyed = keys.and_then(|k| self.keyed(&request.variant, &request.location, k));
        // The variant's slot is looked up first, though its errors come later: its
        // chain of cache misses (id text, index, slot) then overlaps the reservation
        // index's instead of following it.
        let variant_slot = match keyed {
            Some((slot, _)) => Some(slot),
            None => self.slot_of(&request.variant),
        };
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
        let (slot, components) = match keyed {
            Some((slot, _)) => (Some(slot), Vec::new()),
            None => match (variant_slot, self.bundles.get(&request.variant)) {
                (_, Some(bundle)) => (None, bundle.components.clone()),
                (Some(slot), None) => (Some(slot), Vec::new()),
                (None, None) => (Some(self.slot_checked(&request.variant)?), Vec::new()),
            },
        };
        let location = match keyed {
            Some((_, location)) => location,
            None => self.location_checked(&request.location)?,
        };
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

        // Every check passed: record the reservation, then post its movements (which
        // name it by position).
        let first_seq = u64::try_from(self.journal.len())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let position = u32::try_from(self.reservations.len()).unwrap_or(u32::MAX);
        let has_reference = request.reference.is_some();
        let quantity = request.quantity;
        if let Some(expires_at) = request.expires_at {
            self.expiry_index.insert((expires_at, request.id.clone()));
        }
        self.reservation_index
            .insert_hashed(id_hash, &request.id, position);
        let reference = match request.reference {
            Some(text) => {
                self.references.push(text);
                u32::try_from(self.references.len() - 1).unwrap_or(NO_REFERENCE)
            }
            None => NO_REFERENCE,
        };
        let order = match request.order {
            Some(order) => {
                self.reservation_orders.push(order);
                u32::try_from(self.reservation_orders.len() - 1).unwrap_or(NONE)
            }
            None => NONE,
        };
        let bundle = match slot {
            Some(_) => NONE,
            None => {
                self.reservation_bundles.push(HeldBundle {
                    variant: request.variant,
                    components,
                });
                u32::try_from(self.reservation_bundles.len() - 1).unwrap_or(NONE)
            }
        };
        self.reservations.push(Held {
            id: request.id,
            expires_at: request.expires_at,
            first_seq,
            slot: slot.and_then(|s| u32::try_from(s).ok()).unwrap_or(NONE),
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
        match slot {
            Some(slot) => {
                self.post_reserved(now, slot, location, kind, quantity, has_reference, events);
                self.after_change(slot, location, now, events);
            }
            None => {
                for (part, units) in parts {
                    self.post_reserved(now, part, location, kind, units, has_reference, events);
                    self.after_change(part, location, now, events);
                }
            }
        }
        Ok(())
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

    fn commit_into<E: Events>(
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
        let mut events = Vec::new();
        self.commit_units(position, quantity, now, &mut events);
        Ok(events)
    }

    fn committable(
        &self,
        id: &ReservationId,
        now: DateTime<Utc>,
    ) -> Result<(usize, &Held), StockError> {
        let (position, r) = self.known(id)?;
        match r.state {
            ReservationState::Active | ReservationState::Committed => {}
            ReservationState::Released => {
                return Err(StockError::ReservationReleased {
                    reservation: id.clone(),
                })
            }
            ReservationState::Expired => {
                return Err(StockError::ReservationExpired {
                    reservation: id.clone(),
                    expired_at: r.expires_at.unwrap_or(now),
                })
            }
        }
        if r.state == ReservationState::Active {
            if let Some(expires_at) = r.expires_at {
                if expires_at <= now {
                    return Err(StockError::ReservationExpired {
                        reservation: id.clone(),
                        expired_at: expires_at,
                    });
                }
            }
        }
        Ok((position, r))
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

    fn release_into<E: Events>(
        &mut self,
        id: &ReservationId,
        now: DateTime<Utc>,
        events: &mut E,
    ) -> Result<(), StockError> {
        let (position, r) = self.known(id)?;
        match r.state {
            ReservationState::Released | ReservationState::Expired => Ok(()),
            ReservationState::Committed => Err(StockError::ReservationCommitted {
                reservation: id.clone(),
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
