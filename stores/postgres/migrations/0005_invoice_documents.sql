-- Invoices and credit notes (issue 11).
--
-- invoice_series holds the last number taken in each series. A commit takes the next
-- number with a compare-and-set on that row (UPDATE ... WHERE last_number = expected,
-- or an INSERT for a new series) inside the transaction that saves the document. At
-- READ COMMITTED a concurrent taker waits for the row and then finds it moved on, so
-- it conflicts and retries: numbers are unique and, because a failed save takes none,
-- gapless, across every process sharing the database.
CREATE TABLE invoice_series (
    series      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    last_number BIGINT NOT NULL CHECK (last_number >= 1)
);

-- Issued documents are immutable: inserted once, never updated or deleted.
CREATE TABLE invoice_documents (
    number       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    series       TEXT COLLATE "C" NOT NULL REFERENCES invoice_series (series),
    sequence     BIGINT NOT NULL CHECK (sequence >= 1),
    kind         TEXT   NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    order_id     TEXT COLLATE "C" NOT NULL,
    issued_secs  BIGINT NOT NULL,
    issued_nanos BIGINT NOT NULL,
    document     TEXT   NOT NULL,
    UNIQUE (series, sequence)
);
CREATE INDEX invoice_documents_by_order
    ON invoice_documents (order_id, issued_secs, issued_nanos, kind, sequence);

CREATE FUNCTION invoice_documents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued invoices and credit notes are immutable and never deleted';
END
$$;

CREATE TRIGGER invoice_documents_immutable
    BEFORE UPDATE OR DELETE ON invoice_documents
    FOR EACH ROW EXECUTE FUNCTION invoice_documents_immutable();
