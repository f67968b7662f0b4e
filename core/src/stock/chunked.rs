//! A list the ledger only appends to, whose copies share what they have in common.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Elements per sealed chunk. A copy shares every sealed chunk and copies the open
/// tail (fewer than this many elements); the first change to an element of a shared
/// chunk copies that chunk alone.
const CHUNK: usize = 1024;

/// One of the ledger's histories (its journal, every reservation ever made, what they
/// name): full chunks of [`CHUNK`] elements sealed behind `Arc`s, and an open tail.
///
/// Copying the ledger is what the engine's checkpoint and every undo of a lost race do
/// (ADR 0012); with these histories as plain vectors a copy cost a pass over all of
/// them, a heap allocation per reservation id, order id and reference text, and grew
/// with every order ever reserved. A copy now costs a pointer per sealed chunk and the
/// tail, and the copies share the memory of the chunks they have in common. Copies
/// never see each other's writes: a change to an element of a shared chunk copies the
/// chunk first (`Arc::make_mut`). Appends go to the tail, a plain vector, so the write
/// path pays no atomic operation for them.
#[derive(Clone)]
pub(crate) struct Chunked<T> {
    sealed: Vec<Arc<Vec<T>>>,
    tail: Vec<T>,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            sealed: Vec::new(),
            tail: Vec::new(),
        }
    }
}

impl<T: Clone> Chunked<T> {
    /// Elements held.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.sealed.len() * CHUNK + self.tail.len()
    }

    /// The element at `index`.
    #[inline]
    pub(super) fn get(&self, index: usize) -> Option<&T> {
        match self.sealed.get(index / CHUNK) {
            Some(chunk) => chunk.get(index % CHUNK),
            None => self.tail.get(index.checked_sub(self.sealed.len() * CHUNK)?),
        }
    }

    /// The element at `index`, to change (a sealed chunk is copied first when shared).
    #[inline]
    pub(super) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        let sealed = self.sealed.len() * CHUNK;
        match self.sealed.get_mut(index / CHUNK) {
            Some(chunk) => Arc::make_mut(chunk).get_mut(index % CHUNK),
            None => self.tail.get_mut(index.checked_sub(sealed)?),
        }
    }

    /// Appends `value`; a full tail is sealed.
    #[inline]
    pub(crate) fn push(&mut self, value: T) {
        self.tail.push(value);
        if self.tail.len() >= CHUNK {
            self.seal();
        }
    }

    /// Seals the full tail and opens a new one.
    #[cold]
    fn seal(&mut self) {
        let full = std::mem::replace(&mut self.tail, Vec::with_capacity(CHUNK));
        self.sealed.push(Arc::new(full));
    }

    /// The elements from `start` on, oldest first: the chunks before it are stepped
    /// over, not walked.
    pub(crate) fn iter_from(&self, start: usize) -> impl Iterator<Item = &T> + '_ {
        let first = (start / CHUNK).min(self.sealed.len());
        let in_sealed = self
            .sealed
            .get(first..)
            .unwrap_or_default()
            .iter()
            .flat_map(|chunk| chunk.iter());
        let skip = start.saturating_sub(first * CHUNK);
        in_sealed.chain(self.tail.iter()).skip(skip)
    }

    /// Every element, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.sealed
            .iter()
            .flat_map(|chunk| chunk.iter())
            .chain(self.tail.iter())
    }
}

impl<T: Clone> FromIterator<T> for Chunked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut list = Chunked::default();
        for item in items {
            list.push(item);
        }
        list
    }
}

impl<T: Clone> From<Vec<T>> for Chunked<T> {
    fn from(items: Vec<T>) -> Self {
        items.into_iter().collect()
    }
}

impl<T: Clone + PartialEq> PartialEq for Chunked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Clone + std::fmt::Debug> std::fmt::Debug for Chunked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Written as the plain list it replaces, so a saved ledger reads either way.
impl<T: Clone + Serialize> Serialize for Chunked<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de, T: Clone + Deserialize<'de>> Deserialize<'de> for Chunked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(deserializer).map(Chunked::from)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Push(u32),
        Set(usize, u32),
        Copy,
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            prop_oneof![
                8 => any::<u32>().prop_map(Op::Push),
                3 => (any::<usize>(), any::<u32>()).prop_map(|(i, v)| Op::Set(i, v)),
                1 => Just(Op::Copy),
            ],
            0..3000,
        )
    }

    proptest! {
        /// A chunked list behaves as a `Vec` under appends and changes, and a copy
        /// taken at any point keeps exactly what it held then, whatever the original
        /// does after (and the original is not changed by what the copy does).
        #[test]
        fn behaves_as_a_vec_and_copies_are_independent(ops in ops()) {
            let (mut list, mut model) = (Chunked::<u32>::default(), Vec::<u32>::new());
            let mut copies: Vec<(Chunked<u32>, Vec<u32>)> = Vec::new();
            for op in ops {
                match op {
                    Op::Push(v) => {
                        list.push(v);
                        model.push(v);
                    }
                    Op::Set(i, v) if !model.is_empty() => {
                        let i = i % model.len();
                        *list.get_mut(i).unwrap() = v;
                        model[i] = v;
                    }
                    Op::Set(..) => prop_assert!(list.get_mut(0).is_none()),
                    Op::Copy => {
                        // The copy moves on too, so both directions are exercised.
                        let mut copy = list.clone();
                        copy.push(7);
                        let mut copied = model.clone();
                        copied.push(7);
                        copies.push((copy, copied));
                    }
                }
                prop_assert_eq!(list.len(), model.len());
            }
            prop_assert_eq!(list.iter().copied().collect::<Vec<_>>(), model.clone());
            prop_assert_eq!(list.get(model.len()), None);
            for (i, v) in model.iter().enumerate() {
                prop_assert_eq!(list.get(i), Some(v));
            }
            for (copy, copied) in &copies {
                prop_assert_eq!(copy.iter().copied().collect::<Vec<_>>(), copied.clone());
            }
            let json = serde_json::to_string(&list).unwrap();
            prop_assert_eq!(&json, &serde_json::to_string(&model).unwrap());
            prop_assert_eq!(serde_json::from_str::<Chunked<u32>>(&json).unwrap(), list);
        }

        /// Reading from a position gives what skipping to it gives, in a sealed chunk,
        /// at a chunk's edge, in the tail and past the end.
        #[test]
        fn iter_from_is_skip(len in 0usize..(3 * CHUNK + 5), start in 0usize..(4 * CHUNK)) {
            let list: Chunked<usize> = (0..len).collect();
            let from: Vec<usize> = list.iter_from(start).copied().collect();
            let skipped: Vec<usize> = list.iter().skip(start).copied().collect();
            prop_assert_eq!(from, skipped);
        }
    }

    #[test]
    fn iter_from_at_chunk_edges() {
        let list: Chunked<usize> = (0..2 * CHUNK + 3).collect();
        for start in [
            0,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            2 * CHUNK,
            2 * CHUNK + 3,
            5 * CHUNK,
        ] {
            let from: Vec<usize> = list.iter_from(start).copied().collect();
            assert_eq!(from, (start..2 * CHUNK + 3).collect::<Vec<_>>(), "{start}");
        }
    }
}
