//! The portable backend: the `polling` crate (kqueue, event ports, and epoll
//! when built with `--cfg corio_polling`).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use polling::{Event, PollMode};

use super::Readiness;

/// `polling` reports no end of stream apart from readability, so a short
/// stream read is never taken as drained.
pub(crate) const REPORTS_READ_CLOSED: bool = false;

/// A `polling::Poller`, registering every fd in both directions, edge-triggered.
#[derive(Debug)]
pub(crate) struct Poller(polling::Poller);

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        polling::Poller::new().map(Poller)
    }

    /// Registers `fd` under `key`. The fd must be deleted before it is
    /// closed (`polling`'s rule).
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        // SAFETY: `polling` requires the fd to stay open until it is deleted;
        // the reactor deletes every source's fd before its `Async` closes it
        // (invariant 1 in reactor.rs).
        unsafe {
            self.0
                .add_with_mode(fd.as_raw_fd(), Event::all(key), PollMode::Edge)
        }
    }

    /// Re-arms `fd`: every direction that is ready now is reported again.
    pub(crate) fn rearm(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        self.0.modify_with_mode(fd, Event::all(key), PollMode::Edge)
    }

    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.0.delete(fd)
    }

    /// Waits until an event, a notification or `timeout` (`None`: no limit).
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        self.0.wait(&mut events.0, timeout).map(drop)
    }

    /// Wakes the current or next [`wait`](Poller::wait).
    pub(crate) fn notify(&self) -> io::Result<()> {
        self.0.notify()
    }
}

/// The events of one wait.
#[derive(Debug)]
pub(crate) struct Events(polling::Events);

impl Events {
    pub(crate) fn new() -> Events {
        Events(polling::Events::new())
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Readiness> + '_ {
        self.0.iter().map(|ev| Readiness {
            key: ev.key,
            readable: ev.readable,
            writable: ev.writable,
            read_closed: false,
        })
    }
}
