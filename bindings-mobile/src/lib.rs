//! # ordersmith for Kotlin and Swift
//!
//! uniffi glue over the `ordersmith` engine and its SQLite store, so a picker's phone
//! or a shop owner's tablet runs the same engine offline. This crate converts types
//! and errors and nothing else: every rule lives in `core/`.
//!
//! One file per core concern: [`engine`] (opening, the basic order commands, listing, effects), [`import`] (bulk
//! import from JSON lines), [`dump`] (backing a shop up to a file and restoring it), [`fulfilment`]
//! (the warehouse flow), [`tracking`] (carrier events), [`kpi`] (KPI tables and the
//! report), [`stock`], [`catalog`],
//! [`order`] (the records and the order commands beyond the basics) and [`money`], [`invoice`] (invoices and credit notes), [`notify`] (customer messages to send), [`options`] (engine tuning), [`rules`] (automation rules: load, validate, dry run, live, ship-by risk),
//! [`ports`] (what the host implements) and
//! [`errors`] (the one place core errors are mapped).
//!
//! Generate the Kotlin and Swift sources with the in-workspace generator (it matches
//! this crate's uniffi version):
//!
//! ```text
//! cargo build --release -p ordersmith-mobile --lib
//! cargo run -p ordersmith-mobile --features cli --bin uniffi-bindgen -- generate \
//!     --library target/release/libordersmith_mobile.so -l kotlin -l swift -o gen --no-format
//! ```

uniffi::setup_scaffolding!();

pub mod batch;
pub mod catalog;
pub mod convert;
pub mod dump;
pub mod engine;
pub mod errors;
pub mod fulfilment;
pub mod import;
pub mod invoice;
pub mod kpi;
pub mod money;
pub mod notify;
pub mod options;
pub mod order;
pub mod payment;
pub mod ports;
pub mod returns;
pub mod rules;
pub mod stock;
pub mod tracking;
