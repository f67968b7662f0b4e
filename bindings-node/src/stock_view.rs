//! Stock reads on `Engine`: reservations, sourcing previews, levels, the position, the
//! journal, forecasts and channel quantities. Quick reads, synchronous; each copies
//! what it needs out of the ledger (`Engine::with_stock`).

use napi_derive::napi;
use ordersmith::engine::EngineError;
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::stock::{ReorderParams, ReservationFilter};
use serde_json::{json, Value};

use crate::convert::{from_json, oid, opts, to_json, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{Failure, Out};

fn variant(s: &str) -> Out<VariantId> {
    VariantId::parse(s).map_err(|e| Failure::core(&e))
}

fn location(s: &str) -> Out<LocationId> {
    LocationId::parse(s).map_err(|e| Failure::core(&e))
}

fn channel(s: &str) -> Out<ChannelId> {
    ChannelId::parse(s).map_err(|e| Failure::core(&e))
}

fn stock_err(e: ordersmith::stock::StockError) -> Failure {
    Failure::from(EngineError::from(e))
}

#[napi]
impl JsEngine {
    /// Live reservations matching the filter (`{variant?, location?, order?,
    /// expiring_before?}`), ordered by id; every match is returned.
    #[napi(
        ts_args_type = "filter?: ReservationFilter",
        ts_return_type = "Reservation[]"
    )]
    pub fn reservations(&self, filter: Option<JsonArg>) -> napi::Result<String> {
        self.read(|e| {
            let filter: ReservationFilter = opts(filter, "filter")?;
            to_json(&e.reservations(&filter)?)
        })
    }

    /// The sourcing plan confirming would use now, with its explanation; `null` when no
    /// line needs stock. Nothing is reserved.
    #[napi(ts_return_type = "SourcingPlan | null")]
    pub fn sourcing_plan(&self, order_id: String) -> napi::Result<String> {
        self.read(|e| to_json(&e.sourcing_plan(&oid(&order_id)?)?))
    }

    /// Units of `sku` sold per day over the last `windowDays` (default 30), as a
    /// decimal string.
    #[napi(ts_return_type = "Decimal")]
    pub fn sales_velocity(&self, sku: String, window_days: Option<u32>) -> napi::Result<String> {
        self.read(|e| to_json(&e.sales_velocity(&variant(&sku)?, window_days.unwrap_or(30))?))
    }

    /// Velocity, days of cover, reorder point and suggested order quantity.
    #[napi(
        ts_args_type = "sku: string, params?: { window_days?: number; lead_time_days?: number; review_period_days?: number }",
        ts_return_type = "Forecast"
    )]
    pub fn forecast(&self, sku: String, params: Option<JsonArg>) -> napi::Result<String> {
        self.read(|e| {
            let mut base =
                json!({ "window_days": 30, "lead_time_days": 7, "review_period_days": 14 });
            if let (Some(Value::Object(given)), Value::Object(map)) =
                (params.map(Value::from), &mut base)
            {
                for (k, v) in given {
                    map.insert(k, v);
                }
            }
            let params: ReorderParams = from_json(base, "params")?;
            to_json(&e.forecast(&variant(&sku)?, params)?)
        })
    }

    /// One (variant, location): on hand, reserved, safety stock, available, incoming,
    /// quarantined, in transit.
    #[napi(ts_return_type = "StockLevel")]
    pub fn level(&self, sku: String, location_id: String) -> napi::Result<String> {
        self.read(|e| {
            let (v, l) = (variant(&sku)?, location(&location_id)?);
            let level = e.with_stock(|s| s.level(&v, &l))?.map_err(stock_err)?;
            to_json(&level)
        })
    }

    /// A variant across every location: totals, policy and one row per location.
    #[napi(ts_return_type = "VariantLevels")]
    pub fn levels(&self, sku: String) -> napi::Result<String> {
        self.read(|e| {
            let v = variant(&sku)?;
            to_json(&e.with_stock(|s| s.levels(&v))?.map_err(stock_err)?)
        })
    }

    /// Every registered variant's levels, sorted by variant.
    #[napi(ts_return_type = "VariantLevels[]")]
    pub fn stock_position(&self) -> napi::Result<String> {
        self.read(|e| {
            let views = e.with_stock(|s| {
                let mut variants: Vec<_> = s.variants().cloned().collect();
                variants.sort();
                variants
                    .iter()
                    .filter_map(|v| s.levels(v).ok())
                    .collect::<Vec<_>>()
            })?;
            to_json(&views)
        })
    }

    /// Journal movements after `since` (a `seq`, default 0), oldest first.
    #[napi(ts_return_type = "Movement[]")]
    pub fn journal(&self, since: Option<i64>) -> napi::Result<String> {
        self.read(|e| {
            let since = u64::try_from(since.unwrap_or(0))
                .map_err(|_| Failure::input("since", "expected a sequence number ≥ 0"))?;
            e.with_stock(|s| to_json(&s.journal_since(since)))?
        })
    }

    /// What the channel may sell of every variant and bundle: `{sku: units}`.
    #[napi(ts_return_type = "Record<string, number>")]
    pub fn channel_quantities(&self, channel_id: String) -> napi::Result<String> {
        self.read(|e| {
            let c = channel(&channel_id)?;
            to_json(
                &e.with_stock(|s| s.channel_quantities(&c))?
                    .map_err(stock_err)?,
            )
        })
    }

    /// The channel quantities that changed since the last `mark_pushed`.
    #[napi(ts_return_type = "Record<string, number>")]
    pub fn changed_since_last_push(&self, channel_id: String) -> napi::Result<String> {
        self.read(|e| {
            let c = channel(&channel_id)?;
            to_json(
                &e.with_stock(|s| s.changed_since_last_push(&c))?
                    .map_err(stock_err)?,
            )
        })
    }
}
