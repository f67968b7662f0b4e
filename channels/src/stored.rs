//! The identifier map and the intake log kept in the engine's own store, as keyed
//! records ([`ordersmith::ports::KeyedRecord`]): they persist wherever the orders do
//! (memory, SQLite, PostgreSQL), survive restarts, are shared by every process on the
//! same database, and travel with a dump.
//!
//! Records, one per fact, keyed by a JSON array so no channel id or SKU can be mistaken
//! for a separator:
//!
//! | namespace | key | value |
//! |---|---|---|
//! | `channels.id` | `["shopify","sku","MUG-1"]` | the variant id (JSON string) |
//! | `channels.listing` | `["shopify","MUG-RED"]` | the [`Listing`] |
//! | `channels.intake` | `["shopify","8101"]` | the [`SeenOrder`] |
//!
//! A listing and its identifiers change in one commit with version checks, so two
//! processes mapping the same SKU to different variants at once cannot both succeed: one
//! gets [`MappingError::Conflict`].
//!
//! ```
//! use ordersmith::engine::Engine;
//! use ordersmith::ids::VariantId;
//! use ordersmith_channels::mapping::{IdKind, IdentifierMap, Listing};
//! use ordersmith_channels::stored::StoreIdentifierMap;
//!
//! let engine = Engine::in_memory();
//! let map = StoreIdentifierMap::new(engine.store());
//! let mug = VariantId::parse("MUG-RED")?;
//! map.set_listing("shopify", &mug, Listing { sku: Some("MUG-1".into()), ..Listing::default() })?;
//! // Another map over the same store (another process on the same database) sees it.
//! let again = StoreIdentifierMap::new(engine.store());
//! assert_eq!(again.resolve("shopify", IdKind::Sku, "MUG-1")?, Some(mug));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use ordersmith::ids::VariantId;
use ordersmith::ports::{ChangeSet, KeyedRecord, RecordWrite, Store, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::intake::{IntakeLog, SeenOrder};
use crate::mapping::{IdKind, IdentifierMap, Listing, MappingError, MappingSnapshot};

/// Namespace of external identifier → variant records.
pub const IDS_NAMESPACE: &str = "channels.id";
/// Namespace of (channel, variant) → listing records.
pub const LISTINGS_NAMESPACE: &str = "channels.listing";
/// Namespace of (channel, external order id) → intake log records.
pub const INTAKE_NAMESPACE: &str = "channels.intake";

/// Attempts of a read-check-write before a lost race is reported.
const ATTEMPTS: usize = 16;

fn key<const N: usize>(parts: [&str; N]) -> Result<String, MappingError> {
    serde_json::to_string(parts.as_slice()).map_err(|e| MappingError::Unavailable {
        reason: format!("record key could not be written: {e}"),
    })
}

fn unavailable(e: StoreError) -> MappingError {
    MappingError::Unavailable {
        reason: e.to_string(),
    }
}

fn decode<T: DeserializeOwned>(record: &KeyedRecord) -> Result<T, MappingError> {
    serde_json::from_str(&record.value_json).map_err(|e| MappingError::Unavailable {
        reason: format!(
            "stored record {}/{} is not valid: {e}",
            record.namespace, record.key
        ),
    })
}

fn encode<T: Serialize>(value: &T) -> Result<String, MappingError> {
    serde_json::to_string(value).map_err(|e| MappingError::Unavailable {
        reason: format!("record could not be written: {e}"),
    })
}

fn write(namespace: &str, key: String, expected: u64, value: Option<String>) -> RecordWrite {
    RecordWrite {
        namespace: namespace.to_string(),
        key,
        expected_version: expected,
        value_json: value,
    }
}

/// An [`IdentifierMap`] in the engine's store (see the module docs).
pub struct StoreIdentifierMap {
    store: Arc<dyn Store>,
}

impl StoreIdentifierMap {
    /// A map over `store` (usually `engine.store()`).
    pub fn new(store: Arc<dyn Store>) -> Self {
        StoreIdentifierMap { store }
    }

    /// Sets `variant`'s listing on `channel`; its SKU, barcode and variant id then
    /// resolve to `variant`, and identifiers it no longer has stop resolving. An
    /// identifier already naming another variant is [`MappingError::Conflict`] and
    /// nothing changes. Concurrent writers are serialised by version checks.
    pub fn set_listing(
        &self,
        channel: &str,
        variant: &VariantId,
        listing: Listing,
    ) -> Result<(), MappingError> {
        for _ in 0..ATTEMPTS {
            match self.try_set_listing(channel, variant, &listing) {
                Err(Retry::Again) => continue,
                Err(Retry::Fail(e)) => return Err(e),
                Ok(()) => return Ok(()),
            }
        }
        Err(MappingError::Unavailable {
            reason: format!("listing of {variant} on {channel} kept changing concurrently"),
        })
    }

    fn try_set_listing(
        &self,
        channel: &str,
        variant: &VariantId,
        listing: &Listing,
    ) -> Result<(), Retry> {
        let listing_key = key([channel, variant.as_str()])?;
        let old = self
            .store
            .keyed_record(LISTINGS_NAMESPACE, &listing_key)
            .map_err(unavailable)?;
        let old_listing: Option<Listing> = old.as_ref().map(decode).transpose()?;
        let mut writes = Vec::new();
        let ids = |l: &Listing| -> Vec<(IdKind, String)> {
            [
                (IdKind::Sku, &l.sku),
                (IdKind::Barcode, &l.barcode),
                (IdKind::VariantId, &l.variant_id),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect()
        };
        let new_ids = ids(listing);
        for (kind, external) in &new_ids {
            let id_key = key([channel, &kind.to_string(), external])?;
            let found = self
                .store
                .keyed_record(IDS_NAMESPACE, &id_key)
                .map_err(unavailable)?;
            match found {
                Some(r) => {
                    let existing: VariantId = decode(&r)?;
                    if &existing != variant {
                        return Err(Retry::Fail(MappingError::Conflict {
                            channel: channel.to_string(),
                            kind: *kind,
                            external: external.clone(),
                            existing,
                        }));
                    }
                    // Already ours: rewrite at its version so a concurrent remap of
                    // it conflicts with this commit.
                    writes.push(write(IDS_NAMESPACE, id_key, r.version, Some(r.value_json)));
                }
                None => writes.push(write(IDS_NAMESPACE, id_key, 0, Some(encode(variant)?))),
            }
        }
        for (kind, external) in old_listing.as_ref().map(ids).unwrap_or_default() {
            if new_ids.contains(&(kind, external.clone())) {
                continue;
            }
            let id_key = key([channel, &kind.to_string(), &external])?;
            if let Some(r) = self
                .store
                .keyed_record(IDS_NAMESPACE, &id_key)
                .map_err(unavailable)?
            {
                if decode::<VariantId>(&r)? == *variant {
                    writes.push(write(IDS_NAMESPACE, id_key, r.version, None));
                }
            }
        }
        writes.push(write(
            LISTINGS_NAMESPACE,
            listing_key,
            old.map_or(0, |r| r.version),
            Some(encode(listing)?),
        ));
        match self.store.commit(ChangeSet {
            records: writes,
            ..ChangeSet::default()
        }) {
            Ok(()) => Ok(()),
            Err(e) if e.is_retryable() => Err(Retry::Again),
            Err(e) => Err(Retry::Fail(unavailable(e))),
        }
    }

    /// Every listing, for a backup or to move to another map.
    pub fn snapshot(&self) -> Result<MappingSnapshot, MappingError> {
        let mut snapshot = MappingSnapshot::default();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .keyed_records(LISTINGS_NAMESPACE, after.as_deref(), 500)
                .map_err(unavailable)?;
            let full = page.len() == 500;
            after = page.last().map(|r| r.key.clone());
            for r in page {
                let [channel, variant]: [String; 2] =
                    serde_json::from_str(&r.key).map_err(|e| MappingError::Unavailable {
                        reason: format!("stored listing key {} is not valid: {e}", r.key),
                    })?;
                let variant = VariantId::parse(variant).map_err(|e| MappingError::Unavailable {
                    reason: format!("stored listing key {} names no variant: {e}", r.key),
                })?;
                snapshot
                    .listings
                    .entry(channel)
                    .or_default()
                    .insert(variant, decode(&r)?);
            }
            if !full {
                return Ok(snapshot);
            }
        }
    }

    /// Loads every listing of `snapshot` (a [`crate::mapping::MemoryIdentifierMap`]
    /// snapshot, or one from [`StoreIdentifierMap::snapshot`]); stops at the first
    /// conflicting identifier, keeping the listings set before it.
    pub fn load_snapshot(&self, snapshot: MappingSnapshot) -> Result<(), MappingError> {
        for (channel, listings) in snapshot.listings {
            for (variant, listing) in listings {
                self.set_listing(&channel, &variant, listing)?;
            }
        }
        Ok(())
    }
}

impl StoreIdentifierMap {
    /// Loads a snapshot given as JSON (what [`StoreIdentifierMap::to_json`] or
    /// [`crate::mapping::MemoryIdentifierMap::to_json`] wrote); malformed JSON is
    /// [`MappingError::InvalidSnapshot`] and changes nothing.
    pub fn load_json(&self, json: &str) -> Result<(), MappingError> {
        let snapshot: MappingSnapshot =
            serde_json::from_str(json).map_err(|e| MappingError::InvalidSnapshot {
                reason: e.to_string(),
            })?;
        self.load_snapshot(snapshot)
    }

    /// Every listing as snapshot JSON.
    pub fn to_json(&self) -> Result<String, MappingError> {
        serde_json::to_string(&self.snapshot()?).map_err(|e| MappingError::InvalidSnapshot {
            reason: e.to_string(),
        })
    }
}

enum Retry {
    Again,
    Fail(MappingError),
}

impl From<MappingError> for Retry {
    fn from(e: MappingError) -> Self {
        Retry::Fail(e)
    }
}

impl IdentifierMap for StoreIdentifierMap {
    fn resolve(
        &self,
        channel: &str,
        kind: IdKind,
        external: &str,
    ) -> Result<Option<VariantId>, MappingError> {
        let id_key = key([channel, &kind.to_string(), external])?;
        self.store
            .keyed_record(IDS_NAMESPACE, &id_key)
            .map_err(unavailable)?
            .map(|r| decode(&r))
            .transpose()
    }

    fn listing(&self, channel: &str, variant: &VariantId) -> Result<Option<Listing>, MappingError> {
        let listing_key = key([channel, variant.as_str()])?;
        self.store
            .keyed_record(LISTINGS_NAMESPACE, &listing_key)
            .map_err(unavailable)?
            .map(|r| decode(&r))
            .transpose()
    }
}

/// An [`IntakeLog`] in the engine's store (see the module docs). `put` replaces the
/// record whatever its version (the port's contract): the order itself is deduplicated
/// by the engine, the log only remembers staleness and reported events.
pub struct StoreIntakeLog {
    store: Arc<dyn Store>,
}

impl StoreIntakeLog {
    /// A log over `store` (usually `engine.store()`).
    pub fn new(store: Arc<dyn Store>) -> Self {
        StoreIntakeLog { store }
    }
}

impl IntakeLog for StoreIntakeLog {
    fn get(&self, channel: &str, external_id: &str) -> Result<Option<SeenOrder>, String> {
        let k = key([channel, external_id]).map_err(|e| e.to_string())?;
        let found = self
            .store
            .keyed_record(INTAKE_NAMESPACE, &k)
            .map_err(|e| e.to_string())?;
        found
            .map(|r| decode(&r).map_err(|e| e.to_string()))
            .transpose()
    }

    fn put(&self, channel: &str, external_id: &str, seen: SeenOrder) -> Result<(), String> {
        let k = key([channel, external_id]).map_err(|e| e.to_string())?;
        let json = encode(&seen).map_err(|e| e.to_string())?;
        for _ in 0..ATTEMPTS {
            let version = self
                .store
                .keyed_record(INTAKE_NAMESPACE, &k)
                .map_err(|e| e.to_string())?
                .map_or(0, |r| r.version);
            match self.store.commit(ChangeSet {
                records: vec![write(
                    INTAKE_NAMESPACE,
                    k.clone(),
                    version,
                    Some(json.clone()),
                )],
                ..ChangeSet::default()
            }) {
                Ok(()) => return Ok(()),
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!(
            "intake record of {channel} order {external_id} kept changing concurrently"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordersmith::engine::Engine;

    fn v(s: &str) -> VariantId {
        VariantId::parse(s).unwrap()
    }

    fn sku(s: &str) -> Listing {
        Listing {
            sku: Some(s.into()),
            ..Listing::default()
        }
    }

    #[test]
    fn remapping_moves_identifiers_and_conflicts_change_nothing() {
        let engine = Engine::in_memory();
        let map = StoreIdentifierMap::new(engine.store());
        map.set_listing("shopify", &v("A"), sku("X")).unwrap();
        // A's SKU changes: the old one stops resolving.
        map.set_listing("shopify", &v("A"), sku("Y")).unwrap();
        assert_eq!(map.resolve("shopify", IdKind::Sku, "X").unwrap(), None);
        assert_eq!(
            map.resolve("shopify", IdKind::Sku, "Y").unwrap(),
            Some(v("A"))
        );
        let before = map.snapshot().unwrap();
        let err = map.set_listing("shopify", &v("B"), sku("Y")).unwrap_err();
        assert_eq!(err.code(), "MAPPING_CONFLICT");
        assert_eq!(map.snapshot().unwrap(), before);
        assert_eq!(map.listing("shopify", &v("B")).unwrap(), None);
        // Another channel is another namespace of identifiers; odd characters are keys.
        map.set_listing("shop/eu", &v("B"), sku("Y\",\"x")).unwrap();
        assert_eq!(
            map.resolve("shop/eu", IdKind::Sku, "Y\",\"x").unwrap(),
            Some(v("B"))
        );
        let copy = StoreIdentifierMap::new(Engine::in_memory().store());
        copy.load_snapshot(map.snapshot().unwrap()).unwrap();
        assert_eq!(copy.snapshot().unwrap(), map.snapshot().unwrap());
    }

    #[test]
    fn racing_writers_of_one_sku_never_both_win() {
        let engine = Engine::in_memory();
        let store = engine.store();
        let handles: Vec<_> = ["A", "B", "C", "D"]
            .into_iter()
            .map(|variant| {
                let store = store.clone();
                std::thread::spawn(move || {
                    StoreIdentifierMap::new(store).set_listing("shopify", &v(variant), sku("S"))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        let map = StoreIdentifierMap::new(store);
        let winner = map.resolve("shopify", IdKind::Sku, "S").unwrap().unwrap();
        let listed = map.snapshot().unwrap().listings["shopify"]
            .keys()
            .cloned()
            .collect::<Vec<_>>();
        assert_eq!(listed, [winner]);
    }
}
