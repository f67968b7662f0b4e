//! The identifier map and the intake log kept in the engine's store: on a SQLite file
//! they survive a restart, so after it a SKU still resolves, a re-delivered order is
//! still one order, and a late delivery of an older status is still recognised as stale.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::fixture;
use ordersmith::engine::Engine;
use ordersmith::ids::{LocationId, VariantId};
use ordersmith::ports::dump;
use ordersmith::ports::memory::{SequentialIds, SystemClock};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_channels::intake::{ImportOutcome, Intake, IntakeOptions};
use ordersmith_channels::mapping::{IdKind, IdentifierMap, Listing};
use ordersmith_channels::stored::{StoreIdentifierMap, StoreIntakeLog};
use ordersmith_channels::Channel;
use ordersmith_sqlite::SqliteStore;

fn v(s: &str) -> VariantId {
    VariantId::parse(s).unwrap()
}

fn open(path: &Path) -> Engine {
    let store = Arc::new(SqliteStore::open(path).unwrap());
    Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock::new()),
        store,
    )
}

#[test]
fn mapping_and_intake_log_survive_a_restart_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let trendyol = |file: &str| fixture(&format!("trendyol/{file}"));
    let id = {
        let engine = open(&path);
        let wh = LocationId::parse("WH").unwrap();
        let mut cmds = vec![StockCommand::AddLocation {
            location: Location::new(wh.clone(), "Warehouse", 1, "TR-34", LocationKind::Warehouse),
        }];
        for sku in ["TEA", "CUP"] {
            cmds.push(StockCommand::RegisterVariant {
                variant: v(sku),
                policy: StockPolicy::Deny,
            });
            cmds.push(StockCommand::Receive {
                variant: v(sku),
                location: wh.clone(),
                quantity: 10,
                reference: None,
            });
        }
        engine.stock_batch(cmds).unwrap();
        let map = StoreIdentifierMap::new(engine.store());
        for (variant, sku, barcode) in [
            ("TEA", "TEA-500", "8690000000011"),
            ("CUP", "CUP", "8690000000028"),
        ] {
            map.set_listing(
                "trendyol",
                &v(variant),
                Listing {
                    sku: Some(sku.into()),
                    barcode: Some(barcode.into()),
                    ..Listing::default()
                },
            )
            .unwrap();
        }
        let log = StoreIntakeLog::new(engine.store());
        let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
        let first = intake
            .import_payload(Channel::Trendyol, &trendyol("new_names.json"))
            .unwrap();
        assert_eq!(first.outcome, ImportOutcome::Created);
        assert!(first.unmapped.is_empty(), "{:?}", first.unmapped);
        let split = intake
            .import_payload(Channel::Trendyol, &trendyol("split_packages.json"))
            .unwrap();
        assert_eq!(split.outcome, ImportOutcome::Updated);
        first.order.unwrap().id
    };
    // A new process on the same file.
    let engine = open(&path);
    let map = StoreIdentifierMap::new(engine.store());
    assert_eq!(
        map.resolve("trendyol", IdKind::Barcode, "8690000000011")
            .unwrap(),
        Some(v("TEA"))
    );
    let log = StoreIntakeLog::new(engine.store());
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    // The created-status delivery arriving late is older than what was applied before
    // the restart: only the persisted log knows that.
    let late = intake
        .import_payload(Channel::Trendyol, &trendyol("new_names.json"))
        .unwrap();
    assert_eq!(late.outcome, ImportOutcome::Stale, "{late:?}");
    assert_eq!(late.order.unwrap().id, id);
    let again = intake
        .import_payload(Channel::Trendyol, &trendyol("split_packages.json"))
        .unwrap();
    assert_eq!(again.outcome, ImportOutcome::Unchanged);
    assert_eq!(engine.list_orders(&Default::default()).unwrap().len(), 1);
    // The map and the log travel with a dump to another store.
    let store = SqliteStore::open(&path).unwrap();
    let mut bytes = Vec::new();
    let stats = dump::export(&store, &store, &mut bytes).unwrap();
    assert!(stats.records >= 5, "{stats:?}");
    let target = ordersmith::ports::memory::MemoryStore::new();
    dump::import(&target, &target, bytes.as_slice()).unwrap();
    let target = Arc::new(target);
    let moved = Engine::new(
        target.clone(),
        target.clone(),
        Arc::new(SystemClock::new()),
        Arc::new(SequentialIds::new()),
    );
    assert_eq!(
        StoreIdentifierMap::new(moved.store())
            .resolve("trendyol", IdKind::Sku, "CUP")
            .unwrap(),
        Some(v("CUP"))
    );
}
