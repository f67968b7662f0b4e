//! A flat input format for new orders and edits, for JSON hosts and bindings.
//!
//! Amounts are plain decimals in the order's currency (strings such as `"189.90"`, or
//! integers; never floats), so a Python dict, a JavaScript object or a channel payload
//! maps onto it directly. Unknown fields are refused, so a typo is an error rather than
//! a silently dropped value.
//!
//! ```
//! use ordersmith::order::OrderInput;
//!
//! let input: OrderInput = serde_json::from_str(r#"{
//!     "channel": "web", "placed_at": "2026-11-20T09:30:00Z", "currency": "TRY",
//!     "lines": [{"variant": "MUG", "quantity": 2, "unit_price": "189.90",
//!                "tax_lines": [{"name": "KDV", "rate": "0.20"}]}]
//! }"#)?;
//! let new = input.into_new_order()?;
//! assert_eq!(new.lines[0].unit_price.to_string(), "189.90 TRY");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::{ChannelId, LineId, VariantId};
use crate::money::{Currency, Money};
use crate::pii::{Address, Customer};

use super::command::{LineEdit, NewLine, NewOrder};
use super::error::OrderError;
use super::model::{Discount, ShippingLine, TaxLine};

/// Deserialises a decimal from a JSON string (`"10.50"`) or integer (`10`), never a
/// float; strings follow [`crate::money::parse_decimal`] (no exponent, no spaces).
pub fn lenient_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    crate::money::decimal_text_or_int(d)
}

/// Deserialises an RFC 3339 time with an offset, converted to UTC. A time without an
/// offset (`"2026-11-20T09:30:00"`) is refused with [`NAIVE_TIME_REFUSED`], the same
/// message a binding gives for a naive datetime object.
pub fn aware_time<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)
        .map_err(|_| serde::de::Error::custom("expected an RFC 3339 time as a string"))?;
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = text.parse::<chrono::NaiveDateTime>().is_ok()
        || chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        || text.parse::<chrono::NaiveDate>().is_ok();
    Err(serde::de::Error::custom(if naive {
        NAIVE_TIME_REFUSED
    } else {
        "expected an RFC 3339 time with an offset, such as \"2026-11-20T09:30:00Z\" or \"2026-11-20T12:30:00+03:00\""
    }))
}

/// The message for a time without a UTC offset, in every language.
pub const NAIVE_TIME_REFUSED: &str = "naive time refused: without a UTC offset it would be read in an unknown time zone; give an offset, such as \"2026-11-20T09:30:00Z\" or \"+03:00\" (in Python, a timezone-aware datetime)";

/// A tax line of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxInput {
    /// Name, e.g. `"KDV"`.
    pub name: String,
    /// Rate as a fraction (`"0.20"`).
    #[serde(deserialize_with = "lenient_decimal")]
    pub rate: Decimal,
}

/// A discount of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountInput {
    /// Code or label.
    #[serde(default)]
    pub code: Option<String>,
    /// Amount off the line, in the order's currency.
    #[serde(deserialize_with = "lenient_decimal")]
    pub amount: Decimal,
}

/// A line of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// The variant (SKU).
    pub variant: VariantId,
    /// Units.
    pub quantity: u32,
    /// Unit price before discounts, in the order's currency.
    #[serde(deserialize_with = "lenient_decimal")]
    pub unit_price: Decimal,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// The channel's line id.
    #[serde(default)]
    pub external_ref: Option<String>,
    /// Discounts.
    #[serde(default)]
    pub discounts: Vec<DiscountInput>,
    /// Taxes.
    #[serde(default)]
    pub tax_lines: Vec<TaxInput>,
}

/// A shipping line of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingInput {
    /// Method.
    pub title: String,
    /// Price in the order's currency.
    #[serde(deserialize_with = "lenient_decimal")]
    pub price: Decimal,
    /// Taxes.
    #[serde(default)]
    pub tax_lines: Vec<TaxInput>,
}

