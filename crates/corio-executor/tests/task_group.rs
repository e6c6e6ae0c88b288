//! `TaskGroup` and the `task_group` scope: the first failure cancels the
//! siblings (and the scope's body), the error lists only real failures,
//! `cancel` and drop cancel every child, leaving waits for all, late children
//! are refused, and a bounded stress run with random failures checks that
//! every child is completed or cancelled exactly once.
//!
//! Children are instrumented ([`probe`]) so that the tests assert exact poll,
//! completion and drop counts. Joining a group waits until every child's
//! future has been dropped, so counts checked right after a join are exact
//! without waiting.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{probe, quiet_expected_panics, spin_until, Counters, Gate, Watchdog, EXPECTED};
use corio_executor::{
    task_group, ChildError, ChildPanic, Executor, Failure, GroupTask, Join, LocalExecutor,
    TaskGroup, TaskGroupError, TaskGroupHandle,
};
use futures_lite::future::poll_once;

const LIMIT: Duration = Duration::from_secs(10);

fn four_workers() -> Executor {
    Executor::builder().worker_threads(4).build().unwrap()
}

fn counters(n: usize) -> Vec<Arc<Counters>> {
    (0..n).map(|_| Counters::new()).collect()
}

/// A child that never finishes on its own.
fn stuck<E: Send + 'static>(
    c: &Arc<Counters>,
) -> impl std::future::Future<Output = Result<u32, E>> + Send + 'static {
    probe(c, async {
        std::future::pending::<()>().await;
        Ok(0)
    })
}

#[test]
fn first_failure_cancels_the_siblings_and_the_body() {
    let _dog = Watchdog::new("first failure".into(), LIMIT);
    let ex = four_workers();
    let siblings = counters(3);
    let failing = Counters::new();
    let body = Counters::new();
    let gate = Gate::new();
    let result: Result<(), TaskGroupError<String>> = ex.block_on(async {
        let (siblings, failing, gate) = (&siblings, failing.clone(), gate.clone());
        task_group(|tg| {
            probe(&body, async move {
                for c in siblings {
                    tg.spawn(stuck(c)).detach();
                }
                let g = gate.clone();
                tg.spawn(probe(&failing, async move {
                    g.wait().await;
                    Err::<u32, _>("child failed".to_string())
                }))
                .detach();
                assert!(spin_until(LIMIT, || siblings
                    .iter()
                    .all(|c| c.polls() >= 1)));
                gate.open();
                // The failure cancels the body here.
                std::future::pending::<()>().await;
                Ok(())
            })
        })
        .await
    });
    let err = result.unwrap_err();
    assert_eq!(err.failures().len(), 1);
    assert_eq!(err.failures()[0].error().unwrap(), "child failed");
    assert_eq!(err.to_string(), "1 failure in task group: child failed");
    // Leaving the scope waited for every child: the counts are final.
    for c in &siblings {
        assert_eq!((c.completions(), c.drops()), (0, 1));
    }
    assert_eq!((failing.completions(), failing.drops()), (1, 1));
    assert_eq!(
        (body.completions(), body.drops()),
        (0, 1),
        "the body was not cancelled"
    );
}

#[test]
fn a_panicking_child_is_a_failure_with_its_message() {
    quiet_expected_panics();
    let ex = four_workers();
    let sibling = Counters::new();
    let err = ex
        .block_on(async {
            let group = TaskGroup::<()>::new();
            let s = group.spawn(stuck(&sibling));
            let bad = group.spawn(async {
                corio_executor::yield_now().await;
                if true {
                    panic!("{EXPECTED}: child");
                }
                Ok(1u32)
            });
            let joined = group.join().await;
            assert!(bad.await.unwrap_err().is_failed());
            assert!(s.await.unwrap_err().is_cancelled());
            joined
        })
        .unwrap_err();
    let failures = err.into_failures();
    assert_eq!(failures.len(), 1);
    match failures.into_iter().next().unwrap() {
        Failure::Panic(p) => {
            assert_eq!(p.message(), Some(format!("{EXPECTED}: child").as_str()));
            let payload = p.into_payload();
            assert!(payload.downcast_ref::<String>().is_some());
        }
        Failure::Error(()) => panic!("expected a panic"),
    }
    assert_eq!((sibling.completions(), sibling.drops()), (0, 1));
}

