//! # ordersmith-sqlite
//!
//! The embedded default store for ordersmith: one SQLite file (or memory), implementing
//! [`ordersmith::ports::Store`] and [`ordersmith::ports::Outbox`].
//!
//! - **One transaction per [`ChangeSet`].** `commit` runs in `BEGIN IMMEDIATE`: the
//!   version check of every order, the idempotency keys, the events, the snapshots and
//!   the outbox records are written together or not at all.
//! - **Group commit** (ADR 0013). Change sets submitted while another group syncs are
//!   saved by one `BEGIN IMMEDIATE` ... `COMMIT` (one fsync); a refused one (stale
//!   version, taken key) is rolled back alone (the group is then saved again with a
//!   savepoint per change set); every waiter is answered once the COMMIT returned. A
//!   leader lets the last group's writers catch up: what they queue while it applies
//!   its group joins it, and it waits for the rest up to half the last COMMIT.
//! - **Packed documents** (migration 6). Snapshots, events, outbox records, fingerprints
//!   and stock log entries are zstd frames against a fixed dictionary (since migration
//!   11 a trained one, whose entropy tables each frame reuses); an order event's
//!   outbox record refers to the event instead of repeating it, and since migration 7
//!   an announcement keeps no document at all (its row and its event say everything).
//!   Since migration 9 an order still exactly as it was placed keeps no snapshot
//!   either: it is read back from its placed event, which holds the same order.
//! - **Durable by default.** WAL journal with `synchronous=FULL`: a commit that
//!   returned survives a process crash *and* a power loss (see [`Synchronous`]).
//! - **Versioned schema.** Migrations in `migrations/` are applied on open and recorded
//!   in `schema_migrations`; a database written by a newer version is refused with
//!   [`OpenError::SchemaTooNew`] instead of being misread.
//! - **One writing connection, and readers beside it.** The port is synchronous and
//!   `Send + Sync`; writes from many threads are serialised on one connection behind a
//!   `Mutex`, which is what SQLite does with writers anyway. Reads of a file go to a pool
//!   of read-only connections (one per thread reading at the same moment, kept for the
//!   next read), so a read never waits for a group's fsync: WAL gives each read
//!   everything committed when it started. Several processes may share the file:
//!   SQLite's own locking and the busy timeout serialise their writers, and version
//!   checks inside the immediate transaction keep stale saves out.
//!
//! ```
//! use ordersmith::engine::Engine;
//! use ordersmith::ports::memory::{SequentialIds, SystemClock};
//! use ordersmith_sqlite::SqliteStore;
//! use std::sync::Arc;
//!
//! let dir = std::env::temp_dir().join(format!("ordersmith-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let store = Arc::new(SqliteStore::open(dir.join("shop.db"))?);
//! let engine = Engine::new(store.clone(), store, Arc::new(SystemClock::new()), Arc::new(SequentialIds::new()));
//! assert!(engine.pending_effects(10)?.is_empty());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// What reading orders selects from `orders`: the snapshot and, only when that is empty
/// (an order still as it was placed, migration 9), the record of its placed event.
macro_rules! order_columns {
    () => {
        "snapshot, CASE WHEN length(snapshot) = 0 THEN (SELECT e.record FROM order_events e \
         WHERE e.order_id = orders.id AND e.version = 1) END"
    };
}

mod codec;
mod gather;
mod placed;
mod records;
mod schema;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ordersmith::ids::OrderId;
use ordersmith::invoice::InvoiceDocument;
use ordersmith::order::{EventRecordRef, Order, OrderEventRecord};
use ordersmith::ports::{
    ChangeSet, CommitTicket, DocumentAppend, IdBlocks, IdGenerator, IdempotencyRecord, KeyedRecord,
    OrderChange, OrderQuery, Outbox, OutboxRecord, OutboxWrite, StockAppend, Store, StoreError,
};
use ordersmith::stock::StockLogEntry;

use codec::{Doc, DocRange, PackedDocs};
use placed::{made_by_its_placed_event, order_from_row};
use rusqlite::types::Value;
use rusqlite::{
    params, params_from_iter, CachedStatement, Connection, ErrorCode, OpenFlags, OptionalExtension,
    Transaction,
};

pub use schema::{Migration, MIGRATIONS};

/// Why a database could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// SQLite could not open or configure the file.
    #[error("cannot open SQLite database {path}: {reason}")]
    Open {
        /// The file (`:memory:` for an in-memory database).
        path: String,
        /// Why.
        reason: String,
    },
    /// The database was migrated by a newer version of this crate.
    #[error("database schema version {found} is newer than this ordersmith-sqlite knows ({supported}): upgrade the code, never the other way round")]
    SchemaTooNew {
        /// The schema version in the file.
        found: i64,
        /// The newest version this code knows.
        supported: i64,
    },
    /// Applying a migration failed; the database is left at the version before it.
    #[error("migration {version} ({name}) failed: {reason}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// Its name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// For hosts that handle every store failure alike (bindings): a store that cannot be
/// opened is unavailable, and the message keeps this error's own code.
impl From<OpenError> for StoreError {
    fn from(e: OpenError) -> Self {
        StoreError::Unavailable {
            reason: format!("[{}] {e}", e.code()),
        }
    }
}

impl OpenError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "SQLITE_OPEN_FAILED",
        "SQLITE_SCHEMA_TOO_NEW",
        "SQLITE_MIGRATION_FAILED",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Open { .. } => "SQLITE_OPEN_FAILED",
            Self::SchemaTooNew { .. } => "SQLITE_SCHEMA_TOO_NEW",
            Self::Migration { .. } => "SQLITE_MIGRATION_FAILED",
        }
    }
}

/// When SQLite forces a commit to the disk.
///
/// `Full` (the default) syncs the write-ahead log on every commit: an acknowledged
/// order survives a power loss. `Normal` syncs only at checkpoints: commits survive a
/// crash of the process (SIGKILL, panic) but the last ones may roll back after a power
/// loss or kernel crash; the database is never corrupted either way. ordersmith
/// acknowledges orders to sales channels, which then stop redelivering them, so losing
/// an acknowledged order is data loss: `Full` is the default, `Normal` an opt-in for
/// hosts that can re-import (measured in `benches/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Sync the WAL on every commit.
    #[default]
    Full,
    /// Sync at checkpoints only.
    Normal,
}

/// Tuning for [`SqliteStore::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Durability of commits.
    pub synchronous: Synchronous,
    /// How long a call waits for another process's write lock before
    /// [`StoreError::Unavailable`].
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// A [`Store`] and [`Outbox`] on SQLite.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// Idle read-only connections to the file (none for an in-memory database, whose
    /// reads use `conn`: another connection would open another database).
    readers: Mutex<Vec<Connection>>,
    busy_timeout: Duration,
    path: Option<PathBuf>,
    fail_commits: AtomicU32,
    ids: IdBlocks,
    /// Change sets submitted and not yet taken by a group commit (ADR 0013).
    queue: Mutex<CommitQueue>,
    /// Signalled when a group commit has decided its change sets.
    decided: Condvar,
    /// Signalled when a writer a gathering leader waits for has queued its change set.
    gathered: Condvar,
}

/// The group-commit queue: change sets in submission order, and whether a thread is
/// committing a group now.
#[derive(Default)]
struct CommitQueue {
    waiting: Vec<Queued>,
    leading: bool,
    /// Which writers the next leader may wait for while it applies its group.
    gathering: gather::Gathering,
}

/// One submitted change set and, once packed, its documents.
///
/// A change set is queued as it is handed over and packed afterwards: by its submitter
/// in [`Store::wait`], outside the engine's writer and outside the group's
/// transaction, or by the leader that takes it first. The engine submits under its
/// writer (the submission order is the order of its decisions), so packing in `submit`
/// would hold every other write of the engine back for the time it takes.
struct Queued {
    changes: ChangeSet,
    /// `None` until packed; a packing failure refuses this change set alone.
    packed: Option<Result<PackedSet, StoreError>>,
    /// Set while the submitter packs it outside the queue's lock (its `changes` are then
    /// with the submitter): a leader takes only the change sets queued before it.
    packing: bool,
    ticket: CommitTicket,
    after: Option<CommitTicket>,
    /// The thread that submitted it: a writer the next group may wait for.
    submitter: ThreadId,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn open_error(path: &str) -> impl Fn(rusqlite::Error) -> OpenError + '_ {
    move |e| OpenError::Open {
        path: path.to_string(),
        reason: e.to_string(),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default options, and
    /// migrates it to the newest schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens the database at `path` with `options`, and migrates it.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, OpenError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let conn = Connection::open(path).map_err(open_error(&shown))?;
        Self::configure(conn, Some(path.to_path_buf()), &shown, options)
    }

