//! Automation rules for Kotlin and Swift, mirroring the core's `rules` module: load a
//! rule set (every problem named with its rule and JSON path) and dry-run it over the
//! orders on this device, make it live or shadow, fire the ship-by-at-risk rules on a
//! schedule, and read the names a rule may use. Glue only: every check and every
//! report is the core's.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use ordersmith::engine::{EngineError, RuleFacts};
use ordersmith::ports::OrderQuery;
use ordersmith::rules::{RuleContext as CoreRuleContext, RuleSet as CoreRuleSet, RulesError};

use crate::convert::core_minutes;
use crate::engine::Engine;
use crate::errors::OrdersmithError;

/// One thing wrong with a rule.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RuleProblem {
    /// The rule's name (`#3` when it has none).
    pub rule: String,
    /// JSON path, e.g. `$.rules[0].when.op`.
    pub path: String,
    /// Stable code, e.g. `RULES_IMPOSSIBLE_COMPARISON`.
    pub code: String,
    /// What is wrong and what would be right.
    pub message: String,
}

/// A checked rule set.
#[derive(uniffi::Object)]
pub struct RuleSet {
    inner: CoreRuleSet,
}

#[uniffi::export]
impl RuleSet {
    /// The rules' names, in file order.
    pub fn names(&self) -> Vec<String> {
        self.inner.rules().iter().map(|r| r.name.clone()).collect()
    }

    /// The set as JSON, in the format `loadRules` reads.
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }
}

/// What one order's dry run found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderDryRun {
    /// The order.
    pub order_id: String,
    /// The rules that would fire, in order (a rule firing at two triggers twice).
    pub rules: Vec<String>,
    /// What would change, in words (`status pending -> on_hold`).
    pub changes: Vec<String>,
    /// Conflicts between rules, in words (`routes_differ: a vs b (line L1 ...)`).
    pub conflicts: Vec<String>,
}

/// What a rule set would do to past orders, changing nothing.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DryRunReport {
    /// Orders looked at.
    pub orders_evaluated: u64,
    /// Times each rule would fire.
    pub counts: HashMap<String, u64>,
    /// Conflicts found over all orders.
    pub conflicts: u64,
    /// The orders some rule would fire on.
    pub orders: Vec<OrderDryRun>,
    /// The whole report as JSON (each firing's reason and each action's outcome).
    pub report_json: String,
}

/// The names this engine checks a rule set against (`Engine.loadRules`), so a rule
/// editor can offer them; `None` where the engine does not check that kind of name.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RuleContext {
    /// Stock locations that exist.
    pub locations: Option<Vec<String>>,
    /// Currencies the shop's orders come in.
    pub currencies: Option<Vec<String>>,
    /// Carrier services the shop can buy, as `carrier/service`.
    pub carrier_services: Option<Vec<String>>,
}

fn loaded(result: Result<CoreRuleSet, RulesError>) -> Result<Arc<RuleSet>, OrdersmithError> {
    result
        .map(|inner| Arc::new(RuleSet { inner }))
        .map_err(|e| EngineError::from(e).into())
}

/// Loads a rule set without a shop to check names against (locations, currencies and
/// carrier services are not checked; `Engine.loadRules` checks them).
#[uniffi::export]
pub fn load_rules(json: String) -> Result<Arc<RuleSet>, OrdersmithError> {
    loaded(CoreRuleSet::load(&json, &CoreRuleContext::default()))
}

/// The JSON Schema of the rule format (generated from the core's types), for a rule
/// editor's validation and completion.
#[uniffi::export]
pub fn rules_json_schema() -> String {
    ordersmith::rules::json_schema()
}

/// Every problem of a rule set; empty when it loads. Malformed JSON is an error
/// (`RULES_MALFORMED_JSON`).
#[uniffi::export]
pub fn validate_rules(json: String) -> Result<Vec<RuleProblem>, OrdersmithError> {
    match CoreRuleSet::load(&json, &CoreRuleContext::default()) {
        Ok(_) => Ok(Vec::new()),
        Err(e @ RulesError::MalformedJson { .. }) => Err(EngineError::from(e).into()),
        Err(e) => Ok(e
            .problems()
            .iter()
            .map(|p| RuleProblem {
                rule: p.rule.clone(),
                path: p.path.clone(),
                code: p.code.to_string(),
                message: p.message.clone(),
            })
            .collect()),
    }
}

#[uniffi::export]
impl Engine {
    /// The same engine (same file, same clock) with `live` running at every trigger
    /// and `shadow` recording only where it would act differently; `None` turns either
    /// off. Use the returned engine from then on, as Rust's `Engine::with_rules` does.
    pub fn with_rules(
        &self,
        live: Option<Arc<RuleSet>>,
        shadow: Option<Arc<RuleSet>>,
    ) -> Arc<Engine> {
        Arc::new(self.with_core(|e| {
            e.with_rules(
                live.map(|s| s.inner.clone()),
                shadow.map(|s| s.inner.clone()),
            )
        }))
    }

