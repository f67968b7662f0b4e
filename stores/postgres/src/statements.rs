//! The statements every connection prepares once, right after connecting (and after
//! `search_path` is set, so they resolve to the store's schema).

use postgres::{Client, Statement};

pub(crate) struct Statements {
    pub(crate) load_order: Statement,
    pub(crate) order_events: Statement,
    pub(crate) order_version: Statement,
    pub(crate) insert_order: Statement,
    pub(crate) update_order: Statement,
    pub(crate) insert_event: Statement,
    pub(crate) idempotency: Statement,
    pub(crate) insert_idempotency: Statement,
    pub(crate) insert_outbox: Statement,
    pub(crate) pending: Statement,
    pub(crate) acknowledge: Statement,
    pub(crate) claim: Statement,
    pub(crate) order_ids: Statement,
    pub(crate) idempotency_records: Statement,
    pub(crate) advance_stock_head: Statement,
    pub(crate) stock_head: Statement,
    pub(crate) insert_stock_entry: Statement,
    pub(crate) stock_log_since: Statement,
}

impl Statements {
    pub(crate) fn prepare(client: &mut Client) -> Result<Self, postgres::Error> {
        Ok(Statements {
            load_order: client.prepare("SELECT snapshot FROM orders WHERE id = $1")?,
            // Version-checked like an order: see migrations/0002_stock_log.sql.
            advance_stock_head: client
                .prepare("UPDATE stock_head SET seq = $2 WHERE id = 1 AND seq = $1")?,
            stock_head: client.prepare("SELECT seq FROM stock_head WHERE id = 1")?,
            insert_stock_entry: client
                .prepare("INSERT INTO stock_log (seq, entry) VALUES ($1, $2)")?,
            stock_log_since: client.prepare(
                "SELECT entry FROM stock_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            )?,
            order_events: client
                .prepare("SELECT record FROM order_events WHERE order_id = $1 ORDER BY version")?,
            order_version: client.prepare("SELECT version FROM orders WHERE id = $1")?,
            insert_order: client.prepare(
                "INSERT INTO orders (id, version, status, channel, placed_secs, placed_nanos, snapshot) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
            )?,
            // The version check and the write are one statement: under READ COMMITTED a
            // concurrent writer of the same row makes this one wait, then re-check the
            // WHERE against the new row and match nothing.
            update_order: client.prepare(
                "UPDATE orders SET version = $2, status = $3, channel = $4, placed_secs = $5, \
                 placed_nanos = $6, snapshot = $7 WHERE id = $1 AND version = $8",
            )?,
            insert_event: client.prepare(
                "INSERT INTO order_events (order_id, version, record) VALUES ($1, $2, $3)",
            )?,
            idempotency: client.prepare(
                "SELECT fingerprint, order_id, order_version FROM idempotency_records WHERE key = $1",
            )?,
            insert_idempotency: client.prepare(
                "INSERT INTO idempotency_records (key, fingerprint, order_id, order_version) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
            )?,
            insert_outbox: client.prepare(
                "INSERT INTO outbox (id, topic, aggregate_id, record) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )?,
            pending: client.prepare("SELECT record FROM outbox ORDER BY seq LIMIT $1")?,
            acknowledge: client.prepare("DELETE FROM outbox WHERE id = $1")?,
            claim: client.prepare(
                "UPDATE outbox SET claimed_by = $1, claimed_until = now() + make_interval(secs => $3) \
                 WHERE seq IN (SELECT seq FROM outbox \
                               WHERE claimed_until IS NULL OR claimed_until < now() \
                               ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING seq, record",
            )?,
            order_ids: client
                .prepare("SELECT id FROM orders WHERE id > $1 ORDER BY id LIMIT $2")?,
            idempotency_records: client.prepare(
                "SELECT key, fingerprint, order_id, order_version FROM idempotency_records \
                 WHERE key > $1 ORDER BY key LIMIT $2",
            )?,
        })
    }
}