    /// A private in-memory database (gone when the store is dropped): for tests.
    pub fn in_memory() -> Result<Self, OpenError> {
        let conn = Connection::open_in_memory().map_err(open_error(":memory:"))?;
        Self::configure(conn, None, ":memory:", SqliteOptions::default())
    }

    fn configure(
        mut conn: Connection,
        path: Option<PathBuf>,
        shown: &str,
        options: SqliteOptions,
    ) -> Result<Self, OpenError> {
        conn.busy_timeout(options.busy_timeout)
            .map_err(open_error(shown))?;
        // journal_mode answers with the mode in force ("memory" for :memory:).
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_error(shown))?;
        let sync = match options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)
            .map_err(open_error(shown))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error(shown))?;
        // A group commit saves each change set inside a savepoint, and SQLite copies
        // every page a savepoint changes that the transaction changed before it into a
        // statement journal; past 64 KiB (a change set that splits a few pages) that
        // journal became a temporary file, opened, written and closed inside the write
        // lock, by 962 of 2,033 groups (8,000 orders, 8 writers). In memory it stays a
        // copy.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(open_error(shown))?;
        schema::migrate(&mut conn, shown)?;
        Ok(SqliteStore {
            ids: IdBlocks::default(),
            queue: Mutex::new(CommitQueue::default()),
            decided: Condvar::new(),
            gathered: Condvar::new(),
            conn: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            busy_timeout: options.busy_timeout,
            path,
            fail_commits: AtomicU32::new(0),
        })
    }

    /// The file this store uses (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the database (the newest migration applied).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let conn = self.lock()?;
        conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(store_error("reading the schema version"))
    }

    /// Runs `PRAGMA integrity_check`: `["ok"]` for a sound database, otherwise the
    /// problems SQLite found.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(store_error("integrity check"))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(store_error("integrity check"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(store_error("integrity check"))
    }

    /// The next `n` commits fail with [`StoreError::Unavailable`] *midway*: after the
    /// orders and idempotency keys were written inside the transaction and before the
    /// outbox, so tests prove the rollback leaves nothing partial.
    pub fn fail_next_commits(&self, n: u32) {
        self.fail_commits.store(n, Ordering::SeqCst);
    }

    /// A connection to read with: for a file, an idle read-only connection from the pool
    /// (opened when none is idle, returned to the pool when dropped); in memory, the
    /// writing connection.
    fn reader(&self) -> Result<Reader<'_>, StoreError> {
        let Some(path) = &self.path else {
            return Ok(Reader::Shared(self.lock()?));
        };
        let idle = self.readers.lock().map_err(|_| readers_poisoned())?.pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(store_error("opening a read connection"))?;
                conn.busy_timeout(self.busy_timeout)
                    .map_err(store_error("opening a read connection"))?;
                conn
            }
        };
        Ok(Reader::Pooled {
            store: self,
            conn: Some(conn),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Unavailable {
            reason: "SQLite connection lock poisoned by a panicking thread".to_string(),
        })
    }

    fn take_failure(&self) -> bool {
        self.fail_commits
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// A connection lent for reading (see [`SqliteStore::reader`]).
enum Reader<'a> {
    /// From the pool; goes back to it when dropped.
    Pooled {
        store: &'a SqliteStore,
        conn: Option<Connection>,
    },
    /// The writing connection (an in-memory database).
    Shared(MutexGuard<'a, Connection>),
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Reader::Shared(conn) => conn,
            Reader::Pooled { conn, .. } => conn
                .as_ref()
                .unwrap_or_else(|| unreachable!("connection taken before drop")),
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Reader::Pooled { store, conn } = self {
            if let (Some(conn), Ok(mut idle)) = (conn.take(), store.readers.lock()) {
                idle.push(conn);
            }
        }
    }
}

fn readers_poisoned() -> StoreError {
    StoreError::Unavailable {
        reason: "SQLite read connection pool poisoned by a panicking thread".to_string(),
    }
}

/// Maps a SQLite error to the port's error, with what was being done.
fn store_error(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| {
        let corrupt = |reason: String| StoreError::Corrupt { reason };
        let unavailable = |reason: String| StoreError::Unavailable { reason };
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    corrupt(format!("{context}: {e}"))
                }
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => unavailable(format!(
                    "{context}: the database stayed locked by another connection for longer than the busy timeout ({e})"
                )),
                ErrorCode::DiskFull => unavailable(format!("{context}: the disk is full ({e})")),
                _ => unavailable(format!("{context}: {e}")),
            },
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => corrupt(format!("{context}: {e}")),
            _ => unavailable(format!("{context}: {e}")),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        reason: format!("{what} is not valid JSON for its type: {e}"),
    })
}

fn encode<T: serde::Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Unavailable {
        reason: format!("{what} could not be serialised: {e}"),
    })
}

fn to_i64(what: &str, n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Unavailable {
        reason: format!("{what} {n} is beyond what SQLite stores"),
    })
}

fn to_u64(what: &str, n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt {
        reason: format!("{what} {n} is negative"),
    })
}

fn clamp_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `placed_at` as (seconds, nanoseconds): exact, and sorted like `DateTime<Utc>`.
fn time_key(t: &DateTime<Utc>) -> (i64, i64) {
    (t.timestamp(), i64::from(t.timestamp_subsec_nanos()))
}

fn stored_version(tx: &Transaction<'_>, id: &str) -> Result<u64, StoreError> {
    let version: Option<i64> = tx
        .prepare_cached("SELECT version FROM orders WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .map_err(store_error("reading an order version"))?;
    to_u64("stored version", version.unwrap_or(0))
}

/// The events a change set saves, by (order, version), with their JSON, so outbox
/// records announcing them are packed without looking them up again and records
/// carrying one as their payload can refer to it instead of storing it twice.
#[derive(Default)]
struct SavedEvents<'c> {
    /// Every event's JSON, one after another (one buffer, not one string per event).
    json: Vec<u8>,
    /// Each event and where its JSON is in `json`.
    events: HashMap<(&'c str, u64), (EventRecordRef<'c>, std::ops::Range<usize>)>,
}

impl<'c> SavedEvents<'c> {
    fn get(&self, order_id: &str, version: u64) -> Option<(EventRecordRef<'c>, &[u8])> {
        let (event, range) = self.events.get(&(order_id, version))?;
        Some((*event, self.json.get(range.clone())?))
    }
}

/// A change set's documents, packed (JSON, then zstd) by the thread that submitted it
/// while it waits, or by the leader before it begins its transaction (see [`Queued`]):
/// the group commit's leader holds SQLite's write lock from the first statement to the
/// end of the fsync, so whatever it computes there is time no other writer can commit
/// in, while packing outside it overlaps the previous group's fsync.
/// The ranges follow the change set's own order, category by category.
#[derive(Default)]
struct PackedSet {
    docs: PackedDocs,
    /// One per order change.
    snapshots: Vec<DocRange>,
    /// Every event of every order change, in order.
    events: Vec<DocRange>,
    /// One per stock log entry.
    stock: Vec<DocRange>,
    /// One per idempotency record.
    fingerprints: Vec<DocRange>,
    /// One per outbox write.
    outbox: Vec<PackedOutbox>,
}

/// An outbox write, packed.
struct PackedOutbox {
    doc: DocRange,
    /// The version of the event in `order_events` that is the record's payload.
    payload_event: Option<u64>,
    /// The topic of an announced order event (a ready record carries its own).
    topic: &'static str,
}

