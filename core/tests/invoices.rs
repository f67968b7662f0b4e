//! Invoices and credit notes through the engine: several VAT rates on one invoice,
//! tax-inclusive and exclusive prices, per-order and per-shipment invoicing, credit
//! notes issued by refunds, gapless numbers per series that survive failed saves, and
//! the documents (JSON, HTML, CII) a finance person and a machine read.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use common::*;
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::ChannelId;
use ordersmith::invoice::{
    check_en16931, DocumentKind, InvoiceConfig, InvoiceDocument, InvoiceMode, Seller, TaxRounding,
};
use ordersmith::money::Money;
use ordersmith::notify::Locale;
use ordersmith::order::{NewLine, NewOrder, PaymentCommand, ShippingLine, TaxLine};
use ordersmith::pii::{Address, Customer, Redacted};
use ordersmith::ports::dump::{export, import};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::Store;
use proptest::prelude::*;

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn seller() -> Seller {
    Seller {
        name: "Çay & Kahve Ticaret A.Ş.".into(),
        vat_id: None,
        tax_id: Some("1234567890".into()),
        address_lines: vec!["Bağdat Caddesi 100".into()],
        city: "İstanbul".into(),
        postal_code: "34728".into(),
        country: "TR".into(),
        email: Some("fatura@example.com".into()),
    }
}

fn config() -> InvoiceConfig {
    let mut c = InvoiceConfig::new(seller());
    c.time_zone = chrono_tz::Europe::Istanbul;
    c
}

fn engine_with(config: InvoiceConfig) -> (Engine, Arc<MemoryStore>, Arc<FixedClock>) {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(at(20, 12)));
    let engine = Engine::new(
        store.clone(),
        store.clone(),
        clock.clone(),
        Arc::new(SequentialIds::new()),
    )
    .with_invoicing(config)
    .unwrap();
    (engine, store, clock)
}

/// A Turkish retail order: prices include KDV at 1 %, 10 % and 20 %, a discount, a
/// shipping charge at 20 %, a customer with a billing address.
fn turkish_order() -> NewOrder {
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        vec![
            NewLine::new(variant("BREAD"), 3, money("10.10")).with_tax("KDV", dec("0.01")),
            NewLine::new(variant("TEA-500G"), 2, money("89.90"))
                .with_tax("KDV", dec("0.10"))
                .with_discount(Some("TEA5"), money("5.00"))
                .with_title("Rize Çayı <500 g> & more"),
            NewLine::new(variant("KETTLE"), 1, money("1199.99")).with_tax("KDV", dec("0.20")),
        ],
    );
    new.taxes_included = true;
    new.external_ref = Some("WEB-1001".into());
    new.customer = Some(Customer {
        name: Redacted::new("Ayşe Yılmaz".into()),
        email: Some(Redacted::new("ayse@example.com".into())),
        ..Customer::default()
    });
    new.billing_address = Some(Address {
        name: Redacted::new("Ayşe Yılmaz".into()),
        lines: Redacted::new(vec!["Atatürk Bulvarı 42".into(), "Daire 5".into()]),
        city: Redacted::new("Ankara".into()),
        postal_code: Redacted::new("06690".into()),
        region: Some("Ankara".into()),
        country: "TR".into(),
        phone: None,
    });
    new.shipping_lines.push(ShippingLine {
        title: "Kargo".into(),
        price: money("29.90"),
        tax_lines: vec![TaxLine {
            name: "KDV".into(),
            rate: dec("0.20"),
        }],
    });
    new
}

fn minor(m: &Money) -> i128 {
    m.to_minor().unwrap()
}

#[test]
fn a_tax_inclusive_order_with_three_rates_is_invoiced_to_the_minor_unit() {
    let (e, _, _) = engine_with(config());
    let o = e.place_order(turkish_order(), &ctx()).unwrap();
    let o = e.mark_paid(&o.id, &ctx()).unwrap();
    let inv = e.issue_invoice(&o.id, None, &ctx()).unwrap();
    assert_eq!(inv.kind, DocumentKind::Invoice);
    assert_eq!(inv.number, "INV-2026-000001");
    assert_eq!(inv.order_ref.as_deref(), Some("WEB-1001"));
    let rates: Vec<String> = inv.vat.iter().map(|v| v.rate.to_string()).collect();
    assert_eq!(rates, ["0.01", "0.1", "0.2"]);
    // What the customer was charged is exactly the invoice's total with VAT.
    let total = o.totals().unwrap().total;
    assert_eq!(inv.totals.grand_total, total);
    assert_eq!(inv.totals.paid, total);
    assert!(inv.totals.due.is_zero());
    // 1 %: 30.30 gross → 30.00 net + 0.30; 10 %: 174.80 → 158.91 + 15.89;
    // 20 %: 1199.99 + 29.90 = 1229.89 → 1024.91 + 204.98.
    let got: Vec<(String, String)> = inv
        .vat
        .iter()
        .map(|v| (v.basis.amount().to_string(), v.tax.amount().to_string()))
        .collect();
    assert_eq!(
        got,
        [
            ("30.00".to_string(), "0.30".to_string()),
            ("158.91".to_string(), "15.89".to_string()),
            ("1024.91".to_string(), "204.98".to_string())
        ]
    );
    // Discounted tea line: 2 × 89.90 − 5.00 = 174.80 charged.
    assert_eq!(inv.lines[1].quoted_amount, money("174.80"));
    assert_eq!(inv.lines[1].discount, money("5.00"));
    assert_eq!(inv.lines.last().unwrap().description, "Shipping: Kargo");
    check_en16931(&inv).unwrap();
    // Immutable and readable back, as JSON too.
    assert_eq!(e.document("INV-2026-000001").unwrap(), inv);
    let json = inv.to_json().unwrap();
    let back: InvoiceDocument = serde_json::from_str(&json).unwrap();
    assert_eq!(back, inv);
    // The host hears of it through the outbox.
    let effects = e.pending_effects(1000).unwrap();
    assert!(effects
        .iter()
        .any(|r| r.topic == "invoice.issued" && r.payload_json.contains("INV-2026-000001")));
    // Personal data stays out of Debug output.
    let debug = format!("{inv:?}");
    assert!(!debug.contains("Ayşe"), "{debug}");
    assert!(!debug.contains("ayse@"));
}

