//! The transition table and `decide`: (order, command) → events or a typed error.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::ids::LineId;
use crate::money::{Currency, Money};

use super::command::{LineEdit, LineQuantity, NewLine, NewOrder, OrderCommand, OrderCommandKind};
use super::error::OrderError;
use super::event::{OrderEvent, PlacedOrder};
use super::limits;
use super::model::{shared, Discount, LineQuantities, Order, OrderLine, OrderStatus, TaxLine};

/// Where a command takes an order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// To this status.
    To(OrderStatus),
    /// The status does not change.
    Same,
    /// Back to the status before the hold.
    Previous,
    /// Unchanged, or `cancelled` when no active unit remains.
    SameOrCancelled,
    /// Unchanged, or `processing` once a parcel is handed over.
    SameOrProcessing,
}

impl Target {
    fn describe(self) -> String {
        match self {
            Target::To(s) => s.as_str().to_string(),
            Target::Same => "(same)".to_string(),
            Target::Previous => "(status before the hold)".to_string(),
            Target::SameOrCancelled => "(same, or cancelled if nothing remains)".to_string(),
            Target::SameOrProcessing => {
                "(same, or processing once a parcel is handed over)".to_string()
            }
        }
    }
}

use OrderCommandKind as C;
use OrderStatus as S;

/// The order state machine as data: every legal (status, command) pair and its target.
/// A pair not listed is refused with [`OrderError::InvalidTransition`]. `place` applies
/// only to an order that does not exist yet and leads to `pending`.
pub const TRANSITIONS: &[(OrderStatus, OrderCommandKind, Target)] = &[
    (S::Pending, C::Confirm, Target::To(S::Confirmed)),
    (S::Pending, C::Hold, Target::To(S::OnHold)),
    (S::Pending, C::Cancel, Target::To(S::Cancelled)),
    (S::Pending, C::CancelLines, Target::SameOrCancelled),
    (S::Pending, C::EditLines, Target::Same),
    (S::Pending, C::RecordPayment, Target::Same),
    (S::Pending, C::RecordRefund, Target::Same),
    (S::Pending, C::Tag, Target::Same),
    (S::Pending, C::AddNote, Target::Same),
    (S::Pending, C::Pay, Target::Same),
    (S::Confirmed, C::Hold, Target::To(S::OnHold)),
    (S::Confirmed, C::Cancel, Target::To(S::Cancelled)),
    (S::Confirmed, C::CancelLines, Target::SameOrCancelled),
    (S::Confirmed, C::EditLines, Target::Same),
    (S::Confirmed, C::RecordPayment, Target::Same),
    (S::Confirmed, C::RecordRefund, Target::Same),
    (S::Confirmed, C::RecordShipment, Target::To(S::Processing)),
    (S::Confirmed, C::Tag, Target::Same),
    (S::Confirmed, C::AddNote, Target::Same),
    (S::Confirmed, C::Fulfil, Target::SameOrProcessing),
    (S::Confirmed, C::Pay, Target::Same),
    (S::OnHold, C::ReleaseHold, Target::Previous),
    (S::OnHold, C::Cancel, Target::To(S::Cancelled)),
    (S::OnHold, C::CancelLines, Target::SameOrCancelled),
    (S::OnHold, C::EditLines, Target::Same),
    (S::OnHold, C::RecordPayment, Target::Same),
    (S::OnHold, C::RecordRefund, Target::Same),
    (S::OnHold, C::Tag, Target::Same),
    (S::OnHold, C::AddNote, Target::Same),
    (S::OnHold, C::Pay, Target::Same),
    (S::Processing, C::Hold, Target::To(S::OnHold)),
    (S::Processing, C::CancelLines, Target::SameOrCancelled),
    (S::Processing, C::RecordPayment, Target::Same),
    (S::Processing, C::RecordRefund, Target::Same),
    (S::Processing, C::RecordShipment, Target::Same),
    (S::Processing, C::RecordDelivery, Target::Same),
    (S::Processing, C::RecordReturn, Target::Same),
    (S::Processing, C::Complete, Target::To(S::Completed)),
    (S::Processing, C::Tag, Target::Same),
    (S::Processing, C::AddNote, Target::Same),
    (S::Processing, C::Fulfil, Target::Same),
    (S::Processing, C::Pay, Target::Same),
    (S::Completed, C::RecordPayment, Target::Same),
    (S::Completed, C::RecordRefund, Target::Same),
    (S::Completed, C::RecordDelivery, Target::Same),
    (S::Completed, C::RecordReturn, Target::Same),
    (S::Completed, C::Tag, Target::Same),
    (S::Completed, C::AddNote, Target::Same),
    (S::Completed, C::Fulfil, Target::Same),
    (S::Completed, C::Pay, Target::Same),
    (S::Cancelled, C::RecordRefund, Target::Same),
    (S::Cancelled, C::Tag, Target::Same),
    (S::Cancelled, C::AddNote, Target::Same),
    (S::Cancelled, C::Pay, Target::Same),
];