    /// The same engine with what rules need to know that orders do not carry: each
    /// SKU's weight in grams (read by the `weight_grams` field), the shop's currencies
    /// and carrier services (`carrier/service`) that `load_rules` checks rule sets
    /// against, and the rounds of rules triggering rules per command (1 to 64). Each
    /// argument given replaces this engine's; `None` keeps it. Use the returned engine
    /// from then on. Bad values are `InvalidInput` (an unknown currency a money
    /// error); this engine is unchanged either way.
    #[uniffi::method(default(
        weights_grams = None,
        currencies = None,
        carrier_services = None,
        max_chain_depth = None
    ))]
    pub fn with_rule_facts(
        &self,
        weights_grams: Option<HashMap<String, u32>>,
        currencies: Option<Vec<String>>,
        carrier_services: Option<Vec<String>>,
        max_chain_depth: Option<u32>,
    ) -> Result<Arc<Engine>, OrdersmithError> {
        let currencies = currencies
            .map(|list| {
                list.iter()
                    .map(|c| ordersmith::money::Currency::parse(c))
                    .collect::<Result<BTreeSet<_>, _>>()
            })
            .transpose()?;
        let facts = RuleFacts {
            weights_grams: weights_grams.map(|w| w.into_iter().collect()),
            currencies,
            carrier_services: carrier_services.map(|list| list.into_iter().collect()),
            max_chain_depth,
        };
        let engine = self.try_with_core(|e| e.with_rule_facts(facts))?;
        Ok(Arc::new(engine))
    }

    /// Where the shadow rule set would have acted differently from the live one, on
    /// every order of this device, as the core's JSON report (`orders_compared`,
    /// `orders_differing`, `per_rule`, `differences`).
    pub fn shadow_report_json(&self) -> Result<String, OrdersmithError> {
        let report = self.call(|e| e.shadow_report(&OrderQuery::default()))?;
        serde_json::to_string(&report)
            .map_err(|_| OrdersmithError::invalid("report", "could not be serialised"))
    }

    /// The names `load_rules` checks a rule set against on this engine.
    pub fn rule_context(&self) -> Result<RuleContext, OrdersmithError> {
        let ctx = self.call(|e| e.rule_context())?;
        Ok(RuleContext {
            locations: ctx.locations.map(|l| l.into_iter().collect()),
            currencies: ctx
                .currencies
                .map(|c| c.iter().map(ToString::to_string).collect()),
            carrier_services: ctx.carrier_services.map(|s| {
                s.iter()
                    .map(|(carrier, service)| format!("{carrier}/{service}"))
                    .collect()
            }),
        })
    }

    /// Fires the live rules' `ship_by_at_risk` trigger on every open order whose
    /// ship-by is past or within `margin_minutes` of now (1 to 43200), once per order;
    /// returns the orders a rule fired on. Nothing happens without a shipping calendar
    /// or such rules. The host calls it on a schedule, like the expiry sweep.
    pub fn run_ship_by_risk_rules(
        &self,
        margin_minutes: u32,
    ) -> Result<Vec<String>, OrdersmithError> {
        let margin = core_minutes("margin_minutes", margin_minutes)?;
        let fired = self.call(|e| e.run_ship_by_risk_rules(margin))?;
        Ok(fired.iter().map(ToString::to_string).collect())
    }

    /// Loads a rule set checked against this engine's locations.
    pub fn load_rules(&self, json: String) -> Result<Arc<RuleSet>, OrdersmithError> {
        let set = self.call(|e| e.load_rules(&json))?;
        Ok(Arc::new(RuleSet { inner: set }))
    }

    /// What `rules` would do to every order on this device, replaying each history.
    /// Changes nothing.
    pub fn dry_run_rules(&self, rules: Arc<RuleSet>) -> Result<DryRunReport, OrdersmithError> {
        let report = self.call(|e| e.dry_run_rules(&rules.inner, &OrderQuery::default()))?;
        let report_json = serde_json::to_string(&report)
            .map_err(|_| OrdersmithError::invalid("report", "could not be serialised"))?;
        Ok(DryRunReport {
            orders_evaluated: report.orders_evaluated,
            counts: report.counts.into_iter().collect(),
            conflicts: report.conflicts,
            orders: report
                .orders
                .into_iter()
                .map(|o| OrderDryRun {
                    order_id: o.order_id.to_string(),
                    rules: o.firings.into_iter().map(|f| f.rule).collect(),
                    changes: o.changes,
                    conflicts: o
                        .conflicts
                        .into_iter()
                        .map(|c| {
                            let kind = serde_json::to_value(c.kind)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default();
                            let [first, second] = &c.rules;
                            format!("{kind}: {first} vs {second} ({})", c.detail)
                        })
                        .collect(),
                })
                .collect(),
            report_json,
        })
    }
}
