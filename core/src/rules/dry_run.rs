//! Dry run: what a rule set would do to past orders, without changing anything.
//!
//! Over an event history, every event that raises a trigger is replayed, and the rules
//! run on a copy of the order as it was then, through the order state machine alone
//! ([`StateMachineOnly`]: stock and notifications are not simulated, so an
//! `auto_confirm` that the live engine would refuse for want of stock shows here as
//! applied). The report says per order which rules fired, why, what each action would
//! change or why it would be refused, and which rules contradict each other.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::ids::OrderId;
use crate::order::{Order, OrderEvent, OrderEventRecord};

use super::eval::{conflicts, Conflict, FactSources};
use super::record::ActionOutcome;
use super::run::{run_chain, triggers_of, StateMachineOnly, DEFAULT_MAX_CHAIN_DEPTH};
use super::types::{Action, Trigger};
use super::RuleSet;

/// What the dry run knows besides the orders.
#[derive(Debug, Clone)]
pub struct DryRunOptions<'a> {
    /// The shop's time zone (for `local_time`).
    pub tz: Tz,
    /// Weight in grams per SKU (for `weight_grams`).
    pub weights_grams: Option<&'a BTreeMap<String, u32>>,
    /// Orders each customer placed before each order (for `customer_order_count`);
    /// `None`: counted among the orders given, by customer id or e-mail.
    pub customer_order_counts: Option<&'a BTreeMap<OrderId, u64>>,
    /// Bound on rules triggering rules.
    pub max_chain_depth: u32,
}

impl Default for DryRunOptions<'_> {
    fn default() -> Self {
        DryRunOptions {
            tz: chrono_tz::UTC,
            weights_grams: None,
            customer_order_counts: None,
            max_chain_depth: DEFAULT_MAX_CHAIN_DEPTH,
        }
    }
}

/// One rule that would fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryFiring {
    /// When the trigger happened.
    pub at: DateTime<Utc>,
    /// The trigger.
    pub trigger: Trigger,
    /// The rule.
    pub rule: String,
    /// 0 for a trigger from the history, more for one raised by a rule's action.
    pub depth: u32,
    /// Its conditions with the order's values.
    pub because: String,
    /// What each action would do.
    pub actions: Vec<ActionOutcome>,
}

/// What the rules would do to one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDryRun {
    /// The order.
    pub order_id: OrderId,
    /// Rules that would fire, in order.
    pub firings: Vec<DryFiring>,
    /// What would change, in words (`status pending -> on_hold`, `priority -> 10`).
    pub changes: Vec<String>,
    /// Rules whose actions contradict each other at the same trigger.
    pub conflicts: Vec<Conflict>,
    /// Whether a chain of rules triggering rules hit the bound.
    pub chain_stopped: bool,
}

/// The dry run's report.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DryRunReport {
    /// Orders looked at.
    pub orders_evaluated: u64,
    /// Orders some rule would fire on (others are left out).
    pub orders: Vec<OrderDryRun>,
    /// Times each rule would fire (every rule of the set, zeros included).
    pub counts: BTreeMap<String, u64>,
    /// Conflicts found, over all orders.
    pub conflicts: u64,
    /// Orders whose chain hit the bound.
    pub chains_stopped: u64,
}

/// Orders each customer placed before each of `orders` (by customer id, else e-mail),
/// counted among `orders`. Orders without a customer are left out.
pub fn customer_order_counts<'o>(
    orders: impl IntoIterator<Item = &'o Order>,
) -> BTreeMap<OrderId, u64> {
    let mut by_customer: BTreeMap<String, Vec<(DateTime<Utc>, &OrderId)>> = BTreeMap::new();
    for o in orders {
        if let Some(k) = o.customer_key() {
            by_customer.entry(k).or_default().push((o.placed_at, &o.id));
        }
    }
    let mut out = BTreeMap::new();
    for (_, mut list) in by_customer {
        list.sort();
        for (k, (_, id)) in list.into_iter().enumerate() {
            out.insert(id.clone(), k as u64);
        }
    }
    out
}

/// The changes between two states of an order, in words.
pub fn describe_changes(before: &Order, after: &Order) -> Vec<String> {
    let mut out = Vec::new();
    if before.status != after.status {
        out.push(format!("status {} -> {}", before.status, after.status));
    }
    for t in after.tags.difference(&before.tags) {
        out.push(format!("tag +{t}"));
    }
    for t in before.tags.difference(&after.tags) {
        out.push(format!("tag -{t}"));
    }
    let (a, b) = (&before.automation, &after.automation);
    if a.priority != b.priority {
        if let Some(p) = b.priority {
            out.push(format!("priority -> {p}"));
        }
    }
    if a.carrier != b.carrier {
        if let Some(c) = &b.carrier {
            out.push(format!("carrier -> {}/{}", c.carrier, c.service));
        }
    }
    for r in b.routes.iter().filter(|r| !a.routes.contains(r)) {
        let what = if r.skus.is_empty() {
            "all lines".to_string()
        } else {
            r.skus.join(", ")
        };
        out.push(format!("route {what} -> {}", r.location));
    }
    for l in b.excluded_locations.difference(&a.excluded_locations) {
        out.push(format!("exclude location {l}"));
    }
    if a.review != b.review {
        if let Some(r) = &b.review {
            out.push(format!("manual review: {r}"));
        }
    }
    out
}

struct Acc<'a> {
    set: &'a RuleSet,
    opts: &'a DryRunOptions<'a>,
    counts: Option<BTreeMap<OrderId, u64>>,
    report: DryRunReport,
}

