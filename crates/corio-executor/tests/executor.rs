//! The executors as a whole: many tasks, nested spawns, fairness (an
//! always-ready task, a LIFO ping-pong), shutdown (every pending task's
//! future is dropped by the time the executor's `drop` returns, however its
//! waker is held), `yield_now`, the spawn entry points and where they panic,
//! `Executor::enter`, `Handle`, `LocalExecutor` with `!Send` futures and
//! wake-ups from other threads, the `Park` hook and the `coop` budget.

mod common;

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::panic::catch_unwind;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use common::{probe, spin_until, timeout, Counters, Gate};
use corio_executor::{
    coop, spawn, spawn_local, yield_now, Executor, LocalExecutor, Park, Task, TaskBuilder,
    ThreadPark,
};

const LIMIT: Duration = Duration::from_secs(10);

fn workers(n: usize) -> Executor {
    Executor::builder().worker_threads(n).build().unwrap()
}

fn thread_name() -> String {
    thread::current().name().unwrap_or("").to_string()
}

// --- Many tasks --------------------------------------------------------------

#[test]
fn a_million_tasks_return_the_right_sum() {
    const N: u64 = 1_000_000;
    let ex = workers(2);
    let sum = ex.block_on(async {
        // Half spawned from the `block_on` thread (through the injector),
        // half from a worker (through its local queue and LIFO slot).
        let from_worker = spawn(async {
            let tasks: Vec<_> = (N / 2..N).map(|i| spawn(async move { i })).collect();
            let mut sum = 0;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        });
        let tasks: Vec<_> = (0..N / 2).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum + from_worker.await.unwrap()
    });
    assert_eq!(sum, (N - 1) * N / 2);
}

fn tree(depth: u32, id: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return id;
        }
        let left = spawn(tree(depth - 1, 2 * id));
        let right = spawn(tree(depth - 1, 2 * id + 1));
        left.await.unwrap() + right.await.unwrap()
    })
}

#[test]
fn nested_spawns_from_workers_form_a_tree() {
    const DEPTH: u32 = 12;
    let ex = workers(2);
    let sum = ex.block_on(ex.spawn(tree(DEPTH, 1))).unwrap();
    // The leaves are numbered 2^DEPTH .. 2^(DEPTH+1).
    let expected: u64 = (1u64 << DEPTH..1u64 << (DEPTH + 1)).sum();
    assert_eq!(sum, expected);
}

#[test]
fn tasks_start_running_without_block_on() {
    let ex = workers(1);
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let task = ex.spawn(async move { r.store(true, SeqCst) });
    assert!(spin_until(LIMIT, || ran.load(SeqCst)));
    assert!(spin_until(LIMIT, || task.is_finished()));
}

#[test]
fn workers_are_named_after_the_builders_prefix() {
    let ex = Executor::builder()
        .worker_threads(2)
        .thread_name("pool")
        .build()
        .unwrap();
    assert_eq!(ex.worker_threads(), 2);
    let name = ex.block_on(ex.spawn(async { thread_name() })).unwrap();
    assert!(name == "pool-0" || name == "pool-1", "{name}");
}

// --- Fairness ------------------------------------------------------------------

/// Spawns `hog` on a one-worker executor, then checks that another task
/// still completes.
fn assert_not_starved<F>(hog: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let ex = workers(1);
    let c = Counters::new();
    let hog = ex.spawn(probe(&c, hog));
    assert!(spin_until(LIMIT, || c.polls() > 10), "the hog never ran");
    let other = ex.spawn(async { 42 });
    let out = ex.block_on(timeout(LIMIT, other));
    assert_eq!(out.expect("the other task starved").unwrap(), 42);
    assert!(ex.block_on(hog.cancel()).unwrap_err().is_cancelled());
    assert_eq!(c.drops(), 1);
}

#[test]
fn a_task_that_always_wakes_itself_does_not_starve_others() {
    assert_not_starved(poll_fn(|cx| {
        cx.waker().wake_by_ref();
        Poll::Pending
    }));
}

#[test]
fn a_task_that_yields_forever_does_not_starve_others() {
    assert_not_starved(async {
        loop {
            yield_now().await;
        }
    });
}

