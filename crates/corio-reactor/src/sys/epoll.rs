//! The Linux backend: epoll, with `EPOLLRDHUP` and an eventfd for
//! notifications.
//!
//! Every source is registered once for `IN | OUT | RDHUP | ET`; re-arming is
//! an `EPOLL_CTL_MOD` with the same flags, which queues the source again if
//! any direction is ready. The eventfd is registered edge-triggered too: each
//! write to it is a new edge, so a notification costs one `write` and the
//! wait never reads it back (only a counter near overflow is reset).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};

use super::Readiness;

/// Short reads of streams are taken as drained: the end of stream is reported.
pub(crate) const REPORTS_READ_CLOSED: bool = true;

/// The key of the eventfd; the reactor's slab never hands it out.
const NOTIFY_KEY: u64 = u64::MAX;

/// The longest single wait; a longer timeout just waits again. Keeps the
/// timeout in `epoll_pwait`'s `int` of milliseconds (no `epoll_pwait2`, which
/// kernels before 5.11 lack).
const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// What a registered source is interested in: both directions and the end of
/// stream, edge-triggered.
fn interest() -> EventFlags {
    EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::ET
}

/// An epoll instance and its eventfd.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: OwnedFd,
    notifier: OwnedFd,
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let notifier = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(
            &epoll,
            &notifier,
            EventData::new_u64(NOTIFY_KEY),
            EventFlags::IN | EventFlags::ET,
        )?;
        Ok(Poller { epoll, notifier })
    }

    /// Registers `fd` under `key`. The fd must be deleted before it is
    /// closed, or epoll may keep reporting it under `key`.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        Ok(epoll::add(&self.epoll, fd, data(key), interest())?)
    }

    /// Re-arms `fd`: every direction that is ready now is reported again.
    pub(crate) fn rearm(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        Ok(epoll::modify(&self.epoll, fd, data(key), interest())?)
    }

    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        Ok(epoll::delete(&self.epoll, fd)?)
    }

    /// Waits until an event, a notification or `timeout` (`None`: no limit).
    /// Sub-millisecond timeouts are rounded up, never down, so a wait for a
    /// timer deadline does not wake just before it.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let timeout = timeout.map(|t| {
            let t = t.min(MAX_WAIT);
            Timespec {
                tv_sec: t.as_secs() as _,
                tv_nsec: t.subsec_nanos() as _,
            }
        });
        events.list.clear();
        epoll::wait(
            &self.epoll,
            spare_capacity(&mut events.list),
            timeout.as_ref(),
        )?;
        Ok(())
    }

    /// Wakes the current or next [`wait`](Poller::wait).
    pub(crate) fn notify(&self) -> io::Result<()> {
        let one = 1u64.to_ne_bytes();
        match rustix::io::write(&self.notifier, &one) {
            Ok(_) => Ok(()),
            // The counter is at its maximum (after 2^64 - 2 notifications):
            // reset it and notify again.
            Err(rustix::io::Errno::AGAIN) => {
                let mut buf = [0; 8];
                let _ = rustix::io::read(&self.notifier, &mut buf);
                rustix::io::write(&self.notifier, &one)?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl AsFd for Poller {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

fn data(key: usize) -> EventData {
    EventData::new_u64(key as u64)
}

/// The events of one wait.
pub(crate) struct Events {
    list: Vec<epoll::Event>,
}

// SAFETY: an `epoll::Event` is plain data (flags and a 64-bit payload); it is
// not `Send` only because the payload may also be read as a raw pointer, and
// the only payloads here are the keys this module writes as integers.
unsafe impl Send for Events {}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("len", &self.list.len())
            .finish()
    }
}

impl Events {
    pub(crate) fn new() -> Events {
        Events {
            list: Vec::with_capacity(1024),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.list.clear();
    }

    /// The sources' events (the eventfd's are left out: they only end a wait).
    pub(crate) fn iter(&self) -> impl Iterator<Item = Readiness> + '_ {
        self.list.iter().filter_map(|ev| {
            let (flags, key) = (ev.flags, ev.data.u64());
            if key == NOTIFY_KEY {
                return None;
            }
            let closed = flags.intersects(EventFlags::HUP | EventFlags::RDHUP);
            let failed = flags.contains(EventFlags::ERR);
            Some(Readiness {
                key: key as usize,
                readable: closed || failed || flags.intersects(EventFlags::IN | EventFlags::PRI),
                writable: failed || flags.intersects(EventFlags::OUT | EventFlags::HUP),
                read_closed: closed,
            })
        })
    }
}
