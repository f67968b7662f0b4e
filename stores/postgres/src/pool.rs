//! A small blocking connection pool: `Mutex<Vec<Conn>>` plus a condition variable.
//!
//! Simpler than a pool crate for what the store needs (a bounded number of sync
//! clients, each with its statements prepared once), and one dependency fewer.

use std::sync::{Condvar, Mutex, MutexGuard};
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
}

pub(crate) struct Pool {
    state: Mutex<State>,
    available: Condvar,
    size: usize,
    checkout_timeout: Duration,
}

/// A connection borrowed from the pool; returned on drop (closed ones are discarded).
pub(crate) struct Pooled<'a> {
    conn: Option<Conn>,
    pool: &'a Pool,
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

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut state = self.pool.lock();
            if conn.client.is_closed() {
                state.open = state.open.saturating_sub(1);
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
        loop {
            while let Some(conn) = state.idle.pop() {
                if conn.client.is_closed() {
                    state.open = state.open.saturating_sub(1);
                    continue;
                }
                return Ok(Pooled {
                    conn: Some(conn),
                    pool: self,
                });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match connect() {
                    Ok(conn) => Ok(Pooled {
                        conn: Some(conn),
                        pool: self,
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
}
