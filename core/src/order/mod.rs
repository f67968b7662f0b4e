//! The order aggregate: the canonical order and its state machine.
//!
//! An order has three separate dimensions, as in Shopify, Medusa and Saleor:
//!
//! - **order status** ([`OrderStatus`]): the lifecycle below, driven by commands;
//! - **payment status** ([`PaymentStatus`]): derived from payments and refunds recorded
//!   against the derived total;
//! - **fulfilment** ([`LineQuantities`] per line: ordered, cancelled, allocated, shipped,
//!   delivered, returned), from which [`FulfilmentStatus`] is derived.
//!
//! Commands go in, events come out, and the order is the fold of its events:
//! [`decide`] is pure and returns events or a typed [`OrderError`]; [`Order::apply`] is
//! the only place state changes. Totals are derived from the lines, never stored.
//!
//! # Transition table
//!
//! Every legal (status, command) pair; any other pair is refused with
//! [`OrderError::InvalidTransition`] naming both. The table is the data in
//! [`TRANSITIONS`]; a test checks this text matches it.
//!
//! | from | command | to |
//! |---|---|---|
//! | (new) | place | pending |
//! | pending | confirm | confirmed |
//! | pending | hold | on_hold |
//! | pending | cancel | cancelled |
//! | pending | cancel_lines | (same, or cancelled if nothing remains) |
//! | pending | edit_lines | (same) |
//! | pending | record_payment | (same) |
//! | pending | record_refund | (same) |
//! | pending | tag | (same) |
//! | pending | add_note | (same) |
//! | pending | pay | (same) |
//! | confirmed | hold | on_hold |
//! | confirmed | cancel | cancelled |
//! | confirmed | cancel_lines | (same, or cancelled if nothing remains) |
//! | confirmed | edit_lines | (same) |
//! | confirmed | record_payment | (same) |
//! | confirmed | record_refund | (same) |
//! | confirmed | record_shipment | processing |
//! | confirmed | tag | (same) |
//! | confirmed | add_note | (same) |
//! | confirmed | fulfil | (same, or processing once a parcel is handed over) |
//! | confirmed | pay | (same) |
//! | on_hold | release_hold | (status before the hold) |
//! | on_hold | cancel | cancelled |
//! | on_hold | cancel_lines | (same, or cancelled if nothing remains) |
//! | on_hold | edit_lines | (same) |
//! | on_hold | record_payment | (same) |
//! | on_hold | record_refund | (same) |
//! | on_hold | tag | (same) |
//! | on_hold | add_note | (same) |
//! | on_hold | pay | (same) |
//! | processing | hold | on_hold |
//! | processing | cancel_lines | (same, or cancelled if nothing remains) |
//! | processing | record_payment | (same) |
//! | processing | record_refund | (same) |
//! | processing | record_shipment | (same) |
//! | processing | record_delivery | (same) |
//! | processing | record_return | (same) |
//! | processing | complete | completed |
//! | processing | tag | (same) |
//! | processing | add_note | (same) |
//! | processing | fulfil | (same) |
//! | processing | pay | (same) |
//! | completed | record_payment | (same) |
//! | completed | record_refund | (same) |
//! | completed | record_delivery | (same) |
//! | completed | record_return | (same) |
//! | completed | tag | (same) |
//! | completed | add_note | (same) |
//! | completed | fulfil | (same) |
//! | completed | pay | (same) |
//! | cancelled | record_refund | (same) |
//! | cancelled | tag | (same) |
//! | cancelled | add_note | (same) |
//! | cancelled | pay | (same) |
//!
//! Guards on top of the table: `cancel` needs nothing shipped; `edit_lines` only touches
//! lines with nothing shipped and may not leave the order empty; `complete` needs every
//! active unit shipped; payments may not exceed the balance due and refunds may not
//! exceed what was paid; quantities never exceed what a line has open.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ordersmith::ids::{ChannelId, OrderId, VariantId};
//! use ordersmith::money::{Currency, Money};
//! use ordersmith::order::{decide, place, NewLine, NewOrder, Order, OrderCommand, OrderEvent, OrderStatus};
//!
//! let try_ = Currency::parse("TRY")?;
//! let new = NewOrder::new(
//!     ChannelId::parse("web")?,
//!     Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
//!     try_,
//!     vec![NewLine::new(VariantId::parse("MUG")?, 2, Money::parse("150", try_)?)],
//! );
//! let OrderEvent::Placed(placed) = place(&new)? else { unreachable!() };
//! let mut order = Order::from_placed(OrderId::parse("o-1")?, &placed);
//! for event in decide(&order, &OrderCommand::Confirm)? {
//!     order.apply(&event);
//! }
//! assert_eq!(order.status, OrderStatus::Confirmed);
//! assert_eq!(order.totals()?.total, Money::parse("300", try_)?);
//! let err = decide(&order, &OrderCommand::Confirm).unwrap_err();
//! assert_eq!(err.code(), "ORDER_INVALID_TRANSITION");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod command;
mod error;
mod event;
mod fulfil;
mod input;
// Orders as JSON lines, read straight from bytes (issue 9, goal 6).
mod jsonl;
mod machine;
mod model;
mod pay;

