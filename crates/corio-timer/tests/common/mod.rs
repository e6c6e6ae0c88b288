//! Helpers shared by the test files: a join of many futures that polls only
//! the woken ones, a counting waker, a small random generator, and a lock
//! that serializes the tests that look at process-wide counts.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// Serializes the tests of one file that look at process-wide state (the
/// pending-timer count, the driver claim): tests run on parallel threads.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits (polling, bounded) until no timer is pending, then returns the count.
pub fn settle_pending() -> usize {
    let limit = Instant::now() + Duration::from_secs(5);
    while corio_timer::__pending_timers() != 0 && Instant::now() < limit {
        std::thread::sleep(Duration::from_millis(1));
    }
    corio_timer::__pending_timers()
}

/// A waker that counts its wake-ups.
#[derive(Default)]
pub struct CountingWaker {
    pub wakes: AtomicUsize,
}

impl CountingWaker {
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let c = Arc::new(CountingWaker::default());
        (c.clone(), Waker::from(c))
    }

    pub fn count(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `fut` once with `waker`.
pub fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// Waits until `cond` holds, polling every millisecond; panics after `limit`.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !cond() {
        assert!(
            Instant::now() < end,
            "condition not reached within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// xorshift64*: deterministic, dependency-free randomness.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// Runs every future to completion, concurrently, and returns their outputs
/// in order. Only the futures whose wakers fired are polled again, so a join
/// of 100,000 sleeps costs O(wake-ups), not O(n) per wake-up.
pub fn join_all<F: Future>(futures: Vec<F>) -> JoinAll<F> {
    let n = futures.len();
    let ready = Arc::new(ReadyQueue {
        queue: Mutex::new(Vec::new()),
        parent: Mutex::new(None),
    });
    let wakers = (0..n)
        .map(|idx| {
            Waker::from(Arc::new(ChildWaker {
                idx,
                ready: ready.clone(),
            }))
        })
        .collect();
    JoinAll {
        futures: futures.into_iter().map(|f| Some(Box::pin(f))).collect(),
        outputs: (0..n).map(|_| None).collect(),
        wakers,
        ready,
        started: false,
        left: n,
    }
}

pub struct JoinAll<F: Future> {
    futures: Vec<Option<Pin<Box<F>>>>,
    outputs: Vec<Option<F::Output>>,
    wakers: Vec<Waker>,
    ready: Arc<ReadyQueue>,
    started: bool,
    left: usize,
}

struct ReadyQueue {
    queue: Mutex<Vec<usize>>,
    parent: Mutex<Option<Waker>>,
}

struct ChildWaker {
    idx: usize,
    ready: Arc<ReadyQueue>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.queue.lock().unwrap().push(self.idx);
        let parent = self.ready.parent.lock().unwrap().clone();
        if let Some(w) = parent {
            w.wake();
        }
    }
}

impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = &mut *self;
        *this.ready.parent.lock().unwrap() = Some(cx.waker().clone());
        let batch: Vec<usize> = if this.started {
            std::mem::take(&mut *this.ready.queue.lock().unwrap())
        } else {
            this.started = true;
            (0..this.futures.len()).collect()
        };
        for idx in batch {
            let Some(fut) = this.futures[idx].as_mut() else {
                continue;
            };
            let mut cx = Context::from_waker(&this.wakers[idx]);
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                this.outputs[idx] = Some(out);
                this.futures[idx] = None;
                this.left -= 1;
            }
        }
        if this.left == 0 {
            Poll::Ready(this.outputs.iter_mut().map(|o| o.take().unwrap()).collect())
        } else {
            Poll::Pending
        }
    }
}
