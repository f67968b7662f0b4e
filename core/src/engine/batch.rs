//! Batched writes (issue 9): many orders placed, or many commands run, in one atomic
//! store commit, so a durable store syncs once per batch instead of once per order.
//!
//! The contract of the one-by-one calls is kept: each order (each command) is decided on
//! its own and gets its own result, in input order; one bad order does not stop the
//! rest. What changes is only that the good ones of a batch are saved by one commit. Two
//! cases fall back to one call per item, which is exactly the unbatched behaviour:
//!
//! - an item is refused *after* it changed the stock ledger (the ledger cannot take back
//!   one item's commands while keeping the others'), and
//! - the batch's commit fails (store unavailable, or concurrent writers kept winning).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender, TryRecvError};

use super::{
    Attempt, CommandContext, Engine, EngineError, Placement, PreparedPlace, StoredKeys, Tx, Written,
};
use crate::ids::{ChannelId, OrderId, VariantId};
use crate::order::{NewOrder, Order, OrderCommand, PlacedOrder};
use crate::ports::{ChangeSet, CommitTicket, StoreError};
use crate::stock::FastMap;

/// Orders placed per commit by [`Engine::place_orders`], and commands run per commit by
/// [`Engine::execute_many`]: large enough that one sync serves many orders, small
/// enough that a batch's change set stays a few megabytes, and that a pipelined call
/// (SQLite) fills and drains its pipeline quickly: each call starts with its saving
/// thread idle while the first batch is decided, and ends with its deciding thread
/// idle while the last is saved. Measured on the durable import (2 cores, 10,000
/// orders a call), 500 a batch took 0.88x the time of 1,000 and 0.93x that of 250.
pub const WRITE_BATCH: usize = 500;

/// Why a batch was abandoned for one-by-one calls (never returned to a caller).
const LEDGER_MOVED: EngineError = EngineError::InvalidInput {
    field: "batch",
    reason: "an item was refused after it changed the stock ledger",
};

/// Adds an item's change set to the batch's. The orders of a batch placement are
/// distinct new orders, so this is a plain append: no search through the batch per item.
fn append(into: &mut ChangeSet, later: ChangeSet) {
    into.orders.extend(later.orders);
    into.idempotency.extend(later.idempotency);
    into.outbox.extend(later.outbox);
    into.records.extend(later.records);
    into.documents.extend(later.documents);
}

/// [`merge_changes`](super::merge_changes) with an index of the batch's orders, so a
/// batch of n commands merges in O(n), not O(n²) id comparisons.
fn merge_indexed(
    into: &mut ChangeSet,
    positions: &mut HashMap<OrderId, usize>,
    later: ChangeSet,
) -> Result<(), EngineError> {
    for change in later.orders {
        match positions
            .get(&change.snapshot.id)
            .and_then(|&i| into.orders.get_mut(i))
        {
            Some(existing) => {
                existing.events.append(change.events)?;
                existing.snapshot = change.snapshot;
            }
            None => {
                positions.insert(change.snapshot.id.clone(), into.orders.len());
                into.orders.push(change);
            }
        }
    }
    append(
        into,
        ChangeSet {
            orders: Vec::new(),
            ..later
        },
    );
    Ok(())
}

/// Makes the orders of a batch share one copy of each channel and variant id they
/// repeat. Each order read from JSON (or from a binding's objects) carries its own copy
/// of every id's text; the store keeps the order for good, so a million orders of a few
/// hundred variants would keep a million copies of the same few hundred texts (24 to 32
/// bytes and one allocation each, per line). Ids are compared by text, so sharing one
/// changes no order's content, only where its text lives.
fn share_ids(orders: &mut [NewOrder]) {
    let mut channels: Seen<ChannelId> = Seen::default();
    let mut variants: Seen<VariantId> = Seen::default();
    for order in orders {
        share(&mut channels, &mut order.channel);
        for line in &mut order.lines {
            share(&mut variants, &mut line.variant);
        }
    }
}

/// The ids a batch has seen (foldhash: a few hashes per order, on short texts).
type Seen<T> = HashSet<T, foldhash::fast::RandomState>;

