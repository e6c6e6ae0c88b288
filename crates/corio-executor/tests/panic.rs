//! Panics inside tasks: they stay in their task, reach whoever awaits it,
//! and — when nobody will — go to the runtime's [`UnhandledPanic`] policy
//! exactly once (`Custom`, `ShutdownRuntime`, `Ignore`), whichever side (the
//! task or its dropped handle) gets there first.
//!
//! Thousands of tasks panic here, so the file installs a panic hook that
//! keeps the panics it provokes (marked "expected panic") off stderr.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{spin_until, timeout, Gate, EXPECTED};
use corio_executor::{Executor, LocalExecutor, Task, TaskBuilder, UnhandledPanic, UnobservedPanic};

const LIMIT: Duration = Duration::from_secs(10);

/// A `Custom` policy that counts its reports.
fn counting_policy() -> (Arc<AtomicUsize>, UnhandledPanic) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let policy = UnhandledPanic::Custom(Arc::new(move |_| {
        c.fetch_add(1, SeqCst);
    }));
    (count, policy)
}

/// A `Custom` policy that keeps every report.
fn collecting_policy() -> (Arc<Mutex<Vec<UnobservedPanic>>>, UnhandledPanic) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let r = reports.clone();
    let policy = UnhandledPanic::Custom(Arc::new(move |p| r.lock().unwrap().push(p)));
    (reports, policy)
}

fn executor(policy: UnhandledPanic) -> Executor {
    Executor::builder()
        .worker_threads(2)
        .unhandled_panic(policy)
        .build()
        .unwrap()
}

#[test]
fn ten_thousand_awaited_panics_leave_the_runtime_working() {
    common::quiet_expected_panics();
    let (reported, policy) = counting_policy();
    let ex = executor(policy);
    let panics = ex.block_on(async {
        let tasks: Vec<Task<()>> = (0..10_000)
            .map(|i| corio_executor::spawn(async move { panic!("expected panic {i}") }))
            .collect();
        let mut panics = 0;
        for (i, t) in tasks.into_iter().enumerate() {
            let err = t.await.unwrap_err();
            assert!(err.is_panic());
            assert_eq!(err.panic_message(), Some(format!("expected panic {i}")));
            panics += 1;
        }
        panics
    });
    assert_eq!(panics, 10_000);

    // Both workers still run tasks.
    let sum = ex.block_on(async {
        let tasks: Vec<_> = (0..1_000u64)
            .map(|i| corio_executor::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 999 * 1_000 / 2);
    drop(ex);
    assert_eq!(
        reported.load(SeqCst),
        0,
        "awaited panics must not be reported"
    );
}

#[test]
fn detached_panics_are_reported_exactly_once_each() {
    common::quiet_expected_panics();
    const AFTER: usize = 400; // handle dropped after the panic
    const BEFORE: usize = 400; // handle dropped before the panic
    const RACING: usize = 200; // handle dropped while the task may be panicking
    const TOTAL: usize = AFTER + BEFORE + RACING;

    let slots: Arc<Vec<AtomicU8>> = Arc::new((0..TOTAL).map(|_| AtomicU8::new(0)).collect());
    let reported = Arc::new(AtomicUsize::new(0));
    let (s, r) = (slots.clone(), reported.clone());
    let ex = executor(UnhandledPanic::Custom(Arc::new(move |p| {
        let id: usize = p.task_name().unwrap().parse().unwrap();
        s[id].fetch_add(1, SeqCst);
        r.fetch_add(1, SeqCst);
    })));
    let spawn = |id: usize, gate: Option<Arc<Gate>>| {
        TaskBuilder::new()
            .name(id.to_string())
            .spawn_on(&ex, async move {
                if let Some(gate) = gate {
                    gate.wait().await;
                }
                panic!("expected panic in task {id}");
            })
    };

    // 1. Panicked, then dropped: the handle reports, before `drop` returns.
    let tasks: Vec<_> = (0..AFTER).map(|id| spawn(id, None)).collect();
    assert!(spin_until(LIMIT, || tasks.iter().all(Task::is_finished)));
    assert_eq!(reported.load(SeqCst), 0);
    drop(tasks);
    assert_eq!(reported.load(SeqCst), AFTER);

    // 2. Dropped, then panicked: the task reports.
    let gate = Gate::new();
    let tasks: Vec<_> = (AFTER..AFTER + BEFORE)
        .map(|id| spawn(id, Some(gate.clone())))
        .collect();
    drop(tasks);
    assert_eq!(reported.load(SeqCst), AFTER);
    gate.open();
    assert!(spin_until(LIMIT, || reported.load(SeqCst) >= AFTER + BEFORE));

    // 3. Both at once.
    for id in AFTER + BEFORE..TOTAL {
        drop(spawn(id, None));
    }
    assert!(spin_until(LIMIT, || reported.load(SeqCst) >= TOTAL));

    drop(ex);
    assert_eq!(reported.load(SeqCst), TOTAL);
    let counts: Vec<u8> = slots.iter().map(|s| s.load(SeqCst)).collect();
    assert!(counts.iter().all(|&n| n == 1), "{counts:?}");
}

#[test]
fn handle_dropped_after_the_panic_reports_it() {
    common::quiet_expected_panics();
    let (reports, policy) = collecting_policy();
    let ex = executor(policy);
    let b = TaskBuilder::new().name("late");
    let fut = async { panic!("expected panic: late") };
    let (task, line) = (b.spawn_on(&ex, fut), line!());
    assert!(spin_until(LIMIT, || task.is_finished()));
    assert!(reports.lock().unwrap().is_empty());
    drop(task);

    let reports = std::mem::take(&mut *reports.lock().unwrap());
    assert_eq!(reports.len(), 1);
    let p = &reports[0];
    assert_eq!(p.task_name(), Some("late"));
    assert_eq!(p.message(), Some("expected panic: late"));
    assert_eq!(p.spawn_location().file(), file!());
    assert_eq!(p.spawn_location().line(), line);
    let shown = p.to_string();
    assert!(
        shown.contains("task 'late'") && shown.contains("nobody awaited it"),
        "{shown}"
    );
    assert!(format!("{p:?}").contains("expected panic: late"));
    let payload = reports.into_iter().next().unwrap().into_payload();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"expected panic: late")
    );
}

