//! Automation rules for Node, mirroring the core's `rules` module and the engine's
//! `rules.rs`: load and validate a rule set (every problem, each with its rule and JSON
//! path), make it live or a shadow, dry-run it over past orders, compare a shadow set
//! with the live one, and fire the ship-by-at-risk rules. Glue only: every check and
//! every report is the core's.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::TimeDelta;
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::engine::{EngineError, RuleFacts};
use ordersmith::money::Currency;
use ordersmith::rules::{json_schema, Problem, RuleContext, RuleSet};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::convert::{from_json, opts, to_json, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{shielded, shielded_json, Failure, Job, Out};
use crate::listing::{query, WALK_PAGE_SIZE};

/// A checked set of automation rules. Build one with `loadRules(json)` or
/// `engine.loadRules(json)`; it cannot hold a rule that failed a check.
#[napi(js_name = "RuleSet")]
pub struct JsRuleSet {
    inner: Arc<RuleSet>,
}

#[napi]
impl JsRuleSet {
    /// The rules' names, in file order.
    #[napi(getter)]
    pub fn names(&self) -> Vec<String> {
        self.inner.rules().iter().map(|r| r.name.clone()).collect()
    }

    /// How many rules the set holds.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        u32::try_from(self.inner.rules().len()).unwrap_or(u32::MAX)
    }

    /// The set as JSON text, in the format `loadRules` reads.
    #[napi]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }
}

impl JsRuleSet {
    fn wrap(set: RuleSet) -> Self {
        JsRuleSet {
            inner: Arc::new(set),
        }
    }
}

/// `{locations?, currencies?, carrierServices?}`: what rules are checked against
/// without an engine (absent: not checked).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ContextOptions {
    locations: Option<Vec<String>>,
    currencies: Option<Vec<String>>,
    carrier_services: Option<Vec<String>>,
}

/// `{weightsGrams?, currencies?, carrierServices?, maxChainDepth?}`: the rule facts a
/// host sets on an engine; a key left out keeps the engine's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FactsOptions {
    weights_grams: Option<std::collections::BTreeMap<String, u32>>,
    currencies: Option<Vec<String>>,
    carrier_services: Option<Vec<String>>,
    max_chain_depth: Option<u32>,
}

/// Currency codes read as currencies (an unknown one is its money error).
fn currencies(list: Option<Vec<String>>) -> Out<Option<BTreeSet<Currency>>> {
    list.map(|list| {
        list.iter()
            .map(|code| Currency::parse(code).map_err(|e| Failure::core(&e)))
            .collect::<Out<BTreeSet<_>>>()
    })
    .transpose()
}

fn rule_context(value: Option<JsonArg>) -> Out<RuleContext> {
    let c: ContextOptions = opts(value, "context")?;
    let currencies = currencies(c.currencies)?;
    let carrier_services = c
        .carrier_services
        .map(|list| {
            list.iter()
                .map(|s| {
                    s.split_once('/')
                        .map(|(c, s)| (c.to_string(), s.to_string()))
                        .ok_or_else(|| {
                            Failure::input(
                                "context.carrierServices",
                                "expected \"carrier/service\" texts",
                            )
                        })
                })
                .collect::<Out<BTreeSet<_>>>()
        })
        .transpose()?;
    Ok(RuleContext {
        locations: c.locations.map(|l| l.into_iter().collect()),
        currencies,
        carrier_services,
    })
}

fn rules_error(e: ordersmith::rules::RulesError) -> Failure {
    Failure::from(EngineError::from(e))
}

/// Loads a rule set from JSON text. Throws `RulesError`: `RULES_INVALID` with every
/// problem in `details.problems` (`rule`, `path`, `code`, `message`), or
/// `RULES_MALFORMED_JSON`. Names are checked against `context` when given.
#[napi(
    ts_args_type = "json: string, context?: RuleCheckContext",
    ts_return_type = "RuleSet"
)]
pub fn load_rules(json: String, context: Option<JsonArg>) -> napi::Result<JsRuleSet> {
    shielded(|| {
        let ctx = rule_context(context)?;
        Ok(JsRuleSet::wrap(
            RuleSet::load(&json, &ctx).map_err(rules_error)?,
        ))
    })
}

/// Every problem of a rule set (`rule`, `path`, `code`, `message`); an empty array
/// when it loads. Malformed JSON throws `RulesError` (`RULES_MALFORMED_JSON`).
#[napi(
    ts_args_type = "json: string, context?: RuleCheckContext",
    ts_return_type = "RuleProblem[]"
)]
pub fn validate_rules(json: String, context: Option<JsonArg>) -> napi::Result<String> {
    shielded_json(|| {
        let ctx = rule_context(context)?;
        match RuleSet::load(&json, &ctx) {
            Ok(_) => to_json(&Vec::<Problem>::new()),
            Err(e) if e.code() == "RULES_INVALID" => to_json(&e.problems()),
            Err(e) => Err(rules_error(e)),
        }
    })
}

