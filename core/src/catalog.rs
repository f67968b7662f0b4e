//! Catalog basics: variants with SKU, barcode (GTIN), options and weight.
//!
//! ```
//! use ordersmith::catalog::{Gtin, Variant};
//! use ordersmith::ids::VariantId;
//!
//! let gtin = Gtin::parse("4006381333931")?; // GTIN-13 with a valid check digit
//! let variant = Variant::new(VariantId::parse("PEN-BLUE").unwrap())
//!     .with_barcode(gtin)
//!     .with_option("colour", "blue")?
//!     .with_weight_grams(12);
//! assert_eq!(variant.option("colour"), Some("blue"));
//! assert!(Gtin::parse("4006381333932").is_err()); // wrong check digit
//! # Ok::<(), ordersmith::catalog::CatalogError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::VariantId;

/// Why catalog input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum CatalogError {
    /// A barcode had a length other than 8, 12, 13 or 14 digits, or non-digits.
    #[error("barcode {barcode:?} is not a GTIN: expected 8, 12, 13 or 14 digits")]
    InvalidGtin {
        /// The barcode as given.
        barcode: String,
    },
    /// A barcode's check digit does not match its other digits.
    #[error("barcode {barcode:?} has check digit {found}, expected {expected}")]
    GtinCheckDigit {
        /// The barcode as given.
        barcode: String,
        /// The check digit in the barcode.
        found: u8,
        /// The check digit its other digits require.
        expected: u8,
    },
    /// An option name or value was empty or too long.
    #[error("option {name:?} is invalid: names and values must be 1 to 64 characters")]
    InvalidOption {
        /// The option name as given.
        name: String,
    },
}

impl CatalogError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "CATALOG_INVALID_GTIN",
        "CATALOG_GTIN_CHECK_DIGIT",
        "CATALOG_INVALID_OPTION",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidGtin { .. } => "CATALOG_INVALID_GTIN",
            Self::GtinCheckDigit { .. } => "CATALOG_GTIN_CHECK_DIGIT",
            Self::InvalidOption { .. } => "CATALOG_INVALID_OPTION",
        }
    }
}

/// A GS1 Global Trade Item Number (GTIN-8, -12, -13 or -14) with a verified check digit.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gtin(String);

/// The GS1 mod-10 check digit for `digits` (the payload without its check digit).
///
/// From the right, digits are weighted 3, 1, 3, 1, ...; the check digit brings the
/// weighted sum up to a multiple of ten. The same rule serves GTINs and SSCCs.
pub fn gs1_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    // `sum % 10` is below 10, so the result fits a u8.
    ((10 - sum % 10) % 10) as u8
}

impl Gtin {
    /// Validates length, digits and check digit.
    pub fn parse(barcode: &str) -> Result<Self, CatalogError> {
        let text = barcode.trim();
        let digits: Option<Vec<u8>> = text
            .chars()
            .map(|c| c.to_digit(10).and_then(|d| u8::try_from(d).ok()))
            .collect();
        let invalid = || CatalogError::InvalidGtin {
            barcode: barcode.to_string(),
        };
        let digits = digits.ok_or_else(invalid)?;
        if ![8, 12, 13, 14].contains(&digits.len()) {
            return Err(invalid());
        }
        let (payload, check) = digits.split_at(digits.len() - 1);
        let found = check.first().copied().ok_or_else(invalid)?;
        let expected = gs1_check_digit(payload);
        if found != expected {
            return Err(CatalogError::GtinCheckDigit {
                barcode: barcode.to_string(),
                found,
                expected,
            });
        }
        Ok(Gtin(text.to_string()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gtin({})", self.0)
    }
}

impl TryFrom<String> for Gtin {
    type Error = CatalogError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Gtin::parse(&s)
    }
}

impl From<Gtin> for String {
    fn from(g: Gtin) -> String {
        g.0
    }
}

/// A sellable variant: the unit stock is kept and sold in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// The SKU.
    pub sku: VariantId,
    /// Optional barcode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<Gtin>,
    /// Options such as colour and size, by name.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Shipping weight in grams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_grams: Option<u32>,
}

impl Variant {
    /// A variant with only its SKU.
    pub fn new(sku: VariantId) -> Self {
        Variant {
            sku,
            barcode: None,
            options: BTreeMap::new(),
            weight_grams: None,
        }
    }

    /// Sets the barcode.
    pub fn with_barcode(mut self, gtin: Gtin) -> Self {
        self.barcode = Some(gtin);
        self
    }

    /// Adds an option (e.g. `colour = red`); names and values are 1 to 64 characters.
    pub fn with_option(mut self, name: &str, value: &str) -> Result<Self, CatalogError> {
        let ok = |s: &str| !s.trim().is_empty() && s.chars().count() <= 64;
        if !ok(name) || !ok(value) {
            return Err(CatalogError::InvalidOption {
                name: name.to_string(),
            });
        }
        self.options.insert(name.to_string(), value.to_string());
        Ok(self)
    }

    /// Sets the weight in grams.
    pub fn with_weight_grams(mut self, grams: u32) -> Self {
        self.weight_grams = Some(grams);
        self
    }

    /// The value of an option, if set.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn gtin_lengths_and_check_digits() {
        for good in [
            "96385074",
            "036000291452",
            "4006381333931",
            "10012345678902",
        ] {
            assert!(Gtin::parse(good).is_ok(), "{good}");
        }
        assert_eq!(
            Gtin::parse("036000291453").unwrap_err().code(),
            "CATALOG_GTIN_CHECK_DIGIT"
        );
        for bad in [
            "",
            "123",
            "40063813339311",
            "4006381333a31",
            "40063813339310000",
        ] {
            assert!(Gtin::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Gtin::parse("12345").unwrap_err().code(),
            "CATALOG_INVALID_GTIN"
        );
    }

    #[test]
    fn options_are_validated() {
        let v = Variant::new(VariantId::parse("A").unwrap());
        assert!(v.clone().with_option("", "x").is_err());
        assert!(v.with_option("size", &"x".repeat(65)).is_err());
    }
}
