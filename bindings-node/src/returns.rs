//! Returns on `Engine` (the engine's `returns.rs` and `refund_quote`): refund quotes,
//! the RMA workflow (request, override, reject, label, transit, receipt, inspection,
//! resolution, close; each step a store write returning a Promise of the order, its
//! RMAs in `order.rmas`), any return command in the core's JSON (`executeReturn`), the
//! value of an RMA, and store credit. Every rule (the return policy, refunds per unit,
//! exchanges) is the core's.

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::engine::Engine;
use ordersmith::ids::{CustomerId, LocationId, OrderId, VariantId};
use ordersmith::money::Money;
use ordersmith::order::TaxLine;
use ordersmith::returns::{
    ExchangeLine, RefundPolicy, ResolutionRequest, ReturnCommand, ReturnLineRequest, UnitInspection,
};
use serde::Deserialize;
use serde_json::Value;

use crate::convert::{
    amount, from_json, line_quantities, oid, opts, refuse_numbers_for_money, to_json, JsonArg,
};
use crate::engine::JsEngine;
use crate::errors::{Failure, Job, Out};

/// `{note?, exchange?}`: what a return request carries besides its lines.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestExtra {
    note: Option<String>,
    #[serde(default)]
    exchange: Vec<ExchangeInput>,
}

/// A replacement line as Node gives it: `unit_price` a decimal string in the order's
/// currency or `{amount, currency}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeInput {
    variant: VariantId,
    quantity: u32,
    unit_price: Value,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    tax_lines: Vec<TaxLine>,
}

/// A price in the order's currency: a decimal string, or `{amount, currency}`.
fn price(e: &Engine, id: &OrderId, value: Value, field: &str) -> Out<Money> {
    match &value {
        Value::String(_) | Value::Number(_) => Ok(e.in_order_currency(id, amount(&value, field)?)?),
        _ => from_json(value, field),
    }
}

/// `{refundShipping?, restockingFeeRate?}` as Node spells the refund policy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PolicyOptions {
    refund_shipping: Option<bool>,
    restocking_fee_rate: Option<Value>,
}

#[napi]
impl JsEngine {
    /// What returning `lines` (`{line_id: units}`) now would refund, after the returns
    /// the order already records: per line `paid`, `tax`, `shipping` (with
    /// `refundShipping`), `restocking_fee` (`restockingFeeRate` of the goods, a decimal
    /// string from 0 to 1) and `total`, and the overall `total`. Reads only.
    #[napi(
        ts_args_type = "orderId: string, lines: LineQuantities, policy?: { refundShipping?: boolean; restockingFeeRate?: Decimal }",
        ts_return_type = "RefundBreakdown"
    )]
    pub fn refund_quote(
        &self,
        order_id: String,
        lines: JsonArg,
        policy: Option<JsonArg>,
    ) -> napi::Result<String> {
        self.read(|e| {
            if let Some(p) = &policy {
                refuse_numbers_for_money(p, "policy")?;
            }
            let p: PolicyOptions = opts(policy, "policy")?;
            let policy = RefundPolicy {
                refund_shipping: p.refund_shipping.unwrap_or(false),
                restocking_fee_rate: p
                    .restocking_fee_rate
                    .map(|r| amount(&r, "policy.restockingFeeRate"))
                    .transpose()?
                    .unwrap_or_default(),
            };
            let quote =
                e.refund_quote(&oid(&order_id)?, &line_quantities(lines, "lines")?, &policy)?;
            to_json(&quote)
        })
    }
}

