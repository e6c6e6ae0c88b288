//! A minimal single-waiter notification, shared by every runtime.
//!
//! The ping-pong workload measures how fast an executor turns a wake-up into a poll
//! of the woken task. The wake-up itself must therefore cost the same under every
//! runtime: this module is that one wake-up, written once and used identically by
//! corio, tokio and smol, so that only the executor differs.
//!
//! A [`Notify`] holds a flag and at most one registered waker. [`Notify::notify`] sets
//! the flag and wakes the waiter; [`Notify::wait`] completes once the flag is set and
//! clears it. A notification given while nobody waits is kept (one, not counted): the
//! next `wait` completes at once. Only one task may wait at a time.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

/// A flag plus one waker: the cheapest cross-task wake-up that is correct across threads.
#[derive(Debug, Default)]
pub(crate) struct Notify {
    set: AtomicBool,
    waker: AtomicWaker,
}

impl Notify {
    /// Creates a notification that is not set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Sets the flag and wakes the waiting task, if any.
    pub(crate) fn notify(&self) {
        // Release: whatever the notifier wrote before is visible to the waiter that sees the flag.
        self.set.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Waits until the flag is set, then clears it.
    pub(crate) fn wait(&self) -> Wait<'_> {
        Wait { notify: self }
    }

    fn try_take(&self) -> bool {
        self.set.swap(false, Ordering::Acquire)
    }
}

/// The future returned by [`Notify::wait`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Wait<'a> {
    notify: &'a Notify,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let notify = self.notify;
        // Fast path: already notified, no waker traffic at all.
        if notify.try_take() {
            return Poll::Ready(());
        }
        notify.waker.register(cx.waker());
        // Check again: a `notify` between the first check and `register` found no waker
        // to wake, but it had set the flag before looking.
        if notify.try_take() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Notify;
    use std::sync::Arc;

    #[test]
    fn kept_until_waited() {
        let n = Notify::new();
        n.notify();
        futures_lite::future::block_on(n.wait());
        assert!(!n.try_take());
    }

    #[test]
    fn wakes_across_threads() {
        let ping = Arc::new(Notify::new());
        let pong = Arc::new(Notify::new());
        let (p, q) = (ping.clone(), pong.clone());
        let t = std::thread::spawn(move || {
            for _ in 0..10_000 {
                futures_lite::future::block_on(p.wait());
                q.notify();
            }
        });
        for _ in 0..10_000 {
            ping.notify();
            futures_lite::future::block_on(pong.wait());
        }
        t.join().unwrap();
    }
}
