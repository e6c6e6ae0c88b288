//! `sleep` and `sleep_until`: timers fire in deadline order and never early;
//! a dropped `Sleep` leaves the wheel (the pending count returns to 0);
//! `Duration::MAX` neither overflows nor fires; `reset`, `deadline`,
//! `is_elapsed`, and waker replacement on re-poll.
//!
//! The tests look at the process-wide pending count, so they take the file's
//! `serial()` lock; the helper thread drives the timers throughout.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{join_all, poll_with, serial, settle_pending, wait_until, CountingWaker, Rng};
use corio_timer::{sleep, sleep_until, Sleep};
use futures_lite::future::{block_on, or};

const MS: Duration = Duration::from_millis(1);

#[test]
fn timers_fire_in_deadline_order_and_never_early() {
    let _s = serial();
    let mut rng = Rng::new(7);
    let start = Instant::now();
    let seq = Arc::new(AtomicUsize::new(0));
    let deadlines: Vec<Instant> = (0..200)
        .map(|_| start + rng.range(1, 200) as u32 * MS)
        .collect();
    let futures = deadlines
        .iter()
        .map(|&deadline| {
            let seq = seq.clone();
            async move {
                sleep_until(deadline).await;
                (Instant::now(), seq.fetch_add(1, Ordering::SeqCst))
            }
        })
        .collect();
    let results = block_on(join_all(futures));

    let mut by_completion: Vec<(usize, Instant)> = results
        .iter()
        .zip(&deadlines)
        .map(|(&(woke, order), &deadline)| {
            assert!(woke >= deadline, "woke {:?} early", deadline - woke);
            assert!(
                woke - deadline < Duration::from_millis(500),
                "woke far too late"
            );
            (order, deadline)
        })
        .collect();
    by_completion.sort_unstable();
    // Completion order follows the deadlines, up to the wheel's resolution:
    // timers within the same millisecond may complete in any order.
    for pair in by_completion.windows(2) {
        let ((_, a), (_, b)) = (pair[0], pair[1]);
        assert!(
            a <= b + MS,
            "{:?} completed before {:?}",
            a - start,
            b - start
        );
    }
    assert_eq!(settle_pending(), 0);
}

