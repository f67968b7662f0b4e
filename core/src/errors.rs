//! What every ordersmith error has in common: a stable code, a kind a caller can act on,
//! and details (the variant's fields) for machines.
//!
//! Each module keeps its own error enum (`MoneyError`, `OrderError`, ...); this module
//! classifies their codes in one place so every binding maps them the same way
//! (Python: an `ordersmith.Error` subclass, and also a `ValueError` for
//! [`ErrorKind::InvalidInput`]; Node: `Error` with `code`; Kotlin/Swift: a sealed type).
//!
//! ```
//! use ordersmith::errors::{ErrorKind, OrdersmithError};
//! use ordersmith::money::Currency;
//!
//! let err = Currency::parse("XYZ").unwrap_err();
//! assert_eq!(err.code(), "MONEY_UNKNOWN_CURRENCY");
//! assert_eq!(err.kind(), ErrorKind::InvalidInput);
//! assert_eq!(err.details()["code"], "XYZ");
//! ```

use serde::Serialize;

/// What a caller can do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input was malformed or out of range: fix the input.
    InvalidInput,
    /// Something named in the input does not exist.
    NotFound,
    /// A concurrent change or an earlier use of the same key or reference got there
    /// first: reload, or treat as already done.
    Conflict,
    /// The input was well-formed but the current state does not allow it (an illegal
    /// transition, not enough stock, more than was paid).
    Rejected,
    /// The store or another port failed; nothing was changed; retry later.
    Unavailable,
}

impl ErrorKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Unavailable => "unavailable",
        }
    }
}

