//! `decide` for payment steps: a step on an order → events, or a typed error. Pure.

use crate::money::Money;
use crate::payment::{Payment, PaymentError, PaymentState};

use super::command::PaymentCommand;
use super::error::OrderError;
use super::event::OrderEvent;
use super::model::Order;

/// Longest provider name, method, reference or failure reason, in characters.
const MAX_TEXT: usize = 256;
/// Payments per order.
const MAX_PAYMENTS: usize = 100;

fn text(field: &'static str, value: &str) -> Result<(), PaymentError> {
    let reason = if value.trim().is_empty() {
        Some("must not be empty")
    } else if value.chars().count() > MAX_TEXT {
        Some("is longer than 256 characters")
    } else if value.chars().any(char::is_control) {
        Some("has control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(PaymentError::InvalidInput { field, reason }),
        None => Ok(()),
    }
}

fn positive(order: &Order, field: &'static str, amount: &Money) -> Result<(), OrderError> {
    if amount.currency() != order.currency {
        return Err(OrderError::CurrencyMismatch {
            expected: order.currency,
            found: amount.currency(),
        });
    }
    if amount.is_negative() || amount.is_zero() {
        return Err(PaymentError::InvalidInput {
            field,
            reason: "must be greater than zero",
        }
        .into());
    }
    Ok(())
}

fn payment<'a>(order: &'a Order, id: &str) -> Result<&'a Payment, PaymentError> {
    order
        .payments
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| PaymentError::UnknownPayment {
            payment: id.to_string(),
        })
}

fn state(p: &Payment, action: &'static str) -> PaymentError {
    PaymentError::InvalidState {
        payment: p.id.clone(),
        state: p.state.as_str(),
        action,
    }
}

fn minus(a: &Money, b: &Money) -> Result<Money, OrderError> {
    Ok(a.checked_sub(b)?)
}

/// A provider's confirmation of a capture or refund: a reference already confirmed
/// changes nothing; otherwise the amount must be positive and at most what was asked
/// and is still pending.
fn confirm(
    order: &Order,
    id: &str,
    provider_ref: &str,
    amount: &Money,
    pending: impl Fn(&Payment) -> Money,
    event: impl Fn(&Payment) -> OrderEvent,
) -> Result<Vec<OrderEvent>, OrderError> {
    let p = payment(order, id)?;
    text("provider_ref", provider_ref)?;
    if p.provider_refs.contains(provider_ref) {
        return Ok(Vec::new());
    }
    positive(order, "amount", amount)?;
    let pending = pending(p);
    if amount.amount() > pending.amount() {
        return Err(PaymentError::ConfirmExceedsRequest {
            amount: *amount,
            pending,
        }
        .into());
    }
    Ok(vec![event(p)])
}

