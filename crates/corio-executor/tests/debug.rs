//! Debug mode: slow polls are reported with the task's name and spawn site,
//! fast ones never; tasks a shutdown cancels are reported; `CORIO_DEBUG`
//! switches it on.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio_executor::{
    Diagnostics, Executor, LocalExecutor, SlowPoll, TaskBuilder, ThreadPark, UnhandledPanic,
};

const THRESHOLD: Duration = Duration::from_millis(30);

/// Diagnostics that collect slow-poll reports into the returned list.
fn collecting() -> (Diagnostics, Arc<Mutex<Vec<SlowPoll>>>) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let d = Diagnostics::new()
        .slow_poll_threshold(Some(THRESHOLD))
        .on_slow_poll(move |slow| sink.lock().unwrap().push(slow.clone()));
    (d, reports)
}

#[test]
fn a_blocking_task_is_reported_by_name_and_spawn_site_on_the_worker_pool() {
    let (d, reports) = collecting();
    let ex = Executor::builder()
        .worker_threads(2)
        .diagnostics(d)
        .build()
        .unwrap();
    let line = line!() + 3;
    let blocker = TaskBuilder::new()
        .name("blocker")
        .spawn_on(&ex, async { std::thread::sleep(THRESHOLD * 2) });
    // Many quick tasks around it: none of them is reported.
    let quick: Vec<_> = (0..200)
        .map(|i| {
            ex.spawn(async move {
                corio_executor::yield_now().await;
                i
            })
        })
        .collect();
    ex.block_on(async {
        blocker.await.unwrap();
        for t in quick {
            t.await.unwrap();
        }
    });
    let reports = reports.lock().unwrap();
    // A quick task could only be reported if the OS stalled its poll past
    // the threshold, which the report would then show.
    assert!(
        reports.iter().all(|r| r.elapsed() >= THRESHOLD),
        "{reports:?}"
    );
    let blockers: Vec<_> = reports
        .iter()
        .filter(|r| r.task_name() == Some("blocker"))
        .collect();
    assert_eq!(blockers.len(), 1, "{reports:?}");
    let slow = blockers[0];
    assert_eq!(slow.spawn_location().file(), file!());
    assert_eq!(slow.spawn_location().line(), line);
    assert!(slow.elapsed() >= THRESHOLD * 2);
    assert_eq!(slow.threshold(), THRESHOLD);
}

#[test]
fn without_a_threshold_nothing_is_timed() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let d = Diagnostics::new().on_slow_poll(move |s| sink.lock().unwrap().push(s.clone()));
    let ex = Executor::builder().diagnostics(d).build().unwrap();
    let t = ex.spawn(async { std::thread::sleep(Duration::from_millis(40)) });
    ex.block_on(t).unwrap();
    assert!(reports.lock().unwrap().is_empty());
}

#[test]
fn each_slow_poll_of_a_task_is_reported_not_its_total_time() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let threshold = Duration::from_millis(60);
    let d = Diagnostics::new()
        .slow_poll_threshold(Some(threshold))
        .on_slow_poll(move |slow| sink.lock().unwrap().push(slow.clone()));
    let ex = LocalExecutor::with_diagnostics(UnhandledPanic::Log, Arc::new(ThreadPark::new()), d);
    // Eight polls of 10 ms each: 80 ms in all, never 60 ms in one poll.
    let patient = TaskBuilder::new()
        .name("patient")
        .spawn_local_on(&ex, async {
            for _ in 0..8 {
                std::thread::sleep(Duration::from_millis(10));
                corio_executor::yield_now().await;
            }
        });
    ex.block_on(patient).unwrap();
    // One poll of 80 ms, between two quick ones.
    let greedy = TaskBuilder::new()
        .name("greedy")
        .spawn_local_on(&ex, async {
            corio_executor::yield_now().await;
            std::thread::sleep(Duration::from_millis(80));
            corio_executor::yield_now().await;
        });
    ex.block_on(greedy).unwrap();
    let reports = reports.lock().unwrap();
    let named = |n| reports.iter().filter(|r| r.task_name() == Some(n)).count();
    assert_eq!(named("greedy"), 1, "{reports:?}");
    // Unless the OS stalled one of its 10 ms polls by 50 ms, which the
    // report would show.
    assert!(
        reports
            .iter()
            .filter(|r| r.task_name() == Some("patient"))
            .all(|r| r.elapsed() >= threshold),
        "{reports:?}"
    );
    assert!(named("patient") <= 1, "{reports:?}");
}

#[test]
fn a_slow_block_on_future_is_reported_where_block_on_was_called() {
    let (d, reports) = collecting();
    let ex = LocalExecutor::with_diagnostics(UnhandledPanic::Log, Arc::new(ThreadPark::new()), d);
    let line = line!() + 1;
    ex.block_on(async { std::thread::sleep(THRESHOLD * 2) });
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].task_name(), Some("block_on"));
    assert_eq!(reports[0].spawn_location().file(), file!());
    assert_eq!(reports[0].spawn_location().line(), line);
}

/// The child side of the tests below: runs when `CORIO_DEBUG_TEST_CHILD`
/// names a scenario, and is a no-op otherwise.
#[test]
fn child_scenario() {
    let Ok(scenario) = std::env::var("CORIO_DEBUG_TEST_CHILD") else {
        return;
    };
    let ex = Executor::builder()
        .worker_threads(1)
        .diagnostics(Diagnostics::from_env())
        .build()
        .unwrap();
    match scenario.as_str() {
        "slow_and_pending" => {
            let blocked = TaskBuilder::new().name("sleeper").spawn_on(&ex, async {
                std::thread::sleep(Duration::from_millis(150))
            });
            ex.block_on(blocked).unwrap();
            // Never finishes: the shutdown cancels it.
            TaskBuilder::new()
                .name("forever")
                .spawn_on(&ex, std::future::pending::<()>())
                .detach();
            ex.block_on(corio_executor::yield_now());
            drop(ex);
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// Runs [`child_scenario`] in a fresh process with `CORIO_DEBUG` set to
/// `debug`; returns its standard error.
fn run_child(scenario: &str, debug: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_scenario",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CORIO_DEBUG_TEST_CHILD", scenario)
        .env("CORIO_DEBUG", debug)
        .output()
        .unwrap();
    assert!(out.status.success(), "child failed: {out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn corio_debug_logs_slow_polls_and_tasks_pending_at_shutdown() {
    let err = run_child("slow_and_pending", "1");
    let slow = err
        .lines()
        .find(|l| l.starts_with("corio: task 'sleeper' spawned at "))
        .unwrap_or_else(|| panic!("no slow-poll report in:\n{err}"));
    assert!(slow.contains(file!()), "{slow}");
    assert!(slow.contains("in one poll (threshold 100 ms)"), "{slow}");
    let pending = err
        .lines()
        .find(|l| l.starts_with("corio: task 'forever' spawned at "))
        .unwrap_or_else(|| panic!("no pending-at-shutdown report in:\n{err}"));
    assert!(
        pending.ends_with("was still pending when its runtime shut down; it was cancelled"),
        "{pending}"
    );
    // It finished: reported once, for its slow poll, not at shutdown.
    assert_eq!(err.matches("'sleeper'").count(), 1, "{err}");
}

#[test]
fn without_corio_debug_nothing_is_logged() {
    for off in ["", "0"] {
        let err = run_child("slow_and_pending", off);
        assert!(!err.contains("corio: task"), "CORIO_DEBUG={off:?}:\n{err}");
    }
}
