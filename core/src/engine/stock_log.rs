//! The engine's copy of the stock ledger, and how it follows a stock log partitioned by
//! variant (ADR 0012, refining ADR 0004).
//!
//! - Every entry the engine writes gets a [`StockPlace`]: its variant's partition when
//!   the command changes one plain variant's stock or its reservations, else global
//!   ([`partition_of`]). A store that partitions checks only the partitions an append
//!   touches, so processes writing different variants do not wait for each other.
//! - Catching up applies an entry once what it depends on is applied (its partition's
//!   previous entry, and the global entries it was decided on), whatever order the store
//!   hands entries out in, and skips entries already applied (its own, read back).
//! - A write that fails after it changed the ledger is undone from a local checkpoint
//!   (a copy of the ledger plus the entries applied since), not by replaying the whole
//!   log from the store. The checkpoint is kept from the first such failure on, so an
//!   engine that never loses a race pays nothing for it.
//! - With a store that commits groups (ADR 0013), a write's change set is submitted
//!   under the writer and decided after the writer is released. Until it is decided it
//!   is *in flight*: its entries are in the ledger and its places in the heads, later
//!   writes are decided on top of it and submitted after it (the store refuses them if
//!   it is refused), and the ledger is not caught up from the store (the positions its
//!   in-flight writes claim are not saved yet). The first refusal restores the heads from
//!   what each in-flight write recorded and the ledger from the checkpoint, so memory is
//!   back at what was saved before anything else is decided.

use std::collections::VecDeque;

use crate::stock::FastMap;

use crate::ids::VariantId;
use crate::ports::{CommitTicket, StockCursor, StockPlace, StockSink, Store, StoreError};
use crate::stock::{KeyNumbering, StockCommand, StockLedger, StockLogEntry};

/// Which partition `command` belongs to on `ledger` as it stands before the command
/// runs: `Some(variant)` when it changes only that plain variant's state: its stock,
/// its settings, and reservations of it, an order's or one made by hand, with their
/// commits, releases and expiry changes (a reservation id belongs to one partition for
/// good: an order's is unique to the order's version, and a store that partitions
/// claims a hand-made one's for its variant in the commit that makes it, so two
/// partitions never make the same id); `None` (global) for anything that may touch
/// more: locations, variant registration (a global count), bundles and their
/// reservations (their components), transfers and counts (ids shared by every
/// variant), expiry sweeps and channels.
pub(crate) fn partition_of(ledger: &StockLedger, command: &StockCommand) -> Option<VariantId> {
    use StockCommand as C;
    let plain = |v: &VariantId| ledger.bundle(v).is_none().then(|| v.clone());
    match command {
        C::SetPolicy { variant, .. }
        | C::SetSafetyStock { variant, .. }
        | C::SetLowStockThreshold { variant, .. }
        | C::ExpectIncoming { variant, .. }
        | C::CancelIncoming { variant, .. }
        | C::Receive { variant, .. }
        | C::Adjust { variant, .. }
        | C::RestockReturn { variant, .. }
        | C::Quarantine { variant, .. }
        | C::ReleaseQuarantine { variant, .. }
        | C::WriteOff { variant, .. } => plain(variant),
        C::Reserve { request } => plain(&request.variant),
        C::Commit { reservation }
        | C::CommitPartial { reservation, .. }
        | C::Release { reservation }
        | C::ReleasePartial { reservation, .. }
        | C::SetReservationExpiry { reservation, .. } => ledger
            .plain_reservation_variant(reservation)
            .and_then(plain),
        C::AddLocation { .. }
        | C::RegisterVariant { .. }
        | C::DefineBundle { .. }
        | C::Transfer { .. }
        | C::ReceiveTransfer { .. }
        | C::Expire
        | C::OpenCount { .. }
        | C::RecordCount { .. }
        | C::CloseCount { .. }
        | C::SetChannelRule { .. }
        | C::MarkPushed { .. } => None,
    }
}

