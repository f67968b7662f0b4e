-- Invoices and credit notes (issue 11).
--
-- invoice_series holds the last number taken in each series. A commit takes the next
-- number with a compare-and-set on that row inside the transaction that saves the
-- document, so a failed save takes no number and two processes never take the same:
-- the numbers of a series stay gapless.
CREATE TABLE invoice_series (
    series      TEXT    NOT NULL PRIMARY KEY,
    last_number INTEGER NOT NULL CHECK (last_number >= 1)
) WITHOUT ROWID;

-- Issued documents are immutable: inserted once, never updated or deleted.
CREATE TABLE invoice_documents (
    number       TEXT    NOT NULL PRIMARY KEY,
    series       TEXT    NOT NULL REFERENCES invoice_series (series),
    sequence     INTEGER NOT NULL CHECK (sequence >= 1),
    kind         TEXT    NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    order_id     TEXT    NOT NULL,
    issued_secs  INTEGER NOT NULL,
    issued_nanos INTEGER NOT NULL,
    document     TEXT    NOT NULL,
    UNIQUE (series, sequence)
);
CREATE INDEX invoice_documents_by_order
    ON invoice_documents (order_id, issued_secs, issued_nanos, kind, sequence);

CREATE TRIGGER invoice_documents_immutable BEFORE UPDATE ON invoice_documents
BEGIN
    SELECT RAISE(ABORT, 'issued invoices and credit notes are immutable');
END;

CREATE TRIGGER invoice_documents_never_deleted BEFORE DELETE ON invoice_documents
BEGIN
    SELECT RAISE(ABORT, 'issued invoices and credit notes are never deleted');
END;
