//! Events: what happened to an order. The order is the fold of its events.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fulfilment::{
    FulfilmentOrder, FulfilmentOrderStatus, Label, Parcel, ParcelSize, ParcelStatus, ShortPick,
};
use crate::ids::{ChannelId, LineId, LocationId, OrderId, ReservationId};
use crate::money::{Currency, Money};
use crate::pii::{Address, Customer};
use crate::sparse::Sparse;

use super::command::LineQuantity;
use super::model::{
    Allocation, CancelReason, Hold, HoldReason, LineQuantities, Order, OrderLine, OrderLines,
    OrderStatus, ShippingLine,
};

/// The data of a newly placed order.
///
/// Kept as the first event of every order and never changed, so its texts are boxed
/// rather than growable; what the order starts from (lines, shipping lines, tags,
/// opt-outs, customer and addresses) is shared with the order's snapshot, which copies
/// a part only when a later event changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedOrder {
    /// Channel.
    pub channel: ChannelId,
    /// Channel reference (shared with the order's snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<Arc<str>>,
    /// When placed.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub placed_at: DateTime<Utc>,
    /// Currency.
    pub currency: Currency,
    /// Tax mode.
    pub taxes_included: bool,
    /// Customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Arc<Customer>>,
    /// Shipping address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Arc<Address>>,
    /// Billing address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Arc<Address>>,
    /// Lines, with ids assigned (shared with the order's snapshot until it changes).
    pub lines: OrderLines,
    /// Shipping charges (shared with the order's snapshot until it changes them).
    #[serde(default)]
    pub shipping_lines: Sparse<Vec<ShippingLine>>,
    /// Tags (shared with the order's snapshot until it changes them).
    #[serde(default)]
    pub tags: Sparse<BTreeSet<String>>,
    /// First note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Box<str>>,
    /// The order's own reservation time-to-live, in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_ttl_minutes: Option<u32>,
    /// Channels the customer asked not to be messaged on (shared with the order's
    /// snapshot until it changes them).
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub notification_opt_outs: Sparse<Vec<crate::notify::NotificationChannel>>,
}

