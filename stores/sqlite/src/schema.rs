//! Versioned schema migrations, applied on open.
//!
//! Adding tables (the stock ledger, for one) is a new file in `migrations/` and a new
//! entry at the end of [`MIGRATIONS`]; a migration, once released, is never edited.

use rusqlite::{params, Connection, Transaction, TransactionBehavior};

use crate::codec::Doc;
use crate::placed::order_from_row;
use crate::OpenError;

/// One schema step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Version reached after it; versions are 1, 2, 3, ... without gaps.
    pub version: i64,
    /// What it does.
    pub name: &'static str,
    /// The SQL, run in the same transaction that records it.
    pub sql: &'static str,
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "orders, order events, idempotency records, outbox",
        sql: include_str!("../migrations/0001_orders.sql"),
    },
    Migration {
        version: 2,
        name: "stock log",
        sql: include_str!("../migrations/0002_stock_log.sql"),
    },
    Migration {
        version: 3,
        name: "id blocks",
        sql: include_str!("../migrations/0003_id_blocks.sql"),
    },
    Migration {
        version: 4,
        name: "keyed records",
        sql: include_str!("../migrations/0004_keyed_records.sql"),
    },
    Migration {
        version: 5,
        name: "invoices and credit notes",
        sql: include_str!("../migrations/0005_invoice_documents.sql"),
    },
    Migration {
        version: 6,
        name: "packed documents",
        sql: include_str!("../migrations/0006_packed_documents.sql"),
    },
    Migration {
        version: 7,
        name: "announcements without a document",
        sql: include_str!("../migrations/0007_announcements_without_documents.sql"),
    },
    Migration {
        version: 8,
        name: "placements fingerprinted by their event",
        sql: include_str!("../migrations/0008_placements_fingerprinted_by_their_event.sql"),
    },
    Migration {
        version: 9,
        name: "orders kept as their placed event",
        sql: include_str!("../migrations/0009_orders_kept_as_their_placed_event.sql"),
    },
    Migration {
        version: 10,
        name: "orders by customer",
        sql: include_str!("../migrations/0010_orders_by_customer.sql"),
    },
    Migration {
        version: 11,
        name: "documents packed with dictionary 2",
        sql: include_str!("../migrations/0011_documents_packed_with_dictionary_2.sql"),
    },
];

/// What a migration needs done in Rust after its SQL, in the same transaction: data
/// SQL cannot compute (packed documents).
fn after_sql(version: i64, tx: &Transaction<'_>) -> Result<(), String> {
    match version {
        10 => fill_customer_keys(tx),
        _ => Ok(()),
    }
}

/// Migration 10: the customer key of every order saved before it.
fn fill_customer_keys(tx: &Transaction<'_>) -> Result<(), String> {
    let keys: Vec<(String, String)> = {
        let mut rows = tx
            .prepare(concat!("SELECT ", order_columns!(), ", id FROM orders"))
            .map_err(|e| e.to_string())?;
        let rows = rows
            .query_map([], |r| {
                Ok((
                    r.get::<_, Doc>(0)?,
                    r.get::<_, Option<Doc>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| e.to_string())?;
        let mut keys = Vec::new();
        for row in rows {
            let (snapshot, placed, id) = row.map_err(|e| e.to_string())?;
            let order =
                order_from_row(&id, &snapshot, placed.as_ref()).map_err(|e| e.to_string())?;
            if let Some(key) = order.customer_key() {
                keys.push((id, key));
            }
        }
        keys
    };
    let mut update = tx
        .prepare("UPDATE orders SET customer_key = ?2 WHERE id = ?1")
        .map_err(|e| e.to_string())?;
    for (id, key) in keys {
        update
            .execute(params![id, key])
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Brings the database to the newest schema, in one immediate transaction so two
/// processes opening a new file at once do not both migrate it.
pub(crate) fn migrate(conn: &mut Connection, shown: &str) -> Result<(), OpenError> {
    let open = |e: rusqlite::Error| OpenError::Open {
        path: shown.to_string(),
        reason: e.to_string(),
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(open)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER NOT NULL PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at TEXT    NOT NULL
         )",
    )
    .map_err(open)?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(open)?;
    let supported = MIGRATIONS.last().map_or(0, |m| m.version);
    if current > supported {
        return Err(OpenError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let failed = |e: rusqlite::Error| OpenError::Migration {
            version: m.version,
            name: m.name.to_string(),
            reason: e.to_string(),
        };
        tx.execute_batch(m.sql).map_err(failed)?;
        after_sql(m.version, &tx).map_err(|reason| OpenError::Migration {
            version: m.version,
            name: m.name.to_string(),
            reason,
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) \
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            params![m.version, m.name],
        )
        .map_err(failed)?;
    }
    tx.commit().map_err(open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_contiguous_from_one() {
        for (expected, m) in (1..).zip(MIGRATIONS) {
            assert_eq!(m.version, expected, "{}", m.name);
        }
    }
}
