//! Automation rules for Python, mirroring the core's `rules` module and
//! `engine/rules.rs`: load and validate a rule set (every problem, each with its rule
//! and JSON path), make it live or a shadow, dry-run it over past orders, and compare a
//! shadow set with the live one. Glue only: every check and every report is the core's.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use ordersmith::engine::{EngineError, RuleFacts};
use ordersmith::money::Currency;
use ordersmith::rules::{json_schema, RuleContext, RuleSet};
use pyo3::prelude::*;

use crate::args::{int_value, names, Counts, Text, TextList};
use crate::convert::{timedelta_arg, to_py};
use crate::engine::PyEngine;
use crate::errors::{core_error, detached, invalid_input};
use crate::listing::filter;

/// A checked set of automation rules. Build one with `load_rules` or
/// `Engine.load_rules`; it cannot hold a rule that failed a check.
#[pyclass(frozen, name = "RuleSet", module = "ordersmith._native")]
pub(crate) struct PyRuleSet {
    inner: Arc<RuleSet>,
}

#[pymethods]
impl PyRuleSet {
    /// The rules' names, in file order.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.inner.rules().iter().map(|r| r.name.clone()).collect()
    }

    /// The set as JSON, in the format `load_rules` reads.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    fn __len__(&self) -> usize {
        self.inner.rules().len()
    }

    fn __repr__(&self) -> String {
        format!("RuleSet(names={:?})", self.names())
    }
}

/// What rules are checked against, from the keyword arguments (`None`: not checked).
fn context(
    py: Python<'_>,
    locations: Option<TextList<names::locations>>,
    currencies: Option<TextList<names::currencies>>,
    carrier_services: Option<TextList<names::carrier_services>>,
) -> PyResult<RuleContext> {
    let currencies = currencies
        .map(|list| {
            list.0
                .iter()
                .map(|c| Currency::parse(c).map_err(|e| core_error(py, &e)))
                .collect::<PyResult<BTreeSet<_>>>()
        })
        .transpose()?;
    let carrier_services = carrier_services
        .map(|list| {
            list.0
                .iter()
                .map(|s| {
                    s.split_once('/')
                        .map(|(c, s)| (c.to_string(), s.to_string()))
                        .ok_or_else(|| {
                            invalid_input(
                                py,
                                "carrier_services",
                                "expected \"carrier/service\" texts",
                            )
                        })
                })
                .collect::<PyResult<BTreeSet<_>>>()
        })
        .transpose()?;
    Ok(RuleContext {
        locations: locations.map(|l| l.0.into_iter().collect()),
        currencies,
        carrier_services,
    })
}

/// Loads a rule set from JSON. Raises `RulesError` (code `RULES_INVALID`) listing every
/// problem in `details["problems"]` (`rule`, `path`, `code`, `message`), or
/// `RULES_MALFORMED_JSON`. Names are checked against `locations`, `currencies` and
/// `carrier_services` (`"carrier/service"`) when given.
#[pyfunction]
#[pyo3(signature = (json, *, locations=None, currencies=None, carrier_services=None))]
pub(crate) fn load_rules(
    py: Python<'_>,
    json: Text<names::json>,
    locations: Option<TextList<names::locations>>,
    currencies: Option<TextList<names::currencies>>,
    carrier_services: Option<TextList<names::carrier_services>>,
) -> PyResult<PyRuleSet> {
    let ctx = context(py, locations, currencies, carrier_services)?;
    let set = detached(py, || {
        RuleSet::load(&json.0, &ctx).map_err(EngineError::from)
    })?;
    Ok(PyRuleSet {
        inner: Arc::new(set),
    })
}

/// Every problem of a rule set as dicts (`rule`, `path`, `code`, `message`); an empty
/// list when it loads. Malformed JSON raises `RulesError` (`RULES_MALFORMED_JSON`).
#[pyfunction]
#[pyo3(signature = (json, *, locations=None, currencies=None, carrier_services=None))]
pub(crate) fn validate_rules<'py>(
    py: Python<'py>,
    json: Text<names::json>,
    locations: Option<TextList<names::locations>>,
    currencies: Option<TextList<names::currencies>>,
    carrier_services: Option<TextList<names::carrier_services>>,
) -> PyResult<Bound<'py, PyAny>> {
    let ctx = context(py, locations, currencies, carrier_services)?;
    match RuleSet::load(&json.0, &ctx) {
        Ok(_) => to_py(py, &Vec::<ordersmith::rules::Problem>::new()),
        Err(e) if e.code() == "RULES_INVALID" => to_py(py, &e.problems()),
        Err(e) => Err(core_error(py, &EngineError::from(e))),
    }
}

/// The JSON Schema of the rule format (generated from the core's types).
#[pyfunction]
pub(crate) fn rules_json_schema() -> String {
    json_schema()
}

#[pymethods]
impl PyEngine {
    /// Loads a rule set checked against this engine's locations (and the currencies
    /// and carrier services it was told about). It is not made live: see `set_rules`.
    fn load_rules(&self, py: Python<'_>, json: Text<names::json>) -> PyResult<PyRuleSet> {
        let engine = self.engine(py)?;
        let set = detached(py, || engine.load_rules(&json.0))?;
        Ok(PyRuleSet {
            inner: Arc::new(set),
        })
    }