/// Something that happened to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderEvent {
    /// The order was placed. Shared: the engine keeps one copy of a placement for the
    /// command that made it, the event record and its announcement.
    Placed(Arc<PlacedOrder>),
    /// The shop accepted it.
    Confirmed,
    /// It was put on hold.
    Held {
        /// Why.
        reason: HoldReason,
        /// Free text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// The status it was in.
        from: OrderStatus,
    },
    /// The hold was released.
    HoldReleased {
        /// The status it returned to.
        to: OrderStatus,
    },
    /// The whole order was cancelled.
    Cancelled {
        /// Why.
        reason: CancelReason,
    },
    /// Some units were cancelled.
    LinesCancelled {
        /// Which units.
        lines: Vec<LineQuantity>,
        /// Why.
        reason: CancelReason,
    },
    /// A line was added by an edit.
    LineAdded {
        /// The line.
        line: Box<OrderLine>,
    },
    /// A line was removed by an edit.
    LineRemoved {
        /// The line.
        line_id: LineId,
    },
    /// A line's ordered quantity was changed by an edit.
    LineQuantityChanged {
        /// The line.
        line_id: LineId,
        /// The old quantity.
        from: u32,
        /// The new quantity.
        to: u32,
    },
    /// A payment was recorded.
    PaymentRecorded {
        /// Amount.
        amount: Money,
    },
    /// A refund was recorded.
    RefundRecorded {
        /// Amount.
        amount: Money,
    },
    /// Units shipped.
    ShipmentRecorded {
        /// Which units.
        lines: Vec<LineQuantity>,
    },
    /// Units delivered.
    DeliveryRecorded {
        /// Which units.
        lines: Vec<LineQuantity>,
    },
    /// Units returned.
    ReturnRecorded {
        /// Which units.
        lines: Vec<LineQuantity>,
    },
    /// Stock was reserved for a line (accompanies confirm, edits, releases of a hold).
    Allocated {
        /// The line.
        line_id: LineId,
        /// The reservation, location and units.
        allocation: Allocation,
    },
    /// Units of a line's reservation were released (cancellation, edit).
    Deallocated {
        /// The line.
        line_id: LineId,
        /// The reservation.
        reservation: ReservationId,
        /// Units released.
        quantity: u32,
    },
    /// A line's reservation lapsed before the order was paid (an expiry sweep): its
    /// units went back on sale and are no longer held for the order.
    AllocationExpired {
        /// The line.
        line_id: LineId,
        /// The reservation.
        reservation: ReservationId,
        /// Units that were still held.
        quantity: u32,
    },
    /// Units of a line's reservation were committed because they shipped (the same
    /// effect on the order as a release: the units are no longer held for it).
    AllocationCommitted {
        /// The line.
        line_id: LineId,
        /// The reservation.
        reservation: ReservationId,
        /// Units committed.
        quantity: u32,
    },
    /// The order was closed.
    Completed,
    /// Tags changed.
    Tagged {
        /// Added tags.
        added: Vec<String>,
        /// Removed tags.
        removed: Vec<String>,
    },
    /// A note was added.
    NoteAdded {
        /// The note.
        note: String,
    },
    /// A fulfilment order was opened for the units held at a location.
    FulfilmentOpened {
        /// Its id (`F1`, ...).
        fulfilment: String,
        /// The location.
        location: LocationId,
    },
    /// Units were picked.
    FulfilmentPicked {
        /// The fulfilment order.
        fulfilment: String,
        /// Units picked per line.
        lines: Vec<LineQuantity>,
    },
    /// Units could not be found when picking (the events that handle them follow).
    FulfilmentShortPicked {
        /// The fulfilment order.
        fulfilment: String,
        /// What was missing and how it was handled.
        short: ShortPick,
    },
    /// Picked units were packed into a parcel.
    ParcelPacked {
        /// The fulfilment order.
        fulfilment: String,
        /// The parcel.
        parcel: Box<Parcel>,
    },
    /// A parcel was given its GS1 SSCC.
    ParcelIdentified(Box<ParcelIdentity>),
    /// A label was asked for: the host buys it from the carrier and records it.
    LabelRequested(Box<LabelRequest>),
    /// The label the host bought was recorded.
    LabelRecorded {
        /// The fulfilment order.
        fulfilment: String,
        /// The parcel.
        parcel: String,
        /// The label.
        label: Box<Label>,
    },
    /// A parcel was handed over to its carrier (shipment and stock events follow;
    /// the record's time is when).
    ParcelHandedOver {
        /// The fulfilment order.
        fulfilment: String,
        /// The parcel.
        parcel: String,
    },
    /// A fulfilment order was held.
    FulfilmentHeld {
        /// The fulfilment order.
        fulfilment: String,
        /// Why.
        reason: String,
    },
    /// A held fulfilment order was released.
    FulfilmentReleased {
        /// The fulfilment order.
        fulfilment: String,
    },
    /// A carrier event was recorded for a parcel (what it did is in the parcel's
    /// tracking history).
    ParcelTracked(Box<ParcelTracking>),
    /// A customer notification was asked of the host (once per dedupe key).
    NotificationRequested {
        /// The message: template, locale, channel, recipient, values, dedupe key.
        notification: Box<crate::notify::Notification>,
    },
    /// A payment's authorisation was asked of the provider (an outbox effect).
    PaymentAuthorisationRequested {
        /// The new payment.
        payment: Box<crate::payment::Payment>,
    },
    /// The provider authorised a payment (the amount authorised).
    PaymentAuthorised(Box<ProviderOutcome>),
    /// The provider refused a payment.
    PaymentFailed {
        /// The payment.
        payment: String,
        /// Why.
        reason: String,
    },
    /// A capture was asked of the provider (an outbox effect).
    PaymentCaptureRequested {
        /// The payment.
        payment: String,
        /// The amount.
        amount: Money,
    },
    /// The provider captured: the order's paid amount grows.
    PaymentCaptured(Box<ProviderOutcome>),
    /// An authorisation was voided (the provider is told through the outbox).
    PaymentVoided {
        /// The payment.
        payment: String,
    },
    /// A refund was asked of the provider (an outbox effect).
    PaymentRefundRequested {
        /// The payment.
        payment: String,
        /// The amount.
        amount: Money,
    },
    /// The provider refunded: the order's refunded amount grows.
    PaymentRefunded(Box<ProviderOutcome>),
    /// The provider refused a capture (or settles no more of it): the capture still
    /// pending is released.
    PaymentCaptureFailed(Box<ProviderFailure>),
    /// The provider refused a refund (or settles no more of it): the refund still
    /// pending is released, and the money may be given back another way.
    PaymentRefundFailed(Box<ProviderFailure>),
    /// An automation rule fired: which, on which trigger, why, and what each action
    /// did (the events of its command actions follow, recorded with the rule as
    /// actor). See ADR 0010.
    RuleApplied(Box<crate::rules::RuleApplied>),
    /// A chain of rules triggering rules reached the engine's bound: these triggers
    /// still had rules to fire and were not run.
    RuleChainStopped {
        /// Rounds run.
        depth: u32,
        /// Triggers left unrun.
        triggers: Vec<crate::rules::Trigger>,
    },
    /// Shadow mode: the candidate rule set would have acted differently from the live
    /// one at a trigger. Changes nothing.
    RuleShadowDiffered(Box<crate::rules::ShadowDifference>),
    /// A step of a return (RMA): requested, approved, received, resolved, ... (see
    /// [`crate::returns`]); `step` names which.
    Return(Box<crate::returns::ReturnEvent>),
    /// A fulfilment order closed: everything shipped, moved elsewhere, or cancelled.
    FulfilmentClosed(Box<FulfilmentClosure>),
}

// The payloads of the rarer, larger events, boxed so that every stored event (five or
// more per confirmed order, kept for the order's life) is as small as the common
// ones. Their JSON is the event's own fields beside its `type`, as before.

/// What [`OrderEvent::ParcelIdentified`] says: a parcel was given its GS1 SSCC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelIdentity {
    /// The fulfilment order.
    pub fulfilment: String,
    /// The parcel.
    pub parcel: String,
    /// The SSCC.
    pub sscc: crate::fulfilment::Sscc,
}

/// What [`OrderEvent::LabelRequested`] asks: a label the host buys from the carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelRequest {
    /// The fulfilment order.
    pub fulfilment: String,
    /// Its location (where the parcel leaves from).
    pub location: LocationId,
    /// The parcel.
    pub parcel: String,
    /// Weight and dimensions.
    pub size: ParcelSize,
    /// The carrier service wanted.
    pub service: String,
}

/// What [`OrderEvent::ParcelTracked`] records: a carrier event for a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelTracking {
    /// The fulfilment order.
    pub fulfilment: String,
    /// The parcel.
    pub parcel: String,
    /// The event.
    pub event: crate::fulfilment::CarrierEvent,
    /// What its code means.
    pub mapped: crate::fulfilment::MappedStatus,
}

/// What a payment provider reported: an authorisation, a capture or a refund
/// ([`OrderEvent::PaymentAuthorised`], [`OrderEvent::PaymentCaptured`],
/// [`OrderEvent::PaymentRefunded`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderOutcome {
    /// The payment.
    pub payment: String,
    /// The amount authorised, captured or refunded.
    pub amount: Money,
    /// The provider's reference.
    pub provider_ref: String,
}

