//! Condition: wait/notify FIFO, wait_for, notify without the lock, and
//! notifications passed on by waiters dropped after being notified.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use corio_sync::{Condition, Lock};
use futures_lite::future;

fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

/// A future that locks, then waits once; returns the guard's value.
async fn lock_and_wait(cond: &Condition<Vec<usize>>, id: usize) -> usize {
    let g = cond.lock().await;
    let mut g = cond.wait(g).await;
    g.push(id);
    id
}

#[test]
fn notify_wakes_in_fifo_order() {
    let cond = Condition::new(Vec::new());
    let mut waiters: Vec<_> = (0..4).map(|i| Box::pin(lock_and_wait(&cond, i))).collect();
    for w in &mut waiters {
        assert!(poll(w.as_mut()).is_pending());
    }
    assert!(!cond.is_locked(), "waiting releases the lock");
    assert_eq!(cond.notify(1), 1);
    // Only the first waiter was notified.
    for i in (1..4).rev() {
        assert!(poll(waiters[i].as_mut()).is_pending());
    }
    assert_eq!(poll(waiters[0].as_mut()), Poll::Ready(0));
    assert_eq!(cond.notify(2), 2);
    assert!(poll(waiters[3].as_mut()).is_pending());
    assert_eq!(poll(waiters[2].as_mut()), Poll::Ready(2));
    assert_eq!(poll(waiters[1].as_mut()), Poll::Ready(1));
    assert_eq!(cond.notify_all(), 1);
    assert_eq!(poll(waiters[3].as_mut()), Poll::Ready(3));
    assert_eq!(cond.notify_all(), 0);
    assert_eq!(*cond.try_lock().unwrap(), [0, 2, 1, 3]);
}

#[test]
fn notified_then_dropped_passes_notification_on() {
    let cond = Condition::new(Vec::new());
    let mut a = Box::pin(lock_and_wait(&cond, 0));
    let mut b = Box::pin(lock_and_wait(&cond, 1));
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    assert_eq!(cond.notify(1), 1); // a is notified...
    drop(a); // ...but goes away before seeing it
    assert_eq!(poll(b.as_mut()), Poll::Ready(1));
    assert_eq!(*cond.try_lock().unwrap(), [1]);
}

#[test]
fn notified_then_dropped_while_relocking_passes_notification_on() {
    let cond = Condition::new(Vec::new());
    let mut a = Box::pin(lock_and_wait(&cond, 0));
    let mut b = Box::pin(lock_and_wait(&cond, 1));
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    let holder = cond.try_lock().unwrap();
    cond.notify(1);
    // a sees the notification and queues for the lock, which we hold.
    assert!(poll(a.as_mut()).is_pending());
    drop(a); // the notification passes to b
    drop(holder);
    assert_eq!(poll(b.as_mut()), Poll::Ready(1));
}

#[test]
fn not_notified_waiter_dropped_passes_nothing() {
    let cond = Condition::new(Vec::new());
    let mut a = Box::pin(lock_and_wait(&cond, 0));
    let mut b = Box::pin(lock_and_wait(&cond, 1));
    let mut c = Box::pin(lock_and_wait(&cond, 2));
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    assert!(poll(c.as_mut()).is_pending());
    drop(a);
    assert!(poll(b.as_mut()).is_pending());
    assert_eq!(cond.notify(1), 1);
    assert!(poll(c.as_mut()).is_pending());
    assert_eq!(poll(b.as_mut()), Poll::Ready(1));
    assert!(poll(c.as_mut()).is_pending());
}

#[test]
fn returned_waiter_does_not_pass_on() {
    let cond = Condition::new(Vec::new());
    let mut a = Box::pin(lock_and_wait(&cond, 0));
    let mut b = Box::pin(lock_and_wait(&cond, 1));
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    cond.notify(1);
    assert_eq!(poll(a.as_mut()), Poll::Ready(0));
    drop(a);
    assert!(
        poll(b.as_mut()).is_pending(),
        "the notification was consumed"
    );
}

#[test]
fn notify_with_nobody_waiting_is_lost() {
    let cond = Condition::new(Vec::new());
    assert_eq!(cond.notify(3), 0);
    let mut a = Box::pin(lock_and_wait(&cond, 0));
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(a.as_mut()).is_pending());
}

#[test]
#[should_panic(expected = "another lock")]
fn wait_with_foreign_guard_panics() {
    let cond = Condition::new(0);
    let other = Lock::new(0);
    future::block_on(async {
        let g = other.lock().await;
        let _ = cond.wait(g).await;
    });
}

#[test]
fn wait_for_predicate_on_executor() {
    let ex = corio_executor::Executor::builder()
        .worker_threads(4)
        .build()
        .unwrap();
    ex.block_on(async {
        let cond = Arc::new(Condition::new(0usize));
        let consumers: Vec<_> = (0..8)
            .map(|i| {
                let cond = cond.clone();
                corio_executor::spawn(async move {
                    let g = cond.lock().await;
                    let g = cond.wait_for(g, |n| *n > i * 10).await;
                    *g
                })
            })
            .collect();
        for _ in 0..100 {
            *cond.lock().await += 1;
            // notify does not need the lock.
            cond.notify_all();
            corio_executor::yield_now().await;
        }
        for (i, c) in consumers.into_iter().enumerate() {
            assert!(c.await.unwrap() > i * 10);
        }
        let mut cond = Arc::try_unwrap(cond).unwrap();
        *cond.get_mut() += 1;
        assert_eq!(cond.into_inner(), 101);
    });
}

#[test]
fn condition_from_lock_and_debug() {
    let cond = Condition::from(Lock::new(3));
    assert_eq!(
        format!("{cond:?}"),
        "Condition { lock: Lock { data: 3 }, waiters: 0 }"
    );
    let g = future::block_on(cond.lock());
    assert!(cond.is_locked());
    drop(g);
}
