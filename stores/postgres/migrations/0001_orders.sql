-- Orders: the snapshot as JSON text plus the columns queries filter and sort on.
-- Ids and keys use COLLATE "C" so ordering is by bytes, like Rust's str and SQLite,
-- whatever the database's locale. Documents are TEXT, not JSONB: they read back
-- byte-exact and accept every string serde_json writes (JSONB refuses \u0000);
-- a later migration can add JSONB expression indexes if ad-hoc queries need them.
CREATE TABLE orders (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    version      BIGINT NOT NULL CHECK (version >= 1),
    status       TEXT   NOT NULL,
    channel      TEXT COLLATE "C" NOT NULL,
    placed_secs  BIGINT NOT NULL,
    placed_nanos BIGINT NOT NULL,
    snapshot     TEXT   NOT NULL
);
CREATE INDEX orders_by_placed ON orders (placed_secs, placed_nanos, id);
CREATE INDEX orders_by_status ON orders (status, placed_secs, placed_nanos, id);
CREATE INDEX orders_by_channel ON orders (channel, placed_secs, placed_nanos, id);

-- Event records, append-only: the primary key makes a rewrite impossible.
CREATE TABLE order_events (
    order_id TEXT COLLATE "C" NOT NULL REFERENCES orders (id),
    version  BIGINT NOT NULL,
    record   TEXT   NOT NULL,
    PRIMARY KEY (order_id, version)
);

CREATE TABLE idempotency_records (
    key           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    fingerprint   TEXT   NOT NULL,
    order_id      TEXT COLLATE "C" NOT NULL,
    order_version BIGINT NOT NULL
);

-- The transactional outbox. seq gives "oldest first"; claimed_by/claimed_until are the
-- lease of claim_pending (several workers, SKIP LOCKED).
CREATE TABLE outbox (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT COLLATE "C" NOT NULL UNIQUE,
    topic         TEXT NOT NULL,
    aggregate_id  TEXT NOT NULL,
    record        TEXT NOT NULL,
    claimed_by    TEXT,
    claimed_until TIMESTAMPTZ
);
