//! Listing orders honestly: pages in a total order with a cursor that reaches every
//! match, a documented default page size ([`DEFAULT_PAGE_SIZE`]), and a page size over
//! [`MAX_QUERY_LIMIT`] refused with `ENGINE_INVALID_INPUT` naming `limit`, never cut
//! silently.
//!
//! ```
//! use ordersmith::engine::Engine;
//! use ordersmith::ports::OrderQuery;
//!
//! let engine = Engine::in_memory();
//! let query = OrderQuery { limit: Some(50), ..OrderQuery::default() };
//! let page = engine.list_orders_page(&query)?;
//! assert!(page.orders.is_empty() && page.next_cursor.is_none());
//! let too_big = OrderQuery { limit: Some(10_001), ..OrderQuery::default() };
//! assert_eq!(engine.list_orders_page(&too_big).unwrap_err().code(), "ENGINE_INVALID_INPUT");
//! // Every match, page by page, however many there are:
//! let every: Vec<_> = engine.iter_orders(OrderQuery::default()).collect::<Result<_, _>>()?;
//! assert!(every.is_empty());
//! # Ok::<(), ordersmith::engine::EngineError>(())
//! ```

use std::collections::VecDeque;

use crate::order::Order;
use crate::ports::{OrderCursor, OrderQuery, DEFAULT_PAGE_SIZE, MAX_QUERY_LIMIT};

use super::{Engine, EngineError};

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    /// The orders, by `placed_at`, then id.
    pub orders: Vec<Order>,
    /// Where the next page starts (pass it as [`OrderQuery::after`]); `None` when this
    /// page is the last one.
    pub next_cursor: Option<OrderCursor>,
}

const LIMIT_REASON: &str = "must be 1 to 10000 (MAX_QUERY_LIMIT); larger listings go page by page";

/// A page size in `1..=MAX_QUERY_LIMIT` (`None` is [`DEFAULT_PAGE_SIZE`]), or the
/// `ENGINE_INVALID_INPUT` error naming `limit`: for hosts that check a page size before
/// the first page is read.
pub fn check_page_size(limit: Option<usize>) -> Result<usize, EngineError> {
    match limit {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (1..=MAX_QUERY_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(EngineError::InvalidInput {
            field: "limit",
            reason: LIMIT_REASON,
        }),
    }
}

fn check(query: &OrderQuery) -> Result<usize, EngineError> {
    if let (Some(from), Some(to)) = (query.placed_from, query.placed_to) {
        if from > to {
            return Err(EngineError::InvalidInput {
                field: "query",
                reason: "placed_from is after placed_to",
            });
        }
    }
    check_page_size(query.limit)
}

impl Engine {
    /// One page of the orders matching `query`, oldest first (by `placed_at`, then id),
    /// starting after `query.after`. `query.limit` is the page size: [`DEFAULT_PAGE_SIZE`]
    /// when `None`; 0 or more than [`MAX_QUERY_LIMIT`] is `ENGINE_INVALID_INPUT`.
    /// `next_cursor` is `None` exactly when no match follows this page.
    pub fn list_orders_page(&self, query: &OrderQuery) -> Result<OrderPage, EngineError> {
        let size = check(query)?;
        // One order more than the page, to know without another round trip whether a
        // next page exists.
        let ahead = OrderQuery {
            limit: Some(size + 1),
            ..query.clone()
        };
        let mut orders = self.store.query_orders(&ahead)?;
        let next_cursor = if orders.len() > size {
            orders.truncate(size);
            orders.last().map(OrderCursor::of)
        } else {
            None
        };
        Ok(OrderPage {
            orders,
            next_cursor,
        })
    }

    /// Every order matching `query`, page by page (`query.limit` is the page size, and
    /// `query.offset` applies once, at the start). Orders placed while iterating appear
    /// if they sort after the current position. An error ends the iteration.
    /// The iterator holds a clone of the engine (shared ports), so it may outlive
    /// this borrow.
    pub fn iter_orders(&self, query: OrderQuery) -> OrderIter {
        OrderIter {
            engine: self.clone(),
            query: Some(query),
            buffer: VecDeque::new(),
        }
    }

    /// Every order matching `query`, or the first `max` of them: the pages of
    /// [`Engine::iter_orders`] collected.
    pub fn list_all_orders(
        &self,
        query: &OrderQuery,
        max: Option<usize>,
    ) -> Result<Vec<Order>, EngineError> {
        self.iter_orders(query.clone())
            .take(max.unwrap_or(usize::MAX))
            .collect()
    }
}

/// Iterator over every order of a query; see [`Engine::iter_orders`].
pub struct OrderIter {
    engine: Engine,
    /// The query for the next page; `None` once the last page was read or on error.
    query: Option<OrderQuery>,
    buffer: VecDeque<Order>,
}

impl Iterator for OrderIter {
    type Item = Result<Order, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(order) = self.buffer.pop_front() {
                return Some(Ok(order));
            }
            let query = self.query.take()?;
            match self.engine.list_orders_page(&query) {
                Err(e) => return Some(Err(e)),
                Ok(page) => {
                    self.query = page.next_cursor.map(|after| OrderQuery {
                        after: Some(after),
                        offset: 0,
                        ..query
                    });
                    self.buffer.extend(page.orders);
                }
            }
        }
    }
}