#[napi]
impl JsEngine {
    /// Runs any return step given in the core's `ReturnCommand` JSON (tagged by
    /// `command`: `request`, `override`, `reject`, `request_label`, `record_label`,
    /// `mark_in_transit`, `receive`, `inspect`, `resolve`, `close`): every step the core
    /// knows is reachable. Exchange prices here are `{amount, currency}` objects.
    #[napi(
        ts_args_type = "orderId: string, command: ReturnCommand, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn execute_return(
        &self,
        order_id: String,
        command: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            refuse_numbers_for_money(&command, "command")?;
            let command: ReturnCommand = from_json(command, "command")?;
            Ok(e.execute_return(id, command, ctx)?)
        })
    }

    /// Asks for a return of `lines` (`{line_id, quantity, reason, opened?}`; reasons
    /// `wrong_size`, `damaged`, `defective`, `not_as_described`, `changed_mind`,
    /// `late_delivery`, `other`). The engine's return policy approves or rejects it at
    /// once, naming the failed rule on the RMA (the order's last). `extra.note`: the
    /// customer's words; `extra.exchange`: replacement lines (`{variant, quantity,
    /// unit_price, title?, tax_lines?}`, prices as decimal strings) for an exchange.
    #[napi(
        ts_args_type = "orderId: string, lines: ReturnLineRequest[], extra?: { note?: string; exchange?: ExchangeLineInput[] }, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn request_return(
        &self,
        order_id: String,
        lines: JsonArg,
        extra: Option<JsonArg>,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let lines: Vec<ReturnLineRequest> = from_json(lines, "lines")?;
            if let Some(x) = &extra {
                refuse_numbers_for_money(x, "extra")?;
            }
            let extra: RequestExtra = opts(extra, "extra")?;
            let exchange = extra
                .exchange
                .into_iter()
                .enumerate()
                .map(|(i, x)| {
                    Ok(ExchangeLine {
                        unit_price: price(
                            e,
                            id,
                            x.unit_price,
                            &format!("extra.exchange[{i}].unit_price"),
                        )?,
                        variant: x.variant,
                        quantity: x.quantity,
                        title: x.title,
                        tax_lines: x.tax_lines,
                    })
                })
                .collect::<Out<Vec<_>>>()?;
            Ok(e.request_return(id, lines, extra.note, exchange, ctx)?)
        })
    }

    /// A person approves a return the policy rejected, with a reason.
    #[napi(
        ts_args_type = "orderId: string, rma: string, reason: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn override_return(
        &self,
        order_id: String,
        rma: String,
        reason: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.override_return(id, &rma, reason, ctx)?)
        })
    }

    /// A person rejects a return before anything arrived, with a reason.
    #[napi(
        ts_args_type = "orderId: string, rma: string, reason: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn reject_return(
        &self,
        order_id: String,
        rma: String,
        reason: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.reject_return(id, &rma, reason, ctx)?)
        })
    }

    /// Asks the host for a return label (an effect with topic `return.label_requested`).
    #[napi(
        ts_args_type = "orderId: string, rma: string, service: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn request_return_label(
        &self,
        order_id: String,
        rma: String,
        service: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.request_return_label(id, &rma, service, ctx)?)
        })
    }

    /// Records the return label the host bought (the same one again changes nothing).
    #[napi(
        ts_args_type = "orderId: string, rma: string, carrier: string, trackingNumber: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn record_return_label(
        &self,
        order_id: String,
        rma: String,
        carrier: String,
        tracking_number: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.record_return_label(id, &rma, carrier, tracking_number, ctx)?)
        })
    }

    /// Records that the returned goods are on their way back.
    #[napi(
        ts_args_type = "orderId: string, rma: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn mark_return_in_transit(
        &self,
        order_id: String,
        rma: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.mark_return_in_transit(id, &rma, ctx)?)
        })
    }

    /// Records returned units (`{line_id: units}`) arriving at `location`; partial
    /// receipts are allowed.
    #[napi(
        ts_args_type = "orderId: string, rma: string, location: string, lines: LineQuantities, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn receive_return(
        &self,
        order_id: String,
        rma: String,
        location: String,
        lines: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let location = LocationId::parse(&location).map_err(|e| Failure::core(&e))?;
            let lines = line_quantities(lines, "lines")?;
            Ok(e.receive_return(id, &rma, location, lines, ctx)?)
        })
    }

    /// Records what inspection found: `{line_id, outcome, quantity?, note?}` per unit
    /// or group (`resellable` goes back on the shelf, `quarantine`, `write_off`;
    /// quantity defaults to 1). The ledger moves in the same write.
    #[napi(
        ts_args_type = "orderId: string, rma: string, units: UnitInspection[], options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn inspect_return(
        &self,
        order_id: String,
        rma: String,
        units: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let units: Vec<UnitInspection> = from_json(units, "units")?;
            Ok(e.inspect_return(id, &rma, units, ctx)?)
        })
    }

    /// Settles a return: `"refund"` (through the payment refund path), `"store_credit"`
    /// or `"exchange"`; the breakdown is in the RMA's `resolution`.
    #[napi(
        ts_args_type = "orderId: string, rma: string, resolution: 'refund' | 'store_credit' | 'exchange', options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn resolve_return(
        &self,
        order_id: String,
        rma: String,
        resolution: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let resolution: ResolutionRequest =
                from_json(serde_json::json!({ "kind": resolution }), "resolution")?;
            Ok(e.resolve_return(id, &rma, resolution, ctx)?)
        })
    }

    /// Closes a return (resolved, rejected, or before anything arrived).
    #[napi(
        ts_args_type = "orderId: string, rma: string, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn close_return(
        &self,
        order_id: String,
        rma: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            Ok(e.close_return(id, &rma, ctx)?)
        })
    }

    /// What the units an RMA received are worth now, line by line and in `total` (the
    /// refund it would make). Reads only.
    #[napi(ts_return_type = "RefundBreakdown")]
    pub fn return_value(&self, order_id: String, rma: String) -> napi::Result<String> {
        self.read(|e| to_json(&e.return_value(&oid(&order_id)?, &rma)?))
    }

    /// A customer's store credit (`balance`, `entries`, `version`), or `null` if never
    /// credited.
    #[napi(ts_return_type = "CreditAccount | null")]
    pub fn store_credit(&self, customer_id: String) -> napi::Result<String> {
        self.read(|e| {
            let customer = CustomerId::parse(&customer_id).map_err(|e| Failure::core(&e))?;
            to_json(&e.store_credit(&customer)?)
        })
    }

    /// Pays `amount` (a decimal string in the order's currency) of an order from its
    /// customer's store credit: never below zero (`RETURNS_CREDIT_INSUFFICIENT`), never
    /// above the order's balance due.
    #[napi(
        ts_args_type = "orderId: string, amount: Decimal, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn spend_store_credit(
        &self,
        order_id: String,
        amount: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let money = price(e, id, amount.0, "amount")?;
            Ok(e.spend_store_credit(id, money, ctx)?)
        })
    }
}
