//! Returns on the engine for Kotlin and Swift: the RMA workflow (request checked by the
//! shop's return policy, override, reject, label, transit, receipt, inspection,
//! resolution, close), what an RMA is worth, and store credit. Each step returns the
//! order after it; `rmas(orderId)` lists its returns.

use ordersmith::ids::{CustomerId, LineId, LocationId, OrderId};
use ordersmith::order::LineQuantity;
use ordersmith::returns::{
    self as core, ResolutionRequest, ReturnCommand, ReturnLineRequest, UnitInspection,
};

use crate::convert::{context, CallContext};
use crate::engine::Engine;
use crate::errors::OrdersmithError;
use crate::fulfilment::LineUnits;
use crate::money::{ExactDecimal, Money};
use crate::order::Order;
use crate::payment::{LineRefund, RefundQuote};

/// Why a customer sends goods back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReturnReason {
    /// The size does not fit.
    WrongSize,
    /// Arrived damaged.
    Damaged,
    /// Does not work.
    Defective,
    /// Not what the listing described.
    NotAsDescribed,
    /// No longer wanted.
    ChangedMind,
    /// Arrived too late.
    LateDelivery,
    /// Anything else.
    Other,
}

impl From<ReturnReason> for core::ReturnReason {
    fn from(r: ReturnReason) -> Self {
        match r {
            ReturnReason::WrongSize => Self::WrongSize,
            ReturnReason::Damaged => Self::Damaged,
            ReturnReason::Defective => Self::Defective,
            ReturnReason::NotAsDescribed => Self::NotAsDescribed,
            ReturnReason::ChangedMind => Self::ChangedMind,
            ReturnReason::LateDelivery => Self::LateDelivery,
            ReturnReason::Other => Self::Other,
        }
    }
}

impl From<core::ReturnReason> for ReturnReason {
    fn from(r: core::ReturnReason) -> Self {
        match r {
            core::ReturnReason::WrongSize => Self::WrongSize,
            core::ReturnReason::Damaged => Self::Damaged,
            core::ReturnReason::Defective => Self::Defective,
            core::ReturnReason::NotAsDescribed => Self::NotAsDescribed,
            core::ReturnReason::ChangedMind => Self::ChangedMind,
            core::ReturnReason::LateDelivery => Self::LateDelivery,
            core::ReturnReason::Other => Self::Other,
        }
    }
}

/// Where a return stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RmaStatus {
    /// Asked for.
    Requested,
    /// Approved.
    Approved,
    /// Rejected (the failed rule is named).
    Rejected,
    /// A label was asked of the host.
    LabelRequested,
    /// The label is ready.
    LabelReady,
    /// On its way back.
    InTransit,
    /// Some units arrived.
    PartiallyReceived,
    /// Every unit arrived.
    Received,
    /// Every received unit was inspected.
    Inspected,
    /// Settled.
    Resolved,
    /// Closed.
    Closed,
}

impl From<core::RmaStatus> for RmaStatus {
    fn from(s: core::RmaStatus) -> Self {
        match s {
            core::RmaStatus::Requested => Self::Requested,
            core::RmaStatus::Approved => Self::Approved,
            core::RmaStatus::Rejected => Self::Rejected,
            core::RmaStatus::LabelRequested => Self::LabelRequested,
            core::RmaStatus::LabelReady => Self::LabelReady,
            core::RmaStatus::InTransit => Self::InTransit,
            core::RmaStatus::PartiallyReceived => Self::PartiallyReceived,
            core::RmaStatus::Received => Self::Received,
            core::RmaStatus::Inspected => Self::Inspected,
            core::RmaStatus::Resolved => Self::Resolved,
            core::RmaStatus::Closed => Self::Closed,
        }
    }
}

/// What inspection found for units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum InspectionOutcome {
    /// Back on the shelf (restocked into the ledger).
    Resellable,
    /// Kept in quarantine.
    Quarantine,
    /// Written off.
    WriteOff,
}