/// What a payment provider refused: a capture or a refund
/// ([`OrderEvent::PaymentCaptureFailed`], [`OrderEvent::PaymentRefundFailed`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderFailure {
    /// The payment.
    pub payment: String,
    /// The amount released: what was pending when the provider refused.
    pub amount: Money,
    /// Why, in the provider's words.
    pub reason: String,
}

/// How a fulfilment order ended ([`OrderEvent::FulfilmentClosed`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentClosure {
    /// The fulfilment order.
    pub fulfilment: String,
    /// How it ended (`shipped`, `moved` or `cancelled`).
    pub status: FulfilmentOrderStatus,
    /// The fulfilment order that took its units, when moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
    /// Picked units that were not shipped and go back to the shelf.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub put_back: Vec<LineQuantity>,
}

impl OrderEvent {
    /// The money given back to the customer, for the two events that record it
    /// (`refund_recorded` by hand, `payment.refunded` by the provider).
    pub fn refunded_amount(&self) -> Option<Money> {
        match self {
            OrderEvent::RefundRecorded { amount } => Some(*amount),
            OrderEvent::PaymentRefunded(p) => Some(p.amount),
            _ => None,
        }
    }

    /// A stable name for outbox topics and timelines, e.g. `"order.confirmed"`.
    pub fn topic(&self) -> &'static str {
        match self {
            OrderEvent::Placed(_) => "order.placed",
            OrderEvent::Confirmed => "order.confirmed",
            OrderEvent::Held { .. } => "order.held",
            OrderEvent::HoldReleased { .. } => "order.hold_released",
            OrderEvent::Cancelled { .. } => "order.cancelled",
            OrderEvent::LinesCancelled { .. } => "order.lines_cancelled",
            OrderEvent::LineAdded { .. } => "order.line_added",
            OrderEvent::LineRemoved { .. } => "order.line_removed",
            OrderEvent::LineQuantityChanged { .. } => "order.line_quantity_changed",
            OrderEvent::PaymentRecorded { .. } => "order.payment_recorded",
            OrderEvent::RefundRecorded { .. } => "order.refund_recorded",
            OrderEvent::ShipmentRecorded { .. } => "order.shipment_recorded",
            OrderEvent::DeliveryRecorded { .. } => "order.delivery_recorded",
            OrderEvent::ReturnRecorded { .. } => "order.return_recorded",
            OrderEvent::Allocated { .. } => "order.allocated",
            OrderEvent::Deallocated { .. } => "order.deallocated",
            OrderEvent::AllocationCommitted { .. } => "order.allocation_committed",
            OrderEvent::AllocationExpired { .. } => "order.allocation_expired",
            OrderEvent::Completed => "order.completed",
            OrderEvent::Tagged { .. } => "order.tagged",
            OrderEvent::NoteAdded { .. } => "order.note_added",
            OrderEvent::FulfilmentOpened { .. } => "fulfilment.opened",
            OrderEvent::FulfilmentPicked { .. } => "fulfilment.picked",
            OrderEvent::FulfilmentShortPicked { .. } => "fulfilment.short_picked",
            OrderEvent::ParcelPacked { .. } => "fulfilment.parcel_packed",
            OrderEvent::LabelRequested { .. } => "fulfilment.label_requested",
            OrderEvent::ParcelIdentified { .. } => "fulfilment.parcel_identified",
            OrderEvent::LabelRecorded { .. } => "fulfilment.label_recorded",
            OrderEvent::ParcelHandedOver { .. } => "fulfilment.parcel_handed_over",
            OrderEvent::FulfilmentHeld { .. } => "fulfilment.held",
            OrderEvent::FulfilmentReleased { .. } => "fulfilment.released",
            OrderEvent::FulfilmentClosed { .. } => "fulfilment.closed",
            OrderEvent::ParcelTracked { .. } => "fulfilment.parcel_tracked",
            OrderEvent::PaymentAuthorisationRequested { .. } => "payment.authorisation_requested",
            OrderEvent::PaymentAuthorised { .. } => "payment.authorised",
            OrderEvent::PaymentFailed { .. } => "payment.failed",
            OrderEvent::PaymentCaptureRequested { .. } => "payment.capture_requested",
            OrderEvent::PaymentCaptured { .. } => "payment.captured",
            OrderEvent::PaymentVoided { .. } => "payment.void_requested",
            OrderEvent::PaymentRefundRequested { .. } => "payment.refund_requested",
            OrderEvent::PaymentRefunded { .. } => "payment.refunded",
            OrderEvent::PaymentCaptureFailed(_) => "payment.capture_failed",
            OrderEvent::PaymentRefundFailed(_) => "payment.refund_failed",
            OrderEvent::NotificationRequested { .. } => "notification.requested",
            OrderEvent::RuleApplied(_) => "rule.applied",
            OrderEvent::RuleChainStopped { .. } => "rule.chain_stopped",
            OrderEvent::RuleShadowDiffered(_) => "rule.shadow_differed",
            OrderEvent::Return(e) => e.topic(),
        }
    }
}

/// Who or what caused a change: the audit trail's "who".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// ordersmith itself or the host without a named user.
    #[default]
    System,
    /// A staff member, by the host's user id (shared: every event a command records
    /// names its actor).
    User(Arc<str>),
    /// A sales channel's integration.
    Channel(ChannelId),
    /// An automation rule, by rule id.
    Rule(Arc<str>),
    /// The customer.
    Customer,
}

