//! The combinators that spawn, join and select: `gather` and its variants,
//! `wait`/`wait_until`, `as_completed`, `race` and `shield`.
//!
//! Children are instrumented futures ([`probe`]) whose polls, completions and
//! drops are counted, so every test checks exact numbers: a cancelled child is
//! dropped exactly once and never completes; a finished one completes once.
//! Most tests run on a 4-worker [`Executor`], where children really run in
//! parallel; a few run on a [`LocalExecutor`] or with no executor at all.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    probe, quiet_expected_panics, spin_until, timeout, Counters, Gate, Watchdog, EXPECTED,
};
use corio_executor::{
    as_completed, as_completed_tasks, gather, gather_settled, race, shield, try_gather, wait,
    wait_until, AsCompleted, Done, Executor, Gather, GatherError, GatherSettled, LocalExecutor,
    Race, ReturnWhen, Shield, Task, TryGather, Wait,
};
use futures_lite::future::{block_on as lite_block_on, poll_once};
use futures_lite::StreamExt;

const LIMIT: Duration = Duration::from_secs(10);

fn four_workers() -> Executor {
    Executor::builder().worker_threads(4).build().unwrap()
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// `n` counters, one per child.
fn counters(n: usize) -> Vec<Arc<Counters>> {
    (0..n).map(|_| Counters::new()).collect()
}

/// A child that never finishes on its own.
fn stuck(c: &Arc<Counters>) -> BoxFut<u32> {
    Box::pin(probe(c, std::future::pending::<u32>()))
}

/// Waits (yielding) until every counter shows `drops` drops; fails otherwise.
async fn settle_drops(cs: &[Arc<Counters>], drops: usize) {
    let ok = timeout(LIMIT, async {
        while cs.iter().any(|c| c.drops() < drops) {
            corio_executor::yield_now().await;
        }
    })
    .await;
    assert!(ok.is_some(), "children were not dropped in time");
}

// --- gather -----------------------------------------------------------------------------

#[test]
fn gather_keeps_argument_order_when_children_finish_in_reverse() {
    let _dog = Watchdog::new("gather order".into(), LIMIT);
    const N: usize = 8;
    let ex = four_workers();
    let gates: Vec<Arc<Gate>> = (0..N).map(|_| Gate::new()).collect();
    let finished = Arc::new(Mutex::new(Vec::new()));
    let cs = counters(N);
    let out = ex.block_on(async {
        let g = gather((0..N).map(|i| {
            let (gates, finished) = (gates.clone(), finished.clone());
            probe(&cs[i], async move {
                gates[i].wait().await;
                finished.lock().unwrap().push(i);
                // Each child releases the one before it: they finish N-1, ..., 0.
                if i > 0 {
                    gates[i - 1].open();
                }
                i * 10
            })
        }));
        gates[N - 1].open();
        g.await
    });
    assert_eq!(out.unwrap(), (0..N).map(|i| i * 10).collect::<Vec<_>>());
    assert_eq!(*finished.lock().unwrap(), (0..N).rev().collect::<Vec<_>>());
    for c in &cs {
        assert_eq!((c.completions(), c.drops()), (1, 1));
    }
}

#[test]
fn gather_of_nothing_is_empty() {
    let ex = four_workers();
    let out = ex.block_on(async { gather(Vec::<BoxFut<u8>>::new()).await });
    assert!(out.unwrap().is_empty());
}

#[test]
fn gather_panic_fails_and_cancels_the_siblings() {
    quiet_expected_panics();
    let _dog = Watchdog::new("gather panic".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(5);
    let gate = Gate::new();
    ex.block_on(async {
        let mut children: Vec<BoxFut<u32>> = (0..4).map(|i| stuck(&cs[i])).collect();
        let g2 = gate.clone();
        children.insert(
            2,
            Box::pin(probe(&cs[4], async move {
                g2.wait().await;
                panic!("{EXPECTED}: child 2");
            })),
        );
        let g = gather(children);
        // Let every child start before the failure.
        assert!(spin_until(LIMIT, || cs.iter().all(|c| c.polls() >= 1)));
        gate.open();
        let err = g.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message().unwrap(), format!("{EXPECTED}: child 2"));
        settle_drops(&cs, 1).await;
    });
    for c in &cs[..4] {
        assert_eq!(
            (c.completions(), c.drops()),
            (0, 1),
            "a sibling was not cancelled"
        );
    }
    // The panicking child's future is dropped exactly once too.
    assert_eq!((cs[4].completions(), cs[4].drops()), (0, 1));
}

#[test]
fn dropping_a_pending_gather_cancels_every_child() {
    let _dog = Watchdog::new("gather drop".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(6);
    ex.block_on(async {
        // Two children finish, four never do.
        let mut children: Vec<BoxFut<u32>> = (0..4).map(|i| stuck(&cs[i])).collect();
        children.push(Box::pin(probe(&cs[4], async { 4 })));
        children.push(Box::pin(probe(&cs[5], async { 5 })));
        let mut g = gather(children);
        assert!(spin_until(LIMIT, || cs.iter().all(|c| c.polls() >= 1)));
        assert!(poll_once(&mut g).await.is_none());
        drop(g);
        settle_drops(&cs, 1).await;
        // Nothing else happens afterwards: no second drop, no late completion.
        for _ in 0..50 {
            corio_executor::yield_now().await;
        }
    });
    for c in &cs[..4] {
        assert_eq!((c.completions(), c.drops()), (0, 1));
    }
    for c in &cs[4..] {
        assert_eq!((c.completions(), c.drops()), (1, 1));
    }
}

#[test]
fn gather_settled_keeps_each_error_in_place() {
    quiet_expected_panics();
    let ex = four_workers();
    let outcomes = ex.block_on(async {
        gather_settled((0..6u32).map(|i| async move {
            // Finish in a scrambled order.
            for _ in 0..(7 - i) % 4 {
                corio_executor::yield_now().await;
            }
            if i % 3 == 1 {
                panic!("{EXPECTED}: {i}");
            }
            i
        }))
        .await
    });
    assert_eq!(outcomes.len(), 6);
    for (i, outcome) in outcomes.into_iter().enumerate() {
        if i % 3 == 1 {
            let err = outcome.unwrap_err();
            assert_eq!(err.panic_message().unwrap(), format!("{EXPECTED}: {i}"));
        } else {
            assert_eq!(outcome.unwrap(), i as u32);
        }
    }
}

#[test]
fn try_gather_first_err_wins_and_cancels_the_siblings() {
    let _dog = Watchdog::new("try_gather".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(4);
    let gate = Gate::new();
    ex.block_on(async {
        let children: Vec<BoxFut<Result<u32, String>>> = (0..4)
            .map(|i| {
                let gate = gate.clone();
                let fut: BoxFut<Result<u32, String>> = if i == 3 {
                    Box::pin(probe(&cs[i], async move {
                        gate.wait().await;
                        Err("child 3 failed".to_string())
                    }))
                } else {
                    Box::pin(probe(&cs[i], async move {
                        std::future::pending::<()>().await;
                        Ok(0)
                    }))
                };
                fut
            })
            .collect();
        let g = try_gather(children);
        assert!(spin_until(LIMIT, || cs.iter().all(|c| c.polls() >= 1)));
        gate.open();
        match g.await {
            Err(GatherError::Failed { index, error }) => {
                assert_eq!(index, 3);
                assert_eq!(error, "child 3 failed");
            }
            other => panic!("unexpected {other:?}"),
        }
        settle_drops(&cs, 1).await;
    });
    for c in &cs[..3] {
        assert_eq!((c.completions(), c.drops()), (0, 1));
    }
    assert_eq!((cs[3].completions(), cs[3].drops()), (1, 1));
}

#[test]
fn try_gather_reports_a_panic_with_its_index() {
    quiet_expected_panics();
    let ex = four_workers();
    let err = ex
        .block_on(async {
            try_gather((0..3).map(|i| async move {
                if i == 1 {
                    panic!("{EXPECTED}");
                }
                Ok::<_, ()>(i)
            }))
            .await
        })
        .unwrap_err();
    assert_eq!(err.index(), 1);
    assert!(matches!(err, GatherError::Join { ref error, .. } if error.is_panic()));
    assert!(err.into_error().is_none());
}

#[test]
fn gather_macro_mixes_types_and_keeps_every_outcome() {
    quiet_expected_panics();
    let ex = four_workers();
    let (a, b, c) = ex.block_on(async {
        corio_executor::gather!(
            async { 1u8 },
            async {
                corio_executor::yield_now().await;
                "two".to_string()
            },
            async {
                if true {
                    panic!("{EXPECTED}");
                }
                3.0f64
            },
        )
        .await
    });
    assert_eq!(a.unwrap(), 1);
    assert_eq!(b.unwrap(), "two");
    assert!(c.unwrap_err().is_panic());
}

#[test]
fn gather_runs_on_a_local_executor() {
    let ex = LocalExecutor::new();
    let out = ex.block_on(async { gather((0..5).map(|i| async move { i + 1 })).await });
    assert_eq!(out.unwrap(), vec![1, 2, 3, 4, 5]);
}

/// Drops gathers at random points while their children run, many times; every
/// child is dropped exactly once, finished or not.
#[test]
fn gather_random_cancellation_loses_nothing() {
    let _dog = Watchdog::new("gather random cancel".into(), Duration::from_secs(30));
    let ex = four_workers();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let all = Arc::new(Mutex::new(Vec::new()));
    ex.block_on(async {
        for _ in 0..200 {
            let n = 1 + rng.below(6);
            let cs = counters(n);
            let yields: Vec<usize> = (0..n).map(|_| rng.below(4)).collect();
            let polls_before_drop = rng.below(5);
            let mut g = gather((0..n).map(|i| {
                let k = yields[i];
                probe(&cs[i], async move {
                    for _ in 0..k {
                        corio_executor::yield_now().await;
                    }
                    i
                })
            }));
            let mut done = false;
            for _ in 0..polls_before_drop {
                if let Some(out) = poll_once(&mut g).await {
                    assert_eq!(out.unwrap(), (0..n).collect::<Vec<_>>());
                    done = true;
                    break;
                }
                corio_executor::yield_now().await;
            }
            if !done {
                drop(g);
            }
            all.lock().unwrap().extend(cs);
        }
        let cs = all.lock().unwrap().clone();
        settle_drops(&cs, 1).await;
    });
    for c in all.lock().unwrap().iter() {
        assert_eq!(c.drops(), 1);
        assert!(c.completions() <= 1);
    }
}

// --- wait ------------------------------------------------------------------------------

/// A spawned task that waits for `gate`, then gives `value`.
fn gated_task(c: &Arc<Counters>, gate: &Arc<Gate>, value: u32) -> Task<u32> {
    let gate = gate.clone();
    corio_executor::spawn(probe(c, async move {
        gate.wait().await;
        value
    }))
}

#[test]
fn wait_first_completed_returns_the_winner_and_the_losers_keep_running() {
    let _dog = Watchdog::new("wait first completed".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(4);
    let gates: Vec<Arc<Gate>> = (0..4).map(|_| Gate::new()).collect();
    ex.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|i| gated_task(&cs[i], &gates[i], i as u32))
            .collect();
        gates[2].open();
        let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted).await;
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].index(), 2);
        assert_eq!(done.into_iter().next().unwrap().await.unwrap(), 2);
        assert_eq!(pending.len(), 3);
        assert!(pending.iter().all(|t| !t.is_finished()));
        // The losers were not cancelled: release them and collect their outputs.
        for g in &gates {
            g.open();
        }
        let mut rest = Vec::new();
        for t in pending {
            rest.push(t.await.unwrap());
        }
        assert_eq!(rest, vec![0, 1, 3]);
    });
    for c in &cs {
        assert_eq!((c.completions(), c.drops()), (1, 1));
    }
}

