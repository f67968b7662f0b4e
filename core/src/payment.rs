//! Payments through a provider: authorise, capture (full or partial, several times),
//! void an authorisation, refund (full or partial, several times).
//!
//! Provider calls are effects: a request step records what is asked and leaves an
//! outbox record (`payment.authorisation_requested`, `payment.capture_requested`,
//! `payment.refund_requested`, `payment.void_requested`) that the host performs with
//! its provider; the host then confirms what the provider did. A confirmation names the
//! provider's reference, and the same reference confirmed again changes nothing, so a
//! webhook delivered twice is harmless. Amounts are checked at every step: never more
//! captured than authorised, never more refunded than captured. A provider that refuses
//! a capture or a refund, or settles less than was asked, is reported with
//! `fail_capture` / `fail_refund`: what was pending is released
//! (`payment.capture_failed`, `payment.refund_failed`), so it can be asked again or the
//! money moved another way, instead of staying reserved for good.
//!
//! Payments live in the order aggregate (`Order::payments`) and change through order
//! events. `record_payment` / `mark_paid` keep working as money "captured outside
//! ordersmith"; both feed the order's paid and refunded amounts.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Where one payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Authorisation asked of the provider, not yet confirmed.
    Requested,
    /// Authorised; nothing captured yet.
    Authorised,
    /// Part of the authorisation captured.
    PartiallyCaptured,
    /// Everything authorised captured.
    Captured,
    /// Part of what was captured refunded.
    PartiallyRefunded,
    /// Everything captured refunded.
    Refunded,
    /// The authorisation was voided before anything was captured.
    Voided,
    /// The provider refused the authorisation.
    Failed,
}

impl PaymentState {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Authorised => "authorised",
            Self::PartiallyCaptured => "partially_captured",
            Self::Captured => "captured",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Voided => "voided",
            Self::Failed => "failed",
        }
    }
}

/// One payment through a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Id, unique in the order (`P1`, `P2`, ...).
    pub id: String,
    /// The provider (`"iyzico"`, `"stripe"`, ...).
    pub provider: String,
    /// How the customer pays (`"card"`, `"bank_transfer"`, ...), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Amount asked to be authorised.
    pub requested: Money,
    /// Amount authorised.
    pub authorised: Money,
    /// Amount captured.
    pub captured: Money,
    /// Amount refunded.
    pub refunded: Money,
    /// Capture asked of the provider and not yet confirmed.
    pub capture_pending: Money,
    /// Refund asked of the provider and not yet confirmed.
    pub refund_pending: Money,
    /// Where it stands.
    pub state: PaymentState,
    /// Provider references already confirmed (a repeat changes nothing).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub provider_refs: BTreeSet<String>,
    /// Why the provider refused it, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl Payment {
    /// A payment whose authorisation was just requested.
    pub fn requested(id: String, provider: String, method: Option<String>, amount: Money) -> Self {
        let zero = Money::zero(amount.currency());
        Payment {
            id,
            provider,
            method,
            requested: amount,
            authorised: zero,
            captured: zero,
            refunded: zero,
            capture_pending: zero,
            refund_pending: zero,
            state: PaymentState::Requested,
            provider_refs: BTreeSet::new(),
            failure: None,
        }
    }

    /// Recomputes the state from the amounts (after a step).
    pub(crate) fn settle(&mut self) {
        if matches!(self.state, PaymentState::Voided | PaymentState::Failed) {
            return;
        }
        self.state = if !self.refunded.is_zero() {
            if self.refunded.amount() >= self.captured.amount() {
                PaymentState::Refunded
            } else {
                PaymentState::PartiallyRefunded
            }
        } else if !self.captured.is_zero() {
            if self.captured.amount() >= self.authorised.amount() {
                PaymentState::Captured
            } else {
                PaymentState::PartiallyCaptured
            }
        } else if !self.authorised.is_zero() {
            PaymentState::Authorised
        } else {
            PaymentState::Requested
        };
    }
}

/// Why a payment step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum PaymentError {
    /// No payment with this id on the order.
    #[error("payment {payment} does not exist on this order")]
    UnknownPayment {
        /// The id asked for.
        payment: String,
    },
    /// The step does not fit where the payment stands.
    #[error("payment {payment} is {state}: {action} is not possible")]
    InvalidState {
        /// The payment.
        payment: String,
        /// Its state.
        state: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// More captured than authorised (and not already being captured).
    #[error("capture of {amount} exceeds the {available} still authorised")]
    CaptureExceedsAuthorised {
        /// The amount asked.
        amount: Money,
        /// What can still be captured.
        available: Money,
    },
    /// More refunded than captured (and not already being refunded).
    #[error("refund of {amount} exceeds the {available} captured and not refunded")]
    RefundExceedsCaptured {
        /// The amount asked.
        amount: Money,
        /// What can still be refunded.
        available: Money,
    },
    /// A confirmation for more than was asked of the provider.
    #[error("confirmation of {amount} exceeds the {pending} asked of the provider")]
    ConfirmExceedsRequest {
        /// The amount confirmed.
        amount: Money,
        /// What was asked and not yet confirmed.
        pending: Money,
    },
    /// An amount not above zero, in another currency, or a bad provider text.
    #[error("{field} is invalid: {reason}")]
    InvalidInput {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl PaymentError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "PAYMENT_UNKNOWN",
        "PAYMENT_INVALID_STATE",
        "PAYMENT_CAPTURE_EXCEEDS_AUTHORISED",
        "PAYMENT_REFUND_EXCEEDS_CAPTURED",
        "PAYMENT_CONFIRM_EXCEEDS_REQUEST",
        "PAYMENT_INVALID_INPUT",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownPayment { .. } => "PAYMENT_UNKNOWN",
            Self::InvalidState { .. } => "PAYMENT_INVALID_STATE",
            Self::CaptureExceedsAuthorised { .. } => "PAYMENT_CAPTURE_EXCEEDS_AUTHORISED",
            Self::RefundExceedsCaptured { .. } => "PAYMENT_REFUND_EXCEEDS_CAPTURED",
            Self::ConfirmExceedsRequest { .. } => "PAYMENT_CONFIRM_EXCEEDS_REQUEST",
            Self::InvalidInput { .. } => "PAYMENT_INVALID_INPUT",
        }
    }
}
