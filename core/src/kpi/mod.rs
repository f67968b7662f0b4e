#![doc = include_str!("../../../docs/kpi.md")]

mod book;
mod fact;
mod feed;
mod insight;
mod query;
mod report;
mod table;
mod time;

pub use book::KpiBook;
pub use fact::{cancel_reason_name, KpiFact, StockFlow, CANCEL_REASONS};
pub use feed::{count_facts, movement_fact, order_facts, OrderFactContext};
pub use insight::{insights, Contribution, Insight};
pub use query::{KpiQuery, TABLE_NAMES};
pub use report::{report_html, ReportOptions};
pub use table::{Cell, KpiTable, KpiTables};
pub use time::{bucket_of, local_date, Grain};

/// Errors of the KPI module; codes in the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
pub enum KpiError {
    /// A fact names an order that was not placed in the book.
    #[error("the order was not placed in the KPI book")]
    UnknownOrder,
    /// An order is placed twice.
    #[error("the order is already in the KPI book")]
    DuplicateOrder,
    /// A fact names a line the order does not have.
    #[error("the order has no such line")]
    UnknownLine,
    /// A line id is added twice.
    #[error("the order already has that line")]
    DuplicateLine,
    /// An amount has more decimals than its currency.
    #[error("an amount has more decimals than {currency} allows")]
    AmountTooPrecise {
        /// The currency.
        currency: String,
    },
    /// An amount does not fit 64-bit minor units.
    #[error("an amount is out of range")]
    AmountOutOfRange,
    /// A price, discount or refund is negative.
    #[error("a price, discount or refund is negative")]
    NegativeAmount,
    /// `from` is after `to`.
    #[error("the date range is empty: from is after to")]
    InvalidRange,
    /// No table has that name.
    #[error("no KPI table is called {name:?}")]
    UnknownTable {
        /// The name asked for (at most 40 characters).
        name: String,
    },
    /// The time zone is not an IANA name.
    #[error("{name:?} is not an IANA time zone")]
    UnknownTimeZone {
        /// The name given (at most 40 characters).
        name: String,
    },
    /// An insight threshold is negative or not finite.
    #[error("the insight threshold must be a finite number ≥ 0")]
    InvalidThreshold,
    /// More ids of one kind than fit in 32 bits.
    #[error("too many distinct ids of one kind")]
    TooMany,
}

impl KpiError {
    /// Every code, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "KPI_UNKNOWN_ORDER",
        "KPI_DUPLICATE_ORDER",
        "KPI_UNKNOWN_LINE",
        "KPI_DUPLICATE_LINE",
        "KPI_AMOUNT_TOO_PRECISE",
        "KPI_AMOUNT_OUT_OF_RANGE",
        "KPI_NEGATIVE_AMOUNT",
        "KPI_INVALID_RANGE",
        "KPI_UNKNOWN_TABLE",
        "KPI_UNKNOWN_TIME_ZONE",
        "KPI_INVALID_THRESHOLD",
        "KPI_TOO_MANY",
    ];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            KpiError::UnknownOrder => "KPI_UNKNOWN_ORDER",
            KpiError::DuplicateOrder => "KPI_DUPLICATE_ORDER",
            KpiError::UnknownLine => "KPI_UNKNOWN_LINE",
            KpiError::DuplicateLine => "KPI_DUPLICATE_LINE",
            KpiError::AmountTooPrecise { .. } => "KPI_AMOUNT_TOO_PRECISE",
            KpiError::AmountOutOfRange => "KPI_AMOUNT_OUT_OF_RANGE",
            KpiError::NegativeAmount => "KPI_NEGATIVE_AMOUNT",
            KpiError::InvalidRange => "KPI_INVALID_RANGE",
            KpiError::UnknownTable { .. } => "KPI_UNKNOWN_TABLE",
            KpiError::UnknownTimeZone { .. } => "KPI_UNKNOWN_TIME_ZONE",
            KpiError::InvalidThreshold => "KPI_INVALID_THRESHOLD",
            KpiError::TooMany => "KPI_TOO_MANY",
        }
    }
}

/// Parses an IANA time zone name such as `Europe/Istanbul`.
pub fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz, KpiError> {
    name.parse().map_err(|_| KpiError::UnknownTimeZone {
        name: name.chars().take(40).collect(),
    })
}
