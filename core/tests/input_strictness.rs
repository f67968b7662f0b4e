//! Loose input is refused with a message that says what is expected, the same way for
//! every host: amounts in exponent form or with spaces, currency codes not written as
//! ISO 4217 writes them, and times without a UTC offset.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use ordersmith::money::{parse_decimal, Currency, Money};
use ordersmith::order::{NewOrder, OrderInput, NAIVE_TIME_REFUSED};
use serde_json::{json, Value};

fn order() -> Value {
    json!({
        "channel": "web", "placed_at": "2026-11-20T09:30:00Z", "currency": "TRY",
        "lines": [{"variant": "MUG", "quantity": 1, "unit_price": "10.00",
                   "tax_lines": [{"name": "KDV", "rate": "0.20"}]}]
    })
}

fn refusal(input: Value) -> String {
    serde_json::from_value::<OrderInput>(input)
        .unwrap_err()
        .to_string()
}

#[test]
fn amounts_are_plain_decimals() {
    for loose in [
        "1e2", " 1.00 ", "1.00 ", "+1", "1_000", "1,00", "NaN", "", "5.", ".5",
    ] {
        let mut input = order();
        input["lines"][0]["unit_price"] = json!(loose);
        let e = refusal(input);
        assert!(e.contains("is not a decimal amount"), "{loose:?}: {e}");
        assert!(e.contains("no exponent, no spaces"), "{loose:?}: {e}");
        let mut input = order();
        input["lines"][0]["tax_lines"][0]["rate"] = json!(loose);
        assert!(refusal(input).contains("is not a decimal amount"));
        let try_ = Currency::parse("TRY").unwrap();
        assert_eq!(
            Money::parse(loose, try_).unwrap_err().code(),
            "MONEY_INVALID_AMOUNT"
        );
    }
    for fine in ["10", "10.5", "-3.25", "0.20", "007"] {
        let mut input = order();
        input["lines"][0]["unit_price"] = json!(fine);
        let parsed: Result<OrderInput, _> = serde_json::from_value(input);
        assert!(parsed.is_ok(), "{fine}");
    }
    assert_eq!(parse_decimal("-0.5").unwrap().to_string(), "-0.5");
    assert!(parse_decimal(&"9".repeat(80)).is_err());
}

#[test]
fn money_objects_read_amounts_the_same_way() {
    let loose: Result<Money, _> =
        serde_json::from_value(json!({"amount": "1e2", "currency": "TRY"}));
    assert!(loose.is_err());
    let fine: Money =
        serde_json::from_value(json!({"amount": "100.00", "currency": "TRY"})).unwrap();
    assert_eq!(fine.to_string(), "100.00 TRY");
}

#[test]
fn currency_codes_are_upper_case_iso_4217() {
    for loose in ["try", "Try", " TRY", "TRY ", "TL"] {
        let mut input = order();
        input["currency"] = json!(loose);
        let e = refusal(input);
        assert!(e.contains("unknown currency code"), "{loose}: {e}");
        assert!(e.contains("in upper case"), "{loose}: {e}");
    }
}

#[test]
fn a_time_without_an_offset_is_refused_clearly() {
    for naive in [
        "2026-11-20T09:30:00",
        "2026-11-20 09:30:00",
        "2026-11-20T09:30:00.123",
        "2026-11-20",
    ] {
        let mut input = order();
        input["placed_at"] = json!(naive);
        let e = refusal(input);
        assert!(e.contains(NAIVE_TIME_REFUSED), "{naive}: {e}");
        assert!(!e.contains("premature end of input"), "{e}");
    }
    let mut input = order();
    input["placed_at"] = json!("next tuesday");
    assert!(refusal(input).contains("expected an RFC 3339 time with an offset"));
    let mut input = order();
    input["placed_at"] = json!("2026-11-20T12:30:00+03:00");
    let read: OrderInput = serde_json::from_value(input).unwrap();
    assert_eq!(read.placed_at.to_rfc3339(), "2026-11-20T09:30:00+00:00");
    let naive = json!({
        "channel": "web", "placed_at": "2026-11-20T09:30:00", "currency": "TRY", "lines": []
    });
    let e = serde_json::from_value::<NewOrder>(naive)
        .unwrap_err()
        .to_string();
    assert!(e.contains(NAIVE_TIME_REFUSED), "{e}");
}
