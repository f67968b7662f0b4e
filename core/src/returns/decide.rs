//! `decide` for returns: a return command on an order → order events, or a typed error.
//! Pure: the engine supplies the time, the policy, delivery times and (for exchanges)
//! the replacement order.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{LineId, LocationId, OrderId};
use crate::money::Money;
use crate::order::{LineQuantity, Order, OrderCommand, OrderEvent, PaymentCommand};

use super::policy::{days_between, ReturnPolicy, ReturnReason, ShippingPayer};
use super::refund::{refund_units, RefundBreakdown, RefundPolicy, UnitWindow};
use super::rma::{
    ExchangeLine, RefundLeg, Resolution, ReturnEvent, ReturnLineFacts, ReturnLineOutcome, Rma,
    RmaLine, RmaStatus, UnitInspection,
};
use super::ReturnsError;

/// Longest free text (note, reason, service, carrier, tracking number), in characters.
pub const MAX_TEXT: usize = 2_000;
/// RMAs per order.
pub const MAX_RMAS: usize = 100;
/// Lines (or inspection records) per return command.
pub const MAX_LINES: usize = 500;

/// One line of a return request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineRequest {
    /// The order line.
    pub line_id: LineId,
    /// Units to send back (at least 1, at most delivered and not yet returned).
    pub quantity: u32,
    /// Why.
    pub reason: ReturnReason,
    /// Whether the goods were opened.
    #[serde(default)]
    pub opened: bool,
}

/// How to settle a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResolutionRequest {
    /// Money back through the payment refund path.
    Refund,
    /// Credit to the customer's store-credit account.
    StoreCredit,
    /// A replacement order (the RMA's exchange lines).
    Exchange,
}

/// A command on an order's returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReturnCommand {
    /// Ask for a return; the policy check approves or rejects it in the same step.
    Request {
        /// Lines, quantities and reasons.
        lines: Vec<ReturnLineRequest>,
        /// The customer's own words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// Replacement wanted, for an exchange.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        exchange: Vec<ExchangeLine>,
    },
    /// A person approves a rejected return against the policy, with a reason.
    Override {
        /// The RMA.
        rma: String,
        /// Why.
        reason: String,
    },
    /// A person rejects a return before anything arrived.
    Reject {
        /// The RMA.
        rma: String,
        /// Why.
        reason: String,
    },
    /// Ask the host for a return label (an outbox effect).
    RequestLabel {
        /// The RMA.
        rma: String,
        /// The carrier service.
        service: String,
    },
    /// The host bought the label (the same tracking number again changes nothing).
    RecordLabel {
        /// The RMA.
        rma: String,
        /// The carrier.
        carrier: String,
        /// The tracking number.
        tracking_number: String,
    },
    /// The goods are on their way back.
    MarkInTransit {
        /// The RMA.
        rma: String,
    },
    /// Units arrived (partial receipts allowed).
    Receive {
        /// The RMA.
        rma: String,
        /// Where they arrived.
        location: LocationId,
        /// Units per line.
        lines: Vec<LineQuantity>,
    },
    /// Units were inspected.
    Inspect {
        /// The RMA.
        rma: String,
        /// What was found, per unit or per group of units.
        units: Vec<UnitInspection>,
    },
    /// Settle the received units.
    Resolve {
        /// The RMA.
        rma: String,
        /// How.
        resolution: ResolutionRequest,
    },
    /// Close the RMA (resolved, rejected, or nothing ever arrived).
    Close {
        /// The RMA.
        rma: String,
    },
}

impl ReturnCommand {
    /// The RMA a command names (none for a request).
    pub fn rma(&self) -> Option<&str> {
        match self {
            ReturnCommand::Request { .. } => None,
            ReturnCommand::Override { rma, .. }
            | ReturnCommand::Reject { rma, .. }
            | ReturnCommand::RequestLabel { rma, .. }
            | ReturnCommand::RecordLabel { rma, .. }
            | ReturnCommand::MarkInTransit { rma }
            | ReturnCommand::Receive { rma, .. }
            | ReturnCommand::Inspect { rma, .. }
            | ReturnCommand::Resolve { rma, .. }
            | ReturnCommand::Close { rma } => Some(rma),
        }
    }
}

