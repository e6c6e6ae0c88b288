//! The driver API: how a reactor takes over firing timers.
//!
//! corio-timer works alone: with no driver, a helper thread named
//! "corio-timer", started with the first timer, sleeps until the next deadline
//! and fires what is due. An event loop that already blocks in a system call
//! (corio-reactor's `epoll_wait`/`kqueue`) does better by folding timers into
//! that wait, so that no extra thread wakes up. It [`claim`]s the wheel, and
//! then, in its loop:
//!
//! 1. asks [`next_deadline`] and uses it as its poll timeout (none: block
//!    without one),
//! 2. blocks until I/O, the timeout, or its `notify` callback interrupts it,
//! 3. calls [`fire_expired`], which reads the clock and wakes every task
//!    whose timer is due.
//!
//! `notify` is called (from the thread that inserted the timer, without any
//! lock of this crate held) when a timer is inserted that is due before the
//! instant the last [`next_deadline`] returned; it must make the driver's
//! current or next wait return early (as `polling::Poller::notify` does).
//!
//! This is asyncio's event loop computing its `select()` timeout from the
//! earliest scheduled callback, then running the callbacks that are due.
//!
//! # Examples
//!
//! A minimal driver: a thread that waits on a condition variable.
//!
//! ```
//! use std::sync::{Arc, Condvar, Mutex};
//! use std::time::{Duration, Instant};
//! use corio_timer::driver;
//!
//! let signal = Arc::new((Mutex::new(false), Condvar::new()));
//! let s = signal.clone();
//! let guard = driver::claim(Arc::new(move || {
//!     *s.0.lock().unwrap() = true;
//!     s.1.notify_one();
//! }))
//! .expect("no other driver");
//!
//! let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
//! let st = stop.clone();
//! let thread = std::thread::spawn(move || {
//!     while !st.load(std::sync::atomic::Ordering::SeqCst) {
//!         let deadline = driver::next_deadline();
//!         let mut notified = signal.0.lock().unwrap();
//!         let timeout = deadline
//!             .map_or(Duration::from_millis(10), |d| d.saturating_duration_since(Instant::now()));
//!         if !*notified {
//!             notified = signal.1.wait_timeout(notified, timeout).unwrap().0;
//!         }
//!         *notified = false;
//!         drop(notified);
//!         driver::fire_expired();
//!     }
//! });
//!
//! futures_lite::future::block_on(corio_timer::sleep(Duration::from_millis(5)));
//! stop.store(true, std::sync::atomic::Ordering::SeqCst);
//! thread.join().unwrap();
//! drop(guard); // the helper thread takes over again
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use crate::shared;

/// The instant by which the driver must next call [`fire_expired`], if any
/// timer is pending.
///
/// It is the earliest pending deadline, rounded up to the millisecond, in
/// all but one case: when many timers share the coarse slot of the wheel
/// that comes next, it is the start of that slot, earlier, when
/// `fire_expired` must move them down to finer slots. Either way, waiting
/// until the instant returned and then calling `fire_expired` never fires a
/// timer early nor misses one.
///
/// Calling it also tells corio-timer when the driver will look next: a timer
/// inserted afterwards with an earlier deadline calls the driver's `notify`.
///
/// # Examples
///
/// ```
/// use futures_lite::future::{block_on, poll_once};
/// use std::time::Duration;
///
/// let mut sleep = corio_timer::sleep(Duration::from_secs(3600));
/// assert!(block_on(poll_once(&mut sleep)).is_none()); // registers the timer
/// let next = corio_timer::driver::next_deadline().unwrap();
/// assert!(next >= sleep.deadline()); // rounded up to the millisecond
/// assert!(next < sleep.deadline() + Duration::from_millis(1));
/// ```
pub fn next_deadline() -> Option<Instant> {
    shared::next_deadline()
}

/// Fires (wakes) every timer whose deadline has passed; returns how many
/// fired.
///
/// It reads the timers' own clock, so nothing can fire early whatever the
/// caller's idea of the time. Wakers are woken with no lock of this crate
/// held, a few hundred at a time. Safe to call from any thread, with or
/// without a claim, concurrently with timers being created and dropped.
///
/// # Examples
///
/// ```
/// // Nothing is due that is not already firing: usually 0, never a panic.
/// let _fired: usize = corio_timer::driver::fire_expired();
/// ```
pub fn fire_expired() -> usize {
    shared::fire_expired()
}

/// Takes over driving the timers; `None` if another driver holds them.
///
/// While the returned [`DriverGuard`] lives, the helper thread does not fire
/// timers: the caller calls [`next_deadline`] and [`fire_expired`] itself.
/// `notify` is called whenever a timer is inserted with a deadline earlier
/// than what [`next_deadline`] last returned (until the first call to
/// `next_deadline`, on every insertion), so that the driver can shorten its
/// wait. Only one driver at a time.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use corio_timer::driver;
///
/// let guard = driver::claim(Arc::new(|| {})).unwrap();
/// assert!(driver::claim(Arc::new(|| {})).is_none());
/// drop(guard);
/// let again = driver::claim(Arc::new(|| {})).unwrap();
/// # drop(again);
/// ```
pub fn claim(notify: Arc<dyn Fn() + Send + Sync>) -> Option<DriverGuard> {
    shared::claim(notify).then_some(DriverGuard { _private: () })
}

/// Proof of a [`claim`] on the timers; dropping it hands them back to the
/// helper thread, which resumes at once if timers are pending.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// let guard = corio_timer::driver::claim(Arc::new(|| {})).unwrap();
/// drop(guard);
/// ```
#[must_use = "dropping the guard releases the claim at once"]
pub struct DriverGuard {
    _private: (),
}

impl Drop for DriverGuard {
    fn drop(&mut self) {
        shared::release();
    }
}

impl fmt::Debug for DriverGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DriverGuard")
    }
}
