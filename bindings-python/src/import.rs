//! Bulk import from JSON lines (the core's `engine/import.rs`): the text crosses once
//! and the core reads it, so no order becomes a Python dict or a JSON tree here.

use std::borrow::Cow;

use ordersmith::engine::{CommandContext, EngineError, JsonLineResult, JsonLinesImport};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyString, PyTuple};

use crate::args::{names, Text};
use crate::convert::context;
use crate::engine::PyEngine;
use crate::errors::{core_error, detached, invalid_input, shielded, Failure};
use crate::order::{PyImportIds, PyImportResult, PyOrder};

/// The JSON-lines text as bytes: `bytes` borrowed as they are (immutable, so safe to
/// read with the GIL released), `bytearray` copied (another thread could resize it),
/// `str` encoded to UTF-8.
fn data_bytes<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(Cow::Owned(b.to_vec()));
    }
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(Cow::Owned(s.to_cow()?.into_owned().into_bytes()));
    }
    let type_name = data
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(invalid_input(
        data.py(),
        "data",
        &format!("expected bytes or str holding JSON lines, not {type_name}"),
    ))
}

/// Reads `data` (see [`data_bytes`]) and runs `import` on it with the GIL released:
/// the part both JSON-lines imports share.
fn import_detached<T: Send>(
    engine: &PyEngine,
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    actor: Option<&str>,
    import: impl FnOnce(&ordersmith::engine::Engine, &[u8], &CommandContext) -> T + Send,
) -> PyResult<T> {
    let ctx = context(py, actor, None)?;
    let bytes = data_bytes(data)?;
    let bytes: &[u8] = &bytes;
    let engine = &engine.engine(py)?;
    detached(py, || Ok::<_, Failure>(import(engine, bytes, &ctx)))
}

/// A refused line as Python sees it: `(line, Error)`.
fn line_error<'py>(py: Python<'py>, line: u64, e: &EngineError) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            line.into_pyobject(py)?.into_any(),
            core_error(py, e).into_value(py).into_bound(py).into_any(),
        ],
    )
}

#[pymethods]
impl PyEngine {
    /// Places the orders of a JSON-lines text (one order in the `place_order` input
    /// shape per line) in one crossing, with the GIL released while the core reads and
    /// places them (`Engine::place_orders_json_lines`). The same semantics as
    /// `import_orders`; blank lines are skipped and CRLF is accepted. Errors are
    /// `(line, Error)` with 1-based line numbers; a line that is not an order is an
    /// `OrderInputError` with code `ORDER_JSONL_*` whose `details` name the `line` and,
    /// for a bad field, its `path`.
    #[pyo3(signature = (data, *, actor=None))]
    fn import_orders_jsonl(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
    ) -> PyResult<PyImportResult> {
        let actor = actor.as_ref().map(Text::as_str);
        shielded(py, || {
            let results: Vec<JsonLineResult> =
                import_detached(self, py, data, actor, |engine, bytes, ctx| {
                    engine.place_orders_json_lines(bytes, ctx)
                })?;
            let placed = PyList::empty(py);
            let errors = PyList::empty(py);
            for JsonLineResult { line, result } in results {
                match result {
                    Ok(order) => placed.append(PyOrder::new(order))?,
                    Err(e) => errors.append(line_error(py, line, &e)?)?,
                }
            }
            Ok(PyImportResult {
                orders: placed.unbind(),
                errors: errors.unbind(),
            })
        })
    }

    /// `import_orders_jsonl` for an import that does not need the orders back (a
    /// migration): the same orders placed the same way, reported as `(line, order_id)`
    /// pairs instead of `Order` objects (`Engine::import_orders_json_lines`). No order
    /// is copied for the report nor wrapped as a Python object, which is most of what
    /// a large import costs besides placing it. An order already there (its channel
    /// reference seen before with the same content) is reported with its id.
    #[pyo3(signature = (data, *, actor=None))]
    fn import_orders_jsonl_ids(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
    ) -> PyResult<PyImportIds> {
        let actor = actor.as_ref().map(Text::as_str);
        shielded(py, || {
            let JsonLinesImport { placed, refused } =
                import_detached(self, py, data, actor, |engine, bytes, ctx| {
                    engine.import_orders_json_lines(bytes, ctx)
                })?;
            let ids = PyList::empty(py);
            for (line, id) in placed {
                ids.append((line, id.as_str()))?;
            }
            let errors = PyList::empty(py);
            for (line, e) in refused {
                errors.append(line_error(py, line, &e)?)?;
            }
            Ok(PyImportIds {
                placed: ids.unbind(),
                errors: errors.unbind(),
            })
        })
    }
}
