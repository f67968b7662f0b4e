//! Batched writes on `Engine` (the engine's `batch.rs`): many commands in one crossing,
//! saved with one commit per batch. `placeOrders` (in `orders.rs`) is the batched
//! placement; this file holds the bulk confirmation and any commands in bulk.

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::engine::{CommandContext, Engine, EngineError};
use ordersmith::ids::OrderId;
use ordersmith::order::OrderCommand;

use serde::Deserialize;
use serde_json::Value;

use crate::convert::{bulk_text, context, from_json, oid, refuse_numbers_for_money, JsonArg};
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
            let items = ids
                .iter()
                .map(|id| oid(id).map(|id| (id, OrderCommand::Confirm)))
                .collect();
            run_many(e, items, &ctx)
        })
    }

    /// Runs many order commands in one crossing, off the event loop: `items` are
    /// `{orderId, command}` objects, each command in the core's JSON form (`{command:
    /// "mark_paid"}`, `{command: "record_shipment", lines: [{line_id: "L1", quantity:
    /// 1}]}`). Each runs on its own, as `execute` would; those that succeed are saved
    /// with one commit per batch, so a day's shipments or a payment file costs a few
    /// commits, not one each. A refused item (a malformed id or command, an unknown
    /// order, a step its status refuses) does not stop the rest: it is reported in
    /// `errors` with its index. The same order may appear several times: its commands
    /// run in the order given.
    #[napi(
        ts_args_type = "items: { orderId: string; command: { command: string; [field: string]: unknown } }[], options?: Pick<CallOptions, 'actor'>",
        ts_return_type = "Promise<ImportResult>"
    )]
    pub fn execute_many(&self, items: JsonArg, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.write_text(move |e| {
            let ctx = context(options)?;
            let items: Vec<Value> = from_json(items, "items")?;
            // An unreadable item is that item's error; the others go to the core.
            let parsed: Vec<Out<(OrderId, OrderCommand)>> = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| command_item(item, i))
                .collect();
            run_many(e, parsed, &ctx)
        })
    }
}

/// One item of `executeMany`, as given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CommandItem {
    order_id: String,
    command: Value,
}

/// The `i`-th item of `executeMany`, read; its error names its place (`items[3].command`).
fn command_item(item: Value, i: usize) -> Out<(OrderId, OrderCommand)> {
    let field = format!("items[{i}]");
    let item: CommandItem = from_json(item, &field)?;
    let id = oid(&item.order_id)?;
    let path = format!("{field}.command");
    refuse_numbers_for_money(&item.command, &path)?;
    Ok((id, from_json(item.command, &path)?))
}

/// Runs the readable `items` through `Engine::execute_many` (an unreadable one is its
/// own error) and reports each at its index: `{orders, errors: [{index, error}]}`.
fn run_many(
    e: &Engine,
    items: Vec<Out<(OrderId, OrderCommand)>>,
    ctx: &CommandContext,
) -> Out<String> {
    let commands: Vec<(OrderId, OrderCommand)> = items
        .iter()
        .filter_map(|item| item.as_ref().ok().cloned())
        .collect();
    let mut done = e.execute_many(commands, ctx).into_iter();
    let results = items.into_iter().map(|item| match item {
        Err(f) => Err(f),
        Ok(_) => done
            .next()
            .unwrap_or(Err(EngineError::InvalidInput {
                field: "items",
                reason: "fewer results than items",
            }))
            .map_err(Failure::from),
    });
    bulk_text(results.enumerate().map(|(i, r)| (i as u64, r)), "index")
}
