//! Orders per second placed + confirmed on PostgreSQL (the server in ORDERSMITH_PG_URL,
//! a fresh schema), one writer and 8 writer threads over a pool of 8 connections.
//! Run: `ORDERSMITH_PG_URL='host=... user=...' cargo bench -p ordersmith-postgres --bench stores_postgres`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "stores_common.rs"]
mod common;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use ordersmith_postgres::{PgOptions, PgStore};

fn stores(c: &mut Criterion) {
    let Ok(url) = std::env::var("ORDERSMITH_PG_URL") else {
        eprintln!("ORDERSMITH_PG_URL is not set: skipping the PostgreSQL benchmarks");
        return;
    };
    let schema = format!("bench_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let options = PgOptions {
        schema: Some(schema.clone()),
        pool_size: 8,
        ..PgOptions::default()
    };
    let store = Arc::new(PgStore::connect(&url, options).unwrap());
    common::bench_store(c, "postgres", store.clone(), store);
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
}

criterion_group!(benches, stores);
criterion_main!(benches);
