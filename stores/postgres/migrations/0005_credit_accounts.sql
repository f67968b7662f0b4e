-- Store credit: one versioned account per customer (ordersmith::returns::CreditAccount),
-- saved with an expected version like an order, so two writers spending the same
-- balance cannot both succeed. The snapshot is the account as JSON text.
CREATE TABLE credit_accounts (
    customer_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    version     BIGINT NOT NULL CHECK (version >= 1),
    snapshot    TEXT   NOT NULL
);