/// Replaces `id` by the equal id already in `seen`, or puts it there.
fn share<T: Clone + Eq + std::hash::Hash>(seen: &mut Seen<T>, id: &mut T) {
    match seen.get(id) {
        Some(first) => *id = first.clone(),
        None => {
            seen.insert(id.clone());
        }
    }
}

/// Change sets a pipelined batch call keeps queued for the store beyond the one being
/// committed: the engine decides the next batch while the store packs and commits the
/// previous ones, and a few megabytes of change sets at most wait.
const PIPELINE_QUEUE: usize = 1;

/// Batches a batch placement prepares ahead of the one being decided (see
/// [`Engine::place_batches`]): enough that the writer never waits for a batch the
/// preparing thread could have finished, few enough that their orders stay in cache.
const PREPARED_AHEAD: usize = 2;

/// A batch placement's orders, with what was prepared of each. What an order's event
/// keeps moved out of it; the rest is freed with the batch, once it is saved, or was
/// freed already (the orders are then empty; see [`Engine::place_batches`]).
type Prepared = (Vec<NewOrder>, Vec<Result<PreparedPlace, EngineError>>);

/// A pipelined batch's commit outcome, with the change set the store handed back to be
/// freed on the deciding thread (see [`CommitTicket::give_back`]).
type Decided = (Result<(), StoreError>, Option<ChangeSet>);

/// A prepared batch on its way through the writer. A batch prepared on the preparing
/// thread goes back to it when the writer is done with it, to be freed where it was
/// allocated: glibc's allocator makes a thread that frees another thread's blocks take
/// that thread's arena lock, block by block, against the thread allocating in it.
struct Spent {
    batch: Prepared,
    back: Option<std::sync::mpsc::Sender<Prepared>>,
}

impl Drop for Spent {
    fn drop(&mut self) {
        if let Some(back) = &self.back {
            // The preparing thread outlives every batch it prepared; if it did not,
            // the batch is freed here.
            let _ = back.send(std::mem::take(&mut self.batch));
        }
    }
}

/// A batch of a pipelined call, decided and handed to the store: its results hold once
/// its commit is known to be saved.
struct Flight<S, I, V> {
    side: S,
    input: I,
    /// The batch's results as decided (`None` when the attempt did not decide it).
    value: Option<V>,
    fate: Fate,
}

/// Where a [`Flight`] stands.
enum Fate {
    /// Its ticket is not decided yet (outcomes come in submission order).
    Awaiting,
    /// Saved: its results stand.
    Saved,
    /// Not saved: it goes through the unpipelined call.
    Redo,
}

/// The thread of a pipelined call that waits for its tickets: tickets go in, outcomes
/// come out in the same order.
type Waiter = (SyncSender<CommitTicket>, Receiver<Decided>);

/// Records the outcomes of the awaiting flights decided so far, in submission order
/// (all of them with `all`, waiting). Returns whether every outcome recorded was `Ok`.
fn record<S, I, V>(
    flights: &mut VecDeque<Flight<S, I, V>>,
    outcomes: &Receiver<Decided>,
    all: bool,
) -> bool {
    let mut saved = true;
    for flight in flights
        .iter_mut()
        .filter(|f| matches!(f.fate, Fate::Awaiting))
    {
        // The change set handed back is freed here, on the thread that allocated it.
        let outcome = if all {
            outcomes.recv().ok().map(|(outcome, _)| outcome)
        } else {
            match outcomes.try_recv() {
                Ok((outcome, _)) => Some(outcome),
                Err(TryRecvError::Empty) => break,
                // The waiting thread is gone (it cannot be, short of a panic).
                Err(TryRecvError::Disconnected) => None,
            }
        };
        if let Some(Ok(())) = outcome {
            flight.fate = Fate::Saved;
        } else {
            flight.fate = Fate::Redo;
            saved = false;
        }
    }
    saved
}

