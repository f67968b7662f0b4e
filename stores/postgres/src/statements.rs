//! The statements every connection prepares once, right after connecting (and after
//! `search_path` is set, so they resolve to the store's schema).

use postgres::{Client, Statement};

pub(crate) struct Statements {
    pub(crate) commit: Statement,
    pub(crate) load_order: Statement,
    pub(crate) load_orders: Statement,
    pub(crate) lock_orders: Statement,
    pub(crate) update_orders: Statement,
    pub(crate) order_events: Statement,
    pub(crate) order_version: Statement,
    pub(crate) insert_orders: Statement,
    pub(crate) update_order: Statement,
    pub(crate) insert_events: Statement,
    pub(crate) idempotency: Statement,
    pub(crate) customer_order_count: Statement,
    pub(crate) idempotency_many: Statement,
    pub(crate) insert_idempotency_many: Statement,
    pub(crate) insert_outbox: Statement,
    pub(crate) pending: Statement,
    pub(crate) acknowledge: Statement,
    pub(crate) claim: Statement,
    pub(crate) order_ids: Statement,
    pub(crate) idempotency_records: Statement,
    pub(crate) share_global_head: Statement,
    pub(crate) take_global_places: Statement,
    pub(crate) advance_stock_head: Statement,
    pub(crate) insert_stock_head: Statement,
    pub(crate) stock_head: Statement,
    pub(crate) stock_total: Statement,
    pub(crate) insert_stock_entries: Statement,
    pub(crate) stock_log_since: Statement,
    pub(crate) stock_read: Statement,
    pub(crate) load_order_reading_stock: Statement,
}

