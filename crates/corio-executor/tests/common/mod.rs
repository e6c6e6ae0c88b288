//! Instruments shared by the integration tests: futures that count their
//! polls and drops, outputs that count their drops, a one-shot gate, a
//! thread-backed timeout and a panic hook that keeps expected panics quiet.
//!
//! Each test file includes this with `mod common;` and uses a different
//! subset, hence the `dead_code` allowance.

#![allow(dead_code)]

use std::future::Future;
use std::panic::PanicHookInfo;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// What happened to one instrumented future and its output.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Times the future was polled.
    pub(crate) polls: AtomicUsize,
    /// Times the future was dropped (must end at exactly 1).
    pub(crate) drops: AtomicUsize,
    /// Times the wrapped body ran to its end (returned `Ready`).
    pub(crate) completions: AtomicUsize,
    /// Times an [`Out`] made by this future was dropped.
    pub(crate) output_drops: AtomicUsize,
}

impl Counters {
    pub(crate) fn new() -> Arc<Counters> {
        Arc::new(Counters::default())
    }

    pub(crate) fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }

    pub(crate) fn drops(&self) -> usize {
        self.drops.load(SeqCst)
    }

    pub(crate) fn completions(&self) -> usize {
        self.completions.load(SeqCst)
    }

    pub(crate) fn output_drops(&self) -> usize {
        self.output_drops.load(SeqCst)
    }

    /// `(polls, drops, completions, output drops)`, for one `assert_eq!`.
    pub(crate) fn snapshot(&self) -> (usize, usize, usize, usize) {
        (
            self.polls(),
            self.drops(),
            self.completions(),
            self.output_drops(),
        )
    }
}

/// A future that counts its polls, its completion and its drop.
pub(crate) struct Probe<F> {
    counters: Arc<Counters>,
    inner: Pin<Box<F>>,
}

/// Wraps `future` so that `counters` sees every poll, the completion and the drop.
pub(crate) fn probe<F: Future>(counters: &Arc<Counters>, future: F) -> Probe<F> {
    Probe {
        counters: counters.clone(),
        inner: Box::pin(future),
    }
}

impl<F: Future> Future for Probe<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.counters.polls.fetch_add(1, SeqCst);
        let out = self.inner.as_mut().poll(cx);
        if out.is_ready() {
            self.counters.completions.fetch_add(1, SeqCst);
        }
        out
    }
}

impl<F> Drop for Probe<F> {
    fn drop(&mut self) {
        self.counters.drops.fetch_add(1, SeqCst);
    }
}

/// A task output that counts its drops in its [`Counters`].
#[derive(Debug)]
pub(crate) struct Out {
    pub(crate) value: u64,
    counters: Arc<Counters>,
}

impl Out {
    pub(crate) fn new(counters: &Arc<Counters>, value: u64) -> Out {
        Out {
            value,
            counters: counters.clone(),
        }
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        self.counters.output_drops.fetch_add(1, SeqCst);
    }
}

/// A one-shot event: [`wait`](Gate::wait) is pending until [`open`](Gate::open).
///
/// It keeps the last waker of each waiter, like any real resource would, so
/// a task waiting on a gate is woken by whichever thread opens it.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    open: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Gate {
    pub(crate) fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// Opens the gate and wakes every waiter.
    pub(crate) fn open(&self) {
        self.open.store(true, SeqCst);
        let wakers = std::mem::take(&mut *self.wakers.lock().unwrap());
        for w in wakers {
            w.wake();
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.load(SeqCst)
    }

    /// Wakes every waiter without opening the gate (a spurious wake-up).
    pub(crate) fn wake_all(&self) {
        for w in self.wakers.lock().unwrap().iter() {
            w.wake_by_ref();
        }
    }

    /// Number of wakers held right now.
    pub(crate) fn waiters(&self) -> usize {
        self.wakers.lock().unwrap().len()
    }

    /// Drops the held wakers without waking them.
    pub(crate) fn forget_waiters(&self) {
        self.wakers.lock().unwrap().clear();
    }

    /// A future that is ready once the gate is open.
    pub(crate) fn wait(self: &Arc<Self>) -> GateWait {
        GateWait { gate: self.clone() }
    }
}

