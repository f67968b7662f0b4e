//! Returns on `Engine`: refund quotes, the RMA workflow (request, override, reject,
//! label, transit, receipt, inspection, resolution, close), the value of an RMA, and
//! store credit. Each step returns the order after it; its RMAs are in `Order.rmas`.

use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{CustomerId, LocationId, OrderId, VariantId};
use ordersmith::money::Money;
use ordersmith::order::TaxLine;
use ordersmith::returns::{
    ExchangeLine, RefundPolicy, ResolutionRequest, ReturnCommand, ReturnLineRequest, UnitInspection,
};
use pyo3::prelude::*;
use rust_decimal::Decimal;

use crate::args::{names, Flag, Text};
use crate::convert::{context, decimal_arg, extract_as, id_arg, to_py};
use crate::engine::{parse_order_id, PyEngine};
use crate::errors::{core_error, detached};
use crate::order::{line_quantities, PyOrder};

/// An exchange line as Python gives it: the price as a decimal in the order's currency.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeInput {
    variant: VariantId,
    quantity: u32,
    #[serde(deserialize_with = "ordersmith::money::decimal_text_or_int")]
    unit_price: Decimal,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    tax_lines: Vec<TaxLine>,
}

impl PyEngine {
    /// Runs one return command with the usual `actor` / `idempotency_key` handling.
    fn return_step(
        &self,
        py: Python<'_>,
        order_id: &str,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
        build: impl FnOnce(&Engine, &OrderId) -> PyResult<ReturnCommand>,
    ) -> PyResult<PyOrder> {
        let id = parse_order_id(py, order_id)?;
        let ctx: CommandContext = context(
            py,
            actor.as_ref().map(Text::as_str),
            idempotency_key.map(|v| v.0),
        )?;
        let engine = self.engine(py)?;
        let command = build(&engine, &id)?;
        self.order_call(py, |e: &Engine| e.execute_return(&id, command, &ctx))
    }
}

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

    /// Asks for a return of `lines`, a list of `{"line_id", "quantity", "reason",
    /// "opened"}` (reason: `wrong_size`, `damaged`, `defective`, `not_as_described`,
    /// `changed_mind`, `late_delivery`, `other`). The engine's return policy approves
    /// or rejects it at once, naming the failed rule. `exchange`: replacement lines
    /// `{"variant", "quantity", "unit_price", "title", "tax_lines"}` for an exchange.
    #[pyo3(signature = (order_id, lines, *, note=None, exchange=None, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn request_return(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        lines: &Bound<'_, PyAny>,
        note: Option<Text<names::note>>,
        exchange: Option<&Bound<'_, PyAny>>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let lines: Vec<ReturnLineRequest> = extract_as(lines, "lines")?;
        let exchange: Vec<ExchangeInput> = match exchange.filter(|e| !e.is_none()) {
            Some(e) => extract_as(e, "exchange")?,
            None => Vec::new(),
        };
        self.return_step(
            py,
            order_id.as_str(),
            actor,
            idempotency_key,
            |engine, id| {
                let exchange = exchange
                    .into_iter()
                    .map(|x| {
                        let unit_price: Money = engine
                            .in_order_currency(id, x.unit_price)
                            .map_err(|e| core_error(py, &e))?;
                        Ok(ExchangeLine {
                            variant: x.variant,
                            quantity: x.quantity,
                            unit_price,
                            title: x.title,
                            tax_lines: x.tax_lines,
                        })
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(ReturnCommand::Request {
                    lines,
                    note: note.map(|n| n.0),
                    exchange,
                })
            },
        )
    }

    /// A person approves a rejected return against the policy, with a reason.
    #[pyo3(signature = (order_id, rma, reason, *, actor=None, idempotency_key=None))]
    fn override_return(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
        reason: Text<names::reason>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.return_step(py, order_id.as_str(), actor, idempotency_key, |_, _| {
            Ok(ReturnCommand::Override {
                rma: rma.0,
                reason: reason.0,
            })
        })
    }

    /// A person rejects a return before anything arrived, with a reason.
    #[pyo3(signature = (order_id, rma, reason, *, actor=None, idempotency_key=None))]
    fn reject_return(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
        reason: Text<names::reason>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.return_step(py, order_id.as_str(), actor, idempotency_key, |_, _| {
            Ok(ReturnCommand::Reject {
                rma: rma.0,
                reason: reason.0,
            })
        })
    }

    /// Asks the host for a return label (outbox topic `return.label_requested`).
    #[pyo3(signature = (order_id, rma, service, *, actor=None, idempotency_key=None))]
    fn request_return_label(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
        service: Text<names::service>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.return_step(py, order_id.as_str(), actor, idempotency_key, |_, _| {
            Ok(ReturnCommand::RequestLabel {
                rma: rma.0,
                service: service.0,
            })
        })
    }

    /// Records the return label the host bought (the same one again changes nothing).
    #[pyo3(signature = (order_id, rma, carrier, tracking_number, *, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn record_return_label(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
        carrier: Text<names::carrier>,
        tracking_number: Text<names::tracking_number>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.return_step(py, order_id.as_str(), actor, idempotency_key, |_, _| {
            Ok(ReturnCommand::RecordLabel {
                rma: rma.0,
                carrier: carrier.0,
                tracking_number: tracking_number.0,
            })
        })
    }

    /// Records that the returned goods are on their way back.
    #[pyo3(signature = (order_id, rma, *, actor=None, idempotency_key=None))]
    fn mark_return_in_transit(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.return_step(py, order_id.as_str(), actor, idempotency_key, |_, _| {
            Ok(ReturnCommand::MarkInTransit { rma: rma.0 })
        })
    }

    /// Records returned units `{line_id: units}` arriving at `location` (partial
    /// receipts allowed).
    #[pyo3(signature = (order_id, rma, location, lines, *, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn receive_return(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
        location: Text<names::location>,
        lines: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let location = id_arg(py, location.as_str(), LocationId::parse)?;
        let lines = line_quantities(py, lines)?;
        self.return_step(py, order_id.as_str(), actor, idempotency_key, |_, _| {
            Ok(ReturnCommand::Receive {
                rma: rma.0,
                location,
                lines,
            })
        })
    }

    /// Records what inspection found: a list of `{"line_id", "outcome", "quantity",
    /// "note"}` (outcome `resellable` → restocked, `quarantine`, `write_off`; quantity
    /// defaults to 1).
    #[pyo3(signature = (order_id, rma, units, *, actor=None, idempotency_key=None))]
    fn inspect_return(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
        units: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let units: Vec<UnitInspection> = extract_as(units, "units")?;
        self.return_step(py, order_id.as_str(), actor, idempotency_key, |_, _| {
            Ok(ReturnCommand::Inspect { rma: rma.0, units })
        })
    }

    /// Settles a return: `refund` (through the payment refund path), `store_credit` or
    /// `exchange`. The breakdown is in `Order.rmas[...]["resolution"]`.
    #[pyo3(signature = (order_id, rma, resolution, *, actor=None, idempotency_key=None))]
    fn resolve_return(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
        resolution: Text<names::resolution>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let resolution: ResolutionRequest = crate::convert::from_json(
            serde_json::json!({ "kind": resolution.as_str() }),
            "resolution",
        )
        .map_err(|f| f.into_py_err(py))?;
        self.return_step(py, order_id.as_str(), actor, idempotency_key, |_, _| {
            Ok(ReturnCommand::Resolve {
                rma: rma.0,
                resolution,
            })
        })
    }

    /// Closes a return (resolved, rejected, or before anything arrived).
    #[pyo3(signature = (order_id, rma, *, actor=None, idempotency_key=None))]
    fn close_return(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.return_step(py, order_id.as_str(), actor, idempotency_key, |_, _| {
            Ok(ReturnCommand::Close { rma: rma.0 })
        })
    }

    /// What the units an RMA received are worth now, line by line (`paid`, `tax`,
    /// `shipping`, `restocking_fee`, `total`) and in `total`. Reads only.
    fn return_value<'py>(
        &self,
        py: Python<'py>,
        order_id: Text<names::order_id>,
        rma: Text<names::rma>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = parse_order_id(py, order_id.as_str())?;
        let engine = self.engine(py)?;
        let rma = rma.0;
        let value = detached(py, || engine.return_value(&id, &rma))?;
        to_py(py, &value)
    }

    /// A customer's store credit as a dict (`balance`, `entries`, `version`), or
    /// `None` if never credited.
    fn store_credit<'py>(
        &self,
        py: Python<'py>,
        customer_id: Text<names::customer_id>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let customer = id_arg(py, customer_id.as_str(), CustomerId::parse)?;
        let engine = self.engine(py)?;
        let account = detached(py, || engine.store_credit(&customer))?;
        to_py(py, &account)
    }

    /// Pays `amount` (a decimal in the order's currency) of an order from its
    /// customer's store credit; never below zero (`RETURNS_CREDIT_INSUFFICIENT`).
    #[pyo3(signature = (order_id, amount, *, actor=None, idempotency_key=None))]
    fn spend_store_credit(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        amount: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let id = parse_order_id(py, order_id.as_str())?;
        let ctx = context(
            py,
            actor.as_ref().map(Text::as_str),
            idempotency_key.map(|v| v.0),
        )?;
        let amount = decimal_arg(amount, "amount")?;
        let engine = self.engine(py)?;
        let amount = engine
            .in_order_currency(&id, amount)
            .map_err(|e| core_error(py, &e))?;
        self.order_call(py, |e: &Engine| e.spend_store_credit(&id, amount, &ctx))
    }
}
