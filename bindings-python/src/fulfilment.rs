//! The warehouse flow on `Engine`: fulfilment orders, pick lists, and one method per
//! step (pick, pack, request_label, record_label, hand_over, hold, release, move,
//! cancel). Each step returns the order after it; its fulfilment orders are in
//! `Order.fulfilments`.

use ordersmith::engine::{CommandContext, Engine};
use ordersmith::fulfilment::{
    choose_service, CarrierEvent, CarrierPolicy, Label, ParcelSize, RateQuote,
};
use ordersmith::ids::{LocationId, OrderId};
use ordersmith::money::{Currency, Money};
use ordersmith::notify::Locale;
use ordersmith::order::{CancelReason, FulfilmentCommand, LineQuantity};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::args::{names, Int, Text};
use crate::convert::{
    context, datetime_arg, enum_arg, extract_as, id_arg, json_to_py, timedelta_arg, to_py,
};
use crate::engine::{parse_order_id, PyEngine};
use crate::errors::{core_error, detached};
use crate::order::{line_quantities, PyOrder};

impl PyEngine {
    /// Runs one step with the usual `actor` / `idempotency_key` handling.
    fn step(
        &self,
        py: Python<'_>,
        order_id: &str,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
        build: impl FnOnce() -> PyResult<FulfilmentCommand>,
    ) -> PyResult<PyOrder> {
        let id: OrderId = parse_order_id(py, order_id)?;
        let ctx: CommandContext = context(
            py,
            actor.as_ref().map(Text::as_str),
            idempotency_key.map(|v| v.0),
        )?;
        let step = build()?;
        self.order_call(py, |e: &Engine| e.fulfil(&id, step, &ctx))
    }
}

fn optional_lines(py: Python<'_>, lines: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<LineQuantity>> {
    match lines.filter(|l| !l.is_none()) {
        Some(l) => line_quantities(py, l),
        None => Ok(Vec::new()),
    }
}

