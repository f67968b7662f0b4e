//! The checks. Each takes the factory and builds its own fresh store.

use std::sync::Arc;

use chrono::Duration;
use ordersmith::engine::{lines, CommandContext};
use ordersmith::ids::{LocationId, OrderId, VariantId};
use ordersmith::order::{Order, OrderStatus};
use ordersmith::ports::dump::{export, import};
use ordersmith::ports::{
    ChangeSet, IdempotencyRecord, OrderChange, OrderCursor, OrderQuery, OutboxRecord, OutboxWrite,
    RecordWrite, StockAppend, StockCursor, StoreError, MAX_QUERY_LIMIT,
};
use ordersmith::stock::{StockCommand, StockLogEntry};

use crate::fixtures::{self, money, new_order, new_order_change, note_change, start};
use crate::StoreUnderTest;

type Make<'a> = &'a dyn Fn() -> StoreUnderTest;

fn oid(s: &str) -> OrderId {
    OrderId::parse(s).unwrap()
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

fn outbox_record(id: &str, aggregate: &str) -> OutboxRecord {
    OutboxRecord {
        id: id.to_string(),
        topic: "order.test".to_string(),
        aggregate_id: aggregate.to_string(),
        aggregate_version: 1,
        created_at: start() + Duration::nanoseconds(1),
        payload_json: format!("{{\"id\":\"{id}\",\"text\":\"ü \\\" ✓\"}}"),
    }
}

fn key(key: &str, order: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        key: key.to_string(),
        fingerprint: format!("{{\"command\":\"{key}\"}}").into(),
        order_id: oid(order),
        order_version: 1,
    }
}

/// Everything observable about the store, as text: to prove a refused call changed
/// nothing.
fn observable(sut: &StoreUnderTest) -> String {
    let mut bytes = Vec::new();
    export(sut.store.as_ref(), sut.outbox.as_ref(), &mut bytes).unwrap();
    String::from_utf8(bytes).unwrap()
}

