//! The warehouse flow: fulfilment orders, parcels, pick lists and each step, plus the
//! day's work list a picker's phone shows, the due list (what must ship soon), and the
//! carrier service chosen from rate quotes.

use std::collections::BTreeMap;
use std::time::SystemTime;

use ordersmith::fulfilment as core;
use ordersmith::ids::{LineId, LocationId, OrderId};
use ordersmith::order::{FulfilmentCommand, LineQuantity, OrderStatus as CoreStatus};
use ordersmith::ports::OrderQuery;

use crate::convert::{context, core_minutes, host_time, CallContext};
use crate::engine::Engine;
use crate::errors::OrdersmithError;
use crate::money::{core_money, currency, Money};
use crate::order::{CancelReason, Order};
use crate::tracking::TrackingStatus;

/// Where a fulfilment order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FulfilmentOrderStatus {
    /// Nothing picked yet.
    Open,
    /// Picking or packing has started.
    InProgress,
    /// Work stopped.
    OnHold,
    /// Everything handed over.
    Shipped,
    /// Moved to another location.
    Moved,
    /// Cancelled.
    Cancelled,
}

impl From<core::FulfilmentOrderStatus> for FulfilmentOrderStatus {
    fn from(s: core::FulfilmentOrderStatus) -> Self {
        match s {
            core::FulfilmentOrderStatus::Open => Self::Open,
            core::FulfilmentOrderStatus::InProgress => Self::InProgress,
            core::FulfilmentOrderStatus::OnHold => Self::OnHold,
            core::FulfilmentOrderStatus::Shipped => Self::Shipped,
            core::FulfilmentOrderStatus::Moved => Self::Moved,
            core::FulfilmentOrderStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// Where a parcel stands in the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ParcelStatus {
    /// Packed, no label yet.
    Packed,
    /// A label was asked of the host.
    LabelRequested,
    /// Labelled.
    Labelled,
    /// The carrier has it.
    HandedOver,
}

impl From<core::ParcelStatus> for ParcelStatus {
    fn from(s: core::ParcelStatus) -> Self {
        match s {
            core::ParcelStatus::Packed => Self::Packed,
            core::ParcelStatus::LabelRequested => Self::LabelRequested,
            core::ParcelStatus::Labelled => Self::Labelled,
            core::ParcelStatus::HandedOver => Self::HandedOver,
        }
    }
}

/// Units of one order line.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LineUnits {
    /// The order line.
    pub line_id: String,
    /// Units.
    pub quantity: u32,
}

fn units(map: BTreeMap<LineId, u32>) -> Vec<LineUnits> {
    map.into_iter()
        .map(|(line, quantity)| LineUnits {
            line_id: line.to_string(),
            quantity,
        })
        .collect()
}

/// Units per line as the core takes them (line ids checked by the core).
pub(crate) fn core_units(list: Vec<LineUnits>) -> Result<Vec<LineQuantity>, OrdersmithError> {
    list.into_iter()
        .map(|u| Ok(LineQuantity::new(LineId::parse(u.line_id)?, u.quantity)))
        .collect()
}

/// Weight and dimensions of a parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ParcelSize {
    /// Grams.
    pub weight_grams: u32,
    /// Millimetres.
    pub length_mm: u32,
    /// Millimetres.
    pub width_mm: u32,
    /// Millimetres.
    pub height_mm: u32,
}

/// A carrier label.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Label {
    /// Carrier code, e.g. `"ups"`.
    pub carrier: String,
    /// Service, e.g. `"express"`.
    pub service: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// The host's reference to the label document.
    #[uniffi(default = None)]
    pub label_ref: Option<String>,
}

/// A parcel: units of some lines in one box.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Parcel {
    /// Id, unique in the order (`F1-P1`).
    pub id: String,
    /// Units per line in the box.
    pub units: Vec<LineUnits>,
    /// Weight and dimensions.
    pub size: ParcelSize,
    /// Where it stands in the warehouse.
    pub status: ParcelStatus,
    /// The carrier service asked for.
    pub requested_service: Option<String>,
    /// The label, once recorded.
    pub label: Option<Label>,
    /// Its GS1 SSCC, when the engine assigns them.
    pub sscc: Option<String>,
    /// The carrier's latest status, from the first carrier event on.
    pub tracking_status: Option<TrackingStatus>,
}

