//! `ping_pong`: the latency of the wake path, from `Waker::wake` in one task to the poll of
//! the woken task.
//!
//! Two tasks pass a token back and forth `n` times through two [`Notify`]s: `ping` notifies
//! `pong` and waits, `pong` waits and notifies `ping`. At any moment exactly one of them can
//! run, so a round trip is two wake-ups and two polls, and nothing else. A multi-thread
//! runtime shows here whether it keeps the woken task on the waker's worker (a LIFO slot)
//! or bounces it across threads. The same [`Notify`] serves every runtime.

use std::sync::Arc;
use std::time::Instant;

use super::Measured;
use crate::notify::Notify;
use crate::runtime::Spawner;

/// One per round trip.
pub(super) fn expected(n: u64) -> u64 {
    n
}

pub(super) async fn run(spawner: &Spawner, n: u64) -> Measured {
    let to_pong = Arc::new(Notify::new());
    let to_ping = Arc::new(Notify::new());
    let start = Instant::now();
    let pong = spawner.spawn(pong(n, to_pong.clone(), to_ping.clone()));
    let ping = spawner.spawn(ping(n, to_pong, to_ping));
    let trips = ping.await;
    pong.await;
    Measured {
        elapsed: start.elapsed(),
        check: trips,
    }
}

async fn ping(n: u64, to_pong: Arc<Notify>, to_ping: Arc<Notify>) -> u64 {
    let mut trips = 0;
    for _ in 0..n {
        to_pong.notify();
        to_ping.wait().await;
        trips += 1;
    }
    trips
}

async fn pong(n: u64, to_pong: Arc<Notify>, to_ping: Arc<Notify>) {
    for _ in 0..n {
        to_pong.wait().await;
        to_ping.notify();
    }
}
