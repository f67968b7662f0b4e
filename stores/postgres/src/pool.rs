//! A small blocking connection pool: `Mutex<Vec<Conn>>` plus a condition variable.
//!
//! Simpler than a pool crate for what the store needs (a bounded number of sync
//! clients, each with its statements prepared once), and one dependency fewer.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use ordersmith::ports::StoreError;
use postgres::Client;

use crate::statements::Statements;

/// A connection with its prepared statements.
pub(crate) struct Conn {
    pub(crate) client: Client,
    pub(crate) stmts: Statements,
}

struct State {
    idle: Vec<Conn>,
    open: usize,
    /// Connections holding a thread's stock turn (`PgStore::begin_stock_turn`), by
    /// thread, while the thread is not using them.
    pinned: HashMap<ThreadId, Conn>,
    /// Connections taken for turns: pinned, in use by their thread, or waiting for
    /// the turn. At most `size - 1`, so a turn never takes the pool's last connection.
    turns: usize,
}

pub(crate) struct Pool {
    state: Mutex<State>,
    available: Condvar,
    size: usize,
    checkout_timeout: Duration,
}

/// A connection borrowed from the pool; returned on drop (closed ones are discarded):
/// to the idle ones, or, for a connection that holds its thread's turn, to the thread.
pub(crate) struct Pooled<'a> {
    conn: Option<Conn>,
    pool: &'a Pool,
    turn_of: Option<ThreadId>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        // Always Some until drop.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("connection taken before drop"))
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("connection taken before drop"))
    }
}

impl Pooled<'_> {
    /// Closes the connection instead of returning it (its session may hold what no one
    /// else should inherit, such as a lock).
    pub(crate) fn discard(mut self) {
        if self.conn.take().is_some() {
            let mut state = self.pool.lock();
            state.open = state.open.saturating_sub(1);
            if self.turn_of.is_some() {
                state.turns = state.turns.saturating_sub(1);
            }
            self.pool.available.notify_one();
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut state = self.pool.lock();
            if conn.client.is_closed() {
                // A turn's connection closed: the server ended its session, and its
                // locks with it.
                if self.turn_of.is_some() {
                    state.turns = state.turns.saturating_sub(1);
                }
                state.open = state.open.saturating_sub(1);
            } else if let Some(thread) = self.turn_of {
                state.pinned.insert(thread, conn);
                return;
            } else {
                state.idle.push(conn);
            }
            self.pool.available.notify_one();
        }
    }
}

impl Pool {
    pub(crate) fn new(size: usize, checkout_timeout: Duration) -> Self {
        Pool {
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                pinned: HashMap::new(),
                turns: 0,
            }),
            available: Condvar::new(),
            size: size.max(1),
            checkout_timeout,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two plain fields; a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection, a new one from `connect` while fewer than `size` are open,
    /// or the first one returned within the checkout timeout.
    pub(crate) fn get(
        &self,
        connect: impl Fn() -> Result<Conn, StoreError>,
    ) -> Result<Pooled<'_>, StoreError> {
        let deadline = Instant::now() + self.checkout_timeout;
        let mut state = self.lock();
        let thread = std::thread::current().id();
        if let Some(conn) = state.pinned.remove(&thread) {
            return Ok(Pooled {
                conn: Some(conn),
                pool: self,
                turn_of: Some(thread),
            });
        }
        loop {
            while let Some(conn) = state.idle.pop() {
                if conn.client.is_closed() {
                    state.open = state.open.saturating_sub(1);
                    continue;
                }
                return Ok(Pooled {
                    conn: Some(conn),
                    pool: self,
                    turn_of: None,
                });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match connect() {
                    Ok(conn) => Ok(Pooled {
                        conn: Some(conn),
                        pool: self,
                        turn_of: None,
                    }),
                    Err(e) => {
                        let mut state = self.lock();
                        state.open = state.open.saturating_sub(1);
                        self.available.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Unavailable {
                    reason: format!(
                        "no PostgreSQL connection became free within {:?} (pool of {})",
                        self.checkout_timeout, self.size
                    ),
                });
            }
            state = self
                .available
                .wait_timeout(state, deadline - now)
                .map(|(s, _)| s)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Whether the calling thread holds a turn's connection (pinned or in use).
    pub(crate) fn in_turn(&self) -> bool {
        self.lock()
            .pinned
            .contains_key(&std::thread::current().id())
    }

    /// Counts a connection for a turn, if one more leaves the pool a connection that
    /// no turn holds; `false` (take no turn) otherwise.
    pub(crate) fn reserve_turn(&self) -> bool {
        let mut state = self.lock();
        if state.turns + 1 >= self.size {
            return false;
        }
        state.turns += 1;
        true
    }

    /// Gives back a turn [`Pool::reserve_turn`] counted that did not begin.
    pub(crate) fn release_turn(&self) {
        let mut state = self.lock();
        state.turns = state.turns.saturating_sub(1);
    }

    /// Keeps `conn` (whose session now holds the calling thread's turn) for the calling
    /// thread: its later checkouts get it, until [`Pool::unpin`].
    pub(crate) fn pin(&self, mut conn: Pooled<'_>) {
        conn.turn_of = Some(std::thread::current().id());
        // Dropping it puts it where the thread finds it.
    }

    /// The calling thread's turn connection, no longer kept for it (dropping it returns
    /// it to the idle ones); `None` when the thread holds no turn.
    pub(crate) fn unpin(&self) -> Option<Pooled<'_>> {
        let mut state = self.lock();
        let conn = state.pinned.remove(&std::thread::current().id())?;
        state.turns = state.turns.saturating_sub(1);
        Some(Pooled {
            conn: Some(conn),
            pool: self,
            turn_of: None,
        })
    }
}
