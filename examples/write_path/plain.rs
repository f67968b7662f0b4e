//! The plain model of the write path's work: what placing and confirming an order
//! costs with no domain rules at all, on the same inputs as the engine.
//!
//! It keeps what any in-memory order store keeps and does what any confirmation
//! does, the simplest way: the order by id in a hash map, with its lines, its events
//! and its channel reference; the reference also in a map of its own, so a repeat is
//! answered with the order it made; each line's units reserved at the first of the
//! two locations that has them, the reservation kept by an id of its own; a one-word
//! event per change, and an outbox entry naming it. What it leaves out is what makes
//! the engine an order engine: validation of every field, money arithmetic and
//! totals, the state machine's guards, sourcing policies and splits, reservation
//! expiry, idempotency fingerprints, the stock log, JSON-ready records, and any store
//! but this one.

// What the model keeps, it keeps as a store keeps it: nothing here reads most of it
// back.
#![allow(dead_code, reason = "kept as a store keeps it, not read back")]

use std::error::Error;

use chrono::{DateTime, Utc};
use ordersmith::ids::{ChannelId, VariantId};
use ordersmith::money::Currency;
use ordersmith::order::NewOrder;
use rust_decimal::Decimal;

/// A hash map hashed as the engine's own maps are (foldhash, seeded per map): the
/// model pays for its hashing what the engine does, not SipHash's price.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Where a line's units are held: the location's index and the reservation's id.
struct Held {
    location: u8,
    reservation: Box<str>,
}

struct Line {
    variant: u32,
    quantity: u32,
    unit_price: Decimal,
    held: Option<Held>,
}

/// One change to an order, as small as it can be said.
enum Event {
    Placed,
    Confirmed,
    Allocated { line: u8, location: u8 },
    FulfilmentOpened { location: u8 },
}

struct Order {
    number: u64,
    channel: ChannelId,
    external_ref: Option<Box<str>>,
    placed_at: DateTime<Utc>,
    currency: Currency,
    confirmed: bool,
    lines: Vec<Line>,
    events: Vec<Event>,
}

/// Orders, stock and outbox, in plain maps and vectors.
pub struct Model {
    next: u64,
    variants: HashMap<VariantId, u32>,
    /// Per variant, per location: (on hand, reserved).
    balances: Vec<[(i64, i64); 2]>,
    orders: HashMap<Box<str>, Order>,
    by_ref: HashMap<Box<str>, Box<str>>,
    reservations: HashMap<Box<str>, (u32, u8, u32)>,
    /// (order number, event index).
    outbox: Vec<(u64, u32)>,
}

impl Model {
    /// A model whose variants each have `on_hand` units at both locations.
    pub fn new(variants: &[VariantId], on_hand: i64) -> Model {
        Model {
            next: 0,
            variants: variants
                .iter()
                .enumerate()
                .map(|(k, v)| (v.clone(), k as u32))
                .collect(),
            balances: vec![[(on_hand, 0); 2]; variants.len()],
            orders: HashMap::default(),
            by_ref: HashMap::default(),
            reservations: HashMap::default(),
            outbox: Vec::new(),
        }
    }

    /// Keeps a new order (or answers a repeated channel reference with the order it
    /// made) and returns its id.
    pub fn place(&mut self, new: NewOrder) -> Result<Box<str>, Box<dyn Error>> {
        if let Some(id) = new.external_ref.as_deref().and_then(|r| self.by_ref.get(r)) {
            return Ok(id.clone());
        }
        self.next += 1;
        let id: Box<str> = format!("order-{:06}", self.next).into();
        let mut lines = Vec::with_capacity(new.lines.len());
        for line in new.lines {
            let variant = *self.variants.get(&line.variant).ok_or("unknown variant")?;
            lines.push(Line {
                variant,
                quantity: line.quantity,
                unit_price: line.unit_price.amount(),
                held: None,
            });
        }
        let external_ref = new.external_ref.map(String::into_boxed_str);
        if let Some(r) = &external_ref {
            self.by_ref.insert(r.clone(), id.clone());
        }
        let events = vec![Event::Placed];
        self.outbox.push((self.next, 0));
        self.orders.insert(
            id.clone(),
            Order {
                number: self.next,
                channel: new.channel,
                external_ref,
                placed_at: new.placed_at,
                currency: new.currency,
                confirmed: false,
                lines,
                events,
            },
        );
        Ok(id)
    }

    /// Confirms an order: each line's units reserved at the first location that has
    /// them, one fulfilment opened at the first line's location.
    pub fn confirm(&mut self, id: &str) -> Result<(), Box<dyn Error>> {
        let order = self.orders.get_mut(id).ok_or("unknown order")?;
        if order.confirmed {
            return Err("already confirmed".into());
        }
        order.confirmed = true;
        order.events.push(Event::Confirmed);
        let mut first_location = None;
        for (k, line) in order.lines.iter_mut().enumerate() {
            let balances = self
                .balances
                .get_mut(line.variant as usize)
                .ok_or("unknown variant")?;
            let want = i64::from(line.quantity);
            let location = balances
                .iter()
                .position(|(on_hand, reserved)| on_hand - reserved >= want)
                .ok_or("out of stock")?;
            if let Some(balance) = balances.get_mut(location) {
                balance.1 += want;
            }
            let reservation: Box<str> = format!("{id}:L{}", k + 1).into();
            self.reservations.insert(
                reservation.clone(),
                (line.variant, location as u8, line.quantity),
            );
            line.held = Some(Held {
                location: location as u8,
                reservation,
            });
            order.events.push(Event::Allocated {
                line: k as u8,
                location: location as u8,
            });
            first_location.get_or_insert(location as u8);
        }
        if let Some(location) = first_location {
            order.events.push(Event::FulfilmentOpened { location });
        }
        let (number, events) = (order.number, order.events.len() as u32);
        self.outbox.extend((1..events).map(|k| (number, k)));
        Ok(())
    }
}
