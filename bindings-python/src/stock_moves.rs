//! Goods movements on `Engine`: receipts (one or many), expectations, adjustments,
//! transfers, returns, quarantine and write-offs, each one core `StockCommand`.

use ordersmith::ids::TransferId;
use ordersmith::stock::{AdjustmentReason, StockCommand, WriteOffSource};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::args::{names, Int, Text};
use crate::convert::{enum_arg, id_arg};
use crate::engine::PyEngine;
use crate::errors::{detached, invalid_input, shielded};
use crate::stock::{lid, vid, Events};

fn receipt(py: Python<'_>, item: &Bound<'_, PyAny>, i: usize) -> PyResult<StockCommand> {
    let path = format!("items[{i}]");
    let bad = |py| {
        invalid_input(py, &path, "expected {\"sku\", \"location\", \"quantity\", \"reference\"?} or (sku, location, quantity[, reference])")
    };
    let (sku, location, quantity, reference): (String, String, u32, Option<String>) =
        if let Ok(d) = item.cast::<PyDict>() {
            let get = |k: &str| d.get_item(k);
            let sku = match get("sku")? {
                Some(v) => v,
                None => get("variant")?.ok_or_else(|| bad(py))?,
            };
            (
                sku.extract().map_err(|_| bad(py))?,
                get("location")?
                    .ok_or_else(|| bad(py))?
                    .extract()
                    .map_err(|_| bad(py))?,
                get("quantity")?
                    .ok_or_else(|| bad(py))?
                    .extract()
                    .map_err(|_| bad(py))?,
                get("reference")?
                    .map(|r| r.extract())
                    .transpose()
                    .map_err(|_| bad(py))?,
            )
        } else if let Ok(t) = item.cast::<PyTuple>() {
            match t.len() {
                3 => {
                    let (s, l, q): (String, String, u32) = t.extract().map_err(|_| bad(py))?;
                    (s, l, q, None)
                }
                4 => t.extract().map_err(|_| bad(py))?,
                _ => return Err(bad(py)),
            }
        } else {
            return Err(bad(py));
        };
    Ok(StockCommand::Receive {
        variant: vid(py, &sku)?,
        location: lid(py, &location)?,
        quantity,
        reference,
    })
}

