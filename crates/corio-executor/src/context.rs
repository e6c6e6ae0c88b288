//! What the current thread is running: the thread-local context.
//!
//! * `SPAWN_TARGET`: where [`spawn`](crate::spawn) sends a task from this
//!   thread — the executor whose worker this is, the executor entered by
//!   `block_on`, or a current-thread executor.
//! * `CURRENT`: the executor whose task is being polled on this thread, so a
//!   task can register its waker in that executor's registry and report an
//!   unobserved panic to that executor's policy.
//!
//! Both are set by guards that restore the previous value when dropped, so
//! runtimes nest (a `block_on` inside a blocking closure, a local executor
//! inside a worker) and unwind cleanly.

use std::cell::RefCell;
use std::sync::Arc;

use crate::local::LocalShared;
use crate::multi::Shared;
use crate::panic::Hooks;
use crate::registry::Owner;

/// What a task needs from the executor that polls it.
#[derive(Debug)]
pub(crate) struct Common {
    pub(crate) owner: Owner,
    pub(crate) hooks: Arc<Hooks>,
}

/// Where `spawn` sends a new task.
#[derive(Clone, Debug)]
pub(crate) enum SpawnTarget {
    Multi(Arc<Shared>),
    Local(Arc<LocalShared>),
}

thread_local! {
    static SPAWN_TARGET: RefCell<Option<SpawnTarget>> = const { RefCell::new(None) };
    static CURRENT: RefCell<Option<(Arc<Common>, usize)>> = const { RefCell::new(None) };
}

/// Restores the previous spawn target when dropped.
#[derive(Debug)]
pub(crate) struct SpawnGuard(Option<SpawnTarget>);

impl Drop for SpawnGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        let _ = SPAWN_TARGET.try_with(|t| *t.borrow_mut() = prev);
    }
}

/// Makes `target` this thread's spawn target until the guard drops.
pub(crate) fn enter_spawn(target: SpawnTarget) -> SpawnGuard {
    SpawnGuard(SPAWN_TARGET.with(|t| t.borrow_mut().replace(target)))
}

/// Calls `f` with this thread's spawn target.
pub(crate) fn with_spawn_target<R>(f: impl FnOnce(Option<&SpawnTarget>) -> R) -> R {
    SPAWN_TARGET.with(|t| f(t.borrow().as_ref()))
}

/// Restores the previous current executor when dropped.
#[derive(Debug)]
pub(crate) struct CurrentGuard(Option<(Arc<Common>, usize)>);

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
    }
}

/// Marks this thread as polling tasks of `common` (registry shard `shard`).
pub(crate) fn enter_current(common: Arc<Common>, shard: usize) -> CurrentGuard {
    CurrentGuard(CURRENT.with(|c| c.borrow_mut().replace((common, shard))))
}

/// Calls `f` with the executor polling the current task, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&(Arc<Common>, usize)>) -> R) -> R {
    let mut f = Some(f);
    let mut call = |c: Option<&(Arc<Common>, usize)>| (f.take().expect("called once"))(c);
    match CURRENT.try_with(|c| call(c.borrow().as_ref())) {
        Ok(r) => r,
        Err(_) => call(None),
    }
}
