//! Conversions between Python values and the core's types.
//!
//! Input: a Python value becomes JSON ([`py_to_json`]) with strict rules (a `float`
//! anywhere is refused, a `Decimal` becomes its exact string, a datetime must be
//! timezone-aware and becomes RFC 3339 in UTC), and the JSON is read by the core's own
//! serde types ([`from_json`]), so unknown fields and bad values are refused by the core's
//! format with the path of the offending value.
//!
//! Output: JSON from the core's serde types becomes Python ([`json_to_py`]) with two rules
//! that follow the core's serialisation conventions: a money object
//! (`{"amount": "...", "currency": "..."}`) keeps its shape with the amount as
//! `decimal.Decimal`, and a string under a key named `at` or ending in `_at` is an RFC 3339
//! time and becomes an aware UTC `datetime`. Decimal-valued keys listed in
//! [`DECIMAL_KEYS`] become `Decimal` too.

use chrono::{DateTime, Utc};
use ordersmith::engine::CommandContext;
use ordersmith::order::Actor;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyMapping, PyString, PyTuple, PyType};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use crate::errors::{invalid_input, Failure};

static DECIMAL_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATETIME_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMEDELTA_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Keys whose JSON string values are decimals (tax rates, accuracies, velocities).
pub(crate) const DECIMAL_KEYS: &[&str] = &[
    "rate",
    "velocity_per_day",
    "days_of_cover",
    "variant_accuracy",
    "unit_accuracy",
    "vat_rate",
    "net_unit_price",
];

const FLOAT_REFUSED: &str =
    "floats are refused (binary floats cannot hold money exactly): pass a decimal.Decimal, an int or a str such as \"10.50\"";
/// The core's message, so a naive `datetime` and a naive ISO string read the same.
const NAIVE_REFUSED: &str = ordersmith::order::NAIVE_TIME_REFUSED;

fn utc(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    UTC.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("datetime")?
                .getattr("timezone")?
                .getattr("utc")?
                .unbind(),
        )
    })
    .map(|u| u.bind(py))
}

fn is_decimal(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let ty = DECIMAL_TYPE.import(value.py(), "decimal", "Decimal")?;
    value.is_instance(ty)
}

fn is_datetime(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let ty = DATETIME_TYPE.import(value.py(), "datetime", "datetime")?;
    value.is_instance(ty)
}

fn is_date(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let ty = DATE_TYPE.import(value.py(), "datetime", "date")?;
    value.is_instance(ty)
}

