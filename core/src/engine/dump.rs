//! Moving a shop between stores from the engine: [`Engine::export_dump`] and
//! [`Engine::import_dump`] over [`crate::ports::dump`].
//!
//! The port functions move what the store holds; the engine also keeps state beside
//! the store that an import must bring up to date, or the new shop could not keep
//! writing:
//! - its copy of the stock ledger, rebuilt from the imported stock log (an engine that
//!   read the empty store before would otherwise decide on an empty ledger);
//! - its id source, which is not part of the store's data and so not of the dump: a
//!   fresh SQLite file or memory store would hand out `order-000001` again, an id an
//!   imported order already has. The import draws ids until they are past every
//!   imported order's (and every imported parcel's SSCC serial under the engine's SSCC
//!   range), so new ones never repeat them.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use super::Engine;
use crate::order::Order;
use crate::ports::dump::{self, DumpError, DumpStats};
use crate::ports::{IdGenerator, StoreError};

impl Engine {
    /// Writes the engine's whole store (orders with their histories, idempotency keys,
    /// the stock log, pending effects, invoice documents, keyed records) to `out` as
    /// JSON lines, in the format of [`crate::ports::dump`], and returns what it held.
    ///
    /// This engine's writes wait while the dump is written, and those it had in flight
    /// are saved first, so the dump is consistent with respect to this engine; other
    /// processes sharing the store should not write meanwhile.
    ///
    /// ```
    /// use ordersmith::engine::Engine;
    ///
    /// let engine = Engine::in_memory();
    /// let mut bytes = Vec::new();
    /// let stats = engine.export_dump(&mut bytes)?;
    /// assert_eq!(stats.orders, 0);
    /// assert!(String::from_utf8_lossy(&bytes).starts_with("{\"kind\":\"header\""));
    /// # Ok::<(), ordersmith::ports::dump::DumpError>(())
    /// ```
    pub fn export_dump(&self, mut out: impl Write) -> Result<DumpStats, DumpError> {
        let store = self.store.as_ref();
        let mut state = self.writer.lock().map_err(|_| poisoned())?;
        state.settle(store, true)?;
        dump::export(store, self.outbox.as_ref(), &mut out)
    }

    /// Loads a dump written by [`Engine::export_dump`] (or
    /// [`crate::ports::dump::export`]) into the engine's store, which must be empty,
    /// and returns what it held. Afterwards the engine reads and writes the imported
    /// shop as if it had written it: its stock ledger is rebuilt from the imported log
    /// and its id source is moved past the imported orders' ids (see the module).
    ///
    /// Refuses a store that holds anything with `DUMP_TARGET_NOT_EMPTY`, changing
    /// nothing, and a malformed or truncated dump with `DUMP_MALFORMED`. A dump refused
    /// part way may leave the batches read before the bad line saved (see
    /// [`crate::ports::dump::import`]): import into a fresh store and discard it on
    /// error.
    ///
    /// ```
    /// use chrono::Utc;
    /// use ordersmith::engine::{CommandContext, Engine};
    /// use ordersmith::ids::{ChannelId, VariantId};
    /// use ordersmith::money::{Currency, Money};
    /// use ordersmith::order::{NewLine, NewOrder};
    ///
    /// let shop = Engine::in_memory();
    /// let try_ = Currency::parse("TRY")?;
    /// let line = NewLine::new(VariantId::parse("MUG")?, 1, Money::parse("10.00", try_)?);
    /// let new = NewOrder::new(ChannelId::parse("web")?, Utc::now(), try_, vec![line]);
    /// let first = shop.place_order(new.clone(), &CommandContext::system())?;
    /// let mut bytes = Vec::new();
    /// shop.export_dump(&mut bytes)?;
    ///
    /// let moved = Engine::in_memory();
    /// assert_eq!(moved.import_dump(bytes.as_slice())?.orders, 1);
    /// assert_eq!(moved.order(&first.id)?, first);
    /// // The moved shop keeps writing, with ids of its own.
    /// let second = moved.place_order(new, &CommandContext::system())?;
    /// assert_ne!(second.id, first.id);
    /// // A store that holds anything is no import target.
    /// let err = moved.import_dump(bytes.as_slice()).unwrap_err();
    /// assert_eq!(err.code(), "DUMP_TARGET_NOT_EMPTY");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn import_dump(&self, input: impl BufRead) -> Result<DumpStats, DumpError> {
        let store = self.store.as_ref();
        // Under the writer: no write of this engine runs on a half-imported store, and
        // none is in flight when the ledger is rebuilt.
        let mut state = self.writer.lock().map_err(|_| poisoned())?;
        state.settle(store, true)?;
        let sscc = self.config.sscc.as_ref().map(|c| {
            (
                format!("{}{}", c.extension_digit(), c.company_prefix()),
                c.serial_digits() as usize,
            )
        });
        let mut last = LastIds::default();
        let imported = dump::import_observing(store, self.outbox.as_ref(), input, &mut |order| {
            last.see(order, sscc.as_ref())
        });
        // The engine reads the store afresh, even after a refused import that saved some
        // batches: a ledger that had found the empty store quiet would otherwise let the
        // next write decide without reading (`StockState::may_skip_read`).
        *state = super::stock_log::StockState::default();
        let stats = imported?;
        state.catch_up(store)?;
        advance_past(self.ids.as_ref(), "order", last.order)?;
        advance_past(self.ids.as_ref(), "sscc", last.sscc)?;
        Ok(stats)
    }
}

