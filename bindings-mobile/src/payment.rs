//! Payments through a provider and refund quotes on the engine: one method per payment
//! step and per provider confirmation (amounts in the order's currency, as exact
//! decimal text), and what returning some units would refund.

use ordersmith::ids::{LineId, OrderId};
use ordersmith::order::{LineQuantity, PaymentCommand};
use ordersmith::returns::RefundPolicy;

use crate::convert::{context, CallContext};
use crate::engine::Engine;
use crate::errors::OrdersmithError;
use crate::money::{ExactDecimal, Money};
use crate::order::Order;

/// One line's units to return.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReturnLine {
    /// The order line (`L1`).
    pub line_id: String,
    /// Units.
    pub quantity: u32,
}

/// The refund of one line's returned units.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LineRefund {
    /// The line.
    pub line_id: String,
    /// Units refunded.
    pub quantity: u32,
    /// What the customer paid for them, after discounts, tax included.
    pub paid: Money,
    /// Of which tax.
    pub tax: Money,
    /// Their share of shipping (zero unless refunded by policy).
    pub shipping: Money,
    /// The restocking fee kept.
    pub restocking_fee: Money,
    /// `paid + shipping − restocking_fee`.
    pub total: Money,
}

/// A refund quote, line by line.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RefundQuote {
    /// Per line.
    pub lines: Vec<LineRefund>,
    /// The sum of the lines' totals.
    pub total: Money,
}

/// One payment step with its amount still as text.
enum Step {
    Authorise(String, Option<String>),
    ConfirmAuthorisation(String, String),
    Capture(String),
    ConfirmCapture(String, String),
    Refund(String),
    ConfirmRefund(String, String),
}

impl Engine {
    /// A payment step that carries no amount (a refusal, a void).
    fn payment_plain(
        &self,
        order_id: String,
        command: PaymentCommand,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.pay(&id, command, &ctx))?.try_into()
    }

    fn payment_step(
        &self,
        order_id: String,
        step: Step,
        amount: ExactDecimal,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        let amount = amount.parse()?;
        self.call(|e| {
            let amount = e.in_order_currency(&id, amount)?;
            let command = match step {
                Step::Authorise(provider, method) => PaymentCommand::Authorise {
                    provider,
                    method,
                    amount,
                },
                Step::ConfirmAuthorisation(payment, provider_ref) => {
                    PaymentCommand::ConfirmAuthorisation {
                        payment,
                        provider_ref,
                        amount,
                    }
                }
                Step::Capture(payment) => PaymentCommand::Capture { payment, amount },
                Step::ConfirmCapture(payment, provider_ref) => PaymentCommand::ConfirmCapture {
                    payment,
                    provider_ref,
                    amount,
                },
                Step::Refund(payment) => PaymentCommand::Refund { payment, amount },
                Step::ConfirmRefund(payment, provider_ref) => PaymentCommand::ConfirmRefund {
                    payment,
                    provider_ref,
                    amount,
                },
            };
            e.pay(&id, command, &ctx)
        })?
        .try_into()
    }
}

#[uniffi::export]
impl Engine {
    /// Asks the provider to authorise `amount` (at most the balance due): an effect
    /// `payment.authorisation_requested`; the payment is `P1`, `P2`, ... in order.
    #[uniffi::method(default(method = None, ctx = None))]
    pub fn authorise_payment(
        &self,
        order_id: String,
        provider: String,
        amount: ExactDecimal,
        method: Option<String>,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.payment_step(order_id, Step::Authorise(provider, method), amount, ctx)
    }

    /// The provider authorised `amount` under `provider_ref` (a repeat changes nothing).
    #[uniffi::method(default(ctx = None))]
    pub fn confirm_authorisation(
        &self,
        order_id: String,
        payment: String,
        provider_ref: String,
        amount: ExactDecimal,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let step = Step::ConfirmAuthorisation(payment, provider_ref);
        self.payment_step(order_id, step, amount, ctx)
    }

