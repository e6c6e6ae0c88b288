//! The multi-threaded, work-stealing executor.
//!
//! # Design
//!
//! Each worker thread owns a local queue and a LIFO slot. All workers share an
//! unbounded injector (a `ConcurrentQueue`) for tasks spawned or woken from
//! outside the workers. The local queue is a `crossbeam-deque` work-stealing
//! deque: its owner pushes without a compare-and-swap and others steal
//! batches from the front. (A bounded `ConcurrentQueue` costs a CAS on both
//! ends; the yield benchmark showed the difference.)
//!
//! * A task woken by the task running on a worker goes to that worker's LIFO
//!   slot and runs next: in a message-passing ping-pong the receiver runs
//!   while the message is still in cache. At most [`MAX_LIFO_POLLS`] LIFO
//!   tasks run in a row, then the slot's task goes to the back of the queue,
//!   so two tasks waking each other cannot starve the rest.
//! * A task that wakes *itself* (it yielded) goes to the back of the local
//!   queue: an always-ready task cannot starve the others.
//! * Every [`GLOBAL_INTERVAL`] ticks a worker looks at the injector first, so
//!   work from outside is not starved by local work.
//! * An idle worker takes a batch from the injector (all there is, up to a
//!   cap), or steals half of another worker's queue; before parking, a
//!   searching worker spins briefly, since waking a parked thread costs a
//!   system call on each side. Sleeping and waking follow `idle.rs`.
//! * Every [`DRIVER_INTERVAL`] ticks a busy worker calls its parker with a zero
//!   timeout, so a driver plugged in through [`Park`] processes its events.
//!
//! # Shutdown
//!
//! Dropping the executor (1) closes it: from then on the schedule function
//! drops every runnable it is given, which cancels the task; (2) stops and
//! joins the workers; (3) drains all queues and the registry of idle tasks,
//! waking each registered task so that the closed schedule function drops it.
//! A schedule racing with the close pushes to the injector and then re-checks
//! the flag, draining the injector itself if it closed meanwhile; the closer
//! drains after setting the flag, so one of the two always finds the runnable.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use async_task::ScheduleInfo;
use crossbeam_deque::{Steal, Stealer, Worker as Deque};

use crate::context::{self, Common, SpawnTarget};
use crate::debug::Diagnostics;
use crate::gate::Gate;
use crate::idle::Idle;
use crate::panic::{Hooks, UnhandledPanic};
use crate::park::{Park, ThreadPark};
use crate::registry::{Owner, Registry};
use crate::sync::{lock, AtomicBool, Mutex, Ordering::SeqCst};
use crate::task::{self, Name, Runnable, Task};

/// Most tasks a worker moves from the injector to its queue at once.
const MAX_INJECTOR_BATCH: usize = 128;
/// LIFO-slot tasks run in a row before the slot yields to the queue.
const MAX_LIFO_POLLS: u32 = 3;
/// Ticks between two looks at the injector before the local queue.
const GLOBAL_INTERVAL: u32 = 61;
/// Rounds a searching worker spins, stealing, before it parks (2 to 64
/// `spin_loop` hints each: about 190 in all).
const SPIN_ROUNDS: u32 = 8;
/// Ticks between two non-blocking calls to the parker while busy.
const DRIVER_INTERVAL: u32 = 61;

/// A factory that makes the parker of worker `index`.
pub type ParkFactory = Arc<dyn Fn(usize) -> Arc<dyn Park> + Send + Sync>;

