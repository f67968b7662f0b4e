//! A small shop's day: orders from three channels, paid, held, edited, cancelled and
//! shipped, then a readable summary of what happened.
//!
//! On SQLite by default (a fresh `ordersmith-demo.db` in the temp directory each run):
//! `cargo run --release --example demo`. On PostgreSQL when given a connection string
//! (a fresh `ordersmith_demo` schema each run):
//! `cargo run --release --example demo -- 'host=127.0.0.1 user=postgres dbname=postgres'`.

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;

use ordersmith::ports::Clock as _;

use chrono::{Duration, FixedOffset, TimeZone, Utc};
use ordersmith::engine::{lines, CommandContext, Engine, EngineConfig, NotificationConfig};
use ordersmith::fulfilment::{CarrierEvent, Label, ParcelSize, ShippingCalendar, SsccConfig};
use ordersmith::ids::{ChannelId, CountId, LineId, LocationId, TransferId, VariantId};
use ordersmith::invoice::{DocumentKind, InvoiceConfig, InvoiceDocument, Seller};
use ordersmith::money::{Currency, Money};
use ordersmith::notify::{Locale, NotificationChannel};
use ordersmith::order::{
    Actor, CancelReason, FulfilmentCommand, HoldReason, LineEdit, LineQuantity, NewLine, NewOrder,
    Order, ShippingLine, TaxLine,
};
use ordersmith::pii::{Address, Customer, Redacted};
use ordersmith::ports::memory::FixedClock;
use ordersmith::ports::{IdGenerator, OrderQuery, Outbox, Store, MAX_QUERY_LIMIT};
use ordersmith::returns::{
    ExchangeLine, InspectionOutcome, RefundBreakdown, RefundLeg, Resolution, ResolutionRequest,
    ReturnLineRequest, ReturnPolicy, ReturnReason, UnitInspection,
};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_postgres::{PgOptions, PgStore};
use ordersmith_sqlite::SqliteStore;
use rust_decimal::Decimal;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

struct Shop {
    engine: Engine,
    clock: Arc<FixedClock>,
    try_: Currency,
}

impl Shop {
    fn price(&self, text: &str) -> Result<Money> {
        Ok(Money::parse(text, self.try_)?)
    }

    fn line(&self, sku: &str, title: &str, qty: u32, price: &str) -> Result<NewLine> {
        Ok(
            NewLine::new(VariantId::parse(sku)?, qty, self.price(price)?)
                .with_title(title)
                .with_tax("KDV", Decimal::new(20, 2)),
        )
    }

    /// A channel delivers an order placed now.
    fn order(
        &self,
        channel: &str,
        reference: &str,
        region: &str,
        lines: Vec<NewLine>,
    ) -> Result<Order> {
        self.clock.advance(Duration::minutes(37));
        self.deliver(channel, reference, region, lines, self.clock.now_utc())
    }

    /// A channel delivers an order placed at `placed_at` (a webhook, or its redelivery).
    fn deliver(
        &self,
        channel: &str,
        reference: &str,
        region: &str,
        lines: Vec<NewLine>,
        placed_at: chrono::DateTime<Utc>,
    ) -> Result<Order> {
        let mut new = NewOrder::new(ChannelId::parse(channel)?, placed_at, self.try_, lines);
        new.external_ref = Some(reference.to_string());
        new.taxes_included = true;
        new.customer = Some(Customer {
            name: Redacted::new(format!("Customer of {reference}")),
            email: Some(Redacted::new(format!("{reference}@example.com"))),
            locale: Some("tr-TR".into()),
            ..Customer::default()
        });
        new.shipping_address = Some(Address {
            region: Some(region.to_string()),
            country: "TR".into(),
            ..Address::default()
        });
        new.shipping_lines.push(ShippingLine {
            title: "Kargo".into(),
            price: self.price("29.90")?,
            tax_lines: vec![TaxLine {
                name: "KDV".into(),
                rate: Decimal::new(20, 2),
            }],
        });
        let ctx = CommandContext::by(Actor::Channel(new.channel.clone()));
        Ok(self.engine.place_order(new, &ctx)?)
    }
}

trait NowUtc {
    fn now_utc(&self) -> chrono::DateTime<Utc>;
}

impl NowUtc for FixedClock {
    fn now_utc(&self) -> chrono::DateTime<Utc> {
        ordersmith::ports::Clock::now(self)
    }
}

/// The store and outbox the demo runs on, and a line saying which it is.
type Opened = (
    Arc<dyn Store>,
    Arc<dyn Outbox>,
    Arc<dyn IdGenerator>,
    String,
);