impl From<InspectionOutcome> for core::InspectionOutcome {
    fn from(o: InspectionOutcome) -> Self {
        match o {
            InspectionOutcome::Resellable => Self::Resellable,
            InspectionOutcome::Quarantine => Self::Quarantine,
            InspectionOutcome::WriteOff => Self::WriteOff,
        }
    }
}

/// How to settle a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReturnResolution {
    /// Money back through the payment refund path.
    Refund,
    /// The customer's store credit.
    StoreCredit,
    /// A replacement order (the return's exchange lines).
    Exchange,
}

impl From<ReturnResolution> for ResolutionRequest {
    fn from(r: ReturnResolution) -> Self {
        match r {
            ReturnResolution::Refund => Self::Refund,
            ReturnResolution::StoreCredit => Self::StoreCredit,
            ReturnResolution::Exchange => Self::Exchange,
        }
    }
}

/// One line of a return request.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReturnRequestLine {
    /// The order line (`L1`).
    pub line_id: String,
    /// Units.
    pub quantity: u32,
    /// Why.
    pub reason: ReturnReason,
    /// Whether the goods were opened.
    #[uniffi(default = false)]
    pub opened: bool,
}

/// A replacement wanted in an exchange.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ExchangeItem {
    /// The variant (SKU).
    pub variant: String,
    /// Units.
    pub quantity: u32,
    /// Price of one unit in the order's currency, as exact decimal text.
    pub unit_price: ExactDecimal,
}

/// Units of one line found in one condition.
#[derive(Debug, Clone, uniffi::Record)]
pub struct InspectedUnits {
    /// The order line.
    pub line_id: String,
    /// What was found.
    pub outcome: InspectionOutcome,
    /// Units.
    pub quantity: u32,
}

/// One line of a return as it stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RmaLine {
    /// The order line.
    pub line_id: String,
    /// The variant (SKU).
    pub variant: String,
    /// Units asked.
    pub quantity: u32,
    /// Why.
    pub reason: ReturnReason,
    /// Units that arrived.
    pub received: u32,
    /// Units restocked.
    pub restocked: u32,
    /// Units quarantined.
    pub quarantined: u32,
    /// Units written off.
    pub written_off: u32,
}

/// A return (RMA).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Rma {
    /// `R1`, `R2`, ...
    pub id: String,
    /// Where it stands.
    pub status: RmaStatus,
    /// Lines.
    pub lines: Vec<RmaLine>,
    /// The policy rule a request broke (`return_window`, `non_returnable`,
    /// `opened_goods`), kept after an override.
    pub failed_rule: Option<String>,
    /// The rule's details for people.
    pub failure_detail: Option<String>,
    /// Why a person approved it against the policy.
    pub override_reason: Option<String>,
    /// The return label's tracking number, once bought.
    pub label_tracking_number: Option<String>,
    /// The replacement order of an exchange.
    pub replacement_order: Option<String>,
    /// How it was settled, once resolved.
    pub resolution: Option<ReturnResolution>,
    /// What the received units were worth, line by line, once resolved.
    pub breakdown: Option<RefundQuote>,
}

/// A customer's store credit.
#[derive(Debug, Clone, uniffi::Record)]
pub struct StoreCredit {
    /// The customer.
    pub customer_id: String,
    /// What can be spent (never negative).
    pub balance: Money,
    /// Changes saved.
    pub version: u64,
}

fn quote(b: core::RefundBreakdown) -> RefundQuote {
    RefundQuote {
        lines: b
            .lines
            .into_iter()
            .map(|l| LineRefund {
                line_id: l.line_id.to_string(),
                quantity: l.quantity,
                paid: l.paid.into(),
                tax: l.tax.into(),
                shipping: l.shipping.into(),
                restocking_fee: l.restocking_fee.into(),
                total: l.total.into(),
            })
            .collect(),
        total: b.total.into(),
    }
}

