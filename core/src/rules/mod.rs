//! Automation rules that are tried before they go live.
//!
//! A shop writes rules as JSON (the schema is `docs/rules.schema.json`, generated from
//! [`types`] by [`json_schema`]): a **trigger** (`order_placed`, `payment_failed`,
//! `parcel_exception`, ...), **conditions** combined with `all` / `any` / `not` over
//! typed order facts ([`Field`]), and **actions** ([`Action`]: hold, release, route to a
//! location or exclude one, choose a carrier service, tag, set a priority,
//! auto-confirm, notify with a template, require a review), with a **priority** and
//! **stop_processing**.
//!
//! - [`RuleSet::load`] checks everything at once and reports every [`Problem`] with the
//!   rule's name and the JSON path: unknown fields, wrong types, impossible comparisons
//!   (a text with `>`), money compared across currencies, unknown triggers, locations,
//!   templates or carrier services, and actions illegal for their trigger.
//! - The engine runs the live set at each trigger through its normal commands and
//!   records on the order which rule did what and why (`rule.applied` events; ADR
//!   0010); a chain of rules triggering rules stops at a bound and says so.
//! - [`dry_run_history`] / [`dry_run_orders`] show what a set would do to past orders,
//!   with counts per rule and [`Conflict`]s, changing nothing.
//! - Shadow mode runs a candidate set beside the live one; [`shadow_report`] compares.
//!
//! # Error codes
//!
//! [`RulesError`]: `RULES_MALFORMED_JSON` (not JSON at all), `RULES_INVALID` (the
//! problems are in [`RulesError::problems`]). Each [`Problem`] has its own stable code,
//! listed in [`Problem::CODES`]: `RULES_UNKNOWN_FIELD`, `RULES_MISSING_FIELD`,
//! `RULES_WRONG_TYPE`, `RULES_BAD_VALUE`, `RULES_LIMIT`, `RULES_DUPLICATE_NAME`,
//! `RULES_UNKNOWN_TRIGGER`, `RULES_UNKNOWN_FIELD_NAME`, `RULES_UNKNOWN_OPERATOR`,
//! `RULES_IMPOSSIBLE_COMPARISON`, `RULES_CURRENCY_MISMATCH`, `RULES_UNKNOWN_LOCATION`,
//! `RULES_UNKNOWN_TEMPLATE`, `RULES_UNKNOWN_CARRIER`, `RULES_UNKNOWN_ACTION`,
//! `RULES_ACTION_NOT_ALLOWED`.
//!
//! ```
//! use ordersmith::rules::{RuleContext, RuleSet};
//!
//! let json = r#"{"rules": [{
//!     "name": "big-orders-first",
//!     "trigger": "order_confirmed",
//!     "when": {"field": "total", "op": ">=", "value": {"amount": "5000", "currency": "TRY"}},
//!     "actions": [{"type": "set_priority", "priority": 10}]
//! }]}"#;
//! let set = RuleSet::load(json, &RuleContext::default())?;
//! assert_eq!(set.rules().len(), 1);
//!
//! let bad = r#"{"rules": [{"name": "x", "trigger": "order_placed",
//!     "when": {"field": "country", "op": ">", "value": "TR"},
//!     "actions": [{"type": "route_to_location", "location": "ist-1"}],
//!     "priorty": 1}]}"#;
//! let err = RuleSet::load(bad, &RuleContext::default()).unwrap_err();
//! let messages: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
//! assert_eq!(messages, [
//!     "rule \"x\" at $.rules[0].priorty: unknown field \"priorty\"; expected one of: name, description, trigger, priority, when, actions, stop_processing",
//!     "rule \"x\" at $.rules[0].when.op: operator \">\" does not apply to country (a text field); use one of: ==, !=, in, not_in",
//! ]);
//! # Ok::<(), ordersmith::rules::RulesError>(())
//! ```

mod dry_run;
mod eval;
mod load;
mod record;
mod run;
mod shadow;
pub mod types;

use std::fmt;

use serde::Serialize;

pub use dry_run::{
    customer_order_counts, describe_changes, dry_run_history, dry_run_orders, DryFiring,
    DryRunOptions, DryRunReport, OrderDryRun,
};
pub use eval::{conflicts, explain, holds, test_holds, Conflict, ConflictKind, FactSources, Facts};
pub use load::{action_allowed, load, RuleContext, RULE_TEMPLATES};
pub use record::{ActionOutcome, Outcome, PlannedRule, RuleApplied, ShadowDifference};
pub use run::{
    command_for, run_chain, triggers_of, Apply, ChainEvent, StateMachineOnly,
    DEFAULT_MAX_CHAIN_DEPTH,
};
pub use shadow::{shadow_report, RuleShadowCounts, ShadowEntry, ShadowReport};
pub use types::{
    Action, Automation, AutomationBox, CarrierService, Condition, Field, FieldKind, Op, Route,
    Rule, Test, TimeOfDay, Trigger, Value,
};

/// Limits on a rule set: a limit on everything.
pub mod limits {
    /// Rules in one set.
    pub const MAX_RULES: usize = 1_000;
    /// Actions in one rule.
    pub const MAX_ACTIONS: usize = 32;
    /// Values in one list, conditions in one group.
    pub const MAX_VALUES: usize = 1_000;
    /// Nesting of `all` / `any` / `not`.
    pub const MAX_CONDITION_DEPTH: usize = 16;
    /// Characters in a rule's name.
    pub const MAX_NAME: usize = 100;
    /// Characters in a tag, SKU, carrier or service.
    pub const MAX_TEXT: usize = 128;
    /// Characters in a description, note or review reason.
    pub const MAX_LONG_TEXT: usize = 2_000;
    /// Size of the JSON text.
    pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;
}

