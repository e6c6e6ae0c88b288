//! Tasks: the handle a spawn returns, the error a join gives, and the wrapper
//! every spawned future runs inside.
//!
//! # Design
//!
//! A task is one async-task allocation holding a [`Meta`] (name and spawn
//! location), the schedule function and the future, wrapped in a [`Wrapped`]
//! that catches panics and registers the task's waker with its executor the
//! first time it returns `Pending` (see `registry.rs`). Every byte here is
//! paid by every task, so the wrapper holds only the registry key and the
//! future; the metadata of the task being polled is found through the
//! thread-local context (the executor sets it around each poll).
//!
//! The handle, [`Task<T>`], holds async-task's `FallibleTask` (which reports
//! "cancelled" instead of panicking when the task was dropped unfinished) and
//! a pointer to the task's `Meta`.
//!
//! # Unobserved panics
//!
//! A panic becomes the task's output: a boxed [`PanicOutput`] holding the
//! payload. Whoever awaits the task takes the payload out. If nobody does —
//! the handle was detached or dropped — async-task drops the output, and
//! `PanicOutput`'s destructor hands the payload, still there, to the
//! runtime's [`UnhandledPanic`](crate::UnhandledPanic) policy. Rust's drop
//! rules make that happen exactly once, with no flags to race on.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::context;
use crate::debug::{self, SlowPoll};
use crate::panic::{payload_message, Hooks, UnobservedPanic};
use crate::registry::Registry;

/// A task's name, boxed so that unnamed tasks pay one pointer.
#[derive(Debug)]
pub(crate) struct Name(pub(crate) Box<str>);

/// Per-task metadata, stored in the task's allocation by async-task.
#[derive(Debug)]
pub(crate) struct Meta {
    location: &'static Location<'static>,
    name: Option<Box<Name>>,
}

impl Meta {
    pub(crate) fn new(location: &'static Location<'static>, name: Option<Box<Name>>) -> Meta {
        Meta { location, name }
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref().map(|n| &*n.0)
    }

    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

/// The runnable type of corio's tasks.
pub(crate) type Runnable = async_task::Runnable<Meta>;

/// A pointer to the `Meta` of the task whose handle holds it.
///
/// The metadata lives in the task's allocation, which async-task frees only
/// once the future is dropped and the `Task` handle is gone; the handle owns
/// its `MetaPtr`, so the pointer is valid for as long as it is held.
#[derive(Clone, Copy)]
struct MetaPtr(NonNull<Meta>);

// SAFETY: a `MetaPtr` only gives out `&Meta`, and `Meta` is `Sync` (it is
// immutable), so sharing or sending the pointer is as safe as sharing `&Meta`.
unsafe impl Send for MetaPtr {}
// SAFETY: as above.
unsafe impl Sync for MetaPtr {}

impl MetaPtr {
    fn get(&self) -> &Meta {
        // SAFETY: see the type's docs: the holder keeps the allocation alive.
        unsafe { self.0.as_ref() }
    }
}

/// What a task's future resolves to inside async-task when it panicked
/// (boxed: the output shares the task's allocation with the future, and the
/// rare error case should not make every task larger).
pub(crate) type Panicked = Box<PanicOutput>;

/// The payload of a panic nobody has taken yet, and where to report it.
pub(crate) struct PanicOutput {
    payload: Option<Box<dyn Any + Send>>,
    name: Option<String>,
    location: &'static Location<'static>,
    hooks: Option<Arc<Hooks>>,
}

impl PanicOutput {
    fn take(&mut self) -> Option<Box<dyn Any + Send>> {
        self.payload.take()
    }
}

impl Drop for PanicOutput {
    fn drop(&mut self) {
        if let Some(payload) = self.payload.take() {
            let panic = UnobservedPanic {
                name: self.name.take(),
                location: self.location,
                payload,
            };
            match &self.hooks {
                Some(hooks) => hooks.report(panic),
                // Panicked outside any executor's context: the default policy.
                None => eprintln!("corio: {panic}"),
            }
        }
    }
}

/// The future async-task runs: the user's future plus panic capture and
/// waker registration.
///
/// The user's future sits in a `ManuallyDrop` so that the wrapper drops it
/// itself, under `catch_unwind`: async-task drops futures where a panic
/// aborts the process, and a destructor that panics must not do that. A
/// separate "dropped" flag would cost every task eight bytes, so `state`
/// doubles as one: it is the registry key, [`UNREGISTERED`], or [`DONE`] once
/// the future is gone.
pub(crate) struct Wrapped<F> {
    state: usize,
    future: ManuallyDrop<F>,
}

/// `Wrapped::state` of a task that is not in the registry.
const UNREGISTERED: usize = usize::MAX;
/// `Wrapped::state` once the user's future has been dropped.
const DONE: usize = usize::MAX - 1;

impl<F> Wrapped<F> {
    fn new(future: F) -> Wrapped<F> {
        Wrapped {
            state: UNREGISTERED,
            future: ManuallyDrop::new(future),
        }
    }

