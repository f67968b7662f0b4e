//! What rules leave on an order: `rule.applied` (which rule, at which trigger, why,
//! and what each action did), `rule.chain_stopped` and `rule.shadow_differed` events.
//! See ADR 0010 for why they are events and how replay treats them.

use serde::{Deserialize, Serialize};

use super::types::{Action, Automation, CarrierService, Route, Trigger};

/// What became of one action of a rule that fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// It changed the order (its command's own events follow the `rule.applied` event).
    Applied,
    /// The order already was that way; nothing changed.
    Unchanged,
    /// The order refused it (state machine, stock, notification rules): nothing changed.
    Refused {
        /// The refusing error's stable code, e.g. `ORDER_INVALID_TRANSITION`.
        code: String,
        /// Its message (error messages never carry personal data).
        message: String,
    },
}

/// One action and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    /// The action as written in the rule.
    pub action: Action,
    /// What became of it.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A rule fired on an order: the order's record of who did what and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleApplied {
    /// The rule's name.
    pub rule: String,
    /// The trigger it fired on.
    pub trigger: Trigger,
    /// 0 when the trigger came from the command itself, 1 when from an action of a
    /// rule at depth 0, and so on.
    pub depth: u32,
    /// The conditions with the order's values, e.g. `total (1500.00 TRY) > 1000.00 TRY`.
    pub because: String,
    /// Each action with its outcome, in the rule's order.
    pub actions: Vec<ActionOutcome>,
}

impl RuleApplied {
    /// Folds the rule's own state changes (priority, carrier, routes, review, one-shot
    /// triggers) into `automation`. Command actions (hold, confirm, tag, notify) change
    /// the order through their own events, which follow this one.
    pub fn apply_to(&self, automation: &mut Automation) {
        if self.trigger == Trigger::ShipByAtRisk {
            automation.fired.insert(self.trigger);
        }
        for a in &self.actions {
            if a.outcome != Outcome::Applied {
                continue;
            }
            match &a.action {
                Action::SetPriority { priority } => automation.priority = Some(*priority),
                Action::ChooseCarrier { carrier, service } => {
                    automation.carrier = Some(CarrierService {
                        carrier: carrier.clone(),
                        service: service.clone(),
                    });
                }
                Action::RouteToLocation { location, skus } => {
                    automation.routes.retain(|r| &r.skus != skus);
                    automation.routes.push(Route {
                        location: location.clone(),
                        skus: skus.clone(),
                    });
                }
                Action::ExcludeLocation { location } => {
                    automation.excluded_locations.insert(location.clone());
                }
                Action::RequireReview { reason } => automation.review = Some(reason.clone()),
                Action::Hold { .. }
                | Action::Release
                | Action::Tag { .. }
                | Action::AutoConfirm
                | Action::Notify { .. } => {}
            }
        }
    }
}

/// A rule and the actions it would take, as a shadow comparison records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRule {
    /// The rule's name.
    pub rule: String,
    /// Its actions.
    pub actions: Vec<Action>,
}

/// At one trigger, the candidate (shadow) rule set would have done something other
/// than the live one. Recorded on the order; changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowDifference {
    /// The trigger.
    pub trigger: Trigger,
    /// What the live rules did (rules that fired, with their actions).
    pub live: Vec<PlannedRule>,
    /// What the candidate rules would have done.
    pub candidate: Vec<PlannedRule>,
}
