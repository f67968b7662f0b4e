//! Moving a shop between stores (the core's `Engine::export_dump_to_file` and
//! `Engine::import_dump_from_file`): the dump is a file of JSON lines, written and read
//! with the GIL released.

use ordersmith::ports::dump::DumpStats;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::args::{names, PathArg};
use crate::engine::PyEngine;
use crate::errors::{detached, shielded};

/// The counts as a dict: `orders`, `idempotency`, `stock`, `outbox`, `records`,
/// `documents`.
fn stats_dict<'py>(py: Python<'py>, stats: &DumpStats) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("orders", stats.orders)?;
    out.set_item("idempotency", stats.idempotency)?;
    out.set_item("stock", stats.stock)?;
    out.set_item("outbox", stats.outbox)?;
    out.set_item("records", stats.records)?;
    out.set_item("documents", stats.documents)?;
    Ok(out)
}

#[pymethods]
impl PyEngine {
    /// Writes the engine's whole store (orders with their histories, idempotency keys,
    /// the stock log, pending effects, invoice documents, keyed records) to a new file
    /// at `path` as JSON lines, and returns the counts. An existing file is refused
    /// with `DumpError` (`DUMP_IO`), never overwritten.
    fn export_dump<'py>(
        &self,
        py: Python<'py>,
        path: PathArg<names::path>,
    ) -> PyResult<Bound<'py, PyDict>> {
        shielded(py, || {
            let engine = self.engine(py)?;
            let stats = detached(py, || engine.export_dump_to_file(&path.0))?;
            stats_dict(py, &stats)
        })
    }

    /// Loads a dump file written by `export_dump` (from any store) into this engine's
    /// store, which must be empty, and returns the counts. The engine then reads and
    /// writes the imported shop. A store that holds anything is refused with
    /// `DumpError` (`DUMP_TARGET_NOT_EMPTY`) and left unchanged; a truncated or
    /// malformed file with `DumpInputError` (`DUMP_MALFORMED`).
    fn import_dump<'py>(
        &self,
        py: Python<'py>,
        path: PathArg<names::path>,
    ) -> PyResult<Bound<'py, PyDict>> {
        shielded(py, || {
            let engine = self.engine(py)?;
            let stats = detached(py, || engine.import_dump_from_file(&path.0))?;
            stats_dict(py, &stats)
        })
    }
}
