//! The order as Python sees it: `Order`, `OrderLine`, `Totals` and `ImportResult`.
//!
//! Frozen wrappers over the core's `Order`: every figure (totals, balance due, payment
//! and fulfilment status) is the core's own derivation, read through a getter. Money
//! comes out as `decimal.Decimal`, times as aware UTC datetimes.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ordersmith::order::{LineAmounts, Order, OrderLine, OrderTotals};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use rust_decimal::Decimal;

use crate::convert::{json_to_py, to_py};
use crate::errors::core_error;

/// An order at one version: immutable; commands return a new `Order`.
#[pyclass(frozen, eq, name = "Order", module = "ordersmith._native")]
#[derive(PartialEq)]
pub(crate) struct PyOrder {
    inner: Arc<Order>,
}

impl PyOrder {
    /// Wraps a core order.
    pub(crate) fn new(order: Order) -> Self {
        PyOrder {
            inner: Arc::new(order),
        }
    }

    fn totals_of(&self, py: Python<'_>) -> PyResult<OrderTotals> {
        self.inner
            .totals()
            .map_err(|e| core_error(py, &ordersmith::order::OrderError::from(e)))
    }

    /// The core's JSON form plus the derived figures, as a JSON value.
    fn json(&self, py: Python<'_>) -> PyResult<serde_json::Value> {
        let order = &*self.inner;
        let mut value = serde_json::to_value(order)
            .map_err(|e| crate::errors::invalid_input(py, "order", &e.to_string()))?;
        let totals = self.totals_of(py)?;
        let balance = order
            .balance_due()
            .map_err(|e| core_error(py, &ordersmith::order::OrderError::from(e)))?;
        if let serde_json::Value::Object(map) = &mut value {
            let extra = [
                ("payment_status", serde_json::json!(order.payment_status())),
                (
                    "fulfilment_status",
                    serde_json::json!(order.fulfilment_status()),
                ),
                ("totals", serde_json::json!(totals)),
                ("balance_due", serde_json::json!(balance)),
            ];
            for (k, v) in extra {
                map.insert(k.to_string(), v);
            }
        }
        Ok(value)
    }
}

#[pymethods]
impl PyOrder {
    #[getter]
    fn id(&self) -> String {
        self.inner.id.to_string()
    }
    #[getter]
    fn version(&self) -> u64 {
        self.inner.version
    }
    #[getter]
    fn channel(&self) -> String {
        self.inner.channel.to_string()
    }
    #[getter]
    fn external_ref(&self) -> Option<&str> {
        self.inner.external_ref.as_deref()
    }
    #[getter]
    fn placed_at(&self) -> DateTime<Utc> {
        self.inner.placed_at
    }
    #[getter]
    fn currency(&self) -> String {
        self.inner.currency.code().to_string()
    }
    #[getter]
    fn taxes_included(&self) -> bool {
        self.inner.taxes_included
    }
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.status.as_str()
    }
    #[getter]
    fn payment_status(&self) -> &'static str {
        self.inner.payment_status().as_str()
    }
    #[getter]
    fn fulfilment_status(&self) -> &'static str {
        self.inner.fulfilment_status().as_str()
    }
    #[getter]
    fn hold<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.hold)
    }
    #[getter]
    fn cancel_reason<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.cancel_reason)
    }
    /// The order's payments through a provider, as dicts (`state`, `authorised`,
    /// `captured`, `refunded`, ...).
    #[getter]
    fn payments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.payments)
    }
    /// The order's returns (RMAs), oldest first, as dicts: `id`, `status`, `lines`
    /// (reason, received, restocked, quarantined, written off), `policy_failure`,
    /// `override_reason`, `label`, `resolution` with its refund breakdown.
    #[getter]
    fn rmas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.rmas)
    }
    /// The order's fulfilment orders (open and closed), as dicts.
    #[getter]
    fn fulfilments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.fulfilments)
    }
    /// What automation rules set on the order, as a dict (`priority`, `carrier`,
    /// `routes`, `excluded_locations`, `review`, `fired`; keys never set are absent).
    #[getter]
    fn automation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.automation)
    }
    /// The order's own reservation time-to-live in minutes, if it set one.
    #[getter]
    fn reservation_ttl_minutes(&self) -> Option<u32> {
        self.inner.reservation_ttl_minutes
    }
    #[getter]
    fn lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let currency_total = self.inner.taxes_included;
        let lines = self.inner.lines.iter().map(|l| PyOrderLine {
            line: l.clone(),
            taxes_included: currency_total,
        });
        PyTuple::new(py, lines)
    }
    #[getter]
    fn tags<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.tags.iter())
    }
    #[getter]
    fn notes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.notes.iter())
    }
    #[getter]
    fn customer<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.customer)
    }
    #[getter]
    fn shipping_address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.shipping_address)
    }
    #[getter]
    fn amount_paid(&self) -> Decimal {
        self.inner.amount_paid.amount()
    }
    #[getter]
    fn amount_refunded(&self) -> Decimal {
        self.inner.amount_refunded.amount()
    }
    #[getter]
    fn totals(&self, py: Python<'_>) -> PyResult<PyTotals> {
        Ok(PyTotals(self.totals_of(py)?))
    }
    #[getter]
    fn balance_due(&self, py: Python<'_>) -> PyResult<Decimal> {
        self.inner
            .balance_due()
            .map(|m| m.amount())
            .map_err(|e| core_error(py, &ordersmith::order::OrderError::from(e)))
    }
    /// The order as a JSON-shaped dict (the core's format plus payment and fulfilment
    /// status, totals and balance due; amounts as `Decimal`, times as datetimes).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.json(py)?)
    }
    /// The same as `to_dict()`, as a JSON string (amounts as strings, times as RFC 3339).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.json(py)?.to_string())
    }
    /// Equal orders (same id, same version) hash alike, so orders go in sets and dicts.
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.inner.id.hash(&mut hasher);
        self.inner.version.hash(&mut hasher);
        hasher.finish()
    }
    /// Pickles as the core's own JSON of the order (personal data included, exactly as
    /// stored), read back by `Order._from_state`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let state = serde_json::to_string(&*slf.get().inner).map_err(|e| {
            crate::errors::invalid_input(slf.py(), "order", &format!("could not be pickled: {e}"))
        })?;
        Ok((slf.get_type().getattr("_from_state")?, (state,)))
    }
    /// Rebuilds an order from its pickled state.
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &str) -> PyResult<Self> {
        serde_json::from_str::<Order>(state)
            .map(PyOrder::new)
            .map_err(|e| crate::errors::invalid_input(py, "state", &e.to_string()))
    }
    fn __repr__(&self) -> String {
        let o = &*self.inner;
        let total = o
            .totals()
            .map(|t| t.total.to_string())
            .unwrap_or_else(|_| "?".into());
        format!(
            "Order(id={:?}, version={}, channel={:?}, status={:?}, payment={:?}, fulfilment={:?}, lines={}, total={:?})",
            o.id.to_string(),
            o.version,
            o.channel.to_string(),
            o.status.as_str(),
            o.payment_status().as_str(),
            o.fulfilment_status().as_str(),
            o.lines.len(),
            total
        )
    }
}

