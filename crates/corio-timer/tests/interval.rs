//! `Interval`: ticks on a fixed schedule that does not drift, the missed-tick
//! policies (burst, delay, skip) against a consumer that blocks its thread
//! for several periods, `reset`, cancel safety of `tick`, the `Stream` impl,
//! and the panic on a zero period.
//!
//! These tests assert on scheduled instants, which are exact, and on when
//! ticks are observed only with generous bounds.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use corio_timer::{interval, interval_at, MissedTickBehavior};
use futures_lite::future::block_on;
use futures_lite::StreamExt;

const PERIOD: Duration = Duration::from_millis(20);
const MS: Duration = Duration::from_millis(1);

#[test]
fn ticks_follow_the_schedule_and_never_come_early() {
    block_on(async {
        let start = Instant::now();
        let mut every = interval_at(start, 5 * MS);
        for i in 0..10 {
            let t = every.tick().await;
            assert_eq!(t, start + i * 5 * MS);
            assert!(Instant::now() >= t);
        }
        assert!(start.elapsed() >= 45 * MS);
    });
}

#[test]
fn the_first_tick_of_interval_is_immediate() {
    block_on(async {
        let before = Instant::now();
        let mut every = interval(Duration::from_secs(3600));
        let first = every.tick().await;
        assert!(first >= before && first <= Instant::now());
        assert_eq!(every.period(), Duration::from_secs(3600));
        assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Burst);
    });
}

/// What a consumer that fell behind saw.
struct Late {
    /// When the first tick was scheduled.
    start: Instant,
    /// The clock just before and just after the first late tick was taken.
    before: Instant,
    after: Instant,
    /// The late tick, then the ticks that followed with when each was seen.
    ticks: Vec<(Instant, Instant)>,
}

/// Takes the first tick at `start`, then blocks the thread for 3.5 periods
/// (a slow consumer), then takes the late tick with one poll (it is due, so
/// the poll completes whatever the machine's load) and `n` more ticks.
fn late_consumer(behavior: MissedTickBehavior, n: usize) -> Late {
    block_on(async {
        let start = Instant::now() + 5 * MS;
        let mut every = interval_at(start, PERIOD);
        every.set_missed_tick_behavior(behavior);
        assert_eq!(every.tick().await, start);
        std::thread::sleep(PERIOD * 7 / 2);
        let waker = std::task::Waker::noop();
        let before = Instant::now();
        let Poll::Ready(late) = every.poll_tick(&mut Context::from_waker(waker)) else {
            panic!("a due tick is pending");
        };
        let after = Instant::now();
        let mut ticks = vec![(late, after)];
        for _ in 0..n {
            let t = every.tick().await;
            ticks.push((t, Instant::now()));
        }
        Late {
            start,
            before,
            after,
            ticks,
        }
    })
}

#[test]
fn burst_delivers_every_missed_tick() {
    let late = late_consumer(MissedTickBehavior::Burst, 4);
    let scheduled: Vec<_> = late.ticks.iter().map(|t| t.0).collect();
    let expected: Vec<_> = (1..=5).map(|i| late.start + i * PERIOD).collect();
    assert_eq!(scheduled, expected);
    for (t, seen) in &late.ticks {
        assert!(seen >= t);
    }
    // The missed ticks are all due at once: each completes on its first poll.
    block_on(async {
        let start = Instant::now() - 10 * PERIOD;
        let mut every = interval_at(start, PERIOD);
        let waker = std::task::Waker::noop();
        for i in 0..=10 {
            let poll = every.poll_tick(&mut Context::from_waker(waker));
            assert_eq!(poll, Poll::Ready(start + i * PERIOD));
        }
    });
}

#[test]
fn delay_restarts_from_the_late_tick() {
    let late = late_consumer(MissedTickBehavior::Delay, 2);
    assert_eq!(late.ticks[0].0, late.start + PERIOD);
    // The next tick is one period after the late one was taken.
    let (t2, seen2) = late.ticks[1];
    assert!(t2 >= late.before + PERIOD && t2 <= late.after + PERIOD);
    assert!(seen2 >= t2);
    assert_eq!(late.ticks[2].0, t2 + PERIOD);
}

#[test]
fn skip_drops_missed_ticks_and_stays_aligned() {
    let late = late_consumer(MissedTickBehavior::Skip, 2);
    assert_eq!(late.ticks[0].0, late.start + PERIOD);
    let (t2, seen2) = late.ticks[1];
    // The first point of the original grid after the late tick was taken.
    let offset = t2 - late.start;
    assert_eq!(offset.as_nanos() % PERIOD.as_nanos(), 0, "{offset:?}");
    assert!(t2 > late.before && t2 <= late.after + PERIOD);
    assert!(offset >= 4 * PERIOD);
    assert!(seen2 >= t2);
    assert_eq!(late.ticks[2].0, t2 + PERIOD);
}

#[test]
fn reset_restarts_the_schedule() {
    block_on(async {
        let mut every = interval(Duration::from_secs(3600));
        every.tick().await;
        let before = Instant::now();
        every.reset_at(before + 5 * MS);
        assert_eq!(every.tick().await, before + 5 * MS);
        let before = Instant::now();
        let mut short = interval(10 * MS);
        short.tick().await;
        short.reset();
        let t = short.tick().await;
        assert!(t >= before + 10 * MS);
        assert!(Instant::now() >= t);
    });
}

#[test]
fn dropping_a_tick_loses_nothing() {
    block_on(async {
        let start = Instant::now();
        let mut every = interval_at(start, 10 * MS);
        assert_eq!(every.tick().await, start);
        {
            let mut tick = pin!(every.tick());
            let waker = std::task::Waker::noop();
            assert!(tick
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending());
        } // dropped while waiting
        assert_eq!(every.tick().await, start + 10 * MS);
        // poll_tick is the same thing by hand.
        let t = std::future::poll_fn(|cx| every.poll_tick(cx)).await;
        assert_eq!(t, start + 20 * MS);
        let waker = std::task::Waker::noop();
        assert_eq!(
            every.poll_tick(&mut Context::from_waker(waker)),
            Poll::Pending
        );
    });
}

#[test]
fn an_interval_is_a_stream() {
    let start = Instant::now();
    let ticks: Vec<Instant> = block_on(interval_at(start, 2 * MS).take(4).collect());
    assert_eq!(
        ticks,
        (0..4).map(|i| start + i * 2 * MS).collect::<Vec<_>>()
    );
    assert_eq!(
        futures_lite::Stream::size_hint(&interval(MS)),
        (usize::MAX, None)
    );
}

#[test]
#[should_panic(expected = "`period` must be non-zero")]
fn a_zero_period_panics() {
    let _ = interval(Duration::ZERO);
}

#[test]
#[should_panic(expected = "`period` must be non-zero")]
fn a_zero_period_panics_at_too() {
    let _ = interval_at(Instant::now(), Duration::ZERO);
}

#[test]
fn debug_output() {
    let every = interval(PERIOD);
    let s = format!("{every:?}");
    assert!(s.contains("Interval") && s.contains("period"), "{s}");
}
