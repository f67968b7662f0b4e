//! Ports a phone implements in Kotlin or Swift: a clock and an effect sink.
//!
//! Neither is ever called while the engine holds its writer lock, so a host callback
//! that calls the engine again cannot deadlock: the host clock is read just before each
//! engine call and the engine's clock port returns that reading; the effect sink is fed
//! after the engine call has returned.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use ordersmith::ports::{Clock, OutboxRecord};

use crate::convert::{core_time, host_time};
use crate::errors::OrdersmithError;

/// The time as the host knows it (a phone's clock, or a fixed time in tests).
#[uniffi::export(with_foreign)]
pub trait HostClock: Send + Sync {
    /// Now. Whatever it throws fails the engine call about to start, with
    /// `ENGINE_INVALID_INPUT`.
    fn now(&self) -> Result<SystemTime, OrdersmithError>;
}

/// Where the host sends effects (label requests, customer messages, stock pushes).
#[uniffi::export(with_foreign)]
pub trait EffectSink: Send + Sync {
    /// Handles one effect; `true` when it is done (the engine then acknowledges it),
    /// `false` to leave it pending for the next drain. Whatever it throws stops the
    /// drain with `ENGINE_INVALID_INPUT` and leaves the effect pending.
    fn deliver(&self, effect: Effect) -> Result<bool, OrdersmithError>;
}

/// An effect the engine asks the host to carry out, from its outbox.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Effect {
    /// Unique id; acknowledge it when done.
    pub id: String,
    /// What happened, e.g. `fulfilment.label_requested`.
    pub topic: String,
    /// The order (or `stock`) it is about.
    pub aggregate_id: String,
    /// The aggregate's version that produced it.
    pub aggregate_version: u64,
    /// When it was recorded.
    pub created_at: SystemTime,
    /// The event as JSON.
    pub payload_json: String,
}

impl From<OutboxRecord> for Effect {
    fn from(r: OutboxRecord) -> Self {
        Effect {
            id: r.id,
            topic: r.topic,
            aggregate_id: r.aggregate_id,
            aggregate_version: r.aggregate_version,
            created_at: host_time(r.created_at),
            payload_json: r.payload_json,
        }
    }
}

/// The engine's clock port over a host clock: it returns the host's time as last read
/// by [`HostTime::refresh`], which the glue calls before every engine call, outside
/// any engine lock.
pub(crate) struct HostTime {
    host: Arc<dyn HostClock>,
    last: Mutex<DateTime<Utc>>,
}

impl HostTime {
    pub(crate) fn new(host: Arc<dyn HostClock>) -> Result<Self, OrdersmithError> {
        let first = read(host.as_ref())?;
        Ok(HostTime {
            host,
            last: Mutex::new(first),
        })
    }

    /// Reads the host clock now, for the engine call about to start.
    pub(crate) fn refresh(&self) -> Result<(), OrdersmithError> {
        let now = read(self.host.as_ref())?;
        let mut last = self.last.lock().map_err(|_| poisoned())?;
        *last = now;
        Ok(())
    }
}

impl Clock for HostTime {
    fn now(&self) -> DateTime<Utc> {
        match self.last.lock() {
            Ok(t) => *t,
            // Only a panic while storing a time poisons it; the value is still whole.
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

fn poisoned() -> OrdersmithError {
    OrdersmithError::invalid("clock", "a thread panicked while setting the time")
}

/// The host's time, checked against the core's range.
fn read(host: &dyn HostClock) -> Result<DateTime<Utc>, OrdersmithError> {
    core_time(host.now()?)
}
