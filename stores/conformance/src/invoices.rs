//! Conformance of invoices and credit notes (issue 11): documents round-trip exactly,
//! each series' numbers are taken by compare-and-set in the commit that saves the
//! document (gapless, unique, all-or-nothing with the rest of the change set), and
//! documents move with a dump. Also the helpers the cross-process tests share.

use std::collections::BTreeMap;

use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::OrderId;
use ordersmith::invoice::{DocumentKind, InvoiceConfig, InvoiceDocument, Seller};
use ordersmith::ports::dump::{export, import};
use ordersmith::ports::{ChangeSet, DocumentAppend, NewEvents, OrderChange, Store, StoreError};

use crate::fixtures::{self, money};
use crate::StoreUnderTest;

/// The invoicing configuration the suite uses: a Turkish seller, default numbering
/// (`INV-{year}-{seq:06}`, `CN-{year}-{seq:06}`), per order, UTC.
pub fn invoice_config() -> InvoiceConfig {
    InvoiceConfig::new(Seller {
        name: "Çay & Kahve Ticaret A.Ş.".into(),
        vat_id: None,
        tax_id: Some("1234567890".into()),
        address_lines: vec!["Bağdat Caddesi 100".into()],
        city: "İstanbul".into(),
        postal_code: "34728".into(),
        country: "TR".into(),
        email: None,
    })
}

fn invoicing(engine: Engine) -> Engine {
    engine.with_invoicing(invoice_config()).unwrap()
}

/// Places `count` orders and issues an invoice for each through `engine`, returning the
/// numbers (for racing engines and processes).
pub fn place_and_invoice(engine: &Engine, count: usize) -> Vec<String> {
    let ctx = CommandContext::system();
    (0..count)
        .map(|_| {
            let o = engine
                .place_order(fixtures::new_order("web", fixtures::start()), &ctx)
                .unwrap();
            engine.issue_invoice(&o.id, None, &ctx).unwrap().number
        })
        .collect()
}

/// Panics unless every series in `store` runs 1, 2, 3, ... with unique numbers and its
/// recorded last number is its count; returns the documents per series.
pub fn assert_series_gapless(store: &dyn Store) -> BTreeMap<String, Vec<InvoiceDocument>> {
    let mut all = Vec::new();
    let mut after: Option<(String, u64)> = None;
    loop {
        let page = store
            .documents(after.as_ref().map(|(s, n)| (s.as_str(), *n)), 7)
            .unwrap();
        let full = page.len() == 7;
        after = page.last().map(|d| (d.series.clone(), d.sequence));
        all.extend(page);
        if !full {
            break;
        }
    }
    let mut by_series: BTreeMap<String, Vec<InvoiceDocument>> = BTreeMap::new();
    let mut numbers = std::collections::BTreeSet::new();
    for d in all {
        assert!(
            numbers.insert(d.number.clone()),
            "number {} repeated",
            d.number
        );
        by_series.entry(d.series.clone()).or_default().push(d);
    }
    for (series, docs) in &by_series {
        let seqs: Vec<u64> = docs.iter().map(|d| d.sequence).collect();
        let expected: Vec<u64> = (1..=docs.len() as u64).collect();
        assert_eq!(seqs, expected, "series {series} is not gapless");
        assert_eq!(
            store.document_series_last(series).unwrap(),
            docs.len() as u64
        );
    }
    by_series
}

/// Documents issued through the engine read back exactly, by number and by order
/// (invoice first), and unknown numbers and series read as none.
pub fn documents_round_trip_and_list_by_order(make: &dyn Fn() -> StoreUnderTest) {
    let sut = make();
    let (engine, _) = sut.engine();
    let engine = invoicing(engine);
    let ctx = CommandContext::system();
    let o = engine
        .place_order(fixtures::new_order("web", fixtures::start()), &ctx)
        .unwrap();
    engine.mark_paid(&o.id, &ctx).unwrap();
    let inv = engine.issue_invoice(&o.id, None, &ctx).unwrap();
    engine.record_refund(&o.id, money("20.00"), &ctx).unwrap();
    let store = sut.store.as_ref();
    assert_eq!(
        store.load_document(&inv.number).unwrap().as_ref(),
        Some(&inv)
    );
    // JSON-exact: what comes back serialises to the same text.
    assert_eq!(
        serde_json::to_string(&store.load_document(&inv.number).unwrap()).unwrap(),
        serde_json::to_string(&Some(&inv)).unwrap()
    );
    let docs = store.order_documents(&o.id).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0], inv);
    assert_eq!(docs[1].kind, DocumentKind::CreditNote);
    assert_eq!(docs[1].number, "CN-2026-000001");
    assert_eq!(store.load_document("INV-1999-000001").unwrap(), None);
    assert_eq!(store.document_series_last("nope").unwrap(), 0);
    assert!(store
        .order_documents(&OrderId::parse("o-404").unwrap())
        .unwrap()
        .is_empty());
    assert_series_gapless(store);
}

