//! `asyncio.wait` and `asyncio.as_completed`: watch running tasks finish.
//!
//! # Design
//!
//! Both hold the tasks in a [`PollSet`], so each wake-up polls only the task
//! that woke. A [`Task`] gives its output when polled to completion and cannot
//! be polled again, so [`wait`] hands finished tasks back as [`Done`] values
//! that already hold the output (awaiting one is immediate), and the tasks it
//! did not see finish as the [`Task`]s they were. [`AsCompleted`] yields each
//! output as it arrives and holds the tasks not yet yielded as
//! [`CancelOnDrop`] handles, so dropping the stream cancels them.

use std::fmt;
use std::future::{Future, Pending};
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::poll_set::PollSet;
use crate::{CancelOnDrop, JoinError, Task};

/// When [`wait`] returns; asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION` and
/// `ALL_COMPLETED`.
///
/// # Examples
///
/// ```
/// use corio_executor::ReturnWhen;
///
/// assert_ne!(ReturnWhen::FirstCompleted, ReturnWhen::AllCompleted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task finishes, whatever its outcome.
    FirstCompleted,
    /// As soon as any task fails with a [`JoinError`] (it panicked or was
    /// cancelled), or when all have finished. A task whose output is an
    /// `Err(..)` value has *completed* as far as `wait` is concerned: it
    /// returned normally. To stop on such errors, turn them into a failure
    /// inside the task (for example `.expect(..)` makes it a panic), or use
    /// [`try_gather`](crate::try_gather) or a [`TaskGroup`](crate::TaskGroup).
    FirstException,
    /// When every task has finished.
    AllCompleted,
}

/// Waits for running tasks until `return_when` holds, like
/// `asyncio.wait(tasks, return_when=...)`; returns `(done, pending)`.
///
/// `done` holds the tasks seen finished, as [`Done`] values carrying their
/// outcome (await one, or call [`Done::into_result`]); `pending` holds the
/// others, still running — `wait` never cancels anything, as in asyncio. Both
/// lists are in input order, and [`Done::index`] gives each finished task's
/// position in the input. When the condition is met, every other task that has
/// also finished by then is moved to `done` too. An empty input returns two
/// empty lists at once (asyncio raises `ValueError`).
///
/// # Examples
///
/// ```
/// use corio_executor::ReturnWhen;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// ex.block_on(async {
///     let quick = corio_executor::spawn(async { 1 });
///     let slow = corio_executor::spawn(std::future::pending::<i32>());
///     let (done, pending) = corio_executor::wait([quick, slow], ReturnWhen::FirstCompleted).await;
///     assert_eq!(done.len(), 1);
///     assert_eq!(done[0].index(), 0);
///     assert_eq!(done.into_iter().next().unwrap().await.unwrap(), 1);
///     // The loser is still running; stop it ourselves.
///     for task in pending {
///         assert!(task.cancel().await.unwrap_err().is_cancelled());
///     }
/// });
/// ```
pub fn wait<T, I>(tasks: I, return_when: ReturnWhen) -> Wait<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    wait_until(tasks, return_when, std::future::pending())
}

/// Like [`wait`], but also returns when `deadline` completes, as
/// `asyncio.wait(..., timeout=...)` does.
///
/// `deadline` is any future: pass `corio_timer::sleep(duration)` for a
/// timeout. When it completes first, `wait_until` returns the tasks finished by
/// then (perhaps none) and the rest as pending, all still running.
///
/// # Examples
///
/// ```
/// use corio_executor::ReturnWhen;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// ex.block_on(async {
///     let stuck = corio_executor::spawn(std::future::pending::<()>());
///     // A deadline that has already passed.
///     let (done, pending) =
///         corio_executor::wait_until([stuck], ReturnWhen::AllCompleted, async {}).await;
///     assert!(done.is_empty());
///     assert_eq!(pending.len(), 1);
/// });
/// ```
pub fn wait_until<T, I, D>(tasks: I, return_when: ReturnWhen, deadline: D) -> Wait<T, D>
where
    I: IntoIterator<Item = Task<T>>,
    D: Future<Output = ()>,
{
    Wait {
        set: Some(PollSet::new(tasks.into_iter().collect())),
        done: Vec::new(),
        return_when,
        deadline: Box::pin(deadline),
    }
}

