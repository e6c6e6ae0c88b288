//! [`Interval`]: ticks at a fixed period (a `loop.call_later` that
//! reschedules itself), with a policy for ticks missed by a slow consumer.
//!
//! # Design
//!
//! An `Interval` is a [`Sleep`] set to the next scheduled tick, the period and
//! a [`MissedTickBehavior`]. When the sleep completes, the tick's *scheduled*
//! instant is returned and the sleep is reset to the next one: one period
//! later, unless the consumer is more than [`TOLERANCE`] behind, in which case
//! the policy decides (tokio's semantics, tolerance included). Resetting a
//! completed sleep does not touch the wheel; the next poll registers it.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;

use crate::clock;
use crate::shared;
use crate::sleep::{sleep_until, Sleep};

/// How late a tick may be observed and still count as on time.
const TOLERANCE: Duration = Duration::from_millis(5);

/// Ticks every `period`, the first tick completing at once; like a callback
/// that reschedules itself with `loop.call_later(period, ...)`.
///
/// Missed ticks are handled by [`MissedTickBehavior::Burst`] unless
/// [`Interval::set_missed_tick_behavior`] says otherwise.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # futures_lite::future::block_on(async {
/// let mut every = corio_timer::interval(Duration::from_millis(2));
/// let first = every.tick().await; // at once
/// let second = every.tick().await; // 2 ms later
/// assert_eq!(second - first, Duration::from_millis(2));
/// # });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(clock::now(), period)
}

/// Ticks every `period`, the first tick completing at `start`.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// # futures_lite::future::block_on(async {
/// let start = Instant::now() + Duration::from_millis(3);
/// let mut every = corio_timer::interval_at(start, Duration::from_millis(2));
/// assert_eq!(every.tick().await, start);
/// assert_eq!(every.tick().await, start + Duration::from_millis(2));
/// # });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "corio_timer::interval: `period` must be non-zero"
    );
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks were missed because its consumer was
/// late (by more than a few milliseconds).
///
/// The examples below use a period of 10 ms, ticks scheduled at 0, 10, 20,
/// 30 ..., and a consumer that asks for the tick scheduled at 10 only at 35.
///
/// # Examples
///
/// ```
/// use corio_timer::{interval, MissedTickBehavior};
/// use std::time::Duration;
///
/// let mut every = interval(Duration::from_millis(10));
/// every.set_missed_tick_behavior(MissedTickBehavior::Skip);
/// assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Skip);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedTickBehavior {
    /// Catch up: the missed ticks complete at once, one per call, until the
    /// interval is back on schedule. Ticks: 10 (at 35), 20 and 30 (at once),
    /// then 40 on time. Every scheduled tick is delivered.
    #[default]
    Burst,
    /// Start over from now: the next tick is one period after the late one
    /// was observed. Ticks: 10 (at 35), then 45, 55, ... The period between
    /// observed ticks is never shorter than `period`.
    Delay,
    /// Drop the missed ticks and stay on the original schedule. Ticks: 10 (at
    /// 35), then 40, 50, ...
    Skip,
}

impl MissedTickBehavior {
    /// The tick after `scheduled`, observed late at `now`.
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => shared::deadline_after(scheduled, period),
            MissedTickBehavior::Delay => shared::deadline_after(now, period),
            MissedTickBehavior::Skip => {
                let behind = now.saturating_duration_since(scheduled).as_nanos();
                let into_period = behind % period.as_nanos();
                // `into_period < period`, so this cannot underflow.
                let ahead = period - duration_from_nanos(into_period);
                shared::deadline_after(now, ahead)
            }
        }
    }
}

fn duration_from_nanos(nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % 1_000_000_000) as u32)
}

/// A stream of instants, one every period; created by [`interval`] and
/// [`interval_at`].
///
/// [`tick`](Interval::tick) waits for the next tick and returns the instant it
/// was *scheduled* for (not the slightly later instant it was observed at), so
/// the schedule does not drift. `Interval` also implements
/// [`Stream`] (the trait futures-lite re-exports), with
/// the same instants as items; the stream never ends.
///
/// # Cancel safety
///
/// Dropping a [`tick`](Interval::tick) future before it completes loses no
/// tick: the next call to `tick` completes at the same scheduled instant.
/// Dropping the `Interval` cancels its timer.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use std::time::Duration;
///
/// # futures_lite::future::block_on(async {
/// let ticks: Vec<_> = corio_timer::interval(Duration::from_millis(1)).take(3).collect().await;
/// assert_eq!(ticks[2] - ticks[0], Duration::from_millis(2));
/// # });
/// ```
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the returned future is dropped before it completes, no
    /// tick is consumed, and the next call completes at the same instant.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// # futures_lite::future::block_on(async {
    /// let start = Instant::now();
    /// let mut every = corio_timer::interval_at(start, Duration::from_millis(1));
    /// for i in 0..3 {
    ///     assert_eq!(every.tick().await, start + i * Duration::from_millis(1));
    /// }
    /// # });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: the poll-based form of
    /// [`tick`](Interval::tick), for hand-written futures.
    ///
    /// On `Pending`, the waker of `cx` (only the most recent one) is woken at
    /// the next tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::Duration;
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut every = corio_timer::interval(Duration::from_millis(1));
    /// let first = poll_fn(|cx| every.poll_tick(cx)).await;
    /// assert_eq!(first + Duration::from_millis(1), every.tick().await);
    /// # });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.sleep.poll_at(cx, clock::now_ns()).is_pending() {
            return Poll::Pending;
        }
        let now = clock::now();
        let scheduled = self.sleep.deadline();
        let next = if now.saturating_duration_since(scheduled) > TOLERANCE {
            self.missed.next(scheduled, now, self.period)
        } else {
            shared::deadline_after(scheduled, self.period)
        };
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick completes one period from now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut every = corio_timer::interval(Duration::from_millis(2));
    /// every.tick().await;
    /// let before = Instant::now();
    /// every.reset();
    /// assert!(every.tick().await >= before + Duration::from_millis(2));
    /// # });
    /// ```
    pub fn reset(&mut self) {
        self.reset_at(shared::deadline_after(clock::now(), self.period));
    }

    /// Restarts the schedule: the next tick completes at `deadline`, and the
    /// following ones a period apart from there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut every = corio_timer::interval(Duration::from_secs(60));
    /// let soon = Instant::now() + Duration::from_millis(1);
    /// every.reset_at(soon);
    /// assert_eq!(every.tick().await, soon);
    /// # });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.sleep.reset(deadline);
    }

    /// The period.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let every = corio_timer::interval(Duration::from_millis(250));
    /// assert_eq!(every.period(), Duration::from_millis(250));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The policy for missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_timer::MissedTickBehavior;
    /// use std::time::Duration;
    ///
    /// let every = corio_timer::interval(Duration::from_millis(250));
    /// assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the policy for missed ticks (the default is
    /// [`Burst`](MissedTickBehavior::Burst)).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_timer::MissedTickBehavior;
    /// use std::time::Duration;
    ///
    /// let mut every = corio_timer::interval(Duration::from_millis(250));
    /// every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    /// assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Delay);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("next", &self.sleep.deadline())
            .field("period", &self.period)
            .field("missed_tick_behavior", &self.missed)
            .finish()
    }
}
