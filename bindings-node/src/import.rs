//! Bulk import from JSON lines (the engine's `import.rs`): the text crosses once, as a
//! `Buffer` or a string, and the core reads it off the event loop.

use napi::bindgen_prelude::{AsyncTask, Buffer, Either};
use napi_derive::napi;
use ordersmith::engine::JsonLineResult;
use serde_json::{json, Value};

use crate::convert::{context, order_text, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{Failure, Job};

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
        let data = match data {
            Either::A(buffer) => buffer.to_vec(),
            Either::B(text) => text.into_bytes(),
        };
        self.write_text(move |e| {
            let ctx = context(options)?;
            let results = e.place_orders_json_lines(&data, &ctx);
            // Written as JSON text order by order, as `placeOrders` does.
            let mut ok = String::with_capacity(results.len() * 1024 + 16);
            ok.push_str("{\"orders\":[");
            let mut errors = Vec::new();
            for JsonLineResult { line, result } in results {
                match result {
                    Ok(order) => {
                        if !ok.ends_with('[') {
                            ok.push(',');
                        }
                        ok.push_str(&order_text(&order)?);
                    }
                    Err(err) => {
                        errors.push(json!({ "line": line, "error": Failure::from(err).to_json() }))
                    }
                }
            }
            ok.push_str("],\"errors\":");
            ok.push_str(&Value::Array(errors).to_string());
            ok.push('}');
            Ok(ok)
        })
    }
}