#[test]
fn documents_render_as_escaped_html_and_cii() {
    let (e, _, _) = engine_with(config());
    let o = e.place_order(turkish_order(), &ctx()).unwrap();
    let inv = e.issue_invoice(&o.id, None, &ctx()).unwrap();
    let html = e.document_html(&inv.number, Locale::Tr).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<html lang=\"tr\">"));
    assert!(html.contains("Fatura"));
    assert!(html.contains("INV-2026-000001"));
    assert!(html.contains("Rize Çayı &lt;500 g&gt; &amp; more"));
    assert!(!html.contains("<500 g>"));
    assert!(!html.contains("<script"));
    assert!(html.contains("1024.91 TRY"));
    let en = e.document_html(&inv.number, Locale::En).unwrap();
    assert!(en.contains("Amount due"));
    let xml = e.document_cii(&inv.number).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(xml.contains("<ram:ID>urn:cen.eu:en16931:2017</ram:ID>"));
    assert!(xml.contains("<ram:TypeCode>380</ram:TypeCode>"));
    assert!(xml.contains("Rize Çayı &lt;500 g&gt; &amp; more"));
    assert!(xml.contains("<ram:RateApplicablePercent>1</ram:RateApplicablePercent>"));
    assert!(xml.contains("<ram:RateApplicablePercent>20</ram:RateApplicablePercent>"));
    assert!(xml.contains("<ram:GrandTotalAmount>1434.99</ram:GrandTotalAmount>"));
    assert!(xml.contains("<ram:DuePayableAmount>1434.99</ram:DuePayableAmount>"));
    assert!(xml.contains("<ram:ID schemeID=\"FC\">1234567890</ram:ID>"));
    assert_eq!(
        e.document_cii("INV-2026-999999").unwrap_err().code(),
        "INVOICE_NOT_FOUND"
    );
}

#[test]
fn refunds_issue_credit_notes_that_never_exceed_the_invoice() {
    let (e, store, _) = engine_with(config());
    // sample_order: prices exclude tax, total 306.00 TRY.
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    let o = e.mark_paid(&o.id, &ctx()).unwrap();
    let inv = e.issue_invoice(&o.id, None, &ctx()).unwrap();
    assert_eq!(inv.totals.grand_total, money("306.00"));

    // A refund on an invoiced order issues a credit note in the same commit.
    e.record_refund(&o.id, money("100.00"), &ctx()).unwrap();
    let docs = e.order_documents(&o.id).unwrap();
    assert_eq!(docs.len(), 2);
    let cn1 = &docs[1];
    assert_eq!(cn1.kind, DocumentKind::CreditNote);
    assert_eq!(cn1.number, "CN-2026-000001");
    assert_eq!(cn1.corrects.as_ref().unwrap().number, inv.number);
    assert_eq!(cn1.totals.grand_total, money("100.00"));
    assert!(cn1.totals.due.is_zero(), "a refund is already paid out");
    let xml = e.document_cii(&cn1.number).unwrap();
    assert!(xml.contains("<ram:TypeCode>381</ram:TypeCode>"));
    assert!(xml.contains("<ram:IssuerAssignedID>INV-2026-000001</ram:IssuerAssignedID>"));

    // A manual credit note larger than what is left is refused and changes nothing.
    let before = store.documents(None, 100).unwrap();
    let err = e
        .issue_credit_note(&inv.number, money("206.01"), "price correction", &ctx())
        .unwrap_err();
    assert_eq!(err.code(), "INVOICE_CREDIT_EXCEEDS_INVOICE");
    assert_eq!(
        err.to_string(),
        "a credit note of 206.01 TRY exceeds what invoice INV-2026-000001 has left to credit (206.00 TRY)"
    );
    assert_eq!(store.documents(None, 100).unwrap(), before);
    assert_eq!(store.document_series_last("CN-2026-{seq:06}").unwrap(), 1);
    // Against a credit note, zero, or in another currency: refused too.
    for (number, amount, code) in [
        (cn1.number.as_str(), money("1.00"), "INVOICE_NOT_AN_INVOICE"),
        (inv.number.as_str(), money("0.00"), "INVOICE_BAD_AMOUNT"),
        (inv.number.as_str(), usd("1.00"), "INVOICE_BAD_AMOUNT"),
        ("INV-2026-000404", money("1.00"), "INVOICE_NOT_FOUND"),
    ] {
        let err = e
            .issue_credit_note(number, amount, "correction", &ctx())
            .unwrap_err();
        assert_eq!(err.code(), code);
    }
    assert_eq!(store.documents(None, 100).unwrap(), before);

    // A provider refund is credited too; the rest of the invoice in two parts.
    let manual = e
        .issue_credit_note(&inv.number, money("27.00"), "goodwill", &ctx())
        .unwrap();
    assert_eq!(manual.number, "CN-2026-000002");
    assert_eq!(manual.totals.due, money("27.00"), "the shop still owes it");
    e.record_refund(&o.id, money("150.00"), &ctx()).unwrap();
    e.record_refund(&o.id, money("29.00"), &ctx()).unwrap();
    let docs = e.order_documents(&o.id).unwrap();
    let credits: Vec<&InvoiceDocument> = docs
        .iter()
        .filter(|d| d.kind == DocumentKind::CreditNote)
        .collect();
    assert_eq!(credits.len(), 4);
    // Every rate is credited back exactly: net and VAT sum to the invoice's.
    let mut credited: BTreeMap<String, (i128, i128)> = BTreeMap::new();
    for c in &credits {
        check_en16931(c).unwrap();
        for v in &c.vat {
            let entry = credited.entry(v.rate.to_string()).or_default();
            entry.0 += minor(&v.basis);
            entry.1 += minor(&v.tax);
        }
    }
    for v in &inv.vat {
        assert_eq!(
            credited[&v.rate.to_string()],
            (minor(&v.basis), minor(&v.tax))
        );
    }
    // Fully credited: a further refund (of an overpayment) issues no credit note.
    e.record_payment(&o.id, money("10.00"), &ctx()).unwrap();
    e.record_refund(&o.id, money("10.00"), &ctx()).unwrap();
    assert_eq!(e.order_documents(&o.id).unwrap().len(), 5);
}