impl Engine {
    /// [`Engine::place_orders`]: batches of [`WRITE_BATCH`] orders, one commit each.
    pub(super) fn place_orders_batched<R: Placement>(
        &self,
        orders: Vec<NewOrder>,
        ctx: &CommandContext,
    ) -> Vec<Result<R, EngineError>> {
        let mut results = Vec::with_capacity(orders.len());
        let mut orders = orders.into_iter().peekable();
        let batches = std::iter::from_fn(|| {
            orders
                .peek()
                .is_some()
                .then(|| ((), orders.by_ref().take(WRITE_BATCH).collect()))
        });
        self.place_batches(batches, ctx, |(), placed| results.extend(placed));
        results
    }

    /// Places each batch of orders with one commit for the orders that succeed, and
    /// hands each batch's results to `deliver`, batch by batch in input order, with the
    /// batch's `S`. Pipelined on a store that commits groups (see [`Engine::pipelined`]).
    ///
    /// When there is more than one batch and a core for each thread (three on a store
    /// that saves on a thread of its own, [`crate::ports::Store::commits_in_groups`],
    /// two otherwise), the batches are read and prepared (validated, their placed
    /// events built: work that depends on the order alone) on a second thread, at most
    /// [`PREPARED_AHEAD`] batches ahead, while this thread decides and commits them in
    /// input order. Nothing the writer decides moves to that thread, so the outcome is
    /// the one-thread outcome.
    pub(super) fn place_batches<R: Placement, S: Send>(
        &self,
        batches: impl Iterator<Item = (S, Vec<NewOrder>)> + Send,
        ctx: &CommandContext,
        deliver: impl FnMut(S, Vec<Result<R, EngineError>>),
    ) {
        // Prepared on a thread of its own, a batch keeps what its orders' events did
        // not take (the rest of each `NewOrder`) until it comes back to that thread,
        // saved, to be freed together: freed one order at a time there, between the
        // allocations of the events the store keeps, a million-order import in memory
        // held 3-4 % more resident memory (glibc's free lists; `examples/bulk_import`
        // 1,477-1,481 against 1,508-1,559 bytes an order). Prepared on the deciding
        // thread, each order's rest is freed at once, while it is still in cache: a
        // batch freed later cost that thread (the one the pipeline waits on) more.
        let prepare = |(side, mut orders): (S, Vec<NewOrder>), keep: bool| {
            share_ids(&mut orders);
            let (orders, prepared) = if keep {
                let prepared = orders
                    .iter_mut()
                    .map(|new| PreparedPlace::taking(new, ctx))
                    .collect();
                (orders, prepared)
            } else {
                let prepared = orders
                    .into_iter()
                    .map(|new| PreparedPlace::new(new, ctx))
                    .collect();
                (Vec::new(), prepared)
            };
            let batch: Prepared = (orders, prepared);
            (side, batch)
        };
        let decide = |engine: &Engine, tx: &mut Tx<'_>, spent: &Spent| {
            engine.place_batch_in(tx, &spent.batch.1, ctx)
        };
        let alone = |engine: &Engine, mut spent: Spent| {
            let (_spent, prepared) = std::mem::take(&mut spent.batch);
            engine.place_prepared(prepared, ctx)
        };
        let here = |(side, batch)| (side, Spent { batch, back: None });
        let mut batches = batches.fuse();
        let first = batches.next();
        // A thread for each of: deciding, preparing, and saving when the store saves
        // on a thread of its own.
        let threads = 2 + usize::from(self.store.commits_in_groups());
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let second = if cores >= threads {
            batches.next()
        } else {
            None
        };
        let Some(second) = second else {
            // One batch (or none), or no core for a second thread: prepared here.
            let batches = first
                .into_iter()
                .chain(batches)
                .map(|batch| prepare(batch, false))
                .map(here);
            self.pipelined(batches, decide, alone, deliver, |_, _| false);
            return;
        };
        std::thread::scope(|scope| {
            let (ready, prepared) = sync_channel(PREPARED_AHEAD);
            let (back, spent) = channel::<Prepared>();
            scope.spawn(move || {
                for batch in std::iter::once(second).chain(batches) {
                    let batch = prepare(batch, true);
                    // The receiver is gone only if this thread's caller panicked.
                    if ready.send(batch).is_err() {
                        return;
                    }
                    spent.try_iter().for_each(drop);
                }
                drop(ready);
                spent.into_iter().for_each(drop);
            });
            let there = move |(side, batch): (S, Prepared)| {
                let back = Some(back.clone());
                (side, Spent { batch, back })
            };
            let batches = first
                .map(|batch| prepare(batch, false))
                .map(here)
                .into_iter()
                .chain(prepared.into_iter().map(there));
            self.pipelined(batches, decide, alone, deliver, |_, _| false);
        });
    }

    /// Runs a batch call: `decide` each batch in one write, and hand its results to
    /// `deliver` in input order once its change set is saved.
    ///
    /// On a store that commits groups (its `submit` queues), the batches are
    /// pipelined: once batch k is decided and submitted, the writer is released and a
    /// second thread waits for k's commit (packing and saving it, as the group's
    /// leader) while this thread decides batch k + 1 on the ledger with k's effects in
    /// it, and submits it after k. Batches are still decided one at a time, in input
    /// order, so the outcome is the sequential one: the same orders get the same stock.
    /// A store that decides in `submit` (memory, PostgreSQL) gets the sequential loop and
    /// no thread.
    ///
    /// When a commit is refused or an attempt does not succeed at once, no further batch
    /// is decided here: every ticket handed over is waited for, the engine settles
    /// (restoring the ledger to what was saved), and each batch that was not saved, then
    /// each batch not decided yet, goes through `alone`, the unpipelined call with its
    /// retries and one-by-one fallback, in input order. A batch that moved stock was
    /// submitted after the one before it, so the store refuses it with it; a batch that
    /// moved none does not depend on it and may be saved (it is then not redone).
    ///
    /// `overlaps(earlier, next)` says whether batch `next` touches what batch `earlier`
    /// touches (an order both command): such a batch is decided only once every batch
    /// still being saved is, so it reads its orders as they left them (a write would be
    /// refused by its version check, but a refusal or a no-op decided on a stale order
    /// writes nothing that could be).
    fn pipelined<S, I, V>(
        &self,
        batches: impl Iterator<Item = (S, I)>,
        mut decide: impl FnMut(&Engine, &mut Tx<'_>, &I) -> Result<Written<V>, EngineError>,
        mut alone: impl FnMut(&Engine, I) -> V,
        mut deliver: impl FnMut(S, V),
        overlaps: impl Fn(&I, &I) -> bool,
    ) {
        let store = self.store.as_ref();
        // Fused: the batches left after the pipeline are asked for again below.
        let mut batches = batches.fuse();
        std::thread::scope(|scope| {
            // Started with the first change set the store queues.
            let mut waiter: Option<Waiter> = None;
            let mut flights: VecDeque<Flight<S, I, V>> = VecDeque::new();
            // Set once a batch was not saved: no batch is decided here after it.
            let mut broken = false;
            while !broken {
                let Some((side, input)) = batches.next() else {
                    break;
                };
                let waits = flights
                    .iter()
                    .any(|f| matches!(f.fate, Fate::Awaiting) && overlaps(&f.input, &input));
                if waits {
                    if let Some((_, outcomes)) = &waiter {
                        broken |= !record(&mut flights, outcomes, true);
                    }
                    if broken {
                        // Decided on its own after the pipeline, like the batches after it.
                        flights.push_back(Flight {
                            side,
                            input,
                            value: None,
                            fate: Fate::Redo,
                        });
                        break;
                    }
                }
                let attempt = self.lock_writer().and_then(|mut state| {
                    // Keys looked up first: a batch's placements look theirs up at once
                    // (`Store::idempotency_records_for`) before deciding.
                    let attempt = self.attempt(
                        &mut state,
                        &mut |engine: &Engine, tx: &mut Tx<'_>| decide(engine, tx, &input),
                        true,
                    )?;
                    Ok((attempt, state.checkpoint_overdue()))
                });
                let mut flight = Flight {
                    side,
                    input,
                    value: None,
                    fate: Fate::Saved,
                };
                let mut drain = false;
                match attempt {
                    Ok((Attempt::Done(value), overdue)) => {
                        flight.value = Some(value);
                        drain = overdue;
                    }
                    Ok((Attempt::Pending(value, ticket), overdue)) => {
                        let (tickets, _) = waiter.get_or_insert_with(|| {
                            let (tickets, queued) = sync_channel::<CommitTicket>(PIPELINE_QUEUE);
                            let (decided, outcomes) = channel();
                            scope.spawn(move || {
                                for ticket in queued {
                                    let outcome = store.wait(&ticket);
                                    if decided.send((outcome, ticket.take_back())).is_err() {
                                        return;
                                    }
                                }
                            });
                            (tickets, outcomes)
                        });
                        flight.value = Some(value);
                        flight.fate = Fate::Awaiting;
                        // The writer is released: while the store is busy saving
                        // earlier batches, this thread may do part of this one's saving.
                        store.prepare(&ticket);
                        // Blocks while the queue is full.
                        if let Err(unsent) = tickets.send(ticket) {
                            // The waiting thread is gone (short of a panic, it cannot
                            // be): this batch is waited for by the settling below.
                            drop(unsent);
                            flight.fate = Fate::Redo;
                            broken = true;
                        }
                        drain = overdue;
                    }
                    // Not decided at once: the unpipelined call retries it once the
                    // batches before it are known.
                    Ok((Attempt::Retry(_) | Attempt::Restart | Attempt::LookUpKeys, _))
                    | Err(_) => {
                        flight.fate = Fate::Redo;
                        broken = true;
                    }
                }
                flights.push_back(flight);
                if let Some((_, outcomes)) = &waiter {
                    broken |= !record(&mut flights, outcomes, drain || broken);
                }
                if !broken {
                    while flights
                        .front()
                        .is_some_and(|f| matches!(f.fate, Fate::Saved))
                    {
                        if let Some(Flight {
                            side,
                            value: Some(value),
                            ..
                        }) = flights.pop_front()
                        {
                            deliver(side, value);
                        }
                    }
                }
            }
            // Every ticket handed over is decided before the thread is joined.
            if let Some((tickets, outcomes)) = waiter.take() {
                drop(tickets);
                broken |= !record(&mut flights, &outcomes, true);
            }
            if broken {
                // The refused writes are undone (the ledger back at what was saved)
                // before any of them is redone.
                if let Ok(mut state) = self.lock_writer() {
                    let _ = state.settle(store, true);
                }
            }
            for flight in flights {
                let value = match (flight.fate, flight.value) {
                    (Fate::Saved, Some(value)) => value,
                    _ => alone(self, flight.input),
                };
                deliver(flight.side, value);
            }
        });
        for (side, input) in batches {
            let value = alone(self, input);
            deliver(side, value);
        }
    }

    /// Places prepared `orders` with one commit for every order that succeeds.
    fn place_prepared<R: Placement>(
        &self,
        prepared: Vec<Result<PreparedPlace, EngineError>>,
        ctx: &CommandContext,
    ) -> Vec<Result<R, EngineError>> {
        match self.write(|engine, tx| engine.place_batch_in(tx, &prepared, ctx)) {
            Ok(results) => results,
            // Nothing of the batch was saved: place each order on its own, as the
            // unbatched call (`place_order`) does with what it prepares.
            Err(_) => prepared
                .into_iter()
                .map(|prepared| {
                    let prepared = prepared?;
                    self.write(|engine, tx| {
                        engine.place_in::<Order>(tx, &prepared, ctx, true, None, 0)
                    })
                    .map(R::from_order)
                })
                .collect(),
        }
    }

    /// The body of a batch placement: each order through [`Engine::place_in`], with
    /// keys (idempotency keys, channel references) taken earlier in the same batch
    /// treated as if they were already stored.
    fn place_batch_in<R: Placement>(
        &self,
        tx: &mut Tx<'_>,
        prepared: &[Result<PreparedPlace, EngineError>],
        ctx: &CommandContext,
    ) -> Result<Written<Vec<Result<R, EngineError>>>, EngineError> {
        // Each order placed saves one order change, usually one key (its channel
        // reference) and one announcement: room for them up front, instead of growing
        // (and copying) the batch's vectors of large items as it fills.
        let mut changes = ChangeSet {
            orders: Vec::with_capacity(prepared.len()),
            idempotency: Vec::with_capacity(prepared.len()),
            outbox: Vec::with_capacity(prepared.len()),
            ..ChangeSet::default()
        };
        let mut results: Vec<Result<R, EngineError>> = Vec::with_capacity(prepared.len());
        // Every key of the batch looked up in one store call, not one per order.
        let keys: Vec<&str> = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .flat_map(|p| p.keys().map(String::as_str))
            .collect();
        let stored: StoredKeys = self
            .store
            .idempotency_records_for(&keys)?
            .into_iter()
            .map(|record| (record.key.clone(), record))
            .collect();
        // Key -> (placed event, index of the result that took it).
        let mut taken: FastMap<&str, (&PlacedOrder, usize)> = FastMap::default();
        for prepared in prepared {
            let prepared = match prepared {
                Ok(p) => p,
                Err(e) => {
                    results.push(Err(e.clone()));
                    continue;
                }
            };
            if let Some(repeat) = repeated_key(prepared, &taken, &results) {
                results.push(repeat);
                continue;
            }
            let mark = tx.entries.len();
            match self.place_in::<R>(tx, prepared, ctx, true, Some(&stored), 0) {
                Ok(written) => {
                    if !written.changes.is_empty() {
                        for key in prepared.keys() {
                            taken.insert(key, (&*prepared.placed, results.len()));
                        }
                        append(&mut changes, written.changes);
                    }
                    results.push(Ok(written.value));
                }
                Err(_) if tx.entries.len() != mark => return Err(LEDGER_MOVED),
                Err(e) => results.push(Err(e)),
            }
        }
        Ok(Written {
            changes,
            value: results,
        })
    }

    /// Runs each `(order, command)` on its own, as [`Engine::execute`] would one after
    /// the other, and saves every command that succeeds with one commit per
    /// [`WRITE_BATCH`] commands (a bulk confirmation after an import, say). Results come
    /// back in input order; a refused command changes nothing and does not stop the rest.
    /// A later command on an order sees the earlier commands of the batch on it. On a
    /// store that commits groups, batches are pipelined as in [`Engine::place_orders`].
    ///
    /// `ctx` applies to every command; an idempotency key in it binds the first command
    /// (the later ones, being different commands, are refused as
    /// `ENGINE_IDEMPOTENCY_MISMATCH`, exactly as separate calls with one key would be).
    /// A placement (`OrderCommand::Place`) is refused: use [`Engine::place_orders`].
    ///
    /// ```
    /// use chrono::Utc;
    /// use ordersmith::engine::{CommandContext, Engine};
    /// use ordersmith::ids::{ChannelId, OrderId, VariantId};
    /// use ordersmith::money::{Currency, Money};
    /// use ordersmith::order::{NewLine, NewOrder, OrderCommand, OrderStatus};
    ///
    /// let engine = Engine::in_memory();
    /// let try_ = Currency::parse("TRY")?;
    /// let line = NewLine::new(VariantId::parse("MUG")?, 1, Money::parse("10.00", try_)?);
    /// let new = NewOrder::new(ChannelId::parse("web")?, Utc::now(), try_, vec![line]);
    /// let ctx = CommandContext::system();
    /// let placed = engine.place_orders(vec![new.clone(), new], &ctx);
    /// let mut commands: Vec<(OrderId, OrderCommand)> = placed
    ///     .iter()
    ///     .map(|o| Ok((o.as_ref().map_err(Clone::clone)?.id.clone(), OrderCommand::Confirm)))
    ///     .collect::<Result<_, ordersmith::engine::EngineError>>()?;
    /// commands.push((OrderId::parse("order-nope")?, OrderCommand::Confirm));
    /// let results = engine.execute_many(commands, &ctx);
    /// assert_eq!(results[0].as_ref().map(|o| o.status), Ok(OrderStatus::Confirmed));
    /// assert_eq!(results[1].as_ref().map(|o| o.status), Ok(OrderStatus::Confirmed));
    /// assert_eq!(results[2].as_ref().map_err(|e| e.code()).unwrap_err(), "ORDER_NOT_FOUND");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn execute_many(
        &self,
        commands: Vec<(OrderId, OrderCommand)>,
        ctx: &CommandContext,
    ) -> Vec<Result<Order, EngineError>> {
        if let Err(e) = super::check_key(ctx) {
            return commands.iter().map(|_| Err(e.clone())).collect();
        }
        // An idempotency key spans the call: separate calls keep its exact meaning.
        if ctx.idempotency_key.is_some() {
            return commands
                .into_iter()
                .map(|(id, command)| self.execute_one(&id, command, ctx))
                .collect();
        }
        let mut results = Vec::with_capacity(commands.len());
        let mut commands = commands.into_iter().peekable();
        let batches = std::iter::from_fn(|| {
            commands.peek().is_some().then(|| {
                let chunk: Vec<(OrderId, OrderCommand)> =
                    commands.by_ref().take(WRITE_BATCH).collect();
                ((), chunk)
            })
        });
        self.pipelined(
            batches,
            |engine, tx, commands| engine.execute_batch_in(tx, commands, ctx),
            |engine, commands| engine.execute_batch(commands, ctx),
            |(), executed| results.extend(executed),
            |earlier, next| {
                let ids: std::collections::HashSet<&OrderId> =
                    earlier.iter().map(|(id, _)| id).collect();
                next.iter().any(|(id, _)| ids.contains(id))
            },
        );
        results
    }

    /// One batch of [`Engine::execute_many`] unpipelined (its key checks already made):
    /// one write, or each command on its own when the write fails.
    fn execute_batch(
        &self,
        commands: Vec<(OrderId, OrderCommand)>,
        ctx: &CommandContext,
    ) -> Vec<Result<Order, EngineError>> {
        match self.write(|engine, tx| engine.execute_batch_in(tx, &commands, ctx)) {
            Ok(results) => results,
            Err(_) => commands
                .into_iter()
                .map(|(id, command)| self.execute_one(&id, command, ctx))
                .collect(),
        }
    }

    /// One command as [`Engine::execute`], placements refused.
    fn execute_one(
        &self,
        id: &OrderId,
        command: OrderCommand,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        if matches!(command, OrderCommand::Place { .. }) {
            return Err(PLACE_IN_EXECUTE_MANY);
        }
        self.execute(id, command, ctx)
    }

    fn execute_batch_in(
        &self,
        tx: &mut Tx<'_>,
        commands: &[(OrderId, OrderCommand)],
        ctx: &CommandContext,
    ) -> Result<Written<Vec<Result<Order, EngineError>>>, EngineError> {
        let mut changes = ChangeSet::default();
        let mut results = Vec::with_capacity(commands.len());
        // Orders changed earlier in the batch, as they are now, and where their change
        // is in `changes.orders`.
        let mut changed: HashMap<&OrderId, Order> = HashMap::new();
        let mut positions: HashMap<OrderId, usize> = HashMap::new();
        // Every order of the batch loaded in one store call, not one per command.
        let ids: Vec<&OrderId> = commands
            .iter()
            .filter(|(_, command)| !matches!(command, OrderCommand::Place { .. }))
            .map(|(id, _)| id)
            .collect();
        let stored: HashMap<OrderId, Order> = self
            .store
            .load_orders(&ids)?
            .into_iter()
            .map(|order| (order.id.clone(), order))
            .collect();
        for (id, command) in commands {
            if matches!(command, OrderCommand::Place { .. }) {
                results.push(Err(PLACE_IN_EXECUTE_MANY));
                continue;
            }
            let mark = tx.entries.len();
            let loaded = changed.get(id).or_else(|| stored.get(id));
            match self.execute_in(tx, id, command, ctx, "", loaded, true) {
                Ok(written) => {
                    if !written.changes.is_empty() {
                        merge_indexed(&mut changes, &mut positions, written.changes)?;
                        changed.insert(id, written.value.clone());
                    }
                    results.push(Ok(written.value));
                }
                Err(_) if tx.entries.len() != mark => return Err(LEDGER_MOVED),
                Err(e) => results.push(Err(e)),
            }
        }
        Ok(Written {
            changes,
            value: results,
        })
    }
}

