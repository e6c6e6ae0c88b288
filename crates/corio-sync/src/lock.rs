//! asyncio's `Lock`, carrying the data it protects (like tokio's `Mutex`).
//!
//! # Design
//!
//! A [`Lock`] is a one-permit [`Semaphore`] (FIFO hand-off, no barging,
//! cancel-safe; see `semaphore.rs`) plus a slot holding the value. This crate
//! forbids `unsafe`, so the value cannot sit in an `UnsafeCell` handed out
//! by reference: instead it lives boxed in a `std::sync::Mutex<Option<Box<T>>>`
//! and the holder of the permit *moves the box out* into its guard, and back
//! when the guard drops (then releases the permit). That inner mutex is
//! never contended (only the permit holder touches it) and is held for a
//! pointer move, never across an `.await`; the guard itself owns a plain
//! `Box<T>`, so it is `Send` when `T` is and may be held across awaits.
//!
//! Invariant: the slot holds the box iff no guard exists (or a guard was
//! leaked, in which case the permit was leaked too and nobody locks again).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdMutexGuard};

use crate::semaphore::{RawAcquire, Semaphore, TryAcquireError};

/// A mutual-exclusion lock for async code; asyncio's `asyncio.Lock`, carrying
/// the data it protects.
///
/// [`lock`](Lock::lock) waits until the lock is free and returns a
/// [`LockGuard`] that derefs to the data; dropping the guard unlocks. Tasks
/// get the lock in the order they asked for it: an unlock hands the lock
/// directly to the first waiter, and [`try_lock`](Lock::try_lock) fails while
/// anyone waits, even if the lock is momentarily free.
///
/// Uncontended, locking costs one compare-and-swap plus moving the boxed value
/// out of its slot. The value is boxed once, by [`Lock::new`].
///
/// `Lock<T>` is `Send` and `Sync` when `T: Send`; the guards are `Send` when
/// `T: Send`, so they may be held across `.await` in spawned tasks.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Lock;
///
/// # futures_lite::future::block_on(async {
/// let counter = Arc::new(Lock::new(0));
/// {
///     let mut n = counter.lock().await;
///     *n += 1;
/// }
/// assert_eq!(*counter.lock().await, 1);
/// # });
/// ```
pub struct Lock<T: ?Sized> {
    sem: Semaphore,
    slot: StdMutex<Option<Box<T>>>,
}

impl<T> Lock<T> {
    /// Creates an unlocked lock holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(vec![1, 2]);
    /// assert!(!lock.is_locked());
    /// ```
    pub fn new(value: T) -> Lock<T> {
        Lock::from(Box::new(value))
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Panics
    ///
    /// If a guard was leaked (`std::mem::forget`), which leaves the value in
    /// the leaked guard.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(5);
    /// assert_eq!(lock.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        *self.into_box()
    }
}

impl<T: ?Sized> From<Box<T>> for Lock<T> {
    /// Creates an unlocked lock holding the boxed value (which also works for
    /// unsized values such as `Box<[u8]>` or `Box<dyn Trait + Send>`).
    fn from(value: Box<T>) -> Lock<T> {
        Lock {
            sem: Semaphore::new(1),
            slot: StdMutex::new(Some(value)),
        }
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Lock<T> {
        Lock::new(T::default())
    }
}

impl<T: ?Sized> Lock<T> {
    /// Waits for the lock and returns a guard; like `async with lock:`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, and the place in the queue is lost. If the future is
    /// dropped after the lock was handed to it but before it returned the
    /// guard, the lock goes to the next waiter (or is unlocked): it is never
    /// left locked by nobody.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let lock = corio_sync::Lock::new(String::new());
    /// lock.lock().await.push_str("hi");
    /// assert_eq!(*lock.lock().await, "hi");
    /// # });
    /// ```
    pub async fn lock(&self) -> LockGuard<'_, T> {
        self.acquire().await;
        LockGuard {
            lock: self,
            data: Some(self.take()),
        }
    }

