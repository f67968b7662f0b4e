//! Automation rules on the engine: the live set runs at each trigger inside the same
//! write as the command that raised it; a shadow set is compared beside it; dry runs
//! and shadow reports read the store only. See [`crate::rules`] and ADR 0010.
//!
//! Actions go through the engine's normal paths: a hold, a release or a confirmation is
//! the order command (so the state machine refuses what it always refuses, and a
//! confirmation reserves through the ledger with the engine's sourcing, which honours
//! the routes rules set); a notification is a `notification.requested` event built by
//! the notification model with its dedupe key. Every event a rule causes is recorded
//! with the actor `rule:<name>`, after a `rule.applied` event saying why.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Duration;
use chrono_tz::Tz;

use crate::ids::OrderId;
use crate::order::{decide, Actor, Order, OrderCommand, OrderEvent, OrderEventRecord};
use crate::ports::{ChangeSet, OrderQuery};
use crate::rules::{
    dry_run_history, run_chain, shadow_report, triggers_of, Apply, ChainEvent, DryRunOptions,
    DryRunReport, FactSources, Field, Outcome, Rule, RuleContext, RuleSet, ShadowReport, Trigger,
    DEFAULT_MAX_CHAIN_DEPTH,
};
use crate::sourcing::{plan, SourcingLine, SourcingPlan, SourcingStrategy, Unfilled};
use crate::stock::{AlertKind, Location, StockEvent, StockLedger};

use super::{CommandContext, Engine, EngineConfig, EngineError, Tx, Written};

/// The engine's rule sets and what rules need to know that orders do not carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesConfig {
    /// The rules that act; `None`: no automation.
    pub live: Option<Arc<RuleSet>>,
    /// A candidate set that only records where it would act differently.
    pub shadow: Option<Arc<RuleSet>>,
    /// Bound on rules triggering rules (rounds of triggers per command).
    pub max_chain_depth: u32,
    /// Weight in grams per SKU, for `weight_grams` (the engine has no catalog).
    pub weights_grams: BTreeMap<String, u32>,
    /// Currencies the shop's orders come in; empty: not checked when loading.
    pub currencies: BTreeSet<crate::money::Currency>,
    /// Carrier services the shop can buy, as (carrier, service); empty: not checked.
    pub carrier_services: BTreeSet<(String, String)>,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            live: None,
            shadow: None,
            max_chain_depth: DEFAULT_MAX_CHAIN_DEPTH,
            weights_grams: BTreeMap::new(),
            currencies: BTreeSet::new(),
            carrier_services: BTreeSet::new(),
        }
    }
}

/// What rules need to know that orders do not carry, in the form a host passes it
/// after the engine is built (the bindings take it as a dict, an object or a record;
/// JSON reads it with unknown fields refused): each SKU's weight for `weight_grams`,
/// the shop's currencies and carrier services (`carrier/service`) that
/// [`Engine::load_rules`] checks rule sets against, and the bound on rules triggering
/// rules. An empty set leaves that check off, as in [`RulesConfig`].
///
/// ```
/// use ordersmith::engine::{Engine, RuleFacts};
/// let facts: RuleFacts = serde_json::from_str(
///     r#"{"weights_grams": {"SOFA-3S": 45000}, "currencies": ["TRY"], "carrier_services": ["yurtici/standard"]}"#,
/// )?;
/// let engine = Engine::in_memory().with_rule_facts(facts)?;
/// let context = engine.rule_context()?;
/// assert_eq!(context.carrier_services.map(|s| s.len()), Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFacts {
    /// Weight in grams per SKU (the variant id), for the `weight_grams` field; `None`
    /// keeps the engine's.
    #[serde(default)]
    pub weights_grams: Option<BTreeMap<String, u32>>,
    /// Currencies the shop's orders come in (empty: rule sets are not checked for
    /// them); `None` keeps the engine's.
    #[serde(default)]
    pub currencies: Option<BTreeSet<crate::money::Currency>>,
    /// Carrier services the shop can buy, each `carrier/service` (empty: not checked);
    /// `None` keeps the engine's.
    #[serde(default)]
    pub carrier_services: Option<BTreeSet<String>>,
    /// Rounds of rules triggering rules per command (1 to [`MAX_CHAIN_DEPTH`]); `None`
    /// keeps the engine's.
    #[serde(default)]
    pub max_chain_depth: Option<u32>,
}

