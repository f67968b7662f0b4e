//! Money: exact decimal amounts in one ISO 4217 currency.
//!
//! [`Money`] never mixes currencies: every sum of two amounts checks that both are in the
//! same [`Currency`] and returns [`MoneyError::CurrencyMismatch`] otherwise. Amounts are
//! `rust_decimal::Decimal`, never floats. Every rounding site names its [`Rounding`] mode.
//!
//! [`allocate`] splits an amount across weights by the largest-remainder method, so the
//! parts always add up to the total to the last minor unit (discounts, refunds, tax).
//!
//! ```
//! use ordersmith::money::{allocate, Currency, Money};
//! use rust_decimal::Decimal;
//!
//! let try_ = Currency::parse("TRY")?;
//! let total = Money::parse("100.00", try_)?;
//! let parts = allocate(&total, &[Decimal::ONE, Decimal::ONE, Decimal::ONE])?;
//! let amounts: Vec<String> = parts.iter().map(|m| m.amount().to_string()).collect();
//! assert_eq!(amounts, ["33.34", "33.33", "33.33"]);
//! # Ok::<(), ordersmith::money::MoneyError>(())
//! ```
//!
//! Text is read strictly, the same way from every language ([`parse_decimal`],
//! [`Currency::parse`]): an amount is digits with an optional leading `-` and an optional
//! decimal point (`"10.50"`, `"-3"`); exponents (`"1e2"`), surrounding spaces, `+`, `_`
//! and thousands separators are refused rather than guessed at. A currency is its ISO
//! 4217 code in upper case (`"TRY"`); `"try"` or `" TRY"` is refused, because a code that
//! is not written as the standard writes it usually means the field was filled by hand
//! or mapped wrongly.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Errors from money arithmetic and parsing. Codes are stable (see [`MoneyError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum MoneyError {
    /// The text is not an active ISO 4217 alphabetic code known to ordersmith.
    #[error(
        "unknown currency code {code:?}: expected an ISO 4217 code in upper case, such as \"TRY\" or \"USD\""
    )]
    UnknownCurrency {
        /// The code as given.
        code: String,
    },
    /// Two amounts in different currencies were combined.
    #[error(
        "cannot combine {left} with {right}: amounts in different currencies are never summed"
    )]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The amount has more decimal places than the currency's minor unit allows.
    #[error("{amount} has more decimals than {currency} allows ({minor_units})")]
    TooPrecise {
        /// The amount as given.
        amount: Decimal,
        /// Its currency.
        currency: Currency,
        /// Decimals the currency allows.
        minor_units: u32,
    },
    /// The text is not a decimal number written as ordersmith reads it.
    #[error(
        "{text:?} is not a decimal amount: expected digits with an optional leading '-' and decimal point, such as \"10.50\" (no exponent, no spaces)"
    )]
    InvalidAmount {
        /// The text as given.
        text: String,
    },
    /// An amount that must not be negative was negative.
    #[error("amount {amount} must not be negative")]
    Negative {
        /// The amount as given.
        amount: Decimal,
    },
    /// Arithmetic overflowed the decimal range.
    #[error("arithmetic overflow in money calculation")]
    Overflow,
    /// An allocation had no weights, a negative weight, or only zero weights.
    #[error("cannot allocate: {reason}")]
    InvalidWeights {
        /// Why the weights were refused.
        reason: &'static str,
    },
}

impl MoneyError {
    /// Every code this enum can return, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "MONEY_UNKNOWN_CURRENCY",
        "MONEY_CURRENCY_MISMATCH",
        "MONEY_TOO_PRECISE",
        "MONEY_INVALID_AMOUNT",
        "MONEY_NEGATIVE",
        "MONEY_OVERFLOW",
        "MONEY_INVALID_WEIGHTS",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownCurrency { .. } => "MONEY_UNKNOWN_CURRENCY",
            Self::CurrencyMismatch { .. } => "MONEY_CURRENCY_MISMATCH",
            Self::TooPrecise { .. } => "MONEY_TOO_PRECISE",
            Self::InvalidAmount { .. } => "MONEY_INVALID_AMOUNT",
            Self::Negative { .. } => "MONEY_NEGATIVE",
            Self::Overflow => "MONEY_OVERFLOW",
            Self::InvalidWeights { .. } => "MONEY_INVALID_WEIGHTS",
        }
    }
}

