//! Bulk import from JSON lines (the core's `engine/import.rs`): the text crosses once
//! and the core reads it, so no order is built field by field in Kotlin or Swift.

use ordersmith::engine::{EngineError, JsonLineResult};

use crate::batch::ItemError;
use crate::convert::{context, CallContext};
use crate::engine::Engine;
use crate::errors::OrdersmithError;
use crate::order::Order;

/// One order of a JSON-lines import: its line, and the order placed or why not.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LineResult {
    /// The 1-based line number (blank lines count).
    pub line: u64,
    /// The order after placement, when it succeeded.
    pub order: Option<Order>,
    /// Why the line was refused: `ORDER_JSONL_*` for a line that is not an order
    /// (`details_json` names the `line` and, for a bad field, its `path`), or the
    /// engine's refusal of the order.
    pub error: Option<ItemError>,
}

#[uniffi::export]
impl Engine {
    /// Places the orders of a JSON-lines text (one order in the `place_order_json`
    /// format per line, UTF-8; `ByteArray` in Kotlin, `Data` in Swift) in one call,
    /// saved with one commit per batch. Blank lines are skipped and CRLF is accepted; a
    /// bad line is reported in its result and does not stop the others. One result per
    /// non-blank line, in line order.
    #[uniffi::method(default(ctx = None))]
    pub fn import_orders_jsonl(
        &self,
        data: Vec<u8>,
        ctx: Option<CallContext>,
    ) -> Result<Vec<LineResult>, OrdersmithError> {
        let ctx = context(ctx)?;
        let results =
            self.call(|e| Ok::<_, EngineError>(e.place_orders_json_lines(&data, &ctx)))?;
        Ok(results
            .into_iter()
            .map(|JsonLineResult { line, result }| {
                match result
                    .map_err(OrdersmithError::from)
                    .and_then(Order::try_from)
                {
                    Ok(order) => LineResult {
                        line,
                        order: Some(order),
                        error: None,
                    },
                    Err(e) => LineResult {
                        line,
                        order: None,
                        error: Some(e.into()),
                    },
                }
            })
            .collect())
    }
}