#[test]
fn wait_first_exception_stops_at_a_panic_and_collects_what_finished() {
    quiet_expected_panics();
    let _dog = Watchdog::new("wait first exception".into(), LIMIT);
    let ex = four_workers();
    ex.block_on(async {
        let ok = corio_executor::spawn(async { 1u32 });
        assert!(spin_until(LIMIT, || ok.is_finished()));
        let gate = Gate::new();
        let g = gate.clone();
        let bad = corio_executor::spawn(async move {
            g.wait().await;
            panic!("{EXPECTED}: bad");
        });
        let slow = corio_executor::spawn(std::future::pending::<u32>());
        let mut w = wait([ok, bad, slow], ReturnWhen::FirstException);
        // The finished task alone does not end the wait.
        assert!(poll_once(&mut w).await.is_none());
        gate.open();
        let (done, pending) = w.await;
        let indices: Vec<_> = done.iter().map(Done::index).collect();
        assert_eq!(indices, vec![0, 1]);
        let mut done = done.into_iter();
        assert_eq!(done.next().unwrap().into_result().unwrap(), 1);
        assert!(done.next().unwrap().into_result().unwrap_err().is_panic());
        assert_eq!(pending.len(), 1);
        assert!(!pending[0].is_finished());
        assert!(pending
            .into_iter()
            .next()
            .unwrap()
            .cancel()
            .await
            .unwrap_err()
            .is_cancelled());
    });
}

