//! The input facts of the KPIs: a small, documented vocabulary every event source maps
//! into (today's order, fulfilment, payment, notification and stock events; later the
//! RMA and invoice events). Facts borrow their strings, so feeding one allocates nothing
//! beyond interning an id seen for the first time.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::money::Currency;
use crate::order::CancelReason;

/// What a stock movement did, as far as the KPIs care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StockFlow {
    /// Goods received from a supplier (counts as "received" for sell-through).
    Received,
    /// Units left as sold (counts as "sold" for turnover and sell-through).
    Sold,
    /// Anything else that changes on hand: adjustments, count variances, transfers,
    /// restocked returns, quarantine, write-offs.
    Other,
}

/// One input fact. `order`, `line`, `sku`, `channel`, `segment`, `location`,
/// `template` and `reason` are ids or labels (never personal data); `at` is when it
/// happened (UTC). Amounts are in the order's currency and must fit its minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KpiFact<'a> {
    /// An order was placed. Its lines follow as [`KpiFact::LineOrdered`].
    OrderPlaced {
        /// The order.
        order: &'a str,
        /// When it was placed.
        at: DateTime<Utc>,
        /// Its sales channel.
        channel: &'a str,
        /// The customer segment (e.g. `vip`, `b2b`; `unsegmented` when none).
        segment: &'a str,
        /// The order's one currency.
        currency: Currency,
        /// When it must ship by, if the shop has a shipping calendar.
        ship_by: Option<DateTime<Utc>>,
        /// The last local date delivery was promised for, if any.
        promised_by: Option<NaiveDate>,
    },
    /// A line of an order (at placement, or added by an edit).
    LineOrdered {
        /// The order.
        order: &'a str,
        /// The line id, unique in the order.
        line: &'a str,
        /// The variant's SKU.
        sku: &'a str,
        /// Units ordered.
        quantity: u32,
        /// Price of one unit before discounts.
        unit_price: Decimal,
        /// Discount on the whole line (all `quantity` units).
        discount: Decimal,
    },
    /// An edit changed a line's ordered quantity.
    LineQuantityChanged {
        /// The order.
        order: &'a str,
        /// The line.
        line: &'a str,
        /// The new quantity.
        quantity: u32,
    },
    /// The shop accepted the order.
    OrderConfirmed {
        /// The order.
        order: &'a str,
        /// When.
        at: DateTime<Utc>,
    },
    /// The order could not be served from stock when wanted (held for insufficient
    /// stock, or a short pick).
    Backordered {
        /// The order.
        order: &'a str,
        /// When.
        at: DateTime<Utc>,
    },
    /// The whole order was cancelled: every unit not yet shipped is cancelled.
    OrderCancelled {
        /// The order.
        order: &'a str,
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: CancelReason,
    },
    /// Some units of a line were cancelled.
    UnitsCancelled {
        /// The order.
        order: &'a str,
        /// The line.
        line: &'a str,
        /// Units.
        quantity: u32,
        /// Why.
        reason: CancelReason,
        /// When.
        at: DateTime<Utc>,
    },
    /// Units shipped.
    UnitsShipped {
        /// The order.
        order: &'a str,
        /// The line.
        line: &'a str,
        /// Units.
        quantity: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// Units delivered.
    UnitsDelivered {
        /// The order.
        order: &'a str,
        /// The line.
        line: &'a str,
        /// Units.
        quantity: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// Units came back from the customer.
    UnitsReturned {
        /// The order.
        order: &'a str,
        /// The line.
        line: &'a str,
        /// Units.
        quantity: u32,
        /// The return reason (`unspecified` when the source has none).
        reason: &'a str,
        /// When.
        at: DateTime<Utc>,
    },
    /// Money was refunded to the customer.
    Refunded {
        /// The order.
        order: &'a str,
        /// Amount in the order's currency.
        amount: Decimal,
        /// When.
        at: DateTime<Utc>,
    },
    /// A customer notification was asked for.
    NotificationRequested {
        /// The order.
        order: &'a str,
        /// The template key, e.g. `order_shipped`.
        template: &'a str,
        /// When.
        at: DateTime<Utc>,
    },
    /// On hand changed at a location.
    StockMoved {
        /// The variant's SKU.
        sku: &'a str,
        /// The location.
        location: &'a str,
        /// When.
        at: DateTime<Utc>,
        /// Signed change of on hand.
        on_hand_change: i64,
        /// What kind of change.
        flow: StockFlow,
    },
    /// One variant of a cycle count was counted.
    Counted {
        /// The variant's SKU.
        sku: &'a str,
        /// The location.
        location: &'a str,
        /// When the count closed.
        at: DateTime<Utc>,
        /// What the ledger expected.
        expected: i64,
        /// What was counted.
        counted: u32,
    },
}

/// Cancel reasons in a fixed order: the index used in the tables.
pub const CANCEL_REASONS: [CancelReason; 7] = [
    CancelReason::Customer,
    CancelReason::Fraud,
    CancelReason::Inventory,
    CancelReason::Declined,
    CancelReason::Staff,
    CancelReason::ReservationExpired,
    CancelReason::Other,
];

/// The stable name of a cancel reason (as in the order's JSON).
pub fn cancel_reason_name(reason: CancelReason) -> &'static str {
    match reason {
        CancelReason::Customer => "customer",
        CancelReason::Fraud => "fraud",
        CancelReason::Inventory => "inventory",
        CancelReason::Declined => "declined",
        CancelReason::Staff => "staff",
        CancelReason::ReservationExpired => "reservation_expired",
        CancelReason::Other => "other",
    }
}

pub(crate) fn cancel_reason_index(reason: CancelReason) -> u8 {
    match reason {
        CancelReason::Customer => 0,
        CancelReason::Fraud => 1,
        CancelReason::Inventory => 2,
        CancelReason::Declined => 3,
        CancelReason::Staff => 4,
        CancelReason::ReservationExpired => 5,
        CancelReason::Other => 6,
    }
}
