//! The append-only journal: movements, their effects on balances, and replay.

use std::borrow::Borrow;

use super::FastMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CountId, LocationId, ReservationId, TransferId, VariantId};

use super::model::{AdjustmentReason, Balance, BalanceDelta, Direction, WriteOffSource};

/// Balances of every (variant, location) that ever moved: variant → location → balance.
pub type Balances = FastMap<VariantId, FastMap<LocationId, Balance>>;

/// What a movement was. Its effect on balances is [`Movement::effects`].
///
/// | kind | effect (q = quantity) |
/// |---|---|
/// | `incoming_expected` | incoming +q |
/// | `incoming_cancelled` | incoming −q |
/// | `receipt` | on hand +q, incoming −`from_incoming` |
/// | `reserve` | reserved +q |
/// | `release` | reserved −q |
/// | `sale` | on hand −q, reserved −q |
/// | `adjustment` | on hand ±q |
/// | `count` | on hand ±q (the variance) |
/// | `transfer_out` | on hand −q, in transit +q |
/// | `transfer_in` | on hand +q; at `from`: in transit −q |
/// | `return_restock` | on hand +q |
/// | `quarantine` | quarantined +q |
/// | `quarantine_release` | quarantined −q, on hand +q |
/// | `write_off` | quarantined −q or on hand −q |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MovementKind {
    /// Units announced as coming (a purchase order, a pre-order batch).
    IncomingExpected,
    /// An expectation withdrawn.
    IncomingCancelled,
    /// Goods received; `from_incoming` of them had been expected.
    Receipt {
        /// Units that clear the expected quantity.
        from_incoming: u32,
    },
    /// A reservation took units.
    Reserve {
        /// The reservation.
        reservation: ReservationId,
        /// Its expiry.
        expires_at: Option<DateTime<Utc>>,
    },
    /// A reservation gave units back.
    Release {
        /// The reservation.
        reservation: ReservationId,
        /// Released by the expiry sweep rather than by a caller.
        expired: bool,
    },
    /// A reservation was committed: the units left as sold.
    Sale {
        /// The reservation.
        reservation: ReservationId,
    },
    /// A manual adjustment.
    Adjustment {
        /// Why.
        reason: AdjustmentReason,
        /// Which way.
        direction: Direction,
    },
    /// A cycle count's variance.
    Count {
        /// The count.
        count: CountId,
        /// Which way.
        direction: Direction,
    },
    /// Units left on a transfer.
    TransferOut {
        /// The transfer.
        transfer: TransferId,
        /// The destination.
        to: LocationId,
    },
    /// Units of a transfer arrived.
    TransferIn {
        /// The transfer.
        transfer: TransferId,
        /// The source, whose in-transit quantity falls.
        from: LocationId,
    },
    /// A returned item went back on the shelf.
    ReturnRestock,
    /// A returned item was put in quarantine to await inspection.
    Quarantine,
    /// Quarantined units were found sellable.
    QuarantineRelease,
    /// Units were written off.
    WriteOff {
        /// From where.
        from: WriteOffSource,
    },
}

/// One entry of the append-only journal. `seq` starts at 1 and has no gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// Position in the journal, from 1.
    pub seq: u64,
    /// When it happened (the command's `now`).
    pub at: DateTime<Utc>,
    /// The variant.
    pub variant: VariantId,
    /// The location.
    pub location: LocationId,
    /// What happened.
    pub kind: MovementKind,
    /// Units moved, always positive; the kind gives the direction.
    pub quantity: u32,
    /// The caller's reference (order, purchase order, return), if any.
    pub reference: Option<String>,
}

impl Movement {
    /// What this movement does to balances: one or two (location, delta) pairs, all for
    /// `self.variant`.
    pub fn effects(&self) -> (BalanceDelta, Option<(&LocationId, BalanceDelta)>) {
        kind_effects(&self.kind, self.quantity)
    }
}

