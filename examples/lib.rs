//! Runnable examples for ordersmith (`cargo run --release --example demo`); this
//! library is empty and exists so the examples can depend on the stores, which the
//! core crate must not.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