/// The table row for (status, command), if the pair is legal.
pub fn transition(status: OrderStatus, command: OrderCommandKind) -> Option<Target> {
    TRANSITIONS
        .iter()
        .find(|(s, c, _)| *s == status && *c == command)
        .map(|(_, _, t)| *t)
}

/// The transition table rendered as the Markdown table in the module docs.
pub fn transition_table_markdown() -> String {
    let mut out =
        String::from("| from | command | to |\n|---|---|---|\n| (new) | place | pending |\n");
    for (s, c, t) in TRANSITIONS {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            s.as_str(),
            c.as_str(),
            t.describe()
        ));
    }
    out
}

fn check_text(field: &'static str, text: &str, max_chars: usize) -> Result<(), OrderError> {
    // Printable ASCII with line breaks and tabs, not blank and not too long, is settled
    // in one pass over the bytes; anything else is checked char by char below.
    let b = text.as_bytes();
    if b.len() <= max_chars && printable_text(b) && b.iter().any(|c| !c.is_ascii_whitespace()) {
        return Ok(());
    }
    check_text_by_chars(field, text, max_chars)
}

/// Whether every byte is printable ASCII, a line break or a tab, eight at a time
/// ([`crate::ids::AsciiWord`]): a word with a byte above `0x7e` fails at once, and
/// only a word with one below `0x20` is read byte by byte (a line break or a tab
/// passes). A title of forty bytes is five reads.
fn printable_text(bytes: &[u8]) -> bool {
    let byte = |c: &u8| (0x20..0x7f).contains(c) || *c == b'\n' || *c == b'\t';
    bytes.chunks(8).all(|chunk| {
        let word = crate::ids::AsciiWord::padded(chunk);
        !word.has_above_tilde() && (!word.has_below_space() || chunk.iter().all(byte))
    })
}

