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

/// One stage of "where is my order".
#[derive(Debug, Clone, uniffi::Record)]
pub struct TimelineStep {
    /// Stable key: `received`, `confirmed`, `shipped`, `out_for_delivery`,
    /// `delivered` or `cancelled`.
    pub stage: String,
    /// The stage in the reader's language.
    pub label: String,
    /// Whether the order reached it.
    pub done: bool,
    /// When, in the shop's zone (`2026-11-20 14:05`), if reached.
    pub at: Option<String>,
}

/// One carrier event as the customer reads it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TimelineEvent {
    /// When, in the shop's zone.
    pub at: String,
    /// What, in the reader's language.
    pub label: String,
    /// Where, as the carrier wrote it.
    pub location: Option<String>,
}

/// One parcel on the timeline.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ParcelTimeline {
    /// The parcel.
    pub parcel: String,
    /// The location it leaves from.
    pub location: String,
    /// The carrier, once labelled.
    pub carrier: Option<String>,
    /// The tracking number, once labelled.
    pub tracking_number: Option<String>,
    /// The tracking link, once labelled.
    pub tracking_url: Option<String>,
    /// Where it stands, in the reader's language.
    pub status: String,
    /// Carrier events that counted, oldest first.
    pub events: Vec<TimelineEvent>,
}

/// "Where is my order": what a support agent or the shop owner reads out.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Timeline {
    /// The channel's reference, else ordersmith's id.
    pub order_ref: String,
    /// Stages passed and to come.
    pub steps: Vec<TimelineStep>,
    /// Parcels (every location of a split shipment).
    pub parcels: Vec<ParcelTimeline>,
    /// The ship-by time in the shop's zone, with a shipping calendar.
    pub ship_by: Option<String>,
    /// Earliest delivery date, with a shipping calendar.
    pub delivery_earliest: Option<String>,
    /// Latest delivery date, with a shipping calendar.
    pub delivery_latest: Option<String>,
}

#[uniffi::export]
impl Engine {
    /// "Where is my order" in `locale` (`"en"` or `"tr"`; other tags fall back to
    /// English).
    pub fn timeline(&self, order_id: String, locale: String) -> Result<Timeline, OrdersmithError> {
        let id = ordersmith::ids::OrderId::parse(order_id)?;
        let locale = ordersmith::notify::Locale::from_tag(&locale);
        let t = self.call(|e| e.timeline(&id, locale))?;
        let (delivery_earliest, delivery_latest) = match t.delivery_estimate {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        Ok(Timeline {
            order_ref: t.order_ref,
            steps: t
                .steps
                .into_iter()
                .map(|s| TimelineStep {
                    stage: s.stage,
                    label: s.label,
                    done: s.done,
                    at: s.at,
                })
                .collect(),
            parcels: t
                .parcels
                .into_iter()
                .map(|p| ParcelTimeline {
                    parcel: p.parcel,
                    location: p.location.to_string(),
                    carrier: p.carrier,
                    tracking_number: p.tracking_number,
                    tracking_url: p.tracking_url,
                    status: p.status,
                    events: p
                        .events
                        .into_iter()
                        .map(|e| TimelineEvent {
                            at: e.at,
                            label: e.label,
                            location: e.location,
                        })
                        .collect(),
                })
                .collect(),
            ship_by: t.ship_by,
            delivery_earliest,
            delivery_latest,
        })
    }
}