impl Actor {
    /// Parses `"system"`, `"customer"`, `"user:<id>"`, `"channel:<id>"` or `"rule:<id>"`.
    pub fn parse(text: &str) -> Option<Actor> {
        match text.split_once(':') {
            None if text == "system" => Some(Actor::System),
            None if text == "customer" => Some(Actor::Customer),
            Some(("user", id)) if !id.trim().is_empty() => Some(Actor::User(id.into())),
            Some(("rule", id)) if !id.trim().is_empty() => Some(Actor::Rule(id.into())),
            Some(("channel", id)) => ChannelId::parse(id).ok().map(Actor::Channel),
            _ => None,
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::Customer => f.write_str("customer"),
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Channel(id) => write!(f, "channel:{id}"),
            Actor::Rule(id) => write!(f, "rule:{id}"),
        }
    }
}

/// An event as stored: which order, which version, when, by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEventRecord {
    /// The order.
    pub order_id: OrderId,
    /// This event's version (1 for `placed`, then +1 per event).
    pub version: u64,
    /// When it was recorded: the engine's clock, read once per write, so every event
    /// one write records (a placement and its follow-ups, say) carries the same time.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub recorded_at: DateTime<Utc>,
    /// Who caused it.
    pub actor: Actor,
    /// The idempotency key of the command that caused it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<Box<str>>,
    /// What happened.
    pub event: OrderEvent,
}

/// An event as stored, borrowed from where it is kept: what [`OrderEventRecord`] holds,
/// without copying it out. A change set keeps one time, actor and key for each run of
/// events one write recorded ([`crate::ports::NewEvents`]); a store reads each event as
/// this view, whose JSON is the record's, byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventRecordRef<'a> {
    /// The order.
    pub order_id: &'a OrderId,
    /// This event's version.
    pub version: u64,
    /// When it was recorded.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub recorded_at: DateTime<Utc>,
    /// Who caused it.
    pub actor: &'a Actor,
    /// The idempotency key of the command that caused it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<&'a str>,
    /// What happened.
    pub event: &'a OrderEvent,
}

impl EventRecordRef<'_> {
    /// The record, owned (its event and texts copied or shared).
    pub fn to_record(&self) -> OrderEventRecord {
        OrderEventRecord {
            order_id: self.order_id.clone(),
            version: self.version,
            recorded_at: self.recorded_at,
            actor: self.actor.clone(),
            idempotency_key: self.idempotency_key.map(Box::from),
            event: self.event.clone(),
        }
    }
}

impl<'a> From<&'a OrderEventRecord> for EventRecordRef<'a> {
    fn from(record: &'a OrderEventRecord) -> Self {
        EventRecordRef {
            order_id: &record.order_id,
            version: record.version,
            recorded_at: record.recorded_at,
            actor: &record.actor,
            idempotency_key: record.idempotency_key.as_deref(),
            event: &record.event,
        }
    }
}

fn add_to(
    lines: &mut [OrderLine],
    changes: &[LineQuantity],
    f: fn(&mut LineQuantities) -> &mut u32,
) {
    for change in changes {
        if let Some(line) = lines.iter_mut().find(|l| l.id == change.line_id) {
            let q = f(&mut line.fulfilment);
            *q = q.saturating_add(change.quantity);
        }
    }
}

impl OrderLine {
    fn sync_allocated(&mut self) {
        self.fulfilment.allocated = self
            .allocations
            .iter()
            .map(|a| a.quantity)
            .fold(0u32, u32::saturating_add);
    }
}

impl Order {
    /// A new order from its `placed` event (version 1).
    pub fn from_placed(id: OrderId, placed: &PlacedOrder) -> Order {
        // Room for the one note only (a first `push` takes room for four, kept for the
        // order's life).
        let notes = placed
            .note
            .as_ref()
            .map(|n| vec![n.to_string()])
            .unwrap_or_default();
        Order {
            id,
            version: 1,
            channel: placed.channel.clone(),
            external_ref: placed.external_ref.clone(),
            placed_at: placed.placed_at,
            currency: placed.currency,
            taxes_included: placed.taxes_included,
            customer: placed.customer.clone(),
            shipping_address: placed.shipping_address.clone(),
            billing_address: placed.billing_address.clone(),
            lines: placed.lines.clone(),
            shipping_lines: placed.shipping_lines.clone(),
            tags: placed.tags.clone(),
            notes: notes.into(),
            status: OrderStatus::Pending,
            hold: None,
            cancel_reason: None,
            amount_paid: Money::zero(placed.currency),
            amount_refunded: Money::zero(placed.currency),
            next_line_number: u32::try_from(placed.lines.len())
                .unwrap_or(u32::MAX)
                .saturating_add(1),
            reservation_ttl_minutes: placed.reservation_ttl_minutes,
            fulfilments: Sparse::default(),
            notified: Sparse::default(),
            notification_opt_outs: placed.notification_opt_outs.clone(),
            payments: Sparse::default(),
            automation: crate::rules::AutomationBox::default(),
            rmas: Sparse::default(),
        }
    }