/// A replacement order placed for an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The order.
    pub order_id: OrderId,
    /// Its total.
    pub total: Money,
}

/// What `decide` needs beside the order and the command.
#[derive(Debug, Clone)]
pub struct ReturnContext<'a> {
    /// Now (the engine's clock).
    pub now: DateTime<Utc>,
    /// The shop's policy.
    pub policy: &'a ReturnPolicy,
    /// When each line's last units were delivered.
    pub delivered_at: BTreeMap<LineId, DateTime<Utc>>,
    /// The replacement order of an exchange being resolved.
    pub replacement: Option<Replacement>,
    /// Store credit the customer spent on this order and has not been given back as
    /// credit (the engine reads it from the customer's account): a refund gives it
    /// back as credit before any money recorded outside ordersmith, so credit never
    /// turns into cash through a return.
    pub credit_paid: Option<(crate::ids::CustomerId, Money)>,
}

fn text(field: &'static str, value: &str) -> Result<(), ReturnsError> {
    let reason = if value.trim().is_empty() {
        Some("must not be empty")
    } else if value.chars().count() > MAX_TEXT {
        Some("is longer than 2000 characters")
    } else if value.chars().any(|c| c.is_control() && c != '\n') {
        Some("has control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ReturnsError::InvalidText { field, reason }),
        None => Ok(()),
    }
}

/// The RMA with this id.
pub fn rma<'a>(order: &'a Order, id: &str) -> Result<&'a Rma, ReturnsError> {
    order
        .rmas
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ReturnsError::UnknownRma {
            rma: id.to_string(),
        })
}

fn state(r: &Rma, action: &'static str) -> ReturnsError {
    ReturnsError::InvalidState {
        rma: r.id.clone(),
        status: r.status.as_str(),
        action,
    }
}

/// Units of `line` a new return may still ask for: delivered, minus units returned
/// outside RMAs, minus units claimed by RMAs that were not rejected (what came back
/// once settled or closed; what was asked while open).
pub fn returnable(order: &Order, line: &LineId) -> u32 {
    let Some(l) = order.line(line) else {
        return 0;
    };
    let mut rma_received = 0u32;
    let mut claimed = 0u32;
    for r in &order.rmas {
        let Some(rl) = r.line(line) else { continue };
        rma_received = rma_received.saturating_add(rl.received);
        let units = match r.status {
            RmaStatus::Rejected => rl.received,
            RmaStatus::Resolved | RmaStatus::Closed => rl.received,
            _ => rl.quantity.max(rl.received),
        };
        claimed = claimed.saturating_add(units);
    }
    let outside = l.fulfilment.returned.saturating_sub(rma_received);
    l.fulfilment
        .delivered
        .saturating_sub(outside)
        .saturating_sub(claimed)
}

/// Units of `line` that returns still open asked for and have not received: the
/// customer's to send back under those returns, so nothing else may count them as
/// returned (a return recorded outside them, another return's override).
pub(crate) fn awaited(order: &Order, line: &LineId) -> u32 {
    order
        .rmas
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                RmaStatus::Requested
                    | RmaStatus::Approved
                    | RmaStatus::LabelRequested
                    | RmaStatus::LabelReady
                    | RmaStatus::InTransit
                    | RmaStatus::PartiallyReceived
            )
        })
        .filter_map(|r| r.line(line))
        .map(|rl| rl.quantity.saturating_sub(rl.received))
        .fold(0, u32::saturating_add)
}

/// Units of `line` already settled: returned outside RMAs, plus units of resolved RMAs.
/// The next settled unit is this one (0-based), so shares never repeat.
fn settled(order: &Order, line: &LineId) -> u32 {
    let Some(l) = order.line(line) else {
        return 0;
    };
    let mut rma_received = 0u32;
    let mut resolved = 0u32;
    for r in &order.rmas {
        let Some(rl) = r.line(line) else { continue };
        rma_received = rma_received.saturating_add(rl.received);
        if r.resolution.is_some() {
            resolved = resolved.saturating_add(rl.received);
        }
    }
    l.fulfilment
        .returned
        .saturating_sub(rma_received)
        .saturating_add(resolved)
}

