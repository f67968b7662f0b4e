//! Moving a shop between stores (the core's `Engine::export_dump` and
//! `Engine::import_dump`): the dump is a file of JSON lines, written and read with the
//! GIL released.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter};
use std::path::Path;

use ordersmith::engine::Engine;
use ordersmith::ports::dump::{DumpError, DumpStats};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::args::{names, PathArg};
use crate::engine::PyEngine;
use crate::errors::{detached, shielded};

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> DumpError {
    DumpError::Io {
        reason: format!("{what} {}: {e}", path.display()),
    }
}

/// Exports to a new file at `path`: an existing file is refused (`DUMP_IO`), never
/// overwritten (it could be the shop's own database), and a file left half written by a
/// failed export is removed.
fn export_to(engine: &Engine, path: &Path) -> Result<DumpStats, DumpError> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| io_error("creating", path, &e))?;
    let written = (|| {
        let mut out = BufWriter::new(file);
        let stats = engine.export_dump(&mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| io_error("writing", path, e.error()))?;
        file.sync_all().map_err(|e| io_error("syncing", path, &e))?;
        Ok(stats)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

fn import_from(engine: &Engine, path: &Path) -> Result<DumpStats, DumpError> {
    let file = File::open(path).map_err(|e| io_error("opening", path, &e))?;
    engine.import_dump(BufReader::new(file))
}

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
            let stats = detached(py, || export_to(&engine, &path.0))?;
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
            let stats = detached(py, || import_from(&engine, &path.0))?;
            stats_dict(py, &stats)
        })
    }
}
