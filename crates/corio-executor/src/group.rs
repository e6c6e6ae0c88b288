//! `asyncio.TaskGroup`: structured concurrency.
//!
//! # Design
//!
//! A group is one [`Group`] behind an `Arc`, shared by the [`TaskGroup`] that
//! owns it, any number of [`TaskGroupHandle`]s, and every child. Each child is
//! a spawned task running a [`Child`]: the user's future plus a [`Member`]
//! guard holding the child's key in the group's `children` slab.
//!
//! Invariants:
//!
//! * A child is *live* exactly while its key is in `children`. The key is
//!   inserted (under the lock) before the task is spawned and removed by the
//!   `Member` guard's destructor, which runs exactly once whichever way the
//!   child ends — completed, failed, cancelled by the group, cancelled through
//!   its handle or dropped by a runtime shutting down — and only after the
//!   user's future has been dropped (a field of `Child` declared before the
//!   guard). So when `join` sees `children` empty, every child's future is gone.
//! * `cancelled` goes from false to true once. A child checks it before each
//!   poll of its future, and again after storing its waker under the lock;
//!   `cancel` sets it, then takes every stored waker under the lock and wakes
//!   it. Either the child stored its waker before `cancel` took the wakers (and
//!   is woken), or it checks the flag after `cancel` set it; no child sleeps
//!   through a cancellation.
//! * A child that sees the flag completes at once without polling its future
//!   again; the executor then drops the future. This is a cancellation, never
//!   a failure: `failures` only receives a child's `Err` or panic (caught in the
//!   child, so the payload goes to the group), or the scope body's `Err`.
//! * `failed` is set by the first failure, which also cancels the children and
//!   wakes the waiter (the scope drops its body). After `cancelled` or
//!   `closed`, new children are refused: their future is dropped in
//!   [`spawn`](TaskGroupHandle::spawn) and their handle reports cancellation.
//! * `closed` is set, under the lock, by whoever sees `children` empty while
//!   finishing a join, so a child spawned concurrently is either counted by the
//!   join or refused.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::panic::payload_message;
use crate::Task;

/// The state all handles and children of one group share.
struct Group<E> {
    /// Set once: every child is to stop.
    cancelled: AtomicBool,
    state: Mutex<State<E>>,
}

struct State<E> {
    /// One entry per live child: its waker, once it has waited.
    children: Slab<Option<Waker>>,
    /// Real failures, in order of occurrence.
    failures: Vec<Failure<E>>,
    /// A failure happened.
    failed: bool,
    /// A join finished: no more children.
    closed: bool,
    /// The task waiting in `join` or in the scope.
    waiter: Option<Waker>,
}

