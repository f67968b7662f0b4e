//! The order as Kotlin and Swift see it, and the new-order input.

use std::time::SystemTime;

use ordersmith::ids::{ChannelId, VariantId};
use ordersmith::order as core;

use crate::convert::{core_time, host_time};
use crate::errors::OrdersmithError;
use crate::fulfilment::FulfilmentOrder;
use crate::money::{core_money, currency, ExactDecimal, Money};

/// Order status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OrderStatus {
    /// Placed, not yet accepted.
    Pending,
    /// Accepted; stock reserved.
    Confirmed,
    /// Partly shipped.
    Processing,
    /// Stopped until a hold is released.
    OnHold,
    /// Done.
    Completed,
    /// Cancelled.
    Cancelled,
}

impl From<core::OrderStatus> for OrderStatus {
    fn from(s: core::OrderStatus) -> Self {
        match s {
            core::OrderStatus::Pending => Self::Pending,
            core::OrderStatus::Confirmed => Self::Confirmed,
            core::OrderStatus::Processing => Self::Processing,
            core::OrderStatus::OnHold => Self::OnHold,
            core::OrderStatus::Completed => Self::Completed,
            core::OrderStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<OrderStatus> for core::OrderStatus {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Pending => Self::Pending,
            OrderStatus::Confirmed => Self::Confirmed,
            OrderStatus::Processing => Self::Processing,
            OrderStatus::OnHold => Self::OnHold,
            OrderStatus::Completed => Self::Completed,
            OrderStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// Payment status, derived from payments and refunds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PaymentStatus {
    /// Nothing paid.
    Unpaid,
    /// Part paid.
    PartiallyPaid,
    /// Paid in full.
    Paid,
    /// Part refunded.
    PartiallyRefunded,
    /// Refunded in full.
    Refunded,
    /// Authorised by a payment provider, nothing captured yet.
    Authorised,
    /// Every authorisation was voided and nothing was paid.
    Voided,
}

impl From<core::PaymentStatus> for PaymentStatus {
    fn from(s: core::PaymentStatus) -> Self {
        match s {
            core::PaymentStatus::Unpaid => Self::Unpaid,
            core::PaymentStatus::PartiallyPaid => Self::PartiallyPaid,
            core::PaymentStatus::Paid => Self::Paid,
            core::PaymentStatus::PartiallyRefunded => Self::PartiallyRefunded,
            core::PaymentStatus::Refunded => Self::Refunded,
            core::PaymentStatus::Authorised => Self::Authorised,
            core::PaymentStatus::Voided => Self::Voided,
        }
    }
}

/// Fulfilment status of the whole order, derived from its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FulfilmentStatus {
    /// Nothing shipped.
    Unfulfilled,
    /// Part shipped.
    PartiallyFulfilled,
    /// All shipped.
    Fulfilled,
    /// Part returned.
    PartiallyReturned,
    /// All returned.
    Returned,
}

impl From<core::FulfilmentStatus> for FulfilmentStatus {
    fn from(s: core::FulfilmentStatus) -> Self {
        match s {
            core::FulfilmentStatus::Unfulfilled => Self::Unfulfilled,
            core::FulfilmentStatus::PartiallyFulfilled => Self::PartiallyFulfilled,
            core::FulfilmentStatus::Fulfilled => Self::Fulfilled,
            core::FulfilmentStatus::PartiallyReturned => Self::PartiallyReturned,
            core::FulfilmentStatus::Returned => Self::Returned,
        }
    }
}

/// Why an order is on hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HoldReason {
    /// Waiting for a fraud review.
    FraudReview,
    /// The shipping address needs checking.
    AddressCheck,
    /// Waiting for payment.
    Payment,
    /// Not enough stock to fulfil.
    InsufficientStock,
    /// The customer asked to wait.
    CustomerRequest,
    /// The reservations lapsed before payment.
    ReservationExpired,
    /// A sales channel sent a line that maps to no variant.
    UnmappedSku,
    /// Anything else (see the note).
    Other,
}

impl From<core::HoldReason> for HoldReason {
    fn from(r: core::HoldReason) -> Self {
        match r {
            core::HoldReason::FraudReview => Self::FraudReview,
            core::HoldReason::AddressCheck => Self::AddressCheck,
            core::HoldReason::Payment => Self::Payment,
            core::HoldReason::InsufficientStock => Self::InsufficientStock,
            core::HoldReason::CustomerRequest => Self::CustomerRequest,
            core::HoldReason::ReservationExpired => Self::ReservationExpired,
            core::HoldReason::UnmappedSku => Self::UnmappedSku,
            core::HoldReason::Other => Self::Other,
        }
    }
}

impl From<HoldReason> for core::HoldReason {
    fn from(r: HoldReason) -> Self {
        match r {
            HoldReason::FraudReview => Self::FraudReview,
            HoldReason::AddressCheck => Self::AddressCheck,
            HoldReason::Payment => Self::Payment,
            HoldReason::InsufficientStock => Self::InsufficientStock,
            HoldReason::CustomerRequest => Self::CustomerRequest,
            HoldReason::ReservationExpired => Self::ReservationExpired,
            HoldReason::UnmappedSku => Self::UnmappedSku,
            HoldReason::Other => Self::Other,
        }
    }
}

/// Why an order was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CancelReason {
    /// The customer asked.
    Customer,
    /// Fraud.
    Fraud,
    /// No stock.
    Inventory,
    /// Payment declined.
    Declined,
    /// Staff decided.
    Staff,
    /// Unpaid past its reservations' expiry.
    ReservationExpired,
    /// Anything else.
    Other,
}