#[test]
fn handle_dropped_while_the_task_is_running_reports_the_panic() {
    common::quiet_expected_panics();
    let (reported, policy) = counting_policy();
    let ex = executor(policy);
    let started = Gate::new();
    let s = started.clone();
    let task = ex.spawn(async move {
        s.open();
        std::thread::sleep(Duration::from_millis(100));
        panic!("expected panic: mid-poll");
    });
    assert!(spin_until(LIMIT, || started.is_open()));
    drop(task);
    assert!(spin_until(LIMIT, || reported.load(SeqCst) == 1));
    drop(ex);
    assert_eq!(reported.load(SeqCst), 1);
}

#[test]
fn cancel_on_drop_of_a_panicked_task_reports_it() {
    common::quiet_expected_panics();
    let (reported, policy) = counting_policy();
    let ex = executor(policy);
    let guard = ex
        .spawn(async { panic!("expected panic: guarded") })
        .cancel_on_drop();
    assert!(spin_until(LIMIT, || guard.is_finished()));
    drop(guard);
    assert_eq!(reported.load(SeqCst), 1);
    drop(ex);
    assert_eq!(reported.load(SeqCst), 1);
}

#[test]
fn awaited_panics_are_not_reported() {
    common::quiet_expected_panics();
    let (reported, policy) = counting_policy();
    let ex = executor(policy);

    let err = ex
        .block_on(ex.spawn(async { panic!("expected panic: awaited") }))
        .unwrap_err();
    assert!(err.is_panic());

    let guard = ex
        .spawn(async { panic!("expected panic: guard awaited") })
        .cancel_on_drop();
    assert!(ex.block_on(guard).unwrap_err().is_panic());

    // Cancelling a task that already panicked hands over the panic.
    let task = ex.spawn(async { panic!("expected panic: cancelled late") });
    assert!(spin_until(LIMIT, || task.is_finished()));
    let err = ex.block_on(task.cancel()).unwrap_err();
    assert_eq!(
        err.panic_message().as_deref(),
        Some("expected panic: cancelled late")
    );

    // Local tasks, too.
    let local = LocalExecutor::with_policy(counting_policy().1);
    let t = local.spawn(async { panic!("expected panic: local awaited") });
    assert!(local.block_on(t).unwrap_err().is_panic());
    drop(local);

    drop(ex);
    assert_eq!(reported.load(SeqCst), 0);
}

