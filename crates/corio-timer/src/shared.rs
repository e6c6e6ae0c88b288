//! The process-wide timer state: one wheel behind one mutex, and whoever
//! drives it (the helper thread, or a driver that claimed it).
//!
//! # Design
//!
//! There is one [`Wheel`] per process, in a `static`, guarded by a
//! [`Mutex`] together with the little state the drivers share. The timer
//! handles ([`Sleep`](crate::Sleep), and through it `Timeout` and `Interval`)
//! own an arena key each and call [`register`], [`update`], [`reset`] and
//! [`cancel`]; the driver side calls [`fire_expired`] and [`next_deadline`].
//! Every one of those takes the lock once (`fire_expired` once per batch),
//! does O(1) work on the wheel (firing: O(1) per timer fired or cascaded),
//! and lets go.
//!
//! Time enters as nanosecond counts (see `clock.rs`) and becomes ticks of one
//! millisecond since the first count the crate looked at
//! ([`clock::origin_ns`]). A deadline rounds *up* to its tick
//! ([`deadline_tick`]) and the present rounds *down* ([`now_tick`]), so a
//! timer fires only when `deadline_tick <= now_tick`, which implies
//! `deadline <= now`: never early. All of that arithmetic saturates; the
//! largest count (584 years) is as far as the wheel can see, and it handles
//! that.
//!
//! # Who drives the wheel
//!
//! * By default, the *helper thread* ("corio-timer"), started by the first
//!   insertion: it fires what is due, then waits on [`Shared::cond`] with the
//!   time left until the wheel's next expiration as timeout, or with no
//!   timeout when the wheel is empty (no timers, no wake-ups).
//! * Or a *driver* (the reactor) that [`claim`]ed the wheel: it calls
//!   [`next_deadline`] before it blocks and [`fire_expired`] after. The helper
//!   thread then waits with no timeout until the claim is dropped.
//!
//! `State::armed` is the tick by which whoever drives will next look at the
//! wheel (`u64::MAX`: never). It is set when the driver computes its sleep
//! ([`next_deadline`], the helper's wait). An insertion with an earlier tick
//! lowers it and *kicks* the driver: the helper is notified on the condition
//! variable, a claiming driver gets its `notify` callback. No insertion
//! earlier than the driver's wake-up can go unnoticed: lowering `armed`
//! always kicks, and anything else that changes `armed` (a fresh
//! `next_deadline`, a claim) only makes extra kicks possible. Extra kicks cost
//! one spurious wake-up of the driver; a cancelled timer can likewise cost
//! one, at the time it would have fired.
//!
//! # Invariants and rules
//!
//! * No waker is woken, dropped or otherwise handed to user code while the
//!   lock is held — dropping a waker can drop a task, whose future may own a
//!   `Sleep` whose destructor takes this lock. Wakers leave the critical
//!   sections and are woken or dropped after. (Cloning a waker under the lock
//!   is allowed: it only bumps a count in every executor we know of.)
//! * A key is created by [`register`] and freed only by its owner (by
//!   [`update`] once it reports the firing, by [`cancel`], or by
//!   [`reset`]'s caller through those). The wheel itself never frees one.
//! * The helper thread, once started, lives as long as the process; it holds
//!   no timer and blocks without timeout when there is nothing to do.
//!
//! Every shared word sits behind the one mutex, so there is no lock-free
//! protocol here for loom to explore; the kick rule above is the one argument
//! to re-check when changing this file.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::clock;
use crate::wheel::{self, Wheel};

/// The driver's wake-up callback.
pub(crate) type Notify = Arc<dyn Fn() + Send + Sync>;

/// How many wakers `fire_expired` collects before it lets go of the lock to
/// wake them.
const BATCH: usize = 256;

/// Nanoseconds per tick.
const TICK_NS: u64 = 1_000_000;

struct Shared {
    state: Mutex<State>,
    /// The helper thread waits here.
    cond: Condvar,
}

struct State {
    wheel: Wheel,
    /// See the module docs.
    armed: u64,
    /// The claiming driver's callback, while a [`DriverGuard`](crate::driver::DriverGuard) lives.
    driver: Option<Notify>,
    /// Whether the helper thread has been started.
    helper: bool,
}

