//! Stress: many threads spawning at once, random cancellation racing the
//! tasks it cancels, and spawning racing shutdown. Every check is exact:
//! each task runs its body at most once, each future is dropped exactly
//! once, each output is dropped exactly once, and every handle resolves.
//!
//! The default tests are bounded to a few seconds each in debug builds (about
//! 5 s for the file on two cores). The `#[ignore]`d variants run the same
//! checks for [`LONG`] each, about 30 s in all; `cargo xtask test --stress`
//! runs them in release with `--include-ignored`.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{probe, timeout, Counters, Out, Watchdog};
use corio_executor::{yield_now, Executor, JoinError, Task, TaskBuilder, UnhandledPanic};

/// How long each `#[ignore]`d variant runs; with libtest's default of one
/// test thread per core, the four of them take about 30 s on two cores.
const LONG: Duration = Duration::from_secs(15);

/// Generous: a lost wake-up fails the test after this long instead of hanging it.
const LIMIT: Duration = Duration::from_secs(60);

/// A tiny xorshift generator: reproducible from its seed, no dependency.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn two_workers() -> Executor {
    Executor::builder().worker_threads(2).build().unwrap()
}

// --- Many spawners ---------------------------------------------------------------

/// `threads` OS threads each spawn `per_thread` tasks through a `Handle`;
/// each task bumps its own slot once and returns its id.
fn spawn_from_many_threads(threads: usize, per_thread: usize) {
    let total = threads * per_thread;
    let ex = two_workers();
    let slots: Arc<Vec<AtomicU8>> = Arc::new((0..total).map(|_| AtomicU8::new(0)).collect());
    let barrier = Arc::new(Barrier::new(threads));
    let spawners: Vec<_> = (0..threads)
        .map(|t| {
            let (handle, slots, barrier) = (ex.handle(), slots.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let tasks: Vec<Task<usize>> = (t * per_thread..(t + 1) * per_thread)
                    .map(|id| {
                        let slots = slots.clone();
                        handle.spawn(async move {
                            // Some tasks are rescheduled from the workers too.
                            for _ in 0..id % 3 {
                                yield_now().await;
                            }
                            slots[id].fetch_add(1, SeqCst);
                            id
                        })
                    })
                    .collect();
                if t % 2 == 0 {
                    // Half the spawners await their own tasks, from outside
                    // the executor.
                    let sum = corio_executor::block_on(timeout(LIMIT, async {
                        let mut sum = 0;
                        for task in tasks {
                            sum += task.await.unwrap();
                        }
                        sum
                    }));
                    (sum.expect("a task never finished"), Vec::new())
                } else {
                    (0, tasks)
                }
            })
        })
        .collect();
    let mut sum = 0;
    let mut rest = Vec::new();
    for s in spawners {
        let (partial, tasks) = s.join().unwrap();
        sum += partial;
        rest.extend(tasks);
    }
    let rest_sum = ex.block_on(timeout(LIMIT, async {
        let mut sum = 0;
        for task in rest {
            sum += task.await.unwrap();
        }
        sum
    }));
    sum += rest_sum.expect("a task never finished");
    assert_eq!(sum, (total - 1) * total / 2);
    let wrong: Vec<(usize, u8)> = slots
        .iter()
        .map(|s| s.load(SeqCst))
        .enumerate()
        .filter(|&(_, n)| n != 1)
        .collect();
    assert!(wrong.is_empty(), "tasks lost or run twice: {wrong:?}");
}

#[test]
fn eight_threads_spawn_twenty_thousand_tasks_each() {
    spawn_from_many_threads(8, 20_000);
}

#[test]
#[ignore = "long stress variant; run with `cargo xtask test --stress`"]
fn many_threads_spawn_many_tasks_repeatedly() {
    let start = Instant::now();
    let mut rounds = 0;
    while start.elapsed() < LONG {
        spawn_from_many_threads(8, 50_000);
        rounds += 1;
    }
    assert!(rounds >= 1);
}

