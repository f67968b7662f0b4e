//! Batched writes on `Engine` (the core's `engine/batch.rs`): many commands in one
//! crossing, saved with one commit per batch. `import_orders` (in `engine.rs`) is the
//! batched placement; this file holds the bulk confirmation and any commands in bulk.

use ordersmith::engine::EngineError;
use ordersmith::ids::OrderId;
use ordersmith::order::{Order, OrderCommand};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::args::{names, Text, TextList};
use crate::convert::{context, from_json, id_arg, py_to_json};
use crate::engine::PyEngine;
use crate::errors::{detached, invalid_input, shielded, Failure};
use crate::order::{PyImportResult, PyOrder};

#[pymethods]
impl PyEngine {
    /// Confirms many orders in one crossing (`Engine::execute_many`): each is confirmed
    /// on its own, as `confirm` would, and the confirmations that succeed are saved
    /// with one commit per batch. A refused one (an unknown id, a short order) does not
    /// stop the rest: it is reported in `errors` at its index.
    #[pyo3(signature = (order_ids, *, actor=None))]
    fn confirm_orders(
        &self,
        py: Python<'_>,
        order_ids: TextList<names::order_ids>,
        actor: Option<Text<names::actor>>,
    ) -> PyResult<PyImportResult> {
        let actor = actor.as_ref().map(Text::as_str);
        shielded(py, || {
            let ctx = context(py, actor, None)?;
            // A malformed id is that item's error; the others go to the core.
            let items = order_ids
                .0
                .iter()
                .map(|id| id_arg(py, id, OrderId::parse).map(|id| (id, OrderCommand::Confirm)))
                .collect();
            self.run_many(py, items, &ctx)
        })
    }

    /// Runs many order commands in one crossing (`Engine::execute_many`): `items` are
    /// `(order_id, command)` pairs, each command in the core's JSON form (`{"command":
    /// "mark_paid"}`, `{"command": "record_shipment", "lines": [{"line_id": "L1",
    /// "quantity": 1}]}`). Each runs on its own, as the one-order method would; those
    /// that succeed are saved with one commit per batch, so a day's shipments or a
    /// payment file costs a few commits, not one each. A refused item (a malformed id
    /// or command, an unknown order, a step its status refuses) does not stop the rest:
    /// it is reported in `errors` at its index. The same order may appear several
    /// times: its commands run in the order given.
    #[pyo3(signature = (items, *, actor=None))]
    fn execute_many(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
    ) -> PyResult<PyImportResult> {
        let actor = actor.as_ref().map(Text::as_str);
        shielded(py, || {
            let ctx = context(py, actor, None)?;
            let mut parsed = Vec::new();
            for (i, item) in items.try_iter()?.enumerate() {
                parsed.push(item.and_then(|item| command_item(py, &item, i)));
            }
            self.run_many(py, parsed, &ctx)
        })
    }
}

/// One `(order_id, command)` pair of `execute_many`, read; its error names its index.
fn command_item(
    py: Python<'_>,
    item: &Bound<'_, PyAny>,
    i: usize,
) -> PyResult<(OrderId, OrderCommand)> {
    let field = format!("items[{i}]");
    let pair = item
        .cast::<PyTuple>()
        .ok()
        .filter(|t| t.len() == 2)
        .ok_or_else(|| invalid_input(py, &field, "expected an (order_id, command) pair"))?;
    let id: String = pair
        .get_item(0)?
        .extract()
        .map_err(|_| invalid_input(py, &format!("{field}[0]"), "expected an order id (str)"))?;
    let id = id_arg(py, &id, OrderId::parse)?;
    let path = format!("{field}[1]");
    let command = py_to_json(&pair.get_item(1)?, &path)
        .and_then(|json| from_json::<OrderCommand>(json, &path))
        .map_err(|f| f.into_py_err(py))?;
    Ok((id, command))
}

impl PyEngine {
    /// Runs `items` through `Engine::execute_many` (the readable ones; an unreadable
    /// one is its own error) and reports each at its index: the orders that succeeded
    /// in `orders`, `(index, error)` pairs in `errors`.
    fn run_many(
        &self,
        py: Python<'_>,
        items: Vec<PyResult<(OrderId, OrderCommand)>>,
        ctx: &ordersmith::engine::CommandContext,
    ) -> PyResult<PyImportResult> {
        let commands: Vec<(OrderId, OrderCommand)> = items
            .iter()
            .filter_map(|item| item.as_ref().ok().cloned())
            .collect();
        let engine = &self.engine(py)?;
        let done: Vec<Result<Order, EngineError>> =
            detached(py, || Ok::<_, Failure>(engine.execute_many(commands, ctx)))?;
        let mut done = done.into_iter();
        let succeeded = PyList::empty(py);
        let errors = PyList::empty(py);
        for (i, item) in items.into_iter().enumerate() {
            let result = match item {
                Err(e) => Err(e),
                Ok(_) => done
                    .next()
                    .unwrap_or(Err(EngineError::InvalidInput {
                        field: "items",
                        reason: "fewer results than items",
                    }))
                    .map_err(|e| Failure::Core(e).into_py_err(py)),
            };
            match result {
                Ok(order) => succeeded.append(PyOrder::new(order))?,
                Err(err) => errors.append(PyTuple::new(
                    py,
                    [
                        i.into_pyobject(py)?.into_any(),
                        err.into_value(py).into_bound(py).into_any(),
                    ],
                )?)?,
            }
        }
        Ok(PyImportResult {
            orders: succeeded.unbind(),
            errors: errors.unbind(),
        })
    }
}