#[pymethods]
impl PyEngine {
    /// The order's fulfilment orders (open and closed), as dicts.
    fn fulfilment_orders<'py>(
        &self,
        py: Python<'py>,
        order_id: Text<names::order_id>,
    ) -> PyResult<Bound<'py, PyList>> {
        let id = parse_order_id(py, order_id.as_str())?;
        let engine = self.engine(py)?;
        let fos = detached(py, || engine.fulfilment_orders(&id))?;
        let out = PyList::empty(py);
        for fo in &fos {
            out.append(json_to_py(
                py,
                &serde_json::to_value(fo).unwrap_or_default(),
            )?)?;
        }
        Ok(out)
    }

    /// What to pick for one fulfilment order, sorted for walking: dicts with
    /// `line_id`, `sku`, `title` and `quantity`.
    fn pick_list<'py>(
        &self,
        py: Python<'py>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
    ) -> PyResult<Bound<'py, PyList>> {
        let id = parse_order_id(py, order_id.as_str())?;
        let engine = self.engine(py)?;
        let fulfilment = fulfilment.0;
        let lines = detached(py, || engine.pick_list(&id, &fulfilment))?;
        let out = PyList::empty(py);
        for l in &lines {
            out.append(json_to_py(
                py,
                &serde_json::to_value(l).unwrap_or_default(),
            )?)?;
        }
        Ok(out)
    }

    /// Records picked units `{line_id: quantity}` and units not found (`short`), which
    /// the engine's short-pick policy handles.
    #[pyo3(signature = (order_id, fulfilment, picked, short=None, *, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn pick(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        picked: &Bound<'_, PyAny>,
        short: Option<&Bound<'_, PyAny>>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.step(py, order_id.as_str(), actor, idempotency_key, || {
            Ok(FulfilmentCommand::Pick {
                fulfilment: fulfilment.0,
                picked: line_quantities(py, picked)?,
                short: optional_lines(py, short)?,
            })
        })
    }

    /// Packs picked units `{line_id: quantity}` into one parcel of the given weight
    /// (grams) and outer dimensions (millimetres).
    #[pyo3(signature = (order_id, fulfilment, units, *, weight_grams, length_mm, width_mm, height_mm, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn pack(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        units: &Bound<'_, PyAny>,
        weight_grams: Int<u32, names::weight_grams>,
        length_mm: Int<u32, names::length_mm>,
        width_mm: Int<u32, names::width_mm>,
        height_mm: Int<u32, names::height_mm>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.step(py, order_id.as_str(), actor, idempotency_key, || {
            Ok(FulfilmentCommand::Pack {
                fulfilment: fulfilment.0,
                units: line_quantities(py, units)?,
                size: ParcelSize {
                    weight_grams: weight_grams.0,
                    length_mm: length_mm.0,
                    width_mm: width_mm.0,
                    height_mm: height_mm.0,
                },
            })
        })
    }

    /// Asks for a label: an outbox effect (`fulfilment.label_requested`) the host
    /// performs with its carrier, then reports with `record_label`.
    #[pyo3(signature = (order_id, fulfilment, parcel, service, *, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn request_label(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        parcel: Text<names::parcel>,
        service: Text<names::service>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.step(py, order_id.as_str(), actor, idempotency_key, || {
            Ok(FulfilmentCommand::RequestLabel {
                fulfilment: fulfilment.0,
                parcel: parcel.0,
                service: service.0,
            })
        })
    }

    /// Records the label the host bought for a parcel.
    #[pyo3(signature = (order_id, fulfilment, parcel, *, carrier, service, tracking_number, label_ref=None, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn record_label(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        parcel: Text<names::parcel>,
        carrier: Text<names::carrier>,
        service: Text<names::service>,
        tracking_number: Text<names::tracking_number>,
        label_ref: Option<Text<names::label_ref>>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.step(py, order_id.as_str(), actor, idempotency_key, || {
            Ok(FulfilmentCommand::RecordLabel {
                fulfilment: fulfilment.0,
                parcel: parcel.0,
                label: Label {
                    carrier: carrier.0,
                    service: service.0,
                    tracking_number: tracking_number.0,
                    label_ref: label_ref.map(|v| v.0),
                },
            })
        })
    }

    /// The carrier took the parcel: its units are sold in the ledger and shipped on
    /// the order.
    #[pyo3(signature = (order_id, fulfilment, parcel, *, actor=None, idempotency_key=None))]
    fn hand_over(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        parcel: Text<names::parcel>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.step(py, order_id.as_str(), actor, idempotency_key, || {
            Ok(FulfilmentCommand::HandOver {
                fulfilment: fulfilment.0,
                parcel: parcel.0,
            })
        })
    }

    /// Stops work on a fulfilment order.
    #[pyo3(signature = (order_id, fulfilment, reason, *, actor=None, idempotency_key=None))]
    fn hold_fulfilment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        reason: Text<names::reason>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.step(py, order_id.as_str(), actor, idempotency_key, || {
            Ok(FulfilmentCommand::Hold {
                fulfilment: fulfilment.0,
                reason: reason.0,
            })
        })
    }

    /// Resumes work on a held fulfilment order.
    #[pyo3(signature = (order_id, fulfilment, *, actor=None, idempotency_key=None))]
    fn release_fulfilment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        self.step(py, order_id.as_str(), actor, idempotency_key, || {
            Ok(FulfilmentCommand::Release {
                fulfilment: fulfilment.0,
            })
        })
    }

    /// Ships an unpicked fulfilment order from another location (released here,
    /// reserved there, in one change).
    #[pyo3(signature = (order_id, fulfilment, to, *, actor=None, idempotency_key=None))]
    fn move_fulfilment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        to: Text<names::to>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let to = id_arg(py, to.as_str(), LocationId::parse)?;
        self.step(py, order_id.as_str(), actor, idempotency_key, || {
            Ok(FulfilmentCommand::Move {
                fulfilment: fulfilment.0,
                to,
            })
        })
    }

    /// Records a carrier's event for a parcel: `code` is the carrier's raw status code
    /// (mapped with the engine's carrier table), `occurred_at` an aware datetime,
    /// `location` the carrier's text. Repeats change nothing; stale or nonsensical
    /// events stay in the parcel's history without moving it back.
    #[pyo3(signature = (order_id, fulfilment, parcel, code, occurred_at, location=None, *, actor=None, idempotency_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn record_tracking_event(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        parcel: Text<names::parcel>,
        code: Text<names::code>,
        occurred_at: &Bound<'_, PyAny>,
        location: Option<Text<names::location>>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let id = parse_order_id(py, order_id.as_str())?;
        let ctx = context(
            py,
            actor.as_ref().map(Text::as_str),
            idempotency_key.map(|v| v.0),
        )?;
        let at = datetime_arg(occurred_at, "occurred_at")?;
        let event = CarrierEvent::new(at, code.as_str(), location.as_ref().map(Text::as_str))
            .map_err(|e| core_error(py, &e))?;
        let (fulfilment, parcel) = (fulfilment.0, parcel.0);
        self.order_call(py, |e: &Engine| {
            e.record_tracking_event(&id, &fulfilment, &parcel, event, &ctx)
        })
    }

    /// "Where is my order": stages, parcels with tracking, ship-by and the delivery
    /// estimate, in `locale` (`"en"` or `"tr"`; other tags fall back to English).
    #[pyo3(signature = (order_id, locale=None))]
    fn timeline<'py>(
        &self,
        py: Python<'py>,
        order_id: Text<names::order_id>,
        locale: Option<Text<names::locale>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = parse_order_id(py, order_id.as_str())?;
        let locale = Locale::from_tag(locale.as_ref().map_or("en", Text::as_str));
        let engine = self.engine(py)?;
        let timeline = detached(py, || engine.timeline(&id, locale))?;
        to_py(py, &timeline)
    }

    /// The order's ship-by time on the engine's shipping calendar (an aware UTC
    /// `datetime`): from when it was placed, the calendar's cut-off and handling days.
    /// `None` when the engine has no shipping calendar.
    fn ship_by(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
    ) -> PyResult<Option<chrono::DateTime<chrono::Utc>>> {
        let id = parse_order_id(py, order_id.as_str())?;
        let engine = self.engine(py)?;
        detached(py, || {
            let order = engine.order(&id)?;
            engine.ship_by(&order)
        })
    }

    /// Open fulfilment orders whose ship-by is past or within `margin` (a
    /// `datetime.timedelta`) of now, most urgent first (empty without a shipping
    /// calendar).
    fn fulfilments_due<'py>(
        &self,
        py: Python<'py>,
        margin: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let margin = timedelta_arg(margin, "margin", 30)?;
        let engine = self.engine(py)?;
        let due = detached(py, || engine.fulfilments_due(margin))?;
        to_py(py, &due)
    }

    /// Cancels what a fulfilment order has not shipped (its units are cancelled on the
    /// order; picked units go back to the shelf).
    #[pyo3(signature = (order_id, fulfilment, reason=None, *, actor=None, idempotency_key=None), text_signature = "($self, order_id, fulfilment, reason=\"staff\", *, actor=None, idempotency_key=None)")]
    fn cancel_fulfilment(
        &self,
        py: Python<'_>,
        order_id: Text<names::order_id>,
        fulfilment: Text<names::fulfilment>,
        reason: Option<Text<names::reason>>,
        actor: Option<Text<names::actor>>,
        idempotency_key: Option<Text<names::idempotency_key>>,
    ) -> PyResult<PyOrder> {
        let reason: CancelReason =
            enum_arg(py, "reason", reason.as_ref().map_or("staff", Text::as_str))?;
        self.step(py, order_id.as_str(), actor, idempotency_key, || {
            Ok(FulfilmentCommand::Cancel {
                fulfilment: fulfilment.0,
                reason,
            })
        })
    }
}