impl Acc<'_> {
    /// Runs the rules on a copy of `state` for `triggers` at `at`, adding to `entry`.
    /// `carried` is what the rules set on the order so far in this dry run (priority,
    /// routes, ...): the history cannot follow the rules' commands, but their own
    /// settings carry to later triggers, so a setting is not reported twice.
    fn evaluate(
        &mut self,
        state: &Order,
        carried: &mut crate::rules::AutomationBox,
        triggers: Vec<Trigger>,
        at: DateTime<Utc>,
        entry: &mut OrderDryRun,
    ) {
        let mut with_carried = state.clone();
        with_carried.automation = carried.clone();
        let state = &with_carried;
        let counts = self.opts.customer_order_counts.or(self.counts.as_ref());
        let sources = FactSources {
            now: at,
            tz: self.opts.tz,
            weights_grams: self.opts.weights_grams,
            customer_order_count: counts.and_then(|c| c.get(&state.id).copied()),
        };
        let mut copy = state.clone();
        let events = run_chain(
            self.set,
            None,
            &mut copy,
            triggers,
            &sources,
            self.opts.max_chain_depth,
            &mut StateMachineOnly,
        );
        let mut fired: Vec<(String, Action)> = Vec::new();
        for e in &events {
            match &e.event {
                OrderEvent::RuleApplied(a) => {
                    *self.report.counts.entry(a.rule.clone()).or_default() += 1;
                    fired.extend(a.actions.iter().map(|o| (a.rule.clone(), o.action.clone())));
                    entry.firings.push(DryFiring {
                        at,
                        trigger: a.trigger,
                        rule: a.rule.clone(),
                        depth: a.depth,
                        because: a.because.clone(),
                        actions: a.actions.clone(),
                    });
                }
                OrderEvent::RuleChainStopped { .. } => entry.chain_stopped = true,
                _ => {}
            }
        }
        let pairs: Vec<(&str, &Action)> = fired.iter().map(|(r, a)| (r.as_str(), a)).collect();
        entry.conflicts.extend(conflicts(state, &pairs));
        entry.changes.extend(describe_changes(state, &copy));
        *carried = copy.automation;
    }

    fn finish(&mut self, entry: OrderDryRun) {
        self.report.orders_evaluated += 1;
        if entry.firings.is_empty() {
            return;
        }
        self.report.conflicts += entry.conflicts.len() as u64;
        self.report.chains_stopped += u64::from(entry.chain_stopped);
        self.report.orders.push(entry);
    }
}

fn start<'a>(
    set: &'a RuleSet,
    opts: &'a DryRunOptions<'a>,
    counts: Option<BTreeMap<OrderId, u64>>,
) -> Acc<'a> {
    let mut report = DryRunReport::default();
    for r in set.rules() {
        report.counts.insert(r.name.clone(), 0);
    }
    Acc {
        set,
        opts,
        counts,
        report,
    }
}

fn empty_entry(id: &OrderId) -> OrderDryRun {
    OrderDryRun {
        order_id: id.clone(),
        firings: Vec::new(),
        changes: Vec::new(),
        conflicts: Vec::new(),
        chain_stopped: false,
    }
}

/// Runs `set` on each of `orders` as they are now, for `trigger` (at the time each was
/// placed). Reads only: the orders are not changed.
pub fn dry_run_orders(
    set: &RuleSet,
    orders: &[Order],
    trigger: Trigger,
    opts: &DryRunOptions<'_>,
) -> DryRunReport {
    let counts = opts
        .customer_order_counts
        .is_none()
        .then(|| customer_order_counts(orders));
    let mut acc = start(set, opts, counts);
    for order in orders {
        let mut entry = empty_entry(&order.id);
        let mut carried = order.automation.clone();
        acc.evaluate(
            order,
            &mut carried,
            vec![trigger],
            order.placed_at,
            &mut entry,
        );
        acc.finish(entry);
    }
    acc.report
}

/// Replays each history (one order's events, oldest first) and runs `set` at every
/// event that raises a trigger, on the order as it was then. Reads only. Histories
/// that do not start with `placed` are skipped (counted as evaluated, nothing fires).
pub fn dry_run_history(
    set: &RuleSet,
    histories: &[Vec<OrderEventRecord>],
    opts: &DryRunOptions<'_>,
) -> DryRunReport {
    let counts = if opts.customer_order_counts.is_some() {
        None
    } else {
        let finals: Vec<Order> = histories
            .iter()
            .filter_map(|h| Order::replay(h.iter()))
            .collect();
        Some(customer_order_counts(&finals))
    };
    let mut acc = start(set, opts, counts);
    for history in histories {
        let Some(first) = history.first() else {
            continue;
        };
        let OrderEvent::Placed(placed) = &first.event else {
            acc.report.orders_evaluated += 1;
            continue;
        };
        let mut state = Order::from_placed(first.order_id.clone(), placed);
        let mut entry = empty_entry(&first.order_id);
        let mut carried = crate::rules::AutomationBox::default();
        for (k, record) in history.iter().enumerate() {
            if k > 0 {
                state.apply(&record.event);
            }
            let triggers = triggers_of(std::slice::from_ref(&record.event));
            if !triggers.is_empty() {
                acc.evaluate(
                    &state,
                    &mut carried,
                    triggers,
                    record.recorded_at,
                    &mut entry,
                );
            }
        }
        acc.finish(entry);
    }
    acc.report
}