impl<E> Group<E> {
    fn new() -> Group<E> {
        Group {
            cancelled: AtomicBool::new(false),
            state: Mutex::new(State {
                children: Slab::new(),
                failures: Vec::new(),
                failed: false,
                closed: false,
                waiter: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<E>> {
        // No user code runs under this lock; a poisoned one is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the flag and wakes every child that waits, so that each stops.
    fn cancel(&self) {
        if self.cancelled.swap(true, SeqCst) {
            return;
        }
        let wakers: Vec<Waker> = {
            let mut st = self.lock();
            st.children
                .iter_mut()
                .filter_map(|(_, w)| w.take())
                .collect()
        };
        for w in wakers {
            w.wake();
        }
    }

    /// Records a real failure; the first one cancels the group and wakes the
    /// waiter.
    fn fail(&self, failure: Failure<E>) {
        let waiter = {
            let mut st = self.lock();
            st.failures.push(failure);
            st.failed = true;
            st.waiter.take()
        };
        self.cancel();
        if let Some(w) = waiter {
            w.wake();
        }
    }

    /// Stores the waiter's waker (under the caller's lock).
    fn set_waiter(st: &mut State<E>, waker: &Waker) {
        match &st.waiter {
            Some(w) if w.will_wake(waker) => {}
            _ => st.waiter = Some(waker.clone()),
        }
    }

    /// Polls the end of a join: ready once no child is left. Closes the group.
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Vec<Failure<E>>> {
        let mut st = self.lock();
        if st.children.is_empty() {
            st.closed = true;
            st.waiter = None;
            Poll::Ready(std::mem::take(&mut st.failures))
        } else {
            Group::set_waiter(&mut st, cx.waker());
            Poll::Pending
        }
    }

    #[track_caller]
    fn spawn<F, T>(self: &Arc<Self>, future: F) -> GroupTask<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let key = {
            let mut st = self.lock();
            if st.closed || self.cancelled.load(SeqCst) {
                None
            } else {
                Some(st.children.insert(None))
            }
        };
        let Some(key) = key else {
            drop(future);
            return GroupTask { task: None };
        };
        let child = Child {
            future,
            member: Member {
                group: self.clone(),
                key,
            },
            registered: None,
        };
        GroupTask {
            task: Some(crate::spawn(child)),
        }
    }
}

/// Removes its child from the group when dropped (see the module docs).
struct Member<E> {
    group: Arc<Group<E>>,
    key: usize,
}

impl<E> Drop for Member<E> {
    fn drop(&mut self) {
        let waiter = {
            let mut st = self.group.lock();
            st.children.remove(self.key);
            if st.children.is_empty() {
                st.waiter.take()
            } else {
                None
            }
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

/// How a child ended, as its task's output.
enum Outcome<T> {
    Value(T),
    Failed,
    Cancelled,
}

pin_project_lite::pin_project! {
    /// The future a child's task runs.
    ///
    /// `future` is declared before `member` so that it is dropped first.
    struct Child<F, E> {
        #[pin]
        future: F,
        member: Member<E>,
        // The waker last stored in the group for this child.
        registered: Option<Waker>,
    }
}

impl<F, T, E> Future for Child<F, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Outcome<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<T>> {
        let this = self.project();
        let future = this.future;
        let group = &this.member.group;
        if group.cancelled.load(SeqCst) {
            return Poll::Ready(Outcome::Cancelled);
        }
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(Ok(value))) => Poll::Ready(Outcome::Value(value)),
            Ok(Poll::Ready(Err(error))) => {
                group.fail(Failure::Error(error));
                Poll::Ready(Outcome::Failed)
            }
            Err(payload) => {
                group.fail(Failure::Panic(ChildPanic::new(payload)));
                Poll::Ready(Outcome::Failed)
            }
            Ok(Poll::Pending) => {
                let fresh = this
                    .registered
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()));
                if !fresh {
                    let mut st = group.lock();
                    if let Some(slot) = st.children.get_mut(this.member.key) {
                        *slot = Some(cx.waker().clone());
                    }
                    drop(st);
                    *this.registered = Some(cx.waker().clone());
                }
                // Checked after storing the waker: see the module docs.
                if group.cancelled.load(SeqCst) {
                    return Poll::Ready(Outcome::Cancelled);
                }
                Poll::Pending
            }
        }
    }
}

/// A group of child tasks whose first failure cancels the rest, like
/// `asyncio.TaskGroup`.
///
/// [`spawn`](TaskGroup::spawn) starts a child at once; children return
/// `Result<T, E>`. The first failure — a child returning `Err(e)` or
/// panicking — cancels every other child. [`join`](TaskGroup::join) waits
/// until every child has finished (leaving the group waits for all, as
/// leaving `async with TaskGroup()` does) and reports every real failure, in
/// the order they happened; children cancelled because of a failure are not
/// failures. [`cancel`](TaskGroup::cancel) cancels every child; dropping the
/// group does too. For the `async with` form, where the body is cancelled as
/// well, see [`task_group`].
///
/// Children spawned after the group was cancelled, failed or joined are
/// refused: the future is dropped at once, never polled, and its
/// [`GroupTask`] reports [`ChildError::is_cancelled`].
///
/// # Examples
///
/// ```
/// use corio_executor::TaskGroup;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// ex.block_on(async {
///     let group = TaskGroup::<std::io::Error>::new();
///     let a = group.spawn(async { Ok(1) });
///     let b = group.spawn(async { Ok(2) });
///     group.join().await.unwrap();
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
pub struct TaskGroup<E> {
    handle: TaskGroupHandle<E>,
}

impl<E: Send + 'static> TaskGroup<E> {
    /// An empty, open group.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = corio_executor::TaskGroup::<()>::new();
    /// assert_eq!(group.len(), 0);
    /// ```
    pub fn new() -> TaskGroup<E> {
        TaskGroup {
            handle: TaskGroupHandle {
                group: Arc::new(Group::new()),
            },
        }
    }

    /// A handle that spawns into, or cancels, this group; children can hold
    /// one to spawn siblings.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.block_on(async {
    ///     let group = corio_executor::TaskGroup::<()>::new();
    ///     let handle = group.handle();
    ///     group.spawn(async move {
    ///         handle.spawn(async { Ok(()) }).detach();
    ///         Ok(())
    ///     }).detach();
    ///     group.join().await.unwrap();
    /// });
    /// ```
    pub fn handle(&self) -> TaskGroupHandle<E> {
        self.handle.clone()
    }

    /// Spawns `future` as a child of the group; see [`TaskGroupHandle::spawn`].
    ///
    /// # Panics
    ///
    /// When called outside a runtime (see [`spawn`](crate::spawn)).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let v = ex.block_on(async {
    ///     let group = corio_executor::TaskGroup::<()>::new();
    ///     let child = group.spawn(async { Ok(5) });
    ///     child.await.unwrap()
    /// });
    /// assert_eq!(v, 5);
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&self, future: F) -> GroupTask<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.handle.group.spawn(future)
    }

    /// Cancels every child; see [`TaskGroupHandle::cancel`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.block_on(async {
    ///     let group = corio_executor::TaskGroup::<()>::new();
    ///     let child = group.spawn(std::future::pending::<Result<(), ()>>());
    ///     group.cancel();
    ///     assert!(group.join().await.is_ok());
    ///     assert!(child.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    /// How many children are still live (running or not yet dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.block_on(async {
    ///     let group = corio_executor::TaskGroup::<()>::new();
    ///     group.spawn(std::future::pending::<Result<(), ()>>()).detach();
    ///     assert_eq!(group.len(), 1);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.handle.len()
    }

    /// Whether no child is live.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(corio_executor::TaskGroup::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for every child to finish and reports the failures; leaving
    /// `async with TaskGroup()`.
    ///
    /// Children may still be spawned (through a [`TaskGroupHandle`]) while the
    /// join waits; once it has finished the group is closed and refuses new
    /// children.
    ///
    /// # Errors
    ///
    /// A [`TaskGroupError`] listing every child that returned `Err` or
    /// panicked, in order of occurrence. Cancelled children (by
    /// [`cancel`](TaskGroup::cancel), or because a sibling failed) are not
    /// failures: a group that was only cancelled joins with `Ok(())`.
    ///
    /// # Cancel safety
    ///
    /// The returned future owns the group: dropping it before it finishes
    /// cancels every child, as dropping the group does. The children are
    /// dropped by their executor soon after, not before the drop returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let err = ex.block_on(async {
    ///     let group = corio_executor::TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>("bad input") }).detach();
    ///     group.spawn(std::future::pending::<Result<(), &str>>()).detach();
    ///     group.join().await.unwrap_err()
    /// });
    /// assert_eq!(err.failures().len(), 1);
    /// assert_eq!(err.failures()[0].error(), Some(&"bad input"));
    /// ```
    pub fn join(self) -> Join<E> {
        Join { group: Some(self) }
    }
}