/// A panic during a concurrent `cancel` reaches exactly one place: the
/// canceller (as a panic `JoinError`) or the policy. (Regression: until the
/// panic report moved into the output's destructor, the panic vanished and
/// `cancel` said "cancelled".)
#[test]
fn panic_racing_a_cancel_is_not_lost() {
    common::quiet_expected_panics();
    let (reported, policy) = counting_policy();
    let ex = executor(policy);
    let started = Gate::new();
    let s = started.clone();
    let task = ex.spawn(async move {
        s.open();
        // Long enough for the test thread to call `cancel` meanwhile.
        std::thread::sleep(Duration::from_millis(200));
        panic!("expected panic: while being cancelled");
    });
    assert!(spin_until(LIMIT, || started.is_open()));
    let result = ex.block_on(task.cancel());
    drop(ex);
    let returned = matches!(&result, Err(e) if e.is_panic());
    let reports = reported.load(SeqCst);
    assert_eq!(
        usize::from(returned) + reports,
        1,
        "cancel gave {result:?} and {reports} reports were made"
    );
}

#[test]
fn detached_local_panics_go_to_the_local_policy() {
    common::quiet_expected_panics();
    let (reports, policy) = collecting_policy();
    let ex = LocalExecutor::with_policy(policy);
    ex.spawn(async { panic!("expected panic: local detached") })
        .detach();
    ex.block_on(async {
        for _ in 0..4 {
            corio_executor::yield_now().await;
        }
    });
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].message(), Some("expected panic: local detached"));
}

#[test]
fn spawn_local_inside_block_on_uses_the_executors_policy() {
    common::quiet_expected_panics();
    let (reported, policy) = counting_policy();
    let ex = executor(policy);
    ex.block_on(async {
        corio_executor::spawn_local(async { panic!("expected panic: spawn_local") }).detach();
        for _ in 0..4 {
            corio_executor::yield_now().await;
        }
    });
    assert_eq!(reported.load(SeqCst), 1);
}

#[test]
fn each_executor_reports_to_its_own_policy() {
    common::quiet_expected_panics();
    let (a_count, a_policy) = counting_policy();
    let (b_count, b_policy) = counting_policy();
    let a = executor(a_policy);
    let b = executor(b_policy);
    for _ in 0..3 {
        a.spawn(async { panic!("expected panic: a") }).detach();
    }
    b.spawn(async { panic!("expected panic: b") }).detach();
    assert!(spin_until(LIMIT, || a_count.load(SeqCst) == 3
        && b_count.load(SeqCst) == 1));
    drop((a, b));
    assert_eq!((a_count.load(SeqCst), b_count.load(SeqCst)), (3, 1));
}

#[test]
fn a_panicking_custom_handler_does_not_take_a_worker_down() {
    common::quiet_expected_panics();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let ex = Executor::builder()
        .worker_threads(1)
        .unhandled_panic(UnhandledPanic::Custom(Arc::new(move |_| {
            c.fetch_add(1, SeqCst);
            panic!("expected panic: in the handler");
        })))
        .build()
        .unwrap();
    for _ in 0..5 {
        ex.spawn(async { panic!("expected panic: detached") })
            .detach();
    }
    assert!(spin_until(LIMIT, || calls.load(SeqCst) == 5));
    // The single worker is still alive.
    assert_eq!(ex.block_on(ex.spawn(async { 9 })).unwrap(), 9);
}