/// The future returned by [`Gate::wait`].
#[derive(Debug)]
pub(crate) struct GateWait {
    gate: Arc<Gate>,
}

impl Future for GateWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.gate.is_open() {
            return Poll::Ready(());
        }
        let mut wakers = self.gate.wakers.lock().unwrap();
        // Checked again under the lock: `open` takes the wakers under it.
        if self.gate.is_open() {
            return Poll::Ready(());
        }
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A gate that a helper thread opens after `after`: a timer without a reactor.
///
/// The thread leaves early once nobody but itself holds the gate.
pub(crate) fn timer(after: Duration) -> Arc<Gate> {
    let gate = Gate::new();
    let g = gate.clone();
    let deadline = Instant::now() + after;
    thread::spawn(move || {
        while Instant::now() < deadline {
            if Arc::strong_count(&g) == 1 {
                return;
            }
            thread::sleep(Duration::from_millis(5).min(after));
        }
        g.open();
    });
    gate
}

/// Aborts the process with a message if it is not dropped within `limit`:
/// for tests whose failure mode is a hang somewhere no timeout can reach.
#[derive(Debug)]
pub(crate) struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    pub(crate) fn new(what: String, limit: Duration) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let deadline = Instant::now() + limit;
        thread::spawn(move || {
            while !d.load(SeqCst) {
                if Instant::now() > deadline {
                    eprintln!("watchdog: {what} did not finish within {limit:?}");
                    std::process::abort();
                }
                thread::sleep(Duration::from_millis(10));
            }
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, SeqCst);
    }
}

/// Runs `future` but gives up after `limit`: `None` means it timed out.
pub(crate) async fn timeout<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let deadline = timer(limit);
    futures_lite::future::or(async { Some(future.await) }, async {
        deadline.wait().await;
        None
    })
    .await
}

/// Calls `cond` until it holds or `limit` passes; returns whether it held.
pub(crate) fn spin_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > limit {
            return false;
        }
        thread::sleep(Duration::from_micros(200));
    }
    true
}

/// A waker that counts how often it is woken, for polling a handle by hand.
#[derive(Debug, Default)]
pub(crate) struct CountingWaker {
    pub(crate) wakes: AtomicUsize,
}

impl CountingWaker {
    pub(crate) fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        (counter, waker)
    }

    pub(crate) fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

/// Polls `future` once with `waker`.
pub(crate) fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// Every panic a test provokes on purpose starts with this marker.
pub(crate) const EXPECTED: &str = "expected panic";

/// How the panics the tests provoke on purpose begin: the marker, and the
/// executor's own messages for misuse that the tests check.
const QUIET: &[&str] = &[
    EXPECTED,
    "corio runtime shut down:",
    "corio::spawn called outside a runtime",
    "corio::spawn_local called outside a local runtime",
    "JoinError::into_panic on a task that did not panic",
];

/// Keeps the default panic hook from printing the panics the tests provoke
/// on purpose (a message that starts with a marker, or a payload that is not
/// a string); every other panic (a failing assertion, even one that quotes a
/// provoked panic's message) is still printed.
///
/// Installed once per test binary; the filter leaves unrelated panics
/// alone, so it is safe for tests running in parallel.
pub(crate) fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            // Failing assertions always carry a string; a payload that is not
            // one comes from a test's `panic_any`.
            let quiet = msg.is_none_or(|msg| QUIET.iter().any(|q| msg.starts_with(q)));
            if !quiet {
                default(info);
            }
        }));
    });
}

/// The message of a panic payload caught with `catch_unwind`.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}