/// One line of an order, with its quantities and money.
#[pyclass(frozen, eq, name = "OrderLine", module = "ordersmith._native")]
#[derive(PartialEq)]
pub(crate) struct PyOrderLine {
    line: OrderLine,
    taxes_included: bool,
}

impl PyOrderLine {
    fn amounts(&self, py: Python<'_>) -> PyResult<LineAmounts> {
        self.line
            .amounts(self.taxes_included)
            .map_err(|e| core_error(py, &ordersmith::order::OrderError::from(e)))
    }
}

#[pymethods]
impl PyOrderLine {
    #[getter]
    fn id(&self) -> String {
        self.line.id.to_string()
    }
    #[getter]
    fn variant(&self) -> String {
        self.line.variant.to_string()
    }
    #[getter]
    fn title(&self) -> Option<&str> {
        self.line.title.as_deref()
    }
    #[getter]
    fn external_ref(&self) -> Option<&str> {
        self.line.external_ref.as_deref()
    }
    #[getter]
    fn quantity(&self) -> u32 {
        self.line.quantity
    }
    #[getter]
    fn unit_price(&self) -> Decimal {
        self.line.unit_price.amount()
    }
    #[getter]
    fn cancelled(&self) -> u32 {
        self.line.fulfilment.cancelled
    }
    #[getter]
    fn allocated(&self) -> u32 {
        self.line.fulfilment.allocated
    }
    #[getter]
    fn shipped(&self) -> u32 {
        self.line.fulfilment.shipped
    }
    #[getter]
    fn delivered(&self) -> u32 {
        self.line.fulfilment.delivered
    }
    #[getter]
    fn returned(&self) -> u32 {
        self.line.fulfilment.returned
    }
    #[getter]
    fn active_quantity(&self) -> u32 {
        self.line.active_quantity()
    }
    #[getter]
    fn open_quantity(&self) -> u32 {
        self.line.open_quantity()
    }
    #[getter]
    fn discounts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.line.discounts)
    }
    #[getter]
    fn tax_lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.line.tax_lines)
    }
    #[getter]
    fn allocations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.line.allocations)
    }
    #[getter]
    fn subtotal(&self, py: Python<'_>) -> PyResult<Decimal> {
        Ok(self.amounts(py)?.subtotal.amount())
    }
    #[getter]
    fn discount(&self, py: Python<'_>) -> PyResult<Decimal> {
        Ok(self.amounts(py)?.discount.amount())
    }
    #[getter]
    fn tax(&self, py: Python<'_>) -> PyResult<Decimal> {
        Ok(self.amounts(py)?.tax.amount())
    }
    #[getter]
    fn total(&self, py: Python<'_>) -> PyResult<Decimal> {
        Ok(self.amounts(py)?.total.amount())
    }
    fn __repr__(&self) -> String {
        let l = &self.line;
        format!(
            "OrderLine(id={:?}, variant={:?}, quantity={}, unit_price={:?}, cancelled={}, allocated={}, shipped={})",
            l.id.to_string(),
            l.variant.to_string(),
            l.quantity,
            l.unit_price.amount().to_string(),
            l.fulfilment.cancelled,
            l.fulfilment.allocated,
            l.fulfilment.shipped
        )
    }
}