/// The value of the units an RMA received: per line, by the policy for its reason.
pub fn rma_value(
    order: &Order,
    r: &Rma,
    policy: &ReturnPolicy,
) -> Result<RefundBreakdown, ReturnsError> {
    let windows: Vec<UnitWindow> = r
        .lines
        .iter()
        .filter(|l| l.received > 0)
        .map(|l| UnitWindow {
            line_id: l.line_id.clone(),
            first_unit: settled(order, &l.line_id),
            quantity: l.received,
            policy: RefundPolicy {
                refund_shipping: policy.refunds_shipping(l.reason),
                restocking_fee_rate: policy.restocking_fee_rate(&l.variant, l.reason),
            },
        })
        .collect();
    if windows.is_empty() {
        return Err(ReturnsError::InvalidRequest {
            reason: "nothing was received to settle",
        });
    }
    refund_units(order, &windows)
}

/// What can still be refunded on the order: paid, minus refunded, minus provider
/// refunds asked and not yet confirmed, minus what returns gave back in kind (store
/// credit, value applied to an exchange's replacement). Every way of giving money back
/// is held to it.
pub fn refundable(order: &Order) -> Result<Money, ReturnsError> {
    Ok(order.refundable()?)
}

/// Events refunding `amount` through the order's payment refund path: provider payments
/// first (oldest first, each up to what it captured and has not refunded), then the
/// store credit that paid the order and was not given back yet (`credit`, as credit: a
/// leg the engine posts to the account), then money captured outside ordersmith as a
/// recorded refund. Never more than was paid.
fn refund_path(
    order: &Order,
    amount: Money,
    credit: Option<&(crate::ids::CustomerId, Money)>,
) -> Result<(Vec<RefundLeg>, Vec<OrderEvent>), ReturnsError> {
    let available = refundable(order)?;
    if amount.amount() > available.amount() {
        return Err(ReturnsError::RefundExceedsPaid { amount, available });
    }
    let mut scratch = order.clone();
    let mut legs = Vec::new();
    let mut events = Vec::new();
    let mut rest = amount;
    for p in &order.payments {
        if rest.is_zero() {
            break;
        }
        let left = p
            .captured
            .checked_sub(&p.refunded)?
            .checked_sub(&p.refund_pending)?;
        if left.is_negative() || left.is_zero() {
            continue;
        }
        let take = if left.amount() < rest.amount() {
            left
        } else {
            rest
        };
        let step = OrderCommand::Pay(PaymentCommand::Refund {
            payment: p.id.clone(),
            amount: take,
        });
        for e in crate::order::decide(&scratch, &step).map_err(Box::new)? {
            scratch.apply(&e);
            events.push(e);
        }
        legs.push(RefundLeg::Provider {
            payment: p.id.clone(),
            amount: take,
        });
        rest = rest.checked_sub(&take)?;
    }
    if let Some((customer, paid)) = credit {
        if rest.amount() > rust_decimal::Decimal::ZERO
            && paid.amount() > rust_decimal::Decimal::ZERO
        {
            let take = if paid.amount() < rest.amount() {
                *paid
            } else {
                rest
            };
            legs.push(RefundLeg::StoreCredit {
                customer: customer.clone(),
                amount: take,
            });
            rest = rest.checked_sub(&take)?;
        }
    }
    if !rest.is_zero() && !rest.is_negative() {
        let step = OrderCommand::RecordRefund { amount: rest };
        for e in crate::order::decide(&scratch, &step).map_err(Box::new)? {
            scratch.apply(&e);
            events.push(e);
        }
        legs.push(RefundLeg::Recorded { amount: rest });
    }
    Ok((legs, events))
}

