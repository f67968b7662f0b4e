//! What intake tells the host: options in, reports out.

use ordersmith::ids::{LineId, OrderId};
use ordersmith::order::Order;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{ChannelEvent, DiscountBasis, TotalMismatch};

/// Intake switches.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IntakeOptions {
    /// Import orders the channel marks as tests (Shopify `test`).
    pub import_test_orders: bool,
    /// Import orders the marketplace ships from its own stock (Amazon AFN).
    pub import_marketplace_fulfilled: bool,
}

/// What happened to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    /// A new order.
    Created,
    /// An existing order was brought up to the channel's state.
    Updated,
    /// Already up to date: nothing changed.
    Unchanged,
    /// Older than what was applied: ignored.
    Stale,
    /// A test order, not imported.
    SkippedTest,
    /// Fulfilled by the marketplace, not imported.
    SkippedMarketplaceFulfilled,
    /// Not placed (yet): the channel has not priced some of its lines
    /// ([`crate::ChannelLine::unpriced`]: Amazon gives no prices while an order is
    /// `Pending`), listed in [`ImportReport::unpriced`]. Nothing was changed or
    /// recorded: the first delivery that prices every line places the order; one
    /// cancelled before that is never placed. See [`crate::intake`] for what this
    /// means for stock.
    Unpriced,
}

/// A step the state machine refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepFailure {
    /// The step (`confirm`, `ship`, ...).
    pub step: String,
    /// The error code.
    pub code: String,
    /// The message.
    pub message: String,
}

/// The result of one import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// What happened.
    pub outcome: ImportOutcome,
    /// The channel id and external id: the dedupe key.
    pub dedupe_key: (String, String),
    /// The order, when imported.
    pub order: Option<Order>,
    /// Steps applied, in order (`place`, `hold:unmapped_sku`, `confirm`, `ship L1×2`, ...).
    pub applied: Vec<String>,
    /// Steps refused.
    pub failed: Vec<StepFailure>,
    /// External SKUs (or other identifiers) that mapped to no variant.
    pub unmapped: Vec<String>,
    /// Where the payload's own figures disagree with its lines.
    pub mismatches: Vec<TotalMismatch>,
    /// How the payload's ambiguous line discounts were read (Trendyol; see
    /// [`DiscountBasis`]): `unreconciled` means neither reading matched its totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_basis: Option<DiscountBasis>,
    /// The canonical order's total minus the payload's total, when they differ
    /// (`Decimal::MAX` or `Decimal::MIN` when the difference is beyond a decimal).
    pub total_difference: Option<Decimal>,
    /// Refunds, claims and returns not reported before.
    pub new_events: Vec<ChannelEvent>,
    /// A re-delivery of an order already imported (set on every one: the delivery may
    /// differ from the order as placed). Line quantities, removed and added lines are
    /// brought to the channel's (see `line_changes`); prices, discounts and titles of
    /// lines the order already has are not rewritten.
    pub content_changed: bool,
    /// Why the update was ignored, for `stale`.
    pub stale_reason: Option<String>,
    /// Where a re-delivery's lines differ from the order's (a quantity lowered or
    /// raised, a line removed or added on the channel) and what intake did about it.
    pub line_changes: Vec<LineChange>,
    /// For [`ImportOutcome::Unpriced`]: the channel's ids of the lines it has not
    /// priced yet ([`crate::ChannelLine::unpriced`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpriced: Vec<String>,
}

/// How a re-delivery's line differs from the order's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineChangeKind {
    /// Fewer live units than the order has: the difference is cancelled
    /// (`cancel_lines`, which releases their reservation).
    QuantityReduced,
    /// The line is gone from the channel's order (or has no live units): its open
    /// units are cancelled.
    Removed,
    /// More units than the order has: the line's quantity is raised (`edit_order`).
    QuantityIncreased,
    /// A line the order does not have: added (`edit_order`), reserved like the rest.
    Added,
}

/// Why a line change was not (wholly) applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum LineChangeBlocked {
    /// Some of the units to take away have already shipped: they cannot be cancelled
    /// (a return is the channel's next step).
    UnitsShipped {
        /// Units left uncancelled.
        units: u32,
    },
    /// An added line's identifiers map to no variant: it was not added.
    UnmappedSku {
        /// The identifier shown for it.
        id: String,
    },
    /// An added line the channel has not priced yet ([`crate::ChannelLine::unpriced`]):
    /// it was not added at a placeholder price.
    Unpriced,
    /// The engine refused the change (an order already being fulfilled cannot be
    /// edited, say).
    Refused {
        /// The step that was refused.
        step: String,
        /// The error code.
        code: String,
    },
}

/// One difference between a re-delivery's lines and the order's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineChange {
    /// What changed.
    pub kind: LineChangeKind,
    /// The channel's line id.
    pub external_line_id: String,
    /// The order's line, when it has (or now has) one.
    pub line_id: Option<LineId>,
    /// Live (not cancelled) units on the order before.
    pub from: u32,
    /// Live units the channel reports.
    pub to: u32,
    /// Whether the order now matches the channel for this line.
    pub applied: bool,
    /// Why not, when not applied.
    pub blocked: Option<LineChangeBlocked>,
}

/// A claim, return or refund from a channel's own feed, as intake saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventReport {
    /// The event.
    pub event: ChannelEvent,
    /// The order it concerns, when that channel order was imported.
    pub order_id: Option<OrderId>,
    /// `false` when it was reported before for that order.
    pub new: bool,
    /// The RMA a claim or return became on the order (the core's returns workflow),
    /// on the delivery it became one: the first, or a later one (`new: false`) when
    /// it could not be made before (its delivery not imported yet, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rma: Option<String>,
    /// Why a claim or return did not become an RMA on this delivery (its units not
    /// delivered yet, a line the order does not have): the step, code and message.
    /// It is asked again on later deliveries unless the refusal is for good.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rma_failed: Option<StepFailure>,
}