    /// Leaves the registry and drops the user's future, catching a panic
    /// from its destructor.
    fn release(&mut self) -> Result<(), Box<dyn Any + Send>> {
        let key = std::mem::replace(&mut self.state, DONE);
        if key == DONE {
            return Ok(());
        }
        if key != UNREGISTERED {
            Registry::global().remove(key);
        }
        // SAFETY: `state` was not `DONE`, so the future has not been dropped
        // yet, and it is now marked `DONE`, so it is never touched again.
        // Dropping in place keeps the pinning promise made in `poll`.
        catch_unwind(AssertUnwindSafe(|| unsafe {
            ManuallyDrop::drop(&mut self.future)
        }))
    }
}

impl<F> Drop for Wrapped<F> {
    fn drop(&mut self) {
        // Cancelled (or the executor shut down) with the future still alive.
        if let Err(payload) = self.release() {
            drop(panic_output(payload));
        }
    }
}

impl<F: Future> Future for Wrapped<F> {
    type Output = Result<F::Output, Panicked>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the user's future is never moved out of `self`: it is only
        // polled through this pin and dropped in place by `release`.
        let this = unsafe { self.get_unchecked_mut() };
        if this.state == DONE {
            // async-task never polls a completed task.
            return Poll::Pending;
        }
        // SAFETY: as above; `state != DONE`, so the future is alive.
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        let watch = WATCH.try_with(Cell::get).ok().flatten();
        let (polled, slow) =
            debug::time_poll(watch, || catch_unwind(AssertUnwindSafe(|| future.poll(cx))));
        if let (Some(elapsed), Some(threshold)) = (slow, watch) {
            report_slow_poll(elapsed, threshold);
        }
        match polled {
            Ok(Poll::Pending) => {
                if this.state == UNREGISTERED {
                    this.state = register(cx.waker());
                }
                Poll::Pending
            }
            // Drop the future now, so that a panicking destructor becomes
            // this task's panic rather than an abort.
            Ok(Poll::Ready(value)) => match this.release() {
                Ok(()) => Poll::Ready(Ok(value)),
                Err(payload) => Poll::Ready(Err(panic_output(payload))),
            },
            Err(payload) => {
                // A second panic from the destructor is dropped: the first
                // one is what the task reports.
                let _ = this.release();
                Poll::Ready(Err(panic_output(payload)))
            }
        }
    }
}

/// Packs the payload with the polled task's name, location and runtime.
fn panic_output(payload: Box<dyn Any + Send>) -> Panicked {
    let (name, location) = with_polled_meta(|meta| match meta {
        Some(meta) => (meta.name().map(String::from), meta.location()),
        None => (None, Location::caller()),
    });
    let hooks = context::with_current(|c| c.map(|(common, _)| common.hooks.clone()));
    Box::new(PanicOutput {
        payload: Some(payload),
        name,
        location,
        hooks,
    })
}

/// Registers `waker` for the executor polling this task; returns the key.
fn register(waker: &Waker) -> usize {
    context::with_current(|current| {
        current
            .and_then(|(common, shard)| {
                Registry::global().insert(&common.owner, *shard, waker.clone())
            })
            .unwrap_or(UNREGISTERED)
    })
}

