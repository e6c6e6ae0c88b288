//! The single-threaded executor, for `!Send` futures.
//!
//! # Design
//!
//! A [`LocalExecutor`] belongs to the thread that made it. Its run queue is a
//! plain `VecDeque` that only that thread touches; wake-ups from other
//! threads (a `Waker` may be sent anywhere) go to a concurrent "remote" queue
//! and unpark the owner. While [`LocalExecutor::block_on`] runs, the executor
//! is registered in a thread-local, which is how the schedule function (which
//! must be `Send + Sync`) finds the `VecDeque` when called on the owner thread.
//!
//! `!Send` tasks are only ever run or dropped on the owner thread: the
//! schedule function pushes a runnable from a foreign thread to the remote
//! queue, which only the owner drains, even after the executor closed. (A
//! foreign wake-up that lands after the owner's final drain leaves that one
//! task unfreed rather than dropping a `!Send` future on the wrong thread;
//! a closed executor's tasks are all cancelled, so such a wake-up can only
//! race with the drain itself.) `Send` tasks, spawned through a
//! [`LocalHandle`] or `spawn`, have their own schedule function, which
//! cancels them on the spot once the executor is closed.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use concurrent_queue::ConcurrentQueue;

use crate::context::{self, Common, SpawnTarget};
use crate::debug::{self, Diagnostics, SlowPoll};
use crate::panic::{Hooks, UnhandledPanic};
use crate::park::{Park, ThreadPark};
use crate::registry::{Owner, Registry};
use crate::task::{self, Name, Runnable, Task};

/// Ticks between two looks at the remote queue before the local one.
const REMOTE_INTERVAL: u32 = 31;
/// Tasks run, while busy, between two non-blocking calls to the parker.
const DRIVER_INTERVAL: u32 = 61;
/// Tasks run between two polls of the main future's wake flag.
const MAX_TASKS_PER_TURN: u32 = 128;

/// The part of a local executor that other threads may touch.
pub(crate) struct LocalShared {
    remote: ConcurrentQueue<Runnable>,
    park: Arc<dyn Park>,
    closed: AtomicBool,
    pub(crate) common: Arc<Common>,
}

impl fmt::Debug for LocalShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalShared")
            .field("remote", &self.remote.len())
            .field("closed", &self.closed.load(SeqCst))
            .finish_non_exhaustive()
    }
}

/// The owner thread's part.
struct Core {
    shared: Arc<LocalShared>,
    queue: RefCell<VecDeque<Runnable>>,
}

thread_local! {
    static RUNNING: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

impl LocalShared {
    fn schedule(&self, runnable: Runnable) {
        let mut slot = Some(runnable);
        let _ = RUNNING.try_with(|c| {
            if let Some(core) = &*c.borrow() {
                if std::ptr::eq(&*core.shared, self) {
                    if let Some(r) = slot.take() {
                        if self.closed.load(SeqCst) {
                            task::discard(r, &self.common.hooks);
                        } else {
                            core.queue.borrow_mut().push_back(r);
                        }
                    }
                }
            }
        });
        if let Some(r) = slot {
            // From another thread, or from the owner outside `block_on`.
            let _ = self.remote.push(r);
            self.park.unpark();
        }
    }

    /// Spawns a `Send` future (from any thread) to run on the owner thread.
    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        name: Option<Box<Name>>,
        location: &'static Location<'static>,
    ) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let shared = self.clone();
        let (runnable, task) =
            task::build(future, name, location, move |r| shared.schedule_send(r));
        self.schedule_send(runnable);
        task
    }

    /// Schedules a task whose future is `Send`: once the executor is closed,
    /// it is cancelled at once, on whatever thread wakes it.
    fn schedule_send(&self, runnable: Runnable) {
        if self.closed.load(SeqCst) {
            task::discard(runnable, &self.common.hooks);
        } else {
            self.schedule(runnable);
        }
    }
}

