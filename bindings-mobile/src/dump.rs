//! Moving a shop between stores (the core's `Engine::export_dump_to_file` and
//! `Engine::import_dump_from_file`): a phone backs its SQLite shop up to a file of JSON lines, or
//! restores one into a new database.

use std::path::Path;

use ordersmith::ports::dump;

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

#[uniffi::export]
impl Engine {
    /// Writes the whole shop (orders with their histories, idempotency keys, the stock
    /// log, pending effects, invoice documents, keyed records) to a new file at `path`
    /// as JSON lines: a backup, or the way to another store. An existing file is refused
    /// (`DUMP_IO`, `Unavailable`), never overwritten.
    pub fn export_dump(&self, path: String) -> Result<DumpStats, OrdersmithError> {
        let stats = self.dump_call(|e| e.export_dump_to_file(Path::new(&path)))?;
        Ok(stats.into())
    }

    /// Loads a dump file written by `export_dump` (on any store: a phone, a server's
    /// PostgreSQL) into this engine's database, which must be empty (open a new file),
    /// and returns the counts; the engine then reads and writes the restored shop. A
    /// database that holds anything is refused with `DUMP_TARGET_NOT_EMPTY`
    /// (`Conflict`) and left unchanged; a truncated or malformed file with
    /// `DUMP_MALFORMED` (`InvalidInput`).
    pub fn import_dump(&self, path: String) -> Result<DumpStats, OrdersmithError> {
        let stats = self.dump_call(|e| e.import_dump_from_file(Path::new(&path)))?;
        Ok(stats.into())
    }
}
