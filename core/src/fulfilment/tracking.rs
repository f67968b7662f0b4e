//! Parcel tracking: carrier events normalised to one status, applied so that a parcel
//! never moves backwards and nothing is counted twice.
//!
//! Carriers report events with their own codes. A [`CarrierStatusTable`] maps
//! (carrier, raw code) to a [`ParcelStatus`]; ordersmith ships tables for UPS and USPS
//! ([`CarrierStatusTable::shipped`]) and the host adds or overrides entries at run time
//! for any other carrier. A code no table knows maps to [`MappedStatus::Unknown`]:
//! it is kept in the history and never fails.
//!
//! A [`ParcelTracking`] applies events one by one and says what each did
//! ([`ApplyOutcome`]), so the caller sends "out for delivery" or "delivered" exactly
//! once, on [`ApplyOutcome::Advanced`]:
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ordersmith::fulfilment::ident::Carrier;
//! use ordersmith::fulfilment::tracking::{
//!     ApplyOutcome, CarrierEvent, CarrierStatusTable, IgnoreReason, ParcelStatus, ParcelTracking,
//! };
//!
//! let table = CarrierStatusTable::shipped();
//! let mut parcel = ParcelTracking::new(Carrier::Ups);
//! let at = |h| Utc.with_ymd_and_hms(2026, 3, 2, h, 0, 0).unwrap();
//! let ev = |h, code: &str| CarrierEvent::new(at(h), code, Some("ISTANBUL")).unwrap();
//!
//! assert_eq!(
//!     parcel.apply(&table, ev(8, "I")),
//!     ApplyOutcome::Advanced { from: None, to: ParcelStatus::InTransit }
//! );
//! assert_eq!(parcel.apply(&table, ev(8, "I")), ApplyOutcome::Duplicate);
//! parcel.apply(&table, ev(12, "D"));
//! assert_eq!(parcel.status(), Some(ParcelStatus::Delivered));
//! // In transit after delivered makes no sense: kept in the history, status unchanged.
//! assert_eq!(
//!     parcel.apply(&table, ev(13, "I")),
//!     ApplyOutcome::Ignored { reason: IgnoreReason::AfterDelivered }
//! );
//! assert_eq!(parcel.status(), Some(ParcelStatus::Delivered));
//! ```
//!
//! # Progress order
//!
//! The main line is `LabelCreated < PickedUp < InTransit < OutForDelivery < Delivered`
//! ([`ParcelStatus::progress_rank`]). `DeliveryFailed` stands at the rank of
//! `OutForDelivery` (an attempt was made); `Exception` is an interruption at whatever
//! rank the parcel had reached; `ReturnedToSender` ends the line.
//!
//! # How an event is applied
//!
//! In this order:
//!
//! 1. An event equal to one already in the history (same time, raw code and location)
//!    is a [`ApplyOutcome::Duplicate`] and leaves no trace.
//! 2. Once `ReturnedToSender`, every other event is ignored
//!    ([`IgnoreReason::AfterReturnedToSender`]); once `Delivered`, every event but
//!    `ReturnedToSender` is ignored ([`IgnoreReason::AfterDelivered`]). Ignored events
//!    stay in the history with their reason.
//! 3. An unknown code, or the status the parcel already has, is
//!    [`ApplyOutcome::Recorded`].
//! 4. `ReturnedToSender` always advances. `Exception` and `DeliveryFailed` advance
//!    when the event is not older than the latest one recorded (a stale failure does
//!    not undo a later scan).
//! 5. A main-line status advances when its rank is above the rank reached so far; after
//!    an `Exception` or `DeliveryFailed` it also advances at the rank reached (the
//!    parcel recovered: in transit again, out for delivery again). Anything lower is
//!    only recorded: it arrived out of order, or the carrier re-scanned.
//!
//! So a failed delivery followed by a successful one ends `Delivered`, and a shuffled or
//! repeated feed never makes the status go back.
//!
//! # Sources for the shipped tables
//!
//! - **UPS**: the activity *status type* of the UPS Tracking API (`D` Delivered, `I` In
//!   Transit, `M` Billing Information Received, `MV` Billing Information Voided, `P`
//!   Pickup, `X` Exception, `RS` Returned to Shipper, `DO`/`DD` Delivered
//!   Origin/Destination CFS and `W` Warehousing for freight, `NA` Not Available, `O` Out
//!   for Delivery), as listed in the UPS Tracking developer guide and in public
//!   integrations of it; "Billing Information Received" means UPS has the shipment's
//!   data but not necessarily the parcel (UPS help centre), hence `LabelCreated`.
//!   `MV` (label voided) and `NA` are left unmapped: neither says where a parcel is.
//! - **USPS**: the event codes of USPS tracking data: `GX` Shipping Label Created, `MA`
//!   Pre-Shipment Info Sent to USPS, `OA` Origin Acceptance, `UA` Accepted at USPS
//!   Facility, `07` Arrival at Unit (the delivery post office), `OF` Out for Delivery,
//!   `01` Delivered, `02` Notice Left (a failed attempt), `09` Return to Sender
//!   (USPS Web Tools TrackV2 sample responses; the event-code tables that parcel
//!   platforms publish for USPS). Some platforms map `07` to out for delivery; here it
//!   is `InTransit`, because USPS sends `OF` separately when the carrier leaves with it.
//!   A host that prefers otherwise overrides the entry with [`CarrierStatusTable::set`].

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fulfilment::ident::Carrier;

