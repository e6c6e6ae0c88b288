//! The OS poller behind the reactor.
//!
//! On Linux the reactor talks to epoll itself ([`epoll`]): it needs
//! `EPOLLRDHUP` (the peer's end of stream, reported apart from plain
//! readability), which is what lets a stream read that comes back short count
//! as having drained the socket; and a blocking wait there is one
//! `epoll_wait`, with an edge-triggered eventfd that never needs re-arming.
//! Elsewhere (macOS, the BSDs, illumos) it goes through the `polling` crate
//! ([`portable`]), which reports no end of stream, so short reads are never
//! taken as drained there. Building with `--cfg corio_polling` selects the
//! portable backend on Linux too, so that its path is tested.
//!
//! Both backends offer the same small interface: a [`Poller`] that registers
//! fds in both directions, edge-triggered, under a `usize` key; re-arms them
//! (which reports a direction that is ready now as a new event); deletes them;
//! waits for [`Events`]; and can be notified from any thread.

#[cfg(all(target_os = "linux", not(corio_polling)))]
mod epoll;
#[cfg(all(target_os = "linux", not(corio_polling)))]
pub(crate) use epoll::{Events, Poller, REPORTS_READ_CLOSED};

#[cfg(target_os = "linux")]
pub(crate) mod inq;
#[cfg(any(not(target_os = "linux"), corio_polling))]
mod portable;
#[cfg(any(not(target_os = "linux"), corio_polling))]
pub(crate) use portable::{Events, Poller, REPORTS_READ_CLOSED};

/// One event for one registered fd, as the reactor consumes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Readiness {
    /// The key the fd was registered under.
    pub(crate) key: usize,
    /// The fd became readable (data, a connection to accept, an error or a
    /// hang-up).
    pub(crate) readable: bool,
    /// The fd became writable (space in the buffer, an error or a hang-up).
    pub(crate) writable: bool,
    /// The peer will send nothing more: every read from now on returns what
    /// is left and then end of stream (or an error). Comes with `readable`.
    /// Only reported where [`REPORTS_READ_CLOSED`] is true.
    pub(crate) read_closed: bool,
}
