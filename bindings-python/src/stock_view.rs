//! Stock reads on `Engine`: levels, the whole position, the journal, forecasts and
//! channel quantities, as plain dicts and lists (ready for `to_pandas` / `to_polars`).
//! Each read copies what it needs out of the ledger with the GIL released.

use std::collections::BTreeMap;

use ordersmith::engine::EngineError;
use ordersmith::stock::{ReorderParams, StockLevel, StockPolicy};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rust_decimal::Decimal;

use crate::args::{names, Int, Text};
use crate::convert::{json_to_py, to_py};
use crate::engine::PyEngine;
use crate::errors::detached;
use crate::stock::{cid, flat_movement, lid, vid};

/// `(policy name, backorder limit)` as `register_variant` takes them.
fn policy_parts(policy: StockPolicy) -> (&'static str, Option<u32>) {
    match policy {
        StockPolicy::Deny => ("deny", None),
        StockPolicy::Backorder { limit } => ("backorder", limit),
        StockPolicy::PreOrder => ("preorder", None),
    }
}

fn level_dict<'py>(
    py: Python<'py>,
    variant: &str,
    level: &StockLevel,
) -> PyResult<Bound<'py, PyDict>> {
    let row = PyDict::new(py);
    row.set_item("variant", variant)?;
    row.set_item("location", level.location.as_str())?;
    row.set_item("on_hand", level.on_hand)?;
    row.set_item("reserved", level.reserved)?;
    row.set_item("safety_stock", level.safety_stock)?;
    row.set_item("available", level.available)?;
    row.set_item("sellable", level.sellable())?;
    row.set_item("incoming", level.incoming)?;
    row.set_item("quarantined", level.quarantined)?;
    row.set_item("in_transit", level.in_transit)?;
    Ok(row)
}

fn quantities_dict<'py>(
    py: Python<'py>,
    map: &BTreeMap<ordersmith::ids::VariantId, u64>,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (v, q) in map {
        out.set_item(v.as_str(), *q)?;
    }
    Ok(out)
}

