//! The order as Kotlin and Swift see it, the new-order input, and the commands that
//! fix an order after it was placed: edits, partial cancels, tags, shipments,
//! deliveries and returns recorded by hand, a placement with its follow-ups in one
//! write, and the order's history.

use std::time::SystemTime;

use ordersmith::ids::{ChannelId, LineId, OrderId, VariantId};
use ordersmith::order as core;

use crate::convert::{context, core_time, host_time, CallContext};
use crate::engine::Engine;
use crate::errors::OrdersmithError;
use crate::fulfilment::{core_units, FulfilmentOrder, LineUnits};
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

/// One change to an order's lines before they ship (`edit_order`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LineEdit {
    /// Adds a line, priced in the order's currency.
    Add {
        /// The new line.
        line: NewLine,
    },
    /// Removes a line that has not shipped.
    Remove {
        /// The line (`L1`, `L2`, ...).
        line_id: String,
    },
    /// Changes the ordered quantity of a line that has not shipped.
    SetQuantity {
        /// The line.
        line_id: String,
        /// The new ordered quantity (above the units already cancelled).
        quantity: u32,
    },
}

impl TryFrom<LineEdit> for core::LineEditInput {
    type Error = OrdersmithError;

    fn try_from(e: LineEdit) -> Result<Self, OrdersmithError> {
        Ok(match e {
            LineEdit::Add { line } => Self::Add {
                line: core::LineInput {
                    variant: VariantId::parse(line.variant)?,
                    quantity: line.quantity,
                    unit_price: line.unit_price.parse()?,
                    title: line.title,
                    external_ref: None,
                    discounts: Vec::new(),
                    tax_lines: Vec::new(),
                },
            },
            LineEdit::Remove { line_id } => Self::Remove {
                line_id: LineId::parse(line_id)?,
            },
            LineEdit::SetQuantity { line_id, quantity } => Self::SetQuantity {
                line_id: LineId::parse(line_id)?,
                quantity,
            },
        })
    }
}

/// An order placed together with its follow-up commands (`place_order_then`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PlacedOrder {
    /// The order after the follow-ups.
    pub order: Order,
    /// `false` when the same channel order (or idempotency key) was placed before: the
    /// stored order is returned and nothing ran twice.
    pub created: bool,
}

/// One event of an order's history (`order_history`), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderEventRecord {
    /// The order's version after this event (1 for the placement).
    pub version: u64,
    /// When it was recorded (the engine's clock).
    pub recorded_at: SystemTime,
    /// Who caused it (`system`, `user:<id>`, ...).
    pub actor: String,
    /// The idempotency key of the call that caused it, if any.
    pub idempotency_key: Option<String>,
    /// What happened, as the core's JSON (`{"type": "confirmed", ...}`).
    pub event_json: String,
}

/// `json` read as the order commands `place_order_then` runs after the placement, or
/// `ENGINE_INVALID_INPUT` naming the path that is wrong (`then[1].command`).
fn follow_ups(json: &str) -> Result<Vec<core::OrderCommand>, OrdersmithError> {
    let reader = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(reader).map_err(|e| {
        let path = match e.path().to_string() {
            p if p == "." || p.is_empty() => "then".to_string(),
            p => format!("then{p}"),
        };
        OrdersmithError::invalid_json(path, e.into_inner().to_string())
    })
}

#[uniffi::export]
impl Engine {
    /// Cancels some units of an order (a customer drops one item; a line cannot be
    /// sourced), releasing their stock; the rest of the order goes on.
    #[uniffi::method(default(ctx = None))]
    pub fn cancel_lines(
        &self,
        order_id: String,
        lines: Vec<LineUnits>,
        reason: CancelReason,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let lines = core_units(lines)?;
        let ctx = context(ctx)?;
        self.call(|e| e.cancel_lines(&id, lines, reason.into(), &ctx))?
            .try_into()
    }

    /// Edits lines before they ship (add a line, remove one, change a quantity), all
    /// or nothing; reservations follow the new quantities.
    #[uniffi::method(default(ctx = None))]
    pub fn edit_order(
        &self,
        order_id: String,
        edits: Vec<LineEdit>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let edits = edits
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, OrdersmithError>>()?;
        let ctx = context(ctx)?;
        self.call(|e| e.edit_order_input(&id, edits, &ctx))?
            .try_into()
    }

    /// Adds and removes tags (`"vip"`, `"gift"`, ...), so orders can be sorted and
    /// found by them.
    #[uniffi::method(default(remove = [], ctx = None))]
    pub fn tag_order(
        &self,
        order_id: String,
        add: Vec<String>,
        remove: Vec<String>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.tag_order(&id, add, remove, &ctx))?
            .try_into()
    }

    /// Records units shipped outside the warehouse flow (a counter sale handed over,
    /// a channel's own shipping), committing their reservations.
    #[uniffi::method(default(ctx = None))]
    pub fn record_shipment(
        &self,
        order_id: String,
        lines: Vec<LineUnits>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let lines = core_units(lines)?;
        let ctx = context(ctx)?;
        self.call(|e| e.record_shipment(&id, lines, &ctx))?
            .try_into()
    }

    /// Records units delivered to the customer.
    #[uniffi::method(default(ctx = None))]
    pub fn record_delivery(
        &self,
        order_id: String,
        lines: Vec<LineUnits>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let lines = core_units(lines)?;
        let ctx = context(ctx)?;
        self.call(|e| e.record_delivery(&id, lines, &ctx))?
            .try_into()
    }

    /// Records units returned without an RMA (the RMA workflow is `request_return`).
    #[uniffi::method(default(ctx = None))]
    pub fn record_return(
        &self,
        order_id: String,
        lines: Vec<LineUnits>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let lines = core_units(lines)?;
        let ctx = context(ctx)?;
        self.call(|e| e.record_return(&id, lines, &ctx))?.try_into()
    }

    /// Places an order and runs `then_json` on it in one write: a counter sale placed,
    /// confirmed and paid at once. `then_json` is a list of order commands in the
    /// core's JSON form (`[{"command": "confirm"}, {"command": "mark_paid"}]`). A
    /// command that fails leaves nothing saved, the placement included; the same
    /// channel order again returns the stored order with `created = false`.
    #[uniffi::method(default(ctx = None))]
    pub fn place_order_then(
        &self,
        order: NewOrder,
        then_json: String,
        ctx: Option<CallContext>,
    ) -> Result<PlacedOrder, OrdersmithError> {
        let new = order.try_into()?;
        let then = follow_ups(&then_json)?;
        let ctx = context(ctx)?;
        let (order, created) = self.call(|e| e.place_order_then(new, then, &ctx))?;
        Ok(PlacedOrder {
            order: order.try_into()?,
            created,
        })
    }

    /// Every event of the order, oldest first: who did what and when ("who cancelled
    /// this line?").
    pub fn order_history(
        &self,
        order_id: String,
    ) -> Result<Vec<OrderEventRecord>, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let records = self.call(|e| e.order_history(&id))?;
        records
            .into_iter()
            .map(|r| {
                let event_json = serde_json::to_string(&r.event)
                    .map_err(|_| OrdersmithError::invalid("event", "could not be serialised"))?;
                Ok(OrderEventRecord {
                    version: r.version,
                    recorded_at: host_time(r.recorded_at),
                    actor: r.actor.to_string(),
                    idempotency_key: r.idempotency_key.map(String::from),
                    event_json,
                })
            })
            .collect()
    }
}
