-- The stock ledger as an append-only log of commands (ADR 0004): balances, journal and
-- reservations are its fold. seq is gapless from 1; the primary key makes a rewrite
-- impossible.
CREATE TABLE stock_log (
    seq   INTEGER NOT NULL PRIMARY KEY,
    entry TEXT    NOT NULL
);