/// What a movement of `kind` and `quantity` does to balances (see [`Movement::effects`]).
pub(super) fn kind_effects(
    kind: &MovementKind,
    quantity: u32,
) -> (BalanceDelta, Option<(&LocationId, BalanceDelta)>) {
    let q = i64::from(quantity);
    let mut d = BalanceDelta::default();
    let mut other = None;
    match kind {
        MovementKind::IncomingExpected => d.incoming = q,
        MovementKind::IncomingCancelled => d.incoming = -q,
        MovementKind::Receipt { from_incoming } => {
            d.on_hand = q;
            d.incoming = -i64::from(*from_incoming);
        }
        MovementKind::Reserve { .. } => d.reserved = q,
        MovementKind::Release { .. } => d.reserved = -q,
        MovementKind::Sale { .. } => {
            d.on_hand = -q;
            d.reserved = -q;
        }
        MovementKind::Adjustment { direction, .. } | MovementKind::Count { direction, .. } => {
            d.on_hand = match direction {
                Direction::Increase => q,
                Direction::Decrease => -q,
            }
        }
        MovementKind::TransferOut { .. } => {
            d.on_hand = -q;
            d.in_transit = q;
        }
        MovementKind::TransferIn { from, .. } => {
            d.on_hand = q;
            let source = BalanceDelta {
                in_transit: -q,
                ..BalanceDelta::default()
            };
            other = Some((from, source));
        }
        MovementKind::ReturnRestock => d.on_hand = q,
        MovementKind::Quarantine => d.quarantined = q,
        MovementKind::QuarantineRelease => {
            d.quarantined = -q;
            d.on_hand = q;
        }
        MovementKind::WriteOff { from } => match from {
            WriteOffSource::Quarantine => d.quarantined = -q,
            WriteOffSource::OnHand => d.on_hand = -q,
        },
    }
    (d, other)
}

/// Applies one movement to balances. The only place balances change, live or replayed.
pub(crate) fn apply_movement(balances: &mut Balances, movement: &Movement) {
    let (here, other) = movement.effects();
    add_delta(balances, &movement.variant, &movement.location, &here);
    if let Some((location, delta)) = other {
        add_delta(balances, &movement.variant, location, &delta);
    }
}

fn add_delta(
    balances: &mut Balances,
    variant: &VariantId,
    location: &LocationId,
    delta: &BalanceDelta,
) {
    // Look up by reference first so the hot path clones no id.
    if let Some(by_location) = balances.get_mut(variant) {
        if let Some(balance) = by_location.get_mut(location) {
            balance.add(delta);
        } else {
            let mut balance = Balance::default();
            balance.add(delta);
            by_location.insert(location.clone(), balance);
        }
        return;
    }
    let mut balance = Balance::default();
    balance.add(delta);
    balances.insert(
        variant.clone(),
        FastMap::from_iter([(location.clone(), balance)]),
    );
}

/// Rebuilds balances from a journal alone (movements or references to them). For a
/// ledger, this always equals [`super::StockLedger::balances`] (a property test checks
/// it).
pub fn rebuild_balances<M: Borrow<Movement>>(journal: impl IntoIterator<Item = M>) -> Balances {
    let mut balances = Balances::default();
    for movement in journal {
        apply_movement(&mut balances, movement.borrow());
    }
    balances
}

/// A journal entry as the ledger stores it: fixed size (at most 40 bytes), ids as dense
/// indexes. [`super::StockLedger::journal`] materialises [`Movement`] values from these
/// for readers; the write path never builds a `Movement` for the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Record {
    pub(super) at: DateTime<Utc>,
    /// The variant's slot.
    pub(super) slot: u32,
    /// The location's index.
    pub(super) location: u32,
    pub(super) quantity: u32,
    pub(super) kind: RecordKind,
    /// [`NO_REFERENCE`], [`RESERVATION_REFERENCE`] (the reference of the reservation
    /// the kind names), or an index into the ledger's reference texts.
    pub(super) reference: u32,
}

/// [`Record::reference`]: the movement has no reference.
pub(super) const NO_REFERENCE: u32 = u32::MAX;
/// [`Record::reference`]: the movement's reference is its reservation's.
pub(super) const RESERVATION_REFERENCE: u32 = u32::MAX - 1;