/// Why tracking input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum TrackingError {
    /// A raw status code was empty, longer than [`MAX_RAW_CODE_LEN`], or held control
    /// characters.
    #[error("carrier status code is invalid: {reason}")]
    InvalidCode {
        /// What is wrong.
        reason: &'static str,
    },
    /// An event's location text was longer than [`MAX_LOCATION_LEN`] or held control
    /// characters.
    #[error("carrier event location is invalid: {reason}")]
    InvalidLocation {
        /// What is wrong.
        reason: &'static str,
    },
}

impl TrackingError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "FULFILMENT_TRACKING_INVALID_CODE",
        "FULFILMENT_TRACKING_INVALID_LOCATION",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCode { .. } => "FULFILMENT_TRACKING_INVALID_CODE",
            Self::InvalidLocation { .. } => "FULFILMENT_TRACKING_INVALID_LOCATION",
        }
    }
}

/// The longest raw carrier status code accepted, in characters.
pub const MAX_RAW_CODE_LEN: usize = 64;
/// The longest event location text accepted, in characters.
pub const MAX_LOCATION_LEN: usize = 256;
/// The most events one parcel keeps; later ones are ignored with
/// [`IgnoreReason::HistoryFull`]. Real parcels have a few dozen.
pub const MAX_EVENTS_PER_PARCEL: usize = 500;

/// Where a parcel is, the same for every carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParcelStatus {
    /// The label exists; the carrier does not have the parcel yet.
    LabelCreated,
    /// The carrier has taken the parcel.
    PickedUp,
    /// Moving through the carrier's network.
    InTransit,
    /// With the driver for delivery today.
    OutForDelivery,
    /// A delivery attempt failed (nobody home, no access); another may follow.
    DeliveryFailed,
    /// Delivered to the recipient or a pickup point. Final, unless the parcel is
    /// then returned to sender.
    Delivered,
    /// Something unplanned (damage, customs hold, address problem); progress may
    /// follow.
    Exception,
    /// On its way back to, or back with, the shipper. Final.
    ReturnedToSender,
}

impl ParcelStatus {
    /// Every status, in progress order.
    pub const ALL: [ParcelStatus; 8] = [
        ParcelStatus::LabelCreated,
        ParcelStatus::PickedUp,
        ParcelStatus::InTransit,
        ParcelStatus::OutForDelivery,
        ParcelStatus::DeliveryFailed,
        ParcelStatus::Delivered,
        ParcelStatus::Exception,
        ParcelStatus::ReturnedToSender,
    ];