// --- Random cancellation -----------------------------------------------------------

/// What the test did with one task's handle.
enum Fate {
    /// Awaited by the main thread.
    Awaited(Task<Out>),
    /// Cancelled from a canceller thread.
    Cancelled(Task<Out>),
    /// Made `CancelOnDrop` and dropped from a canceller thread.
    CancelledOnDrop(Task<Out>),
    /// Dropped at once: it keeps running (or is cancelled at shutdown).
    Detached,
}

/// A task id and what cancelling it gave (`None`: dropped as `CancelOnDrop`).
type CancelResult = (usize, Option<Result<Out, JoinError>>);

/// How the cancels and panics of a round came out.
#[derive(Debug, Default, Clone, Copy)]
struct Outcomes {
    /// The task finished first: the cancel gave its output.
    finished_first: u64,
    /// The future was dropped before its body completed.
    cancelled: u64,
    /// The body completed while the cancel was closing the task: the output
    /// was dropped with the task.
    completed_while_cancelled: u64,
    /// Panics handed to an awaiter or a canceller.
    panics_returned: u64,
    /// Panics handed to the `UnhandledPanic` policy.
    panics_reported: u64,
}

impl Outcomes {
    fn add(&mut self, o: Outcomes) {
        self.finished_first += o.finished_first;
        self.cancelled += o.cancelled;
        self.completed_while_cancelled += o.completed_while_cancelled;
        self.panics_returned += o.panics_returned;
        self.panics_reported += o.panics_reported;
    }
}

fn counts(n: usize) -> Arc<Vec<AtomicU8>> {
    Arc::new((0..n).map(|_| AtomicU8::new(0)).collect())
}

