//! # ordersmith-postgres
//!
//! The store for shops that outgrow one process: [`ordersmith::ports::Store`] and
//! [`ordersmith::ports::Outbox`] on PostgreSQL, shared by several processes.
//!
//! - **Version-checked saves.** An order is written with `UPDATE ... WHERE id = $1 AND
//!   version = $2` (or inserted under its primary key for a new one): a stale save is a
//!   [`StoreError::Conflict`], never a silent overwrite, whichever process made it.
//! - **One transaction per [`ChangeSet`]**, at READ COMMITTED: every write is
//!   conditional on the version the caller read, so the stronger levels would only add
//!   serialization failures to retry without preventing anything more (ADR 0003).
//!   Orders are written in id order so two multi-order saves cannot deadlock.
//! - **One round trip per commit** for the change sets the engine makes most: the
//!   statements run on the server in one call of `ordersmith_commit` (migration 7,
//!   ADR 0014); a check that fails there writes nothing, and the change set is then
//!   committed statement by statement, which names what was stale or taken.
//! - **An outbox several workers drain**: [`PgStore::claim_pending`] leases records
//!   with `FOR UPDATE SKIP LOCKED`, so two workers never hold the same record; the
//!   port's `pending` stays at-least-once.
//! - **Versioned schema** applied on connect under an advisory lock; a newer schema is
//!   refused with [`OpenError::SchemaTooNew`].
//! - **A small pool** of synchronous clients (`postgres` 0.19), each with its statements
//!   prepared once.
//!
//! ```no_run
//! use ordersmith_postgres::{PgOptions, PgStore};
//! let store = PgStore::connect("host=127.0.0.1 user=postgres dbname=shop", PgOptions::default())?;
//! # Ok::<(), ordersmith_postgres::OpenError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod pool;
mod records;
mod schema;
mod statements;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ordersmith::ids::{OrderId, VariantId};
use ordersmith::invoice::InvoiceDocument;
use ordersmith::order::{Order, OrderEventRecord};
use ordersmith::ports::{
    ChangeSet, DocumentAppend, IdBlocks, IdGenerator, IdempotencyRecord, KeyedRecord, OrderChange,
    OrderQuery, Outbox, OutboxRecord, OutboxWrite, StockAppend, StockCursor, StockPlace, StockSink,
    Store, StoreError,
};
use ordersmith::stock::{StockCommand, StockLogEntry};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{NoTls, Transaction};

use pool::{Conn, Pool, Pooled};
pub use schema::{Migration, MIGRATIONS};
use statements::Statements;

/// Why a store could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The connection string could not be parsed.
    #[error("invalid PostgreSQL connection string: {reason}")]
    Config {
        /// Why.
        reason: String,
    },
    /// The schema name is not a plain lower-case identifier.
    #[error("invalid schema name {schema:?}: use lower-case letters, digits and _ (at most 63)")]
    InvalidSchema {
        /// The name given.
        schema: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to PostgreSQL: {reason}")]
    Connect {
        /// Why.
        reason: String,
    },
    /// The database was migrated by a newer version of this crate.
    #[error("database schema version {found} is newer than this ordersmith-postgres knows ({supported}): upgrade the code")]
    SchemaTooNew {
        /// The schema version found.
        found: i64,
        /// The newest version this code knows.
        supported: i64,
    },
    /// Applying a migration failed; nothing of it was kept.
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
        "PG_CONFIG_INVALID",
        "PG_SCHEMA_NAME_INVALID",
        "PG_CONNECT_FAILED",
        "PG_SCHEMA_TOO_NEW",
        "PG_MIGRATION_FAILED",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config { .. } => "PG_CONFIG_INVALID",
            Self::InvalidSchema { .. } => "PG_SCHEMA_NAME_INVALID",
            Self::Connect { .. } => "PG_CONNECT_FAILED",
            Self::SchemaTooNew { .. } => "PG_SCHEMA_TOO_NEW",
            Self::Migration { .. } => "PG_MIGRATION_FAILED",
        }
    }
}

/// Tuning for [`PgStore::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The schema holding the tables (created if missing); `None` uses the server's
    /// `search_path` (normally `public`). One database can hold several shops, or
    /// several test runs, each in its own schema.
    pub schema: Option<String>,
    /// Most connections open at once.
    pub pool_size: usize,
    /// How long a call waits for a free connection before [`StoreError::Unavailable`].
    pub checkout_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: None,
            pool_size: 8,
            checkout_timeout: Duration::from_secs(10),
        }
    }
}

/// A [`Store`] and [`Outbox`] on PostgreSQL.
pub struct PgStore {
    config: postgres::Config,
    schema: Option<String>,
    pool: Pool,
    fail_commits: AtomicU32,
    ids: IdBlocks,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

impl PgStore {
    /// Connects to the database in `conninfo` (`host=... user=... dbname=...` or a
    /// `postgresql://` URL), creates the schema if asked, and migrates it.
    pub fn connect(conninfo: &str, options: PgOptions) -> Result<Self, OpenError> {
        let config: postgres::Config =
            conninfo
                .parse()
                .map_err(|e: postgres::Error| OpenError::Config {
                    reason: e.to_string(),
                })?;
        if let Some(schema) = &options.schema {
            if !valid_schema(schema) {
                return Err(OpenError::InvalidSchema {
                    schema: schema.clone(),
                });
            }
        }
        let mut client = config.connect(NoTls).map_err(|e| OpenError::Connect {
            reason: e.to_string(),
        })?;
        schema::migrate(&mut client, options.schema.as_deref())?;
        let store = PgStore {
            ids: IdBlocks::default(),
            config,
            schema: options.schema,
            pool: Pool::new(options.pool_size, options.checkout_timeout),
            fail_commits: AtomicU32::new(0),
        };
        // Check the pool can prepare its statements now, not on the first call.
        drop(store.conn().map_err(|e| OpenError::Connect {
            reason: e.to_string(),
        })?);
        Ok(store)
    }

    /// The schema this store uses, if one was given.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The next `n` commits fail with [`StoreError::Unavailable`] *midway*: after the
    /// orders and idempotency keys were written inside the transaction and before the
    /// outbox, so tests prove the rollback leaves nothing partial.
    pub fn fail_next_commits(&self, n: u32) {
        self.fail_commits.store(n, Ordering::SeqCst);
    }

    /// Leases up to `limit` pending outbox records to `worker` for `lease`, oldest
    /// first, skipping records another worker holds (`FOR UPDATE SKIP LOCKED`) or has
    /// leased and whose lease has not expired.
    ///
    /// Contract: while a lease holds, no other `claim_pending` returns the record, so
    /// several workers never perform the same effect at once. The worker acknowledges
    /// each record after performing it ([`Outbox::acknowledge`]); a worker that dies
    /// lets its lease run out, and the record is claimed again (at-least-once overall).
    pub fn claim_pending(
        &self,
        worker: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let rows = client
            .query(
                &stmts.claim,
                &[&worker, &clamp_i64(limit), &lease.as_secs_f64()],
            )
            .map_err(store_error("claiming outbox records"))?;
        // In `seq` order (the statement sorts them).
        rows.iter()
            .map(|row| outbox_record(row, "reading a claim"))
            .collect()
    }

