//! Errors of the order aggregate.

use rust_decimal::Decimal;

use crate::ids::{IdError, LineId, OrderId};
use crate::money::{Currency, Money, MoneyError};

use super::command::OrderCommandKind;
use super::model::OrderStatus;

/// Why an order command was refused. The order is unchanged whenever one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum OrderError {
    /// The transition table has no row for this (status, command) pair.
    #[error("cannot {command} an order that is {status}")]
    InvalidTransition {
        /// The order's status.
        status: OrderStatus,
        /// The refused command.
        command: OrderCommandKind,
    },
    /// No order has this id.
    #[error("order {order_id} not found")]
    NotFound {
        /// The id asked for.
        order_id: OrderId,
    },
    /// `place` was given an id that already exists.
    #[error("order {order_id} already exists")]
    AlreadyExists {
        /// The id.
        order_id: OrderId,
    },
    /// An order needs at least one line.
    #[error("an order needs at least one line")]
    NoLines,
    /// A command had nothing in it (no lines, no edits, no tags).
    #[error("{command} needs at least one item")]
    EmptyCommand {
        /// The command.
        command: OrderCommandKind,
    },
    /// Too many of something (lines, tags, discounts, tax lines).
    #[error("too many {what}: {count}, at most {max}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A quantity was zero or above the limit.
    #[error("quantity {quantity} is invalid: expected 1 to {max}")]
    InvalidQuantity {
        /// The quantity given.
        quantity: u32,
        /// The limit.
        max: u32,
    },
    /// An amount was not in the order's currency.
    #[error("amount in {found} on an order in {expected}")]
    CurrencyMismatch {
        /// The order's currency.
        expected: Currency,
        /// The amount's currency.
        found: Currency,
    },
    /// A price, discount or payment amount was negative, zero where it must be positive,
    /// or beyond the limit.
    #[error("{field} amount {amount} is invalid: {reason}")]
    InvalidAmount {
        /// Which field.
        field: &'static str,
        /// The amount given.
        amount: Decimal,
        /// Why.
        reason: &'static str,
    },
    /// A line's discounts exceed its subtotal.
    #[error("discounts {discount} exceed the subtotal {subtotal} of line {line}")]
    DiscountExceedsLine {
        /// The line (or `new` for a line being added).
        line: String,
        /// Sum of discounts.
        discount: Money,
        /// Unit price × quantity.
        subtotal: Money,
    },
    /// A tax rate outside 0 to 1 (0 % to 100 %).
    #[error("tax rate {rate} is invalid: expected a fraction from 0 to 1 (0.20 for 20%)")]
    InvalidTaxRate {
        /// The rate given.
        rate: Decimal,
    },
    /// A line id that is not on the order.
    #[error("line {line_id} is not on the order")]
    UnknownLine {
        /// The id given.
        line_id: LineId,
    },
    /// The same line appears twice in one command.
    #[error("line {line_id} appears more than once in the command")]
    DuplicateLine {
        /// The id given twice.
        line_id: LineId,
    },
    /// More units than a line has available for the operation.
    #[error("line {line_id}: cannot {operation} {requested} units, only {available} can be")]
    QuantityExceeded {
        /// The line.
        line_id: LineId,
        /// What was attempted (`cancel`, `ship`, `deliver`, `return`).
        operation: &'static str,
        /// Units asked for.
        requested: u32,
        /// Units possible.
        available: u32,
    },
    /// An edit touched a line that has already shipped.
    #[error("line {line_id} has shipped units and cannot be edited")]
    LineAlreadyShipped {
        /// The line.
        line_id: LineId,
    },
    /// Units of a line are picked (on a trolley or in a parcel) in an open fulfilment
    /// order: they leave with it, or go back to the shelf when it is cancelled, before
    /// the line is cancelled or edited below them (the stock ledger would otherwise lose
    /// track of the units in hand).
    #[error(
        "line {line_id}: {in_hand} units are picked in fulfilment order {fulfilment}; hand them over, or cancel the fulfilment order to put them back, before cancelling or removing them"
    )]
    LineInFulfilment {
        /// The line.
        line_id: LineId,
        /// Units picked and not yet handed over, across the order's open fulfilment orders.
        in_hand: u32,
        /// The first open fulfilment order holding some of them.
        fulfilment: String,
    },
    /// The whole order cannot be cancelled because something shipped; cancel lines instead.
    #[error("the order has shipped units; cancel the remaining lines instead")]
    AlreadyShipped,
    /// An edit would leave no active line; cancel the order instead.
    #[error("the edit would leave the order without lines; cancel it instead")]
    EditEmptiesOrder,
    /// `complete` before every active unit shipped.
    #[error("{unshipped} units have not shipped yet")]
    NotFullyShipped {
        /// Active units not shipped.
        unshipped: u64,
    },
    /// A payment larger than the balance due.
    #[error("payment {amount} exceeds the balance due {balance_due}")]
    Overpayment {
        /// Payment amount.
        amount: Money,
        /// Balance due.
        balance_due: Money,
    },
    /// A refund larger than what was paid and not yet refunded.
    #[error("refund {amount} exceeds the refundable {refundable}")]
    RefundExceedsPaid {
        /// Refund amount.
        amount: Money,
        /// Paid − refunded.
        refundable: Money,
    },
    /// A text field (tag, note, title, reference) was empty or too long.
    #[error("{field} is invalid: {reason}")]
    InvalidText {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A reservation time-to-live was zero or above the limit.
    #[error("reservation_ttl_minutes {minutes} is invalid: expected 1 to {max}")]
    InvalidReservationTtl {
        /// The minutes given.
        minutes: u32,
        /// The limit.
        max: u32,
    },
    /// A fulfilment step was refused.
    #[error(transparent)]
    Fulfilment(#[from] crate::fulfilment::FulfilmentError),
    /// A payment step was refused.
    #[error(transparent)]
    Payment(#[from] crate::payment::PaymentError),
    /// A tracking number or SSCC failed its check.
    #[error(transparent)]
    Ident(#[from] crate::fulfilment::IdentError),
    /// A shipping calendar could not answer (no working day ahead, bad transit days).
    #[error(transparent)]
    Calendar(#[from] crate::fulfilment::CalendarError),
    /// An id inside the command was invalid.
    #[error(transparent)]
    Id(#[from] IdError),
    /// Money arithmetic failed.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A line of JSON lines is not an order (see [`super::json_lines`]).
    #[error(transparent)]
    JsonLine(#[from] super::jsonl::JsonLineError),
}

impl OrderError {
    /// Every code this enum can return itself (wrapped id and money errors keep their codes).
    pub const CODES: &'static [&'static str] = &[
        "ORDER_INVALID_TRANSITION",
        "ORDER_NOT_FOUND",
        "ORDER_ALREADY_EXISTS",
        "ORDER_NO_LINES",
        "ORDER_EMPTY_COMMAND",
        "ORDER_TOO_MANY",
        "ORDER_INVALID_QUANTITY",
        "ORDER_CURRENCY_MISMATCH",
        "ORDER_INVALID_AMOUNT",
        "ORDER_DISCOUNT_EXCEEDS_LINE",
        "ORDER_INVALID_TAX_RATE",
        "ORDER_UNKNOWN_LINE",
        "ORDER_DUPLICATE_LINE",
        "ORDER_QUANTITY_EXCEEDED",
        "ORDER_LINE_ALREADY_SHIPPED",
        "ORDER_LINE_IN_FULFILMENT",
        "ORDER_ALREADY_SHIPPED",
        "ORDER_EDIT_EMPTIES_ORDER",
        "ORDER_NOT_FULLY_SHIPPED",
        "ORDER_OVERPAYMENT",
        "ORDER_REFUND_EXCEEDS_PAID",
        "ORDER_INVALID_TEXT",
        "ORDER_INVALID_RESERVATION_TTL",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidTransition { .. } => "ORDER_INVALID_TRANSITION",
            Self::NotFound { .. } => "ORDER_NOT_FOUND",
            Self::AlreadyExists { .. } => "ORDER_ALREADY_EXISTS",
            Self::NoLines => "ORDER_NO_LINES",
            Self::EmptyCommand { .. } => "ORDER_EMPTY_COMMAND",
            Self::TooMany { .. } => "ORDER_TOO_MANY",
            Self::InvalidQuantity { .. } => "ORDER_INVALID_QUANTITY",
            Self::CurrencyMismatch { .. } => "ORDER_CURRENCY_MISMATCH",
            Self::InvalidAmount { .. } => "ORDER_INVALID_AMOUNT",
            Self::DiscountExceedsLine { .. } => "ORDER_DISCOUNT_EXCEEDS_LINE",
            Self::InvalidTaxRate { .. } => "ORDER_INVALID_TAX_RATE",
            Self::UnknownLine { .. } => "ORDER_UNKNOWN_LINE",
            Self::DuplicateLine { .. } => "ORDER_DUPLICATE_LINE",
            Self::QuantityExceeded { .. } => "ORDER_QUANTITY_EXCEEDED",
            Self::LineAlreadyShipped { .. } => "ORDER_LINE_ALREADY_SHIPPED",
            Self::LineInFulfilment { .. } => "ORDER_LINE_IN_FULFILMENT",
            Self::AlreadyShipped => "ORDER_ALREADY_SHIPPED",
            Self::EditEmptiesOrder => "ORDER_EDIT_EMPTIES_ORDER",
            Self::NotFullyShipped { .. } => "ORDER_NOT_FULLY_SHIPPED",
            Self::Overpayment { .. } => "ORDER_OVERPAYMENT",
            Self::RefundExceedsPaid { .. } => "ORDER_REFUND_EXCEEDS_PAID",
            Self::InvalidText { .. } => "ORDER_INVALID_TEXT",
            Self::InvalidReservationTtl { .. } => "ORDER_INVALID_RESERVATION_TTL",
            Self::Fulfilment(e) => e.code(),
            Self::Ident(e) => e.code(),
            Self::Payment(e) => e.code(),
            Self::Calendar(e) => e.code(),
            Self::Id(e) => e.code(),
            Self::Money(e) => e.code(),
            Self::JsonLine(e) => e.code(),
        }
    }
}