#[test]
fn dropping_a_sleep_cancels_it() {
    let _s = serial();
    assert_eq!(settle_pending(), 0);
    let (counter, waker) = CountingWaker::new();
    let mut sleeps: Vec<Sleep> = (0..1000).map(|i| sleep((20 + i % 300) * MS)).collect();
    // Unpolled sleeps are not registered at all.
    assert_eq!(corio_timer::__pending_timers(), 0);
    for s in &mut sleeps {
        assert!(poll_with(s, &waker).is_pending());
    }
    assert_eq!(corio_timer::__pending_timers(), 1000);
    assert_eq!(corio_timer::__registered_timers(), 1000);
    sleeps.truncate(400);
    assert_eq!(corio_timer::__pending_timers(), 400);
    drop(sleeps);
    assert_eq!(corio_timer::__pending_timers(), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(counter.count(), 0, "a cancelled timer woke its task");
}

#[test]
fn zero_and_past_deadlines_complete_at_once_without_registering() {
    let _s = serial();
    let (counter, waker) = CountingWaker::new();
    let mut zero = sleep(Duration::ZERO);
    assert!(zero.is_elapsed());
    assert_eq!(poll_with(&mut zero, &waker), Poll::Ready(()));
    let mut past = sleep_until(Instant::now() - 10 * MS);
    assert_eq!(poll_with(&mut past, &waker), Poll::Ready(()));
    // Polling again after completion stays complete.
    assert_eq!(poll_with(&mut past, &waker), Poll::Ready(()));
    assert_eq!(corio_timer::__registered_timers(), 0);
    assert_eq!(counter.count(), 0);
}

#[test]
fn a_fired_sleep_frees_its_entry_when_it_completes() {
    let _s = serial();
    let (counter, waker) = CountingWaker::new();
    let mut s = sleep(5 * MS);
    assert!(poll_with(&mut s, &waker).is_pending());
    assert_eq!(corio_timer::__registered_timers(), 1);
    wait_until(Duration::from_secs(5), || counter.count() == 1);
    assert_eq!(corio_timer::__pending_timers(), 0);
    assert_eq!(corio_timer::__registered_timers(), 1); // fired, not yet observed
    assert_eq!(poll_with(&mut s, &waker), Poll::Ready(()));
    assert_eq!(corio_timer::__registered_timers(), 0);
    assert!(s.is_elapsed());
}

#[test]
fn duration_max_never_overflows_nor_fires() {
    let _s = serial();
    let before = Instant::now();
    let mut forever = sleep(Duration::MAX);
    assert!(forever.deadline() > before + Duration::from_secs(20 * 365 * 86_400));
    assert!(!forever.is_elapsed());
    // Awaiting it loses against a short sleep.
    let won = block_on(or(
        async {
            (&mut forever).await;
            "forever"
        },
        async {
            sleep(20 * MS).await;
            "short"
        },
    ));
    assert_eq!(won, "short");
    assert_eq!(corio_timer::__pending_timers(), 1);
    assert_eq!(corio_timer::driver::fire_expired(), 0);
    assert!(!forever.is_elapsed());
    // The farthest deadline an Instant can hold is fine too.
    let mut far = Instant::now();
    let mut step = Duration::MAX;
    while step > Duration::from_secs(1) {
        match far.checked_add(step) {
            Some(t) => far = t,
            None => step /= 2,
        }
    }
    let mut farthest = sleep_until(far);
    let (counter, waker) = CountingWaker::new();
    assert!(poll_with(&mut farthest, &waker).is_pending());
    assert!(poll_with(&mut forever, &waker).is_pending());
    assert_eq!(corio_timer::driver::fire_expired(), 0);
    drop((forever, farthest));
    assert_eq!(corio_timer::__pending_timers(), 0);
    assert_eq!(counter.count(), 0);
}

#[test]
fn reset_moves_a_waiting_sleep() {
    let _s = serial();
    let (counter, waker) = CountingWaker::new();
    let mut s = sleep(Duration::from_secs(3600));
    assert!(poll_with(&mut s, &waker).is_pending());
    // Earlier: the waiting task is woken at the new deadline.
    let soon = Instant::now() + 10 * MS;
    s.reset(soon);
    assert_eq!(s.deadline(), soon);
    wait_until(Duration::from_secs(5), || counter.count() == 1);
    assert!(Instant::now() >= soon);
    assert_eq!(poll_with(&mut s, &waker), Poll::Ready(()));
    // After completing, a reset makes it pending again.
    s.reset(Instant::now() + 10 * MS);
    assert!(!s.is_elapsed());
    assert!(poll_with(&mut s, &waker).is_pending());
    // Into the past while waiting: woken at once.
    s.reset(Instant::now() - MS);
    wait_until(Duration::from_secs(5), || counter.count() == 2);
    assert_eq!(poll_with(&mut s, &waker), Poll::Ready(()));
    assert_eq!(corio_timer::__registered_timers(), 0);
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    let _s = serial();
    let (first, w1) = CountingWaker::new();
    let (second, w2) = CountingWaker::new();
    let mut s = sleep(10 * MS);
    assert!(poll_with(&mut s, &w1).is_pending());
    assert!(poll_with(&mut s, &w1).is_pending()); // same waker: kept
    assert!(poll_with(&mut s, &w2).is_pending()); // replaced
    wait_until(Duration::from_secs(5), || second.count() == 1);
    assert_eq!(first.count(), 0);
    assert_eq!(poll_with(&mut s, &w2), Poll::Ready(()));
}

#[test]
fn a_registered_sleep_moves_between_threads() {
    let _s = serial();
    let (_, waker) = CountingWaker::new();
    let mut s = sleep(20 * MS);
    assert!(poll_with(&mut s, &waker).is_pending());
    let deadline = s.deadline();
    std::thread::spawn(move || block_on(s)).join().unwrap();
    assert!(Instant::now() >= deadline);
    assert_eq!(settle_pending(), 0);
}
