//! The workloads, one module each, all written against [`Spawner`] so that every runtime
//! runs the very same code.
//!
//! Each workload returns a [`Measured`]: the time taken, measured inside the runtime
//! around the work itself (not building or tearing down the runtime), and a check value
//! that the orchestrator compares with [`Workload::expected_check`].

mod ping_pong;
mod spawn;
mod yield_now;

use std::time::Duration;

use crate::runtime::Spawner;

/// What one run of a workload produced.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Measured {
    /// Time from the first spawn to the last await.
    pub(crate) elapsed: Duration,
    /// A value the orchestrator checks against [`Workload::expected_check`].
    pub(crate) check: u64,
}

/// A workload: what runs inside the runtime's main future.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workload {
    /// Spawns and awaits one empty task: the runtime's own footprint, the reference for
    /// memory per operation.
    Baseline,
    /// Spawns `size` tiny tasks, keeps every handle, then awaits them all.
    Spawn,
    /// [`yield_now::TASKS`] tasks each yield `size` times.
    Yield,
    /// Two tasks pass a token back and forth `size` times.
    PingPong,
}

impl Workload {
    /// The workloads that the orchestrator measures and reports, in report order.
    pub(crate) const MEASURED: [Workload; 3] =
        [Workload::Spawn, Workload::Yield, Workload::PingPong];

    /// The name used on the command line and in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Baseline => "baseline",
            Workload::Spawn => "spawn",
            Workload::Yield => "yield",
            Workload::PingPong => "ping_pong",
        }
    }

    /// Parses a name given by [`Workload::name`].
    pub(crate) fn from_name(name: &str) -> Option<Workload> {
        [Workload::Baseline]
            .into_iter()
            .chain(Workload::MEASURED)
            .find(|w| w.name() == name)
    }

    /// The size of a full run.
    pub(crate) fn full_size(self) -> u64 {
        match self {
            Workload::Baseline => 0,
            Workload::Spawn => 1_000_000,
            Workload::Yield => 1_000,
            Workload::PingPong => 1_000_000,
        }
    }

    /// The size of a `--quick` smoke run.
    pub(crate) fn quick_size(self) -> u64 {
        match self {
            Workload::Baseline => 0,
            Workload::Spawn => 1_000,
            Workload::Yield => 10,
            Workload::PingPong => 1_000,
        }
    }

    /// The check value a correct run at `size` reports.
    pub(crate) fn expected_check(self, size: u64) -> u64 {
        match self {
            Workload::Baseline => 1,
            Workload::Spawn => spawn::expected(size),
            Workload::Yield => yield_now::expected(size),
            Workload::PingPong => ping_pong::expected(size),
        }
    }

    /// How many operations a run at `size` performs; rates are these per second.
    pub(crate) fn ops(self, size: u64) -> u64 {
        match self {
            Workload::Baseline => 1,
            Workload::Spawn => size,
            Workload::Yield => yield_now::TASKS * size,
            Workload::PingPong => size,
        }
    }

    /// What one operation is, for the report.
    pub(crate) fn op_name(self) -> &'static str {
        match self {
            Workload::Baseline | Workload::Spawn => "task",
            Workload::Yield => "yield",
            Workload::PingPong => "round trip",
        }
    }

    /// One line on what a run at `size` does, for the report.
    pub(crate) fn describe(self, size: u64) -> String {
        match self {
            Workload::Baseline => "one empty task: the runtime's own footprint".to_owned(),
            Workload::Spawn => {
                format!("{size} tasks `async move {{ i }}` spawned, handles kept, then awaited")
            }
            Workload::Yield => format!(
                "{} tasks each calling the runtime's yield_now {size} times",
                yield_now::TASKS
            ),
            Workload::PingPong => {
                format!("{size} round trips of a token between two tasks, through the wake path")
            }
        }
    }

    /// Whether memory per operation means something: only when every operation holds
    /// memory until the end, as spawned-but-not-awaited tasks do.
    pub(crate) fn reports_memory_per_op(self) -> bool {
        matches!(self, Workload::Spawn)
    }

    /// Runs the workload once, inside a runtime's main future.
    pub(crate) async fn run(self, spawner: &Spawner, size: u64) -> Measured {
        match self {
            Workload::Baseline => baseline(spawner).await,
            Workload::Spawn => spawn::run(spawner, size).await,
            Workload::Yield => yield_now::run(spawner, size).await,
            Workload::PingPong => ping_pong::run(spawner, size).await,
        }
    }
}

/// Spawns and awaits one empty task, so that whatever a runtime sets up lazily on its
/// first spawn (thread-local contexts, queues, allocator arenas) counts as its baseline
/// rather than as the cost of the tasks in [`Workload::Spawn`].
async fn baseline(spawner: &Spawner) -> Measured {
    let start = std::time::Instant::now();
    let check = spawner.spawn(async { 1 }).await;
    Measured {
        elapsed: start.elapsed(),
        check,
    }
}
