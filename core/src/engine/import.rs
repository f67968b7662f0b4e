//! Bulk import from JSON lines (issue 9, goal 6): a whole export placed in one call, the
//! text read by the core so every binding hands over bytes and nothing else.

use super::{CommandContext, Engine, EngineError, Placement, WRITE_BATCH};
use crate::ids::OrderId;
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

/// What [`Engine::import_orders_json_lines`] reports: every non-blank line is in one of
/// its two lists, with its 1-based line number (blank lines count), in line order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonLinesImport {
    /// The lines whose order was placed, or was already there with the same content
    /// (the same channel reference or idempotency key): the order's id.
    pub placed: Vec<(u64, OrderId)>,
    /// The lines refused, and why: [`OrderError::JsonLine`] (`ORDER_JSONL_*`) for a line
    /// that is not an order, or the engine's refusal of the order.
    pub refused: Vec<(u64, EngineError)>,
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
        self.json_lines_each::<Order>(data, ctx, |line, result| {
            results.push(JsonLineResult { line, result });
        });
        results
    }

    /// [`Engine::place_orders_json_lines`] for an import that does not need the orders
    /// back (a migration, a nightly export): the same orders placed the same way, but
    /// the report holds each placed order's id, not a copy of the order. That copy is
    /// most of what a large import allocates besides the store itself (about a
    /// kilobyte per two-line order) and, from Python or Node, the cost of handing a
    /// million orders to the host language.
    ///
    /// An order already there (its channel reference seen before with the same content)
    /// is reported under `placed` with its id, as `place_orders_json_lines` returns it.
    ///
    /// ```
    /// use ordersmith::engine::{CommandContext, Engine};
    ///
    /// let engine = Engine::in_memory();
    /// let data = br#"{"channel": "web", "external_ref": "W-1", "placed_at": "2026-11-20T09:30:00Z", "currency": "TRY", "lines": [{"variant": "MUG", "quantity": 2, "unit_price": "189.90"}]}
    /// {"channel": "web", "external_ref": "W-2", "currency": "TRY", "lines": []}
    /// {"channel": "web", "external_ref": "W-1", "placed_at": "2026-11-20T09:30:00Z", "currency": "TRY", "lines": [{"variant": "MUG", "quantity": 2, "unit_price": "189.90"}]}
    /// "#;
    /// let report = engine.import_orders_json_lines(data, &CommandContext::system());
    /// assert_eq!(report.placed.len(), 2);
    /// assert_eq!(report.placed[0].1, report.placed[1].1); // line 3 is line 1 again
    /// assert_eq!((report.placed[0].0, report.placed[1].0), (1, 3));
    /// assert_eq!(report.refused.len(), 1);
    /// assert_eq!(report.refused[0].0, 2);
    /// let order = engine.order(&report.placed[0].1)?;
    /// assert_eq!(order.external_ref.as_deref(), Some("W-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn import_orders_json_lines(&self, data: &[u8], ctx: &CommandContext) -> JsonLinesImport {
        let mut report = JsonLinesImport::default();
        self.json_lines_each::<OrderId>(data, ctx, |line, result| match result {
            Ok(id) => report.placed.push((line, id)),
            Err(e) => report.refused.push((line, e)),
        });
        report
    }

    /// Reads and places the orders of `data`, [`WRITE_BATCH`] at a time, handing each
    /// non-blank line's outcome to `each` in line order.
    fn json_lines_each<R: Placement>(
        &self,
        data: &[u8],
        ctx: &CommandContext,
        mut each: impl FnMut(u64, Result<R, EngineError>),
    ) {
        let mut lines = json_lines(data);
        // Lines read after the last order: every one refused, so nothing to place.
        let mut leftover: Vec<(u64, Option<EngineError>)> = Vec::new();
        // Per batch: every line read, with its error when it is not an order. A run of
        // lines that were all refused joins the next batch's lines (no write of its own).
        let batches = std::iter::from_fn(|| {
            let mut slots: Vec<(u64, Option<EngineError>)> = Vec::with_capacity(WRITE_BATCH);
            let mut batch: Vec<NewOrder> = Vec::with_capacity(WRITE_BATCH);
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
            if batch.is_empty() {
                leftover.extend(slots);
                return None;
            }
            Some((slots, batch))
        });
        let mut deliver = |slots: Vec<(u64, Option<EngineError>)>,
                           placed: Vec<Result<R, EngineError>>| {
            let mut placed = placed.into_iter();
            for (line, refused) in slots {
                each(
                    line,
                    match refused {
                        Some(e) => Err(e),
                        None => placed.next().unwrap_or(Err(FEWER_RESULTS)),
                    },
                );
            }
        };
        // Read on this thread between batches: reading overlaps the store's commits.
        self.place_batches(batches, ctx, &mut deliver);
        deliver(leftover, Vec::new());
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

    #[test]
    fn runs_of_bad_lines_are_reported_in_place_wherever_they_fall() {
        // A whole batch's worth of bad lines between orders, and bad lines after the
        // last order: each reported at its line, nothing placed for them, no order lost.
        let mut data = String::new();
        let mut expected = Vec::new();
        let mut line = 0u64;
        let mut push = |text: &str, ok: bool| {
            line += 1;
            data.push_str(text);
            data.push('\n');
            expected.push((line, ok));
        };
        push("{oops}", false);
        for i in 0..5 {
            push(&order(i), true);
        }
        for _ in 0..(WRITE_BATCH + 3) {
            push("[]", false);
        }
        for i in 5..(WRITE_BATCH + 9) {
            push(&order(i), true);
        }
        for _ in 0..4 {
            push("{\"channel\": 1}", false);
        }
        let engine = Engine::in_memory();
        let results = engine.place_orders_json_lines(data.as_bytes(), &CommandContext::system());
        let got: Vec<(u64, bool)> = results.iter().map(|r| (r.line, r.result.is_ok())).collect();
        assert_eq!(got, expected);
        assert_eq!(
            engine
                .store()
                .order_ids(None, 10 * WRITE_BATCH)
                .map(|ids| ids.len()),
            Ok(WRITE_BATCH + 9)
        );
        // Nothing but a bad line: each reported, no write.
        let report = engine.import_orders_json_lines(b"{oops}\n\n[]\n", &CommandContext::system());
        assert!(report.placed.is_empty());
        assert_eq!(
            report
                .refused
                .iter()
                .map(|(line, _)| *line)
                .collect::<Vec<_>>(),
            vec![1, 3]
        );
    }

    #[test]
    fn the_id_report_places_exactly_what_the_order_results_do() {
        // Bad lines, a reference repeated in the same batch and in a later one (same
        // content: the same order; other content: refused), across batch boundaries.
        let mut data = String::new();
        for i in 0..(WRITE_BATCH + 20) {
            data.push_str(&order(i % (WRITE_BATCH + 5)));
            data.push('\n');
            if i % 300 == 7 {
                data.push_str("{oops}\n\n");
            }
            if i == 11 {
                data.push_str(&order(3).replace("10.00", "11.00"));
                data.push('\n');
            }
        }
        let ctx = CommandContext::system();
        let (a, b) = (Engine::in_memory(), Engine::in_memory());
        let results = a.place_orders_json_lines(data.as_bytes(), &ctx);
        let report = b.import_orders_json_lines(data.as_bytes(), &ctx);
        let placed: Vec<(u64, OrderId)> = results
            .iter()
            .filter_map(|r| Some((r.line, r.result.as_ref().ok()?.id.clone())))
            .collect();
        let refused: Vec<(u64, EngineError)> = results
            .iter()
            .filter_map(|r| Some((r.line, r.result.clone().err()?)))
            .collect();
        assert_eq!(report.placed, placed);
        assert_eq!(report.refused, refused);
        assert_eq!(report.placed.len() + report.refused.len(), results.len());
        // The repeats found the first order; the changed repeat was refused.
        assert!(report
            .refused
            .iter()
            .any(|(_, e)| e.code() == "ENGINE_DUPLICATE_EXTERNAL_REF"));
        let distinct: std::collections::BTreeSet<&OrderId> =
            report.placed.iter().map(|(_, id)| id).collect();
        assert_eq!(distinct.len(), WRITE_BATCH + 5);
        // The ids name the saved orders, as they are now.
        for (_, id) in report.placed.iter().step_by(97) {
            assert_eq!(b.order(id).map(|o| o.id), Ok(id.clone()));
        }
    }
}