/// A single-threaded executor that runs `!Send` futures on the thread that made it.
///
/// Tasks run only while [`block_on`](LocalExecutor::block_on) runs on the
/// owner thread. Dropping the executor cancels every task that has not
/// finished.
///
/// # Examples
///
/// ```
/// use corio_executor::LocalExecutor;
/// use std::rc::Rc;
///
/// let ex = LocalExecutor::new();
/// let shared = Rc::new(5); // not Send
/// let s = shared.clone();
/// let task = ex.spawn(async move { *s + 1 });
/// assert_eq!(ex.block_on(task).unwrap(), 6);
/// ```
pub struct LocalExecutor {
    core: Rc<Core>,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for LocalExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalExecutor")
            .field("queued", &self.core.queue.borrow().len())
            .finish_non_exhaustive()
    }
}

impl Default for LocalExecutor {
    fn default() -> Self {
        LocalExecutor::new()
    }
}

impl LocalExecutor {
    /// A local executor that logs the panics nobody awaits.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::LocalExecutor::new();
    /// assert_eq!(ex.block_on(async { 1 }), 1);
    /// ```
    pub fn new() -> LocalExecutor {
        LocalExecutor::with_policy(UnhandledPanic::Log)
    }

    /// A local executor with the given policy for panics nobody awaits.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_executor::{LocalExecutor, UnhandledPanic};
    ///
    /// let ex = LocalExecutor::with_policy(UnhandledPanic::Ignore);
    /// ex.spawn(async { panic!("silent") }).detach();
    /// ex.block_on(corio_executor::yield_now());
    /// ```
    pub fn with_policy(policy: UnhandledPanic) -> LocalExecutor {
        LocalExecutor::with_hooks(Arc::new(Hooks::new(policy)), Arc::new(ThreadPark::new()))
    }

    /// A local executor that waits through `park` when idle (a driver's hook).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_executor::{LocalExecutor, ThreadPark, UnhandledPanic};
    /// use std::sync::Arc;
    ///
    /// let ex = LocalExecutor::with_park(UnhandledPanic::Log, Arc::new(ThreadPark::new()));
    /// assert_eq!(ex.block_on(async { 2 }), 2);
    /// ```
    pub fn with_park(policy: UnhandledPanic, park: Arc<dyn Park>) -> LocalExecutor {
        LocalExecutor::with_hooks(Arc::new(Hooks::new(policy)), park)
    }

    /// [`with_park`](LocalExecutor::with_park), reporting what `diagnostics`
    /// asks for (debug mode). A slow poll of `block_on`'s own future counts
    /// too: on this executor it blocks every task.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_executor::{Diagnostics, LocalExecutor, ThreadPark, UnhandledPanic};
    /// use std::sync::Arc;
    ///
    /// let ex = LocalExecutor::with_diagnostics(
    ///     UnhandledPanic::Log,
    ///     Arc::new(ThreadPark::new()),
    ///     Diagnostics::from_env(),
    /// );
    /// assert_eq!(ex.block_on(async { 3 }), 3);
    /// ```
    pub fn with_diagnostics(
        policy: UnhandledPanic,
        park: Arc<dyn Park>,
        diagnostics: Diagnostics,
    ) -> LocalExecutor {
        LocalExecutor::with_hooks(Arc::new(Hooks::with_diagnostics(policy, diagnostics)), park)
    }

    pub(crate) fn with_hooks(hooks: Arc<Hooks>, park: Arc<dyn Park>) -> LocalExecutor {
        LocalExecutor {
            core: Rc::new(Core {
                shared: Arc::new(LocalShared {
                    remote: ConcurrentQueue::unbounded(),
                    park,
                    closed: AtomicBool::new(false),
                    common: Arc::new(Common {
                        owner: Owner::new(),
                        hooks,
                    }),
                }),
                queue: RefCell::new(VecDeque::new()),
            }),
            _not_send: PhantomData,
        }
    }