/// The future returned by [`wait`] and [`wait_until`]; gives `(done, pending)`.
///
/// # Cancel safety
///
/// Dropping a `Wait` before it finishes drops every handle it holds: the tasks
/// not yet seen finished are detached and keep running (as a dropped [`Task`]
/// does), and the outcomes already collected are lost (a panic among them is
/// reported to the runtime's unhandled-panic policy). Keep the tasks yourself —
/// for example pass them in again after a timeout — rather than dropping a
/// `Wait` you still care about.
///
/// # Examples
///
/// ```
/// use corio_executor::ReturnWhen;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let (done, pending) = ex.block_on(async {
///     let tasks: Vec<_> = (0..3).map(|i| corio_executor::spawn(async move { i })).collect();
///     corio_executor::wait(tasks, ReturnWhen::AllCompleted).await
/// });
/// assert_eq!(done.len(), 3);
/// assert!(pending.is_empty());
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T, D = Pending<()>> {
    set: Option<PollSet<Task<T>>>,
    done: Vec<(usize, Result<T, JoinError>)>,
    return_when: ReturnWhen,
    deadline: Pin<Box<D>>,
}

impl<T, D: Future<Output = ()>> Wait<T, D> {
    /// Whether the tasks seen so far meet the condition.
    fn condition_met(&self, last: &Result<T, JoinError>) -> bool {
        match self.return_when {
            ReturnWhen::FirstCompleted => true,
            ReturnWhen::FirstException => last.is_err(),
            ReturnWhen::AllCompleted => false,
        }
    }

    fn finish(&mut self) -> (Vec<Done<T>>, Vec<Task<T>>) {
        let mut set = self.set.take().expect("Wait polled after completion");
        // Tasks that finished meanwhile are done too, as in asyncio.
        self.done.extend(set.sweep(Task::is_finished));
        let mut done = std::mem::take(&mut self.done);
        done.sort_by_key(|(index, _)| *index);
        let done = done
            .into_iter()
            .map(|(index, result)| Done {
                index,
                result: Some(result),
            })
            .collect();
        let pending = set.take_all().into_iter().map(|(_, task)| task).collect();
        (done, pending)
    }
}

// Outputs are only moved, never pinned.
impl<T, D> Unpin for Wait<T, D> {}

impl<T, D: Future<Output = ()>> Future for Wait<T, D> {
    type Output = (Vec<Done<T>>, Vec<Task<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            let set = this.set.as_mut().expect("Wait polled after completion");
            match set.poll_next(cx) {
                Poll::Ready(Some((index, result))) => {
                    let met = this.condition_met(&result);
                    this.done.push((index, result));
                    if met {
                        return Poll::Ready(this.finish());
                    }
                }
                Poll::Ready(None) => return Poll::Ready(this.finish()),
                Poll::Pending => {
                    if this.deadline.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(this.finish());
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl<T, D> fmt::Debug for Wait<T, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("return_when", &self.return_when)
            .field("done", &self.done.len())
            .field("pending", &self.set.as_ref().map_or(0, PollSet::live))
            .finish()
    }
}

/// A task that [`wait`] saw finish, holding its outcome.
///
/// Await it (immediate) or call [`into_result`](Done::into_result) for the
/// task's `Result<T, JoinError>`, as awaiting a finished asyncio task gives
/// its result at once.
///
/// # Examples
///
/// ```
/// use corio_executor::ReturnWhen;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let (done, _) = ex.block_on(corio_executor::wait(
///     [ex.spawn(async { "hi" })],
///     ReturnWhen::AllCompleted,
/// ));
/// let only = done.into_iter().next().unwrap();
/// assert_eq!(only.index(), 0);
/// assert!(only.result().is_ok());
/// assert_eq!(only.into_result().unwrap(), "hi");
/// ```
#[must_use = "a Done holds the task's outcome"]
pub struct Done<T> {
    index: usize,
    result: Option<Result<T, JoinError>>,
}

impl<T> Done<T> {
    /// The task's position in the input of [`wait`].
    pub fn index(&self) -> usize {
        self.index
    }

    /// The task's outcome, by reference.
    ///
    /// # Panics
    ///
    /// When the outcome was already taken by awaiting this `Done`.
    pub fn result(&self) -> &Result<T, JoinError> {
        self.result.as_ref().expect("Done awaited already")
    }

    /// The task's outcome.
    ///
    /// # Panics
    ///
    /// When the outcome was already taken by awaiting this `Done`.
    pub fn into_result(mut self) -> Result<T, JoinError> {
        self.result.take().expect("Done awaited already")
    }
}

// Outputs are only moved, never pinned.
impl<T> Unpin for Done<T> {}

impl<T> Future for Done<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(self.result.take().expect("Done polled after completion"))
    }
}

