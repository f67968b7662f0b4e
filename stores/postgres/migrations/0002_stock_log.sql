-- The stock ledger as an append-only log of commands (ADR 0004): balances, journal and
-- reservations are its fold. seq is gapless from 1.
CREATE TABLE stock_log (
    seq   BIGINT NOT NULL PRIMARY KEY,
    entry TEXT   NOT NULL
);
-- The head is one row: appending is a version-checked UPDATE of it, so two writers
-- serialise on its row lock and the later one, re-checking its WHERE after the first
-- commits, matches nothing and reports a conflict (the same rule as orders).
CREATE TABLE stock_head (
    id  SMALLINT NOT NULL PRIMARY KEY CHECK (id = 1),
    seq BIGINT   NOT NULL
);
INSERT INTO stock_head (id, seq) VALUES (1, 0);