/// [`check_text`] without its ASCII shortcut: what the shortcut must agree with.
fn check_text_by_chars(
    field: &'static str,
    text: &str,
    max_chars: usize,
) -> Result<(), OrderError> {
    if text.trim().is_empty() {
        return Err(OrderError::InvalidText {
            field,
            reason: "must not be empty",
        });
    }
    if text.chars().count() > max_chars {
        return Err(OrderError::InvalidText {
            field,
            reason: "is too long",
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(OrderError::InvalidText {
            field,
            reason: "contains control characters",
        });
    }
    Ok(())
}

fn check_count(what: &'static str, count: usize, max: usize) -> Result<(), OrderError> {
    if count > max {
        return Err(OrderError::TooMany { what, count, max });
    }
    Ok(())
}

fn check_money(
    field: &'static str,
    m: &Money,
    currency: Currency,
    positive: bool,
) -> Result<(), OrderError> {
    if m.currency() != currency {
        return Err(OrderError::CurrencyMismatch {
            expected: currency,
            found: m.currency(),
        });
    }
    if m.is_negative() {
        return Err(OrderError::InvalidAmount {
            field,
            amount: m.amount(),
            reason: "must not be negative",
        });
    }
    if positive && m.is_zero() {
        return Err(OrderError::InvalidAmount {
            field,
            amount: m.amount(),
            reason: "must be greater than zero",
        });
    }
    if m.amount() > Decimal::from(limits::MAX_AMOUNT) {
        return Err(OrderError::InvalidAmount {
            field,
            amount: m.amount(),
            reason: "exceeds the largest amount ordersmith accepts (10^12)",
        });
    }
    Ok(())
}

fn check_taxes(tax_lines: &[TaxLine]) -> Result<(), OrderError> {
    check_count("tax lines", tax_lines.len(), limits::MAX_TAX_LINES)?;
    for t in tax_lines {
        check_text("tax name", &t.name, limits::MAX_SHORT_TEXT)?;
        if t.rate < Decimal::ZERO || t.rate > Decimal::ONE {
            return Err(OrderError::InvalidTaxRate { rate: t.rate });
        }
    }
    Ok(())
}

fn check_quantity(quantity: u32) -> Result<(), OrderError> {
    if quantity == 0 || quantity > limits::MAX_QUANTITY {
        return Err(OrderError::InvalidQuantity {
            quantity,
            max: limits::MAX_QUANTITY,
        });
    }
    Ok(())
}

/// A line's discounts may not exceed what `quantity` units at `unit_price` cost.
fn check_discounts(
    unit_price: &Money,
    quantity: u32,
    discounts: &[Discount],
    label: &str,
) -> Result<(), OrderError> {
    let discount = Money::sum(unit_price.currency(), discounts.iter().map(|d| &d.amount))?;
    let subtotal = unit_price.times(u64::from(quantity))?;
    if discount.amount() > subtotal.amount() {
        return Err(OrderError::DiscountExceedsLine {
            line: label.to_string(),
            discount,
            subtotal,
        });
    }
    Ok(())
}

/// Validates a new line and turns it into an order line with id `L{number}`.
fn build_line(new: &NewLine, currency: Currency, number: u32) -> Result<OrderLine, OrderError> {
    check_line(new, currency)?;
    Ok(make_line(new, number))
}

/// Every check a new line must pass, in the order its errors are reported.
fn check_line(new: &NewLine, currency: Currency) -> Result<(), OrderError> {
    check_quantity(new.quantity)?;
    check_money("unit price", &new.unit_price, currency, false)?;
    check_count("discounts", new.discounts.len(), limits::MAX_DISCOUNTS)?;
    for d in &new.discounts {
        check_money("discount", &d.amount, currency, false)?;
        if let Some(code) = &d.code {
            check_text("discount code", code, limits::MAX_SHORT_TEXT)?;
        }
    }
    check_taxes(&new.tax_lines)?;
    if let Some(t) = &new.title {
        check_text("title", t, limits::MAX_LONG_TEXT)?;
    }
    if let Some(r) = &new.external_ref {
        check_text("line external_ref", r, limits::MAX_SHORT_TEXT)?;
    }
    // Without discounts there is nothing to exceed the line: its unit price was checked
    // non-negative and at most 10^12 above, so the subtotal (times a `u32`) neither
    // overflows nor falls below a zero discount. Most lines have none, and the product
    // is the costliest arithmetic of a placement's checks.
    if new.discounts.is_empty() {
        return Ok(());
    }
    check_discounts(&new.unit_price, new.quantity, &new.discounts, "new")
}

/// The order line a checked new line becomes, with id `L{number}`.
fn make_line(new: &NewLine, number: u32) -> OrderLine {
    OrderLine {
        id: LineId::numbered(number),
        variant: new.variant.clone(),
        external_ref: new.external_ref.as_deref().map(Arc::from),
        title: new.title.as_deref().map(Arc::from),
        quantity: new.quantity,
        unit_price: new.unit_price,
        discounts: shared(new.discounts.as_slice()),
        tax_lines: shared(new.tax_lines.as_slice()),
        fulfilment: LineQuantities::default(),
        allocations: Box::default(),
    }
}

/// [`make_line`] from a line the caller gives up: its id, discounts and taxes move
/// into the order line instead of being copied and then freed with the new line.
fn make_line_owned(new: NewLine, number: u32) -> OrderLine {
    OrderLine {
        id: LineId::numbered(number),
        variant: new.variant,
        external_ref: new.external_ref.map(Arc::from),
        title: new.title.map(Arc::from),
        quantity: new.quantity,
        unit_price: new.unit_price,
        discounts: shared(new.discounts),
        tax_lines: shared(new.tax_lines),
        fulfilment: LineQuantities::default(),
        allocations: Box::default(),
    }
}

fn check_tags(tags: &[String]) -> Result<(), OrderError> {
    check_count("tags", tags.len(), limits::MAX_TAGS)?;
    for t in tags {
        check_text("tag", t, limits::MAX_SHORT_TEXT)?;
    }
    Ok(())
}

/// Validates a new order and returns its `placed` event. Nothing is stored.
pub fn place(new: &NewOrder) -> Result<OrderEvent, OrderError> {
    // The checks first: a refused order is not copied.
    check_new_order(new)?;
    Ok(OrderEvent::Placed(taking_checked(&mut new.clone())))
}

/// [`place`] for an order the caller gives up, as the engine's placements do: its
/// texts, lines, customer and addresses move into the `placed` event instead of being
/// copied into it and then freed with the new order (a durable bulk import spent
/// about a quarter of its deciding thread on those copies and frees). The same
/// checks, the same errors and the same event as [`place`].
///
/// ```
/// use chrono::Utc;
/// use ordersmith::ids::{ChannelId, VariantId};
/// use ordersmith::money::{Currency, Money};
/// use ordersmith::order::{place, place_owned, NewLine, NewOrder};
///
/// let try_ = Currency::parse("TRY")?;
/// let line = NewLine::new(VariantId::parse("MUG")?, 2, Money::parse("10.00", try_)?);
/// let new = NewOrder::new(ChannelId::parse("web")?, Utc::now(), try_, vec![line]);
/// assert_eq!(place_owned(new.clone())?, place(&new)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn place_owned(new: NewOrder) -> Result<OrderEvent, OrderError> {
    placed_owned(new).map(OrderEvent::Placed)
}

/// [`place_owned`]'s event data, as the engine keeps it.
pub(crate) fn placed_owned(new: NewOrder) -> Result<Arc<PlacedOrder>, OrderError> {
    check_new_order(&new)?;
    let NewOrder {
        channel,
        external_ref,
        placed_at,
        currency,
        taxes_included,
        customer,
        shipping_address,
        billing_address,
        lines,
        shipping_lines,
        tags,
        note,
        reservation_ttl_minutes,
        notification_opt_outs,
    } = new;
    let lines: super::OrderLines = lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| make_line_owned(line, line_number(i)))
        .collect();
    let placed = PlacedOrder {
        channel,
        external_ref: external_ref.map(Arc::from),
        placed_at,
        currency,
        taxes_included,
        customer: customer.map(Arc::new),
        shipping_address: shipping_address.map(Arc::new),
        billing_address: billing_address.map(Arc::new),
        lines,
        shipping_lines: shipping_lines.into(),
        tags: tags.into_iter().collect::<BTreeSet<_>>().into(),
        note: note.map(String::into_boxed_str),
        reservation_ttl_minutes,
        notification_opt_outs: notification_opt_outs.into(),
    };
    Ok(Arc::new(placed))
}