    /// The rank on the main line: LabelCreated 0, PickedUp 1, InTransit 2,
    /// OutForDelivery 3, Delivered 4; DeliveryFailed is 3 (an attempt was made),
    /// ReturnedToSender 5; Exception has none (it interrupts whatever rank was reached).
    pub fn progress_rank(self) -> Option<u8> {
        match self {
            ParcelStatus::LabelCreated => Some(0),
            ParcelStatus::PickedUp => Some(1),
            ParcelStatus::InTransit => Some(2),
            ParcelStatus::OutForDelivery | ParcelStatus::DeliveryFailed => Some(3),
            ParcelStatus::Delivered => Some(4),
            ParcelStatus::ReturnedToSender => Some(5),
            ParcelStatus::Exception => None,
        }
    }

    /// Whether no further progress can follow (`ReturnedToSender`); `Delivered` is
    /// final except for a return.
    pub fn is_terminal(self) -> bool {
        self == ParcelStatus::ReturnedToSender
    }

    /// Whether the status interrupts progress (`Exception`, `DeliveryFailed`).
    pub fn is_interruption(self) -> bool {
        matches!(self, ParcelStatus::Exception | ParcelStatus::DeliveryFailed)
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ParcelStatus::LabelCreated => "label_created",
            ParcelStatus::PickedUp => "picked_up",
            ParcelStatus::InTransit => "in_transit",
            ParcelStatus::OutForDelivery => "out_for_delivery",
            ParcelStatus::DeliveryFailed => "delivery_failed",
            ParcelStatus::Delivered => "delivered",
            ParcelStatus::Exception => "exception",
            ParcelStatus::ReturnedToSender => "returned_to_sender",
        }
    }
}

impl fmt::Display for ParcelStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A raw code as mapped by a [`CarrierStatusTable`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappedStatus {
    /// The table knows the code.
    Known(ParcelStatus),
    /// No table entry: the normalised raw code, kept as it came.
    Unknown(String),
}

fn normalise_code(raw: &str) -> Result<String, TrackingError> {
    let code = raw.trim().to_ascii_uppercase();
    let invalid = |reason| Err(TrackingError::InvalidCode { reason });
    if code.is_empty() {
        return invalid("it is empty");
    }
    if code.chars().count() > MAX_RAW_CODE_LEN {
        return invalid("it is longer than 64 characters");
    }
    if code.chars().any(char::is_control) {
        return invalid("it contains control characters");
    }
    Ok(code)
}

/// Maps (carrier, raw status code) to a [`ParcelStatus`]. Codes are compared trimmed
/// and in ASCII upper case; carriers by their code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CarrierStatusTable {
    entries: BTreeMap<String, BTreeMap<String, ParcelStatus>>,
}

impl CarrierStatusTable {
    /// A table with no entries.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The tables shipped with ordersmith: UPS status types and USPS event codes (see
    /// the module documentation for what each code means and where it comes from).
    pub fn shipped() -> Self {
        use ParcelStatus::*;
        let ups: &[(&str, ParcelStatus)] = &[
            ("M", LabelCreated),
            ("P", PickedUp),
            ("I", InTransit),
            ("DO", InTransit),
            ("DD", InTransit),
            ("W", InTransit),
            ("O", OutForDelivery),
            ("D", Delivered),
            ("X", Exception),
            ("RS", ReturnedToSender),
        ];
        let usps: &[(&str, ParcelStatus)] = &[
            ("GX", LabelCreated),
            ("MA", LabelCreated),
            ("OA", PickedUp),
            ("UA", PickedUp),
            ("07", InTransit),
            ("OF", OutForDelivery),
            ("01", Delivered),
            ("02", DeliveryFailed),
            ("09", ReturnedToSender),
        ];
        let mut table = Self::empty();
        for (carrier, rows) in [(Carrier::Ups, ups), (Carrier::Usps, usps)] {
            let map = table.entries.entry(carrier.code().to_string()).or_default();
            for (code, status) in rows {
                map.insert((*code).to_string(), *status);
            }
        }
        table
    }

    /// Adds or overrides an entry; returns the status it replaced, if any.
    pub fn set(
        &mut self,
        carrier: &Carrier,
        raw_code: &str,
        status: ParcelStatus,
    ) -> Result<Option<ParcelStatus>, TrackingError> {
        let code = normalise_code(raw_code)?;
        Ok(self
            .entries
            .entry(carrier.code().to_string())
            .or_default()
            .insert(code, status))
    }

