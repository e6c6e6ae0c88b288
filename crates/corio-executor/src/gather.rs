//! `asyncio.gather`: run many futures as tasks, collect their outputs in
//! argument order.
//!
//! # Design
//!
//! Each future is spawned at once (so the children run concurrently, on any
//! worker) and its handle kept as a [`CancelOnDrop`]; the handles sit in a
//! [`PollSet`], which polls only the children that woke it. Whatever ends the
//! gather early — a failure, or the gather being dropped — drops the
//! remaining handles, and that cancels the children that had not finished.
//! A finished gather owns no child.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::poll_set::PollSet;
use crate::{CancelOnDrop, JoinError};

/// Spawns every future in `futures` at once and puts the handles in a set.
#[track_caller]
fn spawn_all<I>(futures: I) -> PollSet<CancelOnDrop<<I::Item as Future>::Output>>
where
    I: IntoIterator,
    I::Item: Future + Send + 'static,
    <I::Item as Future>::Output: Send + 'static,
{
    // Closures do not forward `#[track_caller]`: take the caller's location here.
    let location = Location::caller();
    let handles: Vec<_> = futures
        .into_iter()
        .map(|f| crate::spawn_inner(f, None, location).cancel_on_drop())
        .collect();
    PollSet::new(handles)
}

/// Runs every future as a task and collects the outputs in argument order,
/// like `asyncio.gather(*aws)`.
///
/// Each future is spawned at once, so the children run concurrently, on any
/// worker of the runtime, whether or not the returned [`Gather`] is polled yet.
/// The output lists the children's outputs in the order of `futures`, not in
/// the order they finished. An empty input gives an empty vector.
///
/// A child that panics (or is cancelled by the runtime shutting down) fails
/// the whole gather with its [`JoinError`]; the children still running are
/// then cancelled, and the outputs of those that finished are dropped.
/// (`asyncio.gather` leaves them running; use [`gather_settled`] to see every
/// outcome, or [`TaskGroup`](crate::TaskGroup) for structured failure.)
///
/// # Panics
///
/// When called outside a runtime (see [`spawn`](crate::spawn)).
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let squares = ex.block_on(async {
///     corio_executor::gather((1..=4).map(|i| async move { i * i })).await
/// });
/// assert_eq!(squares.unwrap(), vec![1, 4, 9, 16]);
/// ```
#[track_caller]
pub fn gather<I>(futures: I) -> Gather<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future + Send + 'static,
    <I::Item as Future>::Output: Send + 'static,
{
    let set = spawn_all(futures);
    let results = (0..set.capacity()).map(|_| None).collect();
    Gather {
        set: Some(set),
        results,
    }
}

/// The future returned by [`gather`](fn@crate::gather): the children's outputs in argument order.
///
/// # Errors
///
/// The first [`JoinError`] (a child panicked or was cancelled by the runtime)
/// in completion order; the other children are cancelled at that point.
///
/// # Cancel safety
///
/// Dropping a `Gather` before it finishes cancels every child that has not
/// finished yet and drops the outputs of those that have; nothing keeps
/// running in the background.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let err = ex.block_on(async {
///     corio_executor::gather(vec![
///         Box::pin(async { 1 }) as std::pin::Pin<Box<dyn std::future::Future<Output = i32> + Send>>,
///         Box::pin(async { panic!("child failed") }),
///     ])
///     .await
/// })
/// .unwrap_err();
/// assert!(err.is_panic());
/// ```
#[must_use = "futures do nothing unless awaited; dropping a Gather cancels its children"]
pub struct Gather<T> {
    set: Option<PollSet<CancelOnDrop<T>>>,
    results: Vec<Option<T>>,
}

// Outputs are only moved, never pinned.
impl<T> Unpin for Gather<T> {}

impl<T> Future for Gather<T> {
    type Output = Result<Vec<T>, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let set = this.set.as_mut().expect("Gather polled after completion");
        loop {
            match set.poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some((index, Ok(value)))) => this.results[index] = Some(value),
                Poll::Ready(Some((_, Err(error)))) => {
                    // Cancels the children still running.
                    this.set = None;
                    this.results.clear();
                    return Poll::Ready(Err(error));
                }
                Poll::Ready(None) => {
                    this.set = None;
                    let results = std::mem::take(&mut this.results);
                    return Poll::Ready(Ok(results
                        .into_iter()
                        .map(|r| r.expect("every child finished"))
                        .collect()));
                }
            }
        }
    }
}

impl<T> fmt::Debug for Gather<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("children", &self.results.len())
            .field("running", &self.set.as_ref().map_or(0, PollSet::live))
            .finish()
    }
}