/// Active ISO 4217 codes with their minor units (decimals). Codes not listed are refused.
const CURRENCIES: &[([u8; 3], u8)] = &[
    (*b"AED", 2),
    (*b"AFN", 2),
    (*b"ALL", 2),
    (*b"AMD", 2),
    (*b"AOA", 2),
    (*b"ARS", 2),
    (*b"AUD", 2),
    (*b"AWG", 2),
    (*b"AZN", 2),
    (*b"BAM", 2),
    (*b"BBD", 2),
    (*b"BDT", 2),
    (*b"BGN", 2),
    (*b"BHD", 3),
    (*b"BIF", 0),
    (*b"BMD", 2),
    (*b"BND", 2),
    (*b"BOB", 2),
    (*b"BRL", 2),
    (*b"BSD", 2),
    (*b"BTN", 2),
    (*b"BWP", 2),
    (*b"BYN", 2),
    (*b"BZD", 2),
    (*b"CAD", 2),
    (*b"CDF", 2),
    (*b"CHF", 2),
    (*b"CLF", 4),
    (*b"CLP", 0),
    (*b"CNY", 2),
    (*b"COP", 2),
    (*b"CRC", 2),
    (*b"CUP", 2),
    (*b"CVE", 2),
    (*b"CZK", 2),
    (*b"DJF", 0),
    (*b"DKK", 2),
    (*b"DOP", 2),
    (*b"DZD", 2),
    (*b"EGP", 2),
    (*b"ERN", 2),
    (*b"ETB", 2),
    (*b"EUR", 2),
    (*b"FJD", 2),
    (*b"FKP", 2),
    (*b"GBP", 2),
    (*b"GEL", 2),
    (*b"GHS", 2),
    (*b"GIP", 2),
    (*b"GMD", 2),
    (*b"GNF", 0),
    (*b"GTQ", 2),
    (*b"GYD", 2),
    (*b"HKD", 2),
    (*b"HNL", 2),
    (*b"HTG", 2),
    (*b"HUF", 2),
    (*b"IDR", 2),
    (*b"ILS", 2),
    (*b"INR", 2),
    (*b"IQD", 3),
    (*b"IRR", 2),
    (*b"ISK", 0),
    (*b"JMD", 2),
    (*b"JOD", 3),
    (*b"JPY", 0),
    (*b"KES", 2),
    (*b"KGS", 2),
    (*b"KHR", 2),
    (*b"KMF", 0),
    (*b"KPW", 2),
    (*b"KRW", 0),
    (*b"KWD", 3),
    (*b"KYD", 2),
    (*b"KZT", 2),
    (*b"LAK", 2),
    (*b"LBP", 2),
    (*b"LKR", 2),
    (*b"LRD", 2),
    (*b"LSL", 2),
    (*b"LYD", 3),
    (*b"MAD", 2),
    (*b"MDL", 2),
    (*b"MGA", 2),
    (*b"MKD", 2),
    (*b"MMK", 2),
    (*b"MNT", 2),
    (*b"MOP", 2),
    (*b"MRU", 2),
    (*b"MUR", 2),
    (*b"MVR", 2),
    (*b"MWK", 2),
    (*b"MXN", 2),
    (*b"MYR", 2),
    (*b"MZN", 2),
    (*b"NAD", 2),
    (*b"NGN", 2),
    (*b"NIO", 2),
    (*b"NOK", 2),
    (*b"NPR", 2),
    (*b"NZD", 2),
    (*b"OMR", 3),
    (*b"PAB", 2),
    (*b"PEN", 2),
    (*b"PGK", 2),
    (*b"PHP", 2),
    (*b"PKR", 2),
    (*b"PLN", 2),
    (*b"PYG", 0),
    (*b"QAR", 2),
    (*b"RON", 2),
    (*b"RSD", 2),
    (*b"RUB", 2),
    (*b"RWF", 0),
    (*b"SAR", 2),
    (*b"SBD", 2),
    (*b"SCR", 2),
    (*b"SDG", 2),
    (*b"SEK", 2),
    (*b"SGD", 2),
    (*b"SHP", 2),
    (*b"SLE", 2),
    (*b"SOS", 2),
    (*b"SRD", 2),
    (*b"SSP", 2),
    (*b"STN", 2),
    (*b"SVC", 2),
    (*b"SYP", 2),
    (*b"SZL", 2),
    (*b"THB", 2),
    (*b"TJS", 2),
    (*b"TMT", 2),
    (*b"TND", 3),
    (*b"TOP", 2),
    (*b"TRY", 2),
    (*b"TTD", 2),
    (*b"TWD", 2),
    (*b"TZS", 2),
    (*b"UAH", 2),
    (*b"UGX", 0),
    (*b"USD", 2),
    (*b"UYI", 0),
    (*b"UYU", 2),
    (*b"UYW", 4),
    (*b"UZS", 2),
    (*b"VED", 2),
    (*b"VES", 2),
    (*b"VND", 0),
    (*b"VUV", 0),
    (*b"WST", 2),
    (*b"XAF", 0),
    (*b"XCD", 2),
    (*b"XCG", 2),
    (*b"XOF", 0),
    (*b"XPF", 0),
    (*b"YER", 2),
    (*b"ZAR", 2),
    (*b"ZMW", 2),
    (*b"ZWG", 2),
];