    /// Removes an entry, so the code maps to [`MappedStatus::Unknown`] again.
    pub fn remove(&mut self, carrier: &Carrier, raw_code: &str) -> Option<ParcelStatus> {
        let code = raw_code.trim().to_ascii_uppercase();
        self.entries.get_mut(carrier.code())?.remove(&code)
    }

    /// The status for a raw code; never fails.
    pub fn map(&self, carrier: &Carrier, raw_code: &str) -> MappedStatus {
        let code = raw_code.trim().to_ascii_uppercase();
        match self.entries.get(carrier.code()).and_then(|m| m.get(&code)) {
            Some(status) => MappedStatus::Known(*status),
            None => MappedStatus::Unknown(code),
        }
    }

    /// Every entry as (carrier code, raw code, status), ordered by carrier then code.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, ParcelStatus)> + '_ {
        self.entries.iter().flat_map(|(carrier, codes)| {
            codes
                .iter()
                .map(move |(code, status)| (carrier.as_str(), code.as_str(), *status))
        })
    }
}

/// A table holding only `mapped` for (`carrier`, `raw_code`): how an event whose
/// meaning was decided once (by the engine's table when it arrived) is applied again,
/// identically, when the order is replayed from its history.
pub fn table_for(carrier: &Carrier, raw_code: &str, mapped: &MappedStatus) -> CarrierStatusTable {
    let mut table = CarrierStatusTable::empty();
    if let MappedStatus::Known(status) = mapped {
        // The code was validated when the event was built, so this cannot fail.
        let _ = table.set(carrier, raw_code, *status);
    }
    table
}

/// One event as a carrier reported it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "CarrierEventFields")]
pub struct CarrierEvent {
    occurred_at: DateTime<Utc>,
    raw_code: String,
    location: Option<String>,
}

#[derive(Deserialize)]
struct CarrierEventFields {
    occurred_at: DateTime<Utc>,
    raw_code: String,
    #[serde(default)]
    location: Option<String>,
}

impl TryFrom<CarrierEventFields> for CarrierEvent {
    type Error = TrackingError;
    fn try_from(f: CarrierEventFields) -> Result<Self, Self::Error> {
        CarrierEvent::new(f.occurred_at, &f.raw_code, f.location.as_deref())
    }
}

impl CarrierEvent {
    /// Validates an event: the raw code is trimmed and upper-cased (1 to
    /// [`MAX_RAW_CODE_LEN`] characters, no control characters); the location is
    /// trimmed, at most [`MAX_LOCATION_LEN`] characters without control characters, and
    /// an empty one counts as none.
    pub fn new(
        occurred_at: DateTime<Utc>,
        raw_code: &str,
        location: Option<&str>,
    ) -> Result<Self, TrackingError> {
        let raw_code = normalise_code(raw_code)?;
        let location = match location.map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let invalid = |reason| Err(TrackingError::InvalidLocation { reason });
                if text.chars().count() > MAX_LOCATION_LEN {
                    return invalid("it is longer than 256 characters");
                }
                if text.chars().any(char::is_control) {
                    return invalid("it contains control characters");
                }
                Some(text.to_string())
            }
        };
        Ok(CarrierEvent {
            occurred_at,
            raw_code,
            location,
        })
    }

    /// When the carrier says it happened.
    pub fn occurred_at(&self) -> DateTime<Utc> {
        self.occurred_at
    }

    /// The carrier's code, trimmed and upper case.
    pub fn raw_code(&self) -> &str {
        &self.raw_code
    }

    /// Where, as the carrier wrote it.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
}

/// Why an event did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreReason {
    /// The parcel was already delivered; only a return to sender can follow.
    AfterDelivered,
    /// The parcel was already returned to sender.
    AfterReturnedToSender,
    /// The parcel already holds [`MAX_EVENTS_PER_PARCEL`] events; this one was not kept.
    HistoryFull,
}

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// The status changed: the moment to notify.
    Advanced {
        /// The status before (none for the first event).
        from: Option<ParcelStatus>,
        /// The status now.
        to: ParcelStatus,
    },
    /// Kept in the history; the status did not change.
    Recorded,
    /// Kept in the history (unless the history is full) as not counting.
    Ignored {
        /// Why.
        reason: IgnoreReason,
    },
    /// Already in the history; nothing changed.
    Duplicate,
}