impl Engine {
    /// [`Engine::export_dump`] into a new file at `path`, for hosts that name a file
    /// (every binding does). An existing file is refused with `DUMP_IO`, never
    /// overwritten (it could be the shop's own database); the file is synced to disk
    /// before the call returns, and a file a failed export left half written is
    /// removed.
    pub fn export_dump_to_file(&self, path: &Path) -> Result<DumpStats, DumpError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| io_error("creating", path, &e))?;
        let written = (|| {
            let mut out = BufWriter::new(file);
            let stats = self.export_dump(&mut out)?;
            let file = out
                .into_inner()
                .map_err(|e| io_error("writing", path, e.error()))?;
            file.sync_all().map_err(|e| io_error("syncing", path, &e))?;
            Ok(stats)
        })();
        if written.is_err() {
            // Best effort: the export's own error is the one to report.
            let _ = std::fs::remove_file(path);
        }
        written
    }

    /// [`Engine::import_dump`] from the file at `path` (a missing or unreadable file is
    /// `DUMP_IO`).
    pub fn import_dump_from_file(&self, path: &Path) -> Result<DumpStats, DumpError> {
        let file = File::open(path).map_err(|e| io_error("opening", path, &e))?;
        self.import_dump(BufReader::new(file))
    }
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> DumpError {
    DumpError::Io {
        reason: format!("{what} {}: {e}", path.display()),
    }
}

fn poisoned() -> DumpError {
    DumpError::Store(StoreError::Unavailable {
        reason: "engine writer poisoned by a panicking thread".to_string(),
    })
}

/// The highest numbers among imported ids, per kind the engine draws.
#[derive(Debug, Default)]
struct LastIds {
    order: u64,
    sscc: u64,
}

impl LastIds {
    /// Notes `order`'s id (`order-<n>`, the [`IdGenerator`] contract) and its parcels'
    /// SSCC serials when they were numbered under `sscc`'s extension digit and company
    /// prefix (with its serial width).
    fn see(&mut self, order: &Order, sscc: Option<&(String, usize)>) {
        if let Some(n) = number_of(order.id.as_str(), "order") {
            self.order = self.order.max(n);
        }
        let Some((prefix, digits)) = sscc else {
            return;
        };
        let parcels = order.fulfilments.iter().flat_map(|f| &f.parcels);
        for sscc in parcels.filter_map(|p| p.sscc.as_ref()) {
            let serial = sscc
                .as_str()
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.get(..*digits))
                .and_then(|serial| serial.parse::<u64>().ok());
            if let Some(serial) = serial {
                self.sscc = self.sscc.max(serial);
            }
        }
    }
}

/// The number in `id` when it reads `{kind}-{digits}`.
fn number_of(id: &str, kind: &str) -> Option<u64> {
    let digits = id.strip_prefix(kind)?.strip_prefix('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Draws ids of `kind` until one is numbered past `last`, so later ones are too. The
/// [`IdGenerator`] port has no way to set a sequence, but drawing works on every
/// generator: in memory (hi-lo blocks on the SQL stores) but for one round trip per
/// block. At most `last` draws; stops early at an id without a number (a generator
/// that does not number cannot repeat a number).
fn advance_past(ids: &dyn IdGenerator, kind: &str, last: u64) -> Result<(), StoreError> {
    for _ in 0..last {
        match number_of(&ids.next_id(kind)?, kind) {
            Some(n) if n < last => {}
            _ => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_numbered_only_when_they_read_kind_dash_digits() {
        assert_eq!(number_of("order-000042", "order"), Some(42));
        assert_eq!(number_of("order-", "order"), None);
        assert_eq!(number_of("order-12a", "order"), None);
        assert_eq!(number_of("orders-1", "order"), None);
        assert_eq!(number_of("TY-1", "order"), None);
    }

    #[test]
    fn drawing_stops_once_past_the_last_imported_number() {
        let ids = crate::ports::memory::SequentialIds::new();
        advance_past(&ids, "order", 5).unwrap();
        assert_eq!(ids.next_id("order").unwrap(), "order-000006");
        advance_past(&ids, "sscc", 0).unwrap();
        assert_eq!(ids.next_id("sscc").unwrap(), "sscc-000001");
    }
}
