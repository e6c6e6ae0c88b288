//! The runtime variants under test, behind one small enum-dispatched interface.
//!
//! Every workload is written once, against [`Spawner`] and [`Join`]; [`Runtime::block_on`]
//! builds the chosen runtime and drives the workload's main future on it. Dispatch is a
//! `match` on a plain enum, so the hot path pays one predictable branch and no
//! allocation of its own: [`Spawner::spawn`] hands the workload's concrete future type to
//! the runtime's own spawn, which allocates its task once, as it would in an application.
//!
//! The variants:
//!
//! | name       | runtime                                                                 |
//! |------------|-------------------------------------------------------------------------|
//! | `corio-mt` | `corio::Runtime`, multi-thread, `WORKERS` workers; `block_on` on main   |
//! | `corio-st` | `corio::Runtime`, current-thread                                        |
//! | `tokio-mt` | tokio `multi_thread`, `WORKERS` worker threads; `block_on` on main       |
//! | `tokio-st` | tokio `current_thread`                                                  |
//! | `smol-mt`  | `async_executor::Executor` run by `WORKERS` threads: `WORKERS - 1`      |
//! |            | background threads plus the main thread, which drives the main future   |
//! | `smol-st`  | `async_executor::LocalExecutor`, run by the main thread                 |
//!
//! Every smol runner thread blocks with `async_io::block_on` (what `smol::block_on` is), so
//! that an idle runner drives async-io's reactor and timers itself, as in a smol program;
//! `futures_lite::future::block_on` would leave timers and sockets to async-io's fallback
//! thread.
//!
//! tokio and corio run the main future on the calling thread beside their workers, the way
//! `#[tokio::main]` and `corio::run` do; smol has no such split, so its main thread is one
//! of the `WORKERS` runners (the way smol's own examples use an `Executor`).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_executor::{Executor, LocalExecutor};
use async_io::block_on as smol_block_on;

use crate::notify::Notify;

/// One runtime variant under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runtime {
    CorioMt,
    CorioSt,
    TokioMt,
    TokioSt,
    SmolMt,
    SmolSt,
}

impl Runtime {
    /// Every variant, in the order the report lists them.
    pub(crate) const ALL: [Runtime; 6] = [
        Runtime::CorioMt,
        Runtime::CorioSt,
        Runtime::TokioMt,
        Runtime::TokioSt,
        Runtime::SmolMt,
        Runtime::SmolSt,
    ];

    /// The name used on the command line and in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Runtime::CorioMt => "corio-mt",
            Runtime::CorioSt => "corio-st",
            Runtime::TokioMt => "tokio-mt",
            Runtime::TokioSt => "tokio-st",
            Runtime::SmolMt => "smol-mt",
            Runtime::SmolSt => "smol-st",
        }
    }

    /// Parses a name given by [`Runtime::name`].
    pub(crate) fn from_name(name: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|rt| rt.name() == name)
    }

    /// Whether the variant runs every task on the one calling thread.
    pub(crate) fn is_single_threaded(self) -> bool {
        matches!(self, Runtime::CorioSt | Runtime::TokioSt | Runtime::SmolSt)
    }

    /// Builds the runtime, runs `main(spawner)` to completion on it, and tears it down.
    ///
    /// `workers` is the number of threads that run tasks in the multi-thread variants;
    /// the single-threaded ones ignore it.
    ///
    /// # Errors
    ///
    /// Fails if the runtime cannot be built (a worker thread cannot be started).
    pub(crate) fn block_on<F, Fut>(self, workers: usize, main: F) -> io::Result<Fut::Output>
    where
        F: FnOnce(Spawner) -> Fut,
        Fut: Future,
    {
        let workers = workers.max(1);
        match self {
            Runtime::CorioMt => {
                let rt = corio::Runtime::builder()
                    .multi_thread()
                    .worker_threads(workers)
                    .build()?;
                Ok(rt.block_on(main(Spawner::Corio)))
            }
            Runtime::CorioSt => {
                let rt = corio::Runtime::builder().current_thread().build()?;
                Ok(rt.block_on(main(Spawner::Corio)))
            }
            Runtime::TokioMt => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .enable_all()
                    .build()?;
                Ok(rt.block_on(main(Spawner::Tokio)))
            }
            Runtime::TokioSt => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                Ok(rt.block_on(main(Spawner::Tokio)))
            }
            Runtime::SmolMt => smol_multi_thread(workers, main),
            Runtime::SmolSt => {
                let ex = Rc::new(LocalExecutor::new());
                Ok(smol_block_on(ex.run(main(Spawner::SmolLocal(ex.clone())))))
            }
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// `WORKERS - 1` background threads run the executor until told to stop; the main thread
/// is the last runner and drives the main future.
fn smol_multi_thread<F, Fut>(workers: usize, main: F) -> io::Result<Fut::Output>
where
    F: FnOnce(Spawner) -> Fut,
    Fut: Future,
{
    let ex = Arc::new(Executor::new());
    let stops: Vec<Arc<Notify>> = (1..workers).map(|_| Arc::new(Notify::new())).collect();
    std::thread::scope(|scope| {
        let stop_all = || stops.iter().for_each(|stop| stop.notify());
        for (i, stop) in stops.iter().enumerate() {
            let ex = ex.clone();
            let stop = stop.clone();
            let started = std::thread::Builder::new()
                .name(format!("smol-worker-{i}"))
                .spawn_scoped(scope, move || smol_block_on(ex.run(stop.wait())));
            if let Err(err) = started {
                // The scope joins the threads already started: stop them first.
                stop_all();
                return Err(err);
            }
        }
        let out = smol_block_on(ex.run(main(Spawner::Smol(ex.clone()))));
        stop_all();
        Ok(out)
    })
}

