//! Debug mode: asyncio's `PYTHONASYNCIODEBUG=1` / `loop.set_debug(True)`.
//!
//! # Design
//!
//! An executor carries a [`Diagnostics`] in its hooks (next to the panic
//! policy), off by default. Two reports can be switched on:
//!
//! * **Slow polls.** A task whose single poll runs longer than a threshold
//!   (asyncio's `slow_callback_duration`, 100 ms in debug mode) blocked its
//!   thread: on the current-thread runtime every other task, on a worker the
//!   tasks queued behind it. The executor reads the clock around each poll
//!   only when a threshold is set; otherwise a poll costs one thread-local
//!   read more.
//!   The report names the task and where it was spawned.
//! * **Tasks pending at shutdown.** A runtime that shuts down cancels the
//!   tasks still pending; in debug mode each is reported as it is dropped
//!   (asyncio's "Task was destroyed but it is pending!"): a background task
//!   that was forgotten, or a loop that never ends.
//!
//! Unobserved panics have their own policy ([`UnhandledPanic`](crate::UnhandledPanic)),
//! logged by default in and out of debug mode.
//!
//! [`Diagnostics::from_env`] reads `CORIO_DEBUG`, which is how the `corio`
//! facade's runtimes turn debug mode on without a code change.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::panic::TaskLabel;

/// The environment variable that turns debug mode on (any value but `0` or
/// the empty string): corio's `PYTHONASYNCIODEBUG`.
pub const DEBUG_ENV: &str = "CORIO_DEBUG";

/// The slow-poll threshold of debug mode: asyncio's `slow_callback_duration`.
pub const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(100);

/// A handler for [`SlowPoll`] reports.
type SlowPollHandler = Arc<dyn Fn(&SlowPoll) + Send + Sync>;

/// What an executor reports in debug mode (asyncio's `loop.set_debug(True)`).
///
/// * **Slow polls**: a task whose single poll runs for the threshold or
///   longer blocked its thread (a blocking call, or long computation, that
///   belongs in [`unblock`](crate::unblock)); reported with the task's name
///   and spawn location. Only with a threshold set does the executor read
///   the clock around each poll.
/// * **Tasks pending at shutdown**: each task the executor cancels when it
///   shuts down is reported (asyncio's "Task was destroyed but it is
///   pending!").
///
/// Off by default; [`Diagnostics::from_env`] turns it on when `CORIO_DEBUG`
/// is set, as the `corio` facade's runtimes do.
///
/// # Examples
///
/// ```
/// use corio_executor::{Diagnostics, Executor};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let slow = Arc::new(AtomicUsize::new(0));
/// let seen = slow.clone();
/// let ex = Executor::builder()
///     .diagnostics(
///         Diagnostics::new()
///             .slow_poll_threshold(Some(Duration::from_millis(20)))
///             .on_slow_poll(move |_| {
///                 seen.fetch_add(1, Ordering::SeqCst);
///             }),
///     )
///     .build()
///     .unwrap();
/// // A blocking call inside a task: the loop is stuck for 50 ms.
/// let task = ex.spawn(async { std::thread::sleep(Duration::from_millis(50)) });
/// ex.block_on(task).unwrap();
/// assert_eq!(slow.load(Ordering::SeqCst), 1);
/// ```
#[derive(Clone, Default)]
pub struct Diagnostics {
    slow_poll: Option<Duration>,
    on_slow_poll: Option<SlowPollHandler>,
    pending_at_shutdown: bool,
}

impl Diagnostics {
    /// Everything off (the default outside debug mode).
    ///
    /// # Examples
    ///
    /// ```
    /// let d = corio_executor::Diagnostics::new();
    /// assert!(!d.is_enabled());
    /// ```
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    /// Debug mode: slow polls of [`DEFAULT_SLOW_POLL`] or more and tasks
    /// pending at shutdown reported on standard error.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_executor::{Diagnostics, DEFAULT_SLOW_POLL};
    ///
    /// let d = Diagnostics::debug();
    /// assert_eq!(d.slow_poll(), Some(DEFAULT_SLOW_POLL));
    /// assert!(d.reports_pending_at_shutdown());
    /// ```
    pub fn debug() -> Diagnostics {
        Diagnostics {
            slow_poll: Some(DEFAULT_SLOW_POLL),
            on_slow_poll: None,
            pending_at_shutdown: true,
        }
    }