impl<E: Send + 'static> Default for TaskGroup<E> {
    fn default() -> TaskGroup<E> {
        TaskGroup::new()
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        // A joined group has no child left to cancel (and refuses new ones).
        let closed = self.handle.group.lock().closed;
        if !closed {
            self.handle.group.cancel();
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TaskGroup").field(&self.handle).finish()
    }
}

/// The future returned by [`TaskGroup::join`].
///
/// # Cancel safety
///
/// Dropping it cancels every child of the group (it owns the group).
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let group = corio_executor::TaskGroup::<()>::new();
/// let join = group.join();
/// assert!(ex.block_on(join).is_ok());
/// ```
#[must_use = "futures do nothing unless awaited; dropping a Join cancels the group"]
pub struct Join<E> {
    group: Option<TaskGroup<E>>,
}

impl<E> Future for Join<E> {
    type Output = Result<(), TaskGroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let group = self.group.as_ref().expect("Join polled after completion");
        let failures = std::task::ready!(group.handle.group.poll_join(cx));
        self.group = None;
        Poll::Ready(if failures.is_empty() {
            Ok(())
        } else {
            Err(TaskGroupError { failures })
        })
    }
}

impl<E> fmt::Debug for Join<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Join").field(&self.group).finish()
    }
}

/// A cloneable handle to a [`TaskGroup`]: spawns children into it, cancels it.
///
/// Dropping a handle does nothing to the group. [`task_group`] gives its body
/// one of these.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let n = ex.block_on(corio_executor::task_group(|tg| async move {
///     let child = tg.spawn(async { Ok::<_, ()>(20) });
///     Ok(child.await.unwrap() + 1)
/// }));
/// assert_eq!(n.unwrap(), 21);
/// ```
pub struct TaskGroupHandle<E> {
    group: Arc<Group<E>>,
}

