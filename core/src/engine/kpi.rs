//! KPIs from the engine's own history: every stored order's events (with ship-by and
//! the promised delivery date from the engine's shipping calendar) and the stock
//! journal, fed into a [`KpiBook`]; and the HTML report of it.
//!
//! Cycle-count accuracy needs the counts' reports, which the ledger does not keep as
//! history: the host feeds each closed count's report with [`kpi::count_facts`]
//! (`StockOutcome::count_report`) into the book it keeps.

use chrono_tz::Tz;

use super::{Engine, EngineError};
use crate::ids::OrderId;
use crate::kpi::{self, KpiBook, OrderFactContext, ReportOptions};

/// Orders read per page while building a book.
const PAGE: usize = 500;

impl Engine {
    /// A KPI book of everything the engine stores, in the shop's time zone `tz`:
    /// recompute from the history (then keep it current with [`KpiBook::push`] as
    /// events arrive, or build it again).
    pub fn kpi_book(&self, tz: Tz) -> Result<KpiBook, EngineError> {
        let mut book = KpiBook::new(tz);
        let mut after: Option<OrderId> = None;
        loop {
            let ids = self.store.order_ids(after.as_ref(), PAGE)?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            for id in &ids {
                let records = self.store.order_events(id)?;
                let Some(order) = crate::order::Order::replay(&records) else {
                    continue;
                };
                let context = self.kpi_context(&order)?;
                let mut facts = Vec::new();
                kpi::order_facts(&records, context, &mut facts);
                book.extend(facts)?;
            }
            after = Some(last);
        }
        self.with_stock(|ledger| {
            ledger
                .journal()
                .iter()
                .filter_map(kpi::movement_fact)
                .try_for_each(|f| book.push(f))
        })??;
        Ok(book)
    }

    /// Ship-by and promised delivery date of an order on the engine's shipping
    /// calendar (none without one).
    fn kpi_context(&self, order: &crate::order::Order) -> Result<OrderFactContext, EngineError> {
        let Some(calendar) = &self.config.shipping_calendar else {
            return Ok(OrderFactContext::default());
        };
        let Some(ship_by) = self.ship_by(order)? else {
            return Ok(OrderFactContext::default());
        };
        let (min, max) = self.config.transit_days;
        let promised_by = calendar
            .delivery_estimate(ship_by, min, max)
            .ok()
            .map(|(_, latest)| latest);
        Ok(OrderFactContext {
            ship_by: Some(ship_by),
            promised_by,
        })
    }

    /// The self-contained HTML report of everything the engine stores.
    pub fn kpi_report_html(&self, tz: Tz, options: &ReportOptions) -> Result<String, EngineError> {
        let book = self.kpi_book(tz)?;
        Ok(kpi::report_html(&book, options)?)
    }
}
