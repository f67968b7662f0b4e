-- Blocks of order ids (hi-lo): a store hands out ids from a block it reserved here in
-- one statement, so ids stay unique across processes and restarts without a round trip
-- per id. A restart abandons the rest of its block: ids may have gaps, never repeats.
CREATE TABLE id_blocks (
    kind       TEXT   NOT NULL PRIMARY KEY,
    next_value BIGINT NOT NULL CHECK (next_value >= 1)
);
