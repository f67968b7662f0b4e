//! Identifier mapping: a channel's SKU / barcode / variant id → ordersmith's variant,
//! and back (a variant → the identifiers a stock push needs on that channel).
//!
//! Three implementations of the [`IdentifierMap`] port: the host's own, over its own
//! tables; [`crate::stored::StoreIdentifierMap`], kept in the engine's store (memory,
//! SQLite or PostgreSQL) so it persists and is shared wherever the orders are; and
//! [`MemoryIdentifierMap`], whose whole content is a serde [`MappingSnapshot`] the host
//! can persist anywhere (a JSON file, a key-value row) and load back.
//!
//! ```
//! use ordersmith::ids::VariantId;
//! use ordersmith_channels::mapping::{IdKind, IdentifierMap, Listing, MemoryIdentifierMap};
//!
//! let map = MemoryIdentifierMap::new();
//! let mug = VariantId::parse("MUG-RED")?;
//! map.set_listing("trendyol", &mug, Listing { sku: Some("TY-MUG".into()),
//!     barcode: Some("8690000000011".into()), ..Listing::default() })?;
//! assert_eq!(map.resolve("trendyol", IdKind::Barcode, "8690000000011")?, Some(mug.clone()));
//! assert_eq!(map.resolve("shopify", IdKind::Sku, "TY-MUG")?, None);
//! let copy = MemoryIdentifierMap::from_snapshot(map.snapshot()?)?;
//! assert_eq!(copy.listing("trendyol", &mug)?, map.listing("trendyol", &mug)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::sync::RwLock;

use ordersmith::errors::{ErrorKind, OrdersmithError};
use ordersmith::ids::VariantId;
use serde::{Deserialize, Serialize};

/// Why a mapping call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(untagged)]
pub enum MappingError {
    /// The external id already names another variant on that channel.
    #[error("{channel} {kind} {external} already maps to {existing}")]
    Conflict {
        /// The channel.
        channel: String,
        /// Which identifier.
        kind: IdKind,
        /// The external identifier.
        external: String,
        /// The variant it maps to.
        existing: VariantId,
    },
    /// A snapshot could not be read.
    #[error("invalid mapping snapshot: {reason}")]
    InvalidSnapshot {
        /// Why.
        reason: String,
    },
    /// The host's mapping store failed; retry later.
    #[error("identifier mapping unavailable: {reason}")]
    Unavailable {
        /// Why.
        reason: String,
    },
}

impl MappingError {
    /// Every code this enum returns.
    pub const CODES: &'static [&'static str] = &[
        "MAPPING_CONFLICT",
        "MAPPING_INVALID_SNAPSHOT",
        "MAPPING_UNAVAILABLE",
    ];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Conflict { .. } => "MAPPING_CONFLICT",
            Self::InvalidSnapshot { .. } => "MAPPING_INVALID_SNAPSHOT",
            Self::Unavailable { .. } => "MAPPING_UNAVAILABLE",
        }
    }
}

impl OrdersmithError for MappingError {
    fn code(&self) -> &'static str {
        MappingError::code(self)
    }
    fn kind(&self) -> ErrorKind {
        crate::error::kind_of(self.code())
    }
}

/// Which external identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// Seller SKU.
    Sku,
    /// Barcode / GTIN.
    Barcode,
    /// The channel's variant / listing id.
    VariantId,
}

impl std::fmt::Display for IdKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdKind::Sku => "sku",
            IdKind::Barcode => "barcode",
            IdKind::VariantId => "variant_id",
        })
    }
}

/// What a channel needs to update a variant's stock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Listing {
    /// Seller SKU on the channel (Hepsiburada `merchantSku`, Amazon / eBay `sku`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Barcode (Trendyol's stock key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    /// The channel's variant id (Shopify `variant_id`, Woo product or variation id,
    /// Hepsiburada `hepsiburadaSku`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    /// Shopify `inventory_item_id`; Woo parent product id of a variation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_item_id: Option<String>,
    /// Amazon product type (for listings patches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    /// eBay offer ids of this SKU (one per marketplace it is offered on): a stock push
    /// then sets each offer's available quantity as well as the inventory item's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offer_ids: Vec<String>,
    /// The marketplace ships this listing from its own stock (Amazon FBA, Hepsiburada
    /// `isFulfilledByHB`): its stock is the marketplace's count, so a push never
    /// touches it (the plan lists it under `marketplace_fulfilled`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fulfilled_by_marketplace: bool,
}

