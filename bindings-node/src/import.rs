//! Bulk import from JSON lines (the engine's `import.rs`): the text crosses once, as a
//! `Buffer` or a string, and the core reads it off the event loop.

use napi::bindgen_prelude::{AsyncTask, Buffer, Either};
use napi_derive::napi;
use ordersmith::engine::{JsonLineResult, JsonLinesImport};

use crate::convert::{bulk_text, context, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{Failure, Job};

/// The JSON-lines text as bytes the core reads off the event loop: a `Buffer` copied
/// (JavaScript may reuse it meanwhile), a string as its UTF-8.
fn jsonl_bytes(data: Either<Buffer, String>) -> Vec<u8> {
    match data {
        Either::A(buffer) => buffer.to_vec(),
        Either::B(text) => text.into_bytes(),
    }
}

#[napi]
impl JsEngine {
    /// Places the orders of a JSON-lines text (one order in the `placeOrder` input shape
    /// per line; a `Buffer` as read from a file, or a string) in one crossing, off the
    /// event loop. The same semantics as `placeOrders`; blank lines are skipped and CRLF
    /// is accepted. Errors carry the 1-based `line`; a line that is not an order is an
    /// `OrderError` with code `ORDER_JSONL_*` whose `details` name the `line` and, for a
    /// bad field, its `path`.
    #[napi(
        ts_args_type = "data: Buffer | string, options?: Pick<CallOptions, 'actor'>",
        ts_return_type = "Promise<JsonLinesImportResult>"
    )]
    pub fn import_orders_jsonl(
        &self,
        data: Either<Buffer, String>,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        let data = jsonl_bytes(data);
        self.write_text(move |e| {
            let ctx = context(options)?;
            let results = e.place_orders_json_lines(&data, &ctx);
            bulk_text(
                results
                    .into_iter()
                    .map(|JsonLineResult { line, result }| (line, result.map_err(Failure::from))),
                "line",
            )
        })
    }

    /// `importOrdersJsonl` for an import that does not need the orders back (a
    /// migration): the same orders placed the same way, reported as `{ line, orderId }`
    /// instead of whole orders (`Engine::import_orders_json_lines`), so no order is
    /// copied, written as JSON or parsed by V8 for the report. An order already there
    /// (its channel reference seen before with the same content) is reported with its
    /// id.
    #[napi(
        ts_args_type = "data: Buffer | string, options?: Pick<CallOptions, 'actor'>",
        ts_return_type = "Promise<JsonLinesImportIds>"
    )]
    pub fn import_orders_jsonl_ids(
        &self,
        data: Either<Buffer, String>,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        let data = jsonl_bytes(data);
        self.write_text(move |e| {
            let ctx = context(options)?;
            let JsonLinesImport { placed, refused } = e.import_orders_json_lines(&data, &ctx);
            let placed: Vec<serde_json::Value> = placed
                .into_iter()
                .map(|(line, id)| serde_json::json!({ "line": line, "orderId": id }))
                .collect();
            let errors: Vec<serde_json::Value> = refused
                .into_iter()
                .map(|(line, e)| serde_json::json!({ "line": line, "error": Failure::from(e).to_json() }))
                .collect();
            Ok(serde_json::json!({ "placed": placed, "errors": errors }).to_string())
        })
    }
}
