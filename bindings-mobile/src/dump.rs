//! Moving a shop between stores (the core's `Engine::export_dump` and
//! `Engine::import_dump`): a phone backs its SQLite shop up to a file of JSON lines, or
//! restores one into a new database.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter};
use std::path::Path;

use ordersmith::engine::Engine as CoreEngine;
use ordersmith::ports::dump::{self, DumpError};

use crate::engine::Engine;
use crate::errors::OrdersmithError;

/// What a dump held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct DumpStats {
    /// Orders, each with its history.
    pub orders: u64,
    /// Idempotency keys.
    pub idempotency: u64,
    /// Stock log entries (the ledger is their fold).
    pub stock: u64,
    /// Pending effects.
    pub outbox: u64,
    /// Keyed records (store credit, channel maps, ...).
    pub records: u64,
    /// Invoices and credit notes.
    pub documents: u64,
}

impl From<dump::DumpStats> for DumpStats {
    fn from(s: dump::DumpStats) -> Self {
        DumpStats {
            orders: s.orders,
            idempotency: s.idempotency,
            stock: s.stock,
            outbox: s.outbox,
            records: s.records,
            documents: s.documents,
        }
    }
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> DumpError {
    DumpError::Io {
        reason: format!("{what} {}: {e}", path.display()),
    }
}

/// Exports to a new file at `path`: an existing file is refused (`DUMP_IO`), never
/// overwritten (it could be the shop's own database), and a file left half written by a
/// failed export is removed.
fn export_to(engine: &CoreEngine, path: &Path) -> Result<dump::DumpStats, DumpError> {
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

fn import_from(engine: &CoreEngine, path: &Path) -> Result<dump::DumpStats, DumpError> {
    let file = File::open(path).map_err(|e| io_error("opening", path, &e))?;
    engine.import_dump(BufReader::new(file))
}

#[uniffi::export]
impl Engine {
    /// Writes the whole shop (orders with their histories, idempotency keys, the stock
    /// log, pending effects, invoice documents, keyed records) to a new file at `path`
    /// as JSON lines: a backup, or the way to another store. An existing file is refused
    /// (`DUMP_IO`, `Unavailable`), never overwritten.
    pub fn export_dump(&self, path: String) -> Result<DumpStats, OrdersmithError> {
        let stats = self.dump_call(|e| export_to(e, Path::new(&path)))?;
        Ok(stats.into())
    }

    /// Loads a dump file written by `export_dump` (on any store: a phone, a server's
    /// PostgreSQL) into this engine's database, which must be empty (open a new file),
    /// and returns the counts; the engine then reads and writes the restored shop. A
    /// database that holds anything is refused with `DUMP_TARGET_NOT_EMPTY`
    /// (`Conflict`) and left unchanged; a truncated or malformed file with
    /// `DUMP_MALFORMED` (`InvalidInput`).
    pub fn import_dump(&self, path: String) -> Result<DumpStats, OrdersmithError> {
        let stats = self.dump_call(|e| import_from(e, Path::new(&path)))?;
        Ok(stats.into())
    }
}
