//! The RMA (return merchandise authorisation): its state inside the order, the events
//! that change it, and how they apply.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, CustomerId, LineId, LocationId, OrderId, VariantId};
use crate::money::Money;

use super::policy::{PolicyFailure, ReturnReason, ShippingPayer};
use super::refund::RefundBreakdown;

/// Where an RMA stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RmaStatus {
    /// Asked for; the policy check follows in the same step.
    Requested,
    /// Accepted (by the policy, or by a person overriding it).
    Approved,
    /// Refused; the failed rule is named. A person may still override.
    Rejected,
    /// A return label was asked of the host (an outbox effect).
    LabelRequested,
    /// The host bought the label; the customer can send the goods.
    LabelReady,
    /// The goods are on their way back.
    InTransit,
    /// Some approved units arrived.
    PartiallyReceived,
    /// Every approved unit arrived.
    Received,
    /// Every received unit was inspected.
    Inspected,
    /// Settled as a refund, an exchange or store credit.
    Resolved,
    /// Closed: nothing more happens.
    Closed,
}

impl RmaStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RmaStatus::Requested => "requested",
            RmaStatus::Approved => "approved",
            RmaStatus::Rejected => "rejected",
            RmaStatus::LabelRequested => "label_requested",
            RmaStatus::LabelReady => "label_ready",
            RmaStatus::InTransit => "in_transit",
            RmaStatus::PartiallyReceived => "partially_received",
            RmaStatus::Received => "received",
            RmaStatus::Inspected => "inspected",
            RmaStatus::Resolved => "resolved",
            RmaStatus::Closed => "closed",
        }
    }
}

impl std::fmt::Display for RmaStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What inspection found for a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionOutcome {
    /// As new: back on the shelf (a `return_restock` movement in the ledger).
    Resellable,
    /// Damaged, kept aside (a `quarantine` movement): not sellable.
    Quarantine,
    /// Damaged beyond use: quarantined and written off (`quarantine`, `write_off`).
    WriteOff,
}

impl InspectionOutcome {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            InspectionOutcome::Resellable => "resellable",
            InspectionOutcome::Quarantine => "quarantine",
            InspectionOutcome::WriteOff => "write_off",
        }
    }
}

/// Units of one line found in one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitInspection {
    /// The order line.
    pub line_id: LineId,
    /// What was found.
    pub outcome: InspectionOutcome,
    /// How many units (default 1: one record per unit).
    #[serde(default = "one")]
    pub quantity: u32,
    /// What the inspector wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn one() -> u32 {
    1
}

/// One line of a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RmaLine {
    /// The order line.
    pub line_id: LineId,
    /// Its variant.
    pub variant: VariantId,
    /// Units asked to return.
    pub quantity: u32,
    /// Why.
    pub reason: ReturnReason,
    /// Whether the customer opened the goods.
    #[serde(default)]
    pub opened: bool,
    /// Units that arrived.
    #[serde(default)]
    pub received: u32,
    /// Units put back on the shelf.
    #[serde(default)]
    pub restocked: u32,
    /// Units kept in quarantine.
    #[serde(default)]
    pub quarantined: u32,
    /// Units written off.
    #[serde(default)]
    pub written_off: u32,
}

impl RmaLine {
    /// Units received and not yet inspected.
    pub fn uninspected(&self) -> u32 {
        self.received
            .saturating_sub(self.restocked)
            .saturating_sub(self.quarantined)
            .saturating_sub(self.written_off)
    }
}

/// A replacement unit wanted in an exchange, with the price it sells at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeLine {
    /// The variant wanted.
    pub variant: VariantId,
    /// Units.
    pub quantity: u32,
    /// Price of one unit, in the order's currency, as the order's tax mode reads it.
    pub unit_price: Money,
    /// Product title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Taxes on the replacement; empty: the taxes of the first returned line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tax_lines: Vec<crate::order::TaxLine>,
}

/// The return label the host bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLabel {
    /// The carrier service asked for.
    pub service: String,
    /// The carrier, once bought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// The tracking number, once bought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// Who pays it.
    pub payer: ShippingPayer,
}

