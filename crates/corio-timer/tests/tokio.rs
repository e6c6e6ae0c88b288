//! corio-timer needs no runtime of its own: its futures work on tokio's
//! multi-threaded runtime (built without tokio's timer driver), with the
//! helper thread firing timers for tasks spread over tokio's workers.

use std::time::{Duration, Instant};

use corio_timer::{interval, sleep_until, timeout, Elapsed};

#[test]
fn sleeps_timeouts_and_intervals_on_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..10_000u64)
            .map(|i| {
                let deadline = start + Duration::from_millis(1 + i % 30);
                tokio::spawn(async move {
                    sleep_until(deadline).await;
                    assert!(Instant::now() >= deadline);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let slow = tokio::spawn(timeout(
            Duration::from_millis(5),
            std::future::pending::<()>(),
        ));
        assert_eq!(slow.await.unwrap(), Err(Elapsed::new()));
        let ticks = tokio::spawn(async {
            let mut every = interval(Duration::from_millis(2));
            let first = every.tick().await;
            let mut last = first;
            for _ in 0..5 {
                last = every.tick().await;
            }
            last - first
        });
        assert_eq!(ticks.await.unwrap(), Duration::from_millis(10));
    });
}
