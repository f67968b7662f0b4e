//! KPIs on `Engine`: the tables as rows ready for pandas / polars, their CSV and JSON
//! exports, the insights and the HTML report. Glue only: every definition is in
//! `ordersmith::kpi`.

use ordersmith::engine::EngineError;
use ordersmith::kpi::{self, Cell, Grain, KpiQuery, KpiTable, ReportOptions};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{enum_arg, extract_as};
use crate::engine::PyEngine;
use crate::errors::detached;

fn query(value: Option<&Bound<'_, PyAny>>) -> PyResult<KpiQuery> {
    value.map_or(Ok(KpiQuery::default()), |v| extract_as(v, "query"))
}

fn zone(py: Python<'_>, name: &str) -> PyResult<chrono_tz::Tz> {
    kpi::parse_time_zone(name).map_err(|e| crate::errors::core_error(py, &EngineError::from(e)))
}

/// A table's rows as dicts in column order: ints, strings, exact decimals as strings,
/// `None` where undefined.
fn rows<'py>(py: Python<'py>, table: &KpiTable) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for row in &table.rows {
        let d = PyDict::new(py);
        for (c, v) in table.columns.iter().zip(row) {
            match v {
                Cell::Int(i) => d.set_item(c, i)?,
                Cell::Text(t) => d.set_item(c, &**t)?,
                Cell::Decimal(x) => d.set_item(c, x.to_string())?,
                Cell::Null => d.set_item(c, py.None())?,
            }
        }
        list.append(d)?;
    }
    Ok(list)
}

#[pymethods]
impl PyEngine {
    /// Every KPI table of the stored history in the shop's IANA `time_zone`, as
    /// `{table: [row, ...]}`; rows are dicts in column order (`pandas.DataFrame(rows)`,
    /// `polars.DataFrame(rows)`), decimals as exact strings. `query`: `grain` (`day`,
    /// `iso_week`, `month`), `from` / `to` (local dates, `"2026-03-01"`), `channels`,
    /// `segments`, `currencies`, `skus`, `locations`, `as_of` (aware datetime).
    #[pyo3(signature = (time_zone, query=None), text_signature = "($self, time_zone, query=None)")]
    fn kpi_tables<'py>(
        &self,
        py: Python<'py>,
        time_zone: &str,
        query: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (tz, q) = (zone(py, time_zone)?, self::query(query)?);
        let engine = self.engine(py)?;
        let tables = detached(py, || {
            engine.kpi_book(tz)?.tables(&q).map_err(EngineError::from)
        })?;
        let out = PyDict::new(py);
        for t in &tables.tables {
            out.set_item(t.name, rows(py, t)?)?;
        }
        Ok(out)
    }

    /// One KPI table as CSV with a header row (stable column names, exact decimals).
    #[pyo3(signature = (table, time_zone, query=None), text_signature = "($self, table, time_zone, query=None)")]
    fn kpi_csv(
        &self,
        py: Python<'_>,
        table: &str,
        time_zone: &str,
        query: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let (tz, q) = (zone(py, time_zone)?, self::query(query)?);
        let engine = self.engine(py)?;
        let name = table.to_string();
        detached(py, || {
            Ok::<_, EngineError>(engine.kpi_book(tz)?.table(&name, &q)?.to_csv())
        })
    }

    /// Every KPI table as one JSON document.
    #[pyo3(signature = (time_zone, query=None), text_signature = "($self, time_zone, query=None)")]
    fn kpi_json(
        &self,
        py: Python<'_>,
        time_zone: &str,
        query: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let (tz, q) = (zone(py, time_zone)?, self::query(query)?);
        let engine = self.engine(py)?;
        detached(py, || {
            Ok::<_, EngineError>(engine.kpi_book(tz)?.tables(&q)?.to_json())
        })
    }

    /// KPIs that moved between the query's last two periods by more than `threshold`
    /// (relative): `kpi`, `previous`, `current`, `change`, `sentence` and the
    /// `contributions` (segment, amount, share) that add up to the change.
    #[pyo3(signature = (time_zone, query=None, threshold=0.1), text_signature = "($self, time_zone, query=None, threshold=0.1)")]
    fn kpi_insights<'py>(
        &self,
        py: Python<'py>,
        time_zone: &str,
        query: Option<&Bound<'_, PyAny>>,
        threshold: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (tz, q) = (zone(py, time_zone)?, self::query(query)?);
        let engine = self.engine(py)?;
        let found = detached(py, || {
            Ok::<_, EngineError>(kpi::insights(&engine.kpi_book(tz)?, &q, threshold)?)
        })?;
        // Floats here are shares and rates, not money.
        let list = PyList::empty(py);
        for i in &found {
            let d = PyDict::new(py);
            d.set_item("kpi", &i.kpi)?;
            d.set_item("previous_period", &i.previous_period)?;
            d.set_item("current_period", &i.current_period)?;
            d.set_item("previous", i.previous)?;
            d.set_item("current", i.current)?;
            d.set_item("change", i.change)?;
            d.set_item("sentence", &i.sentence)?;
            let parts = PyList::empty(py);
            for c in &i.contributions {
                let p = PyDict::new(py);
                p.set_item("segment", &c.segment)?;
                p.set_item("amount", c.amount)?;
                p.set_item("share", c.share)?;
                parts.append(p)?;
            }
            d.set_item("contributions", parts)?;
            list.append(d)?;
        }
        Ok(list.into_any())
    }

    /// The self-contained HTML report (inline SVG, no script, nothing fetched).
    #[pyo3(signature = (time_zone, *, title=None, query=None, insight_grain=None, threshold=0.1), text_signature = "($self, time_zone, *, title=None, query=None, insight_grain='iso_week', threshold=0.1)")]
    fn kpi_report_html(
        &self,
        py: Python<'_>,
        time_zone: &str,
        title: Option<String>,
        query: Option<&Bound<'_, PyAny>>,
        insight_grain: Option<&str>,
        threshold: f64,
    ) -> PyResult<String> {
        let (tz, q) = (zone(py, time_zone)?, self::query(query)?);
        let grain: Grain = match insight_grain {
            Some(g) => enum_arg(py, "insight_grain", g)?,
            None => Grain::IsoWeek,
        };
        let options = ReportOptions {
            title: title.unwrap_or_else(|| ReportOptions::default().title),
            as_of: q.as_of,
            query: q,
            insight_grain: grain,
            threshold,
        };
        let engine = self.engine(py)?;
        detached(py, || engine.kpi_report_html(tz, &options))
    }
}
