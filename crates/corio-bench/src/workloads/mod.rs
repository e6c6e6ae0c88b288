//! The workloads, one module each, all written against [`Spawner`] so that every runtime
//! runs the very same code.
//!
//! Each workload returns a [`Measured`]: the time taken, measured inside the runtime
//! around the work itself (not building or tearing down the runtime), and a check value
//! that the orchestrator compares with [`Workload::expected_check`].

mod channel_ping_pong;
mod mpmc;
mod mutex;
mod ping_pong;
mod sleep;
mod spawn;
mod tcp_echo;
mod timers;
mod yield_now;

use std::fmt;
use std::str::FromStr;
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

/// How big a run is: a count `n` and, for the workloads that take one, a second parameter
/// `m` (0 when unused). Written `N` or `NxM` on the child's command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Size {
    /// The main count: tasks, round trips, timers, connections.
    pub(crate) n: u64,
    /// The second parameter: a sleep's milliseconds, round trips per connection.
    pub(crate) m: u64,
}

impl Size {
    /// A size with no second parameter.
    pub(crate) const fn of(n: u64) -> Size {
        Size { n, m: 0 }
    }

    /// A size with a second parameter.
    pub(crate) const fn with(n: u64, m: u64) -> Size {
        Size { n, m }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.m {
            0 => write!(f, "{}", self.n),
            m => write!(f, "{}x{m}", self.n),
        }
    }
}

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Size, String> {
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("bad SIZE `{s}`: {e}"));
        match s.split_once('x') {
            Some((n, m)) => Ok(Size::with(number(n)?, number(m)?)),
            None => Ok(Size::of(number(s)?)),
        }
    }
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
    /// `n` tasks each sleep `m` milliseconds, all at once.
    Sleep,
    /// `n` timeouts, each armed by one poll and dropped long before it fires.
    Timers,
    /// `n` TCP connections on 127.0.0.1, each `m` round trips of 64 bytes.
    TcpEcho,
    /// Two tasks pass a token back and forth `size` times over two bounded(1) channels.
    ChannelPingPong,
    /// [`mpmc::PRODUCERS`] producers send `size` items in all through one bounded channel
    /// to [`mpmc::CONSUMERS`] consumers.
    Mpmc,
    /// `size` tasks each increment a lock-protected counter [`mutex::INCREMENTS`] times.
    Mutex,
}

impl Workload {
    /// The workloads that the orchestrator measures and reports, in report order.
    pub(crate) const MEASURED: [Workload; 9] = [
        Workload::Spawn,
        Workload::Yield,
        Workload::PingPong,
        Workload::Sleep,
        Workload::Timers,
        Workload::TcpEcho,
        Workload::ChannelPingPong,
        Workload::Mpmc,
        Workload::Mutex,
    ];

    /// The name used on the command line and in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Baseline => "baseline",
            Workload::Spawn => "spawn",
            Workload::Yield => "yield",
            Workload::PingPong => "ping_pong",
            Workload::Sleep => "sleep",
            Workload::Timers => "timers",
            Workload::TcpEcho => "tcp_echo",
            Workload::ChannelPingPong => "channel_ping_pong",
            Workload::Mpmc => "mpmc",
            Workload::Mutex => "mutex",
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
    pub(crate) fn full_size(self) -> Size {
        match self {
            Workload::Baseline => Size::of(0),
            Workload::Spawn => Size::of(1_000_000),
            Workload::Yield => Size::of(1_000),
            Workload::PingPong => Size::of(1_000_000),
            Workload::Sleep => Size::with(100_000, 200),
            Workload::Timers => Size::of(1_000_000),
            Workload::TcpEcho => Size::with(100, 2_000),
            Workload::ChannelPingPong => Size::of(1_000_000),
            Workload::Mpmc => Size::of(2_000_000),
            Workload::Mutex => Size::of(1_000),
        }
    }

    /// The size of a `--quick` smoke run.
    pub(crate) fn quick_size(self) -> Size {
        match self {
            Workload::Baseline => Size::of(0),
            Workload::Spawn => Size::of(1_000),
            Workload::Yield => Size::of(10),
            Workload::PingPong => Size::of(1_000),
            Workload::Sleep => Size::with(100, 10),
            Workload::Timers => Size::of(1_000),
            Workload::TcpEcho => Size::with(4, 50),
            Workload::ChannelPingPong => Size::of(1_000),
            Workload::Mpmc => Size::of(4_000),
            Workload::Mutex => Size::of(10),
        }
    }

    /// The check value a correct run at `size` reports.
    pub(crate) fn expected_check(self, size: Size) -> u64 {
        match self {
            Workload::Baseline => 1,
            Workload::Spawn => spawn::expected(size.n),
            Workload::Yield => yield_now::expected(size.n),
            Workload::PingPong => ping_pong::expected(size.n),
            Workload::Sleep => sleep::expected(size.n),
            Workload::Timers => timers::expected(size.n),
            Workload::TcpEcho => tcp_echo::expected(size.n, size.m),
            Workload::ChannelPingPong => channel_ping_pong::expected(size.n),
            Workload::Mpmc => mpmc::expected(size.n),
            Workload::Mutex => mutex::expected(size.n),
        }
    }