    fn conn(&self) -> Result<Pooled<'_>, StoreError> {
        self.pool.get(|| {
            let mut client = self
                .config
                .connect(NoTls)
                .map_err(store_error("connecting"))?;
            if let Some(schema) = &self.schema {
                // The name was validated as a plain identifier in `connect`.
                client
                    .batch_execute(&format!("SET search_path TO \"{schema}\""))
                    .map_err(store_error("selecting the schema"))?;
            }
            let stmts =
                Statements::prepare(&mut client).map_err(store_error("preparing statements"))?;
            Ok(Conn { client, stmts })
        })
    }

    fn failure_pending(&self) -> bool {
        self.fail_commits.load(Ordering::SeqCst) > 0
    }

    fn take_failure(&self) -> bool {
        self.fail_commits
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// Maps a PostgreSQL error to the port's error, with what was being done.
fn store_error(context: &'static str) -> impl Fn(postgres::Error) -> StoreError {
    move |e| {
        let detail = e.as_db_error().map_or_else(
            || e.to_string(),
            |db| format!("{}: {}", db.code().code(), db.message()),
        );
        match e.code() {
            // Serialization failures and deadlocks mean "someone else won": nothing was
            // saved, and reloading and retrying is the cure, exactly as for a conflict.
            // (Not raised at READ COMMITTED by our statements; CockroachDB and
            // SERIALIZABLE deployments raise 40001.)
            Some(code)
                if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                StoreError::Conflict {
                    aggregate: format!("transaction ({context}: {detail})"),
                    expected: 0,
                    actual: 0,
                }
            }
            Some(code)
                if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED =>
            {
                StoreError::Corrupt {
                    reason: format!("{context}: {detail}"),
                }
            }
            _ => StoreError::Unavailable {
                reason: format!("{context}: {detail}"),
            },
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
        reason: format!("{what} {n} is beyond what PostgreSQL's BIGINT stores"),
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

fn time_key(t: &DateTime<Utc>) -> (i64, i64) {
    (t.timestamp(), i64::from(t.timestamp_subsec_nanos()))
}

fn order_id(text: String) -> Result<OrderId, StoreError> {
    OrderId::parse(text).map_err(|e| StoreError::Corrupt {
        reason: format!("stored order id is invalid: {e}"),
    })
}

/// A change set's orders as columns for multi-row statements: the new orders first,
/// then the updates, each part in id order (so concurrent multi-order saves lock rows
/// in the same order), and every order's events.
#[derive(Default)]
struct OrderRows<'a> {
    ids: Vec<&'a str>,
    versions: Vec<i64>,
    statuses: Vec<&'a str>,
    channels: Vec<&'a str>,
    secs: Vec<i64>,
    nanos: Vec<i64>,
    docs: Vec<String>,
    /// The version each row must be at; 0 for a new order.
    expected: Vec<i64>,
    /// How many of the rows are new orders (they come first).
    new: usize,
    /// Each row's customer key ([`Order::customer_key`]); written for new orders.
    customers: Vec<Option<String>>,
    event_orders: Vec<&'a str>,
    event_versions: Vec<i64>,
    event_records: Vec<String>,
}

impl<'a> OrderRows<'a> {
    fn of(orders: &'a [OrderChange]) -> Result<Self, StoreError> {
        let mut sorted: Vec<&OrderChange> = orders.iter().collect();
        sorted.sort_by(|a, b| {
            (a.expected_version != 0, &a.snapshot.id)
                .cmp(&(b.expected_version != 0, &b.snapshot.id))
        });
        let events = sorted.iter().map(|c| c.events.len()).sum();
        let mut rows = OrderRows {
            event_orders: Vec::with_capacity(events),
            event_versions: Vec::with_capacity(events),
            event_records: Vec::with_capacity(events),
            ..OrderRows::default()
        };
        for change in sorted {
            let order = &change.snapshot;
            let id = order.id.as_str();
            let (secs, nanos) = time_key(&order.placed_at);
            rows.ids.push(id);
            rows.versions.push(to_i64("order version", order.version)?);
            rows.statuses.push(order.status.as_str());
            rows.channels.push(order.channel.as_str());
            rows.secs.push(secs);
            rows.nanos.push(nanos);
            rows.docs.push(encode("order snapshot", order)?);
            rows.expected
                .push(to_i64("expected version", change.expected_version)?);
            if change.expected_version == 0 {
                rows.new += 1;
                rows.customers.push(order.customer_key());
            } else {
                rows.customers.push(None);
            }
            for event in &change.events {
                rows.event_orders.push(id);
                rows.event_versions
                    .push(to_i64("event version", event.version)?);
                rows.event_records.push(encode("event record", &event)?);
            }
        }
        Ok(rows)
    }
}

/// Version-checked writes of each order's snapshot, then its events: the new orders in
/// one statement, one update alone, several updates locked and written together.
fn write_orders(
    tx: &mut Transaction<'_>,
    stmts: &Statements,
    rows: &OrderRows<'_>,
) -> Result<(), StoreError> {
    let k = rows.new;
    if k > 0 {
        let ids = rows.ids.get(..k).unwrap_or_default();
        let written = tx
            .query(
                &stmts.insert_orders,
                &[
                    &ids,
                    &rows.versions.get(..k).unwrap_or_default(),
                    &rows.statuses.get(..k).unwrap_or_default(),
                    &rows.channels.get(..k).unwrap_or_default(),
                    &rows.secs.get(..k).unwrap_or_default(),
                    &rows.nanos.get(..k).unwrap_or_default(),
                    &rows.docs.get(..k).unwrap_or_default(),
                    &rows.customers.get(..k).unwrap_or_default(),
                ],
            )
            .map_err(store_error("saving orders"))?;
        if written.len() != k {
            let written = texts(&written, "saving orders")?;
            let taken = first_unwritten(ids, &written);
            return Err(version_conflict(tx, stmts, taken, 0)?);
        }
    }
    let ids = rows.ids.get(k..).unwrap_or_default();
    let expected = rows.expected.get(k..).unwrap_or_default();
    if let ([id], [version], [status], [channel], [secs], [nanos], [doc], [expected]) = (
        ids,
        rows.versions.get(k..).unwrap_or_default(),
        rows.statuses.get(k..).unwrap_or_default(),
        rows.channels.get(k..).unwrap_or_default(),
        rows.secs.get(k..).unwrap_or_default(),
        rows.nanos.get(k..).unwrap_or_default(),
        rows.docs.get(k..).unwrap_or_default(),
        expected,
    ) {
        let written = tx
            .execute(
                &stmts.update_order,
                &[id, version, status, channel, secs, nanos, doc, expected],
            )
            .map_err(store_error("saving an order"))?;
        if written == 0 {
            let expected = to_u64("expected version", *expected)?;
            return Err(version_conflict(tx, stmts, id, expected)?);
        }
    } else if ids.len() > 1 {
        tx.query(&stmts.lock_orders, &[&ids])
            .map_err(store_error("locking orders"))?;
        let written = tx
            .query(
                &stmts.update_orders,
                &[
                    &ids,
                    &rows.versions.get(k..).unwrap_or_default(),
                    &rows.statuses.get(k..).unwrap_or_default(),
                    &rows.channels.get(k..).unwrap_or_default(),
                    &rows.secs.get(k..).unwrap_or_default(),
                    &rows.nanos.get(k..).unwrap_or_default(),
                    &rows.docs.get(k..).unwrap_or_default(),
                    &expected,
                ],
            )
            .map_err(store_error("saving orders"))?;
        if written.len() != ids.len() {
            let written = texts(&written, "saving orders")?;
            let stale = first_unwritten(ids, &written);
            let expected = ids
                .iter()
                .zip(expected)
                .find(|(id, _)| **id == stale)
                .map_or(Ok(0), |(_, v)| to_u64("expected version", *v))?;
            return Err(version_conflict(tx, stmts, stale, expected)?);
        }
    }
    if !rows.event_records.is_empty() {
        tx.execute(
            &stmts.insert_events,
            &[
                &rows.event_orders,
                &rows.event_versions,
                &rows.event_records,
            ],
        )
        .map_err(store_error("appending events (events are never rewritten)"))?;
    }
    Ok(())
}

/// The first of `asked` (in order) that `written` does not account for: a repeated
/// value counts once per time it was written.
fn first_unwritten<'a>(asked: &[&'a str], written: &[String]) -> &'a str {
    let mut left: HashMap<&str, usize> = HashMap::new();
    for w in written {
        *left.entry(w.as_str()).or_default() += 1;
    }
    asked
        .iter()
        .find(|a| match left.get_mut(**a) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .copied()
        .unwrap_or_default()
}

/// The conflict for order `id`, which was not at `expected` (0: absent).
fn version_conflict(
    tx: &mut Transaction<'_>,
    stmts: &Statements,
    id: &str,
    expected: u64,
) -> Result<StoreError, StoreError> {
    let actual = tx
        .query_opt(&stmts.order_version, &[&id])
        .map_err(store_error("reading an order version"))?
        .map(|r| r.try_get::<_, i64>(0))
        .transpose()
        .map_err(store_error("reading an order version"))?
        .unwrap_or(0);
    Ok(StoreError::Conflict {
        aggregate: format!("order {id}"),
        expected,
        actual: to_u64("stored version", actual)?,
    })
}

/// Appends stock log entries if their partitions are still where the caller saw them
/// (ADR 0012).
///
/// - Without places (a dump import, a raw append): every entry is global; the global
///   head is taken exclusively and the whole log must hold `expected_seq` entries.
/// - Variant entries only: the global head is held `FOR SHARE` (many such writes run at
///   once) and must not have moved; each variant's head moves by a version-checked
///   `UPDATE` (or is created). Writes of different variants touch different rows.
/// - With a global entry: the global head is moved exclusively (waiting for the variant
///   writes in flight), and the whole log must hold `expected_seq` entries, so a global
///   command is decided on everything before it.
/// - A reservation made by hand in a variant partition claims its id for that partition
///   once the heads have moved ([`claim_reservations`]): another partition's claim on
///   the id is a conflict.
///
/// Checks come before any insert, so the ids of the inserted rows follow every entry
/// the write depends on.
fn write_stock(
    tx: &mut Transaction<'_>,
    stmts: &Statements,
    stock: Option<&StockAppend>,
) -> Result<(), StoreError> {
    let Some(stock) = stock else {
        return Ok(());
    };
    if stock.entries.is_empty() {
        return Ok(());
    }
    let n = stock.entries.len() as u64;
    let expected_total = stock.expected_seq;
    let places: Vec<StockPlace> = if stock.places.is_empty() {
        let taken: i64 = tx
            .query_one(&stmts.take_global_places, &[&to_i64("entries", n)?])
            .and_then(|r| r.try_get(0))
            .map_err(store_error("moving the stock log head"))?;
        check_total(tx, stmts, expected_total, n)?;
        let first = to_u64("stock log head", taken)?.saturating_sub(n);
        (1..=n)
            .map(|k| StockPlace {
                partition: None,
                seq: first + k,
                basis: expected_total + k - 1,
            })
            .collect()
    } else {
        if stock.places.len() != stock.entries.len() {
            return Err(StoreError::Unavailable {
                reason: "a stock append needs one place per entry".to_string(),
            });
        }
        let global: Vec<u64> = stock
            .places
            .iter()
            .filter(|p| p.partition.is_none())
            .map(|p| p.seq)
            .collect();
        if let (Some(&first), Some(&last)) = (global.first(), global.last()) {
            let moved = tx
                .execute(
                    &stmts.advance_stock_head,
                    &[
                        &"",
                        &to_i64("stock log head", first.saturating_sub(1))?,
                        &to_i64("stock log head", last)?,
                    ],
                )
                .map_err(store_error("moving the stock log head"))?;
            if moved == 0 || last + 1 != first + global.len() as u64 {
                return Err(StoreError::Conflict {
                    aggregate: "stock log".to_string(),
                    expected: expected_total,
                    actual: total(tx, stmts)?,
                });
            }
        } else {
            let head: i64 = tx
                .query_one(&stmts.share_global_head, &[])
                .and_then(|r| r.try_get(0))
                .map_err(store_error("reading the stock log head"))?;
            let head = to_u64("stock log head", head)?;
            if let Some(p) = stock.places.iter().find(|p| p.basis != head) {
                return Err(StoreError::Conflict {
                    aggregate: "stock log (global entries)".to_string(),
                    expected: p.basis,
                    actual: head,
                });
            }
        }
        for (partition, (first, last)) in spans(&stock.places)? {
            let expected = first.saturating_sub(1);
            let new_head = to_i64("stock partition head", last)?;
            let moved = if expected == 0 {
                tx.execute(&stmts.insert_stock_head, &[&partition, &new_head])
            } else {
                tx.execute(
                    &stmts.advance_stock_head,
                    &[
                        &partition,
                        &to_i64("stock partition head", expected)?,
                        &new_head,
                    ],
                )
            }
            .map_err(store_error("moving a stock partition head"))?;
            if moved == 0 {
                let actual = tx
                    .query_opt(&stmts.stock_head, &[&partition])
                    .map_err(store_error("reading a stock partition head"))?
                    .map(|r| r.try_get::<_, i64>(0))
                    .transpose()
                    .map_err(store_error("reading a stock partition head"))?
                    .unwrap_or(0);
                return Err(StoreError::Conflict {
                    aggregate: format!("stock of variant {partition}"),
                    expected,
                    actual: to_u64("stock partition head", actual)?,
                });
            }
        }
        if !global.is_empty() {
            check_total(tx, stmts, expected_total, n)?;
        }
        stock.places.clone()
    };
    let rows = StockRows::of(&stock.entries, &places)?;
    claim_reservations(tx, &rows)?;
    tx.execute(
        &stmts.insert_stock_entries,
        &[&rows.partitions, &rows.seqs, &rows.bases, &rows.docs],
    )
    .map_err(store_error("appending to the stock log"))?;
    Ok(())
}

/// Claims the ids of the reservations a write makes by hand for their partitions (as
/// `ordersmith_commit` does): a [`StoreError::Conflict`] when another partition holds
/// one, so the writer catches up, sees that reservation and decides again.
fn claim_reservations(tx: &mut Transaction<'_>, rows: &StockRows<'_>) -> Result<(), StoreError> {
    if rows.claim_ids.is_empty() {
        return Ok(());
    }
    let claimed = tx
        .execute(
            "INSERT INTO stock_reservation_claims (id, partition) \
             SELECT id, partition FROM unnest($1::text[], $2::text[]) AS r (id, partition) \
             ORDER BY id ON CONFLICT (id) DO NOTHING",
            &[&rows.claim_ids, &rows.claim_partitions],
        )
        .map_err(store_error("claiming reservation ids"))?;
    // Every id new (the usual case): no second look.
    if claimed == rows.claim_ids.len() as u64 {
        return Ok(());
    }
    let elsewhere = tx
        .query_opt(
            "SELECT r.id FROM unnest($1::text[], $2::text[]) AS r (id, partition) \
             JOIN stock_reservation_claims AS c ON c.id = r.id \
             WHERE c.partition <> r.partition LIMIT 1",
            &[&rows.claim_ids, &rows.claim_partitions],
        )
        .map_err(store_error("claiming reservation ids"))?;
    match elsewhere {
        Some(row) => {
            let id: String = row
                .try_get(0)
                .map_err(store_error("claiming reservation ids"))?;
            Err(claimed_elsewhere(&id))
        }
        None => Ok(()),
    }
}

/// Each variant partition a write's places take, once, in byte order (so two writes
/// lock rows in the same order), with the first and last place the write takes in it.
fn spans(places: &[StockPlace]) -> Result<BTreeMap<&str, (u64, u64)>, StoreError> {
    let mut spans: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for place in places {
        let Some(v) = &place.partition else { continue };
        let span = spans
            .entry(v.as_str())
            .or_insert((place.seq, place.seq.saturating_sub(1)));
        if place.seq == 0 || place.seq != span.1 + 1 {
            return Err(StoreError::Unavailable {
                reason: format!("stock places of variant {v} are not consecutive"),
            });
        }
        span.1 = place.seq;
    }
    Ok(spans)
}

/// A write's stock entries as columns, each with its place ('' for a global entry), and
/// the ids of the reservations it makes by hand in variant partitions, each with its
/// partition: claimed for good in the same transaction (ADR 0012, amended 2026-12-04).
struct StockRows<'a> {
    partitions: Vec<&'a str>,
    seqs: Vec<i64>,
    bases: Vec<i64>,
    docs: Vec<String>,
    claim_ids: Vec<&'a str>,
    claim_partitions: Vec<&'a str>,
}