/// Configures and builds an [`Executor`].
///
/// # Examples
///
/// ```
/// use corio_executor::Executor;
///
/// let ex = Executor::builder()
///     .worker_threads(2)
///     .thread_name("my-pool")
///     .build()
///     .unwrap();
/// assert_eq!(ex.worker_threads(), 2);
/// ```
pub struct Builder {
    worker_threads: Option<usize>,
    thread_name: String,
    stack_size: Option<usize>,
    park: Option<ParkFactory>,
    unhandled_panic: UnhandledPanic,
    diagnostics: Diagnostics,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("stack_size", &self.stack_size)
            .field("park", &self.park.as_ref().map(|_| ".."))
            .field("unhandled_panic", &self.unhandled_panic)
            .field("diagnostics", &self.diagnostics)
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults: one worker per available core, threads
    /// named `corio-worker-N`, thread parking, panics logged.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            thread_name: "corio-worker".to_string(),
            stack_size: None,
            park: None,
            unhandled_panic: UnhandledPanic::Log,
            diagnostics: Diagnostics::new(),
        }
    }

    /// Sets the number of worker threads (at least 1).
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    pub fn worker_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "an executor needs at least one worker thread");
        self.worker_threads = Some(n);
        self
    }

    /// Sets the prefix of the worker threads' names (`PREFIX-0`, `PREFIX-1`, ...).
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Sets the stack size of the worker threads.
    pub fn thread_stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Plugs in how idle workers wait: `factory(i)` makes worker `i`'s parker.
    ///
    /// Only workers use it: a thread in [`Executor::block_on`] parks plainly
    /// ([`ThreadPark`]) and leaves driving to the idle workers. (A driver
    /// polled from the `block_on` thread too would hand every event to a
    /// thread that runs no tasks, which must then wake a worker for each.)
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_executor::{Executor, Park, ThreadPark};
    /// use std::sync::Arc;
    ///
    /// let ex = Executor::builder()
    ///     .park(Arc::new(|_worker| Arc::new(ThreadPark::new()) as Arc<dyn Park>))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(ex.block_on(ex.spawn(async { 1 })).unwrap(), 1);
    /// ```
    pub fn park(mut self, factory: ParkFactory) -> Builder {
        self.park = Some(factory);
        self
    }

    /// Sets what happens to the panic of a task nobody awaits.
    pub fn unhandled_panic(mut self, policy: UnhandledPanic) -> Builder {
        self.unhandled_panic = policy;
        self
    }

    /// What debug mode reports: slow polls, tasks pending at shutdown
    /// (default: nothing; [`Diagnostics::from_env`] reads `CORIO_DEBUG`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_executor::{Diagnostics, Executor};
    ///
    /// let ex = Executor::builder().diagnostics(Diagnostics::debug()).build().unwrap();
    /// assert_eq!(ex.block_on(async { 7 }), 7);
    /// ```
    pub fn diagnostics(mut self, diagnostics: Diagnostics) -> Builder {
        self.diagnostics = diagnostics;
        self
    }

    /// Starts the worker threads.
    ///
    /// # Errors
    ///
    /// When a worker thread cannot be spawned.
    pub fn build(self) -> io::Result<Executor> {
        let n = self.worker_threads.unwrap_or_else(default_worker_threads);
        let parkers: Box<[Arc<dyn Park>]> = (0..n)
            .map(|i| match &self.park {
                Some(factory) => factory(i),
                None => Arc::new(ThreadPark::new()) as Arc<dyn Park>,
            })
            .collect();
        let mut deques: Vec<Deque<Runnable>> = (0..n).map(|_| Deque::new_fifo()).collect();
        let hooks = Arc::new(Hooks::with_diagnostics(
            self.unhandled_panic,
            self.diagnostics,
        ));
        let gate_hooks = hooks.clone();
        let shared = Arc::new(Shared {
            injector: Gate::new(Box::new(move |r| task::discard(r, &gate_hooks))),
            stealers: deques.iter().map(Deque::stealer).collect(),
            parkers,
            idle: Idle::new(n),
            shutdown: AtomicBool::new(false),
            common: Arc::new(Common {
                owner: Owner::new(),
                hooks,
            }),
        });
        let mut threads = Vec::with_capacity(n);
        for (index, deque) in deques.drain(..).enumerate() {
            let worker_shared = shared.clone();
            let mut builder =
                std::thread::Builder::new().name(format!("{}-{index}", self.thread_name));
            if let Some(size) = self.stack_size {
                builder = builder.stack_size(size);
            }
            match builder.spawn(move || worker_main(worker_shared, index, deque)) {
                Ok(handle) => threads.push(handle),
                Err(e) => {
                    let ex = Executor {
                        shared,
                        threads: Mutex::new(threads),
                    };
                    drop(ex);
                    return Err(e);
                }
            }
        }
        Ok(Executor {
            shared,
            threads: Mutex::new(threads),
        })
    }
}