#[test]
fn provider_refund_confirmations_credit_the_invoice() {
    let (e, _, _) = engine_with(config());
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    let id = o.id.clone();
    let pay = |step| e.pay(&id, step, &ctx()).unwrap();
    pay(PaymentCommand::Authorise {
        provider: "iyzico".into(),
        method: None,
        amount: money("306.00"),
    });
    pay(PaymentCommand::ConfirmAuthorisation {
        payment: "P1".into(),
        provider_ref: "a1".into(),
        amount: money("306.00"),
    });
    pay(PaymentCommand::Capture {
        payment: "P1".into(),
        amount: money("306.00"),
    });
    pay(PaymentCommand::ConfirmCapture {
        payment: "P1".into(),
        provider_ref: "c1".into(),
        amount: money("306.00"),
    });
    let inv = e.issue_invoice(&id, None, &ctx()).unwrap();
    assert_eq!(inv.totals.paid, money("306.00"));
    pay(PaymentCommand::Refund {
        payment: "P1".into(),
        amount: money("27.00"),
    });
    // Asked of the provider, not refunded yet: no credit note.
    assert_eq!(e.order_documents(&id).unwrap().len(), 1);
    pay(PaymentCommand::ConfirmRefund {
        payment: "P1".into(),
        provider_ref: "r1".into(),
        amount: money("27.00"),
    });
    // The same webhook twice changes nothing, so no second credit note.
    pay(PaymentCommand::ConfirmRefund {
        payment: "P1".into(),
        provider_ref: "r1".into(),
        amount: money("27.00"),
    });
    let docs = e.order_documents(&id).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].totals.grand_total, money("27.00"));
}

#[test]
fn per_shipment_invoices_add_up_to_the_order() {
    let mut c = config();
    c.mode = InvoiceMode::PerShipment;
    let (e, _, _) = engine_with(c);
    let o = e.place_order(turkish_order(), &ctx()).unwrap();
    e.confirm_order(&o.id, &ctx()).unwrap();
    assert_eq!(
        e.issue_invoice(&o.id, Some("S1"), &ctx())
            .unwrap_err()
            .code(),
        "INVOICE_NOTHING_TO_INVOICE"
    );
    e.record_shipment(&o.id, vec![lq("L1", 2), lq("L2", 1)], &ctx())
        .unwrap();
    let first = e.issue_invoice(&o.id, Some("S1"), &ctx()).unwrap();
    assert_eq!(first.shipment.as_deref(), Some("S1"));
    assert_eq!(first.lines.len(), 3, "two items and shipping");
    // Nothing shipped since: nothing to invoice.
    assert_eq!(
        e.issue_invoice(&o.id, Some("S1"), &ctx())
            .unwrap_err()
            .code(),
        "INVOICE_NOTHING_TO_INVOICE"
    );
    e.record_shipment(&o.id, vec![lq("L1", 1), lq("L2", 1), lq("L3", 1)], &ctx())
        .unwrap();
    let second = e.issue_invoice(&o.id, Some("S2"), &ctx()).unwrap();
    assert_eq!(second.number, "INV-2026-000002");
    assert!(second
        .lines
        .iter()
        .all(|l| l.description != "Shipping: Kargo"));
    let order = e.order(&o.id).unwrap();
    let sum = first
        .totals
        .grand_total
        .checked_add(&second.totals.grand_total)
        .unwrap();
    assert_eq!(sum, order.totals().unwrap().total);
    // The tea discount is split per unit: 2.50 + 2.50.
    let tea = |d: &InvoiceDocument| {
        d.lines
            .iter()
            .find(|l| l.sku.as_deref() == Some("TEA-500G"))
            .unwrap()
            .discount
    };
    assert_eq!(tea(&first), money("2.50"));
    assert_eq!(tea(&second), money("2.50"));
}