    /// How many operations a run at `size` performs; rates are these per second.
    pub(crate) fn ops(self, size: Size) -> u64 {
        match self {
            Workload::Baseline => 1,
            Workload::Spawn
            | Workload::PingPong
            | Workload::Sleep
            | Workload::Timers
            | Workload::ChannelPingPong
            | Workload::Mpmc => size.n,
            Workload::Mutex => size.n * mutex::INCREMENTS,
            Workload::Yield => yield_now::TASKS * size.n,
            Workload::TcpEcho => size.n * size.m,
        }
    }

    /// The least time a correct run can take, where the workload has one (`sleep`'s
    /// duration); the table then shows each runtime's overhead above it.
    pub(crate) fn floor(self, size: Size) -> Option<Duration> {
        match self {
            Workload::Sleep => Some(Duration::from_millis(size.m)),
            _ => None,
        }
    }

    /// What one operation is, for the report.
    pub(crate) fn op_name(self) -> &'static str {
        match self {
            Workload::Baseline | Workload::Spawn => "task",
            Workload::Yield => "yield",
            Workload::PingPong | Workload::TcpEcho | Workload::ChannelPingPong => "round trip",
            Workload::Mpmc => "item",
            Workload::Mutex => "lock",
            Workload::Sleep => "sleep",
            Workload::Timers => "timer",
        }
    }

    /// One line on what a run at `size` does, for the report.
    pub(crate) fn describe(self, size: Size) -> String {
        let Size { n, m } = size;
        match self {
            Workload::Baseline => "one empty task: the runtime's own footprint".to_owned(),
            Workload::Spawn => {
                format!("{n} tasks `async move {{ i }}` spawned, handles kept, then awaited")
            }
            Workload::Yield => format!(
                "{} tasks each calling the runtime's yield_now {n} times",
                yield_now::TASKS
            ),
            Workload::PingPong => {
                format!("{n} round trips of a token between two tasks, through the wake path")
            }
            Workload::Sleep => format!(
                "{n} tasks spawned at once, each sleeping {m} ms with the runtime's sleep, \
                 then all awaited; overhead = median - {m} ms"
            ),
            Workload::Timers => format!(
                "{n} timeouts of 60 s around a pending future, in one task: each polled once \
                 (so its timer is registered), then dropped (cancelled)"
            ),
            Workload::TcpEcho => format!(
                "{n} TCP connections on 127.0.0.1 (TCP_NODELAY), each {m} round trips of \
                 {} bytes to an echo task per connection",
                tcp_echo::MESSAGE
            ),
            Workload::ChannelPingPong => format!(
                "{n} round trips of a token between two tasks over two bounded(1) channels \
                 (corio::sync::channel, tokio::sync::mpsc, async-channel)"
            ),
            Workload::Mpmc => format!(
                "{n} items from {} producers to {} consumers through one bounded({}) channel \
                 (tokio: mpsc with the receiver behind a tokio Mutex)",
                mpmc::PRODUCERS,
                mpmc::CONSUMERS,
                mpmc::CAPACITY
            ),
            Workload::Mutex => format!(
                "{n} tasks each incrementing a counter {} times under one async lock \
                 (corio::sync::Lock, tokio::sync::Mutex, async-lock)",
                mutex::INCREMENTS
            ),
        }
    }

    /// Whether memory per operation means something: only when every operation holds
    /// memory until the end, as spawned-but-not-awaited tasks do.
    pub(crate) fn reports_memory_per_op(self) -> bool {
        matches!(self, Workload::Spawn | Workload::Sleep)
    }

    /// Runs the workload once, inside a runtime's main future.
    pub(crate) async fn run(self, spawner: &Spawner, size: Size) -> Measured {
        match self {
            Workload::Baseline => baseline(spawner).await,
            Workload::Spawn => spawn::run(spawner, size.n).await,
            Workload::Yield => yield_now::run(spawner, size.n).await,
            Workload::PingPong => ping_pong::run(spawner, size.n).await,
            Workload::Sleep => sleep::run(spawner, size.n, Duration::from_millis(size.m)).await,
            Workload::Timers => timers::run(spawner, size.n).await,
            Workload::TcpEcho => tcp_echo::run(spawner, size.n, size.m).await,
            Workload::ChannelPingPong => channel_ping_pong::run(spawner, size.n).await,
            Workload::Mpmc => mpmc::run(spawner, size.n).await,
            Workload::Mutex => mutex::run(spawner, size.n).await,
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

#[cfg(test)]
mod tests {
    use super::{Size, Workload};

    #[test]
    fn sizes_round_trip() {
        for size in [Size::of(0), Size::of(1_000), Size::with(100, 2_000)] {
            assert_eq!(size.to_string().parse::<Size>(), Ok(size));
        }
        assert_eq!("100".parse::<Size>(), Ok(Size::of(100)));
        assert_eq!("4x50".parse::<Size>(), Ok(Size::with(4, 50)));
        assert!("x".parse::<Size>().is_err());
        assert!("4x".parse::<Size>().is_err());
    }

    #[test]
    fn names_parse_back() {
        for w in Workload::MEASURED {
            assert_eq!(Workload::from_name(w.name()), Some(w));
        }
    }
}
