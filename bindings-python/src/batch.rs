//! Batched writes on `Engine` (the core's `engine/batch.rs`): many commands in one
//! crossing, saved with one commit per batch. `import_orders` (in `engine.rs`) is the
//! batched placement; this file holds the bulk confirmation.

use ordersmith::engine::EngineError;
use ordersmith::ids::OrderId;
use ordersmith::order::{Order, OrderCommand};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::args::{names, Text, TextList};
use crate::convert::{context, id_arg};
use crate::engine::PyEngine;
use crate::errors::{detached, shielded, Failure};
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
            let ids: Vec<Result<OrderId, PyErr>> = order_ids
                .0
                .iter()
                .map(|id| id_arg(py, id, OrderId::parse))
                .collect();
            let commands: Vec<(OrderId, OrderCommand)> = ids
                .iter()
                .filter_map(|id| id.as_ref().ok())
                .map(|id| (id.clone(), OrderCommand::Confirm))
                .collect();
            let engine = &self.engine(py)?;
            let done: Vec<Result<Order, EngineError>> =
                detached(py, || Ok::<_, Failure>(engine.execute_many(commands, &ctx)))?;
            let mut done = done.into_iter();
            let confirmed = PyList::empty(py);
            let errors = PyList::empty(py);
            for (i, id) in ids.into_iter().enumerate() {
                let result = match id {
                    Err(e) => Err(e),
                    Ok(_) => done
                        .next()
                        .unwrap_or(Err(EngineError::InvalidInput {
                            field: "order_ids",
                            reason: "fewer results than orders",
                        }))
                        .map_err(|e| Failure::Core(e).into_py_err(py)),
                };
                match result {
                    Ok(order) => confirmed.append(PyOrder::new(order))?,
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
                orders: confirmed.unbind(),
                errors: errors.unbind(),
            })
        })
    }
}
