//! Refund quotes on `Engine` (the engine's `refund_quote`): what returning some units
//! now would refund, line by line. A quick read, synchronous.

use napi_derive::napi;
use ordersmith::returns::RefundPolicy;
use serde::Deserialize;
use serde_json::Value;

use crate::convert::{
    amount, line_quantities, oid, opts, refuse_numbers_for_money, to_json, JsonArg,
};
use crate::engine::JsEngine;

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
