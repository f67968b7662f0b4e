//! Stock writes on `Engine`: each method builds one core `StockCommand` and runs it
//! through `Engine::stock` (or `Engine::stock_batch` for bulk calls), GIL released.
//! Writes return the events they produced (movements, alerts, shortfalls) as dicts.

use std::collections::BTreeMap;

use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::stock::{
    BundleComponent, ChannelRule, Location, LocationKind, StockCommand, StockEvent, StockOutcome,
    StockPolicy,
};
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::Value;

use crate::args::{names, Counts, Int, Text, TextList};
use crate::convert::{enum_arg, id_arg, json_to_py};
use crate::engine::PyEngine;
use crate::errors::{detached, invalid_input};

pub(crate) fn vid(py: Python<'_>, s: &str) -> PyResult<VariantId> {
    id_arg(py, s, VariantId::parse)
}

pub(crate) fn lid(py: Python<'_>, s: &str) -> PyResult<LocationId> {
    id_arg(py, s, LocationId::parse)
}

pub(crate) fn cid(py: Python<'_>, s: &str) -> PyResult<ChannelId> {
    id_arg(py, s, ChannelId::parse)
}

/// A stock event as a flat dict: a movement's `kind` becomes its name, and the kind's
/// own fields (reservation, direction, ...) sit next to it.
pub(crate) fn flat_movement(mut json: Value) -> Value {
    if let Value::Object(map) = &mut json {
        if let Some(Value::Object(kind)) = map.remove("kind") {
            let mut kind = kind;
            let name = kind.remove("type").unwrap_or(Value::Null);
            map.insert("kind".into(), name);
            for (k, v) in kind {
                map.entry(k).or_insert(v);
            }
        }
    }
    json
}

pub(crate) fn events_to_py<'py>(
    py: Python<'py>,
    events: &[StockEvent],
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for e in events {
        let json = serde_json::to_value(e).unwrap_or(Value::Null);
        out.append(json_to_py(py, &flat_movement(json))?)?;
    }
    Ok(out)
}

/// A policy from its name (`"deny"`, `"backorder"`, `"preorder"`) and backorder limit.
fn policy(py: Python<'_>, name: &str, backorder_limit: Option<u32>) -> PyResult<StockPolicy> {
    match (name, backorder_limit) {
        ("backorder", limit) => Ok(StockPolicy::Backorder { limit }),
        ("deny", None) => Ok(StockPolicy::Deny),
        ("preorder" | "pre_order", None) => Ok(StockPolicy::PreOrder),
        ("deny" | "preorder" | "pre_order", Some(_)) => Err(invalid_input(
            py,
            "backorder_limit",
            "only a \"backorder\" policy takes a limit",
        )),
        _ => Err(invalid_input(
            py,
            "policy",
            "expected \"deny\", \"backorder\" or \"preorder\"",
        )),
    }
}

impl PyEngine {
    /// Runs one stock command, GIL released, and returns its events as dicts.
    pub(crate) fn run_stock<'py>(
        &self,
        py: Python<'py>,
        command: StockCommand,
    ) -> PyResult<Bound<'py, PyList>> {
        let outcome = self.stock_outcome(py, command)?;
        events_to_py(py, &outcome.events)
    }

    pub(crate) fn stock_outcome(
        &self,
        py: Python<'_>,
        command: StockCommand,
    ) -> PyResult<StockOutcome> {
        let engine = &self.engine(py)?;
        detached(py, || engine.stock(command))
    }
}

pub(crate) type Events<'py> = PyResult<Bound<'py, PyList>>;