/// The store the demo runs on, fresh each run.
fn open_store() -> Result<Opened> {
    if let Some(conninfo) = std::env::args().nth(1) {
        let schema = "ordersmith_demo";
        let mut client = postgres::Client::connect(&conninfo, postgres::NoTls)?;
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))?;
        let store = Arc::new(PgStore::connect(
            &conninfo,
            PgOptions {
                schema: Some(schema.to_string()),
                ..PgOptions::default()
            },
        )?);
        return Ok((
            store.clone(),
            store.clone(),
            store,
            format!("PostgreSQL, schema {schema}"),
        ));
    }
    let path = std::env::temp_dir().join("ordersmith-demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    let store = Arc::new(SqliteStore::open(&path)?);
    Ok((
        store.clone(),
        store.clone(),
        store,
        format!("SQLite, {}", path.display()),
    ))
}

fn main() -> Result<()> {
    let (store, outbox, ids, store_name) = open_store()?;
    // 08:00 in Istanbul is 05:00 UTC; the core only ever sees UTC.
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 20, 5, 0, 0)
            .single()
            .ok_or("bad date")?,
    ));
    // Order ids come from the store's persistent sequence: unique across restarts.
    // Customers hear about every stage by e-mail; the shop ships from Istanbul with a
    // 14:00 cut-off, one handling day, closed on Sundays.
    let calendar = ShippingCalendar::new(
        chrono_tz::Europe::Istanbul,
        chrono::NaiveTime::from_hms_opt(14, 0, 0).ok_or("bad time")?,
        1,
    )?
    .with_non_working_day(chrono::Weekday::Sun)?;
    let engine = Engine::new(store, outbox, clock.clone(), ids)
        .with_config(EngineConfig {
            notifications: Some(NotificationConfig {
                channels: vec![NotificationChannel::Email],
                tracking_url: Some("https://kargo.example/{carrier}/{tracking_number}".into()),
                ..NotificationConfig::default()
            }),
            shipping_calendar: Some(calendar),
            sscc: Some(SsccConfig::new(0, "8691234", 1..=9_999_999)?),
            // 14 days to return; a 5 % restocking fee when the customer changes their mind
            // or picked the wrong size (the shop pays return shipping when it is at fault).
            returns: ReturnPolicy {
                restocking_fee_rate: Decimal::new(5, 2),
                ..ReturnPolicy::default()
            },
            ..EngineConfig::default()
        })
        // Invoices and credit notes: the shop's company data, numbered per year in Istanbul.
        .with_invoicing(InvoiceConfig {
            time_zone: chrono_tz::Europe::Istanbul,
            ..InvoiceConfig::new(Seller {
                name: "Çay & Kahve Ticaret A.Ş.".into(),
                vat_id: None,
                tax_id: Some("1234567890".into()),
                address_lines: vec!["Bağdat Caddesi 100".into()],
                city: "İstanbul".into(),
                postal_code: "34728".into(),
                country: "TR".into(),
                email: Some("fatura@example.com".into()),
            })
        })?;
    let shop = Shop {
        engine: engine.clone(),
        clock: clock.clone(),
        try_: Currency::parse("TRY")?,
    };
    let staff = CommandContext::by(Actor::User("ayse".into()));

    println!("ordersmith demo: one day at a small Istanbul shop");
    println!("store: {store_name}\n");

    // Early morning: three locations and this morning's receipts.
    let loc = |id: &str| LocationId::parse(id);
    let mut setup = vec![
        StockCommand::AddLocation {
            location: Location::new(
                loc("IST")?,
                "Istanbul DC",
                1,
                "TR-34",
                LocationKind::Warehouse,
            ),
        },
        StockCommand::AddLocation {
            location: Location::new(loc("ANK")?, "Ankara store", 2, "TR-06", LocationKind::Store),
        },
        StockCommand::AddLocation {
            location: Location::new(loc("IZM")?, "Izmir store", 3, "TR-35", LocationKind::Store),
        },
    ];
    for (sku, ist, ank, izm) in [
        ("TEE-BLK-M", 20, 4, 0),
        ("TEE-WHT-S", 2, 0, 5),
        ("CAP-NVY", 0, 0, 3),
        ("MUG-LOGO", 8, 0, 0),
        ("HOOD-GRY-L", 6, 0, 1),
    ] {
        let variant = VariantId::parse(sku)?;
        setup.push(StockCommand::RegisterVariant {
            variant: variant.clone(),
            policy: StockPolicy::Deny,
        });
        for (l, quantity) in [("IST", ist), ("ANK", ank), ("IZM", izm)] {
            if quantity > 0 {
                setup.push(StockCommand::Receive {
                    variant: variant.clone(),
                    location: loc(l)?,
                    quantity,
                    reference: Some("PO-2611".into()),
                });
            }
        }
    }
    setup.push(StockCommand::SetLowStockThreshold {
        variant: VariantId::parse("MUG-LOGO")?,
        threshold: Some(5),
    });
    engine.stock_batch(setup)?;

    // Morning: orders arrive from three channels.
    let web1 = shop.order(
        "web",
        "W-1001",
        "TR-34",
        vec![
            shop.line("TEE-BLK-M", "T-shirt black M", 2, "349.90")?,
            shop.line("MUG-LOGO", "Logo mug", 1, "189.00")?,
        ],
    )?;
    let ty1 = shop.order(
        "trendyol",
        "TY-88120031",
        "TR-06",
        vec![shop.line("HOOD-GRY-L", "Hoodie grey L", 1, "899.00")?],
    )?;
    let sh1 = shop.order(
        "shopify",
        "#1042",
        "TR-35",
        vec![
            shop.line("TEE-WHT-S", "T-shirt white S", 3, "349.90")?,
            shop.line("CAP-NVY", "Cap navy", 1, "249.00")?,
        ],
    )?;
    let ty2 = shop.order(
        "trendyol",
        "TY-88120077",
        "TR-34",
        vec![shop.line("MUG-LOGO", "Logo mug", 4, "189.00")?],
    )?;
    let web2 = shop.order(
        "web",
        "W-1002",
        "TR-16",
        vec![shop.line("HOOD-GRY-L", "Hoodie grey L", 2, "899.00")?],
    )?;
    // Trendyol redelivers a webhook: the same order is not placed twice.
    let again = shop.deliver(
        "trendyol",
        "TY-88120031",
        "TR-06",
        vec![shop.line("HOOD-GRY-L", "Hoodie grey L", 1, "899.00")?],
        ty1.placed_at,
    )?;
    let redelivery = if again.id == ty1.id {
        format!("recognised as {} again, not placed twice", ty1.id)
    } else {
        format!("unexpected new order {}", again.id)
    };

    // Payments and confirmations: confirming reserves stock, sourced by priority.
    if let Some(plan) = engine.sourcing_plan(&sh1.id)? {
        println!(
            "Sourcing plan for Shopify {}:",
            sh1.external_ref.as_deref().unwrap_or("-")
        );
        for line in &plan.explanation {
            println!("  {line}");
        }
    }
    for o in [&web1, &ty1, &sh1, &ty2] {
        engine.mark_paid(&o.id, &staff)?;
        engine.confirm_order(&o.id, &staff)?;
    }
    // The second web order looks risky: hold it for review, then cancel it.
    clock.advance(Duration::hours(1));
    engine.hold_order(
        &web2.id,
        HoldReason::FraudReview,
        Some("billing and shipping far apart".into()),
        &staff,
    )?;
    engine.add_note(&web2.id, "customer did not answer the phone".into(), &staff)?;
    engine.cancel_order(&web2.id, CancelReason::Fraud, &staff)?;

    // The Shopify customer calls: one fewer white T-shirt and add a mug.
    engine.hold_order(&sh1.id, HoldReason::CustomerRequest, None, &staff)?;
    engine.edit_order(
        &sh1.id,
        vec![
            LineEdit::SetQuantity {
                line_id: LineId::parse("L1")?,
                quantity: 2,
            },
            LineEdit::Add {
                line: shop.line("MUG-LOGO", "Logo mug", 1, "189.00")?,
            },
        ],
        &staff,
    )?;
    engine.release_hold(&sh1.id, &staff)?;
    // The order total dropped below what was paid: refund the difference.
    let balance = engine.order(&sh1.id)?.balance_due()?;
    if balance.is_negative() {
        engine.record_refund(&sh1.id, balance.negated(), &staff)?;
    } else if !balance.is_zero() {
        engine.record_payment(&sh1.id, balance, &staff)?;
    }

    // One mug on the second Trendyol order is out of stock: cancel one unit.
    engine.cancel_lines(
        &ty2.id,
        lines(&[("L1", 1)])?,
        CancelReason::Inventory,
        &staff,
    )?;

    // Afternoon: the warehouse ships. The Shopify order is split: white T-shirts and
    // the cap from Izmir, the mug from Istanbul. Each location picks, packs, labels
    // and hands its parcel to the carrier; the ledger sells exactly what left.
    clock.advance(Duration::hours(4));
    let split = engine.order(&sh1.id)?;
    let size = ParcelSize {
        weight_grams: 700,
        length_mm: 300,
        width_mm: 220,
        height_mm: 80,
    };
    for (k, fo) in split
        .fulfilments
        .iter()
        .filter(|f| !f.status.is_closed())
        .enumerate()
    {
        let to_pick: Vec<LineQuantity> = engine
            .pick_list(&sh1.id, &fo.id)?
            .into_iter()
            .map(|l| LineQuantity::new(l.line_id, l.quantity))
            .collect();
        let f = fo.id.clone();
        let steps = [
            FulfilmentCommand::Pick {
                fulfilment: f.clone(),
                picked: to_pick.clone(),
                short: vec![],
            },
            FulfilmentCommand::Pack {
                fulfilment: f.clone(),
                units: to_pick,
                size,
            },
            FulfilmentCommand::RequestLabel {
                fulfilment: f.clone(),
                parcel: format!("{f}-P1"),
                service: "standard".into(),
            },
            FulfilmentCommand::RecordLabel {
                fulfilment: f.clone(),
                parcel: format!("{f}-P1"),
                label: Label {
                    carrier: if k == 0 { "ups" } else { "ptt" }.into(),
                    service: "standard".into(),
                    tracking_number: if k == 0 {
                        "1Z999AA10123456784"
                    } else {
                        "RR123456785TR"
                    }
                    .into(),
                    label_ref: None,
                },
            },
            FulfilmentCommand::HandOver {
                fulfilment: f.clone(),
                parcel: format!("{f}-P1"),
            },
        ];
        for step in steps {
            engine.fulfil(&sh1.id, step, &staff)?;
        }
    }
    // The carrier reports: the UPS parcel is out for delivery and then delivered; the
    // PTT one is still on its way (a repeated scan changes nothing).
    let split = engine.order(&sh1.id)?;
    let parcels: Vec<(String, String)> = split
        .fulfilments
        .iter()
        .flat_map(|f| f.parcels.iter().map(move |p| (f.id.clone(), p.id.clone())))
        .collect();
    let scan = |minutes: i64, code: &str, place: &str| -> Result<CarrierEvent> {
        Ok(CarrierEvent::new(
            clock.now_utc() + Duration::minutes(minutes),
            code,
            Some(place),
        )?)
    };
    if let Some((f, p)) = parcels.first() {
        for (m, code) in [(10, "I"), (60, "O"), (60, "O"), (120, "D")] {
            engine.record_tracking_event(&sh1.id, f, p, scan(m, code, "Izmir")?, &staff)?;
        }
    }
    engine.record_shipment(&web1.id, lines(&[("L1", 2), ("L2", 1)])?, &staff)?;
    engine.record_shipment(&ty1.id, lines(&[("L1", 1)])?, &staff)?;
    engine.record_shipment(&ty2.id, lines(&[("L1", 2)])?, &staff)?;
    clock.advance(Duration::hours(3));
    engine.record_delivery(&web1.id, lines(&[("L1", 2), ("L2", 1)])?, &staff)?;
    engine.complete_order(&web1.id, &staff)?;

    // Evening: move hoodies to Ankara and count the black T-shirts in Istanbul.
    engine.stock_batch(vec![
        StockCommand::Transfer {
            id: TransferId::parse("TR-1")?,
            variant: VariantId::parse("HOOD-GRY-L")?,
            from: loc("IST")?,
            to: loc("ANK")?,
            quantity: 2,
        },
        StockCommand::ReceiveTransfer {
            id: TransferId::parse("TR-1")?,
        },
    ])?;
    let count = CountId::parse("CC-IST-1")?;
    engine.stock(StockCommand::OpenCount {
        id: count.clone(),
        location: loc("IST")?,
        variants: vec![VariantId::parse("TEE-BLK-M")?],
    })?;
    engine.stock(StockCommand::RecordCount {
        id: count.clone(),
        variant: VariantId::parse("TEE-BLK-M")?,
        counted: 17,
    })?;
    let closed = engine.stock(StockCommand::CloseCount {
        id: count,
        unit_costs: BTreeMap::from([(VariantId::parse("TEE-BLK-M")?, shop.price("140.00")?)]),
    })?;
    if let Some(report) = &closed.count_report {
        for v in &report.variances {
            println!(
                "\nCycle count at IST: {} expected {}, counted {}, variance {} ({})",
                v.variant,
                v.expected,
                v.counted,
                v.variance,
                v.value.map_or("no cost".to_string(), |m| m.to_string())
            );
        }
    }

    // Two days later, the W-1001 customer sends things back. The mug arrived chipped
    // (the shop's fault: it pays the label, refunds the mug's share of shipping, keeps
    // no fee): refunded. A black T-shirt is the wrong size: exchanged for a white one
    // (the customer's reason: the 5 % fee is kept, shipping is not refunded).
    clock.advance(Duration::days(2));
    let customer = CommandContext::by(Actor::Customer);
    let ask = |line: &str, quantity: u32, reason: ReturnReason| -> Result<ReturnLineRequest> {
        Ok(ReturnLineRequest {
            line_id: LineId::parse(line)?,
            quantity,
            reason,
            opened: true,
        })
    };
    let unit = |line: &str, outcome: InspectionOutcome, note: &str| -> Result<UnitInspection> {
        Ok(UnitInspection {
            line_id: LineId::parse(line)?,
            outcome,
            quantity: 1,
            note: Some(note.into()),
        })
    };
    // The order was invoiced when it completed: the refund below credits that invoice.
    let web1_invoice = engine.issue_invoice(&web1.id, None, &staff)?;
    let o = engine.request_return(
        &web1.id,
        vec![ask("L2", 1, ReturnReason::Damaged)?],
        Some("the handle is chipped".into()),
        vec![],
        &customer,
    )?;
    let mug_rma = o.rmas.last().map(|r| r.id.clone()).ok_or("no return")?;
    engine.request_return_label(&web1.id, &mug_rma, "ptt-return".into(), &staff)?;
    engine.record_return_label(
        &web1.id,
        &mug_rma,
        "ptt".into(),
        "RR000000017TR".into(),
        &staff,
    )?;
    engine.mark_return_in_transit(&web1.id, &mug_rma, &staff)?;
    clock.advance(Duration::days(1));
    engine.receive_return(
        &web1.id,
        &mug_rma,
        loc("IST")?,
        lines(&[("L2", 1)])?,
        &staff,
    )?;
    engine.inspect_return(
        &web1.id,
        &mug_rma,
        vec![unit("L2", InspectionOutcome::Quarantine, "chipped handle")?],
        &staff,
    )?;
    let o = engine.resolve_return(&web1.id, &mug_rma, ResolutionRequest::Refund, &staff)?;
    if let Some(Resolution::Refund { breakdown, refunds }) =
        o.rma(&mug_rma).and_then(|r| r.resolution.as_ref())
    {
        println!("\nReturn {mug_rma} of {} (damaged mug), refunded:", web1.id);
        print_breakdown(breakdown);
        for leg in refunds {
            match leg {
                RefundLeg::Provider { payment, amount } => {
                    println!("  paid back: {amount}, a refund asked of the provider on {payment}")
                }
                RefundLeg::Recorded { amount } => {
                    println!(
                        "  paid back: {amount}, recorded (the order was paid outside ordersmith)"
                    )
                }
                RefundLeg::StoreCredit { customer, amount } => {
                    println!("  given back: {amount} to {customer}'s store credit, which paid it")
                }
            }
        }
    }
    let o = engine.request_return(
        &web1.id,
        vec![ask("L1", 1, ReturnReason::WrongSize)?],
        Some("too small".into()),
        vec![ExchangeLine {
            variant: VariantId::parse("TEE-WHT-S")?,
            quantity: 1,
            unit_price: shop.price("349.90")?,
            title: Some("T-shirt white S".into()),
            tax_lines: vec![],
        }],
        &customer,
    )?;
    let tee_rma = o.rmas.last().map(|r| r.id.clone()).ok_or("no return")?;
    engine.receive_return(
        &web1.id,
        &tee_rma,
        loc("IST")?,
        lines(&[("L1", 1)])?,
        &staff,
    )?;
    engine.inspect_return(
        &web1.id,
        &tee_rma,
        vec![unit("L1", InspectionOutcome::Resellable, "as new")?],
        &staff,
    )?;
    let o = engine.resolve_return(&web1.id, &tee_rma, ResolutionRequest::Exchange, &staff)?;
    if let Some(Resolution::Exchange {
        breakdown,
        replacement_order,
        replacement_total,
        applied,
        to_charge,
        ..
    }) = o.rma(&tee_rma).and_then(|r| r.resolution.as_ref())
    {
        println!("\nReturn {tee_rma} of {} (wrong size), exchanged:", web1.id);
        print_breakdown(breakdown);
        let replacement = engine.order(replacement_order)?;
        println!(
            "  replacement order {replacement_order} ({}) costs {replacement_total}: {applied} covered by the return, {to_charge} to pay; its stock is reserved: {}",
            replacement
                .lines
                .iter()
                .map(|l| format!("{} x{}", l.variant, l.quantity))
                .collect::<Vec<_>>()
                .join(", "),
            replacement.lines.iter().all(|l| l.fulfilment.allocated == l.quantity)
        );
    }
    let web1_now = engine.order(&web1.id)?;
    println!(
        "  {}: paid {}, refunded {}, payment {}, fulfilment {}",
        web1.id,
        web1_now.amount_paid,
        web1_now.amount_refunded,
        web1_now.payment_status().as_str(),
        web1_now.fulfilment_status().as_str()
    );
    println!("  Where is the return (tr):");
    for r in engine.timeline(&web1.id, Locale::Tr)?.returns {
        let done: Vec<String> = r
            .steps
            .iter()
            .filter(|s| s.done)
            .map(|s| s.label.clone())
            .collect();
        println!("    {}: {} ({})", r.rma, r.status, done.join(" → "));
    }
    println!(
        "  Invoice {} of {}, and the credit notes its refunds issued:",
        web1_invoice.number, web1.id
    );
    for note in engine
        .order_documents(&web1.id)?
        .iter()
        .filter(|d| d.kind == DocumentKind::CreditNote)
    {
        print_credit_note(note);
    }
    println!();

    // Summary.
    let all = engine.list_all_orders(&OrderQuery::default(), None)?;
    println!(
        "{:<12} {:<9} {:<12} {:<11} {:<19} {:<20} {:>12}",
        "order", "channel", "reference", "status", "payment", "fulfilment", "total"
    );
    let mut revenue = Money::zero(shop.try_);
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for o in &all {
        let totals = o.totals()?;
        revenue = revenue.checked_add(&o.amount_paid.checked_sub(&o.amount_refunded)?)?;
        *by_status.entry(o.status.to_string()).or_default() += 1;
        println!(
            "{:<12} {:<9} {:<12} {:<11} {:<19} {:<20} {:>12}",
            o.id.as_str(),
            o.channel.as_str(),
            o.external_ref.as_deref().unwrap_or("-"),
            o.status.as_str(),
            o.payment_status().as_str(),
            o.fulfilment_status().as_str(),
            totals.total.to_string(),
        );
    }
    println!("\nTrendyol redelivery: {redelivery}");
    println!("Orders by status: {by_status:?}");
    println!("Net payments taken: {revenue}");

    // Time zones only at the edge: Turkey keeps UTC+3 all year.
    let istanbul = FixedOffset::east_opt(3 * 3600).ok_or("bad offset")?;
    println!(
        "\nAudit trail of {} (Shopify {}), Istanbul time:",
        sh1.id,
        sh1.external_ref.as_deref().unwrap_or("-")
    );
    for r in engine.order_history(&sh1.id)? {
        let who = match &r.actor {
            Actor::User(u) => format!("user {u}"),
            Actor::Channel(c) => format!("channel {c}"),
            other => format!("{other:?}").to_lowercase(),
        };
        println!(
            "  v{:<2} {} {:<28} by {}",
            r.version,
            r.recorded_at.with_timezone(&istanbul).format("%H:%M"),
            r.event.topic(),
            who
        );
    }
    println!("\nStock position tonight:");
    println!(
        "{:<12} {:<5} {:>8} {:>9} {:>10}",
        "variant", "loc", "on hand", "reserved", "available"
    );
    engine.with_stock(|s| {
        let mut rows: Vec<_> = s
            .balances()
            .iter()
            .flat_map(|(v, by_loc)| by_loc.iter().map(move |(l, b)| (v.clone(), l.clone(), *b)))
            .collect();
        rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        for (v, l, b) in rows {
            let available = b.available(s.safety_stock(&v, &l));
            println!(
                "{:<12} {:<5} {:>8} {:>9} {:>10}",
                v.as_str(),
                l.as_str(),
                b.on_hand,
                b.reserved,
                available
            );
        }
    })?;

    // "Where is my order", as a support agent reads it, in English and Turkish.
    for locale in [Locale::En, Locale::Tr] {
        let t = engine.timeline(&sh1.id, locale)?;
        println!("\nWhere is order {} ({locale}):", t.order_ref);
        for step in &t.steps {
            println!(
                "  [{}] {:<22} {}",
                if step.done { "x" } else { " " },
                step.label,
                step.at.as_deref().unwrap_or("")
            );
        }
        for p in &t.parcels {
            println!(
                "  parcel {} from {}: {} ({} {})",
                p.parcel,
                p.location,
                p.status,
                p.carrier.as_deref().unwrap_or("-"),
                p.tracking_url.as_deref().unwrap_or("-")
            );
        }
        if let Some((early, late)) = &t.delivery_estimate {
            println!("  delivery expected {early} to {late}");
        }
    }

    invoices(&engine, &[&web1, &ty1, &sh1, &ty2], &ty1, &staff)?;

    let effects = engine.pending_effects(MAX_QUERY_LIMIT)?;
    let notices: Vec<&str> = effects
        .iter()
        .filter(|e| e.topic == "notification.requested" && e.aggregate_id == sh1.id.as_str())
        .filter_map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.payload_json).ok()?;
            match v.pointer("/event/notification/key")?.as_str()? {
                "order_received" => Some("received"),
                "order_confirmed" => Some("confirmed"),
                "order_shipped" => Some("shipped"),
                "out_for_delivery" => Some("out for delivery"),
                "delivered" => Some("delivered"),
                "refund_issued" => Some("refunded"),
                _ => Some("other"),
            }
        })
        .collect();
    println!(
        "\nE-mails asked of the host for {}: {}",
        sh1.id,
        notices.join(", ")
    );
    let labels = effects
        .iter()
        .filter(|e| e.topic == "fulfilment.label_requested")
        .count();
    println!("Label requests waiting for the carrier integration: {labels}");
    for alert in effects.iter().filter(|e| e.topic.starts_with("stock.")) {
        println!("Alert for the host: {} {}", alert.topic, alert.payload_json);
    }
    println!(
        "\n{} effects wait in the outbox for the host (first: {} {}).",
        effects.len(),
        effects.first().map_or("-", |e| e.topic.as_str()),
        effects.first().map_or("-", |e| e.aggregate_id.as_str())
    );

    // The day's KPIs as a page people would rather look at than read: one HTML file,
    // inline SVG, nothing fetched. `ORDERSMITH_REPORT` chooses where it goes.
    let report = engine.kpi_report_html(
        chrono_tz::Europe::Istanbul,
        &ordersmith::kpi::ReportOptions {
            title: "Istanbul demo shop: operations".into(),
            as_of: Some(clock.now()),
            insight_grain: ordersmith::kpi::Grain::Day,
            ..Default::default()
        },
    )?;
    let path = std::env::var("ORDERSMITH_REPORT")
        .unwrap_or_else(|_| format!("{}/kpi-report.html", std::env::temp_dir().display()));
    std::fs::write(&path, report)?;
    println!("KPI report: {path}");
    automation(&shop)?;
    Ok(())
}

