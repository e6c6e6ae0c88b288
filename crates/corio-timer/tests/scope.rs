//! Deadline scopes (`Deadline`, `DeadlineScope`; asyncio's `timeout` and
//! `timeout_at` context managers): many awaits time out as a whole;
//! `reschedule` later, earlier and to `None`, from the body, from another
//! task and from another thread, with the scope woken to re-arm its timer;
//! the nesting rule (the outermost expired scope reports); a passed deadline
//! never polls the body; dropping a scope at any await point leaves no timer
//! in the wheel and no registration on the deadline; `expired()`; both
//! drivers (helper thread and a claiming driver); auto traits; and a bounded
//! stress run on tokio's multi-threaded runtime with random reschedules and
//! random cancellation.
//!
//! The tests look at the process-wide timer counts (and one claims the
//! driver), so they take `serial()`. Timing assertions only ever check
//! "never early" exactly; upper bounds are generous (seconds).

mod common;

use std::cell::Cell;
use std::future::{pending, poll_fn, Future};
use std::marker::PhantomPinned;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{join_all, poll_with, serial, settle_pending, CountingWaker, Rng};
use corio_timer::{driver, sleep, sleep_until, timeout, Deadline, DeadlineScope, Elapsed};
use futures_lite::future::{block_on, or};

const MS: Duration = Duration::from_millis(1);
/// The generous bound for anything expected to take milliseconds.
const SLOW: Duration = Duration::from_secs(5);

/// A body that counts its polls and never completes (it waits for a wake-up
/// that does not come).
fn counted_pending(polls: Arc<AtomicUsize>) -> impl Future<Output = ()> + Unpin {
    poll_fn(move |_| {
        polls.fetch_add(1, Ordering::SeqCst);
        Poll::Pending
    })
}

/// No timer left in the wheel, none even registered.
fn assert_wheel_empty() {
    assert_eq!(settle_pending(), 0, "a timer is still pending");
    assert_eq!(
        corio_timer::__registered_timers(),
        0,
        "a timer is registered"
    );
}

