//! Fulfilment: getting an order's parcels out of the door and to the customer.
//!
//! This module holds the pure building blocks, each usable on its own:
//!
//! - [`ident`]: GS1 SSCC-18 parcel identifiers generated from the host's sequence, and
//!   carrier tracking-number checks (UPS, FedEx, UPU S10 posts such as PTT and USPS).
//! - [`tracking`]: carrier events normalised to one parcel status, with a monotonic
//!   [`tracking::ParcelTracking`] that tells the caller exactly when to notify.
//! - [`deadline`]: ship-by deadlines and delivery estimates on a shop's
//!   [`deadline::ShippingCalendar`], correct across daylight-saving changes.
//!
//! None of them reads a clock or stores anything: time and serial numbers come in as
//! parameters, and results go back to the caller.

pub mod deadline;
pub mod ident;
pub mod tracking;

pub use deadline::{is_at_risk, is_late, CalendarError, ShippingCalendar};
pub use ident::{validate_tracking_number, Carrier, IdentError, Sscc, SsccConfig, TrackingNumber};
pub use tracking::{
    ApplyOutcome, CarrierEvent, CarrierStatusTable, IgnoreReason, MappedStatus, ParcelStatus,
    ParcelTracking, TrackingError, TrackingRecord,
};