#[test]
fn bad_requests_are_typed_and_change_nothing() {
    let (e, store, _) = engine_with(config());
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    let inv = e.issue_invoice(&o.id, None, &ctx()).unwrap();
    let err = e.issue_invoice(&o.id, None, &ctx()).unwrap_err();
    assert_eq!(err.code(), "INVOICE_ALREADY_ISSUED");
    assert!(err.to_string().contains(&inv.number));
    // Two taxes on one line cannot be one VAT rate.
    let mut two = sample_order("web");
    two.lines[0] = two.lines[0].clone().with_tax("ÖTV", dec("0.05"));
    let two = e.place_order(two, &ctx()).unwrap();
    assert_eq!(
        e.issue_invoice(&two.id, None, &ctx()).unwrap_err().code(),
        "INVOICE_SEVERAL_TAXES_ON_LINE"
    );
    // A cancelled order has nothing to invoice.
    let gone = e.place_order(sample_order("web"), &ctx()).unwrap();
    e.cancel_order(&gone.id, ordersmith::order::CancelReason::Customer, &ctx())
        .unwrap();
    assert_eq!(
        e.issue_invoice(&gone.id, None, &ctx()).unwrap_err().code(),
        "INVOICE_NOTHING_TO_INVOICE"
    );
    assert_eq!(
        e.issue_invoice(&oid("o-404"), None, &ctx())
            .unwrap_err()
            .code(),
        "ORDER_NOT_FOUND"
    );
    assert_eq!(
        e.issue_invoice(&o.id, None, &ctx().with_idempotency_key("k"))
            .unwrap_err()
            .code(),
        "ENGINE_INVALID_INPUT"
    );
    assert_eq!(store.documents(None, 100).unwrap().len(), 1);
    // Without a configuration nothing is issued, and refunds on uninvoiced orders work.
    let plain = test_engine();
    let p = plain
        .engine
        .place_order(sample_order("web"), &ctx())
        .unwrap();
    assert_eq!(
        plain
            .engine
            .issue_invoice(&p.id, None, &ctx())
            .unwrap_err()
            .code(),
        "INVOICE_NOT_CONFIGURED"
    );
    plain.engine.mark_paid(&p.id, &ctx()).unwrap();
    plain
        .engine
        .record_refund(&p.id, money("1.00"), &ctx())
        .unwrap();
    // A seller that cannot appear on an EN 16931 invoice is refused up front.
    let mut bad = config();
    bad.seller.tax_id = None;
    let err = test_engine().engine.with_invoicing(bad).err().unwrap();
    assert_eq!(err.code(), "INVOICE_BAD_CONFIG");
}

#[test]
fn a_failed_save_takes_no_number_and_series_restart_each_local_year() {
    let (e, store, clock) = engine_with(config());
    let a = e.place_order(sample_order("web"), &ctx()).unwrap();
    let b = e.place_order(sample_order("web"), &ctx()).unwrap();
    store.fail_next_commits(1);
    assert_eq!(
        e.issue_invoice(&a.id, None, &ctx()).unwrap_err().code(),
        "STORE_UNAVAILABLE"
    );
    assert_eq!(store.document_series_last("INV-2026-{seq:06}").unwrap(), 0);
    assert_eq!(
        e.issue_invoice(&a.id, None, &ctx()).unwrap().number,
        "INV-2026-000001"
    );
    // 31 December 22:00 UTC is already 1 January in Istanbul: a new series.
    clock.set(Utc.with_ymd_and_hms(2026, 12, 31, 22, 0, 0).unwrap());
    let next_year = e.issue_invoice(&b.id, None, &ctx()).unwrap();
    assert_eq!(next_year.number, "INV-2027-000001");
    assert_eq!(
        next_year.issue_date,
        chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
    );
}

#[test]
fn per_line_rounding_matches_the_orders_own_tax() {
    let mut c = config();
    c.tax_rounding = TaxRounding::PerLine;
    c.rounding = ordersmith::invoice::RoundingMode::HalfEven;
    let (e, _, _) = engine_with(c);
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    let inv = e.issue_invoice(&o.id, None, &ctx()).unwrap();
    let totals = o.totals().unwrap();
    assert_eq!(inv.totals.tax_total, totals.tax_total);
    assert_eq!(inv.totals.grand_total, totals.total);
    assert_eq!(inv.totals.due, totals.total, "nothing paid yet");
}