const PLACE_IN_EXECUTE_MANY: EngineError = EngineError::InvalidInput {
    field: "command",
    reason: "execute_many runs commands on existing orders; place orders with place_orders",
};

/// The result for an order whose idempotency key or channel reference an earlier order
/// of the same batch took: what [`Engine::place_in`] returns for a stored key (the
/// earlier order, which nothing else in the batch changes), or the mismatch error.
fn repeated_key<R: Placement>(
    prepared: &PreparedPlace,
    taken: &FastMap<&str, (&PlacedOrder, usize)>,
    results: &[Result<R, EngineError>],
) -> Option<Result<R, EngineError>> {
    prepared.keys().find_map(|key| {
        let (placed, index) = taken.get(key.as_str())?;
        let earlier = results.get(*index)?.as_ref().ok()?;
        if **placed != *prepared.placed {
            return Some(Err(
                match (&prepared.external_key, &prepared.placed.external_ref) {
                    (Some(ext), Some(r)) if ext == key => EngineError::DuplicateExternalRef {
                        channel: prepared.placed.channel.to_string(),
                        external_ref: r.to_string(),
                        order_id: earlier.order_id().clone(),
                    },
                    _ => EngineError::IdempotencyMismatch { key: key.clone() },
                },
            ));
        }
        Some(Ok(earlier.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use crate::order::NewLine;

    fn new_order(i: usize) -> Result<NewOrder, Box<dyn std::error::Error>> {
        let try_ = Currency::parse("TRY")?;
        // Each order parses its own copies of the ids, as a reader of JSON does.
        let line = |v: &str| -> Result<NewLine, Box<dyn std::error::Error>> {
            Ok(NewLine::new(
                VariantId::parse(v)?,
                1,
                Money::parse("10.00", try_)?,
            ))
        };
        let mut new = NewOrder::new(
            ChannelId::parse("web")?,
            chrono::Utc::now(),
            try_,
            vec![
                line("MUG")?,
                line(if i.is_multiple_of(2) { "TEA" } else { "MUG" })?,
            ],
        );
        new.external_ref = Some(format!("W-{i}"));
        Ok(new)
    }

    #[test]
    fn a_batch_keeps_one_copy_of_each_repeated_id() -> Result<(), Box<dyn std::error::Error>> {
        let engine = Engine::in_memory();
        let news = (0..6).map(new_order).collect::<Result<Vec<_>, _>>()?;
        let placed = engine.place_orders(news.clone(), &CommandContext::system());
        let orders = placed.into_iter().collect::<Result<Vec<Order>, _>>()?;
        let text = |id: &str| id.as_ptr();
        let first = &orders[0];
        for (order, new) in orders.iter().zip(&news) {
            // The same content as asked for...
            assert_eq!(order.channel, new.channel);
            let variants: Vec<&VariantId> = order.lines.iter().map(|l| &l.variant).collect();
            let asked: Vec<&VariantId> = new.lines.iter().map(|l| &l.variant).collect();
            assert_eq!(variants, asked);
            // ...held as one copy of each text, across orders and within one.
            assert_eq!(text(order.channel.as_str()), text(first.channel.as_str()));
            assert_eq!(
                text(order.lines[0].variant.as_str()),
                text(first.lines[0].variant.as_str())
            );
            for line in order.lines.iter() {
                let same = orders
                    .iter()
                    .flat_map(|o| o.lines.iter())
                    .find(|l| l.variant == line.variant)
                    .map(|l| text(l.variant.as_str()));
                assert_eq!(same, Some(text(line.variant.as_str())));
            }
        }
        let stored = engine.order(&first.id)?;
        assert_eq!(
            text(stored.channel.as_str()),
            text(orders[5].channel.as_str())
        );
        Ok(())
    }
}