/// Chooses a carrier service from rate quotes (dicts with `carrier`, `service`,
/// `price` (Decimal or str), `currency`, `transit_days_min`, `transit_days_max`):
/// `policy` is `{"policy": "cheapest_meeting_promise", "max_transit_days": 3}` or
/// `{"policy": "fastest_under_cap", "cap": Decimal, "currency": "TRY"}`. Returns the
/// chosen quote and the explanation.
#[pyfunction]
pub(crate) fn choose_carrier<'py>(
    py: Python<'py>,
    quotes: &Bound<'_, PyAny>,
    policy: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Quote {
        carrier: String,
        service: String,
        price: rust_decimal::Decimal,
        currency: String,
        transit_days_min: u32,
        transit_days_max: u32,
    }
    #[derive(serde::Deserialize)]
    #[serde(tag = "policy", rename_all = "snake_case", deny_unknown_fields)]
    enum Policy {
        CheapestMeetingPromise {
            max_transit_days: u32,
        },
        FastestUnderCap {
            cap: rust_decimal::Decimal,
            currency: String,
        },
    }
    let money = |amount: rust_decimal::Decimal, currency: &str| -> PyResult<Money> {
        let currency = Currency::parse(currency).map_err(|e| core_error(py, &e))?;
        Money::new(amount, currency).map_err(|e| core_error(py, &e))
    };
    let raw: Vec<Quote> = extract_as(quotes, "quotes")?;
    let quotes = raw
        .into_iter()
        .map(|q| {
            Ok(RateQuote::new(
                &q.carrier,
                &q.service,
                money(q.price, &q.currency)?,
                q.transit_days_min,
                q.transit_days_max,
            ))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let policy = match extract_as::<Policy>(policy, "policy")? {
        Policy::CheapestMeetingPromise { max_transit_days } => {
            CarrierPolicy::CheapestMeetingPromise { max_transit_days }
        }
        Policy::FastestUnderCap { cap, currency } => CarrierPolicy::FastestUnderCap {
            cap: money(cap, &currency)?,
        },
    };
    let choice = choose_service(&quotes, &policy).map_err(|e| core_error(py, &e))?;
    to_py(py, &choice)
}

/// Renders a requested notification (the `notification` of a `notification.requested`
/// effect's payload) with the shipped English and Turkish templates, after applying
/// `overrides` (a JSON list of `{"key", "locale", "channel", "subject"?, "body"}`; a
/// template naming an unknown variable is refused when loaded). Returns `subject`,
/// `body`, `locale` and `channel`.
#[pyfunction]
#[pyo3(signature = (notification, overrides=None))]
pub(crate) fn render_notification<'py>(
    py: Python<'py>,
    notification: &Bound<'_, PyAny>,
    overrides: Option<Text<names::overrides>>,
) -> PyResult<Bound<'py, PyAny>> {
    let notification: ordersmith::notify::Notification = extract_as(notification, "notification")?;
    let mut templates =
        ordersmith::notify::TemplateSet::shipped().map_err(|e| core_error(py, &e))?;
    if let Some(json) = overrides {
        templates
            .load_overrides_json(json.as_str())
            .map_err(|e| core_error(py, &e))?;
    }
    let message = notification
        .render(&templates)
        .map_err(|e| core_error(py, &e))?;
    to_py(py, &message)
}
