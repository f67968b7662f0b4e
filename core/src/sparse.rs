//! [`Sparse`]: a part of an order that most orders leave empty (its payments before
//! checkout, its fulfilments before the warehouse, its returns, tags and notes, what a
//! rule set), held out of line so that an empty one costs one pointer.
//!
//! An in-memory store keeps every order it was given; a `Vec` costs 24 bytes and a
//! `BTreeSet` 24 even when empty, and an order has eight of them. Held as [`Sparse`],
//! the eight cost 64 bytes. What is set is shared between an order's copies (the
//! snapshot a write saves, the order it returns, the one a store hands out) and copied
//! only by the copy that changes it, so copying an order copies none of them.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that has a shared empty instance to read when nothing was set: the types a
/// [`Sparse`] can hold.
pub trait SparseValue: Default + Clone + 'static {
    /// The empty value every unset [`Sparse`] reads as.
    fn empty() -> &'static Self;
    /// Whether this value is the empty one (an empty collection, nothing set).
    fn is_empty(&self) -> bool;
    /// What the first change starts from: the empty value, by default. A list takes
    /// room for one element (most orders get one payment, one fulfilment, one note),
    /// where its first `push` would take room for four: a change is no longer followed
    /// by the copy that used to trim it, so the room is kept for the order's life.
    fn fresh() -> Self {
        Self::default()
    }
}

/// A value most owners leave empty, held behind a shared box that is only allocated
/// once something is put in it.
///
/// Reads go through `Deref` (the shared empty value when nothing was set), so
/// `order.payments.iter()`, `order.tags.contains(..)` and `order.payments.len()` read as
/// on the collection itself; the first change through `DerefMut` (`push`, `insert`,
/// `retain`, ...) gives it a box of its own. A copy shares the box (copy on write): the
/// copy that changes it first gets its own, so a change never shows in another copy.
/// Its JSON, its equality and its `Debug` are those of the value it holds: an unset one
/// equals (and serialises as) an empty one.
///
/// ```
/// use ordersmith::sparse::Sparse;
///
/// let mut notes: Sparse<Vec<String>> = Sparse::default();
/// assert!(notes.is_empty() && notes.iter().next().is_none());
/// assert_eq!(notes, Sparse::from(Vec::new()));
/// notes.push("gift wrap".to_string());
/// assert_eq!(notes.len(), 1);
/// let mut copy = notes.clone(); // shares the note, copies nothing
/// copy.push("fragile".to_string()); // the copy gets its own list
/// assert_eq!((notes.len(), copy.len()), (1, 2));
/// assert_eq!(serde_json::to_string(&notes)?, r#"["gift wrap"]"#);
/// let back: Sparse<Vec<String>> = serde_json::from_str(r#"["gift wrap"]"#)?;
/// assert_eq!(back, notes);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub struct Sparse<C: SparseValue>(Option<Arc<C>>);

impl<C: SparseValue> Sparse<C> {
    /// True when nothing is held, or what is held is empty.
    pub fn is_empty(&self) -> bool {
        self.0.as_deref().is_none_or(C::is_empty)
    }

    /// Whether it holds a box (false until the first change, and for a copy or a read of
    /// an empty value): what an unset one saves. Copies share theirs until one changes.
    pub fn is_boxed(&self) -> bool {
        self.0.is_some()
    }

    /// The value, to change in place, when it has a box; `None` (and no box made) when
    /// it was never set: for finding an element to change, which an unset value cannot
    /// hold.
    pub fn existing_mut(&mut self) -> Option<&mut C> {
        self.0.as_mut().map(Arc::make_mut)
    }

    /// The value itself, by value (an empty one when nothing was set).
    pub fn into_inner(self) -> C {
        self.0.map(Arc::unwrap_or_clone).unwrap_or_default()
    }
}

impl<C: SparseValue> Default for Sparse<C> {
    fn default() -> Self {
        Sparse(None)
    }
}

impl<C: SparseValue> Deref for Sparse<C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.0.as_deref().unwrap_or_else(|| C::empty())
    }
}

impl<C: SparseValue> DerefMut for Sparse<C> {
    fn deref_mut(&mut self) -> &mut C {
        Arc::make_mut(self.0.get_or_insert_with(|| Arc::new(C::fresh())))
    }
}

impl<C: SparseValue> From<C> for Sparse<C> {
    /// Holds `value`; an empty value takes no box.
    fn from(value: C) -> Self {
        if value.is_empty() {
            Sparse(None)
        } else {
            Sparse(Some(Arc::new(value)))
        }
    }
}

impl<C: SparseValue> Clone for Sparse<C> {
    /// A copy, sharing the box until one of them changes; one that was emptied again
    /// takes no box.
    fn clone(&self) -> Self {
        Sparse(self.0.as_ref().filter(|c| !c.is_empty()).cloned())
    }
}

