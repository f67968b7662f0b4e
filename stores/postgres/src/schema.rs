//! Versioned schema migrations, applied on connect.
//!
//! Adding tables (the stock ledger, for one) is a new file in `migrations/` and a new
//! entry at the end of [`MIGRATIONS`]; a migration, once released, is never edited.

use ordersmith::order::Order;
use postgres::{Client, Transaction};

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
        name: "stock log partitioned by variant",
        sql: include_str!("../migrations/0006_stock_partitions.sql"),
    },
    Migration {
        version: 7,
        name: "a change set committed in one call",
        sql: include_str!("../migrations/0007_commit_function.sql"),
    },
    Migration {
        version: 8,
        name: "placements fingerprinted by their event",
        sql: include_str!("../migrations/0008_placements_fingerprinted_by_their_event.sql"),
    },
    Migration {
        version: 9,
        name: "orders by customer",
        sql: include_str!("../migrations/0009_orders_by_customer.sql"),
    },
    Migration {
        version: 10,
        name: "hand-made reservations by variant",
        sql: include_str!("../migrations/0010_hand_reservations_by_variant.sql"),
    },
    Migration {
        version: 11,
        name: "commit function planned once",
        sql: include_str!("../migrations/0011_commit_function_planned_once.sql"),
    },
];

/// What a migration needs done in Rust after its SQL, in the same transaction: data
/// computed as the engine computes it.
fn after_sql(version: i64, tx: &mut Transaction<'_>) -> Result<(), String> {
    match version {
        9 => fill_customer_keys(tx),
        _ => Ok(()),
    }
}

/// Migration 9: the customer key of every order saved before it, read and written a
/// page of orders at a time (a whole table of snapshots at once would be held in memory).
fn fill_customer_keys(tx: &mut Transaction<'_>) -> Result<(), String> {
    const PAGE: i64 = 1_000;
    let mut after = String::new();
    loop {
        let rows = tx
            .query(
                "SELECT id, snapshot FROM orders WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &PAGE],
            )
            .map_err(|e| e.to_string())?;
        let (mut ids, mut keys) = (Vec::new(), Vec::new());
        for row in &rows {
            let id: String = row.try_get(0).map_err(|e| e.to_string())?;
            let snapshot: &str = row.try_get(1).map_err(|e| e.to_string())?;
            let order: Order = serde_json::from_str(snapshot)
                .map_err(|e| format!("order {id}'s snapshot is not an order: {e}"))?;
            if let Some(key) = order.customer_key() {
                ids.push(id.clone());
                keys.push(key);
            }
            after = id;
        }
        tx.execute(
            "UPDATE orders AS o SET customer_key = k.key \
             FROM unnest($1::text[], $2::text[]) AS k (id, key) WHERE o.id = k.id",
            &[&ids, &keys],
        )
        .map_err(|e| e.to_string())?;
        if rows.len() < PAGE as usize {
            return Ok(());
        }
    }
}

/// Brings the schema to the newest version in one transaction, holding an advisory
/// lock so processes starting together migrate it once.
pub(crate) fn migrate(client: &mut Client, schema: Option<&str>) -> Result<(), OpenError> {
    let connect = |e: postgres::Error| OpenError::Connect {
        reason: e.to_string(),
    };
    let mut tx = client.transaction().map_err(connect)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(7061626, hashtext(coalesce($1, current_schema())))",
        &[&schema],
    )
    .map_err(connect)?;
    if let Some(schema) = schema {
        // The name was validated as a plain identifier by the caller.
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\""
        ))
        .map_err(connect)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT      NOT NULL PRIMARY KEY,
             name       TEXT        NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .map_err(connect)?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .and_then(|r| r.try_get(0))
        .map_err(connect)?;
    let supported = MIGRATIONS.last().map_or(0, |m| m.version);
    if current > supported {
        return Err(OpenError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let failed = |e: postgres::Error| OpenError::Migration {
            version: m.version,
            name: m.name.to_string(),
            reason: e.to_string(),
        };
        tx.batch_execute(m.sql).map_err(failed)?;
        after_sql(m.version, &mut tx).map_err(|reason| OpenError::Migration {
            version: m.version,
            name: m.name.to_string(),
            reason,
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .map_err(failed)?;
    }
    tx.commit().map_err(connect)
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
