//! Moving a shop between engines: `Engine::export_dump` then `Engine::import_dump`, and
//! the moved shop keeps writing on a ledger and an id source brought up to date.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineConfig};
use ordersmith::ports::dump::DumpError;
use ordersmith::ports::OrderQuery;

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn dump_of(engine: &Engine) -> Vec<u8> {
    let mut bytes = Vec::new();
    engine.export_dump(&mut bytes).unwrap();
    bytes
}

/// A shop with 10 of each sample variant at IST, three orders (two confirmed, so
/// SHIRT-M has 4 and MUG 2 reserved), one idempotency key and pending effects.
fn busy_shop() -> TestEngine {
    let t = test_engine();
    stock_at_ist(&t.engine, 10);
    for n in 0..3 {
        let key = format!("place-{n}");
        let order = t
            .engine
            .place_order(sample_order("web"), &ctx().with_idempotency_key(key))
            .unwrap();
        if n < 2 {
            t.engine.confirm_order(&order.id, &ctx()).unwrap();
        }
    }
    t
}

/// A fresh engine that has already read its (empty) store, so its ledger thinks it is
/// caught up, and that may not retry a write: an id that repeats an imported order's
/// would be a lost race, and with one attempt `ENGINE_CONFLICT`.
fn fresh_target() -> TestEngine {
    let mut t = test_engine();
    t.engine = t.engine.with_config(EngineConfig {
        max_attempts: 1,
        ..EngineConfig::default()
    });
    assert_eq!(t.engine.with_stock(|s| s.journal_len()).unwrap(), 0);
    t
}

#[test]
fn a_moved_shop_reads_the_same_and_keeps_writing() {
    let source = busy_shop();
    let bytes = dump_of(&source.engine);
    let target = fresh_target();
    let stats = target.engine.import_dump(bytes.as_slice()).unwrap();
    assert_eq!(
        (stats.orders, stats.idempotency, stats.stock),
        (3, 3, 5 + 2 * 2)
    );
    assert!(stats.outbox > 0);

    // The same orders, stock and pending effects; the same dump byte for byte.
    let all = |e: &Engine| e.list_all_orders(&OrderQuery::default(), None).unwrap();
    assert_eq!(all(&target.engine), all(&source.engine));
    for sku in ["SHIRT-M", "MUG"] {
        assert_eq!(
            level_at_ist(&target.engine, sku),
            level_at_ist(&source.engine, sku)
        );
    }
    assert_eq!(level_at_ist(&target.engine, "SHIRT-M"), (10, 4));
    assert_eq!(
        target.engine.pending_effects(1000).unwrap(),
        source.engine.pending_effects(1000).unwrap()
    );
    assert_eq!(dump_of(&target.engine), bytes);

    // A repeated key gets its first answer on the moved shop too.
    let first = &all(&source.engine)[0];
    let again = target
        .engine
        .place_order(sample_order("web"), &ctx().with_idempotency_key("place-0"))
        .unwrap();
    assert_eq!(again.id, first.id);

    // A new order gets an id of its own at once (one attempt) and its confirmation
    // reserves on the imported ledger: 4 reserved before, 2 more now.
    let new = target
        .engine
        .place_order(sample_order("web"), &ctx())
        .unwrap();
    assert!(all(&source.engine).iter().all(|o| o.id != new.id));
    target.engine.confirm_order(&new.id, &ctx()).unwrap();
    assert_eq!(level_at_ist(&target.engine, "SHIRT-M"), (10, 6));
    assert_eq!(level_at_ist(&target.engine, "MUG"), (10, 3));
    assert_eq!(all(&target.engine).len(), 4);
}

#[test]
fn a_store_with_data_is_refused_and_left_as_it_was() {
    let source = busy_shop();
    let bytes = dump_of(&source.engine);
    let target = test_engine();
    stock_at_ist(&target.engine, 3);
    target
        .engine
        .place_order(sample_order("web"), &ctx())
        .unwrap();
    let before = dump_of(&target.engine);
    let err = target.engine.import_dump(bytes.as_slice()).unwrap_err();
    assert_eq!(err, DumpError::TargetNotEmpty);
    assert_eq!(err.code(), "DUMP_TARGET_NOT_EMPTY");
    assert_eq!(dump_of(&target.engine), before);
    assert_eq!(level_at_ist(&target.engine, "MUG"), (3, 0));
}