/// Two children fail while both are inside their poll at the same moment (a
/// spin barrier on two workers): both failures are listed, the cancelled
/// siblings are not.
#[test]
fn two_simultaneous_failures_are_both_listed_and_cancellations_are_not() {
    let _dog = Watchdog::new("two failures".into(), LIMIT);
    let ex = four_workers();
    let siblings = counters(3);
    let arrived = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new();
    let err = ex
        .block_on(async {
            let group = TaskGroup::<usize>::new();
            for c in &siblings {
                group.spawn(stuck(c)).detach();
            }
            for i in 0..2 {
                let (arrived, gate) = (arrived.clone(), gate.clone());
                group
                    .spawn(async move {
                        gate.wait().await;
                        // Both children get here before either returns.
                        arrived.fetch_add(1, SeqCst);
                        let start = Instant::now();
                        while arrived.load(SeqCst) < 2 && start.elapsed() < LIMIT {
                            std::hint::spin_loop();
                        }
                        Err::<(), _>(i)
                    })
                    .detach();
            }
            gate.open();
            group.join().await
        })
        .unwrap_err();
    assert_eq!(arrived.load(SeqCst), 2);
    let mut errors = err.into_errors();
    errors.sort();
    assert_eq!(errors, vec![0, 1]);
    for c in &siblings {
        assert_eq!((c.completions(), c.drops()), (0, 1));
    }
}

#[test]
fn the_body_error_is_a_failure_and_a_cancelled_body_adds_none() {
    let ex = LocalExecutor::new();
    let body = Counters::new();
    let err = ex
        .block_on(task_group(|tg| {
            probe(&body, async move {
                let gate = Gate::new();
                let g = gate.clone();
                // On one thread: the child opens the gate and fails in the
                // same poll, before the body can resume.
                tg.spawn(async move {
                    g.open();
                    Err::<(), _>("child")
                })
                .detach();
                gate.wait().await;
                Err::<(), _>("body")
            })
        }))
        .unwrap_err();
    // The child failed first, which cancelled the body before it returned.
    assert_eq!(err.into_errors(), vec!["child"]);
    assert_eq!((body.completions(), body.drops()), (0, 1));

    let err = ex
        .block_on(task_group(|tg| async move {
            let gate = Gate::new();
            let g = gate.clone();
            tg.spawn(async move {
                g.wait().await;
                Err::<(), _>("child")
            })
            .detach();
            // The body fails first; the child is cancelled, not failed.
            let _keep = gate;
            Err::<(), _>("body")
        }))
        .unwrap_err();
    assert_eq!(err.into_errors(), vec!["body"]);
}

