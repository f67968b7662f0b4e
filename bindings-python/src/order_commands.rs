//! Order commands on `Engine`: one method per core command. Each converts its
//! arguments, runs the core command with the GIL released and returns the new `Order`.

use ordersmith::order::{CancelReason, HoldReason, LineEditInput};
use pyo3::prelude::*;

use crate::args::{names, Text, TextList};
use crate::convert::{context, decimal_arg, enum_arg, extract_as};
use crate::engine::{parse_order_id, PyEngine};
use crate::order::{line_quantities, PyOrder};

#[pymethods]
impl PyEngine {
    /// Accepts a pending order (and reserves its stock when so configured).
    #[pyo3(signature = (order_id, *, actor=None, idempotency_key=None))]
    fn confirm(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        self.order_call(py, |e| e.confirm_order(&id, &ctx))
    }

    /// Puts an order on hold with a reason (`"fraud_review"`, `"address_check"`, ...).
    #[pyo3(signature = (order_id, reason, note=None, *, actor=None, idempotency_key=None))]
    fn hold(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        reason: Text<names::reason>,
        note: Option<Text<names::note>>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let reason = reason.as_str();
        let note = note.map(|v| v.0);
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        let reason: HoldReason = enum_arg(py, "reason", reason)?;
        self.order_call(py, |e| e.hold_order(&id, reason, note, &ctx))
    }

    /// Releases a hold.
    #[pyo3(signature = (order_id, *, actor=None, idempotency_key=None))]
    fn release_hold(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        self.order_call(py, |e| e.release_hold(&id, &ctx))
    }

    /// Cancels the whole order (its reservations are released).
    #[pyo3(signature = (order_id, reason=None, *, actor=None, idempotency_key=None), text_signature = "($self, order_id, reason=\"customer\", *, actor=None, idempotency_key=None)")]
    fn cancel(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        reason: Option<Text<names::reason>>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let reason = reason.map(|v| v.0);
        let reason = reason.as_deref().unwrap_or("customer");
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        let reason: CancelReason = enum_arg(py, "reason", reason)?;
        self.order_call(py, |e| e.cancel_order(&id, reason, &ctx))
    }

    /// Cancels some units: `lines` is `{line_id: quantity}`.
    #[pyo3(signature = (order_id, lines, reason=None, *, actor=None, idempotency_key=None), text_signature = "($self, order_id, lines, reason=\"customer\", *, actor=None, idempotency_key=None)")]
    fn cancel_lines(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        lines: &Bound<'_, PyAny>,
        reason: Option<Text<names::reason>>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let reason = reason.map(|v| v.0);
        let reason = reason.as_deref().unwrap_or("customer");
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        let reason: CancelReason = enum_arg(py, "reason", reason)?;
        let lines = line_quantities(py, lines)?;
        self.order_call(py, |e| e.cancel_lines(&id, lines, reason, &ctx))
    }

    /// Edits lines before they ship: a list of `LineEditInput` dicts (`{"op": "add", ...}`).
    #[pyo3(signature = (order_id, edits, *, actor=None, idempotency_key=None))]
    fn edit(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        edits: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        let edits: Vec<LineEditInput> = extract_as(edits, "edits")?;
        self.order_call(py, |e| e.edit_order_input(&id, edits, &ctx))
    }

    /// Records a payment of `amount` (Decimal, int or str) in the order's currency.
    #[pyo3(signature = (order_id, amount, *, actor=None, idempotency_key=None))]
    fn record_payment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        amount: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        let amount = decimal_arg(amount, "amount")?;
        self.order_call(py, |e| e.record_payment_amount(&id, amount, &ctx))
    }

    /// Records payment of the whole balance due.
    #[pyo3(signature = (order_id, *, actor=None, idempotency_key=None))]
    fn mark_paid(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        self.order_call(py, |e| e.mark_paid(&id, &ctx))
    }

    /// Records a refund of `amount` in the order's currency.
    #[pyo3(signature = (order_id, amount, *, actor=None, idempotency_key=None))]
    fn record_refund(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        amount: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        let amount = decimal_arg(amount, "amount")?;
        self.order_call(py, |e| e.record_refund_amount(&id, amount, &ctx))
    }

    /// Records shipped units `{line_id: quantity}` (commits their reservations).
    #[pyo3(signature = (order_id, lines, *, actor=None, idempotency_key=None))]
    fn record_shipment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        lines: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        let lines = line_quantities(py, lines)?;
        self.order_call(py, |e| e.record_shipment(&id, lines, &ctx))
    }

    /// Records delivered units `{line_id: quantity}`.
    #[pyo3(signature = (order_id, lines, *, actor=None, idempotency_key=None))]
    fn record_delivery(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        lines: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        let lines = line_quantities(py, lines)?;
        self.order_call(py, |e| e.record_delivery(&id, lines, &ctx))
    }

    /// Records returned units `{line_id: quantity}`.
    #[pyo3(signature = (order_id, lines, *, actor=None, idempotency_key=None))]
    fn record_return(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        lines: &Bound<'_, PyAny>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        let lines = line_quantities(py, lines)?;
        self.order_call(py, |e| e.record_return(&id, lines, &ctx))
    }

    /// Closes a fully shipped order.
    #[pyo3(signature = (order_id, *, actor=None, idempotency_key=None))]
    fn complete(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        self.order_call(py, |e| e.complete_order(&id, &ctx))
    }

    /// Adds and removes tags.
    #[pyo3(signature = (order_id, add=Default::default(), remove=Default::default(), *, actor=None, idempotency_key=None), text_signature = "($self, order_id, add=..., remove=..., *, actor=None, idempotency_key=None)")]
    fn tag(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        add: TextList<names::add>,
        remove: TextList<names::remove>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let add = add.0;
        let remove = remove.0;
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        self.order_call(py, |e| e.tag_order(&id, add, remove, &ctx))
    }

    /// Adds a staff note.
    #[pyo3(signature = (order_id, note, *, actor=None, idempotency_key=None))]
    fn add_note(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        note: Text<names::note>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let order_id = order_id.as_str();
        let note = note.0;
        let actor = actor.as_ref().map(Text::as_str);
        let idempotency_key = idempotency_key.map(|v| v.0);
        let (id, ctx) = (
            parse_order_id(py, order_id)?,
            context(py, actor, idempotency_key)?,
        );
        self.order_call(py, |e| e.add_note(&id, note, &ctx))
    }
}