#[test]
fn truncated_or_malformed_dumps_are_refused() {
    let bytes = dump_of(&busy_shop().engine);
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // Without its end line: truncated.
    let truncated = lines[..lines.len() - 1].join("\n");
    let err = fresh_target()
        .engine
        .import_dump(truncated.as_bytes())
        .unwrap_err();
    assert!(
        matches!(err, DumpError::Malformed { line: 0, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "DUMP_MALFORMED");

    // A line that is not JSON, named by its number.
    let garbled = format!("{}\nnot json\n{}\n", lines[0], lines[1..].join("\n"));
    let err = fresh_target()
        .engine
        .import_dump(garbled.as_bytes())
        .unwrap_err();
    assert!(
        matches!(err, DumpError::Malformed { line: 2, .. }),
        "{err:?}"
    );

    // Not a dump at all.
    let err = fresh_target()
        .engine
        .import_dump("id,total\n1,10\n".as_bytes())
        .unwrap_err();
    assert_eq!(err.code(), "DUMP_MALFORMED");
}

/// A shop that numbers parcels with SSCCs: `sample_order` confirmed at IST, then its
/// fulfilment order picked and packed into one parcel; returns the parcel's SSCC.
fn pack_one(engine: &Engine) -> String {
    use ordersmith::fulfilment::ParcelSize;
    use ordersmith::order::FulfilmentCommand;
    let order = engine.place_order(sample_order("web"), &ctx()).unwrap();
    let order = engine.confirm_order(&order.id, &ctx()).unwrap();
    let fo = order.fulfilments[0].id.clone();
    let units = vec![lq("L1", 2), lq("L2", 1)];
    engine
        .fulfil(
            &order.id,
            FulfilmentCommand::Pick {
                fulfilment: fo.clone(),
                picked: units.clone(),
                short: Vec::new(),
            },
            &ctx(),
        )
        .unwrap();
    let size = ParcelSize {
        weight_grams: 900,
        length_mm: 300,
        width_mm: 200,
        height_mm: 150,
    };
    let order = engine
        .fulfil(
            &order.id,
            FulfilmentCommand::Pack {
                fulfilment: fo.clone(),
                units,
                size,
            },
            &ctx(),
        )
        .unwrap();
    let parcel = &order.fulfilment(&fo).unwrap().parcels[0];
    parcel.sscc.as_ref().unwrap().as_str().to_string()
}

#[test]
fn parcels_packed_after_a_move_get_ssccs_of_their_own() {
    let with_sscc = |t: TestEngine| {
        t.engine.clone().with_config(EngineConfig {
            sscc: Some(ordersmith::fulfilment::SsccConfig::new(0, "8691234", 1..=999_999).unwrap()),
            ..EngineConfig::default()
        })
    };
    let source = with_sscc(test_engine());
    stock_at_ist(&source, 10);
    let first = pack_one(&source);
    let second = pack_one(&source);
    let target = with_sscc(test_engine());
    target.import_dump(dump_of(&source).as_slice()).unwrap();
    let third = pack_one(&target);
    // The serial is the SSCC's digits after the extension digit and the prefix.
    let serial = |sscc: &str| sscc[8..17].parse::<u64>().unwrap();
    assert_eq!((serial(&first), serial(&second), serial(&third)), (1, 2, 3));
}

/// The file forms the bindings use: a dump goes to a new file only (an existing one is
/// refused and left as it was: it could be the shop's own database) and comes back
/// from it; a missing file is `DUMP_IO`.
#[test]
fn dumps_go_to_new_files_only_and_come_back_from_them() {
    let source = busy_shop();
    let dir = std::env::temp_dir().join(format!(
        "ordersmith-engine-dump-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shop.jsonl");
    let stats = source.engine.export_dump_to_file(&path).unwrap();
    let written = std::fs::read(&path).unwrap();
    assert_eq!(written, dump_of(&source.engine));
    let err = source.engine.export_dump_to_file(&path).unwrap_err();
    assert_eq!(err.code(), "DUMP_IO", "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), written, "left as it was");
    let target = fresh_target();
    assert_eq!(target.engine.import_dump_from_file(&path).unwrap(), stats);
    assert_eq!(dump_of(&target.engine), written);
    let missing = fresh_target()
        .engine
        .import_dump_from_file(&dir.join("nothing.jsonl"))
        .unwrap_err();
    assert_eq!(missing.code(), "DUMP_IO", "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}
