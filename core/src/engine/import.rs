//! Bulk import from JSON lines (issue 9, goal 6): a whole export placed in one call, the
//! text read by the core so every binding hands over bytes and nothing else.

use super::{CommandContext, Engine, EngineError, WRITE_BATCH};
use crate::order::{json_lines, NewOrder, Order, OrderError};

/// One order of a JSON-lines import: its 1-based line number, and the order placed or
/// why it was not.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonLineResult {
    /// The line the order was on (1-based; blank lines count).
    pub line: u64,
    /// The order after placement, or why the line was refused. A line that is not an
    /// order is an [`OrderError::JsonLine`] (`ORDER_JSONL_*`, naming the line and the
    /// field); an order the engine refuses has the error [`Engine::place_orders`] gives.
    pub result: Result<Order, EngineError>,
}

impl Engine {
    /// Places every order in `data`, JSON lines of the flat input format
    /// ([`crate::order::OrderInput`], one object per line; the rules are those of
    /// [`crate::order::json_lines`]: blank lines skipped, CRLF accepted). Exactly
    /// [`Engine::place_orders`] on the orders read: each decided on its own, saved
    /// [`WRITE_BATCH`] at a time with one commit per batch, a bad line (or a refused
    /// order) reported in its result while the others are placed. Results come in line
    /// order, one per non-blank line.
    ///
    /// Lines are read [`WRITE_BATCH`] at a time, straight into the input type: the
    /// input is never held as a JSON tree nor as a list of every order.
    ///
    /// ```
    /// use ordersmith::engine::{CommandContext, Engine};
    ///
    /// let engine = Engine::in_memory();
    /// let data = br#"{"channel": "web", "external_ref": "W-1", "placed_at": "2026-11-20T09:30:00Z", "currency": "TRY", "lines": [{"variant": "MUG", "quantity": 2, "unit_price": "189.90"}]}
    ///
    /// {"channel": "web", "external_ref": "W-2", "placed_at": "2026-11-20T09:30:00Z", "currency": "TRY", "lines": [{"variant": "MUG", "quantity": 2, "unit_price": 189.9}]}
    /// "#;
    /// let results = engine.place_orders_json_lines(data, &CommandContext::system());
    /// assert_eq!(results.len(), 2);
    /// assert_eq!(results[0].line, 1);
    /// assert_eq!(results[0].result.as_ref().map(|o| o.lines.len()), Ok(1));
    /// let err = results[1].result.as_ref().unwrap_err();
    /// assert_eq!((results[1].line, err.code()), (3, "ORDER_JSONL_INVALID_FIELD"));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "line 3, lines[0].unit_price: expected a decimal as a string such as \"10.50\" or an integer"
    /// );
    /// ```
    pub fn place_orders_json_lines(
        &self,
        data: &[u8],
        ctx: &CommandContext,
    ) -> Vec<JsonLineResult> {
        let mut results = Vec::new();
        let mut lines = json_lines(data).peekable();
        // Per batch: every line read, with its error when it is not an order.
        let mut slots: Vec<(u64, Option<EngineError>)> = Vec::with_capacity(WRITE_BATCH);
        let mut batch: Vec<NewOrder> = Vec::with_capacity(WRITE_BATCH);
        while lines.peek().is_some() {
            for (line, read) in lines.by_ref() {
                let new = read
                    .map_err(OrderError::from)
                    .and_then(|input| input.into_new_order());
                match new {
                    Ok(new) => {
                        batch.push(new);
                        slots.push((line, None));
                    }
                    Err(e) => slots.push((line, Some(e.into()))),
                }
                if batch.len() == WRITE_BATCH {
                    break;
                }
            }
            let mut placed = self
                .place_orders(std::mem::take(&mut batch), ctx)
                .into_iter();
            results.extend(slots.drain(..).map(|(line, refused)| JsonLineResult {
                line,
                result: match refused {
                    Some(e) => Err(e),
                    None => placed.next().unwrap_or(Err(FEWER_RESULTS)),
                },
            }));
        }
        results
    }
}

/// Never returned: `place_orders` gives one result per order.
const FEWER_RESULTS: EngineError = EngineError::InvalidInput {
    field: "data",
    reason: "fewer results than orders",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn order(i: usize) -> String {
        format!(
            r#"{{"channel": "web", "external_ref": "W-{i}", "placed_at": "2026-11-20T09:30:00Z", "currency": "TRY", "lines": [{{"variant": "MUG", "quantity": 1, "unit_price": "10.00"}}]}}"#
        )
    }

    #[test]
    fn batches_are_cut_at_write_batch_and_keep_line_order() {
        let engine = Engine::in_memory();
        let mut data = String::new();
        let mut expected = Vec::new();
        let mut line = 0u64;
        for i in 0..(2 * WRITE_BATCH + 7) {
            line += 1;
            data.push_str(&order(i));
            data.push('\n');
            expected.push((line, true));
            if i % 500 == 3 {
                line += 1;
                data.push_str("{oops}\n");
                expected.push((line, false));
            }
        }
        let results = engine.place_orders_json_lines(data.as_bytes(), &CommandContext::system());
        let got: Vec<(u64, bool)> = results.iter().map(|r| (r.line, r.result.is_ok())).collect();
        assert_eq!(got, expected);
        let placed = results.iter().filter(|r| r.result.is_ok()).count();
        assert_eq!(placed, 2 * WRITE_BATCH + 7);
    }
}
