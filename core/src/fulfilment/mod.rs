//! Fulfilment: from a reserved order to parcels handed to a carrier and delivered.
//!
//! Confirming an order yields one [`FulfilmentOrder`] per location its stock is held
//! at (split shipments); each runs the warehouse flow on its own: pick (short picks
//! handled by [`ShortPickPolicy`]), pack into parcels, request a label (an outbox
//! effect the host performs), record the label, hand over. Handing a parcel over
//! commits exactly its units in the ledger and records them as shipped on the order:
//! shipped quantities follow from parcels.
//!
//! Beside it, pure building blocks, each usable on its own:
//!
//! - [`ident`]: GS1 SSCC-18 parcel identifiers generated from the host's sequence, and
//!   carrier tracking-number checks (UPS, FedEx, UPU S10 posts such as PTT and USPS).
//! - [`tracking`]: carrier events normalised to one parcel status, with a monotonic
//!   [`tracking::ParcelTracking`] that tells the caller exactly when to notify.
//! - [`carrier`]: the cheapest service meeting the delivery promise, or the fastest
//!   under a price cap, from rate quotes the host fetched, explained in a sentence.
//! - [`deadline`]: ship-by deadlines and delivery estimates on a shop's
//!   [`deadline::ShippingCalendar`], correct across daylight-saving changes.
//!
//! None of them reads a clock or stores anything: time and serial numbers come in as
//! parameters, and results go back to the caller.

pub mod carrier;
pub mod deadline;
pub mod ident;
mod order;
pub mod tracking;

pub use carrier::{choose_service, CarrierChoice, CarrierChoiceError, CarrierPolicy, RateQuote};
pub use deadline::{is_at_risk, is_late, CalendarError, ShippingCalendar};
pub use ident::{validate_tracking_number, Carrier, IdentError, Sscc, SsccConfig, TrackingNumber};
pub use order::{
    FulfilmentError, FulfilmentOrder, FulfilmentOrderStatus, Label, Parcel, ParcelSize,
    ParcelStatus, ShortPick, ShortPickPolicy,
};
pub use tracking::{
    table_for, ApplyOutcome, CarrierEvent, CarrierStatusTable, IgnoreReason, MappedStatus,
    ParcelStatus as TrackingStatus, ParcelTracking, TrackingError, TrackingRecord,
};