    /// Asks the provider to capture `amount` of the authorisation.
    #[uniffi::method(default(ctx = None))]
    pub fn capture_payment(
        &self,
        order_id: String,
        payment: String,
        amount: ExactDecimal,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.payment_step(order_id, Step::Capture(payment), amount, ctx)
    }

    /// The provider captured `amount` under `provider_ref`.
    #[uniffi::method(default(ctx = None))]
    pub fn confirm_capture(
        &self,
        order_id: String,
        payment: String,
        provider_ref: String,
        amount: ExactDecimal,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let step = Step::ConfirmCapture(payment, provider_ref);
        self.payment_step(order_id, step, amount, ctx)
    }

    /// Asks the provider to refund `amount` of what was captured.
    #[uniffi::method(default(ctx = None))]
    pub fn refund_payment(
        &self,
        order_id: String,
        payment: String,
        amount: ExactDecimal,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.payment_step(order_id, Step::Refund(payment), amount, ctx)
    }

    /// The provider refunded `amount` under `provider_ref`.
    #[uniffi::method(default(ctx = None))]
    pub fn confirm_refund(
        &self,
        order_id: String,
        payment: String,
        provider_ref: String,
        amount: ExactDecimal,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        let step = Step::ConfirmRefund(payment, provider_ref);
        self.payment_step(order_id, step, amount, ctx)
    }

    /// Voids an authorisation nothing was captured from.
    #[uniffi::method(default(ctx = None))]
    pub fn void_payment(
        &self,
        order_id: String,
        payment: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.payment_plain(order_id, PaymentCommand::Void { payment }, ctx)
    }

    /// The provider refused the capture asked of it, or settles no more of it: what is
    /// still pending is released (`payment.capture_failed`).
    #[uniffi::method(default(ctx = None))]
    pub fn fail_capture(
        &self,
        order_id: String,
        payment: String,
        reason: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.payment_plain(
            order_id,
            PaymentCommand::FailCapture { payment, reason },
            ctx,
        )
    }

    /// The provider refused the refund asked of it, or settles no more of it: what is
    /// still pending is released (`payment.refund_failed`), so the money can be given
    /// back again, through the provider or recorded outside it.
    #[uniffi::method(default(ctx = None))]
    pub fn fail_refund(
        &self,
        order_id: String,
        payment: String,
        reason: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.payment_plain(
            order_id,
            PaymentCommand::FailRefund { payment, reason },
            ctx,
        )
    }

    /// The provider refused the authorisation.
    #[uniffi::method(default(ctx = None))]
    pub fn fail_authorisation(
        &self,
        order_id: String,
        payment: String,
        reason: String,
        ctx: Option<CallContext>,
    ) -> Result<Order, OrdersmithError> {
        self.payment_plain(
            order_id,
            PaymentCommand::FailAuthorisation { payment, reason },
            ctx,
        )
    }

    /// What returning `lines` now would refund, after the returns the order already
    /// records; `restocking_fee_rate` is a fraction of the goods (`"0.10"`), 0 to 1.
    #[uniffi::method(default(refund_shipping = false, restocking_fee_rate = None))]
    pub fn refund_quote(
        &self,
        order_id: String,
        lines: Vec<ReturnLine>,
        refund_shipping: bool,
        restocking_fee_rate: Option<ExactDecimal>,
    ) -> Result<RefundQuote, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let lines = lines
            .into_iter()
            .map(|l| Ok(LineQuantity::new(LineId::parse(l.line_id)?, l.quantity)))
            .collect::<Result<Vec<_>, OrdersmithError>>()?;
        let policy = RefundPolicy {
            refund_shipping,
            restocking_fee_rate: restocking_fee_rate
                .map(|r| r.parse())
                .transpose()?
                .unwrap_or_default(),
        };
        let quote = self.call(|e| e.refund_quote(&id, &lines, &policy))?;
        Ok(RefundQuote {
            lines: quote
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
            total: quote.total.into(),
        })
    }
}
