//! Batched writes on `Engine` (the engine's `batch.rs`): many commands in one crossing,
//! saved with one commit per batch. `placeOrders` (in `orders.rs`) is the batched
//! placement; this file holds the bulk confirmation.

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::engine::EngineError;
use ordersmith::ids::OrderId;
use ordersmith::order::OrderCommand;

use crate::convert::{bulk_text, context, from_json, oid, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{Failure, Job, Out};

#[napi]
impl JsEngine {
    /// Confirms many orders in one crossing, off the event loop: each is confirmed on its
    /// own, as `confirmOrder` would, and the confirmations that succeed are saved with
    /// one commit per batch. A refused one (an unknown id, a short order) does not stop
    /// the rest: it is reported in `errors` with its index.
    #[napi(
        ts_args_type = "orderIds: string[], options?: Pick<CallOptions, 'actor'>",
        ts_return_type = "Promise<ImportResult>"
    )]
    pub fn confirm_orders(&self, order_ids: JsonArg, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.write_text(move |e| {
            let ctx = context(options)?;
            let ids: Vec<String> = from_json(order_ids, "orderIds")?;
            // A malformed id is that item's error; the others go to the core.
            let parsed: Vec<Out<OrderId>> = ids.iter().map(|id| oid(id)).collect();
            let commands: Vec<(OrderId, OrderCommand)> = parsed
                .iter()
                .filter_map(|id| id.as_ref().ok())
                .map(|id| (id.clone(), OrderCommand::Confirm))
                .collect();
            let mut done = e.execute_many(commands, &ctx).into_iter();
            let results = parsed.into_iter().map(|id| match id {
                Err(f) => Err(f),
                Ok(_) => done
                    .next()
                    .unwrap_or(Err(EngineError::InvalidInput {
                        field: "orderIds",
                        reason: "fewer results than orders",
                    }))
                    .map_err(Failure::from),
            });
            bulk_text(results.enumerate().map(|(i, r)| (i as u64, r)), "index")
        })
    }
}
