//! The one place where failures become JavaScript errors.
//!
//! Every failure, whatever its origin, leaves Rust as a [`Failure`]: a core error keeps
//! the code, kind and details the core gives it (`OrdersmithError`, never reclassified
//! here), input the binding could not read is `ENGINE_INVALID_INPUT` with the field and
//! the reason, and a panic is `INTERNAL_PANIC`. It crosses as a napi error whose message
//! is [`MARKER`] followed by JSON (`{code, kind, message, details}`); `errors.js` turns
//! that into an instance of the `Error` subclass of the code's module, with `.code`,
//! `.kind` and `.details`. Nothing else in the package builds errors.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::{AsyncTask, Env, Task};
use ordersmith::engine::EngineError;
use ordersmith::errors::{kind_of, OrdersmithError};
use serde_json::{json, Map, Value};

/// Prefix of a native error's message that carries an ordersmith error as JSON.
pub(crate) const MARKER: &str = "\u{1}ordersmith:";

/// Code of a Rust panic caught at the boundary (a bug in ordersmith, never bad input).
pub(crate) const INTERNAL_PANIC: &str = "INTERNAL_PANIC";

/// Code of an argument the binding could not convert (a JS number for money, ...).
pub(crate) const INVALID_INPUT: &str = "ENGINE_INVALID_INPUT";

/// Why a call failed, before it becomes a JavaScript error.
#[derive(Debug)]
pub(crate) struct Failure {
    code: String,
    kind: String,
    message: String,
    details: Map<String, Value>,
}

impl Failure {
    /// Any core or channels error, with its own code, kind and details.
    pub(crate) fn core<E: OrdersmithError>(error: &E) -> Self {
        Failure {
            code: error.code().to_string(),
            kind: error.kind().as_str().to_string(),
            message: error.to_string(),
            details: error.details(),
        }
    }

    /// An argument that could not be read: `field` is its path (`lines[0].unit_price`),
    /// `reason` what was expected.
    pub(crate) fn input(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let mut details = Map::new();
        details.insert("field".into(), Value::String(field.to_string()));
        details.insert("reason".into(), Value::String(reason.clone()));
        Failure {
            code: INVALID_INPUT.to_string(),
            kind: kind_of(INVALID_INPUT).as_str().to_string(),
            message: format!("{field} is invalid: {reason}"),
            details,
        }
    }

    /// A caught panic.
    pub(crate) fn panic(payload: &(dyn Any + Send)) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let mut details = Map::new();
        details.insert("panic".into(), Value::String(what.clone()));
        Failure {
            code: INTERNAL_PANIC.to_string(),
            kind: "internal".to_string(),
            message: format!("internal error in ordersmith (please report): {what}"),
            details,
        }
    }

    /// The error as JSON (`{code, kind, message, details}`), as bulk results carry it.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "code": self.code,
            "kind": self.kind,
            "message": self.message,
            "details": self.details,
        })
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Failure::core(&e)
    }
}

impl From<Failure> for napi::Error {
    fn from(f: Failure) -> Self {
        napi::Error::from_reason(format!("{MARKER}{}", f.to_json()))
    }
}

/// What every binding call returns.
pub(crate) type Out<T> = Result<T, Failure>;

/// Runs binding work with panics caught, so a panic arrives as `InternalError`, never
/// as a crashed process.
pub(crate) fn shielded<T>(work: impl FnOnce() -> Out<T>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(f)) => Err(f.into()),
        Err(payload) => Err(Failure::panic(payload.as_ref()).into()),
    }
}

/// [`shielded`] for a JSON text result, handed to `index.js` marked.
pub(crate) fn shielded_text(work: impl FnOnce() -> Out<String>) -> napi::Result<String> {
    shielded(|| work().map(|json| crate::convert::marked(&json)))
}

/// [`shielded`] for a JSON result, handed to `index.js` as JSON text.
pub(crate) fn shielded_json(work: impl FnOnce() -> Out<Value>) -> napi::Result<String> {
    shielded(|| work().map(|v| crate::convert::json_text(&v)))
}

/// Work for the libuv thread pool: a closure producing JSON, resolved (as JSON text,
/// see `crate::convert::json_text`) with a plain object. Every slow call (store writes,
/// bulk imports) returns one as a Promise, so the event loop keeps serving while the
/// core works, serialisation included.
pub struct Job {
    work: Option<Box<dyn FnOnce() -> Out<String> + Send>>,
}

impl Task for Job {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        match self.work.take() {
            Some(work) => shielded(|| work().map(|json| crate::convert::marked(&json))),
            None => Err(Failure::input("task", "ran twice").into()),
        }
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

/// `work` (JSON text) as a Promise (napi `AsyncTask`).
pub(crate) fn job_text(work: impl FnOnce() -> Out<String> + Send + 'static) -> AsyncTask<Job> {
    AsyncTask::new(Job {
        work: Some(Box::new(work)),
    })
}

/// `work` as a Promise (napi `AsyncTask`).
pub(crate) fn job(work: impl FnOnce() -> Out<Value> + Send + 'static) -> AsyncTask<Job> {
    job_text(move || work().map(|v| v.to_string()))
}