impl<T> fmt::Debug for Done<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = match &self.result {
            Some(Ok(_)) => "completed",
            Some(Err(e)) if e.is_panic() => "panicked",
            Some(Err(_)) => "cancelled",
            None => "taken",
        };
        f.debug_struct("Done")
            .field("index", &self.index)
            .field("outcome", &outcome)
            .finish()
    }
}

/// Runs every future as a task and yields their outcomes in completion order,
/// like `asyncio.as_completed`.
///
/// The returned [`AsCompleted`] is a [`Stream`] of `Result<T, JoinError>`: the
/// first child to finish comes first. Each future is spawned at once. To know
/// which child an output belongs to, have each future return its own tag.
///
/// # Panics
///
/// When called outside a runtime (see [`spawn`](crate::spawn)).
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let total = ex.block_on(async {
///     let mut results = corio_executor::as_completed((1..=3).map(|i| async move { i }));
///     let mut total = 0;
///     while let Some(r) = results.next().await {
///         total += r.unwrap();
///     }
///     total
/// });
/// assert_eq!(total, 6);
/// ```
#[track_caller]
pub fn as_completed<I>(futures: I) -> AsCompleted<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future + Send + 'static,
    <I::Item as Future>::Output: Send + 'static,
{
    // Closures do not forward `#[track_caller]`: take the caller's location here.
    let location = Location::caller();
    AsCompleted::new(
        futures
            .into_iter()
            .map(|f| crate::spawn_inner(f, None, location).cancel_on_drop())
            .collect(),
    )
}

/// Yields the outcomes of running tasks in completion order, like
/// `asyncio.as_completed(tasks)`.
///
/// The tasks become owned by the stream: dropping it cancels those not yet
/// yielded (see [`AsCompleted`]).
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let first = ex.block_on(async {
///     let slow = corio_executor::spawn(std::future::pending::<&str>());
///     let fast = corio_executor::spawn(async { "fast" });
///     let mut stream = corio_executor::as_completed_tasks([slow, fast]);
///     stream.next().await.unwrap().unwrap()
///     // `slow` is cancelled when the stream is dropped here.
/// });
/// assert_eq!(first, "fast");
/// ```
pub fn as_completed_tasks<T, I>(tasks: I) -> AsCompleted<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    AsCompleted::new(tasks.into_iter().map(Task::cancel_on_drop).collect())
}

/// The stream returned by [`as_completed`] and [`as_completed_tasks`].
///
/// Yields one `Result<T, JoinError>` per task, in the order the tasks finish,
/// then ends. When several finish together, they come in the order their
/// wake-ups arrived.
///
/// # Cancel safety
///
/// Dropping the stream cancels every task whose outcome it has not yielded yet.
/// Dropping a `next()` future midway loses nothing: the outcome stays in the
/// stream for the next call.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let all: Vec<_> = ex.block_on(async {
///     corio_executor::as_completed([async { 1 }]).collect::<Vec<_>>().await
/// });
/// assert_eq!(all.len(), 1);
/// ```
#[must_use = "streams do nothing unless polled; dropping AsCompleted cancels its tasks"]
pub struct AsCompleted<T> {
    set: PollSet<CancelOnDrop<T>>,
}

impl<T> AsCompleted<T> {
    fn new(handles: Vec<CancelOnDrop<T>>) -> AsCompleted<T> {
        AsCompleted {
            set: PollSet::new(handles),
        }
    }

    /// How many outcomes are still to be yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let stream = corio_executor::as_completed_tasks([ex.spawn(async {})]);
    /// assert_eq!(stream.remaining(), 1);
    /// ```
    pub fn remaining(&self) -> usize {
        self.set.live()
    }
}

impl<T> Stream for AsCompleted<T> {
    type Item = Result<T, JoinError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.set
            .poll_next(cx)
            .map(|next| next.map(|(_, outcome)| outcome))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining();
        (n, Some(n))
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining())
            .finish()
    }
}