impl From<core::Rma> for Rma {
    fn from(r: core::Rma) -> Self {
        let resolution = r.resolution.as_ref().map(|res| match res {
            core::Resolution::Refund { .. } => ReturnResolution::Refund,
            core::Resolution::StoreCredit { .. } => ReturnResolution::StoreCredit,
            core::Resolution::Exchange { .. } => ReturnResolution::Exchange,
        });
        Rma {
            id: r.id,
            status: r.status.into(),
            lines: r
                .lines
                .into_iter()
                .map(|l| RmaLine {
                    line_id: l.line_id.to_string(),
                    variant: l.variant.to_string(),
                    quantity: l.quantity,
                    reason: l.reason.into(),
                    received: l.received,
                    restocked: l.restocked,
                    quarantined: l.quarantined,
                    written_off: l.written_off,
                })
                .collect(),
            failed_rule: r.policy_failure.as_ref().map(|f| f.rule.clone()),
            failure_detail: r.policy_failure.map(|f| f.detail),
            override_reason: r.override_reason,
            label_tracking_number: r.label.and_then(|l| l.tracking_number),
            replacement_order: r.replacement_order.map(|o| o.to_string()),
            resolution,
            breakdown: r.resolution.map(|res| quote(res.breakdown().clone())),
        }
    }
}

impl Engine {
    fn return_step(
        &self,
        order_id: String,
        ctx: Option<CallContext>,
        command: ReturnCommand,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.execute_return(&id, command, &ctx))?
            .try_into()
    }
}

fn units(lines: Vec<LineUnits>) -> Result<Vec<LineQuantity>, OrdersmithError> {
    lines
        .into_iter()
        .map(|l| Ok(LineQuantity::new(LineId::parse(l.line_id)?, l.quantity)))
        .collect()
}

#[uniffi::export]
impl Engine {
    /// Asks for a return; the shop's return policy approves or rejects it at once
    /// (`rmas(orderId).last().failedRule` names the rule). `exchange`: the
    /// replacement wanted, for an exchange.
    #[uniffi::method(default(note = None, exchange = None, ctx = None))]
    pub fn request_return(
        &self,
        order_id: String,
        lines: Vec<ReturnRequestLine>,
        note: Option<String>,
        exchange: Option<Vec<ExchangeItem>>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let lines = lines
            .into_iter()
            .map(|l| {
                Ok(ReturnLineRequest {
                    line_id: LineId::parse(l.line_id)?,
                    quantity: l.quantity,
                    reason: l.reason.into(),
                    opened: l.opened,
                })
            })
            .collect::<Result<Vec<_>, OrdersmithError>>()?;
        let id = OrderId::parse(order_id.clone())?;
        let mut replacement = Vec::new();
        for x in exchange.unwrap_or_default() {
            let variant = ordersmith::ids::VariantId::parse(x.variant)?;
            let price = x.unit_price.parse()?;
            let unit_price = self.call(|e| e.in_order_currency(&id, price))?;
            replacement.push(core::ExchangeLine {
                variant,
                quantity: x.quantity,
                unit_price,
                title: None,
                tax_lines: Vec::new(),
            });
        }
        self.return_step(
            order_id,
            ctx,
            ReturnCommand::Request {
                lines,
                note,
                exchange: replacement,
            },
        )
    }

    /// A person approves a rejected return against the policy, with a reason.
    #[uniffi::method(default(ctx = None))]
    pub fn override_return(
        &self,
        order_id: String,
        rma: String,
        reason: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.return_step(order_id, ctx, ReturnCommand::Override { rma, reason })
    }

    /// A person rejects a return before anything arrived, with a reason.
    #[uniffi::method(default(ctx = None))]
    pub fn reject_return(
        &self,
        order_id: String,
        rma: String,
        reason: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.return_step(order_id, ctx, ReturnCommand::Reject { rma, reason })
    }