impl<E: Send + 'static> TaskGroupHandle<E> {
    /// Spawns `future` as a child of the group, like `tg.create_task`.
    ///
    /// The child starts at once. If it returns `Err(e)` or panics, `e` (or the
    /// panic) is recorded as a failure of the group and every other child is
    /// cancelled. The returned [`GroupTask`] gives the child's own value.
    ///
    /// If the group was cancelled, has failed or was joined, the child is
    /// refused: `future` is dropped at once without being polled, and the
    /// handle reports [`ChildError::is_cancelled`].
    ///
    /// # Panics
    ///
    /// When called outside a runtime (see [`spawn`](crate::spawn)).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.block_on(async {
    ///     let group = corio_executor::TaskGroup::<()>::new();
    ///     let handle = group.handle();
    ///     group.cancel();
    ///     // Refused: the group was cancelled.
    ///     assert!(handle.spawn(async { Ok(1) }).await.unwrap_err().is_cancelled());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&self, future: F) -> GroupTask<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.group.spawn(future)
    }
}

impl<E> TaskGroupHandle<E> {
    /// Cancels every child and closes the group to new children.
    ///
    /// Each child's future is dropped at its current await point, on its
    /// worker, soon after; cancellation is not a failure. In a [`task_group`]
    /// scope the body is not cancelled: it runs on, and the scope ends as
    /// usual when it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let r = ex.block_on(corio_executor::task_group(|tg| async move {
    ///     let child = tg.spawn(std::future::pending::<Result<(), ()>>());
    ///     tg.cancel();
    ///     Ok(child.await.unwrap_err().is_cancelled())
    /// }));
    /// assert!(r.unwrap());
    /// ```
    pub fn cancel(&self) {
        self.group.cancel();
    }

    /// Whether the group was cancelled, by [`cancel`](TaskGroupHandle::cancel),
    /// by a failure, or by being dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = corio_executor::TaskGroup::<()>::new();
    /// let handle = group.handle();
    /// drop(group);
    /// assert!(handle.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.group.cancelled.load(SeqCst)
    }

    /// How many children are still live.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = corio_executor::TaskGroup::<()>::new();
    /// assert_eq!(group.handle().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.group.lock().children.len()
    }

    /// Whether no child is live.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(corio_executor::TaskGroup::<()>::new().handle().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<E> Clone for TaskGroupHandle<E> {
    fn clone(&self) -> TaskGroupHandle<E> {
        TaskGroupHandle {
            group: self.group.clone(),
        }
    }
}