/// An order's derived totals, all `Decimal` in the order's currency.
#[pyclass(frozen, eq, name = "Totals", module = "ordersmith._native")]
#[derive(PartialEq)]
pub(crate) struct PyTotals(OrderTotals);

#[pymethods]
impl PyTotals {
    #[getter]
    fn subtotal(&self) -> Decimal {
        self.0.subtotal.amount()
    }
    #[getter]
    fn discount_total(&self) -> Decimal {
        self.0.discount_total.amount()
    }
    #[getter]
    fn shipping_total(&self) -> Decimal {
        self.0.shipping_total.amount()
    }
    #[getter]
    fn tax_total(&self) -> Decimal {
        self.0.tax_total.amount()
    }
    #[getter]
    fn total(&self) -> Decimal {
        self.0.total.amount()
    }
    #[getter]
    fn currency(&self) -> String {
        self.0.total.currency().code().to_string()
    }
    fn __repr__(&self) -> String {
        let t = &self.0;
        format!(
            "Totals(subtotal={:?}, discount_total={:?}, shipping_total={:?}, tax_total={:?}, total={:?}, currency={:?})",
            t.subtotal.amount().to_string(),
            t.discount_total.amount().to_string(),
            t.shipping_total.amount().to_string(),
            t.tax_total.amount().to_string(),
            t.total.amount().to_string(),
            t.total.currency().code()
        )
    }
}

/// What a bulk import did: the orders placed, and `(index, Error)` for each refused one
/// (`import_orders_jsonl`: `(line, Error)`, the line 1-based).
#[pyclass(frozen, name = "ImportResult", module = "ordersmith._native")]
pub(crate) struct PyImportResult {
    /// Placed orders, in input order.
    pub(crate) orders: Py<PyList>,
    /// `(index, Error)` pairs (or `(line, Error)`), in input order.
    pub(crate) errors: Py<PyList>,
}

#[pymethods]
impl PyImportResult {
    #[getter]
    fn orders(&self, py: Python<'_>) -> Py<PyList> {
        self.orders.clone_ref(py)
    }
    #[getter]
    fn errors(&self, py: Python<'_>) -> Py<PyList> {
        self.errors.clone_ref(py)
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ImportResult(orders={}, errors={})",
            self.orders.bind(py).len(),
            self.errors.bind(py).len()
        )
    }
}

/// What `import_orders_jsonl_ids` did: `(line, order_id)` for each order placed (or
/// already there), and `(line, Error)` for each refused line, both in line order.
#[pyclass(frozen, name = "ImportIds", module = "ordersmith._native")]
pub(crate) struct PyImportIds {
    /// `(line, order_id)` pairs, in line order.
    pub(crate) placed: Py<PyList>,
    /// `(line, Error)` pairs, in line order.
    pub(crate) errors: Py<PyList>,
}

#[pymethods]
impl PyImportIds {
    #[getter]
    fn placed(&self, py: Python<'_>) -> Py<PyList> {
        self.placed.clone_ref(py)
    }
    #[getter]
    fn errors(&self, py: Python<'_>) -> Py<PyList> {
        self.errors.clone_ref(py)
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ImportIds(placed={}, errors={})",
            self.placed.bind(py).len(),
            self.errors.bind(py).len()
        )
    }
}

/// A mapping `{line_id: quantity}` (any `collections.abc.Mapping`) as the core's line
/// quantities.
pub(crate) fn line_quantities(
    py: Python<'_>,
    lines: &Bound<'_, PyAny>,
) -> PyResult<Vec<ordersmith::order::LineQuantity>> {
    let items = crate::args::mapping_items(lines, "lines")?;
    let mut out = Vec::with_capacity(items.len());
    for (id, v) in items {
        let line_id = crate::convert::id_arg(py, &id, ordersmith::ids::LineId::parse)?;
        let quantity: u32 = crate::args::int_value(&v, &format!("lines[{id:?}]"))?;
        out.push(ordersmith::order::LineQuantity::new(line_id, quantity));
    }
    Ok(out)
}
