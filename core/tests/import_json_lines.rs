//! Bulk import from JSON lines (issue 9, goal 6): `Engine::place_orders_json_lines`
//! places the orders of a JSON-lines text exactly as `place_orders` places the same
//! orders, and refuses a bad line alone with an error naming its line and field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ordersmith::engine::{CommandContext, Engine, EngineError, JsonLineResult};
use ordersmith::order::{NewOrder, Order, OrderError, OrderInput};
use ordersmith::ports::OrderQuery;
use proptest::prelude::*;

fn order(reference: &str, price: &str) -> String {
    format!(
        r#"{{"channel": "web", "external_ref": "{reference}", "placed_at": "2026-11-20T09:30:00+03:00", "currency": "TRY", "lines": [{{"variant": "MUG", "quantity": 2, "unit_price": "{price}", "tax_lines": [{{"name": "KDV", "rate": "0.20"}}]}}, {{"variant": "TEA-500G", "quantity": 1, "unit_price": 89}}]}}"#
    )
}

fn stored(engine: &Engine) -> usize {
    engine.iter_orders(OrderQuery::default()).count()
}

fn code(result: &JsonLineResult) -> &'static str {
    match &result.result {
        Err(e) => e.code(),
        Ok(o) => panic!("line {} was placed as {}", result.line, o.id),
    }
}

#[test]
fn good_lines_are_placed_and_each_bad_line_is_refused_alone() {
    let engine = Engine::in_memory();
    let mut data: Vec<u8> = Vec::new();
    let mut add = |text: &[u8]| data.extend_from_slice(text);
    add(order("W-1", "189.90").as_bytes()); // 1
    add(b"\n\n"); // 2 blank
    add(order("W-2", "10").as_bytes()); // 3, CRLF
    add(b"\r\n");
    add(b"{\"channel\": \"web\",\n"); // 4: one order over two lines
    add(b"\"currency\": \"TRY\"}\n"); // 5
    add(order("W-3", "1.5").replace("\"1.5\"", "1.5").as_bytes()); // 6: a float price
    add(b"\n");
    add(order("W-4", "1.001").as_bytes()); // 7: too precise for TRY
    add(b"\n");
    add(order("W-5", "5")
        .replace("\"quantity\": 2", "\"quantity\": 0")
        .as_bytes()); // 8
    add(b"\n");
    add(b"{\"channel\": \"w\xc3\x28b\"}\n"); // 9: not UTF-8
    add(order("W-1", "189.90").as_bytes()); // 10: the same channel order again
    add(b"\n");
    add(order("W-1", "1.00").as_bytes()); // 11: its reference, other content
    add(b"\n   \t\n"); // 12 blank
    add(order("W-6", "7.25").as_bytes()); // 13
    add(b"\n");
    let full = order("W-7", "7.25");
    add(&full.as_bytes()[..full.len() - 20]); // 14: cut off, no line end

    let results = engine.place_orders_json_lines(&data, &CommandContext::system());
    let lines: Vec<u64> = results.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14]);

    let first = results[0].result.as_ref().unwrap();
    assert_eq!(first.external_ref.as_deref(), Some("W-1"));
    assert_eq!(first.lines.len(), 2);
    assert_eq!(first.lines[0].unit_price.to_string(), "189.90 TRY");
    assert_eq!(first.placed_at.to_rfc3339(), "2026-11-20T06:30:00+00:00");
    assert!(results[1].result.is_ok());
    assert_eq!(code(&results[2]), "ORDER_JSONL_SYNTAX");
    // The second half of the split order starts with a string, not an order.
    assert_eq!(code(&results[3]), "ORDER_JSONL_INVALID_FIELD");
    assert_eq!(code(&results[4]), "ORDER_JSONL_INVALID_FIELD");
    let Err(EngineError::Order(OrderError::JsonLine(e))) = &results[4].result else {
        panic!("{:?}", results[4].result)
    };
    assert_eq!(e.line(), 6);
    assert!(
        e.to_string().starts_with("line 6, lines[0].unit_price: "),
        "{e}"
    );
    assert_eq!(code(&results[5]), "MONEY_TOO_PRECISE");
    assert_eq!(code(&results[6]), "ORDER_INVALID_QUANTITY");
    assert_eq!(code(&results[7]), "ORDER_JSONL_INVALID_ENCODING");
    // The same channel order twice is one order; other content under its reference is
    // refused, as with place_orders.
    assert_eq!(results[8].result.as_ref().unwrap().id, first.id);
    assert_eq!(code(&results[9]), "ENGINE_DUPLICATE_EXTERNAL_REF");
    assert!(results[10].result.is_ok());
    assert_eq!(code(&results[11]), "ORDER_JSONL_TRUNCATED");

    // W-1, W-2 and W-6: nothing of the refused lines was saved.
    assert_eq!(stored(&engine), 3);
    let details = ordersmith::errors::OrdersmithError::details(match &results[11].result {
        Err(EngineError::Order(OrderError::JsonLine(e))) => e,
        other => panic!("{other:?}"),
    });
    assert_eq!(details["line"], 14);
}