/// Builds the task for `future`, with the given schedule function.
pub(crate) fn build<F, S>(
    future: F,
    name: Option<Box<Name>>,
    location: &'static Location<'static>,
    schedule: S,
) -> (Runnable, Task<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: async_task::Schedule<Meta> + Send + Sync + 'static,
{
    let (runnable, task) = async_task::Builder::new()
        .metadata(Meta::new(location, name))
        .spawn(|_| Wrapped::new(future), schedule);
    (runnable, Task::new(task))
}

/// Builds a task for a `!Send` future; its runnable must stay on this thread.
pub(crate) fn build_local<F, S>(
    future: F,
    name: Option<Box<Name>>,
    location: &'static Location<'static>,
    schedule: S,
) -> (Runnable, Task<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: async_task::Schedule<Meta> + Send + Sync + 'static,
{
    let (runnable, task) = async_task::Builder::new()
        .metadata(Meta::new(location, name))
        .spawn_local(|_| Wrapped::new(future), schedule);
    (runnable, Task::new(task))
}

thread_local! {
    /// The metadata of the task being polled on this thread, if any.
    static POLLED: Cell<Option<NonNull<Meta>>> = const { Cell::new(None) };
}

/// Restores the previously polled task's metadata when dropped.
struct PolledGuard(Option<NonNull<Meta>>);

impl PolledGuard {
    fn enter(runnable: &Runnable) -> PolledGuard {
        PolledGuard(POLLED.replace(Some(NonNull::from(runnable.metadata()))))
    }
}

impl Drop for PolledGuard {
    fn drop(&mut self) {
        let _ = POLLED.try_with(|p| p.set(self.0));
    }
}

/// Runs one poll of `runnable`, with its metadata visible to the wrapper.
fn run(runnable: Runnable) {
    let _polled = PolledGuard::enter(&runnable);
    // The wrapper catches every panic of the user's code; this is a last
    // line of defence so that a worker thread never dies.
    let _ = catch_unwind(AssertUnwindSafe(|| runnable.run()));
}

thread_local! {
    /// The slow-poll threshold of the executor running a task on this
    /// thread, while debug mode asks for one (see [`run_watched`]).
    static WATCH: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// Runs one poll of `runnable` for an executor with `hooks`. When debug mode
/// sets a slow-poll threshold, the wrapper times the poll and reports it if
/// slow, before the task's output (if any) is published: whoever sees the
/// task finish also sees the report made.
#[inline]
pub(crate) fn run_watched(runnable: Runnable, hooks: &Hooks) {
    match hooks.diagnostics().slow_poll() {
        None => run(runnable),
        Some(threshold) => {
            let outer = WATCH.replace(Some(threshold));
            run(runnable);
            WATCH.set(outer);
        }
    }
}

/// Reports a poll of the polled task that took `elapsed`, over `threshold`,
/// to the current executor's diagnostics.
#[cold]
fn report_slow_poll(elapsed: Duration, threshold: Duration) {
    let (name, location) = with_polled_meta(|meta| match meta {
        Some(meta) => (meta.name().map(String::from), meta.location()),
        None => (None, Location::caller()),
    });
    let slow = SlowPoll::new(name, location, elapsed, threshold);
    context::with_current(|current| {
        // An executor nested in a watched task's poll, with no threshold of
        // its own, leaves the outer one in `WATCH`: not its to report.
        if let Some((common, _)) = current {
            if common.hooks.diagnostics().slow_poll().is_some() {
                common.hooks.diagnostics().report_slow_poll(&slow);
            }
        }
    });
}

/// Drops `runnable` without running it, which cancels its task (the
/// executor shut down); a panic in the future's destructor is reported with
/// the task's name, and debug mode reports the task itself.
pub(crate) fn discard(runnable: Runnable, hooks: &Hooks) {
    let meta = runnable.metadata();
    hooks
        .diagnostics()
        .report_pending(meta.name(), meta.location());
    let _polled = PolledGuard::enter(&runnable);
    drop(runnable);
}

/// Calls `f` with the metadata of the task being polled on this thread.
fn with_polled_meta<R>(f: impl FnOnce(Option<&Meta>) -> R) -> R {
    let meta = POLLED.get();
    // SAFETY: `POLLED` holds a pointer only while `run` polls that task (it
    // is restored when `run` returns, even by unwinding), and `run` holds the
    // task's `Runnable`, which keeps the task's allocation, metadata
    // included, alive. The pointer is only read on this thread.
    f(meta.map(|m| unsafe { m.as_ref() }))
}

type Inner<T> = async_task::FallibleTask<Result<T, Panicked>, Meta>;

/// A spawned task: await it for its output, like asyncio's `Task`.
///
/// The task starts running as soon as it is spawned, whether or not anybody
/// awaits this handle. Awaiting gives `Ok(output)`, or a [`JoinError`] when the
/// task panicked or was cancelled.
///
/// Dropping a `Task` **detaches** it: the task keeps running in the
/// background, as in asyncio and tokio. If it later panics, the panic goes to
/// the runtime's [`UnhandledPanic`](crate::UnhandledPanic) policy. To stop a
/// task, call [`cancel`](Task::cancel); to have dropping the handle stop it,
/// use [`cancel_on_drop`](Task::cancel_on_drop).
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let task = ex.spawn(async { 1 + 2 });
/// assert_eq!(ex.block_on(task).unwrap(), 3);
/// ```
#[must_use = "a dropped Task is detached and keeps running; await it for its output"]
pub struct Task<T> {
    inner: Option<Inner<T>>,
    meta: MetaPtr,
}

impl<T> Task<T> {
    fn new(task: async_task::Task<Result<T, Panicked>, Meta>) -> Task<T> {
        let meta = MetaPtr(NonNull::from(task.metadata()));
        Task {
            inner: Some(task.fallible()),
            meta,
        }
    }

    /// The name the task was spawned with, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let task = corio_executor::TaskBuilder::new().name("worker").spawn_on(&ex, async {});
    /// assert_eq!(task.name(), Some("worker"));
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.meta.get().name()
    }

    /// Where the task was spawned (the caller of `spawn`).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let task = ex.spawn(async {});
    /// assert_eq!(task.location().file(), file!());
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.meta.get().location()
    }

    /// Whether the task has finished: completed, panicked or been cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let task = ex.spawn(async { 7 });
    /// while !task.is_finished() {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(ex.block_on(task).unwrap(), 7);
    /// ```
    pub fn is_finished(&self) -> bool {
        self.inner.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Detaches the task: it keeps running, and nobody awaits it.
    ///
    /// The same as dropping the handle, said explicitly.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.spawn(async { /* runs in the background */ }).detach();
    /// ```
    pub fn detach(self) {
        drop(self)
    }

    /// Cancels the task and waits until it has stopped, like asyncio's
    /// `task.cancel()` followed by awaiting the task.
    ///
    /// The task's future is dropped at its current await point (if it is
    /// running on another worker right now, once that poll returns). Returns
    /// the output if the task finished before the cancellation took effect,
    /// [`JoinError::is_cancelled`] otherwise, or the panic if it panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let task = ex.spawn(std::future::pending::<()>());
    /// let err = ex.block_on(task.cancel()).unwrap_err();
    /// assert!(err.is_cancelled());
    /// ```
    pub async fn cancel(mut self) -> Result<T, JoinError> {
        let meta = self.meta.get();
        let name = meta.name().map(String::from);
        let location = meta.location();
        let inner = self.inner.take().expect("Task polled after completion");
        into_result(inner.cancel().await, name, location)
    }

    /// Turns this handle into one that cancels the task when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let guard = ex.spawn(std::future::pending::<()>()).cancel_on_drop();
    /// drop(guard); // the task is cancelled
    /// ```
    pub fn cancel_on_drop(self) -> CancelOnDrop<T> {
        CancelOnDrop { task: Some(self) }
    }

    /// Drops the handle: detaches (`cancel == false`) or cancels the task.
    /// A panic nobody took is reported when async-task drops the output.
    fn release(&mut self, cancel: bool) {
        if let Some(inner) = self.inner.take() {
            if cancel {
                drop(inner);
            } else {
                inner.detach();
            }
        }
    }
}

fn into_result<T>(
    out: Option<Result<T, Panicked>>,
    name: Option<String>,
    location: &'static Location<'static>,
) -> Result<T, JoinError> {
    match out {
        Some(Ok(value)) => Ok(value),
        Some(Err(mut panicked)) => Err(JoinError {
            repr: match panicked.take() {
                Some(payload) => Repr::Panicked(Mutex::new(payload)),
                None => Repr::Cancelled,
            },
            name,
            location,
        }),
        None => Err(JoinError {
            repr: Repr::Cancelled,
            name,
            location,
        }),
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.release(false);
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let inner = self.inner.as_mut().expect("Task polled after completion");
        match Pin::new(inner).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(out) => {
                let meta = self.meta.get();
                let name = meta.name().map(String::from);
                let location = meta.location();
                // Finished and observed: release the handle without a report.
                drop(self.inner.take());
                Poll::Ready(into_result(out, name, location))
            }
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("name", &self.name())
            .field("location", &self.location())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// A task handle that cancels its task when dropped.
///
/// Made by [`Task::cancel_on_drop`]. Awaiting it is the same as awaiting the
/// task. Useful for tasks whose only purpose ends with their owner: a
/// heartbeat for a connection, a prefetch for a request.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let task = ex.spawn(async { 5 }).cancel_on_drop();
/// assert_eq!(ex.block_on(task).unwrap(), 5);
/// ```
#[must_use = "dropping a CancelOnDrop cancels its task"]
pub struct CancelOnDrop<T> {
    task: Option<Task<T>>,
}

impl<T> CancelOnDrop<T> {
    /// Turns this back into a plain [`Task`] that detaches when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.spawn(async {}).cancel_on_drop().into_task().detach();
    /// ```
    pub fn into_task(mut self) -> Task<T> {
        self.task.take().expect("CancelOnDrop already released")
    }

    /// Whether the task has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let task = ex.spawn(std::future::pending::<()>()).cancel_on_drop();
    /// assert!(!task.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(Task::is_finished)
    }

    /// Cancels the task and waits for it to stop; see [`Task::cancel`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let task = ex.spawn(std::future::pending::<()>()).cancel_on_drop();
    /// assert!(ex.block_on(task.cancel()).unwrap_err().is_cancelled());
    /// ```
    pub async fn cancel(mut self) -> Result<T, JoinError> {
        let task = self.task.take().expect("CancelOnDrop already released");
        task.cancel().await
    }
}

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let Some(mut task) = self.task.take() {
            task.release(true);
        }
    }
}

impl<T> Future for CancelOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = self
            .task
            .as_mut()
            .expect("CancelOnDrop polled after completion");
        Pin::new(task).poll(cx)
    }
}

