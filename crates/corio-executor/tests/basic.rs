//! The life of one task, counted exactly: polls, drops and wake-ups of
//! instrumented futures through completion, cancellation, panics and detach,
//! plus the task handle's own API (`is_finished`, `name`, `location`,
//! `CancelOnDrop`) and [`JoinError`].
//!
//! Modelled on async-task's `tests/basic.rs`. Most tests run on a
//! [`LocalExecutor`], where nothing runs unless the test drives it, so every
//! count is exact at every step; the multi-threaded variants wait for the
//! event they need and then check the same exact numbers.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{poll_with, probe, spin_until, Counters, CountingWaker, Gate, Out, EXPECTED};
use corio_executor::{Executor, JoinError, LocalExecutor, Task, TaskBuilder};

const LIMIT: Duration = Duration::from_secs(10);

/// Drives `ex` (one task per turn) until `cond` holds; fails after many turns.
fn run_until(ex: &LocalExecutor, mut cond: impl FnMut() -> bool) {
    let mut turns = 0u32;
    ex.block_on(std::future::poll_fn(|cx| {
        if cond() {
            return Poll::Ready(());
        }
        turns += 1;
        assert!(turns < 100_000, "the condition never held");
        cx.waker().wake_by_ref();
        Poll::Pending
    }));
}

/// Gives every task queued on `ex` a chance to run, several times over.
fn settle(ex: &LocalExecutor) {
    for _ in 0..32 {
        ex.block_on(corio_executor::yield_now());
    }
}

fn two_workers() -> Executor {
    Executor::builder().worker_threads(2).build().unwrap()
}

/// A task that waits for `gate`, then returns an [`Out`] holding `value`.
fn gated_out(
    c: &Arc<Counters>,
    gate: &Arc<Gate>,
    value: u64,
) -> impl std::future::Future<Output = Out> + Send + 'static {
    let (c2, gate) = (c.clone(), gate.clone());
    probe(c, async move {
        gate.wait().await;
        Out::new(&c2, value)
    })
}

#[test]
fn completed_future_is_polled_once_and_dropped_once() {
    let c = Counters::new();
    let ex = LocalExecutor::new();
    let c2 = c.clone();
    let task = ex.spawn(probe(&c, async move { Out::new(&c2, 7) }));
    // Nothing runs outside `block_on`.
    assert_eq!(c.snapshot(), (0, 0, 0, 0));
    let out = ex.block_on(task).unwrap();
    assert_eq!(out.value, 7);
    // The future is dropped as soon as it completes; the output is ours.
    assert_eq!(c.snapshot(), (1, 1, 1, 0));
    drop(out);
    assert_eq!(c.snapshot(), (1, 1, 1, 1));
    drop(ex);
    assert_eq!(c.snapshot(), (1, 1, 1, 1));
}

#[test]
fn completed_future_is_polled_once_and_dropped_once_multi_thread() {
    let c = Counters::new();
    let ex = two_workers();
    let c2 = c.clone();
    let task = ex.spawn(probe(&c, async move { Out::new(&c2, 7) }));
    let out = ex.block_on(task).unwrap();
    assert_eq!(out.value, 7);
    assert_eq!(c.snapshot(), (1, 1, 1, 0));
    drop(out);
    drop(ex);
    assert_eq!(c.snapshot(), (1, 1, 1, 1));
}

#[test]
fn each_yield_is_one_more_poll() {
    let c = Counters::new();
    let ex = LocalExecutor::new();
    let task = ex.spawn(probe(&c, async {
        for _ in 0..3 {
            corio_executor::yield_now().await;
        }
    }));
    ex.block_on(task).unwrap();
    assert_eq!(c.snapshot(), (4, 1, 1, 0));
}