static SHARED: Shared = Shared {
    state: Mutex::new(State {
        wheel: Wheel::new(),
        armed: u64::MAX,
        driver: None,
        helper: false,
    }),
    cond: Condvar::new(),
};

/// Locks the state, ignoring poisoning: nothing that can panic (no user code)
/// runs between two steps of a wheel operation, so the data is consistent.
fn lock() -> MutexGuard<'static, State> {
    SHARED.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The tick of a deadline (a nanosecond count), rounded up (a timer never
/// fires early).
#[inline]
pub(crate) fn deadline_tick(deadline: u64) -> u64 {
    deadline
        .saturating_sub(clock::origin_ns())
        .div_ceil(TICK_NS)
}

/// The tick of the present (a nanosecond count), rounded down.
fn now_tick(now: u64) -> u64 {
    now.saturating_sub(clock::origin_ns()) / TICK_NS
}

/// The nanosecond count a tick starts at (saturating).
fn tick_ns(tick: u64) -> u64 {
    clock::origin_ns().saturating_add(tick.saturating_mul(TICK_NS))
}

/// `now + dur`, or a far-future instant when that is not representable.
pub(crate) fn deadline_after(now: Instant, dur: Duration) -> Instant {
    now.checked_add(dur)
        .unwrap_or_else(|| clock::far_future(now))
}

/// What an insertion must do once the lock is released.
enum Kick {
    None,
    Helper,
    SpawnHelper,
    Driver(Notify),
}

impl State {
    /// Lowers `armed` to `tick` and decides whom to kick, if anyone.
    fn kick_for(&mut self, tick: u64) -> Kick {
        if tick >= self.armed {
            return Kick::None;
        }
        self.armed = tick;
        match &self.driver {
            Some(notify) => Kick::Driver(notify.clone()),
            None if self.helper => Kick::Helper,
            None => {
                self.helper = true;
                Kick::SpawnHelper
            }
        }
    }
}

impl Kick {
    fn run(self) {
        match self {
            Kick::None => {}
            Kick::Helper => SHARED.cond.notify_one(),
            Kick::SpawnHelper => spawn_helper(),
            Kick::Driver(notify) => notify(),
        }
    }
}

/// Registers a timer at `tick` for `waker`; `None` if the wheel has already
/// fired that tick (the timer is due).
pub(crate) fn register(tick: u64, waker: &Waker) -> Option<u32> {
    let mut st = lock();
    if tick <= st.wheel.elapsed() {
        return None;
    }
    let key = st.wheel.insert(tick, waker.clone());
    let kick = st.kick_for(tick);
    drop(st);
    kick.run();
    Some(key)
}

/// Re-polls timer `key`: `true` if it has fired (and is now removed);
/// otherwise makes sure it will wake `waker`.
pub(crate) fn update(key: u32, waker: &Waker) -> bool {
    let mut st = lock();
    match st.wheel.update_waker(key, waker) {
        wheel::Poll::Fired => {
            let stale = st.wheel.remove(key);
            drop(st);
            drop(stale);
            true
        }
        wheel::Poll::Pending(old) => {
            drop(st);
            drop(old);
            false
        }
    }
}

/// Moves timer `key` to `tick`; if that is already due, it fires now.
pub(crate) fn reset(key: u32, tick: u64) {
    let mut st = lock();
    let due = st.wheel.reset(key, tick);
    let kick = if due.is_none() {
        st.kick_for(tick)
    } else {
        Kick::None
    };
    drop(st);
    if let Some(waker) = due {
        waker.wake();
    }
    kick.run();
}

/// Removes timer `key`, fired or not.
pub(crate) fn cancel(key: u32) {
    let waker = lock().wheel.remove(key);
    drop(waker);
}

/// See [`driver::next_deadline`](crate::driver::next_deadline).
pub(crate) fn next_deadline() -> Option<Instant> {
    let mut st = lock();
    let next = st.wheel.next_expiration();
    st.armed = next.unwrap_or(u64::MAX);
    drop(st);
    next.map(|tick| clock::instant_of(tick_ns(tick)))
}

/// See [`driver::fire_expired`](crate::driver::fire_expired).
pub(crate) fn fire_expired() -> usize {
    thread_local! {
        static SPARE: std::cell::Cell<Vec<Waker>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let now = now_tick(clock::now_ns());
    // Taken, not borrowed: a waker that fires timers itself gets a fresh one.
    let mut fired = SPARE.try_with(|s| s.take()).unwrap_or_default();
    let mut total = 0;
    loop {
        let (count, done) = lock().wheel.advance(now, &mut fired, BATCH);
        total += count;
        fired.drain(..).for_each(Waker::wake);
        if done {
            break;
        }
    }
    if fired.capacity() <= 4 * BATCH {
        let _ = SPARE.try_with(|s| s.set(fired));
    }
    total
}

/// See [`driver::claim`](crate::driver::claim).
pub(crate) fn claim(notify: Notify) -> bool {
    let mut st = lock();
    if st.driver.is_some() {
        return false;
    }
    st.driver = Some(notify);
    // The new driver has not said when it will look: kick it on every
    // insertion until its first `next_deadline`.
    st.armed = u64::MAX;
    true
}

/// Ends a claim: the helper thread takes over again.
pub(crate) fn release() {
    let mut st = lock();
    let notify = st.driver.take();
    st.armed = u64::MAX;
    let kick = if st.wheel.pending() == 0 {
        Kick::None
    } else if st.helper {
        Kick::Helper
    } else {
        st.helper = true;
        Kick::SpawnHelper
    };
    drop(st);
    drop(notify);
    kick.run();
}

/// Timers registered and not yet fired.
pub(crate) fn pending() -> usize {
    lock().wheel.pending()
}

/// Timers registered, fired or not.
pub(crate) fn registered() -> usize {
    lock().wheel.registered()
}

fn spawn_helper() {
    let spawned = std::thread::Builder::new()
        .name("corio-timer".into())
        .spawn(helper_main);
    if let Err(e) = spawned {
        lock().helper = false;
        panic!("corio-timer: failed to start the timer thread: {e}");
    }
}

/// The helper thread: fires expired timers whenever no driver has claimed the
/// wheel, and otherwise blocks.
fn helper_main() {
    let mut st = lock();
    loop {
        if st.driver.is_some() {
            st = SHARED.cond.wait(st).unwrap_or_else(|e| e.into_inner());
            continue;
        }
        let next = st.wheel.next_expiration();
        let now = clock::now_ns();
        match next {
            Some(tick) if tick <= now_tick(now) => {
                drop(st);
                fire_expired();
                st = lock();
            }
            Some(tick) => {
                st.armed = tick;
                let wait = Duration::from_nanos(tick_ns(tick).saturating_sub(now));
                st = SHARED
                    .cond
                    .wait_timeout(st, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            None => {
                st.armed = u64::MAX;
                st = SHARED.cond.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_deadlines_up_and_now_down() {
        let o = clock::origin_ns();
        assert_eq!(deadline_tick(o), 0);
        assert_eq!(now_tick(o), 0);
        let t = o + 1_500_000;
        assert_eq!(deadline_tick(t), 2);
        assert_eq!(now_tick(t), 1);
        let exact = o + 7 * TICK_NS;
        assert_eq!(deadline_tick(exact), 7);
        assert_eq!(now_tick(exact), 7);
        // Before the origin: tick 0, already due.
        assert_eq!(deadline_tick(o.saturating_sub(1_000_000_000)), 0);
        assert_eq!(tick_ns(7), exact);
    }

    #[test]
    fn far_deadlines_saturate() {
        let now = clock::now();
        let far = deadline_after(now, Duration::MAX);
        assert!(far > now + Duration::from_secs(86_400 * 365));
        assert!(deadline_tick(clock::count_of(far)) > wheel::RANGE);
        assert!(deadline_tick(u64::MAX) > wheel::RANGE);
        assert_eq!(tick_ns(u64::MAX), u64::MAX);
        assert!(clock::instant_of(tick_ns(u64::MAX)) > now);
    }
}
