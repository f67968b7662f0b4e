//! # ordersmith
//!
//! An embeddable order-management engine: a canonical order with a real state machine,
//! ports through which the core meets the world, and one [`engine::Engine`] facade.
//!
//! The core meets the world only through its [`ports`]: no network, no globals, no wall
//! clock. Time and ids come through them; effects leave as outbox records the host
//! drains. Two things touch the machine directly, both asked for by the host: a bulk
//! call prepares its next batch on a scoped thread while the store commits the last
//! (ADR 0013), and `Engine::export_dump_to_file` / `import_dump_from_file` write and read
//! the dump file the host names.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod catalog;
pub mod engine;
pub mod errors;
pub mod fulfilment;
pub mod ids;
pub mod invoice;
pub mod kpi;
pub mod money;
pub mod notify;
pub mod order;
pub mod payment;
pub mod pii;
pub mod ports;
pub mod returns;
pub mod rules;
pub mod sourcing;
pub mod sparse;
pub mod stock;
mod timefmt;

/// Every stable error code any ordersmith error can carry, module by module.
pub fn all_error_codes() -> Vec<&'static str> {
    [
        money::MoneyError::CODES,
        ids::IdError::CODES,
        catalog::CatalogError::CODES,
        order::OrderError::CODES,
        order::JsonLineError::CODES,
        ports::StoreError::CODES,
        ports::dump::DumpError::CODES,
        engine::EngineError::CODES,
        stock::StockError::CODES,
        sourcing::SourcingError::CODES,
        fulfilment::FulfilmentError::CODES,
        fulfilment::CarrierChoiceError::CODES,
        payment::PaymentError::CODES,
        returns::ReturnsError::CODES,
        fulfilment::ident::IdentError::CODES,
        fulfilment::tracking::TrackingError::CODES,
        fulfilment::deadline::CalendarError::CODES,
        notify::NotifyError::CODES,
        invoice::InvoiceError::CODES,
        kpi::KpiError::CODES,
        rules::RulesError::CODES,
    ]
    .concat()
}

/// The repository README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