#[test]
fn shutdown_runtime_makes_block_on_panic_with_the_tasks_message() {
    common::quiet_expected_panics();
    let ex = executor(UnhandledPanic::ShutdownRuntime);
    TaskBuilder::new()
        .name("doomed")
        .spawn_on(&ex, async { panic!("expected panic: fatal") })
        .detach();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        // Pending forever, but bounded so that a broken policy fails the
        // test instead of hanging it.
        ex.block_on(timeout(LIMIT, std::future::pending::<()>()))
    }));
    let payload = caught.expect_err("block_on returned instead of panicking");
    let msg = common::panic_text(&*payload);
    assert!(msg.contains("expected panic: fatal"), "{msg}");
    assert!(msg.contains("doomed"), "{msg}");
}

#[test]
fn shutdown_runtime_panics_block_on_for_a_task_spawned_inside() {
    common::quiet_expected_panics();
    let ex = executor(UnhandledPanic::ShutdownRuntime);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        ex.block_on(async {
            corio_executor::spawn(async {
                std::thread::sleep(Duration::from_millis(20));
                panic!("expected panic: fatal later");
            })
            .detach();
            timeout(LIMIT, std::future::pending::<()>()).await
        })
    }));
    let msg = common::panic_text(&*caught.expect_err("block_on returned"));
    assert!(msg.contains("expected panic: fatal later"), "{msg}");
}

#[test]
fn shutdown_runtime_on_a_local_executor() {
    common::quiet_expected_panics();
    let ex = LocalExecutor::with_policy(UnhandledPanic::ShutdownRuntime);
    ex.spawn(async { panic!("expected panic: local fatal") })
        .detach();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        ex.block_on(timeout(LIMIT, std::future::pending::<()>()))
    }));
    let msg = common::panic_text(&*caught.expect_err("block_on returned"));
    assert!(msg.contains("expected panic: local fatal"), "{msg}");
}