impl PackedSet {
    fn pack(changes: &ChangeSet) -> Result<PackedSet, StoreError> {
        let mut packed = PackedSet::default();
        let docs = &mut packed.docs;
        let mut scratch = Vec::new();
        let mut saved = SavedEvents::default();
        for change in &changes.orders {
            let id = change.snapshot.id.as_str();
            // A new order that is exactly what its placed event makes keeps no snapshot
            // (migration 9): reading rebuilds it from the event, which holds the same
            // order, so one document fewer is serialised, packed and written.
            packed.snapshots.push(if made_by_its_placed_event(change) {
                docs.push(b"")?
            } else {
                docs.push_value("order snapshot", &change.snapshot, &mut scratch)?
            });
            for event in &change.events {
                let start = saved.json.len();
                codec::serialise_into("event record", &event, &mut saved.json)?;
                let json = saved.json.get(start..).unwrap_or_default();
                packed.events.push(docs.push(json)?);
                saved
                    .events
                    .insert((id, event.version), (event, start..saved.json.len()));
            }
        }
        for entry in changes.stock.iter().flat_map(|s| &s.entries) {
            packed
                .stock
                .push(docs.push_value("stock log entry", entry, &mut scratch)?);
        }
        for record in &changes.idempotency {
            packed
                .fingerprints
                .push(docs.push(record.fingerprint.as_bytes())?);
        }
        for write in &changes.outbox {
            // An announcement names its event; a ready record may still carry one as JSON
            // (a restored dump), and is stored the same way when it does.
            packed.outbox.push(match write {
                OutboxWrite::Record(record) => {
                    let referred = saved
                        .get(&record.aggregate_id, record.aggregate_version)
                        .is_some_and(|(_, json)| json == record.payload_json.as_bytes());
                    let doc = OutboxDoc {
                        id: &record.id,
                        topic: &record.topic,
                        aggregate_id: &record.aggregate_id,
                        aggregate_version: record.aggregate_version,
                        created_at: &record.created_at,
                        payload_json: if referred { "" } else { &record.payload_json },
                    };
                    PackedOutbox {
                        doc: docs.push_value("outbox record", &doc, &mut scratch)?,
                        payload_event: referred.then_some(record.aggregate_version),
                        topic: "",
                    }
                }
                OutboxWrite::OrderEvent { order_id, version } => {
                    let event = match saved.get(order_id.as_str(), *version) {
                        Some((event, _)) => event,
                        // Not saved by this change set: the port's error for it.
                        None => changes.announced_event(order_id, *version)?,
                    };
                    // Every field of an announcement is in its row (id, topic, order,
                    // version) or in the event it names (time, payload): no document
                    // (migration 7), so no JSON and no zstd frame for it.
                    PackedOutbox {
                        doc: docs.push(b"")?,
                        payload_event: Some(event.version),
                        topic: event.event.topic(),
                    }
                }
            });
        }
        Ok(packed)
    }
}

/// The next packed document of a category, or the store's own error if the packed set
/// and the change set disagree (they cannot: both walk the same change set).
fn next_doc<'a, T>(docs: &mut impl Iterator<Item = &'a T>) -> Result<&'a T, StoreError> {
    docs.next().ok_or_else(|| StoreError::Unavailable {
        reason: "a change set and its packed documents are out of step (a bug in the SQLite store)"
            .to_string(),
    })
}

/// The statements a group's change sets run, taken from the connection's cache once
/// per group rather than once per change set (taking and returning a cached statement
/// was an eighth of the leader's work per change set).
struct Statements<'c> {
    savepoint: CachedStatement<'c>,
    release: CachedStatement<'c>,
    rollback_to: CachedStatement<'c>,
    insert_order: CachedStatement<'c>,
    update_order: CachedStatement<'c>,
    update_order_in_place: CachedStatement<'c>,
    insert_event: CachedStatement<'c>,
    stock_head: CachedStatement<'c>,
    insert_stock: CachedStatement<'c>,
    insert_idempotency: CachedStatement<'c>,
    insert_outbox: CachedStatement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(tx: &'c Transaction<'_>) -> Result<Self, StoreError> {
        let prepare = |sql: &str| {
            tx.prepare_cached(sql)
                .map_err(store_error("preparing the statements of a commit"))
        };
        Ok(Statements {
            savepoint: prepare("SAVEPOINT change_set")?,
            release: prepare("RELEASE change_set")?,
            rollback_to: prepare("ROLLBACK TO change_set")?,
            insert_order: prepare(
                "INSERT INTO orders (id, version, status, channel, placed_secs, placed_nanos, snapshot, \
                 customer_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
            )?,
            update_order: prepare(
                "UPDATE orders SET version = ?2, status = ?3, channel = ?4, placed_secs = ?5, \
                 placed_nanos = ?6, snapshot = ?7 WHERE id = ?1 AND version = ?8",
            )?,
            // The same update for the usual case, where the order's channel and placing
            // time are what they were (no command changes them): SQLite rewrites an index
            // only when a column it covers is SET, so this leaves `orders_by_placed` and
            // `orders_by_channel` alone instead of deleting and reinserting their entries.
            update_order_in_place: prepare(
                "UPDATE orders SET version = ?2, status = ?3, snapshot = ?4 \
                 WHERE id = ?1 AND version = ?5 AND channel = ?6 AND placed_secs = ?7 \
                 AND placed_nanos = ?8",
            )?,
            insert_event: prepare(
                "INSERT INTO order_events (order_id, version, record) VALUES (?1, ?2, ?3)",
            )?,
            stock_head: prepare("SELECT COALESCE(MAX(seq), 0) FROM stock_log")?,
            insert_stock: prepare("INSERT INTO stock_log (seq, entry) VALUES (?1, ?2)")?,
            insert_idempotency: prepare(
                "INSERT INTO idempotency_records (key, fingerprint, order_id, order_version) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING",
            )?,
            insert_outbox: prepare(
                "INSERT INTO outbox (id, topic, aggregate_id, record, payload_event) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
            )?,
        })
    }
}

/// Version-checked writes of each order's snapshot, then its events.
fn write_orders(
    tx: &Transaction<'_>,
    st: &mut Statements<'_>,
    orders: &[OrderChange],
    packed: &PackedSet,
) -> Result<(), StoreError> {
    let mut snapshots = packed.snapshots.iter();
    let mut events = packed.events.iter();
    for change in orders {
        let order = &change.snapshot;
        let id = order.id.as_str();
        let doc = packed.docs.get(*next_doc(&mut snapshots)?)?;
        let version = to_i64("order version", order.version)?;
        let (secs, nanos) = time_key(&order.placed_at);
        let (status, channel) = (order.status.as_str(), order.channel.as_str());
        let written = if change.expected_version == 0 {
            let customer = order.customer_key();
            st.insert_order.execute(params![
                id, version, status, channel, secs, nanos, doc, customer
            ])
        } else {
            let expected = to_i64("expected version", change.expected_version)?;
            match st.update_order_in_place.execute(params![
                id, version, status, doc, expected, channel, secs, nanos
            ]) {
                // Not updated: a stale version (the full update below changes nothing
                // either, and the conflict is reported) or a moved channel or time.
                Ok(0) => st.update_order.execute(params![
                    id, version, status, channel, secs, nanos, doc, expected
                ]),
                other => other,
            }
        }
        .map_err(store_error("saving an order"))?;
        if written == 0 {
            return Err(StoreError::Conflict {
                aggregate: format!("order {id}"),
                expected: change.expected_version,
                actual: stored_version(tx, id)?,
            });
        }
        for event in &change.events {
            st.insert_event
                .execute(params![
                    id,
                    to_i64("event version", event.version)?,
                    packed.docs.get(*next_doc(&mut events)?)?
                ])
                .map_err(store_error(
                    "appending an event (events are never rewritten)",
                ))?;
        }
    }
    Ok(())
}

/// Appends stock log entries if the log still ends where the caller saw it.
fn write_stock(
    st: &mut Statements<'_>,
    stock: Option<&StockAppend>,
    packed: &PackedSet,
) -> Result<(), StoreError> {
    let Some(stock) = stock else {
        return Ok(());
    };
    let head: i64 = st
        .stock_head
        .query_row([], |r| r.get(0))
        .map_err(store_error("reading the stock log head"))?;
    let head = to_u64("stock log head", head)?;
    if head != stock.expected_seq {
        return Err(StoreError::Conflict {
            aggregate: "stock log".to_string(),
            expected: stock.expected_seq,
            actual: head,
        });
    }
    let mut docs = packed.stock.iter();
    for entry in &stock.entries {
        st.insert_stock
            .execute(params![
                to_i64("stock log seq", entry.seq)?,
                packed.docs.get(*next_doc(&mut docs)?)?
            ])
            .map_err(store_error("appending to the stock log"))?;
    }
    Ok(())
}

fn write_idempotency(
    st: &mut Statements<'_>,
    records: &[IdempotencyRecord],
    packed: &PackedSet,
) -> Result<(), StoreError> {
    let mut fingerprints = packed.fingerprints.iter();
    for record in records {
        let written = st
            .insert_idempotency
            .execute(params![
                record.key,
                packed.docs.get(*next_doc(&mut fingerprints)?)?,
                record.order_id.as_str(),
                to_i64("order version", record.order_version)?
            ])
            .map_err(store_error("recording an idempotency key"))?;
        if written == 0 {
            return Err(StoreError::KeyTaken {
                key: record.key.clone(),
            });
        }
    }
    Ok(())
}

/// An outbox record as it is stored, borrowed: serialises exactly as [`OutboxRecord`]
/// does (a test holds the two together), without building one. `id` is a `Display` so
/// an announcement's `"<order>:<version>"` is written straight into the JSON.
struct OutboxDoc<'a, I> {
    id: I,
    topic: &'a str,
    aggregate_id: &'a str,
    aggregate_version: u64,
    created_at: &'a DateTime<Utc>,
    payload_json: &'a str,
}