impl Statements {
    pub(crate) fn prepare(client: &mut Client) -> Result<Self, postgres::Error> {
        Ok(Statements {
            // A whole change set in one round trip: migrations/0007_commit_function.sql,
            // with each new order's customer key since migrations/0009_orders_by_customer.sql
            // and the claims of hand-made reservations since
            // migrations/0010_hand_reservations_by_variant.sql.
            commit: client.prepare(
                "SELECT ordersmith_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                 $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, \
                 $29, $30, $31)",
            )?,
            load_order: client.prepare("SELECT snapshot FROM orders WHERE id = $1")?,
            // A batch of commands' orders in one round trip.
            load_orders: client
                .prepare("SELECT snapshot FROM orders WHERE id = ANY($1::text[])")?,
            // Rows to update many at once are locked first, in id order (as the
            // one-by-one updates took them), so two writers cannot deadlock on them.
            lock_orders: client.prepare(
                "SELECT id FROM orders WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
            )?,
            // Many updates in one round trip, each version-checked as `update_order`;
            // returns the ids written, so one whose version moved is named.
            update_orders: client.prepare(
                "UPDATE orders AS o SET version = u.version, status = u.status, \
                 channel = u.channel, placed_secs = u.placed_secs, \
                 placed_nanos = u.placed_nanos, snapshot = u.snapshot \
                 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], \
                             $6::bigint[], $7::text[], $8::bigint[]) \
                     AS u (id, version, status, channel, placed_secs, placed_nanos, snapshot, \
                           expected) \
                 WHERE o.id = u.id AND o.version = u.expected RETURNING o.id",
            )?,
            // The stock log by partition: see migrations/0006_stock_partitions.sql.
            // A variant write shares the global head (many at once); a global write
            // updates it (alone).
            share_global_head: client
                .prepare("SELECT pseq FROM stock_heads WHERE partition = '' FOR SHARE")?,
            take_global_places: client.prepare(
                "UPDATE stock_heads SET pseq = pseq + $1 WHERE partition = '' RETURNING pseq",
            )?,
            // Version-checked like an order.
            advance_stock_head: client.prepare(
                "UPDATE stock_heads SET pseq = $3 WHERE partition = $1 AND pseq = $2",
            )?,
            insert_stock_head: client.prepare(
                "INSERT INTO stock_heads (partition, pseq) VALUES ($1, $2) \
                 ON CONFLICT (partition) DO NOTHING",
            )?,
            stock_head: client.prepare("SELECT pseq FROM stock_heads WHERE partition = $1")?,
            stock_total: client
                .prepare("SELECT COALESCE(SUM(pseq), 0)::BIGINT FROM stock_heads")?,
            // Every entry of a write in one round trip, in the given order (ids follow
            // the order the entries were decided in).
            insert_stock_entries: client.prepare(
                "INSERT INTO stock_entries (partition, pseq, basis, entry) \
                 SELECT partition, pseq, basis, entry \
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) WITH ORDINALITY \
                     AS e (partition, pseq, basis, entry, n) \
                 ORDER BY n",
            )?,
            stock_log_since: client
                .prepare("SELECT entry FROM stock_entries ORDER BY id OFFSET $1 LIMIT $2")?,
            // One round trip: the oldest running transaction of the statement's snapshot,
            // and the page of entries that snapshot sees (a row of NULLs when none), by
            // the (txid, id) index, so a read costs what it returns, not the log's length.
            // An order and the first page of a stock read, as of one snapshot: kind 1
            // rows are `stock_read`'s (the xmin, then the entry, if any), the kind 0 row
            // (if the order exists) has the snapshot in the last column.
            load_order_reading_stock: client.prepare(
                "SELECT 1 AS kind, s.xmin, e.txid, e.id, e.partition, e.pseq, e.basis, e.entry \
                 FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::BIGINT AS xmin) s \
                 LEFT JOIN LATERAL (SELECT txid, id, partition, pseq, basis, entry \
                     FROM stock_entries WHERE (txid, id) > ($1, $2) \
                     ORDER BY txid, id LIMIT $3) e ON true \
                 UNION ALL \
                 SELECT 0, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::TEXT, NULL::BIGINT, \
                     NULL::BIGINT, snapshot FROM orders WHERE id = $4",
            )?,
            stock_read: client.prepare(
                "SELECT s.xmin, e.txid, e.id, e.partition, e.pseq, e.basis, e.entry \
                 FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::BIGINT AS xmin) s \
                 LEFT JOIN LATERAL (SELECT txid, id, partition, pseq, basis, entry \
                     FROM stock_entries WHERE (txid, id) > ($1, $2) \
                     ORDER BY txid, id LIMIT $3) e ON true",
            )?,
            order_events: client
                .prepare("SELECT record FROM order_events WHERE order_id = $1 ORDER BY version")?,
            order_version: client.prepare("SELECT version FROM orders WHERE id = $1")?,
            // A change set's new orders in one round trip (a batch placement saves a
            // thousand); returns the ids written, so one already taken is named.
            insert_orders: client.prepare(
                "INSERT INTO orders (id, version, status, channel, placed_secs, placed_nanos, snapshot, \
                                     customer_key) \
                 SELECT id, version, status, channel, placed_secs, placed_nanos, snapshot, customer \
                 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], \
                             $6::bigint[], $7::text[], $8::text[]) WITH ORDINALITY \
                     AS r (id, version, status, channel, placed_secs, placed_nanos, snapshot, \
                           customer, n) \
                 ORDER BY n \
                 ON CONFLICT (id) DO NOTHING RETURNING id",
            )?,
            // The version check and the write are one statement: under READ COMMITTED a
            // concurrent writer of the same row makes this one wait, then re-check the
            // WHERE against the new row and match nothing.
            update_order: client.prepare(
                "UPDATE orders SET version = $2, status = $3, channel = $4, placed_secs = $5, \
                 placed_nanos = $6, snapshot = $7 WHERE id = $1 AND version = $8",
            )?,
            // Every event of a change set in one round trip (arrays of equal length).
            insert_events: client.prepare(
                "INSERT INTO order_events (order_id, version, record) \
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])",
            )?,
            idempotency: client.prepare(
                "SELECT fingerprint, order_id, order_version FROM idempotency_records WHERE key = $1",
            )?,
            // `orders_by_customer` (migration 9): the customer's orders alone are read.
            customer_order_count: client.prepare(
                "SELECT count(*) FROM orders WHERE customer_key = $1 \
                 AND (placed_secs, placed_nanos) <= ($2, $3) AND id <> $4",
            )?,
            // A batch placement's keys in one round trip.
            idempotency_many: client.prepare(
                "SELECT key, fingerprint, order_id, order_version FROM idempotency_records \
                 WHERE key = ANY($1::text[])",
            )?,
            // Every key of a change set in one round trip, in the given order; returns
            // the keys written, so one already taken (or repeated) is named.
            insert_idempotency_many: client.prepare(
                "INSERT INTO idempotency_records (key, fingerprint, order_id, order_version) \
                 SELECT key, fingerprint, order_id, order_version \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY \
                     AS r (key, fingerprint, order_id, order_version, n) \
                 ORDER BY n \
                 ON CONFLICT (key) DO NOTHING RETURNING key",
            )?,
            // Every record of a change set in one round trip, in the given order (their
            // `seq` is "oldest first"); returns the ids written, so a repeated one is named.
            insert_outbox: client.prepare(
                "INSERT INTO outbox (id, topic, aggregate_id, record, payload_event) \
                 SELECT id, topic, aggregate_id, record, payload_event \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) \
                     WITH ORDINALITY AS r (id, topic, aggregate_id, record, payload_event, n) \
                 ORDER BY n \
                 ON CONFLICT (id) DO NOTHING RETURNING id",
            )?,
            // An announcement's event joined back (migration 7).
            pending: client.prepare(
                "SELECT o.id, o.topic, o.aggregate_id, o.payload_event, o.record, e.record \
                 FROM outbox o LEFT JOIN order_events e \
                     ON o.payload_event IS NOT NULL AND e.order_id = o.aggregate_id \
                     AND e.version = o.payload_event \
                 ORDER BY o.seq LIMIT $1",
            )?,
            acknowledge: client.prepare("DELETE FROM outbox WHERE id = $1")?,
            claim: client.prepare(
                "WITH c AS (UPDATE outbox \
                     SET claimed_by = $1, claimed_until = now() + make_interval(secs => $3) \
                     WHERE seq IN (SELECT seq FROM outbox \
                                   WHERE claimed_until IS NULL OR claimed_until < now() \
                                   ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
                     RETURNING seq, id, topic, aggregate_id, payload_event, record) \
                 SELECT c.id, c.topic, c.aggregate_id, c.payload_event, c.record, e.record \
                 FROM c LEFT JOIN order_events e \
                     ON c.payload_event IS NOT NULL AND e.order_id = c.aggregate_id \
                     AND e.version = c.payload_event \
                 ORDER BY c.seq",
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