impl From<core::CancelReason> for CancelReason {
    fn from(r: core::CancelReason) -> Self {
        match r {
            core::CancelReason::Customer => Self::Customer,
            core::CancelReason::Fraud => Self::Fraud,
            core::CancelReason::Inventory => Self::Inventory,
            core::CancelReason::Declined => Self::Declined,
            core::CancelReason::Staff => Self::Staff,
            core::CancelReason::ReservationExpired => Self::ReservationExpired,
            core::CancelReason::Other => Self::Other,
        }
    }
}

impl From<CancelReason> for core::CancelReason {
    fn from(r: CancelReason) -> Self {
        match r {
            CancelReason::Customer => Self::Customer,
            CancelReason::Fraud => Self::Fraud,
            CancelReason::Inventory => Self::Inventory,
            CancelReason::Declined => Self::Declined,
            CancelReason::Staff => Self::Staff,
            CancelReason::ReservationExpired => Self::ReservationExpired,
            CancelReason::Other => Self::Other,
        }
    }
}

/// Stock held for a line at one location.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Allocation {
    /// The stock reservation.
    pub reservation: String,
    /// Where the units are held.
    pub location: String,
    /// Units still held.
    pub quantity: u32,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderLine {
    /// Line id (`L1`, `L2`, ...).
    pub id: String,
    /// The variant (SKU) sold.
    pub variant: String,
    /// Product title.
    pub title: Option<String>,
    /// Units ordered.
    pub quantity: u32,
    /// Price of one unit before discounts.
    pub unit_price: Money,
    /// Units cancelled.
    pub cancelled: u32,
    /// Units reserved.
    pub allocated: u32,
    /// Units shipped.
    pub shipped: u32,
    /// Units delivered.
    pub delivered: u32,
    /// Units returned.
    pub returned: u32,
    /// Reservations held for the line.
    pub allocations: Vec<Allocation>,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Order {
    /// ordersmith's id.
    pub id: String,
    /// Events applied so far.
    pub version: u64,
    /// Sales channel.
    pub channel: String,
    /// The channel's reference.
    pub external_ref: Option<String>,
    /// When the customer placed it.
    pub placed_at: SystemTime,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// Order status.
    pub status: OrderStatus,
    /// Payment status.
    pub payment_status: PaymentStatus,
    /// Fulfilment status.
    pub fulfilment_status: FulfilmentStatus,
    /// Why it is on hold, when it is.
    pub hold_reason: Option<HoldReason>,
    /// The hold's note for people, when it has one.
    pub hold_note: Option<String>,
    /// Why it was cancelled, when it was.
    pub cancel_reason: Option<CancelReason>,
    /// Lines.
    pub lines: Vec<OrderLine>,
    /// What the customer pays.
    pub total: Money,
    /// Payments recorded.
    pub amount_paid: Money,
    /// Tags.
    pub tags: Vec<String>,
    /// Staff notes, oldest first.
    pub notes: Vec<String>,
    /// Fulfilment orders, oldest first (closed ones too).
    pub fulfilments: Vec<FulfilmentOrder>,
}

impl TryFrom<core::Order> for Order {
    type Error = OrdersmithError;

    fn try_from(o: core::Order) -> Result<Self, OrdersmithError> {
        let total = o.totals()?.total.into();
        let payment_status = o.payment_status().into();
        let fulfilment_status = o.fulfilment_status().into();
        let (hold_reason, hold_note) = match o.hold {
            Some(h) => (Some(h.reason.into()), h.note),
            None => (None, None),
        };
        Ok(Order {
            id: o.id.to_string(),
            version: o.version,
            channel: o.channel.to_string(),
            external_ref: o.external_ref.as_deref().map(str::to_string),
            placed_at: host_time(o.placed_at),
            currency: o.currency.code().to_string(),
            status: o.status.into(),
            payment_status,
            fulfilment_status,
            hold_reason,
            hold_note,
            cancel_reason: o.cancel_reason.map(Into::into),
            lines: o.lines.iter().map(line).collect(),
            total,
            amount_paid: o.amount_paid.into(),
            tags: o.tags.into_iter().collect(),
            notes: o.notes.into_inner(),
            fulfilments: o.fulfilments.into_iter().map(Into::into).collect(),
        })
    }
}

fn line(l: &core::OrderLine) -> OrderLine {
    OrderLine {
        id: l.id.to_string(),
        variant: l.variant.to_string(),
        title: l.title.as_deref().map(str::to_string),
        quantity: l.quantity,
        unit_price: l.unit_price.into(),
        cancelled: l.fulfilment.cancelled,
        allocated: l.fulfilment.allocated,
        shipped: l.fulfilment.shipped,
        delivered: l.fulfilment.delivered,
        returned: l.fulfilment.returned,
        allocations: l
            .allocations
            .iter()
            .map(|a| Allocation {
                reservation: a.reservation.to_string(),
                location: a.location.to_string(),
                quantity: a.quantity,
            })
            .collect(),
    }
}

/// A line of a new order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewLine {
    /// The variant (SKU).
    pub variant: String,
    /// Units.
    pub quantity: u32,
    /// Price of one unit, in the order's currency.
    pub unit_price: ExactDecimal,
    /// Product title.
    #[uniffi(default = None)]
    pub title: Option<String>,
}

