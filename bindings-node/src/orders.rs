//! Order commands on `Engine` (the engine's `orders.rs`, plus placing and `execute`
//! from its `mod.rs`). Every command is a store write and returns a Promise of the
//! order after it; the id, arguments and options are read inside the task, so a bad
//! argument rejects the Promise like any other refusal.

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::engine::{CommandContext, Engine, EngineError};
use ordersmith::ids::OrderId;
use ordersmith::money::Money;
use ordersmith::order::{
    CancelReason, HoldReason, LineEdit, LineEditInput, Order, OrderCommand, OrderInput,
};
use serde_json::Value;

use crate::convert::{
    bulk_text, context, from_json, line_quantities, oid, opts, order_text,
    refuse_numbers_for_money, JsonArg,
};
use crate::engine::JsEngine;
use crate::errors::{Failure, Job, Out};

impl JsEngine {
    /// One order command as a Promise of the order after it.
    pub(crate) fn command(
        &self,
        order_id: String,
        options: Option<JsonArg>,
        run: impl FnOnce(&Engine, &OrderId, &CommandContext) -> Out<Order> + Send + 'static,
    ) -> AsyncTask<Job> {
        self.write_text(move |e| {
            let id = oid(&order_id)?;
            let ctx = context(options)?;
            order_text(&run(e, &id, &ctx)?)
        })
    }
}

/// An order in the core's flat input shape, money refused as JS numbers.
fn order_input(value: impl Into<Value>, field: &str) -> Out<ordersmith::order::NewOrder> {
    let value = value.into();
    refuse_numbers_for_money(&value, field)?;
    let input: OrderInput = from_json(value, field)?;
    Ok(input.into_new_order().map_err(EngineError::from)?)
}

fn text<T: serde::de::DeserializeOwned>(value: &str, field: &str) -> Out<T> {
    from_json(Value::String(value.to_string()), field)
}

fn money(value: JsonArg, field: &str) -> Out<Money> {
    refuse_numbers_for_money(&value, field)?;
    from_json(value, field)
}

