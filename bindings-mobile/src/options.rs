//! Engine tuning a phone sets when it opens the engine: reservations (on confirm,
//! split, shortage, time-to-live and what expiry does), sourcing, short picks, SSCCs,
//! invoicing, returns, the shipping calendar and transit days, and customer
//! notifications.

use std::collections::{BTreeMap, HashMap};

use ordersmith::engine::{self, EngineConfig};
use ordersmith::fulfilment::{self as core, SsccConfig};
use ordersmith::ids::ChannelId;

use crate::convert::core_minutes;
use crate::errors::OrdersmithError;

/// What a short pick does with the units the picker could not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ShortPickPolicy {
    /// Reserve them elsewhere (or hold the order if no location has them).
    Resource,
    /// Hold the order until stock arrives.
    Backorder,
    /// Cancel the missing units.
    CancelLine,
}

impl From<ShortPickPolicy> for core::ShortPickPolicy {
    fn from(p: ShortPickPolicy) -> Self {
        match p {
            ShortPickPolicy::Resource => Self::Resource,
            ShortPickPolicy::Backorder => Self::Backorder,
            ShortPickPolicy::CancelLine => Self::CancelLine,
        }
    }
}

/// How the engine chooses the locations an order's stock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SourcingStrategy {
    /// Locations by priority (the core's default).
    Priority,
    /// As few locations as possible.
    FewestShipments,
    /// The shipping address's region first (by priority without one).
    NearestRegion,
}

impl From<SourcingStrategy> for engine::SourcingConfig {
    fn from(s: SourcingStrategy) -> Self {
        match s {
            SourcingStrategy::Priority => Self::Priority,
            SourcingStrategy::FewestShipments => Self::FewestShipments,
            SourcingStrategy::NearestRegion => Self::NearestRegion,
        }
    }
}

/// What a confirmation does when stock is short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ShortagePolicy {
    /// Refuse it with `STOCK_INSUFFICIENT`; nothing changes (the core's default).
    Fail,
    /// Confirm, reserve what there is, and hold the order (`INSUFFICIENT_STOCK`).
    Hold,
}

impl From<ShortagePolicy> for engine::ShortagePolicy {
    fn from(p: ShortagePolicy) -> Self {
        match p {
            ShortagePolicy::Fail => Self::Fail,
            ShortagePolicy::Hold => Self::Hold,
        }
    }
}

/// What an expiry sweep does to an order whose reservations lapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ExpiryPolicy {
    /// Hold it (`RESERVATION_EXPIRED`); paying or releasing the hold re-reserves (the
    /// core's default).
    Hold,
    /// Cancel it (`RESERVATION_EXPIRED`); one with shipped units is held instead.
    Cancel,
}

impl From<ExpiryPolicy> for engine::ExpiryPolicy {
    fn from(p: ExpiryPolicy) -> Self {
        match p {
            ExpiryPolicy::Hold => Self::Hold,
            ExpiryPolicy::Cancel => Self::Cancel,
        }
    }
}

/// Working days a parcel spends in transit, for delivery estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct TransitDays {
    /// Fewest working days.
    pub fewest: u32,
    /// Most working days.
    pub most: u32,
}

/// How parcels get their GS1 SSCC: extension digit, company prefix and the serials
/// this device may use (serials come from the store's sequence, so they never repeat).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SsccOptions {
    /// 0 to 9.
    pub extension_digit: u8,
    /// The GS1 company prefix, 7 to 10 digits.
    pub company_prefix: String,
    /// First serial reference this numbering may use.
    pub first_serial: u64,
    /// Last serial reference this numbering may use.
    pub last_serial: u64,
}

