//! `mpmc`: producers and consumers sharing one bounded channel.
//!
//! [`PRODUCERS`] tasks send `n / PRODUCERS` numbers each into one channel of capacity
//! [`CAPACITY`]; [`CONSUMERS`] tasks receive until the channel closes and sum what they
//! got. The channel fills and drains all the time, so both sides keep parking and waking
//! each other across the workers. The channels:
//!
//! - corio: `corio::sync::channel::bounded(CAPACITY)`, cloned senders and receivers;
//! - smol: `async_channel::bounded(CAPACITY)`, the same shape;
//! - tokio has no multi-consumer channel: `tokio::sync::mpsc::channel(CAPACITY)` with its
//!   receiver shared behind a `tokio::sync::Mutex`, the usual way tokio programs hand one
//!   queue of work to several consumers.

use std::sync::Arc;
use std::time::Instant;

use super::Measured;
use crate::runtime::{Family, Spawner};

/// Tasks sending.
pub(super) const PRODUCERS: u64 = 4;
/// Tasks receiving.
pub(super) const CONSUMERS: u64 = 4;
/// The channel's capacity.
pub(super) const CAPACITY: usize = 1024;

/// The sum of everything sent: each producer sends `0..n / PRODUCERS`.
pub(super) fn expected(n: u64) -> u64 {
    let per = n / PRODUCERS;
    PRODUCERS * (per * per.saturating_sub(1) / 2)
}

/// The corio and smol versions, written once: their channels have the same shape
/// (cloneable senders and receivers, `send().await` and `recv().await` returning
/// `Result`) but no common trait.
macro_rules! spawn_all {
    ($spawner:expr, $per:expr, $producers:expr, $consumers:expr, $channel:expr) => {{
        let (tx, rx) = $channel;
        for _ in 0..PRODUCERS {
            let tx = tx.clone();
            $producers.push($spawner.spawn(async move {
                for i in 0..$per {
                    tx.send(i).await.expect("consumers are alive");
                }
                0
            }));
        }
        for _ in 0..CONSUMERS {
            let rx = rx.clone();
            $consumers.push($spawner.spawn(async move {
                let mut sum = 0;
                while let Ok(v) = rx.recv().await {
                    sum += v;
                }
                sum
            }));
        }
    }};
}

pub(super) async fn run(spawner: &Spawner, n: u64) -> Measured {
    let per = n / PRODUCERS;
    let start = Instant::now();
    let mut producers = Vec::new();
    let mut consumers = Vec::new();
    match spawner.family() {
        Family::Corio => spawn_all!(
            spawner,
            per,
            producers,
            consumers,
            corio::sync::channel::bounded::<u64>(CAPACITY)
        ),
        Family::Smol => spawn_all!(
            spawner,
            per,
            producers,
            consumers,
            async_channel::bounded::<u64>(CAPACITY)
        ),
        Family::Tokio => {
            let (tx, rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            for _ in 0..PRODUCERS {
                let tx = tx.clone();
                producers.push(spawner.spawn(async move {
                    for i in 0..per {
                        tx.send(i).await.expect("consumers are alive");
                    }
                    0
                }));
            }
            for _ in 0..CONSUMERS {
                let rx = rx.clone();
                consumers.push(spawner.spawn(async move {
                    let mut sum = 0;
                    while let Some(v) = rx.lock().await.recv().await {
                        sum += v;
                    }
                    sum
                }));
            }
        }
    }
    // The senders moved into the producers; the channel closes when the last one ends.
    for p in producers {
        p.await;
    }
    let mut sum = 0;
    for c in consumers {
        sum += c.await;
    }
    Measured {
        elapsed: start.elapsed(),
        check: sum,
    }
}