impl<C: SparseValue + PartialEq> PartialEq for Sparse<C> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<C: SparseValue + Eq> Eq for Sparse<C> {}

impl<C: SparseValue + fmt::Debug> fmt::Debug for Sparse<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<C: SparseValue + Serialize> Serialize for Sparse<C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de, C: SparseValue + Deserialize<'de>> Deserialize<'de> for Sparse<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        C::deserialize(deserializer).map(Sparse::from)
    }
}

impl<C: SparseValue + IntoIterator> IntoIterator for Sparse<C> {
    type Item = C::Item;
    type IntoIter = C::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        self.into_inner().into_iter()
    }
}

impl<'a, C: SparseValue> IntoIterator for &'a Sparse<C>
where
    &'a C: IntoIterator,
{
    type Item = <&'a C as IntoIterator>::Item;
    type IntoIter = <&'a C as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (**self).into_iter()
    }
}

impl<'a, C: SparseValue> IntoIterator for &'a mut Sparse<C>
where
    &'a mut C: IntoIterator,
{
    type Item = <&'a mut C as IntoIterator>::Item;
    type IntoIter = <&'a mut C as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (**self).into_iter()
    }
}

/// `SparseValue` for `Vec<T>` and `BTreeSet<T>` of the given element types: each gets
/// its own static empty collection (a generic static does not exist in Rust).
macro_rules! sparse_collections {
    ($($collection:ident < $element:ty > = $fresh:expr),* $(,)?) => {
        $(
            impl SparseValue for $collection<$element> {
                fn empty() -> &'static Self {
                    static EMPTY: $collection<$element> = $collection::new();
                    &EMPTY
                }
                fn is_empty(&self) -> bool {
                    $collection::is_empty(self)
                }
                fn fresh() -> Self {
                    $fresh
                }
            }
        )*
    };
}

sparse_collections!(
    Vec<String> = Vec::with_capacity(1),
    BTreeSet<String> = BTreeSet::new(),
    Vec<crate::order::ShippingLine> = Vec::with_capacity(1),
    Vec<crate::fulfilment::FulfilmentOrder> = Vec::with_capacity(1),
    Vec<crate::notify::NotificationChannel> = Vec::with_capacity(1),
    Vec<crate::payment::Payment> = Vec::with_capacity(1),
    Vec<crate::returns::Rma> = Vec::with_capacity(1),
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_value_takes_one_word_and_no_box() {
        assert_eq!(std::mem::size_of::<Sparse<Vec<String>>>(), 8);
        let s: Sparse<BTreeSet<String>> = serde_json::from_str("[]").unwrap_or_default();
        assert!(!s.is_boxed());
        let mut t: Sparse<Vec<String>> = Sparse::default();
        t.push("x".to_string());
        t.clear();
        // Emptied again: equal to an unset one, and its copies take no box.
        assert_eq!(t, Sparse::default());
        assert!(!t.clone().is_boxed());
        assert_eq!(serde_json::to_string(&t).ok().as_deref(), Some("[]"));
    }

    // An order is copied for every snapshot a write saves and every order it returns:
    // its set parts are shared by the copies, and a change reaches only the copy made.
    #[test]
    fn copies_share_until_one_changes() {
        let notes: Sparse<Vec<String>> = Sparse::from(vec!["a".to_string()]);
        let mut copy = notes.clone();
        assert!(std::ptr::eq(&*notes, &*copy), "a copy shares what is set");
        copy.push("b".to_string());
        assert!(!std::ptr::eq(&*notes, &*copy));
        assert_eq!((notes.len(), copy.len()), (1, 2));
        let mut other = notes.clone();
        if let Some(list) = other.existing_mut() {
            list.clear();
        }
        assert_eq!(notes.as_slice(), ["a"]);
        assert!(other.is_empty() && !other.clone().is_boxed());
        // The last copy takes its value without copying it.
        let address = notes.as_ptr();
        drop(copy);
        drop(other);
        let taken = notes.into_inner();
        assert_eq!(taken.as_ptr(), address);
    }

    #[test]
    fn iterates_and_changes_as_the_collection() {
        let mut tags: Sparse<BTreeSet<String>> = Sparse::default();
        assert!(tags.insert("b".into()) && tags.insert("a".into()));
        let read: Vec<&String> = (&tags).into_iter().collect();
        assert_eq!(read, ["a", "b"]);
        let mut notes: Sparse<Vec<String>> = Sparse::from(vec!["x".to_string()]);
        for n in &mut notes {
            n.push('!');
        }
        assert_eq!(notes.into_inner(), ["x!"]);
    }
}