impl<'a> StockRows<'a> {
    fn of(entries: &'a [StockLogEntry], places: &'a [StockPlace]) -> Result<Self, StoreError> {
        let count = entries.len().min(places.len());
        let mut rows = StockRows {
            partitions: Vec::with_capacity(count),
            seqs: Vec::with_capacity(count),
            bases: Vec::with_capacity(count),
            docs: Vec::with_capacity(count),
            claim_ids: Vec::new(),
            claim_partitions: Vec::new(),
        };
        for (entry, place) in entries.iter().zip(places) {
            let partition = place.partition.as_ref().map_or("", |v| v.as_str());
            if let StockCommand::Reserve { request } = &entry.command {
                // An order's reservation id is unique to the order's version: no claim.
                if request.order.is_none() && !partition.is_empty() {
                    rows.claim_ids.push(request.id.as_str());
                    rows.claim_partitions.push(partition);
                }
            }
            rows.partitions.push(partition);
            rows.seqs.push(to_i64("stock place", place.seq)?);
            rows.bases.push(to_i64("stock place basis", place.basis)?);
            rows.docs.push(encode("stock log entry", entry)?);
        }
        Ok(rows)
    }
}

/// Entries in the whole log (every partition's head summed).
fn total(tx: &mut Transaction<'_>, stmts: &Statements) -> Result<u64, StoreError> {
    let total: i64 = tx
        .query_one(&stmts.stock_total, &[])
        .and_then(|r| r.try_get(0))
        .map_err(store_error("counting the stock log"))?;
    to_u64("stock log length", total)
}