    /// [`debug`](Diagnostics::debug) if the `CORIO_DEBUG` environment
    /// variable is set to anything but `0` or the empty string, else
    /// [`new`](Diagnostics::new).
    ///
    /// # Examples
    ///
    /// ```
    /// // Whatever the environment says, the answer is one of the two.
    /// let d = corio_executor::Diagnostics::from_env();
    /// assert_eq!(d.is_enabled(), corio_executor::debug_env_enabled());
    /// ```
    pub fn from_env() -> Diagnostics {
        if debug_env_enabled() {
            Diagnostics::debug()
        } else {
            Diagnostics::new()
        }
    }

    /// Reports every task poll that takes `threshold` or longer (`None`:
    /// never).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let d = corio_executor::Diagnostics::new().slow_poll_threshold(Some(Duration::from_millis(50)));
    /// assert_eq!(d.slow_poll(), Some(Duration::from_millis(50)));
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: Option<Duration>) -> Diagnostics {
        self.slow_poll = threshold;
        self
    }

    /// Sends slow-poll reports to `handler` instead of standard error. The
    /// handler runs on the thread that ran the poll, right after it; a panic
    /// in it is caught and dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let d = corio_executor::Diagnostics::debug().on_slow_poll(|slow| {
    ///     eprintln!("{} ms in one poll", slow.elapsed().as_millis());
    /// });
    /// assert!(d.is_enabled());
    /// ```
    pub fn on_slow_poll(
        mut self,
        handler: impl Fn(&SlowPoll) + Send + Sync + 'static,
    ) -> Diagnostics {
        self.on_slow_poll = Some(Arc::new(handler));
        self
    }

    /// Reports (on standard error) each task a shutdown cancels while it is
    /// still pending.
    ///
    /// # Examples
    ///
    /// ```
    /// let d = corio_executor::Diagnostics::new().report_pending_at_shutdown(true);
    /// assert!(d.reports_pending_at_shutdown());
    /// ```
    pub fn report_pending_at_shutdown(mut self, report: bool) -> Diagnostics {
        self.pending_at_shutdown = report;
        self
    }

    /// The slow-poll threshold, if slow polls are reported.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_executor::Diagnostics::new().slow_poll(), None);
    /// ```
    pub fn slow_poll(&self) -> Option<Duration> {
        self.slow_poll
    }

    /// Whether tasks pending at shutdown are reported.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!corio_executor::Diagnostics::new().reports_pending_at_shutdown());
    /// ```
    pub fn reports_pending_at_shutdown(&self) -> bool {
        self.pending_at_shutdown
    }

    /// Whether anything is reported.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(corio_executor::Diagnostics::debug().is_enabled());
    /// ```
    pub fn is_enabled(&self) -> bool {
        self.slow_poll.is_some() || self.pending_at_shutdown
    }

    /// Hands a slow poll to the handler, or logs it.
    pub(crate) fn report_slow_poll(&self, slow: &SlowPoll) {
        match &self.on_slow_poll {
            Some(handler) => {
                let handler = handler.clone();
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(slow)));
            }
            None => eprintln!("corio: {slow}"),
        }
    }

    /// Logs a task cancelled by a shutdown while pending, if asked to.
    pub(crate) fn report_pending(&self, name: Option<&str>, location: &Location<'_>) {
        if self.pending_at_shutdown {
            eprintln!(
                "corio: {} spawned at {location} was still pending when its runtime shut down; \
                 it was cancelled",
                TaskLabel(name)
            );
        }
    }
}

impl fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnostics")
            .field("slow_poll", &self.slow_poll)
            .field(
                "on_slow_poll",
                &self.on_slow_poll.as_ref().map(|_| "custom"),
            )
            .field("pending_at_shutdown", &self.pending_at_shutdown)
            .finish()
    }
}

/// Runs `poll`, reading the clock around it only when `threshold` is set;
/// also gives back how long it ran if that reached the threshold.
#[inline]
pub(crate) fn time_poll<R>(
    threshold: Option<Duration>,
    poll: impl FnOnce() -> R,
) -> (R, Option<Duration>) {
    let Some(threshold) = threshold else {
        return (poll(), None);
    };
    let start = Instant::now();
    let out = poll();
    let elapsed = start.elapsed();
    (out, (elapsed >= threshold).then_some(elapsed))
}

