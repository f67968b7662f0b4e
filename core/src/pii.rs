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
//!
//! Reading personal data never echoes it either. A value of the wrong shape (a string
//! where a customer object belongs, a number as an e-mail address, an object with an
//! unknown key) is refused with an error that names what was expected, never what was
//! given, whatever the deserializer: serde's own messages quote the offending value
//! (`invalid type: string "Ayşe <ayse@example.com>"`), and errors end up in logs.
//!
//! ```
//! use ordersmith::pii::Customer;
//! let err = serde_json::from_str::<Customer>(r#""Ayşe <ayse@example.com>""#).unwrap_err();
//! assert!(!err.to_string().contains("ayse@"));
//! let err = serde_json::from_str::<Customer>(r#"{"email": 42}"#).unwrap_err();
//! assert!(err.to_string().contains("expected a string"));
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Unexpected, Visitor};
use serde::{Deserialize, Serialize};

use crate::ids::CustomerId;

/// A value that never shows itself in `Debug` or `Display` output, nor in the error
/// when it cannot be read.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Redacted<T>(T);

/// A type that can hold personal data inside [`Redacted`]: it says what shape is
/// expected, because the error for a wrong shape may not say what was given.
pub trait PersonalValue {
    /// What a valid value looks like, e.g. `"a string"`.
    const EXPECTED: &'static str;
}

impl PersonalValue for String {
    const EXPECTED: &'static str = "a string";
}

impl PersonalValue for Vec<String> {
    const EXPECTED: &'static str = "a list of strings";
}

/// The message for a personal value of the wrong shape: what was expected, never what
/// was given.
fn refused<E: de::Error>(expected: &str) -> E {
    E::custom(format!(
        "invalid personal data (value not shown): expected {expected}"
    ))
}

impl<'de, T: Deserialize<'de> + PersonalValue> Deserialize<'de> for Redacted<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The inner error is dropped whole: serde's messages quote the value.
        T::deserialize(deserializer)
            .map(Redacted)
            .map_err(|_| refused(T::EXPECTED))
    }
}

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
///
/// Reading one refuses unknown fields (a typo such as `emial` would otherwise drop an
/// e-mail address silently) without echoing them; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "Personal<CustomerFields>")]
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
///
/// Read like [`Customer`]: unknown fields are refused, and no error quotes a value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "Personal<AddressFields>")]
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

/// How a map key appears in an error path (`order.customer.email`): as itself when it
/// reads like a field name (ASCII lower case, digits and `_`, at most 64 bytes), else as
/// `<key>`, because a key may itself be personal data (an e-mail address used as a key).
///
/// ```
/// use ordersmith::pii::key_for_message;
/// assert_eq!(key_for_message("unit_price"), "unit_price");
/// assert_eq!(key_for_message("ayse@example.com"), "<key>");
/// ```
pub fn key_for_message(key: &str) -> &str {
    let field_like = !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if field_like {
        key
    } else {
        "<key>"
    }
}

/// The fields of a personal-data object as read (unknown ones refused by [`Personal`]).
#[derive(Deserialize)]
#[doc(hidden)]
pub struct CustomerFields {
    #[serde(default)]
    id: Option<CustomerId>,
    #[serde(default)]
    name: Redacted<String>,
    #[serde(default)]
    email: Option<Redacted<String>>,
    #[serde(default)]
    phone: Option<Redacted<String>>,
    #[serde(default)]
    locale: Option<String>,
}

impl From<Personal<CustomerFields>> for Customer {
    fn from(Personal(f): Personal<CustomerFields>) -> Self {
        Customer {
            id: f.id,
            name: f.name,
            email: f.email,
            phone: f.phone,
            locale: f.locale,
        }
    }
}

/// The fields of an address as read (unknown ones refused by [`Personal`]).
#[derive(Deserialize)]
#[doc(hidden)]
pub struct AddressFields {
    #[serde(default)]
    name: Redacted<String>,
    #[serde(default)]
    lines: Redacted<Vec<String>>,
    #[serde(default)]
    city: Redacted<String>,
    #[serde(default)]
    postal_code: Redacted<String>,
    #[serde(default)]
    region: Option<String>,
    country: String,
    #[serde(default)]
    phone: Option<Redacted<String>>,
}

impl From<Personal<AddressFields>> for Address {
    fn from(Personal(f): Personal<AddressFields>) -> Self {
        Address {
            name: f.name,
            lines: f.lines,
            city: f.city,
            postal_code: f.postal_code,
            region: f.region,
            country: f.country,
            phone: f.phone,
        }
    }
}

/// What a personal-data object is called in messages, and its field names.
#[doc(hidden)]
pub trait PersonalFields: for<'de> Deserialize<'de> {
    /// E.g. `"a customer"`.
    const WHAT: &'static str;
    /// Every field the object may have.
    const FIELDS: &'static [&'static str];
}

impl PersonalFields for CustomerFields {
    const WHAT: &'static str = "a customer";
    const FIELDS: &'static [&'static str] = &["id", "name", "email", "phone", "locale"];
}

impl PersonalFields for AddressFields {
    const WHAT: &'static str = "an address";
    const FIELDS: &'static [&'static str] = &[
        "name",
        "lines",
        "city",
        "postal_code",
        "region",
        "country",
        "phone",
    ];
}

/// A personal-data object read without ever quoting the input: only a map is accepted
/// (`deserialize_any`, because serde_json's `deserialize_map` builds its own
/// "invalid type" message with the value in it), every other shape is refused by kind
/// ("a string", "a number"), and unknown keys are refused without naming them.
#[doc(hidden)]
pub struct Personal<T>(T);

impl<'de, T: PersonalFields> Deserialize<'de> for Personal<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PersonalVisitor(PhantomData))
    }
}

struct PersonalVisitor<T>(PhantomData<T>);

impl<T: PersonalFields> PersonalVisitor<T> {
    fn wrong<E: de::Error>(&self, kind: &'static str) -> Result<Personal<T>, E> {
        Err(E::invalid_type(Unexpected::Other(kind), self))
    }
}

impl<'de, T: PersonalFields> Visitor<'de> for PersonalVisitor<T> {
    type Value = Personal<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (an object with fields {})",
            T::WHAT,
            T::FIELDS.join(", ")
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(KnownKeys::<A, T> {
            inner: map,
            fields: PhantomData,
        }))
        .map(Personal)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.wrong("a boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.wrong("a number")
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
        self.wrong("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.wrong("a number")
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
        self.wrong("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.wrong("a number")
    }
    fn visit_char<E: de::Error>(self, _: char) -> Result<Self::Value, E> {
        self.wrong("a string")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.wrong("a string")
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
        self.wrong("bytes")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        self.wrong("a list")
    }
}

/// A map whose keys must be field names of `T`; an unknown key is refused unnamed.
struct KnownKeys<A, T> {
    inner: A,
    fields: PhantomData<T>,
}

impl<'de, A: MapAccess<'de>, T: PersonalFields> MapAccess<'de> for KnownKeys<A, T> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = self.inner.next_key::<String>().map_err(|_| {
            <A::Error as de::Error>::custom(format!("{}: field names must be strings", T::WHAT))
        })?;
        let Some(key) = key else { return Ok(None) };
        if !T::FIELDS.contains(&key.as_str()) {
            return Err(de::Error::custom(format!(
                "unknown field in {} (name not shown: it may be personal data); expected one of {}",
                T::WHAT,
                T::FIELDS.join(", ")
            )));
        }
        seed.deserialize(StringDeserializer::<A::Error>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
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
