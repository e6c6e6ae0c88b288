//! [`Deadline`] and [`DeadlineScope`]: one deadline over many awaits
//! (`asyncio.timeout`, `asyncio.timeout_at`).
//!
//! # Design
//!
//! A [`Deadline`] is a cheap handle (`Arc`) to a shared deadline: an
//! `Option<Instant>` (`None`: no deadline, `asyncio.timeout(None)`), a
//! *version* bumped by every [`reschedule`](Deadline::reschedule), the sticky
//! `expired` flag, and the wakers of the scopes currently running under it.
//! [`Deadline::run`] wraps a future in a [`DeadlineScope`], which owns the
//! timer: a [`Sleep`] set to the deadline it last saw (none while there is no
//! deadline). The handle never touches the timer wheel itself; a reschedule
//! records the new deadline and wakes the running scopes, and each of them
//! re-arms its own `Sleep` (O(1), [`Sleep::reset`]) on its next poll.
//!
//! ## Polling order
//!
//! * First poll: if the deadline has already passed, the scope fails at once
//!   without polling its body (like [`timeout`](fn@crate::timeout) and
//!   `asyncio.timeout(0)`). Otherwise the body is polled, and only if it is
//!   pending is the timer armed: a body that completes on its first poll
//!   never touches the wheel. Should the timer turn out to be due already
//!   (the body's poll took that long), the scope wakes itself and reports on
//!   its next poll.
//! * Every later poll: apply a reschedule if one happened, poll the timer
//!   (which also reads the clock, so a deadline that has passed is seen even
//!   if the driver is late), and only then the body.
//!
//! So a scope resolves to `Err(Elapsed)` only at the start of a poll, before
//! it polls its body. That is the nesting rule: when an outer and an inner
//! scope have both expired, the outer checks its own deadline before it
//! polls its body (and with it the inner scope), so the outermost expired
//! scope reports the timeout; an inner scope that expires inside a live
//! outer one resolves to `Err(Elapsed)` inside the outer's `Ok`.
//!
//! ## No lost reschedule
//!
//! `State` sits behind one mutex per deadline; the version is an atomic
//! that only changes with that mutex held, so a scope can check it without
//! locking. A running scope keeps its waker registered in `State::scopes`
//! and a copy of it (`Entry::waker`), with the version it last applied
//! (`Entry::seen`). A poll takes the lock only when its waker changed or the
//! version moved. [`Deadline::reschedule`] stores the deadline and bumps the
//! version under the lock, then wakes every registered waker after letting
//! go. Either the scope's registration (under the lock) comes after the
//! reschedule, and reads the new deadline there, or it comes before, and the
//! reschedule wakes it; the wake happens after the bump, so the poll that
//! follows sees the new version. No interleaving leaves a scope armed for a
//! stale deadline with nobody to wake it.
//!
//! ## Invariants
//!
//! * No waker is woken or dropped with the mutex held: dropping a waker can
//!   drop a task whose future holds a scope of this same deadline, whose
//!   destructor takes the mutex.
//! * A scope is in `State::scopes` exactly from its first poll until it
//!   completes or is dropped (`Entry::leave`); its `Sleep` is in the wheel
//!   at most as long, and is gone as soon as the scope completes.
//! * The version only grows, and only with the mutex held.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use slab::Slab;

use crate::clock;
use crate::shared;
use crate::sleep::{sleep_until, Sleep};
use crate::timeout::Elapsed;