/// The most rounds of rules triggering rules an engine may allow per command.
pub const MAX_CHAIN_DEPTH: u32 = 64;

/// The most SKUs [`RuleFacts`] may weigh (a shop's catalog, not a warehouse's).
pub const MAX_WEIGHED_SKUS: usize = 1_000_000;

fn shop_tz(config: &EngineConfig) -> Tz {
    config
        .shipping_calendar
        .as_ref()
        .map_or(chrono_tz::UTC, crate::fulfilment::ShippingCalendar::tz)
}

/// Carries command actions out through the engine's own paths, inside the write.
struct EngineApply<'a, 'b> {
    engine: &'a Engine,
    tx: &'a mut Tx<'b>,
    /// A stock effect failed after the ledger changed: the whole write must fail.
    fatal: Option<EngineError>,
}

impl Apply for EngineApply<'_, '_> {
    fn command(
        &mut self,
        order: &mut Order,
        _rule: &Rule,
        command: OrderCommand,
    ) -> Result<Vec<OrderEvent>, (String, String)> {
        let refuse = |e: &EngineError| (e.code().to_string(), e.to_string());
        let before = order.clone();
        let mut events =
            decide(&before, &command).map_err(|e| (e.code().to_string(), e.to_string()))?;
        let mut after = before.clone();
        for e in &events {
            after.apply(e);
        }
        let written = self.tx.entries.len();
        match super::allocation::stock_effects(
            &self.engine.config,
            self.tx,
            &before,
            &after,
            &command,
        ) {
            Ok(stock) => {
                for e in &stock {
                    after.apply(e);
                }
                events.extend(stock);
            }
            Err(e) => {
                let refused = refuse(&e);
                if self.tx.entries.len() != written {
                    // The ledger moved before the failure: only failing the whole
                    // write (which rebuilds the ledger) keeps memory and store equal.
                    self.fatal = Some(e);
                }
                return Err(refused);
            }
        }
        let synced = super::fulfilment::sync_fulfilments(&after);
        for e in &synced {
            after.apply(e);
        }
        events.extend(synced);
        *order = after;
        Ok(events)
    }

    fn notify(
        &mut self,
        order: &mut Order,
        rule: &Rule,
        template: crate::notify::TemplateKey,
    ) -> (Outcome, Vec<OrderEvent>) {
        let events =
            super::notifications::rule_requests(&self.engine.config, order, template, &rule.name);
        for e in &events {
            order.apply(e);
        }
        let outcome = if events.is_empty() {
            Outcome::Unchanged
        } else {
            Outcome::Applied
        };
        (outcome, events)
    }
}

/// Other orders the customer of `order` placed at or before its time (by customer id,
/// else e-mail), when it has a customer: asked of the store (see
/// [`crate::ports::Store::customer_order_count`]), and only when a rule tests
/// `customer_order_count`.
fn customer_order_count(engine: &Engine, order: &Order) -> Result<Option<u64>, EngineError> {
    let Some(key) = order.customer_key() else {
        return Ok(None);
    };
    Ok(Some(engine.store.customer_order_count(
        &key,
        order.placed_at,
        &order.id,
    )?))
}

/// Low-stock alerts among the write's kept stock events from `from` on, for a variant
/// of `order`.
fn stock_low(tx: &Tx<'_>, from: usize, order: &Order) -> bool {
    tx.events.kept.iter().skip(from).any(|(_, e)| match e {
        StockEvent::Alert(a) if a.kind == AlertKind::LowStock => {
            order.lines.iter().any(|l| l.variant == a.variant)
        }
        _ => false,
    })
}