impl From<core::Parcel> for Parcel {
    fn from(p: core::Parcel) -> Self {
        Parcel {
            id: p.id,
            units: units(p.units),
            size: ParcelSize {
                weight_grams: p.size.weight_grams,
                length_mm: p.size.length_mm,
                width_mm: p.size.width_mm,
                height_mm: p.size.height_mm,
            },
            status: p.status.into(),
            requested_service: p.requested_service,
            label: p.label.map(|l| Label {
                carrier: l.carrier,
                service: l.service,
                tracking_number: l.tracking_number,
                label_ref: l.label_ref,
            }),
            sscc: p.sscc.map(|s| s.to_string()),
            tracking_status: p.tracking.and_then(|t| t.status()).map(Into::into),
        }
    }
}

/// The part of an order one location ships.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FulfilmentOrder {
    /// Id, unique in the order (`F1`, `F2`, ...).
    pub id: String,
    /// The location that ships it.
    pub location: String,
    /// Where it stands.
    pub status: FulfilmentOrderStatus,
    /// Why it is on hold, when it is.
    pub hold_reason: Option<String>,
    /// Units picked per line.
    pub picked: Vec<LineUnits>,
    /// Units packed per line.
    pub packed: Vec<LineUnits>,
    /// Units handed over per line.
    pub shipped: Vec<LineUnits>,
    /// Parcels, oldest first.
    pub parcels: Vec<Parcel>,
    /// The fulfilment order it was moved to, when it was.
    pub moved_to: Option<String>,
}

impl From<core::FulfilmentOrder> for FulfilmentOrder {
    fn from(f: core::FulfilmentOrder) -> Self {
        FulfilmentOrder {
            id: f.id,
            location: f.location.to_string(),
            status: f.status.into(),
            hold_reason: f.hold_reason,
            picked: units(f.picked),
            packed: units(f.packed),
            shipped: units(f.shipped),
            parcels: f.parcels.into_iter().map(Into::into).collect(),
            moved_to: f.moved_to,
        }
    }
}

/// One line of a pick list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PickListLine {
    /// The order line.
    pub line_id: String,
    /// What to pick.
    pub sku: String,
    /// The product title.
    pub title: Option<String>,
    /// Units still to pick.
    pub quantity: u32,
}

/// One open fulfilment order on a picker's work list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FulfilmentWork {
    /// The order.
    pub order_id: String,
    /// The channel's reference of the order.
    pub external_ref: Option<String>,
    /// The fulfilment order.
    pub fulfilment: FulfilmentOrder,
    /// What is still to pick for it.
    pub pick_list: Vec<PickListLine>,
    /// When its order must ship by, on the shop's shipping calendar
    /// (`EngineOptions.shipping_calendar_json`); `None` without one.
    pub ship_by: Option<SystemTime>,
}

/// An open fulfilment order that must ship soon (`fulfilments_due`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DueFulfilment {
    /// The order.
    pub order_id: String,
    /// The fulfilment order.
    pub fulfilment: String,
    /// Where it ships from.
    pub location: String,
    /// When it must ship by, on the shop's shipping calendar.
    pub ship_by: SystemTime,
    /// Already past its ship-by.
    pub late: bool,
}

/// A carrier's price for one service.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RateQuote {
    /// The carrier's code (`"ups"`, `"ptt"`, ...).
    pub carrier: String,
    /// The service (`"standard"`, `"express"`, ...).
    pub service: String,
    /// The price.
    pub price: Money,
    /// Fewest working days in transit.
    pub transit_days_min: u32,
    /// Most working days in transit.
    pub transit_days_max: u32,
}

/// How to choose among rate quotes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CarrierPolicy {
    /// The cheapest service whose slowest transit meets the promise.
    CheapestMeetingPromise {
        /// Working days in transit the shop promised, at most.
        max_transit_days: u32,
    },
    /// The fastest service at or under the cap.
    FastestUnderCap {
        /// The most the shop pays.
        cap: Money,
    },
}

/// The chosen quote and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CarrierChoice {
    /// The quote chosen.
    pub quote: RateQuote,
    /// Why, in words.
    pub explanation: String,
}

/// A core amount from a host `Money` (currency and precision checked by the core).
fn amount(m: &Money) -> Result<ordersmith::money::Money, OrdersmithError> {
    core_money(&m.amount, currency(&m.currency)?)
}

