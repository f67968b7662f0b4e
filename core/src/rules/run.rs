//! Running rules on one order: triggers from events, the actions of the rules that
//! fire, the triggers those actions raise in turn (bounded), and the shadow comparison.
//! The engine and the dry run share this code; they differ only in how a command
//! action is carried out ([`Apply`]): the engine goes through its normal commands with
//! stock, the dry run through the order state machine alone on a copy.

use crate::fulfilment::{MappedStatus, TrackingStatus};
use crate::order::{Order, OrderCommand, OrderEvent};

use super::eval::{explain, FactSources, Facts};
use super::record::{ActionOutcome, Outcome, PlannedRule, RuleApplied, ShadowDifference};
use super::types::{Action, Rule, Trigger};
use super::RuleSet;

/// The triggers `events` raise, in order, each once.
pub fn triggers_of<E: std::borrow::Borrow<OrderEvent>>(events: &[E]) -> Vec<Trigger> {
    let mut out: Vec<Trigger> = Vec::new();
    // An RMA's receipt records its units on the order right after it (`received`, then
    // `return_recorded`): a return already asked for, which asks for nothing new.
    let mut receipt = false;
    for e in events {
        let received = std::mem::take(&mut receipt);
        let t = match e.borrow() {
            OrderEvent::Placed(_) => Trigger::OrderPlaced,
            OrderEvent::Confirmed => Trigger::OrderConfirmed,
            OrderEvent::Held { .. } => Trigger::OrderHeld,
            OrderEvent::HoldReleased { .. } => Trigger::HoldReleased,
            OrderEvent::PaymentRecorded { .. } | OrderEvent::PaymentCaptured { .. } => {
                Trigger::PaymentReceived
            }
            OrderEvent::PaymentFailed { .. } => Trigger::PaymentFailed,
            OrderEvent::AllocationExpired { .. } => Trigger::ReservationExpired,
            // A return asked for through the RMA workflow, or recorded directly (a
            // channel's returned units).
            OrderEvent::Return(r) => match r.as_ref() {
                crate::returns::ReturnEvent::Requested { .. } => Trigger::ReturnRequested,
                crate::returns::ReturnEvent::Received { .. } => {
                    receipt = true;
                    continue;
                }
                _ => continue,
            },
            OrderEvent::ReturnRecorded { .. } if !received => Trigger::ReturnRequested,
            OrderEvent::ParcelTracked(t)
                if t.mapped == MappedStatus::Known(TrackingStatus::Exception) =>
            {
                Trigger::ParcelException
            }
            _ => continue,
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// The order command an action runs, for actions that are commands.
pub fn command_for(action: &Action) -> Option<OrderCommand> {
    match action {
        Action::Hold { reason, note } => Some(OrderCommand::Hold {
            reason: *reason,
            note: note.clone(),
        }),
        Action::Release => Some(OrderCommand::ReleaseHold),
        Action::AutoConfirm => Some(OrderCommand::Confirm),
        Action::Tag { add, remove } => Some(OrderCommand::Tag {
            add: add.clone(),
            remove: remove.clone(),
        }),
        _ => None,
    }
}

/// The outcome of an action that only sets rule state (priority, carrier, routing,
/// review): `Unchanged` when the order already is that way.
fn state_outcome(order: &Order, action: &Action) -> Outcome {
    let a = &order.automation;
    let same = match action {
        Action::SetPriority { priority } => a.priority == Some(*priority),
        Action::ChooseCarrier { carrier, service } => a
            .carrier
            .as_ref()
            .is_some_and(|c| &c.carrier == carrier && &c.service == service),
        Action::RouteToLocation { location, skus } => a
            .routes
            .iter()
            .any(|r| &r.location == location && &r.skus == skus),
        Action::ExcludeLocation { location } => a.excluded_locations.contains(location),
        Action::RequireReview { reason } => a.review.as_ref() == Some(reason),
        _ => false,
    };
    if same {
        Outcome::Unchanged
    } else {
        Outcome::Applied
    }
}

/// How command actions are carried out.
pub trait Apply {
    /// Runs `command` (from an action of `rule`) on `order`, applying the events it
    /// produces to `order` and returning them; or the refusing error's code and
    /// message, with `order` unchanged.
    fn command(
        &mut self,
        order: &mut Order,
        rule: &Rule,
        command: OrderCommand,
    ) -> Result<Vec<OrderEvent>, (String, String)>;

    /// Asks for a customer notification on `order`: the outcome, and the events
    /// (applied to `order`); `Unchanged` when none can be sent (no channel, no
    /// recipient, already asked for).
    fn notify(
        &mut self,
        order: &mut Order,
        rule: &Rule,
        template: crate::notify::TemplateKey,
    ) -> (Outcome, Vec<OrderEvent>);
}

/// One event of a chain and the rule that caused it (`None`: the chain itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEvent {
    /// The event (already applied to the order).
    pub event: OrderEvent,
    /// The rule that caused it.
    pub rule: Option<String>,
}

/// Default bound on a chain of rules triggering rules.
pub const DEFAULT_MAX_CHAIN_DEPTH: u32 = 8;

/// Runs `live` on `order` for `triggers` (and the triggers its actions raise, up to
/// `max_depth` rounds), with `shadow` compared at every trigger. Returns the events,
/// already applied to `order`, in the order they are to be recorded.
pub fn run_chain(
    live: &RuleSet,
    shadow: Option<&RuleSet>,
    order: &mut Order,
    triggers: Vec<Trigger>,
    sources: &FactSources<'_>,
    max_depth: u32,
    applier: &mut dyn Apply,
) -> Vec<ChainEvent> {
    let mut out = Vec::new();
    let mut pending = triggers;
    let mut depth = 0u32;
    while !pending.is_empty() {
        if depth >= max_depth {
            // Report only a chain that would really go on: some rule still matches.
            let live_again: Vec<Trigger> = pending
                .iter()
                .copied()
                .filter(|t| !live.matching(*t, &Facts::of(order, sources)).is_empty())
                .collect();
            if !live_again.is_empty() {
                let event = OrderEvent::RuleChainStopped {
                    depth,
                    triggers: live_again,
                };
                order.apply(&event);
                out.push(ChainEvent { event, rule: None });
            }
            break;
        }
        let mut next: Vec<Trigger> = Vec::new();
        for trigger in pending {
            let facts = Facts::of(order, sources);
            let fired: Vec<(Rule, String)> = live
                .matching(trigger, &facts)
                .into_iter()
                .map(|r| (r.clone(), explain(r, &facts)))
                .collect();
            let differed = shadow.and_then(|candidate| {
                let plan = |rules: Vec<&Rule>| -> Vec<PlannedRule> {
                    rules
                        .into_iter()
                        .map(|r| PlannedRule {
                            rule: r.name.clone(),
                            actions: r.actions.clone(),
                        })
                        .collect()
                };
                let live_plan = plan(fired.iter().map(|(r, _)| r).collect());
                let candidate_plan = plan(candidate.matching(trigger, &facts));
                if live_plan == candidate_plan {
                    return None;
                }
                Some(ShadowDifference {
                    trigger,
                    live: live_plan,
                    candidate: candidate_plan,
                })
            });
            drop(facts);
            if let Some(d) = differed {
                let event = OrderEvent::RuleShadowDiffered(Box::new(d));
                order.apply(&event);
                out.push(ChainEvent { event, rule: None });
            }
            for (rule, because) in fired {
                let mut outcomes = Vec::with_capacity(rule.actions.len());
                let mut caused: Vec<OrderEvent> = Vec::new();
                for action in &rule.actions {
                    let outcome = if let Some(command) = command_for(action) {
                        match applier.command(order, &rule, command) {
                            Ok(events) if events.is_empty() => Outcome::Unchanged,
                            Ok(events) => {
                                caused.extend(events);
                                Outcome::Applied
                            }
                            Err((code, message)) => Outcome::Refused { code, message },
                        }
                    } else if let Action::Notify { template } = action {
                        let (outcome, events) = applier.notify(order, &rule, *template);
                        caused.extend(events);
                        outcome
                    } else {
                        state_outcome(order, action)
                    };
                    outcomes.push(ActionOutcome {
                        action: action.clone(),
                        outcome,
                    });
                }
                let applied = OrderEvent::RuleApplied(Box::new(RuleApplied {
                    rule: rule.name.clone(),
                    trigger,
                    depth,
                    because,
                    actions: outcomes,
                }));
                order.apply(&applied);
                for t in triggers_of(&caused) {
                    if !next.contains(&t) {
                        next.push(t);
                    }
                }
                out.push(ChainEvent {
                    event: applied,
                    rule: Some(rule.name.clone()),
                });
                out.extend(caused.into_iter().map(|event| ChainEvent {
                    event,
                    rule: Some(rule.name.clone()),
                }));
            }
        }
        pending = next;
        depth += 1;
    }
    out
}

/// Carries command actions out through the order state machine alone (no stock, no
/// notifications): what the dry run uses.
#[derive(Debug, Default)]
pub struct StateMachineOnly;

impl Apply for StateMachineOnly {
    fn command(
        &mut self,
        order: &mut Order,
        _rule: &Rule,
        command: OrderCommand,
    ) -> Result<Vec<OrderEvent>, (String, String)> {
        let events = crate::order::decide(order, &command)
            .map_err(|e| (e.code().to_string(), e.to_string()))?;
        for e in &events {
            order.apply(e);
        }
        Ok(events)
    }

    /// The dry run cannot know the host's channels: it reports the message as asked.
    fn notify(
        &mut self,
        _order: &mut Order,
        _rule: &Rule,
        _template: crate::notify::TemplateKey,
    ) -> (Outcome, Vec<OrderEvent>) {
        (Outcome::Applied, Vec::new())
    }
}