#[test]
fn dumps_carry_documents_and_refuse_gaps() {
    let (e, store, _) = engine_with(config());
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    e.mark_paid(&o.id, &ctx()).unwrap();
    e.issue_invoice(&o.id, None, &ctx()).unwrap();
    e.record_refund(&o.id, money("10.00"), &ctx()).unwrap();
    let mut bytes = Vec::new();
    let stats = export(store.as_ref(), store.as_ref(), &mut bytes).unwrap();
    assert_eq!(stats.documents, 2);
    let target = MemoryStore::new();
    import(&target, &target, bytes.as_slice()).unwrap();
    assert_eq!(
        target.documents(None, 10).unwrap(),
        store.documents(None, 10).unwrap()
    );
    assert_eq!(target.document_series_last("CN-2026-{seq:06}").unwrap(), 1);
    // A dump whose series skips a number is refused.
    let text = String::from_utf8(bytes).unwrap();
    let gap = text.replace("\"sequence\":1", "\"sequence\":2");
    let err = import(&MemoryStore::new(), &MemoryStore::new(), gap.as_bytes()).unwrap_err();
    assert_eq!(err.code(), "DUMP_MALFORMED");
}

#[derive(Debug, Clone)]
enum Op {
    Place,
    Pay(usize),
    Invoice(usize),
    Refund(usize, i64),
    Credit(usize, i64),
    FailNextCommit,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Place),
        1 => (0usize..6).prop_map(Op::Pay),
        3 => (0usize..6).prop_map(Op::Invoice),
        2 => (0usize..6, 1i64..20_000).prop_map(|(o, a)| Op::Refund(o, a)),
        2 => (0usize..6, 1i64..20_000).prop_map(|(o, a)| Op::Credit(o, a)),
        1 => Just(Op::FailNextCommit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever happens (refunds, manual credits, over-credits, failed saves), the
    /// numbers of each series run 1, 2, 3, ... without a gap or a repeat, every
    /// document keeps EN 16931's arithmetic, and no invoice is credited beyond its total.
    #[test]
    fn numbers_are_gapless_and_credits_never_exceed_invoices(ops in proptest::collection::vec(op(), 1..40)) {
        let (e, store, _) = engine_with(config());
        let mut orders = Vec::new();
        for op in ops {
            match op {
                Op::Place => if let Ok(o) = e.place_order(sample_order("web"), &ctx()) { orders.push(o.id) },
                Op::Pay(i) => if let Some(id) = orders.get(i) { let _ = e.mark_paid(id, &ctx()); },
                Op::Invoice(i) => if let Some(id) = orders.get(i) { let _ = e.issue_invoice(id, None, &ctx()); },
                Op::Refund(i, minor) => if let Some(id) = orders.get(i) {
                    let _ = e.record_refund(id, Money::from_minor(minor, try_()), &ctx());
                },
                Op::Credit(i, minor) => if let Some(id) = orders.get(i) {
                    let docs = e.order_documents(id).unwrap();
                    if let Some(inv) = docs.iter().find(|d| d.kind == DocumentKind::Invoice) {
                        let _ = e.issue_credit_note(&inv.number, Money::from_minor(minor, try_()), "correction", &ctx());
                    }
                },
                Op::FailNextCommit => store.fail_next_commits(1),
            }
        }
        store.fail_next_commits(0);
        let docs = store.documents(None, 10_000).unwrap();
        let mut by_series: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut numbers = std::collections::BTreeSet::new();
        for d in &docs {
            by_series.entry(d.series.clone()).or_default().push(d.sequence);
            prop_assert!(numbers.insert(d.number.clone()), "number {} repeated", d.number);
            check_en16931(d).unwrap();
        }
        for (series, seqs) in by_series {
            let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
            prop_assert_eq!(&seqs, &expected, "series {} has a gap", series);
            prop_assert_eq!(store.document_series_last(&series).unwrap(), seqs.len() as u64);
        }
        for inv in docs.iter().filter(|d| d.kind == DocumentKind::Invoice) {
            let credited: i128 = docs
                .iter()
                .filter(|c| c.corrects.as_ref().is_some_and(|r| r.number == inv.number))
                .map(|c| minor(&c.totals.grand_total))
                .sum();
            prop_assert!(credited <= minor(&inv.totals.grand_total));
        }
    }
}

#[test]
fn the_en16931_checks_catch_broken_arithmetic() {
    let (e, _, _) = engine_with(config());
    let o = e.place_order(turkish_order(), &ctx()).unwrap();
    e.record_payment(&o.id, money("100.00"), &ctx()).unwrap();
    let inv = e.issue_invoice(&o.id, None, &ctx()).unwrap();
    check_en16931(&inv).unwrap();
    assert_eq!(inv.totals.paid, money("100.00"));
    let cent = money("0.01");
    let rule_of = |doc: &InvoiceDocument| match check_en16931(doc).unwrap_err() {
        ordersmith::invoice::InvoiceError::RuleViolated { rule, .. } => rule,
        other => panic!("{other:?}"),
    };
    let mut line = inv.clone();
    line.lines[0].net_amount = line.lines[0].net_amount.checked_add(&cent).unwrap();
    assert_eq!(rule_of(&line), "BR-CO-10");
    let mut basis = inv.clone();
    basis.vat[0].basis = basis.vat[0].basis.checked_add(&cent).unwrap();
    assert_eq!(rule_of(&basis), "BR-S-08");
    let mut vat = inv.clone();
    vat.vat[2].tax = vat.vat[2].tax.checked_add(&money("1.00")).unwrap();
    assert_eq!(rule_of(&vat), "BR-CO-17");
    let mut sum = inv.clone();
    sum.totals.tax_total = sum.totals.tax_total.checked_add(&cent).unwrap();
    assert_eq!(rule_of(&sum), "BR-CO-14");
    let mut grand = inv.clone();
    grand.totals.grand_total = grand.totals.grand_total.checked_add(&cent).unwrap();
    assert_eq!(rule_of(&grand), "BR-CO-15");
    let mut due = inv.clone();
    due.totals.due = due.totals.due.checked_sub(&cent).unwrap();
    assert_eq!(rule_of(&due), "BR-CO-16");
    let mut currency = inv;
    currency.totals.paid = usd("100.00");
    assert_eq!(rule_of(&currency), "BR-5");
}