/// A deadline shared by any number of awaits, reschedulable while they run;
/// like the `asyncio.Timeout` object of `async with asyncio.timeout(delay) as cm:`.
///
/// A `Deadline` is a handle: cloning it is cheap (a reference count), all
/// clones see and change the same deadline, and it is `Send + Sync`, so a
/// clone can move to another task or thread. Wrap the code that must finish in
/// time in [`run`](Deadline::run); the returned [`DeadlineScope`] resolves to
/// `Ok(output)` if its body completes first, and to `Err(`[`Elapsed`]`)` as
/// soon as the deadline passes, however many awaits the body is in the
/// middle of. Unlike [`timeout`](fn@crate::timeout), whose clock starts at its
/// first poll, [`Deadline::after`] fixes the deadline when it is called, as
/// `asyncio.timeout(delay)` does.
///
/// Any clone, in the body, in another task or on another thread, can move
/// the deadline with [`reschedule`](Deadline::reschedule) (later, earlier, or
/// away), like asyncio's `cm.reschedule(when)`; the running scopes wake and
/// re-arm their timers. Scopes nest: see [`Deadline::run`].
///
/// One deadline may govern several scopes, one after the other or at once
/// (say, two tasks spawned to serve the same request): each scope has its own
/// timer set to the shared deadline.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corio_timer::{sleep, Deadline, Elapsed};
///
/// # futures_lite::future::block_on(async {
/// let deadline = Deadline::after(Duration::from_millis(30));
/// let res = deadline
///     .run(async {
///         // Each step is short; together they take too long.
///         for _ in 0..100 {
///             sleep(Duration::from_millis(2)).await;
///         }
///     })
///     .await;
/// assert_eq!(res, Err(Elapsed::new()));
/// assert!(deadline.expired());
/// # });
/// ```
#[derive(Clone)]
pub struct Deadline {
    inner: Arc<Inner>,
}

/// What the handles of one deadline share.
struct Inner {
    /// Bumped by every reschedule, only with `state` locked.
    version: AtomicU64,
    /// Set once a scope of this deadline has resolved to `Err(Elapsed)`.
    expired: AtomicBool,
    state: Mutex<State>,
}

struct State {
    /// The deadline; `None`: none.
    when: Option<Instant>,
    /// The wakers of the running scopes.
    scopes: Slab<Waker>,
}

impl Inner {
    /// Locks the state, ignoring poisoning: no code that can panic runs
    /// between two steps of an update, so the data is always consistent.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Deadline {
    fn new(when: Option<Instant>) -> Deadline {
        Deadline {
            inner: Arc::new(Inner {
                version: AtomicU64::new(0),
                expired: AtomicBool::new(false),
                state: Mutex::new(State {
                    when,
                    scopes: Slab::new(),
                }),
            }),
        }
    }

    /// A deadline `duration` from now; like `asyncio.timeout(delay)`.
    ///
    /// The clock starts now, when `after` is called, not when a scope is
    /// first polled. A zero duration makes every scope fail on its first
    /// poll without polling its body. A duration too large to add to the
    /// current instant (`Duration::MAX`) gives a deadline decades away.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use corio_timer::Deadline;
    ///
    /// let before = Instant::now();
    /// let deadline = Deadline::after(Duration::from_secs(5));
    /// let when = deadline.when().unwrap();
    /// assert!(when >= before + Duration::from_secs(5));
    /// ```
    pub fn after(duration: Duration) -> Deadline {
        Deadline::new(Some(shared::deadline_after(clock::now(), duration)))
    }

    /// A deadline at `when`; like `asyncio.timeout_at(when)`.
    ///
    /// If `when` has already passed when a scope is first polled, that scope
    /// fails without polling its body.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use corio_timer::{Deadline, Elapsed};
    ///
    /// # futures_lite::future::block_on(async {
    /// let when = Instant::now() + Duration::from_millis(5);
    /// let deadline = Deadline::at(when);
    /// let never = std::future::pending::<()>();
    /// assert_eq!(deadline.run(never).await, Err(Elapsed::new()));
    /// assert!(Instant::now() >= when);
    /// # });
    /// ```
    pub fn at(when: Instant) -> Deadline {
        Deadline::new(Some(when))
    }

    /// No deadline, until one is set with
    /// [`reschedule`](Deadline::reschedule); like `asyncio.timeout(None)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use corio_timer::{sleep, Deadline};
    ///
    /// # futures_lite::future::block_on(async {
    /// let deadline = Deadline::never();
    /// assert_eq!(deadline.when(), None);
    /// let res = deadline
    ///     .run(async {
    ///         sleep(Duration::from_millis(2)).await;
    ///         // Decide the budget once we know more.
    ///         deadline.reschedule(Instant::now() + Duration::from_secs(5));
    ///         "done"
    ///     })
    ///     .await;
    /// assert_eq!(res, Ok("done"));
    /// # });
    /// ```
    pub fn never() -> Deadline {
        Deadline::new(None)
    }

    /// The current deadline; `None` if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use corio_timer::Deadline;
    ///
    /// let when = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(Deadline::at(when).when(), Some(when));
    /// assert_eq!(Deadline::never().when(), None);
    /// ```
    pub fn when(&self) -> Option<Instant> {
        self.inner.lock().when
    }