/// One event in a parcel's history, with what it did when applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingRecord {
    /// The event.
    pub event: CarrierEvent,
    /// What its code mapped to when applied.
    pub mapped: MappedStatus,
    /// What it did ([`ApplyOutcome::Advanced`], `Recorded` or `Ignored`).
    pub outcome: ApplyOutcome,
}

/// The tracking state of one parcel: its status, the highest progress it reached, and
/// every event received, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelTracking {
    carrier: Carrier,
    status: Option<ParcelStatus>,
    reached_rank: Option<u8>,
    latest_at: Option<DateTime<Utc>>,
    history: Vec<TrackingRecord>,
}

impl ParcelTracking {
    /// A parcel with no events yet.
    pub fn new(carrier: Carrier) -> Self {
        ParcelTracking {
            carrier,
            status: None,
            reached_rank: None,
            latest_at: None,
            history: Vec::new(),
        }
    }

    /// The carrier whose codes the events carry.
    pub fn carrier(&self) -> &Carrier {
        &self.carrier
    }

    /// The current status (none before the first known event).
    pub fn status(&self) -> Option<ParcelStatus> {
        self.status
    }

    /// The time of the latest event that counted (recorded or advanced).
    pub fn latest_event_at(&self) -> Option<DateTime<Utc>> {
        self.latest_at
    }

    /// Every event kept, in the order received.
    pub fn history(&self) -> &[TrackingRecord] {
        &self.history
    }

    /// The events that counted, ordered by when they happened (for a customer's
    /// timeline); ignored ones are left out.
    pub fn timeline(&self) -> Vec<&TrackingRecord> {
        let mut events: Vec<&TrackingRecord> = self
            .history
            .iter()
            .filter(|r| !matches!(r.outcome, ApplyOutcome::Ignored { .. }))
            .collect();
        events.sort_by_key(|r| r.event.occurred_at);
        events
    }

    /// Applies one event (see the module documentation for the rules) and says what it
    /// did. Never fails: an unknown code is recorded as [`MappedStatus::Unknown`].
    pub fn apply(&mut self, table: &CarrierStatusTable, event: CarrierEvent) -> ApplyOutcome {
        if self.history.iter().any(|r| r.event == event) {
            return ApplyOutcome::Duplicate;
        }
        if self.history.len() >= MAX_EVENTS_PER_PARCEL {
            return ApplyOutcome::Ignored {
                reason: IgnoreReason::HistoryFull,
            };
        }
        let mapped = table.map(&self.carrier, &event.raw_code);
        let outcome = self.decide(&mapped, event.occurred_at);
        match outcome {
            ApplyOutcome::Advanced { to, .. } => {
                self.status = Some(to);
                // An exception has no rank; a failed attempt counts as out for delivery.
                self.reached_rank = self.reached_rank.max(to.progress_rank());
                self.note_time(event.occurred_at);
            }
            ApplyOutcome::Recorded => self.note_time(event.occurred_at),
            ApplyOutcome::Ignored { .. } | ApplyOutcome::Duplicate => {}
        }
        self.history.push(TrackingRecord {
            event,
            mapped,
            outcome,
        });
        outcome
    }

    fn note_time(&mut self, at: DateTime<Utc>) {
        self.latest_at = self.latest_at.max(Some(at));
    }