const INVALID_INPUT: &[&str] = &[
    "MONEY_UNKNOWN_CURRENCY",
    "MONEY_CURRENCY_MISMATCH",
    "MONEY_TOO_PRECISE",
    "MONEY_INVALID_AMOUNT",
    "MONEY_NEGATIVE",
    "MONEY_OVERFLOW",
    "MONEY_INVALID_WEIGHTS",
    "ID_EMPTY",
    "ID_TOO_LONG",
    "ID_INVALID_CHARACTERS",
    "CATALOG_INVALID_GTIN",
    "CATALOG_GTIN_CHECK_DIGIT",
    "CATALOG_INVALID_OPTION",
    "ORDER_NO_LINES",
    "ORDER_EMPTY_COMMAND",
    "ORDER_TOO_MANY",
    "ORDER_INVALID_QUANTITY",
    "ORDER_CURRENCY_MISMATCH",
    "ORDER_INVALID_AMOUNT",
    "ORDER_DISCOUNT_EXCEEDS_LINE",
    "ORDER_INVALID_TAX_RATE",
    "ORDER_UNKNOWN_LINE",
    "ORDER_DUPLICATE_LINE",
    "ORDER_INVALID_TEXT",
    "ORDER_INVALID_RESERVATION_TTL",
    "ORDER_JSONL_INVALID_ENCODING",
    "ORDER_JSONL_LINE_TOO_LONG",
    "ORDER_JSONL_SYNTAX",
    "ORDER_JSONL_TRUNCATED",
    "ORDER_JSONL_INVALID_FIELD",
    "FULFILMENT_LINE_NOT_IN_FULFILMENT",
    "FULFILMENT_PICK_EXCEEDS_ASSIGNED",
    "FULFILMENT_PACK_EXCEEDS_PICKED",
    "FULFILMENT_INVALID_PARCEL",
    "FULFILMENT_INVALID_LABEL",
    "FULFILMENT_INVALID_MOVE",
    "FULFILMENT_INVALID_QUOTES",
    "FULFILMENT_QUOTES_MIX_CURRENCIES",
    "PAYMENT_INVALID_INPUT",
    "RETURNS_NOT_RETURNABLE",
    "RETURNS_INVALID_REQUEST",
    "RETURNS_INVALID_TEXT",
    "RETURNS_INVALID_POLICY",
    "RETURNS_QUANTITY_EXCEEDED",
    "ENGINE_INVALID_INPUT",
    // Like Python's I/O on a closed file: the caller's mistake, a ValueError.
    "ENGINE_CLOSED",
    "STOCK_INVALID_QUANTITY",
    "STOCK_INVALID_EXPIRY",
    "STOCK_SAME_LOCATION",
    "STOCK_ADJUSTMENT_DIRECTION",
    "STOCK_INVALID_BUNDLE",
    "STOCK_INVALID_CHANNEL_RULE",
    "STOCK_TOO_MANY",
    "STOCK_INVALID_PARAMETER",
    "STOCK_INVALID_ID",
    "STOCK_COUNT_VARIANT_NOT_LISTED",
    "SOURCING_NO_LINES",
    "SOURCING_TOO_MANY_LINES",
    "SOURCING_INVALID_QUANTITY",
    "SOURCING_DUPLICATE_LINE",
    "DUMP_MALFORMED",
    "FULFILMENT_SSCC_INVALID",
    "FULFILMENT_SSCC_CHECK_DIGIT",
    "FULFILMENT_SSCC_CONFIG_INVALID",
    "FULFILMENT_SSCC_SERIAL_TOO_LARGE",
    "FULFILMENT_SSCC_SERIAL_OUT_OF_RANGE",
    "FULFILMENT_TRACKING_NUMBER_INVALID",
    "FULFILMENT_TRACKING_NUMBER_FORMAT",
    "FULFILMENT_TRACKING_NUMBER_CHECK_DIGIT",
    "FULFILMENT_TRACKING_INVALID_CODE",
    "FULFILMENT_TRACKING_INVALID_LOCATION",
    "FULFILMENT_CALENDAR_INVALID",
    "FULFILMENT_CALENDAR_INVALID_TRANSIT_DAYS",
    "NOTIFY_TEMPLATE_SYNTAX",
    "NOTIFY_TEMPLATE_UNKNOWN_VARIABLE",
    "NOTIFY_TEMPLATE_MISSING_VARIABLE",
    "NOTIFY_TEMPLATE_INVALID",
    "NOTIFY_VARIABLE_NOT_SUPPLIED",
    "NOTIFY_UNKNOWN_VARIABLE",
    "NOTIFY_VALUE_TOO_LONG",
    "NOTIFY_INVALID_RECIPIENT",
    "NOTIFY_INVALID_PARCEL_ID",
    "NOTIFY_INVALID_OVERRIDES",
    "INVOICE_BAD_CONFIG",
    "INVOICE_BAD_NUMBER_FORMAT",
    "INVOICE_BAD_AMOUNT",
    "KPI_DUPLICATE_ORDER",
    "KPI_DUPLICATE_LINE",
    "KPI_AMOUNT_TOO_PRECISE",
    "KPI_AMOUNT_OUT_OF_RANGE",
    "KPI_NEGATIVE_AMOUNT",
    "KPI_INVALID_RANGE",
    "KPI_UNKNOWN_TIME_ZONE",
    "KPI_INVALID_THRESHOLD",
    "RULES_MALFORMED_JSON",
    "RULES_INVALID",
];

const NOT_FOUND: &[&str] = &[
    "RETURNS_UNKNOWN_LINE",
    "RETURNS_UNKNOWN_RMA",
    "PAYMENT_UNKNOWN",
    "FULFILMENT_UNKNOWN",
    "FULFILMENT_UNKNOWN_PARCEL",
    "ORDER_NOT_FOUND",
    "STOCK_UNKNOWN_VARIANT",
    "STOCK_UNKNOWN_LOCATION",
    "STOCK_UNKNOWN_RESERVATION",
    "STOCK_UNKNOWN_TRANSFER",
    "STOCK_UNKNOWN_COUNT",
    "STOCK_UNKNOWN_CHANNEL",
    "NOTIFY_TEMPLATE_NOT_FOUND",
    "INVOICE_NOT_FOUND",
    "KPI_UNKNOWN_ORDER",
    "KPI_UNKNOWN_LINE",
    "KPI_UNKNOWN_TABLE",
];

const CONFLICT: &[&str] = &[
    "ORDER_ALREADY_EXISTS",
    "STORE_VERSION_CONFLICT",
    "STORE_KEY_TAKEN",
    "ENGINE_CONFLICT",
    "ENGINE_IDEMPOTENCY_MISMATCH",
    "ENGINE_DUPLICATE_EXTERNAL_REF",
    "STOCK_ALREADY_EXISTS",
    "STOCK_RESERVATION_CONFLICT",
    "STOCK_TRANSFER_CONFLICT",
    "STOCK_COUNT_CONFLICT",
    "DUMP_TARGET_NOT_EMPTY",
];

