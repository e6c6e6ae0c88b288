//! loom models of the channel's wake-up protocol.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p corio-sync --test loom_channel`
//! (or `cargo xtask test --loom`). Under `cfg(loom)` the channel's atomics,
//! fences and `Arc`, event-listener and concurrent-queue all use loom's types,
//! so each model explores every interleaving (up to the preemption bound) of
//! the real code:
//!
//! * a send racing a waiting receive: the receiver gets the value;
//! * a blocked send racing the receiver's drop or `close`: the sender wakes up
//!   and gets its value back (no lost wake-up, no hang);
//! * the last sender's drop racing a waiting receive: the receiver wakes up
//!   with `RecvError`;
//! * a receive freeing room racing a blocked send: the send completes;
//! * two sends racing two waiting receivers: each value wakes its own
//!   receiver (notifications are *additional* ones);
//! * a receive cancelled after one poll racing a send and another receiver:
//!   the value is never lost and the other receiver is woken.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use corio_sync::channel::{self, RecvError, SendError};
use loom::sync::Notify;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(f);
}

/// Blocks the (loom) thread on `future`; the waker is a `loom::sync::Notify`.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Notify);
    impl Wake for Unpark {
        fn wake(self: StdArc<Self>) {
            self.0.notify();
        }
    }
    let unpark = StdArc::new(Unpark(Notify::new()));
    let waker = Waker::from(unpark.clone());
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return out;
        }
        unpark.0.wait();
    }
}

struct Noop;

impl Wake for Noop {
    fn wake(self: StdArc<Self>) {}
}

#[test]
fn send_races_waiting_recv() {
    model(|| {
        let (tx, rx) = channel::bounded(1);
        // The sender outlives the receive (it is handed back by `join`), so
        // the channel's close cannot stand in for a lost wake-up.
        let sender = thread::spawn(move || {
            tx.try_send(1).unwrap();
            tx
        });
        assert_eq!(block_on(rx.recv()), Ok(1));
        drop(sender.join().unwrap());
    });
}

#[test]
fn blocked_send_races_receiver_drop() {
    model(|| {
        let (tx, rx) = channel::bounded(1);
        tx.try_send(0).unwrap();
        let sender = thread::spawn(move || tx.send_blocking(1));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(SendError(1)));
    });
}

#[test]
fn blocked_send_races_close() {
    model(|| {
        let (tx, rx) = channel::bounded(1);
        tx.try_send(0).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(1)));
        assert!(rx.close());
        assert_eq!(sender.join().unwrap(), Err(SendError(1)));
        assert_eq!(rx.try_recv(), Ok(0), "values sent before the close stay");
    });
}

#[test]
fn last_sender_drop_races_waiting_recv() {
    model(|| {
        let (tx, rx) = channel::unbounded::<u8>();
        let dropper = thread::spawn(move || drop(tx));
        assert_eq!(rx.recv_blocking(), Err(RecvError));
        dropper.join().unwrap();
    });
}

#[test]
fn recv_frees_room_for_blocked_send() {
    model(|| {
        let (tx, rx) = channel::bounded(1);
        tx.try_send(1).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(2)));
        assert_eq!(rx.try_recv(), Ok(1));
        sender.join().unwrap().unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
    });
}

#[test]
fn cancelled_recv_never_loses_the_value_or_the_wakeup() {
    model(|| {
        let (tx, rx) = channel::unbounded();
        let rx2 = rx.clone();
        let tx2 = tx.clone();
        // Receiver A polls once and gives up; if it did get the value, it
        // puts it back, so receiver B must always end up with it.
        let a = thread::spawn(move || {
            let waker = Waker::from(StdArc::new(Noop));
            let mut fut = pin!(rx2.recv());
            if let Poll::Ready(Ok(v)) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
                tx2.try_send(v).unwrap();
            }
            tx2
        });
        let sender = thread::spawn(move || {
            tx.try_send(7).unwrap();
            tx
        });
        assert_eq!(block_on(rx.recv()), Ok(7));
        drop((a.join().unwrap(), sender.join().unwrap()));
    });
}

#[test]
fn two_sends_wake_two_waiting_receivers() {
    model(|| {
        let (tx, rx) = channel::unbounded();
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || block_on(rx.recv()).unwrap())
            })
            .collect();
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        // `tx` is still alive: only the sends' own wake-ups can finish this.
        let mut got: Vec<i32> = receivers.into_iter().map(|r| r.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        drop(tx);
    });
}