#[test]
fn a_task_that_only_consumes_budget_does_not_starve_others() {
    assert_not_starved(async {
        loop {
            coop::consume_budget().await;
        }
    });
}

/// One side of a ping-pong: stores its waker and wakes the other side, for
/// ever. `on_poll` sees the number of each poll.
fn player(
    me: usize,
    wakers: Arc<Mutex<[Option<Waker>; 2]>>,
    mut on_poll: impl FnMut(u64) + Send + 'static,
) -> impl Future<Output = ()> + Send {
    let mut polls = 0;
    poll_fn(move |cx| {
        polls += 1;
        on_poll(polls);
        let mut w = wakers.lock().unwrap();
        w[me] = Some(cx.waker().clone());
        let other = w[1 - me].take();
        drop(w);
        if let Some(other) = other {
            other.wake();
        }
        Poll::Pending
    })
}

#[test]
fn a_lifo_ping_pong_does_not_starve_the_local_queue() {
    let ex = workers(1);
    let wakers = Arc::new(Mutex::new([None, None]));
    let done = Gate::new();
    let mut third = Some(done.clone());
    // Once the ping-pong is under way, `ping` spawns a third task: it lands
    // in the LIFO slot, and is pushed to the local queue by `pong` at once.
    // The two players then take turns in the LIFO slot for ever; only the
    // cap on consecutive LIFO polls lets the local queue run.
    let ping = ex.spawn(player(0, wakers.clone(), move |n| {
        if n == 10 {
            if let Some(d) = third.take() {
                spawn(async move { d.open() }).detach();
            }
        }
    }));
    let pong = ex.spawn(player(1, wakers, |_| {}));
    let out = ex.block_on(timeout(LIMIT, done.wait()));
    assert!(out.is_some(), "the local queue starved");
    assert!(ex.block_on(ping.cancel()).unwrap_err().is_cancelled());
    assert!(ex.block_on(pong.cancel()).unwrap_err().is_cancelled());
}

#[test]
fn a_hog_on_a_local_executor_does_not_starve_others() {
    let ex = LocalExecutor::new();
    let hog = ex.spawn(async {
        loop {
            yield_now().await;
        }
    });
    let other = ex.spawn(async { 5 });
    assert_eq!(ex.block_on(timeout(LIMIT, other)).unwrap().unwrap(), 5);
    drop(hog);
}

// --- Shutdown ------------------------------------------------------------------

#[test]
fn dropping_the_executor_drops_pending_tasks() {
    let ex = workers(2);
    let idle = Counters::new();
    ex.spawn(probe(&idle, std::future::pending::<()>()))
        .detach();
    assert!(spin_until(LIMIT, || idle.polls() == 1));

    // Queued or running at the moment of the drop: dropped too.
    let busy: Vec<_> = (0..100).map(|_| Counters::new()).collect();
    for c in &busy {
        ex.spawn(probe(c, async {
            loop {
                yield_now().await;
            }
        }))
        .detach();
    }
    drop(ex);
    assert_eq!(idle.snapshot(), (1, 1, 0, 0));
    for c in &busy {
        assert_eq!(c.drops(), 1);
    }
}

#[test]
fn dropping_a_local_executor_drops_pending_tasks() {
    let ex = LocalExecutor::new();
    let idle = Counters::new();
    let never_run = Counters::new();
    ex.spawn(probe(&idle, std::future::pending::<()>()))
        .detach();
    ex.block_on(yield_now());
    assert_eq!(idle.polls(), 1);
    ex.spawn(probe(&never_run, std::future::pending::<()>()))
        .detach();
    drop(ex);
    assert_eq!(idle.snapshot(), (1, 1, 0, 0));
    assert_eq!(never_run.snapshot(), (0, 1, 0, 0));
}