#[test]
fn cancel_cancels_every_child_and_is_not_a_failure() {
    let _dog = Watchdog::new("cancel".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(4);
    ex.block_on(async {
        let group = TaskGroup::<()>::new();
        let handles: Vec<GroupTask<u32>> = cs.iter().map(|c| group.spawn(stuck(c))).collect();
        assert!(spin_until(LIMIT, || cs.iter().all(|c| c.polls() >= 1)));
        assert_eq!(group.len(), 4);
        group.cancel();
        assert!(group.handle().is_cancelled());
        assert!(group.join().await.is_ok());
        for h in handles {
            let err: ChildError = h.await.unwrap_err();
            assert!(err.is_cancelled());
        }
    });
    for c in &cs {
        assert_eq!((c.completions(), c.drops()), (0, 1));
    }
}

#[test]
fn cancel_from_the_body_leaves_the_body_running() {
    let ex = four_workers();
    let cs = counters(2);
    let out = ex.block_on(task_group(|tg: TaskGroupHandle<()>| {
        let cs = cs.clone();
        async move {
            let a = tg.spawn(stuck(&cs[0]));
            let b = tg.spawn(stuck(&cs[1]));
            tg.cancel();
            let a = a.await.unwrap_err().is_cancelled();
            let b = b.await.unwrap_err().is_cancelled();
            Ok(a && b)
        }
    }));
    assert!(out.unwrap());
    for c in &cs {
        assert_eq!(c.drops(), 1);
    }
}

#[test]
fn dropping_the_group_cancels_the_children() {
    let _dog = Watchdog::new("drop".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(5);
    ex.block_on(async {
        let group = TaskGroup::<()>::new();
        let handle = group.handle();
        for c in &cs {
            group.spawn(stuck(c)).detach();
        }
        assert!(spin_until(LIMIT, || cs.iter().all(|c| c.polls() >= 1)));
        drop(group);
        assert!(spin_until(LIMIT, || cs.iter().all(|c| c.drops() == 1)));
        assert!(spin_until(LIMIT, || handle.is_empty()));
    });
    for c in &cs {
        assert_eq!((c.completions(), c.drops()), (0, 1));
    }
}

#[test]
fn dropping_a_join_or_a_scope_midway_cancels_the_children() {
    let _dog = Watchdog::new("drop join".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(4);
    ex.block_on(async {
        let group = TaskGroup::<()>::new();
        group.spawn(stuck(&cs[0])).detach();
        group.spawn(stuck(&cs[1])).detach();
        let mut join: Join<()> = group.join();
        assert!(poll_once(&mut join).await.is_none());
        drop(join);

        let cs2 = cs.clone();
        let mut scope = Box::pin(task_group(move |tg: TaskGroupHandle<()>| async move {
            tg.spawn(stuck(&cs2[2])).detach();
            tg.spawn(stuck(&cs2[3])).detach();
            std::future::pending::<()>().await;
            Ok(())
        }));
        assert!(poll_once(&mut scope).await.is_none());
        assert!(spin_until(LIMIT, || cs[2].polls() >= 1 && cs[3].polls() >= 1));
        drop(scope);
    });
    assert!(spin_until(LIMIT, || cs.iter().all(|c| c.drops() == 1)));
    for c in &cs {
        assert_eq!(c.completions(), 0);
    }
}

#[test]
fn leaving_waits_for_every_child() {
    let _dog = Watchdog::new("leaving waits".into(), LIMIT);
    let ex = four_workers();
    let cs = counters(6);
    let gate = common::timer(Duration::from_millis(30));
    // The scoped form: the body returns at once, the scope still waits.
    let value = ex
        .block_on(task_group(|tg: TaskGroupHandle<()>| {
            let (cs, gate) = (cs.clone(), gate.clone());
            async move {
                for (i, c) in cs.iter().enumerate().take(3) {
                    let gate = gate.clone();
                    tg.spawn(probe(c, async move {
                        gate.wait().await;
                        Ok(i)
                    }))
                    .detach();
                }
                Ok("body done")
            }
        }))
        .unwrap();
    assert_eq!(value, "body done");
    for c in &cs[..3] {
        assert_eq!((c.completions(), c.drops()), (1, 1));
    }
    // The plain form, with children spawning grandchildren while the join waits.
    ex.block_on(async {
        let group = TaskGroup::<()>::new();
        let handle = group.handle();
        let cs2 = cs.clone();
        group
            .spawn(probe(&cs[3], async move {
                corio_executor::yield_now().await;
                for c in &cs2[4..] {
                    handle
                        .spawn(probe(c, async {
                            for _ in 0..5 {
                                corio_executor::yield_now().await;
                            }
                            Ok(())
                        }))
                        .detach();
                }
                Ok(())
            }))
            .detach();
        group.join().await.unwrap();
    });
    for c in &cs[3..] {
        assert_eq!((c.completions(), c.drops()), (1, 1));
    }
}

#[test]
fn children_spawned_after_the_group_ended_are_refused() {
    let ex = four_workers();
    let cs = counters(3);
    ex.block_on(async {
        // After a join.
        let group = TaskGroup::<()>::new();
        let handle = group.handle();
        group.join().await.unwrap();
        // A normal end is not a cancellation.
        assert!(!handle.is_cancelled());
        let late = handle.spawn(probe(&cs[0], async { Ok(1) }));
        assert!(late.is_finished());
        assert!(late.await.unwrap_err().is_cancelled());

        // After a failure.
        let group = TaskGroup::<()>::new();
        let handle = group.handle();
        group.spawn(async { Err::<(), _>(()) }).detach();
        assert!(spin_until(LIMIT, || handle.is_cancelled()));
        assert!(handle
            .spawn(probe(&cs[1], async { Ok(1) }))
            .await
            .unwrap_err()
            .is_cancelled());
        assert_eq!(group.join().await.unwrap_err().failures().len(), 1);

        // After the group was dropped.
        let group = TaskGroup::<()>::new();
        let handle = group.handle();
        drop(group);
        assert!(handle
            .spawn(probe(&cs[2], async { Ok(1) }))
            .await
            .unwrap_err()
            .is_cancelled());
    });
    for c in &cs {
        // Dropped at once, never polled.
        assert_eq!((c.polls(), c.drops()), (0, 1));
    }
}

#[test]
fn child_handles_give_values_and_cancel_one_child() {
    let ex = four_workers();
    let cs = counters(2);
    ex.block_on(async {
        let group = TaskGroup::<()>::new();
        let value = group.spawn(async { Ok("value") });
        let doomed = group.spawn(stuck(&cs[0]));
        let other = group.spawn(stuck(&cs[1]));
        assert_eq!(value.await.unwrap(), "value");
        assert!(doomed.cancel().await.unwrap_err().is_cancelled());
        assert_eq!(cs[0].drops(), 1);
        // Cancelling one child is not a failure and leaves the others alone.
        assert!(!group.handle().is_cancelled());
        assert!(!other.is_finished());
        group.cancel();
        group.join().await.unwrap();
    });
}

#[test]
fn a_scope_on_a_local_executor() {
    let ex = LocalExecutor::new();
    let sum = ex.block_on(task_group(|tg| async move {
        let handles: Vec<_> = (1..=4)
            .map(|i| {
                tg.spawn(async move {
                    corio_executor::yield_now().await;
                    Ok::<_, ()>(i)
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        Ok(sum)
    }));
    assert_eq!(sum.unwrap(), 10);
}

/// Many groups at once, children that yield a random number of times and fail
/// (by `Err` or panic) at random: each child's future is dropped exactly once,
/// each either completed or was cancelled, and each group's error lists exactly
/// the children that failed.
fn stress(groups: usize, limit: Duration) {
    quiet_expected_panics();
    let _dog = Watchdog::new("task group stress".into(), limit);
    let ex = four_workers();
    let seed = Arc::new(Mutex::new(0x2545_f491_4f6c_dd1d_u64));
    let all = Arc::new(Mutex::new(Vec::new()));
    let (all2, seed2) = (all.clone(), seed.clone());
    ex.block_on(async move {
        let mut scopes = Vec::new();
        for g in 0..groups {
            let mut rng = XorShift(seed2.lock().unwrap().wrapping_add(g as u64 * 7919) | 1);
            let n = 1 + rng.below(12);
            let cs = counters(n);
            all2.lock().unwrap().extend(cs.iter().cloned());
            let failed = Arc::new(AtomicUsize::new(0));
            let plan: Vec<(usize, usize)> = (0..n).map(|_| (rng.below(6), rng.below(40))).collect();
            let f2 = failed.clone();
            scopes.push(corio_executor::spawn(async move {
                let out = task_group(move |tg: TaskGroupHandle<usize>| async move {
                    for (i, (yields, fate)) in plan.into_iter().enumerate() {
                        let failed = f2.clone();
                        tg.spawn(probe(&cs[i], async move {
                            for _ in 0..yields {
                                corio_executor::yield_now().await;
                            }
                            match fate {
                                0 => {
                                    failed.fetch_add(1, SeqCst);
                                    Err(i)
                                }
                                1 => {
                                    failed.fetch_add(1, SeqCst);
                                    panic!("{EXPECTED}: {i}");
                                }
                                _ => Ok(i),
                            }
                        }))
                        .detach();
                    }
                    corio_executor::yield_now().await;
                    Ok(())
                })
                .await;
                (out, failed.load(SeqCst))
            }));
        }
        for s in scopes {
            let (out, failed) = s.await.unwrap();
            match out {
                Ok(()) => assert_eq!(failed, 0),
                Err(e) => assert_eq!(e.failures().len(), failed),
            }
        }
    });
    let all = all.lock().unwrap();
    let (mut completed, mut cancelled) = (0, 0);
    for c in all.iter() {
        assert_eq!(c.drops(), 1, "a child was not dropped exactly once");
        match c.completions() {
            0 => cancelled += 1,
            1 => completed += 1,
            n => panic!("a child completed {n} times"),
        }
    }
    assert_eq!(completed + cancelled, all.len());
    assert!(completed > 0);
}

#[test]
fn stress_many_groups_with_random_failures() {
    stress(2_000, Duration::from_secs(20));
}

#[test]
#[ignore = "long: cargo xtask test --stress"]
fn stress_many_groups_with_random_failures_long() {
    stress(20_000, Duration::from_secs(300));
}

// --- auto traits ----------------------------------------------------------------------

macro_rules! assert_impl {
    ($ty:ty: $($tr:path),+ $(,)?) => {
        const _: fn() = || {
            fn check<T: ?Sized $(+ $tr)+>() {}
            check::<$ty>();
        };
    };
}

assert_impl!(TaskGroup<String>: Send, Sync, Unpin);
assert_impl!(TaskGroupHandle<String>: Send, Sync, Unpin, Clone);
assert_impl!(Join<String>: Send, Sync, Unpin);
assert_impl!(GroupTask<u32>: Send, Sync, Unpin);
assert_impl!(ChildError: Send, Sync, Unpin, std::error::Error);
assert_impl!(ChildPanic: Send, Sync, Unpin);
assert_impl!(Failure<String>: Send, Sync, Unpin);
assert_impl!(TaskGroupError<String>: Send, Sync, Unpin, std::error::Error);

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