const UNAVAILABLE: &[&str] = &["STORE_UNAVAILABLE", "STORE_CORRUPT", "DUMP_IO"];

/// The kind of a code. Codes not classified otherwise are [`ErrorKind::Rejected`].
pub fn kind_of(code: &str) -> ErrorKind {
    if INVALID_INPUT.contains(&code) {
        ErrorKind::InvalidInput
    } else if NOT_FOUND.contains(&code) {
        ErrorKind::NotFound
    } else if CONFLICT.contains(&code) {
        ErrorKind::Conflict
    } else if UNAVAILABLE.contains(&code) {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Rejected
    }
}

/// The module a code belongs to: its prefix in lower case (`ORDER_NOT_FOUND` → `order`).
pub fn module_of(code: &str) -> String {
    code.split('_').next().unwrap_or(code).to_ascii_lowercase()
}

/// One row of [`catalog`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorInfo {
    /// The stable code.
    pub code: &'static str,
    /// The module (`money`, `order`, ...).
    pub module: String,
    /// What a caller can do about it.
    pub kind: ErrorKind,
}

/// Every error code with its module and kind.
pub fn catalog() -> Vec<ErrorInfo> {
    crate::all_error_codes()
        .into_iter()
        .map(|code| ErrorInfo {
            code,
            module: module_of(code),
            kind: kind_of(code),
        })
        .collect()
}

/// Implemented by every ordersmith error enum.
pub trait OrdersmithError: std::error::Error + Serialize {
    /// The stable machine-readable code.
    fn code(&self) -> &'static str;

    /// What a caller can do about it.
    fn kind(&self) -> ErrorKind {
        kind_of(self.code())
    }

    /// The variant's fields as a JSON object (empty for variants without fields).
    fn details(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }
}

macro_rules! impl_error {
    ($($t:ty),*) => {$(
        impl OrdersmithError for $t {
            fn code(&self) -> &'static str {
                <$t>::code(self)
            }
        }
    )*};
}

impl_error!(
    crate::money::MoneyError,
    crate::ids::IdError,
    crate::catalog::CatalogError,
    crate::order::OrderError,
    crate::order::JsonLineError,
    crate::ports::StoreError,
    crate::engine::EngineError,
    crate::stock::StockError,
    crate::sourcing::SourcingError,
    crate::fulfilment::FulfilmentError,
    crate::fulfilment::CarrierChoiceError,
    crate::payment::PaymentError,
    crate::returns::ReturnsError,
    crate::ports::dump::DumpError,
    crate::fulfilment::ident::IdentError,
    crate::fulfilment::tracking::TrackingError,
    crate::fulfilment::deadline::CalendarError,
    crate::notify::NotifyError,
    crate::invoice::InvoiceError,
    crate::kpi::KpiError,
    crate::rules::RulesError
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classified_codes_exist_and_are_classified_once() {
        let all = crate::all_error_codes();
        let lists = [INVALID_INPUT, NOT_FOUND, CONFLICT, UNAVAILABLE];
        for list in lists {
            for code in list {
                assert!(
                    all.contains(code),
                    "{code} is classified but no error has it"
                );
            }
        }
        for code in &all {
            let n = lists.iter().filter(|l| l.contains(code)).count();
            assert!(n <= 1, "{code} is classified {n} times");
        }
    }

    #[test]
    fn details_are_the_variant_fields() {
        let err = crate::order::OrderError::QuantityExceeded {
            line_id: crate::ids::LineId::parse("L1").unwrap(),
            operation: "ship",
            requested: 3,
            available: 1,
        };
        let d = OrdersmithError::details(&err);
        assert_eq!(d["line_id"], "L1");
        assert_eq!(d["requested"], 3);
        assert_eq!(OrdersmithError::kind(&err), ErrorKind::Rejected);
        let wrapped = crate::engine::EngineError::from(err);
        assert_eq!(OrdersmithError::details(&wrapped)["available"], 1);
        assert!(OrdersmithError::details(&crate::order::OrderError::NoLines).is_empty());
        assert_eq!(module_of("ORDER_NOT_FOUND"), "order");
    }
}
