//! Money helpers and the error catalogue as module functions.

use ordersmith::money::{allocate as core_allocate, Currency, Money};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rust_decimal::Decimal;

use crate::args::{names, Text};
use crate::convert::decimal_arg;
use crate::errors::{core_error, shielded};

/// Splits `total` across `weights` by largest remainder, so the parts always add up to
/// the total to the last minor unit of `currency`.
#[pyfunction]
pub(crate) fn allocate(
    py: Python<'_>,
    total: &Bound<'_, PyAny>,
    weights: &Bound<'_, PyAny>,
    currency: Text<names::currency>,
) -> PyResult<Vec<Decimal>> {
    let currency = currency.as_str();
    shielded(py, || {
        let currency = Currency::parse(currency).map_err(|e| core_error(py, &e))?;
        let total =
            Money::new(decimal_arg(total, "total")?, currency).map_err(|e| core_error(py, &e))?;
        let mut parsed = Vec::new();
        for (i, w) in weights.try_iter()?.enumerate() {
            parsed.push(decimal_arg(&w?, &format!("weights[{i}]"))?);
        }
        let parts = core_allocate(&total, &parsed).map_err(|e| core_error(py, &e))?;
        Ok(parts.iter().map(Money::amount).collect())
    })
}

/// Every error code the core and the channels crate can return, with its module and
/// kind (from their catalogues, so bindings never classify errors themselves).
#[pyfunction]
pub(crate) fn error_codes(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let out = PyList::empty(py);
    for info in ordersmith::errors::catalog()
        .into_iter()
        .chain(ordersmith_channels::catalog())
    {
        let row = PyDict::new(py);
        row.set_item("code", info.code)?;
        row.set_item("module", &info.module)?;
        row.set_item("kind", info.kind.as_str())?;
        out.append(row)?;
    }
    Ok(out)
}