/// Longest decimal text read, in bytes: far beyond any amount, short enough to bound work.
const MAX_DECIMAL_TEXT_LEN: usize = 64;

/// Reads a decimal written the one way ordersmith accepts: `-?digits(.digits)?`, such as
/// `"10.50"`, `"-3"` or `"0.20"`. Exponents, spaces, `+`, `_`, separators, and a bare
/// `"."` or `"5."` are refused with [`MoneyError::InvalidAmount`], as are numbers beyond
/// `Decimal`'s range.
///
/// ```
/// use ordersmith::money::parse_decimal;
/// assert_eq!(parse_decimal("10.50")?.to_string(), "10.50");
/// for loose in ["1e2", " 1.00 ", "+1", "1_000", "1,5", "5.", ".5", ""] {
///     assert_eq!(parse_decimal(loose).unwrap_err().code(), "MONEY_INVALID_AMOUNT");
/// }
/// # Ok::<(), ordersmith::money::MoneyError>(())
/// ```
pub fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let invalid = || MoneyError::InvalidAmount {
        text: text.chars().take(MAX_DECIMAL_TEXT_LEN).collect(),
    };
    if text.len() > MAX_DECIMAL_TEXT_LEN {
        return Err(invalid());
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(invalid());
    }
    Decimal::from_str(text).map_err(|_| invalid())
}

/// Deserialises a decimal from a string ([`parse_decimal`]'s rules) or an integer, never
/// a float: the reader for amounts and rates in every input format.
pub fn decimal_text_or_int<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    // A visitor, not an untagged enum: an untagged enum buffers the value, tries the
    // integer first and builds (and formats) an error for every amount written as
    // text, which was a sixth of reading an order from JSON lines.
    const EXPECTED: &str = "expected a decimal as a string such as \"10.50\" or an integer";
    struct Visit;
    impl<'v> serde::de::Visitor<'v> for Visit {
        type Value = Decimal;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal as a string such as \"10.50\" or an integer")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
            i64::try_from(v)
                .map(Decimal::from)
                .map_err(|_| E::custom(EXPECTED))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            parse_decimal(v).map_err(E::custom)
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Decimal, E> {
            Err(E::custom(EXPECTED))
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Decimal, E> {
            Err(E::custom(EXPECTED))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Decimal, E> {
            Err(E::custom(EXPECTED))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Decimal, E> {
            Err(E::custom(EXPECTED))
        }
        fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Decimal, E> {
            Err(E::custom(EXPECTED))
        }
        fn visit_seq<A: serde::de::SeqAccess<'v>>(self, _: A) -> Result<Decimal, A::Error> {
            Err(serde::de::Error::custom(EXPECTED))
        }
        fn visit_map<A: serde::de::MapAccess<'v>>(self, _: A) -> Result<Decimal, A::Error> {
            Err(serde::de::Error::custom(EXPECTED))
        }
    }
    d.deserialize_any(Visit)
}

