//! Panics nobody observed: asyncio's "Task exception was never retrieved".
//!
//! A panic inside a task is caught and handed to whoever awaits the task's
//! [`Task`](crate::Task). When nobody will (the task was detached, or its
//! handle was dropped without being awaited), the panic goes to the runtime's
//! [`UnhandledPanic`] policy instead of vanishing.

use std::any::Any;
use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::task::Waker;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::debug::Diagnostics;

/// What a runtime does with the panic of a task that nobody awaits.
///
/// # Examples
///
/// ```
/// use corio_executor::{Executor, UnhandledPanic};
///
/// let ex = Executor::builder()
///     .worker_threads(1)
///     .unhandled_panic(UnhandledPanic::Ignore)
///     .build()
///     .unwrap();
/// drop(ex.spawn(async { panic!("nobody will know") }));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// Print one line on stderr with the task's name, spawn location and
    /// panic message (the default).
    Log,
    /// Drop the panic silently.
    Ignore,
    /// Shut the runtime down: the thread blocked in `block_on` panics with
    /// the task's panic message.
    ShutdownRuntime,
    /// Call a function of yours.
    Custom(Arc<dyn Fn(UnobservedPanic) + Send + Sync>),
}

impl fmt::Debug for UnhandledPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnhandledPanic::Log => f.write_str("Log"),
            UnhandledPanic::Ignore => f.write_str("Ignore"),
            UnhandledPanic::ShutdownRuntime => f.write_str("ShutdownRuntime"),
            UnhandledPanic::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// The panic of a task nobody awaited, as given to [`UnhandledPanic::Custom`].
///
/// # Examples
///
/// ```
/// use corio_executor::{Executor, UnhandledPanic};
/// use std::sync::{mpsc, Arc, Mutex};
///
/// let (tx, rx) = mpsc::channel();
/// let tx = Mutex::new(tx);
/// let ex = Executor::builder()
///     .unhandled_panic(UnhandledPanic::Custom(Arc::new(move |p| {
///         tx.lock().unwrap().send(p.message().unwrap_or("").to_string()).unwrap();
///     })))
///     .build()
///     .unwrap();
/// ex.spawn(async { panic!("oops") }).detach();
/// assert_eq!(rx.recv().unwrap(), "oops");
/// ```
pub struct UnobservedPanic {
    pub(crate) name: Option<String>,
    pub(crate) location: &'static Location<'static>,
    pub(crate) payload: Box<dyn Any + Send>,
}

impl UnobservedPanic {
    /// The task's name, if it was given one.
    pub fn task_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    pub fn spawn_location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The panic message, when the payload is a string.
    pub fn message(&self) -> Option<&str> {
        payload_message(&*self.payload)
    }

    /// The panic payload.
    pub fn into_payload(self) -> Box<dyn Any + Send> {
        self.payload
    }
}

impl fmt::Debug for UnobservedPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnobservedPanic")
            .field("name", &self.name)
            .field("location", &self.location)
            .field("message", &self.message())
            .finish()
    }
}

/// "task 'name'", or "task" for an unnamed one: how reports name a task.
pub(crate) struct TaskLabel<'a>(pub(crate) Option<&'a str>);

impl fmt::Display for TaskLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(name) => write!(f, "task '{name}'"),
            None => f.write_str("task"),
        }
    }
}

impl fmt::Display for UnobservedPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spawned at {} panicked and nobody awaited it: {}",
            TaskLabel(self.name.as_deref()),
            self.location,
            self.message().unwrap_or("<non-string panic payload>")
        )
    }
}

/// The message of a panic payload, when it is a `&str` or a `String`.
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> Option<&str> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some(s)
    } else {
        payload.downcast_ref::<String>().map(String::as_str)
    }
}

/// A runtime's panic policy plus the "shut down" signal it may raise.
pub(crate) struct Hooks {
    policy: UnhandledPanic,
    diagnostics: Diagnostics,
    fatal: AtomicBool,
    fatal_message: Mutex<Option<String>>,
    fatal_wakers: Mutex<Vec<Waker>>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("policy", &self.policy)
            .field("diagnostics", &self.diagnostics)
            .finish_non_exhaustive()
    }
}

impl Hooks {
    pub(crate) fn new(policy: UnhandledPanic) -> Hooks {
        Hooks::with_diagnostics(policy, Diagnostics::new())
    }

    pub(crate) fn with_diagnostics(policy: UnhandledPanic, diagnostics: Diagnostics) -> Hooks {
        Hooks {
            policy,
            diagnostics,
            fatal: AtomicBool::new(false),
            fatal_message: Mutex::new(None),
            fatal_wakers: Mutex::new(Vec::new()),
        }
    }

    /// What debug mode reports for this runtime.
    pub(crate) fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    /// Applies the policy to a panic nobody will observe.
    pub(crate) fn report(&self, panic: UnobservedPanic) {
        match &self.policy {
            UnhandledPanic::Ignore => {}
            UnhandledPanic::Log => eprintln!("corio: {panic}"),
            UnhandledPanic::Custom(f) => {
                // A panicking handler must not take the worker down.
                let f = f.clone();
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || f(panic)));
            }
            UnhandledPanic::ShutdownRuntime => {
                let mut msg = self.fatal_message.lock().unwrap_or_else(|e| e.into_inner());
                if msg.is_none() {
                    *msg = Some(panic.to_string());
                }
                drop(msg);
                self.fatal.store(true, Ordering::SeqCst);
                let wakers = std::mem::take(
                    &mut *self.fatal_wakers.lock().unwrap_or_else(|e| e.into_inner()),
                );
                for w in wakers {
                    w.wake();
                }
            }
        }
    }

    /// The message of the panic that asked the runtime to shut down, if any;
    /// otherwise registers `waker` to be woken when that happens.
    pub(crate) fn poll_fatal(&self, waker: &Waker) -> Option<String> {
        if !self.fatal.load(Ordering::SeqCst) {
            if !matches!(self.policy, UnhandledPanic::ShutdownRuntime) {
                return None;
            }
            let mut wakers = self.fatal_wakers.lock().unwrap_or_else(|e| e.into_inner());
            if !wakers.iter().any(|w| w.will_wake(waker)) {
                wakers.push(waker.clone());
            }
            drop(wakers);
            if !self.fatal.load(Ordering::SeqCst) {
                return None;
            }
        }
        self.fatal_message
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
