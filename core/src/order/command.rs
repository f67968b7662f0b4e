//! Commands: what a caller asks of an order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fulfilment::{Label, ParcelSize};
use crate::ids::{ChannelId, LineId, LocationId, OrderId, VariantId};
use crate::money::{Currency, Money};
use crate::pii::{Address, Customer};

use super::model::{CancelReason, Discount, HoldReason, ShippingLine, TaxLine};

/// A line of a new order, or a line added by an edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLine {
    /// The variant sold.
    pub variant: VariantId,
    /// Units ordered (1 to [`super::limits::MAX_QUANTITY`]).
    pub quantity: u32,
    /// Price of one unit before discounts, in the order's currency.
    pub unit_price: Money,
    /// Product title as the customer saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The channel's own line id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    /// Discounts (each a total for the line).
    #[serde(default)]
    pub discounts: Vec<Discount>,
    /// Taxes.
    #[serde(default)]
    pub tax_lines: Vec<TaxLine>,
}

impl NewLine {
    /// A plain line: variant, quantity and unit price.
    pub fn new(variant: VariantId, quantity: u32, unit_price: Money) -> Self {
        NewLine {
            variant,
            quantity,
            unit_price,
            title: None,
            external_ref: None,
            discounts: Vec::new(),
            tax_lines: Vec::new(),
        }
    }

    /// Adds a tax line.
    pub fn with_tax(mut self, name: &str, rate: rust_decimal::Decimal) -> Self {
        self.tax_lines.push(TaxLine {
            name: name.to_string(),
            rate,
        });
        self
    }

    /// Adds a discount.
    pub fn with_discount(mut self, code: Option<&str>, amount: Money) -> Self {
        self.discounts.push(Discount {
            code: code.map(str::to_string),
            amount,
        });
        self
    }

    /// Sets the title.
    pub fn with_title(mut self, title: &str) -> Self {
        self.title = Some(title.to_string());
        self
    }
}

/// Everything needed to place an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    /// Channel it came from.
    pub channel: ChannelId,
    /// The channel's reference. Placing the same (channel, reference) twice with the same
    /// content returns the first order; with different content it is a conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    /// When the customer placed it (read as RFC 3339 with an offset).
    #[serde(
        deserialize_with = "super::input::aware_time",
        serialize_with = "crate::timefmt::utc"
    )]
    pub placed_at: DateTime<Utc>,
    /// The order's currency; every amount must be in it.
    pub currency: Currency,
    /// Whether unit prices include tax.
    #[serde(default)]
    pub taxes_included: bool,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Shipping address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// Billing address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Lines (at least one).
    pub lines: Vec<NewLine>,
    /// Shipping charges.
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A first note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How long the order's reservations hold while it is unpaid, in minutes (1 to
    /// [`super::limits::MAX_RESERVATION_TTL_MINUTES`]); overrides the engine's and the
    /// channel's time-to-live. `None` uses theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_ttl_minutes: Option<u32>,
    /// Channels the customer asked not to be messaged on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notification_opt_outs: Vec<crate::notify::NotificationChannel>,
}

impl NewOrder {
    /// A minimal order: channel, time, currency and lines; the rest empty.
    pub fn new(
        channel: ChannelId,
        placed_at: DateTime<Utc>,
        currency: Currency,
        lines: Vec<NewLine>,
    ) -> Self {
        NewOrder {
            channel,
            external_ref: None,
            placed_at,
            currency,
            taxes_included: false,
            customer: None,
            shipping_address: None,
            billing_address: None,
            lines,
            shipping_lines: Vec::new(),
            tags: Vec::new(),
            note: None,
            reservation_ttl_minutes: None,
            notification_opt_outs: Vec::new(),
        }
    }
}

/// A quantity of one line, for cancelling, shipping, delivering or returning part of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineQuantity {
    /// The line.
    pub line_id: LineId,
    /// Units (at least 1).
    pub quantity: u32,
}

impl LineQuantity {
    /// `quantity` units of `line_id`.
    pub fn new(line_id: LineId, quantity: u32) -> Self {
        LineQuantity { line_id, quantity }
    }
}

/// One change in an order edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LineEdit {
    /// Add a line.
    Add {
        /// The new line.
        line: NewLine,
    },
    /// Remove a line that has not shipped.
    Remove {
        /// The line.
        line_id: LineId,
    },
    /// Change the ordered quantity of a line that has not shipped.
    SetQuantity {
        /// The line.
        line_id: LineId,
        /// The new ordered quantity (above the cancelled quantity).
        quantity: u32,
    },
}

