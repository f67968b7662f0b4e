//! Fulfilment: from a reserved order to parcels handed to a carrier.
//!
//! Confirming an order yields one [`FulfilmentOrder`] per location its stock is held
//! at (split shipments); each runs the warehouse flow on its own: pick (short picks
//! handled by [`ShortPickPolicy`]), pack into parcels, request a label (an outbox
//! effect the host performs), record the label, hand over. Handing a parcel over
//! commits exactly its units in the ledger and records them as shipped on the order:
//! shipped quantities follow from parcels.

mod order;

pub use order::{
    FulfilmentError, FulfilmentOrder, FulfilmentOrderStatus, Label, Parcel, ParcelSize,
    ParcelStatus, ShortPick, ShortPickPolicy,
};
