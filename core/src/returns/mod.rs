//! Returns: the RMA workflow, the return policy, refunds a finance person would sign,
//! exchanges and store credit.
//!
//! # The workflow
//!
//! ```text
//! requested ─┬─ approved ── label_requested ── label_ready ── in_transit ─┐
//!            │     ▲                                                        │
//!            └─ rejected (rule named) ── override (person, reason)          │
//!                                                                           ▼
//!   partially_received / received ── inspected (per unit) ── resolved ── closed
//! ```
//!
//! - **Request**: lines, quantities, a reason code per line from [`ReturnReason`]
//!   (`wrong_size`, `damaged`, `defective`, `not_as_described`, `changed_mind`,
//!   `late_delivery`, `other`), whether opened, and free text. The [`ReturnPolicy`] is
//!   checked at once: approved, or rejected naming the failed rule (`return_window`,
//!   `non_returnable`, `opened_goods`). A person may override a rejection with a reason.
//! - **Label**: an outbox effect (`return.label_requested`) the host performs and
//!   confirms with the carrier and tracking number, like carrier labels for parcels.
//! - **Receipt**: partial receipts allowed; received units are recorded as returned on
//!   the order (`order.return_recorded`).
//! - **Inspection**, per unit: resellable units are restocked into the ledger (a
//!   `return_restock` movement), damaged ones quarantined or written off. Restocked +
//!   quarantined + written off never exceed received.
//! - **Resolution**: a refund through the payment refund path (provider refunds or a
//!   recorded refund, never more than was paid), an exchange (a replacement order,
//!   price differences charged or refunded), or store credit ([`CreditAccount`]).
//!
//! RMAs live in the order aggregate (`Order::rmas`) and change only through order
//! events (`type: "return"`, `step: ...`), like fulfilment orders (ADR 0007): every
//! store persists them with the order, and replaying the order rebuilds them.
//!
//! # Refunds
//!
//! Each returned unit is worth what the customer paid for it after its share of the
//! line's discounts, with its tax, plus (by policy) its share of shipping, minus the
//! restocking fee. Every amount is split per unit with [`crate::money::allocate`], and
//! the k-th unit of a line to be settled gets the k-th share whichever return it comes
//! back in, so returns split over several RMAs add up to the minor unit to returning
//! everything at once: 3 × 10.00 with a 10.00 discount refund 6.67 + 6.67 + 6.66.
//!
//! # Return analytics inputs
//!
//! Plain fields on the RMA events, for the KPI capability:
//!
//! - `return.requested` carries `facts`: per line `line_id`, `variant` (the SKU),
//!   `channel` (the order's), `reason` (code above), `quantity`, and
//!   `days_from_delivery` (whole days from the line's last delivery to the request;
//!   absent when no delivery was recorded). The request time is the event's
//!   `recorded_at`.
//! - `return.rejected` and `return.resolved` carry `outcomes`: per line `line_id`,
//!   `variant`, `channel`, `reason`, `outcome` (`rejected`, `refund`, `exchange`,
//!   `store_credit`) and `quantity` (units asked for a rejection, units received for
//!   a resolution).
//!
//! # Errors
//!
//! | code | when |
//! |---|---|
//! | `RETURNS_UNKNOWN_LINE` | a line the order (or the RMA) does not have |
//! | `RETURNS_NOT_RETURNABLE` | more units than delivered and not yet returned |
//! | `RETURNS_INVALID_REQUEST` | an empty or malformed request |
//! | `RETURNS_INVALID_TEXT` | an empty, over-long or control-character text |
//! | `RETURNS_INVALID_POLICY` | a return window or fee rate out of range |
//! | `RETURNS_UNKNOWN_RMA` | no RMA with this id on the order |
//! | `RETURNS_INVALID_STATE` | the step does not fit where the RMA stands |
//! | `RETURNS_QUANTITY_EXCEEDED` | receiving or inspecting more than is open |
//! | `RETURNS_REFUND_EXCEEDS_PAID` | a refund above what was paid and not refunded |
//! | `RETURNS_NO_CUSTOMER_ACCOUNT` | store credit for an order without a customer id |
//! | `RETURNS_CREDIT_INSUFFICIENT` | spending more store credit than the balance |

mod credit;
mod decide;
mod policy;
mod refund;
mod rma;

pub use credit::{CreditAccount, CreditEntry, CreditEntryKind, MAX_ENTRIES as MAX_CREDIT_ENTRIES};
pub(crate) use decide::awaited;
pub use decide::{
    decide, refundable, returnable, rma, rma_value, Replacement, ResolutionRequest, ReturnCommand,
    ReturnContext, ReturnLineRequest, MAX_LINES, MAX_RMAS, MAX_TEXT,
};
pub use policy::{
    days_between, ExchangeReservation, PolicyFailure, ReturnPolicy, ReturnReason, ShippingPayer,
    VariantReturnPolicy, MAX_WINDOW_DAYS,
};
pub use refund::{refund_for, LineRefund, RefundBreakdown, RefundPolicy};
pub(crate) use rma::apply;
pub use rma::{
    ExchangeLine, InspectionOutcome, RefundLeg, Resolution, ReturnEvent, ReturnLabel,
    ReturnLineFacts, ReturnLineOutcome, Rma, RmaLine, RmaStatus, UnitInspection,
};