/// After a write's heads moved: the whole log must hold `expected` plus its `n` entries.
fn check_total(
    tx: &mut Transaction<'_>,
    stmts: &Statements,
    expected: u64,
    n: u64,
) -> Result<(), StoreError> {
    let total = total(tx, stmts)?;
    if total != expected + n {
        return Err(StoreError::Conflict {
            aggregate: "stock log".to_string(),
            expected,
            actual: total.saturating_sub(n),
        });
    }
    Ok(())
}

/// A change set's idempotency keys as columns.
struct KeyRows<'a> {
    keys: Vec<&'a str>,
    fingerprints: Vec<&'a str>,
    orders: Vec<&'a str>,
    versions: Vec<i64>,
}

impl<'a> KeyRows<'a> {
    fn of(records: &'a [IdempotencyRecord]) -> Result<Self, StoreError> {
        Ok(KeyRows {
            keys: records.iter().map(|r| r.key.as_str()).collect(),
            fingerprints: records.iter().map(|r| &*r.fingerprint).collect(),
            orders: records.iter().map(|r| r.order_id.as_str()).collect(),
            versions: records
                .iter()
                .map(|r| to_i64("order version", r.order_version))
                .collect::<Result<_, _>>()?,
        })
    }
}

fn write_idempotency(
    tx: &mut Transaction<'_>,
    stmts: &Statements,
    rows: &KeyRows<'_>,
) -> Result<(), StoreError> {
    if rows.keys.is_empty() {
        return Ok(());
    }
    let written = tx
        .query(
            &stmts.insert_idempotency_many,
            &[&rows.keys, &rows.fingerprints, &rows.orders, &rows.versions],
        )
        .map_err(store_error("recording idempotency keys"))?;
    if written.len() != rows.keys.len() {
        let written = texts(&written, "recording idempotency keys")?;
        return Err(StoreError::KeyTaken {
            key: first_unwritten(&rows.keys, &written).to_string(),
        });
    }
    Ok(())
}

/// A change set's outbox records as columns, oldest first. An announcement of an order
/// event the change set saves keeps no document: its row names the event
/// (`payload_event`, migration 7) and reading joins it back, so the event's JSON is
/// sent and stored once.
struct OutboxRows<'a> {
    ids: Vec<String>,
    topics: Vec<&'a str>,
    aggregates: Vec<&'a str>,
    docs: Vec<String>,
    events: Vec<Option<i64>>,
}

impl<'a> OutboxRows<'a> {
    fn of(changes: &'a ChangeSet) -> Result<Self, StoreError> {
        let n = changes.outbox.len();
        let mut rows = OutboxRows {
            ids: Vec::with_capacity(n),
            topics: Vec::with_capacity(n),
            aggregates: Vec::with_capacity(n),
            docs: Vec::with_capacity(n),
            events: Vec::with_capacity(n),
        };
        let mut announced = changes.announcements();
        for write in &changes.outbox {
            match write {
                OutboxWrite::Record(record) => {
                    rows.ids.push(record.id.clone());
                    rows.topics.push(&record.topic);
                    rows.aggregates.push(&record.aggregate_id);
                    rows.docs.push(encode("outbox record", record)?);
                    rows.events.push(None);
                }
                OutboxWrite::OrderEvent { order_id, version } => {
                    // The port's error when the change set does not save that event.
                    let event = announced.event(order_id, *version)?;
                    rows.ids
                        .push(format!("{}:{}", event.order_id, event.version));
                    rows.topics.push(event.event.topic());
                    rows.aggregates.push(order_id.as_str());
                    rows.docs.push(String::new());
                    rows.events.push(Some(to_i64("event version", *version)?));
                }
            }
        }
        Ok(rows)
    }
}