/// Goods returned for store credit come back as surely as goods refunded in money: the
/// invoice is corrected by a credit note of the credited value in the same commit.
#[test]
fn a_return_resolved_as_store_credit_issues_its_credit_note() {
    use ordersmith::ids::CustomerId;
    use ordersmith::returns::ResolutionRequest;
    let (e, _, _) = engine_with(config());
    let mut new = sample_order("web");
    new.customer = Some(Customer {
        id: Some(CustomerId::parse("cust-1").unwrap()),
        name: Redacted::new("Ayşe Yılmaz".into()),
        ..Customer::default()
    });
    let o = e.place_order(new, &ctx()).unwrap();
    let id = o.id.clone();
    e.confirm_order(&id, &ctx()).unwrap();
    e.mark_paid(&id, &ctx()).unwrap();
    let inv = e.issue_invoice(&id, None, &ctx()).unwrap();
    e.record_shipment(&id, vec![lq("L2", 1)], &ctx()).unwrap();
    e.record_delivery(&id, vec![lq("L2", 1)], &ctx()).unwrap();
    let o = return_and_resolve(&e, &id, "L2", 1, ResolutionRequest::StoreCredit);
    let credited = o.rmas[0].resolution.as_ref().unwrap().breakdown().total;
    assert!(!credited.is_zero());
    assert!(o.amount_refunded.is_zero(), "no money went back");
    let docs = e.order_documents(&id).unwrap();
    assert_eq!(docs.len(), 2, "the invoice and its credit note");
    let cn = &docs[1];
    assert_eq!(cn.kind, DocumentKind::CreditNote);
    assert_eq!(cn.corrects.as_ref().unwrap().number, inv.number);
    assert_eq!(cn.totals.grand_total, credited);
}

/// Returns `units` of `line` on delivered order `id` and settles the return as `how`.
fn return_and_resolve(
    e: &Engine,
    id: &ordersmith::ids::OrderId,
    line: &str,
    units: u32,
    how: ordersmith::returns::ResolutionRequest,
) -> ordersmith::order::Order {
    let rma = returned(
        e,
        id,
        line,
        units,
        ordersmith::returns::ReturnReason::ChangedMind,
    );
    e.resolve_return(id, &rma, how, &ctx()).unwrap()
}

/// Net and VAT per rate (as text) of a document, in minor units.
fn by_rate(doc: &InvoiceDocument) -> BTreeMap<String, (i128, i128)> {
    doc.vat
        .iter()
        .map(|v| {
            (
                v.rate.normalize().to_string(),
                (minor(&v.basis), minor(&v.tax)),
            )
        })
        .collect()
}

/// A return credits the VAT of what came back: the 1 % bread returned from an order of
/// 1 %, 10 % and 20 % goods is credited at 1 % alone, whether refunded in money or
/// given as store credit; only a refund beyond the returned goods (goodwill) is spread
/// over every rate, and the whole order refunded still credits each rate exactly.
#[test]
fn a_returned_line_is_credited_at_its_own_vat_rate() {
    use ordersmith::ids::CustomerId;
    use ordersmith::order::LineQuantity;
    use ordersmith::returns::ResolutionRequest;
    let (e, _, _) = engine_with(config());
    let mut new = turkish_order();
    if let Some(c) = new.customer.as_mut() {
        c.id = Some(CustomerId::parse("cust-1").unwrap());
    }
    let o = e.place_order(new, &ctx()).unwrap();
    let id = o.id.clone();
    e.confirm_order(&id, &ctx()).unwrap();
    e.mark_paid(&id, &ctx()).unwrap();
    let inv = e.issue_invoice(&id, None, &ctx()).unwrap();
    assert_eq!(inv.vat.len(), 3);
    let all: Vec<LineQuantity> = ["L1", "L2", "L3"]
        .iter()
        .zip([3, 2, 1])
        .map(|(l, q)| LineQuantity::new(line_id(l), q))
        .collect();
    e.record_shipment(&id, all.clone(), &ctx()).unwrap();
    e.record_delivery(&id, all, &ctx()).unwrap();

    // Two breads back, refunded in money: one credit note, at 1 % only.
    let o = return_and_resolve(&e, &id, "L1", 2, ResolutionRequest::Refund);
    let refunded = o.rmas[0].resolution.as_ref().unwrap().breakdown().total;
    assert!(!refunded.is_zero());
    let docs = e.order_documents(&id).unwrap();
    assert_eq!(docs.len(), 2);
    let cn = &docs[1];
    assert_eq!(cn.kind, DocumentKind::CreditNote);
    assert_eq!(cn.totals.grand_total, refunded);
    let rates: Vec<String> = by_rate(cn).into_keys().collect();
    assert_eq!(rates, vec!["0.01"], "{:?}", cn.vat);
    check_en16931(cn).unwrap();

    // The kettle back as store credit: credited at 20 % only.
    let o = return_and_resolve(&e, &id, "L3", 1, ResolutionRequest::StoreCredit);
    let credited = o.rmas[1].resolution.as_ref().unwrap().breakdown().total;
    let docs = e.order_documents(&id).unwrap();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[2].totals.grand_total, credited);
    let rates: Vec<String> = by_rate(&docs[2]).into_keys().collect();
    assert_eq!(rates, vec!["0.2"], "{:?}", docs[2].vat);

    // A goodwill refund, no goods back: spread over what every rate has left.
    e.record_refund(&id, money("10.00"), &ctx()).unwrap();
    let docs = e.order_documents(&id).unwrap();
    assert_eq!(docs.len(), 4);
    assert_eq!(docs[3].totals.grand_total, money("10.00"));
    assert_eq!(by_rate(&docs[3]).len(), 3, "{:?}", docs[3].vat);

    // Everything left refunded: every rate credited back exactly, to the minor unit.
    let mut left = inv.totals.grand_total;
    for d in &docs[1..] {
        left = left.checked_sub(&d.totals.grand_total).unwrap();
    }
    e.record_refund(&id, left, &ctx()).unwrap();
    let docs = e.order_documents(&id).unwrap();
    let mut credited: BTreeMap<String, (i128, i128)> = BTreeMap::new();
    for d in docs.iter().filter(|d| d.kind == DocumentKind::CreditNote) {
        check_en16931(d).unwrap();
        for (rate, (basis, tax)) in by_rate(d) {
            let entry = credited.entry(rate).or_default();
            entry.0 += basis;
            entry.1 += tax;
        }
    }
    assert_eq!(credited, by_rate(&inv));
}