/// Half of a pair of tasks that end up holding each other's wakers: a
/// reference cycle between two idle tasks that only shutdown can break.
///
/// On its first polls a half publishes its waker in `mine` and, once the
/// other half's waker shows up in `theirs`, keeps it and wakes that half so
/// it can do the same. Each half is polled exactly twice.
fn cycle_half(
    mine: Arc<Mutex<Option<Waker>>>,
    theirs: Arc<Mutex<Option<Waker>>>,
) -> impl Future<Output = ()> {
    let mut kept: Option<Waker> = None;
    poll_fn(move |cx| {
        if kept.is_none() {
            *mine.lock().unwrap() = Some(cx.waker().clone());
            if let Some(w) = theirs.lock().unwrap().take() {
                w.wake_by_ref();
                kept = Some(w);
            }
        }
        Poll::Pending
    })
}

fn new_slot() -> Arc<Mutex<Option<Waker>>> {
    Arc::new(Mutex::new(None))
}

#[test]
fn tasks_holding_each_others_wakers_are_dropped_at_shutdown() {
    let ex = workers(2);
    let (a, b) = (Counters::new(), Counters::new());
    let (slot_a, slot_b) = (new_slot(), new_slot());
    ex.spawn(probe(&a, cycle_half(slot_a.clone(), slot_b.clone())))
        .detach();
    assert!(spin_until(LIMIT, || a.polls() == 1));
    ex.spawn(probe(&b, cycle_half(slot_b.clone(), slot_a.clone())))
        .detach();
    assert!(spin_until(LIMIT, || a.polls() == 2 && b.polls() == 2));
    // Only the cycle keeps the tasks now.
    drop((slot_a.lock().unwrap().take(), slot_b.lock().unwrap().take()));
    drop(ex);
    assert_eq!(a.snapshot(), (2, 1, 0, 0));
    assert_eq!(b.snapshot(), (2, 1, 0, 0));
}

#[test]
fn local_tasks_holding_each_others_wakers_are_dropped_at_shutdown() {
    let ex = LocalExecutor::new();
    let (a, b) = (Counters::new(), Counters::new());
    let (slot_a, slot_b) = (new_slot(), new_slot());
    ex.spawn(probe(&a, cycle_half(slot_a.clone(), slot_b.clone())))
        .detach();
    ex.spawn(probe(&b, cycle_half(slot_b.clone(), slot_a.clone())))
        .detach();
    ex.block_on(async {
        for _ in 0..8 {
            yield_now().await;
        }
    });
    assert_eq!((a.polls(), b.polls()), (2, 2));
    drop((slot_a.lock().unwrap().take(), slot_b.lock().unwrap().take()));
    drop(ex);
    assert_eq!(a.snapshot(), (2, 1, 0, 0));
    assert_eq!(b.snapshot(), (2, 1, 0, 0));
}

#[test]
fn tasks_holding_each_others_handles_are_dropped_at_shutdown() {
    for local in [false, true] {
        let (a, b) = (Counters::new(), Counters::new());
        let slot: Arc<Mutex<Option<Task<()>>>> = Arc::new(Mutex::new(None));
        let s = slot.clone();
        let b_future = probe(&b, async move {
            // Own `a`'s handle, then wait forever.
            let _a = loop {
                if let Some(a) = s.lock().unwrap().take() {
                    break a;
                }
                yield_now().await;
            };
            std::future::pending::<()>().await;
        });
        let run = |ex_spawn: &dyn Fn(Pin<Box<dyn Future<Output = ()> + Send>>) -> Task<()>| {
            let task_b = ex_spawn(Box::pin(b_future));
            let a_future = probe(&a, async move {
                let _b = task_b;
                std::future::pending::<()>().await;
            });
            *slot.lock().unwrap() = Some(ex_spawn(Box::pin(a_future)));
        };
        if local {
            let ex = LocalExecutor::new();
            run(&|f| ex.spawn(f));
            ex.block_on(async {
                for _ in 0..8 {
                    yield_now().await;
                }
            });
            assert_eq!(a.polls(), 1);
            assert!(slot.lock().unwrap().is_none(), "b never took a's handle");
            drop(ex);
        } else {
            let ex = workers(2);
            run(&|f| ex.spawn(f));
            assert!(spin_until(LIMIT, || a.polls() == 1 && slot.lock().unwrap().is_none()));
            drop(ex);
        }
        assert_eq!(a.drops(), 1, "local: {local}");
        assert_eq!(b.drops(), 1, "local: {local}");
    }
}

