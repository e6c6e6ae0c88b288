//! The driver itself: `block_on`, `Parker`, the poll lock and its standbys,
//! `Reactor::notify`, and timers fired by the thread that waits in the reactor.

use std::future::Future as _;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use corio_reactor::{block_on, Parker, Reactor};
use futures_lite::future;

const MS: Duration = Duration::from_millis(1);

#[test]
fn block_on_returns_the_output() {
    assert_eq!(block_on(async { 40 + 2 }), 42);
    // Nested: the inner call gets its own parker.
    assert_eq!(block_on(async { block_on(async { 7 }) }), 7);
}

#[test]
fn block_on_polls_again_after_a_wake_from_another_thread() {
    let (tx, rx) = mpsc::channel::<std::task::Waker>();
    let polls = AtomicUsize::new(0);
    let waker_thread = thread::spawn(move || {
        let w = rx.recv().unwrap();
        thread::sleep(20 * MS);
        w.wake();
    });
    let start = Instant::now();
    block_on(future::poll_fn(|cx| {
        if polls.fetch_add(1, SeqCst) == 0 {
            tx.send(cx.waker().clone()).unwrap();
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }));
    waker_thread.join().unwrap();
    assert!(start.elapsed() >= 20 * MS);
    assert_eq!(
        polls.load(SeqCst),
        2,
        "no spurious polls while blocked in the reactor"
    );
}

#[test]
fn block_on_survives_a_self_waking_future() {
    // A future that always wakes itself must still let timers fire.
    let mut yields = 0u64;
    let start = Instant::now();
    let sleep = corio_timer::sleep(15 * MS);
    futures_lite::pin!(sleep);
    block_on(future::poll_fn(|cx| {
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        yields += 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }));
    assert!(start.elapsed() >= 15 * MS);
    assert!(yields > 0);
}

#[test]
fn sleep_inside_block_on_takes_about_its_duration() {
    // The timer fires from the thread blocked in the reactor: not earlier than
    // asked, and not much later.
    for _ in 0..3 {
        let start = Instant::now();
        block_on(corio_timer::sleep(20 * MS));
        let took = start.elapsed();
        assert!(took >= 20 * MS, "woke early: {took:?}");
        assert!(took < 200 * MS, "woke late: {took:?}");
    }
}

#[test]
fn concurrent_sleeps_each_wait_their_own_duration() {
    // Three sleeps in one `block_on`: each ends no earlier than asked, and
    // the whole takes the longest, not the sum. (The order in which `zip`
    // sees them is not the firing order when two fire in one poll, so this
    // checks times, not order; corio-timer's tests check the order.)
    let start = Instant::now();
    let sleep_for = |ms: u32| async move {
        let begin = Instant::now();
        corio_timer::sleep(ms * MS).await;
        (begin.elapsed(), ms * MS)
    };
    let (a, (b, c)) = block_on(future::zip(
        sleep_for(30),
        future::zip(sleep_for(10), sleep_for(20)),
    ));
    for (took, asked) in [a, b, c] {
        assert!(took >= asked, "woke early: {took:?} < {asked:?}");
    }
    let took = start.elapsed();
    assert!((30 * MS..500 * MS).contains(&took), "{took:?}");
}

#[test]
fn timeout_fires_under_the_reactor() {
    let start = Instant::now();
    let res = block_on(corio_timer::timeout(25 * MS, future::pending::<()>()));
    assert!(res.is_err());
    assert!(start.elapsed() >= 25 * MS);
}

#[test]
fn notify_interrupts_a_blocked_poll() {
    // Whoever holds the poll lock is interrupted; if another test thread
    // holds it, `notify` still makes its poll return.
    let reactor = Reactor::get();
    let (tx, rx) = mpsc::channel();
    let poller = thread::spawn(move || {
        let start = Instant::now();
        loop {
            if let Some(mut guard) = Reactor::get().try_lock_poll() {
                tx.send(()).unwrap();
                guard.poll(Some(Duration::from_secs(10))).unwrap();
                return start.elapsed();
            }
            thread::sleep(MS);
        }
    });
    rx.recv().unwrap();
    thread::sleep(20 * MS);
    reactor.notify().unwrap();
    let took = poller.join().unwrap();
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn parker_park_and_unpark() {
    let parker = Parker::new();
    // A stored token makes the next park return at once.
    parker.unpark();
    let start = Instant::now();
    parker.park(None);
    assert!(start.elapsed() < Duration::from_secs(1));

    // A zero timeout never blocks.
    let start = Instant::now();
    for _ in 0..100 {
        parker.park(Some(Duration::ZERO));
    }
    assert!(start.elapsed() < Duration::from_secs(1));

    // A timeout ends the wait. (It may end earlier: a poll that woke another
    // test's task returns too.)
    let start = Instant::now();
    parker.park(Some(10 * MS));
    assert!(start.elapsed() < Duration::from_secs(5));

    // An unpark from another thread ends an untimed wait, however many
    // spurious returns come first.
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (p, f) = (parker.clone(), flag.clone());
    let t = thread::spawn(move || {
        thread::sleep(20 * MS);
        f.store(true, SeqCst);
        p.unpark();
    });
    let start = Instant::now();
    while !flag.load(SeqCst) {
        parker.park(None);
    }
    t.join().unwrap();
    assert!(start.elapsed() >= 10 * MS);
}

#[test]
fn many_parkers_wake_each_other() {
    // Eight threads park; only one can poll at a time, the others wait as
    // standbys. Every unpark must reach its thread.
    let parkers: Vec<Parker> = (0..8).map(|_| Parker::new()).collect();
    let rounds = 200;
    let woken = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = parkers
        .iter()
        .cloned()
        .map(|p| {
            let woken = woken.clone();
            thread::spawn(move || {
                for _ in 0..rounds {
                    p.park(None);
                    woken.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while woken.load(SeqCst) < 8 * rounds {
        assert!(
            Instant::now() < deadline,
            "lost wake-ups: {}",
            woken.load(SeqCst)
        );
        for p in &parkers {
            p.unpark();
        }
        thread::yield_now();
    }
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_standby_takes_over_when_the_poller_leaves() {
    // Thread A waits in the reactor (it polls) for a message that does not
    // come through the reactor; thread B, a standby, waits for a timer. When
    // A's future completes and A stops polling, B must take over polling and
    // fire its own timer on time.
    let (tx, rx) = mpsc::channel::<()>();
    let a = thread::spawn(move || {
        block_on(future::poll_fn(|cx| match rx.try_recv() {
            Ok(()) => Poll::Ready(()),
            Err(_) => {
                let w = cx.waker().clone();
                thread::spawn(move || {
                    thread::sleep(10 * MS);
                    w.wake();
                });
                Poll::Pending
            }
        }))
    });
    thread::sleep(5 * MS);
    let b = thread::spawn(|| {
        let start = Instant::now();
        block_on(corio_timer::sleep(150 * MS));
        start.elapsed()
    });
    thread::sleep(30 * MS);
    tx.send(()).unwrap();
    a.join().unwrap();
    let took = b.join().unwrap();
    assert!((150 * MS..2000 * MS).contains(&took), "{took:?}");
}

#[test]
fn concurrent_block_on_threads_all_finish() {
    let threads: Vec<_> = (0..6)
        .map(|i| {
            thread::spawn(move || {
                let start = Instant::now();
                block_on(corio_timer::sleep((10 + 5 * i) * MS));
                (start.elapsed(), (10 + 5 * i) * MS)
            })
        })
        .collect();
    for t in threads {
        let (took, asked) = t.join().unwrap();
        assert!(
            took >= asked && took < asked + Duration::from_secs(2),
            "{took:?} for {asked:?}"
        );
    }
}

#[test]
fn hand_over_stress() {
    // Threads come and go from `block_on` with short sleeps and socket
    // round trips, so the poll lock changes hands all the time. A lost
    // hand-over leaves a thread waiting as a standby with nobody polling,
    // which the watchdog below reports instead of hanging.
    use std::io::{Read, Write};
    const THREADS: usize = 6;
    let (tx, rx) = mpsc::channel();
    for t in 0..THREADS {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..150usize {
                let micros = ((t * 7 + i * 13) % 5) as u64 * 300;
                block_on(corio_timer::sleep(Duration::from_micros(micros)));
                if i % 3 == t % 3 {
                    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
                    let b = corio_reactor::Async::new(b).unwrap();
                    let writer = thread::spawn(move || {
                        thread::sleep(Duration::from_micros(200));
                        (&a).write_all(b"x").unwrap();
                        a
                    });
                    let mut buf = [0; 1];
                    block_on(b.read_with(|s| (&*s).read(&mut buf))).unwrap();
                    drop(writer.join().unwrap());
                }
            }
            tx.send(()).unwrap();
        });
    }
    for _ in 0..THREADS {
        rx.recv_timeout(Duration::from_secs(60))
            .expect("a block_on thread hung: a lost poll-lock hand-over");
    }
}
