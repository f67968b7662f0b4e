//! Personal data: customers and addresses, kept out of `Debug` output and error messages.
//!
//! Names, e-mail addresses, phone numbers and street addresses are wrapped in
//! [`Redacted`], whose `Debug` and `Display` print `[redacted]`. The value is still
//! serialised as itself, because hosts store and exchange orders; reading it in code
//! needs an explicit [`Redacted::expose`].
//!
//! ```
//! use ordersmith::pii::Redacted;
//! let email = Redacted::new("ayse@example.com".to_string());
//! assert_eq!(format!("{email:?}"), "[redacted]");
//! assert_eq!(email.expose(), "ayse@example.com");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::CustomerId;

/// A value that never shows itself in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a personal value.
    pub fn new(value: T) -> Self {
        Redacted(value)
    }

    /// The value itself; every call site is a place personal data is read.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The person who placed an order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Customer {
    /// The host's customer id, if the customer has an account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<CustomerId>,
    /// Full name.
    #[serde(default)]
    pub name: Redacted<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Redacted<String>>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Redacted<String>>,
    /// Preferred locale for messages, e.g. `"tr-TR"` (not personal data by itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// A postal address. Country and region stay readable: sourcing and reports need them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Recipient name.
    #[serde(default)]
    pub name: Redacted<String>,
    /// Street lines.
    #[serde(default)]
    pub lines: Redacted<Vec<String>>,
    /// City or district.
    #[serde(default)]
    pub city: Redacted<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Redacted<String>,
    /// Region or province (e.g. `"Istanbul"`), used for nearest-location sourcing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. `"TR"`.
    pub country: String,
    /// Phone number at the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Redacted<String>>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_never_in_debug() {
        let c = Customer {
            id: None,
            name: Redacted::new("Ayşe Yılmaz".into()),
            email: Some(Redacted::new("ayse@example.com".into())),
            phone: Some(Redacted::new("+905551112233".into())),
            locale: Some("tr-TR".into()),
        };
        let a = Address {
            name: Redacted::new("Ayşe Yılmaz".into()),
            lines: Redacted::new(vec!["Bağdat Cad. 1".into()]),
            city: Redacted::new("Kadıköy".into()),
            postal_code: Redacted::new("34710".into()),
            region: Some("Istanbul".into()),
            country: "TR".into(),
            phone: None,
        };
        let dbg = format!("{c:?} {a:?} {c:#?}");
        for secret in ["Ayşe", "ayse@", "555111", "Bağdat", "Kadıköy", "34710"] {
            assert!(!dbg.contains(secret), "{secret} leaked into {dbg}");
        }
        assert!(dbg.contains("Istanbul"));
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("ayse@example.com"));
        let back: Customer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }
}