    /// Spawns a task, which may be `!Send`; it runs while `block_on` runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::LocalExecutor::new();
    /// let t = ex.spawn(async { std::rc::Rc::new(3) });
    /// assert_eq!(*ex.block_on(t).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_named(future, None, Location::caller())
    }

    pub(crate) fn spawn_named<F>(
        &self,
        future: F,
        name: Option<Box<Name>>,
        location: &'static Location<'static>,
    ) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future, name, location)
    }

    /// Runs `future` on this thread, running the executor's tasks meanwhile.
    ///
    /// Inside, [`spawn_local`](crate::spawn_local) spawns onto this executor,
    /// and so does [`spawn`](crate::spawn) unless the thread already has a
    /// spawn target (a multi-threaded executor entered around this call).
    /// Tasks still pending when `future` completes stay in the executor and
    /// run during the next `block_on`; dropping the executor cancels them.
    ///
    /// # Panics
    ///
    /// When `future` panics; with [`UnhandledPanic::ShutdownRuntime`], when a
    /// task nobody awaits panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::LocalExecutor::new();
    /// let out = ex.block_on(async {
    ///     let t = corio_executor::spawn_local(async { 20 });
    ///     t.await.unwrap() + 1
    /// });
    /// assert_eq!(out, 21);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let core = &self.core;
        let shared = &*core.shared;
        let _running = RunningGuard::enter(core.clone());
        let _spawn = context::with_spawn_target(|t| t.is_none())
            .then(|| context::enter_spawn(SpawnTarget::Local(core.shared.clone())));
        let _current = context::enter_current(shared.common.clone(), 0);
        let _budget = crate::coop::BudgetScope::enter();

        let main_wake = Arc::new(MainWake {
            woken: AtomicBool::new(true),
            park: shared.park.clone(),
        });
        let waker = Waker::from(main_wake.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let slow_poll = shared.common.hooks.diagnostics().slow_poll();
        let caller = Location::caller();
        let mut tick: u32 = 0;
        let mut since_driver: u32 = 0;
        loop {
            if main_wake.woken.swap(false, SeqCst) {
                crate::coop::reset_budget();
                let (poll, slow) = debug::time_poll(slow_poll, || future.as_mut().poll(&mut cx));
                if let (Some(elapsed), Some(threshold)) = (slow, slow_poll) {
                    let slow = SlowPoll::new(Some("block_on".into()), caller, elapsed, threshold);
                    shared.common.hooks.diagnostics().report_slow_poll(&slow);
                }
                if let Poll::Ready(out) = poll {
                    return out;
                }
            }
            if let Some(msg) = shared.common.hooks.poll_fatal(&waker) {
                panic!("corio runtime shut down: {msg}");
            }
            let mut ran = 0;
            while ran < MAX_TASKS_PER_TURN {
                tick = tick.wrapping_add(1);
                let next = if tick % REMOTE_INTERVAL == 0 {
                    shared.remote.pop().ok().or_else(|| core.pop())
                } else {
                    core.pop().or_else(|| shared.remote.pop().ok())
                };
                let Some(runnable) = next else { break };
                crate::coop::reset_budget();
                task::run_watched(runnable, &shared.common.hooks);
                ran += 1;
                since_driver += 1;
                if main_wake.woken.load(SeqCst) {
                    break;
                }
            }
            if ran == 0 && !main_wake.woken.load(SeqCst) {
                shared.park.park(None);
                since_driver = 0;
            } else if since_driver >= DRIVER_INTERVAL {
                // Busy: give a driver behind the parker a chance to run.
                shared.park.park(Some(std::time::Duration::ZERO));
                since_driver = 0;
            }
        }
    }

    /// A handle that spawns `Send` tasks onto this executor from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::LocalExecutor::new();
    /// let h = ex.handle();
    /// let t = std::thread::spawn(move || h.spawn(async { 9 })).join().unwrap();
    /// assert_eq!(ex.block_on(t).unwrap(), 9);
    /// ```
    pub fn handle(&self) -> LocalHandle {
        LocalHandle {
            shared: self.core.shared.clone(),
        }
    }

    /// Number of idle tasks tracked for cancellation.
    #[doc(hidden)]
    pub fn __registered_tasks(&self) -> usize {
        Registry::global().len(&self.core.shared.common.owner)
    }
}

/// Run-queue capacity (tasks) above which a mostly empty queue shrinks.
const SHRINK_ABOVE: usize = 4096;

