//! Cooperative scheduling: a budget of operations per task poll.
//!
//! A task whose resources are always ready (a channel that always has an
//! item, a socket that always has bytes) would never return `Pending` and so
//! never let its worker run anything else. As in tokio, every task poll gets a
//! budget of [`BUDGET`] operations; resources that cooperate call
//! [`poll_proceed`] before doing work and yield once the budget is spent. The
//! executor resets the budget before each task poll.
//!
//! Outside an executor (no budget set), every call proceeds.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Operations a task may perform in one poll before it is asked to yield.
pub const BUDGET: u8 = 128;

thread_local! {
    static REMAINING: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Restores the budget that was in place when it was made.
pub(crate) struct BudgetScope(Option<u8>);

impl BudgetScope {
    /// Remembers the current budget; [`reset_budget`] may then be used freely.
    pub(crate) fn enter() -> BudgetScope {
        BudgetScope(REMAINING.with(Cell::get))
    }
}

impl Drop for BudgetScope {
    fn drop(&mut self) {
        let prev = self.0;
        let _ = REMAINING.try_with(|r| r.set(prev));
    }
}

/// Gives the task about to be polled a fresh budget (a worker's hot path:
/// workers do not nest, so there is nothing to restore).
pub(crate) fn reset_budget() {
    REMAINING.with(|r| r.set(Some(BUDGET)));
}

/// Spends one unit of the current task's budget.
///
/// Returns `Poll::Pending` (after waking the task, so it is polled again soon)
/// when the budget is exhausted; the caller must then return `Pending` too.
///
/// # Examples
///
/// ```
/// use corio_executor::coop;
/// use std::task::Poll;
///
/// corio_executor::block_on(std::future::poll_fn(|cx| {
///     // Outside a task budget, every call proceeds.
///     assert!(coop::poll_proceed(cx).is_ready());
///     Poll::Ready(())
/// }));
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    REMAINING.with(|r| match r.get() {
        None => Poll::Ready(()),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            r.set(Some(n - 1));
            Poll::Ready(())
        }
    })
}

/// Whether the current task still has budget left (always `true` outside a task).
///
/// # Examples
///
/// ```
/// assert!(corio_executor::coop::has_budget_remaining());
/// ```
pub fn has_budget_remaining() -> bool {
    REMAINING.with(|r| r.get() != Some(0))
}

/// Spends one unit of budget, yielding to the executor if none is left.
///
/// # Examples
///
/// ```
/// # corio_executor::block_on(async {
/// for _ in 0..1000 {
///     corio_executor::coop::consume_budget().await;
/// }
/// # });
/// ```
pub fn consume_budget() -> ConsumeBudget {
    ConsumeBudget { done: false }
}

/// The future returned by [`consume_budget`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ConsumeBudget {
    done: bool,
}

impl Future for ConsumeBudget {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        match poll_proceed(cx) {
            Poll::Ready(()) => {
                self.done = true;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