/// Chooses a carrier service from rate quotes by the shop's policy (the cheapest that
/// keeps the delivery promise, or the fastest under a price cap), with the reason.
#[uniffi::export]
pub fn choose_carrier(
    quotes: Vec<RateQuote>,
    policy: CarrierPolicy,
) -> Result<CarrierChoice, OrdersmithError> {
    let quotes = quotes
        .iter()
        .map(|q| {
            Ok(core::RateQuote::new(
                &q.carrier,
                &q.service,
                amount(&q.price)?,
                q.transit_days_min,
                q.transit_days_max,
            ))
        })
        .collect::<Result<Vec<_>, OrdersmithError>>()?;
    let policy = match policy {
        CarrierPolicy::CheapestMeetingPromise { max_transit_days } => {
            core::CarrierPolicy::CheapestMeetingPromise { max_transit_days }
        }
        CarrierPolicy::FastestUnderCap { cap } => {
            core::CarrierPolicy::FastestUnderCap { cap: amount(&cap)? }
        }
    };
    let choice = core::choose_service(&quotes, &policy)?;
    Ok(CarrierChoice {
        quote: RateQuote {
            carrier: choice.quote.carrier,
            service: choice.quote.service,
            price: choice.quote.price.into(),
            transit_days_min: choice.quote.transit_days_min,
            transit_days_max: choice.quote.transit_days_max,
        },
        explanation: choice.explanation,
    })
}

#[uniffi::export]
impl Engine {
    /// Open fulfilment orders whose ship-by is past or within `margin_minutes` of now
    /// (1 to 43200, 30 days), most urgent first: what must leave today. Empty without
    /// a shipping calendar (`EngineOptions.shipping_calendar_json`).
    pub fn fulfilments_due(
        &self,
        margin_minutes: u32,
    ) -> Result<Vec<DueFulfilment>, OrdersmithError> {
        let margin = core_minutes("margin_minutes", margin_minutes)?;
        let due = self.call(|e| e.fulfilments_due(margin))?;
        Ok(due
            .into_iter()
            .map(|d| DueFulfilment {
                order_id: d.order_id.to_string(),
                fulfilment: d.fulfilment,
                location: d.location.to_string(),
                ship_by: host_time(d.ship_by),
                late: d.late,
            })
            .collect())
    }