impl Core {
    fn pop(&self) -> Option<Runnable> {
        let mut queue = self.queue.borrow_mut();
        let runnable = queue.pop_front();
        // A burst of spawns (100k tasks at once) leaves a large queue behind:
        // give the memory back as it drains, halving at a quarter full, so
        // the cost stays amortized O(1) per task.
        if queue.capacity() > SHRINK_ABOVE && queue.len() < queue.capacity() / 4 {
            let keep = (queue.len() * 2).max(SHRINK_ABOVE);
            queue.shrink_to(keep);
        }
        runnable
    }

    /// Spawns a task that may be `!Send`; must be called on the owner thread.
    fn spawn<F>(
        &self,
        future: F,
        name: Option<Box<Name>>,
        location: &'static Location<'static>,
    ) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let shared = self.shared.clone();
        let (runnable, task) =
            task::build_local(future, name, location, move |r| shared.schedule(r));
        if self.shared.closed.load(SeqCst) {
            task::discard(runnable, &self.shared.common.hooks);
        } else {
            self.queue.borrow_mut().push_back(runnable);
        }
        task
    }
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        let core = &self.core;
        let shared = &*core.shared;
        shared.closed.store(true, SeqCst);
        // Register as running so that wake-ups during the drain come back to
        // this thread's queue, where they are dropped.
        let _running = RunningGuard::enter(core.clone());
        loop {
            let mut dropped = 0;
            while let Some(r) = core.pop() {
                task::discard(r, &shared.common.hooks);
                dropped += 1;
            }
            while let Ok(r) = shared.remote.pop() {
                task::discard(r, &shared.common.hooks);
                dropped += 1;
            }
            let wakers = Registry::global().close_and_drain(&shared.common.owner);
            if dropped == 0 && wakers.is_empty() {
                break;
            }
            for w in wakers {
                w.wake();
            }
        }
    }
}

/// Registers a core as the one running on this thread, restoring the
/// previous one when dropped.
struct RunningGuard(Option<Rc<Core>>);

impl RunningGuard {
    fn enter(core: Rc<Core>) -> RunningGuard {
        RunningGuard(RUNNING.with(|c| c.borrow_mut().replace(core)))
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        let _ = RUNNING.try_with(|c| *c.borrow_mut() = prev);
    }
}

/// Wakes the main future of `block_on`.
struct MainWake {
    woken: AtomicBool,
    park: Arc<dyn Park>,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, SeqCst) {
            self.park.unpark();
        }
    }
}

/// Spawns onto a [`LocalExecutor`] from any thread; see [`LocalExecutor::handle`].
///
/// # Examples
///
/// ```
/// let ex = corio_executor::LocalExecutor::new();
/// let t = ex.handle().spawn(async { 1 });
/// assert_eq!(ex.block_on(t).unwrap(), 1);
/// ```
#[derive(Clone)]
pub struct LocalHandle {
    shared: Arc<LocalShared>,
}

impl LocalHandle {
    /// Spawns a `Send` task to run on the executor's thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::LocalExecutor::new();
    /// let t = ex.handle().spawn(async { 2 });
    /// assert_eq!(ex.block_on(t).unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, None, Location::caller())
    }
}

impl fmt::Debug for LocalHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalHandle").finish_non_exhaustive()
    }
}

/// Spawns a `!Send` task onto the local executor running on this thread.
pub(crate) fn spawn_local_here<F>(
    future: F,
    name: Option<Box<Name>>,
    location: &'static Location<'static>,
) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let core = RUNNING.with(|c| c.borrow().clone());
    let Some(core) = core else {
        panic!(
            "corio::spawn_local called outside a local runtime: call it from inside \
             corio::run(...), Runtime::block_on or LocalExecutor::block_on, on the thread \
             that blocks"
        );
    };
    core.spawn(future, name, location)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A burst of spawns grows the run queue; running them gives the memory
    /// back instead of keeping the peak for the executor's life.
    #[test]
    fn the_run_queue_shrinks_after_a_burst() {
        let ex = LocalExecutor::new();
        let tasks: Vec<_> = (0..100_000u64)
            .map(|i| ex.spawn(async move { i }))
            .collect();
        assert!(ex.core.queue.borrow().capacity() >= 100_000);
        let sum = ex.block_on(async {
            let mut sum = 0;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 100_000 * 99_999 / 2);
        assert!(ex.core.queue.borrow().capacity() <= 2 * SHRINK_ABOVE);
    }
}