/// Runs every future as a task and collects every outcome in argument order,
/// like `asyncio.gather(*aws, return_exceptions=True)`.
///
/// Never short-circuits: each child's `Result<T, JoinError>` lands in its
/// place, whether it returned, panicked or was cancelled.
///
/// # Panics
///
/// When called outside a runtime (see [`spawn`](crate::spawn)).
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let outcomes = ex.block_on(async {
///     corio_executor::gather_settled((0..3).map(|i| async move {
///         if i == 1 {
///             panic!("one of them fails");
///         }
///         i
///     }))
///     .await
/// });
/// assert_eq!(*outcomes[0].as_ref().unwrap(), 0);
/// assert!(outcomes[1].as_ref().unwrap_err().is_panic());
/// assert_eq!(*outcomes[2].as_ref().unwrap(), 2);
/// ```
#[track_caller]
pub fn gather_settled<I>(futures: I) -> GatherSettled<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future + Send + 'static,
    <I::Item as Future>::Output: Send + 'static,
{
    let set = spawn_all(futures);
    let results = (0..set.capacity()).map(|_| None).collect();
    GatherSettled {
        set: Some(set),
        results,
    }
}

/// The future returned by [`gather_settled`]: every outcome in argument order.
///
/// # Cancel safety
///
/// Dropping a `GatherSettled` before it finishes cancels every child that has
/// not finished yet and drops the outcomes collected so far.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let all = ex.block_on(async {
///     corio_executor::gather_settled(["a", "b"].map(|s| async move { s })).await
/// });
/// assert_eq!(all.len(), 2);
/// assert!(all.iter().all(Result::is_ok));
/// ```
#[must_use = "futures do nothing unless awaited; dropping a GatherSettled cancels its children"]
pub struct GatherSettled<T> {
    set: Option<PollSet<CancelOnDrop<T>>>,
    results: Vec<Option<Result<T, JoinError>>>,
}

// Outputs are only moved, never pinned.
impl<T> Unpin for GatherSettled<T> {}

impl<T> Future for GatherSettled<T> {
    type Output = Vec<Result<T, JoinError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let set = this
            .set
            .as_mut()
            .expect("GatherSettled polled after completion");
        loop {
            match set.poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some((index, outcome))) => this.results[index] = Some(outcome),
                Poll::Ready(None) => {
                    this.set = None;
                    let results = std::mem::take(&mut this.results);
                    return Poll::Ready(
                        results
                            .into_iter()
                            .map(|r| r.expect("every child finished"))
                            .collect(),
                    );
                }
            }
        }
    }
}

impl<T> fmt::Debug for GatherSettled<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherSettled")
            .field("children", &self.results.len())
            .field("running", &self.set.as_ref().map_or(0, PollSet::live))
            .finish()
    }
}

/// Runs fallible futures as tasks and collects their `Ok` values in argument
/// order; the first failure wins and cancels the rest.
///
/// Like [`gather`](fn@crate::gather) for children that return `Result<T, E>`: the output is
/// `Ok(values)` when every child returned `Ok`, otherwise the first failure in
/// completion order — a child's `Err(e)`, or a child's panic or cancellation —
/// as a [`GatherError`] that says which child it was. The siblings still
/// running are cancelled at that point.
///
/// # Panics
///
/// When called outside a runtime (see [`spawn`](crate::spawn)).
///
/// # Examples
///
/// ```
/// use corio_executor::GatherError;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let out = ex.block_on(async {
///     corio_executor::try_gather((0..4).map(|i| async move {
///         if i == 2 { Err(format!("child {i} failed")) } else { Ok(i) }
///     }))
///     .await
/// });
/// match out {
///     Err(GatherError::Failed { index, error }) => {
///         assert_eq!(index, 2);
///         assert_eq!(error, "child 2 failed");
///     }
///     other => panic!("unexpected: {other:?}"),
/// }
/// ```
#[track_caller]
pub fn try_gather<I, T, E>(futures: I) -> TryGather<T, E>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let set = spawn_all(futures);
    let results = (0..set.capacity()).map(|_| None).collect();
    TryGather {
        set: Some(set),
        results,
    }
}

/// The future returned by [`try_gather`].
///
/// # Errors
///
/// The first failure in completion order, as a [`GatherError`].
///
/// # Cancel safety
///
/// Dropping a `TryGather` before it finishes cancels every child that has not
/// finished yet and drops the values collected so far.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let v = ex.block_on(async {
///     corio_executor::try_gather((1..=3).map(|i| async move { Ok::<_, std::io::Error>(i * 10) }))
///         .await
/// });
/// assert_eq!(v.unwrap(), vec![10, 20, 30]);
/// ```
#[must_use = "futures do nothing unless awaited; dropping a TryGather cancels its children"]
pub struct TryGather<T, E> {
    set: Option<PollSet<CancelOnDrop<Result<T, E>>>>,
    results: Vec<Option<T>>,
}

