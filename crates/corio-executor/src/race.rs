//! `race` (select over many futures, in place) and `shield` (`asyncio.shield`).
//!
//! # Design
//!
//! [`Race`] polls its futures inside the awaiting task — nothing is spawned —
//! through a [`PollSet`], so a wake-up polls only the future that woke. The
//! first output wins and the whole set, losers included, is dropped before
//! the output is returned.
//!
//! [`Shield`] is a spawned [`Task`] whose handle detaches when dropped: the
//! work it protects outlives whoever was waiting for it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::poll_set::PollSet;
use crate::{JoinError, Task};

/// Polls every future in place and returns the first output; the others are
/// dropped (cancelled). A `select` over a list, like `asyncio.wait` with
/// `FIRST_COMPLETED` followed by cancelling the rest.
///
/// Nothing is spawned: the futures run inside the task that awaits the
/// [`Race`], need not be `Send` or `'static`, and make progress only while it
/// is polled. If several are ready in the same poll, the one woken first wins
/// (on the first poll, the one earliest in the list).
///
/// # Panics
///
/// When `futures` is empty: such a race would never finish.
///
/// # Examples
///
/// ```
/// use std::future::{pending, ready, Future};
/// use std::pin::Pin;
///
/// let winner = corio_executor::block_on(async {
///     let racers: Vec<Pin<Box<dyn Future<Output = &str>>>> =
///         vec![Box::pin(pending()), Box::pin(ready("second")), Box::pin(pending())];
///     corio_executor::race(racers).await
/// });
/// assert_eq!(winner, "second");
/// ```
#[track_caller]
pub fn race<I>(futures: I) -> Race<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    assert!(!futures.is_empty(), "race called with no futures");
    Race {
        set: Some(PollSet::new(futures)),
    }
}

/// The future returned by [`race`].
///
/// # Cancel safety
///
/// Dropping a `Race` drops every future in it at its current await point; what
/// that loses is what dropping each of those futures loses.
///
/// # Examples
///
/// ```
/// let n = corio_executor::block_on(corio_executor::race([1, 2].map(|i| async move { i })));
/// assert_eq!(n, 1);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Race<F> {
    set: Option<PollSet<Pin<Box<F>>>>,
}

impl<F: Future> Future for Race<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let set = self.set.as_mut().expect("Race polled after completion");
        match set.poll_next(cx) {
            Poll::Ready(Some((_, out))) => {
                // Drop the losers before handing out the winner's output.
                self.set = None;
                Poll::Ready(out)
            }
            Poll::Ready(None) => unreachable!("a race has at least one future"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Race<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Race")
            .field("racers", &self.set.as_ref().map_or(0, PollSet::live))
            .finish()
    }
}

/// Runs `future` as a task that survives the cancellation of whoever awaits
/// it, like `asyncio.shield`.
///
/// The future is spawned at once. Awaiting the [`Shield`] gives the task's
/// `Result<T, JoinError>`; dropping it (for example because a timeout around
/// it fired) detaches the task, which runs on to completion.
///
/// # Panics
///
/// When called outside a runtime (see [`spawn`](crate::spawn)).
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let saved = Arc::new(AtomicBool::new(false));
/// let s = saved.clone();
/// ex.block_on(async move {
///     let shielded = corio_executor::shield(async move {
///         corio_executor::yield_now().await;
///         s.store(true, Ordering::SeqCst);
///     });
///     drop(shielded); // the caller gives up; the work goes on
/// });
/// while !saved.load(Ordering::SeqCst) {
///     std::thread::yield_now();
/// }
/// ```
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Shield {
        task: crate::spawn(future),
    }
}

/// The future returned by [`shield`]: the shielded task's outcome.
///
/// # Cancel safety
///
/// Dropping a `Shield` detaches its task: the task keeps running and only its
/// output is lost (a panic goes to the runtime's unhandled-panic policy).
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let v = ex.block_on(async { corio_executor::shield(async { 9 }).await });
/// assert_eq!(v.unwrap(), 9);
/// ```
#[must_use = "a dropped Shield detaches its task; await it for the output"]
pub struct Shield<T> {
    task: Task<T>,
}

impl<T> Shield<T> {
    /// The shielded task's handle.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let task = ex.block_on(async { corio_executor::shield(async { 1 }).into_task() });
    /// assert_eq!(ex.block_on(task).unwrap(), 1);
    /// ```
    pub fn into_task(self) -> Task<T> {
        self.task
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task).poll(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shield").field(&self.task).finish()
    }
}