/// The mapping port. Contract:
/// - `resolve` returns `Ok(None)` for an identifier that is not mapped (never an
///   error); it is case-sensitive and exact.
/// - `listing` returns `Ok(None)` when the variant is not listed on the channel; a
///   stock push skips it and reports it.
/// - Both are reads: safe to call any number of times, from many threads.
pub trait IdentifierMap: Send + Sync {
    /// The variant an external identifier names on `channel`.
    fn resolve(
        &self,
        channel: &str,
        kind: IdKind,
        external: &str,
    ) -> Result<Option<VariantId>, MappingError>;
    /// The listing of `variant` on `channel`.
    fn listing(&self, channel: &str, variant: &VariantId) -> Result<Option<Listing>, MappingError>;
}

/// Everything a [`MemoryIdentifierMap`] knows, for persistence.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSnapshot {
    /// channel → variant → listing.
    #[serde(default)]
    pub listings: BTreeMap<String, BTreeMap<VariantId, Listing>>,
}

type Key = (String, IdKind, String);

/// channel → kind → external id → variant: nested so a lookup borrows its `&str`s
/// instead of building an owned key per line of every import.
type IdTable = BTreeMap<String, BTreeMap<IdKind, BTreeMap<String, VariantId>>>;

#[derive(Default)]
struct Tables {
    ids: IdTable,
    listings: BTreeMap<String, BTreeMap<VariantId, Listing>>,
}

impl Tables {
    fn id(&self, channel: &str, kind: IdKind, external: &str) -> Option<&VariantId> {
        self.ids.get(channel)?.get(&kind)?.get(external)
    }

    fn insert_id(&mut self, (channel, kind, external): Key, variant: VariantId) {
        self.ids
            .entry(channel)
            .or_default()
            .entry(kind)
            .or_default()
            .insert(external, variant);
    }

    fn remove_id(&mut self, channel: &str, kind: IdKind, external: &str) {
        if let Some(m) = self.ids.get_mut(channel).and_then(|k| k.get_mut(&kind)) {
            m.remove(external);
        }
    }
}

/// An in-memory map, built from listings; its snapshot is its persistence.
#[derive(Default)]
pub struct MemoryIdentifierMap {
    tables: RwLock<Tables>,
}

fn poisoned() -> MappingError {
    MappingError::Unavailable {
        reason: "lock poisoned by a panicking thread".into(),
    }
}

impl MemoryIdentifierMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `variant`'s listing on `channel`; its SKU, barcode and variant id then
    /// resolve to `variant`. An identifier already naming another variant is
    /// [`MappingError::Conflict`] and nothing changes.
    pub fn set_listing(
        &self,
        channel: &str,
        variant: &VariantId,
        listing: Listing,
    ) -> Result<(), MappingError> {
        let mut t = self.tables.write().map_err(|_| poisoned())?;
        let keys: Vec<Key> = [
            (IdKind::Sku, &listing.sku),
            (IdKind::Barcode, &listing.barcode),
            (IdKind::VariantId, &listing.variant_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (channel.to_string(), k, v.clone())))
        .collect();
        for key in &keys {
            if let Some(existing) = t.id(&key.0, key.1, &key.2) {
                if existing != variant {
                    return Err(MappingError::Conflict {
                        channel: channel.to_string(),
                        kind: key.1,
                        external: key.2.clone(),
                        existing: existing.clone(),
                    });
                }
            }
        }
        if let Some(old) = t
            .listings
            .get(channel)
            .and_then(|m| m.get(variant))
            .cloned()
        {
            for (k, v) in [
                (IdKind::Sku, old.sku),
                (IdKind::Barcode, old.barcode),
                (IdKind::VariantId, old.variant_id),
            ] {
                if let Some(v) = v {
                    t.remove_id(channel, k, &v);
                }
            }
        }
        for key in keys {
            t.insert_id(key, variant.clone());
        }
        t.listings
            .entry(channel.to_string())
            .or_default()
            .insert(variant.clone(), listing);
        Ok(())
    }

    /// The whole content.
    pub fn snapshot(&self) -> Result<MappingSnapshot, MappingError> {
        let t = self.tables.read().map_err(|_| poisoned())?;
        Ok(MappingSnapshot {
            listings: t.listings.clone(),
        })
    }

    /// A map loaded from a snapshot (conflicting identifiers are refused).
    pub fn from_snapshot(snapshot: MappingSnapshot) -> Result<Self, MappingError> {
        let map = Self::new();
        for (channel, listings) in snapshot.listings {
            for (variant, listing) in listings {
                map.set_listing(&channel, &variant, listing)?;
            }
        }
        Ok(map)
    }

    /// A map loaded from snapshot JSON.
    pub fn from_json(json: &str) -> Result<Self, MappingError> {
        let snapshot: MappingSnapshot =
            serde_json::from_str(json).map_err(|e| MappingError::InvalidSnapshot {
                reason: e.to_string(),
            })?;
        Self::from_snapshot(snapshot)
    }

    /// The snapshot as JSON.
    pub fn to_json(&self) -> Result<String, MappingError> {
        serde_json::to_string(&self.snapshot()?).map_err(|e| MappingError::InvalidSnapshot {
            reason: e.to_string(),
        })
    }
}