    /// Moves the deadline to `when`, or removes it with `None`; like
    /// asyncio's `cm.reschedule(when)`.
    ///
    /// Takes an `Instant` or an `Option<Instant>`. The new deadline may be
    /// later, earlier, already passed (the running scopes then expire on
    /// their next poll), or none. It applies to the scopes running under this
    /// deadline, which are woken at once to re-arm their timers, whatever
    /// task or thread calls `reschedule`, and to the scopes started later. It
    /// changes nothing for scopes that have already completed, and does not
    /// clear [`expired`](Deadline::expired).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use corio_timer::{sleep, Deadline};
    ///
    /// # futures_lite::future::block_on(async {
    /// let deadline = Deadline::after(Duration::from_millis(5));
    /// let res = deadline
    ///     .run(async {
    ///         // Needs more time than planned: push the deadline back.
    ///         deadline.reschedule(Instant::now() + Duration::from_secs(5));
    ///         sleep(Duration::from_millis(20)).await;
    ///         // And now no deadline at all.
    ///         deadline.reschedule(None);
    ///         sleep(Duration::from_millis(5)).await;
    ///     })
    ///     .await;
    /// assert_eq!(res, Ok(()));
    /// assert_eq!(deadline.when(), None);
    /// # });
    /// ```
    pub fn reschedule(&self, when: impl Into<Option<Instant>>) {
        let when = when.into();
        let mut st = self.inner.lock();
        st.when = when;
        self.inner.version.fetch_add(1, Ordering::Release);
        let wakers: Vec<Waker> = st.scopes.iter().map(|(_, w)| w.clone()).collect();
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Whether a scope of this deadline has ended because the deadline
    /// passed; like asyncio's `cm.expired()`.
    ///
    /// `false` until a [`DeadlineScope`] of this deadline resolves to
    /// `Err(`[`Elapsed`]`)`, `true` from then on (even if the deadline is
    /// rescheduled afterwards). A scope that completes in time, or is
    /// dropped, leaves it unchanged. An inner scope that never reports
    /// because an outer one expired first does not count as expired.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use corio_timer::Deadline;
    ///
    /// # futures_lite::future::block_on(async {
    /// let deadline = Deadline::after(Duration::from_millis(5));
    /// assert!(!deadline.expired());
    /// assert_eq!(deadline.run(async { 1 }).await, Ok(1));
    /// assert!(!deadline.expired());
    /// assert!(deadline.run(std::future::pending::<()>()).await.is_err());
    /// assert!(deadline.expired());
    /// # });
    /// ```
    pub fn expired(&self) -> bool {
        self.inner.expired.load(Ordering::Acquire)
    }

    /// Runs `future` under this deadline; like the body of
    /// `async with asyncio.timeout(...):`.
    ///
    /// The returned [`DeadlineScope`] resolves to `Ok(output)` if `future`
    /// completes before the deadline, and to `Err(`[`Elapsed`]`)` once the
    /// deadline has passed (never before). If the deadline has already
    /// passed on the first poll, `future` is not polled at all. While the
    /// scope is pending it follows every [`reschedule`](Deadline::reschedule).
    ///
    /// Scopes nest: an inner scope that expires inside a live outer scope
    /// resolves to its `Err(Elapsed)`, which the body sees and the outer
    /// scope wraps in its `Ok`. When both have expired, the outer scope checks
    /// its own deadline before polling its body, so it is the outermost
    /// expired scope that reports the timeout.
    ///
    /// # Cancel safety
    ///
    /// Dropping the [`DeadlineScope`] at any point drops `future` (losing
    /// what that future would lose when dropped), cancels the scope's timer
    /// in O(1) and unregisters the scope from the deadline; nothing else is
    /// lost. The [`Deadline`] itself, its other scopes and its
    /// [`expired`](Deadline::expired) flag are unaffected. When the deadline
    /// passes, `future` is not dropped by the scope: it stays inside until
    /// the scope is, and [`DeadlineScope::into_inner`] gives it back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use corio_timer::{sleep, Deadline, Elapsed};
    ///
    /// # futures_lite::future::block_on(async {
    /// let outer = Deadline::after(Duration::from_secs(5));
    /// let inner = Deadline::after(Duration::from_millis(5));
    /// let res = outer
    ///     .run(async {
    ///         let slow = inner.run(sleep(Duration::from_secs(60))).await;
    ///         assert_eq!(slow, Err(Elapsed::new()));
    ///         "recovered"
    ///     })
    ///     .await;
    /// assert_eq!(res, Ok("recovered"));
    /// assert!(inner.expired() && !outer.expired());
    /// # });
    /// ```
    pub fn run<F: Future>(&self, future: F) -> DeadlineScope<F> {
        DeadlineScope {
            future,
            entry: Entry {
                inner: self.inner.clone(),
                key: None,
                waker: None,
                seen: 0,
            },
            timer: None,
            phase: Phase::New,
        }
    }
}

impl fmt::Debug for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.lock();
        let (when, running) = (st.when, st.scopes.len());
        drop(st);
        f.debug_struct("Deadline")
            .field("when", &when)
            .field("expired", &self.expired())
            .field("running_scopes", &running)
            .finish()
    }
}

