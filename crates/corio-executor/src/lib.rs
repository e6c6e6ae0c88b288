//! corio's task spawner: asyncio's event loop tasks, for Rust.
//!
//! This crate runs futures as tasks. It is what `asyncio.create_task`,
//! awaiting a task and `task.cancel()` are in Python:
//!
//! | asyncio | corio-executor |
//! |---|---|
//! | `asyncio.create_task(coro)` | [`spawn`] → [`Task<T>`], running at once |
//! | `await task` | `task.await` → `Result<T, JoinError>` |
//! | `task.cancel()`; `await task` | [`Task::cancel`]`.await` |
//! | a task nobody awaits | dropping a [`Task`] detaches it; it keeps running |
//! | "Task exception was never retrieved" | [`UnhandledPanic`] |
//! | `await asyncio.sleep(0)` | [`yield_now`] |
//! | `await asyncio.to_thread(f)`, `loop.run_in_executor(None, f)` | [`unblock`]`(f).await` |
//! | the event loop | [`Executor`] (many threads) or [`LocalExecutor`] (one) |
//! | `asyncio.gather(*aws)` | [`gather`](fn@crate::gather)`(futs).await` → `Result<Vec<T>, JoinError>`; [`try_gather`] for `Result` children; [`gather!`] for mixed types |
//! | `asyncio.gather(*aws, return_exceptions=True)` | [`gather_settled`]`(futs).await` → `Vec<Result<T, JoinError>>` |
//! | `asyncio.wait(tasks, return_when=..., timeout=...)` | [`wait`](fn@crate::wait)`(tasks, `[`ReturnWhen`]`)`, [`wait_until`]`(tasks, when, deadline)` → `(done, pending)` |
//! | `asyncio.as_completed(aws)` | [`as_completed`] / [`as_completed_tasks`] → a `Stream` in completion order |
//! | `wait(FIRST_COMPLETED)` then cancel the rest | [`race`](fn@crate::race)`(futs).await`: first output wins, the others are dropped |
//! | `asyncio.shield(aw)` | [`shield`]`(fut)`: dropping the [`Shield`] leaves the task running |
//! | `async with asyncio.TaskGroup() as tg:` | [`task_group`]`(\|tg\| async move { .. })`, or [`TaskGroup`] + [`TaskGroup::join`] |
//!
//! # A short tour
//!
//! ```
//! use corio_executor::{Executor, TaskBuilder};
//!
//! let ex = Executor::builder().worker_threads(2).build().unwrap();
//! let total = ex.block_on(async {
//!     // Tasks start running as soon as they are spawned.
//!     let tasks: Vec<_> = (1..=10).map(|i| corio_executor::spawn(async move { i * i })).collect();
//!     let mut total = 0;
//!     for t in tasks {
//!         total += t.await.unwrap();
//!     }
//!     // A panic stays inside its task and reaches whoever awaits it.
//!     let bad = TaskBuilder::new().name("bad").spawn(async { panic!("oops") });
//!     let err = bad.await.unwrap_err();
//!     assert!(err.is_panic());
//!     // Cancelling drops the task's future at its current await point.
//!     let forever = corio_executor::spawn(std::future::pending::<()>());
//!     assert!(forever.cancel().await.unwrap_err().is_cancelled());
//!     total
//! });
//! assert_eq!(total, 385);
//! ```
//!
//! # How the pieces relate
//!
//! * [`Executor`] is a pool of worker threads with one local queue each, a
//!   shared injector, a LIFO slot per worker and work stealing. Its
//!   [`block_on`](Executor::block_on) runs a main future on the calling thread.
//! * [`LocalExecutor`] runs `!Send` tasks on one thread; an executor's
//!   `block_on` thread has one, which is what [`spawn_local`] uses.
//! * [`block_on`] runs one future on the current thread with no executor.
//! * Idle workers wait through the [`Park`] hook; a reactor plugs in there.
//! * [`coop`] gives each task poll a budget so that a task whose resources are
//!   always ready still lets others run.
//! * The combinators spawn and join tasks: [`gather`](fn@crate::gather) and
//!   [`as_completed`] spawn each future and own the tasks (dropping them
//!   cancels the children); [`wait`](fn@crate::wait) watches tasks you own and
//!   cancels nothing; [`race`](fn@crate::race) polls its futures in place; a
//!   [`TaskGroup`] ties its children's lifetimes to a scope and turns the first
//!   failure into the cancellation of the rest.
//!
//! # Cancellation and shutdown
//!
//! Cancelling a task drops its future. Dropping an [`Executor`] or
//! [`LocalExecutor`] cancels every task that has not finished, the way
//! `asyncio.run` cancels the tasks left when the main coroutine returns.

#![forbid(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

mod blocking;
mod context;
pub mod coop;
mod debug;
mod gate;
mod gather;
mod group;
mod idle;
mod local;
mod multi;
mod panic;
mod park;
mod poll_set;
mod race;
mod registry;
mod sync;
mod task;
mod wait;

#[cfg(loom)]
#[doc(hidden)]
pub mod __loom;

