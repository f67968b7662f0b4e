//! Fulfilment orders: the part of an order one location ships, with its own status,
//! pick, parcels, labels and hand-over.
//!
//! A fulfilment order belongs to its order (it lives in the order aggregate, changes
//! through order events, and is saved with the order in the same change set as the
//! stock it moves). The units it is responsible for are not stored: they are the
//! order lines' live allocations at its location plus what it already handed over, so
//! a fulfilment order can never disagree with the ledger's reservations. What it
//! stores is progress: picked, packed and handed-over units, short picks, parcels,
//! holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{LineId, LocationId};

/// Where a fulfilment order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentOrderStatus {
    /// Waiting to be picked.
    Open,
    /// Picking or packing has started.
    InProgress,
    /// Held: nothing may be picked, packed or handed over until released.
    OnHold,
    /// Everything it was responsible for was handed over to a carrier.
    Shipped,
    /// Moved to another location before it was picked (a new fulfilment order took
    /// its units).
    Moved,
    /// Cancelled: its units were released, or were cancelled on the order.
    Cancelled,
}

impl FulfilmentOrderStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::OnHold => "on_hold",
            Self::Shipped => "shipped",
            Self::Moved => "moved",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether it is finished (shipped, moved or cancelled).
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Shipped | Self::Moved | Self::Cancelled)
    }
}

/// What happens to units a picker could not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortPickPolicy {
    /// Write the missing units off at the location and reserve them elsewhere; what no
    /// location has holds the order with `insufficient_stock`.
    #[default]
    Resource,
    /// Write the missing units off and wait for stock: the order goes on hold with
    /// `insufficient_stock` until released.
    Backorder,
    /// Write the missing units off and cancel them on the order (reason `inventory`).
    CancelLine,
}

/// A short pick: units of a line the picker could not find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortPick {
    /// The line.
    pub line_id: LineId,
    /// Units missing.
    pub quantity: u32,
    /// How it was handled.
    pub handled_by: ShortPickPolicy,
}

/// Weight and outer dimensions of a parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ParcelSize {
    /// Weight in grams.
    pub weight_grams: u32,
    /// Length in millimetres.
    pub length_mm: u32,
    /// Width in millimetres.
    pub width_mm: u32,
    /// Height in millimetres.
    pub height_mm: u32,
}

/// A shipping label bought by the host from a carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// The carrier (`"ups"`, `"ptt"`, `"yurtici"`, ...).
    pub carrier: String,
    /// The carrier's service (`"standard"`, `"express"`, ...).
    pub service: String,
    /// The tracking number.
    pub tracking_number: String,
    /// The host's reference to the label document (a URL or a file id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_ref: Option<String>,
}

/// Where a parcel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParcelStatus {
    /// Packed, no label asked for yet.
    Packed,
    /// A label was asked for (an outbox effect); waiting for the host to record it.
    LabelRequested,
    /// Labelled, waiting for the carrier.
    Labelled,
    /// Handed over to the carrier: its units are sold in the ledger and shipped on the
    /// order.
    HandedOver,
}

/// A parcel: units of some lines of one fulfilment order, in one box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    /// Id, unique in the order (`F1-P1`).
    pub id: String,
    /// Units per line in the box.
    pub units: BTreeMap<LineId, u32>,
    /// Weight and dimensions.
    pub size: ParcelSize,
    /// Where it stands.
    pub status: ParcelStatus,
    /// The carrier service asked for, once a label was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_service: Option<String>,
    /// The label, once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    /// The GS1 SSCC of the parcel, when the engine has an SSCC range configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sscc: Option<super::Sscc>,
    /// The carrier's tracking of the parcel, from the first carrier event on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<super::ParcelTracking>,
}

/// The part of an order one location ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentOrder {
    /// Id, unique in the order (`F1`, `F2`, ...).
    pub id: String,
    /// The location that ships it.
    pub location: LocationId,
    /// Where it stands.
    pub status: FulfilmentOrderStatus,
    /// Why it is held, while it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
    /// Units picked per line (including those since packed).
    #[serde(default)]
    pub picked: BTreeMap<LineId, u32>,
    /// Units packed into parcels per line.
    #[serde(default)]
    pub packed: BTreeMap<LineId, u32>,
    /// Units handed over per line.
    #[serde(default)]
    pub shipped: BTreeMap<LineId, u32>,
    /// Short picks, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short_picks: Vec<ShortPick>,
    /// Parcels, in packing order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parcels: Vec<Parcel>,
    /// The fulfilment order that took its units when it was moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
}

fn count(map: &BTreeMap<LineId, u32>, line: &LineId) -> u32 {
    map.get(line).copied().unwrap_or(0)
}

impl FulfilmentOrder {
    /// A new, open fulfilment order at `location`.
    pub fn new(id: impl Into<String>, location: LocationId) -> Self {
        FulfilmentOrder {
            id: id.into(),
            location,
            status: FulfilmentOrderStatus::Open,
            hold_reason: None,
            picked: BTreeMap::new(),
            packed: BTreeMap::new(),
            shipped: BTreeMap::new(),
            short_picks: Vec::new(),
            parcels: Vec::new(),
            moved_to: None,
        }
    }

    /// Units of `line` picked and not yet handed over (on a trolley or in a parcel).
    pub fn picked_open(&self, line: &LineId) -> u32 {
        count(&self.picked, line).saturating_sub(count(&self.shipped, line))
    }

