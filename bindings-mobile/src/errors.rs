//! The one place core errors become the binding's error type.
//!
//! Every core error enum has a stable code, and `ordersmith::errors` classifies each
//! code by what a caller can do about it. Kotlin and Swift see one sealed error type
//! (`OrdersmithException` / `OrdersmithError`) with one case per kind, each carrying
//! the core's code, its message and its details. A bad value from the host is refused
//! here with its code, never as uniffi's generic internal error.

use ordersmith::errors::{self, ErrorKind as CoreKind, OrdersmithError as CoreError};

/// Why a call failed. Nothing was saved when one is raised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum OrdersmithError {
    /// The input was malformed or out of range: fix the input.
    #[error("{code}: {reason}")]
    InvalidInput {
        /// The core's stable code, e.g. `MONEY_INVALID_AMOUNT`.
        code: String,
        /// A sentence for people.
        reason: String,
        /// The error's fields as a JSON object, for machines.
        details_json: String,
    },
    /// Something named in the input does not exist.
    #[error("{code}: {reason}")]
    NotFound {
        /// The core's stable code, e.g. `ORDER_NOT_FOUND`.
        code: String,
        /// A sentence for people.
        reason: String,
        /// The error's fields as a JSON object, for machines.
        details_json: String,
    },
    /// A concurrent change or an earlier use of the same key got there first.
    #[error("{code}: {reason}")]
    Conflict {
        /// The core's stable code, e.g. `ENGINE_IDEMPOTENCY_MISMATCH`.
        code: String,
        /// A sentence for people.
        reason: String,
        /// The error's fields as a JSON object, for machines.
        details_json: String,
    },
    /// Well-formed, but the current state does not allow it.
    #[error("{code}: {reason}")]
    Rejected {
        /// The core's stable code, e.g. `ORDER_INVALID_TRANSITION`.
        code: String,
        /// A sentence for people.
        reason: String,
        /// The error's fields as a JSON object, for machines.
        details_json: String,
    },
    /// The store failed; nothing changed; retry later.
    #[error("{code}: {reason}")]
    Unavailable {
        /// The core's stable code, e.g. `STORE_UNAVAILABLE`.
        code: String,
        /// A sentence for people.
        reason: String,
        /// The error's fields as a JSON object, for machines.
        details_json: String,
    },
}

impl OrdersmithError {
    /// The core's stable code.
    pub fn code(&self) -> &str {
        match self {
            Self::InvalidInput { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Rejected { code, .. }
            | Self::Unavailable { code, .. } => code,
        }
    }

    /// The case for `code`, chosen by the core's classification of it.
    fn of_kind(code: &str, reason: String, details_json: String) -> Self {
        let code = code.to_string();
        match errors::kind_of(&code) {
            CoreKind::InvalidInput => Self::InvalidInput {
                code,
                reason,
                details_json,
            },
            CoreKind::NotFound => Self::NotFound {
                code,
                reason,
                details_json,
            },
            CoreKind::Conflict => Self::Conflict {
                code,
                reason,
                details_json,
            },
            CoreKind::Rejected => Self::Rejected {
                code,
                reason,
                details_json,
            },
            CoreKind::Unavailable => Self::Unavailable {
                code,
                reason,
                details_json,
            },
        }
    }

    fn from_core(e: &impl CoreError) -> Self {
        let details = serde_json::Value::Object(e.details()).to_string();
        Self::of_kind(e.code(), e.to_string(), details)
    }

    /// `ENGINE_INVALID_INPUT` for JSON input that does not read as the core's input
    /// type: the path of the field (`lines[0].unit_price`) and serde's reason, as the
    /// Python binding reports it.
    pub(crate) fn invalid_json(path: String, reason: String) -> Self {
        let details = serde_json::json!({ "field": path, "reason": reason });
        Self::of_kind(
            "ENGINE_INVALID_INPUT",
            format!("{path} is invalid: {reason}"),
            details.to_string(),
        )
    }

    /// `ENGINE_INVALID_INPUT` for an argument of the call itself.
    pub(crate) fn invalid(field: &'static str, reason: &'static str) -> Self {
        ordersmith::engine::EngineError::InvalidInput { field, reason }.into()
    }
}

/// An error as a batched call's item carries it (records cannot hold the error type).
impl From<OrdersmithError> for crate::batch::ItemError {
    fn from(e: OrdersmithError) -> Self {
        let (kind, code, reason, details_json) = match e {
            OrdersmithError::InvalidInput {
                code,
                reason,
                details_json,
            } => (ErrorKind::InvalidInput, code, reason, details_json),
            OrdersmithError::NotFound {
                code,
                reason,
                details_json,
            } => (ErrorKind::NotFound, code, reason, details_json),
            OrdersmithError::Conflict {
                code,
                reason,
                details_json,
            } => (ErrorKind::Conflict, code, reason, details_json),
            OrdersmithError::Rejected {
                code,
                reason,
                details_json,
            } => (ErrorKind::Rejected, code, reason, details_json),
            OrdersmithError::Unavailable {
                code,
                reason,
                details_json,
            } => (ErrorKind::Unavailable, code, reason, details_json),
        };
        crate::batch::ItemError {
            code,
            kind,
            reason,
            details_json,
        }
    }
}

macro_rules! from_core_error {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for OrdersmithError {
            fn from(e: $t) -> Self {
                OrdersmithError::from_core(&e)
            }
        }
    )*};
}