impl<T> fmt::Debug for CancelOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CancelOnDrop").field(&self.task).finish()
    }
}

enum Repr {
    Cancelled,
    // A mutex only to make the error `Sync` (the payload is `Send` only).
    Panicked(Mutex<Box<dyn Any + Send>>),
}

/// Why awaiting a [`Task`] gave no output: it was cancelled, or it panicked.
///
/// asyncio raises `CancelledError` or the task's exception; corio returns this.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let err = ex.block_on(ex.spawn(async { panic!("boom") })).unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.panic_message(), Some("boom".to_string()));
/// ```
pub struct JoinError {
    repr: Repr,
    name: Option<String>,
    location: &'static Location<'static>,
}

impl JoinError {
    /// The task was cancelled (by [`Task::cancel`], or by the runtime shutting down).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let t = ex.spawn(std::future::pending::<()>());
    /// assert!(ex.block_on(t.cancel()).unwrap_err().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// assert!(ex.block_on(ex.spawn(async { panic!() })).unwrap_err().is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked(_))
    }

    /// The panic message, when the task panicked with a string.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let err = ex.block_on(ex.spawn(async { panic!("bad {}", 1) })).unwrap_err();
    /// assert_eq!(err.panic_message().as_deref(), Some("bad 1"));
    /// ```
    pub fn panic_message(&self) -> Option<String> {
        match &self.repr {
            Repr::Cancelled => None,
            Repr::Panicked(p) => {
                let p = p.lock().unwrap_or_else(|e| e.into_inner());
                payload_message(&**p).map(String::from)
            }
        }
    }

    /// The task's name, if it had one.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let t = corio_executor::TaskBuilder::new().name("x").spawn_on(&ex, async { panic!() });
    /// assert_eq!(ex.block_on(t).unwrap_err().task_name(), Some("x"));
    /// ```
    pub fn task_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let err = ex.block_on(ex.spawn(async { panic!() })).unwrap_err();
    /// assert_eq!(err.spawn_location().file(), file!());
    /// ```
    pub fn spawn_location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The panic payload, to resume the panic with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// When the task was cancelled rather than panicked; see
    /// [`try_into_panic`](JoinError::try_into_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let err = ex.block_on(ex.spawn(async { std::panic::panic_any(42u32) })).unwrap_err();
    /// assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 42);
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .unwrap_or_else(|e| panic!("JoinError::into_panic on a task that did not panic: {e}"))
    }

    /// The panic payload, or the error back when the task was cancelled.
    ///
    /// # Errors
    ///
    /// Returns `self` when the task did not panic.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let t = ex.spawn(std::future::pending::<()>());
    /// let err = ex.block_on(t.cancel()).unwrap_err();
    /// assert!(err.try_into_panic().is_err());
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panicked(p) => Ok(p.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "task '{name}'")?,
            None => f.write_str("task")?,
        }
        write!(f, " spawned at {} ", self.location)?;
        match &self.repr {
            Repr::Cancelled => f.write_str("was cancelled"),
            Repr::Panicked(_) => match self.panic_message() {
                Some(msg) => write!(f, "panicked: {msg}"),
                None => f.write_str("panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_cancelled() {
            "Cancelled"
        } else {
            "Panicked"
        };
        f.debug_struct("JoinError")
            .field("kind", &kind)
            .field("name", &self.name)
            .field("location", &self.location)
            .field("message", &self.panic_message())
            .finish()
    }
}

impl std::error::Error for JoinError {}