fn ret(e: ReturnEvent) -> OrderEvent {
    OrderEvent::Return(Box::new(e))
}

fn outcomes(order: &Order, r: &Rma, outcome: &str, asked: bool) -> Vec<ReturnLineOutcome> {
    r.lines
        .iter()
        .map(|l| ReturnLineOutcome {
            line_id: l.line_id.clone(),
            variant: l.variant.clone(),
            channel: order.channel.clone(),
            reason: l.reason,
            outcome: outcome.to_string(),
            quantity: if asked { l.quantity } else { l.received },
        })
        .collect()
}

/// The events of one return command on `order`.
///
/// Requests are checked against the policy at once: approved, or rejected naming the
/// failed rule. Receipts also record the units as returned on the order
/// (`order.return_recorded`). Resolutions carry the refund breakdown and, for refunds,
/// the payment refund events (provider refunds requested, or a recorded refund).
pub fn decide(
    order: &Order,
    command: &ReturnCommand,
    ctx: &ReturnContext<'_>,
) -> Result<Vec<OrderEvent>, ReturnsError> {
    ctx.policy.validate()?;
    match command {
        ReturnCommand::Request {
            lines,
            note,
            exchange,
        } => request(order, lines, note.as_deref(), exchange, ctx),
        ReturnCommand::Override { rma: id, reason } => {
            let r = rma(order, id)?;
            text("reason", reason)?;
            if r.status != RmaStatus::Rejected {
                return Err(state(r, "overriding a rejection"));
            }
            // A rejected return claims nothing, so another return (or a return
            // recorded outside) may have asked for its units since: approved again
            // only while they are still there to come back.
            for rl in &r.lines {
                let returnable = returnable(order, &rl.line_id);
                let asked = rl.quantity.saturating_sub(rl.received);
                if asked > returnable {
                    return Err(ReturnsError::NotReturnable {
                        line_id: rl.line_id.clone(),
                        requested: asked,
                        returnable,
                    });
                }
            }
            Ok(vec![ret(ReturnEvent::Approved {
                rma: r.id.clone(),
                override_reason: Some(reason.clone()),
            })])
        }
        ReturnCommand::Reject { rma: id, reason } => {
            let r = rma(order, id)?;
            text("reason", reason)?;
            let open = matches!(
                r.status,
                RmaStatus::Requested
                    | RmaStatus::Approved
                    | RmaStatus::LabelRequested
                    | RmaStatus::LabelReady
                    | RmaStatus::InTransit
            );
            if !open || r.received_units() > 0 {
                return Err(state(r, "rejecting (only before anything arrived)"));
            }
            Ok(vec![ret(ReturnEvent::Rejected {
                rma: r.id.clone(),
                failure: None,
                reason: reason.clone(),
                outcomes: outcomes(order, r, "rejected", true),
            })])
        }
        ReturnCommand::RequestLabel { rma: id, service } => {
            let r = rma(order, id)?;
            text("service", service)?;
            if r.status != RmaStatus::Approved {
                return Err(state(r, "requesting a label"));
            }
            Ok(vec![ret(ReturnEvent::LabelRequested {
                rma: r.id.clone(),
                service: service.clone(),
                payer: r.return_shipping,
                location: None,
            })])
        }
        ReturnCommand::RecordLabel {
            rma: id,
            carrier,
            tracking_number,
        } => {
            let r = rma(order, id)?;
            text("carrier", carrier)?;
            text("tracking_number", tracking_number)?;
            let same = r.label.as_ref().is_some_and(|l| {
                l.tracking_number.as_deref() == Some(tracking_number.as_str())
                    && l.carrier.as_deref() == Some(carrier.as_str())
            });
            if same {
                return Ok(Vec::new());
            }
            if r.status != RmaStatus::LabelRequested {
                return Err(state(r, "recording a label"));
            }
            Ok(vec![ret(ReturnEvent::LabelRecorded {
                rma: r.id.clone(),
                carrier: carrier.clone(),
                tracking_number: tracking_number.clone(),
            })])
        }
        ReturnCommand::MarkInTransit { rma: id } => {
            let r = rma(order, id)?;
            match r.status {
                RmaStatus::InTransit => Ok(Vec::new()),
                RmaStatus::Approved | RmaStatus::LabelRequested | RmaStatus::LabelReady => {
                    Ok(vec![ret(ReturnEvent::InTransit { rma: r.id.clone() })])
                }
                _ => Err(state(r, "marking in transit")),
            }
        }
        ReturnCommand::Receive {
            rma: id,
            location,
            lines,
        } => receive(order, id, location, lines),
        ReturnCommand::Inspect { rma: id, units } => inspect(order, id, units),
        ReturnCommand::Resolve {
            rma: id,
            resolution,
        } => resolve(order, id, resolution, ctx),
        ReturnCommand::Close { rma: id } => {
            let r = rma(order, id)?;
            let closable = match r.status {
                RmaStatus::Resolved | RmaStatus::Rejected => true,
                // Everything that arrived was inspected and the shop settles nothing
                // more through it (nothing left to give back after an earlier refund,
                // or settled outside ordersmith): the goods stay where inspection put
                // them.
                RmaStatus::Inspected => true,
                RmaStatus::Approved
                | RmaStatus::LabelRequested
                | RmaStatus::LabelReady
                | RmaStatus::InTransit => r.received_units() == 0,
                _ => false,
            };
            if !closable {
                return Err(state(
                    r,
                    "closing (inspect what arrived first, or close before anything arrives)",
                ));
            }
            Ok(vec![ret(ReturnEvent::Closed { rma: r.id.clone() })])
        }
    }
}