impl<I: std::fmt::Display> serde::Serialize for OutboxDoc<'_, I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("OutboxRecord", 6)?;
        s.serialize_field("id", &format_args!("{}", self.id))?;
        s.serialize_field("topic", self.topic)?;
        s.serialize_field("aggregate_id", self.aggregate_id)?;
        s.serialize_field("aggregate_version", &self.aggregate_version)?;
        s.serialize_field("created_at", self.created_at)?;
        s.serialize_field("payload_json", self.payload_json)?;
        s.end()
    }
}

/// The id of the outbox record announcing an order event: `"<order>:<version>"`, as
/// [`OutboxRecord::for_order_event`] names it.
struct AnnouncementId<'a>(&'a OrderId, u64);

impl std::fmt::Display for AnnouncementId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.0, self.1)
    }
}

/// Writes outbox records. A record whose payload is an event record saved in the same
/// change set (what the engine writes for every order event) is stored without it, with
/// the event's version in `payload_event`, and gets it back from `order_events` when
/// read (migration 6): the same JSON is not stored twice.
fn write_outbox(
    st: &mut Statements<'_>,
    changes: &ChangeSet,
    packed: &PackedSet,
) -> Result<(), StoreError> {
    let mut id = String::new();
    let mut docs = packed.outbox.iter();
    for write in &changes.outbox {
        let p = next_doc(&mut docs)?;
        let payload_event = p
            .payload_event
            .map(|v| to_i64("event version", v))
            .transpose()?;
        let doc = packed.docs.get(p.doc)?;
        let (written, record_id) = match write {
            OutboxWrite::Record(record) => (
                st.insert_outbox.execute(params![
                    record.id,
                    record.topic,
                    record.aggregate_id,
                    doc,
                    payload_event
                ]),
                record.id.as_str(),
            ),
            OutboxWrite::OrderEvent { order_id, version } => {
                id.clear();
                {
                    use std::fmt::Write as _;
                    let _ = write!(id, "{}", AnnouncementId(order_id, *version));
                }
                (
                    st.insert_outbox.execute(params![
                        id,
                        p.topic,
                        order_id.as_str(),
                        doc,
                        payload_event
                    ]),
                    id.as_str(),
                )
            }
        };
        let written = written.map_err(store_error("writing an outbox record"))?;
        if written == 0 {
            return Err(StoreError::Unavailable {
                reason: format!(
                    "outbox record id {record_id:?} already exists: the id generator repeated an id"
                ),
            });
        }
    }
    Ok(())
}

/// The last number taken in `series` (0 for a new series).
fn series_last(conn: &Connection, series: &str) -> Result<u64, StoreError> {
    let last: Option<i64> = conn
        .prepare_cached("SELECT last_number FROM invoice_series WHERE series = ?1")
        .and_then(|mut s| s.query_row([series], |r| r.get(0)).optional())
        .map_err(store_error("reading an invoice series"))?;
    to_u64("invoice series last number", last.unwrap_or(0))
}

/// Takes each document's number with a compare-and-set on its series, then saves it.
fn write_documents(tx: &Transaction<'_>, documents: &[DocumentAppend]) -> Result<(), StoreError> {
    for append in documents {
        let doc = &append.document;
        let next = to_i64("document sequence", doc.sequence)?;
        let expected = to_i64("expected series number", append.expected_last)?;
        let taken = if doc.sequence != append.expected_last.saturating_add(1) {
            0
        } else if append.expected_last == 0 {
            tx.prepare_cached(
                "INSERT INTO invoice_series (series, last_number) VALUES (?1, ?2) \
                 ON CONFLICT (series) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![doc.series, next]))
            .map_err(store_error("taking an invoice number"))?
        } else {
            tx.prepare_cached(
                "UPDATE invoice_series SET last_number = ?2 WHERE series = ?1 AND last_number = ?3",
            )
            .and_then(|mut s| s.execute(params![doc.series, next, expected]))
            .map_err(store_error("taking an invoice number"))?
        };
        if taken == 0 {
            return Err(StoreError::Conflict {
                aggregate: format!("invoice series {}", doc.series),
                expected: append.expected_last,
                actual: series_last(tx, &doc.series)?,
            });
        }
        let (secs, nanos) = time_key(&doc.issued_at);
        let text = encode("invoice document", doc)?;
        let written = tx
            .prepare_cached(
                "INSERT INTO invoice_documents (number, series, sequence, kind, order_id, \
                 issued_secs, issued_nanos, document) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    doc.number,
                    doc.series,
                    next,
                    doc.kind.as_str(),
                    doc.order_id.as_str(),
                    secs,
                    nanos,
                    text
                ])
            })
            .map_err(store_error("saving an invoice document"))?;
        if written == 0 {
            return Err(StoreError::Conflict {
                aggregate: format!("document {}", doc.number),
                expected: 0,
                actual: 1,
            });
        }
    }
    Ok(())
}

/// Ends a group commit however it ends (a panic included): the next waiter may lead.
struct Leader<'a>(&'a SqliteStore);

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if let Ok(mut queue) = self.0.queue.lock() {
            queue.leading = false;
            queue.gathering.end();
        }
        self.0.decided.notify_all();
    }
}

fn queue_poisoned() -> StoreError {
    StoreError::Unavailable {
        reason: "SQLite commit queue poisoned by a panicking thread".to_string(),
    }
}

impl SqliteStore {
    /// Saves a group of change sets in one transaction, each inside its own savepoint
    /// (a refused one is rolled back alone), with one COMMIT (one sync), then decides
    /// every ticket: `Ok` only once the COMMIT returned.
    ///
    /// Gives the group back, for the caller to free once it no longer leads: freeing
    /// the change sets is no work for the write lock.
    ///
    /// With a `gathering` limit the group grows while it is applied: change sets queued
    /// meanwhile join the transaction, and once everything taken is applied the leader
    /// waits up to the limit for the last group's writers still out (see [`gather`]).
    fn commit_group(&self, mut group: Vec<Queued>, gathering: Option<Duration>) -> Vec<Queued> {
        if group.is_empty() {
            return group;
        }
        // Change sets whose submitters have not come to wait yet, packed before the
        // transaction begins.
        pack_unpacked(&mut group);
        let outcomes = self.apply_group(&mut group, gathering);
        for (queued, outcome) in group.iter_mut().zip(outcomes) {
            // Freed by its submitter, on the thread that allocated it.
            queued.ticket.give_back(std::mem::take(&mut queued.changes));
            queued.ticket.decide(outcome);
        }
        group
    }

    fn apply_group(
        &self,
        group: &mut Vec<Queued>,
        gathering: Option<Duration>,
    ) -> Vec<Result<(), StoreError>> {
        // Declared before the connection's guard, so dropped after it.
        let mut ahead = ReservedAhead::wanted(&self.ids);
        let mut conn = match self.lock() {
            Ok(conn) => conn,
            Err(e) => return group.iter().map(|_| Err(e.clone())).collect(),
        };
        let first = self.try_group(&mut conn, group, &mut ahead, Isolation::None(gathering));
        // However the first try ended, the group grows no more.
        self.stop_gathering();
        match first {
            Tried::Decided(outcomes) => outcomes,
            Tried::Refused(at, refusal) => {
                // Undone with the transaction; applied again, each change set in its
                // own savepoint, the refused one refused without being tried again.
                ahead.rolled_back();
                match self.try_group(
                    &mut conn,
                    group,
                    &mut ahead,
                    Isolation::Savepoints(at, refusal),
                ) {
                    Tried::Decided(outcomes) => outcomes,
                    // Savepoints roll a refusal back alone: cannot happen.
                    Tried::Refused(_, e) => group.iter().map(|_| Err(e.clone())).collect(),
                }
            }
        }
    }

