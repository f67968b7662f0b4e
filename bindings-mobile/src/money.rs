//! Money and exact decimals: Kotlin `java.math.BigDecimal`, Swift `Decimal`, carried
//! across as exact decimal text so no binary float ever touches an amount.

use ordersmith::money::{self, Currency};

use crate::errors::OrdersmithError;

/// An exact decimal number (Kotlin `BigDecimal`, Swift `Decimal`; see `uniffi.toml`).
///
/// It crosses the boundary as its plain decimal text. The text is only checked when the
/// glue turns it into a core amount, so a malformed or out-of-range value is refused
/// with the core's `MONEY_INVALID_AMOUNT` code rather than uniffi's internal error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactDecimal(pub String);

uniffi::custom_type!(ExactDecimal, String, {
    lower: |d| d.0,
    try_lift: |s| Ok(ExactDecimal(s)),
});

impl ExactDecimal {
    /// The core decimal, or `MONEY_INVALID_AMOUNT`.
    pub(crate) fn parse(&self) -> Result<rust_decimal::Decimal, OrdersmithError> {
        Ok(money::parse_decimal(&self.0)?)
    }
}

impl From<rust_decimal::Decimal> for ExactDecimal {
    fn from(d: rust_decimal::Decimal) -> Self {
        ExactDecimal(d.to_string())
    }
}

/// An amount in a currency.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Money {
    /// The amount, exact.
    pub amount: ExactDecimal,
    /// ISO 4217 code, e.g. `"TRY"`.
    pub currency: String,
}

impl From<money::Money> for Money {
    fn from(m: money::Money) -> Self {
        Money {
            amount: m.amount().into(),
            currency: m.currency().code().to_string(),
        }
    }
}

/// A core amount in `currency` from exact decimal text (precision checked by the core).
pub(crate) fn core_money(
    amount: &ExactDecimal,
    currency: Currency,
) -> Result<money::Money, OrdersmithError> {
    Ok(money::Money::new(amount.parse()?, currency)?)
}

/// A currency by its ISO 4217 code.
pub(crate) fn currency(code: &str) -> Result<Currency, OrdersmithError> {
    Ok(Currency::parse(code)?)
}

/// The exact decimal the core reads from `text` (digits, one optional point, optional
/// sign): lets a host check an amount typed by a person before using it.
#[uniffi::export]
pub fn parse_amount(text: String) -> Result<ExactDecimal, OrdersmithError> {
    Ok(money::parse_decimal(&text)?.into())
}

/// Splits `total` across `weights` (non-negative, not all zero) by largest remainder:
/// the parts always add up to the total to the last minor unit of its currency (a
/// discount spread over lines, a shipping fee over parcels).
#[uniffi::export]
pub fn allocate(total: Money, weights: Vec<ExactDecimal>) -> Result<Vec<Money>, OrdersmithError> {
    let total = core_money(&total.amount, currency(&total.currency)?)?;
    let weights = weights
        .iter()
        .map(ExactDecimal::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let parts = money::allocate(&total, &weights)?;
    Ok(parts.into_iter().map(Into::into).collect())
}
