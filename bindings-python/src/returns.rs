//! Refund quotes on `Engine`: what returning some units now would refund, line by line.

use ordersmith::returns::RefundPolicy;
use pyo3::prelude::*;

use crate::args::{names, Flag, Text};
use crate::convert::{decimal_arg, to_py};
use crate::engine::{parse_order_id, PyEngine};
use crate::errors::detached;
use crate::order::line_quantities;

#[pymethods]
impl PyEngine {
    /// What returning `lines` (`{line_id: units}`) now would refund, after the returns the
    /// order already records: per line `paid` (after discounts, tax included), `tax`,
    /// `shipping` (when `refund_shipping`), `restocking_fee` (`restocking_fee_rate` of
    /// the goods, 0 to 1) and `total`, and the overall `total`. Reads only.
    #[pyo3(signature = (order_id, lines, *, refund_shipping=None, restocking_fee_rate=None), text_signature = "($self, order_id, lines, *, refund_shipping=False, restocking_fee_rate=None)")]
    fn refund_quote<'py>(
        &self,
        py: Python<'py>,
        order_id: Text<names::order_id>,
        lines: &Bound<'_, PyAny>,
        refund_shipping: Option<Flag<names::refund_shipping>>,
        restocking_fee_rate: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = parse_order_id(py, order_id.as_str())?;
        let lines = line_quantities(py, lines)?;
        let policy = RefundPolicy {
            refund_shipping: refund_shipping.is_some_and(|f| f.0),
            restocking_fee_rate: restocking_fee_rate
                .map(|r| decimal_arg(r, "restocking_fee_rate"))
                .transpose()?
                .unwrap_or_default(),
        };
        let engine = self.engine(py)?;
        let quote = detached(py, || engine.refund_quote(&id, &lines, &policy))?;
        to_py(py, &quote)
    }
}
