//! Stock on `Engine` (the engine's `stock.rs`): ledger writes take the core's
//! `StockCommand` in its JSON form (`{command: "receive", variant, location, quantity}`,
//! a discriminated union in TypeScript), so every ledger command the core knows is
//! reachable without a method per command; writes resolve with the ledger's outcome
//! (movements, alerts, count sheets). Reads are in `stock_view.rs`.

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::stock::StockCommand;
use serde_json::{json, Value};

use crate::convert::{from_json, order_json, refuse_numbers_for_money, to_json, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{Job, Out};

fn command(value: impl Into<Value>, field: &str) -> Out<StockCommand> {
    let value = value.into();
    refuse_numbers_for_money(&value, field)?;
    from_json(value, field)
}

#[napi]
impl JsEngine {
    /// Executes one stock command and saves it. A command on a reservation an order
    /// owns is refused with `ENGINE_RESERVATION_OWNED_BY_ORDER`.
    #[napi(
        ts_args_type = "command: StockCommand",
        ts_return_type = "Promise<StockOutcome>"
    )]
    pub fn stock(&self, command: JsonArg) -> AsyncTask<Job> {
        self.write(move |e| to_json(&e.stock(self::command(command, "command")?)?))
    }

    /// Executes many stock commands as one atomic change, off the event loop: all are
    /// saved or none (the bulk call for receipts, counts and set-up).
    #[napi(
        ts_args_type = "commands: StockCommand[]",
        ts_return_type = "Promise<StockOutcome[]>"
    )]
    pub fn stock_batch(&self, commands: JsonArg) -> AsyncTask<Job> {
        self.write(move |e| {
            let Value::Array(commands) = commands.0 else {
                return Err(crate::errors::Failure::input(
                    "commands",
                    "expected an array of stock commands",
                ));
            };
            let commands = commands
                .into_iter()
                .enumerate()
                .map(|(i, c)| command(c, &format!("commands[{i}]")))
                .collect::<Out<Vec<_>>>()?;
            to_json(&e.stock_batch(commands)?)
        })
    }

    /// Releases every reservation past its expiry at the engine's time and tells their
    /// orders: `{released, orders, outcome}`.
    #[napi(ts_return_type = "Promise<ExpirySweep>")]
    pub fn sweep_expired_reservations(&self) -> AsyncTask<Job> {
        self.write(|e| {
            let sweep = e.sweep_expired_reservations()?;
            let orders = sweep
                .orders
                .iter()
                .map(order_json)
                .collect::<Out<Vec<_>>>()?;
            Ok(json!({
                "released": sweep.released,
                "orders": orders,
                "outcome": to_json(&sweep.outcome)?,
            }))
        })
    }

    /// The same sweep, resolving with the ledger's outcome only.
    #[napi(ts_return_type = "Promise<StockOutcome>")]
    pub fn expire_reservations(&self) -> AsyncTask<Job> {
        self.write(|e| to_json(&e.expire_reservations()?))
    }
}
