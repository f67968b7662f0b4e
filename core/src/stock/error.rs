//! Errors of the stock ledger.

use chrono::{DateTime, Utc};

use crate::ids::{ChannelId, CountId, IdError, LocationId, ReservationId, TransferId, VariantId};

use super::model::{AdjustmentReason, Bucket, StockPolicy};

/// Why a stock command was refused. The ledger is unchanged whenever one is returned.
///
/// Checks run in a fixed order of precedence, documented on each command: idempotency
/// first (a retry of an accepted command is answered before anything else), then the
/// shape of the input (quantities, text), then what it refers to (variant, location,
/// reservation), then the stock itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum StockError {
    /// The variant was never registered with `register_variant`.
    #[error("variant {variant} is not registered in the stock ledger")]
    UnknownVariant {
        /// The variant asked for.
        variant: VariantId,
    },
    /// The location was never added with `add_location`.
    #[error("location {location} is not known to the stock ledger")]
    UnknownLocation {
        /// The location asked for.
        location: LocationId,
    },
    /// `add_location` or `register_variant` (or `define_bundle`) was called again for the
    /// same id with different data.
    #[error("{what} {id} already exists with different settings")]
    AlreadyExists {
        /// What kind of thing (`"location"`, `"variant"`, `"bundle"`).
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A quantity was zero or above [`super::limits::MAX_QUANTITY`].
    #[error("quantity {quantity} is invalid: expected 1 to {max}")]
    InvalidQuantity {
        /// The quantity given.
        quantity: i64,
        /// The limit.
        max: u32,
    },
    /// A reservation would take more than the variant's policy allows.
    #[error(
        "cannot reserve {requested} of {variant} at {location}: only {available} can be reserved under policy {policy}"
    )]
    Insufficient {
        /// The variant short of stock (a bundle's component when a bundle was reserved).
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units asked for.
        requested: u64,
        /// Units the policy would still allow (may be negative when already oversold).
        available: i64,
        /// The variant's policy.
        policy: StockPolicy,
    },
    /// A physical quantity (on hand, free on hand, quarantined, incoming, in transit) is
    /// smaller than what a movement would take from it.
    #[error("cannot take {requested} from {bucket} of {variant} at {location}: only {present}")]
    NotEnough {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Which quantity.
        bucket: Bucket,
        /// Units asked for.
        requested: u64,
        /// Units there.
        present: i64,
    },
    /// The reservation id was used before with different data.
    #[error("reservation {reservation} already exists with different data")]
    ReservationConflict {
        /// The reservation id.
        reservation: ReservationId,
    },
    /// The reservation was released (cancelled or expired) and cannot be committed.
    #[error("reservation {reservation} was released and cannot be committed")]
    ReservationReleased {
        /// The reservation id.
        reservation: ReservationId,
    },
    /// The reservation was fully committed and cannot be released.
    #[error("reservation {reservation} was committed and cannot be released")]
    ReservationCommitted {
        /// The reservation id.
        reservation: ReservationId,
    },
    /// The reservation is past its expiry: it can no longer be committed.
    #[error("reservation {reservation} expired at {expired_at}")]
    ReservationExpired {
        /// The reservation id.
        reservation: ReservationId,
        /// When it expired.
        expired_at: DateTime<Utc>,
    },
    /// No reservation has this id.
    #[error("reservation {reservation} not found")]
    UnknownReservation {
        /// The reservation id.
        reservation: ReservationId,
    },
    /// An expiry was not after `now`.
    #[error("expiry {expires_at} is not after now ({now})")]
    InvalidExpiry {
        /// The expiry given.
        expires_at: DateTime<Utc>,
        /// The time of the command.
        now: DateTime<Utc>,
    },
    /// A partial commit asked for more than the reservation still holds.
    #[error("reservation {reservation} holds {remaining}, cannot commit {requested}")]
    CommitTooLarge {
        /// The reservation id.
        reservation: ReservationId,
        /// Units asked for.
        requested: u32,
        /// Units still reserved.
        remaining: u32,
    },
    /// A partial release asked for more than the reservation still holds.
    #[error("reservation {reservation} holds {remaining}, cannot release {requested}")]
    ReleaseTooLarge {
        /// The reservation id.
        reservation: ReservationId,
        /// Units asked for.
        requested: u32,
        /// Units still reserved.
        remaining: u32,
    },
    /// A transfer named the same location as source and destination.
    #[error("cannot transfer from {location} to itself")]
    SameLocation {
        /// The location.
        location: LocationId,
    },
    /// No transfer has this id.
    #[error("transfer {transfer} not found")]
    UnknownTransfer {
        /// The transfer id.
        transfer: TransferId,
    },
    /// The transfer id was used before with different data.
    #[error("transfer {transfer} already exists with different data")]
    TransferConflict {
        /// The transfer id.
        transfer: TransferId,
    },
    /// An adjustment's sign does not fit its reason (damage and loss only decrease stock,
    /// found stock only increases it).
    #[error("an adjustment for {reason} cannot change stock by {delta}")]
    AdjustmentDirection {
        /// The reason given.
        reason: AdjustmentReason,
        /// The change asked for.
        delta: i64,
    },
    /// No cycle count has this id.
    #[error("count {count} not found")]
    UnknownCount {
        /// The count id.
        count: CountId,
    },
    /// The count id was used before with different data.
    #[error("count {count} already exists with different data")]
    CountConflict {
        /// The count id.
        count: CountId,
    },
    /// The count was already closed.
    #[error("count {count} is closed")]
    CountClosed {
        /// The count id.
        count: CountId,
    },
    /// A counted variant is not on the count's sheet.
    #[error("variant {variant} is not part of count {count}")]
    CountVariantNotListed {
        /// The count id.
        count: CountId,
        /// The variant.
        variant: VariantId,
    },
    /// A bundle definition was refused.
    #[error("invalid bundle {bundle}: {reason}")]
    InvalidBundle {
        /// The bundle variant.
        bundle: VariantId,
        /// Why.
        reason: &'static str,
    },
    /// No channel rule exists for this channel.
    #[error("channel {channel} has no availability rule")]
    UnknownChannel {
        /// The channel.
        channel: ChannelId,
    },
    /// A channel rule had a share above 100 percent or a buffer above the limit.
    #[error("invalid rule for channel {channel}: {reason}")]
    InvalidChannelRule {
        /// The channel.
        channel: ChannelId,
        /// Why.
        reason: &'static str,
    },
    /// A text (reference, name, region) was too long or a list too large.
    #[error("too many {what}: {count}, at most {max}")]
    TooMany {
        /// What was counted (e.g. `"characters in reference"`).
        what: &'static str,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A parameter was out of range or not this ledger's: a forecast's zero-day
    /// window, or a variant or location key another ledger made.
    #[error("invalid parameter {parameter}: {reason}")]
    InvalidParameter {
        /// The parameter.
        parameter: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// An id derived by the ledger was invalid.
    #[error(transparent)]
    Id(#[from] IdError),
}

impl StockError {
    /// Every code this enum can return, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "STOCK_UNKNOWN_VARIANT",
        "STOCK_UNKNOWN_LOCATION",
        "STOCK_ALREADY_EXISTS",
        "STOCK_INVALID_QUANTITY",
        "STOCK_INSUFFICIENT",
        "STOCK_NOT_ENOUGH",
        "STOCK_RESERVATION_CONFLICT",
        "STOCK_RESERVATION_RELEASED",
        "STOCK_RESERVATION_COMMITTED",
        "STOCK_RESERVATION_EXPIRED",
        "STOCK_UNKNOWN_RESERVATION",
        "STOCK_INVALID_EXPIRY",
        "STOCK_COMMIT_TOO_LARGE",
        "STOCK_RELEASE_TOO_LARGE",
        "STOCK_SAME_LOCATION",
        "STOCK_UNKNOWN_TRANSFER",
        "STOCK_TRANSFER_CONFLICT",
        "STOCK_ADJUSTMENT_DIRECTION",
        "STOCK_UNKNOWN_COUNT",
        "STOCK_COUNT_CONFLICT",
        "STOCK_COUNT_CLOSED",
        "STOCK_COUNT_VARIANT_NOT_LISTED",
        "STOCK_INVALID_BUNDLE",
        "STOCK_UNKNOWN_CHANNEL",
        "STOCK_INVALID_CHANNEL_RULE",
        "STOCK_TOO_MANY",
        "STOCK_INVALID_PARAMETER",
        "STOCK_INVALID_ID",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownVariant { .. } => "STOCK_UNKNOWN_VARIANT",
            Self::UnknownLocation { .. } => "STOCK_UNKNOWN_LOCATION",
            Self::AlreadyExists { .. } => "STOCK_ALREADY_EXISTS",
            Self::InvalidQuantity { .. } => "STOCK_INVALID_QUANTITY",
            Self::Insufficient { .. } => "STOCK_INSUFFICIENT",
            Self::NotEnough { .. } => "STOCK_NOT_ENOUGH",
            Self::ReservationConflict { .. } => "STOCK_RESERVATION_CONFLICT",
            Self::ReservationReleased { .. } => "STOCK_RESERVATION_RELEASED",
            Self::ReservationCommitted { .. } => "STOCK_RESERVATION_COMMITTED",
            Self::ReservationExpired { .. } => "STOCK_RESERVATION_EXPIRED",
            Self::UnknownReservation { .. } => "STOCK_UNKNOWN_RESERVATION",
            Self::InvalidExpiry { .. } => "STOCK_INVALID_EXPIRY",
            Self::CommitTooLarge { .. } => "STOCK_COMMIT_TOO_LARGE",
            Self::ReleaseTooLarge { .. } => "STOCK_RELEASE_TOO_LARGE",
            Self::SameLocation { .. } => "STOCK_SAME_LOCATION",
            Self::UnknownTransfer { .. } => "STOCK_UNKNOWN_TRANSFER",
            Self::TransferConflict { .. } => "STOCK_TRANSFER_CONFLICT",
            Self::AdjustmentDirection { .. } => "STOCK_ADJUSTMENT_DIRECTION",
            Self::UnknownCount { .. } => "STOCK_UNKNOWN_COUNT",
            Self::CountConflict { .. } => "STOCK_COUNT_CONFLICT",
            Self::CountClosed { .. } => "STOCK_COUNT_CLOSED",
            Self::CountVariantNotListed { .. } => "STOCK_COUNT_VARIANT_NOT_LISTED",
            Self::InvalidBundle { .. } => "STOCK_INVALID_BUNDLE",
            Self::UnknownChannel { .. } => "STOCK_UNKNOWN_CHANNEL",
            Self::InvalidChannelRule { .. } => "STOCK_INVALID_CHANNEL_RULE",
            Self::TooMany { .. } => "STOCK_TOO_MANY",
            Self::InvalidParameter { .. } => "STOCK_INVALID_PARAMETER",
            Self::Id(_) => "STOCK_INVALID_ID",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed() {
        let mut codes = StockError::CODES.to_vec();
        assert!(codes.iter().all(|c| c.starts_with("STOCK_")));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), StockError::CODES.len());
        let e = StockError::SameLocation {
            location: LocationId::parse("IST").unwrap(),
        };
        assert!(StockError::CODES.contains(&e.code()));
        assert_eq!(e.to_string(), "cannot transfer from IST to itself");
    }
}
