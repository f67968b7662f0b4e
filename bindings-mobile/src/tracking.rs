//! Carrier tracking: a carrier's events recorded on parcels, normalised by the core.

use std::time::SystemTime;

use ordersmith::fulfilment::{self as core, CarrierEvent};
use ordersmith::ids::OrderId;

use crate::convert::{context, core_time, CallContext};
use crate::engine::Engine;
use crate::errors::OrdersmithError;
use crate::order::Order;

/// A parcel's status as its carrier reports it, normalised across carriers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TrackingStatus {
    /// The carrier knows the label.
    LabelCreated,
    /// The carrier has the parcel.
    PickedUp,
    /// On its way.
    InTransit,
    /// With the courier for delivery today.
    OutForDelivery,
    /// A delivery attempt failed.
    DeliveryFailed,
    /// Delivered.
    Delivered,
    /// Something went wrong (damage, address problem).
    Exception,
    /// On its way back to the shop.
    ReturnedToSender,
}

impl From<core::TrackingStatus> for TrackingStatus {
    fn from(s: core::TrackingStatus) -> Self {
        match s {
            core::TrackingStatus::LabelCreated => Self::LabelCreated,
            core::TrackingStatus::PickedUp => Self::PickedUp,
            core::TrackingStatus::InTransit => Self::InTransit,
            core::TrackingStatus::OutForDelivery => Self::OutForDelivery,
            core::TrackingStatus::DeliveryFailed => Self::DeliveryFailed,
            core::TrackingStatus::Delivered => Self::Delivered,
            core::TrackingStatus::Exception => Self::Exception,
            core::TrackingStatus::ReturnedToSender => Self::ReturnedToSender,
        }
    }
}

#[uniffi::export]
impl Engine {
    /// Records a carrier's event for a parcel, its raw code mapped by the engine's
    /// carrier table. A repeat is ignored; an out-of-order event is kept in the
    /// parcel's history without moving it backwards; the first moving event of a
    /// labelled parcel counts as its hand-over; delivered records the units delivered.
    #[uniffi::method(default(location = None, ctx = None))]
    #[allow(clippy::too_many_arguments)]
    pub fn record_tracking_event(
        &self,
        order_id: String,
        fulfilment: String,
        parcel: String,
        occurred_at: SystemTime,
        raw_code: String,
        location: Option<String>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let event = CarrierEvent::new(core_time(occurred_at)?, &raw_code, location.as_deref())?;
        let ctx = context(ctx)?;
        self.call(|e| e.record_tracking_event(&id, &fulfilment, &parcel, event, &ctx))?
            .try_into()
    }
}
