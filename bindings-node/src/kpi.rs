//! KPIs on `Engine` (the engine's `kpi.rs`): the tables as rows of plain objects, their
//! CSV and JSON exports, the insights and the HTML report. Each call recomputes the
//! KPIs from the stored history, so each runs off the event loop and returns a Promise.
//! Glue only: every definition is in `ordersmith::kpi`.

use chrono_tz::Tz;
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::engine::EngineError;
use ordersmith::kpi::{self, Grain, KpiQuery, ReportOptions};
use ordersmith::kpi::{Cell, KpiTable};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::convert::{opts, to_json, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{Failure, Job, Out};

fn zone(name: &str) -> Out<Tz> {
    kpi::parse_time_zone(name).map_err(|e| Failure::from(EngineError::from(e)))
}

/// The core's `KpiQuery` (snake_case, as stored: `grain`, `from`, `to`, `channels`,
/// `segments`, `currencies`, `skus`, `locations`, `as_of`); absent: everything, by day.
fn query(value: Option<JsonArg>) -> Out<KpiQuery> {
    opts(value, "query")
}

/// One row as a plain object whose keys follow the table's column order.
struct Row<'a>(&'a [&'static str], &'a [Cell]);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (column, cell) in self.0.iter().zip(self.1) {
            m.serialize_entry(column, cell)?;
        }
        m.end()
    }
}

/// `{table: [row, ...]}` in the core's table order, written straight to JSON text so
/// every row keeps its column order (a `serde_json::Value` map would sort the keys).
struct TableRows<'a>(&'a [KpiTable]);

impl Serialize for TableRows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for table in self.0 {
            let rows: Vec<Row<'_>> = table.rows.iter().map(|r| Row(table.columns, r)).collect();
            m.serialize_entry(table.name, &rows)?;
        }
        m.end()
    }
}

/// `{title?, query?, insightGrain?, threshold?}` for the report.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReportSettings {
    title: Option<String>,
    query: Option<Value>,
    insight_grain: Option<Grain>,
    threshold: Option<f64>,
}

#[napi]
impl JsEngine {
    /// Every KPI table of the stored history in the shop's IANA `timeZone`, as
    /// `{table: rows}`; each row is a plain object in column order, decimals (money,
    /// rates) as exact strings, `null` where undefined.
    #[napi(
        ts_args_type = "timeZone: string, query?: KpiQuery",
        ts_return_type = "Promise<Record<KpiTableName, KpiRow[]>>"
    )]
    pub fn kpi_tables(&self, time_zone: String, query: Option<JsonArg>) -> AsyncTask<Job> {
        self.write_text(move |e| {
            let (tz, q) = (zone(&time_zone)?, self::query(query)?);
            let tables = e.kpi_book(tz)?.tables(&q).map_err(EngineError::from)?;
            serde_json::to_string(&TableRows(&tables.tables))
                .map_err(|e| Failure::input("output", format!("could not be serialised: {e}")))
        })
    }

    /// One KPI table as CSV with a header row (stable column names, exact decimals);
    /// an unknown name is `KPI_UNKNOWN_TABLE`.
    #[napi(
        ts_args_type = "table: KpiTableName, timeZone: string, query?: KpiQuery",
        ts_return_type = "Promise<string>"
    )]
    pub fn kpi_csv(
        &self,
        table: String,
        time_zone: String,
        query: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.write(move |e| {
            let (tz, q) = (zone(&time_zone)?, self::query(query)?);
            let csv = e
                .kpi_book(tz)?
                .table(&table, &q)
                .map_err(EngineError::from)?
                .to_csv();
            Ok(Value::String(csv))
        })
    }

    /// Every KPI table as one JSON document (`{time_zone, grain, tables: [{name,
    /// columns, rows}]}`), as text to write to a file.
    #[napi(
        ts_args_type = "timeZone: string, query?: KpiQuery",
        ts_return_type = "Promise<string>"
    )]
    pub fn kpi_json(&self, time_zone: String, query: Option<JsonArg>) -> AsyncTask<Job> {
        self.write(move |e| {
            let (tz, q) = (zone(&time_zone)?, self::query(query)?);
            let tables = e.kpi_book(tz)?.tables(&q).map_err(EngineError::from)?;
            Ok(Value::String(tables.to_json()))
        })
    }

    /// KPIs that moved between the query's last two periods by more than `threshold`
    /// (relative, default 0.1): `kpi`, the periods, `previous`, `current`, `change`,
    /// `sentence` and the `contributions` (segment, amount, share) that add up to the
    /// change. These are shares and rates, not money, so they are numbers.
    #[napi(
        ts_args_type = "timeZone: string, query?: KpiQuery, threshold?: number",
        ts_return_type = "Promise<KpiInsight[]>"
    )]
    pub fn kpi_insights(
        &self,
        time_zone: String,
        query: Option<JsonArg>,
        threshold: Option<f64>,
    ) -> AsyncTask<Job> {
        self.write(move |e| {
            let (tz, q) = (zone(&time_zone)?, self::query(query)?);
            let found = kpi::insights(&e.kpi_book(tz)?, &q, threshold.unwrap_or(0.1))
                .map_err(EngineError::from)?;
            to_json(&found)
        })
    }

    /// The self-contained HTML report of the stored history (inline SVG, no script,
    /// nothing fetched). `insightGrain`: `"iso_week"` (default), `"day"` or `"month"`.
    #[napi(
        ts_args_type = "timeZone: string, options?: { title?: string; query?: KpiQuery; insightGrain?: 'day' | 'iso_week' | 'month'; threshold?: number }",
        ts_return_type = "Promise<string>"
    )]
    pub fn kpi_report_html(&self, time_zone: String, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.write(move |e| {
            let tz = zone(&time_zone)?;
            let s: ReportSettings = opts(options, "options")?;
            let q: KpiQuery = opts(s.query, "options.query")?;
            let defaults = ReportOptions::default();
            let options = ReportOptions {
                title: s.title.unwrap_or(defaults.title),
                as_of: q.as_of,
                query: q,
                insight_grain: s.insight_grain.unwrap_or(defaults.insight_grain),
                threshold: s.threshold.unwrap_or(defaults.threshold),
            };
            Ok(Value::String(e.kpi_report_html(tz, &options)?))
        })
    }
}