/// The JSON Schema of the rule format (generated from the core's types), as text.
#[napi]
pub fn rules_json_schema() -> String {
    json_schema()
}

#[napi]
impl JsEngine {
    /// What rules are checked against in this engine: its stock locations, and the
    /// currencies and carrier services it was configured with (`null`: not checked).
    #[napi(ts_return_type = "RuleCheckContext")]
    pub fn rule_context(&self) -> napi::Result<String> {
        self.read(|e| {
            let ctx = e.rule_context()?;
            Ok(json!({
                "locations": ctx.locations,
                "currencies": ctx.currencies.map(|c| c.iter().map(|c| c.to_string()).collect::<Vec<_>>()),
                "carrierServices": ctx.carrier_services.map(|s| s.iter().map(|(c, s)| format!("{c}/{s}")).collect::<Vec<_>>()),
            }))
        })
    }

    /// Loads a rule set checked against this engine's locations (see `ruleContext`).
    /// It is not made live: see `setRules`.
    #[napi(ts_return_type = "RuleSet")]
    pub fn load_rules(&self, json: String) -> napi::Result<JsRuleSet> {
        shielded(|| Ok(JsRuleSet::wrap(self.engine()?.load_rules(&json)?)))
    }

    /// Tells the engine what rules need to know that orders do not carry (see
    /// `RuleFacts`): each key given replaces the engine's, the others stay. Rule sets
    /// already live are not checked again. Bad values throw `ENGINE_INVALID_INPUT`
    /// (an unknown currency its money code) and change nothing. Every handle on this
    /// engine sees the change.
    #[napi(ts_args_type = "facts: RuleFacts")]
    pub fn set_rule_facts(&self, facts: JsonArg) -> napi::Result<()> {
        shielded(|| {
            let given: FactsOptions = from_json(facts, "facts")?;
            let facts = RuleFacts {
                weights_grams: given.weights_grams,
                currencies: currencies(given.currencies)?,
                carrier_services: given
                    .carrier_services
                    .map(|list| list.into_iter().collect()),
                max_chain_depth: given.max_chain_depth,
            };
            self.replace(|engine| Ok(engine.with_rule_facts(facts)?))
        })
    }

    /// Makes `live` the rules that act at each trigger (`null`: no automation) and
    /// `shadow` a candidate that only records where it would act differently. Every
    /// handle on this engine (a `ChannelIntake` too) sees the change.
    #[napi(ts_args_type = "live: RuleSet | null, shadow?: RuleSet | null")]
    pub fn set_rules(
        &self,
        live: Option<&JsRuleSet>,
        shadow: Option<&JsRuleSet>,
    ) -> napi::Result<()> {
        let live = live.map(|s| (*s.inner).clone());
        let shadow = shadow.map(|s| (*s.inner).clone());
        shielded(|| self.replace(|engine| Ok(engine.with_rules(live, shadow))))
    }

    /// What `rules` would do to the orders matching the filter, replaying each one's
    /// history, off the event loop: per order the rules that would fire (`because`,
    /// each action's outcome), the changes and the conflicts; counts per rule. Changes
    /// nothing.
    #[napi(
        ts_args_type = "rules: RuleSet, filter?: OrderFilter",
        ts_return_type = "Promise<DryRunReport>"
    )]
    pub fn dry_run_rules(&self, rules: &JsRuleSet, filter: Option<JsonArg>) -> AsyncTask<Job> {
        let set = rules.inner.clone();
        self.write(move |e| to_json(&e.dry_run_rules(&set, &query(filter, WALK_PAGE_SIZE)?)?))
    }

    /// Where the shadow rules would have acted differently from the live ones, over the
    /// orders matching the filter (off the event loop).
    #[napi(
        ts_args_type = "filter?: OrderFilter",
        ts_return_type = "Promise<ShadowReport>"
    )]
    pub fn shadow_report(&self, filter: Option<JsonArg>) -> AsyncTask<Job> {
        self.write(move |e| to_json(&e.shadow_report(&query(filter, WALK_PAGE_SIZE)?)?))
    }

    /// Fires `ship_by_at_risk` once on each open order whose ship-by is past or within
    /// `marginMinutes` of now; resolves with the ids of the orders rules fired on. The
    /// host calls it on a schedule, like the expiry sweep.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn run_ship_by_risk_rules(&self, margin_minutes: i64) -> AsyncTask<Job> {
        self.write(move |e| {
            let margin = TimeDelta::try_minutes(margin_minutes)
                .filter(|m| *m >= TimeDelta::zero())
                .ok_or_else(|| Failure::input("marginMinutes", "expected minutes ≥ 0"))?;
            let fired = e.run_ship_by_risk_rules(margin)?;
            Ok(Value::Array(
                fired
                    .into_iter()
                    .map(|id| Value::String(id.to_string()))
                    .collect(),
            ))
        })
    }
}
