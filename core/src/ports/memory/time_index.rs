//! The memory store's orders in listing order: by placement time, then by id.
//!
//! A `BTreeSet<(DateTime<Utc>, OrderId)>` did this before. Orders mostly arrive in
//! time order, so nearly every insert went to the set's right edge, where each node on
//! the way down is searched to its end: about thirty comparisons of ids (`memcmp`) an
//! insert once two orders share a second, which a flash sale's do (14 % of a
//! `place_order`'s instructions), and leaves split at the middle, so about half full.
//! Here entries sit in sorted chunks of at most [`CHUNK`]: an insert after everything
//! held (the common case) compares once with the last entry and pushes; any other
//! finds its chunk and place by binary search and moves at most a chunk's entries. A
//! full chunk is split in two halves when an insert lands inside it; one filled by
//! appends is left full and a new one begun, so an index built in time order is dense.

use chrono::{DateTime, Utc};

use crate::ids::OrderId;

/// Entries per chunk at most (32 bytes each: 16 KB a chunk).
const CHUNK: usize = 512;

/// One entry: when the order was placed, and the order.
pub(super) type Entry = (DateTime<Utc>, OrderId);

/// Orders sorted by (placement time, id), as listings return them.
#[derive(Debug)]
pub(super) struct TimeIndex {
    /// Sorted, non-empty chunks; every entry of a chunk sorts before every entry of
    /// the next.
    chunks: Vec<Vec<Entry>>,
    /// Entries per chunk at most ([`CHUNK`]; smaller in tests, to split often).
    chunk: usize,
}

impl Default for TimeIndex {
    fn default() -> Self {
        TimeIndex::with_chunk(CHUNK)
    }
}

impl TimeIndex {
    /// An empty index whose chunks hold at most `chunk` entries (at least 2).
    fn with_chunk(chunk: usize) -> Self {
        TimeIndex {
            chunks: Vec::new(),
            chunk: chunk.max(2),
        }
    }

    /// Adds `entry`; `false` (and nothing changes) if it is already held.
    pub(super) fn insert(&mut self, entry: Entry) -> bool {
        let chunk = self.chunk;
        match self.chunks.last_mut() {
            Some(last) if last.last().is_some_and(|held| *held >= entry) => {
                self.insert_within(entry)
            }
            Some(last) if last.len() < chunk => {
                last.push(entry);
                true
            }
            _ => {
                let mut fresh = Vec::with_capacity(chunk);
                fresh.push(entry);
                self.chunks.push(fresh);
                true
            }
        }
    }

    /// Adds `entry`, which sorts before the last entry held.
    fn insert_within(&mut self, entry: Entry) -> bool {
        // The last chunk whose first entry is at or before `entry` (the first chunk
        // if every chunk starts after it).
        let at = self
            .chunks
            .partition_point(|c| c.first().is_some_and(|first| *first <= entry))
            .saturating_sub(1);
        let half = self.chunk / 2;
        let chunk_len = self.chunk;
        let Some(chunk) = self.chunks.get_mut(at) else {
            return false;
        };
        let Err(mut place) = chunk.binary_search(&entry) else {
            return false;
        };
        if chunk.len() < chunk_len {
            chunk.insert(place, entry);
            return true;
        }
        // Full: the upper half moves to a new chunk right after this one.
        let mut upper = Vec::with_capacity(chunk_len);
        upper.extend(chunk.drain(half..));
        if place > half {
            place -= half;
            upper.insert(place, entry);
        } else {
            chunk.insert(place, entry);
        }
        self.chunks.insert(at + 1, upper);
        true
    }