#[test]
fn wake_ups_while_queued_coalesce_into_one_poll() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = LocalExecutor::new();
    let task = ex.spawn(probe(&c, gate.wait()));
    run_until(&ex, || c.polls() == 1);
    assert_eq!(gate.waiters(), 1);

    // Three wake-ups before the executor gets to run: one poll.
    gate.wake_all();
    gate.wake_all();
    gate.wake_all();
    settle(&ex);
    assert_eq!(c.snapshot(), (2, 0, 0, 0));

    // No wake-up, no poll.
    settle(&ex);
    assert_eq!(c.snapshot(), (2, 0, 0, 0));

    gate.open();
    settle(&ex);
    assert_eq!(c.snapshot(), (3, 1, 1, 0));
    assert!(task.is_finished());
    ex.block_on(task).unwrap();
}

#[test]
fn awaiter_is_woken_exactly_once_when_the_task_completes() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = LocalExecutor::new();
    let mut task = ex.spawn(gated_out(&c, &gate, 3));
    let (wakes, waker) = CountingWaker::new();

    assert!(poll_with(&mut task, &waker).is_pending());
    run_until(&ex, || c.polls() == 1);
    assert!(poll_with(&mut task, &waker).is_pending());
    assert_eq!(wakes.wakes(), 0);

    gate.open();
    settle(&ex);
    assert_eq!(c.snapshot(), (2, 1, 1, 0));
    assert_eq!(wakes.wakes(), 1);
    match poll_with(&mut task, &waker) {
        Poll::Ready(Ok(out)) => assert_eq!(out.value, 3),
        other => panic!("expected the output, got {other:?}"),
    }
    assert_eq!(c.snapshot(), (2, 1, 1, 1));
    assert_eq!(wakes.wakes(), 1);
}

#[test]
fn cancel_drops_a_pending_future_once_and_never_polls_it_again() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = LocalExecutor::new();
    let task = ex.spawn(gated_out(&c, &gate, 1));
    run_until(&ex, || c.polls() == 1);

    let err = ex.block_on(task.cancel()).unwrap_err();
    assert!(err.is_cancelled());
    assert!(!err.is_panic());
    assert_eq!(err.panic_message(), None);
    assert_eq!(c.snapshot(), (1, 1, 0, 0));

    // The gate still holds the task's waker: waking it polls nothing.
    gate.open();
    settle(&ex);
    drop(ex);
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
}

#[test]
fn cancel_drops_a_pending_future_once_multi_thread() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = two_workers();
    let task = ex.spawn(gated_out(&c, &gate, 1));
    assert!(spin_until(LIMIT, || c.polls() == 1));

    // `cancel` returns once the future is gone.
    let err = ex.block_on(task.cancel()).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(c.snapshot(), (1, 1, 0, 0));

    gate.open();
    std::thread::sleep(Duration::from_millis(20));
    drop(ex);
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
}

#[test]
fn cancel_before_the_first_poll_never_polls() {
    let c = Counters::new();
    let ex = LocalExecutor::new();
    let c2 = c.clone();
    let task = ex.spawn(probe(&c, async move { Out::new(&c2, 1) }));
    // The task is queued but has not run: `block_on` polls its main future
    // (the cancel) before any task.
    let err = ex.block_on(task.cancel()).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(c.snapshot(), (0, 1, 0, 0));
}

#[test]
fn cancel_of_a_finished_task_returns_its_output() {
    let c = Counters::new();
    let ex = LocalExecutor::new();
    let c2 = c.clone();
    let task = ex.spawn(probe(&c, async move { Out::new(&c2, 11) }));
    run_until(&ex, || task.is_finished());
    let out = ex.block_on(task.cancel()).unwrap();
    assert_eq!(out.value, 11);
    assert_eq!(c.snapshot(), (1, 1, 1, 0));
    drop(out);
    assert_eq!(c.snapshot(), (1, 1, 1, 1));
}

#[test]
fn cancel_of_a_finished_task_returns_its_output_multi_thread() {
    let c = Counters::new();
    let ex = two_workers();
    let c2 = c.clone();
    let task = ex.spawn(probe(&c, async move { Out::new(&c2, 12) }));
    assert!(spin_until(LIMIT, || task.is_finished()));
    let out = ex.block_on(task.cancel()).unwrap();
    assert_eq!(out.value, 12);
    drop(out);
    assert_eq!(c.snapshot(), (1, 1, 1, 1));
}

