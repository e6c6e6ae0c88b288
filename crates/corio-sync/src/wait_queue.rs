//! [`WaitQueue`]: the parking lot of the channels' senders and receivers.
//!
//! # Design
//!
//! A [`Waiters`] list under a mutex, used as a notification queue: a task
//! that must wait [`register`](WaitQueue::register)s (getting a key), tries its
//! operation once more, then [`poll`](WaitQueue::poll)s its key until it is
//! notified. [`notify_one`](WaitQueue::notify_one) grants the *first* waiter
//! still waiting, so successive notifications reach different waiters, FIFO;
//! [`notify_all`](WaitQueue::notify_all) grants every one.
//!
//! A waiter that is dropped ([`cancel`](WaitQueue::cancel)) after it was
//! granted, before its poll consumed the grant, passes the notification on to
//! the next waiter: a cancelled receive never swallows the wake-up of a value
//! that another receiver could take.
//!
//! Registration and notification each take the mutex once, and nothing
//! allocates once the list has grown to the peak number of waiters (the keys
//! index a slab). Wakers are woken after the mutex is released.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::sync::{lock, thread, Mutex};
use crate::waiters::{State, Waiters, WakeList};

/// A FIFO notification queue; see the module docs.
#[derive(Debug)]
pub(crate) struct WaitQueue {
    waiters: Mutex<Waiters>,
}

impl WaitQueue {
    pub(crate) fn new() -> WaitQueue {
        WaitQueue {
            waiters: Mutex::new(Waiters::new()),
        }
    }

    /// Adds a waiter at the back, not yet notified, and returns its key.
    pub(crate) fn register(&self, waker: Option<&Waker>) -> usize {
        lock(&self.waiters).push(waker.cloned(), 0)
    }

    /// `Ready` once `key` was notified, which frees the key (do not use it
    /// again); otherwise stores the task's waker and gives `Pending`.
    pub(crate) fn poll(&self, key: usize, cx: &mut Context<'_>) -> Poll<()> {
        let mut waiters = lock(&self.waiters);
        if waiters.state(key) == State::Waiting {
            waiters.set_waker(key, cx.waker());
            Poll::Pending
        } else {
            waiters.remove(key);
            Poll::Ready(())
        }
    }

    /// Blocks the thread until `key` is notified, then frees the key.
    pub(crate) fn wait(&self, key: usize) {
        let waker = Waker::from(Arc::new(Unparker(thread::current())));
        loop {
            {
                let mut waiters = lock(&self.waiters);
                if waiters.state(key) != State::Waiting {
                    waiters.remove(key);
                    return;
                }
                waiters.set_waker(key, &waker);
            }
            thread::park();
        }
    }

    /// Frees `key`, dropping a notification it received: for waiters that are
    /// all notified together ([`notify_all`](WaitQueue::notify_all)), where
    /// there is nothing to pass on.
    pub(crate) fn remove(&self, key: usize) {
        lock(&self.waiters).remove(key);
    }

    /// Frees `key` without waiting any longer; a notification it had received
    /// but not consumed goes to the next waiter.
    pub(crate) fn cancel(&self, key: usize) {
        let (state, _) = lock(&self.waiters).remove(key);
        if state == State::Granted {
            self.notify_one();
        }
    }

    /// Notifies the first waiter that was not notified yet, if any.
    pub(crate) fn notify_one(&self) {
        let waker = lock(&self.waiters).pop_front(State::Granted);
        if let Some(Some(waker)) = waker {
            waker.wake();
        }
    }

    /// Notifies every waiter.
    pub(crate) fn notify_all(&self) {
        let mut wakers = WakeList::new();
        lock(&self.waiters).drain_into(State::Granted, &mut wakers);
        wakers.wake_all();
    }
}

/// Wakes a thread blocked in [`WaitQueue::wait`].
struct Unparker(thread::Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}