/// Whether `CORIO_DEBUG` asks for debug mode: set, and neither `0` nor empty.
///
/// # Examples
///
/// ```
/// let on = corio_executor::debug_env_enabled();
/// assert_eq!(on, corio_executor::Diagnostics::from_env().is_enabled());
/// ```
pub fn debug_env_enabled() -> bool {
    std::env::var_os(DEBUG_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// One poll of a task that ran for longer than the slow-poll threshold: the
/// task blocked its thread (a blocking call, or long computation, that
/// belongs in [`unblock`](crate::unblock)).
///
/// # Examples
///
/// ```
/// use corio_executor::{Diagnostics, LocalExecutor, ThreadPark, UnhandledPanic};
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// let reports = Arc::new(Mutex::new(Vec::new()));
/// let sink = reports.clone();
/// let diagnostics = Diagnostics::new()
///     .slow_poll_threshold(Some(Duration::from_millis(10)))
///     .on_slow_poll(move |slow| sink.lock().unwrap().push(slow.to_string()));
/// let ex = LocalExecutor::with_diagnostics(UnhandledPanic::Log, Arc::new(ThreadPark::new()), diagnostics);
/// let task = corio_executor::TaskBuilder::new()
///     .name("hasher")
///     .spawn_local_on(&ex, async { std::thread::sleep(Duration::from_millis(20)) });
/// ex.block_on(task).unwrap();
/// let reports = reports.lock().unwrap();
/// assert_eq!(reports.len(), 1);
/// assert!(reports[0].starts_with("task 'hasher' spawned at "), "{}", reports[0]);
/// ```
#[derive(Debug, Clone)]
pub struct SlowPoll {
    name: Option<String>,
    location: &'static Location<'static>,
    elapsed: Duration,
    threshold: Duration,
}

impl SlowPoll {
    pub(crate) fn new(
        name: Option<String>,
        location: &'static Location<'static>,
        elapsed: Duration,
        threshold: Duration,
    ) -> SlowPoll {
        SlowPoll {
            name,
            location,
            elapsed,
            threshold,
        }
    }

    /// The task's name, if it was given one (`block_on`'s future is named
    /// `"block_on"`).
    ///
    /// # Examples
    ///
    /// See [`SlowPoll`].
    pub fn task_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned (for `block_on`'s future, where
    /// `block_on` was called).
    ///
    /// # Examples
    ///
    /// See [`SlowPoll`].
    pub fn spawn_location(&self) -> &'static Location<'static> {
        self.location
    }

    /// How long the poll ran.
    ///
    /// # Examples
    ///
    /// See [`SlowPoll`].
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The threshold it went over.
    ///
    /// # Examples
    ///
    /// See [`SlowPoll`].
    pub fn threshold(&self) -> Duration {
        self.threshold
    }
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spawned at {} blocked its thread for {:.1} ms in one poll (threshold {} ms): \
             move blocking work to unblock()",
            TaskLabel(self.name.as_deref()),
            self.location,
            self.elapsed.as_secs_f64() * 1000.0,
            self.threshold.as_millis()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_poll_reads_well() {
        let slow = SlowPoll::new(
            Some("fetch".into()),
            Location::caller(),
            Duration::from_micros(150_250),
            Duration::from_millis(100),
        );
        let text = slow.to_string();
        assert!(text.starts_with("task 'fetch' spawned at "), "{text}");
        assert!(
            text.contains("for 150.2 ms in one poll (threshold 100 ms)"),
            "{text}"
        );
        let unnamed = SlowPoll::new(None, Location::caller(), Duration::ZERO, Duration::ZERO);
        assert!(unnamed.to_string().starts_with("task spawned at "));
    }

    #[test]
    fn a_panicking_handler_is_contained() {
        let d = Diagnostics::new().on_slow_poll(|_| panic!("handler bug"));
        let slow = SlowPoll::new(None, Location::caller(), Duration::ZERO, Duration::ZERO);
        d.report_slow_poll(&slow);
    }
}
