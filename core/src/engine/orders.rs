//! Order commands on the engine: one method per command, all through [`Engine::execute`].

use rust_decimal::Decimal;

use crate::ids::OrderId;
use crate::money::Money;
use crate::order::{
    CancelReason, HoldReason, LineEdit, LineEditInput, LineQuantity, Order, OrderCommand,
    OrderError,
};

use super::{CommandContext, Engine, EngineError};

impl Engine {
    /// Accepts a pending order.
    pub fn confirm_order(&self, id: &OrderId, ctx: &CommandContext) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Confirm, ctx)
    }

    /// Puts an order on hold with a reason.
    pub fn hold_order(
        &self,
        id: &OrderId,
        reason: HoldReason,
        note: Option<String>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Hold { reason, note }, ctx)
    }

    /// Releases a hold, back to the status before it.
    pub fn release_hold(&self, id: &OrderId, ctx: &CommandContext) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::ReleaseHold, ctx)
    }

    /// Cancels the whole order.
    pub fn cancel_order(
        &self,
        id: &OrderId,
        reason: CancelReason,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Cancel { reason }, ctx)
    }

    /// Cancels some units of some lines.
    pub fn cancel_lines(
        &self,
        id: &OrderId,
        lines: Vec<LineQuantity>,
        reason: CancelReason,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::CancelLines { lines, reason }, ctx)
    }

    /// Edits lines before they ship.
    pub fn edit_order(
        &self,
        id: &OrderId,
        edits: Vec<LineEdit>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::EditLines { edits }, ctx)
    }

    /// Records a payment.
    pub fn record_payment(
        &self,
        id: &OrderId,
        amount: Money,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordPayment { amount }, ctx)
    }

    /// Records payment of the whole balance due. The amount is taken when the command
    /// runs, under the writer, so a retry with the same idempotency key returns the
    /// first result instead of recomputing a balance of zero.
    pub fn mark_paid(&self, id: &OrderId, ctx: &CommandContext) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::MarkPaid, ctx)
    }

    /// Records a payment of `amount` in the order's own currency.
    pub fn record_payment_amount(
        &self,
        id: &OrderId,
        amount: Decimal,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let amount = self.in_order_currency(id, amount)?;
        self.record_payment(id, amount, ctx)
    }

    /// Records a refund of `amount` in the order's own currency.
    pub fn record_refund_amount(
        &self,
        id: &OrderId,
        amount: Decimal,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let amount = self.in_order_currency(id, amount)?;
        self.record_refund(id, amount, ctx)
    }

    /// Edits lines given in the flat input format (amounts in the order's currency).
    pub fn edit_order_input(
        &self,
        id: &OrderId,
        edits: Vec<LineEditInput>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let currency = self.load(id)?.currency;
        let edits = edits
            .into_iter()
            .map(|e| e.into_edit(currency))
            .collect::<Result<Vec<_>, _>>()?;
        self.edit_order(id, edits, ctx)
    }

    /// Records a refund.
    pub fn record_refund(
        &self,
        id: &OrderId,
        amount: Money,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordRefund { amount }, ctx)
    }

    /// Records shipped units.
    pub fn record_shipment(
        &self,
        id: &OrderId,
        lines: Vec<LineQuantity>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordShipment { lines }, ctx)
    }

    /// Records delivered units.
    pub fn record_delivery(
        &self,
        id: &OrderId,
        lines: Vec<LineQuantity>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordDelivery { lines }, ctx)
    }

    /// Records returned units.
    pub fn record_return(
        &self,
        id: &OrderId,
        lines: Vec<LineQuantity>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::RecordReturn { lines }, ctx)
    }

    /// Closes a fully shipped order.
    pub fn complete_order(&self, id: &OrderId, ctx: &CommandContext) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Complete, ctx)
    }

    /// Adds and removes tags.
    pub fn tag_order(
        &self,
        id: &OrderId,
        add: Vec<String>,
        remove: Vec<String>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Tag { add, remove }, ctx)
    }

    /// Adds a staff note.
    pub fn add_note(
        &self,
        id: &OrderId,
        note: String,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::AddNote { note }, ctx)
    }

    /// `amount` as money in the order's own currency (refused if too precise for it).
    pub fn in_order_currency(&self, id: &OrderId, amount: Decimal) -> Result<Money, EngineError> {
        let currency = self.load(id)?.currency;
        Ok(Money::new(amount, currency).map_err(OrderError::from)?)
    }
}

impl Engine {
    /// Runs one payment step (authorise, capture, void, refund, or a provider's
    /// confirmation of one) on an order; see [`crate::payment`].
    pub fn pay(
        &self,
        id: &OrderId,
        step: crate::order::PaymentCommand,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(id, OrderCommand::Pay(step), ctx)
    }
}
