//! `channel_ping_pong`: two tasks passing a token back and forth through two bounded(1)
//! channels, each runtime with its own channel.
//!
//! `ping_pong` measures the executor's wake path alone; this one adds the channel: a round
//! trip is two sends and two receives, each receive parking its task until the other side
//! sends. The channels are each family's own bounded channel of capacity 1:
//!
//! - corio: `corio::sync::channel::bounded(1)`;
//! - tokio: `tokio::sync::mpsc::channel(1)`;
//! - smol: `async_channel::bounded(1)` (smol re-exports async-channel as `smol::channel`).

use std::time::Instant;

use super::Measured;
use crate::runtime::{Family, Spawner};

/// One per round trip.
pub(super) fn expected(n: u64) -> u64 {
    n
}

/// The corio and smol versions, written once: their channels have the same shape
/// (`send().await` and `recv().await` returning `Result`) but no common trait.
macro_rules! ping_pong {
    ($spawner:expr, $n:expr, $bounded:path) => {{
        let (to_pong, from_ping) = $bounded(1);
        let (to_ping, from_pong) = $bounded(1);
        let pong = $spawner.spawn(async move {
            while let Ok(v) = from_ping.recv().await {
                if to_ping.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        let ping = $spawner.spawn(async move {
            let mut token = 0;
            for _ in 0..$n {
                to_pong.send(token).await.expect("pong is alive");
                token = from_pong.recv().await.expect("pong answers");
            }
            token
        });
        let trips = ping.await;
        pong.await;
        trips
    }};
}

pub(super) async fn run(spawner: &Spawner, n: u64) -> Measured {
    let start = Instant::now();
    let trips = match spawner.family() {
        Family::Corio => ping_pong!(spawner, n, corio::sync::channel::bounded::<u64>),
        Family::Tokio => {
            use tokio::sync::mpsc::channel;
            let (to_pong, mut from_ping) = channel::<u64>(1);
            let (to_ping, mut from_pong) = channel::<u64>(1);
            let pong = spawner.spawn(async move {
                while let Some(v) = from_ping.recv().await {
                    if to_ping.send(v + 1).await.is_err() {
                        break;
                    }
                }
            });
            let ping = spawner.spawn(async move {
                let mut token = 0;
                for _ in 0..n {
                    to_pong.send(token).await.expect("pong is alive");
                    token = from_pong.recv().await.expect("pong answers");
                }
                token
            });
            let trips = ping.await;
            pong.await;
            trips
        }
        Family::Smol => ping_pong!(spawner, n, async_channel::bounded::<u64>),
    };
    Measured {
        elapsed: start.elapsed(),
        check: trips,
    }
}
