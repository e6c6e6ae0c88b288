//! The park/unpark hook through which an idle worker waits.
//!
//! By default an idle worker blocks its thread on a condition variable
//! ([`ThreadPark`]). A driver (the reactor, which waits on I/O and timers)
//! plugs in by implementing [`Park`] and handing a factory to
//! [`Builder::park`](crate::Builder::park): each worker then parks inside the
//! driver, and a task woken by an I/O event is pushed to that worker's queue.

use std::fmt;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// How an idle worker (or a thread in [`block_on`](crate::block_on)) waits for work.
///
/// `park` blocks until `unpark` is called, the timeout passes, or the
/// implementation has something to do (a driver that received an I/O event);
/// spurious returns are allowed. An `unpark` that happens before `park` must
/// make the next `park` return at once: no wake-up may be lost.
/// `park(Some(Duration::ZERO))` must not block: executors call it now and then
/// while busy, so that a driver can process its events.
///
/// # Examples
///
/// ```
/// use corio_executor::{Park, ThreadPark};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let park = Arc::new(ThreadPark::new());
/// park.unpark();
/// park.park(None); // returns at once: the token was stored
/// park.park(Some(Duration::from_millis(1))); // times out
/// ```
pub trait Park: Send + Sync + 'static {
    /// Blocks the calling thread until [`unpark`](Park::unpark) or `timeout`.
    fn park(&self, timeout: Option<Duration>);
    /// Wakes the thread blocked in [`park`](Park::park), or makes the next one return at once.
    fn unpark(&self);
}

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

/// The default [`Park`]: a token, a mutex and a condition variable.
///
/// # Examples
///
/// ```
/// use corio_executor::{Park, ThreadPark};
/// use std::sync::Arc;
///
/// let park = Arc::new(ThreadPark::new());
/// let p = park.clone();
/// let t = std::thread::spawn(move || p.park(None));
/// park.unpark();
/// t.join().unwrap();
/// ```
pub struct ThreadPark {
    state: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
}

impl ThreadPark {
    /// A parker with no stored token.
    pub fn new() -> ThreadPark {
        ThreadPark {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            cvar: Condvar::new(),
        }
    }
}

impl Default for ThreadPark {
    fn default() -> Self {
        ThreadPark::new()
    }
}

impl fmt::Debug for ThreadPark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPark")
            .field("notified", &(self.state.load(SeqCst) == NOTIFIED))
            .finish()
    }
}

impl Park for ThreadPark {
    fn park(&self, timeout: Option<Duration>) {
        // Fast path: consume a stored token.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            return;
        }
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        match self.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.store(EMPTY, SeqCst);
                return;
            }
            Err(_) => unreachable!("two threads parked on one ThreadPark"),
        }
        match timeout {
            None => loop {
                guard = self.cvar.wait(guard).unwrap_or_else(|e| e.into_inner());
                if self
                    .state
                    .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                    .is_ok()
                {
                    return;
                }
            },
            Some(timeout) => {
                let (_guard, _) = self
                    .cvar
                    .wait_timeout(guard, timeout)
                    .unwrap_or_else(|e| e.into_inner());
                // Whether notified or timed out, leave the token empty.
                self.state.swap(EMPTY, SeqCst);
            }
        }
    }

    fn unpark(&self) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Take the lock so the notification cannot slip in between the
                // parker's state change and its wait.
                drop(self.lock.lock().unwrap_or_else(|e| e.into_inner()));
                self.cvar.notify_one();
            }
            _ => unreachable!("invalid ThreadPark state"),
        }
    }
}
