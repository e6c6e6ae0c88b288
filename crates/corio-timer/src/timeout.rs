//! [`Timeout`]: a future with a deadline (`asyncio.wait_for`,
//! `asyncio.timeout` around one awaitable).
//!
//! # Design
//!
//! A `Timeout` is the inner future and a timer in one of three states: a
//! duration not yet started ([`timeout`]), an absolute deadline not yet
//! armed ([`timeout_at`]), or an armed [`Sleep`].
//!
//! As with `asyncio.wait_for`, whose coroutine starts timing when it is
//! awaited, the clock of [`timeout`] starts at the first poll. That is also
//! the cheap way: the first poll reads the clock once, and uses that one
//! reading both to fix the deadline and to arm the timer (reading the clock is
//! the largest part of a timeout that is created and dropped unfired).
//!
//! The first poll checks the deadline before anything else: a zero duration,
//! or an absolute deadline already passed, fails without polling the inner
//! future even once (`asyncio.wait_for(aw, 0)`). Every poll after that polls
//! the inner future first and the timer second, so a future that is ready
//! wins over a deadline that passed at the same time. A future that
//! completes on its first poll never touches the timer wheel.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use crate::clock;
use crate::sleep::{sleep_until, Sleep};

/// Runs `future` for at most `duration`; like `asyncio.wait_for(aw, timeout)`.
///
/// Resolves to `Ok(output)` if the future completes in time, and to
/// `Err(`[`Elapsed`]`)` otherwise. As with `asyncio.wait_for`, the clock
/// starts when the returned [`Timeout`] is first polled (awaited), not when
/// it is created; use [`timeout_at`] for a deadline fixed in advance. A zero
/// duration fails on the first poll without polling `future` even once.
///
/// # Cancel safety
///
/// Dropping the [`Timeout`] drops the inner future (losing what that future
/// would lose) and cancels the timer. When the deadline passes, the inner
/// future is *not* dropped by the `Timeout`: it stays inside until the
/// `Timeout` is, and [`Timeout::into_inner`] gives it back.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corio_timer::{sleep, timeout};
///
/// # futures_lite::future::block_on(async {
/// let quick = timeout(Duration::from_secs(5), async { 42 }).await;
/// assert_eq!(quick, Ok(42));
///
/// let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))).await;
/// assert!(slow.is_err());
/// # });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        timer: Timer::After(duration),
    }
}

/// Runs `future` until `deadline` at most; like `asyncio.timeout_at` around
/// one awaitable.
///
/// Same as [`timeout`], with an absolute deadline: if it has already passed
/// when the [`Timeout`] is first polled, the result is `Err(Elapsed)` and
/// `future` is never polled.
///
/// # Cancel safety
///
/// As for [`timeout`]: dropping the [`Timeout`] drops the inner future and
/// cancels the timer.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use corio_timer::{timeout_at, Elapsed};
///
/// # futures_lite::future::block_on(async {
/// let deadline = Instant::now() + Duration::from_millis(5);
/// let never = std::future::pending::<()>();
/// assert_eq!(timeout_at(deadline, never).await, Err(Elapsed::new()));
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        timer: Timer::At(deadline),
    }
}

/// The timer of a [`Timeout`]; see the module docs.
#[derive(Debug)]
enum Timer {
    /// [`timeout`], not yet polled.
    After(Duration),
    /// [`timeout_at`], not yet polled.
    At(Instant),
    /// Polled at least once.
    Armed(Sleep),
}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    ///
    /// Resolves to `Ok` with the inner future's output, or `Err(`[`Elapsed`]`)`
    /// once the deadline has passed first. `Timeout<F>` is `Unpin` when `F` is.
    ///
    /// # Cancel safety
    ///
    /// Dropping a `Timeout` drops the inner future (losing what that future
    /// would lose when dropped) and cancels its timer in O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # futures_lite::future::block_on(async {
    /// let t = corio_timer::timeout(Duration::from_secs(1), async { "done" });
    /// assert_eq!(t.await, Ok("done"));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        timer: Timer,
    }
}

impl<F> Timeout<F> {
    /// The deadline, once known: always for [`timeout_at`], and for
    /// [`timeout`] once a poll left its future pending (its clock starts
    /// then).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use corio_timer::{timeout, timeout_at};
    ///
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(timeout_at(deadline, async {}).deadline(), Some(deadline));
    /// assert_eq!(timeout(Duration::from_secs(1), async {}).deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        match &self.timer {
            Timer::After(_) => None,
            Timer::At(deadline) => Some(*deadline),
            Timer::Armed(sleep) => Some(sleep.deadline()),
        }
    }

    /// The inner future, by reference.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let t = corio_timer::timeout(Duration::from_secs(1), std::future::ready(3));
    /// let _inner: &std::future::Ready<i32> = t.get_ref();
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The inner future, by mutable reference.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut t = corio_timer::timeout(Duration::from_secs(1), std::future::ready(3));
    /// let _inner: &mut std::future::Ready<i32> = t.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// Takes the inner future back, cancelling the timer: useful after
    /// [`Elapsed`], to keep waiting without a deadline or with a new one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use corio_timer::{sleep, timeout};
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut t = timeout(Duration::ZERO, sleep(Duration::from_millis(5)));
    /// assert!((&mut t).await.is_err());
    /// t.into_inner().await; // finish the sleep after all
    /// # });
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let (mut sleep, now) = match this.timer {
            Timer::Armed(sleep) => {
                if let Poll::Ready(out) = this.future.poll(cx) {
                    return Poll::Ready(Ok(out));
                }
                return Pin::new(sleep).poll(cx).map(|()| Err(Elapsed::new()));
            }
            // asyncio.wait_for: an expired timeout never runs the awaitable.
            Timer::After(duration) if duration.is_zero() => {
                return Poll::Ready(Err(Elapsed::new()))
            }
            Timer::After(duration) => {
                // A future that is done at once needs no clock reading and
                // no timer (a write that fits the socket buffer, a read of
                // data already there); the deadline counts from just after.
                if let Poll::Ready(out) = this.future.as_mut().poll(cx) {
                    return Poll::Ready(Ok(out));
                }
                let now = clock::now_ns();
                (Sleep::at_ns(clock::later(now, *duration)), now)
            }
            Timer::At(deadline) => {
                let sleep = sleep_until(*deadline);
                let now = clock::now_ns();
                if sleep.deadline_ns() <= now {
                    return Poll::Ready(Err(Elapsed::new()));
                }
                // Done on the first poll: the timer never reaches the wheel.
                if let Poll::Ready(out) = this.future.as_mut().poll(cx) {
                    return Poll::Ready(Ok(out));
                }
                (sleep, now)
            }
        };
        let poll = sleep.poll_at(cx, now);
        *this.timer = Timer::Armed(sleep);
        poll.map(|()| Err(Elapsed::new()))
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("future", &self.future)
            .field("deadline", &self.deadline())
            .finish()
    }
}

/// The error of a [`Timeout`] whose deadline passed first; like
/// `asyncio.TimeoutError`.
///
/// # Examples
///
/// ```
/// use corio_timer::Elapsed;
///
/// let e = Elapsed::new();
/// assert_eq!(e.to_string(), "deadline has elapsed");
/// let io: std::io::Error = e.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Elapsed(());

impl Elapsed {
    /// The error value (for tests and for code that builds its own timeouts).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_timer::Elapsed::new(), corio_timer::Elapsed::default());
    /// ```
    pub const fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}
