//! Shadow mode's report: a candidate rule set ran beside the live one and recorded,
//! on each order, only where it would have acted differently
//! (`rule.shadow_differed` events). This reads those records back and sums them up.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::OrderId;
use crate::order::{OrderEvent, OrderEventRecord};

use super::record::PlannedRule;
use super::types::Trigger;

/// One trigger on one order where the two rule sets disagreed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowEntry {
    /// The order.
    pub order_id: OrderId,
    /// When.
    pub at: DateTime<Utc>,
    /// The trigger.
    pub trigger: Trigger,
    /// What the live rules did.
    pub live: Vec<PlannedRule>,
    /// What the candidate rules would have done.
    pub candidate: Vec<PlannedRule>,
}

/// How often a rule was on one side only of a disagreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RuleShadowCounts {
    /// Times it fired live where the candidate did not do the same.
    pub live_only: u64,
    /// Times the candidate would have fired it where live did not do the same.
    pub candidate_only: u64,
}

/// The comparison of a candidate rule set with the live one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShadowReport {
    /// Orders whose history was read.
    pub orders_compared: u64,
    /// Orders with at least one disagreement.
    pub orders_differing: u64,
    /// Times each live rule fired on those orders (for scale).
    pub live_firings: BTreeMap<String, u64>,
    /// Per rule name, how often it was on one side only.
    pub per_rule: BTreeMap<String, RuleShadowCounts>,
    /// Every disagreement, oldest first per order.
    pub differences: Vec<ShadowEntry>,
}

/// Sums up the shadow records in `histories` (one order's events each).
pub fn shadow_report(histories: &[Vec<OrderEventRecord>]) -> ShadowReport {
    let mut report = ShadowReport::default();
    for history in histories {
        report.orders_compared += 1;
        let mut differed = false;
        for record in history {
            match &record.event {
                OrderEvent::RuleApplied(a) => {
                    *report.live_firings.entry(a.rule.clone()).or_default() += 1;
                }
                OrderEvent::RuleShadowDiffered(d) => {
                    differed = true;
                    for p in d.live.iter().filter(|p| !d.candidate.contains(p)) {
                        report.per_rule.entry(p.rule.clone()).or_default().live_only += 1;
                    }
                    for p in d.candidate.iter().filter(|p| !d.live.contains(p)) {
                        report
                            .per_rule
                            .entry(p.rule.clone())
                            .or_default()
                            .candidate_only += 1;
                    }
                    report.differences.push(ShadowEntry {
                        order_id: record.order_id.clone(),
                        at: record.recorded_at,
                        trigger: d.trigger,
                        live: d.live.clone(),
                        candidate: d.candidate.clone(),
                    });
                }
                _ => {}
            }
        }
        report.orders_differing += u64::from(differed);
    }
    report
}
