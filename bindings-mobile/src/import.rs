//! Bulk import from JSON lines (the core's `engine/import.rs`): the text crosses once
//! and the core reads it, so no order is built field by field in Kotlin or Swift.

use ordersmith::engine::{EngineError, JsonLineResult, JsonLinesImport};

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

/// One placed order of `import_orders_jsonl_ids`: its line and its id.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlacedLine {
    /// The 1-based line number (blank lines count).
    pub line: u64,
    /// The order's id (an order already there under the same channel reference and
    /// content has its own id here).
    pub order_id: String,
}

/// One refused line of `import_orders_jsonl_ids`: its line and why.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RefusedLine {
    /// The 1-based line number (blank lines count).
    pub line: u64,
    /// Why: `ORDER_JSONL_*` for a line that is not an order, or the engine's refusal.
    pub error: ItemError,
}

/// What `import_orders_jsonl_ids` did: every non-blank line in one of the two lists,
/// in line order.
#[derive(Debug, Clone, uniffi::Record)]
pub struct JsonLinesImportIds {
    /// The lines whose order was placed (or was already there), with the order's id.
    pub placed: Vec<PlacedLine>,
    /// The lines refused, with why.
    pub refused: Vec<RefusedLine>,
}

#[uniffi::export]
impl Engine {
    /// `import_orders_jsonl` for an import that does not need the orders back (a
    /// migration, a device's first sync): the same orders placed the same way, reported
    /// by id instead of as whole orders, so none is copied or converted for the report.
    #[uniffi::method(default(ctx = None))]
    pub fn import_orders_jsonl_ids(
        &self,
        data: Vec<u8>,
        ctx: Option<CallContext>,
    ) -> Result<JsonLinesImportIds, OrdersmithError> {
        let ctx = context(ctx)?;
        let JsonLinesImport { placed, refused } =
            self.call(|e| Ok::<_, EngineError>(e.import_orders_json_lines(&data, &ctx)))?;
        Ok(JsonLinesImportIds {
            placed: placed
                .into_iter()
                .map(|(line, id)| PlacedLine {
                    line,
                    order_id: id.to_string(),
                })
                .collect(),
            refused: refused
                .into_iter()
                .map(|(line, e)| RefusedLine {
                    line,
                    error: OrdersmithError::from(e).into(),
                })
                .collect(),
        })
    }

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