fn default_worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// State shared by the workers, the handles and every task's schedule function.
pub(crate) struct Shared {
    injector: Gate<Runnable>,
    stealers: Box<[Stealer<Runnable>]>,
    parkers: Box<[Arc<dyn Park>]>,
    idle: Idle,
    /// The workers must exit.
    shutdown: AtomicBool,
    pub(crate) common: Arc<Common>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.stealers.len())
            .field("injected", &self.injector.len())
            .field("closed", &self.injector.is_closed())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Spawns a `Send` future onto this executor.
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
        let (runnable, task) = task::build(
            future,
            name,
            location,
            async_task::WithInfo(move |r, info: ScheduleInfo| {
                shared.schedule(r, info.woken_while_running)
            }),
        );
        self.schedule(runnable, false);
        task
    }

    fn schedule(&self, runnable: Runnable, yielded: bool) {
        if self.injector.is_closed() {
            task::discard(runnable, &self.common.hooks);
            return;
        }
        let mut slot = Some(runnable);
        let _ = WORKER.try_with(|w| {
            if let Some(worker) = &*w.borrow() {
                if std::ptr::eq(&*worker.shared, self) {
                    if let Some(r) = slot.take() {
                        worker.schedule_local(r, yielded);
                    }
                }
            }
        });
        let Some(runnable) = slot else { return };
        self.inject(runnable);
    }

    fn inject(&self, runnable: Runnable) {
        if self.injector.push(runnable) {
            self.notify_parked();
        }
    }

    /// Wakes a parked worker if there is one and nobody is searching.
    fn notify_parked(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.parkers[worker].unpark();
        }
    }

    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|q| !q.is_empty())
    }

    /// Takes a batch from the injector into `local` and returns one task.
    ///
    /// The batch is all that is there, up to [`MAX_INJECTOR_BATCH`], not a
    /// per-worker share: tasks spawned together sit next to each other in
    /// memory, and workers taking turns at the injector would interleave them
    /// so that neighbours polled on different workers share cache lines. Other
    /// workers steal contiguous halves instead. (yield: median 32-53 ms to
    /// 23-26 ms; mpmc 235 to 90 ms.)
    fn pop_injector_batch(&self, local: &Deque<Runnable>) -> Option<Runnable> {
        let first = self.injector.pop()?;
        let n = self.injector.len().min(MAX_INJECTOR_BATCH);
        for _ in 0..n {
            let Some(r) = self.injector.pop() else { break };
            local.push(r);
        }
        Some(first)
    }

    fn close(&self) {
        self.injector.close();
        self.shutdown.store(true, SeqCst);
        for w in self.idle.take_all_sleepers() {
            self.parkers[w].unpark();
        }
        for p in self.parkers.iter() {
            p.unpark();
        }
    }

    /// Drops every queued task and cancels every idle one. Call after the
    /// workers have stopped.
    fn drain(&self) {
        loop {
            let mut dropped = self.injector.drain();
            for q in self.stealers.iter() {
                loop {
                    match q.steal() {
                        Steal::Success(r) => {
                            task::discard(r, &self.common.hooks);
                            dropped += 1;
                        }
                        Steal::Retry => continue,
                        Steal::Empty => break,
                    }
                }
            }
            let wakers = Registry::global().close_and_drain(&self.common.owner);
            if dropped == 0 && wakers.is_empty() {
                break;
            }
            // Each wake schedules onto the closed executor, which drops the
            // runnable and with it the task's future.
            for w in wakers {
                w.wake();
            }
        }
    }
}

thread_local! {
    static WORKER: RefCell<Option<Rc<Worker>>> = const { RefCell::new(None) };
}

/// The state a worker thread keeps to itself.
struct Worker {
    index: usize,
    shared: Arc<Shared>,
    /// The local queue: this worker pushes and pops, others steal.
    deque: Deque<Runnable>,
    lifo: Cell<Option<Runnable>>,
    searching: Cell<bool>,
}

fn worker_main(shared: Arc<Shared>, index: usize, deque: Deque<Runnable>) {
    let worker = Rc::new(Worker {
        index,
        shared: shared.clone(),
        deque,
        lifo: Cell::new(None),
        searching: Cell::new(false),
    });
    WORKER.with(|w| *w.borrow_mut() = Some(worker.clone()));
    {
        let _spawn = context::enter_spawn(SpawnTarget::Multi(shared.clone()));
        let _current = context::enter_current(shared.common.clone(), index);
        worker.run();
        WORKER.with(|w| w.borrow_mut().take());
        // The executor is closed: cancel what is left here, on this thread.
        if let Some(r) = worker.lifo.take() {
            task::discard(r, &shared.common.hooks);
        }
        while let Some(r) = worker.deque.pop() {
            task::discard(r, &shared.common.hooks);
        }
    }
}

impl Worker {
    fn local(&self) -> &Deque<Runnable> {
        &self.deque
    }

    fn push_local(&self, runnable: Runnable) {
        self.deque.push(runnable);
    }

    fn schedule_local(&self, runnable: Runnable, yielded: bool) {
        if yielded {
            self.push_local(runnable);
        } else if let Some(prev) = self.lifo.replace(Some(runnable)) {
            self.push_local(prev);
        }
        // More than one task waiting here: let a sleeping worker help.
        if !self.searching.get() && !self.local().is_empty() {
            if let Some(worker) = self.shared.idle.worker_to_help() {
                self.shared.parkers[worker].unpark();
            }
        }
    }