/// Runs the live (and shadow) rules for the triggers `events` raise on `order` (which
/// has them applied), plus `extra` triggers, inside the write. Returns the events
/// rules caused, applied to `order`, each with the rule that caused it.
pub(crate) fn run_for<E: std::borrow::Borrow<OrderEvent>>(
    engine: &Engine,
    tx: &mut Tx<'_>,
    order: &mut Order,
    events: &[E],
    extra: &[Trigger],
) -> Result<Vec<ChainEvent>, EngineError> {
    let config = &engine.config.rules;
    let Some(live) = config.live.clone() else {
        return Ok(Vec::new());
    };
    let mut triggers = triggers_of(events);
    for t in extra {
        if !triggers.contains(t) {
            triggers.push(*t);
        }
    }
    if stock_low(tx, 0, order) && !triggers.contains(&Trigger::StockLow) {
        triggers.push(Trigger::StockLow);
    }
    if triggers.is_empty() {
        return Ok(Vec::new());
    }
    let customer_order_count = if live.uses_field(Field::CustomerOrderCount)
        || config
            .shadow
            .as_ref()
            .is_some_and(|s| s.uses_field(Field::CustomerOrderCount))
    {
        customer_order_count(engine, order)?
    } else {
        None
    };
    let sources = FactSources {
        now: tx.now,
        tz: shop_tz(&engine.config),
        weights_grams: (!config.weights_grams.is_empty()).then_some(&config.weights_grams),
        customer_order_count,
    };
    let alerts_before = tx.events.kept.len();
    let mut applier = EngineApply {
        engine,
        tx,
        fatal: None,
    };
    let mut out = run_chain(
        &live,
        config.shadow.as_deref(),
        order,
        triggers.clone(),
        &sources,
        config.max_chain_depth,
        &mut applier,
    );
    // A rule's confirmation can take a variant low: stock_low then runs once more.
    if !triggers.contains(&Trigger::StockLow) && stock_low(applier.tx, alerts_before, order) {
        out.extend(run_chain(
            &live,
            config.shadow.as_deref(),
            order,
            vec![Trigger::StockLow],
            &sources,
            config.max_chain_depth,
            &mut applier,
        ));
    }
    match applier.fatal {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The sourcing plan for `requests` of `order` under the routes and exclusions rules
/// set on it: lines a route covers reserve only at its location, no line at an
/// excluded one; a line whose only allowed location cannot hold it stays unfilled
/// (the engine's shortage policy then applies), never silently elsewhere.
pub(crate) fn plan_routed(
    order: &Order,
    requests: &[SourcingLine],
    locations: &[&Location],
    ledger: &StockLedger,
    strategy: &SourcingStrategy,
    allow_split: bool,
) -> Result<SourcingPlan, EngineError> {
    let automation = &order.automation;
    let allowed: Vec<&Location> = locations
        .iter()
        .filter(|l| !automation.excluded_locations.contains(&l.id))
        .copied()
        .collect();
    let mut groups: Vec<(Option<crate::ids::LocationId>, Vec<SourcingLine>)> = Vec::new();
    for r in requests {
        let route = automation.route_for(r.variant.as_str()).cloned();
        match groups.iter_mut().find(|(g, _)| g == &route) {
            Some((_, list)) => list.push(r.clone()),
            None => groups.push((route, vec![r.clone()])),
        }
    }
    let mut out = SourcingPlan {
        assignments: Vec::new(),
        unfilled: Vec::new(),
        explanation: Vec::new(),
    };
    for l in &automation.excluded_locations {
        out.explanation
            .push(format!("a rule excludes location {l} for this order"));
    }
    for (route, reqs) in groups {
        let here: Vec<&Location> = match &route {
            Some(id) => allowed.iter().filter(|l| &l.id == id).copied().collect(),
            None => allowed.clone(),
        };
        if let Some(id) = &route {
            let lines: Vec<String> = reqs.iter().map(|r| r.line.to_string()).collect();
            out.explanation.push(format!(
                "a rule routes line(s) {} to location {id}",
                lines.join(", ")
            ));
        }
        if here.is_empty() {
            out.unfilled.extend(reqs.iter().map(|r| Unfilled {
                line: r.line.clone(),
                quantity: r.quantity,
            }));
            continue;
        }
        let p = plan(&reqs, &here, ledger, strategy, allow_split)?;
        out.assignments.extend(p.assignments);
        out.unfilled.extend(p.unfilled);
        out.explanation.extend(p.explanation);
    }
    Ok(out)
}

/// Records the events rules caused (`ruled`, starting at index `first` of the
/// change's first order's events) with the actor `rule:<name>`.
pub(crate) fn attribute(
    changes: &mut ChangeSet,
    first: usize,
    ruled: &[ChainEvent],
) -> Result<(), EngineError> {
    let Some(order) = changes.orders.first_mut() else {
        return Ok(());
    };
    for (k, c) in ruled.iter().enumerate() {
        let Some(rule) = &c.rule else {
            continue;
        };
        // The outbox announces the event record itself (written when the store
        // commits), so it carries this actor too.
        order
            .events
            .set_actor(first + k, Actor::Rule(rule.as_str().into()));
    }
    Ok(())
}

impl Engine {
    /// What rules are checked against in this engine: its stock locations, and the
    /// currencies and carrier services in [`RulesConfig`] (when given).
    pub fn rule_context(&self) -> Result<RuleContext, EngineError> {
        let locations = self.read_stock(|ledger| {
            Ok(ledger
                .locations()
                .map(|l| l.id.to_string())
                .collect::<BTreeSet<_>>())
        })?;
        let config = &self.config.rules;
        Ok(RuleContext {
            locations: Some(locations),
            currencies: (!config.currencies.is_empty()).then(|| config.currencies.clone()),
            carrier_services: (!config.carrier_services.is_empty())
                .then(|| config.carrier_services.clone()),
        })
    }

    /// The same engine with these rule facts ([`RuleFacts`]): each one given replaces
    /// the engine's, the others stay.
    /// Refused with `ENGINE_INVALID_INPUT`, the engine unchanged, when a SKU is not a
    /// valid variant id, a carrier service is not `carrier/service`, or the depth is
    /// outside 1 to [`MAX_CHAIN_DEPTH`]. Rule sets already live are not checked again.
    pub fn with_rule_facts(mut self, facts: RuleFacts) -> Result<Engine, EngineError> {
        let bad = |field, reason| EngineError::InvalidInput { field, reason };
        if let Some(weights) = &facts.weights_grams {
            if weights.len() > MAX_WEIGHED_SKUS {
                return Err(bad("weights_grams", "at most 1,000,000 SKUs"));
            }
            if weights
                .keys()
                .any(|sku| crate::ids::VariantId::parse(sku.as_str()).is_err())
            {
                return Err(bad("weights_grams", "every key must be a valid SKU"));
            }
        }
        let services = match &facts.carrier_services {
            Some(given) => {
                let mut services = BTreeSet::new();
                for s in given {
                    let pair = s
                        .split_once('/')
                        .filter(|(c, v)| {
                            let ok = |t: &str| {
                                !t.trim().is_empty() && t.len() <= 100 && !t.contains('/')
                            };
                            ok(c) && ok(v)
                        })
                        .ok_or(bad(
                            "carrier_services",
                            "each must be carrier/service, both named",
                        ))?;
                    services.insert((pair.0.to_string(), pair.1.to_string()));
                }
                Some(services)
            }
            None => None,
        };
        if let Some(depth) = facts.max_chain_depth {
            if depth == 0 || depth > MAX_CHAIN_DEPTH {
                return Err(bad("max_chain_depth", "must be 1 to 64"));
            }
        }
        // Checked whole above: nothing is set unless everything given is good.
        let rules = &mut self.config.rules;
        if let Some(depth) = facts.max_chain_depth {
            rules.max_chain_depth = depth;
        }
        if let Some(weights) = facts.weights_grams {
            rules.weights_grams = weights;
        }
        if let Some(currencies) = facts.currencies {
            rules.currencies = currencies;
        }
        if let Some(services) = services {
            rules.carrier_services = services;
        }
        Ok(self)
    }

    /// Loads a rule set checked against this engine ([`Engine::rule_context`]). It is
    /// not made live: pass it to [`Engine::with_rules`], or try it first with
    /// [`Engine::dry_run_rules`] or as a shadow.
    pub fn load_rules(&self, json: &str) -> Result<RuleSet, EngineError> {
        Ok(RuleSet::load(json, &self.rule_context()?)?)
    }

    /// The same engine with these live and shadow rule sets (`None`: none).
    pub fn with_rules(mut self, live: Option<RuleSet>, shadow: Option<RuleSet>) -> Engine {
        self.config.rules.live = live.map(Arc::new);
        self.config.rules.shadow = shadow.map(Arc::new);
        self
    }

    /// What `set` would do to the orders matching `query`, replaying each one's
    /// history (see [`crate::rules::dry_run_history`]). Reads only: no order, stock or
    /// outbox record changes.
    pub fn dry_run_rules(
        &self,
        set: &RuleSet,
        query: &OrderQuery,
    ) -> Result<DryRunReport, EngineError> {
        let histories = self.histories(query)?;
        let counts = if set.uses_field(Field::CustomerOrderCount) {
            let all: Vec<Order> = self
                .iter_orders(OrderQuery::default())
                .collect::<Result<_, _>>()?;
            Some(crate::rules::customer_order_counts(&all))
        } else {
            None
        };
        let config = &self.config.rules;
        let opts = DryRunOptions {
            tz: shop_tz(&self.config),
            weights_grams: (!config.weights_grams.is_empty()).then_some(&config.weights_grams),
            customer_order_counts: counts.as_ref(),
            max_chain_depth: config.max_chain_depth,
        };
        Ok(dry_run_history(set, &histories, &opts))
    }

    /// Compares the shadow rule set with the live one over the orders matching
    /// `query`, from what shadow mode recorded on them.
    pub fn shadow_report(&self, query: &OrderQuery) -> Result<ShadowReport, EngineError> {
        Ok(shadow_report(&self.histories(query)?))
    }

    fn histories(&self, query: &OrderQuery) -> Result<Vec<Vec<OrderEventRecord>>, EngineError> {
        let mut out = Vec::new();
        for order in self.iter_orders(query.clone()) {
            out.push(self.store.order_events(&order?.id)?);
        }
        Ok(out)
    }

    /// Fires `ship_by_at_risk` on every open order (confirmed, processing or on hold)
    /// whose ship-by on the shipping calendar is past or within `margin` of now, once
    /// per order: an order some rule already fired on for it is skipped. Returns the
    /// orders rules fired on. Nothing happens without a shipping calendar or live
    /// rules for the trigger. The host calls it on a schedule, like the expiry sweep.
    pub fn run_ship_by_risk_rules(&self, margin: Duration) -> Result<Vec<OrderId>, EngineError> {
        let Some(live) = &self.config.rules.live else {
            return Ok(Vec::new());
        };
        if live.for_trigger(Trigger::ShipByAtRisk).next().is_none() {
            return Ok(Vec::new());
        }
        let mut fired = Vec::new();
        for due in self.fulfilments_due(margin)? {
            if fired.contains(&due.order_id) {
                continue;
            }
            if self.fire(&due.order_id, Trigger::ShipByAtRisk)? {
                fired.push(due.order_id);
            }
        }
        Ok(fired)
    }

    /// Runs the live rules for `trigger` on one order in its own write; whether any
    /// fired.
    fn fire(&self, id: &OrderId, trigger: Trigger) -> Result<bool, EngineError> {
        let ctx = CommandContext::system();
        self.write(|engine, tx| {
            let before = engine.load(id)?;
            if before.automation.fired.contains(&trigger) {
                return Ok(Written {
                    changes: ChangeSet::default(),
                    value: false,
                });
            }
            let mut after = before.clone();
            let ruled = run_for::<OrderEvent>(engine, tx, &mut after, &[], &[trigger])?;
            if ruled.is_empty() {
                return Ok(Written {
                    changes: ChangeSet::default(),
                    value: false,
                });
            }
            let mut events: Vec<OrderEvent> = ruled.iter().map(|c| c.event.clone()).collect();
            let notes = super::notifications::requests(&engine.config, &after, &events);
            for e in &notes {
                after.apply(e);
            }
            events.extend(notes);
            let mut changes = engine.changes_for(tx.now, &after, before.version, events, &ctx)?;
            attribute(&mut changes, 0, &ruled)?;
            Ok(Written {
                changes,
                value: ruled
                    .iter()
                    .any(|c| matches!(c.event, OrderEvent::RuleApplied(_))),
            })
        })
    }
}