/// An ISO 4217 currency, such as TRY (2 decimals), JPY (0) or KWD (3).
///
/// Only codes in ordersmith's table of active currencies can be constructed, so a
/// `Currency` always knows its minor units.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

impl Currency {
    /// Parses an ISO 4217 alphabetic code, exactly as the standard writes it: three
    /// upper-case letters, nothing around them (`"try"` and `" TRY"` are refused).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        // The table is in code order (a unit test holds it): a binary search on the
        // codes as numbers, not a walk through 159 codes for every amount read.
        let found = <[u8; 3]>::try_from(code.as_bytes()).ok().and_then(|bytes| {
            let key = packed(bytes);
            CURRENCIES
                .binary_search_by_key(&key, |(c, _)| packed(*c))
                .ok()
                .and_then(|i| CURRENCIES.get(i))
        });
        found
            .map(Currency::of_entry)
            .ok_or_else(|| MoneyError::UnknownCurrency {
                code: code.to_string(),
            })
    }

    /// The three-letter code, e.g. `"TRY"`.
    pub fn code(&self) -> &str {
        // The bytes always come from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Decimals of the minor unit: 2 for TRY and USD, 0 for JPY, 3 for KWD.
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }

    /// Every currency ordersmith knows, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().map(Currency::of_entry)
    }

    /// The currency of one row of the table.
    fn of_entry((code, minor): &([u8; 3], u8)) -> Currency {
        Currency {
            code: *code,
            minor_units: *minor,
        }
    }
}

/// A three-letter code as one number that sorts as the code does.
fn packed([a, b, c]: [u8; 3]) -> u32 {
    (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c)
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

// The code as a plain string, with no allocation either way: every amount in every
// event carries its currency.
impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Currency, E> {
                Currency::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// How a rounding site rounds. Every rounding in ordersmith names one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half to even ("banker's rounding"): 0.125 → 0.12, 0.135 → 0.14.
    HalfEven,
    /// Half away from zero ("commercial rounding"): 0.125 → 0.13, -0.125 → -0.13.
    HalfAwayFromZero,
    /// Truncate toward zero: 0.129 → 0.12.
    TowardZero,
    /// Always away from zero: 0.121 → 0.13.
    AwayFromZero,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
            Rounding::TowardZero => RoundingStrategy::ToZero,
            Rounding::AwayFromZero => RoundingStrategy::AwayFromZero,
        }
    }
}

/// An exact amount in one currency, never more precise than the currency's minor unit.
///
/// Serialises as `{"amount": "10.50", "currency": "TRY"}` (the amount is a string so no
/// JSON reader turns it into a float).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyRepr", into = "MoneyRepr")]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

#[derive(Serialize, Deserialize)]
struct MoneyRepr {
    #[serde(deserialize_with = "decimal_text_or_int")]
    amount: Decimal,
    currency: Currency,
}

impl TryFrom<MoneyRepr> for Money {
    type Error = MoneyError;
    fn try_from(r: MoneyRepr) -> Result<Self, Self::Error> {
        Money::new(r.amount, r.currency)
    }
}

impl From<Money> for MoneyRepr {
    fn from(m: Money) -> Self {
        MoneyRepr {
            amount: m.amount,
            currency: m.currency,
        }
    }
}

