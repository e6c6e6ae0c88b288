//! loom models of the executor's hand-off protocols.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p corio-executor --test loom`
//! (or `cargo xtask test --loom`). Each model explores every interleaving
//! (up to the preemption bound) of the code the executor itself runs:
//!
//! * `idle_*`: a producer publishing work races a worker going to sleep; the
//!   work is never stranded with every worker asleep (no lost wake-up).
//! * `gate_*`: a wake-up from another thread (a push to the injector) races
//!   the executor's shutdown; the runnable is dropped exactly once and never
//!   left behind in the closed queue (the executor-dropped-while-a-waker-fires
//!   use-after-free class).
//! * `registry_*`: a task completing (leaving the registry) races shutdown's
//!   drain (cancellation); each waker is dropped exactly once.
#![cfg(loom)]

use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};

use corio_executor::__loom::{Gate, Idle, Owner, Registry};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

#[test]
fn idle_no_lost_wakeup_one_worker() {
    loom::model(|| {
        let idle = Arc::new(Idle::loom_new(1));
        let work = Arc::new(AtomicBool::new(false));
        // The single worker starts searching (it just ran out of work).
        assert!(idle.loom_to_searching());

        let worker = {
            let (idle, work) = (idle.clone(), work.clone());
            thread::spawn(move || {
                if work.load(SeqCst) {
                    return true; // found it while searching
                }
                let last = idle.loom_to_parked(0, true);
                assert!(last, "the only searcher is the last one");
                // The last searcher checks the queues once more.
                work.load(SeqCst)
            })
        };
        let producer = {
            let (idle, work) = (idle.clone(), work.clone());
            thread::spawn(move || {
                work.store(true, SeqCst);
                idle.loom_worker_to_notify()
            })
        };
        let found = worker.join().unwrap();
        let notified = producer.join().unwrap();
        assert!(
            found || notified == Some(0),
            "work published, nobody will run it"
        );
    });
}

#[test]
fn idle_no_lost_wakeup_two_workers() {
    loom::model(|| {
        let idle = Arc::new(Idle::loom_new(2));
        let work = Arc::new(AtomicBool::new(false));
        // Worker 1 is already asleep; worker 0 searches.
        assert!(!idle.loom_to_parked(1, false));
        assert!(idle.loom_to_searching());

        let worker = {
            let (idle, work) = (idle.clone(), work.clone());
            thread::spawn(move || {
                if work.load(SeqCst) {
                    return true;
                }
                let last = idle.loom_to_parked(0, true);
                last && work.load(SeqCst)
            })
        };
        let producer = {
            let (idle, work) = (idle.clone(), work.clone());
            thread::spawn(move || {
                work.store(true, SeqCst);
                idle.loom_worker_to_notify()
            })
        };
        let found = worker.join().unwrap();
        let notified = producer.join().unwrap();
        assert!(
            found || notified.is_some(),
            "work published, nobody will run it"
        );
        if let Some(w) = notified {
            // The notified worker is counted as searching; when it wakes it
            // must see that it was taken off the sleepers list.
            assert_eq!(idle.loom_from_parked(w, false), Some(true));
        }
    });
}

#[test]
fn idle_two_notifications_pick_distinct_workers() {
    loom::model(|| {
        let idle = Arc::new(Idle::loom_new(2));
        assert!(!idle.loom_to_parked(0, false));
        assert!(!idle.loom_to_parked(1, false));
        let a = {
            let idle = idle.clone();
            thread::spawn(move || idle.loom_worker_to_notify())
        };
        let b = idle.loom_worker_to_notify();
        let a = a.join().unwrap();
        // Only one wakes: the first notified worker is searching, so the
        // second producer relies on it.
        assert!(a.is_some() ^ b.is_some());
    });
}

/// Counts drops of the items pushed through a gate.
struct Item(Arc<AtomicUsize>);

impl Drop for Item {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn gate_push_racing_close_never_strands_an_item() {
    loom::model(|| {
        let gate: Arc<Gate<Item>> = Arc::new(Gate::loom_new());
        let drops = Arc::new(AtomicUsize::new(0));
        let pusher = {
            let (gate, drops) = (gate.clone(), drops.clone());
            thread::spawn(move || {
                gate.loom_push(Item(drops));
            })
        };
        gate.loom_close();
        gate.loom_drain();
        pusher.join().unwrap();
        assert_eq!(gate.loom_len(), 0, "an item was left in a closed queue");
        assert_eq!(
            drops.load(SeqCst),
            1,
            "the item was not dropped exactly once"
        );
    });
}

#[test]
fn gate_two_pushers_racing_close() {
    loom::model(|| {
        let gate: Arc<Gate<Item>> = Arc::new(Gate::loom_new());
        let drops = Arc::new(AtomicUsize::new(0));
        let pushers: Vec<_> = (0..2)
            .map(|_| {
                let (gate, drops) = (gate.clone(), drops.clone());
                thread::spawn(move || {
                    gate.loom_push(Item(drops));
                })
            })
            .collect();
        gate.loom_close();
        gate.loom_drain();
        for p in pushers {
            p.join().unwrap();
        }
        assert_eq!(gate.loom_len(), 0);
        assert_eq!(drops.load(SeqCst), 2);
    });
}

/// A waker whose drops show in its `Arc` count (std `Arc`: wakers are not loom objects).
struct CountingWake;

impl Wake for CountingWake {
    fn wake(self: StdArc<Self>) {}
}

#[test]
fn registry_completion_racing_shutdown_drain() {
    loom::model(|| {
        let registry = Arc::new(Registry::loom_new());
        let owner = Arc::new(Owner::loom_new());
        let other = Owner::loom_new();
        let wake = StdArc::new(CountingWake);
        let key = registry
            .loom_insert(&owner, 0, Waker::from(wake.clone()))
            .expect("open registry");
        // Another executor's entry in the same shard is left alone.
        let other_key = registry
            .loom_insert(&other, 0, Waker::from(wake.clone()))
            .expect("open registry");
        // The task completes and leaves the registry...
        let completer = {
            let registry = registry.clone();
            thread::spawn(move || registry.loom_remove(key))
        };
        // ...while shutdown drains it.
        let drained = registry.loom_close_and_drain(&owner);
        let drained_here = drained.len();
        drop(drained);
        completer.join().unwrap();
        assert!(drained_here <= 1);
        assert_eq!(registry.loom_len(&owner), 0);
        assert_eq!(registry.loom_len(&other), 1);
        registry.loom_remove(other_key);
        // Only our clone is left: each registered waker was dropped once.
        assert_eq!(StdArc::strong_count(&wake), 1);
        // A closed owner registers nothing more.
        assert!(registry
            .loom_insert(&owner, 1, Waker::from(wake.clone()))
            .is_none());
    });
}

#[test]
fn registry_insert_racing_close_is_drained_or_refused() {
    loom::model(|| {
        let registry = Arc::new(Registry::loom_new());
        let owner = Arc::new(Owner::loom_new());
        let wake = StdArc::new(CountingWake);
        let inserter = {
            let (registry, owner, wake) = (registry.clone(), owner.clone(), wake.clone());
            thread::spawn(move || registry.loom_insert(&owner, 3, Waker::from(wake)).is_some())
        };
        let drained = registry.loom_close_and_drain(&owner).len();
        let inserted = inserter.join().unwrap();
        // Never left behind: inserted entries were drained, others refused.
        assert_eq!(registry.loom_len(&owner), 0);
        assert_eq!(drained, usize::from(inserted));
    });
}
