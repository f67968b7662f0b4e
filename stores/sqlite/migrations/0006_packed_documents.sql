-- Packed documents (issue 9). From this version on, the document columns
-- (orders.snapshot, order_events.record, outbox.record, idempotency_records.fingerprint,
-- stock_log.entry) hold zstd-compressed JSON as BLOBs: one format byte, the JSON's length
-- (4 bytes, little endian) and a zstd frame compressed against the dictionary the format
-- names (src/codec.rs). Rows written before stay JSON text and are read as they are.
-- SQLite keeps a BLOB in a TEXT column as it is, so no table is rebuilt; this version
-- is what makes an older ordersmith refuse such a file (SQLITE_SCHEMA_TOO_NEW) instead
-- of misreading it.
--
-- document_formats records the formats and their dictionaries' checksums (FNV-1a, 64
-- bit, of the dictionary file's bytes), so a file says how to read it.
CREATE TABLE document_formats (
    format     INTEGER NOT NULL PRIMARY KEY,
    codec      TEXT    NOT NULL,
    dictionary TEXT    NOT NULL
);
INSERT INTO document_formats (format, codec, dictionary)
VALUES (1, 'zstd', 'stores/sqlite/dictionaries/v1.json fnv1a64:f9f6c6429cc9302b');

-- An outbox record whose payload is one of the order's event records (every order
-- event's record is) keeps the event's version here and an empty payload in `record`;
-- reading joins the event back. NULL: the payload is in `record`.
ALTER TABLE outbox ADD COLUMN payload_event INTEGER;
