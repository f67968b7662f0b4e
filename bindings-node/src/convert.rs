//! Conversions between JavaScript values and the core's types.
//!
//! Input arrives as JSON (napi's `serde-json` turns a plain object into a
//! `serde_json::Value`) and is read by the core's own serde types ([`from_json`]), so
//! unknown fields and bad values are refused by the core's format with the path of the
//! offending value. Money is a decimal string: a JS `number` is refused before the core
//! sees it ([`amount`]), because a binary float cannot hold money exactly. Times are
//! ISO-8601 strings with an offset, in and out (the one documented choice; a `Date`
//! converts with `toISOString()`).
//!
//! Output is the core's JSON: field names as the core spells them (snake_case, the same
//! as Python's dicts and the stored JSON), amounts as strings, times as RFC 3339 UTC.
//!
//! Objects cross as JSON text: `index.js` passes a plain object or array argument as
//! [`JSON_MARKER`] + `JSON.stringify(arg)` and parses a result string that starts with
//! the marker. napi's own object conversion makes one N-API call per property (tens of
//! microseconds for an order); V8's JSON and serde_json do the same work in a few. A
//! value given as an object still works ([`JsonArg`] takes both), so nothing depends on
//! the wrapper but speed.

use ordersmith::engine::CommandContext;
use ordersmith::ids::OrderId;
use ordersmith::order::{Actor, LineQuantity, Order};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::{Failure, Out};

/// First character of a string that carries JSON text across the boundary.
pub(crate) const JSON_MARKER: char = '\u{2}';

/// A result as JSON text for `index.js` to parse.
pub(crate) fn json_text(value: &Value) -> String {
    let mut text = String::with_capacity(256);
    text.push(JSON_MARKER);
    // Serialising a `Value` to a string cannot fail (its keys are strings).
    text.push_str(&value.to_string());
    text
}

/// An argument that is JSON: a marked JSON text (from `index.js`), any other string (a
/// JSON string value), or a JS value converted by napi.
pub struct JsonArg(pub(crate) Value);

impl napi::bindgen_prelude::FromNapiValue for JsonArg {
    // napi's conversion trait is an `unsafe fn` over the raw env and value; this only
    // forwards both, unchanged, to napi's own conversions for `String` and `Value`.
    #[allow(unsafe_code)]
    unsafe fn from_napi_value(
        env: napi::sys::napi_env,
        value: napi::sys::napi_value,
    ) -> napi::Result<Self> {
        let kind = napi::type_of!(env, value)?;
        if kind == napi::ValueType::String {
            // SAFETY: env and value come from napi for this call; the value is a string.
            let text = unsafe { String::from_napi_value(env, value) }?;
            return match text.strip_prefix(JSON_MARKER) {
                Some(json) => serde_json::from_str(json)
                    .map(JsonArg)
                    .map_err(|e| Failure::input("argument", format!("invalid JSON: {e}")).into()),
                None => Ok(JsonArg(Value::String(text))),
            };
        }
        // SAFETY: as above.
        unsafe { Value::from_napi_value(env, value) }.map(JsonArg)
    }
}

impl std::ops::Deref for JsonArg {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.0
    }
}

impl From<JsonArg> for Value {
    fn from(arg: JsonArg) -> Value {
        arg.0
    }
}

impl napi::bindgen_prelude::TypeName for JsonArg {
    fn type_name() -> &'static str {
        "JSON"
    }

    fn value_type() -> napi::ValueType {
        napi::ValueType::Unknown
    }
}

impl napi::bindgen_prelude::ValidateNapiValue for JsonArg {}

/// Why a JS number is refused where money is expected.
pub(crate) const NUMBER_REFUSED: &str =
    "numbers are refused for money (a binary float cannot hold it exactly): pass a decimal string such as \"10.50\"";

/// `value` read as `T` by the core's serde; a failure names the path inside `field`.
pub(crate) fn from_json<T: DeserializeOwned>(value: impl Into<Value>, field: &str) -> Out<T> {
    serde_path_to_error::deserialize(value.into()).map_err(|e| {
        let inner = e.path().to_string();
        let path = if inner == "." || inner.is_empty() {
            field.to_string()
        } else if inner.starts_with('[') {
            format!("{field}{inner}")
        } else {
            format!("{field}.{inner}")
        };
        Failure::input(&path, e.inner().to_string())
    })
}

/// Optional JSON (`undefined`/`null` → the type's default).
pub(crate) fn opts<T: DeserializeOwned + Default>(
    value: Option<impl Into<Value>>,
    field: &str,
) -> Out<T> {
    match value.map(Into::into) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => from_json(v, field),
    }
}

/// Any serialisable core value as JSON.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Out<Value> {
    serde_json::to_value(value)
        .map_err(|e| Failure::input("output", format!("could not be serialised: {e}")))
}

/// A money amount: a decimal string, never a JS number.
pub(crate) fn amount(value: &Value, field: &str) -> Out<Decimal> {
    match value {
        Value::String(s) => ordersmith::money::parse_decimal(s).map_err(|e| Failure::core(&e)),
        Value::Number(_) => Err(Failure::input(field, NUMBER_REFUSED)),
        _ => Err(Failure::input(
            field,
            "expected a decimal string such as \"10.50\"",
        )),
    }
}

/// An order id.
pub(crate) fn oid(id: &str) -> Out<OrderId> {
    OrderId::parse(id).map_err(|e| Failure::core(&e))
}

/// Who acts and the idempotency key: the options every command takes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CallOptions {
    /// Who acts (`"system"`, `"customer"`, `"user:ayse"`, `"channel:shopify"`, `"rule:<id>"`).
    actor: Option<String>,
    /// The call's idempotency key.
    idempotency_key: Option<String>,
}

