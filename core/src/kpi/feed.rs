//! Today's events as KPI facts: order events (including fulfilment and payments), the
//! stock journal, `notification.requested` events and cycle-count reports. The facts
//! borrow from the records, so mapping allocates only the output vector.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::fact::{KpiFact, StockFlow};
use crate::order::{HoldReason, OrderEvent, OrderEventRecord};
use crate::returns::ReturnEvent;
use crate::stock::{CountReport, Movement, MovementKind};

/// What an order's events do not say but its KPIs need, supplied by the host or the
/// engine (from its shipping calendar).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderFactContext {
    /// When the order must ship by.
    pub ship_by: Option<DateTime<Utc>>,
    /// The last local date delivery was promised for.
    pub promised_by: Option<NaiveDate>,
}

/// The segment of a placed order: its first `segment:<name>` tag, else `unsegmented`.
fn segment_of(tags: &std::collections::BTreeSet<String>) -> &str {
    tags.iter()
        .find_map(|t| t.strip_prefix("segment:"))
        .filter(|s| !s.is_empty())
        .unwrap_or("unsegmented")
}

/// Appends the facts of one order's events (in version order) to `out`. Events that
/// no KPI uses produce nothing.
pub fn order_facts<'a>(
    records: &'a [OrderEventRecord],
    context: OrderFactContext,
    out: &mut Vec<KpiFact<'a>>,
) {
    // RMAs requested so far, and the one whose receipt the next `return.recorded`
    // belongs to: its lines say why each unit came back.
    let mut rmas: Vec<&'a crate::returns::Rma> = Vec::new();
    let mut receiving: Option<&'a str> = None;
    for r in records {
        let order = r.order_id.as_str();
        let at = r.recorded_at;
        match &r.event {
            OrderEvent::Return(e) => match e.as_ref() {
                ReturnEvent::Requested { rma, .. } => rmas.push(rma),
                ReturnEvent::Received { rma, .. } => receiving = Some(rma.as_str()),
                _ => {}
            },
            OrderEvent::Placed(p) => {
                out.push(KpiFact::OrderPlaced {
                    order,
                    at: p.placed_at,
                    channel: p.channel.as_str(),
                    segment: segment_of(&p.tags),
                    currency: p.currency,
                    ship_by: context.ship_by,
                    promised_by: context.promised_by,
                });
                for l in &p.lines {
                    out.push(line_fact(order, l));
                }
            }
            OrderEvent::LineAdded { line } => out.push(line_fact(order, line)),
            OrderEvent::LineQuantityChanged { line_id, to, .. } => {
                out.push(KpiFact::LineQuantityChanged {
                    order,
                    line: line_id.as_str(),
                    quantity: *to,
                })
            }
            // A line edited away sells nothing: its quantity is now zero.
            OrderEvent::LineRemoved { line_id } => out.push(KpiFact::LineQuantityChanged {
                order,
                line: line_id.as_str(),
                quantity: 0,
            }),
            OrderEvent::Confirmed => out.push(KpiFact::OrderConfirmed { order, at }),
            OrderEvent::Held {
                reason: HoldReason::InsufficientStock,
                ..
            }
            | OrderEvent::FulfilmentShortPicked { .. } => {
                out.push(KpiFact::Backordered { order, at })
            }
            OrderEvent::Cancelled { reason } => out.push(KpiFact::OrderCancelled {
                order,
                at,
                reason: *reason,
            }),
            OrderEvent::LinesCancelled { lines, reason } => {
                out.extend(lines.iter().map(|l| KpiFact::UnitsCancelled {
                    order,
                    line: l.line_id.as_str(),
                    quantity: l.quantity,
                    reason: *reason,
                    at,
                }))
            }
            OrderEvent::ShipmentRecorded { lines } => {
                out.extend(lines.iter().map(|l| KpiFact::UnitsShipped {
                    order,
                    line: l.line_id.as_str(),
                    quantity: l.quantity,
                    at,
                }))
            }
            OrderEvent::DeliveryRecorded { lines } => {
                out.extend(lines.iter().map(|l| KpiFact::UnitsDelivered {
                    order,
                    line: l.line_id.as_str(),
                    quantity: l.quantity,
                    at,
                }))
            }
            OrderEvent::ReturnRecorded { lines } => {
                // Received through an RMA: the reason its request gave per line; a return
                // recorded directly (a channel's returned units) has none.
                let rma = receiving
                    .take()
                    .and_then(|id| rmas.iter().find(|r| r.id == id));
                out.extend(lines.iter().map(|l| {
                    KpiFact::UnitsReturned {
                        order,
                        line: l.line_id.as_str(),
                        quantity: l.quantity,
                        reason: rma
                            .and_then(|r| r.lines.iter().find(|x| x.line_id == l.line_id))
                            .map_or("unspecified", |x| x.reason.as_str()),
                        at,
                    }
                }))
            }
            OrderEvent::RefundRecorded { .. } | OrderEvent::PaymentRefunded(_) => {
                if let Some(amount) = r.event.refunded_amount() {
                    out.push(KpiFact::Refunded {
                        order,
                        amount: amount.amount(),
                        at,
                    })
                }
            }
            OrderEvent::NotificationRequested { notification } => {
                out.push(KpiFact::NotificationRequested {
                    order,
                    template: notification.key().as_str(),
                    at,
                })
            }
            _ => {}
        }
    }
}

fn line_fact<'a>(order: &'a str, l: &'a crate::order::OrderLine) -> KpiFact<'a> {
    KpiFact::LineOrdered {
        order,
        line: l.id.as_str(),
        sku: l.variant.as_str(),
        quantity: l.quantity,
        unit_price: l.unit_price.amount(),
        discount: l
            .discounts
            .iter()
            .map(|d| d.amount.amount())
            .sum::<Decimal>(),
    }
}

/// The fact of one stock journal movement, if it changes on hand.
pub fn movement_fact(m: &Movement) -> Option<KpiFact<'_>> {
    let change = m.effects().0.on_hand;
    if change == 0 {
        return None;
    }
    Some(KpiFact::StockMoved {
        sku: m.variant.as_str(),
        location: m.location.as_str(),
        at: m.at,
        on_hand_change: change,
        flow: match m.kind {
            MovementKind::Receipt { .. } => StockFlow::Received,
            MovementKind::Sale { .. } => StockFlow::Sold,
            _ => StockFlow::Other,
        },
    })
}

/// The facts of a closed cycle count: one per counted variant.
pub fn count_facts(report: &CountReport) -> impl Iterator<Item = KpiFact<'_>> {
    report.variances.iter().map(move |v| KpiFact::Counted {
        sku: v.variant.as_str(),
        location: report.location.as_str(),
        at: report.closed_at,
        expected: v.expected,
        counted: v.counted,
    })
}