    fn run(&self) {
        let shared = &*self.shared;
        let mut tick: u32 = 0;
        let mut lifo_polls: u32 = 0;
        loop {
            if shared.shutdown.load(SeqCst) {
                return;
            }
            tick = tick.wrapping_add(1);
            if tick % DRIVER_INTERVAL == 0 {
                shared.parkers[self.index].park(Some(Duration::ZERO));
            }
            let mut task = self.next_task(tick, &mut lifo_polls);
            if task.is_none() {
                if !self.searching.get() {
                    self.searching.set(shared.idle.transition_to_searching());
                }
                if self.searching.get() {
                    task = self.steal();
                    // Spin briefly before parking: waking a parked thread
                    // costs a system call on each side, and work often
                    // arrives within microseconds. Only a few microseconds,
                    // and without `sched_yield`: under I/O load the next work
                    // comes from the poller, which parking waits on, and a
                    // yielding worker hands its CPU to whatever else runs
                    // there (about half a system call per request in the HTTP
                    // server benchmark, for no gain).
                    let mut spins = 0;
                    while task.is_none() && spins < SPIN_ROUNDS && !shared.shutdown.load(SeqCst) {
                        spins += 1;
                        for _ in 0..(1 << spins.min(6)) {
                            std::hint::spin_loop();
                        }
                        task = self.steal();
                    }
                }
            }
            match task {
                Some(runnable) => {
                    if self.searching.replace(false) && shared.idle.transition_from_searching() {
                        // We were the last searcher: another worker takes over.
                        shared.notify_parked();
                    }
                    run_task(runnable, &shared.common.hooks);
                }
                None => self.park(),
            }
        }
    }

    fn next_task(&self, tick: u32, lifo_polls: &mut u32) -> Option<Runnable> {
        let shared = &*self.shared;
        if tick % GLOBAL_INTERVAL == 0 {
            // A batch, not one task: two busy workers taking turns one task
            // at a time would interleave neighbouring tasks between them
            // (see `pop_injector_batch`).
            if let Some(r) = shared.pop_injector_batch(self.local()) {
                *lifo_polls = 0;
                return Some(r);
            }
        }
        if let Some(r) = self.lifo.take() {
            if *lifo_polls < MAX_LIFO_POLLS {
                *lifo_polls += 1;
                return Some(r);
            }
            self.push_local(r);
        }
        *lifo_polls = 0;
        if let Some(r) = self.local().pop() {
            return Some(r);
        }
        shared.pop_injector_batch(self.local())
    }

    fn steal(&self) -> Option<Runnable> {
        let shared = &*self.shared;
        if let Some(r) = shared.pop_injector_batch(self.local()) {
            return Some(r);
        }
        let n = shared.stealers.len();
        let start = next_random() % n;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            loop {
                match shared.stealers[victim].steal_batch_and_pop(self.local()) {
                    Steal::Success(r) => return Some(r),
                    Steal::Retry => continue,
                    Steal::Empty => break,
                }
            }
        }
        None
    }

    fn has_local_work(&self) -> bool {
        // Peek at the LIFO slot: take it and put it back.
        let lifo = self.lifo.take();
        let has = lifo.is_some();
        self.lifo.set(lifo);
        has || !self.local().is_empty()
    }

    fn park(&self) {
        let shared = &*self.shared;
        let was_searching = self.searching.replace(false);
        if shared.idle.transition_to_parked(self.index, was_searching) && shared.has_work() {
            // We were the last searcher and work arrived meanwhile.
            shared.notify_parked();
        }
        loop {
            let shutdown = shared.shutdown.load(SeqCst);
            if !shutdown {
                shared.parkers[self.index].park(None);
            }
            let unpark_self = shutdown || shared.shutdown.load(SeqCst) || self.has_local_work();
            match shared.idle.transition_from_parked(self.index, unpark_self) {
                Some(notified) => {
                    self.searching.set(notified);
                    if notified && unpark_self {
                        // Notified, but we have our own work: stop searching.
                        self.searching.set(false);
                        if shared.idle.transition_from_searching() {
                            shared.notify_parked();
                        }
                    }
                    return;
                }
                None => continue,
            }
        }
    }
}

fn run_task(runnable: Runnable, hooks: &Hooks) {
    crate::coop::reset_budget();
    task::run_watched(runnable, hooks);
}

/// A cheap per-thread xorshift, for choosing whom to steal from.
fn next_random() -> usize {
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = (s as *const Cell<u64> as u64) | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x as usize
    })
}