impl CallOptions {
    /// The core's context.
    pub(crate) fn context(self) -> Out<CommandContext> {
        let actor = match self.actor {
            None => Actor::System,
            Some(text) => Actor::parse(&text).ok_or_else(|| {
                Failure::input(
                    "actor",
                    "expected \"system\", \"customer\", \"user:<id>\", \"channel:<id>\" or \"rule:<id>\"",
                )
            })?,
        };
        let mut ctx = CommandContext::by(actor);
        if let Some(key) = self.idempotency_key {
            ctx = ctx.with_idempotency_key(key);
        }
        Ok(ctx)
    }
}

/// The context from an optional `{actor, idempotencyKey}` object.
pub(crate) fn context(options: Option<impl Into<Value>>) -> Out<CommandContext> {
    opts::<CallOptions>(options, "options")?.context()
}

/// `{line_id: units}` as the core's line quantities.
pub(crate) fn line_quantities(value: impl Into<Value>, field: &str) -> Out<Vec<LineQuantity>> {
    let map: serde_json::Map<String, Value> = from_json(value, field)?;
    let mut items = Vec::with_capacity(map.len());
    for (line, units) in &map {
        let units = units
            .as_u64()
            .and_then(|u| u32::try_from(u).ok())
            .ok_or_else(|| {
                Failure::input(
                    &format!("{field}.{line}"),
                    "expected a whole number of units",
                )
            })?;
        items.push((line.as_str(), units));
    }
    ordersmith::engine::lines(&items).map_err(Failure::from)
}

/// An order with the figures the core derives (payment and fulfilment status,
/// totals, balance due) beside the core's own JSON, as Python's `to_dict()`.
#[derive(Serialize)]
struct OrderOut<'a> {
    #[serde(flatten)]
    order: &'a Order,
    payment_status: ordersmith::order::PaymentStatus,
    fulfilment_status: ordersmith::order::FulfilmentStatus,
    totals: ordersmith::order::OrderTotals,
    balance_due: ordersmith::money::Money,
}

fn order_out(order: &Order) -> Out<OrderOut<'_>> {
    let err = |e| Failure::core(&ordersmith::order::OrderError::from(e));
    Ok(OrderOut {
        order,
        payment_status: order.payment_status(),
        fulfilment_status: order.fulfilment_status(),
        totals: order.totals().map_err(err)?,
        balance_due: order.balance_due().map_err(err)?,
    })
}

/// An order as a plain object (see [`OrderOut`]), as JSON.
pub(crate) fn order_json(order: &Order) -> Out<Value> {
    to_json(&order_out(order)?)
}

/// An order as JSON text, straight from serde (no intermediate tree): what every call
/// returning one order or many uses.
pub(crate) fn order_text(order: &Order) -> Out<String> {
    serde_json::to_string(&order_out(order)?)
        .map_err(|e| Failure::input("output", format!("could not be serialised: {e}")))
}

/// A bulk call's result, `{"orders": [...], "errors": [{<key>: .., "error": ..}]}`, as
/// JSON text written order by order, so a large import never holds a JSON tree of
/// every order at once. `key` names what places an error: `"index"` or `"line"`.
pub(crate) fn bulk_text(
    results: impl ExactSizeIterator<Item = (u64, Out<Order>)>,
    key: &str,
) -> Out<String> {
    let mut ok = String::with_capacity(results.len() * 1024 + 16);
    ok.push_str("{\"orders\":[");
    let mut errors = Vec::new();
    for (at, result) in results {
        match result {
            Ok(order) => {
                if !ok.ends_with('[') {
                    ok.push(',');
                }
                ok.push_str(&order_text(&order)?);
            }
            Err(f) => errors.push(serde_json::json!({ key: at, "error": f.to_json() })),
        }
    }
    ok.push_str("],\"errors\":");
    ok.push_str(&serde_json::Value::Array(errors).to_string());
    ok.push('}');
    Ok(ok)
}

/// Orders as a JSON array text.
pub(crate) fn orders_text(orders: &[Order]) -> Out<String> {
    let mut text = String::with_capacity(orders.len() * 1024 + 2);
    text.push('[');
    for (i, order) in orders.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&order_text(order)?);
    }
    text.push(']');
    Ok(text)
}

/// JSON text for `index.js` to parse (a [`JSON_MARKER`] and `json`).
pub(crate) fn marked(json: &str) -> String {
    let mut text = String::with_capacity(json.len() + 1);
    text.push(JSON_MARKER);
    text.push_str(json);
    text
}

/// Keys whose values the core reads as decimals (amounts, prices, rates).
const MONEY_KEYS: &[&str] = &[
    "amount",
    "unit_price",
    "price",
    "rate",
    "restocking_fee_rate",
];

/// Refuses JS numbers where the core reads a decimal (under [`MONEY_KEYS`]), and
/// fractional numbers anywhere: a binary float cannot hold money exactly, and the core
/// would otherwise accept a whole number silently. `path` names the value in errors.
pub(crate) fn refuse_numbers_for_money(value: &Value, path: &str) -> Out<()> {
    match value {
        Value::Number(n) if n.is_f64() => Err(Failure::input(path, NUMBER_REFUSED)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| refuse_numbers_for_money(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            let here = format!("{path}.{k}");
            if MONEY_KEYS.contains(&k.as_str()) && v.is_number() {
                Err(Failure::input(&here, NUMBER_REFUSED))
            } else {
                refuse_numbers_for_money(v, &here)
            }
        }),
        _ => Ok(()),
    }
}