/// How value went back for a refund: through a provider payment, back to the store
/// credit that paid the order, or recorded as paid back outside ordersmith.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum RefundLeg {
    /// A provider refund was requested on this payment (the host confirms it).
    Provider {
        /// The payment.
        payment: String,
        /// The amount.
        amount: Money,
    },
    /// A refund of money captured outside ordersmith was recorded.
    Recorded {
        /// The amount.
        amount: Money,
    },
    /// Given back to the customer's store credit, which paid that much of the order
    /// ([`crate::engine::Engine::spend_store_credit`]): credit comes back as credit,
    /// never as money.
    StoreCredit {
        /// The customer credited.
        customer: crate::ids::CustomerId,
        /// The amount.
        amount: Money,
    },
}

impl RefundLeg {
    /// Its amount.
    pub fn amount(&self) -> &Money {
        match self {
            RefundLeg::Provider { amount, .. }
            | RefundLeg::Recorded { amount }
            | RefundLeg::StoreCredit { amount, .. } => amount,
        }
    }
}

/// How an RMA was settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolution {
    /// Money back through the payment refund path.
    Refund {
        /// Per line: paid, tax, shipping share, restocking fee.
        breakdown: RefundBreakdown,
        /// How the money goes back.
        refunds: Vec<RefundLeg>,
    },
    /// The value went to the customer's store credit.
    StoreCredit {
        /// Per line: what the credit is made of.
        breakdown: RefundBreakdown,
        /// The customer credited.
        customer: CustomerId,
        /// The credit.
        amount: Money,
    },
    /// A replacement order, with the price difference settled.
    Exchange {
        /// Per line: the value of what came back.
        breakdown: RefundBreakdown,
        /// The replacement order.
        replacement_order: OrderId,
        /// What the replacement costs.
        replacement_total: Money,
        /// The part of the returned value applied to the replacement (recorded as
        /// paid on it).
        applied: Money,
        /// What the customer still pays on the replacement (zero if the return
        /// covered it).
        to_charge: Money,
        /// What goes back to the customer when the return was worth more.
        refunds: Vec<RefundLeg>,
    },
}

impl Resolution {
    /// `refund`, `store_credit` or `exchange`: the outcome analytics report.
    pub fn outcome(&self) -> &'static str {
        match self {
            Resolution::Refund { .. } => "refund",
            Resolution::StoreCredit { .. } => "store_credit",
            Resolution::Exchange { .. } => "exchange",
        }
    }

    /// What came back, valued.
    pub fn breakdown(&self) -> &RefundBreakdown {
        match self {
            Resolution::Refund { breakdown, .. }
            | Resolution::StoreCredit { breakdown, .. }
            | Resolution::Exchange { breakdown, .. } => breakdown,
        }
    }
}

/// A return: lines, reasons, where it stands and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rma {
    /// Id, unique in the order (`R1`, `R2`, ...).
    pub id: String,
    /// Where it stands.
    pub status: RmaStatus,
    /// The lines.
    pub lines: Vec<RmaLine>,
    /// The customer's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When it was requested.
    pub requested_at: DateTime<Utc>,
    /// The rule the policy check failed, if any (kept after an override).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_failure: Option<PolicyFailure>,
    /// Why a person approved it against the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Who pays return shipping (the shop if any line's reason makes it pay).
    pub return_shipping: ShippingPayer,
    /// The return label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<ReturnLabel>,
    /// Where the goods arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationId>,
    /// Replacement wanted, for an exchange.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchange: Vec<ExchangeLine>,
    /// The replacement order, once placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement_order: Option<OrderId>,
    /// How it was settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

impl Rma {
    /// The line of this RMA for an order line.
    pub fn line(&self, id: &LineId) -> Option<&RmaLine> {
        self.lines.iter().find(|l| &l.line_id == id)
    }

    /// Units received across lines.
    pub fn received_units(&self) -> u32 {
        self.lines
            .iter()
            .map(|l| l.received)
            .fold(0, u32::saturating_add)
    }
}