#[test]
fn a_task_whose_waker_is_held_outside_is_dropped_at_shutdown() {
    let ex = workers(2);
    let c = Counters::new();
    let gate = Gate::new();
    ex.spawn(probe(&c, gate.wait())).detach();
    assert!(spin_until(LIMIT, || c.polls() == 1));
    assert_eq!(gate.waiters(), 1);
    drop(ex);
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
    // The stale waker still works as a waker: waking it does nothing.
    gate.open();
    thread::sleep(Duration::from_millis(10));
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
}

#[test]
fn a_local_task_whose_waker_is_held_by_another_thread_is_dropped_at_shutdown() {
    let ex = LocalExecutor::new();
    let c = Counters::new();
    let gate = Gate::new();
    ex.spawn(probe(&c, gate.wait())).detach();
    ex.block_on(yield_now());
    assert_eq!(c.polls(), 1);
    // Another thread's structure owns the waker now.
    let g = gate.clone();
    let holder = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        g.open();
    });
    drop(ex);
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
    holder.join().unwrap();
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
}

#[test]
fn spawning_through_a_handle_after_shutdown_cancels_at_once() {
    let ex = workers(1);
    let handle = ex.handle();
    drop(ex);
    let c = Counters::new();
    let task = handle.spawn(probe(&c, async { 1 }));
    assert_eq!(c.snapshot(), (0, 1, 0, 0));
    let err = corio_executor::block_on(task).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn spawning_through_a_local_handle_after_shutdown_cancels_at_once() {
    let ex = LocalExecutor::new();
    let handle = ex.handle();
    drop(ex);
    let c = Counters::new();
    let task = handle.spawn(probe(&c, async { 1 }));
    let out = corio_executor::block_on(timeout(Duration::from_secs(1), task));
    assert_eq!(c.snapshot(), (0, 1, 0, 0), "the future was never dropped");
    let err = out.expect("awaiting the handle hung").unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn spawn_local_tasks_are_dropped_when_block_on_returns() {
    let ex = workers(1);
    let c = Counters::new();
    let c2 = c.clone();
    ex.block_on(async move {
        spawn_local(probe(&c2, std::future::pending::<()>())).detach();
        yield_now().await;
        yield_now().await;
    });
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
}

#[test]
fn an_executor_dropped_by_its_own_task_does_not_deadlock() {
    let ex = workers(2);
    let handle = ex.handle();
    let other = Counters::new();
    handle
        .spawn(probe(&other, std::future::pending::<()>()))
        .detach();
    assert!(spin_until(LIMIT, || other.polls() == 1));
    let slot = Arc::new(Mutex::new(Some(ex)));
    let done = Gate::new();
    let (s, d) = (slot.clone(), done.clone());
    handle
        .spawn(async move {
            let ex = s.lock().unwrap().take();
            drop(ex);
            d.open();
        })
        .detach();
    assert!(spin_until(LIMIT, || done.is_open()), "the drop deadlocked");
    assert_eq!(other.drops(), 1);
}

// --- yield_now -----------------------------------------------------------------

#[test]
fn yield_now_lets_the_other_queued_tasks_run_first() {
    let ex = LocalExecutor::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (l1, l2) = (log.clone(), log.clone());
    let a = ex.spawn(async move {
        l1.borrow_mut().push("a1");
        yield_now().await;
        l1.borrow_mut().push("a2");
    });
    let b = ex.spawn(async move { l2.borrow_mut().push("b") });
    ex.block_on(async {
        a.await.unwrap();
        b.await.unwrap();
    });
    assert_eq!(*log.borrow(), ["a1", "b", "a2"]);
}

#[test]
fn yield_now_on_a_worker_runs_every_queued_task_first() {
    // The yielding task goes to the back of its worker's queue, behind the
    // tasks it spawned (which sit in the LIFO slot and the local queue).
    const N: usize = 50;
    let ex = workers(1);
    let ran_before_resume = ex
        .block_on(ex.spawn(async {
            let ran = Arc::new(AtomicUsize::new(0));
            for _ in 0..N {
                let r = ran.clone();
                spawn(async move {
                    r.fetch_add(1, SeqCst);
                })
                .detach();
            }
            assert_eq!(ran.load(SeqCst), 0);
            yield_now().await;
            ran.load(SeqCst)
        }))
        .unwrap();
    assert_eq!(ran_before_resume, N);
}

#[test]
fn yield_now_lets_another_task_run_on_a_single_worker() {
    let ex = workers(1);
    let flag = Arc::new(AtomicBool::new(false));
    let (f1, f2) = (flag.clone(), flag.clone());
    let spinner = ex.spawn(async move {
        let mut yields = 0u64;
        while !f1.load(SeqCst) {
            yield_now().await;
            yields += 1;
        }
        yields
    });
    let setter = ex.spawn(async move { f2.store(true, SeqCst) });
    let out = ex.block_on(timeout(LIMIT, spinner));
    assert!(out.expect("the spinner never saw the flag").is_ok());
    ex.block_on(setter).unwrap();
}

// --- Where spawn goes ----------------------------------------------------------

#[test]
fn spawn_outside_a_runtime_panics_helpfully() {
    common::quiet_expected_panics();
    let caught = catch_unwind(|| spawn(async {})).unwrap_err();
    let msg = common::panic_text(&*caught);
    assert!(msg.contains("outside a runtime"), "{msg}");
    assert!(
        msg.contains(file!()),
        "the message names the call site: {msg}"
    );

    let caught = catch_unwind(|| TaskBuilder::new().spawn(async {})).unwrap_err();
    assert!(common::panic_text(&*caught).contains("outside a runtime"));

    // The free `block_on` is not a runtime.
    let caught = catch_unwind(|| corio_executor::block_on(async { spawn(async {}).detach() }));
    let caught = caught.unwrap_err();
    assert!(common::panic_text(&*caught).contains("outside a runtime"));
}

#[test]
fn spawn_local_outside_a_local_runtime_panics() {
    common::quiet_expected_panics();
    let caught = catch_unwind(|| spawn_local(async {})).unwrap_err();
    let msg = common::panic_text(&*caught);
    assert!(msg.contains("outside a local runtime"), "{msg}");

    let caught = catch_unwind(|| TaskBuilder::new().spawn_local(async {})).unwrap_err();
    assert!(common::panic_text(&*caught).contains("outside a local runtime"));

    // A worker thread of an executor has no local executor either: the
    // task that tries panics, and its awaiter sees why.
    let ex = workers(1);
    let err = ex
        .block_on(ex.spawn(async {
            spawn_local(async {}).detach();
        }))
        .unwrap_err();
    let msg = err.panic_message().unwrap();
    assert!(msg.contains("outside a local runtime"), "{msg}");
}

#[test]
fn enter_makes_spawn_use_the_executor() {
    common::quiet_expected_panics();
    let a = Executor::builder()
        .worker_threads(1)
        .thread_name("enter-a")
        .build()
        .unwrap();
    let b = Executor::builder()
        .worker_threads(1)
        .thread_name("enter-b")
        .build()
        .unwrap();
    {
        let _a = a.enter();
        let t = spawn(async { thread_name() });
        assert_eq!(a.block_on(t).unwrap(), "enter-a-0");
        {
            let _b = b.enter();
            let t = spawn(async { thread_name() });
            assert_eq!(b.block_on(t).unwrap(), "enter-b-0");
        }
        // Leaving `b` restores `a`.
        let t = spawn(async { thread_name() });
        assert_eq!(corio_executor::block_on(t).unwrap(), "enter-a-0");
    }
    assert!(catch_unwind(|| spawn(async {})).is_err());
}

#[test]
fn an_entered_executor_stays_the_spawn_target_inside_a_local_block_on() {
    let ex = Executor::builder()
        .worker_threads(1)
        .thread_name("outer")
        .build()
        .unwrap();
    let local = LocalExecutor::new();
    let _guard = ex.enter();
    let (name, local_ran_here) = local.block_on(async {
        let name = spawn(async { thread_name() }).await.unwrap();
        let here = spawn_local(async { thread::current().id() }).await.unwrap();
        (name, here == thread::current().id())
    });
    assert_eq!(name, "outer-0");
    assert!(local_ran_here);
}

#[test]
fn block_on_makes_spawn_use_its_executor() {
    let ex = Executor::builder()
        .worker_threads(2)
        .thread_name("bo")
        .build()
        .unwrap();
    let name = ex.block_on(async { spawn(async { thread_name() }).await.unwrap() });
    assert!(name.starts_with("bo-"), "{name}");
    // A worker's own spawns stay on the executor.
    let name = ex
        .block_on(ex.spawn(async { spawn(async { thread_name() }).await.unwrap() }))
        .unwrap();
    assert!(name.starts_with("bo-"), "{name}");
}

#[test]
fn handle_spawns_from_other_threads() {
    let ex = Executor::builder()
        .worker_threads(2)
        .thread_name("hs")
        .build()
        .unwrap();
    let spawners: Vec<_> = (0..4u64)
        .map(|t| {
            let handle = ex.handle();
            thread::spawn(move || {
                (0..250u64)
                    .map(|i| handle.spawn(async move { (t * 250 + i, thread_name()) }))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let tasks: Vec<_> = spawners
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    let results = ex.block_on(async {
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let sum: u64 = results.iter().map(|(i, _)| i).sum();
    assert_eq!(sum, 999 * 1000 / 2);
    assert!(results.iter().all(|(_, name)| name.starts_with("hs-")));
}

// --- LocalExecutor ---------------------------------------------------------------

#[test]
fn local_executor_runs_non_send_futures() {
    let ex = LocalExecutor::new();
    let shared = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let s = shared.clone();
            ex.spawn(async move {
                yield_now().await;
                s.borrow_mut().push(i);
                Rc::new(i)
            })
        })
        .collect();
    let outs = ex.block_on(async {
        let mut outs = Vec::new();
        for t in tasks {
            outs.push(*t.await.unwrap());
        }
        outs
    });
    assert_eq!(outs, (0..10).collect::<Vec<_>>());
    assert_eq!(*shared.borrow(), (0..10).collect::<Vec<_>>());
    assert_eq!(Rc::strong_count(&shared), 1);
}

#[test]
fn spawn_local_inside_executor_block_on_runs_on_the_calling_thread() {
    let ex = workers(2);
    let me = thread::current().id();
    let rc = Rc::new(5);
    let (value, ran_on) = ex.block_on(async {
        let r = rc.clone();
        spawn_local(async move { (*r * 2, thread::current().id()) })
            .await
            .unwrap()
    });
    assert_eq!(value, 10);
    assert_eq!(ran_on, me);
}

#[test]
fn wake_ups_from_another_thread_reach_a_local_task() {
    let ex = LocalExecutor::new();
    let gate = Gate::new();
    let g = gate.clone();
    let task = ex.spawn(async move {
        g.wait().await;
        thread::current().id()
    });
    let g = gate.clone();
    let opener = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        g.open();
    });
    let out = ex.block_on(timeout(LIMIT, task));
    assert_eq!(
        out.expect("the wake-up was lost").unwrap(),
        thread::current().id()
    );
    opener.join().unwrap();
}

#[test]
fn a_worker_wakes_a_spawn_local_task_on_the_block_on_thread() {
    let ex = workers(2);
    let out = ex.block_on(async {
        let gate = Gate::new();
        let g = gate.clone();
        let local = spawn_local(async move {
            g.wait().await;
            thread::current().id()
        });
        spawn(async move {
            thread::sleep(Duration::from_millis(10));
            gate.open();
        })
        .detach();
        timeout(LIMIT, local).await
    });
    let ran_on = out.expect("the wake-up from the worker was lost").unwrap();
    assert_eq!(ran_on, thread::current().id());
}

#[test]
fn local_handle_spawns_from_another_thread_while_block_on_waits() {
    let ex = LocalExecutor::new();
    let handle = ex.handle();
    let (tx, rx) = std::sync::mpsc::channel();
    let spawner = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        tx.send(handle.spawn(async { thread::current().id() }))
            .unwrap();
    });
    let waiter = Gate::new();
    let g = waiter.clone();
    // Park the executor until the other thread's task arrives.
    let ran_on = ex.block_on(timeout(LIMIT, async move {
        let task = poll_fn(|cx| match rx.try_recv() {
            Ok(t) => Poll::Ready(t),
            Err(_) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
        g.open();
        task.await.unwrap()
    }));
    assert_eq!(ran_on, Some(thread::current().id()));
    spawner.join().unwrap();
    assert!(waiter.is_open());
}

// --- Park hook -------------------------------------------------------------------

#[derive(Debug, Default)]
struct CountingPark {
    inner: ThreadPark,
    unparks: AtomicUsize,
}

impl Park for CountingPark {
    fn park(&self, timeout: Option<Duration>) {
        self.inner.park(timeout);
    }

    fn unpark(&self) {
        self.unparks.fetch_add(1, SeqCst);
        self.inner.unpark();
    }
}

#[test]
fn the_park_factory_makes_one_parker_per_worker() {
    let made = Arc::new(Mutex::new(Vec::new()));
    let parkers = Arc::new(Mutex::new(Vec::new()));
    let (m, p) = (made.clone(), parkers.clone());
    let ex = Executor::builder()
        .worker_threads(3)
        .park(Arc::new(move |i| {
            m.lock().unwrap().push(i);
            let park = Arc::new(CountingPark::default());
            p.lock().unwrap().push(park.clone());
            park as Arc<dyn Park>
        }))
        .build()
        .unwrap();
    let mut indices = made.lock().unwrap().clone();
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2]);
    // Work arriving from outside unparks the idle workers through the hook.
    thread::sleep(Duration::from_millis(20));
    for i in 0..20 {
        assert_eq!(ex.block_on(ex.spawn(async move { i })).unwrap(), i);
        thread::sleep(Duration::from_millis(1));
    }
    let unparks: usize = parkers
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.unparks.load(SeqCst))
        .sum();
    assert!(unparks > 0);
    // A thread in `block_on` parks plainly: the workers drive what the
    // parkers drive, so no parker was made for it.
    assert_eq!(made.lock().unwrap().len(), 3);
}

// --- coop ------------------------------------------------------------------------

/// Calls `poll_proceed` `n` times inside one task; returns how often it was
/// told to yield.
fn proceed_n_times(n: usize) -> impl Future<Output = usize> + Send {
    let mut done = 0;
    let mut yields = 0;
    poll_fn(move |cx| {
        while done < n {
            match coop::poll_proceed(cx) {
                Poll::Ready(()) => done += 1,
                Poll::Pending => {
                    yields += 1;
                    assert!(!coop::has_budget_remaining());
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(yields)
    })
}

#[test]
fn poll_proceed_yields_once_the_budget_is_spent() {
    const N: usize = 1_000;
    // Each task poll gets a fresh budget of `BUDGET` operations.
    let expected = (N - 1) / coop::BUDGET as usize;
    assert!(expected >= 1);

    let ex = workers(1);
    assert_eq!(ex.block_on(ex.spawn(proceed_n_times(N))).unwrap(), expected);

    let local = LocalExecutor::new();
    assert_eq!(
        local.block_on(local.spawn(proceed_n_times(N))).unwrap(),
        expected
    );
    // `block_on`'s main future has a budget too.
    assert_eq!(local.block_on(proceed_n_times(N)), expected);

    // Outside any executor there is no budget.
    assert_eq!(corio_executor::block_on(proceed_n_times(N)), 0);
    assert!(coop::has_budget_remaining());
}

#[test]
fn awaiting_many_finished_tasks_yields_to_the_executor() {
    // Polling a `Task` spends budget, so a loop over finished handles still
    // returns to the executor now and then.
    const N: usize = 1_000;
    let ex = LocalExecutor::new();
    let tasks: Vec<_> = (0..N).map(|i| ex.spawn(async move { i })).collect();
    ex.block_on(async {
        for _ in 0..2 * N {
            yield_now().await;
        }
    });
    assert!(tasks.iter().all(Task::is_finished));
    let c = Counters::new();
    let sum = ex.block_on(probe(&c, async {
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    }));
    assert_eq!(sum, (N - 1) * N / 2);
    assert_eq!(c.polls(), 1 + (N - 1) / coop::BUDGET as usize);
}