pub use blocking::{unblock, BlockingPool, Unblock};
pub use debug::{debug_env_enabled, Diagnostics, SlowPoll, DEBUG_ENV, DEFAULT_SLOW_POLL};
pub use gather::{
    gather, gather_settled, try_gather, Gather, GatherError, GatherSettled, TryGather,
};
pub use group::{
    task_group, ChildError, ChildPanic, Failure, GroupTask, Join, TaskGroup, TaskGroupError,
    TaskGroupHandle,
};
pub use local::{LocalExecutor, LocalHandle};
pub use multi::{Builder, EnterGuard, Executor, Handle, ParkFactory};
pub use panic::{UnhandledPanic, UnobservedPanic};
pub use park::{Park, ThreadPark};
pub use race::{race, shield, Race, Shield};
pub use task::{CancelOnDrop, JoinError, Task};
pub use wait::{
    as_completed, as_completed_tasks, wait, wait_until, AsCompleted, Done, ReturnWhen, Wait,
};

use context::SpawnTarget;
use task::Name;

/// Spawns a task onto the current runtime; like `asyncio.create_task`.
///
/// The task starts running at once, in the background. On a worker of an
/// [`Executor`] (or inside its `block_on`) it goes to that executor; inside a
/// [`LocalExecutor`]'s `block_on`, to that one.
///
/// # Panics
///
/// When called outside a runtime, with a message that says how to start one.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let n = ex.block_on(async {
///     let a = corio_executor::spawn(async { 1 });
///     let b = corio_executor::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(n, 3);
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_inner(future, None, Location::caller())
}

fn spawn_inner<F>(
    future: F,
    name: Option<Box<Name>>,
    location: &'static Location<'static>,
) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let target = context::with_spawn_target(|t| t.cloned());
    match target {
        Some(SpawnTarget::Multi(shared)) => shared.spawn(future, name, location),
        Some(SpawnTarget::Local(shared)) => shared.spawn(future, name, location),
        None => panic!(
            "corio::spawn called outside a runtime (at {location}): run your program inside \
             corio::run(async {{ ... }}) or #[corio::main], or spawn through a runtime with \
             Runtime::spawn / Executor::spawn"
        ),
    }
}

/// Spawns a `!Send` task onto the local executor of the current thread.
///
/// The thread that runs a `block_on` (of an [`Executor`] or a
/// [`LocalExecutor`]) runs these tasks while it waits.
///
/// # Panics
///
/// When no `block_on` is running on this thread.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let n = ex.block_on(async {
///     let rc = Rc::new(7);
///     let r = rc.clone();
///     corio_executor::spawn_local(async move { *r * 6 }).await.unwrap()
/// });
/// assert_eq!(n, 42);
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    local::spawn_local_here(future, None, Location::caller())
}

/// Configures a task before spawning it: its name.
///
/// The name shows up in [`JoinError`]s, in unobserved-panic reports and in
/// [`Task::name`].
///
/// # Examples
///
/// ```
/// use corio_executor::{Executor, TaskBuilder};
///
/// let ex = Executor::new().unwrap();
/// let task = TaskBuilder::new().name("fetch").spawn_on(&ex, async { 1 });
/// assert_eq!(task.name(), Some("fetch"));
/// assert_eq!(ex.block_on(task).unwrap(), 1);
/// ```
#[derive(Debug, Default)]
pub struct TaskBuilder {
    name: Option<Box<Name>>,
}

impl TaskBuilder {
    /// A builder for an unnamed task.
    pub fn new() -> TaskBuilder {
        TaskBuilder { name: None }
    }

    /// Names the task.
    pub fn name(mut self, name: impl Into<String>) -> TaskBuilder {
        self.name = Some(Box::new(Name(name.into().into_boxed_str())));
        self
    }

    /// Spawns onto the current runtime, like [`spawn`].
    ///
    /// # Panics
    ///
    /// When called outside a runtime.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_inner(future, self.name, Location::caller())
    }

    /// Spawns onto the given executor.
    #[track_caller]
    pub fn spawn_on<F>(self, executor: &Executor, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        executor.spawn_named(future, self.name, Location::caller())
    }

    /// Spawns onto the executor behind `handle`.
    #[track_caller]
    pub fn spawn_with<F>(self, handle: &Handle, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.shared().spawn(future, self.name, Location::caller())
    }

    /// Spawns a `!Send` task onto the current thread's local executor, like
    /// [`spawn_local`].
    ///
    /// # Panics
    ///
    /// When no `block_on` is running on this thread.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        local::spawn_local_here(future, self.name, Location::caller())
    }

    /// Spawns a `!Send` task onto the given local executor.
    #[track_caller]
    pub fn spawn_local_on<F>(self, executor: &LocalExecutor, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        executor.spawn_named(future, self.name, Location::caller())
    }
}

/// Yields to the executor once, like `await asyncio.sleep(0)`.
///
/// The task goes to the back of its worker's queue, so every other ready task
/// there runs before it resumes.
///
/// # Examples
///
/// ```
/// # corio_executor::block_on(async {
/// corio_executor::yield_now().await;
/// # });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Runs a future to completion on the current thread, with no executor.
///
/// Tasks cannot be spawned from inside unless a runtime was entered; use
/// [`Executor::block_on`] or [`LocalExecutor::block_on`] for that.
///
/// # Examples
///
/// ```
/// let v = corio_executor::block_on(async { 1 + 1 });
/// assert_eq!(v, 2);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Unpark(ThreadPark);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }

    let unpark = Arc::new(Unpark(ThreadPark::new()));
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        unpark.0.park(None);
    }
}