    /// What rules are checked against in this engine, as the keyword arguments
    /// `load_rules` and `validate_rules` take: `locations` (its stock locations),
    /// `currencies` and `carrier_services` (`"carrier/service"`), each a sorted list, or
    /// `None` when the engine was not told them (names are then not checked).
    fn rule_context<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.engine(py)?;
        let ctx = detached(py, || engine.rule_context())?;
        let dict = pyo3::types::PyDict::new(py);
        dict.set_item(
            "locations",
            ctx.locations.map(|l| l.into_iter().collect::<Vec<_>>()),
        )?;
        dict.set_item(
            "currencies",
            ctx.currencies
                .map(|c| c.iter().map(ToString::to_string).collect::<Vec<_>>()),
        )?;
        dict.set_item(
            "carrier_services",
            ctx.carrier_services.map(|s| {
                s.iter()
                    .map(|(carrier, service)| format!("{carrier}/{service}"))
                    .collect::<Vec<_>>()
            }),
        )?;
        Ok(dict.into_any())
    }

    /// Tells the engine what rules need to know that orders do not carry: each SKU's
    /// weight in grams (`weights_grams`, read by the `weight_grams` field), the shop's
    /// `currencies` and `carrier_services` (`"carrier/service"`) that `load_rules`
    /// checks rule sets against, and `max_chain_depth` (rounds of rules triggering
    /// rules per command, 1 to 64). Each argument given replaces what the engine had;
    /// the others stay. Rule sets already live are not checked again. Bad values raise
    /// `EngineInputError` (a bad currency `MoneyInputError`) and change nothing.
    #[pyo3(signature = (*, weights_grams=None, currencies=None, carrier_services=None, max_chain_depth=None))]
    fn set_rule_facts(
        &self,
        py: Python<'_>,
        weights_grams: Option<Counts<u32, names::weights_grams>>,
        currencies: Option<TextList<names::currencies>>,
        carrier_services: Option<TextList<names::carrier_services>>,
        max_chain_depth: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let facts = RuleFacts {
            weights_grams: weights_grams.map(|w| w.0),
            currencies: currencies
                .map(|list| {
                    list.0
                        .iter()
                        .map(|c| Currency::parse(c).map_err(|e| core_error(py, &e)))
                        .collect::<PyResult<_>>()
                })
                .transpose()?,
            carrier_services: carrier_services.map(|list| list.0.into_iter().collect()),
            max_chain_depth: max_chain_depth
                .map(|d| int_value::<u32>(d, "max_chain_depth"))
                .transpose()?,
        };
        let engine = self.engine(py)?;
        let engine = engine
            .with_rule_facts(facts)
            .map_err(|e| core_error(py, &e))?;
        self.replace_engine(py, engine)
    }

    /// Makes `live` the rules that act at each trigger (`None`: no automation) and
    /// `shadow` a candidate that only records where it would act differently.
    #[pyo3(signature = (live, shadow=None))]
    fn set_rules(
        &self,
        py: Python<'_>,
        live: Option<PyRef<'_, PyRuleSet>>,
        shadow: Option<PyRef<'_, PyRuleSet>>,
    ) -> PyResult<()> {
        let engine = self.engine(py)?;
        let live = live.map(|s| (*s.inner).clone());
        let shadow = shadow.map(|s| (*s.inner).clone());
        self.replace_engine(py, engine.with_rules(live, shadow))
    }

    /// What `rules` would do to the orders matching the filter, replaying each one's
    /// history: per order the rules that would fire (`because`, each action's
    /// outcome), the changes, the conflicts; counts per rule. Changes nothing.
    #[pyo3(signature = (rules, *, status=None, channel=None, placed_from=None, placed_to=None))]
    fn dry_run_rules<'py>(
        &self,
        py: Python<'py>,
        rules: PyRef<'_, PyRuleSet>,
        status: Option<Text<names::status>>,
        channel: Option<Text<names::channel>>,
        placed_from: Option<&Bound<'_, PyAny>>,
        placed_to: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = filter(py, status, channel, placed_from, placed_to)?;
        let engine = self.engine(py)?;
        let set = rules.inner.clone();
        let report = detached(py, || engine.dry_run_rules(&set, &query))?;
        to_py(py, &report)
    }

    /// Where the shadow rules would have acted differently from the live ones, over
    /// the orders matching the filter.
    #[pyo3(signature = (*, status=None, channel=None, placed_from=None, placed_to=None))]
    fn shadow_report<'py>(
        &self,
        py: Python<'py>,
        status: Option<Text<names::status>>,
        channel: Option<Text<names::channel>>,
        placed_from: Option<&Bound<'_, PyAny>>,
        placed_to: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = filter(py, status, channel, placed_from, placed_to)?;
        let engine = self.engine(py)?;
        let report = detached(py, || engine.shadow_report(&query))?;
        to_py(py, &report)
    }

    /// Fires `ship_by_at_risk` once on each open order whose ship-by is past or within
    /// `margin`; the ids of the orders rules fired on.
    fn run_ship_by_risk_rules(
        &self,
        py: Python<'_>,
        margin: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<String>> {
        let margin: Duration = timedelta_arg(margin, "margin", 30)?;
        let engine = self.engine(py)?;
        let ids = detached(py, || engine.run_ship_by_risk_rules(margin))?;
        Ok(ids.into_iter().map(|id| id.to_string()).collect())
    }
}
