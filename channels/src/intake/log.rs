//! The intake log port: what intake remembers of each channel order between
//! deliveries (for staleness by timestamp and events reported once).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ordersmith::ids::OrderId;
use serde::{Deserialize, Serialize};

use crate::model::PartLine;

use super::report::ClaimDecision;

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
    /// Claims and returns of the order settled as RMAs (made, or refused for good), by
    /// the event's id (`claim:<id>`, as in `events`): the RMA each became and the
    /// channel's decision on it the RMA last followed, so a later delivery acts only
    /// when that decision changed. Records written before these were kept have none: a
    /// settled claim without one has its RMA found by its note, and follows whatever
    /// decision the channel states next.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, SeenClaim>,
}

/// What intake remembers of a claim or return settled as an RMA
/// ([`crate::intake::Intake::import_events`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeenClaim {
    /// The RMA it became; `None` when it was refused for good (there is no RMA to
    /// follow the channel's decisions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rma: Option<String>,
    /// The channel's decision ([`ClaimDecision::of_status`]) the RMA follows: the one
    /// the claim had when its RMA was made (an accepted claim's RMA is approved by
    /// override then), or a later one applied to it or refused for good by the core.
    /// `None`: undecided so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<ClaimDecision>,
}

/// What intake remembers of one part of a channel order (a Trendyol package, a
/// Hepsiburada line item) between deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeenPart {
    /// The newest channel `updated_at` of the part applied.
    pub updated_at: Option<DateTime<Utc>>,
    /// The furthest lifecycle stage of the part applied.
    pub rank: Option<u8>,
    /// The part was replaced by the parts made from it ([`crate::ChannelPart::superseded`],
    /// or named in another part's [`crate::ChannelPart::replaces`], perhaps before the
    /// part itself was seen): its units no longer count. For good: a Trendyol package
    /// is split only before it ships, and `UnPacked` is its last status.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub superseded: bool,
    /// The part named the parts it was made from ([`crate::ChannelPart::replaces`]):
    /// it is known not to be made from any other part the log holds live. A part that
    /// names none may have been made from another part still open whose `UnPacked`
    /// news has not arrived, so a line's units are not added up over the two.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub names_origin: bool,
    /// The units of each line the part carries and their stages, at the part's newest
    /// reading applied ([`crate::ChannelPart::lines`]), for adding a line split across
    /// parts up over all of them. `None` when unknown: the adapter does not say
    /// (Hepsiburada), the part is superseded, or the record was written before parts'
    /// lines were kept (such a part then counts for nothing in those sums).
    ///
    /// A boxed slice, not a `Vec`: a record is kept for good, one of these per part (a
    /// Hepsiburada part too, as `None`), and it is never grown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Box<[PartLine]>>,
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
            claims: BTreeMap::new(),
        })
    }

    /// A record written before parts kept their lines (or whether they were
    /// superseded) still loads, and a part with neither writes neither.
    #[test]
    fn records_without_part_lines_still_load() -> Result<(), String> {
        let old = r#"{"order_id": "O-1", "updated_at": null, "rank": 2, "events": [],
            "parts": {"3330000002": {"updated_at": "2026-11-20T13:30:00Z", "rank": 4}}}"#;
        let seen: SeenOrder = serde_json::from_str(old).map_err(|e| e.to_string())?;
        let part = seen.parts.get("3330000002").ok_or("part lost")?;
        assert_eq!(
            (part.rank, part.superseded, &part.lines),
            (Some(4), false, &None)
        );
        let written = serde_json::to_string(part).map_err(|e| e.to_string())?;
        assert_eq!(written, r#"{"updated_at":"2026-11-20T13:30:00Z","rank":4}"#);
        let with_lines = SeenPart {
            lines: Some(Box::new([PartLine {
                line: "1001".into(),
                quantity: 1,
                shipped: 1,
                ..PartLine::default()
            }])),
            ..SeenPart::default()
        };
        let written = serde_json::to_string(&with_lines).map_err(|e| e.to_string())?;
        assert_eq!(
            written,
            r#"{"updated_at":null,"rank":null,"lines":[{"line":"1001","quantity":1,"shipped":1}]}"#
        );
        let back: SeenPart = serde_json::from_str(&written).map_err(|e| e.to_string())?;
        assert_eq!(back, with_lines);
        Ok(())
    }

    /// A record written before claims' RMAs were kept still loads (with none), and a
    /// claim's record reads back as written.
    #[test]
    fn records_without_claims_still_load() -> Result<(), String> {
        let old = r#"{"order_id": "O-1", "updated_at": null, "rank": 6,
            "events": ["claim:c1", "rma:claim:c1"]}"#;
        let seen: SeenOrder = serde_json::from_str(old).map_err(|e| e.to_string())?;
        assert!(seen.claims.is_empty());
        let written = serde_json::to_string(&seen).map_err(|e| e.to_string())?;
        assert!(!written.contains("claims"), "{written}");
        let mut seen = seen;
        seen.claims.insert(
            "claim:c1".into(),
            SeenClaim {
                rma: Some("R1".into()),
                decision: Some(ClaimDecision::Accepted),
            },
        );
        seen.claims.insert("claim:c2".into(), SeenClaim::default());
        let written = serde_json::to_string(&seen).map_err(|e| e.to_string())?;
        assert!(
            written.contains(
                r#""claims":{"claim:c1":{"rma":"R1","decision":"accepted"},"claim:c2":{}}"#
            ),
            "{written}"
        );
        let back: SeenOrder = serde_json::from_str(&written).map_err(|e| e.to_string())?;
        assert_eq!(back, seen);
        Ok(())
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