impl<E> fmt::Debug for TaskGroupHandle<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.group.lock();
        f.debug_struct("TaskGroupHandle")
            .field("children", &st.children.len())
            .field("failures", &st.failures.len())
            .field("cancelled", &self.group.cancelled.load(SeqCst))
            .field("closed", &st.closed)
            .finish()
    }
}

/// Runs `body` with a task group and waits for all its children, like
/// `async with asyncio.TaskGroup() as tg:`.
///
/// `body` gets a [`TaskGroupHandle`] to spawn children with, and returns
/// `Result<R, E>`. The scope finishes when the body has returned and every
/// child has finished. The first failure — a child returning `Err` or
/// panicking, or the body returning `Err` — cancels every child *and* the body
/// (it is dropped at its current await point), as asyncio cancels the task
/// running the `async with` block. The result is the body's value when nothing
/// failed, otherwise every failure in order of occurrence (the body's own
/// `Err` included); the cancellations caused by the failure are not listed.
/// A panic in the body itself propagates out of the scope after the children
/// are cancelled.
///
/// # Errors
///
/// A [`TaskGroupError`] with every failure, in order of occurrence.
///
/// # Cancel safety
///
/// Dropping the returned future drops the body and cancels every child; the
/// children are dropped by their executor soon after.
///
/// # Panics
///
/// When a child is spawned outside a runtime (see [`spawn`](crate::spawn)),
/// or when the body panics.
///
/// # Examples
///
/// ```
/// use corio_executor::task_group;
///
/// let ex = corio_executor::Executor::new().unwrap();
/// let err = ex
///     .block_on(task_group(|tg| async move {
///         tg.spawn(async { Err::<(), _>("child failed") }).detach();
///         // The failure cancels this body while it waits.
///         std::future::pending::<()>().await;
///         Ok(())
///     }))
///     .unwrap_err();
/// assert_eq!(err.failures().len(), 1);
/// assert_eq!(err.to_string(), "1 failure in task group: child failed");
/// ```
pub async fn task_group<E, R, B, Fut>(body: B) -> Result<R, TaskGroupError<E>>
where
    E: Send + 'static,
    B: FnOnce(TaskGroupHandle<E>) -> Fut,
    Fut: Future<Output = Result<R, E>>,
{
    let group = TaskGroup::new();
    let mut body = std::pin::pin!(Some(body(group.handle())));
    let mut value = None;
    let shared = group.handle.group.clone();
    std::future::poll_fn(|cx| {
        loop {
            let Some(running) = body.as_mut().as_pin_mut() else {
                // The body is gone: wait for the children.
                let failures = std::task::ready!(shared.poll_join(cx));
                return Poll::Ready(match (failures.is_empty(), value.take()) {
                    (true, Some(v)) => Ok(v),
                    (true, None) => unreachable!("the body is dropped only on failure"),
                    (false, _) => Err(TaskGroupError { failures }),
                });
            };
            if shared.lock().failed {
                body.set(None);
                continue;
            }
            match running.poll(cx) {
                Poll::Ready(Ok(v)) => {
                    value = Some(v);
                    body.set(None);
                }
                Poll::Ready(Err(e)) => {
                    body.set(None);
                    shared.fail(Failure::Error(e));
                }
                Poll::Pending => {
                    let mut st = shared.lock();
                    if st.failed {
                        drop(st);
                        body.set(None);
                        continue;
                    }
                    Group::set_waiter(&mut st, cx.waker());
                    return Poll::Pending;
                }
            }
        }
    })
    .await
}

/// The handle of a [`TaskGroup`] child: await it for the child's own value.
///
/// Dropping it detaches the handle; the child stays in the group, which still
/// waits for it and still sees its failure.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// ex.block_on(async {
///     let group = corio_executor::TaskGroup::<()>::new();
///     let child = group.spawn(async { Ok("value") });
///     assert_eq!(child.await.unwrap(), "value");
///     group.join().await.unwrap();
/// });
/// ```
pub struct GroupTask<T> {
    task: Option<Task<Outcome<T>>>,
}