/// One round: `n` tasks that yield a random number of times; a random
/// subset is cancelled from other threads while they run. With `panics`,
/// one task in four panics at the end of its body instead of returning.
fn cancellation_round(seed: u64, n: usize, panics: bool) -> Outcomes {
    let _watchdog = Watchdog::new(format!("cancellation round with seed {seed}"), LIMIT);
    let mut rng = Rng::new(seed);
    let counters: Vec<Arc<Counters>> = (0..n).map(|_| Counters::new()).collect();
    // Per task: did its body panic; how often the policy reported it.
    let (panicked, reported) = (counts(n), counts(n));
    let r = reported.clone();
    let ex = Executor::builder()
        .worker_threads(2)
        .unhandled_panic(UnhandledPanic::Custom(Arc::new(move |p| {
            let id: usize = p.task_name().unwrap().parse().unwrap();
            r[id].fetch_add(1, SeqCst);
        })))
        .build()
        .unwrap();

    // Two canceller threads take handles as soon as they are spawned and
    // cancel them after a random pause, while the tasks run.
    let results: Arc<Mutex<Vec<CancelResult>>> = Arc::new(Mutex::new(Vec::new()));
    let (senders, cancellers): (Vec<_>, Vec<_>) = (0..2u64)
        .map(|k| {
            let (tx, rx) = mpsc::channel::<(usize, Fate)>();
            let results = results.clone();
            let mut rng = Rng::new(seed ^ (k + 1));
            let canceller = thread::spawn(move || {
                for (id, fate) in rx {
                    for _ in 0..rng.below(2_000) {
                        std::hint::spin_loop();
                    }
                    let result = match fate {
                        Fate::Cancelled(task) => Some(corio_executor::block_on(task.cancel())),
                        Fate::CancelledOnDrop(task) => {
                            drop(task.cancel_on_drop());
                            None
                        }
                        Fate::Awaited(_) | Fate::Detached => unreachable!(),
                    };
                    results.lock().unwrap().push((id, result));
                }
            });
            (tx, canceller)
        })
        .unzip();

    let mut awaited = Vec::new();
    for (id, c) in counters.iter().enumerate() {
        let yields = rng.below(128);
        let will_panic = panics && rng.below(4) == 0;
        let (c2, p) = (c.clone(), panicked.clone());
        let body = probe(c, async move {
            for _ in 0..yields {
                yield_now().await;
            }
            if will_panic {
                p[id].store(1, SeqCst);
                panic!("expected panic in task {id}");
            }
            Out::new(&c2, id as u64)
        });
        let task = TaskBuilder::new().name(id.to_string()).spawn_on(&ex, body);
        let fate = match rng.below(8) {
            0..=2 => Fate::Awaited(task),
            3..=5 => Fate::Cancelled(task),
            6 => Fate::CancelledOnDrop(task),
            _ => {
                drop(task);
                Fate::Detached
            }
        };
        match fate {
            Fate::Cancelled(_) | Fate::CancelledOnDrop(_) => {
                senders[id % 2].send((id, fate)).unwrap();
            }
            Fate::Awaited(_) | Fate::Detached => awaited.push((id, fate)),
        }
    }
    drop(senders);

    let outs = ex.block_on(timeout(LIMIT, async {
        let mut outs = Vec::new();
        for (id, fate) in awaited {
            if let Fate::Awaited(task) = fate {
                outs.push((id, task.await));
            }
        }
        outs
    }));
    let outs = outs.expect("an awaited task never finished");
    for c in cancellers {
        c.join().unwrap();
    }

    let mut outcomes = Outcomes::default();
    let returned = counts(n);
    // Awaited tasks ran to the end and gave their own output, or panicked.
    for (id, out) in outs {
        match out {
            Ok(out) => {
                assert_eq!(out.value, id as u64, "seed {seed}");
                assert_eq!(counters[id].completions(), 1, "seed {seed}: task {id}");
            }
            Err(e) => {
                assert!(e.is_panic(), "seed {seed}: task {id}: {e}");
                returned[id].fetch_add(1, SeqCst);
            }
        }
    }
    // A cancel gives the output only when the body ran to its end; any
    // other answer is the task's panic or "cancelled".
    for (id, result) in std::mem::take(&mut *results.lock().unwrap()) {
        match result {
            Some(Ok(out)) => {
                assert_eq!(out.value, id as u64, "seed {seed}");
                assert_eq!(counters[id].completions(), 1, "seed {seed}: task {id}");
                outcomes.finished_first += 1;
            }
            Some(Err(e)) if e.is_panic() => {
                returned[id].fetch_add(1, SeqCst);
            }
            Some(Err(e)) => {
                assert!(e.is_cancelled(), "seed {seed}: task {id}: {e}");
                if counters[id].completions() == 1 {
                    outcomes.completed_while_cancelled += 1;
                } else {
                    outcomes.cancelled += 1;
                }
            }
            None => {}
        }
    }

    // After shutdown every future was dropped exactly once, and so was the
    // output of every body that completed (by us, or with the task); every
    // panic reached exactly one place.
    drop(ex);
    for (id, c) in counters.iter().enumerate() {
        let (polls, drops, completions, output_drops) = c.snapshot();
        assert_eq!(drops, 1, "seed {seed}: task {id}: future drops");
        assert!(completions <= 1, "seed {seed}: task {id}: body ran twice");
        assert!(polls >= completions, "seed {seed}: task {id}");
        assert_eq!(
            output_drops, completions,
            "seed {seed}: task {id}: output drops vs completions"
        );
        let (p, ret, rep) = (
            panicked[id].load(SeqCst),
            returned[id].load(SeqCst),
            reported[id].load(SeqCst),
        );
        assert_eq!(
            ret + rep,
            p,
            "seed {seed}: task {id}: panicked {p}, returned {ret}, reported {rep}"
        );
        outcomes.panics_returned += u64::from(ret);
        outcomes.panics_reported += u64::from(rep);
    }
    outcomes
}