fn input(field: &str, reason: impl Into<String>) -> Failure {
    Failure::Input {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// A Python `Decimal` as its exact plain string (`format(d, "f")`, never exponent form).
fn decimal_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let builtins = value.py().import("builtins")?;
    builtins.getattr("format")?.call1((value, "f"))?.extract()
}

/// An aware datetime in UTC; `Err` with the reason for anything else.
fn aware_utc(value: &Bound<'_, PyAny>, field: &str) -> Result<DateTime<Utc>, Failure> {
    let py_err = |e: PyErr| input(field, e.to_string());
    let offset = value.call_method0("utcoffset").map_err(py_err)?;
    if offset.is_none() {
        return Err(input(field, NAIVE_REFUSED));
    }
    let in_utc = value
        .call_method1("astimezone", (utc(value.py()).map_err(py_err)?,))
        .map_err(py_err)?;
    in_utc.extract::<DateTime<Utc>>().map_err(py_err)
}

/// A Python value as JSON, refusing what cannot be exact: floats, naive datetimes,
/// non-string keys, unknown types. `path` names the value in errors.
pub(crate) fn py_to_json(value: &Bound<'_, PyAny>, path: &str) -> Result<Value, Failure> {
    let py_err = |e: PyErr| input(path, e.to_string());
    if value.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = value.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if value.is_instance_of::<PyFloat>() {
        Err(input(path, FLOAT_REFUSED))
    } else if let Ok(s) = value.cast::<PyString>() {
        Ok(Value::String(s.extract::<String>().map_err(py_err)?))
    } else if is_decimal(value).map_err(py_err)? {
        Ok(Value::String(decimal_text(value).map_err(py_err)?))
    } else if is_datetime(value).map_err(py_err)? {
        Ok(Value::String(aware_utc(value, path)?.to_rfc3339()))
    } else if is_date(value).map_err(py_err)? {
        Err(input(
            path,
            "a date has no time of day: pass an aware datetime",
        ))
    } else if value.is_instance_of::<PyDict>() || value.cast::<PyMapping>().is_ok() {
        // Any Mapping (a dict, a MappingProxyType, ...), as the stubs promise.
        let items = crate::args::mapping_items(value, path).map_err(py_err)?;
        let mut map = Map::with_capacity(items.len());
        for (key, v) in items {
            // The core decides which keys may be shown: a key may be personal data.
            let shown = ordersmith::pii::key_for_message(&key);
            let child = if path.is_empty() {
                shown.to_string()
            } else {
                format!("{path}.{shown}")
            };
            map.insert(key, py_to_json(&v, &child)?);
        }
        Ok(Value::Object(map))
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, item) in value.try_iter().map_err(py_err)?.enumerate() {
            items.push(py_to_json(&item.map_err(py_err)?, &format!("{path}[{i}]"))?);
        }
        Ok(Value::Array(items))
    } else if let Some(i) = crate::args::index_value(value).map_err(py_err)? {
        // int, and numpy/pandas integer scalars (anything with __index__ but bool).
        if let Ok(i) = i64::try_from(i) {
            Ok(Value::Number(Number::from(i)))
        } else if let Ok(u) = u64::try_from(i) {
            Ok(Value::Number(Number::from(u)))
        } else {
            Err(input(path, "integer out of range"))
        }
    } else {
        let type_name = value
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        Err(input(path, format!("unsupported type {type_name}")))
    }
}

/// Reads JSON into a core serde type; errors name the path (`lines[0].unit_price`).
pub(crate) fn from_json<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, Failure> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            what.to_string()
        } else if what.is_empty() {
            path
        } else {
            format!("{what}.{path}")
        };
        input(&field, e.into_inner().to_string())
    })
}

/// A Python value read as a core serde type, GIL held.
pub(crate) fn extract_as<T: DeserializeOwned>(value: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    py_to_json(value, what)
        .and_then(|json| from_json(json, what))
        .map_err(|f| f.into_py_err(value.py()))
}

/// A core enum from its snake_case name (`"address_check"`), as serde reads it.
pub(crate) fn enum_arg<T: DeserializeOwned>(py: Python<'_>, name: &str, text: &str) -> PyResult<T> {
    serde_json::from_value(Value::String(text.to_string()))
        .map_err(|e| invalid_input(py, name, &e.to_string()))
}

/// A decimal argument: `Decimal`, `int` or `str`; a `float` is refused.
pub(crate) fn decimal_arg(value: &Bound<'_, PyAny>, name: &str) -> PyResult<Decimal> {
    let py = value.py();
    let text = match py_to_json(value, name).map_err(|f| f.into_py_err(py))? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(invalid_input(
                py,
                name,
                "expected a decimal.Decimal, an int or a str such as \"10.50\"",
            ))
        }
    };
    // Text that is no decimal is the core's money error (`MONEY_INVALID_AMOUNT`), as in
    // Node and Kotlin; a value of the wrong type above is an input error.
    ordersmith::money::parse_decimal(&text).map_err(|e| crate::errors::core_error(py, &e))
}

/// An aware datetime argument, converted to UTC; naive datetimes are refused.
pub(crate) fn datetime_arg(value: &Bound<'_, PyAny>, name: &str) -> PyResult<DateTime<Utc>> {
    let py = value.py();
    if !is_datetime(value)? {
        return Err(invalid_input(py, name, "expected an aware datetime"));
    }
    aware_utc(value, name).map_err(|f| f.into_py_err(py))
}