fn request(
    order: &Order,
    lines: &[ReturnLineRequest],
    note: Option<&str>,
    exchange: &[ExchangeLine],
    ctx: &ReturnContext<'_>,
) -> Result<Vec<OrderEvent>, ReturnsError> {
    if lines.is_empty() {
        return Err(ReturnsError::InvalidRequest {
            reason: "a return needs at least one line",
        });
    }
    if lines.len() > MAX_LINES || exchange.len() > MAX_LINES {
        return Err(ReturnsError::InvalidRequest {
            reason: "a return holds at most 500 lines",
        });
    }
    if order.rmas.len() >= MAX_RMAS {
        return Err(ReturnsError::InvalidRequest {
            reason: "an order holds at most 100 returns",
        });
    }
    if let Some(n) = note {
        text("note", n)?;
    }
    for x in exchange {
        if x.quantity == 0 || x.quantity > crate::order::limits::MAX_QUANTITY {
            return Err(ReturnsError::InvalidRequest {
                reason: "an exchange line needs 1 to 1000000 units",
            });
        }
        if x.unit_price.currency() != order.currency {
            return Err(crate::money::MoneyError::CurrencyMismatch {
                left: order.currency,
                right: x.unit_price.currency(),
            }
            .into());
        }
        if x.unit_price.is_negative() {
            return Err(ReturnsError::InvalidRequest {
                reason: "an exchange price must not be negative",
            });
        }
        if let Some(t) = &x.title {
            text("exchange title", t)?;
        }
    }
    let mut seen = BTreeSet::new();
    let mut rma_lines = Vec::with_capacity(lines.len());
    let mut facts = Vec::with_capacity(lines.len());
    let mut failure = None;
    let mut payer = ShippingPayer::Customer;
    for l in lines {
        let line = order
            .line(&l.line_id)
            .ok_or_else(|| ReturnsError::UnknownLine {
                line_id: l.line_id.clone(),
            })?;
        if !seen.insert(&l.line_id) {
            return Err(ReturnsError::InvalidRequest {
                reason: "a line appears twice in one return",
            });
        }
        let can = returnable(order, &l.line_id);
        if l.quantity == 0 || l.quantity > can {
            return Err(ReturnsError::NotReturnable {
                line_id: l.line_id.clone(),
                requested: l.quantity,
                returnable: can,
            });
        }
        let delivered_at = ctx.delivered_at.get(&l.line_id).copied();
        if failure.is_none() {
            failure =
                ctx.policy
                    .check_line(&l.line_id, &line.variant, delivered_at, ctx.now, l.opened);
        }
        if ctx.policy.shipping_payer(l.reason) == ShippingPayer::Shop {
            payer = ShippingPayer::Shop;
        }
        facts.push(ReturnLineFacts {
            line_id: l.line_id.clone(),
            variant: line.variant.clone(),
            channel: order.channel.clone(),
            reason: l.reason,
            quantity: l.quantity,
            days_from_delivery: delivered_at
                .map(|at| u32::try_from(days_between(at, ctx.now)).unwrap_or(u32::MAX)),
        });
        rma_lines.push(RmaLine {
            line_id: l.line_id.clone(),
            variant: line.variant.clone(),
            quantity: l.quantity,
            reason: l.reason,
            opened: l.opened,
            received: 0,
            restocked: 0,
            quarantined: 0,
            written_off: 0,
        });
    }
    let r = Rma {
        id: format!("R{}", order.rmas.len() + 1),
        status: RmaStatus::Requested,
        lines: rma_lines,
        note: note.map(str::to_string),
        requested_at: ctx.now,
        policy_failure: None,
        override_reason: None,
        return_shipping: payer,
        label: None,
        location: None,
        exchange: exchange.to_vec(),
        replacement_order: None,
        resolution: None,
    };
    let id = r.id.clone();
    let decision = match failure {
        None => ReturnEvent::Approved {
            rma: id.clone(),
            override_reason: None,
        },
        Some(f) => ReturnEvent::Rejected {
            rma: id.clone(),
            reason: format!("{}: {}", f.rule, f.detail),
            failure: Some(f),
            outcomes: outcomes(order, &r, "rejected", true),
        },
    };
    Ok(vec![
        ret(ReturnEvent::Requested {
            rma: Box::new(r),
            facts,
        }),
        ret(decision),
    ])
}