    fn decide(&self, mapped: &MappedStatus, at: DateTime<Utc>) -> ApplyOutcome {
        let current = self.status;
        match current {
            Some(ParcelStatus::ReturnedToSender) => {
                return ApplyOutcome::Ignored {
                    reason: IgnoreReason::AfterReturnedToSender,
                }
            }
            Some(ParcelStatus::Delivered)
                if *mapped != MappedStatus::Known(ParcelStatus::ReturnedToSender) =>
            {
                return ApplyOutcome::Ignored {
                    reason: IgnoreReason::AfterDelivered,
                }
            }
            _ => {}
        }
        let MappedStatus::Known(next) = *mapped else {
            return ApplyOutcome::Recorded;
        };
        if current == Some(next) {
            return ApplyOutcome::Recorded;
        }
        let advance = ApplyOutcome::Advanced {
            from: current,
            to: next,
        };
        let stale = self.latest_at.is_some_and(|latest| at < latest);
        let advances = match next {
            ParcelStatus::ReturnedToSender => true,
            ParcelStatus::Exception | ParcelStatus::DeliveryFailed => !stale,
            main_line => {
                let rank = main_line.progress_rank();
                let recovering = current.is_some_and(ParcelStatus::is_interruption) && !stale;
                rank > self.reached_rank || (recovering && rank >= self.reached_rank)
            }
        };
        if advances {
            advance
        } else {
            ApplyOutcome::Recorded
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;
    use ParcelStatus::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn ev(minutes: i64, code: &str) -> CarrierEvent {
        CarrierEvent::new(at(minutes), code, Some("HUB")).unwrap()
    }

    fn run(carrier: Carrier, events: &[(i64, &str)]) -> (ParcelTracking, Vec<ApplyOutcome>) {
        let table = CarrierStatusTable::shipped();
        let mut p = ParcelTracking::new(carrier);
        let outcomes = events
            .iter()
            .map(|(m, c)| p.apply(&table, ev(*m, c)))
            .collect();
        (p, outcomes)
    }

    fn adv(from: Option<ParcelStatus>, to: ParcelStatus) -> ApplyOutcome {
        ApplyOutcome::Advanced { from, to }
    }

    #[test]
    fn happy_path_advances_once_per_stage() {
        let (p, out) = run(
            Carrier::Ups,
            &[
                (0, "M"),
                (60, "P"),
                (120, "I"),
                (180, "I"),
                (240, "O"),
                (300, "D"),
            ],
        );
        assert_eq!(
            out,
            vec![
                adv(None, LabelCreated),
                adv(Some(LabelCreated), PickedUp),
                adv(Some(PickedUp), InTransit),
                ApplyOutcome::Recorded,
                adv(Some(InTransit), OutForDelivery),
                adv(Some(OutForDelivery), Delivered),
            ]
        );
        assert_eq!(p.status(), Some(Delivered));
        assert_eq!(p.history().len(), 6);
    }

    #[test]
    fn failed_then_successful_delivery_ends_delivered() {
        let (p, out) = run(
            Carrier::Usps,
            &[
                (0, "GX"),
                (60, "07"),
                (120, "OF"),
                (180, "02"),
                (1500, "OF"),
                (1600, "01"),
            ],
        );
        assert_eq!(out[3], adv(Some(OutForDelivery), DeliveryFailed));
        assert_eq!(out[4], adv(Some(DeliveryFailed), OutForDelivery));
        assert_eq!(out[5], adv(Some(OutForDelivery), Delivered));
        assert_eq!(p.status(), Some(Delivered));
    }

    #[test]
    fn exception_then_progress_again() {
        let (p, out) = run(Carrier::Ups, &[(0, "I"), (10, "X"), (20, "I"), (30, "D")]);
        assert_eq!(out[1], adv(Some(InTransit), Exception));
        assert_eq!(out[2], adv(Some(Exception), InTransit));
        assert_eq!(p.status(), Some(Delivered));
        // But an exception does not let the parcel go back below what it reached.
        let (p, out) = run(Carrier::Ups, &[(0, "O"), (10, "X"), (20, "P")]);
        assert_eq!(out[2], ApplyOutcome::Recorded);
        assert_eq!(p.status(), Some(Exception));
    }

    #[test]
    fn out_of_order_is_recorded_not_regressed() {
        let (p, out) = run(Carrier::Ups, &[(100, "O"), (50, "I"), (10, "M")]);
        assert_eq!(out[1], ApplyOutcome::Recorded);
        assert_eq!(out[2], ApplyOutcome::Recorded);
        assert_eq!(p.status(), Some(OutForDelivery));
        // The timeline is ordered by time.
        let codes: Vec<&str> = p.timeline().iter().map(|r| r.event.raw_code()).collect();
        assert_eq!(codes, ["M", "I", "O"]);
        // A stale failure does not undo a later out-for-delivery scan; a late delivered
        // scan still counts.
        let (p, out) = run(Carrier::Ups, &[(100, "O"), (50, "X"), (40, "D")]);
        assert_eq!(out[1], ApplyOutcome::Recorded);
        assert_eq!(out[2], adv(Some(OutForDelivery), Delivered));
        assert_eq!(p.status(), Some(Delivered));
    }

    #[test]
    fn nonsense_after_delivery_is_ignored_with_reason_but_return_counts() {
        let (p, out) = run(
            Carrier::Ups,
            &[(0, "D"), (10, "I"), (20, "X"), (30, "RS"), (40, "D")],
        );
        assert_eq!(
            out[1],
            ApplyOutcome::Ignored {
                reason: IgnoreReason::AfterDelivered
            }
        );
        assert_eq!(
            out[2],
            ApplyOutcome::Ignored {
                reason: IgnoreReason::AfterDelivered
            }
        );
        assert_eq!(out[3], adv(Some(Delivered), ReturnedToSender));
        assert_eq!(
            out[4],
            ApplyOutcome::Ignored {
                reason: IgnoreReason::AfterReturnedToSender
            }
        );
        assert_eq!(p.status(), Some(ReturnedToSender));
        assert_eq!(p.history().len(), 5);
        assert_eq!(p.timeline().len(), 2);
    }

    #[test]
    fn unknown_codes_never_fail_and_duplicates_leave_no_trace() {
        let table = CarrierStatusTable::shipped();
        let mut p = ParcelTracking::new(Carrier::from_code("aras"));
        assert_eq!(p.apply(&table, ev(0, " zz9 ")), ApplyOutcome::Recorded);
        assert_eq!(p.history()[0].mapped, MappedStatus::Unknown("ZZ9".into()));
        assert_eq!(p.status(), None);
        assert_eq!(p.apply(&table, ev(0, "ZZ9")), ApplyOutcome::Duplicate);
        assert_eq!(p.history().len(), 1);
        // Same code and time at another place is another event.
        let other = CarrierEvent::new(at(0), "ZZ9", Some("ANKARA")).unwrap();
        assert_eq!(p.apply(&table, other), ApplyOutcome::Recorded);
    }

    #[test]
    fn host_extends_and_overrides_tables() {
        let mut table = CarrierStatusTable::shipped();
        let aras = Carrier::from_code("aras");
        assert_eq!(table.set(&aras, "teslim", Delivered).unwrap(), None);
        assert_eq!(table.map(&aras, "TESLIM"), MappedStatus::Known(Delivered));
        assert_eq!(
            table.set(&Carrier::Usps, "07", OutForDelivery).unwrap(),
            Some(InTransit)
        );
        assert_eq!(
            table.map(&Carrier::Usps, "07"),
            MappedStatus::Known(OutForDelivery)
        );
        assert_eq!(table.remove(&Carrier::Ups, "MV"), None);
        assert_eq!(table.remove(&Carrier::Ups, "x"), Some(Exception));
        assert_eq!(
            table.map(&Carrier::Ups, "X"),
            MappedStatus::Unknown("X".into())
        );
        assert_eq!(
            table.set(&aras, " ", Delivered).unwrap_err().code(),
            "FULFILMENT_TRACKING_INVALID_CODE"
        );
        assert!(table
            .entries()
            .any(|(c, code, s)| c == "aras" && code == "TESLIM" && s == Delivered));
        // The shipped tables cover both carriers and every main status.
        let shipped = CarrierStatusTable::shipped();
        for status in ParcelStatus::ALL {
            assert!(
                shipped.entries().any(|(c, _, s)| c == "ups" && s == status)
                    || status == DeliveryFailed
            );
            assert!(
                shipped
                    .entries()
                    .any(|(c, _, s)| c == "usps" && s == status)
                    || status == Exception
            );
        }
    }

    #[test]
    fn event_validation() {
        assert_eq!(
            CarrierEvent::new(at(0), "", None).unwrap_err().code(),
            "FULFILMENT_TRACKING_INVALID_CODE"
        );
        assert!(CarrierEvent::new(at(0), &"A".repeat(65), None).is_err());
        assert_eq!(
            CarrierEvent::new(at(0), "I", Some("A\u{7}B"))
                .unwrap_err()
                .code(),
            "FULFILMENT_TRACKING_INVALID_LOCATION"
        );
        let e = CarrierEvent::new(at(0), "i", Some("  ")).unwrap();
        assert_eq!(e.location(), None);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<CarrierEvent>(&json).unwrap(), e);
        assert!(serde_json::from_str::<CarrierEvent>(
            r#"{"occurred_at":"2026-03-02T06:00:00Z","raw_code":""}"#
        )
        .is_err());
    }

    #[test]
    fn history_is_bounded() {
        let table = CarrierStatusTable::shipped();
        let mut p = ParcelTracking::new(Carrier::Ups);
        for i in 0..MAX_EVENTS_PER_PARCEL {
            p.apply(&table, ev(i as i64, "I"));
        }
        assert_eq!(
            p.apply(&table, ev(100_000, "D")),
            ApplyOutcome::Ignored {
                reason: IgnoreReason::HistoryFull
            }
        );
        assert_eq!(p.history().len(), MAX_EVENTS_PER_PARCEL);
    }

    const CODES: [&str; 12] = [
        "M", "P", "I", "DO", "O", "D", "X", "RS", "W", "NA", "MV", "??",
    ];

    fn events() -> impl Strategy<Value = Vec<(i64, usize)>> {
        proptest::collection::vec((0i64..50, 0usize..CODES.len()), 0..40)
    }

    proptest! {
        #[test]
        fn status_never_goes_back_and_replay_changes_nothing(raw in events(), dup in 0usize..40) {
            let table = CarrierStatusTable::shipped();
            let mut list: Vec<CarrierEvent> =
                raw.iter().map(|(m, c)| ev(*m, CODES[*c])).collect();
            if let Some(e) = list.get(dup % list.len().max(1)).cloned() {
                list.push(e);
            }
            let mut p = ParcelTracking::new(Carrier::Ups);
            let mut reached: Option<u8> = None;
            for e in &list {
                let before = p.status();
                let outcome = p.apply(&table, e.clone());
                let after = p.status();
                match outcome {
                    ApplyOutcome::Advanced { from, to } => {
                        prop_assert_eq!(from, before);
                        prop_assert_eq!(after, Some(to));
                        prop_assert_ne!(before, Some(to));
                        let allowed = match to {
                            // Interruptions and the return may follow any live status.
                            Exception | DeliveryFailed | ReturnedToSender => true,
                            main => {
                                let r = main.progress_rank();
                                r > reached
                                    || (before.is_some_and(ParcelStatus::is_interruption) && r >= reached)
                            }
                        };
                        prop_assert!(allowed, "{:?} -> {:?} with reached {:?}", before, to, reached);
                        if to != Exception {
                            reached = reached.max(to.progress_rank());
                        }
                    }
                    _ => prop_assert_eq!(before, after),
                }
                // Delivered is final unless returned to sender; the return is final.
                if before == Some(Delivered) {
                    prop_assert!(matches!(after, Some(Delivered) | Some(ReturnedToSender)));
                }
                if before == Some(ReturnedToSender) {
                    prop_assert_eq!(after, Some(ReturnedToSender));
                }
            }
            // Applying the same sequence again changes nothing.
            let snapshot = p.clone();
            for e in &list {
                prop_assert_eq!(p.apply(&table, e.clone()), ApplyOutcome::Duplicate);
            }
            prop_assert_eq!(p, snapshot);
        }

        #[test]
        fn any_order_of_a_delivered_feed_ends_delivered(seed in any::<u64>()) {
            // Whatever order a complete feed arrives in, it ends delivered: a shuffled
            // feed never strands the parcel before its last real stage.
            let table = CarrierStatusTable::shipped();
            let mut feed: Vec<CarrierEvent> = [(0, "M"), (10, "P"), (20, "I"), (30, "X"), (40, "I"), (50, "O"), (60, "D")]
                .iter().map(|(m, c)| ev(*m, c)).collect();
            let mut s = seed;
            for i in (1..feed.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                feed.swap(i, (s >> 33) as usize % (i + 1));
            }
            let mut p = ParcelTracking::new(Carrier::Ups);
            for e in feed {
                p.apply(&table, e);
            }
            prop_assert_eq!(p.status(), Some(Delivered));
        }
    }
}