/// How far the ledger has followed each partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Heads {
    /// Entries applied, every partition.
    pub(crate) applied: u64,
    /// Global entries applied.
    pub(crate) global: u64,
    /// Entries applied per variant partition.
    pub(crate) variants: FastMap<VariantId, u64>,
}

impl Heads {
    fn variant(&self, v: &VariantId) -> u64 {
        self.variants.get(v).copied().unwrap_or(0)
    }

    /// True when `place` was applied already.
    fn has(&self, place: &StockPlace) -> bool {
        match &place.partition {
            None => place.seq <= self.global,
            Some(v) => place.seq <= self.variant(v),
        }
    }

    /// True when everything `place` depends on is applied and it is next.
    fn ready(&self, place: &StockPlace) -> bool {
        match &place.partition {
            None => place.seq == self.global + 1 && place.basis == self.applied,
            Some(v) => place.seq == self.variant(v) + 1 && place.basis == self.global,
        }
    }

    /// The place of the next entry in `partition`.
    fn next(&self, partition: Option<VariantId>) -> StockPlace {
        match partition {
            None => StockPlace {
                partition: None,
                seq: self.global + 1,
                basis: self.applied,
            },
            Some(v) => StockPlace {
                seq: self.variant(&v) + 1,
                basis: self.global,
                partition: Some(v),
            },
        }
    }

    /// Records `place` as applied.
    fn advance(&mut self, place: StockPlace) {
        self.applied += 1;
        match place.partition {
            None => self.global = place.seq,
            Some(v) => {
                self.variants.insert(v, place.seq);
            }
        }
    }
}

/// Places for the entries of one write, on top of the heads it started from.
#[derive(Debug, Default)]
pub(crate) struct WritePlaces {
    /// The heads after the write: the count and global head, and the partitions it
    /// touched.
    pub(crate) heads: WriteHeads,
    /// One per entry of the write.
    pub(crate) places: Vec<StockPlace>,
}

/// The heads after one write: like [`Heads`], with only the partitions the write
/// touched and their heads, numbered in a [`KeyNumbering`] (an order's write touches a
/// few variants: a map per write cost an allocation and a hash for each entry).
#[derive(Debug, Default)]
pub(crate) struct WriteHeads {
    pub(crate) applied: u64,
    pub(crate) global: u64,
    partitions: KeyNumbering<VariantId, u64>,
}

impl WriteHeads {
    /// The partitions the write touched with their heads after it.
    pub(crate) fn variants(&self) -> impl Iterator<Item = (&VariantId, u64)> {
        self.partitions.entries().iter().map(|(v, seq)| (v, *seq))
    }
}

impl WritePlaces {
    /// Places for a write starting at `heads`. Only the partitions the write touches
    /// are copied (on first touch).
    pub(crate) fn new(heads: &Heads) -> Self {
        WritePlaces {
            heads: WriteHeads {
                applied: heads.applied,
                global: heads.global,
                ..WriteHeads::default()
            },
            places: Vec::new(),
        }
    }

    /// Assigns the next place in `partition`, given the heads the write started from.
    pub(crate) fn assign(&mut self, start: &Heads, partition: Option<VariantId>) {
        let heads = &mut self.heads;
        let place = match partition {
            None => StockPlace {
                partition: None,
                seq: heads.global + 1,
                basis: heads.applied,
            },
            Some(v) => {
                let at = heads.partitions.number(&v, || start.variant(&v));
                let Some(seq) = heads.partitions.value_mut(at) else {
                    return;
                };
                *seq += 1;
                StockPlace {
                    seq: *seq,
                    basis: heads.global,
                    partition: Some(v),
                }
            }
        };
        heads.applied += 1;
        if place.partition.is_none() {
            heads.global = place.seq;
        }
        self.places.push(place);
    }
}