#[test]
fn panic_drops_the_future_once_and_reaches_the_awaiter() {
    common::quiet_expected_panics();
    let c = Counters::new();
    let gate = Gate::new();
    let ex = LocalExecutor::new();
    let g = gate.clone();
    let task = ex.spawn(probe(&c, async move {
        g.wait().await;
        panic!("expected panic: boom");
    }));
    run_until(&ex, || c.polls() == 1);
    assert_eq!(c.snapshot(), (1, 0, 0, 0));
    gate.open();
    let err = ex.block_on(task).unwrap_err();
    assert_eq!(c.snapshot(), (2, 1, 0, 0));
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert_eq!(err.panic_message().as_deref(), Some("expected panic: boom"));
    let payload = err.into_panic();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"expected panic: boom")
    );
}

#[test]
fn panic_drops_the_future_once_multi_thread() {
    common::quiet_expected_panics();
    let c = Counters::new();
    let ex = two_workers();
    let task = ex.spawn(probe(&c, async { panic!("expected panic: first poll") }));
    let err = ex.block_on(task).unwrap_err();
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
    assert_eq!(
        err.panic_message().as_deref(),
        Some("expected panic: first poll")
    );
    // The worker survived: the executor still runs tasks.
    assert_eq!(ex.block_on(ex.spawn(async { 5 })).unwrap(), 5);
}

#[test]
fn detached_task_runs_to_completion_and_its_output_is_dropped_once() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = LocalExecutor::new();
    let task = ex.spawn(gated_out(&c, &gate, 1));
    run_until(&ex, || c.polls() == 1);
    drop(task);
    assert_eq!(c.snapshot(), (1, 0, 0, 0));

    gate.open();
    run_until(&ex, || c.completions() == 1);
    settle(&ex);
    // Nobody will take the output: it was dropped with the task.
    assert_eq!(c.snapshot(), (2, 1, 1, 1));
    drop(ex);
    assert_eq!(c.snapshot(), (2, 1, 1, 1));
}

#[test]
fn detached_task_runs_to_completion_multi_thread() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = two_workers();
    ex.spawn(gated_out(&c, &gate, 1)).detach();
    assert!(spin_until(LIMIT, || c.polls() == 1));
    assert_eq!(c.snapshot(), (1, 0, 0, 0));
    gate.open();
    assert!(spin_until(LIMIT, || c.output_drops() == 1));
    drop(ex);
    assert_eq!(c.snapshot(), (2, 1, 1, 1));
}

#[test]
fn dropping_the_handle_of_a_finished_task_drops_the_output_once() {
    let c = Counters::new();
    let ex = LocalExecutor::new();
    let c2 = c.clone();
    let task = ex.spawn(probe(&c, async move { Out::new(&c2, 1) }));
    run_until(&ex, || task.is_finished());
    assert_eq!(c.snapshot(), (1, 1, 1, 0));
    drop(task);
    assert_eq!(c.snapshot(), (1, 1, 1, 1));
}

#[test]
fn a_finished_tasks_output_outlives_its_executor() {
    let ex = two_workers();
    let task = ex.spawn(async { String::from("kept") });
    assert!(spin_until(LIMIT, || task.is_finished()));
    drop(ex);
    assert_eq!(corio_executor::block_on(task).unwrap(), "kept");
}

#[test]
fn is_finished_follows_the_task() {
    common::quiet_expected_panics();
    let gate = Gate::new();
    let ex = LocalExecutor::new();
    let waiting = ex.spawn(gate.wait());
    let panicking = ex.spawn(async { panic!("expected panic: finished") });
    settle(&ex);
    assert!(!waiting.is_finished());
    assert!(panicking.is_finished());
    gate.open();
    settle(&ex);
    assert!(waiting.is_finished());
    ex.block_on(waiting).unwrap();
    assert!(ex.block_on(panicking).unwrap_err().is_panic());

    let guard = ex.spawn(std::future::pending::<()>()).cancel_on_drop();
    settle(&ex);
    assert!(!guard.is_finished());
    drop(guard);
}