#[pymethods]
impl PyEngine {
    /// Adds a location (`kind`: `"warehouse"`, `"store"` or `"dropship"`).
    #[pyo3(signature = (id, name, priority, region, kind=None), text_signature = "($self, id, name, priority, region, kind=\"warehouse\")")]
    fn add_location<'py>(
        &self,
        py: Python<'py>,
        id: Text<names::id>,
        name: Text<names::name>,
        priority: Int<u32, names::priority>,
        region: Text<names::region>,
        kind: Option<Text<names::kind>>,
    ) -> Events<'py> {
        let id = id.as_str();
        let name = name.0;
        let priority = priority.0;
        let region = region.0;
        let kind = kind.map(|v| v.0);
        let kind = kind.as_deref().unwrap_or("warehouse");
        let kind: LocationKind = enum_arg(py, "kind", kind)?;
        let location = Location::new(lid(py, id)?, name, priority, region, kind);
        self.run_stock(py, StockCommand::AddLocation { location })
    }

    /// Registers a variant with its policy (`"deny"`, `"backorder"`, `"preorder"`).
    #[pyo3(signature = (sku, policy=None, backorder_limit=None), text_signature = "($self, sku, policy=\"deny\", backorder_limit=None)")]
    fn register_variant<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        policy: Option<Text<names::policy>>,
        backorder_limit: Option<Int<u32, names::backorder_limit>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let policy = policy.map(|v| v.0);
        let policy = policy.as_deref().unwrap_or("deny");
        let backorder_limit = backorder_limit.map(|v| v.0);
        let policy = self::policy(py, policy, backorder_limit)?;
        self.run_stock(
            py,
            StockCommand::RegisterVariant {
                variant: vid(py, sku)?,
                policy,
            },
        )
    }

    /// Changes a variant's policy.
    #[pyo3(signature = (sku, policy, backorder_limit=None))]
    fn set_policy<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        policy: Text<names::policy>,
        backorder_limit: Option<Int<u32, names::backorder_limit>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let policy = policy.as_str();
        let backorder_limit = backorder_limit.map(|v| v.0);
        let policy = self::policy(py, policy, backorder_limit)?;
        self.run_stock(
            py,
            StockCommand::SetPolicy {
                variant: vid(py, sku)?,
                policy,
            },
        )
    }

    /// Sets the units held back from sale at a location.
    fn set_safety_stock<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        units: Int<u32, names::units>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let location = location.as_str();
        let units = units.0;
        self.run_stock(
            py,
            StockCommand::SetSafetyStock {
                variant: vid(py, sku)?,
                location: lid(py, location)?,
                units,
            },
        )
    }

    /// Sets (or clears, with `None`) the low-stock alert threshold of a variant.
    fn set_low_stock_threshold<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        threshold: Option<Int<u32, names::threshold>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let threshold = threshold.map(|v| v.0);
        self.run_stock(
            py,
            StockCommand::SetLowStockThreshold {
                variant: vid(py, sku)?,
                threshold,
            },
        )
    }

    /// Defines a bundle from `{component_sku: units_per_bundle}`.
    fn define_bundle<'py>(
        &self,
        py: Python<'py>,
        bundle: Text<names::bundle>,
        components: Counts<u32, names::components>,
    ) -> Events<'py> {
        let bundle = bundle.as_str();
        let components = components.0;
        let components = components
            .into_iter()
            .map(|(v, quantity)| {
                Ok(BundleComponent {
                    variant: vid(py, &v)?,
                    quantity,
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        self.run_stock(
            py,
            StockCommand::DefineBundle {
                bundle: vid(py, bundle)?,
                components,
            },
        )
    }

    /// Sets what a channel may sell: a share of the pool, minus a buffer, from some
    /// locations (all when `None`).
    #[pyo3(signature = (channel, share_percent=None, buffer=None, locations=None), text_signature = "($self, channel, share_percent=100, buffer=0, locations=None)")]
    fn set_channel_rule<'py>(
        &self,
        py: Python<'py>,
        channel: Text<names::channel>,
        share_percent: Option<Int<u8, names::share_percent>>,
        buffer: Option<Int<u32, names::buffer>>,
        locations: Option<TextList<names::locations>>,
    ) -> Events<'py> {
        let channel = channel.as_str();
        let share_percent = share_percent.map_or(100, |v| v.0);
        let buffer = buffer.map_or(0, |v| v.0);
        let locations = locations.map(|v| v.0);
        let locations = locations
            .map(|ls| ls.iter().map(|l| lid(py, l)).collect::<PyResult<Vec<_>>>())
            .transpose()?;
        let rule = ChannelRule {
            share_percent,
            buffer,
            locations,
        };
        self.run_stock(
            py,
            StockCommand::SetChannelRule {
                channel: cid(py, channel)?,
                rule,
            },
        )
    }

    /// Records that the channel was told these quantities `{sku: units}`.
    fn mark_pushed<'py>(
        &self,
        py: Python<'py>,
        channel: Text<names::channel>,
        quantities: Counts<u64, names::quantities>,
    ) -> Events<'py> {
        let channel = channel.as_str();
        let quantities = quantities.0;
        let quantities = quantities
            .into_iter()
            .map(|(v, q)| Ok((vid(py, &v)?, q)))
            .collect::<PyResult<BTreeMap<_, _>>>()?;
        self.run_stock(
            py,
            StockCommand::MarkPushed {
                channel: cid(py, channel)?,
                quantities,
            },
        )
    }
}