#[pymethods]
impl PyEngine {
    /// One (variant, location): on hand, reserved, safety stock, available, sellable,
    /// incoming, quarantined, in transit.
    fn level<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let sku = sku.as_str();
        let location = location.as_str();
        let (variant, location) = (vid(py, sku)?, lid(py, location)?);
        let engine = &self.engine(py)?;
        let level = detached(py, || -> Result<_, EngineError> {
            Ok(engine.with_stock(|s| s.level(&variant, &location))??)
        })?;
        level_dict(py, sku, &level)
    }

    /// A variant across every location: totals, policy, and one row per location.
    fn levels<'py>(&self, py: Python<'py>, sku: Text<names::sku>) -> PyResult<Bound<'py, PyDict>> {
        let sku = sku.as_str();
        let variant = vid(py, sku)?;
        let engine = &self.engine(py)?;
        let view = detached(py, || -> Result<_, EngineError> {
            Ok(engine.with_stock(|s| s.levels(&variant))??)
        })?;
        let out = PyDict::new(py);
        let (policy, limit) = policy_parts(view.policy);
        out.set_item("variant", sku)?;
        out.set_item("policy", policy)?;
        out.set_item("backorder_limit", limit)?;
        out.set_item("on_hand", view.on_hand)?;
        out.set_item("reserved", view.reserved)?;
        out.set_item("sellable", view.sellable)?;
        out.set_item("incoming", view.incoming)?;
        out.set_item("quarantined", view.quarantined)?;
        out.set_item("in_transit", view.in_transit)?;
        let rows = PyList::empty(py);
        for level in &view.locations {
            rows.append(level_dict(py, sku, level)?)?;
        }
        out.set_item("locations", rows)?;
        Ok(out)
    }

    /// Every (registered variant, location) balance as rows, sorted by variant then
    /// location: variant, location, on_hand, reserved, safety_stock, available,
    /// sellable, incoming, quarantined, in_transit.
    fn stock_position<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let engine = &self.engine(py)?;
        let rows = detached(py, || {
            engine.with_stock(|s| {
                let mut variants: Vec<_> = s.variants().cloned().collect();
                variants.sort();
                let mut rows = Vec::new();
                for v in variants {
                    if let Ok(view) = s.levels(&v) {
                        for level in view.locations {
                            rows.push((v.to_string(), level));
                        }
                    }
                }
                rows
            })
        })?;
        let out = PyList::empty(py);
        for (variant, level) in &rows {
            out.append(level_dict(py, variant, level)?)?;
        }
        Ok(out)
    }

    /// Journal movements after `since` (a `seq`), oldest first, as flat dicts: seq, at,
    /// variant, location, kind, quantity, reference and the kind's own fields.
    #[pyo3(signature = (since=None), text_signature = "($self, since=0)")]
    fn journal<'py>(
        &self,
        py: Python<'py>,
        since: Option<Int<u64, names::since>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let since = since.map_or(0, |v| v.0);
        let engine = &self.engine(py)?;
        let movements = detached(py, || {
            engine.with_stock(|s| {
                s.journal_since(since)
                    .iter()
                    .map(|m| {
                        serde_json::to_value(m)
                            .map(flat_movement)
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
            })
        })?;
        let out = PyList::empty(py);
        for m in &movements {
            out.append(json_to_py(py, m)?)?;
        }
        Ok(out)
    }

    /// Velocity, days of cover, reorder point and suggested order quantity.
    #[pyo3(signature = (sku, window_days=None, lead_time_days=None, review_period_days=None), text_signature = "($self, sku, window_days=30, lead_time_days=7, review_period_days=14)")]
    fn forecast<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        window_days: Option<Int<u32, names::window_days>>,
        lead_time_days: Option<Int<u32, names::lead_time_days>>,
        review_period_days: Option<Int<u32, names::review_period_days>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let sku = sku.as_str();
        let window_days = window_days.map_or(30, |v| v.0);
        let lead_time_days = lead_time_days.map_or(7, |v| v.0);
        let review_period_days = review_period_days.map_or(14, |v| v.0);
        let variant = vid(py, sku)?;
        let params = ReorderParams {
            window_days,
            lead_time_days,
            review_period_days,
        };
        let engine = &self.engine(py)?;
        let forecast = detached(py, || engine.forecast(&variant, params))?;
        to_py(py, &forecast)
    }

    /// Units sold per day over the last `window_days`.
    #[pyo3(signature = (sku, window_days=None), text_signature = "($self, sku, window_days=30)")]
    fn sales_velocity(
        &self,
        py: Python<'_>,
        sku: Text<names::sku>,
        window_days: Option<Int<u32, names::window_days>>,
    ) -> PyResult<Decimal> {
        let sku = sku.as_str();
        let window_days = window_days.map_or(30, |v| v.0);
        let variant = vid(py, sku)?;
        let engine = &self.engine(py)?;
        detached(py, || engine.sales_velocity(&variant, window_days))
    }

    /// What the channel may sell of every variant and bundle: `{sku: units}`.
    fn channel_quantities<'py>(
        &self,
        py: Python<'py>,
        channel: Text<names::channel>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let channel = channel.as_str();
        let channel = cid(py, channel)?;
        let engine = &self.engine(py)?;
        let map = detached(py, || -> Result<_, EngineError> {
            Ok(engine.with_stock(|s| s.channel_quantities(&channel))??)
        })?;
        quantities_dict(py, &map)
    }

    /// The channel quantities that changed since the last `mark_pushed`.
    fn changed_since_last_push<'py>(
        &self,
        py: Python<'py>,
        channel: Text<names::channel>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let channel = channel.as_str();
        let channel = cid(py, channel)?;
        let engine = &self.engine(py)?;
        let map = detached(py, || -> Result<_, EngineError> {
            Ok(engine.with_stock(|s| s.changed_since_last_push(&channel))??)
        })?;
        quantities_dict(py, &map)
    }
}
