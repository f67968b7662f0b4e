//! Reservations (two-phase: reserve, then commit or release) and blind cycle counts
//! on `Engine`.

use std::collections::BTreeMap;

use ordersmith::ids::{CountId, ReservationId};
use ordersmith::money::{Currency, Money};
use ordersmith::stock::{ReserveRequest, StockCommand};
use pyo3::prelude::*;

use crate::args::{names, Int, Text, TextList};
use crate::convert::{datetime_arg, decimal_arg, id_arg, to_py};
use crate::engine::PyEngine;
use crate::errors::{core_error, detached, invalid_input};
use crate::stock::{events_to_py, lid, vid, Events};

#[pymethods]
impl PyEngine {
    /// Reserves stock by hand (two-phase: then `commit` or `release`); `id` makes it
    /// idempotent.
    #[pyo3(signature = (id, sku, location, quantity, expires_at=None, reference=None))]
    // The parameters are the Python signature's keyword arguments.
    #[allow(clippy::too_many_arguments)]
    fn reserve<'py>(
        &self,
        py: Python<'py>,
        id: Text<names::id>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        quantity: Int<u32, names::quantity>,
        expires_at: Option<&Bound<'_, PyAny>>,
        reference: Option<Text<names::reference>>,
    ) -> Events<'py> {
        let id = id.as_str();
        let sku = sku.as_str();
        let location = location.as_str();
        let quantity = quantity.0;
        let reference = reference.map(|v| v.0);
        let request = ReserveRequest {
            id: id_arg(py, id, ReservationId::parse)?,
            variant: vid(py, sku)?,
            location: lid(py, location)?,
            quantity,
            expires_at: expires_at
                .map(|t| datetime_arg(t, "expires_at"))
                .transpose()?,
            reference,
        };
        self.run_stock(py, StockCommand::Reserve { request })
    }

    /// Commits a reservation (the units are sold): all of it, or `quantity` units.
    #[pyo3(signature = (id, quantity=None))]
    fn commit<'py>(
        &self,
        py: Python<'py>,
        id: Text<names::id>,
        quantity: Option<Int<u32, names::quantity>>,
    ) -> Events<'py> {
        let id = id.as_str();
        let quantity = quantity.map(|v| v.0);
        let reservation = id_arg(py, id, ReservationId::parse)?;
        self.run_stock(
            py,
            match quantity {
                None => StockCommand::Commit { reservation },
                Some(quantity) => StockCommand::CommitPartial {
                    reservation,
                    quantity,
                },
            },
        )
    }

    /// Releases a reservation: all of it, or `quantity` units.
    #[pyo3(signature = (id, quantity=None))]
    fn release<'py>(
        &self,
        py: Python<'py>,
        id: Text<names::id>,
        quantity: Option<Int<u32, names::quantity>>,
    ) -> Events<'py> {
        let id = id.as_str();
        let quantity = quantity.map(|v| v.0);
        let reservation = id_arg(py, id, ReservationId::parse)?;
        self.run_stock(
            py,
            match quantity {
                None => StockCommand::Release { reservation },
                Some(quantity) => StockCommand::ReleasePartial {
                    reservation,
                    quantity,
                },
            },
        )
    }

    /// Releases every reservation past its expiry at the engine's time.
    fn expire_reservations<'py>(&self, py: Python<'py>) -> Events<'py> {
        let engine = &self.engine(py)?;
        let outcome = detached(py, || engine.expire_reservations())?;
        events_to_py(py, &outcome.events)
    }

    /// Opens a blind cycle count; returns the sheet (what to count, no expected numbers).
    fn open_count<'py>(
        &self,
        py: Python<'py>,
        id: Text<names::id>,
        location: Text<names::location>,
        skus: TextList<names::skus>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = id.as_str();
        let location = location.as_str();
        let skus = skus.0;
        let variants = skus
            .iter()
            .map(|s| vid(py, s))
            .collect::<PyResult<Vec<_>>>()?;
        let command = StockCommand::OpenCount {
            id: id_arg(py, id, CountId::parse)?,
            location: lid(py, location)?,
            variants,
        };
        let outcome = self.stock_outcome(py, command)?;
        to_py(py, &outcome.count_sheet)
    }

    /// Records a counted quantity.
    fn record_count<'py>(
        &self,
        py: Python<'py>,
        id: Text<names::id>,
        sku: Text<names::sku>,
        counted: Int<u32, names::counted>,
    ) -> Events<'py> {
        let id = id.as_str();
        let sku = sku.as_str();
        let counted = counted.0;
        let id = id_arg(py, id, CountId::parse)?;
        self.run_stock(
            py,
            StockCommand::RecordCount {
                id,
                variant: vid(py, sku)?,
                counted,
            },
        )
    }

    /// Closes a count and posts its variances; returns the report. `unit_costs`
    /// (`{sku: Decimal}` in `currency`) value the variances.
    #[pyo3(signature = (id, unit_costs=None, currency=None))]
    fn close_count<'py>(
        &self,
        py: Python<'py>,
        id: Text<names::id>,
        unit_costs: Option<&Bound<'_, PyAny>>,
        currency: Option<Text<names::currency>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = id.as_str();
        let currency = currency.as_ref().map(Text::as_str);
        let mut costs = BTreeMap::new();
        let unit_costs = match unit_costs {
            Some(c) => crate::args::mapping_items(c, "unit_costs")?,
            None => Vec::new(),
        };
        if !unit_costs.is_empty() {
            let code = currency
                .ok_or_else(|| invalid_input(py, "currency", "required with unit_costs"))?;
            let currency = Currency::parse(code).map_err(|e| core_error(py, &e))?;
            for (sku, v) in unit_costs {
                let amount = decimal_arg(&v, &format!("unit_costs[{sku:?}]"))?;
                let cost = Money::new(amount, currency).map_err(|e| core_error(py, &e))?;
                costs.insert(vid(py, &sku)?, cost);
            }
        }
        let command = StockCommand::CloseCount {
            id: id_arg(py, id, CountId::parse)?,
            unit_costs: costs,
        };
        let outcome = self.stock_outcome(py, command)?;
        to_py(py, &outcome.count_report)
    }
}
