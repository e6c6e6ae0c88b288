//! Compile-time checks of the auto traits (`Send`, `Sync`, `Unpin`) of every
//! public type of corio-timer, like tokio's `tests/async_send_sync.rs`; a
//! wrong auto-trait impl is a soundness bug, so both directions are checked.
//!
//! What holds, and why:
//!
//! * `Sleep`, `Interval`, `Elapsed`, `MissedTickBehavior`, `SystemClock` and
//!   `DriverGuard` are plain data (a deadline and a slab key; the wheel they
//!   point into is behind a mutex): `Send + Sync + Unpin`.
//! * `Timeout<F>` holds `F`: `Send`/`Sync`/`Unpin` exactly when `F` is.
//! * The futures of `sleep`, `timeout` and `Interval::tick` can move between
//!   threads (they are awaited on multi-threaded executors).
//!
//! Everything here is checked by the compiler; the one runtime test only
//! makes the file show up in test output.

#![allow(dead_code)]

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomPinned;
use std::rc::Rc;

use corio_timer::driver::DriverGuard;
use corio_timer::{Clock, Elapsed, Interval, MissedTickBehavior, Sleep, SystemClock, Timeout};

/// Asserts that a type implements each of the given traits.
macro_rules! assert_impl {
    ($ty:ty: $($tr:path),+ $(,)?) => {
        const _: fn() = || {
            fn check<T: ?Sized $(+ $tr)+>() {}
            check::<$ty>();
        };
    };
}

/// Asserts that a type does *not* implement a trait.
///
/// If `$ty: $tr`, both impls of `Ambiguous` apply to it and the call cannot
/// infer `A`: a compile error. Otherwise only the blanket impl applies.
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

assert_impl!(Sleep: Send, Sync, Unpin, Future<Output = ()>);
assert_impl!(Interval: Send, Sync, Unpin, futures_lite::Stream<Item = std::time::Instant>);
assert_impl!(Elapsed: Send, Sync, Unpin, Copy, Eq, std::error::Error);
assert_impl!(MissedTickBehavior: Send, Sync, Unpin, Copy, Eq);
assert_impl!(SystemClock: Send, Sync, Unpin, Clock);
assert_impl!(DriverGuard: Send, Sync, Unpin);
assert_impl!(dyn Clock: Send, Sync);

// Timeout<F> follows F.
assert_impl!(Timeout<Holds<u32>>: Send, Sync, Unpin);
assert_impl!(Timeout<Holds<Cell<u32>>>: Send, Unpin);
assert_not_impl!(Timeout<Holds<Cell<u32>>>: Sync);
assert_not_impl!(Timeout<Holds<Rc<u32>>>: Send);
assert_not_impl!(Timeout<Holds<Rc<u32>>>: Sync);
assert_not_impl!(Timeout<PinnedFuture>: Unpin);

/// A pending future that owns a `T` (std's `Pending<T>` does not: it is
/// `Send + Sync` for every `T`).
struct Holds<T>(T);

impl<T> Future for Holds<T> {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

/// A future that is not `Unpin`.
struct PinnedFuture(PhantomPinned);

impl Future for PinnedFuture {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

fn require_send<T: Send>(_: &T) {}

#[test]
fn the_async_fns_return_send_futures() {
    let mut every = corio_timer::interval(std::time::Duration::from_secs(1));
    require_send(&every.tick());
    require_send(&corio_timer::sleep(std::time::Duration::ZERO));
    require_send(&corio_timer::timeout(std::time::Duration::ZERO, async {}));
}