/// The heads before an in-flight write, for the partitions it moved.
#[derive(Debug)]
struct HeadsUndo {
    applied: u64,
    global: u64,
    variants: Vec<(VariantId, u64)>,
}

/// A write whose change set was submitted and may not be decided yet (ADR 0013).
#[derive(Debug)]
struct Inflight {
    ticket: CommitTicket,
    /// Its entries, for the checkpoint (empty while no checkpoint is kept).
    kept: Vec<StockLogEntry>,
    undo: HeadsUndo,
}

/// A copy of the ledger and the entries applied since, to undo a failed write.
#[derive(Debug)]
struct Checkpoint {
    ledger: StockLedger,
    since: Vec<StockLogEntry>,
}

/// Entries applied since the checkpoint before it is renewed (or a quarter of the
/// journal, whichever is more, so renewing costs O(1) per entry on average).
const CHECKPOINT_EVERY: usize = 1024;

/// The engine's copy of the ledger and its place in the store's stock log.
#[derive(Debug, Default)]
pub(crate) struct StockState {
    pub(crate) ledger: StockLedger,
    pub(crate) heads: Heads,
    /// The store's watermark from the last read.
    watermark: u64,
    /// Entries read before what they depend on (kept until it arrives).
    pending: Vec<(StockLogEntry, StockPlace)>,
    checkpoint: Option<Checkpoint>,
    /// Submitted writes that moved the ledger, oldest first, not yet known to be saved.
    inflight: VecDeque<Inflight>,
    /// The last read of the store's log found nothing the ledger did not have (and
    /// nothing since has made the ledger differ from what was saved): the next write
    /// may defer its read until it touches the ledger (`Tx::ledger`).
    quiet: bool,
    /// Writes saved since the last read without reading first, their decisions checked
    /// by the store's commit (`Store::checks_stock_at_commit`): at [`UNREAD_WRITES`]
    /// the next write reads again.
    unread: u32,
}

/// Writes an engine saves unread, its decisions checked by the commit, before its next
/// write reads the log again: bounds what that read brings back (the engine's own
/// entries are among it, since the watermark moves only when the log is read). Reads
/// outside writes (levels, reservations, previews) always read first.
pub(crate) const UNREAD_WRITES: u32 = 32;

impl StockState {
    /// Applies entries written since the ledger's last read (by this engine before a
    /// restart, or by other engines sharing the store).
    /// Returns whether it found anything the ledger did not have.
    pub(crate) fn catch_up(&mut self, store: &dyn Store) -> Result<bool, StoreError> {
        self.catch_up_with(|cursor, sink| store.stock_log_read(cursor, sink))
    }