#[test]
fn wait_first_exception_does_not_count_an_err_value() {
    let _dog = Watchdog::new("wait err value".into(), LIMIT);
    let ex = four_workers();
    ex.block_on(async {
        let err_value = corio_executor::spawn(async { Err::<u32, &str>("not an exception") });
        let slow = corio_executor::spawn(std::future::pending::<Result<u32, &str>>());
        assert!(spin_until(LIMIT, || err_value.is_finished()));
        let deadline = Gate::new();
        let mut w = wait_until(
            [err_value, slow],
            ReturnWhen::FirstException,
            deadline.wait(),
        );
        for _ in 0..10 {
            assert!(poll_once(&mut w).await.is_none());
            corio_executor::yield_now().await;
        }
        deadline.open();
        let (done, pending) = w.await;
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].index(), 0);
        assert!(done[0].result().as_ref().unwrap().is_err());
        assert_eq!(pending.len(), 1);
    });
}

#[test]
fn wait_all_completed_gives_every_task_in_input_order() {
    let ex = four_workers();
    let (done, pending) = ex.block_on(async {
        let tasks: Vec<_> = (0..10u32)
            .map(|i| {
                corio_executor::spawn(async move {
                    for _ in 0..(10 - i) {
                        corio_executor::yield_now().await;
                    }
                    i
                })
            })
            .collect();
        wait(tasks, ReturnWhen::AllCompleted).await
    });
    assert!(pending.is_empty());
    let values: Vec<_> = done
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            assert_eq!(d.index(), i);
            d.into_result().unwrap()
        })
        .collect();
    assert_eq!(values, (0..10).collect::<Vec<_>>());
}

