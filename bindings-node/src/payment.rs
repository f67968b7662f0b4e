//! Payments through a provider on `Engine` (the engine's `pay`): one method taking the
//! step in the core's JSON form. Requests leave as outbox effects (`payment.*_requested`)
//! the host performs with its provider; confirmations are idempotent by the provider's
//! reference.

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::order::PaymentCommand;
use serde_json::Value;

use crate::convert::{amount, from_json, refuse_numbers_for_money, to_json, JsonArg};
use crate::engine::JsEngine;
use crate::errors::Job;

#[napi]
impl JsEngine {
    /// Runs one payment step: `{step: "authorise", provider, method?, amount}`,
    /// `"confirm_authorisation"`, `"fail_authorisation"`, `"capture"`,
    /// `"confirm_capture"`, `"void"`, `"refund"`, `"confirm_refund"`, or
    /// `"fail_capture"` / `"fail_refund"` (`{payment, reason}`: the provider refused, and
    /// what was pending is released). `amount` is a decimal string in the order's
    /// currency or a `{amount, currency}` object.
    #[napi(
        ts_args_type = "orderId: string, step: PaymentStep, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn pay(&self, order_id: String, step: JsonArg, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let mut step: Value = step.into();
            refuse_numbers_for_money(&step, "step")?;
            if let Value::Object(map) = &mut step {
                if let Some(text @ Value::String(_)) = map.get("amount") {
                    let money = e.in_order_currency(id, amount(text, "step.amount")?)?;
                    map.insert("amount".into(), to_json(&money)?);
                }
            }
            let step: PaymentCommand = from_json(step, "step")?;
            Ok(e.pay(id, step, ctx)?)
        })
    }
}