/// Engine tuning; every field has the core's default.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EngineOptions {
    /// What a short pick does.
    #[uniffi(default = None)]
    pub short_pick: Option<ShortPickPolicy>,
    /// GS1 SSCCs for parcels; `None`: parcels have none.
    #[uniffi(default = None)]
    pub sscc: Option<SsccOptions>,
    /// Invoicing (seller, numbering, mode, rounding, time zone) as the core's JSON
    /// configuration; without it, issuing a document is `INVOICE_NOT_CONFIGURED`.
    #[uniffi(default = None)]
    pub invoicing_json: Option<String>,
    /// The shop's return policy as the core's JSON (`{"window_days": 30,
    /// "restocking_fee_rate": "0.10", "non_returnable": ["GIFT"], ...}`); `None`: the
    /// core's default (14 days, nothing excluded, no fee).
    #[uniffi(default = None)]
    pub return_policy_json: Option<String>,
    /// The shop's shipping calendar as the core's JSON (`{"tz": "Europe/Istanbul",
    /// "cutoff": "14:00:00", "handling_days": 1, "non_working": ["sunday"],
    /// "holidays": ["2026-10-29"]}`): ship-by deadlines, so a picker's work comes most
    /// urgent first. `None`: no deadlines.
    #[uniffi(default = None)]
    pub shipping_calendar_json: Option<String>,
    /// Reserve stock when an order is confirmed; `None`: yes.
    #[uniffi(default = None)]
    pub reserve_on_confirm: Option<bool>,
    /// Let one line ship from several locations; `None`: yes.
    #[uniffi(default = None)]
    pub allow_split: Option<bool>,
    /// How locations are chosen; `None`: by priority.
    #[uniffi(default = None)]
    pub sourcing: Option<SourcingStrategy>,
    /// What a confirmation does when stock is short; `None`: fail.
    #[uniffi(default = None)]
    pub on_shortage: Option<ShortagePolicy>,
    /// How many minutes an unpaid order's reservations hold before
    /// `sweep_expired_reservations` releases them (1 to 43200, 30 days); `None`: until
    /// shipped or cancelled. Shops taking bank transfers or cash on delivery set it.
    #[uniffi(default = None)]
    pub reservation_ttl_minutes: Option<u32>,
    /// Per sales channel, overriding `reservation_ttl_minutes`; a channel mapped to
    /// `None` never expires.
    #[uniffi(default = None)]
    pub reservation_ttl_minutes_by_channel: Option<HashMap<String, Option<u32>>>,
    /// What a sweep does to an order whose reservations lapsed; `None`: hold it.
    #[uniffi(default = None)]
    pub on_reservation_expiry: Option<ExpiryPolicy>,
    /// Whether paying in full stops the reservations' clock; `None`: yes.
    #[uniffi(default = None)]
    pub payment_stops_reservation_clock: Option<bool>,
    /// Working days in transit for delivery estimates; `None`: 1 to 3.
    #[uniffi(default = None)]
    pub transit_days: Option<TransitDays>,
    /// Customer notifications as the core's JSON (`{"channels": ["email"],
    /// "tracking_url": "https://t.example/{tracking_number}", "order_url": ...,
    /// "action_url": ...}`): which `notification.requested` effects the engine asks
    /// the host to send. `None`: none.
    #[uniffi(default = None)]
    pub notifications_json: Option<String>,
}

/// `json` read as the core's `T`, or `ENGINE_INVALID_INPUT` naming the path under
/// `field` that is wrong.
pub(crate) fn core_json<T: serde::de::DeserializeOwned>(
    json: &str,
    field: &str,
) -> Result<T, OrdersmithError> {
    let reader = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(reader).map_err(|e| {
        let path = match e.path().to_string() {
            p if p == "." || p.is_empty() => field.to_string(),
            p => format!("{field}.{p}"),
        };
        OrdersmithError::invalid_json(path, e.into_inner().to_string())
    })
}

/// The core's configuration for `options` (checked by the core).
pub(crate) fn engine_config(
    options: Option<EngineOptions>,
) -> Result<EngineConfig, OrdersmithError> {
    let mut config = EngineConfig::default();
    let Some(options) = options else {
        return Ok(config);
    };
    if let Some(policy) = options.short_pick {
        config.short_pick = policy.into();
    }
    if let Some(s) = options.sscc {
        config.sscc = Some(SsccConfig::new(
            s.extension_digit,
            &s.company_prefix,
            s.first_serial..=s.last_serial,
        )?);
    }
    if let Some(json) = options.return_policy_json {
        let policy: ordersmith::returns::ReturnPolicy = core_json(&json, "return_policy_json")?;
        policy.validate()?;
        config.returns = policy;
    }
    if let Some(json) = options.shipping_calendar_json {
        // The calendar checks itself as it is read (a zone, a working weekday, ...).
        config.shipping_calendar = Some(core_json(&json, "shipping_calendar_json")?);
    }
    if let Some(on) = options.reserve_on_confirm {
        config.reserve_on_confirm = on;
    }
    if let Some(on) = options.allow_split {
        config.allow_split = on;
    }
    if let Some(strategy) = options.sourcing {
        config.sourcing = strategy.into();
    }
    if let Some(policy) = options.on_shortage {
        config.on_shortage = policy.into();
    }
    if let Some(minutes) = options.reservation_ttl_minutes {
        config.reservation_ttl = Some(core_minutes("reservation_ttl_minutes", minutes)?);
    }
    if let Some(map) = options.reservation_ttl_minutes_by_channel {
        let mut by_channel = BTreeMap::new();
        for (channel, minutes) in map {
            let ttl = minutes
                .map(|m| core_minutes("reservation_ttl_minutes_by_channel", m))
                .transpose()?;
            by_channel.insert(ChannelId::parse(channel)?, ttl);
        }
        config.reservation_ttl_by_channel = by_channel;
    }
    if let Some(policy) = options.on_reservation_expiry {
        config.on_reservation_expiry = policy.into();
    }
    if let Some(on) = options.payment_stops_reservation_clock {
        config.payment_stops_reservation_clock = on;
    }
    if let Some(days) = options.transit_days {
        config.transit_days = (days.fewest, days.most);
    }
    if let Some(json) = options.notifications_json {
        config.notifications = Some(core_json(&json, "notifications_json")?);
    }
    config.validate()?;
    Ok(config)
}