impl IdentifierMap for MemoryIdentifierMap {
    fn resolve(
        &self,
        channel: &str,
        kind: IdKind,
        external: &str,
    ) -> Result<Option<VariantId>, MappingError> {
        let t = self.tables.read().map_err(|_| poisoned())?;
        Ok(t.id(channel, kind, external).cloned())
    }

    fn listing(&self, channel: &str, variant: &VariantId) -> Result<Option<Listing>, MappingError> {
        let t = self.tables.read().map_err(|_| poisoned())?;
        Ok(t.listings
            .get(channel)
            .and_then(|m| m.get(variant))
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> VariantId {
        VariantId::parse(s).unwrap()
    }

    #[test]
    fn conflicting_identifier_is_refused_and_changes_nothing() {
        let map = MemoryIdentifierMap::new();
        map.set_listing(
            "shopify",
            &v("A"),
            Listing {
                sku: Some("X".into()),
                ..Listing::default()
            },
        )
        .unwrap();
        let err = map
            .set_listing(
                "shopify",
                &v("B"),
                Listing {
                    sku: Some("X".into()),
                    ..Listing::default()
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), "MAPPING_CONFLICT");
        assert_eq!(map.listing("shopify", &v("B")).unwrap(), None);
        // The same SKU on another channel is another identifier.
        map.set_listing(
            "woo_commerce",
            &v("B"),
            Listing {
                sku: Some("X".into()),
                ..Listing::default()
            },
        )
        .unwrap();
        assert_eq!(
            map.resolve("woo_commerce", IdKind::Sku, "X").unwrap(),
            Some(v("B"))
        );
    }

    #[test]
    fn replacing_a_listing_forgets_its_old_identifiers() {
        let map = MemoryIdentifierMap::new();
        map.set_listing(
            "ebay",
            &v("A"),
            Listing {
                sku: Some("OLD".into()),
                ..Listing::default()
            },
        )
        .unwrap();
        map.set_listing(
            "ebay",
            &v("A"),
            Listing {
                sku: Some("NEW".into()),
                ..Listing::default()
            },
        )
        .unwrap();
        assert_eq!(map.resolve("ebay", IdKind::Sku, "OLD").unwrap(), None);
        assert_eq!(
            map.resolve("ebay", IdKind::Sku, "NEW").unwrap(),
            Some(v("A"))
        );
    }

    #[test]
    fn bad_snapshot_json_is_typed() {
        assert_eq!(
            MemoryIdentifierMap::from_json("{\"listings\": 3}")
                .err()
                .map(|e| e.code()),
            Some("MAPPING_INVALID_SNAPSHOT")
        );
        assert_eq!(
            MemoryIdentifierMap::from_json("{}")
                .unwrap()
                .snapshot()
                .unwrap(),
            MappingSnapshot::default()
        );
    }
}