/// A positive `datetime.timedelta` of at most `max_days` days, exactly (days, seconds
/// and microseconds are read as integers, never through a float).
pub(crate) fn timedelta_arg(
    value: &Bound<'_, PyAny>,
    name: &str,
    max_days: i64,
) -> PyResult<chrono::TimeDelta> {
    let py = value.py();
    let ty = TIMEDELTA_TYPE.import(py, "datetime", "timedelta")?;
    if !value.is_instance(ty)? {
        return Err(invalid_input(py, name, "expected a datetime.timedelta"));
    }
    let part = |attr: &str| -> PyResult<i64> { value.getattr(attr)?.extract::<i64>() };
    let (days, seconds, micros) = (part("days")?, part("seconds")?, part("microseconds")?);
    let delta = chrono::TimeDelta::try_days(days)
        .and_then(|d| d.checked_add(&chrono::TimeDelta::try_seconds(seconds)?))
        .and_then(|d| d.checked_add(&chrono::TimeDelta::microseconds(micros)));
    match delta {
        Some(d) if d > chrono::TimeDelta::zero() && d <= chrono::TimeDelta::days(max_days) => Ok(d),
        _ => Err(invalid_input(
            py,
            name,
            "must be longer than zero and at most 30 days",
        )),
    }
}

/// Parses an id with the core's own rules (errors are the core's `ID_*` codes).
pub(crate) fn id_arg<T, E: ordersmith::errors::OrdersmithError>(
    py: Python<'_>,
    text: &str,
    parse: impl FnOnce(String) -> Result<T, E>,
) -> PyResult<T> {
    parse(text.to_string()).map_err(|e| crate::errors::core_error(py, &e))
}

/// Who acts and with which key: `actor` as the core parses it (`"user:ayse"`).
pub(crate) fn context(
    py: Python<'_>,
    actor: Option<&str>,
    idempotency_key: Option<String>,
) -> PyResult<CommandContext> {
    let actor = match actor {
        None => Actor::System,
        Some(text) => Actor::parse(text).ok_or_else(|| {
            invalid_input(
                py,
                "actor",
                "expected \"system\", \"customer\", \"user:<id>\", \"channel:<id>\" or \"rule:<id>\"",
            )
        })?,
    };
    Ok(CommandContext {
        actor,
        idempotency_key,
    })
}

fn is_money(map: &Map<String, Value>) -> bool {
    map.len() == 2
        && matches!(map.get("amount"), Some(Value::String(_)))
        && matches!(map.get("currency"), Some(Value::String(_)))
}

fn is_time_key(key: &str) -> bool {
    key == "at" || key.ends_with("_at")
}

fn decimal_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    match text.parse::<Decimal>() {
        Ok(d) => d.into_pyobject(py).map(Bound::into_any),
        Err(_) => Ok(PyString::new(py, text).into_any()),
    }
}

fn keyed_to_py<'py>(py: Python<'py>, key: &str, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    match value {
        Value::String(s) if is_time_key(key) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&Utc).into_pyobject(py).map(Bound::into_any),
            Err(_) => Ok(PyString::new(py, s).into_any()),
        },
        Value::String(s) if DECIMAL_KEYS.contains(&key) => decimal_to_py(py, s),
        _ => json_to_py(py, value),
    }
}

/// JSON from the core as Python (money amounts as `Decimal`, `*_at` as aware datetimes).
pub(crate) fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                // The core never serialises floats; keep the exact text if one appears.
                decimal_to_py(py, &n.to_string())?
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            if is_money(map) {
                if let (Some(Value::String(a)), Some(c)) = (map.get("amount"), map.get("currency"))
                {
                    dict.set_item("amount", decimal_to_py(py, a)?)?;
                    dict.set_item("currency", json_to_py(py, c)?)?;
                }
            } else {
                for (k, v) in map {
                    dict.set_item(k, keyed_to_py(py, k, v)?)?;
                }
            }
            dict.into_any()
        }
    })
}

/// Any core serde value as Python, through its JSON form.
pub(crate) fn to_py<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| invalid_input(py, "output", &format!("could not be serialised: {e}")))?;
    json_to_py(py, &json)
}
