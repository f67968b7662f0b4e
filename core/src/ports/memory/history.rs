//! An order's events as the memory store keeps them.
//!
//! The events one write records share their order, time, actor and idempotency key.
//! Kept as [`OrderEventRecord`]s, each of them repeated those (144 bytes a record), so
//! a channel order's eight first events took 1,152 bytes, about a quarter of what the
//! store kept for it. Here a run of events that share them is kept as one header and
//! the events themselves (64 bytes each): the same eight take 576 bytes. The records
//! are rebuilt when they are read (the order's history, an outbox announcement), which
//! is rarer than writing them and copies what the old shape copied on every read.

use crate::ids::OrderId;
use crate::order::{OrderEvent, OrderEventRecord};
use crate::ports::{NewEvents, Recording};

/// What the events of one run share: versions from `first_version` on, how they were
/// recorded, the events from `start` in [`History::events`] on, up to the next run's
/// start.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    first_version: u64,
    recording: Recording,
    start: u32,
}

/// An order's events in version order, each run of them that one write recorded
/// (consecutive versions, one time, actor and key) under one header.
#[derive(Debug, Clone, Default)]
pub(super) struct History {
    /// The first run, inline: most orders are written once or twice, and a second
    /// allocation for one header would cost more than the header.
    first: Option<Run>,
    /// The runs after the first.
    more: Vec<Run>,
    events: Vec<OrderEvent>,
}

impl History {
    /// Whether `events` more events fit (run starts are 32-bit).
    pub(super) fn has_room(&self, more: usize) -> bool {
        self.events.len().saturating_add(more) < u32::MAX as usize
    }

    /// Appends `new` (numbered after what is kept, as the store checked). A run that
    /// continues the last one (the next version, the same time, actor and key) keeps
    /// only its events; any other starts a run. The first write's events are kept in
    /// the vector they came in (no copy); none keeps spare room: an order's events are
    /// kept for good.
    pub(super) fn extend(&mut self, new: NewEvents) {
        let (first_version, runs, mut events) = new.into_parts();
        let base = self.events.len();
        if self.events.is_empty() {
            events.shrink_to_fit();
            self.events = events;
        } else {
            self.events.reserve_exact(events.len());
            self.events.extend(events);
        }
        for run in runs {
            let next = base + run.start as usize;
            let version = first_version.saturating_add(u64::from(run.start));
            let last = self.more.last().or(self.first.as_ref());
            let continues = last.is_some_and(|last| {
                let in_run = next - last.start as usize;
                last.first_version.checked_add(in_run as u64) == Some(version)
                    && last.recording == run.recording
            });
            if !continues {
                let run = Run {
                    first_version: version,
                    recording: run.recording,
                    // Fits: the store asked `has_room` before it changed anything.
                    start: u32::try_from(next).unwrap_or(u32::MAX),
                };
                if self.first.is_none() {
                    self.first = Some(run);
                } else {
                    self.more.push(run);
                    self.more.shrink_to_fit();
                }
            }
        }
    }

    /// The run at `i` (the first is 0).
    fn run(&self, i: usize) -> Option<&Run> {
        match i.checked_sub(1) {
            None => self.first.as_ref(),
            Some(i) => self.more.get(i),
        }
    }

    /// The runs in order, each with its events.
    fn runs(&self) -> impl Iterator<Item = (&Run, &[OrderEvent])> {
        (0..).map_while(move |i| {
            let run = self.run(i)?;
            let end = self
                .run(i + 1)
                .map_or(self.events.len(), |next| next.start as usize);
            let events = self.events.get(run.start as usize..end).unwrap_or(&[]);
            Some((run, events))
        })
    }

    /// Every event as its record, in version order.
    pub(super) fn records(&self, order_id: &OrderId) -> Vec<OrderEventRecord> {
        let mut records = Vec::with_capacity(self.events.len());
        for (run, events) in self.runs() {
            for (version, event) in (run.first_version..).zip(events) {
                records.push(record(order_id, run, version, event));
            }
        }
        records
    }

