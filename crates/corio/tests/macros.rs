//! `#[corio::main]` and `#[corio::test]`, used through the facade's re-exports.
//!
//! The attributes' argument parsing and error messages are unit-tested inside
//! corio-macros; these tests check that the expansion compiles against the real
//! runtime API and that each flavour runs tasks where it promises to.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

#[corio::test]
async fn default_flavor_runs_the_body() {
    let answer = corio::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer, 42);
}

#[corio::test(flavor = "multi_thread")]
async fn explicit_multi_thread_flavor_runs_the_body() {
    let answer = corio::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer, 42);
}

#[corio::test(flavor = "current_thread")]
async fn current_thread_flavor_runs_the_body() {
    let answer = corio::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer, 42);
}

#[corio::test(worker_threads = 2)]
async fn worker_threads_runs_the_body() {
    let answer = corio::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer, 42);
}

#[corio::test]
async fn test_may_return_a_result() -> Result<(), String> {
    // `?` leaves the body with the function's error type.
    let parsed: u32 = "42".parse().map_err(|e| format!("{e}"))?;
    let answer = corio::spawn(async move { parsed }).await.unwrap();
    if answer != 42 {
        return Err(format!("expected 42, got {answer}"));
    }
    Ok(())
}

#[corio::test(flavor = "current_thread")]
#[should_panic(expected = "raised inside the body")]
async fn attributes_are_kept() {
    panic!("raised inside the body");
}

#[corio::test(flavor = "current_thread")]
async fn current_thread_runs_spawned_tasks_on_the_blocking_thread() {
    // The test harness's thread is the one that blocks on the body.
    let blocking_thread = thread::current().id();
    let task_thread = corio::spawn(async { thread::current().id() })
        .await
        .unwrap();
    assert_eq!(task_thread, blocking_thread);
}

#[corio::test(worker_threads = 2)]
async fn multi_thread_runs_spawned_tasks_on_worker_threads() {
    let blocking_thread = thread::current().id();
    let task_thread = corio::spawn(async { thread::current().id() })
        .await
        .unwrap();
    assert_ne!(task_thread, blocking_thread);
}

#[corio::test(worker_threads = 2)]
async fn two_worker_threads_run_two_tasks_at_once() {
    // Each task blocks its worker until it hears from the other one, so both can
    // only succeed if they run at the same time on different workers. With a single
    // worker the first task times out instead of hanging the test.
    const PATIENCE: Duration = Duration::from_secs(10);
    let (to_a, from_b) = mpsc::channel();
    let (to_b, from_a) = mpsc::channel();
    let a = corio::spawn(async move {
        to_b.send(()).unwrap();
        from_b.recv_timeout(PATIENCE).is_ok()
    });
    let b = corio::spawn(async move {
        to_a.send(()).unwrap();
        from_a.recv_timeout(PATIENCE).is_ok()
    });
    assert!(a.await.unwrap(), "a never heard from b");
    assert!(b.await.unwrap(), "b never heard from a");
}

/// A crate that re-exports corio under another name.
mod reexport {
    pub(crate) use corio as runtime;
}

#[corio::test(crate = "reexport::runtime", flavor = "current_thread")]
async fn crate_argument_names_the_corio_path() {
    let answer = corio::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer, 42);
}

/// `#[corio::main]` in a module, so that a test can call the generated `main`.
mod app {
    #[corio::main(flavor = "current_thread")]
    pub(super) async fn main() -> Result<u32, String> {
        let answer = corio::spawn(async { 6 * 7 }).await.unwrap();
        Ok(answer)
    }

    pub(super) mod multi {
        #[corio::main(worker_threads = 2)]
        pub(crate) async fn main() -> u32 {
            corio::spawn(async { 6 * 7 }).await.unwrap()
        }
    }
}

#[test]
fn main_attribute_blocks_on_the_body() {
    assert_eq!(app::main(), Ok(42));
    assert_eq!(app::multi::main(), 42);
}
