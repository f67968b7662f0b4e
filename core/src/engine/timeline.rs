//! "Where is my order": the stages an order passed and has to come, with times in the
//! shop's zone, per-parcel tracking for split shipments, ship-by and the delivery
//! estimate, in English or Turkish — what a support agent reads out. Also the
//! fulfilment orders that are late or at risk of missing their ship-by.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::fulfilment::{ParcelStatus, ShippingCalendar, TrackingStatus};
use crate::ids::{LocationId, OrderId};
use crate::notify::Locale;
use crate::order::{Order, OrderEvent, OrderStatus};
use crate::ports::OrderQuery;

use super::{Engine, EngineError};

/// One stage of the customer-facing timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineStep {
    /// Stable key: `received`, `confirmed`, `shipped`, `out_for_delivery`,
    /// `delivered`, or `cancelled`.
    pub stage: String,
    /// The stage in the reader's language.
    pub label: String,
    /// Whether the order reached it.
    pub done: bool,
    /// When, in the shop's zone (`2026-11-20 14:05`), if reached.
    pub at: Option<String>,
}

/// One tracking event of a parcel, as the customer reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// When, in the shop's zone.
    pub at: String,
    /// What, in the reader's language.
    pub label: String,
    /// Where, as the carrier wrote it.
    pub location: Option<String>,
}

/// One parcel of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelTimeline {
    /// The parcel.
    pub parcel: String,
    /// The location it leaves from.
    pub location: LocationId,
    /// The carrier, once labelled.
    pub carrier: Option<String>,
    /// The tracking number, once labelled.
    pub tracking_number: Option<String>,
    /// The tracking link (the engine's tracking URL template), once labelled.
    pub tracking_url: Option<String>,
    /// Where it stands, in the reader's language.
    pub status: String,
    /// Carrier events that counted, oldest first.
    pub events: Vec<TimelineEvent>,
}

/// "Where is my order".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// The order's reference (the channel's, else ordersmith's id).
    pub order_ref: String,
    /// The language used.
    pub locale: Locale,
    /// Stages passed and to come.
    pub steps: Vec<TimelineStep>,
    /// Parcels, in packing order (one list for every location of a split shipment).
    pub parcels: Vec<ParcelTimeline>,
    /// The ship-by time in the shop's zone, when a shipping calendar is configured and
    /// the order is confirmed.
    pub ship_by: Option<String>,
    /// Earliest and latest delivery dates, when a shipping calendar is configured.
    pub delivery_estimate: Option<(String, String)>,
    /// The order's returns, oldest first, each with its stages.
    #[serde(default)]
    pub returns: Vec<super::ReturnTimeline>,
}

/// A fulfilment order due to ship, with its deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueFulfilment {
    /// The order.
    pub order_id: OrderId,
    /// The fulfilment order.
    pub fulfilment: String,
    /// Where it ships from.
    pub location: LocationId,
    /// Its ship-by time.
    pub ship_by: DateTime<Utc>,
    /// Past its ship-by.
    pub late: bool,
}

fn label(stage: &str, locale: Locale) -> String {
    let (en, tr) = match stage {
        "received" => ("Order received", "Sipariş alındı"),
        "confirmed" => ("Order confirmed", "Sipariş onaylandı"),
        "shipped" => ("Shipped", "Kargoya verildi"),
        "out_for_delivery" => ("Out for delivery", "Dağıtımda"),
        "delivered" => ("Delivered", "Teslim edildi"),
        "cancelled" => ("Cancelled", "İptal edildi"),
        "on_hold" => ("On hold", "Beklemede"),
        _ => (stage, stage),
    };
    match locale {
        Locale::Tr => tr.to_string(),
        _ => en.to_string(),
    }
}

fn tracking_label(status: TrackingStatus, locale: Locale) -> String {
    let (en, tr) = match status {
        TrackingStatus::LabelCreated => ("Label created", "Gönderi kaydı oluşturuldu"),
        TrackingStatus::PickedUp => ("Picked up by the carrier", "Kargo firması teslim aldı"),
        TrackingStatus::InTransit => ("In transit", "Yolda"),
        TrackingStatus::OutForDelivery => ("Out for delivery", "Dağıtımda"),
        TrackingStatus::Delivered => ("Delivered", "Teslim edildi"),
        TrackingStatus::DeliveryFailed => {
            ("Delivery attempt failed", "Teslimat denemesi başarısız")
        }
        TrackingStatus::Exception => ("Delayed: carrier exception", "Gecikme: kargo sorunu"),
        TrackingStatus::ReturnedToSender => ("Returned to sender", "Göndericiye iade edildi"),
    };
    match locale {
        Locale::Tr => tr.to_string(),
        _ => en.to_string(),
    }
}