fn receive(
    order: &Order,
    id: &str,
    location: &LocationId,
    lines: &[LineQuantity],
) -> Result<Vec<OrderEvent>, ReturnsError> {
    let r = rma(order, id)?;
    let receivable = matches!(
        r.status,
        RmaStatus::Approved
            | RmaStatus::LabelRequested
            | RmaStatus::LabelReady
            | RmaStatus::InTransit
            | RmaStatus::PartiallyReceived
    );
    if !receivable {
        return Err(state(r, "receiving"));
    }
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(ReturnsError::InvalidRequest {
            reason: "a receipt needs 1 to 500 lines",
        });
    }
    let mut asked: BTreeMap<&LineId, u32> = BTreeMap::new();
    for lq in lines {
        let rl = r
            .line(&lq.line_id)
            .ok_or_else(|| ReturnsError::UnknownLine {
                line_id: lq.line_id.clone(),
            })?;
        let before = asked.entry(&lq.line_id).or_insert(0);
        // What this return still awaits, and never more than is out with the
        // customer (shipped, not yet returned): a unit cannot come back twice.
        let out = order.line(&lq.line_id).map_or(0, |l| {
            l.fulfilment.shipped.saturating_sub(l.fulfilment.returned)
        });
        let open = rl
            .quantity
            .saturating_sub(rl.received)
            .min(out)
            .saturating_sub(*before);
        if lq.quantity == 0 || lq.quantity > open {
            return Err(ReturnsError::QuantityExceeded {
                rma: r.id.clone(),
                line_id: lq.line_id.clone(),
                action: "receive",
                requested: lq.quantity,
                available: open,
            });
        }
        *before += lq.quantity;
    }
    Ok(vec![
        ret(ReturnEvent::Received {
            rma: r.id.clone(),
            location: location.clone(),
            lines: lines.to_vec(),
        }),
        OrderEvent::ReturnRecorded {
            lines: lines.to_vec(),
        },
    ])
}

