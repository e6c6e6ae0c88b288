//! corio-sync needs no runtime: the same primitives under tokio's and smol's
//! executors (async-executor), on several threads each.

#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use corio_sync::{promise, Event, Lock, Queue, Semaphore};

/// Producers, consumers, a lock, a semaphore, an event and a promise, all at
/// once; `spawn` is the runtime's own. Returns the consumers' sum.
async fn workload<S, J>(spawn: S) -> u64
where
    S: Fn(std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>>) -> J,
    J: std::future::Future<Output = u64>,
{
    const ITEMS: u64 = 2_000;
    let queue = Arc::new(Queue::new(8));
    let total = Arc::new(Lock::new(0u64));
    let limit = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    let go = Arc::new(Event::new());
    let (resolver, answer) = promise::<u64>();

    let mut producers = Vec::new();
    for p in 0..2 {
        let (queue, go) = (queue.clone(), go.clone());
        producers.push(spawn(Box::pin(async move {
            go.wait().await;
            for i in 0..ITEMS / 2 {
                queue.put(p * (ITEMS / 2) + i).await.unwrap();
            }
            0
        })));
    }
    let mut consumers = Vec::new();
    for _ in 0..3 {
        let (queue, total, limit, inside) =
            (queue.clone(), total.clone(), limit.clone(), inside.clone());
        consumers.push(spawn(Box::pin(async move {
            while let Ok(v) = queue.get().await {
                let _permit = limit.acquire().await.unwrap();
                assert!(
                    inside.fetch_add(1, Ordering::SeqCst) < 2,
                    "semaphore bound broken"
                );
                *total.lock().await += v;
                inside.fetch_sub(1, Ordering::SeqCst);
                queue.task_done().unwrap();
            }
            0
        })));
    }
    let setter = std::thread::spawn(move || resolver.set_result(7).unwrap());
    go.set();
    for p in producers {
        p.await;
    }
    // Every item is in; join() waits until each one was marked done.
    queue.join().await;
    queue.shutdown(false);
    for c in consumers {
        c.await;
    }
    setter.join().unwrap();
    let sum = *total.lock().await;
    sum + answer.await.unwrap()
}

fn expected() -> u64 {
    (0..2_000u64).sum::<u64>() + 7
}

#[test]
fn under_tokio_multi_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(3)
        .build()
        .unwrap();
    let sum = rt.block_on(async {
        workload(|fut| {
            let handle = tokio::spawn(fut);
            async move { handle.await.unwrap() }
        })
        .await
    });
    assert_eq!(sum, expected());
}

#[test]
fn under_tokio_current_thread() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let sum = rt.block_on(async {
        workload(|fut| {
            let handle = tokio::spawn(fut);
            async move { handle.await.unwrap() }
        })
        .await
    });
    assert_eq!(sum, expected());
}

#[test]
fn under_smol_executor() {
    let ex = Arc::new(async_executor::Executor::new());
    let (stop, stopped) = promise::<()>();
    let stopped = Arc::new(Lock::new(Some(stopped)));
    let runners: Vec<_> = (0..3)
        .map(|_| {
            let (ex, stopped) = (ex.clone(), stopped.clone());
            std::thread::spawn(move || {
                futures_lite::future::block_on(ex.run(async move {
                    // One runner holds the promise; the others wait for the lock it keeps.
                    let mut slot = stopped.lock().await;
                    if let Some(p) = slot.take() {
                        let _ = p.await;
                    }
                }))
            })
        })
        .collect();
    let sum = futures_lite::future::block_on(workload(|fut| ex.spawn(fut)));
    assert_eq!(sum, expected());
    stop.set_result(()).unwrap();
    for r in runners {
        r.join().unwrap();
    }
}
