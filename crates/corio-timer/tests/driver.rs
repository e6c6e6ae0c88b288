//! Who fires the timers: the helper thread with no reactor (under a plain
//! `block_on`, idle without waking when no timer is pending), and a driver
//! that claims the wheel (`driver::claim`): the helper then stays out of the
//! way, `notify` is called for earlier timers, `fire_expired` fires them, and
//! dropping the guard hands pending timers back to the helper. Also:
//! deadlines past the wheel's top level show up in `next_deadline`.
//!
//! A claim affects the whole process, so every test takes `serial()`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{poll_with, serial, settle_pending, wait_until, CountingWaker};
use corio_timer::{driver, sleep, sleep_until};
use futures_lite::future::block_on;

const MS: Duration = Duration::from_millis(1);

fn counting_notify() -> (Arc<AtomicUsize>, Arc<dyn Fn() + Send + Sync>) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    (
        count,
        Arc::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
        }),
    )
}

#[test]
fn the_helper_thread_drives_a_plain_block_on() {
    let _s = serial();
    for ms in [1u64, 5, 20] {
        let start = Instant::now();
        block_on(sleep(Duration::from_millis(ms)));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(ms));
        assert!(
            took < Duration::from_millis(ms + 500),
            "{ms} ms took {took:?}"
        );
    }
    // Concurrent sleeps on plain threads, each with its own block_on.
    let threads: Vec<_> = (0..8)
        .map(|i| std::thread::spawn(move || block_on(sleep((10 + i) * MS))))
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(settle_pending(), 0);
}

#[test]
fn a_claim_stops_the_helper_thread() {
    let _s = serial();
    assert_eq!(settle_pending(), 0);
    let (notified, notify) = counting_notify();
    let guard = driver::claim(notify).expect("no other driver");

    let (woken, waker) = CountingWaker::new();
    let mut s = sleep(10 * MS);
    assert!(poll_with(&mut s, &waker).is_pending());
    assert_eq!(
        notified.load(Ordering::SeqCst),
        1,
        "notify on the earliest timer"
    );
    let next = driver::next_deadline().expect("a timer is pending");
    assert!(next >= s.deadline() && next < s.deadline() + MS);

    std::thread::sleep(50 * MS);
    assert_eq!(woken.count(), 0, "the helper thread fired a claimed timer");
    assert_eq!(corio_timer::__pending_timers(), 1);
    assert_eq!(driver::fire_expired(), 1);
    assert_eq!(woken.count(), 1);
    assert_eq!(poll_with(&mut s, &waker), Poll::Ready(()));
    assert_eq!(driver::next_deadline(), None);

    // notify only for timers earlier than the last next_deadline().
    let before = notified.load(Ordering::SeqCst);
    let mut hour = sleep(Duration::from_secs(3600));
    assert!(poll_with(&mut hour, &waker).is_pending());
    assert_eq!(notified.load(Ordering::SeqCst), before + 1);
    assert!(driver::next_deadline().unwrap() < hour.deadline() + MS);
    let mut two_hours = sleep(Duration::from_secs(7200));
    assert!(poll_with(&mut two_hours, &waker).is_pending());
    assert_eq!(
        notified.load(Ordering::SeqCst),
        before + 1,
        "a later timer notified"
    );
    let mut soon = sleep(5 * MS);
    assert!(poll_with(&mut soon, &waker).is_pending());
    assert_eq!(notified.load(Ordering::SeqCst), before + 2);
    drop((hour, two_hours, soon));
    drop(guard);
    assert_eq!(settle_pending(), 0);
}

#[test]
fn only_one_driver_at_a_time() {
    let _s = serial();
    let (_, notify) = counting_notify();
    let guard = driver::claim(notify.clone()).unwrap();
    assert!(driver::claim(notify.clone()).is_none());
    assert!(format!("{guard:?}").contains("DriverGuard"));
    drop(guard);
    let again = driver::claim(notify).expect("released");
    drop(again);
}

