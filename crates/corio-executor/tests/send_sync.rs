//! Compile-time checks of the auto traits (`Send`, `Sync`, `Unpin`) of every
//! public type of corio-executor, for task payloads that are `Send + Sync`
//! (`u32`), `Send` only (`Cell<u32>`) and neither (`Rc<u32>`), like tokio's
//! `tests/async_send_sync.rs`. A wrong auto-trait impl is a soundness bug,
//! so both directions are checked: what must hold, and what must not.
//!
//! Everything here is checked by the compiler; the one runtime test only
//! makes the file show up in test output.
//!
//! What holds, and why:
//!
//! * `Task<T>` and `CancelOnDrop<T>` are `Send` exactly when `T: Send` (the
//!   output crosses threads with the handle) and always `Sync` (a shared
//!   handle only gives out the name, the location and `is_finished`, never
//!   the output), like async-task's `Task<T, M>` with `Send + Sync` metadata.
//!   They are always `Unpin`.
//! * `LocalExecutor` and `EnterGuard` belong to their thread: neither `Send`
//!   nor `Sync`.
//! * `UnobservedPanic` holds a `Box<dyn Any + Send>`: `Send` only.
//! * Everything else is `Send + Sync`.

#![allow(dead_code, clippy::diverging_sub_expression, unreachable_code)]

use std::cell::Cell;
use std::rc::Rc;

use corio_executor::coop::ConsumeBudget;
use corio_executor::{
    Builder, CancelOnDrop, EnterGuard, Executor, Handle, JoinError, LocalExecutor, LocalHandle,
    Park, ParkFactory, Task, TaskBuilder, ThreadPark, UnhandledPanic, UnobservedPanic, YieldNow,
};

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

/// The same two checks for the type of an expression (for unnameable
/// futures): `assert_value_impl!(expr: Trait)`, `assert_value_not_impl!(...)`.
macro_rules! assert_value_impl {
    ($value:expr, $tr:path) => {{
        fn check<T: ?Sized + $tr>(_: &T) {}
        check(&$value);
    }};
}

macro_rules! assert_value_not_impl {
    ($value:expr, $tr:path) => {{
        trait Ambiguous<A> {
            fn some_item(&self) {}
        }
        impl<T: ?Sized> Ambiguous<()> for T {}
        struct Invalid;
        impl<T: ?Sized + $tr> Ambiguous<Invalid> for T {}
        Ambiguous::some_item(&$value);
    }};
}

// Executors and their handles.
assert_impl!(Executor: Send, Sync, Unpin);
assert_impl!(Builder: Send, Sync, Unpin);
assert_impl!(Handle: Send, Sync, Unpin);
assert_impl!(LocalHandle: Send, Sync, Unpin);
assert_impl!(LocalExecutor: Unpin);
assert_not_impl!(LocalExecutor: Send);
assert_not_impl!(LocalExecutor: Sync);
assert_impl!(EnterGuard: Unpin);
assert_not_impl!(EnterGuard: Send);
assert_not_impl!(EnterGuard: Sync);
assert_impl!(ParkFactory: Send, Sync, Unpin);
assert_impl!(ThreadPark: Send, Sync, Unpin, Park);
assert_impl!(dyn Park: Send, Sync);

// Tasks, for each kind of payload.
assert_impl!(Task<u32>: Send, Sync, Unpin);
assert_impl!(Task<Cell<u32>>: Send, Sync, Unpin);
assert_impl!(Task<Rc<u32>>: Sync, Unpin);
assert_not_impl!(Task<Rc<u32>>: Send);
assert_impl!(CancelOnDrop<u32>: Send, Sync, Unpin);
assert_impl!(CancelOnDrop<Cell<u32>>: Send, Sync, Unpin);
assert_impl!(CancelOnDrop<Rc<u32>>: Sync, Unpin);
assert_not_impl!(CancelOnDrop<Rc<u32>>: Send);
// Unpin whatever the output.
assert_impl!(Task<std::marker::PhantomPinned>: Unpin);
assert_impl!(TaskBuilder: Send, Sync, Unpin);

// Errors and panic reports.
assert_impl!(JoinError: Send, Sync, Unpin, std::error::Error);
assert_impl!(UnhandledPanic: Send, Sync, Unpin);
assert_impl!(UnobservedPanic: Send, Unpin);
assert_not_impl!(UnobservedPanic: Sync);

// Futures.
assert_impl!(YieldNow: Send, Sync, Unpin);
assert_impl!(ConsumeBudget: Send, Sync, Unpin);

/// The futures of the async methods, checked through values of their types.
fn async_methods(
    task_u32: Task<u32>,
    task_cell: Task<Cell<u32>>,
    task_rc: Task<Rc<u32>>,
    guard_u32: CancelOnDrop<u32>,
    guard_rc: CancelOnDrop<Rc<u32>>,
) {
    assert_value_impl!(task_u32.cancel(), Send);
    assert_value_impl!(task_cell.cancel(), Send);
    assert_value_not_impl!(task_rc.cancel(), Send);
    assert_value_impl!(guard_u32.cancel(), Send);
    assert_value_not_impl!(guard_rc.cancel(), Send);
}

#[test]
fn auto_traits_are_checked_at_compile_time() {
    // Referenced so the checks above are part of the test binary.
    let _ = async_methods;
}