/// One returned line as return analytics read it: reason, variant, channel, days from
/// delivery to request. Carried by the `return.requested` event (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLineFacts {
    /// The order line.
    pub line_id: LineId,
    /// Its variant (SKU).
    pub variant: VariantId,
    /// The order's sales channel.
    pub channel: ChannelId,
    /// The reason code.
    pub reason: ReturnReason,
    /// Units asked to return.
    pub quantity: u32,
    /// Whole days from the line's delivery to the request (`None`: no delivery known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_from_delivery: Option<u32>,
}

/// One line's outcome as return analytics read it. Carried by `return.rejected` and
/// `return.resolved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLineOutcome {
    /// The order line.
    pub line_id: LineId,
    /// Its variant (SKU).
    pub variant: VariantId,
    /// The order's sales channel.
    pub channel: ChannelId,
    /// The reason code.
    pub reason: ReturnReason,
    /// `refund`, `exchange`, `store_credit` or `rejected`.
    pub outcome: String,
    /// Units settled (received units; for `rejected`, the units asked).
    pub quantity: u32,
}

/// Something that happened to a return. Each is an order event (`type: "return"`,
/// with `step` naming which), saved in the order's history like fulfilment events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ReturnEvent {
    /// A return was asked for.
    Requested {
        /// The new RMA (status `requested`).
        rma: Box<Rma>,
        /// Analytics inputs, one per line.
        facts: Vec<ReturnLineFacts>,
    },
    /// Approved: by the policy check, or by a person overriding its failure.
    Approved {
        /// The RMA.
        rma: String,
        /// The reason a person gave to override a failed check.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_reason: Option<String>,
    },
    /// Rejected by the policy check (the rule is named) or by a person.
    Rejected {
        /// The RMA.
        rma: String,
        /// The rule that failed, when the policy rejected it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure: Option<PolicyFailure>,
        /// Why, in words.
        reason: String,
        /// Analytics: each line with outcome `rejected`.
        outcomes: Vec<ReturnLineOutcome>,
    },
    /// A return label was asked of the host (an outbox effect).
    LabelRequested {
        /// The RMA.
        rma: String,
        /// The carrier service wanted.
        service: String,
        /// Who pays it.
        payer: ShippingPayer,
        /// Where the goods go back to, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<LocationId>,
    },
    /// The host bought the label.
    LabelRecorded {
        /// The RMA.
        rma: String,
        /// The carrier.
        carrier: String,
        /// The tracking number.
        tracking_number: String,
    },
    /// The goods are on their way back.
    InTransit {
        /// The RMA.
        rma: String,
    },
    /// Units arrived at a location (the order's `return_recorded` follows).
    Received {
        /// The RMA.
        rma: String,
        /// Where.
        location: LocationId,
        /// Units per line.
        lines: Vec<crate::order::LineQuantity>,
    },
    /// Units were inspected (their stock movements are in the same change).
    Inspected {
        /// The RMA.
        rma: String,
        /// What was found.
        units: Vec<UnitInspection>,
    },
    /// A replacement order was placed for an exchange.
    ReplacementPlaced {
        /// The RMA.
        rma: String,
        /// The replacement order.
        order_id: OrderId,
    },
    /// Settled (the money events follow in the same change).
    Resolved {
        /// The RMA.
        rma: String,
        /// How.
        resolution: Resolution,
        /// Analytics: each line with its outcome.
        outcomes: Vec<ReturnLineOutcome>,
    },
    /// Closed.
    Closed {
        /// The RMA.
        rma: String,
    },
}

impl ReturnEvent {
    /// The outbox topic, e.g. `"return.requested"`.
    pub fn topic(&self) -> &'static str {
        match self {
            ReturnEvent::Requested { .. } => "return.requested",
            ReturnEvent::Approved { .. } => "return.approved",
            ReturnEvent::Rejected { .. } => "return.rejected",
            ReturnEvent::LabelRequested { .. } => "return.label_requested",
            ReturnEvent::LabelRecorded { .. } => "return.label_recorded",
            ReturnEvent::InTransit { .. } => "return.in_transit",
            ReturnEvent::Received { .. } => "return.received",
            ReturnEvent::Inspected { .. } => "return.inspected",
            ReturnEvent::ReplacementPlaced { .. } => "return.replacement_placed",
            ReturnEvent::Resolved { .. } => "return.resolved",
            ReturnEvent::Closed { .. } => "return.closed",
        }
    }

    /// The RMA it concerns.
    pub fn rma_id(&self) -> &str {
        match self {
            ReturnEvent::Requested { rma, .. } => &rma.id,
            ReturnEvent::Approved { rma, .. }
            | ReturnEvent::Rejected { rma, .. }
            | ReturnEvent::LabelRequested { rma, .. }
            | ReturnEvent::LabelRecorded { rma, .. }
            | ReturnEvent::InTransit { rma }
            | ReturnEvent::Received { rma, .. }
            | ReturnEvent::Inspected { rma, .. }
            | ReturnEvent::ReplacementPlaced { rma, .. }
            | ReturnEvent::Resolved { rma, .. }
            | ReturnEvent::Closed { rma } => rma,
        }
    }
}