impl<T> GroupTask<T> {
    /// Detaches the handle: the child keeps running in its group.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.block_on(async {
    ///     let group = corio_executor::TaskGroup::<()>::new();
    ///     group.spawn(async { Ok(()) }).detach();
    ///     group.join().await.unwrap();
    /// });
    /// ```
    pub fn detach(self) {
        drop(self)
    }

    /// Whether the child has finished (or was refused).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.block_on(async {
    ///     let group = corio_executor::TaskGroup::<()>::new();
    ///     let child = group.spawn(std::future::pending::<Result<(), ()>>());
    ///     assert!(!child.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(Task::is_finished)
    }

    /// Cancels this child only, and waits until it has stopped.
    ///
    /// Cancelling one child is not a failure of the group.
    ///
    /// # Errors
    ///
    /// [`ChildError::is_cancelled`] when the cancellation took effect; the
    /// child's own outcome when it had finished already.
    ///
    /// # Cancel safety
    ///
    /// The child is cancelled as soon as this future is first polled;
    /// dropping the future afterwards only gives up waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// ex.block_on(async {
    ///     let group = corio_executor::TaskGroup::<()>::new();
    ///     let child = group.spawn(std::future::pending::<Result<(), ()>>());
    ///     assert!(child.cancel().await.unwrap_err().is_cancelled());
    ///     assert!(group.join().await.is_ok());
    /// });
    /// ```
    pub async fn cancel(mut self) -> Result<T, ChildError> {
        match self.task.take() {
            None => Err(ChildError::cancelled()),
            Some(task) => outcome(task.cancel().await),
        }
    }
}

fn outcome<T>(out: Result<Outcome<T>, crate::JoinError>) -> Result<T, ChildError> {
    match out {
        Ok(Outcome::Value(v)) => Ok(v),
        Ok(Outcome::Failed) => Err(ChildError { failed: true }),
        Ok(Outcome::Cancelled) => Err(ChildError::cancelled()),
        Err(e) if e.is_cancelled() => Err(ChildError::cancelled()),
        // The child's future panicked while being dropped.
        Err(_) => Err(ChildError { failed: true }),
    }
}

impl<T> Future for GroupTask<T> {
    type Output = Result<T, ChildError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(task) = self.task.as_mut() else {
            return Poll::Ready(Err(ChildError::cancelled()));
        };
        let out = std::task::ready!(Pin::new(task).poll(cx));
        self.task = None;
        Poll::Ready(outcome(out))
    }
}

impl<T> fmt::Debug for GroupTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupTask")
            .field("refused", &self.task.is_none())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Why a [`GroupTask`] gave no value: the child failed, or was cancelled.
///
/// A failed child's error or panic is not here but in the group's
/// [`TaskGroupError`] (one owner for each error, and the group reports them
/// all).
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// ex.block_on(async {
///     let group = corio_executor::TaskGroup::new();
///     let child = group.spawn(async { Err::<(), _>("no") });
///     let err = child.await.unwrap_err();
///     assert!(err.is_failed());
///     assert_eq!(err.to_string(), "task group child failed (see the group's error)");
///     assert!(group.join().await.is_err());
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildError {
    failed: bool,
}

impl ChildError {
    fn cancelled() -> ChildError {
        ChildError { failed: false }
    }

    /// The child was cancelled (by its group, by [`GroupTask::cancel`] or by
    /// the runtime), or refused by a closed group.
    pub fn is_cancelled(&self) -> bool {
        !self.failed
    }

    /// The child returned `Err` or panicked; the group's error has the details.
    pub fn is_failed(&self) -> bool {
        self.failed
    }
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.failed {
            f.write_str("task group child failed (see the group's error)")
        } else {
            f.write_str("task group child was cancelled")
        }
    }
}

impl std::error::Error for ChildError {}

