//! Moving a shop between stores (the core's `Engine::export_dump_to_file` and
//! `Engine::import_dump_from_file`): the dump is a file of JSON lines, written and read
//! off the event loop.

use std::path::Path;

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::convert::to_json;
use crate::engine::JsEngine;
use crate::errors::{Failure, Job};

#[napi]
impl JsEngine {
    /// Writes the engine's whole store (orders with their histories, idempotency keys,
    /// the stock log, pending effects, invoice documents, keyed records) to a new file
    /// at `path` as JSON lines, off the event loop, and resolves with the counts. An
    /// existing file is refused with `DumpError` (`DUMP_IO`), never overwritten.
    #[napi(ts_return_type = "Promise<DumpStats>")]
    pub fn export_dump(&self, path: String) -> AsyncTask<Job> {
        self.write(move |e| {
            let stats = e
                .export_dump_to_file(Path::new(&path))
                .map_err(|e| Failure::core(&e))?;
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
            let stats = e
                .import_dump_from_file(Path::new(&path))
                .map_err(|e| Failure::core(&e))?;
            to_json(&stats)
        })
    }
}
