//! A FIFO-fair readers-writer lock carrying its data.
//!
//! # Design
//!
//! Like tokio's `RwLock`, an [`RwLock`] is a [`Semaphore`] of
//! `MAX_READS` permits: a reader takes one, a writer takes all of them. The
//! semaphore is FIFO and hands released permits to the head waiter, so a
//! queued writer collects permits as readers leave and every later reader
//! waits behind it: writers cannot starve, and readers cannot barge.
//!
//! This crate forbids `unsafe`, so the value lives in an `Arc<T>` in a slot
//! (`std::sync::RwLock<Option<Arc<T>>>`, held only for a pointer copy). A
//! reader clones the `Arc` into its guard; a writer (holding every permit,
//! so no reader guard exists) moves the `Arc` out and mutates it through
//! `Arc::get_mut`, which cannot fail then. Guards put the value back (or
//! drop their clone) *before* releasing their permits.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, RwLock as StdRwLock};

use crate::semaphore::{RawAcquire, Semaphore};

/// How many readers may hold the lock at once.
const MAX_READS: usize = (u32::MAX >> 3) as usize;

/// A readers-writer lock for async code, FIFO-fair, carrying its data.
///
/// asyncio has no readers-writer lock; this is the one `corio` offers next to
/// [`Lock`](crate::Lock). Any number of [`read`](RwLock::read) guards, or one
/// [`write`](RwLock::write) guard, may exist at a time. Waiters are served in
/// arrival order: a queued writer blocks the readers that come after it, so
/// writers never starve, and `try_read`/`try_write` fail while anyone waits.
///
/// `RwLock<T>` is `Send` and `Sync` when `T: Send + Sync` (readers share the
/// value through an `Arc`).
///
/// # Examples
///
/// ```
/// use corio_sync::RwLock;
///
/// # futures_lite::future::block_on(async {
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().await;
///     let r2 = lock.read().await;
///     assert_eq!(*r1 + *r2, 10);
///     assert!(lock.try_write().is_err());
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    sem: Semaphore,
    slot: StdRwLock<Option<Arc<T>>>,
}

impl<T> RwLock<T> {
    /// Creates an unlocked `RwLock` holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::RwLock::new("x");
    /// assert_eq!(*lock.try_read().unwrap(), "x");
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock::from(Box::new(value))
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Panics
    ///
    /// If a guard was leaked (`std::mem::forget`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::RwLock::new(3);
    /// assert_eq!(lock.into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        let arc = self
            .slot
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .expect("RwLock::into_inner: a guard of this lock was leaked");
        Arc::try_unwrap(arc)
            .ok()
            .expect("RwLock::into_inner: a read guard of this lock was leaked")
    }
}

impl<T: ?Sized> From<Box<T>> for RwLock<T> {
    /// Creates an unlocked `RwLock` holding the boxed (possibly unsized) value.
    fn from(value: Box<T>) -> RwLock<T> {
        RwLock {
            sem: Semaphore::new(MAX_READS),
            slot: StdRwLock::new(Some(Arc::from(value))),
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared (read) access.
    ///
    /// Waits while a writer holds the lock or waits for it (FIFO).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, and the place in the queue is lost. If dropped after
    /// read access was handed to it, that access passes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let lock = corio_sync::RwLock::new(vec![1]);
    /// assert_eq!(lock.read().await.len(), 1);
    /// # });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        if RawAcquire::new(&self.sem, 1).await.is_err() {
            unreachable!("an RwLock's semaphore is never closed");
        }
        self.read_guard()
    }

    /// Waits for exclusive (write) access.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, and the place in the queue is lost. A writer dropped while
    /// waiting (it may have collected part of the readers' permits) gives
    /// back what it collected to the next waiters; dropped after the lock was
    /// handed to it, it passes the lock on.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let lock = corio_sync::RwLock::new(0);
    /// *lock.write().await = 9;
    /// assert_eq!(*lock.read().await, 9);
    /// # });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        if RawAcquire::new(&self.sem, MAX_READS).await.is_err() {
            unreachable!("an RwLock's semaphore is never closed");
        }
        self.write_guard()
    }

    /// Takes shared access if no writer holds or waits for the lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`](crate::TryLockError) if a writer holds the lock or
    /// tasks wait for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::RwLock::new(1);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(w);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, crate::TryLockError> {
        self.sem
            .try_acquire_raw(1)
            .map_err(|_| crate::TryLockError::new())?;
        Ok(self.read_guard())
    }

    /// Takes exclusive access if nobody holds or waits for the lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`](crate::TryLockError) if the lock is held (by readers
    /// or a writer) or tasks wait for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// assert!(lock.try_write().is_ok());
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, crate::TryLockError> {
        self.sem
            .try_acquire_raw(MAX_READS)
            .map_err(|_| crate::TryLockError::new())?;
        Ok(self.write_guard())
    }

    /// A mutable reference to the value; the borrow proves exclusive access.
    ///
    /// # Panics
    ///
    /// If a guard was leaked (`std::mem::forget`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = corio_sync::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        let arc = self
            .slot
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
            .expect("RwLock::get_mut: a guard of this lock was leaked");
        Arc::get_mut(arc).expect("RwLock::get_mut: a read guard of this lock was leaked")
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        let data = self
            .slot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .expect("an RwLock's value is in its slot while no writer holds it");
        RwLockReadGuard {
            lock: self,
            data: Some(data),
        }
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        let data = self
            .slot
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("an RwLock's value is in its slot while no writer holds it");
        RwLockWriteGuard {
            lock: self,
            data: Some(data),
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Shared access to an [`RwLock`]'s value; dropping it releases the access.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let lock = corio_sync::RwLock::new(String::from("hi"));
/// let guard = lock.read().await;
/// assert_eq!(guard.len(), 2);
/// # });
/// ```
#[must_use = "if unused the RwLock is released at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    /// `Some` until dropped.
    data: Option<Arc<T>>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.data.as_deref().expect("the guard holds the value")
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        // Drop our clone first, so that a writer finds the Arc unique.
        drop(self.data.take());
        let _ = self.lock.sem.release_n(1, false);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]'s value; dropping it unlocks.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let lock = corio_sync::RwLock::new(vec![1]);
/// let mut guard = lock.write().await;
/// guard.push(2);
/// assert_eq!(*guard, [1, 2]);
/// # });
/// ```
#[must_use = "if unused the RwLock is released at once"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    /// `Some` until dropped; unique while the guard lives.
    data: Option<Arc<T>>,
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.data.as_deref().expect("the guard holds the value")
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        let arc = self.data.as_mut().expect("the guard holds the value");
        Arc::get_mut(arc).expect("no read guard exists while a writer holds the lock")
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(data) = self.data.take() {
            *self.lock.slot.write().unwrap_or_else(|e| e.into_inner()) = Some(data);
        }
        let _ = self.lock.sem.release_n(MAX_READS, false);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