/// Invoiced per shipment, a returned line is credited on the invoice that billed it,
/// at its own rate, not on the newest invoice.
#[test]
fn a_return_is_credited_on_the_invoice_that_billed_it() {
    use ordersmith::returns::ResolutionRequest;
    let mut c = config();
    c.mode = InvoiceMode::PerShipment;
    let (e, _, _) = engine_with(c);
    let o = e.place_order(turkish_order(), &ctx()).unwrap();
    let id = o.id.clone();
    e.confirm_order(&id, &ctx()).unwrap();
    e.mark_paid(&id, &ctx()).unwrap();
    e.record_shipment(&id, vec![lq("L1", 3)], &ctx()).unwrap();
    let bread = e.issue_invoice(&id, Some("S1"), &ctx()).unwrap();
    e.record_shipment(&id, vec![lq("L2", 2), lq("L3", 1)], &ctx())
        .unwrap();
    let rest = e.issue_invoice(&id, Some("S2"), &ctx()).unwrap();
    e.record_delivery(&id, vec![lq("L1", 3), lq("L2", 2), lq("L3", 1)], &ctx())
        .unwrap();

    let o = return_and_resolve(&e, &id, "L1", 1, ResolutionRequest::Refund);
    let refunded = o.rmas[0].resolution.as_ref().unwrap().breakdown().total;
    let docs = e.order_documents(&id).unwrap();
    let notes: Vec<&InvoiceDocument> = docs
        .iter()
        .filter(|d| d.kind == DocumentKind::CreditNote)
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].corrects.as_ref().unwrap().number, bread.number);
    assert_eq!(notes[0].totals.grand_total, refunded);
    let rates: Vec<String> = by_rate(notes[0]).into_keys().collect();
    assert_eq!(rates, vec!["0.01"]);
    // A goodwill refund afterwards: no goods pending, the newest invoice first.
    e.record_refund(&id, money("5.00"), &ctx()).unwrap();
    let docs = e.order_documents(&id).unwrap();
    let last = docs.last().unwrap();
    assert_eq!(last.kind, DocumentKind::CreditNote);
    assert_eq!(last.corrects.as_ref().unwrap().number, rest.number);
}