    /// Locks if the lock is free and nobody waits for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or tasks are waiting for it (no
    /// barging).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(1);
    /// let g = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_err());
    /// drop(g);
    /// assert!(lock.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<LockGuard<'_, T>, TryLockError> {
        self.try_acquire()?;
        Ok(LockGuard {
            lock: self,
            data: Some(self.take()),
        })
    }

    /// Waits for the lock through an `Arc` and returns a `'static` guard.
    ///
    /// The [`OwnedLockGuard`] keeps the `Arc` alive, so it can move into
    /// spawned tasks and be unlocked by another task.
    ///
    /// # Cancel safety
    ///
    /// As [`lock`](Self::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # futures_lite::future::block_on(async {
    /// let lock = Arc::new(corio_sync::Lock::new(0));
    /// let mut guard = lock.clone().lock_owned().await;
    /// *guard += 1;
    /// drop(guard);
    /// assert_eq!(*lock.lock().await, 1);
    /// # });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedLockGuard<T> {
        self.acquire().await;
        let data = Some(self.take());
        OwnedLockGuard { lock: self, data }
    }

    /// Locks through an `Arc` if the lock is free and nobody waits.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or tasks are waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(corio_sync::Lock::new(0));
    /// let g = lock.clone().try_lock_owned().unwrap();
    /// assert!(lock.clone().try_lock_owned().is_err());
    /// drop(g);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedLockGuard<T>, TryLockError> {
        self.try_acquire()?;
        let data = Some(self.take());
        Ok(OwnedLockGuard { lock: self, data })
    }

    /// Whether the lock is held; asyncio's `Lock.locked()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(());
    /// let g = lock.try_lock().unwrap();
    /// assert!(lock.is_locked());
    /// drop(g);
    /// assert!(!lock.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.sem.available_permits() == 0
    }

    /// A mutable reference to the value; no locking needed, the borrow
    /// proves exclusive access.
    ///
    /// # Panics
    ///
    /// If a guard was leaked (`std::mem::forget`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = corio_sync::Lock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.slot
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .as_deref_mut()
            .expect("Lock::get_mut: a guard of this lock was leaked")
    }

    /// Consumes the lock and returns the boxed value (works for unsized `T`).
    ///
    /// # Panics
    ///
    /// If a guard was leaked (`std::mem::forget`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock: corio_sync::Lock<[u8]> = corio_sync::Lock::from(vec![1u8, 2].into_boxed_slice());
    /// assert_eq!(&*lock.into_box(), &[1, 2]);
    /// ```
    pub fn into_box(self) -> Box<T> {
        self.slot
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .expect("Lock::into_inner: a guard of this lock was leaked")
    }

    async fn acquire(&self) {
        if RawAcquire::new(&self.sem, 1).await.is_err() {
            unreachable!("a Lock's semaphore is never closed");
        }
    }

    fn try_acquire(&self) -> Result<(), TryLockError> {
        self.sem.try_acquire_raw(1).map_err(|e| {
            debug_assert_eq!(e, TryAcquireError::NoPermits);
            TryLockError(())
        })
    }

    fn slot(&self) -> StdMutexGuard<'_, Option<Box<T>>> {
        // Poison is impossible in practice: nothing here panics while holding it.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// With the permit held: moves the value out of the slot.
    fn take(&self) -> Box<T> {
        self.slot()
            .take()
            .expect("a Lock's value is in its slot whenever the lock is free")
    }

    /// With the permit held: puts the value back, then unlocks.
    fn put_back_and_unlock(&self, data: Option<Box<T>>) {
        if let Some(data) = data {
            *self.slot() = Some(data);
        }
        // One permit back: to the first waiter if there is one.
        let _ = self.sem.release_n(1, false);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Lock");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Exclusive access to a [`Lock`]'s value; dropping it unlocks.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// let lock = corio_sync::Lock::new(vec![1]);
/// let mut guard = lock.lock().await;
/// guard.push(2);
/// assert_eq!(*guard, [1, 2]);
/// # });
/// ```
#[must_use = "if unused the Lock unlocks at once"]
pub struct LockGuard<'a, T: ?Sized> {
    lock: &'a Lock<T>,
    /// `Some` until dropped.
    data: Option<Box<T>>,
}

impl<'a, T: ?Sized> LockGuard<'a, T> {
    /// The lock this guard holds.
    pub(crate) fn lock_ref(&self) -> &'a Lock<T> {
        self.lock
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.data.as_deref().expect("the guard holds the value")
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.data.as_deref_mut().expect("the guard holds the value")
    }
}

impl<T: ?Sized> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.put_back_and_unlock(self.data.take());
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive access to the value of an `Arc<Lock<T>>`; dropping it unlocks.
///
/// It owns a clone of the `Arc`, so it is `'static` and (when `T: Send`)
/// `Send`: it can be locked in one task and dropped in another.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let lock = Arc::new(corio_sync::Lock::new(0));
/// let mut guard = lock.clone().try_lock_owned().unwrap();
/// std::thread::spawn(move || *guard += 1).join().unwrap();
/// assert_eq!(*lock.try_lock().unwrap(), 1);
/// ```
#[must_use = "if unused the Lock unlocks at once"]
pub struct OwnedLockGuard<T: ?Sized> {
    lock: Arc<Lock<T>>,
    data: Option<Box<T>>,
}

impl<T: ?Sized> OwnedLockGuard<T> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(corio_sync::Lock::new(0));
    /// let guard = lock.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(guard.lock(), &lock));
    /// ```
    pub fn lock(&self) -> &Arc<Lock<T>> {
        &self.lock
    }
}

impl<T: ?Sized> Deref for OwnedLockGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.data.as_deref().expect("the guard holds the value")
    }
}

impl<T: ?Sized> DerefMut for OwnedLockGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.data.as_deref_mut().expect("the guard holds the value")
    }
}

impl<T: ?Sized> Drop for OwnedLockGuard<T> {
    fn drop(&mut self) {
        self.lock.put_back_and_unlock(self.data.take());
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedLockGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedLockGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// The error of [`Lock::try_lock`]: the lock is held, or tasks wait for it.
///
/// # Examples
///
/// ```
/// let lock = corio_sync::Lock::new(());
/// let _g = lock.try_lock().unwrap();
/// let err = lock.try_lock().unwrap_err();
/// assert_eq!(err.to_string(), "the lock is held or tasks are waiting for it");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(());

impl TryLockError {
    pub(crate) fn new() -> TryLockError {
        TryLockError(())
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held or tasks are waiting for it")
    }
}

impl std::error::Error for TryLockError {}
