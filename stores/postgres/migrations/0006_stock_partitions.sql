-- The stock log partitioned by variant (ADR 0012, refining ADR 0004): writers of
-- different variants no longer serialise on one head row.
--
-- Each entry has a place: its partition (a variant id, or '' for a global entry), its
-- number within the partition (pseq, gapless from 1) and its basis (for a variant entry,
-- the global entries before it; for a global entry, all entries before it). A partition's
-- head row is moved with a version-checked UPDATE, exactly like an order; a variant write
-- holds the global head row FOR SHARE (so many run at once), a global write updates it
-- (so it waits for them, and they for it).
CREATE TABLE stock_entries (
    id        BIGSERIAL NOT NULL PRIMARY KEY,
    -- The writing transaction (xid8 as a number): readers catch up from the oldest
    -- transaction still running at their last read, so an entry committed out of id
    -- order is never missed.
    txid      BIGINT    NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    partition TEXT      COLLATE "C" NOT NULL,
    pseq      BIGINT    NOT NULL,
    basis     BIGINT    NOT NULL,
    entry     TEXT      NOT NULL,
    UNIQUE (partition, pseq)
);
CREATE INDEX stock_entries_txid ON stock_entries (txid, id);
CREATE TABLE stock_heads (
    partition TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    pseq      BIGINT NOT NULL
);
-- The single-head log so far becomes the global partition, in its order.
INSERT INTO stock_entries (txid, partition, pseq, basis, entry)
    SELECT 0, '', seq, seq - 1, entry FROM stock_log ORDER BY seq;
INSERT INTO stock_heads (partition, pseq)
    SELECT '', COALESCE(MAX(seq), 0) FROM stock_log;
DROP TABLE stock_log;
DROP TABLE stock_head;
