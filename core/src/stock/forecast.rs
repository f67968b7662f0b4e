//! Forecasting from the journal (velocity, days of cover, reorder point) and
//! low-stock / out-of-stock alerts.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::VariantId;

use super::error::StockError;
use super::journal::RecordKind;
use super::ledger::StockLedger;
use super::limits;

/// Where a variant stands for alerting. Alerts fire when the level gets worse.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub(super) enum AlertLevel {
    #[default]
    Normal,
    Low,
    Out,
}

/// Which threshold was crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Sellable units fell to or below the variant's low-stock threshold.
    LowStock,
    /// Sellable units fell to zero.
    OutOfStock,
}

/// An alert, emitted once per crossing: falling below emits one, staying below emits
/// nothing, rising above again re-arms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockAlert {
    /// The variant.
    pub variant: VariantId,
    /// Which threshold.
    pub kind: AlertKind,
    /// Sellable units over all locations after the change.
    pub sellable: u64,
    /// The low-stock threshold, if set.
    pub threshold: Option<u32>,
    /// When (the command's `now`).
    pub at: DateTime<Utc>,
}

/// Inputs of a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReorderParams {
    /// Days of sales history ending at `now` used for velocity (1 to 3650).
    pub window_days: u32,
    /// Supplier lead time in days.
    pub lead_time_days: u32,
    /// Days between two reviews (orders) of this variant.
    pub review_period_days: u32,
}

/// A variant's forecast, over all locations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forecast {
    /// The variant.
    pub variant: VariantId,
    /// Units sold per day over the window (4 decimals).
    pub velocity_per_day: Decimal,
    /// Sellable units now.
    pub sellable: u64,
    /// Units expected.
    pub incoming: u64,
    /// `sellable / velocity` in days (2 decimals); `None` when nothing sold.
    pub days_of_cover: Option<Decimal>,
    /// `ceil(velocity × lead time) + safety stock`.
    pub reorder_point: u64,
    /// `on hand − reserved + incoming`.
    pub inventory_position: i64,
    /// Whether the position is at or below the reorder point.
    pub reorder_now: bool,
    /// Units to order to reach `reorder point + ceil(velocity × review period)`.
    pub suggested_quantity: u64,
}

fn ceil_units(d: Decimal) -> u64 {
    d.ceil().max(Decimal::ZERO).to_u64().unwrap_or(u64::MAX)
}

impl StockLedger {
    /// Sets the low-stock threshold (`None` to alert only on out of stock). The alert
    /// state is re-read silently so setting a threshold never fires an alert by itself.
    pub fn set_low_stock_threshold(
        &mut self,
        variant: &VariantId,
        threshold: Option<u32>,
    ) -> Result<(), StockError> {
        let slot = self.slot_checked(variant)?;
        if let Some(s) = self.slots.get_mut(slot) {
            let sellable = s.total_sellable();
            s.settings.low_stock_at = threshold;
            s.settings.alert = level_for(sellable, threshold);
        }
        Ok(())
    }

    /// Re-reads a variant's alert level; returns an alert when it got worse.
    pub(super) fn check_alert(&mut self, slot: usize, now: DateTime<Utc>) -> Option<StockAlert> {
        let s = self.slots.get_mut(slot)?;
        let sellable = s.total_sellable();
        let settings = &mut s.settings;
        let level = level_for(sellable, settings.low_stock_at);
        let old = settings.alert;
        settings.alert = level;
        if level <= old {
            return None;
        }
        let kind = match level {
            AlertLevel::Out => AlertKind::OutOfStock,
            AlertLevel::Low => AlertKind::LowStock,
            AlertLevel::Normal => return None,
        };
        Some(StockAlert {
            variant: s.id.clone(),
            kind,
            sellable,
            threshold: settings.low_stock_at,
            at: now,
        })
    }

    /// Units per day of `sale` movements of `variant` in `(now − window_days, now]`, at
    /// every location, to 4 decimals. Reads the whole journal.
    pub fn sales_velocity(
        &self,
        variant: &VariantId,
        window_days: u32,
        now: DateTime<Utc>,
    ) -> Result<Decimal, StockError> {
        self.settings(variant)?;
        if window_days == 0 || window_days > limits::MAX_WINDOW_DAYS {
            return Err(StockError::InvalidParameter {
                parameter: "window_days",
                reason: "expected 1 to 3650 days",
            });
        }
        let start = now - Duration::days(i64::from(window_days));
        let slot = self.slot_of(variant).and_then(|s| u32::try_from(s).ok());
        let sold: u64 = self
            .journal
            .iter()
            .filter(|r| {
                matches!(r.kind, RecordKind::Sale { .. })
                    && Some(r.slot) == slot
                    && r.at > start
                    && r.at <= now
            })
            .map(|r| u64::from(r.quantity))
            .fold(0, u64::saturating_add);
        let velocity = Decimal::from(sold)
            .checked_div(Decimal::from(window_days))
            .unwrap_or(Decimal::ZERO);
        Ok(velocity.round_dp(4))
    }

    /// Velocity, days of cover, reorder point and a suggested order for a variant.
    pub fn forecast(
        &self,
        variant: &VariantId,
        params: ReorderParams,
        now: DateTime<Utc>,
    ) -> Result<Forecast, StockError> {
        for (parameter, days) in [
            ("lead_time_days", params.lead_time_days),
            ("review_period_days", params.review_period_days),
        ] {
            if days > limits::MAX_WINDOW_DAYS {
                return Err(StockError::InvalidParameter {
                    parameter,
                    reason: "expected at most 3650 days",
                });
            }
        }
        let velocity = self.sales_velocity(variant, params.window_days, now)?;
        let levels = self.levels(variant)?;
        let safety: u64 = levels
            .locations
            .iter()
            .map(|l| u64::from(l.safety_stock))
            .fold(0, u64::saturating_add);
        let incoming = u64::try_from(levels.incoming).unwrap_or(0);
        let days_of_cover = if velocity.is_zero() {
            None
        } else {
            Decimal::from(levels.sellable)
                .checked_div(velocity)
                .map(|d| d.round_dp(2))
        };
        let lead = velocity
            .checked_mul(Decimal::from(params.lead_time_days))
            .map_or(u64::MAX, ceil_units);
        let review = velocity
            .checked_mul(Decimal::from(params.review_period_days))
            .map_or(u64::MAX, ceil_units);
        let reorder_point = lead.saturating_add(safety);
        let position = levels
            .on_hand
            .saturating_sub(levels.reserved)
            .saturating_add(levels.incoming);
        let target = i64::try_from(reorder_point.saturating_add(review)).unwrap_or(i64::MAX);
        let suggested = u64::try_from(target.saturating_sub(position)).unwrap_or(0);
        Ok(Forecast {
            variant: variant.clone(),
            velocity_per_day: velocity,
            sellable: levels.sellable,
            incoming,
            days_of_cover,
            reorder_point,
            inventory_position: position,
            reorder_now: position <= i64::try_from(reorder_point).unwrap_or(i64::MAX),
            suggested_quantity: suggested,
        })
    }
}

fn level_for(sellable: u64, threshold: Option<u32>) -> AlertLevel {
    if sellable == 0 {
        AlertLevel::Out
    } else if threshold.is_some_and(|t| sellable <= u64::from(t)) {
        AlertLevel::Low
    } else {
        AlertLevel::Normal
    }
}
