//! Reservations (two-phase: reserve, then commit or release) and blind cycle counts
//! on `Engine`.

use std::collections::BTreeMap;

use ordersmith::ids::{CountId, OrderId, ReservationId};
use ordersmith::money::{Currency, Money};
use ordersmith::stock::{ReservationFilter, ReserveRequest, StockCommand};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::args::{names, Int, Text, TextList};
use crate::convert::{datetime_arg, decimal_arg, id_arg, json_to_py, to_py};
use crate::engine::PyEngine;
use crate::errors::{core_error, detached, invalid_input};
use crate::order::PyOrder;
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
        let reference = reference.map(|v| v.0.into());
        let request = ReserveRequest {
            id: id_arg(py, id, ReservationId::parse)?,
            variant: vid(py, sku)?,
            location: lid(py, location)?,
            quantity,
            expires_at: expires_at
                .map(|t| datetime_arg(t, "expires_at"))
                .transpose()?,
            reference,
            order: None,
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

    /// Sets when a reservation made by hand lapses (`expires_at`, an aware datetime), or
    /// with `expires_at=None` holds it until it is committed or released: a checkout
    /// that needs more time extends its hold. An order's reservation is refused
    /// (`ENGINE_RESERVATION_OWNED_BY_ORDER`: its order's hold and expiry settings move
    /// it), an unknown or closed one is a stock error; nothing changes either way.
    #[pyo3(signature = (id, expires_at=None))]
    fn set_reservation_expiry<'py>(
        &self,
        py: Python<'py>,
        id: Text<names::id>,
        expires_at: Option<&Bound<'_, PyAny>>,
    ) -> Events<'py> {
        let reservation = id_arg(py, id.as_str(), ReservationId::parse)?;
        let expires_at = expires_at
            .map(|t| datetime_arg(t, "expires_at"))
            .transpose()?;
        self.run_stock(
            py,
            StockCommand::SetReservationExpiry {
                reservation,
                expires_at,
            },
        )
    }

    /// Releases every reservation past its expiry at the engine's time and tells their
    /// orders (held or cancelled with reason `reservation_expired`): a dict with
    /// `released` (reservation ids), `orders` (the orders after the sweep, as `Order`)
    /// and `events` (the ledger's movements).
    fn sweep_expired_reservations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let engine = self.engine(py)?;
        let sweep = detached(py, || engine.sweep_expired_reservations())?;
        let out = PyDict::new(py);
        let released: Vec<String> = sweep.released.iter().map(|r| r.to_string()).collect();
        out.set_item("released", released)?;
        let orders = PyList::empty(py);
        for order in sweep.orders {
            orders.append(PyOrder::new(order))?;
        }
        out.set_item("orders", orders)?;
        out.set_item("events", events_to_py(py, &sweep.outcome.events)?)?;
        Ok(out)
    }

    /// Live reservations, ordered by id, filtered by SKU (directly or as a bundle's
    /// component), location, owning order, and expiry at or before `expiring_before`
    /// (an aware datetime). Every match is returned: one dict per reservation.
    #[pyo3(signature = (*, sku=None, location=None, order_id=None, expiring_before=None))]
    fn reservations<'py>(
        &self,
        py: Python<'py>,
        sku: Option<Text<names::sku>>,
        location: Option<Text<names::location>>,
        order_id: Option<Text<names::order_id>>,
        expiring_before: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let filter = ReservationFilter {
            variant: sku.map(|s| vid(py, &s.0)).transpose()?,
            location: location.map(|l| lid(py, &l.0)).transpose()?,
            order: order_id
                .map(|o| id_arg(py, &o.0, OrderId::parse))
                .transpose()?,
            expiring_before: expiring_before
                .filter(|t| !t.is_none())
                .map(|t| datetime_arg(t, "expiring_before"))
                .transpose()?,
        };
        let engine = self.engine(py)?;
        let found = detached(py, || engine.reservations(&filter))?;
        let out = PyList::empty(py);
        for r in &found {
            let row = serde_json::json!({
                "id": r.id,
                "sku": r.variant,
                "location": r.location,
                "quantity": r.quantity,
                "committed": r.committed,
                "released": r.released,
                "remaining": r.remaining(),
                "expires_at": r.expires_at,
                "reference": r.reference,
                "order_id": r.order,
                "components": r.components.iter().map(|(v, q)| (v.as_str(), q)).collect::<BTreeMap<_, _>>(),
            });
            out.append(json_to_py(py, &row)?)?;
        }
        Ok(out)
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