/// A scope's registration with its deadline; see the module docs.
struct Entry {
    inner: Arc<Inner>,
    /// The key in `State::scopes`, while registered.
    key: Option<usize>,
    /// A copy of the waker registered under `key`.
    waker: Option<Waker>,
    /// The version of the deadline this scope last applied.
    seen: u64,
}

impl Entry {
    /// Makes sure `waker` is registered; returns `Some(deadline)` if the
    /// deadline was rescheduled since this scope last looked.
    fn sync(&mut self, waker: &Waker) -> Option<Option<Instant>> {
        let fresh = self.waker.as_ref().is_some_and(|w| w.will_wake(waker));
        if fresh && self.inner.version.load(Ordering::Acquire) == self.seen {
            return None;
        }
        let seen = self.seen;
        let when = self.register(waker);
        (self.seen != seen).then_some(when)
    }

    /// Stores `waker` in the deadline's scopes (unless the one stored would
    /// wake the same task), reads the deadline and its version under the
    /// lock, and records the version as seen.
    fn register(&mut self, waker: &Waker) -> Option<Instant> {
        let fresh = self.waker.as_ref().is_some_and(|w| w.will_wake(waker));
        let new = (!fresh).then(|| waker.clone());
        let mut st = self.inner.lock();
        let old = match (&new, self.key) {
            (None, _) => None,
            (Some(w), Some(key)) => Some(std::mem::replace(&mut st.scopes[key], w.clone())),
            (Some(w), None) => {
                self.key = Some(st.scopes.insert(w.clone()));
                None
            }
        };
        // Only ever changed with the lock held: this is the latest version.
        self.seen = self.inner.version.load(Ordering::Relaxed);
        let when = st.when;
        drop(st);
        drop(old);
        if new.is_some() {
            self.waker = new;
        }
        when
    }

    /// Unregisters the scope (it completed or is being dropped).
    fn leave(&mut self) {
        if let Some(key) = self.key.take() {
            let waker = self.inner.lock().scopes.remove(key);
            drop(waker);
        }
        self.waker = None;
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.leave();
    }
}

/// Where a [`DeadlineScope`] is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not yet polled.
    New,
    /// Polled, pending.
    Running,
    /// Resolved.
    Done,
}

pin_project! {
    /// The future returned by [`Deadline::run`]: a body under a deadline, the
    /// scope of `async with asyncio.timeout(...):`.
    ///
    /// Resolves to `Ok` with the body's output, or to `Err(`[`Elapsed`]`)`
    /// once the deadline has passed first; see [`Deadline::run`] for the
    /// polling rules and nesting. `DeadlineScope<F>` is `Send`, `Sync` and
    /// `Unpin` exactly when `F` is.
    ///
    /// # Panics
    ///
    /// Polling it again after it has resolved panics.
    ///
    /// # Cancel safety
    ///
    /// Dropping a `DeadlineScope` drops its body (losing what the body would
    /// lose when dropped), cancels its timer in O(1) and unregisters it from
    /// its [`Deadline`]; nothing else is lost, and the deadline is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use corio_timer::Deadline;
    ///
    /// # futures_lite::future::block_on(async {
    /// let scope = Deadline::after(Duration::from_secs(1)).run(async { "done" });
    /// assert_eq!(scope.await, Ok("done"));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct DeadlineScope<F> {
        #[pin]
        future: F,
        entry: Entry,
        // The timer, armed at the deadline last seen; `None` while there is
        // no deadline, before the body's first poll and after completion.
        timer: Option<Sleep>,
        phase: Phase,
    }
}