#[test]
fn empty_and_blank_input_places_nothing() {
    let engine = Engine::in_memory();
    let ctx = CommandContext::system();
    assert!(engine.place_orders_json_lines(b"", &ctx).is_empty());
    assert!(engine
        .place_orders_json_lines(b"\r\n\n  \n", &ctx)
        .is_empty());
    assert_eq!(stored(&engine), 0);
}

/// What a line of a generated import is.
#[derive(Debug, Clone)]
enum Line {
    /// A good order with one of a few references (so repeats happen), and one of two
    /// prices (so a repeat may differ).
    Order {
        reference: u8,
        price: u8,
    },
    /// An order the engine refuses (quantity 0).
    Refused,
    Blank,
    NotJson,
    BadField,
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        6 => (0u8..12, 0u8..2).prop_map(|(reference, price)| Line::Order { reference, price }),
        1 => Just(Line::Refused),
        1 => Just(Line::Blank),
        1 => Just(Line::NotJson),
        1 => Just(Line::BadField),
    ]
}

fn text(line: &Line) -> String {
    match line {
        Line::Order { reference, price } => {
            order(&format!("R-{reference}"), ["10", "12.50"][*price as usize])
        }
        Line::Refused => order("Z", "1").replace("\"quantity\": 2", "\"quantity\": 0"),
        Line::Blank => "  ".into(),
        Line::NotJson => "{\"channel\": }".into(),
        Line::BadField => order("B", "1").replace("\"currency\": \"TRY\"", "\"currency\": \"XXX\""),
    }
}

/// What a caller compares: the order's content, or the error's code.
fn outcome(
    result: &Result<Order, EngineError>,
) -> Result<(String, Option<String>, String), &'static str> {
    result
        .as_ref()
        .map(|o| {
            (
                o.id.to_string(),
                o.external_ref.as_deref().map(str::to_string),
                o.lines[0].unit_price.to_string(),
            )
        })
        .map_err(EngineError::code)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// One result per non-blank line, in line order and numbered as an editor numbers
    /// them (whatever the line ends), and for every line that is an order exactly what
    /// `place_orders` gives for the same orders in a fresh engine.
    #[test]
    fn the_same_as_place_orders_on_the_same_orders(
        lines in prop::collection::vec(line(), 0..40),
        crlf in prop::collection::vec(any::<bool>(), 40),
        final_newline in any::<bool>(),
    ) {
        let mut data = String::new();
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                data.push_str(if crlf[i] { "\r\n" } else { "\n" });
            }
            data.push_str(&text(l));
        }
        if final_newline && !lines.is_empty() {
            data.push('\n');
        }
        let ctx = CommandContext::system();
        let imported = Engine::in_memory().place_orders_json_lines(data.as_bytes(), &ctx);

        let expected_lines: Vec<u64> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !matches!(l, Line::Blank))
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let got_lines: Vec<u64> = imported.iter().map(|r| r.line).collect();
        prop_assert_eq!(got_lines, expected_lines);

        // The lines that are orders, through place_orders in a fresh engine.
        let mut news: Vec<NewOrder> = Vec::new();
        for l in &lines {
            if matches!(l, Line::Order { .. } | Line::Refused) {
                let input: OrderInput = serde_json::from_str(&text(l)).unwrap();
                news.push(input.into_new_order().unwrap());
            }
        }
        let mut placed = Engine::in_memory().place_orders(news, &ctx).into_iter();
        for (l, result) in lines.iter().filter(|l| !matches!(l, Line::Blank)).zip(&imported) {
            match l {
                Line::Order { .. } | Line::Refused => {
                    let expected = placed.next().unwrap();
                    prop_assert_eq!(outcome(&result.result), outcome(&expected));
                }
                Line::NotJson => prop_assert_eq!(outcome(&result.result), Err("ORDER_JSONL_SYNTAX")),
                Line::BadField => prop_assert_eq!(outcome(&result.result), Err("ORDER_JSONL_INVALID_FIELD")),
                Line::Blank => unreachable!(),
            }
        }
    }
}