    /// Applies one event. This is the only place order state changes. Events are facts
    /// already validated by `decide`, so applying never fails.
    pub fn apply(&mut self, event: &OrderEvent) {
        self.version += 1;
        match event {
            OrderEvent::Placed(_) => {}
            OrderEvent::Confirmed => self.status = OrderStatus::Confirmed,
            OrderEvent::Held { reason, note, from } => {
                self.hold = Some(Hold {
                    reason: *reason,
                    note: note.clone(),
                    previous: *from,
                });
                self.status = OrderStatus::OnHold;
            }
            OrderEvent::HoldReleased { to } => {
                self.hold = None;
                self.status = *to;
            }
            OrderEvent::Cancelled { reason } => {
                self.hold = None;
                self.cancel_reason = Some(*reason);
                self.status = OrderStatus::Cancelled;
            }
            OrderEvent::LinesCancelled { lines, .. } => {
                add_to(self.lines.make_mut(), lines, |q| &mut q.cancelled);
            }
            OrderEvent::LineAdded { line } => {
                self.lines.push(OrderLine::clone(line));
                self.next_line_number = self.next_line_number.saturating_add(1);
            }
            OrderEvent::LineRemoved { line_id } => self.lines.retain(|l| &l.id != line_id),
            OrderEvent::LineQuantityChanged { line_id, to, .. } => {
                if let Some(line) = self.lines.make_mut().iter_mut().find(|l| &l.id == line_id) {
                    line.quantity = *to;
                }
            }
            OrderEvent::PaymentRecorded { amount } => {
                self.amount_paid = self
                    .amount_paid
                    .checked_add(amount)
                    .unwrap_or(self.amount_paid);
            }
            OrderEvent::RefundRecorded { amount } => {
                self.amount_refunded = self
                    .amount_refunded
                    .checked_add(amount)
                    .unwrap_or(self.amount_refunded);
            }
            OrderEvent::ShipmentRecorded { lines } => {
                add_to(self.lines.make_mut(), lines, |q| &mut q.shipped);
                if self.status == OrderStatus::Confirmed {
                    self.status = OrderStatus::Processing;
                }
            }
            OrderEvent::DeliveryRecorded { lines } => {
                add_to(self.lines.make_mut(), lines, |q| &mut q.delivered);
            }
            OrderEvent::ReturnRecorded { lines } => {
                add_to(self.lines.make_mut(), lines, |q| &mut q.returned);
            }
            OrderEvent::Allocated {
                line_id,
                allocation,
            } => {
                if let Some(line) = self.lines.make_mut().iter_mut().find(|l| &l.id == line_id) {
                    // Exactly one more: a line rarely has more than one or two
                    // reservations, and the stored snapshot keeps the list as it is.
                    let mut held = std::mem::take(&mut line.allocations).into_vec();
                    held.reserve_exact(1);
                    held.push(allocation.clone());
                    line.allocations = held.into_boxed_slice();
                    line.sync_allocated();
                }
            }
            OrderEvent::Deallocated {
                line_id,
                reservation,
                quantity,
            }
            | OrderEvent::AllocationCommitted {
                line_id,
                reservation,
                quantity,
            }
            | OrderEvent::AllocationExpired {
                line_id,
                reservation,
                quantity,
            } => {
                if let Some(line) = self.lines.make_mut().iter_mut().find(|l| &l.id == line_id) {
                    if let Some(a) = line
                        .allocations
                        .iter_mut()
                        .find(|a| &a.reservation == reservation)
                    {
                        a.quantity = a.quantity.saturating_sub(*quantity);
                    }
                    if line.allocations.iter().any(|a| a.quantity == 0) {
                        let mut held = std::mem::take(&mut line.allocations).into_vec();
                        held.retain(|a| a.quantity > 0);
                        line.allocations = held.into_boxed_slice();
                    }
                    line.sync_allocated();
                }
            }
            OrderEvent::Completed => self.status = OrderStatus::Completed,
            OrderEvent::Tagged { added, removed } => {
                if let Some(tags) = self.tags.existing_mut() {
                    for t in removed {
                        tags.remove(t);
                    }
                }
                if !added.is_empty() {
                    self.tags.extend(added.iter().cloned());
                }
            }
            OrderEvent::NoteAdded { note } => self.notes.push(note.clone()),
            OrderEvent::FulfilmentOpened {
                fulfilment,
                location,
            } => self
                .fulfilments
                .push(FulfilmentOrder::new(fulfilment.clone(), location.clone())),
            OrderEvent::FulfilmentPicked { fulfilment, lines } => {
                if let Some(fo) = self.fulfilment_mut(fulfilment) {
                    for lq in lines {
                        let q = fo.picked.entry(lq.line_id.clone()).or_insert(0);
                        *q = q.saturating_add(lq.quantity);
                    }
                    if fo.status == FulfilmentOrderStatus::Open {
                        fo.status = FulfilmentOrderStatus::InProgress;
                    }
                }
            }
            OrderEvent::FulfilmentShortPicked { fulfilment, short } => {
                if let Some(fo) = self.fulfilment_mut(fulfilment) {
                    fo.short_picks.push(short.clone());
                }
            }
            OrderEvent::ParcelPacked { fulfilment, parcel } => {
                if let Some(fo) = self.fulfilment_mut(fulfilment) {
                    for (line, q) in &parcel.units {
                        let packed = fo.packed.entry(line.clone()).or_insert(0);
                        *packed = packed.saturating_add(*q);
                    }
                    fo.parcels.push(Parcel::clone(parcel));
                    if fo.status == FulfilmentOrderStatus::Open {
                        fo.status = FulfilmentOrderStatus::InProgress;
                    }
                }
            }
            OrderEvent::ParcelIdentified(e) => {
                let ParcelIdentity {
                    fulfilment,
                    parcel,
                    sscc,
                } = e.as_ref();
                if let Some(p) = self.parcel_mut(fulfilment, parcel) {
                    p.sscc = Some(sscc.clone());
                }
            }
            OrderEvent::LabelRequested(e) => {
                let LabelRequest {
                    fulfilment,
                    parcel,
                    service,
                    ..
                } = e.as_ref();
                if let Some(p) = self.parcel_mut(fulfilment, parcel) {
                    p.status = ParcelStatus::LabelRequested;
                    p.requested_service = Some(service.clone());
                }
            }
            OrderEvent::LabelRecorded {
                fulfilment,
                parcel,
                label,
            } => {
                if let Some(p) = self.parcel_mut(fulfilment, parcel) {
                    p.status = ParcelStatus::Labelled;
                    p.label = Some(Label::clone(label));
                }
            }
            OrderEvent::ParcelHandedOver { fulfilment, parcel } => {
                if let Some(fo) = self.fulfilment_mut(fulfilment) {
                    let mut units = Vec::new();
                    if let Some(p) = fo.parcels.iter_mut().find(|p| &p.id == parcel) {
                        p.status = ParcelStatus::HandedOver;
                        units = p.units.iter().map(|(l, q)| (l.clone(), *q)).collect();
                    }
                    for (line, q) in units {
                        let shipped = fo.shipped.entry(line).or_insert(0);
                        *shipped = shipped.saturating_add(q);
                    }
                }
            }
            OrderEvent::FulfilmentHeld { fulfilment, reason } => {
                if let Some(fo) = self.fulfilment_mut(fulfilment) {
                    fo.status = FulfilmentOrderStatus::OnHold;
                    fo.hold_reason = Some(reason.clone());
                }
            }
            OrderEvent::FulfilmentReleased { fulfilment } => {
                if let Some(fo) = self.fulfilment_mut(fulfilment) {
                    fo.hold_reason = None;
                    fo.status = if fo.picked.values().any(|q| *q > 0) || !fo.parcels.is_empty() {
                        FulfilmentOrderStatus::InProgress
                    } else {
                        FulfilmentOrderStatus::Open
                    };
                }
            }
            OrderEvent::ParcelTracked(e) => {
                let ParcelTracking {
                    fulfilment,
                    parcel,
                    event,
                    mapped,
                } = e.as_ref();
                if let Some(p) = self.parcel_mut(fulfilment, parcel) {
                    let carrier = p.label.as_ref().map_or_else(
                        || crate::fulfilment::Carrier::Other("unknown".into()),
                        |l| crate::fulfilment::Carrier::from_code(&l.carrier),
                    );
                    let tracking = p
                        .tracking
                        .get_or_insert_with(|| crate::fulfilment::ParcelTracking::new(carrier));
                    let table = crate::fulfilment::tracking::table_for(
                        tracking.carrier(),
                        event.raw_code(),
                        mapped,
                    );
                    tracking.apply(&table, crate::fulfilment::CarrierEvent::clone(event));
                }
            }
            OrderEvent::PaymentAuthorisationRequested { payment } => {
                self.payments.push(crate::payment::Payment::clone(payment));
            }
            OrderEvent::PaymentAuthorised(e) => {
                let ProviderOutcome {
                    payment,
                    amount,
                    provider_ref,
                } = e.as_ref();
                if let Some(p) = self.payment_mut(payment) {
                    p.authorised = p.authorised.checked_add(amount).unwrap_or(p.authorised);
                    p.provider_refs.insert(provider_ref.clone());
                    p.settle();
                }
            }
            OrderEvent::PaymentFailed { payment, reason } => {
                if let Some(p) = self.payment_mut(payment) {
                    p.state = crate::payment::PaymentState::Failed;
                    p.failure = Some(reason.clone());
                }
            }
            OrderEvent::PaymentCaptureRequested { payment, amount } => {
                if let Some(p) = self.payment_mut(payment) {
                    p.capture_pending = p
                        .capture_pending
                        .checked_add(amount)
                        .unwrap_or(p.capture_pending);
                }
            }
            OrderEvent::PaymentCaptured(e) => {
                let ProviderOutcome {
                    payment,
                    amount,
                    provider_ref,
                } = e.as_ref();
                if let Some(p) = self.payment_mut(payment) {
                    p.captured = p.captured.checked_add(amount).unwrap_or(p.captured);
                    p.capture_pending = p
                        .capture_pending
                        .checked_sub(amount)
                        .unwrap_or(p.capture_pending);
                    p.provider_refs.insert(provider_ref.clone());
                    p.settle();
                }
                self.amount_paid = self
                    .amount_paid
                    .checked_add(amount)
                    .unwrap_or(self.amount_paid);
            }
            OrderEvent::PaymentVoided { payment } => {
                if let Some(p) = self.payment_mut(payment) {
                    p.state = crate::payment::PaymentState::Voided;
                }
            }
            OrderEvent::PaymentRefundRequested { payment, amount } => {
                if let Some(p) = self.payment_mut(payment) {
                    p.refund_pending = p
                        .refund_pending
                        .checked_add(amount)
                        .unwrap_or(p.refund_pending);
                }
            }
            OrderEvent::PaymentRefunded(e) => {
                let ProviderOutcome {
                    payment,
                    amount,
                    provider_ref,
                } = e.as_ref();
                if let Some(p) = self.payment_mut(payment) {
                    p.refunded = p.refunded.checked_add(amount).unwrap_or(p.refunded);
                    p.refund_pending = p
                        .refund_pending
                        .checked_sub(amount)
                        .unwrap_or(p.refund_pending);
                    p.provider_refs.insert(provider_ref.clone());
                    p.settle();
                }
                self.amount_refunded = self
                    .amount_refunded
                    .checked_add(amount)
                    .unwrap_or(self.amount_refunded);
            }
            OrderEvent::PaymentCaptureFailed(f) => {
                if let Some(p) = self.payment_mut(&f.payment) {
                    p.capture_pending = p
                        .capture_pending
                        .checked_sub(&f.amount)
                        .unwrap_or(p.capture_pending);
                }
            }
            OrderEvent::PaymentRefundFailed(f) => {
                if let Some(p) = self.payment_mut(&f.payment) {
                    p.refund_pending = p
                        .refund_pending
                        .checked_sub(&f.amount)
                        .unwrap_or(p.refund_pending);
                }
            }
            OrderEvent::NotificationRequested { notification } => {
                self.notified.insert(notification.dedupe_key().to_string());
            }
            OrderEvent::RuleApplied(applied) => applied.apply_to(&mut self.automation),
            OrderEvent::RuleChainStopped { .. } | OrderEvent::RuleShadowDiffered(_) => {}
            OrderEvent::Return(e) => crate::returns::apply(&mut self.rmas, e),
            OrderEvent::FulfilmentClosed(e) => {
                let FulfilmentClosure {
                    fulfilment,
                    status,
                    moved_to,
                    ..
                } = e.as_ref();
                if let Some(fo) = self.fulfilment_mut(fulfilment) {
                    fo.status = *status;
                    fo.hold_reason = None;
                    fo.moved_to = moved_to.clone();
                }
            }
        }
    }