/// The events of one payment step on `order`.
pub(crate) fn decide_step(
    order: &Order,
    step: &PaymentCommand,
) -> Result<Vec<OrderEvent>, OrderError> {
    match step {
        PaymentCommand::Authorise {
            provider,
            method,
            amount,
        } => {
            text("provider", provider)?;
            if let Some(m) = method {
                text("method", m)?;
            }
            positive(order, "amount", amount)?;
            if order.payments.len() >= MAX_PAYMENTS {
                return Err(PaymentError::InvalidInput {
                    field: "payments",
                    reason: "an order holds at most 100 payments",
                }
                .into());
            }
            let due = order.balance_due()?;
            if amount.amount() > due.amount() {
                return Err(OrderError::Overpayment {
                    amount: *amount,
                    balance_due: due,
                });
            }
            Ok(vec![OrderEvent::PaymentAuthorisationRequested {
                payment: Box::new(Payment::requested(
                    format!("P{}", order.payments.len() + 1),
                    provider.clone(),
                    method.clone(),
                    *amount,
                )),
            }])
        }
        PaymentCommand::ConfirmAuthorisation {
            payment: id,
            provider_ref,
            amount,
        } => {
            let p = payment(order, id)?;
            text("provider_ref", provider_ref)?;
            if p.provider_refs.contains(provider_ref) {
                return Ok(Vec::new());
            }
            positive(order, "amount", amount)?;
            if p.state != PaymentState::Requested {
                return Err(state(p, "confirming an authorisation").into());
            }
            if amount.amount() > p.requested.amount() {
                return Err(PaymentError::ConfirmExceedsRequest {
                    amount: *amount,
                    pending: p.requested,
                }
                .into());
            }
            Ok(vec![OrderEvent::PaymentAuthorised(Box::new(
                crate::order::ProviderOutcome {
                    payment: p.id.clone(),
                    amount: *amount,
                    provider_ref: provider_ref.clone(),
                },
            ))])
        }
        PaymentCommand::FailAuthorisation {
            payment: id,
            reason,
        } => {
            let p = payment(order, id)?;
            text("reason", reason)?;
            if p.state != PaymentState::Requested {
                return Err(state(p, "failing an authorisation").into());
            }
            Ok(vec![OrderEvent::PaymentFailed {
                payment: p.id.clone(),
                reason: reason.clone(),
            }])
        }
        PaymentCommand::Capture {
            payment: id,
            amount,
        } => {
            let p = payment(order, id)?;
            positive(order, "amount", amount)?;
            let capturable = matches!(
                p.state,
                PaymentState::Authorised | PaymentState::PartiallyCaptured | PaymentState::Captured
            );
            if !capturable {
                return Err(state(p, "capturing").into());
            }
            let available = minus(&minus(&p.authorised, &p.captured)?, &p.capture_pending)?;
            if amount.amount() > available.amount() {
                return Err(PaymentError::CaptureExceedsAuthorised {
                    amount: *amount,
                    available,
                }
                .into());
            }
            // Nor more than the order still owes: two authorisations for the whole
            // order, or one beside a payment recorded outside, must not both be
            // captured in full.
            let due = order.payable()?;
            if amount.amount() > due.amount() {
                return Err(OrderError::Overpayment {
                    amount: *amount,
                    balance_due: due,
                });
            }
            Ok(vec![OrderEvent::PaymentCaptureRequested {
                payment: p.id.clone(),
                amount: *amount,
            }])
        }
        PaymentCommand::ConfirmCapture {
            payment: id,
            provider_ref,
            amount,
        } => confirm(
            order,
            id,
            provider_ref,
            amount,
            |p| p.capture_pending,
            |p| {
                OrderEvent::PaymentCaptured(Box::new(crate::order::ProviderOutcome {
                    payment: p.id.clone(),
                    amount: *amount,
                    provider_ref: provider_ref.clone(),
                }))
            },
        ),
        PaymentCommand::Void { payment: id } => {
            let p = payment(order, id)?;
            let voidable = matches!(p.state, PaymentState::Requested | PaymentState::Authorised)
                && p.capture_pending.is_zero();
            if !voidable {
                return Err(
                    state(p, "voiding (something was captured or is being captured)").into(),
                );
            }
            Ok(vec![OrderEvent::PaymentVoided {
                payment: p.id.clone(),
            }])
        }
        PaymentCommand::Refund {
            payment: id,
            amount,
        } => {
            let p = payment(order, id)?;
            positive(order, "amount", amount)?;
            let available = minus(&minus(&p.captured, &p.refunded)?, &p.refund_pending)?;
            if amount.amount() > available.amount() {
                return Err(PaymentError::RefundExceedsCaptured {
                    amount: *amount,
                    available,
                }
                .into());
            }
            // Nor more than the order has left to give back: a refund recorded outside
            // the provider already returned part of what this payment captured.
            let refundable = order.refundable()?;
            if amount.amount() > refundable.amount() {
                return Err(OrderError::RefundExceedsPaid {
                    amount: *amount,
                    refundable,
                });
            }
            Ok(vec![OrderEvent::PaymentRefundRequested {
                payment: p.id.clone(),
                amount: *amount,
            }])
        }
        PaymentCommand::FailCapture {
            payment: id,
            reason,
        } => release(
            order,
            id,
            reason,
            |p| p.capture_pending,
            "failing a capture (none is pending)",
            OrderEvent::PaymentCaptureFailed,
        ),
        PaymentCommand::FailRefund {
            payment: id,
            reason,
        } => release(
            order,
            id,
            reason,
            |p| p.refund_pending,
            "failing a refund (none is pending)",
            OrderEvent::PaymentRefundFailed,
        ),
        PaymentCommand::ConfirmRefund {
            payment: id,
            provider_ref,
            amount,
        } => confirm(
            order,
            id,
            provider_ref,
            amount,
            |p| p.refund_pending,
            |p| {
                OrderEvent::PaymentRefunded(Box::new(crate::order::ProviderOutcome {
                    payment: p.id.clone(),
                    amount: *amount,
                    provider_ref: provider_ref.clone(),
                }))
            },
        ),
    }
}

/// The provider refused what `pending` says is asked of it on payment `id`: all of it
/// is released by the event `make` builds; nothing pending is refused as `action`.
fn release(
    order: &Order,
    id: &str,
    reason: &str,
    pending: impl Fn(&Payment) -> Money,
    action: &'static str,
    make: impl Fn(Box<crate::order::ProviderFailure>) -> OrderEvent,
) -> Result<Vec<OrderEvent>, OrderError> {
    let p = payment(order, id)?;
    text("reason", reason)?;
    let amount = pending(p);
    if amount.is_zero() {
        return Err(state(p, action).into());
    }
    Ok(vec![make(Box::new(crate::order::ProviderFailure {
        payment: p.id.clone(),
        amount,
        reason: reason.to_string(),
    }))])
}
