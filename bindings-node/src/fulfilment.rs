//! The warehouse flow on `Engine` (the engine's `fulfilment.rs`): warehouse steps take
//! the core's `FulfilmentCommand` in its JSON form (`{step: "pick", fulfilment, picked,
//! short}`, `"pack"`, `"request_label"`, `"record_label"`, `"hand_over"`, `"hold"`,
//! `"release"`, `"move"`, `"cancel"`), carrier events are mapped through the engine's
//! carrier table, and the reads (fulfilment orders, pick lists) are synchronous. Also
//! the carrier choice and notification rendering, which need no engine.

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::fulfilment::{choose_service, CarrierEvent, CarrierPolicy, RateQuote};
use ordersmith::money::{Currency, Money};
use ordersmith::order::FulfilmentCommand;
use serde::Deserialize;
use serde_json::Value;

use crate::convert::{amount, from_json, oid, refuse_numbers_for_money, to_json, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{shielded_json, Failure, Job, Out};

#[napi]
impl JsEngine {
    /// Runs one warehouse step on a fulfilment order of the order.
    #[napi(
        ts_args_type = "orderId: string, step: FulfilmentStep, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn fulfil(
        &self,
        order_id: String,
        step: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            refuse_numbers_for_money(&step, "step")?;
            let step: FulfilmentCommand = from_json(step, "step")?;
            Ok(e.fulfil(id, step, ctx)?)
        })
    }

    /// Records a carrier's event for a parcel (`{occurred_at, raw_code, location?}`):
    /// mapped with the engine's carrier table; repeats change nothing; stale events stay
    /// in the parcel's history without moving it back.
    #[napi(
        ts_args_type = "orderId: string, fulfilment: string, parcel: string, event: CarrierEventInput, options?: CallOptions",
        ts_return_type = "Promise<Order>"
    )]
    pub fn record_tracking_event(
        &self,
        order_id: String,
        fulfilment: String,
        parcel: String,
        event: JsonArg,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.command(order_id, options, move |e, id, ctx| {
            let event: CarrierEvent = from_json(event, "event")?;
            Ok(e.record_tracking_event(id, &fulfilment, &parcel, event, ctx)?)
        })
    }

    /// The order's fulfilment orders, open and closed.
    #[napi(ts_return_type = "FulfilmentOrder[]")]
    pub fn fulfilment_orders(&self, order_id: String) -> napi::Result<String> {
        self.read(|e| to_json(&e.fulfilment_orders(&oid(&order_id)?)?))
    }

    /// What a picker walks for one fulfilment order: per line still to pick, the SKU,
    /// units and title.
    #[napi(ts_return_type = "PickListLine[]")]
    pub fn pick_list(&self, order_id: String, fulfilment: String) -> napi::Result<String> {
        self.read(|e| to_json(&e.pick_list(&oid(&order_id)?, &fulfilment)?))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Quote {
    carrier: String,
    service: String,
    price: Value,
    currency: String,
    transit_days_min: u32,
    transit_days_max: u32,
}

#[derive(Deserialize)]
#[serde(tag = "policy", rename_all = "snake_case", deny_unknown_fields)]
enum Policy {
    CheapestMeetingPromise { max_transit_days: u32 },
    FastestUnderCap { cap: Value, currency: String },
}

fn money(value: &Value, currency: &str, field: &str) -> Out<Money> {
    let currency = Currency::parse(currency).map_err(|e| Failure::core(&e))?;
    Money::new(amount(value, field)?, currency).map_err(|e| Failure::core(&e))
}

/// Chooses a carrier service from rate quotes (`{carrier, service, price, currency,
/// transit_days_min, transit_days_max}`, price a decimal string) by `policy`
/// (`{policy: "cheapest_meeting_promise", max_transit_days}` or `{policy:
/// "fastest_under_cap", cap, currency}`): the chosen quote and the explanation.
#[napi(
    ts_args_type = "quotes: RateQuoteInput[], policy: CarrierPolicyInput",
    ts_return_type = "CarrierChoice"
)]
pub fn choose_carrier(quotes: JsonArg, policy: JsonArg) -> napi::Result<String> {
    shielded_json(|| {
        let raw: Vec<Quote> = from_json(quotes, "quotes")?;
        let quotes = raw
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let price = money(&q.price, &q.currency, &format!("quotes[{i}].price"))?;
                Ok(RateQuote::new(
                    &q.carrier,
                    &q.service,
                    price,
                    q.transit_days_min,
                    q.transit_days_max,
                ))
            })
            .collect::<Out<Vec<_>>>()?;
        let policy = match from_json::<Policy>(policy, "policy")? {
            Policy::CheapestMeetingPromise { max_transit_days } => {
                CarrierPolicy::CheapestMeetingPromise { max_transit_days }
            }
            Policy::FastestUnderCap { cap, currency } => CarrierPolicy::FastestUnderCap {
                cap: money(&cap, &currency, "policy.cap")?,
            },
        };
        to_json(&choose_service(&quotes, &policy).map_err(|e| Failure::core(&e))?)
    })
}

/// Renders a requested notification (the `notification` of a `notification.requested`
/// effect's payload) with the shipped English and Turkish templates, after `overrides`
/// (a JSON list of `{key, locale, channel, subject?, body}`): `{subject, body, locale,
/// channel}`.
#[napi(
    ts_args_type = "notification: Record<string, unknown>, overrides?: string",
    ts_return_type = "RenderedNotification"
)]
pub fn render_notification(
    notification: JsonArg,
    overrides: Option<String>,
) -> napi::Result<String> {
    shielded_json(|| {
        let notification: ordersmith::notify::Notification =
            from_json(notification, "notification")?;
        let mut templates =
            ordersmith::notify::TemplateSet::shipped().map_err(|e| Failure::core(&e))?;
        if let Some(json) = overrides {
            templates
                .load_overrides_json(&json)
                .map_err(|e| Failure::core(&e))?;
        }
        to_json(
            &notification
                .render(&templates)
                .map_err(|e| Failure::core(&e))?,
        )
    })
}