    fn payment_mut(&mut self, id: &str) -> Option<&mut crate::payment::Payment> {
        self.payments
            .existing_mut()?
            .iter_mut()
            .find(|p| p.id == id)
    }

    fn fulfilment_mut(&mut self, id: &str) -> Option<&mut FulfilmentOrder> {
        self.fulfilments
            .existing_mut()?
            .iter_mut()
            .find(|f| f.id == id)
    }

    fn parcel_mut(&mut self, fulfilment: &str, parcel: &str) -> Option<&mut Parcel> {
        self.fulfilment_mut(fulfilment)
            .and_then(|f| f.parcels.iter_mut().find(|p| p.id == parcel))
    }

    /// Rebuilds an order from its history: `placed` first, then every event in version
    /// order. Returns `None` when the history is empty or does not start with `placed`.
    pub fn replay<'a>(records: impl IntoIterator<Item = &'a OrderEventRecord>) -> Option<Order> {
        let mut iter = records.into_iter();
        let first = iter.next()?;
        let mut order = match &first.event {
            OrderEvent::Placed(p) => Order::from_placed(first.order_id.clone(), p),
            _ => return None,
        };
        for record in iter {
            order.apply(&record.event);
        }
        Some(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every stored event is an `OrderEventRecord`: five or more per confirmed order,
    // kept for the order's life. Large payloads are boxed so the common events
    // (confirmed, allocated, committed, ...) do not pay for the rare big ones.
    #[test]
    fn events_stay_small_in_memory() {
        let event = std::mem::size_of::<OrderEvent>();
        let record = std::mem::size_of::<OrderEventRecord>();
        println!("OrderEvent {event} B, OrderEventRecord {record} B");
        assert!(event <= 64, "OrderEvent grew to {event} bytes");
        assert!(record <= 144, "OrderEventRecord grew to {record} bytes");
    }

    // Boxing a payload changes nothing in the JSON: its fields sit beside `type`.
    #[test]
    fn boxed_payloads_are_written_and_read_as_flat_events() {
        let try_ = Currency::parse("TRY").unwrap_or_else(|e| panic!("{e}"));
        let captured = OrderEvent::PaymentCaptured(Box::new(ProviderOutcome {
            payment: "P1".into(),
            amount: Money::new(rust_decimal::Decimal::new(1050, 2), try_)
                .unwrap_or_else(|e| panic!("{e}")),
            provider_ref: "ch_1".into(),
        }));
        let closed = OrderEvent::FulfilmentClosed(Box::new(FulfilmentClosure {
            fulfilment: "F1".into(),
            status: FulfilmentOrderStatus::Moved,
            moved_to: Some("F2".into()),
            put_back: Vec::new(),
        }));
        for (event, json) in [
            (
                &captured,
                serde_json::json!({"type": "payment_captured", "payment": "P1",
                    "amount": {"amount": "10.50", "currency": "TRY"}, "provider_ref": "ch_1"}),
            ),
            (
                &closed,
                serde_json::json!({"type": "fulfilment_closed", "fulfilment": "F1",
                    "status": "moved", "moved_to": "F2"}),
            ),
        ] {
            assert_eq!(
                serde_json::to_value(event).unwrap_or_else(|e| panic!("{e}")),
                json
            );
            let back: OrderEvent = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&back, event);
        }
        assert_eq!(captured.refunded_amount(), None);
    }

    // The snapshot and the `placed` event are kept for every order. Personal data is
    // shared (`Arc`) between them, not held inline twice: inline, the customer and two
    // addresses were 448 bytes of each, `None` or not (most bulk imports carry none).
    // The collections most orders leave empty (payments, fulfilments, returns, tags,
    // notes, ...) are `Sparse`: one word each until used (the order was 400 bytes).
    #[test]
    fn snapshot_and_placed_event_hold_personal_data_by_reference() {
        let order = std::mem::size_of::<Order>();
        let placed = std::mem::size_of::<PlacedOrder>();
        println!("Order {order} B, PlacedOrder {placed} B");
        assert!(order <= 272, "Order grew to {order} bytes");
        let line = std::mem::size_of::<OrderLine>();
        assert!(line <= 160, "OrderLine grew to {line} bytes");
        assert!(placed <= 176, "PlacedOrder grew to {placed} bytes");
        let currency = Currency::parse("TRY").unwrap_or_else(|e| panic!("{e}"));
        let mut new = crate::order::NewOrder::new(
            ChannelId::parse("web").unwrap_or_else(|e| panic!("{e}")),
            DateTime::<Utc>::MIN_UTC,
            currency,
            vec![crate::order::NewLine::new(
                crate::ids::VariantId::parse("SKU-1").unwrap_or_else(|e| panic!("{e}")),
                1,
                Money::new(rust_decimal::Decimal::ONE, currency).unwrap_or_else(|e| panic!("{e}")),
            )],
        );
        new.customer = Some(Customer {
            name: crate::pii::Redacted::new("Ayşe Yılmaz".to_string()),
            ..Customer::default()
        });
        new.shipping_address = Some(Address {
            country: "TR".to_string(),
            ..Address::default()
        });
        new.external_ref = Some("W-1".to_string());
        let OrderEvent::Placed(placed) =
            crate::order::machine::place(&new).unwrap_or_else(|e| panic!("{e}"))
        else {
            panic!("placing gives a placed event")
        };
        let snapshot = Order::from_placed(
            OrderId::parse("o-1").unwrap_or_else(|e| panic!("{e}")),
            &placed,
        );
        let (Some(a), Some(b)) = (&placed.customer, &snapshot.customer) else {
            panic!("the customer is kept")
        };
        assert!(Arc::ptr_eq(a, b), "the snapshot copied the customer");
        let (Some(a), Some(b)) = (&placed.external_ref, &snapshot.external_ref) else {
            panic!("the channel reference is kept")
        };
        assert!(Arc::ptr_eq(a, b) && &**a == "W-1");
        assert_eq!(
            snapshot.shipping_address.as_deref(),
            new.shipping_address.as_ref()
        );
        assert_eq!(snapshot.billing_address, None);
    }

    #[test]
    fn lines_are_shared_until_an_event_changes_them() {
        let currency = Currency::parse("TRY").unwrap_or_else(|e| panic!("{e}"));
        let mut new = crate::order::NewOrder::new(
            ChannelId::parse("web").unwrap_or_else(|e| panic!("{e}")),
            DateTime::<Utc>::MIN_UTC,
            currency,
            vec![{
                let mut line = crate::order::NewLine::new(
                    crate::ids::VariantId::parse("SKU-1").unwrap_or_else(|e| panic!("{e}")),
                    2,
                    Money::new(rust_decimal::Decimal::ONE, currency)
                        .unwrap_or_else(|e| panic!("{e}")),
                );
                line.title = Some("Kupa".into());
                line.external_ref = Some("hb-1".into());
                line.tax_lines = vec![crate::order::TaxLine {
                    name: "KDV".into(),
                    rate: rust_decimal::Decimal::new(20, 2),
                }];
                line
            }],
        );
        new.shipping_lines = vec![ShippingLine {
            title: "Kargo".into(),
            price: Money::new(rust_decimal::Decimal::TEN, currency)
                .unwrap_or_else(|e| panic!("{e}")),
            tax_lines: Vec::new(),
        }];
        new.tags = vec!["vip".into()];
        let OrderEvent::Placed(placed) =
            crate::order::machine::place(&new).unwrap_or_else(|e| panic!("{e}"))
        else {
            panic!("placing gives a placed event")
        };
        let mut order = Order::from_placed(
            OrderId::parse("o-1").unwrap_or_else(|e| panic!("{e}")),
            &placed,
        );
        let copy = order.clone();
        assert!(order.lines.shares_with(&placed.lines));
        assert!(copy.lines.shares_with(&placed.lines));
        // Shipping lines and tags too, until the order changes them.
        assert!(std::ptr::eq(
            &*order.shipping_lines,
            &*placed.shipping_lines
        ));
        assert!(std::ptr::eq(&*order.tags, &*placed.tags));
        order.tags.insert("gift".into());
        assert_eq!(
            (order.tags.len(), placed.tags.len(), copy.tags.len()),
            (2, 1, 1)
        );
        assert!(std::ptr::eq(&*copy.tags, &*placed.tags));
        let line_id = order.lines[0].id.clone();
        order.apply(&OrderEvent::Allocated {
            line_id: line_id.clone(),
            allocation: Allocation {
                reservation: ReservationId::parse("r-1").unwrap_or_else(|e| panic!("{e}")),
                location: LocationId::parse("IST").unwrap_or_else(|e| panic!("{e}")),
                quantity: 2,
            },
        });
        // The changed order has its own lines; the event and the copy are untouched.
        assert!(!order.lines.shares_with(&placed.lines));
        assert_eq!(order.lines[0].fulfilment.allocated, 2);
        assert_eq!(order.lines[0].allocations.len(), 1);
        assert_eq!(placed.lines[0].fulfilment.allocated, 0);
        assert!(copy.lines.shares_with(&placed.lines) && copy.lines[0].allocations.is_empty());
        // The copy shares what no event changes: texts and lists are counted, not copied.
        let (mine, as_placed) = (&order.lines[0], &placed.lines[0]);
        let same = |a: &Option<std::sync::Arc<str>>, b: &Option<std::sync::Arc<str>>| matches!((a, b), (Some(a), Some(b)) if std::sync::Arc::ptr_eq(a, b));
        assert!(same(&mine.title, &as_placed.title));
        assert!(same(&mine.external_ref, &as_placed.external_ref));
        assert!(std::sync::Arc::ptr_eq(
            &mine.tax_lines,
            &as_placed.tax_lines
        ));
        // Once the order owns its lines, a second change does not copy them again.
        let owned = order.lines.clone();
        drop(owned);
        let before = order.lines.as_ptr();
        order.apply(&OrderEvent::ShipmentRecorded {
            lines: vec![LineQuantity {
                line_id,
                quantity: 1,
            }],
        });
        assert_eq!(order.lines.as_ptr(), before);
        assert_eq!(order.lines[0].fulfilment.shipped, 1);
        // Edits that add or remove lines keep the rest.
        let mut added = order.lines[0].clone();
        added.id = crate::ids::LineId::parse("L2").unwrap_or_else(|e| panic!("{e}"));
        order.apply(&OrderEvent::LineAdded {
            line: Box::new(added),
        });
        assert_eq!(order.lines.len(), 2);
        let first = order.lines[0].id.clone();
        order.apply(&OrderEvent::LineRemoved { line_id: first });
        assert_eq!(order.lines.len(), 1);
        assert_eq!(order.lines[0].id.as_str(), "L2");
        assert_eq!(
            serde_json::to_value(&order.lines).unwrap_or_else(|e| panic!("{e}")),
            serde_json::to_value(order.lines.to_vec()).unwrap_or_else(|e| panic!("{e}")),
        );
    }
}
