//! Engine tuning a phone sets when it opens the engine.

use ordersmith::engine::EngineConfig;
use ordersmith::fulfilment::{self as core, SsccConfig};

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
}

/// `json` read as the core's `T`, or `ENGINE_INVALID_JSON` naming the path under
/// `field` that is wrong.
fn core_json<T: serde::de::DeserializeOwned>(
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
    Ok(config)
}
