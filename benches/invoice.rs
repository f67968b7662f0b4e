//! Criterion benchmarks for documents: building an invoice from an order (VAT split,
//! totals, the EN 16931 arithmetic check), and rendering it as HTML and as CII XML,
//! beside serde JSON of the same document as the baseline measured in the same run.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{ChannelId, OrderId, VariantId};
use ordersmith::invoice::{
    invoice_for, render_cii, render_html, DocumentKind, InvoiceConfig, InvoiceDocument, Numbering,
    Seller,
};
use ordersmith::money::{Currency, Money};
use ordersmith::notify::Locale;
use ordersmith::order::{place, NewLine, NewOrder, Order, OrderEvent};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use rust_decimal::Decimal;

fn config() -> InvoiceConfig {
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

/// `lines` lines at 1, 10 and 20 % in turn, prices including tax, a discount on every
/// third line.
fn new_order(lines: usize) -> NewOrder {
    let try_ = Currency::parse("TRY").unwrap();
    let rates = [Decimal::new(1, 2), Decimal::new(10, 2), Decimal::new(20, 2)];
    let lines = (0..lines)
        .map(|i| {
            let mut line = NewLine::new(
                VariantId::parse(format!("SKU-{i}")).unwrap(),
                1 + (i % 4) as u32,
                Money::parse("89.90", try_).unwrap(),
            )
            .with_title("Rize Çayı <500 g> & more")
            .with_tax("KDV", rates[i % 3]);
            if i % 3 == 0 {
                line = line.with_discount(Some("TEA5"), Money::parse("5.00", try_).unwrap());
            }
            line
        })
        .collect();
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
        try_,
        lines,
    );
    new.taxes_included = true;
    new
}

fn order(lines: usize) -> Order {
    let OrderEvent::Placed(placed) = place(&new_order(lines)).unwrap() else {
        unreachable!()
    };
    Order::from_placed(OrderId::parse("o-1").unwrap(), &placed)
}

fn invoice(config: &InvoiceConfig, order: &Order) -> InvoiceDocument {
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let numbering = Numbering::next(config, DocumentKind::Invoice, now, 41);
    invoice_for(config, order, &[], numbering, now, None).unwrap()
}

fn documents(c: &mut Criterion) {
    let config = config();
    for lines in [3usize, 50] {
        let order = order(lines);
        let doc = invoice(&config, &order);
        let mut g = c.benchmark_group(format!("invoice_{lines}_lines"));
        g.bench_function("build", |b| b.iter(|| invoice(&config, black_box(&order))));
        g.bench_function("json_baseline", |b| {
            b.iter(|| serde_json::to_string(black_box(&doc)).unwrap())
        });
        g.bench_function("html", |b| {
            b.iter(|| render_html(black_box(&doc), Locale::Tr).unwrap())
        });
        g.bench_function("cii_xml", |b| {
            b.iter(|| render_cii(black_box(&doc)).unwrap())
        });
        g.finish();
    }
}

fn engine_issue(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine_in_memory");
    g.bench_function("place_and_issue_invoice_3_lines", |b| {
        b.iter_batched(
            || {
                let store = Arc::new(MemoryStore::new());
                Engine::new(
                    store.clone(),
                    store,
                    Arc::new(FixedClock::new(
                        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
                    )),
                    Arc::new(SequentialIds::new()),
                )
                .with_invoicing(config())
                .unwrap()
            },
            |engine| {
                let ctx = CommandContext::system();
                let o = engine.place_order(new_order(3), &ctx).unwrap();
                engine.issue_invoice(&o.id, None, &ctx).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, documents, engine_issue);
criterion_main!(benches);