    /// [`StockState::catch_up`] through `read`, a read of the store's log at the cursor
    /// it is given into the sink it is given, returning the next watermark (a read made
    /// together with something else, as an order loaded in the same request).
    pub(crate) fn catch_up_with(
        &mut self,
        read: impl FnOnce(StockCursor, &mut StockSink<'_>) -> Result<u64, StoreError>,
    ) -> Result<bool, StoreError> {
        let applied = self.heads.applied;
        // Not quiet until this read is known to have found nothing (an error leaves it so).
        self.quiet = false;
        let cursor = StockCursor {
            applied: self.heads.applied,
            watermark: self.watermark,
        };
        let mut accept =
            |entry: StockLogEntry, place: Option<StockPlace>| self.accept(entry, place);
        let watermark = read(cursor, &mut accept)?;
        self.watermark = watermark;
        self.unread = 0;
        self.drain_pending();
        let news = self.heads.applied != applied || !self.pending.is_empty();
        self.quiet = !news;
        Ok(news)
    }

    /// Whether a write may defer its read of the store's log (see the field).
    pub(crate) fn quiet(&self) -> bool {
        self.quiet
    }

    /// Whether a write checked by its commit may skip its read altogether: the last
    /// read found nothing new and fewer than [`UNREAD_WRITES`] writes were saved unread
    /// since.
    pub(crate) fn may_skip_read(&self) -> bool {
        self.quiet && self.unread < UNREAD_WRITES
    }

    /// A write that skipped its read was saved.
    pub(crate) fn saved_unread(&mut self) {
        self.unread += 1;
    }

    /// The next write reads first: one that skipped its read was not saved.
    pub(crate) fn read_next(&mut self) {
        self.quiet = false;
    }

    fn accept(
        &mut self,
        entry: StockLogEntry,
        place: Option<StockPlace>,
    ) -> Result<(), StoreError> {
        let place = match place {
            Some(place) => place,
            None => {
                // The store's one log order: the entry is next, its place follows.
                if entry.seq != self.heads.applied + 1 {
                    return Err(StoreError::Corrupt {
                        reason: format!(
                            "stock log jumps from {} to {}",
                            self.heads.applied, entry.seq
                        ),
                    });
                }
                self.heads.next(partition_of(&self.ledger, &entry.command))
            }
        };
        if self.heads.has(&place) {
            return Ok(());
        }
        if self.heads.ready(&place) {
            self.apply(entry, place);
        } else {
            self.pending.push((entry, place));
        }
        Ok(())
    }

    /// Applies pending entries whose dependencies arrived, until none is ready.
    fn drain_pending(&mut self) {
        loop {
            let before = self.pending.len();
            let pending = std::mem::take(&mut self.pending);
            for (entry, place) in pending {
                if self.heads.has(&place) {
                    continue;
                }
                if self.heads.ready(&place) {
                    self.apply(entry, place);
                } else {
                    self.pending.push((entry, place));
                }
            }
            if self.pending.is_empty() || self.pending.len() == before {
                return;
            }
        }
    }

    fn apply(&mut self, entry: StockLogEntry, place: StockPlace) {
        // Entries in the log succeeded when they were written; replaying them in an
        // order that respects their places is deterministic per variant, so an error
        // here cannot happen with the same rules.
        let _ = self.ledger.execute(&entry.command, entry.at);
        self.heads.advance(place);
        self.remember(entry);
    }

    /// A copy of a write's entries when a checkpoint is kept (they must be replayable
    /// on it), else nothing: the common case copies nothing.
    pub(crate) fn kept(&self, entries: &[StockLogEntry]) -> Vec<StockLogEntry> {
        match self.checkpoint {
            Some(_) => entries.to_vec(),
            None => Vec::new(),
        }
    }

    /// Records this engine's own saved write, whose entries are already in the ledger:
    /// the heads after it ([`WritePlaces::heads`]), and `kept` ([`StockState::kept`])
    /// for the checkpoint. For a change set the store decided while it was handed over,
    /// with nothing in flight.
    pub(crate) fn committed(&mut self, kept: Vec<StockLogEntry>, after: WriteHeads) {
        self.heads.applied = after.applied;
        self.heads.global = after.global;
        self.heads
            .variants
            .extend(after.variants().map(|(v, seq)| (v.clone(), seq)));
        for entry in kept {
            self.remember(entry);
        }
    }

    /// Records this engine's own write, whose entries are already in the ledger, as
    /// handed to the store with `ticket` and not known to be decided: the heads move to
    /// `after` at once (the next write's places follow it), and the write stays in
    /// flight until [`StockState::settle`] sees its ticket decided. `kept` is
    /// [`StockState::kept`]'s copy for the checkpoint.
    pub(crate) fn submitted(
        &mut self,
        ticket: CommitTicket,
        kept: Vec<StockLogEntry>,
        after: WriteHeads,
    ) {
        let undo = HeadsUndo {
            applied: self.heads.applied,
            global: self.heads.global,
            variants: after
                .variants()
                .map(|(v, _)| (v.clone(), self.heads.variant(v)))
                .collect(),
        };
        self.heads.applied = after.applied;
        self.heads.global = after.global;
        self.heads
            .variants
            .extend(after.variants().map(|(v, seq)| (v.clone(), seq)));
        self.inflight.push_back(Inflight { ticket, kept, undo });
    }

    /// The newest in-flight write's ticket: a change set decided now is submitted after
    /// it, so the store refuses it if that one is refused.
    pub(crate) fn tail(&self) -> Option<&CommitTicket> {
        self.inflight.back().map(|f| &f.ticket)
    }

    /// True while a submitted write that moved the ledger is not known to be saved: the
    /// ledger is ahead of the store and must not be caught up from it.
    pub(crate) fn in_flight(&self) -> bool {
        !self.inflight.is_empty()
    }

    /// Takes the decided in-flight writes, oldest first: a saved one is done with; at
    /// the first refused one, every write after it is refused too (each was submitted
    /// after its predecessor), so the heads and the ledger are restored to what was
    /// saved. With `wait`, waits for every in-flight write to be decided; without,
    /// stops at the first undecided one. Returns `false` when it restored.
    pub(crate) fn settle(&mut self, store: &dyn Store, wait: bool) -> Result<bool, StoreError> {
        while let Some(front) = self.inflight.front() {
            let outcome = if wait {
                Some(store.wait(&front.ticket))
            } else {
                front.ticket.outcome()
            };
            match outcome {
                None => break,
                Some(Ok(())) => {
                    if let Some(saved) = self.inflight.pop_front() {
                        for entry in saved.kept {
                            self.remember(entry);
                        }
                    }
                }
                Some(Err(_)) => {
                    self.restore(store)?;
                    return Ok(false);
                }
            }
        }
        if self.inflight.is_empty() {
            self.renew_if_due();
        }
        Ok(true)
    }

    /// Undoes every in-flight write (the oldest was refused, so all were): heads from
    /// what each recorded, newest first, then the ledger from the checkpoint.
    fn restore(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        while let Some(refused) = self.inflight.pop_back() {
            let undo = refused.undo;
            self.heads.applied = undo.applied;
            self.heads.global = undo.global;
            for (variant, seq) in undo.variants {
                self.heads.variants.insert(variant, seq);
            }
        }
        self.undo(store)
    }

    fn remember(&mut self, entry: StockLogEntry) {
        let Some(checkpoint) = &mut self.checkpoint else {
            return;
        };
        checkpoint.since.push(entry);
        if self.inflight.is_empty() {
            self.renew_if_due();
        }
    }

    /// True when the checkpoint's entries have grown to twice what renews it: a caller
    /// that keeps writes in flight back to back (a pipelined batch call) lets them all
    /// be decided, so the checkpoint can be renewed before it grows further.
    pub(crate) fn checkpoint_overdue(&self) -> bool {
        self.checkpoint.as_ref().is_some_and(|checkpoint| {
            checkpoint.since.len() >= 2 * CHECKPOINT_EVERY.max(self.ledger.journal_len() / 4)
        })
    }

    /// Renews the checkpoint from the ledger when enough entries were applied since.
    /// Only while nothing is in flight: the ledger then holds exactly what was saved.
    fn renew_if_due(&mut self) {
        let due = CHECKPOINT_EVERY.max(self.ledger.journal_len() / 4);
        if let Some(checkpoint) = &mut self.checkpoint {
            if checkpoint.since.len() >= due {
                checkpoint.ledger = self.ledger.clone();
                checkpoint.since.clear();
            }
        }
    }

    /// Undoes the ledger changes of a write that was not saved. From the checkpoint when
    /// there is one; else by replaying the whole log from the store once, after which a
    /// checkpoint is kept. Nothing may be in flight ([`StockState::settle`] with `wait`
    /// first): the checkpoint holds only what is known to be saved.
    pub(crate) fn undo(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        // A write is undone when it failed or lost a race: the next one reads first.
        self.quiet = false;
        if let Some(checkpoint) = &mut self.checkpoint {
            // The entries since the checkpoint are saved: they move into it, so a run of
            // lost races (writers of one hot variant) replays each of them once, not on
            // every undo until the checkpoint is next renewed.
            for entry in checkpoint.since.drain(..) {
                let _ = checkpoint.ledger.execute(&entry.command, entry.at);
            }
            self.ledger = checkpoint.ledger.clone();
            return Ok(());
        }
        *self = StockState::default();
        self.catch_up(store)?;
        self.checkpoint = Some(Checkpoint {
            ledger: self.ledger.clone(),
            since: Vec::new(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn v(s: &str) -> VariantId {
        VariantId::parse(s).unwrap()
    }

    /// A commit's or release's partition, read from the reservation without its view,
    /// is what the view says: the variant of a plain reservation, an order's or one
    /// made by hand, global for a bundle's or an id the ledger does not know; and a
    /// reservation is made in the partition its commits and releases take.
    #[test]
    fn a_reservations_partition_is_what_its_view_says() {
        use crate::ids::{LocationId, OrderId, ReservationId};
        use crate::stock::{BundleComponent, Location, LocationKind, ReserveRequest, StockPolicy};
        let now = chrono::DateTime::UNIX_EPOCH;
        let ist = LocationId::parse("IST").unwrap();
        let order = OrderId::parse("O-1").unwrap();
        let mut ledger = StockLedger::new();
        let mut setup = vec![StockCommand::AddLocation {
            location: Location::new(ist.clone(), "DC", 1, "TR-34", LocationKind::Warehouse),
        }];
        for variant in ["MUG", "CUP"] {
            setup.push(StockCommand::RegisterVariant {
                variant: v(variant),
                policy: StockPolicy::Deny,
            });
            setup.push(StockCommand::Receive {
                variant: v(variant),
                location: ist.clone(),
                quantity: 10,
                reference: None,
            });
        }
        setup.push(StockCommand::DefineBundle {
            bundle: v("SET"),
            components: vec![
                BundleComponent {
                    variant: v("MUG"),
                    quantity: 1,
                },
                BundleComponent {
                    variant: v("CUP"),
                    quantity: 1,
                },
            ],
        });
        let request = |id: &str, variant: &str| {
            ReserveRequest::new(
                ReservationId::parse(id).unwrap(),
                v(variant),
                ist.clone(),
                1,
            )
        };
        for request in [
            request("ordered", "MUG").for_order(order.clone()),
            request("by-hand", "CUP"),
            request("bundle", "SET").for_order(order.clone()),
        ] {
            setup.push(StockCommand::Reserve { request });
        }
        for command in &setup {
            ledger.execute(command, now).unwrap();
        }
        let plain = |variant: &VariantId| ledger.bundle(variant).is_none().then(|| variant.clone());
        for id in ["ordered", "by-hand", "bundle", "unknown"] {
            let reservation = ReservationId::parse(id).unwrap();
            let from_view = ledger
                .reservation(&reservation)
                .filter(|r| r.components.is_empty())
                .and_then(|r| plain(&r.variant));
            for command in [
                StockCommand::Commit {
                    reservation: reservation.clone(),
                },
                StockCommand::CommitPartial {
                    reservation: reservation.clone(),
                    quantity: 1,
                },
                StockCommand::Release {
                    reservation: reservation.clone(),
                },
                StockCommand::ReleasePartial {
                    reservation: reservation.clone(),
                    quantity: 1,
                },
            ] {
                assert_eq!(partition_of(&ledger, &command), from_view, "{id}");
            }
        }
        assert_eq!(
            partition_of(
                &ledger,
                &StockCommand::Commit {
                    reservation: ReservationId::parse("ordered").unwrap()
                }
            ),
            Some(v("MUG"))
        );
        for (request, partition) in [
            (request("by-hand-2", "CUP"), Some(v("CUP"))),
            (
                request("ordered-2", "MUG").for_order(order.clone()),
                Some(v("MUG")),
            ),
            (request("bundle-2", "SET"), None),
        ] {
            assert_eq!(
                partition_of(&ledger, &StockCommand::Reserve { request }),
                partition
            );
        }
        assert_eq!(
            partition_of(
                &ledger,
                &StockCommand::Release {
                    reservation: ReservationId::parse("by-hand").unwrap()
                }
            ),
            Some(v("CUP"))
        );
    }

    #[test]
    fn places_follow_partitions_and_the_global_count() {
        let start = Heads::default();
        let mut w = WritePlaces::new(&start);
        w.assign(&start, None);
        w.assign(&start, Some(v("A")));
        w.assign(&start, Some(v("A")));
        w.assign(&start, Some(v("B")));
        w.assign(&start, None);
        let seqs: Vec<(Option<&str>, u64, u64)> = w
            .places
            .iter()
            .map(|p| (p.partition.as_ref().map(VariantId::as_str), p.seq, p.basis))
            .collect();
        assert_eq!(
            seqs,
            vec![
                (None, 1, 0),
                (Some("A"), 1, 1),
                (Some("A"), 2, 1),
                (Some("B"), 1, 1),
                (None, 2, 4)
            ]
        );
    }

    proptest::proptest! {
        // A write's places, kept in a short vector (and an index past 16 partitions),
        // are those of the heads' own rules: the write's partitions start from the
        // heads it began at, and every entry advances its partition and the count.
        #[test]
        fn a_writes_places_follow_the_heads_rules(
            touched in proptest::collection::vec(proptest::option::of(0usize..40), 0..80),
            began in proptest::collection::vec(0u64..5, 40),
        ) {
            let mut start = Heads { applied: 7, global: 3, variants: FastMap::default() };
            for (i, seq) in began.iter().enumerate() {
                if *seq > 0 {
                    start.variants.insert(v(&format!("V{i}")), *seq);
                }
            }
            let mut w = WritePlaces::new(&start);
            let mut model = Heads {
                applied: start.applied,
                global: start.global,
                variants: FastMap::default(),
            };
            let mut want = Vec::new();
            for t in &touched {
                let partition = t.map(|i| v(&format!("V{i}")));
                if let Some(p) = &partition {
                    if !model.variants.contains_key(p) {
                        model.variants.insert(p.clone(), start.variant(p));
                    }
                }
                let place = model.next(partition.clone());
                model.advance(place.clone());
                want.push(place);
                w.assign(&start, partition);
            }
            proptest::prop_assert_eq!(&w.places, &want);
            proptest::prop_assert_eq!(
                (w.heads.applied, w.heads.global),
                (model.applied, model.global)
            );
            let after: FastMap<VariantId, u64> =
                w.heads.variants().map(|(v, seq)| (v.clone(), seq)).collect();
            proptest::prop_assert_eq!(after, model.variants);
        }
    }

    #[test]
    fn an_entry_waits_for_what_it_depends_on_and_duplicates_are_skipped() {
        let start = Heads::default();
        let mut w = WritePlaces::new(&start);
        w.assign(&start, None);
        w.assign(&start, Some(v("A")));
        w.assign(&start, Some(v("A")));
        let (g, a1, a2) = (
            w.places[0].clone(),
            w.places[1].clone(),
            w.places[2].clone(),
        );
        let mut heads = Heads::default();
        assert!(!heads.ready(&a2) && !heads.ready(&a1) && heads.ready(&g));
        heads.advance(g.clone());
        assert!(heads.ready(&a1) && !heads.ready(&a2) && heads.has(&g));
        heads.advance(a1.clone());
        assert!(heads.ready(&a2) && heads.has(&a1));
        // A global entry decided on fewer entries than were applied is not next.
        let late = StockPlace {
            partition: None,
            seq: 2,
            basis: 1,
        };
        assert!(!heads.ready(&late));
    }
}