/// [`placed_owned`] that leaves what it does not move in `new`: its lines (copied into
/// the event's shared lines, as [`place`] copies them), references and note, for the
/// caller to free when it suits it (a batch placement prepared on a thread of its own
/// frees them with the batch, once it is saved). On an error, `new` is as it was.
pub(crate) fn place_taking(new: &mut NewOrder) -> Result<Arc<PlacedOrder>, OrderError> {
    check_new_order(new)?;
    Ok(taking_checked(new))
}

/// [`place_taking`] for an order already checked ([`check_new_order`]).
fn taking_checked(new: &mut NewOrder) -> Arc<PlacedOrder> {
    let lines: super::OrderLines = new
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| make_line(line, line_number(i)))
        .collect();
    let placed = PlacedOrder {
        channel: new.channel.clone(),
        external_ref: new.external_ref.as_deref().map(Arc::from),
        placed_at: new.placed_at,
        currency: new.currency,
        taxes_included: new.taxes_included,
        customer: new.customer.take().map(Arc::new),
        shipping_address: new.shipping_address.take().map(Arc::new),
        billing_address: new.billing_address.take().map(Arc::new),
        lines,
        shipping_lines: std::mem::take(&mut new.shipping_lines).into(),
        tags: std::mem::take(&mut new.tags)
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into(),
        note: new.note.as_deref().map(Box::from),
        reservation_ttl_minutes: new.reservation_ttl_minutes,
        notification_opt_outs: std::mem::take(&mut new.notification_opt_outs).into(),
    };
    Arc::new(placed)
}

/// The number of the order line made from the new order's line at `index`.
fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// Every check a new order must pass before it is placed, in the order its errors are
/// reported. Every line is checked before any is made.
fn check_new_order(new: &NewOrder) -> Result<(), OrderError> {
    if new.lines.is_empty() {
        return Err(OrderError::NoLines);
    }
    check_count("lines", new.lines.len(), limits::MAX_LINES)?;
    check_count(
        "shipping lines",
        new.shipping_lines.len(),
        limits::MAX_TAX_LINES,
    )?;
    if let Some(r) = &new.external_ref {
        check_text("external_ref", r, limits::MAX_SHORT_TEXT)?;
    }
    if let Some(n) = &new.note {
        check_text("note", n, limits::MAX_LONG_TEXT)?;
    }
    check_tags(&new.tags)?;
    if let Some(minutes) = new.reservation_ttl_minutes {
        if minutes == 0 || minutes > limits::MAX_RESERVATION_TTL_MINUTES {
            return Err(OrderError::InvalidReservationTtl {
                minutes,
                max: limits::MAX_RESERVATION_TTL_MINUTES,
            });
        }
    }
    for line in &new.lines {
        check_line(line, new.currency)?;
    }
    for s in &new.shipping_lines {
        check_text("shipping title", &s.title, limits::MAX_SHORT_TEXT)?;
        check_money("shipping price", &s.price, new.currency, false)?;
        check_taxes(&s.tax_lines)?;
    }
    Ok(())
}

