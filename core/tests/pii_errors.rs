//! Property test: no error message ever quotes personal data.
//!
//! Every personal-data field of every input type (the flat `OrderInput`, `NewOrder`, and
//! the `place` command that carries a `NewOrder`) is fed random wrong shapes that contain
//! a marker (a random e-mail address or name): strings where an object belongs, numbers,
//! booleans, lists, objects with unknown keys, objects with known keys holding wrong
//! values. Whatever fails, neither `Display` nor `Debug` of the error may contain the
//! marker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use ordersmith::order::{NewOrder, OrderCommand, OrderInput};
use ordersmith::pii::{Address, Customer};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Personal-data objects in an order and the personal fields inside each.
const OBJECTS: &[(&str, &[&str])] = &[
    ("customer", &["name", "email", "phone"]),
    (
        "shipping_address",
        &["name", "lines", "city", "postal_code", "phone"],
    ),
    (
        "billing_address",
        &["name", "lines", "city", "postal_code", "phone"],
    ),
];

fn valid_order() -> Value {
    json!({
        "channel": "web",
        "placed_at": "2026-11-20T09:30:00Z",
        "currency": "TRY",
        "customer": {"name": "Ada", "email": "ada@example.org", "phone": "+90"},
        "shipping_address": {"name": "Ada", "lines": ["Cad. 1"], "city": "X",
                             "postal_code": "1", "country": "TR"},
        "billing_address": {"name": "Ada", "lines": ["Cad. 1"], "city": "X",
                            "postal_code": "1", "country": "TR"},
        "lines": [{"variant": "MUG", "quantity": 1, "unit_price": "10.00"}]
    })
}

/// `valid_order` in `NewOrder`'s own shape (amounts as money objects).
fn valid_new_order() -> Value {
    let mut v = valid_order();
    v["lines"] = json!([{"variant": "MUG", "quantity": 1,
                         "unit_price": {"amount": "10.00", "currency": "TRY"}}]);
    v
}

fn marker() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{3,10}@[a-z]{3,8}\\.(com|org|com\\.tr)",
        "[A-Z][a-z]{2,8} [A-Z][a-z]{2,10}",
        "\\+90 5[0-9]{2} [0-9]{3} [0-9]{4}",
        "[A-Z][a-z]{3,8} (Cad|Sok)\\. No:[0-9]{1,3}",
    ]
    .prop_map(|m| format!("{m}Q7"))
}

/// A value of some shape with the marker in it (as a value, inside a list, as a key).
fn wrong_shape(marker: String) -> impl Strategy<Value = Value> {
    let m = marker;
    prop_oneof![
        Just(json!(m.clone())),
        Just(json!([m.clone()])),
        Just(json!([m.clone(), 7])),
        Just(json!({ m.clone(): 1 })),
        Just(json!({ "name": m.clone(), m.clone(): m.clone() })),
        Just(json!({ "name": [m.clone()] })),
        Just(json!({ "email": { "x": m.clone() } })),
        Just(json!({ "lines": m.clone() })),
        Just(json!({ "lines": [m.clone(), {"a": m.clone()}] })),
        Just(json!({ "phone": [m.clone()], "country": "TR" })),
        Just(json!({ "country": "TR", "city": { m.clone(): m.clone() } })),
        Just(json!(m.len())),
        Just(json!(true)),
    ]
}

/// Where to put the wrong value: a whole object, or one personal field in it.
fn target() -> impl Strategy<Value = (usize, Option<usize>)> {
    (0..OBJECTS.len(), 0..6usize).prop_map(|(o, f)| {
        let fields = OBJECTS[o].1;
        (o, (f < fields.len()).then_some(f))
    })
}

fn place(mut order: Value, (o, f): (usize, Option<usize>), wrong: Value) -> (Value, String) {
    let (object, fields) = OBJECTS[o];
    match f {
        None => {
            order[object] = wrong;
            (order, object.to_string())
        }
        Some(f) => {
            order[object][fields[f]] = wrong;
            (order, format!("{object}.{}", fields[f]))
        }
    }
}

fn assert_silent<T: std::fmt::Debug>(
    result: Result<T, serde_json::Error>,
    marker: &str,
    path: &str,
) {
    if let Err(e) = result {
        let shown = format!("{e} | {e:?} | {e:#?}");
        assert!(
            !shown.contains(marker),
            "{path}: the error quotes personal data: {shown}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_error_quotes_personal_data(
        (m, wrong) in marker().prop_flat_map(|m| (Just(m.clone()), wrong_shape(m))),
        at in target(),
    ) {
        let (input, path) = place(valid_order(), at, wrong.clone());
        let text = input.to_string();
        assert_silent(serde_json::from_value::<OrderInput>(input), &m, &path);
        assert_silent(serde_json::from_str::<OrderInput>(&text), &m, &path);

        let (new, path) = place(valid_new_order(), at, wrong.clone());
        let text = new.to_string();
        assert_silent(serde_json::from_value::<NewOrder>(new.clone()), &m, &path);
        assert_silent(serde_json::from_str::<NewOrder>(&text), &m, &path);
        let command = json!({"command": "place", "order_id": "order-000001", "order": new});
        assert_silent(serde_json::from_value::<OrderCommand>(command), &m, &path);

        assert_silent(serde_json::from_value::<Customer>(wrong.clone()), &m, "customer");
        assert_silent(serde_json::from_value::<Address>(wrong), &m, "address");
    }
}

#[test]
fn messages_name_the_expected_shape() {
    let mut order = valid_order();
    order["customer"] = json!("Ayşe Yılmaz <ayse@example.com>");
    let e = serde_json::from_value::<OrderInput>(order)
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected a customer"), "{e}");
    assert!(!e.contains("ayse@"), "{e}");

    let mut order = valid_order();
    order["shipping_address"]["lines"] = json!("Bağdat Cad. 1");
    let e = serde_json::from_value::<OrderInput>(order)
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected a list of strings"), "{e}");
    assert!(!e.contains("Bağdat"), "{e}");

    let mut order = valid_order();
    order["customer"]["emial"] = json!("ayse@example.com");
    let e = serde_json::from_value::<OrderInput>(order)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field in a customer"), "{e}");
    assert!(!e.contains("emial") && !e.contains("ayse@"), "{e}");
}

#[test]
fn valid_personal_data_still_reads_and_round_trips() {
    // The baselines are valid, so every failure above comes from the wrong shape.
    let new: NewOrder = serde_json::from_value(valid_new_order()).unwrap();
    assert!(new.customer.is_some());
    let command =
        json!({"command": "place", "order_id": "order-000001", "order": valid_new_order()});
    serde_json::from_value::<OrderCommand>(command).unwrap();
    let input: OrderInput = serde_json::from_value(valid_order()).unwrap();
    let customer = input.customer.clone().unwrap();
    assert_eq!(customer.email.unwrap().expose(), "ada@example.org");
    let address = input.shipping_address.clone().unwrap();
    let back: Address = serde_json::from_value(serde_json::to_value(&address).unwrap()).unwrap();
    assert_eq!(back, address);
}
