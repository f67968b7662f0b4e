//! Why a channel payload could not be read: one enum, each variant naming the channel
//! and the JSON path of the offending value, each with a stable code.
//!
//! ```
//! use ordersmith_channels::{parse_order, Channel};
//!
//! let err = parse_order(Channel::Shopify, br#"{"id": 1, "line_items": ["#).unwrap_err();
//! assert_eq!(err.code(), "CHANNEL_MALFORMED_JSON");
//! assert_eq!(err.channel(), "shopify");
//! ```

use ordersmith::errors::{ErrorInfo, ErrorKind, OrdersmithError};
use serde::Serialize;

/// A payload the adapter could not translate. Nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(untagged)]
pub enum ChannelError {
    /// The body is not JSON (or is truncated, or nests too deep).
    #[error("{channel}: malformed JSON at byte {offset}: {reason}")]
    MalformedJson {
        /// The channel.
        channel: &'static str,
        /// Byte offset where reading stopped.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// The body exceeds the size the adapter reads.
    #[error("{channel}: payload of {bytes} bytes exceeds the limit of {max}")]
    PayloadTooLarge {
        /// The channel.
        channel: &'static str,
        /// Size of the body.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A required field is absent (or null).
    #[error("{channel}: {path} is missing")]
    MissingField {
        /// The channel.
        channel: &'static str,
        /// JSON path, e.g. `$.line_items[0].quantity`.
        path: String,
    },
    /// A field has the wrong JSON type.
    #[error("{channel}: {path} should be {expected}")]
    WrongType {
        /// The channel.
        channel: &'static str,
        /// JSON path.
        path: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An amount is not a decimal, or amounts that each are one multiply or add up
    /// (a unit price times its quantity, a line's discounts, the order's totals) beyond
    /// the largest decimal: the path then names the line or the value being added, or
    /// `$` when only the order's sums are out of range.
    #[error("{channel}: {path} is not an amount: {text:?}")]
    InvalidAmount {
        /// The channel.
        channel: &'static str,
        /// JSON path.
        path: String,
        /// The text found (truncated).
        text: String,
    },
    /// An amount has more decimals than its currency has minor units.
    #[error(
        "{channel}: {path} = {amount} has more decimals than {currency} allows ({minor_units})"
    )]
    TooPrecise {
        /// The channel.
        channel: &'static str,
        /// JSON path.
        path: String,
        /// The amount as found.
        amount: String,
        /// The currency.
        currency: String,
        /// Its minor units.
        minor_units: u32,
    },
    /// A currency code is not an active ISO 4217 code.
    #[error("{channel}: {path} is not a known currency: {code:?}")]
    UnknownCurrency {
        /// The channel.
        channel: &'static str,
        /// JSON path.
        path: String,
        /// The code found (truncated).
        code: String,
    },
    /// An amount is in another currency than the order's.
    #[error("{channel}: {path} is in {found}, the order is in {expected}")]
    CurrencyMismatch {
        /// The channel.
        channel: &'static str,
        /// JSON path.
        path: String,
        /// The order's currency.
        expected: String,
        /// The amount's currency.
        found: String,
    },
    /// A quantity is negative, fractional, zero where units are required, or too big.
    #[error("{channel}: {path} is not a valid quantity ({reason}): {text}")]
    InvalidQuantity {
        /// The channel.
        channel: &'static str,
        /// JSON path.
        path: String,
        /// The value found.
        text: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A time could not be read.
    #[error("{channel}: {path} is not a time this channel sends: {text:?}")]
    InvalidTime {
        /// The channel.
        channel: &'static str,
        /// JSON path.
        path: String,
        /// The text found (truncated).
        text: String,
    },
    /// An identifier is empty, too long or has invisible characters.
    #[error("{channel}: {path} is not a usable identifier: {reason}")]
    InvalidId {
        /// The channel.
        channel: &'static str,
        /// JSON path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The order has no lines.
    #[error("{channel}: {path} has no lines")]
    NoLines {
        /// The channel.
        channel: &'static str,
        /// JSON path of the (empty) list.
        path: String,
    },
    /// More lines than an order may have.
    #[error("{channel}: {path} has {count} lines, more than {max}")]
    TooManyLines {
        /// The channel.
        channel: &'static str,
        /// JSON path of the list.
        path: String,
        /// Lines found.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Several payloads merged into one order disagree on who they belong to.
    #[error("{channel}: {path} belongs to order {found}, not {expected}")]
    OrderMismatch {
        /// The channel.
        channel: &'static str,
        /// JSON path.
        path: String,
        /// The order being merged.
        expected: String,
        /// The order the payload names.
        found: String,
    },
}

impl ChannelError {
    /// Every code this enum returns.
    pub const CODES: &'static [&'static str] = &[
        "CHANNEL_MALFORMED_JSON",
        "CHANNEL_PAYLOAD_TOO_LARGE",
        "CHANNEL_MISSING_FIELD",
        "CHANNEL_WRONG_TYPE",
        "CHANNEL_INVALID_AMOUNT",
        "CHANNEL_TOO_PRECISE",
        "CHANNEL_UNKNOWN_CURRENCY",
        "CHANNEL_CURRENCY_MISMATCH",
        "CHANNEL_INVALID_QUANTITY",
        "CHANNEL_INVALID_TIME",
        "CHANNEL_INVALID_ID",
        "CHANNEL_NO_LINES",
        "CHANNEL_TOO_MANY_LINES",
        "CHANNEL_ORDER_MISMATCH",
    ];

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson { .. } => "CHANNEL_MALFORMED_JSON",
            Self::PayloadTooLarge { .. } => "CHANNEL_PAYLOAD_TOO_LARGE",
            Self::MissingField { .. } => "CHANNEL_MISSING_FIELD",
            Self::WrongType { .. } => "CHANNEL_WRONG_TYPE",
            Self::InvalidAmount { .. } => "CHANNEL_INVALID_AMOUNT",
            Self::TooPrecise { .. } => "CHANNEL_TOO_PRECISE",
            Self::UnknownCurrency { .. } => "CHANNEL_UNKNOWN_CURRENCY",
            Self::CurrencyMismatch { .. } => "CHANNEL_CURRENCY_MISMATCH",
            Self::InvalidQuantity { .. } => "CHANNEL_INVALID_QUANTITY",
            Self::InvalidTime { .. } => "CHANNEL_INVALID_TIME",
            Self::InvalidId { .. } => "CHANNEL_INVALID_ID",
            Self::NoLines { .. } => "CHANNEL_NO_LINES",
            Self::TooManyLines { .. } => "CHANNEL_TOO_MANY_LINES",
            Self::OrderMismatch { .. } => "CHANNEL_ORDER_MISMATCH",
        }
    }

    /// The channel the payload came from.
    pub fn channel(&self) -> &'static str {
        match self {
            Self::MalformedJson { channel, .. }
            | Self::PayloadTooLarge { channel, .. }
            | Self::MissingField { channel, .. }
            | Self::WrongType { channel, .. }
            | Self::InvalidAmount { channel, .. }
            | Self::TooPrecise { channel, .. }
            | Self::UnknownCurrency { channel, .. }
            | Self::CurrencyMismatch { channel, .. }
            | Self::InvalidQuantity { channel, .. }
            | Self::InvalidTime { channel, .. }
            | Self::InvalidId { channel, .. }
            | Self::NoLines { channel, .. }
            | Self::TooManyLines { channel, .. }
            | Self::OrderMismatch { channel, .. } => channel,
        }
    }