/// Checks a list of line quantities: not empty, no duplicates, known lines, and each
/// quantity between 1 and what `available` says the line allows.
fn check_line_quantities(
    order: &Order,
    command: OrderCommandKind,
    lines: &[LineQuantity],
    operation: &'static str,
    available: impl Fn(&OrderLine) -> u32,
) -> Result<(), OrderError> {
    if lines.is_empty() {
        return Err(OrderError::EmptyCommand { command });
    }
    check_count("lines", lines.len(), limits::MAX_LINES)?;
    // The first line named twice: the few lines of a command compared pairwise (no
    // allocation, no hashing), many through a set.
    let dup = if lines.len() <= 16 {
        lines
            .iter()
            .enumerate()
            .find(|(i, lq)| lines.iter().take(*i).any(|o| o.line_id == lq.line_id))
            .map(|(_, lq)| lq)
    } else {
        let mut seen = HashSet::new();
        lines.iter().find(|lq| !seen.insert(&lq.line_id))
    };
    if let Some(dup) = dup {
        return Err(OrderError::DuplicateLine {
            line_id: dup.line_id.clone(),
        });
    }
    for lq in lines {
        let line = order
            .line(&lq.line_id)
            .ok_or_else(|| OrderError::UnknownLine {
                line_id: lq.line_id.clone(),
            })?;
        check_quantity(lq.quantity)?;
        let can = available(line);
        if lq.quantity > can {
            return Err(OrderError::QuantityExceeded {
                line_id: lq.line_id.clone(),
                operation,
                requested: lq.quantity,
                available: can,
            });
        }
    }
    Ok(())
}

fn open_lines(order: &Order) -> Vec<LineQuantity> {
    order
        .lines
        .iter()
        .filter(|l| l.open_quantity() > 0)
        .map(|l| LineQuantity::new(l.id.clone(), l.open_quantity()))
        .collect()
}

fn edit_events(order: &Order, edits: &[LineEdit]) -> Result<Vec<OrderEvent>, OrderError> {
    if edits.is_empty() {
        return Err(OrderError::EmptyCommand {
            command: OrderCommandKind::EditLines,
        });
    }
    check_count("edits", edits.len(), limits::MAX_LINES)?;
    // Apply to a scratch copy so each edit sees the ones before it, then re-validate.
    let mut scratch = order.clone();
    let mut events = Vec::with_capacity(edits.len());
    for edit in edits {
        let event = match edit {
            LineEdit::Add { line } => OrderEvent::LineAdded {
                line: Box::new(build_line(line, order.currency, scratch.next_line_number)?),
            },
            LineEdit::Remove { line_id } | LineEdit::SetQuantity { line_id, .. } => {
                let line = scratch
                    .line(line_id)
                    .ok_or_else(|| OrderError::UnknownLine {
                        line_id: line_id.clone(),
                    })?;
                if line.fulfilment.shipped > 0 {
                    return Err(OrderError::LineAlreadyShipped {
                        line_id: line_id.clone(),
                    });
                }
                // Picked units stay on the line until they leave or are put back.
                if let Some((in_hand, fo)) = scratch.picked_in_hand(line_id) {
                    let keeps = match edit {
                        LineEdit::SetQuantity { quantity, .. } => {
                            quantity.saturating_sub(line.fulfilment.cancelled)
                        }
                        _ => 0,
                    };
                    if keeps < in_hand {
                        return Err(OrderError::LineInFulfilment {
                            line_id: line_id.clone(),
                            in_hand,
                            fulfilment: fo.to_string(),
                        });
                    }
                }
                match edit {
                    LineEdit::SetQuantity { quantity, .. } => {
                        check_quantity(*quantity)?;
                        if *quantity <= line.fulfilment.cancelled {
                            return Err(OrderError::InvalidQuantity {
                                quantity: *quantity,
                                max: limits::MAX_QUANTITY,
                            });
                        }
                        check_discounts(
                            &line.unit_price,
                            *quantity,
                            &line.discounts,
                            line_id.as_str(),
                        )?;
                        OrderEvent::LineQuantityChanged {
                            line_id: line_id.clone(),
                            from: line.quantity,
                            to: *quantity,
                        }
                    }
                    _ => OrderEvent::LineRemoved {
                        line_id: line_id.clone(),
                    },
                }
            }
        };
        scratch.apply(&event);
        events.push(event);
    }
    check_count("lines", scratch.lines.len(), limits::MAX_LINES)?;
    if scratch.active_units() == 0 {
        return Err(OrderError::EditEmptiesOrder);
    }
    scratch.totals()?;
    Ok(events)
}