impl Money {
    /// An amount that must already fit the currency's minor unit (`10.5` and `10.50` are
    /// fine for TRY, `10.505` is [`MoneyError::TooPrecise`]). Use [`Money::rounded`] to round.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let normalized = amount.normalize();
        if normalized.scale() > currency.minor_units() {
            return Err(MoneyError::TooPrecise {
                amount,
                currency,
                minor_units: currency.minor_units(),
            });
        }
        Ok(Money {
            amount: rescale(normalized, currency)?,
            currency,
        })
    }

    /// Rounds `amount` to the currency's minor unit with an explicit mode.
    pub fn rounded(amount: Decimal, currency: Currency, rounding: Rounding) -> Self {
        let r = amount.round_dp_with_strategy(currency.minor_units(), rounding.strategy());
        Money {
            amount: rescale(r, currency).unwrap_or(r),
            currency,
        }
    }

    /// Parses a decimal string such as `"10.50"` ([`parse_decimal`]'s strict rules).
    /// Floats never enter.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        Money::new(parse_decimal(text)?, currency)
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Money {
            amount: rescale(Decimal::ZERO, currency).unwrap_or(Decimal::ZERO),
            currency,
        }
    }

    /// An amount from an integer count of minor units: `from_minor(1050, TRY)` is 10.50 TRY.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Money {
            amount: Decimal::new(minor, currency.minor_units()),
            currency,
        }
    }

    /// The decimal amount, scaled to the currency's minor unit.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount as an integer count of minor units (10.50 TRY → 1050).
    pub fn to_minor(&self) -> Result<i128, MoneyError> {
        let scaled = self
            .amount
            .checked_mul(pow10(self.currency.minor_units())?)
            .ok_or(MoneyError::Overflow)?;
        scaled.trunc().to_i128().ok_or(MoneyError::Overflow)
    }

    /// True when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// True when the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// `self + other`, same currency only.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let sum = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Money::at_scale(sum, self.currency)
    }

    /// `self - other`, same currency only.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let diff = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Money::at_scale(diff, self.currency)
    }

    /// `self × quantity` (exact: a quantity never needs rounding).
    pub fn times(&self, quantity: u64) -> Result<Money, MoneyError> {
        let product = self
            .amount
            .checked_mul(Decimal::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Money::at_scale(product, self.currency)
    }

    /// The result of exact arithmetic on amounts of `currency`. Every amount is held at
    /// the currency's scale, so a sum, a difference or a product by a whole number is
    /// too, and is taken as it is; [`Money::new`]'s normalising (a division by ten per
    /// trailing zero) is for anything else: a zero (whose sign `new` clears) or a result
    /// that overflowed into fewer decimals. Either way the value and its scale are what
    /// `new` gives (a unit test and a proptest hold them equal).
    fn at_scale(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        if amount.scale() == currency.minor_units() && !amount.is_zero() {
            Ok(Money { amount, currency })
        } else {
            Money::new(amount, currency)
        }
    }

    /// `self × rate`, rounded to the minor unit with the given mode (tax, percentages).
    pub fn times_rate(&self, rate: Decimal, rounding: Rounding) -> Result<Money, MoneyError> {
        let product = self.amount.checked_mul(rate).ok_or(MoneyError::Overflow)?;
        Ok(Money::rounded(product, self.currency, rounding))
    }

    /// `self ÷ divisor`, rounded to the minor unit with the given mode.
    pub fn divided_by(&self, divisor: Decimal, rounding: Rounding) -> Result<Money, MoneyError> {
        let quotient = self
            .amount
            .checked_div(divisor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::rounded(quotient, self.currency, rounding))
    }

    /// The negated amount.
    pub fn negated(&self) -> Money {
        Money {
            amount: -self.amount,
            currency: self.currency,
        }
    }

    /// Compares two amounts of the same currency.
    pub fn checked_cmp(&self, other: &Money) -> Result<Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    /// Sums amounts that must all be in `currency`; an empty sum is zero.
    pub fn sum<'a>(
        currency: Currency,
        items: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

fn pow10(exp: u32) -> Result<Decimal, MoneyError> {
    (0..exp).try_fold(Decimal::ONE, |acc, _| {
        acc.checked_mul(Decimal::TEN).ok_or(MoneyError::Overflow)
    })
}

fn rescale(mut amount: Decimal, currency: Currency) -> Result<Decimal, MoneyError> {
    // `rescale` silently rounds when reducing scale; callers only ever widen here.
    if amount.scale() > currency.minor_units() {
        return Err(MoneyError::TooPrecise {
            amount,
            currency,
            minor_units: currency.minor_units(),
        });
    }
    amount.rescale(currency.minor_units());
    Ok(amount)
}

/// Splits `total` into parts proportional to `weights`, by largest remainder.
///
/// The parts always sum exactly to `total`. Each part gets the floor of its exact share
/// in minor units; the leftover units go one each to the parts with the largest
/// remainders, ties to the earlier part. A negative total is split as its absolute
/// value and negated. Weights must be non-negative and not all zero.
pub fn allocate(total: &Money, weights: &[Decimal]) -> Result<Vec<Money>, MoneyError> {
    if weights.is_empty() {
        return Err(MoneyError::InvalidWeights {
            reason: "no weights given",
        });
    }
    if weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
        return Err(MoneyError::InvalidWeights {
            reason: "a weight is negative",
        });
    }
    let scale = weights.iter().map(|w| w.scale()).max().unwrap_or(0);
    let int_weights: Vec<i128> = weights
        .iter()
        .map(|w| {
            10i128
                .checked_pow(scale - w.scale())
                .and_then(|factor| w.mantissa().checked_mul(factor))
                .ok_or(MoneyError::Overflow)
        })
        .collect::<Result<_, _>>()?;
    let weight_sum = int_weights
        .iter()
        .try_fold(0i128, |acc, w| acc.checked_add(*w))
        .ok_or(MoneyError::Overflow)?;
    if weight_sum == 0 {
        return Err(MoneyError::InvalidWeights {
            reason: "all weights are zero",
        });
    }
    let total_minor = total.to_minor()?;
    let negative = total_minor < 0;
    let units = total_minor.checked_abs().ok_or(MoneyError::Overflow)?;

    let mut parts = Vec::with_capacity(int_weights.len());
    let mut remainders = Vec::with_capacity(int_weights.len());
    let mut given = 0i128;
    for (index, w) in int_weights.iter().enumerate() {
        let product = units.checked_mul(*w).ok_or(MoneyError::Overflow)?;
        let share = product / weight_sum;
        let remainder = product % weight_sum;
        given += share;
        parts.push(share);
        remainders.push((remainder, index));
    }
    let mut leftover = units - given;
    // Largest remainder first; ties go to the earlier index.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders {
        if leftover == 0 {
            break;
        }
        if let Some(part) = parts.get_mut(index) {
            *part += 1;
            leftover -= 1;
        }
    }
    let currency = total.currency();
    parts
        .into_iter()
        .map(|p| {
            let signed = if negative { -p } else { p };
            let amount = Decimal::try_from_i128_with_scale(signed, currency.minor_units())
                .map_err(|_| MoneyError::Overflow)?;
            Money::new(amount, currency)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn cur(c: &str) -> Currency {
        Currency::parse(c).unwrap()
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(cur("TRY").minor_units(), 2);
        assert_eq!(cur("USD").minor_units(), 2);
        for loose in ["usd", " USD", "USD ", "Usd"] {
            assert_eq!(
                Currency::parse(loose).unwrap_err().code(),
                "MONEY_UNKNOWN_CURRENCY"
            );
        }
        assert_eq!(cur("JPY").minor_units(), 0);
        assert_eq!(cur("KWD").minor_units(), 3);
        assert_eq!(
            Currency::parse("ABC").unwrap_err().code(),
            "MONEY_UNKNOWN_CURRENCY"
        );
        assert!(Currency::parse("").is_err());
        assert!(Currency::parse("ÜSD").is_err());
    }

    #[test]
    fn precision_is_enforced_per_currency() {
        assert!(Money::parse("10.5", cur("TRY")).is_ok());
        assert_eq!(
            Money::parse("10.505", cur("TRY")).unwrap_err().code(),
            "MONEY_TOO_PRECISE"
        );
        assert!(Money::parse("10.505", cur("KWD")).is_ok());
        assert!(Money::parse("10.5", cur("JPY")).is_err());
        assert_eq!(
            Money::parse("10.5", cur("TRY"))
                .unwrap()
                .amount()
                .to_string(),
            "10.50"
        );
        assert_eq!(
            Money::parse("abc", cur("TRY")).unwrap_err().code(),
            "MONEY_INVALID_AMOUNT"
        );
    }

    #[test]
    fn mixing_currencies_is_an_error() {
        let a = Money::parse("1", cur("TRY")).unwrap();
        let b = Money::parse("1", cur("USD")).unwrap();
        let err = a.checked_add(&b).unwrap_err();
        assert_eq!(err.code(), "MONEY_CURRENCY_MISMATCH");
        assert!(err.to_string().contains("TRY") && err.to_string().contains("USD"));
        assert!(Money::sum(cur("TRY"), [&a, &b]).is_err());
    }

    #[test]
    fn rounding_is_explicit() {
        let t = cur("TRY");
        assert_eq!(
            Money::rounded(d("0.125"), t, Rounding::HalfEven).amount(),
            d("0.12")
        );
        assert_eq!(
            Money::rounded(d("0.125"), t, Rounding::HalfAwayFromZero).amount(),
            d("0.13")
        );
        assert_eq!(
            Money::rounded(d("0.129"), t, Rounding::TowardZero).amount(),
            d("0.12")
        );
        assert_eq!(
            Money::rounded(d("0.121"), t, Rounding::AwayFromZero).amount(),
            d("0.13")
        );
    }

    #[test]
    fn allocate_by_largest_remainder() {
        let total = Money::parse("0.05", cur("USD")).unwrap();
        let parts = allocate(&total, &[d("3"), d("7")]).unwrap();
        assert_eq!(parts[0].amount(), d("0.02"));
        assert_eq!(parts[1].amount(), d("0.03"));
        let neg = Money::parse("-10", cur("JPY")).unwrap();
        let parts = allocate(&neg, &[d("1"), d("1"), d("1")]).unwrap();
        let amounts: Vec<Decimal> = parts.iter().map(|m| m.amount()).collect();
        assert_eq!(amounts, vec![d("-4"), d("-3"), d("-3")]);
        assert!(allocate(&total, &[]).is_err());
        assert!(allocate(&total, &[d("0"), d("0")]).is_err());
        assert!(allocate(&total, &[d("-1"), d("2")]).is_err());
        let fractional = allocate(&total, &[d("0.5"), d("1.25")]).unwrap();
        assert_eq!(Money::sum(cur("USD"), &fractional).unwrap(), total);
    }

    #[test]
    fn serde_uses_strings() {
        let m = Money::parse("10.5", cur("TRY")).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"10.50","currency":"TRY"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.001","currency":"TRY"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"XYZ"}"#).is_err());
    }

    // Sums, differences and products by whole numbers take the fast path; it must give
    // exactly what `Money::new` of the same decimal gives, scale and sign of zero
    // included.
    #[test]
    fn exact_arithmetic_gives_what_new_gives() {
        for code in ["TRY", "JPY", "KWD"] {
            let c = cur(code);
            let m = |s: &str| Money::parse(s, c).unwrap();
            let cases = [
                ("10", "5"),
                ("1", "-1"),
                ("-0", "0"),
                ("250", "250"),
                ("7", "-12"),
            ];
            for (a, b) in cases {
                let (a, b) = (m(a), m(b));
                for (got, raw) in [
                    (a.checked_add(&b), a.amount + b.amount),
                    (a.checked_sub(&b), a.amount - b.amount),
                    (a.times(3), a.amount * Decimal::from(3)),
                    (a.times(0), a.amount * Decimal::ZERO),
                ] {
                    let want = Money::new(raw, c).unwrap();
                    let got = got.unwrap();
                    assert_eq!(got.amount.to_string(), want.amount.to_string(), "{code}");
                    assert_eq!(got.amount.scale(), want.amount.scale(), "{code}");
                }
            }
        }
    }

    /// `zero` is what `new` makes of a zero, for every currency: positive, at the
    /// currency's scale.
    #[test]
    fn zero_is_what_new_makes_of_zero() {
        for c in Currency::all() {
            for raw in [
                Decimal::ZERO,
                -Decimal::ZERO,
                Decimal::new(0, 3),
                Decimal::new(-0, 1),
            ] {
                let (got, want) = (Money::zero(c), Money::new(raw, c).unwrap());
                assert_eq!(
                    got.amount.to_string(),
                    want.amount.to_string(),
                    "{}",
                    c.code()
                );
                assert_eq!(got.amount.scale(), want.amount.scale());
                assert!(!got.amount.is_sign_negative());
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn sums_and_products_match_new(
            a in -10_000_000_000i64..10_000_000_000,
            b in -10_000_000_000i64..10_000_000_000,
            q in 0u64..1_000,
            which in 0usize..3,
        ) {
            let c = [cur("TRY"), cur("JPY"), cur("KWD")][which];
            let scale = c.minor_units();
            let (a, b) = (
                Money::new(Decimal::new(a, scale), c).unwrap(),
                Money::new(Decimal::new(b, scale), c).unwrap(),
            );
            for (got, raw) in [
                (a.checked_add(&b).unwrap(), a.amount + b.amount),
                (a.checked_sub(&b).unwrap(), a.amount - b.amount),
                (a.times(q).unwrap(), a.amount * Decimal::from(q)),
            ] {
                let want = Money::new(raw, c).unwrap();
                proptest::prop_assert_eq!(got.amount.to_string(), want.amount.to_string());
                proptest::prop_assert_eq!(got.amount.scale(), want.amount.scale());
            }
        }
    }

    #[test]
    fn the_currency_table_is_in_code_order_for_its_binary_search() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(CURRENCIES
            .windows(2)
            .all(|w| packed(w[0].0) < packed(w[1].0)));
        for (code, minor) in CURRENCIES {
            assert!(code.iter().all(u8::is_ascii_uppercase));
            let code = std::str::from_utf8(code).unwrap();
            assert_eq!(cur(code).code(), code);
            assert_eq!(cur(code).minor_units(), u32::from(*minor));
        }
        assert_eq!(Currency::all().count(), CURRENCIES.len());
        for unknown in [
            "AAA", "ZZZ", "ZWX", "TR", "TRYY", "try", " TRY", "TRY ", "", "TRÿ",
        ] {
            assert!(Currency::parse(unknown).is_err(), "{unknown}");
        }
    }

    #[test]
    fn amounts_read_from_text_or_integers_never_floats() {
        #[derive(Debug, Deserialize)]
        struct Amount {
            #[serde(deserialize_with = "decimal_text_or_int")]
            v: Decimal,
        }
        let read = |json: &str| serde_json::from_str::<Amount>(json).map(|a| a.v);
        assert_eq!(read(r#"{"v":"10.50"}"#).unwrap(), d("10.50"));
        assert_eq!(read(r#"{"v":"-0.5"}"#).unwrap(), d("-0.5"));
        assert_eq!(read(r#"{"v":7}"#).unwrap(), d("7"));
        assert_eq!(read(r#"{"v":-7}"#).unwrap(), d("-7"));
        assert_eq!(
            read(&format!(r#"{{"v":{}}}"#, i64::MAX)).unwrap(),
            Decimal::from(i64::MAX)
        );
        // Escaped text is read like plain text.
        assert_eq!(read(r#"{"v":"\u0031.5"}"#).unwrap(), d("1.5"));
        for bad in [
            r#"{"v":1.5}"#,
            r#"{"v":true}"#,
            r#"{"v":null}"#,
            r#"{"v":[1]}"#,
            r#"{"v":{"a":1}}"#,
            r#"{"v":18446744073709551615}"#,
        ] {
            let e = read(bad).unwrap_err().to_string();
            assert!(e.contains("expected a decimal as a string"), "{bad}: {e}");
        }
        for loose in [r#"{"v":"1e2"}"#, r#"{"v":" 1"}"#, r#"{"v":""}"#] {
            let e = read(loose).unwrap_err().to_string();
            assert!(
                e.contains("not a valid amount") || e.contains("amount"),
                "{loose}: {e}"
            );
        }
    }
}