    /// One try at saving `group` in one transaction (see [`Isolation`]).
    fn try_group(
        &self,
        conn: &mut Connection,
        group: &mut Vec<Queued>,
        ahead: &mut ReservedAhead<'_>,
        isolation: Isolation,
    ) -> Tried {
        let all = |e: StoreError| Tried::Decided(group.iter().map(|_| Err(e.clone())).collect());
        // IMMEDIATE takes the write lock up front, so the version checks below cannot
        // be overtaken by another connection before this transaction commits.
        let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return all(store_error("beginning a commit")(e)),
        };
        // The next blocks of ids, reserved in this commit rather than by a commit (and a
        // sync) of their own on the engine's path.
        ahead.reserve(&tx);
        let mut outcomes: Vec<Result<(), StoreError>> = Vec::with_capacity(group.len());
        {
            let mut st = match Statements::prepare(&tx) {
                Ok(st) => st,
                Err(e) => return all(e),
            };
            let mut at = 0;
            // When a gathering leader ran out of change sets first: it waits for more
            // up to its limit from then.
            let mut deadline = None;
            loop {
                let Some(queued) = group.get(at) else {
                    // Everything taken is applied: while gathering, the change sets
                    // queued since (waiting for them up to the deadline) join.
                    let Isolation::None(Some(limit)) = isolation else {
                        break;
                    };
                    let deadline = *deadline.get_or_insert_with(|| Instant::now() + limit);
                    let mut more = self.gather_more(deadline);
                    if more.is_empty() {
                        break;
                    }
                    pack_unpacked(&mut more);
                    group.append(&mut more);
                    continue;
                };
                let outcome = if predecessor_refused(queued, group, &outcomes) {
                    Err(CommitTicket::refused_after_predecessor())
                } else {
                    match &isolation {
                        Isolation::None(_) => match self.apply_straight(&tx, &mut st, queued) {
                            Straight::Saved => Ok(()),
                            Straight::Unwritten(e) => Err(e),
                            // Dropping `tx` rolls the whole group back.
                            Straight::Refused(e) => return Tried::Refused(at, e),
                        },
                        Isolation::Savepoints(refused, refusal) if *refused == at => {
                            Err(refusal.clone())
                        }
                        Isolation::Savepoints(..) => self.apply_in_savepoint(&tx, &mut st, queued),
                    }
                };
                outcomes.push(outcome);
                at += 1;
            }
        }
        if outcomes.iter().all(Result::is_err) {
            // Nothing to save: dropping `tx` rolls back.
            return Tried::Decided(outcomes);
        }
        // What the COMMIT (its sync) takes is what gathering may spend waiting for
        // writers to share it.
        let syncing = Instant::now();
        let committed = tx.commit();
        if let Ok(mut queue) = self.queue.lock() {
            queue.gathering.committed(syncing.elapsed());
        }
        if let Err(e) = committed {
            let e = store_error("committing")(e);
            return Tried::Decided(
                outcomes
                    .into_iter()
                    .map(|o| o.and(Err(e.clone())))
                    .collect(),
            );
        }
        ahead.durable = true;
        Tried::Decided(outcomes)
    }

    /// One change set straight into the group's transaction, without a savepoint of
    /// its own (see [`Isolation::None`]).
    fn apply_straight(
        &self,
        tx: &Transaction<'_>,
        st: &mut Statements<'_>,
        queued: &Queued,
    ) -> Straight {
        match &queued.packed {
            Some(Ok(packed)) => match self.apply(tx, st, &queued.changes, packed) {
                Ok(()) => Straight::Saved,
                Err(e) => Straight::Refused(e),
            },
            Some(Err(e)) => Straight::Unwritten(e.clone()),
            None => Straight::Unwritten(unpacked()),
        }
    }

    /// One change set, all or nothing, inside the group's transaction.
    fn apply_in_savepoint(
        &self,
        tx: &Transaction<'_>,
        st: &mut Statements<'_>,
        queued: &Queued,
    ) -> Result<(), StoreError> {
        st.savepoint
            .execute([])
            .map_err(store_error("beginning a change set"))?;
        let packed = match &queued.packed {
            Some(Ok(packed)) => Ok(packed),
            // Refused before anything of it was written: the savepoint is empty.
            Some(Err(e)) => Err(e.clone()),
            None => Err(unpacked()),
        };
        match packed.and_then(|packed| self.apply(tx, st, &queued.changes, packed)) {
            Ok(()) => st
                .release
                .execute([])
                .map(drop)
                .map_err(store_error("ending a change set")),
            Err(e) => {
                st.rollback_to
                    .execute([])
                    .and_then(|_| st.release.execute([]))
                    .map_err(store_error("rolling a change set back"))?;
                Err(e)
            }
        }
    }

    fn apply(
        &self,
        tx: &Transaction<'_>,
        st: &mut Statements<'_>,
        changes: &ChangeSet,
        packed: &PackedSet,
    ) -> Result<(), StoreError> {
        write_orders(tx, st, &changes.orders, packed)?;
        write_stock(st, changes.stock.as_ref(), packed)?;
        write_idempotency(st, &changes.idempotency, packed)?;
        records::write_records(tx, &changes.records)?;
        write_documents(tx, &changes.documents)?;
        if self.take_failure() {
            // The savepoint rolls everything above back.
            return Err(StoreError::Unavailable {
                reason: "injected failure midway through a commit".to_string(),
            });
        }
        write_outbox(st, changes, packed)
    }
}

/// How [`SqliteStore::try_group`] applies a group's change sets.
///
/// A savepoint per change set makes SQLite copy, into a statement journal, every page
/// the change set changes that existed when it began: every page it touches but the
/// ones it adds, a fifth of the instructions of applying a place + confirm change set
/// (callgrind, one writer). Refusals are rare (a stale version, a key taken, an
/// injected failure), so a group is first applied without them, and only a group with
/// a refusal pays for them, once more.
enum Isolation {
    /// Straight into the transaction: the first refusal that wrote something ends the
    /// try ([`Tried::Refused`]), and the transaction is rolled back. With a limit,
    /// change sets queued meanwhile join the group, and once all are applied the
    /// leader waits for more up to the limit (see [`gather`]).
    None(Option<Duration>),
    /// Each change set in its own savepoint, so a refusal is rolled back alone; the
    /// change set at the index is refused with the error of the first try, without
    /// being applied again (the change sets before it are the same, so it would be
    /// refused again; an injected failure would not be).
    Savepoints(usize, StoreError),
}

/// What a try at saving a group came to.
enum Tried {
    /// Every change set's outcome (the transaction committed, or had nothing to save).
    Decided(Vec<Result<(), StoreError>>),
    /// Applied without savepoints, the change set at the index was refused after
    /// writing part of itself: the transaction was rolled back, nothing is decided.
    Refused(usize, StoreError),
}

/// One change set applied without a savepoint.
enum Straight {
    Saved,
    /// Refused before anything of it was written (its packing failed).
    Unwritten(StoreError),
    /// Refused midway: the transaction holds part of it.
    Refused(StoreError),
}

/// Packs the change sets of `group` still unpacked (their submitters have not come to
/// wait yet).
fn pack_unpacked(group: &mut [Queued]) {
    for queued in group.iter_mut().filter(|q| q.packed.is_none()) {
        queued.packed = Some(PackedSet::pack(&queued.changes));
    }
}

fn unpacked() -> StoreError {
    StoreError::Unavailable {
        reason: "a change set reached its commit unpacked (a bug in the SQLite store)".to_string(),
    }
}

/// True when `queued` was submitted after a change set that was refused (decided
/// earlier, or earlier in this group): it was decided on state that was never saved.
fn predecessor_refused(
    queued: &Queued,
    group: &[Queued],
    outcomes: &[Result<(), StoreError>],
) -> bool {
    let Some(after) = &queued.after else {
        return false;
    };
    if let Some(outcome) = after.outcome() {
        return outcome.is_err();
    }
    // Undecided: it is earlier in this group (it was submitted first). Not found
    // cannot happen; refusing is the safe answer.
    group
        .iter()
        .zip(outcomes)
        .find(|(earlier, _)| earlier.ticket.same(after))
        .is_none_or(|(_, outcome)| outcome.is_err())
}