/// Decides a command against an existing order: the events it causes, or why not.
///
/// Pure: it reads nothing but its arguments and changes nothing. An empty list means
/// the command changes nothing (e.g. adding a tag the order already has).
pub fn decide(order: &Order, command: &OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
    let mut events = Vec::new();
    decide_into(order, command, &mut events)?;
    Ok(events)
}

/// [`decide`] appending the events to `events` (a write's vector of the order's new
/// events, which keeps them): a confirmation's event goes there without a vector of
/// its own. On an error `events` is as it was.
pub(crate) fn decide_into(
    order: &Order,
    command: &OrderCommand,
    events: &mut Vec<OrderEvent>,
) -> Result<(), OrderError> {
    let kind = command.kind();
    if let OrderCommand::Place { .. } = command {
        return Err(OrderError::AlreadyExists {
            order_id: order.id.clone(),
        });
    }
    if transition(order.status, kind).is_none() {
        return Err(OrderError::InvalidTransition {
            status: order.status,
            command: kind,
        });
    }
    let decided = match command {
        OrderCommand::Place { .. } => Vec::new(),
        OrderCommand::Confirm => {
            // Room for what the engine appends to a confirmation: an allocation per
            // line, the fulfilments it opens, a notification (growing the vector for
            // them copied its events once per confirmation).
            events.reserve(2 + 2 * order.lines.len());
            events.push(OrderEvent::Confirmed);
            return Ok(());
        }
        OrderCommand::Hold { reason, note } => {
            if let Some(n) = note {
                check_text("hold note", n, limits::MAX_LONG_TEXT)?;
            }
            vec![OrderEvent::Held {
                reason: *reason,
                note: note.clone(),
                from: order.status,
            }]
        }
        OrderCommand::ReleaseHold => {
            let to = order
                .hold
                .as_ref()
                .map_or(OrderStatus::Pending, |h| h.previous);
            vec![OrderEvent::HoldReleased { to }]
        }
        OrderCommand::Cancel { reason } => {
            if order.lines.iter().any(|l| l.fulfilment.shipped > 0) {
                return Err(OrderError::AlreadyShipped);
            }
            let open = open_lines(order);
            let mut events = Vec::with_capacity(2);
            if !open.is_empty() {
                events.push(OrderEvent::LinesCancelled {
                    lines: open,
                    reason: *reason,
                });
            }
            events.push(OrderEvent::Cancelled { reason: *reason });
            events
        }
        OrderCommand::CancelLines { lines, reason } => {
            check_line_quantities(order, kind, lines, "cancel", OrderLine::open_quantity)?;
            // Picked units stay on the line until they leave or are put back.
            for lq in lines {
                let (Some(line), Some((in_hand, fo))) =
                    (order.line(&lq.line_id), order.picked_in_hand(&lq.line_id))
                else {
                    continue;
                };
                if lq.quantity > line.open_quantity().saturating_sub(in_hand) {
                    return Err(OrderError::LineInFulfilment {
                        line_id: lq.line_id.clone(),
                        in_hand,
                        fulfilment: fo.to_string(),
                    });
                }
            }
            let cancelled: u64 = lines.iter().map(|l| u64::from(l.quantity)).sum();
            let mut events = vec![OrderEvent::LinesCancelled {
                lines: lines.clone(),
                reason: *reason,
            }];
            if cancelled >= order.active_units() {
                events.push(OrderEvent::Cancelled { reason: *reason });
            }
            events
        }
        OrderCommand::EditLines { edits } => edit_events(order, edits)?,
        OrderCommand::Fulfil(step) => super::fulfil::decide_step(order, step)?,
        OrderCommand::Pay(step) => super::pay::decide_step(order, step)?,
        OrderCommand::RecordPayment { amount } => {
            check_money("payment", amount, order.currency, true)?;
            // Captures a provider has yet to confirm are as good as paid.
            let balance_due = order.payable()?;
            if amount.amount() > balance_due.amount() {
                return Err(OrderError::Overpayment {
                    amount: *amount,
                    balance_due,
                });
            }
            vec![OrderEvent::PaymentRecorded { amount: *amount }]
        }
        OrderCommand::MarkPaid => {
            // The amount is derived here, from the order as it stands when the command
            // runs, so the command itself (and an idempotency key bound to it) never
            // depends on a read made before it.
            // The rest of what is due, captures a provider has yet to confirm
            // counted as paid.
            let amount = order.payable()?;
            check_money("payment", &amount, order.currency, true)?;
            vec![OrderEvent::PaymentRecorded { amount }]
        }
        OrderCommand::RecordRefund { amount } => {
            check_money("refund", amount, order.currency, true)?;
            // Provider refunds already asked for count as given back.
            let refundable = order.refundable()?;
            if amount.amount() > refundable.amount() {
                return Err(OrderError::RefundExceedsPaid {
                    amount: *amount,
                    refundable,
                });
            }
            vec![OrderEvent::RefundRecorded { amount: *amount }]
        }
        OrderCommand::RecordShipment { lines } => {
            check_line_quantities(order, kind, lines, "ship", OrderLine::open_quantity)?;
            vec![OrderEvent::ShipmentRecorded {
                lines: lines.clone(),
            }]
        }
        OrderCommand::RecordDelivery { lines } => {
            check_line_quantities(order, kind, lines, "deliver", |l| {
                l.fulfilment.shipped.saturating_sub(l.fulfilment.delivered)
            })?;
            vec![OrderEvent::DeliveryRecorded {
                lines: lines.clone(),
            }]
        }
        OrderCommand::RecordReturn { lines } => {
            // Units an open return awaits come back under it, not outside it.
            check_line_quantities(order, kind, lines, "return", |l| {
                l.fulfilment
                    .shipped
                    .saturating_sub(l.fulfilment.returned)
                    .saturating_sub(crate::returns::awaited(order, &l.id))
            })?;
            vec![OrderEvent::ReturnRecorded {
                lines: lines.clone(),
            }]
        }
        OrderCommand::Complete => {
            let unshipped: u64 = order
                .lines
                .iter()
                .map(|l| u64::from(l.open_quantity()))
                .sum();
            if unshipped > 0 {
                return Err(OrderError::NotFullyShipped { unshipped });
            }
            vec![OrderEvent::Completed]
        }
        OrderCommand::Tag { add, remove } => {
            if add.is_empty() && remove.is_empty() {
                return Err(OrderError::EmptyCommand { command: kind });
            }
            check_tags(add)?;
            check_tags(remove)?;
            let added: Vec<String> = add
                .iter()
                .filter(|t| !order.tags.contains(*t))
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let removed: Vec<String> = remove
                .iter()
                .filter(|t| order.tags.contains(*t) && !add.contains(t))
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            check_count(
                "tags",
                order.tags.len() + added.len() - removed.len(),
                limits::MAX_TAGS,
            )?;
            if added.is_empty() && removed.is_empty() {
                Vec::new()
            } else {
                vec![OrderEvent::Tagged { added, removed }]
            }
        }
        OrderCommand::AddNote { note } => {
            check_text("note", note, limits::MAX_LONG_TEXT)?;
            check_count("notes", order.notes.len() + 1, limits::MAX_NOTES)?;
            vec![OrderEvent::NoteAdded { note: note.clone() }]
        }
    };
    if events.is_empty() {
        *events = decided;
    } else {
        events.extend(decided);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        // The ASCII shortcut accepts exactly what the char-by-char rules accept, and
        // refuses with the same error: blanks, line breaks and tabs, other controls,
        // DEL, non-ASCII text and lengths around the limit.
        #[test]
        fn the_ascii_shortcut_agrees_with_the_full_rules(
            s in "[ a-z0-9\\t\\n\\r\x7f\u{1}\u{85}é]{0,24}",
            max in 0usize..30,
        ) {
            proptest::prop_assert_eq!(
                check_text("note", &s, max),
                check_text_by_chars("note", &s, max)
            );
        }
    }

    proptest::proptest! {
        // Eight bytes at a time, the same answer as byte by byte, for any bytes (tabs,
        // line breaks and their neighbours, the bounds 0x1f/0x20 and 0x7e/0x7f, high
        // bytes) and any length around a word.
        #[test]
        fn printable_text_word_by_word_is_byte_by_byte(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b'\t'), proptest::strategy::Just(b'\n'),
                    proptest::strategy::Just(b'\r'), proptest::strategy::Just(0x08u8),
                    proptest::strategy::Just(0x1fu8), proptest::strategy::Just(0x7fu8),
                    proptest::strategy::Just(0x80u8), 0x20u8..0x7f, proptest::num::u8::ANY,
                ],
                0..40,
            ),
        ) {
            proptest::prop_assert_eq!(
                printable_text(&bytes),
                bytes.iter().all(|&c| (0x20..0x7f).contains(&c) || c == b'\n' || c == b'\t')
            );
        }
    }

    /// A web order of one line: `quantity` mugs at 10 TRY.
    fn mugs(quantity: u32) -> NewOrder {
        let try_ = Currency::parse("TRY").unwrap();
        let line = NewLine::new(
            crate::ids::VariantId::parse("MUG").unwrap(),
            quantity,
            Money::new(Decimal::TEN, try_).unwrap(),
        );
        NewOrder::new(
            crate::ids::ChannelId::parse("web").unwrap(),
            chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            try_,
            vec![line],
        )
    }

    /// Deciding into a write's events appends what `decide` returns after the events
    /// already there, and a refused command leaves them as they were.
    #[test]
    fn deciding_into_events_appends_and_a_refusal_leaves_them_whole() {
        let Ok(OrderEvent::Placed(placed)) = place(&mugs(2)) else {
            panic!("a valid order is placed");
        };
        let order = Order::from_placed(crate::ids::OrderId::parse("o-1").unwrap(), &placed);
        let earlier = OrderEvent::NoteAdded {
            note: "earlier".into(),
        };
        for command in [
            OrderCommand::Confirm,
            OrderCommand::AddNote {
                note: "ring".into(),
            },
            OrderCommand::Cancel {
                reason: crate::order::CancelReason::Customer,
            },
        ] {
            let mut events = vec![earlier.clone()];
            decide_into(&order, &command, &mut events).unwrap();
            let mut expected = vec![earlier.clone()];
            expected.extend(decide(&order, &command).unwrap());
            assert_eq!(events, expected, "{command:?}");
        }
        let mut cancelled = order.clone();
        for e in decide(
            &order,
            &OrderCommand::Cancel {
                reason: crate::order::CancelReason::Customer,
            },
        )
        .unwrap()
        {
            cancelled.apply(&e);
        }
        for command in [
            OrderCommand::Confirm,
            OrderCommand::AddNote {
                note: "x".repeat(limits::MAX_LONG_TEXT + 1),
            },
        ] {
            let mut events = vec![earlier.clone()];
            let refused = decide_into(&cancelled, &command, &mut events);
            assert_eq!(refused.err(), decide(&cancelled, &command).err());
            assert_eq!(events, vec![earlier.clone()], "{command:?}");
        }
    }

    /// Taking from a new order makes the event `place` makes and leaves only what the
    /// event does not keep whole; a refused order is left as it was.
    #[test]
    fn taking_from_an_order_moves_what_the_event_keeps_and_leaves_a_refused_one_whole() {
        let mut new = mugs(2);
        new.customer = Some(crate::pii::Customer::default());
        new.tags = vec!["vip".into(), "gift".into()];
        new.note = Some("ring twice".into());
        let expected = place(&new).unwrap();
        let mut taken = new.clone();
        assert_eq!(
            OrderEvent::Placed(place_taking(&mut taken).unwrap()),
            expected
        );
        assert!(taken.customer.is_none() && taken.tags.is_empty());
        assert_eq!(taken.lines, new.lines);
        assert_eq!(taken.note, new.note);
        assert_eq!(place_owned(new.clone()).unwrap(), expected);
        let mut refused = new.clone();
        if let Some(l) = refused.lines.first_mut() {
            l.quantity = 0;
        }
        let before = refused.clone();
        assert!(place_taking(&mut refused).is_err());
        assert_eq!(refused, before);
    }

    /// A command naming a line twice is refused with the first line named again,
    /// whether its lines are few (compared pairwise) or many (through a set).
    #[test]
    fn a_line_named_twice_is_refused_among_few_and_many() {
        let new = mugs(1);
        let Ok(OrderEvent::Placed(placed)) = place(&new) else {
            panic!("place gives a placed event");
        };
        let order = Order::from_placed(crate::ids::OrderId::parse("o-1").unwrap(), &placed);
        let lq = |id: &str| LineQuantity {
            line_id: LineId::parse(id).unwrap(),
            quantity: 1,
        };
        // 16 lines in all are compared pairwise, 17 go through the set.
        for n in [2usize, 14, 15, 40] {
            let mut lines: Vec<LineQuantity> = (1..=n).map(|i| lq(&format!("L{i}"))).collect();
            lines.extend([lq("L2"), lq("L1")]);
            let err = check_line_quantities(
                &order,
                OrderCommandKind::RecordShipment,
                &lines,
                "ship",
                OrderLine::open_quantity,
            )
            .unwrap_err();
            assert!(
                matches!(&err, OrderError::DuplicateLine { line_id } if line_id.as_str() == "L2"),
                "{n} lines: {err:?}"
            );
        }
    }
}