/// An outbox record from a row of `pending` or `claim`: id, topic, order, the event it
/// announces (if any), its document, and that event's record.
fn outbox_record(row: &postgres::Row, context: &'static str) -> Result<OutboxRecord, StoreError> {
    let id: String = row.try_get(0).map_err(store_error(context))?;
    let doc: String = row.try_get(4).map_err(store_error(context))?;
    let event: Option<String> = row.try_get(5).map_err(store_error(context))?;
    let payload_event: Option<i64> = row.try_get(3).map_err(store_error(context))?;
    match (doc.is_empty(), payload_event, event) {
        // An announcement (migration 7): its row and its event say everything.
        (true, Some(version), Some(event)) => OutboxRecord::from_stored_announcement(
            id,
            row.try_get(1).map_err(store_error(context))?,
            row.try_get(2).map_err(store_error(context))?,
            to_u64("event version", version)?,
            event,
        ),
        (true, _, _) => Err(StoreError::Corrupt {
            reason: format!("outbox record {id:?} has no document and names no saved event"),
        }),
        (false, _, _) => decode("outbox record", &doc),
    }
}

fn write_outbox(
    tx: &mut Transaction<'_>,
    stmts: &Statements,
    rows: &OutboxRows<'_>,
) -> Result<(), StoreError> {
    if rows.ids.is_empty() {
        return Ok(());
    }
    let written = tx
        .query(
            &stmts.insert_outbox,
            &[
                &rows.ids,
                &rows.topics,
                &rows.aggregates,
                &rows.docs,
                &rows.events,
            ],
        )
        .map_err(store_error("writing the outbox"))?;
    if written.len() != rows.ids.len() {
        let written = texts(&written, "writing the outbox")?;
        // The first record not written: its id was stored before, or earlier in this
        // change set.
        let ids: Vec<&str> = rows.ids.iter().map(String::as_str).collect();
        let repeated = first_unwritten(&ids, &written);
        return Err(StoreError::Unavailable {
            reason: format!(
                "outbox record id {repeated:?} already exists: the id generator repeated an id"
            ),
        });
    }
    Ok(())
}