    /// The order's fulfilment orders, open and closed.
    pub fn fulfilment_orders(
        &self,
        order_id: String,
    ) -> Result<Vec<FulfilmentOrder>, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let list = self.call(|e| e.fulfilment_orders(&id))?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// What a picker walks for one fulfilment order, sorted for walking.
    pub fn pick_list(
        &self,
        order_id: String,
        fulfilment: String,
    ) -> Result<Vec<PickListLine>, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let list = self.call(|e| e.pick_list(&id, &fulfilment))?;
        Ok(list.into_iter().map(pick_line).collect())
    }

    /// Open fulfilment orders of confirmed and processing orders with their pick
    /// lists, most urgent first: by ship-by when the engine has a shipping calendar,
    /// then oldest order first. Only those shipping from `location` when one is given.
    #[uniffi::method(default(location = None))]
    pub fn fulfilment_work(
        &self,
        location: Option<String>,
    ) -> Result<Vec<FulfilmentWork>, OrdersmithError> {
        let location = location.map(LocationId::parse).transpose()?;
        let mut work = Vec::new();
        for status in [CoreStatus::Confirmed, CoreStatus::Processing] {
            let query = OrderQuery {
                status: Some(status),
                ..OrderQuery::default()
            };
            for order in self.call(|e| Ok(e.iter_orders(query)))? {
                let order = order?;
                let ship_by = self.call(|e| e.ship_by(&order))?;
                for fo in order.fulfilments.iter().filter(|f| !f.status.is_closed()) {
                    if location.as_ref().is_some_and(|l| *l != fo.location) {
                        continue;
                    }
                    let pick_list = self.call(|e| e.pick_list(&order.id, &fo.id))?;
                    work.push(FulfilmentWork {
                        order_id: order.id.to_string(),
                        external_ref: order.external_ref.as_deref().map(str::to_string),
                        fulfilment: fo.clone().into(),
                        pick_list: pick_list.into_iter().map(pick_line).collect(),
                        ship_by: ship_by.map(host_time),
                    });
                }
            }
        }
        // Stable: orders of equal deadline (or none) keep oldest first; confirmed
        // orders were listed before processing ones, which the deadline now interleaves.
        work.sort_by_key(|w| (w.ship_by.is_none(), w.ship_by));
        Ok(work)
    }

    /// The order's ship-by time on the shop's shipping calendar; `None` without one.
    pub fn ship_by(&self, order_id: String) -> Result<Option<SystemTime>, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ship_by = self.call(|e| {
            let order = e.order(&id)?;
            e.ship_by(&order)
        })?;
        Ok(ship_by.map(host_time))
    }

    /// Records units picked, and units the picker could not find (handled by the
    /// engine's short-pick policy).
    #[uniffi::method(default(ctx = None))]
    pub fn pick(
        &self,
        order_id: String,
        fulfilment: String,
        picked: Vec<LineUnits>,
        short: Vec<LineUnits>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let step = FulfilmentCommand::Pick {
            fulfilment,
            picked: core_units(picked)?,
            short: core_units(short)?,
        };
        self.step(order_id, step, ctx)
    }

    /// Puts picked units into one new parcel.
    #[uniffi::method(default(ctx = None))]
    pub fn pack(
        &self,
        order_id: String,
        fulfilment: String,
        units: Vec<LineUnits>,
        size: ParcelSize,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let step = FulfilmentCommand::Pack {
            fulfilment,
            units: core_units(units)?,
            size: core::ParcelSize {
                weight_grams: size.weight_grams,
                length_mm: size.length_mm,
                width_mm: size.width_mm,
                height_mm: size.height_mm,
            },
        };
        self.step(order_id, step, ctx)
    }

    /// Asks the host for a label (it arrives as an effect).
    #[uniffi::method(default(ctx = None))]
    pub fn request_label(
        &self,
        order_id: String,
        fulfilment: String,
        parcel: String,
        service: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let step = FulfilmentCommand::RequestLabel {
            fulfilment,
            parcel,
            service,
        };
        self.step(order_id, step, ctx)
    }

    /// Records the label the host bought.
    #[uniffi::method(default(ctx = None))]
    pub fn record_label(
        &self,
        order_id: String,
        fulfilment: String,
        parcel: String,
        label: Label,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let label = core::Label {
            carrier: label.carrier,
            service: label.service,
            tracking_number: label.tracking_number,
            label_ref: label.label_ref,
        };
        let step = FulfilmentCommand::RecordLabel {
            fulfilment,
            parcel,
            label,
        };
        self.step(order_id, step, ctx)
    }

    /// The carrier took the parcel: its units are sold and shipped.
    #[uniffi::method(default(ctx = None))]
    pub fn hand_over(
        &self,
        order_id: String,
        fulfilment: String,
        parcel: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let step = FulfilmentCommand::HandOver { fulfilment, parcel };
        self.step(order_id, step, ctx)
    }

    /// Stops work on a fulfilment order.
    #[uniffi::method(default(ctx = None))]
    pub fn hold_fulfilment(
        &self,
        order_id: String,
        fulfilment: String,
        reason: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let step = FulfilmentCommand::Hold { fulfilment, reason };
        self.step(order_id, step, ctx)
    }

    /// Resumes work on a held fulfilment order.
    #[uniffi::method(default(ctx = None))]
    pub fn release_fulfilment(
        &self,
        order_id: String,
        fulfilment: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.step(order_id, FulfilmentCommand::Release { fulfilment }, ctx)
    }

    /// Ships an unpicked fulfilment order from another location instead.
    #[uniffi::method(default(ctx = None))]
    pub fn move_fulfilment(
        &self,
        order_id: String,
        fulfilment: String,
        to: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let to = LocationId::parse(to)?;
        self.step(order_id, FulfilmentCommand::Move { fulfilment, to }, ctx)
    }

    /// Cancels what a fulfilment order has not shipped.
    #[uniffi::method(default(ctx = None))]
    pub fn cancel_fulfilment(
        &self,
        order_id: String,
        fulfilment: String,
        reason: CancelReason,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let reason = reason.into();
        self.step(
            order_id,
            FulfilmentCommand::Cancel { fulfilment, reason },
            ctx,
        )
    }
}

impl Engine {
    fn step(
        &self,
        order_id: String,
        step: FulfilmentCommand,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.fulfil(&id, step, &ctx))?.try_into()
    }
}

fn pick_line(l: ordersmith::engine::PickListLine) -> PickListLine {
    PickListLine {
        line_id: l.line_id.to_string(),
        sku: l.sku,
        title: l.title,
        quantity: l.quantity,
    }
}