/// [`MovementKind`] with a reservation as its position in the ledger's reservations;
/// kinds that carry other ids (counts, transfers) are kept whole beside the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum RecordKind {
    IncomingExpected,
    IncomingCancelled,
    Receipt {
        from_incoming: u32,
    },
    /// Its expiry is the one the reservation was made with
    /// ([`super::ledger::ReservationTarget::reserved_expiry`]).
    Reserve {
        reservation: u32,
    },
    Release {
        reservation: u32,
        expired: bool,
    },
    Sale {
        reservation: u32,
    },
    Adjustment {
        reason: AdjustmentReason,
        direction: Direction,
    },
    ReturnRestock,
    Quarantine,
    QuarantineRelease,
    WriteOff {
        from: WriteOffSource,
    },
    /// Index into the ledger's whole kinds.
    Whole {
        index: u32,
    },
}

impl RecordKind {
    /// The compact form of `kind`; `reservation` is the position of the reservation a
    /// reserve, release or sale names. `None` when the kind must be kept whole.
    pub(super) fn compact(kind: &MovementKind, reservation: Option<u32>) -> Option<RecordKind> {
        Some(match kind {
            MovementKind::IncomingExpected => RecordKind::IncomingExpected,
            MovementKind::IncomingCancelled => RecordKind::IncomingCancelled,
            MovementKind::Receipt { from_incoming } => RecordKind::Receipt {
                from_incoming: *from_incoming,
            },
            MovementKind::Reserve { .. } => RecordKind::Reserve {
                reservation: reservation?,
            },
            MovementKind::Release { expired, .. } => RecordKind::Release {
                reservation: reservation?,
                expired: *expired,
            },
            MovementKind::Sale { .. } => RecordKind::Sale {
                reservation: reservation?,
            },
            MovementKind::Adjustment { reason, direction } => RecordKind::Adjustment {
                reason: *reason,
                direction: *direction,
            },
            MovementKind::ReturnRestock => RecordKind::ReturnRestock,
            MovementKind::Quarantine => RecordKind::Quarantine,
            MovementKind::QuarantineRelease => RecordKind::QuarantineRelease,
            MovementKind::WriteOff { from } => RecordKind::WriteOff { from: *from },
            MovementKind::Count { .. }
            | MovementKind::TransferOut { .. }
            | MovementKind::TransferIn { .. } => return None,
        })
    }

    /// What a reserve, release or sale of `quantity` units does to its balance (the
    /// same as [`kind_effects`] of the movement it stands for); `None` for other kinds.
    pub(super) fn reservation_delta(&self, quantity: u32) -> Option<BalanceDelta> {
        let q = i64::from(quantity);
        match self {
            RecordKind::Reserve { .. } => Some(BalanceDelta {
                reserved: q,
                ..BalanceDelta::default()
            }),
            RecordKind::Release { .. } => Some(BalanceDelta {
                reserved: -q,
                ..BalanceDelta::default()
            }),
            RecordKind::Sale { .. } => Some(BalanceDelta {
                on_hand: -q,
                reserved: -q,
                ..BalanceDelta::default()
            }),
            _ => None,
        }
    }

    /// The reservation position a reserve, release or sale names.
    pub(super) fn reservation(&self) -> Option<u32> {
        match self {
            RecordKind::Reserve { reservation }
            | RecordKind::Release { reservation, .. }
            | RecordKind::Sale { reservation } => Some(*reservation),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_journal_record_is_a_fraction_of_a_movement() {
        // The write path appends one record per movement; readers get movements.
        let record = std::mem::size_of::<Record>();
        assert!(record <= 40, "{record} bytes");
        assert!(record * 3 <= std::mem::size_of::<Movement>());
    }

    #[test]
    fn transfer_in_raises_destination_and_clears_source_in_transit() {
        let m = Movement {
            seq: 1,
            at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            variant: VariantId::parse("V").unwrap(),
            location: LocationId::parse("TO").unwrap(),
            kind: MovementKind::TransferIn {
                transfer: TransferId::parse("t").unwrap(),
                from: LocationId::parse("FROM").unwrap(),
            },
            quantity: 4,
            reference: None,
        };
        let balances = rebuild_balances([&m]);
        let v = &balances[&m.variant];
        assert_eq!(v[&m.location].on_hand, 4);
        assert_eq!(v[&LocationId::parse("FROM").unwrap()].in_transit, -4);
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"type\":\"transfer_in\""));
        assert_eq!(serde_json::from_str::<Movement>(&json).unwrap(), m);
    }
}