/// A command on an order. Its [`OrderCommandKind`] is what the transition table keys on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum OrderCommand {
    /// Create the order (only for an id that does not exist yet).
    Place {
        /// The id the engine assigned.
        order_id: OrderId,
        /// The order.
        order: Box<NewOrder>,
    },
    /// Accept the order.
    Confirm,
    /// Put the order on hold.
    Hold {
        /// Why.
        reason: HoldReason,
        /// Free text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Release the hold, back to the status before it.
    ReleaseHold,
    /// Cancel the whole order (nothing may have shipped).
    Cancel {
        /// Why.
        reason: CancelReason,
    },
    /// Cancel some units of some lines; cancelling everything cancels the order.
    CancelLines {
        /// Which units.
        lines: Vec<LineQuantity>,
        /// Why.
        reason: CancelReason,
    },
    /// Add, remove or re-quantify lines before they ship.
    EditLines {
        /// The changes, applied in order.
        edits: Vec<LineEdit>,
    },
    /// Record a payment received.
    RecordPayment {
        /// Amount (positive, at most the balance due).
        amount: Money,
    },
    /// Record payment of the whole balance due, whatever it is when the command runs
    /// (its row in the transition table is `record_payment`'s).
    MarkPaid,
    /// Record a refund paid out.
    RecordRefund {
        /// Amount (positive, at most paid − refunded).
        amount: Money,
    },
    /// Record units shipped.
    RecordShipment {
        /// Which units.
        lines: Vec<LineQuantity>,
    },
    /// Record units delivered.
    RecordDelivery {
        /// Which units.
        lines: Vec<LineQuantity>,
    },
    /// Record units returned by the customer.
    RecordReturn {
        /// Which units.
        lines: Vec<LineQuantity>,
    },
    /// Close a fully shipped order.
    Complete,
    /// Add and remove tags.
    Tag {
        /// Tags to add.
        #[serde(default)]
        add: Vec<String>,
        /// Tags to remove.
        #[serde(default)]
        remove: Vec<String>,
    },
    /// Add a staff note.
    AddNote {
        /// The note.
        note: String,
    },
    /// A step of the warehouse flow on one fulfilment order.
    Fulfil(FulfilmentCommand),
    /// A payment step through a provider.
    Pay(PaymentCommand),
}

/// A payment step: requests leave as outbox effects the host performs with its
/// provider; confirmations report what the provider did (idempotent by the
/// provider's reference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PaymentCommand {
    /// Ask the provider to authorise `amount` (at most the balance due).
    Authorise {
        /// The provider.
        provider: String,
        /// How the customer pays, if known.
        #[serde(default)]
        method: Option<String>,
        /// The amount.
        amount: Money,
    },
    /// The provider authorised (up to what was asked).
    ConfirmAuthorisation {
        /// The payment.
        payment: String,
        /// The provider's reference.
        provider_ref: String,
        /// The amount authorised.
        amount: Money,
    },
    /// The provider refused the authorisation.
    FailAuthorisation {
        /// The payment.
        payment: String,
        /// Why, in the provider's words.
        reason: String,
    },
    /// Ask the provider to capture `amount` of the authorisation.
    Capture {
        /// The payment.
        payment: String,
        /// The amount.
        amount: Money,
    },
    /// The provider captured.
    ConfirmCapture {
        /// The payment.
        payment: String,
        /// The provider's reference.
        provider_ref: String,
        /// The amount captured.
        amount: Money,
    },
    /// Void an authorisation nothing was captured from.
    Void {
        /// The payment.
        payment: String,
    },
    /// Ask the provider to refund `amount` of what was captured.
    Refund {
        /// The payment.
        payment: String,
        /// The amount.
        amount: Money,
    },
    /// The provider refunded.
    ConfirmRefund {
        /// The payment.
        payment: String,
        /// The provider's reference.
        provider_ref: String,
        /// The amount refunded.
        amount: Money,
    },
    /// The provider refused the captures asked of it, or will settle no more of them
    /// (a capture confirmed for less than asked): what is still pending is released, so
    /// it can be captured again or the order paid another way.
    FailCapture {
        /// The payment.
        payment: String,
        /// Why, in the provider's words.
        reason: String,
    },
    /// The provider refused the refunds asked of it, or will settle no more of them (a
    /// refund confirmed for less than asked): what is still pending is released, so the
    /// money can be given back again, through the provider or another way.
    FailRefund {
        /// The payment.
        payment: String,
        /// Why, in the provider's words.
        reason: String,
    },
}

