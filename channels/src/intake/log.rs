//! The intake log port: what intake remembers of each channel order between
//! deliveries (for staleness by timestamp and events reported once).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ordersmith::ids::OrderId;
use serde::{Deserialize, Serialize};

/// What intake remembers of a channel order between deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenOrder {
    /// The order it became.
    pub order_id: OrderId,
    /// The newest channel `updated_at` applied.
    pub updated_at: Option<DateTime<Utc>>,
    /// The furthest lifecycle stage applied.
    pub rank: Option<u8>,
    /// Channel events already reported.
    pub events: BTreeSet<String>,
    /// For channels that deliver an order in parts ([`crate::ChannelPart`]): the
    /// newest `updated_at` and furthest stage applied of each part, by the part's id.
    /// Records written before parts were kept have none: every part is then new.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, SeenPart>,
    /// For channels whose returns name a line by its listing
    /// ([`crate::Channel::returns_name_listings`], eBay): listing id (`legacyItemId`)
    /// → the channel's line id (`lineItemId`). An empty line id marks a listing that
    /// more than one line of the order was sold from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub line_aliases: BTreeMap<String, String>,
}

/// What intake remembers of one part of a channel order (a Trendyol package, a
/// Hepsiburada line item) between deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeenPart {
    /// The newest channel `updated_at` of the part applied.
    pub updated_at: Option<DateTime<Utc>>,
    /// The furthest lifecycle stage of the part applied.
    pub rank: Option<u8>,
}

/// The intake log port. Contract: `get` returns `Ok(None)` for a channel order never
/// recorded; `put` replaces the record. Losing the log never duplicates an order (the
/// engine dedupes on the external reference); it only loses staleness by timestamp and
/// reports events again.
pub trait IntakeLog: Send + Sync {
    /// The record of `(channel, external_id)`.
    fn get(&self, channel: &str, external_id: &str) -> Result<Option<SeenOrder>, String>;
    /// Stores the record.
    fn put(&self, channel: &str, external_id: &str, seen: SeenOrder) -> Result<(), String>;
}

/// An in-memory [`IntakeLog`]: channel → external id → record, nested so a lookup
/// borrows its `&str`s. Hashed, not sorted: nothing reads the records in order, and a
/// sorted map of a few hundred thousand external ids compared a dozen and more keys,
/// each behind its own pointer, on every delivery.
#[derive(Debug, Default)]
pub struct MemoryIntakeLog(Mutex<HashMap<String, HashMap<String, SeenOrder>>>);

impl IntakeLog for MemoryIntakeLog {
    fn get(&self, channel: &str, external_id: &str) -> Result<Option<SeenOrder>, String> {
        let map = self
            .0
            .lock()
            .map_err(|_| "intake log lock poisoned".to_string())?;
        Ok(map.get(channel).and_then(|m| m.get(external_id)).cloned())
    }
    fn put(&self, channel: &str, external_id: &str, seen: SeenOrder) -> Result<(), String> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| "intake log lock poisoned".to_string())?;
        match map.get_mut(channel) {
            Some(m) => {
                m.insert(external_id.to_string(), seen);
            }
            None => {
                map.entry(channel.to_string())
                    .or_default()
                    .insert(external_id.to_string(), seen);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(order: &str, event: &str) -> Result<SeenOrder, String> {
        Ok(SeenOrder {
            order_id: OrderId::parse(order).map_err(|e| e.to_string())?,
            updated_at: None,
            rank: Some(2),
            events: [event.to_string()].into_iter().collect(),
            parts: BTreeMap::new(),
            line_aliases: BTreeMap::new(),
        })
    }

    #[test]
    fn records_are_kept_per_channel_and_replaced_whole() -> Result<(), String> {
        let log = MemoryIntakeLog::default();
        assert_eq!(log.get("shopify", "1001")?, None);
        log.put("shopify", "1001", seen("O-1", "refund:1")?)?;
        log.put("trendyol", "1001", seen("O-2", "claim:7")?)?;
        assert_eq!(log.get("shopify", "1001")?, Some(seen("O-1", "refund:1")?));
        assert_eq!(log.get("trendyol", "1001")?, Some(seen("O-2", "claim:7")?));
        assert_eq!(log.get("shopify", "1002")?, None);
        assert_eq!(log.get("ebay", "1001")?, None);
        // A put replaces the record: nothing of the old one is merged in.
        log.put("shopify", "1001", seen("O-1", "refund:2")?)?;
        assert_eq!(log.get("shopify", "1001")?, Some(seen("O-1", "refund:2")?));
        Ok(())
    }
}