impl<F> DeadlineScope<F> {
    /// A handle to the [`Deadline`] this scope runs under.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_timer::Deadline;
    ///
    /// let deadline = Deadline::never();
    /// let scope = deadline.run(async {});
    /// scope.handle().reschedule(std::time::Instant::now());
    /// assert!(deadline.when().is_some());
    /// ```
    pub fn handle(&self) -> Deadline {
        Deadline {
            inner: self.entry.inner.clone(),
        }
    }

    /// The body, by reference.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = corio_timer::Deadline::never().run(std::future::ready(3));
    /// let _body: &std::future::Ready<i32> = scope.get_ref();
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The body, by mutable reference.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut scope = corio_timer::Deadline::never().run(std::future::ready(3));
    /// let _body: &mut std::future::Ready<i32> = scope.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// Takes the body back, cancelling the scope's timer and leaving the
    /// deadline: useful after [`Elapsed`], to finish the work anyway.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use corio_timer::{sleep, Deadline};
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut scope = Deadline::after(Duration::ZERO).run(sleep(Duration::from_millis(5)));
    /// assert!((&mut scope).await.is_err());
    /// scope.into_inner().await; // finish the sleep after all
    /// # });
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for DeadlineScope<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match *this.phase {
            Phase::Done => panic!("`DeadlineScope` polled after completion"),
            Phase::New => {
                *this.phase = Phase::Running;
                let when = this.entry.register(cx.waker());
                let armed = match when {
                    None => None,
                    Some(when) => {
                        let sleep = sleep_until(when);
                        let now = clock::now_ns();
                        if sleep.deadline_ns() <= now {
                            // asyncio.timeout(0): the body never runs.
                            return Poll::Ready(expire(this.entry, this.timer, this.phase));
                        }
                        Some((sleep, now))
                    }
                };
                if let Poll::Ready(out) = this.future.poll(cx) {
                    // Done on the first poll: the timer never reaches the wheel.
                    return Poll::Ready(complete(this.entry, this.timer, this.phase, out));
                }
                if let Some((mut sleep, now)) = armed {
                    if sleep.poll_at(cx, now).is_ready() {
                        // The deadline passed while the body ran. Report it
                        // on the next poll, which starts at the outermost
                        // scope: an outer scope that expired too goes first.
                        cx.waker().wake_by_ref();
                    }
                    *this.timer = Some(sleep);
                }
                Poll::Pending
            }
            Phase::Running => {
                if let Some(when) = this.entry.sync(cx.waker()) {
                    match (when, this.timer.as_mut()) {
                        (None, _) => *this.timer = None,
                        (Some(when), Some(sleep)) => sleep.reset(when),
                        (Some(when), None) => *this.timer = Some(sleep_until(when)),
                    }
                }
                // Our own deadline first: the nesting rule.
                if let Some(sleep) = this.timer.as_mut() {
                    if Pin::new(sleep).poll(cx).is_ready() {
                        return Poll::Ready(expire(this.entry, this.timer, this.phase));
                    }
                }
                match this.future.poll(cx) {
                    Poll::Ready(out) => {
                        Poll::Ready(complete(this.entry, this.timer, this.phase, out))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

/// Ends a scope whose body completed: drops the timer, leaves the deadline.
fn complete<T>(
    entry: &mut Entry,
    timer: &mut Option<Sleep>,
    phase: &mut Phase,
    out: T,
) -> Result<T, Elapsed> {
    *phase = Phase::Done;
    *timer = None;
    entry.leave();
    Ok(out)
}

/// Ends a scope whose deadline passed: marks the deadline expired, drops the
/// timer, leaves the deadline.
fn expire<T>(
    entry: &mut Entry,
    timer: &mut Option<Sleep>,
    phase: &mut Phase,
) -> Result<T, Elapsed> {
    *phase = Phase::Done;
    *timer = None;
    entry.inner.expired.store(true, Ordering::Release);
    entry.leave();
    Err(Elapsed::new())
}

impl<F: fmt::Debug> fmt::Debug for DeadlineScope<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not under the lock: the body's `Debug` may look at this deadline.
        let when = self.entry.inner.lock().when;
        f.debug_struct("DeadlineScope")
            .field("future", &self.future)
            .field("deadline", &when)
            .field("phase", &self.phase)
            .finish()
    }
}