/// A step of the warehouse flow on one fulfilment order of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum FulfilmentCommand {
    /// Units picked, and units the picker could not find (handled by the engine's
    /// short-pick policy).
    Pick {
        /// The fulfilment order.
        fulfilment: String,
        /// Units found and picked.
        #[serde(default)]
        picked: Vec<LineQuantity>,
        /// Units not found.
        #[serde(default)]
        short: Vec<LineQuantity>,
    },
    /// Picked units put into one parcel.
    Pack {
        /// The fulfilment order.
        fulfilment: String,
        /// Units per line in the parcel.
        units: Vec<LineQuantity>,
        /// Weight and dimensions.
        size: ParcelSize,
    },
    /// Ask the host for a label (an outbox effect).
    RequestLabel {
        /// The fulfilment order.
        fulfilment: String,
        /// The parcel.
        parcel: String,
        /// The carrier service wanted.
        service: String,
    },
    /// The label the host bought.
    RecordLabel {
        /// The fulfilment order.
        fulfilment: String,
        /// The parcel.
        parcel: String,
        /// The label.
        label: Label,
    },
    /// The carrier took the parcel: its units are sold and shipped.
    HandOver {
        /// The fulfilment order.
        fulfilment: String,
        /// The parcel.
        parcel: String,
    },
    /// Stop work on a fulfilment order.
    Hold {
        /// The fulfilment order.
        fulfilment: String,
        /// Why.
        reason: String,
    },
    /// Resume work on a held fulfilment order.
    Release {
        /// The fulfilment order.
        fulfilment: String,
    },
    /// Ship an unpicked fulfilment order from another location instead (its units are
    /// released here and reserved there in the same change).
    Move {
        /// The fulfilment order.
        fulfilment: String,
        /// The new location.
        to: LocationId,
    },
    /// A carrier's event for a parcel, with its code already mapped (the engine maps
    /// it with its carrier table: [`crate::engine::Engine::record_tracking_event`]).
    Track {
        /// The fulfilment order.
        fulfilment: String,
        /// The parcel.
        parcel: String,
        /// The event as the carrier reported it.
        event: crate::fulfilment::CarrierEvent,
        /// What its code means.
        mapped: crate::fulfilment::MappedStatus,
    },
    /// Cancel what a fulfilment order has not shipped: its units are cancelled on the
    /// order and their reservations released; picked units go back to the shelf.
    Cancel {
        /// The fulfilment order.
        fulfilment: String,
        /// Why.
        reason: CancelReason,
    },
}

impl FulfilmentCommand {
    /// The fulfilment order the step is for.
    pub fn fulfilment(&self) -> &str {
        match self {
            Self::Pick { fulfilment, .. }
            | Self::Pack { fulfilment, .. }
            | Self::RequestLabel { fulfilment, .. }
            | Self::RecordLabel { fulfilment, .. }
            | Self::HandOver { fulfilment, .. }
            | Self::Hold { fulfilment, .. }
            | Self::Release { fulfilment }
            | Self::Move { fulfilment, .. }
            | Self::Track { fulfilment, .. }
            | Self::Cancel { fulfilment, .. } => fulfilment,
        }
    }
}

/// The kind of an [`OrderCommand`], without its data: the column of the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderCommandKind {
    /// [`OrderCommand::Place`].
    Place,
    /// [`OrderCommand::Confirm`].
    Confirm,
    /// [`OrderCommand::Hold`].
    Hold,
    /// [`OrderCommand::ReleaseHold`].
    ReleaseHold,
    /// [`OrderCommand::Cancel`].
    Cancel,
    /// [`OrderCommand::CancelLines`].
    CancelLines,
    /// [`OrderCommand::EditLines`].
    EditLines,
    /// [`OrderCommand::RecordPayment`].
    RecordPayment,
    /// [`OrderCommand::RecordRefund`].
    RecordRefund,
    /// [`OrderCommand::RecordShipment`].
    RecordShipment,
    /// [`OrderCommand::RecordDelivery`].
    RecordDelivery,
    /// [`OrderCommand::RecordReturn`].
    RecordReturn,
    /// [`OrderCommand::Complete`].
    Complete,
    /// [`OrderCommand::Tag`].
    Tag,
    /// [`OrderCommand::AddNote`].
    AddNote,
    /// [`OrderCommand::Fulfil`].
    Fulfil,
    /// [`OrderCommand::Pay`].
    Pay,
}