/// A new order: the fields a phone takes at the counter. Richer orders (customer,
/// addresses, discounts, taxes, shipping) go through `place_order_json`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewOrder {
    /// Sales channel, e.g. `"pos"`.
    pub channel: String,
    /// The channel's reference; placing it twice with the same content is one order.
    pub external_ref: Option<String>,
    /// When the customer placed it.
    pub placed_at: SystemTime,
    /// ISO 4217 currency.
    pub currency: String,
    /// Lines (at least one).
    pub lines: Vec<NewLine>,
    /// A first staff note.
    #[uniffi(default = None)]
    pub note: Option<String>,
}

impl TryFrom<NewOrder> for core::NewOrder {
    type Error = OrdersmithError;

    fn try_from(n: NewOrder) -> Result<Self, OrdersmithError> {
        let cur = currency(&n.currency)?;
        let lines = n
            .lines
            .into_iter()
            .map(|l| {
                let mut line = core::NewLine::new(
                    VariantId::parse(l.variant)?,
                    l.quantity,
                    core_money(&l.unit_price, cur)?,
                );
                line.title = l.title;
                Ok(line)
            })
            .collect::<Result<Vec<_>, OrdersmithError>>()?;
        let mut order = core::NewOrder::new(
            ChannelId::parse(n.channel)?,
            core_time(n.placed_at)?,
            cur,
            lines,
        );
        order.external_ref = n.external_ref;
        order.note = n.note;
        Ok(order)
    }
}