fn cancellation_rounds_for(budget: Duration, panics: bool) {
    common::quiet_expected_panics();
    let start = Instant::now();
    let base = seed();
    let mut rounds = 0u64;
    let mut total = Outcomes::default();
    while rounds == 0 || start.elapsed() < budget {
        total.add(cancellation_round(base.wrapping_add(rounds), 500, panics));
        rounds += 1;
    }
    assert!(rounds >= 1);
    if panics {
        assert!(total.panics_returned + total.panics_reported > 0);
    }
    eprintln!(
        "random cancellation (panics: {panics}): {rounds} rounds in {:?}, {total:?}",
        start.elapsed()
    );
}

#[test]
fn random_cancellation_drops_every_future_exactly_once() {
    cancellation_rounds_for(Duration::from_secs(3), false);
}

#[test]
fn random_panics_and_cancellation_observe_every_panic_exactly_once() {
    cancellation_rounds_for(Duration::from_secs(3), true);
}

#[test]
#[ignore = "long stress variant; run with `cargo xtask test --stress`"]
fn random_cancellation_long() {
    cancellation_rounds_for(LONG, false);
}

#[test]
#[ignore = "long stress variant; run with `cargo xtask test --stress`"]
fn random_panics_and_cancellation_long() {
    cancellation_rounds_for(LONG, true);
}

// --- Spawning while shutting down -----------------------------------------------------

/// Four threads spawn through handles while the executor is dropped: every
/// task either finishes or is cancelled, every future is dropped exactly
/// once, and every handle resolves.
fn shutdown_round(seed: u64) {
    let _watchdog = Watchdog::new(format!("shutdown round with seed {seed}"), LIMIT);
    let mut rng = Rng::new(seed);
    let ex = two_workers();
    let stop = Arc::new(AtomicBool::new(false));
    let spawners: Vec<_> = (0..4)
        .map(|_| {
            let (handle, stop) = (ex.handle(), stop.clone());
            thread::spawn(move || {
                let mut spawned = Vec::new();
                let mut after_stop = 0;
                // Keep spawning for a while after the drop has started.
                while after_stop < 50 {
                    if stop.load(SeqCst) {
                        after_stop += 1;
                    }
                    let c = Counters::new();
                    let yields = spawned.len() % 4;
                    let task = handle.spawn(probe(&c, async move {
                        for _ in 0..yields {
                            yield_now().await;
                        }
                    }));
                    spawned.push((c, task));
                }
                spawned
            })
        })
        .collect();
    thread::sleep(Duration::from_micros(rng.below(5_000)));
    stop.store(true, SeqCst);
    drop(ex);
    for s in spawners {
        let spawned = s.join().unwrap();
        let (counters, tasks): (Vec<_>, Vec<_>) = spawned.into_iter().unzip();
        let results = corio_executor::block_on(timeout(LIMIT, async {
            let mut results = Vec::new();
            for t in tasks {
                results.push(t.await);
            }
            results
        }))
        .unwrap_or_else(|| panic!("seed {seed}: a handle never resolved"));
        for (c, r) in counters.iter().zip(results) {
            let (_, drops, completions, _) = c.snapshot();
            assert_eq!(drops, 1, "seed {seed}");
            match r {
                Ok(()) => assert_eq!(completions, 1, "seed {seed}"),
                Err(e) => assert!(e.is_cancelled(), "seed {seed}: {e}"),
            }
        }
    }
}

#[test]
fn spawning_while_the_executor_shuts_down() {
    let start = Instant::now();
    let base = seed();
    let mut rounds = 0u64;
    while rounds == 0 || start.elapsed() < Duration::from_secs(2) {
        shutdown_round(base.wrapping_add(rounds));
        rounds += 1;
    }
    assert!(rounds >= 1);
}

#[test]
#[ignore = "long stress variant; run with `cargo xtask test --stress`"]
fn spawning_while_the_executor_shuts_down_long() {
    let start = Instant::now();
    let base = seed();
    let mut rounds = 0u64;
    while start.elapsed() < LONG {
        shutdown_round(base.wrapping_add(rounds));
        rounds += 1;
    }
    assert!(rounds >= 1);
}
