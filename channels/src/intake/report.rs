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
    /// What a later delivery of a claim already made an RMA did to follow the channel's
    /// decision on it, when that decision changed and the RMA was not already where it
    /// leads (see [`crate::intake::Intake::import_events`]): the step applied, or the
    /// core's refusal of it. Reported on the delivery that took (or was refused) the
    /// step; `None` on every other one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rma_update: Option<RmaUpdate>,
}

/// A channel's decision on a claim or return, as its status states it
/// ([`ClaimDecision::of_status`]). Statuses that state none (a claim waiting for the
/// seller, in analysis, in dispute; an eBay return's shipping states) leave the RMA as
/// it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimDecision {
    /// The marketplace accepted the claim (and refunds the shopper): Trendyol
    /// `Accepted`, Hepsiburada `Accepted` or `Refunded`. Its RMA, when the shop's
    /// policy rejected it, is approved by override.
    Accepted,
    /// The claim was rejected on the channel: Trendyol and Hepsiburada `Rejected`. Its
    /// RMA is rejected (`reject_return`), which the core allows only before anything
    /// arrived.
    Rejected,
    /// The claim was cancelled on the channel (the shopper withdrew it): Trendyol and
    /// Hepsiburada `Cancelled`. Its RMA is closed (`close_return`), which the core
    /// allows once it is rejected, inspected or resolved, or before anything arrived.
    Cancelled,
}

impl ClaimDecision {
    /// The decision a channel's claim status states, or `None` while it states none.
    ///
    /// The status is read case-insensitively, one unit at a time (Trendyol reports a
    /// status per claimed unit; the adapter joins the distinct ones with `,`): a unit
    /// whose status starts with `awaiting` or `waiting` is undecided (Hepsiburada
    /// `AwaitingPreApproval` is not an approval); otherwise one naming `accept`,
    /// `approv` or `refund` is accepted, `reject` rejected, `cancel` cancelled, and
    /// any other undecided. The claim is accepted when any unit is (its RMA is one for
    /// all of them, and the marketplace refunds some); rejected or cancelled only once
    /// every unit is one of the two (rejected when any is); else undecided.
    pub fn of_status(status: Option<&str>) -> Option<ClaimDecision> {
        let mut all_closed = true;
        let mut any_rejected = false;
        let mut any = false;
        for unit in status?.split(',') {
            let unit = unit.trim().to_ascii_lowercase();
            if unit.is_empty() {
                continue;
            }
            any = true;
            let has = |words: &[&str]| words.iter().any(|w| unit.contains(w));
            if unit.starts_with("awaiting") || unit.starts_with("waiting") {
                all_closed = false;
            } else if has(&["accept", "approv", "refund"]) {
                return Some(ClaimDecision::Accepted);
            } else if has(&["reject"]) {
                any_rejected = true;
            } else if !has(&["cancel"]) {
                all_closed = false;
            }
        }
        match (any && all_closed, any_rejected) {
            (false, _) => None,
            (true, true) => Some(ClaimDecision::Rejected),
            (true, false) => Some(ClaimDecision::Cancelled),
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimDecision::Accepted => "accepted",
            ClaimDecision::Rejected => "rejected",
            ClaimDecision::Cancelled => "cancelled",
        }
    }
}

/// A step a claim's RMA took (or the core refused) to follow the channel's later
/// decision on the claim ([`EventReport::rma_update`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RmaUpdate {
    /// The RMA (`None` only when the order could not be loaded to find it, for a
    /// claim recorded before intake kept its RMA's id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rma: Option<String>,
    /// The channel's decision followed.
    pub decision: ClaimDecision,
    /// The step: `override` (an accepted claim's rejected RMA approved, the channel's
    /// acceptance as the reason), `reject` (a rejected claim's RMA, the channel's
    /// rejection as the reason) or `close` (a cancelled claim's RMA).
    pub step: String,
    /// Why it was not applied: the core refused it (the RMA's status allows no such
    /// step, e.g. goods already received; reported once, never forced), or the store
    /// was unavailable (tried again on the next delivery). `None`: applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<StepFailure>,
}