#[test]
fn wait_until_returns_at_the_deadline_and_leaves_the_tasks_running() {
    let _dog = Watchdog::new("wait_until".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(3);
    let gates: Vec<Arc<Gate>> = (0..3).map(|_| Gate::new()).collect();
    ex.block_on(async {
        let tasks: Vec<_> = (0..3)
            .map(|i| gated_task(&cs[i], &gates[i], i as u32))
            .collect();
        let deadline = common::timer(Duration::from_millis(30));
        let (done, pending) = wait_until(tasks, ReturnWhen::AllCompleted, deadline.wait()).await;
        assert!(done.is_empty());
        assert_eq!(pending.len(), 3);
        // Still running: they finish once released.
        gates.iter().for_each(|g| g.open());
        for (i, t) in pending.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), i as u32);
        }
    });
    for c in &cs {
        assert_eq!((c.completions(), c.drops()), (1, 1));
    }
}

#[test]
fn wait_of_nothing_returns_at_once() {
    let (done, pending) = lite_block_on(wait(Vec::<Task<()>>::new(), ReturnWhen::AllCompleted));
    assert!(done.is_empty() && pending.is_empty());
}

#[test]
fn wait_on_a_local_executor() {
    let ex = LocalExecutor::new();
    ex.block_on(async {
        let a = corio_executor::spawn(std::future::pending::<u8>());
        let b = corio_executor::spawn(async {
            corio_executor::yield_now().await;
            7u8
        });
        let (done, pending) = wait([a, b], ReturnWhen::FirstCompleted).await;
        assert_eq!(done[0].index(), 1);
        assert_eq!(pending.len(), 1);
    });
}

