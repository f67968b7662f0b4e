//! Cycle counts: open (snapshot), record blind, close (post variances).
//!
//! The variance of a line is `counted − expected`, where `expected` is the on hand at
//! open plus every movement between open and the moment the count was recorded. The
//! variance is then posted as a `count` movement, so movements between the recording and
//! the close are kept, never overwritten by the counted number.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{CountId, LocationId, VariantId};
use crate::money::Money;

use super::error::StockError;
use super::journal::MovementKind;
use super::ledger::StockLedger;
use super::limits;
use super::model::Direction;
use super::StockEvent;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct CountLine {
    expected_at_open: i64,
    counted: Option<u32>,
    on_hand_at_record: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct CycleCount {
    location: LocationId,
    opened_at: DateTime<Utc>,
    lines: BTreeMap<VariantId, CountLine>,
    closed_at: Option<DateTime<Utc>>,
}

/// What the counter sees: which variants to count and which are done, never the
/// expected quantities (a blind count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountSheet {
    /// The count.
    pub count: CountId,
    /// Where.
    pub location: LocationId,
    /// Variants to count, in id order.
    pub variants: Vec<VariantId>,
    /// Variants already counted.
    pub recorded: Vec<VariantId>,
    /// Whether the count is closed.
    pub closed: bool,
}

/// One counted variant's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountVariance {
    /// The variant.
    pub variant: VariantId,
    /// On hand when the count was opened.
    pub expected_at_open: i64,
    /// Net on-hand movements between open and recording.
    pub movements_since_open: i64,
    /// `expected_at_open + movements_since_open`.
    pub expected: i64,
    /// Units counted.
    pub counted: u32,
    /// `counted − expected` (posted as a count movement when not zero).
    pub variance: i64,
    /// `variance × unit cost`, when a cost was given.
    pub value: Option<Money>,
}

/// The result of closing a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountReport {
    /// The count.
    pub count: CountId,
    /// Where.
    pub location: LocationId,
    /// When opened.
    pub opened_at: DateTime<Utc>,
    /// When closed.
    pub closed_at: DateTime<Utc>,
    /// One entry per counted variant, in id order.
    pub variances: Vec<CountVariance>,
    /// Variants on the sheet that were never counted (no movement posted).
    pub uncounted: Vec<VariantId>,
    /// Share of counted variants with zero variance (0 to 1), `None` if nothing counted.
    pub variant_accuracy: Option<Decimal>,
    /// `1 − Σ|variance| / Σ expected`, clamped to 0..=1; `None` if nothing counted.
    pub unit_accuracy: Option<Decimal>,
    /// Sum of values when every counted variant had a cost in one currency.
    pub net_value: Option<Money>,
}

impl StockLedger {
    /// Opens a count of `variants` at `location`, snapshotting on hand. Opening the same
    /// count again returns its sheet; the same id with other data is
    /// [`StockError::CountConflict`].
    pub fn open_count(
        &mut self,
        id: CountId,
        location: &LocationId,
        variants: Vec<VariantId>,
        now: DateTime<Utc>,
    ) -> Result<CountSheet, StockError> {
        if variants.is_empty() {
            return Err(StockError::InvalidParameter {
                parameter: "variants",
                reason: "a count needs at least one variant",
            });
        }
        if variants.len() > limits::MAX_COUNT_VARIANTS {
            return Err(StockError::TooMany {
                what: "variants in a count",
                count: variants.len(),
                max: limits::MAX_COUNT_VARIANTS,
            });
        }
        if let Some(existing) = self.counts.get(&id) {
            let asked: std::collections::BTreeSet<&VariantId> = variants.iter().collect();
            let same = existing.location == *location
                && asked.len() == existing.lines.len()
                && asked.iter().all(|v| existing.lines.contains_key(*v));
            if !same {
                return Err(StockError::CountConflict { count: id });
            }
            return self.count_sheet(&id);
        }
        self.check_location(location)?;
        let mut lines = BTreeMap::new();
        for variant in variants {
            self.settings(&variant)?;
            let on_hand = self.balance(&variant, location).on_hand;
            lines.insert(
                variant,
                CountLine {
                    expected_at_open: on_hand,
                    counted: None,
                    on_hand_at_record: on_hand,
                },
            );
        }
        let count = CycleCount {
            location: location.clone(),
            opened_at: now,
            lines,
            closed_at: None,
        };
        self.counts.insert(id.clone(), count);
        self.count_sheet(&id)
    }

    /// The counter's view of a count.
    pub fn count_sheet(&self, id: &CountId) -> Result<CountSheet, StockError> {
        let c = self
            .counts
            .get(id)
            .ok_or_else(|| StockError::UnknownCount { count: id.clone() })?;
        Ok(CountSheet {
            count: id.clone(),
            location: c.location.clone(),
            variants: c.lines.keys().cloned().collect(),
            recorded: c
                .lines
                .iter()
                .filter(|(_, l)| l.counted.is_some())
                .map(|(v, _)| v.clone())
                .collect(),
            closed: c.closed_at.is_some(),
        })
    }