// Outputs are only moved, never pinned.
impl<T, E> Unpin for TryGather<T, E> {}

impl<T, E> Future for TryGather<T, E> {
    type Output = Result<Vec<T>, GatherError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let set = this
            .set
            .as_mut()
            .expect("TryGather polled after completion");
        loop {
            let error = match set.poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some((index, Ok(Ok(value))))) => {
                    this.results[index] = Some(value);
                    continue;
                }
                Poll::Ready(Some((index, Ok(Err(error))))) => GatherError::Failed { index, error },
                Poll::Ready(Some((index, Err(error)))) => GatherError::Join { index, error },
                Poll::Ready(None) => {
                    this.set = None;
                    let results = std::mem::take(&mut this.results);
                    return Poll::Ready(Ok(results
                        .into_iter()
                        .map(|r| r.expect("every child finished"))
                        .collect()));
                }
            };
            // Cancels the siblings still running.
            this.set = None;
            this.results.clear();
            return Poll::Ready(Err(error));
        }
    }
}

impl<T, E> fmt::Debug for TryGather<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("children", &self.results.len())
            .field("running", &self.set.as_ref().map_or(0, PollSet::live))
            .finish()
    }
}

/// Why a [`try_gather`] failed: the first child that failed, and how.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let err = ex
///     .block_on(async { corio_executor::try_gather([async { Err::<u8, _>("no") }]).await })
///     .unwrap_err();
/// assert_eq!(err.index(), 0);
/// assert_eq!(err.to_string(), "gathered child 0 failed: no");
/// ```
pub enum GatherError<E> {
    /// Child `index` returned `Err(error)`.
    Failed {
        /// The child's position in the input.
        index: usize,
        /// What it returned.
        error: E,
    },
    /// Child `index` panicked, or the runtime cancelled it.
    Join {
        /// The child's position in the input.
        index: usize,
        /// The panic or cancellation.
        error: JoinError,
    },
}

impl<E> GatherError<E> {
    /// The failed child's position in the input.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = corio_executor::GatherError::Failed { index: 3, error: () };
    /// assert_eq!(e.index(), 3);
    /// ```
    pub fn index(&self) -> usize {
        match self {
            GatherError::Failed { index, .. } | GatherError::Join { index, .. } => *index,
        }
    }

    /// The child's own error, when it returned one (rather than panicking).
    ///
    /// # Examples
    ///
    /// ```
    /// let e = corio_executor::GatherError::Failed { index: 0, error: "bad" };
    /// assert_eq!(e.into_error(), Some("bad"));
    /// ```
    pub fn into_error(self) -> Option<E> {
        match self {
            GatherError::Failed { error, .. } => Some(error),
            GatherError::Join { .. } => None,
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for GatherError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatherError::Failed { index, error } => f
                .debug_struct("Failed")
                .field("index", index)
                .field("error", error)
                .finish(),
            GatherError::Join { index, error } => f
                .debug_struct("Join")
                .field("index", index)
                .field("error", error)
                .finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for GatherError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatherError::Failed { index, error } => {
                write!(f, "gathered child {index} failed: {error}")
            }
            GatherError::Join { index, error } => write!(f, "gathered child {index}: {error}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GatherError<E> {}

/// Spawns each future and awaits them all, giving a tuple of their outcomes;
/// `asyncio.gather(a, b, c)` for futures of different types.
///
/// Every argument is spawned at once (each must be `Send + 'static`); the
/// result is a tuple of `Result<T, JoinError>`, one per argument in order,
/// like [`gather_settled`]. Dropping the future before it finishes cancels
/// the children that have not finished. Must be used inside a runtime; up to
/// twelve futures.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let (a, b) = ex.block_on(async {
///     corio_executor::gather!(async { 1u8 }, async { "two" }).await
/// });
/// assert_eq!((a.unwrap(), b.unwrap()), (1, "two"));
/// ```
#[macro_export]
macro_rules! gather {
    ($($fut:expr),+ $(,)?) => {
        $crate::__gather_impl!(
            @munch [$($fut,)+] [] [0 1 2 3 4 5 6 7 8 9 10 11]
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __gather_impl {
    (@munch [$head:expr, $($rest:expr,)*] [$($done:tt)*] [$idx:tt $($idxs:tt)*]) => {
        $crate::__gather_impl!(@munch [$($rest,)*] [$($done)* ($idx $head)] [$($idxs)*])
    };
    (@munch [] [$(($idx:tt $fut:expr))+] [$($idxs:tt)*]) => {{
        let mut tasks = ($($crate::spawn($fut).cancel_on_drop(),)+);
        async move { ($((&mut tasks.$idx).await,)+) }
    }};
}