/// Automation rules (issue 14): load a rule set, try it on the day's orders (a dry run
/// changes nothing), then run it live on the evening's orders.
fn automation(shop: &Shop) -> Result<()> {
    let engine = &shop.engine;
    println!("\nAutomation rules: examples/rules/demo_shop.json");
    let set = engine.load_rules(include_str!("rules/demo_shop.json"))?;
    for r in set.rules() {
        println!("  {:<24} on {}", r.name, r.trigger);
    }
    let report = engine.dry_run_rules(&set, &OrderQuery::default())?;
    println!(
        "\nDry run over the day's {} orders (nothing changes):",
        report.orders_evaluated
    );
    for o in &report.orders {
        for f in &o.firings {
            println!("  {} {:<24} because {}", o.order_id, f.rule, f.because);
        }
        if !o.changes.is_empty() {
            println!("  {} would change: {}", o.order_id, o.changes.join("; "));
        }
        for c in &o.conflicts {
            println!(
                "  {} CONFLICT {:?}: {} vs {} ({})",
                o.order_id, c.kind, c.rules[0], c.rules[1], c.detail
            );
        }
    }
    println!("  fired per rule: {:?}", report.counts);

    // Live: the same set acts on the evening's orders.
    let live = engine.clone().with_rules(Some(set), None);
    let evening = Shop {
        engine: live.clone(),
        clock: shop.clock.clone(),
        try_: shop.try_,
    };
    let staff = CommandContext::by(Actor::User("ayse".into()));
    let small = evening.order(
        "web",
        "W-1003",
        "TR-34",
        vec![evening.line("HOOD-GRY-L", "Hoodie grey L", 1, "899.00")?],
    )?;
    live.mark_paid(&small.id, &staff)?;
    let big = evening.order(
        "web",
        "W-1004",
        "TR-06",
        vec![evening.line("TEE-BLK-M", "T-shirt black M", 5, "349.90")?],
    )?;
    println!("\nLive, this evening:");
    for id in [&small.id, &big.id] {
        let o = live.order(id)?;
        let held_at: Vec<String> = o
            .lines
            .iter()
            .flat_map(|l| &l.allocations)
            .map(|a| a.location.to_string())
            .collect();
        println!(
            "  {} {}: {} priority {} stock at [{}]",
            o.id,
            o.external_ref.as_deref().unwrap_or("-"),
            o.status,
            o.automation
                .priority
                .map_or("-".to_string(), |p| p.to_string()),
            held_at.join(", ")
        );
        for r in live.order_history(id)? {
            if let Actor::Rule(rule) = &r.actor {
                match &r.event {
                    ordersmith::order::OrderEvent::RuleApplied(a) => println!(
                        "    v{:<2} rule {rule} on {}: because {}",
                        r.version, a.trigger, a.because
                    ),
                    e => println!("    v{:<2} {:<24} by rule:{rule}", r.version, e.topic()),
                }
            }
        }
    }
    Ok(())
}

