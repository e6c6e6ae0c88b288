//! The facade's runtimes: `corio::run` (asyncio.run: pending tasks are
//! cancelled before it returns, the main future need not be `Send`),
//! `Runtime` in both flavours (where tasks run, worker thread names,
//! spawning before `block_on` and through a `Handle` from other threads,
//! the unhandled-panic policy) and the message of `spawn` outside a runtime.

use std::collections::HashSet;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use corio::{Runtime, UnhandledPanic};

const LIMIT: Duration = Duration::from_secs(10);

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// A future that completes after `d`, woken by a helper thread.
fn sleep(d: Duration) -> impl Future<Output = ()> {
    let done = Arc::new(AtomicBool::new(false));
    let waker: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let (dn, w) = (done.clone(), waker.clone());
    thread::spawn(move || {
        thread::sleep(d);
        dn.store(true, SeqCst);
        if let Some(w) = w.lock().unwrap().take() {
            w.wake();
        }
    });
    poll_fn(move |cx| {
        *waker.lock().unwrap() = Some(cx.waker().clone());
        if done.load(SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Keeps the panics this file provokes on purpose off stderr; every other
/// panic (a failing assertion) is still printed.
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = panic_text(info.payload());
            let expected = [
                "expected panic",
                "corio runtime shut down:",
                "corio::spawn called",
            ];
            if !expected.iter().any(|e| msg.starts_with(e)) {
                default(info);
            }
        }));
    });
}

fn both_flavours() -> [(&'static str, Runtime); 2] {
    [
        (
            "multi_thread",
            Runtime::builder().worker_threads(2).build().unwrap(),
        ),
        (
            "current_thread",
            Runtime::builder().current_thread().build().unwrap(),
        ),
    ]
}

#[test]
fn run_cancels_pending_tasks_before_it_returns() {
    let started_dropped = Arc::new(AtomicBool::new(false));
    let queued_dropped = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let (sd, qd, st) = (
        started_dropped.clone(),
        queued_dropped.clone(),
        started.clone(),
    );
    let out = corio::run(async move {
        // A task that started and now waits forever...
        corio::spawn(async move {
            let _flag = DropFlag(sd);
            st.store(true, SeqCst);
            std::future::pending::<()>().await;
        })
        .detach();
        let deadline = Instant::now() + LIMIT;
        while !started.load(SeqCst) && Instant::now() < deadline {
            corio::yield_now().await;
        }
        // ...and one spawned just before `run` returns.
        let flag = DropFlag(qd);
        corio::spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        })
        .detach();
        "done"
    });
    assert_eq!(out, "done");
    assert!(
        started_dropped.load(SeqCst),
        "the started task outlived run"
    );
    assert!(queued_dropped.load(SeqCst), "the queued task outlived run");
}

#[test]
fn run_accepts_a_main_future_that_is_not_send() {
    let out = corio::run(async {
        let rc = Rc::new(20);
        corio::yield_now().await;
        let local = corio::spawn_local({
            let rc = rc.clone();
            async move { *rc + 1 }
        });
        *rc + local.await.unwrap() + corio::spawn(async { 1 }).await.unwrap()
    });
    assert_eq!(out, 42);
}

#[test]
fn current_thread_runs_spawned_tasks_on_the_calling_thread() {
    let rt = Runtime::builder().current_thread().build().unwrap();
    let me = thread::current().id();
    let ids = rt.block_on(async {
        let tasks: Vec<_> = (0..10)
            .map(|_| corio::spawn(async { thread::current().id() }))
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids
    });
    assert_eq!(ids.len(), 10);
    assert!(ids.iter().all(|&id| id == me));
}