/// A multi-threaded, work-stealing executor.
///
/// Spawned tasks must be `Send`: any worker may run them. The worker threads
/// start when the executor is built and stop when it is dropped; dropping it
/// cancels every task that has not finished (their futures are dropped), as
/// `asyncio.run` does when the main coroutine returns.
///
/// # Examples
///
/// ```
/// use corio_executor::Executor;
///
/// let ex = Executor::builder().worker_threads(2).build().unwrap();
/// let tasks: Vec<_> = (0..10).map(|i| ex.spawn(async move { i * 2 })).collect();
/// let sum = ex.block_on(async {
///     let mut sum = 0;
///     for t in tasks {
///         sum += t.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 90);
/// ```
pub struct Executor {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("worker_threads", &self.worker_threads())
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// An executor with the default configuration (see [`Builder::new`]).
    ///
    /// # Errors
    ///
    /// When a worker thread cannot be spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// assert!(ex.worker_threads() >= 1);
    /// ```
    pub fn new() -> io::Result<Executor> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure an executor.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::builder().worker_threads(1).build().unwrap();
    /// assert_eq!(ex.worker_threads(), 1);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// The number of worker threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::builder().worker_threads(3).build().unwrap();
    /// assert_eq!(ex.worker_threads(), 3);
    /// ```
    pub fn worker_threads(&self) -> usize {
        self.shared.stealers.len()
    }

    /// Spawns a task; it starts running at once on a worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let task = ex.spawn(async { "hi" });
    /// assert_eq!(ex.block_on(task).unwrap(), "hi");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, None, Location::caller())
    }

    pub(crate) fn spawn_named<F>(
        &self,
        future: F,
        name: Option<Box<Name>>,
        location: &'static Location<'static>,
    ) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, name, location)
    }

    /// A cheap, cloneable handle that spawns onto this executor from anywhere.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let handle = ex.handle();
    /// let t = std::thread::spawn(move || handle.spawn(async { 5 })).join().unwrap();
    /// assert_eq!(ex.block_on(t).unwrap(), 5);
    /// ```
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.shared.clone(),
        }
    }

    /// Runs `future` to completion on the current thread, with this
    /// executor's workers running the tasks it spawns.
    ///
    /// Inside, [`spawn`](crate::spawn) sends tasks to this executor, and
    /// [`spawn_local`](crate::spawn_local) runs `!Send` tasks on the current
    /// thread; those local tasks are cancelled when `block_on` returns.
    ///
    /// # Panics
    ///
    /// With [`UnhandledPanic::ShutdownRuntime`], when a task nobody awaits
    /// panics; and when `future` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let v = ex.block_on(async { corio_executor::spawn(async { 40 + 2 }).await.unwrap() });
    /// assert_eq!(v, 42);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _spawn = context::enter_spawn(SpawnTarget::Multi(self.shared.clone()));
        let park = Arc::new(ThreadPark::new());
        let local = crate::local::LocalExecutor::with_hooks(self.shared.common.hooks.clone(), park);
        local.block_on(future)
    }

    /// Makes [`spawn`](crate::spawn) on this thread use this executor until
    /// the guard is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let _guard = ex.enter();
    /// let task = corio_executor::spawn(async { 1 });
    /// assert_eq!(ex.block_on(task).unwrap(), 1);
    /// ```
    pub fn enter(&self) -> EnterGuard {
        EnterGuard {
            _guard: context::enter_spawn(SpawnTarget::Multi(self.shared.clone())),
            _not_send: std::marker::PhantomData,
        }
    }

    /// Number of idle tasks this executor tracks for cancellation at shutdown.
    #[doc(hidden)]
    pub fn __registered_tasks(&self) -> usize {
        Registry::global().len(&self.shared.common.owner)
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shared.close();
        let threads = std::mem::take(&mut *lock(&self.threads));
        let current = std::thread::current().id();
        for t in threads {
            // An executor dropped by one of its own tasks cannot join the
            // worker running that task; it exits once the task returns.
            if t.thread().id() != current {
                let _ = t.join();
            }
        }
        self.shared.drain();
    }
}

/// Spawns onto an [`Executor`] from any thread; see [`Executor::handle`].
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let h = ex.handle();
/// assert_eq!(ex.block_on(h.spawn(async { 3 })).unwrap(), 3);
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    /// Spawns a task onto the executor.
    ///
    /// If the executor has shut down, the task is cancelled at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let t = ex.handle().spawn(async { 1 });
    /// assert_eq!(ex.block_on(t).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, None, Location::caller())
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Keeps an executor as this thread's spawn target; see [`Executor::enter`].
#[derive(Debug)]
pub struct EnterGuard {
    _guard: context::SpawnGuard,
    _not_send: std::marker::PhantomData<*const ()>,
}