/// One thing wrong with a rule: which rule, where in the JSON, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The rule's name (`#3` for the fourth rule when it has none; `(rule set)` for
    /// the document itself).
    pub rule: String,
    /// JSON path, e.g. `$.rules[0].when.all[1].op`.
    pub path: String,
    /// Stable code, one of [`Problem::CODES`].
    pub code: &'static str,
    /// What is wrong and what would be right.
    pub message: String,
}

impl Problem {
    /// Every code a problem can carry.
    pub const CODES: &'static [&'static str] = &[
        "RULES_UNKNOWN_FIELD",
        "RULES_MISSING_FIELD",
        "RULES_WRONG_TYPE",
        "RULES_BAD_VALUE",
        "RULES_LIMIT",
        "RULES_DUPLICATE_NAME",
        "RULES_UNKNOWN_TRIGGER",
        "RULES_UNKNOWN_FIELD_NAME",
        "RULES_UNKNOWN_OPERATOR",
        "RULES_IMPOSSIBLE_COMPARISON",
        "RULES_CURRENCY_MISMATCH",
        "RULES_UNKNOWN_LOCATION",
        "RULES_UNKNOWN_TEMPLATE",
        "RULES_UNKNOWN_CARRIER",
        "RULES_UNKNOWN_ACTION",
        "RULES_ACTION_NOT_ALLOWED",
    ];
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule \"{}\" at {}: {}",
            self.rule, self.path, self.message
        )
    }
}

/// Why a rule set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(untagged)]
pub enum RulesError {
    /// The text is not JSON.
    #[error("the rules are not valid JSON (line {line}, column {column}): {reason}")]
    MalformedJson {
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// serde_json's description.
        reason: String,
    },
    /// The JSON has problems; all of them are listed.
    #[error("{} problem(s) in the rules; the first: {}", problems.len(), problems.first().map(ToString::to_string).unwrap_or_default())]
    Invalid {
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

impl RulesError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &["RULES_MALFORMED_JSON", "RULES_INVALID"];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            RulesError::MalformedJson { .. } => "RULES_MALFORMED_JSON",
            RulesError::Invalid { .. } => "RULES_INVALID",
        }
    }

    /// The problems (empty for malformed JSON).
    pub fn problems(&self) -> &[Problem] {
        match self {
            RulesError::Invalid { problems } => problems,
            RulesError::MalformedJson { .. } => &[],
        }
    }
}

/// A set of automation rules (`{"rules": [...]}`), checked and indexed by trigger.
/// Built only by [`RuleSet::load`], so every rule in it passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Where editors find this schema (ignored by the loader).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    schema: Option<String>,
    /// The rules, in file order.
    rules: Vec<Rule>,
    /// Per trigger, indexes into `rules` in running order.
    #[serde(skip)]
    #[schemars(skip)]
    by_trigger: Vec<Vec<usize>>,
}

impl RuleSet {
    /// Loads and checks a rule set (see [`load`]).
    pub fn load(json: &str, ctx: &RuleContext) -> Result<RuleSet, RulesError> {
        load::load(json, ctx)
    }

    /// A set with no rules.
    pub fn empty() -> RuleSet {
        RuleSet::new_checked(Vec::new())
    }

    /// Checks `rules` as [`RuleSet::load`] does (they go through the same loader).
    pub fn from_rules(rules: Vec<Rule>, ctx: &RuleContext) -> Result<RuleSet, RulesError> {
        #[derive(Serialize)]
        struct Doc<'a> {
            rules: &'a [Rule],
        }
        let json = serde_json::to_string(&Doc { rules: &rules }).map_err(|e| {
            RulesError::MalformedJson {
                line: 0,
                column: 0,
                reason: e.to_string(),
            }
        })?;
        load::load(&json, ctx)
    }

    pub(crate) fn new_checked(rules: Vec<Rule>) -> RuleSet {
        let mut by_trigger = vec![Vec::new(); Trigger::ALL.len()];
        for (i, r) in rules.iter().enumerate() {
            if let Some(list) = by_trigger.get_mut(r.trigger.index()) {
                list.push(i);
            }
        }
        for list in &mut by_trigger {
            // Stable: equal priorities keep file order.
            list.sort_by_key(|&i| std::cmp::Reverse(rules.get(i).map_or(0, |r| r.priority)));
        }
        RuleSet {
            schema: None,
            rules,
            by_trigger,
        }
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this name.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// The rules for `trigger`, in running order.
    pub fn for_trigger(&self, trigger: Trigger) -> impl Iterator<Item = &Rule> {
        self.by_trigger
            .get(trigger.index())
            .into_iter()
            .flatten()
            .filter_map(|&i| self.rules.get(i))
    }

    /// Whether a rule tests `field` (the engine works out costly facts only then).
    pub fn uses_field(&self, field: Field) -> bool {
        fn uses(c: &Condition, field: Field) -> bool {
            match c {
                Condition::All { all } => all.iter().any(|c| uses(c, field)),
                Condition::Any { any } => any.iter().any(|c| uses(c, field)),
                Condition::Not { not } => uses(not, field),
                Condition::Test(t) => t.field == field,
            }
        }
        self.rules
            .iter()
            .any(|r| r.when.as_ref().is_some_and(|c| uses(c, field)))
    }

    /// The set as JSON, in the format [`RuleSet::load`] reads.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The JSON Schema of the rule format, generated from the Rust types (committed as
/// `docs/rules.schema.json`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RuleSet);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