    /// Asks the host for a return label (effect `return.label_requested`).
    #[uniffi::method(default(ctx = None))]
    pub fn request_return_label(
        &self,
        order_id: String,
        rma: String,
        service: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.return_step(order_id, ctx, ReturnCommand::RequestLabel { rma, service })
    }

    /// Records the return label the host bought (the same one again changes nothing).
    #[uniffi::method(default(ctx = None))]
    pub fn record_return_label(
        &self,
        order_id: String,
        rma: String,
        carrier: String,
        tracking_number: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.return_step(
            order_id,
            ctx,
            ReturnCommand::RecordLabel {
                rma,
                carrier,
                tracking_number,
            },
        )
    }

    /// Records that the goods are on their way back.
    #[uniffi::method(default(ctx = None))]
    pub fn mark_return_in_transit(
        &self,
        order_id: String,
        rma: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.return_step(order_id, ctx, ReturnCommand::MarkInTransit { rma })
    }

    /// Records returned units arriving at `location` (partial receipts allowed).
    #[uniffi::method(default(ctx = None))]
    pub fn receive_return(
        &self,
        order_id: String,
        rma: String,
        location: String,
        lines: Vec<LineUnits>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let location = LocationId::parse(location)?;
        let lines = units(lines)?;
        self.return_step(
            order_id,
            ctx,
            ReturnCommand::Receive {
                rma,
                location,
                lines,
            },
        )
    }

    /// Records what inspection found: resellable units are restocked, others
    /// quarantined or written off.
    #[uniffi::method(default(ctx = None))]
    pub fn inspect_return(
        &self,
        order_id: String,
        rma: String,
        units: Vec<InspectedUnits>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let units = units
            .into_iter()
            .map(|u| {
                Ok(UnitInspection {
                    line_id: LineId::parse(u.line_id)?,
                    outcome: u.outcome.into(),
                    quantity: u.quantity,
                    note: None,
                })
            })
            .collect::<Result<Vec<_>, OrdersmithError>>()?;
        self.return_step(order_id, ctx, ReturnCommand::Inspect { rma, units })
    }

    /// Settles a return as a refund, store credit or an exchange.
    #[uniffi::method(default(ctx = None))]
    pub fn resolve_return(
        &self,
        order_id: String,
        rma: String,
        resolution: ReturnResolution,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.return_step(
            order_id,
            ctx,
            ReturnCommand::Resolve {
                rma,
                resolution: resolution.into(),
            },
        )
    }

    /// Closes a return.
    #[uniffi::method(default(ctx = None))]
    pub fn close_return(
        &self,
        order_id: String,
        rma: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.return_step(order_id, ctx, ReturnCommand::Close { rma })
    }

    /// The order's returns, oldest first.
    pub fn rmas(&self, order_id: String) -> Result<Vec<Rma>, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let order = self.call(|e| e.order(&id))?;
        Ok(order.rmas.into_iter().map(Rma::from).collect())
    }

    /// What the units a return received are worth now, line by line.
    pub fn return_value(
        &self,
        order_id: String,
        rma: String,
    ) -> Result<RefundQuote, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        Ok(quote(self.call(|e| e.return_value(&id, &rma))?))
    }

    /// A customer's store credit (`null` if never credited).
    pub fn store_credit(
        &self,
        customer_id: String,
    ) -> Result<Option<StoreCredit>, OrdersmithError> {
        let customer = CustomerId::parse(customer_id)?;
        let account = self.call(|e| e.store_credit(&customer))?;
        Ok(account.map(|a| StoreCredit {
            customer_id: a.customer.to_string(),
            balance: a.balance.into(),
            version: a.version,
        }))
    }

    /// Pays `amount` of an order from its customer's store credit; never below zero.
    #[uniffi::method(default(ctx = None))]
    pub fn spend_store_credit(
        &self,
        order_id: String,
        amount: ExactDecimal,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        let amount = amount.parse()?;
        self.call(|e| {
            let amount = e.in_order_currency(&id, amount)?;
            e.spend_store_credit(&id, amount, &ctx)
        })?
        .try_into()
    }
}