#[test]
fn name_and_location_are_those_of_the_spawn() {
    let ex = two_workers();
    let local = LocalExecutor::new();
    let handle = ex.handle();

    let (t, line) = (ex.spawn(async {}), line!());
    assert_eq!(t.name(), None);
    assert_eq!(t.location().file(), file!());
    assert_eq!(t.location().line(), line);

    let b = TaskBuilder::new().name("on");
    let (t, line) = (b.spawn_on(&ex, async {}), line!());
    assert_eq!(t.name(), Some("on"));
    assert_eq!((t.location().file(), t.location().line()), (file!(), line));

    let b = TaskBuilder::new().name("with");
    let (t, line) = (b.spawn_with(&handle, async {}), line!());
    assert_eq!(t.name(), Some("with"));
    assert_eq!((t.location().file(), t.location().line()), (file!(), line));

    let (t, line) = (handle.spawn(async {}), line!());
    assert_eq!((t.location().file(), t.location().line()), (file!(), line));

    let b = TaskBuilder::new().name("local-on");
    let (t, line) = (b.spawn_local_on(&local, async {}), line!());
    assert_eq!(t.name(), Some("local-on"));
    assert_eq!((t.location().file(), t.location().line()), (file!(), line));

    let (t, line) = (local.spawn(async {}), line!());
    assert_eq!((t.location().file(), t.location().line()), (file!(), line));

    let (t, line) = (local.handle().spawn(async {}), line!());
    assert_eq!((t.location().file(), t.location().line()), (file!(), line));

    // The free functions, inside a runtime.
    ex.block_on(async {
        let (t, line) = (corio_executor::spawn(async {}), line!());
        assert_eq!((t.location().file(), t.location().line()), (file!(), line));

        let (t, line) = (corio_executor::spawn_local(async {}), line!());
        assert_eq!((t.location().file(), t.location().line()), (file!(), line));

        let b = TaskBuilder::new().name("spawn");
        let (t, line) = (b.spawn(async {}), line!());
        assert_eq!(t.name(), Some("spawn"));
        assert_eq!((t.location().file(), t.location().line()), (file!(), line));

        let b = TaskBuilder::new().name("spawn-local");
        let (t, line) = (b.spawn_local(async {}), line!());
        assert_eq!(t.name(), Some("spawn-local"));
        assert_eq!((t.location().file(), t.location().line()), (file!(), line));
        t.await.unwrap();
    });

    // Debug shows them too.
    let t = TaskBuilder::new().name("dbg").spawn_on(&ex, async {});
    let dbg = format!("{t:?}");
    assert!(dbg.contains("dbg") && dbg.contains(file!()), "{dbg}");
}

#[test]
fn cancel_on_drop_cancels_when_dropped() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = LocalExecutor::new();
    let guard = ex.spawn(gated_out(&c, &gate, 1)).cancel_on_drop();
    run_until(&ex, || c.polls() == 1);
    drop(guard);
    run_until(&ex, || c.drops() == 1);
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
    gate.open();
    settle(&ex);
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
}

#[test]
fn cancel_on_drop_cancels_when_dropped_multi_thread() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = two_workers();
    let guard = ex.spawn(gated_out(&c, &gate, 1)).cancel_on_drop();
    assert!(spin_until(LIMIT, || c.polls() == 1));
    drop(guard);
    assert!(spin_until(LIMIT, || c.drops() == 1));
    gate.open();
    std::thread::sleep(Duration::from_millis(20));
    drop(ex);
    assert_eq!(c.snapshot(), (1, 1, 0, 0));
}

#[test]
fn awaiting_cancel_on_drop_gives_the_value() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = two_workers();
    let guard = ex.spawn(gated_out(&c, &gate, 21)).cancel_on_drop();
    gate.open();
    let out = ex.block_on(guard).unwrap();
    assert_eq!(out.value, 21);
    assert!((1..=2).contains(&c.polls()));
    assert_eq!((c.drops(), c.completions(), c.output_drops()), (1, 1, 0));
    drop(out);
    assert_eq!(c.output_drops(), 1);
}