pub use command::{
    FulfilmentCommand, LineEdit, LineQuantity, NewLine, NewOrder, OrderCommand, OrderCommandKind,
    PaymentCommand,
};
pub use error::OrderError;
pub use event::{
    Actor, EventRecordRef, FulfilmentClosure, LabelRequest, OrderEvent, OrderEventRecord,
    ParcelIdentity, ParcelTracking, PlacedOrder, ProviderFailure, ProviderOutcome,
};
pub(crate) use fulfil::to_pick;
pub use input::{
    aware_time, lenient_decimal, DiscountInput, LineEditInput, LineInput, OrderInput,
    ShippingInput, TaxInput, NAIVE_TIME_REFUSED,
};
pub use jsonl::{json_lines, JsonLineError, JsonLines, MAX_JSON_LINE_BYTES};
pub use machine::{
    decide, place, place_owned, transition, transition_table_markdown, Target, TRANSITIONS,
};
pub(crate) use machine::{decide_into, place_taking, placed_owned};
pub(crate) use model::tax_on;
pub use model::{
    Allocation, CancelReason, Discount, FulfilmentStatus, Hold, HoldReason, LineAmounts,
    LineQuantities, Order, OrderLine, OrderLines, OrderStatus, OrderTotals, PaymentStatus,
    ShippingLine, TaxLine,
};

/// Limits on order input: a limit on everything, so no input can grow without bound.
pub mod limits {
    /// Lines per order.
    pub const MAX_LINES: usize = 500;
    /// Units per line.
    pub const MAX_QUANTITY: u32 = 1_000_000;
    /// Largest unit price, discount, shipping price or payment (in major units).
    pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
    /// Tax lines per line or shipping line; also shipping lines per order.
    pub const MAX_TAX_LINES: usize = 8;
    /// Discounts per line.
    pub const MAX_DISCOUNTS: usize = 16;
    /// Tags per order.
    pub const MAX_TAGS: usize = 64;
    /// Notes per order.
    pub const MAX_NOTES: usize = 256;
    /// Characters in a tag, code, name or reference.
    pub const MAX_SHORT_TEXT: usize = 128;
    /// Characters in a note or title.
    pub const MAX_LONG_TEXT: usize = 2_000;
    /// Longest reservation time-to-live an order may ask for: 30 days.
    pub const MAX_RESERVATION_TTL_MINUTES: u32 = 30 * 24 * 60;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_docs_show_the_transition_table() {
        let source = include_str!("mod.rs");
        let documented: String = transition_table_markdown()
            .lines()
            .map(|l| format!("//! {l}\n"))
            .collect();
        assert!(
            source.contains(&documented),
            "the table in order/mod.rs docs is out of date; it should read:\n{documented}"
        );
    }
}
