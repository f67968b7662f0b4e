//! Gathering a group while it is applied (ADR 0013, refinements of 2026-12-04).
//!
//! With `W` threads each writing one change set at a time, a group commit left alone
//! settles into two halves: while one group syncs, the threads of the group before it
//! are still being woken and deciding their next write, so the next leader starts with
//! only the other half queued, and every sync carries about `W / 2` change sets (4.2
//! with 8 writers, `examples/writers`). A leader therefore lets the writers of the last
//! group catch up: change sets queued while it applies its group join the transaction,
//! and once it has applied everything it took it waits, still inside the transaction,
//! for the last group's writers that have not queued again, at most half the last
//! sync (never more than [`MAX_WAIT`]). This is PostgreSQL's `commit_delay` and MySQL's
//! `binlog_group_commit_sync_delay`, except that it waits only for writers it has
//! reason to expect, applies their change sets as they come, and sizes itself by the
//! sync it shares.
//!
//! - A lone writer never waits: the last group's only writer is the leader itself.
//! - A writer that has gone (its call returned, a thread pool handed the next request
//!   to another thread) is waited for once, up to the limit; a wait that none of the
//!   awaited writers answered turns gathering off for the next [`PAUSE_AFTER_VAIN`]
//!   groups, so calls one at a time from changing threads pay it once in that many.
//!   A busy pool (Node's libuv threads, a server's blocking pool) behaves like
//!   dedicated writers: each thread takes the next request as soon as it is free, so
//!   the last group's threads are the ones that come back.
//! - Writers are known by thread, not counted: a leader that only expected as many
//!   change sets as the last group carried would never leave the two halves (each
//!   half is as large as the one before it).
//! - The wait holds SQLite's write lock (the transaction is open) but not the queue's
//!   lock: writers queue and pack their change sets meanwhile, and another process's
//!   writer waits at most the limit longer.

use std::thread::ThreadId;
use std::time::Duration;

/// The longest a leader waits for the last group's writers, whatever its commit took.
pub(crate) const MAX_WAIT: Duration = Duration::from_millis(1);

/// The wait is at most the last group's sync divided by this.
const COMMIT_SHARE: u32 = 2;

/// Groups committed without gathering after a wait that no awaited writer answered.
pub(crate) const PAUSE_AFTER_VAIN: u32 = 16;

/// Counts of what gathering did, for tests and for reading a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GatherCounts {
    /// Leaders that waited for someone.
    pub(crate) waits: u64,
    /// Waits that ended with none of the awaited writers arrived.
    pub(crate) vain: u64,
    /// Awaited writers that arrived in time to join the group.
    pub(crate) joined: u64,
    /// Groups taken from the queue.
    pub(crate) groups: u64,
    /// Change sets in them.
    pub(crate) change_sets: u64,
}

/// Who the next group may wait for, and for how long (kept under the queue's lock).
#[derive(Debug, Default)]
pub(crate) struct Gathering {
    /// The threads that submitted the change sets of the group taken last.
    last_submitters: Vec<ThreadId>,
    /// While a leader waits: the ones of `last_submitters` that have not arrived.
    awaited: Vec<ThreadId>,
    /// How many writers the current wait began with.
    began_with: usize,
    /// Groups still to commit without waiting, after a vain wait.
    paused: u32,
    /// What the last group's COMMIT (its sync) took.
    last_commit: Duration,
    /// Set by tests: the wait's limit, instead of one from the last commit.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fixed_limit: Option<Duration>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) counts: GatherCounts,
}

impl Gathering {
    /// A group was taken from the queue: its submitters are the ones a later leader
    /// may expect back.
    pub(crate) fn taken(&mut self, submitters: impl Iterator<Item = ThreadId>) {
        self.last_submitters.clear();
        self.counts.groups += 1;
        self.taken_more(submitters);
    }

    /// More change sets joined the group being applied.
    pub(crate) fn taken_more(&mut self, submitters: impl Iterator<Item = ThreadId>) {
        for thread in submitters {
            self.counts.change_sets += 1;
            if !self.last_submitters.contains(&thread) {
                self.last_submitters.push(thread);
            }
        }
    }

    /// The last group's COMMIT (its sync) took `took`.
    pub(crate) fn committed(&mut self, took: Duration) {
        self.last_commit = took;
    }

    /// A leader took a group: whether it gathers, and the longest it may wait once it
    /// has applied everything it took. `queued` says whether a thread has a change set
    /// in that group or still in the queue. When this returns a limit, the leader takes
    /// change sets as [`Gathering::arrived`] signals them, until the awaited writers
    /// are in or the limit passes, then calls [`Gathering::end`].
    pub(crate) fn begin(&mut self, queued: impl Fn(ThreadId) -> bool) -> Option<Duration> {
        if self.paused > 0 {
            self.paused -= 1;
            return None;
        }
        let limit = self
            .fixed_limit
            .unwrap_or_else(|| (self.last_commit / COMMIT_SHARE).min(MAX_WAIT));
        if limit.is_zero() {
            return None;
        }
        self.awaited.clear();
        self.awaited.extend(
            self.last_submitters
                .iter()
                .copied()
                .filter(|thread| !queued(*thread)),
        );
        if self.awaited.is_empty() {
            return None;
        }
        self.began_with = self.awaited.len();
        self.counts.waits += 1;
        Some(limit)
    }

