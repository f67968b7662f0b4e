//! "Where is my order" on `Engine` (the engine's `timeline.rs`): the customer-facing
//! timeline in English or Turkish, ship-by times and the warehouse's due list. Reads,
//! synchronous.

use chrono::TimeDelta;
use napi_derive::napi;
use ordersmith::notify::Locale;

use crate::convert::{oid, to_json};
use crate::engine::JsEngine;
use crate::errors::Failure;

#[napi]
impl JsEngine {
    /// Stages with local times in the shop's zone, parcels with tracking, ship-by and
    /// the delivery estimate, in `locale` (`"en"` or `"tr"`; other tags fall back to
    /// English).
    #[napi(
        ts_args_type = "orderId: string, locale?: 'en' | 'tr' | string",
        ts_return_type = "Timeline"
    )]
    pub fn timeline(&self, order_id: String, locale: Option<String>) -> napi::Result<String> {
        self.read(|e| {
            let locale = Locale::from_tag(locale.as_deref().unwrap_or("en"));
            to_json(&e.timeline(&oid(&order_id)?, locale)?)
        })
    }

    /// The order's ship-by time on the engine's shipping calendar (ISO string), or
    /// `null` without a calendar.
    #[napi(ts_return_type = "string | null")]
    pub fn ship_by(&self, order_id: String) -> napi::Result<String> {
        self.read(|e| {
            let order = e.order(&oid(&order_id)?)?;
            to_json(&e.ship_by(&order)?)
        })
    }

    /// Open fulfilment orders whose ship-by is past or within `marginMinutes` of now,
    /// most urgent first (empty without a shipping calendar).
    #[napi(ts_return_type = "DueFulfilment[]")]
    pub fn fulfilments_due(&self, margin_minutes: i64) -> napi::Result<String> {
        self.read(|e| {
            let margin = TimeDelta::try_minutes(margin_minutes)
                .filter(|m| *m >= TimeDelta::zero())
                .ok_or_else(|| Failure::input("marginMinutes", "expected minutes ≥ 0"))?;
            to_json(&e.fulfilments_due(margin)?)
        })
    }
}