#[test]
fn worker_threads_and_thread_name_shape_the_pool() {
    let rt = Runtime::builder()
        .worker_threads(3)
        .thread_name("x")
        .build()
        .unwrap();
    let names = rt.block_on(async {
        let mut names = HashSet::new();
        let deadline = Instant::now() + LIMIT;
        // Tasks that block their worker for a moment, so that every worker
        // gets some of the work.
        while names.len() < 3 && Instant::now() < deadline {
            let tasks: Vec<_> = (0..30)
                .map(|_| {
                    corio::spawn(async {
                        thread::sleep(Duration::from_millis(1));
                        thread::current().name().unwrap_or("").to_string()
                    })
                })
                .collect();
            for t in tasks {
                names.insert(t.await.unwrap());
            }
        }
        names
    });
    let expected: HashSet<String> = ["x-0", "x-1", "x-2"].map(String::from).into();
    assert_eq!(names, expected);
}

#[test]
fn runtime_spawn_before_block_on() {
    // Multi-threaded: the task runs at once, on a worker.
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let task = rt.spawn(async move {
        r.store(true, SeqCst);
        3
    });
    let deadline = Instant::now() + LIMIT;
    while !ran.load(SeqCst) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    assert!(ran.load(SeqCst), "the task did not start before block_on");
    assert_eq!(rt.block_on(task).unwrap(), 3);

    // Current-thread: the task waits for `block_on`, then runs on this thread.
    let rt = Runtime::builder().current_thread().build().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let task = rt.spawn(async move {
        r.store(true, SeqCst);
        thread::current().id()
    });
    thread::sleep(Duration::from_millis(20));
    assert!(!ran.load(SeqCst));
    assert_eq!(rt.block_on(task).unwrap(), thread::current().id());
}

#[test]
fn handle_spawns_from_another_thread() {
    let me = thread::current().id();
    for (flavour, rt) in both_flavours() {
        let handle = rt.handle();
        let task = thread::spawn(move || {
            handle.clone().spawn(async {
                let t = thread::current();
                (t.id(), t.name().unwrap_or("").to_string())
            })
        })
        .join()
        .unwrap();
        let (id, name) = rt.block_on(task).unwrap();
        match flavour {
            "current_thread" => assert_eq!(id, me, "{flavour}"),
            _ => assert!(name.starts_with("corio-worker-"), "{flavour}: {name}"),
        }
    }
}

#[test]
fn dropping_a_runtime_cancels_its_pending_tasks() {
    for (flavour, rt) in both_flavours() {
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = DropFlag(dropped.clone());
        rt.block_on(async move {
            corio::spawn(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            })
            .detach();
            corio::yield_now().await;
        });
        drop(rt);
        assert!(dropped.load(SeqCst), "{flavour}");
    }
}

#[test]
fn unhandled_panic_policy_reaches_both_flavours() {
    quiet_expected_panics();
    for custom in [false, true] {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let policy = if custom {
            UnhandledPanic::Custom(Arc::new(move |_| {
                c.fetch_add(1, SeqCst);
            }))
        } else {
            UnhandledPanic::ShutdownRuntime
        };
        for current in [false, true] {
            let builder = Runtime::builder().unhandled_panic(policy.clone());
            let builder = if current {
                builder.current_thread()
            } else {
                builder.worker_threads(2)
            };
            let rt = builder.build().unwrap();
            let caught = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async {
                    corio::spawn(async { panic!("expected panic: lost task") }).detach();
                    // Long enough for the report; bounded for `Custom`.
                    sleep(Duration::from_millis(if custom { 200 } else { 10_000 })).await;
                })
            }));
            if custom {
                assert!(caught.is_ok());
            } else {
                let msg = panic_text(&*caught.expect_err("block_on did not panic"));
                assert!(msg.contains("lost task"), "{msg}");
            }
        }
        if custom {
            assert_eq!(count.load(SeqCst), 2);
        }
    }
}

#[test]
fn spawn_outside_a_runtime_panics_helpfully() {
    quiet_expected_panics();
    let caught = catch_unwind(|| corio::spawn(async {})).unwrap_err();
    let msg = panic_text(&*caught);
    assert!(msg.contains("outside a runtime"), "{msg}");
    assert!(
        msg.contains("corio::run"),
        "the message says what to do: {msg}"
    );

    let caught = catch_unwind(|| corio::task::spawn(async {})).unwrap_err();
    assert!(panic_text(&*caught).contains("outside a runtime"));
}