/// An engine-placed order loads back equal, to the byte of its JSON, with its events;
/// unknown ids give `None` and no events.
pub fn load_and_commit_round_trip_is_json_exact(make: Make<'_>) {
    let sut = make();
    let (engine, clock) = sut.engine();
    assert_eq!(sut.store.load_order(&oid("o-none")).unwrap(), None);
    assert!(sut.store.order_events(&oid("o-none")).unwrap().is_empty());
    let placed_at = start() + Duration::nanoseconds(987_654_321);
    let ctx = CommandContext::system().with_idempotency_key("place-1");
    let placed = engine
        .place_order(new_order("web", placed_at), &ctx)
        .unwrap();
    clock.advance(Duration::microseconds(1_234_567));
    engine
        .confirm_order(&placed.id, &CommandContext::system())
        .unwrap();
    let order = engine
        .record_payment(&placed.id, money("100.50"), &CommandContext::system())
        .unwrap();
    let loaded = sut.store.load_order(&order.id).unwrap().unwrap();
    assert_eq!(loaded, order);
    assert_eq!(json(&loaded), json(&order));
    assert_eq!(loaded.placed_at, placed_at);
    let events = sut.store.order_events(&order.id).unwrap();
    assert_eq!(
        events.iter().map(|e| e.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(events[0].idempotency_key.as_deref(), Some("place-1"));
    assert_eq!(Order::replay(&events).unwrap(), loaded);
    // The same record, read twice, is the same text (nothing is normalised on read).
    assert_eq!(
        json(&sut.store.order_events(&order.id).unwrap()),
        json(&events)
    );
}

/// A stale expected version, a "new" order that exists, and an update of an unknown
/// order are conflicts naming both versions, and change nothing.
pub fn stale_versions_are_conflicts(make: Make<'_>) {
    let sut = make();
    let created = new_order_change("o-1", "web", start());
    let v1 = created.snapshot.clone();
    sut.store
        .commit(ChangeSet {
            orders: vec![created.clone()],
            ..ChangeSet::default()
        })
        .unwrap();
    let before = observable(&sut);
    let again = sut.store.commit(ChangeSet {
        orders: vec![created],
        ..ChangeSet::default()
    });
    assert_eq!(
        again,
        Err(StoreError::Conflict {
            aggregate: "order o-1".into(),
            expected: 0,
            actual: 1
        })
    );
    let mut v5 = v1.clone();
    v5.version = 5;
    let stale = note_change(&v5, "stale", start());
    let err = sut
        .store
        .commit(ChangeSet {
            orders: vec![stale],
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "STORE_VERSION_CONFLICT");
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 5,
                actual: 1,
                ..
            }
        ),
        "{err:?}"
    );
    let mut ghost = v1.clone();
    ghost.id = oid("o-ghost");
    let err = sut
        .store
        .commit(ChangeSet {
            orders: vec![note_change(&ghost, "no such order", start())],
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 1,
                actual: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(observable(&sut), before);
    // The right version still goes through, and two saves from the same read race:
    // the second is a conflict, never a silent overwrite.
    let next = note_change(&v1, "first writer", start());
    sut.store
        .commit(ChangeSet {
            orders: vec![next],
            ..ChangeSet::default()
        })
        .unwrap();
    let loser = note_change(&v1, "second writer", start());
    let err = sut
        .store
        .commit(ChangeSet {
            orders: vec![loser],
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let stored = sut.store.load_order(&oid("o-1")).unwrap().unwrap();
    assert_eq!(
        stored.notes.last().map(String::as_str),
        Some("first writer")
    );
    // Several orders at once: the stored ones at their latest versions.
    let other = new_order_change("o-2", "web", start());
    let o2 = other.snapshot.clone();
    sut.store
        .commit(ChangeSet {
            orders: vec![other],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(sut.store.load_orders(&[]).unwrap(), vec![]);
    let mut both = sut
        .store
        .load_orders(&[&oid("o-2"), &oid("o-nope"), &oid("o-1")])
        .unwrap();
    both.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(both, vec![stored.clone(), o2.clone()]);
    // Several updates in one change set, one of them stale: a conflict naming it, and
    // nothing of the others saved.
    let before = observable(&sut);
    let fresh = note_change(&o2, "fresh", start());
    let stale = note_change(&v1, "stale again", start());
    let err = sut
        .store
        .commit(ChangeSet {
            orders: vec![fresh.clone(), stale],
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            aggregate: "order o-1".into(),
            expected: 1,
            actual: 2
        }
    );
    assert_eq!(observable(&sut), before);
    // Both current: both saved.
    let current = note_change(&stored, "second note", start());
    sut.store
        .commit(ChangeSet {
            orders: vec![fresh, current],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(
        sut.store.load_order(&oid("o-1")).unwrap().unwrap().version,
        3
    );
    assert_eq!(
        sut.store.load_order(&oid("o-2")).unwrap().unwrap().version,
        2
    );
}

/// Two orders in one change set where the second conflicts, or whose key is taken:
/// nothing of the first order, the keys or the outbox is saved.
pub fn multi_order_change_sets_are_all_or_nothing(make: Make<'_>) {
    let sut = make();
    sut.store
        .commit(ChangeSet {
            records: Vec::new(),
            stock: None,
            orders: vec![new_order_change("o-b", "web", start())],
            idempotency: vec![key("taken", "o-b")],
            outbox: vec![outbox_record("e-0", "o-b").into()],
            documents: Vec::new(),
        })
        .unwrap();
    let before = observable(&sut);
    let err = sut
        .store
        .commit(ChangeSet {
            records: Vec::new(),
            stock: None,
            orders: vec![
                new_order_change("o-a", "web", start()),
                new_order_change("o-b", "web", start()),
            ],
            idempotency: vec![key("fresh", "o-a")],
            outbox: vec![outbox_record("e-1", "o-a").into()],
            documents: Vec::new(),
        })
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            aggregate: "order o-b".into(),
            expected: 0,
            actual: 1
        }
    );
    assert_eq!(observable(&sut), before);
    assert_eq!(sut.store.load_order(&oid("o-a")).unwrap(), None);
    let err = sut
        .store
        .commit(ChangeSet {
            records: Vec::new(),
            stock: None,
            orders: vec![
                new_order_change("o-c", "web", start()),
                new_order_change("o-d", "web", start()),
            ],
            idempotency: vec![key("fresh", "o-c"), key("taken", "o-c")],
            outbox: vec![outbox_record("e-2", "o-c").into()],
            documents: Vec::new(),
        })
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::KeyTaken {
            key: "taken".into()
        }
    );
    assert_eq!(observable(&sut), before);
    assert_eq!(sut.store.idempotency_record("fresh").unwrap(), None);
    // One key twice in one change set: the second is taken by the first.
    let err = sut
        .store
        .commit(ChangeSet {
            orders: vec![new_order_change("o-e", "web", start())],
            idempotency: vec![
                key("fresh", "o-e"),
                key("twice", "o-e"),
                key("twice", "o-e"),
            ],
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::KeyTaken {
            key: "twice".into()
        }
    );
    assert_eq!(observable(&sut), before);
    assert_eq!(sut.store.load_order(&oid("o-e")).unwrap(), None);
}

/// Updates of several stored orders in one change set (a batch of confirmations) save
/// all or nothing: one stale order among a few, or among a dozen, is a conflict that
/// names it and leaves every order as it was; the same updates, decided right, pass.
/// (PostgreSQL updates up to eight orders one by one and more in one statement.)
pub fn many_order_updates_are_all_or_nothing(make: Make<'_>) {
    let sut = make();
    let created: Vec<OrderChange> = (0..12)
        .map(|k| new_order_change(&format!("o-{k:02}"), "web", start()))
        .collect();
    let mut orders: Vec<Order> = created.iter().map(|c| c.snapshot.clone()).collect();
    sut.store
        .commit(ChangeSet {
            orders: created,
            ..ChangeSet::default()
        })
        .unwrap();
    for count in [3, 12] {
        let before = observable(&sut);
        let stale_at = count - 1;
        let mut changes: Vec<OrderChange> = orders[..count]
            .iter()
            .map(|o| note_change(o, "batch", start()))
            .collect();
        // Decided on a version the store has moved past.
        let mut old = orders[stale_at].clone();
        old.version -= 1;
        changes[stale_at] = note_change(&old, "stale", start());
        let err = sut
            .store
            .commit(ChangeSet {
                orders: changes,
                ..ChangeSet::default()
            })
            .unwrap_err();
        assert_eq!(
            err,
            StoreError::Conflict {
                aggregate: format!("order o-{stale_at:02}"),
                expected: old.version,
                actual: orders[stale_at].version
            },
            "{count} orders"
        );
        assert_eq!(observable(&sut), before, "{count} orders");
        let changes: Vec<OrderChange> = orders[..count]
            .iter()
            .map(|o| note_change(o, "batch", start()))
            .collect();
        let next: Vec<Order> = changes.iter().map(|c| c.snapshot.clone()).collect();
        sut.store
            .commit(ChangeSet {
                orders: changes,
                ..ChangeSet::default()
            })
            .unwrap();
        for order in next {
            let stored = sut.store.load_order(&order.id).unwrap().unwrap();
            assert_eq!(json(&stored), json(&order), "{count} orders");
            let k = orders.iter().position(|o| o.id == order.id).unwrap();
            orders[k] = order;
        }
    }
}

/// A failure injected in the middle of a commit leaves nothing of it; the same change
/// set then commits whole.
pub fn an_injected_failure_midway_leaves_nothing(make: Make<'_>) {
    let sut = make();
    let before = observable(&sut);
    let changes = ChangeSet {
        records: vec![record_write("ns", "k", 0, Some("1"))],
        stock: None,
        orders: vec![
            new_order_change("o-1", "web", start()),
            new_order_change("o-2", "trendyol", start()),
        ],
        idempotency: vec![key("k-1", "o-1")],
        outbox: vec![
            outbox_record("e-1", "o-1").into(),
            outbox_record("e-2", "o-2").into(),
        ],
        documents: Vec::new(),
    };
    sut.fail_next_commit();
    let err = sut.store.commit(changes.clone()).unwrap_err();
    assert_eq!(err.code(), "STORE_UNAVAILABLE");
    assert!(!err.is_retryable());
    assert_eq!(observable(&sut), before);
    sut.store.commit(changes).unwrap();
    assert_eq!(
        sut.store.order_ids(None, 10).unwrap(),
        [oid("o-1"), oid("o-2")]
    );
    assert_eq!(sut.outbox.pending(10).unwrap().len(), 2);
    assert!(sut.store.idempotency_record("k-1").unwrap().is_some());
    assert!(sut.store.keyed_record("ns", "k").unwrap().is_some());
}

/// Pending is oldest first, limited, and does not remove; acknowledging removes once.
pub fn outbox_is_oldest_first_and_acknowledged_once(make: Make<'_>) {
    let sut = make();
    assert!(sut.outbox.pending(10).unwrap().is_empty());
    // Ids that sort the other way round from their age: order is by age, not id.
    let records = [
        outbox_record("e-c", "o-1"),
        outbox_record("e-b", "o-1"),
        outbox_record("e-a", "o-2"),
    ];
    sut.store
        .commit(ChangeSet {
            outbox: records[..2].iter().cloned().map(Into::into).collect(),
            ..ChangeSet::default()
        })
        .unwrap();
    sut.store
        .commit(ChangeSet {
            outbox: records[2..].iter().cloned().map(Into::into).collect(),
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(sut.outbox.pending(10).unwrap(), records);
    assert_eq!(sut.outbox.pending(2).unwrap(), records[..2]);
    assert!(sut.outbox.pending(0).unwrap().is_empty());
    assert_eq!(
        sut.outbox.pending(10).unwrap(),
        records,
        "pending must not remove"
    );
    assert!(sut.outbox.acknowledge("e-b").unwrap());
    assert!(
        !sut.outbox.acknowledge("e-b").unwrap(),
        "acknowledging twice is false"
    );
    assert!(!sut.outbox.acknowledge("e-unknown").unwrap());
    assert_eq!(
        sut.outbox.pending(10).unwrap(),
        [records[0].clone(), records[2].clone()]
    );
    // Effects written by the engine arrive in the order they happened.
    let (engine, _) = sut.engine();
    let order = engine
        .place_order(new_order("web", start()), &CommandContext::system())
        .unwrap();
    engine
        .confirm_order(&order.id, &CommandContext::system())
        .unwrap();
    let topics: Vec<String> = sut
        .outbox
        .pending(10)
        .unwrap()
        .into_iter()
        .skip(2)
        .map(|r| r.topic)
        .collect();
    assert_eq!(topics, ["order.placed", "order.confirmed"]);
}

/// An order event announced by reference (`OutboxWrite::OrderEvent`) is read back as
/// the full record, its payload the event record's JSON, in commit order among ready
/// records, and is acknowledged by `"<order>:<version>"`. A change set announcing an
/// event it does not save is refused and saves nothing.
pub fn order_events_are_announced_as_themselves(make: Make<'_>) {
    let sut = make();
    let placed = new_order_change("o-ev", "web", start());
    let event = placed.events.to_records().remove(0);
    sut.store
        .commit(ChangeSet {
            orders: vec![placed],
            outbox: vec![
                outbox_record("e-before", "o-ev").into(),
                OutboxWrite::OrderEvent {
                    order_id: oid("o-ev"),
                    version: 1,
                },
            ],
            ..ChangeSet::default()
        })
        .unwrap();
    let pending = sut.outbox.pending(10).unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].id, "e-before");
    assert_eq!(
        pending[1],
        OutboxRecord {
            id: "o-ev:1".to_string(),
            topic: "order.placed".to_string(),
            aggregate_id: "o-ev".to_string(),
            aggregate_version: 1,
            created_at: event.recorded_at,
            payload_json: json(&event),
        }
    );
    assert_eq!(pending[1], OutboxRecord::for_order_event(&event).unwrap());
    // The announcement names the stored event: the same text as the events read back.
    assert_eq!(
        pending[1].payload_json,
        json(&sut.store.order_events(&oid("o-ev")).unwrap()[0])
    );

    // Naming an event the change set does not save: refused, nothing saved.
    let before = observable(&sut);
    let dangling = ChangeSet {
        orders: vec![new_order_change("o-other", "web", start())],
        outbox: vec![OutboxWrite::OrderEvent {
            order_id: oid("o-other"),
            version: 2,
        }],
        ..ChangeSet::default()
    };
    assert!(matches!(
        sut.store.commit(dangling),
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(observable(&sut), before);

    assert!(sut.outbox.acknowledge("o-ev:1").unwrap());
    assert!(!sut.outbox.acknowledge("o-ev:1").unwrap());
    assert!(sut.outbox.acknowledge("e-before").unwrap());
    assert!(sut.outbox.pending(10).unwrap().is_empty());

    // Several orders, announced in another order than they are saved, and one
    // announcement of a version the change set does not save after the others resolved:
    // refused, nothing saved; without it, every announcement resolves to its own event.
    let batch = |extra: Option<OutboxWrite>| ChangeSet {
        orders: ["o-a", "o-b", "o-c"]
            .into_iter()
            .map(|id| new_order_change(id, "web", start()))
            .collect(),
        outbox: ["o-c", "o-a", "o-b"]
            .into_iter()
            .map(|id| OutboxWrite::OrderEvent {
                order_id: oid(id),
                version: 1,
            })
            .chain(extra)
            .collect(),
        ..ChangeSet::default()
    };
    let before = observable(&sut);
    let stale = OutboxWrite::OrderEvent {
        order_id: oid("o-a"),
        version: 2,
    };
    assert!(matches!(
        sut.store.commit(batch(Some(stale))),
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(observable(&sut), before);
    sut.store.commit(batch(None)).unwrap();
    let ids: Vec<String> = sut
        .outbox
        .pending(10)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["o-c:1", "o-a:1", "o-b:1"]);
}

/// A key is recorded once (`KeyTaken` after), reads back equal, and the engine returns
/// the first result for a repeated keyed command.
pub fn idempotency_keys_are_unique_and_round_trip(make: Make<'_>) {
    let sut = make();
    assert_eq!(sut.store.idempotency_record("k").unwrap(), None);
    let record = IdempotencyRecord {
        key: "k ✓ \"quoted\"".into(),
        fingerprint: "{\"command\":\"confirm\",\"x\":\"ü\"}".into(),
        order_id: oid("o-1"),
        order_version: 7,
    };
    sut.store
        .commit(ChangeSet {
            idempotency: vec![record.clone()],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(
        sut.store.idempotency_record(&record.key).unwrap(),
        Some(record.clone())
    );
    let mut other = record.clone();
    other.fingerprint = "other".into();
    assert_eq!(
        sut.store.commit(ChangeSet {
            idempotency: vec![other],
            ..ChangeSet::default()
        }),
        Err(StoreError::KeyTaken {
            key: record.key.clone()
        })
    );
    assert_eq!(
        sut.store.idempotency_record(&record.key).unwrap(),
        Some(record.clone())
    );
    // Many keys at once: the stored ones, whatever else is asked.
    let second = IdempotencyRecord {
        key: "k-2".into(),
        fingerprint: "sha256:00".into(),
        order_id: oid("o-2"),
        order_version: 1,
    };
    sut.store
        .commit(ChangeSet {
            idempotency: vec![second.clone()],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(sut.store.idempotency_records_for(&[]).unwrap(), vec![]);
    assert_eq!(
        sut.store
            .idempotency_records_for(&["nope", "k-2", "\"[],'"])
            .unwrap(),
        vec![second.clone()]
    );
    let mut both = sut
        .store
        .idempotency_records_for(&[&record.key, "k-2", "absent"])
        .unwrap();
    both.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(both, vec![record.clone(), second]);
    let (engine, _) = sut.engine();
    let order = engine
        .place_order(new_order("web", start()), &CommandContext::system())
        .unwrap();
    let keyed = CommandContext::system().with_idempotency_key("pay-1");
    let first = engine
        .record_payment(&order.id, money("10.00"), &keyed)
        .unwrap();
    let again = engine
        .record_payment(&order.id, money("10.00"), &keyed)
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(engine.order(&order.id).unwrap().amount_paid, money("10.00"));
    let err = engine
        .record_payment(&order.id, money("11.00"), &keyed)
        .unwrap_err();
    assert_eq!(err.code(), "ENGINE_IDEMPOTENCY_MISMATCH");
}

fn expected_page(all: &[Order], query: &OrderQuery) -> Vec<OrderId> {
    let mut matching: Vec<&Order> = all.iter().filter(|o| query.matches(o)).collect();
    matching.sort_by(|a, b| (a.placed_at, &a.id).cmp(&(b.placed_at, &b.id)));
    matching
        .into_iter()
        .skip(query.offset)
        .take(query.effective_limit())
        .map(|o| o.id.clone())
        .collect()
}

/// Filters by status, channel and time range, ordered by placed time then id, with
/// offset and limit, exactly as the contract and `OrderQuery::matches` say.
pub fn queries_filter_order_and_page_like_the_contract(make: Make<'_>) {
    let sut = make();
    let (engine, _) = sut.engine();
    let channels = ["web", "trendyol", "shopify"];
    let mut all = Vec::new();
    for i in 0..15i64 {
        // Pairs share a placed time, some differ by a nanosecond only.
        let placed_at = start() + Duration::minutes(i / 2 * 10) + Duration::nanoseconds(i % 3 / 2);
        let channel = channels[usize::try_from(i).unwrap() % 3];
        let order = engine
            .place_order(new_order(channel, placed_at), &CommandContext::system())
            .unwrap();
        match i % 4 {
            1 => {
                engine
                    .confirm_order(&order.id, &CommandContext::system())
                    .unwrap();
            }
            2 => {
                engine
                    .cancel_order(
                        &order.id,
                        ordersmith::order::CancelReason::Customer,
                        &CommandContext::system(),
                    )
                    .unwrap();
            }
            _ => {}
        }
        all.push(engine.order(&order.id).unwrap());
    }
    let t = |minutes: i64| start() + Duration::minutes(minutes);
    let queries = [
        OrderQuery::default(),
        OrderQuery {
            status: Some(OrderStatus::Confirmed),
            ..OrderQuery::default()
        },
        OrderQuery {
            status: Some(OrderStatus::Completed),
            ..OrderQuery::default()
        },
        OrderQuery {
            channel: Some(ordersmith::ids::ChannelId::parse("trendyol").unwrap()),
            ..OrderQuery::default()
        },
        OrderQuery {
            placed_from: Some(t(20)),
            ..OrderQuery::default()
        },
        OrderQuery {
            placed_to: Some(t(30)),
            ..OrderQuery::default()
        },
        OrderQuery {
            placed_from: Some(t(10)),
            placed_to: Some(t(40)),
            ..OrderQuery::default()
        },
        OrderQuery {
            placed_from: Some(t(10) + Duration::nanoseconds(1)),
            ..OrderQuery::default()
        },
        OrderQuery {
            status: Some(OrderStatus::Pending),
            channel: Some(ordersmith::ids::ChannelId::parse("web").unwrap()),
            placed_from: Some(t(0)),
            placed_to: Some(t(70)),
            ..OrderQuery::default()
        },
        OrderQuery {
            offset: 3,
            limit: Some(4),
            ..OrderQuery::default()
        },
        OrderQuery {
            offset: 14,
            limit: Some(4),
            ..OrderQuery::default()
        },
        OrderQuery {
            offset: 100,
            ..OrderQuery::default()
        },
        OrderQuery {
            limit: Some(0),
            ..OrderQuery::default()
        },
        OrderQuery {
            limit: Some(usize::MAX),
            offset: usize::MAX,
            ..OrderQuery::default()
        },
    ];
    // The same filters continued after a cursor: every order's position, and one
    // between two orders that share a placed time.
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| (a.placed_at, &a.id).cmp(&(b.placed_at, &b.id)));
    let mut queries = queries.to_vec();
    for (i, order) in sorted.iter().enumerate() {
        let base = queries[i % 9].clone();
        queries.push(OrderQuery {
            after: Some(OrderCursor::of(order)),
            limit: Some(1 + i % 4),
            ..base
        });
    }
    for query in &queries {
        let got: Vec<OrderId> = sut
            .store
            .query_orders(query)
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(got, expected_page(&all, query), "{query:?}");
    }
    // Results are the full snapshots.
    let first = sut
        .store
        .query_orders(&OrderQuery {
            limit: Some(1),
            ..OrderQuery::default()
        })
        .unwrap();
    assert_eq!(
        json(&first[0]),
        json(all.iter().find(|o| o.id == first[0].id).unwrap())
    );
}

/// Pages through the engine follow the cursor to every match exactly once, ties in
/// placed time broken by id in byte order; `next_cursor` is absent exactly on the last
/// page; an order placed behind the cursor is not seen, one ahead of it is; a page size
/// of 0 or over the cap is refused, never cut.
pub fn cursor_pages_visit_every_match_once(make: Make<'_>) {
    let sut = make();
    let ids = [
        "o-b", "o-B", "o-a", "o-A", "o-ä", "o-10", "o-9", "o_1", "o-c", "o-d", "o-e",
    ];
    let change = |i: usize, id: &str| {
        let channel = if i.is_multiple_of(3) {
            "trendyol"
        } else {
            "web"
        };
        // Three orders per placed time, so ties are the rule, not the exception.
        let at = start() + Duration::minutes(i64::try_from(i / 3).unwrap());
        new_order_change(id, channel, at)
    };
    sut.store
        .commit(ChangeSet {
            orders: ids
                .iter()
                .enumerate()
                .map(|(i, id)| change(i, id))
                .collect(),
            ..ChangeSet::default()
        })
        .unwrap();
    let (engine, _) = sut.engine();
    let all: Vec<Order> = ids
        .iter()
        .map(|id| engine.order(&OrderId::parse(*id).unwrap()).unwrap())
        .collect();
    let filters = [
        OrderQuery::default(),
        OrderQuery {
            channel: Some(ordersmith::ids::ChannelId::parse("web").unwrap()),
            ..OrderQuery::default()
        },
        OrderQuery {
            placed_from: Some(start() + Duration::minutes(1)),
            placed_to: Some(start() + Duration::minutes(3)),
            ..OrderQuery::default()
        },
    ];
    for filter in &filters {
        let mut expected: Vec<&Order> = all.iter().filter(|o| filter.matches(o)).collect();
        expected.sort_by(|a, b| (a.placed_at, &a.id).cmp(&(b.placed_at, &b.id)));
        let expected: Vec<OrderId> = expected.into_iter().map(|o| o.id.clone()).collect();
        for size in [1, 2, 3, 4, 7, 100] {
            let mut query = OrderQuery {
                limit: Some(size),
                ..filter.clone()
            };
            let mut seen = Vec::new();
            loop {
                let page = engine.list_orders_page(&query).unwrap();
                assert!(page.orders.len() <= size);
                seen.extend(page.orders.iter().map(|o| o.id.clone()));
                match page.next_cursor {
                    Some(cursor) => {
                        assert_eq!(page.orders.len(), size, "a short page must be the last");
                        // The cursor survives its text form, as hosts carry it.
                        let token = cursor.token();
                        assert_eq!(OrderCursor::parse(&token), Some(cursor.clone()));
                        query.after = Some(cursor);
                    }
                    None => break,
                }
            }
            assert_eq!(seen, expected, "{filter:?} in pages of {size}");
            let walked: Vec<OrderId> = engine
                .iter_orders(query_with_limit(filter, size))
                .map(|o| o.unwrap().id)
                .collect();
            assert_eq!(
                walked, expected,
                "iter_orders {filter:?} in pages of {size}"
            );
        }
    }
    // Orders arriving mid-walk: behind the cursor they are not seen, ahead they are.
    let first = engine
        .list_orders_page(&query_with_limit(&OrderQuery::default(), 4))
        .unwrap();
    let cursor = first.next_cursor.unwrap();
    sut.store
        .commit(ChangeSet {
            orders: vec![
                new_order_change("o-0-behind", "web", start()),
                new_order_change("o-z-ahead", "web", start() + Duration::hours(1)),
            ],
            ..ChangeSet::default()
        })
        .unwrap();
    let rest: Vec<String> = engine
        .iter_orders(OrderQuery {
            after: Some(cursor),
            ..OrderQuery::default()
        })
        .map(|o| o.unwrap().id.to_string())
        .collect();
    assert!(!rest.contains(&"o-0-behind".to_string()));
    assert_eq!(rest.last().map(String::as_str), Some("o-z-ahead"));
    assert_eq!(rest.len(), ids.len() - 4 + 1);
    // A page size the engine will not serve is an error naming `limit`.
    for limit in [0, MAX_QUERY_LIMIT + 1, usize::MAX] {
        let err = engine
            .list_orders_page(&query_with_limit(&OrderQuery::default(), limit))
            .unwrap_err();
        assert_eq!(err.code(), "ENGINE_INVALID_INPUT");
        assert!(err.to_string().starts_with("limit "), "{err}");
        assert_eq!(
            engine.pending_effects(limit).unwrap_err().code(),
            "ENGINE_INVALID_INPUT"
        );
    }
    let most = engine
        .list_orders_page(&query_with_limit(&OrderQuery::default(), MAX_QUERY_LIMIT))
        .unwrap();
    assert_eq!(most.orders.len(), ids.len() + 2);
    assert!(most.next_cursor.is_none());
}

fn query_with_limit(filter: &OrderQuery, limit: usize) -> OrderQuery {
    OrderQuery {
        limit: Some(limit),
        ..filter.clone()
    }
}

/// Order ids and idempotency keys list in byte order (upper case before lower case,
/// whatever the database's locale), and paging by the last item visits each once.
pub fn listings_are_in_byte_order_and_page_exactly(make: Make<'_>) {
    let sut = make();
    let ids = ["o-b", "o-B", "o-a", "o-A", "o-ä", "o-10", "o-9", "o_1"];
    sut.store
        .commit(ChangeSet {
            records: Vec::new(),
            stock: None,
            orders: ids
                .iter()
                .map(|id| new_order_change(id, "web", start()))
                .collect(),
            idempotency: ids.iter().map(|id| key(&format!("k{id}"), id)).collect(),
            outbox: Vec::new(),
            documents: Vec::new(),
        })
        .unwrap();
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_unstable();
    let all: Vec<String> = sut
        .store
        .order_ids(None, 100)
        .unwrap()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(all, sorted);
    let mut paged = Vec::new();
    let mut after: Option<OrderId> = None;
    loop {
        let page = sut.store.order_ids(after.as_ref(), 3).unwrap();
        assert!(page.len() <= 3);
        if page.is_empty() {
            break;
        }
        after = page.last().cloned();
        paged.extend(page.into_iter().map(String::from));
    }
    assert_eq!(paged, sorted);
    let keys: Vec<String> = sut
        .store
        .idempotency_records(None, 100)
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    let expected_keys: Vec<String> = sorted.iter().map(|id| format!("k{id}")).collect();
    assert_eq!(keys, expected_keys);
    let tail: Vec<String> = sut
        .store
        .idempotency_records(Some(&expected_keys[2]), 2)
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(tail, expected_keys[3..5]);
    assert!(sut.store.order_ids(None, 0).unwrap().is_empty());
}

/// A customer's orders are counted by customer id, else by e-mail address in any case,
/// among the orders placed at or before a time (the same instant included), the asking
/// order left out; an order without a customer counts for no one. Orders saved after a
/// first count are counted by the next, wherever their time falls.
pub fn customer_order_counts_follow_the_customer_and_the_time(make: Make<'_>) {
    use fixtures::{customer, new_order_change_for};
    let sut = make();
    let at = |minutes: i64| start() + Duration::minutes(minutes);
    let ayse = |email: &str| Some(customer(None, Some(email)));
    let save = |orders| {
        sut.store
            .commit(ChangeSet {
                orders,
                ..ChangeSet::default()
            })
            .unwrap()
    };
    save(vec![
        new_order_change_for("o-1", at(0), ayse("Ayse@Example.com")),
        new_order_change_for("o-2", at(1), ayse("ayse@example.com")),
        new_order_change_for(
            "o-3",
            at(1),
            Some(customer(Some("c-9"), Some("ayse@example.com"))),
        ),
        new_order_change_for("o-4", at(1), None),
        new_order_change_for("o-5", at(2), ayse("AYSE@example.COM")),
    ]);
    let count = |key: &str, until: i64, except: &str| {
        sut.store
            .customer_order_count(key, at(until), &OrderId::parse(except).unwrap())
            .unwrap()
    };
    let email = "email:ayse@example.com";
    assert_eq!(count(email, 0, "o-1"), 0, "its own order is not counted");
    assert_eq!(count(email, 1, "o-2"), 1);
    assert_eq!(
        count(email, 1, "o-new"),
        2,
        "orders of the same instant count"
    );
    assert_eq!(count(email, 60, "o-new"), 3, "o-3 counts toward its id");
    assert_eq!(count(email, -1, "o-new"), 0);
    assert_eq!(count("id:c-9", 60, "o-3"), 0);
    assert_eq!(count("id:c-9", 60, "o-new"), 1);
    assert_eq!(count("email:nobody@example.com", 60, "o-new"), 0);
    save(vec![
        new_order_change_for("o-6", at(-5), ayse("ayse@EXAMPLE.com")),
        new_order_change_for("o-7", at(3), ayse("ayse@example.com")),
    ]);
    assert_eq!(
        count(email, 0, "o-1"),
        1,
        "an order saved later, placed earlier"
    );
    assert_eq!(count(email, 60, "o-new"), 5);
    assert_eq!(count(email, 2, "o-5"), 3);
}

/// After an engine-driven lifecycle, every order's history replays to its snapshot and
/// versions run 1, 2, 3, ... without gaps.
pub fn journal_replay_equals_snapshot(make: Make<'_>) {
    let sut = make();
    let (engine, clock) = sut.engine();
    fixtures::busy_shop(&engine, &clock, 14);
    let ids = sut.store.order_ids(None, 100).unwrap();
    assert_eq!(ids.len(), 14);
    for id in ids {
        let snapshot = sut.store.load_order(&id).unwrap().unwrap();
        let events = sut.store.order_events(&id).unwrap();
        let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
        assert_eq!(versions, (1..=snapshot.version).collect::<Vec<_>>());
        assert_eq!(Order::replay(&events).unwrap(), snapshot, "{id}");
    }
    // And one more, step by step, checked after every command.
    let staff = CommandContext::system();
    let order = engine
        .place_order(new_order("web", start()), &staff)
        .unwrap();
    let steps: Vec<Box<dyn Fn() -> Order>> = vec![
        Box::new(|| engine.confirm_order(&order.id, &staff).unwrap()),
        Box::new(|| engine.mark_paid(&order.id, &staff).unwrap()),
        Box::new(|| {
            engine
                .record_shipment(&order.id, lines(&[("L1", 1)]).unwrap(), &staff)
                .unwrap()
        }),
        Box::new(|| {
            engine
                .record_shipment(&order.id, lines(&[("L1", 1), ("L2", 1)]).unwrap(), &staff)
                .unwrap()
        }),
        Box::new(|| {
            engine
                .record_return(&order.id, lines(&[("L2", 1)]).unwrap(), &staff)
                .unwrap()
        }),
        Box::new(|| {
            engine
                .record_refund(&order.id, money("60.00"), &staff)
                .unwrap()
        }),
        Box::new(|| engine.complete_order(&order.id, &staff).unwrap()),
    ];
    for step in steps {
        let after = step();
        let events = sut.store.order_events(&order.id).unwrap();
        assert_eq!(Order::replay(&events).unwrap(), after);
        assert_eq!(sut.store.load_order(&order.id).unwrap().unwrap(), after);
    }
}

/// Four threads add notes to one order at once through the engine: every note lands,
/// in a history without gaps.
pub fn concurrent_writers_never_lose_an_update(make: Make<'_>) {
    let sut = make();
    let (engine, _) = sut.engine();
    let order = engine
        .place_order(new_order("web", start()), &CommandContext::system())
        .unwrap();
    let engine = Arc::new(engine);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let engine = engine.clone();
            let id = order.id.clone();
            std::thread::spawn(move || {
                for n in 0..10 {
                    engine
                        .add_note(&id, format!("t{t}-n{n}"), &CommandContext::system())
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stored = sut.store.load_order(&order.id).unwrap().unwrap();
    // One note came with the order.
    assert_eq!(stored.notes.len(), 41);
    assert_eq!(stored.version, 41);
    let events = sut.store.order_events(&order.id).unwrap();
    assert_eq!(Order::replay(&events).unwrap(), stored);
}

/// A busy shop exported, imported into a fresh store of the same kind and exported
/// again gives the same bytes.
pub fn dump_and_import_round_trip_byte_for_byte(make: Make<'_>) {
    let source = make();
    let (engine, clock) = source.engine();
    fixtures::busy_shop(&engine, &clock, 21);
    let first = observable(&source);
    let target = make();
    let stats = import(
        target.store.as_ref(),
        target.outbox.as_ref(),
        first.as_bytes(),
    )
    .unwrap();
    assert_eq!(stats.orders, 21);
    assert!(stats.idempotency >= 21 && stats.outbox > 0 && stats.stock > 10);
    assert_eq!(observable(&target), first);
    let err = import(
        target.store.as_ref(),
        target.outbox.as_ref(),
        first.as_bytes(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "DUMP_TARGET_NOT_EMPTY");
}

fn receive_entry(seq: u64, quantity: u32) -> StockLogEntry {
    StockLogEntry {
        seq,
        at: start() + Duration::seconds(i64::try_from(seq).unwrap()),
        command: StockCommand::Receive {
            variant: VariantId::parse("MUG").unwrap(),
            location: LocationId::parse("IST").unwrap(),
            quantity,
            reference: Some(format!("PO-{seq} ü")),
        },
    }
}

fn append(expected_seq: u64, entries: Vec<StockLogEntry>) -> Option<StockAppend> {
    Some(StockAppend {
        expected_seq,
        entries,
        places: Vec::new(),
    })
}

/// The stock log appends in sequence, reads back JSON-exact from any point, and refuses
/// an append whose expected head is stale.
pub fn stock_log_appends_in_sequence_and_refuses_a_stale_head(make: Make<'_>) {
    let sut = make();
    assert!(sut.store.stock_log_since(0, 10).unwrap().is_empty());
    let first: Vec<StockLogEntry> = (1..=3).map(|s| receive_entry(s, 10)).collect();
    sut.store
        .commit(ChangeSet {
            stock: append(0, first.clone()),
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(
        json(&sut.store.stock_log_since(0, 10).unwrap()),
        json(&first)
    );
    assert_eq!(
        json(&sut.store.stock_log_since(1, 1).unwrap()),
        json(&first[1..2])
    );
    assert!(sut.store.stock_log_since(3, 10).unwrap().is_empty());
    let before = observable(&sut);
    let err = sut
        .store
        .commit(ChangeSet {
            stock: append(1, vec![receive_entry(2, 99)]),
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            aggregate: "stock log".into(),
            expected: 1,
            actual: 3
        }
    );
    assert_eq!(observable(&sut), before, "a stale append changed the store");
    sut.store
        .commit(ChangeSet {
            stock: append(3, vec![receive_entry(4, 1)]),
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(sut.store.stock_log_since(0, 10).unwrap().len(), 4);
}

/// An order and the stock it reserves are saved together or not at all: a stale stock
/// head sinks the order, a stale order sinks the stock entries, and an injected failure
/// sinks both.
pub fn orders_and_stock_are_saved_together_or_not_at_all(make: Make<'_>) {
    let sut = make();
    sut.store
        .commit(ChangeSet {
            stock: append(0, vec![receive_entry(1, 5)]),
            ..ChangeSet::default()
        })
        .unwrap();
    let before = observable(&sut);
    let err = sut
        .store
        .commit(ChangeSet {
            orders: vec![new_order_change("o-1", "web", start())],
            stock: append(0, vec![receive_entry(1, 7)]),
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "STORE_VERSION_CONFLICT");
    assert_eq!(observable(&sut), before);
    let stale_order = new_order_change("o-2", "web", start());
    sut.store
        .commit(ChangeSet {
            orders: vec![stale_order.clone()],
            ..ChangeSet::default()
        })
        .unwrap();
    let before = observable(&sut);
    let err = sut
        .store
        .commit(ChangeSet {
            orders: vec![stale_order],
            stock: append(1, vec![receive_entry(2, 7)]),
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "STORE_VERSION_CONFLICT");
    assert_eq!(observable(&sut), before);
    sut.fail_next_commit();
    let err = sut
        .store
        .commit(ChangeSet {
            records: Vec::new(),
            orders: vec![new_order_change("o-3", "web", start())],
            stock: append(1, vec![receive_entry(2, 7)]),
            idempotency: vec![key("k-3", "o-3")],
            outbox: vec![outbox_record("e-3", "o-3").into()],
            documents: Vec::new(),
        })
        .unwrap_err();
    assert_eq!(err.code(), "STORE_UNAVAILABLE");
    assert_eq!(observable(&sut), before);
}

/// An engine confirming orders reserves stock through the store; a second engine on the
/// same store rebuilds the same ledger from the log, and each sees the other's writes.
pub fn engines_on_one_store_share_one_ledger(make: Make<'_>) {
    let sut = make();
    let (first, _clock) = sut.engine();
    fixtures::stock_two_warehouses(&first, 10);
    let order = first
        .place_order(new_order("web", start()), &CommandContext::system())
        .unwrap();
    let order = first
        .confirm_order(&order.id, &CommandContext::system())
        .unwrap();
    assert_eq!(order.lines[0].fulfilment.allocated, 2);
    first
        .record_shipment(
            &order.id,
            lines(&[("L1", 1)]).unwrap(),
            &CommandContext::system(),
        )
        .unwrap();
    let (second, _) = sut.engine();
    let ledger = |e: &ordersmith::engine::Engine| {
        e.with_stock(|s| serde_json::to_value(s).unwrap()).unwrap()
    };
    assert_eq!(ledger(&second), ledger(&first));
    second
        .stock(StockCommand::Receive {
            variant: VariantId::parse("SHIRT-M").unwrap(),
            location: LocationId::parse("ANK").unwrap(),
            quantity: 5,
            reference: None,
        })
        .unwrap();
    let on_hand = first
        .with_stock(|s| {
            s.balance(
                &VariantId::parse("SHIRT-M").unwrap(),
                &LocationId::parse("ANK").unwrap(),
            )
            .on_hand
        })
        .unwrap();
    assert_eq!(on_hand, 15);
    let log = sut.store.stock_log_since(0, usize::MAX).unwrap();
    let (rebuilt, skipped) = ordersmith::stock::StockLedger::from_log(&log);
    assert_eq!(skipped, 0);
    assert_eq!(serde_json::to_value(&rebuilt).unwrap(), ledger(&first));
    assert_eq!(
        ordersmith::stock::rebuild_balances(rebuilt.journal()),
        *rebuilt.balances()
    );
}

/// A keyed placement is fingerprinted by its placed event (the order's first event,
/// which the store keeps anyway): a re-delivery read back from the store by another
/// engine is the same placement when it makes the same event, to the nanosecond of its
/// placing time and whatever the order of its tags, and a duplicate when a line
/// differs; the same holds for an idempotency key.
pub fn keyed_placements_are_compared_by_their_stored_placed_event(make: Make<'_>) {
    use ordersmith::engine::EngineError;
    let sut = make();
    let (first, _clock) = sut.engine();
    let placed_at = start() + Duration::nanoseconds(123_456_789);
    let mut new = new_order("web", placed_at);
    new.external_ref = Some("W-1".into());
    new.tags = vec!["vip".into(), "gift".into()];
    let ctx = CommandContext::system();
    let order = first.place_order(new.clone(), &ctx).unwrap();
    let record = sut
        .store
        .idempotency_record("external:web:W-1")
        .unwrap()
        .unwrap();
    assert_eq!(record.fingerprint, "placed-event");
    // Another engine on the store: nothing cached, the event is read back.
    let (second, _) = sut.engine();
    assert_eq!(second.place_order(new.clone(), &ctx).unwrap(), order);
    let mut reordered = new.clone();
    reordered.tags.reverse();
    assert_eq!(second.place_order(reordered, &ctx).unwrap().id, order.id);
    let mut changed = new.clone();
    changed.lines[0].quantity = 3;
    match second.place_order(changed, &ctx) {
        Err(EngineError::DuplicateExternalRef { order_id, .. }) => assert_eq!(order_id, order.id),
        other => panic!("a changed line is another order: {other:?}"),
    }
    // An idempotency key: the first result again, or a mismatch for other content.
    let keyed = CommandContext::system().with_idempotency_key("import-7");
    let other = new_order("web", placed_at);
    let placed = first.place_order(other.clone(), &keyed).unwrap();
    assert_ne!(placed.id, order.id);
    assert_eq!(second.place_order(other.clone(), &keyed).unwrap(), placed);
    let mut changed = other;
    changed.note = Some("another note".into());
    match second.place_order(changed, &keyed) {
        Err(EngineError::IdempotencyMismatch { key }) => assert_eq!(key, "import-7"),
        other => panic!("other content under the key is a mismatch: {other:?}"),
    }
    assert_eq!(sut.store.order_ids(None, 10).unwrap().len(), 2);
}

/// Two engines on one store confirm orders at once (two threads), racing for the same
/// variants: each confirmation reserves exactly once, both engines end with the
/// balances and reservations of a fresh replay, and a second read of the stock log from
/// where the first ended passes nothing that the first did not (ADR 0012).
pub fn engines_racing_for_stock_agree_with_a_fresh_replay(make: Make<'_>) {
    let sut = make();
    let (first, _) = sut.engine();
    let (second, _) = sut.engine();
    fixtures::stock_two_warehouses(&first, 1_000);
    std::thread::scope(|s| {
        for engine in [&first, &second] {
            s.spawn(move || {
                let ctx = CommandContext::system();
                for _ in 0..10 {
                    let order = engine.place_order(new_order("web", start()), &ctx).unwrap();
                    let order = engine.confirm_order(&order.id, &ctx).unwrap();
                    assert_eq!(order.lines[0].fulfilment.allocated, 2);
                }
            });
        }
    });
    let (fresh, _) = sut.engine();
    // Balances and reservations: the same whatever order engines learnt of entries of
    // different variants in (the journal's order across variants may differ).
    let view = |e: &ordersmith::engine::Engine| {
        e.with_stock(|s| {
            let value = serde_json::to_value(s).unwrap();
            (s.balances().clone(), value["reservations"].clone())
        })
        .unwrap()
    };
    let reserved = |e: &ordersmith::engine::Engine, sku: &str| {
        e.with_stock(|s| {
            ["IST", "ANK"]
                .iter()
                .map(|l| {
                    s.balance(
                        &VariantId::parse(sku).unwrap(),
                        &LocationId::parse(*l).unwrap(),
                    )
                    .reserved
                })
                .sum::<i64>()
        })
        .unwrap()
    };
    assert_eq!(
        (reserved(&fresh, "SHIRT-M"), reserved(&fresh, "MUG")),
        (40, 20)
    );
    assert_eq!(view(&first), view(&fresh));
    assert_eq!(view(&second), view(&fresh));
    let log = sut.store.stock_log_since(0, usize::MAX).unwrap();
    let mut seen = Vec::new();
    let watermark = sut
        .store
        .stock_log_read(StockCursor::default(), &mut |e, _| {
            seen.push(json(&(e.at, e.command)));
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.len(), log.len());
    let mut again = Vec::new();
    sut.store
        .stock_log_read(
            StockCursor {
                applied: log.len() as u64,
                watermark,
            },
            &mut |e, _| {
                again.push(json(&(e.at, e.command)));
                Ok(())
            },
        )
        .unwrap();
    assert!(
        again.iter().all(|e| seen.contains(e)),
        "a second read invented entries"
    );
}

/// Fulfilment orders, parcels (SSCC, label, carrier tracking) and the notifications
/// asked for are saved with the order: a second engine on the store reads them back
/// equal, and a dump moved to another store carries them byte for byte.
pub fn fulfilment_state_round_trips_and_moves_with_a_dump(make: Make<'_>) {
    use ordersmith::engine::{EngineConfig, NotificationConfig};
    use ordersmith::fulfilment::{CarrierEvent, Label, ParcelSize, SsccConfig};
    use ordersmith::notify::NotificationChannel;
    use ordersmith::order::{FulfilmentCommand, LineQuantity};

    let sut = make();
    let (engine, clock) = sut.engine();
    let engine = engine.with_config(EngineConfig {
        max_attempts: 1_000,
        sscc: Some(SsccConfig::new(0, "8691234", 1..=999_999).unwrap()),
        notifications: Some(NotificationConfig {
            channels: vec![NotificationChannel::Email],
            ..NotificationConfig::default()
        }),
        ..EngineConfig::default()
    });
    fixtures::stock_two_warehouses(&engine, 10);
    let staff = CommandContext::system();
    let mut new = new_order("web", start());
    new.customer = Some(ordersmith::pii::Customer {
        name: ordersmith::pii::Redacted::new("Ayşe".to_string()),
        email: Some(ordersmith::pii::Redacted::new(
            "ayse@example.com".to_string(),
        )),
        ..ordersmith::pii::Customer::default()
    });
    let order = engine.place_order(new, &staff).unwrap();
    let order = engine.confirm_order(&order.id, &staff).unwrap();
    let fo = order.fulfilments.first().unwrap().id.clone();
    let units: Vec<LineQuantity> = engine
        .pick_list(&order.id, &fo)
        .unwrap()
        .into_iter()
        .map(|l| LineQuantity::new(l.line_id, l.quantity))
        .collect();
    let parcel = format!("{fo}-P1");
    for step in [
        FulfilmentCommand::Pick {
            fulfilment: fo.clone(),
            picked: units.clone(),
            short: vec![],
        },
        FulfilmentCommand::Pack {
            fulfilment: fo.clone(),
            units,
            size: ParcelSize {
                weight_grams: 900,
                length_mm: 300,
                width_mm: 200,
                height_mm: 100,
            },
        },
        FulfilmentCommand::RecordLabel {
            fulfilment: fo.clone(),
            parcel: parcel.clone(),
            label: Label {
                carrier: "ups".into(),
                service: "standard".into(),
                tracking_number: "1Z999AA10123456784".into(),
                label_ref: None,
            },
        },
    ] {
        engine.fulfil(&order.id, step, &staff).unwrap();
    }
    clock.advance(Duration::hours(1));
    let event = CarrierEvent::new(start() + Duration::hours(2), "P", Some("Istanbul")).unwrap();
    let order = engine
        .record_tracking_event(&order.id, &fo, &parcel, event, &staff)
        .unwrap();
    let p = order.fulfilment(&fo).unwrap().parcel(&parcel).unwrap();
    assert!(p.sscc.is_some() && p.tracking.is_some());
    assert!(!order.notified.is_empty());
    // A second engine on the same store reads the same order and history.
    let (second, _) = sut.engine();
    assert_eq!(second.order(&order.id).unwrap(), order);
    let history = sut.store.order_events(&order.id).unwrap();
    assert_eq!(Order::replay(&history).unwrap(), order);
    // A dump carries it to another store unchanged.
    let dump = observable(&sut);
    let target = make();
    import(
        target.store.as_ref(),
        target.outbox.as_ref(),
        dump.as_bytes(),
    )
    .unwrap();
    assert_eq!(observable(&target), dump);
    assert_eq!(target.store.load_order(&order.id).unwrap().unwrap(), order);
}

/// The warehouse flow end to end on this store: a split order (shirts from Istanbul,
/// mugs from Ankara), a short pick re-sourced, an unpicked fulfilment order moved,
/// labels, duplicate and out-of-order carrier events, a failed then a successful
/// delivery; checking the ledger, the order, its fulfilment orders and parcels, the
/// notifications (each exactly once) and the timeline along the way.
pub fn warehouse_flow_end_to_end(make: Make<'_>) {
    use ordersmith::engine::{EngineConfig, NotificationConfig};
    use ordersmith::fulfilment::{
        CarrierEvent, CarrierStatusTable, FulfilmentOrderStatus, Label, ParcelSize, TrackingStatus,
    };
    use ordersmith::notify::{Locale, NotificationChannel};
    use ordersmith::order::{FulfilmentCommand, LineQuantity};
    use ordersmith::stock::ReservationFilter;

    let sut = make();
    let (engine, clock) = sut.engine();
    let mut carriers = CarrierStatusTable::shipped();
    carriers
        .set(
            &ordersmith::fulfilment::Carrier::Ups,
            "FA",
            TrackingStatus::DeliveryFailed,
        )
        .unwrap();
    let engine = engine.with_config(EngineConfig {
        max_attempts: 1_000,
        carrier_statuses: carriers,
        notifications: Some(NotificationConfig {
            channels: vec![NotificationChannel::Email],
            ..NotificationConfig::default()
        }),
        ..EngineConfig::default()
    });
    let (ist, ank) = (
        LocationId::parse("IST").unwrap(),
        LocationId::parse("ANK").unwrap(),
    );
    let mut setup = vec![
        StockCommand::AddLocation {
            location: ordersmith::stock::Location::new(
                ist.clone(),
                "Istanbul DC",
                1,
                "TR-34",
                ordersmith::stock::LocationKind::Warehouse,
            ),
        },
        StockCommand::AddLocation {
            location: ordersmith::stock::Location::new(
                ank.clone(),
                "Ankara store",
                2,
                "TR-06",
                ordersmith::stock::LocationKind::Store,
            ),
        },
    ];
    for sku in ["SHIRT-M", "MUG"] {
        setup.push(StockCommand::RegisterVariant {
            variant: VariantId::parse(sku).unwrap(),
            policy: ordersmith::stock::StockPolicy::Deny,
        });
    }
    engine.stock_batch(setup).unwrap();
    let receive = |sku: &str, at: &LocationId, q: u32| {
        engine
            .stock(StockCommand::Receive {
                variant: VariantId::parse(sku).unwrap(),
                location: at.clone(),
                quantity: q,
                reference: None,
            })
            .unwrap();
    };
    receive("SHIRT-M", &ist, 3);
    receive("MUG", &ank, 2);
    let staff = CommandContext::system();
    let level = |sku: &str, at: &LocationId| {
        engine
            .with_stock(|s| {
                let b = s.balance(&VariantId::parse(sku).unwrap(), at);
                (b.on_hand, b.reserved)
            })
            .unwrap()
    };
    let in_step = |id: &OrderId| {
        let order = engine.order(id).unwrap();
        let held: u32 = order.lines.iter().map(|l| l.fulfilment.allocated).sum();
        let live: u32 = engine
            .reservations(&ReservationFilter {
                order: Some(id.clone()),
                ..ReservationFilter::default()
            })
            .unwrap()
            .iter()
            .map(|r| r.remaining())
            .sum();
        assert_eq!(held, live);
        order
    };
    let placed = engine
        .place_order(new_order("web", start()), &staff)
        .unwrap();
    let id = placed.id.clone();
    let order = engine.confirm_order(&id, &staff).unwrap();
    // Split: shirts (L1 × 2) from IST, the mug (L2) from ANK.
    let fo_at = |o: &Order, at: &LocationId| {
        o.fulfilments
            .iter()
            .find(|f| &f.location == at && !f.status.is_closed())
            .map(|f| f.id.clone())
    };
    let f_ist = fo_at(&order, &ist).unwrap();
    let f_ank = fo_at(&order, &ank).unwrap();
    // IST finds one shirt only: the other is written off and no other location has
    // one, so the order is held for stock; a receipt at ANK and a release re-source it.
    let step = |s: FulfilmentCommand| engine.fulfil(&id, s, &staff);
    step(FulfilmentCommand::Pick {
        fulfilment: f_ist.clone(),
        picked: vec![LineQuantity::new("L1".try_into().unwrap(), 1)],
        short: vec![LineQuantity::new("L1".try_into().unwrap(), 1)],
    })
    .unwrap();
    assert_eq!(level("SHIRT-M", &ist), (2, 1));
    let order = in_step(&id);
    assert_eq!(order.status, OrderStatus::OnHold);
    // A count at IST finds the one shirt that is there (the one picked).
    let count = ordersmith::ids::CountId::parse("CC-1").unwrap();
    engine
        .stock_batch(vec![
            StockCommand::OpenCount {
                id: count.clone(),
                location: ist.clone(),
                variants: vec![VariantId::parse("SHIRT-M").unwrap()],
            },
            StockCommand::RecordCount {
                id: count.clone(),
                variant: VariantId::parse("SHIRT-M").unwrap(),
                counted: 1,
            },
            StockCommand::CloseCount {
                id: count,
                unit_costs: Default::default(),
            },
        ])
        .unwrap();
    assert_eq!(level("SHIRT-M", &ist), (1, 1));
    receive("SHIRT-M", &ank, 1);
    engine.release_hold(&id, &staff).unwrap();
    let order = in_step(&id);
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(level("SHIRT-M", &ank), (1, 1));
    // ANK now holds a shirt and the mug, unpicked: move it to IST after a receipt
    // there; its units join IST's open fulfilment order.
    receive("SHIRT-M", &ist, 1);
    receive("MUG", &ist, 1);
    let order = step(FulfilmentCommand::Move {
        fulfilment: f_ank.clone(),
        to: ist.clone(),
    })
    .unwrap();
    let moved = order.fulfilment(&f_ank).unwrap();
    assert_eq!(moved.status, FulfilmentOrderStatus::Moved);
    assert_eq!(moved.moved_to.as_deref(), Some(f_ist.as_str()));
    assert_eq!(level("SHIRT-M", &ank), (1, 0));
    assert_eq!(level("MUG", &ank), (2, 0));
    let order = in_step(&id);
    assert_eq!(fo_at(&order, &ist).as_deref(), Some(f_ist.as_str()));
    assert!(fo_at(&order, &ank).is_none());
    // IST picks the rest and packs two parcels: shirts by UPS, the mug by PTT.
    let size = ParcelSize {
        weight_grams: 800,
        length_mm: 300,
        width_mm: 200,
        height_mm: 100,
    };
    let units: Vec<LineQuantity> = engine
        .pick_list(&id, &f_ist)
        .unwrap()
        .into_iter()
        .map(|l| LineQuantity::new(l.line_id, l.quantity))
        .collect();
    step(FulfilmentCommand::Pick {
        fulfilment: f_ist.clone(),
        picked: units,
        short: vec![],
    })
    .unwrap();
    let mut parcels = Vec::new();
    for (line, q, carrier, number) in [
        ("L1", 2, "ups", "1Z999AA10123456784"),
        ("L2", 1, "ptt", "RR123456785TR"),
    ] {
        let order = step(FulfilmentCommand::Pack {
            fulfilment: f_ist.clone(),
            units: vec![LineQuantity::new(line.try_into().unwrap(), q)],
            size,
        })
        .unwrap();
        let parcel = order
            .fulfilment(&f_ist)
            .unwrap()
            .parcels
            .last()
            .unwrap()
            .id
            .clone();
        step(FulfilmentCommand::RecordLabel {
            fulfilment: f_ist.clone(),
            parcel: parcel.clone(),
            label: Label {
                carrier: carrier.into(),
                service: "standard".into(),
                tracking_number: number.into(),
                label_ref: None,
            },
        })
        .unwrap();
        parcels.push((f_ist.clone(), parcel));
    }
    let (f1, p1) = parcels[0].clone();
    let (f2, p2) = parcels[1].clone();
    step(FulfilmentCommand::HandOver {
        fulfilment: f2.clone(),
        parcel: p2.clone(),
    })
    .unwrap();
    clock.advance(Duration::hours(1));
    let track = |code: &str, minutes: i64| {
        let e =
            CarrierEvent::new(start() + Duration::minutes(minutes), code, Some("Ankara")).unwrap();
        engine
            .record_tracking_event(&id, &f1, &p1, e, &staff)
            .unwrap()
    };
    track("P", 60); // picked up: the implied hand-over
    track("P", 60); // duplicate
    track("I", 180);
    track("M", 90); // out of order: recorded, no step back
    track("O", 600);
    track("FA", 660); // failed attempt
    track("O", 1500);
    let order = track("D", 1560);
    let tracking = order
        .fulfilment(&f1)
        .unwrap()
        .parcel(&p1)
        .unwrap()
        .tracking
        .clone()
        .unwrap();
    assert_eq!(tracking.status(), Some(TrackingStatus::Delivered));
    let order = in_step(&id);
    for line in &order.lines {
        assert_eq!(line.fulfilment.shipped, line.active_quantity());
    }
    assert!(order
        .fulfilments
        .iter()
        .filter(|f| f
            .parcels
            .iter()
            .any(|p| p.status == ordersmith::fulfilment::ParcelStatus::HandedOver))
        .all(|f| f.status == FulfilmentOrderStatus::Shipped));
    // Each stage once: received, confirmed, shipped × 2 parcels, out for delivery,
    // delivery failed, delivered (the second "out for delivery" scan is the same stage
    // for the same parcel: not sent again).
    let keys: Vec<String> = sut
        .outbox
        .pending(10_000)
        .unwrap()
        .into_iter()
        .filter(|r| r.topic == "notification.requested")
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.payload_json).unwrap();
            v.pointer("/event/notification/key")
                .and_then(|k| k.as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    let count = |k: &str| keys.iter().filter(|x| *x == k).count();
    assert_eq!(count("order_received"), 1);
    assert_eq!(count("order_confirmed"), 1);
    assert_eq!(count("order_shipped"), 2);
    assert_eq!(count("out_for_delivery"), 1);
    assert_eq!(count("delivery_failed"), 1);
    assert_eq!(count("delivered"), 1);
    // The timeline, in Turkish.
    let t = engine.timeline(&id, Locale::Tr).unwrap();
    assert_eq!(t.parcels.len(), 2);
    assert!(t.parcels.iter().any(|p| p.status == "Teslim edildi"));
}

fn record_write(ns: &str, key: &str, expected: u64, value: Option<&str>) -> RecordWrite {
    RecordWrite {
        namespace: ns.to_string(),
        key: key.to_string(),
        expected_version: expected,
        value_json: value.map(str::to_string),
    }
}

/// Keyed records: created at version 1, each write one more; a stale or duplicate
/// write refuses the whole change set (orders in it too); deletes free the key; listings
/// page in byte order per namespace (the empty key included); namespaces are listed;
/// records travel with a dump.
pub fn keyed_records_are_versioned_paged_and_dumped(make: Make<'_>) {
    let sut = make();
    let store = &sut.store;
    assert_eq!(store.keyed_record("ns", "a").unwrap(), None);
    assert!(store.record_namespaces().unwrap().is_empty());
    store
        .commit(ChangeSet {
            records: vec![
                record_write("ns", "b", 0, Some("{\"v\":1}")),
                record_write("ns", "", 0, Some("\"empty key ü\"")),
                record_write("ns", "a", 0, Some("[]")),
                record_write("other", "z", 0, Some("null")),
            ],
            ..ChangeSet::default()
        })
        .unwrap();
    store
        .commit(ChangeSet {
            records: vec![record_write("ns", "b", 1, Some("{\"v\":2}"))],
            ..ChangeSet::default()
        })
        .unwrap();
    let b = store.keyed_record("ns", "b").unwrap().unwrap();
    assert_eq!((b.version, b.value_json.as_str()), (2, "{\"v\":2}"));
    let before = observable(&sut);
    // Stale, creating an existing one, and two writes of one record: all refused, and
    // an order riding in the same change set is not saved either.
    for writes in [
        vec![record_write("ns", "b", 1, Some("{}"))],
        vec![record_write("ns", "a", 0, Some("{}"))],
        vec![
            record_write("ns", "c", 0, Some("{}")),
            record_write("ns", "c", 0, Some("{}")),
        ],
        vec![record_write("ns", "a", 0, None)],
    ] {
        let err = store
            .commit(ChangeSet {
                orders: vec![new_order_change("o-rec", "web", start())],
                records: writes.clone(),
                ..ChangeSet::default()
            })
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict { aggregate, .. } if aggregate.starts_with("record ns/")),
            "{writes:?}: {err:?}"
        );
        assert_eq!(observable(&sut), before, "{writes:?} changed the store");
    }
    assert_eq!(
        store
            .keyed_records("ns", None, 10)
            .unwrap()
            .iter()
            .map(|r| (r.key.as_str(), r.version))
            .collect::<Vec<_>>(),
        [("", 1), ("a", 1), ("b", 2)]
    );
    let page: Vec<String> = store
        .keyed_records("ns", Some(""), 1)
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(page, ["a"]);
    assert!(store.keyed_records("ns", Some("b"), 10).unwrap().is_empty());
    assert!(store.keyed_records("none", None, 10).unwrap().is_empty());
    assert_eq!(store.record_namespaces().unwrap(), ["ns", "other"]);
    // The dump carries them; the copy lists the same content.
    let copy = make();
    import(copy.store.as_ref(), copy.outbox.as_ref(), before.as_bytes()).unwrap();
    assert_eq!(
        copy.store.keyed_records("ns", None, 10).unwrap().len(),
        3,
        "records travel with a dump"
    );
    assert_eq!(
        copy.store
            .keyed_record("ns", "b")
            .unwrap()
            .unwrap()
            .value_json,
        "{\"v\":2}"
    );
    // Deleting at the read version frees the key; a delete of an absent record at
    // version 0 is accepted and changes nothing.
    store
        .commit(ChangeSet {
            records: vec![
                record_write("other", "z", 1, None),
                record_write("ns", "gone", 0, None),
            ],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(store.keyed_record("other", "z").unwrap(), None);
    assert_eq!(store.record_namespaces().unwrap(), ["ns"]);
    store
        .commit(ChangeSet {
            records: vec![record_write("other", "z", 0, Some("1"))],
            ..ChangeSet::default()
        })
        .unwrap();
    assert_eq!(
        store.keyed_record("other", "z").unwrap().unwrap().version,
        1
    );
}

/// Returns round-trip: an order with RMAs (approved, label, receipt, inspection moving
/// stock, a refund, store credit) loads back equal on this store and on a second
/// engine, replays from its history, and moves with a dump together with the
/// customer's store-credit account (a keyed record). Store-credit accounts are
/// versioned: a stale save is a conflict and changes nothing.
pub fn returns_and_store_credit_round_trip_and_move_with_a_dump(make: Make<'_>) {
    use ordersmith::engine::CREDIT_NAMESPACE;
    use ordersmith::engine::{EngineConfig, NotificationConfig};
    use ordersmith::ids::CustomerId;
    use ordersmith::notify::NotificationChannel;
    use ordersmith::order::LineQuantity;
    use ordersmith::ports::RecordWrite;
    use ordersmith::returns::{
        CreditEntryKind, InspectionOutcome, ResolutionRequest, ReturnLineRequest, ReturnReason,
        RmaStatus, UnitInspection,
    };

    let sut = make();
    let (engine, _clock) = sut.engine();
    let engine = engine.with_config(EngineConfig {
        max_attempts: 1_000,
        notifications: Some(NotificationConfig {
            channels: vec![NotificationChannel::Email],
            ..NotificationConfig::default()
        }),
        ..EngineConfig::default()
    });
    fixtures::stock_two_warehouses(&engine, 10);
    let staff = CommandContext::system();
    let customer = CustomerId::parse("cust-ü-1").unwrap();
    let mut new = new_order("web", start());
    if let Some(c) = new.customer.as_mut() {
        c.id = Some(customer.clone());
    }
    let order = engine.place_order(new, &staff).unwrap();
    let id = order.id.clone();
    engine.confirm_order(&id, &staff).unwrap();
    engine.mark_paid(&id, &staff).unwrap();
    let all = lines(&[("L1", 2), ("L2", 1)]).unwrap();
    engine.record_shipment(&id, all.clone(), &staff).unwrap();
    engine.record_delivery(&id, all, &staff).unwrap();
    let ask = |line: &str, quantity: u32, reason: ReturnReason| ReturnLineRequest {
        line_id: fixtures::line(line),
        quantity,
        reason,
        opened: false,
    };
    let ist = LocationId::parse("IST").unwrap();
    // R1: refund of one shirt, restocked.
    let o = engine
        .request_return(
            &id,
            vec![ask("L1", 1, ReturnReason::Defective)],
            Some("ü \" ✓".into()),
            vec![],
            &staff,
        )
        .unwrap();
    let r1 = o.rmas.last().unwrap().id.clone();
    engine
        .request_return_label(&id, &r1, "standard".into(), &staff)
        .unwrap();
    engine
        .record_return_label(&id, &r1, "ups".into(), "1Z999AA10123456784".into(), &staff)
        .unwrap();
    engine
        .receive_return(
            &id,
            &r1,
            ist.clone(),
            vec![LineQuantity::new(fixtures::line("L1"), 1)],
            &staff,
        )
        .unwrap();
    let unit = |line: &str, outcome| UnitInspection {
        line_id: fixtures::line(line),
        outcome,
        quantity: 1,
        note: Some("checked".into()),
    };
    engine
        .inspect_return(
            &id,
            &r1,
            vec![unit("L1", InspectionOutcome::Resellable)],
            &staff,
        )
        .unwrap();
    engine
        .resolve_return(&id, &r1, ResolutionRequest::Refund, &staff)
        .unwrap();
    // R2: the mug as store credit, written off.
    let o = engine
        .request_return(
            &id,
            vec![ask("L2", 1, ReturnReason::Damaged)],
            None,
            vec![],
            &staff,
        )
        .unwrap();
    let r2 = o.rmas.last().unwrap().id.clone();
    engine
        .receive_return(
            &id,
            &r2,
            ist.clone(),
            vec![LineQuantity::new(fixtures::line("L2"), 1)],
            &staff,
        )
        .unwrap();
    engine
        .inspect_return(
            &id,
            &r2,
            vec![unit("L2", InspectionOutcome::WriteOff)],
            &staff,
        )
        .unwrap();
    let order = engine
        .resolve_return(&id, &r2, ResolutionRequest::StoreCredit, &staff)
        .unwrap();
    assert_eq!(order.rmas.len(), 2);
    assert!(order.rmas.iter().all(|r| r.status == RmaStatus::Resolved));
    let account = engine.store_credit(&customer).unwrap().unwrap();
    assert_eq!(account.version, 1);
    assert!(!account.balance.is_zero());
    // Loads back equal on a second engine, and replays from history.
    let (second, _) = sut.engine();
    assert_eq!(second.order(&id).unwrap(), order);
    assert_eq!(second.store_credit(&customer).unwrap().unwrap(), account);
    let history = sut.store.order_events(&id).unwrap();
    assert_eq!(Order::replay(&history).unwrap(), order);
    // A stale account save is a conflict and changes nothing.
    let before = observable(&sut);
    let stale = account
        .post(
            CreditEntryKind::Issued,
            money("1.00"),
            id.clone(),
            None,
            start(),
        )
        .unwrap();
    let err = sut
        .store
        .commit(ChangeSet {
            records: vec![RecordWrite {
                namespace: CREDIT_NAMESPACE.to_string(),
                key: customer.to_string(),
                expected_version: 0,
                value_json: Some(serde_json::to_string(&stale).unwrap()),
            }],
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(observable(&sut), before);
    let listed = sut.store.keyed_records(CREDIT_NAMESPACE, None, 10).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, customer.as_str());
    assert_eq!(listed[0].version, 1);
    assert!(engine
        .store_credit(&CustomerId::parse("nobody").unwrap())
        .unwrap()
        .is_none());
    // A dump carries the order and the account to another store unchanged.
    let target = make();
    import(
        target.store.as_ref(),
        target.outbox.as_ref(),
        before.as_bytes(),
    )
    .unwrap();
    assert_eq!(observable(&target), before);
    assert!(before.contains(CREDIT_NAMESPACE));
    assert_eq!(target.store.load_order(&id).unwrap().unwrap(), order);
    // Spending credit on a later order through the imported store never goes below
    // zero.
    let (third, _) = target.engine();
    assert_eq!(third.store_credit(&customer).unwrap().unwrap(), account);
    let mut later = new_order("web", start());
    if let Some(c) = later.customer.as_mut() {
        c.id = Some(customer.clone());
    }
    let later = third.place_order(later, &staff).unwrap();
    let err = third
        .spend_store_credit(
            &later.id,
            account.balance.checked_add(&money("0.01")).unwrap(),
            &staff,
        )
        .unwrap_err();
    assert_eq!(err.code(), "RETURNS_CREDIT_INSUFFICIENT");
    let paid = third
        .spend_store_credit(&later.id, account.balance, &staff)
        .unwrap();
    assert_eq!(paid.amount_paid, account.balance);
    assert!(third
        .store_credit(&customer)
        .unwrap()
        .unwrap()
        .balance
        .is_zero());
}