impl OrderCommandKind {
    /// Every kind, in table order.
    pub const ALL: [OrderCommandKind; 17] = [
        OrderCommandKind::Place,
        OrderCommandKind::Confirm,
        OrderCommandKind::Hold,
        OrderCommandKind::ReleaseHold,
        OrderCommandKind::Cancel,
        OrderCommandKind::CancelLines,
        OrderCommandKind::EditLines,
        OrderCommandKind::RecordPayment,
        OrderCommandKind::RecordRefund,
        OrderCommandKind::RecordShipment,
        OrderCommandKind::RecordDelivery,
        OrderCommandKind::RecordReturn,
        OrderCommandKind::Complete,
        OrderCommandKind::Tag,
        OrderCommandKind::AddNote,
        OrderCommandKind::Fulfil,
        OrderCommandKind::Pay,
    ];

    /// The snake_case name used in JSON and in the transition table.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderCommandKind::Place => "place",
            OrderCommandKind::Confirm => "confirm",
            OrderCommandKind::Hold => "hold",
            OrderCommandKind::ReleaseHold => "release_hold",
            OrderCommandKind::Cancel => "cancel",
            OrderCommandKind::CancelLines => "cancel_lines",
            OrderCommandKind::EditLines => "edit_lines",
            OrderCommandKind::RecordPayment => "record_payment",
            OrderCommandKind::RecordRefund => "record_refund",
            OrderCommandKind::RecordShipment => "record_shipment",
            OrderCommandKind::RecordDelivery => "record_delivery",
            OrderCommandKind::RecordReturn => "record_return",
            OrderCommandKind::Complete => "complete",
            OrderCommandKind::Tag => "tag",
            OrderCommandKind::AddNote => "add_note",
            OrderCommandKind::Fulfil => "fulfil",
            OrderCommandKind::Pay => "pay",
        }
    }
}

impl std::fmt::Display for OrderCommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl OrderCommand {
    /// Whether the command usually moves the order's stock (reserves, releases or
    /// commits its reservations): the engine then reads the stock log with the order
    /// when the store can do both at once. Only a hint: a command left out reads the
    /// log when it first needs it, one named here that moves nothing only read early.
    pub(crate) fn moves_stock(&self) -> bool {
        matches!(
            self,
            OrderCommand::Confirm
                | OrderCommand::ReleaseHold
                | OrderCommand::Cancel { .. }
                | OrderCommand::CancelLines { .. }
                | OrderCommand::EditLines { .. }
                | OrderCommand::RecordShipment { .. }
                | OrderCommand::Fulfil(_)
        )
    }

    /// The command's kind.
    pub fn kind(&self) -> OrderCommandKind {
        match self {
            OrderCommand::Place { .. } => OrderCommandKind::Place,
            OrderCommand::Confirm => OrderCommandKind::Confirm,
            OrderCommand::Hold { .. } => OrderCommandKind::Hold,
            OrderCommand::ReleaseHold => OrderCommandKind::ReleaseHold,
            OrderCommand::Cancel { .. } => OrderCommandKind::Cancel,
            OrderCommand::CancelLines { .. } => OrderCommandKind::CancelLines,
            OrderCommand::EditLines { .. } => OrderCommandKind::EditLines,
            OrderCommand::RecordPayment { .. } | OrderCommand::MarkPaid => {
                OrderCommandKind::RecordPayment
            }
            OrderCommand::RecordRefund { .. } => OrderCommandKind::RecordRefund,
            OrderCommand::RecordShipment { .. } => OrderCommandKind::RecordShipment,
            OrderCommand::RecordDelivery { .. } => OrderCommandKind::RecordDelivery,
            OrderCommand::RecordReturn { .. } => OrderCommandKind::RecordReturn,
            OrderCommand::Complete => OrderCommandKind::Complete,
            OrderCommand::Tag { .. } => OrderCommandKind::Tag,
            OrderCommand::AddNote { .. } => OrderCommandKind::AddNote,
            OrderCommand::Fulfil(_) => OrderCommandKind::Fulfil,
            OrderCommand::Pay(_) => OrderCommandKind::Pay,
        }
    }
}