use crate::ids::LineId;
use crate::money::{Money, MoneyError};

/// Why a return step or a refund could not be worked out. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum ReturnsError {
    /// A line the order (or the RMA) does not have.
    #[error("line {line_id} is not on the order or the return")]
    UnknownLine {
        /// The line.
        line_id: LineId,
    },
    /// More units than were delivered and not yet returned (including none at all).
    #[error("line {line_id}: {requested} units returned, only {returnable} delivered and not yet returned")]
    NotReturnable {
        /// The line.
        line_id: LineId,
        /// Units asked.
        requested: u32,
        /// Units that may come back.
        returnable: u32,
    },
    /// An empty or malformed request (a restocking fee rate outside 0 to 1, no units).
    #[error("return request is invalid: {reason}")]
    InvalidRequest {
        /// Why.
        reason: &'static str,
    },
    /// A text field is empty, too long or has control characters.
    #[error("{field} is invalid: {reason}")]
    InvalidText {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A return policy with numbers out of range.
    #[error("return policy is invalid: {reason}")]
    InvalidPolicy {
        /// Why.
        reason: &'static str,
    },
    /// No RMA with this id on the order.
    #[error("return {rma} does not exist on this order")]
    UnknownRma {
        /// The id asked for.
        rma: String,
    },
    /// The step does not fit where the RMA stands.
    #[error("return {rma} is {status}: {action} is not possible")]
    InvalidState {
        /// The RMA.
        rma: String,
        /// Where it stands.
        status: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// Receiving or inspecting more units than are open on the RMA.
    #[error(
        "return {rma}, line {line_id}: cannot {action} {requested} units, only {available} open"
    )]
    QuantityExceeded {
        /// The RMA.
        rma: String,
        /// The line.
        line_id: LineId,
        /// `receive` or `inspect`.
        action: &'static str,
        /// Units asked.
        requested: u32,
        /// Units open.
        available: u32,
    },
    /// A refund above what was paid and not yet refunded.
    #[error("refund of {amount} exceeds the {available} paid and not refunded")]
    RefundExceedsPaid {
        /// The refund.
        amount: Money,
        /// What can be refunded.
        available: Money,
    },
    /// Store credit needs the order's customer to have an id.
    #[error("the order's customer has no id: store credit needs a customer account")]
    NoCustomerAccount,
    /// Spending more store credit than the balance.
    #[error("store credit of {requested} exceeds the balance of {available}")]
    CreditInsufficient {
        /// The amount asked.
        requested: Money,
        /// The balance.
        available: Money,
    },
    /// Money arithmetic failed.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A payment step of a refund was refused by the order.
    #[error(transparent)]
    Order(#[from] Box<crate::order::OrderError>),
}

impl ReturnsError {
    /// Every code this enum can return itself.
    pub const CODES: &'static [&'static str] = &[
        "RETURNS_UNKNOWN_LINE",
        "RETURNS_NOT_RETURNABLE",
        "RETURNS_INVALID_REQUEST",
        "RETURNS_INVALID_TEXT",
        "RETURNS_INVALID_POLICY",
        "RETURNS_UNKNOWN_RMA",
        "RETURNS_INVALID_STATE",
        "RETURNS_QUANTITY_EXCEEDED",
        "RETURNS_REFUND_EXCEEDS_PAID",
        "RETURNS_NO_CUSTOMER_ACCOUNT",
        "RETURNS_CREDIT_INSUFFICIENT",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownLine { .. } => "RETURNS_UNKNOWN_LINE",
            Self::NotReturnable { .. } => "RETURNS_NOT_RETURNABLE",
            Self::InvalidRequest { .. } => "RETURNS_INVALID_REQUEST",
            Self::InvalidText { .. } => "RETURNS_INVALID_TEXT",
            Self::InvalidPolicy { .. } => "RETURNS_INVALID_POLICY",
            Self::UnknownRma { .. } => "RETURNS_UNKNOWN_RMA",
            Self::InvalidState { .. } => "RETURNS_INVALID_STATE",
            Self::QuantityExceeded { .. } => "RETURNS_QUANTITY_EXCEEDED",
            Self::RefundExceedsPaid { .. } => "RETURNS_REFUND_EXCEEDS_PAID",
            Self::NoCustomerAccount => "RETURNS_NO_CUSTOMER_ACCOUNT",
            Self::CreditInsufficient { .. } => "RETURNS_CREDIT_INSUFFICIENT",
            Self::Money(e) => e.code(),
            Self::Order(e) => e.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_docs_list_every_code() {
        let docs = include_str!("mod.rs");
        for code in ReturnsError::CODES {
            assert!(
                docs.contains(&format!("| `{code}` |")),
                "{code} is not documented"
            );
        }
    }
}
