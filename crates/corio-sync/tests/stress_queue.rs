//! Stress: many producers and consumers on a bounded queue, on the
//! multi-threaded executor, with random cancellation of puts and gets.
//!
//! Every item is a `Token` that records, if a cancelled put drops it instead
//! of admitting it, that its producer must put it again. Consumers count each
//! id they receive; at the end every id must have been received exactly once:
//! nothing lost (a dropped getter passes its item on), nothing delivered twice.

use std::cmp::Ordering as CmpOrdering;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use corio_sync::{GetError, LifoQueue, PriorityQueue, Queue};
use futures_lite::future;

const PRODUCERS: usize = 8;
const CONSUMERS: usize = 8;

/// xorshift64*: a tiny deterministic PRNG per task.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// An item; if dropped without being received, it files its id for a retry.
struct Token {
    id: u32,
    retry: Arc<Mutex<Vec<u32>>>,
    received: bool,
}

impl Token {
    fn receive(mut self) -> u32 {
        self.received = true;
        self.id
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        if !self.received {
            self.retry.lock().unwrap().push(self.id);
        }
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Token {}

impl PartialOrd for Token {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Token {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        // Few distinct priorities, so ties (kept in insertion order) are common.
        (self.id % 7).cmp(&(other.id % 7))
    }
}

/// Runs the stress on one queue kind. A macro because the three kinds share
/// their methods but no trait.
macro_rules! stress {
    ($Kind:ident, $items:expr, $maxsize:expr) => {{
        let items: usize = $items;
        let ex = corio_executor::Executor::builder()
            .worker_threads(4)
            .build()
            .unwrap();
        let counts: Arc<Vec<AtomicU8>> = Arc::new((0..items).map(|_| AtomicU8::new(0)).collect());
        let cancelled = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        ex.block_on(async {
            let q = Arc::new($Kind::new($maxsize));
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let q = q.clone();
                    let cancelled = cancelled.clone();
                    corio_executor::spawn(async move {
                        let retry = Arc::new(Mutex::new(Vec::new()));
                        let mut rng = Rng::new(p as u64 + 1);
                        let mut next = (p..items).step_by(PRODUCERS);
                        loop {
                            let id = match retry.lock().unwrap().pop() {
                                Some(id) => id,
                                None => match next.next() {
                                    Some(id) => id as u32,
                                    None => break,
                                },
                            };
                            let token = Token {
                                id,
                                retry: retry.clone(),
                                received: false,
                            };
                            match rng.below(8) {
                                // Cancelled after one poll: admitted, or
                                // dropped (and filed for retry).
                                0 => {
                                    if future::poll_once(q.put(token)).await.is_none() {
                                        cancelled.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                                // Raced against a yield: polled once or twice.
                                1 => {
                                    let put = async { Some(q.put(token).await) };
                                    let give_up = async {
                                        corio_executor::yield_now().await;
                                        None
                                    };
                                    if future::or(put, give_up).await.is_none() {
                                        cancelled.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                                // Polled once, dropped after a yield: its
                                // item may have been admitted meanwhile.
                                2 => {
                                    let mut put = q.put(token);
                                    if future::poll_once(&mut put).await.is_none() {
                                        corio_executor::yield_now().await;
                                        drop(put);
                                        cancelled.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                                _ => {
                                    assert!(q.put(token).await.is_ok());
                                }
                            }
                        }
                        assert!(retry.lock().unwrap().is_empty());
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|c| {
                    let q = q.clone();
                    let counts = counts.clone();
                    let cancelled = cancelled.clone();
                    corio_executor::spawn(async move {
                        let mut rng = Rng::new(1000 + c as u64);
                        let mut got = 0usize;
                        loop {
                            let res = match rng.below(8) {
                                0 => match future::poll_once(q.get()).await {
                                    Some(res) => res,
                                    None => {
                                        cancelled.fetch_add(1, Ordering::Relaxed);
                                        corio_executor::yield_now().await;
                                        continue;
                                    }
                                },
                                1 => {
                                    let get = async { Some(q.get().await) };
                                    let give_up = async {
                                        corio_executor::yield_now().await;
                                        corio_executor::yield_now().await;
                                        None
                                    };
                                    match future::or(get, give_up).await {
                                        Some(res) => res,
                                        None => {
                                            cancelled.fetch_add(1, Ordering::Relaxed);
                                            continue;
                                        }
                                    }
                                }
                                // Polled once, then dropped a little later
                                // without another poll: an item handed to it
                                // meanwhile must be passed on.
                                2 => {
                                    let mut get = q.get();
                                    match future::poll_once(&mut get).await {
                                        Some(res) => res,
                                        None => {
                                            corio_executor::yield_now().await;
                                            corio_executor::yield_now().await;
                                            drop(get);
                                            cancelled.fetch_add(1, Ordering::Relaxed);
                                            continue;
                                        }
                                    }
                                }
                                3 => match q.get_nowait() {
                                    Err(GetError::Empty) => {
                                        corio_executor::yield_now().await;
                                        continue;
                                    }
                                    other => other,
                                },
                                _ => q.get().await,
                            };
                            match res {
                                Ok(token) => {
                                    let id = token.receive() as usize;
                                    let before = counts[id].fetch_add(1, Ordering::Relaxed);
                                    assert_eq!(before, 0, "item {id} delivered twice");
                                    got += 1;
                                    q.task_done().unwrap();
                                }
                                Err(GetError::ShutDown) => return got,
                                Err(GetError::Empty) => unreachable!(),
                            }
                        }
                    })
                })
                .collect();
            for p in producers {
                p.await.unwrap();
            }
            // Every item admitted; wait until every one was received.
            q.join().await;
            assert_eq!(q.qsize(), 0);
            q.shutdown(false);
            let mut total = 0;
            for c in consumers {
                total += c.await.unwrap();
            }
            assert_eq!(total, items);
        });
        let missing: Vec<_> = (0..items)
            .filter(|&i| counts[i].load(Ordering::Relaxed) != 1)
            .take(10)
            .collect();
        assert!(
            missing.is_empty(),
            "items not delivered exactly once: {missing:?}"
        );
        let cancelled = cancelled.load(Ordering::Relaxed);
        assert!(cancelled > 0, "the run cancelled nothing");
        eprintln!(
            "{}: {items} items, {cancelled} cancelled futures, {:?}",
            stringify!($Kind),
            start.elapsed()
        );
    }};
}

#[test]
fn fifo_bounded_with_cancellation() {
    stress!(Queue, 200_000, 16);
}

#[test]
fn fifo_capacity_one_with_cancellation() {
    stress!(Queue, 50_000, 1);
}

#[test]
fn priority_bounded_with_cancellation() {
    stress!(PriorityQueue, 50_000, 16);
}

#[test]
fn lifo_bounded_with_cancellation() {
    stress!(LifoQueue, 50_000, 16);
}

#[test]
fn fifo_unbounded_with_cancellation() {
    stress!(Queue, 50_000, 0);
}

#[test]
#[ignore = "long: cargo xtask test --stress"]
fn fifo_bounded_with_cancellation_1m() {
    stress!(Queue, 1_000_000, 64);
}

#[test]
#[ignore = "long: cargo xtask test --stress"]
fn priority_and_lifo_with_cancellation_long() {
    stress!(PriorityQueue, 300_000, 32);
    stress!(LifoQueue, 300_000, 32);
}