fn parcel_label(status: ParcelStatus, locale: Locale) -> String {
    let (en, tr) = match status {
        ParcelStatus::Packed => ("Packed", "Paketlendi"),
        ParcelStatus::LabelRequested | ParcelStatus::Labelled => {
            ("Ready for the carrier", "Kargoya hazır")
        }
        ParcelStatus::HandedOver => ("Shipped", "Kargoya verildi"),
    };
    match locale {
        Locale::Tr => tr.to_string(),
        _ => en.to_string(),
    }
}

pub(super) fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

impl Engine {
    /// The order's ship-by time on the engine's shipping calendar (none without one):
    /// from when it was placed, the cut-off and handling days of the calendar.
    pub fn ship_by(&self, order: &Order) -> Result<Option<DateTime<Utc>>, EngineError> {
        let Some(calendar) = &self.config.shipping_calendar else {
            return Ok(None);
        };
        ship_by_on(calendar, order).map(Some)
    }

    /// "Where is my order" for a support agent or the customer: stages with local
    /// times in the shop's zone (the shipping calendar's, else UTC), parcels with
    /// their tracking, ship-by and the delivery estimate, in `locale`.
    pub fn timeline(&self, order_id: &OrderId, locale: Locale) -> Result<Timeline, EngineError> {
        let order = self.load(order_id)?;
        let history = self.store.order_events(order_id)?;
        let tz = self
            .config
            .shipping_calendar
            .as_ref()
            .map_or(chrono_tz::UTC, ShippingCalendar::tz);
        let when = |pred: &dyn Fn(&OrderEvent) -> bool| {
            history
                .iter()
                .find(|r| pred(&r.event))
                .map(|r| local(r.recorded_at, tz))
        };
        // When the order's parcels reached `status` by their carriers: the first of
        // them (`min`), or the last (`max`).
        let tracked = |status: TrackingStatus| {
            order
                .fulfilments
                .iter()
                .flat_map(|f| &f.parcels)
                .filter_map(|p| p.tracking.as_ref())
                .flat_map(|t| t.timeline())
                .filter(move |r| matches!(r.outcome, crate::fulfilment::ApplyOutcome::Advanced { to, .. } if to == status))
                .map(|r| r.event.occurred_at())
        };
        let mut steps = vec![("received", when(&|e| matches!(e, OrderEvent::Placed(_))))];
        if order.status == OrderStatus::Cancelled {
            steps.push((
                "cancelled",
                when(&|e| matches!(e, OrderEvent::Cancelled { .. })),
            ));
        } else {
            steps.push(("confirmed", when(&|e| matches!(e, OrderEvent::Confirmed))));
            steps.push((
                "shipped",
                when(&|e| {
                    matches!(
                        e,
                        OrderEvent::ParcelHandedOver { .. } | OrderEvent::ShipmentRecorded { .. }
                    )
                }),
            ));
            steps.push((
                "out_for_delivery",
                tracked(TrackingStatus::OutForDelivery)
                    .min()
                    .map(|t| local(t, tz)),
            ));
            let all_delivered = order
                .lines
                .iter()
                .all(|l| l.active_quantity() == 0 || l.fulfilment.delivered >= l.active_quantity());
            // Delivered when the last of it was: the latest of its parcels' deliveries
            // by their carriers and the deliveries recorded on it.
            let recorded = history
                .iter()
                .rev()
                .find(|r| matches!(r.event, OrderEvent::DeliveryRecorded { .. }))
                .map(|r| r.recorded_at);
            let delivered_at = tracked(TrackingStatus::Delivered)
                .chain(recorded)
                .max()
                .map(|t| local(t, tz));
            steps.push(("delivered", delivered_at.filter(|_| all_delivered)));
        }
        let steps = steps
            .into_iter()
            .map(|(stage, at)| TimelineStep {
                stage: stage.to_string(),
                label: label(stage, locale),
                done: at.is_some(),
                at,
            })
            .collect();
        let tracking_url = |carrier: &str, number: &str| {
            let template = self
                .config
                .notifications
                .as_ref()
                .and_then(|n| n.tracking_url.clone());
            match template {
                Some(t) => t
                    .replace("{tracking_number}", number)
                    .replace("{carrier}", carrier),
                None => number.to_string(),
            }
        };
        let parcels = order
            .fulfilments
            .iter()
            .flat_map(|f| f.parcels.iter().map(move |p| (f, p)))
            .map(|(f, p)| {
                let status = match p.tracking.as_ref().and_then(|t| t.status()) {
                    Some(s) => tracking_label(s, locale),
                    None => parcel_label(p.status, locale),
                };
                ParcelTimeline {
                    parcel: p.id.clone(),
                    location: f.location.clone(),
                    carrier: p.label.as_ref().map(|l| l.carrier.clone()),
                    tracking_number: p.label.as_ref().map(|l| l.tracking_number.clone()),
                    tracking_url: p
                        .label
                        .as_ref()
                        .map(|l| tracking_url(&l.carrier, &l.tracking_number)),
                    status,
                    events: p
                        .tracking
                        .as_ref()
                        .map(|t| {
                            t.timeline()
                                .into_iter()
                                .map(|r| TimelineEvent {
                                    at: local(r.event.occurred_at(), tz),
                                    label: match &r.mapped {
                                        crate::fulfilment::MappedStatus::Known(s) => {
                                            tracking_label(*s, locale)
                                        }
                                        crate::fulfilment::MappedStatus::Unknown(raw) => {
                                            raw.clone()
                                        }
                                    },
                                    location: r.event.location().map(str::to_string),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect();
        let (ship_by, delivery_estimate) = match (&self.config.shipping_calendar, order.status) {
            (Some(calendar), OrderStatus::Confirmed | OrderStatus::Processing) => {
                let due = ship_by_on(calendar, &order)?;
                let (min, max) = self.config.transit_days;
                let (early, late) = calendar
                    .delivery_estimate(due, min, max)
                    .map_err(|e| EngineError::from(crate::order::OrderError::from(e)))?;
                (
                    Some(local(due, tz)),
                    Some((early.to_string(), late.to_string())),
                )
            }
            _ => (None, None),
        };
        Ok(Timeline {
            order_ref: order
                .external_ref
                .as_deref()
                .map_or_else(|| order.id.to_string(), str::to_string),
            locale,
            steps,
            parcels,
            ship_by,
            delivery_estimate,
            returns: self.return_timelines(&order, &history, tz, locale),
        })
    }

    /// Open fulfilment orders whose ship-by (on the engine's shipping calendar) is
    /// past, or within `margin` of, the engine clock's now: the warehouse's "ship
    /// these first" list, most urgent first. Empty without a shipping calendar.
    pub fn fulfilments_due(&self, margin: Duration) -> Result<Vec<DueFulfilment>, EngineError> {
        let Some(calendar) = &self.config.shipping_calendar else {
            return Ok(Vec::new());
        };
        let now = self.clock.now();
        let mut due = Vec::new();
        for status in [
            OrderStatus::Confirmed,
            OrderStatus::Processing,
            OrderStatus::OnHold,
        ] {
            let query = OrderQuery {
                status: Some(status),
                ..OrderQuery::default()
            };
            for order in self.iter_orders(query) {
                let order = order?;
                let ship_by = ship_by_on(calendar, &order)?;
                if !crate::fulfilment::is_at_risk(ship_by, now, margin)
                    && !crate::fulfilment::is_late(ship_by, now)
                {
                    continue;
                }
                for f in order.fulfilments.iter().filter(|f| !f.status.is_closed()) {
                    due.push(DueFulfilment {
                        order_id: order.id.clone(),
                        fulfilment: f.id.clone(),
                        location: f.location.clone(),
                        ship_by,
                        late: crate::fulfilment::is_late(ship_by, now),
                    });
                }
            }
        }
        due.sort_by(|a, b| (a.ship_by, &a.order_id).cmp(&(b.ship_by, &b.order_id)));
        Ok(due)
    }
}

fn ship_by_on(calendar: &ShippingCalendar, order: &Order) -> Result<DateTime<Utc>, EngineError> {
    calendar
        .ship_by(order.placed_at)
        .map_err(|e| EngineError::from(crate::order::OrderError::from(e)))
}