impl SqliteStore {
    /// Packs the change set behind `ticket`, if it is still queued unpacked and no
    /// other thread is packing it, outside the queue's lock, and puts it back; returns
    /// the queue locked again. A leader takes no change set from one being packed on.
    fn pack_queued<'q>(
        &'q self,
        mut queue: MutexGuard<'q, CommitQueue>,
        ticket: &CommitTicket,
    ) -> Result<MutexGuard<'q, CommitQueue>, StoreError> {
        let Some(own) = queue
            .waiting
            .iter_mut()
            .find(|q| q.ticket.same(ticket) && q.packed.is_none() && !q.packing)
        else {
            return Ok(queue);
        };
        own.packing = true;
        let changes = std::mem::take(&mut own.changes);
        drop(queue);
        let packed = PackedSet::pack(&changes);
        queue = self.queue.lock().map_err(|_| queue_poisoned())?;
        // Whether a change set ahead of this one is being packed too.
        let mut packing_ahead = false;
        let Some(own) = queue.waiting.iter_mut().find(|q| {
            let own = q.ticket.same(ticket);
            packing_ahead |= !own && q.packing;
            own
        }) else {
            ticket.decide(Err(StoreError::Unavailable {
                reason: "a change set left the commit queue while it was packed \
                         (a bug in the SQLite store)"
                    .to_string(),
            }));
            self.decided.notify_all();
            return Ok(queue);
        };
        own.changes = changes;
        own.packed = Some(packed);
        own.packing = false;
        let submitter = own.submitter;
        if queue.gathering.arrived(submitter) {
            self.gathered.notify_one();
        }
        // Waiters held by this change set (no group being committed, and none packed
        // ahead of it: the queue's head was not ready) may lead now. Otherwise nobody
        // waits for it: the group being committed wakes every waiter when it ends, and
        // waking them all here, once a change set, was most of the store's context
        // switches with 8 writers.
        if !queue.leading && !packing_ahead {
            self.decided.notify_all();
        }
        Ok(queue)
    }

    /// While a leader gathers (see [`gather`]): takes the change sets queued since its
    /// group was taken, up to the first one still being packed, waiting for them until
    /// `deadline` while an awaited writer has not arrived. Empty when nothing is ready
    /// and the gathering is over.
    ///
    /// What is ready joins even past the deadline (taking it is cheaper than leaving it
    /// for the next sync: measured, stopping at the deadline lost the gain). The group
    /// cannot grow for ever: a writer waits for its change set's outcome before it
    /// submits another, and a pipelined batch call keeps at most two in flight, so a
    /// group holds at most about two change sets a thread.
    fn gather_more(&self, deadline: Instant) -> Vec<Queued> {
        let Ok(mut queue) = self.queue.lock() else {
            return Vec::new();
        };
        loop {
            let ready = queue
                .waiting
                .iter()
                .position(|q| q.packing)
                .unwrap_or(queue.waiting.len());
            if ready > 0 {
                let more: Vec<Queued> = queue.waiting.drain(..ready).collect();
                queue.gathering.taken_more(more.iter().map(|q| q.submitter));
                return more;
            }
            let now = Instant::now();
            if !queue.gathering.waiting() || now >= deadline {
                queue.gathering.end();
                return Vec::new();
            }
            queue = match self.gathered.wait_timeout(queue, deadline - now) {
                Ok((queue, _)) => queue,
                Err(_) => return Vec::new(),
            };
        }
    }

    /// Ends a gathering however the group's first try ended.
    fn stop_gathering(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.gathering.end();
        }
    }

    /// Reserves `size` ids of `kind` in the database, in a transaction of its own, and
    /// returns the first.
    fn reserve_ids(&self, kind: &str, size: u64) -> Result<u64, StoreError> {
        let conn = self.lock()?;
        reserve_ids_on(&conn, kind, size)
    }
}

/// Reserves `size` ids of `kind` on `conn` (in its transaction, if one is open) and
/// returns the first.
fn reserve_ids_on(conn: &Connection, kind: &str, size: u64) -> Result<u64, StoreError> {
    let size = to_i64("id block size", size)?;
    let first: i64 = conn
        .prepare_cached(
            "INSERT INTO id_blocks (kind, next_value) VALUES (?1, 1 + ?2) \
             ON CONFLICT (kind) DO UPDATE SET next_value = next_value + ?2 \
             RETURNING next_value - ?2",
        )
        .and_then(|mut s| s.query_row(params![kind, size], |r| r.get(0)))
        .map_err(store_error("reserving a block of ids"))?;
    to_u64("id block", first)
}

/// Id blocks a group's transaction reserves ahead ([`IdBlocks::wanted`]): handed over
/// when it is dropped if the transaction was committed, given up otherwise (a panic
/// included).
///
/// Lock order: [`IdBlocks`] is never locked while the writing connection is held
/// (`next_id` holds the first while it waits for the second), so the requests are taken
/// before the connection is locked, and this is dropped after the connection's guard.
struct ReservedAhead<'a> {
    ids: &'a IdBlocks,
    /// The requests taken, (kind, size).
    wanted: Vec<(String, u64)>,
    /// Reserved in the transaction: (kind, first, size).
    blocks: Vec<(String, u64, u64)>,
    /// Set once the transaction committed.
    durable: bool,
}

impl<'a> ReservedAhead<'a> {
    /// Takes the blocks `ids` wants reserved ahead (call before locking the connection).
    fn wanted(ids: &'a IdBlocks) -> Self {
        ReservedAhead {
            ids,
            wanted: ids.wanted(),
            blocks: Vec::new(),
            durable: false,
        }
    }

    /// The blocks reserved in a transaction that was rolled back are wanted again, for
    /// the next try.
    fn rolled_back(&mut self) {
        for (kind, _, size) in self.blocks.drain(..) {
            self.wanted.push((kind, size));
        }
    }

    /// Reserves the wanted blocks inside `tx`. A reservation that fails stays wanted and
    /// is given up when this is dropped (its ids are then reserved in place when
    /// needed); the group goes on.
    fn reserve(&mut self, tx: &Transaction<'_>) {
        let mut failed = Vec::new();
        for (kind, size) in std::mem::take(&mut self.wanted) {
            match reserve_ids_on(tx, &kind, size) {
                Ok(first) => self.blocks.push((kind, first, size)),
                Err(_) => failed.push((kind, size)),
            }
        }
        self.wanted = failed;
    }
}

impl Drop for ReservedAhead<'_> {
    fn drop(&mut self) {
        for (kind, _) in self.wanted.drain(..) {
            self.ids.abandon(&kind);
        }
        for (kind, first, size) in self.blocks.drain(..) {
            if self.durable {
                self.ids.reserved_ahead(&kind, first, size);
            } else {
                self.ids.abandon(&kind);
            }
        }
    }
}

/// Order ids from blocks of a persistent sequence: unique across restarts and across
/// processes sharing the file, `"{kind}-{n:06}"` like [`ordersmith::ports::memory::SequentialIds`].
/// The next block of a kind is reserved ahead inside a group's transaction (see
/// [`IdBlocks`]), so a bulk import does not stop for a commit of its own every block.
impl IdGenerator for SqliteStore {
    fn next_id(&self, kind: &str) -> Result<String, StoreError> {
        self.ids
            .next_id(kind, |kind, size| self.reserve_ids(kind, size))
    }
}

impl Store for SqliteStore {
    fn load_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let conn = self.reader()?;
        let row: Option<(Doc, Option<Doc>)> = conn
            .prepare_cached(concat!(
                "SELECT ",
                order_columns!(),
                " FROM orders WHERE id = ?1"
            ))
            .and_then(|mut s| {
                s.query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(store_error("loading an order"))?;
        row.map(|(snapshot, placed)| order_from_row(id.as_str(), &snapshot, placed.as_ref()))
            .transpose()
    }

    fn order_events(&self, id: &OrderId) -> Result<Vec<OrderEventRecord>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT record FROM order_events WHERE order_id = ?1 ORDER BY version")
            .map_err(store_error("loading events"))?;
        let docs = stmt
            .query_map([id.as_str()], |r| r.get::<_, Doc>(0).map(|d| d.0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(store_error("loading events"))?;
        docs.iter().map(|d| decode("event record", d)).collect()
    }

    fn query_orders(&self, query: &OrderQuery) -> Result<Vec<Order>, StoreError> {
        let mut sql = String::from(concat!(
            "SELECT ",
            order_columns!(),
            ", id FROM orders WHERE 1 = 1"
        ));
        let mut args: Vec<Value> = Vec::new();
        if let Some(status) = query.status {
            args.push(Value::Text(status.as_str().to_string()));
            sql.push_str(&format!(" AND status = ?{}", args.len()));
        }
        if let Some(channel) = &query.channel {
            args.push(Value::Text(channel.as_str().to_string()));
            sql.push_str(&format!(" AND channel = ?{}", args.len()));
        }
        for (bound, op) in [(query.placed_from, ">="), (query.placed_to, "<")] {
            if let Some(t) = bound {
                let (secs, nanos) = time_key(&t);
                args.push(Value::Integer(secs));
                args.push(Value::Integer(nanos));
                sql.push_str(&format!(
                    " AND (placed_secs, placed_nanos) {op} (?{}, ?{})",
                    args.len() - 1,
                    args.len()
                ));
            }
        }
        if let Some(cursor) = &query.after {
            // Keyset paging in the listing order; `id` compares as bytes (BINARY).
            let (secs, nanos) = time_key(&cursor.placed_at);
            args.push(Value::Integer(secs));
            args.push(Value::Integer(nanos));
            args.push(Value::Text(cursor.id.as_str().to_string()));
            sql.push_str(&format!(
                " AND (placed_secs, placed_nanos, id) > (?{}, ?{}, ?{})",
                args.len() - 2,
                args.len() - 1,
                args.len()
            ));
        }
        args.push(Value::Integer(clamp_i64(query.effective_limit())));
        args.push(Value::Integer(clamp_i64(query.offset)));
        sql.push_str(&format!(
            " ORDER BY placed_secs, placed_nanos, id LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        ));
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&sql)
            .map_err(store_error("querying orders"))?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((
                    r.get::<_, Doc>(0)?,
                    r.get::<_, Option<Doc>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(store_error("querying orders"))?;
        rows.iter()
            .map(|(snapshot, placed, id)| order_from_row(id, snapshot, placed.as_ref()))
            .collect()
    }

    fn customer_order_count(
        &self,
        customer_key: &str,
        until: DateTime<Utc>,
        except: &OrderId,
    ) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        let (secs, nanos) = time_key(&until);
        // `orders_by_customer` (migration 10): the customer's orders alone are read.
        let count: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM orders WHERE customer_key = ?1 \
                 AND (placed_secs < ?2 OR (placed_secs = ?2 AND placed_nanos <= ?3)) \
                 AND id <> ?4",
            )
            .and_then(|mut s| {
                s.query_row(params![customer_key, secs, nanos, except.as_str()], |r| {
                    r.get(0)
                })
            })
            .map_err(store_error("counting a customer's orders"))?;
        to_u64("a customer's order count", count)
    }

    fn idempotency_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let conn = self.reader()?;
        let row: Option<(Doc, String, i64)> = conn
            .prepare_cached(
                "SELECT fingerprint, order_id, order_version FROM idempotency_records WHERE key = ?1",
            )
            .and_then(|mut s| {
                s.query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
            })
            .map_err(store_error("reading an idempotency key"))?;
        row.map(|(fingerprint, order_id, version)| {
            idempotency(key.to_string(), fingerprint.0, order_id, version)
        })
        .transpose()
    }

    fn idempotency_records_for(&self, keys: &[&str]) -> Result<Vec<IdempotencyRecord>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // The keys as one JSON array bound to one parameter: one statement whatever
        // their number (SQLite limits bound parameters, not a parameter's length).
        let list = serde_json::to_string(keys).map_err(|e| StoreError::Unavailable {
            reason: format!("listing idempotency keys to read: {e}"),
        })?;
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, fingerprint, order_id, order_version FROM idempotency_records \
                 WHERE key IN (SELECT value FROM json_each(?1))",
            )
            .map_err(store_error("reading idempotency keys"))?;
        let rows = stmt
            .query_map([list], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Doc>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(store_error("reading idempotency keys"))?;
        rows.into_iter()
            .map(|(key, fingerprint, order_id, version)| {
                idempotency(key, fingerprint.0, order_id, version)
            })
            .collect()
    }

    fn stock_log_since(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StockLogEntry>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT entry FROM stock_log WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(store_error("reading the stock log"))?;
        let docs = stmt
            .query_map(
                params![to_i64("stock log seq", after_seq)?, clamp_i64(limit)],
                |r| r.get::<_, Doc>(0).map(|d| d.0),
            )
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(store_error("reading the stock log"))?;
        docs.iter().map(|d| decode("stock log entry", d)).collect()
    }

    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let ticket = self.submit(changes, None);
        self.wait(&ticket)
    }