fn inspect(
    order: &Order,
    id: &str,
    units: &[UnitInspection],
) -> Result<Vec<OrderEvent>, ReturnsError> {
    let r = rma(order, id)?;
    if !matches!(r.status, RmaStatus::PartiallyReceived | RmaStatus::Received) {
        return Err(state(r, "inspecting"));
    }
    if units.is_empty() || units.len() > MAX_LINES {
        return Err(ReturnsError::InvalidRequest {
            reason: "an inspection needs 1 to 500 records",
        });
    }
    let mut asked: BTreeMap<&LineId, u32> = BTreeMap::new();
    for u in units {
        if let Some(n) = &u.note {
            text("note", n)?;
        }
        let rl = r
            .line(&u.line_id)
            .ok_or_else(|| ReturnsError::UnknownLine {
                line_id: u.line_id.clone(),
            })?;
        let before = asked.entry(&u.line_id).or_insert(0);
        let open = rl.uninspected().saturating_sub(*before);
        if u.quantity == 0 || u.quantity > open {
            return Err(ReturnsError::QuantityExceeded {
                rma: r.id.clone(),
                line_id: u.line_id.clone(),
                action: "inspect",
                requested: u.quantity,
                available: open,
            });
        }
        *before += u.quantity;
    }
    Ok(vec![ret(ReturnEvent::Inspected {
        rma: r.id.clone(),
        units: units.to_vec(),
    })])
}

fn resolve(
    order: &Order,
    id: &str,
    how: &ResolutionRequest,
    ctx: &ReturnContext<'_>,
) -> Result<Vec<OrderEvent>, ReturnsError> {
    let r = rma(order, id)?;
    let ready = matches!(
        r.status,
        RmaStatus::PartiallyReceived | RmaStatus::Received | RmaStatus::Inspected
    ) && r.lines.iter().all(|l| l.uninspected() == 0)
        && r.received_units() > 0;
    if !ready {
        return Err(state(r, "resolving (inspect every received unit first)"));
    }
    let breakdown = rma_value(order, r, ctx.policy)?;
    let value = breakdown.total;
    // Whatever form it takes (money, store credit, value toward a replacement), a
    // return gives back at most what the order was paid and has not given back.
    let available = refundable(order)?;
    if value.amount() > available.amount() {
        return Err(ReturnsError::RefundExceedsPaid {
            amount: value,
            available,
        });
    }
    let (resolution, money) = match how {
        ResolutionRequest::Refund => {
            let (refunds, events) = refund_path(order, value, ctx.credit_paid.as_ref())?;
            (Resolution::Refund { breakdown, refunds }, events)
        }
        ResolutionRequest::StoreCredit => {
            let customer = order
                .customer
                .as_ref()
                .and_then(|c| c.id.clone())
                .ok_or(ReturnsError::NoCustomerAccount)?;
            (
                Resolution::StoreCredit {
                    breakdown,
                    customer,
                    amount: value,
                },
                Vec::new(),
            )
        }
        ResolutionRequest::Exchange => {
            if r.exchange.is_empty() {
                return Err(ReturnsError::InvalidRequest {
                    reason: "the return names no replacement to exchange for",
                });
            }
            let replacement = ctx
                .replacement
                .as_ref()
                .ok_or(ReturnsError::InvalidRequest {
                    reason: "the exchange has no replacement order",
                })?;
            let total = replacement.total;
            let applied = if value.amount() < total.amount() {
                value
            } else {
                total
            };
            let to_charge = total.checked_sub(&applied)?;
            let back = value.checked_sub(&applied)?;
            let (refunds, events) = if back.is_zero() {
                (Vec::new(), Vec::new())
            } else {
                refund_path(order, back, ctx.credit_paid.as_ref())?
            };
            (
                Resolution::Exchange {
                    breakdown,
                    replacement_order: replacement.order_id.clone(),
                    replacement_total: total,
                    applied,
                    to_charge,
                    refunds,
                },
                events,
            )
        }
    };
    let outcome = resolution.outcome();
    let mut events = vec![ret(ReturnEvent::Resolved {
        rma: r.id.clone(),
        outcomes: outcomes(order, r, outcome, false),
        resolution,
    })];
    events.extend(money);
    Ok(events)
}