#[test]
fn releasing_the_claim_hands_pending_timers_back_to_the_helper() {
    let _s = serial();
    let (_, notify) = counting_notify();
    let guard = driver::claim(notify).unwrap();
    let (woken, waker) = CountingWaker::new();
    let mut s = sleep(10 * MS);
    assert!(poll_with(&mut s, &waker).is_pending());
    std::thread::sleep(30 * MS);
    assert_eq!(woken.count(), 0);
    drop(guard);
    wait_until(Duration::from_secs(5), || woken.count() == 1);
    assert_eq!(poll_with(&mut s, &waker), Poll::Ready(()));
    // And the helper keeps working for new timers.
    block_on(sleep(5 * MS));
}

#[test]
fn a_claimed_driver_loop_runs_sleeps() {
    let _s = serial();
    let signal = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let sig = signal.clone();
    let guard = driver::claim(Arc::new(move || {
        *sig.0.lock().unwrap() = true;
        sig.1.notify_one();
    }))
    .unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fired = Arc::new(AtomicUsize::new(0));
    let driver_thread = {
        let (stop, fired) = (stop.clone(), fired.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let next = driver::next_deadline();
                let mut flag = signal.0.lock().unwrap();
                if !*flag {
                    let wait = next.map_or(Duration::from_millis(20), |d| {
                        d.saturating_duration_since(Instant::now())
                    });
                    flag = signal.1.wait_timeout(flag, wait).unwrap().0;
                }
                *flag = false;
                drop(flag);
                fired.fetch_add(driver::fire_expired(), Ordering::SeqCst);
            }
        })
    };
    let start = Instant::now();
    let deadlines: Vec<Instant> = (1..=20).map(|i| start + i * 3 * MS).collect();
    let threads: Vec<_> = deadlines
        .iter()
        .map(|&d| std::thread::spawn(move || block_on(sleep_until(d))))
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert!(Instant::now() >= *deadlines.last().unwrap());
    stop.store(true, Ordering::SeqCst);
    driver_thread.join().unwrap();
    drop(guard);
    // Timers that completed through their own clock check were not fired.
    assert!(fired.load(Ordering::SeqCst) <= 20);
    assert_eq!(settle_pending(), 0);
}

#[test]
fn deadlines_past_the_top_level_are_kept() {
    let _s = serial();
    assert_eq!(settle_pending(), 0);
    let (woken, waker) = CountingWaker::new();
    let five_years = Duration::from_secs(5 * 365 * 86_400);
    let mut far = sleep(five_years);
    assert!(poll_with(&mut far, &waker).is_pending());
    assert_eq!(corio_timer::__pending_timers(), 1);
    let next = driver::next_deadline().expect("the far timer is reported");
    assert!(
        next >= far.deadline() && next < far.deadline() + MS,
        "{next:?}"
    );
    // A nearer timer comes first, and the far one is still there after it.
    block_on(sleep(5 * MS));
    assert_eq!(driver::next_deadline(), Some(next));
    assert_eq!(driver::fire_expired(), 0);
    drop(far);
    assert_eq!(driver::next_deadline(), None);
    assert_eq!(woken.count(), 0);
}

/// The helper thread's voluntary context switches, from procfs.
#[cfg(target_os = "linux")]
fn helper_switches() -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path();
        let comm = std::fs::read_to_string(path.join("comm")).ok()?;
        if comm.trim() == "corio-timer" {
            let status = std::fs::read_to_string(path.join("status")).ok()?;
            let line = status
                .lines()
                .find(|l| l.starts_with("voluntary_ctxt_switches"))?;
            return line.split_whitespace().nth(1)?.parse().ok();
        }
    }
    None
}

#[cfg(target_os = "linux")]
#[test]
fn the_helper_thread_sleeps_while_no_timer_is_pending() {
    let _s = serial();
    block_on(sleep(2 * MS)); // make sure the helper exists
    assert_eq!(settle_pending(), 0);
    std::thread::sleep(20 * MS); // let it go back to its untimed wait
    let before = helper_switches().expect("a thread named corio-timer");
    std::thread::sleep(300 * MS);
    assert_eq!(helper_switches(), Some(before), "the idle helper woke up");
    // A cancelled timer costs at most the one wake-up it was armed for.
    let (_, waker) = CountingWaker::new();
    let mut s = sleep(10 * MS);
    assert!(poll_with(&mut s, &waker).is_pending());
    drop(s);
    std::thread::sleep(100 * MS);
    let after = helper_switches().unwrap();
    assert!(after - before <= 3, "{} wake-ups", after - before);
}
