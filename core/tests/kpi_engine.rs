//! KPIs from the engine's stored history: order events (shipments, deliveries,
//! returns, refunds), fed through `Engine::kpi_book`, and the HTML report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::Duration;
use common::*;
use ordersmith::engine::CommandContext;
use ordersmith::kpi::{KpiQuery, ReportOptions};
use ordersmith::order::CancelReason;

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn cell(t: &ordersmith::kpi::KpiTable, row: usize, col: &str) -> String {
    t.cell(row, col).map(|c| c.to_string()).unwrap_or_default()
}

#[test]
fn the_engine_history_becomes_kpis_and_a_report() {
    let t = test_engine();
    // Sample order: 2 × SHIRT-M at 100.00 with a 10.00 discount, 1 × MUG at 50.00,
    // placed 2026-11-20 10:00Z (13:00 in Istanbul).
    let a = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    let b = t
        .engine
        .place_order(sample_order("trendyol"), &ctx())
        .unwrap();
    let c = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    for o in [&a, &b] {
        t.engine.confirm_order(&o.id, &ctx()).unwrap();
    }
    t.engine
        .record_payment(&a.id, money("100"), &ctx())
        .unwrap();
    t.clock.set(at(21, 10));
    t.engine
        .record_shipment(&a.id, vec![lq("L1", 2), lq("L2", 1)], &ctx())
        .unwrap();
    t.clock.advance(Duration::hours(24));
    t.engine
        .record_delivery(&a.id, vec![lq("L1", 2), lq("L2", 1)], &ctx())
        .unwrap();
    t.engine
        .record_return(&a.id, vec![lq("L2", 1)], &ctx())
        .unwrap();
    t.engine.record_refund(&a.id, money("50"), &ctx()).unwrap();
    t.engine
        .cancel_order(&c.id, CancelReason::Fraud, &ctx())
        .unwrap();

    let book = t.engine.kpi_book(chrono_tz::Europe::Istanbul).unwrap();
    let tables = book.tables(&KpiQuery::default()).unwrap();
    let s = tables.table("summary").unwrap();
    assert_eq!(cell(s, 0, "period"), "2026-11-20");
    // Three orders, one cancelled for fraud; 3 units each.
    assert_eq!(cell(s, 0, "orders"), "3");
    assert_eq!(cell(s, 0, "orders_cancelled"), "1");
    assert_eq!(cell(s, 0, "units_net"), "6");
    // a shipped 24 h after it was placed; 1 of its 3 units came back.
    assert_eq!(cell(s, 0, "orders_shipped"), "1");
    assert_eq!(cell(s, 0, "order_to_ship_p50_s"), "86400");
    assert_eq!(cell(s, 0, "units_returned"), "1");
    assert_eq!(cell(s, 0, "return_rate_units"), "0.3333333333");
    let r = tables.table("revenue").unwrap();
    // Two active orders × (200 + 50) gross, 10.00 discount each, 50.00 refunded.
    assert_eq!(cell(r, 0, "gross"), "500.00");
    assert_eq!(cell(r, 0, "discounts"), "20.00");
    assert_eq!(cell(r, 0, "net"), "430.00");
    let rr = tables.table("returns_by_reason").unwrap();
    assert_eq!(cell(rr, 0, "reason"), "unspecified");

    let html = t
        .engine
        .kpi_report_html(chrono_tz::Europe::Istanbul, &ReportOptions::default())
        .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"));
    // Self-contained: nothing fetched, no script.
    for forbidden in ["<script", "http://", "https://", "src=", "@import"] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
}

/// A return through the RMA workflow reaches the KPIs with the reason its request gave
/// (wrong size), the SKU and the channel; a return recorded directly stays unspecified.
#[test]
fn rma_returns_carry_their_reason_into_the_kpis() {
    use ordersmith::returns::{ReturnLineRequest, ReturnReason};
    let t = test_engine();
    let a = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    t.engine.confirm_order(&a.id, &ctx()).unwrap();
    t.engine.mark_paid(&a.id, &ctx()).unwrap();
    t.clock.set(at(21, 10));
    t.engine
        .record_shipment(&a.id, vec![lq("L1", 2), lq("L2", 1)], &ctx())
        .unwrap();
    t.engine
        .record_delivery(&a.id, vec![lq("L1", 2), lq("L2", 1)], &ctx())
        .unwrap();
    let o = t
        .engine
        .request_return(
            &a.id,
            vec![ReturnLineRequest {
                line_id: line_id("L1"),
                quantity: 1,
                reason: ReturnReason::WrongSize,
                opened: false,
            }],
            None,
            vec![],
            &ctx(),
        )
        .unwrap();
    let rma = o.rmas.last().unwrap().id.clone();
    t.engine
        .receive_return(
            &a.id,
            &rma,
            ordersmith::ids::LocationId::parse("IST").unwrap(),
            vec![lq("L1", 1)],
            &ctx(),
        )
        .unwrap();
    let book = t.engine.kpi_book(chrono_tz::Europe::Istanbul).unwrap();
    let tables = book.tables(&KpiQuery::default()).unwrap();
    let rr = tables.table("returns_by_reason").unwrap();
    assert_eq!(cell(rr, 0, "reason"), "wrong_size");
    let s = tables.table("summary").unwrap();
    assert_eq!(cell(s, 0, "units_returned"), "1");
}

/// A line edited away before it shipped sells nothing: the KPIs count the order's
/// other units, and the order counts as shipped once those shipped (the removed line
/// no longer waits to ship).
#[test]
fn a_line_removed_by_an_edit_leaves_the_kpis() {
    let t = test_engine();
    let a = t.engine.place_order(sample_order("web"), &ctx()).unwrap();
    t.engine
        .edit_order(
            &a.id,
            vec![ordersmith::order::LineEdit::Remove {
                line_id: line_id("L2"),
            }],
            &ctx(),
        )
        .unwrap();
    t.engine.confirm_order(&a.id, &ctx()).unwrap();
    t.clock.set(at(21, 10));
    t.engine
        .record_shipment(&a.id, vec![lq("L1", 2)], &ctx())
        .unwrap();
    let book = t.engine.kpi_book(chrono_tz::Europe::Istanbul).unwrap();
    let tables = book.tables(&KpiQuery::default()).unwrap();
    let s = tables.table("summary").unwrap();
    assert_eq!(cell(s, 0, "units_net"), "2", "the mug was removed");
    assert_eq!(cell(s, 0, "orders_shipped"), "1");
    let r = tables.table("revenue").unwrap();
    assert_eq!(cell(r, 0, "gross"), "200.00");
}