// A refund that empties a VAT rate credits what is left at it exactly, and what is
// left carries the invoice's own rounding (each line's VAT rounded) and that of
// earlier partial credit notes: more than one cent from basis × rate on a note of one
// line. EN 16931's own rule (BR-CO-17 / BR-S-09 in the official schematron) accepts a
// difference under one currency unit; the credit note must not be refused, and with
// it the refund.
#[test]
fn a_refund_that_empties_a_rate_is_credited_whatever_the_rounding_left() {
    let three_lines = || {
        NewOrder::new(
            ChannelId::parse("web").unwrap(),
            at(20, 10),
            try_(),
            ["A", "B", "C"]
                .iter()
                .map(|sku| {
                    NewLine::new(variant(sku), 1, money("10.03")).with_tax("KDV", dec("0.20"))
                })
                .collect(),
        )
    };
    // Per-line rounding: 3 × round(2.006) = 6.03 of VAT on 30.09.
    let mut c = config();
    c.tax_rounding = TaxRounding::PerLine;
    let (e, _, _) = engine_with(c);
    let o = e.place_order(three_lines(), &ctx()).unwrap();
    assert_eq!(o.totals().unwrap().total, money("36.12"));
    e.mark_paid(&o.id, &ctx()).unwrap();
    e.issue_invoice(&o.id, None, &ctx()).unwrap();
    e.record_refund(&o.id, money("36.12"), &ctx()).unwrap();
    let docs = e.order_documents(&o.id).unwrap();
    let note = docs
        .iter()
        .find(|d| d.kind == DocumentKind::CreditNote)
        .unwrap();
    assert_eq!(note.totals.grand_total, money("36.12"));
    assert_eq!(note.totals.tax_total, money("6.03"));

    // Per-rate rounding, partial refunds leaving a few cents whose VAT rounds away.
    let (e, _, _) = engine_with(config());
    let one = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        vec![NewLine::new(variant("A"), 1, money("10.00")).with_tax("KDV", dec("0.20"))],
    );
    let o = e.place_order(one, &ctx()).unwrap();
    e.mark_paid(&o.id, &ctx()).unwrap();
    e.issue_invoice(&o.id, None, &ctx()).unwrap();
    for part in ["11.86", "0.04", "0.04", "0.06"] {
        e.record_refund(&o.id, money(part), &ctx()).unwrap();
    }
    let credited: Vec<_> = e
        .order_documents(&o.id)
        .unwrap()
        .into_iter()
        .filter(|d| d.kind == DocumentKind::CreditNote)
        .collect();
    assert_eq!(credited.len(), 4);
    let gross = Money::sum(try_(), credited.iter().map(|d| &d.totals.grand_total)).unwrap();
    let vat = Money::sum(try_(), credited.iter().map(|d| &d.totals.tax_total)).unwrap();
    assert_eq!(
        (gross, vat),
        (money("12.00"), money("2.00")),
        "the invoice, exactly"
    );
}

// Per-shipment invoicing after a refund credited on the first invoice: the customer's
// payments, less the refund, cover both invoices less the credit note, so the second
// invoice is paid in full. The refund reduced what the first invoice keeps; it must
// not be taken off what is left for the next one again (it showed 20.00 due).
#[test]
fn a_credited_refund_is_not_owed_again_on_the_next_shipments_invoice() {
    let mut c = config();
    c.mode = InvoiceMode::PerShipment;
    let (e, _, _) = engine_with(c);
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    e.confirm_order(&o.id, &ctx()).unwrap();
    e.mark_paid(&o.id, &ctx()).unwrap();
    e.record_shipment(&o.id, vec![lq("L2", 1)], &ctx()).unwrap();
    let first = e.issue_invoice(&o.id, Some("S1"), &ctx()).unwrap();
    assert!(first.totals.due.is_zero());
    e.record_refund(&o.id, money("20.00"), &ctx()).unwrap();
    e.record_shipment(&o.id, vec![lq("L1", 2)], &ctx()).unwrap();
    let second = e.issue_invoice(&o.id, Some("S2"), &ctx()).unwrap();
    assert!(second.totals.due.is_zero(), "{:?}", second.totals);
    assert_eq!(second.totals.paid, second.totals.grand_total);
    // The documents add up to what the customer paid and kept.
    let docs = e.order_documents(&o.id).unwrap();
    let signed: Vec<Money> = docs
        .iter()
        .map(|d| match d.kind {
            DocumentKind::CreditNote => Money::zero(try_())
                .checked_sub(&d.totals.grand_total)
                .unwrap(),
            _ => d.totals.grand_total,
        })
        .collect();
    let order = e.order(&o.id).unwrap();
    assert_eq!(
        Money::sum(try_(), signed.iter()).unwrap(),
        order
            .amount_paid
            .checked_sub(&order.amount_refunded)
            .unwrap()
    );
}

// A refund made before the order was invoiced (a shop that invoices at month end, a
// goodwill refund for a late parcel) is credited when the invoice is issued: the
// invoice bills what was sold and counts what the customer paid, and a credit note
// issued with it gives back the refund. It showed the refund as still due, with no
// credit note.
#[test]
fn a_refund_before_the_first_invoice_is_credited_with_it() {
    let (e, _, _) = engine_with(config());
    let o = e.place_order(sample_order("web"), &ctx()).unwrap();
    let total = o.totals().unwrap().total;
    e.mark_paid(&o.id, &ctx()).unwrap();
    e.record_refund(&o.id, money("50.00"), &ctx()).unwrap();
    assert!(e.order_documents(&o.id).unwrap().is_empty());
    let invoice = e.issue_invoice(&o.id, None, &ctx()).unwrap();
    assert_eq!(invoice.totals.grand_total, total);
    assert!(invoice.totals.due.is_zero(), "{:?}", invoice.totals);
    let docs = e.order_documents(&o.id).unwrap();
    let notes: Vec<_> = docs
        .iter()
        .filter(|d| d.kind == DocumentKind::CreditNote)
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].totals.grand_total, money("50.00"));
    assert_eq!(
        notes[0].corrects.as_ref().map(|r| r.number.as_str()),
        Some(invoice.number.as_str())
    );
    for d in &docs {
        check_en16931(d).unwrap();
    }
    // A later refund is credited as any refund on an invoiced order is, once.
    e.record_refund(&o.id, money("10.00"), &ctx()).unwrap();
    let notes = e
        .order_documents(&o.id)
        .unwrap()
        .into_iter()
        .filter(|d| d.kind == DocumentKind::CreditNote)
        .count();
    assert_eq!(notes, 2);
}