/// Issues an invoice for each paid order, refunds part of one (which issues its credit
/// note), prints the credit note and writes one invoice as a printable HTML page.
fn invoices(
    engine: &Engine,
    orders: &[&Order],
    refunded: &Order,
    staff: &CommandContext,
) -> Result<()> {
    println!("\nInvoices");
    let mut issued = Vec::new();
    for o in orders {
        // An order invoiced earlier in the day keeps its invoice.
        let earlier = engine
            .order_documents(&o.id)?
            .into_iter()
            .find(|d| d.kind == DocumentKind::Invoice);
        let inv = match earlier {
            Some(inv) => inv,
            None => engine.issue_invoice(&o.id, None, staff)?,
        };
        println!(
            "  {} for {}: {} (VAT {})",
            inv.number, inv.order_id, inv.totals.grand_total, inv.totals.tax_total
        );
        issued.push(inv);
    }
    // A damaged box: the Trendyol customer gets 25.00 TRY back, which credits the invoice.
    let amount = Money::parse("25.00", refunded.currency)?;
    engine.record_refund(&refunded.id, amount, staff)?;
    let credit = engine
        .order_documents(&refunded.id)?
        .into_iter()
        .rfind(|d| d.kind == DocumentKind::CreditNote)
        .ok_or("the refund issued no credit note")?;
    print_credit_note(&credit);
    if let Some(first) = issued.first() {
        let path = std::env::temp_dir().join(format!(
            "ordersmith-demo-{}.html",
            first.number.replace(['/', '\\'], "-")
        ));
        std::fs::write(&path, engine.document_html(&first.number, Locale::Tr)?)?;
        println!(
            "  printable invoice {} written to {}",
            first.number,
            path.display()
        );
        let xml = engine.document_cii(&first.number)?;
        println!("  its EN 16931 e-invoice (CII XML) is {} bytes", xml.len());
    }
    Ok(())
}