/// A document whose series moved on, whose sequence is not the next, or whose number
/// exists is a conflict, and the whole change set (order change included) is refused.
pub fn stale_series_numbers_are_conflicts_and_change_nothing(make: &dyn Fn() -> StoreUnderTest) {
    let sut = make();
    let (engine, _) = sut.engine();
    let engine = invoicing(engine);
    let ctx = CommandContext::system();
    let o = engine
        .place_order(fixtures::new_order("web", fixtures::start()), &ctx)
        .unwrap();
    let inv = engine.issue_invoice(&o.id, None, &ctx).unwrap();
    let store = sut.store.as_ref();
    let order = store.load_order(&o.id).unwrap().unwrap();
    let note = fixtures::note_change(&order, "must not be saved", fixtures::start());
    let mut stale = inv.clone();
    stale.number = "INV-2026-X".into();
    let mut skipping = inv.clone();
    skipping.number = "INV-2026-000003".into();
    skipping.sequence = 3;
    let mut again = inv.clone();
    again.sequence = 2;
    for (expected_last, document) in [(0, stale), (2, skipping.clone()), (1, skipping), (1, again)]
    {
        let err = store
            .commit(ChangeSet {
                orders: vec![note.clone()],
                documents: vec![DocumentAppend {
                    expected_last,
                    document,
                }],
                ..ChangeSet::default()
            })
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { .. }),
            "expected a conflict, got {err:?}"
        );
    }
    assert_eq!(store.load_order(&o.id).unwrap().unwrap(), order);
    assert_eq!(store.document_series_last(&inv.series).unwrap(), 1);
    assert_eq!(store.documents(None, 100).unwrap(), vec![inv.clone()]);
    // Two documents of one series in one change set follow each other.
    let mut second = inv.clone();
    second.number = "INV-2026-000002".into();
    second.sequence = 2;
    let mut third = inv.clone();
    third.number = "INV-2026-000003".into();
    third.sequence = 3;
    store
        .commit(ChangeSet {
            orders: vec![OrderChange {
                expected_version: order.version,
                events: NewEvents::new(order.id.clone(), order.version),
                snapshot: order.clone(),
            }],
            documents: vec![
                DocumentAppend {
                    expected_last: 1,
                    document: second,
                },
                DocumentAppend {
                    expected_last: 2,
                    document: third,
                },
            ],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(store.document_series_last(&inv.series).unwrap(), 3);
    assert_series_gapless(store);
}

/// A commit that fails midway takes no number: the next invoice is number 1.
pub fn a_failed_commit_takes_no_invoice_number(make: &dyn Fn() -> StoreUnderTest) {
    let sut = make();
    let (engine, _) = sut.engine();
    let engine = invoicing(engine);
    let ctx = CommandContext::system();
    let o = engine
        .place_order(fixtures::new_order("web", fixtures::start()), &ctx)
        .unwrap();
    sut.fail_next_commit();
    assert_eq!(
        engine.issue_invoice(&o.id, None, &ctx).unwrap_err().code(),
        "STORE_UNAVAILABLE"
    );
    assert!(sut.store.documents(None, 10).unwrap().is_empty());
    assert_eq!(
        sut.store.document_series_last("INV-2026-{seq:06}").unwrap(),
        0
    );
    assert_eq!(
        engine.issue_invoice(&o.id, None, &ctx).unwrap().number,
        "INV-2026-000001"
    );
}

/// Engines on one store racing to invoice (threads) take every number once, no gaps.
pub fn racing_engines_number_gaplessly(make: &dyn Fn() -> StoreUnderTest) {
    let sut = make();
    let engines: Vec<Engine> = (0..3).map(|_| invoicing(sut.engine().0)).collect();
    let numbers: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = engines
            .iter()
            .map(|e| scope.spawn(move || place_and_invoice(e, 8)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(numbers.len(), 24);
    let series = assert_series_gapless(sut.store.as_ref());
    assert_eq!(series["INV-2026-{seq:06}"].len(), 24);
}

/// Documents move with a dump, byte for byte, and keep their series' last numbers.
pub fn documents_move_with_a_dump(make: &dyn Fn() -> StoreUnderTest) {
    let sut = make();
    let (engine, _) = sut.engine();
    let engine = invoicing(engine);
    let ctx = CommandContext::system();
    for _ in 0..3 {
        let o = engine
            .place_order(fixtures::new_order("web", fixtures::start()), &ctx)
            .unwrap();
        engine.mark_paid(&o.id, &ctx).unwrap();
        engine.issue_invoice(&o.id, None, &ctx).unwrap();
        engine.record_refund(&o.id, money("5.00"), &ctx).unwrap();
    }
    let mut first = Vec::new();
    let stats = export(sut.store.as_ref(), sut.outbox.as_ref(), &mut first).unwrap();
    assert_eq!(stats.documents, 6);
    let target = make();
    import(
        target.store.as_ref(),
        target.outbox.as_ref(),
        first.as_slice(),
    )
    .unwrap();
    let mut second = Vec::new();
    export(target.store.as_ref(), target.outbox.as_ref(), &mut second).unwrap();
    assert_eq!(
        String::from_utf8(first).unwrap(),
        String::from_utf8(second).unwrap()
    );
    assert_eq!(
        target
            .store
            .document_series_last("CN-2026-{seq:06}")
            .unwrap(),
        3
    );
    // The imported store goes on numbering where the source stopped.
    let (engine, _) = target.engine();
    let engine = invoicing(engine);
    let o = engine
        .place_order(fixtures::new_order("web", fixtures::start()), &ctx)
        .unwrap();
    assert_eq!(
        engine.issue_invoice(&o.id, None, &ctx).unwrap().number,
        "INV-2026-000004"
    );
}
