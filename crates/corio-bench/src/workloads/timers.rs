//! `timers`: timer churn, timeouts armed and cancelled long before they fire, as a server
//! does for every request that completes within its deadline.
//!
//! One task loops `n` times: it creates a 60-second timeout around a future that is never
//! ready, polls it once with a no-op waker, so that the runtime really registers the timer
//! (in its wheel, or async-io's timer map), and drops it, which cancels the timer. The
//! timeouts are each runtime's own:
//!
//! - corio: `corio::timeout(60 s, pending())`; its clock starts at the first poll
//!   (asyncio's `wait_for`), which is where it registers;
//! - tokio: `tokio::time::timeout(60 s, pending())`, run under
//!   `tokio::task::unconstrained`: without it, tokio's cooperative budget (128 per task
//!   poll) would make every poll after the 128th return `Pending` without registering
//!   anything, and the loop would measure nothing;
//! - smol has no `timeout` future: `futures_lite::future::or(pending(),
//!   async_io::Timer::after(60 s))`, the race that smol programs write instead.
//!
//! The check counts the polls that returned `Pending`, as a live timeout must.

use std::future::{pending, Future};
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use super::Measured;
use crate::runtime::{Family, Spawner};

/// Far beyond any run: no timer fires.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Every timeout was pending when dropped.
pub(super) fn expected(n: u64) -> u64 {
    n
}

pub(super) async fn run(spawner: &Spawner, n: u64) -> Measured {
    let start = Instant::now();
    let check = match spawner.family() {
        Family::Corio => {
            spawner
                .spawn(async move { churn(n, || corio::timeout(TIMEOUT, pending::<()>())) })
                .await
        }
        Family::Tokio => {
            spawner
                .spawn(tokio::task::unconstrained(async move {
                    churn(n, || tokio::time::timeout(TIMEOUT, pending::<()>()))
                }))
                .await
        }
        Family::Smol => {
            spawner
                .spawn(async move {
                    churn(n, || {
                        futures_lite::future::or(
                            pending::<Instant>(),
                            async_io::Timer::after(TIMEOUT),
                        )
                    })
                })
                .await
        }
    };
    Measured {
        elapsed: start.elapsed(),
        check,
    }
}

/// `n` times: `make()` a timeout, poll it once, drop it. Returns how many were pending.
fn churn<M, F>(n: u64, make: M) -> u64
where
    M: Fn() -> F,
    F: Future,
{
    let mut cx = Context::from_waker(Waker::noop());
    let mut pending = 0;
    for _ in 0..n {
        let timeout = pin!(make());
        pending += u64::from(timeout.poll(&mut cx).is_pending());
    }
    pending
}
