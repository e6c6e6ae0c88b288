//! corio's timers: asyncio's `sleep`, `wait_for` and `call_later`, for Rust.
//!
//! | asyncio | corio-timer |
//! |---|---|
//! | `await asyncio.sleep(s)` | [`sleep`](fn@sleep)`(dur).await`, [`sleep_until`]`(instant).await` |
//! | `await asyncio.wait_for(aw, s)` | [`timeout`](fn@timeout)`(dur, fut).await` → `Result<T, `[`Elapsed`]`>` |
//! | `async with asyncio.timeout_at(when):` around one awaitable | [`timeout_at`]`(instant, fut)` |
//! | `async with asyncio.timeout(delay) as cm:` around many awaits | [`Deadline::after`]`(dur).`[`run`](Deadline::run)`(fut)` → `Result<T, `[`Elapsed`]`>` |
//! | `asyncio.timeout_at(when)`, `asyncio.timeout(None)` | [`Deadline::at`]`(instant)`, [`Deadline::never`]`()` |
//! | `cm.reschedule(when)`, `cm.when()`, `cm.expired()` | [`Deadline::reschedule`], [`Deadline::when`], [`Deadline::expired`] |
//! | `asyncio.TimeoutError` | [`Elapsed`] |
//! | `loop.call_later(p, cb)` rescheduling itself | [`interval`](fn@interval)`(p)` and [`Interval::tick`] |
//! | `loop.time()` | [`now`] |
//! | the loop's `select()` timeout | [`driver::next_deadline`], [`driver::fire_expired`] |
//!
//! # A short tour
//!
//! ```
//! use std::time::{Duration, Instant};
//! use corio_timer::{interval, sleep, timeout, Elapsed};
//!
//! futures_lite::future::block_on(async {
//!     // Sleep: never wakes early.
//!     let start = Instant::now();
//!     sleep(Duration::from_millis(5)).await;
//!     assert!(start.elapsed() >= Duration::from_millis(5));
//!
//!     // Timeout: the output, or `Elapsed` if the deadline came first.
//!     assert_eq!(timeout(Duration::from_secs(1), async { 7 }).await, Ok(7));
//!     let slow = sleep(Duration::from_secs(60));
//!     assert_eq!(timeout(Duration::from_millis(5), slow).await, Err(Elapsed::new()));
//!
//!     // Interval: ticks on a fixed schedule, the first one at once.
//!     let mut every = interval(Duration::from_millis(2));
//!     let t0 = every.tick().await;
//!     let t1 = every.tick().await;
//!     assert_eq!(t1 - t0, Duration::from_millis(2));
//! });
//! ```
//!
//! # How the pieces relate
//!
//! * Every timer lives in one process-wide hierarchical *timer wheel*: six
//!   levels of 64 slots over millisecond ticks, about 2.2 years, plus an
//!   overflow list beyond. Inserting and cancelling are O(1); deadlines round
//!   up to the next millisecond, so nothing fires early.
//! * [`Sleep`] is the one timer future; [`Timeout`] and [`Interval`] are built
//!   on it. A `Sleep` registers on its first poll and unregisters when
//!   dropped, so cancelling is dropping, as everywhere in corio.
//! * A [`Deadline`] is a shared, reschedulable deadline; [`Deadline::run`]
//!   puts a whole block of awaits under it as a [`DeadlineScope`], which owns
//!   one `Sleep` and re-arms it whenever any clone of the handle, on any task
//!   or thread, reschedules. Scopes nest: the outermost expired scope reports.
//! * Something must fire the timers. With no reactor, a helper thread
//!   ("corio-timer", started lazily) sleeps until the next deadline; it never
//!   wakes while no timer is pending. A reactor takes over through
//!   [`driver::claim`] and folds the next deadline into its own poll timeout.
//!   Either way these futures work under any executor: corio's, tokio's,
//!   smol's, or a bare `block_on`.
//! * Time is read through the [`Clock`] seam ([`now`]), today always the
//!   [`SystemClock`], so a virtual clock can come later without changing
//!   callers.
//!
//! # Cancellation
//!
//! Every future here is cancel-safe: dropping a [`Sleep`], a [`Timeout`], a
//! [`DeadlineScope`] or an [`Interval::tick`] future removes or keeps its
//! timer as its docs say, and loses nothing else.

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod clock;
pub mod driver;
mod interval;
mod scope;
mod shared;
mod sleep;
mod timeout;
mod wheel;

pub use clock::{Clock, SystemClock};
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use scope::{Deadline, DeadlineScope};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// The current instant, as timers see it; like asyncio's `loop.time()`.
///
/// This reads the process-wide [`Clock`], which is the [`SystemClock`]:
/// [`Instant::now`](std::time::Instant::now).
///
/// # Examples
///
/// ```
/// let a = corio_timer::now();
/// let b = corio_timer::now();
/// assert!(b >= a);
/// ```
pub fn now() -> std::time::Instant {
    clock::now()
}

/// Timers registered and not yet fired, process-wide. For tests only.
#[doc(hidden)]
pub fn __pending_timers() -> usize {
    shared::pending()
}

/// Timers holding an entry in the wheel (fired or not), process-wide. For
/// tests only.
#[doc(hidden)]
pub fn __registered_timers() -> usize {
    shared::registered()
}