/// Commits a change set with one call of `ordersmith_commit` (migration 0007, ADR 0014)
/// when the function covers it: orders, events, variant stock entries decided on one
/// global head, keys and outbox records. `Ok(false)` when it does not cover the change
/// set, or refused it (a check failed and nothing was written): the caller then commits
/// statement by statement, which names what was stale or taken.
fn commit_in_one_call(
    client: &mut postgres::Client,
    stmts: &Statements,
    changes: &ChangeSet,
    rows: (&OrderRows<'_>, &KeyRows<'_>, &OutboxRows<'_>),
) -> Result<bool, StoreError> {
    let (orders, keys, outbox) = rows;
    if !changes.records.is_empty() || !changes.documents.is_empty() {
        return Ok(false);
    }
    let no_entries: (&[StockLogEntry], &[StockPlace]) = (&[], &[]);
    let (entries, places) = changes
        .stock
        .as_ref()
        .map_or(no_entries, |s| (&s.entries, &s.places));
    let basis = places.first().map(|p| p.basis);
    if places.len() != entries.len()
        || places
            .iter()
            .any(|p| p.partition.is_none() || Some(p.basis) != basis)
    {
        return Ok(false);
    }
    let stock = StockRows::of(entries, places)?;
    let (mut heads, mut expected, mut moved) = (Vec::new(), Vec::new(), Vec::new());
    for (partition, (first, last)) in spans(places)? {
        heads.push(partition);
        expected.push(to_i64("stock partition head", first.saturating_sub(1))?);
        moved.push(to_i64("stock partition head", last)?);
    }
    let basis = basis.map(|b| to_i64("stock log head", b)).transpose()?;
    let called = client.execute(
        &stmts.commit,
        &[
            &orders.ids,
            &orders.versions,
            &orders.statuses,
            &orders.channels,
            &orders.secs,
            &orders.nanos,
            &orders.docs,
            &orders.expected,
            &orders.event_orders,
            &orders.event_versions,
            &orders.event_records,
            &heads,
            &expected,
            &moved,
            &basis,
            &stock.partitions,
            &stock.seqs,
            &stock.bases,
            &stock.docs,
            &keys.keys,
            &keys.fingerprints,
            &keys.orders,
            &keys.versions,
            &outbox.ids,
            &outbox.topics,
            &outbox.aggregates,
            &outbox.docs,
            &outbox.events,
            &orders.customers,
            &stock.claim_ids,
            &stock.claim_partitions,
        ],
    );
    match called {
        Ok(_) => Ok(true),
        Err(e) => match e.as_db_error() {
            Some(db) if db.code().code() == REFUSED => Ok(false),
            Some(db) if db.code().code() == STOCK_MOVED => Err(stock_moved(db)),
            _ => Err(store_error("committing")(e)),
        },
    }
}

/// Rows a stock read asks for at a time.
const STOCK_PAGE: i64 = 10_000;

/// Passes `sink` the stock rows of a first page already fetched (`first`, its columns
/// from `at` on as `stock_read` returns them: the snapshot's xmin, then the entry's
/// txid, id, partition, place and document; no entry columns on the one row of an
/// empty page), then every further page; returns the watermark of the first page's
/// snapshot (later pages see at least as much).
fn read_stock_pages(
    client: &mut postgres::Client,
    stmts: &Statements,
    watermark: i64,
    first: &[postgres::Row],
    at: usize,
    sink: &mut StockSink<'_>,
) -> Result<u64, StoreError> {
    let read = store_error("reading the stock log");
    let mut next_watermark = None;
    let mut fetched;
    let mut rows = first;
    let mut at = at;
    loop {
        // Keyset over (txid, id): the next page starts after the largest of this one.
        let mut after = None;
        let mut page = Vec::with_capacity(rows.len());
        for row in rows {
            let xmin: i64 = row.try_get(at).map_err(&read)?;
            next_watermark.get_or_insert(xmin);
            let Some(txid) = row.try_get::<_, Option<i64>>(at + 1).map_err(&read)? else {
                continue;
            };
            let id: i64 = row.try_get(at + 2).map_err(&read)?;
            after = after.max(Some((txid, id)));
            let partition: String = row.try_get(at + 3).map_err(&read)?;
            let seq: i64 = row.try_get(at + 4).map_err(&read)?;
            let basis: i64 = row.try_get(at + 5).map_err(&read)?;
            let doc: String = row.try_get(at + 6).map_err(&read)?;
            let mut entry: StockLogEntry = decode("stock log entry", &doc)?;
            entry.seq = to_u64("stock log id", id)?;
            let partition = if partition.is_empty() {
                None
            } else {
                Some(
                    VariantId::parse(partition).map_err(|e| StoreError::Corrupt {
                        reason: format!("stock partition is not a variant id: {e}"),
                    })?,
                )
            };
            let place = StockPlace {
                partition,
                seq: to_u64("stock place", seq)?,
                basis: to_u64("stock place basis", basis)?,
            };
            page.push((entry, place));
        }
        let full = page.len() as i64 == STOCK_PAGE;
        // Ids follow every entry's dependencies (checks precede inserts), so the
        // reader can apply most of a page at once in id order.
        page.sort_by_key(|(entry, _)| entry.seq);
        for (entry, place) in page {
            sink(entry, Some(place))?;
        }
        let (true, Some((txid, id))) = (full, after) else {
            return to_u64("stock log watermark", next_watermark.unwrap_or(watermark));
        };
        fetched = client
            .query(&stmts.stock_read, &[&txid, &id, &STOCK_PAGE])
            .map_err(&read)?;
        rows = &fetched;
        at = 0;
    }
}

/// The SQLSTATE `ordersmith_commit` raises when a check fails, other than a stock head's.
const REFUSED: &str = "OS409";
/// The SQLSTATE `ordersmith_commit` raises when a stock head moved: the message is the
/// partition ('' for the global head), the detail "expected actual".
const STOCK_MOVED: &str = "OS40S";

/// The conflict `ordersmith_commit` reported for a stock head that moved, in the words
/// the statement-by-statement commit uses.
fn stock_moved(db: &postgres::error::DbError) -> StoreError {
    if db.detail() == Some(CLAIMED) {
        return claimed_elsewhere(db.message());
    }
    let mut numbers = db
        .detail()
        .unwrap_or_default()
        .split(' ')
        .map(|n| n.parse::<u64>().ok());
    let (Some(Some(expected)), Some(Some(actual))) = (numbers.next(), numbers.next()) else {
        return StoreError::Unavailable {
            reason: format!(
                "committing: the stock conflict's detail {:?} is not two counts",
                db.detail()
            ),
        };
    };
    let aggregate = match db.message() {
        "" => "stock log (global entries)".to_string(),
        partition => format!("stock of variant {partition}"),
    };
    StoreError::Conflict {
        aggregate,
        expected,
        actual,
    }
}

/// How long a writer waits for a stock turn ([`Store::begin_stock_turn`]) before it goes
/// on without one: long enough for a queue of writers of one variant to pass (each holds
/// the turn for one commit, about a millisecond), short enough that a turn held by a
/// client that stopped stalls others' retries briefly.
const TURN_WAIT: Duration = Duration::from_millis(1_000);

/// `text` as an SQL string literal that reads the same whatever
/// `standard_conforming_strings` is (an `E''` literal, backslashes and quotes doubled).
fn escaped_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    out.push_str("E'");
    for c in text.chars() {
        if c == '\\' || c == '\'' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The detail `ordersmith_commit` gives a stock conflict over a hand-made reservation's
/// id that another partition claimed (its message is the id).
const CLAIMED: &str = "claimed";

/// The conflict of an append that makes a hand-made reservation whose id another
/// variant's partition holds: the writer catches up, and then sees the reservation.
fn claimed_elsewhere(id: &str) -> StoreError {
    StoreError::Conflict {
        aggregate: format!("stock reservation {id} (made in another variant's partition)"),
        expected: 0,
        actual: 0,
    }
}

/// The last number taken in `series` (0 for a new series).
fn series_last(client: &mut impl postgres::GenericClient, series: &str) -> Result<u64, StoreError> {
    let row = client
        .query_opt(
            "SELECT last_number FROM invoice_series WHERE series = $1",
            &[&series],
        )
        .map_err(store_error("reading an invoice series"))?;
    let last: i64 = match row {
        Some(r) => r
            .try_get(0)
            .map_err(store_error("reading an invoice series"))?,
        None => 0,
    };
    to_u64("invoice series last number", last)
}

/// Takes each document's number with a compare-and-set on its series, then saves it.
fn write_documents(
    tx: &mut Transaction<'_>,
    documents: &[DocumentAppend],
) -> Result<(), StoreError> {
    for append in documents {
        let doc = &append.document;
        let next = to_i64("document sequence", doc.sequence)?;
        let expected = to_i64("expected series number", append.expected_last)?;
        let taken = if doc.sequence != append.expected_last.saturating_add(1) {
            0
        } else if append.expected_last == 0 {
            tx.execute(
                "INSERT INTO invoice_series (series, last_number) VALUES ($1, $2) \
                 ON CONFLICT (series) DO NOTHING",
                &[&doc.series, &next],
            )
            .map_err(store_error("taking an invoice number"))?
        } else {
            tx.execute(
                "UPDATE invoice_series SET last_number = $2 WHERE series = $1 AND last_number = $3",
                &[&doc.series, &next, &expected],
            )
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
            .execute(
                "INSERT INTO invoice_documents (number, series, sequence, kind, order_id, \
                 issued_secs, issued_nanos, document) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT DO NOTHING",
                &[
                    &doc.number,
                    &doc.series,
                    &next,
                    &doc.kind.as_str(),
                    &doc.order_id.as_str(),
                    &secs,
                    &nanos,
                    &text,
                ],
            )
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

impl PgStore {
    fn documents_where(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<InvoiceDocument>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, .. } = &mut *conn;
        let rows = client
            .query(sql, args)
            .map_err(store_error("reading invoice documents"))?;
        texts(&rows, "reading invoice documents")?
            .iter()
            .map(|d| decode("invoice document", d))
            .collect()
    }
}

fn idempotency(
    key: String,
    fingerprint: String,
    order: String,
    version: i64,
) -> Result<IdempotencyRecord, StoreError> {
    Ok(IdempotencyRecord {
        key,
        fingerprint: fingerprint.into(),
        order_id: order_id(order)?,
        order_version: to_u64("idempotency order version", version)?,
    })
}

/// Rows of `key, fingerprint, order_id, order_version` as records.
fn idempotency_rows(
    rows: &[postgres::Row],
    context: &'static str,
) -> Result<Vec<IdempotencyRecord>, StoreError> {
    let read = store_error(context);
    rows.iter()
        .map(|r| {
            idempotency(
                r.try_get(0).map_err(&read)?,
                r.try_get(1).map_err(&read)?,
                r.try_get(2).map_err(&read)?,
                r.try_get(3).map_err(&read)?,
            )
        })
        .collect()
}

fn texts(rows: &[postgres::Row], context: &'static str) -> Result<Vec<String>, StoreError> {
    rows.iter()
        .map(|r| r.try_get::<_, String>(0).map_err(store_error(context)))
        .collect()
}

impl PgStore {
    /// Reserves `size` ids of `kind` in the database and returns the first. One
    /// statement: concurrent processes get disjoint blocks.
    fn reserve_ids(&self, kind: &str, size: u64) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, .. } = &mut *conn;
        let size = to_i64("id block size", size)?;
        let first: i64 = client
            .query_one(
                "INSERT INTO id_blocks (kind, next_value) VALUES ($1, 1 + $2::BIGINT) \
                 ON CONFLICT (kind) DO UPDATE SET next_value = id_blocks.next_value + $2::BIGINT \
                 RETURNING next_value - $2::BIGINT",
                &[&kind, &size],
            )
            .and_then(|r| r.try_get(0))
            .map_err(store_error("reserving a block of ids"))?;
        to_u64("id block", first)
    }
}

/// Order ids from blocks of a persistent sequence: unique across restarts and across
/// every process sharing the database, `"{kind}-{n:06}"`.
impl IdGenerator for PgStore {
    fn next_id(&self, kind: &str) -> Result<String, StoreError> {
        self.ids
            .next_id(kind, |kind, size| self.reserve_ids(kind, size))
    }
}

impl Store for PgStore {
    /// A session-level advisory lock per variant (keyed by the schema and the variant,
    /// taken in byte order), on a connection kept for the calling thread until
    /// [`Store::end_stock_turn`]: the thread's reads and commits meanwhile run on it, so
    /// a turn's holder never waits for the pool while other writers wait for their
    /// turn on theirs. No turn is taken (the call returns at once) when it would leave
    /// the pool without a connection that no turn holds.
    fn begin_stock_turn(&self, variants: &[VariantId]) -> Result<(), StoreError> {
        if variants.is_empty() || self.pool.in_turn() || !self.pool.reserve_turn() {
            return Ok(());
        }
        let mut keys: Vec<&str> = variants.iter().map(VariantId::as_str).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut conn = match self.conn() {
            Ok(conn) => conn,
            Err(e) => {
                self.pool.release_turn();
                return Err(e);
            }
        };
        // One round trip: the wait is bounded (a holder that stopped, or whose client
        // the server has not yet seen go, must not stall every retry of its variants),
        // and the bound ends with the implicit transaction whatever happens: kept by a
        // success (`RESET` then restores the session's own), rolled back by an error.
        let mut batch = format!("SET lock_timeout = '{}ms';", TURN_WAIT.as_millis());
        for key in &keys {
            batch.push_str(" SELECT pg_advisory_lock(hashtextextended('ordersmith stock ' || current_schema() || ' ' || ");
            batch.push_str(&escaped_literal(key));
            batch.push_str(", 0));");
        }
        batch.push_str(" RESET lock_timeout;");
        if let Err(e) = conn.client.batch_execute(&batch) {
            // What was taken is given back before the connection is (a lock taken in a
            // transaction that failed is still held): a session that cannot say so is
            // closed, which gives it back on the server.
            if conn
                .client
                .execute("SELECT pg_advisory_unlock_all()", &[])
                .is_err()
            {
                conn.discard();
            }
            self.pool.release_turn();
            // A turn not had in time is no error: the write goes on racing, as it would
            // without turns.
            return match e.code() {
                Some(code) if *code == SqlState::LOCK_NOT_AVAILABLE => Ok(()),
                _ => Err(store_error("waiting for a stock turn")(e)),
            };
        }
        self.pool.pin(conn);
        Ok(())
    }

    fn end_stock_turn(&self) {
        if let Some(mut conn) = self.pool.unpin() {
            if conn
                .client
                .execute("SELECT pg_advisory_unlock_all()", &[])
                .is_err()
            {
                // Closing the session gives its locks back on the server.
                conn.discard();
            }
        }
    }

    fn load_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let row = client
            .query_opt(&stmts.load_order, &[&id.as_str()])
            .map_err(store_error("loading an order"))?;
        row.map(|r| {
            let doc: String = r.try_get(0).map_err(store_error("loading an order"))?;
            decode("order snapshot", &doc)
        })
        .transpose()
    }

    fn load_orders(&self, ids: &[&OrderId]) -> Result<Vec<Order>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let rows = client
            .query(&stmts.load_orders, &[&ids])
            .map_err(store_error("loading orders"))?;
        rows.iter()
            .map(|r| {
                let doc: String = r.try_get(0).map_err(store_error("loading orders"))?;
                decode("order snapshot", &doc)
            })
            .collect()
    }

    fn order_events(&self, id: &OrderId) -> Result<Vec<OrderEventRecord>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let rows = client
            .query(&stmts.order_events, &[&id.as_str()])
            .map_err(store_error("loading events"))?;
        texts(&rows, "loading events")?
            .iter()
            .map(|d| decode("event record", d))
            .collect()
    }

    fn query_orders(&self, query: &OrderQuery) -> Result<Vec<Order>, StoreError> {
        let status = query.status.map(|s| s.as_str().to_string());
        let channel = query.channel.as_ref().map(|c| c.as_str().to_string());
        let from = query.placed_from.as_ref().map(time_key);
        let to = query.placed_to.as_ref().map(time_key);
        let limit = clamp_i64(query.effective_limit());
        let offset = clamp_i64(query.offset);
        let after = query.after.as_ref().map(|c| {
            let (secs, nanos) = time_key(&c.placed_at);
            (secs, nanos, c.id.as_str().to_string())
        });
        let mut sql = String::from("SELECT snapshot FROM orders WHERE true");
        let mut args: Vec<&(dyn ToSql + Sync)> = Vec::new();
        if let Some(status) = &status {
            args.push(status);
            sql.push_str(&format!(" AND status = ${}", args.len()));
        }
        if let Some(channel) = &channel {
            args.push(channel);
            sql.push_str(&format!(" AND channel = ${}", args.len()));
        }
        for (bound, op) in [(&from, ">="), (&to, "<")] {
            if let Some((secs, nanos)) = bound {
                args.push(secs);
                args.push(nanos);
                sql.push_str(&format!(
                    " AND (placed_secs, placed_nanos) {op} (${}, ${})",
                    args.len() - 1,
                    args.len()
                ));
            }
        }
        if let Some((secs, nanos, id)) = &after {
            // Keyset paging in the listing order; `id` is COLLATE "C", so byte order.
            args.push(secs);
            args.push(nanos);
            args.push(id);
            sql.push_str(&format!(
                " AND (placed_secs, placed_nanos, id) > (${}, ${}, ${})",
                args.len() - 2,
                args.len() - 1,
                args.len()
            ));
        }
        args.push(&limit);
        args.push(&offset);
        sql.push_str(&format!(
            " ORDER BY placed_secs, placed_nanos, id LIMIT ${} OFFSET ${}",
            args.len() - 1,
            args.len()
        ));
        let mut conn = self.conn()?;
        let rows = conn
            .client
            .query(sql.as_str(), &args)
            .map_err(store_error("querying orders"))?;
        texts(&rows, "querying orders")?
            .iter()
            .map(|d| decode("order snapshot", d))
            .collect()
    }

    fn customer_order_count(
        &self,
        customer_key: &str,
        until: DateTime<Utc>,
        except: &OrderId,
    ) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let (secs, nanos) = time_key(&until);
        let count: i64 = client
            .query_one(
                &stmts.customer_order_count,
                &[&customer_key, &secs, &nanos, &except.as_str()],
            )
            .and_then(|r| r.try_get(0))
            .map_err(store_error("counting a customer's orders"))?;
        to_u64("a customer's order count", count)
    }

    fn idempotency_record(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let row = client
            .query_opt(&stmts.idempotency, &[&key])
            .map_err(store_error("reading an idempotency key"))?;
        row.map(|r| {
            let read = store_error("reading an idempotency key");
            idempotency(
                key.to_string(),
                r.try_get(0).map_err(&read)?,
                r.try_get(1).map_err(&read)?,
                r.try_get(2).map_err(&read)?,
            )
        })
        .transpose()
    }

    fn idempotency_records_for(&self, keys: &[&str]) -> Result<Vec<IdempotencyRecord>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let rows = client
            .query(&stmts.idempotency_many, &[&keys])
            .map_err(store_error("reading idempotency keys"))?;
        idempotency_rows(&rows, "reading idempotency keys")
    }

    fn stock_log_since(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StockLogEntry>, StoreError> {
        // The log's one order here is the order of ids (a valid order of every entry's
        // dependencies, ADR 0012), numbered densely from 1 for export and tests.
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let after = to_i64("stock log seq", after_seq)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(&stmts.stock_log_since, &[&after, &limit])
            .map_err(store_error("reading the stock log"))?;
        texts(&rows, "reading the stock log")?
            .iter()
            .zip(after_seq + 1..)
            .map(|(d, seq)| {
                let mut entry: StockLogEntry = decode("stock log entry", d)?;
                entry.seq = seq;
                Ok(entry)
            })
            .collect()
    }

    /// Every entry of a transaction that had not finished at the reader's last read
    /// (`txid` at or above the watermark), with its place; the new watermark is the
    /// oldest transaction still running when this read began, so an entry committed
    /// after it, whatever its id, is read next time.
    fn stock_log_read(
        &self,
        cursor: StockCursor,
        sink: &mut StockSink<'_>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let watermark = to_i64("stock log watermark", cursor.watermark)?;
        let rows = client
            .query(&stmts.stock_read, &[&watermark, &0_i64, &STOCK_PAGE])
            .map_err(store_error("reading the stock log"))?;
        read_stock_pages(client, stmts, watermark, &rows, 0, sink)
    }

    /// Yes: one statement, so one snapshot and one round trip.
    fn loads_order_reading_stock(&self) -> bool {
        true
    }

    /// Yes: a lookup is a round trip, and the commit refuses a taken key in the same
    /// call that saves a new one (`ordersmith_commit` checks every key it inserts).
    fn defers_key_lookups(&self) -> bool {
        true
    }

    /// Yes: a read is a round trip, and every append is checked against the heads it
    /// moves and the global head (`ordersmith_commit` and the statement path alike:
    /// a head that moved is `StoreError::Conflict`, nothing saved), and a reservation
    /// id made by hand against the partition that claimed it.
    fn checks_stock_at_commit(&self) -> bool {
        true
    }

    /// The order and the first page of the stock read in one statement (so as of one
    /// snapshot); further pages, if the log grew by more than a page, as
    /// [`Store::stock_log_read`] reads them.
    fn load_order_reading_stock(
        &self,
        id: &OrderId,
        cursor: StockCursor,
        sink: &mut StockSink<'_>,
    ) -> Result<(Option<Order>, u64), StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let watermark = to_i64("stock log watermark", cursor.watermark)?;
        let failed = store_error("loading an order with the stock log");
        let rows = client
            .query(
                &stmts.load_order_reading_stock,
                &[&watermark, &0_i64, &STOCK_PAGE, &id.as_str()],
            )
            .map_err(&failed)?;
        let mut order = None;
        let mut stock = Vec::with_capacity(rows.len());
        for row in rows {
            let kind: i32 = row.try_get(0).map_err(&failed)?;
            if kind == 0 {
                let doc: String = row.try_get(7).map_err(&failed)?;
                order = Some(decode("order snapshot", &doc)?);
            } else {
                stock.push(row);
            }
        }
        let watermark = read_stock_pages(client, stmts, watermark, &stock, 1, sink)?;
        Ok((order, watermark))
    }

    fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let orders = OrderRows::of(&changes.orders)?;
        let keys = KeyRows::of(&changes.idempotency)?;
        let outbox = OutboxRows::of(&changes)?;
        // One round trip when the function covers the change set (an injected failure
        // needs the transaction below, to fail midway through it).
        if !self.failure_pending()
            && commit_in_one_call(client, stmts, &changes, (&orders, &keys, &outbox))?
        {
            return Ok(());
        }
        // READ COMMITTED (the server default): see the crate docs and ADR 0003.
        let mut tx = client
            .transaction()
            .map_err(store_error("beginning a commit"))?;
        write_orders(&mut tx, stmts, &orders)?;
        write_stock(&mut tx, stmts, changes.stock.as_ref())?;
        write_idempotency(&mut tx, stmts, &keys)?;
        records::write_records(&mut tx, &changes.records)?;
        write_documents(&mut tx, &changes.documents)?;
        if self.take_failure() {
            // Dropping `tx` rolls everything above back.
            return Err(StoreError::Unavailable {
                reason: "injected failure midway through a commit".to_string(),
            });
        }
        write_outbox(&mut tx, stmts, &outbox)?;
        tx.commit().map_err(store_error("committing"))
    }

    fn order_ids(&self, after: Option<&OrderId>, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let rows = client
            .query(
                &stmts.order_ids,
                &[&after.map_or("", |a| a.as_str()), &clamp_i64(limit)],
            )
            .map_err(store_error("listing orders"))?;
        texts(&rows, "listing orders")?
            .into_iter()
            .map(order_id)
            .collect()
    }

    fn idempotency_records(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IdempotencyRecord>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let rows = client
            .query(
                &stmts.idempotency_records,
                &[&after.unwrap_or(""), &clamp_i64(limit)],
            )
            .map_err(store_error("listing idempotency keys"))?;
        idempotency_rows(&rows, "listing idempotency keys")
    }

    fn keyed_record(&self, namespace: &str, key: &str) -> Result<Option<KeyedRecord>, StoreError> {
        let mut conn = self.conn()?;
        records::read_record(&mut conn.client, namespace, key)
    }

    fn keyed_records(
        &self,
        namespace: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KeyedRecord>, StoreError> {
        let mut conn = self.conn()?;
        records::read_records(&mut conn.client, namespace, after, limit)
    }

    fn record_namespaces(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        records::namespaces(&mut conn.client)
    }

    fn document_series_last(&self, series: &str) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, .. } = &mut *conn;
        series_last(client, series)
    }

    fn load_document(&self, number: &str) -> Result<Option<InvoiceDocument>, StoreError> {
        Ok(self
            .documents_where(
                "SELECT document FROM invoice_documents WHERE number = $1",
                &[&number],
            )?
            .pop())
    }

    fn order_documents(&self, order: &OrderId) -> Result<Vec<InvoiceDocument>, StoreError> {
        self.documents_where(
            "SELECT document FROM invoice_documents WHERE order_id = $1 \
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
             WHERE series > $1 OR (series = $1 AND sequence > $2) \
             ORDER BY series, sequence LIMIT $3",
            &[&series, &sequence, &clamp_i64(limit)],
        )
    }
}

impl Outbox for PgStore {
    fn pending(&self, limit: usize) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let rows = client
            .query(&stmts.pending, &[&clamp_i64(limit)])
            .map_err(store_error("reading the outbox"))?;
        rows.iter()
            .map(|row| outbox_record(row, "reading the outbox"))
            .collect()
    }

    fn acknowledge(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let Conn { client, stmts } = &mut *conn;
        let removed = client
            .execute(&stmts.acknowledge, &[&id])
            .map_err(store_error("acknowledging an outbox record"))?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::escaped_literal;

    #[test]
    fn a_literal_doubles_quotes_and_backslashes() {
        assert_eq!(escaped_literal("A-1"), "E'A-1'");
        assert_eq!(escaped_literal(r"it's\odd"), r"E'it''s\\odd'");
        assert_eq!(escaped_literal(""), "E''");
    }
}