#[test]
fn cancel_on_drop_cancel_and_into_task() {
    let c = Counters::new();
    let gate = Gate::new();
    let ex = LocalExecutor::new();

    let guard = ex.spawn(gated_out(&c, &gate, 1)).cancel_on_drop();
    run_until(&ex, || c.polls() == 1);
    assert!(ex.block_on(guard.cancel()).unwrap_err().is_cancelled());
    assert_eq!(c.snapshot(), (1, 1, 0, 0));

    // Back to a plain task: dropping it detaches, the task completes.
    let d = Counters::new();
    let task = ex
        .spawn(gated_out(&d, &gate, 2))
        .cancel_on_drop()
        .into_task();
    drop(task);
    gate.open();
    run_until(&ex, || d.output_drops() == 1);
    assert_eq!(d.snapshot(), (1, 1, 1, 1));
}

#[test]
fn join_error_display_names_the_task_and_the_panic() {
    common::quiet_expected_panics();
    let ex = two_workers();

    let b = TaskBuilder::new().name("fetcher");
    let fut = async { panic!("expected panic: kaboom") };
    let (t, line) = (b.spawn_on(&ex, fut), line!());
    let err = ex.block_on(t).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("task 'fetcher'"), "{shown}");
    assert!(shown.contains("panicked"), "{shown}");
    assert!(shown.contains("expected panic: kaboom"), "{shown}");
    assert!(shown.contains(&format!("{}:{line}", file!())), "{shown}");
    assert_eq!(err.task_name(), Some("fetcher"));
    assert_eq!(err.spawn_location().line(), line);
    let dbg = format!("{err:?}");
    assert!(dbg.contains("Panicked") && dbg.contains("kaboom"), "{dbg}");
    let as_error: &dyn std::error::Error = &err;
    assert!(as_error.source().is_none());

    let b = TaskBuilder::new().name("sleeper");
    let t = b.spawn_on(&ex, std::future::pending::<()>());
    let err = ex.block_on(t.cancel()).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("task 'sleeper'"), "{shown}");
    assert!(shown.contains("was cancelled"), "{shown}");
    assert!(format!("{err:?}").contains("Cancelled"));

    let err = ex.block_on(ex.spawn(std::future::pending::<()>()).cancel());
    let shown = err.unwrap_err().to_string();
    assert!(shown.starts_with("task spawned at "), "{shown}");
}

#[test]
fn into_panic_gives_the_payload_back() {
    common::quiet_expected_panics();
    let ex = two_workers();

    let err = ex
        .block_on(ex.spawn(async { std::panic::panic_any(42u32) }))
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), None);
    assert!(err.to_string().ends_with("panicked"), "{err}");
    assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 42);

    let err = ex
        .block_on(ex.spawn(async { panic!("{} {}", EXPECTED, 7) }))
        .unwrap_err();
    let payload = err.try_into_panic().unwrap();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("expected panic 7")
    );

    // The payload can resume the panic on this thread.
    let err = ex
        .block_on(ex.spawn(async { panic!("expected panic: resumed") }))
        .unwrap_err();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        std::panic::resume_unwind(err.into_panic())
    }))
    .unwrap_err();
    assert_eq!(common::panic_text(&*caught), "expected panic: resumed");
}

#[test]
fn try_into_panic_on_a_cancelled_task_gives_the_error_back() {
    common::quiet_expected_panics();
    let ex = LocalExecutor::new();
    let t: Task<()> = ex.spawn(std::future::pending());
    let err: JoinError = ex.block_on(t.cancel()).unwrap_err();
    let err = err.try_into_panic().unwrap_err();
    assert!(err.is_cancelled());

    // `into_panic` on it panics, saying why.
    let caught = catch_unwind(AssertUnwindSafe(|| err.into_panic())).unwrap_err();
    let msg = common::panic_text(&*caught);
    assert!(msg.contains("did not panic"), "{msg}");
}
