//! The clock every timer reads: the seam for a virtual clock.
//!
//! # Design
//!
//! All of corio-timer reads the time through one process-wide [`Clock`]
//! ([`now`](crate::now)), never through `Instant::now()` directly. Today that
//! clock is always [`SystemClock`]. A virtual clock (asyncio's test loops,
//! tokio's `start_paused`) can later be installed behind the same function
//! without touching `sleep`, `timeout` or `Interval`, nor their callers. The
//! one other thing such a clock would need is a driver that advances it
//! instead of sleeping on a condition variable (see `shared.rs`).

use std::fmt;
use std::time::Instant;

/// A source of the current time for timers.
///
/// Implementations must be monotonic: `now()` never returns an instant
/// earlier than one it returned before.
///
/// # Examples
///
/// ```
/// use corio_timer::{Clock, SystemClock};
///
/// let clock = SystemClock;
/// let a = clock.now();
/// let b = clock.now();
/// assert!(b >= a);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real, monotonic system clock: [`Instant::now`].
///
/// # Examples
///
/// ```
/// use corio_timer::{Clock, SystemClock};
///
/// assert!(SystemClock.now() <= std::time::Instant::now());
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }
}

impl fmt::Debug for SystemClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SystemClock")
    }
}

/// The process-wide clock.
static CLOCK: &dyn Clock = &SystemClock;

/// The current instant on the process-wide clock.
#[inline]
pub(crate) fn now() -> Instant {
    CLOCK.now()
}