    fn commits_in_groups(&self) -> bool {
        true
    }

    fn submit(&self, changes: ChangeSet, after: Option<&CommitTicket>) -> CommitTicket {
        // Queued as it is: packed in `wait`, after the engine released its writer.
        let ticket = CommitTicket::pending();
        match self.queue.lock() {
            Ok(mut queue) => queue.waiting.push(Queued {
                changes,
                packed: None,
                packing: false,
                ticket: ticket.clone(),
                after: after.cloned(),
                submitter: std::thread::current().id(),
            }),
            Err(_) => return CommitTicket::done(Err(queue_poisoned())),
        }
        ticket
    }

    /// Packs the change set behind `ticket` here if it is still queued unpacked (see
    /// [`Store::prepare`]); a pipelined batch call packs a batch while the committing
    /// thread is busy with earlier ones.
    fn prepare(&self, ticket: &CommitTicket) {
        // Only while a group is being committed: otherwise the thread that waits for
        // the ticket is free to pack it, and this one to go on deciding. (A poisoned
        // queue is reported by `wait`.)
        if let Ok(queue) = self.queue.lock() {
            if queue.leading {
                drop(self.pack_queued(queue, ticket));
            }
        }
    }

    fn wait(&self, ticket: &CommitTicket) -> Result<(), StoreError> {
        let mut queue = self.queue.lock().map_err(|_| queue_poisoned())?;
        loop {
            if let Some(outcome) = ticket.outcome() {
                return outcome;
            }
            // Its own change set, still queued and unpacked, is packed here, beside
            // the group being committed, and put back.
            if queue
                .waiting
                .iter()
                .any(|q| q.ticket.same(ticket) && q.packed.is_none() && !q.packing)
            {
                queue = self.pack_queued(queue, ticket)?;
                continue;
            }
            let ready = queue
                .waiting
                .iter()
                .position(|q| q.packing)
                .unwrap_or(queue.waiting.len());
            if queue.leading || (ready == 0 && !queue.waiting.is_empty()) {
                // A group is being committed, or the next change set is being packed by
                // its submitter: both signal when done.
                queue = self.decided.wait(queue).map_err(|_| queue_poisoned())?;
                continue;
            }
            // No group is being committed: this thread commits everything queued up to
            // the first change set still being packed, its own among it, and what the
            // last group's writers queue while it applies that (see `gather`).
            queue.leading = true;
            let group: Vec<Queued> = queue.waiting.drain(..ready).collect();
            // An in-memory database has no sync to share, and its reads wait for the
            // writing connection: it never gathers.
            let gathering = match &mut *queue {
                CommitQueue { .. } if self.path.is_none() => None,
                CommitQueue {
                    waiting, gathering, ..
                } => gathering.begin(|thread| {
                    group
                        .iter()
                        .chain(waiting.iter())
                        .any(|q| q.submitter == thread)
                }),
            };
            queue.gathering.taken(group.iter().map(|q| q.submitter));
            drop(queue);
            let empty = group.is_empty();
            let decided = {
                let _leader = Leader(self);
                self.commit_group(group, gathering)
            };
            drop(decided);
            if empty && ticket.outcome().is_none() {
                return Err(StoreError::Unavailable {
                    reason: "waited for a change set this store was never handed".to_string(),
                });
            }
            queue = self.queue.lock().map_err(|_| queue_poisoned())?;
        }
    }

    fn order_ids(&self, after: Option<&OrderId>, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT id FROM orders WHERE id > ?1 ORDER BY id LIMIT ?2")
            .map_err(store_error("listing orders"))?;
        let ids = stmt
            .query_map(
                params![after.map_or("", |a| a.as_str()), clamp_i64(limit)],
                |r| r.get::<_, String>(0),
            )
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(store_error("listing orders"))?;
        ids.into_iter()
            .map(|id| {
                OrderId::parse(id).map_err(|e| StoreError::Corrupt {
                    reason: format!("stored order id is invalid: {e}"),
                })
            })
            .collect()
    }