/// How many scopes run under `d`, read from its `Debug` output.
fn running_scopes(d: &Deadline) -> usize {
    let s = format!("{d:?}");
    let at = s
        .find("running_scopes: ")
        .expect("Debug names running_scopes")
        + 16;
    s[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Runs `attempt` until it returns `true` (it returns `false` when the
/// machine stalled so long that the run proves nothing), at most 5 times.
fn retry_if_stalled(mut attempt: impl FnMut() -> bool) {
    for _ in 0..5 {
        if attempt() {
            return;
        }
    }
    panic!("every attempt stalled past its deadline");
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap()
}

#[test]
fn many_awaits_time_out_as_a_whole() {
    let _s = serial();
    let start = Instant::now();
    let deadline = Deadline::after(100 * MS);
    let when = deadline.when().unwrap();
    let steps = AtomicUsize::new(0);
    let res = block_on(deadline.run(async {
        for _ in 0..1000 {
            // Each step is well within the deadline on its own.
            let step = timeout(SLOW, sleep(5 * MS)).await;
            assert_eq!(step, Ok(()));
            steps.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let took = start.elapsed();
    assert_eq!(res, Err(Elapsed::new()));
    assert!(Instant::now() >= when, "expired early");
    assert!(took < SLOW, "took {took:?}");
    // 1000 steps of 5 ms take 5 s or more: the deadline cut them short.
    let steps = steps.load(Ordering::SeqCst);
    assert!(steps < 1000, "{steps} steps");
    assert!(deadline.expired());
    assert_wheel_empty();
}

#[test]
fn a_body_that_finishes_in_time_is_ok_and_leaves_no_timer() {
    let _s = serial();
    let deadline = Deadline::after(SLOW);
    let mut scope = Box::pin(deadline.run(async {
        sleep(2 * MS).await;
        sleep(2 * MS).await;
        7
    }));
    assert_eq!(block_on(scope.as_mut()), Ok(7));
    // Completion drops the timer at once, before the scope itself is.
    assert_eq!(corio_timer::__registered_timers(), 0);
    assert_eq!(running_scopes(&deadline), 0);
    assert!(!deadline.expired());
    drop(scope);
    // A body ready on its first poll never reaches the wheel.
    let (_, waker) = CountingWaker::new();
    let mut quick = deadline.run(std::future::ready(1));
    assert_eq!(poll_with(&mut quick, &waker), Poll::Ready(Ok(1)));
    assert_eq!(corio_timer::__registered_timers(), 0);
}

#[test]
fn reschedule_later_from_the_body_extends() {
    let _s = serial();
    retry_if_stalled(|| {
        let original = Instant::now() + 80 * MS;
        let deadline = Deadline::at(original);
        let in_time = AtomicBool::new(false);
        let res = block_on(deadline.run(async {
            // The timer is armed by now; move it.
            sleep(5 * MS).await;
            in_time.store(Instant::now() < original, Ordering::SeqCst);
            deadline.reschedule(Instant::now() + SLOW);
            sleep_until(original + 50 * MS).await;
            "extended"
        }));
        if !in_time.load(Ordering::SeqCst) {
            return false;
        }
        assert_eq!(res, Ok("extended"));
        assert!(Instant::now() >= original + 50 * MS);
        assert!(!deadline.expired());
        assert!(deadline.when().unwrap() > original + SLOW / 2);
        true
    });
    assert_wheel_empty();
}

#[test]
fn reschedule_earlier_from_the_body_shortens() {
    let _s = serial();
    let start = Instant::now();
    let deadline = Deadline::after(Duration::from_secs(60));
    let target = Mutex::new(None);
    let res = block_on(deadline.run(async {
        sleep(2 * MS).await;
        let t = Instant::now() + 20 * MS;
        *target.lock().unwrap() = Some(t);
        deadline.reschedule(t);
        pending::<()>().await;
    }));
    assert_eq!(res, Err(Elapsed::new()));
    let target = target.lock().unwrap().unwrap();
    assert!(Instant::now() >= target, "expired early");
    assert!(start.elapsed() < SLOW);
    assert_eq!(deadline.when(), Some(target));
    assert!(deadline.expired());
    // Into the past: the scope expires on its next poll.
    let deadline = Deadline::after(Duration::from_secs(60));
    let res = block_on(deadline.run(async {
        sleep(2 * MS).await;
        deadline.reschedule(Instant::now() - 10 * MS);
        pending::<()>().await;
    }));
    assert_eq!(res, Err(Elapsed::new()));
    assert_wheel_empty();
}

#[test]
fn reschedule_none_removes_the_deadline() {
    let _s = serial();
    retry_if_stalled(|| {
        let original = Instant::now() + 50 * MS;
        let deadline = Deadline::at(original);
        let in_time = AtomicBool::new(false);
        let res = block_on(deadline.run(async {
            sleep(2 * MS).await;
            in_time.store(Instant::now() < original, Ordering::SeqCst);
            deadline.reschedule(None);
            sleep_until(original + 30 * MS).await;
            sleep(5 * MS).await;
        }));
        if !in_time.load(Ordering::SeqCst) {
            return false;
        }
        assert_eq!(res, Ok(()));
        assert!(Instant::now() >= original + 35 * MS);
        assert_eq!(deadline.when(), None);
        assert!(!deadline.expired());
        true
    });
    assert_wheel_empty();
}

/// The protocol step by step, with a counting waker: a reschedule wakes the
/// running scope once, and its next poll moves, removes or adds its timer.
#[test]
fn a_reschedule_wakes_the_scope_which_rearms_its_timer() {
    let _s = serial();
    assert_wheel_empty();
    let (woken, waker) = CountingWaker::new();
    let polls = Arc::new(AtomicUsize::new(0));
    let deadline = Deadline::after(Duration::from_secs(60));
    let mut scope = deadline.run(counted_pending(polls.clone()));
    assert!(poll_with(&mut scope, &waker).is_pending());
    assert_eq!(corio_timer::__pending_timers(), 1);
    assert_eq!(running_scopes(&deadline), 1);

    // None: the timer leaves the wheel.
    deadline.reschedule(None);
    assert_eq!(woken.count(), 1);
    assert!(poll_with(&mut scope, &waker).is_pending());
    assert_eq!(corio_timer::__registered_timers(), 0);

    // A deadline again: a new timer.
    let when = Instant::now() + Duration::from_secs(2);
    deadline.reschedule(when);
    assert_eq!(woken.count(), 2);
    assert!(poll_with(&mut scope, &waker).is_pending());
    assert_eq!(corio_timer::__pending_timers(), 1);
    let next = driver::next_deadline().unwrap();
    assert!(next >= when && next < when + MS);

    // Later: the same timer moves.
    let later = Instant::now() + Duration::from_secs(30);
    deadline.reschedule(later);
    assert_eq!(woken.count(), 3);
    assert!(poll_with(&mut scope, &waker).is_pending());
    assert_eq!(corio_timer::__registered_timers(), 1);
    let next = driver::next_deadline().unwrap();
    assert!(next >= later && next < later + MS);
    std::thread::sleep(20 * MS);
    assert_eq!(woken.count(), 3);
    assert!(poll_with(&mut scope, &waker).is_pending());

    // Into the past: expires on the next poll, without polling the body.
    let before = polls.load(Ordering::SeqCst);
    deadline.reschedule(Instant::now());
    assert!(woken.count() >= 4);
    assert_eq!(
        poll_with(&mut scope, &waker),
        Poll::Ready(Err(Elapsed::new()))
    );
    assert_eq!(polls.load(Ordering::SeqCst), before);
    assert!(deadline.expired());
    assert_eq!(running_scopes(&deadline), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);

    // After the scope ended, a reschedule wakes nobody.
    let count = woken.count();
    deadline.reschedule(None);
    assert_eq!(woken.count(), count);
    // A new waker on a later poll is the one a reschedule wakes.
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let d = Deadline::never();
    let mut s = d.run(pending::<()>());
    assert!(poll_with(&mut s, &old_waker).is_pending());
    assert!(poll_with(&mut s, &new_waker).is_pending());
    d.reschedule(Instant::now() + SLOW);
    assert_eq!((old.count(), new.count()), (0, 1));
}

#[test]
fn reschedule_from_another_thread_wakes_the_scope() {
    let _s = serial();
    let (woken, waker) = CountingWaker::new();
    let original = Instant::now() + 60 * MS;
    let deadline = Deadline::at(original);
    let mut scope = deadline.run(pending::<()>());
    assert!(poll_with(&mut scope, &waker).is_pending());

    // Later, from another thread: the old deadline passes harmlessly.
    let d = deadline.clone();
    std::thread::spawn(move || d.reschedule(Instant::now() + SLOW))
        .join()
        .unwrap();
    // (If this thread stalled past the old deadline, its timer fired too.)
    let in_time = Instant::now() < original;
    assert!(woken.count() >= 1);
    if in_time {
        assert_eq!(woken.count(), 1);
    }
    assert!(poll_with(&mut scope, &waker).is_pending());
    std::thread::sleep((original + 30 * MS).saturating_duration_since(Instant::now()));
    assert!(poll_with(&mut scope, &waker).is_pending());
    if in_time {
        assert_eq!(woken.count(), 1);
    }

    // Earlier, from another thread, while the scope waits in block_on on
    // this one: it must be woken (the old deadline is seconds away).
    let d = deadline.clone();
    let target = Arc::new(Mutex::new(None));
    let t = target.clone();
    let other = std::thread::spawn(move || {
        std::thread::sleep(20 * MS);
        let when = Instant::now() + 10 * MS;
        *t.lock().unwrap() = Some(when);
        d.reschedule(when);
    });
    let start = Instant::now();
    assert_eq!(block_on(&mut scope), Err(Elapsed::new()));
    other.join().unwrap();
    assert!(Instant::now() >= target.lock().unwrap().unwrap());
    assert!(
        start.elapsed() < SLOW,
        "the reschedule did not wake the scope"
    );
    drop(scope);
    assert_wheel_empty();
}

#[test]
fn reschedule_from_another_task_on_tokio() {
    let _s = serial();
    let rt = tokio_rt();
    rt.block_on(async {
        // Earlier: a scope waiting on a 60 s deadline is cut short.
        let deadline = Deadline::after(Duration::from_secs(60));
        let d = deadline.clone();
        let scope = tokio::spawn(async move { d.run(pending::<()>()).await });
        let d = deadline.clone();
        let when = tokio::spawn(async move {
            sleep(10 * MS).await;
            let when = Instant::now() + 10 * MS;
            d.reschedule(when);
            when
        })
        .await
        .unwrap();
        let res = timeout(SLOW, scope).await.expect("lost wake-up").unwrap();
        assert_eq!(res, Err(Elapsed::new()));
        assert!(Instant::now() >= when);
        assert!(deadline.expired());

        // Later: the scope outlives its original deadline. If the other
        // task is so late that the original deadline passed before it
        // rescheduled, the run proves nothing: try again.
        for attempt in 0.. {
            assert!(attempt < 5, "never rescheduled in time");
            let original = Instant::now() + 150 * MS;
            let deadline = Deadline::at(original);
            let started = Arc::new(AtomicBool::new(false));
            let (d, st) = (deadline.clone(), started.clone());
            let scope = tokio::spawn(async move {
                d.run(async {
                    st.store(true, Ordering::SeqCst);
                    sleep_until(original + 50 * MS).await;
                    "extended"
                })
                .await
            });
            let d = deadline.clone();
            let rescheduled_at = tokio::spawn(async move {
                while !started.load(Ordering::SeqCst) {
                    tokio::task::yield_now().await;
                }
                d.reschedule(Instant::now() + SLOW);
                Instant::now()
            })
            .await
            .unwrap();
            let res = timeout(SLOW, scope).await.expect("hung").unwrap();
            if rescheduled_at + 5 * MS < original {
                assert_eq!(res, Ok("extended"));
                assert!(!deadline.expired());
                break;
            }
        }
    });
    drop(rt);
    assert_wheel_empty();
}

#[test]
fn the_outermost_expired_scope_reports() {
    let _s = serial();
    let (_, waker) = CountingWaker::new();
    retry_if_stalled(|| {
        let polls = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let outer = Deadline::at(start + 60 * MS);
        let inner = Deadline::at(start + 30 * MS);
        let mut scope = Box::pin(outer.run(inner.run(counted_pending(polls.clone()))));
        if poll_with(&mut scope, &waker).is_ready() {
            return false; // stalled past the inner deadline already
        }
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        std::thread::sleep((start + 90 * MS).saturating_duration_since(Instant::now()));
        // Both have expired: the outer reports, without polling the inner.
        assert_eq!(
            poll_with(&mut scope, &waker),
            Poll::Ready(Err(Elapsed::new()))
        );
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        assert!(outer.expired());
        assert!(!inner.expired());
        true
    });
    assert_wheel_empty();

    // Both expire while the body blocks inside one poll: still the outer.
    retry_if_stalled(|| {
        let polls = AtomicUsize::new(0);
        let outer = Deadline::after(40 * MS);
        let inner = Deadline::after(20 * MS);
        let res = block_on(outer.run(inner.run(poll_fn(|_| {
            if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                std::thread::sleep(60 * MS);
            }
            Poll::<()>::Pending
        }))));
        if polls.load(Ordering::SeqCst) == 0 {
            return false; // stalled past the inner deadline before the first poll
        }
        assert_eq!(res, Err(Elapsed::new()));
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        assert!(outer.expired() && !inner.expired());
        true
    });
    assert_wheel_empty();
}

#[test]
fn an_inner_expiry_surfaces_inside_the_outer_ok() {
    let _s = serial();
    let outer = Deadline::after(SLOW);
    let inner = Deadline::after(10 * MS);
    let res = block_on(outer.run(async {
        let first = inner.run(sleep(Duration::from_secs(60))).await;
        // The outer scope keeps going after the inner one expired.
        sleep(5 * MS).await;
        let second = Deadline::after(SLOW).run(async { 2 }).await;
        (first, second)
    }));
    assert_eq!(res, Ok((Err(Elapsed::new()), Ok(2))));
    assert!(inner.expired());
    assert!(!outer.expired());
    // The same handle may also nest inside itself; the inner scope sees the
    // same deadline, the outer one reports.
    let d = Deadline::after(10 * MS);
    let res = block_on(d.run(d.run(pending::<()>())));
    assert_eq!(res, Err(Elapsed::new()));
    assert_wheel_empty();
}

#[test]
fn a_passed_deadline_never_polls_the_body() {
    let _s = serial();
    let polls = Arc::new(AtomicUsize::new(0));
    let zero = Deadline::after(Duration::ZERO);
    assert_eq!(
        block_on(zero.run(counted_pending(polls.clone()))),
        Err(Elapsed::new())
    );
    assert!(zero.expired());
    let past = Deadline::at(Instant::now() - 5 * MS);
    assert_eq!(
        block_on(past.run(counted_pending(polls.clone()))),
        Err(Elapsed::new())
    );
    // Rescheduled into the past before the first poll.
    let later = Deadline::after(SLOW);
    let scope = later.run(counted_pending(polls.clone()));
    later.reschedule(Instant::now());
    assert_eq!(block_on(scope), Err(Elapsed::new()));
    // Even a ready body is not polled.
    let ready = Deadline::after(Duration::ZERO).run(async {
        polls.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(block_on(ready), Err(Elapsed::new()));
    assert_eq!(polls.load(Ordering::SeqCst), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);
    assert_eq!(running_scopes(&later), 0);
}

#[test]
fn dropping_a_scope_cancels_its_timer() {
    let _s = serial();
    assert_wheel_empty();
    let (woken, waker) = CountingWaker::new();
    let start = Instant::now();
    let deadline = Deadline::at(start + 200 * MS);
    let mut scopes: Vec<DeadlineScope<_>> =
        (0..100).map(|_| deadline.run(pending::<()>())).collect();
    for s in &mut scopes {
        assert!(poll_with(s, &waker).is_pending());
    }
    assert_eq!(corio_timer::__pending_timers(), 100);
    assert_eq!(running_scopes(&deadline), 100);
    drop(scopes);
    assert_eq!(corio_timer::__pending_timers(), 0);
    assert_eq!(corio_timer::__registered_timers(), 0);
    assert_eq!(running_scopes(&deadline), 0);
    // Neither the old deadline nor a reschedule wakes a dropped scope.
    std::thread::sleep((start + 250 * MS).saturating_duration_since(Instant::now()));
    deadline.reschedule(Instant::now() + MS);
    std::thread::sleep(20 * MS);
    assert_eq!(woken.count(), 0);
    assert!(!deadline.expired(), "a dropped scope does not expire");
}

/// Drops a scope after each of its polls in turn (so at every await point
/// of its body): the body's own timers and the scope's leave the wheel, and
/// the deadline keeps no registration.
#[test]
fn dropping_at_every_await_point_leaves_nothing_behind() {
    let _s = serial();
    let (_, waker) = CountingWaker::new();
    for cut in 0..6 {
        let deadline = Deadline::after(SLOW);
        let inner = Deadline::after(SLOW);
        let mut scope = Box::pin(deadline.run(async {
            sleep(MS).await;
            inner.run(sleep(2 * MS)).await.unwrap();
            sleep(MS).await;
            deadline.reschedule(Instant::now() + SLOW);
            inner.run(sleep(MS)).await.unwrap();
        }));
        let mut polls = 0;
        while polls < cut {
            if poll_with(&mut scope, &waker).is_ready() {
                break;
            }
            polls += 1;
            std::thread::sleep(3 * MS);
        }
        drop(scope);
        assert_eq!(corio_timer::__pending_timers(), 0, "cut at {cut}");
        assert_eq!(corio_timer::__registered_timers(), 0, "cut at {cut}");
        assert_eq!(running_scopes(&deadline), 0);
        assert_eq!(running_scopes(&inner), 0);
        assert!(!deadline.expired() && !inner.expired());
    }
}

#[test]
fn expired_tells_how_the_scope_ended() {
    let _s = serial();
    let d = Deadline::after(200 * MS);
    assert!(!d.expired());
    assert_eq!(block_on(d.run(async { 1 })), Ok(1));
    assert!(!d.expired());
    assert_eq!(block_on(d.run(pending::<()>())), Err(Elapsed::new()));
    assert!(d.expired());
    // Sticky: rescheduling afterwards does not clear it.
    d.reschedule(Instant::now() + SLOW);
    assert!(d.expired());
    // A deadline that never comes never expires.
    let never = Deadline::never();
    assert_eq!(block_on(never.run(sleep(5 * MS))), Ok(()));
    assert!(!never.expired());
    assert_eq!(never.when(), None);
}

#[test]
fn into_inner_gives_the_body_back_after_elapsed() {
    let _s = serial();
    let mut scope = Deadline::after(5 * MS).run(sleep(30 * MS));
    assert!(block_on(&mut scope).is_err());
    assert!(scope.handle().expired());
    let body = scope.into_inner();
    block_on(body);
    assert_wheel_empty();
}

#[test]
#[should_panic(expected = "polled after completion")]
fn polling_after_completion_panics() {
    let (_, waker) = CountingWaker::new();
    let mut scope = Deadline::never().run(std::future::ready(()));
    assert!(poll_with(&mut scope, &waker).is_ready());
    let _ = poll_with(&mut scope, &waker);
}

/// The same scopes with a driver that claims the wheel: a thread that waits
/// on a condition variable until `next_deadline` or `notify`, then fires.
#[test]
fn works_with_a_claiming_driver() {
    let _s = serial();
    assert_wheel_empty();
    let signal = Arc::new((Mutex::new(false), Condvar::new()));
    let notified = Arc::new(AtomicUsize::new(0));
    let (s, n) = (signal.clone(), notified.clone());
    let guard = driver::claim(Arc::new(move || {
        n.fetch_add(1, Ordering::SeqCst);
        *s.0.lock().unwrap() = true;
        s.1.notify_one();
    }))
    .expect("no other driver");
    let stop = Arc::new(AtomicBool::new(false));
    let fired = Arc::new(AtomicUsize::new(0));
    let (st, f) = (stop.clone(), fired.clone());
    let driver_thread = std::thread::spawn(move || {
        while !st.load(Ordering::SeqCst) {
            let wait = driver::next_deadline()
                .map_or(10 * MS, |d| d.saturating_duration_since(Instant::now()))
                .min(10 * MS);
            let mut flag = signal.0.lock().unwrap();
            if !*flag {
                flag = signal.1.wait_timeout(flag, wait).unwrap().0;
            }
            *flag = false;
            drop(flag);
            f.fetch_add(driver::fire_expired(), Ordering::SeqCst);
        }
    });

    let deadline = Deadline::after(40 * MS);
    let when = deadline.when().unwrap();
    let res = block_on(deadline.run(async {
        loop {
            sleep(3 * MS).await;
        }
    }));
    assert_eq!(res, Err(Elapsed::new()));
    assert!(Instant::now() >= when);
    // Rescheduled earlier from another thread while the driver drives.
    let deadline = Deadline::after(Duration::from_secs(60));
    let d = deadline.clone();
    let other = std::thread::spawn(move || {
        std::thread::sleep(10 * MS);
        d.reschedule(Instant::now() + 10 * MS);
    });
    let res = block_on(timeout(SLOW, deadline.run(pending::<()>())));
    assert_eq!(res, Ok(Err(Elapsed::new())), "lost wake-up");
    other.join().unwrap();

    stop.store(true, Ordering::SeqCst);
    driver_thread.join().unwrap();
    drop(guard);
    assert!(fired.load(Ordering::SeqCst) > 0, "the driver fired nothing");
    assert!(notified.load(Ordering::SeqCst) > 0);
    assert_wheel_empty();
}

/// Many scopes on tokio's workers at once: bodies that reschedule their own
/// deadline at random (later, earlier, none), scopes cancelled at random
/// points by a racing sleep, and deadlines moved by another task. Every scope
/// that reports `Elapsed` does so at or after its deadline; every scope
/// finishes; nothing is left in the wheel or registered on a deadline.
#[test]
fn stress_random_reschedules_and_cancellation_on_tokio() {
    let _s = serial();
    const TASKS: u64 = 400;
    let rt = tokio_rt();
    let start = Instant::now();
    let outcomes = rt.block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|i| {
                tokio::spawn(async move {
                    let mut rng = Rng::new(i + 1);
                    let deadline = match rng.next() % 4 {
                        0 => Deadline::never(),
                        _ => Deadline::after(rng.range(0, 30) as u32 * MS),
                    };
                    let steps = rng.range(1, 8);
                    let mut body_rng = Rng::new(rng.next());
                    let d = deadline.clone();
                    let scope = deadline.run(async move {
                        for _ in 0..steps {
                            match body_rng.next() % 6 {
                                0 => d.reschedule(None),
                                1 => {
                                    d.reschedule(Instant::now() + body_rng.range(0, 20) as u32 * MS)
                                }
                                _ => {}
                            }
                            sleep(body_rng.range(0, 4) as u32 * MS).await;
                        }
                    });
                    let cancel_after = rng.range(0, 40) as u32 * MS;
                    let cancel = rng.next() % 3 == 0;
                    let res = if cancel {
                        or(async { Some(scope.await) }, async {
                            sleep(cancel_after).await;
                            None
                        })
                        .await
                    } else {
                        Some(scope.await)
                    };
                    if let Some(Err(_)) = res {
                        let when = deadline.when().expect("expired without a deadline");
                        assert!(Instant::now() >= when, "expired early");
                        assert!(deadline.expired());
                    }
                    assert_eq!(running_scopes(&deadline), 0);
                    res.map(|r| r.is_ok())
                })
            })
            .collect();
        // Scopes with no deadline of their own, cut short by another task:
        // a lost wake-up would hang one of them.
        let shared: Vec<Deadline> = (0..100).map(|_| Deadline::never()).collect();
        let waiting: Vec<_> = shared
            .iter()
            .map(|d| {
                let d = d.clone();
                tokio::spawn(async move { d.run(pending::<()>()).await })
            })
            .collect();
        let mover = tokio::spawn(async move {
            let mut rng = Rng::new(99);
            for d in &shared {
                if rng.next() % 2 == 0 {
                    tokio::task::yield_now().await;
                }
                d.reschedule(Instant::now() + rng.range(0, 5) as u32 * MS);
            }
        });
        let mut outcomes = Vec::new();
        for h in handles {
            outcomes.push(timeout(SLOW * 2, h).await.expect("a scope hung").unwrap());
        }
        mover.await.unwrap();
        for w in waiting {
            let r = timeout(SLOW * 2, w).await.expect("lost wake-up").unwrap();
            assert_eq!(r, Err(Elapsed::new()));
        }
        outcomes
    });
    drop(rt);
    let took = start.elapsed();
    let ok = outcomes.iter().filter(|o| **o == Some(true)).count();
    let elapsed = outcomes.iter().filter(|o| **o == Some(false)).count();
    let cancelled = outcomes.iter().filter(|o| o.is_none()).count();
    eprintln!("scope stress: {ok} ok, {elapsed} elapsed, {cancelled} cancelled, {took:?}");
    assert!(ok > 0 && elapsed > 0 && cancelled > 0);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_wheel_empty();
}

/// Many scopes of one deadline, on a plain join: a reschedule reaches all.
#[test]
fn one_deadline_governs_many_scopes() {
    let _s = serial();
    let deadline = Deadline::after(Duration::from_secs(60));
    let scopes: Vec<_> = (0..50).map(|_| deadline.run(pending::<()>())).collect();
    let d = deadline.clone();
    let mover = std::thread::spawn(move || {
        std::thread::sleep(10 * MS);
        d.reschedule(Instant::now() + 5 * MS);
    });
    let results = block_on(timeout(SLOW, join_all(scopes))).expect("lost wake-up");
    mover.join().unwrap();
    assert!(results.iter().all(|r| *r == Err(Elapsed::new())));
    assert_eq!(running_scopes(&deadline), 0);
    assert_wheel_empty();
}

#[test]
fn debug_output_names_the_parts() {
    let d = Deadline::never();
    let s = format!("{d:?}");
    assert!(
        s.contains("Deadline") && s.contains("when") && s.contains("expired"),
        "{s}"
    );
    let scope = d.run(std::future::ready(1));
    let s = format!("{scope:?}");
    assert!(s.contains("DeadlineScope") && s.contains("deadline"), "{s}");
}

// Auto traits: the handle is plain shared data; a scope is Send/Sync/Unpin
// exactly when its body is.
macro_rules! assert_impl {
    ($ty:ty: $($tr:path),+ $(,)?) => {
        const _: fn() = || {
            fn check<T: ?Sized $(+ $tr)+>() {}
            check::<$ty>();
        };
    };
}

macro_rules! assert_not_impl {
    ($ty:ty: $tr:path) => {
        const _: fn() = || {
            trait Ambiguous<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> Ambiguous<()> for T {}
            struct Invalid;
            impl<T: ?Sized + $tr> Ambiguous<Invalid> for T {}
            let _ = <$ty as Ambiguous<_>>::some_item;
        };
    };
}

type SendSync = std::future::Ready<u8>;
type SendOnly = std::future::Ready<Cell<u8>>;
type Neither = std::future::Ready<Rc<u8>>;

/// A body that is not `Unpin`.
struct PinnedBody(PhantomPinned);

impl Future for PinnedBody {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

assert_impl!(Deadline: Send, Sync, Unpin, Clone, std::fmt::Debug);
assert_impl!(DeadlineScope<SendSync>: Send, Sync, Unpin, Future<Output = Result<u8, Elapsed>>);
assert_impl!(DeadlineScope<SendOnly>: Send);
assert_not_impl!(DeadlineScope<SendOnly>: Sync);
assert_not_impl!(DeadlineScope<Neither>: Send);
assert_not_impl!(DeadlineScope<Neither>: Sync);
assert_impl!(DeadlineScope<PinnedBody>: Send, Sync);
assert_not_impl!(DeadlineScope<PinnedBody>: Unpin);

#[test]
fn a_pinned_body_runs_in_a_pinned_scope() {
    let _s = serial();
    let scope = Box::pin(Deadline::after(SLOW).run(PinnedBody(PhantomPinned)));
    assert_eq!(block_on(scope), Ok(()));
    assert_eq!(corio_timer::__registered_timers(), 0);
}