    /// Removes `entry`; `false` (and nothing changes) if it is not held. A chunk left
    /// empty goes, and one left small is merged into a neighbour they both fit half
    /// of a chunk: an index whose entries come and go (the orders in one status) keeps
    /// its chunks at least a quarter full on average, not a chunk's room each for a
    /// few orders left behind.
    pub(super) fn remove(&mut self, entry: &Entry) -> bool {
        let at = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|last| last < entry));
        let Some(chunk) = self.chunks.get_mut(at) else {
            return false;
        };
        let Ok(place) = chunk.binary_search(entry) else {
            return false;
        };
        chunk.remove(place);
        let len = chunk.len();
        if len == 0 {
            self.chunks.remove(at);
            return true;
        }
        let half = self.chunk / 2;
        // Merge with the next chunk, else the previous one, when both fit half a chunk.
        let pair = match (self.chunks.get(at + 1), at.checked_sub(1)) {
            (Some(next), _) if len + next.len() <= half => Some(at),
            (_, Some(before))
                if self
                    .chunks
                    .get(before)
                    .is_some_and(|b| b.len() + len <= half) =>
            {
                Some(before)
            }
            _ => None,
        };
        if let Some(first) = pair {
            if first + 1 < self.chunks.len() {
                let later = self.chunks.remove(first + 1);
                if let Some(kept) = self.chunks.get_mut(first) {
                    kept.extend(later);
                }
            }
        }
        true
    }

    /// Every entry from the first one `before` does not hold for, in order. `before`
    /// says whether an entry sorts before a start position, so it holds for a prefix
    /// of the index and for nothing after it.
    pub(super) fn past(&self, before: impl Fn(&Entry) -> bool) -> impl Iterator<Item = &Entry> {
        // Chunks whose last entry is before the start hold nothing to return.
        let at = self
            .chunks
            .partition_point(|c| c.last().is_some_and(&before));
        let rest = self.chunks.get(at..).unwrap_or_default();
        let (first, later) = match rest.split_first() {
            Some((first, later)) => {
                let skip = first.partition_point(&before);
                (first.get(skip..).unwrap_or_default(), later)
            }
            None => (&[][..], rest),
        };
        first.iter().chain(later.iter().flatten())
    }

    /// Every entry, in order.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.chunks.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn entry(second: u32, id: u32) -> Entry {
        let at = Utc
            .timestamp_opt(1_780_000_000 + i64::from(second), 0)
            .unwrap();
        (at, OrderId::parse(format!("order-{id:04}")).unwrap())
    }

    #[test]
    fn orders_placed_in_time_order_fill_their_chunks() {
        let mut index = TimeIndex::with_chunk(4);
        for i in 0..10 {
            assert!(index.insert(entry(i / 3, i)));
        }
        let lens: Vec<usize> = index.chunks.iter().map(Vec::len).collect();
        assert_eq!(lens, [4, 4, 2]);
        assert!(
            !index.insert(entry(1, 4)),
            "an entry held already is not added again"
        );
        assert_eq!(index.iter().count(), 10);
    }

    #[test]
    fn an_order_placed_earlier_than_the_last_goes_to_its_place() {
        let mut index = TimeIndex::with_chunk(4);
        for i in [10, 20, 30, 40, 50] {
            index.insert(entry(i, i));
        }
        // Inside the first, full chunk: it splits in two.
        index.insert(entry(25, 25));
        index.insert(entry(5, 5));
        let seconds: Vec<u32> = index
            .iter()
            .map(|(at, _)| (at.timestamp() - 1_780_000_000) as u32)
            .collect();
        assert_eq!(seconds, [5, 10, 20, 25, 30, 40, 50]);
        let lens: Vec<usize> = index.chunks.iter().map(Vec::len).collect();
        assert_eq!(lens, [4, 2, 1]);
    }

    #[test]
    fn a_listing_starts_at_its_first_entry_not_before_the_start() {
        let mut index = TimeIndex::with_chunk(3);
        for i in 0..12 {
            index.insert(entry(i, i));
        }
        let from = entry(7, 0).0;
        let ids: Vec<String> = index
            .past(|(at, _)| *at < from)
            .map(|(_, id)| id.to_string())
            .collect();
        assert_eq!(
            ids,
            [
                "order-0007",
                "order-0008",
                "order-0009",
                "order-0010",
                "order-0011"
            ]
        );
        assert_eq!(index.past(|_| true).count(), 0);
        assert_eq!(index.past(|_| false).count(), 12);
        assert_eq!(TimeIndex::default().past(|_| false).count(), 0);
    }

    proptest! {
        /// The index holds what a `BTreeSet` of the same entries holds, in the same
        /// order, and a walk from any start position returns the set's range from it:
        /// whatever order the entries came in, however many share a second.
        #[test]
        fn the_index_is_a_sorted_set(
            steps in proptest::collection::vec((0u32..40, 0u32..400, 0u8..3), 0..400),
            chunk in 2usize..9,
            start in (0u32..45, 0u32..410),
        ) {
            // A third of the steps remove: entries held and entries never added alike.
            let mut index = TimeIndex::with_chunk(chunk);
            let mut model = BTreeSet::new();
            for (second, id, op) in steps {
                let e = entry(second, id);
                if op == 0 {
                    prop_assert_eq!(index.remove(&e), model.remove(&e));
                } else {
                    prop_assert_eq!(index.insert(e.clone()), model.insert(e));
                }
                prop_assert!(index.chunks.iter().all(|c| !c.is_empty() && c.len() <= chunk));
                // No two neighbours that would fit half a chunk together stay apart.
                prop_assert!(index
                    .chunks
                    .windows(2)
                    .all(|w| w[0].len() + w[1].len() > chunk / 2 || chunk < 4));
            }
            prop_assert!(index.iter().eq(model.iter()));
            let start = entry(start.0, start.1);
            let from_index: Vec<&Entry> = index.past(|e| *e <= start).collect();
            let from_model: Vec<&Entry> = model
                .range((std::ops::Bound::Excluded(start), std::ops::Bound::Unbounded))
                .collect();
            prop_assert_eq!(from_index, from_model);
        }
    }
}
