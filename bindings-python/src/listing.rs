//! Listing orders on `Engine`, mirroring the core's `engine/listing.rs`: every match
//! (`list_orders`), one page with a cursor (`list_orders_page`), or a lazy iterator
//! (`iter_orders`). Paging, the default page size and the limit's bounds are the core's.

use std::sync::Mutex;

use ordersmith::engine::OrderIter;
use ordersmith::ids::ChannelId;
use ordersmith::order::OrderStatus;
use ordersmith::ports::{OrderCursor, OrderQuery, DEFAULT_PAGE_SIZE};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::args::{names, Int, Text};
use crate::convert::{datetime_arg, enum_arg, id_arg};
use crate::engine::PyEngine;
use crate::errors::{core_error, detached, invalid_input, shielded};
use crate::order::PyOrder;

/// Orders per round trip when `list_orders` walks every page.
const WALK_PAGE_SIZE: usize = 1_000;

/// The filter every listing method shares (and the rules' dry run and shadow report).
pub(crate) fn filter(
    py: Python<'_>,
    status: Option<Text<names::status>>,
    channel: Option<Text<names::channel>>,
    placed_from: Option<&Bound<'_, PyAny>>,
    placed_to: Option<&Bound<'_, PyAny>>,
) -> PyResult<OrderQuery> {
    Ok(OrderQuery {
        status: status
            .map(|s| enum_arg::<OrderStatus>(py, "status", &s.0))
            .transpose()?,
        channel: channel
            .map(|c| id_arg(py, &c.0, ChannelId::parse))
            .transpose()?,
        placed_from: placed_from
            .map(|t| datetime_arg(t, "placed_from"))
            .transpose()?,
        placed_to: placed_to
            .map(|t| datetime_arg(t, "placed_to"))
            .transpose()?,
        ..OrderQuery::default()
    })
}

/// One page of orders and where the next one starts.
#[pyclass(frozen, name = "OrderPage", module = "ordersmith._native")]
pub(crate) struct PyOrderPage {
    orders: Py<PyList>,
    next_cursor: Option<String>,
}

#[pymethods]
impl PyOrderPage {
    /// The orders, oldest first.
    #[getter]
    fn orders(&self, py: Python<'_>) -> Py<PyList> {
        self.orders.clone_ref(py)
    }

    /// Pass as `after=` for the next page; `None` on the last page.
    #[getter]
    fn next_cursor(&self) -> Option<String> {
        self.next_cursor.clone()
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.orders.bind(py).len()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "OrderPage(orders={}, next_cursor={})",
            self.orders.bind(py).len(),
            self.next_cursor
                .as_ref()
                .map_or("None".to_string(), |c| format!("'{c}'"))
        )
    }
}

/// Every order of a listing, fetched a page at a time as you iterate.
#[pyclass(frozen, name = "OrderIterator", module = "ordersmith._native")]
pub(crate) struct PyOrderIterator {
    inner: Mutex<OrderIter>,
}

#[pymethods]
impl PyOrderIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyOrder>> {
        let next = detached(py, || {
            let mut iter = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            iter.next().transpose()
        })?;
        Ok(next.map(PyOrder::new))
    }
}

#[pymethods]
impl PyEngine {
    /// Every order matching the filter, oldest first (by placed time, then id), however
    /// many: pages are walked internally. `limit` returns only the first `limit`.
    #[pyo3(signature = (status=None, channel=None, placed_from=None, placed_to=None, limit=None))]
    fn list_orders<'py>(
        &self,
        py: Python<'py>,
        status: Option<Text<names::status>>,
        channel: Option<Text<names::channel>>,
        placed_from: Option<&Bound<'_, PyAny>>,
        placed_to: Option<&Bound<'_, PyAny>>,
        limit: Option<Int<usize, names::limit>>,
    ) -> PyResult<Bound<'py, PyList>> {
        shielded(py, || {
            let query = OrderQuery {
                limit: Some(WALK_PAGE_SIZE),
                ..filter(py, status, channel, placed_from, placed_to)?
            };
            let engine = self.engine(py)?;
            let max = limit.map(|l| l.0);
            let orders = detached(py, || engine.list_all_orders(&query, max))?;
            PyList::new(py, orders.into_iter().map(PyOrder::new))
        })
    }

    /// One page of matching orders, oldest first, after the cursor `after` (a previous
    /// page's `next_cursor`). `limit` is the page size: 1 to 10000, default 100.
    #[pyo3(signature = (status=None, channel=None, placed_from=None, placed_to=None, *, after=None, limit=None), text_signature = "($self, status=None, channel=None, placed_from=None, placed_to=None, *, after=None, limit=100)")]
    #[allow(clippy::too_many_arguments)]
    fn list_orders_page(
        &self,
        py: Python<'_>,
        status: Option<Text<names::status>>,
        channel: Option<Text<names::channel>>,
        placed_from: Option<&Bound<'_, PyAny>>,
        placed_to: Option<&Bound<'_, PyAny>>,
        after: Option<Text<names::after>>,
        limit: Option<Int<usize, names::limit>>,
    ) -> PyResult<PyOrderPage> {
        shielded(py, || {
            let after = after
                .map(|a| {
                    OrderCursor::parse(&a.0).ok_or_else(|| {
                        invalid_input(py, "after", "expected a next_cursor from list_orders_page")
                    })
                })
                .transpose()?;
            let query = OrderQuery {
                after,
                limit: Some(limit.map_or(DEFAULT_PAGE_SIZE, |l| l.0)),
                ..filter(py, status, channel, placed_from, placed_to)?
            };
            let engine = self.engine(py)?;
            let page = detached(py, || engine.list_orders_page(&query))?;
            Ok(PyOrderPage {
                orders: PyList::new(py, page.orders.into_iter().map(PyOrder::new))?.unbind(),
                next_cursor: page.next_cursor.map(|c| c.token()),
            })
        })
    }

    /// Every matching order, oldest first, fetched `page_size` at a time (1 to 10000)
    /// while you iterate: for listings too large to hold at once.
    #[pyo3(signature = (status=None, channel=None, placed_from=None, placed_to=None, *, page_size=None), text_signature = "($self, status=None, channel=None, placed_from=None, placed_to=None, *, page_size=100)")]
    fn iter_orders(
        &self,
        py: Python<'_>,
        status: Option<Text<names::status>>,
        channel: Option<Text<names::channel>>,
        placed_from: Option<&Bound<'_, PyAny>>,
        placed_to: Option<&Bound<'_, PyAny>>,
        page_size: Option<Int<usize, names::page_size>>,
    ) -> PyResult<PyOrderIterator> {
        let query = OrderQuery {
            limit: Some(page_size.map_or(DEFAULT_PAGE_SIZE, |p| p.0)),
            ..filter(py, status, channel, placed_from, placed_to)?
        };
        // Refuse a bad page size now, not at the first `next()`.
        if let Err(e) = ordersmith::engine::check_page_size(query.limit) {
            return Err(core_error(py, &e));
        }
        Ok(PyOrderIterator {
            inner: Mutex::new(self.engine(py)?.iter_orders(query)),
        })
    }
}