#[napi]
impl JsEngine {
    /// Places one order given in the core's flat input shape (amounts as strings). The
    /// same channel order (channel and `external_ref`) placed twice is one order.
    #[napi(
        ts_args_type = "order: OrderInput, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn place_order(&self, order: JsonArg, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.write_text(move |e| {
            let ctx = context(options)?;
            let new = order_input(order, "order")?;
            order_text(&e.place_order(new, &ctx)?)
        })
    }

    /// Places many orders in one crossing, off the event loop (the bulk import). One bad
    /// order does not stop the rest: it is reported in `errors` with its index.
    #[napi(
        ts_args_type = "orders: OrderInput[], options?: Pick<CallOptions, 'actor'>",
        ts_return_type = "Promise<ImportResult>"
    )]
    pub fn place_orders(&self, orders: JsonArg, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.write_text(move |e| {
            let ctx = context(options)?;
            let Value::Array(orders) = orders.0 else {
                return Err(Failure::input("orders", "expected an array of orders"));
            };
            let mut slots: Vec<Option<Failure>> = Vec::with_capacity(orders.len());
            let mut batch = Vec::with_capacity(orders.len());
            for (i, value) in orders.into_iter().enumerate() {
                match order_input(value, &format!("orders[{i}]")) {
                    Ok(new) => {
                        batch.push(new);
                        slots.push(None);
                    }
                    Err(f) => slots.push(Some(f)),
                }
            }
            let mut placed = e.place_orders(batch, &ctx).into_iter();
            let results = slots.into_iter().map(|slot| match slot {
                Some(failed) => Err(failed),
                None => placed
                    .next()
                    .unwrap_or(Err(EngineError::InvalidInput {
                        field: "orders",
                        reason: "fewer results than orders",
                    }))
                    .map_err(Failure::from),
            });
            bulk_text(results.enumerate().map(|(i, r)| (i as u64, r)), "index")
        })
    }

    /// Places an order and runs `then` (order commands in the core's JSON form, such as
    /// `{command: "mark_paid"}`) on it in one atomic write: `{order, created}`. The same
    /// channel order again returns it as it is (`created: false`), running nothing twice.
    #[napi(
        ts_args_type = "order: OrderInput, then: Array<{ command: string; [field: string]: unknown }>, options?: CallOptions",
        ts_return_type = "Promise<{ order: Order; created: boolean }>"
    )]
    pub fn place_order_then(
        &self,
        order: JsonArg,
        then: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.write_text(move |e| {
            let ctx = context(options)?;
            let new = order_input(order, "order")?;
            refuse_numbers_for_money(&then, "then")?;
            let then: Vec<OrderCommand> = from_json(then, "then")?;
            let (order, created) = e.place_order_then(new, then, &ctx)?;
            Ok(format!(
                "{{\"order\":{},\"created\":{created}}}",
                order_text(&order)?
            ))
        })
    }

    /// Runs any order command given in the core's JSON form (`{command: "confirm"}`,
    /// `{command: "hold", reason: "fraud_review"}`, ...).
    #[napi(
        ts_args_type = "orderId: string, command: { command: string; [field: string]: unknown }, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn execute(
        &self,
        order_id: String,
        command: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            refuse_numbers_for_money(&command, "command")?;
            let command: OrderCommand = from_json(command, "command")?;
            Ok(e.execute(id, command, ctx)?)
        })
    }

    /// Confirms the order (reserving its tracked lines).
    #[napi(
        ts_args_type = "orderId: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn confirm_order(&self, order_id: String, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.command(
            order_id,
            options,
            |e, id, ctx| Ok(e.confirm_order(id, ctx)?),
        )
    }

    /// Puts the order on hold with a reason and an optional note.
    #[napi(
        ts_args_type = "orderId: string, reason: HoldReason, note?: string | null, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn hold_order(
        &self,
        order_id: String,
        reason: String,
        note: Option<String>,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let reason: HoldReason = text(&reason, "reason")?;
            Ok(e.hold_order(id, reason, note, ctx)?)
        })
    }

    /// Releases the order's hold.
    #[napi(
        ts_args_type = "orderId: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn release_hold(&self, order_id: String, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.command(order_id, options, |e, id, ctx| Ok(e.release_hold(id, ctx)?))
    }

    /// Cancels the whole order.
    #[napi(
        ts_args_type = "orderId: string, reason: CancelReason, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn cancel_order(
        &self,
        order_id: String,
        reason: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.cancel_order(id, text(&reason, "reason")?, ctx)?)
        })
    }

    /// Cancels some units of some lines (`{line_id: units}`).
    #[napi(
        ts_args_type = "orderId: string, lines: LineQuantities, reason: CancelReason, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn cancel_lines(
        &self,
        order_id: String,
        lines: JsonArg,
        reason: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let reason: CancelReason = text(&reason, "reason")?;
            Ok(e.cancel_lines(id, line_quantities(lines, "lines")?, reason, ctx)?)
        })
    }

    /// Edits lines before fulfilment, in the core's `LineEdit` form (money objects).
    #[napi(
        ts_args_type = "orderId: string, edits: Array<{ op: 'add' | 'remove' | 'set_quantity'; [field: string]: unknown }>, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn edit_order(
        &self,
        order_id: String,
        edits: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            refuse_numbers_for_money(&edits, "edits")?;
            let edits: Vec<LineEdit> = from_json(edits, "edits")?;
            Ok(e.edit_order(id, edits, ctx)?)
        })
    }

    /// Edits lines before fulfilment, new lines in the flat input shape (amounts as
    /// strings in the order's currency).
    #[napi(
        ts_args_type = "orderId: string, edits: LineEditInput[], options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn edit_order_input(
        &self,
        order_id: String,
        edits: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            refuse_numbers_for_money(&edits, "edits")?;
            let edits: Vec<LineEditInput> = from_json(edits, "edits")?;
            Ok(e.edit_order_input(id, edits, ctx)?)
        })
    }

    /// Records a payment of `amount` (`{amount: "10.00", currency: "TRY"}`).
    #[napi(
        ts_args_type = "orderId: string, amount: Money, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn record_payment(
        &self,
        order_id: String,
        amount: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.record_payment(id, money(amount, "amount")?, ctx)?)
        })
    }

    /// Records a payment of `amount` (a decimal string) in the order's currency.
    #[napi(
        ts_args_type = "orderId: string, amount: Decimal, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn record_payment_amount(
        &self,
        order_id: String,
        amount: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.record_payment_amount(id, crate::convert::amount(&amount, "amount")?, ctx)?)
        })
    }

    /// Records the balance due as paid.
    #[napi(
        ts_args_type = "orderId: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn mark_paid(&self, order_id: String, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.command(order_id, options, |e, id, ctx| Ok(e.mark_paid(id, ctx)?))
    }

    /// Records a refund of `amount` (`{amount, currency}`).
    #[napi(
        ts_args_type = "orderId: string, amount: Money, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn record_refund(
        &self,
        order_id: String,
        amount: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.record_refund(id, money(amount, "amount")?, ctx)?)
        })
    }

    /// Records a refund of `amount` (a decimal string) in the order's currency.
    #[napi(
        ts_args_type = "orderId: string, amount: Decimal, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn record_refund_amount(
        &self,
        order_id: String,
        amount: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.record_refund_amount(id, crate::convert::amount(&amount, "amount")?, ctx)?)
        })
    }

    /// Records units shipped outside the warehouse flow (`{line_id: units}`).
    #[napi(
        ts_args_type = "orderId: string, lines: LineQuantities, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn record_shipment(
        &self,
        order_id: String,
        lines: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.record_shipment(id, line_quantities(lines, "lines")?, ctx)?)
        })
    }

    /// Records units delivered.
    #[napi(
        ts_args_type = "orderId: string, lines: LineQuantities, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn record_delivery(
        &self,
        order_id: String,
        lines: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.record_delivery(id, line_quantities(lines, "lines")?, ctx)?)
        })
    }

    /// Records units returned.
    #[napi(
        ts_args_type = "orderId: string, lines: LineQuantities, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn record_return(
        &self,
        order_id: String,
        lines: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.record_return(id, line_quantities(lines, "lines")?, ctx)?)
        })
    }

    /// Completes the order.
    #[napi(
        ts_args_type = "orderId: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn complete_order(&self, order_id: String, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.command(order_id, options, |e, id, ctx| {
            Ok(e.complete_order(id, ctx)?)
        })
    }

    /// Adds and removes tags.
    #[napi(
        ts_args_type = "orderId: string, add: string[], remove?: string[], options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn tag_order(
        &self,
        order_id: String,
        add: JsonArg,
        remove: Option<JsonArg>,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let add: Vec<String> = from_json(add, "add")?;
            let remove: Vec<String> = opts(remove, "remove")?;
            Ok(e.tag_order(id, add, remove, ctx)?)
        })
    }

    /// Adds a staff note.
    #[napi(
        ts_args_type = "orderId: string, note: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn add_note(
        &self,
        order_id: String,
        note: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.add_note(id, note, ctx)?)
        })
    }

    /// `amount` (a decimal string) as money in the order's currency, refused if too
    /// precise for it.
    #[napi(
        ts_args_type = "orderId: string, amount: Decimal",
        ts_return_type = "Money"
    )]
    pub fn in_order_currency(&self, order_id: String, amount: JsonArg) -> napi::Result<String> {
        self.read(|e| {
            let money =
                e.in_order_currency(&oid(&order_id)?, crate::convert::amount(&amount, "amount")?)?;
            crate::convert::to_json(&money)
        })
    }
}