    /// The JSON path of the offending value (`$` for the whole body).
    pub fn path(&self) -> &str {
        match self {
            Self::MalformedJson { .. } | Self::PayloadTooLarge { .. } => "$",
            Self::MissingField { path, .. }
            | Self::WrongType { path, .. }
            | Self::InvalidAmount { path, .. }
            | Self::TooPrecise { path, .. }
            | Self::UnknownCurrency { path, .. }
            | Self::CurrencyMismatch { path, .. }
            | Self::InvalidQuantity { path, .. }
            | Self::InvalidTime { path, .. }
            | Self::InvalidId { path, .. }
            | Self::NoLines { path, .. }
            | Self::TooManyLines { path, .. }
            | Self::OrderMismatch { path, .. } => path,
        }
    }
}

impl OrdersmithError for ChannelError {
    fn code(&self) -> &'static str {
        ChannelError::code(self)
    }
    fn kind(&self) -> ErrorKind {
        kind_of(self.code())
    }
}

/// The kind of every code of this crate. Codes are classified here, in one place, the
/// way `ordersmith::errors` classifies the core's: the core knows no channel code.
pub fn kind_of(code: &str) -> ErrorKind {
    match code {
        "WEBHOOK_MISSING_HEADER" | "WEBHOOK_BAD_HEADER" | "WEBHOOK_BAD_KEY" => {
            ErrorKind::InvalidInput
        }
        "PUSH_INVALID_LIMITS" | "PUSH_MISSING_ACCOUNT" | "MAPPING_INVALID_SNAPSHOT" => {
            ErrorKind::InvalidInput
        }
        "PUSH_UNKNOWN_REQUEST" => ErrorKind::NotFound,
        "MAPPING_CONFLICT" => ErrorKind::Conflict,
        "MAPPING_UNAVAILABLE" | "INTAKE_LOG_UNAVAILABLE" => ErrorKind::Unavailable,
        c if c.starts_with("CHANNEL_") => ErrorKind::InvalidInput,
        // WEBHOOK_UNAUTHENTICATED: well-formed, but refused.
        _ => ErrorKind::Rejected,
    }
}

/// Every code of this crate, module by module.
pub fn all_error_codes() -> Vec<&'static str> {
    [
        ChannelError::CODES,
        crate::webhook::WebhookError::CODES,
        crate::push::PushError::CODES,
        crate::mapping::MappingError::CODES,
        crate::intake::IntakeError::CODES,
    ]
    .concat()
}

/// Every code of this crate with its module (the code's prefix) and kind, in the shape
/// of `ordersmith::errors::catalog`, so a binding can list both.
pub fn catalog() -> Vec<ErrorInfo> {
    all_error_codes()
        .into_iter()
        .map(|code| ErrorInfo {
            code,
            module: ordersmith::errors::module_of(code),
            kind: kind_of(code),
        })
        .collect()
}
