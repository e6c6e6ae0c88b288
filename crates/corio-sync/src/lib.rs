//! asyncio's synchronization primitives for Rust, for any async runtime.
//!
//! Python's `asyncio` gives a coroutine program its `Lock`, `Event`,
//! `Condition`, `Semaphore`, `Barrier` and `Queue`. This crate gives the same
//! to async Rust, with asyncio's semantics said the Rust way: **cancellation is
//! dropping the future**. It needs no runtime — no corio, no tokio: only wakers
//! — so everything here works under corio, tokio, smol or any other executor.
//!
//! | asyncio | corio-sync |
//! |---|---|
//! | `asyncio.Lock()`; `async with lock:` | [`Lock<T>`]; `let guard = lock.lock().await;` (the lock guards a value) |
//! | `asyncio.Event()` | [`Event`]: `set`, `clear`, `is_set`, `wait().await` |
//! | `asyncio.Condition()` | [`Condition<T>`]: `lock`, `wait(guard)`, `wait_for(guard, pred)`, `notify(n)`, `notify_all` |
//! | `asyncio.Semaphore(n)`; `async with sem:` | [`Semaphore`]; `let _permit = sem.acquire().await?;` |
//! | `asyncio.BoundedSemaphore(n)` | [`BoundedSemaphore`]: releasing beyond `n` is an error |
//! | `asyncio.Barrier(n)` | [`Barrier`] |
//! | `asyncio.Queue(maxsize)`, `PriorityQueue`, `LifoQueue` | [`Queue<T>`], [`PriorityQueue<T>`], [`LifoQueue<T>`] with `task_done`, `join`, `shutdown` |
//! | `loop.create_future()` set from a callback | [`promise()`] → ([`Resolver<T>`], [`Promise<T>`]) |
//! | (Rust's) channels | [`channel`] (multi-producer multi-consumer), [`broadcast`], [`watch`] |
//!
//! # A short tour
//!
//! ```
//! use std::sync::Arc;
//! use corio_sync::{Event, Lock, Queue, Semaphore};
//!
//! # futures_lite::future::block_on(async {
//! // A lock guards a value; the guard unlocks when dropped.
//! let counter = Lock::new(0);
//! *counter.lock().await += 1;
//!
//! // A semaphore bounds concurrency; the permit is given back when dropped.
//! let sem = Semaphore::new(2);
//! let permit = sem.acquire().await.unwrap();
//! assert_eq!(sem.available_permits(), 1);
//! drop(permit);
//!
//! // An event wakes everyone waiting for it.
//! let ready = Arc::new(Event::new());
//! ready.set();
//! ready.wait().await;
//!
//! // A queue with asyncio's task_done / join bookkeeping.
//! let queue = Queue::new(0);
//! queue.put("job").await.unwrap();
//! let job = queue.get().await.unwrap();
//! assert_eq!(job, "job");
//! queue.task_done().unwrap();
//! queue.join().await; // every job put was marked done
//! assert_eq!(*counter.lock().await, 1);
//! # });
//! ```
//!
//! # Fairness and cancellation
//!
//! Every waiter is served in arrival order, with no barging: while tasks wait
//! for a lock, a permit or an item, a newcomer — even a `try_*` call — does not
//! take it ahead of them. A release hands the resource straight to the first
//! waiter.
//!
//! Every wait is cancel-safe. Dropping a waiting future takes it out of the
//! line; dropping one that was already granted its lock, permit, item or
//! notification, before it returned it, passes the grant on to the next
//! waiter. Nothing is lost and nothing is delivered twice. Each async method
//! says what dropping its future means in a `# Cancel safety` section.
//!
//! # How the pieces relate
//!
//! [`Semaphore`] is the core: [`Lock`], [`RwLock`] are built on its FIFO
//! hand-off. [`Condition`] owns a [`Lock`]. The [`Queue`] family keeps its own
//! waiter lines, so that `shutdown` can move items and waiters in one step.
//! The channels are built on `concurrent-queue`, lock-free on their fast
//! paths, and park waiters in the same kind of FIFO list; `broadcast`, `watch`
//! and the queues' `join` wait on `event-listener`.

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod sync;

mod barrier;
mod condition;
mod event;
mod lock;
mod promise;
mod queue;
mod rwlock;
mod semaphore;
mod wait_queue;
mod waiters;

pub mod broadcast;
pub mod channel;
pub mod watch;

pub use barrier::*;
pub use condition::*;
pub use event::*;
pub use lock::*;
pub use promise::*;
pub use queue::*;
pub use rwlock::*;
pub use semaphore::*;