#[pymethods]
impl PyEngine {
    /// Receives goods.
    #[pyo3(signature = (sku, location, quantity, reference=None))]
    fn receive<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        quantity: Int<u32, names::quantity>,
        reference: Option<Text<names::reference>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let location = location.as_str();
        let quantity = quantity.0;
        let reference = reference.map(|v| v.0);
        self.run_stock(
            py,
            StockCommand::Receive {
                variant: vid(py, sku)?,
                location: lid(py, location)?,
                quantity,
                reference,
            },
        )
    }

    /// Receives many lines as one atomic batch (all or none); returns how many.
    /// Items are dicts `{"sku", "location", "quantity", "reference"?}` or tuples.
    fn receive_many(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<usize> {
        shielded(py, || {
            let mut commands = Vec::new();
            for (i, item) in items.try_iter()?.enumerate() {
                commands.push(receipt(py, &item?, i)?);
            }
            let n = commands.len();
            let engine = &self.engine(py)?;
            detached(py, || engine.stock_batch(commands))?;
            Ok(n)
        })
    }

    /// Announces expected goods (a purchase order).
    #[pyo3(signature = (sku, location, quantity, reference=None))]
    fn expect_incoming<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        quantity: Int<u32, names::quantity>,
        reference: Option<Text<names::reference>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let location = location.as_str();
        let quantity = quantity.0;
        let reference = reference.map(|v| v.0);
        self.run_stock(
            py,
            StockCommand::ExpectIncoming {
                variant: vid(py, sku)?,
                location: lid(py, location)?,
                quantity,
                reference,
            },
        )
    }

    /// Withdraws an expectation.
    #[pyo3(signature = (sku, location, quantity, reference=None))]
    fn cancel_incoming<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        quantity: Int<u32, names::quantity>,
        reference: Option<Text<names::reference>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let location = location.as_str();
        let quantity = quantity.0;
        let reference = reference.map(|v| v.0);
        self.run_stock(
            py,
            StockCommand::CancelIncoming {
                variant: vid(py, sku)?,
                location: lid(py, location)?,
                quantity,
                reference,
            },
        )
    }

    /// Adjusts on hand by a signed `delta` (`reason`: damage, loss, found, correction).
    #[pyo3(signature = (sku, location, delta, reason, reference=None))]
    fn adjust<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        delta: Int<i64, names::delta>,
        reason: Text<names::reason>,
        reference: Option<Text<names::reference>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let location = location.as_str();
        let delta = delta.0;
        let reason = reason.as_str();
        let reference = reference.map(|v| v.0);
        let reason: AdjustmentReason = enum_arg(py, "reason", reason)?;
        self.run_stock(
            py,
            StockCommand::Adjust {
                variant: vid(py, sku)?,
                location: lid(py, location)?,
                delta,
                reason,
                reference,
            },
        )
    }

    /// Sends goods to another location (`id` makes a retry safe).
    fn transfer<'py>(
        &self,
        py: Python<'py>,
        id: Text<names::id>,
        sku: Text<names::sku>,
        from_: Text<names::from_>,
        to: Text<names::to>,
        quantity: Int<u32, names::quantity>,
    ) -> Events<'py> {
        let id = id.as_str();
        let sku = sku.as_str();
        let from_ = from_.as_str();
        let to = to.as_str();
        let quantity = quantity.0;
        let id = id_arg(py, id, TransferId::parse)?;
        self.run_stock(
            py,
            StockCommand::Transfer {
                id,
                variant: vid(py, sku)?,
                from: lid(py, from_)?,
                to: lid(py, to)?,
                quantity,
            },
        )
    }

    /// Receives a transfer at its destination.
    fn receive_transfer<'py>(&self, py: Python<'py>, id: Text<names::id>) -> Events<'py> {
        let id = id.as_str();
        let id = id_arg(py, id, TransferId::parse)?;
        self.run_stock(py, StockCommand::ReceiveTransfer { id })
    }

    /// Puts returned goods back on hand.
    #[pyo3(signature = (sku, location, quantity, reference=None))]
    fn restock_return<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        quantity: Int<u32, names::quantity>,
        reference: Option<Text<names::reference>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let location = location.as_str();
        let quantity = quantity.0;
        let reference = reference.map(|v| v.0);
        self.run_stock(
            py,
            StockCommand::RestockReturn {
                variant: vid(py, sku)?,
                location: lid(py, location)?,
                quantity,
                reference,
            },
        )
    }

    /// Holds returned goods for inspection.
    #[pyo3(signature = (sku, location, quantity, reference=None))]
    fn quarantine<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        quantity: Int<u32, names::quantity>,
        reference: Option<Text<names::reference>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let location = location.as_str();
        let quantity = quantity.0;
        let reference = reference.map(|v| v.0);
        self.run_stock(
            py,
            StockCommand::Quarantine {
                variant: vid(py, sku)?,
                location: lid(py, location)?,
                quantity,
                reference,
            },
        )
    }

    /// Releases inspected goods from quarantine to on hand.
    #[pyo3(signature = (sku, location, quantity, reference=None))]
    fn release_quarantine<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        quantity: Int<u32, names::quantity>,
        reference: Option<Text<names::reference>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let location = location.as_str();
        let quantity = quantity.0;
        let reference = reference.map(|v| v.0);
        self.run_stock(
            py,
            StockCommand::ReleaseQuarantine {
                variant: vid(py, sku)?,
                location: lid(py, location)?,
                quantity,
                reference,
            },
        )
    }

    /// Writes goods off, from `"on_hand"` or `"quarantine"`.
    #[pyo3(signature = (sku, location, quantity, from_=None, reference=None), text_signature = "($self, sku, location, quantity, from_=\"on_hand\", reference=None)")]
    fn write_off<'py>(
        &self,
        py: Python<'py>,
        sku: Text<names::sku>,
        location: Text<names::location>,
        quantity: Int<u32, names::quantity>,
        from_: Option<Text<names::from_>>,
        reference: Option<Text<names::reference>>,
    ) -> Events<'py> {
        let sku = sku.as_str();
        let location = location.as_str();
        let quantity = quantity.0;
        let from_ = from_.map(|v| v.0);
        let from_ = from_.as_deref().unwrap_or("on_hand");
        let reference = reference.map(|v| v.0);
        let from: WriteOffSource = enum_arg(py, "from_", from_)?;
        self.run_stock(
            py,
            StockCommand::WriteOff {
                variant: vid(py, sku)?,
                location: lid(py, location)?,
                quantity,
                from,
                reference,
            },
        )
    }
}
