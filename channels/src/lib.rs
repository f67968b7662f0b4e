//! # ordersmith-channels
//!
//! Every sales channel's orders into one place, and stock back out. One pure adapter
//! per channel (Shopify, WooCommerce, Trendyol, Hepsiburada, Amazon SP-API v0 and
//! 2026-01-01, eBay): parse its order payload into a canonical [`ChannelOrder`], map its
//! statuses with an explicit table (an unknown status is `Unknown(raw)`, never an
//! error), verify its webhooks ([`webhook`]), import idempotently through the engine
//! ([`intake`]), resolve its identifiers ([`mapping`]) and plan its stock updates
//! within its limits ([`push`], [`rate`]).
//!
//! Like the core, the crate does no IO and reads no clock: times are parameters,
//! requests are data the host sends.
//!
//! ```
//! use ordersmith::engine::Engine;
//! use ordersmith_channels::intake::{ImportOutcome, Intake, IntakeOptions, MemoryIntakeLog};
//! use ordersmith_channels::mapping::MemoryIdentifierMap;
//! use ordersmith_channels::Channel;
//!
//! let engine = Engine::in_memory();
//! let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
//! let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
//! let body = br#"{"orderNumber": "10001", "shipmentPackageId": 77, "orderDate": 1763645400000,
//!   "currencyCode": "TRY", "shipmentPackageStatus": "Created", "packageTotalPrice": 179.8,
//!   "lines": [{"lineId": 1, "barcode": "869000", "stockCode": "TEA", "quantity": 2,
//!              "lineGrossAmount": 89.9, "lineSellerDiscount": 0, "lineTyDiscount": 0, "vatRate": 20}]}"#;
//! let first = intake.import_payload(Channel::Trendyol, body)?;
//! assert_eq!(first.outcome, ImportOutcome::Created);
//! // Delivered again: the same order, nothing changes.
//! let again = intake.import_payload(Channel::Trendyol, body)?;
//! assert_eq!(again.outcome, ImportOutcome::Unchanged);
//! assert_eq!(again.order.map(|o| o.id), first.order.map(|o| o.id));
//! // The SKU "TEA" is mapped to no variant: the order waits on hold.
//! assert_eq!(first.unmapped, vec!["TEA".to_string()]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod adapters;
pub mod error;
pub mod intake;
pub mod json;
pub mod mapping;
pub mod model;
pub mod push;
mod push_body;
pub mod rate;
pub mod stored;
pub mod webhook;

pub use adapters::claims::parse_events;
pub use adapters::parse_order;
pub use error::{all_error_codes, catalog, ChannelError};
pub use model::{
    Channel, ChannelEvent, ChannelLine, ChannelOrder, ChannelPart, ChannelShipping, ChannelStatus,
    DiscountBasis, ExternalIds, FundedBy, Lifecycle, LineDiscount, PartLine, RefundState,
    ReportedTotals, TotalMismatch,
};
