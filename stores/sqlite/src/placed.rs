//! Orders kept as their placed event (migration 9). A new order that is still exactly
//! what its `placed` event makes is stored with an empty snapshot: the event, which
//! the store keeps anyway, holds the same order, so a placement serialises, packs and
//! writes one document instead of two. Reading such an order rebuilds it from the
//! record of its version-1 event with [`Order::from_placed`]; its first update stores
//! the snapshot whole, as every update does.

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use ordersmith::ids::OrderId;
use ordersmith::order::{Order, OrderEvent, OrderEventRecord, PlacedOrder};
use ordersmith::ports::{OrderChange, StoreError};

use crate::codec::Doc;
use crate::decode;

/// Whether `change` inserts an order whose snapshot is exactly [`Order::from_placed`]
/// of its one event, a `placed` at version 1: such an order is stored with an empty
/// snapshot. The comparison is what makes this safe whatever the engine puts in a
/// snapshot; it costs a fraction of serialising the order (what the order starts from
/// is shared with its event, so most of the comparison is pointer checks).
pub(crate) fn made_by_its_placed_event(change: &OrderChange) -> bool {
    let order = &change.snapshot;
    let mut events = change.events.iter();
    match (events.next(), events.next()) {
        (Some(record), None)
            if change.expected_version == 0
                && order.version == 1
                && record.version == 1
                && *record.order_id == order.id =>
        {
            match record.event {
                OrderEvent::Placed(placed) => {
                    Order::from_placed(order.id.clone(), placed) == *order
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// An order read back from its `snapshot` column or, when that is empty, from
/// `placed`: the record of its version-1 event, which must be the order's `placed`
/// event. A missing or different event is reported as corruption, never guessed at.
pub(crate) fn order_from_row(
    id: &str,
    snapshot: &Doc,
    placed: Option<&Doc>,
) -> Result<Order, StoreError> {
    if !snapshot.0.is_empty() {
        return decode("order snapshot", &snapshot.0);
    }
    let corrupt = |why: &str| StoreError::Corrupt {
        reason: format!("order {id} keeps no snapshot and {why}"),
    };
    let placed = placed.ok_or_else(|| corrupt("its placed event is missing"))?;
    // The record must be version 1 of this very order.
    let from_placed = |order_id: OrderId, version: u64, event: &PlacedOrder| {
        if version == 1 && order_id.as_str() == id {
            Ok(Order::from_placed(order_id, event))
        } else {
            Err(corrupt("its first event is not its placed event"))
        }
    };
    // The quick reading first: the record's order, version and placement, the
    // placement read straight from the event's fields (see `PlacedEvent`).
    if let Ok(record) = serde_json::from_str::<PlacedRecord>(&placed.0) {
        return from_placed(record.order_id, record.version, &record.event.0);
    }
    // Anything else (a record whose `type` is not first, another event, damage): the
    // whole record, for the event it is or the error it gives.
    let record: OrderEventRecord = decode("event record", &placed.0)?;
    match &record.event {
        OrderEvent::Placed(event) => from_placed(record.order_id.clone(), record.version, event),
        _ => Err(corrupt("its first event is not its placed event")),
    }
}

/// What reading an order needs of its placed event's record (the time, actor and key
/// are skipped).
#[derive(Deserialize)]
struct PlacedRecord {
    order_id: OrderId,
    version: u64,
    event: PlacedEvent,
}

/// A `placed` event read without the detour serde takes for an internally tagged
/// enum, which buffers the whole event into an intermediate tree to find its `type`
/// (reading an order this way cost 40 % more than reading its snapshot). The event's
/// JSON, as ordersmith writes it, has `type` first: that key is checked to be
/// `placed`, and the rest of the map is the [`PlacedOrder`]'s own fields. Any other
/// shape is an error, and the caller falls back to the whole record.
struct PlacedEvent(PlacedOrder);

/// The one key [`PlacedEvent`] reads itself.
#[derive(Deserialize)]
enum TypeKey {
    #[serde(rename = "type")]
    Type,
}

/// The one event type [`PlacedEvent`] accepts.
#[derive(Deserialize)]
enum PlacedType {
    #[serde(rename = "placed")]
    Placed,
}

impl<'de> Deserialize<'de> for PlacedEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TypeFirst;
        impl<'de> Visitor<'de> for TypeFirst {
            type Value = PlacedEvent;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a placed event with its type first")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PlacedEvent, A::Error> {
                let Some(TypeKey::Type) = map.next_key()? else {
                    return Err(serde::de::Error::custom("an empty event"));
                };
                let PlacedType::Placed = map.next_value()?;
                PlacedOrder::deserialize(MapAccessDeserializer::new(map)).map(PlacedEvent)
            }
        }
        deserializer.deserialize_map(TypeFirst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordersmith_store_conformance::fixtures;

    fn placed_record(id: &str) -> (OrderEventRecord, Order) {
        let change = fixtures::new_order_change(id, "web", fixtures::start());
        let record = change.events.to_records().remove(0);
        (record, change.snapshot)
    }

    #[test]
    fn the_quick_reading_gives_the_order_the_whole_record_gives() {
        let (record, order) = placed_record("o-1");
        let json = serde_json::to_string(&record).unwrap();
        let quick: PlacedRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(Order::from_placed(quick.order_id, &quick.event.0), order);
        let read = order_from_row("o-1", &Doc(String::new()), Some(&Doc(json))).unwrap();
        assert_eq!(read, order);
    }

    #[test]
    fn a_placed_event_whose_type_is_not_first_is_still_read() {
        let (record, order) = placed_record("o-1");
        let mut value = serde_json::to_value(&record).unwrap();
        // Move `type` to the end of the event's map (serde_json's map keeps order).
        let event = value["event"].as_object_mut().unwrap();
        let kind = event.remove("type").unwrap();
        event.insert("type".into(), kind);
        let json = serde_json::to_string(&value).unwrap();
        assert!(serde_json::from_str::<PlacedRecord>(&json).is_err());
        let read = order_from_row("o-1", &Doc(String::new()), Some(&Doc(json))).unwrap();
        assert_eq!(read, order);
    }

    #[test]
    fn another_event_or_another_order_is_corruption_not_an_order() {
        let (record, _) = placed_record("o-1");
        let json = serde_json::to_string(&record).unwrap();
        // The same record with `type` last, so it is read by the whole-record path.
        let mut value = serde_json::to_value(&record).unwrap();
        let event = value["event"].as_object_mut().unwrap();
        let kind = event.remove("type").unwrap();
        event.insert("type".into(), kind);
        let slow = serde_json::to_string(&value).unwrap();
        value["version"] = 2.into();
        let slow_second = serde_json::to_string(&value).unwrap();
        assert!(json.contains(r#""version":1,"#), "{json}");
        for (id, doc) in [
            // Another order's placed event, on either path.
            ("o-2", json.clone()),
            ("o-2", slow),
            // This order's placement, but not its first version, on either path.
            (
                "o-1",
                json.replacen(r#""version":1,"#, r#""version":2,"#, 1),
            ),
            ("o-1", slow_second),
            // The right order, but not a placement.
            (
                "o-1",
                json.replacen(r#""type":"placed""#, r#""type":"confirmed""#, 1),
            ),
            // Not JSON at all.
            ("o-1", "{\"order_id\":".to_string()),
        ] {
            let Err(err) = order_from_row(id, &Doc(String::new()), Some(&Doc(doc.clone()))) else {
                panic!("{id} read from {doc}");
            };
            assert_eq!(err.code(), "STORE_CORRUPT", "{err}");
        }
        let err = order_from_row("o-1", &Doc(String::new()), None).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
