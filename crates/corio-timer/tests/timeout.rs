//! `timeout` and `timeout_at`: the output when the future wins, `Elapsed`
//! when the deadline does, `asyncio.wait_for`'s rule that an expired timeout
//! never polls the future (polls are counted), the inner future polled before
//! the timer, cancellation (a dropped `Timeout` leaves no timer behind), and
//! the `Elapsed` error type.
//!
//! The tests look at the process-wide timer counts, so they take `serial()`.

mod common;

use std::error::Error;
use std::future::{pending, poll_fn, Future};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{poll_with, serial, settle_pending, CountingWaker};
use corio_timer::{sleep, sleep_until, timeout, timeout_at, Elapsed};
use futures_lite::future::block_on;

const MS: Duration = Duration::from_millis(1);

/// A future that counts its polls and completes on poll number `ready_at`
/// (never, if 0).
fn counted(polls: Arc<AtomicUsize>, ready_at: usize) -> impl Future<Output = &'static str> + Unpin {
    poll_fn(move |cx| {
        let n = polls.fetch_add(1, Ordering::SeqCst) + 1;
        if n == ready_at {
            Poll::Ready("inner")
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

#[test]
fn a_ready_future_wins_and_touches_no_timer() {
    let _s = serial();
    let polls = Arc::new(AtomicUsize::new(0));
    let (_, waker) = CountingWaker::new();
    let mut t = timeout(Duration::from_secs(5), counted(polls.clone(), 1));
    assert_eq!(poll_with(&mut t, &waker), Poll::Ready(Ok("inner")));
    assert_eq!(polls.load(Ordering::SeqCst), 1);
    assert_eq!(corio_timer::__registered_timers(), 0);
    assert_eq!(
        block_on(timeout(Duration::from_secs(5), async { 42 })),
        Ok(42)
    );
}

#[test]
fn a_slow_future_loses() {
    let _s = serial();
    let start = Instant::now();
    let r = block_on(timeout(20 * MS, sleep(Duration::from_secs(60))));
    assert_eq!(r, Err(Elapsed::new()));
    assert!(start.elapsed() >= 20 * MS);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(settle_pending(), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);
}

#[test]
fn the_clock_starts_at_the_first_poll() {
    let _s = serial();
    // Like asyncio.wait_for: created, then awaited 30 ms later, a 30 ms
    // timeout still gives its future 30 ms.
    let start = Instant::now();
    let t = timeout(30 * MS, sleep_until(start + 50 * MS));
    assert_eq!(t.deadline(), None);
    std::thread::sleep(30 * MS);
    assert_eq!(block_on(t), Ok(()));
    // timeout_at's deadline is fixed in advance: it is `start + 40 ms`, past
    // by now (the first future finished at `start + 50 ms`), so the inner
    // future, though ready, is not even polled.
    let t = timeout_at(start + 40 * MS, sleep_until(start + 10 * MS));
    assert_eq!(t.deadline(), Some(start + 40 * MS));
    assert_eq!(block_on(t), Err(Elapsed::new()));
}

#[test]
fn a_zero_timeout_never_polls_the_future() {
    let _s = serial();
    let polls = Arc::new(AtomicUsize::new(0));
    let r = block_on(timeout(Duration::ZERO, counted(polls.clone(), 1)));
    assert_eq!(r, Err(Elapsed::new()));
    assert_eq!(polls.load(Ordering::SeqCst), 0);
    let past = Instant::now() - 5 * MS;
    let r = block_on(timeout_at(past, counted(polls.clone(), 1)));
    assert_eq!(r, Err(Elapsed::new()));
    assert_eq!(polls.load(Ordering::SeqCst), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);
}

#[test]
fn the_future_is_polled_before_the_timer() {
    let _s = serial();
    // The inner sleep's deadline is at or before the timeout's: whenever the
    // timeout is due, the inner future is ready too, and it wins.
    for _ in 0..20 {
        let inner = sleep(3 * MS);
        let r = block_on(timeout(3 * MS, inner));
        assert_eq!(r, Ok(()));
    }
    // A future that keeps yielding is polled on each wake-up, then loses.
    let polls = Arc::new(AtomicUsize::new(0));
    let r = block_on(timeout(10 * MS, counted(polls.clone(), 0)));
    assert_eq!(r, Err(Elapsed::new()));
    assert!(polls.load(Ordering::SeqCst) >= 1);
}

#[test]
fn dropping_a_timeout_cancels_its_timer() {
    let _s = serial();
    assert_eq!(settle_pending(), 0);
    let (woken, waker) = CountingWaker::new();
    let mut ts: Vec<_> = (0..100)
        .map(|i| timeout((10 + i) * MS, pending::<()>()))
        .collect();
    for t in &mut ts {
        assert!(poll_with(t, &waker).is_pending());
    }
    assert_eq!(corio_timer::__pending_timers(), 100);
    drop(ts);
    assert_eq!(corio_timer::__pending_timers(), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);
    std::thread::sleep(150 * MS);
    assert_eq!(woken.count(), 0);
}

#[test]
fn the_inner_future_survives_the_deadline() {
    let _s = serial();
    let mut t = timeout(5 * MS, sleep(20 * MS));
    assert!(block_on(&mut t).is_err());
    assert!(t.deadline().unwrap() <= Instant::now());
    let inner = t.into_inner();
    block_on(inner);
    assert_eq!(settle_pending(), 0);
    let mut pinned = Box::pin(timeout(Duration::from_secs(1), async { 1 }));
    assert_eq!(block_on(pinned.as_mut()), Ok(1));
}

#[test]
fn elapsed_is_a_small_error() {
    let e = Elapsed::new();
    let copy = e;
    assert_eq!(e, copy);
    assert_eq!(e.to_string(), "deadline has elapsed");
    assert!(e.source().is_none());
    let boxed: Box<dyn Error + Send + Sync> = Box::new(e);
    assert_eq!(boxed.to_string(), "deadline has elapsed");
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    assert!(format!("{e:?}").contains("Elapsed"));
}

#[test]
fn debug_output_names_the_parts() {
    let t = timeout(MS, std::future::ready(1));
    let s = format!("{t:?}");
    assert!(s.contains("Timeout") && s.contains("deadline"), "{s}");
}