/// A new order in the flat input format; see [`OrderInput::into_new_order`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// Channel.
    pub channel: ChannelId,
    /// Channel reference.
    #[serde(default)]
    pub external_ref: Option<String>,
    /// When placed (RFC 3339 with an offset; converted to UTC; a time without an offset
    /// is refused).
    #[serde(deserialize_with = "aware_time")]
    pub placed_at: DateTime<Utc>,
    /// Currency of every amount.
    pub currency: Currency,
    /// Whether prices include tax.
    #[serde(default)]
    pub taxes_included: bool,
    /// Customer.
    #[serde(default)]
    pub customer: Option<Customer>,
    /// Shipping address.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    /// Billing address.
    #[serde(default)]
    pub billing_address: Option<Address>,
    /// Lines.
    pub lines: Vec<LineInput>,
    /// Shipping charges.
    #[serde(default)]
    pub shipping_lines: Vec<ShippingInput>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// First note.
    #[serde(default)]
    pub note: Option<String>,
    /// How long the order's unpaid reservations hold, in minutes (overrides the
    /// engine's and the channel's time-to-live).
    #[serde(default)]
    pub reservation_ttl_minutes: Option<u32>,
    /// Channels the customer asked not to be messaged on (`"email"`, `"sms"`,
    /// `"push"`).
    #[serde(default)]
    pub notification_opt_outs: Vec<crate::notify::NotificationChannel>,
}

fn taxes(input: Vec<TaxInput>) -> Vec<TaxLine> {
    input
        .into_iter()
        .map(|t| TaxLine {
            name: t.name,
            rate: t.rate,
        })
        .collect()
}

impl LineInput {
    /// The line with its amounts in `currency`.
    pub fn into_new_line(self, currency: Currency) -> Result<NewLine, OrderError> {
        let discounts = self
            .discounts
            .into_iter()
            .map(|d| {
                Ok(Discount {
                    code: d.code,
                    amount: Money::new(d.amount, currency)?,
                })
            })
            .collect::<Result<Vec<_>, OrderError>>()?;
        Ok(NewLine {
            variant: self.variant,
            quantity: self.quantity,
            unit_price: Money::new(self.unit_price, currency)?,
            title: self.title,
            external_ref: self.external_ref,
            discounts,
            tax_lines: taxes(self.tax_lines),
        })
    }
}

impl OrderInput {
    /// The order with every amount in its currency. Amounts more precise than the
    /// currency allows are refused (`MONEY_TOO_PRECISE`); everything else is validated
    /// when the order is placed.
    pub fn into_new_order(self) -> Result<NewOrder, OrderError> {
        let currency = self.currency;
        let lines = self
            .lines
            .into_iter()
            .map(|l| l.into_new_line(currency))
            .collect::<Result<Vec<_>, _>>()?;
        let shipping_lines = self
            .shipping_lines
            .into_iter()
            .map(|s| {
                Ok(ShippingLine {
                    title: s.title,
                    price: Money::new(s.price, currency)?,
                    tax_lines: taxes(s.tax_lines),
                })
            })
            .collect::<Result<Vec<_>, OrderError>>()?;
        Ok(NewOrder {
            channel: self.channel,
            external_ref: self.external_ref,
            placed_at: self.placed_at,
            currency,
            taxes_included: self.taxes_included,
            customer: self.customer,
            shipping_address: self.shipping_address,
            billing_address: self.billing_address,
            lines,
            shipping_lines,
            tags: self.tags,
            note: self.note,
            reservation_ttl_minutes: self.reservation_ttl_minutes,
            notification_opt_outs: self.notification_opt_outs,
        })
    }
}

/// An edit in the flat input format (amounts in the order's currency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum LineEditInput {
    /// Add a line.
    Add {
        /// The line.
        line: LineInput,
    },
    /// Remove a line.
    Remove {
        /// The line.
        line_id: LineId,
    },
    /// Change a line's ordered quantity.
    SetQuantity {
        /// The line.
        line_id: LineId,
        /// New ordered quantity.
        quantity: u32,
    },
}

impl LineEditInput {
    /// The edit with amounts in `currency`.
    pub fn into_edit(self, currency: Currency) -> Result<LineEdit, OrderError> {
        Ok(match self {
            LineEditInput::Add { line } => LineEdit::Add {
                line: line.into_new_line(currency)?,
            },
            LineEditInput::Remove { line_id } => LineEdit::Remove { line_id },
            LineEditInput::SetQuantity { line_id, quantity } => {
                LineEdit::SetQuantity { line_id, quantity }
            }
        })
    }
}