// --- as_completed -------------------------------------------------------------------------

#[test]
fn as_completed_yields_in_completion_order() {
    let _dog = Watchdog::new("as_completed".into(), LIMIT);
    const N: usize = 6;
    let ex = four_workers();
    let gates: Vec<Arc<Gate>> = (0..N).map(|_| Gate::new()).collect();
    let order = ex.block_on(async {
        let mut stream = as_completed((0..N).map(|i| {
            let gates = gates.clone();
            async move {
                gates[i].wait().await;
                i
            }
        }));
        assert_eq!(stream.remaining(), N);
        // Release them one by one in a scrambled order, reading each result
        // before releasing the next.
        let release = [3, 0, 5, 1, 4, 2];
        let mut order = Vec::new();
        for &i in &release {
            gates[i].open();
            order.push(stream.next().await.unwrap().unwrap());
        }
        assert!(stream.next().await.is_none());
        assert_eq!(stream.remaining(), 0);
        (order, release)
    });
    assert_eq!(order.0, order.1.to_vec());
}

#[test]
fn dropping_as_completed_cancels_the_tasks_not_yielded() {
    let _dog = Watchdog::new("as_completed drop".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(4);
    ex.block_on(async {
        let mut tasks: Vec<Task<u32>> = (0..3)
            .map(|i| corio_executor::spawn(stuck(&cs[i])))
            .collect();
        tasks.push(corio_executor::spawn(probe(&cs[3], async { 42 })));
        let mut stream: AsCompleted<u32> = as_completed_tasks(tasks);
        assert_eq!(stream.next().await.unwrap().unwrap(), 42);
        assert_eq!(stream.remaining(), 3);
        drop(stream);
        settle_drops(&cs, 1).await;
    });
    for c in &cs[..3] {
        assert_eq!((c.completions(), c.drops()), (0, 1));
    }
    assert_eq!((cs[3].completions(), cs[3].drops()), (1, 1));
}

// --- race ----------------------------------------------------------------------------

#[test]
fn race_returns_the_first_and_drops_the_losers_in_place() {
    let cs = counters(4);
    let gate = Gate::new();
    let out = lite_block_on(async {
        let racers: Vec<BoxFut<usize>> = (0..4)
            .map(|i| {
                let gate = gate.clone();
                let f: BoxFut<usize> = if i == 2 {
                    Box::pin(probe(&cs[i], async move {
                        gate.wait().await;
                        i
                    }))
                } else {
                    Box::pin(probe(&cs[i], std::future::pending()))
                };
                f
            })
            .collect();
        let mut r: Race<BoxFut<usize>> = race(racers);
        assert!(poll_once(&mut r).await.is_none());
        for c in &cs {
            assert_eq!(c.polls(), 1);
        }
        gate.open();
        let out = r.await;
        // Dropped before the output came back: nothing is left running.
        for c in &cs {
            assert_eq!(c.drops(), 1);
        }
        out
    });
    assert_eq!(out, 2);
    assert_eq!(cs[2].completions(), 1);
    // Only the woken racer was polled again.
    assert_eq!(
        cs.iter().map(|c| c.polls()).collect::<Vec<_>>(),
        vec![1, 1, 2, 1]
    );
}

#[test]
fn dropping_a_race_drops_every_racer() {
    let cs = counters(3);
    lite_block_on(async {
        let mut r = race((0..3).map(|i| probe(&cs[i], std::future::pending::<()>())));
        assert!(poll_once(&mut r).await.is_none());
        drop(r);
    });
    for c in &cs {
        assert_eq!((c.polls(), c.completions(), c.drops()), (1, 0, 1));
    }
}

#[test]
#[should_panic(expected = "race called with no futures")]
fn race_of_nothing_panics() {
    drop(race(Vec::<std::future::Ready<()>>::new()));
}

#[test]
fn race_of_tasks_on_four_workers() {
    let ex = four_workers();
    let winner = ex.block_on(async {
        let gate = Gate::new();
        let g = gate.clone();
        let racers: Vec<BoxFut<&str>> = vec![
            Box::pin(async {
                std::future::pending::<()>().await;
                "never"
            }),
            Box::pin(async move {
                g.wait().await;
                "gate"
            }),
        ];
        let opener = std::thread::spawn(move || gate.open());
        let w = race(racers).await;
        opener.join().unwrap();
        w
    });
    assert_eq!(winner, "gate");
}

// --- shield --------------------------------------------------------------------------

#[test]
fn shield_survives_the_drop_of_its_outer_future() {
    let _dog = Watchdog::new("shield".into(), LIMIT);
    let ex = four_workers();
    let c = Counters::new();
    let gate = Gate::new();
    ex.block_on(async {
        let g = gate.clone();
        let shielded: Shield<u32> = shield(probe(&c, async move {
            g.wait().await;
            5
        }));
        // The caller gives up (a timeout, say): `or` drops the shield.
        let given_up =
            futures_lite::future::or(async { shielded.await.ok() }, async { None }).await;
        assert!(given_up.is_none());
        assert!(spin_until(LIMIT, || c.polls() >= 1));
        assert_eq!(c.drops(), 0, "the shielded task was cancelled");
        gate.open();
        assert!(spin_until(LIMIT, || c.drops() == 1));
    });
    assert_eq!((c.completions(), c.drops()), (1, 1));
}

#[test]
fn shield_gives_the_output_and_the_task() {
    let ex = four_workers();
    let (v, name_is_none) = ex.block_on(async {
        let v = shield(async { 3 }).await.unwrap();
        let t = shield(async { 4 }).into_task();
        (v + t.await.unwrap(), true)
    });
    assert_eq!(v, 7);
    assert!(name_is_none);
}

// --- auto traits ----------------------------------------------------------------------

/// Asserts that a type implements each of the given traits.
macro_rules! assert_impl {
    ($ty:ty: $($tr:path),+ $(,)?) => {
        const _: fn() = || {
            fn check<T: ?Sized $(+ $tr)+>() {}
            check::<$ty>();
        };
    };
}

assert_impl!(Gather<u32>: Send, Sync, Unpin);
assert_impl!(GatherSettled<u32>: Send, Sync, Unpin);
assert_impl!(TryGather<u32, String>: Send, Sync, Unpin);
assert_impl!(GatherError<String>: Send, Sync, Unpin);
assert_impl!(Wait<u32>: Send, Sync, Unpin);
assert_impl!(Done<u32>: Send, Sync, Unpin);
assert_impl!(AsCompleted<u32>: Send, Sync, Unpin);
assert_impl!(Race<BoxFut<u32>>: Send, Unpin);
assert_impl!(Shield<u32>: Send, Sync, Unpin);
assert_impl!(ReturnWhen: Send, Sync, Unpin, Copy);
assert_impl!(Gather<std::cell::Cell<u32>>: Send, Unpin);
assert_impl!(Gather<std::marker::PhantomPinned>: Unpin);

/// A tiny xorshift PRNG (no dependencies).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
