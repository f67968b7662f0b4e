//! Payments through a provider on `Engine`: one method per step (authorise, capture,
//! void, refund) and per provider confirmation. Amounts are `Decimal` in the order's
//! currency. Requests leave as outbox effects (`payment.*_requested`) the host performs
//! with its provider; confirmations are idempotent by the provider's reference.

use ordersmith::engine::Engine;
use ordersmith::order::PaymentCommand;
use pyo3::prelude::*;

use crate::args::{names, Text};
use crate::convert::{context, decimal_arg};
use crate::engine::{parse_order_id, PyEngine};
use crate::errors::core_error;
use crate::order::PyOrder;

/// Which step, with its text fields, before the amount is put in the order's currency.
enum Step {
    Authorise {
        provider: String,
        method: Option<String>,
    },
    ConfirmAuthorisation {
        payment: String,
        provider_ref: String,
    },
    Capture {
        payment: String,
    },
    ConfirmCapture {
        payment: String,
        provider_ref: String,
    },
    Refund {
        payment: String,
    },
    ConfirmRefund {
        payment: String,
        provider_ref: String,
    },
}

impl PyEngine {
    fn payment_step(
        &self,
        py: Python<'_>,
        order_id: &str,
        step: Step,
        amount: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let id = parse_order_id(py, order_id)?;
        let ctx = context(
            py,
            actor.as_ref().map(Text::as_str),
            idempotency_key.map(|v| v.0),
        )?;
        let amount = decimal_arg(amount, "amount")?;
        let engine = self.engine(py)?;
        let amount = engine
            .in_order_currency(&id, amount)
            .map_err(|e| core_error(py, &e))?;
        let command = match step {
            Step::Authorise { provider, method } => PaymentCommand::Authorise {
                provider,
                method,
                amount,
            },
            Step::ConfirmAuthorisation {
                payment,
                provider_ref,
            } => PaymentCommand::ConfirmAuthorisation {
                payment,
                provider_ref,
                amount,
            },
            Step::Capture { payment } => PaymentCommand::Capture { payment, amount },
            Step::ConfirmCapture {
                payment,
                provider_ref,
            } => PaymentCommand::ConfirmCapture {
                payment,
                provider_ref,
                amount,
            },
            Step::Refund { payment } => PaymentCommand::Refund { payment, amount },
            Step::ConfirmRefund {
                payment,
                provider_ref,
            } => PaymentCommand::ConfirmRefund {
                payment,
                provider_ref,
                amount,
            },
        };
        self.order_call(py, |e: &Engine| e.pay(&id, command, &ctx))
    }

    fn payment_plain(
        &self,
        py: Python<'_>,
        order_id: &str,
        command: PaymentCommand,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let id = parse_order_id(py, order_id)?;
        let ctx = context(
            py,
            actor.as_ref().map(Text::as_str),
            idempotency_key.map(|v| v.0),
        )?;
        self.order_call(py, |e: &Engine| e.pay(&id, command, &ctx))
    }
}

#[pymethods]
impl PyEngine {
    /// Asks the provider to authorise `amount` (at most the balance due); the new
    /// payment is `order.payments[-1]` (`P1`, `P2`, ...).
    #[pyo3(signature = (order_id, provider, amount, method=None, *, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn authorise_payment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        provider: Text<names::provider>,
        amount: &Bound<'_, PyAny>,
        method: Option<Text<names::method>>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let step = Step::Authorise {
            provider: provider.0,
            method: method.map(|m| m.0),
        };
        self.payment_step(py, order_id.as_str(), step, amount, actor, idempotency_key)
    }

    /// The provider authorised `amount` under its reference `provider_ref`.
    #[pyo3(signature = (order_id, payment, provider_ref, amount, *, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn confirm_authorisation(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        payment: Text<names::payment>,
        provider_ref: Text<names::provider_ref>,
        amount: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let step = Step::ConfirmAuthorisation {
            payment: payment.0,
            provider_ref: provider_ref.0,
        };
        self.payment_step(py, order_id.as_str(), step, amount, actor, idempotency_key)
    }

    /// The provider refused the authorisation.
    #[pyo3(signature = (order_id, payment, reason, *, actor=None, idempotency_key=None))]
    fn fail_authorisation(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        payment: Text<names::payment>,
        reason: Text<names::reason>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let command = PaymentCommand::FailAuthorisation {
            payment: payment.0,
            reason: reason.0,
        };
        self.payment_plain(py, order_id.as_str(), command, actor, idempotency_key)
    }

    /// Asks the provider to capture `amount` of the authorisation.
    #[pyo3(signature = (order_id, payment, amount, *, actor=None, idempotency_key=None))]
    fn capture_payment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        payment: Text<names::payment>,
        amount: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let step = Step::Capture { payment: payment.0 };
        self.payment_step(py, order_id.as_str(), step, amount, actor, idempotency_key)
    }

    /// The provider captured `amount` under its reference `provider_ref`.
    #[pyo3(signature = (order_id, payment, provider_ref, amount, *, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn confirm_capture(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        payment: Text<names::payment>,
        provider_ref: Text<names::provider_ref>,
        amount: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let step = Step::ConfirmCapture {
            payment: payment.0,
            provider_ref: provider_ref.0,
        };
        self.payment_step(py, order_id.as_str(), step, amount, actor, idempotency_key)
    }

    /// Voids an authorisation nothing was captured from.
    #[pyo3(signature = (order_id, payment, *, actor=None, idempotency_key=None))]
    fn void_payment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        payment: Text<names::payment>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let command = PaymentCommand::Void { payment: payment.0 };
        self.payment_plain(py, order_id.as_str(), command, actor, idempotency_key)
    }

    /// Asks the provider to refund `amount` of what was captured.
    #[pyo3(signature = (order_id, payment, amount, *, actor=None, idempotency_key=None))]
    fn refund_payment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        payment: Text<names::payment>,
        amount: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let step = Step::Refund { payment: payment.0 };
        self.payment_step(py, order_id.as_str(), step, amount, actor, idempotency_key)
    }

    /// The provider refunded `amount` under its reference `provider_ref`.
    #[pyo3(signature = (order_id, payment, provider_ref, amount, *, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn confirm_refund(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        payment: Text<names::payment>,
        provider_ref: Text<names::provider_ref>,
        amount: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let step = Step::ConfirmRefund {
            payment: payment.0,
            provider_ref: provider_ref.0,
        };
        self.payment_step(py, order_id.as_str(), step, amount, actor, idempotency_key)
    }

    /// The provider refused the capture asked of it, or settles no more of it: what is
    /// still pending is released (`payment.capture_failed`).
    #[pyo3(signature = (order_id, payment, reason, *, actor=None, idempotency_key=None))]
    fn fail_capture(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        payment: Text<names::payment>,
        reason: Text<names::reason>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let command = PaymentCommand::FailCapture {
            payment: payment.0,
            reason: reason.0,
        };
        self.payment_plain(py, order_id.as_str(), command, actor, idempotency_key)
    }

    /// The provider refused the refund asked of it, or settles no more of it: what is
    /// still pending is released (`payment.refund_failed`), so the money can be given
    /// back again, through the provider or recorded outside it.
    #[pyo3(signature = (order_id, payment, reason, *, actor=None, idempotency_key=None))]
    fn fail_refund(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        payment: Text<names::payment>,
        reason: Text<names::reason>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let command = PaymentCommand::FailRefund {
            payment: payment.0,
            reason: reason.0,
        };
        self.payment_plain(py, order_id.as_str(), command, actor, idempotency_key)
    }
}
