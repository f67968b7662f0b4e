//! Channel availability: what each sales channel is told it may sell, and only what
//! moved since the last push.
//!
//! A channel's quantity of a variant is `floor(pool × share_percent / 100) − buffer`,
//! clamped at zero, where the pool is the sellable units (available clamped at zero) at
//! the rule's locations (all locations when none are listed). With a share of at most
//! 100 percent a channel is never told more than is available; when the shares of all
//! channels add up to at most 100, neither is their sum (each term is rounded down).

use super::FastMap;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, LocationId, VariantId};

use super::error::StockError;
use super::ledger::StockLedger;
use super::limits;

/// How much of the stock a channel is offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRule {
    /// Percentage of the pool offered (0 to 100).
    pub share_percent: u8,
    /// Units held back from this channel after the share.
    pub buffer: u32,
    /// Locations whose stock the channel sells; `None` for all.
    pub locations: Option<Vec<LocationId>>,
}

impl ChannelRule {
    /// The whole pool, no buffer, all locations.
    pub fn all() -> Self {
        ChannelRule {
            share_percent: 100,
            buffer: 0,
            locations: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ChannelState {
    rule: ChannelRule,
    pushed: FastMap<VariantId, u64>,
}

impl StockLedger {
    /// Sets (or replaces) a channel's rule. What was pushed before is kept.
    pub fn set_channel_rule(
        &mut self,
        channel: ChannelId,
        rule: ChannelRule,
    ) -> Result<(), StockError> {
        let invalid = |reason| StockError::InvalidChannelRule {
            channel: channel.clone(),
            reason,
        };
        if rule.share_percent > 100 {
            return Err(invalid("share_percent must be 0 to 100"));
        }
        if rule.buffer > limits::MAX_QUANTITY {
            return Err(invalid("buffer is above the quantity limit"));
        }
        if let Some(locations) = &rule.locations {
            if locations.is_empty() {
                return Err(invalid("list at least one location, or none for all"));
            }
            if locations.len() > limits::MAX_LOCATIONS {
                return Err(invalid("too many locations"));
            }
            for l in locations {
                self.check_location(l)?;
            }
        }
        match self.channels.get_mut(&channel) {
            Some(state) => state.rule = rule,
            None => {
                self.channels.insert(
                    channel,
                    ChannelState {
                        rule,
                        pushed: FastMap::default(),
                    },
                );
            }
        }
        Ok(())
    }

    /// A channel's rule, if set.
    pub fn channel_rule(&self, channel: &ChannelId) -> Option<&ChannelRule> {
        self.channels.get(channel).map(|s| &s.rule)
    }

    fn channel_state(&self, channel: &ChannelId) -> Result<&ChannelState, StockError> {
        self.channels
            .get(channel)
            .ok_or_else(|| StockError::UnknownChannel {
                channel: channel.clone(),
            })
    }

    fn pool(&self, rule: &ChannelRule, variant: &VariantId) -> u64 {
        let bundle = self.bundles.get(variant);
        let one = |l: &LocationId| match bundle {
            Some(def) => self.bundle_sellable(def, l),
            None => self.sellable(variant, l),
        };
        match &rule.locations {
            Some(list) => list.iter().map(one).fold(0, u64::saturating_add),
            None => self.locations.keys().map(one).fold(0, u64::saturating_add),
        }
    }

    fn quantity_for(rule: &ChannelRule, pool: u64) -> u64 {
        let share = u128::from(pool) * u128::from(rule.share_percent) / 100;
        u64::try_from(share)
            .unwrap_or(pool)
            .min(pool)
            .saturating_sub(u64::from(rule.buffer))
    }

    /// What the channel may sell of one variant or bundle.
    pub fn channel_quantity(
        &self,
        channel: &ChannelId,
        variant: &VariantId,
    ) -> Result<u64, StockError> {
        let state = self.channel_state(channel)?;
        if !self.bundles.contains_key(variant) {
            self.settings(variant)?;
        }
        Ok(Self::quantity_for(
            &state.rule,
            self.pool(&state.rule, variant),
        ))
    }

    /// What the channel may sell of every registered variant and bundle.
    pub fn channel_quantities(
        &self,
        channel: &ChannelId,
    ) -> Result<BTreeMap<VariantId, u64>, StockError> {
        let state = self.channel_state(channel)?;
        Ok(self
            .variants()
            .chain(self.bundles.keys())
            .map(|v| {
                let q = Self::quantity_for(&state.rule, self.pool(&state.rule, v));
                (v.clone(), q)
            })
            .collect())
    }

    /// The quantities that differ from what was last pushed to the channel (everything,
    /// the first time).
    pub fn changed_since_last_push(
        &self,
        channel: &ChannelId,
    ) -> Result<BTreeMap<VariantId, u64>, StockError> {
        let state = self.channel_state(channel)?;
        let mut all = self.channel_quantities(channel)?;
        all.retain(|v, q| state.pushed.get(v) != Some(q));
        Ok(all)
    }

    /// Records that the channel was told these quantities (after the host pushed them).
    pub fn mark_pushed(
        &mut self,
        channel: &ChannelId,
        quantities: &BTreeMap<VariantId, u64>,
    ) -> Result<(), StockError> {
        self.channel_state(channel)?;
        for v in quantities.keys() {
            if !self.bundles.contains_key(v) {
                self.settings(v)?;
            }
        }
        if let Some(state) = self.channels.get_mut(channel) {
            for (v, q) in quantities {
                state.pushed.insert(v.clone(), *q);
            }
        }
        Ok(())
    }
}
