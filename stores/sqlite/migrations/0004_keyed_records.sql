-- Keyed records: small versioned JSON documents a capability beside the order keeps in
-- the same database (a channel's identifier map and intake log). Keys compare as bytes
-- (BINARY), so listings page in the port's order.
CREATE TABLE keyed_records (
    namespace  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    value_json TEXT    NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