    /// The record of the event of `version`, if kept.
    pub(super) fn record(&self, order_id: &OrderId, version: u64) -> Option<OrderEventRecord> {
        self.runs().find_map(|(run, events)| {
            let at = usize::try_from(version.checked_sub(run.first_version)?).ok()?;
            events
                .get(at)
                .map(|event| record(order_id, run, version, event))
        })
    }
}

fn record(order_id: &OrderId, run: &Run, version: u64, event: &OrderEvent) -> OrderEventRecord {
    run.recording.view(order_id, version, event).to_record()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Actor;
    use chrono::{TimeZone, Utc};

    fn rec(version: u64, second: u32, actor: Actor, key: Option<&str>) -> OrderEventRecord {
        OrderEventRecord {
            order_id: OrderId::parse("o-1").unwrap(),
            version,
            recorded_at: Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, second).unwrap(),
            actor,
            idempotency_key: key.map(Box::from),
            event: if version.is_multiple_of(2) {
                OrderEvent::Confirmed
            } else {
                OrderEvent::Completed
            },
        }
    }

    /// One write's records, consecutive versions, as a change set holds them.
    fn new_events(records: Vec<OrderEventRecord>) -> NewEvents {
        let after = records.first().map_or(0, |r| r.version - 1);
        NewEvents::from_records(OrderId::parse("o-1").unwrap(), after, records).unwrap()
    }

    #[test]
    fn records_come_back_as_they_went_in_and_shared_parts_are_kept_once() {
        let user = || Actor::User("ana".into());
        let writes = vec![
            vec![
                rec(1, 0, Actor::System, None),
                rec(2, 0, Actor::System, None),
            ],
            vec![rec(3, 0, Actor::System, None)], // same header: continues the run
            vec![rec(4, 1, Actor::System, None)], // another time
            vec![rec(5, 1, user(), None), rec(6, 1, user(), Some("k"))],
            vec![rec(8, 1, user(), Some("k"))], // a gap in versions: a new run
        ];
        let mut history = History::default();
        let mut all = Vec::new();
        for write in writes {
            all.extend(write.clone());
            history.extend(new_events(write));
        }
        let order_id = OrderId::parse("o-1").unwrap();
        assert_eq!(history.records(&order_id), all);
        assert_eq!(history.events.len(), 7);
        assert_eq!(history.more.len(), 4, "{:?}", history.more);
        for record in &all {
            assert_eq!(
                history.record(&order_id, record.version).as_ref(),
                Some(record)
            );
        }
        for missing in [0, 7, 9, u64::MAX] {
            assert_eq!(history.record(&order_id, missing), None);
        }
        assert_eq!(History::default().records(&order_id), vec![]);
    }

    proptest::proptest! {
        /// Whatever the writes (their sizes, times, actors, keys, gaps in versions),
        /// the records come back as they went in, each also by its version.
        #[test]
        fn any_writes_come_back_whole(
            writes in proptest::collection::vec(
                (1usize..5, 0u32..3, 0u8..3, proptest::option::of(0u8..2), 0u64..2),
                0..12,
            )
        ) {
            let mut history = History::default();
            let mut all: Vec<OrderEventRecord> = Vec::new();
            let mut version = 0;
            for (len, second, actor, key, gap) in writes {
                let actor = match actor {
                    0 => Actor::System,
                    1 => Actor::Customer,
                    _ => Actor::User("ana".into()),
                };
                let key = key.map(|k| format!("key-{k}"));
                version += gap;
                let write: Vec<OrderEventRecord> = (0..len)
                    .map(|_| {
                        version += 1;
                        rec(version, second, actor.clone(), key.as_deref())
                    })
                    .collect();
                all.extend(write.clone());
                history.extend(new_events(write));
            }
            let order_id = OrderId::parse("o-1").unwrap();
            proptest::prop_assert_eq!(history.records(&order_id), all.clone());
            for record in &all {
                let found = history.record(&order_id, record.version);
                proptest::prop_assert_eq!(found.as_ref(), Some(record));
            }
            proptest::prop_assert_eq!(history.record(&order_id, version + 1), None);
        }
    }
}
