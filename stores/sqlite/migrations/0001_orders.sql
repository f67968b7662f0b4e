-- Orders: the snapshot as JSON plus the columns queries filter and sort on.
-- placed_at is stored as (seconds, nanoseconds) since the epoch so ordering is exact
-- to the nanosecond, like the in-memory store's.
CREATE TABLE orders (
    id           TEXT    NOT NULL PRIMARY KEY,
    version      INTEGER NOT NULL CHECK (version >= 1),
    status       TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    placed_secs  INTEGER NOT NULL,
    placed_nanos INTEGER NOT NULL,
    snapshot     TEXT    NOT NULL
);
CREATE INDEX orders_by_placed ON orders (placed_secs, placed_nanos, id);
CREATE INDEX orders_by_status ON orders (status, placed_secs, placed_nanos, id);
CREATE INDEX orders_by_channel ON orders (channel, placed_secs, placed_nanos, id);

-- Event records, append-only: the primary key makes a rewrite impossible.
CREATE TABLE order_events (
    order_id TEXT    NOT NULL REFERENCES orders (id),
    version  INTEGER NOT NULL,
    record   TEXT    NOT NULL,
    PRIMARY KEY (order_id, version)
) WITHOUT ROWID;

CREATE TABLE idempotency_records (
    key           TEXT    NOT NULL PRIMARY KEY,
    fingerprint   TEXT    NOT NULL,
    order_id      TEXT    NOT NULL,
    order_version INTEGER NOT NULL
) WITHOUT ROWID;

-- The transactional outbox: seq gives "oldest first"; AUTOINCREMENT so a seq is never
-- reused after the newest record is acknowledged.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    topic        TEXT    NOT NULL,
    aggregate_id TEXT    NOT NULL,
    record       TEXT    NOT NULL
);