    /// Records what the counter found. Recording a variant again replaces the earlier
    /// number (a recount). Returns nothing the counter could use to guess the expected
    /// quantity.
    pub fn record_count(
        &mut self,
        id: &CountId,
        variant: &VariantId,
        counted: u32,
    ) -> Result<(), StockError> {
        if counted > limits::MAX_QUANTITY {
            return Err(StockError::InvalidQuantity {
                quantity: i64::from(counted),
                max: limits::MAX_QUANTITY,
            });
        }
        let c = self
            .counts
            .get(id)
            .ok_or_else(|| StockError::UnknownCount { count: id.clone() })?;
        if c.closed_at.is_some() {
            return Err(StockError::CountClosed { count: id.clone() });
        }
        if !c.lines.contains_key(variant) {
            return Err(StockError::CountVariantNotListed {
                count: id.clone(),
                variant: variant.clone(),
            });
        }
        let on_hand = self.balance(variant, &c.location).on_hand;
        if let Some(line) = self
            .counts
            .get_mut(id)
            .and_then(|c| c.lines.get_mut(variant))
        {
            line.counted = Some(counted);
            line.on_hand_at_record = on_hand;
        }
        Ok(())
    }

    /// Closes a count: posts a `count` movement for every non-zero variance and returns
    /// the report with values (from `unit_costs`) and accuracy. Closing twice is
    /// [`StockError::CountClosed`].
    pub fn close_count(
        &mut self,
        id: &CountId,
        now: DateTime<Utc>,
        unit_costs: Option<&HashMap<VariantId, Money>>,
    ) -> Result<(CountReport, Vec<StockEvent>), StockError> {
        let c = self
            .counts
            .get(id)
            .ok_or_else(|| StockError::UnknownCount { count: id.clone() })?;
        if c.closed_at.is_some() {
            return Err(StockError::CountClosed { count: id.clone() });
        }
        let location = c.location.clone();
        let opened_at = c.opened_at;
        let mut variances = Vec::new();
        let mut uncounted = Vec::new();
        for (variant, line) in &c.lines {
            let Some(counted) = line.counted else {
                uncounted.push(variant.clone());
                continue;
            };
            let expected = line.on_hand_at_record;
            let variance = i64::from(counted).saturating_sub(expected);
            let value = unit_costs
                .and_then(|costs| costs.get(variant))
                .and_then(|cost| {
                    let v = cost.times(variance.unsigned_abs()).ok()?;
                    Some(if variance < 0 { v.negated() } else { v })
                });
            variances.push(CountVariance {
                variant: variant.clone(),
                expected_at_open: line.expected_at_open,
                movements_since_open: expected.saturating_sub(line.expected_at_open),
                expected,
                counted,
                variance,
                value,
            });
        }

        let mut events = Vec::new();
        for v in &variances {
            if v.variance == 0 {
                continue;
            }
            let direction = if v.variance > 0 {
                Direction::Increase
            } else {
                Direction::Decrease
            };
            let quantity = u32::try_from(v.variance.unsigned_abs()).unwrap_or(u32::MAX);
            let kind = MovementKind::Count {
                count: id.clone(),
                direction,
            };
            let reference = Some(id.as_str());
            if let (Some(slot), Some(loc)) = (self.slot_of(&v.variant), self.location_of(&location))
            {
                self.post(now, slot, loc, kind, quantity, reference, None, &mut events);
                self.after_change(slot, loc, now, &mut events);
            }
        }
        if let Some(c) = self.counts.get_mut(id) {
            c.closed_at = Some(now);
        }
        let report = CountReport {
            count: id.clone(),
            location,
            opened_at,
            closed_at: now,
            variant_accuracy: variant_accuracy(&variances),
            unit_accuracy: unit_accuracy(&variances),
            net_value: net_value(&variances),
            variances,
            uncounted,
        };
        Ok((report, events))
    }
}

fn variant_accuracy(variances: &[CountVariance]) -> Option<Decimal> {
    if variances.is_empty() {
        return None;
    }
    let exact = variances.iter().filter(|v| v.variance == 0).count();
    let share = Decimal::from(exact).checked_div(Decimal::from(variances.len()))?;
    Some(share.round_dp(4))
}

fn unit_accuracy(variances: &[CountVariance]) -> Option<Decimal> {
    if variances.is_empty() {
        return None;
    }
    let off: i64 = variances
        .iter()
        .map(|v| v.variance.saturating_abs())
        .fold(0, i64::saturating_add);
    let expected: i64 = variances
        .iter()
        .map(|v| v.expected.max(0))
        .fold(0, i64::saturating_add);
    if expected == 0 {
        return Some(if off == 0 {
            Decimal::ONE
        } else {
            Decimal::ZERO
        });
    }
    let miss = Decimal::from(off).checked_div(Decimal::from(expected))?;
    let acc = (Decimal::ONE - miss.min(Decimal::ONE)).max(Decimal::ZERO);
    Some(acc.round_dp(4))
}

fn net_value(variances: &[CountVariance]) -> Option<Money> {
    let first = variances.first()?.value.as_ref()?;
    let values: Option<Vec<&Money>> = variances.iter().map(|v| v.value.as_ref()).collect();
    Money::sum(first.currency(), values?).ok()
}