    /// Whether a leader is waiting for writers now.
    pub(crate) fn waiting(&self) -> bool {
        !self.awaited.is_empty()
    }

    /// A change set of `thread` is queued and packed: returns true when the gathering
    /// leader was waiting for it (time to wake it: it applies change sets as they come).
    pub(crate) fn arrived(&mut self, thread: ThreadId) -> bool {
        match self.awaited.iter().position(|t| *t == thread) {
            Some(at) => {
                self.awaited.swap_remove(at);
                self.counts.joined += 1;
                true
            }
            None => false,
        }
    }

    /// The gathering is over (everyone came, the limit passed, or the group's
    /// transaction ended); nothing when none is going on.
    pub(crate) fn end(&mut self) {
        if self.began_with == 0 {
            return;
        }
        if self.awaited.len() == self.began_with {
            self.counts.vain += 1;
            self.paused = PAUSE_AFTER_VAIN;
        }
        self.awaited.clear();
        self.began_with = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threads(n: usize) -> Vec<ThreadId> {
        (0..n)
            .map(|_| std::thread::spawn(|| std::thread::current().id()))
            .filter_map(|h| h.join().ok())
            .collect()
    }

    fn after_a_commit(took: Duration, submitters: &[ThreadId]) -> Gathering {
        let mut g = Gathering::default();
        g.taken(submitters.iter().copied());
        g.committed(took);
        g
    }

    #[test]
    fn a_lone_writer_does_not_wait_for_itself() {
        let me = std::thread::current().id();
        let mut g = after_a_commit(Duration::from_millis(2), &[me]);
        assert_eq!(g.begin(|t| t == me), None);
        assert_eq!(g.counts.waits, 0);
    }

    #[test]
    fn the_last_groups_writers_not_queued_are_awaited_for_half_its_sync() {
        let t = threads(3);
        let mut g = after_a_commit(Duration::from_micros(400), &t);
        // t[0] leads, already queued; t[1] and t[2] are awaited.
        assert_eq!(g.begin(|x| x == t[0]), Some(Duration::from_micros(200)));
        assert!(g.waiting());
        assert!(!g.arrived(t[0]), "not awaited");
        assert!(g.arrived(t[1]), "each awaited arrival wakes the leader");
        assert!(g.waiting());
        assert!(!g.arrived(t[1]), "once");
        assert!(g.arrived(t[2]));
        assert!(!g.waiting());
        g.end();
        g.end();
        assert_eq!(
            g.counts,
            GatherCounts {
                waits: 1,
                vain: 0,
                joined: 2,
                groups: 1,
                change_sets: 3
            }
        );
        // Not paused: the next leader may wait again.
        assert!(g.begin(|x| x == t[0]).is_some());
    }

    #[test]
    fn the_wait_is_capped_and_a_commit_too_short_to_share_waits_not_at_all() {
        let t = threads(2);
        let mut g = after_a_commit(Duration::from_millis(40), &t);
        assert_eq!(g.begin(|x| x == t[0]), Some(MAX_WAIT));
        g.end();
        let mut g = after_a_commit(Duration::ZERO, &t);
        assert_eq!(g.begin(|x| x == t[0]), None);
    }

    #[test]
    fn a_wait_nobody_answered_pauses_gathering() {
        let t = threads(2);
        let mut g = after_a_commit(Duration::from_millis(1), &t);
        assert!(g.begin(|x| x == t[0]).is_some());
        g.end();
        assert_eq!(g.counts.vain, 1);
        for _ in 0..PAUSE_AFTER_VAIN {
            assert_eq!(g.begin(|x| x == t[0]), None);
        }
        assert!(g.begin(|x| x == t[0]).is_some(), "gathering resumes");
    }

    #[test]
    fn a_wait_some_answered_is_not_vain() {
        let t = threads(3);
        let mut g = after_a_commit(Duration::from_millis(1), &t);
        assert!(g.begin(|x| x == t[0]).is_some());
        assert!(g.arrived(t[1]));
        g.end();
        assert_eq!(g.counts.vain, 0);
        assert!(g.begin(|x| x == t[0]).is_some());
    }

    #[test]
    fn a_thread_with_several_change_sets_in_a_group_is_awaited_once() {
        let t = threads(2);
        let mut g = Gathering::default();
        g.taken([t[1], t[1], t[0]].into_iter());
        g.committed(Duration::from_millis(1));
        assert!(g.begin(|x| x == t[0]).is_some());
        assert!(g.arrived(t[1]));
    }
}