/// One real failure in a task group: an `Err` value or a panic.
///
/// # Examples
///
/// ```
/// use corio_executor::Failure;
///
/// let f: Failure<&str> = Failure::Error("disk full");
/// assert_eq!(f.error(), Some(&"disk full"));
/// assert!(!f.is_panic());
/// ```
pub enum Failure<E> {
    /// A child (or the scope's body) returned `Err(e)`.
    Error(E),
    /// A child panicked.
    Panic(ChildPanic),
}

impl<E> Failure<E> {
    /// The error, when this is not a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_executor::Failure::Error(1).error(), Some(&1));
    /// ```
    pub fn error(&self) -> Option<&E> {
        match self {
            Failure::Error(e) => Some(e),
            Failure::Panic(_) => None,
        }
    }

    /// Whether a child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!corio_executor::Failure::Error(()).is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, Failure::Panic(_))
    }
}

impl<E: fmt::Debug> fmt::Debug for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(e) => f.debug_tuple("Error").field(e).finish(),
            Failure::Panic(p) => f.debug_tuple("Panic").field(p).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(e) => e.fmt(f),
            Failure::Panic(p) => p.fmt(f),
        }
    }
}

/// The panic of a task group child, caught by the group.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let err = ex
///     .block_on(corio_executor::task_group(|tg| async move {
///         tg.spawn(async { if true { panic!("boom") } Ok::<(), ()>(()) }).detach();
///         Ok(())
///     }))
///     .unwrap_err();
/// match &err.failures()[0] {
///     corio_executor::Failure::Panic(p) => assert_eq!(p.message(), Some("boom")),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
pub struct ChildPanic {
    message: Option<String>,
    // A mutex only to make the error `Sync` (the payload is `Send` only).
    payload: Mutex<Box<dyn Any + Send>>,
}

impl ChildPanic {
    fn new(payload: Box<dyn Any + Send>) -> ChildPanic {
        ChildPanic {
            message: payload_message(&*payload).map(String::from),
            payload: Mutex::new(payload),
        }
    }

    /// The panic message, when the payload is a string.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The payload, to resume the panic with [`std::panic::resume_unwind`].
    pub fn into_payload(self) -> Box<dyn Any + Send> {
        self.payload.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for ChildPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildPanic")
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for ChildPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "child panicked: {m}"),
            None => f.write_str("child panicked"),
        }
    }
}

/// Every real failure of a task group, in order of occurrence; asyncio's
/// `ExceptionGroup` raised by `TaskGroup`.
///
/// Never empty. Cancellations caused by the first failure are not listed.
///
/// # Examples
///
/// ```
/// let ex = corio_executor::Executor::new().unwrap();
/// let err = ex
///     .block_on(corio_executor::task_group(|tg| async move {
///         tg.spawn(async { Err::<(), _>(7) }).detach();
///         Ok(())
///     }))
///     .unwrap_err();
/// assert_eq!(err.failures().len(), 1);
/// let failures = err.into_failures();
/// assert_eq!(failures[0].error(), Some(&7));
/// ```
pub struct TaskGroupError<E> {
    failures: Vec<Failure<E>>,
}

impl<E> TaskGroupError<E> {
    /// The failures, in order of occurrence.
    pub fn failures(&self) -> &[Failure<E>] {
        &self.failures
    }

    /// The failures, by value, in order of occurrence.
    pub fn into_failures(self) -> Vec<Failure<E>> {
        self.failures
    }

    /// The errors (not the panics), by value, in order of occurrence.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = corio_executor::Executor::new().unwrap();
    /// let err = ex
    ///     .block_on(corio_executor::task_group(|_tg| async { Err::<(), _>("body") }))
    ///     .unwrap_err();
    /// assert_eq!(err.into_errors(), vec!["body"]);
    /// ```
    pub fn into_errors(self) -> Vec<E> {
        self.failures
            .into_iter()
            .filter_map(|f| match f {
                Failure::Error(e) => Some(e),
                Failure::Panic(_) => None,
            })
            .collect()
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupError")
            .field("failures", &self.failures)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        write!(
            f,
            "{n} failure{} in task group",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, failure) in self.failures.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            failure.fmt(f)?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}
