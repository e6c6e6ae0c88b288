//! [`Sleep`]: a future that completes at a deadline (`asyncio.sleep`).
//!
//! # Design
//!
//! A `Sleep` is its deadline and a three-way state: not yet registered, holding
//! a key of the process-wide wheel, or done. It registers on its first poll
//! that finds the deadline still ahead, so a `Sleep` that is created and
//! dropped without being polled (or that completes on its first poll) never
//! takes the lock. Each later poll checks the clock first (a timer whose
//! deadline has passed completes even if its driver is late) and otherwise
//! asks the wheel whether the timer fired, storing the new waker only when it
//! would not wake the same task ([`Waker::will_wake`](std::task::Waker::will_wake)). Dropping a registered
//! `Sleep` unlinks its entry: O(1).
//!
//! The entry lives in the wheel's arena, not in the `Sleep`, so a `Sleep` is
//! `Unpin`, can be moved freely while registered, and costs one arena entry
//! (32 bytes) and no allocation of its own.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::clock;
use crate::shared;

/// Waits until `duration` has elapsed; like `asyncio.sleep(seconds)`.
///
/// The deadline is taken now, when `sleep` is called (so that
/// [`Sleep::deadline`] is known from the start; a [`timeout`](crate::timeout)'s
/// clock starts at its first poll instead), and rounded up to the next
/// millisecond: the future never completes before it. A duration too
/// large to add to the current instant (`Duration::MAX`) gives a deadline
/// centuries away: the sleep never completes, and nothing overflows.
///
/// # Cancel safety
///
/// Dropping the returned [`Sleep`] before it completes cancels the timer and
/// frees its entry in the timer wheel; nothing else is lost.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// # futures_lite::future::block_on(async {
/// let start = Instant::now();
/// corio_timer::sleep(Duration::from_millis(10)).await;
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// # });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::at_ns(clock::later(clock::now_ns(), duration))
}

/// Waits until `deadline`; like `loop.call_at` wrapped in a future.
///
/// A deadline in the past completes on the first poll.
///
/// # Cancel safety
///
/// Dropping the returned [`Sleep`] before it completes cancels the timer and
/// frees its entry in the timer wheel; nothing else is lost.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// # futures_lite::future::block_on(async {
/// let deadline = Instant::now() + Duration::from_millis(5);
/// corio_timer::sleep_until(deadline).await;
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::at_ns(clock::count_of(deadline))
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// It completes once its [`deadline`](Sleep::deadline) has passed, as seen by
/// the timer driver (the reactor, or the helper thread when no reactor runs).
/// It can be moved to a new deadline with [`reset`](Sleep::reset), and polled
/// again after it completed (it stays complete until reset).
///
/// `Sleep` is `Unpin`: it can be polled through `&mut`, and
/// `Pin<&mut Sleep>` dereferences to `&mut Sleep` for `reset`.
///
/// # Cancel safety
///
/// Dropping a `Sleep` at any point cancels its timer in O(1) and frees its
/// entry in the timer wheel. Nothing is lost: there is no value to lose, and a
/// timer that fired but was not observed leaves nothing behind.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// # futures_lite::future::block_on(async {
/// let mut sleep = corio_timer::sleep(Duration::from_secs(3600));
/// // Changed our mind: an hour is too long.
/// sleep.reset(Instant::now() + Duration::from_millis(1));
/// (&mut sleep).await;
/// assert!(sleep.is_elapsed());
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    /// The deadline as a nanosecond count (see `clock.rs`).
    deadline: u64,
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not in the wheel (never polled, or reset after completing).
    Idle,
    /// In the wheel under this key.
    Registered(u32),
    /// Completed.
    Done,
}

impl Sleep {
    /// A sleep until the nanosecond count `deadline`.
    pub(crate) fn at_ns(deadline: u64) -> Sleep {
        Sleep {
            deadline,
            state: State::Idle,
        }
    }

    /// The deadline as a nanosecond count.
    pub(crate) fn deadline_ns(&self) -> u64 {
        self.deadline
    }

    /// The instant this sleep completes at.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(corio_timer::sleep_until(deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        clock::instant_of(self.deadline)
    }

    /// Whether the deadline has passed (or the sleep has completed).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// assert!(corio_timer::sleep(Duration::ZERO).is_elapsed());
    /// assert!(!corio_timer::sleep(Duration::from_secs(60)).is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.state == State::Done || self.deadline <= clock::now_ns()
    }

    /// Moves the deadline to `deadline`, whether or not the sleep has
    /// completed; like cancelling a `loop.call_at` handle and scheduling anew.
    ///
    /// A task already waiting on this sleep keeps waiting, for the new
    /// deadline (and is woken at once if that has passed). A completed sleep
    /// becomes pending again. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut sleep = corio_timer::sleep(Duration::ZERO);
    /// (&mut sleep).await;
    /// let later = Instant::now() + Duration::from_millis(5);
    /// sleep.reset(later);
    /// assert!(!sleep.is_elapsed());
    /// sleep.await;
    /// assert!(Instant::now() >= later);
    /// # });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = clock::count_of(deadline);
        match self.state {
            State::Registered(key) => shared::reset(key, shared::deadline_tick(self.deadline)),
            State::Done => self.state = State::Idle,
            State::Idle => {}
        }
    }

    /// Polls with `now` (a nanosecond count) as the (possibly stale, never
    /// future) present.
    pub(crate) fn poll_at(&mut self, cx: &mut Context<'_>, now: u64) -> Poll<()> {
        match self.state {
            State::Done => Poll::Ready(()),
            _ if self.deadline <= now => {
                self.complete();
                Poll::Ready(())
            }
            State::Idle => match shared::register(shared::deadline_tick(self.deadline), cx.waker())
            {
                Some(key) => {
                    self.state = State::Registered(key);
                    Poll::Pending
                }
                None => {
                    self.state = State::Done;
                    Poll::Ready(())
                }
            },
            State::Registered(key) => {
                if shared::update(key, cx.waker()) {
                    self.state = State::Done;
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }
        }
    }

    /// Marks the sleep complete, removing its timer if it has one.
    fn complete(&mut self) {
        if let State::Registered(key) = std::mem::replace(&mut self.state, State::Done) {
            shared::cancel(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_at(cx, clock::now_ns())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let State::Registered(key) = self.state {
            shared::cancel(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline())
            .field("state", &self.state)
            .finish()
    }
}