fn print_credit_note(credit: &InvoiceDocument) {
    println!(
        "  credit note {} of {} corrects {} ({}):",
        credit.number,
        credit.issue_date,
        credit.corrects.as_ref().map_or("-", |c| c.number.as_str()),
        credit.note.as_deref().unwrap_or("-")
    );
    for v in &credit.vat {
        println!(
            "    VAT {:>5} %: net {} + VAT {}",
            (v.rate * Decimal::ONE_HUNDRED).normalize(),
            v.basis,
            v.tax
        );
    }
    println!(
        "    total {} (paid out {}, due {})",
        credit.totals.grand_total, credit.totals.paid, credit.totals.due
    );
}

/// A refund breakdown as a finance person reads it.
fn print_breakdown(b: &RefundBreakdown) {
    println!(
        "  {:<6} {:>5} {:>14} {:>12} {:>12} {:>14} {:>14}",
        "line", "units", "paid", "of which tax", "shipping", "restocking fee", "refund"
    );
    for l in &b.lines {
        println!(
            "  {:<6} {:>5} {:>14} {:>12} {:>12} {:>14} {:>14}",
            l.line_id.as_str(),
            l.quantity,
            l.paid.to_string(),
            l.tax.to_string(),
            l.shipping.to_string(),
            l.restocking_fee.to_string(),
            l.total.to_string()
        );
    }
    println!("  {:<6} {:>86}", "total", b.total.to_string());
}