from_core_error!(
    ordersmith::engine::EngineError,
    ordersmith::order::OrderError,
    ordersmith::money::MoneyError,
    ordersmith::ids::IdError,
    ordersmith::catalog::CatalogError,
    ordersmith::stock::StockError,
    ordersmith::ports::StoreError,
    ordersmith::fulfilment::FulfilmentError,
    ordersmith::fulfilment::CarrierChoiceError,
    ordersmith::fulfilment::tracking::TrackingError,
    ordersmith::fulfilment::ident::IdentError,
    ordersmith::kpi::KpiError,
    ordersmith::returns::ReturnsError,
    ordersmith::notify::NotifyError,
    ordersmith::ports::dump::DumpError,
);

/// A host callback (clock, effect sink) that threw something other than an
/// `OrdersmithError`: the call it served fails as invalid input, naming the host's
/// exception.
impl From<uniffi::UnexpectedUniFFICallbackError> for OrdersmithError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // The first line names the exception; the rest is the host's stack trace.
        let first = e.reason.lines().next().unwrap_or_default();
        let details = serde_json::json!({ "field": "host callback", "reason": first });
        Self::of_kind(
            "ENGINE_INVALID_INPUT",
            format!("a host callback failed: {first}"),
            details.to_string(),
        )
    }
}

/// What a caller can do about an error (the core's classification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorKind {
    /// Fix the input.
    InvalidInput,
    /// Something named does not exist.
    NotFound,
    /// Reload, or treat as already done.
    Conflict,
    /// The state does not allow it.
    Rejected,
    /// Retry later.
    Unavailable,
}

impl From<CoreKind> for ErrorKind {
    fn from(k: CoreKind) -> Self {
        match k {
            CoreKind::InvalidInput => Self::InvalidInput,
            CoreKind::NotFound => Self::NotFound,
            CoreKind::Conflict => Self::Conflict,
            CoreKind::Rejected => Self::Rejected,
            CoreKind::Unavailable => Self::Unavailable,
        }
    }
}

/// One row of the core's error catalog.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ErrorInfo {
    /// The stable code.
    pub code: String,
    /// The core module it belongs to (`order`, `stock`, ...).
    pub module: String,
    /// What a caller can do about it.
    pub kind: ErrorKind,
}

/// Every error code the core can return, with its module and kind.
#[uniffi::export]
pub fn error_catalog() -> Vec<ErrorInfo> {
    errors::catalog()
        .into_iter()
        .map(|info| ErrorInfo {
            code: info.code.to_string(),
            module: info.module,
            kind: info.kind.into(),
        })
        .collect()
}

/// Raises the error a call failing with `code` raises, so a host can test its
/// handling of every code without provoking each one. A code the core does not know
/// raises `ENGINE_INVALID_INPUT`.
#[uniffi::export]
pub fn raise_error_for_code(code: String) -> Result<(), OrdersmithError> {
    match ordersmith::all_error_codes()
        .into_iter()
        .find(|known| *known == code)
    {
        Some(known) => Err(OrdersmithError::of_kind(
            known,
            format!("{known} raised on request"),
            "{}".to_string(),
        )),
        None => Err(OrdersmithError::invalid(
            "code",
            "is not an ordersmith error code",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_maps_to_the_case_of_its_kind() {
        for info in error_catalog() {
            let err = raise_error_for_code(info.code.clone()).err();
            let (code, kind) = match &err {
                Some(OrdersmithError::InvalidInput { code, .. }) => (code, ErrorKind::InvalidInput),
                Some(OrdersmithError::NotFound { code, .. }) => (code, ErrorKind::NotFound),
                Some(OrdersmithError::Conflict { code, .. }) => (code, ErrorKind::Conflict),
                Some(OrdersmithError::Rejected { code, .. }) => (code, ErrorKind::Rejected),
                Some(OrdersmithError::Unavailable { code, .. }) => (code, ErrorKind::Unavailable),
                None => panic!("{} raised nothing", info.code),
            };
            assert_eq!(code, &info.code);
            assert_eq!(kind, info.kind, "{}", info.code);
        }
    }

    #[test]
    fn core_errors_keep_code_message_and_details() {
        let err: OrdersmithError = ordersmith::money::Currency::parse("XYZ")
            .map(|_| ())
            .map_err(OrdersmithError::from)
            .err()
            .unwrap_or_else(|| OrdersmithError::invalid("test", "no error"));
        match err {
            OrdersmithError::InvalidInput {
                code, details_json, ..
            } => {
                assert_eq!(code, "MONEY_UNKNOWN_CURRENCY");
                assert!(details_json.contains("XYZ"), "{details_json}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