    fn idempotency_records(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IdempotencyRecord>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, fingerprint, order_id, order_version FROM idempotency_records \
                 WHERE key > ?1 ORDER BY key LIMIT ?2",
            )
            .map_err(store_error("listing idempotency keys"))?;
        let rows = stmt
            .query_map(params![after.unwrap_or(""), clamp_i64(limit)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Doc>(1)?.0,
                    r.get(2)?,
                    r.get(3)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(store_error("listing idempotency keys"))?;
        rows.into_iter()
            .map(|(key, fingerprint, order_id, version)| {
                idempotency(key, fingerprint, order_id, version)
            })
            .collect()
    }

    fn keyed_record(&self, namespace: &str, key: &str) -> Result<Option<KeyedRecord>, StoreError> {
        records::read_record(&*self.reader()?, namespace, key)
    }

    fn keyed_records(
        &self,
        namespace: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KeyedRecord>, StoreError> {
        records::read_records(&*self.reader()?, namespace, after, limit)
    }

    fn record_namespaces(&self) -> Result<Vec<String>, StoreError> {
        records::namespaces(&*self.reader()?)
    }

    fn document_series_last(&self, series: &str) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        series_last(&conn, series)
    }

    fn load_document(&self, number: &str) -> Result<Option<InvoiceDocument>, StoreError> {
        Ok(self
            .documents_where(
                "SELECT document FROM invoice_documents WHERE number = ?1",
                &[&number],
            )?
            .pop())
    }

    fn order_documents(&self, order: &OrderId) -> Result<Vec<InvoiceDocument>, StoreError> {
        self.documents_where(
            "SELECT document FROM invoice_documents WHERE order_id = ?1 \
             ORDER BY issued_secs, issued_nanos, kind = 'credit_note', sequence",
            &[&order.as_str()],
        )
    }

    fn documents(
        &self,
        after: Option<(&str, u64)>,
        limit: usize,
    ) -> Result<Vec<InvoiceDocument>, StoreError> {
        let (series, sequence) = after.unwrap_or(("", 0));
        let sequence = to_i64("document sequence", sequence)?;
        self.documents_where(
            "SELECT document FROM invoice_documents \
             WHERE series > ?1 OR (series = ?1 AND sequence > ?2) \
             ORDER BY series, sequence LIMIT ?3",
            &[&series, &sequence, &clamp_i64(limit)],
        )
    }
}

impl SqliteStore {
    fn documents_where(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<InvoiceDocument>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(sql)
            .map_err(store_error("reading invoice documents"))?;
        let docs = stmt
            .query_map(args, |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(store_error("reading invoice documents"))?;
        docs.iter().map(|d| decode("invoice document", d)).collect()
    }
}

fn idempotency(
    key: String,
    fingerprint: String,
    order_id: String,
    version: i64,
) -> Result<IdempotencyRecord, StoreError> {
    Ok(IdempotencyRecord {
        key,
        fingerprint: fingerprint.into(),
        order_id: OrderId::parse(order_id).map_err(|e| StoreError::Corrupt {
            reason: format!("idempotency record names an invalid order id: {e}"),
        })?,
        order_version: to_u64("idempotency order version", version)?,
    })
}

impl Outbox for SqliteStore {
    fn pending(&self, limit: usize) -> Result<Vec<OutboxRecord>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT o.record, e.record, o.id, o.topic, o.aggregate_id, o.payload_event \
                 FROM outbox o LEFT JOIN order_events e \
                 ON o.payload_event IS NOT NULL AND e.order_id = o.aggregate_id \
                 AND e.version = o.payload_event ORDER BY o.seq LIMIT ?1",
            )
            .map_err(store_error("reading the outbox"))?;
        let rows = stmt
            .query_map([clamp_i64(limit)], |r| {
                Ok((
                    r.get::<_, Doc>(0)?.0,
                    r.get::<_, Option<Doc>>(1)?,
                    (
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                    ),
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(store_error("reading the outbox"))?;
        rows.into_iter()
            .map(|(doc, event, (id, topic, aggregate_id, payload_event))| {
                match (doc.is_empty(), event, payload_event) {
                    // An announcement (migration 7): the row and its event say it all.
                    (true, Some(event), Some(version)) => OutboxRecord::from_stored_announcement(
                        id,
                        topic,
                        aggregate_id,
                        to_u64("event version", version)?,
                        event.0,
                    ),
                    (true, _, _) => Err(StoreError::Corrupt {
                        reason: format!(
                            "outbox record {id:?} has no document and names no saved event"
                        ),
                    }),
                    (false, event, _) => {
                        let mut record: OutboxRecord = decode("outbox record", &doc)?;
                        if let Some(event) = event {
                            record.payload_json = event.0;
                        }
                        Ok(record)
                    }
                }
            })
            .collect()
    }

    fn acknowledge(&self, id: &str) -> Result<bool, StoreError> {
        let conn = self.lock()?;
        let removed = conn
            .prepare_cached("DELETE FROM outbox WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(store_error("acknowledging an outbox record"))?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(id: &str, topic: &str, aggregate: &str, payload: &str, nanos: u32) -> OutboxRecord {
        OutboxRecord {
            id: id.to_string(),
            topic: topic.to_string(),
            aggregate_id: aggregate.to_string(),
            aggregate_version: u64::from(nanos % 7),
            created_at: DateTime::from_timestamp(1_790_000_000, nanos).unwrap_or_default(),
            payload_json: payload.to_string(),
        }
    }

    proptest! {
        /// The borrowed form the store writes serialises exactly as an `OutboxRecord`
        /// does, so a stored record reads back as the record that was written.
        #[test]
        fn outbox_doc_serialises_as_outbox_record(
            id in ".{0,40}",
            topic in ".{0,20}",
            aggregate in ".{0,30}",
            payload in ".{0,80}",
            nanos in 0u32..1_000_000_000,
        ) {
            let record = record(&id, &topic, &aggregate, &payload, nanos);
            let doc = OutboxDoc {
                id: &record.id,
                topic: &record.topic,
                aggregate_id: &record.aggregate_id,
                aggregate_version: record.aggregate_version,
                created_at: &record.created_at,
                payload_json: &record.payload_json,
            };
            prop_assert_eq!(
                serde_json::to_string(&doc).unwrap(),
                serde_json::to_string(&record).unwrap()
            );
        }
    }

    /// An announcement's id is written as `OutboxRecord::for_order_event` names it.
    #[test]
    fn announcement_ids_match_the_ports_naming() {
        let order = OrderId::parse("order-000042").unwrap();
        let doc = OutboxDoc {
            id: AnnouncementId(&order, 7),
            topic: "order.placed",
            aggregate_id: order.as_str(),
            aggregate_version: 7,
            created_at: &DateTime::<Utc>::default(),
            payload_json: "",
        };
        let expected = record("order-000042:7", "order.placed", "order-000042", "", 0);
        let expected = OutboxRecord {
            aggregate_version: 7,
            created_at: DateTime::<Utc>::default(),
            ..expected
        };
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }
}

#[cfg(test)]
mod gathering_tests {
    use super::*;
    use std::sync::Arc;

    fn counts(store: &SqliteStore) -> gather::GatherCounts {
        store.queue.lock().unwrap().gathering.counts
    }

    /// A file store whose leaders wait up to 30 s for the last group's writers: long
    /// enough that only a writer's arrival can end a wait.
    fn patient_store(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
        let store = Arc::new(SqliteStore::open(dir.path().join("shop.db")).unwrap());
        store.queue.lock().unwrap().gathering.fixed_limit = Some(Duration::from_secs(30));
        store
    }

    /// Commits `changes` on another thread, which leads a group, and returns once that
    /// leader is waiting for the writer of the group before (this thread).
    fn lead_and_gather(
        store: &Arc<SqliteStore>,
        changes: ChangeSet,
    ) -> std::thread::JoinHandle<Result<(), StoreError>> {
        let leader = {
            let store = store.clone();
            std::thread::spawn(move || store.commit(changes))
        };
        let started = Instant::now();
        while !store.queue.lock().unwrap().gathering.waiting() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "never gathered"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        leader
    }

    /// A leader whose last group's writer has not queued again waits for it inside its
    /// transaction, and that writer's change set is saved by the same COMMIT.
    #[test]
    fn a_leader_waits_for_the_last_groups_writer_and_saves_its_change_set_too() {
        let dir = tempfile::tempdir().unwrap();
        let store = patient_store(&dir);
        store.commit(ChangeSet::default()).unwrap();
        let leader = lead_and_gather(&store, ChangeSet::default());
        let arrived = Instant::now();
        store.commit(ChangeSet::default()).unwrap();
        leader.join().unwrap().unwrap();
        // Woken by the writer's arrival, not by the end of its limit.
        assert!(arrived.elapsed() < Duration::from_secs(20));
        let counts = counts(&store);
        assert_eq!(
            (
                counts.groups,
                counts.change_sets,
                counts.waits,
                counts.joined,
                counts.vain
            ),
            (2, 3, 1, 1, 0),
            "{counts:?}"
        );
    }

    /// A change set that joins a gathering group and is refused there is refused
    /// alone: the group is applied again with savepoints, and the leader's own change
    /// set is saved.
    #[test]
    fn a_refusal_among_gathered_change_sets_refuses_only_itself() {
        use ordersmith_store_conformance::fixtures;
        let placed = |id: &str| ChangeSet {
            orders: vec![fixtures::new_order_change(id, "web", fixtures::start())],
            ..ChangeSet::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = patient_store(&dir);
        store.commit(placed("o-1")).unwrap();
        let leader = lead_and_gather(&store, placed("o-2"));
        // o-1 again: a stale new order, refused after the leader's o-2 was applied.
        let refused = store.commit(placed("o-1"));
        assert!(
            matches!(refused, Err(StoreError::Conflict { .. })),
            "{refused:?}"
        );
        leader.join().unwrap().unwrap();
        let counts = counts(&store);
        assert_eq!((counts.groups, counts.joined), (2, 1), "{counts:?}");
        for id in ["o-1", "o-2"] {
            let order = store.load_order(&OrderId::parse(id).unwrap()).unwrap();
            assert_eq!(order.map(|o| o.version), Some(1), "{id}");
        }
    }

    /// A lone writer commits group after group without ever waiting.
    #[test]
    fn a_lone_writer_never_waits() {
        let dir = tempfile::tempdir().unwrap();
        let store = patient_store(&dir);
        for _ in 0..20 {
            store.commit(ChangeSet::default()).unwrap();
        }
        let counts = counts(&store);
        assert_eq!((counts.groups, counts.waits), (20, 0), "{counts:?}");
    }

    /// An in-memory database has no sync to share: it never gathers.
    #[test]
    fn an_in_memory_database_never_gathers() {
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        store.queue.lock().unwrap().gathering.fixed_limit = Some(Duration::from_secs(30));
        store.commit(ChangeSet::default()).unwrap();
        let other = store.clone();
        std::thread::spawn(move || other.commit(ChangeSet::default()))
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(counts(&store).waits, 0);
    }
}
