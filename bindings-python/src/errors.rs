//! The one place where errors become Python exceptions.
//!
//! `ordersmith/__init__.py` defines the exception classes and registers them at import
//! with [`register_error_classes`] (code → class, plus the base `Error` as fallback).
//! Every failure, whatever its origin, goes through [`raise`]: core errors through
//! [`core_error`] (code, kind and details come from the core's `OrdersmithError`, never
//! reclassified here), input conversion failures through [`invalid_input`] (code
//! `ENGINE_INVALID_INPUT`), and panics through [`panic_error`] (code `INTERNAL_PANIC`).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use ordersmith::engine::EngineError;
use ordersmith::errors::{kind_of, OrdersmithError};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use serde_json::{Map, Value};

use crate::convert::json_to_py;

/// Code of a Rust panic caught at the boundary (a bug in ordersmith, never bad input).
pub(crate) const INTERNAL_PANIC: &str = "INTERNAL_PANIC";

/// Code of an argument the binding could not convert (float, naive datetime, ...).
pub(crate) const INVALID_INPUT: &str = "ENGINE_INVALID_INPUT";

struct Registry {
    by_code: Py<PyDict>,
    fallback: Py<PyType>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// Registers the exception class of each code, and the class for unknown codes.
/// Called once by `ordersmith/__init__.py`; later calls are ignored (the first
/// registration wins, as the package is imported once per interpreter).
#[pyfunction]
#[pyo3(name = "_register_error_classes")]
pub(crate) fn register_error_classes(mapping: Bound<'_, PyDict>, fallback: Bound<'_, PyType>) {
    let _ = REGISTRY.set(Registry {
        by_code: mapping.unbind(),
        fallback: fallback.unbind(),
    });
}

/// Builds the exception for `code`: an instance of its registered class with `.code`,
/// `.kind` and `.details` set.
pub(crate) fn raise(
    py: Python<'_>,
    code: &str,
    kind: &str,
    message: String,
    details: Map<String, Value>,
) -> PyErr {
    let Some(registry) = REGISTRY.get() else {
        return PyRuntimeError::new_err(format!("[{code}] {message}"));
    };
    let build = || -> PyResult<PyErr> {
        let class = match registry.by_code.bind(py).get_item(code)? {
            Some(class) => class,
            None => registry.fallback.bind(py).clone().into_any(),
        };
        let kwargs = PyDict::new(py);
        kwargs.set_item("code", code)?;
        kwargs.set_item("kind", kind)?;
        kwargs.set_item("details", json_to_py(py, &Value::Object(details))?)?;
        let instance = class.call((message.as_str(),), Some(&kwargs))?;
        Ok(PyErr::from_value(instance))
    };
    build().unwrap_or_else(|e| e)
}

/// Any core error, with the code, kind and details the core gives it.
pub(crate) fn core_error<E: OrdersmithError>(py: Python<'_>, error: &E) -> PyErr {
    raise(
        py,
        error.code(),
        error.kind().as_str(),
        error.to_string(),
        error.details(),
    )
}

/// An argument that could not be converted: `field` names it (a path such as
/// `orders[3].lines[0].unit_price`), `reason` says what was expected.
pub(crate) fn invalid_input(py: Python<'_>, field: &str, reason: &str) -> PyErr {
    let mut details = Map::new();
    details.insert("field".into(), Value::String(field.to_string()));
    details.insert("reason".into(), Value::String(reason.to_string()));
    raise(
        py,
        INVALID_INPUT,
        kind_of(INVALID_INPUT).as_str(),
        format!("{field} is invalid: {reason}"),
        details,
    )
}

/// A caught panic as `ordersmith.InternalError` (code `INTERNAL_PANIC`).
pub(crate) fn panic_error(py: Python<'_>, payload: &(dyn Any + Send)) -> PyErr {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    let mut details = Map::new();
    details.insert("panic".into(), Value::String(what.clone()));
    raise(
        py,
        INTERNAL_PANIC,
        "internal",
        format!("internal error in ordersmith (please report): {what}"),
        details,
    )
}

/// A failure that happened while the GIL was released, turned into Python afterwards.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The core refused.
    Core(EngineError),
    /// A dump could not be exported or imported.
    Dump(ordersmith::ports::dump::DumpError),
    /// Input that the binding could not convert.
    Input {
        /// Path of the bad value.
        field: String,
        /// What was expected.
        reason: String,
    },
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Failure::Core(e)
    }
}

impl From<ordersmith::ports::dump::DumpError> for Failure {
    fn from(e: ordersmith::ports::dump::DumpError) -> Self {
        Failure::Dump(e)
    }
}

impl Failure {
    /// The Python exception.
    pub(crate) fn into_py_err(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Core(e) => core_error(py, &e),
            Failure::Dump(e) => core_error(py, &e),
            Failure::Input { field, reason } => invalid_input(py, &field, &reason),
        }
    }
}

/// Runs core work with the GIL released and panics caught, so other Python threads keep
/// running and a panic arrives as `ordersmith.InternalError`, never as a crash.
pub(crate) fn detached<T, E>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, E> + Send,
) -> PyResult<T>
where
    T: Send,
    E: Into<Failure> + Send,
{
    match py.detach(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.into().into_py_err(py)),
        Err(payload) => Err(panic_error(py, payload.as_ref())),
    }
}

/// Runs binding code (conversions) with panics caught, for the same guarantee.
pub(crate) fn shielded<T>(py: Python<'_>, body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(payload) => Err(panic_error(py, payload.as_ref())),
    }
}
