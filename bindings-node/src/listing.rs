//! Listing orders on `Engine` (the engine's `listing.rs` and `list_orders`): one page
//! (synchronous, bounded), every match (a Promise, walked off the event loop), and an
//! iterator that fetches a page at a time.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::engine::OrderIter;
use ordersmith::ids::ChannelId;
use ordersmith::order::OrderStatus;
use ordersmith::ports::{OrderCursor, OrderQuery, DEFAULT_PAGE_SIZE};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::convert::{from_json, opts, order_json, orders_text, JsonArg};
use crate::engine::JsEngine;
use crate::errors::{shielded, shielded_json, Failure, Job, Out};

/// `{status?, channel?, placedFrom?, placedTo?, after?, limit?}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct QueryOptions {
    status: Option<OrderStatus>,
    channel: Option<String>,
    placed_from: Option<Value>,
    placed_to: Option<Value>,
    after: Option<String>,
    limit: Option<usize>,
}

fn time(value: Option<Value>, field: &str) -> Out<Option<DateTime<Utc>>> {
    #[derive(Deserialize)]
    struct At(#[serde(deserialize_with = "ordersmith::order::aware_time")] DateTime<Utc>);
    value
        .map(|v| from_json::<At>(v, field).map(|a| a.0))
        .transpose()
}

pub(crate) fn query(value: Option<JsonArg>, default_limit: usize) -> Out<OrderQuery> {
    let q: QueryOptions = opts(value, "query")?;
    Ok(OrderQuery {
        status: q.status,
        channel: q
            .channel
            .map(|c| ChannelId::parse(&c).map_err(|e| Failure::core(&e)))
            .transpose()?,
        placed_from: time(q.placed_from, "query.placedFrom")?,
        placed_to: time(q.placed_to, "query.placedTo")?,
        after: q
            .after
            .map(|a| {
                OrderCursor::parse(&a).ok_or_else(|| {
                    Failure::input("query.after", "expected a next_cursor from listOrdersPage")
                })
            })
            .transpose()?,
        limit: Some(q.limit.unwrap_or(default_limit)),
        ..OrderQuery::default()
    })
}

/// Orders per round trip when every match is walked.
pub(crate) const WALK_PAGE_SIZE: usize = 1_000;

/// Every order of a query, fetched a page at a time as `next()` is called.
#[napi(js_name = "OrderIterator")]
pub struct JsOrderIterator {
    inner: Mutex<OrderIter>,
}

#[napi]
impl JsOrderIterator {
    /// The next order, or `null` after the last one.
    #[napi(ts_return_type = "Order | null")]
    pub fn next(&self) -> napi::Result<String> {
        shielded_json(|| {
            let next = self.inner.lock().unwrap_or_else(|p| p.into_inner()).next();
            match next {
                None => Ok(Value::Null),
                Some(order) => order_json(&order?),
            }
        })
    }
}

#[napi]
impl JsEngine {
    /// One page of matching orders, oldest first (placed time, then id), after the
    /// cursor `query.after`; `limit` 1 to 10000, default 100 (a larger one is refused,
    /// never cut).
    #[napi(
        ts_args_type = "query?: OrderQueryOptions",
        ts_return_type = "OrderPage"
    )]
    pub fn list_orders_page(&self, query: Option<JsonArg>) -> napi::Result<String> {
        self.read(|e| {
            let page = e.list_orders_page(&self::query(query, DEFAULT_PAGE_SIZE)?)?;
            let orders = page
                .orders
                .iter()
                .map(order_json)
                .collect::<Out<Vec<_>>>()?;
            Ok(json!({ "orders": orders, "next_cursor": page.next_cursor.map(|c| c.token()) }))
        })
    }

    /// One page of matching orders (without the cursor).
    #[napi(ts_args_type = "query?: OrderQueryOptions", ts_return_type = "Order[]")]
    pub fn list_orders(&self, query: Option<JsonArg>) -> napi::Result<String> {
        self.read(|e| {
            let orders = e.list_orders(&self::query(query, DEFAULT_PAGE_SIZE)?)?;
            Ok(Value::Array(
                orders.iter().map(order_json).collect::<Out<Vec<_>>>()?,
            ))
        })
    }

    /// Every matching order (or the first `max`), walked page by page off the event
    /// loop.
    #[napi(
        ts_args_type = "query?: Omit<OrderQueryOptions, 'after' | 'limit'>, max?: number",
        ts_return_type = "Promise<Order[]>"
    )]
    pub fn list_all_orders(&self, query: Option<JsonArg>, max: Option<u32>) -> AsyncTask<Job> {
        self.write_text(move |e| {
            let q = self::query(query, WALK_PAGE_SIZE)?;
            orders_text(&e.list_all_orders(&q, max.map(|m| m as usize))?)
        })
    }

    /// Every matching order, fetched `query.limit` (default 100) at a time as you call
    /// `next()`: for listings too large to hold at once.
    #[napi(ts_args_type = "query?: Omit<OrderQueryOptions, 'after'>")]
    pub fn iter_orders(&self, query: Option<JsonArg>) -> napi::Result<JsOrderIterator> {
        shielded(|| {
            let q = self::query(query, DEFAULT_PAGE_SIZE)?;
            ordersmith::engine::check_page_size(q.limit)?;
            Ok(JsOrderIterator {
                inner: Mutex::new(self.engine()?.iter_orders(q)),
            })
        })
    }
}