#[test]
fn shutdown_runtime_ignores_awaited_panics() {
    common::quiet_expected_panics();
    let ex = executor(UnhandledPanic::ShutdownRuntime);
    let out = ex.block_on(async {
        let err = corio_executor::spawn(async { panic!("expected panic: awaited") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        // Give a wrongly made report time to arrive.
        timeout(Duration::from_millis(50), std::future::pending::<()>()).await;
        7
    });
    assert_eq!(out, 7);
}

#[test]
fn ignore_reports_nothing_and_keeps_running() {
    common::quiet_expected_panics();
    let ex = executor(UnhandledPanic::Ignore);
    let tasks: Vec<_> = (0..100)
        .map(|_| ex.spawn(async { panic!("expected panic: ignored") }))
        .collect();
    assert!(spin_until(LIMIT, || tasks.iter().all(Task::is_finished)));
    drop(tasks);
    // Unlike `ShutdownRuntime`, `block_on` is not disturbed: the bounded
    // pending future runs out its time and returns normally.
    let out = ex.block_on(timeout(
        Duration::from_millis(50),
        std::future::pending::<()>(),
    ));
    assert_eq!(out, None);
    assert_eq!(ex.block_on(ex.spawn(async { 1 })).unwrap(), 1);

    let local = LocalExecutor::with_policy(UnhandledPanic::Ignore);
    local
        .spawn(async { panic!("expected panic: ignored locally") })
        .detach();
    assert_eq!(local.block_on(async { 2 }), 2);
}

// --- A future whose destructor panics -------------------------------------
//
// async-task aborts the process when dropping a task's future panics, so
// these run in a child process (this test binary again, with one test
// selected): the parent checks that the child survived.

/// A future whose destructor panics; ready at once when `ready`.
struct PanicOnDrop {
    ready: bool,
}

impl std::future::Future for PanicOnDrop {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.ready {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{EXPECTED}: in a destructor");
    }
}

const CHILD: &str = "CORIO_PANIC_TEST_CHILD";

/// Runs `scenario` in a child process when called from the parent test;
/// asserts that the child ran the test and exited normally, and returns its
/// stderr (`None` in the child itself).
fn in_child_process(test: &str, scenario: impl FnOnce()) -> Option<String> {
    if std::env::var(CHILD).as_deref() == Ok(test) {
        common::quiet_expected_panics();
        scenario();
        return None;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--include-ignored", "--nocapture"])
        .env(CHILD, test)
        .output()
        .unwrap();
    // What the child said, without backtraces.
    let said = |bytes: &[u8]| -> String {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.trim().is_empty())
            .take(12)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (stdout, stderr) = (said(&out.stdout), said(&out.stderr));
    assert!(
        out.status.success(),
        "the process died ({}):\n{stderr}\n{stdout}",
        out.status
    );
    assert!(
        stdout.contains("1 passed"),
        "the child did not run the test:\n{stdout}"
    );
    Some(String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `UnhandledPanic::Log` (the default) writes one line per unobserved
/// panic on stderr; run in a child process to read that stderr.
#[test]
fn log_prints_one_line_per_unobserved_panic() {
    let stderr = in_child_process("log_prints_one_line_per_unobserved_panic", || {
        let ex = Executor::builder().worker_threads(2).build().unwrap();
        let b = TaskBuilder::new().name("logged");
        let fut = async { panic!("expected panic: logged") };
        let (named, l) = (b.spawn_on(&ex, fut), line!());
        named.detach();
        let unnamed = ex.spawn(async { panic!("expected panic: unnamed") });
        assert!(spin_until(LIMIT, || unnamed.is_finished()));
        drop(unnamed);
        // Awaited: not logged.
        let awaited = ex.spawn(async { panic!("expected panic: awaited") });
        assert!(ex.block_on(awaited).unwrap_err().is_panic());
        std::thread::sleep(Duration::from_millis(50));
        drop(ex);
        eprintln!("line={l}");
    });
    let Some(stderr) = stderr else { return };
    let logged: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("corio: "))
        .collect();
    assert_eq!(logged.len(), 2, "{stderr}");
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("line="))
        .expect("the child reports its spawn line");
    let named = format!("corio: task 'logged' spawned at {}:{line}:", file!());
    assert!(
        logged.iter().any(|l| l.starts_with(&named)
            && l.ends_with("panicked and nobody awaited it: expected panic: logged")),
        "{stderr}"
    );
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with("corio: task spawned at ")
                && l.ends_with("nobody awaited it: expected panic: unnamed")),
        "{stderr}"
    );
}

#[test]
fn destructor_panic_after_completion_does_not_abort() {
    let _ = in_child_process("destructor_panic_after_completion_does_not_abort", || {
        let ex = executor(UnhandledPanic::Ignore);
        let result = ex.block_on(timeout(LIMIT, ex.spawn(PanicOnDrop { ready: true })));
        let err = result.expect("awaiting the task hung").unwrap_err();
        // The destructor's panic becomes the task's panic.
        assert!(err.is_panic(), "{err}");
    });
}

#[test]
fn destructor_panic_on_cancel_does_not_abort() {
    let _ = in_child_process("destructor_panic_on_cancel_does_not_abort", || {
        let ex = executor(UnhandledPanic::Ignore);
        let task = ex.spawn(PanicOnDrop { ready: false });
        std::thread::sleep(Duration::from_millis(20));
        let result = ex.block_on(timeout(LIMIT, task.cancel()));
        assert!(result.expect("cancel hung").is_err());
    });
}

#[test]
fn destructor_panic_at_shutdown_does_not_abort() {
    let _ = in_child_process("destructor_panic_at_shutdown_does_not_abort", || {
        let ex = executor(UnhandledPanic::Ignore);
        ex.spawn(PanicOnDrop { ready: false }).detach();
        std::thread::sleep(Duration::from_millis(20));
        let _ = catch_unwind(AssertUnwindSafe(|| drop(ex)));
    });
}
