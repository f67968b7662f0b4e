//! `ordersmith._native`: the Python extension module of ordersmith.
//!
//! Glue only: it converts Python values to the core's types and back, and core errors
//! to the exception classes `ordersmith/__init__.py` registers. No business rule lives
//! here; every rule is in the `ordersmith` core crate so every language gets it.
//!
//! One file per core concern: `errors` (the one error mapping), `convert` (values),
//! `money`, `order` (the order types), `engine` (constructors and order commands),
//! `fulfilment` (the warehouse flow), `stock` (ledger writes) and `stock_view` (ledger
//! reads); `channels` (the `ordersmith-channels` crate: parse, verify, import, plan
//! stock pushes); `invoice` (invoices, credit notes and their documents); `kpi` (KPI
//! tables, exports, insights and the report); `dump` (moving a shop between stores).

mod args;
mod batch;
mod channels;
mod convert;
mod dump;
mod engine;
mod errors;
mod fulfilment;
mod import;
mod invoice;
mod kpi;
mod listing;
mod money;
mod order;
mod order_commands;
mod payment;
mod returns;
mod rules;
mod stock;
mod stock_holds;
mod stock_moves;
mod stock_view;

use pyo3::prelude::*;

/// The module: classes, functions and the error-registration hook.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<order::PyOrder>()?;
    m.add_class::<order::PyOrderLine>()?;
    m.add_class::<order::PyTotals>()?;
    m.add_class::<order::PyImportResult>()?;
    m.add_class::<order::PyImportIds>()?;
    m.add_class::<listing::PyOrderPage>()?;
    m.add_class::<listing::PyOrderIterator>()?;
    m.add_class::<channels::PyChannelIntake>()?;
    m.add_class::<channels::PyStockPushPlanner>()?;
    m.add_function(wrap_pyfunction!(channels::parse_channel_order, m)?)?;
    m.add_function(wrap_pyfunction!(channels::parse_channel_events, m)?)?;
    m.add_function(wrap_pyfunction!(channels::verify_hmac_webhook, m)?)?;
    m.add_function(wrap_pyfunction!(channels::verify_basic_auth, m)?)?;
    m.add_function(wrap_pyfunction!(channels::verify_api_key, m)?)?;
    m.add_function(wrap_pyfunction!(channels::verify_ebay_webhook, m)?)?;
    m.add_function(wrap_pyfunction!(money::allocate, m)?)?;
    m.add_function(wrap_pyfunction!(fulfilment::choose_carrier, m)?)?;
    m.add_function(wrap_pyfunction!(fulfilment::render_notification, m)?)?;
    m.add_function(wrap_pyfunction!(money::error_codes, m)?)?;
    m.add_class::<rules::PyRuleSet>()?;
    m.add_function(wrap_pyfunction!(rules::load_rules, m)?)?;
    m.add_function(wrap_pyfunction!(rules::validate_rules, m)?)?;
    m.add_function(wrap_pyfunction!(rules::rules_json_schema, m)?)?;
    m.add_function(wrap_pyfunction!(errors::register_error_classes, m)?)?;
    m.add("INTERNAL_PANIC", errors::INTERNAL_PANIC)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