    /// Units of `line` picked and not yet packed.
    pub fn picked_unpacked(&self, line: &LineId) -> u32 {
        count(&self.picked, line).saturating_sub(count(&self.packed, line))
    }

    /// Units of `line` handed over by this fulfilment order.
    pub fn shipped_of(&self, line: &LineId) -> u32 {
        count(&self.shipped, line)
    }

    /// The parcel with this id.
    pub fn parcel(&self, id: &str) -> Option<&Parcel> {
        self.parcels.iter().find(|p| p.id == id)
    }

    /// Whether anything was picked that is not yet handed over.
    pub fn has_work_in_hand(&self) -> bool {
        self.picked
            .iter()
            .any(|(line, q)| *q > count(&self.shipped, line))
    }
}

/// Why a fulfilment command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum FulfilmentError {
    /// No fulfilment order with this id on the order.
    #[error("fulfilment order {fulfilment} does not exist on this order")]
    UnknownFulfilment {
        /// The id asked for.
        fulfilment: String,
    },
    /// The fulfilment order is closed (shipped, moved or cancelled) or held.
    #[error("fulfilment order {fulfilment} is {status}: {action} is not possible")]
    NotActive {
        /// The fulfilment order.
        fulfilment: String,
        /// Its status.
        status: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// A line is not part of this fulfilment order.
    #[error("line {line_id} has nothing to ship from fulfilment order {fulfilment}")]
    LineNotInFulfilment {
        /// The fulfilment order.
        fulfilment: String,
        /// The line.
        line_id: LineId,
    },
    /// More units picked than the fulfilment order still has to pick.
    #[error("line {line_id}: {requested} units picked, only {remaining} left to pick")]
    PickExceedsAssigned {
        /// The line.
        line_id: LineId,
        /// Units reported.
        requested: u32,
        /// Units still to pick.
        remaining: u32,
    },
    /// More units packed than were picked and not yet packed.
    #[error("line {line_id}: {requested} units packed, only {picked} picked and not yet packed")]
    PackExceedsPicked {
        /// The line.
        line_id: LineId,
        /// Units packed.
        requested: u32,
        /// Units picked and unpacked.
        picked: u32,
    },
    /// A parcel with no units, or a zero weight or dimension.
    #[error("parcel is invalid: {reason}")]
    InvalidParcel {
        /// Why.
        reason: &'static str,
    },
    /// No parcel with this id on the fulfilment order.
    #[error("parcel {parcel} does not exist on fulfilment order {fulfilment}")]
    UnknownParcel {
        /// The fulfilment order.
        fulfilment: String,
        /// The parcel id asked for.
        parcel: String,
    },
    /// The parcel is not in a state that allows the step.
    #[error("parcel {parcel} is {status}: {action} is not possible")]
    ParcelState {
        /// The parcel.
        parcel: String,
        /// Its status.
        status: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// A label field was empty, too long or had control characters.
    #[error("label {field} is invalid: {reason}")]
    InvalidLabel {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// Moving to the location the fulfilment order already ships from, or to one the
    /// ledger does not know.
    #[error("cannot move fulfilment order {fulfilment} to {location}: {reason}")]
    InvalidMove {
        /// The fulfilment order.
        fulfilment: String,
        /// The target.
        location: LocationId,
        /// Why.
        reason: &'static str,
    },
    /// Moving a fulfilment order that has picked units (they are on a trolley at the
    /// old location): hand them over or cancel first.
    #[error("fulfilment order {fulfilment} has picked units; only an unpicked fulfilment order can move")]
    AlreadyPicked {
        /// The fulfilment order.
        fulfilment: String,
    },
}

impl FulfilmentError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "FULFILMENT_UNKNOWN",
        "FULFILMENT_NOT_ACTIVE",
        "FULFILMENT_LINE_NOT_IN_FULFILMENT",
        "FULFILMENT_PICK_EXCEEDS_ASSIGNED",
        "FULFILMENT_PACK_EXCEEDS_PICKED",
        "FULFILMENT_INVALID_PARCEL",
        "FULFILMENT_UNKNOWN_PARCEL",
        "FULFILMENT_PARCEL_STATE",
        "FULFILMENT_INVALID_LABEL",
        "FULFILMENT_INVALID_MOVE",
        "FULFILMENT_ALREADY_PICKED",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownFulfilment { .. } => "FULFILMENT_UNKNOWN",
            Self::NotActive { .. } => "FULFILMENT_NOT_ACTIVE",
            Self::LineNotInFulfilment { .. } => "FULFILMENT_LINE_NOT_IN_FULFILMENT",
            Self::PickExceedsAssigned { .. } => "FULFILMENT_PICK_EXCEEDS_ASSIGNED",
            Self::PackExceedsPicked { .. } => "FULFILMENT_PACK_EXCEEDS_PICKED",
            Self::InvalidParcel { .. } => "FULFILMENT_INVALID_PARCEL",
            Self::UnknownParcel { .. } => "FULFILMENT_UNKNOWN_PARCEL",
            Self::ParcelState { .. } => "FULFILMENT_PARCEL_STATE",
            Self::InvalidLabel { .. } => "FULFILMENT_INVALID_LABEL",
            Self::InvalidMove { .. } => "FULFILMENT_INVALID_MOVE",
            Self::AlreadyPicked { .. } => "FULFILMENT_ALREADY_PICKED",
        }
    }
}

impl ParcelStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Packed => "packed",
            Self::LabelRequested => "label_requested",
            Self::Labelled => "labelled",
            Self::HandedOver => "handed_over",
        }
    }
}
