//! `ordersmith.node`: the Node addon of ordersmith (napi-rs 3).
//!
//! Glue only: it converts JavaScript values to the core's types and back, and core
//! errors to the marker `errors.js` turns into `Error` subclasses. No business rule
//! lives here; every rule is in the `ordersmith` core crate (and `ordersmith-channels`)
//! so every language gets it.
//!
//! One file per engine file: `engine` (constructors, effects, order reads), `orders`,
//! `payment`, `returns`, `fulfilment`, `timeline`, `stock` (writes), `stock_view`
//! (reads), `listing`, `invoice`, `kpi`, `rules`, `dump` (moving a shop between stores); `channels` (the channels crate);
//! `errors` (the one error mapping) and `convert` (values).

// napi-derive registers the exported functions with Node only outside `cfg(test)`, so a
// test build (as `cargo clippy --all-targets` makes) sees them as unused.
#![cfg_attr(test, allow(dead_code))]

mod channels;
mod convert;
mod engine;
// After `engine`: napi-derive names the class of an `impl JsEngine` from the struct's
// `js_name`, which it learns when it expands `engine.rs` first.
mod batch;
mod dump;
mod errors;
mod fulfilment;
mod import;
mod invoice;
mod kpi;
mod listing;
mod orders;
mod payment;
mod returns;
mod rules;
mod stock;
mod stock_view;
mod timeline;

use convert::JsonArg;
use napi_derive::napi;
use serde_json::Value;

/// Every error code the core and the channels crate can return, with its module and
/// kind (from their catalogues, so the binding never classifies errors itself).
#[napi(ts_return_type = "ErrorInfo[]")]
pub fn error_codes() -> napi::Result<String> {
    errors::shielded_json(|| {
        let rows: Vec<Value> = ordersmith::errors::catalog()
            .into_iter()
            .chain(ordersmith_channels::catalog())
            .map(|info| serde_json::json!({ "code": info.code, "module": info.module, "kind": info.kind.as_str() }))
            .collect();
        Ok(Value::Array(rows))
    })
}

/// Splits `total` (a decimal string) across `weights` by largest remainder, so the
/// parts always add up to the total to the last minor unit of `currency`.
#[napi(
    ts_args_type = "total: Decimal, weights: Decimal[], currency: string",
    ts_return_type = "Decimal[]"
)]
pub fn allocate(total: JsonArg, weights: JsonArg, currency: String) -> napi::Result<String> {
    use ordersmith::money::{allocate as split, Currency, Money};
    errors::shielded_json(|| {
        let fail = |e: ordersmith::money::MoneyError| errors::Failure::core(&e);
        let currency = Currency::parse(&currency).map_err(fail)?;
        let total = Money::new(convert::amount(&total, "total")?, currency).map_err(fail)?;
        let weights: Vec<Value> = convert::from_json(weights, "weights")?;
        let weights = weights
            .iter()
            .enumerate()
            .map(|(i, w)| convert::amount(w, &format!("weights[{i}]")))
            .collect::<errors::Out<Vec<_>>>()?;
        let parts = split(&total, &weights).map_err(fail)?;
        convert::to_json(&parts.iter().map(Money::amount).collect::<Vec<_>>())
    })
}

/// The code of a Rust panic caught at the boundary (`InternalError`).
#[napi]
pub const INTERNAL_PANIC: &str = errors::INTERNAL_PANIC;

/// The marker that starts a native error's message (read by `errors.js`).
#[napi]
pub const ERROR_MARKER: &str = errors::MARKER;

/// The package version.
#[napi]
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
