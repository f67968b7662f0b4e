//! KPI tables, insights, exports and the HTML report for Kotlin and Swift. Glue only: every
//! definition is in `ordersmith::kpi` (see its documentation, or docs/kpi.md).

use std::time::SystemTime;

use chrono::NaiveDate;
use ordersmith::kpi::{self, Cell, Grain, ReportOptions};

use crate::convert::core_time;
use crate::engine::Engine;
use crate::errors::OrdersmithError;

/// How KPIs are bucketed, in the shop's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KpiGrain {
    /// Local calendar days.
    Day,
    /// ISO 8601 weeks.
    IsoWeek,
    /// Local calendar months.
    Month,
}

impl From<KpiGrain> for Grain {
    fn from(g: KpiGrain) -> Self {
        match g {
            KpiGrain::Day => Grain::Day,
            KpiGrain::IsoWeek => Grain::IsoWeek,
            KpiGrain::Month => Grain::Month,
        }
    }
}

/// What to compute; empty lists mean "all".
#[derive(Debug, Clone, uniffi::Record)]
pub struct KpiQuery {
    /// Day, ISO week or month.
    pub grain: KpiGrain,
    /// First local date included, `2026-11-01`.
    #[uniffi(default = None)]
    pub from: Option<String>,
    /// Last local date included.
    #[uniffi(default = None)]
    pub to: Option<String>,
    /// Only these channels.
    #[uniffi(default = [])]
    pub channels: Vec<String>,
    /// Only these customer segments.
    #[uniffi(default = [])]
    pub segments: Vec<String>,
    /// Only these currencies.
    #[uniffi(default = [])]
    pub currencies: Vec<String>,
    /// Only these SKUs.
    #[uniffi(default = [])]
    pub skus: Vec<String>,
    /// Only these locations.
    #[uniffi(default = [])]
    pub locations: Vec<String>,
    /// "Now" for late open orders.
    #[uniffi(default = None)]
    pub as_of: Option<SystemTime>,
}

/// One KPI table: stable column names, rows of exact text cells (`null` where a rate
/// is undefined).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KpiTable {
    /// The table's name, e.g. `summary`.
    pub name: String,
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, one cell per column: integers and decimals as exact text.
    pub rows: Vec<Vec<Option<String>>>,
}

/// A KPI that moved between the query's last two periods by more than the threshold,
/// and the segments the change came from. Rates and shares are floating point (they
/// are not money).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct KpiInsight {
    /// The KPI, e.g. `revenue`.
    pub kpi: String,
    /// The earlier period, e.g. `2026-11-19`.
    pub previous_period: String,
    /// The later period.
    pub current_period: String,
    /// Its value in the earlier period.
    pub previous: f64,
    /// Its value in the later period.
    pub current: f64,
    /// The relative change (`0.5` is +50 %).
    pub change: f64,
    /// The segments (channel, SKU, ...) whose amounts add up to the change.
    pub contributions: Vec<KpiContribution>,
    /// The change in a sentence, for people.
    pub sentence: String,
}

/// One segment's part of a KPI's change.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct KpiContribution {
    /// The segment, e.g. `channel=pos`.
    pub segment: String,
    /// Its part of the change, in the KPI's unit.
    pub amount: f64,
    /// Its share of the change.
    pub share: f64,
}

fn date(field: &'static str, text: Option<String>) -> Result<Option<NaiveDate>, OrdersmithError> {
    text.map(|t| {
        t.parse()
            .map_err(|_| OrdersmithError::invalid(field, "must be a date like 2026-11-20"))
    })
    .transpose()
}

fn core_query(q: Option<KpiQuery>) -> Result<kpi::KpiQuery, OrdersmithError> {
    let Some(q) = q else {
        return Ok(kpi::KpiQuery::default());
    };
    Ok(kpi::KpiQuery {
        grain: q.grain.into(),
        from: date("from", q.from)?,
        to: date("to", q.to)?,
        channels: q.channels,
        segments: q.segments,
        currencies: q.currencies,
        skus: q.skus,
        locations: q.locations,
        as_of: q.as_of.map(core_time).transpose()?,
    })
}

fn table(t: &kpi::KpiTable) -> KpiTable {
    KpiTable {
        name: t.name.to_string(),
        columns: t.columns.iter().map(|c| (*c).to_string()).collect(),
        rows: t
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Cell::Null => None,
                        other => Some(other.to_string()),
                    })
                    .collect()
            })
            .collect(),
    }
}

#[uniffi::export]
impl Engine {
    /// Every KPI table of the stored history, in the shop's IANA `time_zone`.
    #[uniffi::method(default(query = None))]
    pub fn kpi_tables(
        &self,
        time_zone: String,
        query: Option<KpiQuery>,
    ) -> Result<Vec<KpiTable>, OrdersmithError> {
        let tz = kpi::parse_time_zone(&time_zone)?;
        let q = core_query(query)?;
        let tables = self.call(|e| Ok(e.kpi_book(tz)?.tables(&q)?))?;
        Ok(tables.tables.iter().map(table).collect())
    }

    /// One KPI table as CSV with a header row.
    #[uniffi::method(default(query = None))]
    pub fn kpi_csv(
        &self,
        name: String,
        time_zone: String,
        query: Option<KpiQuery>,
    ) -> Result<String, OrdersmithError> {
        let tz = kpi::parse_time_zone(&time_zone)?;
        let q = core_query(query)?;
        self.call(|e| Ok(e.kpi_book(tz)?.table(&name, &q)?.to_csv()))
    }

    /// The KPIs that moved between the query's last two periods by more than
    /// `threshold` (relative, `0.1` is 10 %), each with the segments behind the change
    /// and a sentence: what a shop owner reads first in the morning.
    #[uniffi::method(default(query = None, threshold = 0.1))]
    pub fn kpi_insights(
        &self,
        time_zone: String,
        query: Option<KpiQuery>,
        threshold: f64,
    ) -> Result<Vec<KpiInsight>, OrdersmithError> {
        let tz = kpi::parse_time_zone(&time_zone)?;
        let q = core_query(query)?;
        let found = self.call(|e| Ok(kpi::insights(&e.kpi_book(tz)?, &q, threshold)?))?;
        Ok(found
            .into_iter()
            .map(|i| KpiInsight {
                kpi: i.kpi,
                previous_period: i.previous_period,
                current_period: i.current_period,
                previous: i.previous,
                current: i.current,
                change: i.change,
                contributions: i
                    .contributions
                    .into_iter()
                    .map(|c| KpiContribution {
                        segment: c.segment,
                        amount: c.amount,
                        share: c.share,
                    })
                    .collect(),
                sentence: i.sentence,
            })
            .collect())
    }

    /// The self-contained HTML report (inline SVG, no script, nothing fetched).
    #[uniffi::method(default(title = None, query = None))]
    pub fn kpi_report_html(
        &self,
        time_zone: String,
        title: Option<String>,
        query: Option<KpiQuery>,
    ) -> Result<String, OrdersmithError> {
        let tz = kpi::parse_time_zone(&time_zone)?;
        let query = core_query(query)?;
        let options = ReportOptions {
            title: title.unwrap_or_else(|| ReportOptions::default().title),
            as_of: query.as_of,
            query,
            ..ReportOptions::default()
        };
        self.call(|e| e.kpi_report_html(tz, &options))
    }
}