/// Applies a return event to the order's RMAs. Events are facts already validated.
pub(crate) fn apply(rmas: &mut Vec<Rma>, event: &ReturnEvent) {
    if let ReturnEvent::Requested { rma, .. } = event {
        rmas.push((**rma).clone());
        return;
    }
    let Some(r) = rmas.iter_mut().find(|r| r.id == event.rma_id()) else {
        return;
    };
    match event {
        ReturnEvent::Requested { .. } => {}
        ReturnEvent::Approved {
            override_reason, ..
        } => {
            r.status = RmaStatus::Approved;
            if override_reason.is_some() {
                r.override_reason = override_reason.clone();
            }
        }
        ReturnEvent::Rejected { failure, .. } => {
            r.status = RmaStatus::Rejected;
            if failure.is_some() {
                r.policy_failure = failure.clone();
            }
        }
        ReturnEvent::LabelRequested { service, payer, .. } => {
            r.status = RmaStatus::LabelRequested;
            r.label = Some(ReturnLabel {
                service: service.clone(),
                carrier: None,
                tracking_number: None,
                payer: *payer,
            });
        }
        ReturnEvent::LabelRecorded {
            carrier,
            tracking_number,
            ..
        } => {
            r.status = RmaStatus::LabelReady;
            if let Some(label) = &mut r.label {
                label.carrier = Some(carrier.clone());
                label.tracking_number = Some(tracking_number.clone());
            }
        }
        ReturnEvent::InTransit { .. } => r.status = RmaStatus::InTransit,
        ReturnEvent::Received {
            location, lines, ..
        } => {
            r.location = Some(location.clone());
            let mut add: BTreeMap<&LineId, u32> = BTreeMap::new();
            for lq in lines {
                *add.entry(&lq.line_id).or_insert(0) += lq.quantity;
            }
            for line in &mut r.lines {
                if let Some(q) = add.get(&line.line_id) {
                    line.received = line.received.saturating_add(*q);
                }
            }
            let complete = r.lines.iter().all(|l| l.received >= l.quantity);
            r.status = if complete {
                RmaStatus::Received
            } else {
                RmaStatus::PartiallyReceived
            };
        }
        ReturnEvent::Inspected { units, .. } => {
            for u in units {
                if let Some(line) = r.lines.iter_mut().find(|l| l.line_id == u.line_id) {
                    let q = match u.outcome {
                        InspectionOutcome::Resellable => &mut line.restocked,
                        InspectionOutcome::Quarantine => &mut line.quarantined,
                        InspectionOutcome::WriteOff => &mut line.written_off,
                    };
                    *q = q.saturating_add(u.quantity);
                }
            }
            let all_received = r.lines.iter().all(|l| l.received >= l.quantity);
            if all_received && r.lines.iter().all(|l| l.uninspected() == 0) {
                r.status = RmaStatus::Inspected;
            }
        }
        ReturnEvent::ReplacementPlaced { order_id, .. } => {
            r.replacement_order = Some(order_id.clone());
        }
        ReturnEvent::Resolved { resolution, .. } => {
            r.status = RmaStatus::Resolved;
            if let Resolution::Exchange {
                replacement_order, ..
            } = resolution
            {
                r.replacement_order = Some(replacement_order.clone());
            }
            r.resolution = Some(resolution.clone());
        }
        ReturnEvent::Closed { .. } => r.status = RmaStatus::Closed,
    }
}