/// Spawns tasks onto the runtime that runs the current main future.
///
/// corio and tokio find their runtime through the thread's context; smol's executors are
/// handed over explicitly, as smol programs do.
#[derive(Clone)]
pub(crate) enum Spawner {
    Corio,
    Tokio,
    Smol(Arc<Executor<'static>>),
    SmolLocal(Rc<LocalExecutor<'static>>),
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Spawner::Corio => "Spawner::Corio",
            Spawner::Tokio => "Spawner::Tokio",
            Spawner::Smol(_) => "Spawner::Smol",
            Spawner::SmolLocal(_) => "Spawner::SmolLocal",
        })
    }
}

/// Which `yield_now` belongs to a runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum YieldFn {
    /// `corio::yield_now`.
    Corio,
    /// `tokio::task::yield_now`.
    Tokio,
    /// `futures_lite::future::yield_now`, what smol programs use.
    FuturesLite,
}

/// Which family of runtime a [`Spawner`] belongs to: whose timers and sockets to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// `corio::sleep`, `corio::timeout`, `corio::net`.
    Corio,
    /// `tokio::time`, `tokio::net`.
    Tokio,
    /// async-io's `Timer` and `Async`, what smol re-exports.
    Smol,
}

impl Spawner {
    /// The family of the runtime: which timer and socket types a program on it uses.
    pub(crate) fn family(&self) -> Family {
        match self {
            Spawner::Corio => Family::Corio,
            Spawner::Tokio => Family::Tokio,
            Spawner::Smol(_) | Spawner::SmolLocal(_) => Family::Smol,
        }
    }

    /// Spawns `fut` with the runtime's own spawn; the task starts running at once.
    ///
    /// The future is passed on as its concrete type: the only allocation is the
    /// runtime's own task allocation.
    pub(crate) fn spawn<F>(&self, fut: F) -> Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Spawner::Corio => Join::Corio(corio::spawn(fut)),
            Spawner::Tokio => Join::Tokio(tokio::spawn(fut)),
            Spawner::Smol(ex) => Join::Smol(ex.spawn(fut)),
            Spawner::SmolLocal(ex) => Join::Smol(ex.spawn(fut)),
        }
    }

    /// The `yield_now` a program on this runtime would call.
    pub(crate) fn yield_fn(&self) -> YieldFn {
        match self {
            Spawner::Corio => YieldFn::Corio,
            Spawner::Tokio => YieldFn::Tokio,
            Spawner::Smol(_) | Spawner::SmolLocal(_) => YieldFn::FuturesLite,
        }
    }
}

/// The join handle of a task spawned by [`Spawner::spawn`]: resolves to the task's output.
///
/// # Panics
///
/// Polling panics if the task was cancelled or panicked: a benchmark task never should.
#[must_use = "dropping a Join detaches (or, for smol, cancels) the task"]
pub(crate) enum Join<T> {
    Corio(corio::Task<T>),
    Tokio(tokio::task::JoinHandle<T>),
    Smol(async_executor::Task<T>),
}

impl<T> Future for Join<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.get_mut() {
            Join::Corio(task) => Pin::new(task)
                .poll(cx)
                .map(|res| res.expect("corio task failed")),
            Join::Tokio(handle) => Pin::new(handle)
                .poll(cx)
                .map(|res| res.expect("tokio task failed")),
            Join::Smol(task) => Pin::new(task).poll(cx),
        }
    }
}
