//! The clock every timer reads: the seam for a virtual clock.
//!
//! # Design
//!
//! All of corio-timer reads the time through this module, never through
//! `Instant::now()` directly: [`now`] for `Instant`s, from one process-wide
//! [`Clock`], and [`now_ns`] for the wheel's nanosecond counts. Today that
//! clock is always [`SystemClock`]. A virtual clock (asyncio's test loops,
//! tokio's `start_paused`) can later be installed behind these two functions
//! without touching `sleep`, `timeout` or `Interval`, nor their callers. The
//! one other thing such a clock would need is a driver that advances it
//! instead of sleeping on a condition variable (see `shared.rs`).
//!
//! # Nanoseconds inside, `Instant`s outside
//!
//! Inside the crate, time is a `u64` count of nanoseconds ([`now_ns`]): a
//! deadline is `now_ns() + duration`, a tick is a division, a comparison is
//! one instruction. On Linux [`now_ns`] reads `CLOCK_MONOTONIC`, the clock
//! `Instant::now` reads, straight into that count: a timeout created and
//! cancelled then costs one clock read and no `Instant` arithmetic (that
//! arithmetic, out of line and checked in std, was a tenth of the cost).
//! Elsewhere it counts from an `Instant` taken once.
//!
//! `Instant`s cross the boundary through [`BASE`], one instant and its count,
//! in both directions by the same offset, so `sleep_until(t).deadline()` is
//! `t` exactly. On Linux the count of the base instant is read just *after*
//! it, so it is at or above the instant's true count: an `Instant` turned
//! into a deadline lands at or after its own moment, never before, and timers
//! stay never early. The other way, an internal deadline shown as an
//! `Instant` (`sleep(d).deadline()`) may read up to that gap (tens of
//! nanoseconds) before its true moment. Nothing decides on a converted
//! *present*: what is due is always judged by [`now_ns`] itself.

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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

/// Reads [`now_ns`]'s clock.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
fn raw_ns() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    // CLOCK_MONOTONIC never goes negative.
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// The link between [`Instant`]s and nanosecond counts: `count` is the
/// count of `instant` (on Linux: read just after it, so at or above it).
struct Base {
    instant: Instant,
    count: u64,
}

/// See the module docs.
static BASE: OnceLock<Base> = OnceLock::new();

fn base() -> &'static Base {
    BASE.get_or_init(|| {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // The closest of a few (before, instant, after) triples: `after`
            // is at most the gap above the instant's true count.
            let mut best: Option<(u64, Base)> = None;
            for _ in 0..8 {
                let before = raw_ns();
                let instant = Instant::now();
                let count = raw_ns();
                let gap = count.saturating_sub(before);
                if best.as_ref().is_none_or(|(g, _)| gap < *g) {
                    best = Some((gap, Base { instant, count }));
                }
            }
            best.map(|(_, b)| b).expect("eight readings were taken")
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            // Counted from now, with room below for instants taken before.
            Base {
                instant: Instant::now(),
                count: 1 << 62,
            }
        }
    })
}

/// `duration` in nanoseconds, saturating (`Duration::MAX` is 584 years
/// short of it, which is as far as the wheel sees anyway).
#[inline]
pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The count `by` after `count` (saturating).
#[inline]
pub(crate) fn later(count: u64, by: Duration) -> u64 {
    count.saturating_add(nanos(by))
}

/// The present as a nanosecond count: the crate's own clock reading.
#[inline]
pub(crate) fn now_ns() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        raw_ns()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        count_of(now())
    }
}

/// The count of `instant`, as a deadline: at or after its true moment
/// (saturating at both ends).
pub(crate) fn count_of(instant: Instant) -> u64 {
    let base = base();
    match instant.checked_duration_since(base.instant) {
        Some(after) => later(base.count, after),
        None => base
            .count
            .saturating_sub(nanos(base.instant.duration_since(instant))),
    }
}

/// The instant of `count`: the inverse of [`count_of`] (a count past what
/// `Instant` can hold gives an instant decades away).
pub(crate) fn instant_of(count: u64) -> Instant {
    let base = base();
    if count >= base.count {
        let after = Duration::from_nanos(count - base.count);
        base.instant
            .checked_add(after)
            .unwrap_or_else(|| far_future(base.instant))
    } else {
        let before = Duration::from_nanos(base.count - count);
        base.instant.checked_sub(before).unwrap_or(base.instant)
    }
}

/// The first count the crate looked at: tick 0 of the wheel.
pub(crate) fn origin_ns() -> u64 {
    base().count
}

/// An instant about 30 years after `now` (less if the platform's `Instant`
/// cannot go that far): far enough to never come (tokio's choice).
pub(crate) fn far_future(now: Instant) -> Instant {
    let mut far = Duration::from_secs(86_400 * 365 * 30);
    loop {
        if let Some(t) = now.checked_add(far) {
            return t;
        }
        far /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_through_counts() {
        let now = Instant::now();
        for t in [
            now,
            now + Duration::from_nanos(1),
            now + Duration::from_secs(3600),
            now.checked_sub(Duration::from_millis(3)).unwrap_or(now),
        ] {
            assert_eq!(instant_of(count_of(t)), t);
        }
    }

    #[test]
    fn an_instant_counts_at_or_after_the_reading_before_it() {
        // A deadline given as an `Instant` is never due before that instant.
        for _ in 0..1000 {
            let before = now_ns();
            let t = Instant::now();
            assert!(count_of(t) >= before);
        }
    }

    #[test]
    fn the_count_follows_instant_now() {
        let start = now_ns();
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let t1 = Instant::now();
        let end = now_ns();
        let counted = end - start;
        let measured = nanos(t1 - t0);
        assert!(counted >= measured, "{counted} < {measured}");
        // Same clock: the two spans differ by the reads around them, not by
        // milliseconds.
        assert!(counted - measured < 5_000_000, "{counted} vs {measured}");
    }

    #[test]
    fn far_counts_saturate() {
        assert!(instant_of(u64::MAX) > Instant::now() + Duration::from_secs(86_400 * 365));
        assert_eq!(nanos(Duration::MAX), u64::MAX);
        let _ = instant_of(0);
    }
}
