//! Moving a shop between stores (the core's `Engine::export_dump` and
//! `Engine::import_dump`): the dump is a file of JSON lines, written and read off the
//! event loop.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter};
use std::path::Path;

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::engine::Engine;
use ordersmith::ports::dump::{DumpError, DumpStats};

use crate::convert::to_json;
use crate::engine::JsEngine;
use crate::errors::{Failure, Job};

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

#[napi]
impl JsEngine {
    /// Writes the engine's whole store (orders with their histories, idempotency keys,
    /// the stock log, pending effects, invoice documents, keyed records) to a new file
    /// at `path` as JSON lines, off the event loop, and resolves with the counts. An
    /// existing file is refused with `DumpError` (`DUMP_IO`), never overwritten.
    #[napi(ts_return_type = "Promise<DumpStats>")]
    pub fn export_dump(&self, path: String) -> AsyncTask<Job> {
        self.write(move |e| {
            let stats = export_to(e, Path::new(&path)).map_err(|e| Failure::core(&e))?;
            to_json(&stats)
        })
    }

    /// Loads a dump file written by `exportDump` (from any store) into this engine's
    /// store, which must be empty, off the event loop, and resolves with the counts. The
    /// engine then reads and writes the imported shop. A store that holds anything is
    /// refused with `DUMP_TARGET_NOT_EMPTY` and left unchanged; a truncated or
    /// malformed file with `DUMP_MALFORMED` (`details.line` names the line, 0 for a
    /// missing end).
    #[napi(ts_return_type = "Promise<DumpStats>")]
    pub fn import_dump(&self, path: String) -> AsyncTask<Job> {
        self.write(move |e| {
            let stats = import_from(e, Path::new(&path)).map_err(|e| Failure::core(&e))?;
            to_json(&stats)
        })
    }
}
